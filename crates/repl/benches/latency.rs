//! REPL latency: median time from input to printed result for a one-line
//! expression and for a small function definition, at the start of a
//! session and after 1,000 earlier inputs; what isolating the IR stage in
//! a forked child costs per input; then replaying a transcript beside
//! `clang-repl-19 -Xcc -xc` replaying the same file.
//!
//! Run: `cargo bench -p bpf-repl --bench latency`

use bpf_repl::engine::{Repl, ReplOptions};
use bpf_repl::replay;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SAMPLES: usize = 25;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median latency of `SAMPLES` inputs made by `make(k)`, each printed as the REPL would.
fn measure(repl: &mut Repl, make: impl Fn(usize) -> String) -> Duration {
    let mut times = Vec::new();
    for k in 0..SAMPLES {
        let input = make(k);
        let start = Instant::now();
        let at = origin(repl);
        let printed = replay::run_input(repl, &input, at);
        assert!(!printed.failed, "{input}: {}", printed.stderr);
        print_nothing(&printed.stdout);
        times.push(start.elapsed());
    }
    median(times)
}

fn origin(repl: &Repl) -> bpf_repl::engine::Origin {
    bpf_repl::engine::Origin {
        name: format!("input {}", repl.input_count() + 1),
        first_line: 1,
    }
}

fn print_nothing(s: &str) {
    std::hint::black_box(s);
}

/// The 1,000 earlier inputs: a realistic mix of definitions and expressions.
fn history(i: usize) -> String {
    match i % 4 {
        0 => format!("int var_{i} = {i};"),
        1 => format!("int fn_{i}(int x) {{ return x + var_{}; }}", i - 1),
        2 => format!("fn_{}({i})", i - 1),
        _ => format!("var_{} += 1;", i - 3),
    }
}

fn main() {
    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let expr = |k: usize| format!("{k} * 2 + 1");
    let func = |k: usize| format!("int bench_fn_{k}(int x) {{ return x * {k}; }}");
    // Warm up (first clang run pages clang in).
    measure(&mut repl, expr);
    let expr_start = measure(&mut repl, expr);
    let func_start = measure(&mut repl, func);
    let before = repl.input_count();
    for i in 0..1000 {
        let at = origin(&repl);
        let printed = replay::run_input(&mut repl, &history(i), at);
        assert!(!printed.failed, "{}: {}", history(i), printed.stderr);
    }
    let expr_late = measure(&mut repl, expr);
    let func_late = measure(&mut repl, func);
    println!(
        "one-line expression: {:.1} ms at input ~{}, {:.1} ms after {} inputs (ratio {:.2})",
        ms(expr_start),
        SAMPLES * 2,
        ms(expr_late),
        repl.input_count() - before,
        ms(expr_late) / ms(expr_start)
    );
    println!(
        "function definition: {:.1} ms at the start, {:.1} ms after 1,000 inputs (ratio {:.2})",
        ms(func_start),
        ms(func_late),
        ms(func_late) / ms(func_start)
    );
    lowering_in_a_child_vs_in_process();
    strict_vs_full();
    engines();
    replay_vs_clang_repl();
}

/// Integer-only inputs in strict mode (plain BPF: what the REPL did before
/// the IR stage) against full mode (the IR stage, UB checks on).
fn strict_vs_full() {
    let expr = |k: usize| format!("{k} * 2 + 1");
    let func = |k: usize| format!("int strict_fn_{k}(int x) {{ return x * {k}; }}");
    let mut row = Vec::new();
    for strict in [true, false] {
        let options = ReplOptions {
            strict,
            ..ReplOptions::default()
        };
        let mut repl = Repl::new(&options).unwrap_or_else(|e| panic!("{e}"));
        measure(&mut repl, expr);
        row.push((measure(&mut repl, expr), measure(&mut repl, func)));
    }
    let [(se, sf), (fe, ff)] = [row[0], row[1]];
    println!(
        "integer-only input, strict (plain BPF) vs full (IR stage + UB checks): expression {:.1} vs {:.1} ms (ratio {:.2}), definition {:.1} vs {:.1} ms (ratio {:.2})",
        ms(se),
        ms(fe),
        ms(fe) / ms(se),
        ms(sf),
        ms(ff),
        ms(ff) / ms(sf)
    );
}

