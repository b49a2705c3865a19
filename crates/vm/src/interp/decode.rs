//! The interpreter's form of the code: one [`Op`] per instruction slot,
//! decoded once when code is loaded or patched rather than on every run.
//!
//! An `Op` has its operands extracted, its immediate sign-extended to 64
//! bits (`ld_imm64`: both halves combined), its jump or call target made
//! absolute, and its behaviour picked out into one [`Kind`]: variants of an
//! opcode that differ by `off` or `imm` (signed division, `movsx` widths,
//! byte-swap widths) are separate kinds.
//!
//! ALU operations are in three-address form, `r[dst] = r[src] op operand`,
//! so that [`fuse`] can fold a preceding register move into them.
//!
//! Decoding is total: a slot that is not a valid instruction (the second
//! half of an `ld_imm64`, or anything validation would refuse) decodes to
//! [`Kind::Invalid`], which traps if it is ever reached.

use crate::isa::*;

/// What an [`Op`] does. `Imm` kinds take `Op::imm` as their (right)
/// operand, `Reg` kinds a register. Field use by group:
///
/// - ALU (`Add64Imm` ..= `MovMov32Reg`): `r[dst] = r[src] op (imm |
///   r[src2])`. The `Mov..` kinds cover two slots: they first do the move
///   `r[aux & 0xff] = r[aux >> 8]` (of their own width), then the op.
/// - conditional jumps: `if r[dst] cmp (imm | r[src]) goto aux`.
/// - `AddJ..`: `r[src2] += imm as i32; if r[dst] cmp ((imm >> 32) as i32
///   | r[src]) goto aux` (an `add` fused with the jump after it).
/// - loads, stores, atomics, calls: the instruction's own `dst` and `src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    // ---- ALU64 ----
    Add64Imm,
    Add64Reg,
    Sub64Imm,
    Sub64Reg,
    Mul64Imm,
    Mul64Reg,
    Div64Imm,
    Div64Reg,
    SDiv64Imm,
    SDiv64Reg,
    Or64Imm,
    Or64Reg,
    And64Imm,
    And64Reg,
    Lsh64Imm,
    Lsh64Reg,
    Rsh64Imm,
    Rsh64Reg,
    Neg64,
    Mod64Imm,
    Mod64Reg,
    SMod64Imm,
    SMod64Reg,
    Xor64Imm,
    Xor64Reg,
    Mov64Imm,
    Mov64Reg,
    /// `movsx` from 8, 16 and 32 bits.
    Movsx64From8,
    Movsx64From16,
    Movsx64From32,
    Arsh64Imm,
    Arsh64Reg,
    /// Byte swaps (`bswap`, and `be` on this little-endian host).
    Swap16,
    Swap32,
    Swap64,
    /// `le16`/`le32`: truncation on this little-endian host (`le64` is [`Kind::Nop`]).
    Zext16,
    Zext32,

    // ---- ALU32 (results zero-extended) ----
    Add32Imm,
    Add32Reg,
    Sub32Imm,
    Sub32Reg,
    Mul32Imm,
    Mul32Reg,
    Div32Imm,
    Div32Reg,
    SDiv32Imm,
    SDiv32Reg,
    Or32Imm,
    Or32Reg,
    And32Imm,
    And32Reg,
    Lsh32Imm,
    Lsh32Reg,
    Rsh32Imm,
    Rsh32Reg,
    Neg32,
    Mod32Imm,
    Mod32Reg,
    SMod32Imm,
    SMod32Reg,
    Xor32Imm,
    Xor32Reg,
    Mov32Imm,
    Mov32Reg,
    Movsx32From8,
    Movsx32From16,
    Arsh32Imm,
    Arsh32Reg,

    /// An instruction with no effect (`le64`).
    Nop,

    // ---- a register move fused with the ALU op after it ----
    MovAdd64Imm,
    MovAdd64Reg,
    MovSub64Imm,
    MovSub64Reg,
    MovMul64Imm,
    MovMul64Reg,
    MovDiv64Imm,
    MovDiv64Reg,
    MovSDiv64Imm,
    MovSDiv64Reg,
    MovOr64Imm,
    MovOr64Reg,
    MovAnd64Imm,
    MovAnd64Reg,
    MovLsh64Imm,
    MovLsh64Reg,
    MovRsh64Imm,
    MovRsh64Reg,
    MovMod64Imm,
    MovMod64Reg,
    MovSMod64Imm,
    MovSMod64Reg,
    MovXor64Imm,
    MovXor64Reg,
    MovArsh64Imm,
    MovArsh64Reg,
    MovAdd32Imm,
    MovAdd32Reg,
    MovSub32Imm,
    MovSub32Reg,
    MovMul32Imm,
    MovMul32Reg,
    MovOr32Imm,
    MovOr32Reg,
    MovAnd32Imm,
    MovAnd32Reg,
    MovLsh32Imm,
    MovLsh32Reg,
    MovRsh32Imm,
    MovRsh32Reg,
    MovXor32Imm,
    MovXor32Reg,
    MovArsh32Imm,
    MovArsh32Reg,
    MovMov64Imm,
    MovMov64Reg,
    MovMov32Imm,
    MovMov32Reg,

    // ---- jumps: target in `Op::aux` ----
    Ja,
    Jeq64Imm,
    Jeq64Reg,
    Jgt64Imm,
    Jgt64Reg,
    Jge64Imm,
    Jge64Reg,
    Jset64Imm,
    Jset64Reg,
    Jne64Imm,
    Jne64Reg,
    Jsgt64Imm,
    Jsgt64Reg,
    Jsge64Imm,
    Jsge64Reg,
    Jlt64Imm,
    Jlt64Reg,
    Jle64Imm,
    Jle64Reg,
    Jslt64Imm,
    Jslt64Reg,
    Jsle64Imm,
    Jsle64Reg,
    Jeq32Imm,
    Jeq32Reg,
    Jgt32Imm,
    Jgt32Reg,
    Jge32Imm,
    Jge32Reg,
    Jset32Imm,
    Jset32Reg,
    Jne32Imm,
    Jne32Reg,
    Jsgt32Imm,
    Jsgt32Reg,
    Jsge32Imm,
    Jsge32Reg,
    Jlt32Imm,
    Jlt32Reg,
    Jle32Imm,
    Jle32Reg,
    Jslt32Imm,
    Jslt32Reg,
    Jsle32Imm,
    Jsle32Reg,

    // ---- `r += imm` fused with the 64-bit conditional jump after it ----
    AddJeqImm,
    AddJeqReg,
    AddJgtImm,
    AddJgtReg,
    AddJgeImm,
    AddJgeReg,
    AddJsetImm,
    AddJsetReg,
    AddJneImm,
    AddJneReg,
    AddJsgtImm,
    AddJsgtReg,
    AddJsgeImm,
    AddJsgeReg,
    AddJltImm,
    AddJltReg,
    AddJleImm,
    AddJleReg,
    AddJsltImm,
    AddJsltReg,
    AddJsleImm,
    AddJsleReg,

    // ---- calls ----
    /// BPF-to-BPF call; target in `Op::aux`.
    CallLocal,
    /// Kernel helper call; the helper id is the low 32 bits of `Op::imm`.
    CallHelper,
    /// Runtime helper call; the table index is the low 32 bits of `Op::imm`.
    CallRuntime,
    /// Indirect call to the address in `r[Op::dst]`.
    Callx,
    Exit,
    /// `r[dst] = r[src]` then `exit`.
    MovExit,
    /// `r[dst] = imm` then `exit`.
    MovImmExit,

    // ---- loads and stores: offset in `Op::aux` (an `i32`'s bits) ----
    /// `ld_imm64`: the whole 64-bit value in `Op::imm`; covers two slots.
    LdImm64,
    /// An `ld_imm64` whose second slot is missing (cut off by `truncate_code`).
    LdImm64Truncated,
    /// Legacy packet loads: `r0 = ntoh(packet[imm])` and
    /// `r0 = ntoh(packet[r[src] + imm])`; the size in bytes in `Op::src2`.
    LdAbs,
    LdInd,
    Ldx8,
    Ldx16,
    Ldx32,
    Ldx64,
    Ldxs8,
    Ldxs16,
    Ldxs32,
    /// Loads a verifier proved in bounds (see [`proven`]): same effect,
    /// fewer checks.
    LdxP8,
    LdxP16,
    LdxP32,
    LdxP64,
    LdxsP8,
    LdxsP16,
    LdxsP32,
    St8,
    St16,
    St32,
    St64,
    Stx8,
    Stx16,
    Stx32,
    Stx64,
    /// Atomic read-modify-write; the operation (RFC 9669 `imm`) in `Op::imm`.
    Atomic32,
    Atomic64,

    /// Not an instruction: traps if reached.
    Invalid,
}

