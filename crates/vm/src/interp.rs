//! The interpreter: one flat `match` over pre-decoded ops (`decode.rs`).
//!
//! Code is validated when it is loaded, so every opcode seen here is known
//! and every register index is in range; what remains checked at run time is
//! what only run time knows: memory addresses, call targets, call depth, the
//! instruction budget and the interrupt flag.
//!
//! It runs on two levels. [`run_until_stop`] executes what needs only
//! registers and memory (ALU, jumps, local calls, loads, stores, atomics)
//! in a tight loop with few live values. It returns to [`Vm::run_loop`] at
//! helper calls, `callx`, the entry frame's `exit`, traps, and when its
//! fuel (a chunk of the instruction budget) is spent; `run_loop` handles
//! those, polls the interrupt flag, and resumes it.
//!
//! The loop mostly runs the fused copy of the code (`Program::fused`), in
//! which one op may do the work of two instructions. The budget stays exact:
//! fused ops only run while at least two instructions of fuel are left, and
//! the last instruction of a fuel chunk runs from the single-op copy
//! (`Program::singles`), so a run can stop between the halves of a pair.
//!
//! Each arm fetches the op after it itself, and along straight-line code
//! the pc only ever grows by a constant (an op's slot count is fixed by its
//! kind): the next fetch never waits for a load.

mod decode;
mod host;
mod program;

pub use decode::{Kind, Op};
pub(crate) use program::Program;

use crate::exec::{trap_at, ExecState, Frame, HostState, Outcome, RESUME_BIT};
use crate::isa::*;
use crate::memory::{MemError, Memory, RegionKind};
use crate::trap::{Trap, TrapKind};
use crate::vm::{Vm, VmConfig};
use host::{Host, Next};
use std::sync::atomic::Ordering;

/// How many instructions run between two looks at the interrupt flag.
const INTERRUPT_POLL: u64 = 1 << 16;

/// Size of the register file. Only r0..r10 exist, but with one entry per
/// `u8` value a decoded register number can index it without a bounds
/// check or a mask.
const REG_FILE: usize = 256;

/// The registers, indexed by register number.
type Regs = [u64; REG_FILE];

/// The frames of the callers of the running function, and the stack layout.
struct CallStack {
    frames: Vec<Frame>,
    /// Frames below `frames` held by whoever started the run (see
    /// [`ExecState::base_depth`]).
    base_depth: usize,
    max_depth: usize,
    frame_size: u64,
    /// r10 of the entry frame: the top of the stack region.
    entry_fp: u64,
    /// The bottom of the entry frame (a stack region offset).
    entry_low: u64,
    /// Several threads share the stack region: every part of it stays
    /// accessible (a thread may use another's locals, as in C).
    shared: bool,
}

impl CallStack {
    /// The call stack of the thread whose stack is `slot` (0: the only one,
    /// at the bottom of the stack region; see `crate::threads`).
    fn new(
        config: &VmConfig,
        frames: Vec<Frame>,
        base_depth: usize,
        slot: usize,
        shared: bool,
    ) -> CallStack {
        let frame_size = config.frame_size as u64;
        let per_thread = frame_size.saturating_mul(config.max_call_depth as u64);
        let stack_top = per_thread.saturating_mul(slot as u64 + 1);
        CallStack {
            shared,
            frames,
            base_depth,
            max_depth: config.max_call_depth,
            frame_size,
            entry_fp: RegionKind::Stack.base().wrapping_add(stack_top),
            entry_low: stack_top.saturating_sub(frame_size),
        }
    }

    /// Points r10 at the frame of the current depth and makes it the lowest
    /// accessible part of the stack. Both are computed from the depth, not
    /// adjusted, so they cannot drift. (`Vm::set_config` keeps all frames
    /// inside the stack region, so nothing wraps for a real depth; an
    /// absurd value leaves the stack unaddressable rather than panicking.)
    #[inline]
    fn enter_current_frame(&self, r: &mut Regs, mem: &mut Memory) {
        let down = self.frame_size.wrapping_mul(self.depth() as u64);
        r[10] = self.entry_fp.wrapping_sub(down);
        let low = if self.shared {
            0
        } else {
            self.entry_low.wrapping_sub(down)
        };
        mem.set_stack_low(usize::try_from(low).unwrap_or(usize::MAX));
    }

    /// Enters a new frame for a call returning to `return_pc`.
    #[inline]
    fn push(&mut self, return_pc: usize, r: &mut Regs, mem: &mut Memory) -> Result<(), TrapKind> {
        if self.depth() + 1 >= self.max_depth {
            return Err(TrapKind::CallDepthExceeded {
                limit: self.max_depth,
            });
        }
        self.frames
            .push(Frame::new(return_pc, [r[6], r[7], r[8], r[9]]));
        self.enter_current_frame(r, mem);
        Ok(())
    }

    /// Leaves the current frame; returns where to continue, or `None` in
    /// the entry frame.
    #[inline]
    fn pop(&mut self, r: &mut Regs, mem: &mut Memory) -> Option<usize> {
        let f = self.frames.pop()?;
        [r[6], r[7], r[8], r[9]] = f.saved;
        self.enter_current_frame(r, mem);
        Some(f.return_pc)
    }

    /// Frames in use: the running function's callers and the base.
    #[inline]
    fn depth(&self) -> usize {
        self.base_depth + self.frames.len()
    }
}

