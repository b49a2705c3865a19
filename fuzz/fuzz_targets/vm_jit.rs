//! `vm_jit`: arbitrary bytes as a BPF program, run on the interpreter, on
//! the JIT and on `auto` with a tiny threshold, in the world of the JIT's
//! differential property test (`crates/jit/tests/support/world.rs`):
//! kernel and runtime helpers (plain, failing, calling back into BPF, tail
//! calls, undefined behaviour), a device behind unmapped low addresses
//! serving LD_ABS/LD_IND, access proofs, and an undo epoch rolled back
//! after every run (which must restore memory exactly). The results (value
//! or trap with kind, pc and call sites), the input buffer, the whole
//! stack and what the device saw must be identical.
//!
//! Input layout (as `vm_run`, so its seeds work here):
//!
//! ```text
//! byte 0      flags: bit 0 repairs each slot toward a valid instruction;
//!             bits 1-7: the instruction budget is 1 + 64 * (flags >> 1)
//! byte 1      length n of the input buffer (r1 = its address, r2 = n)
//! byte 2      auto's threshold (instructions interpreted before compiling)
//! byte 3      bits 0-2: call depth limit 1 + (byte & 7); bits 3-7: seed
//!             of the access proofs (0: none; they need not be true)
//! n bytes     the input buffer
//! rest        the code, 8 bytes a slot (a partial last slot is dropped)
//! ```

#![no_main]

#[path = "common/repair.rs"]
mod repair;
#[path = "../../crates/jit/tests/support/world.rs"]
mod world;

use bpf_vm::isa::Insn;
use bpf_vm::VmConfig;
use libfuzzer_sys::fuzz_target;
use world::Which;

fuzz_target!(|data: &[u8]| {
    let Some((&[flags, n_input, threshold, depth], rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    // The buffer ends 16 bytes into a page of its own (see `world::run`).
    let n_input = (n_input as usize).min(rest.len()).min(4096);
    let (input, code) = rest.split_at(n_input);
    let mut code: Vec<Insn> = code
        .chunks_exact(8)
        .map(|c| Insn::from_bytes(c.try_into().unwrap()))
        .collect();
    if flags & 1 != 0 {
        repair::repair(&mut code);
    }
    let config = VmConfig {
        frame_size: 64,
        max_call_depth: 1 + (depth & 7) as usize,
        budget: 1 + 64 * (flags >> 1) as u64,
    };
    let proven = world::proofs(&code, u64::from(depth >> 3));
    let run = |which| world::run(&code, input, config, which, &proven);
    let Some(interp) = run(Which::Interp) else {
        return;
    };
    let jit = run(Which::Jit);
    assert_eq!(Some(&interp), jit.as_ref(), "jit differs");
    let auto = run(Which::Auto(threshold as u64));
    assert_eq!(Some(&interp), auto.as_ref(), "auto differs");
});
