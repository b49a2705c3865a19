//! Program contexts: the structures r1 points to (`struct xdp_md`,
//! `struct __sk_buff`, `struct pt_regs`, ...), field by field, and which
//! accesses each program type may make and what a load gives (a number or
//! a packet pointer). Restates the kernel's `xdp_is_valid_access`,
//! `sk_filter_is_valid_access`, `tc_cls_act_is_valid_access`,
//! `cg_skb_is_valid_access`, `sk_skb_is_valid_access`,
//! `lwt_is_valid_access`, `bpf_skb_is_valid_access`,
//! `kprobe_prog_is_valid_access`, `tp_prog_is_valid_access`,
//! `raw_tp_prog_is_valid_access`, `pe_prog_is_valid_access` and
//! `btf_ctx_access` (Linux 6.1, x86-64).

use crate::prog::{ContextStruct, ProgType};

/// What loading a context field gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtxField {
    /// A number of the access size.
    Scalar,
    /// `data`: a pointer to the first packet byte.
    PacketData,
    /// `data_end`: the end of the packet.
    PacketEnd,
    /// `data_meta`: the start of the metadata before the packet.
    PacketMeta,
}

/// `struct __sk_buff` (UAPI): field offsets and the field table.
pub mod skb {
    pub const LEN: u64 = 0;
    pub const PKT_TYPE: u64 = 4;
    pub const MARK: u64 = 8;
    pub const QUEUE_MAPPING: u64 = 12;
    pub const PROTOCOL: u64 = 16;
    pub const VLAN_PRESENT: u64 = 20;
    pub const VLAN_TCI: u64 = 24;
    pub const VLAN_PROTO: u64 = 28;
    pub const PRIORITY: u64 = 32;
    pub const INGRESS_IFINDEX: u64 = 36;
    pub const IFINDEX: u64 = 40;
    pub const TC_INDEX: u64 = 44;
    pub const CB: u64 = 48;
    pub const CB_END: u64 = 68;
    pub const HASH: u64 = 68;
    pub const TC_CLASSID: u64 = 72;
    pub const DATA: u64 = 76;
    pub const DATA_END: u64 = 80;
    pub const NAPI_ID: u64 = 84;
    pub const FAMILY: u64 = 88;
    pub const REMOTE_IP4: u64 = 92;
    pub const LOCAL_IP4: u64 = 96;
    pub const REMOTE_IP6: u64 = 100;
    pub const LOCAL_IP6: u64 = 116;
    pub const REMOTE_PORT: u64 = 132;
    pub const LOCAL_PORT: u64 = 136;
    pub const DATA_META: u64 = 140;
    pub const FLOW_KEYS: u64 = 144;
    pub const TSTAMP: u64 = 152;
    pub const WIRE_LEN: u64 = 160;
    pub const GSO_SEGS: u64 = 164;
    pub const SK: u64 = 168;
    pub const GSO_SIZE: u64 = 176;
    pub const TSTAMP_TYPE: u64 = 180;
    pub const HWTSTAMP: u64 = 184;
    /// `sizeof(struct __sk_buff)`.
    pub const SIZE: u64 = 192;

    /// Every field: (offset, size, name).
    pub const FIELDS: &[(u64, u64, &str)] = &[
        (LEN, 4, "len"),
        (PKT_TYPE, 4, "pkt_type"),
        (MARK, 4, "mark"),
        (QUEUE_MAPPING, 4, "queue_mapping"),
        (PROTOCOL, 4, "protocol"),
        (VLAN_PRESENT, 4, "vlan_present"),
        (VLAN_TCI, 4, "vlan_tci"),
        (VLAN_PROTO, 4, "vlan_proto"),
        (PRIORITY, 4, "priority"),
        (INGRESS_IFINDEX, 4, "ingress_ifindex"),
        (IFINDEX, 4, "ifindex"),
        (TC_INDEX, 4, "tc_index"),
        (CB, 20, "cb"),
        (HASH, 4, "hash"),
        (TC_CLASSID, 4, "tc_classid"),
        (DATA, 4, "data"),
        (DATA_END, 4, "data_end"),
        (NAPI_ID, 4, "napi_id"),
        (FAMILY, 4, "family"),
        (REMOTE_IP4, 4, "remote_ip4"),
        (LOCAL_IP4, 4, "local_ip4"),
        (REMOTE_IP6, 16, "remote_ip6"),
        (LOCAL_IP6, 16, "local_ip6"),
        (REMOTE_PORT, 4, "remote_port"),
        (LOCAL_PORT, 4, "local_port"),
        (DATA_META, 4, "data_meta"),
        (FLOW_KEYS, 8, "flow_keys"),
        (TSTAMP, 8, "tstamp"),
        (WIRE_LEN, 4, "wire_len"),
        (GSO_SEGS, 4, "gso_segs"),
        (SK, 8, "sk"),
        (GSO_SIZE, 4, "gso_size"),
        (TSTAMP_TYPE, 1, "tstamp_type"),
        (HWTSTAMP, 8, "hwtstamp"),
    ];
}

