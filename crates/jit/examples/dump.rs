#[path = "../../vm/fixtures/kernels/harness.rs"]
mod harness;
use harness::{Args, Ours};
fn main() {
    let mut o = Ours::new(harness::FNV1A.v4, &Args::Buffer(harness::bytes(64, 7)));
    bpf_jit::install(&mut o.vm, bpf_jit::EngineKind::Jit);
    o.run().unwrap();
}
