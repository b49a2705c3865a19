//! `llvm.ubsantrap(K)` (clang's UB checks in trap mode), `llvm.trap` and
//! `llvm.debugtrap` -> `__bpf_ub_trap(K)`, a runtime helper that never
//! returns and stops the run with a fault naming the check at the caller's
//! line. And an `unreachable` the optimizer left (code it proved can only
//! be reached through undefined behaviour) gets `__bpf_ub_trap(259)`, so
//! reaching it is a fault instead of running into whatever code follows
//! (and a function is never empty).

use super::{calls, definitions, Cx};
use crate::abi::{call_ub_trap, TRAP_BUILTIN, TRAP_UNREACHABLE};
use crate::ir::V;
use llvm_sys::LLVMOpcode;

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for (call, base) in calls(ir) {
        let k = match base.as_deref() {
            Some("llvm.ubsantrap") => ir
                .const_int_value(ir.operand(call, 0))
                .unwrap_or(TRAP_BUILTIN),
            Some("llvm.trap" | "llvm.debugtrap") => TRAP_BUILTIN,
            _ => continue,
        };
        call_ub_trap(ir, call, k);
        ir.erase(call);
    }
    for f in definitions(ir) {
        for b in ir.blocks(f) {
            let term = ir.terminator(b);
            if term.is_null() || ir.opcode(term) != Some(LLVMOpcode::LLVMUnreachable) {
                continue;
            }
            let insts = ir.insts(b);
            let before = insts.len().checked_sub(2).map(|k| insts[k]);
            if before.is_some_and(|c| ir.is_call(c) && never_returns(cx, c)) {
                continue;
            }
            if let Some(placed) = insts.iter().rev().find(|i| ir.loc(**i).is_some()) {
                ir.copy_loc(*placed, term);
            }
            call_ub_trap(ir, term, TRAP_UNREACHABLE);
        }
    }
    for name in ["llvm.ubsantrap", "llvm.trap", "llvm.debugtrap"] {
        if let Some(f) = ir.function(name) {
            if !ir.has_uses(f) {
                unsafe { llvm_sys::core::LLVMDeleteFunction(f) };
            }
        }
    }
}

/// True if `call` is known not to return (`noreturn` on the call or callee).
fn never_returns(cx: &Cx, call: V) -> bool {
    let ir = cx.ir;
    let kind = ir.attr_kind("noreturn");
    let fn_index = llvm_sys::LLVMAttributeFunctionIndex;
    ir.has_enum_attr(&ir.call_attrs(call, fn_index), kind)
        || ir
            .direct_callee(call)
            .is_some_and(|f| ir.has_enum_attr(&ir.fn_attrs(f, fn_index), kind))
}
