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
//! Why a helper rather than a qsort compiled to BPF: measured with
//! `cargo bench -p bpf-runtime --bench qsort` (see its header).

use crate::ctx::Ctx;
use crate::vmstr::{int_arg, len_arg};
use bpf_vm::{HelperError, HelperEvent, HelperStep, Memory, RegionKind};

/// Elements larger than this are sorted through pointers (glibc's rule).
const INDIRECT_OVER: u64 = 32;
/// Deepest recursion of the merge sort (n < 2^64).
const MAX_DEPTH: u64 = 64;

// Header words of the scratch block.
const BASE: u64 = 0;
const N: u64 = 8;
const SIZE: u64 = 16;
const CMP: u64 = 24;
const ARG: u64 = 32;
/// The merge buffer.
const TMP: u64 = 40;
/// 1 when sorting pointers to the elements.
const INDIRECT: u64 = 48;
/// Frames on the recursion stack.
const SP: u64 = 56;
/// The merge in progress: b1, n1, b2, n2, out.
const MERGE: u64 = 64;
/// The alloca region's length before the block (to release it).
const MARK: u64 = 104;
/// The array of pointers (indirect sorts).
const PTRS: u64 = 112;
/// Recursion frames: (b, n, phase), 24 bytes each.
const STACK: u64 = 120;
const HEADER: u64 = STACK + 24 * MAX_DEPTH;

/// A frame's phase: about to sort its halves, left half sorted, both
/// halves sorted (merge not begun), merging (the merge registers hold it).
const START: u64 = 0;
const LEFT_DONE: u64 = 1;
const HALVES_DONE: u64 = 2;
const MERGING: u64 = 3;

fn word(mem: &Memory, at: u64) -> Result<u64, HelperError> {
    Ok(mem.load(at, 8)?)
}

fn set(mem: &mut Memory, at: u64, v: u64) -> Result<(), HelperError> {
    Ok(mem.store(at, 8, v)?)
}

/// Copies `n` bytes inside VM memory.
fn copy(mem: &mut Memory, dst: u64, src: u64, n: u64) -> Result<(), HelperError> {
    if n == 0 {
        return Ok(());
    }
    let bytes = mem.read_bytes(src, len_arg(n))?;
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
        HelperEvent::Start(a) => start(cx, "qsort", mem, a[0], a[1], a[2], a[3], None),
        HelperEvent::Resume { state, ret } => resume(mem, state[0], order(ret)),
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
        HelperEvent::Start(a) => start(cx, "qsort_r", mem, a[0], a[1], a[2], a[3], Some(a[4])),
        HelperEvent::Resume { state, ret } => resume(mem, state[0], order(ret)),
    }
}

#[allow(clippy::too_many_arguments)]
fn start(
    cx: &Ctx,
    func: &str,
    mem: &mut Memory,
    base: u64,
    n: u64,
    size: u64,
    cmp: u64,
    arg: Option<u64>,
) -> Result<HelperStep, HelperError> {
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
    let s = scratch(cx, func, mem, HEADER + ptrs_len + tmp_len)?;
    let ptrs = s + HEADER;
    // Flags: bit 0 indirect, bit 1 qsort_r (the comparison gets `arg`).
    let flags = u64::from(indirect) | (u64::from(arg.is_some()) << 1);
    for (at, v) in [
        (BASE, base),
        (N, n),
        (SIZE, size),
        (CMP, cmp),
        (ARG, arg.unwrap_or(0)),
        (TMP, ptrs + ptrs_len),
        (INDIRECT, flags),
        (MARK, mark),
        (PTRS, ptrs),
    ] {
        set(mem, s + at, v)?;
    }
    let root = if indirect {
        for i in 0..n {
            set(mem, ptrs + 8 * i, base + i * size)?;
        }
        ptrs
    } else {
        base
    };
    push(mem, s, root, n)?;
    run(mem, s, None)
}

fn push(mem: &mut Memory, s: u64, b: u64, n: u64) -> Result<(), HelperError> {
    let sp = word(mem, s + SP)?;
    if sp >= MAX_DEPTH {
        return Err(HelperError::Fault("qsort: recursion too deep".into()));
    }
    let f = s + STACK + 24 * sp;
    set(mem, f, b)?;
    set(mem, f + 8, n)?;
    set(mem, f + 16, START)?;
    set(mem, s + SP, sp + 1)
}

fn resume(mem: &mut Memory, s: u64, ord: i32) -> Result<HelperStep, HelperError> {
    run(mem, s, Some(ord))
}

