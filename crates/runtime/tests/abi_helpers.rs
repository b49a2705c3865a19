//! The helpers of bpf-repl's ABI (docs/abi.md) that lowered code calls:
//! 128-bit arithmetic against the host's, block copies, the alloca region
//! and the undefined-behaviour trap.

mod common;

use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{HelperError, RegionKind};
use common::{assert_fault, Env};
use proptest::prelude::*;

fn halves(v: u128) -> (u64, u64) {
    (v as u64, (v >> 64) as u64)
}

fn op128(env: &mut Env, name: &str, a: u128, b: u128) -> Result<u128, HelperError> {
    let out = env.data(&[0; 16]);
    let (alo, ahi) = halves(a);
    let (blo, bhi) = halves(b);
    env.call(name, &[out, alo, ahi, blo, bhi])?;
    let bytes = env.mem.read_bytes(out, 16).unwrap();
    Ok(u128::from_le_bytes(bytes.try_into().unwrap()))
}

proptest! {
    #[test]
    fn int128_helpers_match_the_host(a: u128, b: u128) {
        let mut env = Env::new();
        prop_assert_eq!(op128(&mut env, "__bpf_i128_mul", a, b).unwrap(), a.wrapping_mul(b));
        if b != 0 {
            prop_assert_eq!(op128(&mut env, "__bpf_i128_udiv", a, b).unwrap(), a / b);
            prop_assert_eq!(op128(&mut env, "__bpf_i128_urem", a, b).unwrap(), a % b);
            let (x, y) = (a as i128, b as i128);
            prop_assert_eq!(op128(&mut env, "__bpf_i128_sdiv", a, b).unwrap(), x.wrapping_div(y) as u128);
            prop_assert_eq!(op128(&mut env, "__bpf_i128_srem", a, b).unwrap(), x.wrapping_rem(y) as u128);
        }
    }
}

#[test]
fn int128_division_by_zero_is_a_fault() {
    let mut env = Env::new();
    let r = op128(&mut env, "__bpf_i128_sdiv", 5, 0).map(|v| v as u64);
    assert_fault(r, &["division by zero", "__bpf_i128_sdiv"]);
    let r = op128(
        &mut env,
        "__bpf_i128_srem",
        i128::MIN as u128,
        (-1i128) as u128,
    )
    .unwrap();
    assert_eq!(r, 0);
}

#[test]
fn memcpy_allows_the_same_range_but_not_a_partial_overlap() {
    let mut env = Env::new();
    let a = env.data(b"abcdefgh");
    assert_eq!(env.ok("__bpf_memcpy", &[a, a, 8]), a);
    assert_fault(env.call("__bpf_memcpy", &[a + 1, a, 4]), &["overlap"]);
    env.ok("__bpf_memmove", &[a + 1, a, 4]);
    assert_eq!(env.mem.read_bytes(a, 8).unwrap(), b"aabcdfgh");
    env.ok("__bpf_memset", &[a, u64::from(b'z'), 3]);
    assert_eq!(env.mem.read_bytes(a, 4).unwrap(), b"zzzc");
}

#[test]
fn alloca_region_grows_and_is_released_to_a_mark() {
    let mut env = Env::new();
    let mark = env.ok("__bpf_stacksave", &[]);
    assert_eq!(mark, RegionKind::Alloca.base());
    let p = env.ok("__bpf_alloca", &[100, 16]);
    assert_eq!(p % 16, 0);
    env.mem.store(p + 92, 8, 7).unwrap();
    let q = env.ok("__bpf_alloca", &[8, 8]);
    assert!(q >= p + 100);
    env.ok("__bpf_stackrestore", &[mark]);
    // Released: every access to it is checked and now faults.
    assert!(env.mem.load(p, 8).is_err());
    assert_fault(
        env.call("__bpf_stackrestore", &[RegionKind::Alloca.base() + 4096]),
        &["not a saved position"],
    );
    assert_fault(env.call("__bpf_alloca", &[8, 3]), &["alignment 3"]);
}

#[test]
fn alloca_limit_is_configurable_and_named() {
    let rt = Runtime::new(OutputSink::buffer()).with_alloca_limit(1000);
    let mut env = Env::with_runtime(rt, OutputSink::buffer());
    env.ok("__bpf_alloca", &[600, 8]);
    assert_fault(
        env.call("__bpf_alloca", &[600, 8]),
        &["600 bytes", "alloca limit of 1000 bytes"],
    );
}

#[test]
fn ub_trap_names_the_check() {
    let mut env = Env::new();
    assert_eq!(
        env.call("__bpf_ub_trap", &[3]),
        Err(HelperError::Undefined(
            "division by zero (or INT_MIN / -1)".into()
        ))
    );
    assert_eq!(
        env.call("__bpf_ub_trap", &[257]).unwrap_err().to_string(),
        "undefined behaviour: va_arg past the last argument"
    );
    assert_eq!(
        env.call("__bpf_ub_trap", &[256]),
        Err(HelperError::Abort("__builtin_trap() reached".into()))
    );
    assert!(env
        .call("__bpf_ub_trap", &[99])
        .unwrap_err()
        .to_string()
        .contains("#99"));
}
