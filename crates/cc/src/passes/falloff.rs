//! A value-returning function that reaches its closing brace (C11
//! 6.9.1p12): clang does not check it in C, so this early pass does, on
//! unoptimised IR, where the pattern is plain. clang gives such a function
//! a return slot (an `alloca`) that every `return e;` stores to and that
//! the return block loads. A path from the entry to that load on which the
//! slot is never stored is the path that falls off the end: it gets a call
//! `__bpf_ub_trap(258)` at the closing brace. `main` stores 0 into its slot
//! on entry (hosted C), so it never traps.

use super::{definitions, Cx};
use crate::abi::{call_ub_trap, TRAP_MISSING_RETURN};
use crate::ir::{B, V};
use llvm_sys::LLVMOpcode;
use std::collections::HashMap;

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for f in definitions(ir) {
        if ir.is_void(ir.return_type(ir.function_type(f))) {
            continue;
        }
        for b in ir.blocks(f) {
            let ret = ir.terminator(b);
            if ret.is_null() || ir.opcode(ret) != Some(LLVMOpcode::LLVMRet) {
                continue;
            }
            let value = ir.operand(ret, 0);
            if ir.opcode(value) != Some(LLVMOpcode::LLVMLoad) || ir.block_of(value) != b {
                continue;
            }
            let slot = ir.operand(value, 0);
            if !ir.is_alloca(slot) {
                continue;
            }
            check_slot(cx, f, b, value, slot, ret);
        }
    }
}

fn stores_to(cx: &Cx, i: V, slot: V) -> bool {
    cx.ir.opcode(i) == Some(LLVMOpcode::LLVMStore) && cx.ir.operand(i, 1) == slot
}

/// Traps on every edge into `ret_block` along which `slot` may be unstored.
fn check_slot(cx: &mut Cx, f: V, ret_block: B, load: V, slot: V, ret: V) {
    let ir = cx.ir;
    // A store in the return block itself, before the load, settles it.
    for i in ir.insts(ret_block) {
        if i == load {
            break;
        }
        if stores_to(cx, i, slot) {
            return;
        }
    }
    if ir.insts(ret_block).iter().any(|i| ir.is_phi(*i)) {
        return;
    }
    // Forward "definitely stored" analysis to a fixed point.
    let blocks = ir.blocks(f);
    let stores: HashMap<B, bool> = blocks
        .iter()
        .map(|b| (*b, ir.insts(*b).iter().any(|i| stores_to(cx, *i, slot))))
        .collect();
    let mut preds: HashMap<B, Vec<B>> = HashMap::new();
    for b in &blocks {
        let t = ir.terminator(*b);
        if t.is_null() {
            continue;
        }
        for s in ir.successors(t) {
            preds.entry(s).or_default().push(*b);
        }
    }
    let entry = ir.entry(f);
    let mut out: HashMap<B, bool> = blocks.iter().map(|b| (*b, true)).collect();
    loop {
        let mut changed = false;
        for b in &blocks {
            let inflow = *b != entry && preds.get(b).is_some_and(|ps| ps.iter().all(|p| out[p]));
            let o = inflow || stores[b];
            if out[b] != o {
                out.insert(*b, o);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let unstored: Vec<B> = preds
        .get(&ret_block)
        .map(|ps| ps.iter().copied().filter(|p| !out[p]).collect())
        .unwrap_or_default();
    if ret_block == entry || unstored.is_empty() {
        return;
    }
    if cx.strict {
        return;
    }
    for p in unstored {
        let term = ir.terminator(p);
        let trap_block = ir.new_block(f);
        ir.at_end(trap_block);
        let placeholder = ir.unreachable();
        ir.copy_loc(ret, placeholder);
        call_ub_trap(ir, placeholder, TRAP_MISSING_RETURN);
        for (k, s) in ir.successors(term).into_iter().enumerate() {
            if s == ret_block {
                ir.set_successor(term, k as u32, trap_block);
            }
        }
    }
}
