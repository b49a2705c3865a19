//! The allocator behind `malloc`, `calloc`, `realloc` and `free`.
//!
//! Blocks live in the VM's heap region and are handed out from size
//! classes; all bookkeeping is on the host side, so the program cannot
//! corrupt it and every pointer given to `free`/`realloc` is checked
//! exactly: a block start that is live is freed, anything else (a second
//! free, a pointer into a block, a pointer to another region) is a fault
//! that says which. Each block is followed by a 16-byte red zone; the
//! bytes from the requested size to the end of the red zone hold a canary
//! pattern that is checked when the block is freed or resized, so a write
//! past the end of a block is reported there.
//!
//! Addresses are deterministic: a free block of the right class is reused
//! lowest address first, otherwise the region grows by appending.
//!
//! **Memcheck** (when the VM memory has it on, [`Memory::memcheck`]): a
//! block's requested bytes are unpoisoned in the shadow and everything
//! after them up to the end of its red zone poisoned, so the VM refuses a
//! load or store past the end at the instruction; a freed block is
//! poisoned whole and waits in a quarantine (`quarantine` bytes, oldest
//! first) before it can be reused, so a use after free is caught too. Each
//! block remembers the BPF call stack of the `malloc` that made it and of
//! the `free` that released it ([`Memory::helper_stack`]), for reports.

use bpf_vm::memory::Poison;
use bpf_vm::{HelperError, MemError, Memory, RegionKind};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

/// Alignment of every block (as glibc's malloc on 64-bit hosts).
pub const ALIGN: usize = 16;
/// Bytes after each block's capacity that belong to no block.
pub const RED_ZONE: usize = 16;
/// The byte pattern of unused block tails and red zones.
pub const CANARY: u8 = 0xfd;
/// Default cap on the heap region's size (1 GiB).
pub const DEFAULT_HEAP_LIMIT: usize = 1 << 30;
/// Default bytes of freed blocks held back from reuse under memcheck.
pub const DEFAULT_QUARANTINE: usize = 16 << 20;

/// A BPF call stack: the `call` slot, then its callers' call sites.
pub type CallStack = Rc<[usize]>;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// Bytes the program asked for.
    size: usize,
    /// Bytes reserved for it (its size class).
    cap: usize,
    /// Where it was allocated (empty without memcheck).
    allocated_at: CallStack,
}

/// A freed block: its capacity and where it was allocated and freed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Freed {
    size: usize,
    cap: usize,
    allocated_at: CallStack,
    freed_at: CallStack,
}

/// What the heap knows about the block an address is in or after (for
/// memcheck reports, as AddressSanitizer gives them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// First byte of the block.
    pub start: u64,
    /// Bytes requested.
    pub size: usize,
    /// The stack of the `malloc`/`calloc`/`realloc` that made it.
    pub allocated_at: CallStack,
    /// The stack of the `free` (or `realloc`) that released it, if freed.
    pub freed_at: Option<CallStack>,
}

/// Live-block counts, for leak reports and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeapStats {
    /// Blocks allocated and not yet freed.
    pub live_blocks: usize,
    /// Bytes requested by those blocks.
    pub live_bytes: usize,
    /// Current size of the heap region, red zones and free blocks included.
    pub region_bytes: usize,
}

/// Where an address lies with respect to the heap's blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeapPlace {
    /// Not in the heap region.
    Outside,
    /// Inside (or in the tail or red zone of) a live block of `size`
    /// requested bytes starting at `start`.
    Live { start: u64, size: usize },
    /// Inside a block that was freed.
    Freed { start: u64 },
    /// In the heap region but in no block (never allocated).
    Unallocated,
}

/// Host-side allocator state. Cloning it is the snapshot.
#[derive(Debug, Clone)]
pub(crate) struct Heap {
    live: BTreeMap<u64, Block>,
    /// Freed blocks by address (in quarantine or reusable).
    free: BTreeMap<u64, Freed>,
    /// The reusable freed blocks ordered by (capacity, address).
    free_by_class: BTreeSet<(usize, u64)>,
    /// Freed blocks not yet reusable, oldest first, and their bytes.
    quarantine: VecDeque<u64>,
    quarantined: usize,
    /// Most bytes the quarantine holds (under memcheck only).
    quarantine_limit: usize,
    limit: usize,
    /// The address of the last helper fault about a heap block (a double
    /// free, a range past a block), for the report's block details.
    blamed: Cell<Option<u64>>,
}

