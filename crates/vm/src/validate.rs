//! Static validation of instruction slots before they may run.
//!
//! Validation is what lets the interpreter trust opcodes and register
//! numbers: after it, every slot is a known instruction with registers in
//! range, reserved fields zero, every `ld_imm64` complete, and every jump
//! landing on a real instruction of the same chunk.

use crate::isa::*;
use std::fmt;

/// Why one instruction slot is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidKind {
    UnknownOpcode(u8),
    BadRegister(u8),
    WritesFramePointer,
    ReservedField(&'static str),
    BadImmediate(i32),
    BadOffset(i16),
    TruncatedLdImm64,
    UnsupportedLdImm64Source(u8),
    LegacyPacketAccess,
    UnsupportedCallKind(u8),
    JumpOutOfRange(i64),
    JumpIntoLdImm64(usize),
    /// Loading the chunk would take the code past this many slots.
    CodeTooLarge(usize),
}

/// A validation error: the slot index (relative to the validated chunk) and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInsn {
    pub index: usize,
    pub opcode: u8,
    pub kind: InvalidKind,
}

impl fmt::Display for InvalidKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidKind::UnknownOpcode(op) => write!(f, "unknown opcode {op:#04x}"),
            InvalidKind::BadRegister(r) => write!(f, "register r{r} does not exist (r0-r10)"),
            InvalidKind::WritesFramePointer => write!(f, "r10 (frame pointer) is read-only"),
            InvalidKind::ReservedField(field) => write!(f, "reserved field `{field}` is not zero"),
            InvalidKind::BadImmediate(imm) => write!(f, "invalid immediate {imm}"),
            InvalidKind::BadOffset(off) => write!(f, "invalid offset {off}"),
            InvalidKind::TruncatedLdImm64 => {
                write!(
                    f,
                    "ld_imm64 is missing its second slot or the second slot is not empty"
                )
            }
            InvalidKind::UnsupportedLdImm64Source(s) => write!(
                f,
                "ld_imm64 with src={s} (map/BTF pseudo loads) is kernel-specific and not supported"
            ),
            InvalidKind::LegacyPacketAccess => write!(
                f,
                "legacy packet access (LD_ABS/LD_IND) of 8 bytes does not exist (1, 2 or 4)"
            ),
            InvalidKind::UnsupportedCallKind(s) => write!(
                f,
                "call with src={s} is not supported (0 = kernel helper, 1 = local function, \
                 2 = runtime helper)"
            ),
            InvalidKind::JumpOutOfRange(t) => write!(f, "jump target {t} is outside the program"),
            InvalidKind::JumpIntoLdImm64(t) => {
                write!(f, "jump target {t} is the second half of an ld_imm64")
            }
            InvalidKind::CodeTooLarge(max) => {
                write!(f, "the code would exceed {max} instruction slots")
            }
        }
    }
}

impl fmt::Display for InvalidInsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid instruction #{} (opcode {:#04x}): {}",
            self.index, self.opcode, self.kind
        )
    }
}

impl std::error::Error for InvalidInsn {}

/// Validates `code` as one self-contained chunk: jumps must stay inside it.
/// Local calls may leave the chunk (the linker checks them against the
/// session's code); when `calls_stay_inside` is set, they must stay inside too.
pub fn validate(code: &[Insn], calls_stay_inside: bool) -> Result<(), InvalidInsn> {
    let mut second_half = vec![false; code.len()];
    let mut i = 0;
    while i < code.len() {
        let insn = code[i];
        let fail = |kind| InvalidInsn {
            index: i,
            opcode: insn.op,
            kind,
        };
        check_one(insn).map_err(fail)?;
        if insn.is_ld_imm64() {
            match code.get(i + 1) {
                Some(next) if next.op == 0 && next.dst == 0 && next.src == 0 && next.off == 0 => {
                    second_half[i + 1] = true;
                    i += 2;
                    continue;
                }
                _ => return Err(fail(InvalidKind::TruncatedLdImm64)),
            }
        }
        i += 1;
    }
    for (i, insn) in code.iter().enumerate() {
        if second_half[i] {
            continue;
        }
        let target = match jump_target(*insn, i) {
            Some(JumpTarget::Jump(t)) => t,
            Some(JumpTarget::Call(t)) if calls_stay_inside => t,
            _ => continue,
        };
        let fail = |kind| InvalidInsn {
            index: i,
            opcode: insn.op,
            kind,
        };
        if target < 0 || target >= code.len() as i64 {
            return Err(fail(InvalidKind::JumpOutOfRange(target)));
        }
        if second_half[target as usize] {
            return Err(fail(InvalidKind::JumpIntoLdImm64(target as usize)));
        }
    }
    Ok(())
}

