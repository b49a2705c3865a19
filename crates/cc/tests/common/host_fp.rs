//! A stand-in for the runtime's floating-point helpers (docs/abi.md,
//! "Floating point"), used only where the runtime does not provide them, so
//! the compiler side can be tested on its own: the same host IEEE
//! arithmetic on bit patterns.

use bpf_vm::{HelperError, HelperFn, Memory};

fn d(x: u64) -> f64 {
    f64::from_bits(x)
}
fn f(x: u64) -> f32 {
    f32::from_bits(x as u32)
}
fn rd(x: f64) -> u64 {
    x.to_bits()
}
fn rf(x: f32) -> u64 {
    u64::from(x.to_bits())
}

/// LLVM's `fcmp` predicate `p` on an ordering (`None`: unordered).
fn cmp(o: Option<std::cmp::Ordering>, p: u64) -> u64 {
    use std::cmp::Ordering::*;
    let r = match (p, o) {
        (0, _) => false,
        (15, _) => true,
        (7, o) => o.is_some(),
        (8, o) => o.is_none(),
        (1..=6, None) => false,
        (9..=14, None) => true,
        (1 | 9, Some(o)) => o == Equal,
        (2 | 10, Some(o)) => o == Greater,
        (3 | 11, Some(o)) => o != Less,
        (4 | 12, Some(o)) => o == Less,
        (5 | 13, Some(o)) => o != Greater,
        (6 | 14, Some(o)) => o != Equal,
        _ => false,
    };
    r as u64
}

/// 2^63 as a double.
const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// x86-64 `cvttsd2si`: out of range gives 0x8000000000000000.
fn to_i64(x: f64) -> u64 {
    if !(-TWO63..TWO63).contains(&x) {
        0x8000_0000_0000_0000
    } else {
        x as i64 as u64
    }
}
fn to_u64(x: f64) -> u64 {
    if x >= TWO63 {
        to_i64(x - TWO63) ^ 0x8000_0000_0000_0000
    } else {
        to_i64(x)
    }
}

type Pure = fn([u64; 5]) -> u64;

const PURE: &[(&str, Pure)] = &[
    ("__bpf_f64_add", |a| rd(d(a[0]) + d(a[1]))),
    ("__bpf_f64_sub", |a| rd(d(a[0]) - d(a[1]))),
    ("__bpf_f64_mul", |a| rd(d(a[0]) * d(a[1]))),
    ("__bpf_f64_div", |a| rd(d(a[0]) / d(a[1]))),
    ("__bpf_f64_rem", |a| rd(d(a[0]) % d(a[1]))),
    ("__bpf_f64_cmp", |a| {
        cmp(d(a[0]).partial_cmp(&d(a[1])), a[2])
    }),
    ("__bpf_f64_from_i64", |a| rd(a[0] as i64 as f64)),
    ("__bpf_f64_from_u64", |a| rd(a[0] as f64)),
    ("__bpf_f64_to_i64", |a| to_i64(d(a[0]))),
    ("__bpf_f64_to_u64", |a| to_u64(d(a[0]))),
    ("__bpf_f64_to_f32", |a| rf(d(a[0]) as f32)),
    ("__bpf_f64_sqrt", |a| rd(d(a[0]).sqrt())),
    ("__bpf_f64_floor", |a| rd(d(a[0]).floor())),
    ("__bpf_f64_ceil", |a| rd(d(a[0]).ceil())),
    ("__bpf_f64_trunc", |a| rd(d(a[0]).trunc())),
    ("__bpf_f64_round", |a| rd(d(a[0]).round())),
    ("__bpf_f64_rint", |a| rd(d(a[0]).round_ties_even())),
    ("__bpf_f64_nearbyint", |a| rd(d(a[0]).round_ties_even())),
    ("__bpf_f64_roundeven", |a| rd(d(a[0]).round_ties_even())),
    ("__bpf_f64_fma", |a| rd(d(a[0]).mul_add(d(a[1]), d(a[2])))),
    ("__bpf_f64_minnum", |a| rd(d(a[0]).min(d(a[1])))),
    ("__bpf_f64_maxnum", |a| rd(d(a[0]).max(d(a[1])))),
    ("__bpf_f32_add", |a| rf(f(a[0]) + f(a[1]))),
    ("__bpf_f32_sub", |a| rf(f(a[0]) - f(a[1]))),
    ("__bpf_f32_mul", |a| rf(f(a[0]) * f(a[1]))),
    ("__bpf_f32_div", |a| rf(f(a[0]) / f(a[1]))),
    ("__bpf_f32_rem", |a| rf(f(a[0]) % f(a[1]))),
    ("__bpf_f32_cmp", |a| {
        cmp(f(a[0]).partial_cmp(&f(a[1])), a[2])
    }),
    ("__bpf_f32_from_i64", |a| rf(a[0] as i64 as f32)),
    ("__bpf_f32_from_u64", |a| rf(a[0] as f32)),
    ("__bpf_f32_to_i64", |a| to_i64(f64::from(f(a[0])))),
    ("__bpf_f32_to_u64", |a| to_u64(f64::from(f(a[0])))),
    ("__bpf_f32_to_f64", |a| rd(f64::from(f(a[0])))),
    ("__bpf_f32_sqrt", |a| rf(f(a[0]).sqrt())),
    ("__bpf_f32_floor", |a| rf(f(a[0]).floor())),
    ("__bpf_f32_ceil", |a| rf(f(a[0]).ceil())),
    ("__bpf_f32_trunc", |a| rf(f(a[0]).trunc())),
    ("__bpf_f32_round", |a| rf(f(a[0]).round())),
    ("__bpf_f32_fma", |a| rf(f(a[0]).mul_add(f(a[1]), f(a[2])))),
    ("__bpf_f32_minnum", |a| rf(f(a[0]).min(f(a[1])))),
    ("__bpf_f32_maxnum", |a| rf(f(a[0]).max(f(a[1])))),
    ("sqrt", |a| rd(d(a[0]).sqrt())),
];

/// The stand-in helpers, by name.
pub fn helpers() -> Vec<(&'static str, HelperFn)> {
    PURE.iter()
        .map(|(name, imp)| {
            let imp = *imp;
            let h: HelperFn = Box::new(
                move |_: &mut Memory, a: [u64; 5]| -> Result<u64, HelperError> { Ok(imp(a)) },
            );
            (*name, h)
        })
        .collect()
}
