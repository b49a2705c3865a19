//! The engine's own behaviour: re-translation after the linker patches a
//! redefinition stub, `auto` taking over a running call, host-stack
//! exhaustion handed to the interpreter, and the fallback note.

use bpf_jit::{EngineKind, Jit};
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{TrapKind, Vm, VmConfig};

fn jit_vm(config: VmConfig, kind: EngineKind) -> Vm {
    let mut vm = Vm::new(config);
    assert_eq!(bpf_jit::install(&mut vm, kind), None, "this host has a JIT");
    vm
}

fn stats(vm: &mut Vm) -> bpf_jit::Stats {
    // The engine is owned by the VM; take it out to look at it.
    let engine = vm.set_engine(None).expect("an engine");
    let jit: &dyn std::any::Any = engine.as_any();
    let s = jit.downcast_ref::<Jit>().expect("the JIT").stats();
    vm.set_engine(Some(engine));
    s
}

#[test]
fn a_patched_stub_retranslates_only_the_units_that_contain_it() {
    let mut vm = jit_vm(VmConfig::default(), EngineKind::Jit);
    // 0: main: r6 = 0; loop 10 times: r6 += f(); return r6
    // 8: f's stub (gotol body); 9: body 1 (return 1); 11: body 2 (return 2)
    let code = [
        mov64_imm(6, 0),
        mov64_imm(7, 10),
        call_local(5), // 2: call 8
        alu64_reg(ALU_ADD, 6, 0),
        alu64_imm(ALU_SUB, 7, 1),
        jmp_imm(JMP_JNE, 7, 0, -4),
        mov64_reg(0, 6),
        exit(),
        ja(0),           // 8: stub -> 9
        mov64_imm(0, 1), // 9
        exit(),
        mov64_imm(0, 2), // 11
        exit(),
    ];
    vm.load_code(&code).unwrap();
    assert_eq!(vm.call(0, &[]), Ok(10));
    let before = stats(&mut vm);
    assert_eq!(before.units, 2, "main and the stub's unit");
    // Redefine f: the stub now jumps to body 2.
    vm.patch(8, ja(2)).unwrap();
    assert_eq!(vm.call(0, &[]), Ok(20));
    let after = stats(&mut vm);
    assert_eq!(after.units, 3, "only the stub's unit is translated again");
    // A rebound ld_imm64 is seen too.
    let mut vm = jit_vm(VmConfig::default(), EngineKind::Jit);
    let mut code = ld_imm64(0, 5).to_vec();
    code.push(exit());
    vm.load_code(&code).unwrap();
    assert_eq!(vm.call(0, &[]), Ok(5));
    vm.patch_ld_imm64(0, 7).unwrap();
    assert_eq!(vm.call(0, &[]), Ok(7));
}

/// r0 = sum of 0..r1, one instruction pair per step.
fn counting_loop() -> Vec<Insn> {
    vec![
        mov64_imm(0, 0),
        mov64_imm(2, 0),
        jmp_reg(JMP_JGE, 2, 1, 3),
        alu64_reg(ALU_ADD, 0, 2),
        alu64_imm(ALU_ADD, 2, 1),
        ja(-4),
        exit(),
    ]
}

#[test]
fn auto_interprets_short_calls_and_takes_over_long_ones() {
    let mut vm = jit_vm(VmConfig::default(), EngineKind::Auto);
    vm.load_code(&counting_loop()).unwrap();
    assert_eq!(vm.call(0, &[100]), Ok(4950));
    assert_eq!(stats(&mut vm).units, 0, "a short call is only interpreted");
    // A long call: interpreted up to the threshold, then native code from
    // where it paused (a unit entered mid-loop), and the entry compiled.
    let n = 1_000_000u64;
    assert_eq!(vm.call(0, &[n]), Ok(n * (n - 1) / 2));
    let s = stats(&mut vm);
    assert!(s.units >= 2, "entry and resume point translated: {s:?}");
    // The budget stays exact across the hand-over.
    let needed = 2 + 4 * n + 2;
    vm.set_config(VmConfig {
        budget: needed - 1,
        ..VmConfig::default()
    });
    let t = vm.call(0, &[n]).unwrap_err();
    assert_eq!(
        (t.kind, t.pc),
        (TrapKind::BudgetExhausted { budget: needed - 1 }, 6)
    );
}

