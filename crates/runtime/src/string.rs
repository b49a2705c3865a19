//! `<string.h>`: memory and string functions on VM memory.
//!
//! Every byte C says a function reads or writes is checked. A count of 0
//! touches nothing, so `memcpy(NULL, NULL, 0)` is allowed (as C2y says).
//! Copies between overlapping ranges, undefined in C, are faults that name
//! the call (use `memmove`).

use crate::runtime::Ctx;
use crate::vmstr::{cstr, cstr_prefix, int_ret, len_arg, overlaps};
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
    mem: &mut Memory,
    dst: u64,
    src: u64,
    n: usize,
    check_overlap: Option<&str>,
) -> Result<u64, HelperError> {
    if n == 0 {
        return Ok(dst);
    }
    let bytes = mem.read_bytes(src, n)?;
    if let Some(func) = check_overlap {
        if overlaps(dst, n, src, n) {
            return Err(overlap_fault(format!("{func}({dst:#x}, {src:#x}, {n})")));
        }
    }
    mem.write_bytes(dst, &bytes)?;
    Ok(dst)
}

/// `void *memcpy(void *dst, const void *src, size_t n)`.
pub(crate) fn memcpy(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    copy(mem, a[0], a[1], len_arg(a[2]), Some("memcpy"))
}

/// `void *memmove(void *dst, const void *src, size_t n)`.
pub(crate) fn memmove(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    copy(mem, a[0], a[1], len_arg(a[2]), None)
}

/// `void *memset(void *dst, int c, size_t n)`.
pub(crate) fn memset(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n > 0 {
        mem.slice_mut(a[0], n)?.fill(a[1] as u8);
    }
    Ok(a[0])
}

/// `int memcmp(const void *a, const void *b, size_t n)`.
pub(crate) fn memcmp(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n == 0 {
        return Ok(0);
    }
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
pub(crate) fn memchr(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(scan(mem, a[0], len_arg(a[2]), a[1] as u8)?.map_or(0, |i| a[0] + i as u64))
}

/// `size_t strlen(const char *s)`.
pub(crate) fn strlen(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(cstr(mem, a[0])?.len() as u64)
}

/// `size_t strnlen(const char *s, size_t n)`.
pub(crate) fn strnlen(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(cstr_prefix(mem, a[0], len_arg(a[1]))?.len() as u64)
}

/// Compares two strings as C does, up to `n` bytes (the NUL counts as 0).
fn compare(x: &[u8], y: &[u8], n: usize) -> u64 {
    for i in 0..n {
        let (p, q) = (
            x.get(i).copied().unwrap_or(0),
            y.get(i).copied().unwrap_or(0),
        );
        if p != q {
            return byte_diff(p, q);
        }
        if p == 0 {
            break;
        }
    }
    0
}

/// `int strcmp(const char *a, const char *b)`.
pub(crate) fn strcmp(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (x, y) = (cstr(mem, a[0])?, cstr(mem, a[1])?);
    Ok(compare(x, y, x.len().max(y.len()) + 1))
}

/// `int strncmp(const char *a, const char *b, size_t n)`.
pub(crate) fn strncmp(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if n == 0 {
        return Ok(0);
    }
    let (x, y) = (cstr_prefix(mem, a[0], n)?, cstr_prefix(mem, a[1], n)?);
    Ok(compare(x, y, n.min(x.len().max(y.len()) + 1)))
}

/// `char *strcpy(char *dst, const char *src)`.
pub(crate) fn strcpy(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src) = (a[0], a[1]);
    let mut bytes = cstr(mem, src)?.to_vec();
    bytes.push(0);
    if overlaps(dst, bytes.len(), src, bytes.len()) {
        return Err(overlap_fault(format!("strcpy({dst:#x}, {src:#x})")));
    }
    mem.write_bytes(dst, &bytes)?;
    Ok(dst)
}

/// `char *strncpy(char *dst, const char *src, size_t n)`: writes exactly
/// `n` bytes, padding with NULs.
pub(crate) fn strncpy(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src, n) = (a[0], a[1], len_arg(a[2]));
    if n == 0 {
        return Ok(dst);
    }
    let bytes = cstr_prefix(mem, src, n)?.to_vec();
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
pub(crate) fn strcat(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (dst, src) = (a[0], a[1]);
    let start = cstr(mem, dst)?.len();
    let mut bytes = cstr(mem, src)?.to_vec();
    bytes.push(0);
    if overlaps(dst, start + bytes.len(), src, bytes.len()) {
        return Err(overlap_fault(format!("strcat({dst:#x}, {src:#x})")));
    }
    mem.write_bytes(dst + start as u64, &bytes)?;
    Ok(dst)
}

/// `char *strchr(const char *s, int c)`; `c == 0` finds the terminator.
pub(crate) fn strchr(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let s = cstr(mem, a[0])?;
    let c = a[1] as u8;
    let at = if c == 0 {
        Some(s.len())
    } else {
        s.iter().position(|b| *b == c)
    };
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `char *strrchr(const char *s, int c)`.
pub(crate) fn strrchr(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let s = cstr(mem, a[0])?;
    let c = a[1] as u8;
    let at = if c == 0 {
        Some(s.len())
    } else {
        s.iter().rposition(|b| *b == c)
    };
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `char *strstr(const char *haystack, const char *needle)`.
pub(crate) fn strstr(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (h, n) = (cstr(mem, a[0])?, cstr(mem, a[1])?);
    let at = if n.is_empty() {
        Some(0)
    } else {
        h.windows(n.len()).position(|w| w == n)
    };
    Ok(at.map_or(0, |i| a[0] + i as u64))
}

/// `char *strdup(const char *s)`: a copy on the heap, or NULL.
pub(crate) fn strdup(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut bytes = cstr(mem, a[0])?.to_vec();
    bytes.push(0);
    let p = cx.state.borrow_mut().heap.malloc(mem, bytes.len())?;
    if p != 0 {
        mem.write_bytes(p, &bytes)?;
    }
    Ok(p)
}
