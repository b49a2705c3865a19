//! `<stdio.h>` output: the printf family (`printf`, `fprintf`, `sprintf`,
//! `snprintf` and their `v*` forms), puts, putchar and the stream variants,
//! on `stdout`, `stderr` and open files (`FILE *` handles: `stream.rs`).
//!
//! Each variadic function exists twice (docs/abi.md): under its C name it
//! takes a va block (full mode), under `__bpf_strict_<name>` its values in
//! registers (strict mode, where `<stdio.h>` renames the declarations).

use crate::ctx::Ctx;
use crate::fileio::{put, EOF};
use crate::format::{format_hosted, Args, CountStore, Hosted, VaReader};
use crate::output::{OutputSink, WriteError};
use crate::runtime::Imp;
use crate::vmstr::{int_ret, len_arg};
use bpf_vm::{HelperError, Memory};

/// Writes `bytes`; `Ok(false)` when the host writer failed (C's EOF / -1).
pub(crate) fn emit(sink: &OutputSink, func: &str, bytes: &[u8]) -> Result<bool, HelperError> {
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
pub(crate) fn formatted(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    a: &[u64; 5],
    fixed: usize,
    abi: Abi,
) -> Result<Formatted, HelperError> {
    let check = |a, n| cx.check(func, a, n);
    let fmt = cx.string(func, mem, a[fixed - 1])?;
    let errno = cx.errno_now(mem);
    let mut stores = Vec::new();
    let (text, advanced) = match abi {
        Abi::Strict => {
            let mut args = Args::Registers {
                values: &a[fixed..],
                next: 0,
            };
            let hosted = Hosted {
                errno,
                stores: &mut stores,
            };
            (
                format_hosted(mem, &check, func, fmt, &mut args, hosted)?,
                None,
            )
        }
        Abi::Block | Abi::List => {
            let list = matches!(abi, Abi::List);
            let reader = VaReader::new(mem, &check, func, a[fixed], list)?;
            let mut args = Args::Va(reader);
            let hosted = Hosted {
                errno,
                stores: &mut stores,
            };
            let text = format_hosted(mem, &check, func, fmt, &mut args, hosted)?;
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
    Ok(Formatted { text, stores })
}

/// Formatted text and the `%n` stores still to make.
pub(crate) struct Formatted {
    pub(crate) text: Vec<u8>,
    stores: Vec<CountStore>,
}

impl Formatted {
    /// Makes the `%n` stores (after the text went out, as C's would be seen).
    pub(crate) fn store_counts(
        &self,
        cx: &Ctx,
        func: &str,
        mem: &mut Memory,
    ) -> Result<(), HelperError> {
        for s in &self.stores {
            cx.check(func, s.addr, s.size)?;
            mem.store(s.addr, s.size, s.value)?;
        }
        Ok(())
    }
}

/// `int printf(const char *fmt, ...)`, `vprintf(fmt, ap)`.
pub(crate) fn printf(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    abi: Abi,
) -> Result<u64, HelperError> {
    let f = formatted(cx, func, mem, &a, 1, abi)?;
    let ok = put(cx, mem, func, crate::stream::STDOUT_HANDLE, &f.text)?;
    f.store_counts(cx, func, mem)?;
    Ok(if ok { count(f.text.len()) } else { EOF })
}

/// `int fprintf(FILE *stream, const char *fmt, ...)`, `vfprintf`.
pub(crate) fn fprintf(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    func: &str,
    abi: Abi,
) -> Result<u64, HelperError> {
    crate::fileio::target(cx, func, a[0])?;
    let f = formatted(cx, func, mem, &a, 2, abi)?;
    let ok = put(cx, mem, func, a[0], &f.text)?;
    f.store_counts(cx, func, mem)?;
    Ok(if ok { count(f.text.len()) } else { EOF })
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
    let f = formatted(cx, func, mem, &a, 3, abi)?;
    let text = &f.text;
    if n > 0 {
        cx.check(func, buf, n)?;
        let dst = mem.slice_mut(buf, n)?;
        let k = text.len().min(n - 1);
        dst[..k].copy_from_slice(&text[..k]);
        dst[k] = 0;
    }
    f.store_counts(cx, func, mem)?;
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
    let f = formatted(cx, func, mem, &a, 2, abi)?;
    let mut text = f.text.clone();
    let n = text.len();
    text.push(0);
    cx.check(func, a[0], text.len())?;
    mem.write_bytes(a[0], &text)?;
    f.store_counts(cx, func, mem)?;
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
    Ok(
        if put(cx, mem, "puts", crate::stream::STDOUT_HANDLE, &line)? {
            count(line.len())
        } else {
            EOF
        },
    )
}

/// `int fputs(const char *s, FILE *stream)`.
pub(crate) fn fputs(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    crate::fileio::target(cx, "fputs", a[1])?;
    let s = cx.string("fputs", mem, a[0])?.to_vec();
    Ok(if put(cx, mem, "fputs", a[1], &s)? {
        1
    } else {
        EOF
    })
}

fn put_byte(
    cx: &Ctx,
    mem: &mut Memory,
    func: &str,
    handle: u64,
    c: u64,
) -> Result<u64, HelperError> {
    let byte = c as u8;
    Ok(if put(cx, mem, func, handle, &[byte])? {
        u64::from(byte)
    } else {
        EOF
    })
}

/// `int putchar(int c)`.
pub(crate) fn putchar(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    put_byte(cx, mem, "putchar", crate::stream::STDOUT_HANDLE, a[0])
}

/// `int fputc(int c, FILE *stream)`.
pub(crate) fn fputc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    put_byte(cx, mem, "fputc", a[1], a[0])
}

/// `int putc(int c, FILE *stream)`.
pub(crate) fn putc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    put_byte(cx, mem, "putc", a[1], a[0])
}

/// `int fflush(FILE *stream)`: flushes one stream, or every stream for
/// NULL (files write through at once; input streams have nothing to flush).
pub(crate) fn fflush(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    use crate::fileio::Target;
    let ok = if a[0] == 0 {
        cx.stdout.flush().is_ok() & cx.stderr.flush().is_ok()
    } else {
        match crate::fileio::target(cx, "fflush", a[0])? {
            Target::Stdout => cx.stdout.flush().is_ok(),
            Target::Stderr => cx.stderr.flush().is_ok(),
            Target::Stdin | Target::File(_) => true,
        }
    };
    Ok(if ok { 0 } else { EOF })
}
