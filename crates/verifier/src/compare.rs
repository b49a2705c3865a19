//! Comparisons: what a conditional jump's outcome tells about its
//! operands (the kernel's `reg_set_min_max`).

use crate::scalar::Scalar;
use crate::tnum::Tnum;

/// A comparison of two values, as conditional jumps make them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Ugt,
    Uge,
    Ult,
    Ule,
    Sgt,
    Sge,
    Slt,
    Sle,
    /// `a & b != 0`
    Set,
    /// `a & b == 0`
    NotSet,
}

impl Cmp {
    /// The comparison that holds exactly when `self` does not.
    pub fn negate(self) -> Cmp {
        use Cmp::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            Ugt => Ule,
            Uge => Ult,
            Ult => Uge,
            Ule => Ugt,
            Sgt => Sle,
            Sge => Slt,
            Slt => Sge,
            Sle => Sgt,
            Set => NotSet,
            NotSet => Set,
        }
    }

    /// The comparison with its operands swapped (`a < b` is `b > a`).
    pub fn swap(self) -> Cmp {
        use Cmp::*;
        match self {
            Ugt => Ult,
            Uge => Ule,
            Ult => Ugt,
            Ule => Uge,
            Sgt => Slt,
            Sge => Sle,
            Slt => Sgt,
            Sle => Sge,
            other => other,
        }
    }

    /// Evaluates the comparison on concrete values.
    pub fn holds(self, a: u64, b: u64) -> bool {
        use Cmp::*;
        match self {
            Eq => a == b,
            Ne => a != b,
            Ugt => a > b,
            Uge => a >= b,
            Ult => a < b,
            Ule => a <= b,
            Sgt => (a as i64) > b as i64,
            Sge => (a as i64) >= b as i64,
            Slt => (a as i64) < b as i64,
            Sle => (a as i64) <= b as i64,
            Set => a & b != 0,
            NotSet => a & b == 0,
        }
    }

    /// True for comparisons that read the operands as signed numbers.
    pub fn is_signed(self) -> bool {
        matches!(self, Cmp::Sgt | Cmp::Sge | Cmp::Slt | Cmp::Sle)
    }

    /// The C operator, for messages.
    pub fn symbol(self) -> &'static str {
        use Cmp::*;
        match self {
            Eq => "==",
            Ne => "!=",
            Ugt | Sgt => ">",
            Uge | Sge => ">=",
            Ult | Slt => "<",
            Ule | Sle => "<=",
            Set => "&",
            NotSet => "& == 0",
        }
    }
}

impl Scalar {
    /// Narrows `a` and `b` to the values for which `a cmp b` can hold;
    /// `None` if it cannot hold for any.
    pub fn refine(cmp: Cmp, a: Scalar, b: Scalar) -> Option<(Scalar, Scalar)> {
        use Cmp::*;
        let (mut a, mut b) = (a, b);
        match cmp {
            Eq => {
                if !a.t.meets(b.t) {
                    return None;
                }
                let r = Scalar {
                    t: a.t.intersect(b.t),
                    umin: a.umin.max(b.umin),
                    umax: a.umax.min(b.umax),
                    smin: a.smin.max(b.smin),
                    smax: a.smax.min(b.smax),
                }
                .normalize()?;
                return Some((r, r));
            }
            Ne => {
                if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
                    return (x != y).then_some((a, b));
                }
                if let Some(c) = b.as_const() {
                    a = a.exclude(c)?;
                }
                if let Some(c) = a.as_const() {
                    b = b.exclude(c)?;
                }
            }
            Ugt => {
                a.umin = a.umin.max(b.umin.checked_add(1)?);
                b.umax = b.umax.min(a.umax.checked_sub(1)?);
            }
            Uge => {
                a.umin = a.umin.max(b.umin);
                b.umax = b.umax.min(a.umax);
            }
            Sgt => {
                a.smin = a.smin.max(b.smin.checked_add(1)?);
                b.smax = b.smax.min(a.smax.checked_sub(1)?);
            }
            Sge => {
                a.smin = a.smin.max(b.smin);
                b.smax = b.smax.min(a.smax);
            }
            Ult | Ule | Slt | Sle => {
                let (b2, a2) = Scalar::refine(cmp.swap(), b, a)?;
                return Some((a2, b2));
            }
            Set => {
                if a.t.and(b.t).max() == 0 {
                    return None;
                }
                if let Some(c) = b.as_const() {
                    if c.is_power_of_two() {
                        a.t = Tnum {
                            value: a.t.value | c,
                            mask: a.t.mask & !c,
                        };
                    }
                    a.umin = a.umin.max(1);
                }
            }
            NotSet => {
                if a.t.and(b.t).min() != 0 {
                    return None;
                }
                if let Some(c) = b.as_const() {
                    a.t = Tnum {
                        value: a.t.value & !c,
                        mask: a.t.mask & !c,
                    };
                }
            }
        }
        Some((a.normalize()?, b.normalize()?))
    }

    /// The set without the value `c` (only the ends of the intervals can move).
    fn exclude(mut self, c: u64) -> Option<Scalar> {
        if self.as_const() == Some(c) {
            return None;
        }
        if self.umin == c {
            self.umin += 1;
        }
        if self.umax == c {
            self.umax -= 1;
        }
        if self.smin == c as i64 {
            self.smin += 1;
        }
        if self.smax == c as i64 {
            self.smax -= 1;
        }
        self.normalize()
    }
}