/// Per-input latency and a long-running loop on each engine.
fn engines() {
    use bpf_jit::EngineKind;
    let expr = |k: usize| format!("{k} * 2 + 1");
    let func = |k: usize| format!("int engine_fn_{k}(int x) {{ return x * {k}; }}");
    let spin = "unsigned long spin(long n) { unsigned long s = 0; for (long i = 0; i < n; i++) s += i ^ (s >> 3); return s; }";
    let mut loop_times = Vec::new();
    for kind in EngineKind::ALL {
        let options = ReplOptions {
            engine: kind,
            budget: u64::MAX,
            ..ReplOptions::default()
        };
        let mut repl = Repl::new(&options).unwrap_or_else(|e| panic!("{e}"));
        measure(&mut repl, expr);
        let (e, f) = (measure(&mut repl, expr), measure(&mut repl, func));
        let at = origin(&repl);
        assert!(!replay::run_input(&mut repl, spin, at).failed);
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let at = origin(&repl);
            let p = replay::run_input(&mut repl, "spin(20000000)", at);
            assert!(!p.failed, "{}", p.stderr);
            times.push(t.elapsed());
        }
        let l = median(times);
        loop_times.push(l);
        println!(
            "engine {:<6}: expression {:.1} ms, definition {:.1} ms, loop of 20M iterations {:.0} ms",
            repl.engine_name(),
            ms(e),
            ms(f),
            ms(l)
        );
    }
    println!(
        "loop input: interp / jit {:.1}x, interp / auto {:.1}x",
        ms(loop_times[0]) / ms(loop_times[1]),
        ms(loop_times[0]) / ms(loop_times[2])
    );
}

/// The IR stage on one input's bitcode: in process (`bpf_cc::lower`)
/// against in a forked child (`bpf_repl::clang::lower`, what the REPL
/// does so an LLVM fatal error cannot end the session).
fn lowering_in_a_child_vs_in_process() {
    use bpf_repl::clang::{lower, target_flags, CodeMode, Target};
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("unit.c");
    std::fs::write(
        &src,
        "int bench_fn(int x) { return x * 3; }\nint __repl_val_1;\nvoid __repl_run_1(void) { __repl_val_1 = bench_fn(14); }\n",
    )
    .unwrap();
    let mode = CodeMode::default();
    let out = Command::new("clang-19")
        .args(target_flags(Target::Repl, mode))
        .arg("-c")
        .arg(&src)
        .args(["-o", "-"])
        .output()
        .expect("clang-19 runs (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let options = bpf_cc::LowerOptions {
        ub_checks: bpf_cc::UbChecks::On,
        ..bpf_cc::LowerOptions::default()
    };
    let never = std::sync::atomic::AtomicBool::new(false);
    let time = |f: &dyn Fn()| {
        median(
            (0..SAMPLES)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
    };
    let in_process = time(&|| {
        bpf_cc::lower(&out.stdout, &options).unwrap();
    });
    let in_child = time(&|| {
        let bounds = lower::Bounds {
            deadline: Instant::now() + Duration::from_secs(30),
            cancel: &never,
            output: 1 << 30,
            scratch: dir.path(),
        };
        lower::lower(&out.stdout, &options, &bounds).unwrap();
    });
    println!(
        "IR stage per input: {:.2} ms in process, {:.2} ms in a forked child (ratio {:.2})",
        ms(in_process),
        ms(in_child),
        ms(in_child) / ms(in_process)
    );
}

/// A transcript both REPLs accept: one-line declarations and statements.
fn replay_file() -> String {
    let mut s = String::from("int printf(const char *, ...);\n");
    for i in 0..100 {
        s.push_str(&format!("int v{i} = {i};\n"));
        s.push_str(&format!("int f{i}(int x) {{ return x * 2 + v{i}; }}\n"));
        s.push_str(&format!("v{i} = f{i}(v{i});\n"));
    }
    s.push_str("printf(\"%d\\n\", v99);\n");
    s
}

fn replay_vs_clang_repl() {
    let file = replay_file();
    let inputs = file.lines().count();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.c");
    std::fs::write(&path, &file).unwrap();
    let ours = env!("CARGO_BIN_EXE_bpf-repl");
    let run = |cmd: &mut Command| -> (Duration, String) {
        let start = Instant::now();
        let out = cmd
            .stdin(Stdio::from(std::fs::File::open(&path).unwrap()))
            .output()
            .expect("run");
        (
            start.elapsed(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (t_ours, out_ours) = run(&mut Command::new(ours));
    match which::which("clang-repl-19") {
        Ok(clang_repl) => {
            let (t_peer, out_peer) = run(Command::new(clang_repl).args(["-Xcc", "-xc"]));
            assert_eq!(out_ours.trim(), out_peer.trim(), "both REPLs print the same");
            println!(
                "replay of {inputs} inputs: bpf-repl {:.0} ms, clang-repl-19 {:.0} ms (ratio clang-repl / bpf-repl {:.2})",
                ms(t_ours),
                ms(t_peer),
                ms(t_peer) / ms(t_ours)
            );
        }
        Err(_) => println!(
            "replay of {inputs} inputs: bpf-repl {:.0} ms; clang-repl-19 not found (apt-get install clang-19)",
            ms(t_ours)
        ),
    }
}
