//! Program types (`enum bpf_prog_type`), the ELF section names libbpf
//! gives them (`SEC("xdp")`, `SEC("kprobe/do_sys_open")`, ...), and what
//! their return values mean.

/// A program type, with the kernel's id as discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ProgType {
    SocketFilter = 1,
    Kprobe = 2,
    /// tc classifier (`SEC("tc")`, `"classifier"`, `"tcx/..."`).
    SchedCls = 3,
    /// tc action (`SEC("action")`).
    SchedAct = 4,
    Tracepoint = 5,
    Xdp = 6,
    PerfEvent = 7,
    CgroupSkb = 8,
    CgroupSock = 9,
    LwtIn = 10,
    LwtOut = 11,
    LwtXmit = 12,
    SockOps = 13,
    SkSkb = 14,
    CgroupDevice = 15,
    SkMsg = 16,
    RawTracepoint = 17,
    CgroupSockAddr = 18,
    LwtSeg6local = 19,
    LircMode2 = 20,
    SkReuseport = 21,
    FlowDissector = 22,
    CgroupSysctl = 23,
    RawTracepointWritable = 24,
    CgroupSockopt = 25,
    /// `fentry`, `fexit`, `fmod_ret`, `tp_btf`, `iter`: arguments as an
    /// array of `u64`.
    Tracing = 26,
    StructOps = 27,
    /// `freplace`.
    Ext = 28,
    Lsm = 29,
    SkLookup = 30,
    Syscall = 31,
    Netfilter = 32,
}

/// Every program type, by id.
const ALL: [ProgType; 32] = {
    use ProgType::*;
    [
        SocketFilter,
        Kprobe,
        SchedCls,
        SchedAct,
        Tracepoint,
        Xdp,
        PerfEvent,
        CgroupSkb,
        CgroupSock,
        LwtIn,
        LwtOut,
        LwtXmit,
        SockOps,
        SkSkb,
        CgroupDevice,
        SkMsg,
        RawTracepoint,
        CgroupSockAddr,
        LwtSeg6local,
        LircMode2,
        SkReuseport,
        FlowDissector,
        CgroupSysctl,
        RawTracepointWritable,
        CgroupSockopt,
        Tracing,
        StructOps,
        Ext,
        Lsm,
        SkLookup,
        Syscall,
        Netfilter,
    ]
};

/// A set of program types (helper availability).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProgSet(pub u64);

impl ProgSet {
    pub const NONE: ProgSet = ProgSet(0);
    /// Every type.
    pub const ALL: ProgSet = ProgSet(u64::MAX);

    pub const fn of(types: &[ProgType]) -> ProgSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < types.len() {
            bits |= 1 << types[i] as u8;
            i += 1;
        }
        ProgSet(bits)
    }

    pub const fn or(self, o: ProgSet) -> ProgSet {
        ProgSet(self.0 | o.0)
    }

    pub const fn contains(self, t: ProgType) -> bool {
        self.0 & (1 << t as u8) != 0
    }
}

/// Groups of program types, as the kernel's `*_func_proto` functions
/// share helpers.
pub mod sets {
    use super::ProgSet;
    use super::ProgType::*;

    /// kprobe, tracepoints, perf events, fentry/fexit, LSM
    /// (`bpf_tracing_func_proto` and the types built on it).
    pub const TRACING: ProgSet = ProgSet::of(&[
        Kprobe,
        Tracepoint,
        RawTracepoint,
        RawTracepointWritable,
        PerfEvent,
        Tracing,
        Lsm,
    ]);
    /// tc classifiers and actions.
    pub const TC: ProgSet = ProgSet::of(&[SchedCls, SchedAct]);
    pub const XDP: ProgSet = ProgSet::of(&[Xdp]);
    /// Programs on `struct __sk_buff` that may read packet bytes through
    /// helpers (`bpf_skb_load_bytes`).
    pub const SKB: ProgSet = ProgSet::of(&[
        SocketFilter,
        SchedCls,
        SchedAct,
        CgroupSkb,
        SkSkb,
        LwtIn,
        LwtOut,
        LwtXmit,
        LwtSeg6local,
        FlowDissector,
    ]);
    /// Types that may write packet bytes and checksums through helpers.
    pub const SKB_WRITE: ProgSet = ProgSet::of(&[SchedCls, SchedAct, SkSkb, LwtXmit]);
    /// tc and XDP.
    pub const TC_XDP: ProgSet = TC.or(XDP);
    /// Types that may send records to perf event arrays.
    pub const PERF_OUTPUT: ProgSet = TRACING.or(ProgSet::of(&[
        SocketFilter,
        SchedCls,
        SchedAct,
        Xdp,
        CgroupSkb,
        LwtIn,
        LwtOut,
        LwtXmit,
        LwtSeg6local,
        SockOps,
        SkSkb,
    ]));
    /// Types that run in a task's context (`bpf_get_current_*`).
    pub const TASK: ProgSet = TRACING.or(ProgSet::of(&[
        CgroupSock,
        CgroupSockAddr,
        CgroupSkb,
        CgroupSysctl,
        CgroupSockopt,
        CgroupDevice,
        Syscall,
    ]));
}

