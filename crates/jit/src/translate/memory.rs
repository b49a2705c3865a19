//! Loads and stores: the inline access check, the frame-relative accesses
//! that need none, the write barrier, and the slow path through the VM's
//! checked accessors.
//!
//! The check is one unsigned compare (see [`RegionRow`]): `addr - base`
//! against the row's limit for the access size, where the row is
//!
//! - for an access of unknown region, the table row of `addr >> 32`
//!   (clamped to the refusing row);
//! - for an access whose region is known — a verifier's proof
//!   ([`bpf_vm::Vm::access_proof`]) or the pointer's provenance
//!   (`provenance.rs`) — that region's row, without the lookup;
//! - for the stack, bounds computed from r10: the live stack is
//!   `[r10 - frame_size, end)`, whatever the table says.
//!
//! An access the compare refuses goes to `jit_load`/`jit_store`, which ask
//! the VM again (`Vm::load_checked`/`store_checked`: the device where the
//! interpreter offers it, else the interpreter's refusal), so a wrong guess
//! of the region costs only time. Accesses inside the current frame,
//! `r10 + off` with `off` in `[-frame_size, 0)`, need no check.
//!
//! [`Translator::host_store`] is the one place native code writes BPF
//! memory. Stores outside the stack pass the write barrier there: when the
//! page-epoch entry of the page of the first or last byte is below the
//! open undo epoch, the store goes to the slow path, whose checked store
//! saves the page first (as `Memory::barrier` does).

use super::{Translator, CTX_REGS};
use crate::runtime::{JitCtx, RegionRow, ROWS};
use bpf_vm::memory::{PAGE_SHIFT, REGION_SHIFT};
use bpf_vm::RegionKind;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64, I8};
use cranelift_codegen::ir::{Block, InstBuilder, Type, Value};
use std::mem::{offset_of, size_of};

const ROW_TABLE: i32 = offset_of!(JitCtx, rows) as i32;
const ROW_SIZE: i32 = size_of::<RegionRow>() as i32;
const BASE: i32 = offset_of!(RegionRow, base) as i32;
const BIAS: i32 = offset_of!(RegionRow, bias) as i32;
const READ: i32 = offset_of!(RegionRow, read) as i32;
const WRITE: i32 = offset_of!(RegionRow, write) as i32;
const PAGES: i32 = offset_of!(RegionRow, pages) as i32;
const SHADOW: i32 = offset_of!(RegionRow, shadow) as i32;
const SHADOW_SHIFT: i32 = offset_of!(RegionRow, shadow_shift) as i32;
const EPOCH: i32 = offset_of!(JitCtx, epoch) as i32;
const _: () = assert!(ROW_SIZE == 128 && CTX_REGS > 0);

fn int_type(size: u8) -> Type {
    match size {
        1 => I8,
        2 => I16,
        4 => I32,
        _ => I64,
    }
}

/// log2 of an access size.
fn size_index(size: u8) -> i32 {
    size.trailing_zeros() as i32
}

/// Offset in the context of row `slot`'s field at `field`.
fn row_field(slot: usize, field: i32) -> i32 {
    ROW_TABLE + slot as i32 * ROW_SIZE + field
}

/// The live stack as a unit sees it, computed once at its entry.
#[derive(Clone, Copy)]
pub(super) struct Stack {
    /// Host address of r10.
    host_fp: Value,
    /// r10 - frame_size: the lowest live stack address.
    low: Value,
    /// end + 1 - low: an access of `n` bytes at `addr` is in the live stack
    /// when `addr - low < span - n`.
    span: Value,
}

/// An access being checked: `size` bytes at `addr` = `pointer` (the value
/// of register `base`) plus an offset.
#[derive(Clone, Copy)]
struct Site {
    base: u8,
    pointer: Value,
    addr: Value,
    size: u8,
    write: bool,
}

/// Which row of the region table an access reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKey {
    /// The row of the region slot of a register's value (its number and
    /// write count).
    Pointer(u8, u32),
    /// The row of a known region.
    Region(RegionKind),
}

/// Fields of one row loaded for the loads of a stretch of straight-line
/// code (see [`Translator::row_value`]).
pub(super) struct RowCache {
    key: RowKey,
    row: Value,
    fields: Vec<(i32, Value)>,
}

