//! The host's C math library (glibc's libm), the one place the runtime
//! calls it. A native C program calls these same functions for `sin(x)`,
//! for `floor(x)` (x86-64 without SSE4.1 has no rounding instruction) and
//! for `frem` (`fmod`), so calling them gives bit-exact native results.
//!
//! Every wrapper is safe: the functions are pure apart from `errno` and the
//! floating-point status flags, which no BPF program can observe, and the
//! pointer out-parameters point at locals of the wrapper.

use std::ffi::{c_int, c_long};

#[link(name = "m")]
extern "C" {
    #[link_name = "frexp"]
    fn frexp_raw(x: f64, exp: *mut c_int) -> f64;
    #[link_name = "frexpf"]
    fn frexpf_raw(x: f32, exp: *mut c_int) -> f32;
    #[link_name = "modf"]
    fn modf_raw(x: f64, int_part: *mut f64) -> f64;
    #[link_name = "modff"]
    fn modff_raw(x: f32, int_part: *mut f32) -> f32;
    #[link_name = "remquo"]
    fn remquo_raw(x: f64, y: f64, quo: *mut c_int) -> f64;
    #[link_name = "remquof"]
    fn remquof_raw(x: f32, y: f32, quo: *mut c_int) -> f32;
    #[link_name = "lgamma_r"]
    fn lgamma_r_raw(x: f64, sign: *mut c_int) -> f64;
    #[link_name = "lgammaf_r"]
    fn lgammaf_r_raw(x: f32, sign: *mut c_int) -> f32;
}

/// Declares libm functions and a safe wrapper of the same name for each.
macro_rules! libm {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        mod ffi {
            #[allow(unused_imports)]
            use std::ffi::{c_int, c_long};
            #[link(name = "m")]
            extern "C" {
                $(pub(super) fn $name($($arg: $ty),*) -> $ret;)*
            }
        }
        $(
            #[doc = concat!("libm's `", stringify!($name), "`.")]
            pub(crate) fn $name($($arg: $ty),*) -> $ret {
                // SAFETY: a pure libm function of plain values (see the module doc).
                unsafe { ffi::$name($($arg),*) }
            }
        )*
    };
}

libm! {
    acos(x: f64) -> f64; acosf(x: f32) -> f32;
    asin(x: f64) -> f64; asinf(x: f32) -> f32;
    atan(x: f64) -> f64; atanf(x: f32) -> f32;
    atan2(y: f64, x: f64) -> f64; atan2f(y: f32, x: f32) -> f32;
    cos(x: f64) -> f64; cosf(x: f32) -> f32;
    sin(x: f64) -> f64; sinf(x: f32) -> f32;
    tan(x: f64) -> f64; tanf(x: f32) -> f32;
    acosh(x: f64) -> f64; acoshf(x: f32) -> f32;
    asinh(x: f64) -> f64; asinhf(x: f32) -> f32;
    atanh(x: f64) -> f64; atanhf(x: f32) -> f32;
    cosh(x: f64) -> f64; coshf(x: f32) -> f32;
    sinh(x: f64) -> f64; sinhf(x: f32) -> f32;
    tanh(x: f64) -> f64; tanhf(x: f32) -> f32;
    exp(x: f64) -> f64; expf(x: f32) -> f32;
    exp2(x: f64) -> f64; exp2f(x: f32) -> f32;
    expm1(x: f64) -> f64; expm1f(x: f32) -> f32;
    ldexp(x: f64, e: c_int) -> f64; ldexpf(x: f32, e: c_int) -> f32;
    log(x: f64) -> f64; logf(x: f32) -> f32;
    log10(x: f64) -> f64; log10f(x: f32) -> f32;
    log1p(x: f64) -> f64; log1pf(x: f32) -> f32;
    log2(x: f64) -> f64; log2f(x: f32) -> f32;
    logb(x: f64) -> f64; logbf(x: f32) -> f32;
    ilogb(x: f64) -> c_int; ilogbf(x: f32) -> c_int;
    scalbn(x: f64, e: c_int) -> f64; scalbnf(x: f32, e: c_int) -> f32;
    scalbln(x: f64, e: c_long) -> f64; scalblnf(x: f32, e: c_long) -> f32;
    cbrt(x: f64) -> f64; cbrtf(x: f32) -> f32;
    fabs(x: f64) -> f64; fabsf(x: f32) -> f32;
    hypot(x: f64, y: f64) -> f64; hypotf(x: f32, y: f32) -> f32;
    pow(x: f64, y: f64) -> f64; powf(x: f32, y: f32) -> f32;
    sqrt(x: f64) -> f64; sqrtf(x: f32) -> f32;
    erf(x: f64) -> f64; erff(x: f32) -> f32;
    erfc(x: f64) -> f64; erfcf(x: f32) -> f32;
    tgamma(x: f64) -> f64; tgammaf(x: f32) -> f32;
    ceil(x: f64) -> f64; ceilf(x: f32) -> f32;
    floor(x: f64) -> f64; floorf(x: f32) -> f32;
    nearbyint(x: f64) -> f64; nearbyintf(x: f32) -> f32;
    rint(x: f64) -> f64; rintf(x: f32) -> f32;
    lrint(x: f64) -> c_long; lrintf(x: f32) -> c_long;
    round(x: f64) -> f64; roundf(x: f32) -> f32;
    lround(x: f64) -> c_long; lroundf(x: f32) -> c_long;
    trunc(x: f64) -> f64; truncf(x: f32) -> f32;
    roundeven(x: f64) -> f64; roundevenf(x: f32) -> f32;
    fmod(x: f64, y: f64) -> f64; fmodf(x: f32, y: f32) -> f32;
    remainder(x: f64, y: f64) -> f64; remainderf(x: f32, y: f32) -> f32;
    copysign(x: f64, y: f64) -> f64; copysignf(x: f32, y: f32) -> f32;
    nextafter(x: f64, y: f64) -> f64; nextafterf(x: f32, y: f32) -> f32;
    fdim(x: f64, y: f64) -> f64; fdimf(x: f32, y: f32) -> f32;
    fmax(x: f64, y: f64) -> f64; fmaxf(x: f32, y: f32) -> f32;
    fmin(x: f64, y: f64) -> f64; fminf(x: f32, y: f32) -> f32;
    fma(x: f64, y: f64, z: f64) -> f64; fmaf(x: f32, y: f32, z: f32) -> f32;
}

