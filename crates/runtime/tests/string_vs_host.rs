//! `<string.h>` helpers compared with the host's glibc on the same bytes,
//! and their refusals of bad pointers, bad lengths and overlapping copies.

mod common;

use common::{assert_fault, assert_mem_error, Env, BAD_POINTERS};
use proptest::prelude::*;
use std::ffi::{c_char, c_int, c_void};

/// Bytes drawn from a small alphabet, so that searches and comparisons hit,
/// with bytes above 0x7f to check that comparisons are unsigned.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        proptest::sample::select(vec![b'a', b'b', b'c', 0x80, 0xff]),
        0..max,
    )
}

fn with_nul(mut v: Vec<u8>) -> Vec<u8> {
    v.push(0);
    v
}

/// A pointer result as an offset from its base (None for NULL).
fn host_offset(p: *const c_void, base: *const u8) -> Option<usize> {
    (!p.is_null()).then(|| p as usize - base as usize)
}

fn vm_offset(p: u64, base: u64) -> Option<usize> {
    (p != 0).then(|| (p - base) as usize)
}

/// The sign of a C comparison result register.
fn sign(v: u64) -> i32 {
    (v as i32).signum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn memcpy_memmove_memset(buf in bytes(40), a in 0usize..40, b in 0usize..40, n in 0usize..40, c in any::<i32>()) {
        let len = buf.len();
        let (a, b) = (a.min(len), b.min(len));
        let n = n.min(len - a.max(b));
        let mut env = Env::new();
        // memmove inside one buffer, overlapping or not.
        let mut host = buf.clone();
        let vm = env.data(&buf);
        // SAFETY: both ranges lie inside `host`.
        unsafe { libc::memmove(host.as_mut_ptr().add(a) as *mut c_void, host.as_ptr().add(b) as *const c_void, n) };
        prop_assert_eq!(env.ok("memmove", &[vm + a as u64, vm + b as u64, n as u64]), vm + a as u64);
        prop_assert_eq!(env.mem.read_bytes(vm, len).unwrap(), host.clone());
        // memcpy between two buffers.
        let src = env.data(&buf);
        let dst = env.data(&vec![0x55; len]);
        let mut hdst = vec![0x55u8; len];
        // SAFETY: both ranges lie inside their buffers, which do not overlap.
        unsafe { libc::memcpy(hdst.as_mut_ptr().add(a) as *mut c_void, buf.as_ptr().add(b) as *const c_void, n) };
        prop_assert_eq!(env.ok("memcpy", &[dst + a as u64, src + b as u64, n as u64]), dst + a as u64);
        prop_assert_eq!(env.mem.read_bytes(dst, len).unwrap(), hdst);
        // memset with any int: C converts it to unsigned char.
        // SAFETY: the range lies inside `host`.
        unsafe { libc::memset(host.as_mut_ptr().add(a) as *mut c_void, c as c_int, n) };
        env.ok("memset", &[vm + a as u64, c as i64 as u64, n as u64]);
        prop_assert_eq!(env.mem.read_bytes(vm, len).unwrap(), host);
    }

    #[test]
    fn memcmp_memchr(x in bytes(30), y in bytes(30), n in 0usize..30, c in any::<i32>()) {
        let n = n.min(x.len()).min(y.len());
        let mut env = Env::new();
        let (vx, vy) = (env.data(&x), env.data(&y));
        // SAFETY: `n` is within both buffers.
        let host = unsafe { libc::memcmp(x.as_ptr() as *const c_void, y.as_ptr() as *const c_void, n) };
        prop_assert_eq!(sign(env.ok("memcmp", &[vx, vy, n as u64])), host.signum());
        let c = if c % 3 == 0 { c } else { i32::from(x.get(c as usize % 31).copied().unwrap_or(0)) };
        // SAFETY: `n` is within `x`.
        let host = unsafe { libc::memchr(x.as_ptr() as *const c_void, c, n) };
        prop_assert_eq!(vm_offset(env.ok("memchr", &[vx, c as i64 as u64, n as u64]), vx), host_offset(host, x.as_ptr()));
    }

    #[test]
    fn string_lengths_and_comparisons(x in bytes(20), y in bytes(20), n in 0usize..25) {
        let (x, y) = (with_nul(x.into_iter().filter(|b| *b != 0).collect()), with_nul(y));
        let mut env = Env::new();
        let (vx, vy) = (env.data(&x), env.data(&y));
        let (hx, hy) = (x.as_ptr() as *const c_char, y.as_ptr() as *const c_char);
        // SAFETY: both are NUL-terminated.
        unsafe {
            prop_assert_eq!(env.ok("strlen", &[vx]) as usize, libc::strlen(hx));
            prop_assert_eq!(env.ok("strnlen", &[vx, n as u64]) as usize, libc::strnlen(hx, n));
            prop_assert_eq!(sign(env.ok("strcmp", &[vx, vy])), libc::strcmp(hx, hy).signum());
            prop_assert_eq!(sign(env.ok("strncmp", &[vx, vy, n as u64])), libc::strncmp(hx, hy, n).signum());
        }
    }

    #[test]
    fn string_copies(x in bytes(20), y in bytes(20), n in 0usize..30) {
        let (x, y) = (with_nul(x.into_iter().filter(|b| *b != 0).collect::<Vec<_>>()), with_nul(y.into_iter().filter(|b| *b != 0).collect()));
        let mut env = Env::new();
        let vy = env.data(&y);
        let mut dst = vec![0x55u8; 64];
        dst[..x.len()].copy_from_slice(&x);
        let (d1, d2, d3) = (env.data(&dst), env.data(&dst), env.data(&dst));
        let (mut h1, mut h2, mut h3) = (dst.clone(), dst.clone(), dst.clone());
        let hy = y.as_ptr() as *const c_char;
        // SAFETY: the 64-byte destinations hold x + y + NUL and any n < 30.
        unsafe {
            libc::strcpy(h1.as_mut_ptr() as *mut c_char, hy);
            libc::strncpy(h2.as_mut_ptr() as *mut c_char, hy, n);
            libc::strcat(h3.as_mut_ptr() as *mut c_char, hy);
        }
        prop_assert_eq!(env.ok("strcpy", &[d1, vy]), d1);
        prop_assert_eq!(env.ok("strncpy", &[d2, vy, n as u64]), d2);
        prop_assert_eq!(env.ok("strcat", &[d3, vy]), d3);
        prop_assert_eq!(env.mem.read_bytes(d1, 64).unwrap(), h1);
        prop_assert_eq!(env.mem.read_bytes(d2, 64).unwrap(), h2);
        prop_assert_eq!(env.mem.read_bytes(d3, 64).unwrap(), h3);
    }

    #[test]
    fn string_searches(h in bytes(25), needle in bytes(4), c in prop_oneof![Just(0i32), Just(0x161), Just(b'b' as i32), Just(0x80), Just(-1), any::<i32>()]) {
        let h = with_nul(h.into_iter().filter(|b| *b != 0).collect());
        let needle = with_nul(needle.into_iter().filter(|b| *b != 0).collect());
        let mut env = Env::new();
        let (vh, vn) = (env.data(&h), env.data(&needle));
        let (hh, hn) = (h.as_ptr() as *const c_char, needle.as_ptr() as *const c_char);
        // SAFETY: both are NUL-terminated.
        unsafe {
            prop_assert_eq!(vm_offset(env.ok("strchr", &[vh, c as i64 as u64]), vh), host_offset(libc::strchr(hh, c) as *const c_void, h.as_ptr()));
            prop_assert_eq!(vm_offset(env.ok("strrchr", &[vh, c as i64 as u64]), vh), host_offset(libc::strrchr(hh, c) as *const c_void, h.as_ptr()));
            prop_assert_eq!(vm_offset(env.ok("strstr", &[vh, vn]), vh), host_offset(libc::strstr(hh, hn) as *const c_void, h.as_ptr()));
        }
    }
}

