//! Memcheck's shadow: which bytes of the heap and of global data may be
//! accessed, as AddressSanitizer keeps it.
//!
//! A checked region ([`Memory::enable_memcheck`]: heap, data, rodata) has
//! one shadow byte per [`GRANULE`] (8) bytes: 0 when the whole granule is
//! accessible, `k` in 1..=7 when only its first `k` bytes are (the end of
//! a block or global), or a [`Poison`] code saying why none is. Objects
//! start on granule boundaries (heap blocks are 16-aligned, the linker
//! aligns globals under memcheck), so this encoding is exact.
//!
//! Every checked accessor of [`Memory`] consults it: the interpreter's
//! loads and stores compare the shadow of the first and last granule an
//! access touches with zero inline (one more load and branch for heap and
//! global accesses only; other regions are not `checked`), anything else
//! is decided here. The allocator and the linker change it with
//! [`Memory::poison`] and [`Memory::unpoison`]; both go through the write
//! barrier, and a saved page carries its shadow, so undo restores it.

use super::{
    Access, MemError, MemReason, Memory, RegionKind, MAX_HELPER_STACK, OFFSET_MASK, REGION_SHIFT,
};
use std::fmt;

/// Bytes per shadow byte: log2.
pub const GRANULE_SHIFT: u32 = 3;
/// Bytes per shadow byte.
pub const GRANULE: usize = 1 << GRANULE_SHIFT;

/// Why bytes may not be accessed (the shadow codes are ASan's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Poison {
    /// Past the requested size of a heap block, or in its red zone.
    HeapRedZone,
    /// Inside a heap block that was freed (in quarantine).
    HeapFreed,
    /// Heap memory that belongs to no block.
    HeapUnallocated,
    /// Past the end of a global variable, in the red zone after it.
    GlobalRedZone,
}

impl Poison {
    /// The shadow byte of a granule poisoned for this reason.
    pub const fn code(self) -> u8 {
        match self {
            Poison::HeapRedZone => 0xfa,
            Poison::HeapFreed => 0xfd,
            Poison::HeapUnallocated => 0xfe,
            Poison::GlobalRedZone => 0xf9,
        }
    }

    fn from_code(code: u8, region: RegionKind) -> Poison {
        match code {
            0xfd => Poison::HeapFreed,
            0xfe => Poison::HeapUnallocated,
            0xf9 => Poison::GlobalRedZone,
            0xfa => Poison::HeapRedZone,
            // The tail of a partly accessible granule: past an object's end.
            _ if region == RegionKind::Heap => Poison::HeapRedZone,
            _ => Poison::GlobalRedZone,
        }
    }

    /// AddressSanitizer's name for the error (`heap-buffer-overflow`...).
    pub fn asan_name(self) -> &'static str {
        match self {
            Poison::HeapRedZone => "heap-buffer-overflow",
            Poison::HeapFreed => "heap-use-after-free",
            Poison::HeapUnallocated => "wild-heap-access",
            Poison::GlobalRedZone => "global-buffer-overflow",
        }
    }

    pub(super) fn describe(self, f: &mut fmt::Formatter<'_>, at: u64) -> fmt::Result {
        match self {
            Poison::HeapRedZone => write!(
                f,
                "heap buffer overflow: byte {at:#x} is past the end of a heap block"
            ),
            Poison::HeapFreed => write!(
                f,
                "use after free: byte {at:#x} is inside a heap block that was freed"
            ),
            Poison::HeapUnallocated => write!(
                f,
                "byte {at:#x} is heap memory that belongs to no allocated block"
            ),
            Poison::GlobalRedZone => write!(
                f,
                "global buffer overflow: byte {at:#x} is past the end of a global variable"
            ),
        }
    }
}

/// True when the shadow says `n` bytes (1..=8) at offset `off` are surely
/// accessible: the granules of the first and the last byte are whole.
/// (False may still be fine: [`Memory::check_shadow`] decides.)
#[inline(always)]
pub(super) fn clear(shadow: &[u8], off: usize, n: usize) -> bool {
    let first = shadow.get(off >> GRANULE_SHIFT).copied().unwrap_or(0);
    let last = shadow
        .get((off + n - 1) >> GRANULE_SHIFT)
        .copied()
        .unwrap_or(0);
    first | last == 0
}

/// Whether byte `off` is accessible by its granule's shadow.
fn byte_ok(shadow: &[u8], off: usize) -> bool {
    match shadow.get(off >> GRANULE_SHIFT).copied().unwrap_or(0) {
        0 => true,
        k @ 1..=7 => (off % GRANULE) < k as usize,
        _ => false,
    }
}

