//! Our interpreter against rbpf 0.4's interpreter on the clang-built
//! kernels of `fixtures/kernels` (v4 build for us, v3 build for rbpf, same
//! inputs). Prints each pair and the geometric mean of rbpf time / our time.
//!
//! Run: `cargo bench -p bpf-vm --bench interp`
//!
//! Instruction counts (repeatable where wall time is not): with
//! `INTERP_RUNS=n` the bench times nothing; it runs each kernel `n` times
//! on each interpreter inside `run_ours` / `run_rbpf` and prints how many
//! BPF instructions one run executes. Count the host instructions with
//! `INTERP_RUNS=20 valgrind --tool=callgrind --toggle-collect='*run_ours*'
//! target/release/deps/interp-<hash>` (and `'*run_rbpf*'`); add
//! `INTERP_ONLY=<kernel>` to run one kernel.

#[path = "../fixtures/kernels/harness.rs"]
mod harness;

use criterion::Criterion;
use harness::{rbpf_memory, rbpf_program, Args, Kernel, Ours};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Inputs sized so one run takes tens to hundreds of microseconds.
fn cases() -> Vec<(Kernel, Args)> {
    vec![
        (harness::SUM_LOOP, Args::Scalars(20_000, 7)),
        // rbpf allows 8 nested calls: fib(8) is as deep as it can go.
        (harness::FIB, Args::Scalars(8, 200)),
        (harness::SIEVE, Args::Scalars(400, 10)),
        (harness::FNV1A, Args::Buffer(harness::bytes(16 * 1024, 7))),
        (harness::SWITCH_LOOP, Args::Scalars(20_000, 12345)),
        (harness::SDIV, Args::Scalars(4_000, -7i64 as u64)),
        (harness::ATOMICS, Args::Scalars(5_000, 99)),
    ]
}

/// Per-iteration times of every sample, by benchmark name.
type Samples = Rc<RefCell<BTreeMap<String, Vec<f64>>>>;

/// Times `run` with criterion and keeps the per-iteration time of each sample.
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

/// The fastest sample: on a shared machine, other load only ever adds time.
fn fastest(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Runs our interpreter `n` times (the callgrind mode's unit of measure).
#[inline(never)]
fn run_ours(ours: &mut Ours, n: u64) -> u64 {
    (0..n).fold(0, |acc, _| acc ^ black_box(ours.run().unwrap()))
}

/// Runs rbpf's interpreter `n` times.
#[inline(never)]
fn run_rbpf(vm: &rbpf::EbpfVmRaw, memory: &mut [u8], n: u64) -> u64 {
    (0..n).fold(0, |acc, _| {
        acc ^ black_box(vm.execute_program(memory).unwrap())
    })
}

/// BPF instructions one run of `ours` executes: the smallest budget that
/// lets it finish (our budget counts every instruction, `ld_imm64` as one).
fn executed_instructions(ours: &mut Ours) -> u64 {
    let mut config = ours.vm.config();
    let (mut lo, mut hi) = (0u64, config.budget);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        ours.vm.set_config(bpf_vm::VmConfig {
            budget: mid,
            ..config
        });
        if ours.run().is_ok() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    config.budget = config.budget.max(lo);
    ours.vm.set_config(config);
    lo
}

/// The callgrind mode (see the module documentation).
fn count_mode(runs: u64) {
    let only = std::env::var("INTERP_ONLY").ok();
    for (kernel, args) in cases() {
        if only.as_deref().is_some_and(|o| o != kernel.name) {
            continue;
        }
        let mut ours = Ours::new(kernel.v4, &args);
        let insns = executed_instructions(&mut ours);
        let a = run_ours(&mut ours, runs);
        let program = rbpf_program(kernel.v3, &args);
        let b = match rbpf::EbpfVmRaw::new(Some(&program)) {
            Ok(vm) => run_rbpf(&vm, &mut rbpf_memory(&args), runs),
            Err(_) => a,
        };
        println!(
            "{:<12} {insns:>9} BPF instructions per run (ours, v4 build){}",
            kernel.name,
            if a == b { "" } else { "  (rbpf differs)" }
        );
    }
}

fn main() {
    if let Some(runs) = std::env::var("INTERP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        count_mode(runs);
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20)
        .configure_from_args();
    let samples: Samples = Rc::default();
    let mut pairs = Vec::new();

    for (kernel, args) in cases() {
        let mut ours = Ours::new(kernel.v4, &args);
        let expected = ours.run().expect("kernel runs on our VM");
        let ours_name = format!("{}/ours", kernel.name);
        bench(&mut c, &samples, ours_name.clone(), || ours.run().unwrap());

        let program = rbpf_program(kernel.v3, &args);
        let Ok(vm) = rbpf::EbpfVmRaw::new(Some(&program)) else {
            // rbpf 0.4's verifier rejects atomics: nothing to compare with.
            println!(
                "{}: rbpf cannot run it (no atomics); ours only",
                kernel.name
            );
            continue;
        };
        let mut memory = rbpf_memory(&args);
        let theirs = vm
            .execute_program(&mut memory)
            .expect("kernel runs on rbpf");
        assert_eq!(theirs, expected, "{}: rbpf and we disagree", kernel.name);
        let rbpf_name = format!("{}/rbpf", kernel.name);
        bench(&mut c, &samples, rbpf_name.clone(), || {
            vm.execute_program(&mut memory).unwrap()
        });
        pairs.push((kernel.name, ours_name, rbpf_name));
    }
    c.final_summary();

    let samples = samples.borrow();
    if pairs
        .iter()
        .any(|(_, o, r)| !samples.contains_key(o) || !samples.contains_key(r))
    {
        return; // filtered run (e.g. `cargo bench -- fib`): no full comparison
    }
    println!(
        "\n{:<12} {:>12} {:>12} {:>10}",
        "kernel", "ours", "rbpf", "rbpf/ours"
    );
    let mut all = Vec::new();
    let mut same_code = Vec::new();
    for (kernel, ours_name, rbpf_name) in &pairs {
        let ours = fastest(&samples[ours_name]);
        let rbpf = fastest(&samples[rbpf_name]);
        let ratio = rbpf / ours;
        all.push(ratio);
        // Only sdiv's v3 build differs in kind: v3 has no signed division,
        // so the C source derives it from unsigned division there.
        let note = if *kernel == "sdiv" {
            "  (v3 build emulates signed division)"
        } else {
            same_code.push(ratio);
            ""
        };
        println!(
            "{kernel:<12} {:>10.1}us {:>10.1}us {ratio:>10.2}{note}",
            ours * 1e6,
            rbpf * 1e6
        );
    }
    println!("(fastest sample of each benchmark)");
    println!(
        "geometric mean of rbpf time / our time: {:.2}x ({:.2}x without sdiv)",
        geomean(&all),
        geomean(&same_code)
    );
}

fn geomean(ratios: &[f64]) -> f64 {
    (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp()
}