/// True for the instructions after which loaded row fields stay valid:
/// everything but stores, atomics, calls, packet loads and exits (which
/// may reach the host, where memory can grow and the table change). A
/// load's slow path only reads memory.
pub(super) fn keeps_rows(kind: bpf_vm::exec::Kind) -> bool {
    use bpf_vm::exec::Kind::*;
    !matches!(
        kind,
        St8 | St16
            | St32
            | St64
            | Stx8
            | Stx16
            | Stx32
            | Stx64
            | Atomic32
            | Atomic64
            | CallLocal
            | CallHelper
            | CallRuntime
            | Callx
            | LdAbs
            | LdInd
            | Exit
    )
}

/// How an access is checked (see [`Translator::access`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Inside the current frame, `[r10 - frame_size, r10)`: always allowed.
    Frame,
    /// Most likely in this region: its bounds alone are compared.
    Region(RegionKind),
    /// The row of the address's region slot is looked up.
    Table,
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
        match self.unit.proofs.get(&pc).or(self.unit.guesses.get(&pc)) {
            Some(&region) => Access::Region(region),
            None => Access::Table,
        }
    }

    /// True if some access of the unit reads the stack's row of the table
    /// (the unit then keeps it at its own frame: see [`Self::enter_frame`]).
    fn reads_stack_row(&self) -> bool {
        use bpf_vm::exec::Kind::*;
        self.unit.slots.iter().any(|&pc| {
            let op = self.ops[pc];
            let base = match op.kind {
                Ldx8 | Ldx16 | Ldx32 | Ldx64 | Ldxs8 | Ldxs16 | Ldxs32 | LdxP8 | LdxP16
                | LdxP32 | LdxP64 | LdxsP8 | LdxsP16 | LdxsP32 => op.src,
                St8 | St16 | St32 | St64 | Stx8 | Stx16 | Stx32 | Stx64 | Atomic32 | Atomic64 => {
                    op.dst
                }
                _ => return false,
            };
            self.access(pc, base, op.offset(), 8) == Access::Table
        })
    }

    /// The address of the table row `key` names.
    fn row(&mut self, key: RowKey, pointer: Value) -> Value {
        if let Some(c) = self.row_cache.as_ref().filter(|c| c.key == key) {
            return c.row;
        }
        let ctx = self.ctx();
        let row = match key {
            RowKey::Region(region) => {
                let slot = (region.base() >> REGION_SHIFT) as usize;
                self.b.ins().iadd_imm_s(ctx, row_field(slot, 0) as i64)
            }
            RowKey::Pointer(..) => {
                // The row of the pointer's slot, not the address's: every
                // access through one pointer shares the lookup, and an
                // offset that leaves the slot fails the compare (rows
                // span at most 2 GiB of a 4 GiB slot): the slow path.
                let hi = self.b.ins().ushr_imm_s(pointer, REGION_SHIFT as i64);
                let last = self.b.ins().iconst(I64, ROWS as i64 - 1);
                let slot = self.b.ins().umin(hi, last);
                let shift = ROW_SIZE.trailing_zeros() as i64;
                let at = self.b.ins().ishl_imm_s(slot, shift);
                let row = self.b.ins().iadd(ctx, at);
                self.b.ins().iadd_imm_s(row, ROW_TABLE as i64)
            }
        };
        self.row_cache = Some(RowCache {
            key,
            row,
            fields: Vec::new(),
        });
        row
    }

    /// Field `field` of the row `key` names, at `row`: loaded once for a
    /// stretch of loads through one pointer (the cache is dropped where
    /// [`keeps_rows`] says, and at every block).
    fn row_value(&mut self, key: RowKey, row: Value, field: i32) -> Value {
        if let Some(c) = self.row_cache.as_ref().filter(|c| c.key == key) {
            if let Some(&(_, v)) = c.fields.iter().find(|(f, _)| *f == field) {
                return v;
            }
        }
        let v = self.b.ins().load(I64, self.flags.ctx, row, field);
        if let Some(c) = self.row_cache.as_mut().filter(|c| c.key == key) {
            c.fields.push((field, v));
        }
        v
    }

    /// The live stack at the unit's entry (the stack's host address never
    /// changes during a run).
    pub(super) fn stack_at_entry(&mut self) -> Stack {
        let ctx = self.ctx();
        let slot = RegionKind::Stack as usize;
        let bias = self
            .b
            .ins()
            .load(I64, self.flags.ctx, ctx, row_field(slot, BIAS));
        let host_fp = self.b.ins().iadd(self.fp, bias);
        let low = self
            .b
            .ins()
            .iadd_imm_s(self.fp, -(self.env.frame_size as i64));
        let end = self.b.ins().iconst(I64, self.env.stack_end as i64 + 1);
        let span = self.b.ins().isub(end, low);
        Stack { host_fp, low, span }
    }

    fn stack(&self) -> Stack {
        self.stack.expect("set at the unit's entry")
    }

    /// Points the table's stack row at this unit's frame: the live stack
    /// is `[fp - frame_size, end)`. Only units that look rows up need it
    /// (host calls set their own bound from `fp`, and rebuild the table).
    pub(super) fn enter_frame(&mut self) {
        if !self.reads_stack_row() {
            return;
        }
        let slot = RegionKind::Stack as usize;
        let low = self.stack().low;
        self.ctx_store(row_field(slot, BASE), low);
        for i in 0..4 {
            let limit = self.stack_limit(i);
            self.ctx_store(row_field(slot, READ + 8 * i), limit);
            self.ctx_store(row_field(slot, WRITE + 8 * i), limit);
        }
    }

    /// The limit of `1 << size_log2`-byte stack accesses in this frame:
    /// `addr - low` must be below it.
    fn stack_limit(&mut self, size_log2: i32) -> Value {
        let span = self.stack().span;
        self.b.ins().iadd_imm_s(span, -(1 << size_log2))
    }

    /// Host address of the frame byte at `r10 + off`.
    fn frame_address(&mut self, off: u64) -> Value {
        let host_fp = self.stack().host_fp;
        self.b.ins().iadd_imm_s(host_fp, off as i64)
    }

    /// Emits the check of the access `site` as `access` says; returns the
    /// host address (continuing where the access is allowed; refused
    /// accesses go to `slow`) and, for the barrier, the row it passed.
    fn checked_address(
        &mut self,
        site: Site,
        access: Access,
        slow: Block,
    ) -> (Value, Option<Value>) {
        let Site {
            base,
            pointer,
            addr,
            size,
            write,
        } = site;
        let i = size_index(size);
        let limit_field = if write { WRITE } else { READ } + 8 * i;
        let (row, low, limit, bias) = match access {
            Access::Region(RegionKind::Stack) => {
                let limit = self.stack_limit(i);
                (None, self.stack().low, limit, None)
            }
            _ => {
                let key = match access {
                    Access::Region(region) => RowKey::Region(region),
                    _ => RowKey::Pointer(base, self.generation[base as usize]),
                };
                let row = self.row(key, pointer);
                let low = self.row_value(key, row, BASE);
                let limit = self.row_value(key, row, limit_field);
                let bias = self.row_value(key, row, BIAS);
                (Some(row), low, limit, Some(bias))
            }
        };
        let d = self.b.ins().isub(addr, low);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, d, limit);
        let fast = self.b.create_block();
        self.b.ins().brif(inside, fast, &[], slow, &[]);
        self.b.switch_to_block(fast);
        if let (Some(row), true) = (row, self.env.memcheck) {
            self.shadow_check(row, addr, size, slow);
        }
        let host = match bias {
            Some(bias) => self.b.ins().iadd(addr, bias),
            None => {
                // addr + (host_fp - fp)
                let host_fp = self.stack().host_fp;
                let off = self.b.ins().isub(addr, self.fp);
                self.b.ins().iadd(host_fp, off)
            }
        };
        (host, row)
    }

    /// `size` bytes at `r[base] + off`, zero- or sign-extended to 64 bits.
    pub(super) fn load(&mut self, pc: usize, base: u8, off: u64, size: u8, signed: bool) -> Value {
        let access = self.access(pc, base, off, size);
        let raw = if access == Access::Frame {
            let host = self.frame_address(off);
            self.host_load(host, size)
        } else {
            let pointer = self.reg(base);
            let addr = self.b.ins().iadd_imm_s(pointer, off as i64);
            let slow = self.b.create_block();
            self.b.set_cold_block(slow);
            let done = self.b.create_block();
            self.b.append_block_param(done, I64);
            let site = Site {
                base,
                pointer,
                addr,
                size,
                write: false,
            };
            let (host, _) = self.checked_address(site, access, slow);
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
            self.host_store(host, size, value);
            return;
        }
        let pointer = self.reg(base);
        let addr = self.b.ins().iadd_imm_s(pointer, off as i64);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let done = self.b.create_block();
        let site = Site {
            base,
            pointer,
            addr,
            size,
            write: true,
        };
        let (host, row) = self.checked_address(site, access, slow);
        if let Some(row) = row {
            self.barrier(row, addr, size, slow);
        }
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

    /// An atomic read-modify-write, inline: the VM is single-threaded, so
    /// a load, the operation and a store do what the interpreter does (a
    /// locked instruction would only cost time). The access needs write
    /// permission (regions are readable wherever writable) and passes the
    /// barrier; anything refused goes to `jit_atomic`, which runs the
    /// interpreter's own atomic for the exact fault.
    pub(super) fn atomic(&mut self, pc: usize, op: &bpf_vm::exec::Op) {
        use bpf_vm::isa::{ATOMIC_ADD, ATOMIC_AND, ATOMIC_CMPXCHG, ATOMIC_FETCH, ATOMIC_OR};
        use bpf_vm::isa::{ATOMIC_XCHG, ATOMIC_XOR};
        let size: u8 = if op.kind == bpf_vm::exec::Kind::Atomic32 {
            4
        } else {
            8
        };
        let operation = op.imm as i32;
        // The register the instruction writes, if any.
        let written = match operation {
            ATOMIC_CMPXCHG => Some(0u8),
            o if o & ATOMIC_FETCH != 0 && op.src != 10 => Some(op.src),
            _ => None,
        };
        let off = op.offset();
        let access = self.access(pc, op.dst, off, size);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let done = self.b.create_block();
        if written.is_some() {
            self.b.append_block_param(done, I64);
        }
        let pointer = self.reg(op.dst);
        let addr = self.b.ins().iadd_imm_s(pointer, off as i64);
        let host = if access == Access::Frame {
            self.frame_address(off)
        } else {
            let site = Site {
                base: op.dst,
                pointer,
                addr,
                size,
                write: true,
            };
            let (host, row) = self.checked_address(site, access, slow);
            if let Some(row) = row {
                self.barrier(row, addr, size, slow);
            }
            host
        };
        let old = self.host_load(host, size);
        let mask = |t: &mut Self, v: Value| {
            if size == 4 {
                t.b.ins().band_imm_s(v, u32::MAX as i64)
            } else {
                v
            }
        };
        let src = self.reg(op.src);
        let src = mask(self, src);
        let new = match operation & !ATOMIC_FETCH {
            ATOMIC_ADD => {
                let sum = self.b.ins().iadd(old, src);
                mask(self, sum)
            }
            ATOMIC_OR => self.b.ins().bor(old, src),
            ATOMIC_AND => self.b.ins().band(old, src),
            ATOMIC_XOR => self.b.ins().bxor(old, src),
            o if o == ATOMIC_XCHG & !ATOMIC_FETCH => src,
            _ => {
                // cmpxchg: compare with r0 (its low half for the W form).
                let r0 = self.reg(0);
                let expected = mask(self, r0);
                let equal = self.b.ins().icmp(IntCC::Equal, old, expected);
                self.b.ins().select(equal, src, old)
            }
        };
        self.host_store(host, size, new);
        let args: Vec<cranelift_codegen::ir::BlockArg> =
            written.map(|_| old.into()).into_iter().collect();
        self.b.ins().jump(done, &args);

        // The interpreter's own atomic, for the fault (or the device-less
        // checked accessors): r0, dst and src through the context.
        self.b.switch_to_block(slow);
        self.save_regs(1 | 1 << op.dst | 1 << op.src);
        self.ctx_store(super::reg_offset(10), self.fp);
        let ctx = self.ctx();
        let pcv = self.iconst(pc as u64);
        let r = self.host_call(self.host.atomic, &[ctx, self.fp, pcv]);
        self.check_status(r[0]);
        let args: Vec<cranelift_codegen::ir::BlockArg> = written
            .map(|reg| self.ctx_load(super::reg_offset(reg)).into())
            .into_iter()
            .collect();
        self.b.ins().jump(done, &args);

        self.b.switch_to_block(done);
        if let Some(reg) = written {
            let v = self.b.block_params(done)[0];
            self.set(reg, v);
        }
    }

    /// The write barrier of a store of `size` bytes at `addr` that passed
    /// the check of `row`: when the page of its first or last byte has an
    /// epoch entry below the open epoch, go to `slow` (whose checked store
    /// saves the page). The stack's entries never are.
    fn barrier(&mut self, row: Value, addr: Value, size: u8, slow: Block) {
        let (flags, page_flags) = (self.flags.ctx, self.flags.pages);
        let b = &mut self.b;
        let pages = b.ins().load(I64, flags, row, PAGES);
        let offset = b.ins().ireduce(I32, addr);
        let offset = b.ins().uextend(I64, offset);
        let entry = |b: &mut cranelift_frontend::FunctionBuilder, off: Value| {
            let page = b.ins().ushr_imm_s(off, PAGE_SHIFT as i64);
            let at = b.ins().ishl_imm_s(page, 2);
            let at = b.ins().iadd(pages, at);
            b.ins().uload32(page_flags, at, 0)
        };
        let first = entry(b, offset);
        let oldest = if size > 1 {
            let end = b.ins().iadd_imm_s(offset, size as i64 - 1);
            let last = entry(b, end);
            b.ins().umin(first, last)
        } else {
            first
        };
        let ctx = b.ins().iconst(I64, self.env.ctx as i64);
        let epoch = b.ins().load(I64, flags, ctx, EPOCH);
        let stale = b.ins().icmp(IntCC::UnsignedLessThan, oldest, epoch);
        let write = b.create_block();
        b.ins().brif(stale, slow, &[], write, &[]);
        b.switch_to_block(write);
    }

    /// Memcheck's inline test of an access of `size` bytes at `addr` that
    /// passed the bounds check of `row`: when the shadow byte of its first
    /// or last byte is not 0 (a poisoned or partly accessible granule), go
    /// to `slow`, whose checked accessor decides and reports. Rows of
    /// unchecked regions select a zero byte.
    fn shadow_check(&mut self, row: Value, addr: Value, size: u8, slow: Block) {
        let (flags, shadow_flags) = (self.flags.ctx, self.flags.pages);
        let b = &mut self.b;
        let shadow = b.ins().load(I64, flags, row, SHADOW);
        let shift = b.ins().load(I64, flags, row, SHADOW_SHIFT);
        let offset = b.ins().ireduce(I32, addr);
        let offset = b.ins().uextend(I64, offset);
        let byte = |b: &mut cranelift_frontend::FunctionBuilder, off: Value| {
            let granule = b.ins().ushr(off, shift);
            let at = b.ins().iadd(shadow, granule);
            b.ins().uload8(I64, shadow_flags, at, 0)
        };
        let first = byte(b, offset);
        let any = if size > 1 {
            let end = b.ins().iadd_imm_s(offset, size as i64 - 1);
            let last = byte(b, end);
            b.ins().bor(first, last)
        } else {
            first
        };
        let ok = b.create_block();
        b.ins().brif(any, slow, &[], ok, &[]);
        b.switch_to_block(ok);
    }

    /// Reads `size` bytes at a checked host address, zero-extended.
    fn host_load(&mut self, host: Value, size: u8) -> Value {
        let f = self.flags.bpf;
        match size {
            1 => self.b.ins().uload8(I64, f, host, 0),
            2 => self.b.ins().uload16(I64, f, host, 0),
            4 => self.b.ins().uload32(f, host, 0),
            _ => self.b.ins().load(I64, f, host, 0),
        }
    }

    /// Writes `size` bytes at a checked host address (after the barrier):
    /// every store to BPF memory that native code makes is emitted here.
    fn host_store(&mut self, host: Value, size: u8, value: Value) {
        let f = self.flags.bpf;
        match size {
            1 => self.b.ins().istore8(f, value, host, 0),
            2 => self.b.ins().istore16(f, value, host, 0),
            4 => self.b.ins().istore32(f, value, host, 0),
            _ => self.b.ins().store(f, value, host, 0),
        };
    }
}
