//! 128-bit multiply, divide and remainder -> `__bpf_i128_*` runtime helpers
//! (docs/abi.md, "128-bit integers"), and 64-bit multiplication with
//! overflow (`__builtin_mul_overflow`, the signed-overflow check on `long`),
//! which the backend would expand into a 128-bit multiply.

use super::float::halves;
use super::{definitions, Cx};
use crate::ir::{intrinsic_base, Ir, V};
use llvm_sys::{LLVMIntPredicate, LLVMOpcode};

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for f in definitions(ir) {
        for i in ir.all_insts(f) {
            lower_inst(cx, i);
        }
    }
}

fn lower_inst(cx: &mut Cx, i: V) {
    use LLVMOpcode::*;
    let ir = cx.ir;
    let Some(op) = ir.opcode(i) else { return };
    let ty = ir.type_of(i);
    let name = match op {
        LLVMMul => "mul",
        LLVMUDiv => "udiv",
        LLVMSDiv => "sdiv",
        LLVMURem => "urem",
        LLVMSRem => "srem",
        LLVMCall => {
            let callee = ir.callee_name(i);
            if let Some(b @ ("llvm.smul.with.overflow" | "llvm.umul.with.overflow")) =
                intrinsic_base(&callee)
            {
                mul_overflow(cx, i, b == "llvm.smul.with.overflow");
            }
            return;
        }
        _ => return,
    };
    let width = match ir.int_width(ty) {
        Some(w) if w <= 64 => return,
        Some(w) if w <= 128 => w,
        Some(w) => {
            cx.problem(
                i,
                format!("{w}-bit integer arithmetic is not supported (at most 128 bits)"),
            );
            return;
        }
        None => return,
    };
    if cx.strict {
        let what = if name == "mul" {
            "128-bit multiplication"
        } else {
            "128-bit division or remainder"
        };
        cx.refuse(i, what);
        return;
    }
    let out = cx.slot(ir.function_of(i), "i128", 16, 8);
    // Widths between 64 and 128 bits (`_BitInt(65)`, the optimizer's i65)
    // are computed in 128 bits.
    ir.before(i);
    let widen = |v: V| match width {
        128 => v,
        _ if name.starts_with('s') => ir.cast(LLVMSExt, v, ir.int(128)),
        _ => ir.cast(LLVMZExt, v, ir.int(128)),
    };
    let (a, b) = (widen(ir.operand(i, 0)), widen(ir.operand(i, 1)));
    let mut r = wide_op(ir, i, out, name, a, b);
    if width < 128 {
        r = ir.cast(LLVMTrunc, r, ty);
    }
    ir.replace_uses(i, r);
    ir.erase(i);
}

/// `__bpf_i128_<name>(out, a_lo, a_hi, b_lo, b_hi)` before `at`; the i128 result.
fn wide_op(ir: &Ir, at: V, out: V, name: &str, a: V, b: V) -> V {
    ir.before(at);
    let (alo, ahi) = halves(ir, a);
    let (blo, bhi) = halves(ir, b);
    let fnty = ir.fn_type(
        ir.void(),
        &[ir.ptr(), ir.i64(), ir.i64(), ir.i64(), ir.i64()],
        false,
    );
    ir.call_named(
        &format!("__bpf_i128_{name}"),
        fnty,
        &[out, alo, ahi, blo, bhi],
    );
    ir.load(ir.int(128), out, 8)
}

/// `{iN, i1} llvm.[su]mul.with.overflow(a, b)` for N = 64 through the
/// 128-bit product (narrower widths the backend handles itself).
fn mul_overflow(cx: &mut Cx, i: V, signed: bool) {
    use LLVMOpcode::*;
    let ir = cx.ir;
    let args = ir.args(i);
    let w = ir.int_width(ir.type_of(args[0]));
    match w {
        Some(w) if w < 64 => return,
        Some(64) => {}
        _ => {
            cx.problem(
                i,
                "overflow-checked multiplication wider than 64 bits is not supported".into(),
            );
            return;
        }
    }
    if cx.strict {
        cx.refuse(i, "overflow-checked 64-bit multiplication");
        return;
    }
    let out = cx.slot(ir.function_of(i), "i128", 16, 8);
    ir.before(i);
    let ext = if signed { LLVMSExt } else { LLVMZExt };
    let a = ir.cast(ext, args[0], ir.int(128));
    let b = ir.cast(ext, args[1], ir.int(128));
    let p = wide_op(ir, i, out, "mul", a, b);
    let (lo, hi) = halves(ir, p);
    let overflow = if signed {
        let sign = ir.binop(LLVMAShr, lo, ir.i64c(63));
        ir.icmp(LLVMIntPredicate::LLVMIntNE, hi, sign)
    } else {
        ir.icmp(LLVMIntPredicate::LLVMIntNE, hi, ir.i64c(0))
    };
    let ty = ir.type_of(i);
    let agg = ir.insert(ir.poison(ty), lo, 0);
    let agg = ir.insert(agg, overflow, 1);
    ir.replace_uses(i, agg);
    ir.erase(i);
}
