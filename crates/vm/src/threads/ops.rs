//! The scheduler's requests ([`SchedOp`]) and what each does to the
//! calling thread and the synchronisation objects. Objects are known by
//! their VM address; a mutex's type is the `int` at its address (what
//! `PTHREAD_MUTEX_INITIALIZER` and `pthread_mutex_init` write), a once
//! flag is the `int` at its address (0 new, 1 running, 2 done).

use super::{BarrierState, CondPhase, MutexState, Status, Thread, Wait};
use crate::exec::ExecState;
use crate::memory::RegionKind;
use crate::trap::HelperError;
use crate::vm::Vm;
use std::collections::HashMap;

/// What a thread function of the C library asks the scheduler for.
/// Arguments are r1..r5 of the call; addresses are VM addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedOp {
    /// `pthread_create(id_out, attr, func, arg)`.
    Create {
        id_out: u64,
        attr: u64,
        func: u64,
        arg: u64,
    },
    /// `pthread_join` (`width` 8: `void **`) and `thrd_join` (`width` 4: `int *`).
    Join {
        thread: u64,
        result_out: u64,
        width: u8,
    },
    Detach(u64),
    Current,
    Exit(u64),
    Yield,
    MutexInit {
        mutex: u64,
        kind: u64,
    },
    MutexLock(u64),
    MutexTryLock(u64),
    MutexUnlock(u64),
    MutexDestroy(u64),
    CondInit(u64),
    CondDestroy(u64),
    /// `pthread_cond_wait`, or `pthread_cond_timedwait` when `abstime` is not 0.
    CondWait {
        cond: u64,
        mutex: u64,
        abstime: u64,
    },
    CondSignal(u64),
    CondBroadcast(u64),
    /// `pthread_once`'s start: 1 if the caller runs the routine.
    OnceBegin(u64),
    OnceEnd(u64),
    RwInit(u64),
    RwRead {
        rwlock: u64,
        try_only: bool,
    },
    RwWrite {
        rwlock: u64,
        try_only: bool,
    },
    RwUnlock(u64),
    BarrierInit {
        barrier: u64,
        count: u64,
    },
    BarrierWait(u64),
    KeyCreate {
        key_out: u64,
        destructor: u64,
    },
    KeyDelete(u64),
    GetSpecific(u64),
    SetSpecific {
        key: u64,
        value: u64,
    },
}

/// True for the runtime helpers that make [`SchedOp`] requests: code that
/// calls one runs under the scheduler.
pub fn is_sched_helper(name: &str) -> bool {
    name.starts_with("pthread_") || name.starts_with("__bpf_sched_") || name == "sched_yield"
}

pub(crate) const EPERM: u64 = 1;
pub(crate) const ESRCH: u64 = 3;
pub(crate) const EBUSY: u64 = 16;
pub(crate) const EINVAL: u64 = 22;
pub(crate) const EDEADLK: u64 = 35;
pub(crate) const ETIMEDOUT: u64 = 110;
const MUTEX_RECURSIVE: u64 = 1;
const MUTEX_ERRORCHECK: u64 = 2;
const BARRIER_SERIAL_THREAD: u64 = -1i64 as u64;

/// How a request ends for the calling thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// r0 = the value; the thread goes on after the `call`.
    Done(u64),
    /// The thread waits at the `call`, which runs again when it can.
    Block(Wait),
    /// The thread ends with this result.
    Exit(u64),
    /// r0 = 0; the thread gives up the rest of its slice.
    Yield,
}

