//! printf-family formatting of integers, characters, strings and pointers
//! compared with the host's glibc `snprintf` (floating point:
//! `printf_float_vs_host.rs`).
//!
//! The runtime receives raw 64-bit values, in a va block (full mode) and in
//! registers (strict mode, where they fit); the host receives the same
//! values with the C types the conversions expect. All outputs must be
//! identical.

mod common;

use common::{assert_fault, assert_mem_error, Env, BAD_POINTERS};
use proptest::prelude::*;
use std::ffi::{c_char, c_int, c_uint, c_void, CString};

/// What C type a conversion consumes, with its host argument.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Long,
    UInt,
    ULong,
    Char,
    Str,
    Ptr,
}

/// Conversions with length modifiers, and the C type each one reads.
const CONVERSIONS: &[(&str, Kind)] = &[
    ("d", Kind::Int),
    ("i", Kind::Int),
    ("hhd", Kind::Int),
    ("hd", Kind::Int),
    ("ld", Kind::Long),
    ("lld", Kind::Long),
    ("li", Kind::Long),
    ("zd", Kind::Long),
    ("jd", Kind::Long),
    ("td", Kind::Long),
    ("u", Kind::UInt),
    ("hhu", Kind::UInt),
    ("hu", Kind::UInt),
    ("x", Kind::UInt),
    ("X", Kind::UInt),
    ("o", Kind::UInt),
    ("hhx", Kind::UInt),
    ("lu", Kind::ULong),
    ("llu", Kind::ULong),
    ("zu", Kind::ULong),
    ("lx", Kind::ULong),
    ("llX", Kind::ULong),
    ("lo", Kind::ULong),
    ("c", Kind::Char),
    ("s", Kind::Str),
    ("p", Kind::Ptr),
];

fn host_snprintf1(fmt: &str, kind: Kind, value: u64, s: &CString) -> Vec<u8> {
    let f = CString::new(fmt).unwrap();
    let mut buf = vec![0u8; 4096];
    let (b, n, f) = (buf.as_mut_ptr() as *mut c_char, buf.len(), f.as_ptr());
    // SAFETY: the buffer is large enough for every format generated here
    // (width and precision below 100), and each argument has the C type
    // the conversion reads.
    let len = unsafe {
        match kind {
            Kind::Int | Kind::Char => libc::snprintf(b, n, f, value as c_int),
            Kind::Long => libc::snprintf(b, n, f, value as i64),
            Kind::UInt => libc::snprintf(b, n, f, value as c_uint),
            Kind::ULong => libc::snprintf(b, n, f, value),
            Kind::Str if value == 0 => libc::snprintf(b, n, f, std::ptr::null::<c_char>()),
            Kind::Str => libc::snprintf(b, n, f, s.as_ptr()),
            Kind::Ptr => libc::snprintf(b, n, f, value as *const c_void),
        }
    };
    buf.truncate(len as usize);
    buf
}

/// Formats with the runtime's `snprintf` helper into a large VM buffer,
/// in full mode and, when the values fit in registers, in strict mode;
/// both must agree.
fn runtime_snprintf(env: &mut Env, fmt: &str, values: &[u64]) -> Vec<u8> {
    let buf = env.data(&[0u8; 4096]);
    let f = env.literal(fmt.as_bytes());
    let n = env.ok_va("snprintf", &[buf, 4096, f], values) as usize;
    // The result may hold NUL bytes (from %c); it is followed by one more.
    assert_eq!(env.mem.load(buf + n as u64, 1).unwrap(), 0);
    let full = env.mem.read_bytes(buf, n).unwrap();
    if values.len() <= 2 {
        let mut args = vec![buf, 4096, f];
        args.extend_from_slice(values);
        let m = env.ok("__bpf_strict_snprintf", &args) as usize;
        assert_eq!(env.mem.read_bytes(buf, m).unwrap(), full, "strict mode");
    }
    full
}

/// Formats with the runtime's `printf` helper, reading the output sink,
/// in full mode and (up to four values) strict mode.
fn runtime_printf(env: &mut Env, fmt: &str, values: &[u64]) -> Vec<u8> {
    let f = env.literal(fmt.as_bytes());
    let n = env.ok_va("printf", &[f], values);
    let out = env.out.take();
    assert_eq!(n as usize, out.len());
    if values.len() <= 4 {
        let mut args = vec![f];
        args.extend_from_slice(values);
        env.ok("__bpf_strict_printf", &args);
        assert_eq!(env.out.take(), out, "strict mode");
    }
    out
}

