//! `<errno.h>`: `errno` itself (`*__errno_location()`, a runtime static
//! in VM memory), `strerror` and `perror` with glibc's texts, Linux's
//! numbers.

use crate::ctx::Ctx;
use crate::statics::{self, STRERROR_LEN};
use crate::vmstr::{int_arg, int_ret};
use bpf_vm::{HelperError, Memory};

/// `int *__errno_location(void)`: where `errno` lives.
pub(crate) fn errno_location(cx: &Ctx, mem: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    Ok(cx.statics(mem)? + statics::ERRNO)
}

/// The program's `errno` now.
pub(crate) fn errno(cx: &Ctx, mem: &mut Memory) -> Result<i32, HelperError> {
    let at = cx.statics(mem)? + statics::ERRNO;
    Ok(mem.load(at, 4)? as u32 as i32)
}

/// glibc's message for error number `e` (`Unknown error N` beyond them).
pub(crate) fn message(e: i32) -> String {
    let mut buf = [0 as libc::c_char; 256];
    // SAFETY: the XSI strerror_r writes a NUL-terminated message of at
    // most `buf.len()` bytes into `buf`; it touches nothing else.
    let rc = unsafe { libc::strerror_r(e, buf.as_mut_ptr(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {e}");
    }
    // SAFETY: strerror_r succeeded, so `buf` holds a C string.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    text.to_string_lossy().into_owned()
}

/// `char *strerror(int e)`: the text, in the runtime's buffer.
pub(crate) fn strerror(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let text = message(int_arg(a[0]));
    let at = cx.statics(mem)? + statics::STRERROR;
    let mut bytes = text.into_bytes();
    bytes.truncate(STRERROR_LEN - 1);
    bytes.push(0);
    mem.write_bytes(at, &bytes)?;
    Ok(at)
}

/// `void perror(const char *s)`: `s: message\n` (or just the message) on
/// `stderr`, for the current `errno`.
pub(crate) fn perror(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let e = errno(cx, mem)?;
    let mut line = Vec::new();
    if a[0] != 0 {
        let s = cx.string("perror", mem, a[0])?;
        if !s.is_empty() {
            line.extend_from_slice(s);
            line.extend_from_slice(b": ");
        }
    }
    line.extend_from_slice(message(e).as_bytes());
    line.push(b'\n');
    crate::fileio::put(cx, mem, "perror", crate::stream::STDERR_HANDLE, &line)?;
    Ok(0)
}

/// `char *strerror_r(int e, char *buf, size_t n)` (the GNU form, for
/// `_GNU_SOURCE` programs): the text in `buf`, truncated to fit.
pub(crate) fn gnu_strerror_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    strerror_r(cx, mem, a)?;
    Ok(a[1])
}

/// `int strerror_r(int e, char *buf, size_t n)` (the XSI form): 0, or
/// `ERANGE` when the text does not fit (then `buf` holds what does).
pub(crate) fn strerror_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = crate::vmstr::len_arg(a[2]);
    let text = message(int_arg(a[0]));
    if n == 0 {
        return Ok(int_ret(libc::ERANGE));
    }
    cx.check("strerror_r", a[1], n)?;
    let fits = text.len() < n;
    let k = text.len().min(n - 1);
    let out = mem.slice_mut(a[1], k + 1)?;
    out[..k].copy_from_slice(&text.as_bytes()[..k]);
    out[k] = 0;
    Ok(if fits { 0 } else { int_ret(libc::ERANGE) })
}
