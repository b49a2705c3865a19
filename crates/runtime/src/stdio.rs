//! `<stdio.h>`: printf, puts, putchar, snprintf, sprintf and the
//! stream variants on `stdout` and `stderr` (which the header defines as
//! the stream handles 1 and 2).

use crate::ctx::Ctx;
use crate::format::format;
use crate::output::{OutputSink, WriteError};
use crate::vmstr::{int_ret, len_arg};
use bpf_vm::{HelperError, Memory};

/// The handle value of `stdout` in `<stdio.h>`.
pub const STDOUT_HANDLE: u64 = 1;
/// The handle value of `stderr` in `<stdio.h>`.
pub const STDERR_HANDLE: u64 = 2;
/// `EOF` as a register value.
const EOF: u64 = -1i64 as u64;

/// The sink a `FILE *` argument names.
fn stream<'a>(cx: &'a Ctx, func: &str, handle: u64) -> Result<&'a OutputSink, HelperError> {
    match handle {
        STDOUT_HANDLE => Ok(&cx.stdout),
        STDERR_HANDLE => Ok(&cx.stderr),
        _ => Err(HelperError::Fault(format!(
            "{func}: {handle:#x} is not an output stream (only stdout and stderr exist)"
        ))),
    }
}

/// Writes `bytes`; `Ok(false)` when the host writer failed (C's EOF / -1).
fn emit(sink: &OutputSink, func: &str, bytes: &[u8]) -> Result<bool, HelperError> {
    match sink.write(bytes) {
        Ok(()) => Ok(true),
        Err(e @ WriteError::LimitExceeded(_)) => Err(HelperError::Fault(format!("{func}: {e}"))),
        Err(WriteError::Io(_)) => Ok(false),
    }
}

/// The byte count a printf-family function returns.
fn count(n: usize) -> u64 {
    int_ret(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Formats and writes; the byte count, or EOF when the host writer failed.
fn print_to(
    cx: &Ctx,
    func: &str,
    sink: &OutputSink,
    mem: &Memory,
    fmt: u64,
    values: &[u64],
) -> Result<u64, HelperError> {
    let check = |a, n| cx.check(func, a, n);
    let text = format(mem, &check, func, cx.string(func, mem, fmt)?, values)?;
    Ok(if emit(sink, func, &text)? {
        count(text.len())
    } else {
        EOF
    })
}

/// `int printf(const char *fmt, ...)`: four value arguments at most.
pub(crate) fn printf(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    print_to(cx, "printf", &cx.stdout, mem, a[0], &a[1..])
}

/// `int fprintf(FILE *stream, const char *fmt, ...)`: three value arguments at most.
pub(crate) fn fprintf(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let sink = stream(cx, "fprintf", a[0])?;
    print_to(cx, "fprintf", sink, mem, a[1], &a[2..])
}

/// `int snprintf(char *buf, size_t n, const char *fmt, ...)`: two value
/// arguments at most. All `n` bytes of `buf` must be writable.
pub(crate) fn snprintf(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (buf, n) = (a[0], len_arg(a[1]));
    let check = |a, n| cx.check("snprintf", a, n);
    let fmt = cx.string("snprintf", mem, a[2])?;
    let text = format(mem, &check, "snprintf", fmt, &a[3..])?;
    if n > 0 {
        check(buf, n)?;
        let dst = mem.slice_mut(buf, n)?;
        let k = text.len().min(n - 1);
        dst[..k].copy_from_slice(&text[..k]);
        dst[k] = 0;
    }
    Ok(count(text.len()))
}

/// `int sprintf(char *buf, const char *fmt, ...)`: three value arguments at most.
pub(crate) fn sprintf(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let check = |a, n| cx.check("sprintf", a, n);
    let fmt = cx.string("sprintf", mem, a[1])?;
    let mut text = format(mem, &check, "sprintf", fmt, &a[2..])?;
    let n = text.len();
    text.push(0);
    check(a[0], text.len())?;
    mem.write_bytes(a[0], &text)?;
    Ok(count(n))
}

/// `int puts(const char *s)`: the string and a newline.
pub(crate) fn puts(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut line = cx.string("puts", mem, a[0])?.to_vec();
    line.push(b'\n');
    Ok(if emit(&cx.stdout, "puts", &line)? {
        count(line.len())
    } else {
        EOF
    })
}

/// `int fputs(const char *s, FILE *stream)`.
pub(crate) fn fputs(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let sink = stream(cx, "fputs", a[1])?;
    Ok(if emit(sink, "fputs", cx.string("fputs", mem, a[0])?)? {
        1
    } else {
        EOF
    })
}

fn put_byte(sink: &OutputSink, func: &str, c: u64) -> Result<u64, HelperError> {
    let byte = c as u8;
    Ok(if emit(sink, func, &[byte])? {
        u64::from(byte)
    } else {
        EOF
    })
}

/// `int putchar(int c)`.
pub(crate) fn putchar(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    put_byte(&cx.stdout, "putchar", a[0])
}

/// `int fputc(int c, FILE *stream)`.
pub(crate) fn fputc(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    put_byte(stream(cx, "fputc", a[1])?, "fputc", a[0])
}

/// `int putc(int c, FILE *stream)`.
pub(crate) fn putc(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    put_byte(stream(cx, "putc", a[1])?, "putc", a[0])
}

/// `int fflush(FILE *stream)`: flushes one stream, or both for NULL.
pub(crate) fn fflush(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let ok = if a[0] == 0 {
        cx.stdout.flush().is_ok() & cx.stderr.flush().is_ok()
    } else {
        stream(cx, "fflush", a[0])?.flush().is_ok()
    };
    Ok(if ok { 0 } else { EOF })
}
