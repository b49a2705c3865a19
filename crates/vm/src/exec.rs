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

pub use crate::host::{HelperAction, HelperId};
pub use crate::interp::{Kind, Op};
pub use crate::jump::{JmpRecords, Jump};
use crate::trap::{Trap, TrapKind};
use crate::vm::Vm;
use std::ops::Range;
use std::sync::OnceLock;

/// Marks the return address of a frame entered by a helper calling back
/// into BPF (`RESUME_BIT | slot after the helper call`): its `exit` goes
/// back to the helper (the innermost [`PendingHelper`]), not to code.
pub const RESUME_BIT: usize = 1 << (usize::BITS - 1);

/// One caller frame: where its `call` returns to and its r6–r9 at the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// The slot after the call; with [`RESUME_BIT`] for a function a helper called.
    pub return_pc: usize,
    pub saved: [u64; 4],
    /// Names the activation this frame's call entered once a `setjmp` ran
    /// in it (0: not named; see `crate::jump`).
    pub serial: u64,
}

impl Frame {
    /// A new (unnamed) frame.
    #[inline]
    pub fn new(return_pc: usize, saved: [u64; 4]) -> Frame {
        Frame {
            return_pc,
            saved,
            serial: 0,
        }
    }

    /// Code index of the `call` instruction that made this frame's callee
    /// (for a helper's callback: the call of the helper).
    pub fn call_site(&self) -> usize {
        (self.return_pc & !RESUME_BIT).wrapping_sub(1)
    }
}

/// A helper that called a BPF function and waits for it to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingHelper {
    pub helper: HelperId,
    /// What the helper passed along with its request.
    pub state: [u64; 4],
    /// Where execution goes on once the helper returns.
    pub return_pc: usize,
}

/// What a run carries besides registers and frames: the helpers waiting
/// for their callbacks (innermost last), the tail calls made and the
/// `setjmp` records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostState {
    pub pending: Vec<PendingHelper>,
    pub tail_calls: u32,
    pub jumps: JmpRecords,
}

