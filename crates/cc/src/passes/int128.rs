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
        LLVMShl | LLVMLShr | LLVMAShr => {
            if ir.int_width(ty) == Some(128) && ir.const_int_value(ir.operand(i, 1)).is_none() {
                shift(cx, i, op);
            }
            return;
        }
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

/// A 128-bit shift by a variable amount, on 64-bit halves (the backend
/// would call compiler-rt's `__ashlti3` and friends). Amounts of 128 or
/// more are undefined in C (and poison in LLVM); they use the low 7 bits.
fn shift(cx: &mut Cx, i: V, op: LLVMOpcode) {
    use LLVMIntPredicate::*;
    use LLVMOpcode::*;
    let ir = cx.ir;
    if cx.strict {
        cx.refuse(i, "a 128-bit shift by a variable amount");
        return;
    }
    ir.before(i);
    let (lo, hi) = halves(ir, ir.operand(i, 0));
    let n = ir.cast(LLVMTrunc, ir.operand(i, 1), ir.i64());
    let n = ir.binop(LLVMAnd, n, ir.i64c(127));
    let s = ir.binop(LLVMAnd, n, ir.i64c(63));
    let big = ir.icmp(LLVMIntUGE, n, ir.i64c(64));
    let s_zero = ir.icmp(LLVMIntEQ, s, ir.i64c(0));
    let back = ir.binop(LLVMSub, ir.i64c(64), s);
    let zero = ir.i64c(0);
    let (new_lo, new_hi) = if op == LLVMShl {
        let carry = ir.select(s_zero, zero, ir.binop(LLVMLShr, lo, back));
        let lo_s = ir.binop(LLVMShl, lo, s);
        let hi_s = ir.binop(LLVMOr, ir.binop(LLVMShl, hi, s), carry);
        (ir.select(big, zero, lo_s), ir.select(big, lo_s, hi_s))
    } else {
        let arith = op == LLVMAShr;
        let down = if arith { LLVMAShr } else { LLVMLShr };
        let carry = ir.select(s_zero, zero, ir.binop(LLVMShl, hi, back));
        let lo_s = ir.binop(LLVMOr, ir.binop(LLVMLShr, lo, s), carry);
        let hi_s = ir.binop(down, hi, s);
        let fill = if arith {
            ir.binop(LLVMAShr, hi, ir.i64c(63))
        } else {
            zero
        };
        (ir.select(big, hi_s, lo_s), ir.select(big, fill, hi_s))
    };
    let wide = ir.int(128);
    let lo128 = ir.cast(LLVMZExt, new_lo, wide);
    let hi128 = ir.cast(LLVMZExt, new_hi, wide);
    let hi128 = ir.binop(LLVMShl, hi128, ir.const_int(wide, 64));
    let r = ir.binop(LLVMOr, lo128, hi128);
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
