//! Program types from ELF section names, by libbpf's conventions
//! (`SEC("xdp")`, `SEC("kprobe/do_sys_open")`, `SEC("tc")`...), and what
//! their return values mean.

use crate::context::ContextKind;

/// The kind of a BPF program, as its section name declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramType {
    SocketFilter,
    Xdp,
    /// tc classifier (`tc`, `classifier`, `tcx/...`).
    SchedCls,
    /// tc action (`action`).
    SchedAct,
    CgroupSkb,
    /// `sk_skb`, `lwt_*`, `flow_dissector`: socket-buffer programs.
    OtherSkb(String),
    Kprobe,
    Tracepoint,
    RawTracepoint,
    /// `fentry`, `fexit`, `fmod_ret`, `tp_btf`, `lsm`, `iter`: arguments as
    /// an array of `u64`.
    Tracing(String),
    PerfEvent,
    Syscall,
    /// A type bpf-repl cannot run (its context is a kernel object we do
    /// not emulate): the libbpf name, for the message.
    Unsupported(String),
}

/// libbpf's section prefixes, longer ones first where they overlap. A
/// name matches a prefix it equals or continues with `/` or `.`.
/// Makes the type from the full section name.
type Make = fn(&str) -> ProgramType;

const SECTIONS: &[(&str, Make)] = &[
    ("socket", |_| ProgramType::SocketFilter),
    ("sk_reuseport", |s| ProgramType::Unsupported(s.to_string())),
    ("sk_skb", |s| ProgramType::OtherSkb(s.to_string())),
    ("sk_msg", |s| ProgramType::Unsupported(s.to_string())),
    ("sk_lookup", |s| ProgramType::Unsupported(s.to_string())),
    ("kprobe.multi", |_| ProgramType::Kprobe),
    ("kretprobe.multi", |_| ProgramType::Kprobe),
    ("uprobe.multi", |_| ProgramType::Kprobe),
    ("uretprobe.multi", |_| ProgramType::Kprobe),
    ("kprobe", |_| ProgramType::Kprobe),
    ("kretprobe", |_| ProgramType::Kprobe),
    ("uprobe", |_| ProgramType::Kprobe),
    ("uretprobe", |_| ProgramType::Kprobe),
    ("ksyscall", |_| ProgramType::Kprobe),
    ("kretsyscall", |_| ProgramType::Kprobe),
    ("usdt", |_| ProgramType::Kprobe),
    ("tcx", |_| ProgramType::SchedCls),
    ("tc", |_| ProgramType::SchedCls),
    ("classifier", |_| ProgramType::SchedCls),
    ("action", |_| ProgramType::SchedAct),
    ("tracepoint", |_| ProgramType::Tracepoint),
    ("tp_btf", |s| ProgramType::Tracing(s.to_string())),
    ("tp", |_| ProgramType::Tracepoint),
    ("raw_tracepoint", |_| ProgramType::RawTracepoint),
    ("raw_tp", |_| ProgramType::RawTracepoint),
    ("fentry", |s| ProgramType::Tracing(s.to_string())),
    ("fmod_ret", |s| ProgramType::Tracing(s.to_string())),
    ("fexit", |s| ProgramType::Tracing(s.to_string())),
    ("freplace", |s| ProgramType::Unsupported(s.to_string())),
    ("lsm", |s| ProgramType::Tracing(s.to_string())),
    ("iter", |s| ProgramType::Tracing(s.to_string())),
    ("syscall", |_| ProgramType::Syscall),
    ("xdp", |_| ProgramType::Xdp),
    ("perf_event", |_| ProgramType::PerfEvent),
    ("lwt_in", |s| ProgramType::OtherSkb(s.to_string())),
    ("lwt_out", |s| ProgramType::OtherSkb(s.to_string())),
    ("lwt_xmit", |s| ProgramType::OtherSkb(s.to_string())),
    ("lwt_seg6local", |s| ProgramType::OtherSkb(s.to_string())),
    ("sockops", |s| ProgramType::Unsupported(s.to_string())),
    ("cgroup_skb", |_| ProgramType::CgroupSkb),
    ("cgroup/skb", |_| ProgramType::CgroupSkb),
    ("cgroup", |s| ProgramType::Unsupported(s.to_string())),
    ("struct_ops", |s| ProgramType::Unsupported(s.to_string())),
    ("flow_dissector", |s| ProgramType::OtherSkb(s.to_string())),
    ("netfilter", |s| ProgramType::Unsupported(s.to_string())),
    ("ext", |s| ProgramType::Unsupported(s.to_string())),
];

