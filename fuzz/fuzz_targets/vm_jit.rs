//! `vm_jit`: arbitrary bytes as a BPF program, run on the interpreter, on
//! the JIT and on `auto` with a tiny threshold; the results (value or trap
//! with kind, pc and call sites), the input buffer and the whole stack
//! must be identical.
//!
//! Input layout (as `vm_run`, so its seeds work here):
//!
//! ```text
//! byte 0      flags: bit 0 repairs each slot toward a valid instruction;
//!             bits 1-7: the instruction budget is 1 + 64 * (flags >> 1)
//! byte 1      length n of the input buffer (r1 = its address, r2 = n)
//! byte 2      auto's threshold (instructions interpreted before compiling)
//! byte 3      call depth limit (1 + byte % 8)
//! n bytes     the input buffer
//! rest        the code, 8 bytes a slot (a partial last slot is dropped)
//! ```

#![no_main]

#[path = "common/repair.rs"]
mod repair;

use bpf_jit::{EngineKind, Jit};
use bpf_vm::isa::Insn;
use bpf_vm::{code_addr, HelperError, RegionKind, Trap, Vm, VmConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[flags, n_input, threshold, depth], rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let n_input = (n_input as usize).min(rest.len());
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
        max_call_depth: 1 + (depth % 8) as usize,
        budget: 1 + 64 * (flags >> 1) as u64,
    };
    let Some(interp) = run(&code, input, config, None) else {
        return;
    };
    let jit = run(&code, input, config, Some((EngineKind::Jit, 0)));
    assert_eq!(Some(&interp), jit.as_ref(), "jit differs");
    let auto = run(
        &code,
        input,
        config,
        Some((EngineKind::Auto, threshold as u64)),
    );
    assert_eq!(Some(&interp), auto.as_ref(), "auto differs");
});

/// The result, the input buffer and the stack after one run.
type Outcome = (Result<u64, Trap>, Vec<u8>, Vec<u8>);

fn run(
    code: &[Insn],
    input: &[u8],
    config: VmConfig,
    engine: Option<(EngineKind, u64)>,
) -> Option<Outcome> {
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
            let bytes = mem.slice(a[0], a[1].min(4096) as usize)?;
            Ok(bytes.iter().map(|&b| u64::from(b)).sum())
        }),
    );
    vm.register_helper(
        3,
        "fail",
        Box::new(|_, a| Err(HelperError::Fault(format!("fail({})", a[0])))),
    );
    if let Some((kind, threshold)) = engine {
        let mut jit = Jit::new(kind).expect("a JIT on the fuzzing host");
        jit.threshold = threshold;
        jit.per_instruction = 0;
        vm.set_engine(Some(Box::new(jit)));
    }
    let entry = vm.load_code(code).ok()?;
    for i in (0..code.len()).step_by(3) {
        vm.mark_entry(i);
    }
    let addr = vm
        .mem
        .alloc(RegionKind::Data, input.len().max(1), 8)
        .unwrap();
    vm.mem.write_bytes(addr, input).unwrap();
    let result = vm.call(
        entry,
        &[addr, input.len() as u64, code_addr(0), u64::MAX, 0],
    );
    let buffer = vm.mem.read_bytes(addr, input.len()).unwrap();
    vm.mem.set_stack_low(0);
    let stack = vm
        .mem
        .read_bytes(
            RegionKind::Stack.base(),
            config.frame_size * config.max_call_depth,
        )
        .unwrap();
    Some((result, buffer, stack))
}