/// What kind of context structure a program gets in r1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextStruct {
    /// `struct xdp_md`.
    XdpMd,
    /// `struct __sk_buff`.
    SkBuff,
    /// `struct pt_regs` (kprobes, uprobes).
    PtRegs,
    /// The tracepoint's record (`/sys/kernel/tracing/events/.../format`).
    TraceRecord,
    /// `struct bpf_raw_tracepoint_args` / the arguments as `u64`s
    /// (raw tracepoints, fentry/fexit, LSM).
    U64Args,
    /// `struct bpf_perf_event_data`.
    PerfEventData,
    /// The bytes user space passed (`BPF_PROG_TYPE_SYSCALL`).
    SyscallArgs,
    /// A kernel object bpf-repl does not lay out (socket, sysctl, ...).
    Other,
}

/// libbpf's section prefixes, longer ones first where they overlap; a
/// name matches a prefix it equals or continues with `/` or `.`
/// (`socket1` and `xdp_prog` count too, as old libbpf read them).
const SECTIONS: &[(&str, ProgType)] = {
    use ProgType::*;
    &[
        ("socket", SocketFilter),
        ("sk_reuseport", SkReuseport),
        ("sk_skb", SkSkb),
        ("sk_msg", SkMsg),
        ("sk_lookup", SkLookup),
        ("kprobe", Kprobe),
        ("kretprobe", Kprobe),
        ("uprobe", Kprobe),
        ("uretprobe", Kprobe),
        ("ksyscall", Kprobe),
        ("kretsyscall", Kprobe),
        ("usdt", Kprobe),
        ("tcx", SchedCls),
        ("tc", SchedCls),
        ("classifier", SchedCls),
        ("action", SchedAct),
        ("tracepoint", Tracepoint),
        ("tp_btf", Tracing),
        ("tp", Tracepoint),
        ("raw_tracepoint.w", RawTracepointWritable),
        ("raw_tp.w", RawTracepointWritable),
        ("raw_tracepoint", RawTracepoint),
        ("raw_tp", RawTracepoint),
        ("fentry", Tracing),
        ("fmod_ret", Tracing),
        ("fexit", Tracing),
        ("iter", Tracing),
        ("freplace", Ext),
        ("lsm", Lsm),
        ("syscall", Syscall),
        ("xdp", Xdp),
        ("perf_event", PerfEvent),
        ("lwt_in", LwtIn),
        ("lwt_out", LwtOut),
        ("lwt_xmit", LwtXmit),
        ("lwt_seg6local", LwtSeg6local),
        ("sockops", SockOps),
        ("cgroup_skb", CgroupSkb),
        ("cgroup/skb", CgroupSkb),
        ("cgroup/dev", CgroupDevice),
        ("cgroup/sysctl", CgroupSysctl),
        ("cgroup/getsockopt", CgroupSockopt),
        ("cgroup/setsockopt", CgroupSockopt),
        ("cgroup/sock_create", CgroupSock),
        ("cgroup/sock_release", CgroupSock),
        ("cgroup/sock", CgroupSock),
        ("cgroup/post_bind4", CgroupSock),
        ("cgroup/post_bind6", CgroupSock),
        ("cgroup", CgroupSockAddr),
        ("struct_ops", StructOps),
        ("flow_dissector", FlowDissector),
        ("netfilter", Netfilter),
        ("lirc_mode2", LircMode2),
    ]
};

impl ProgType {
    /// The type with kernel id `id`.
    pub fn from_id(id: u32) -> Option<ProgType> {
        ALL.get((id as usize).checked_sub(1)?).copied()
    }