/// One pre-decoded instruction (see [`Kind`] for what each field means).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: Kind,
    /// Destination (or base address) register, 0..=10.
    pub dst: u8,
    /// Source register, 0..=10.
    pub src: u8,
    /// Second source register of ALU and `AddJ..` ops, 0..=10.
    pub src2: u8,
    /// Absolute jump or call target slot, or the memory offset (an `i32`'s bits).
    pub aux: u32,
    /// Immediate operand, sign-extended; the full value for `ld_imm64`.
    pub imm: u64,
}

impl Op {
    /// The slot that is never run (the second half of an `ld_imm64`, or invalid code).
    pub const INVALID: Op = Op {
        kind: Kind::Invalid,
        dst: 0,
        src: 0,
        src2: 0,
        aux: 0,
        imm: 0,
    };

    /// The memory offset of a load, store or atomic, sign-extended.
    #[inline(always)]
    pub fn offset(self) -> u64 {
        self.aux as i32 as i64 as u64
    }
}

/// Decodes slot `pc` of `code` (which must exist); an `ld_imm64` also
/// reads slot `pc + 1`.
pub(crate) fn decode(code: &[Insn], pc: usize) -> Op {
    let Some(&insn) = code.get(pc) else {
        return Op::INVALID;
    };
    let op = |kind| Op {
        kind,
        dst: insn.dst & 15,
        src: insn.src & 15,
        src2: 0,
        aux: 0,
        imm: insn.imm as i64 as u64,
    };
    let x = insn.op & SRC_X != 0;
    // ALU: `r[dst] = r[dst] op (imm | r[src])`; moves read `r[src]`.
    let alu = |kind| {
        let unary_from_src = matches!(
            kind,
            Kind::Mov64Reg
                | Kind::Mov32Reg
                | Kind::Movsx64From8
                | Kind::Movsx64From16
                | Kind::Movsx64From32
                | Kind::Movsx32From8
                | Kind::Movsx32From16
        );
        let byte_op = matches!(
            kind,
            Kind::Swap16 | Kind::Swap32 | Kind::Swap64 | Kind::Zext16 | Kind::Zext32 | Kind::Nop
        );
        let src = if unary_from_src { insn.src } else { insn.dst } & 15;
        // Ops without a register operand name `src` again, so that no op
        // names a register it does not read (see `fuse`).
        let src2 = if x && !unary_from_src && !byte_op {
            insn.src & 15
        } else {
            src
        };
        Op {
            src,
            src2,
            ..op(kind)
        }
    };
    let with_offset = |kind| Op {
        aux: insn.off as i32 as u32,
        ..op(kind)
    };
    let jump_to = |kind, rel: i64| {
        let target = pc as i64 + 1 + rel;
        match u32::try_from(target) {
            Ok(aux) => Op { aux, ..op(kind) },
            // `Vm::load_code` keeps code below 2^28 slots: unreachable.
            Err(_) => Op::INVALID,
        }
    };
    let pick = |imm: Kind, reg: Kind| if x { reg } else { imm };
    match insn.class() {
        CLASS_ALU64 => alu(alu64(insn, pick)),
        CLASS_ALU => alu(alu32(insn, pick)),
        CLASS_JMP | CLASS_JMP32 => {
            let is32 = insn.class() == CLASS_JMP32;
            match (insn.op & 0xf0, is32) {
                (JMP_JA, false) if !x => jump_to(Kind::Ja, insn.off as i64),
                (JMP_JA, true) if !x => jump_to(Kind::Ja, insn.imm as i64),
                (JMP_CALL, false) if x => op(Kind::Callx),
                (JMP_CALL, false) => match insn.src {
                    CALL_HELPER => op(Kind::CallHelper),
                    CALL_RUNTIME => op(Kind::CallRuntime),
                    CALL_LOCAL => jump_to(Kind::CallLocal, insn.imm as i64),
                    _ => Op::INVALID,
                },
                (JMP_EXIT, false) if !x => op(Kind::Exit),
                (code, _) => match conditional_jump(code, is32, pick) {
                    Some(kind) => jump_to(kind, insn.off as i64),
                    None => Op::INVALID,
                },
            }
        }
        CLASS_LD if insn.op == OP_LD_IMM64 => match code.get(pc + 1) {
            Some(second) => Op {
                imm: (insn.imm as u32 as u64) | ((second.imm as u32 as u64) << 32),
                ..op(Kind::LdImm64)
            },
            None => op(Kind::LdImm64Truncated),
        },
        CLASS_LD if matches!(insn.op & 0xe0, MODE_ABS | MODE_IND) => {
            let kind = if insn.op & 0xe0 == MODE_ABS {
                Kind::LdAbs
            } else {
                Kind::LdInd
            };
            let size = match insn.op & 0x18 {
                SIZE_W => 4,
                SIZE_H => 2,
                SIZE_B => 1,
                _ => return Op::INVALID,
            };
            Op {
                src2: size,
                ..op(kind)
            }
        }
        CLASS_LDX => with_offset(match insn.op & !0x07 {
            0x60 => Kind::Ldx32,
            0x68 => Kind::Ldx16,
            0x70 => Kind::Ldx8,
            0x78 => Kind::Ldx64,
            0x80 => Kind::Ldxs32,
            0x88 => Kind::Ldxs16,
            0x90 => Kind::Ldxs8,
            _ => Kind::Invalid,
        }),
        CLASS_ST => with_offset(match insn.op & !0x07 {
            0x60 => Kind::St32,
            0x68 => Kind::St16,
            0x70 => Kind::St8,
            0x78 => Kind::St64,
            _ => Kind::Invalid,
        }),
        CLASS_STX => with_offset(match insn.op & !0x07 {
            0x60 => Kind::Stx32,
            0x68 => Kind::Stx16,
            0x70 => Kind::Stx8,
            0x78 => Kind::Stx64,
            0xc0 => Kind::Atomic32,
            0xd8 => Kind::Atomic64,
            _ => Kind::Invalid,
        }),
        _ => Op::INVALID,
    }
}

