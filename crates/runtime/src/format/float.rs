//! printf's floating-point conversions `%f %F %e %E %g %G %a %A`, digit
//! for digit what glibc prints: the exact decimal (or hexadecimal) value,
//! rounded once to nearest with ties to even, then glibc's layout of signs,
//! `inf`/`nan`, exponents, the `#` flag and padding.

use super::decimal::Decimal;
use super::Spec;

/// Appends `x` converted by `conv` (one of `fFeEgGaA`).
pub(super) fn push_float(out: &mut Vec<u8>, spec: &Spec, conv: u8, x: f64) {
    let upper = conv.is_ascii_uppercase();
    let sign: &[u8] = if x.is_sign_negative() {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    };
    if !x.is_finite() {
        let text: &[u8] = match (x.is_nan(), upper) {
            (true, false) => b"nan",
            (true, true) => b"NAN",
            (false, false) => b"inf",
            (false, true) => b"INF",
        };
        // The 0 flag does not apply: glibc pads inf and nan with spaces.
        let plain = Spec {
            zero: false,
            ..*spec
        };
        return pad(out, &plain, sign, b"", text);
    }
    let (prefix, body): (&[u8], Vec<u8>) = match conv.to_ascii_lowercase() {
        b'f' => (b"", fixed(x, spec.precision.unwrap_or(6), spec.hash)),
        b'e' => (
            b"",
            exponential(x, spec.precision.unwrap_or(6), spec.hash, upper),
        ),
        b'g' => (
            b"",
            general(x, spec.precision.unwrap_or(6), spec.hash, upper),
        ),
        _ => (
            if upper { b"0X" } else { b"0x" },
            hex(x, spec.precision, spec.hash, upper),
        ),
    };
    pad(out, spec, sign, prefix, &body);
}

/// Appends sign, prefix and body, padded to the field width: spaces on the
/// left, on the right (`-`), or zeros after the prefix (`0`).
fn pad(out: &mut Vec<u8>, spec: &Spec, sign: &[u8], prefix: &[u8], body: &[u8]) {
    let len = sign.len() + prefix.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    if spec.minus {
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
        out.resize(out.len() + fill, b' ');
    } else if spec.zero {
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.resize(out.len() + fill, b'0');
        out.extend_from_slice(body);
    } else {
        out.resize(out.len() + fill, b' ');
        out.extend_from_slice(sign);
        out.extend_from_slice(prefix);
        out.extend_from_slice(body);
    }
}

fn ascii(d: u8) -> u8 {
    b'0' + d
}

/// `%f` without sign: `precision` digits after the point.
fn fixed(x: f64, precision: usize, hash: bool) -> Vec<u8> {
    let mut d = Decimal::of(x);
    d.round(d.point().saturating_add(precision as i64));
    let mut out = Vec::with_capacity(precision + 24);
    if d.is_zero() || d.point() <= 0 {
        out.push(b'0');
    } else {
        out.extend((0..d.point()).map(|i| ascii(d.digit(i))));
    }
    if precision > 0 || hash {
        out.push(b'.');
    }
    let start = if d.is_zero() { 0 } else { d.point() };
    out.extend((0..precision as i64).map(|i| ascii(d.digit(start + i))));
    out
}

/// The digits of `%e` and the decimal exponent: `d.ddd` with `precision`
/// digits after the point.
fn exponential_parts(x: f64, precision: usize, hash: bool) -> (Vec<u8>, i64) {
    let mut d = Decimal::of(x);
    d.round(precision as i64 + 1);
    let exp = if d.is_zero() { 0 } else { d.point() - 1 };
    let mut out = Vec::with_capacity(precision + 8);
    out.push(ascii(d.digit(0)));
    if precision > 0 || hash {
        out.push(b'.');
    }
    out.extend((1..=precision as i64).map(|i| ascii(d.digit(i))));
    (out, exp)
}

/// `e+05`, `E-123`: at least two exponent digits.
fn exponent_suffix(out: &mut Vec<u8>, letter: u8, exp: i64) {
    out.push(letter);
    out.push(if exp < 0 { b'-' } else { b'+' });
    out.extend_from_slice(format!("{:02}", exp.unsigned_abs()).as_bytes());
}

/// `%e` without sign.
fn exponential(x: f64, precision: usize, hash: bool, upper: bool) -> Vec<u8> {
    let (mut out, exp) = exponential_parts(x, precision, hash);
    exponent_suffix(&mut out, if upper { b'E' } else { b'e' }, exp);
    out
}

