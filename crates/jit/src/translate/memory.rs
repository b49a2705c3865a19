//! Loads and stores: the inline region check, the frame-relative accesses
//! that need none, and the slow path through the VM's checked accessors.
//!
//! An access of `n` bytes at `addr` is allowed, as in [`bpf_vm::Memory`],
//! when `addr >> 32` names a region slot, its offset `o` is at least the
//! slot's `lo`, and `o + n` is at most its `len` (reads) or `wlen`
//! (writes). Native code tests exactly that against the region table in
//! `JitCtx`; whatever fails goes to `jit_load`/`jit_store`, which ask
//! `Memory` again and record the refusal the interpreter would raise (or,
//! for memory the table does not describe, do the access).
//!
//! [`Translator::needs_check`] is the one place that decides an access is
//! safe without a test (today: r10-relative accesses inside the current
//! frame; a verifier's proofs can be added there), and
//! [`Translator::host_store`] the one place native code writes BPF memory.

use super::{Translator, CTX_REGS};
use crate::runtime::JitCtx;
use bpf_vm::memory::{RawRegion, REGION_SLOTS};
use bpf_vm::RegionKind;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64, I8};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Type, Value};
use std::mem::{offset_of, size_of};

const REGIONS: i32 = offset_of!(JitCtx, regions) as i32;
const SLOT_SIZE: i32 = size_of::<RawRegion>() as i32;
const PTR: i32 = offset_of!(RawRegion, ptr) as i32;
const LO: i32 = offset_of!(RawRegion, lo) as i32;
const LEN: i32 = offset_of!(RawRegion, len) as i32;
const WLEN: i32 = offset_of!(RawRegion, wlen) as i32;
const _: () = assert!(SLOT_SIZE == 32 && CTX_REGS > 0);

/// BPF memory is little-endian; a checked access cannot fault.
fn bpf_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_notrap()
        .with_endianness(Endianness::Little)
}

fn int_type(size: u8) -> Type {
    match size {
        1 => I8,
        2 => I16,
        4 => I32,
        _ => I64,
    }
}