/// `struct xdp_md` (UAPI): six `u32` fields.
pub mod xdp {
    pub const DATA: u64 = 0;
    pub const DATA_END: u64 = 4;
    pub const DATA_META: u64 = 8;
    pub const INGRESS_IFINDEX: u64 = 12;
    pub const RX_QUEUE_INDEX: u64 = 16;
    pub const EGRESS_IFINDEX: u64 = 20;
    /// `sizeof(struct xdp_md)`.
    pub const SIZE: u64 = 24;

    /// Every field: (offset, size, name).
    pub const FIELDS: &[(u64, u64, &str)] = &[
        (DATA, 4, "data"),
        (DATA_END, 4, "data_end"),
        (DATA_META, 4, "data_meta"),
        (INGRESS_IFINDEX, 4, "ingress_ifindex"),
        (RX_QUEUE_INDEX, 4, "rx_queue_index"),
        (EGRESS_IFINDEX, 4, "egress_ifindex"),
    ];
}

/// x86-64 `sizeof(struct pt_regs)`: 21 registers.
pub const PT_REGS_SIZE: u64 = 168;
/// `PERF_MAX_TRACE_SIZE`: the largest tracepoint record.
pub const TRACE_RECORD_SIZE: u64 = 2048;
/// `MAX_BPF_FUNC_ARGS` arguments of 8 bytes.
pub const U64_ARGS_SIZE: u64 = 12 * 8;
/// `struct bpf_perf_event_data`: `pt_regs`, `sample_period`, `addr`.
pub const PERF_EVENT_DATA_SIZE: u64 = PT_REGS_SIZE + 16;

/// The context of one program type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxLayout {
    pub prog: ProgType,
    /// The C type, for messages.
    pub c_type: &'static str,
    /// Bytes of the context structure.
    pub size: u64,
    /// False for contexts whose fields are not laid out here (sockets,
    /// sysctl, ...): accesses are then assumed to read numbers.
    pub modelled: bool,
}

fn in_range(off: u64, lo: u64, hi: u64) -> bool {
    off >= lo && off < hi
}

fn field(off: u64, len: u64) -> impl Fn(u64) -> bool {
    move |f| in_range(off, f, f + len)
}

impl CtxLayout {
    pub fn of(prog: ProgType) -> CtxLayout {
        let (c_type, size, modelled) = match prog.context() {
            ContextStruct::XdpMd => ("struct xdp_md", xdp::SIZE, true),
            ContextStruct::SkBuff => ("struct __sk_buff", skb::SIZE, true),
            ContextStruct::PtRegs => ("struct pt_regs", PT_REGS_SIZE, true),
            ContextStruct::TraceRecord => ("the tracepoint's record", TRACE_RECORD_SIZE, true),
            ContextStruct::U64Args => ("the u64 arguments", U64_ARGS_SIZE, true),
            ContextStruct::PerfEventData => {
                ("struct bpf_perf_event_data", PERF_EVENT_DATA_SIZE, true)
            }
            ContextStruct::SyscallArgs => ("the syscall program's arguments", 4096, false),
            ContextStruct::Other => ("the program's context", 4096, false),
        };
        CtxLayout {
            prog,
            c_type,
            size,
            modelled,
        }
    }

