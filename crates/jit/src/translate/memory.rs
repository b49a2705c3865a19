//! Loads and stores: the inline region check, the frame-relative accesses
//! that need none, proven accesses, the write barrier, and the slow path
//! through the VM's checked accessors.
//!
//! An access of `n` bytes at `addr` is allowed, as in [`bpf_vm::Memory`],
//! when `addr >> 32` names a region slot, its offset `o` is at least the
//! slot's `lo`, and `o + n` is at most its `len` (reads) or `wlen`
//! (writes). Native code tests exactly that against the region table in
//! `JitCtx`; whatever fails goes to `jit_load`/`jit_store`, which ask the
//! VM again (`Vm::load_checked`/`store_checked`: the device where the
//! interpreter offers it, else the refusal the interpreter would raise).
//!
//! [`Translator::access`] is the one place that decides how much an access
//! needs checking: r10-relative accesses inside the current frame none, a
//! verifier's proof ([`bpf_vm::Vm::access_proof`]) fixes the region (no
//! table lookup), anything else the full test. [`Translator::host_store`]
//! is the one place native code writes BPF memory; it passes the write
//! barrier first (a page of the open undo epoch not yet saved goes to the
//! slow path, whose store saves it, as `Memory::barrier` does).

use super::{Translator, CTX_REGS};
use crate::runtime::JitCtx;
use bpf_vm::memory::{RawRegion, PAGE_SHIFT, REGION_SLOTS};
use bpf_vm::RegionKind;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64, I8};
use cranelift_codegen::ir::{Block, Endianness, InstBuilder, MemFlagsData, Type, Value};
use std::mem::{offset_of, size_of};

const REGIONS: i32 = offset_of!(JitCtx, regions) as i32;
const SLOT_SIZE: i32 = size_of::<RawRegion>() as i32;
const PTR: i32 = offset_of!(RawRegion, ptr) as i32;
const LO: i32 = offset_of!(RawRegion, lo) as i32;
const LEN: i32 = offset_of!(RawRegion, len) as i32;
const WLEN: i32 = offset_of!(RawRegion, wlen) as i32;
const PAGE_EPOCHS: i32 = offset_of!(JitCtx, page_epochs) as i32;
const EPOCH: i32 = offset_of!(JitCtx, epoch) as i32;
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

/// How an access is checked (see [`Translator::access`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Inside the current frame, `[r10 - frame_size, r10)`: always allowed.
    Frame,
    /// Proven to stay in this region: only its bounds are compared.
    Proven(RegionKind),
    /// The full test against the region table.
    Checked,
}

/// A checked host address and what the barrier needs: the region slot
/// and the offset in it.
struct Checked {
    host: Value,
    slot: Value,
    offset: Value,
}

