//! A first end-to-end check: load, call, trap.
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{TrapKind, Vm};

#[test]
fn sums_a_loop() {
    let mut vm = Vm::default();
    // r0 = 0; r1 = 10; loop: r0 += r1; r1 -= 1; if r1 != 0 goto loop; exit
    let prog = [
        mov64_imm(0, 0),
        mov64_imm(1, 10),
        alu64_reg(ALU_ADD, 0, 1),
        alu64_imm(ALU_SUB, 1, 1),
        jmp_imm(JMP_JNE, 1, 0, -3),
        exit(),
    ];
    let at = vm.load_code(&prog).unwrap();
    assert_eq!(vm.call(at, &[]).unwrap(), 55);
}

#[test]
fn runaway_loop_hits_budget() {
    let mut vm = Vm::default();
    let mut cfg = vm.config();
    cfg.budget = 1000;
    vm.set_config(cfg);
    let at = vm.load_code(&[ja(-1), exit()]).unwrap();
    let t = vm.call(at, &[]).unwrap_err();
    assert_eq!(t.kind, TrapKind::BudgetExhausted { budget: 1000 });
}
