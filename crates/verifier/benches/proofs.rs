//! The interpreter with and without the checks speed-mode proofs make
//! redundant, side by side in one run, on the clang-built kernels of
//! `bpf-vm` (`crates/vm/fixtures/kernels`, the inputs of its `interp`
//! bench); then the analysis time per 1,000 instructions.
//!
//! Run: `cargo bench -p bpf-verifier --bench proofs`
//!
//! Wall time on a shared machine is noisy; host instruction counts are
//! not. With `PROOF_RUNS=n` nothing is timed: each kernel runs `n` times
//! in `run_plain` and in `run_proven`; count them with
//! `PROOF_RUNS=20 valgrind --tool=callgrind --toggle-collect='*run_plain*'
//! target/release/deps/proofs-<hash>` (and `'*run_proven*'`); `PROOF_ONLY=<kernel>`
//! runs one kernel.

use bpf_verifier::{functions_from_calls, prove, Limits, Program, SpeedEnv};
use bpf_vm::isa::{self, Insn};
use bpf_vm::{RegionKind, Vm};
use criterion::Criterion;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

macro_rules! kernel {
    ($name:literal, $args:expr) => {
        (
            $name,
            include_bytes!(concat!("../../vm/fixtures/kernels/", $name, ".v4.bin")) as &[u8],
            $args,
        )
    };
}

enum Args {
    Scalars(u64, u64),
    Buffer(usize),
}

/// The kernels and inputs of `bpf-vm`'s interp bench.
fn cases() -> Vec<(&'static str, &'static [u8], Args)> {
    vec![
        kernel!("sum_loop", Args::Scalars(20_000, 7)),
        kernel!("fib", Args::Scalars(8, 200)),
        kernel!("sieve", Args::Scalars(400, 10)),
        kernel!("fnv1a", Args::Buffer(16 * 1024)),
        kernel!("switch_loop", Args::Scalars(20_000, 12345)),
        kernel!("sdiv", Args::Scalars(4_000, -7i64 as u64)),
        kernel!("atomics", Args::Scalars(5_000, 99)),
    ]
}

struct Loaded {
    vm: Vm,
    args: [u64; 2],
}

/// Loads a kernel; with `proofs`, applies what speed mode proves.
fn load(code: &[Insn], args: &Args, proofs: bool) -> (Loaded, usize, usize) {
    let mut vm = Vm::default();
    vm.load_code(code).expect("valid kernel");
    let args = match args {
        Args::Scalars(a, b) => [*a, *b],
        Args::Buffer(len) => {
            let addr = vm.mem.alloc(RegionKind::Data, *len, 8).unwrap();
            let bytes: Vec<u8> = (0..*len).map(|i| (i * 7 + 3) as u8).collect();
            vm.mem.write_bytes(addr, &bytes).unwrap();
            [addr, *len as u64]
        }
    };
    let program = Program {
        code,
        base: 0,
        functions: functions_from_calls(code, 0),
    };
    let env = SpeedEnv {
        frame_size: vm.config().frame_size,
        max_call_depth: 8,
        extents: vec![],
    };
    let p = prove(&program, &env, Limits::default());
    if proofs {
        let proofs: Vec<(usize, RegionKind)> =
            p.proven.iter().map(|a| (a.slot, a.region)).collect();
        vm.set_access_proofs(0..code.len(), &proofs);
    }
    (Loaded { vm, args }, p.accesses, p.proven.len())
}

#[inline(never)]
fn run_plain(l: &mut Loaded, n: u64) -> u64 {
    (0..n).fold(0, |acc, _| acc ^ black_box(l.vm.call(0, &l.args).unwrap()))
}

#[inline(never)]
fn run_proven(l: &mut Loaded, n: u64) -> u64 {
    (0..n).fold(0, |acc, _| acc ^ black_box(l.vm.call(0, &l.args).unwrap()))
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
            let e = start.elapsed();
            samples
                .borrow_mut()
                .entry(name.clone())
                .or_default()
                .push(e.as_secs_f64() / iters as f64);
            e
        })
    });
}

fn fastest(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Analysis time per 1,000 instructions over every kernel, best of 20.
fn analysis_speed() {
    let mut insns = 0;
    let mut best = f64::INFINITY;
    for _ in 0..20 {
        let start = Instant::now();
        insns = 0;
        for (_, bytes, _) in cases() {
            let code = isa::decode(bytes).unwrap();
            let program = Program {
                code: &code,
                base: 0,
                functions: functions_from_calls(&code, 0),
            };
            let env = SpeedEnv {
                frame_size: 512,
                max_call_depth: 8,
                extents: vec![],
            };
            black_box(prove(&program, &env, Limits::default()));
            insns += code.len();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "analysis: {insns} instructions in {:.3} ms: {:.3} ms per 1,000 instructions",
        best * 1e3,
        best * 1e6 / insns as f64
    );
}

fn main() {
    if let Some(runs) = std::env::var("PROOF_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let only = std::env::var("PROOF_ONLY").ok();
        for (name, bytes, args) in cases() {
            if only.as_deref().is_some_and(|o| o != name) {
                continue;
            }
            let code = isa::decode(bytes).unwrap();
            let (mut a, ..) = load(&code, &args, false);
            let (mut b, ..) = load(&code, &args, true);
            assert_eq!(run_plain(&mut a, runs), run_proven(&mut b, runs), "{name}");
        }
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000))
        .sample_size(20)
        .configure_from_args();
    let samples: Samples = Rc::default();
    let mut rows = Vec::new();
    for (name, bytes, args) in cases() {
        let code = isa::decode(bytes).unwrap();
        let (mut plain, accesses, proven) = load(&code, &args, false);
        let (mut with, ..) = load(&code, &args, true);
        assert_eq!(
            plain.vm.call(0, &plain.args).unwrap(),
            with.vm.call(0, &with.args).unwrap(),
            "{name}: proofs change the result"
        );
        let (p, w) = (format!("{name}/checked"), format!("{name}/proven"));
        bench(&mut c, &samples, p.clone(), || run_plain(&mut plain, 1));
        bench(&mut c, &samples, w.clone(), || run_proven(&mut with, 1));
        rows.push((name, accesses, proven, p, w));
    }
    c.final_summary();
    let s = samples.borrow();
    if rows
        .iter()
        .any(|(.., p, w)| !s.contains_key(p) || !s.contains_key(w))
    {
        return;
    }
    println!(
        "\n{:<12} {:>8} {:>8} {:>12} {:>12} {:>8}",
        "kernel", "accesses", "proven", "checked", "proven", "speedup"
    );
    for (name, accesses, proven, p, w) in &rows {
        let (a, b) = (fastest(&s[p]), fastest(&s[w]));
        println!(
            "{name:<12} {accesses:>8} {proven:>8} {:>10.1}us {:>10.1}us {:>7.3}x",
            a * 1e6,
            b * 1e6,
            a / b
        );
    }
    println!("(fastest sample of each; accesses = memory instructions the analysis reached)");
    analysis_speed();
}
