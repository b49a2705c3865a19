//! BPF ops -> Cranelift IR, one unit at a time (see `analysis.rs`), in the
//! manner of Cranelift's wasm translator: registers are frontend
//! `Variable`s, each basic block of BPF becomes a Cranelift block, and one
//! `match` over the pre-decoded op kinds emits each instruction.
//!
//! A unit is a native function with the `tail` calling convention:
//!
//! ```text
//! (fp, fuel, r1, r2, r3, r4, r5) -> (status, fuel, r0, r1, r2, r3, r4, r5)
//! ```
//!
//! (all eight results in registers). `fp` is the unit's r10; r0 and r6–r9
//! the unit reads before writing come from `JitCtx::regs`, where every
//! caller stores them before a call (as the interpreter's shared register
//! file would show them). A callee's final r0–r5 are its results: a caller
//! may read r1–r5 after the call, as the shared register file shows them.
//! Status 0 is a normal `exit`; status 1 a stop recorded in
//! `JitCtx::stop`, on which each native caller records its frame and
//! returns 1 itself.
//!
//! Fuel (the budget, handed out in chunks) is checked at checkpoints only,
//! against the longest path to the next one, and decreased per block; a
//! checkpoint that finds too little asks the host for more, and stops
//! cleanly (all registers in `JitCtx::regs`) when the budget ends within
//! reach: the interpreter then finishes the run instruction by instruction.

mod memory;

use crate::analysis::{Returns, Unit, ARG_REGS, CALLER_REGS};
use crate::runtime::{
    self, JitCtx, CALL_ALL, CALL_X, OP_TAIL_RETURNED, PAUSE_NATIVE_STACK, TRAP_CALL_DEPTH,
    TRAP_PC_OUT_OF_RANGE,
};
use bpf_vm::exec::{Kind, Op};
use bpf_vm::RegionKind;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64, I8};
use cranelift_codegen::ir::{
    AbiParam, AliasRegionData, Block, BlockArg, Endianness, FuncRef, Function, InstBuilder,
    MemFlagsData, SigRef, Signature, Type, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;
use std::mem::offset_of;

/// What translation bakes into the code: addresses and the stack layout.
#[derive(Clone, Copy)]
pub struct Env {
    pub ctx: *mut JitCtx,
    pub frame_size: u64,
    /// The lowest r10 a frame may have (the call-depth limit).
    pub min_fp: u64,
    /// The end of the stack region (the entry frame's r10).
    pub stack_end: u64,
    /// Slots of code (jumps at or past it trap).
    pub code_len: usize,
    /// Memcheck is on: accesses through the region table test the shadow.
    pub memcheck: bool,
    pub frontend: TargetFrontendConfig,
}

/// The signature of every unit (see the module's documentation).
pub fn unit_signature() -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.extend([AbiParam::new(I64); 7]);
    sig.returns.extend([AbiParam::new(I64); UNIT_RESULTS]);
    sig
}

/// Results of a unit: status, fuel, r0–r5.
pub const UNIT_RESULTS: usize = 8;

/// A host function's signature: `n` i64 parameters, `r` i64 results.
pub fn host_signature(conv: CallConv, n: usize, r: usize) -> Signature {
    let mut sig = Signature::new(conv);
    sig.params
        .extend(std::iter::repeat_n(AbiParam::new(I64), n));
    sig.returns
        .extend(std::iter::repeat_n(AbiParam::new(I64), r));
    sig
}

/// A host function as native code calls it: through an adapter that
/// preserves every register (so that a slow path in a cold block does not
/// make hot values live in memory) and leaves the results in `JitCtx::ret`.
#[derive(Clone, Copy)]
struct HostFn {
    func: FuncRef,
    results: usize,
}

/// The host functions, with their signatures imported into the function.
struct Host {
    load: HostFn,
    store: HostFn,
    atomic: HostFn,
    op: HostFn,
    call: HostFn,
    refill: HostFn,
    trap: HostFn,
    unwind: HostFn,
    unit: SigRef,
}

/// Offsets into [`JitCtx`].
const CTX_REGS: i32 = offset_of!(JitCtx, regs) as i32;
const CTX_NATIVE: i32 = offset_of!(JitCtx, native) as i32;
const CTX_CALLX: i32 = offset_of!(JitCtx, callx) as i32;
const CTX_TABLE_LEN: i32 = offset_of!(JitCtx, table_len) as i32;
const CTX_STACK_LIMIT: i32 = offset_of!(JitCtx, stack_limit) as i32;
const CTX_RET: i32 = offset_of!(JitCtx, ret) as i32;
const CTX_FUEL: i32 = offset_of!(JitCtx, fuel) as i32;
const CTX_ARGS: i32 = offset_of!(JitCtx, args) as i32;
const CTX_SITES: i32 = offset_of!(JitCtx, sites) as i32;

fn reg_offset(r: u8) -> i32 {
    CTX_REGS + 8 * r as i32
}

/// Memory flags for the three kinds of memory native code touches, which
/// never alias: the context (alias analysis may then keep a row of the
/// region table loaded across BPF stores), BPF memory, and page-epoch
/// tables.
#[derive(Clone, Copy)]
pub(super) struct Flags {
    pub ctx: MemFlagsData,
    pub bpf: MemFlagsData,
    pub pages: MemFlagsData,
}

impl Flags {
    fn new(func: &mut Function) -> Flags {
        let mut region = |user_id, what: &'static str| {
            Some(func.dfg.alias_regions.insert(AliasRegionData {
                user_id,
                description: what.into(),
            }))
        };
        Flags {
            ctx: MemFlagsData::trusted().with_alias_region(region(1, "jit context")),
            // Little-endian; a checked access cannot fault.
            bpf: MemFlagsData::new()
                .with_notrap()
                .with_endianness(Endianness::Little)
                .with_alias_region(region(2, "bpf memory")),
            pages: MemFlagsData::trusted().with_alias_region(region(3, "page epochs")),
        }
    }
}