fn spec_strategy() -> impl Strategy<Value = (String, Kind)> {
    (
        proptest::sample::subsequence(vec!['-', '+', ' ', '#', '0'], 0..=5),
        proptest::option::of(0usize..40),
        proptest::option::of(prop_oneof![Just(None), (0usize..40).prop_map(Some)]),
        proptest::sample::select(CONVERSIONS),
    )
        .prop_map(|(flags, width, precision, (conv, kind))| {
            let mut s = String::from("%");
            s.extend(flags);
            if let Some(w) = width {
                s += &w.to_string();
            }
            match precision {
                Some(None) => s.push('.'),
                Some(Some(p)) => s += &format!(".{p}"),
                None => {}
            }
            s += conv;
            (s, kind)
        })
}

fn value_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        any::<i32>().prop_map(|v| v as i64 as u64),
        (-300i64..300).prop_map(|v| v as u64),
        proptest::sample::select(vec![
            0u64,
            1,
            u64::MAX,
            i64::MIN as u64,
            i64::MAX as u64,
            i32::MIN as u32 as u64,
            i32::MAX as u64,
            u32::MAX as u64,
            0x8000_0000,
            0xff,
            0x80,
            0x7f,
        ]),
    ]
}

fn text_strategy() -> impl Strategy<Value = String> {
    "[ -$&-~]{0,12}"
}

/// A VM string for `%s` (or NULL), and the host's copy.
fn string_arg(env: &mut Env, kind: Kind, value: u64, text: &str) -> (u64, CString) {
    let host = CString::new(text).unwrap();
    if kind == Kind::Str && !value.is_multiple_of(8) {
        (env.cstr(text.as_bytes()), host)
    } else if kind == Kind::Str {
        (0, host)
    } else {
        (value, host)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn one_conversion_matches_host((fmt, kind) in spec_strategy(), value in value_strategy(), text in text_strategy()) {
        let mut env = Env::new();
        let (vm_value, host_str) = string_arg(&mut env, kind, value, &text);
        let host_value = if kind == Kind::Str { vm_value } else { value };
        let expected = host_snprintf1(&fmt, kind, host_value, &host_str);
        let got = runtime_snprintf(&mut env, &fmt, &[vm_value]);
        prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&expected), "format {:?} value {:#x}", fmt, value);
        let printed = runtime_printf(&mut env, &fmt, &[vm_value]);
        prop_assert_eq!(printed, expected);
    }
}

#[cfg(target_arch = "x86_64")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Four conversions between literal text. On x86-64 every variadic
    /// integer argument occupies a 64-bit register or stack slot, and glibc
    /// reads an `int` from its low half, so passing each value as 64 bits
    /// mirrors exactly what the BPF registers hold.
    #[test]
    fn four_conversions_match_host(
        specs in proptest::collection::vec((spec_strategy(), value_strategy(), text_strategy()), 4),
        literals in proptest::collection::vec("[ -$&-~]{0,6}", 5),
    ) {
        let mut env = Env::new();
        let mut fmt = literals[0].clone();
        let mut vm_values = Vec::new();
        let mut host_values = Vec::new();
        let mut keep = Vec::new();
        for (((spec, kind), value, text), lit) in specs.iter().zip(&literals[1..]) {
            fmt += spec;
            fmt += lit;
            let (vm, host) = string_arg(&mut env, *kind, *value, text);
            vm_values.push(vm);
            host_values.push(if *kind == Kind::Str && vm != 0 { host.as_ptr() as u64 } else { vm });
            keep.push(host);
        }
        let f = CString::new(fmt.clone()).unwrap();
        let mut buf = vec![0u8; 4096];
        // SAFETY: the buffer holds any output of these formats; every
        // argument is a 64-bit integer or a pointer to a live C string.
        let len = unsafe {
            libc::snprintf(buf.as_mut_ptr() as *mut c_char, buf.len(), f.as_ptr(),
                host_values[0], host_values[1], host_values[2], host_values[3])
        };
        buf.truncate(len as usize);
        let got = runtime_printf(&mut env, &fmt, &vm_values);
        prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&buf), "format {:?}", fmt);
    }
}

