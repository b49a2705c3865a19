//! The scalar domain: a tristate number together with unsigned and signed
//! 64-bit intervals, kept consistent with each other (like the Linux
//! verifier's `reg_bounds_sync`). Every operation over-approximates: the
//! result contains each concrete result for every pair of concrete
//! operands the inputs contain, with the VM's semantics (division by zero
//! gives 0, remainder by zero keeps the dividend, shift counts are masked).

pub use crate::compare::Cmp;
use crate::tnum::Tnum;
use std::fmt;

/// A set of 64-bit values: the values in `t` within both intervals.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scalar {
    pub t: Tnum,
    pub umin: u64,
    pub umax: u64,
    pub smin: i64,
    pub smax: i64,
}

const M32: u64 = u32::MAX as u64;

/// Where widening moves a growing unsigned bound.
const UNSIGNED_STEPS: [u64; 8] = [
    0,
    1,
    0xff,
    0xffff,
    i32::MAX as u64,
    M32,
    i64::MAX as u64,
    u64::MAX,
];
/// Where widening moves a growing signed bound.
const SIGNED_STEPS: [i64; 9] = [
    i64::MIN,
    i32::MIN as i64,
    -1,
    0,
    1,
    0xffff,
    i32::MAX as i64,
    M32 as i64,
    i64::MAX,
];

// `add`, `sub`, ... are abstract operations with wrap-around semantics, not
// operator overloads.
#[allow(clippy::should_implement_trait)]
impl Scalar {
    /// Any 64-bit value.
    pub const TOP: Scalar = Scalar {
        t: Tnum::UNKNOWN,
        umin: 0,
        umax: u64::MAX,
        smin: i64::MIN,
        smax: i64::MAX,
    };

    /// Exactly `v`.
    pub const fn constant(v: u64) -> Scalar {
        Scalar {
            t: Tnum::constant(v),
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
        }
    }

    /// Any value of `lo..=hi` (unsigned).
    pub fn urange(lo: u64, hi: u64) -> Scalar {
        Scalar {
            umin: lo,
            umax: hi,
            ..Scalar::TOP
        }
        .sync()
    }

    /// Any value of `lo..=hi` (signed).
    pub fn srange(lo: i64, hi: i64) -> Scalar {
        Scalar {
            smin: lo,
            smax: hi,
            ..Scalar::TOP
        }
        .sync()
    }

    /// Any value with these known bits.
    pub fn from_tnum(t: Tnum) -> Scalar {
        Scalar { t, ..Scalar::TOP }.sync()
    }

    /// Any value of `bytes` bytes, zero-extended.
    pub fn of_width(bytes: u32) -> Scalar {
        if bytes >= 8 {
            Scalar::TOP
        } else {
            Scalar::urange(0, (1u64 << (bytes * 8)) - 1)
        }
    }

    /// The value, if there is only one.
    pub fn as_const(self) -> Option<u64> {
        if self.t.is_const() {
            Some(self.t.value)
        } else if self.umin == self.umax {
            Some(self.umin)
        } else {
            None
        }
    }

    /// True if `v` is in the set.
    pub fn contains(self, v: u64) -> bool {
        self.t.contains(v)
            && self.umin <= v
            && v <= self.umax
            && self.smin <= v as i64
            && v as i64 <= self.smax
    }

    /// True if nothing is known.
    pub fn is_top(self) -> bool {
        self == Scalar::TOP
    }

    /// Makes the parts agree with each other; `None` if no value fits all.
    pub fn normalize(self) -> Option<Scalar> {
        let mut s = self;
        for _ in 0..2 {
            s.umin = s.umin.max(s.t.min());
            s.umax = s.umax.min(s.t.max());
            s.smin = s.smin.max(s.t.smin());
            s.smax = s.smax.min(s.t.smax());
            if s.umin > s.umax || s.smin > s.smax {
                return None;
            }
            // An unsigned range inside one half of the number line is also
            // a signed range, and a signed range not crossing zero an
            // unsigned one.
            if (s.umin as i64) <= (s.umax as i64) {
                s.smin = s.smin.max(s.umin as i64);
                s.smax = s.smax.min(s.umax as i64);
            }
            if (s.smin as u64) <= (s.smax as u64) {
                s.umin = s.umin.max(s.smin as u64);
                s.umax = s.umax.min(s.smax as u64);
            }
            if s.umin > s.umax || s.smin > s.smax {
                return None;
            }
            let r = Tnum::range(s.umin, s.umax);
            if !s.t.meets(r) {
                return None;
            }
            s.t = s.t.intersect(r);
        }
        Some(s)
    }

