//! `<time.h>` (and `gettimeofday`, `sleep`): clocks from the host or a
//! deterministic clock ([`TimeSource`]), calendar conversions and
//! `strftime` by the host's glibc on a copy of the program's `struct tm`,
//! so results are glibc's.
//!
//! With the deterministic clock every read advances it by a fixed step
//! and conversions use UTC, so a transcript prints the same times on
//! every machine. `sleep`, `usleep` and `nanosleep` never block: they move
//! the program's clocks forward (both sources), so code that sleeps and
//! then measures sees the time pass without hanging the session.

use crate::ctx::Ctx;
use crate::statics::{self, ZONE_LEN, ZONE_SLOTS};
use crate::vmstr::{int_arg, int_ret, len_arg};
use crate::world::TimeSource;
use bpf_vm::{HelperError, Memory};
use std::ffi::CString;

/// `CLOCKS_PER_SEC`.
const CLOCKS_PER_SEC: i64 = 1_000_000;
const NS: i128 = 1_000_000_000;
/// Bytes of `struct tm` (glibc's x86-64 layout, `tm_gmtoff` and `tm_zone` included).
const TM_SIZE: usize = 56;
/// The most `strftime` produces.
const STRFTIME_MAX: usize = 1 << 20;

/// Which clock a read is of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clock {
    Realtime,
    Monotonic,
    Cpu,
}

/// Reads a clock in nanoseconds; `None` for a clock id the host refuses.
fn now(cx: &Ctx, clock: Clock, host_id: libc::clockid_t) -> Option<i128> {
    let source = cx.world.borrow().time;
    let mut st = cx.state.borrow_mut();
    match source {
        TimeSource::Deterministic { epoch, step_ns } => {
            st.ticks = st.ticks.saturating_add(step_ns);
            let t = i128::from(st.ticks);
            Some(match clock {
                Clock::Realtime => i128::from(epoch) * NS + t,
                Clock::Monotonic | Clock::Cpu => t,
            })
        }
        TimeSource::Host => {
            // SAFETY: an all-zero timespec is valid; clock_gettime writes it.
            let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
            // SAFETY: a valid out pointer; an unknown id only fails.
            if unsafe { libc::clock_gettime(host_id, &mut ts) } != 0 {
                return None;
            }
            let slept = if clock == Clock::Cpu {
                0
            } else {
                i128::from(st.ticks)
            };
            Some(i128::from(ts.tv_sec) * NS + i128::from(ts.tv_nsec) + slept)
        }
    }
}

fn split(ns: i128) -> (i64, i64) {
    (ns.div_euclid(NS) as i64, ns.rem_euclid(NS) as i64)
}

/// `time_t time(time_t *t)`.
pub(crate) fn time(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if a[0] != 0 {
        cx.check("time", a[0], 8)?;
        mem.slice_mut(a[0], 8)?;
    }
    let (s, _) = split(now(cx, Clock::Realtime, libc::CLOCK_REALTIME).unwrap_or(0));
    if a[0] != 0 {
        mem.store(a[0], 8, s as u64)?;
    }
    Ok(s as u64)
}

/// `clock_t clock(void)`: processor time in microseconds.
pub(crate) fn clock(cx: &Ctx, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    let ns = now(cx, Clock::Cpu, libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or(0);
    Ok((ns / (NS / i128::from(CLOCKS_PER_SEC))) as i64 as u64)
}

/// Stores `{sec, nsec}` (a `struct timespec`, or `timeval` with µs) at `at`.
fn store_pair(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    at: u64,
    a: i64,
    b: i64,
) -> Result<(), HelperError> {
    cx.check(func, at, 16)?;
    mem.slice_mut(at, 16)?;
    mem.store(at, 8, a as u64)?;
    mem.store(at + 8, 8, b as u64)?;
    Ok(())
}

/// `int clock_gettime(clockid_t id, struct timespec *ts)`.
pub(crate) fn clock_gettime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let id = int_arg(a[0]);
    let clock = match id {
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE | libc::CLOCK_TAI => Clock::Realtime,
        libc::CLOCK_PROCESS_CPUTIME_ID | libc::CLOCK_THREAD_CPUTIME_ID => Clock::Cpu,
        libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME => Clock::Monotonic,
        _ => {
            cx.set_errno(mem, libc::EINVAL)?;
            return Ok(int_ret(-1));
        }
    };
    let Some(ns) = now(cx, clock, id) else {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(int_ret(-1));
    };
    let (s, n) = split(ns);
    store_pair(cx, "clock_gettime", mem, a[1], s, n)?;
    Ok(0)
}

