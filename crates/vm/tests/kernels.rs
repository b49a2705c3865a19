//! Clang-built kernels (`fixtures/kernels/*.c`, built by `rebuild.sh`): the
//! v4 build runs on our VM, the v3 build on rbpf's interpreter, and both
//! must return what an independent Rust implementation computes.

#[path = "../fixtures/kernels/harness.rs"]
mod harness;

use harness::{run_rbpf, Args, Kernel, Ours};
use std::path::Path;
use std::process::Command;

// ------------------------------------------------------- Rust oracles ----

fn sum_loop(n: u64, seed: u64) -> u64 {
    (0..n).fold(seed, |s, i| s.wrapping_add(i.wrapping_mul(i) ^ (i >> 3)))
}

fn fib_naive(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib_naive(n - 1) + fib_naive(n - 2)
    }
}

fn fib(n: u64, reps: u64) -> u64 {
    (0..reps).map(|r| fib_naive(n - (r & 1))).sum()
}

/// Primes below min(n, 400) by trial division (not a sieve), times `reps`.
fn sieve(n: u64, reps: u64) -> u64 {
    let is_prime = |p: u64| {
        p >= 2
            && (2..p)
                .take_while(|d| d * d <= p)
                .all(|d| !p.is_multiple_of(d))
    };
    (0..n.min(400)).filter(|p| is_prime(*p)).count() as u64 * reps
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn switch_loop(n: u64, mut x: u64) -> u64 {
    let mut state = 0u32;
    for i in 0..n {
        match state {
            0 => {
                x = x.wrapping_add(i);
                state = ((x >> 3) & 7) as u32;
            }
            1 => {
                x ^= x << 7;
                state = 3;
            }
            2 => {
                x = x.wrapping_mul(5).wrapping_add(1);
                state = (x & 7) as u32;
            }
            3 => {
                x ^= x >> 9;
                state = 6;
            }
            4 => {
                x = x.wrapping_sub(0x9e37_79b9);
                state = ((x >> 13) & 7) as u32;
            }
            5 => {
                x = x.rotate_left(3);
                state = 2;
            }
            6 => {
                x = x.wrapping_add(x >> 1);
                state = ((x >> 5) & 7) as u32;
            }
            _ => {
                x ^= 0x5bd1_e995;
                state = 0;
            }
        }
    }
    x
}

/// C division truncates, as Rust's `/` and `%` on signed integers do.
fn sdiv(n: i64, d: i64) -> u64 {
    (-n..=n)
        .map(|i| 3 * (i / d) + i % d + ((i as i32) / (d as i32)) as i64)
        .sum::<i64>() as u64
}

/// The sequential meaning of the atomic builtins on a single thread.
fn atomics(n: u64, seed: u64) -> u64 {
    let (mut counter, mut small, mut s) = (seed, seed as u32, 0u64);
    for i in 0..n {
        let old = counter;
        counter = counter.wrapping_add(i);
        s = s.wrapping_add(old);
        let old32 = small;
        small = small.wrapping_add(3);
        s ^= old32 as u64;
        let want = if i & 1 == 1 { counter } else { !counter };
        let old = counter;
        if old == want {
            counter = s;
        }
        s = s.wrapping_add(old);
        let want32 = if i % 3 == 0 { small } else { 0 };
        let old32 = small;
        if old32 == want32 {
            small = i as u32;
        }
        s = s.wrapping_add(old32 as u64);
    }
    s ^ counter ^ small as u64
}

/// XXH64 with seed 0, from the reference description (Collet).
fn xxhash(bytes: &[u8]) -> u64 {
    const P1: u64 = 11400714785074694791;
    const P2: u64 = 14029467366897019727;
    const P3: u64 = 1609587929392839161;
    const P4: u64 = 9650029242287828579;
    const P5: u64 = 2870177450012600261;
    let round = |acc: u64, input: u64| {
        acc.wrapping_add(input.wrapping_mul(P2))
            .rotate_left(31)
            .wrapping_mul(P1)
    };
    let word = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap());
    let mut rest = bytes;
    let mut h = if bytes.len() >= 32 {
        let mut v = [P1.wrapping_add(P2), P2, 0, P1.wrapping_neg()];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, word(&rest[8 * i..]));
            }
            rest = &rest[32..];
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = (h ^ round(0, lane)).wrapping_mul(P1).wrapping_add(P4);
        }
        h
    } else {
        P5
    };
    h = h.wrapping_add(bytes.len() as u64);
    while rest.len() >= 8 {
        h ^= round(0, word(rest));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        h ^= u32::from_le_bytes(rest[..4].try_into().unwrap()) as u64 * P1;
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &b in rest {
        h ^= (b as u64).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

// ------------------------------------------------------------ runners ----

fn ours(kernel: Kernel, args: &Args) -> u64 {
    Ours::new(kernel.v4, args)
        .run()
        .unwrap_or_else(|t| panic!("{} trapped on our VM: {t}", kernel.name))
}

fn rbpf(kernel: Kernel, args: &Args) -> u64 {
    run_rbpf(kernel.v3, args).unwrap_or_else(|e| panic!("{} failed on rbpf: {e}", kernel.name))
}

/// Runs `kernel` on both VMs with `args` and checks both against `expected`.
fn check_both(kernel: Kernel, args: Args, expected: u64) {
    assert_eq!(
        ours(kernel, &args),
        expected,
        "{} on our VM, {args:?}",
        kernel.name
    );
    assert_eq!(
        rbpf(kernel, &args),
        expected,
        "{} on rbpf, {args:?}",
        kernel.name
    );
}

// -------------------------------------------------------------- tests ----

#[test]
fn oracles_match_published_values() {
    // FNV-1a 64 test vectors from the FNV reference (Noll).
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    assert_eq!(fib_naive(20), 6765);
    // 78 primes below 400, 25 below 100.
    assert_eq!(sieve(400, 1), 78);
    assert_eq!(sieve(100, 1), 25);
    // XXH64 test vectors (seed 0) from the xxHash reference.
    assert_eq!(xxhash(b""), 0xef46_db37_51d8_e999);
    assert_eq!(xxhash(b"a"), 0xd24e_c4f1_a98c_6e5b);
    assert_eq!(xxhash(b"abc"), 0x44bc_2cf5_ad77_0999);
}

#[test]
fn xxhash_kernel() {
    for len in [0, 1, 3, 4, 7, 8, 31, 32, 33, 100, 4096 + 13] {
        let input = harness::bytes(len, 99);
        let expected = xxhash(&input);
        check_both(harness::XXHASH, Args::Buffer(input), expected);
    }
}

#[test]
fn sum_loop_kernel() {
    for (n, seed) in [(0, 7), (1, 0), (1000, 7), (4096, u64::MAX)] {
        check_both(harness::SUM_LOOP, Args::Scalars(n, seed), sum_loop(n, seed));
    }
}

#[test]
fn fib_kernel() {
    // Deep recursion on our VM only: rbpf stops at 8 nested calls.
    assert_eq!(ours(harness::FIB, &Args::Scalars(20, 1)), 6765);
    assert_eq!(ours(harness::FIB, &Args::Scalars(24, 3)), fib(24, 3));
    for (n, reps) in [(1, 1), (2, 3), (8, 50)] {
        check_both(harness::FIB, Args::Scalars(n, reps), fib(n, reps));
    }
}

#[test]
fn sieve_kernel() {
    for (n, reps) in [(0, 1), (2, 1), (3, 1), (100, 2), (400, 3), (10_000, 1)] {
        check_both(harness::SIEVE, Args::Scalars(n, reps), sieve(n, reps));
    }
}

#[test]
fn fnv1a_kernel() {
    for input in [
        Vec::new(),
        b"a".to_vec(),
        b"foobar".to_vec(),
        harness::bytes(1024, 42),
    ] {
        let expected = fnv1a(&input);
        check_both(harness::FNV1A, Args::Buffer(input), expected);
    }
}

#[test]
fn switch_loop_kernel() {
    for (n, x) in [(0, 1), (100, 0), (10_000, 12345), (3000, u64::MAX)] {
        check_both(harness::SWITCH_LOOP, Args::Scalars(n, x), switch_loop(n, x));
    }
}

#[test]
fn sdiv_kernel() {
    for (n, d) in [(0, 1), (500, -7), (300, 3), (100, -1), (64, 1_000_000)] {
        check_both(harness::SDIV, Args::Scalars(n as u64, d as u64), sdiv(n, d));
    }
}

#[test]
fn atomics_kernel() {
    for (n, seed) in [(0, 5), (1, 0), (1000, 99), (777, u64::MAX)] {
        assert_eq!(
            ours(harness::ATOMICS, &Args::Scalars(n, seed)),
            atomics(n, seed),
            "n={n} seed={seed}"
        );
    }
    // rbpf 0.4's verifier rejects every atomic instruction, so the v3
    // build cannot be cross-checked there.
    let e = run_rbpf(harness::ATOMICS.v3, &Args::Scalars(1, 1)).unwrap_err();
    assert!(e.contains("XADD instructions are not supported"), "{e}");
}

#[test]
fn v4_builds_use_v4_instructions() {
    // The point of the v4 builds: they exercise what rbpf cannot run.
    let has = |k: Kernel, pred: &dyn Fn(bpf_vm::Insn) -> bool| {
        bpf_vm::isa::decode(k.v4).unwrap().into_iter().any(pred)
    };
    // sdiv/smod (off = 1) and sign-extending moves.
    assert!(has(harness::SDIV, &|i| i.op & 0x07 == 0x07
        && i.op & 0xf0 == 0x30
        && i.off == 1));
    assert!(has(harness::SDIV, &|i| i.op & 0x07 == 0x04
        && i.op & 0xf0 == 0x30
        && i.off == 1));
    // atomic fetch-and-add and compare-and-exchange, 32- and 64-bit.
    assert!(has(harness::ATOMICS, &|i| i.op == 0xdb && i.imm == 0x01));
    assert!(has(harness::ATOMICS, &|i| i.op == 0xc3 && i.imm == 0x01));
    assert!(has(harness::ATOMICS, &|i| i.op == 0xdb && i.imm == 0xf1));
    assert!(has(harness::ATOMICS, &|i| i.op == 0xc3 && i.imm == 0xf1));
    // BPF-to-BPF calls (src = 1) in the recursive kernel.
    assert!(has(harness::FIB, &|i| i.op == 0x85 && i.src == 1));
}

#[test]
fn fixtures_are_rebuilt_from_their_sources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/kernels");
    let clang = Command::new("clang-19").arg("--version").output();
    assert!(
        clang.is_ok_and(|o| o.status.success()),
        "clang-19 not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19`"
    );
    let out = std::env::temp_dir().join(format!("bpf-vm-kernels-{}", std::process::id()));
    let run = Command::new("bash")
        .arg(dir.join("rebuild.sh"))
        .arg(&out)
        .output()
        .expect("bash runs");
    assert!(
        run.status.success(),
        "rebuild.sh failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for k in harness::ALL {
        for (cpu, committed) in [("v4", k.v4), ("v3", k.v3)] {
            let file = format!("{}.{cpu}.bin", k.name);
            let rebuilt = std::fs::read(out.join(&file)).expect("rebuilt file");
            assert!(
                rebuilt == committed,
                "fixtures/kernels/{file} is stale: run fixtures/kernels/rebuild.sh"
            );
        }
    }
    std::fs::remove_dir_all(&out).ok();
}