fn alu64(insn: Insn, pick: impl Fn(Kind, Kind) -> Kind) -> Kind {
    use Kind::*;
    let signed = insn.off == 1;
    match insn.op & 0xf0 {
        ALU_ADD => pick(Add64Imm, Add64Reg),
        ALU_SUB => pick(Sub64Imm, Sub64Reg),
        ALU_MUL => pick(Mul64Imm, Mul64Reg),
        ALU_DIV if signed => pick(SDiv64Imm, SDiv64Reg),
        ALU_DIV => pick(Div64Imm, Div64Reg),
        ALU_OR => pick(Or64Imm, Or64Reg),
        ALU_AND => pick(And64Imm, And64Reg),
        ALU_LSH => pick(Lsh64Imm, Lsh64Reg),
        ALU_RSH => pick(Rsh64Imm, Rsh64Reg),
        ALU_NEG => Neg64,
        ALU_MOD if signed => pick(SMod64Imm, SMod64Reg),
        ALU_MOD => pick(Mod64Imm, Mod64Reg),
        ALU_XOR => pick(Xor64Imm, Xor64Reg),
        ALU_MOV => match (pick(Mov64Imm, Mov64Reg), insn.off) {
            (Mov64Reg, 8) => Movsx64From8,
            (Mov64Reg, 16) => Movsx64From16,
            (Mov64Reg, 32) => Movsx64From32,
            (kind, _) => kind,
        },
        ALU_ARSH => pick(Arsh64Imm, Arsh64Reg),
        // bswap (ALU64 | END): unconditional byte swap.
        ALU_END => swap(insn.imm),
        _ => Invalid,
    }
}

