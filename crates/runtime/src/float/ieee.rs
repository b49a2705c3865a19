//! IEEE-754 arithmetic on bit patterns, with exactly the results native
//! x86-64 code (SSE2, as clang 19 compiles LLVM IR for it) produces.
//!
//! Rust's float operations give IEEE results for every operation whose
//! result is a number, but leave the bits of a NaN result unspecified (the
//! optimiser may even swap the operands of `a + b`). So every NaN result is
//! made here, by x86-64's rules:
//!
//! - an operation with a NaN operand returns the first NaN operand, made
//!   quiet (SSE's rule: `addsd` keeps its first source);
//! - an invalid operation (∞ − ∞, 0 × ∞, 0 / 0, √−1) returns the "default
//!   NaN", which on x86 has the sign bit set (`0xfff8000000000000`);
//! - a conversion to an integer that is out of range or NaN returns the
//!   "integer indefinite" `0x8000000000000000` (`cvttsd2si`).
//!
//! Min and max follow the instruction sequences LLVM 19 emits for
//! `llvm.minnum` (and friends) on x86-64, which return NaN operands
//! unchanged.

/// Generates the operations of one format (`f64` or `f32`).
macro_rules! ieee_format {
    ($module:ident, $float:ident, $bits:ident, $quiet:expr, $default_nan:expr) => {
        pub(crate) mod $module {
            /// The quiet bit of a NaN.
            pub(crate) const QUIET: $bits = $quiet;
            /// The NaN an invalid operation produces on x86.
            pub(crate) const DEFAULT_NAN: $bits = $default_nan;
            const SIGN: $bits = 1 << ($bits::BITS - 1);
            /// 2^127, exact in both formats.
            const TWO_127: $float = (1u128 << 127) as $float;

            fn is_nan(a: $bits) -> bool {
                $float::from_bits(a).is_nan()
            }

            /// A result computed by Rust, with x86's NaN.
            fn result(r: $float) -> $bits {
                if r.is_nan() {
                    DEFAULT_NAN
                } else {
                    r.to_bits()
                }
            }

            /// SSE's rule for a binary operation `a op b`.
            fn binary(a: $bits, b: $bits, op: fn($float, $float) -> $float) -> $bits {
                if is_nan(a) {
                    a | QUIET
                } else if is_nan(b) {
                    b | QUIET
                } else {
                    result(op($float::from_bits(a), $float::from_bits(b)))
                }
            }

            /// `fadd`.
            pub(crate) fn add(a: $bits, b: $bits) -> $bits {
                binary(a, b, |x, y| x + y)
            }

            /// `fsub`.
            pub(crate) fn sub(a: $bits, b: $bits) -> $bits {
                binary(a, b, |x, y| x - y)
            }

            /// `fmul`.
            pub(crate) fn mul(a: $bits, b: $bits) -> $bits {
                binary(a, b, |x, y| x * y)
            }

            /// `fdiv`.
            pub(crate) fn div(a: $bits, b: $bits) -> $bits {
                binary(a, b, |x, y| x / y)
            }

            /// `llvm.sqrt` (`sqrtsd`).
            pub(crate) fn sqrt(a: $bits) -> $bits {
                if is_nan(a) {
                    a | QUIET
                } else {
                    result($float::from_bits(a).sqrt())
                }
            }

            /// `fcmp` with LLVM's predicate number `pred` (0..=15); `None`
            /// for any other number.
            pub(crate) fn cmp(a: $bits, b: $bits, pred: u64) -> Option<bool> {
                let (x, y) = ($float::from_bits(a), $float::from_bits(b));
                let unordered = x.is_nan() || y.is_nan();
                let ordered = !unordered;
                Some(match pred {
                    0 => false,
                    1 => x == y,
                    2 => x > y,
                    3 => x >= y,
                    4 => x < y,
                    5 => x <= y,
                    6 => ordered && x != y,
                    7 => ordered,
                    8 => unordered,
                    9 => unordered || x == y,
                    10 => unordered || x > y,
                    11 => unordered || x >= y,
                    12 => unordered || x < y,
                    13 => unordered || x <= y,
                    14 => unordered || x != y,
                    15 => true,
                    _ => return None,
                })
            }

            /// `minsd`/`maxsd`'s choice: `p` if `p` is "better" than `q`
            /// by `better`, else `q` (so `q` when either is NaN).
            fn pick(p: $bits, q: $bits, better: fn($float, $float) -> bool) -> $bits {
                if better($float::from_bits(p), $float::from_bits(q)) {
                    p
                } else {
                    q
                }
            }

            /// `llvm.minnum`: the other operand when `a` is NaN.
            pub(crate) fn minnum(a: $bits, b: $bits) -> $bits {
                if is_nan(a) {
                    b
                } else {
                    pick(b, a, |x, y| x < y)
                }
            }

            /// `llvm.maxnum`.
            pub(crate) fn maxnum(a: $bits, b: $bits) -> $bits {
                if is_nan(a) {
                    b
                } else {
                    pick(b, a, |x, y| x > y)
                }
            }

            /// `llvm.minimum`: NaN wins, and −0 is less than +0.
            pub(crate) fn minimum(a: $bits, b: $bits) -> $bits {
                let (p, q) = if a & SIGN != 0 { (b, a) } else { (a, b) };
                if is_nan(p) {
                    p
                } else {
                    pick(p, q, |x, y| x < y)
                }
            }

            /// `llvm.maximum`.
            pub(crate) fn maximum(a: $bits, b: $bits) -> $bits {
                let (p, q) = if a & SIGN != 0 { (a, b) } else { (b, a) };
                if is_nan(p) {
                    p
                } else {
                    pick(p, q, |x, y| x > y)
                }
            }

            /// `cvttsd2si` (`cvttss2si`) to 64 bits: truncation, or the
            /// integer indefinite for NaN and values out of range.
            pub(crate) fn to_i64(a: $bits) -> u64 {
                let x = $float::from_bits(a);
                // -2^63 is exact in both formats; 2^63 is the first value out.
                if (-9223372036854775808.0..9223372036854775808.0).contains(&x) {
                    x as i64 as u64
                } else {
                    1 << 63
                }
            }

            /// `fptoui` to 64 bits as clang lowers it: `c1 = cvtt(x)`,
            /// `c2 = cvtt(x - 2^63)`, result `c1 | (c2 & (c1 >> 63))`. In
            /// range that is the truncation; out of range it is `cvtt(x)`.
            pub(crate) fn to_u64(a: $bits) -> u64 {
                let c1 = to_i64(a);
                let shifted = $float::from_bits(a) - 9223372036854775808.0;
                let c2 = to_i64(shifted.to_bits());
                c1 | (c2 & ((c1 as i64 >> 63) as u64))
            }

            /// `sitofp` from 64 bits (correctly rounded, like `cvtsi2sd`).
            pub(crate) fn from_i64(x: u64) -> $bits {
                (x as i64 as $float).to_bits()
            }

            /// `uitofp` from 64 bits (correctly rounded).
            pub(crate) fn from_u64(x: u64) -> $bits {
                (x as $float).to_bits()
            }

            /// `sitofp` from 128 bits (`__floattidf`: correctly rounded).
            pub(crate) fn from_i128(x: i128) -> $bits {
                (x as $float).to_bits()
            }

            /// `uitofp` from 128 bits.
            pub(crate) fn from_u128(x: u128) -> $bits {
                (x as $float).to_bits()
            }

            /// `fptosi` to 128 bits: the truncation, or `i128::MIN` (the
            /// 128-bit integer indefinite) for NaN and values out of range.
            pub(crate) fn to_i128(a: $bits) -> i128 {
                let x = $float::from_bits(a);
                if (-TWO_127..TWO_127).contains(&x) {
                    x as i128
                } else {
                    i128::MIN
                }
            }

            /// `fptoui` to 128 bits: the truncation in range, else what
            /// `to_i128` gives (as for 64 bits, where out-of-range unsigned
            /// conversions give the signed instruction's result).
            pub(crate) fn to_u128(a: $bits) -> u128 {
                let x = $float::from_bits(a);
                // 2^128 (infinity as f32, above every finite float).
                if x > -1.0 && x < TWO_127 * 2.0 {
                    x as u128
                } else {
                    to_i128(a) as u128
                }
            }
        }
    };
}

