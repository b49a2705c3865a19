use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{Vm, VmConfig};
fn main() {
    let code = [
        mov64_imm(0, 0),
        alu64_imm(ALU_ADD, 0, 1),
        jmp_reg(JMP_JLT, 0, 1, -2),
        exit(),
    ];
    for budget in [9u64, 10, 11, 12] {
        let mut vm = Vm::new(VmConfig {
            budget,
            ..VmConfig::default()
        });
        vm.load_code(&code).unwrap();
        let a = vm.call(0, &[5]);
        bpf_jit::install(&mut vm, bpf_jit::EngineKind::Jit);
        let b = vm.call(0, &[5]);
        println!("{budget}: {a:?}\n    {b:?}");
    }
}