impl Vm {
    /// Carries out `op` for thread `i` (the running one).
    pub(crate) fn sched_op(&mut self, i: usize, op: SchedOp) -> Result<Step, HelperError> {
        let me = self.threads.list[i].id;
        let fault = |m: String| Err(HelperError::Fault(m));
        Ok(match op {
            SchedOp::Create {
                id_out,
                attr,
                func,
                arg,
            } => return self.create_thread(id_out, attr, func, arg),
            SchedOp::Join {
                thread,
                result_out,
                width,
            } => {
                if thread == me {
                    return Ok(Step::Done(EDEADLK));
                }
                let Some(j) = self.threads.index_of(thread) else {
                    return Ok(Step::Done(ESRCH));
                };
                if self.threads.list[j].detached {
                    return Ok(Step::Done(EINVAL));
                }
                match self.threads.list[j].status {
                    Status::Finished(v) => {
                        if result_out != 0 {
                            self.mem.store(result_out, width as usize, v)?;
                        }
                        self.threads.list.remove(j);
                        Step::Done(0)
                    }
                    _ => Step::Block(Wait::Join(thread)),
                }
            }
            SchedOp::Detach(thread) => match self.threads.index_of(thread) {
                None => Step::Done(ESRCH),
                Some(j) => {
                    if matches!(self.threads.list[j].status, Status::Finished(_)) {
                        self.threads.list.remove(j);
                    } else {
                        self.threads.list[j].detached = true;
                    }
                    Step::Done(0)
                }
            },
            SchedOp::Current => Step::Done(me),
            SchedOp::Exit(v) => Step::Exit(v),
            SchedOp::Yield => Step::Yield,
            SchedOp::MutexInit { mutex, kind } => {
                self.mem.store(mutex, 4, kind)?;
                self.threads.mutexes.remove(&mutex);
                Step::Done(0)
            }
            SchedOp::MutexLock(m) | SchedOp::MutexTryLock(m) => {
                let kind = self.mem.load(m, 4)?;
                let try_only = matches!(op, SchedOp::MutexTryLock(_));
                let st = self.threads.mutexes.entry(m).or_default();
                match st.owner {
                    None => {
                        *st = MutexState {
                            owner: Some(me),
                            count: 1,
                        };
                        Step::Done(0)
                    }
                    Some(o) if o == me && kind == MUTEX_RECURSIVE => {
                        st.count += 1;
                        Step::Done(0)
                    }
                    Some(o) if o == me && kind == MUTEX_ERRORCHECK => Step::Done(EDEADLK),
                    Some(_) if try_only => Step::Done(EBUSY),
                    Some(_) => Step::Block(Wait::Mutex(m)),
                }
            }
            SchedOp::MutexUnlock(m) => {
                let kind = self.mem.load(m, 4)?;
                let st = self.threads.mutexes.entry(m).or_default();
                if st.owner != Some(me) {
                    if kind == MUTEX_ERRORCHECK {
                        return Ok(Step::Done(EPERM));
                    }
                    let held = match st.owner {
                        Some(o) => format!("thread {o} holds it"),
                        None => "it is not locked".to_string(),
                    };
                    return fault(format!(
                        "pthread_mutex_unlock({m:#x}): thread {me} does not hold this mutex \
                         ({held})"
                    ));
                }
                st.count -= 1;
                if st.count == 0 {
                    st.owner = None;
                }
                Step::Done(0)
            }
            SchedOp::MutexDestroy(m) => {
                if self
                    .threads
                    .mutexes
                    .get(&m)
                    .is_some_and(|s| s.owner.is_some())
                {
                    Step::Done(EBUSY)
                } else {
                    self.threads.mutexes.remove(&m);
                    Step::Done(0)
                }
            }
            SchedOp::CondInit(c) => {
                self.threads.conds.remove(&c);
                Step::Done(0)
            }
            SchedOp::CondDestroy(c) => {
                if self.threads.conds.get(&c).is_some_and(|q| !q.is_empty()) {
                    Step::Done(EBUSY)
                } else {
                    self.threads.conds.remove(&c);
                    Step::Done(0)
                }
            }
            SchedOp::CondWait {
                cond,
                mutex,
                abstime,
            } => return self.cond_wait(i, cond, mutex, abstime),
            SchedOp::CondSignal(c) | SchedOp::CondBroadcast(c) => {
                let all = matches!(op, SchedOp::CondBroadcast(_));
                let mut woken = Vec::new();
                if let Some(q) = self.threads.conds.get_mut(&c) {
                    while let Some(id) = q.pop_front() {
                        woken.push(id);
                        if !all {
                            break;
                        }
                    }
                }
                for id in woken {
                    if let Some(j) = self.threads.index_of(id) {
                        let t = &mut self.threads.list[j];
                        if let CondPhase::Waiting { count, .. } = t.cond {
                            t.cond = CondPhase::Woken {
                                timed_out: false,
                                count,
                            };
                        }
                    }
                }
                Step::Done(0)
            }
            SchedOp::OnceBegin(o) => match self.mem.load(o, 4)? {
                0 => {
                    self.mem.store(o, 4, 1)?;
                    Step::Done(1)
                }
                1 => Step::Block(Wait::Once(o)),
                2 => Step::Done(0),
                v => {
                    return fault(format!(
                        "pthread_once({o:#x}): the flag holds {v}, not PTHREAD_ONCE_INIT \
                         (was it initialised?)"
                    ))
                }
            },
            SchedOp::OnceEnd(o) => {
                self.mem.store(o, 4, 2)?;
                Step::Done(0)
            }
            SchedOp::RwInit(rw) => {
                self.threads.rwlocks.remove(&rw);
                Step::Done(0)
            }
            SchedOp::RwRead { rwlock, try_only } => {
                let st = self.threads.rwlocks.entry(rwlock).or_default();
                match st.writer {
                    None => {
                        st.readers += 1;
                        Step::Done(0)
                    }
                    Some(w) if w == me => Step::Done(EDEADLK),
                    Some(_) if try_only => Step::Done(EBUSY),
                    Some(_) => Step::Block(Wait::Read(rwlock)),
                }
            }
            SchedOp::RwWrite { rwlock, try_only } => {
                let st = self.threads.rwlocks.entry(rwlock).or_default();
                if st.writer.is_none() && st.readers == 0 {
                    st.writer = Some(me);
                    Step::Done(0)
                } else if st.writer == Some(me) {
                    Step::Done(EDEADLK)
                } else if try_only {
                    Step::Done(EBUSY)
                } else {
                    Step::Block(Wait::Write(rwlock))
                }
            }
            SchedOp::RwUnlock(rw) => {
                let st = self.threads.rwlocks.entry(rw).or_default();
                if st.writer == Some(me) {
                    st.writer = None;
                } else if st.readers > 0 {
                    st.readers -= 1;
                } else {
                    return fault(format!(
                        "pthread_rwlock_unlock({rw:#x}): thread {me} holds no lock on it"
                    ));
                }
                Step::Done(0)
            }
            SchedOp::BarrierInit { barrier, count } => {
                let count = count as u32;
                if count == 0 {
                    return Ok(Step::Done(EINVAL));
                }
                self.threads.barriers.insert(
                    barrier,
                    BarrierState {
                        count,
                        ..BarrierState::default()
                    },
                );
                Step::Done(0)
            }
            SchedOp::BarrierWait(b) => {
                let waiting = self.threads.list[i].barrier;
                let Some(st) = self.threads.barriers.get_mut(&b) else {
                    return fault(format!(
                        "pthread_barrier_wait({b:#x}): not a barrier (call \
                         pthread_barrier_init first)"
                    ));
                };
                if let Some((wb, generation)) = waiting.filter(|w| w.0 == b) {
                    let _ = wb;
                    if st.generation != generation {
                        self.threads.list[i].barrier = None;
                        return Ok(Step::Done(0));
                    }
                    return Ok(Step::Block(Wait::Barrier {
                        barrier: b,
                        generation,
                    }));
                }
                st.arrived += 1;
                if st.arrived == st.count {
                    st.arrived = 0;
                    st.generation += 1;
                    Step::Done(BARRIER_SERIAL_THREAD)
                } else {
                    let generation = st.generation;
                    self.threads.list[i].barrier = Some((b, generation));
                    Step::Block(Wait::Barrier {
                        barrier: b,
                        generation,
                    })
                }
            }
            SchedOp::KeyCreate { key_out, .. } => {
                let key = self.threads.next_key;
                self.mem.store(key_out, 4, key as u64)?;
                self.threads.next_key += 1;
                Step::Done(0)
            }
            SchedOp::KeyDelete(key) => {
                for t in &mut self.threads.list {
                    t.specific.remove(&(key as u32));
                }
                Step::Done(0)
            }
            SchedOp::GetSpecific(key) => {
                let t = &self.threads.list[i];
                Step::Done(t.specific.get(&(key as u32)).copied().unwrap_or(0))
            }
            SchedOp::SetSpecific { key, value } => {
                self.threads.list[i].specific.insert(key as u32, value);
                Step::Done(0)
            }
        })
    }

