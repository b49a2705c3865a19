//! Running a program: its context set up over a packet or the user's
//! bytes, one call, the verdict and the packet afterwards; and runs over
//! every packet of a capture with per-verdict counts.

use crate::context::{ContextKind, RunState, CTX_ADDR, SKB_SIZE, XDP_HEADROOM, XDP_TAILROOM};
use crate::pcap::PcapPacket;
use crate::{Kernel, ProgType};
use bpf_kabi::context::skb;
use bpf_vm::{RegionKind, Trap, Vm};
use std::collections::BTreeMap;
use std::fmt;

/// What a program runs on.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A packet (XDP and socket-buffer programs), with its capture time.
    Packet {
        data: &'a [u8],
        timestamp_ns: Option<u64>,
    },
    /// Context bytes (tracing programs: `pt_regs`, tracepoint records,
    /// argument arrays).
    Context(&'a [u8]),
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// r0 when the program exited.
    pub ret: u64,
    /// The packet as the program left it (XDP and socket-buffer programs).
    pub packet: Option<Vec<u8>>,
    /// Where `bpf_redirect*` sent the packet, if it did.
    pub redirect: Option<String>,
    /// Ring buffer records reserved and never submitted or discarded.
    pub unsubmitted: usize,
}

/// Why a run did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The program trapped.
    Trap(Trap),
    /// The program cannot run on this input (or at all), and why.
    Input(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Trap(t) => write!(f, "{t}"),
            RunError::Input(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// Largest packet or context accepted (a limit named in its message).
pub const MAX_INPUT: usize = 1 << 20;

const ETH_P_8021Q: u16 = 0x8100;

impl Kernel {
    /// Runs the function at code slot `entry` as a program of type `ty`
    /// on `input`, and releases everything the run placed in VM memory.
    /// Maps keep what the program stored.
    pub fn run(
        &self,
        vm: &mut Vm,
        entry: usize,
        ty: &ProgType,
        input: Input,
    ) -> Result<Outcome, RunError> {
        let kind = ContextKind::of(*ty).map_err(RunError::Input)?;
        let (bytes, timestamp_ns) = match (kind, input) {
            (ContextKind::Bytes, Input::Context(b)) => (b, None),
            (ContextKind::Bytes, Input::Packet { .. }) => {
                return Err(RunError::Input(format!(
                    "{} programs run on context bytes (--ctx HEX), not on packets",
                    ty.name()
                )))
            }
            (_, Input::Packet { data, timestamp_ns }) => (data, timestamp_ns),
            (_, Input::Context(_)) => {
                return Err(RunError::Input(format!(
                "{} programs run on packets (--packet HEX or --pcap FILE), not on context bytes",
                ty.name()
            )))
            }
        };
        if bytes.len() > MAX_INPUT {
            return Err(RunError::Input(format!(
                "the input is {} bytes, more than the {MAX_INPUT}-byte limit",
                bytes.len()
            )));
        }
        if kind == ContextKind::Xdp && bytes.len() < 14 {
            return Err(RunError::Input(format!(
                "an XDP packet needs at least an Ethernet header (14 bytes), not {}",
                bytes.len()
            )));
        }
        let mark = vm.mem.region_len(RegionKind::Kernel);
        let result = self.run_placed(vm, entry, *ty, kind, bytes, timestamp_ns);
        // Release the packet or context whatever happened.
        self.state.borrow_mut().run = None;
        for m in self.state.borrow_mut().maps.iter_mut() {
            if let Some(r) = m.ring_mut() {
                r.clear();
            }
        }
        vm.mem.truncate(RegionKind::Kernel, mark);
        result
    }

    fn run_placed(
        &self,
        vm: &mut Vm,
        entry: usize,
        prog: ProgType,
        kind: ContextKind,
        bytes: &[u8],
        timestamp_ns: Option<u64>,
    ) -> Result<Outcome, RunError> {
        let (head, tail) = match kind {
            ContextKind::Xdp => (XDP_HEADROOM, XDP_TAILROOM),
            _ => (0, 0),
        };
        let size = head as usize + bytes.len() + tail as usize;
        let oom = |e: bpf_vm::MemError| RunError::Input(format!("no room for the input: {e}"));
        let buf = vm
            .mem
            .alloc(RegionKind::Kernel, size.max(1), 8)
            .map_err(oom)?;
        let data = buf + head;
        vm.mem.write_bytes(data, bytes).map_err(oom)?;
        let ifindex = self.state.borrow().config.ifindex;
        let mut run = RunState {
            prog,
            kind,
            ctx: if kind == ContextKind::Bytes {
                data
            } else {
                CTX_ADDR
            },
            buf_start: buf,
            buf_end: buf + size as u64,
            data,
            data_end: data + bytes.len() as u64,
            data_meta: data,
            skb: [0; SKB_SIZE],
            xdp: [ifindex, 0, 0],
            redirect: None,
            timestamp_ns,
        };
        if kind == ContextKind::Skb {
            skb_fields(&mut run, bytes, ifindex, timestamp_ns);
        }
        let ctx = run.ctx;
        self.state.borrow_mut().run = Some(run);
        let ret = vm.call(entry, &[ctx]).map_err(RunError::Trap)?;
        let mut st = self.state.borrow_mut();
        let unsubmitted = st
            .maps
            .iter_mut()
            .filter_map(|m| m.ring_mut().map(|r| r.outstanding()))
            .sum();
        let run = st.run.take().expect("the run state stays during the run");
        let packet = (kind != ContextKind::Bytes)
            .then(|| {
                vm.mem
                    .read_bytes(run.data, (run.data_end - run.data) as usize)
            })
            .transpose()
            .map_err(|e| RunError::Input(format!("the packet cannot be read back: {e}")))?;
        Ok(Outcome {
            ret,
            packet,
            redirect: run.redirect,
            unsubmitted,
        })
    }
}

/// `__sk_buff` fields a packet determines.
fn skb_fields(run: &mut RunState, bytes: &[u8], ifindex: u32, ts: Option<u64>) {
    let be16 = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    run.set_skb_u32(skb::LEN, bytes.len() as u32);
    let mut proto = be16(12).unwrap_or(0);
    if proto == ETH_P_8021Q {
        run.set_skb_u32(skb::VLAN_PRESENT, 1);
        run.set_skb_u32(skb::VLAN_TCI, be16(14).unwrap_or(0) as u32);
        run.set_skb_u32(skb::VLAN_PROTO, ETH_P_8021Q.to_be() as u32);
        proto = be16(16).unwrap_or(0);
    }
    // `protocol` is in network byte order, as the kernel stores it.
    run.set_skb_u32(skb::PROTOCOL, proto.to_be() as u32);
    run.set_skb_u32(skb::INGRESS_IFINDEX, ifindex);
    run.set_skb_u32(skb::IFINDEX, ifindex);
    run.set_skb_u32(skb::WIRE_LEN, bytes.len() as u32);
    run.set_skb_u32(skb::GSO_SEGS, 1);
    if let Some(t) = ts {
        let at = skb::TSTAMP as usize;
        run.skb[at..at + 8].copy_from_slice(&t.to_le_bytes());
    }
}

/// Per-verdict counts of a run over a capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PcapReport {
    pub packets: u64,
    /// Verdict (as [`ProgType::verdict`] names it) -> packets.
    pub verdicts: BTreeMap<String, u64>,
    /// Packets redirected, by target.
    pub redirects: BTreeMap<String, u64>,
    /// Packets the program changed.
    pub modified: u64,
    /// The packet (1-based, as Wireshark numbers them) at which the run
    /// stopped, and why.
    pub stopped: Option<(u64, RunError)>,
}

impl fmt::Display for PcapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} packets", self.packets)?;
        for (verdict, n) in &self.verdicts {
            writeln!(f, "  {verdict:<20} {n}")?;
        }
        for (target, n) in &self.redirects {
            writeln!(f, "  redirected to {target}: {n}")?;
        }
        if self.modified > 0 {
            writeln!(f, "  modified by the program: {}", self.modified)?;
        }
        if let Some((n, e)) = &self.stopped {
            writeln!(f, "stopped at packet {n}: {e}")?;
        }
        Ok(())
    }
}

/// Runs the program on every packet in order; stops at the first error
/// ([`PcapReport::stopped`]).
pub fn run_pcap(
    kernel: &Kernel,
    vm: &mut Vm,
    entry: usize,
    ty: &ProgType,
    packets: &[PcapPacket],
) -> PcapReport {
    let mut report = PcapReport::default();
    for (i, p) in packets.iter().enumerate() {
        let input = Input::Packet {
            data: &p.data,
            timestamp_ns: Some(p.timestamp_ns),
        };
        match kernel.run(vm, entry, ty, input) {
            Ok(out) => {
                report.packets += 1;
                *report.verdicts.entry(ty.verdict(out.ret)).or_default() += 1;
                if let Some(t) = out.redirect {
                    *report.redirects.entry(t).or_default() += 1;
                }
                if out
                    .packet
                    .as_deref()
                    .is_some_and(|q| q != p.data.as_slice())
                {
                    report.modified += 1;
                }
            }
            Err(e) => {
                report.stopped = Some((i as u64 + 1, e));
                break;
            }
        }
    }
    report
}
