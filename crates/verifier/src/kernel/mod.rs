//! What the verifier must know about the kernel and about an object built
//! for it. The kernel's facts (helper prototypes, program types, context
//! layouts, map types) are `bpf-kabi`'s, shared with the kernel world;
//! this module adds what a load brings: the loader's privileges, the
//! object's maps and license, the program to check.

pub mod maps;

pub use bpf_kabi::helpers::{Arg, Callback, CallbackArg, HelperProto, Privilege, Ret};
pub use bpf_kabi::maps::{map_type, MapDef};
pub use bpf_kabi::{CtxField, CtxLayout, ProgType};
pub use maps::MapInfo;

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

/// What the object says about itself that the kernel checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectFacts {
    /// Its license (section `license`) is GPL-compatible: GPL-only
    /// helpers may be called.
    pub gpl: bool,
    /// It carries BTF function information (`.BTF.ext`, built with `-g`):
    /// subprograms may use LD_ABS/LD_IND and tail calls
    /// (`check_abnormal_return`).
    pub func_info: bool,
}

impl Default for ObjectFacts {
    fn default() -> Self {
        ObjectFacts {
            gpl: true,
            func_info: true,
        }
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
