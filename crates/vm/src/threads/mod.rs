//! Threads: several runs over one VM's code, data and heap.
//!
//! A thread is an [`ExecState`] (registers, pc, caller frames), a stack of
//! its own (slot *k* of the stack region: `frame_size * max_call_depth`
//! bytes each, the call's entry thread in slot 0) and a TLS block (block
//! *k*, see [`crate::tls`]). The C library's thread functions
//! (`pthread_create`, `pthread_mutex_lock`, ...) are runtime helpers that
//! only describe what they ask for ([`SchedOp`], returned as
//! [`HelperError::Sched`]); the scheduler (`sched.rs`) carries the request
//! out with the calling thread's state in hand, and either completes the
//! call (r0, next instruction) or blocks the thread at the `call`, which it
//! runs again when what the thread waits for ([`Wait`]) has happened.
//!
//! Scheduling is deterministic: a thread runs a slice of instructions
//! (`quantum / 2 .. 3 * quantum / 2`), a blocking call or `sched_yield`
//! ends its slice early, and every choice (the next thread, the slice's
//! length) comes from a generator seeded with [`SchedConfig::seed`]; the
//! same program and seed give the same interleaving. One instruction never
//! interleaves with another thread's, so BPF atomics are atomic across
//! threads. Time does not pass on its own: a timed wait times out only
//! when no thread can run (the earliest deadline first).
//!
//! Threads run on the interpreter (the JIT's native code cannot be
//! preempted between instructions): [`crate::Vm::call`] takes this path
//! when threads are alive or the code calls a scheduler helper.

mod ops;
mod sched;

pub use ops::{is_sched_helper, SchedOp};
pub use sched::{ThreadsSnapshot, ENTRY_THREAD};

use crate::exec::ExecState;
use std::collections::{HashMap, VecDeque};

/// How threads are scheduled (`--sched-seed`, `--quantum`, `--max-threads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedConfig {
    /// Mean instructions a thread runs before the scheduler may switch.
    pub quantum: u64,
    /// Seed of every scheduling choice.
    pub seed: u64,
    /// Most threads alive at once, the call's entry thread included.
    pub max_threads: usize,
}

impl Default for SchedConfig {
    fn default() -> Self {
        SchedConfig {
            quantum: 1000,
            seed: 0,
            max_threads: 64,
        }
    }
}

/// A blocked thread in a deadlock report: who, what it waits for, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedThread {
    pub thread: u64,
    /// What it waits for, e.g. "mutex 0x300000010 (held by thread 2)".
    pub waits: String,
    /// The address of the mutex, condition variable, ... it waits for
    /// (as written in `waits`), for hosts that can name it.
    pub object: Option<u64>,
    /// The blocking `call` and the enclosing call sites, innermost first.
    pub pc: usize,
    pub call_sites: Vec<usize>,
}

/// One thread as `%threads` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    pub thread: u64,
    /// "runnable", "blocked on ...", "finished (returned 0x0)".
    pub state: String,
    /// The address of what a blocked thread waits for (see [`BlockedThread::object`]).
    pub object: Option<u64>,
    /// The next instruction and the call sites, innermost first.
    pub pc: usize,
    pub call_sites: Vec<usize>,
}

/// What a blocked thread waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    Mutex(u64),
    Join(u64),
    Cond { cond: u64, mutex: u64 },
    Once(u64),
    Read(u64),
    Write(u64),
    Barrier { barrier: u64, generation: u64 },
}

