use bpf_vm::isa::*;
use bpf_vm::Vm;
fn main() {
    let code = [Insn::new(0x8d, 4, 0, 0, 0)];
    let mut vm = Vm::default();
    vm.load_code(&code).unwrap();
    bpf_jit::install(&mut vm, bpf_jit::EngineKind::Jit);
    println!("{:?}", vm.call(0, &[0, 0, 0, 7]));
}
