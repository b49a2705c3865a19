//! Abstract register values: not initialised, a scalar, a pointer (to a
//! stack frame, the program context, the packet, a map value, key or map,
//! a function),
//! or "any" (a pointer on some paths and a number on others).

use crate::scalar::Scalar;

/// What a pointer points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Base {
    /// The stack frame at call depth `.0` (0 = the function analysed first);
    /// offsets are from that frame's r10.
    Stack(u8),
    /// The program context (`struct xdp_md`, `struct __sk_buff`, ...).
    Ctx,
    /// Packet data, from `data`.
    Packet,
    /// Packet metadata, from `data_meta`.
    PacketMeta,
    /// The end of the packet (`data_end`): compared with, never read.
    PacketEnd,
    /// A value of map number `.0` of the environment.
    MapValue(u16),
    /// Map number `.0` itself (what map helpers take as first argument).
    Map(u16),
    /// A block of `.0` bytes a helper handed out (`bpf_ringbuf_reserve`).
    Alloc(u32),
    /// A key of map number `.0`, read-only (what `bpf_for_each_map_elem`
    /// hands its callback).
    MapKey(u16),
    /// Function number `.0` of the program (a callback for a helper).
    Func(u16),
}

/// A pointer: base, offset (a constant part and a variable part), and the
/// id that links copies of the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ptr {
    pub base: Base,
    /// The constant part of the offset from the base.
    pub fixed: i64,
    /// The variable part of the offset (the constant 0 when there is none).
    pub var: Scalar,
    /// Registers and spilled slots with the same non-zero id hold the same
    /// variable part and the same NULL-ness: a check on one tells about all.
    pub id: u32,
    /// May be NULL (a map lookup's result before it is checked).
    pub nullable: bool,
}

impl Ptr {
    /// A pointer at a constant offset from `base`.
    pub fn at(base: Base, offset: i64) -> Ptr {
        Ptr {
            base,
            fixed: offset,
            var: Scalar::constant(0),
            id: 0,
            nullable: false,
        }
    }

    /// The whole offset from the base, as a signed range (`None` when the
    /// variable part is not bounded as a signed number).
    pub fn offset_range(&self) -> Option<(i64, i64)> {
        let lo = self.fixed.checked_add(self.var.smin)?;
        let hi = self.fixed.checked_add(self.var.smax)?;
        Some((lo, hi))
    }

    /// True if the offset is the constant `.0`.
    pub fn const_offset(&self) -> Option<i64> {
        self.var
            .as_const()
            .map(|v| self.fixed.wrapping_add(v as i64))
    }
}

/// How a scalar is tied to others: every value with the same non-zero
/// `id` equals one shared (unknown) number plus its own `off` (wrapping).
/// `r5 = r3; r5 += 4` gives r3 `{id, 0}` and r5 `{id, 4}`, so a bound
/// learned about one bounds the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Link {
    pub id: u32,
    pub off: i64,
}

impl Link {
    /// Tied to nothing.
    pub const NONE: Link = Link { id: 0, off: 0 };
}

/// An abstract register (or spilled stack slot) value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// Not written on some path.
    Uninit,
    /// A number, and how it is tied to other numbers.
    Scalar(Scalar, Link),
    Ptr(Ptr),
    /// A pointer on some paths, a number or another pointer on others.
    Any,
}

impl Value {
    /// Any number.
    pub const UNKNOWN: Value = Value::Scalar(Scalar::TOP, Link::NONE);

    pub fn scalar(s: Scalar) -> Value {
        Value::Scalar(s, Link::NONE)
    }

    pub fn constant(v: u64) -> Value {
        Value::Scalar(Scalar::constant(v), Link::NONE)
    }

    pub fn as_scalar(&self) -> Option<Scalar> {
        match self {
            Value::Scalar(s, _) => Some(*s),
            _ => None,
        }
    }

    pub fn as_ptr(&self) -> Option<&Ptr> {
        match self {
            Value::Ptr(p) => Some(p),
            _ => None,
        }
    }

    /// True for pointers (and values that may be pointers).
    pub fn may_be_pointer(&self) -> bool {
        matches!(self, Value::Ptr(_) | Value::Any)
    }

