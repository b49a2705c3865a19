//! The VM's address space: fixed, deterministic regions, every access
//! translated and bounds-checked.
//!
//! Region `k` starts at virtual address `k << 32` and grows by appending, so
//! an address never changes once handed out. Addresses below `1 << 32`
//! (including NULL) and everything past a region's current end are unmapped.
//! BPF code can only reach the bytes inside these regions: there is no way
//! from a virtual address to host memory other than through [`Memory`].
//!
//! **Undo.** Memory keeps a write log by pages ([`PAGE_SIZE`] bytes): a host
//! opens an *epoch* with [`Memory::begin_epoch`], and the first store of the
//! epoch to a page that existed when the epoch began saves that page's old
//! bytes; [`Memory::rollback`] puts them back and shrinks every region to
//! its length at the start of the epoch. So undoing costs what the epoch
//! changed, not the size of memory. Every store path (`slice_mut`,
//! `write_array`, `write_bytes`, `store`, `write_initial`, region growth and
//! truncation) goes through one inline check, [`Memory::barrier`]: a page is
//! saved when its entry in the region's page-epoch table is below the
//! current epoch. The stack is not logged (its entries are `u32::MAX`): what
//! a run leaves on it is dead. Without an open epoch (epoch 0) nothing is
//! saved. See [`Memory::page_epochs`] for what native code must check.
//!
//! **Limit.** [`Memory::set_limit`] bounds the bytes of all regions plus
//! the write log; growth beyond it is refused before anything is allocated
//! ([`MemReason::Limit`]).

use std::fmt;

mod journal;
mod shadow;
pub use journal::Checkpoint;
use journal::Journal;
pub use shadow::{Poison, GRANULE, GRANULE_SHIFT};

/// Bytes per page of the write log: log2.
pub const PAGE_SHIFT: u32 = 12;
/// Bytes per page of the write log.
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// The page-epoch entry of pages that are never logged (the stack).
pub const UNTRACKED: u32 = u32::MAX;

/// Bits of a virtual address that select the offset inside a region.
pub const REGION_SHIFT: u32 = 32;
const OFFSET_MASK: u64 = (1 << REGION_SHIFT) - 1;
/// Largest size a region may grow to.
pub const MAX_REGION_SIZE: usize = 1 << 31;

/// The kinds of memory, each with its own fixed base address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegionKind {
    /// Function entries; addresses exist for `callx` and function pointers only.
    Code = 1,
    /// Read-only data: `.rodata`, string literals.
    Rodata = 2,
    /// Writable data: `.data`, `.bss`.
    Data = 3,
    /// The heap (`malloc` and friends).
    Heap = 4,
    /// Call stack frames.
    Stack = 5,
    /// Variable-length arrays and `alloca` (docs/abi.md).
    Alloca = 6,
    /// Thread-local storage blocks.
    Tls = 7,
    /// Kernel-style objects: map values, program contexts, packets.
    Kernel = 8,
}

impl RegionKind {
    /// All kinds, in address order.
    pub const ALL: [RegionKind; 8] = [
        RegionKind::Code,
        RegionKind::Rodata,
        RegionKind::Data,
        RegionKind::Heap,
        RegionKind::Stack,
        RegionKind::Alloca,
        RegionKind::Tls,
        RegionKind::Kernel,
    ];

    /// First virtual address of the region.
    pub const fn base(self) -> u64 {
        (self as u64) << REGION_SHIFT
    }

    /// Lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            RegionKind::Code => "code",
            RegionKind::Rodata => "rodata",
            RegionKind::Data => "data",
            RegionKind::Heap => "heap",
            RegionKind::Stack => "stack",
            RegionKind::Alloca => "alloca",
            RegionKind::Tls => "thread-local",
            RegionKind::Kernel => "kernel object",
        }
    }

    /// The region an address falls in, if any.
    pub fn of(addr: u64) -> Option<RegionKind> {
        RegionKind::ALL
            .into_iter()
            .find(|k| (addr >> REGION_SHIFT) == *k as u64)
    }
}

