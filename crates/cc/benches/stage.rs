//! What the IR stage costs per input, beside today's path, in one run:
//! `clang -c` straight to an object (plain BPF, the REPL today) against
//! `clang -emit-llvm` then `bpf_cc::lower` in process; and `lower` alone.
//! Inputs: a REPL-sized integer snippet and one with floating point and
//! a variadic call. Run: `cargo bench -p bpf-cc --bench stage`.

use bpf_cc::{clang_flags, lower, LowerOptions, Mode, UbChecks};
use criterion::{criterion_group, criterion_main, Criterion};
use std::process::Command;
use std::time::Duration;

const INT_INPUT: &str = "int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nint __repl_run_1(void) { return fib(20); }\n";
const FULL_INPUT: &str = "#include <stdio.h>\ndouble area(double r) { return 3.14159 * r * r; }\nint __repl_run_1(void) { printf(\"%d %d %d %d %d %d\\n\", 1, 2, 3, 4, 5, (int)area(2)); return 0; }\n";

fn clang(args: &[std::ffi::OsString], src: &std::path::Path) -> Vec<u8> {
    let out = Command::new(bpf_cc::clang::clang_path())
        .args(args)
        .arg("-c")
        .arg(src)
        .args(["-o", "-"])
        .output()
        .expect("clang-19 runs (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Today's flags: plain clang to an object.
fn plain_flags() -> Vec<std::ffi::OsString> {
    let mut f: Vec<std::ffi::OsString> = ["-target", "bpf", "-mcpu=v4", "-O2", "-g"]
        .iter()
        .map(Into::into)
        .collect();
    f.extend(bpf_runtime::clang_args());
    f
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("stage");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_millis(500));
    let options = LowerOptions::default();
    for (name, text) in [("int", INT_INPUT), ("fp_varargs", FULL_INPUT)] {
        let src = dir.path().join(format!("{name}.c"));
        std::fs::write(&src, text).unwrap();
        if name == "int" {
            group.bench_function(format!("{name}/plain_clang_object"), |b| {
                b.iter(|| clang(&plain_flags(), &src))
            });
        }
        let flags = clang_flags(Mode::Full, UbChecks::Off);
        group.bench_function(format!("{name}/clang_bitcode_then_lower"), |b| {
            b.iter(|| lower(&clang(&flags, &src), &options).unwrap())
        });
        let bitcode = clang(&flags, &src);
        group.bench_function(format!("{name}/lower_only"), |b| {
            b.iter(|| lower(&bitcode, &options).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