/// A right-hand operand: a register's value or an immediate.
#[derive(Clone, Copy)]
enum Operand {
    Reg(Value),
    Imm(u64),
}

/// Translates `unit` into `func` (which has [`unit_signature`]).
/// `adapters[i]` is the adapter of host function `i` (see
/// `runtime::host_functions`), declared in `func`.
pub fn translate(
    func: &mut Function,
    fbc: &mut FunctionBuilderContext,
    ops: &[Op],
    unit: &Unit,
    env: &Env,
    adapters: [FuncRef; 8],
) {
    let flags = Flags::new(func);
    let b = FunctionBuilder::new(func, fbc);
    let mut t = Translator::new(b, ops, unit, env, adapters, flags);
    t.emit_unit();
    t.b.seal_all_blocks();
    t.b.finalize(env.frontend);
}

struct Translator<'a> {
    b: FunctionBuilder<'a>,
    ops: &'a [Op],
    unit: &'a Unit,
    env: &'a Env,
    host: Host,
    regs: [Variable; 10],
    fuel: Variable,
    /// r10: this unit's frame pointer.
    fp: Value,
    /// Per unit, computed at its entry (see `memory.rs`): the host address
    /// of r10, the lowest live stack address, and the live stack's size.
    stack: Option<memory::Stack>,
    blocks: HashMap<usize, Block>,
    out_of_code: HashMap<usize, Block>,
    /// Memory flags by what they access (see [`Translator::flags`]).
    flags: Flags,
    /// Returns status 1 (the stop is already recorded).
    stopped: Block,
    /// Row fields loaded by earlier loads of the current straight-line code.
    row_cache: Option<memory::RowCache>,
    /// Per register: how often it was written (a pointer register with an
    /// unchanged count holds the same value: see `row_cache`).
    generation: [u32; 11],
    /// Saves every register in the context, then goes to `stopped`: the
    /// one place a pause saves them (each pause jumps here).
    save_and_stop: Block,
}

impl<'a> Translator<'a> {
    fn new(
        mut b: FunctionBuilder<'a>,
        ops: &'a [Op],
        unit: &'a Unit,
        env: &'a Env,
        adapters: [FuncRef; 8],
        flags: Flags,
    ) -> Self {
        let functions = runtime::host_functions();
        let import = |i: usize| HostFn {
            func: adapters[i],
            results: functions[i].2,
        };
        let host = Host {
            load: import(runtime::HOST_LOAD),
            store: import(runtime::HOST_STORE),
            atomic: import(runtime::HOST_ATOMIC),
            op: import(runtime::HOST_OP),
            call: import(runtime::HOST_CALL),
            refill: import(runtime::HOST_REFILL),
            trap: import(runtime::HOST_TRAP),
            unwind: import(runtime::HOST_UNWIND),
            unit: b.import_signature(unit_signature()),
        };
        let regs = std::array::from_fn(|_| b.declare_var(I64));
        let fuel = b.declare_var(I64);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let fp = b.block_params(entry)[0];
        let stopped = b.create_block();
        b.set_cold_block(stopped);
        let save_and_stop = b.create_block();
        b.set_cold_block(save_and_stop);
        let mut blocks = HashMap::new();
        for &start in unit.blocks.keys() {
            blocks.insert(start, b.create_block());
        }
        let mut out_of_code = HashMap::new();
        for &pc in &unit.out_of_code {
            let block = b.create_block();
            b.set_cold_block(block);
            out_of_code.insert(pc, block);
        }
        Translator {
            b,
            ops,
            unit,
            env,
            host,
            regs,
            fuel,
            fp,
            blocks,
            out_of_code,
            flags,
            stack: None,
            row_cache: None,
            generation: [0; 11],
            stopped,
            save_and_stop,
        }
    }

    // ---- small builders ----

    fn ctx(&mut self) -> Value {
        self.b.ins().iconst(I64, self.env.ctx as i64)
    }

    fn iconst(&mut self, v: u64) -> Value {
        self.b.ins().iconst(I64, v as i64)
    }

    fn reg(&mut self, r: u8) -> Value {
        if r == 10 {
            self.fp
        } else {
            self.b.use_var(self.regs[r as usize])
        }
    }

    fn set(&mut self, r: u8, v: Value) {
        self.generation[r as usize] += 1;
        self.b.def_var(self.regs[r as usize], v);
    }

    fn ctx_load(&mut self, offset: i32) -> Value {
        let ctx = self.ctx();
        self.b.ins().load(I64, self.flags.ctx, ctx, offset)
    }

    fn ctx_store(&mut self, offset: i32, v: Value) {
        let ctx = self.ctx();
        self.b.ins().store(self.flags.ctx, v, ctx, offset);
    }

    fn save_regs(&mut self, mask: u16) {
        for r in 0..10u8 {
            if mask & (1 << r) != 0 {
                let v = self.reg(r);
                self.ctx_store(reg_offset(r), v);
            }
        }
    }

    fn host_call(&mut self, f: HostFn, args: &[Value]) -> Vec<Value> {
        // The context is the adapter's own; the rest go through memory, so
        // that a slow path puts no value in a particular register.
        for (i, &v) in args[1..].iter().enumerate() {
            self.ctx_store(CTX_ARGS + 8 * i as i32, v);
        }
        self.b.ins().call(f.func, &[]);
        (0..f.results)
            .map(|i| self.ctx_load(CTX_RET + 8 * i as i32))
            .collect()
    }

