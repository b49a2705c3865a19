//! `<stdio.h>` streams beyond the printf family: writing and reading any
//! `FILE *` (the standard streams, or the files they were redirected to,
//! files opened in the granted directory, temporary files in memory),
//! positioning, the error and end-of-file flags, `getline` (opening and
//! naming files: `fileopen.rs`).
//!
//! Errors are C's: a function that fails returns its failure value and
//! sets `errno` (`fopen` with no directory granted: `EACCES`, and a note
//! to the user saying how to grant one). Misuse that C leaves undefined
//! stops the program with a message: a NULL or closed stream, a stream
//! that is not one, a buffer outside VM memory.

use crate::ctx::Ctx;
use crate::input::Input;
use crate::stream::{FileStream, STDERR_HANDLE, STDIN_HANDLE, STDOUT_HANDLE};
use crate::vmstr::{int_arg, int_ret, len_arg};
use bpf_vm::{HelperError, Memory};
use std::io;

/// `EOF` as a register value.
pub(crate) const EOF: u64 = -1i64 as u64;

/// What a `FILE *` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Stdin,
    Stdout,
    Stderr,
    File(u64),
}

/// The stream `handle` names, or the fault for a value that names none.
pub(crate) fn target(cx: &Ctx, func: &str, handle: u64) -> Result<Target, HelperError> {
    let mut world = cx.world.borrow_mut();
    let std = match handle {
        STDIN_HANDLE => Some((0, Target::Stdin)),
        STDOUT_HANDLE => Some((1, Target::Stdout)),
        STDERR_HANDLE => Some((2, Target::Stderr)),
        _ => None,
    };
    if let Some((i, t)) = std {
        // A standard stream `freopen` sent to a file.
        let redirected = world.redirect[i];
        return Ok(match redirected {
            Some(h) if world.files.get(h).is_some() => Target::File(h),
            _ => t,
        });
    }
    let files = &mut world.files;
    if files.get(handle).is_some() {
        return Ok(Target::File(handle));
    }
    let why = if handle == 0 {
        "the stream is NULL (did fopen fail?)"
    } else if files.was_issued(handle) {
        "the stream was closed by fclose"
    } else {
        "not a stream (a FILE * comes from fopen or tmpfile, or is stdin, stdout or stderr)"
    };
    Err(HelperError::Fault(format!("{func}({handle:#x}): {why}")))
}

/// Sets `errno` from a host error.
pub(crate) fn host_errno(cx: &Ctx, mem: &mut Memory, e: &io::Error) -> Result<(), HelperError> {
    cx.set_errno(mem, e.raw_os_error().unwrap_or(libc::EIO))
}

/// Writes all of `data` to the stream; `Ok(false)` (and `errno`) when C's
/// call would fail.
pub(crate) fn put(
    cx: &Ctx,
    mem: &mut Memory,
    func: &str,
    handle: u64,
    data: &[u8],
) -> Result<bool, HelperError> {
    match target(cx, func, handle)? {
        Target::Stdout => crate::stdio::emit(&cx.stdout, func, data),
        Target::Stderr => crate::stdio::emit(&cx.stderr, func, data),
        Target::Stdin => {
            cx.set_errno(mem, libc::EBADF)?;
            Ok(false)
        }
        Target::File(h) => {
            let result = {
                let mut world = cx.world.borrow_mut();
                let files = &mut world.files;
                let (written, limit) = (files.written, files.write_limit);
                let Some(f) = files.get(h) else {
                    return Ok(false);
                };
                if !f.writable {
                    f.error = true;
                    Err(io::Error::from_raw_os_error(libc::EBADF))
                } else if written.saturating_add(data.len() as u64) > limit {
                    f.error = true;
                    Err(io::Error::from_raw_os_error(libc::EFBIG))
                } else {
                    let r = f.write(data);
                    if r.is_ok() {
                        files.written += data.len() as u64;
                    }
                    r
                }
            };
            match result {
                Ok(()) => Ok(true),
                Err(e) => {
                    if e.raw_os_error() == Some(libc::EFBIG) {
                        let limit = cx.world.borrow().files.write_limit;
                        cx.notice(&format!(
                            "{func}: the program has written the most bytes to files a session \
                             may ({limit}; raise it with Runtime::with_file_write_limit)"
                        ));
                    }
                    host_errno(cx, mem, &e)?;
                    Ok(false)
                }
            }
        }
    }
}

