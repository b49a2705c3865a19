//! What the interpreter's inner loop hands back to the host side: helper
//! calls (plain, calling back into BPF, tail calls, `setjmp`/`longjmp`),
//! `callx`, returns into a helper that called back, legacy packet loads,
//! and faulting accesses the [`Device`] may answer. None of this is on the
//! hot path.

use super::decode::{Kind, Op};
use super::{code_index, CallStack, Cpu, RESUME_BIT};
use crate::host::{Device, HelperEvent, HelperStep, MAX_TAIL_CALLS};
use crate::memory::Memory;
use crate::trap::{HelperError, TrapKind};
use crate::vm::{Helper, HelperImpl};

/// A helper by table and index.
#[derive(Clone, Copy)]
struct HelperRef {
    id: u32,
    /// In the runtime table (`call` with `src = 2`), else the kernel's.
    runtime: bool,
}

/// A helper waiting for the BPF function it called to return.
struct Pending {
    helper: HelperRef,
    state: [u64; 4],
    /// Where execution goes on once the helper returns.
    return_pc: usize,
}

/// What `setjmp` saved: an activation and where to go on in it.
struct JmpRecord {
    token: u64,
    /// Frames below the activation (0: the entry function).
    depth: usize,
    /// The activation's serial (see `CallStack::serial_at`).
    serial: u64,
    /// The instruction after the `setjmp` call.
    resume_pc: usize,
    /// r6–r9 at the call.
    saved: [u64; 4],
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
    /// `setjmp` records of live activations (pruned at each `setjmp`).
    jmp_records: Vec<JmpRecord>,
    /// The VM's token counter ([`crate::Vm`]'s `jmp_tokens`).
    jmp_tokens: &'a mut u64,
}

impl<'a> Host<'a> {
    pub fn new(
        entries: &'a [bool],
        helpers: &'a mut [Option<Helper>],
        runtime_helpers: &'a mut [Option<Helper>],
        device: &'a mut Option<Box<dyn Device>>,
        jmp_tokens: &'a mut u64,
    ) -> Host<'a> {
        Host {
            entries,
            helpers,
            runtime_helpers,
            device,
            pending: Vec::new(),
            tail_calls: 0,
            jmp_records: Vec::new(),
            jmp_tokens,
        }
    }

    /// The helper `h` refers to, if registered.
    fn helper(&mut self, h: HelperRef) -> Option<&mut Helper> {
        let table = if h.runtime {
            &mut *self.runtime_helpers
        } else {
            &mut *self.helpers
        };
        table.get_mut(h.id as usize).and_then(|h| h.as_mut())
    }

    /// The trap for a helper that is not (or no longer) registered.
    fn unknown(h: HelperRef) -> TrapKind {
        if h.runtime {
            TrapKind::UnknownRuntimeHelper(h.id as i32)
        } else {
            TrapKind::UnknownHelper(h.id as i32)
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
        let href = HelperRef {
            id: op.imm as i32 as u32,
            runtime: op.kind == Kind::CallRuntime,
        };
        let Some(helper) = self.helper(href) else {
            return Err(Self::unknown(href));
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
        self.step(href, step, next, mem, stack, cpu)?;
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
        let unknown = Self::unknown(p.helper);
        let helper = self.helper(p.helper).ok_or(unknown.clone())?;
        let HelperImpl::Callback(f) = &mut helper.func else {
            return Err(unknown);
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
        helper: HelperRef,
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
            HelperStep::SetJmp { buf } => {
                let token = self.set_jmp(stack, cpu, next);
                if let Err(e) = mem.store(buf, 8, token) {
                    return Err(self.helper_fault(helper, HelperError::Memory(e)));
                }
                cpu.r[0] = 0;
                cpu.pc = next;
            }
            HelperStep::LongJmp { buf, value } => {
                if let Err(error) = self.long_jmp(mem, stack, cpu, buf, value) {
                    return Err(self.helper_fault(helper, error));
                }
            }
        }
        Ok(())
    }

    /// A helper's error as the trap that names it.
    fn helper_fault(&mut self, h: HelperRef, error: HelperError) -> TrapKind {
        let helper = self
            .helper(h)
            .map_or_else(|| "?".to_string(), |h| h.name.clone());
        TrapKind::Helper { helper, error }
    }

    /// Records the running activation for a `setjmp` returning to `next`;
    /// returns the record's token. Records of activations that have
    /// returned are dropped first, and a record of the same activation and
    /// call site is reused, so their number stays below the live frames
    /// times the `setjmp` sites.
    fn set_jmp(&mut self, stack: &CallStack, cpu: &Cpu, next: usize) -> u64 {
        let live = |r: &JmpRecord| stack.serial_at(r.depth) == Some(r.serial);
        self.jmp_records.retain(live);
        let depth = stack.frames.len();
        let serial = stack.serial_at(depth).unwrap_or(0);
        let saved = [cpu.r[6], cpu.r[7], cpu.r[8], cpu.r[9]];
        if let Some(r) = self
            .jmp_records
            .iter_mut()
            .find(|r| r.depth == depth && r.serial == serial && r.resume_pc == next)
        {
            r.saved = saved;
            return r.token;
        }
        *self.jmp_tokens += 1;
        let token = *self.jmp_tokens;
        self.jmp_records.push(JmpRecord {
            token,
            depth,
            serial,
            resume_pc: next,
            saved,
        });
        token
    }

    /// Goes back to the `setjmp` whose token is at `buf`.
    fn long_jmp(
        &mut self,
        mem: &mut Memory,
        stack: &mut CallStack,
        cpu: &mut Cpu,
        buf: u64,
        value: u64,
    ) -> Result<(), HelperError> {
        let token = mem.load(buf, 8)?;
        let Some(rec) = self.jmp_records.iter().find(|r| r.token == token) else {
            return Err(HelperError::Fault(format!(
                "longjmp({buf:#x}): this jmp_buf was not filled by setjmp during this run"
            )));
        };
        if stack.serial_at(rec.depth) != Some(rec.serial) {
            return Err(HelperError::Fault(format!(
                "longjmp({buf:#x}): the function that called setjmp with this jmp_buf has \
                 returned (longjmp may only go back to a function still running)"
            )));
        }
        let (depth, resume_pc, saved) = (rec.depth, rec.resume_pc, rec.saved);
        // Frames above the target; helpers waiting in them are abandoned.
        for f in stack.frames.drain(depth..) {
            if f.return_pc & RESUME_BIT != 0 {
                self.pending.pop();
            }
        }
        let r = &mut cpu.r;
        [r[6], r[7], r[8], r[9]] = saved;
        stack.enter_current_frame(r, mem);
        r[0] = value;
        cpu.pc = resume_pc;
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