/// The size class of a request: multiples of 16 up to 1 KiB, then eight
/// steps per power of two.
fn size_class(n: usize) -> Option<usize> {
    let n = n.max(1);
    let step = if n <= 1024 {
        ALIGN
    } else {
        (n.checked_next_power_of_two()? / 8).max(ALIGN)
    };
    n.checked_next_multiple_of(step)
}

impl Heap {
    pub(crate) fn new(limit: usize) -> Heap {
        Heap {
            live: BTreeMap::new(),
            free: BTreeMap::new(),
            free_by_class: BTreeSet::new(),
            quarantine: VecDeque::new(),
            quarantined: 0,
            quarantine_limit: DEFAULT_QUARANTINE,
            limit,
            blamed: Cell::new(None),
        }
    }

    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub(crate) fn set_quarantine(&mut self, bytes: usize) {
        self.quarantine_limit = bytes;
    }

    pub(crate) fn stats(&self, mem: &Memory) -> HeapStats {
        HeapStats {
            live_blocks: self.live.len(),
            live_bytes: self.live.values().map(|b| b.size).sum(),
            region_bytes: mem.region_len(RegionKind::Heap),
        }
    }

    /// `malloc(size)`: a block address, or 0 when the heap limit is reached.
    pub(crate) fn malloc(&mut self, mem: &mut Memory, size: usize) -> Result<u64, HelperError> {
        let Some(cap) = size_class(size).filter(|c| *c <= self.limit) else {
            return Ok(0);
        };
        let reuse = self
            .free_by_class
            .range((cap, 0)..=(cap, u64::MAX))
            .next()
            .copied();
        let addr = match reuse {
            Some(key) => {
                self.free_by_class.remove(&key);
                self.free.remove(&key.1);
                key.1
            }
            None => {
                let total = cap + RED_ZONE;
                let used = mem.region_len(RegionKind::Heap);
                if used.next_multiple_of(ALIGN).saturating_add(total) > self.limit {
                    return Ok(0);
                }
                match mem.alloc(RegionKind::Heap, total, ALIGN) {
                    Ok(a) => a,
                    Err(_) => return Ok(0),
                }
            }
        };
        fill_canary(mem, addr, size, cap)?;
        mark_block(mem, addr, size, cap)?;
        let allocated_at = mem.helper_stack().into();
        self.live.insert(
            addr,
            Block {
                size,
                cap,
                allocated_at,
            },
        );
        Ok(addr)
    }

    /// `calloc(n, size)`: a zeroed block, or 0 on overflow or exhaustion.
    pub(crate) fn calloc(
        &mut self,
        mem: &mut Memory,
        n: usize,
        size: usize,
    ) -> Result<u64, HelperError> {
        let Some(total) = n.checked_mul(size) else {
            return Ok(0);
        };
        let addr = self.malloc(mem, total)?;
        if addr != 0 {
            mem.slice_mut(addr, total)?.fill(0);
        }
        Ok(addr)
    }

    /// `free(ptr)`.
    pub(crate) fn free(&mut self, mem: &mut Memory, ptr: u64) -> Result<(), HelperError> {
        if ptr == 0 {
            return Ok(());
        }
        let block = self.live_block("free", mem, ptr)?;
        self.live.remove(&ptr);
        fill_canary(mem, ptr, 0, block.cap)?;
        mem.poison(ptr, block.cap + RED_ZONE, Poison::HeapFreed)?;
        let freed = Freed {
            size: block.size,
            cap: block.cap,
            allocated_at: block.allocated_at,
            freed_at: mem.helper_stack().into(),
        };
        self.free.insert(ptr, freed);
        // Under memcheck a freed block waits before reuse, so a use after
        // free finds it still poisoned.
        let limit = if mem.memcheck() {
            self.quarantine_limit
        } else {
            0
        };
        self.quarantine.push_back(ptr);
        self.quarantined += block.cap;
        while self.quarantined > limit {
            let Some(old) = self.quarantine.pop_front() else {
                break;
            };
            let cap = self.free[&old].cap;
            self.quarantined -= cap;
            self.free_by_class.insert((cap, old));
        }
        Ok(())
    }

