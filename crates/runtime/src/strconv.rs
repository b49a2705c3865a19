//! The parsing core of `strtol`, `strtoul` and friends (C11 7.22.1.4, as
//! glibc does it in the C locale).

/// What `strto*` found in a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// A leading `-` was seen.
    pub negative: bool,
    /// The magnitude of the digits, saturated at `u64::MAX`.
    pub magnitude: u64,
    /// The magnitude did not fit in 64 bits.
    pub overflow: bool,
    /// Bytes consumed (where `*endptr` points); 0 when no number was found.
    pub end: usize,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn digit_value(b: u8) -> Option<u32> {
    (b as char).to_digit(36)
}

/// Parses `s` in `base` (0 or 2..=36); `None` for an invalid base (glibc
/// then returns 0 and leaves `*endptr` alone).
pub(crate) fn parse(s: &[u8], base: i32) -> Option<Parsed> {
    if base < 0 || base == 1 || base > 36 {
        return None;
    }
    let mut i = 0;
    while s.get(i).copied().is_some_and(is_c_space) {
        i += 1;
    }
    let mut negative = false;
    if let Some(&c @ (b'+' | b'-')) = s.get(i) {
        negative = c == b'-';
        i += 1;
    }
    let mut base = base as u32;
    let has_hex_prefix = s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2)
            .and_then(|c| digit_value(*c))
            .is_some_and(|d| d < 16);
    if (base == 0 || base == 16) && has_hex_prefix {
        i += 2;
        base = 16;
    } else if base == 0 {
        base = if s.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let digits_start = i;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|c| digit_value(*c)).filter(|d| *d < base) {
        match magnitude
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return Some(Parsed {
            negative: false,
            magnitude: 0,
            overflow: false,
            end: 0,
        });
    }
    if overflow {
        magnitude = u64::MAX;
    }
    Some(Parsed {
        negative,
        magnitude,
        overflow,
        end: i,
    })
}

/// `strtol`'s value: clamped to `i64::MIN..=i64::MAX`.
pub(crate) fn to_signed(p: Parsed) -> i64 {
    if p.negative {
        if p.overflow || p.magnitude > i64::MIN.unsigned_abs() {
            i64::MIN
        } else {
            (p.magnitude as i64).wrapping_neg()
        }
    } else if p.overflow || p.magnitude > i64::MAX as u64 {
        i64::MAX
    } else {
        p.magnitude as i64
    }
}

/// True when `strtol` clamps (and glibc sets `errno = ERANGE`).
pub(crate) fn signed_overflows(p: Parsed) -> bool {
    p.overflow
        || if p.negative {
            p.magnitude > i64::MIN.unsigned_abs()
        } else {
            p.magnitude > i64::MAX as u64
        }
}

/// `strtoul`'s value: `u64::MAX` on overflow, negated (mod 2^64) after a `-`.
pub(crate) fn to_unsigned(p: Parsed) -> u64 {
    if p.overflow {
        u64::MAX
    } else if p.negative {
        p.magnitude.wrapping_neg()
    } else {
        p.magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sl(s: &str, base: i32) -> (i64, usize) {
        let p = parse(s.as_bytes(), base).unwrap();
        (to_signed(p), p.end)
    }

    #[test]
    fn c_standard_examples() {
        assert_eq!(sl("  -42xyz", 10), (-42, 5));
        assert_eq!(sl("0x1f", 0), (31, 4));
        assert_eq!(sl("0x", 0), (0, 1));
        assert_eq!(sl("017", 0), (15, 3));
        assert_eq!(sl("zz", 36), (35 * 36 + 35, 2));
        assert_eq!(sl("abc", 10), (0, 0));
        assert_eq!(sl("-", 10), (0, 0));
        assert_eq!(sl("99999999999999999999", 10), (i64::MAX, 20));
        assert_eq!(sl("-9223372036854775808", 10), (i64::MIN, 20));
        assert!(parse(b"1", 1).is_none());
        assert!(parse(b"1", 37).is_none());
    }
}
