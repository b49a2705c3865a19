//! `bpf-kernel` is the kernel world of bpf-repl: what a BPF program built
//! for the kernel finds around it, in user space and without root.
//!
//! - maps ([`MapSpec`], [`Kernel::create_map`]): array, hash, per-CPU
//!   array and hash (one CPU), LRU hash, LPM trie, queue, stack, program
//!   array, ring buffer, perf event array, devmap/cpumap/xskmap; their
//!   values live in the VM's kernel-object region, so programs get real,
//!   checked pointers;
//! - kernel helpers by their kernel ids ([`Kernel::install`];
//!   [`implemented_helpers`] lists them), with deterministic time and
//!   random numbers on request ([`KernelConfig`]);
//! - program contexts ([`ContextKind`]): `struct xdp_md` and `struct
//!   __sk_buff` over a packet, or context bytes the user gives;
//! - runs ([`Kernel::run`]) on one packet, on every packet of a pcap file
//!   ([`run_pcap`]), with per-verdict counts, and map dumps;
//! - programs by type ([`ProgType`], `bpf-kabi`'s: libbpf's section
//!   names, context layouts and helper prototypes are shared with the
//!   verifier).
//!
//! It knows nothing about ELF: the linker reads map definitions from
//! objects and asks this crate to create them (see `bpf-linker`).
//! State lives behind a cheap handle ([`Kernel`]) shared by the helper
//! closures, the context device and the host.

mod context;
mod dump;
mod helpers;
mod maps;
mod pcap;
mod run;
mod spec;

pub use bpf_kabi::ProgType;
pub use context::{ContextKind, CTX_ADDR, XDP_HEADROOM, XDP_TAILROOM};
pub use helpers::implemented_helpers;
pub use maps::Map;
pub use pcap::{read_pcap, read_pcap_file, PcapPacket, MAX_PACKETS};
pub use run::{run_pcap, Input, Outcome, PcapReport, RunError};
pub use spec::{MapSpec, MapType, SpecError, MAX_MAP_BYTES};

use bpf_runtime::OutputSink;
use std::path::PathBuf;

/// The directory of the shipped kernel-style headers (`<linux/bpf.h>`,
/// `<bpf/bpf_helpers.h>`, `<bpf/bpf_endian.h>`, `<bpf/bpf_tracing.h>`,
/// `<bpf/bpf_core_read.h>`, packet headers): pass it with `-isystem`.
pub fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include")
}
use bpf_vm::{MemError, Memory, RegionKind, Vm};
use context::RunState;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// Where `bpf_ktime_get_ns` and friends take the time from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The host's monotonic clock; during a pcap run, each packet's
    /// capture time.
    Host,
    /// Deterministic: `start_ns`, then `step_ns` more at every reading.
    Fixed { start_ns: u64, step_ns: u64 },
}

/// Settings of the kernel world; every one has a deterministic default
/// except the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelConfig {
    pub clock: Clock,
    /// Seed of `bpf_get_prandom_u32`.
    pub seed: u64,
    /// What `bpf_get_current_pid_tgid` and `bpf_get_current_uid_gid` report.
    pub pid: u32,
    pub tgid: u32,
    pub uid: u32,
    pub gid: u32,
    /// What `bpf_get_current_comm` reports.
    pub comm: String,
    /// Ring buffer and perf records kept at most; later ones are counted
    /// as dropped.
    pub max_events: usize,
    /// The interface index packets arrive on.
    pub ifindex: u32,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            clock: Clock::Host,
            seed: 0x5eed,
            pid: 4242,
            tgid: 4242,
            uid: 1000,
            gid: 1000,
            comm: "bpf-repl".to_string(),
            max_events: 100_000,
            ifindex: 1,
        }
    }
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `bpf_ringbuf_output` / `bpf_ringbuf_submit`.
    RingBuf,
    /// `bpf_perf_event_output`.
    Perf,
}

/// A record a program sent to user space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The map it went through.
    pub map: String,
    /// The perf CPU index (0 for ring buffers).
    pub cpu: u32,
    pub data: Vec<u8>,
}

/// The shared state behind a [`Kernel`] handle.
pub(crate) struct State {
    pub maps: Vec<Map>,
    pub config: KernelConfig,
    pub start: Instant,
    pub clock_readings: u64,
    pub rng: u64,
    pub events: Vec<Event>,
    pub dropped_events: u64,
    pub trace: OutputSink,
    pub run: Option<RunState>,
}

impl State {
    /// The map whose handle is `addr`.
    pub fn map_mut(&mut self, addr: u64) -> Option<&mut Map> {
        self.maps.iter_mut().find(|m| m.handle == addr)
    }

    pub fn record(&mut self, event: Event) {
        if self.events.len() < self.config.max_events {
            self.events.push(event);
        } else {
            self.dropped_events += 1;
        }
    }
}

/// A copy of the kernel world's host-side state (maps' bookkeeping,
/// clock, random state, events); VM memory is saved separately.
#[derive(Clone)]
pub struct KernelSnapshot {
    maps: Vec<Map>,
    clock_readings: u64,
    rng: u64,
    events: usize,
}

/// A handle to the kernel world of one VM. Clones share the state.
#[derive(Clone)]
pub struct Kernel {
    pub(crate) state: Rc<RefCell<State>>,
}

