//! Floating point -> runtime helpers on bit patterns (docs/abi.md,
//! "Floating point"). The BPF backend keeps `double`/`float` values as
//! 64/32-bit integers for loads, stores, `select`, `phi`, `bitcast` and
//! calls; every operation on them becomes a call of `__bpf_f64_*` /
//! `__bpf_f32_*` (IEEE arithmetic on the host), and sign and class tests
//! become integer bit operations.

use super::{definitions, Cx};
use crate::abi::words;
use crate::ir::{intrinsic_base, Ir, T, V};
use llvm_sys::{LLVMIntPredicate, LLVMOpcode, LLVMTypeKind};

/// `float` or `double`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fp {
    F32,
    F64,
}

impl Fp {
    fn prefix(self) -> &'static str {
        match self {
            Fp::F32 => "__bpf_f32_",
            Fp::F64 => "__bpf_f64_",
        }
    }
    fn bits(self) -> u32 {
        match self {
            Fp::F32 => 32,
            Fp::F64 => 64,
        }
    }
    fn sign(self) -> u64 {
        1 << (self.bits() - 1)
    }
}

fn fp_kind(ir: &Ir, t: T) -> Option<Fp> {
    match ir.kind(t) {
        LLVMTypeKind::LLVMFloatTypeKind => Some(Fp::F32),
        LLVMTypeKind::LLVMDoubleTypeKind => Some(Fp::F64),
        _ => None,
    }
}

fn is_float_like(ir: &Ir, t: T) -> bool {
    match ir.kind(t) {
        LLVMTypeKind::LLVMHalfTypeKind
        | LLVMTypeKind::LLVMBFloatTypeKind
        | LLVMTypeKind::LLVMFloatTypeKind
        | LLVMTypeKind::LLVMDoubleTypeKind
        | LLVMTypeKind::LLVMX86_FP80TypeKind
        | LLVMTypeKind::LLVMFP128TypeKind
        | LLVMTypeKind::LLVMPPC_FP128TypeKind => true,
        LLVMTypeKind::LLVMVectorTypeKind => {
            is_float_like(ir, unsafe { llvm_sys::core::LLVMGetElementType(t) })
        }
        _ => false,
    }
}

/// A float value as the i64 a helper takes (f32: pattern in the low half).
fn to_word(ir: &Ir, v: V, fp: Fp) -> V {
    match fp {
        Fp::F64 => ir.cast(LLVMOpcode::LLVMBitCast, v, ir.i64()),
        Fp::F32 => {
            let bits = ir.cast(LLVMOpcode::LLVMBitCast, v, ir.i32());
            ir.cast(LLVMOpcode::LLVMZExt, bits, ir.i64())
        }
    }
}

/// The i64 a helper returned, as a float value.
fn from_word(ir: &Ir, w: V, fp: Fp) -> V {
    match fp {
        Fp::F64 => ir.cast(LLVMOpcode::LLVMBitCast, w, ir.f64()),
        Fp::F32 => {
            let bits = ir.cast(LLVMOpcode::LLVMTrunc, w, ir.i32());
            ir.cast(LLVMOpcode::LLVMBitCast, bits, ir.f32())
        }
    }
}

/// Calls `__bpf_fNN_<op>` on float operands and returns a float.
fn helper(ir: &Ir, fp: Fp, op: &str, args: &[V]) -> V {
    let words_in: Vec<V> = args.iter().map(|a| to_word(ir, *a, fp)).collect();
    let r = ir.call_named(
        &format!("{}{op}", fp.prefix()),
        words(ir, words_in.len()),
        &words_in,
    );
    from_word(ir, r, fp)
}

/// The integer bit pattern of a float value (i32 or i64).
fn bits_of(ir: &Ir, v: V, fp: Fp) -> V {
    ir.cast(LLVMOpcode::LLVMBitCast, v, ir.int(fp.bits()))
}

