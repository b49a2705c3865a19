//! The engine: compiled units and their slot tables ([`Core`]), and the
//! driver that runs a call on native code, hands the run to the
//! interpreter where native code stopped, and — in `auto` mode — lets the
//! interpreter start and compiles once a call or an entry is hot ([`Jit`]).

use crate::analysis::{analyse, Returns, Unsupported};
use crate::runtime::{JitCtx, Stop};
use crate::translate::{host_signature, translate, unit_signature, Env};
use crate::EngineKind;
use bpf_vm::exec::{Engine, ExecState, Outcome, RESUME_BIT};
use bpf_vm::{RegionKind, Trap, TrapKind, Vm, VmConfig};
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{AbiParam, InstBuilder, MemFlagsData, Signature, UserFuncName};
use cranelift_codegen::isa::CallConv;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use std::collections::HashMap;
use std::mem::offset_of;
use std::ops::Range;
use std::time::{Duration, Instant};

/// Host stack kept free below native BPF frames, for helpers.
const HOST_STACK_MARGIN: usize = 256 * 1024;

/// What compiling has cost so far (for `--show-times`-like reports and
/// the benchmark's translation figure).
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub units: u64,
    pub instructions: u64,
    pub time: Duration,
}

struct UnitCode {
    code: usize,
    /// The slots translated, and those outside the code it traps at.
    slots: Vec<usize>,
    out_of_code: Vec<usize>,
    /// Its local calls: the target and the variant each asks for.
    calls: Vec<(usize, Returns)>,
}

impl UnitCode {
    fn touches(&self, range: &Range<usize>) -> bool {
        let hit = |v: &Vec<usize>| {
            let i = v.partition_point(|&s| s < range.start);
            v.get(i).is_some_and(|&s| s < range.end)
        };
        hit(&self.slots) || hit(&self.out_of_code)
    }
}

/// Compiled units for one VM configuration, and the tables native calls
/// go through.
pub struct Core {
    module: JITModule,
    isa: OwnedTargetIsa,
    fbc: FunctionBuilderContext,
    cctx: cranelift_codegen::Context,
    units: HashMap<(usize, Returns), UnitCode>,
    /// Entries whose unit cannot be translated (they are interpreted).
    refused: HashMap<usize, Unsupported>,
    /// Per slot and variant ([`Returns::index`]): the unit's code, or 0;
    /// `callx` has them for registered function entries only.
    native: Vec<[usize; 2]>,
    callx: Vec<[usize; 2]>,
    /// `JitCtx::sites`: the call slot of each frame depth.
    sites: Vec<u32>,
    /// Whether the code tests memcheck's shadow.
    memcheck: bool,
    trampoline: extern "C" fn(usize, u64, u64) -> u64,
    /// Register-preserving adapters of the host functions.
    adapters: [FuncId; 8],
    ctx: *mut JitCtx,
    config: VmConfig,
    next_name: u32,
    pub stats: Stats,
}

/// The ISA of this host, or why there is none.
pub fn host_isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k, v| f.set(k, v).map_err(|e| e.to_string());
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "preserve_frame_pointers", "false")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    let builder = cranelift_native::builder()
        .map_err(|e| format!("Cranelift has no code generator for this host: {e}"))?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("Cranelift cannot target this host: {e}"))
}

impl Core {
    fn new(config: VmConfig, memcheck: bool, ctx: *mut JitCtx) -> Result<Box<Core>, String> {
        let isa = host_isa()?;
        let module = JITModule::new(JITBuilder::with_isa(isa.clone(), default_libcall_names()));
        let mut core = Box::new(Core {
            module,
            isa,
            fbc: FunctionBuilderContext::new(),
            cctx: cranelift_codegen::Context::new(),
            units: HashMap::new(),
            refused: HashMap::new(),
            native: Vec::new(),
            callx: Vec::new(),
            sites: vec![0; config.max_call_depth.max(1)],
            memcheck,
            trampoline: placeholder,
            adapters: [FuncId::from_u32(0); 8],
            ctx,
            config,
            next_name: 0,
            stats: Stats::default(),
        });
        core.trampoline = core.build_trampoline()?;
        for (i, (host, params, results)) in crate::runtime::host_functions().into_iter().enumerate()
        {
            core.adapters[i] = core.build_adapter(host, params, results)?;
        }
        Ok(core)
    }

