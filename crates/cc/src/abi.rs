//! Names and numbers of docs/abi.md that the compiler side emits: runtime
//! helpers the lowered code calls, trap numbers, the ABI marker.

use crate::ir::{Ir, T, V};

/// Version stored in the `.bpf_repl.abi` section of full-mode objects.
pub const ABI_VERSION: u32 = 1;
/// The section that marks an object as built for bpf-repl's full ABI.
pub const ABI_SECTION: &str = ".bpf_repl.abi";

/// `__bpf_ub_trap(K)`: stops the run with "undefined behaviour: ...".
pub(crate) const UB_TRAP: &str = "__bpf_ub_trap";
/// `K` for `__builtin_trap()` / `llvm.trap` reached.
pub const TRAP_BUILTIN: u64 = 256;
/// `K` for `va_arg` past the last argument.
pub const TRAP_VA_ARG: u64 = 257;
/// `K` for a value-returning function that reached its end.
pub const TRAP_MISSING_RETURN: u64 = 258;
/// `K` for code the optimizer proved unreachable (reached only through
/// earlier undefined behaviour).
pub const TRAP_UNREACHABLE: u64 = 259;

/// Registers a call may use for arguments (r1..r5).
pub const ARG_REGS: u32 = 5;

/// Calls `__bpf_ub_trap(k)` before `at` (declared `noreturn`).
pub(crate) fn call_ub_trap(ir: &Ir, at: V, k: u64) -> V {
    ir.before(at);
    let fnty = ir.fn_type(ir.void(), &[ir.i64()], false);
    let fresh = ir.function(UB_TRAP).is_none();
    let f = ir.declare(UB_TRAP, fnty);
    if fresh {
        for a in ["noreturn", "nounwind", "cold"] {
            ir.add_fn_attr(f, llvm_sys::LLVMAttributeFunctionIndex, ir.enum_attr(a));
        }
    }
    let call = ir.call(fnty, f, &[ir.i64c(k)]);
    ir.copy_loc(at, call);
    call
}

/// A runtime helper's IR type: `i64 (i64 x n)`.
pub(crate) fn words(ir: &Ir, n: usize) -> T {
    ir.fn_type(ir.i64(), &vec![ir.i64(); n], false)
}
