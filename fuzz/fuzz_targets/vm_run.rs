//! `vm_run`: arbitrary bytes as a BPF program, loaded into a [`Vm`] and run.
//!
//! Checks: validation rejects bad code with an error (never a panic); code
//! it accepts runs to a value or a trap within a small budget, with no
//! panic, abort, huge allocation or hang; and edits of loaded code (patch,
//! `patch_ld_imm64`, truncate and reload) leave a VM that behaves exactly
//! like a fresh VM loaded with the resulting slots in one piece, which
//! catches a stale pre-decoded or fused copy.
//!
//! Input layout (so raw bytecode seeds need only a 4-byte header):
//!
//! ```text
//! byte 0      flags: bit 0 repairs each slot toward a valid instruction
//!             (opcode from the table of valid ones, registers r0-r10,
//!             jump and call targets inside the code); bit 1 loads the
//!             code in two chunks
//! byte 1      length n of the input buffer (r1 = its address, r2 = n)
//! byte 2      number of edits e (taken modulo 5)
//! byte 3      call depth limit (1 + byte % 8)
//! n bytes     the input buffer
//! e * 11      edits: kind, slot index (u16 LE), 8 instruction bytes
//! rest        the code, 8 bytes a slot (a partial last slot is dropped)
//! ```

#![no_main]

use bpf_vm::isa::{Insn, CALL_LOCAL, CLASS_JMP, CLASS_JMP32, OP_CALL, OP_GOTOL, OP_LD_IMM64};
use bpf_vm::validate::validate_slot;
use bpf_vm::{HelperError, RegionKind, Trap, Vm, VmConfig};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Instructions one run may execute: small, so every input is fast.
const BUDGET: u64 = 20_000;

fuzz_target!(|data: &[u8]| {
    let Some((&[flags, n_input, n_edits, depth], rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let n_input = (n_input as usize).min(rest.len());
    let (input, rest) = rest.split_at(n_input);
    let n_edits = ((n_edits % 5) as usize).min(rest.len() / 11);
    let (edits, code) = rest.split_at(n_edits * 11);
    let mut code: Vec<Insn> = code
        .chunks_exact(8)
        .map(|c| Insn::from_bytes(c.try_into().unwrap()))
        .collect();
    if flags & 1 != 0 {
        repair(&mut code);
    }
    let config = VmConfig {
        frame_size: 512,
        max_call_depth: 1 + (depth % 8) as usize,
        budget: BUDGET,
    };

    let mut vm = new_vm(config);
    let split = if flags & 2 != 0 { code.len() / 2 } else { 0 };
    let Ok(entry) = load(&mut vm, &code, split) else {
        return;
    };
    vm.mark_entry(entry);
    for edit in edits.chunks_exact(11) {
        apply_edit(&mut vm, edit);
    }
    let first = run(&mut vm, input);

    // A fresh VM given the same slots in one load must behave the same.
    if n_edits > 0 || split > 0 {
        let mut fresh = new_vm(config);
        if fresh.load_code(vm.code()).is_ok() {
            for i in 0..vm.code().len() {
                if vm.is_entry(i) {
                    fresh.mark_entry(i);
                }
            }
            let second = run(&mut fresh, input);
            assert_eq!(first, second, "edited VM and fresh VM disagree");
        }
    }
});

/// A VM with three helpers: one computes, one reads memory through the
/// checked API, one fails.
fn new_vm(config: VmConfig) -> Vm {
    let mut vm = Vm::new(config);
    vm.register_helper(
        1,
        "mix",
        Box::new(|_, a| Ok(a[0].wrapping_mul(31) ^ a[1].rotate_left(7) ^ a[4])),
    );
    vm.register_helper(
        2,
        "sum_bytes",
        Box::new(|mem, a| {
            let len = usize::try_from(a[1].min(4096)).unwrap();
            let bytes = mem.slice(a[0], len)?;
            Ok(bytes.iter().map(|&b| u64::from(b)).sum())
        }),
    );
    vm.register_helper(
        3,
        "fail",
        Box::new(|_, a| Err(HelperError::Fault(format!("fail({})", a[0])))),
    );
    vm
}

/// Loads `code` in one chunk, or in two at `split` (calls may cross).
fn load(vm: &mut Vm, code: &[Insn], split: usize) -> Result<usize, ()> {
    if split == 0 {
        return vm.load_code(code).map_err(drop);
    }
    let entry = vm.load_code(&code[..split]).map_err(drop)?;
    vm.load_code(&code[split..]).map_err(drop)?;
    Ok(entry)
}

/// Runs slot 0 with the input buffer copied into the data region; the
/// result and the buffer's final bytes.
fn run(vm: &mut Vm, input: &[u8]) -> (Result<u64, Trap>, Vec<u8>) {
    let addr = vm
        .mem
        .alloc(RegionKind::Data, input.len().max(1), 8)
        .unwrap();
    vm.mem.write_bytes(addr, input).unwrap();
    let result = vm.call(0, &[addr, input.len() as u64, 0x1234, u64::MAX, 0]);
    let after = vm.mem.read_bytes(addr, input.len()).unwrap();
    (result, after)
}

/// One edit of loaded code: errors are fine, panics are not.
fn apply_edit(vm: &mut Vm, edit: &[u8]) {
    let index = u16::from_le_bytes([edit[1], edit[2]]) as usize;
    let insn = Insn::from_bytes(edit[3..11].try_into().unwrap());
    match edit[0] % 4 {
        0 => {
            let _ = vm.patch(index, insn);
        }
        1 => {
            let value = u64::from_le_bytes(edit[3..11].try_into().unwrap());
            let _ = vm.patch_ld_imm64(index, value);
        }
        2 => {
            // Undo back to `index` slots, then load one new slot there.
            if index > 0 && index < vm.code().len() {
                vm.truncate_code(index);
                let _ = vm.load_code(&[insn]);
            }
        }
        _ => vm.mark_entry(index),
    }
}

/// Slot templates that pass `validate_slot`, one per valid opcode.
fn templates() -> &'static [Insn] {
    static TEMPLATES: OnceLock<Vec<Insn>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut out = vec![Insn::new(OP_LD_IMM64, 1, 0, 0, 0)];
        for op in 0..=255u8 {
            'found: for src in [0, 1, 2] {
                for off in [0, 1, 8, 16, 32] {
                    for imm in [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0xa0, 0xe1, 0xf1] {
                        let insn = Insn::new(op, 1, src, off, imm);
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
fn repair(code: &mut [Insn]) {
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
        if t.op == OP_CALL {
            // A local call, or one of the three helpers (or an unknown one).
            insn.src = raw.src % 2;
            insn.imm = if insn.src == CALL_LOCAL {
                rel(insn.imm as i64)
            } else {
                insn.imm.rem_euclid(5)
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
                1 => insn.src = t.src,
                2 => insn.imm = t.imm,
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