impl Memory {
    /// The BPF call stack of the helper call running now, recorded by the
    /// engines under memcheck: the slot of the `call`, then the call sites
    /// of its callers, innermost first, at most [`MAX_HELPER_STACK`]
    /// slots. Empty when memcheck is off. (The allocator keeps it as the
    /// place a block was allocated or freed.)
    pub fn helper_stack(&self) -> &[usize] {
        &self.helper_stack
    }

    /// Records the stack [`Memory::helper_stack`] reports: `pc`, then
    /// `callers` (innermost first), then the outer sites an engine set.
    pub fn set_helper_stack(&mut self, pc: usize, callers: impl Iterator<Item = usize>) {
        self.helper_stack.clear();
        self.helper_stack.push(pc);
        let outer = self.outer_sites.iter().copied();
        self.helper_stack
            .extend(callers.chain(outer).take(MAX_HELPER_STACK - 1));
    }

    /// Sets the call sites of the frames below the ones an interpreted
    /// stretch knows (an engine interpreting one function on top of its
    /// own frames), innermost first; cleared with an empty list.
    pub fn set_outer_sites(&mut self, sites: impl Iterator<Item = usize>) {
        self.outer_sites.clear();
        self.outer_sites.extend(sites.take(MAX_HELPER_STACK));
    }

    /// Turns memcheck on: heap, data and rodata get a shadow (existing
    /// data bytes are accessible, existing heap bytes belong to no block;
    /// set it before anything is allocated). Every checked access then
    /// consults it.
    pub fn enable_memcheck(&mut self) {
        for kind in [RegionKind::Heap, RegionKind::Data, RegionKind::Rodata] {
            let r = &mut self.regions[kind as usize];
            if r.checked {
                continue;
            }
            r.checked = true;
            r.fresh = if kind == RegionKind::Heap {
                Poison::HeapUnallocated.code()
            } else {
                0
            };
            r.shadow = vec![r.fresh; r.bytes.len().div_ceil(GRANULE)];
        }
    }

    /// Whether memcheck is on ([`Memory::enable_memcheck`]).
    pub fn memcheck(&self) -> bool {
        self.regions[RegionKind::Heap as usize].checked
    }

    /// Whether region `kind` consults a shadow.
    pub fn is_checked(&self, kind: RegionKind) -> bool {
        self.regions[kind as usize].checked
    }

    /// The shadow of a checked region (one byte per [`GRANULE`] bytes from
    /// the region's start), for native code's inline check; empty for
    /// other regions. It moves when the region grows, like the bytes.
    pub fn shadow(&self, kind: RegionKind) -> &[u8] {
        &self.regions[kind as usize].shadow
    }

    /// The error if any of `len` bytes at `addr` is poisoned; Ok for
    /// unchecked regions and for bytes outside the region (the bounds
    /// check reports those).
    #[cold]
    #[inline(never)]
    pub(super) fn check_shadow(
        &self,
        addr: u64,
        len: usize,
        access: Access,
    ) -> Result<(), MemError> {
        let idx = (addr >> REGION_SHIFT) as usize;
        let off = (addr & OFFSET_MASK) as usize;
        let Some(r) = self.regions.get(idx).filter(|r| r.checked) else {
            return Ok(());
        };
        let end = off.saturating_add(len).min(r.bytes.len());
        let mut at = off;
        while at < end {
            let code = r.shadow.get(at >> GRANULE_SHIFT).copied().unwrap_or(0);
            if code == 0 {
                at = (at | (GRANULE - 1)) + 1;
                continue;
            }
            if !byte_ok(&r.shadow, at) {
                let kind = super::SLOT_KINDS[idx];
                return Err(MemError {
                    addr,
                    len,
                    access,
                    reason: MemReason::Poisoned {
                        kind: Poison::from_code(code, kind),
                        at: ((idx as u64) << REGION_SHIFT) + at as u64,
                    },
                });
            }
            at += 1;
        }
        Ok(())
    }

    /// Marks `len` bytes at `addr` inaccessible for `why`. The range must
    /// start where accessible bytes of its granule end (or on a granule
    /// boundary) and end on a granule boundary or at the region's end.
    /// Does nothing in unchecked regions.
    pub fn poison(&mut self, addr: u64, len: usize, why: Poison) -> Result<(), MemError> {
        self.set_shadow(addr, len, Some(why))
    }

