//! What the verifier must know about the kernel and about an object built
//! for it: program types (from libbpf's section names), helper prototypes,
//! context layouts, and the object's maps.
//!
//! The kernel facts sit behind [`KernelTables`], so that a shared table
//! (the kernel crate's helper registry) can replace [`BuiltinTables`]
//! without touching the analysis.

pub mod context;
pub mod helpers;
pub mod maps;

pub use context::{CtxField, CtxLayout};
pub use helpers::{Arg, HelperProto, Ret};
pub use maps::{MapDef, MapInfo};

/// The program types the verifier knows the context of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgType {
    SocketFilter,
    Kprobe,
    /// tc classifier (`SEC("tc")`, `"classifier"`).
    SchedCls,
    /// tc action (`SEC("action")`).
    SchedAct,
    Tracepoint,
    Xdp,
    RawTracepoint,
}

impl ProgType {
    /// The type libbpf gives a program in section `section`, if it is one
    /// of the types above (libbpf's `section_defs` table).
    pub fn from_section(section: &str) -> Option<ProgType> {
        let (head, _) = section.split_once('/').unwrap_or((section, ""));
        Some(match head {
            "socket" => ProgType::SocketFilter,
            "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "ksyscall" | "kretsyscall"
            | "usdt" => ProgType::Kprobe,
            "tc" | "classifier" | "tcx" | "tc_ingress" | "tc_egress" => ProgType::SchedCls,
            "action" => ProgType::SchedAct,
            "tracepoint" | "tp" => ProgType::Tracepoint,
            "raw_tracepoint" | "raw_tp" => ProgType::RawTracepoint,
            "xdp" | "xdp.frags" => ProgType::Xdp,
            // Older libbpf matched prefixes: SEC("xdp_router"), SEC("socket1").
            _ if head.starts_with("xdp") => ProgType::Xdp,
            _ if head.starts_with("socket") => ProgType::SocketFilter,
            _ if head.starts_with("classifier") => ProgType::SchedCls,
            _ => return None,
        })
    }

    /// The kernel's name (`enum bpf_prog_type` without the prefix).
    pub fn name(self) -> &'static str {
        match self {
            ProgType::SocketFilter => "socket_filter",
            ProgType::Kprobe => "kprobe",
            ProgType::SchedCls => "sched_cls",
            ProgType::SchedAct => "sched_act",
            ProgType::Tracepoint => "tracepoint",
            ProgType::Xdp => "xdp",
            ProgType::RawTracepoint => "raw_tracepoint",
        }
    }

    /// True for types that read packets through `data`/`data_end`.
    pub fn has_direct_packet_access(self) -> bool {
        matches!(
            self,
            ProgType::Xdp | ProgType::SchedCls | ProgType::SchedAct
        )
    }

    /// True for tracing programs (kprobe, tracepoints).
    pub fn is_tracing(self) -> bool {
        matches!(
            self,
            ProgType::Kprobe | ProgType::Tracepoint | ProgType::RawTracepoint
        )
    }
}

/// Who loads the program: the kernel is stricter with loaders lacking
/// `CAP_BPF`/`CAP_PERFMON` (`allow_ptr_leaks`, `allow_uninit_stack`,
/// `bpf_capable`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelOptions {
    pub privileged: bool,
    /// Most instructions a program may have (`BPF_COMPLEXITY_LIMIT_INSNS`
    /// privileged, `BPF_MAXINSNS` otherwise).
    pub max_insns: usize,
    /// Most instructions the kernel's verifier will walk (path by path)
    /// before giving up (`BPF_COMPLEXITY_LIMIT_INSNS`).
    pub complexity_limit: u64,
    /// Stack bytes of the whole call chain (`MAX_BPF_STACK`).
    pub stack_limit: usize,
    /// Deepest call chain (`MAX_CALL_FRAMES`).
    pub max_call_frames: usize,
}

impl KernelOptions {
    /// A loader with root privileges (what `bpftool`/libbpf users usually are).
    pub fn privileged() -> KernelOptions {
        KernelOptions {
            privileged: true,
            max_insns: 1_000_000,
            complexity_limit: 1_000_000,
            stack_limit: 512,
            max_call_frames: 8,
        }
    }

    /// A loader without `CAP_BPF` (socket filters with
    /// `kernel.unprivileged_bpf_disabled=0`).
    pub fn unprivileged() -> KernelOptions {
        KernelOptions {
            privileged: false,
            max_insns: 4096,
            ..KernelOptions::privileged()
        }
    }
}

/// The kernel facts the analysis consults. [`BuiltinTables`] is ours; a
/// shared registry can implement this instead.
pub trait KernelTables {
    /// The prototype of helper `id`, if modelled.
    fn helper(&self, id: u32) -> Option<&HelperProto>;
    /// The name of helper `id` (`map_lookup_elem`), if it exists at all.
    fn helper_name(&self, id: u32) -> Option<&str>;
    /// The context layout of a program type.
    fn context(&self, prog: ProgType) -> CtxLayout;
}

/// The tables of this crate: helper prototypes after the kernel's
/// `bpf_func_proto` definitions, contexts after its `*_is_valid_access`.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuiltinTables;

impl KernelTables for BuiltinTables {
    fn helper(&self, id: u32) -> Option<&HelperProto> {
        helpers::prototype(id)
    }

    fn helper_name(&self, id: u32) -> Option<&str> {
        helpers::name(id)
    }

    fn context(&self, prog: ProgType) -> CtxLayout {
        CtxLayout::of(prog)
    }
}

/// One program to verify in kernel mode: where it starts and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelProgram {
    /// Index of the entry function in [`crate::Program::functions`].
    pub function: usize,
    pub prog_type: ProgType,
    /// The ELF section it came from (for messages).
    pub section: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_section_names_give_program_types() {
        assert_eq!(ProgType::from_section("xdp"), Some(ProgType::Xdp));
        assert_eq!(
            ProgType::from_section("kprobe/do_sys_open"),
            Some(ProgType::Kprobe)
        );
        assert_eq!(
            ProgType::from_section("tracepoint/syscalls/sys_enter_openat"),
            Some(ProgType::Tracepoint)
        );
        assert_eq!(
            ProgType::from_section("socket"),
            Some(ProgType::SocketFilter)
        );
        assert_eq!(ProgType::from_section("tc"), Some(ProgType::SchedCls));
        assert_eq!(ProgType::from_section("xdp_router"), Some(ProgType::Xdp));
        assert_eq!(ProgType::from_section(".text"), None);
        assert_eq!(ProgType::from_section("license"), None);
    }
}
