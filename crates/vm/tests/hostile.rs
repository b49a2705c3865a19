//! Hostile programs: each must end in a typed validation error or trap with
//! the right kind, instruction index and address, and never panic.
//!
//! Addresses are computed from the documented layout (region `k` starts at
//! `k << 32`; the entry frame's r10 is the top of a stack of
//! `frame_size * max_call_depth` bytes), not read back from the VM.

use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{
    code_addr, validate, Access, HelperError, InvalidKind, MemError, MemReason, RegionKind,
    TrapKind, Vm, VmConfig,
};
use proptest::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const FRAME: u64 = 512;
const DEPTH: u64 = 256;
/// r10 of the entry frame with the default configuration.
const ENTRY_FP: u64 = (5 << 32) + FRAME * DEPTH;

fn mem_error(addr: u64, len: usize, access: Access, reason: MemReason) -> TrapKind {
    TrapKind::Memory(MemError {
        addr,
        len,
        access,
        reason,
    })
}

/// Loads `prog` into `vm` and runs it with `args`; returns (kind, pc) of the trap.
fn trap_in(vm: &mut Vm, prog: &[Insn], args: &[u64]) -> (TrapKind, usize) {
    let at = vm
        .load_code(prog)
        .unwrap_or_else(|e| panic!("program rejected: {e}"));
    match vm.call(at, args) {
        Ok(v) => panic!("expected a trap, program returned {v:#x}"),
        Err(t) => {
            // Every trap renders a message naming the instruction.
            assert!(t.to_string().contains(&format!("instruction {}", t.pc)));
            (t.kind, t.pc - at)
        }
    }
}

fn trap(prog: &[Insn]) -> (TrapKind, usize) {
    trap_in(&mut Vm::default(), prog, &[])
}

fn invalid(prog: &[Insn]) -> (InvalidKind, usize) {
    let mut vm = Vm::default();
    let e = vm
        .load_code(prog)
        .expect_err("program should have been rejected");
    assert!(vm.code().is_empty(), "a rejected chunk must not be loaded");
    assert!(e.to_string().contains(&format!("#{}", e.index)));
    (e.kind, e.index)
}

fn load_from(addr: u64, size: u8) -> Vec<Insn> {
    let mut p = ld_imm64(1, addr).to_vec();
    p.push(ldx(size, 0, 1, 0));
    p.push(exit());
    p
}

fn store_to(addr: u64, size: u8) -> Vec<Insn> {
    let mut p = ld_imm64(1, addr).to_vec();
    p.push(st(size, 1, 0, 1));
    p.push(exit());
    p
}

// ------------------------------------------------------------ memory ----

#[test]
fn null_dereference_traps_at_address_zero() {
    let (kind, pc) = trap(&[ldx(SIZE_DW, 0, 1, 0), exit()]);
    assert_eq!(kind, mem_error(0, 8, Access::Read, MemReason::Unmapped));
    assert_eq!(pc, 0);
    let (kind, pc) = trap(&[mov64_imm(0, 0), stx(SIZE_W, 1, 0, 16), exit()]);
    assert_eq!(kind, mem_error(16, 4, Access::Write, MemReason::Unmapped));
    assert_eq!(pc, 1);
    let msg = TrapKind::Memory(MemError {
        addr: 0,
        len: 8,
        access: Access::Read,
        reason: MemReason::Unmapped,
    })
    .to_string();
    assert!(msg.contains("NULL"), "{msg}");
}

#[test]
fn out_of_bounds_in_every_data_region() {
    for kind in [RegionKind::Rodata, RegionKind::Data, RegionKind::Heap] {
        let mut vm = Vm::default();
        let a = vm.mem.alloc(kind, 16, 8).unwrap();
        assert_eq!(a, kind.base());
        // Just inside is fine.
        let at = vm.load_code(&load_from(a + 8, SIZE_DW)).unwrap();
        assert_eq!(vm.call(at, &[]), Ok(0));
        // One past the end, and straddling the end.
        for (addr, size, len) in [
            (a + 16, SIZE_B, 1),
            (a + 12, SIZE_DW, 8),
            (a + 15, SIZE_H, 2),
        ] {
            let (k, pc) = trap_in(&mut vm, &load_from(addr, size), &[]);
            assert_eq!(
                k,
                mem_error(addr, len, Access::Read, MemReason::OutOfBounds(kind))
            );
            assert_eq!(pc, 2);
        }
        // Far past the end but inside the region's 4 GiB window.
        let far = kind.base() + 0xffff_fff0;
        let (k, _) = trap_in(&mut vm, &load_from(far, SIZE_W), &[]);
        assert_eq!(
            k,
            mem_error(far, 4, Access::Read, MemReason::OutOfBounds(kind))
        );
    }
}

