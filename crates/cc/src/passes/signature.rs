//! Function signatures the BPF backend cannot lower -> bpf-repl's ABI
//! (docs/abi.md): aggregate and 128-bit results through a result pointer,
//! `byval` arguments as caller-made copies, variadic functions with a va
//! block, and parameters past the registers in an argument block.
//!
//! The rule depends only on a function type, so every call (direct,
//! through a pointer, to a runtime helper) and every definition and
//! declaration of that type is rewritten the same way. Calls are rebuilt
//! first (they keep their callee operand); then each function is replaced
//! by one of the lowered type, which the rebuilt calls then name.

use super::{calls, vaarg, Cx};
use crate::abi::ARG_REGS;
use crate::ir::{Ir, T, V};
use llvm_sys::LLVMOpcode;

/// Where one parameter of the lowered list goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Register parameter number `k` of the final type.
    Reg(usize),
    /// Byte offset in the argument block.
    Block(u64),
}

/// The lowered form of a function type.
struct Lowered {
    /// The final IR type.
    fnty: T,
    /// The result comes back through a pointer passed first.
    indirect_result: Option<T>,
    /// The function was variadic: a va-block pointer follows the fixed parameters.
    variadic: bool,
    /// Fixed parameters of the original type.
    fixed: usize,
    /// For each parameter of the list [result ptr?] + fixed + [va?]: its place.
    places: Vec<Place>,
    /// Bytes of the argument block (0: none).
    block_size: u64,
}

/// 64-bit registers (or block slots) a value of type `t` takes. The
/// backend splits a vector into one register per element.
fn words_of(ir: &Ir, t: T) -> u64 {
    if ir.is_ptr(t) {
        1
    } else if ir.is_vector(t) {
        u64::from(unsafe { llvm_sys::core::LLVMGetVectorSize(t) }).max(ir.size_of(t).div_ceil(8))
    } else {
        ir.size_of(t).div_ceil(8).max(1)
    }
}

/// True when the backend cannot return a `t` in r0.
fn needs_indirect_result(ir: &Ir, t: T) -> bool {
    ir.is_aggregate(t) || ir.is_vector(t) || ir.int_width(t).is_some_and(|w| w > 64)
}

/// The lowered form of `fnty`, or `None` when the backend takes it as is.
fn lower_type(ir: &Ir, fnty: T) -> Option<Lowered> {
    let ret = ir.return_type(fnty);
    let params = ir.param_types(fnty);
    let variadic = ir.is_variadic(fnty);
    let indirect = needs_indirect_result(ir, ret);
    let mut list: Vec<T> = Vec::new();
    if indirect {
        list.push(ir.ptr());
    }
    list.extend(&params);
    if variadic {
        list.push(ir.ptr());
    }
    let total: u64 = list.iter().map(|t| words_of(ir, *t)).sum();
    if !indirect && !variadic && total <= ARG_REGS as u64 {
        return None;
    }
    let mut places = Vec::new();
    let mut final_params = Vec::new();
    let mut block = 0u64;
    if total <= ARG_REGS as u64 {
        for t in &list {
            places.push(Place::Reg(final_params.len()));
            final_params.push(*t);
        }
    } else {
        let mut used = 0;
        let mut spilled = false;
        for t in &list {
            let w = words_of(ir, *t);
            if !spilled && used + w < ARG_REGS as u64 {
                used += w;
                places.push(Place::Reg(final_params.len()));
                final_params.push(*t);
            } else {
                spilled = true;
                places.push(Place::Block(block));
                block += 8 * w;
            }
        }
        final_params.push(ir.ptr());
    }
    let ret = if indirect { ir.void() } else { ret };
    Some(Lowered {
        fnty: ir.fn_type(ret, &final_params, false),
        indirect_result: indirect.then_some(ir.return_type(fnty)),
        variadic,
        fixed: params.len(),
        places,
        block_size: block,
    })
}

pub(crate) fn run(cx: &mut Cx) {
    let ir = cx.ir;
    let mut scratch = Scratch::default();
    for (call, base) in calls(ir) {
        if base.is_some() || ir.is_inline_asm(ir.callee(call)) {
            continue;
        }
        lower_call(cx, call, &mut scratch);
    }
    scratch.finish(ir);
    for f in ir.functions() {
        if crate::ir::intrinsic_base(&ir.name(f)).is_some() {
            continue;
        }
        lower_function(cx, f);
    }
    vaarg::run(cx);
}