    /// The name of the field at byte `off` (`mark`, `cb`, `data`), for
    /// the structures laid out field by field.
    pub fn field_name(&self, off: u64) -> Option<&'static str> {
        let fields = match self.prog.context() {
            ContextStruct::XdpMd => xdp::FIELDS,
            ContextStruct::SkBuff => skb::FIELDS,
            _ => return None,
        };
        fields
            .iter()
            .find(|(o, len, _)| in_range(off, *o, o + len))
            .map(|(_, _, n)| *n)
    }

    /// Checks an access of `size` bytes at `off`; `None` when the kernel
    /// refuses it ("invalid bpf_context access").
    pub fn access(&self, off: i64, size: u64, write: bool) -> Option<CtxField> {
        if off < 0 || off as u64 >= self.size || size == 0 {
            return None;
        }
        let off = off as u64;
        if !off.is_multiple_of(size) || off + size > self.size {
            return None;
        }
        let at = |f: u64| off == f;
        use ProgType::*;
        match self.prog {
            Xdp => {
                if write || size != 4 {
                    return None;
                }
                Some(match off {
                    xdp::DATA => CtxField::PacketData,
                    xdp::DATA_END => CtxField::PacketEnd,
                    xdp::DATA_META => CtxField::PacketMeta,
                    _ => CtxField::Scalar,
                })
            }
            SocketFilter => {
                let f = |lo: u64, hi: u64| in_range(off, lo, hi);
                if f(skb::TC_CLASSID, skb::TC_CLASSID + 4)
                    || f(skb::DATA, skb::DATA_END + 4)
                    || f(skb::DATA_META, skb::DATA_META + 4)
                    || f(skb::FAMILY, skb::LOCAL_PORT + 4)
                    || f(skb::TSTAMP, skb::WIRE_LEN + 4)
                    || f(skb::HWTSTAMP, skb::SIZE)
                {
                    return None;
                }
                if write && !f(skb::CB, skb::CB_END) {
                    return None;
                }
                skb_access(off, size, write)
            }
            SchedCls | SchedAct => {
                let is = field(off, 4);
                if write {
                    let writable = [
                        skb::MARK,
                        skb::TC_INDEX,
                        skb::PRIORITY,
                        skb::QUEUE_MAPPING,
                        skb::TC_CLASSID,
                    ]
                    .into_iter()
                    .any(&is)
                        || in_range(off, skb::CB, skb::CB_END)
                        || field(off, 8)(skb::TSTAMP);
                    if !writable {
                        return None;
                    }
                }
                if in_range(off, skb::FAMILY, skb::LOCAL_PORT + 4) {
                    return None;
                }
                if at(skb::TSTAMP_TYPE) {
                    return (size == 1 && !write).then_some(CtxField::Scalar);
                }
                skb_access(off, size, write)
            }
            CgroupSkb => {
                let is = field(off, 4);
                if is(skb::TC_CLASSID) || is(skb::DATA_META) || is(skb::WIRE_LEN) {
                    return None;
                }
                if write {
                    let writable = is(skb::MARK)
                        || is(skb::PRIORITY)
                        || in_range(off, skb::CB, skb::CB_END)
                        || field(off, 8)(skb::TSTAMP);
                    if !writable {
                        return None;
                    }
                }
                skb_access(off, size, write)
            }
            SkSkb => {
                let is = field(off, 4);
                if is(skb::TC_CLASSID)
                    || is(skb::DATA_META)
                    || field(off, 8)(skb::TSTAMP)
                    || is(skb::WIRE_LEN)
                    || field(off, 8)(skb::HWTSTAMP)
                    || is(skb::MARK)
                {
                    return None;
                }
                if write && !(is(skb::TC_INDEX) || is(skb::PRIORITY)) {
                    return None;
                }
                skb_access(off, size, write)
            }
            LwtIn | LwtOut | LwtXmit | LwtSeg6local => {
                let is = field(off, 4);
                if is(skb::TC_CLASSID)
                    || in_range(off, skb::FAMILY, skb::LOCAL_PORT + 4)
                    || is(skb::DATA_META)
                    || field(off, 8)(skb::TSTAMP)
                    || is(skb::WIRE_LEN)
                    || field(off, 8)(skb::HWTSTAMP)
                {
                    return None;
                }
                if write
                    && !(is(skb::MARK) || is(skb::PRIORITY) || in_range(off, skb::CB, skb::CB_END))
                {
                    return None;
                }
                skb_access(off, size, write)
            }
            FlowDissector => {
                if write {
                    return None;
                }
                match off {
                    skb::DATA if size == 4 => Some(CtxField::PacketData),
                    skb::DATA_END if size == 4 => Some(CtxField::PacketEnd),
                    // flow_keys: a pointer this verifier does not model.
                    _ => None,
                }
            }
            Kprobe | RawTracepoint | RawTracepointWritable | Tracing | Lsm => {
                (!write).then_some(CtxField::Scalar)
            }
            Tracepoint => (!write && off >= 8).then_some(CtxField::Scalar),
            PerfEvent => {
                if write {
                    return None;
                }
                // The registers are read as whole longs; sample_period and
                // addr may be read narrower.
                (off >= PT_REGS_SIZE || size == 8).then_some(CtxField::Scalar)
            }
            _ => (!write).then_some(CtxField::Scalar),
        }
    }
}

