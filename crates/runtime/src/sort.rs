//! `qsort`, `qsort_r` and `bsearch`: host helpers that call the program's
//! comparison function back in BPF (the VM's callback helpers,
//! `bpf_vm::HelperStep::Call`), one call per comparison.
//!
//! `qsort` is glibc's (2.36) merge sort, comparison for comparison: the
//! same pairs are compared in the same order, the result is stable, and
//! elements larger than 32 bytes are sorted indirectly (an array of
//! pointers, then one permutation), as glibc does. Its state between two
//! comparisons lives in a scratch block at the top of the VM's alloca
//! region (a header, the recursion stack and the merge buffer), so a sort
//! abandoned by a trap or a `longjmp` out of the comparison function is
//! released with the run's other alloca memory. The limit of that region
//! (`Runtime::with_alloca_limit`) bounds the buffer: `n * size` bytes
//! (`2 * 8 * n` when sorting indirectly).
//!
//! Why a helper rather than a qsort compiled to BPF (a runtime object
//! linked into every session): it needs no change to any host (the REPL,
//! `bpf-jitlink` and tests link nothing extra), misuse is reported at the
//! call by name ("qsort: ... do not fit in memory"), and a sort abandoned
//! by a `longjmp` or a trap leaves nothing behind. The price, measured
//! with `cargo bench -p bpf-runtime --bench qsort` (100,000 ints, on the
//! interpreter): 119 ms as a helper, 89 ms for the same merge sort
//! compiled to BPF, 8.8 ms for glibc natively; the difference is the
//! VM's callback round trip per comparison. Should the JIT make BPF code
//! much faster than its callback round trips, the BPF version wins: see
//! `tests/fixtures/sort.c`.

use crate::ctx::Ctx;
use crate::vmstr::{int_arg, len_arg};
use bpf_vm::{HelperError, HelperEvent, HelperStep, Memory, RegionKind};

/// Elements larger than this are sorted through pointers (glibc's rule).
const INDIRECT_OVER: u64 = 32;
/// Deepest recursion of the merge sort (n < 2^64).
const MAX_DEPTH: usize = 64;
/// Words of the header at the start of the scratch block.
const WORDS: usize = 17;
/// Bytes of the header and the recursion stack (3 words a frame).
const HEADER: u64 = 8 * (WORDS as u64 + 3 * MAX_DEPTH as u64);

/// A frame's phase: about to sort its halves, left half sorted, both
/// halves sorted (merge not begun), merging (the merge registers hold it).
const START: u64 = 0;
const LEFT_DONE: u64 = 1;
const HALVES_DONE: u64 = 2;
const MERGING: u64 = 3;

/// The sort between two comparisons, as the header of its scratch block
/// holds it (read and written in one piece per step).
struct Sort {
    /// The scratch block's address.
    at: u64,
    base: u64,
    n: u64,
    size: u64,
    cmp: u64,
    arg: u64,
    /// The merge buffer.
    tmp: u64,
    /// Bit 0: sorting pointers to the elements; bit 1: qsort_r.
    flags: u64,
    /// Frames on the recursion stack.
    sp: u64,
    /// The merge in progress: b1, n1, b2, n2, out.
    merge: [u64; 5],
    /// The alloca region's length before the block (to release it).
    mark: u64,
    /// The array of pointers (indirect sorts).
    ptrs: u64,
}

