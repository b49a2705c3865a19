//! `<time.h>` with the deterministic clock, `errno` as the library sets
//! it, `strerror`/`perror`, and the tokenizers, called as helpers.

mod common;

use bpf_runtime::TimeSource;
use common::{assert_fault, Env};

fn errno(env: &mut Env) -> i32 {
    let at = env.ok("__errno_location", &[]);
    env.mem.load(at, 4).unwrap() as u32 as i32
}

#[test]
fn the_deterministic_clock_starts_fixed_and_moves_per_read() {
    let mut env = Env::new();
    env.rt.set_time_source(TimeSource::DETERMINISTIC);
    let t = env.data(&[0; 8]);
    assert_eq!(env.ok("time", &[t]), 1_704_067_200);
    assert_eq!(env.mem.load(t, 8).unwrap(), 1_704_067_200);
    let ts = env.data(&[0; 16]);
    env.ok("clock_gettime", &[1, ts]);
    let first = env.mem.load(ts + 8, 8).unwrap();
    env.ok("clock_gettime", &[1, ts]);
    assert_eq!(env.mem.load(ts + 8, 8).unwrap(), first + 1000);
    // sleep moves the clocks, without waiting.
    let start = std::time::Instant::now();
    env.ok("sleep", &[100]);
    env.ok("clock_gettime", &[1, ts]);
    assert_eq!(env.mem.load(ts, 8).unwrap(), 100);
    assert!(start.elapsed().as_secs() < 5);
    // An unknown clock.
    assert_eq!(env.ok("clock_gettime", &[99, ts]) as i64, -1);
    assert_eq!(errno(&mut env), libc::EINVAL);
    // Snapshots restore the clock with the rest of the state.
    let saved = env.rt.save();
    let a = env.ok("time", &[0]);
    env.rt.restore(saved);
    assert_eq!(env.ok("time", &[0]), a);
}

#[test]
fn broken_down_time_and_strftime_in_utc() {
    let mut env = Env::new();
    env.rt.set_time_source(TimeSource::DETERMINISTIC);
    let t = env.data(&1_719_792_000i64.to_le_bytes()); // 2024-07-01 00:00:00 UTC
    let tm = env.ok("localtime", &[t]);
    let field = |env: &Env, i: u64| env.mem.load(tm + 4 * i, 4).unwrap() as i32;
    assert_eq!(
        (0..9).map(|i| field(&env, i)).collect::<Vec<_>>(),
        [0, 0, 0, 1, 6, 124, 1, 182, 0]
    );
    let zone = env.mem.load(tm + 48, 8).unwrap();
    assert_eq!(env.read_cstr(zone), b"GMT");
    let buf = env.data(&[0; 64]);
    let f = env.literal(b"%A %d %B %Y %H:%M:%S %Z %j");
    assert_eq!(env.ok("strftime", &[buf, 64, f, tm]), 36);
    assert_eq!(env.read_cstr(buf), b"Monday 01 July 2024 00:00:00 GMT 183");
    // Too small: 0, as C says.
    assert_eq!(env.ok("strftime", &[buf, 5, f, tm]), 0);
    // mktime normalises in place: day 32 of July is August 1st.
    env.mem.store(tm + 12, 4, 32).unwrap();
    assert_eq!(env.ok("mktime", &[tm]), 1_719_792_000 + 31 * 86_400);
    assert_eq!((field(&env, 3), field(&env, 4)), (1, 7));
    let s = env.ok("asctime", &[tm]);
    assert_eq!(env.read_cstr(s), b"Thu Aug  1 00:00:00 2024\n");
    let d = env.ok("difftime", &[10, 4]);
    assert_eq!(f64::from_bits(d), 6.0);
    // A bad pointer is a memory error, not a crash.
    match env.call("gmtime", &[0x18]) {
        Err(bpf_vm::HelperError::Memory(e)) => assert_eq!(e.addr, 0x18),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errno_follows_glibc() {
    let mut env = Env::new();
    // Nothing allocated until something needs errno.
    let data = env.mem.region_len(bpf_vm::RegionKind::Data);
    let s = env.cstr(b"99999999999999999999");
    assert_eq!(env.mem.region_len(bpf_vm::RegionKind::Data), data + 21);
    assert_eq!(env.ok("strtol", &[s, 0, 10]), i64::MAX as u64);
    assert_eq!(errno(&mut env), libc::ERANGE);
    let s = env.cstr(b"1e-400");
    let at = env.ok("__errno_location", &[]);
    env.mem.store(at, 4, 0).unwrap();
    env.ok("strtod", &[s, 0]);
    assert_eq!(errno(&mut env), libc::ERANGE);
    env.mem.store(at, 4, 0).unwrap();
    env.ok("strtol", &[s, 0, 1]);
    assert_eq!(errno(&mut env), libc::EINVAL);
    // Math functions set it as glibc's libm does.
    env.mem.store(at, 4, 0).unwrap();
    env.ok("log", &[0f64.to_bits()]);
    assert_eq!(errno(&mut env), libc::ERANGE);
    env.ok("sqrt", &[(-1f64).to_bits()]);
    assert_eq!(errno(&mut env), libc::EDOM);
    // strerror and perror give glibc's texts.
    let m = env.ok("strerror", &[libc::ENOENT as u64]);
    assert_eq!(env.read_cstr(m), b"No such file or directory");
    let p = env.cstr(b"open");
    env.ok("perror", &[p]);
    assert_eq!(env.output(), "open: Numerical argument out of domain\n");
}

#[test]
fn strtok_keeps_its_place_in_the_runtime_state() {
    let mut env = Env::new();
    let s = env.cstr(b"a,b");
    let d = env.cstr(b",");
    assert_fault(env.call("strtok", &[0, d]), &["strtok(NULL", "first call"]);
    let a = env.ok("strtok", &[s, d]);
    let saved = env.rt.save();
    let b = env.ok("strtok", &[0, d]);
    assert_eq!(env.read_cstr(a), b"a");
    assert_eq!(env.read_cstr(b), b"b");
    assert_eq!(env.ok("strtok", &[0, d]), 0);
    env.rt.restore(saved);
    assert_eq!(env.ok("strtok", &[0, d]), b, "restored with the snapshot");
}