/// `int clock_getres(clockid_t id, struct timespec *res)`: 1 ns (1 µs
/// deterministic), as the clocks are read.
pub(crate) fn clock_getres(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let res = match cx.world.borrow().time {
        TimeSource::Deterministic { step_ns, .. } => step_ns.max(1) as i64,
        TimeSource::Host => 1,
    };
    if a[1] != 0 {
        store_pair(
            cx,
            "clock_getres",
            mem,
            a[1],
            res / 1_000_000_000,
            res % 1_000_000_000,
        )?;
    }
    Ok(0)
}

/// `int timespec_get(struct timespec *ts, int base)`: `base` (TIME_UTC = 1) or 0.
pub(crate) fn timespec_get(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    if int_arg(a[1]) != 1 {
        return Ok(0);
    }
    let (s, n) = split(now(cx, Clock::Realtime, libc::CLOCK_REALTIME).unwrap_or(0));
    store_pair(cx, "timespec_get", mem, a[0], s, n)?;
    Ok(1)
}

/// `int gettimeofday(struct timeval *tv, void *tz)`: the zone, if asked
/// for, is UTC (`{0, 0}`).
pub(crate) fn gettimeofday(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (s, n) = split(now(cx, Clock::Realtime, libc::CLOCK_REALTIME).unwrap_or(0));
    if a[0] != 0 {
        store_pair(cx, "gettimeofday", mem, a[0], s, n / 1000)?;
    }
    if a[1] != 0 {
        cx.check("gettimeofday", a[1], 8)?;
        mem.store(a[1], 8, 0)?;
    }
    Ok(0)
}

/// Moves the program's clocks forward by `ns` (the sleep functions).
fn advance(cx: &Ctx, ns: u64) {
    let mut st = cx.state.borrow_mut();
    st.ticks = st.ticks.saturating_add(ns);
}

/// `unsigned sleep(unsigned s)`: 0 (slept in full).
pub(crate) fn sleep(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    advance(cx, (a[0] as u32 as u64).saturating_mul(1_000_000_000));
    Ok(0)
}

/// `int usleep(useconds_t us)`.
pub(crate) fn usleep(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    advance(cx, (a[0] as u32 as u64).saturating_mul(1000));
    Ok(0)
}