impl Translator<'_> {
    /// False when the access is proven to stay inside accessible memory.
    /// The current frame, `[r10 - frame_size, r10)`, is always accessible.
    pub(super) fn needs_check(&self, base: u8, off: u64, size: u8) -> bool {
        let off = off as i64;
        let in_frame = off >= -(self.env.frame_size as i64) && off + size as i64 <= 0;
        !(base == 10 && in_frame)
    }

    /// Host address of the frame byte at `r10 + off`.
    fn frame_address(&mut self, off: u64) -> Value {
        let ctx = self.ctx();
        let slot = REGIONS + RegionKind::Stack as i32 * SLOT_SIZE;
        // The stack region never moves during a run.
        let flags = MemFlagsData::trusted().with_readonly();
        let ptr = self.b.ins().load(I64, flags, ctx, slot + PTR);
        let o = self.fp_offset(off as i64);
        self.b.ins().iadd(ptr, o)
    }

    /// Emits the region check of `[addr, addr + size)`; continues in the
    /// returned block with the host address as its parameter when the
    /// access is allowed, else in `slow`.
    fn checked_address(
        &mut self,
        addr: Value,
        size: u8,
        write: bool,
        slow: cranelift_codegen::ir::Block,
    ) -> Value {
        let b = &mut self.b;
        let slot = b.ins().ushr_imm_s(addr, 32);
        let mapped = b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, slot, REGION_SLOTS as i64);
        let bounds = b.create_block();
        b.ins().brif(mapped, bounds, &[], slow, &[]);
        b.switch_to_block(bounds);
        let ctx = b.ins().iconst(I64, self.env.ctx as i64);
        let at = b.ins().ishl_imm_s(slot, 5);
        let entry = b.ins().iadd(ctx, at);
        let low = b.ins().ireduce(I32, addr);
        let o = b.ins().uextend(I64, low);
        let flags = MemFlagsData::trusted();
        let lo = b.ins().load(I64, flags, entry, REGIONS + LO);
        let below = b.ins().icmp(IntCC::UnsignedLessThan, o, lo);
        let end = b.ins().iadd_imm_s(o, size as i64);
        let limit = b
            .ins()
            .load(I64, flags, entry, REGIONS + if write { WLEN } else { LEN });
        let past = b.ins().icmp(IntCC::UnsignedGreaterThan, end, limit);
        let refused = b.ins().bor(below, past);
        let fast = b.create_block();
        b.ins().brif(refused, slow, &[], fast, &[]);
        b.switch_to_block(fast);
        let ptr = b.ins().load(I64, flags, entry, REGIONS + PTR);
        b.ins().iadd(ptr, o)
    }

    /// `size` bytes at `r[base] + off`, zero- or sign-extended to 64 bits.
    pub(super) fn load(&mut self, pc: usize, base: u8, off: u64, size: u8, signed: bool) -> Value {
        let raw = if self.needs_check(base, off, size) {
            let addr = self.reg(base);
            let addr = self.b.ins().iadd_imm_s(addr, off as i64);
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            let done = self.b.create_block();
            self.b.append_block_param(done, I64);
            let host = self.checked_address(addr, size, false, slow);
            let v = self.host_load(host, size);
            self.b.ins().jump(done, &[v.into()]);

            self.b.switch_to_block(slow);
            let ctx = self.ctx();
            let n = self.iconst(size as u64);
            let pcv = self.iconst(pc as u64);
            let r = self.host_call(self.host.load, &[ctx, addr, n, self.fp, pcv]);
            self.check_status(r[0]);
            self.b.ins().jump(done, &[r[1].into()]);
            self.b.switch_to_block(done);
            self.b.block_params(done)[0]
        } else {
            let host = self.frame_address(off);
            self.host_load(host, size)
        };
        if signed && size < 8 {
            let narrow = self.b.ins().ireduce(int_type(size), raw);
            self.b.ins().sextend(I64, narrow)
        } else {
            raw
        }
    }

    /// Stores the low `size` bytes of `value` at `r[base] + off`.
    pub(super) fn store(&mut self, pc: usize, base: u8, off: u64, size: u8, value: Value) {
        if !self.needs_check(base, off, size) {
            let host = self.frame_address(off);
            self.host_store(host, size, value);
            return;
        }
        let addr = self.reg(base);
        let addr = self.b.ins().iadd_imm_s(addr, off as i64);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let done = self.b.create_block();
        let host = self.checked_address(addr, size, true, slow);
        self.host_store(host, size, value);
        self.b.ins().jump(done, &[]);

        self.b.switch_to_block(slow);
        let ctx = self.ctx();
        let n = self.iconst(size as u64);
        let pcv = self.iconst(pc as u64);
        let r = self.host_call(self.host.store, &[ctx, addr, n, value, self.fp, pcv]);
        self.check_status(r[0]);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
    }

    /// Reads `size` bytes at a checked host address, zero-extended.
    fn host_load(&mut self, host: Value, size: u8) -> Value {
        let f = bpf_flags();
        match size {
            1 => self.b.ins().uload8(I64, f, host, 0),
            2 => self.b.ins().uload16(I64, f, host, 0),
            4 => self.b.ins().uload32(f, host, 0),
            _ => self.b.ins().load(I64, f, host, 0),
        }
    }

    /// Writes `size` bytes at a checked host address. Every store to BPF
    /// memory that native code makes is emitted here (the place for a
    /// write barrier).
    fn host_store(&mut self, host: Value, size: u8, value: Value) {
        let f = bpf_flags();
        match size {
            1 => self.b.ins().istore8(f, value, host, 0),
            2 => self.b.ins().istore16(f, value, host, 0),
            4 => self.b.ins().istore32(f, value, host, 0),
            _ => self.b.ins().store(f, value, host, 0),
        };
    }
}