/// Per-function scratch areas for what a call needs only while it runs:
/// argument and va blocks, `byval` copies, indirect results. One area per
/// function, as large as its largest call needs.
#[derive(Default)]
struct Scratch {
    /// (function, placeholder slot, bytes needed, alignment)
    areas: Vec<(V, V, u64, u64)>,
}

impl Scratch {
    fn area(&mut self, ir: &Ir, f: V) -> usize {
        if let Some(k) = self.areas.iter().position(|a| a.0 == f) {
            return k;
        }
        let placeholder = ir.entry_alloca(f, 8, 8);
        self.areas.push((f, placeholder, 0, 8));
        self.areas.len() - 1
    }

    /// Replaces each placeholder by a slot of the size its calls need.
    fn finish(self, ir: &Ir) {
        for (f, placeholder, size, align) in self.areas {
            let slot = ir.entry_alloca(f, size.max(8), align);
            ir.replace_uses(placeholder, slot);
            ir.erase(placeholder);
        }
    }
}

/// Lays out one call's scratch needs from offset 0.
struct Layout {
    size: u64,
    align: u64,
}

impl Layout {
    fn take(&mut self, size: u64, align: u64) -> u64 {
        let align = align.clamp(8, 4096);
        let at = self.size.next_multiple_of(align);
        self.size = at + size.next_multiple_of(8);
        self.align = self.align.max(align);
        at
    }
}

fn byval_type(ir: &Ir, call: V, k: usize) -> Option<T> {
    let kind = ir.attr_kind("byval");
    ir.type_attr(&ir.call_attrs(call, k as u32 + 1), kind)
}

fn param_align(ir: &Ir, call: V, k: usize) -> u64 {
    let kind = ir.attr_kind("align");
    ir.call_attrs(call, k as u32 + 1)
        .into_iter()
        .find(|a| ir.is_attr_kind(*a, kind))
        .map(|a| unsafe { llvm_sys::core::LLVMGetEnumAttributeValue(a) })
        .unwrap_or(1)
}

fn has_param_attr(ir: &Ir, call: V, k: usize, name: &str) -> bool {
    ir.has_enum_attr(&ir.call_attrs(call, k as u32 + 1), ir.attr_kind(name))
}