fn from_bits(ir: &Ir, bits: V, fp: Fp) -> V {
    let t = match fp {
        Fp::F32 => ir.f32(),
        Fp::F64 => ir.f64(),
    };
    ir.cast(LLVMOpcode::LLVMBitCast, bits, t)
}

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    for f in definitions(ir) {
        for i in ir.all_insts(f) {
            lower_inst(cx, i);
        }
    }
}

/// What C construct an instruction stands for, for messages.
fn describe(op: LLVMOpcode) -> &'static str {
    use LLVMOpcode::*;
    match op {
        LLVMFAdd => "floating-point addition",
        LLVMFSub => "floating-point subtraction",
        LLVMFMul => "floating-point multiplication",
        LLVMFDiv => "floating-point division",
        LLVMFRem => "floating-point remainder (fmod)",
        LLVMFNeg => "floating-point negation",
        LLVMFCmp => "floating-point comparison",
        LLVMSIToFP | LLVMUIToFP => "conversion from integer to floating point",
        LLVMFPToSI | LLVMFPToUI => "conversion from floating point to integer",
        LLVMFPExt => "conversion from float to double",
        LLVMFPTrunc => "conversion from double to float",
        _ => "floating-point arithmetic",
    }
}

fn lower_inst(cx: &mut Cx, i: V) {
    use LLVMOpcode::*;
    let ir = cx.ir;
    let Some(op) = ir.opcode(i) else { return };
    let ty = ir.type_of(i);
    let replacement = match op {
        LLVMFAdd | LLVMFSub | LLVMFMul | LLVMFDiv | LLVMFRem | LLVMFNeg => {
            let Some(fp) = scalar(cx, i, ty, op) else {
                return;
            };
            ir.before(i);
            let a = ir.operand(i, 0);
            if op == LLVMFNeg {
                let flipped = ir.binop(
                    LLVMXor,
                    bits_of(ir, a, fp),
                    ir.const_int(ir.int(fp.bits()), fp.sign()),
                );
                from_bits(ir, flipped, fp)
            } else {
                let name = match op {
                    LLVMFAdd => "add",
                    LLVMFSub => "sub",
                    LLVMFMul => "mul",
                    LLVMFDiv => "div",
                    _ => "rem",
                };
                helper(ir, fp, name, &[a, ir.operand(i, 1)])
            }
        }
        LLVMFCmp => {
            let a = ir.operand(i, 0);
            let Some(fp) = scalar(cx, i, ir.type_of(a), op) else {
                return;
            };
            ir.before(i);
            let pred = ir.fcmp_predicate(i) as u64;
            match pred {
                0 => ir.const_int(ir.i1(), 0),
                15 => ir.const_int(ir.i1(), 1),
                _ => {
                    let args = [
                        to_word(ir, a, fp),
                        to_word(ir, ir.operand(i, 1), fp),
                        ir.i64c(pred),
                    ];
                    let r = ir.call_named(&format!("{}cmp", fp.prefix()), words(ir, 3), &args);
                    ir.icmp(LLVMIntPredicate::LLVMIntNE, r, ir.i64c(0))
                }
            }
        }
        LLVMSIToFP | LLVMUIToFP => {
            let Some(fp) = scalar(cx, i, ty, op) else {
                return;
            };
            let src = ir.operand(i, 0);
            let signed = op == LLVMSIToFP;
            ir.before(i);
            match ir.int_width(ir.type_of(src)) {
                Some(w) if w <= 64 => {
                    let x = ir.to_i64(src, signed);
                    let name = if signed { "from_i64" } else { "from_u64" };
                    let r = ir.call_named(&format!("{}{name}", fp.prefix()), words(ir, 1), &[x]);
                    from_word(ir, r, fp)
                }
                Some(128) => {
                    // Rounded once, directly to the target format.
                    let (lo, hi) = halves(ir, src);
                    let name = if signed { "from_i128" } else { "from_u128" };
                    let r =
                        ir.call_named(&format!("{}{name}", fp.prefix()), words(ir, 2), &[lo, hi]);
                    from_word(ir, r, fp)
                }
                _ => {
                    cx.problem(i, "conversion of an integer wider than 128 bits to floating point is not supported".into());
                    return;
                }
            }
        }
        LLVMFPToSI | LLVMFPToUI => {
            let src = ir.operand(i, 0);
            let Some(fp) = scalar(cx, i, ir.type_of(src), op) else {
                return;
            };
            let signed = op == LLVMFPToSI;
            ir.before(i);
            match ir.int_width(ty) {
                Some(w) if w <= 64 => {
                    let name = if signed { "to_i64" } else { "to_u64" };
                    let r = ir.call_named(
                        &format!("{}{name}", fp.prefix()),
                        words(ir, 1),
                        &[to_word(ir, src, fp)],
                    );
                    if w == 64 {
                        r
                    } else {
                        ir.cast(LLVMTrunc, r, ty)
                    }
                }
                Some(128) => {
                    let out = cx.slot(ir.function_of(i), "i128", 16, 8);
                    ir.before(i);
                    let name = if signed { "to_i128" } else { "to_u128" };
                    let fnty = ir.fn_type(ir.void(), &[ir.ptr(), ir.i64()], false);
                    let word = to_word(ir, src, fp);
                    ir.call_named(&format!("{}{name}", fp.prefix()), fnty, &[out, word]);
                    ir.load(ty, out, 8)
                }
                _ => {
                    cx.problem(i, "conversion of floating point to an integer wider than 128 bits is not supported".into());
                    return;
                }
            }
        }
        LLVMFPExt | LLVMFPTrunc => {
            let src = ir.operand(i, 0);
            let from = fp_kind(ir, ir.type_of(src));
            let to = fp_kind(ir, ty);
            match (from, to) {
                (Some(Fp::F32), Some(Fp::F64)) | (Some(Fp::F64), Some(Fp::F32)) => {}
                _ => {
                    if is_float_like(ir, ty) {
                        cx.problem(
                            i,
                            format!(
                                "{} of type {} is not supported (long double is double on BPF)",
                                describe(op),
                                ir.type_string(ty)
                            ),
                        );
                    }
                    return;
                }
            }
            if cx.strict {
                cx.refuse(i, describe(op));
                return;
            }
            ir.before(i);
            let (from, to) = (from.unwrap(), to.unwrap());
            let name = if from == Fp::F32 {
                "__bpf_f32_to_f64"
            } else {
                "__bpf_f64_to_f32"
            };
            let r = ir.call_named(name, words(ir, 1), &[to_word(ir, src, from)]);
            from_word(ir, r, to)
        }
        LLVMCall => {
            let name = ir.callee_name(i);
            let Some(base) = intrinsic_base(&name) else {
                return;
            };
            let Some(r) = lower_intrinsic(cx, i, base) else {
                return;
            };
            r
        }
        _ => return,
    };
    ir.replace_uses(i, replacement);
    ir.erase(i);
}

