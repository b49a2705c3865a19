//! The parsing core of `strtod`, `strtof`, `atof` and `nan` (C11 7.22.1.3),
//! as glibc does it in the C locale: leading white space, a sign, then a
//! decimal number with an optional exponent, a hexadecimal number
//! (`0x1.8p3`), `inf`/`infinity`, or `nan` with an optional
//! `(n-char-sequence)` that glibc reads as the NaN's payload.
//!
//! Decimal numbers are rounded correctly by Rust's parser (so is glibc's);
//! hexadecimal ones by [`round_binary`], to nearest, ties to even, with
//! subnormals and overflow to infinity.

/// One of the two binary formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    F64,
    F32,
}

impl Format {
    /// Stored mantissa bits.
    fn mant_bits(self) -> u32 {
        match self {
            Format::F64 => 52,
            Format::F32 => 23,
        }
    }

    /// The exponent of the least significant bit of the smallest subnormal.
    fn min_lsb_exp(self) -> i64 {
        match self {
            Format::F64 => -1074,
            Format::F32 => -149,
        }
    }

    fn inf(self) -> u64 {
        match self {
            Format::F64 => 0x7ff0_0000_0000_0000,
            Format::F32 => 0x7f80_0000,
        }
    }

    fn sign(self) -> u64 {
        match self {
            Format::F64 => 1 << 63,
            Format::F32 => 1 << 31,
        }
    }

    /// The quiet NaN glibc's `NAN` is, with `payload` in the bits below the
    /// quiet bit (as glibc's `SET_NAN_PAYLOAD`).
    fn nan(self, payload: u64) -> u64 {
        let quiet = 1 << (self.mant_bits() - 1);
        self.inf() | quiet | (payload & (quiet - 1))
    }
}

/// What was parsed: the value's bits and how many bytes it took (0 when
/// the string holds no number: `*endptr` is then the string itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedFloat {
    pub bits: u64,
    pub end: usize,
    /// glibc sets `errno = ERANGE`: a finite number overflowed to
    /// infinity, or the result is tiny (zero or subnormal) and inexact.
    pub range_error: bool,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn starts_with_ignore_case(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// Parses `s` as `strtod` (`Format::F64`) or `strtof` (`Format::F32`).
pub(crate) fn parse(s: &[u8], format: Format) -> ParsedFloat {
    let mut i = 0;
    while s.get(i).copied().is_some_and(is_c_space) {
        i += 1;
    }
    let mut negative = false;
    if let Some(&c @ (b'+' | b'-')) = s.get(i) {
        negative = c == b'-';
        i += 1;
    }
    let rest = &s[i..];
    let mut inexact = false;
    let (bits, len) = if starts_with_ignore_case(rest, b"inf") {
        let len = if starts_with_ignore_case(rest, b"infinity") {
            8
        } else {
            3
        };
        (format.inf(), len)
    } else if starts_with_ignore_case(rest, b"nan") {
        nan_with_sequence(rest, format)
    } else if let Some((bits, len, lost)) = hex(rest, format) {
        inexact = lost;
        (bits, len)
    } else if let Some((bits, len, lost)) = decimal(rest, format) {
        inexact = lost;
        (bits, len)
    } else {
        return ParsedFloat {
            bits: 0,
            end: 0,
            range_error: false,
        };
    };
    let sign = if negative { format.sign() } else { 0 };
    let numeric = !starts_with_ignore_case(rest, b"inf") && !starts_with_ignore_case(rest, b"nan");
    let tiny = bits < (1 << format.mant_bits());
    ParsedFloat {
        bits: bits | sign,
        end: i + len,
        range_error: numeric && (bits == format.inf() || (tiny && inexact)),
    }
}

/// `nan` or `nan(n-char-sequence)` at the start of `s`.
fn nan_with_sequence(s: &[u8], format: Format) -> (u64, usize) {
    if s.get(3) == Some(&b'(') {
        let (bits, len) = nan_payload(&s[4..], format);
        if s.get(4 + len) == Some(&b')') {
            return (bits, 4 + len + 1);
        }
    }
    (format.nan(0), 3)
}

/// glibc's `strtod_nan`: the NaN an n-char-sequence names, and the length
/// of the sequence (letters, digits and `_`). When the whole sequence is a
/// number as `strtoull(.., 0)` reads it, that number is the payload.
pub(crate) fn nan_payload(s: &[u8], format: Format) -> (u64, usize) {
    let len = s
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
        .unwrap_or(s.len());
    let seq = &s[..len];
    let payload = crate::strconv::parse(seq, 0)
        .filter(|p| p.end == len && !p.negative)
        .map(|p| p.magnitude);
    // An empty sequence is the number 0 to glibc (endptr == end).
    let payload = if len == 0 { Some(0) } else { payload };
    (format.nan(payload.unwrap_or(0)), len)
}

fn hex_digit(c: u8) -> Option<u64> {
    (c as char).to_digit(16).map(u64::from)
}

/// A decimal exponent `[eEpP][+-]?digits` at `s[i]` (the letter already
/// matched): its value (saturated) and the index after it, or `None` when
/// no digit follows (the letter is then not part of the number).
fn exponent(s: &[u8], mut i: usize) -> Option<(i64, usize)> {
    i += 1;
    let mut negative = false;
    if let Some(&c @ (b'+' | b'-')) = s.get(i) {
        negative = c == b'-';
        i += 1;
    }
    let start = i;
    let mut e: i64 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        e = (e * 10 + i64::from(d - b'0')).min(1 << 40);
        i += 1;
    }
    (i > start).then_some((if negative { -e } else { e }, i))
}