fn alu32(insn: Insn, pick: impl Fn(Kind, Kind) -> Kind) -> Kind {
    use Kind::*;
    let signed = insn.off == 1;
    match insn.op & 0xf0 {
        ALU_ADD => pick(Add32Imm, Add32Reg),
        ALU_SUB => pick(Sub32Imm, Sub32Reg),
        ALU_MUL => pick(Mul32Imm, Mul32Reg),
        ALU_DIV if signed => pick(SDiv32Imm, SDiv32Reg),
        ALU_DIV => pick(Div32Imm, Div32Reg),
        ALU_OR => pick(Or32Imm, Or32Reg),
        ALU_AND => pick(And32Imm, And32Reg),
        ALU_LSH => pick(Lsh32Imm, Lsh32Reg),
        ALU_RSH => pick(Rsh32Imm, Rsh32Reg),
        ALU_NEG => Neg32,
        ALU_MOD if signed => pick(SMod32Imm, SMod32Reg),
        ALU_MOD => pick(Mod32Imm, Mod32Reg),
        ALU_XOR => pick(Xor32Imm, Xor32Reg),
        ALU_MOV => match (pick(Mov32Imm, Mov32Reg), insn.off) {
            (Mov32Reg, 8) => Movsx32From8,
            (Mov32Reg, 16) => Movsx32From16,
            (kind, _) => kind,
        },
        ALU_ARSH => pick(Arsh32Imm, Arsh32Reg),
        // `be` (source bit set) swaps bytes; `le` only truncates on this host.
        ALU_END if insn.op & SRC_X != 0 => swap(insn.imm),
        ALU_END => match insn.imm {
            16 => Zext16,
            32 => Zext32,
            _ => Nop,
        },
        _ => Invalid,
    }
}

