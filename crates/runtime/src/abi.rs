//! The mechanical helpers of bpf-repl's ABI (docs/abi.md) that code
//! lowered by bpf-cc calls: block copies the backend does not expand
//! inline, 128-bit multiply and divide, the alloca region, and the
//! undefined-behaviour trap.

use crate::ctx::Ctx;
use crate::string;
use crate::vmstr::len_arg;
use bpf_vm::{HelperError, Memory, RegionKind};

/// Default size limit of the alloca region (VLAs and `alloca`).
pub const DEFAULT_ALLOCA_LIMIT: usize = 64 << 20;

/// `void *__bpf_memcpy(void *dst, const void *src, size_t n)`: `memcpy`,
/// except that `dst == src` is allowed (LLVM's `llvm.memcpy` allows it, and
/// clang emits it for `s = s`).
pub(crate) fn memcpy(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let n = len_arg(a[2]);
    if a[0] == a[1] && n > 0 {
        cx.check("memcpy", a[0], n)?;
        mem.slice_mut(a[0], n)?;
        return Ok(a[0]);
    }
    string::memcpy(cx, mem, a)
}

/// `void *__bpf_memmove(void *dst, const void *src, size_t n)`.
pub(crate) fn memmove(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    string::memmove(cx, mem, a)
}

/// `void *__bpf_memset(void *dst, int byte, size_t n)`.
pub(crate) fn memset(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    string::memset(cx, mem, a)
}

fn wide(lo: u64, hi: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Stores a 128-bit result at `out` (low half first).
fn store128(cx: &Ctx, func: &str, mem: &mut Memory, out: u64, v: u128) -> Result<u64, HelperError> {
    cx.check(func, out, 16)?;
    mem.write_bytes(out, &v.to_le_bytes())?;
    Ok(0)
}

/// The 128-bit operations: `op(out, a_lo, a_hi, b_lo, b_hi)`.
fn i128_op(
    cx: &Ctx,
    mem: &mut Memory,
    a: [u64; 5],
    name: &str,
    f: fn(u128, u128) -> Option<u128>,
) -> Result<u64, HelperError> {
    let (x, y) = (wide(a[1], a[2]), wide(a[3], a[4]));
    let v = f(x, y).ok_or_else(|| {
        HelperError::Fault(format!("division by zero in a 128-bit division ({name})"))
    })?;
    store128(cx, name, mem, a[0], v)
}

/// `__bpf_i128_mul(out, a_lo, a_hi, b_lo, b_hi)`: the low 128 bits of the product.
pub(crate) fn i128_mul(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    i128_op(cx, mem, a, "__bpf_i128_mul", |x, y| Some(x.wrapping_mul(y)))
}

/// `__bpf_i128_udiv`: unsigned quotient.
pub(crate) fn i128_udiv(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    i128_op(cx, mem, a, "__bpf_i128_udiv", |x, y| x.checked_div(y))
}

/// `__bpf_i128_urem`: unsigned remainder.
pub(crate) fn i128_urem(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    i128_op(cx, mem, a, "__bpf_i128_urem", |x, y| x.checked_rem(y))
}

/// `__bpf_i128_sdiv`: signed quotient (`MIN / -1` wraps to `MIN`).
pub(crate) fn i128_sdiv(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    i128_op(cx, mem, a, "__bpf_i128_sdiv", |x, y| {
        (y != 0).then(|| (x as i128).wrapping_div(y as i128) as u128)
    })
}

/// `__bpf_i128_srem`: signed remainder (`MIN % -1` is 0).
pub(crate) fn i128_srem(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    i128_op(cx, mem, a, "__bpf_i128_srem", |x, y| {
        (y != 0).then(|| (x as i128).wrapping_rem(y as i128) as u128)
    })
}

/// `void *__bpf_alloca(size_t size, size_t align)`: `size` fresh zeroed
/// bytes at the top of the alloca region.
pub(crate) fn alloca(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let (size, align) = (len_arg(a[0]), len_arg(a[1]).max(1));
    if !align.is_power_of_two() || align > 4096 {
        return Err(HelperError::Fault(format!(
            "alloca({size}) with alignment {align}: not a power of two up to 4096"
        )));
    }
    let limit = cx.state.borrow().alloca_limit;
    let start = mem.region_len(RegionKind::Alloca).next_multiple_of(align);
    if start.checked_add(size).is_none_or(|end| end > limit) {
        return Err(HelperError::Fault(format!(
            "a variable-length array or alloca of {size} bytes exceeds the alloca limit of {limit} bytes ({} in use)",
            mem.region_len(RegionKind::Alloca)
        )));
    }
    Ok(mem.alloc(RegionKind::Alloca, size, align)?)
}

/// `void *__bpf_stacksave(void)`: the current top of the alloca region.
pub(crate) fn stacksave(_: &Ctx, mem: &mut Memory, _: [u64; 5]) -> Result<u64, HelperError> {
    Ok(RegionKind::Alloca.base() + mem.region_len(RegionKind::Alloca) as u64)
}

/// `void __bpf_stackrestore(void *mark)`: releases everything allocated
/// after `mark` was saved.
pub(crate) fn stackrestore(_: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let base = RegionKind::Alloca.base();
    let len = mem.region_len(RegionKind::Alloca) as u64;
    match a[0].checked_sub(base) {
        Some(off) if off <= len => {
            mem.truncate(RegionKind::Alloca, off as usize);
            Ok(0)
        }
        _ => Err(HelperError::Fault(format!(
            "__bpf_stackrestore({:#x}): not a saved position of the alloca region",
            a[0]
        ))),
    }
}

/// What check number `k` of `__bpf_ub_trap(k)` found (docs/abi.md).
pub fn ub_check_name(k: u64) -> String {
    match k {
        0 | 12 | 13 | 21 => "signed integer overflow",
        3 => "division by zero (or INT_MIN / -1)",
        20 => "shift amount out of range",
        22 => "NULL or misaligned pointer used",
        18 => "array index out of bounds",
        24 => "variable-length array bound is not positive",
        5 => "floating-point value out of range of the integer type",
        1 => "__builtin_unreachable() reached",
        8 => "invalid argument to a builtin (e.g. __builtin_clz(0))",
        11 | 258 => "a value-returning function reached its end without return",
        256 => "__builtin_trap() reached",
        257 => "va_arg past the last argument",
        259 => "code the optimizer assumed unreachable was reached (after undefined behaviour, e.g. a signed overflow or an out-of-bounds access)",
        _ => return format!("check #{k} failed"),
    }
    .to_string()
}

/// `void __bpf_ub_trap(long k)`: never returns.
/// `__builtin_trap()` (256) is a deliberate stop, not undefined behaviour.
pub(crate) fn ub_trap(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Err(match a[0] {
        256 => HelperError::Abort(ub_check_name(256)),
        k => HelperError::Undefined(ub_check_name(k)),
    })
}