    /// r10 of the entry frame.
    pub fn entry_fp(&self) -> u64 {
        RegionKind::Stack.base() + (self.config.frame_size * self.config.max_call_depth) as u64
    }

    /// The depth of the frame whose r10 is `fp` (0: the entry frame).
    pub fn depth_of(&self, fp: u64) -> usize {
        ((self.entry_fp() - fp) / self.config.frame_size as u64) as usize
    }

    /// The lowest r10 a frame may have (the call-depth limit).
    pub fn min_fp(&self) -> u64 {
        let fs = self.config.frame_size as u64;
        self.entry_fp() - fs * (self.config.max_call_depth as u64 - 1)
    }

    fn env(&self, code_len: usize, memcheck: bool) -> Env {
        Env {
            memcheck,
            ctx: self.ctx,
            frame_size: self.config.frame_size as u64,
            min_fp: self.min_fp(),
            stack_end: self.entry_fp(),
            code_len,
            frontend: self.isa.frontend_config(),
        }
    }

    /// Runs the unit `code` in the frame `fp` with `fuel`; r1..r5 come
    /// from `JitCtx::regs` and r0..r5 go back there (the trampoline stores
    /// the unit's results), the fuel to `JitCtx::fuel`.
    pub fn enter(&self, code: usize, fp: u64, fuel: u64) -> u64 {
        (self.trampoline)(code, fp, fuel)
    }

    /// Writes the table addresses into the context.
    pub fn publish(&mut self, ctx: &mut JitCtx) {
        ctx.sites = self.sites.as_mut_ptr();
        ctx.native = self.native.as_ptr();
        ctx.callx = self.callx.as_ptr();
        ctx.table_len = self.native.len() as u64;
    }

    /// The native code of the unit entered at `slot` that hands back
    /// `returns`, compiling it first if needed; `None` if it must be
    /// interpreted.
    pub fn unit_code(&mut self, vm: &Vm, slot: usize, returns: Returns) -> Option<usize> {
        let len = vm.ops().len();
        if self.native.len() < len {
            self.native.resize(len, [0; 2]);
            self.callx.resize(len, [0; 2]);
        }
        if slot >= len || self.refused.contains_key(&slot) {
            return None;
        }
        let code = match self.units.get(&(slot, returns)) {
            Some(u) => u.code,
            None => {
                let compile = || self.compile(vm, slot, returns);
                match stacker::maybe_grow(512 * 1024, 4 << 20, compile) {
                    Ok(code) => code,
                    Err(why) => {
                        self.refused.insert(slot, why);
                        return None;
                    }
                }
            }
        };
        let v = returns.index();
        self.native[slot][v] = code;
        self.callx[slot][v] = if vm.is_entry(slot) { code } else { 0 };
        Some(code)
    }

    /// Why the unit at `slot` is interpreted, if it is.
    pub fn refusal(&self, slot: usize) -> Option<&Unsupported> {
        self.refused.get(&slot)
    }