/// `%g` without sign: glibc's algorithm, step by step, because its
/// output differs from the C standard's description in corner cases that
/// programs can see (`%#g` of 999999.5 is `1.e+06`, not `1.00000e+06`).
/// The style is chosen from the exponent *before* rounding; rounding may
/// then add a digit, move to `%e`, or (from below 1e-4) come back to
/// `0.0001`. Trailing zeros are dropped unless `#`.
fn general(x: f64, precision: usize, alt: bool, upper: bool) -> Vec<u8> {
    let d = Decimal::of(x);
    let dig_max = precision.max(1) as i64;
    let exp10 = if d.is_zero() { 0 } else { d.point() - 1 };
    let (mut negative_exp, mut exponent) = (exp10 < 0, exp10.abs());
    let mut exp_style = (!negative_exp && exponent >= dig_max) || (negative_exp && exponent > 4);
    let intdig_max = match (exp_style, negative_exp) {
        (true, _) => 1,
        (false, true) => 0,
        (false, false) => exponent + 1,
    };
    let mut fracdig_max = dig_max - intdig_max;
    let fracdig_min = if alt { fracdig_max } else { 0 };
    // The exact digits, from the first significant one (or, for "0.ddd",
    // from the first digit after the point).
    let mut pos = if !exp_style && negative_exp {
        d.point()
    } else {
        0
    };
    let next = |pos: &mut i64| {
        let c = ascii(d.digit(*pos));
        *pos += 1;
        c
    };
    let mut buf = Vec::with_capacity(precision + 16);
    let mut intdig_no = 0;
    let mut significant = true;
    if exp_style || !negative_exp {
        while intdig_no < intdig_max {
            intdig_no += 1;
            buf.push(next(&mut pos));
        }
        if alt || fracdig_min > 0 || (fracdig_max > 0 && d.nonzero_from(pos)) {
            buf.push(b'.');
        }
    } else {
        buf.extend_from_slice(b"0.");
        significant = false;
    }
    let (mut fracdig_no, mut added_zeros) = (0i64, 0i64);
    while fracdig_no < fracdig_min + added_zeros
        || (fracdig_no < fracdig_max && d.nonzero_from(pos))
    {
        fracdig_no += 1;
        let c = next(&mut pos);
        buf.push(c);
        if c != b'0' {
            significant = true;
        } else if !significant {
            fracdig_max += 1;
            if fracdig_min > 0 {
                added_zeros += 1;
            }
        }
    }
    // Round to nearest, ties to even, on the exact rest.
    let last = buf[buf.len() - if buf.last() == Some(&b'.') { 2 } else { 1 }];
    let following = next(&mut pos);
    let more = following != b'5' || d.nonzero_from(pos);
    if following >= b'5' && (more || (last - b'0') % 2 == 1) {
        let mut at = buf.len();
        if fracdig_no > 0 {
            let mut removed = 0;
            loop {
                at -= 1;
                if buf[at] != b'9' {
                    break;
                }
                buf[at] = b'0';
                removed += 1;
            }
            if removed == fracdig_min && added_zeros > 0 {
                added_zeros -= 1;
            }
            if buf[at] != b'.' {
                buf[at] += 1;
            } else if !exp_style && alt && at == 1 && buf[0] == b'0' {
                // The number rounded to 1: %#g prints "1.".
                added_zeros -= 1;
            }
        }
        if fracdig_no == 0 || buf[at] == b'.' {
            if at > 0 && buf[at - 1] == b'.' {
                at -= 1;
            }
            let mut carried = true;
            while at > 0 {
                at -= 1;
                if buf[at] == b'9' {
                    buf[at] = b'0';
                } else {
                    buf[at] += 1;
                    carried = false;
                    break;
                }
            }
            if carried {
                if exp_style {
                    buf[0] = b'1';
                    exponent += if negative_exp { -1 } else { 1 };
                    if exponent == 0 {
                        negative_exp = false;
                    }
                } else if intdig_no == dig_max {
                    // Fitted %f before rounding, but has a digit too many now.
                    buf.splice(0..0, [b'1', b'.']);
                    if alt || fracdig_no > 0 {
                        buf[intdig_no as usize + 2] = b'0';
                        fracdig_no += 1;
                    }
                    fracdig_no += intdig_no;
                    intdig_no = 1;
                    exponent += 1;
                    exp_style = true;
                } else {
                    buf.insert(0, b'1');
                    intdig_no += 1;
                }
                let excess = intdig_no + fracdig_no - dig_max;
                if excess > 0 {
                    buf.truncate(buf.len() - excess as usize);
                    fracdig_no -= excess;
                }
            }
        }
    }
    while fracdig_no > fracdig_min + added_zeros && buf.last() == Some(&b'0') {
        buf.pop();
        fracdig_no -= 1;
    }
    if fracdig_no == 0 && !alt && buf.last() == Some(&b'.') {
        buf.pop();
    }
    if exp_style {
        if negative_exp && exponent == 4 {
            // Below 1e-4 before rounding, 1e-4 after it: back to %f.
            let zeros = buf.len().saturating_sub(2);
            buf.clear();
            buf.extend_from_slice(b"0.0001");
            buf.resize(6 + zeros, b'0');
        } else {
            let e = if negative_exp { -exponent } else { exponent };
            exponent_suffix(&mut buf, if upper { b'E' } else { b'e' }, e);
        }
    }
    buf
}

