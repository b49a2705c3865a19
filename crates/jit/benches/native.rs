//! One run, side by side, on the clang-built kernels of
//! `crates/vm/fixtures/kernels` (the interpreter benchmark's, plus XXH64
//! over 1 MiB as the larger program): our JIT, our interpreter, the same C
//! built natively with `gcc -O2` and `clang-19 -O2`, and rbpf 0.4's JIT
//! (on the `-mcpu=v3` build). Prints each time, each ratio to native, the
//! geometric means, the translation time per 1,000 BPF instructions, and
//! the `auto` crossover (how many interpreted instructions pay for a
//! translation).
//!
//! Run: `cargo bench -p bpf-jit --bench native` (needs gcc and clang-19).
//! Times are the fastest of several samples: on a shared machine, other
//! load only ever adds time.

#[path = "../../vm/fixtures/kernels/harness.rs"]
mod harness;

use bpf_jit::{EngineKind, Jit};
use harness::{rbpf_memory, rbpf_program, Args, Kernel, Ours};
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

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
        (harness::XXHASH, Args::Buffer(harness::bytes(1 << 20, 3))),
    ]
}

/// Fastest time of one call of `f` over samples of at least 20 ms each.
fn time(mut f: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(20) {
        black_box(f());
        n += 1;
    }
    let per_sample = n.max(1);
    (0..8)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_sample {
                black_box(f());
            }
            t.elapsed().as_secs_f64() / per_sample as f64
        })
        .fold(f64::INFINITY, f64::min)
}

type KernelFn = unsafe extern "C" fn(u64, u64) -> u64;

/// The kernels' C built as a shared library by `compiler -O2`.
fn native_library(compiler: &str, dir: &Path) -> libloading::Library {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vm/fixtures/kernels");
    let mut sources: Vec<_> = std::fs::read_dir(&src)
        .expect("kernel sources")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    let out = dir.join(format!("libkernels-{compiler}.so"));
    let status = Command::new(compiler)
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&out)
        .args(&sources)
        .status()
        .unwrap_or_else(|e| panic!("{compiler} not found ({e}): install gcc and clang-19"));
    assert!(status.success(), "{compiler} failed");
    // SAFETY: a library of plain C functions without constructors.
    unsafe { libloading::Library::new(&out) }.expect("load the native kernels")
}

fn call_native(lib: &libloading::Library, name: &str, args: &Args) -> u64 {
    // SAFETY: every kernel has this signature (pointers passed as integers).
    let f: libloading::Symbol<KernelFn> = unsafe { lib.get(name.as_bytes()) }.expect("symbol");
    match args {
        Args::Scalars(a, b) => unsafe { f(*a, *b) },
        Args::Buffer(bytes) => unsafe { f(bytes.as_ptr() as u64, bytes.len() as u64) },
    }
}

fn ours(kernel: Kernel, args: &Args, engine: Option<EngineKind>) -> Ours {
    let mut o = Ours::new(kernel.v4, args);
    if let Some(kind) = engine {
        o.vm.set_engine(Some(Box::new(Jit::new(kind).expect("a JIT for this host"))));
    }
    o
}

/// BPF instructions one run executes: the smallest budget that lets it finish.
fn executed_instructions(o: &mut Ours) -> u64 {
    let config = o.vm.config();
    let (mut lo, mut hi) = (0u64, config.budget);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        o.vm.set_config(bpf_vm::VmConfig {
            budget: mid,
            ..config
        });
        if o.run().is_ok() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    o.vm.set_config(config);
    lo
}

