//! Conditional jumps: the state on each side, narrowed by what the
//! comparison tells (scalar bounds, NULL checks, packet bounds checks),
//! or `None` for a side no execution can take.

use crate::diag::{Rule, Severity};
use crate::engine::Analyzer;
use crate::scalar::{Cmp, Scalar};
use crate::state::State;
use crate::value::{Base, Ptr, Value};
use bpf_vm::isa::*;

const M32: u64 = u32::MAX as u64;

fn cmp_of(op: u8) -> Option<Cmp> {
    Some(match op & 0xf0 {
        JMP_JEQ => Cmp::Eq,
        JMP_JNE => Cmp::Ne,
        JMP_JGT => Cmp::Ugt,
        JMP_JGE => Cmp::Uge,
        JMP_JLT => Cmp::Ult,
        JMP_JLE => Cmp::Ule,
        JMP_JSGT => Cmp::Sgt,
        JMP_JSGE => Cmp::Sge,
        JMP_JSLT => Cmp::Slt,
        JMP_JSLE => Cmp::Sle,
        JMP_JSET => Cmp::Set,
        _ => return None,
    })
}

/// Narrows scalars `a` and `b` for the side where `a cmp b` holds, with
/// the operands compared in 32 bits when `is32`.
fn refine_scalars(cmp: Cmp, is32: bool, a: Scalar, b: Scalar) -> Option<(Scalar, Scalar)> {
    if !is32 {
        return Scalar::refine(cmp, a, b);
    }
    // Values that fit in 32 bits compare the same way in 32 and 64 bits
    // (signed comparisons need them to fit in 31).
    let limit = if cmp.is_signed() {
        i32::MAX as u64
    } else {
        M32
    };
    if a.umax <= limit && b.umax <= limit {
        return Scalar::refine(cmp, a, b);
    }
    // Otherwise only decide feasibility, on the 32-bit views.
    let (va, vb) = if cmp.is_signed() {
        (a.sext(4), b.sext(4))
    } else {
        (a.zext32(), b.zext32())
    };
    Scalar::refine(cmp, va, vb).map(|_| (a, b))
}

impl Analyzer<'_> {
    /// The states after the conditional jump at `pc`: (taken, fall-through).
    pub(crate) fn branch(
        &mut self,
        st: &State,
        pc: usize,
        insn: Insn,
    ) -> (Option<State>, Option<State>) {
        let Some(cmp) = cmp_of(insn.op) else {
            return (Some(st.clone()), Some(st.clone()));
        };
        let is32 = insn.class() == CLASS_JMP32;
        let x = insn.op & SRC_X != 0;
        let a = self.read(st, pc, insn.dst);
        let b = if x {
            self.read(st, pc, insn.src)
        } else if is32 {
            Value::constant(insn.imm as u32 as u64)
        } else {
            Value::constant(insn.imm as i64 as u64)
        };
        let src = x.then_some(insn.src);
        match (a, b) {
            (Value::Scalar(sa, _), Value::Scalar(sb, _)) => {
                let side = |c: Cmp| -> Option<State> {
                    let (na, nb) = refine_scalars(c, is32, sa, sb)?;
                    let mut s = st.clone();
                    narrow_scalar(&mut s, insn.dst, na);
                    if let Some(r) = src {
                        narrow_scalar(&mut s, r, nb);
                    }
                    Some(s)
                };
                (side(cmp), side(cmp.negate()))
            }
            (Value::Ptr(p), Value::Scalar(s, _)) | (Value::Scalar(s, _), Value::Ptr(p))
                if !is32 && s.as_const() == Some(0) && matches!(cmp, Cmp::Eq | Cmp::Ne) =>
            {
                let reg = if matches!(a, Value::Ptr(_)) {
                    insn.dst
                } else {
                    insn.src
                };
                let null = |st: &State| -> Option<State> {
                    if !p.nullable {
                        return None;
                    }
                    let mut s = st.clone();
                    mark_null(&mut s, reg, p, true);
                    Some(s)
                };
                let not_null = |st: &State| -> Option<State> {
                    let mut s = st.clone();
                    mark_null(&mut s, reg, p, false);
                    Some(s)
                };
                if cmp == Cmp::Eq {
                    (null(st), not_null(st))
                } else {
                    (not_null(st), null(st))
                }
            }
            (Value::Ptr(p), Value::Ptr(q))
                if !is32
                    && matches!(cmp, Cmp::Ugt | Cmp::Uge | Cmp::Ult | Cmp::Ule)
                    && (matches!(
                        (p.base, q.base),
                        (Base::Packet, Base::PacketEnd) | (Base::PacketEnd, Base::Packet)
                    )) =>
            {
                // Put the packet pointer on the left.
                let (pkt, c) = if p.base == Base::Packet {
                    (p, cmp)
                } else {
                    (q, cmp.swap())
                };
                let mut taken = st.clone();
                let mut fall = st.clone();
                match c {
                    // pkt > end: not taken means pkt <= end.
                    Cmp::Ugt => learn_packet_bound(&mut fall, &pkt, 0),
                    // pkt >= end: not taken means pkt < end.
                    Cmp::Uge => learn_packet_bound(&mut fall, &pkt, 1),
                    Cmp::Ult => learn_packet_bound(&mut taken, &pkt, 1),
                    Cmp::Ule => learn_packet_bound(&mut taken, &pkt, 0),
                    _ => {}
                }
                (Some(taken), Some(fall))
            }
            _ => {
                if self.is_kernel()
                    && !self.privileged()
                    && (a.may_be_pointer() || b.may_be_pointer())
                {
                    let r = if a.may_be_pointer() {
                        insn.dst
                    } else {
                        insn.src
                    };
                    self.report(pc, Rule::PointerComparison, Severity::Error,
                        format!("the pointer in r{r} is compared: unprivileged programs may only compare packet pointers and check for NULL"))
                        .kernel_says(Some(format!("R{r} pointer comparison prohibited")))
                        .regs(st, &[insn.dst])
                        .emit_plain();
                }
                (Some(st.clone()), Some(st.clone()))
            }
        }
    }
}