    /// [`Scalar::normalize`] for results of operations, which are never
    /// empty when their operands are not.
    fn sync(self) -> Scalar {
        self.normalize().unwrap_or(Scalar::TOP)
    }

    /// Every value of either.
    pub fn join(self, b: Scalar) -> Scalar {
        Scalar {
            t: self.t.union(b.t),
            umin: self.umin.min(b.umin),
            umax: self.umax.max(b.umax),
            smin: self.smin.min(b.smin),
            smax: self.smax.max(b.smax),
        }
        .sync()
    }

    /// True if every value of `self` is in `b` (as far as the parts tell).
    pub fn leq(self, b: Scalar) -> bool {
        self.t.within(b.t)
            && self.umin >= b.umin
            && self.umax <= b.umax
            && self.smin >= b.smin
            && self.smax <= b.smax
    }

    /// `self` joined with `next`, with bounds that moved pushed out to the
    /// next of a few fixed steps, so that loops reach a fixpoint.
    pub fn widen(self, next: Scalar) -> Scalar {
        let j = self.join(next);
        let up_u = |v: u64| {
            *UNSIGNED_STEPS
                .iter()
                .find(|s| **s >= v)
                .unwrap_or(&u64::MAX)
        };
        let down_u = |v: u64| *UNSIGNED_STEPS.iter().rev().find(|s| **s <= v).unwrap_or(&0);
        let up_s = |v: i64| *SIGNED_STEPS.iter().find(|s| **s >= v).unwrap_or(&i64::MAX);
        let down_s = |v: i64| {
            *SIGNED_STEPS
                .iter()
                .rev()
                .find(|s| **s <= v)
                .unwrap_or(&i64::MIN)
        };
        Scalar {
            t: j.t,
            umin: if j.umin < self.umin {
                down_u(j.umin)
            } else {
                j.umin
            },
            umax: if j.umax > self.umax {
                up_u(j.umax)
            } else {
                j.umax
            },
            smin: if j.smin < self.smin {
                down_s(j.smin)
            } else {
                j.smin
            },
            smax: if j.smax > self.smax {
                up_s(j.smax)
            } else {
                j.smax
            },
        }
        .sync()
    }

    // ---- arithmetic (64-bit) ----

    pub fn add(self, b: Scalar) -> Scalar {
        let mut r = Scalar {
            t: self.t.add(b.t),
            ..Scalar::TOP
        };
        match (self.umin.checked_add(b.umin), self.umax.checked_add(b.umax)) {
            (Some(lo), Some(hi)) => (r.umin, r.umax) = (lo, hi),
            // Every sum wraps: the wrapped sums are still ordered.
            (None, None) => {
                (r.umin, r.umax) = (
                    self.umin.wrapping_add(b.umin),
                    self.umax.wrapping_add(b.umax),
                )
            }
            _ => {}
        }
        if let (Some(lo), Some(hi)) = (self.smin.checked_add(b.smin), self.smax.checked_add(b.smax))
        {
            (r.smin, r.smax) = (lo, hi);
        }
        r.sync()
    }

    pub fn sub(self, b: Scalar) -> Scalar {
        let mut r = Scalar {
            t: self.t.sub(b.t),
            ..Scalar::TOP
        };
        if self.umin >= b.umax {
            (r.umin, r.umax) = (self.umin - b.umax, self.umax - b.umin);
        } else if self.umax < b.umin {
            (r.umin, r.umax) = (
                self.umin.wrapping_sub(b.umax),
                self.umax.wrapping_sub(b.umin),
            );
        }
        if let (Some(lo), Some(hi)) = (self.smin.checked_sub(b.smax), self.smax.checked_sub(b.smin))
        {
            (r.smin, r.smax) = (lo, hi);
        }
        r.sync()
    }

    pub fn neg(self) -> Scalar {
        Scalar::constant(0).sub(self)
    }

    pub fn mul(self, b: Scalar) -> Scalar {
        let mut r = Scalar {
            t: self.t.mul(b.t),
            ..Scalar::TOP
        };
        if let Some(hi) = self.umax.checked_mul(b.umax) {
            (r.umin, r.umax) = (self.umin * b.umin, hi);
        }
        let products = [
            self.smin.checked_mul(b.smin),
            self.smin.checked_mul(b.smax),
            self.smax.checked_mul(b.smin),
            self.smax.checked_mul(b.smax),
        ];
        if products.iter().all(Option::is_some) {
            let p = products.map(Option::unwrap);
            r.smin = *p.iter().min().unwrap_or(&i64::MIN);
            r.smax = *p.iter().max().unwrap_or(&i64::MAX);
        }
        r.sync()
    }

