//! What the interpreter's inner loop hands back to the host side: helper
//! calls (plain, calling back into BPF, tail calls, `setjmp`/`longjmp`),
//! `callx`, returns into
//! a helper that called back, legacy packet loads, and faulting accesses
//! the [`crate::Device`] may answer. None of this is on the hot path. What
//! each of them means is decided in `crate::host`, shared with every
//! engine; this module applies it to the interpreter's registers and frames.

use super::decode::{Kind, Op};
use super::{CallStack, Cpu};
use crate::exec::{HostState, RESUME_BIT};
use crate::host::{self as shared, Device, HelperAction, HelperId};
use crate::jump::Jump;
use crate::memory::Memory;
use crate::trap::TrapKind;
use crate::vm::Helper;

/// What the run loop does after the host side handled a stop.
pub(super) enum Next {
    /// Go on at `cpu.pc`.
    Continue,
    /// The run is over with this result (LD_ABS past the packet).
    Finish(u64),
    /// A jump that needs frames another engine holds: the run stops at the
    /// helper's `call` ([`crate::exec::Outcome::Jump`]).
    Jump(HelperId, Jump),
}

/// The host side of one run.
pub(super) struct Host<'a> {
    entries: &'a [bool],
    helpers: &'a mut [Option<Helper>],
    runtime_helpers: &'a mut [Option<Helper>],
    device: &'a mut Option<Box<dyn Device>>,
    /// Helpers waiting for the functions they called, and the tail calls
    /// made, and the `setjmp` records (carried in [`crate::ExecState`]
    /// between engines).
    waiting: &'a mut HostState,
    /// The VM's `setjmp` token counter.
    jmp_tokens: &'a mut u64,
}

impl<'a> Host<'a> {
    pub fn new(
        entries: &'a [bool],
        helpers: &'a mut [Option<Helper>],
        runtime_helpers: &'a mut [Option<Helper>],
        device: &'a mut Option<Box<dyn Device>>,
        waiting: &'a mut HostState,
        jmp_tokens: &'a mut u64,
    ) -> Host<'a> {
        Host {
            entries,
            helpers,
            runtime_helpers,
            device,
            waiting,
            jmp_tokens,
        }
    }

    /// Runs the call-like instruction `op` at `cpu.pc` (the inner loop
    /// already counted it): `callx`, a helper call or a legacy packet load.
    pub fn call(
        &mut self,
        op: Op,
        mem: &mut Memory,
        stack: &mut CallStack,
        cpu: &mut Cpu,
    ) -> Result<Next, TrapKind> {
        let next = cpu.pc + 1;
        let r = &mut cpu.r;
        match op.kind {
            Kind::Callx => {
                let target = shared::entry_at(self.entries, r[op.dst as usize])?;
                stack.push(next, r, mem)?;
                cpu.pc = target;
                Ok(Next::Continue)
            }
            Kind::LdAbs | Kind::LdInd => {
                match shared::packet_load(self.device, mem, &op, r[op.src as usize])? {
                    Some(v) => {
                        r[0] = v;
                        cpu.pc = next;
                        Ok(Next::Continue)
                    }
                    None => Ok(Next::Finish(0)),
                }
            }
            _ => {
                if mem.memcheck() {
                    let callers = stack.frames.iter().rev().map(|f| f.call_site());
                    mem.set_helper_stack(cpu.pc, callers);
                }
                let args = [r[1], r[2], r[3], r[4], r[5]];
                let (id, step) =
                    shared::start_helper(self.helpers, self.runtime_helpers, mem, &op, args)?;
                let tail_calls = &mut self.waiting.tail_calls;
                let action = shared::plan_step(self.entries, id, step, next, tail_calls)?;
                self.apply(action, mem, stack, cpu)
            }
        }
    }

    /// A BPF function a helper called returned (its frame is popped): the
    /// helper goes on with its result. What goes wrong from here on is
    /// reported at the helper's `call`.
    pub fn resume(
        &mut self,
        mem: &mut Memory,
        stack: &mut CallStack,
        cpu: &mut Cpu,
    ) -> Result<Next, TrapKind> {
        let p = self
            .waiting
            .pending
            .pop()
            .ok_or(TrapKind::PcOutOfRange(cpu.pc as u64))?;
        cpu.pc = p.return_pc - 1;
        let step = shared::resume_helper(self.helpers, self.runtime_helpers, mem, &p, cpu.r[0])?;
        let tail_calls = &mut self.waiting.tail_calls;
        let action = shared::plan_step(self.entries, p.helper, step, p.return_pc, tail_calls)?;
        self.apply(action, mem, stack, cpu)
    }

    /// Carries out what a helper asked for (`cpu.pc` is at its `call`).
    fn apply(
        &mut self,
        action: HelperAction,
        mem: &mut Memory,
        stack: &mut CallStack,
        cpu: &mut Cpu,
    ) -> Result<Next, TrapKind> {
        let r = &mut cpu.r;
        match action {
            HelperAction::Return { value, next } => {
                r[0] = value;
                cpu.pc = next;
            }
            HelperAction::Call {
                target,
                args,
                pending,
            } => {
                stack.push(RESUME_BIT | pending.return_pc, r, mem)?;
                r[1..6].copy_from_slice(&args);
                self.waiting.pending.push(pending);
                cpu.pc = target;
            }
            HelperAction::TailCall { target, ctx } => {
                r[1] = ctx;
                cpu.pc = target;
            }
            HelperAction::Jump { helper, jump } if stack.base_depth > 0 => {
                return Ok(Next::Jump(helper, jump));
            }
            HelperAction::Jump { helper, jump } => {
                let waiting = &mut *self.waiting;
                let landed = waiting.jumps.apply(
                    jump,
                    self.jmp_tokens,
                    mem,
                    &mut stack.frames,
                    &mut waiting.pending,
                    r,
                );
                cpu.pc = landed.map_err(|e| {
                    shared::helper_error(self.helpers, self.runtime_helpers, helper, e)
                })?;
                stack.enter_current_frame(r, mem);
            }
        }
        Ok(Next::Continue)
    }

    /// A load or store at `cpu.pc` faulted with `fault`: the device may
    /// answer it. `Ok(true)` when it did (the instruction is done).
    pub fn fault(
        &mut self,
        op: Op,
        mem: &mut Memory,
        cpu: &mut Cpu,
        fault: &TrapKind,
    ) -> Result<bool, TrapKind> {
        let (Some((size, signed, load)), TrapKind::Memory(_)) =
            (shared::device_access(op.kind), fault)
        else {
            return Ok(false);
        };
        let r = &mut cpu.r;
        if load {
            let addr = r[op.src as usize].wrapping_add(op.offset());
            let Some(v) = shared::device_load(self.device, mem, addr, size) else {
                return Ok(false);
            };
            let v = v?;
            let shift = 64 - 8 * size as u32;
            r[op.dst as usize] = if signed {
                ((v << shift) as i64 >> shift) as u64
            } else {
                v
            };
        } else {
            let addr = r[op.dst as usize].wrapping_add(op.offset());
            let value = if matches!(op.kind, Kind::St8 | Kind::St16 | Kind::St32 | Kind::St64) {
                op.imm
            } else {
                r[op.src as usize]
            };
            let Some(done) = shared::device_store(self.device, mem, addr, size, value) else {
                return Ok(false);
            };
            done?;
        }
        cpu.pc += 1;
        cpu.fuel = cpu.fuel.saturating_sub(1);
        Ok(true)
    }
}