impl Wait {
    /// The address of the object waited for (none for a join).
    pub fn object(self) -> Option<u64> {
        match self {
            Wait::Mutex(a) | Wait::Once(a) | Wait::Read(a) | Wait::Write(a) => Some(a),
            Wait::Cond { cond, .. } => Some(cond),
            Wait::Barrier { barrier, .. } => Some(barrier),
            Wait::Join(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Runnable,
    Blocked(Wait),
    Finished(u64),
}

/// Where a thread is in `pthread_cond_wait` (which the thread runs again
/// after each wake-up: release and queue, then re-acquire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CondPhase {
    Idle,
    /// Queued on the condition; `deadline` in ns (timed waits), the
    /// mutex's recursion count to restore.
    Waiting {
        deadline: Option<u64>,
        count: u32,
    },
    /// Signalled (or timed out): re-acquiring the mutex.
    Woken {
        timed_out: bool,
        count: u32,
    },
}

#[derive(Clone)]
pub(crate) struct Thread {
    pub id: u64,
    /// Stack and TLS slot; `None` once finished.
    pub slot: Option<usize>,
    pub state: ExecState,
    pub status: Status,
    pub detached: bool,
    /// The thread of the running [`crate::Vm::call`] (its return ends the call).
    pub entry: bool,
    pub cond: CondPhase,
    /// The barrier generation the thread waits to end.
    pub barrier: Option<(u64, u64)>,
    /// `pthread_setspecific` values by key.
    pub specific: HashMap<u32, u64>,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MutexState {
    pub owner: Option<u64>,
    pub count: u32,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RwState {
    pub writer: Option<u64>,
    pub readers: u32,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BarrierState {
    pub count: u32,
    pub arrived: u32,
    pub generation: u64,
}

/// Every thread and synchronisation object of one VM.
#[derive(Clone)]
pub(crate) struct Threads {
    pub config: SchedConfig,
    pub rng: u64,
    /// Live and finished-but-unjoined threads, by id.
    pub list: Vec<Thread>,
    pub next_id: u64,
    /// The running thread's stack slot, and whether several threads share
    /// the stack region (then all of it stays accessible).
    pub slot: usize,
    pub shared: bool,
    pub mutexes: HashMap<u64, MutexState>,
    pub conds: HashMap<u64, VecDeque<u64>>,
    pub rwlocks: HashMap<u64, RwState>,
    pub barriers: HashMap<u64, BarrierState>,
    pub next_key: u32,
    /// Whether the code calls a scheduler helper (`None`: not known since
    /// code or helpers changed).
    pub scan: Option<bool>,
    /// Context switches made (for measurements).
    pub switches: u64,
}

impl Default for Threads {
    fn default() -> Self {
        let config = SchedConfig::default();
        Threads {
            config,
            rng: config.seed,
            list: Vec::new(),
            next_id: 2,
            slot: 0,
            shared: false,
            mutexes: HashMap::new(),
            conds: HashMap::new(),
            rwlocks: HashMap::new(),
            barriers: HashMap::new(),
            next_key: 1,
            scan: None,
            switches: 0,
        }
    }
}

impl Threads {
    /// The running thread's stack slot and whether the stack is shared.
    #[inline]
    pub fn stack_slot(&self) -> (usize, bool) {
        (self.slot, self.shared)
    }

    pub fn code_changed(&mut self) {
        self.scan = None;
    }

    /// The next scheduling choice (splitmix64).
    pub fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn index_of(&self, id: u64) -> Option<usize> {
        self.list.iter().position(|t| t.id == id)
    }

    /// Whether thread `i` may run now.
    pub fn can_run(&self, i: usize, mem: &crate::Memory) -> bool {
        let t = &self.list[i];
        match t.status {
            Status::Runnable => true,
            Status::Finished(_) => false,
            Status::Blocked(w) => match w {
                Wait::Mutex(m) => self.mutexes.get(&m).is_none_or(|s| s.owner.is_none()),
                Wait::Join(id) => self
                    .index_of(id)
                    .is_none_or(|j| matches!(self.list[j].status, Status::Finished(_))),
                Wait::Cond { .. } => matches!(t.cond, CondPhase::Woken { .. }),
                Wait::Once(o) => mem.load(o, 4) != Ok(1),
                Wait::Read(rw) => self.rwlocks.get(&rw).is_none_or(|s| s.writer.is_none()),
                Wait::Write(rw) => self
                    .rwlocks
                    .get(&rw)
                    .is_none_or(|s| s.writer.is_none() && s.readers == 0),
                Wait::Barrier {
                    barrier,
                    generation,
                } => self
                    .barriers
                    .get(&barrier)
                    .is_none_or(|b| b.generation != generation),
            },
        }
    }

    /// What `w` waits for, in words.
    pub fn describe(&self, w: Wait) -> String {
        match w {
            Wait::Mutex(m) => match self.mutexes.get(&m).and_then(|s| s.owner) {
                Some(owner) => format!("mutex {m:#x} (held by thread {owner})"),
                None => format!("mutex {m:#x}"),
            },
            Wait::Join(id) => format!("thread {id} to finish (pthread_join)"),
            Wait::Cond { cond, mutex } => {
                format!("condition variable {cond:#x} (waiting with mutex {mutex:#x})")
            }
            Wait::Once(o) => format!("pthread_once {o:#x} to finish in another thread"),
            Wait::Read(rw) => format!("rwlock {rw:#x} for reading (held for writing)"),
            Wait::Write(rw) => format!("rwlock {rw:#x} for writing"),
            Wait::Barrier { barrier, .. } => match self.barriers.get(&barrier) {
                Some(b) => format!(
                    "barrier {barrier:#x} ({} of {} threads arrived)",
                    b.arrived, b.count
                ),
                None => format!("barrier {barrier:#x}"),
            },
        }
    }

    /// Puts back the threads and synchronisation objects of `saved`,
    /// keeping the current configuration and counters.
    pub fn restore(&mut self, saved: Threads) {
        let config = self.config;
        let switches = self.switches;
        *self = saved;
        self.config = config;
        self.switches = switches;
        self.scan = None; // the code may have changed since
    }

    /// Forgets every thread (a trap stopped them all); synchronisation
    /// objects are forgotten too, since their owners are gone.
    pub fn reset(&mut self) {
        let config = self.config;
        let rng = self.rng;
        let switches = self.switches;
        *self = Threads::default();
        self.config = config;
        self.rng = rng;
        self.switches = switches;
    }
}