/// The note shown when a program reads standard input that was never given.
const STDIN_EMPTY: &str = "the program read standard input, but none was given (bpf-repl: \
                           --stdin FILE, or a `//<` section in a transcript)";

/// Runs `f` on the input stream `handle` names (and VM memory); `Ok(None)`
/// (and `errno`) when the stream cannot be read. `f` must not use the
/// world (standard input and files are borrowed while it runs).
pub(crate) fn with_input<R>(
    cx: &Ctx,
    mem: &mut Memory,
    func: &str,
    handle: u64,
    f: impl FnOnce(&mut dyn Input, &mut Memory) -> R,
) -> Result<Option<R>, HelperError> {
    let t = target(cx, func, handle)?;
    let result = {
        let mut world = cx.world.borrow_mut();
        match t {
            Target::Stdin => {
                let r = f(&mut world.stdin, mem);
                let unfed = world.stdin.eof_seen && !world.stdin.fed;
                drop(world);
                if unfed {
                    cx.notice(STDIN_EMPTY);
                }
                Some(r)
            }
            Target::File(h) => match world.files.get(h) {
                Some(file) if file.readable => Some(f(file, mem)),
                Some(file) => {
                    file.error = true;
                    None
                }
                None => None,
            },
            Target::Stdout | Target::Stderr => None,
        }
    };
    if result.is_none() {
        cx.set_errno(mem, libc::EBADF)?;
    }
    Ok(result)
}

/// Reads one byte: the byte, `None` at end of file, or an error (flag set).
fn getc_of(input: &mut dyn Input) -> io::Result<Option<u8>> {
    input.next_byte()
}

/// `int fgetc(FILE *f)` and `getc`.
pub(crate) fn fgetc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    get_byte(cx, mem, "fgetc", a[0])
}

/// `int getchar(void)`.
pub(crate) fn getchar(cx: &Ctx, mem: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    get_byte(cx, mem, "getchar", STDIN_HANDLE)
}

fn get_byte(cx: &Ctx, mem: &mut Memory, func: &str, handle: u64) -> Result<u64, HelperError> {
    match with_input(cx, mem, func, handle, |i, _| getc_of(i))? {
        Some(Ok(Some(b))) => Ok(u64::from(b)),
        Some(Ok(None)) | None => Ok(EOF),
        Some(Err(e)) => {
            host_errno(cx, mem, &e)?;
            Ok(EOF)
        }
    }
}

/// `int ungetc(int c, FILE *f)`: `c` as an unsigned char, or EOF for EOF.
pub(crate) fn ungetc(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if int_arg(a[0]) == -1 {
        return Ok(EOF);
    }
    let b = a[0] as u8;
    Ok(
        match with_input(cx, mem, "ungetc", a[1], |i, _| i.unget(b))? {
            Some(()) => u64::from(b),
            None => EOF,
        },
    )
}

