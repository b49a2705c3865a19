//! What the interpreter's inner loop hands back to the host side: helper
//! calls (plain, calling back into BPF, tail calls), `callx`, returns into
//! a helper that called back, legacy packet loads, and faulting accesses
//! the [`Device`] may answer. None of this is on the hot path.

use super::decode::{Kind, Op};
use super::{code_index, CallStack, Cpu, RESUME_BIT};
use crate::host::{Device, HelperEvent, HelperStep, MAX_TAIL_CALLS};
use crate::memory::Memory;
use crate::trap::{HelperError, TrapKind};
use crate::vm::{Helper, HelperImpl};

/// A helper waiting for the BPF function it called to return.
struct Pending {
    helper: u32,
    state: [u64; 4],
    /// Where execution goes on once the helper returns.
    return_pc: usize,
}

/// What the run loop does after the host side handled a stop.
pub(super) enum Next {
    /// Go on at `cpu.pc`.
    Continue,
    /// The run is over with this result (LD_ABS past the packet).
    Finish(u64),
}

/// The host side of one run.
pub(super) struct Host<'a> {
    pub entries: &'a [bool],
    pub helpers: &'a mut [Option<Helper>],
    pub runtime_helpers: &'a mut [Option<Helper>],
    pub device: &'a mut Option<Box<dyn Device>>,
    pending: Vec<Pending>,
    tail_calls: u32,
}

