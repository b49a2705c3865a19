//! `<string.h>`: memory and string functions on VM memory.
//!
//! Every byte C says a function reads or writes is checked: against the VM's
//! regions, and, for heap pointers, against the bounds of the block (so
//! `memset(malloc(10), 0, 16)` is a fault, as is touching a freed block).
//! A count of 0 touches nothing, so `memcpy(NULL, NULL, 0)` is allowed (as
//! C2y says).
//! Copies between overlapping ranges, undefined in C, are faults that name
//! the call (use `memmove`).

use crate::ctx::Ctx;
use crate::vmstr::{int_ret, len_arg, overlaps};
use bpf_vm::{HelperError, MemError, Memory};

/// Bytes scanned per step by `memchr`, so a match ends the scan early.
const SCAN_CHUNK: usize = 4096;

fn overlap_fault(call: String) -> HelperError {
    HelperError::Fault(format!(
        "{call}: the source and destination overlap (use memmove for overlapping copies)"
    ))
}

/// The C result of comparing two bytes: their difference as unsigned chars.
fn byte_diff(a: u8, b: u8) -> u64 {
    int_ret(i32::from(a) - i32::from(b))
}

/// Copies `n` bytes from `src` to `dst`; `check_overlap` names the call
/// for which overlap is a fault.
fn copy(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    dst: u64,
    src: u64,
    n: usize,
    allow_overlap: bool,
) -> Result<u64, HelperError> {
    if n == 0 {
        return Ok(dst);
    }
    cx.check(func, src, n)?;
    cx.check(func, dst, n)?;
    let bytes = mem.read_bytes(src, n)?;
    mem.slice_mut(dst, n)?;
    if !allow_overlap && overlaps(dst, n, src, n) {
        return Err(overlap_fault(format!("{func}({dst:#x}, {src:#x}, {n})")));
    }
    mem.write_bytes(dst, &bytes)?;
    Ok(dst)
}

/// `void *memcpy(void *dst, const void *src, size_t n)`.
pub(crate) fn memcpy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    copy(cx, "memcpy", mem, a[0], a[1], len_arg(a[2]), false)
}

/// `void *memmove(void *dst, const void *src, size_t n)`.
pub(crate) fn memmove(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    copy(cx, "memmove", mem, a[0], a[1], len_arg(a[2]), true)
}

/// `void *memset(void *dst, int c, size_t n)`.
pub(crate) fn memset(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n > 0 {
        cx.check("memset", a[0], n)?;
        mem.slice_mut(a[0], n)?.fill(a[1] as u8);
    }
    Ok(a[0])
}

/// `int memcmp(const void *a, const void *b, size_t n)`.
pub(crate) fn memcmp(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n == 0 {
        return Ok(0);
    }
    cx.check("memcmp", a[0], n)?;
    cx.check("memcmp", a[1], n)?;
    let (x, y) = (mem.slice(a[0], n)?, mem.slice(a[1], n)?);
    Ok(x.iter()
        .zip(y)
        .find(|(p, q)| p != q)
        .map_or(0, |(p, q)| byte_diff(*p, *q)))
}

/// The index of the first byte in `addr..addr+n` equal to `c`, reading no
/// further than the match (C11 7.24.5.1).
fn scan(mem: &Memory, addr: u64, n: usize, c: u8) -> Result<Option<usize>, MemError> {
    let mut done = 0;
    while done < n {
        let len = (n - done).min(SCAN_CHUNK);
        let at = addr.wrapping_add(done as u64);
        let found = match mem.slice(at, len) {
            Ok(chunk) => chunk.iter().position(|b| *b == c),
            // Part of this chunk is unreadable: go byte by byte to the first bad one.
            Err(_) => {
                for i in 0..len {
                    if mem.slice(at + i as u64, 1)?[0] == c {
                        return Ok(Some(done + i));
                    }
                }
                None
            }
        };
        if let Some(i) = found {
            return Ok(Some(done + i));
        }
        done += len;
    }
    Ok(None)
}

/// `void *memchr(const void *s, int c, size_t n)`.
pub(crate) fn memchr(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    let found = scan(mem, a[0], n, a[1] as u8)?;
    cx.check("memchr", a[0], found.map_or(n, |i| i + 1))?;
    Ok(found.map_or(0, |i| a[0] + i as u64))
}

/// `size_t strlen(const char *s)`.
pub(crate) fn strlen(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(cx.string("strlen", mem, a[0])?.len() as u64)
}

/// `size_t strnlen(const char *s, size_t n)`.
pub(crate) fn strnlen(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(cx.prefix("strnlen", mem, a[0], len_arg(a[1]))?.len() as u64)
}

