//! The BPF instruction set (RFC 9669): opcode constants, the instruction
//! record, and the byte-level encoding.
//!
//! An instruction is 8 bytes, little-endian: `opcode:8 dst:4 src:4 off:16
//! imm:32`. `ld_imm64` takes two slots; the second slot carries the upper 32
//! bits of the immediate in its `imm` field and must otherwise be zero.

use std::fmt;

/// Size in bytes of one instruction slot.
pub const INSN_SIZE: usize = 8;

// Instruction classes (low 3 bits of the opcode).
pub const CLASS_LD: u8 = 0x00;
pub const CLASS_LDX: u8 = 0x01;
pub const CLASS_ST: u8 = 0x02;
pub const CLASS_STX: u8 = 0x03;
pub const CLASS_ALU: u8 = 0x04;
pub const CLASS_JMP: u8 = 0x05;
pub const CLASS_JMP32: u8 = 0x06;
pub const CLASS_ALU64: u8 = 0x07;

// Source bit for ALU/JMP.
pub const SRC_K: u8 = 0x00;
pub const SRC_X: u8 = 0x08;

// ALU operations (high 4 bits).
pub const ALU_ADD: u8 = 0x00;
pub const ALU_SUB: u8 = 0x10;
pub const ALU_MUL: u8 = 0x20;
pub const ALU_DIV: u8 = 0x30;
pub const ALU_OR: u8 = 0x40;
pub const ALU_AND: u8 = 0x50;
pub const ALU_LSH: u8 = 0x60;
pub const ALU_RSH: u8 = 0x70;
pub const ALU_NEG: u8 = 0x80;
pub const ALU_MOD: u8 = 0x90;
pub const ALU_XOR: u8 = 0xa0;
pub const ALU_MOV: u8 = 0xb0;
pub const ALU_ARSH: u8 = 0xc0;
pub const ALU_END: u8 = 0xd0;

// Jump operations (high 4 bits).
pub const JMP_JA: u8 = 0x00;
pub const JMP_JEQ: u8 = 0x10;
pub const JMP_JGT: u8 = 0x20;
pub const JMP_JGE: u8 = 0x30;
pub const JMP_JSET: u8 = 0x40;
pub const JMP_JNE: u8 = 0x50;
pub const JMP_JSGT: u8 = 0x60;
pub const JMP_JSGE: u8 = 0x70;
pub const JMP_CALL: u8 = 0x80;
pub const JMP_EXIT: u8 = 0x90;
pub const JMP_JLT: u8 = 0xa0;
pub const JMP_JLE: u8 = 0xb0;
pub const JMP_JSLT: u8 = 0xc0;
pub const JMP_JSLE: u8 = 0xd0;

// Memory access sizes (bits 3-4) and modes (bits 5-7).
pub const SIZE_W: u8 = 0x00;
pub const SIZE_H: u8 = 0x08;
pub const SIZE_B: u8 = 0x10;
pub const SIZE_DW: u8 = 0x18;
pub const MODE_IMM: u8 = 0x00;
pub const MODE_ABS: u8 = 0x20;
pub const MODE_IND: u8 = 0x40;
pub const MODE_MEM: u8 = 0x60;
pub const MODE_MEMSX: u8 = 0x80;
pub const MODE_ATOMIC: u8 = 0xc0;

// Atomic operations (in `imm`).
pub const ATOMIC_ADD: i32 = 0x00;
pub const ATOMIC_OR: i32 = 0x40;
pub const ATOMIC_AND: i32 = 0x50;
pub const ATOMIC_XOR: i32 = 0xa0;
pub const ATOMIC_FETCH: i32 = 0x01;
pub const ATOMIC_XCHG: i32 = 0xe0 | ATOMIC_FETCH;
pub const ATOMIC_CMPXCHG: i32 = 0xf0 | ATOMIC_FETCH;

// Full opcodes used by name elsewhere.
pub const OP_LD_IMM64: u8 = CLASS_LD | MODE_IMM | SIZE_DW;
pub const OP_JA: u8 = CLASS_JMP | JMP_JA;
pub const OP_GOTOL: u8 = CLASS_JMP32 | JMP_JA;
pub const OP_CALL: u8 = CLASS_JMP | JMP_CALL;
pub const OP_CALLX: u8 = CLASS_JMP | JMP_CALL | SRC_X;
pub const OP_EXIT: u8 = CLASS_JMP | JMP_EXIT;

/// `call` source field: kernel helper by its id in the kernel's `enum
/// bpf_func_id` (see [`crate::kernel_helpers`]).
pub const CALL_HELPER: u8 = 0;
/// `call` source field: BPF-to-BPF call, `imm` is relative to the next slot.
pub const CALL_LOCAL: u8 = 1;
/// `call` source field: a host runtime helper (`printf`, `malloc`, ...) by
/// its index in the VM's runtime table. The kernel uses this encoding for
/// kfunc calls (`BPF_PSEUDO_KFUNC_CALL`); here only the linker emits it, when
/// it binds a name to a runtime helper, so no raw helper id can reach one.
pub const CALL_RUNTIME: u8 = 2;

/// Frame pointer register (read-only).
pub const REG_FP: u8 = 10;

