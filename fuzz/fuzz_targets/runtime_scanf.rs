//! `runtime_scanf`: the C runtime's `sscanf` over arbitrary formats,
//! inputs and argument registers, against VM memory.
//!
//! Checks: any format on any input with any registers (buffers, NULL,
//! dangling or absurd pointers) returns a count or a typed error, never a
//! panic, a huge allocation or a hang. When every argument is a 64-byte
//! buffer and the format cannot store more than that (no `%s`, `%[`, `%c`
//! without a width below 64, no `%L` floats, no positional arguments), the
//! count and every stored byte must equal the host glibc `sscanf`'s.
//!
//! Input: the format, the input text, and one selector byte per argument
//! (a buffer, or a raw register value).

#![no_main]

use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{RegionKind, Vm};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, c_int, CString};

const BUF: usize = 64;

#[derive(Arbitrary, Debug)]
enum Arg {
    Buffer,
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    format: Vec<u8>,
    text: Vec<u8>,
    args: [Arg; 3],
}

extern "C" {
    fn sscanf(s: *const c_char, fmt: *const c_char, ...) -> c_int;
}

/// True if glibc's sscanf cannot store more than 64 bytes per argument
/// with this format, so the host side is memory-safe to run.
fn bounded(fmt: &[u8]) -> bool {
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        let start = i;
        while i < fmt.len() && (fmt[i] == b'*' || fmt[i] == b'\'' || fmt[i] == b'I') {
            i += 1;
        }
        let digits = i;
        while i < fmt.len() && fmt[i].is_ascii_digit() {
            i += 1;
        }
        if fmt.get(i) == Some(&b'$') {
            return false;
        }
        let width: usize = std::str::from_utf8(&fmt[digits..i])
            .ok()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        let lengths = i;
        while i < fmt.len() && b"hlLqjztm".contains(&fmt[i]) {
            i += 1;
        }
        let length = &fmt[lengths..i];
        if length.contains(&b'L') || length.contains(&b'q') || length.contains(&b'm') {
            return false;
        }
        match fmt.get(i) {
            Some(b's' | b'[' | b'c' | b'S' | b'C') if width == 0 || width >= BUF - 1 => {
                return false
            }
            Some(b'l') => return false,
            None => return true,
            _ => {}
        }
        let _ = start;
        i += 1;
    }
    true
}

fuzz_target!(|input: Input| {
    let mut vm = Vm::default();
    let rt = Runtime::new(OutputSink::buffer_with_limit(1 << 16)).with_heap_limit(1 << 20);
    let mut strict = rt.helper("__bpf_strict_sscanf").unwrap();
    let mut place = |bytes: &[u8]| {
        let a = vm.mem.alloc(RegionKind::Data, bytes.len() + 1, 1).unwrap();
        vm.mem.write_bytes(a, bytes).unwrap();
        vm.mem.store(a + bytes.len() as u64, 1, 0).unwrap();
        a
    };
    let fmt: Vec<u8> = input
        .format
        .iter()
        .copied()
        .filter(|b| *b != 0)
        .take(256)
        .collect();
    let text: Vec<u8> = input
        .text
        .iter()
        .copied()
        .filter(|b| *b != 0)
        .take(256)
        .collect();
    let (f, s) = (place(&fmt), place(&text));
    let bufs: Vec<u64> = (0..3)
        .map(|_| vm.mem.alloc(RegionKind::Data, BUF, 8).unwrap())
        .collect();
    let regs: Vec<u64> = input
        .args
        .iter()
        .zip(&bufs)
        .map(|(a, b)| match a {
            Arg::Buffer => *b,
            Arg::Raw(v) => *v,
        })
        .collect();
    let ours = strict(&mut vm.mem, [s, f, regs[0], regs[1], regs[2]]);
    let all_buffers = input.args.iter().all(|a| matches!(a, Arg::Buffer));
    if !(all_buffers && bounded(&fmt)) {
        return;
    }
    let Ok(count) = ours else {
        // A fault (too few arguments for the format, or %n through a
        // pointer it did not get) where glibc would read garbage.
        return;
    };
    let (cs, cf) = (
        CString::new(text).unwrap(),
        CString::new(fmt.clone()).unwrap(),
    );
    let mut host = [[0u8; BUF]; 3];
    let [a, b, c] = &mut host;
    // SAFETY: `bounded` limits every store to 64 bytes; the format was
    // accepted by our sscanf with three arguments, so it takes at most 3.
    let n = unsafe {
        sscanf(
            cs.as_ptr(),
            cf.as_ptr(),
            a.as_mut_ptr(),
            b.as_mut_ptr(),
            c.as_mut_ptr(),
        )
    };
    assert_eq!(
        count as i32,
        n,
        "count for {:?}",
        String::from_utf8_lossy(&fmt)
    );
    for (i, buf) in bufs.iter().enumerate() {
        assert_eq!(
            vm.mem.read_bytes(*buf, BUF).unwrap(),
            host[i],
            "argument {i} for {:?}",
            String::from_utf8_lossy(&fmt)
        );
    }
});