/// The state [`run_until_stop`] works on.
struct Cpu {
    r: Regs,
    /// Where the inner loop stopped: the call, exit or trapping
    /// instruction, or the next one to run when its fuel ran out.
    pc: usize,
    /// Instructions the inner loop may still run before it stops (at most
    /// INTERRUPT_POLL).
    fuel: u64,
}

/// Why [`run_until_stop`] returned; the instruction is at `Cpu::pc`.
enum Stop {
    /// A helper `call`, a `callx` or a legacy packet load (already counted).
    Call,
    /// The `exit` of a function a helper called: the helper goes on.
    Resume,
    /// `exit` from the entry frame.
    Exit,
    /// `Cpu::fuel` is spent; the instruction at `Cpu::pc` has not run.
    OutOfFuel,
    Trap(TrapKind),
}

impl Vm {
    /// Runs the function whose first slot is `entry` with up to five
    /// arguments in r1..r5, and returns r0 when it exits. A registered
    /// [`crate::exec::Engine`] runs it; otherwise the interpreter does.
    pub fn call(&mut self, entry: usize, args: &[u64]) -> Result<u64, Trap> {
        self.interrupt.store(false, Ordering::Relaxed);
        let result = if self.config.max_call_depth == 0 {
            Err(trap_at(
                TrapKind::CallDepthExceeded { limit: 0 },
                entry,
                &[],
            ))
        } else if self.threads_needed() {
            // Threads run on the interpreter, which the scheduler preempts.
            self.run_threads(entry, args)
        } else if let Some(mut engine) = self.engine.take() {
            let result = engine.call(self, entry, args);
            self.engine.get_or_insert(engine);
            result
        } else {
            self.interpret_call(entry, args)
        };
        // VLAs and alloca() live for one run (docs/abi.md).
        self.mem.truncate(RegionKind::Alloca, 0);
        result
    }

    /// Interprets a whole call, whatever engine is registered (what
    /// [`Vm::call`] does without one, except releasing the alloca region).
    pub fn interpret_call(&mut self, entry: usize, args: &[u64]) -> Result<u64, Trap> {
        let budget = self.config.budget;
        let mut state = ExecState::new(entry, args);
        match self.interpret(&mut state, &mut budget.clone())? {
            Outcome::Returned(r0) | Outcome::Ended(r0) => Ok(r0),
            Outcome::OutOfFuel => Err(state.trap(TrapKind::BudgetExhausted { budget })),
            Outcome::Jump { .. } => unreachable!("a run without base frames applies its jumps"),
        }
    }

    /// Interprets from `state` for at most `fuel` instructions, until the
    /// entry frame (the one without frames in `state`) exits, the run ends
    /// or the fuel runs out first (`state` is then at the next
    /// instruction; see [`Outcome`]). `fuel` is decreased by the
    /// instructions run, and `state` holds the registers, frames, waiting
    /// helpers, tail-call count and `setjmp` records at the exit or pause.
    /// With a `base_depth`, `setjmp`/`longjmp` stop the run
    /// ([`Outcome::Jump`]). The interrupt flag
    /// is polled as in [`Vm::call`].
    pub fn interpret(&mut self, state: &mut ExecState, fuel: &mut u64) -> Result<Outcome, Trap> {
        let mut regs: Regs = [0; REG_FILE];
        regs[..11].copy_from_slice(&state.regs);
        let frames = std::mem::take(&mut state.frames);
        let (slot, shared) = self.threads.stack_slot();
        let mut stack = CallStack::new(&self.config, frames, state.base_depth, slot, shared);
        let mut cpu = Cpu {
            r: regs,
            pc: state.pc,
            fuel: 0,
        };
        let mut waiting = HostState {
            pending: std::mem::take(&mut state.pending),
            tail_calls: state.tail_calls,
            jumps: std::mem::take(&mut state.jumps),
        };
        let result = self.run_loop(&mut stack, &mut cpu, fuel, &mut waiting);
        state.regs.copy_from_slice(&cpu.r[..11]);
        state.pc = cpu.pc;
        state.frames = stack.frames;
        state.pending = waiting.pending;
        state.tail_calls = waiting.tail_calls;
        state.jumps = waiting.jumps;
        result
    }