/// Whether an access reads, writes, or both (atomics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Why an access was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemReason {
    /// NULL page or the gap between regions.
    Unmapped,
    /// Inside a region's address range but past its current end (or below the live stack).
    OutOfBounds(RegionKind),
    /// A write to read-only data.
    ReadOnly(RegionKind),
    /// A data access to code addresses.
    NotData,
    /// The access size or range is too large to be real (or, for a scalar
    /// load or store, not one of 1, 2, 4 and 8 bytes).
    TooLarge,
    /// Growing a region, or saving a page for undo, would take memory past
    /// the limit set with [`Memory::set_limit`] (the limit in bytes).
    Limit(usize),
    /// Memcheck ([`Memory::enable_memcheck`]): the byte at `at` belongs to
    /// no heap block or global variable that may be accessed.
    Poisoned { kind: Poison, at: u64 },
}

/// A refused memory access: where, how many bytes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemError {
    pub addr: u64,
    pub len: usize,
    pub access: Access,
    pub reason: MemReason,
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        let unit = if self.len == 1 { "byte" } else { "bytes" };
        write!(f, "{what} of {} {unit} at {:#x}: ", self.len, self.addr)?;
        match &self.reason {
            MemReason::Unmapped if self.addr < (1 << REGION_SHIFT) => {
                write!(f, "NULL or unmapped low address")
            }
            MemReason::Unmapped => write!(f, "address is not mapped"),
            MemReason::OutOfBounds(RegionKind::Stack) => {
                write!(f, "outside the live stack frames")
            }
            MemReason::OutOfBounds(k) => write!(f, "past the end of the {} region", k.name()),
            MemReason::ReadOnly(k) => write!(f, "{} memory is read-only", k.name()),
            MemReason::NotData => write!(f, "code addresses cannot be read or written"),
            MemReason::TooLarge if self.len < 8 && !matches!(self.len, 1 | 2 | 4) => {
                write!(f, "a scalar access must be 1, 2, 4 or 8 bytes")
            }
            MemReason::TooLarge => write!(f, "range too large"),
            MemReason::Limit(limit) => write!(
                f,
                "the VM memory limit of {limit} bytes would be exceeded (regions plus the undo \
                 log of changed pages; raise it with --memory-limit)"
            ),
            MemReason::Poisoned { kind, at } => kind.describe(f, *at),
        }
    }
}

impl std::error::Error for MemError {}

/// One region: its bytes and the lowest offsets that may be read and
/// written. The low bounds also carry the permissions: [`NO_ACCESS`] never
/// passes. (One compare per access checks both, for the interpreter.) A
/// region's kind is its index in [`Memory`]'s table.
#[derive(Clone, Debug)]
struct Region {
    bytes: Vec<u8>,
    read_lo: usize,
    write_lo: usize,
    /// Per page: the epoch in which the page was last saved to the write
    /// log ([`UNTRACKED`] for regions that are never logged). One entry for
    /// every page that holds at least one byte.
    pages: Vec<u32>,
    /// What new pages get: 0 (logged) or [`UNTRACKED`].
    tracking: u32,
    /// Memcheck: whether accesses consult `shadow`.
    checked: bool,
    /// Memcheck: one byte per [`GRANULE`] bytes (see `shadow.rs`); empty
    /// unless `checked`.
    shadow: Vec<u8>,
    /// What the shadow of new bytes is (0: accessible).
    fresh: u8,
}

/// The low bound of an access a region never allows.
const NO_ACCESS: usize = usize::MAX;

/// The kind of each slot of [`Memory`]'s table (slot 0, the unmapped low
/// addresses, is never named).
const SLOT_KINDS: [RegionKind; SLOTS] = [
    RegionKind::Code,
    RegionKind::Code,
    RegionKind::Rodata,
    RegionKind::Data,
    RegionKind::Heap,
    RegionKind::Stack,
    RegionKind::Alloca,
    RegionKind::Tls,
    RegionKind::Kernel,
];

/// The most slots [`Memory::helper_stack`] keeps.
pub const MAX_HELPER_STACK: usize = 64;

