//! The full-mode variadic ABI of the printf family (docs/abi.md): a call
//! passes a va block `{cur, end, slots...}`, a `v*` function receives a
//! va state through its `va_list`, reads it with the same reader and
//! leaves it advanced; reading past `end` is a fault that counts.

mod common;

use bpf_runtime::{STDERR_HANDLE, STDOUT_HANDLE};
use common::{assert_fault, assert_mem_error, Env};

/// A va state `{cur, end}` over the slots of a new va block, as `va_start`
/// makes it; returns the state's address.
fn va_list(env: &mut Env, slots: &[u64]) -> u64 {
    let block = env.va_block(slots);
    let cur = env.mem.load(block, 8).unwrap();
    let end = env.mem.load(block + 8, 8).unwrap();
    let state = env.data(&[0; 16]);
    env.mem.store(state, 8, cur).unwrap();
    env.mem.store(state + 8, 8, end).unwrap();
    state
}

#[test]
fn v_functions_read_and_advance_a_va_list() {
    let mut env = Env::new();
    let s = env.cstr(b"str");
    let ap = va_list(&mut env, &[7, 2.5f64.to_bits(), s, u64::MAX, 9]);
    let start = env.mem.load(ap, 8).unwrap();
    let f = env.literal(b"%d %.1f %s|");
    assert_eq!(env.ok("vprintf", &[f, ap]), 10);
    assert_eq!(env.output(), "7 2.5 str|");
    assert_eq!(env.mem.load(ap, 8).unwrap(), start + 24, "three slots read");
    // The next call continues where the last one stopped.
    let f = env.literal(b"%ld");
    assert_eq!(env.ok("vfprintf", &[STDERR_HANDLE, f, ap]), 2);
    assert_eq!(env.output(), "-1");
    let buf = env.data(&[0xaa; 8]);
    assert_eq!(env.ok("vsnprintf", &[buf, 4, f, ap]), 1);
    assert_eq!(env.mem.read_bytes(buf, 3).unwrap(), b"9\0\xaa");
    // Nothing left: the va_list says how many remained.
    assert_fault(
        env.call("vsprintf", &[buf, f, ap]),
        &["vsprintf: the format asks for argument 1 from the va_list, but only 0 remained"],
    );
    assert_eq!(env.mem.load(ap, 8).unwrap(), start + 40);
}

#[test]
fn vsprintf_writes_like_sprintf() {
    let mut env = Env::new();
    let f = env.literal(b"[%5.2e]");
    let x = 12345.678f64.to_bits();
    let buf = env.data(&[0; 32]);
    let ap = va_list(&mut env, &[x]);
    assert_eq!(env.ok("vsprintf", &[buf, f, ap]), 10);
    assert_eq!(env.read_cstr(buf), b"[1.23e+04]");
    let other = env.data(&[0; 32]);
    assert_eq!(env.ok_va("sprintf", &[other, f], &[x]), 10);
    assert_eq!(env.read_cstr(other), b"[1.23e+04]");
}

#[test]
fn a_call_that_passes_too_few_arguments_is_named() {
    let mut env = Env::new();
    let f = env.literal(b"%d %s %f\n");
    assert_fault(
        env.call_va("printf", &[f], &[1]),
        &["printf: the format asks for argument 2 after the format, but the call passed 1"],
    );
    let buf = env.data(&[0; 16]);
    assert_fault(
        env.call_va("snprintf", &[buf, 16, f], &[]),
        &["snprintf: the format asks for argument 1 after the format, but the call passed 0"],
    );
    let text = env.cstr(b"x");
    assert_fault(
        env.call_va("fprintf", &[STDOUT_HANDLE, f], &[1, text]),
        &["fprintf: ", "argument 3", "passed 2"],
    );
    // A `*` width is an argument too.
    let f = env.literal(b"%*d");
    assert_fault(
        env.call_va("printf", &[f], &[5]),
        &["argument 2", "passed 1"],
    );
    assert_eq!(env.output(), "", "nothing of a failed call is printed");
}

#[test]
fn registers_are_no_va_block() {
    let mut env = Env::new();
    // A strict-mode call of the full-mode printf: r2 holds a value.
    let f = env.literal(b"%d\n");
    let not_a_block = env.data(&[0; 16]);
    assert_fault(
        env.call("printf", &[f, not_a_block]),
        &[
            "printf: its variadic arguments",
            "not a va block",
            "strict mode",
        ],
    );
    assert_mem_error(env.call("printf", &[f, 42]), 42);
    // A va_list whose cur is past its end, or not a whole slot away.
    let ap = env.data(&[0; 16]);
    env.mem.store(ap, 8, ap + 16).unwrap();
    env.mem.store(ap + 8, 8, ap + 8).unwrap();
    assert_fault(
        env.call("vprintf", &[f, ap]),
        &["vprintf: the va_list", "damaged"],
    );
    env.mem.store(ap + 8, 8, ap + 20).unwrap();
    assert_fault(env.call("vprintf", &[f, ap]), &["damaged"]);
    // A va_list in read-only memory cannot be advanced.
    let block = env.va_block(&[1]);
    let cur = env.mem.load(block, 8).unwrap();
    let mut pair = cur.to_le_bytes().to_vec();
    pair.extend((cur + 8).to_le_bytes());
    // (The literal's NUL is the top byte of `end`, which is zero.)
    let ro = env.literal(&pair[..15]);
    assert_mem_error(env.call("vprintf", &[f, ro]), ro);
    assert_eq!(env.output(), "");
}

#[test]
fn strict_variants_keep_the_register_abi() {
    let mut env = Env::new();
    let f = env.literal(b"%d|%s|%x");
    let s = env.cstr(b"ab");
    assert_eq!(env.ok("__bpf_strict_printf", &[f, u64::MAX, s, 255]), 8);
    assert_eq!(env.output(), "-1|ab|ff");
    let buf = env.data(&[0; 16]);
    assert_eq!(env.ok("__bpf_strict_sprintf", &[buf, f, 1, s, 16]), 7);
    assert_eq!(env.read_cstr(buf), b"1|ab|10");
    let f2 = env.literal(b"%f");
    assert_fault(
        env.call("__bpf_strict_fprintf", &[STDOUT_HANDLE, f2, 0]),
        &["fprintf: %f needs floating point", "strict mode"],
    );
}
