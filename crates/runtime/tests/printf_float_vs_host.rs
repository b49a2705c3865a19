//! printf's floating-point conversions (`%f %F %e %E %g %G %a %A`) in full
//! mode compared byte for byte with the host's glibc `snprintf`, over
//! random formats (flags, width, precision, `*`) and random doubles (any
//! bit pattern: NaN payloads, infinities, subnormals, -0.0), plus the
//! values where rounding is delicate (exact ties, carries into a new
//! digit, the %g switch between styles).
//!
//! `long double` is `double` on BPF: the runtime's `%Lf` must print what
//! the host's `%f` prints for the same double.

mod common;

use common::{assert_fault, Env};
use proptest::prelude::*;
use std::ffi::{c_char, c_int, CString};

const CONVERSIONS: &[u8] = b"fFeEgGaA";

/// The host's `snprintf(fmt, x)` (whose output must fit 8 KiB).
fn host1(fmt: &str, x: f64) -> Vec<u8> {
    let f = CString::new(fmt).unwrap();
    let mut buf = vec![0u8; 8192];
    // SAFETY: one double argument for one floating-point conversion; the
    // formats generated here produce less than 8 KiB.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut c_char, buf.len(), f.as_ptr(), x) };
    assert!((0..8192).contains(&n), "{fmt}");
    buf.truncate(n as usize);
    buf
}

/// The runtime's full-mode `snprintf` with the values in a va block.
fn ours(env: &mut Env, fmt: &str, values: &[u64]) -> Vec<u8> {
    let buf = env.data(&[0u8; 8192]);
    let f = env.literal(fmt.as_bytes());
    let n = env.ok_va("snprintf", &[buf, 8192, f], values) as usize;
    env.mem.read_bytes(buf, n).unwrap()
}

fn compare(fmt: &str, x: f64) -> Result<(), TestCaseError> {
    let mut env = Env::new();
    let got = ours(&mut env, fmt, &[x.to_bits()]);
    // `L` means `long double`, which is `double` on BPF but not on the host.
    let expected = host1(&fmt.replace('L', ""), x);
    prop_assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&expected),
        "format {:?} value {:e} ({:#x})",
        fmt,
        x,
        x.to_bits()
    );
    Ok(())
}

/// `%[flags][width][.precision][L]conv`.
fn spec_strategy() -> impl Strategy<Value = String> {
    (
        proptest::sample::subsequence(vec!['-', '+', ' ', '#', '0'], 0..=5),
        proptest::option::of(0usize..40),
        prop_oneof![
            3 => Just(None),
            1 => Just(Some(String::from("."))),
            6 => (0usize..30).prop_map(|p| Some(format!(".{p}"))),
            1 => (30usize..1100).prop_map(|p| Some(format!(".{p}"))),
        ],
        proptest::sample::select(vec!["", "", "", "L", "l"]),
        proptest::sample::select(CONVERSIONS),
    )
        .prop_map(|(flags, width, precision, length, conv)| {
            let mut s = String::from("%");
            s.extend(flags);
            if let Some(w) = width {
                s += &w.to_string();
            }
            s += precision.as_deref().unwrap_or("");
            s += length;
            s.push(conv as char);
            s
        })
}

/// Doubles of every kind, weighted toward the ones printf finds hard.
fn value_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        // Any bit pattern: NaN payloads of both signs, infinities, subnormals.
        4 => any::<u64>().prop_map(f64::from_bits),
        // Subnormals.
        1 => (0u64..1 << 52, any::<bool>())
            .prop_map(|(m, neg)| f64::from_bits(m | (u64::from(neg) << 63))),
        // Multiples of 1/16: exact decimal ties at many precisions.
        2 => (-100_000i64..100_000).prop_map(|n| n as f64 / 16.0),
        // Short decimals (1.005, 2.675, ...): near-ties in binary.
        2 => (-1_000_000i64..1_000_000, 0i32..8)
            .prop_map(|(n, k)| n as f64 / 10f64.powi(k)),
        // Around powers of ten, where %e gains a digit and %g switches style.
        2 => (-30i32..30, -3i64..4)
            .prop_map(|(e, ulps)| {
                let p = 10f64.powi(e);
                f64::from_bits((p.to_bits() as i64 + ulps) as u64)
            }),
        1 => (1u64..1000, -20i32..20)
            .prop_map(|(m, e)| (m as f64 - 0.5) * 10f64.powi(e)),
        1 => proptest::sample::select(vec![
            0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -f64::NAN,
            f64::MAX, f64::MIN_POSITIVE, f64::from_bits(1), f64::EPSILON, 0.5, 1.5, 2.5,
            9.5, 0.05, 0.15, 0.25, 1e23, f64::from_bits(1e23f64.to_bits() - 1), 5e-324, 1e-5, 9.5e-5,
            99999.5, 999999.5, 0.000099999, 1.0 / 3.0, std::f64::consts::PI,
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    #[test]
    fn one_float_conversion_matches_host(fmt in spec_strategy(), x in value_strategy()) {
        compare(&fmt, x)?;
    }
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Four floating-point conversions between literal text, the values
    /// read one after another from one va block.
    #[test]
    fn four_float_conversions_match_host(
        specs in proptest::collection::vec((spec_strategy(), value_strategy()), 4),
        // No `L` in the text: the host's format drops `L` modifiers.
        literals in proptest::collection::vec("[ -$&-KM-~]{0,6}", 5),
    ) {
        let mut fmt = literals[0].clone();
        for ((spec, _), lit) in specs.iter().zip(&literals[1..]) {
            fmt += spec;
            fmt += lit;
        }
        let values: Vec<f64> = specs.iter().map(|(_, x)| *x).collect();
        let mut env = Env::new();
        let bits: Vec<u64> = values.iter().map(|x| x.to_bits()).collect();
        let got = ours(&mut env, &fmt, &bits);
        let f = CString::new(fmt.replace('L', "")).unwrap();
        let mut buf = vec![0u8; 8192];
        // SAFETY: four double arguments for four floating-point
        // conversions; the output fits 8 KiB.
        let n = unsafe {
            libc::snprintf(buf.as_mut_ptr() as *mut c_char, buf.len(), f.as_ptr(),
                values[0], values[1], values[2], values[3])
        };
        buf.truncate(n as usize);
        prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&buf), "format {:?}", fmt);
    }
}

