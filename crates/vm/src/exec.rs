//! What an execution engine needs from the VM: the state of a stopped or
//! paused run ([`ExecState`]), the hook through which another engine (the
//! Cranelift JIT in `bpf-jit`) takes over [`Vm::call`], and the pre-decoded
//! ops it translates.
//!
//! The state is the interpreter's own: registers, pc and the explicit
//! frames of the callers (return pc and saved r6–r9). Any engine that stops
//! at an instruction boundary with its state in this form can hand the run
//! to the interpreter ([`Vm::interpret`]) and take it back, and every trap is
//! built from it by one constructor ([`trap_at`]), so backtraces do not
//! depend on the engine.

pub use crate::interp::{Kind, Op};
use crate::trap::{Trap, TrapKind};
use crate::vm::Vm;
use std::ops::Range;
use std::sync::OnceLock;

/// One caller frame: where its `call` returns to and its r6–r9 at the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub return_pc: usize,
    pub saved: [u64; 4],
}

impl Frame {
    /// Code index of the `call` instruction that made this frame's callee.
    pub fn call_site(&self) -> usize {
        self.return_pc.wrapping_sub(1)
    }
}

/// A run between two instructions: enough to continue it on any engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecState {
    /// r0..r10 (r10 is recomputed from the depth whenever a run resumes).
    pub regs: [u64; 11],
    /// The next instruction to run.
    pub pc: usize,
    /// The callers of the running function, outermost first.
    pub frames: Vec<Frame>,
    /// Frames below `frames` that belong to whoever started this run (a
    /// JIT's native frames when it interprets one function): they count for
    /// r10 and the call-depth limit but are not popped here.
    pub base_depth: usize,
}

impl ExecState {
    /// The state at the first instruction of `entry` with `args` in r1..r5.
    pub fn new(entry: usize, args: &[u64]) -> ExecState {
        let mut regs = [0; 11];
        for (r, a) in regs[1..6].iter_mut().zip(args) {
            *r = *a;
        }
        ExecState {
            regs,
            pc: entry,
            frames: Vec::new(),
            base_depth: 0,
        }
    }

    /// Frames in use, counting the running one's callers and `base_depth`.
    pub fn depth(&self) -> usize {
        self.base_depth + self.frames.len()
    }

    /// The trap `kind` at the current pc, with this state's call sites.
    pub fn trap(&self, kind: TrapKind) -> Trap {
        trap_at(kind, self.pc, &self.frames)
    }
}

/// The one way to build a trap: `kind` at `pc` inside the given caller
/// frames (outermost first); call sites are listed innermost first.
pub fn trap_at(kind: TrapKind, pc: usize, frames: &[Frame]) -> Trap {
    Trap {
        kind,
        pc,
        call_sites: frames.iter().rev().map(Frame::call_site).collect(),
    }
}

/// An execution engine that [`Vm::call`] hands every call to, once
/// registered with [`Vm::set_engine`]. Without one, the interpreter runs.
pub trait Engine {
    /// A short name for messages (`"jit"`, `"auto"`).
    fn name(&self) -> &str;

    /// Runs `entry` with `args` in r1..r5 to its `exit` (r0) or a trap,
    /// with exactly the interpreter's semantics. The interrupt flag has
    /// already been cleared.
    fn call(&mut self, vm: &mut Vm, entry: usize, args: &[u64]) -> Result<u64, Trap>;

    /// The code slots in `changed` were rewritten, removed or added: code
    /// translated from them is stale.
    fn code_changed(&mut self, changed: Range<usize>);

    /// The engine as `Any`, for hosts that look at its own API (statistics).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Makes an engine for a new VM (`None`: the interpreter).
pub type EngineFactory = fn() -> Option<Box<dyn Engine>>;

static DEFAULT_ENGINE: OnceLock<EngineFactory> = OnceLock::new();

/// Gives every VM that [`Vm::new`] creates from now on, in this process,
/// the engine `factory` makes: for test harnesses and tools that run all
/// their VMs on one engine. Can be set once; false if it already was.
pub fn set_default_engine(factory: EngineFactory) -> bool {
    DEFAULT_ENGINE.set(factory).is_ok()
}

/// The engine a new VM starts with.
pub(crate) fn default_engine() -> Option<Box<dyn Engine>> {
    DEFAULT_ENGINE.get().and_then(|f| f())
}