/// Slots in [`Memory`]'s table: the unmapped low addresses and one per region.
const SLOTS: usize = 9;

impl Region {
    fn new(data: bool, writable: bool) -> Region {
        Region {
            bytes: Vec::new(),
            read_lo: if data { 0 } else { NO_ACCESS },
            write_lo: if writable { 0 } else { NO_ACCESS },
            pages: Vec::new(),
            tracking: 0,
            checked: false,
            shadow: Vec::new(),
            fresh: 0,
        }
    }

    /// Resizes the bytes (zero-filling) and the page table; new pages get
    /// `epoch` (they need no saving: rollback truncates them away).
    fn resize(&mut self, len: usize, epoch: u32) {
        self.bytes.resize(len, 0);
        let entry = if self.tracking == UNTRACKED {
            UNTRACKED
        } else {
            epoch
        };
        self.pages.resize(len.div_ceil(PAGE_SIZE), entry);
        if self.checked {
            self.shadow.resize(len.div_ceil(GRANULE), self.fresh);
        }
    }

    fn is_data(&self) -> bool {
        self.read_lo != NO_ACCESS
    }

    fn is_writable(&self) -> bool {
        self.write_lo != NO_ACCESS
    }
}

/// The error for a scalar access whose size is not 1, 2, 4 or 8.
#[cold]
fn bad_size(addr: u64, len: usize, access: Access) -> MemError {
    MemError {
        addr,
        len,
        access,
        reason: MemReason::TooLarge,
    }
}

/// Slots of the region table (see [`Memory::raw_regions`]): the unmapped
/// low addresses and one per region kind, indexed by `addr >> 32`.
pub const REGION_SLOTS: usize = SLOTS;

/// One slot of the region table as native code reads it for its inline
/// access check: `n` bytes at offset `o` may be read when `o >= lo` and
/// `o + n <= len`, written when `o >= lo` and `o + n <= wlen`. This is the
/// same rule as [`Memory::slice`]; anything it refuses goes to the checked
/// accessors ([`Memory::load`], [`Memory::store`]) for the error.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RawRegion {
    /// Host address of the region's first byte.
    pub ptr: *mut u8,
    /// Lowest accessible offset (`u64::MAX`: none).
    pub lo: u64,
    /// End of the readable bytes.
    pub len: u64,
    /// End of the writable bytes (0 for read-only regions).
    pub wlen: u64,
}

/// A position in every region, to roll allocations back to (see [`Memory::release_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryMark {
    lens: [usize; SLOTS],
}

/// The whole VM address space.
#[derive(Clone, Debug)]
pub struct Memory {
    /// Indexed by `addr >> 32`; slot 0 is the unmapped low 4 GiB.
    regions: [Region; SLOTS],
    /// The open epoch (0: none; nothing is logged).
    epoch: u32,
    /// Saved pages of every open epoch.
    journal: Journal,
    /// Most bytes the regions and the journal may hold together.
    limit: usize,
    /// The running thread's thread pointer: the address of its block in the
    /// thread-local region (see [`crate::tls`]).
    thread_pointer: u64,
    /// The BPF call stack of the helper call running now (see
    /// [`Memory::helper_stack`]).
    helper_stack: Vec<usize>,
    /// Call sites of frames below an interpreted stretch that another
    /// engine runs on top of its own frames (innermost first).
    outer_sites: Vec<usize>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory::new()
    }
}

impl Memory {
    /// An empty address space: every region exists at its base and has size 0.
    pub fn new() -> Memory {
        // In the order of SLOT_KINDS: (data, writable).
        let mut regions = [
            Region::new(false, false),
            Region::new(false, false),
            Region::new(true, false),
            Region::new(true, true),
            Region::new(true, true),
            Region::new(true, true),
            Region::new(true, true),
            Region::new(true, true),
            Region::new(true, true),
        ];
        regions[RegionKind::Stack as usize].tracking = UNTRACKED;
        Memory {
            regions,
            epoch: 0,
            journal: Journal::default(),
            limit: usize::MAX,
            thread_pointer: crate::tls::main_thread_pointer(),
            helper_stack: Vec::new(),
            outer_sites: Vec::new(),
        }
    }

