//! Number parsing, abs, rand compared with the host's glibc; abort, exit
//! and assert; bad pointers.

mod common;

use common::{assert_fault, assert_mem_error, Env, BAD_POINTERS};
use proptest::prelude::*;
use std::ffi::{c_char, CString};

/// Strings near the shapes strtol cares about: space, sign, prefix, digits
/// of many bases, junk after the number, and overflowing lengths.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ \t\n]{0,2}[+-]?(0[xX]?)?[0-9a-fA-FzZ]{0,25}[ g.]?",
        "[+-]?[0-9]{15,25}",
        "[ +\\-0xX19aFzZ\t]{0,6}",
    ]
}

fn base() -> impl Strategy<Value = i32> {
    prop_oneof![
        proptest::sample::select(vec![0, 2, 8, 10, 16, 36]),
        -2i32..40,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn strtol_family_matches_host(text in number_text(), base in base()) {
        let mut env = Env::new();
        let s = env.cstr(text.as_bytes());
        let end = env.data(&[0xee; 8]);
        let host = CString::new(text.clone()).unwrap();
        let hp = host.as_ptr();
        for (func, signed) in [("strtol", true), ("strtoll", true), ("strtoul", false), ("strtoull", false)] {
            env.mem.write_bytes(end, &[0xee; 8]).unwrap();
            let mut hend: *mut c_char = 0xeeee_eeee_eeee_eeee_u64 as *mut c_char;
            // SAFETY: `hp` is NUL-terminated and `hend` a valid out-pointer.
            let expected = unsafe {
                if signed {
                    libc::strtol(hp, &mut hend, base) as u64
                } else {
                    libc::strtoul(hp, &mut hend, base) as u64
                }
            };
            let got = env.ok(func, &[s, end, base as i64 as u64]);
            prop_assert_eq!(got, expected, "{}({:?}, {})", func, text, base);
            let vm_end = env.mem.load(end, 8).unwrap();
            if hend as u64 == 0xeeee_eeee_eeee_eeee {
                prop_assert_eq!(vm_end, 0xeeee_eeee_eeee_eeee, "{} must leave *endptr alone", func);
            } else {
                prop_assert_eq!(vm_end - s, hend as u64 - hp as u64, "{}({:?}, {}) end", func, text, base);
            }
        }
        // SAFETY: `hp` is NUL-terminated.
        let (hi, hl, hll) = unsafe { (libc::atoi(hp), libc::atol(hp), libc::atoll(hp)) };
        prop_assert_eq!(env.ok("atoi", &[s]), hi as i64 as u64);
        prop_assert_eq!(env.ok("atol", &[s]), hl as u64);
        prop_assert_eq!(env.ok("atoll", &[s]), hll as u64);
    }

    #[test]
    fn abs_family_matches_host(v in prop_oneof![any::<i64>(), Just(i64::MIN), Just(i32::MIN as i64), Just(0)]) {
        let mut env = Env::new();
        let i = v as i32;
        // abs(INT_MIN) is undefined in C, and an optimised build may fold
        // the host call into anything: compare with glibc's documented
        // result (the argument itself) there, with the host elsewhere.
        let ha = if i == i32::MIN {
            i32::MIN
        } else {
            // SAFETY: plain arithmetic on a value whose absolute value fits.
            unsafe { libc::abs(i) }
        };
        let hl = if v == i64::MIN {
            i64::MIN
        } else {
            // SAFETY: as above.
            unsafe { libc::labs(v) }
        };
        prop_assert_eq!(env.ok("abs", &[v as u64]), ha as i64 as u64);
        prop_assert_eq!(env.ok("labs", &[v as u64]), hl as u64);
        prop_assert_eq!(env.ok("llabs", &[v as u64]), hl as u64);
    }
}

/// The host's rand is one global generator, so this is the only test
/// that touches it.
#[test]
fn rand_produces_glibc_sequence() {
    let mut env = Env::new();
    // Unseeded rand() behaves as after srand(1), on glibc and here.
    let unseeded: Vec<u64> = (0..5).map(|_| env.ok("rand", &[])).collect();
    for seed in [1u32, 0, 2, 42, 12345, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
        // SAFETY: srand/rand only touch glibc's generator state.
        let host: Vec<i32> = unsafe {
            libc::srand(seed);
            (0..400).map(|_| libc::rand()).collect()
        };
        if seed == 1 {
            let first: Vec<u64> = host[..5].iter().map(|v| *v as u64).collect();
            assert_eq!(unseeded, first);
        }
        env.ok("srand", &[seed as u64 | 0xdead_0000_0000_0000]);
        let ours: Vec<i32> = (0..400).map(|_| env.ok("rand", &[]) as i32).collect();
        assert_eq!(ours, host, "seed {seed}");
    }
}

/// `exit` and `abort` call back into BPF (atexit functions, a SIGABRT
/// handler): tested running clang-built code in crates/cc/tests/libc.rs.
#[test]
fn underscore_exit_stops_the_program_at_once() {
    let mut env = Env::new();
    assert_eq!(env.call("_Exit", &[3]), Err(bpf_vm::HelperError::Exit(3)));
    assert_eq!(
        env.call("_Exit", &[-1i64 as u64]),
        Err(bpf_vm::HelperError::Exit(-1))
    );
    // Only the low 32 bits are the int argument.
    assert_eq!(
        env.call("_Exit", &[0x1_0000_0002]),
        Err(bpf_vm::HelperError::Exit(2))
    );
}

#[test]
fn failed_assert_names_expression_and_line() {
    let mut env = Env::new();
    let expr = env.literal(b"x > 0");
    let file = env.literal(b"input_3.c");
    let func = env.literal(b"__repl_input_3");
    assert_eq!(
        env.call("__bpf_assert_fail", &[expr, file, 1, func]),
        Err(bpf_vm::HelperError::Abort(
            "Assertion failed: x > 0 (input 3, line 1)".into()
        ))
    );
    let file = env.literal(b"list.c");
    let func = env.literal(b"push");
    assert_eq!(
        env.call("__bpf_assert_fail", &[expr, file, 12, func]),
        Err(bpf_vm::HelperError::Abort(
            "Assertion failed: x > 0 (list.c:12, in push)".into()
        ))
    );
    // Unreadable arguments still give the assertion message, not a crash.
    assert_eq!(
        env.call("__bpf_assert_fail", &[0, 0x10, 7, 0]),
        Err(bpf_vm::HelperError::Abort(
            "Assertion failed: ? (?:7)".into()
        ))
    );
}

#[test]
fn parsing_bad_pointers_are_memory_errors() {
    let mut env = Env::new();
    let s = env.cstr(b"123");
    let ro = env.literal(b"12345678");
    for bad in BAD_POINTERS {
        for f in ["atoi", "atol", "atoll"] {
            assert_mem_error(env.call(f, &[bad]), bad);
        }
        for f in ["strtol", "strtoll", "strtoul", "strtoull"] {
            assert_mem_error(env.call(f, &[bad, 0, 10]), bad);
            if bad != 0 {
                assert_mem_error(env.call(f, &[s, bad, 10]), bad);
            }
        }
    }
    // The end pointer must be writable.
    assert_mem_error(env.call("strtol", &[s, ro, 10]), ro);
    // NULL end pointer: nothing is stored.
    assert_eq!(env.ok("strtol", &[s, 0, 10]), 123);
}

#[test]
fn unterminated_number_text_is_refused() {
    let mut env = Env::new();
    let s = env.data(b"12345");
    let end = bpf_vm::RegionKind::Data.base() + env.mem.region_len(bpf_vm::RegionKind::Data) as u64;
    assert_mem_error(env.call("atoi", &[s]), end);
    let p = env.ok("malloc", &[3]);
    env.mem.write_bytes(p, b"999").unwrap();
    assert_fault(env.call("atoi", &[p]), &["atoi", "3-byte heap block"]);
}
