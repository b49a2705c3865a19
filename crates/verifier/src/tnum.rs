//! Tristate numbers: what is known about each bit of a 64-bit value.
//!
//! A [`Tnum`] is a pair (`value`, `mask`): bits set in `mask` are unknown,
//! the others equal the bit of `value` (whose unknown bits are zero). This
//! is the domain of the Linux verifier's `kernel/bpf/tnum.c`; the
//! operations below compute, for each operation, a tnum containing every
//! concrete result of every pair of concrete operands.

use std::fmt;

/// Known and unknown bits of a 64-bit value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// The known bits (unknown bits are 0 here).
    pub value: u64,
    /// The unknown bits.
    pub mask: u64,
}

#[allow(clippy::should_implement_trait)]
impl Tnum {
    /// Nothing known.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// Exactly `v`.
    pub const fn constant(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// The smallest tnum containing every value of `min..=max`.
    pub fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits >= 64 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// True if every bit is known.
    pub fn is_const(self) -> bool {
        self.mask == 0
    }

    /// True if `v` is one of the values described.
    pub fn contains(self, v: u64) -> bool {
        (v & !self.mask) == self.value
    }

    /// The smallest value described (unsigned).
    pub fn min(self) -> u64 {
        self.value
    }

    /// The largest value described (unsigned).
    pub fn max(self) -> u64 {
        self.value | self.mask
    }

    /// The smallest value described, as a signed number.
    pub fn smin(self) -> i64 {
        const SIGN: u64 = 1 << 63;
        if self.mask & SIGN != 0 {
            (self.value | SIGN) as i64
        } else {
            self.value as i64
        }
    }

    /// The largest value described, as a signed number.
    pub fn smax(self) -> i64 {
        const SIGN: u64 = 1 << 63;
        if self.mask & SIGN != 0 {
            ((self.value | self.mask) & !SIGN) as i64
        } else {
            (self.value | self.mask) as i64
        }
    }

    pub fn lshift(self, shift: u32) -> Tnum {
        Tnum {
            value: self.value.wrapping_shl(shift),
            mask: self.mask.wrapping_shl(shift),
        }
    }

    pub fn rshift(self, shift: u32) -> Tnum {
        Tnum {
            value: self.value.wrapping_shr(shift),
            mask: self.mask.wrapping_shr(shift),
        }
    }

    /// Arithmetic right shift of the 64-bit value.
    pub fn arshift(self, shift: u32) -> Tnum {
        Tnum {
            value: ((self.value as i64).wrapping_shr(shift)) as u64,
            mask: ((self.mask as i64).wrapping_shr(shift)) as u64,
        }
    }

    pub fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    pub fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    pub fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    pub fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    pub fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Multiplication by long multiplication over the bits of `self`.
    pub fn mul(self, b: Tnum) -> Tnum {
        let acc_v = self.value.wrapping_mul(b.value);
        let mut acc_m = Tnum::constant(0);
        let mut a = self;
        let mut b = b;
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.add(Tnum {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.add(Tnum {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        Tnum::constant(acc_v).add(acc_m)
    }

    /// Values described by both (the caller checks [`Tnum::meets`] first).
    pub fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// True if some value is described by both.
    pub fn meets(self, b: Tnum) -> bool {
        let known_both = !self.mask & !b.mask;
        (self.value ^ b.value) & known_both == 0
    }

    /// Every value of either.
    pub fn union(self, b: Tnum) -> Tnum {
        let mu = self.mask | b.mask | (self.value ^ b.value);
        Tnum {
            value: self.value & !mu,
            mask: mu,
        }
    }

    /// The low `bytes` bytes, zero-extended.
    pub fn cast(self, bytes: u32) -> Tnum {
        if bytes >= 8 {
            return self;
        }
        let keep = (1u64 << (bytes * 8)) - 1;
        Tnum {
            value: self.value & keep,
            mask: self.mask & keep,
        }
    }

    /// True if every value described by `self` is described by `outer`.
    pub fn within(self, outer: Tnum) -> bool {
        self.mask & !outer.mask == 0 && (self.value & !outer.mask) == outer.value
    }
}

impl fmt::Debug for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A tnum and a value it contains.
    fn member() -> impl Strategy<Value = (Tnum, u64)> {
        (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(v, m, pick)| {
            let m = m & m.rotate_left(7); // fewer unknown bits on average
            let t = Tnum {
                value: v & !m,
                mask: m,
            };
            (t, t.value | (pick & m))
        })
    }

    proptest! {
        #[test]
        fn operations_contain_every_concrete_result((a, x) in member(), (b, y) in member(), s in 0u32..64) {
            prop_assert!(a.add(b).contains(x.wrapping_add(y)));
            prop_assert!(a.sub(b).contains(x.wrapping_sub(y)));
            prop_assert!(a.mul(b).contains(x.wrapping_mul(y)));
            prop_assert!(a.and(b).contains(x & y));
            prop_assert!(a.or(b).contains(x | y));
            prop_assert!(a.xor(b).contains(x ^ y));
            prop_assert!(a.lshift(s).contains(x << s));
            prop_assert!(a.rshift(s).contains(x >> s));
            prop_assert!(a.arshift(s).contains(((x as i64) >> s) as u64));
            prop_assert!(a.union(b).contains(x) && a.union(b).contains(y));
            prop_assert!(a.cast(4).contains(x as u32 as u64));
            prop_assert!(a.min() <= x && x <= a.max());
            prop_assert!(a.smin() <= x as i64 && x as i64 <= a.smax());
            if b.contains(x) {
                prop_assert!(a.meets(b));
                prop_assert!(a.intersect(b).contains(x));
            }
        }

        #[test]
        fn range_contains_its_ends(lo in any::<u64>(), len in any::<u64>(), pick in any::<u64>()) {
            let hi = lo.saturating_add(len);
            let t = Tnum::range(lo, hi);
            let x = lo + pick % (hi - lo).saturating_add(1).max(1);
            prop_assert!(t.contains(lo) && t.contains(hi) && t.contains(x.min(hi)));
        }
    }
}