fn lower_call(cx: &mut Cx, call: V, scratch: &mut Scratch) {
    let ir = cx.ir;
    let fnty = ir.called_fn_type(call);
    let args = ir.args(call);
    let n_fixed = ir.param_types(fnty).len();
    // Kernel helpers, called by id, keep the kernel's register ABI.
    if let Some(id) = ir.const_address(ir.callee(call)) {
        let regs: u64 = args.iter().map(|a| words_of(ir, ir.type_of(*a))).sum();
        if regs > ARG_REGS as u64 {
            cx.problem(
                call,
                format!("call of kernel helper #{id} with {regs} argument registers: kernel helpers take at most five"),
            );
        }
        return;
    }
    let byvals: Vec<usize> = (0..args.len())
        .filter(|k| byval_type(ir, call, *k).is_some())
        .collect();
    let lowered = lower_type(ir, fnty);
    if lowered.is_none() && byvals.is_empty() {
        if !cx.strict {
            let sret = ir.attr_kind("sret");
            ir.remove_call_attr(call, 1, sret);
        }
        return;
    }
    if cx.strict {
        refuse_call(cx, call, fnty, &byvals);
        return;
    }
    let f = ir.function_of(call);
    let area = scratch.area(ir, f);
    let base = scratch.areas[area].1;
    let mut layout = Layout { size: 0, align: 8 };
    ir.before(call);
    // Fixed `byval` arguments: the caller's copy, passed by address.
    let mut values: Vec<V> = args.clone();
    for &k in byvals.iter().filter(|k| **k < n_fixed) {
        let t = byval_type(ir, call, k).expect("byval");
        let size = ir.size_of(t);
        let align = param_align(ir, call, k).max(ir.align_of(t));
        let at = layout.take(size, align);
        let copy = ir.offset(base, at);
        copy_bytes(ir, copy, args[k], size);
        values[k] = copy;
    }
    let Some(lowered) = lowered else {
        // Only byval arguments changed: same type, plain pointers.
        let attrs: Vec<Option<usize>> = (0..args.len()).map(Some).collect();
        let new = ir.rebuild_call(call, fnty, ir.callee(call), &values, &attrs);
        strip_param_attrs(ir, new, args.len(), &["byval", "sret"]);
        finish_call(ir, call, new, &mut layout, scratch, area);
        return;
    };
    // The list [result ptr?] + fixed + [va?], with where each value came from.
    let mut list: Vec<(V, Option<usize>)> = Vec::new();
    let result_slot = lowered.indirect_result.map(|t| {
        let at = layout.take(ir.size_of(t), ir.align_of(t));
        let p = ir.offset(base, at);
        list.push((p, None));
        p
    });
    for (k, v) in values.iter().enumerate().take(lowered.fixed) {
        list.push((*v, Some(k)));
    }
    if lowered.variadic {
        let va = build_va_block(
            ir,
            call,
            &values[lowered.fixed..],
            lowered.fixed,
            base,
            &mut layout,
        );
        list.push((va, None));
    }
    let block = (lowered.block_size > 0).then(|| {
        let at = layout.take(lowered.block_size, 8);
        ir.offset(base, at)
    });
    let n_final = ir.param_types(lowered.fnty).len();
    let mut final_args: Vec<V> = vec![std::ptr::null_mut(); n_final];
    let mut attrs_from: Vec<Option<usize>> = vec![None; n_final];
    for ((v, from), place) in list.iter().zip(&lowered.places) {
        match place {
            Place::Reg(r) => {
                final_args[*r] = *v;
                attrs_from[*r] = *from;
            }
            Place::Block(off) => {
                let signed = from.is_some_and(|k| !has_param_attr(ir, call, k, "zeroext"));
                store_slots(ir, *v, ir.offset(block.expect("block"), *off), signed);
            }
        }
    }
    if let Some(b) = block {
        final_args[n_final - 1] = b;
    }
    let new = ir.rebuild_call(
        call,
        lowered.fnty,
        ir.callee(call),
        &final_args,
        &attrs_from,
    );
    strip_param_attrs(ir, new, n_final, &["byval", "sret", "signext", "zeroext"]);
    let result = result_slot.map(|p| {
        let t = lowered.indirect_result.expect("indirect result");
        // Right after the new call (which sits before the old one).
        ir.before(call);
        ir.load(t, p, ir.align_of(t))
    });
    if let Some(r) = result {
        ir.replace_uses(call, r);
    }
    finish_call(ir, call, new, &mut layout, scratch, area);
}

/// Replaces `call` by `new` and records the scratch bytes it needed.
fn finish_call(ir: &Ir, call: V, new: V, layout: &mut Layout, scratch: &mut Scratch, area: usize) {
    if ir.has_uses(call) && !ir.is_void(ir.type_of(call)) {
        ir.replace_uses(call, new);
    }
    ir.erase(call);
    let a = &mut scratch.areas[area];
    a.2 = a.2.max(layout.size);
    a.3 = a.3.max(layout.align);
}

fn strip_param_attrs(ir: &Ir, call: V, n: usize, names: &[&str]) {
    for name in names {
        let kind = ir.attr_kind(name);
        for k in 0..n {
            ir.remove_call_attr(call, k as u32 + 1, kind);
        }
    }
}

/// Copies `size` bytes (a `byval` object) with `llvm.memcpy`, which the
/// memory pass later keeps inline or turns into a helper call.
fn copy_bytes(ir: &Ir, dst: V, src: V, size: u64) {
    let fnty = ir.fn_type(ir.void(), &[ir.ptr(), ir.ptr(), ir.i64(), ir.i1()], false);
    ir.call(
        fnty,
        memcpy_decl(ir),
        &[dst, src, ir.i64c(size), ir.const_int(ir.i1(), 0)],
    );
}

fn memcpy_decl(ir: &Ir) -> V {
    unsafe {
        let name = "llvm.memcpy";
        let id = llvm_sys::core::LLVMLookupIntrinsicID(name.as_ptr() as *const _, name.len());
        let mut tys = [ir.ptr(), ir.ptr(), ir.i64()];
        llvm_sys::core::LLVMGetIntrinsicDeclaration(ir.module, id, tys.as_mut_ptr(), 3)
    }
}