    fn compile(&mut self, vm: &Vm, slot: usize, returns: Returns) -> Result<usize, Unsupported> {
        let start = Instant::now();
        let ops = vm.ops();
        let mut unit = analyse(ops, slot, returns)?;
        unit.proofs = unit
            .slots
            .iter()
            .filter_map(|&s| vm.access_proof(s).map(|region| (s, region)))
            .collect();
        unit.guesses = crate::provenance::guess_regions(ops, &unit);
        let env = self.env(ops.len(), self.memcheck);
        let name = format!("bpf_{slot}_{}", self.next_name);
        self.next_name += 1;
        let fail = |e: String| Unsupported { pc: slot, what: e };
        let id = self
            .module
            .declare_function(&name, Linkage::Local, &unit_signature())
            .map_err(|e| fail(e.to_string()))?;
        // (One context for every unit: its allocations are reused.)
        let mut cctx = std::mem::replace(&mut self.cctx, cranelift_codegen::Context::new());
        self.module.clear_context(&mut cctx);
        cctx.func.signature = unit_signature();
        cctx.func.name = UserFuncName::user(0, id.as_u32());
        let adapters = self
            .adapters
            .map(|a| self.module.declare_func_in_func(a, &mut cctx.func));
        translate(&mut cctx.func, &mut self.fbc, ops, &unit, &env, adapters);
        let dump = std::env::var_os("BPF_JIT_DUMP").is_some();
        cctx.set_disasm(dump);
        self.module
            .define_function(id, &mut cctx)
            .map_err(|e| fail(format!("{e:?}")))?;
        if let Some(vcode) = cctx
            .compiled_code()
            .and_then(|c| c.vcode.as_ref())
            .filter(|_| dump)
        {
            eprintln!("; unit at slot {slot}\n{}\n{vcode}", cctx.func.display());
        }
        self.module
            .finalize_definitions()
            .map_err(|e| fail(e.to_string()))?;
        self.cctx = cctx;
        let code = self.module.get_finalized_function(id) as usize;
        self.stats.units += 1;
        self.stats.instructions += unit.slots.len() as u64;
        self.stats.time += start.elapsed();
        let calls = unit
            .args_live_after_call
            .iter()
            .filter(|(&pc, _)| ops[pc].kind == bpf_vm::exec::Kind::CallLocal)
            .map(|(&pc, &live)| (ops[pc].aux as usize, Returns::for_live(live)))
            .collect();
        self.units.insert(
            (slot, returns),
            UnitCode {
                code,
                slots: unit.slots,
                out_of_code: unit.out_of_code.into_iter().collect(),
                calls,
            },
        );
        Ok(code)
    }

    /// `extern "C" fn(code, fp, fuel) -> status`: enters a unit from the host.
    fn build_trampoline(&mut self) -> Result<extern "C" fn(usize, u64, u64) -> u64, String> {
        let mut sig = Signature::new(self.isa.default_call_conv());
        sig.params.extend([AbiParam::new(I64); 3]);
        sig.returns.push(AbiParam::new(I64));
        let id = self
            .module
            .declare_function("bpf_enter", Linkage::Local, &sig)
            .map_err(|e| e.to_string())?;
        let mut cctx = self.module.make_context();
        cctx.func.signature = sig;
        let mut b = FunctionBuilder::new(&mut cctx.func, &mut self.fbc);
        let block = b.create_block();
        b.append_block_params_for_function_params(block);
        b.switch_to_block(block);
        let p = b.block_params(block).to_vec();
        let ctx = b.ins().iconst(I64, self.ctx as i64);
        let regs = offset_of!(JitCtx, regs) as i32;
        let flags = MemFlagsData::trusted();
        let mut args = vec![p[1], p[2]];
        for r in 1..6 {
            args.push(b.ins().load(I64, flags, ctx, regs + 8 * r));
        }
        let sref = b.import_signature(unit_signature());
        let call = b.ins().call_indirect(sref, p[0], &args);
        let results = b.inst_results(call).to_vec();
        b.ins()
            .store(flags, results[1], ctx, offset_of!(JitCtx, fuel) as i32);
        // r0-r5 after an `exit` (a stop left every register there already).
        let exited = b.create_block();
        let done = b.create_block();
        b.ins().brif(results[0], done, &[], exited, &[]);
        b.switch_to_block(exited);
        for (r, v) in results[2..].iter().enumerate() {
            b.ins().store(flags, *v, ctx, regs + 8 * r as i32);
        }
        b.ins().jump(done, &[]);
        b.switch_to_block(done);
        b.ins().return_(&[results[0]]);
        b.seal_all_blocks();
        b.finalize(self.isa.frontend_config());
        self.module
            .define_function(id, &mut cctx)
            .map_err(|e| format!("{e:?}"))?;
        self.module
            .finalize_definitions()
            .map_err(|e| e.to_string())?;
        let code = self.module.get_finalized_function(id);
        // SAFETY: the function was just compiled with this signature.
        Ok(
            unsafe {
                std::mem::transmute::<*const u8, extern "C" fn(usize, u64, u64) -> u64>(code)
            },
        )
    }