    /// The running thread's thread pointer (the address of its TLS block;
    /// the main thread's block starts at the thread-local region's base).
    /// The `__bpf_tls_base` runtime helper returns it.
    #[inline]
    pub fn thread_pointer(&self) -> u64 {
        self.thread_pointer
    }

    /// Sets the thread pointer: a scheduler switching threads sets the
    /// incoming thread's (see [`crate::tls::TlsTemplate::thread_pointer`]).
    pub fn set_thread_pointer(&mut self, tp: u64) {
        self.thread_pointer = tp;
    }

    /// Bounds the bytes of all regions plus the write log (default: no bound).
    pub fn set_limit(&mut self, bytes: usize) {
        self.limit = bytes;
    }

    /// The bound set with [`Memory::set_limit`].
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held: every region plus the pages saved in the write log.
    pub fn used(&self) -> usize {
        self.regions.iter().map(|r| r.bytes.len()).sum::<usize>() + self.journal.bytes()
    }

    /// The error for growth past the limit.
    fn over_limit(&self, addr: u64, len: usize) -> MemError {
        MemError {
            addr,
            len,
            access: Access::Write,
            reason: MemReason::Limit(self.limit),
        }
    }

    /// Current size in bytes of a region.
    pub fn region_len(&self, kind: RegionKind) -> usize {
        self.regions[kind as usize].bytes.len()
    }

    /// Appends `size` zero bytes aligned to `align` (a power of two) to a
    /// region and returns the virtual address of the first one.
    pub fn alloc(&mut self, kind: RegionKind, size: usize, align: usize) -> Result<u64, MemError> {
        let region = &mut self.regions[kind as usize];
        let align = align.max(1);
        let start = region.bytes.len().next_multiple_of(align);
        let end = start.checked_add(size).filter(|e| *e <= MAX_REGION_SIZE);
        let Some(end) = end else {
            return Err(MemError {
                addr: kind.base() + start as u64,
                len: size,
                access: Access::Write,
                reason: MemReason::TooLarge,
            });
        };
        let growth = end - region.bytes.len();
        if self.used().saturating_add(growth) > self.limit {
            return Err(self.over_limit(kind.base() + start as u64, size));
        }
        let epoch = self.epoch;
        self.regions[kind as usize].resize(end, epoch);
        Ok(kind.base() + start as u64)
    }

    /// Records the current end of every region.
    pub fn mark(&self) -> MemoryMark {
        let mut lens = [0; SLOTS];
        for (l, r) in lens.iter_mut().zip(&self.regions) {
            *l = r.bytes.len();
        }
        MemoryMark { lens }
    }

    /// Shrinks every region (except the stack) back to a mark taken earlier.
    pub fn release_to(&mut self, mark: MemoryMark) {
        for (idx, (len, kind)) in mark.lens.into_iter().zip(SLOT_KINDS).enumerate() {
            if kind != RegionKind::Stack {
                self.shrink(idx, len);
            }
        }
    }

    /// Shrinks one region to `len` bytes (undo of the most recent allocations).
    /// Does nothing if the region is already that short.
    pub fn truncate(&mut self, kind: RegionKind, len: usize) {
        self.shrink(kind as usize, len);
    }

    /// Shrinks region `idx` to `len` bytes; the bytes dropped count as
    /// written (an open epoch saves the pages that held them).
    fn shrink(&mut self, idx: usize, len: usize) {
        let old = self.regions[idx].bytes.len();
        if len >= old {
            return;
        }
        // Saving can only fail at the memory limit; the pages are then
        // dropped without a copy and rolling back cannot bring them back
        // (shrinking is the linker's own undo, which runs inside the epoch
        // that made the bytes, so nothing is lost in practice).
        let _ = self.barrier(idx, len, old - len);
        let epoch = self.epoch;
        self.regions[idx].bytes.truncate(len);
        self.regions[idx].resize(len, epoch);
    }