    /// Marks `len` bytes at `addr` (a granule boundary) accessible; the
    /// last granule, if partly covered, becomes accessible up to the end.
    pub fn unpoison(&mut self, addr: u64, len: usize) -> Result<(), MemError> {
        self.set_shadow(addr, len, None)
    }

    fn set_shadow(&mut self, addr: u64, len: usize, why: Option<Poison>) -> Result<(), MemError> {
        let idx = (addr >> REGION_SHIFT) as usize;
        let off = (addr & OFFSET_MASK) as usize;
        let inside = self
            .regions
            .get(idx)
            .is_some_and(|r| off.checked_add(len).is_some_and(|e| e <= r.bytes.len()));
        if !inside {
            return Err(self.refuse(addr, len, Access::Write));
        }
        if !self.regions[idx].checked || len == 0 {
            return Ok(());
        }
        // The shadow changes with its page: undo must see it.
        self.barrier(idx, off, len)
            .map_err(|e| MemError { addr, ..e })?;
        let shadow = &mut self.regions[idx].shadow;
        let end = off + len;
        match why {
            Some(p) => {
                let mut g = off >> GRANULE_SHIFT;
                if !off.is_multiple_of(GRANULE) {
                    shadow[g] = (off % GRANULE) as u8;
                    g += 1;
                }
                for s in &mut shadow[g..end.div_ceil(GRANULE)] {
                    *s = p.code();
                }
            }
            None => {
                let whole = end >> GRANULE_SHIFT;
                for s in &mut shadow[off >> GRANULE_SHIFT..whole] {
                    *s = 0;
                }
                if !end.is_multiple_of(GRANULE) {
                    shadow[whole] = (end % GRANULE) as u8;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poisoned(e: MemError) -> (Poison, u64) {
        match e.reason {
            MemReason::Poisoned { kind, at } => (kind, at),
            r => panic!("not poisoned: {r:?}"),
        }
    }

    #[test]
    fn heap_bytes_are_poisoned_until_unpoisoned() {
        let mut m = Memory::new();
        m.enable_memcheck();
        let a = m.alloc(RegionKind::Heap, 48, 16).unwrap();
        assert_eq!(
            poisoned(m.load(a, 4).unwrap_err()).0,
            Poison::HeapUnallocated
        );
        m.unpoison(a, 10).unwrap();
        m.poison(a + 10, 38, Poison::HeapRedZone).unwrap();
        m.store(a + 8, 2, 7).unwrap();
        assert_eq!(m.load(a + 8, 2).unwrap(), 7);
        let e = m.load(a + 8, 4).unwrap_err();
        assert_eq!(poisoned(e), (Poison::HeapRedZone, a + 10));
        let e = m.store(a + 16, 8, 0).unwrap_err();
        assert_eq!(poisoned(e), (Poison::HeapRedZone, a + 16));
        // An unaligned access across two accessible granules is fine.
        m.unpoison(a, 16).unwrap();
        assert!(m.load(a + 4, 8).is_ok());
        m.poison(a, 48, Poison::HeapFreed).unwrap();
        assert_eq!(poisoned(m.load(a, 1).unwrap_err()).0, Poison::HeapFreed);
        // The allocator's own view ignores the shadow.
        assert!(m.slice_unshadowed(a, 48).is_ok());
        assert!(m.read_cstr(a, 10).is_err());
    }

    #[test]
    fn undo_restores_the_shadow() {
        let mut m = Memory::new();
        m.enable_memcheck();
        let a = m.alloc(RegionKind::Heap, 32, 16).unwrap();
        m.unpoison(a, 32).unwrap();
        let cp = m.begin_epoch();
        m.poison(a, 32, Poison::HeapFreed).unwrap();
        let b = m.alloc(RegionKind::Heap, 32, 16).unwrap();
        m.unpoison(b, 32).unwrap();
        assert!(m.load(a, 8).is_err());
        m.rollback(cp);
        assert_eq!(m.load(a, 8).unwrap(), 0);
        assert!(m.load(b, 8).is_err(), "gone with the region's growth");
        let b2 = m.alloc(RegionKind::Heap, 32, 16).unwrap();
        assert_eq!(b2, b);
        assert_eq!(
            poisoned(m.load(b, 8).unwrap_err()).0,
            Poison::HeapUnallocated
        );
    }

    #[test]
    fn unchecked_memory_ignores_poison() {
        let mut m = Memory::new();
        let a = m.alloc(RegionKind::Heap, 16, 16).unwrap();
        m.poison(a, 16, Poison::HeapFreed).unwrap();
        assert!(m.load(a, 8).is_ok());
        assert!(!m.memcheck());
    }
}