/// Field-level checks of one single-slot instruction, without looking at
/// where its jump or call goes (for replacing a slot in loaded code, whose
/// targets are checked against the whole code). `ld_imm64` is refused: it
/// takes two slots.
pub fn validate_slot(insn: Insn) -> Result<(), InvalidKind> {
    if insn.is_ld_imm64() {
        return Err(InvalidKind::TruncatedLdImm64);
    }
    check_one(insn)
}

/// Where control may go from slot `pc`, relative to the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpTarget {
    Jump(i64),
    Call(i64),
}

/// The static target of a jump or local call at index `pc`, if it has one.
pub fn jump_target(insn: Insn, pc: usize) -> Option<JumpTarget> {
    let next = pc as i64 + 1;
    match insn.class() {
        CLASS_JMP | CLASS_JMP32 => {
            let op = insn.op & 0xf0;
            if insn.op == OP_GOTOL {
                Some(JumpTarget::Jump(next + insn.imm as i64))
            } else if insn.op == OP_CALL && insn.src == CALL_LOCAL {
                Some(JumpTarget::Call(next + insn.imm as i64))
            } else if op == JMP_CALL || op == JMP_EXIT {
                None
            } else {
                Some(JumpTarget::Jump(next + insn.off as i64))
            }
        }
        _ => None,
    }
}

fn reg(r: u8) -> Result<(), InvalidKind> {
    if r > 10 {
        Err(InvalidKind::BadRegister(r))
    } else {
        Ok(())
    }
}

fn writable(r: u8) -> Result<(), InvalidKind> {
    reg(r)?;
    if r == REG_FP {
        Err(InvalidKind::WritesFramePointer)
    } else {
        Ok(())
    }
}

fn zero<T: Default + PartialEq>(v: T, field: &'static str) -> Result<(), InvalidKind> {
    if v == T::default() {
        Ok(())
    } else {
        Err(InvalidKind::ReservedField(field))
    }
}

