//! Each undefined-behaviour check (`-fcheck-ub`) stops the run with a fault
//! naming the check, at the line of the C source that did it.

mod common;

use bpf_cc::{CompileOptions, LowerOptions, UbChecks};
use common::*;

/// Runs `body` (the lines of a C file) with UB checks; returns the fault text.
fn fault(body: &str) -> String {
    require_clang();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ub.c");
    std::fs::write(&path, body).unwrap();
    let options = CompileOptions {
        lower: LowerOptions {
            ub_checks: UbChecks::On,
            ..LowerOptions::default()
        },
        ..CompileOptions::default()
    };
    let outcome = run_bpf(&path, &options).unwrap_or_else(|e| panic!("compile/link: {e}"));
    match outcome.end {
        Err(f) => f,
        Ok(code) => panic!("no fault (exit {code}) for\n{body}"),
    }
}

/// The fault names `what` and the innermost frame is at `ub.c:line`.
fn check(body: &str, what: &str, line: u32) {
    let f = fault(body);
    assert!(f.contains(what), "expected `{what}` in:\n{f}");
    let first_frame = f.lines().nth(1).unwrap_or("");
    assert!(
        first_frame.contains(&format!("ub.c:{line}:")),
        "expected line {line} in the first frame of:\n{f}"
    );
}

const PRELUDE: &str = "volatile int zero = 0, one = 1, big = 2147483647, minus = -1;\n";

#[test]
fn signed_overflow() {
    check(
        &format!("{PRELUDE}int main(void) {{\n  return big + one;\n}}\n"),
        "undefined behaviour: signed integer overflow",
        3,
    );
    check(&format!("{PRELUDE}int main(void) {{\n  volatile long x = 1L << 62;\n  return (x * 4) != 0;\n}}\n"), "signed integer overflow", 4);
}

#[test]
fn division_by_zero() {
    check(
        &format!("{PRELUDE}int main(void) {{\n  return 10 / zero;\n}}\n"),
        "undefined behaviour: division by zero",
        3,
    );
    check(
        &format!("{PRELUDE}int main(void) {{\n  return (-big - 1) / minus;\n}}\n"),
        "INT_MIN / -1",
        3,
    );
}

#[test]
fn shift_out_of_range() {
    check(
        &format!("{PRELUDE}int main(void) {{\n  int s = 40 + zero;\n  return one << s;\n}}\n"),
        "undefined behaviour: shift amount out of range",
        4,
    );
}

#[test]
fn null_dereference() {
    check(
        "int *volatile p = 0;\nint main(void) {\n  return *p;\n}\n",
        "undefined behaviour: NULL or misaligned pointer used",
        3,
    );
}

#[test]
fn misaligned_pointer() {
    check("char buf[16];\nint main(void) {\n  volatile long a = (long)buf + 1;\n  return *(int *)a;\n}\n", "NULL or misaligned pointer", 4);
}

#[test]
fn index_out_of_bounds() {
    check(
        &format!(
            "{PRELUDE}int a[4];\nint main(void) {{\n  int i = 4 + zero;\n  return a[i];\n}}\n"
        ),
        "undefined behaviour: array index out of bounds",
        5,
    );
}

#[test]
fn vla_bound_not_positive() {
    check(
        &format!(
            "{PRELUDE}int main(void) {{\n  int n = minus;\n  char v[n];\n  return sizeof v;\n}}\n"
        ),
        "variable-length array bound is not positive",
        4,
    );
}

#[test]
fn float_to_int_out_of_range() {
    check(
        "volatile double d = 1e30;\nint main(void) {\n  return (int)d;\n}\n",
        "floating-point value out of range",
        3,
    );
}

#[test]
fn invalid_builtin_argument() {
    check(
        &format!("{PRELUDE}int main(void) {{\n  return __builtin_clz(zero);\n}}\n"),
        "invalid argument to a builtin",
        3,
    );
}

#[test]
fn builtin_unreachable_reached() {
    check(&format!("{PRELUDE}int main(void) {{\n  if (one)\n    __builtin_unreachable();\n  return 0;\n}}\n"), "__builtin_unreachable() reached", 4);
}

#[test]
fn value_returning_function_falls_off_its_end() {
    check(&format!("{PRELUDE}__attribute__((noinline)) int f(int x) {{\n  if (x)\n    return 1;\n}}\nint main(void) {{\n  return f(zero);\n}}\n"), "reached its end without return", 5);
}

#[test]
fn va_arg_past_the_last_argument() {
    check("#include <stdarg.h>\n__attribute__((noinline)) long f(int n, ...) {\n  va_list ap;\n  va_start(ap, n);\n  long s = 0;\n  for (int i = 0; i < n; i++)\n    s += va_arg(ap, long);\n  return s;\n}\nint main(void) {\n  return f(3, 1L, 2L);\n}\n", "va_arg past the last argument", 7);
}

#[test]
fn builtin_trap_is_an_abort_at_its_line() {
    let f = fault("int main(void) {\n  __builtin_trap();\n}\n");
    assert!(f.starts_with("__builtin_trap() reached"), "{f}");
    assert!(f.contains("ub.c:2:"), "{f}");
}

#[test]
fn without_checks_the_same_code_runs() {
    require_clang();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.c");
    std::fs::write(&path, "volatile int z = 0;\nint f(int x) { if (x) return 1; }\nint main(void) { f(z); return 10 / z; }\n").unwrap();
    let outcome = run_bpf(&path, &CompileOptions::default()).unwrap();
    // The ISA's rule: division by zero gives 0.
    assert_eq!(outcome.end, Ok(0));
}