    /// Continues at the block of slot `pc`, or traps there if it is outside the code.
    fn target(&self, pc: usize) -> Block {
        match self.blocks.get(&pc) {
            Some(&b) => b,
            None => self.out_of_code[&pc],
        }
    }

    /// Stops at `pc` with `kind` (a [`runtime::jit_trap`] code).
    fn trap(&mut self, code: u64, pc: usize, aux: u64) {
        let ctx = self.ctx();
        let code = self.iconst(code);
        let pcv = self.iconst(pc as u64);
        let aux = self.iconst(aux);
        self.host_call(self.host.trap, &[ctx, code, pcv, aux]);
        self.b.ins().jump(self.stopped, &[]);
    }

    /// Branches to `stopped` when `status` is not 0, else to a new block.
    fn check_status(&mut self, status: Value) {
        let ok = self.b.create_block();
        self.b.ins().brif(status, self.stopped, &[], ok, &[]);
        self.b.switch_to_block(ok);
    }

    /// Returns from an `exit`. (A stop returns constants: callers read
    /// nothing but the status then, and no register stays live for it.)
    fn ret(&mut self, status: u64) {
        let status = self.iconst(status);
        let fuel = self.b.use_var(self.fuel);
        let mut results = vec![status, fuel, self.reg(0)];
        for r in 1..6 {
            let v = match self.unit.returns {
                Returns::All => self.reg(r),
                Returns::R0 => self.iconst(0),
            };
            results.push(v);
        }
        self.b.ins().return_(&results);
    }

    // ---- the unit ----

    fn emit_unit(&mut self) {
        let entry_block = self.b.current_block().expect("entry block");
        let params = self.b.block_params(entry_block).to_vec();
        self.b.def_var(self.fuel, params[1]);
        for r in 1..6u8 {
            self.set(r, params[r as usize + 1]);
        }
        for r in [0u8, 6, 7, 8, 9] {
            let v = if self.unit.exposed & (1 << r) != 0 {
                self.ctx_load(reg_offset(r))
            } else {
                self.iconst(0)
            };
            self.set(r, v);
        }
        // A host stack too short for another frame: stop here, and let the
        // interpreter (which needs no host stack per call) go on.
        let sp = self.b.ins().get_stack_pointer(I64);
        let limit = self.ctx_load(CTX_STACK_LIMIT);
        let low = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit);
        let deep = self.b.create_block();
        self.b.set_cold_block(deep);
        let go = self.b.create_block();
        self.b.ins().brif(low, deep, &[], go, &[]);
        self.b.switch_to_block(deep);
        self.pause(PAUSE_NATIVE_STACK, self.unit.entry);
        self.b.switch_to_block(go);
        self.stack = Some(self.stack_at_entry());
        self.enter_frame();
        let first = self.blocks[&self.unit.entry];
        self.b.ins().jump(first, &[]);

        self.b.switch_to_block(self.stopped);
        let one = self.iconst(1);
        let zero = self.iconst(0);
        let mut results = vec![one];
        results.resize(UNIT_RESULTS, zero);
        self.b.ins().return_(&results);

        let out_of_code: Vec<usize> = self.unit.out_of_code.iter().copied().collect();
        for pc in out_of_code {
            self.b.switch_to_block(self.out_of_code[&pc]);
            self.trap(TRAP_PC_OUT_OF_RANGE, pc, pc as u64);
        }

        let starts: Vec<usize> = self.unit.blocks.keys().copied().collect();
        for start in starts {
            self.emit_block(start);
        }