/// Sets register `r` to `s`, and narrows every number tied to it: a value
/// `base + k'` tied to `r = base + k` is within `s - k + k'`.
fn narrow_scalar(st: &mut State, r: u8, s: Scalar) {
    let Value::Scalar(_, link) = st.reg(r) else {
        st.set(r, Value::scalar(s));
        return;
    };
    st.set(r, Value::Scalar(s, link));
    if link.id == 0 {
        return;
    }
    let base = s.sub(Scalar::constant(link.off as u64));
    st.for_each_value(|v| {
        if let Value::Scalar(old, l) = v {
            if l.id == link.id {
                let mine = base.add(Scalar::constant(l.off as u64));
                if let Some((n, _)) = Scalar::refine(crate::scalar::Cmp::Eq, *old, mine) {
                    *v = Value::Scalar(n, *l);
                }
            }
        }
    });
}

/// After a NULL check of the pointer `p` in `r`: on the NULL side every
/// copy becomes the number 0 (and a reservation it held is gone); on the
/// other side every copy is known not to be NULL.
fn mark_null(st: &mut State, r: u8, p: Ptr, is_null: bool) {
    let apply = |v: &mut Value| {
        if let Value::Ptr(q) = v {
            if is_null {
                *v = Value::constant(0);
            } else {
                q.nullable = false;
            }
        }
    };
    let mut reg = st.reg(r);
    apply(&mut reg);
    st.set(r, reg);
    if p.id != 0 {
        st.for_each_value(|v| {
            if v.id() == p.id && matches!(v, Value::Ptr(_)) {
                apply(v);
            }
        });
        if is_null {
            st.refs.retain(|i| *i != p.id);
        }
    }
}

/// `pkt + extra <= data_end` is known (`extra` 1 for a strict `<`).
fn learn_packet_bound(st: &mut State, pkt: &Ptr, extra: u64) {
    if pkt.var.smin < 0 {
        return;
    }
    let fixed = pkt.fixed.saturating_add(extra as i64);
    if pkt.id != 0 && fixed >= 0 {
        st.grow_packet_range(pkt.id, fixed as u64);
    }
    let data_rel = fixed as i128 + pkt.var.umin as i128;
    if data_rel >= 0 && data_rel <= u32::MAX as i128 {
        st.grow_packet_range(0, data_rel as u64);
    }
}
