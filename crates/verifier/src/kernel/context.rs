//! Program contexts: which bytes of `ctx` a program may read or write, and
//! what a load gives (a number, or a packet pointer). Restates the kernel's
//! `xdp_is_valid_access`, `sk_filter_is_valid_access`,
//! `tc_cls_act_is_valid_access`, `bpf_skb_is_valid_access`,
//! `kprobe_prog_is_valid_access`, `tp_prog_is_valid_access` and
//! `raw_tp_prog_is_valid_access` (Linux 6.1, x86-64).

use super::ProgType;

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

/// The context of one program type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxLayout {
    pub prog: ProgType,
    /// The C type, for messages.
    pub c_type: &'static str,
    /// Bytes of the context structure.
    pub size: u64,
}

/// `struct __sk_buff` field offsets (UAPI).
mod skb {
    pub const MARK: u64 = 8;
    pub const QUEUE_MAPPING: u64 = 12;
    pub const PRIORITY: u64 = 32;
    pub const TC_INDEX: u64 = 44;
    pub const CB: u64 = 48;
    pub const CB_END: u64 = 68;
    pub const TC_CLASSID: u64 = 72;
    pub const DATA: u64 = 76;
    pub const DATA_END: u64 = 80;
    pub const FAMILY: u64 = 88;
    pub const LOCAL_PORT_END: u64 = 140;
    pub const DATA_META: u64 = 140;
    pub const FLOW_KEYS: u64 = 144;
    pub const TSTAMP: u64 = 152;
    pub const WIRE_LEN: u64 = 160;
    pub const SK: u64 = 168;
    pub const TSTAMP_TYPE: u64 = 180;
    pub const HWTSTAMP: u64 = 184;
    pub const SIZE: u64 = 192;
}

impl CtxLayout {
    pub fn of(prog: ProgType) -> CtxLayout {
        let (c_type, size) = match prog {
            ProgType::Xdp => ("struct xdp_md", 24),
            ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct => {
                ("struct __sk_buff", skb::SIZE)
            }
            // x86-64 `struct pt_regs`: 21 registers.
            ProgType::Kprobe => ("struct pt_regs", 168),
            // PERF_MAX_TRACE_SIZE
            ProgType::Tracepoint => ("the tracepoint's record", 2048),
            // MAX_BPF_FUNC_ARGS u64 arguments
            ProgType::RawTracepoint => ("struct bpf_raw_tracepoint_args", 96),
        };
        CtxLayout { prog, c_type, size }
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
        match self.prog {
            ProgType::Xdp => {
                if write || size != 4 {
                    return None;
                }
                Some(match off {
                    0 => CtxField::PacketData,
                    4 => CtxField::PacketEnd,
                    8 => CtxField::PacketMeta,
                    _ => CtxField::Scalar,
                })
            }
            ProgType::SocketFilter => {
                let in_range = |lo: u64, hi: u64| off >= lo && off < hi;
                if in_range(skb::TC_CLASSID, skb::TC_CLASSID + 4)
                    || in_range(skb::DATA, skb::DATA_END + 4)
                    || in_range(skb::DATA_META, skb::DATA_META + 4)
                    || in_range(skb::FAMILY, skb::LOCAL_PORT_END)
                    || in_range(skb::TSTAMP, skb::WIRE_LEN + 4)
                    || in_range(skb::HWTSTAMP, skb::SIZE)
                {
                    return None;
                }
                if write && !in_range(skb::CB, skb::CB_END) {
                    return None;
                }
                skb_access(off, size, write)
            }
            ProgType::SchedCls | ProgType::SchedAct => {
                let in_range = |lo: u64, hi: u64| off >= lo && off < hi;
                if write {
                    let writable = [
                        skb::MARK,
                        skb::TC_INDEX,
                        skb::PRIORITY,
                        skb::QUEUE_MAPPING,
                        skb::TC_CLASSID,
                    ]
                    .iter()
                    .any(|f| in_range(*f, f + 4))
                        || in_range(skb::CB, skb::CB_END)
                        || in_range(skb::TSTAMP, skb::TSTAMP + 8);
                    if !writable {
                        return None;
                    }
                }
                if in_range(skb::FAMILY, skb::LOCAL_PORT_END) {
                    return None;
                }
                skb_access(off, size, write)
            }
            ProgType::Kprobe | ProgType::RawTracepoint => (!write).then_some(CtxField::Scalar),
            ProgType::Tracepoint => (!write && off >= 8).then_some(CtxField::Scalar),
        }
    }
}

/// `bpf_skb_is_valid_access`: what every `__sk_buff` program may do.
fn skb_access(off: u64, size: u64, write: bool) -> Option<CtxField> {
    let in_range = |lo: u64, hi: u64| off >= lo && off < hi;
    if in_range(skb::CB, skb::CB_END) {
        return (off + size <= skb::CB_END).then_some(CtxField::Scalar);
    }
    if in_range(skb::FLOW_KEYS, skb::FLOW_KEYS + 8) || in_range(skb::TSTAMP_TYPE, skb::HWTSTAMP) {
        return None;
    }
    if in_range(skb::TSTAMP, skb::TSTAMP + 8) || in_range(skb::HWTSTAMP, skb::SIZE) {
        return (size == 8 && !(write && off == skb::HWTSTAMP)).then_some(CtxField::Scalar);
    }
    if off == skb::SK {
        // A socket pointer (or NULL): not modelled further.
        return (size == 8 && !write).then_some(CtxField::Scalar);
    }
    let field = off & !3;
    let pointer = match field {
        skb::DATA => Some(CtxField::PacketData),
        skb::DATA_END => Some(CtxField::PacketEnd),
        skb::DATA_META => Some(CtxField::PacketMeta),
        _ => None,
    };
    if let Some(kind) = pointer {
        return (size == 4 && !write).then_some(kind);
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
    }

    #[test]
    fn skb_rules_differ_between_socket_filters_and_tc() {
        let s = CtxLayout::of(ProgType::SocketFilter);
        let t = CtxLayout::of(ProgType::SchedCls);
        assert_eq!(s.access(76, 4, false), None, "no direct packet access");
        assert_eq!(t.access(76, 4, false), Some(CtxField::PacketData));
        assert_eq!(s.access(0, 4, false), Some(CtxField::Scalar));
        assert_eq!(s.access(16, 2, false), Some(CtxField::Scalar));
        assert_eq!(s.access(8, 4, true), None, "mark is read-only for sockets");
        assert_eq!(t.access(8, 4, true), Some(CtxField::Scalar));
        assert_eq!(s.access(48, 4, true), Some(CtxField::Scalar), "cb[0]");
        assert_eq!(s.access(64, 8, false), None, "past cb[4]");
    }
}
