#[path = "../../vm/fixtures/kernels/harness.rs"]
mod harness;
use harness::{Args, Ours};

#[test]
fn count() {
    let name = std::env::var("K").unwrap_or("sieve".into());
    let n: usize = std::env::var("N").unwrap_or("1".into()).parse().unwrap();
    let engine = std::env::var("E").unwrap_or("jit".into());
    let k = harness::ALL.iter().find(|k| k.name == name).unwrap();
    let args = match name.as_str() {
        "fnv1a" => Args::Buffer(harness::bytes(16 * 1024, 7)),
        "xxhash" => Args::Buffer(harness::bytes(1 << 20, 3)),
        "sieve" => Args::Scalars(400, 10),
        "fib" => Args::Scalars(8, 200),
        "sum_loop" => Args::Scalars(20_000, 7),
        "switch_loop" => Args::Scalars(20_000, 12345),
        "sdiv" => Args::Scalars(4_000, -7i64 as u64),
        "atomics" => Args::Scalars(5_000, 99),
        _ => unreachable!(),
    };
    let mut o = Ours::new(k.v4, &args);
    if engine == "jit" {
        bpf_jit::install(&mut o.vm, bpf_jit::EngineKind::Jit);
    }
    let first = o.run().unwrap();
    for _ in 0..n {
        assert_eq!(o.run().unwrap(), first);
    }
}