#[test]
fn empty_regions_have_no_bytes_at_all() {
    for kind in [RegionKind::Rodata, RegionKind::Data, RegionKind::Heap] {
        let (k, _) = trap(&load_from(kind.base(), SIZE_B));
        assert_eq!(
            k,
            mem_error(kind.base(), 1, Access::Read, MemReason::OutOfBounds(kind))
        );
    }
}

#[test]
fn code_addresses_are_not_data() {
    let mut vm = Vm::default();
    let p = load_from(code_addr(0), SIZE_DW);
    let (k, pc) = trap_in(&mut vm, &p, &[]);
    assert_eq!(
        k,
        mem_error(code_addr(0), 8, Access::Read, MemReason::NotData)
    );
    assert_eq!(pc, 2);
    let (k, _) = trap_in(&mut vm, &store_to(code_addr(1), SIZE_B), &[]);
    assert_eq!(
        k,
        mem_error(code_addr(1), 1, Access::Write, MemReason::NotData)
    );
    // The code stays intact.
    assert_eq!(vm.code()[0], p[0]);
}

#[test]
fn forged_pointers_into_unmapped_space() {
    for addr in [
        0x1000,
        (1 << 32) - 8,
        9 << 32,
        10 << 32,
        0xdead_beef_0000_0000,
        u64::MAX - 7,
    ] {
        let (k, _) = trap(&load_from(addr, SIZE_DW));
        assert_eq!(
            k,
            mem_error(addr, 8, Access::Read, MemReason::Unmapped),
            "{addr:#x}"
        );
        let (k, _) = trap(&store_to(addr, SIZE_DW));
        assert_eq!(
            k,
            mem_error(addr, 8, Access::Write, MemReason::Unmapped),
            "{addr:#x}"
        );
    }
}

