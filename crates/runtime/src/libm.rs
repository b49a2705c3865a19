//! The host's C math library (glibc's libm), the one place the runtime
//! calls it. A native C program calls these same functions for `sin(x)`,
//! for `floor(x)` (x86-64 without SSE4.1 has no rounding instruction) and
//! for `frem` (`fmod`), so calling them gives bit-exact native results.
//!
//! The functions are looked up in `libm.so.6` with `dlopen`/`dlsym`, not
//! linked by name: a Rust program already defines `floor`, `fmod`, `fma`
//! and others itself (the `compiler_builtins` crate carries its own libm,
//! whose NaN results differ from glibc's), and the static linker would
//! bind to those. Where `libm.so.6` cannot be opened (not a glibc host),
//! the linked definitions are used.
//!
//! Every wrapper is safe: the functions are pure apart from `errno` (kept
//! for the caller: [`take_errno`]) and the floating-point status flags,
//! which no BPF program can observe, and the pointer out-parameters point
//! at locals of the wrapper.

use std::ffi::{c_int, c_long, c_void, CStr};
use std::sync::OnceLock;

thread_local! {
    /// `errno` as the last libm call left it (0: it set none).
    static LAST_ERRNO: std::cell::Cell<c_int> = const { std::cell::Cell::new(0) };
}

/// The `errno` the last libm call set (`EDOM`, `ERANGE`), or 0, and
/// forgets it: what a C program's `errno` would hold after that call.
pub(crate) fn take_errno() -> c_int {
    LAST_ERRNO.replace(0)
}

/// `libm.so.6`, opened once; null when it cannot be.
fn libm_handle() -> usize {
    static HANDLE: OnceLock<usize> = OnceLock::new();
    *HANDLE.get_or_init(|| {
        // SAFETY: dlopen of the system's libm with a NUL-terminated name;
        // it has no initialisers that could observe this process.
        unsafe { libc::dlopen(c"libm.so.6".as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) as usize }
    })
}

/// The address of `name` in glibc's libm, if there is one.
fn glibc_symbol(name: &CStr) -> Option<*mut c_void> {
    let handle = libm_handle();
    if handle == 0 {
        return None;
    }
    // SAFETY: dlsym on a live handle with a NUL-terminated name.
    let sym = unsafe { libc::dlsym(handle as *mut c_void, name.as_ptr()) };
    (!sym.is_null()).then_some(sym)
}

/// Declares libm functions and a safe wrapper of the same name for each,
/// calling glibc's definition.
macro_rules! libm {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        mod linked {
            #[allow(unused_imports)]
            use std::ffi::{c_int, c_long};
            #[link(name = "m")]
            extern "C" {
                $(pub(super) fn $name($($arg: $ty),*) -> $ret;)*
            }
        }
        $(
            #[doc = concat!("glibc's `", stringify!($name), "`.")]
            pub(crate) fn $name($($arg: $ty),*) -> $ret {
                type F = unsafe extern "C" fn($($ty),*) -> $ret;
                static FUNC: OnceLock<F> = OnceLock::new();
                let f = FUNC.get_or_init(|| {
                    let name = concat!(stringify!($name), "\0");
                    let name = CStr::from_bytes_with_nul(name.as_bytes()).unwrap_or(c"?");
                    match glibc_symbol(name) {
                        // SAFETY: glibc's function of this C signature.
                        Some(sym) => unsafe { std::mem::transmute::<*mut c_void, F>(sym) },
                        None => linked::$name,
                    }
                });
                // SAFETY: a pure libm function of plain values (see the
                // module doc); errno is this thread's.
                unsafe {
                    *libc::__errno_location() = 0;
                    let r = f($($arg),*);
                    LAST_ERRNO.set(*libc::__errno_location());
                    r
                }
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

/// The functions with pointer out-parameters, called by the wrappers below
/// with pointers to their own locals.
mod raw {
    use super::*;

    libm! {
        frexp(x: f64, exp: *mut c_int) -> f64;
        frexpf(x: f32, exp: *mut c_int) -> f32;
        modf(x: f64, int_part: *mut f64) -> f64;
        modff(x: f32, int_part: *mut f32) -> f32;
        remquo(x: f64, y: f64, quo: *mut c_int) -> f64;
        remquof(x: f32, y: f32, quo: *mut c_int) -> f32;
        lgamma_r(x: f64, sign: *mut c_int) -> f64;
        lgammaf_r(x: f32, sign: *mut c_int) -> f32;
    }
}

// The wrappers below take the out-parameter's current value, so that what
// glibc leaves unwritten (remquo's quotient for a NaN result, say) stays as
// the program had it.

/// `frexp`: the fraction and the exponent.
pub(crate) fn frexp(x: f64, mut e: c_int) -> (f64, c_int) {
    (raw::frexp(x, &mut e), e)
}

/// `frexpf`.
pub(crate) fn frexpf(x: f32, mut e: c_int) -> (f32, c_int) {
    (raw::frexpf(x, &mut e), e)
}

/// `modf`: the fractional and the integral part.
pub(crate) fn modf(x: f64, mut i: f64) -> (f64, f64) {
    (raw::modf(x, &mut i), i)
}

/// `modff`.
pub(crate) fn modff(x: f32, mut i: f32) -> (f32, f32) {
    (raw::modff(x, &mut i), i)
}

/// `remquo`: the remainder and the low bits of the quotient with its sign.
pub(crate) fn remquo(x: f64, y: f64, mut q: c_int) -> (f64, c_int) {
    (raw::remquo(x, y, &mut q), q)
}

/// `remquof`.
pub(crate) fn remquof(x: f32, y: f32, mut q: c_int) -> (f32, c_int) {
    (raw::remquof(x, y, &mut q), q)
}

/// `lgamma_r`: `lgamma` and the sign of Γ(x), without touching the host's
/// `signgam`.
pub(crate) fn lgamma_r(x: f64, mut s: c_int) -> (f64, c_int) {
    (raw::lgamma_r(x, &mut s), s)
}

/// `lgammaf_r`.
pub(crate) fn lgammaf_r(x: f32, mut s: c_int) -> (f32, c_int) {
    (raw::lgammaf_r(x, &mut s), s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_reach_libm() {
        assert_eq!(sqrt(2.0), 2f64.sqrt());
        assert_eq!(floor(-1.5), -2.0);
        assert_eq!(roundeven(2.5), 2.0);
        assert_eq!(frexp(8.0, 0), (0.5, 4));
        assert_eq!(modf(-3.25, 0.0), (-0.25, -3.0));
        assert_eq!(remquo(7.0, 2.0, 0), (-1.0, 4));
        assert_eq!(remquo(f64::INFINITY, 2.0, 77).1, 77);
        assert_eq!(lgamma_r(-0.5, 0).1, -1);
        assert_eq!(fmod(7.5, 2.0), 1.5);
    }

    #[test]
    fn glibc_is_called_not_the_libm_rust_links() {
        // glibc's floor makes a signalling NaN quiet; compiler_builtins'
        // floor (which a plain `extern "C" { fn floor }` would bind to)
        // returns it unchanged.
        assert_ne!(libm_handle(), 0, "libm.so.6 not found");
        let snan = f64::from_bits(0x7ff0_0000_0000_0001);
        assert_eq!(floor(snan).to_bits(), 0x7ff8_0000_0000_0001);
    }
}