fn swap(width: i32) -> Kind {
    match width {
        16 => Kind::Swap16,
        32 => Kind::Swap32,
        _ => Kind::Swap64,
    }
}

fn conditional_jump(code: u8, is32: bool, pick: impl Fn(Kind, Kind) -> Kind) -> Option<Kind> {
    use Kind::*;
    let (imm64, reg64, imm32, reg32) = match code {
        JMP_JEQ => (Jeq64Imm, Jeq64Reg, Jeq32Imm, Jeq32Reg),
        JMP_JGT => (Jgt64Imm, Jgt64Reg, Jgt32Imm, Jgt32Reg),
        JMP_JGE => (Jge64Imm, Jge64Reg, Jge32Imm, Jge32Reg),
        JMP_JSET => (Jset64Imm, Jset64Reg, Jset32Imm, Jset32Reg),
        JMP_JNE => (Jne64Imm, Jne64Reg, Jne32Imm, Jne32Reg),
        JMP_JSGT => (Jsgt64Imm, Jsgt64Reg, Jsgt32Imm, Jsgt32Reg),
        JMP_JSGE => (Jsge64Imm, Jsge64Reg, Jsge32Imm, Jsge32Reg),
        JMP_JLT => (Jlt64Imm, Jlt64Reg, Jlt32Imm, Jlt32Reg),
        JMP_JLE => (Jle64Imm, Jle64Reg, Jle32Imm, Jle32Reg),
        JMP_JSLT => (Jslt64Imm, Jslt64Reg, Jslt32Imm, Jslt32Reg),
        JMP_JSLE => (Jsle64Imm, Jsle64Reg, Jsle32Imm, Jsle32Reg),
        _ => return None,
    };
    Some(if is32 {
        pick(imm32, reg32)
    } else {
        pick(imm64, reg64)
    })
}

/// The op for a load a verifier proved to stay inside one region (see
/// `Vm::set_access_proofs`); other ops are returned unchanged.
pub(crate) fn proven(op: Op) -> Op {
    use Kind::*;
    let kind = match op.kind {
        Ldx8 => LdxP8,
        Ldx16 => LdxP16,
        Ldx32 => LdxP32,
        Ldx64 => LdxP64,
        Ldxs8 => LdxsP8,
        Ldxs16 => LdxsP16,
        Ldxs32 => LdxsP32,
        other => other,
    };
    Op { kind, ..op }
}

/// Which register width an ALU kind computes in, for [`fuse`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum AluWidth {
    /// Reads its source registers in full (ALU64, byte swaps, truncations).
    Bits64,
    /// Reads only the low 32 bits of its source registers (ALU32).
    Bits32,
}

fn alu_width(kind: Kind) -> Option<AluWidth> {
    use Kind::*;
    match kind {
        Add64Imm | Add64Reg | Sub64Imm | Sub64Reg | Mul64Imm | Mul64Reg | Div64Imm | Div64Reg
        | SDiv64Imm | SDiv64Reg | Or64Imm | Or64Reg | And64Imm | And64Reg | Lsh64Imm | Lsh64Reg
        | Rsh64Imm | Rsh64Reg | Neg64 | Mod64Imm | Mod64Reg | SMod64Imm | SMod64Reg | Xor64Imm
        | Xor64Reg | Mov64Imm | Mov64Reg | Movsx64From8 | Movsx64From16 | Movsx64From32
        | Arsh64Imm | Arsh64Reg | Swap16 | Swap32 | Swap64 | Zext16 | Zext32 => {
            Some(AluWidth::Bits64)
        }
        Add32Imm | Add32Reg | Sub32Imm | Sub32Reg | Mul32Imm | Mul32Reg | Div32Imm | Div32Reg
        | SDiv32Imm | SDiv32Reg | Or32Imm | Or32Reg | And32Imm | And32Reg | Lsh32Imm | Lsh32Reg
        | Rsh32Imm | Rsh32Reg | Neg32 | Mod32Imm | Mod32Reg | SMod32Imm | SMod32Reg | Xor32Imm
        | Xor32Reg | Mov32Imm | Mov32Reg | Movsx32From8 | Movsx32From16 | Arsh32Imm | Arsh32Reg => {
            Some(AluWidth::Bits32)
        }
        _ => None,
    }
}

