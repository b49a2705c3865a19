//! Checked reads of C strings and ranges in VM memory, shared by the helpers.

use bpf_vm::memory::MAX_REGION_SIZE;
use bpf_vm::{HelperError, MemError, Memory};

/// A NUL-terminated string at `addr`, without its NUL. Running off the end
/// of the string's region is an error naming the first unreadable byte.
pub(crate) fn cstr(mem: &Memory, addr: u64) -> Result<&[u8], MemError> {
    mem.read_cstr(addr, MAX_REGION_SIZE)
}

/// The bytes of the string at `addr` up to its NUL or `max` bytes, whichever
/// comes first (what `strncmp`, `strncpy` and `%.Ns` look at). Only bytes
/// that C would read must be accessible.
pub(crate) fn cstr_prefix(mem: &Memory, addr: u64, max: usize) -> Result<&[u8], MemError> {
    match mem.read_cstr(addr, max) {
        Ok(s) => Ok(s),
        // No NUL among the first `max` bytes: they are the prefix, if readable.
        Err(e) => mem.slice(addr, max).map_err(|_| e),
    }
}

/// Turns a failed string read that started at `addr` into the most useful
/// error: when `check` (the heap's block bounds) objects to the bytes read
/// up to the failure, that fault says more than "past the end of the region".
pub(crate) fn explain(
    e: MemError,
    addr: u64,
    check: impl Fn(u64, usize) -> Result<(), HelperError>,
) -> HelperError {
    if e.addr >= addr {
        if let Err(fault) = check(addr, len_arg(e.addr - addr).saturating_add(1)) {
            return fault;
        }
    }
    HelperError::Memory(e)
}

/// A string argument for a message: lossy text, or `?` when unreadable.
pub(crate) fn text_or_placeholder(mem: &Memory, addr: u64) -> String {
    match cstr(mem, addr) {
        Ok(s) => String::from_utf8_lossy(s).into_owned(),
        Err(_) => "?".to_string(),
    }
}

/// True if `[a, a+alen)` and `[b, b+blen)` share a byte.
pub(crate) fn overlaps(a: u64, alen: usize, b: u64, blen: usize) -> bool {
    alen > 0 && blen > 0 && a < b.saturating_add(blen as u64) && b < a.saturating_add(alen as u64)
}

/// A C `size_t` argument as a host length.
pub(crate) fn len_arg(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// A C `int` argument: the low 32 bits, sign-extended.
pub(crate) fn int_arg(v: u64) -> i32 {
    v as u32 as i32
}

/// A C `int` result as a register value (sign-extended to 64 bits).
pub(crate) fn int_ret(v: i32) -> u64 {
    v as i64 as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::RegionKind;

    #[test]
    fn prefix_needs_only_the_bytes_read() {
        let mut m = Memory::new();
        let a = m.alloc(RegionKind::Data, 3, 1).unwrap();
        m.write_bytes(a, b"abc").unwrap();
        assert_eq!(cstr_prefix(&m, a, 3).unwrap(), b"abc");
        assert_eq!(cstr_prefix(&m, a, 2).unwrap(), b"ab");
        assert!(cstr_prefix(&m, a, 4).is_err());
        assert!(cstr(&m, a).is_err());
        assert_eq!(cstr_prefix(&m, a + 3, 0).unwrap(), b"");
    }

    #[test]
    fn overlap_is_exact() {
        assert!(overlaps(10, 5, 14, 1));
        assert!(!overlaps(10, 5, 15, 1));
        assert!(!overlaps(10, 0, 10, 5));
        assert!(overlaps(u64::MAX - 1, 10, u64::MAX - 1, 1));
    }
}