/// Runs the sort from its saved state until the next comparison or the
/// end; `ord` is the result of the comparison it was waiting for.
fn run(mem: &mut Memory, s: u64, mut ord: Option<i32>) -> Result<HelperStep, HelperError> {
    let flags = word(mem, s + INDIRECT)?;
    let indirect = flags & 1 != 0;
    // The unit of the array being sorted: elements, or pointers to them.
    let es = if indirect { 8 } else { word(mem, s + SIZE)? };
    let tmp = word(mem, s + TMP)?;
    loop {
        let sp = word(mem, s + SP)?;
        if sp == 0 {
            return finish(mem, s);
        }
        let f = s + STACK + 24 * (sp - 1);
        let (b, n, phase) = (word(mem, f)?, word(mem, f + 8)?, word(mem, f + 16)?);
        let n1 = n / 2;
        match phase {
            _ if n <= 1 => set(mem, s + SP, sp - 1)?,
            START => {
                set(mem, f + 16, LEFT_DONE)?;
                push(mem, s, b, n1)?;
            }
            LEFT_DONE => {
                set(mem, f + 16, HALVES_DONE)?;
                push(mem, s, b + n1 * es, n - n1)?;
            }
            HALVES_DONE => {
                // The merge begins: b1, n1, b2, n2, out.
                set(mem, f + 16, MERGING)?;
                for (i, v) in [b, n1, b + n1 * es, n - n1, tmp].into_iter().enumerate() {
                    set(mem, s + MERGE + 8 * i as u64, v)?;
                }
            }
            _ => {
                if let Some(step) = merge(mem, s, flags, es, ord.take())? {
                    return Ok(step);
                }
                let m2 = word(mem, s + MERGE + 24)?;
                copy(mem, b, tmp, (n - m2) * es)?;
                set(mem, s + SP, sp - 1)?;
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
    s: u64,
    flags: u64,
    es: u64,
    mut ord: Option<i32>,
) -> Result<Option<HelperStep>, HelperError> {
    let m = s + MERGE;
    let [mut b1, mut n1, mut b2, mut n2, mut out] = [
        word(mem, m)?,
        word(mem, m + 8)?,
        word(mem, m + 16)?,
        word(mem, m + 24)?,
        word(mem, m + 32)?,
    ];
    let save = |mem: &mut Memory, regs: [u64; 5]| -> Result<(), HelperError> {
        for (i, v) in regs.into_iter().enumerate() {
            set(mem, m + 8 * i as u64, v)?;
        }
        Ok(())
    };
    while n1 > 0 && n2 > 0 {
        let Some(o) = ord.take() else {
            save(mem, [b1, n1, b2, n2, out])?;
            // cmp(b1, b2), through the pointers when sorting indirectly.
            let (x, y) = if flags & 1 != 0 {
                (word(mem, b1)?, word(mem, b2)?)
            } else {
                (b1, b2)
            };
            let arg = if flags & 2 != 0 {
                word(mem, s + ARG)?
            } else {
                0
            };
            return Ok(Some(HelperStep::Call {
                func: word(mem, s + CMP)?,
                args: [x, y, arg, 0, 0],
                state: [s, 0, 0, 0],
            }));
        };
        if o <= 0 {
            copy(mem, out, b1, es)?;
            b1 += es;
            n1 -= 1;
        } else {
            copy(mem, out, b2, es)?;
            b2 += es;
            n2 -= 1;
        }
        out += es;
    }
    if n1 > 0 {
        copy(mem, out, b1, n1 * es)?;
    }
    save(mem, [b1, n1, b2, n2, out])?;
    Ok(None)
}

/// The sort is done: permute the elements (indirect sorts) and release
/// the scratch block.
fn finish(mem: &mut Memory, s: u64) -> Result<HelperStep, HelperError> {
    let flags = word(mem, s + INDIRECT)?;
    if flags & 1 != 0 {
        let (base, n, size) = (
            word(mem, s + BASE)?,
            word(mem, s + N)?,
            word(mem, s + SIZE)?,
        );
        let ptrs = word(mem, s + PTRS)?;
        let old = mem.read_bytes(base, len_arg(n * size))?;
        let mut new = Vec::with_capacity(old.len());
        for i in 0..n {
            let off = len_arg(word(mem, ptrs + 8 * i)? - base);
            new.extend_from_slice(&old[off..off + len_arg(size)]);
        }
        mem.write_bytes(base, &new)?;
    }
    // Release the block (whatever lies above it belonged to functions
    // that have returned).
    let mark = word(mem, s + MARK)?;
    if mem.region_len(RegionKind::Alloca) as u64 > s - RegionKind::Alloca.base() {
        mem.truncate(RegionKind::Alloca, len_arg(mark));
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
