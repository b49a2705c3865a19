//! ALU instructions and `ld_imm64`: scalar arithmetic in the scalar
//! domain, pointer arithmetic as the kernel allows it.

use crate::diag::{Rule, Severity};
use crate::engine::Analyzer;
use crate::scalar::Scalar;
use crate::state::State;
use crate::value::{Base, Link, Ptr, Value};
use bpf_vm::isa::*;

/// Largest constant offset a pointer may carry (`BPF_MAX_VAR_OFF`).
const MAX_PTR_OFF: i64 = 1 << 29;

fn op_name(op: u8) -> &'static str {
    match op {
        ALU_ADD => "+=",
        ALU_SUB => "-=",
        ALU_MUL => "*=",
        ALU_DIV => "/=",
        ALU_OR => "|=",
        ALU_AND => "&=",
        ALU_LSH => "<<=",
        ALU_RSH => ">>=",
        ALU_NEG => "neg",
        ALU_MOD => "%=",
        ALU_XOR => "^=",
        ALU_MOV => "=",
        ALU_ARSH => "s>>=",
        _ => "endian",
    }
}

/// `a op b` on scalars with the VM's semantics; `is64` picks the width.
pub(crate) fn scalar_op(op: u8, signed: bool, is64: bool, a: Scalar, b: Scalar) -> Scalar {
    if is64 {
        return match op {
            ALU_ADD => a.add(b),
            ALU_SUB => a.sub(b),
            ALU_MUL => a.mul(b),
            ALU_DIV if signed => a.sdiv(b),
            ALU_DIV => a.udiv(b),
            ALU_MOD if signed => a.smod(b),
            ALU_MOD => a.umod(b),
            ALU_OR => a.or(b),
            ALU_AND => a.and(b),
            ALU_XOR => a.xor(b),
            ALU_LSH => a.lsh(b),
            ALU_RSH => a.rsh(b),
            ALU_ARSH => a.arsh(b),
            _ => Scalar::TOP,
        };
    }
    let (a32, b32) = (a.zext32(), b.zext32());
    let count = b32.and(Scalar::constant(31));
    let r = match op {
        ALU_ADD => a32.add(b32),
        ALU_SUB => a32.sub(b32),
        ALU_MUL => a32.mul(b32),
        ALU_DIV if signed => a.sext(4).sdiv(b.sext(4)),
        ALU_DIV => a32.udiv(b32),
        ALU_MOD if signed => a.sext(4).smod(b.sext(4)),
        ALU_MOD => a32.umod(b32),
        ALU_OR => a32.or(b32),
        ALU_AND => a32.and(b32),
        ALU_XOR => a32.xor(b32),
        ALU_LSH => a32.lsh(count),
        ALU_RSH => a32.rsh(count),
        ALU_ARSH => a.sext(4).arsh(count),
        _ => Scalar::TOP,
    };
    r.zext32()
}