ieee_format!(f64, f64, u64, 0x0008_0000_0000_0000, 0xfff8_0000_0000_0000);
ieee_format!(f32, f32, u32, 0x0040_0000, 0xffc0_0000);

/// `fpext float -> double` (`cvtss2sd`): exact; a NaN keeps its sign and
/// payload and becomes quiet.
pub(crate) fn f32_to_f64(a: u32) -> u64 {
    let x = f32::from_bits(a);
    if x.is_nan() {
        let sign = u64::from(a >> 31) << 63;
        let payload = u64::from(a & 0x007f_ffff) << 29;
        sign | 0x7ff0_0000_0000_0000 | payload | f64::QUIET
    } else {
        f64::from(x).to_bits()
    }
}

/// `fptrunc double -> float` (`cvtsd2ss`): rounded to nearest; a NaN keeps
/// its sign and the top of its payload and becomes quiet.
pub(crate) fn f64_to_f32(a: u64) -> u32 {
    let x = f64::from_bits(a);
    if x.is_nan() {
        let sign = ((a >> 63) as u32) << 31;
        let payload = ((a & 0x000f_ffff_ffff_ffff) >> 29) as u32;
        sign | 0x7f80_0000 | payload | f32::QUIET
    } else {
        (x as f32).to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: u64 = 0x7ff0_0000_0000_0000;
    const SNAN: u64 = 0x7ff0_0000_0000_0001;
    const QNAN: u64 = 0x7ff8_0000_0000_0002;

    #[test]
    fn nan_results_follow_sse() {
        assert_eq!(f64::add(SNAN, QNAN), SNAN | f64::QUIET);
        assert_eq!(f64::add(1f64.to_bits(), QNAN), QNAN);
        assert_eq!(f64::sub(INF, INF), f64::DEFAULT_NAN);
        assert_eq!(f64::mul(0, INF), f64::DEFAULT_NAN);
        assert_eq!(f64::div(0, 0), f64::DEFAULT_NAN);
        assert_eq!(f64::sqrt((-1f64).to_bits()), f64::DEFAULT_NAN);
        assert_eq!(f64::sqrt((-0f64).to_bits()), (-0f64).to_bits());
        assert_eq!(f32::add(0x7f80_0001, 0), 0x7fc0_0001);
    }

    #[test]
    fn comparisons_know_unordered() {
        let (one, two) = (1f64.to_bits(), 2f64.to_bits());
        assert_eq!(f64::cmp(one, two, 4), Some(true));
        assert_eq!(f64::cmp(one, QNAN, 4), Some(false));
        assert_eq!(f64::cmp(one, QNAN, 12), Some(true));
        assert_eq!(f64::cmp(QNAN, QNAN, 14), Some(true));
        assert_eq!(f64::cmp(QNAN, QNAN, 6), Some(false));
        assert_eq!(f64::cmp(0, (-0f64).to_bits(), 1), Some(true));
        assert_eq!(f64::cmp(one, one, 16), None);
    }

    #[test]
    fn conversions_out_of_range_give_the_integer_indefinite() {
        assert_eq!(f64::to_i64(1e19f64.to_bits()), 1 << 63);
        assert_eq!(f64::to_i64(QNAN), 1 << 63);
        assert_eq!(f64::to_i64((-2.9f64).to_bits()), -2i64 as u64);
        assert_eq!(f64::to_u64(1e19f64.to_bits()), 10_000_000_000_000_000_000);
        assert_eq!(f64::to_u64(2e19f64.to_bits()), 1 << 63);
        assert_eq!(f64::to_u64((-1f64).to_bits()), u64::MAX);
        assert_eq!(f64::to_i128(1e40f64.to_bits()), i128::MIN);
        assert_eq!(f64::to_u128(3e38f64.to_bits()), 3e38f64 as u128);
        assert_eq!(f64::to_u128((-1f64).to_bits()), u128::MAX);
    }

    #[test]
    fn min_and_max_follow_llvm_lowering() {
        let (pz, nz) = (0u64, (-0f64).to_bits());
        assert_eq!(f64::minnum(QNAN, 1), 1);
        assert_eq!(f64::minnum(1, QNAN), 1);
        assert_eq!(f64::minnum(pz, nz), pz);
        assert_eq!(f64::minimum(pz, nz), nz);
        assert_eq!(f64::minimum(nz, pz), nz);
        assert_eq!(f64::maximum(nz, pz), pz);
        assert_eq!(f64::maximum(1, SNAN), SNAN);
    }

    #[test]
    fn format_changes_keep_nan_payloads() {
        assert_eq!(f32_to_f64(0xff80_0001), 0xfff8_0000_2000_0000);
        assert_eq!(f64_to_f32(0x7ff0_0000_2000_0000), 0x7fc0_0001);
        assert_eq!(f64_to_f32(1e300f64.to_bits()), 0x7f80_0000);
    }
}
