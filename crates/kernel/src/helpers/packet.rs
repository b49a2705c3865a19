//! Packet helpers of XDP and socket-buffer programs: reading and writing
//! packet bytes, moving the packet's start and end, redirects, checksums.

use super::{errno, fault, size_arg, Shared};
use crate::context::{ContextKind, RunState};
use crate::maps::{EFAULT, EINVAL};
use crate::spec::MapType;
use bpf_vm::{HelperError, Memory};
use std::cell::RefMut;

const ETH_HLEN: u64 = 14;
/// The kernel keeps a `struct xdp_frame` in the headroom.
const XDP_FRAME_SIZE: u64 = 40;
const XDP_REDIRECT: u64 = 4;
const TC_ACT_REDIRECT: u64 = 7;

/// The run in progress, with `ctx` checked to be its context.
fn run<'a>(
    s: &'a Shared,
    helper: &str,
    ctx: u64,
    kind: Option<ContextKind>,
) -> Result<RefMut<'a, RunState>, HelperError> {
    let st = s.borrow_mut();
    let run = RefMut::filter_map(st, |st| st.run.as_mut())
        .map_err(|_| fault(helper, "no program run is in progress"))?;
    if let Some(kind) = kind {
        if run.kind != kind {
            return Err(fault(
                helper,
                format!("not available to a program whose context is {:?}", run.kind),
            ));
        }
    }
    if run.ctx != ctx {
        return Err(fault(
            helper,
            format!("{ctx:#x} is not the program's context ({:#x})", run.ctx),
        ));
    }
    Ok(run)
}

/// `bpf_skb_load_bytes(skb, offset, to, len)`.
pub(super) fn skb_load_bytes(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_skb_load_bytes";
    let len = size_arg(NAME, a[3])?;
    let r = run(s, NAME, a[0], None)?;
    let (data, end) = (r.data, r.data_end);
    drop(r);
    mem.slice_mut(a[2], len)?;
    let off = a[1] as u32 as u64;
    if off + len as u64 > end - data {
        mem.write_bytes(a[2], &vec![0; len])?;
        return Ok(errno(EFAULT));
    }
    let bytes = mem.read_bytes(data + off, len)?;
    mem.write_bytes(a[2], &bytes)?;
    Ok(0)
}

/// `bpf_skb_store_bytes(skb, offset, from, len, flags)`.
pub(super) fn skb_store_bytes(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_skb_store_bytes";
    let len = size_arg(NAME, a[3])?;
    let r = run(s, NAME, a[0], Some(ContextKind::Skb))?;
    let (data, end) = (r.data, r.data_end);
    drop(r);
    let bytes = mem.read_bytes(a[2], len)?;
    let off = a[1] as u32 as u64;
    if off + len as u64 > end - data {
        return Ok(errno(EFAULT));
    }
    mem.write_bytes(data + off, &bytes)?;
    Ok(0)
}

/// `bpf_redirect(ifindex, flags)`: records the target; the program's
/// return value decides.
pub(super) fn redirect(s: &Shared, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut st = s.borrow_mut();
    let Some(r) = st.run.as_mut() else {
        return Err(fault("bpf_redirect", "no program run is in progress"));
    };
    let ingress = if a[1] & 1 != 0 { " (ingress)" } else { "" };
    r.redirect = Some(format!("ifindex {}{ingress}", a[0] as u32));
    Ok(if r.kind == ContextKind::Xdp {
        XDP_REDIRECT
    } else {
        TC_ACT_REDIRECT
    })
}

