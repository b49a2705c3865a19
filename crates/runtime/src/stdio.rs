//! `<stdio.h>`: the printf family (`printf`, `fprintf`, `sprintf`,
//! `snprintf` and their `v*` forms), puts, putchar and the stream variants
//! on `stdout` and `stderr` (which the header defines as the stream handles
//! 1 and 2).
//!
//! Each variadic function exists twice (docs/abi.md): under its C name it
//! takes a va block (full mode), under `__bpf_strict_<name>` its values in
//! registers (strict mode, where `<stdio.h>` renames the declarations).

use crate::ctx::Ctx;
use crate::format::{format, Args, VaReader};
use crate::output::{OutputSink, WriteError};
use crate::runtime::Imp;
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

/// How a printf-family function receives its value arguments.
#[derive(Clone, Copy)]
pub(crate) enum Abi {
    /// Strict mode (`__bpf_strict_printf`...): the registers after the fixed ones.
    Strict,
    /// Full mode (`printf`...): a va block after the fixed arguments.
    Block,
    /// `vprintf`...: a `va_list` after the fixed arguments.
    List,
}

/// Formats the string at `fmt` with the values that follow the `fixed`
/// arguments in `a`, as `abi` passes them. A `va_list` is left advanced
/// past the values read, as on x86-64.
fn formatted(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    a: &[u64; 5],
    fixed: usize,
    abi: Abi,
) -> Result<Vec<u8>, HelperError> {
    let check = |a, n| cx.check(func, a, n);
    let fmt = cx.string(func, mem, a[fixed - 1])?;
    let (text, advanced) = match abi {
        Abi::Strict => {
            let mut args = Args::Registers {
                values: &a[fixed..],
                next: 0,
            };
            (format(mem, &check, func, fmt, &mut args)?, None)
        }
        Abi::Block | Abi::List => {
            let list = matches!(abi, Abi::List);
            let reader = VaReader::new(mem, &check, func, a[fixed], list)?;
            let mut args = Args::Va(reader);
            let text = format(mem, &check, func, fmt, &mut args)?;
            match args {
                Args::Va(reader) if list => (text, Some(reader)),
                _ => (text, None),
            }
        }
    };
    if let Some(reader) = advanced {
        check(a[fixed], 8)?;
        reader.write_back(mem)?;
    }
    Ok(text)
}

/// Writes formatted text; the byte count, or EOF when the host writer failed.
fn print_to(sink: &OutputSink, func: &str, text: &[u8]) -> Result<u64, HelperError> {
    Ok(if emit(sink, func, text)? {
        count(text.len())
    } else {
        EOF
    })
}

/// `int printf(const char *fmt, ...)`, `vprintf(fmt, ap)`.
pub(crate) fn printf(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    abi: Abi,
) -> Result<u64, HelperError> {
    let text = formatted(cx, func, mem, &a, 1, abi)?;
    print_to(&cx.stdout, func, &text)
}

/// `int fprintf(FILE *stream, const char *fmt, ...)`, `vfprintf`.
pub(crate) fn fprintf(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    abi: Abi,
) -> Result<u64, HelperError> {
    let sink = stream(cx, func, a[0])?;
    let text = formatted(cx, func, mem, &a, 2, abi)?;
    print_to(sink, func, &text)
}

/// `int snprintf(char *buf, size_t n, const char *fmt, ...)`, `vsnprintf`.
/// All `n` bytes of `buf` must be writable.
pub(crate) fn snprintf(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    abi: Abi,
) -> Result<u64, HelperError> {
    let (buf, n) = (a[0], len_arg(a[1]));
    let text = formatted(cx, func, mem, &a, 3, abi)?;
    if n > 0 {
        cx.check(func, buf, n)?;
        let dst = mem.slice_mut(buf, n)?;
        let k = text.len().min(n - 1);
        dst[..k].copy_from_slice(&text[..k]);
        dst[k] = 0;
    }
    Ok(count(text.len()))
}

/// `int sprintf(char *buf, const char *fmt, ...)`, `vsprintf`.
pub(crate) fn sprintf(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    abi: Abi,
) -> Result<u64, HelperError> {
    let mut text = formatted(cx, func, mem, &a, 2, abi)?;
    let n = text.len();
    text.push(0);
    cx.check(func, a[0], text.len())?;
    mem.write_bytes(a[0], &text)?;
    Ok(count(n))
}

/// The printf family in its three ABIs. The strict variants keep the C
/// name in their messages.
pub(crate) const PRINTF_FAMILY: &[(&str, Imp)] = &[
    ("printf", |cx, m, a| printf(cx, m, a, "printf", Abi::Block)),
    ("fprintf", |cx, m, a| {
        fprintf(cx, m, a, "fprintf", Abi::Block)
    }),
    ("sprintf", |cx, m, a| {
        sprintf(cx, m, a, "sprintf", Abi::Block)
    }),
    ("snprintf", |cx, m, a| {
        snprintf(cx, m, a, "snprintf", Abi::Block)
    }),
    ("vprintf", |cx, m, a| printf(cx, m, a, "vprintf", Abi::List)),
    ("vfprintf", |cx, m, a| {
        fprintf(cx, m, a, "vfprintf", Abi::List)
    }),
    ("vsprintf", |cx, m, a| {
        sprintf(cx, m, a, "vsprintf", Abi::List)
    }),
    ("vsnprintf", |cx, m, a| {
        snprintf(cx, m, a, "vsnprintf", Abi::List)
    }),
    ("__bpf_strict_printf", |cx, m, a| {
        printf(cx, m, a, "printf", Abi::Strict)
    }),
    ("__bpf_strict_fprintf", |cx, m, a| {
        fprintf(cx, m, a, "fprintf", Abi::Strict)
    }),
    ("__bpf_strict_sprintf", |cx, m, a| {
        sprintf(cx, m, a, "sprintf", Abi::Strict)
    }),
    ("__bpf_strict_snprintf", |cx, m, a| {
        snprintf(cx, m, a, "snprintf", Abi::Strict)
    }),
];

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
