#[path = "../../vm/fixtures/kernels/harness.rs"]
mod harness;
use harness::{Args, Ours};

#[test]
fn dump() {
    let name = std::env::var("K").unwrap_or("sieve".into());
    let k = harness::ALL.iter().find(|k| k.name == name).unwrap();
    let args = match name.as_str() {
        "fnv1a" | "xxhash" => Args::Buffer(harness::bytes(1024, 3)),
        "sieve" => Args::Scalars(400, 10),
        "fib" => Args::Scalars(8, 200),
        _ => Args::Scalars(2000, 7),
    };
    let mut o = Ours::new(k.v4, &args);
    bpf_jit::install(&mut o.vm, bpf_jit::EngineKind::Jit);
    eprintln!(
        "{}",
        bpf_vm::disasm::disasm_listing(o.vm.code(), 0, &bpf_vm::disasm::NoSymbols)
    );
    eprintln!("r0 = {:?}", o.run());
}