/// `char *fgets(char *s, int n, FILE *f)`: up to `n - 1` bytes, through
/// the first newline; NULL when nothing was read before end of file.
pub(crate) fn fgets(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (s, n) = (a[0], int_arg(a[1]));
    if n <= 0 {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(0);
    }
    let n = n as usize;
    cx.check("fgets", s, n)?;
    mem.slice_mut(s, n)?;
    let read = with_input(cx, mem, "fgets", a[2], |input, _| {
        let mut line = Vec::new();
        while line.len() + 1 < n {
            match input.next_byte() {
                Ok(Some(b)) => {
                    line.push(b);
                    if b == b'\n' {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(line)
    })?;
    match read {
        Some(Ok(mut line)) if !line.is_empty() || n == 1 => {
            line.push(0);
            mem.write_bytes(s, &line)?;
            Ok(s)
        }
        Some(Err(e)) => {
            host_errno(cx, mem, &e)?;
            Ok(0)
        }
        _ => Ok(0),
    }
}

/// `ssize_t getdelim(char **line, size_t *cap, int delim, FILE *f)` (and
/// `getline`): reads through `delim` into a heap buffer it grows with
/// `realloc`; -1 at end of file.
pub(crate) fn getdelim(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (lp, cp, delim, handle) = (a[0], a[1], a[2] as u8, a[3]);
    let func = "getdelim";
    cx.check(func, lp, 8)?;
    cx.check(func, cp, 8)?;
    let (mut buf, cap) = (mem.load(lp, 8)?, mem.load(cp, 8)?);
    let read = with_input(cx, mem, func, handle, |input, _| {
        let mut line = Vec::new();
        loop {
            match input.next_byte() {
                Ok(Some(b)) => {
                    line.push(b);
                    if b == delim {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(line)
    })?;
    let line = match read {
        Some(Ok(line)) if !line.is_empty() => line,
        Some(Err(e)) => {
            host_errno(cx, mem, &e)?;
            return Ok(int_ret(-1));
        }
        _ => return Ok(int_ret(-1)),
    };
    let need = line.len() as u64 + 1;
    if buf == 0 || cap < need {
        let new_cap = need.max(120);
        let p = cx
            .state
            .borrow_mut()
            .heap
            .realloc(mem, buf, len_arg(new_cap))?;
        if p == 0 {
            cx.set_errno(mem, libc::ENOMEM)?;
            return Ok(int_ret(-1));
        }
        buf = p;
        mem.store(lp, 8, buf)?;
        mem.store(cp, 8, new_cap)?;
    }
    let mut bytes = line;
    let n = bytes.len();
    bytes.push(0);
    cx.check(func, buf, bytes.len())?;
    mem.write_bytes(buf, &bytes)?;
    Ok(n as u64)
}

/// `ssize_t getline(char **line, size_t *cap, FILE *f)`: `getdelim` with '\n'.
pub(crate) fn getline(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    getdelim(cx, mem, [a[0], a[1], u64::from(b'\n'), a[2], 0])
}

/// `size_t fread(void *p, size_t size, size_t n, FILE *f)`: whole items read.
pub(crate) fn fread(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (p, size, n) = (a[0], a[1], a[2]);
    let Some(total) = size.checked_mul(n).filter(|t| *t <= 1 << 31) else {
        return Err(HelperError::Fault(format!(
            "fread: {n} items of {size} bytes do not fit in memory"
        )));
    };
    if total == 0 {
        return Ok(0);
    }
    let total = len_arg(total);
    cx.check("fread", p, total)?;
    mem.slice_mut(p, total)?;
    if let Target::File(h) = target(cx, "fread", a[3])? {
        // Files in bulk, straight into the buffer.
        let mut buf = vec![0u8; total];
        let got = {
            let mut world = cx.world.borrow_mut();
            match world.files.get(h) {
                Some(f) if f.readable => Some(f.read(&mut buf)),
                Some(f) => {
                    f.error = true;
                    None
                }
                None => None,
            }
        };
        return match got {
            Some(Ok(n)) => {
                mem.write_bytes(p, &buf[..n])?;
                Ok(n as u64 / size)
            }
            Some(Err(e)) => {
                host_errno(cx, mem, &e)?;
                Ok(0)
            }
            None => {
                cx.set_errno(mem, libc::EBADF)?;
                Ok(0)
            }
        };
    }
    let read = with_input(cx, mem, "fread", a[3], |input, _| {
        let mut buf = Vec::with_capacity(total.min(1 << 20));
        while buf.len() < total {
            match input.next_byte() {
                Ok(Some(b)) => buf.push(b),
                Ok(None) => break,
                Err(e) => return (buf, Some(e)),
            }
        }
        (buf, None)
    })?;
    let Some((buf, err)) = read else {
        return Ok(0);
    };
    mem.write_bytes(p, &buf)?;
    if let Some(e) = err {
        host_errno(cx, mem, &e)?;
    }
    Ok(buf.len() as u64 / size)
}

/// `size_t fwrite(const void *p, size_t size, size_t n, FILE *f)`.
pub(crate) fn fwrite(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (p, size, n) = (a[0], a[1], a[2]);
    let Some(total) = size.checked_mul(n).filter(|t| *t <= 1 << 31) else {
        return Err(HelperError::Fault(format!(
            "fwrite: {n} items of {size} bytes do not fit in memory"
        )));
    };
    if total == 0 {
        return Ok(0);
    }
    let total = len_arg(total);
    cx.check("fwrite", p, total)?;
    let data = mem.read_bytes(p, total)?;
    Ok(if put(cx, mem, "fwrite", a[3], &data)? {
        n
    } else {
        0
    })
}

/// Runs `f` on an open file; standard streams are not seekable (`ESPIPE`).
fn on_file<R>(
    cx: &Ctx,
    mem: &mut Memory,
    func: &str,
    handle: u64,
    f: impl FnOnce(&mut FileStream) -> io::Result<R>,
) -> Result<Option<R>, HelperError> {
    let r = match target(cx, func, handle)? {
        Target::File(h) => match cx.world.borrow_mut().files.get(h) {
            Some(file) => f(file),
            None => Err(io::Error::from_raw_os_error(libc::EBADF)),
        },
        _ => Err(io::Error::from_raw_os_error(libc::ESPIPE)),
    };
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            host_errno(cx, mem, &e)?;
            Ok(None)
        }
    }
}

/// `int fseek(FILE *f, long off, int whence)` (also `fseeko`).
pub(crate) fn fseek(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (off, whence) = (a[1] as i64, int_arg(a[2]));
    let done = on_file(cx, mem, "fseek", a[0], |f| f.seek(off, whence))?;
    Ok(if done.is_some() { 0 } else { int_ret(-1) })
}

/// `long ftell(FILE *f)` (also `ftello`).
pub(crate) fn ftell(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(on_file(cx, mem, "ftell", a[0], |f| f.tell())?.map_or(int_ret(-1), |p| p))
}

/// `void rewind(FILE *f)`: to the start, flags cleared.
pub(crate) fn rewind(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    on_file(cx, mem, "rewind", a[0], |f| {
        f.error = false;
        f.seek(0, 0)
    })?;
    Ok(0)
}

/// `int fgetpos(FILE *f, fpos_t *pos)`: `fpos_t` holds the offset.
pub(crate) fn fgetpos(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.check("fgetpos", a[1], 8)?;
    match on_file(cx, mem, "fgetpos", a[0], |f| f.tell())? {
        Some(p) => {
            mem.store(a[1], 8, p)?;
            Ok(0)
        }
        None => Ok(int_ret(-1)),
    }
}

/// `int fsetpos(FILE *f, const fpos_t *pos)`.
pub(crate) fn fsetpos(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.check("fsetpos", a[1], 8)?;
    let p = mem.load(a[1], 8)? as i64;
    let done = on_file(cx, mem, "fsetpos", a[0], |f| f.seek(p, 0))?;
    Ok(if done.is_some() { 0 } else { int_ret(-1) })
}

/// The end-of-file and error flags of a stream.
fn flags(cx: &Ctx, func: &str, handle: u64) -> Result<(bool, bool), HelperError> {
    let t = target(cx, func, handle)?;
    let mut world = cx.world.borrow_mut();
    Ok(match t {
        Target::Stdin => (world.stdin.eof_seen, world.stdin.error),
        Target::File(h) => world
            .files
            .get(h)
            .map_or((false, false), |f| (f.eof, f.error)),
        Target::Stdout | Target::Stderr => (false, false),
    })
}

/// `int feof(FILE *f)`.
pub(crate) fn feof(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(u64::from(flags(cx, "feof", a[0])?.0))
}

/// `int ferror(FILE *f)`.
pub(crate) fn ferror(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(u64::from(flags(cx, "ferror", a[0])?.1))
}

/// `void clearerr(FILE *f)`.
pub(crate) fn clearerr(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let t = target(cx, "clearerr", a[0])?;
    let mut world = cx.world.borrow_mut();
    match t {
        Target::Stdin => {
            world.stdin.eof_seen = false;
            world.stdin.error = false;
        }
        Target::File(h) => {
            if let Some(f) = world.files.get(h) {
                f.eof = false;
                f.error = false;
            }
        }
        Target::Stdout | Target::Stderr => {}
    }
    Ok(0)
}

/// `int fileno(FILE *f)`: 0, 1 or 2 for the standard streams; a file has
/// no descriptor a program could use (-1, `EBADF`).
pub(crate) fn fileno(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(match target(cx, "fileno", a[0])? {
        Target::Stdin => 0,
        Target::Stdout => 1,
        Target::Stderr => 2,
        Target::File(_) => {
            cx.set_errno(mem, libc::EBADF)?;
            int_ret(-1)
        }
    })
}

/// `int setvbuf(FILE *f, char *buf, int mode, size_t size)` and `setbuf`:
/// accepted; streams here write through at once.
pub(crate) fn setvbuf(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    target(cx, "setvbuf", a[0])?;
    Ok(0)
}

/// `void setbuf(FILE *f, char *buf)`.
pub(crate) fn setbuf(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    target(cx, "setbuf", a[0])?;
    Ok(0)
}