        self.b.switch_to_block(self.save_and_stop);
        self.save_regs(0x3ff);
        self.b.ins().jump(self.stopped, &[]);
    }

    /// Saves every register and stops at `pc` (a [`runtime::jit_trap`] pause code).
    /// (The fuel goes back to the budget.)
    fn pause(&mut self, code: u64, pc: usize) {
        let fuel = self.b.use_var(self.fuel);
        let ctx = self.ctx();
        let code = self.iconst(code);
        let pcv = self.iconst(pc as u64);
        self.host_call(self.host.trap, &[ctx, code, pcv, fuel]);
        self.b.ins().jump(self.save_and_stop, &[]);
    }

    fn emit_block(&mut self, start: usize) {
        let info = self.unit.blocks[&start];
        self.b.switch_to_block(self.blocks[&start]);
        self.row_cache = None;
        if let Some(reserve) = info.reserve {
            self.checkpoint(start, reserve);
        }
        let fuel = self.b.use_var(self.fuel);
        let fuel = self.b.ins().iadd_imm_s(fuel, -(info.cost as i64));
        self.b.def_var(self.fuel, fuel);
        let mut pc = start;
        loop {
            let next = self.emit_op(pc);
            if !memory::keeps_rows(self.ops[pc].kind) {
                // (What the instruction loaded for its own check is stale now.)
                self.row_cache = None;
            }
            match next {
                Some(next) if self.blocks.contains_key(&next) || next >= self.ops.len() => {
                    let target = self.target(next);
                    self.b.ins().jump(target, &[]);
                    return;
                }
                Some(next) => pc = next,
                None => return,
            }
        }
    }

    /// Ensures `reserve` instructions of fuel, asking the host for more.
    fn checkpoint(&mut self, pc: usize, reserve: u64) {
        let fuel = self.b.use_var(self.fuel);
        let enough =
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, fuel, reserve as i64);
        let refill = self.b.create_block();
        self.b.set_cold_block(refill);
        let body = self.b.create_block();
        self.b.ins().brif(enough, body, &[], refill, &[]);

        self.b.switch_to_block(refill);
        let ctx = self.ctx();
        let need = self.iconst(reserve);
        let pcv = self.iconst(pc as u64);
        let r = self.host_call(self.host.refill, &[ctx, fuel, need, pcv]);
        self.b.def_var(self.fuel, r[1]);
        self.b.ins().brif(r[0], self.save_and_stop, &[], body, &[]);
        self.b.switch_to_block(body);
    }

    /// Emits the instruction at `pc`; returns the slot control falls
    /// through to, or `None` if the instruction ended the block itself.
    fn emit_op(&mut self, pc: usize) -> Option<usize> {
        use Kind::*;
        let op = self.ops[pc];
        if !memory::keeps_rows(op.kind) {
            // (The instruction may reach the host: the table may change.)
            self.row_cache = None;
        }
        let imm = Operand::Imm(op.imm);
        // The right operand of an ALU op in register form.
        let y = if is_reg_form(op.kind) {
            Operand::Reg(self.reg(op.src2))
        } else {
            imm
        };
        match op.kind {
            // ---- ALU64: r[dst] = r[src] op (imm | r[src2]) ----
            Add64Imm => self.alu64(&op, imm, |b, x, y| b.ins().iadd(x, y)),
            Add64Reg => self.alu64(&op, y, |b, x, y| b.ins().iadd(x, y)),
            Sub64Imm => self.alu64(&op, imm, |b, x, y| b.ins().isub(x, y)),
            Sub64Reg => self.alu64(&op, y, |b, x, y| b.ins().isub(x, y)),
            Mul64Imm => self.alu64(&op, imm, |b, x, y| b.ins().imul(x, y)),
            Mul64Reg => self.alu64(&op, y, |b, x, y| b.ins().imul(x, y)),
            Or64Imm => self.alu64(&op, imm, |b, x, y| b.ins().bor(x, y)),
            Or64Reg => self.alu64(&op, y, |b, x, y| b.ins().bor(x, y)),
            And64Imm => self.alu64(&op, imm, |b, x, y| b.ins().band(x, y)),
            And64Reg => self.alu64(&op, y, |b, x, y| b.ins().band(x, y)),
            Xor64Imm => self.alu64(&op, imm, |b, x, y| b.ins().bxor(x, y)),
            Xor64Reg => self.alu64(&op, y, |b, x, y| b.ins().bxor(x, y)),
            Lsh64Imm => self.alu64(&op, imm, |b, x, y| b.ins().ishl(x, y)),
            Lsh64Reg => self.alu64(&op, y, |b, x, y| b.ins().ishl(x, y)),
            Rsh64Imm => self.alu64(&op, imm, |b, x, y| b.ins().ushr(x, y)),
            Rsh64Reg => self.alu64(&op, y, |b, x, y| b.ins().ushr(x, y)),
            Arsh64Imm => self.alu64(&op, imm, |b, x, y| b.ins().sshr(x, y)),
            Arsh64Reg => self.alu64(&op, y, |b, x, y| b.ins().sshr(x, y)),
            Mov64Imm => self.alu64(&op, imm, |_, _, y| y),
            Mov64Reg => self.alu64(&op, imm, |_, x, _| x),
            Neg64 => self.alu64(&op, imm, |b, x, _| b.ins().ineg(x)),
            Movsx64From8 => self.alu64(&op, imm, |b, x, _| sext(b, x, I8, I64)),
            Movsx64From16 => self.alu64(&op, imm, |b, x, _| sext(b, x, I16, I64)),
            Movsx64From32 => self.alu64(&op, imm, |b, x, _| sext(b, x, I32, I64)),
            Swap16 => self.alu64(&op, imm, |b, x, _| swap(b, x, I16)),
            Swap32 => self.alu64(&op, imm, |b, x, _| swap(b, x, I32)),
            Swap64 => self.alu64(&op, imm, |b, x, _| b.ins().bswap(x)),
            Zext16 => self.alu64(&op, imm, |b, x, _| b.ins().band_imm_s(x, 0xffff)),
            Zext32 => self.alu64(&op, imm, |b, x, _| b.ins().band_imm_s(x, 0xffff_ffff)),
            Div64Imm | Div64Reg | Mod64Imm | Mod64Reg | SDiv64Imm | SDiv64Reg | SMod64Imm
            | SMod64Reg => {
                let x = self.reg(op.src);
                let v = self.divide(op.kind, I64, x, y);
                self.set(op.dst, v);
            }

            // ---- ALU32: computed on the low halves, zero-extended ----
            Add32Imm => self.alu32(&op, imm, |b, x, y| b.ins().iadd(x, y)),
            Add32Reg => self.alu32(&op, y, |b, x, y| b.ins().iadd(x, y)),
            Sub32Imm => self.alu32(&op, imm, |b, x, y| b.ins().isub(x, y)),
            Sub32Reg => self.alu32(&op, y, |b, x, y| b.ins().isub(x, y)),
            Mul32Imm => self.alu32(&op, imm, |b, x, y| b.ins().imul(x, y)),
            Mul32Reg => self.alu32(&op, y, |b, x, y| b.ins().imul(x, y)),
            Or32Imm => self.alu32(&op, imm, |b, x, y| b.ins().bor(x, y)),
            Or32Reg => self.alu32(&op, y, |b, x, y| b.ins().bor(x, y)),
            And32Imm => self.alu32(&op, imm, |b, x, y| b.ins().band(x, y)),
            And32Reg => self.alu32(&op, y, |b, x, y| b.ins().band(x, y)),
            Xor32Imm => self.alu32(&op, imm, |b, x, y| b.ins().bxor(x, y)),
            Xor32Reg => self.alu32(&op, y, |b, x, y| b.ins().bxor(x, y)),
            Lsh32Imm => self.alu32(&op, imm, |b, x, y| b.ins().ishl(x, y)),
            Lsh32Reg => self.alu32(&op, y, |b, x, y| b.ins().ishl(x, y)),
            Rsh32Imm => self.alu32(&op, imm, |b, x, y| b.ins().ushr(x, y)),
            Rsh32Reg => self.alu32(&op, y, |b, x, y| b.ins().ushr(x, y)),
            Arsh32Imm => self.alu32(&op, imm, |b, x, y| b.ins().sshr(x, y)),
            Arsh32Reg => self.alu32(&op, y, |b, x, y| b.ins().sshr(x, y)),
            Mov32Imm => self.alu32(&op, imm, |_, _, y| y),
            Mov32Reg => self.alu32(&op, imm, |_, x, _| x),
            Neg32 => self.alu32(&op, imm, |b, x, _| b.ins().ineg(x)),
            Movsx32From8 => self.alu32(&op, imm, |b, x, _| sext(b, x, I8, I32)),
            Movsx32From16 => self.alu32(&op, imm, |b, x, _| sext(b, x, I16, I32)),
            Div32Imm | Div32Reg | Mod32Imm | Mod32Reg | SDiv32Imm | SDiv32Reg | SMod32Imm
            | SMod32Reg => {
                let y = match y {
                    Operand::Reg(v) => Operand::Reg(self.b.ins().ireduce(I32, v)),
                    Operand::Imm(v) => Operand::Imm(v as u32 as u64),
                };
                let x = self.reg(op.src);
                let x = self.b.ins().ireduce(I32, x);
                let v = self.divide(op.kind, I32, x, y);
                let v = self.b.ins().uextend(I64, v);
                self.set(op.dst, v);
            }
            Nop => {}

            // ---- jumps ----
            Ja => {
                let target = self.target(op.aux as usize);
                self.b.ins().jump(target, &[]);
                return None;
            }
            kind if crate::analysis::is_conditional_jump(kind) => {
                let taken = self.condition(&op);
                let target = self.target(op.aux as usize);
                let next = self.target(pc + 1);
                self.b.ins().brif(taken, target, &[], next, &[]);
                return None;
            }

            // ---- calls and exit ----
            CallLocal => {
                self.call(pc, None, op.aux as usize);
                return None;
            }
            Callx => {
                let addr = self.reg(op.dst);
                self.call(pc, Some(addr), 0);
                return None;
            }
            CallHelper | CallRuntime | LdAbs | LdInd => {
                self.host_op(pc, &op);
                return None;
            }
            Exit => {
                self.ret(0);
                return None;
            }

            // ---- loads, stores, atomics ----
            LdImm64 => {
                let v = self.iconst(op.imm);
                self.set(op.dst, v);
                return Some(pc + 2);
            }
            Ldx8 | Ldx16 | Ldx32 | Ldx64 | Ldxs8 | Ldxs16 | Ldxs32 | LdxP8 | LdxP16 | LdxP32
            | LdxP64 | LdxsP8 | LdxsP16 | LdxsP32 => {
                let (size, signed) = match op.kind {
                    Ldx8 | LdxP8 => (1, false),
                    Ldx16 | LdxP16 => (2, false),
                    Ldx32 | LdxP32 => (4, false),
                    Ldx64 | LdxP64 => (8, false),
                    Ldxs8 | LdxsP8 => (1, true),
                    Ldxs16 | LdxsP16 => (2, true),
                    _ => (4, true),
                };
                let v = self.load(pc, op.src, op.offset(), size, signed);
                self.set(op.dst, v);
            }
            St8 | St16 | St32 | St64 | Stx8 | Stx16 | Stx32 | Stx64 => {
                let size = match op.kind {
                    St8 | Stx8 => 1,
                    St16 | Stx16 => 2,
                    St32 | Stx32 => 4,
                    _ => 8,
                };
                let value = match op.kind {
                    St8 | St16 | St32 | St64 => self.iconst(op.imm),
                    _ => self.reg(op.src),
                };
                self.store(pc, op.dst, op.offset(), size, value);
            }
            Atomic32 | Atomic64 => self.atomic(pc, &op),

            // ---- what never runs ----
            LdImm64Truncated => {
                self.trap(TRAP_PC_OUT_OF_RANGE, pc, pc as u64 + 1);
                return None;
            }
            _ => {
                // `Invalid` (and, defensively, anything unexpected).
                self.trap(TRAP_PC_OUT_OF_RANGE, pc, pc as u64);
                return None;
            }
        }
        Some(pc + 1)
    }

    /// A helper call or legacy packet load, through [`runtime::jit_host_op`]:
    /// it may run callbacks in the next frame (which read the caller's r0
    /// and r6–r9 and leave r1–r5 changed), or a tail call in this frame
    /// (after which this function returns what the replacement returned).
    fn host_op(&mut self, pc: usize, op: &Op) {
        match op.kind {
            Kind::LdAbs => {}
            Kind::LdInd if op.src == 10 => self.ctx_store(reg_offset(10), self.fp),
            Kind::LdInd => self.save_regs(1 << op.src),
            _ => self.save_regs(CALLER_REGS | ARG_REGS),
        }
        let ctx = self.ctx();
        let fuel = self.b.use_var(self.fuel);
        let pcv = self.iconst(pc as u64);
        let r = self.host_call(self.host.op, &[ctx, self.fp, fuel, pcv]);
        let fuel = self.ctx_load(CTX_FUEL);
        self.b.def_var(self.fuel, fuel);
        let other = self.b.create_block();
        self.b.set_cold_block(other);
        let ok = self.b.create_block();
        self.b.ins().brif(r[0], other, &[], ok, &[]);
        self.b.switch_to_block(other);
        let tail = self
            .b
            .ins()
            .icmp_imm_u(IntCC::Equal, r[0], OP_TAIL_RETURNED as i64);
        let returned = self.b.create_block();
        self.b.set_cold_block(returned);
        self.b.ins().brif(tail, returned, &[], self.stopped, &[]);
        self.b.switch_to_block(returned);
        let zero = self.iconst(0);
        let mut results = vec![zero, fuel];
        for reg in 0..6 {
            results.push(self.ctx_load(reg_offset(reg)));
        }
        self.b.ins().return_(&results);

        self.b.switch_to_block(ok);
        self.set(0, r[1]);
        let live = self
            .unit
            .args_live_after_call
            .get(&pc)
            .copied()
            .unwrap_or(0);
        for reg in 1..6u8 {
            if live & (1 << reg) != 0 {
                let v = self.ctx_load(reg_offset(reg));
                self.set(reg, v);
            }
        }
        let next = self.target(pc + 1);
        self.b.ins().jump(next, &[]);
    }

    fn operand(&mut self, y: Operand, ty: Type) -> Value {
        match y {
            Operand::Reg(v) => v,
            Operand::Imm(v) => self.b.ins().iconst(ty, v as i64 & mask(ty)),
        }
    }

    fn alu64(
        &mut self,
        op: &Op,
        y: Operand,
        f: impl FnOnce(&mut FunctionBuilder, Value, Value) -> Value,
    ) {
        let x = self.reg(op.src);
        let y = self.operand(y, I64);
        let v = f(&mut self.b, x, y);
        self.set(op.dst, v);
    }

    fn alu32(
        &mut self,
        op: &Op,
        y: Operand,
        f: impl FnOnce(&mut FunctionBuilder, Value, Value) -> Value,
    ) {
        let x = self.reg(op.src);
        let x = self.b.ins().ireduce(I32, x);
        let y = match y {
            Operand::Reg(v) => self.b.ins().ireduce(I32, v),
            Operand::Imm(v) => self.b.ins().iconst(I32, v as u32 as i64),
        };
        let v = f(&mut self.b, x, y);
        let v = self.b.ins().uextend(I64, v);
        self.set(op.dst, v);
    }

    /// Division and remainder by the ISA's rules: by zero the quotient is
    /// 0 and the remainder the dividend; MIN / -1 wraps to MIN, MIN % -1
    /// is 0. The host's divide instruction never sees 0 or (signed) -1.
    fn divide(&mut self, kind: Kind, ty: Type, x: Value, y: Operand) -> Value {
        use Kind::*;
        let signed = matches!(
            kind,
            SDiv64Imm
                | SDiv64Reg
                | SMod64Imm
                | SMod64Reg
                | SDiv32Imm
                | SDiv32Reg
                | SMod32Imm
                | SMod32Reg
        );
        let rem = matches!(
            kind,
            Mod64Imm
                | Mod64Reg
                | SMod64Imm
                | SMod64Reg
                | Mod32Imm
                | Mod32Reg
                | SMod32Imm
                | SMod32Reg
        );
        let all_ones = mask(ty) as u64;
        if let Operand::Imm(v) = y {
            let v = v & all_ones;
            return match (v, signed, rem) {
                (0, _, false) => self.b.ins().iconst(ty, 0),
                (0, _, true) => x,
                (v, true, false) if v == all_ones => self.b.ins().ineg(x),
                (v, true, true) if v == all_ones => self.b.ins().iconst(ty, 0),
                (v, _, _) => {
                    let d = self.b.ins().iconst(ty, v as i64);
                    match (signed, rem) {
                        (false, false) => self.b.ins().udiv(x, d),
                        (false, true) => self.b.ins().urem(x, d),
                        (true, false) => self.b.ins().sdiv(x, d),
                        (true, true) => self.b.ins().srem(x, d),
                    }
                }
            };
        }
        let Operand::Reg(d) = y else { unreachable!() };
        // The divisors the host's instruction must not see (0, and -1 when
        // signed) take a cold block; the divisor is usually the same on
        // every pass, so the branch predicts well.
        let special = if signed {
            // d + 1 <= 1 (unsigned): d is -1 or 0.
            let d1 = self.b.ins().iadd_imm_s(d, 1);
            self.b
                .ins()
                .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, d1, 1)
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, d, 0)
        };
        let odd = self.b.create_block();
        self.b.set_cold_block(odd);
        let plain = self.b.create_block();
        let join = self.b.create_block();
        self.b.append_block_param(join, ty);
        self.b.ins().brif(special, odd, &[], plain, &[]);

        self.b.switch_to_block(plain);
        let v = match (signed, rem) {
            (false, false) => self.b.ins().udiv(x, d),
            (false, true) => self.b.ins().urem(x, d),
            (true, false) => self.b.ins().sdiv(x, d),
            (true, true) => self.b.ins().srem(x, d),
        };
        self.b.ins().jump(join, &[v.into()]);

        // By 0: quotient 0, remainder the dividend; by -1: quotient -x
        // (MIN wraps to MIN), remainder 0.
        self.b.switch_to_block(odd);
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, d, 0);
        let z = self.b.ins().iconst(ty, 0);
        let v = if rem {
            self.b.ins().select(zero, x, z)
        } else {
            let neg = self.b.ins().ineg(x);
            self.b.ins().select(zero, z, neg)
        };
        self.b.ins().jump(join, &[v.into()]);
        self.b.switch_to_block(join);
        self.b.block_params(join)[0]
    }

    /// The condition of a conditional jump.
    fn condition(&mut self, op: &Op) -> Value {
        use Kind::*;
        let k = op.kind;
        let is32 = (Jeq32Imm as u8..=Jsle32Reg as u8).contains(&(k as u8));
        let ty = if is32 { I32 } else { I64 };
        let reg_form = is_reg_form(k);
        let mut x = self.reg(op.dst);
        let mut y = if reg_form {
            self.reg(op.src)
        } else {
            self.b.ins().iconst(I64, op.imm as i64)
        };
        if is32 {
            x = self.b.ins().ireduce(I32, x);
            y = self.b.ins().ireduce(I32, y);
        }
        let cc = match k {
            Jeq64Imm | Jeq64Reg | Jeq32Imm | Jeq32Reg => IntCC::Equal,
            Jne64Imm | Jne64Reg | Jne32Imm | Jne32Reg => IntCC::NotEqual,
            Jgt64Imm | Jgt64Reg | Jgt32Imm | Jgt32Reg => IntCC::UnsignedGreaterThan,
            Jge64Imm | Jge64Reg | Jge32Imm | Jge32Reg => IntCC::UnsignedGreaterThanOrEqual,
            Jlt64Imm | Jlt64Reg | Jlt32Imm | Jlt32Reg => IntCC::UnsignedLessThan,
            Jle64Imm | Jle64Reg | Jle32Imm | Jle32Reg => IntCC::UnsignedLessThanOrEqual,
            Jsgt64Imm | Jsgt64Reg | Jsgt32Imm | Jsgt32Reg => IntCC::SignedGreaterThan,
            Jsge64Imm | Jsge64Reg | Jsge32Imm | Jsge32Reg => IntCC::SignedGreaterThanOrEqual,
            Jslt64Imm | Jslt64Reg | Jslt32Imm | Jslt32Reg => IntCC::SignedLessThan,
            Jsle64Imm | Jsle64Reg | Jsle32Imm | Jsle32Reg => IntCC::SignedLessThanOrEqual,
            // Jset
            _ => {
                let and = self.b.ins().band(x, y);
                return self.b.ins().icmp_imm_s(IntCC::NotEqual, and, 0);
            }
        };
        let _ = ty;
        self.b.ins().icmp(cc, x, y)
    }

    /// `JitCtx::sites[depth of this frame] = pc`: the BPF call stack a
    /// helper call may ask for (memcheck's allocation stacks).
    fn record_call_site(&mut self, pc: usize) {
        let end = self.iconst(self.env.stack_end);
        let down = self.b.ins().isub(end, self.fp);
        let fs = self.env.frame_size;
        let depth = if fs.is_power_of_two() {
            self.b.ins().ushr_imm_s(down, fs.trailing_zeros() as i64)
        } else {
            let fs = self.iconst(fs);
            self.b.ins().udiv(down, fs)
        };
        let at = self.b.ins().ishl_imm_s(depth, 2);
        let table = self.ctx_load(CTX_SITES);
        let at = self.b.ins().iadd(table, at);
        let pcv = self.b.ins().iconst(I32, pc as i64);
        self.b.ins().store(MemFlagsData::trusted(), pcv, at, 0);
    }

    /// Continues at `ok` if a frame at `callee_fp` is within the depth
    /// limit, else at `deep`.
    fn depth_check(&mut self, callee_fp: Value, deep: Block, ok: Block) {
        let min = self.env.min_fp as i64;
        let too_deep = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, callee_fp, min);
        self.b.ins().brif(too_deep, deep, &[], ok, &[]);
    }

    /// A local call (`callx`: `addr` is the target address): the callee
    /// runs in the next frame, natively through the slot tables when it
    /// has code, else through the host (which compiles or interprets it).
    fn call(&mut self, pc: usize, addr: Option<Value>, target: usize) {
        // The callee may read the caller's r0 and r6-r9 before writing them.
        self.save_regs(CALLER_REGS);
        self.record_call_site(pc);
        // The variant of the callee: whether r1-r5 are read after it.
        let live = self
            .unit
            .args_live_after_call
            .get(&pc)
            .copied()
            .unwrap_or(ARG_REGS);
        let returns = Returns::for_live(live);
        let variant = 8 * returns.index() as i32;
        let callee_fp = self
            .b
            .ins()
            .iadd_imm_s(self.fp, -(self.env.frame_size as i64));
        // The depth limit: for a local call before anything else; for a
        // `callx` once the target is known to be a function (as the
        // interpreter checks them).
        let deep = self.b.create_block();
        self.b.set_cold_block(deep);
        let lookup = self.b.create_block();
        if addr.is_none() {
            self.depth_check(callee_fp, deep, lookup);
        } else {
            self.b.ins().jump(lookup, &[]);
        }
        self.b.switch_to_block(deep);
        self.trap(TRAP_CALL_DEPTH, pc, 0);

        // The slot's native code, or 0.
        self.b.switch_to_block(lookup);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let fast = self.b.create_block();
        self.b.append_block_param(fast, I64);
        let code = match addr {
            None if target < self.env.code_len => {
                let table = self.ctx_load(CTX_NATIVE);
                let at = 16 * target as i32 + variant;
                self.b.ins().load(I64, MemFlagsData::trusted(), table, at)
            }
            None => self.iconst(0),
            Some(addr) => {
                // slot = (addr - code base) / 8, when aligned and inside the table
                let off = self
                    .b
                    .ins()
                    .iadd_imm_s(addr, -(RegionKind::Code.base() as i64));
                let slot = self.b.ins().ushr_imm_s(off, 3);
                let misaligned = self.b.ins().band_imm_s(off, 7);
                let len = self.ctx_load(CTX_TABLE_LEN);
                let outside = self
                    .b
                    .ins()
                    .icmp(IntCC::UnsignedGreaterThanOrEqual, slot, len);
                let bad = self.b.ins().bor(misaligned, outside);
                let read = self.b.create_block();
                self.b.ins().brif(bad, slow, &[], read, &[]);
                self.b.switch_to_block(read);
                let table = self.ctx_load(CTX_CALLX);
                let at = self.b.ins().ishl_imm_s(slot, 4);
                let at = self.b.ins().iadd(table, at);
                self.b.ins().load(I64, MemFlagsData::trusted(), at, variant)
            }
        };
        self.b.ins().brif(code, fast, &[code.into()], slow, &[]);

        // The join gets the status, the fuel, r0 and the live ones of r1-r5.
        let returned_regs: Vec<u8> = (0..6u8)
            .filter(|r| *r == 0 || live & (1 << r) != 0)
            .collect();
        let join = self.b.create_block();
        for _ in 0..2 + returned_regs.len() {
            self.b.append_block_param(join, I64);
        }
        // Native: a call with the next frame.
        self.b.switch_to_block(fast);
        let code = self.b.block_params(fast)[0];
        if addr.is_some() {
            let call = self.b.create_block();
            self.depth_check(callee_fp, deep, call);
            self.b.switch_to_block(call);
        }
        let fuel = self.b.use_var(self.fuel);
        let mut args = vec![callee_fp, fuel];
        for r in 1..6 {
            args.push(self.reg(r));
        }
        let call = self.b.ins().call_indirect(self.host.unit, code, &args);
        let results = self.b.inst_results(call).to_vec();
        let mut vals: Vec<_> = vec![results[0].into(), results[1].into()];
        vals.extend(
            returned_regs
                .iter()
                .map(|&r| BlockArg::from(results[2 + r as usize])),
        );
        self.b.ins().jump(join, &vals);

        // Through the host.
        self.b.switch_to_block(slow);
        self.save_regs(0b111110);
        let ctx = self.ctx();
        let fuel = self.b.use_var(self.fuel);
        let mut flags = if addr.is_some() { CALL_X } else { 0 };
        if returns == Returns::All {
            flags |= CALL_ALL;
        }
        let target = match addr {
            Some(a) => a,
            None => self.iconst(target as u64),
        };
        let flags = self.iconst(flags);
        let pcv = self.iconst(pc as u64);
        let r = self.host_call(self.host.call, &[ctx, self.fp, fuel, target, flags, pcv]);
        // Status 2: the call itself trapped, this frame is not a caller yet.
        let own = self.b.ins().icmp_imm_u(IntCC::Equal, r[0], 2);
        let returned = self.b.create_block();
        self.b.ins().brif(own, self.stopped, &[], returned, &[]);
        self.b.switch_to_block(returned);
        let mut vals: Vec<_> = vec![r[0].into(), r[1].into()];
        for &reg in &returned_regs {
            vals.push(self.ctx_load(reg_offset(reg)).into());
        }
        self.b.ins().jump(join, &vals);

        // Back in this frame: r0-r5 as the callee left them, r6-r9 as they were.
        self.b.switch_to_block(join);
        let vals = self.b.block_params(join).to_vec();
        self.b.def_var(self.fuel, vals[1]);
        let unwind = self.b.create_block();
        self.b.set_cold_block(unwind);
        let back = self.b.create_block();
        self.b.ins().brif(vals[0], unwind, &[], back, &[]);
        self.b.switch_to_block(unwind);
        let ctx = self.ctx();
        let ret = self.iconst(pc as u64 + 1);
        let mut args = vec![ctx, ret];
        for r in 6..10 {
            args.push(self.reg(r));
        }
        self.host_call(self.host.unwind, &args);
        self.b.ins().jump(self.stopped, &[]);

        self.b.switch_to_block(back);
        for (&reg, &v) in returned_regs.iter().zip(&vals[2..]) {
            self.set(reg, v);
        }
        self.enter_frame();
        let next = self.target(pc + 1);
        self.b.ins().jump(next, &[]);
    }
}

