//! The floating-point helpers of docs/abi.md: what the IR stage calls for
//! each `fadd`, `fcmp`, `sitofp`, `llvm.floor`... on `double` and `float`.
//!
//! Values travel as bit patterns: a `double` is its 64 bits, a `float` its
//! 32 bits in the low half of the register (the upper half is ignored on
//! the way in and zero on the way out). The results are bit-exact with what
//! clang 19 makes of the same LLVM IR on x86-64: [`ieee`] reproduces the
//! SSE2 instructions (NaN payloads included); the operations x86-64 leaves
//! to the C library (`frem`, `llvm.floor`, `llvm.fma`...) call the host's
//! libm, as a native program does.

pub(crate) mod ieee;

use crate::libm;
use crate::runtime::Imp;
use bpf_vm::{HelperError, Memory};
use ieee::{f32 as s, f64 as d};

/// A `double` argument register.
pub(crate) fn double(r: u64) -> f64 {
    f64::from_bits(r)
}

/// A `float` argument register (its low 32 bits).
pub(crate) fn float(r: u64) -> f32 {
    f32::from_bits(r as u32)
}

/// A `double` result register.
pub(crate) fn ret_double(x: f64) -> u64 {
    x.to_bits()
}

/// A `float` result register (upper half zero).
pub(crate) fn ret_float(x: f32) -> u64 {
    u64::from(x.to_bits())
}

/// Applies a `double` function of one argument to a register.
pub(crate) fn d1(f: fn(f64) -> f64, a: u64) -> u64 {
    ret_double(f(double(a)))
}

/// Applies a `float` function of one argument to a register.
pub(crate) fn s1(f: fn(f32) -> f32, a: u64) -> u64 {
    ret_float(f(float(a)))
}

/// Applies a `double` function of two arguments.
pub(crate) fn d2(f: fn(f64, f64) -> f64, a: u64, b: u64) -> u64 {
    ret_double(f(double(a), double(b)))
}

/// Applies a `float` function of two arguments.
pub(crate) fn s2(f: fn(f32, f32) -> f32, a: u64, b: u64) -> u64 {
    ret_float(f(float(a), float(b)))
}

/// `fcmp`, or a fault for a predicate LLVM does not have.
fn compare(func: &str, result: Option<bool>, pred: u64) -> Result<u64, HelperError> {
    result.map(u64::from).ok_or_else(|| {
        HelperError::Fault(format!(
            "{func}: {pred} is not an LLVM floating-point comparison predicate (0..=15)"
        ))
    })
}

/// Stores a 128-bit integer at `out`, low half first.
fn store_128(
    cx: &crate::ctx::Ctx,
    func: &str,
    mem: &mut Memory,
    out: u64,
    v: u128,
) -> Result<u64, HelperError> {
    cx.check(func, out, 16)?;
    mem.write_bytes(out, &v.to_le_bytes())?;
    Ok(0)
}

/// A 128-bit integer passed as two halves.
fn halves(lo: u64, hi: u64) -> u128 {
    u128::from(lo) | (u128::from(hi) << 64)
}

