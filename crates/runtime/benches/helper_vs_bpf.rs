//! Host helper vs. the same loop in interpreted BPF, to decide where each
//! C function should live; and the price of floating point done by helper
//! calls (docs/abi.md) next to integer arithmetic done by BPF itself.
//! Run: `cargo bench -p bpf-runtime --bench helper_vs_bpf`.
//!
//! `arith/*/1000` runs 1000 iterations of a loop: `fp_add` calls
//! `__bpf_f64_add` once per iteration, `int_add` does one BPF `add`,
//! `int_call` calls a BPF function that adds, `empty` is the loop alone.
//! Per-operation cost: (loop - empty) / 1000.

#[path = "../tests/common/elf.rs"]
mod elf;

use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::RegionKind;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = elf::load("bench.o", &rt);
    let mem = &mut prog.vm.mem;
    let src = mem.alloc(RegionKind::Data, 4097, 8).unwrap();
    let dst = mem.alloc(RegionKind::Data, 4096, 8).unwrap();
    let mut group = c.benchmark_group("helper_vs_bpf");
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for n in [0u64, 16, 256, 4096] {
        let text = vec![b'a'; n as usize];
        prog.vm.mem.write_bytes(src, &text).unwrap();
        prog.vm.mem.store(src + n, 1, 0).unwrap();
        for (name, args) in [
            ("strlen", vec![src]),
            ("memcpy", vec![dst, src, n]),
            ("memset", vec![dst, 0x55, n]),
        ] {
            for kind in ["bpf", "helper"] {
                let func = format!("{kind}_{name}");
                let id = BenchmarkId::new(func.clone(), n);
                group.bench_with_input(id, &args, |b, args| {
                    b.iter(|| prog.call(&func, args).unwrap())
                });
            }
        }
    }
    group.finish();
}

fn arith(c: &mut Criterion) {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = elf::load("fullmode.o", &rt);
    let mut group = c.benchmark_group("arith");
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let n = 1000u64;
    for (name, func) in [
        ("fp_add", "fp_add_loop"),
        ("int_add", "int_add_loop"),
        ("int_call", "int_call_loop"),
        ("empty", "empty_loop"),
    ] {
        group.bench_with_input(BenchmarkId::new(name, n), &n, |b, n| {
            b.iter(|| prog.call(func, &[*n]).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench, arith);
criterion_main!(benches);
