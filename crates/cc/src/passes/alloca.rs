//! Variable-length arrays and `alloca` -> the alloca region (docs/abi.md,
//! "Variable-length arrays and alloca").
//!
//! A dynamic `alloca` (non-constant size, or outside the entry block)
//! becomes `__bpf_alloca(size, align)`; `llvm.stacksave`/`stackrestore`
//! become `__bpf_stacksave()`/`__bpf_stackrestore(mark)`. Static stack
//! slots that would not fit in the fixed-size BPF frame move to the alloca
//! region too, largest first, so a function may have large local arrays. A
//! function that allocates there saves a mark on entry and restores it
//! before every return.

use super::{calls, definitions, Cx};
use crate::ir::{Ir, V};
use llvm_sys::LLVMOpcode;

/// Bytes of each frame kept free for the backend's spill slots.
const SPILL_RESERVE: u64 = 128;

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for f in definitions(ir) {
        let entry = ir.entry(f);
        let mut fixed = Vec::new();
        let mut dynamic = Vec::new();
        for b in ir.blocks(f) {
            for i in ir.insts(b) {
                if !ir.is_alloca(i) {
                    continue;
                }
                match ir.const_int_value(ir.operand(i, 0)) {
                    Some(n) if b == entry => {
                        fixed.push((i, n.saturating_mul(ir.size_of(ir.allocated_type(i)))))
                    }
                    _ if cx.strict => cx.refuse(i, "a variable-length array or alloca()"),
                    _ => dynamic.push(i),
                }
            }
        }
        if cx.strict {
            continue;
        }
        // Static slots beyond the frame budget move, largest first.
        let budget = cx.frame_size.saturating_sub(SPILL_RESERVE);
        let mut total: u64 = fixed.iter().map(|(_, s)| s.next_multiple_of(8)).sum();
        fixed.sort_by_key(|(_, s)| std::cmp::Reverse(*s));
        let mut moved = Vec::new();
        for (slot, size) in fixed {
            if total <= budget {
                break;
            }
            total -= size.next_multiple_of(8);
            moved.push(slot);
        }
        if moved.is_empty() && dynamic.is_empty() {
            continue;
        }
        let start = first_non_alloca(ir, f);
        ir.before(start);
        let mark = ir.call_named("__bpf_stacksave", ir.fn_type(ir.ptr(), &[], false), &[]);
        let mut markers = Vec::new();
        for slot in moved {
            markers.extend(move_to_region(ir, slot, start));
        }
        for slot in dynamic {
            markers.extend(move_to_region(ir, slot, slot));
        }
        // Lifetime markers only make sense on stack slots (erased last:
        // `start` may be one).
        for m in markers {
            ir.erase(m);
        }
        let restore = ir.fn_type(ir.void(), &[ir.ptr()], false);
        for b in ir.blocks(f) {
            let t = ir.terminator(b);
            if !t.is_null() && ir.opcode(t) == Some(LLVMOpcode::LLVMRet) {
                ir.before(t);
                ir.call_named("__bpf_stackrestore", restore, &[mark]);
            }
        }
    }
    for (call, base) in calls(ir) {
        let (name, fnty) = match base.as_deref() {
            Some("llvm.stacksave") => ("__bpf_stacksave", ir.fn_type(ir.ptr(), &[], false)),
            Some("llvm.stackrestore") => (
                "__bpf_stackrestore",
                ir.fn_type(ir.void(), &[ir.ptr()], false),
            ),
            _ => continue,
        };
        if cx.strict {
            cx.refuse(call, "a variable-length array");
            continue;
        }
        ir.before(call);
        let r = ir.call_named(name, fnty, &ir.args(call));
        ir.copy_loc(call, r);
        ir.replace_uses(call, r);
        ir.erase(call);
    }
}

fn first_non_alloca(ir: &Ir, f: V) -> V {
    ir.insts(ir.entry(f))
        .into_iter()
        .find(|i| !ir.is_alloca(*i))
        .expect("a block ends with a terminator")
}

/// Replaces `alloca` by `__bpf_alloca(size, align)` placed before `at`;
/// returns the lifetime markers of the slot, for the caller to erase.
fn move_to_region(ir: &Ir, alloca: V, at: V) -> Vec<V> {
    ir.before(at);
    ir.loc_from(alloca);
    let count = ir.to_i64(ir.operand(alloca, 0), false);
    let elem = ir.size_of(ir.allocated_type(alloca));
    let size = ir.binop(LLVMOpcode::LLVMMul, count, ir.i64c(elem));
    let align = ir.alignment(alloca).max(1);
    let fnty = ir.fn_type(ir.ptr(), &[ir.i64(), ir.i64()], false);
    let p = ir.call_named("__bpf_alloca", fnty, &[size, ir.i64c(align)]);
    let markers: Vec<V> = ir
        .users(alloca)
        .into_iter()
        .filter(|u| ir.is_call(*u) && ir.callee_name(*u).starts_with("llvm.lifetime."))
        .collect();
    ir.replace_uses(alloca, p);
    ir.erase(alloca);
    markers
}