impl Sort {
    fn load(mem: &Memory, at: u64) -> Result<Sort, HelperError> {
        let b = mem.slice(at, 8 * WORDS)?;
        let w = |i: usize| u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]));
        Ok(Sort {
            at,
            base: w(0),
            n: w(1),
            size: w(2),
            cmp: w(3),
            arg: w(4),
            tmp: w(5),
            flags: w(6),
            sp: w(7),
            merge: [w(8), w(9), w(10), w(11), w(12)],
            mark: w(13),
            ptrs: w(14),
        })
    }

    fn store(&self, mem: &mut Memory) -> Result<(), HelperError> {
        let words = [
            self.base,
            self.n,
            self.size,
            self.cmp,
            self.arg,
            self.tmp,
            self.flags,
            self.sp,
            self.merge[0],
            self.merge[1],
            self.merge[2],
            self.merge[3],
            self.merge[4],
            self.mark,
            self.ptrs,
            0,
            0,
        ];
        let out = mem.slice_mut(self.at, 8 * WORDS)?;
        for (i, w) in words.iter().enumerate() {
            out[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        Ok(())
    }

    fn indirect(&self) -> bool {
        self.flags & 1 != 0
    }

    /// The unit of the array being sorted: elements, or pointers to them.
    fn unit(&self) -> u64 {
        if self.indirect() {
            8
        } else {
            self.size
        }
    }

    /// Where recursion frame `i` is: (b, n, phase).
    fn frame_at(&self, i: u64) -> u64 {
        self.at
            .wrapping_add(8 * WORDS as u64)
            .wrapping_add(i.wrapping_mul(24))
    }

    fn push(&mut self, mem: &mut Memory, b: u64, n: u64) -> Result<(), HelperError> {
        if self.sp as usize >= MAX_DEPTH {
            return Err(HelperError::Fault("qsort: recursion too deep".into()));
        }
        let f = self.frame_at(self.sp);
        set(mem, f, b)?;
        set(mem, f + 8, n)?;
        set(mem, f + 16, START)?;
        self.sp += 1;
        Ok(())
    }
}

fn word(mem: &Memory, at: u64) -> Result<u64, HelperError> {
    Ok(mem.load(at, 8)?)
}

fn set(mem: &mut Memory, at: u64, v: u64) -> Result<(), HelperError> {
    Ok(mem.store(at, 8, v)?)
}

/// Copies `n` bytes inside VM memory (through a stack buffer when small).
fn copy(mem: &mut Memory, dst: u64, src: u64, n: u64) -> Result<(), HelperError> {
    let len = len_arg(n);
    if len <= 64 {
        let mut buf = [0u8; 64];
        buf[..len].copy_from_slice(mem.slice(src, len)?);
        mem.slice_mut(dst, len)?.copy_from_slice(&buf[..len]);
        return Ok(());
    }
    let bytes = mem.read_bytes(src, len)?;
    mem.write_bytes(dst, &bytes)?;
    Ok(())
}

/// Makes a zeroed scratch block of `len` bytes at the top of the alloca region.
fn scratch(cx: &Ctx, func: &str, mem: &mut Memory, len: u64) -> Result<u64, HelperError> {
    let limit = cx.state.borrow().alloca_limit;
    let used = mem.region_len(RegionKind::Alloca);
    let end = (used.next_multiple_of(16) as u64).checked_add(len);
    if end.is_none_or(|e| e > limit as u64) {
        return Err(HelperError::Fault(format!(
            "{func}: sorting needs {len} bytes of scratch memory in the alloca region, over \
             its limit of {limit} bytes ({used} in use)"
        )));
    }
    Ok(mem.alloc(RegionKind::Alloca, len_arg(len), 16)?)
}

/// The comparison function's result (an `int`).
fn order(ret: u64) -> i32 {
    int_arg(ret)
}

/// `void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))`.
pub(crate) fn qsort(
    cx: &Ctx,
    mem: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    match ev {
        HelperEvent::Start(a) => start(cx, "qsort", mem, a, None),
        HelperEvent::Resume { state, ret } => {
            run(mem, Sort::load(mem, state[0])?, Some(order(ret)))
        }
    }
}

/// `void qsort_r(void *base, size_t n, size_t size,
///               int (*cmp)(const void *, const void *, void *), void *arg)` (GNU).
pub(crate) fn qsort_r(
    cx: &Ctx,
    mem: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    match ev {
        HelperEvent::Start(a) => start(cx, "qsort_r", mem, a, Some(a[4])),
        HelperEvent::Resume { state, ret } => {
            run(mem, Sort::load(mem, state[0])?, Some(order(ret)))
        }
    }
}

fn start(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    a: [u64; 5],
    arg: Option<u64>,
) -> Result<HelperStep, HelperError> {
    let (base, n, size, cmp) = (a[0], a[1], a[2], a[3]);
    let Some(total) = n.checked_mul(size) else {
        return Err(HelperError::Fault(format!(
            "{func}: {n} elements of {size} bytes do not fit in memory"
        )));
    };
    if n <= 1 {
        return Ok(HelperStep::Return(0));
    }
    cx.check(func, base, len_arg(total))?;
    mem.slice_mut(base, len_arg(total))?;
    let indirect = size > INDIRECT_OVER;
    // Indirect: the pointers, then a merge buffer of pointers.
    let (ptrs_len, tmp_len) = if indirect { (8 * n, 8 * n) } else { (0, total) };
    let mark = mem.region_len(RegionKind::Alloca) as u64;
    let at = scratch(cx, func, mem, HEADER + ptrs_len + tmp_len)?;
    let ptrs = at + HEADER;
    let mut sort = Sort {
        at,
        base,
        n,
        size,
        cmp,
        arg: arg.unwrap_or(0),
        tmp: ptrs + ptrs_len,
        flags: u64::from(indirect) | (u64::from(arg.is_some()) << 1),
        sp: 0,
        merge: [0; 5],
        mark,
        ptrs,
    };
    let root = if indirect {
        let mut p = Vec::with_capacity(len_arg(8 * n));
        for i in 0..n {
            p.extend_from_slice(&(base + i * size).to_le_bytes());
        }
        mem.write_bytes(ptrs, &p)?;
        ptrs
    } else {
        base
    };
    sort.push(mem, root, n)?;
    run(mem, sort, None)
}

/// Runs the sort from its saved state until the next comparison or the
/// end; `ord` is the result of the comparison it was waiting for.
fn run(mem: &mut Memory, mut sort: Sort, mut ord: Option<i32>) -> Result<HelperStep, HelperError> {
    let es = sort.unit();
    // A comparison's result: the top frame is merging; most steps end in
    // the next comparison without looking at the frame.
    if ord.is_some() {
        if let Some(step) = merge(mem, &mut sort, ord.take())? {
            sort.store(mem)?;
            return Ok(step);
        }
    }
    loop {
        if sort.sp == 0 {
            return finish(mem, &sort);
        }
        let f = sort.frame_at(sort.sp - 1);
        let (b, n, phase) = (word(mem, f)?, word(mem, f + 8)?, word(mem, f + 16)?);
        // (Values read back from VM memory use wrapping arithmetic: a
        // program scribbling over the scratch block gets faults, not a
        // host panic.)
        let n1 = n / 2;
        let b2 = b.wrapping_add(n1.wrapping_mul(es));
        match phase {
            _ if n <= 1 => sort.sp -= 1,
            START => {
                set(mem, f + 16, LEFT_DONE)?;
                sort.push(mem, b, n1)?;
            }
            LEFT_DONE => {
                set(mem, f + 16, HALVES_DONE)?;
                sort.push(mem, b2, n - n1)?;
            }
            HALVES_DONE => {
                set(mem, f + 16, MERGING)?;
                sort.merge = [b, n1, b2, n - n1, sort.tmp];
            }
            _ => {
                if let Some(step) = merge(mem, &mut sort, ord.take())? {
                    sort.store(mem)?;
                    return Ok(step);
                }
                let merged = n.wrapping_sub(sort.merge[3]).wrapping_mul(es);
                copy(mem, b, sort.tmp, merged)?;
                sort.sp -= 1;
            }
        }
    }
}

/// Goes on with the merge in the merge registers: `ord` is the result of
/// the comparison it asked for. Returns the next comparison to make, or
/// `None` once the merged run is in the buffer (the rest of the right
/// half stays in place, as in glibc).
fn merge(
    mem: &mut Memory,
    sort: &mut Sort,
    mut ord: Option<i32>,
) -> Result<Option<HelperStep>, HelperError> {
    let es = sort.unit();
    let [mut b1, mut n1, mut b2, mut n2, mut out] = sort.merge;
    while n1 > 0 && n2 > 0 {
        let Some(o) = ord.take() else {
            sort.merge = [b1, n1, b2, n2, out];
            // cmp(b1, b2), through the pointers when sorting indirectly.
            let (x, y) = if sort.indirect() {
                (word(mem, b1)?, word(mem, b2)?)
            } else {
                (b1, b2)
            };
            return Ok(Some(HelperStep::Call {
                func: sort.cmp,
                args: [x, y, sort.arg, 0, 0],
                state: [sort.at, 0, 0, 0],
            }));
        };
        if o <= 0 {
            copy(mem, out, b1, es)?;
            b1 = b1.wrapping_add(es);
            n1 -= 1;
        } else {
            copy(mem, out, b2, es)?;
            b2 = b2.wrapping_add(es);
            n2 -= 1;
        }
        out = out.wrapping_add(es);
    }
    if n1 > 0 {
        copy(mem, out, b1, n1.wrapping_mul(es))?;
        out = out.wrapping_add(n1.wrapping_mul(es));
        n1 = 0;
    }
    sort.merge = [b1, n1, b2, n2, out];
    Ok(None)
}

/// The sort is done: permute the elements (indirect sorts) and release
/// the scratch block.
fn finish(mem: &mut Memory, sort: &Sort) -> Result<HelperStep, HelperError> {
    if sort.indirect() {
        let (base, n, size) = (sort.base, sort.n, sort.size);
        let old = mem.read_bytes(base, len_arg(n.wrapping_mul(size)))?;
        let ptrs = mem.read_bytes(sort.ptrs, len_arg(n.wrapping_mul(8)))?;
        let mut new = Vec::with_capacity(old.len());
        for p in ptrs.chunks_exact(8) {
            let p = u64::from_le_bytes(p.try_into().unwrap_or([0; 8]));
            let element = len_arg(p.wrapping_sub(base))
                .checked_add(len_arg(size))
                .and_then(|end| old.get(end - len_arg(size)..end));
            let Some(element) = element else {
                return Err(HelperError::Fault(
                    "qsort: the program overwrote the sort's scratch memory".into(),
                ));
            };
            new.extend_from_slice(element);
        }
        mem.write_bytes(base, &new)?;
    }
    // Release the block (whatever lies above it belonged to functions
    // that have returned).
    if mem.region_len(RegionKind::Alloca) as u64 > sort.at - RegionKind::Alloca.base() {
        mem.truncate(RegionKind::Alloca, len_arg(sort.mark));
    }
    Ok(HelperStep::Return(0))
}

/// `void *bsearch(const void *key, const void *base, size_t n, size_t size,
///                int (*cmp)(const void *, const void *))`: glibc's
/// binary search, comparing `cmp(key, element)`.
pub(crate) fn bsearch(
    cx: &Ctx,
    mem: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    // state: key, base, l | u << 32, size | cmp offset << 32. Indices fit
    // in 32 bits: a region holds at most 2^31 bytes.
    let code = RegionKind::Code.base();
    let (key, base, mut l, mut u, size, cmp) = match ev {
        HelperEvent::Start([key, base, n, size, cmp]) => {
            let total = n.checked_mul(size).filter(|t| *t <= 1 << 31);
            let Some(total) = total else {
                return Err(HelperError::Fault(format!(
                    "bsearch: {n} elements of {size} bytes do not fit in memory"
                )));
            };
            if n > 0 {
                cx.check("bsearch", base, len_arg(total))?;
                mem.slice(base, len_arg(total))?;
            }
            if RegionKind::of(cmp) != Some(RegionKind::Code) {
                return Err(HelperError::Fault(format!(
                    "bsearch: the comparison function {cmp:#x} is not a function"
                )));
            }
            (key, base, 0, n, size, cmp)
        }
        HelperEvent::Resume { state, ret } => {
            let [key, base, lu, sc] = state;
            let (mut l, mut u) = (lu & 0xffff_ffff, lu >> 32);
            let (size, cmp) = (sc & 0xffff_ffff, code + (sc >> 32));
            let idx = (l + u) / 2;
            match order(ret) {
                o if o < 0 => u = idx,
                o if o > 0 => l = idx + 1,
                _ => return Ok(HelperStep::Return(base + idx * size)),
            }
            (key, base, l, u, size, cmp)
        }
    };
    if l >= u {
        return Ok(HelperStep::Return(0));
    }
    let idx = (l + u) / 2;
    l &= 0xffff_ffff;
    u &= 0xffff_ffff;
    Ok(HelperStep::Call {
        func: cmp,
        args: [key, base + idx * size, 0, 0, 0],
        state: [key, base, l | (u << 32), size | ((cmp - code) << 32)],
    })
}