    /// Sets the stack region's size; existing contents are kept.
    pub fn set_stack_size(&mut self, size: usize) {
        let r = &mut self.regions[RegionKind::Stack as usize];
        r.resize(size, UNTRACKED);
        r.read_lo = 0;
        r.write_lo = 0;
    }

    /// The write barrier: before `len` bytes at offset `off` of region
    /// `idx` change (bounds already checked), saves every page among them
    /// whose epoch entry is below the open epoch. The one place every store
    /// path goes through; the check itself is inline, the saving is not.
    #[inline(always)]
    fn barrier(&mut self, idx: usize, off: usize, len: usize) -> Result<(), MemError> {
        let pages = &self.regions[idx].pages;
        let first = off >> PAGE_SHIFT;
        let stale = |p: usize| pages.get(p).is_some_and(|&e| e < self.epoch);
        let needs_save = if len <= PAGE_SIZE {
            stale(first) || stale((off + len.max(1) - 1) >> PAGE_SHIFT)
        } else {
            (first..=(off + len - 1) >> PAGE_SHIFT).any(stale)
        };
        if needs_save {
            self.save_pages(idx, off, len)?;
        }
        Ok(())
    }

    /// Sets the lowest accessible stack offset (the bottom of the innermost
    /// live frame); past the stack's end, nothing is accessible.
    #[inline]
    pub fn set_stack_low(&mut self, lo: usize) {
        let r = &mut self.regions[RegionKind::Stack as usize];
        // The stack is always readable and writable: both bounds move.
        let lo = lo.min(r.bytes.len());
        r.read_lo = lo;
        r.write_lo = lo;
    }

    /// The region table for native code (see [`RawRegion`]). The host
    /// pointers stay valid until a region grows or shrinks (any allocation,
    /// e.g. by a helper) or the memory is dropped; take a new table then.
    pub fn raw_regions(&mut self) -> [RawRegion; SLOTS] {
        std::array::from_fn(|i| {
            let r = &mut self.regions[i];
            // Regions are readable wherever they are writable, from the same offset.
            debug_assert!(!r.is_writable() || r.write_lo == r.read_lo);
            let len = r.bytes.len() as u64;
            RawRegion {
                ptr: r.bytes.as_mut_ptr(),
                lo: if r.is_data() {
                    r.read_lo as u64
                } else {
                    u64::MAX
                },
                len,
                wlen: if r.is_writable() { len } else { 0 },
            }
        })
    }

    /// Explains why `addr..addr+len` is not accessible.
    #[cold]
    #[inline(never)]
    fn refuse(&self, addr: u64, len: usize, access: Access) -> MemError {
        let idx = (addr >> REGION_SHIFT) as usize;
        let reason = match (self.regions.get(idx), SLOT_KINDS.get(idx)) {
            (Some(r), Some(&kind)) if idx != 0 => {
                if !r.is_data() {
                    MemReason::NotData
                } else if access == Access::Write && !r.is_writable() {
                    MemReason::ReadOnly(kind)
                } else {
                    MemReason::OutOfBounds(kind)
                }
            }
            _ => MemReason::Unmapped,
        };
        MemError {
            addr,
            len,
            access,
            reason,
        }
    }