    fn run_loop(
        &mut self,
        stack: &mut CallStack,
        cpu: &mut Cpu,
        fuel: &mut u64,
        waiting: &mut HostState,
    ) -> Result<Outcome, Trap> {
        let Vm {
            program,
            entries,
            mem,
            helpers,
            runtime_helpers,
            interrupt,
            device,
            jmp_tokens,
            ..
        } = self;
        let mut host = Host::new(
            entries,
            helpers,
            runtime_helpers,
            device,
            waiting,
            jmp_tokens,
        );
        // The fuel is handed to the inner loop in chunks of at most
        // INTERRUPT_POLL instructions; `fuel` is what remains after the
        // current chunk.
        cpu.fuel = (*fuel).min(INTERRUPT_POLL);
        *fuel -= cpu.fuel;
        stack.enter_current_frame(&mut cpu.r, mem);

        // A trap gives back the fuel it did not use: the scheduler resumes
        // a thread after a request (`crate::threads`) and counts the rest.
        macro_rules! trap {
            ($kind:expr) => {{
                *fuel += std::mem::take(&mut cpu.fuel);
                return Err(trap_at($kind, cpu.pc, &stack.frames));
            }};
        }
        macro_rules! op_at_pc {
            () => {
                match program.singles().get(cpu.pc) {
                    Some(&op) => op,
                    None => trap!(TrapKind::PcOutOfRange(cpu.pc as u64)),
                }
            };
        }

        loop {
            // Fused ops may run two instructions: they need fuel for two.
            let stop = if cpu.fuel >= 2 {
                run_until_stop::<1>(program.fused(), mem, stack, cpu)
            } else {
                run_until_stop::<0>(program.singles(), mem, stack, cpu)
            };
            match stop {
                Stop::Trap(kind) => {
                    let op = op_at_pc!();
                    match host.fault(op, mem, cpu, &kind) {
                        Ok(true) => {}
                        Ok(false) => trap!(kind),
                        Err(kind) => trap!(kind),
                    }
                }
                // One instruction's fuel left: run it from the single ops.
                Stop::OutOfFuel if cpu.fuel > 0 => {}
                Stop::OutOfFuel => {
                    if *fuel == 0 {
                        return Ok(Outcome::OutOfFuel);
                    }
                    if interrupt.load(Ordering::Relaxed) {
                        trap!(TrapKind::Interrupted);
                    }
                    cpu.fuel = (*fuel).min(INTERRUPT_POLL);
                    *fuel -= cpu.fuel;
                }
                Stop::Exit => {
                    *fuel += std::mem::take(&mut cpu.fuel);
                    return Ok(Outcome::Returned(cpu.r[0]));
                }
                Stop::Call => {
                    let op = op_at_pc!();
                    match host.call(op, mem, stack, cpu) {
                        Ok(Next::Continue) => {}
                        Ok(Next::Finish(v)) => return Ok(Outcome::Ended(v)),
                        Ok(Next::Jump(helper, jump)) => {
                            *fuel += std::mem::take(&mut cpu.fuel);
                            return Ok(Outcome::Jump { helper, jump });
                        }
                        Err(kind) => trap!(kind),
                    }
                }
                Stop::Resume => match host.resume(mem, stack, cpu) {
                    Ok(Next::Continue) => {}
                    Ok(Next::Finish(v)) => return Ok(Outcome::Ended(v)),
                    Ok(Next::Jump(helper, jump)) => {
                        *fuel += std::mem::take(&mut cpu.fuel);
                        return Ok(Outcome::Jump { helper, jump });
                    }
                    Err(kind) => trap!(kind),
                },
            }
        }
    }
}