    fn create_thread(
        &mut self,
        id_out: u64,
        attr: u64,
        func: u64,
        arg: u64,
    ) -> Result<Step, HelperError> {
        let entry = self.callx_target(func).map_err(|_| {
            HelperError::Fault(format!(
                "pthread_create: the start routine {func:#x} is not a function"
            ))
        })?;
        let detached = attr != 0 && self.mem.load(attr, 4)? == 1;
        let live = self
            .threads
            .list
            .iter()
            .filter(|t| t.slot.is_some())
            .count();
        let limit = self.threads.config.max_threads;
        if live >= limit {
            return Err(HelperError::Fault(format!(
                "pthread_create: the thread limit of {limit} live threads is reached (raise it \
                 with --max-threads)"
            )));
        }
        let slot = (1..)
            .find(|s| !self.threads.list.iter().any(|t| t.slot == Some(*s)))
            .unwrap_or(1);
        let per_thread = self.config.frame_size * self.config.max_call_depth;
        let stack = per_thread.saturating_mul(slot + 1);
        if stack > crate::memory::MAX_REGION_SIZE {
            return Err(HelperError::Fault(format!(
                "pthread_create: {} threads' stacks of {per_thread} bytes do not fit in the \
                 stack region (lower --max-threads, --max-call-depth or --stack-size)",
                slot + 1
            )));
        }
        if self.mem.region_len(RegionKind::Stack) < stack {
            self.mem.set_stack_size(stack);
        }
        self.tls.init_block(&mut self.mem, slot)?;
        let id = self.threads.next_id;
        if id_out != 0 {
            self.mem.store(id_out, 8, id)?;
        }
        self.threads.next_id += 1;
        self.threads.list.push(Thread {
            id,
            slot: Some(slot),
            state: ExecState::new(entry, &[arg]),
            status: Status::Runnable,
            detached,
            entry: false,
            cond: CondPhase::Idle,
            barrier: None,
            specific: HashMap::new(),
        });
        Ok(Step::Done(0))
    }