/// `int nanosleep(const struct timespec *req, struct timespec *rem)`.
pub(crate) fn nanosleep(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    cx.check("nanosleep", a[0], 16)?;
    let (s, n) = (mem.load(a[0], 8)? as i64, mem.load(a[0] + 8, 8)? as i64);
    if s < 0 || !(0..1_000_000_000).contains(&n) {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(int_ret(-1));
    }
    advance(
        cx,
        (s as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(n as u64),
    );
    if a[1] != 0 {
        store_pair(cx, "nanosleep", mem, a[1], 0, 0)?;
    }
    Ok(0)
}

/// `double difftime(time_t t1, time_t t0)`: glibc's, the exact
/// difference rounded once.
pub(crate) fn difftime(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let d = i128::from(a[0] as i64) - i128::from(a[1] as i64);
    Ok((d as f64).to_bits())
}

/// True when conversions use UTC (the deterministic clock).
fn utc(cx: &Ctx) -> bool {
    matches!(cx.world.borrow().time, TimeSource::Deterministic { .. })
}

/// Reads the program's `struct tm` at `at` into a host one; `tm_zone` is
/// read as a string (kept alive in the returned `CString`).
fn read_tm(
    cx: &Ctx,
    func: &str,
    mem: &Memory,
    at: u64,
) -> Result<(libc::tm, Option<CString>), HelperError> {
    cx.check(func, at, TM_SIZE)?;
    let b = mem.slice(at, TM_SIZE)?;
    let int = |o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let long = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let zone_ptr = long(48) as u64;
    let zone = if zone_ptr == 0 {
        None
    } else {
        Some(CString::new(cx.string(func, mem, zone_ptr)?).unwrap_or_default())
    };
    // SAFETY: all-zero is a valid `tm` (a null `tm_zone`).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_sec = int(0);
    tm.tm_min = int(4);
    tm.tm_hour = int(8);
    tm.tm_mday = int(12);
    tm.tm_mon = int(16);
    tm.tm_year = int(20);
    tm.tm_wday = int(24);
    tm.tm_yday = int(28);
    tm.tm_isdst = int(32);
    tm.tm_gmtoff = long(40);
    tm.tm_zone = zone.as_ref().map_or(std::ptr::null(), |z| z.as_ptr());
    Ok((tm, zone))
}

/// Writes a host `struct tm` to the program's at `at`; `tm_zone` points
/// at a copy of the zone name among the runtime's statics.
fn write_tm(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    at: u64,
    tm: &libc::tm,
) -> Result<(), HelperError> {
    cx.check(func, at, TM_SIZE)?;
    mem.slice_mut(at, TM_SIZE)?;
    let zone = if tm.tm_zone.is_null() {
        Vec::new()
    } else {
        // SAFETY: glibc set `tm_zone` to one of its static, NUL-terminated names.
        unsafe { std::ffi::CStr::from_ptr(tm.tm_zone) }
            .to_bytes()
            .to_vec()
    };
    let mut z = zone;
    z.truncate(ZONE_LEN as usize - 1);
    z.push(0);
    let zone_at = zone_slot(cx, mem, &z)?;
    let mut b = [0u8; TM_SIZE];
    for (o, v) in [
        tm.tm_sec,
        tm.tm_min,
        tm.tm_hour,
        tm.tm_mday,
        tm.tm_mon,
        tm.tm_year,
        tm.tm_wday,
        tm.tm_yday,
        tm.tm_isdst,
    ]
    .into_iter()
    .enumerate()
    {
        b[4 * o..4 * o + 4].copy_from_slice(&v.to_le_bytes());
    }
    b[40..48].copy_from_slice(&tm.tm_gmtoff.to_le_bytes());
    b[48..56].copy_from_slice(&zone_at.to_le_bytes());
    mem.write_bytes(at, &b)?;
    Ok(())
}

/// `secs` as broken-down time: local, or UTC with `gmt` or the
/// deterministic clock. `None` when the year does not fit an `int`.
fn host_tm(cx: &Ctx, secs: i64, gmt: bool) -> Option<libc::tm> {
    // SAFETY: all-zero is a valid `tm`; the *_r functions fill it and read
    // only `secs`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe {
        if gmt || utc(cx) {
            !libc::gmtime_r(&secs, &mut tm).is_null()
        } else {
            !libc::localtime_r(&secs, &mut tm).is_null()
        }
    };
    ok.then_some(tm)
}

/// The runtime's copy of the zone name `z` (NUL-terminated): the slot
/// holding it, else the first empty one, else the last.
fn zone_slot(cx: &Ctx, mem: &mut Memory, z: &[u8]) -> Result<u64, HelperError> {
    let base = cx.statics(mem)? + statics::ZONES;
    let mut at = base + (ZONE_SLOTS - 1) * ZONE_LEN;
    for i in 0..ZONE_SLOTS {
        let slot = base + i * ZONE_LEN;
        let held = mem.slice(slot, ZONE_LEN as usize)?;
        if &held[..z.len()] == z {
            return Ok(slot);
        }
        if held[0] == 0 {
            at = slot;
            break;
        }
    }
    mem.write_bytes(at, z)?;
    Ok(at)
}

