//! `<stdlib.h>` and `<assert.h>`: the heap, number parsing, `abs`,
//! `rand`, and the ways a program stops (`abort`, `exit`, failed `assert`).

use crate::ctx::Ctx;
use crate::rand::GlibcRandom;
use crate::strconv::{parse, to_signed, to_unsigned, Parsed};
use crate::strtod::{self, Format};
use crate::vmstr::{int_arg, int_ret, len_arg, text_or_placeholder};
use bpf_vm::{HelperError, Memory};

/// `void *malloc(size_t n)`.
pub(crate) fn malloc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.state.borrow_mut().heap.malloc(mem, len_arg(a[0]))
}

/// `void *calloc(size_t n, size_t size)`.
pub(crate) fn calloc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.state
        .borrow_mut()
        .heap
        .calloc(mem, len_arg(a[0]), len_arg(a[1]))
}

/// `void *realloc(void *p, size_t n)`.
pub(crate) fn realloc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.state.borrow_mut().heap.realloc(mem, a[0], len_arg(a[1]))
}

/// `void free(void *p)`.
pub(crate) fn free(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.state.borrow_mut().heap.free(mem, a[0])?;
    Ok(0)
}

/// Parses the string at `s` and stores the end position through `endptr`
/// (if not NULL). `None` for an invalid base.
fn strto(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    s: u64,
    endptr: u64,
    base: i32,
) -> Result<Option<Parsed>, HelperError> {
    let Some(p) = parse(cx.string(func, mem, s)?, base) else {
        return Ok(None);
    };
    if endptr != 0 {
        cx.check(func, endptr, 8)?;
        mem.store(endptr, 8, s + p.end as u64)?;
    }
    Ok(Some(p))
}

/// `long strtol(const char *s, char **endptr, int base)` (also `strtoll`).
pub(crate) fn strtol(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(strto(cx, "strtol", mem, a[0], a[1], int_arg(a[2]))?.map_or(0, |p| to_signed(p) as u64))
}

/// `unsigned long strtoul(const char *s, char **endptr, int base)` (also `strtoull`).
pub(crate) fn strtoul(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(strto(cx, "strtoul", mem, a[0], a[1], int_arg(a[2]))?.map_or(0, to_unsigned))
}

/// `int atoi(const char *s)`: `(int) strtol(s, NULL, 10)`.
pub(crate) fn atoi(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let v = strto(cx, "atoi", mem, a[0], 0, 10)?.map_or(0, to_signed);
    Ok(int_ret(v as i32))
}

/// `long atol(const char *s)` (also `atoll`): `strtol(s, NULL, 10)`.
pub(crate) fn atol(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(strto(cx, "atol", mem, a[0], 0, 10)?.map_or(0, to_signed) as u64)
}

/// Parses a floating-point number at `s` and stores the end position
/// through `endptr` (if not NULL); the value's bits.
fn strto_float(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    s: u64,
    endptr: u64,
    format: Format,
) -> Result<u64, HelperError> {
    let p = strtod::parse(cx.string(func, mem, s)?, format);
    if endptr != 0 {
        cx.check(func, endptr, 8)?;
        mem.store(endptr, 8, s + p.end as u64)?;
    }
    Ok(p.bits)
}

/// `double strtod(const char *s, char **endptr)`.
pub(crate) fn strtod(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    strto_float(cx, "strtod", mem, a[0], a[1], Format::F64)
}

/// `long double strtold(const char *s, char **endptr)` (`long double` is `double`).
pub(crate) fn strtold(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    strto_float(cx, "strtold", mem, a[0], a[1], Format::F64)
}

/// `float strtof(const char *s, char **endptr)`.
pub(crate) fn strtof(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    strto_float(cx, "strtof", mem, a[0], a[1], Format::F32)
}

/// `double atof(const char *s)`: `strtod(s, NULL)`.
pub(crate) fn atof(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    strto_float(cx, "atof", mem, a[0], 0, Format::F64)
}

/// `int abs(int)`; `abs(INT_MIN)` is `INT_MIN`, as on glibc.
pub(crate) fn abs(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(int_ret(int_arg(a[0]).wrapping_abs()))
}

/// `long labs(long)` (also `llabs`).
pub(crate) fn labs(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok((a[0] as i64).wrapping_abs() as u64)
}

/// `int rand(void)`: glibc's sequence.
pub(crate) fn rand(cx: &Ctx, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    Ok(int_ret(cx.state.borrow_mut().rand.next()))
}

/// `void srand(unsigned seed)`.
pub(crate) fn srand(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.state.borrow_mut().rand = GlibcRandom::seeded(a[0] as u32);
    Ok(0)
}

/// `void abort(void)`.
pub(crate) fn abort(_: &Ctx, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    Err(HelperError::Abort("abort() called".to_string()))
}

/// `void exit(int status)`.
pub(crate) fn exit(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Err(HelperError::Exit(int_arg(a[0])))
}

/// `void __bpf_assert_fail(const char *expr, const char *file, int line,
/// const char *func)`, called by `<assert.h>`'s `assert`.
pub(crate) fn assert_fail(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let expr = text_or_placeholder(mem, a[0]);
    let file = text_or_placeholder(mem, a[1]);
    let func = text_or_placeholder(mem, a[3]);
    Err(HelperError::Abort(assert_message(
        &expr,
        &file,
        int_arg(a[2]),
        &func,
    )))
}

/// The text of a failed assertion. A file named `input_N.c` is REPL input
/// N: `Assertion failed: x > 0 (input 3, line 1)`; any other file is shown
/// by name: `Assertion failed: n < 10 (list.c:12, in push)`. Functions
/// whose names start with `__` (generated wrappers) are not shown.
pub fn assert_message(expr: &str, file: &str, line: i32, func: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    // REPL inputs are named `input N` (the REPL's `#line` names) or `input_N.c`.
    let input = base
        .strip_prefix("input_")
        .and_then(|s| s.strip_suffix(".c"))
        .or_else(|| base.strip_prefix("input "))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let place = match input {
        Some(n) => format!("input {n}, line {line}"),
        None => format!("{file}:{line}"),
    };
    if func.is_empty() || func.starts_with("__") || func == "?" {
        format!("Assertion failed: {expr} ({place})")
    } else {
        format!("Assertion failed: {expr} ({place}, in {func})")
    }
}

#[cfg(test)]
mod tests {
    use super::assert_message;

    #[test]
    fn assertion_text_names_input_or_file() {
        assert_eq!(
            assert_message("x > 0", "input_3.c", 1, "__repl_input_3"),
            "Assertion failed: x > 0 (input 3, line 1)"
        );
        assert_eq!(
            assert_message("x > 0", "input 7", 1, "__repl_run_7"),
            "Assertion failed: x > 0 (input 7, line 1)"
        );
        assert_eq!(
            assert_message("x > 0", "/tmp/s/input_12.c", 2, "f"),
            "Assertion failed: x > 0 (input 12, line 2, in f)"
        );
        assert_eq!(
            assert_message("n < 10", "list.c", 12, "push"),
            "Assertion failed: n < 10 (list.c:12, in push)"
        );
        assert_eq!(
            assert_message("1", "input_.c", 4, ""),
            "Assertion failed: 1 (input_.c:4)"
        );
    }
}
