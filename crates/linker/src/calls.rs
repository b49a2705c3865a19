//! Helper namespaces at link time.
//!
//! A `call` with `src = 0` and no relocation calls a *kernel* helper by its
//! id in the kernel's `enum bpf_func_id`; the C runtime's helpers are only
//! reached by name, through a relocation the linker turns into a
//! runtime-helper call (`src = 2`). So an object can never reach `printf` by
//! a number: an unrelocated `src = 2` call in an input is refused, and every
//! kernel helper an object calls must be available in the session, or the
//! link fails naming it (`bpf_get_prandom_u32#7`).

use crate::bpf::EdgeKind;
use crate::error::LinkError;
use crate::graph::{LinkGraph, SectionKind};
use crate::link::function_containing;
use bpf_vm::isa::{self, CALL_HELPER, CALL_RUNTIME, INSN_SIZE, OP_CALL};
use bpf_vm::kernel_helpers::{describe_kernel_helper, kernel_helper_name};
use bpf_vm::Vm;

/// The calls of a code section's bytes: (byte offset, `src`, `imm`).
fn calls(bytes: &[u8]) -> impl Iterator<Item = (u64, u8, i32)> + '_ {
    let code = isa::decode(bytes).unwrap_or_default();
    let mut skip = false;
    let mut out = Vec::new();
    for (i, insn) in code.iter().enumerate() {
        if std::mem::take(&mut skip) {
            continue;
        }
        skip = insn.is_ld_imm64();
        if insn.op == OP_CALL {
            out.push(((i * INSN_SIZE) as u64, insn.src, insn.imm));
        }
    }
    out.into_iter()
}

/// Where an instruction is, for messages: `.text+0x28 in function `f``.
pub(crate) fn place(g: &LinkGraph, si: usize, offset: u64) -> String {
    let mut s = format!("{}+{offset:#x}", g.sections[si].name);
    if let Some(f) = function_containing(g, si, offset) {
        s.push_str(&format!(" in function `{f}`"));
    }
    s
}

/// Before fixups: an input may not call a runtime helper by index (the
/// kernel's kfunc-call encoding) without a relocation naming the callee.
pub(crate) fn check_input_calls(g: &LinkGraph) -> Result<(), LinkError> {
    for (si, s) in g.sections.iter().enumerate() {
        if s.kind != SectionKind::Code {
            continue;
        }
        for (offset, src, imm) in calls(&s.bytes) {
            let relocated = s
                .edges
                .iter()
                .any(|e| e.offset == offset && e.kind == EdgeKind::Call32);
            if src == CALL_RUNTIME && !relocated {
                return Err(LinkError::Unsupported {
                    object: g.name.clone(),
                    place: place(g, si, offset),
                    feature: format!(
                        "kfunc call (src=2) of id {imm} without a relocation naming the function"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// After fixups: every kernel helper called by id must be registered in the VM.
pub(crate) fn check_kernel_helpers(g: &LinkGraph, vm: &Vm) -> Result<(), LinkError> {
    for (si, s) in g.sections.iter().enumerate() {
        if s.kind != SectionKind::Code {
            continue;
        }
        for (offset, src, imm) in calls(&s.bytes) {
            if src != CALL_HELPER || vm.helper_name(imm as u32).is_some() && imm >= 0 {
                continue;
            }
            let feature = if kernel_helper_name(imm).is_some() {
                format!(
                    "kernel helper {} is not implemented",
                    describe_kernel_helper(imm)
                )
            } else {
                format!("call of kernel helper #{imm}, which the kernel does not define")
            };
            return Err(LinkError::Unsupported {
                object: g.name.clone(),
                place: place(g, si, offset),
                feature,
            });
        }
    }
    Ok(())
}