/// Converts the `time_t` at `t` into the `struct tm` at `out`; returns
/// `out`, or NULL (`errno = EOVERFLOW`) when the year does not fit.
fn convert(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    t: u64,
    out: u64,
    gmt: bool,
) -> Result<u64, HelperError> {
    cx.check(func, t, 8)?;
    let secs = mem.load(t, 8)? as i64;
    let Some(tm) = host_tm(cx, secs, gmt) else {
        cx.set_errno(mem, libc::EOVERFLOW)?;
        return Ok(0);
    };
    write_tm(cx, func, mem, out, &tm)?;
    Ok(out)
}

/// `struct tm *localtime_r(const time_t *t, struct tm *out)`.
pub(crate) fn localtime_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    convert(cx, "localtime_r", mem, a[0], a[1], false)
}

/// `struct tm *gmtime_r(const time_t *t, struct tm *out)`.
pub(crate) fn gmtime_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    convert(cx, "gmtime_r", mem, a[0], a[1], true)
}

/// `struct tm *localtime(const time_t *t)`: into the runtime's `struct tm`.
pub(crate) fn localtime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let out = cx.statics(mem)? + statics::TM;
    convert(cx, "localtime", mem, a[0], out, false)
}

/// `struct tm *gmtime(const time_t *t)`.
pub(crate) fn gmtime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let out = cx.statics(mem)? + statics::TM;
    convert(cx, "gmtime", mem, a[0], out, true)
}

/// `mktime` and `timegm`: normalises the `struct tm` at `a[0]` in place
/// and returns its `time_t`, or -1 (`errno = EOVERFLOW`).
fn make_time(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    at: u64,
    gmt: bool,
) -> Result<u64, HelperError> {
    let (mut tm, _zone) = read_tm(cx, func, mem, at)?;
    mem.slice_mut(at, TM_SIZE)?;
    // SAFETY: `tm` is a valid struct; mktime/timegm read and normalise it
    // (its `tm_zone`, if any, points at `_zone`, alive here). errno is
    // this thread's, cleared to tell a failure from the time -1.
    let (t, failed) = unsafe {
        *libc::__errno_location() = 0;
        let t = if gmt || utc(cx) {
            libc::timegm(&mut tm)
        } else {
            libc::mktime(&mut tm)
        };
        (t, t == -1 && *libc::__errno_location() != 0)
    };
    if failed {
        cx.set_errno(mem, libc::EOVERFLOW)?;
        return Ok(int_ret(-1));
    }
    write_tm(cx, func, mem, at, &tm)?;
    Ok(t as u64)
}

/// `time_t mktime(struct tm *tm)` (local time; UTC with the deterministic clock).
pub(crate) fn mktime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    make_time(cx, "mktime", mem, a[0], false)
}

/// `time_t timegm(struct tm *tm)` (GNU/BSD).
pub(crate) fn timegm(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    make_time(cx, "timegm", mem, a[0], true)
}

/// Formats the `struct tm` at `tm_at` with the host's `strftime`.
fn format_tm(
    cx: &Ctx,
    func: &str,
    mem: &Memory,
    fmt: &[u8],
    tm_at: u64,
    max: usize,
) -> Result<Option<Vec<u8>>, HelperError> {
    let (tm, _zone) = read_tm(cx, func, mem, tm_at)?;
    let fmt = CString::new(fmt).unwrap_or_default();
    let mut out = vec![0u8; max.clamp(1, STRFTIME_MAX)];
    // SAFETY: `out` has `out.len()` writable bytes; the format and `tm`
    // (whose `tm_zone` points at `_zone`, alive here) are valid.
    let n = unsafe { libc::strftime(out.as_mut_ptr().cast(), out.len(), fmt.as_ptr(), &tm) };
    if n == 0 && !fmt.as_bytes().is_empty() {
        return Ok(None);
    }
    out.truncate(n);
    Ok(Some(out))
}