#[test]
fn writes_to_rodata_are_refused() {
    let mut vm = Vm::default();
    let a = vm.mem.alloc(RegionKind::Rodata, 8, 8).unwrap();
    vm.mem.write_initial(a, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    let ro = MemReason::ReadOnly(RegionKind::Rodata);
    let (k, pc) = trap_in(&mut vm, &store_to(a, SIZE_W), &[]);
    assert_eq!(k, mem_error(a, 4, Access::Write, ro.clone()));
    assert_eq!(pc, 2);
    // stx and atomics too.
    let (k, _) = trap_in(&mut vm, &[stx(SIZE_B, 1, 1, 3), exit()], &[a]);
    assert_eq!(k, mem_error(a + 3, 1, Access::Write, ro.clone()));
    let xadd = Insn::new(CLASS_STX | MODE_ATOMIC | SIZE_DW, 1, 2, 0, ATOMIC_ADD);
    let (k, _) = trap_in(&mut vm, &[xadd, exit()], &[a]);
    assert_eq!(k, mem_error(a, 8, Access::Write, ro.clone()));
    // A helper cannot write it either.
    vm.register_helper(
        1,
        "poke",
        Box::new(|m, a| Ok(m.write_bytes(a[0], &[0]).map(|_| 0)?)),
    );
    let (k, _) = trap_in(&mut vm, &[call_helper(1), exit()], &[a]);
    assert_eq!(
        k,
        TrapKind::Helper {
            helper: "poke".into(),
            error: HelperError::Memory(MemError {
                addr: a,
                len: 1,
                access: Access::Write,
                reason: ro,
            }),
        }
    );
    assert_eq!(vm.mem.read_bytes(a, 8).unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn stack_underflow_below_the_frame() {
    // r10 - 512 is the lowest byte of the entry frame; r10 - 513 is below it.
    let p = [ldx(SIZE_B, 0, 10, -512), exit()];
    let mut vm = Vm::default();
    let at = vm.load_code(&p).unwrap();
    assert_eq!(vm.call(at, &[]), Ok(0));
    let (k, pc) = trap(&[ldx(SIZE_B, 0, 10, -513), exit()]);
    assert_eq!(
        k,
        mem_error(
            ENTRY_FP - 513,
            1,
            Access::Read,
            MemReason::OutOfBounds(RegionKind::Stack)
        )
    );
    assert_eq!(pc, 0);
    // An 8-byte store straddling the bottom of the frame.
    let (k, _) = trap(&[st(SIZE_DW, 10, -516, 0), exit()]);
    assert_eq!(
        k,
        mem_error(
            ENTRY_FP - 516,
            8,
            Access::Write,
            MemReason::OutOfBounds(RegionKind::Stack)
        )
    );
}

#[test]
fn reads_above_the_entry_frame_are_refused() {
    for off in [0i16, 8, 4096] {
        let (k, _) = trap(&[ldx(SIZE_DW, 0, 10, off), exit()]);
        let addr = ENTRY_FP + off as u64;
        assert_eq!(
            k,
            mem_error(
                addr,
                8,
                Access::Read,
                MemReason::OutOfBounds(RegionKind::Stack)
            ),
            "off {off}"
        );
    }
    // The top 8 bytes are fine.
    let mut vm = Vm::default();
    let at = vm.load_code(&[ldx(SIZE_DW, 0, 10, -8), exit()]).unwrap();
    assert_eq!(vm.call(at, &[]), Ok(0));
}

#[test]
fn a_callee_cannot_reach_below_its_own_frame() {
    let p = [
        call_local(1), // slot 0 -> 2
        exit(),
        ldx(SIZE_B, 0, 10, -513), // slot 2, frame 1
        exit(),
    ];
    let mut vm = Vm::default();
    let at = vm.load_code(&p).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    let callee_fp = ENTRY_FP - FRAME;
    assert_eq!(
        t.kind,
        mem_error(
            callee_fp - 513,
            1,
            Access::Read,
            MemReason::OutOfBounds(RegionKind::Stack)
        )
    );
    assert_eq!((t.pc, t.call_sites.clone()), (2, vec![0]));
    // After the trap, a new run starts with the full entry frame again.
    let at2 = vm.load_code(&[ldx(SIZE_B, 0, 10, -512), exit()]).unwrap();
    assert_eq!(vm.call(at2, &[]), Ok(0));
}

#[test]
fn huge_offsets_and_wrapping_address_arithmetic() {
    // r1 = u64::MAX; r1 + 1 wraps to 0.
    let (k, _) = trap(&[mov64_imm(1, -1), ldx(SIZE_B, 0, 1, 1), exit()]);
    assert_eq!(k, mem_error(0, 1, Access::Read, MemReason::Unmapped));
    // Offsets of +-32 KiB from r10.
    let (k, _) = trap(&[ldx(SIZE_B, 0, 10, i16::MIN), exit()]);
    assert_eq!(
        k,
        mem_error(
            ENTRY_FP - 32768,
            1,
            Access::Read,
            MemReason::OutOfBounds(RegionKind::Stack)
        )
    );
    let (k, _) = trap(&[st(SIZE_B, 10, i16::MAX, 0), exit()]);
    assert_eq!(
        k,
        mem_error(
            ENTRY_FP + 32767,
            1,
            Access::Write,
            MemReason::OutOfBounds(RegionKind::Stack)
        )
    );
    // Pointer arithmetic that walks from one region into the next.
    let mut vm = Vm::default();
    let heap = vm.mem.alloc(RegionKind::Heap, 64, 8).unwrap();
    let mut p = ld_imm64(2, 1 << 32).to_vec();
    p.extend([alu64_reg(ALU_ADD, 1, 2), ldx(SIZE_DW, 0, 1, 0), exit()]);
    let (k, pc) = trap_in(&mut vm, &p, &[heap]);
    // heap + 4 GiB is the stack base, below the live frames.
    assert_eq!(
        k,
        mem_error(
            5 << 32,
            8,
            Access::Read,
            MemReason::OutOfBounds(RegionKind::Stack)
        )
    );
    assert_eq!(pc, 3);
    // An access that starts in the last bytes of a region's window.
    let (k, _) = trap_in(&mut vm, &load_from((5 << 32) - 4, SIZE_DW), &[]);
    assert_eq!(
        k,
        mem_error(
            (5 << 32) - 4,
            8,
            Access::Read,
            MemReason::OutOfBounds(RegionKind::Heap)
        )
    );
    // Address arithmetic in 32-bit ALU cannot make a pointer out of thin air.
    let (k, _) = trap_in(
        &mut vm,
        &[alu32_imm(ALU_ADD, 1, 0), ldx(SIZE_B, 0, 1, 0), exit()],
        &[heap],
    );
    assert_eq!(k, mem_error(0, 1, Access::Read, MemReason::Unmapped));
}

// ------------------------------------------------------- validation ----

#[test]
fn jump_into_the_second_slot_of_ld_imm64() {
    let [a, b] = ld_imm64(1, 5);
    assert_eq!(
        invalid(&[mov64_imm(0, 0), ja(1), a, b, exit()]),
        (InvalidKind::JumpIntoLdImm64(3), 1)
    );
    assert_eq!(
        invalid(&[mov64_imm(0, 0), a, b, jmp_imm(JMP_JEQ, 0, 0, -2), exit()]),
        (InvalidKind::JumpIntoLdImm64(2), 3)
    );
    assert_eq!(
        invalid(&[Insn::new(OP_GOTOL, 0, 0, 0, 1), a, b, exit()]),
        (InvalidKind::JumpIntoLdImm64(2), 0)
    );
    // A local call that stays inside the chunk is checked the same way.
    let e = validate(&[call_local(1), a, b, exit()], true).unwrap_err();
    assert_eq!((e.kind, e.index), (InvalidKind::JumpIntoLdImm64(2), 0));
}

#[test]
fn load_code_names_a_call_into_the_second_slot_of_ld_imm64() {
    let [a, b] = ld_imm64(1, 5);
    assert_eq!(
        invalid(&[call_local(1), a, b, exit()]),
        (InvalidKind::JumpIntoLdImm64(2), 0)
    );
}

#[test]
fn load_code_refuses_a_call_into_the_second_slot_of_ld_imm64() {
    let [a, b] = ld_imm64(1, 5);
    let (_, index) = invalid(&[call_local(1), a, b, exit()]);
    assert_eq!(index, 0);
    // Across chunks: an earlier chunk's ld_imm64.
    let mut vm = Vm::default();
    vm.load_code(&[a, b, exit()]).unwrap();
    let e = vm.load_code(&[call_local(-3), exit()]).unwrap_err();
    assert_eq!(e.index, 0);
    assert_eq!(vm.code().len(), 3);
}

#[test]
fn jumps_outside_the_chunk() {
    assert_eq!(invalid(&[ja(1)]), (InvalidKind::JumpOutOfRange(2), 0));
    assert_eq!(
        invalid(&[exit(), jmp_imm(JMP_JNE, 1, 0, i16::MIN)]),
        (InvalidKind::JumpOutOfRange(2 - 32768), 1)
    );
    assert_eq!(
        invalid(&[Insn::new(OP_GOTOL, 0, 0, 0, i32::MAX), exit()]),
        (InvalidKind::JumpOutOfRange(1 + i32::MAX as i64), 0)
    );
    assert_eq!(
        invalid(&[Insn::new(OP_GOTOL, 0, 0, 0, i32::MIN), exit()]),
        (InvalidKind::JumpOutOfRange(1 + i32::MIN as i64), 0)
    );
    assert_eq!(
        invalid(&[call_local(i32::MAX), exit()]),
        (InvalidKind::JumpOutOfRange(1 + i32::MAX as i64), 0)
    );
    assert_eq!(
        invalid(&[call_local(-2), exit()]),
        (InvalidKind::JumpOutOfRange(-1), 0)
    );
}

#[test]
fn truncated_ld_imm64() {
    let [a, b] = ld_imm64(1, 5);
    assert_eq!(invalid(&[exit(), a]), (InvalidKind::TruncatedLdImm64, 1));
    // The second slot must have opcode, registers and offset all zero.
    assert_eq!(invalid(&[a, exit()]), (InvalidKind::TruncatedLdImm64, 0));
    for bad in [
        Insn::new(0, 1, 0, 0, 0),
        Insn::new(0, 0, 1, 0, 0),
        Insn::new(0, 0, 0, 1, 0),
    ] {
        assert_eq!(
            invalid(&[a, bad, exit()]),
            (InvalidKind::TruncatedLdImm64, 0)
        );
    }
    // Two ld_imm64 back to back are fine; an ld_imm64 as its own second slot is not.
    let mut vm = Vm::default();
    vm.load_code(&[a, b, a, b, exit()]).unwrap();
    assert_eq!(
        invalid(&[a, a, b, exit()]),
        (InvalidKind::TruncatedLdImm64, 0)
    );
    // Pseudo loads (map fds etc.) are refused with their own kind.
    let pseudo = Insn::new(OP_LD_IMM64, 1, 1, 0, 3);
    assert_eq!(
        invalid(&[pseudo, b, exit()]),
        (InvalidKind::UnsupportedLdImm64Source(1), 0)
    );
}

#[test]
fn unknown_opcodes() {
    let cases = [
        0xff, // class ALU64, code 0xf
        0xe7, // ALU64 code 0xe
        0x8f, // NEG with X source
        0xdf, // ALU64 END with X source
        0xe5, // JMP code 0xe
        0x0d, // JA with X source
        0x86, // call in JMP32
        0x96, // exit in JMP32
        0x9d, // exit with X source
        0x38, // LD with size DW but mode ABS? (LegacyPacketAccess below)
        0x99, // LDX MEMSX DW
        0xe1, // LDX mode 7
        0xa2, // ST mode 5
        0xc2, // ST ATOMIC
        0xd3, // STX ATOMIC B
        0xcb, // STX ATOMIC H
        0x10, // LD IMM H
    ];
    for op in cases {
        let (kind, index) = invalid(&[mov64_imm(0, 0), Insn::new(op, 0, 0, 0, 0), exit()]);
        assert_eq!(index, 1, "op {op:#x}");
        match kind {
            InvalidKind::UnknownOpcode(o) => assert_eq!(o, op),
            InvalidKind::LegacyPacketAccess => assert_eq!(op & 0x07, CLASS_LD),
            other => panic!("op {op:#x}: {other:?}"),
        }
    }
    // Unknown atomic operations and byte-swap widths.
    let a = |imm| Insn::new(CLASS_STX | MODE_ATOMIC | SIZE_DW, 1, 2, 0, imm);
    for imm in [0x10, 0x02, 0xe0, 0xf0, 0x41 | 0x100, -1] {
        assert_eq!(
            invalid(&[a(imm), exit()]),
            (InvalidKind::BadImmediate(imm), 0)
        );
    }
    for w in [0, 8, 17, 128] {
        let be = Insn::new(CLASS_ALU | ALU_END | SRC_X, 1, 0, 0, w);
        assert_eq!(invalid(&[be, exit()]), (InvalidKind::BadImmediate(w), 0));
    }
    // Unknown call kinds (src = 2 is a runtime helper, 0 and 1 are the
    // kernel's helper and local calls).
    let c = Insn::new(OP_CALL, 0, 3, 0, 1);
    assert_eq!(
        invalid(&[c, exit()]),
        (InvalidKind::UnsupportedCallKind(3), 0)
    );
}

#[test]
fn bad_registers() {
    for r in 11..16u8 {
        assert_eq!(
            invalid(&[mov64_imm(r, 0), exit()]),
            (InvalidKind::BadRegister(r), 0)
        );
        assert_eq!(
            invalid(&[mov64_reg(0, r), exit()]),
            (InvalidKind::BadRegister(r), 0)
        );
        assert_eq!(
            invalid(&[ldx(SIZE_B, 0, r, 0), exit()]),
            (InvalidKind::BadRegister(r), 0)
        );
        assert_eq!(
            invalid(&[stx(SIZE_B, r, 0, 0), exit()]),
            (InvalidKind::BadRegister(r), 0)
        );
        assert_eq!(
            invalid(&[jmp_reg(JMP_JEQ, 0, r, 0), exit()]),
            (InvalidKind::BadRegister(r), 0)
        );
        assert_eq!(
            invalid(&[Insn::new(OP_CALLX, r, 0, 0, 0), exit()]),
            (InvalidKind::BadRegister(r), 0)
        );
    }
    // r10 is read-only, whatever the instruction that would write it.
    let [a, b] = ld_imm64(10, 1);
    for w in [
        mov64_imm(10, 0),
        alu32_imm(ALU_ADD, 10, 1),
        ldx(SIZE_DW, 10, 1, 0),
        Insn::new(CLASS_ALU64 | ALU_NEG, 10, 0, 0, 0),
        Insn::new(CLASS_ALU64 | ALU_END, 10, 0, 0, 16),
    ] {
        assert_eq!(invalid(&[w, exit()]), (InvalidKind::WritesFramePointer, 0));
    }
    assert_eq!(
        invalid(&[a, b, exit()]),
        (InvalidKind::WritesFramePointer, 0)
    );
}

#[test]
fn fetching_atomics_cannot_write_the_frame_pointer() {
    // A FETCH atomic writes the old value into `src`: with src = r10 it
    // would overwrite the read-only frame pointer.
    for op in [
        ATOMIC_ADD | ATOMIC_FETCH,
        ATOMIC_OR | ATOMIC_FETCH,
        ATOMIC_AND | ATOMIC_FETCH,
        ATOMIC_XOR | ATOMIC_FETCH,
        ATOMIC_XCHG,
    ] {
        let insn = Insn::new(CLASS_STX | MODE_ATOMIC | SIZE_DW, 1, 10, 0, op);
        assert_eq!(
            invalid(&[insn, call_local(0), exit()]),
            (InvalidKind::WritesFramePointer, 0),
            "op {op:#x}"
        );
    }
    // Without FETCH, r10 is only read: storing the frame pointer is fine.
    let mut vm = Vm::default();
    let buf = vm.mem.alloc(RegionKind::Data, 8, 8).unwrap();
    let xadd = Insn::new(CLASS_STX | MODE_ATOMIC | SIZE_DW, 1, 10, 0, ATOMIC_ADD);
    let at = vm.load_code(&[xadd, mov64_imm(0, 0), exit()]).unwrap();
    vm.call(at, &[buf]).unwrap();
    assert_eq!(vm.mem.load(buf, 8).unwrap(), ENTRY_FP);
}

#[test]
fn non_zero_reserved_fields() {
    let reserved = |insn: Insn| {
        let (kind, index) = invalid(&[insn, exit()]);
        assert_eq!(index, 0, "{insn:?}");
        kind
    };
    use InvalidKind::{BadOffset, ReservedField};
    assert_eq!(
        reserved(Insn::new(OP_EXIT, 1, 0, 0, 0)),
        ReservedField("dst")
    );
    assert_eq!(
        reserved(Insn::new(OP_EXIT, 0, 1, 0, 0)),
        ReservedField("src")
    );
    assert_eq!(
        reserved(Insn::new(OP_EXIT, 0, 0, 1, 0)),
        ReservedField("off")
    );
    assert_eq!(
        reserved(Insn::new(OP_EXIT, 0, 0, 0, 1)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_ADD, 1, 2, 0, 0)),
        ReservedField("src")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU | ALU_ADD | SRC_X, 1, 2, 0, 5)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_ADD, 1, 0, 1, 0)),
        BadOffset(1)
    );
    // Offsets other than the signed-division / sign-extension ones.
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_DIV, 1, 0, 2, 3)),
        BadOffset(2)
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_MOV | SRC_X, 1, 2, 1, 0)),
        BadOffset(1)
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU | ALU_MOV | SRC_X, 1, 2, 32, 0)),
        BadOffset(32)
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_MOV, 1, 0, 8, 0)),
        BadOffset(8)
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_NEG, 1, 0, 0, 1)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU64 | ALU_NEG, 1, 2, 0, 0)),
        ReservedField("src")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ALU | ALU_END, 1, 0, 1, 16)),
        ReservedField("off")
    );
    assert_eq!(reserved(Insn::new(OP_JA, 1, 0, 0, 0)), ReservedField("dst"));
    assert_eq!(reserved(Insn::new(OP_JA, 0, 0, 0, 7)), ReservedField("imm"));
    assert_eq!(
        reserved(Insn::new(OP_GOTOL, 0, 0, 1, 0)),
        ReservedField("off")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_JMP | JMP_JEQ, 1, 2, 0, 0)),
        ReservedField("src")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_JMP | JMP_JEQ | SRC_X, 1, 2, 0, 3)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(OP_CALL, 1, 0, 0, 1)),
        ReservedField("dst")
    );
    assert_eq!(
        reserved(Insn::new(OP_CALL, 0, 0, 1, 1)),
        ReservedField("off")
    );
    assert_eq!(
        reserved(Insn::new(OP_CALLX, 1, 0, 0, 1)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(OP_CALLX, 1, 2, 0, 0)),
        ReservedField("src")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_LDX | MODE_MEM | SIZE_W, 1, 2, 0, 1)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_ST | MODE_MEM | SIZE_W, 1, 2, 0, 1)),
        ReservedField("src")
    );
    assert_eq!(
        reserved(Insn::new(CLASS_STX | MODE_MEM | SIZE_W, 1, 2, 0, 1)),
        ReservedField("imm")
    );
    assert_eq!(
        reserved(Insn::new(OP_LD_IMM64, 1, 0, 1, 1)),
        ReservedField("off")
    );
}