/// Cases glibc treats specially, each checked against the host.
#[test]
fn glibc_corner_cases_match_host() {
    let cases: &[(&str, Kind, u64)] = &[
        ("%#.0o", Kind::UInt, 0),
        ("%#o", Kind::UInt, 0),
        ("%#o", Kind::UInt, 8),
        ("%#.3o", Kind::UInt, 8),
        ("%#x", Kind::UInt, 0),
        ("%#.0x", Kind::UInt, 0),
        ("%.0d", Kind::Int, 0),
        ("%+.0d", Kind::Int, 0),
        ("% .0d", Kind::Int, 0),
        ("%05.3d", Kind::Int, 7),
        ("%-05d", Kind::Int, 7),
        ("%+ d", Kind::Int, 7),
        ("%+u", Kind::UInt, 7),
        ("%p", Kind::Ptr, 0),
        ("%10p", Kind::Ptr, 0),
        ("%-10p|", Kind::Ptr, 0),
        ("%.2p", Kind::Ptr, 0),
        ("%+p", Kind::Ptr, 0x1234),
        ("% p", Kind::Ptr, 0x1234),
        ("%020p", Kind::Ptr, 0x1234),
        ("%.20p", Kind::Ptr, 0x1234),
        ("%p", Kind::Ptr, u64::MAX),
        ("%s", Kind::Str, 0),
        ("%.5s", Kind::Str, 0),
        ("%.6s", Kind::Str, 0),
        ("%8s|", Kind::Str, 0),
        ("%05s", Kind::Str, 1),
        ("%05c", Kind::Char, 'x' as u64),
        ("%-3c|", Kind::Char, 'x' as u64),
        ("%c", Kind::Char, 0x141),
        ("%5%", Kind::Int, 0),
        ("%y", Kind::Int, 0),
        ("%'d", Kind::Int, 1234567),
        ("%hhd", Kind::Int, 300),
        ("%hd", Kind::Int, 70000),
        ("%hhu", Kind::UInt, 300),
        ("%ld", Kind::Long, i64::MIN as u64),
        ("%lld", Kind::Long, i64::MIN as u64),
        ("%llu", Kind::ULong, u64::MAX),
        ("%lo", Kind::ULong, u64::MAX),
        ("%zu", Kind::ULong, u64::MAX),
        ("%d", Kind::Int, i32::MIN as u32 as u64),
    ];
    for &(fmt, kind, value) in cases {
        let mut env = Env::new();
        let (vm_value, host_str) = string_arg(&mut env, kind, value, "ab");
        let host_value = if kind == Kind::Str { vm_value } else { value };
        let expected = host_snprintf1(fmt, kind, host_value, &host_str);
        let got = runtime_snprintf(&mut env, fmt, &[vm_value]);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "format {fmt:?} value {value:#x}"
        );
    }
}

#[test]
fn star_width_and_precision_match_host() {
    for (w, p, v) in [
        (5, 2, 7i32),
        (-6, 3, -7),
        (4, -1, 42),
        (0, 0, 0),
        (-3, -5, 1),
    ] {
        let f = CString::new("[%*.*d]").unwrap();
        let mut buf = [0u8; 64];
        // SAFETY: three int arguments for "%*.*d"; 64 bytes hold the output.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr() as *mut c_char, 64, f.as_ptr(), w, p, v) };
        let expected = &buf[..n as usize];
        let mut env = Env::new();
        let regs = [w as i64 as u64, p as i64 as u64, v as i64 as u64];
        assert_eq!(
            runtime_printf(&mut env, "[%*.*d]", &regs),
            expected,
            "{w} {p} {v}"
        );
    }
}

#[test]
fn snprintf_truncates_like_host() {
    let text = "value=%d, name=%s";
    for n in 0..24usize {
        let mut env = Env::new();
        let name = env.cstr(b"abcdef");
        let buf = env.data(&[0xaa; 32]);
        let f = env.literal(text.as_bytes());
        let ret = env.ok_va("snprintf", &[buf, n as u64, f], &[-42i64 as u64, name]);
        let got = env.mem.read_bytes(buf, 32).unwrap();

        let mut host = [0xaau8; 32];
        let hf = CString::new(text).unwrap();
        let hn = CString::new("abcdef").unwrap();
        // SAFETY: `n` is at most 24, within the 32-byte buffer.
        let hret = unsafe {
            libc::snprintf(
                host.as_mut_ptr() as *mut c_char,
                n,
                hf.as_ptr(),
                -42,
                hn.as_ptr(),
            )
        };
        assert_eq!(ret as i64 as i32, hret, "n = {n}");
        assert_eq!(got, host, "n = {n}");
    }
}