    /// A `preserve_all` function that calls the host function at `host`
    /// and stores its results in `JitCtx::ret`.
    fn build_adapter(
        &mut self,
        host: usize,
        params: usize,
        results: usize,
    ) -> Result<FuncId, String> {
        let sig = host_signature(CallConv::PreserveAll, 0, 0);
        let name = format!("bpf_host_{host:x}");
        let id = self
            .module
            .declare_function(&name, Linkage::Local, &sig)
            .map_err(|e| e.to_string())?;
        let mut cctx = self.module.make_context();
        cctx.func.signature = sig;
        let mut b = FunctionBuilder::new(&mut cctx.func, &mut self.fbc);
        let block = b.create_block();
        b.switch_to_block(block);
        let ctx = b.ins().iconst(I64, self.ctx as i64);
        let mut args = vec![ctx];
        for i in 0..params - 1 {
            let at = offset_of!(JitCtx, args) as i32 + 8 * i as i32;
            args.push(b.ins().load(I64, MemFlagsData::trusted(), ctx, at));
        }
        let sref = b.import_signature(host_signature(
            self.isa.default_call_conv(),
            params,
            results,
        ));
        let callee = b.ins().iconst(I64, host as i64);
        let call = b.ins().call_indirect(sref, callee, &args);
        let rets = b.inst_results(call).to_vec();
        for (i, v) in rets.iter().enumerate() {
            let at = offset_of!(JitCtx, ret) as i32 + 8 * i as i32;
            b.ins().store(MemFlagsData::trusted(), *v, ctx, at);
        }
        b.ins().return_(&[]);
        b.seal_all_blocks();
        b.finalize(self.isa.frontend_config());
        let dump = std::env::var_os("BPF_JIT_DUMP").is_some();
        cctx.set_disasm(dump);
        self.module
            .define_function(id, &mut cctx)
            .map_err(|e| format!("{e:?}"))?;
        if let Some(vcode) = cctx
            .compiled_code()
            .and_then(|c| c.vcode.as_ref())
            .filter(|_| dump)
        {
            eprintln!("; adapter {name}\n{vcode}");
        }
        Ok(id)
    }

    fn code_changed(&mut self, range: Range<usize>) {
        self.refused.clear();
        let stale: Vec<(usize, Returns)> = self
            .units
            .iter()
            .filter(|(_, u)| u.touches(&range))
            .map(|(&key, _)| key)
            .collect();
        for (slot, returns) in stale {
            self.units.remove(&(slot, returns));
            if let Some(n) = self.native.get_mut(slot) {
                n[returns.index()] = 0;
                self.callx[slot][returns.index()] = 0;
            }
        }
        for slot in range {
            if slot < self.native.len() {
                self.native[slot] = [0; 2];
                self.callx[slot] = [0; 2];
            }
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let module = std::mem::replace(
            &mut self.module,
            JITModule::new(JITBuilder::with_isa(
                self.isa.clone(),
                default_libcall_names(),
            )),
        );
        // SAFETY: a core is dropped only between runs (or with its engine):
        // no code of its module is running or reachable from the tables.
        unsafe { module.free_memory() };
    }
}

extern "C" fn placeholder(_: usize, _: u64, _: u64) -> u64 {
    unreachable!("trampoline used before it was built")
}

/// The JIT engine: `jit` compiles every unit before it runs; `auto`
/// interprets a call first and compiles once it is hot.
pub struct Jit {
    ctx: Box<JitCtx>,
    core: Option<Box<Core>>,
    kind: EngineKind,
    /// Per entry: instructions interpreted so far, and its threshold (`auto`).
    heat: HashMap<usize, (u64, u64)>,
    /// `auto` compiles an entry once it has interpreted `threshold +
    /// per_instruction * (instructions of its unit)` instructions.
    pub threshold: u64,
    pub per_instruction: u64,
}

/// `auto`'s thresholds: an entry is compiled once it has interpreted
/// `AUTO_THRESHOLD + AUTO_PER_INSTRUCTION * n` instructions (over all its
/// calls), `n` being the size of its unit. Translating costs about as much
/// as interpreting 15,000–90,000 instructions per instruction translated
/// (`cargo bench -p bpf-jit --bench native` prints the crossover per
/// kernel), so compiling at that point at most doubles the cost of the
/// cheaper choice (the ski-rental rule), and a short run never compiles.
pub const AUTO_THRESHOLD: u64 = 50_000;
pub const AUTO_PER_INSTRUCTION: u64 = 20_000;

impl Jit {
    /// An engine of `kind` (`Jit` or `Auto`), or why this host has none.
    pub fn new(kind: EngineKind) -> Result<Jit, String> {
        host_isa()?;
        Ok(Jit {
            ctx: Box::new(JitCtx::new(Default::default())),
            core: None,
            kind,
            heat: HashMap::new(),
            threshold: AUTO_THRESHOLD,
            per_instruction: AUTO_PER_INSTRUCTION,
        })
    }

