//! Time, random numbers, the current task, safe reads, `bpf_loop`.

use super::{errno, size_arg, Shared};
use crate::maps::{E2BIG, EFAULT, EINVAL};
use crate::Clock;
use bpf_vm::{HelperError, HelperEvent, HelperStep, Memory};

pub(super) fn zero(_: &Shared, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    Ok(0)
}

/// `bpf_ktime_get_ns` and the other clocks: see [`Clock`].
pub(super) fn ktime(s: &Shared, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let n = st.clock_readings;
    st.clock_readings += 1;
    Ok(match st.config.clock {
        Clock::Fixed { start_ns, step_ns } => start_ns.wrapping_add(n.wrapping_mul(step_ns)),
        Clock::Host => match st.run.as_ref().and_then(|r| r.timestamp_ns) {
            Some(t) => t,
            None => st.start.elapsed().as_nanos() as u64,
        },
    })
}

/// `bpf_jiffies64`: the clock at 250 Hz.
pub(super) fn jiffies(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(ktime(s, mem, a)? / 4_000_000)
}

/// `bpf_get_prandom_u32`: xorshift64*, seeded by [`crate::KernelConfig::seed`].
pub(super) fn prandom(s: &Shared, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let mut x = st.rng.max(1);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    st.rng = x;
    Ok((x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32 as u64)
}

pub(super) fn pid_tgid(s: &Shared, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    let c = &s.borrow().config;
    Ok((c.tgid as u64) << 32 | c.pid as u64)
}

pub(super) fn uid_gid(s: &Shared, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    let c = &s.borrow().config;
    Ok((c.gid as u64) << 32 | c.uid as u64)
}

pub(super) fn cgroup_id(_: &Shared, _: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    Ok(1)
}

/// `bpf_get_current_comm(buf, size)`: the task name, NUL-terminated and
/// truncated to `size`.
pub(super) fn comm(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let size = size_arg("bpf_get_current_comm", a[1])?;
    if size == 0 {
        return Ok(errno(EINVAL));
    }
    let mut buf = vec![0u8; size];
    let name = s.borrow().config.comm.clone();
    let n = name.len().min(size - 1);
    buf[..n].copy_from_slice(&name.as_bytes()[..n]);
    mem.write_bytes(a[0], &buf)?;
    Ok(0)
}

/// `bpf_probe_read_kernel/user(dst, size, src)`: a copy that may fail: a
/// bad source zeroes `dst` and returns -EFAULT, as in the kernel.
pub(super) fn probe_read(_: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let size = size_arg("bpf_probe_read", a[1])?;
    // The destination must be writable whatever happens to the source.
    mem.slice_mut(a[0], size)?;
    match mem.read_bytes(a[2], size) {
        Ok(bytes) => {
            mem.write_bytes(a[0], &bytes)?;
            Ok(0)
        }
        Err(_) => {
            mem.write_bytes(a[0], &vec![0; size])?;
            Ok(errno(EFAULT))
        }
    }
}

/// `bpf_probe_read_*_str(dst, size, src)`: copies a string of at most
/// `size - 1` bytes and a NUL; returns the length with the NUL.
pub(super) fn probe_read_str(
    _: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    let size = size_arg("bpf_probe_read_str", a[1])?;
    mem.slice_mut(a[0], size)?;
    if size == 0 {
        return Ok(0);
    }
    // Bytes up to the NUL, the end of the source's region, or size - 1.
    let mut bytes = Vec::new();
    let mut failed = true;
    for i in 0..size as u64 - 1 {
        match mem.load(a[2].wrapping_add(i), 1) {
            Ok(0) => {
                failed = false;
                break;
            }
            Ok(b) => bytes.push(b as u8),
            Err(_) => break,
        }
    }
    if failed && bytes.len() < size - 1 {
        mem.write_bytes(a[0], &vec![0; size])?;
        return Ok(errno(EFAULT));
    }
    bytes.push(0);
    mem.write_bytes(a[0], &bytes)?;
    Ok(bytes.len() as u64)
}

/// `bpf_strncmp(s1, s1_size, s2)`.
pub(super) fn strncmp(_: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = size_arg("bpf_strncmp", a[1])?;
    for i in 0..n as u64 {
        let x = mem.load(a[0] + i, 1)? as u8;
        let y = mem.load(a[2] + i, 1)? as u8;
        if x != y {
            return Ok(if x < y { u64::MAX } else { 1 });
        }
        if x == 0 {
            break;
        }
    }
    Ok(0)
}

/// `bpf_loop(nr_loops, callback, ctx, flags)`: `callback(i, ctx)` for i in
/// 0..nr_loops until it returns 1; returns the number of calls.
pub(super) fn bpf_loop(
    _: &Shared,
    _: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    /// The kernel's `BPF_MAX_LOOPS`.
    const MAX_LOOPS: u64 = 1 << 23;
    let (i, n, cb, ctx) = match ev {
        HelperEvent::Start([n, cb, ctx, flags, _]) => {
            if flags != 0 {
                return Ok(HelperStep::Return(errno(EINVAL)));
            }
            if n > MAX_LOOPS {
                return Ok(HelperStep::Return(errno(E2BIG)));
            }
            (0, n, cb, ctx)
        }
        HelperEvent::Resume { state, ret } => {
            let [i, n, cb, ctx] = state;
            if ret == 1 {
                return Ok(HelperStep::Return(i));
            }
            (i, n, cb, ctx)
        }
    };
    if i >= n {
        return Ok(HelperStep::Return(i));
    }
    Ok(HelperStep::Call {
        func: cb,
        args: [i, ctx, 0, 0, 0],
        state: [i + 1, n, cb, ctx],
    })
}
