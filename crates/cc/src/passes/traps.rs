//! `llvm.ubsantrap(K)` (clang's UB checks in trap mode), `llvm.trap` and
//! `llvm.debugtrap` -> `__bpf_ub_trap(K)`, a runtime helper that never
//! returns and stops the run with a fault naming the check at the caller's
//! line.

use super::{calls, Cx};
use crate::abi::{call_ub_trap, TRAP_BUILTIN};

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
    for name in ["llvm.ubsantrap", "llvm.trap", "llvm.debugtrap"] {
        if let Some(f) = ir.function(name) {
            if !ir.has_uses(f) {
                unsafe { llvm_sys::core::LLVMDeleteFunction(f) };
            }
        }
    }
}