    /// `realloc(ptr, size)`, as glibc: `realloc(NULL, n)` is `malloc(n)`,
    /// `realloc(p, 0)` frees `p` and returns NULL, and on exhaustion the
    /// old block stays valid and NULL is returned.
    pub(crate) fn realloc(
        &mut self,
        mem: &mut Memory,
        ptr: u64,
        size: usize,
    ) -> Result<u64, HelperError> {
        if ptr == 0 {
            return self.malloc(mem, size);
        }
        let block = self.live_block("realloc", mem, ptr)?;
        if size == 0 {
            self.free(mem, ptr)?;
            return Ok(0);
        }
        if size <= block.cap {
            fill_canary(mem, ptr, size, block.cap)?;
            mark_block(mem, ptr, size, block.cap)?;
            let allocated_at = mem.helper_stack().into();
            self.live.insert(
                ptr,
                Block {
                    size,
                    cap: block.cap,
                    allocated_at,
                },
            );
            return Ok(ptr);
        }
        let new = self.malloc(mem, size)?;
        if new == 0 {
            return Ok(0);
        }
        let old = mem.read_bytes(ptr, block.size)?;
        mem.write_bytes(new, &old)?;
        self.free(mem, ptr)?;
        Ok(new)
    }

    /// The block `addr` lies in, live or freed (red zones included).
    pub(crate) fn place(&self, addr: u64) -> HeapPlace {
        if RegionKind::of(addr) != Some(RegionKind::Heap) {
            return HeapPlace::Outside;
        }
        if let Some((&start, b)) = self.live.range(..=addr).next_back() {
            if addr < start + (b.cap + RED_ZONE) as u64 {
                return HeapPlace::Live {
                    start,
                    size: b.size,
                };
            }
        }
        if let Some((&start, f)) = self.free.range(..=addr).next_back() {
            if addr < start + (f.cap + RED_ZONE) as u64 {
                return HeapPlace::Freed { start };
            }
        }
        HeapPlace::Unallocated
    }

    /// The block `addr` is in, or in the tail or red zone of, live or
    /// freed, with the stacks that made and released it.
    pub(crate) fn take_blamed(&self) -> Option<BlockInfo> {
        self.blamed.take().and_then(|a| self.block_info(a))
    }

    pub(crate) fn block_info(&self, addr: u64) -> Option<BlockInfo> {
        match self.place(addr) {
            HeapPlace::Live { start, size } => Some(BlockInfo {
                start,
                size,
                allocated_at: self.live[&start].allocated_at.clone(),
                freed_at: None,
            }),
            HeapPlace::Freed { start } => {
                let f = &self.free[&start];
                Some(BlockInfo {
                    start,
                    size: f.size,
                    allocated_at: f.allocated_at.clone(),
                    freed_at: Some(f.freed_at.clone()),
                })
            }
            HeapPlace::Outside | HeapPlace::Unallocated => None,
        }
    }

    /// Requested size of the live block starting at `ptr`, if there is one.
    pub(crate) fn block_size(&self, ptr: u64) -> Option<usize> {
        self.live.get(&ptr).map(|b| b.size)
    }

    /// Checks that `len` bytes at `addr` stay inside one live block when
    /// `addr` points into the heap: a range that runs past the block's
    /// requested size, or that starts in a freed block, is a fault naming
    /// the block. Other addresses are left to the VM's region checks.
    pub(crate) fn check_range(&self, func: &str, addr: u64, len: usize) -> Result<(), HelperError> {
        if RegionKind::of(addr) != Some(RegionKind::Heap) {
            return Ok(());
        }
        let end = addr.saturating_add(len as u64);
        if let Some((start, b)) = self.live.range(..=addr).next_back() {
            if addr < start + (b.cap + RED_ZONE) as u64 {
                let block_end = start + b.size as u64;
                if end <= block_end {
                    return Ok(());
                }
                self.blamed.set(Some(addr));
                return Err(HelperError::Fault(format!(
                    "{func}: the {len}-byte range at {addr:#x} runs {} bytes past the end of the \
                     {}-byte heap block at {start:#x}",
                    end - block_end,
                    b.size
                )));
            }
        }
        if let Some((start, f)) = self.free.range(..=addr).next_back() {
            if addr < start + (f.cap + RED_ZONE) as u64 {
                self.blamed.set(Some(addr));
                return Err(HelperError::Fault(format!(
                    "{func}: {addr:#x} points into the heap block at {start:#x}, which was freed \
                     (use after free)"
                )));
            }
        }
        Ok(())
    }

