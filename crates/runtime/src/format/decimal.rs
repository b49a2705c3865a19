//! The exact decimal value of a `double` and rounding it at any digit, the
//! way glibc's printf does (its default rounding mode: to nearest, ties to
//! even). Every finite double is `m × 2^e`, whose decimal expansion is
//! finite (at most 767 significant digits), so printf's digits are those of
//! the exact expansion, rounded once.

/// Limbs of a big number in base 10^9, least significant first.
const BASE: u64 = 1_000_000_000;

/// The magnitude of a finite double as `0.d₁d₂d₃… × 10^point`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    /// Significant digits (values 0..=9), no leading or trailing zeros;
    /// empty for zero.
    digits: Vec<u8>,
    /// Where the decimal point is, counted from the first digit.
    point: i64,
}

/// Multiplies `n` (base 10^9, least significant first) by `k` (< 2^32).
fn mul_small(n: &mut Vec<u32>, k: u64) {
    let mut carry = 0u64;
    for limb in n.iter_mut() {
        let v = u64::from(*limb) * k + carry;
        *limb = (v % BASE) as u32;
        carry = v / BASE;
    }
    while carry > 0 {
        n.push((carry % BASE) as u32);
        carry /= BASE;
    }
}

/// Multiplies `n` by `base^exp`, in steps of `base^step` (which must fit
/// in 32 bits).
fn mul_pow(n: &mut Vec<u32>, base: u64, step: u32, mut exp: u32) {
    while exp > 0 {
        let e = exp.min(step);
        mul_small(n, base.pow(e));
        exp -= e;
    }
}

/// The decimal digits of `n`, most significant first.
fn digits_of(n: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(n.len() * 9);
    for (i, limb) in n.iter().rev().enumerate() {
        let text = if i == 0 {
            limb.to_string()
        } else {
            format!("{limb:09}")
        };
        out.extend(text.bytes().map(|b| b - b'0'));
    }
    out
}

impl Decimal {
    /// The exact value of `|x|` for a finite `x`.
    pub(crate) fn of(x: f64) -> Decimal {
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (mut m, mut e) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, biased - 1075)
        };
        if m == 0 {
            return Decimal {
                digits: Vec::new(),
                point: 0,
            };
        }
        let shift = m.trailing_zeros().min((-e).max(0) as u32);
        m >>= shift;
        e += i64::from(shift);
        let mut n = vec![(m % BASE) as u32];
        if m >= BASE {
            n.push((m / BASE % BASE) as u32);
            if m >= BASE * BASE {
                n.push((m / BASE / BASE) as u32);
            }
        }
        let point_shift = if e >= 0 {
            mul_pow(&mut n, 2, 29, e as u32);
            0
        } else {
            // m / 2^k = m × 5^k / 10^k.
            mul_pow(&mut n, 5, 13, (-e) as u32);
            -e
        };
        let mut digits = digits_of(&n);
        let point = digits.len() as i64 - point_shift;
        while digits.last() == Some(&0) {
            digits.pop();
        }
        Decimal { digits, point }
    }

    /// True if the value is exactly `0.d₁d₂d₃… × 10^point` for these
    /// digits (values 0..=9; leading and trailing zeros allowed).
    pub(crate) fn equals(&self, digits: &[u8], point: i64) -> bool {
        let lead = digits.iter().take_while(|d| **d == 0).count();
        let trail = digits[lead..].iter().rev().take_while(|d| **d == 0).count();
        let sig = &digits[lead..digits.len() - trail];
        if sig.is_empty() || self.digits.is_empty() {
            return sig.is_empty() && self.digits.is_empty();
        }
        sig == self.digits.as_slice() && point - lead as i64 == self.point
    }

    /// True for zero (also after rounding away every digit).
    pub(crate) fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The position of the decimal point after the first digit: the value
    /// is `d.ddd × 10^(point - 1)`.
    pub(crate) fn point(&self) -> i64 {
        self.point
    }

    /// Digit `i` counted from the first significant digit (0 outside).
    pub(crate) fn digit(&self, i: i64) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// True when a nonzero digit lies at position `i` or after it.
    pub(crate) fn nonzero_from(&self, i: i64) -> bool {
        i < self.digits.len() as i64 && !self.digits.is_empty()
    }

    /// Rounds to the first `keep` significant digits (any number, negative
    /// ones included: rounding 0.001 to `keep = -1` gives zero), ties to even.
    pub(crate) fn round(&mut self, keep: i64) {
        let len = self.digits.len() as i64;
        if keep >= len {
            return;
        }
        if keep < 0 {
            self.digits.clear();
            return;
        }
        let k = keep as usize;
        let first = self.digits[k];
        let more = k + 1 < self.digits.len();
        let odd = k > 0 && self.digits[k - 1] % 2 == 1;
        let up = first > 5 || (first == 5 && (more || odd));
        self.digits.truncate(k);
        if up {
            while self.digits.last() == Some(&9) {
                self.digits.pop();
            }
            match self.digits.last_mut() {
                Some(d) => *d += 1,
                None => {
                    self.digits.push(1);
                    self.point += 1;
                }
            }
        }
        while self.digits.last() == Some(&0) {
            self.digits.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(d: &Decimal) -> (String, i64) {
        let s = d.digits.iter().map(|d| (b'0' + d) as char).collect();
        (s, d.point)
    }

    #[test]
    fn exact_expansions() {
        assert_eq!(text(&Decimal::of(0.0)), (String::new(), 0));
        assert_eq!(text(&Decimal::of(1.0)), ("1".into(), 1));
        assert_eq!(text(&Decimal::of(-1234.5)), ("12345".into(), 4));
        assert_eq!(text(&Decimal::of(0.125)), ("125".into(), 0));
        assert_eq!(
            text(&Decimal::of(0.1)).0,
            "1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(
            text(&Decimal::of(1e23)),
            ("99999999999999991611392".into(), 23)
        );
        let tiny = Decimal::of(f64::from_bits(1));
        assert_eq!(tiny.point, -323);
        assert_eq!(tiny.digits.len(), 751);
        let max = Decimal::of(f64::MAX);
        assert_eq!(max.point, 309);
    }

    #[test]
    fn rounding_is_half_even_on_exact_ties() {
        let round = |x: f64, keep: i64| {
            let mut d = Decimal::of(x);
            d.round(keep);
            text(&d)
        };
        assert_eq!(round(0.5, 0), (String::new(), 0));
        assert_eq!(round(1.5, 1), ("2".into(), 1));
        assert_eq!(round(2.5, 1), ("2".into(), 1));
        assert_eq!(round(0.125, 2), ("12".into(), 0));
        assert_eq!(round(0.375, 2), ("38".into(), 0));
        // 0.15 is below the tie in binary.
        assert_eq!(round(0.15, 1), ("1".into(), 0));
        assert_eq!(round(9.99, 1), ("1".into(), 2));
        assert_eq!(round(0.001, -1), (String::new(), -2));
        assert_eq!(round(0.6, 0), ("1".into(), 1));
    }
}