/// A hexadecimal number (`0x` with at least one hex digit) at the start of
/// `s`: bits, length, and whether the value was rounded.
fn hex(s: &[u8], format: Format) -> Option<(u64, usize, bool)> {
    if !(s.first() == Some(&b'0') && matches!(s.get(1), Some(b'x' | b'X'))) {
        return None;
    }
    let mut i = 2;
    let mut mant: u64 = 0;
    let mut exp2: i64 = 0;
    let mut sticky = false;
    let mut digits = 0;
    let mut seen_point = false;
    loop {
        match s.get(i) {
            Some(b'.') if !seen_point => seen_point = true,
            Some(&c) if hex_digit(c).is_some() => {
                let d = hex_digit(c).unwrap_or(0);
                digits += 1;
                if mant >> 60 == 0 {
                    mant = mant << 4 | d;
                    if seen_point {
                        exp2 -= 4;
                    }
                } else {
                    sticky |= d != 0;
                    if !seen_point {
                        exp2 += 4;
                    }
                }
            }
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        // "0x" without digits: the number is the "0", the x is not taken.
        return None;
    }
    if let Some(&(b'p' | b'P')) = s.get(i) {
        if let Some((e, j)) = exponent(s, i) {
            exp2 = exp2.saturating_add(e);
            i = j;
        }
    }
    let bits = round_binary(mant, sticky, exp2, format);
    Some((bits, i, !is_exact_binary(bits, mant, sticky, exp2, format)))
}

/// True if `bits` is exactly `mant × 2^exp2` (and nothing was `sticky`).
fn is_exact_binary(bits: u64, mant: u64, sticky: bool, exp2: i64, format: Format) -> bool {
    if sticky || bits >= format.inf() {
        return mant == 0 && !sticky;
    }
    if mant == 0 {
        return bits == 0;
    }
    // The value of `bits`: m × 2^e.
    let mb = format.mant_bits();
    let biased = (bits >> mb) as i64;
    let frac = bits & ((1 << mb) - 1);
    let (m, e) = if biased == 0 {
        (frac, format.min_lsb_exp())
    } else {
        (frac | 1 << mb, format.min_lsb_exp() + biased - 1)
    };
    if m == 0 {
        return false;
    }
    // Compare m × 2^e with mant × 2^exp2, both reduced to odd mantissas.
    let (tm, te) = (m >> m.trailing_zeros(), e + i64::from(m.trailing_zeros()));
    let (um, ue) = (
        mant >> mant.trailing_zeros(),
        exp2 + i64::from(mant.trailing_zeros()),
    );
    tm == um && te == ue
}

/// The bits of `mant × 2^exp2` (plus a little more when `sticky`), rounded
/// to nearest, ties to even.
pub(crate) fn round_binary(mant: u64, sticky: bool, exp2: i64, format: Format) -> u64 {
    if mant == 0 {
        return 0;
    }
    let mant_bits = i64::from(format.mant_bits());
    let top = exp2 + 63 - i64::from(mant.leading_zeros());
    if top > max_exp(format) {
        return format.inf();
    }
    // The weight of the last bit kept: a normal number keeps mant_bits + 1
    // bits, a subnormal one stops at the smallest subnormal.
    let lsb = (top - mant_bits).max(format.min_lsb_exp());
    let shift = lsb - exp2;
    let kept = if shift <= 0 {
        mant << (-shift)
    } else if shift > 64 {
        0
    } else {
        let m = u128::from(mant);
        let kept = (m >> shift) as u64;
        let rem = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        kept + u64::from(up)
    };
    // Normal or subnormal, a carry into the next binade included.
    let bits = (((lsb - format.min_lsb_exp()) as u64) << mant_bits) + kept;
    bits.min(format.inf())
}

/// The exponent of the largest finite binade.
fn max_exp(format: Format) -> i64 {
    match format {
        Format::F64 => 1023,
        Format::F32 => 127,
    }
}

/// A decimal number at the start of `s`, rounded by Rust's parser: bits,
/// length, and (for tiny results, the only ones that need it) whether the
/// value was rounded.
fn decimal(s: &[u8], format: Format) -> Option<(u64, usize, bool)> {
    let mut i = 0;
    let mut digits = 0;
    let mut seen_point = false;
    loop {
        match s.get(i) {
            Some(b'.') if !seen_point => seen_point = true,
            Some(c) if c.is_ascii_digit() => digits += 1,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    let mantissa = &s[..i];
    let mut text = String::from_utf8_lossy(mantissa).into_owned();
    let mut exp10 = 0;
    if let Some(&(b'e' | b'E')) = s.get(i) {
        if let Some((e, j)) = exponent(s, i) {
            text.push_str(&format!("e{e}"));
            exp10 = e;
            i = j;
        }
    }
    let (bits, value) = match format {
        Format::F64 => {
            let v = text.parse::<f64>().ok()?;
            (v.to_bits(), v)
        }
        Format::F32 => {
            let v = text.parse::<f32>().ok()?;
            (u64::from(v.to_bits()), f64::from(v))
        }
    };
    let tiny = bits < (1 << format.mant_bits());
    let inexact = tiny && {
        let digits: Vec<u8> = mantissa
            .iter()
            .filter(|c| c.is_ascii_digit())
            .map(|c| c - b'0')
            .collect();
        let int_digits = mantissa.iter().take_while(|c| **c != b'.').count() as i64;
        !crate::format::Decimal::of(value).equals(&digits, int_digits + exp10)
    };
    Some((bits, i, inexact))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> (f64, usize) {
        let p = parse(s.as_bytes(), Format::F64);
        (f64::from_bits(p.bits), p.end)
    }

    #[test]
    fn decimal_forms() {
        assert_eq!(d("  -1.5e3xyz"), (-1500.0, 8));
        assert_eq!(d("1e"), (1.0, 1));
        assert_eq!(d("1e+"), (1.0, 1));
        assert_eq!(d(".5"), (0.5, 2));
        assert_eq!(d("5."), (5.0, 2));
        assert_eq!(d("."), (0.0, 0));
        assert_eq!(d("-"), (0.0, 0));
        assert_eq!(d("1e99999999999999999999"), (f64::INFINITY, 22));
        assert_eq!(d("1e-99999999999999999999"), (0.0, 23));
    }

    #[test]
    fn hex_forms() {
        assert_eq!(d("0x1.8p1"), (3.0, 7));
        assert_eq!(d("0x"), (0.0, 1));
        assert_eq!(d("0x.p1"), (0.0, 1));
        assert_eq!(d("0x.8"), (0.5, 4));
        assert_eq!(d("0x1p"), (1.0, 3));
        assert_eq!(d("0x1p-1074").0.to_bits(), 1);
        assert_eq!(d("0x1p-1075").0.to_bits(), 0);
        assert_eq!(d("0x1.8p-1075").0.to_bits(), 1);
        assert_eq!(d("0x1.fffffffffffff8p1023").0, f64::INFINITY);
        assert_eq!(d("0x1.fffffffffffff7ffffp1023").0, f64::MAX);
        // Ties go to even, sticky digits far to the right break them.
        assert_eq!(d("0x1.00000000000008p0").0, 1.0);
        assert_eq!(d("0x1.000000000000080000000001p0").0, 1.0 + f64::EPSILON);
    }

    #[test]
    fn inf_and_nan() {
        assert_eq!(d("-Infinity!"), (f64::NEG_INFINITY, 9));
        assert_eq!(d("infinit"), (f64::INFINITY, 3));
        let p = parse(b"nan(0x5)", Format::F64);
        assert_eq!((p.bits, p.end), (0x7ff8_0000_0000_0005, 8));
        let p = parse(b"-nan(abc", Format::F64);
        assert_eq!((p.bits, p.end), (0xfff8_0000_0000_0000, 4));
        let p = parse(b"nan(12)", Format::F32);
        assert_eq!(p.bits, 0x7fc0_000c);
    }
}