/// `bpf_skb_is_valid_access`: what every `__sk_buff` program may do.
fn skb_access(off: u64, size: u64, write: bool) -> Option<CtxField> {
    let r = |lo: u64, hi: u64| in_range(off, lo, hi);
    if r(skb::CB, skb::CB_END) {
        return (off + size <= skb::CB_END).then_some(CtxField::Scalar);
    }
    if r(skb::FLOW_KEYS, skb::FLOW_KEYS + 8) || r(skb::TSTAMP_TYPE, skb::HWTSTAMP) {
        return None;
    }
    if r(skb::TSTAMP, skb::TSTAMP + 8) || r(skb::HWTSTAMP, skb::SIZE) {
        return (size == 8 && !(write && off == skb::HWTSTAMP)).then_some(CtxField::Scalar);
    }
    if off == skb::SK {
        // A socket pointer (or NULL): not modelled further.
        return (size == 8 && !write).then_some(CtxField::Scalar);
    }
    let word = off & !3;
    let pointer = match word {
        skb::DATA => Some(CtxField::PacketData),
        skb::DATA_END => Some(CtxField::PacketEnd),
        skb::DATA_META => Some(CtxField::PacketMeta),
        _ => None,
    };
    if let Some(kind) = pointer {
        return (size == 4 && !write).then_some(kind);
    }
    // Addresses are read whole.
    if r(skb::REMOTE_IP4, skb::REMOTE_PORT) && size != 4 {
        return None;
    }
    // Narrow loads of 4-byte fields; stores of whole fields.
    if size > 4 || (write && size != 4) {
        return None;
    }
    Some(CtxField::Scalar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdp_allows_aligned_word_reads_only() {
        let x = CtxLayout::of(ProgType::Xdp);
        assert_eq!(x.access(0, 4, false), Some(CtxField::PacketData));
        assert_eq!(x.access(4, 4, false), Some(CtxField::PacketEnd));
        assert_eq!(x.access(12, 4, false), Some(CtxField::Scalar));
        assert_eq!(x.access(0, 8, false), None);
        assert_eq!(x.access(2, 4, false), None);
        assert_eq!(x.access(24, 4, false), None);
        assert_eq!(x.access(0, 4, true), None);
        assert_eq!(x.field_name(5), Some("data_end"));
    }

    #[test]
    fn skb_rules_differ_between_program_types() {
        let s = CtxLayout::of(ProgType::SocketFilter);
        let t = CtxLayout::of(ProgType::SchedCls);
        let c = CtxLayout::of(ProgType::CgroupSkb);
        assert_eq!(s.access(76, 4, false), None, "no direct packet access");
        assert_eq!(t.access(76, 4, false), Some(CtxField::PacketData));
        assert_eq!(c.access(76, 4, false), Some(CtxField::PacketData));
        assert_eq!(s.access(0, 4, false), Some(CtxField::Scalar));
        assert_eq!(s.access(16, 2, false), Some(CtxField::Scalar));
        assert_eq!(s.access(8, 4, true), None, "mark is read-only for sockets");
        assert_eq!(t.access(8, 4, true), Some(CtxField::Scalar));
        assert_eq!(c.access(8, 4, true), Some(CtxField::Scalar));
        assert_eq!(c.access(44, 4, true), None, "tc_index is tc's");
        assert_eq!(s.access(48, 4, true), Some(CtxField::Scalar), "cb[0]");
        assert_eq!(s.access(64, 8, false), None, "past cb[4]");
        assert_eq!(t.access(180, 1, false), Some(CtxField::Scalar));
        assert_eq!(s.access(180, 1, false), None);
        assert_eq!(t.field_name(50), Some("cb"));
        assert_eq!(
            CtxLayout::of(ProgType::SkSkb).access(8, 4, false),
            None,
            "sk_skb may not read mark"
        );
    }

    #[test]
    fn tracing_contexts_are_read_only() {
        let k = CtxLayout::of(ProgType::Kprobe);
        assert_eq!(k.access(112, 8, false), Some(CtxField::Scalar));
        assert_eq!(k.access(112, 8, true), None);
        assert_eq!(k.access(164, 8, false), None, "past pt_regs");
        let tp = CtxLayout::of(ProgType::Tracepoint);
        assert_eq!(tp.access(0, 8, false), None, "common fields");
        assert_eq!(tp.access(8, 4, false), Some(CtxField::Scalar));
        let pe = CtxLayout::of(ProgType::PerfEvent);
        assert_eq!(pe.access(0, 4, false), None, "registers are longs");
        assert_eq!(pe.access(168, 4, false), Some(CtxField::Scalar));
    }
}