/// `frexp`: the fraction and the exponent.
pub(crate) fn frexp(x: f64) -> (f64, c_int) {
    let mut e = 0;
    // SAFETY: `e` is a live local the call writes once.
    (unsafe { frexp_raw(x, &mut e) }, e)
}

/// `frexpf`.
pub(crate) fn frexpf(x: f32) -> (f32, c_int) {
    let mut e = 0;
    // SAFETY: as in `frexp`.
    (unsafe { frexpf_raw(x, &mut e) }, e)
}

/// `modf`: the fractional and the integral part.
pub(crate) fn modf(x: f64) -> (f64, f64) {
    let mut i = 0.0;
    // SAFETY: `i` is a live local the call writes once.
    (unsafe { modf_raw(x, &mut i) }, i)
}

/// `modff`.
pub(crate) fn modff(x: f32) -> (f32, f32) {
    let mut i = 0.0;
    // SAFETY: as in `modf`.
    (unsafe { modff_raw(x, &mut i) }, i)
}

/// `remquo`: the remainder and the low bits of the quotient with its sign.
pub(crate) fn remquo(x: f64, y: f64) -> (f64, c_int) {
    let mut q = 0;
    // SAFETY: `q` is a live local the call writes once.
    (unsafe { remquo_raw(x, y, &mut q) }, q)
}

/// `remquof`.
pub(crate) fn remquof(x: f32, y: f32) -> (f32, c_int) {
    let mut q = 0;
    // SAFETY: as in `remquo`.
    (unsafe { remquof_raw(x, y, &mut q) }, q)
}

/// `lgamma_r`: `lgamma` and the sign of Γ(x), without touching the host's
/// `signgam`.
pub(crate) fn lgamma_r(x: f64) -> (f64, c_int) {
    let mut s = 0;
    // SAFETY: `s` is a live local the call writes once.
    (unsafe { lgamma_r_raw(x, &mut s) }, s)
}

/// `lgammaf_r`.
pub(crate) fn lgammaf_r(x: f32) -> (f32, c_int) {
    let mut s = 0;
    // SAFETY: as in `lgamma_r`.
    (unsafe { lgammaf_r_raw(x, &mut s) }, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_reach_libm() {
        assert_eq!(sqrt(2.0), 2f64.sqrt());
        assert_eq!(floor(-1.5), -2.0);
        assert_eq!(roundeven(2.5), 2.0);
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(modf(-3.25), (-0.25, -3.0));
        assert_eq!(remquo(7.0, 2.0), (-1.0, 4));
        assert_eq!(lgamma_r(-0.5).1, -1);
        assert_eq!(fmod(7.5, 2.0), 1.5);
    }
}
