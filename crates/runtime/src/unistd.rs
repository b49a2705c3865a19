//! `<unistd.h>`: `read` and `write` on the standard descriptors 0, 1 and
//! 2 (the same input and output as `stdin`/`stdout`/`stderr`), `isatty`,
//! and `system` (no command runs). Other descriptors do not exist: `EBADF`.

use crate::ctx::Ctx;
use crate::fileio::{host_errno, put, with_input};
use crate::stream::{STDERR_HANDLE, STDIN_HANDLE, STDOUT_HANDLE};
use crate::vmstr::{int_arg, int_ret, len_arg};
use bpf_vm::{HelperError, Memory};

/// The most one call moves (as Linux, `0x7ffff000`).
const MAX_IO: usize = 0x7fff_f000;

fn bad_fd(cx: &Ctx, mem: &mut Memory) -> Result<u64, HelperError> {
    cx.set_errno(mem, libc::EBADF)?;
    Ok(int_ret(-1))
}

/// `ssize_t write(int fd, const void *buf, size_t n)`.
pub(crate) fn write(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let handle = match int_arg(a[0]) {
        1 => STDOUT_HANDLE,
        2 => STDERR_HANDLE,
        _ => return bad_fd(cx, mem),
    };
    let n = len_arg(a[2]).min(MAX_IO);
    if n == 0 {
        return Ok(0);
    }
    cx.check("write", a[1], n)?;
    let data = mem.read_bytes(a[1], n)?;
    Ok(if put(cx, mem, "write", handle, &data)? {
        n as u64
    } else {
        int_ret(-1)
    })
}

/// `ssize_t read(int fd, void *buf, size_t n)`: from standard input, at
/// least one byte (waiting for it) and whatever else is already there;
/// 0 at end of file.
pub(crate) fn read(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if int_arg(a[0]) != 0 {
        return bad_fd(cx, mem);
    }
    let n = len_arg(a[2]).min(MAX_IO);
    if n == 0 {
        return Ok(0);
    }
    cx.check("read", a[1], n)?;
    mem.slice_mut(a[1], n)?;
    let got = with_input(cx, mem, "read", STDIN_HANDLE, |input, _| {
        let mut buf = Vec::new();
        while buf.len() < n {
            // After the first byte, take only what needs no waiting.
            if !buf.is_empty() && !input.ready() {
                break;
            }
            match input.next_byte() {
                Ok(Some(b)) => buf.push(b),
                Ok(None) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(buf)
    })?;
    match got {
        Some(Ok(buf)) => {
            mem.write_bytes(a[1], &buf)?;
            Ok(buf.len() as u64)
        }
        Some(Err(e)) => {
            host_errno(cx, mem, &e)?;
            Ok(int_ret(-1))
        }
        None => Ok(int_ret(-1)),
    }
}

/// `int isatty(int fd)`: no descriptor is a terminal here (0, `ENOTTY`).
pub(crate) fn isatty(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let e = if (0..=2).contains(&int_arg(a[0])) {
        libc::ENOTTY
    } else {
        libc::EBADF
    };
    cx.set_errno(mem, e)?;
    Ok(0)
}

/// `int system(const char *command)`: there is no command processor
/// (`system(NULL)` is 0; a command is -1 with `errno = ENOSYS`).
pub(crate) fn system(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[0] == 0 {
        return Ok(0);
    }
    let cmd = cx.string("system", mem, a[0])?;
    let text = format!(
        "system(\"{}\"): programs cannot run commands here",
        String::from_utf8_lossy(cmd)
    );
    cx.notice(&text);
    cx.set_errno(mem, libc::ENOSYS)?;
    Ok(int_ret(-1))
}