impl Translator<'_> {
    /// How the access of `size` bytes at `r[base] + off` by the
    /// instruction at `pc` is checked.
    pub(super) fn access(&self, pc: usize, base: u8, off: u64, size: u8) -> Access {
        let off = off as i64;
        let in_frame = off >= -(self.env.frame_size as i64) && off + size as i64 <= 0;
        if base == 10 && in_frame {
            return Access::Frame;
        }
        match self.unit.proofs.get(&pc) {
            Some(&region) => Access::Proven(region),
            None => Access::Checked,
        }
    }

    /// True if some access of the unit reads the stack's low bound from
    /// the region table (the unit then keeps it at its own frame).
    pub(super) fn reads_stack_bound(&self) -> bool {
        use bpf_vm::exec::Kind::*;
        self.unit.slots.iter().any(|&pc| {
            let op = self.ops[pc];
            let base = match op.kind {
                Ldx8 | Ldx16 | Ldx32 | Ldx64 | Ldxs8 | Ldxs16 | Ldxs32 | LdxP8 | LdxP16
                | LdxP32 | LdxP64 | LdxsP8 | LdxsP16 | LdxsP32 => op.src,
                St8 | St16 | St32 | St64 | Stx8 | Stx16 | Stx32 | Stx64 => op.dst,
                _ => return false,
            };
            match self.access(pc, base, op.offset(), 8) {
                Access::Frame => false,
                Access::Proven(region) => region == RegionKind::Stack,
                Access::Checked => true,
            }
        })
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

    /// Emits the region check of `[addr, addr + size)`; continues with
    /// the host address (and where it is) when the access is allowed,
    /// else in `slow`. `region`: the region a proof fixed.
    fn checked_address(
        &mut self,
        addr: Value,
        size: u8,
        write: bool,
        region: Option<RegionKind>,
        slow: Block,
    ) -> Checked {
        let b = &mut self.b;
        let hi = b.ins().ushr_imm_s(addr, 32);
        let (slot, entry) = match region {
            Some(r) => {
                let inside = b.ins().icmp_imm_u(IntCC::Equal, hi, r as i64);
                let bounds = b.create_block();
                b.ins().brif(inside, bounds, &[], slow, &[]);
                b.switch_to_block(bounds);
                let slot = b.ins().iconst(I64, r as i64);
                let entry = b
                    .ins()
                    .iconst(I64, self.env.ctx as i64 + (r as i64) * SLOT_SIZE as i64);
                (slot, entry)
            }
            None => {
                let mapped = b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedLessThan, hi, REGION_SLOTS as i64);
                let bounds = b.create_block();
                b.ins().brif(mapped, bounds, &[], slow, &[]);
                b.switch_to_block(bounds);
                let ctx = b.ins().iconst(I64, self.env.ctx as i64);
                let at = b.ins().ishl_imm_s(hi, 5);
                (hi, b.ins().iadd(ctx, at))
            }
        };
        let low = b.ins().ireduce(I32, addr);
        let o = b.ins().uextend(I64, low);
        let flags = MemFlagsData::trusted();
        let end = b.ins().iadd_imm_s(o, size as i64);
        let limit = b
            .ins()
            .load(I64, flags, entry, REGIONS + if write { WLEN } else { LEN });
        let mut refused = b.ins().icmp(IntCC::UnsignedGreaterThan, end, limit);
        // Only the stack has a moving low bound (data regions start at 0;
        // code, with none, is never proven).
        if region.is_none_or(|r| r == RegionKind::Stack) {
            let lo = b.ins().load(I64, flags, entry, REGIONS + LO);
            let below = b.ins().icmp(IntCC::UnsignedLessThan, o, lo);
            refused = b.ins().bor(below, refused);
        }
        let fast = b.create_block();
        b.ins().brif(refused, slow, &[], fast, &[]);
        b.switch_to_block(fast);
        let ptr = b.ins().load(I64, flags, entry, REGIONS + PTR);
        Checked {
            host: b.ins().iadd(ptr, o),
            slot,
            offset: o,
        }
    }

    /// `size` bytes at `r[base] + off`, zero- or sign-extended to 64 bits.
    pub(super) fn load(&mut self, pc: usize, base: u8, off: u64, size: u8, signed: bool) -> Value {
        let access = self.access(pc, base, off, size);
        let raw = if access == Access::Frame {
            let host = self.frame_address(off);
            self.host_load(host, size)
        } else {
            let region = match access {
                Access::Proven(r) => Some(r),
                _ => None,
            };
            let addr = self.reg(base);
            let addr = self.b.ins().iadd_imm_s(addr, off as i64);
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            let done = self.b.create_block();
            self.b.append_block_param(done, I64);
            let checked = self.checked_address(addr, size, false, region, slow);
            let v = self.host_load(checked.host, size);
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
        let access = self.access(pc, base, off, size);
        if access == Access::Frame {
            // The stack is never logged: no barrier.
            let host = self.frame_address(off);
            self.host_store(host, size, value, None, None);
            return;
        }
        let region = match access {
            Access::Proven(r) => Some(r),
            _ => None,
        };
        let addr = self.reg(base);
        let addr = self.b.ins().iadd_imm_s(addr, off as i64);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let done = self.b.create_block();
        let checked = self.checked_address(addr, size, true, region, slow);
        let logged = region != Some(RegionKind::Stack);
        let barrier = logged.then_some((checked.slot, checked.offset));
        self.host_store(checked.host, size, value, barrier, Some(slow));
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

    /// Writes `size` bytes at a checked host address: every store to BPF
    /// memory that native code makes is emitted here. With `barrier`
    /// (region slot, offset), the write barrier comes first: when the
    /// page of the first or last byte has an epoch entry below the open
    /// epoch, the store goes to `slow` instead (the checked store saves
    /// the page before it writes).
    fn host_store(
        &mut self,
        host: Value,
        size: u8,
        value: Value,
        barrier: Option<(Value, Value)>,
        slow: Option<Block>,
    ) {
        if let (Some((slot, offset)), Some(slow)) = (barrier, slow) {
            let b = &mut self.b;
            let ctx = b.ins().iconst(I64, self.env.ctx as i64);
            let at = b.ins().ishl_imm_s(slot, 3);
            let at = b.ins().iadd(ctx, at);
            let flags = MemFlagsData::trusted();
            let pages = b.ins().load(I64, flags, at, PAGE_EPOCHS);
            let first = b.ins().ushr_imm_s(offset, PAGE_SHIFT as i64);
            let last = b.ins().iadd_imm_s(offset, size as i64 - 1);
            let last = b.ins().ushr_imm_s(last, PAGE_SHIFT as i64);
            let first = b.ins().ishl_imm_s(first, 2);
            let last = b.ins().ishl_imm_s(last, 2);
            let first = b.ins().iadd(pages, first);
            let last = b.ins().iadd(pages, last);
            let e1 = b.ins().uload32(flags, first, 0);
            let e2 = b.ins().uload32(flags, last, 0);
            let oldest = b.ins().umin(e1, e2);
            let epoch = b.ins().load(I64, flags, ctx, EPOCH);
            let stale = b.ins().icmp(IntCC::UnsignedLessThan, oldest, epoch);
            let write = b.create_block();
            b.ins().brif(stale, slow, &[], write, &[]);
            b.switch_to_block(write);
        }
        let f = bpf_flags();
        match size {
            1 => self.b.ins().istore8(f, value, host, 0),
            2 => self.b.ins().istore16(f, value, host, 0),
            4 => self.b.ins().istore32(f, value, host, 0),
            _ => self.b.ins().store(f, value, host, 0),
        };
    }
}