/// Runs `ops` from `cpu.pc` until a helper call, a `callx`, the entry
/// frame's `exit`, a trap, or the end of `cpu.fuel`. Local calls and their
/// returns are handled here.
///
/// `RESERVE` is the fuel every op must leave unused when it starts: 1 for
/// fused ops (which may run two instructions), 0 for single ones.
#[inline(never)]
fn run_until_stop<const RESERVE: usize>(
    ops: &[Op],
    mem: &mut Memory,
    stack: &mut CallStack,
    cpu: &mut Cpu,
) -> Stop {
    let len = ops.len();
    let mut pc = cpu.pc;
    // Fuel is kept as `end`, the pc at which it would run out if execution
    // went straight on: each instruction costs one compare, and a control
    // transfer moves `end` by the distance jumped. An op covering two slots
    // runs two instructions. (`end - pc` is the fuel left, at most
    // INTERRUPT_POLL, and targets are below 2^32: `end` cannot overflow.)
    let mut end = pc.saturating_add(cpu.fuel as usize);
    // The code this run may execute: ops that start before the end of the
    // code, and early enough to leave `RESERVE` fuel unused. One bounds
    // check per instruction covers both.
    macro_rules! window {
        () => {
            ops.get(..end.saturating_sub(RESERVE).min(len))
                .unwrap_or(ops)
        };
    }
    let mut window = window!();
    let r = &mut cpu.r;
    // Fetches the op at `pc` (every arm fetches its successor itself, so
    // that each arm ends in its own dispatch).
    macro_rules! fetch {
        () => {
            match window.get(pc) {
                Some(op) => op,
                None => return left_window(cpu, pc, len, end),
            }
        };
    }
    let mut op = fetch!();

    macro_rules! trap {
        ($kind:expr) => {{
            // The fuel left, this instruction included: a device may still
            // complete a faulting access (see `host.rs`).
            cpu.pc = pc;
            cpu.fuel = end.saturating_sub(pc) as u64;
            return Stop::Trap($kind);
        }};
    }
    // Stops after the (single-slot) instruction at `pc` has run.
    macro_rules! stop_after {
        ($why:expr) => {{
            cpu.pc = pc;
            cpu.fuel = (end - pc - 1) as u64;
            return $why;
        }};
    }
    // Continues at `target` after the instruction at `pc`, or, for the
    // second half of a fused op, after the one at `after - 1`.
    macro_rules! transfer {
        ($target:expr) => {
            transfer!($target, after = pc + 1)
        };
        ($target:expr, after = $next:expr) => {{
            let target: usize = $target;
            end = end.wrapping_add(target).wrapping_sub($next);
            window = window!();
            pc = target;
            op = fetch!();
            continue;
        }};
    }
    macro_rules! mem_try {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => trap!(TrapKind::Memory(e)),
            }
        };
    }

    loop {
        macro_rules! d {
            () => {
                op.dst as usize
            };
        }
        macro_rules! s {
            () => {
                op.src as usize
            };
        }
        // `r[dst] = f(r[src], imm | r[src2])`, then on to the next op. The
        // fused `Mov..` kinds (`2;`) first do their move, and cover two
        // slots. (The pc never waits for a load.)
        macro_rules! alu64 {
            (2; $($t:tt)*) => {{
                r[op.aux as u8 as usize] = r[(op.aux >> 8) as u8 as usize];
                alu64!(@op 2; $($t)*)
            }};
            (@op $slots:literal; reg $a:ident, $b:ident => $e:expr) => {{
                let $a = r[s!()];
                let $b = r[op.src2 as usize];
                r[d!()] = $e;
                pc += $slots;
                op = fetch!();
                continue;
            }};
            (@op $slots:literal; $a:ident, $b:ident => $e:expr) => {{
                let $a = r[s!()];
                let $b = op.imm;
                r[d!()] = $e;
                pc += $slots;
                op = fetch!();
                continue;
            }};
            ($($t:tt)*) => { alu64!(@op 1; $($t)*) };
        }
        macro_rules! alu32 {
            (2; $($t:tt)*) => {{
                r[op.aux as u8 as usize] = r[(op.aux >> 8) as u8 as usize] as u32 as u64;
                alu32!(@op 2; $($t)*)
            }};
            (@op $slots:literal; reg $a:ident, $b:ident => $e:expr) => {{
                let $a = r[s!()] as u32;
                let $b = r[op.src2 as usize] as u32;
                r[d!()] = ($e) as u32 as u64;
                pc += $slots;
                op = fetch!();
                continue;
            }};
            (@op $slots:literal; $a:ident, $b:ident => $e:expr) => {{
                let $a = r[s!()] as u32;
                let $b = op.imm as u32;
                r[d!()] = ($e) as u32 as u64;
                pc += $slots;
                op = fetch!();
                continue;
            }};
            ($($t:tt)*) => { alu32!(@op 1; $($t)*) };
        }
        // A taken branch continues at its target; one out of the code (left
        // by `truncate_code`) traps when it is fetched.
        macro_rules! jump_if {
            ($cond:expr) => {
                if $cond {
                    transfer!(op.aux as usize);
                }
            };
        }
        macro_rules! jmp64 {
            ($cmp:tt) => {
                jump_if!(r[d!()] $cmp op.imm)
            };
            (reg $cmp:tt) => {
                jump_if!(r[d!()] $cmp r[s!()])
            };
            (signed $cmp:tt) => {
                jump_if!((r[d!()] as i64) $cmp op.imm as i64)
            };
            (signed reg $cmp:tt) => {
                jump_if!((r[d!()] as i64) $cmp r[s!()] as i64)
            };
        }
        macro_rules! jmp32 {
            ($cmp:tt) => {
                jump_if!((r[d!()] as u32) $cmp op.imm as u32)
            };
            (reg $cmp:tt) => {
                jump_if!((r[d!()] as u32) $cmp r[s!()] as u32)
            };
            (signed $cmp:tt) => {
                jump_if!((r[d!()] as i32) $cmp op.imm as i32)
            };
            (signed reg $cmp:tt) => {
                jump_if!((r[d!()] as i32) $cmp r[s!()] as i32)
            };
        }
        // `r[src2] += imm as i32`, then the jump in the next slot, whose
        // immediate is `(imm >> 32) as i32`.
        macro_rules! add_jmp64 {
            (@go $lhs:ident, $rhs:ident, $cond:expr) => {{
                let counter = op.src2 as usize;
                r[counter] = r[counter].wrapping_add(op.imm as i32 as i64 as u64);
                let $lhs = r[d!()];
                let $rhs = (op.imm >> 32) as i32 as i64 as u64;
                if $cond {
                    transfer!(op.aux as usize, after = pc + 2);
                }
                pc += 2;
                op = fetch!();
                continue;
            }};
            (@reg $lhs:ident, $rhs:ident, $cond:expr) => {{
                let counter = op.src2 as usize;
                r[counter] = r[counter].wrapping_add(op.imm as i32 as i64 as u64);
                let $lhs = r[d!()];
                let $rhs = r[s!()];
                if $cond {
                    transfer!(op.aux as usize, after = pc + 2);
                }
                pc += 2;
                op = fetch!();
                continue;
            }};
            (&) => { add_jmp64!(@go a, b, a & b != 0) };
            (reg &) => { add_jmp64!(@reg a, b, a & b != 0) };
            (signed reg $cmp:tt) => { add_jmp64!(@reg a, b, (a as i64) $cmp (b as i64)) };
            (signed $cmp:tt) => { add_jmp64!(@go a, b, (a as i64) $cmp (b as i64)) };
            (reg $cmp:tt) => { add_jmp64!(@reg a, b, a $cmp b) };
            ($cmp:tt) => { add_jmp64!(@go a, b, a $cmp b) };
        }
        // The `exit` in the second slot of a fused op.
        macro_rules! exit_after_move {
            () => {
                match stack.pop(r, mem) {
                    Some(return_pc) if return_pc & RESUME_BIT != 0 => {
                        pc += 1;
                        stop_after!(Stop::Resume)
                    }
                    Some(return_pc) => transfer!(return_pc, after = pc + 2),
                    None => {
                        pc += 1;
                        stop_after!(Stop::Exit)
                    }
                }
            };
        }
        macro_rules! load {
            ($t:ty) => {
                <$t>::from_le_bytes(mem_try!(mem.read_array(r[s!()].wrapping_add(op.offset()))))
            };
        }
        // A load proven in bounds: only the region's own length is checked.
        macro_rules! load_proven {
            ($t:ty) => {
                <$t>::from_le_bytes(mem_try!(mem.read_proven(r[s!()].wrapping_add(op.offset()))))
            };
        }
        macro_rules! store {
            ($t:ty, $val:expr) => {
                mem_try!(mem.write_array(
                    r[d!()].wrapping_add(op.offset()),
                    ($val as $t).to_le_bytes()
                ))
            };
        }

        match op.kind {
            // ---- ALU64 ----
            Kind::Add64Imm => alu64!(a, b => a.wrapping_add(b)),
            Kind::Add64Reg => alu64!(reg a, b => a.wrapping_add(b)),
            Kind::Sub64Imm => alu64!(a, b => a.wrapping_sub(b)),
            Kind::Sub64Reg => alu64!(reg a, b => a.wrapping_sub(b)),
            Kind::Mul64Imm => alu64!(a, b => a.wrapping_mul(b)),
            Kind::Mul64Reg => alu64!(reg a, b => a.wrapping_mul(b)),
            Kind::Div64Imm => alu64!(a, b => a.checked_div(b).unwrap_or(0)),
            Kind::Div64Reg => alu64!(reg a, b => a.checked_div(b).unwrap_or(0)),
            Kind::SDiv64Imm => alu64!(a, b => sdiv64(a, b)),
            Kind::SDiv64Reg => alu64!(reg a, b => sdiv64(a, b)),
            Kind::Or64Imm => alu64!(a, b => a | b),
            Kind::Or64Reg => alu64!(reg a, b => a | b),
            Kind::And64Imm => alu64!(a, b => a & b),
            Kind::And64Reg => alu64!(reg a, b => a & b),
            Kind::Lsh64Imm => alu64!(a, b => a.wrapping_shl(b as u32)),
            Kind::Lsh64Reg => alu64!(reg a, b => a.wrapping_shl(b as u32)),
            Kind::Rsh64Imm => alu64!(a, b => a.wrapping_shr(b as u32)),
            Kind::Rsh64Reg => alu64!(reg a, b => a.wrapping_shr(b as u32)),
            Kind::Neg64 => alu64!(a, _b => a.wrapping_neg()),
            Kind::Mod64Imm => alu64!(a, b => a.checked_rem(b).unwrap_or(a)),
            Kind::Mod64Reg => alu64!(reg a, b => a.checked_rem(b).unwrap_or(a)),
            Kind::SMod64Imm => alu64!(a, b => smod64(a, b)),
            Kind::SMod64Reg => alu64!(reg a, b => smod64(a, b)),
            Kind::Xor64Imm => alu64!(a, b => a ^ b),
            Kind::Xor64Reg => alu64!(reg a, b => a ^ b),
            Kind::Mov64Imm => alu64!(_a, b => b),
            Kind::Mov64Reg => alu64!(a, _b => a),
            Kind::Movsx64From8 => alu64!(a, _b => a as i8 as i64 as u64),
            Kind::Movsx64From16 => alu64!(a, _b => a as i16 as i64 as u64),
            Kind::Movsx64From32 => alu64!(a, _b => a as i32 as i64 as u64),
            Kind::Arsh64Imm => alu64!(a, b => (a as i64).wrapping_shr(b as u32) as u64),
            Kind::Arsh64Reg => alu64!(reg a, b => (a as i64).wrapping_shr(b as u32) as u64),
            Kind::Swap16 => alu64!(a, _b => (a as u16).swap_bytes() as u64),
            Kind::Swap32 => alu64!(a, _b => (a as u32).swap_bytes() as u64),
            Kind::Swap64 => alu64!(a, _b => a.swap_bytes()),
            Kind::Zext16 => alu64!(a, _b => a as u16 as u64),
            Kind::Zext32 => alu64!(a, _b => a as u32 as u64),

            // ---- ALU32: results are zero-extended ----
            Kind::Add32Imm => alu32!(a, b => a.wrapping_add(b)),
            Kind::Add32Reg => alu32!(reg a, b => a.wrapping_add(b)),
            Kind::Sub32Imm => alu32!(a, b => a.wrapping_sub(b)),
            Kind::Sub32Reg => alu32!(reg a, b => a.wrapping_sub(b)),
            Kind::Mul32Imm => alu32!(a, b => a.wrapping_mul(b)),
            Kind::Mul32Reg => alu32!(reg a, b => a.wrapping_mul(b)),
            Kind::Div32Imm => alu32!(a, b => a.checked_div(b).unwrap_or(0)),
            Kind::Div32Reg => alu32!(reg a, b => a.checked_div(b).unwrap_or(0)),
            Kind::SDiv32Imm => alu32!(a, b => sdiv32(a, b)),
            Kind::SDiv32Reg => alu32!(reg a, b => sdiv32(a, b)),
            Kind::Or32Imm => alu32!(a, b => a | b),
            Kind::Or32Reg => alu32!(reg a, b => a | b),
            Kind::And32Imm => alu32!(a, b => a & b),
            Kind::And32Reg => alu32!(reg a, b => a & b),
            Kind::Lsh32Imm => alu32!(a, b => a.wrapping_shl(b)),
            Kind::Lsh32Reg => alu32!(reg a, b => a.wrapping_shl(b)),
            Kind::Rsh32Imm => alu32!(a, b => a.wrapping_shr(b)),
            Kind::Rsh32Reg => alu32!(reg a, b => a.wrapping_shr(b)),
            Kind::Neg32 => alu32!(a, _b => a.wrapping_neg()),
            Kind::Mod32Imm => alu32!(a, b => a.checked_rem(b).unwrap_or(a)),
            Kind::Mod32Reg => alu32!(reg a, b => a.checked_rem(b).unwrap_or(a)),
            Kind::SMod32Imm => alu32!(a, b => smod32(a, b)),
            Kind::SMod32Reg => alu32!(reg a, b => smod32(a, b)),
            Kind::Xor32Imm => alu32!(a, b => a ^ b),
            Kind::Xor32Reg => alu32!(reg a, b => a ^ b),
            Kind::Mov32Imm => alu32!(_a, b => b),
            Kind::Mov32Reg => alu32!(a, _b => a),
            Kind::Movsx32From8 => alu32!(a, _b => a as i8 as i32),
            Kind::Movsx32From16 => alu32!(a, _b => a as i16 as i32),
            Kind::Arsh32Imm => alu32!(a, b => (a as i32).wrapping_shr(b)),
            Kind::Arsh32Reg => alu32!(reg a, b => (a as i32).wrapping_shr(b)),
            Kind::Nop => {}

            // ---- a move fused with the ALU op after it ----
            Kind::MovAdd64Imm => alu64!(2; a, b => a.wrapping_add(b)),
            Kind::MovAdd64Reg => alu64!(2; reg a, b => a.wrapping_add(b)),
            Kind::MovSub64Imm => alu64!(2; a, b => a.wrapping_sub(b)),
            Kind::MovSub64Reg => alu64!(2; reg a, b => a.wrapping_sub(b)),
            Kind::MovMul64Imm => alu64!(2; a, b => a.wrapping_mul(b)),
            Kind::MovMul64Reg => alu64!(2; reg a, b => a.wrapping_mul(b)),
            Kind::MovDiv64Imm => alu64!(2; a, b => a.checked_div(b).unwrap_or(0)),
            Kind::MovDiv64Reg => alu64!(2; reg a, b => a.checked_div(b).unwrap_or(0)),
            Kind::MovSDiv64Imm => alu64!(2; a, b => sdiv64(a, b)),
            Kind::MovSDiv64Reg => alu64!(2; reg a, b => sdiv64(a, b)),
            Kind::MovOr64Imm => alu64!(2; a, b => a | b),
            Kind::MovOr64Reg => alu64!(2; reg a, b => a | b),
            Kind::MovAnd64Imm => alu64!(2; a, b => a & b),
            Kind::MovAnd64Reg => alu64!(2; reg a, b => a & b),
            Kind::MovLsh64Imm => alu64!(2; a, b => a.wrapping_shl(b as u32)),
            Kind::MovLsh64Reg => alu64!(2; reg a, b => a.wrapping_shl(b as u32)),
            Kind::MovRsh64Imm => alu64!(2; a, b => a.wrapping_shr(b as u32)),
            Kind::MovRsh64Reg => alu64!(2; reg a, b => a.wrapping_shr(b as u32)),
            Kind::MovMod64Imm => alu64!(2; a, b => a.checked_rem(b).unwrap_or(a)),
            Kind::MovMod64Reg => alu64!(2; reg a, b => a.checked_rem(b).unwrap_or(a)),
            Kind::MovSMod64Imm => alu64!(2; a, b => smod64(a, b)),
            Kind::MovSMod64Reg => alu64!(2; reg a, b => smod64(a, b)),
            Kind::MovXor64Imm => alu64!(2; a, b => a ^ b),
            Kind::MovXor64Reg => alu64!(2; reg a, b => a ^ b),
            Kind::MovArsh64Imm => alu64!(2; a, b => (a as i64).wrapping_shr(b as u32) as u64),
            Kind::MovArsh64Reg => alu64!(2; reg a, b => (a as i64).wrapping_shr(b as u32) as u64),
            Kind::MovAdd32Imm => alu32!(2; a, b => a.wrapping_add(b)),
            Kind::MovAdd32Reg => alu32!(2; reg a, b => a.wrapping_add(b)),
            Kind::MovSub32Imm => alu32!(2; a, b => a.wrapping_sub(b)),
            Kind::MovSub32Reg => alu32!(2; reg a, b => a.wrapping_sub(b)),
            Kind::MovMul32Imm => alu32!(2; a, b => a.wrapping_mul(b)),
            Kind::MovMul32Reg => alu32!(2; reg a, b => a.wrapping_mul(b)),
            Kind::MovOr32Imm => alu32!(2; a, b => a | b),
            Kind::MovOr32Reg => alu32!(2; reg a, b => a | b),
            Kind::MovAnd32Imm => alu32!(2; a, b => a & b),
            Kind::MovAnd32Reg => alu32!(2; reg a, b => a & b),
            Kind::MovLsh32Imm => alu32!(2; a, b => a.wrapping_shl(b)),
            Kind::MovLsh32Reg => alu32!(2; reg a, b => a.wrapping_shl(b)),
            Kind::MovRsh32Imm => alu32!(2; a, b => a.wrapping_shr(b)),
            Kind::MovRsh32Reg => alu32!(2; reg a, b => a.wrapping_shr(b)),
            Kind::MovXor32Imm => alu32!(2; a, b => a ^ b),
            Kind::MovXor32Reg => alu32!(2; reg a, b => a ^ b),
            Kind::MovArsh32Imm => alu32!(2; a, b => (a as i32).wrapping_shr(b)),
            Kind::MovArsh32Reg => alu32!(2; reg a, b => (a as i32).wrapping_shr(b)),
            Kind::MovMov64Imm => alu64!(2; _a, b => b),
            Kind::MovMov64Reg => alu64!(2; a, _b => a),
            Kind::MovMov32Imm => alu32!(2; _a, b => b),
            Kind::MovMov32Reg => alu32!(2; a, _b => a),

            // ---- jumps ----
            Kind::Ja => jump_if!(true),
            Kind::Jeq64Imm => jmp64!(==),
            Kind::Jeq64Reg => jmp64!(reg ==),
            Kind::Jgt64Imm => jmp64!(>),
            Kind::Jgt64Reg => jmp64!(reg >),
            Kind::Jge64Imm => jmp64!(>=),
            Kind::Jge64Reg => jmp64!(reg >=),
            Kind::Jset64Imm => jump_if!(r[d!()] & op.imm != 0),
            Kind::Jset64Reg => jump_if!(r[d!()] & r[s!()] != 0),
            Kind::Jne64Imm => jmp64!(!=),
            Kind::Jne64Reg => jmp64!(reg !=),
            Kind::Jsgt64Imm => jmp64!(signed >),
            Kind::Jsgt64Reg => jmp64!(signed reg >),
            Kind::Jsge64Imm => jmp64!(signed >=),
            Kind::Jsge64Reg => jmp64!(signed reg >=),
            Kind::Jlt64Imm => jmp64!(<),
            Kind::Jlt64Reg => jmp64!(reg <),
            Kind::Jle64Imm => jmp64!(<=),
            Kind::Jle64Reg => jmp64!(reg <=),
            Kind::Jslt64Imm => jmp64!(signed <),
            Kind::Jslt64Reg => jmp64!(signed reg <),
            Kind::Jsle64Imm => jmp64!(signed <=),
            Kind::Jsle64Reg => jmp64!(signed reg <=),
            Kind::Jeq32Imm => jmp32!(==),
            Kind::Jeq32Reg => jmp32!(reg ==),
            Kind::Jgt32Imm => jmp32!(>),
            Kind::Jgt32Reg => jmp32!(reg >),
            Kind::Jge32Imm => jmp32!(>=),
            Kind::Jge32Reg => jmp32!(reg >=),
            Kind::Jset32Imm => jump_if!(r[d!()] as u32 & op.imm as u32 != 0),
            Kind::Jset32Reg => jump_if!(r[d!()] as u32 & r[s!()] as u32 != 0),
            Kind::Jne32Imm => jmp32!(!=),
            Kind::Jne32Reg => jmp32!(reg !=),
            Kind::Jsgt32Imm => jmp32!(signed >),
            Kind::Jsgt32Reg => jmp32!(signed reg >),
            Kind::Jsge32Imm => jmp32!(signed >=),
            Kind::Jsge32Reg => jmp32!(signed reg >=),
            Kind::Jlt32Imm => jmp32!(<),
            Kind::Jlt32Reg => jmp32!(reg <),
            Kind::Jle32Imm => jmp32!(<=),
            Kind::Jle32Reg => jmp32!(reg <=),
            Kind::Jslt32Imm => jmp32!(signed <),
            Kind::Jslt32Reg => jmp32!(signed reg <),
            Kind::Jsle32Imm => jmp32!(signed <=),
            Kind::Jsle32Reg => jmp32!(signed reg <=),

            // ---- `r += imm` then a 64-bit conditional jump ----
            Kind::AddJeqImm => add_jmp64!(==),
            Kind::AddJeqReg => add_jmp64!(reg ==),
            Kind::AddJgtImm => add_jmp64!(>),
            Kind::AddJgtReg => add_jmp64!(reg >),
            Kind::AddJgeImm => add_jmp64!(>=),
            Kind::AddJgeReg => add_jmp64!(reg >=),
            Kind::AddJsetImm => add_jmp64!(&),
            Kind::AddJsetReg => add_jmp64!(reg &),
            Kind::AddJneImm => add_jmp64!(!=),
            Kind::AddJneReg => add_jmp64!(reg !=),
            Kind::AddJsgtImm => add_jmp64!(signed >),
            Kind::AddJsgtReg => add_jmp64!(signed reg >),
            Kind::AddJsgeImm => add_jmp64!(signed >=),
            Kind::AddJsgeReg => add_jmp64!(signed reg >=),
            Kind::AddJltImm => add_jmp64!(<),
            Kind::AddJltReg => add_jmp64!(reg <),
            Kind::AddJleImm => add_jmp64!(<=),
            Kind::AddJleReg => add_jmp64!(reg <=),
            Kind::AddJsltImm => add_jmp64!(signed <),
            Kind::AddJsltReg => add_jmp64!(signed reg <),
            Kind::AddJsleImm => add_jmp64!(signed <=),
            Kind::AddJsleReg => add_jmp64!(signed reg <=),

            // ---- calls and exit (helpers and callx: in `run_loop`) ----
            Kind::CallLocal => {
                if let Err(kind) = stack.push(pc + 1, r, mem) {
                    trap!(kind);
                }
                transfer!(op.aux as usize);
            }
            Kind::CallHelper | Kind::CallRuntime | Kind::Callx | Kind::LdAbs | Kind::LdInd => {
                stop_after!(Stop::Call)
            }
            Kind::Exit => match stack.pop(r, mem) {
                Some(return_pc) if return_pc & RESUME_BIT != 0 => stop_after!(Stop::Resume),
                Some(return_pc) => transfer!(return_pc),
                None => stop_after!(Stop::Exit),
            },
            Kind::MovExit => {
                r[d!()] = r[s!()];
                exit_after_move!()
            }
            Kind::MovImmExit => {
                r[d!()] = op.imm;
                exit_after_move!()
            }

            // ---- loads and stores ----
            Kind::LdImm64 => {
                r[d!()] = op.imm;
                // Two slots, one instruction.
                transfer!(pc + 2);
            }
            // Only `truncate_code` can separate the two slots.
            Kind::LdImm64Truncated => trap!(TrapKind::PcOutOfRange(pc as u64 + 1)),
            Kind::Ldx8 => r[d!()] = load!(u8) as u64,
            Kind::Ldx16 => r[d!()] = load!(u16) as u64,
            Kind::Ldx32 => r[d!()] = load!(u32) as u64,
            Kind::Ldx64 => r[d!()] = load!(u64),
            Kind::Ldxs8 => r[d!()] = load!(i8) as i64 as u64,
            Kind::Ldxs16 => r[d!()] = load!(i16) as i64 as u64,
            Kind::Ldxs32 => r[d!()] = load!(i32) as i64 as u64,
            Kind::LdxP8 => r[d!()] = load_proven!(u8) as u64,
            Kind::LdxP16 => r[d!()] = load_proven!(u16) as u64,
            Kind::LdxP32 => r[d!()] = load_proven!(u32) as u64,
            Kind::LdxP64 => r[d!()] = load_proven!(u64),
            Kind::LdxsP8 => r[d!()] = load_proven!(i8) as i64 as u64,
            Kind::LdxsP16 => r[d!()] = load_proven!(i16) as i64 as u64,
            Kind::LdxsP32 => r[d!()] = load_proven!(i32) as i64 as u64,
            Kind::St8 => store!(u8, op.imm),
            Kind::St16 => store!(u16, op.imm),
            Kind::St32 => store!(u32, op.imm),
            Kind::St64 => store!(u64, op.imm),
            Kind::Stx8 => store!(u8, r[s!()]),
            Kind::Stx16 => store!(u16, r[s!()]),
            Kind::Stx32 => store!(u32, r[s!()]),
            Kind::Stx64 => store!(u64, r[s!()]),
            Kind::Atomic32 => mem_try!(atomic_rmw::<4>(op, r, mem)),
            Kind::Atomic64 => mem_try!(atomic_rmw::<8>(op, r, mem)),
            // Validation makes this unreachable; stay safe if it is not.
            Kind::Invalid => trap!(TrapKind::PcOutOfRange(pc as u64)),
        }
        pc += 1;
        op = fetch!();
    }
}

