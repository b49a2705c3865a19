//! qsort of 100,000 random ints three ways, the comparison function being
//! BPF code in the first two:
//!   helper  the runtime's qsort (a host helper calling the comparison
//!           back in BPF, one VM callback per comparison)
//!   bpf     the same merge sort compiled to BPF (tests/fixtures/sort.c),
//!           the comparison an indirect BPF call
//!   native  glibc's qsort with a native comparison function
//! Run: `cargo bench -p bpf-runtime --bench qsort`; the ratios to native
//! are printed after criterion's figures.

#[path = "../tests/common/elf.rs"]
mod elf;

use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{code_addr, RegionKind};
use criterion::{criterion_group, criterion_main, Criterion};
use std::time::{Duration, Instant};

const N: usize = 100_000;

fn data() -> Vec<i32> {
    let mut s: u32 = 12345;
    (0..N)
        .map(|_| {
            s = s.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (s >> 8) as i32
        })
        .collect()
}

extern "C" fn native_cmp(a: *const libc::c_void, b: *const libc::c_void) -> libc::c_int {
    // SAFETY: qsort passes pointers to elements of the i32 array.
    let (x, y) = unsafe { (*(a as *const i32), *(b as *const i32)) };
    (x > y) as libc::c_int - (x < y) as libc::c_int
}

fn native_sort(v: &mut [i32]) {
    // SAFETY: a valid array of `v.len()` i32s and a matching comparison.
    unsafe {
        libc::qsort(
            v.as_mut_ptr().cast(),
            v.len(),
            std::mem::size_of::<i32>(),
            Some(native_cmp),
        )
    };
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = elf::load("sort.o", &rt);
    let input = data();
    let bytes: Vec<u8> = input.iter().flat_map(|x| x.to_le_bytes()).collect();
    let v = prog.vm.mem.alloc(RegionKind::Data, N * 4, 8).unwrap();
    let tmp = prog.vm.mem.alloc(RegionKind::Data, N * 4, 8).unwrap();
    let cmp = code_addr(prog.entries["cmp_int"]);
    let mut sorted = input.clone();
    sorted.sort();
    let expect: Vec<u8> = sorted.iter().flat_map(|x| x.to_le_bytes()).collect();

    let mut group = c.benchmark_group("qsort_100k_ints");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_millis(500));
    let mut times = Vec::new();
    for (name, args) in [
        ("helper", vec![v, N as u64, cmp]),
        ("bpf", vec![v, N as u64, cmp, tmp]),
    ] {
        let func = format!("sort_{name}");
        group.bench_function(name, |b| {
            b.iter(|| {
                prog.vm.mem.write_bytes(v, &bytes).unwrap();
                prog.call(&func, &args).unwrap()
            })
        });
        assert_eq!(prog.vm.mem.read_bytes(v, N * 4).unwrap(), expect, "{name}");
        let start = Instant::now();
        for _ in 0..3 {
            prog.vm.mem.write_bytes(v, &bytes).unwrap();
            prog.call(&func, &args).unwrap();
        }
        times.push((name, start.elapsed() / 3));
    }
    group.bench_function("native", |b| {
        b.iter(|| {
            let mut w = input.clone();
            native_sort(&mut w);
            w
        })
    });
    group.finish();
    let start = Instant::now();
    for _ in 0..3 {
        let mut w = input.clone();
        native_sort(&mut w);
        assert_eq!(w, sorted);
    }
    let native = start.elapsed() / 3;
    println!("qsort of {N} ints: native {native:?}");
    for (name, t) in times {
        println!(
            "  {name:<6} {t:?} = {:.1}x native",
            t.as_secs_f64() / native.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