/// Stores value `v` into consecutive 8-byte slots at `p`: integers widened
/// to 64 (or 128) bits, floats as their pattern, pointers, aggregates as
/// their bytes padded with zeros.
fn store_slots(ir: &Ir, v: V, p: V, signed: bool) {
    use LLVMOpcode::*;
    let t = ir.type_of(v);
    if let Some(w) = ir.int_width(t) {
        if w <= 64 {
            let signed = signed && w > 1 && w.is_power_of_two();
            ir.store(ir.to_i64(v, signed), p, 8);
        } else {
            let wide = if w < 128 {
                ir.cast(LLVMZExt, v, ir.int(128))
            } else {
                v
            };
            ir.store(wide, p, 8);
        }
        return;
    }
    match ir.kind(t) {
        llvm_sys::LLVMTypeKind::LLVMFloatTypeKind => {
            let bits = ir.cast(LLVMBitCast, v, ir.i32());
            ir.store(ir.cast(LLVMZExt, bits, ir.i64()), p, 8);
        }
        _ if ir.is_aggregate(t) && !ir.size_of(t).is_multiple_of(8) => {
            let slots = ir.size_of(t).div_ceil(8);
            ir.store(ir.i64c(0), ir.offset(p, 8 * (slots - 1)), 8);
            ir.store(v, p, 8);
        }
        _ => {
            ir.store(v, p, 8);
        }
    }
}

/// Builds the va block for a variadic call's extra arguments; returns its address.
fn build_va_block(ir: &Ir, call: V, extra: &[V], first: usize, base: V, layout: &mut Layout) -> V {
    // Slot sizes first, to place the block.
    let sizes: Vec<u64> = extra
        .iter()
        .enumerate()
        .map(|(j, v)| match byval_type(ir, call, first + j) {
            Some(t) => ir.size_of(t).div_ceil(8) * 8,
            None => 8 * words_of(ir, ir.type_of(*v)),
        })
        .collect();
    let total: u64 = sizes.iter().sum();
    let at = layout.take(16 + total, 8);
    let block = ir.offset(base, at);
    let slots = ir.offset(block, 16);
    ir.store(slots, block, 8);
    ir.store(ir.offset(block, 16 + total), ir.offset(block, 8), 8);
    let mut off = 16;
    for (j, v) in extra.iter().enumerate() {
        let p = ir.offset(block, off);
        match byval_type(ir, call, first + j) {
            Some(t) => {
                let size = ir.size_of(t);
                if !size.is_multiple_of(8) {
                    ir.store(ir.i64c(0), ir.offset(p, size / 8 * 8), 8);
                }
                copy_bytes(ir, p, *v, size);
            }
            None => {
                let signed = !has_param_attr(ir, call, first + j, "zeroext");
                store_slots(ir, *v, p, signed);
            }
        }
        off += sizes[j];
    }
    block
}

fn refuse_call(cx: &mut Cx, call: V, fnty: T, byvals: &[usize]) {
    let ir = cx.ir;
    let regs: u64 = ir.param_types(fnty).iter().map(|t| words_of(ir, *t)).sum();
    if !byvals.is_empty() {
        cx.refuse(
            call,
            "passing a struct or union larger than 16 bytes by value",
        );
    }
    if needs_indirect_result(ir, ir.return_type(fnty)) {
        cx.refuse(
            call,
            "a call of a function returning a 128-bit integer or vector",
        );
    }
    if regs > ARG_REGS as u64 {
        cx.refuse(
            call,
            &format!("a call with {regs} argument registers (plain BPF passes at most five)"),
        );
    } else if ir.is_variadic(fnty) {
        let all: u64 = ir
            .args(call)
            .iter()
            .map(|a| words_of(ir, ir.type_of(*a)))
            .sum();
        if all > ARG_REGS as u64 {
            cx.refuse(
                call,
                &format!(
                    "a variadic call with {all} argument registers (plain BPF passes at most five)"
                ),
            );
        }
    }
}