    /// The kernel's id (`BPF_PROG_TYPE_XDP` is 6).
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The type libbpf gives a program in section `section`, or `None`
    /// for sections that hold no program (`.text`, data, `license`).
    pub fn from_section(section: &str) -> Option<ProgType> {
        if section.starts_with('.') {
            return None;
        }
        SECTIONS
            .iter()
            .find(|(prefix, _)| {
                section.strip_prefix(prefix).is_some_and(|rest| {
                    rest.is_empty()
                        || rest.starts_with(['/', '.'])
                        // Legacy names: socket1, xdp_prog, xdp1...
                        || (matches!(*prefix, "socket" | "xdp") && !rest.starts_with('/'))
                })
            })
            .map(|(_, t)| *t)
    }

    /// The kernel's name (`enum bpf_prog_type` without the prefix, lower case).
    pub fn name(self) -> &'static str {
        use ProgType::*;
        match self {
            SocketFilter => "socket_filter",
            Kprobe => "kprobe",
            SchedCls => "sched_cls",
            SchedAct => "sched_act",
            Tracepoint => "tracepoint",
            Xdp => "xdp",
            PerfEvent => "perf_event",
            CgroupSkb => "cgroup_skb",
            CgroupSock => "cgroup_sock",
            LwtIn => "lwt_in",
            LwtOut => "lwt_out",
            LwtXmit => "lwt_xmit",
            SockOps => "sock_ops",
            SkSkb => "sk_skb",
            CgroupDevice => "cgroup_device",
            SkMsg => "sk_msg",
            RawTracepoint => "raw_tracepoint",
            CgroupSockAddr => "cgroup_sock_addr",
            LwtSeg6local => "lwt_seg6local",
            LircMode2 => "lirc_mode2",
            SkReuseport => "sk_reuseport",
            FlowDissector => "flow_dissector",
            CgroupSysctl => "cgroup_sysctl",
            RawTracepointWritable => "raw_tracepoint_writable",
            CgroupSockopt => "cgroup_sockopt",
            Tracing => "tracing",
            StructOps => "struct_ops",
            Ext => "ext",
            Lsm => "lsm",
            SkLookup => "sk_lookup",
            Syscall => "syscall",
            Netfilter => "netfilter",
        }
    }

    /// The context structure r1 points to.
    pub fn context(self) -> ContextStruct {
        use ProgType::*;
        match self {
            Xdp => ContextStruct::XdpMd,
            SocketFilter | SchedCls | SchedAct | CgroupSkb | SkSkb | LwtIn | LwtOut | LwtXmit
            | LwtSeg6local | FlowDissector => ContextStruct::SkBuff,
            Kprobe => ContextStruct::PtRegs,
            Tracepoint => ContextStruct::TraceRecord,
            RawTracepoint | RawTracepointWritable | Tracing | Lsm => ContextStruct::U64Args,
            PerfEvent => ContextStruct::PerfEventData,
            Syscall => ContextStruct::SyscallArgs,
            _ => ContextStruct::Other,
        }
    }

    /// True for types that read packets through `data`/`data_end`
    /// (`may_access_direct_pkt_data`).
    pub fn has_direct_packet_access(self) -> bool {
        use ProgType::*;
        matches!(
            self,
            Xdp | SchedCls
                | SchedAct
                | CgroupSkb
                | SkSkb
                | LwtIn
                | LwtOut
                | LwtXmit
                | LwtSeg6local
                | FlowDissector
                | SkMsg
        )
    }

    /// True for types that may use legacy packet loads, LD_ABS/LD_IND
    /// (`may_access_skb`).
    pub fn may_access_skb(self) -> bool {
        matches!(
            self,
            ProgType::SocketFilter | ProgType::SchedCls | ProgType::SchedAct
        )
    }

    /// True for tracing programs (kprobe, tracepoints, fentry, ...).
    pub fn is_tracing(self) -> bool {
        sets::TRACING.contains(self)
    }

    /// What a return value means for this type: `XDP_PASS`, `TC_ACT_SHOT`,
    /// `drop` / `keep 64 bytes` for socket filters, else the number.
    pub fn verdict(self, ret: u64) -> String {
        let r32 = ret as u32;
        match self {
            ProgType::Xdp => match r32 {
                0 => "XDP_ABORTED".into(),
                1 => "XDP_DROP".into(),
                2 => "XDP_PASS".into(),
                3 => "XDP_TX".into(),
                4 => "XDP_REDIRECT".into(),
                n => format!("{n} (not an XDP action: XDP_ABORTED)"),
            },
            ProgType::SchedCls | ProgType::SchedAct => match r32 as i32 {
                -1 => "TC_ACT_UNSPEC".into(),
                0 => "TC_ACT_OK".into(),
                1 => "TC_ACT_RECLASSIFY".into(),
                2 => "TC_ACT_SHOT".into(),
                3 => "TC_ACT_PIPE".into(),
                4 => "TC_ACT_STOLEN".into(),
                5 => "TC_ACT_QUEUED".into(),
                6 => "TC_ACT_REPEAT".into(),
                7 => "TC_ACT_REDIRECT".into(),
                8 => "TC_ACT_TRAP".into(),
                n => n.to_string(),
            },
            ProgType::SocketFilter => match r32 {
                0 => "drop".into(),
                u32::MAX => "keep whole packet".into(),
                n => format!("keep {n} bytes"),
            },
            ProgType::CgroupSkb => match r32 {
                0 => "drop".into(),
                1 => "allow".into(),
                n => n.to_string(),
            },
            _ => (ret as i64).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_section_names() {
        let t = ProgType::from_section;
        assert_eq!(t("xdp"), Some(ProgType::Xdp));
        assert_eq!(t("xdp.frags"), Some(ProgType::Xdp));
        assert_eq!(t("xdp_prog"), Some(ProgType::Xdp));
        assert_eq!(t("xdp_router"), Some(ProgType::Xdp));
        assert_eq!(t("socket"), Some(ProgType::SocketFilter));
        assert_eq!(t("socket1"), Some(ProgType::SocketFilter));
        assert_eq!(t("kprobe/do_sys_open"), Some(ProgType::Kprobe));
        assert_eq!(t("kretprobe/x"), Some(ProgType::Kprobe));
        assert_eq!(
            t("tracepoint/syscalls/sys_enter_openat"),
            Some(ProgType::Tracepoint)
        );
        assert_eq!(t("tp/syscalls/sys_enter_write"), Some(ProgType::Tracepoint));
        assert_eq!(t("tp_btf/sched_switch"), Some(ProgType::Tracing));
        assert_eq!(t("fentry/wake_up_new_task"), Some(ProgType::Tracing));
        assert_eq!(t("raw_tp/sys_enter"), Some(ProgType::RawTracepoint));
        assert_eq!(t("raw_tp.w/x"), Some(ProgType::RawTracepointWritable));
        assert_eq!(t("tc"), Some(ProgType::SchedCls));
        assert_eq!(t("classifier/ingress"), Some(ProgType::SchedCls));
        assert_eq!(t("cgroup_skb/egress"), Some(ProgType::CgroupSkb));
        assert_eq!(t("cgroup/skb"), Some(ProgType::CgroupSkb));
        assert_eq!(t("cgroup/connect4"), Some(ProgType::CgroupSockAddr));
        assert_eq!(t("cgroup/sock_create"), Some(ProgType::CgroupSock));
        assert_eq!(t("sk_msg"), Some(ProgType::SkMsg));
        assert_eq!(t("tcp_probe"), None, "not `tc` followed by a separator");
        assert_eq!(t(".text"), None);
        assert_eq!(t("license"), None);
    }

    #[test]
    fn ids_are_the_kernels() {
        assert_eq!(ProgType::Xdp.id(), 6);
        assert_eq!(ProgType::Tracing.id(), 26);
        assert_eq!(ProgType::Netfilter.id(), 32);
        for id in 1..=32 {
            assert_eq!(ProgType::from_id(id).unwrap().id(), id);
        }
        assert_eq!(ProgType::from_id(0), None);
        assert_eq!(ProgType::from_id(33), None);
        assert!(sets::TC.contains(ProgType::SchedAct));
        assert!(!sets::TC.contains(ProgType::Xdp));
    }

    #[test]
    fn return_values_by_type() {
        assert_eq!(ProgType::Xdp.verdict(2), "XDP_PASS");
        assert_eq!(ProgType::SchedCls.verdict(u64::MAX), "TC_ACT_UNSPEC");
        assert_eq!(ProgType::SocketFilter.verdict(64), "keep 64 bytes");
    }
}
