//! Turning fuzzer bytes into valid BPF code (shared by `vm_run` and `vm_jit`).

use bpf_vm::isa::{
    Insn, CALL_LOCAL, CALL_RUNTIME, CLASS_JMP, CLASS_JMP32, CLASS_LD, CLASS_STX, MODE_ABS,
    MODE_ATOMIC, OP_CALL, OP_GOTOL, OP_LD_IMM64,
};
use bpf_vm::validate::validate_slot;
use std::sync::OnceLock;

/// Slot templates that pass `validate_slot`, one per valid opcode.
pub fn templates() -> &'static [Insn] {
    static TEMPLATES: OnceLock<Vec<Insn>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut out = vec![Insn::new(OP_LD_IMM64, 1, 0, 0, 0)];
        for op in 0..=255u8 {
            // (dst 0 for calls and the legacy packet loads, which take none.)
            'found: for (dst, src) in [(1, 0), (1, 1), (1, 2), (0, 0), (0, 1)] {
                for off in [0, 1, 8, 16, 32] {
                    for imm in [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0xa0, 0xe1, 0xf1] {
                        let insn = Insn::new(op, dst, src, off, imm);
                        if validate_slot(insn).is_ok() {
                            out.push(insn);
                            break 'found;
                        }
                    }
                }
            }
        }
        out
    })
}

/// Rewrites each slot toward a valid instruction, keeping the fuzzer's
/// registers, offset and immediate where they validate.
pub fn repair(code: &mut [Insn]) {
    let table = templates();
    let len = code.len() as i64;
    let mut i = 0;
    while i < code.len() {
        let raw = code[i];
        let t = table[raw.op as usize % table.len()];
        let mut insn = Insn::new(t.op, raw.dst % 11, raw.src % 11, raw.off, raw.imm);
        if t.op == OP_LD_IMM64 {
            insn.src = 0;
            code[i] = insn;
            if let Some(next) = code.get_mut(i + 1) {
                *next = Insn::new(0, 0, 0, 0, next.imm);
            }
            i += 2;
            continue;
        }
        // Aim jumps and calls at a slot of the code.
        let rel = |v: i64| (v.rem_euclid(len.max(1)) - (i as i64 + 1)) as i32;
        if t.class() == CLASS_LD {
            // LD_ABS/LD_IND: no dst or offset; LD_ABS has no src either.
            (insn.dst, insn.off) = (0, 0);
            insn.imm = insn.imm.rem_euclid(300);
            if t.op & 0xe0 == MODE_ABS {
                insn.src = 0;
            }
        }
        if t.class() == CLASS_STX && t.op & 0xe0 == MODE_ATOMIC {
            // Every atomic operation, not only the template's.
            const OPS: [i32; 10] = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
            insn.imm = OPS[insn.imm.unsigned_abs() as usize % OPS.len()];
        }
        if t.op == OP_CALL {
            // A local call, one of the first helper ids or runtime
            // helper indices (some unknown).
            (insn.dst, insn.off) = (0, 0);
            insn.src = raw.src % 3;
            insn.imm = match insn.src {
                CALL_LOCAL => rel(insn.imm as i64),
                CALL_RUNTIME => insn.imm.rem_euclid(3),
                _ => insn.imm.rem_euclid(7),
            };
        } else if matches!(t.class(), CLASS_JMP | CLASS_JMP32) {
            if t.op == OP_GOTOL {
                insn.imm = rel(insn.imm as i64);
            } else if let Ok(off) = i16::try_from(rel(insn.off as i64)) {
                insn.off = off;
            }
        }
        for fix in 0..4 {
            match fix {
                1 => insn.imm = t.imm,
                2 => insn.src = t.src,
                3 => insn.off = t.off,
                _ => {}
            }
            if validate_slot(insn).is_ok() {
                break;
            }
        }
        code[i] = insn;
        i += 1;
    }
}
