//! `setjmp`/`longjmp` ([`crate::HelperStep::SetJmp`]/`LongJmp`): the
//! records of the activations that called `setjmp`, and what a jump does
//! to a run's frames. Decided here for every engine: it needs every frame
//! of the run as an explicit [`Frame`], so the interpreter applies it when
//! it owns the whole stack, and otherwise stops and lets the owner (the
//! JIT, after unwinding its native frames) apply it ([`crate::Vm::jump`]).
//!
//! An activation is named by the [`Frame::serial`] of the frame its
//! `call` pushed (the entry function, which has none, by depth 0). Frames
//! are pushed unnamed (0) and named when a `setjmp` runs in their callee,
//! so a call costs nothing more, and a frame pushed later — by any engine —
//! never carries the name of one that returned.

use crate::exec::{Frame, PendingHelper, RESUME_BIT};
use crate::memory::Memory;
use crate::trap::HelperError;

/// What a helper asked for that moves the call stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jump {
    /// `setjmp(buf)` returning to slot `next`: remember the running
    /// activation, store its token at `buf`, r0 = 0.
    Set { buf: u64, next: usize },
    /// `longjmp(buf, value)`: back to the `setjmp` whose token is at `buf`,
    /// with r0 = `value`.
    Long { buf: u64, value: u64 },
}

/// What `setjmp` saved: an activation and where to go on in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct JmpRecord {
    token: u64,
    /// Frames below the activation (0: the entry function).
    depth: usize,
    /// The activation's name (see the module doc; unused at depth 0).
    serial: u64,
    /// The slot after the `setjmp` call.
    resume_pc: usize,
    /// r6–r9 at the call.
    saved: [u64; 4],
}

/// The `setjmp` records of one run (carried with its state between engines).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JmpRecords {
    records: Vec<JmpRecord>,
    /// The last serial given to a frame.
    serials: u64,
}

impl JmpRecords {
    /// Whether the activation of `r` is still running in `frames`.
    fn live(r: &JmpRecord, frames: &[Frame]) -> bool {
        match r.depth {
            0 => true,
            d => frames.get(d - 1).is_some_and(|f| f.serial == r.serial),
        }
    }

    /// Applies `jump` to a run whose every frame is in `frames` (outermost
    /// first), with `pending` its waiting helpers and `regs` r0..r9 of the
    /// running function; returns the slot to go on at. `tokens` is the VM's
    /// token counter (tokens never repeat, so a `jmp_buf` of an earlier run
    /// names nothing). The caller recomputes r10 for the new depth.
    pub(crate) fn apply(
        &mut self,
        jump: Jump,
        tokens: &mut u64,
        mem: &mut Memory,
        frames: &mut Vec<Frame>,
        pending: &mut Vec<PendingHelper>,
        regs: &mut [u64],
    ) -> Result<usize, HelperError> {
        match jump {
            Jump::Set { buf, next } => {
                let token = self.set(tokens, frames, regs, next);
                mem.store(buf, 8, token)?;
                regs[0] = 0;
                Ok(next)
            }
            Jump::Long { buf, value } => {
                let rec = self.target(mem, frames, buf)?;
                let (depth, resume_pc, saved) = (rec.depth, rec.resume_pc, rec.saved);
                // Frames above the target; helpers waiting in them are abandoned.
                for f in frames.drain(depth..) {
                    if f.return_pc & RESUME_BIT != 0 {
                        pending.pop();
                    }
                }
                regs[6..10].copy_from_slice(&saved);
                regs[0] = value;
                Ok(resume_pc)
            }
        }
    }

    /// Records the running activation for a `setjmp` returning to `next`;
    /// returns the record's token. Records of activations that have
    /// returned are dropped first, and a record of the same activation and
    /// call site is reused, so their number stays below the live frames
    /// times the `setjmp` sites.
    fn set(&mut self, tokens: &mut u64, frames: &mut [Frame], regs: &[u64], next: usize) -> u64 {
        self.records.retain(|r| Self::live(r, frames));
        let depth = frames.len();
        let serial = match frames.last_mut() {
            None => 0,
            Some(f) => {
                if f.serial == 0 {
                    self.serials += 1;
                    f.serial = self.serials;
                }
                f.serial
            }
        };
        let saved = [regs[6], regs[7], regs[8], regs[9]];
        if let Some(r) = self
            .records
            .iter_mut()
            .find(|r| r.depth == depth && r.serial == serial && r.resume_pc == next)
        {
            r.saved = saved;
            return r.token;
        }
        *tokens += 1;
        self.records.push(JmpRecord {
            token: *tokens,
            depth,
            serial,
            resume_pc: next,
            saved,
        });
        *tokens
    }

    /// The record the token at `buf` names, if its activation is live.
    fn target(&self, mem: &Memory, frames: &[Frame], buf: u64) -> Result<&JmpRecord, HelperError> {
        let token = mem.load(buf, 8)?;
        let Some(rec) = self.records.iter().find(|r| r.token == token) else {
            return Err(HelperError::Fault(format!(
                "longjmp({buf:#x}): this jmp_buf was not filled by setjmp during this run"
            )));
        };
        if !Self::live(rec, frames) {
            return Err(HelperError::Fault(format!(
                "longjmp({buf:#x}): the function that called setjmp with this jmp_buf has \
                 returned (longjmp may only go back to a function still running)"
            )));
        }
        Ok(rec)
    }
}