#[test]
fn strdup_copies_onto_the_heap() {
    let mut env = Env::new();
    let s = env.literal(b"hello");
    let p = env.ok("strdup", &[s]);
    assert_eq!(bpf_vm::RegionKind::of(p), Some(bpf_vm::RegionKind::Heap));
    assert_eq!(env.read_cstr(p), b"hello");
    assert_eq!(env.rt.heap_block_size(p), Some(6));
    env.ok("free", &[p]);
    assert_eq!(env.rt.heap_stats(&env.mem).live_blocks, 0);
}

#[test]
fn bad_pointers_are_memory_errors_naming_the_address() {
    let mut env = Env::new();
    let good = env.cstr(b"abc");
    let ro = env.literal(b"constant");
    for bad in BAD_POINTERS {
        assert_mem_error(env.call("strlen", &[bad]), bad);
        assert_mem_error(env.call("strnlen", &[bad, 5]), bad);
        assert_mem_error(env.call("strcmp", &[good, bad]), bad);
        assert_mem_error(env.call("strcmp", &[bad, good]), bad);
        assert_mem_error(env.call("strncmp", &[good, bad, 2]), bad);
        assert_mem_error(env.call("strcpy", &[bad, good]), bad);
        assert_mem_error(env.call("strcpy", &[good, bad]), bad);
        assert_mem_error(env.call("strncpy", &[bad, good, 2]), bad);
        assert_mem_error(env.call("strcat", &[bad, good]), bad);
        assert_mem_error(env.call("strchr", &[bad, 'a' as u64]), bad);
        assert_mem_error(env.call("strrchr", &[bad, 'a' as u64]), bad);
        assert_mem_error(env.call("strstr", &[good, bad]), bad);
        assert_mem_error(env.call("strdup", &[bad]), bad);
        assert_mem_error(env.call("memcpy", &[good, bad, 2]), bad);
        assert_mem_error(env.call("memcpy", &[bad, good, 2]), bad);
        assert_mem_error(env.call("memmove", &[bad, good, 2]), bad);
        assert_mem_error(env.call("memset", &[bad, 0, 2]), bad);
        assert_mem_error(env.call("memcmp", &[bad, good, 2]), bad);
        assert_mem_error(env.call("memchr", &[bad, 0, 2]), bad);
    }
    // Writing into read-only data (a string literal).
    assert_mem_error(env.call("strcpy", &[ro, good]), ro);
    assert_mem_error(env.call("memset", &[ro, 0, 1]), ro);
    assert_mem_error(env.call("strcat", &[ro, good]), ro + 8);
}