/// How a stretch of interpretation ([`Vm::interpret`]) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The entry frame exited with this r0.
    Returned(u64),
    /// The fuel ran out before the next instruction.
    OutOfFuel,
    /// The program ended the whole run with this result (LD_ABS/LD_IND
    /// past the end of the packet), whatever frames were live.
    Ended(u64),
    /// Only when the state has a `base_depth`: helper `helper` asked for
    /// `jump`, which needs every frame of the run. The state is at the
    /// helper's `call`; the owner of the base frames adds them to the
    /// state and finishes the jump with [`Vm::jump`].
    Jump { helper: HelperId, jump: Jump },
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
    /// Helpers waiting for a callback among `frames`, one per frame with
    /// [`RESUME_BIT`] (innermost last).
    pub pending: Vec<PendingHelper>,
    /// Tail calls made so far in the run (at most [`crate::MAX_TAIL_CALLS`]).
    pub tail_calls: u32,
    /// The run's `setjmp` records (they name activations among `frames`).
    pub jumps: JmpRecords,
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
            pending: Vec::new(),
            tail_calls: 0,
            jumps: JmpRecords::default(),
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

    /// Carries out what a helper asked for (see [`Vm::helper_resume`]) in
    /// `vm`, as the interpreter does (a jump needs `base_depth` 0).
    pub fn apply(&mut self, action: HelperAction, vm: &mut Vm) -> Result<(), TrapKind> {
        let max_depth = vm.config.max_call_depth;
        match action {
            HelperAction::Return { value, next } => {
                self.regs[0] = value;
                self.pc = next;
            }
            HelperAction::Call {
                target,
                args,
                pending,
            } => {
                if self.depth() + 1 >= max_depth {
                    return Err(TrapKind::CallDepthExceeded { limit: max_depth });
                }
                let r = &self.regs;
                let saved = [r[6], r[7], r[8], r[9]];
                self.frames
                    .push(Frame::new(RESUME_BIT | pending.return_pc, saved));
                self.regs[1..6].copy_from_slice(&args);
                self.pending.push(pending);
                self.pc = target;
            }
            HelperAction::TailCall { target, ctx } => {
                self.regs[1] = ctx;
                self.pc = target;
            }
            HelperAction::Jump { helper, jump } => vm.jump(self, helper, jump)?,
        }
        Ok(())
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

/// The VM's side of what an engine does: every decision the interpreter
/// makes outside plain ALU and memory code, so that native code only
/// applies it. Each is the function the interpreter itself calls.
impl Vm {
    /// The code pre-decoded one instruction per slot (what a JIT
    /// translates), proven loads as their own kinds.
    pub fn ops(&self) -> &[Op] {
        self.program.singles()
    }

    /// The function a `callx` to `addr` enters, or the trap it raises.
    pub fn callx_target(&self, addr: u64) -> Result<usize, TrapKind> {
        crate::host::entry_at(&self.entries, addr)
    }

    /// Runs the helper `call` at slot `pc` with r1..r5 = `args`: what the
    /// engine must do next. `tail_calls` counts the run's tail calls.
    pub fn helper_call(
        &mut self,
        pc: usize,
        args: [u64; 5],
        tail_calls: &mut u32,
    ) -> Result<HelperAction, TrapKind> {
        let op = self.program.singles()[pc];
        let (id, step) = crate::host::start_helper(
            &mut self.helpers,
            &mut self.runtime_helpers,
            &mut self.mem,
            &op,
            args,
        )?;
        crate::host::plan_step(&self.entries, id, step, pc + 1, tail_calls)
    }

    /// The function `pending` asked for returned `ret`: the helper's next step.
    pub fn helper_resume(
        &mut self,
        pending: &PendingHelper,
        ret: u64,
        tail_calls: &mut u32,
    ) -> Result<HelperAction, TrapKind> {
        let step = crate::host::resume_helper(
            &mut self.helpers,
            &mut self.runtime_helpers,
            &mut self.mem,
            pending,
            ret,
        )?;
        let next = pending.return_pc;
        crate::host::plan_step(&self.entries, pending.helper, step, next, tail_calls)
    }

    /// Finishes `jump`, which `helper` asked for, on `state` (at the
    /// helper's `call`, with every frame of the run: `base_depth` 0): the
    /// state goes on at the `setjmp`'s continuation, or the trap naming
    /// the helper.
    pub fn jump(
        &mut self,
        state: &mut ExecState,
        helper: HelperId,
        jump: Jump,
    ) -> Result<(), TrapKind> {
        if state.base_depth != 0 {
            return Err(crate::host::helper_error(
                &self.helpers,
                &self.runtime_helpers,
                helper,
                crate::HelperError::Fault(
                    "setjmp/longjmp while another engine holds frames of the run".into(),
                ),
            ));
        }
        let pc = state
            .jumps
            .apply(
                jump,
                &mut self.jmp_tokens,
                &mut self.mem,
                &mut state.frames,
                &mut state.pending,
                &mut state.regs,
            )
            .map_err(|e| {
                crate::host::helper_error(&self.helpers, &self.runtime_helpers, helper, e)
            })?;
        state.pc = pc;
        Ok(())
    }

    /// The legacy packet load at slot `pc` with `r[src]` = `index`: the
    /// value for r0, or `None` when the run ends with 0 ([`Outcome::Ended`]).
    pub fn packet_load(&mut self, pc: usize, index: u64) -> Result<Option<u64>, TrapKind> {
        let op = self.program.singles()[pc];
        crate::host::packet_load(&mut self.device, &self.mem, &op, index)
    }

    /// The load at slot `pc` of `size` bytes at `addr` through the checked
    /// accessor, zero-extended; a refused access goes to the device where
    /// the interpreter would offer it (plain loads), else it is the trap.
    pub fn load_checked(&mut self, pc: usize, addr: u64, size: usize) -> Result<u64, TrapKind> {
        let kind = self.program.singles()[pc].kind;
        let proven = matches!(
            kind,
            Kind::LdxP8
                | Kind::LdxP16
                | Kind::LdxP32
                | Kind::LdxP64
                | Kind::LdxsP8
                | Kind::LdxsP16
                | Kind::LdxsP32
        );
        let result = if proven {
            self.mem.load_proven(addr, size)
        } else {
            self.mem.load(addr, size)
        };
        result.or_else(|e| {
            let offer = crate::host::device_access(kind).is_some();
            match offer.then(|| crate::host::device_load(&mut self.device, &self.mem, addr, size)) {
                Some(Some(answer)) => answer,
                _ => Err(TrapKind::Memory(e)),
            }
        })
    }

    /// The store at slot `pc` through the checked accessor (see
    /// [`Vm::load_checked`]).
    pub fn store_checked(
        &mut self,
        pc: usize,
        addr: u64,
        size: usize,
        value: u64,
    ) -> Result<(), TrapKind> {
        let kind = self.program.singles()[pc].kind;
        self.mem.store(addr, size, value).or_else(|e| {
            let device = &mut self.device;
            let offer = crate::host::device_access(kind).is_some();
            match offer.then(|| crate::host::device_store(device, &mut self.mem, addr, size, value))
            {
                Some(Some(answer)) => answer,
                _ => Err(TrapKind::Memory(e)),
            }
        })
    }

    /// Runs the atomic read-modify-write `op` (an `Atomic32`/`Atomic64`
    /// op) on `regs` and memory, exactly as the interpreter does.
    pub fn atomic(&mut self, op: &Op, regs: &mut [u64; 11]) -> Result<(), TrapKind> {
        let result = match op.kind {
            Kind::Atomic32 => crate::interp::atomic_rmw::<4>(op, regs, &mut self.mem),
            _ => crate::interp::atomic_rmw::<8>(op, regs, &mut self.mem),
        };
        result.map_err(TrapKind::Memory)
    }
}