#[test]
fn snprintf_with_size_zero_may_take_null() {
    let mut env = Env::new();
    let f = env.literal(b"%d");
    assert_eq!(env.ok_va("snprintf", &[0, 0, f], &[12345]), 5);
}

#[test]
fn snprintf_checks_the_whole_buffer_it_was_promised() {
    let mut env = Env::new();
    let buf = env.data(&[0; 8]);
    let f = env.literal(b"%d");
    // Claims 100 bytes but only 8 exist: a lie C cannot catch, the runtime can.
    assert!(matches!(
        env.call_va("snprintf", &[buf, 100, f], &[1]),
        Err(bpf_vm::HelperError::Memory(_))
    ));
    let ro = env.literal(b"xxxxxxxx");
    assert_mem_error(env.call_va("snprintf", &[ro, 4, f], &[1]), ro);
}

#[test]
fn sprintf_writes_result_and_nul() {
    let mut env = Env::new();
    let buf = env.data(&[0xaa; 16]);
    let f = env.literal(b"%s-%03d%c");
    let s = env.cstr(b"ab");
    assert_eq!(env.ok_va("sprintf", &[buf, f], &[s, 7, '!' as u64]), 7);
    assert_eq!(env.mem.read_bytes(buf, 9).unwrap(), b"ab-007!\0\xaa");
    // Too small a buffer: the write is refused, nothing past it is touched.
    let small = env.data(&[0; 4]);
    assert!(env
        .call_va("sprintf", &[small, f], &[s, 7, '!' as u64])
        .is_err());
}

#[test]
fn printf_faults_name_the_cause() {
    let mut env = Env::new();
    let s = env.literal(b"%s");
    for bad in BAD_POINTERS {
        assert_mem_error(env.call_va("printf", &[bad], &[]), bad);
        if bad != 0 {
            assert_mem_error(env.call_va("printf", &[s], &[bad]), bad);
        }
    }
    let f = env.literal(b"%d %d %d %d %d");
    assert_fault(
        env.call("__bpf_strict_printf", &[f, 1, 2, 3, 4]),
        &["printf: ", "argument 5", "at most 4 value arguments"],
    );
    assert_fault(
        env.call_va("printf", &[f], &[1, 2]),
        &["printf: the format asks for argument 3 after the format, but the call passed 2"],
    );
    let f = env.literal(b"%f");
    assert_fault(
        env.call("__bpf_strict_printf", &[f, 1]),
        &["printf: %f needs floating point", "strict mode"],
    );
    // %n stores through its pointer, checked like any store.
    let f = env.literal(b"%n");
    assert_mem_error(env.call_va("printf", &[f], &[1]), 1);
    let f = env.literal(b"%1$d");
    assert_fault(env.call_va("printf", &[f], &[1]), &["positional"]);
    let f = env.literal(b"%ls");
    assert_fault(env.call_va("printf", &[f], &[1]), &["wide"]);
    let f = env.literal(b"abc%");
    assert_fault(
        env.call_va("printf", &[f], &[]),
        &["ends in the middle", "%"],
    );
    let f = env.literal(b"%2000000000d");
    assert_fault(env.call_va("printf", &[f], &[1]), &["too large"]);
    let buf = env.data(&[0; 16]);
    for bad in BAD_POINTERS {
        assert_mem_error(env.call("puts", &[bad]), bad);
        assert_mem_error(env.call("fputs", &[bad, bpf_runtime::STDOUT_HANDLE]), bad);
        assert_mem_error(
            env.call_va("fprintf", &[bpf_runtime::STDOUT_HANDLE, bad], &[]),
            bad,
        );
        assert_mem_error(env.call_va("snprintf", &[buf, 16, bad], &[]), bad);
        assert_mem_error(env.call_va("sprintf", &[buf, bad], &[]), bad);
        let f = env.literal(b"x");
        assert_mem_error(env.call_va("sprintf", &[bad, f], &[]), bad);
        if bad != 0 {
            assert_mem_error(env.call_va("snprintf", &[bad, 4, f], &[]), bad);
            // A va block pointer that points nowhere.
            assert_mem_error(env.call("printf", &[f, bad]), bad);
        }
    }
    for f in ["fputc", "putc"] {
        assert_fault(env.call(f, &[b'x' as u64, 0]), &[f, "the stream is NULL"]);
    }
    assert_fault(env.call("fflush", &[5]), &["fflush", "0x5", "not a stream"]);
    // Nothing of a failed call reaches the output.
    assert_eq!(env.output(), "");
}