/// One decoded instruction slot.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Insn {
    pub op: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    /// Builds an instruction from its fields.
    pub const fn new(op: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            op,
            dst,
            src,
            off,
            imm,
        }
    }

    /// Decodes one slot from exactly 8 little-endian bytes.
    pub fn from_bytes(b: [u8; INSN_SIZE]) -> Insn {
        Insn {
            op: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Encodes the slot as 8 little-endian bytes.
    pub fn to_bytes(self) -> [u8; INSN_SIZE] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.op,
            (self.dst & 0x0f) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// The instruction class (low three bits of the opcode).
    pub fn class(self) -> u8 {
        self.op & 0x07
    }

    /// True for the first slot of a 16-byte `ld_imm64`.
    pub fn is_ld_imm64(self) -> bool {
        self.op == OP_LD_IMM64
    }
}

impl fmt::Debug for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Insn {{ op: {:#04x}, dst: r{}, src: r{}, off: {}, imm: {} }}",
            self.op, self.dst, self.src, self.off, self.imm
        )
    }
}

/// Decodes a byte buffer into instruction slots. The length must be a
/// multiple of 8; the error carries the number of trailing bytes.
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>, usize> {
    if !bytes.len().is_multiple_of(INSN_SIZE) {
        return Err(bytes.len() % INSN_SIZE);
    }
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| Insn::from_bytes(c.try_into().expect("chunk of 8")))
        .collect())
}

/// Encodes instruction slots back into bytes.
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

/// Small constructors for hand-written programs in tests and tools.
pub mod asm {
    use super::*;

    /// `ALU64 dst op= imm`.
    pub fn alu64_imm(op: u8, dst: u8, imm: i32) -> Insn {
        Insn::new(CLASS_ALU64 | SRC_K | op, dst, 0, 0, imm)
    }
    /// `ALU64 dst op= src`.
    pub fn alu64_reg(op: u8, dst: u8, src: u8) -> Insn {
        Insn::new(CLASS_ALU64 | SRC_X | op, dst, src, 0, 0)
    }
    /// `ALU32 dst op= imm`.
    pub fn alu32_imm(op: u8, dst: u8, imm: i32) -> Insn {
        Insn::new(CLASS_ALU | SRC_K | op, dst, 0, 0, imm)
    }
    /// `ALU32 dst op= src`.
    pub fn alu32_reg(op: u8, dst: u8, src: u8) -> Insn {
        Insn::new(CLASS_ALU | SRC_X | op, dst, src, 0, 0)
    }
    /// `r{dst} = imm` (64-bit move of a sign-extended 32-bit immediate).
    pub fn mov64_imm(dst: u8, imm: i32) -> Insn {
        alu64_imm(ALU_MOV, dst, imm)
    }
    /// `r{dst} = r{src}`.
    pub fn mov64_reg(dst: u8, src: u8) -> Insn {
        alu64_reg(ALU_MOV, dst, src)
    }
    /// The two slots of `r{dst} = imm ll`.
    pub fn ld_imm64(dst: u8, imm: u64) -> [Insn; 2] {
        [
            Insn::new(OP_LD_IMM64, dst, 0, 0, imm as u32 as i32),
            Insn::new(0, 0, 0, 0, (imm >> 32) as u32 as i32),
        ]
    }
    /// `r{dst} = *(size *)(r{src} + off)`.
    pub fn ldx(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(CLASS_LDX | MODE_MEM | size, dst, src, off, 0)
    }
    /// `*(size *)(r{dst} + off) = r{src}`.
    pub fn stx(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(CLASS_STX | MODE_MEM | size, dst, src, off, 0)
    }
    /// `*(size *)(r{dst} + off) = imm`.
    pub fn st(size: u8, dst: u8, off: i16, imm: i32) -> Insn {
        Insn::new(CLASS_ST | MODE_MEM | size, dst, 0, off, imm)
    }
    /// `if r{dst} op imm goto +off`.
    pub fn jmp_imm(op: u8, dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(CLASS_JMP | SRC_K | op, dst, 0, off, imm)
    }
    /// `if r{dst} op r{src} goto +off`.
    pub fn jmp_reg(op: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(CLASS_JMP | SRC_X | op, dst, src, off, 0)
    }
    /// `goto +off`.
    pub fn ja(off: i16) -> Insn {
        Insn::new(OP_JA, 0, 0, off, 0)
    }
    /// `call helper#id` (a kernel helper id).
    pub fn call_helper(id: i32) -> Insn {
        Insn::new(OP_CALL, 0, CALL_HELPER, 0, id)
    }
    /// `call` of runtime helper `index` (`src = 2`).
    pub fn call_runtime(index: i32) -> Insn {
        Insn::new(OP_CALL, 0, CALL_RUNTIME, 0, index)
    }
    /// `call +rel` (BPF-to-BPF, relative to the next slot).
    pub fn call_local(rel: i32) -> Insn {
        Insn::new(OP_CALL, 0, CALL_LOCAL, 0, rel)
    }
    /// `exit`.
    pub fn exit() -> Insn {
        Insn::new(OP_EXIT, 0, 0, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        let b = [0x18, 0x21, 0xfe, 0xff, 0x78, 0x56, 0x34, 0x12];
        let i = Insn::from_bytes(b);
        assert_eq!(i.op, 0x18);
        assert_eq!(i.dst, 1);
        assert_eq!(i.src, 2);
        assert_eq!(i.off, -2);
        assert_eq!(i.imm, 0x12345678);
        assert_eq!(i.to_bytes(), b);
    }

    #[test]
    fn decode_rejects_partial_slot() {
        assert_eq!(decode(&[0; 12]), Err(4));
        assert_eq!(decode(&[0; 16]).unwrap().len(), 2);
    }
}
