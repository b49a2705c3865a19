//! The VM's address space: fixed, deterministic regions, every access
//! translated and bounds-checked.
//!
//! Region `k` starts at virtual address `k << 32` and grows by appending, so
//! an address never changes once handed out. Addresses below `1 << 32`
//! (including NULL) and everything past a region's current end are unmapped.
//! BPF code can only reach the bytes inside these regions: there is no way
//! from a virtual address to host memory other than through [`Memory`].

use std::fmt;

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

/// Slots in [`Memory`]'s table: the unmapped low addresses and one per region.
const SLOTS: usize = 9;

impl Region {
    fn new(data: bool, writable: bool) -> Region {
        Region {
            bytes: Vec::new(),
            read_lo: if data { 0 } else { NO_ACCESS },
            write_lo: if writable { 0 } else { NO_ACCESS },
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
        Memory {
            regions: [
                Region::new(false, false),
                Region::new(false, false),
                Region::new(true, false),
                Region::new(true, true),
                Region::new(true, true),
                Region::new(true, true),
                Region::new(true, true),
                Region::new(true, true),
                Region::new(true, true),
            ],
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
        region.bytes.resize(end, 0);
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
        for ((r, len), kind) in self.regions.iter_mut().zip(mark.lens).zip(SLOT_KINDS) {
            if kind != RegionKind::Stack && len <= r.bytes.len() {
                r.bytes.truncate(len);
            }
        }
    }

    /// Shrinks one region to `len` bytes (undo of the most recent allocations).
    /// Does nothing if the region is already that short.
    pub fn truncate(&mut self, kind: RegionKind, len: usize) {
        let r = &mut self.regions[kind as usize];
        if len < r.bytes.len() {
            r.bytes.truncate(len);
        }
    }

    /// Sets the stack region's size; existing contents are kept.
    pub fn set_stack_size(&mut self, size: usize) {
        let r = &mut self.regions[RegionKind::Stack as usize];
        r.bytes.resize(size, 0);
        r.read_lo = 0;
        r.write_lo = 0;
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
                    return Ok(s);
                }
            }
        }
        Err(self.refuse(addr, len, Access::Read))
    }

    /// Translates a writable range to host bytes.
    #[inline]
    pub fn slice_mut(&mut self, addr: u64, len: usize) -> Result<&mut [u8], MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let idx = (addr >> REGION_SHIFT) as usize;
        let ok = match self.regions.get(idx) {
            Some(r) => {
                off >= r.write_lo && off.checked_add(len).is_some_and(|e| e <= r.bytes.len())
            }
            None => false,
        };
        if ok {
            Ok(&mut self.regions[idx].bytes[off..off + len])
        } else {
            Err(self.refuse(addr, len, Access::Write))
        }
    }

    /// Writes bytes regardless of the region's write permission (for the
    /// loader: initial contents of read-only data). Bounds are still checked.
    pub fn write_initial(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        let idx = (addr >> REGION_SHIFT) as usize;
        let dst = self
            .regions
            .get_mut(idx)
            .filter(|r| r.is_data())
            .and_then(|r| r.bytes.get_mut(off..off.checked_add(data.len())?));
        match dst {
            Some(dst) => {
                dst.copy_from_slice(data);
                Ok(())
            }
            None => Err(self.refuse(addr, data.len(), Access::Write)),
        }
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
                    return Ok(*b);
                }
            }
        }
        Err(self.refuse(addr, N, Access::Read))
    }

    /// Writes `N` bytes at `addr`: the interpreter's fixed-size stores.
    #[inline(always)]
    pub(crate) fn write_array<const N: usize>(
        &mut self,
        addr: u64,
        value: [u8; N],
    ) -> Result<(), MemError> {
        let off = (addr & OFFSET_MASK) as usize;
        if let Some(r) = self.regions.get_mut((addr >> REGION_SHIFT) as usize) {
            if off >= r.write_lo {
                let bytes = r.bytes.get_mut(off..off.wrapping_add(N));
                if let Some(b) = bytes.and_then(|b| b.first_chunk_mut::<N>()) {
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
            Some(n) => Ok(&tail[..n]),
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
mod tests {
    use super::*;

    #[test]
    fn addresses_are_deterministic_and_stable() {
        let mut m = Memory::new();
        let a = m.alloc(RegionKind::Data, 4, 4).unwrap();
        let b = m.alloc(RegionKind::Data, 8, 8).unwrap();
        assert_eq!(a, 0x3_0000_0000);
        assert_eq!(b, 0x3_0000_0008);
        m.store(a, 4, 0xdead_beef).unwrap();
        // Growing the region keeps old data at the old address.
        m.alloc(RegionKind::Data, 1 << 20, 8).unwrap();
        assert_eq!(m.load(a, 4).unwrap(), 0xdead_beef);
    }

    #[test]
    fn null_and_gaps_fault() {
        let mut m = Memory::new();
        m.alloc(RegionKind::Heap, 16, 8).unwrap();
        let e = m.load(0, 8).unwrap_err();
        assert_eq!(e.reason, MemReason::Unmapped);
        let e = m.load(RegionKind::Heap.base() + 12, 8).unwrap_err();
        assert_eq!(e.reason, MemReason::OutOfBounds(RegionKind::Heap));
        let e = m.load(9 << 32, 1).unwrap_err();
        assert_eq!(e.reason, MemReason::Unmapped);
        let e = m.load(u64::MAX - 2, 8).unwrap_err();
        assert_eq!(e.reason, MemReason::Unmapped);
    }

    #[test]
    fn rodata_is_read_only_but_loader_can_fill_it() {
        let mut m = Memory::new();
        let a = m.alloc(RegionKind::Rodata, 4, 1).unwrap();
        m.write_initial(a, b"abc\0").unwrap();
        assert_eq!(m.read_cstr(a, 100).unwrap(), b"abc");
        let e = m.store(a, 1, 0).unwrap_err();
        assert_eq!(e.reason, MemReason::ReadOnly(RegionKind::Rodata));
    }

    #[test]
    fn code_is_not_data() {
        let m = Memory::new();
        let e = m.load(RegionKind::Code.base(), 8).unwrap_err();
        assert_eq!(e.reason, MemReason::NotData);
    }

    #[test]
    fn unterminated_string_faults_at_region_end() {
        let mut m = Memory::new();
        let a = m.alloc(RegionKind::Data, 3, 1).unwrap();
        m.write_bytes(a, b"abc").unwrap();
        let e = m.read_cstr(a, 100).unwrap_err();
        assert_eq!(e.addr, a + 3);
        assert!(m.read_cstr(a, 2).is_err());
    }

    #[test]
    fn release_to_mark_drops_later_allocations() {
        let mut m = Memory::new();
        m.alloc(RegionKind::Data, 8, 8).unwrap();
        let mark = m.mark();
        let b = m.alloc(RegionKind::Data, 8, 8).unwrap();
        m.release_to(mark);
        assert!(m.load(b, 8).is_err());
        assert_eq!(m.alloc(RegionKind::Data, 8, 8).unwrap(), b);
    }

    #[test]
    fn stack_low_bound_is_enforced() {
        let mut m = Memory::new();
        m.set_stack_size(1024);
        m.set_stack_low(512);
        let base = RegionKind::Stack.base();
        assert!(m.load(base + 512, 8).is_ok());
        assert_eq!(
            m.load(base + 504, 8).unwrap_err().reason,
            MemReason::OutOfBounds(RegionKind::Stack)
        );
    }
}