fn mask(ty: Type) -> i64 {
    if ty == I32 {
        u32::MAX as i64
    } else {
        -1
    }
}

/// True for the kinds whose right operand is a register (`src2` for ALU
/// ops, `src` for jumps) rather than the immediate.
fn is_reg_form(kind: Kind) -> bool {
    use Kind::*;
    matches!(
        kind,
        Add64Reg
            | Sub64Reg
            | Mul64Reg
            | Div64Reg
            | SDiv64Reg
            | Or64Reg
            | And64Reg
            | Lsh64Reg
            | Rsh64Reg
            | Mod64Reg
            | SMod64Reg
            | Xor64Reg
            | Mov64Reg
            | Arsh64Reg
            | Add32Reg
            | Sub32Reg
            | Mul32Reg
            | Div32Reg
            | SDiv32Reg
            | Or32Reg
            | And32Reg
            | Lsh32Reg
            | Rsh32Reg
            | Mod32Reg
            | SMod32Reg
            | Xor32Reg
            | Mov32Reg
            | Arsh32Reg
            | Jeq64Reg
            | Jgt64Reg
            | Jge64Reg
            | Jset64Reg
            | Jne64Reg
            | Jsgt64Reg
            | Jsge64Reg
            | Jlt64Reg
            | Jle64Reg
            | Jslt64Reg
            | Jsle64Reg
            | Jeq32Reg
            | Jgt32Reg
            | Jge32Reg
            | Jset32Reg
            | Jne32Reg
            | Jsgt32Reg
            | Jsge32Reg
            | Jlt32Reg
            | Jle32Reg
            | Jslt32Reg
            | Jsle32Reg
    )
}

fn sext(b: &mut FunctionBuilder, x: Value, from: Type, to: Type) -> Value {
    let narrow = b.ins().ireduce(from, x);
    b.ins().sextend(to, narrow)
}

fn swap(b: &mut FunctionBuilder, x: Value, width: Type) -> Value {
    let narrow = b.ins().ireduce(width, x);
    let swapped = b.ins().bswap(narrow);
    b.ins().uextend(I64, swapped)
}