    /// Unsigned division; `x / 0 == 0`.
    pub fn udiv(self, b: Scalar) -> Scalar {
        if let (Some(x), Some(y)) = (self.as_const(), b.as_const()) {
            return Scalar::constant(x.checked_div(y).unwrap_or(0));
        }
        match self.umax.checked_div(b.umin) {
            Some(hi) => Scalar::urange(self.umin / b.umax, hi),
            None => Scalar::urange(0, self.umax),
        }
    }

    /// Unsigned remainder; `x % 0 == x`.
    pub fn umod(self, b: Scalar) -> Scalar {
        if let (Some(x), Some(y)) = (self.as_const(), b.as_const()) {
            return Scalar::constant(x.checked_rem(y).unwrap_or(x));
        }
        if self.umax < b.umin {
            return self;
        }
        if b.umin > 0 {
            Scalar::urange(0, self.umax.min(b.umax - 1))
        } else {
            Scalar::urange(0, self.umax)
        }
    }

    /// Signed division; `x / 0 == 0`, `MIN / -1 == MIN`.
    pub fn sdiv(self, b: Scalar) -> Scalar {
        if let (Some(x), Some(y)) = (self.as_const(), b.as_const()) {
            let v = if y == 0 {
                0
            } else {
                (x as i64).wrapping_div(y as i64) as u64
            };
            return Scalar::constant(v);
        }
        match b.as_const().map(|c| c as i64) {
            Some(c) if c > 0 => Scalar::srange(self.smin / c, self.smax / c),
            Some(c) if c < -1 => Scalar::srange(self.smax / c, self.smin / c),
            _ => Scalar::TOP,
        }
    }

    /// Signed remainder (sign of the dividend); `x % 0 == x`.
    pub fn smod(self, b: Scalar) -> Scalar {
        if let (Some(x), Some(y)) = (self.as_const(), b.as_const()) {
            let v = if y == 0 {
                x
            } else {
                (x as i64).wrapping_rem(y as i64) as u64
            };
            return Scalar::constant(v);
        }
        match b.as_const().map(|c| (c as i64).unsigned_abs()) {
            Some(m) if m > 0 && m <= i64::MAX as u64 => {
                let m = m as i64;
                if self.smin >= 0 {
                    Scalar::srange(0, self.smax.min(m - 1))
                } else if self.smax <= 0 {
                    Scalar::srange(self.smin.max(-(m - 1)), 0)
                } else {
                    Scalar::srange(-(m - 1), m - 1)
                }
            }
            _ => Scalar::TOP,
        }
    }

    pub fn and(self, b: Scalar) -> Scalar {
        let t = self.t.and(b.t);
        Scalar {
            t,
            umin: t.min(),
            umax: self.umax.min(b.umax),
            ..Scalar::TOP
        }
        .sync()
    }

    pub fn or(self, b: Scalar) -> Scalar {
        let t = self.t.or(b.t);
        Scalar {
            t,
            umin: self.umin.max(b.umin),
            umax: t.max(),
            ..Scalar::TOP
        }
        .sync()
    }

    pub fn xor(self, b: Scalar) -> Scalar {
        Scalar::from_tnum(self.t.xor(b.t))
    }

    /// Left shift; the count is taken modulo 64.
    pub fn lsh(self, b: Scalar) -> Scalar {
        let b = b.and(Scalar::constant(63));
        if let Some(k) = b.as_const() {
            let k = k as u32;
            let mut r = Scalar::from_tnum(self.t.lshift(k));
            if self.umax.leading_zeros() >= k {
                r.umin = r.umin.max(self.umin << k);
                r.umax = r.umax.min(self.umax << k);
            }
            return r.sync();
        }
        if self.umax.leading_zeros() as u64 >= b.umax {
            Scalar::urange(self.umin << b.umin, self.umax << b.umax)
        } else {
            Scalar::TOP
        }
    }

    /// Logical right shift; the count is taken modulo 64.
    pub fn rsh(self, b: Scalar) -> Scalar {
        let b = b.and(Scalar::constant(63));
        if let Some(k) = b.as_const() {
            let k = k as u32;
            let mut r = Scalar::from_tnum(self.t.rshift(k));
            r.umin = r.umin.max(self.umin >> k);
            r.umax = r.umax.min(self.umax >> k);
            return r.sync();
        }
        Scalar::urange(self.umin >> b.umax, self.umax >> b.umin)
    }

