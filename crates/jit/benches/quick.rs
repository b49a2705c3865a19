#[path = "../../vm/fixtures/kernels/harness.rs"]
mod harness;
use harness::{Args, Ours};
use std::time::Instant;
fn main() {
    let cases = vec![
        (harness::SUM_LOOP, Args::Scalars(20_000, 7)),
        (harness::FIB, Args::Scalars(20, 2)),
        (harness::SIEVE, Args::Scalars(400, 10)),
        (harness::FNV1A, Args::Buffer(harness::bytes(16 * 1024, 7))),
        (harness::SWITCH_LOOP, Args::Scalars(20_000, 12345)),
        (harness::SDIV, Args::Scalars(4_000, -7i64 as u64)),
        (harness::ATOMICS, Args::Scalars(5_000, 99)),
    ];
    for (k, a) in cases {
        let mut t = [0f64; 2];
        let mut r = [0u64; 2];
        for (i, jit) in [false, true].into_iter().enumerate() {
            let mut o = Ours::new(k.v4, &a);
            if jit {
                bpf_jit::install(&mut o.vm, bpf_jit::EngineKind::Jit);
            }
            r[i] = o.run().unwrap();
            let mut best = f64::MAX;
            for _ in 0..20 {
                let s = Instant::now();
                o.run().unwrap();
                best = best.min(s.elapsed().as_secs_f64());
            }
            t[i] = best;
        }
        println!(
            "{:12} interp {:9.1}us jit {:9.1}us  x{:.1} {}",
            k.name,
            t[0] * 1e6,
            t[1] * 1e6,
            t[0] / t[1],
            if r[0] == r[1] { "" } else { "MISMATCH" }
        );
    }
}
