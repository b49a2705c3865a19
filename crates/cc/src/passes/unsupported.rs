//! Constructs BPF cannot express at all, in any mode: one message each at
//! the user's line instead of a backend crash.

use super::{definitions, Cx};
use llvm_sys::LLVMOpcode;

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for f in definitions(ir) {
        for i in ir.all_insts(f) {
            let operands = (0..ir.operand_count(i)).map(|k| ir.operand(i, k));
            if operands.into_iter().any(|v| ir.is_block_address(v)) {
                cx.problem(
                    i,
                    "label addresses (`&&label`) are not supported: BPF has no indirect jumps"
                        .into(),
                );
                continue;
            }
            match ir.opcode(i) {
                Some(LLVMOpcode::LLVMIndirectBr) => cx.problem(
                    i,
                    "computed goto (`goto *p`) is not supported: BPF has no indirect jumps".into(),
                ),
                Some(LLVMOpcode::LLVMCallBr) => {
                    cx.problem(i, "`asm goto` is not supported on BPF".into())
                }
                Some(LLVMOpcode::LLVMCall) => {
                    let name = ir.callee_name(i);
                    let what = match crate::ir::intrinsic_base(&name) {
                        Some("llvm.returnaddress") => "__builtin_return_address",
                        Some("llvm.frameaddress") => "__builtin_frame_address",
                        Some("llvm.addressofreturnaddress") => "the address of the return address",
                        _ => continue,
                    };
                    cx.problem(
                        i,
                        format!("{what} is not supported: BPF code has no return addresses or frame chain to inspect"),
                    );
                }
                _ => {}
            }
        }
    }
}
