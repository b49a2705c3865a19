//! `va_start`, `va_copy`, `va_end` and the `va_arg` instruction on
//! bpf-repl's va states (docs/abi.md, "Variadic functions").
//!
//! A va state is 16 bytes `{cur, end}`; a `va_list` holds its address. The
//! caller's va block starts with such a pair, so `va_start` copies it into
//! a state in the callee's frame. `va_arg` reads the slots at `cur`,
//! advances `cur` by whole 8-byte slots, and stops the run with
//! `__bpf_ub_trap(257)` when that would pass `end`.

use super::{calls, definitions, Cx};
use crate::abi::{call_ub_trap, TRAP_VA_ARG};
use crate::ir::V;
use llvm_sys::{LLVMIntPredicate, LLVMOpcode};

/// Lowers every `va_start` in variadic definition `f`, whose va-block
/// pointer is `va`.
pub(crate) fn lower_va_start(cx: &mut Cx, f: V, va: V) {
    let ir = cx.ir;
    for i in ir.all_insts(f) {
        if !ir.is_call(i) || crate::ir::intrinsic_base(&ir.callee_name(i)) != Some("llvm.va_start")
        {
            continue;
        }
        let ap = ir.operand(i, 0);
        let state = ir.entry_alloca(f, 16, 8);
        ir.before(i);
        copy_pair(cx, va, state);
        ir.store(state, ap, 8);
        ir.erase(i);
    }
}

/// Copies `{cur, end}` from `from` to `to` at the builder's position.
fn copy_pair(cx: &Cx, from: V, to: V) {
    let ir = cx.ir;
    let cur = ir.load(ir.i64(), from, 8);
    let end = ir.load(ir.i64(), ir.offset(from, 8), 8);
    ir.store(cur, to, 8);
    ir.store(end, ir.offset(to, 8), 8);
}

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for (call, base) in calls(ir) {
        match base.as_deref() {
            Some("llvm.va_end") if !cx.strict => ir.erase(call),
            Some("llvm.va_copy") => {
                if cx.strict {
                    cx.refuse(call, "va_copy");
                    continue;
                }
                let (dst, src) = (ir.operand(call, 0), ir.operand(call, 1));
                let state = ir.entry_alloca(ir.function_of(call), 16, 8);
                ir.before(call);
                let from = ir.load(ir.ptr(), src, 8);
                copy_pair(cx, from, state);
                ir.store(state, dst, 8);
                ir.erase(call);
            }
            Some("llvm.va_start") if cx.strict => {
                cx.refuse(call, "va_start in a variadic function definition")
            }
            _ => {}
        }
    }
    for f in definitions(ir) {
        for i in ir.all_insts(f) {
            if ir.opcode(i) == Some(LLVMOpcode::LLVMVAArg) {
                if cx.strict {
                    cx.refuse(i, "va_arg");
                } else {
                    lower_va_arg(cx, i);
                }
            }
        }
    }
}

/// `%v = va_arg ptr %ap, T`.
fn lower_va_arg(cx: &mut Cx, i: V) {
    let ir = cx.ir;
    let t = ir.type_of(i);
    if ir.is_vector(t) {
        cx.problem(i, "va_arg of a vector type is not supported".into());
        return;
    }
    let size = ir.size_of(t).div_ceil(8).max(1) * 8;
    ir.before(i);
    let state = ir.load(ir.ptr(), ir.operand(i, 0), 8);
    let cur = ir.load(ir.i64(), state, 8);
    let end = ir.load(ir.i64(), ir.offset(state, 8), 8);
    let next = ir.binop(LLVMOpcode::LLVMAdd, cur, ir.i64c(size));
    let past = ir.icmp(LLVMIntPredicate::LLVMIntUGT, next, end);
    // Split: [.. check] -> trap | [read, advance, rest of the block].
    let tail = ir.split_after(past);
    let f = ir.function_of(i);
    let trap = ir.new_block(f);
    ir.at_end(trap);
    let stop = ir.unreachable();
    ir.copy_loc(i, stop);
    call_ub_trap(ir, stop, TRAP_VA_ARG);
    ir.at_end(ir.block_of(past));
    ir.loc_from(i);
    ir.cond_br(past, trap, tail);
    ir.before(i);
    let p = ir.cast(LLVMOpcode::LLVMIntToPtr, cur, ir.ptr());
    let v = ir.load(t, p, 8);
    ir.store(next, state, 8);
    ir.replace_uses(i, v);
    ir.erase(i);
}
