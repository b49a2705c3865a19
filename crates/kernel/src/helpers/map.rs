//! Map helpers: lookup, update, delete, push/pop/peek, iteration with a
//! callback, and tail calls through program arrays.

use super::{errno, fault, Shared};
use crate::maps::{Map, EINVAL, ENOENT};
use crate::spec::{MapType, HEADER_SIZE};
use crate::State;
use bpf_vm::{HelperError, HelperEvent, HelperStep, Memory};

/// The map whose handle is `addr`, or a fault naming `helper`.
fn map<'a>(st: &'a mut State, helper: &str, addr: u64) -> Result<&'a mut Map, HelperError> {
    st.map_mut(addr)
        .ok_or_else(|| fault(helper, format!("{addr:#x} is not a map")))
}

fn key(mem: &Memory, m: &Map, addr: u64) -> Result<Vec<u8>, HelperError> {
    Ok(mem.read_bytes(addr, m.spec.key_size as usize)?)
}

pub(super) fn lookup(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let m = map(&mut st, "bpf_map_lookup_elem", a[0])?;
    if matches!(
        m.spec.map_type,
        MapType::ProgArray | MapType::RingBuf | MapType::PerfEventArray
    ) {
        return Err(fault(
            "bpf_map_lookup_elem",
            format!(
                "map `{}` ({}) has no values to look up",
                m.name,
                m.spec.map_type.name()
            ),
        ));
    }
    let k = key(mem, m, a[1])?;
    let Some(value) = m.lookup(&k) else {
        return Ok(0);
    };
    // Redirect maps hold interfaces, CPUs or sockets: an unset slot (0) is
    // no entry, as the kernel's lookup returns NULL for it.
    if matches!(
        m.spec.map_type,
        MapType::Devmap | MapType::DevmapHash | MapType::Cpumap | MapType::Xskmap
    ) && mem.load(value, 4)? == 0
    {
        return Ok(0);
    }
    Ok(value)
}

pub(super) fn lookup_percpu(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    // One CPU: only CPU 0 has a value.
    if a[2] != 0 {
        return Ok(0);
    }
    lookup(s, mem, a)
}

pub(super) fn update(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let m = map(&mut st, "bpf_map_update_elem", a[0])?;
    let k = key(mem, m, a[1])?;
    let v = mem.read_bytes(a[2], m.spec.value_size as usize)?;
    Ok(m.update(mem, &k, &v, a[3])? as u64)
}

pub(super) fn delete(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let m = map(&mut st, "bpf_map_delete_elem", a[0])?;
    let k = key(mem, m, a[1])?;
    Ok(m.delete(&k) as u64)
}

pub(super) fn push(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let m = map(&mut st, "bpf_map_push_elem", a[0])?;
    let v = mem.read_bytes(a[1], m.spec.value_size as usize)?;
    Ok(m.push(&v, a[2]) as u64)
}

fn take(s: &Shared, mem: &mut Memory, a: [u64; 5], remove: bool) -> Result<u64, HelperError> {
    let name = if remove {
        "bpf_map_pop_elem"
    } else {
        "bpf_map_peek_elem"
    };
    let mut st = s.borrow_mut();
    let m = map(&mut st, name, a[0])?;
    let size = m.spec.value_size as usize;
    // Check the destination before anything is taken.
    mem.slice_mut(a[1], size)?;
    match m.take(remove) {
        Ok(v) => {
            mem.write_bytes(a[1], &v)?;
            Ok(0)
        }
        Err(e) => Ok(e as u64),
    }
}

pub(super) fn pop(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    take(s, mem, a, true)
}

pub(super) fn peek(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    take(s, mem, a, false)
}

/// `bpf_tail_call(ctx, prog_array, index)`: jumps to the program at
/// `index`; when the slot is empty (or out of range) the call returns an
/// error and the program goes on.
pub(super) fn tail_call(
    s: &Shared,
    _: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    let HelperEvent::Start([ctx, array, index, ..]) = ev else {
        return Err(fault("bpf_tail_call", "resumed without a callback"));
    };
    let mut st = s.borrow_mut();
    let m = map(&mut st, "bpf_tail_call", array)?;
    if m.spec.map_type != MapType::ProgArray {
        return Err(fault(
            "bpf_tail_call",
            format!(
                "map `{}` is a {} map, not a program array",
                m.name,
                m.spec.map_type.name()
            ),
        ));
    }
    Ok(match m.prog(index as u32 as u64) {
        Some(entry) => HelperStep::TailCall {
            func: entry,
            ctx,
            on_failure: errno(ENOENT),
        },
        None => HelperStep::Return(errno(ENOENT)),
    })
}

/// `bpf_for_each_map_elem(map, callback, ctx, flags)`: calls
/// `callback(map, key, value, ctx)` for each element until it returns 1;
/// returns the number of elements visited.
pub(super) fn for_each(
    s: &Shared,
    mem: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    const NAME: &str = "bpf_for_each_map_elem";
    let (next, handle, cb, ctx) = match ev {
        HelperEvent::Start([handle, cb, ctx, flags, _]) => {
            if flags != 0 {
                return Ok(HelperStep::Return(errno(EINVAL)));
            }
            (0, handle, cb, ctx)
        }
        HelperEvent::Resume { state, ret } => {
            let [done, handle, cb, ctx] = state;
            if ret == 1 {
                return Ok(HelperStep::Return(done));
            }
            (done, handle, cb, ctx)
        }
    };
    let mut st = s.borrow_mut();
    let m = map(&mut st, NAME, handle)?;
    let elements = m.elements();
    let Some((k, value)) = elements.get(next as usize) else {
        return Ok(HelperStep::Return(next));
    };
    let key_addr = match m.key_addr(*value) {
        Some(a) => a,
        None => {
            // Arrays keep no keys: the index goes in the header's scratch word.
            let scratch = m.handle + HEADER_SIZE - 8;
            mem.write_bytes(scratch, k)?;
            scratch
        }
    };
    Ok(HelperStep::Call {
        func: cb,
        args: [handle, key_addr, *value, ctx, 0],
        state: [next + 1, handle, cb, ctx],
    })
}
