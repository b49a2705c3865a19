//! The scheduler: runs the call's entry thread and every other live
//! thread in seeded slices until the entry thread returns, a trap stops
//! them all, or every thread is blocked (a deadlock).

use super::ops::Step;
use super::{BlockedThread, CondPhase, SchedConfig, Status, Thread, ThreadInfo, Wait};
use crate::exec::{trap_at, ExecState, Outcome};
use crate::isa::{CALL_RUNTIME, OP_CALL};
use crate::trap::{HelperError, Trap, TrapKind};
use crate::vm::Vm;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// The id of every call's entry thread (C's main thread).
pub const ENTRY_THREAD: u64 = 1;

/// The threads that outlive calls, and the synchronisation objects, at one
/// moment: what the REPL puts back together with memory when it rolls an
/// input back (their stacks and TLS blocks are VM memory, rolled back with
/// it).
#[derive(Clone)]
pub struct ThreadsSnapshot(super::Threads);

impl Vm {
    /// Sets how threads are scheduled; the generator restarts from the seed.
    pub fn set_sched_config(&mut self, config: SchedConfig) {
        self.threads.config = SchedConfig {
            quantum: config.quantum.max(1),
            ..config
        };
        self.threads.rng = config.seed;
    }

    /// The threads between calls, to [`Vm::restore_threads`] later.
    pub fn save_threads(&self) -> ThreadsSnapshot {
        ThreadsSnapshot(self.threads.clone())
    }

    /// Puts back the threads of `snapshot` (the configuration stays).
    pub fn restore_threads(&mut self, snapshot: ThreadsSnapshot) {
        self.threads.restore(snapshot.0);
    }

    /// How threads are scheduled.
    pub fn sched_config(&self) -> SchedConfig {
        self.threads.config
    }

    /// Context switches made so far (for measurements).
    pub fn context_switches(&self) -> u64 {
        self.threads.switches
    }

    /// The threads that outlived the last call (`%threads`), by id.
    pub fn threads_info(&self) -> Vec<ThreadInfo> {
        let t = &self.threads;
        t.list
            .iter()
            .map(|th| ThreadInfo {
                thread: th.id,
                state: match th.status {
                    Status::Runnable => "runnable".to_string(),
                    Status::Blocked(w) => format!("blocked on {}", t.describe(w)),
                    Status::Finished(v) => format!("finished (returned {v:#x}), not joined"),
                },
                object: match th.status {
                    Status::Blocked(w) => w.object(),
                    _ => None,
                },
                pc: th.state.pc,
                call_sites: trap_at(TrapKind::Interrupted, th.state.pc, &th.state.frames)
                    .call_sites,
            })
            .collect()
    }

    /// Whether [`Vm::call`] must run under the scheduler: threads are alive,
    /// or the code calls a scheduler helper ([`super::is_sched_helper`]).
    pub(crate) fn threads_needed(&mut self) -> bool {
        if !self.threads.list.is_empty() {
            return true;
        }
        if let Some(known) = self.threads.scan {
            return known;
        }
        let sched: Vec<bool> = self
            .runtime_helpers
            .iter()
            .map(|h| h.as_ref().is_some_and(|h| super::is_sched_helper(&h.name)))
            .collect();
        let found = sched.iter().any(|s| *s)
            && self.program.insns().iter().any(|i| {
                i.op == OP_CALL
                    && i.src == CALL_RUNTIME
                    && usize::try_from(i.imm).is_ok_and(|k| sched.get(k) == Some(&true))
            });
        self.threads.scan = Some(found);
        found
    }

    /// Runs `entry` as thread 1 together with the live threads.
    pub(crate) fn run_threads(&mut self, entry: usize, args: &[u64]) -> Result<u64, Trap> {
        self.threads.list.insert(
            0,
            Thread {
                id: ENTRY_THREAD,
                slot: Some(0),
                state: ExecState::new(entry, args),
                status: Status::Runnable,
                detached: false,
                entry: true,
                cond: CondPhase::Idle,
                barrier: None,
                specific: HashMap::new(),
            },
        );
        let result = self.schedule();
        if result.is_err() {
            self.threads.reset();
        }
        self.threads.list.retain(|t| !t.entry);
        self.threads.slot = 0;
        self.threads.shared = false;
        self.mem.set_thread_pointer(self.tls.thread_pointer(0));
        result
    }

