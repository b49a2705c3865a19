//! Why a run stopped before its entry function returned.

use crate::memory::MemError;
use std::fmt;

/// What a host helper can report instead of a return value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperError {
    /// The helper touched memory it may not (a bad pointer or length argument).
    Memory(MemError),
    /// `exit(code)`: the program asked to stop.
    Exit(i32),
    /// `abort()` or a failed assertion, with its message.
    Abort(String),
    /// Any other misuse, described for the user (e.g. "double free of 0x400000010").
    Fault(String),
    /// Undefined behaviour a compiled-in check caught (`__bpf_ub_trap`,
    /// docs/abi.md): what happened, e.g. "division by zero".
    Undefined(String),
    /// A request to the thread scheduler (`pthread_mutex_lock`, ...): the
    /// scheduler carries it out and the call completes or blocks
    /// (see [`crate::threads`]). Outside the scheduler it is a trap.
    Sched(crate::threads::SchedOp),
}

impl From<MemError> for HelperError {
    fn from(e: MemError) -> Self {
        HelperError::Memory(e)
    }
}

impl fmt::Display for HelperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperError::Memory(e) => write!(f, "{e}"),
            HelperError::Exit(c) => write!(f, "exit({c})"),
            HelperError::Abort(m) => write!(f, "{m}"),
            HelperError::Fault(m) => write!(f, "{m}"),
            HelperError::Undefined(m) => write!(f, "undefined behaviour: {m}"),
            HelperError::Sched(op) => write!(f, "{op:?} outside the thread scheduler"),
        }
    }
}

/// The cause of a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrapKind {
    /// A load, store or atomic outside accessible memory.
    Memory(MemError),
    /// The instruction budget ran out (a runaway loop, or a long computation).
    BudgetExhausted { budget: u64 },
    /// Another thread raised the interrupt flag (Ctrl-C).
    Interrupted,
    /// A call would exceed the call-depth limit (runaway recursion).
    CallDepthExceeded { limit: usize },
    /// `call` of a kernel helper id nobody registered.
    UnknownHelper(i32),
    /// `call` (`src = 2`) of a runtime helper index nobody registered.
    UnknownRuntimeHelper(i32),
    /// `callx` to an address that is not a function entry.
    BadCallTarget(u64),
    /// Execution left the code (fell off the end, or a call went nowhere).
    PcOutOfRange(u64),
    /// A helper reported an error; `helper` is its name.
    Helper { helper: String, error: HelperError },
    /// A trap in one of several threads: which one (every thread stopped).
    InThread { thread: u64, kind: Box<TrapKind> },
    /// Every live thread is blocked: what each waits for and where it is.
    Deadlock(Vec<crate::threads::BlockedThread>),
}

/// A stopped run: cause, the faulting instruction, and the call stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    pub kind: TrapKind,
    /// Code index of the instruction that trapped.
    pub pc: usize,
    /// Code indices of the `call` instructions of the enclosing frames, innermost first.
    pub call_sites: Vec<usize>,
}

impl TrapKind {
    /// What went wrong, whichever thread it happened in (the kind inside
    /// any [`TrapKind::InThread`]).
    pub fn innermost(&self) -> &TrapKind {
        let mut kind = self;
        while let TrapKind::InThread { kind: inner, .. } = kind {
            kind = inner;
        }
        kind
    }
}

impl Trap {
    /// The exit code if the program called `exit`.
    pub fn exit_code(&self) -> Option<i32> {
        match self.kind.innermost() {
            TrapKind::Helper {
                error: HelperError::Exit(c),
                ..
            } => Some(*c),
            _ => None,
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrapKind::Memory(e) => {
                write!(f, "invalid memory access: {e}")?;
                if e.reason == crate::memory::MemReason::OutOfBounds(crate::RegionKind::Stack) {
                    // Most often a function whose locals need more than a frame.
                    write!(
                        f,
                        " (each call frame has a fixed size: if a function needs more, \
                         raise it with --stack-size)"
                    )?;
                }
                Ok(())
            }
            TrapKind::BudgetExhausted { budget } => write!(
                f,
                "instruction budget of {budget} exhausted (runaway loop? raise it with --budget)"
            ),
            TrapKind::Interrupted => write!(f, "interrupted"),
            TrapKind::CallDepthExceeded { limit } => {
                write!(
                    f,
                    "call depth limit of {limit} frames exceeded (runaway recursion? raise it with --max-call-depth)"
                )
            }
            TrapKind::UnknownHelper(id) => match crate::kernel_helpers::kernel_helper_name(*id) {
                Some(name) => write!(
                    f,
                    "call of kernel helper {name}#{id}, which is not available here"
                ),
                None => write!(
                    f,
                    "call of kernel helper #{id}, which the kernel does not define"
                ),
            },
            TrapKind::UnknownRuntimeHelper(id) => {
                write!(f, "call of runtime helper #{id}, which is not registered")
            }
            TrapKind::BadCallTarget(a) => {
                write!(f, "indirect call to {a:#x}, which is not a function")
            }
            TrapKind::PcOutOfRange(pc) => write!(f, "execution left the code at slot {pc}"),
            TrapKind::Helper { helper, error } => match error {
                HelperError::Memory(e) => write!(f, "in {helper}: invalid memory access: {e}"),
                // Helper messages already name the call, e.g. `free(0x...): double free`.
                HelperError::Fault(m) | HelperError::Abort(m) => f.write_str(m),
                HelperError::Undefined(m) => write!(f, "undefined behaviour: {m}"),
                HelperError::Exit(c) => write!(f, "exit({c})"),
                HelperError::Sched(_) => write!(f, "in {helper}: {error}"),
            },
            TrapKind::InThread { thread, kind } => write!(f, "in thread {thread}: {kind}"),
            TrapKind::Deadlock(threads) => {
                write!(f, "deadlock: every thread is blocked")?;
                for t in threads {
                    write!(f, "\n  thread {} waits for {}", t.thread, t.waits)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at instruction {})", self.kind, self.pc)
    }
}

impl std::error::Error for Trap {}