/// The scalar kind of `t` for lowering `op`, or `None` after reporting why
/// not (strict mode, vectors, other float types). Integer types: `None`
/// silently.
fn scalar(cx: &mut Cx, i: V, t: T, op: LLVMOpcode) -> Option<Fp> {
    let ir = cx.ir;
    if !is_float_like(ir, t) {
        return None;
    }
    if cx.strict {
        cx.refuse(i, describe(op));
        return None;
    }
    match fp_kind(ir, t) {
        Some(fp) => Some(fp),
        None if ir.is_vector(t) => {
            cx.problem(i, format!("vector {} is not supported", describe(op)));
            None
        }
        None => {
            cx.problem(
                i,
                format!("{} on {} is not supported", describe(op), ir.type_string(t)),
            );
            None
        }
    }
}

/// The low and high 64-bit halves of an i128.
pub(crate) fn halves(ir: &Ir, v: V) -> (V, V) {
    let lo = ir.cast(LLVMOpcode::LLVMTrunc, v, ir.i64());
    let shifted = ir.binop(LLVMOpcode::LLVMLShr, v, ir.const_int(ir.int(128), 64));
    let hi = ir.cast(LLVMOpcode::LLVMTrunc, shifted, ir.i64());
    (lo, hi)
}

/// Intrinsics with a helper of their own: `llvm.<name>` -> `__bpf_fNN_<name>`.
const OWN_HELPERS: &[&str] = &[
    "sqrt",
    "floor",
    "ceil",
    "trunc",
    "round",
    "rint",
    "nearbyint",
    "roundeven",
    "fma",
    "minnum",
    "maxnum",
    "minimum",
    "maximum",
];