/// Every floating-point helper of the ABI.
pub(crate) const HELPERS: &[(&str, Imp)] = &[
    // Arithmetic.
    ("__bpf_f64_add", |_, _, a| Ok(d::add(a[0], a[1]))),
    ("__bpf_f64_sub", |_, _, a| Ok(d::sub(a[0], a[1]))),
    ("__bpf_f64_mul", |_, _, a| Ok(d::mul(a[0], a[1]))),
    ("__bpf_f64_div", |_, _, a| Ok(d::div(a[0], a[1]))),
    ("__bpf_f64_rem", |_, _, a| Ok(d2(libm::fmod, a[0], a[1]))),
    ("__bpf_f32_add", |_, _, a| {
        Ok(u64::from(s::add(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_sub", |_, _, a| {
        Ok(u64::from(s::sub(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_mul", |_, _, a| {
        Ok(u64::from(s::mul(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_div", |_, _, a| {
        Ok(u64::from(s::div(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_rem", |_, _, a| Ok(s2(libm::fmodf, a[0], a[1]))),
    // Comparisons.
    ("__bpf_f64_cmp", |_, _, a| {
        compare("__bpf_f64_cmp", d::cmp(a[0], a[1], a[2]), a[2])
    }),
    ("__bpf_f32_cmp", |_, _, a| {
        compare(
            "__bpf_f32_cmp",
            s::cmp(a[0] as u32, a[1] as u32, a[2]),
            a[2],
        )
    }),
    // Conversions.
    ("__bpf_f64_from_i64", |_, _, a| Ok(d::from_i64(a[0]))),
    ("__bpf_f64_from_u64", |_, _, a| Ok(d::from_u64(a[0]))),
    ("__bpf_f32_from_i64", |_, _, a| {
        Ok(u64::from(s::from_i64(a[0])))
    }),
    ("__bpf_f32_from_u64", |_, _, a| {
        Ok(u64::from(s::from_u64(a[0])))
    }),
    ("__bpf_f64_to_i64", |_, _, a| Ok(d::to_i64(a[0]))),
    ("__bpf_f64_to_u64", |_, _, a| Ok(d::to_u64(a[0]))),
    ("__bpf_f32_to_i64", |_, _, a| Ok(s::to_i64(a[0] as u32))),
    ("__bpf_f32_to_u64", |_, _, a| Ok(s::to_u64(a[0] as u32))),
    ("__bpf_f32_to_f64", |_, _, a| {
        Ok(ieee::f32_to_f64(a[0] as u32))
    }),
    ("__bpf_f64_to_f32", |_, _, a| {
        Ok(u64::from(ieee::f64_to_f32(a[0])))
    }),
    ("__bpf_f64_from_i128", |_, _, a| {
        Ok(d::from_i128(halves(a[0], a[1]) as i128))
    }),
    ("__bpf_f64_from_u128", |_, _, a| {
        Ok(d::from_u128(halves(a[0], a[1])))
    }),
    ("__bpf_f32_from_i128", |_, _, a| {
        Ok(u64::from(s::from_i128(halves(a[0], a[1]) as i128)))
    }),
    ("__bpf_f32_from_u128", |_, _, a| {
        Ok(u64::from(s::from_u128(halves(a[0], a[1]))))
    }),
    ("__bpf_f64_to_i128", |cx, mem, a| {
        store_128(cx, "__bpf_f64_to_i128", mem, a[0], d::to_i128(a[1]) as u128)
    }),
    ("__bpf_f64_to_u128", |cx, mem, a| {
        store_128(cx, "__bpf_f64_to_u128", mem, a[0], d::to_u128(a[1]))
    }),
    ("__bpf_f32_to_i128", |cx, mem, a| {
        store_128(
            cx,
            "__bpf_f32_to_i128",
            mem,
            a[0],
            s::to_i128(a[1] as u32) as u128,
        )
    }),
    ("__bpf_f32_to_u128", |cx, mem, a| {
        store_128(cx, "__bpf_f32_to_u128", mem, a[0], s::to_u128(a[1] as u32))
    }),
    // Intrinsics: square root by the instruction, rounding by libm.
    ("__bpf_f64_sqrt", |_, _, a| Ok(d::sqrt(a[0]))),
    ("__bpf_f32_sqrt", |_, _, a| {
        Ok(u64::from(s::sqrt(a[0] as u32)))
    }),
    ("__bpf_f64_floor", |_, _, a| Ok(d1(libm::floor, a[0]))),
    ("__bpf_f32_floor", |_, _, a| Ok(s1(libm::floorf, a[0]))),
    ("__bpf_f64_ceil", |_, _, a| Ok(d1(libm::ceil, a[0]))),
    ("__bpf_f32_ceil", |_, _, a| Ok(s1(libm::ceilf, a[0]))),
    ("__bpf_f64_trunc", |_, _, a| Ok(d1(libm::trunc, a[0]))),
    ("__bpf_f32_trunc", |_, _, a| Ok(s1(libm::truncf, a[0]))),
    ("__bpf_f64_round", |_, _, a| Ok(d1(libm::round, a[0]))),
    ("__bpf_f32_round", |_, _, a| Ok(s1(libm::roundf, a[0]))),
    ("__bpf_f64_rint", |_, _, a| Ok(d1(libm::rint, a[0]))),
    ("__bpf_f32_rint", |_, _, a| Ok(s1(libm::rintf, a[0]))),
    ("__bpf_f64_nearbyint", |_, _, a| {
        Ok(d1(libm::nearbyint, a[0]))
    }),
    ("__bpf_f32_nearbyint", |_, _, a| {
        Ok(s1(libm::nearbyintf, a[0]))
    }),
    ("__bpf_f64_roundeven", |_, _, a| {
        Ok(d1(libm::roundeven, a[0]))
    }),
    ("__bpf_f32_roundeven", |_, _, a| {
        Ok(s1(libm::roundevenf, a[0]))
    }),
    ("__bpf_f64_fma", |_, _, a| {
        Ok(ret_double(libm::fma(
            double(a[0]),
            double(a[1]),
            double(a[2]),
        )))
    }),
    ("__bpf_f32_fma", |_, _, a| {
        Ok(ret_float(libm::fmaf(float(a[0]), float(a[1]), float(a[2]))))
    }),
    ("__bpf_f64_minnum", |_, _, a| Ok(d::minnum(a[0], a[1]))),
    ("__bpf_f64_maxnum", |_, _, a| Ok(d::maxnum(a[0], a[1]))),
    ("__bpf_f64_minimum", |_, _, a| Ok(d::minimum(a[0], a[1]))),
    ("__bpf_f64_maximum", |_, _, a| Ok(d::maximum(a[0], a[1]))),
    ("__bpf_f32_minnum", |_, _, a| {
        Ok(u64::from(s::minnum(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_maxnum", |_, _, a| {
        Ok(u64::from(s::maxnum(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_minimum", |_, _, a| {
        Ok(u64::from(s::minimum(a[0] as u32, a[1] as u32)))
    }),
    ("__bpf_f32_maximum", |_, _, a| {
        Ok(u64::from(s::maximum(a[0] as u32, a[1] as u32)))
    }),
];
