//! Atomic operations the BPF instruction set lacks. BPF has atomic add,
//! and, or, xor, exchange and compare-exchange on 32 and 64 bits, and no
//! fences or atomic loads and stores. The VM runs one thread, so the rest
//! become their plain sequential equivalents: fences vanish, atomic loads
//! and stores become ordinary ones, other read-modify-writes (`nand`,
//! `min`/`max`, floating point, 8- and 16-bit operands) a load, the
//! operation and a store. (The backend would stop with "Cannot select".)

use super::{definitions, Cx};
use crate::ir::{Ir, V};
use llvm_sys::core::*;
use llvm_sys::{LLVMAtomicOrdering, LLVMAtomicRMWBinOp, LLVMIntPredicate, LLVMOpcode};

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for f in definitions(ir) {
        for i in ir.all_insts(f) {
            match ir.opcode(i) {
                Some(LLVMOpcode::LLVMFence) if !cx.strict => ir.erase(i),
                Some(LLVMOpcode::LLVMLoad | LLVMOpcode::LLVMStore) => unsafe {
                    if LLVMGetOrdering(i) != LLVMAtomicOrdering::LLVMAtomicOrderingNotAtomic {
                        if cx.strict {
                            cx.refuse(i, "an atomic load or store (__atomic_load/__atomic_store)");
                        } else {
                            LLVMSetOrdering(i, LLVMAtomicOrdering::LLVMAtomicOrderingNotAtomic);
                        }
                    }
                },
                Some(LLVMOpcode::LLVMAtomicRMW) => rmw(cx, i),
                Some(LLVMOpcode::LLVMAtomicCmpXchg) => cmpxchg(cx, i),
                _ => {}
            }
        }
    }
}

/// 32- and 64-bit integers: what BPF's atomic instructions take.
fn native_width(ir: &Ir, v: V) -> bool {
    matches!(ir.int_width(ir.type_of(v)), Some(32 | 64))
}

fn rmw(cx: &mut Cx, i: V) {
    use LLVMAtomicRMWBinOp::*;
    let ir = cx.ir;
    let op = unsafe { LLVMGetAtomicRMWBinOp(i) };
    let native = matches!(
        op,
        LLVMAtomicRMWBinOpXchg
            | LLVMAtomicRMWBinOpAdd
            | LLVMAtomicRMWBinOpSub
            | LLVMAtomicRMWBinOpAnd
            | LLVMAtomicRMWBinOpOr
            | LLVMAtomicRMWBinOpXor
    );
    if native && native_width(ir, i) {
        return;
    }
    if cx.strict {
        cx.refuse(i, "an atomic operation BPF has no instruction for");
        return;
    }
    let (ptr, val) = (ir.operand(i, 0), ir.operand(i, 1));
    let t = ir.type_of(i);
    let align = ir.alignment(i);
    ir.before(i);
    let old = ir.load(t, ptr, align);
    let cmp = |p| ir.icmp(p, old, val);
    let new = match op {
        LLVMAtomicRMWBinOpXchg => val,
        LLVMAtomicRMWBinOpAdd => ir.binop(LLVMOpcode::LLVMAdd, old, val),
        LLVMAtomicRMWBinOpSub => ir.binop(LLVMOpcode::LLVMSub, old, val),
        LLVMAtomicRMWBinOpAnd => ir.binop(LLVMOpcode::LLVMAnd, old, val),
        LLVMAtomicRMWBinOpOr => ir.binop(LLVMOpcode::LLVMOr, old, val),
        LLVMAtomicRMWBinOpXor => ir.binop(LLVMOpcode::LLVMXor, old, val),
        LLVMAtomicRMWBinOpNand => {
            let and = ir.binop(LLVMOpcode::LLVMAnd, old, val);
            ir.binop(LLVMOpcode::LLVMXor, and, ir.const_int(t, u64::MAX))
        }
        LLVMAtomicRMWBinOpMax => ir.select(cmp(LLVMIntPredicate::LLVMIntSGT), old, val),
        LLVMAtomicRMWBinOpMin => ir.select(cmp(LLVMIntPredicate::LLVMIntSLT), old, val),
        LLVMAtomicRMWBinOpUMax => ir.select(cmp(LLVMIntPredicate::LLVMIntUGT), old, val),
        LLVMAtomicRMWBinOpUMin => ir.select(cmp(LLVMIntPredicate::LLVMIntULT), old, val),
        LLVMAtomicRMWBinOpFAdd => ir.binop(LLVMOpcode::LLVMFAdd, old, val),
        LLVMAtomicRMWBinOpFSub => ir.binop(LLVMOpcode::LLVMFSub, old, val),
        LLVMAtomicRMWBinOpUIncWrap => {
            // old >= val ? 0 : old + 1
            let inc = ir.binop(LLVMOpcode::LLVMAdd, old, ir.const_int(t, 1));
            ir.select(cmp(LLVMIntPredicate::LLVMIntUGE), ir.const_int(t, 0), inc)
        }
        LLVMAtomicRMWBinOpUDecWrap => {
            // (old == 0 || old > val) ? val : old - 1
            let dec = ir.binop(LLVMOpcode::LLVMSub, old, ir.const_int(t, 1));
            let zero = ir.icmp(LLVMIntPredicate::LLVMIntEQ, old, ir.const_int(t, 0));
            let wrap = ir.binop(LLVMOpcode::LLVMOr, zero, cmp(LLVMIntPredicate::LLVMIntUGT));
            ir.select(wrap, val, dec)
        }
        _ => {
            cx.problem(i, "this atomic operation is not supported".into());
            return;
        }
    };
    ir.store(new, ptr, align);
    ir.replace_uses(i, old);
    ir.erase(i);
}

fn cmpxchg(cx: &mut Cx, i: V) {
    let ir = cx.ir;
    let (ptr, expected, desired) = (ir.operand(i, 0), ir.operand(i, 1), ir.operand(i, 2));
    if native_width(ir, expected) {
        return;
    }
    if cx.strict {
        cx.refuse(i, "an 8- or 16-bit atomic compare-and-swap");
        return;
    }
    let t = ir.type_of(expected);
    let align = ir.alignment(i);
    ir.before(i);
    let old = ir.load(t, ptr, align);
    let same = ir.icmp(LLVMIntPredicate::LLVMIntEQ, old, expected);
    ir.store(ir.select(same, desired, old), ptr, align);
    let pair = ir.insert(ir.poison(ir.type_of(i)), old, 0);
    let pair = ir.insert(pair, same, 1);
    ir.replace_uses(i, pair);
    ir.erase(i);
}