/// `size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm)`.
pub(crate) fn strftime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (s, max) = (a[0], len_arg(a[1]));
    let fmt = cx.string("strftime", mem, a[2])?.to_vec();
    let Some(mut text) = format_tm(cx, "strftime", mem, &fmt, a[3], max)? else {
        return Ok(0);
    };
    if text.len() >= max {
        return Ok(0);
    }
    let n = text.len();
    text.push(0);
    cx.check("strftime", s, text.len())?;
    mem.write_bytes(s, &text)?;
    Ok(n as u64)
}

/// `asctime`'s text (glibc's `"%.3s %.3s%3d %.2d:%.2d:%.2d %d\n"`);
/// `None` (`EOVERFLOW`) when the year does not fit an `int`.
fn asctime_of(tm: &libc::tm) -> Option<Vec<u8>> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let pick = |names: &[&'static str], i: i32| -> &'static str {
        usize::try_from(i)
            .ok()
            .and_then(|i| names.get(i))
            .copied()
            .unwrap_or("???")
    };
    // `%.2d`: at least two digits, the sign before them.
    let two = |v: i32| {
        if v < 0 {
            format!("-{:02}", v.unsigned_abs())
        } else {
            format!("{v:02}")
        }
    };
    let year = tm.tm_year.checked_add(1900)?;
    Some(
        format!(
            "{} {}{:>3} {}:{}:{} {}\n",
            pick(&DAYS, tm.tm_wday),
            pick(&MONTHS, tm.tm_mon),
            tm.tm_mday,
            two(tm.tm_hour),
            two(tm.tm_min),
            two(tm.tm_sec),
            year
        )
        .into_bytes(),
    )
}

/// Writes `text` and a NUL at `at`.
fn put_text(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    at: u64,
    text: &[u8],
) -> Result<u64, HelperError> {
    let mut bytes = text.to_vec();
    bytes.push(0);
    cx.check(func, at, bytes.len())?;
    mem.write_bytes(at, &bytes)?;
    Ok(at)
}

/// `asctime` of the program's `struct tm` at `tm_at` into `out`.
fn asctime_into(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    tm_at: u64,
    out: u64,
) -> Result<u64, HelperError> {
    let (tm, _zone) = read_tm(cx, func, mem, tm_at)?;
    match asctime_of(&tm) {
        Some(text) => put_text(cx, func, mem, out, &text),
        None => {
            cx.set_errno(mem, libc::EOVERFLOW)?;
            Ok(0)
        }
    }
}

/// `char *asctime(const struct tm *tm)`.
pub(crate) fn asctime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let out = cx.statics(mem)? + statics::ASCTIME;
    asctime_into(cx, "asctime", mem, a[0], out)
}

/// `char *asctime_r(const struct tm *tm, char *buf)` (26 bytes or more).
pub(crate) fn asctime_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    asctime_into(cx, "asctime_r", mem, a[0], a[1])
}

/// `ctime` and `ctime_r`: `asctime(localtime(t))` into `out`.
fn ctime_into(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    t: u64,
    out: u64,
) -> Result<u64, HelperError> {
    cx.check(func, t, 8)?;
    let secs = mem.load(t, 8)? as i64;
    match host_tm(cx, secs, false).and_then(|tm| asctime_of(&tm)) {
        Some(text) => put_text(cx, func, mem, out, &text),
        None => {
            cx.set_errno(mem, libc::EOVERFLOW)?;
            Ok(0)
        }
    }
}

/// `char *ctime(const time_t *t)`.
pub(crate) fn ctime(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let out = cx.statics(mem)? + statics::ASCTIME;
    ctime_into(cx, "ctime", mem, a[0], out)
}

/// `char *ctime_r(const time_t *t, char *buf)`.
pub(crate) fn ctime_r(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    ctime_into(cx, "ctime_r", mem, a[0], a[1])
}