    fn schedule(&mut self) -> Result<u64, Trap> {
        let budget = self.config.budget;
        let mut left = budget;
        let mut current: Option<u64> = None;
        let mut entry_result: Option<u64> = None;
        loop {
            if self.interrupt.load(Ordering::Relaxed) {
                let i = current
                    .and_then(|id| self.threads.index_of(id))
                    .unwrap_or(0);
                return Err(self.thread_trap(i, TrapKind::Interrupted));
            }
            let Some(i) = self.pick()? else {
                // Only detached or finished threads remain after the entry
                // thread's pthread_exit: the call is over.
                return Ok(entry_result.unwrap_or(0));
            };
            if current != Some(self.threads.list[i].id) {
                self.threads.switches += 1;
            }
            let id = self.threads.list[i].id;
            current = Some(id);
            let q = self.threads.config.quantum;
            let mut slice = q / 2 + self.threads.random() % q.max(1) + 1;
            self.enter(i);
            // Run the thread until its slice ends or it blocks.
            loop {
                let i = self
                    .threads
                    .index_of(id)
                    .expect("the running thread is listed");
                let mut fuel = slice.min(left);
                let start = fuel;
                let mut state =
                    std::mem::replace(&mut self.threads.list[i].state, ExecState::new(0, &[]));
                let result = self.interpret(&mut state, &mut fuel);
                self.threads.list[i].state = state;
                let used = start - fuel;
                left -= used;
                slice -= used.min(slice);
                match result {
                    Ok(Outcome::Returned(v)) | Ok(Outcome::Ended(v)) => {
                        if self.finish(i, v) {
                            return Ok(v);
                        }
                        break;
                    }
                    Ok(Outcome::OutOfFuel) => {
                        if left == 0 {
                            return Err(self.thread_trap(i, TrapKind::BudgetExhausted { budget }));
                        }
                        break;
                    }
                    Err(Trap {
                        kind:
                            TrapKind::Helper {
                                helper,
                                error: HelperError::Sched(op),
                            },
                        ..
                    }) => {
                        let step = match self.sched_op(i, op) {
                            Ok(step) => step,
                            Err(error) => {
                                let kind = TrapKind::Helper { helper, error };
                                return Err(self.thread_trap(i, kind));
                            }
                        };
                        let i = self.threads.index_of(id).expect("the caller is listed");
                        let t = &mut self.threads.list[i];
                        match step {
                            Step::Done(v) => {
                                t.state.regs[0] = v;
                                t.state.pc += 1;
                                t.status = Status::Runnable;
                                if slice == 0 {
                                    break;
                                }
                            }
                            Step::Yield => {
                                t.state.regs[0] = 0;
                                t.state.pc += 1;
                                t.status = Status::Runnable;
                                break;
                            }
                            Step::Block(w) => {
                                t.status = Status::Blocked(w);
                                break;
                            }
                            Step::Exit(v) => {
                                if t.entry {
                                    // C: the process goes on until the
                                    // other threads end, then exits with 0.
                                    entry_result = Some(0);
                                    t.status = Status::Finished(v);
                                } else {
                                    self.finish(i, v);
                                }
                                break;
                            }
                        }
                    }
                    Err(trap) => {
                        return Err(self.name_thread(i, trap));
                    }
                    Ok(Outcome::Jump { .. }) => {
                        // A thread's run has no base frames: setjmp and
                        // longjmp are applied inside it, on the thread's own
                        // frames and `jumps` records.
                        unreachable!("a run without base frames applies its jumps")
                    }
                }
            }
        }
    }

    /// Makes thread `i` the running one: its stack slot and thread pointer.
    fn enter(&mut self, i: usize) {
        let slot = self.threads.list[i].slot.unwrap_or(0);
        self.threads.slot = slot;
        self.threads.shared = self.threads.list.len() > 1;
        self.mem.set_thread_pointer(self.tls.thread_pointer(slot));
    }

    /// Thread `i` ended with `v`: true if it was the entry thread (the
    /// call returns). A detached thread goes at once; others wait for a join.
    fn finish(&mut self, i: usize, v: u64) -> bool {
        let t = &mut self.threads.list[i];
        if t.entry {
            return true;
        }
        t.status = Status::Finished(v);
        t.slot = None;
        if t.detached {
            self.threads.list.remove(i);
        }
        false
    }

    /// The next thread to run (seeded choice among the runnable ones, the
    /// one that just ran included); a timed wait times out when none can run.
    /// `None` when no thread is left to run at all.
    fn pick(&mut self) -> Result<Option<usize>, Trap> {
        loop {
            let runnable: Vec<usize> = (0..self.threads.list.len())
                .filter(|&i| self.threads.can_run(i, &self.mem))
                .collect();
            if !runnable.is_empty() {
                let k = (self.threads.random() % runnable.len() as u64) as usize;
                let i = runnable[k];
                self.threads.list[i].status = Status::Runnable;
                return Ok(Some(i));
            }
            if self.time_out_earliest() {
                continue;
            }
            let live = self
                .threads
                .list
                .iter()
                .any(|t| !matches!(t.status, Status::Finished(_)) && (t.entry || !t.detached));
            let blocked: Vec<BlockedThread> = self
                .threads
                .list
                .iter()
                .filter_map(|t| match t.status {
                    Status::Blocked(w) => Some(BlockedThread {
                        thread: t.id,
                        waits: self.threads.describe(w),
                        object: w.object(),
                        pc: t.state.pc,
                        call_sites: t.state.trap(TrapKind::Interrupted).call_sites,
                    }),
                    _ => None,
                })
                .collect();
            if blocked.is_empty() || !live {
                return Ok(None);
            }
            let first = &blocked[0];
            return Err(Trap {
                pc: first.pc,
                call_sites: first.call_sites.clone(),
                kind: TrapKind::Deadlock(blocked),
            });
        }
    }

    /// Times out the timed condition wait with the earliest deadline.
    fn time_out_earliest(&mut self) -> bool {
        let earliest = self
            .threads
            .list
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match (t.status, t.cond) {
                (
                    Status::Blocked(Wait::Cond { cond, .. }),
                    CondPhase::Waiting { deadline, count },
                ) => deadline.map(|d| (d, i, cond, count)),
                _ => None,
            })
            .min();
        let Some((_, i, cond, count)) = earliest else {
            return false;
        };
        let id = self.threads.list[i].id;
        if let Some(q) = self.threads.conds.get_mut(&cond) {
            q.retain(|w| *w != id);
        }
        self.threads.list[i].cond = CondPhase::Woken {
            timed_out: true,
            count,
        };
        true
    }

    /// `kind` at thread `i`'s pc, naming the thread when there are several.
    fn thread_trap(&self, i: usize, kind: TrapKind) -> Trap {
        let state = &self.threads.list[i].state;
        self.name_thread(i, state.trap(kind))
    }

    fn name_thread(&self, i: usize, mut trap: Trap) -> Trap {
        if self.threads.list.len() > 1 || !self.threads.list[i].entry {
            trap.kind = TrapKind::InThread {
                thread: self.threads.list[i].id,
                kind: Box::new(trap.kind),
            };
        }
        trap
    }
}