/// The kind for a register move fused with an ALU op of `kind`.
fn with_move(kind: Kind) -> Option<Kind> {
    use Kind::*;
    Some(match kind {
        Add64Imm => MovAdd64Imm,
        Add64Reg => MovAdd64Reg,
        Sub64Imm => MovSub64Imm,
        Sub64Reg => MovSub64Reg,
        Mul64Imm => MovMul64Imm,
        Mul64Reg => MovMul64Reg,
        Div64Imm => MovDiv64Imm,
        Div64Reg => MovDiv64Reg,
        SDiv64Imm => MovSDiv64Imm,
        SDiv64Reg => MovSDiv64Reg,
        Or64Imm => MovOr64Imm,
        Or64Reg => MovOr64Reg,
        And64Imm => MovAnd64Imm,
        And64Reg => MovAnd64Reg,
        Lsh64Imm => MovLsh64Imm,
        Lsh64Reg => MovLsh64Reg,
        Rsh64Imm => MovRsh64Imm,
        Rsh64Reg => MovRsh64Reg,
        Mod64Imm => MovMod64Imm,
        Mod64Reg => MovMod64Reg,
        SMod64Imm => MovSMod64Imm,
        SMod64Reg => MovSMod64Reg,
        Xor64Imm => MovXor64Imm,
        Xor64Reg => MovXor64Reg,
        Arsh64Imm => MovArsh64Imm,
        Arsh64Reg => MovArsh64Reg,
        Add32Imm => MovAdd32Imm,
        Add32Reg => MovAdd32Reg,
        Sub32Imm => MovSub32Imm,
        Sub32Reg => MovSub32Reg,
        Mul32Imm => MovMul32Imm,
        Mul32Reg => MovMul32Reg,
        Or32Imm => MovOr32Imm,
        Or32Reg => MovOr32Reg,
        And32Imm => MovAnd32Imm,
        And32Reg => MovAnd32Reg,
        Lsh32Imm => MovLsh32Imm,
        Lsh32Reg => MovLsh32Reg,
        Rsh32Imm => MovRsh32Imm,
        Rsh32Reg => MovRsh32Reg,
        Xor32Imm => MovXor32Imm,
        Xor32Reg => MovXor32Reg,
        Arsh32Imm => MovArsh32Imm,
        Arsh32Reg => MovArsh32Reg,
        Mov64Imm => MovMov64Imm,
        Mov64Reg => MovMov64Reg,
        Mov32Imm => MovMov32Imm,
        Mov32Reg => MovMov32Reg,
        _ => return None,
    })
}

/// The `AddJ..` kind for `r += imm` followed by a 64-bit conditional jump.
fn add_then(jump: Kind) -> Option<Kind> {
    use Kind::*;
    Some(match jump {
        Jeq64Imm => AddJeqImm,
        Jeq64Reg => AddJeqReg,
        Jgt64Imm => AddJgtImm,
        Jgt64Reg => AddJgtReg,
        Jge64Imm => AddJgeImm,
        Jge64Reg => AddJgeReg,
        Jset64Imm => AddJsetImm,
        Jset64Reg => AddJsetReg,
        Jne64Imm => AddJneImm,
        Jne64Reg => AddJneReg,
        Jsgt64Imm => AddJsgtImm,
        Jsgt64Reg => AddJsgtReg,
        Jsge64Imm => AddJsgeImm,
        Jsge64Reg => AddJsgeReg,
        Jlt64Imm => AddJltImm,
        Jlt64Reg => AddJltReg,
        Jle64Imm => AddJleImm,
        Jle64Reg => AddJleReg,
        Jslt64Imm => AddJsltImm,
        Jslt64Reg => AddJsltReg,
        Jsle64Imm => AddJsleImm,
        Jsle64Reg => AddJsleReg,
        _ => return None,
    })
}