/// Stops a run at `pc`, outside the window of runnable code: past the
/// code's end (a trap) or at the end of the fuel (`fuel_end - pc` is what
/// is left: less than the op at `pc` may need).
#[cold]
#[inline(never)]
fn left_window(cpu: &mut Cpu, pc: usize, len: usize, fuel_end: usize) -> Stop {
    cpu.pc = pc;
    cpu.fuel = fuel_end.saturating_sub(pc) as u64;
    if pc >= len {
        Stop::Trap(TrapKind::PcOutOfRange(pc as u64))
    } else {
        Stop::OutOfFuel
    }
}

/// Signed 64-bit division; x / 0 = 0 and MIN / -1 wraps to MIN.
#[inline]
fn sdiv64(a: u64, b: u64) -> u64 {
    if b == 0 {
        0
    } else {
        (a as i64).wrapping_div(b as i64) as u64
    }
}

/// Signed 64-bit remainder; x % 0 = x.
#[inline]
fn smod64(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        (a as i64).wrapping_rem(b as i64) as u64
    }
}

#[inline]
fn sdiv32(a: u32, b: u32) -> i32 {
    if b == 0 {
        0
    } else {
        (a as i32).wrapping_div(b as i32)
    }
}

#[inline]
fn smod32(a: u32, b: u32) -> i32 {
    if b == 0 {
        a as i32
    } else {
        (a as i32).wrapping_rem(b as i32)
    }
}