#[test]
fn unterminated_string_argument_faults_at_region_end() {
    let mut env = Env::new();
    let s = env.data(b"abc");
    let end = bpf_vm::RegionKind::Data.base() + env.mem.region_len(bpf_vm::RegionKind::Data) as u64;
    let f = env.literal(b"%s");
    assert_mem_error(env.call_va("printf", &[f], &[s]), end);
    // With a precision, only the bytes printed must exist.
    let f = env.literal(b"%.3s");
    assert_eq!(env.ok_va("printf", &[f], &[s]), 3);
    assert_eq!(env.output(), "abc");
}

#[test]
fn output_functions_write_in_call_order() {
    let mut env = Env::new();
    let hello = env.literal(b"hello");
    let f = env.literal(b"[%d]");
    assert_eq!(env.ok("puts", &[hello]), 6);
    assert_eq!(env.ok("putchar", &[0x141]), 0x41);
    assert_eq!(env.ok_va("printf", &[f], &[5]), 3);
    assert_eq!(env.ok("fputs", &[hello, bpf_runtime::STDOUT_HANDLE]), 1);
    assert_eq!(
        env.ok("fputc", &['!' as u64, bpf_runtime::STDERR_HANDLE]),
        '!' as u64
    );
    assert_eq!(
        env.ok("putc", &['?' as u64, bpf_runtime::STDOUT_HANDLE]),
        '?' as u64
    );
    let f2 = env.literal(b"<%s>");
    assert_eq!(
        env.ok_va("fprintf", &[bpf_runtime::STDERR_HANDLE, f2], &[hello]),
        7
    );
    assert_eq!(env.ok("fflush", &[0]), 0);
    assert_eq!(env.output(), "hello\nA[5]hello!?<hello>");
    assert_fault(
        env.call("fputs", &[hello, 0x77]),
        &["fputs", "0x77", "not a stream"],
    );
    assert_fault(
        env.call_va("fprintf", &[0, f], &[]),
        &["fprintf", "the stream is NULL"],
    );
    // stdin is a stream, but not one to write: EOF, as glibc.
    assert_eq!(
        env.ok("fputs", &[hello, bpf_runtime::STDIN_HANDLE]),
        u64::MAX
    );
}

#[test]
fn stderr_can_have_its_own_sink() {
    let out = bpf_runtime::OutputSink::buffer();
    let err = bpf_runtime::OutputSink::buffer();
    let rt = bpf_runtime::Runtime::new(out.clone()).with_stderr(err.clone());
    let mut env = Env::with_runtime(rt, out);
    let s = env.literal(b"x");
    env.ok("fputs", &[s, bpf_runtime::STDERR_HANDLE]);
    env.ok("puts", &[s]);
    assert_eq!(err.take(), b"x");
    assert_eq!(env.output(), "x\n");
}

#[test]
fn buffer_limit_is_a_fault_not_unbounded_memory() {
    let out = bpf_runtime::OutputSink::buffer_with_limit(10);
    let mut env = Env::with_runtime(bpf_runtime::Runtime::new(out.clone()), out);
    let s = env.literal(b"0123456789");
    assert_fault(env.call("puts", &[s]), &["puts", "limit of 10 bytes"]);
}

#[test]
fn failing_writer_makes_printf_return_eof() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }
    let out = bpf_runtime::OutputSink::writer(Closed);
    let mut env = Env::with_runtime(bpf_runtime::Runtime::new(out.clone()), out);
    let f = env.literal(b"x");
    assert_eq!(env.ok_va("printf", &[f], &[]) as i64, -1);
    assert_eq!(env.ok("putchar", &[1]) as i64, -1);
    assert_eq!(env.ok("fflush", &[bpf_runtime::STDOUT_HANDLE]) as i64, -1);
}