impl Kernel {
    /// A kernel world; `bpf_trace_printk` output goes to `trace`.
    pub fn new(config: KernelConfig, trace: OutputSink) -> Kernel {
        let rng = config.seed;
        Kernel {
            state: Rc::new(RefCell::new(State {
                maps: Vec::new(),
                config,
                start: Instant::now(),
                clock_readings: 0,
                rng,
                events: Vec::new(),
                dropped_events: 0,
                trace,
                run: None,
            })),
        }
    }

    /// Registers the kernel helpers under their kernel ids and the
    /// context device with `vm`.
    pub fn install(&self, vm: &mut Vm) {
        helpers::register(&self.state, vm);
        vm.set_device(Some(Box::new(context::KernelDevice(self.state.clone()))));
    }

    /// Creates a map at the end of the kernel-object region and returns
    /// its handle (the address programs use). The region must end at
    /// `expect` when given (the linker plans addresses before it creates).
    pub fn create_map(
        &self,
        mem: &mut Memory,
        name: &str,
        spec: &MapSpec,
    ) -> Result<u64, MapCreateError> {
        let size = spec.footprint().map_err(MapCreateError::Spec)?;
        let at = mem
            .alloc(RegionKind::Kernel, size as usize, 8)
            .map_err(MapCreateError::Memory)?;
        let map = Map::new(mem, name, spec, at).map_err(MapCreateError::Memory)?;
        self.state.borrow_mut().maps.push(map);
        Ok(at)
    }

    /// Number of maps created so far.
    pub fn map_count(&self) -> usize {
        self.state.borrow().maps.len()
    }

    /// Forgets maps created after the first `count` (undo; the caller
    /// shrinks the kernel-object region).
    pub fn truncate_maps(&self, count: usize) {
        self.state.borrow_mut().maps.truncate(count);
    }

    /// Every map, oldest first.
    pub fn maps(&self) -> Vec<Map> {
        self.state.borrow().maps.clone()
    }

    /// The map with this handle address.
    pub fn map_at(&self, handle: u64) -> Option<Map> {
        self.state
            .borrow()
            .maps
            .iter()
            .find(|m| m.handle == handle)
            .cloned()
    }

    /// Sets entry `index` of the program array with handle `map` to the
    /// function at code address `entry` (what user space does with
    /// `bpf_map_update_elem` on a prog array; libbpf does it for `.maps`
    /// definitions that list programs).
    pub fn set_prog(&self, map: u64, index: u32, entry: Option<u64>) -> Result<(), String> {
        let mut st = self.state.borrow_mut();
        let m = st
            .map_mut(map)
            .ok_or_else(|| format!("{map:#x} is not a map"))?;
        m.set_prog(index, entry)
    }

    /// `bpf_map_update_elem` from user space; Err with the errno name on failure.
    pub fn update(
        &self,
        mem: &mut Memory,
        map: u64,
        key: &[u8],
        value: &[u8],
    ) -> Result<(), String> {
        let mut st = self.state.borrow_mut();
        let m = st
            .map_mut(map)
            .ok_or_else(|| format!("{map:#x} is not a map"))?;
        if key.len() != m.spec.key_size as usize || value.len() != m.spec.value_size as usize {
            return Err(format!(
                "map `{}` has {}-byte keys and {}-byte values",
                m.name, m.spec.key_size, m.spec.value_size
            ));
        }
        match m.update(mem, key, value, 0).map_err(|e| e.to_string())? {
            0 => Ok(()),
            e => Err(format!(
                "update of map `{}` failed with errno {}",
                m.name, -e
            )),
        }
    }

    /// Records sent to user space so far (ring buffers, perf event arrays),
    /// taken: the next call returns only newer ones.
    pub fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut self.state.borrow_mut().events)
    }

    /// Records dropped because [`KernelConfig::max_events`] were kept.
    pub fn dropped_events(&self) -> u64 {
        self.state.borrow().dropped_events
    }

    /// Copies the host-side state (pair it with a copy of VM memory).
    pub fn save(&self) -> KernelSnapshot {
        let st = self.state.borrow();
        KernelSnapshot {
            maps: st.maps.clone(),
            clock_readings: st.clock_readings,
            rng: st.rng,
            events: st.events.len(),
        }
    }

    /// Puts back a state saved with [`Kernel::save`].
    pub fn restore(&self, snapshot: KernelSnapshot) {
        let mut st = self.state.borrow_mut();
        st.maps = snapshot.maps;
        st.clock_readings = snapshot.clock_readings;
        st.rng = snapshot.rng;
        st.events.truncate(snapshot.events);
    }

    /// A `bpftool map dump`-like listing of one map's contents.
    pub fn dump_map(&self, mem: &Memory, handle: u64) -> Option<String> {
        let st = self.state.borrow();
        let m = st.maps.iter().find(|m| m.handle == handle)?;
        Some(dump::dump(m, mem))
    }

    /// The settings in use.
    pub fn config(&self) -> KernelConfig {
        self.state.borrow().config.clone()
    }
}

/// Why [`Kernel::create_map`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapCreateError {
    Spec(SpecError),
    Memory(MemError),
}

impl std::fmt::Display for MapCreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapCreateError::Spec(e) => write!(f, "{e}"),
            MapCreateError::Memory(e) => write!(f, "no room in the kernel-object region: {e}"),
        }
    }
}

impl std::error::Error for MapCreateError {}