impl<'a> Host<'a> {
    pub fn new(
        entries: &'a [bool],
        helpers: &'a mut [Option<Helper>],
        runtime_helpers: &'a mut [Option<Helper>],
        device: &'a mut Option<Box<dyn Device>>,
    ) -> Host<'a> {
        Host {
            entries,
            helpers,
            runtime_helpers,
            device,
            pending: Vec::new(),
            tail_calls: 0,
        }
    }

    /// The code index of a function entry at `addr`, or the trap for it.
    fn entry(&self, addr: u64) -> Result<usize, TrapKind> {
        match code_index(addr, self.entries.len()) {
            Some(i) if self.entries[i] => Ok(i),
            _ => Err(TrapKind::BadCallTarget(addr)),
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
                let target = self.entry(r[op.dst as usize])?;
                stack.push(next, r, mem)?;
                cpu.pc = target;
                return Ok(Next::Continue);
            }
            Kind::LdAbs | Kind::LdInd => {
                let mut offset = op.imm as i32 as i64;
                if op.kind == Kind::LdInd {
                    offset = (r[op.src as usize] as i32 as i64).wrapping_add(offset);
                }
                let Some(device) = self.device.as_mut() else {
                    return Err(TrapKind::Helper {
                        helper: "LD_ABS/LD_IND".to_string(),
                        error: HelperError::Fault(
                            "legacy packet load (LD_ABS/LD_IND) without a packet: run the \
                             program as a socket filter or tc program"
                                .to_string(),
                        ),
                    });
                };
                let size = op.src2 as usize;
                return match device.packet_load(mem, offset, size) {
                    Ok(Some(v)) => {
                        r[0] = v;
                        cpu.pc = next;
                        Ok(Next::Continue)
                    }
                    Ok(None) => Ok(Next::Finish(0)),
                    Err(error) => Err(TrapKind::Helper {
                        helper: "LD_ABS/LD_IND".to_string(),
                        error,
                    }),
                };
            }
            _ => {}
        }
        let id = op.imm as i32;
        let (table, unknown) = if op.kind == Kind::CallRuntime {
            (
                &mut *self.runtime_helpers,
                TrapKind::UnknownRuntimeHelper(id),
            )
        } else {
            (&mut *self.helpers, TrapKind::UnknownHelper(id))
        };
        let Some(helper) = table.get_mut(id as u32 as usize).and_then(|h| h.as_mut()) else {
            return Err(unknown);
        };
        let args = [r[1], r[2], r[3], r[4], r[5]];
        let step = match &mut helper.func {
            HelperImpl::Plain(f) => f(mem, args).map(HelperStep::Return),
            HelperImpl::Callback(f) => f(mem, HelperEvent::Start(args)),
        };
        let step = step.map_err(|error| TrapKind::Helper {
            helper: helper.name.clone(),
            error,
        })?;
        self.step(id as u32, step, next, mem, stack, cpu)?;
        Ok(Next::Continue)
    }

    /// A BPF function a helper called returned (its frame is popped): the
    /// helper goes on with its result.
    pub fn resume(
        &mut self,
        mem: &mut Memory,
        stack: &mut CallStack,
        cpu: &mut Cpu,
    ) -> Result<(), TrapKind> {
        let p = self
            .pending
            .pop()
            .ok_or(TrapKind::PcOutOfRange(cpu.pc as u64))?;
        let helper = self
            .helpers
            .get_mut(p.helper as usize)
            .and_then(|h| h.as_mut())
            .ok_or(TrapKind::UnknownHelper(p.helper as i32))?;
        let HelperImpl::Callback(f) = &mut helper.func else {
            return Err(TrapKind::UnknownHelper(p.helper as i32));
        };
        let event = HelperEvent::Resume {
            state: p.state,
            ret: cpu.r[0],
        };
        let step = f(mem, event).map_err(|error| TrapKind::Helper {
            helper: helper.name.clone(),
            error,
        })?;
        self.step(p.helper, step, p.return_pc, mem, stack, cpu)
    }

    /// Carries out what a helper asked for; `next` is where execution goes
    /// on when the helper is done.
    fn step(
        &mut self,
        helper: u32,
        step: HelperStep,
        next: usize,
        mem: &mut Memory,
        stack: &mut CallStack,
        cpu: &mut Cpu,
    ) -> Result<(), TrapKind> {
        let r = &mut cpu.r;
        match step {
            HelperStep::Return(v) => {
                r[0] = v;
                cpu.pc = next;
            }
            HelperStep::Call { func, args, state } => {
                let target = self.entry(func)?;
                stack.push(RESUME_BIT | next, r, mem)?;
                r[1..6].copy_from_slice(&args);
                self.pending.push(Pending {
                    helper,
                    state,
                    return_pc: next,
                });
                cpu.pc = target;
            }
            HelperStep::TailCall {
                func,
                ctx,
                on_failure,
            } => {
                let target = self.entry(func)?;
                if self.tail_calls >= MAX_TAIL_CALLS {
                    r[0] = on_failure;
                    cpu.pc = next;
                } else {
                    self.tail_calls += 1;
                    r[1] = ctx;
                    cpu.pc = target;
                }
            }
        }
        Ok(())
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
        let (Some(device), TrapKind::Memory(_)) = (self.device.as_mut(), fault) else {
            return Ok(false);
        };
        let r = &mut cpu.r;
        let (size, signed) = match op.kind {
            Kind::Ldx8 | Kind::St8 | Kind::Stx8 => (1, false),
            Kind::Ldx16 | Kind::St16 | Kind::Stx16 => (2, false),
            Kind::Ldx32 | Kind::St32 | Kind::Stx32 => (4, false),
            Kind::Ldx64 | Kind::St64 | Kind::Stx64 => (8, false),
            Kind::Ldxs8 => (1, true),
            Kind::Ldxs16 => (2, true),
            Kind::Ldxs32 => (4, true),
            _ => return Ok(false),
        };
        let device_error = |error| TrapKind::Helper {
            helper: "program context".to_string(),
            error,
        };
        let is_load = matches!(
            op.kind,
            Kind::Ldx8
                | Kind::Ldx16
                | Kind::Ldx32
                | Kind::Ldx64
                | Kind::Ldxs8
                | Kind::Ldxs16
                | Kind::Ldxs32
        );
        if is_load {
            let addr = r[op.src as usize].wrapping_add(op.offset());
            let Some(v) = device.load(mem, addr, size) else {
                return Ok(false);
            };
            let v = v.map_err(device_error)?;
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
            let Some(done) = device.store(mem, addr, size, value) else {
                return Ok(false);
            };
            done.map_err(device_error)?;
        }
        cpu.pc += 1;
        cpu.fuel = cpu.fuel.saturating_sub(1);
        Ok(true)
    }
}
