//! `llvm.memcpy`/`memmove`/`memset` the backend would not expand inline
//! (unknown or large length) -> `__bpf_memcpy`/`__bpf_memmove`/
//! `__bpf_memset`, and `bcmp` (the optimizer's `memcmp(...) == 0`) ->
//! `memcmp` (docs/abi.md, "Memory").

use super::{calls, Cx};
use crate::ir::{Ir, V};
use llvm_sys::LLVMOpcode;

/// Stores the backend may emit for one inline copy before a helper call
/// is cheaper (a helper call costs about as much as 16 load/store pairs
/// in the interpreter; the backend's own limit is 128).
const MAX_INLINE_STORES: u64 = 16;

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for (call, base) in calls(ir) {
        let helper = match base.as_deref() {
            Some("llvm.memcpy") => "__bpf_memcpy",
            Some("llvm.memmove") => "__bpf_memmove",
            Some("llvm.memset") => "__bpf_memset",
            _ => continue,
        };
        let args = ir.args(call);
        let len = args[2];
        if let Some(n) = ir.const_int_value(len) {
            let align = param_align(ir, call, 0).min(if helper == "__bpf_memset" {
                u64::MAX
            } else {
                param_align(ir, call, 1)
            });
            if n.div_ceil(align.clamp(1, 8)) <= MAX_INLINE_STORES {
                continue;
            }
        }
        if cx.strict {
            let what = match ir.const_int_value(len) {
                Some(n) => {
                    format!("a {n}-byte block copy or fill (a large struct copy, memcpy or memset)")
                }
                None => "a block copy or fill of variable length (memcpy, memmove or memset)"
                    .to_string(),
            };
            cx.refuse(call, &what);
            continue;
        }
        ir.before(call);
        let fnty = ir.fn_type(
            ir.ptr(),
            &[ir.ptr(), ir.ptr_or_i64(helper), ir.i64()],
            false,
        );
        let second = if helper == "__bpf_memset" {
            ir.cast(LLVMOpcode::LLVMZExt, args[1], ir.i64())
        } else {
            args[1]
        };
        let n = ir.to_i64(len, false);
        let r = ir.call_named(helper, fnty, &[args[0], second, n]);
        ir.copy_loc(call, r);
        ir.erase(call);
    }
    if let Some(bcmp) = ir.function("bcmp") {
        match ir.function("memcmp") {
            Some(memcmp) => {
                ir.replace_uses(bcmp, memcmp);
                unsafe { llvm_sys::core::LLVMDeleteFunction(bcmp) };
            }
            None => ir.set_name(bcmp, "memcmp"),
        }
    }
}

/// The `align` attribute of argument `k` of a call (1 when absent).
fn param_align(ir: &Ir, call: V, k: u32) -> u64 {
    let kind = ir.attr_kind("align");
    ir.call_attrs(call, k + 1)
        .into_iter()
        .find(|a| ir.is_attr_kind(*a, kind))
        .map(|a| unsafe { llvm_sys::core::LLVMGetEnumAttributeValue(a) })
        .unwrap_or(1)
}

impl Ir {
    /// The second parameter type of a memory helper: `i64` for memset's byte.
    fn ptr_or_i64(&self, helper: &str) -> crate::ir::T {
        if helper == "__bpf_memset" {
            self.i64()
        } else {
            self.ptr()
        }
    }
}
