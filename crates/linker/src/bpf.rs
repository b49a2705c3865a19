//! The BPF backend: ELF relocation types -> edge kinds, implicit (REL)
//! addends -> explicit ones, and the one `apply_fixup` that writes a
//! resolved value into an instruction or data word.
//!
//! Arithmetic from the Linux kernel's `Documentation/bpf/llvm_reloc.rst`:
//!
//! | ELF type            | n  | edge      | field                         | value          |
//! |---------------------|----|-----------|-------------------------------|----------------|
//! | R_BPF_NONE          | 0  | None      | -                             | -              |
//! | R_BPF_64_64         | 1  | LdImm64   | imm of both ld_imm64 slots    | S + A          |
//! | R_BPF_64_ABS64      | 2  | Abs64     | 64-bit data word              | S + A          |
//! | R_BPF_64_ABS32      | 3  | Abs32     | 32-bit data word              | S + A          |
//! | R_BPF_64_NODYLD32   | 4  | NoDyld32  | 32-bit word in .BTF/.BTF.ext  | S + A          |
//! | R_BPF_64_32         | 10 | Call32    | imm of `call`                 | (S + A - P - 8) / 8 |
//!
//! In non-code sections, types 1 and 10 are the absolute data relocations
//! older LLVM emitted (see [`edge_kind`]).
//!
//! For `Call32` the stored immediate `imm` encodes the addend as
//! `A = (imm + 1) * 8`: clang writes `-1` for calls to named functions and
//! `offset / 8 - 1` for calls through a section symbol.

use bpf_vm::isa::{CALL_LOCAL, CALL_RUNTIME, INSN_SIZE, OP_CALL, OP_LD_IMM64};
use std::fmt;

/// Relocation kinds of the BPF target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    None,
    LdImm64,
    Abs64,
    Abs32,
    NoDyld32,
    Call32,
}

impl EdgeKind {
    /// The ELF relocation type this edge came from.
    pub fn elf_type(self) -> u32 {
        match self {
            EdgeKind::None => 0,
            EdgeKind::LdImm64 => 1,
            EdgeKind::Abs64 => 2,
            EdgeKind::Abs32 => 3,
            EdgeKind::NoDyld32 => 4,
            EdgeKind::Call32 => 10,
        }
    }

    /// The ELF relocation name.
    pub fn name(self) -> &'static str {
        match self {
            EdgeKind::None => "R_BPF_NONE",
            EdgeKind::LdImm64 => "R_BPF_64_64",
            EdgeKind::Abs64 => "R_BPF_64_ABS64",
            EdgeKind::Abs32 => "R_BPF_64_ABS32",
            EdgeKind::NoDyld32 => "R_BPF_64_NODYLD32",
            EdgeKind::Call32 => "R_BPF_64_32",
        }
    }

    /// Bytes of the patched field, counted from the edge offset.
    pub fn width(self) -> u64 {
        match self {
            EdgeKind::None => 0,
            EdgeKind::LdImm64 => 16,
            EdgeKind::Abs64 | EdgeKind::Call32 => 8,
            EdgeKind::Abs32 | EdgeKind::NoDyld32 => 4,
        }
    }
}

/// Maps an ELF relocation type to an edge kind, by the meaning of the
/// section it patches: LLVM before R_BPF_64_ABS64/ABS32 existed (LLVM 11
/// and older) used R_BPF_64_64 for 64-bit data words and R_BPF_64_32 for
/// 32-bit ones, so outside code those two are absolute data relocations.
pub fn edge_kind(elf_type: u32, in_code: bool) -> Option<EdgeKind> {
    Some(match elf_type {
        0 => EdgeKind::None,
        1 if in_code => EdgeKind::LdImm64,
        1 => EdgeKind::Abs64,
        2 => EdgeKind::Abs64,
        3 => EdgeKind::Abs32,
        4 => EdgeKind::NoDyld32,
        10 if in_code => EdgeKind::Call32,
        10 => EdgeKind::Abs32,
        _ => return None,
    })
}

/// Why an edge cannot be read or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixupError {
    /// The patched field does not fit in the block.
    OutOfBounds { size: u64 },
    /// The relocation sits on the wrong instruction.
    WrongInstruction { expected: &'static str, opcode: u8 },
    /// The value does not fit the field.
    OutOfRange { value: i128 },
    /// A call target is not instruction-aligned.
    Misaligned { value: i128 },
}