impl ProgramType {
    /// The type a section name declares, or `None` for sections that hold
    /// no program (`.text`, data). Like old libbpf and samples/bpf,
    /// `socket1` and `xdp_prog` count as `socket` and `xdp`.
    pub fn from_section(section: &str) -> Option<ProgramType> {
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
            .map(|(_, make)| make(section))
    }

    /// What the program's context is; `Err` names why it cannot run.
    pub fn context(&self) -> Result<ContextKind, String> {
        match self {
            ProgramType::Xdp => Ok(ContextKind::Xdp),
            ProgramType::SocketFilter
            | ProgramType::SchedCls
            | ProgramType::SchedAct
            | ProgramType::CgroupSkb
            | ProgramType::OtherSkb(_) => Ok(ContextKind::Skb),
            ProgramType::Kprobe
            | ProgramType::Tracepoint
            | ProgramType::RawTracepoint
            | ProgramType::Tracing(_)
            | ProgramType::PerfEvent
            | ProgramType::Syscall => Ok(ContextKind::Bytes),
            ProgramType::Unsupported(s) => Err(format!(
                "programs of section `{s}` have a kernel context bpf-repl does not emulate"
            )),
        }
    }

    /// A short name (`xdp`, `socket_filter`, `kprobe`...).
    pub fn name(&self) -> String {
        match self {
            ProgramType::SocketFilter => "socket_filter".into(),
            ProgramType::Xdp => "xdp".into(),
            ProgramType::SchedCls => "sched_cls".into(),
            ProgramType::SchedAct => "sched_act".into(),
            ProgramType::CgroupSkb => "cgroup_skb".into(),
            ProgramType::OtherSkb(s) | ProgramType::Tracing(s) | ProgramType::Unsupported(s) => {
                s.split('/').next().unwrap_or(s).to_string()
            }
            ProgramType::Kprobe => "kprobe".into(),
            ProgramType::Tracepoint => "tracepoint".into(),
            ProgramType::RawTracepoint => "raw_tracepoint".into(),
            ProgramType::PerfEvent => "perf_event".into(),
            ProgramType::Syscall => "syscall".into(),
        }
    }

    /// What a return value means for this type: `XDP_PASS`, `TC_ACT_SHOT`,
    /// `drop` / `keep 64 bytes` for socket filters, else the number.
    pub fn verdict(&self, ret: u64) -> String {
        let r32 = ret as u32;
        match self {
            ProgramType::Xdp => match r32 {
                0 => "XDP_ABORTED".into(),
                1 => "XDP_DROP".into(),
                2 => "XDP_PASS".into(),
                3 => "XDP_TX".into(),
                4 => "XDP_REDIRECT".into(),
                n => format!("{n} (not an XDP action: XDP_ABORTED)"),
            },
            ProgramType::SchedCls | ProgramType::SchedAct => match r32 as i32 {
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
            ProgramType::SocketFilter => match r32 {
                0 => "drop".into(),
                u32::MAX => "keep whole packet".into(),
                n => format!("keep {n} bytes"),
            },
            ProgramType::CgroupSkb => match r32 {
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
        let t = |s| ProgramType::from_section(s);
        assert_eq!(t("xdp"), Some(ProgramType::Xdp));
        assert_eq!(t("xdp.frags"), Some(ProgramType::Xdp));
        assert_eq!(t("xdp_prog"), Some(ProgramType::Xdp));
        assert_eq!(t("socket"), Some(ProgramType::SocketFilter));
        assert_eq!(t("socket1"), Some(ProgramType::SocketFilter));
        assert_eq!(t("kprobe/do_sys_open"), Some(ProgramType::Kprobe));
        assert_eq!(t("kretprobe/x"), Some(ProgramType::Kprobe));
        assert_eq!(
            t("tp/syscalls/sys_enter_write"),
            Some(ProgramType::Tracepoint)
        );
        assert_eq!(
            t("tp_btf/sched_switch"),
            Some(ProgramType::Tracing("tp_btf/sched_switch".into()))
        );
        assert_eq!(t("raw_tp/sys_enter"), Some(ProgramType::RawTracepoint));
        assert_eq!(t("tc"), Some(ProgramType::SchedCls));
        assert_eq!(t("classifier/ingress"), Some(ProgramType::SchedCls));
        assert_eq!(t("cgroup_skb/egress"), Some(ProgramType::CgroupSkb));
        assert_eq!(t("tcp_probe"), None, "not `tc` followed by a separator");
        assert_eq!(t(".text"), None);
        assert_eq!(t("license"), None);
        assert!(t("sockops").unwrap().context().is_err());
        assert_eq!(ProgramType::Xdp.verdict(2), "XDP_PASS");
        assert_eq!(ProgramType::SchedCls.verdict(u64::MAX), "TC_ACT_UNSPEC");
        assert_eq!(ProgramType::SocketFilter.verdict(64), "keep 64 bytes");
    }
}