    /// Arithmetic right shift; the count is taken modulo 64.
    pub fn arsh(self, b: Scalar) -> Scalar {
        let b = b.and(Scalar::constant(63));
        if let Some(k) = b.as_const() {
            let k = k as u32;
            let mut r = Scalar::from_tnum(self.t.arshift(k));
            r.smin = r.smin.max(self.smin >> k);
            r.smax = r.smax.min(self.smax >> k);
            return r.sync();
        }
        let (lo, hi) = (b.umin as u32, b.umax as u32);
        Scalar::srange(
            (self.smin >> lo).min(self.smin >> hi),
            (self.smax >> lo).max(self.smax >> hi),
        )
    }

    // ---- width changes ----

    /// The low 32 bits, zero-extended (the result of every ALU32 op).
    pub fn zext32(self) -> Scalar {
        if self.umax <= M32 {
            return self;
        }
        let t = self.t.cast(4);
        if self.umin >> 32 == self.umax >> 32 {
            Scalar {
                t,
                umin: self.umin & M32,
                umax: self.umax & M32,
                ..Scalar::TOP
            }
            .sync()
        } else {
            Scalar {
                t,
                umax: M32,
                ..Scalar::TOP
            }
            .sync()
        }
    }

    /// The low `bytes` bytes, zero-extended.
    pub fn truncate(self, bytes: u32) -> Scalar {
        if bytes >= 8 {
            return self;
        }
        if bytes == 4 {
            return self.zext32();
        }
        let max = (1u64 << (bytes * 8)) - 1;
        if self.umax <= max {
            return self;
        }
        Scalar {
            t: self.t.cast(bytes),
            umax: max,
            ..Scalar::TOP
        }
        .sync()
    }

    /// The low `bytes` bytes, sign-extended to 64 bits.
    pub fn sext(self, bytes: u32) -> Scalar {
        if bytes >= 8 {
            return self;
        }
        let bits = bytes * 8;
        let half = 1i64 << (bits - 1);
        if self.smin >= -half && self.smax < half {
            return self;
        }
        let low = self.t.cast(bytes);
        let sign = 1u64 << (bits - 1);
        let upper = !((1u64 << bits) - 1);
        let t = if low.mask & sign != 0 {
            Tnum {
                value: low.value,
                mask: low.mask | upper,
            }
        } else if low.value & sign != 0 {
            Tnum {
                value: low.value | upper,
                mask: low.mask,
            }
        } else {
            low
        };
        Scalar {
            t,
            smin: -half,
            smax: half - 1,
            ..Scalar::TOP
        }
        .sync()
    }

