//! Program contexts: `struct xdp_md` and `struct __sk_buff` emulated by a
//! VM [`Device`], and the packet buffer they point into.
//!
//! In the kernel, `ctx->data` is a 32-bit field that the verifier rewrites
//! into a load of the real 64-bit pointer. VM addresses do not fit in 32
//! bits, so the context lives at an address no region maps ([`CTX_ADDR`]):
//! every access faults, and the device answers it the way the rewritten
//! load would, field by field. Fields the kernel lets a program write
//! (`skb->mark`, `skb->cb[]`, ...) can be written; the rest are read-only,
//! and a wrong access is a fault naming the field.

use crate::State;
use bpf_vm::{Device, HelperError, Memory, RegionKind};
use std::cell::RefCell;
use std::rc::Rc;

/// The address programs get as their context pointer (r1) for XDP and
/// socket-buffer programs: in the kernel-object region, past the largest
/// size a region can have, so never mapped.
pub const CTX_ADDR: u64 = RegionKind::Kernel.base() + 0xc000_0000;

/// Bytes before the packet data in an XDP buffer (`XDP_PACKET_HEADROOM`).
pub const XDP_HEADROOM: u64 = 256;
/// Bytes after it that `bpf_xdp_adjust_tail` may grow into.
pub const XDP_TAILROOM: u64 = 256;
/// Size of `struct __sk_buff`.
pub const SKB_SIZE: usize = 192;

/// What a program's context is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextKind {
    /// `struct xdp_md` over a packet with headroom.
    Xdp,
    /// `struct __sk_buff` over a packet (socket filters, tc, cgroup skb).
    Skb,
    /// Bytes the user supplies, in plain memory (kprobe `pt_regs`,
    /// tracepoint records, raw tracepoint and fentry argument arrays).
    Bytes,
}

/// The state of the one program run in progress.
#[derive(Debug, Clone)]
pub(crate) struct RunState {
    pub kind: ContextKind,
    /// What r1 holds.
    pub ctx: u64,
    /// The packet buffer (headroom included) in the kernel-object region.
    pub buf_start: u64,
    pub buf_end: u64,
    pub data: u64,
    pub data_end: u64,
    pub data_meta: u64,
    /// The plain (non-pointer) `__sk_buff` fields.
    pub skb: [u8; SKB_SIZE],
    /// `xdp_md.ingress_ifindex`, `rx_queue_index`, `egress_ifindex`.
    pub xdp: [u32; 3],
    /// Where `bpf_redirect`/`bpf_redirect_map` sent the packet.
    pub redirect: Option<String>,
    /// The packet's capture time, when it came from a pcap file.
    pub timestamp_ns: Option<u64>,
}

/// `struct __sk_buff` fields: (offset, size, name, writable).
const SKB_FIELDS: &[(u64, u64, &str, bool)] = &[
    (0, 4, "len", false),
    (4, 4, "pkt_type", false),
    (8, 4, "mark", true),
    (12, 4, "queue_mapping", true),
    (16, 4, "protocol", false),
    (20, 4, "vlan_present", false),
    (24, 4, "vlan_tci", false),
    (28, 4, "vlan_proto", false),
    (32, 4, "priority", true),
    (36, 4, "ingress_ifindex", false),
    (40, 4, "ifindex", false),
    (44, 4, "tc_index", true),
    (48, 20, "cb", true),
    (68, 4, "hash", false),
    (72, 4, "tc_classid", true),
    (76, 4, "data", false),
    (80, 4, "data_end", false),
    (84, 4, "napi_id", false),
    (88, 4, "family", false),
    (92, 4, "remote_ip4", false),
    (96, 4, "local_ip4", false),
    (100, 16, "remote_ip6", false),
    (116, 16, "local_ip6", false),
    (132, 4, "remote_port", false),
    (136, 4, "local_port", false),
    (140, 4, "data_meta", false),
    (144, 8, "flow_keys", false),
    (152, 8, "tstamp", true),
    (160, 4, "wire_len", false),
    (164, 4, "gso_segs", false),
    (168, 8, "sk", false),
    (176, 4, "gso_size", false),
    (180, 1, "tstamp_type", false),
    (184, 8, "hwtstamp", false),
];

/// `struct xdp_md` field names, one `u32` each.
const XDP_FIELDS: [&str; 6] = [
    "data",
    "data_end",
    "data_meta",
    "ingress_ifindex",
    "rx_queue_index",
    "egress_ifindex",
];

fn fault<T>(msg: String) -> Option<Result<T, HelperError>> {
    Some(Err(HelperError::Fault(msg)))
}

fn skb_field(off: u64) -> Option<(u64, u64, &'static str, bool)> {
    SKB_FIELDS
        .iter()
        .copied()
        .find(|(o, len, _, _)| off >= *o && off < o + len)
}

