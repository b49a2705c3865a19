//! `<string.h>`'s scanning functions: `strspn`, `strcspn`, `strpbrk`, and
//! the tokenizers `strtok`, `strtok_r` and `strsep`, as glibc writes them
//! (`strtok`'s position is runtime state, restored with a snapshot).

use crate::ctx::Ctx;
use bpf_vm::{HelperError, Memory};

/// Bytes at the start of `s` that are (`accept`) or are not in `set`.
fn span(s: &[u8], set: &[u8], accept: bool) -> usize {
    s.iter()
        .position(|b| set.contains(b) != accept)
        .unwrap_or(s.len())
}

/// `size_t strspn(const char *s, const char *accept)`.
pub(crate) fn strspn(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let set = cx.string("strspn", mem, a[1])?.to_vec();
    Ok(span(cx.string("strspn", mem, a[0])?, &set, true) as u64)
}

/// `size_t strcspn(const char *s, const char *reject)`.
pub(crate) fn strcspn(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let set = cx.string("strcspn", mem, a[1])?.to_vec();
    Ok(span(cx.string("strcspn", mem, a[0])?, &set, false) as u64)
}

/// `char *strpbrk(const char *s, const char *accept)`.
pub(crate) fn strpbrk(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let set = cx.string("strpbrk", mem, a[1])?.to_vec();
    let s = cx.string("strpbrk", mem, a[0])?;
    let i = span(s, &set, false);
    Ok(if i < s.len() { a[0] + i as u64 } else { 0 })
}

/// One step of glibc's `strtok_r` from `s`: the token (or NULL) and where
/// the next call goes on.
fn token(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    s: u64,
    delim: u64,
) -> Result<(u64, u64), HelperError> {
    let set = cx.string(func, mem, delim)?.to_vec();
    let text = cx.string(func, mem, s)?;
    let start = span(text, &set, true);
    if start == text.len() {
        return Ok((0, s + start as u64));
    }
    let end = start + span(&text[start..], &set, false);
    if end == text.len() {
        return Ok((s + start as u64, s + end as u64));
    }
    let at = s + end as u64;
    cx.check(func, at, 1)?;
    mem.store(at, 1, 0)?;
    Ok((s + start as u64, at + 1))
}

/// `char *strtok(char *s, const char *delim)`.
pub(crate) fn strtok(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let s = if a[0] != 0 {
        a[0]
    } else {
        let saved = cx.state.borrow().strtok;
        if saved == 0 {
            return Err(HelperError::Fault(
                "strtok(NULL, ...): there is no string to go on with (the first call must \
                 pass the string to split)"
                    .to_string(),
            ));
        }
        saved
    };
    let (tok, next) = token(cx, "strtok", mem, s, a[1])?;
    cx.state.borrow_mut().strtok = next;
    Ok(tok)
}

/// `char *strtok_r(char *s, const char *delim, char **save)`.
pub(crate) fn strtok_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let f = "strtok_r";
    cx.check(f, a[2], 8)?;
    let s = if a[0] != 0 { a[0] } else { mem.load(a[2], 8)? };
    let (tok, next) = token(cx, f, mem, s, a[1])?;
    mem.store(a[2], 8, next)?;
    Ok(tok)
}

/// `char *strsep(char **sp, const char *delim)`.
pub(crate) fn strsep(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let f = "strsep";
    cx.check(f, a[0], 8)?;
    let begin = mem.load(a[0], 8)?;
    if begin == 0 {
        return Ok(0);
    }
    let set = cx.string(f, mem, a[1])?.to_vec();
    let text = cx.string(f, mem, begin)?;
    let end = span(text, &set, false);
    let next = if end < text.len() {
        let at = begin + end as u64;
        mem.store(at, 1, 0)?;
        at + 1
    } else {
        0
    };
    mem.store(a[0], 8, next)?;
    Ok(begin)
}