/// Field-level checks for one slot (not the second half of `ld_imm64`).
fn check_one(insn: Insn) -> Result<(), InvalidKind> {
    let op = insn.op;
    let unknown = Err(InvalidKind::UnknownOpcode(op));
    match insn.class() {
        CLASS_ALU | CLASS_ALU64 => {
            let is64 = insn.class() == CLASS_ALU64;
            let code = op & 0xf0;
            let x = op & SRC_X != 0;
            writable(insn.dst)?;
            match code {
                ALU_NEG => {
                    if x {
                        return unknown;
                    }
                    zero(insn.src, "src")?;
                    zero(insn.off, "off")?;
                    zero(insn.imm, "imm")
                }
                ALU_END => {
                    if is64 && x {
                        return unknown;
                    }
                    zero(insn.src, "src")?;
                    zero(insn.off, "off")?;
                    match insn.imm {
                        16 | 32 | 64 => Ok(()),
                        imm => Err(InvalidKind::BadImmediate(imm)),
                    }
                }
                ALU_ADD | ALU_SUB | ALU_MUL | ALU_DIV | ALU_OR | ALU_AND | ALU_LSH | ALU_RSH
                | ALU_MOD | ALU_XOR | ALU_MOV | ALU_ARSH => {
                    if x {
                        reg(insn.src)?;
                        zero(insn.imm, "imm")?;
                    } else {
                        zero(insn.src, "src")?;
                    }
                    let off_ok = match code {
                        ALU_DIV | ALU_MOD => insn.off == 0 || insn.off == 1,
                        ALU_MOV if x && is64 => matches!(insn.off, 0 | 8 | 16 | 32),
                        ALU_MOV if x => matches!(insn.off, 0 | 8 | 16),
                        _ => insn.off == 0,
                    };
                    if off_ok {
                        Ok(())
                    } else {
                        Err(InvalidKind::BadOffset(insn.off))
                    }
                }
                _ => unknown,
            }
        }
        CLASS_JMP | CLASS_JMP32 => {
            let code = op & 0xf0;
            let x = op & SRC_X != 0;
            let is32 = insn.class() == CLASS_JMP32;
            match code {
                JMP_JA => {
                    if x {
                        return unknown;
                    }
                    zero(insn.dst, "dst")?;
                    zero(insn.src, "src")?;
                    if is32 {
                        zero(insn.off, "off")
                    } else {
                        zero(insn.imm, "imm")
                    }
                }
                JMP_CALL => {
                    if is32 {
                        return unknown;
                    }
                    zero(insn.off, "off")?;
                    if x {
                        // LLVM's callx: target register in dst.
                        reg(insn.dst)?;
                        zero(insn.src, "src")?;
                        zero(insn.imm, "imm")
                    } else {
                        zero(insn.dst, "dst")?;
                        match insn.src {
                            CALL_HELPER | CALL_LOCAL | CALL_RUNTIME => Ok(()),
                            s => Err(InvalidKind::UnsupportedCallKind(s)),
                        }
                    }
                }
                JMP_EXIT => {
                    if is32 || x {
                        return unknown;
                    }
                    zero(insn.dst, "dst")?;
                    zero(insn.src, "src")?;
                    zero(insn.off, "off")?;
                    zero(insn.imm, "imm")
                }
                JMP_JEQ | JMP_JGT | JMP_JGE | JMP_JSET | JMP_JNE | JMP_JSGT | JMP_JSGE
                | JMP_JLT | JMP_JLE | JMP_JSLT | JMP_JSLE => {
                    reg(insn.dst)?;
                    if x {
                        reg(insn.src)?;
                        zero(insn.imm, "imm")
                    } else {
                        zero(insn.src, "src")
                    }
                }
                _ => unknown,
            }
        }
        CLASS_LD => match op & 0xe0 {
            MODE_ABS | MODE_IND if op & 0x18 == SIZE_DW => Err(InvalidKind::LegacyPacketAccess),
            // Legacy packet loads (socket filters): r0 = packet bytes, with
            // r6 the implicit context; the kernel's field rules.
            mode @ (MODE_ABS | MODE_IND) => {
                zero(insn.dst, "dst")?;
                zero(insn.off, "off")?;
                if mode == MODE_ABS {
                    zero(insn.src, "src")
                } else {
                    reg(insn.src)
                }
            }
            MODE_IMM if op == OP_LD_IMM64 => {
                writable(insn.dst)?;
                zero(insn.off, "off")?;
                if insn.src != 0 {
                    return Err(InvalidKind::UnsupportedLdImm64Source(insn.src));
                }
                Ok(())
            }
            _ => unknown,
        },
        CLASS_LDX => {
            let mode = op & 0xe0;
            let size = op & 0x18;
            if !(mode == MODE_MEM || (mode == MODE_MEMSX && size != SIZE_DW)) {
                return unknown;
            }
            writable(insn.dst)?;
            reg(insn.src)?;
            zero(insn.imm, "imm")
        }
        CLASS_ST => {
            if op & 0xe0 != MODE_MEM {
                return unknown;
            }
            reg(insn.dst)?;
            zero(insn.src, "src")
        }
        CLASS_STX => {
            let mode = op & 0xe0;
            let size = op & 0x18;
            reg(insn.dst)?;
            reg(insn.src)?;
            if mode == MODE_ATOMIC && insn.imm & ATOMIC_FETCH != 0 && insn.imm != ATOMIC_CMPXCHG {
                // FETCH forms write the old value back into `src`.
                writable(insn.src)?;
            }
            match mode {
                MODE_MEM => zero(insn.imm, "imm"),
                MODE_ATOMIC if size == SIZE_W || size == SIZE_DW => match insn.imm {
                    ATOMIC_ADD | ATOMIC_OR | ATOMIC_AND | ATOMIC_XOR => Ok(()),
                    x if x == ATOMIC_ADD | ATOMIC_FETCH
                        || x == ATOMIC_OR | ATOMIC_FETCH
                        || x == ATOMIC_AND | ATOMIC_FETCH
                        || x == ATOMIC_XOR | ATOMIC_FETCH
                        || x == ATOMIC_XCHG
                        || x == ATOMIC_CMPXCHG =>
                    {
                        Ok(())
                    }
                    imm => Err(InvalidKind::BadImmediate(imm)),
                },
                _ => unknown,
            }
        }
        _ => unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::asm::*;

    fn kind(code: &[Insn]) -> InvalidKind {
        validate(code, true).unwrap_err().kind
    }

    #[test]
    fn accepts_simple_program() {
        let mut p = vec![mov64_imm(0, 1)];
        p.extend(ld_imm64(1, 0x1234_5678_9abc));
        p.push(jmp_imm(JMP_JEQ, 0, 1, 0));
        p.push(exit());
        validate(&p, true).unwrap();
    }

    #[test]
    fn rejects_unknown_opcode_with_index() {
        let e = validate(&[mov64_imm(0, 0), Insn::new(0xff, 0, 0, 0, 0)], true).unwrap_err();
        assert_eq!(e.index, 1);
        assert_eq!(e.kind, InvalidKind::UnknownOpcode(0xff));
    }

    #[test]
    fn rejects_bad_registers_and_fp_writes() {
        assert_eq!(kind(&[mov64_imm(11, 0)]), InvalidKind::BadRegister(11));
        assert_eq!(kind(&[mov64_imm(10, 0)]), InvalidKind::WritesFramePointer);
        assert_eq!(
            kind(&[ldx(SIZE_DW, 10, 1, 0)]),
            InvalidKind::WritesFramePointer
        );
    }

    #[test]
    fn rejects_reserved_fields() {
        assert_eq!(
            kind(&[Insn::new(OP_EXIT, 0, 0, 0, 1)]),
            InvalidKind::ReservedField("imm")
        );
        assert_eq!(
            kind(&[Insn::new(CLASS_ALU64 | ALU_ADD, 1, 2, 0, 0)]),
            InvalidKind::ReservedField("src")
        );
        assert_eq!(
            kind(&[Insn::new(CLASS_ALU64 | ALU_ADD, 1, 0, 3, 0)]),
            InvalidKind::BadOffset(3)
        );
    }

    #[test]
    fn rejects_truncated_ld_imm64() {
        let [a, _] = ld_imm64(1, 5);
        assert_eq!(kind(&[a]), InvalidKind::TruncatedLdImm64);
        assert_eq!(kind(&[a, exit()]), InvalidKind::TruncatedLdImm64);
    }

    #[test]
    fn rejects_jumps_outside_or_into_ld_imm64() {
        assert_eq!(kind(&[ja(5), exit()]), InvalidKind::JumpOutOfRange(6));
        assert_eq!(kind(&[ja(-2), exit()]), InvalidKind::JumpOutOfRange(-1));
        let [a, b] = ld_imm64(1, 5);
        assert_eq!(
            kind(&[ja(1), a, b, exit()]),
            InvalidKind::JumpIntoLdImm64(2)
        );
        assert_eq!(
            kind(&[call_local(5), exit()]),
            InvalidKind::JumpOutOfRange(6)
        );
        validate(&[call_local(5), exit()], false).unwrap();
    }

    #[test]
    fn validate_slot_ignores_jump_targets() {
        validate_slot(ja(1000)).unwrap();
        validate_slot(call_local(-1000)).unwrap();
        assert_eq!(
            validate_slot(ld_imm64(1, 2)[0]),
            Err(InvalidKind::TruncatedLdImm64)
        );
        assert_eq!(
            validate_slot(mov64_imm(11, 0)),
            Err(InvalidKind::BadRegister(11))
        );
    }

    #[test]
    fn checks_legacy_packet_loads() {
        // ldabsw 12, ldindh r1 + 0, ldabsb 3
        validate(
            &[
                Insn::new(0x20, 0, 0, 0, 12),
                Insn::new(0x48, 0, 1, 0, 0),
                Insn::new(0x30, 0, 0, 0, 3),
                exit(),
            ],
            true,
        )
        .unwrap();
        assert_eq!(
            kind(&[Insn::new(0x38, 0, 0, 0, 0)]),
            InvalidKind::LegacyPacketAccess
        );
        assert_eq!(
            kind(&[Insn::new(0x20, 1, 0, 0, 0)]),
            InvalidKind::ReservedField("dst")
        );
        assert_eq!(
            kind(&[Insn::new(0x20, 0, 2, 0, 0)]),
            InvalidKind::ReservedField("src")
        );
        assert_eq!(
            kind(&[Insn::new(0x40, 0, 11, 0, 0)]),
            InvalidKind::BadRegister(11)
        );
    }
}
