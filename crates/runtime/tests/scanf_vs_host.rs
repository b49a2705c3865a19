//! `sscanf` compared with the host's glibc: the count returned and every
//! byte stored, over a table of tricky cases and random formats applied to
//! random inputs shaped like what they convert.
//!
//! Every argument is a pointer to a zeroed 64-byte buffer on both sides,
//! so whatever a conversion stores (an int, a double, a string) is
//! compared whole. (`%L` floats are left out: `long double` is 80 bits on
//! the host, 64 here.)

mod common;

use common::{assert_fault, Env};
use proptest::prelude::*;
use std::ffi::{c_char, c_int, CString};

/// Buffers per call, and their size.
const ARGS: usize = 4;
const BUF: usize = 64;

extern "C" {
    fn sscanf(s: *const c_char, fmt: *const c_char, ...) -> c_int;
}

/// The host's result: count and the buffers.
fn host(input: &[u8], fmt: &str) -> (i32, Vec<Vec<u8>>) {
    let s = CString::new(input).unwrap();
    let f = CString::new(fmt).unwrap();
    let mut bufs = vec![[0u8; BUF]; ARGS];
    let [a, b, c, d] = &mut bufs[..] else {
        unreachable!()
    };
    // SAFETY: every conversion stores at most 64 bytes (strings and sets
    // have widths below 64 in the formats used here) into its buffer.
    let r = unsafe {
        sscanf(
            s.as_ptr(),
            f.as_ptr(),
            a.as_mut_ptr(),
            b.as_mut_ptr(),
            c.as_mut_ptr(),
            d.as_mut_ptr(),
        )
    };
    (r, bufs.iter().map(|b| b.to_vec()).collect())
}

/// Ours, through the full-mode helper with a va block of buffer pointers.
fn ours(env: &mut Env, input: &[u8], fmt: &str) -> (i32, Vec<Vec<u8>>) {
    let s = env.cstr(input);
    let f = env.literal(fmt.as_bytes());
    let bufs: Vec<u64> = (0..ARGS).map(|_| env.data(&[0; BUF])).collect();
    let r = env.ok_va("sscanf", &[s, f], &bufs) as i32;
    let got = bufs
        .iter()
        .map(|b| env.mem.read_bytes(*b, BUF).unwrap())
        .collect();
    (r, got)
}

fn check(env: &mut Env, input: &[u8], fmt: &str) {
    assert_eq!(
        ours(env, input, fmt),
        host(input, fmt),
        "sscanf({:?}, {fmt:?})",
        String::from_utf8_lossy(input)
    );
}

#[test]
fn table_of_cases() {
    let mut env = Env::new();
    let cases: &[(&str, &str)] = &[
        ("12 34", "%d %d%n"),
        ("  -7+8", "%d%d%n"),
        ("0x1f 010 0X", "%i %i %x%n"),
        ("0xz", "%x%n"),
        ("0x", "%i%n"),
        ("-0x10", "%x %n"),
        ("123456", "%2d%3d%n"),
        ("+", "%d%n"),
        ("-", "%u%n"),
        ("", "%d"),
        ("   ", " %d"),
        ("abc", "%d"),
        ("99999999999999999999", "%d %n"),
        ("-99999999999999999999", "%ld %n"),
        ("18446744073709551616", "%lu %n"),
        ("4294967296", "%u %hu %hhu"),
        ("300 70000", "%hhd %hd%n"),
        ("7 8", "%*d %d%n"),
        ("1%2", "%d%%%d%n"),
        ("1 % 2", "%d %% %d%n"),
        ("x1", "x%d%n"),
        ("y1", "x%d%n"),
        ("3.25e2x", "%lf%n"),
        ("100ergs", "%f%n"),
        ("1e+x", "%lf%n"),
        ("12e-", "%lf%n"),
        (".5", "%le%n"),
        ("-.", "%lf%n"),
        ("0x1.8p1 0x", "%la %la%n"),
        ("inf -Infinity infin", "%lf %lf %lf%n"),
        ("nan nanx nax", "%lf %lf%n %lf"),
        ("1e999 1e-999", "%lf %lf%n"),
        ("3.4e39", "%f%n"),
        ("12345.678", "%4f%lf%n"),
        ("  hello   world", "%s %s%n"),
        ("abcdefgh", "%3s%2s%n"),
        (" xyz", "%c%2c%n"),
        ("ab", "%3c%n"),
        ("key=value;rest", "%[a-z]=%[^;];%s"),
        ("]a-b]c", "%[]a-]%s"),
        ("-x", "%[-x]%n"),
        ("xyz", "%[abc]"),
        ("aaaaab", "%3[a]%s"),
        ("a-z", "%[a-]%n"),
        ("(nil) 0x10", "%p %p%n"),
        ("abc  ", "abc %n"),
        ("abc", "abd%n"),
        ("12", "%d %*s %d"),
        ("1 2", "%d%n %n%d"),
        ("12", "%d%"),
        ("12", "%d%q"),
        ("\t\n12", "%d"),
        ("a b", "a\tb%n"),
    ];
    for (input, fmt) in cases {
        check(&mut env, input.as_bytes(), fmt);
    }
}