#[test]
fn recursion_deeper_than_the_host_stack_goes_on_in_the_interpreter() {
    // 100,000 frames of 8 bytes: far more native frames than a 1 MiB
    // thread stack holds. r0 = depth reached when r1 counts down to 0.
    let code = [
        jmp_imm(JMP_JEQ, 1, 0, 4),
        alu64_imm(ALU_SUB, 1, 1),
        call_local(-3),
        alu64_imm(ALU_ADD, 0, 1),
        exit(),
        mov64_imm(0, 0),
        exit(),
    ];
    let config = VmConfig {
        frame_size: 8,
        max_call_depth: 100_000,
        budget: 10_000_000,
    };
    let run = move |kind: Option<EngineKind>| {
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let mut vm = Vm::new(config);
                if let Some(kind) = kind {
                    bpf_jit::install(&mut vm, kind);
                }
                vm.load_code(&code).unwrap();
                (
                    vm.call(0, &[50_000]),
                    vm.call(0, &[200_000]).unwrap_err().kind,
                )
            })
            .unwrap()
            .join()
            .expect("no host stack overflow")
    };
    let interp = run(None);
    assert_eq!(interp.0, Ok(50_000));
    assert_eq!(interp.1, TrapKind::CallDepthExceeded { limit: 100_000 });
    assert_eq!(run(Some(EngineKind::Jit)), interp);
}

#[test]
fn undo_after_a_native_run_restores_memory_exactly() {
    use bpf_vm::RegionKind;
    // Fills 3 pages of data and 2 of heap with a pattern, 8 bytes at a
    // time, then stores 8 bytes across the data's second page boundary and
    // adds 1 atomically at the heap's start: every inline store path.
    // r1 = data, r2 = heap.
    let code = [
        mov64_imm(3, 0),                                                   // 0: i = 0
        mov64_reg(4, 1),                                                   // 1: loop: p = data + i
        alu64_reg(ALU_ADD, 4, 3),                                          // 2
        stx(SIZE_DW, 4, 3, 0),                                             // 3: *(u64 *)p = i
        jmp_imm(JMP_JGE, 3, 2 * 4096, 3), // 4: (the heap holds 2 pages)
        mov64_reg(5, 2),                  // 5: q = heap + i
        alu64_reg(ALU_ADD, 5, 3),         // 6
        stx(SIZE_DW, 5, 4, 0),            // 7: *(u64 *)q = p
        alu64_imm(ALU_ADD, 3, 8),         // 8
        jmp_imm(JMP_JLT, 3, 3 * 4096, -9), // 9
        st(SIZE_DW, 1, 4096 - 4, -1),     // 10: across a page boundary
        mov64_imm(6, 1),                  // 11
        Insn::new(CLASS_STX | MODE_ATOMIC | SIZE_DW, 2, 6, 0, ATOMIC_ADD), // 12
        mov64_imm(0, 0),                  // 13
        exit(),                           // 14
    ];
    for kind in [EngineKind::Jit, EngineKind::Auto] {
        // (`auto` takes over the first call after 1,000 instructions.)
        let mut jit = Jit::new(kind).unwrap();
        jit.threshold = 1000;
        jit.per_instruction = 0;
        let mut vm = Vm::default();
        vm.set_engine(Some(Box::new(jit)));
        let entry = vm.load_code(&code).unwrap();
        let data = vm.mem.alloc(RegionKind::Data, 3 * 4096, 8).unwrap();
        let heap = vm.mem.alloc(RegionKind::Heap, 2 * 4096, 8).unwrap();
        vm.mem.write_bytes(data, &[0xa5; 3 * 4096]).unwrap();
        let before = |vm: &Vm| {
            (
                vm.mem.read_bytes(data, 3 * 4096).unwrap(),
                vm.mem.read_bytes(heap, 2 * 4096).unwrap(),
            )
        };
        let original = before(&vm);
        for _ in 0..3 {
            let epoch = vm.mem.begin_epoch();
            assert_eq!(vm.call(entry, &[data, heap]), Ok(0), "{kind}");
            assert!(vm.mem.changed_since(epoch));
            assert_eq!(vm.mem.load(data + 8, 8), Ok(8));
            assert_eq!(vm.mem.load(heap, 8), Ok(data + 1));
            assert!(vm.mem.rollback(epoch));
            assert!(before(&vm) == original, "{kind}: undo left changes");
        }
        assert!(stats(&mut vm).units >= 1, "{kind}: the run was native");
    }
}