// ------------------------------------------------------------ control ----

#[test]
fn unbounded_recursion_hits_the_call_depth_limit() {
    let p = [mov64_imm(0, 0), call_local(-2), exit()];
    let t = {
        let mut vm = Vm::default();
        let at = vm.load_code(&p).unwrap();
        vm.call(at, &[]).unwrap_err()
    };
    assert_eq!(t.kind, TrapKind::CallDepthExceeded { limit: 256 });
    assert_eq!(t.pc, 1);
    // 256 frames in all: the entry frame and 255 callees, each entered from slot 1.
    assert_eq!(t.call_sites, vec![1; 255]);

    let mut vm = Vm::new(VmConfig {
        max_call_depth: 3,
        ..VmConfig::default()
    });
    let (k, _) = trap_in(&mut vm, &p, &[]);
    assert_eq!(k, TrapKind::CallDepthExceeded { limit: 3 });
    // A limit of 0 frames cannot run anything: `check` rejects it and the
    // VM clamps it to the entry frame alone.
    let zero = VmConfig {
        max_call_depth: 0,
        ..VmConfig::default()
    };
    assert!(zero.check().is_err());
    let mut vm = Vm::new(zero);
    assert_eq!(vm.config().max_call_depth, 1);
    let (k, _) = trap_in(&mut vm, &p, &[]);
    assert_eq!(k, TrapKind::CallDepthExceeded { limit: 1 });
}

