//! `runtime_printf`: the C runtime's printf family over arbitrary format
//! strings and argument registers, against VM memory.
//!
//! Checks: `printf`, `fprintf`, `snprintf` and `sprintf` return a count or
//! a typed error for any format and any registers (good, dangling, freed,
//! unterminated or absurd pointers, huge widths), never a panic, a huge
//! allocation or a hang; and only `sprintf` writes past the destination
//! buffer (C's overflow, still inside VM memory).
//!
//! Besides, one integer conversion built from arbitrary flags (any order,
//! repeated), width, precision, length modifier and conversion letter must
//! format exactly as the host's glibc `snprintf` formats it.
//!
//! Input: an `arbitrary` structure (below); the format string and a few
//! strings are placed in the data region or in `malloc`ed heap blocks.

#![no_main]

use bpf_runtime::{OutputSink, Runtime, STDERR_HANDLE, STDOUT_HANDLE};
use bpf_vm::{HelperFn, Memory, RegionKind, Vm};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, c_int, c_uint, CString};

#[derive(Arbitrary, Debug)]
enum Func {
    Printf,
    Fprintf { stream: u8 },
    Snprintf { size: u16 },
    Sprintf,
}

/// Where a string lives.
#[derive(Arbitrary, Debug)]
struct Text {
    bytes: Vec<u8>,
    /// In a `malloc`ed block (else the data region).
    heap: bool,
    /// Followed by a NUL (else it runs into whatever follows).
    terminated: bool,
    /// `free`d before the call.
    freed: bool,
}

/// One argument register.
#[derive(Arbitrary, Debug)]
enum Arg {
    Raw(u64),
    /// A pointer into text `n`, `off` bytes in.
    Text {
        n: u8,
        off: u8,
    },
    /// The destination buffer.
    Dest,
}

/// One integer conversion: `%{flags}{width}.{precision}{length}{conv}`.
#[derive(Arbitrary, Debug)]
struct Spec {
    flags: Vec<u8>,
    width: Option<u8>,
    precision: Option<Option<u8>>,
    length: u8,
    conv: u8,
    value: u64,
}

const FLAGS: &[u8] = b"-+ #0'";
const LENGTHS: &[&str] = &["", "hh", "h", "l", "ll", "q", "j", "z", "Z", "t"];
const CONVS: &[u8] = b"diuoxXc";

#[derive(Arbitrary, Debug)]
struct Input {
    spec: Spec,
    func: Func,
    format: Text,
    texts: Vec<Text>,
    args: [Arg; 4],
    /// Bytes of destination buffer (snprintf/sprintf), in the data region.
    dest: u16,
}

