//! The cost of memcheck on the interpreter: each kernel of
//! `fixtures/kernels` with memcheck off and on in the same run (the
//! buffer kernels' data is then a checked object), and the ratio.
//!
//! Run: `cargo bench -p bpf-vm --bench memcheck`
//!
//! The heap and global kernels in C (through bpf-jitlink, both engines)
//! are `bench/memcheck.sh`.

#[path = "../fixtures/kernels/harness.rs"]
mod harness;

use criterion::Criterion;
use harness::{Args, Ours};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

fn cases() -> Vec<(harness::Kernel, Args)> {
    vec![
        (harness::SUM_LOOP, Args::Scalars(20_000, 7)),
        (harness::FIB, Args::Scalars(8, 200)),
        (harness::SIEVE, Args::Scalars(400, 10)),
        (harness::FNV1A, Args::Buffer(harness::bytes(16 * 1024, 7))),
        (harness::SWITCH_LOOP, Args::Scalars(20_000, 12345)),
        (harness::SDIV, Args::Scalars(4_000, -7i64 as u64)),
        (harness::ATOMICS, Args::Scalars(5_000, 99)),
    ]
}

type Samples = Rc<RefCell<BTreeMap<String, Vec<f64>>>>;

fn bench(c: &mut Criterion, samples: &Samples, name: String, mut run: impl FnMut() -> u64) {
    let samples = samples.clone();
    c.bench_function(&name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(run());
            }
            let elapsed = start.elapsed();
            samples
                .borrow_mut()
                .entry(name.clone())
                .or_default()
                .push(elapsed.as_secs_f64() / iters as f64);
            elapsed
        })
    });
}

fn fastest(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20)
        .configure_from_args();
    let samples: Samples = Rc::default();
    let mut names = Vec::new();
    for (kernel, args) in cases() {
        let mut off = Ours::with_memory(kernel.v4, &args, false);
        let mut on = Ours::with_memory(kernel.v4, &args, true);
        let expected = off.run().expect("kernel runs");
        assert_eq!(on.run().expect("kernel runs under memcheck"), expected);
        let (a, b) = (
            format!("{}/memcheck-off", kernel.name),
            format!("{}/memcheck-on", kernel.name),
        );
        bench(&mut c, &samples, a.clone(), || off.run().unwrap());
        bench(&mut c, &samples, b.clone(), || on.run().unwrap());
        names.push((kernel.name, a, b));
    }
    c.final_summary();
    let samples = samples.borrow();
    if names
        .iter()
        .any(|(_, a, b)| !samples.contains_key(a) || !samples.contains_key(b))
    {
        return; // a filtered run
    }
    println!(
        "\n{:<12} {:>12} {:>12} {:>8}",
        "kernel", "off", "on", "on/off"
    );
    let mut product = 1.0;
    for (kernel, a, b) in &names {
        let (off, on) = (fastest(&samples[a]), fastest(&samples[b]));
        product *= on / off;
        println!(
            "{kernel:<12} {:>10.1}us {:>10.1}us {:>8.3}",
            off * 1e6,
            on * 1e6,
            on / off
        );
    }
    let geo = product.powf(1.0 / names.len() as f64);
    println!("geometric mean of on/off: {geo:.3} (goal: at most 1.5)");
}