    /// The live block starting at `ptr` with its red zone intact, or a fault
    /// that says what `ptr` is instead.
    fn live_block(&self, func: &str, mem: &Memory, ptr: u64) -> Result<Block, HelperError> {
        if let Some(b) = self.live.get(&ptr) {
            check_canary(func, mem, ptr, b)?;
            return Ok(b.clone());
        }
        self.blamed.set(Some(ptr));
        let what = if self.free.contains_key(&ptr) {
            "double free: the block was already freed".to_string()
        } else if let Some((start, b)) = self.live.range(..ptr).next_back() {
            if ptr < start + (b.cap + RED_ZONE) as u64 {
                format!(
                    "the pointer is {} bytes into the {}-byte block at {start:#x}, not at its start",
                    ptr - start,
                    b.size
                )
            } else {
                self.foreign(ptr)
            }
        } else {
            self.foreign(ptr)
        };
        Err(HelperError::Fault(format!("{func}({ptr:#x}): {what}")))
    }

    fn foreign(&self, ptr: u64) -> String {
        if let Some((start, _)) = self.free.range(..=ptr).next_back() {
            if RegionKind::of(ptr) == Some(RegionKind::Heap) && ptr > *start {
                return format!("the pointer is inside the freed block at {start:#x}");
            }
        }
        match RegionKind::of(ptr) {
            Some(k) => format!(
                "not a pointer returned by malloc (it points into the {} region)",
                k.name()
            ),
            None => "not a pointer returned by malloc (it points to no memory at all)".to_string(),
        }
    }
}

/// Writes the canary over `[addr + size, addr + cap + RED_ZONE)`.
fn fill_canary(mem: &mut Memory, addr: u64, size: usize, cap: usize) -> Result<(), MemError> {
    mem.slice_mut_unshadowed(addr + size as u64, cap + RED_ZONE - size)?
        .fill(CANARY);
    Ok(())
}

/// Memcheck's view of a live block: its `size` bytes accessible, the rest
/// up to the end of its red zone not.
fn mark_block(mem: &mut Memory, addr: u64, size: usize, cap: usize) -> Result<(), MemError> {
    mem.unpoison(addr, size)?;
    mem.poison(
        addr + size as u64,
        cap + RED_ZONE - size,
        Poison::HeapRedZone,
    )
}

/// Faults if any byte after the block's requested size was overwritten.
fn check_canary(func: &str, mem: &Memory, addr: u64, b: &Block) -> Result<(), HelperError> {
    let tail = mem.slice_unshadowed(addr + b.size as u64, b.cap + RED_ZONE - b.size)?;
    match tail.iter().position(|x| *x != CANARY) {
        None => Ok(()),
        Some(at) => Err(HelperError::Fault(format!(
            "{func}({addr:#x}): heap buffer overflow: byte {} of the {}-byte block (at {:#x}) \
             was written past its end",
            b.size + at,
            b.size,
            addr + (b.size + at) as u64
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_cover_the_request() {
        assert_eq!(size_class(0), Some(16));
        assert_eq!(size_class(1), Some(16));
        assert_eq!(size_class(17), Some(32));
        assert_eq!(size_class(1024), Some(1024));
        assert_eq!(size_class(1025), Some(1280));
        assert_eq!(size_class(4096), Some(4096));
        assert_eq!(size_class(usize::MAX), None);
        for n in (0..100_000).step_by(7) {
            let n = n.max(1);
            let c = size_class(n).unwrap();
            assert!(
                c >= n && c.is_multiple_of(ALIGN) && c - n < ALIGN.max(n / 4),
                "{n} -> {c}"
            );
        }
    }
}