#[test]
fn lengths_past_the_object_are_refused() {
    let mut env = Env::new();
    let buf = env.data(&[1u8; 16]);
    let other = env.cstr(&[2u8; 15]);
    // Region-level checks: adjacent objects in one region are not told apart
    // (heap blocks are; see tests/heap.rs).
    for n in [1u64 << 20, 1 << 40, u64::MAX] {
        assert_mem_error(env.call("memset", &[buf, 0, n]), buf);
        assert_mem_error(env.call("memcpy", &[other + 8, buf, n.min(1 << 40)]), buf);
        assert_mem_error(env.call("memcmp", &[buf, other, n]), buf);
        assert_mem_error(env.call("strncpy", &[buf, other, n]), buf);
    }
    // Nothing was written by the refused calls.
    assert_eq!(env.mem.read_bytes(buf, 16).unwrap(), [1u8; 16]);
    // An unterminated string runs into the region's end.
    let tail = env.data(b"xyz");
    let end = bpf_vm::RegionKind::Data.base() + env.mem.region_len(bpf_vm::RegionKind::Data) as u64;
    assert_eq!(end, tail + 3);
    assert_mem_error(env.call("strlen", &[tail]), end);
    // ...but strnlen, strncmp and memchr read only what they need.
    assert_eq!(env.ok("strnlen", &[tail, 3]), 3);
    let xy = env.cstr(b"xy");
    assert_eq!(env.ok("strncmp", &[tail, xy, 2]), 0);
    assert_eq!(env.ok("memchr", &[tail, 'z' as u64, 1 << 30]), tail + 2);
    assert!(env.call("memchr", &[tail, 'q' as u64, 1 << 30]).is_err());
}

#[test]
fn zero_counts_touch_nothing() {
    let mut env = Env::new();
    for f in [
        "memcpy", "memmove", "memset", "memcmp", "strncmp", "strncpy",
    ] {
        let r = env.ok(f, &[0, 0, 0]);
        assert!(r == 0, "{f}(NULL, NULL, 0) returned {r:#x}");
    }
    assert_eq!(env.ok("memchr", &[0, 0, 0]), 0);
}