    /// What compiling has cost so far.
    pub fn stats(&self) -> Stats {
        self.core.as_ref().map(|c| c.stats).unwrap_or_default()
    }

    /// Translates the unit at `entry` and every unit its local calls reach
    /// (ahead of a run; runs otherwise translate units when first called).
    /// Returns how many units could not be translated.
    pub fn compile_all(&mut self, vm: &mut Vm, entry: usize) -> usize {
        if self.prepare(vm).is_err() {
            return 1;
        }
        let core = self.core.as_deref_mut().expect("prepared");
        let mut work = vec![(entry, Returns::R0)];
        let (mut seen, mut refused) = (std::collections::HashSet::new(), 0);
        while let Some(key) = work.pop() {
            if !seen.insert(key) {
                continue;
            }
            if core.unit_code(vm, key.0, key.1).is_none() {
                refused += 1;
                continue;
            }
            work.extend(core.units[&key].calls.iter().copied());
        }
        refused
    }

    /// The core for the VM's current configuration (code depends on it).
    fn prepare(&mut self, vm: &mut Vm) -> Result<(), Trap> {
        let config = vm.config();
        // Code depends on the configuration and on memcheck.
        let memcheck = vm.mem.memcheck();
        if self
            .core
            .as_ref()
            .is_some_and(|c| c.config != config || c.memcheck != memcheck)
        {
            self.core = None;
        }
        if self.core.is_none() {
            let ctx: *mut JitCtx = &mut *self.ctx;
            let core = Core::new(config, memcheck, ctx).map_err(|e| Trap {
                kind: TrapKind::Helper {
                    helper: "jit".into(),
                    error: bpf_vm::HelperError::Fault(e),
                },
                pc: 0,
                call_sites: vec![],
            })?;
            self.core = Some(core);
        }
        let core = self.core.as_deref_mut().expect("core");
        self.ctx.vm = vm;
        self.ctx.core = core;
        self.ctx.interrupt = vm.interrupt_handle();
        Ok(())
    }

