//! `<stdlib.h>` and `<assert.h>`: the heap, number parsing, `abs`,
//! `rand`, and a failed `assert` (`exit`, `abort` and friends are in
//! `process.rs`).

use crate::ctx::Ctx;
use crate::rand::GlibcRandom;
use crate::strconv::{parse, signed_overflows, to_signed, to_unsigned, Parsed};
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
/// (if not NULL). `None` for an invalid base (`errno = EINVAL`, as glibc).
fn strto(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    s: u64,
    endptr: u64,
    base: i32,
) -> Result<Option<Parsed>, HelperError> {
    let Some(p) = parse(cx.string(func, mem, s)?, base) else {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(None);
    };
    if endptr != 0 {
        cx.check(func, endptr, 8)?;
        mem.store(endptr, 8, s + p.end as u64)?;
    }
    Ok(Some(p))
}

/// `strtol`'s value, with `errno = ERANGE` when it clamps.
fn signed(cx: &Ctx, mem: &mut Memory, p: Option<Parsed>) -> Result<i64, HelperError> {
    let Some(p) = p else { return Ok(0) };
    if signed_overflows(p) {
        cx.set_errno(mem, libc::ERANGE)?;
    }
    Ok(to_signed(p))
}

/// `long strtol(const char *s, char **endptr, int base)` (also `strtoll`,
/// `strtoimax`).
pub(crate) fn strtol(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let p = strto(cx, "strtol", mem, a[0], a[1], int_arg(a[2]))?;
    Ok(signed(cx, mem, p)? as u64)
}

/// `unsigned long strtoul(const char *s, char **endptr, int base)` (also
/// `strtoull`, `strtoumax`).
pub(crate) fn strtoul(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let p = strto(cx, "strtoul", mem, a[0], a[1], int_arg(a[2]))?;
    if p.is_some_and(|p| p.overflow) {
        cx.set_errno(mem, libc::ERANGE)?;
    }
    Ok(p.map_or(0, to_unsigned))
}

/// `int atoi(const char *s)`: `(int) strtol(s, NULL, 10)` (glibc's, so a
/// value out of `long`'s range sets `errno`).
pub(crate) fn atoi(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let p = strto(cx, "atoi", mem, a[0], 0, 10)?;
    Ok(int_ret(signed(cx, mem, p)? as i32))
}

/// `long atol(const char *s)` (also `atoll`): `strtol(s, NULL, 10)`.
pub(crate) fn atol(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let p = strto(cx, "atol", mem, a[0], 0, 10)?;
    Ok(signed(cx, mem, p)? as u64)
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
    if p.range_error {
        cx.set_errno(mem, libc::ERANGE)?;
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

/// Stores a `div`-family result `{quot, rem}` of `size`-byte members at `out`.
fn store_div(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    out: u64,
    q: i64,
    r: i64,
    size: usize,
) -> Result<u64, HelperError> {
    cx.check(func, out, 2 * size)?;
    mem.slice_mut(out, 2 * size)?;
    mem.store(out, size, q as u64)?;
    mem.store(out + size as u64, size, r as u64)?;
    Ok(0)
}

/// Division by zero, or the quotient out of range (x86 traps on both).
fn div_fault(func: &str) -> HelperError {
    HelperError::Undefined(format!(
        "{func}: division by zero (or the minimum value by -1)"
    ))
}

/// `div_t div(int a, int b)`: the result through the hidden result pointer
/// the ABI gives an aggregate return (`div(out, a, b)`).
pub(crate) fn div(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (x, y) = (int_arg(a[1]), int_arg(a[2]));
    let (q, r) = x
        .checked_div(y)
        .zip(x.checked_rem(y))
        .ok_or_else(|| div_fault("div"))?;
    store_div(cx, "div", mem, a[0], i64::from(q), i64::from(r), 4)
}

/// `ldiv_t ldiv(long a, long b)` (also `lldiv`, `imaxdiv`).
pub(crate) fn ldiv(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (x, y) = (a[1] as i64, a[2] as i64);
    let (q, r) = x
        .checked_div(y)
        .zip(x.checked_rem(y))
        .ok_or_else(|| div_fault("ldiv"))?;
    store_div(cx, "ldiv", mem, a[0], q, r, 8)
}

/// `char *getenv(const char *name)`: a session has no environment (NULL).
pub(crate) fn getenv(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.string("getenv", mem, a[0])?;
    Ok(0)
}

/// One multibyte character of the C locale (ASCII) at `s` with `n` bytes
/// available: its value and length, or `None` (`EILSEQ`).
fn mb_char(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    s: u64,
    n: u64,
) -> Result<Option<(u8, u64)>, HelperError> {
    if n == 0 {
        cx.set_errno(mem, libc::EILSEQ)?;
        return Ok(None);
    }
    cx.check(func, s, 1)?;
    let b = mem.load(s, 1)? as u8;
    if b > 0x7f {
        cx.set_errno(mem, libc::EILSEQ)?;
        return Ok(None);
    }
    Ok(Some((b, u64::from(b != 0))))
}

/// `int mblen(const char *s, size_t n)`.
pub(crate) fn mblen(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[0] == 0 {
        return Ok(0);
    }
    Ok(mb_char(cx, "mblen", mem, a[0], a[1])?.map_or(int_ret(-1), |(_, len)| len))
}

/// `int mbtowc(wchar_t *wc, const char *s, size_t n)`.
pub(crate) fn mbtowc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[1] == 0 {
        return Ok(0);
    }
    let Some((b, len)) = mb_char(cx, "mbtowc", mem, a[1], a[2])? else {
        return Ok(int_ret(-1));
    };
    if a[0] != 0 {
        cx.check("mbtowc", a[0], 4)?;
        mem.store(a[0], 4, u64::from(b))?;
    }
    Ok(len)
}

/// `int wctomb(char *s, wchar_t wc)`.
pub(crate) fn wctomb(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[0] == 0 {
        return Ok(0);
    }
    let wc = int_arg(a[1]);
    if !(0..=0x7f).contains(&wc) {
        cx.set_errno(mem, libc::EILSEQ)?;
        return Ok(int_ret(-1));
    }
    cx.check("wctomb", a[0], 1)?;
    mem.store(a[0], 1, wc as u64)?;
    Ok(1)
}

/// `int ffs(int x)` (`<strings.h>`): the lowest set bit, counted from 1.
pub(crate) fn ffs(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let x = a[0] as u32;
    Ok(if x == 0 {
        0
    } else {
        u64::from(x.trailing_zeros() + 1)
    })
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