fn geomean(v: &[f64]) -> f64 {
    (v.iter().map(|r| r.ln()).sum::<f64>() / v.len() as f64).exp()
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let gcc = native_library("gcc", dir.path());
    let clang = native_library("clang-19", dir.path());
    let us = |t: f64| format!("{:.1}", t * 1e6);

    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} | {:>7} {:>9} {:>10} {:>8}",
        "kernel",
        "gcc",
        "clang",
        "jit",
        "interp",
        "rbpf-jit",
        "jit/gcc",
        "jit/clang",
        "interp/gcc",
        "rbpf/gcc"
    );
    let (mut jit_gcc, mut jit_clang, mut interp_gcc) = (vec![], vec![], vec![]);
    let (mut rbpf_gcc, mut jit_gcc_where_rbpf) = (vec![], vec![]);
    let mut crossover = Vec::new();
    let (mut translated, mut translate_time) = (0u64, Duration::ZERO);
    let (mut startup, mut starts) = (Duration::ZERO, 0u32);
    for (kernel, args) in cases() {
        let mut interp = ours(kernel, &args, None);
        let expected = interp.run().expect("kernel runs");
        let mut jit = ours(kernel, &args, Some(EngineKind::Jit));
        assert_eq!(
            jit.run().expect("kernel runs on the JIT"),
            expected,
            "{}",
            kernel.name
        );
        for lib in [&gcc, &clang] {
            assert_eq!(
                call_native(lib, kernel.name, &args),
                expected,
                "{} native",
                kernel.name
            );
        }
        let t_gcc = time(|| call_native(&gcc, kernel.name, &args));
        let t_clang = time(|| call_native(&clang, kernel.name, &args));
        let t_jit = time(|| jit.run().unwrap());
        let t_interp = time(|| interp.run().unwrap());

        // rbpf's JIT on the v3 build, where its verifier accepts it.
        let program = rbpf_program(kernel.v3, &args);
        let mut memory = rbpf_memory(&args);
        let t_rbpf = rbpf::EbpfVmRaw::new(Some(&program))
            .ok()
            .and_then(|mut vm| {
                vm.jit_compile().ok()?;
                // SAFETY: rbpf's JIT on a program rbpf's verifier accepted.
                let got = unsafe { vm.execute_program_jit(&mut memory) }.ok()?;
                assert_eq!(got, expected, "{}: rbpf's JIT disagrees", kernel.name);
                Some(time(|| {
                    unsafe { vm.execute_program_jit(&mut memory) }.unwrap()
                }))
            });

        jit_gcc.push(t_jit / t_gcc);
        jit_clang.push(t_jit / t_clang);
        interp_gcc.push(t_interp / t_gcc);
        if let Some(t) = t_rbpf {
            rbpf_gcc.push(t / t_gcc);
            jit_gcc_where_rbpf.push(t_jit / t_gcc);
        }
        println!(
            "{:<12} {:>9} {:>9} {:>9} {:>9} {:>9} | {:>7.2} {:>9.2} {:>10.2} {:>8}",
            kernel.name,
            us(t_gcc),
            us(t_clang),
            us(t_jit),
            us(t_interp),
            t_rbpf.map(us).unwrap_or_else(|| "-".into()),
            t_jit / t_gcc,
            t_jit / t_clang,
            t_interp / t_gcc,
            t_rbpf
                .map(|t| format!("{:.2}", t / t_gcc))
                .unwrap_or_else(|| "-".into()),
        );

        // Translation: fresh engines, all of the kernel's units.
        let mut compile = Duration::ZERO;
        let mut insns = 0;
        for _ in 0..20 {
            let mut fresh = ours(kernel, &args, None);
            let mut engine = Jit::new(EngineKind::Jit).unwrap();
            let start = Instant::now();
            engine.compile_all(&mut fresh.vm, fresh.entry);
            startup += start.elapsed() - engine.stats().time;
            compile += engine.stats().time;
            insns += engine.stats().instructions;
            starts += 1;
        }
        translated += insns;
        translate_time += compile;
        // Interpreted instructions that cost as much as translating this kernel.
        let executed = executed_instructions(&mut interp) as f64;
        let saved_per_insn = (t_interp - t_jit) / executed;
        crossover.push((
            kernel.name,
            compile.as_secs_f64() / 20.0 / saved_per_insn,
            insns / 20,
        ));
    }
    println!("(microseconds per call, fastest sample; rbpf-jit '-': rbpf 0.4's verifier rejects the v3 build)");
    println!(
        "geometric mean: jit/gcc {:.2}x, jit/clang {:.2}x, interp/gcc {:.2}x; where rbpf runs: rbpf-jit/gcc {:.2}x, jit/gcc {:.2}x",
        geomean(&jit_gcc),
        geomean(&jit_clang),
        geomean(&interp_gcc),
        geomean(&rbpf_gcc),
        geomean(&jit_gcc_where_rbpf),
    );
    println!(
        "translation: {:.0} us per 1,000 BPF instructions ({} instructions, every unit of every kernel, 20 times)",
        translate_time.as_secs_f64() * 1e6 / (translated as f64 / 1000.0),
        translated
    );
    println!(
        "engine start-up (code generator, trampoline, host adapters; once per VM): {:.0} us",
        startup.as_secs_f64() * 1e6 / starts as f64
    );
    for (name, n, size) in crossover {
        println!(
            "auto crossover {name:<12} {n:>9.0} interpreted instructions pay for translating its {size} instructions"
        );
    }
}