/// Every conversion at every precision 0..=20 (and none) for values whose
/// digits end exactly on a tie or run into a carry.
#[test]
fn delicate_roundings_match_host() {
    let values = [
        0.5,
        1.5,
        2.5,
        0.125,
        0.375,
        1e15 + 0.5,
        4503599627370495.5,
        0.999999999,
        9.9999999,
        99.5,
        0.0009765625,
        1.0 / 1024.0 / 1024.0,
        6.103515625e-05,
        f64::from_bits(0x000f_ffff_ffff_ffff),
        f64::from_bits(0x001f_ffff_ffff_ffff),
        f64::from_bits(0x3fef_ffff_ffff_ffff),
        1.9375,
        0.9990234375,
        255.0 / 256.0,
    ];
    let mut cases = 0;
    for x in values.into_iter().flat_map(|x| [x, -x]) {
        for conv in CONVERSIONS {
            for p in (0..=20).map(Some).chain([None]) {
                let fmt = match p {
                    Some(p) => format!("%.{p}{}", *conv as char),
                    None => format!("%{}", *conv as char),
                };
                compare(&fmt, x).unwrap();
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 19 * 2 * 8 * 22);
}

/// `*` width and precision come from the va block, before the value.
#[test]
fn star_width_and_precision_match_host() {
    for (w, p, x) in [
        (12, 3, 3.25f64),
        (-12, 2, -2.5),
        (5, -1, 1e-7),
        (0, 0, 0.5),
        (30, 17, 0.1),
    ] {
        for conv in CONVERSIONS {
            let fmt = format!("[%*.*{}]", *conv as char);
            let f = CString::new(fmt.clone()).unwrap();
            let mut buf = [0u8; 128];
            // SAFETY: two ints and a double for "%*.*f"; 128 bytes suffice.
            let n = unsafe {
                libc::snprintf(
                    buf.as_mut_ptr() as *mut c_char,
                    128,
                    f.as_ptr(),
                    w as c_int,
                    p as c_int,
                    x,
                )
            };
            let mut env = Env::new();
            let got = ours(
                &mut env,
                &fmt,
                &[w as i64 as u64, p as i64 as u64, x.to_bits()],
            );
            assert_eq!(got, &buf[..n as usize], "{fmt} {w} {p} {x}");
        }
    }
}

/// Integers, strings and doubles interleaved in one va block.
#[test]
fn mixed_arguments_match_host() {
    let fmt = "%d|%8.3f|%s|%-+10.2e|%lu|%#g|%c|%a";
    let text = CString::new("txt").unwrap();
    let f = CString::new(fmt).unwrap();
    let mut buf = [0u8; 256];
    // SAFETY: each argument has the type its conversion reads.
    let n = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut c_char,
            256,
            f.as_ptr(),
            -7 as c_int,
            2.0f64 / 3.0,
            text.as_ptr(),
            12345.678f64,
            u64::MAX,
            100.0f64,
            'z' as c_int,
            -0.1f64,
        )
    };
    let mut env = Env::new();
    let s = env.cstr(b"txt");
    let values = [
        -7i64 as u64,
        (2.0f64 / 3.0).to_bits(),
        s,
        12345.678f64.to_bits(),
        u64::MAX,
        100.0f64.to_bits(),
        'z' as u64,
        (-0.1f64).to_bits(),
    ];
    assert_eq!(ours(&mut env, fmt, &values), &buf[..n as usize]);
}

#[test]
fn huge_precision_prints_every_digit_then_zeros() {
    for fmt in ["%.1074f", "%.1100e", "%.800g", "%#.800g", "%.1000a"] {
        for x in [
            f64::from_bits(1),
            f64::MIN_POSITIVE,
            0.1,
            f64::MAX,
            -1.0 / 3.0,
        ] {
            compare(fmt, x).unwrap();
        }
    }
    // Up to the 16 MiB limit the text is produced; beyond it, a fault.
    let mut env = Env::new();
    let f = env.literal(b"%.16000000f");
    let n = env.ok_va("printf", &[f], &[1.0f64.to_bits()]);
    assert_eq!(n, 16_000_002);
    assert!(env.out.take().ends_with(b"000"));
    let f = env.literal(b"%.16777216f%.16777216f");
    assert_fault(
        env.call_va("printf", &[f], &[0, 0]),
        &["printf", "longer than 16 MiB"],
    );
}