    fn cond_wait(
        &mut self,
        i: usize,
        cond: u64,
        mutex: u64,
        abstime: u64,
    ) -> Result<Step, HelperError> {
        let me = self.threads.list[i].id;
        let block = Step::Block(Wait::Cond { cond, mutex });
        match self.threads.list[i].cond {
            CondPhase::Idle => {
                let st = self.threads.mutexes.entry(mutex).or_default();
                if st.owner != Some(me) {
                    return Err(HelperError::Fault(format!(
                        "pthread_cond_wait({cond:#x}, {mutex:#x}): thread {me} does not hold \
                         the mutex"
                    )));
                }
                let count = st.count;
                *st = MutexState::default();
                let deadline = if abstime == 0 {
                    None
                } else {
                    let sec = self.mem.load(abstime, 8)?;
                    let nsec = self.mem.load(abstime + 8, 8)?;
                    Some(sec.saturating_mul(1_000_000_000).saturating_add(nsec))
                };
                self.threads.conds.entry(cond).or_default().push_back(me);
                self.threads.list[i].cond = CondPhase::Waiting { deadline, count };
                Ok(block)
            }
            CondPhase::Waiting { .. } => Ok(block),
            CondPhase::Woken { timed_out, count } => {
                let st = self.threads.mutexes.entry(mutex).or_default();
                if st.owner.is_some() {
                    return Ok(Step::Block(Wait::Mutex(mutex)));
                }
                *st = MutexState {
                    owner: Some(me),
                    count,
                };
                self.threads.list[i].cond = CondPhase::Idle;
                Ok(Step::Done(if timed_out { ETIMEDOUT } else { 0 }))
            }
        }
    }
}