/// One random conversion with its C type's storage: no `%L` floats, and
/// string conversions always with a width below the buffer size.
fn conversion() -> impl Strategy<Value = String> {
    let int = prop_oneof![
        Just("d"),
        Just("i"),
        Just("u"),
        Just("o"),
        Just("x"),
        Just("X"),
        Just("hhd"),
        Just("hd"),
        Just("ld"),
        Just("lld"),
        Just("hhu"),
        Just("lx"),
        Just("zu"),
        Just("jd"),
        Just("td"),
        Just("p"),
        Just("n"),
        Just("hn"),
        Just("f"),
        Just("e"),
        Just("g"),
        Just("a"),
        Just("lf"),
        Just("le"),
        Just("lg"),
        Just("la"),
    ];
    let width = prop_oneof![Just(String::new()), (1u8..6).prop_map(|w| w.to_string())];
    let string = (
        1u8..20,
        prop_oneof![Just("s"), Just("c"), Just("[a-f0-9]"), Just("[^ ,]")],
    )
        .prop_map(|(w, c)| format!("{w}{c}"));
    let star = prop_oneof![3 => Just(""), 1 => Just("*")];
    prop_oneof![
        (star.clone(), width, int).prop_map(|(s, w, c)| {
            // %n takes no width and no suppression worth testing.
            if c.ends_with('n') {
                format!("%{c}")
            } else {
                format!("%{s}{w}{c}")
            }
        }),
        (star, string).prop_map(|(s, c)| format!("%{s}{c}")),
    ]
}

fn format_string() -> impl Strategy<Value = String> {
    let separator = prop_oneof![
        Just(""),
        Just(" "),
        Just(","),
        Just(" , "),
        Just("%%"),
        Just("x")
    ];
    prop::collection::vec((conversion(), separator), 1..=ARGS).prop_map(|parts| {
        // At most ARGS stored arguments: every conversion may store.
        parts
            .into_iter()
            .map(|(c, s)| format!("{c}{s}"))
            .collect::<String>()
    })
}

fn input_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[ \t]{1,3}",
            "[+-]?[0-9]{1,22}",
            "[+-]?0[xX][0-9a-fA-F]{0,17}",
            "[+-]?[0-9]{0,5}\\.[0-9]{0,8}([eEpP][+-]?[0-9]{0,4})?",
            "[+-]?(inf|INFINITY|nan|infin|na)",
            "\\(nil\\)",
            "[a-z]{1,6}",
            "[,%x.]",
        ],
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_formats_match_glibc(input in input_text(), fmt in format_string()) {
        let mut env = Env::new();
        check(&mut env, input.as_bytes(), &fmt);
    }
}

#[test]
fn arguments_are_checked_and_misuse_named() {
    let mut env = Env::new();
    let s = env.cstr(b"12 34");
    let f = env.literal(b"%d %d");
    let one = env.data(&[0; 8]);
    assert_fault(
        env.call_va("sscanf", &[s, f], &[one]),
        &["sscanf", "argument 2", "passed 1"],
    );
    let f = env.literal(b"%1$d");
    assert_fault(env.call_va("sscanf", &[s, f], &[one]), &["positional"]);
    let f = env.literal(b"%ls");
    assert_fault(env.call_va("sscanf", &[s, f], &[one]), &["wide"]);
    // A store through a bad pointer is a memory error at that pointer.
    let f = env.literal(b"%d");
    match env.call_va("sscanf", &[s, f], &[16]) {
        Err(bpf_vm::HelperError::Memory(e)) => assert_eq!(e.addr, 16),
        other => panic!("{other:?}"),
    }
    // Strict mode: registers.
    let f = env.literal(b"%d %d");
    let two = env.data(&[0; 8]);
    assert_eq!(env.ok("__bpf_strict_sscanf", &[s, f, one, two]), 2);
    assert_eq!(env.mem.load(two, 4).unwrap(), 34);
}