/// Runs an atomic read-modify-write of `SIZE` (4 or 8) bytes. Out of the
/// interpreter loop: atomics are rare and their operands many.
#[inline(never)]
pub(crate) fn atomic_rmw<const SIZE: usize>(
    op: &Op,
    r: &mut [u64],
    mem: &mut Memory,
) -> Result<(), MemError> {
    let addr = r[op.dst as usize].wrapping_add(op.offset());
    // Atomics read and write: both permissions are checked up front (the
    // write by storing the bytes just read).
    let bytes: [u8; SIZE] = mem.read_array(addr)?;
    mem.write_array(addr, bytes)?;
    let mut wide = [0u8; 8];
    wide[..SIZE].copy_from_slice(&bytes);
    let old = u64::from_le_bytes(wide);
    let mask = if SIZE == 4 { u32::MAX as u64 } else { u64::MAX };
    let src = r[op.src as usize] & mask;
    let operation = op.imm as i32;
    let new = match operation & !ATOMIC_FETCH {
        ATOMIC_ADD => Some(old.wrapping_add(src) & mask),
        ATOMIC_OR => Some(old | src),
        ATOMIC_AND => Some(old & src),
        ATOMIC_XOR => Some(old ^ src),
        0xe0 => Some(src),
        // cmpxchg: compare with r0 (low 32 bits for the W form).
        _ => (old == r[0] & mask).then_some(src),
    };
    if let Some(new) = new {
        if let Some(b) = new.to_le_bytes().first_chunk::<SIZE>() {
            mem.write_array(addr, *b)?;
        }
    }
    match operation {
        ATOMIC_CMPXCHG => r[0] = old,
        o if o & ATOMIC_FETCH != 0 => r[op.src as usize] = old,
        _ => {}
    }
    Ok(())
}

impl From<MemError> for TrapKind {
    fn from(e: MemError) -> Self {
        TrapKind::Memory(e)
    }
}