/// Compares two strings as C does, up to `n` bytes (the NUL counts as 0).
/// Returns the result and how many bytes of each string C examined.
fn compare(x: &[u8], y: &[u8], n: usize) -> (u64, usize) {
    for i in 0..n {
        let (p, q) = (
            x.get(i).copied().unwrap_or(0),
            y.get(i).copied().unwrap_or(0),
        );
        if p != q {
            return (byte_diff(p, q), i + 1);
        }
        if p == 0 {
            return (0, i + 1);
        }
    }
    (0, n)
}

/// `int strcmp(const char *a, const char *b)`.
pub(crate) fn strcmp(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (x, y) = (cx.cstr("strcmp", mem, a[0])?, cx.cstr("strcmp", mem, a[1])?);
    let (r, examined) = compare(x, y, usize::MAX);
    cx.check("strcmp", a[0], examined)?;
    cx.check("strcmp", a[1], examined)?;
    Ok(r)
}

/// `int strncmp(const char *a, const char *b, size_t n)`.
pub(crate) fn strncmp(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n == 0 {
        return Ok(0);
    }
    let (x, y) = (
        cx.cstr_prefix("strncmp", mem, a[0], n)?,
        cx.cstr_prefix("strncmp", mem, a[1], n)?,
    );
    let (r, examined) = compare(x, y, n);
    cx.check("strncmp", a[0], examined)?;
    cx.check("strncmp", a[1], examined)?;
    Ok(r)
}

/// `char *strcpy(char *dst, const char *src)`.
pub(crate) fn strcpy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src) = (a[0], a[1]);
    let mut bytes = cx.string("strcpy", mem, src)?.to_vec();
    bytes.push(0);
    cx.check("strcpy", dst, bytes.len())?;
    mem.slice_mut(dst, bytes.len())?;
    if overlaps(dst, bytes.len(), src, bytes.len()) {
        return Err(overlap_fault(format!("strcpy({dst:#x}, {src:#x})")));
    }
    mem.write_bytes(dst, &bytes)?;
    Ok(dst)
}

/// `char *strncpy(char *dst, const char *src, size_t n)`: writes exactly
/// `n` bytes, padding with NULs.
pub(crate) fn strncpy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src, n) = (a[0], a[1], len_arg(a[2]));
    if n == 0 {
        return Ok(dst);
    }
    let bytes = cx.prefix("strncpy", mem, src, n)?.to_vec();
    cx.check("strncpy", dst, n)?;
    mem.slice_mut(dst, n)?;
    let read = (bytes.len() + 1).min(n);
    if overlaps(dst, n, src, read) {
        return Err(overlap_fault(format!("strncpy({dst:#x}, {src:#x}, {n})")));
    }
    let out = mem.slice_mut(dst, n)?;
    out[..bytes.len()].copy_from_slice(&bytes);
    out[bytes.len()..].fill(0);
    Ok(dst)
}

/// `char *strcat(char *dst, const char *src)`.
pub(crate) fn strcat(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src) = (a[0], a[1]);
    let start = cx.string("strcat", mem, dst)?.len();
    let mut bytes = cx.string("strcat", mem, src)?.to_vec();
    bytes.push(0);
    cx.check("strcat", dst, start + bytes.len())?;
    mem.slice_mut(dst + start as u64, bytes.len())?;
    if overlaps(dst, start + bytes.len(), src, bytes.len()) {
        return Err(overlap_fault(format!("strcat({dst:#x}, {src:#x})")));
    }
    mem.write_bytes(dst + start as u64, &bytes)?;
    Ok(dst)
}

