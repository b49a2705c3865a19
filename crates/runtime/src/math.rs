//! `<math.h>`: the C99 functions, each in its `double`, `float` (`f`) and
//! `long double` (`l`, the same as `double` on BPF) form, computed by the
//! host's libm so that results are bit-exact with a native glibc program.
//!
//! Pointer out-parameters (`frexp`'s exponent, `modf`'s integral part,
//! `remquo`'s quotient) are checked like every other pointer. `nan(tag)`
//! reads its tag as glibc does. `errno` is set as glibc's libm sets it
//! (the runtime copies it after each call; `math_errhandling` is
//! `MATH_ERRNO`). Not provided: `signgam` (use `lgamma_r`).

use crate::ctx::Ctx;
use crate::float::{d1, d2, double, float, ret_double, ret_float, s1, s2};
use crate::libm;
use crate::runtime::Imp;
use crate::strtod::{nan_payload, Format};
use crate::vmstr::{int_arg, int_ret};
use bpf_vm::{HelperError, Memory};

/// Table entries for functions of one argument: `name`, `namef`, `namel`.
macro_rules! unary {
    ($($d:ident / $f:ident),* $(,)?) => {
        [$(
            (stringify!($d), (|_, _, a| Ok(d1(libm::$d, a[0]))) as Imp),
            (stringify!($f), |_, _, a| Ok(s1(libm::$f, a[0]))),
            (concat!(stringify!($d), "l"), |_, _, a| Ok(d1(libm::$d, a[0]))),
        )*]
    };
}

/// Table entries for functions of two arguments.
macro_rules! binary {
    ($($d:ident / $f:ident),* $(,)?) => {
        [$(
            (stringify!($d), (|_, _, a| Ok(d2(libm::$d, a[0], a[1]))) as Imp),
            (stringify!($f), |_, _, a| Ok(s2(libm::$f, a[0], a[1]))),
            (concat!(stringify!($d), "l"), |_, _, a| Ok(d2(libm::$d, a[0], a[1]))),
        )*]
    };
}

/// The functions of one argument.
pub(crate) const UNARY: &[(&str, Imp)] = &unary![
    acos / acosf,
    asin / asinf,
    atan / atanf,
    cos / cosf,
    sin / sinf,
    tan / tanf,
    acosh / acoshf,
    asinh / asinhf,
    atanh / atanhf,
    cosh / coshf,
    sinh / sinhf,
    tanh / tanhf,
    exp / expf,
    exp2 / exp2f,
    expm1 / expm1f,
    log / logf,
    log10 / log10f,
    log1p / log1pf,
    log2 / log2f,
    logb / logbf,
    cbrt / cbrtf,
    fabs / fabsf,
    sqrt / sqrtf,
    erf / erff,
    erfc / erfcf,
    tgamma / tgammaf,
    ceil / ceilf,
    floor / floorf,
    nearbyint / nearbyintf,
    rint / rintf,
    round / roundf,
    trunc / truncf,
    roundeven / roundevenf,
];

/// The functions of two arguments.
pub(crate) const BINARY: &[(&str, Imp)] = &binary![
    atan2 / atan2f,
    pow / powf,
    hypot / hypotf,
    fmod / fmodf,
    remainder / remainderf,
    copysign / copysignf,
    nextafter / nextafterf,
    fdim / fdimf,
    fmax / fmaxf,
    fmin / fminf,
];

/// The current value of an out-parameter of `func`: `size` bytes at `ptr`,
/// checked like the store that follows (what glibc leaves unwritten keeps
/// this value).
fn load_out(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    ptr: u64,
    size: usize,
) -> Result<u64, HelperError> {
    cx.check(func, ptr, size)?;
    // Checked as the write C does, so a bad pointer is reported as one.
    mem.slice_mut(ptr, size)?;
    Ok(mem.load(ptr, size)?)
}

/// Stores `size` bytes of `value` at `ptr` (an out-parameter of `func`).
fn store_out(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    ptr: u64,
    size: usize,
    value: u64,
) -> Result<(), HelperError> {
    cx.check(func, ptr, size)?;
    mem.store(ptr, size, value)?;
    Ok(())
}

/// An `int` result for an out-parameter (its 32 bits).
fn int_bits(v: i32) -> u64 {
    u64::from(v as u32)
}

fn frexp(cx: &Ctx, mem: &mut Memory, a: [u64; 5], func: &str) -> Result<u64, HelperError> {
    let old = load_out(cx, func, mem, a[1], 4)? as i32;
    let (m, e) = libm::frexp(double(a[0]), old);
    store_out(cx, func, mem, a[1], 4, int_bits(e))?;
    Ok(ret_double(m))
}