impl RunState {
    /// A context access at `off` bytes into the context.
    fn load(&self, off: u64, size: usize) -> Option<Result<u64, HelperError>> {
        match self.kind {
            ContextKind::Xdp => {
                let Some(name) = XDP_FIELDS.get(off as usize / 4) else {
                    return fault(format!(
                        "read of {size} bytes at offset {off} of struct xdp_md, which is 24 bytes"
                    ));
                };
                if !off.is_multiple_of(4) || size != 4 {
                    return fault(format!(
                        "xdp_md.{name}: a {size}-byte read at offset {off}; the kernel allows only \
                         4-byte reads of xdp_md fields"
                    ));
                }
                Some(Ok(match off {
                    0 => self.data,
                    4 => self.data_end,
                    8 => self.data_meta,
                    _ => self.xdp[(off / 4 - 3) as usize] as u64,
                }))
            }
            ContextKind::Skb => {
                let Some((start, len, name, _)) = skb_field(off) else {
                    return fault(format!(
                        "read of {size} bytes at offset {off} of struct __sk_buff, which is \
                         {SKB_SIZE} bytes"
                    ));
                };
                if off + size as u64 > start + len {
                    return fault(format!(
                        "__sk_buff.{name}: a {size}-byte read at offset {off} runs past the field"
                    ));
                }
                let pointer = match name {
                    "data" => Some(self.data),
                    "data_end" => Some(self.data_end),
                    "data_meta" => Some(self.data_meta),
                    _ => None,
                };
                if let Some(p) = pointer {
                    if size != 4 || off != start {
                        return fault(format!(
                            "__sk_buff.{name}: only a 4-byte read gives the packet pointer"
                        ));
                    }
                    return Some(Ok(p));
                }
                let mut v = [0u8; 8];
                v[..size].copy_from_slice(&self.skb[off as usize..off as usize + size]);
                Some(Ok(u64::from_le_bytes(v)))
            }
            ContextKind::Bytes => None,
        }
    }

    fn store(&mut self, off: u64, size: usize, value: u64) -> Option<Result<(), HelperError>> {
        match self.kind {
            ContextKind::Xdp => {
                let name = XDP_FIELDS
                    .get(off as usize / 4)
                    .unwrap_or(&"(past the end)");
                fault(format!(
                    "xdp_md.{name} is read-only: a program cannot write its context"
                ))
            }
            ContextKind::Skb => match skb_field(off) {
                Some((start, len, _, true)) if off + size as u64 <= start + len => {
                    let at = off as usize;
                    self.skb[at..at + size].copy_from_slice(&value.to_le_bytes()[..size]);
                    Some(Ok(()))
                }
                Some((_, _, name, _)) => fault(format!(
                    "__sk_buff.{name} is read-only (writable: mark, priority, cb, tc_index, \
                     tc_classid, queue_mapping, tstamp)"
                )),
                None => fault(format!(
                    "write of {size} bytes at offset {off} of struct __sk_buff, which is \
                     {SKB_SIZE} bytes"
                )),
            },
            ContextKind::Bytes => None,
        }
    }

    /// Sets a plain `__sk_buff` field.
    pub fn set_skb_u32(&mut self, off: usize, v: u32) {
        self.skb[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// The kernel world's [`Device`]: the context of the run in progress.
pub(crate) struct KernelDevice(pub Rc<RefCell<State>>);

impl Device for KernelDevice {
    fn load(&mut self, _: &Memory, addr: u64, size: usize) -> Option<Result<u64, HelperError>> {
        let off = addr.checked_sub(CTX_ADDR).filter(|o| *o < 4096)?;
        self.0.borrow().run.as_ref()?.load(off, size)
    }

    fn store(
        &mut self,
        _: &mut Memory,
        addr: u64,
        size: usize,
        value: u64,
    ) -> Option<Result<(), HelperError>> {
        let off = addr.checked_sub(CTX_ADDR).filter(|o| *o < 4096)?;
        self.0.borrow_mut().run.as_mut()?.store(off, size, value)
    }

    fn packet_load(
        &mut self,
        mem: &Memory,
        offset: i64,
        size: usize,
    ) -> Result<Option<u64>, HelperError> {
        let state = self.0.borrow();
        let run = match state.run.as_ref() {
            Some(run) if run.kind == ContextKind::Skb => run,
            _ => {
                return Err(HelperError::Fault(
                    "legacy packet load (LD_ABS/LD_IND) outside a socket filter or tc program"
                        .to_string(),
                ))
            }
        };
        let Ok(offset) = u64::try_from(offset) else {
            return Ok(None);
        };
        let len = run.data_end - run.data;
        if offset.checked_add(size as u64).is_none_or(|end| end > len) {
            return Ok(None);
        }
        let bytes = mem.slice(run.data + offset, size)?;
        Ok(Some(bytes.iter().fold(0u64, |acc, b| acc << 8 | *b as u64)))
    }
}
