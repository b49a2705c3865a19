//! What programs send to user space: `bpf_trace_printk` lines, ring buffer
//! and perf event records.

use super::{errno, fault, size_arg, Shared};
use crate::maps::{E2BIG, EINVAL, ENOSPC};
use crate::spec::MapType;
use crate::{Event, EventKind};
use bpf_vm::{HelperError, Memory};

/// The format argument of the printk helpers: `size` bytes ending in NUL.
fn format_arg(mem: &Memory, helper: &str, addr: u64, size: u64) -> Result<Vec<u8>, HelperError> {
    let size = size_arg(helper, size)?;
    let bytes = mem.read_bytes(addr, size)?;
    match bytes.iter().position(|b| *b == 0) {
        Some(n) => Ok(bytes[..n].to_vec()),
        None => Err(fault(
            helper,
            format!("the format's {size} bytes hold no terminating NUL"),
        )),
    }
}

/// `u64` values from a data array of `len` bytes (the `vprintk` family).
fn data_array(mem: &Memory, helper: &str, addr: u64, len: u64) -> Result<Vec<u64>, HelperError> {
    if !len.is_multiple_of(8) || len > 8 * 12 {
        return Err(fault(
            helper,
            format!("data_len {len} must be a multiple of 8, at most 96 (12 arguments)"),
        ));
    }
    (0..len / 8)
        .map(|i| Ok(mem.load(addr + 8 * i, 8)?))
        .collect()
}

fn print_line(s: &Shared, mut line: Vec<u8>) -> u64 {
    let n = line.len() as u64;
    if line.last() != Some(&b'\n') {
        line.push(b'\n');
    }
    let _ = s.borrow().trace.write_all(&line);
    n
}

/// `bpf_trace_printk(fmt, fmt_size, a, b, c)`: one line of trace output.
pub(super) fn trace_printk(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_trace_printk";
    let fmt = format_arg(mem, NAME, a[0], a[1])?;
    let text = bpf_runtime::format_registers(mem, NAME, &fmt, &a[2..5])?;
    Ok(print_line(s, text))
}

/// `bpf_trace_vprintk(fmt, fmt_size, data, data_len)`: `bpf_printk` with
/// more than three arguments.
pub(super) fn trace_vprintk(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_trace_vprintk";
    let fmt = format_arg(mem, NAME, a[0], a[1])?;
    let values = data_array(mem, NAME, a[2], a[3])?;
    let text = bpf_runtime::format_registers(mem, NAME, &fmt, &values)?;
    Ok(print_line(s, text))
}

/// `bpf_snprintf(str, str_size, fmt, data, data_len)`: returns the length
/// of the whole result with its NUL, like the kernel.
pub(super) fn snprintf(_: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_snprintf";
    let size = size_arg(NAME, a[1])?;
    let fmt = mem.read_cstr(a[2], 1 << 16)?.to_vec();
    let values = data_array(mem, NAME, a[3], a[4])?;
    let mut text = bpf_runtime::format_registers(mem, NAME, &fmt, &values)?;
    let full = text.len() as u64 + 1;
    if size > 0 {
        text.truncate(size - 1);
        text.push(0);
        mem.write_bytes(a[0], &text)?;
    }
    Ok(full)
}

/// `bpf_perf_event_output(ctx, map, flags, data, size)`: one record on
/// the CPU that `flags` names (`BPF_F_CURRENT_CPU` is CPU 0); the upper 32
/// bits of `flags` ask for that many packet bytes after the data.
pub(super) fn perf_event_output(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_perf_event_output";
    const CURRENT_CPU: u64 = 0xffff_ffff;
    let size = size_arg(NAME, a[4])?;
    let mut data = mem.read_bytes(a[3], size)?;
    let mut st = s.borrow_mut();
    let ctx_len = ((a[2] >> 32) & 0xf_ffff) as usize;
    if ctx_len > 0 {
        let Some(run) = st.run.as_ref() else {
            return Ok(errno(EINVAL));
        };
        if (run.data_end - run.data) < ctx_len as u64 {
            return Ok(errno(EINVAL));
        }
        data.extend(mem.read_bytes(run.data, ctx_len)?);
    }
    let index = a[2] & 0xffff_ffff;
    let m = st
        .map_mut(a[1])
        .ok_or_else(|| fault(NAME, format!("{:#x} is not a map", a[1])))?;
    if m.spec.map_type != MapType::PerfEventArray {
        return Err(fault(
            NAME,
            format!(
                "map `{}` is a {} map, not a perf event array",
                m.name,
                m.spec.map_type.name()
            ),
        ));
    }
    let cpu = if index == CURRENT_CPU { 0 } else { index };
    if cpu >= m.spec.max_entries.max(1) as u64 {
        return Ok(errno(E2BIG));
    }
    let map = m.name.clone();
    st.record(Event {
        kind: EventKind::Perf,
        map,
        cpu: cpu as u32,
        data,
    });
    Ok(0)
}