/// Intrinsics that are C library calls of the same name (`f` suffix for float).
const LIBM: &[&str] = &[
    "pow", "exp", "exp2", "exp10", "log", "log2", "log10", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh",
];

fn lower_intrinsic(cx: &mut Cx, i: V, base: &str) -> Option<V> {
    let ir = cx.ir;
    let name = base.strip_prefix("llvm.")?;
    let args = ir.args(i);
    let ty = ir.type_of(i);
    // The float type the intrinsic works on: its result, or its first argument.
    let operand_ty = if fp_kind(ir, ty).is_some() || is_float_like(ir, ty) {
        ty
    } else {
        args.first().map(|a| ir.type_of(*a))?
    };
    if !is_float_like(ir, operand_ty) {
        return None;
    }
    if name.starts_with("experimental.constrained.") {
        cx.problem(
            i,
            "strict floating-point semantics (#pragma STDC FENV_ACCESS) are not supported".into(),
        );
        return None;
    }
    let what = format!("`{}`", name.split('.').next().unwrap_or(name));
    if cx.strict {
        cx.refuse(i, &format!("the floating-point builtin {what}"));
        return None;
    }
    let Some(fp) = fp_kind(ir, operand_ty) else {
        cx.problem(
            i,
            format!("{what} on {} is not supported", ir.type_string(operand_ty)),
        );
        return None;
    };
    ir.before(i);
    let libm = |n: &str| match fp {
        Fp::F64 => n.to_string(),
        Fp::F32 => format!("{n}f"),
    };
    let fptype = operand_ty;
    Some(match name {
        n if OWN_HELPERS.contains(&n) => helper(ir, fp, n, &args),
        "fmuladd" => {
            let p = helper(ir, fp, "mul", &args[..2]);
            helper(ir, fp, "add", &[p, args[2]])
        }
        "fabs" => {
            let b = ir.binop(
                LLVMOpcode::LLVMAnd,
                bits_of(ir, args[0], fp),
                ir.const_int(ir.int(fp.bits()), !fp.sign()),
            );
            from_bits(ir, b, fp)
        }
        "copysign" => {
            let w = ir.int(fp.bits());
            let mag = ir.binop(
                LLVMOpcode::LLVMAnd,
                bits_of(ir, args[0], fp),
                ir.const_int(w, !fp.sign()),
            );
            let sign = ir.binop(
                LLVMOpcode::LLVMAnd,
                bits_of(ir, args[1], fp),
                ir.const_int(w, fp.sign()),
            );
            from_bits(ir, ir.binop(LLVMOpcode::LLVMOr, mag, sign), fp)
        }
        "is.fpclass" => {
            let mask = ir.const_int_value(args[1]).unwrap_or(0);
            fp_class_test(ir, bits_of(ir, args[0], fp), fp, mask)
        }
        "canonicalize" | "arithmetic.fence" => args[0],
        n if LIBM.contains(&n) => {
            let fnty = ir.fn_type(fptype, &vec![fptype; args.len()], false);
            ir.call_named(&libm(n), fnty, &args)
        }
        "powi" => {
            let e = ir.cast(LLVMOpcode::LLVMSIToFP, args[1], fptype);
            let fnty = ir.fn_type(fptype, &[fptype, fptype], false);
            let r = ir.call_named(&libm("pow"), fnty, &[args[0], e]);
            // The conversion just built is lowered like any other.
            lower_inst(cx, e);
            r
        }
        "ldexp" => {
            let fnty = ir.fn_type(fptype, &[fptype, ir.i32()], false);
            ir.call_named(&libm("ldexp"), fnty, &args)
        }
        "lround" | "llround" | "lrint" | "llrint" => {
            let fnty = ir.fn_type(ir.i64(), &[fptype], false);
            let r = ir.call_named(&libm(name.split('.').next().unwrap_or(name)), fnty, &args);
            if ir.int_width(ty) == Some(64) {
                r
            } else {
                ir.cast(LLVMOpcode::LLVMTrunc, r, ty)
            }
        }
        "frexp" => {
            let exp = cx.slot(ir.function_of(i), "frexp", 4, 4);
            ir.before(i);
            let fnty = ir.fn_type(fptype, &[fptype, ir.ptr()], false);
            let m = ir.call_named(&libm("frexp"), fnty, &[args[0], exp]);
            let e = ir.load(ir.i32(), exp, 4);
            let agg = ir.insert(ir.poison(ty), m, 0);
            ir.insert(agg, e, 1)
        }
        _ => {
            cx.problem(
                i,
                format!("the floating-point builtin {what} is not supported"),
            );
            return None;
        }
    })
}