impl Analyzer<'_> {
    pub(crate) fn alu(&mut self, st: &mut State, pc: usize, insn: Insn) {
        let is64 = insn.class() == CLASS_ALU64;
        let op = insn.op & 0xf0;
        let x = insn.op & SRC_X != 0;
        let dst = insn.dst;
        match op {
            ALU_MOV => {
                let v = if x {
                    self.read(st, pc, insn.src)
                } else {
                    Value::constant(if is64 {
                        insn.imm as i64 as u64
                    } else {
                        insn.imm as u32 as u64
                    })
                };
                let result = self.mov(st, pc, insn, v, is64, x);
                st.set(dst, result);
            }
            ALU_NEG | ALU_END => {
                let v = self.read(st, pc, dst);
                let result = match v {
                    Value::Scalar(s, _) => Value::scalar(if op == ALU_NEG {
                        if is64 {
                            s.neg()
                        } else {
                            s.zext32().neg().zext32()
                        }
                    } else {
                        let bytes = (insn.imm as u32 / 8).clamp(2, 8);
                        if is64 || x {
                            s.bswap(bytes)
                        } else {
                            s.truncate(bytes)
                        }
                    }),
                    Value::Ptr(_) if op == ALU_END && !is64 && !x && insn.imm == 64 => v,
                    _ => {
                        if v.may_be_pointer() {
                            self.pointer_op_refused(st, pc, dst, dst, op, is64);
                        }
                        self.unknown_after_pointer_op()
                    }
                };
                st.set(dst, result);
            }
            _ => {
                let a = self.read(st, pc, dst);
                let b = if x {
                    self.read(st, pc, insn.src)
                } else {
                    Value::constant(insn.imm as i64 as u64)
                };
                let signed = insn.off == 1;
                let result = match (a, b) {
                    (Value::Scalar(sa, link), Value::Scalar(sb, _)) => {
                        let r = scalar_op(op, signed, is64, sa, sb);
                        // `r += k` keeps the tie to other numbers, moved by k.
                        let k = match (op, is64, x, link.id) {
                            (ALU_ADD, true, false, id) if id != 0 => Some(insn.imm as i64),
                            (ALU_SUB, true, false, id) if id != 0 => {
                                (insn.imm as i64).checked_neg()
                            }
                            _ => None,
                        };
                        match k.and_then(|k| link.off.checked_add(k)) {
                            Some(off) if off.abs() < MAX_PTR_OFF => {
                                Value::Scalar(r, Link { off, ..link })
                            }
                            _ => Value::scalar(r),
                        }
                    }
                    _ => self.pointer_alu(st, pc, insn, a, b),
                };
                st.set(dst, result);
            }
        }
    }

    fn mov(
        &mut self,
        st: &mut State,
        pc: usize,
        insn: Insn,
        v: Value,
        is64: bool,
        x: bool,
    ) -> Value {
        let ext = insn.off; // movsx width in bits, 0 for a plain move
        match v {
            Value::Scalar(s, link) => {
                if ext != 0 {
                    let s = s.sext(ext as u32 / 8);
                    return Value::scalar(if is64 { s } else { s.zext32() });
                }
                if !is64 {
                    return Value::scalar(s.zext32());
                }
                if x && s.as_const().is_none() {
                    // A copy: tie both so a check on one narrows the other.
                    let link = if link.id == 0 {
                        let link = Link {
                            id: self.fresh_id(st, pc),
                            off: 0,
                        };
                        st.set(insn.src, Value::Scalar(s, link));
                        link
                    } else {
                        link
                    };
                    return Value::Scalar(s, link);
                }
                v
            }
            Value::Ptr(_) | Value::Any if is64 && ext == 0 => v,
            Value::Ptr(_) | Value::Any => {
                if !self.is_kernel() {
                    return Value::Any;
                }
                let sev = self.unprivileged_error();
                self.report(
                    pc,
                    Rule::PointerLeak,
                    sev,
                    format!(
                        "r{} gets part of the pointer in r{}: its value would leak a kernel address",
                        insn.dst, insn.src
                    ),
                )
                .kernel_says(Some(format!("R{} partial copy of pointer", insn.src)))
                .regs(st, &[insn.src])
                .emit_plain();
                Value::scalar(if is64 {
                    Scalar::TOP
                } else {
                    Scalar::of_width(4)
                })
            }
            Value::Uninit => Value::Any,
        }
    }

    /// What a refused operation on a pointer leaves: kernel mode goes on
    /// with an unknown number, speed mode with "anything".
    fn unknown_after_pointer_op(&self) -> Value {
        if self.is_kernel() {
            Value::UNKNOWN
        } else {
            Value::Any
        }
    }

    /// Reports an ALU op on the pointer in `r` (the kernel's message names
    /// the destination register `dst`).
    fn pointer_op_refused(&mut self, st: &State, pc: usize, r: u8, dst: u8, op: u8, is64: bool) {
        if !self.is_kernel() {
            return;
        }
        let (msg, kernel) = if !is64 {
            (
                format!("32-bit arithmetic on the pointer in r{r}"),
                format!("R{dst} 32-bit pointer arithmetic prohibited"),
            )
        } else if matches!(op, ALU_AND | ALU_OR | ALU_XOR) {
            (
                format!("bitwise `{}` on the pointer in r{r}", op_name(op)),
                format!(
                    "R{dst} bitwise operator {} on pointer prohibited",
                    op_name(op)
                ),
            )
        } else {
            (
                format!("`{}` on the pointer in r{r}", op_name(op)),
                format!(
                    "R{dst} pointer arithmetic with {} operator prohibited",
                    op_name(op)
                ),
            )
        };
        self.report(
            pc,
            Rule::PointerArithmetic,
            Severity::Error,
            format!("{msg}: only adding and subtracting numbers is allowed"),
        )
        .kernel_says(Some(kernel))
        .regs(st, &[r])
        .hint_if(
            !is64,
            "do pointer arithmetic in 64 bits: values loaded as __u32 may be computed with 32-bit instructions under -mcpu=v3; cast them to long first",
        )
        .emit_plain();
    }

    fn pointer_alu(&mut self, st: &mut State, pc: usize, insn: Insn, a: Value, b: Value) -> Value {
        let is64 = insn.class() == CLASS_ALU64;
        let op = insn.op & 0xf0;
        let dst = insn.dst;
        let src = insn.src;
        match (a, b) {
            (Value::Ptr(p), Value::Scalar(s, link)) if is64 && (op == ALU_ADD || op == ALU_SUB) => {
                self.offset_pointer(st, pc, dst, p, s, link, op == ALU_SUB)
            }
            (Value::Scalar(s, link), Value::Ptr(p)) if is64 && op == ALU_ADD => {
                self.offset_pointer(st, pc, src, p, s, link, false)
            }
            // The kernel allows `pointer - pointer` in either width (it
            // checks this before the 32-bit rule) and gives a number.
            (Value::Ptr(p), Value::Ptr(q)) if op == ALU_SUB => {
                if p.base == q.base {
                    if let (Some(x), Some(y)) = (p.const_offset(), q.const_offset()) {
                        let d = Scalar::constant(x.wrapping_sub(y) as u64);
                        return Value::scalar(if is64 { d } else { d.zext32() });
                    }
                }
                if self.is_kernel() && !self.privileged() {
                    self.report(
                        pc,
                        Rule::PointerArithmetic,
                        Severity::Error,
                        "subtracting two pointers is not allowed without CAP_PERFMON".to_string(),
                    )
                    .kernel_says(Some(format!("R{dst} pointer -= pointer prohibited")))
                    .regs(st, &[dst, src])
                    .emit_plain();
                }
                if is64 || self.is_kernel() {
                    Value::UNKNOWN
                } else {
                    Value::scalar(Scalar::of_width(4))
                }
            }
            (Value::Ptr(_), Value::Ptr(_)) => {
                if self.is_kernel() {
                    self.report(
                        pc,
                        Rule::PointerArithmetic,
                        Severity::Error,
                        format!("`{}` between two pointers (r{dst}, r{src})", op_name(op)),
                    )
                    .kernel_says(Some(format!(
                        "R{dst} pointer {} pointer prohibited",
                        op_name(op)
                    )))
                    .regs(st, &[dst, src])
                    .emit_plain();
                }
                self.unknown_after_pointer_op()
            }
            (Value::Scalar(_, _), Value::Ptr(_)) if is64 && op == ALU_SUB => {
                if self.is_kernel() {
                    self.report(
                        pc,
                        Rule::PointerArithmetic,
                        Severity::Error,
                        format!("r{dst} subtracts a pointer from a number"),
                    )
                    .kernel_says(Some(format!(
                        "R{dst} tried to subtract pointer from scalar"
                    )))
                    .regs(st, &[dst, src])
                    .emit_plain();
                }
                self.unknown_after_pointer_op()
            }
            _ => {
                let r = if a.may_be_pointer() { dst } else { src };
                if a.may_be_pointer() || b.may_be_pointer() {
                    self.pointer_op_refused(st, pc, r, dst, op, is64);
                }
                self.unknown_after_pointer_op()
            }
        }
    }

    /// `p + s` (or `p - s`): the constant part moves, a variable part is
    /// added to the pointer's variable offset under a new id.
    #[allow(clippy::too_many_arguments)]
    fn offset_pointer(
        &mut self,
        st: &mut State,
        pc: usize,
        r: u8,
        p: Ptr,
        s: Scalar,
        link: Link,
        sub: bool,
    ) -> Value {
        if self.is_kernel() {
            let refused = if p.nullable {
                Some((
                    "a pointer that may be NULL".to_string(),
                    "map_value_or_null",
                    ", null-check it first",
                ))
            } else {
                match p.base {
                    Base::PacketEnd => Some(("the packet end pointer".to_string(), "pkt_end", "")),
                    Base::Map(_) if s.as_const() != Some(0) || sub => {
                        Some(("a map pointer".to_string(), "map_ptr", ""))
                    }
                    Base::Func(_) if s.as_const() != Some(0) || sub => {
                        Some(("a function pointer".to_string(), "func", ""))
                    }
                    _ => None,
                }
            };
            if let Some((what, kname, tail)) = refused {
                self.report(
                    pc,
                    if p.nullable {
                        Rule::NullDeref
                    } else {
                        Rule::PointerArithmetic
                    },
                    Severity::Error,
                    format!("arithmetic on {what} in r{r}"),
                )
                .kernel_says(Some(format!(
                    "R{r} pointer arithmetic on {kname} prohibited{tail}"
                )))
                .regs(st, &[r])
                .hint_if(
                    p.nullable,
                    "compare the pointer with NULL first and use it only where it is not",
                )
                .emit_plain();
                return Value::UNKNOWN;
            }
        }
        if let Some(c) = s.as_const() {
            let c = c as i64;
            let fixed = if sub {
                p.fixed.checked_sub(c)
            } else {
                p.fixed.checked_add(c)
            };
            match fixed {
                Some(f) if f.abs() < MAX_PTR_OFF => return Value::Ptr(Ptr { fixed: f, ..p }),
                _ => {
                    if self.is_kernel() {
                        self.report(
                            pc,
                            Rule::PointerArithmetic,
                            Severity::Error,
                            format!("adding {c} moves the pointer in r{r} too far"),
                        )
                        .kernel_says(Some(format!("value {c} makes pointer be out of bounds")))
                        .emit_plain();
                    }
                    return self.unknown_after_pointer_op();
                }
            }
        }
        if s.smin == i64::MIN || s.smin <= -MAX_PTR_OFF || s.smax >= MAX_PTR_OFF {
            if self.is_kernel() {
                let which = if s.smin == i64::MIN || s.smin <= -MAX_PTR_OFF {
                    "min"
                } else {
                    "max"
                };
                self.report(
                    pc,
                    Rule::PointerArithmetic,
                    Severity::Error,
                    format!("the number added to the pointer in r{r} is not bounded ({s})"),
                )
                .kernel_says(Some(format!(
                    "math between {} pointer and register with unbounded {which} value is not allowed",
                    crate::call::kernel_type(&Value::Ptr(p))
                )))
                .regs(st, &[r])
                .hint("bound the index first, e.g. `if (i >= N) return ...;` or `i &= N - 1`")
                .emit_plain();
                return Value::UNKNOWN;
            }
            return Value::Any;
        }
        // `data + n` where n is tied to other numbers: the pointer takes the
        // tie's id, so every pointer made from the same number shares
        // what a bounds check on one of them shows.
        if !sub && link.id != 0 && p.id == 0 && p.var.as_const() == Some(0) {
            if let Some(fixed) = p
                .fixed
                .checked_add(link.off)
                .filter(|f| f.abs() < MAX_PTR_OFF)
            {
                let var = s.sub(Scalar::constant(link.off as u64));
                return Value::Ptr(Ptr {
                    var,
                    id: link.id,
                    fixed,
                    ..p
                });
            }
        }
        let var = if sub { p.var.sub(s) } else { p.var.add(s) };
        let id = self.fresh_id(st, pc);
        Value::Ptr(Ptr { var, id, ..p })
    }

    /// `ld_imm64`: a constant, or in kernel mode a reference to a map.
    pub(crate) fn ld_imm64(&mut self, st: &mut State, pc: usize) {
        let code = self.prog.code;
        let insn = code[pc];
        let value = (insn.imm as u32 as u64)
            | ((code.get(pc + 1).map_or(0, |i| i.imm) as u32 as u64) << 32);
        let v = match self.kernel() {
            Some(env) => match env
                .maps
                .iter()
                .position(|m| value >= m.addr && value < m.addr + m.size.max(1))
            {
                Some(i) if env.maps[i].internal => Value::Ptr(Ptr::at(
                    Base::MapValue(i as u16),
                    (value - env.maps[i].addr) as i64,
                )),
                Some(i) if value == env.maps[i].addr => Value::Ptr(Ptr::at(Base::Map(i as u16), 0)),
                Some(i) => {
                    self.report(
                        pc,
                        Rule::Unsupported,
                        Severity::Error,
                        format!(
                            "the address of a byte inside the definition of map `{}` is loaded",
                            env.maps[i].name
                        ),
                    )
                    .emit_plain();
                    Value::UNKNOWN
                }
                None => match self.function_at_addr(value) {
                    Some(f) => Value::Ptr(Ptr::at(Base::Func(f as u16), 0)),
                    None => Value::constant(value),
                },
            },
            None => Value::constant(value),
        };
        st.set(insn.dst, v);
    }

    /// The function of the program whose first instruction is at code
    /// address `addr` (a callback passed to a helper).
    fn function_at_addr(&self, addr: u64) -> Option<usize> {
        let off = addr.checked_sub(bpf_vm::RegionKind::Code.base())?;
        if !off.is_multiple_of(INSN_SIZE as u64) {
            return None;
        }
        let slot = usize::try_from(off / INSN_SIZE as u64).ok()?;
        self.function_at(slot.checked_sub(self.prog.base)?)
    }
}