fn ring_name(s: &Shared, helper: &str, handle: u64) -> Result<String, HelperError> {
    let mut st = s.borrow_mut();
    let m = st
        .map_mut(handle)
        .ok_or_else(|| fault(helper, format!("{handle:#x} is not a map")))?;
    if m.spec.map_type != MapType::RingBuf {
        return Err(fault(
            helper,
            format!(
                "map `{}` is a {} map, not a ring buffer",
                m.name,
                m.spec.map_type.name()
            ),
        ));
    }
    Ok(m.name.clone())
}

/// `bpf_ringbuf_output(rb, data, size, flags)`: one record, copied.
pub(super) fn ringbuf_output(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_ringbuf_output";
    let map = ring_name(s, NAME, a[0])?;
    let size = size_arg(NAME, a[2])?;
    let data = mem.read_bytes(a[1], size)?;
    let mut st = s.borrow_mut();
    let cap = st
        .map_mut(a[0])
        .map(|m| m.spec.max_entries as usize)
        .unwrap_or(0);
    if size + 8 > cap {
        return Ok(errno(ENOSPC));
    }
    st.record(Event {
        kind: EventKind::RingBuf,
        map,
        cpu: 0,
        data,
    });
    Ok(0)
}

/// `bpf_ringbuf_reserve(rb, size, flags)`: room for a record in the ring,
/// or NULL.
pub(super) fn ringbuf_reserve(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_ringbuf_reserve";
    ring_name(s, NAME, a[0])?;
    if a[2] != 0 {
        return Ok(0);
    }
    let size = size_arg(NAME, a[1])?;
    let mut st = s.borrow_mut();
    let ring = st
        .map_mut(a[0])
        .and_then(|m| m.ring_mut())
        .expect("checked to be a ring buffer");
    Ok(ring.reserve(mem, size as u64)?.unwrap_or(0))
}

/// Ends a reservation: `submit` sends the record, `discard` drops it.
fn commit(s: &Shared, mem: &mut Memory, addr: u64, submit: bool) -> Result<u64, HelperError> {
    let name = if submit {
        "bpf_ringbuf_submit"
    } else {
        "bpf_ringbuf_discard"
    };
    let mut st = s.borrow_mut();
    let found = st.maps.iter_mut().find_map(|m| {
        let map = m.name.clone();
        let ring = m.ring_mut()?;
        (addr >= ring.data && addr < ring.data + ring.size).then_some((map, ring))
    });
    let Some((map, ring)) = found else {
        return Err(fault(
            name,
            format!("{addr:#x} is not a record reserved with bpf_ringbuf_reserve"),
        ));
    };
    if !ring.release(addr) {
        return Err(fault(
            name,
            format!(
                "{addr:#x} is not an outstanding reservation (submitted or discarded already?)"
            ),
        ));
    }
    let header = mem.load(addr - 8, 4)?;
    let len = header & 0x7fff_ffff;
    // Clear the busy bit; a discarded record gets the kernel's discard bit.
    let done = if submit { len } else { len | 1 << 30 };
    mem.store(addr - 8, 4, done)?;
    if submit {
        let data = mem.read_bytes(addr, len as usize)?;
        st.record(Event {
            kind: EventKind::RingBuf,
            map,
            cpu: 0,
            data,
        });
    }
    Ok(0)
}

pub(super) fn ringbuf_submit(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    commit(s, mem, a[0], true)
}

pub(super) fn ringbuf_discard(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    commit(s, mem, a[0], false)
}

/// `bpf_ringbuf_query(rb, flags)`: records are consumed at once, so no
/// data is ever waiting; `BPF_RB_RING_SIZE` (1) gives the size.
pub(super) fn ringbuf_query(s: &Shared, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    ring_name(s, "bpf_ringbuf_query", a[0])?;
    let mut st = s.borrow_mut();
    let size = st
        .map_mut(a[0])
        .map(|m| m.spec.max_entries as u64)
        .unwrap_or(0);
    Ok(if a[1] == 1 { size } else { 0 })
}