/// `char *strchr(const char *s, int c)`; `c == 0` finds the terminator.
pub(crate) fn strchr(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let s = cx.cstr("strchr", mem, a[0])?;
    let c = a[1] as u8;
    let at = if c == 0 {
        Some(s.len())
    } else {
        s.iter().position(|b| *b == c)
    };
    cx.check("strchr", a[0], at.unwrap_or(s.len()) + 1)?;
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `char *strrchr(const char *s, int c)`.
pub(crate) fn strrchr(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let s = cx.string("strrchr", mem, a[0])?;
    let c = a[1] as u8;
    let at = if c == 0 {
        Some(s.len())
    } else {
        s.iter().rposition(|b| *b == c)
    };
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `char *strstr(const char *haystack, const char *needle)`.
pub(crate) fn strstr(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (h, n) = (
        cx.string("strstr", mem, a[0])?,
        cx.string("strstr", mem, a[1])?,
    );
    let at = if n.is_empty() {
        Some(0)
    } else {
        h.windows(n.len()).position(|w| w == n)
    };
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `char *strdup(const char *s)`: a copy on the heap, or NULL.
pub(crate) fn strdup(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut bytes = cx.string("strdup", mem, a[0])?.to_vec();
    bytes.push(0);
    let p = cx.state.borrow_mut().heap.malloc(mem, bytes.len())?;
    if p != 0 {
        mem.write_bytes(p, &bytes)?;
    }
    Ok(p)
}

/// `char *strncat(char *dst, const char *src, size_t n)`: at most `n`
/// bytes of `src`, then a NUL.
pub(crate) fn strncat(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src, n) = (a[0], a[1], len_arg(a[2]));
    let start = cx.string("strncat", mem, dst)?.len();
    let mut bytes = cx.prefix("strncat", mem, src, n)?.to_vec();
    let read = (bytes.len() + 1).min(n);
    bytes.push(0);
    cx.check("strncat", dst, start + bytes.len())?;
    mem.slice_mut(dst + start as u64, bytes.len())?;
    if overlaps(dst, start + bytes.len(), src, read) {
        return Err(overlap_fault(format!("strncat({dst:#x}, {src:#x}, {n})")));
    }
    mem.write_bytes(dst + start as u64, &bytes)?;
    Ok(dst)
}

/// `char *strndup(const char *s, size_t n)`.
pub(crate) fn strndup(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut bytes = cx.prefix("strndup", mem, a[0], len_arg(a[1]))?.to_vec();
    bytes.push(0);
    let p = cx.state.borrow_mut().heap.malloc(mem, bytes.len())?;
    if p != 0 {
        mem.write_bytes(p, &bytes)?;
    }
    Ok(p)
}

/// `char *stpcpy(char *dst, const char *src)`: like `strcpy`, returning
/// the address of the copied NUL.
pub(crate) fn stpcpy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = cx.string("stpcpy", mem, a[1])?.len();
    strcpy(cx, mem, a)?;
    Ok(a[0] + n as u64)
}

/// Compares ignoring ASCII case (the C locale), up to `n` bytes.
fn case_compare(x: &[u8], y: &[u8], n: usize) -> (u64, usize) {
    let lower = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0).to_ascii_lowercase();
    for i in 0..n {
        let (p, q) = (lower(x, i), lower(y, i));
        if p != q {
            return (byte_diff(p, q), i + 1);
        }
        if p == 0 {
            return (0, i + 1);
        }
    }
    (0, n)
}

/// `int strcasecmp(const char *a, const char *b)` (`<strings.h>`).
pub(crate) fn strcasecmp(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let f = "strcasecmp";
    let (x, y) = (cx.cstr(f, mem, a[0])?, cx.cstr(f, mem, a[1])?);
    let (r, examined) = case_compare(x, y, usize::MAX);
    cx.check(f, a[0], examined)?;
    cx.check(f, a[1], examined)?;
    Ok(r)
}

/// `int strncasecmp(const char *a, const char *b, size_t n)`.
pub(crate) fn strncasecmp(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (f, n) = ("strncasecmp", len_arg(a[2]));
    if n == 0 {
        return Ok(0);
    }
    let (x, y) = (
        cx.cstr_prefix(f, mem, a[0], n)?,
        cx.cstr_prefix(f, mem, a[1], n)?,
    );
    let (r, examined) = case_compare(x, y, n);
    cx.check(f, a[0], examined)?;
    cx.check(f, a[1], examined)?;
    Ok(r)
}

/// `size_t strxfrm(char *dst, const char *src, size_t n)`: in the C
/// locale, a copy (when it fits) and the length.
pub(crate) fn strxfrm(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, n) = (a[0], len_arg(a[2]));
    let src = cx.string("strxfrm", mem, a[1])?.to_vec();
    if src.len() < n {
        let mut bytes = src.clone();
        bytes.push(0);
        cx.check("strxfrm", dst, bytes.len())?;
        mem.write_bytes(dst, &bytes)?;
    }
    Ok(src.len() as u64)
}

/// `void *memccpy(void *dst, const void *src, int c, size_t n)`: copies up
/// to and including the first `c`; the byte after it in `dst`, or NULL.
pub(crate) fn memccpy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src, c, n) = (a[0], a[1], a[2] as u8, len_arg(a[3]));
    let found = scan(mem, src, n, c)?;
    let len = found.map_or(n, |i| i + 1);
    copy(cx, "memccpy", mem, dst, src, len, false)?;
    Ok(found.map_or(0, |i| dst + i as u64 + 1))
}

/// `void *memrchr(const void *s, int c, size_t n)` (GNU).
pub(crate) fn memrchr(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n == 0 {
        return Ok(0);
    }
    cx.check("memrchr", a[0], n)?;
    let at = mem.slice(a[0], n)?.iter().rposition(|b| *b == a[1] as u8);
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `void bzero(void *s, size_t n)` (`<strings.h>`).
pub(crate) fn bzero(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    memset(cx, mem, [a[0], 0, a[1], 0, 0])?;
    Ok(0)
}

/// `void bcopy(const void *src, void *dst, size_t n)` (`<strings.h>`): memmove.
pub(crate) fn bcopy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    copy(cx, "bcopy", mem, a[1], a[0], len_arg(a[2]), true)?;
    Ok(0)
}