#[test]
fn runaway_loop_exhausts_the_budget() {
    let mut vm = Vm::new(VmConfig {
        budget: 10_000,
        ..VmConfig::default()
    });
    let p = [mov64_imm(0, 0), alu64_imm(ALU_ADD, 0, 1), ja(-2), exit()];
    let at = vm.load_code(&p).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    assert_eq!(t.kind, TrapKind::BudgetExhausted { budget: 10_000 });
    assert!(t.pc == 1 || t.pc == 2, "pc {}", t.pc);
    // A budget of exactly the instructions needed is enough.
    let mut vm = Vm::new(VmConfig {
        budget: 3,
        ..VmConfig::default()
    });
    let at = vm.load_code(&[mov64_imm(0, 1), ja(0), exit()]).unwrap();
    assert_eq!(vm.call(at, &[]), Ok(1));
    vm.set_config(VmConfig {
        budget: 2,
        ..VmConfig::default()
    });
    let t = vm.call(at, &[]).unwrap_err();
    assert_eq!((t.kind, t.pc), (TrapKind::BudgetExhausted { budget: 2 }, 2));
}

#[test]
fn interrupt_from_another_thread_stops_an_infinite_loop() {
    let mut vm = Vm::new(VmConfig {
        budget: u64::MAX,
        ..VmConfig::default()
    });
    let handle = vm.interrupt_handle();
    let at = vm.load_code(&[mov64_imm(0, 0), ja(-1), exit()]).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let raiser = {
        let done = done.clone();
        // `call` clears the flag when it starts, so keep raising it until the
        // run has ended: this cannot race with the start of the run.
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                handle.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let result = vm.call(at, &[]);
    done.store(true, Ordering::SeqCst);
    raiser.join().unwrap();
    let t = result.unwrap_err();
    assert_eq!(t.kind, TrapKind::Interrupted);
    assert_eq!(t.pc, 1);
    // The next run starts with the flag cleared.
    let at = vm.load_code(&[mov64_imm(0, 5), exit()]).unwrap();
    assert_eq!(vm.call(at, &[]), Ok(5));
}

#[test]
fn falling_off_the_end_or_starting_outside_the_code() {
    let (k, pc) = trap(&[mov64_imm(0, 1)]);
    assert_eq!((k, pc), (TrapKind::PcOutOfRange(1), 1));
    let mut vm = Vm::default();
    vm.load_code(&[exit()]).unwrap();
    let t = vm.call(1000, &[]).unwrap_err();
    assert_eq!(t.kind, TrapKind::PcOutOfRange(1000));
    let t = vm.call(usize::MAX, &[]).unwrap_err();
    assert_eq!(t.kind, TrapKind::PcOutOfRange(usize::MAX as u64));
}

#[test]
fn entering_the_second_slot_of_ld_imm64_traps() {
    let mut vm = Vm::default();
    let mut p = ld_imm64(0, 7).to_vec();
    p.push(exit());
    vm.load_code(&p).unwrap();
    // Slot 1 is data, not an instruction.
    let t = vm.call(1, &[]).unwrap_err();
    assert_eq!(t.pc, 1);
}

#[test]
fn truncated_code_never_runs_half_an_ld_imm64() {
    let mut vm = Vm::default();
    let mut p = ld_imm64(0, 7).to_vec();
    p.push(exit());
    let at = vm.load_code(&p).unwrap();
    // Truncation (undo of a load) may cut an ld_imm64 in two.
    vm.truncate_code(at + 1);
    let t = vm.call(at, &[]).unwrap_err();
    assert_eq!(t.pc, 0);
    assert_eq!(t.kind, TrapKind::PcOutOfRange(1));
}

#[test]
fn calls_into_code_that_was_truncated_away() {
    let mut vm = Vm::default();
    let caller = vm
        .load_code(&[call_local(1), exit(), mov64_imm(0, 1), exit()])
        .unwrap();
    // Loading validated the call against the code then present; now drop its target.
    assert_eq!(vm.call(caller, &[]), Ok(1));
    vm.truncate_code(2);
    let t = vm.call(caller, &[]).unwrap_err();
    assert_eq!(
        (t.kind, t.pc, t.call_sites),
        (TrapKind::PcOutOfRange(2), 2, vec![0])
    );
}

#[test]
fn patch_refuses_broken_slots() {
    let mut vm = Vm::default();
    let mut p = vec![mov64_imm(0, 1)];
    p.extend(ld_imm64(1, 2));
    p.push(exit());
    vm.load_code(&p).unwrap();
    let e = vm.patch(1, mov64_imm(0, 2)).unwrap_err();
    assert_eq!((e.index, e.kind), (1, InvalidKind::TruncatedLdImm64));
    let e = vm.patch(2, mov64_imm(0, 2)).unwrap_err();
    assert_eq!((e.index, e.kind), (2, InvalidKind::TruncatedLdImm64));
    let e = vm.patch(9, exit()).unwrap_err();
    assert_eq!(e.index, 9);
    let e = vm.patch(0, ja(1)).unwrap_err();
    assert_eq!(e.index, 0);
    let e = vm.patch(0, ja(-2)).unwrap_err();
    assert_eq!(e.kind, InvalidKind::JumpOutOfRange(-1));
    let e = vm.patch(0, mov64_imm(12, 0)).unwrap_err();
    assert_eq!(e.kind, InvalidKind::BadRegister(12));
    let e = vm.patch(0, call_local(1)).unwrap_err();
    assert_eq!(e.kind, InvalidKind::JumpIntoLdImm64(2));
    assert_eq!(vm.code(), &p[..]);
}

#[test]
fn patch_checks_jump_targets_against_the_whole_code() {
    let mut vm = Vm::default();
    let mut p = vec![mov64_imm(0, 1)];
    p.extend(ld_imm64(1, 2));
    p.push(exit());
    vm.load_code(&p).unwrap();
    let e = vm.patch(0, ja(1)).unwrap_err();
    assert_eq!(e.kind, InvalidKind::JumpIntoLdImm64(2));
    // A jump to a real instruction is accepted and runs.
    vm.patch(0, ja(2)).unwrap();
    assert_eq!(vm.call(0, &[]), Ok(0));
}

// --------------------------------------------------------- memory API ----

#[test]
fn memory_api_refuses_odd_sizes_instead_of_panicking() {
    let mut vm = Vm::default();
    let a = vm.mem.alloc(RegionKind::Data, 64, 8).unwrap();
    for size in [0, 3, 5, 9, 16, usize::MAX] {
        let e = vm.mem.load(a, size).unwrap_err();
        assert_eq!(
            (e.addr, e.len, e.reason),
            (a, size, MemReason::TooLarge),
            "size {size}"
        );
        let e = vm.mem.store(a, size, 0).unwrap_err();
        assert_eq!(
            (e.addr, e.len, e.reason),
            (a, size, MemReason::TooLarge),
            "size {size}"
        );
    }
    // Oversized ranges and allocations are errors too.
    assert!(vm.mem.read_bytes(a, usize::MAX).is_err());
    assert!(vm.mem.write_bytes(u64::MAX, &[1, 2]).is_err());
    let e = vm.mem.alloc(RegionKind::Heap, usize::MAX, 8).unwrap_err();
    assert_eq!(e.reason, MemReason::TooLarge);
    let e = vm.mem.write_initial(code_addr(0), &[0]).unwrap_err();
    assert_eq!(e.reason, MemReason::NotData);
    assert!(vm.mem.read_cstr(0, usize::MAX).is_err());
    assert!(vm.mem.read_cstr(u64::MAX, 10).is_err());
}

// ---------------------------------------------------- random programs ----

/// Opcodes of every instruction the validator accepts, plus a few it does not.
const OPCODES: &[u8] = &[
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f,
    0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c,
    0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4,
    0xbc, 0xc4, 0xcc, 0xd4, 0xdc, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x55, 0x5d,
    0x65, 0x6d, 0x75, 0x7d, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd, 0x06, 0x16, 0x1e, 0x26,
    0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6, 0xae, 0xb6, 0xbe, 0xc6,
    0xce, 0xd6, 0xde, 0x85, 0x8d, 0x95, 0x18, 0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x62, 0x6a,
    0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x00, 0x20, 0xff, 0x8e,
];

fn slot() -> impl Strategy<Value = Insn> {
    (
        prop::sample::select(OPCODES),
        0u8..12,
        0u8..12,
        prop_oneof![
            -3i16..4,
            any::<i16>(),
            Just(8i16),
            Just(16),
            Just(32),
            Just(1)
        ],
        prop_oneof![
            -3i32..4,
            any::<i32>(),
            prop::sample::select(vec![16, 32, 64, 0x01, 0x40, 0x41, 0xe1, 0xf1])
        ],
    )
        .prop_map(|(op, dst, src, off, imm)| Insn::new(op, dst, src, off, imm))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary slots never panic the validator; whatever it accepts runs
    /// to a value or a trap without panicking.
    #[test]
    fn random_programs_never_panic(prog in prop::collection::vec(slot(), 1..24)) {
        let mut vm = Vm::new(VmConfig { frame_size: 64, max_call_depth: 8, budget: 5_000 });
        vm.register_helper(1, "echo", Box::new(|_, a| Ok(a[0])));
        let buf = vm.mem.alloc(RegionKind::Data, 64, 8).unwrap();
        if let Ok(at) = vm.load_code(&prog) {
            for i in 0..prog.len() {
                vm.mark_entry(at + i);
            }
            if let Err(t) = vm.call(at, &[buf, 64, code_addr(at + 1)]) {
                prop_assert!(!t.to_string().is_empty());
            }
        }
    }
}
