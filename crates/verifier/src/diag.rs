//! Findings of kernel mode: which rule of the Linux verifier an
//! instruction breaks, in words, with the kernel's own message and the
//! abstract state that shows why.

use std::fmt;

/// A rule of the Linux verifier (`kernel/bpf/verifier.c`, Linux 6.1) that
/// a program can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A register is read before it is written (`check_reg_arg`).
    UninitRegister,
    /// Stack bytes are read before they are written (`check_stack_read_fixed_off`).
    UninitStack,
    /// A stack access outside the 512-byte frame (`check_stack_access_within_bounds`).
    StackBounds,
    /// A stack access not aligned to its size (`check_ptr_alignment`).
    MisalignedStack,
    /// The frames of a call chain need more than 512 bytes (`check_max_stack_depth`).
    CombinedStack,
    /// A loop whose termination the analysis cannot show (bounded loops, `is_state_visited`).
    UnboundedLoop,
    /// The kernel would walk more instructions than its complexity limit.
    TooComplex,
    /// More instructions than a program may have (`bpf_prog_load`).
    TooManyInsns,
    /// A loop in a program loaded without `CAP_BPF` (`check_cfg`).
    BackEdge,
    /// Packet access without a bounds check against `data_end` (`check_packet_access`).
    PacketBounds,
    /// A pointer that may be NULL is dereferenced (`check_mem_access`).
    NullDeref,
    /// A context access the program type does not allow (`check_ctx_access`).
    CtxAccess,
    /// A map value access outside the value (`check_map_access`).
    MapValueBounds,
    /// Bytes a helper returned accessed outside their size (`check_mem_region_access`).
    MemBounds,
    /// A pointer stored where a less privileged reader can see it, or
    /// returned (`allow_ptr_leaks`).
    PointerLeak,
    /// A dereference of something that is not a readable pointer.
    InvalidMemAccess,
    /// Pointer arithmetic the kernel forbids (`adjust_ptr_min_max_vals`).
    PointerArithmetic,
    /// Pointer comparison by an unprivileged program (`check_cond_jmp_op`).
    PointerComparison,
    /// A helper argument of the wrong kind, size or initialisation (`check_func_arg`).
    HelperArgs,
    /// A helper that does not exist or that this program type may not call (`check_helper_call`).
    UnknownHelper,
    /// A write to read-only memory (`.rodata`, `BPF_F_RDONLY_PROG`, context fields).
    ReadOnly,
    /// A reference (ringbuf reservation) not released at exit (`check_reference_leak`).
    UnreleasedReference,
    /// A function calls itself (`check_cfg`, `check_max_stack_depth`).
    Recursion,
    /// More nested calls than `MAX_CALL_FRAMES` (`check_func_call`).
    CallDepth,
    /// An instruction the kernel does not accept (`callx`, unmodelled forms).
    Unsupported,
    /// Code no path reaches (`check_cfg`).
    Unreachable,
    /// A jump out of its function, or code that runs off its end (`check_cfg`).
    BadControlFlow,
    /// A GPL-only helper called by a program whose license is not GPL-compatible.
    License,
    /// A callback returns a value its helper does not allow (`prepare_func_exit`).
    CallbackReturn,
    /// LD_ABS/LD_IND where the kernel does not allow it (`check_ld_abs`).
    LegacyPacketAccess,
    /// Something this verifier does not model; the verdict assumes it is fine.
    NotModelled,
}

impl Rule {
    /// Short name used in reports and test names.
    pub fn name(self) -> &'static str {
        match self {
            Rule::UninitRegister => "uninitialised register",
            Rule::UninitStack => "uninitialised stack",
            Rule::StackBounds => "stack out of bounds",
            Rule::MisalignedStack => "misaligned stack access",
            Rule::CombinedStack => "stack too large",
            Rule::UnboundedLoop => "unbounded loop",
            Rule::TooComplex => "too complex",
            Rule::TooManyInsns => "too many instructions",
            Rule::BackEdge => "loop not allowed",
            Rule::PacketBounds => "packet access without bounds check",
            Rule::NullDeref => "possible NULL dereference",
            Rule::CtxAccess => "invalid context access",
            Rule::MapValueBounds => "map value out of bounds",
            Rule::MemBounds => "memory out of bounds",
            Rule::PointerLeak => "pointer leak",
            Rule::InvalidMemAccess => "invalid memory access",
            Rule::PointerArithmetic => "prohibited pointer arithmetic",
            Rule::PointerComparison => "pointer comparison",
            Rule::HelperArgs => "bad helper argument",
            Rule::UnknownHelper => "unknown helper",
            Rule::ReadOnly => "write to read-only memory",
            Rule::UnreleasedReference => "unreleased reference",
            Rule::Recursion => "recursion",
            Rule::CallDepth => "call chain too deep",
            Rule::Unsupported => "unsupported instruction",
            Rule::Unreachable => "unreachable code",
            Rule::BadControlFlow => "bad control flow",
            Rule::License => "GPL-only helper",
            Rule::CallbackReturn => "bad callback return value",
            Rule::LegacyPacketAccess => "legacy packet access",
            Rule::NotModelled => "not modelled",
        }
    }
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The kernel would refuse the program.
    Error,
    /// Accepted, but only thanks to privileges, or not fully modelled here.
    Warning,
}

/// One finding at one instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub rule: Rule,
    pub severity: Severity,
    /// The instruction (absolute slot).
    pub slot: usize,
    /// What is wrong, in words.
    pub message: String,
    /// The line the kernel's verifier log would show, when we know it.
    pub kernel: Option<String>,
    /// The abstract state that shows why: `r1 = packet pointer ...`.
    pub state: Vec<String>,
    /// What to do about it, when there is a usual fix.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{what}: {} [{}]", self.message, self.rule.name())
    }
}