fn modf(cx: &Ctx, mem: &mut Memory, a: [u64; 5], func: &str) -> Result<u64, HelperError> {
    let old = double(load_out(cx, func, mem, a[1], 8)?);
    let (frac, int) = libm::modf(double(a[0]), old);
    store_out(cx, func, mem, a[1], 8, ret_double(int))?;
    Ok(ret_double(frac))
}

fn remquo(cx: &Ctx, mem: &mut Memory, a: [u64; 5], func: &str) -> Result<u64, HelperError> {
    let old = load_out(cx, func, mem, a[2], 4)? as i32;
    let (r, q) = libm::remquo(double(a[0]), double(a[1]), old);
    store_out(cx, func, mem, a[2], 4, int_bits(q))?;
    Ok(ret_double(r))
}

/// `nan(tag)`: glibc's `strtod("NAN(tag)")` where the whole tag must be
/// the sequence.
fn nan(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    format: Format,
) -> Result<u64, HelperError> {
    let tag = cx.string(func, mem, a[0])?;
    let (bits, len) = nan_payload(tag, format);
    Ok(if len == tag.len() {
        bits
    } else {
        nan_payload(b"", format).0
    })
}

/// `nexttowardf(float x, long double y)`: `long double` is `double`, so
/// the step is toward a `double`, as glibc computes it.
fn nexttowardf(x: f32, y: f64) -> u64 {
    if x.is_nan() || y.is_nan() {
        return u64::from(x87_nan_sum(x, y));
    }
    if f64::from(x) == y {
        return ret_float(y as f32);
    }
    let toward = if f64::from(x) < y {
        f32::INFINITY
    } else {
        f32::NEG_INFINITY
    };
    ret_float(libm::nextafterf(x, toward))
}

/// glibc's `nexttowardf` returns `x + y` computed in `long double` when
/// either is NaN, with x87's rules: a signalling NaN loses to a quiet one,
/// of two quiet NaNs the larger significand wins. (`y`, a `double` made
/// `long double` by the caller, is always quiet; `x` stays as it came.)
/// The sum then becomes a `float`.
fn x87_nan_sum(x: f32, y: f64) -> u32 {
    use crate::float::ieee::{f32_to_f64, f64_to_f32};
    let xd = f32_to_f64(x.to_bits());
    let yd = y.to_bits() | 0x0008_0000_0000_0000;
    let significand = |d: u64| d & 0x000f_ffff_ffff_ffff;
    let x_signalling = x.is_nan() && x.to_bits() & 0x0040_0000 == 0;
    let nan = match (x.is_nan(), y.is_nan()) {
        (true, true) if x_signalling || significand(yd) > significand(xd) => yd,
        (true, _) => xd,
        _ => yd,
    };
    f64_to_f32(nan)
}

