//! C programs nobody adapted for BPF, compiled by bpf-cc, linked and run on
//! the VM, against the same programs built by the host's gcc -O2: same
//! output, same exit status.

mod common;

use bpf_cc::CompileOptions;
use common::*;

fn same_as_gcc(name: &str) {
    require_clang();
    let path = c_dir().join(name);
    let ours = run_bpf(&path, &CompileOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let native = run_native(&path);
    assert_eq!(ours, native, "{name}: bpf-cc + VM (left) vs gcc (right)");
    assert!(!native.stdout.is_empty(), "{name} printed nothing");
}

#[test]
fn more_than_five_arguments() {
    same_as_gcc("args.c");
}

#[test]
fn variadic_functions() {
    same_as_gcc("varargs.c");
}

#[test]
fn structs_and_unions_by_value() {
    same_as_gcc("structs.c");
}

#[test]
fn int128_arithmetic() {
    same_as_gcc("int128.c");
}

#[test]
fn large_and_variable_block_copies() {
    same_as_gcc("memory.c");
}

#[test]
fn variable_length_arrays_and_alloca() {
    same_as_gcc("vla.c");
}

#[test]
fn main_falling_off_its_end_returns_zero() {
    same_as_gcc("hosted.c");
}

/// Uses the runtime's floating-point helpers (or the stand-in of
/// `common::host_fp` until the runtime has them).
#[test]
fn floating_point_bit_exact() {
    same_as_gcc("float.c");
}

#[test]
fn atomic_builtins_of_every_width() {
    same_as_gcc("atomics.c");
}

#[test]
fn vector_extensions_integer_and_floating_point() {
    same_as_gcc("vectors.c");
}

#[test]
fn printf_with_any_arguments_and_floats() {
    same_as_gcc("printf.c");
}

#[test]
fn math_library() {
    same_as_gcc("math.c");
}