#[test]
fn overlapping_copies_are_faults() {
    let mut env = Env::new();
    let buf = env.data(b"abcdefgh\0\0\0\0\0\0\0\0");
    assert_fault(
        env.call("memcpy", &[buf + 1, buf, 4]),
        &["memcpy", &format!("{:#x}", buf + 1), "overlap", "memmove"],
    );
    assert_fault(env.call("strcpy", &[buf + 2, buf]), &["strcpy", "overlap"]);
    assert_fault(
        env.call("strncpy", &[buf + 2, buf, 4]),
        &["strncpy", "overlap"],
    );
    assert_fault(env.call("strcat", &[buf, buf + 4]), &["strcat", "overlap"]);
    // memmove is the one that allows it.
    env.ok("memmove", &[buf + 1, buf, 4]);
    assert_eq!(env.read_cstr(buf), b"aabcdfgh");
    // Adjacent, not overlapping: fine.
    env.ok("memcpy", &[buf + 4, buf, 4]);
}

/// Text for the scanning functions: letters, separators and a high byte.
fn text(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        proptest::sample::select(vec![b'a', b'b', b',', b' ', b';', b'A', 0xe9]),
        0..max,
    )
}

extern "C" {
    fn strtok_r(s: *mut c_char, delim: *const c_char, save: *mut *mut c_char) -> *mut c_char;
    fn strsep(sp: *mut *mut c_char, delim: *const c_char) -> *mut c_char;
    fn strcasecmp(a: *const c_char, b: *const c_char) -> c_int;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn spans_and_searches(s in text(24), set in text(4)) {
        let mut env = Env::new();
        let (hs, hset) = (with_nul(s.clone()), with_nul(set.clone()));
        let (vs, vset) = (env.cstr(&s), env.cstr(&set));
        let (p, q) = (hs.as_ptr() as *const c_char, hset.as_ptr() as *const c_char);
        // SAFETY: NUL-terminated host strings.
        let (span, cspan, brk) = unsafe { (libc::strspn(p, q), libc::strcspn(p, q), libc::strpbrk(p, q)) };
        prop_assert_eq!(env.ok("strspn", &[vs, vset]) as usize, span);
        prop_assert_eq!(env.ok("strcspn", &[vs, vset]) as usize, cspan);
        prop_assert_eq!(vm_offset(env.ok("strpbrk", &[vs, vset]), vs), host_offset(brk.cast(), hs.as_ptr()));
        // SAFETY: as above.
        let cmp = unsafe { strcasecmp(p, q) };
        prop_assert_eq!(sign(env.ok("strcasecmp", &[vs, vset])), cmp.signum());
    }

    #[test]
    fn tokens_like_glibc(s in text(24), delims in text(3)) {
        let mut env = Env::new();
        // Host: strtok_r over a copy; the runtime's strtok, strtok_r and strsep.
        let mut hs = with_nul(s.clone());
        let hd = with_nul(delims.clone());
        let base = hs.as_mut_ptr();
        let mut save: *mut c_char = std::ptr::null_mut();
        let mut host = Vec::new();
        // SAFETY: a NUL-terminated buffer we own, tokenized in place.
        unsafe {
            let mut t = strtok_r(base.cast(), hd.as_ptr().cast(), &mut save);
            while !t.is_null() {
                host.push(t as usize - base as usize);
                t = strtok_r(std::ptr::null_mut(), hd.as_ptr().cast(), &mut save);
            }
        }
        let (v, vd) = (env.cstr(&s), env.cstr(&delims));
        let mut ours = Vec::new();
        let mut t = env.ok("strtok", &[v, vd]);
        while t != 0 {
            ours.push((t - v) as usize);
            t = env.ok("strtok", &[0, vd]);
        }
        prop_assert_eq!(&ours, &host);
        prop_assert_eq!(env.mem.read_bytes(v, s.len()).unwrap(), hs[..s.len()].to_vec());

        let mut hs = with_nul(s.clone());
        let mut p: *mut c_char = hs.as_mut_ptr().cast();
        let base = p as usize;
        let mut host = Vec::new();
        // SAFETY: as above.
        unsafe {
            loop {
                let t = strsep(&mut p, hd.as_ptr().cast());
                if t.is_null() { break; }
                host.push(t as usize - base);
            }
        }
        let v = env.cstr(&s);
        let sp = env.data(&v.to_le_bytes());
        let mut ours = Vec::new();
        loop {
            let t = env.ok("strsep", &[sp, vd]);
            if t == 0 { break; }
            ours.push((t - v) as usize);
        }
        prop_assert_eq!(ours, host);
    }
}
