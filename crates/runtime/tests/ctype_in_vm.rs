//! `<ctype.h>` is static inline BPF code: run it in the VM for EOF and
//! every unsigned char, and compare with the host's C-locale functions.

mod common;

use bpf_runtime::{OutputSink, Runtime};
use common::elf::load;

/// The same packing as `ctype_bits` in fixtures/ctype.c.
fn host_bits(c: i32) -> u64 {
    // SAFETY: the ctype functions accept EOF and every unsigned char value;
    // a Rust program runs in the C locale unless it calls setlocale.
    unsafe {
        let preds = [
            libc::isalnum(c),
            libc::isalpha(c),
            libc::isblank(c),
            libc::iscntrl(c),
            libc::isdigit(c),
            libc::isgraph(c),
            libc::islower(c),
            libc::isprint(c),
            libc::ispunct(c),
            libc::isspace(c),
            libc::isupper(c),
            libc::isxdigit(c),
        ];
        let mut bits = 0u64;
        for (i, p) in preds.iter().enumerate() {
            bits |= u64::from(*p != 0) << i;
        }
        bits |= ((libc::toupper(c) & 0xffff) as u64) << 16;
        bits |= ((libc::tolower(c) & 0xffff) as u64) << 32;
        bits
    }
}

#[test]
fn ctype_matches_host_for_eof_and_every_byte() {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = load("ctype.o", &rt);
    for c in -1..=255i32 {
        let got = prog.call("ctype_bits", &[c as i64 as u64]).unwrap();
        assert_eq!(got, host_bits(c), "character {c}: ours {got:#x}");
    }
}