    /// Byte swap of the low `bytes` bytes (the rest become zero). The
    /// known bits move with their bytes.
    pub fn bswap(self, bytes: u32) -> Scalar {
        let swap = |v: u64| match bytes {
            2 => (v as u16).swap_bytes() as u64,
            4 => (v as u32).swap_bytes() as u64,
            _ => v.swap_bytes(),
        };
        let low = self.t.cast(bytes);
        Scalar::from_tnum(Tnum {
            value: swap(low.value),
            mask: swap(low.mask),
        })
    }
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Scalar {
    /// `7`, `0..=255`, `-8..=7`, or `any` — the most telling form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.as_const() {
            return if (c as i64) < 0 && (c as i64) > -4096 {
                write!(f, "{}", c as i64)
            } else if c > 0xffff {
                write!(f, "{c:#x}")
            } else {
                write!(f, "{c}")
            };
        }
        if self.is_top() {
            return f.write_str("any");
        }
        let unsigned_tight = self.umax != u64::MAX || self.umin != 0;
        let signed_tight = self.smin != i64::MIN || self.smax != i64::MAX;
        let show_u = |f: &mut fmt::Formatter<'_>, v: u64| {
            if v > 0xffff {
                write!(f, "{v:#x}")
            } else {
                write!(f, "{v}")
            }
        };
        if unsigned_tight && (self.umax <= i64::MAX as u64 || !signed_tight) {
            show_u(f, self.umin)?;
            f.write_str("..=")?;
            show_u(f, self.umax)?;
        } else if signed_tight {
            write!(f, "{}..={}", self.smin, self.smax)?;
        } else {
            f.write_str("any")?;
        }
        if self.t.mask != u64::MAX && self.t != Tnum::range(self.umin, self.umax) {
            let align = self
                .t
                .mask
                .trailing_zeros()
                .min(self.t.value.trailing_zeros());
            if align > 0 && align < 64 && self.t.value == 0 {
                write!(f, " (multiple of {})", 1u64 << align)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A scalar and a value it contains: a range around the value,
    /// sometimes with known low bits.
    fn member() -> impl Strategy<Value = (Scalar, u64)> {
        (
            any::<u64>(),
            0u64..300,
            0u64..300,
            any::<bool>(),
            any::<u8>(),
        )
            .prop_map(|(v, below, above, signed, kind)| {
                let v = match kind % 4 {
                    0 => v % 64,
                    1 => (v as i64 % 64) as u64,
                    2 => v & 0xffff_ffff,
                    _ => v,
                };
                let s = if kind % 7 == 0 {
                    Scalar::TOP
                } else if signed {
                    let lo = (v as i64).saturating_sub(below as i64);
                    let hi = (v as i64).saturating_add(above as i64);
                    Scalar::srange(lo, hi)
                } else {
                    Scalar::urange(v.saturating_sub(below), v.saturating_add(above))
                };
                (s, v)
            })
    }

    proptest! {
        #[test]
        fn arithmetic_contains_every_concrete_result((a, x) in member(), (b, y) in member()) {
            prop_assert!(a.contains(x) && b.contains(y));
            prop_assert!(a.add(b).contains(x.wrapping_add(y)));
            prop_assert!(a.sub(b).contains(x.wrapping_sub(y)));
            prop_assert!(a.mul(b).contains(x.wrapping_mul(y)));
            prop_assert!(a.udiv(b).contains(x.checked_div(y).unwrap_or(0)));
            prop_assert!(a.umod(b).contains(x.checked_rem(y).unwrap_or(x)));
            let sd = if y == 0 { 0 } else { (x as i64).wrapping_div(y as i64) as u64 };
            prop_assert!(a.sdiv(b).contains(sd));
            let sm = if y == 0 { x } else { (x as i64).wrapping_rem(y as i64) as u64 };
            prop_assert!(a.smod(b).contains(sm));
            prop_assert!(a.and(b).contains(x & y));
            prop_assert!(a.or(b).contains(x | y));
            prop_assert!(a.xor(b).contains(x ^ y));
            prop_assert!(a.lsh(b).contains(x.wrapping_shl(y as u32)));
            prop_assert!(a.rsh(b).contains(x.wrapping_shr(y as u32)));
            prop_assert!(a.arsh(b).contains((x as i64).wrapping_shr(y as u32) as u64));
            prop_assert!(a.neg().contains(x.wrapping_neg()));
            prop_assert!(a.zext32().contains(x as u32 as u64));
            prop_assert!(a.truncate(2).contains(x as u16 as u64));
            prop_assert!(a.sext(1).contains(x as i8 as i64 as u64));
            prop_assert!(a.sext(2).contains(x as i16 as i64 as u64));
            prop_assert!(a.sext(4).contains(x as i32 as i64 as u64));
            prop_assert!(a.bswap(2).contains((x as u16).swap_bytes() as u64));
            prop_assert!(a.bswap(8).contains(x.swap_bytes()));
            prop_assert!(a.join(b).contains(x) && a.join(b).contains(y));
            prop_assert!(a.widen(b).contains(x) && a.widen(b).contains(y));
            prop_assert!(a.leq(a.join(b)));
        }

        #[test]
        fn refinement_keeps_every_pair_that_satisfies_it((a, x) in member(), (b, y) in member(), which in 0usize..12) {
            use Cmp::*;
            let cmp = [Eq, Ne, Ugt, Uge, Ult, Ule, Sgt, Sge, Slt, Sle, Set, NotSet][which];
            let r = Scalar::refine(cmp, a, b);
            if cmp.holds(x, y) {
                let (ra, rb) = r.expect("a satisfying pair exists");
                prop_assert!(ra.contains(x), "{cmp:?} {a} {b} lost {x}");
                prop_assert!(rb.contains(y), "{cmp:?} {a} {b} lost {y}");
            }
        }
    }

    #[test]
    fn bounds_and_bits_agree() {
        let s = Scalar::urange(0, 255).and(Scalar::constant(0xf0));
        assert_eq!((s.umin, s.umax), (0, 0xf0));
        let s = Scalar::urange(3, 3);
        assert_eq!(s.as_const(), Some(3));
        assert_eq!(
            Scalar::refine(Cmp::Ugt, Scalar::constant(1), Scalar::constant(2)),
            None
        );
        let (i, _) = Scalar::refine(Cmp::Ult, Scalar::TOP, Scalar::constant(400)).unwrap();
        assert_eq!((i.umin, i.umax, i.smin, i.smax), (0, 399, 0, 399));
    }
}