impl fmt::Display for FixupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FixupError::OutOfBounds { size } => {
                write!(
                    f,
                    "patched field runs past the end of the section (size {size:#x})"
                )
            }
            FixupError::WrongInstruction { expected, opcode } => {
                write!(f, "expected {expected}, found opcode {opcode:#04x}")
            }
            FixupError::OutOfRange { value } => {
                write!(f, "value {value:#x} does not fit the relocated field")
            }
            FixupError::Misaligned { value } => {
                write!(f, "call displacement {value:#x} is not a multiple of 8")
            }
        }
    }
}

/// What an edge's target resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// A VM address (or a section-relative value for non-loaded sections).
    Address(u64),
    /// A host runtime helper, callable only with a runtime-helper `call`
    /// (`src = 2`) of its index.
    Helper(u32),
}

fn field(bytes: &[u8], offset: u64, width: u64) -> Result<std::ops::Range<usize>, FixupError> {
    let size = bytes.len() as u64;
    let end = offset.checked_add(width).filter(|e| *e <= size);
    match end {
        Some(end) => Ok(offset as usize..end as usize),
        None => Err(FixupError::OutOfBounds { size }),
    }
}

fn expect_opcode(bytes: &[u8], at: usize, op: u8, name: &'static str) -> Result<(), FixupError> {
    if bytes[at] == op {
        Ok(())
    } else {
        Err(FixupError::WrongInstruction {
            expected: name,
            opcode: bytes[at],
        })
    }
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

/// Reads the implicit (REL) addend stored at the edge's place.
pub fn read_addend(kind: EdgeKind, bytes: &[u8], offset: u64) -> Result<i64, FixupError> {
    // Name the wrong instruction before complaining about its length.
    if let Some(&op) = usize::try_from(offset).ok().and_then(|o| bytes.get(o)) {
        match kind {
            EdgeKind::LdImm64 if op != OP_LD_IMM64 => {
                return Err(FixupError::WrongInstruction {
                    expected: "ld_imm64 (opcode 0x18)",
                    opcode: op,
                })
            }
            EdgeKind::Call32 if op != OP_CALL => {
                return Err(FixupError::WrongInstruction {
                    expected: "call (opcode 0x85)",
                    opcode: op,
                })
            }
            _ => {}
        }
    }
    let r = field(bytes, offset, kind.width())?;
    let b = &bytes[r.clone()];
    Ok(match kind {
        EdgeKind::None => 0,
        EdgeKind::LdImm64 => {
            expect_opcode(bytes, r.start, OP_LD_IMM64, "ld_imm64 (opcode 0x18)")?;
            (le32(&b[4..]) as u64 | (le32(&b[12..]) as u64) << 32) as i64
        }
        EdgeKind::Abs64 => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        EdgeKind::Abs32 | EdgeKind::NoDyld32 => le32(b) as i64,
        EdgeKind::Call32 => {
            expect_opcode(bytes, r.start, OP_CALL, "call (opcode 0x85)")?;
            (le32(&b[4..]) as i32 as i64 + 1) * INSN_SIZE as i64
        }
    })
}

/// Writes `target + addend` into the field at `offset` of a block placed at
/// `place` (the block's address plus `offset` is P in the formulas above).
pub fn apply_fixup(
    kind: EdgeKind,
    bytes: &mut [u8],
    offset: u64,
    place: u64,
    target: Resolved,
    addend: i64,
) -> Result<(), FixupError> {
    let r = field(bytes, offset, kind.width())?;
    let value = match target {
        Resolved::Address(a) => a as i128 + addend as i128,
        Resolved::Helper(id) => {
            // Only a direct call can reach a helper; the resolve pass gives
            // every other reference a trampoline address instead.
            expect_opcode(bytes, r.start, OP_CALL, "call (opcode 0x85)")?;
            bytes[r.start + 1] = CALL_RUNTIME << 4;
            bytes[r.start + 4..r.start + 8].copy_from_slice(&id.to_le_bytes());
            return Ok(());
        }
    };
    let b = &mut bytes[r.clone()];
    match kind {
        EdgeKind::None => {}
        EdgeKind::LdImm64 => {
            if b[0] != OP_LD_IMM64 {
                return Err(FixupError::WrongInstruction {
                    expected: "ld_imm64 (opcode 0x18)",
                    opcode: b[0],
                });
            }
            let v = u64::try_from(value)
                .or_else(|_| i64::try_from(value).map(|v| v as u64))
                .map_err(|_| FixupError::OutOfRange { value })?;
            b[4..8].copy_from_slice(&(v as u32).to_le_bytes());
            b[12..16].copy_from_slice(&((v >> 32) as u32).to_le_bytes());
        }
        EdgeKind::Abs64 => {
            let v = u64::try_from(value)
                .or_else(|_| i64::try_from(value).map(|v| v as u64))
                .map_err(|_| FixupError::OutOfRange { value })?;
            b.copy_from_slice(&v.to_le_bytes());
        }
        EdgeKind::Abs32 | EdgeKind::NoDyld32 => {
            let v = u32::try_from(value)
                .or_else(|_| i32::try_from(value).map(|v| v as u32))
                .map_err(|_| FixupError::OutOfRange { value })?;
            b.copy_from_slice(&v.to_le_bytes());
        }
        EdgeKind::Call32 => {
            if b[0] != OP_CALL {
                return Err(FixupError::WrongInstruction {
                    expected: "call (opcode 0x85)",
                    opcode: b[0],
                });
            }
            let disp = value - (place as i128 + INSN_SIZE as i128);
            if disp % INSN_SIZE as i128 != 0 {
                return Err(FixupError::Misaligned { value: disp });
            }
            let imm = i32::try_from(disp / INSN_SIZE as i128)
                .map_err(|_| FixupError::OutOfRange { value: disp })?;
            b[1] = CALL_LOCAL << 4;
            b[4..8].copy_from_slice(&imm.to_le_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_addend_round_trips_kernel_doc_example() {
        // `call 0x2` through the `.text` section symbol targets .text + 0x18.
        let mut insn = [0x85, 0x10, 0, 0, 2, 0, 0, 0];
        let a = read_addend(EdgeKind::Call32, &insn, 0).unwrap();
        assert_eq!(a, 0x18);
        // Placed at 0x1000, .text at 0x2000: target 0x2018, disp (0x2018-0x1008)/8.
        apply_fixup(
            EdgeKind::Call32,
            &mut insn,
            0,
            0x1000,
            Resolved::Address(0x2000),
            a,
        )
        .unwrap();
        assert_eq!(i32::from_le_bytes(insn[4..8].try_into().unwrap()), 0x202);
        // A named function: imm -1 means addend 0.
        let named = [0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(read_addend(EdgeKind::Call32, &named, 0).unwrap(), 0);
    }

    #[test]
    fn ld_imm64_splits_the_address() {
        let mut b = [0u8; 16];
        b[0] = 0x18;
        b[4] = 8; // section offset 8 as the implicit addend
        let a = read_addend(EdgeKind::LdImm64, &b, 0).unwrap();
        assert_eq!(a, 8);
        apply_fixup(
            EdgeKind::LdImm64,
            &mut b,
            0,
            0,
            Resolved::Address(0x3_0000_0010),
            a,
        )
        .unwrap();
        assert_eq!(le32(&b[4..]), 0x18);
        assert_eq!(le32(&b[12..]), 3);
    }

    #[test]
    fn misplaced_relocations_are_errors() {
        let b = [0xb7u8; 16];
        assert!(matches!(
            read_addend(EdgeKind::LdImm64, &b, 0),
            Err(FixupError::WrongInstruction { .. })
        ));
        assert!(matches!(
            read_addend(EdgeKind::Abs64, &b, 12),
            Err(FixupError::OutOfBounds { .. })
        ));
        let mut w = [0u8; 4];
        assert!(matches!(
            apply_fixup(EdgeKind::Abs32, &mut w, 0, 0, Resolved::Address(1 << 33), 0),
            Err(FixupError::OutOfRange { .. })
        ));
    }

    #[test]
    fn helper_calls_become_runtime_calls_by_index() {
        let mut insn = [0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff];
        apply_fixup(EdgeKind::Call32, &mut insn, 0, 0, Resolved::Helper(7), 0).unwrap();
        assert_eq!(insn, [0x85, 0x20, 0, 0, 7, 0, 0, 0]);
    }
}