/// `%a` without sign and `0x`: `1.8p+1`. Normal numbers lead with 1,
/// subnormals with 0 (exponent -1022); without a precision the 13 fraction
/// digits lose their trailing zeros; rounding may carry into the leading
/// digit (`0x1.fp+0` with `%.0a` is `0x2p+0`).
fn hex(x: f64, precision: Option<usize>, hash: bool, upper: bool) -> Vec<u8> {
    let bits = x.to_bits();
    let biased = (bits >> 52) & 0x7ff;
    let frac = bits & ((1 << 52) - 1);
    let mut lead: u8 = u8::from(biased != 0);
    let exp: i64 = match (biased, frac) {
        (0, 0) => 0,
        (0, _) => -1022,
        _ => biased as i64 - 1023,
    };
    let mut digits: Vec<u8> = (0..13)
        .rev()
        .map(|i| ((frac >> (4 * i)) & 0xf) as u8)
        .collect();
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let precision = match precision {
        None => digits.len(),
        Some(p) if p < digits.len() => {
            let next = digits[p];
            let more = next & 7 != 0 || digits.len() > p + 1;
            let last = if p > 0 { digits[p - 1] } else { lead };
            digits.truncate(p);
            if next >= 8 && (more || last & 1 == 1) {
                let mut carried = true;
                for d in digits.iter_mut().rev() {
                    if *d == 15 {
                        *d = 0;
                    } else {
                        *d += 1;
                        carried = false;
                        break;
                    }
                }
                if carried {
                    lead += 1;
                }
            }
            p
        }
        Some(p) => p,
    };
    let set: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::with_capacity(precision + 8);
    out.push(set[usize::from(lead)]);
    if precision > 0 || hash {
        out.push(b'.');
    }
    out.extend(digits.iter().map(|&d| set[usize::from(d)]));
    out.resize(out.len() + precision - digits.len(), b'0');
    out.push(if upper { b'P' } else { b'p' });
    out.extend_from_slice(format!("{exp:+}").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(conv: u8, precision: Option<usize>, x: f64) -> String {
        let spec = Spec {
            precision,
            ..Spec::default()
        };
        let mut out = Vec::new();
        push_float(&mut out, &spec, conv, x);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn glibc_layouts() {
        assert_eq!(f(b'f', None, 1.5), "1.500000");
        assert_eq!(f(b'f', Some(0), 2.5), "2");
        assert_eq!(f(b'f', Some(2), -0.0), "-0.00");
        assert_eq!(f(b'e', None, 12345.678), "1.234568e+04");
        assert_eq!(f(b'E', Some(0), 1e-300), "1E-300");
        assert_eq!(f(b'g', None, 100000.0), "100000");
        assert_eq!(f(b'g', None, 1000000.0), "1e+06");
        assert_eq!(f(b'g', None, 0.0001), "0.0001");
        assert_eq!(f(b'g', None, 0.00001), "1e-05");
        assert_eq!(f(b'G', Some(2), 9.99), "10");
        assert_eq!(f(b'a', None, 1.0), "0x1p+0");
        assert_eq!(f(b'a', None, 0.0), "0x0p+0");
        assert_eq!(f(b'a', None, f64::from_bits(1)), "0x0.0000000000001p-1022");
        assert_eq!(f(b'a', Some(0), 1.9375), "0x2p+0");
        assert_eq!(f(b'A', Some(3), 3.0), "0X1.800P+1");
        assert_eq!(f(b'f', None, f64::NEG_INFINITY), "-inf");
        assert_eq!(f(b'F', None, f64::NAN), "NAN");
    }
}
