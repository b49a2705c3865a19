//! `strtod`, `strtof`, `strtold` and `atof` compared with the host's glibc:
//! the value's bits and where `*endptr` points, over random texts shaped
//! like numbers (decimal and hexadecimal, long digit strings, exponents
//! near and far out of range, `inf`/`infinity`/`nan(...)` in any case,
//! junk after the number) and over exact binary round trips.

mod common;

use common::{assert_mem_error, Env, BAD_POINTERS};
use proptest::prelude::*;
use std::ffi::{c_char, CString};

extern "C" {
    // `strtof` and `strtod` are in the libc crate; declared here for
    // symmetry with the `long double` form we compare against `strtod`.
    fn strtof(s: *const c_char, end: *mut *mut c_char) -> f32;
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Decimal: sign, digits, point, exponent, trailing junk.
        "[ \t\n]{0,2}[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{0,4})?[ x.e]?",
        // Long digit strings (beyond the 17 significant digits of a double).
        "[+-]?[0-9]{15,60}(\\.[0-9]{0,60})?(e-?[0-9]{1,3})?",
        // Halfway cases: digits followed by 5 and zeros.
        "[1-9][0-9]{14,18}5(0{0,30})(1?)(e-?[0-9]{1,2})?",
        // Hexadecimal.
        "[ ]?[+-]?0[xX][0-9a-fA-F]{0,18}(\\.[0-9a-fA-F]{0,18})?([pP][+-]?[0-9]{0,5})?[g.p]?",
        // Exponents at the edges of the range (subnormals, overflow).
        "[+-]?[1-9](\\.[0-9]{1,17})?[eE][+-]?(3[0-2][0-9]|4[0-5]|3[89])",
        "[+-]?0[xX]1(\\.[0-9a-f]{1,14})?p[+-]?(10[0-9][0-9]|1[0-4][0-9])",
        // Words.
        "[ ]?[+-]?([iI][nN][fF]([iI][nN][iI][tT][yY]?)?|[iI][nN][fF][iI][nN]|[nN][aA][nN](\\([0-9a-zA-Z_]{0,8}\\)?)?)[a-z(]?",
        "[+-]?[nN][aA][nN]\\((0[xX])?[0-9a-fA-F]{1,17}\\)",
        // Fragments that are no number at all.
        "[ +\\-.eEpPxX0]{0,5}",
    ]
}

/// Runs one parser on both sides; checks value bits and end position.
fn check(env: &mut Env, func: &str, text: &str) -> Result<(), TestCaseError> {
    let s = env.cstr(text.as_bytes());
    let end = env.data(&[0xee; 8]);
    let c = CString::new(text).unwrap();
    let mut hend: *mut c_char = std::ptr::null_mut();
    // SAFETY: NUL-terminated input and a valid out-pointer.
    let expected = unsafe {
        match func {
            "strtof" => u64::from(strtof(c.as_ptr(), &mut hend).to_bits()),
            _ => libc::strtod(c.as_ptr(), &mut hend).to_bits(),
        }
    };
    let got = env.ok(func, &[s, end]);
    if func == "strtof" && got != expected && glibc_misrounds(text, expected) {
        // SAFETY: NUL-terminated input.
        let exact = unsafe { libc::strtod(c.as_ptr(), std::ptr::null_mut()) };
        prop_assert_eq!(
            got,
            u64::from((exact as f32).to_bits()),
            "strtof({:?})",
            text
        );
    } else {
        prop_assert_eq!(got, expected, "{}({:?})", func, text);
    }
    let consumed = hend as u64 - c.as_ptr() as u64;
    prop_assert_eq!(
        env.mem.load(end, 8).unwrap() - s,
        consumed,
        "{}({:?}) end",
        func,
        text
    );
    Ok(())
}

/// glibc 2.36's `strtof` rounds some hexadecimal texts with subnormal
/// results wrongly (`0x1.a00003p-127` is 6815744.75 units of 2^-149; glibc
/// gives 6815744, the compiler's constant and ours 6815745). For those the
/// reference is `strtod`'s value rounded once more to `float` (double
/// rounding could only differ where `strtod` lands exactly on a `float`
/// tie, which needs a 25th-to-53rd bit pattern these texts do not hit).
fn glibc_misrounds(text: &str, host_bits: u64) -> bool {
    let hex = text.contains("0x") || text.contains("0X");
    let subnormal = (host_bits as u32 & 0x7f80_0000) == 0;
    hex && subnormal
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    #[test]
    fn strtod_family_matches_host(text in number_text()) {
        let mut env = Env::new();
        for func in ["strtod", "strtold", "strtof"] {
            check(&mut env, func, &text)?;
        }
        let s = env.cstr(text.as_bytes());
        let c = CString::new(text.clone()).unwrap();
        // SAFETY: NUL-terminated input.
        let expected = unsafe { libc::atof(c.as_ptr()) };
        prop_assert_eq!(env.ok("atof", &[s]), expected.to_bits());
    }

    /// Every double printed with `%.17g` and `%a` (how C programs write
    /// numbers to read them back) parses to itself, as with glibc.
    #[test]
    fn printed_doubles_parse_back(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        let mut env = Env::new();
        for text in [format!("{x:e}"), format!("{x:.17e}"), hex(x)] {
            check(&mut env, "strtod", &text)?;
            check(&mut env, "strtof", &text)?;
        }
    }
}

/// `%a`-style text for a double, as C prints it.
fn hex(x: f64) -> String {
    let bits = x.to_bits();
    let sign = if bits >> 63 == 1 { "-" } else { "" };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1 << 52) - 1);
    match exp {
        0x7ff => format!("{sign}{}", if frac == 0 { "inf" } else { "nan" }),
        0 => format!("{sign}0x0.{frac:013x}p-1022"),
        _ => format!("{sign}0x1.{frac:013x}p{}", exp - 1023),
    }
}

#[test]
fn strtod_faults_name_the_cause() {
    let mut env = Env::new();
    let good = env.cstr(b"1.5");
    for bad in BAD_POINTERS {
        for func in ["strtod", "strtof", "strtold"] {
            assert_mem_error(env.call(func, &[bad, 0]), bad);
            if bad != 0 {
                assert_mem_error(env.call(func, &[good, bad]), bad);
            }
        }
        assert_mem_error(env.call("atof", &[bad]), bad);
    }
    // A read-only end pointer is refused, and NULL means "don't store".
    let ro = env.literal(b"xxxxxxxx");
    assert_mem_error(env.call("strtod", &[good, ro]), ro);
    assert_eq!(env.ok("strtod", &[good, 0]), 1.5f64.to_bits());
    assert_eq!(env.ok("strtof", &[good, 0]), u64::from(1.5f32.to_bits()));
}

/// The case the property test found: correctly rounded, unlike glibc.
#[test]
fn strtof_rounds_hex_subnormals_correctly() {
    let mut env = Env::new();
    let s = env.cstr(b"0X1.a00003p-127");
    let end = env.data(&[0; 8]);
    assert_eq!(env.ok("strtof", &[s, end]), 6815745);
}