    /// Translates a readable range to host bytes.
    #[inline]
    pub fn slice(&self, addr: u64, len: usize) -> Result<&[u8], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        if let Some(r) = self.regions.get((addr >> REGION_SHIFT) as usize) {
            if off >= r.read_lo {
                if let Some(s) = off.checked_add(len).and_then(|end| r.bytes.get(off..end)) {
                    if r.checked {
                        self.check_shadow(addr, len, Access::Read)?;
                    }
                    return Ok(s);
                }
            }
        }
        Err(self.refuse(addr, len, Access::Read))
    }

    /// [`Memory::slice`] without the memcheck shadow (for the allocator's
    /// own red zones and for tools that inspect memory).
    pub fn slice_unshadowed(&self, addr: u64, len: usize) -> Result<&[u8], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        if let Some(r) = self.regions.get((addr >> REGION_SHIFT) as usize) {
            if off >= r.read_lo {
                if let Some(s) = off.checked_add(len).and_then(|end| r.bytes.get(off..end)) {
                    return Ok(s);
                }
            }
        }
        Err(self.refuse(addr, len, Access::Read))
    }

    /// Translates a writable range to host bytes.
    #[inline]
    pub fn slice_mut(&mut self, addr: u64, len: usize) -> Result<&mut [u8], MemError> {
        if self
            .regions
            .get((addr >> REGION_SHIFT) as usize)
            .is_some_and(|r| r.checked)
        {
            self.check_shadow(addr, len, Access::Write)?;
        }
        self.slice_mut_unshadowed(addr, len)
    }

    /// [`Memory::slice_mut`] without the memcheck shadow (for the
    /// allocator's own red zones).
    pub fn slice_mut_unshadowed(&mut self, addr: u64, len: usize) -> Result<&mut [u8], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let idx = (addr >> REGION_SHIFT) as usize;
        let ok = match self.regions.get(idx) {
            Some(r) => {
                off >= r.write_lo && off.checked_add(len).is_some_and(|e| e <= r.bytes.len())
            }
            None => false,
        };
        if !ok {
            return Err(self.refuse(addr, len, Access::Write));
        }
        self.barrier(idx, off, len)
            .map_err(|e| MemError { addr, ..e })?;
        Ok(&mut self.regions[idx].bytes[off..off + len])
    }

    /// Writes bytes regardless of the region's write permission (for the
    /// loader: initial contents of read-only data). Bounds are still checked.
    pub fn write_initial(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let idx = (addr >> REGION_SHIFT) as usize;
        let fits = self.regions.get(idx).is_some_and(|r| {
            r.is_data()
                && off
                    .checked_add(data.len())
                    .is_some_and(|end| end <= r.bytes.len())
        });
        if !fits {
            return Err(self.refuse(addr, data.len(), Access::Write));
        }
        self.barrier(idx, off, data.len())
            .map_err(|e| MemError { addr, ..e })?;
        self.regions[idx].bytes[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }

    /// Loads a little-endian unsigned value of `size` bytes (1, 2, 4 or 8).
    /// Any other size is refused with [`MemReason::TooLarge`].
    #[inline]
    pub fn load(&self, addr: u64, size: usize) -> Result<u64, MemError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(bad_size(addr, size, Access::Read));
        }
        let s = self.slice(addr, size)?;
        Ok(match *s {
            [a] => a as u64,
            [a, b] => u16::from_le_bytes([a, b]) as u64,
            [a, b, c, d] => u32::from_le_bytes([a, b, c, d]) as u64,
            [a, b, c, d, e, f, g, h] => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            _ => return Err(bad_size(addr, size, Access::Read)),
        })
    }

    /// Stores the low `size` bytes (1, 2, 4 or 8) of `value`, little-endian.
    /// Any other size is refused with [`MemReason::TooLarge`].
    #[inline]
    pub fn store(&mut self, addr: u64, size: usize, value: u64) -> Result<(), MemError> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(bad_size(addr, size, Access::Write));
        }
        let d = self.slice_mut(addr, size)?;
        d.copy_from_slice(&value.to_le_bytes()[..size]);
        Ok(())
    }

    /// Reads the `N` bytes at `addr`: the interpreter's fixed-size loads.
    #[inline(always)]
    pub(crate) fn read_array<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        if let Some(r) = self.regions.get((addr >> REGION_SHIFT) as usize) {
            if off >= r.read_lo {
                // (A wrapped end makes an empty range: `get` refuses it.)
                let bytes = r.bytes.get(off..off.wrapping_add(N));
                if let Some(b) = bytes.and_then(|b| b.first_chunk::<N>()) {
                    if r.checked && !shadow::clear(&r.shadow, off, N) {
                        self.check_shadow(addr, N, Access::Read)?;
                    }
                    return Ok(*b);
                }
            }
        }
        Err(self.refuse(addr, N, Access::Read))
    }

    /// Reads the `N` bytes at `addr` for a load a verifier proved in
    /// bounds: the live-frame and permission bound is not compared, the
    /// region's length still is, and anything unexpected takes the fully
    /// checked path: a wrong proof can change what BPF code sees (a stale
    /// frame below the live stack), never reach past VM memory.
    #[inline(always)]
    pub(crate) fn read_proven<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        if let Some(r) = self.regions.get((addr >> REGION_SHIFT) as usize) {
            // (A wrapped end makes an empty range: `get` refuses it.)
            let bytes = r.bytes.get(off..off.wrapping_add(N));
            if let Some(b) = bytes.and_then(|b| b.first_chunk::<N>()) {
                // A proof of bounds is no proof against use after free.
                if r.checked && !shadow::clear(&r.shadow, off, N) {
                    self.check_shadow(addr, N, Access::Read)?;
                }
                return Ok(*b);
            }
        }
        self.read_unexpected(addr)
    }

    /// [`Memory::load`] for a load a verifier proved in bounds: what the
    /// interpreter's proven loads do (see `read_proven`), for engines'
    /// slow paths.
    pub fn load_proven(&self, addr: u64, size: usize) -> Result<u64, MemError> {
        Ok(match size {
            1 => u8::from_le_bytes(self.read_proven(addr)?) as u64,
            2 => u16::from_le_bytes(self.read_proven(addr)?) as u64,
            4 => u32::from_le_bytes(self.read_proven(addr)?) as u64,
            8 => u64::from_le_bytes(self.read_proven(addr)?),
            _ => return Err(bad_size(addr, size, Access::Read)),
        })
    }

    /// The checked path of a proven load that did not go as proven.
    #[cold]
    #[inline(never)]
    fn read_unexpected<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemError> {
        self.read_array(addr)
    }

    /// Writes `N` bytes at `addr`: the interpreter's fixed-size stores.
    #[inline(always)]
    pub(crate) fn write_array<const N: usize>(
        &mut self,
        addr: u64,
        value: [u8; N],
    ) -> Result<(), MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let idx = (addr >> REGION_SHIFT) as usize;
        if let Some(r) = self.regions.get(idx) {
            // (A wrapped end makes the compare fail.)
            if off >= r.write_lo
                && off.wrapping_add(N) <= r.bytes.len()
                && off < off.wrapping_add(N)
            {
                if r.checked && !shadow::clear(&r.shadow, off, N) {
                    self.check_shadow(addr, N, Access::Write)?;
                }
                self.barrier(idx, off, N)
                    .map_err(|e| MemError { addr, ..e })?;
                if let Some(b) = self.regions[idx].bytes[off..].first_chunk_mut::<N>() {
                    *b = value;
                    return Ok(());
                }
            }
        }
        Err(self.refuse(addr, N, Access::Write))
    }

    /// Reads `len` bytes into a new vector.
    pub fn read_bytes(&self, addr: u64, len: usize) -> Result<Vec<u8>, MemError> {
        self.slice(addr, len).map(|s| s.to_vec())
    }

    /// Writes bytes into writable memory.
    pub fn write_bytes(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        self.slice_mut(addr, data.len())?.copy_from_slice(data);
        Ok(())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    /// A string that runs past the end of its region, or is longer than
    /// `max`, is an error naming the first byte that could not be read.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<&[u8], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let r = self
            .regions
            .get((addr >> REGION_SHIFT) as usize)
            .filter(|r| off >= r.read_lo && off < r.bytes.len() && addr >> REGION_SHIFT != 0)
            .ok_or_else(|| self.refuse(addr, 1, Access::Read))?;
        let tail = &r.bytes[off..];
        let limit = tail.len().min(max.saturating_add(1));
        match tail[..limit].iter().position(|b| *b == 0) {
            Some(n) => {
                if r.checked {
                    self.check_shadow(addr, n + 1, Access::Read)?;
                }
                Ok(&tail[..n])
            }
            None if limit == tail.len() => {
                Err(self.refuse(addr + tail.len() as u64, 1, Access::Read))
            }
            None => Err(MemError {
                addr,
                len: max,
                access: Access::Read,
                reason: MemReason::TooLarge,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