fuzz_target!(|input: Input| {
    compare_with_host(&input.spec);
    let mut vm = Vm::default();
    let out = OutputSink::buffer_with_limit(1 << 20);
    let rt = Runtime::new(out).with_heap_limit(1 << 20);
    let mut malloc = rt.helper("malloc").unwrap();
    let mut free = rt.helper("free").unwrap();
    let mut place = |mem: &mut Memory, t: &Text| -> u64 {
        let mut bytes = t.bytes.clone();
        if t.terminated {
            bytes.push(0);
        }
        let addr = if t.heap {
            match malloc(mem, [bytes.len() as u64, 0, 0, 0, 0]) {
                Ok(a) if a != 0 => a,
                _ => return 0,
            }
        } else {
            mem.alloc(RegionKind::Data, bytes.len().max(1), 1).unwrap()
        };
        mem.write_bytes(addr, &bytes).unwrap();
        if t.freed && t.heap {
            free(mem, [addr, 0, 0, 0, 0]).unwrap();
        }
        addr
    };
    let fmt = place(&mut vm.mem, &input.format);
    let texts: Vec<u64> = input
        .texts
        .iter()
        .take(4)
        .map(|t| place(&mut vm.mem, t))
        .collect();
    let dest_len = input.dest as usize;
    let dest = vm.mem.alloc(RegionKind::Data, dest_len + 16, 8).unwrap();
    let guard = vm.mem.read_bytes(dest + dest_len as u64, 16).unwrap();

    let args: Vec<u64> = input
        .args
        .iter()
        .map(|a| match *a {
            Arg::Raw(v) => v,
            Arg::Text { n, off } => texts
                .get(n as usize % texts.len().max(1))
                .map_or(0, |&t| t.wrapping_add(u64::from(off))),
            Arg::Dest => dest,
        })
        .collect();
    let call = |name: &str, mem: &mut Memory, regs: [u64; 5]| {
        let mut f: HelperFn = rt.helper(name).unwrap();
        f(mem, regs)
    };
    let mem = &mut vm.mem;
    let bounded = !matches!(input.func, Func::Sprintf);
    match input.func {
        Func::Printf => {
            let _ = call("__bpf_strict_printf", mem, [fmt, args[0], args[1], args[2], args[3]]);
        }
        Func::Fprintf { stream } => {
            let stream = match stream % 3 {
                0 => STDOUT_HANDLE,
                1 => STDERR_HANDLE,
                _ => u64::from(stream),
            };
            let _ = call("__bpf_strict_fprintf", mem, [stream, fmt, args[0], args[1], args[2]]);
        }
        Func::Snprintf { size } => {
            let size = u64::from(size).min(dest_len as u64);
            let _ = call("__bpf_strict_snprintf", mem, [dest, size, fmt, args[0], args[1]]);
        }
        Func::Sprintf => {
            let _ = call("__bpf_strict_sprintf", mem, [dest, fmt, args[0], args[1], args[2]]);
        }
    }
    // Only sprintf may write past the destination (C's overflow, inside VM
    // memory; heap blocks are checked).
    if bounded {
        assert_eq!(
            mem.read_bytes(dest + dest_len as u64, 16).unwrap(),
            guard,
            "wrote past the destination buffer"
        );
    }
});

/// Formats one integer conversion with the runtime's `snprintf` and with
/// the host's; the two must agree byte for byte.
fn compare_with_host(spec: &Spec) {
    let mut fmt = String::from("%");
    for &f in spec.flags.iter().take(6) {
        fmt.push(FLAGS[f as usize % FLAGS.len()] as char);
    }
    if let Some(w) = spec.width {
        fmt += &(w % 64).to_string();
    }
    match spec.precision {
        Some(Some(p)) => fmt += &format!(".{}", p % 64),
        Some(None) => fmt.push('.'),
        None => {}
    }
    let conv = CONVS[spec.conv as usize % CONVS.len()];
    // glibc takes `%lc` as a wide character; the runtime refuses it.
    let length = if conv == b'c' {
        ""
    } else {
        LENGTHS[spec.length as usize % LENGTHS.len()]
    };
    fmt += length;
    fmt.push(conv as char);

    let mut vm = Vm::default();
    let rt = Runtime::new(OutputSink::buffer());
    let mut snprintf = rt.helper("__bpf_strict_snprintf").unwrap();
    let buf = vm.mem.alloc(RegionKind::Data, 256, 8).unwrap();
    let f = vm.mem.alloc(RegionKind::Data, fmt.len() + 1, 1).unwrap();
    vm.mem.write_bytes(f, fmt.as_bytes()).unwrap();
    let n = snprintf(&mut vm.mem, [buf, 256, f, spec.value, 0]).unwrap() as usize;
    let ours = vm.mem.read_bytes(buf, n).unwrap();

    let c_fmt = CString::new(fmt.clone()).unwrap();
    let mut host = vec![0u8; 256];
    let (b, f) = (host.as_mut_ptr() as *mut c_char, c_fmt.as_ptr());
    let v = spec.value;
    // SAFETY: the buffer holds 256 bytes and snprintf writes at most that
    // many; each argument has the C type its conversion reads (on BPF
    // `l`, `ll`, `q`, `j`, `z`, `Z` and `t` are all 64 bits).
    let len = unsafe {
        match (length, conv) {
            ("", b'd' | b'i' | b'c') | ("h" | "hh", b'd' | b'i') => {
                libc::snprintf(b, 256, f, v as c_int)
            }
            ("" | "h" | "hh", _) => libc::snprintf(b, 256, f, v as c_uint),
            _ => libc::snprintf(b, 256, f, v),
        }
    };
    host.truncate(len as usize);
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&host),
        "{fmt} of {v:#x}"
    );
}