/// The functions with other signatures.
pub(crate) const OTHER: &[(&str, Imp)] = &[
    ("fma", |_, _, a| {
        Ok(ret_double(libm::fma(
            double(a[0]),
            double(a[1]),
            double(a[2]),
        )))
    }),
    ("fmaf", |_, _, a| {
        Ok(ret_float(libm::fmaf(float(a[0]), float(a[1]), float(a[2]))))
    }),
    ("fmal", |_, _, a| {
        Ok(ret_double(libm::fma(
            double(a[0]),
            double(a[1]),
            double(a[2]),
        )))
    }),
    ("ldexp", |_, _, a| {
        Ok(ret_double(libm::ldexp(double(a[0]), int_arg(a[1]))))
    }),
    ("ldexpf", |_, _, a| {
        Ok(ret_float(libm::ldexpf(float(a[0]), int_arg(a[1]))))
    }),
    ("ldexpl", |_, _, a| {
        Ok(ret_double(libm::ldexp(double(a[0]), int_arg(a[1]))))
    }),
    ("scalbn", |_, _, a| {
        Ok(ret_double(libm::scalbn(double(a[0]), int_arg(a[1]))))
    }),
    ("scalbnf", |_, _, a| {
        Ok(ret_float(libm::scalbnf(float(a[0]), int_arg(a[1]))))
    }),
    ("scalbnl", |_, _, a| {
        Ok(ret_double(libm::scalbn(double(a[0]), int_arg(a[1]))))
    }),
    ("scalbln", |_, _, a| {
        Ok(ret_double(libm::scalbln(double(a[0]), a[1] as i64)))
    }),
    ("scalblnf", |_, _, a| {
        Ok(ret_float(libm::scalblnf(float(a[0]), a[1] as i64)))
    }),
    ("scalblnl", |_, _, a| {
        Ok(ret_double(libm::scalbln(double(a[0]), a[1] as i64)))
    }),
    ("ilogb", |_, _, a| Ok(int_ret(libm::ilogb(double(a[0]))))),
    ("ilogbf", |_, _, a| Ok(int_ret(libm::ilogbf(float(a[0]))))),
    ("ilogbl", |_, _, a| Ok(int_ret(libm::ilogb(double(a[0]))))),
    ("lrint", |_, _, a| Ok(libm::lrint(double(a[0])) as u64)),
    ("lrintf", |_, _, a| Ok(libm::lrintf(float(a[0])) as u64)),
    ("lrintl", |_, _, a| Ok(libm::lrint(double(a[0])) as u64)),
    ("llrint", |_, _, a| Ok(libm::lrint(double(a[0])) as u64)),
    ("llrintf", |_, _, a| Ok(libm::lrintf(float(a[0])) as u64)),
    ("llrintl", |_, _, a| Ok(libm::lrint(double(a[0])) as u64)),
    ("lround", |_, _, a| Ok(libm::lround(double(a[0])) as u64)),
    ("lroundf", |_, _, a| Ok(libm::lroundf(float(a[0])) as u64)),
    ("lroundl", |_, _, a| Ok(libm::lround(double(a[0])) as u64)),
    ("llround", |_, _, a| Ok(libm::lround(double(a[0])) as u64)),
    ("llroundf", |_, _, a| Ok(libm::lroundf(float(a[0])) as u64)),
    ("llroundl", |_, _, a| Ok(libm::lround(double(a[0])) as u64)),
    ("lgamma", |_, _, a| {
        Ok(ret_double(libm::lgamma_r(double(a[0]), 0).0))
    }),
    ("lgammaf", |_, _, a| {
        Ok(ret_float(libm::lgammaf_r(float(a[0]), 0).0))
    }),
    ("lgammal", |_, _, a| {
        Ok(ret_double(libm::lgamma_r(double(a[0]), 0).0))
    }),
    ("lgamma_r", |cx, mem, a| {
        let old = load_out(cx, "lgamma_r", mem, a[1], 4)? as i32;
        let (r, sign) = libm::lgamma_r(double(a[0]), old);
        store_out(cx, "lgamma_r", mem, a[1], 4, int_bits(sign))?;
        Ok(ret_double(r))
    }),
    ("lgammaf_r", |cx, mem, a| {
        let old = load_out(cx, "lgammaf_r", mem, a[1], 4)? as i32;
        let (r, sign) = libm::lgammaf_r(float(a[0]), old);
        store_out(cx, "lgammaf_r", mem, a[1], 4, int_bits(sign))?;
        Ok(ret_float(r))
    }),
    ("frexp", |cx, mem, a| frexp(cx, mem, a, "frexp")),
    ("frexpl", |cx, mem, a| frexp(cx, mem, a, "frexpl")),
    ("frexpf", |cx, mem, a| {
        let old = load_out(cx, "frexpf", mem, a[1], 4)? as i32;
        let (m, e) = libm::frexpf(float(a[0]), old);
        store_out(cx, "frexpf", mem, a[1], 4, int_bits(e))?;
        Ok(ret_float(m))
    }),
    ("modf", |cx, mem, a| modf(cx, mem, a, "modf")),
    ("modfl", |cx, mem, a| modf(cx, mem, a, "modfl")),
    ("modff", |cx, mem, a| {
        let old = float(load_out(cx, "modff", mem, a[1], 4)?);
        let (frac, int) = libm::modff(float(a[0]), old);
        store_out(cx, "modff", mem, a[1], 4, ret_float(int))?;
        Ok(ret_float(frac))
    }),
    ("remquo", |cx, mem, a| remquo(cx, mem, a, "remquo")),
    ("remquol", |cx, mem, a| remquo(cx, mem, a, "remquol")),
    ("remquof", |cx, mem, a| {
        let old = load_out(cx, "remquof", mem, a[2], 4)? as i32;
        let (r, q) = libm::remquof(float(a[0]), float(a[1]), old);
        store_out(cx, "remquof", mem, a[2], 4, int_bits(q))?;
        Ok(ret_float(r))
    }),
    ("nan", |cx, mem, a| nan(cx, mem, a, "nan", Format::F64)),
    ("nanf", |cx, mem, a| nan(cx, mem, a, "nanf", Format::F32)),
    ("nanl", |cx, mem, a| nan(cx, mem, a, "nanl", Format::F64)),
    // `long double` is `double`: stepping toward one is `nextafter`.
    ("nexttoward", |_, _, a| Ok(d2(libm::nextafter, a[0], a[1]))),
    ("nexttowardl", |_, _, a| Ok(d2(libm::nextafter, a[0], a[1]))),
    ("nexttowardf", |_, _, a| {
        Ok(nexttowardf(float(a[0]), double(a[1])))
    }),
];