    /// The id linking copies of this value.
    pub fn id(&self) -> u32 {
        match self {
            Value::Scalar(_, link) => link.id,
            Value::Ptr(p) => p.id,
            _ => 0,
        }
    }

    /// The same value without its id.
    pub fn without_id(self) -> Value {
        match self {
            Value::Scalar(s, _) => Value::Scalar(s, Link::NONE),
            Value::Ptr(p) => Value::Ptr(Ptr { id: 0, ..p }),
            v => v,
        }
    }

    /// Every value either describes.
    pub fn join(self, other: Value) -> Value {
        self.merge(other, false)
    }

    /// [`Value::join`] with scalar bounds that moved pushed outwards (loops).
    pub fn widen(self, next: Value) -> Value {
        self.merge(next, true)
    }

    fn merge(self, other: Value, widen: bool) -> Value {
        if self == other {
            return self;
        }
        let scalar_merge = |a: Scalar, b: Scalar| if widen { a.widen(b) } else { a.join(b) };
        match (self, other) {
            (Value::Uninit, _) | (_, Value::Uninit) => Value::Uninit,
            (Value::Any, _) | (_, Value::Any) => Value::Any,
            (Value::Scalar(a, ia), Value::Scalar(b, ib)) => {
                Value::Scalar(scalar_merge(a, b), if ia == ib { ia } else { Link::NONE })
            }
            (Value::Ptr(a), Value::Ptr(b)) if a.base == b.base => {
                let id = if a.id == b.id { a.id } else { 0 };
                let nullable = a.nullable || b.nullable;
                if a.fixed == b.fixed {
                    return Value::Ptr(Ptr {
                        var: scalar_merge(a.var, b.var),
                        id,
                        nullable,
                        ..a
                    });
                }
                // Different constant parts: one variable offset, unlinked.
                let total = |p: Ptr| p.var.add(Scalar::constant(p.fixed as u64));
                Value::Ptr(Ptr {
                    fixed: 0,
                    var: scalar_merge(total(a), total(b)),
                    id: 0,
                    nullable,
                    ..a
                })
            }
            (Value::Ptr(p), Value::Scalar(s, _)) | (Value::Scalar(s, _), Value::Ptr(p))
                if s.as_const() == Some(0) =>
            {
                Value::Ptr(Ptr {
                    nullable: true,
                    id: 0,
                    ..p
                })
            }
            _ => Value::Any,
        }
    }

    /// True if every value `self` describes, `other` describes too.
    pub fn leq(&self, other: &Value) -> bool {
        match (self, other) {
            (_, Value::Uninit) => true,
            (Value::Uninit, _) => false,
            (_, Value::Any) => true,
            (Value::Any, _) => false,
            (Value::Scalar(a, ia), Value::Scalar(b, ib)) => a.leq(*b) && (ib.id == 0 || ia == ib),
            (Value::Scalar(a, _), Value::Ptr(p)) => {
                p.nullable && p.id == 0 && a.as_const() == Some(0)
            }
            (Value::Ptr(a), Value::Ptr(b)) => {
                a.base == b.base
                    && (!a.nullable || b.nullable)
                    && (b.id == 0 || a.id == b.id)
                    && if a.fixed == b.fixed {
                        a.var.leq(b.var)
                    } else {
                        b.id == 0
                            && a.var
                                .add(Scalar::constant(a.fixed as u64))
                                .leq(b.var.add(Scalar::constant(b.fixed as u64)))
                    }
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_keep_what_both_paths_agree_on() {
        let a = Value::Ptr(Ptr::at(Base::Stack(0), -8));
        let b = Value::Ptr(Ptr::at(Base::Stack(0), -16));
        let j = a.join(b);
        let p = j.as_ptr().unwrap();
        assert_eq!(p.offset_range(), Some((-16, -8)));
        assert!(a.leq(&j) && b.leq(&j));
        let null = Value::constant(0);
        let n = a.join(null);
        assert!(n.as_ptr().unwrap().nullable);
        assert!(null.leq(&n) && a.leq(&n));
        assert_eq!(a.join(Value::constant(5)), Value::Any);
        assert_eq!(a.join(Value::Uninit), Value::Uninit);
        assert!(!Value::Uninit.leq(&a));
    }
}