    /// Runs `state` to the end with `fuel` instructions of budget left:
    /// natively where units compile, on the interpreter elsewhere and
    /// after a clean stop.
    fn run(&mut self, vm: &mut Vm, mut state: ExecState, mut fuel: u64) -> Result<u64, Trap> {
        let config = vm.config();
        loop {
            let core = self.core.as_deref_mut().expect("prepared");
            // r1-r5 matter after the exit only to frames that go on.
            let returns = if state.frames.is_empty() {
                Returns::R0
            } else {
                Returns::All
            };
            let Some(code) = core.unit_code(vm, state.pc, returns) else {
                break;
            };
            core.publish(&mut self.ctx);
            for (i, f) in state.frames.iter().enumerate() {
                self.ctx.set_site(state.base_depth + i, f.call_site());
            }
            let fp = core.entry_fp() - (config.frame_size * state.depth()) as u64;
            let ctx = &mut *self.ctx;
            ctx.regs = state.regs;
            ctx.stop = None;
            ctx.unwound.clear();
            ctx.pending.clear();
            ctx.tail_calls = state.tail_calls;
            ctx.refresh_regions();
            ctx.stack_limit = native_stack_limit();
            let chunk = ctx.take_fuel(fuel, 0);
            let status = core.enter(code, fp, chunk);
            let ctx = &mut *self.ctx;
            fuel = ctx.fuel + ctx.budget_left;
            state.tail_calls = ctx.tail_calls;
            if status == 0 {
                state.regs[..6].copy_from_slice(&ctx.regs[..6]);
                let Some(frame) = state.frames.pop() else {
                    return Ok(ctx.regs[0]);
                };
                state.regs[6..10].copy_from_slice(&frame.saved);
                state.pc = frame.return_pc;
                if frame.return_pc & RESUME_BIT != 0 {
                    // A helper's callback returned: the helper goes on
                    // (what fails now fails at the helper's call).
                    let Some(pending) = state.pending.pop() else {
                        state.pc &= !RESUME_BIT;
                        return Err(state.trap(TrapKind::PcOutOfRange(state.pc as u64)));
                    };
                    state.pc = pending.return_pc - 1;
                    let action = vm.helper_resume(&pending, state.regs[0], &mut state.tail_calls);
                    let done = action.and_then(|a| state.apply(a, vm));
                    done.map_err(|kind| state.trap(kind))?;
                }
                continue;
            }
            let unwound = std::mem::take(&mut ctx.unwound);
            match ctx.stop.take() {
                Some(Stop::Pause { pc }) => {
                    state.frames.extend(unwound.into_iter().rev());
                    state.pending.extend(ctx.pending.drain(..).rev());
                    state.pc = pc;
                    state.regs = ctx.regs;
                    break;
                }
                Some(Stop::Jump { pc, helper, jump }) => {
                    // Every frame is the interpreter's now: jump, and go on
                    // natively from where it lands.
                    state.frames.extend(unwound.into_iter().rev());
                    state.pending.extend(ctx.pending.drain(..).rev());
                    state.pc = pc;
                    state.regs = ctx.regs;
                    let jumped = vm.jump(&mut state, helper, jump);
                    jumped.map_err(|kind| state.trap(kind))?;
                    continue;
                }
                Some(Stop::Trap(mut trap)) => {
                    let outer = unwound.iter().chain(state.frames.iter().rev());
                    trap.call_sites.extend(outer.map(|f| f.call_site()));
                    return Err(trap);
                }
                Some(Stop::End(v)) => return Ok(v),
                None => unreachable!("native code stopped without saying why"),
            }
        }
        match vm.interpret(&mut state, &mut fuel)? {
            Outcome::Returned(r0) | Outcome::Ended(r0) => Ok(r0),
            Outcome::OutOfFuel => Err(state.trap(TrapKind::BudgetExhausted {
                budget: config.budget,
            })),
            Outcome::Jump { .. } => unreachable!("a run without base frames applies its jumps"),
        }
    }
}

/// The lowest host stack address native frames may use on this thread.
fn native_stack_limit() -> u64 {
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as u64;
    let remaining = stacker::remaining_stack().unwrap_or(1 << 20);
    here.saturating_sub(remaining as u64) + HOST_STACK_MARGIN as u64
}

impl Engine for Jit {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn call(&mut self, vm: &mut Vm, entry: usize, args: &[u64]) -> Result<u64, Trap> {
        let budget = vm.config().budget;
        let mut state = ExecState::new(entry, args);
        let mut fuel = budget;
        let compiled = self.core.as_ref().is_some_and(|c| {
            c.config == vm.config() && c.units.contains_key(&(entry, Returns::R0))
        });
        if self.kind == EngineKind::Auto && !compiled {
            // Interpret until the entry has run its threshold of
            // instructions (over all its calls); a call still running then
            // is taken over. Nothing is set up for native code before.
            let threshold = match self.heat.get(&entry) {
                Some(&(_, t)) => t,
                None => {
                    let unit = analyse(vm.ops(), entry, Returns::R0);
                    let size = unit.map_or(0, |u| u.slots.len() as u64);
                    self.threshold + self.per_instruction * size
                }
            };
            let heat = &mut self.heat.entry(entry).or_insert((0, threshold)).0;
            let slice = threshold.saturating_sub(*heat).min(fuel);
            let mut left = slice;
            let result = vm.interpret(&mut state, &mut left);
            *heat += slice - left;
            fuel -= slice - left;
            match result? {
                Outcome::Returned(r0) | Outcome::Ended(r0) => return Ok(r0),
                Outcome::OutOfFuel if fuel == 0 => {
                    return Err(state.trap(TrapKind::BudgetExhausted { budget }))
                }
                Outcome::OutOfFuel => {}
                Outcome::Jump { .. } => unreachable!("a run without base frames applies its jumps"),
            }
        }
        self.prepare(vm)?;
        if self.kind == EngineKind::Auto {
            // Hot: compile the entry itself for later calls, and go on
            // natively from where the interpreter paused.
            let core = self.core.as_deref_mut().expect("prepared");
            core.unit_code(vm, entry, Returns::R0);
        }
        self.run(vm, state, fuel)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn code_changed(&mut self, changed: Range<usize>) {
        for slot in changed.clone() {
            self.heat.remove(&slot);
        }
        if let Some(core) = self.core.as_mut() {
            core.code_changed(changed);
        }
    }
}