/// `llvm.is.fpclass`: which of LLVM's ten classes the pattern `bits` is in,
/// tested against `mask` (bit 0 sNaN, 1 qNaN, 2 -inf, 3 -normal,
/// 4 -subnormal, 5 -0, 6 +0, 7 +subnormal, 8 +normal, 9 +inf).
fn fp_class_test(ir: &Ir, bits: V, fp: Fp, mask: u64) -> V {
    use LLVMIntPredicate::*;
    use LLVMOpcode::*;
    let w = ir.int(fp.bits());
    let c = |v: u64| ir.const_int(w, v);
    let (exp_mask, quiet, min_normal) = match fp {
        Fp::F32 => (0x7f80_0000u64, 1u64 << 22, 1u64 << 23),
        Fp::F64 => (0x7ff0_0000_0000_0000, 1 << 51, 1 << 52),
    };
    let abs = ir.binop(
        LLVMAnd,
        bits,
        c(!fp.sign() & (u64::MAX >> (64 - fp.bits()))),
    );
    let neg = ir.icmp(LLVMIntSLT, bits, c(0));
    let by_sign = |n: u64, p: u64| ir.select(neg, c(n), c(p));
    let is_nan = ir.icmp(LLVMIntUGT, abs, c(exp_mask));
    let is_quiet = ir.icmp(LLVMIntNE, ir.binop(LLVMAnd, abs, c(quiet)), c(0));
    let nan_class = ir.select(is_quiet, c(1), c(0));
    let is_inf = ir.icmp(LLVMIntEQ, abs, c(exp_mask));
    let is_zero = ir.icmp(LLVMIntEQ, abs, c(0));
    let is_sub = ir.icmp(LLVMIntULT, abs, c(min_normal));
    let class = ir.select(is_sub, by_sign(4, 7), by_sign(3, 8));
    let class = ir.select(is_zero, by_sign(5, 6), class);
    let class = ir.select(is_inf, by_sign(2, 9), class);
    let class = ir.select(is_nan, nan_class, class);
    let bit = ir.binop(LLVMLShr, c(mask), class);
    let bit = ir.binop(LLVMAnd, bit, c(1));
    ir.icmp(LLVMIntNE, bit, c(0))
}