/// The `aux` of a fused `Mov..` op: the move `r[to] = r[from]`.
pub(crate) fn move_aux(to: u8, from: u8) -> u32 {
    to as u32 | (from as u32) << 8
}

/// One op doing the work of two consecutive single-slot ops, `first` then
/// `second`, if the pair is one of the fused forms:
///
/// - a register move followed by an ALU op of the same width: the move,
///   then the op, which reads the move's source for the moved register;
/// - an ALU op followed by a register move of the same width that the op
///   neither reads, writes nor feeds: the same, in the other order;
/// - `r += imm` followed by a 64-bit conditional jump (a loop counter);
/// - `r = r'` or `r = imm` (64-bit) followed by `exit`.
///
/// No part of a fused op but `exit` changes control, and none traps, so a
/// trap never has to name the second slot; a fused op covers two slots and
/// costs two instructions.
pub(crate) fn fuse(first: Op, second: Op) -> Option<Op> {
    let move_width = |op: Op| match op.kind {
        Kind::Mov64Reg => Some(AluWidth::Bits64),
        Kind::Mov32Reg => Some(AluWidth::Bits32),
        _ => None,
    };
    match (first.kind, second.kind) {
        (Kind::Mov64Reg, Kind::Exit) => Some(Op {
            kind: Kind::MovExit,
            ..first
        }),
        (Kind::Mov64Imm, Kind::Exit) => Some(Op {
            kind: Kind::MovImmExit,
            ..first
        }),
        (Kind::Add64Imm, jump) if first.src == first.dst && add_then(jump).is_some() => Some(Op {
            kind: add_then(jump)?,
            src2: first.dst,
            imm: (first.imm as u32 as u64) | ((second.imm as u32 as u64) << 32),
            ..second
        }),
        _ => {
            if let Some(width) = move_width(first) {
                if alu_width(second.kind) != Some(width) {
                    return None;
                }
                let (to, from) = (first.dst, first.src);
                let forward = |r: u8| if r == to { from } else { r };
                return Some(Op {
                    kind: with_move(second.kind)?,
                    src: forward(second.src),
                    src2: forward(second.src2),
                    aux: move_aux(to, from),
                    ..second
                });
            }
            let width = move_width(second)?;
            let (to, from) = (second.dst, second.src);
            let commutes = alu_width(first.kind) == Some(width)
                && ![first.dst, first.src, first.src2].contains(&to)
                && first.dst != from;
            commutes.then_some(Op {
                kind: with_move(first.kind)?,
                aux: move_aux(to, from),
                ..first
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::asm::*;

    fn op(insn: Insn) -> Op {
        decode(&[insn], 0)
    }

    #[test]
    fn alu_ops_are_three_address() {
        let add = op(alu64_reg(ALU_ADD, 1, 2));
        assert_eq!(
            (add.kind, add.dst, add.src, add.src2),
            (Kind::Add64Reg, 1, 1, 2)
        );
        let mov = op(mov64_reg(3, 4));
        assert_eq!((mov.kind, mov.dst, mov.src), (Kind::Mov64Reg, 3, 4));
        let imm = op(alu32_imm(ALU_SUB, 5, -7));
        assert_eq!(
            (imm.kind, imm.src, imm.imm),
            (Kind::Sub32Imm, 5, -7i64 as u64)
        );
    }

    #[test]
    fn a_move_folds_into_the_next_alu_op_of_its_width() {
        // r4 = r2; r4 >>= 3  ->  move, then r4 = r2 >> 3
        let f = fuse(op(mov64_reg(4, 2)), op(alu64_imm(ALU_RSH, 4, 3))).unwrap();
        assert_eq!((f.kind, f.dst, f.src, f.imm), (Kind::MovRsh64Imm, 4, 2, 3));
        assert_eq!(f.aux, move_aux(4, 2));
        // r0 = r2; r0 *= r0  ->  r0 = r2 * r2
        let f = fuse(op(mov64_reg(0, 2)), op(alu64_reg(ALU_MUL, 0, 0))).unwrap();
        assert_eq!((f.kind, f.src, f.src2), (Kind::MovMul64Reg, 2, 2));
        // w4 = w0; w4 &= 7
        let f = fuse(op(alu32_reg(ALU_MOV, 4, 0)), op(alu32_imm(ALU_AND, 4, 7))).unwrap();
        assert_eq!((f.kind, f.src), (Kind::MovAnd32Imm, 0));
        // An independent op: r3 = r1; r5 -= r3  ->  move, then r5 -= r1
        let f = fuse(op(mov64_reg(3, 1)), op(alu64_reg(ALU_SUB, 5, 3))).unwrap();
        assert_eq!((f.kind, f.dst, f.src, f.src2), (Kind::MovSub64Reg, 5, 5, 1));
        assert_eq!(f.aux, move_aux(3, 1));
        // Moves fuse with moves.
        let f = fuse(op(mov64_reg(6, 1)), op(mov64_imm(0, 0))).unwrap();
        assert_eq!(
            (f.kind, f.dst, f.imm, f.aux),
            (Kind::MovMov64Imm, 0, 0, move_aux(6, 1))
        );
        // Widths must match: w4 = w0 zero-extends, r4 += 1 reads all 64 bits.
        assert_eq!(
            fuse(op(alu32_reg(ALU_MOV, 4, 0)), op(alu64_imm(ALU_ADD, 4, 1))),
            None
        );
        // Fused ops do not fuse again.
        let f = fuse(op(mov64_reg(4, 2)), op(alu64_imm(ALU_ADD, 4, 1))).unwrap();
        assert_eq!(fuse(op(mov64_reg(4, 3)), f), None);
        assert_eq!(fuse(f, op(mov64_reg(1, 2))), None);
    }

    #[test]
    fn an_alu_op_and_a_move_after_it_fuse_only_if_they_commute() {
        // r2 += 1; r3 = r0  ->  move, then r2 += 1
        let f = fuse(op(alu64_imm(ALU_ADD, 2, 1)), op(mov64_reg(3, 0))).unwrap();
        assert_eq!((f.kind, f.dst, f.src, f.imm), (Kind::MovAdd64Imm, 2, 2, 1));
        assert_eq!(f.aux, move_aux(3, 0));
        // The op writes the move's source, or reads or writes its target.
        assert_eq!(
            fuse(op(alu64_imm(ALU_ADD, 0, 1)), op(mov64_reg(3, 0))),
            None
        );
        assert_eq!(
            fuse(op(alu64_reg(ALU_ADD, 2, 3)), op(mov64_reg(3, 0))),
            None
        );
        assert_eq!(
            fuse(op(alu64_imm(ALU_ADD, 3, 1)), op(mov64_reg(3, 0))),
            None
        );
        // Nor across widths.
        assert_eq!(
            fuse(op(alu64_imm(ALU_ADD, 2, 1)), op(alu32_reg(ALU_MOV, 3, 0))),
            None
        );
    }

    #[test]
    fn a_move_folds_into_a_following_exit() {
        let f = fuse(op(mov64_reg(0, 6)), op(exit())).unwrap();
        assert_eq!((f.kind, f.dst, f.src), (Kind::MovExit, 0, 6));
        let f = fuse(op(mov64_imm(0, -1)), op(exit())).unwrap();
        assert_eq!((f.kind, f.dst, f.imm), (Kind::MovImmExit, 0, u64::MAX));
        assert_eq!(fuse(op(alu32_imm(ALU_MOV, 0, 1)), op(exit())), None);
    }

    #[test]
    fn an_add_folds_into_the_next_64_bit_jump() {
        let mut code = vec![alu64_imm(ALU_ADD, 2, -1)];
        code.push(jmp_imm(JMP_JSGT, 2, -5, -2));
        let f = fuse(decode(&code, 0), decode(&code, 1)).unwrap();
        assert_eq!((f.kind, f.dst, f.src2, f.aux), (Kind::AddJsgtImm, 2, 2, 0));
        assert_eq!((f.imm as i32, (f.imm >> 32) as i32), (-1, -5));
        let code = [alu64_imm(ALU_ADD, 2, 1), jmp_reg(JMP_JLT, 1, 2, 5)];
        let f = fuse(decode(&code, 0), decode(&code, 1)).unwrap();
        assert_eq!(
            (f.kind, f.dst, f.src, f.src2, f.aux),
            (Kind::AddJltReg, 1, 2, 2, 7)
        );
        // Not a 32-bit jump, and not an add in three-address form.
        let code = [alu64_imm(ALU_ADD, 2, 1), Insn::new(0x26, 2, 0, 0, 1)];
        assert_eq!(fuse(decode(&code, 0), decode(&code, 1)), None);
    }
}