/// Rewrites a function (definition or declaration) to its lowered type.
fn lower_function(cx: &mut Cx, f: V) {
    let ir = cx.ir;
    let fnty = ir.function_type(f);
    let n = ir.param_types(fnty).len();
    let byval = ir.attr_kind("byval");
    let sret = ir.attr_kind("sret");
    let byval_params: Vec<usize> = (0..n)
        .filter(|k| {
            ir.type_attr(&ir.fn_attrs(f, *k as u32 + 1), byval)
                .is_some()
        })
        .collect();
    let has_sret = (0..n).any(|k| ir.has_enum_attr(&ir.fn_attrs(f, k as u32 + 1), sret));
    let lowered = lower_type(ir, fnty);
    let defined = !ir.is_declaration(f);
    if cx.strict {
        if defined {
            refuse_definition(cx, f, fnty, &byval_params, has_sret);
        }
        return;
    }
    for k in 0..n {
        ir.remove_fn_attr(f, k as u32 + 1, byval);
        ir.remove_fn_attr(f, k as u32 + 1, sret);
    }
    let Some(lowered) = lowered else { return };
    let mut attrs_from = vec![None; ir.param_types(lowered.fnty).len()];
    let shift = usize::from(lowered.indirect_result.is_some());
    for (j, place) in lowered.places.iter().enumerate() {
        if let Place::Reg(r) = place {
            if j >= shift && j - shift < lowered.fixed {
                attrs_from[*r] = Some(j - shift);
            }
        }
    }
    let old_params = ir.params(f);
    let new = ir.clone_signature(f, lowered.fnty, &attrs_from);
    if lowered.indirect_result.is_some() {
        ir.drop_result_attrs(new, attrs_from.len(), false);
    }
    for k in 0..ir.param_types(lowered.fnty).len() {
        for name in ["signext", "zeroext", "byval", "sret"] {
            ir.remove_fn_attr(new, k as u32 + 1, ir.attr_kind(name));
        }
    }
    if !defined {
        ir.finish_replace(f, new);
        return;
    }
    let new_params = ir.params(new);
    ir.at_entry(new);
    let block = (lowered.block_size > 0).then(|| new_params[new_params.len() - 1]);
    let mut values: Vec<V> = Vec::new();
    let mut types: Vec<T> = Vec::new();
    if lowered.indirect_result.is_some() {
        types.push(ir.ptr());
    }
    types.extend(ir.param_types(fnty));
    if lowered.variadic {
        types.push(ir.ptr());
    }
    for (place, t) in lowered.places.iter().zip(&types) {
        values.push(match place {
            Place::Reg(r) => new_params[*r],
            Place::Block(off) => ir.load(*t, ir.offset(block.expect("block"), *off), 8),
        });
    }
    for (k, old) in old_params.iter().enumerate() {
        ir.replace_uses(*old, values[k + shift]);
    }
    if let Some(t) = lowered.indirect_result {
        let out = values[0];
        for b in ir.blocks(new) {
            let term = ir.terminator(b);
            if !term.is_null() && ir.opcode(term) == Some(LLVMOpcode::LLVMRet) {
                ir.before(term);
                ir.store(ir.operand(term, 0), out, ir.align_of(t));
                ir.ret(None);
                ir.erase(term);
            }
        }
    }
    if lowered.variadic {
        vaarg::lower_va_start(cx, new, values[values.len() - 1]);
    }
    ir.finish_replace(f, new);
}

fn refuse_definition(cx: &mut Cx, f: V, fnty: T, byvals: &[usize], has_sret: bool) {
    let ir = cx.ir;
    let at = ir.blocks(f).first().map(|b| ir.insts(*b)[0]);
    let Some(at) = at else { return };
    let regs: u64 = ir.param_types(fnty).iter().map(|t| words_of(ir, *t)).sum();
    if ir.is_variadic(fnty) {
        cx.refuse(at, "a variadic function definition");
    }
    if has_sret {
        cx.refuse(at, "returning a struct or union by value");
    }
    if needs_indirect_result(ir, ir.return_type(fnty)) {
        cx.refuse(at, "returning a 128-bit integer or vector");
    }
    if !byvals.is_empty() {
        cx.refuse(at, "a struct or union parameter larger than 16 bytes");
    }
    if regs > ARG_REGS as u64 {
        cx.refuse(
            at,
            &format!("a function with {regs} parameter registers (plain BPF passes at most five)"),
        );
    }
}
