//! Program contexts: `struct xdp_md` and `struct __sk_buff` emulated by a
//! VM [`Device`], and the packet buffer they point into.
//!
//! In the kernel, `ctx->data` is a 32-bit field that the verifier rewrites
//! into a load of the real 64-bit pointer. VM addresses do not fit in 32
//! bits, so the context lives at an address no region maps ([`CTX_ADDR`]):
//! every access faults, and the device answers it the way the rewritten
//! load would, field by field. Which accesses are allowed, and what they
//! give, is `bpf-kabi`'s context layout of the program's type (the same
//! the verifier checks against); a refused access is a fault naming the
//! field.

use crate::State;
use bpf_kabi::context::{skb, xdp};
use bpf_kabi::prog::ContextStruct;
use bpf_kabi::{CtxField, CtxLayout, ProgType};
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
pub const SKB_SIZE: usize = skb::SIZE as usize;

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

impl ContextKind {
    /// The context programs of type `ty` run with; `Err` names why one
    /// cannot run (its context is a kernel object bpf-repl does not emulate).
    pub fn of(ty: ProgType) -> Result<ContextKind, String> {
        match ty.context() {
            ContextStruct::XdpMd => Ok(ContextKind::Xdp),
            ContextStruct::SkBuff => Ok(ContextKind::Skb),
            ContextStruct::PtRegs
            | ContextStruct::TraceRecord
            | ContextStruct::U64Args
            | ContextStruct::PerfEventData
            | ContextStruct::SyscallArgs => Ok(ContextKind::Bytes),
            ContextStruct::Other => Err(format!(
                "{} programs have a kernel context bpf-repl does not emulate",
                ty.name()
            )),
        }
    }
}

/// The state of the one program run in progress.
#[derive(Debug, Clone)]
pub(crate) struct RunState {
    pub prog: ProgType,
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

fn fault<T>(msg: String) -> Option<Result<T, HelperError>> {
    Some(Err(HelperError::Fault(msg)))
}

impl RunState {
    /// Why the kernel refuses an access of `size` bytes at `off` of this
    /// run's context, in words naming the field.
    fn refusal(&self, off: u64, size: usize, write: bool) -> String {
        let layout = CtxLayout::of(self.prog);
        let st = layout.c_type.trim_start_matches("struct ");
        let verb = if write { "write" } else { "read" };
        let Some(name) = layout.field_name(off) else {
            return format!(
                "{verb} of {size} bytes at offset {off} of {}, which is {} bytes",
                layout.c_type, layout.size
            );
        };
        let ty = self.prog.name();
        if write && layout.access(off as i64, 4, true).is_none() {
            let writable: Vec<&str> = (0..layout.size)
                .step_by(4)
                .filter(|o| layout.access(*o as i64, 4, true).is_some())
                .filter_map(|o| layout.field_name(o))
                .fold(Vec::new(), |mut v, n| {
                    if !v.contains(&n) {
                        v.push(n);
                    }
                    v
                });
            return if writable.is_empty() {
                format!("{st}.{name} is read-only: {ty} programs cannot write their context")
            } else {
                format!(
                    "{st}.{name} is read-only for {ty} programs (writable: {})",
                    writable.join(", ")
                )
            };
        }
        if self.kind == ContextKind::Xdp {
            return format!(
                "xdp_md.{name}: a {size}-byte {verb} at offset {off}; the kernel allows only \
                 4-byte reads of xdp_md fields"
            );
        }
        format!(
            "{st}.{name}: a {size}-byte {verb} at offset {off} is not allowed for {ty} programs"
        )
    }

    /// A context access at `off` bytes into the context.
    fn load(&self, off: u64, size: usize) -> Option<Result<u64, HelperError>> {
        if self.kind == ContextKind::Bytes {
            return None;
        }
        let layout = CtxLayout::of(self.prog);
        let Some(field) = layout.access(off as i64, size as u64, false) else {
            return fault(self.refusal(off, size, false));
        };
        Some(Ok(match (field, self.kind) {
            (CtxField::PacketData, _) => self.data,
            (CtxField::PacketEnd, _) => self.data_end,
            (CtxField::PacketMeta, _) => self.data_meta,
            (CtxField::Scalar, ContextKind::Xdp) => {
                self.xdp[((off - xdp::INGRESS_IFINDEX) / 4) as usize] as u64
            }
            (CtxField::Scalar, _) => {
                let mut v = [0u8; 8];
                v[..size].copy_from_slice(&self.skb[off as usize..off as usize + size]);
                u64::from_le_bytes(v)
            }
        }))
    }

    fn store(&mut self, off: u64, size: usize, value: u64) -> Option<Result<(), HelperError>> {
        if self.kind == ContextKind::Bytes {
            return None;
        }
        let layout = CtxLayout::of(self.prog);
        match (layout.access(off as i64, size as u64, true), self.kind) {
            (Some(CtxField::Scalar), ContextKind::Skb) => {
                let at = off as usize;
                self.skb[at..at + size].copy_from_slice(&value.to_le_bytes()[..size]);
                Some(Ok(()))
            }
            _ => fault(self.refusal(off, size, true)),
        }
    }

    /// Sets a plain `__sk_buff` field.
    pub fn set_skb_u32(&mut self, off: u64, v: u32) {
        let off = off as usize;
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