/// `bpf_redirect_map(map, key, flags)`: XDP_REDIRECT when the map has an
/// entry at `key`, else the action in the low bits of `flags`.
pub(super) fn redirect_map(s: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    const NAME: &str = "bpf_redirect_map";
    let mut st = s.borrow_mut();
    let m = st
        .map_mut(a[0])
        .ok_or_else(|| fault(NAME, format!("{:#x} is not a map", a[0])))?;
    if !matches!(
        m.spec.map_type,
        MapType::Devmap | MapType::DevmapHash | MapType::Cpumap | MapType::Xskmap
    ) {
        return Err(fault(
            NAME,
            format!(
                "map `{}` is a {} map, not a devmap, cpumap or xskmap",
                m.name,
                m.spec.map_type.name()
            ),
        ));
    }
    let key = (a[1] as u32).to_le_bytes();
    let target = m.lookup(&key).map(|v| mem.load(v, 4)).transpose()?;
    let name = m.name.clone();
    match target {
        Some(t) if t != 0 => {
            if let Some(r) = st.run.as_mut() {
                r.redirect = Some(format!("{name}[{}] ({t})", a[1] as u32));
            }
            Ok(XDP_REDIRECT)
        }
        _ => Ok(a[2] & 0x3),
    }
}

/// `bpf_csum_diff(from, from_size, to, to_size, seed)`: the ones'
/// complement sum of `to` minus `from`, plus `seed` (32-bit partial sum).
pub(super) fn csum_diff(_: &Shared, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (from_size, to_size) = (a[1], a[3]);
    if from_size % 4 != 0 || to_size % 4 != 0 || from_size > 512 || to_size > 512 {
        return Ok(errno(EINVAL));
    }
    let from = mem.read_bytes(a[0], from_size as usize)?;
    let to = mem.read_bytes(a[2], to_size as usize)?;
    let mut sum = a[4] as u32 as u64;
    let words = |b: &[u8]| -> Vec<u32> {
        b.chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect()
    };
    for w in words(&from) {
        sum += !w as u64;
    }
    for w in words(&to) {
        sum += w as u64;
    }
    while sum >> 32 != 0 {
        sum = (sum & 0xffff_ffff) + (sum >> 32);
    }
    Ok(sum)
}

/// `bpf_xdp_adjust_head(xdp, delta)`: moves the packet's start (and any
/// metadata before it).
pub(super) fn xdp_adjust_head(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    let mut r = run(s, "bpf_xdp_adjust_head", a[0], Some(ContextKind::Xdp))?;
    let delta = a[1] as i32 as i64;
    let meta_len = r.data - r.data_meta;
    let new_data = r.data.wrapping_add_signed(delta);
    if new_data < r.buf_start + XDP_FRAME_SIZE + meta_len || new_data > r.data_end - ETH_HLEN {
        return Ok(errno(EINVAL));
    }
    if meta_len > 0 {
        let meta = mem.read_bytes(r.data_meta, meta_len as usize)?;
        mem.write_bytes(new_data - meta_len, &meta)?;
    }
    r.data = new_data;
    r.data_meta = new_data - meta_len;
    Ok(0)
}

/// `bpf_xdp_adjust_meta(xdp, delta)`: moves the start of the metadata
/// (at most 32 bytes, a multiple of 4, before the data).
pub(super) fn xdp_adjust_meta(s: &Shared, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let mut r = run(s, "bpf_xdp_adjust_meta", a[0], Some(ContextKind::Xdp))?;
    let meta = r.data_meta.wrapping_add_signed(a[1] as i32 as i64);
    if meta > r.data
        || r.data - meta > 32
        || (r.data - meta) % 4 != 0
        || meta < r.buf_start + XDP_FRAME_SIZE
    {
        return Ok(errno(EINVAL));
    }
    r.data_meta = meta;
    Ok(0)
}

/// `bpf_xdp_adjust_tail(xdp, delta)`: moves the packet's end; grown bytes
/// are zero.
pub(super) fn xdp_adjust_tail(
    s: &Shared,
    mem: &mut Memory,
    a: [u64; 5],
) -> Result<u64, HelperError> {
    let mut r = run(s, "bpf_xdp_adjust_tail", a[0], Some(ContextKind::Xdp))?;
    let new_end = r.data_end.wrapping_add_signed(a[1] as i32 as i64);
    if new_end < r.data + ETH_HLEN || new_end > r.buf_end {
        return Ok(errno(EINVAL));
    }
    if new_end > r.data_end {
        mem.write_bytes(r.data_end, &vec![0; (new_end - r.data_end) as usize])?;
    }
    r.data_end = new_end;
    Ok(0)
}
