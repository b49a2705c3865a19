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

#[path = "common/repair.rs"]
mod repair;

use bpf_vm::isa::Insn;
use bpf_vm::{HelperError, RegionKind, Trap, Vm, VmConfig};
use libfuzzer_sys::fuzz_target;
use repair::repair;

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
