//! The context native code runs with, and the host functions it calls.
//!
//! Native code reaches the VM only through [`JitCtx`] (at a fixed address
//! baked into the code) and the `extern "C"` functions below. Everything
//! that can fail — a refused memory access, a helper's error, a bad
//! `callx`, the budget, the interrupt flag — is decided here, by the same
//! VM functions the interpreter uses, and recorded in [`JitCtx::stop`];
//! native code then returns status 1 and each native caller adds its frame
//! ([`jit_unwind`]) on the way out, so a stopped run ends with the
//! interpreter's own state: registers, pc and frames.

use crate::analysis::Returns;
use crate::engine::Core;
use bpf_vm::exec::{
    ExecState, Frame, HelperAction, HelperId, Jump, Kind, Outcome, PendingHelper, RESUME_BIT,
};
use bpf_vm::memory::{RawRegion, REGION_SHIFT, REGION_SLOTS};
use bpf_vm::{RegionKind, Trap, TrapKind, Vm};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Instructions native code runs between two looks at the interrupt flag
/// (at most; a look happens at the first checkpoint after they are spent).
pub const FUEL_CHUNK: u64 = 1 << 22;

/// Why native code stopped before its entry returned.
#[derive(Debug)]
pub enum Stop {
    /// A trap; its call sites are those inside the stopping point (from a
    /// nested interpretation), the unwound native frames come on top.
    Trap(Trap),
    /// A clean stop at `pc` with every register in [`JitCtx::regs`]: the
    /// run can go on from there on any engine.
    Pause { pc: usize },
    /// The program ended the whole run with this result (LD_ABS/LD_IND
    /// past the packet), whatever frames were live.
    End(u64),
    /// Helper `helper` at `pc` asked for `setjmp`/`longjmp`, which needs
    /// every frame of the run as the interpreter's (native frames cannot
    /// be jumped across): every register is in [`JitCtx::regs`], and the
    /// engine finishes the jump once the frames are unwound.
    Jump {
        pc: usize,
        helper: HelperId,
        jump: Jump,
    },
}

/// Rows of the region table: one per region slot (`addr >> 32`), and one
/// that refuses everything for every higher address.
pub const ROWS: usize = REGION_SLOTS + 1;

/// One row of the region table, as the inline access check reads it: an
/// access of `n` bytes (`n` = 1 << `i`) at `addr` is allowed when
/// `addr - base < read[i]` (loads) or `< write[i]` (stores), compared
/// unsigned: one compare covers the low bound (below it the difference
/// wraps), the high one and the permission (a limit of 0 refuses). The
/// host address is then `addr + bias`. The same rule as
/// [`bpf_vm::Memory::slice`]; anything it refuses goes to the checked
/// accessors for the error (or the device).
#[repr(C, align(128))]
#[derive(Clone, Copy, Debug)]
pub struct RegionRow {
    /// Virtual address of the lowest accessible byte.
    pub base: u64,
    /// Host address minus virtual address.
    pub bias: u64,
    pub read: [u64; 4],
    pub write: [u64; 4],
    /// The region's page-epoch table ([`bpf_vm::Memory::page_epochs`]),
    /// for the write barrier.
    pub pages: *const u32,
    /// Memcheck: the region's shadow ([`bpf_vm::Memory::shadow`]), one byte
    /// per 8 bytes from the region's start; for unchecked regions a zero
    /// byte that `shadow_shift` (63) always selects.
    pub shadow: *const u8,
    /// `offset >> shadow_shift` indexes `shadow`: 3, or 63 (always 0).
    pub shadow_shift: u64,
}

/// The shadow of regions memcheck does not check: always accessible.
static NO_SHADOW: u8 = 0;

impl RegionRow {
    const REFUSE: RegionRow = RegionRow {
        base: 0,
        bias: 0,
        read: [0; 4],
        write: [0; 4],
        pages: std::ptr::null(),
        shadow: &NO_SHADOW,
        shadow_shift: 63,
    };

    /// The row of region slot `slot` as `r` describes it.
    fn new(slot: usize, r: &RawRegion, pages: *const u32, shadow: &[u8]) -> RegionRow {
        let (shadow, shadow_shift) = if shadow.is_empty() {
            (&NO_SHADOW as *const u8, 63)
        } else {
            (shadow.as_ptr(), bpf_vm::memory::GRANULE_SHIFT as u64)
        };
        if r.lo > r.len {
            return RegionRow {
                pages,
                shadow,
                shadow_shift,
                ..Self::REFUSE
            };
        }
        let span = r.len - r.lo;
        let wspan = r.wlen.saturating_sub(r.lo);
        let limit = |span: u64, i: usize| (span + 1).saturating_sub(1 << i);
        let base = ((slot as u64) << REGION_SHIFT) + r.lo;
        RegionRow {
            base,
            bias: (r.ptr as u64).wrapping_sub((slot as u64) << REGION_SHIFT),
            read: std::array::from_fn(|i| limit(span, i)),
            write: std::array::from_fn(|i| limit(wspan, i)),
            pages,
            shadow,
            shadow_shift,
        }
    }
}

/// What native code reads and writes besides BPF memory. `#[repr(C)]`:
/// translated code addresses the fields by their offsets.
#[repr(C)]
pub struct JitCtx {
    /// The region table for the inline access check ([`RegionRow`]); the
    /// stack's row follows the running frame where native code reads it.
    pub rows: [RegionRow; ROWS],
    /// Registers handed between native code and the host: a callee's
    /// caller registers (r0, r6–r9), arguments and results of slow calls,
    /// and every register at a pause.
    pub regs: [u64; 11],
    /// Per code slot and unit variant (`Returns::index`): the native code
    /// of the unit entered there, or 0.
    pub native: *const [usize; 2],
    /// Per code slot: the same for registered function entries only (the
    /// `callx` targets), or 0.
    pub callx: *const [usize; 2],
    /// Length of both tables.
    pub table_len: u64,
    /// Native code stops (and the interpreter goes on) when the host stack
    /// pointer falls below this.
    pub stack_limit: u64,
    /// Fuel handed back by the trampoline.
    pub fuel: u64,
    /// Results of the last host call (host calls from native code go
    /// through adapters that preserve every register and return nothing).
    pub ret: [u64; 3],
    /// Arguments of the next host call after the context (see
    /// `Core::build_adapter`).
    pub args: [u64; 6],
    /// The open undo epoch ([`bpf_vm::Memory::epoch`]): a store to a page
    /// whose entry is lower must save the page first.
    pub epoch: u64,
    /// Per frame depth (0: the entry frame): the slot of the last call
    /// made from that frame, so a helper call can see the BPF call stack
    /// (memcheck's allocation stacks). `Core`'s table, `max_call_depth` long.
    pub sites: *mut u32,

    // ---- host-only fields ----
    /// Budget not yet handed to native code as fuel.
    pub budget_left: u64,
    pub stop: Option<Stop>,
    /// Frames of the native callers of a stopped run, innermost first.
    pub unwound: Vec<Frame>,
    /// Helpers waiting for a callback among `unwound` (innermost first).
    pub pending: Vec<PendingHelper>,
    /// Tail calls the run has made.
    pub tail_calls: u32,
    pub vm: *mut Vm,
    pub core: *mut Core,
    pub interrupt: Arc<AtomicBool>,
}

/// Two values returned in registers (status and a value).
#[repr(C)]
pub struct Ret2 {
    pub status: u64,
    pub value: u64,
}

/// The host functions native code calls, in the order of
/// [`host_functions`]: (address, parameters, results).
pub const HOST_LOAD: usize = 0;
pub const HOST_STORE: usize = 1;
pub const HOST_ATOMIC: usize = 2;
pub const HOST_OP: usize = 3;
pub const HOST_CALL: usize = 4;
pub const HOST_REFILL: usize = 5;
pub const HOST_TRAP: usize = 6;
pub const HOST_UNWIND: usize = 7;

/// Every host function: its address, parameter count and result count.
pub fn host_functions() -> [(usize, usize, usize); 8] {
    [
        (jit_load as *const () as usize, 5, 2),
        (jit_store as *const () as usize, 6, 1),
        (jit_atomic as *const () as usize, 3, 1),
        (jit_host_op as *const () as usize, 4, 2),
        (jit_call as *const () as usize, 6, 2),
        (jit_refill as *const () as usize, 4, 2),
        (jit_trap as *const () as usize, 4, 0),
        (jit_unwind as *const () as usize, 6, 0),
    ]
}

/// [`jit_host_op`] status: the helper tail-called and the function that
/// replaced the caller returned (r0–r5 in `JitCtx::regs`): the caller
/// returns them as if it had exited.
pub const OP_TAIL_RETURNED: u64 = 2;

/// [`jit_call`] flag: the target is an address (`callx`).
pub const CALL_X: u64 = 1;
/// [`jit_call`] flag: the caller reads r1–r5 after the call ([`Returns::All`]).
pub const CALL_ALL: u64 = 2;

/// Codes for [`jit_trap`].
pub const TRAP_PC_OUT_OF_RANGE: u64 = 0;
pub const TRAP_CALL_DEPTH: u64 = 1;
pub const PAUSE_NATIVE_STACK: u64 = 2;

impl JitCtx {
    pub fn new(interrupt: Arc<AtomicBool>) -> JitCtx {
        JitCtx {
            rows: [RegionRow::REFUSE; ROWS],
            regs: [0; 11],
            native: std::ptr::null(),
            callx: std::ptr::null(),
            table_len: 0,
            stack_limit: u64::MAX,
            fuel: 0,
            ret: [0; 3],
            args: [0; 6],
            epoch: 0,
            sites: std::ptr::null_mut(),
            budget_left: 0,
            stop: None,
            unwound: Vec::new(),
            pending: Vec::new(),
            tail_calls: 0,
            vm: std::ptr::null_mut(),
            core: std::ptr::null_mut(),
            interrupt,
        }
    }

    /// # Safety
    /// Only while a run is in progress (`vm` is set and borrowed by it).
    unsafe fn vm(&mut self) -> &mut Vm {
        &mut *self.vm
    }

    /// Points the stack's low bound in VM memory at the frame below `fp`
    /// (what the interpreter keeps there), for the checked accessors.
    fn enter_frame(&mut self, fp: u64) {
        // SAFETY: called from native code during a run.
        let vm = unsafe { self.vm() };
        let low = fp
            .wrapping_sub(vm.config().frame_size as u64)
            .wrapping_sub(RegionKind::Stack.base());
        vm.mem
            .set_stack_low(usize::try_from(low).unwrap_or(usize::MAX));
    }

    /// Re-reads the region table and the barrier's page tables (after
    /// anything that may allocate).
    pub fn refresh_regions(&mut self) {
        // SAFETY: during a run (the VM is not part of the context).
        let mem = unsafe { &mut (*self.vm).mem };
        let raw = mem.raw_regions();
        for (slot, r) in raw.iter().enumerate() {
            let kind = RegionKind::ALL.get(slot.wrapping_sub(1));
            let pages = kind.map_or(std::ptr::null(), |&k| mem.page_epochs(k).as_ptr());
            let shadow = kind.map_or(&[][..], |&k| mem.shadow(k));
            self.rows[slot] = RegionRow::new(slot, r, pages, shadow);
        }
        self.epoch = mem.epoch() as u64;
    }

    fn trap(&mut self, kind: TrapKind, pc: usize) -> u64 {
        self.stop = Some(Stop::Trap(Trap {
            kind,
            pc,
            call_sites: Vec::new(),
        }));
        1
    }

    /// The call sites of the frames below depth `depth`, innermost first.
    pub fn call_sites(&self, depth: usize) -> Vec<usize> {
        (0..depth)
            .rev()
            .take(bpf_vm::memory::MAX_HELPER_STACK)
            // SAFETY: `sites` has `max_call_depth` entries and depths are below it.
            .map(|d| unsafe { *self.sites.add(d) } as usize)
            .collect()
    }

    /// Records that the frame at `depth` called from slot `pc`.
    pub fn set_site(&mut self, depth: usize, pc: usize) {
        // SAFETY: as in `call_sites`.
        unsafe { *self.sites.add(depth) = pc as u32 };
    }

    /// Splits the remaining budget into fuel for native code.
    pub fn take_fuel(&mut self, total: u64, need: u64) -> u64 {
        let fuel = total.min(FUEL_CHUNK.max(need));
        self.budget_left = total - fuel;
        fuel
    }
}

/// The slow path of a load: the checked accessor the interpreter's
/// accesses also end in, with the device where the interpreter offers it
/// (after the inline check refused, or a page must be saved first).
pub extern "C" fn jit_load(ctx: &mut JitCtx, addr: u64, size: u64, fp: u64, pc: u64) -> Ret2 {
    ctx.enter_frame(fp);
    // SAFETY: during a run.
    let result = unsafe { ctx.vm() }.load_checked(pc as usize, addr, size as usize);
    ctx.refresh_regions();
    match result {
        Ok(value) => Ret2 { status: 0, value },
        Err(kind) => Ret2 {
            status: ctx.trap(kind, pc as usize),
            value: 0,
        },
    }
}

/// The slow path of a store (see [`jit_load`]).
pub extern "C" fn jit_store(
    ctx: &mut JitCtx,
    addr: u64,
    size: u64,
    value: u64,
    fp: u64,
    pc: u64,
) -> u64 {
    ctx.enter_frame(fp);
    // SAFETY: during a run.
    let result = unsafe { ctx.vm() }.store_checked(pc as usize, addr, size as usize, value);
    ctx.refresh_regions();
    match result {
        Ok(()) => 0,
        Err(kind) => ctx.trap(kind, pc as usize),
    }
}

/// An atomic read-modify-write: r0, dst and src are in `ctx.regs`, and
/// come back there.
pub extern "C" fn jit_atomic(ctx: &mut JitCtx, fp: u64, pc: u64) -> u64 {
    ctx.enter_frame(fp);
    // SAFETY: during a run.
    let vm = unsafe { &mut *ctx.vm };
    let op = vm.ops()[pc as usize];
    match vm.atomic(&op, &mut ctx.regs) {
        Ok(()) => 0,
        Err(kind) => ctx.trap(kind, pc as usize),
    }
}

/// A helper call (`call id`, `call` of a runtime helper) or a legacy
/// packet load at `pc`, with r0–r9 in `ctx.regs`: status 0 with r0 as the
/// value and r1–r5 in `ctx.regs` (a helper's callbacks may change them);
/// 1 for a stop; [`OP_TAIL_RETURNED`] after a tail call. The fuel left
/// goes to `ctx.fuel`. Callbacks run in the next frame and tail calls in
/// this one, natively where their units compile.
pub extern "C" fn jit_host_op(ctx: *mut JitCtx, fp: u64, fuel: u64, pc: u64) -> Ret2 {
    let pc = pc as usize;
    // SAFETY: as in `jit_call`: no reference into `ctx` is held while
    // native code runs.
    let vm = unsafe { &mut *(*ctx).vm };
    let c = unsafe { &mut *ctx };
    c.enter_frame(fp);
    let op = vm.ops()[pc];
    let done = move |status, value, fuel| {
        // SAFETY: called when no other reference into the context is used.
        unsafe { (*ctx).fuel = fuel };
        Ret2 { status, value }
    };
    let trap = move |kind, pc| unsafe { &mut *ctx }.trap(kind, pc);
    if matches!(op.kind, Kind::LdAbs | Kind::LdInd) {
        let index = c.regs[op.src as usize];
        return match vm.packet_load(pc, index) {
            Ok(Some(v)) => done(0, v, fuel),
            Ok(None) => {
                c.stop = Some(Stop::End(0));
                done(1, 0, fuel)
            }
            Err(kind) => done(trap(kind, pc), 0, fuel),
        };
    }
    let caller = c.regs;
    let args = [caller[1], caller[2], caller[3], caller[4], caller[5]];
    // SAFETY: during a run.
    let depth = unsafe { &*c.core }.depth_of(fp);
    if vm.mem.memcheck() {
        let callers = c.call_sites(depth);
        vm.mem.set_helper_stack(pc, callers.into_iter());
    }
    let mut action = vm.helper_call(pc, args, &mut c.tail_calls);
    let mut fuel = fuel;
    loop {
        let c = unsafe { &mut *ctx };
        c.refresh_regions();
        let step = match action {
            Err(kind) => return done(trap(kind, pc), 0, fuel),
            Ok(step) => step,
        };
        // Whatever runs next sees the caller's r6–r9.
        c.regs[6..10].copy_from_slice(&caller[6..10]);
        match step {
            HelperAction::Return { value, .. } => return done(0, value, fuel),
            HelperAction::Jump { helper, jump } => {
                // Stopped code hands its fuel back through the budget.
                c.budget_left += fuel;
                c.stop = Some(Stop::Jump { pc, helper, jump });
                return done(1, 0, 0);
            }
            HelperAction::TailCall { target, ctx: arg } => {
                c.regs[1] = arg;
                let (status, left) = run_function(ctx, target, fp, fuel, Returns::All);
                let c = unsafe { &mut *ctx };
                let status = if status == 0 {
                    OP_TAIL_RETURNED
                } else {
                    status
                };
                return done(status, c.regs[0], left);
            }
            HelperAction::Call {
                target,
                args,
                pending,
            } => {
                // SAFETY: during a run.
                let core = unsafe { &*c.core };
                let callee_fp = fp.wrapping_sub(vm.config().frame_size as u64);
                if callee_fp < core.min_fp() {
                    let limit = vm.config().max_call_depth;
                    return done(trap(TrapKind::CallDepthExceeded { limit }, pc), 0, fuel);
                }
                c.regs[1..6].copy_from_slice(&args);
                c.set_site(depth, pc);
                let (status, left) = run_function(ctx, target, callee_fp, fuel, Returns::All);
                fuel = left;
                let c = unsafe { &mut *ctx };
                c.enter_frame(fp);
                if status != 0 {
                    // The callback's frame, on the way out.
                    let saved = [caller[6], caller[7], caller[8], caller[9]];
                    c.unwound
                        .push(Frame::new(RESUME_BIT | pending.return_pc, saved));
                    c.pending.push(pending);
                    return done(1, 0, fuel);
                }
                action = vm.helper_resume(&pending, c.regs[0], &mut c.tail_calls);
            }
        }
    }
}

/// Runs the function at slot `target` in the frame `fp` with r0–r9 in
/// `ctx.regs` (r0, and r1–r5 if `returns` says so, come back there):
/// natively where it compiles, else on the interpreter. Returns the status (0, or 1 for a stop recorded in
/// `ctx`) and the fuel left.
fn run_function(
    ctx: *mut JitCtx,
    target: usize,
    fp: u64,
    fuel: u64,
    returns: Returns,
) -> (u64, u64) {
    // SAFETY: see `jit_call`.
    let (vm, core) = unsafe { (&mut *(*ctx).vm, &mut *(*ctx).core) };
    if let Some(code) = core.unit_code(vm, target, returns) {
        core.publish(unsafe { &mut *ctx });
        let status = core.enter(code, fp, fuel);
        return (status, unsafe { &*ctx }.fuel);
    }
    let c = unsafe { &mut *ctx };
    let depth = (core.entry_fp() - fp) / vm.config().frame_size as u64;
    let mut state = ExecState {
        regs: c.regs,
        pc: target,
        frames: Vec::new(),
        base_depth: depth as usize,
        pending: Vec::new(),
        tail_calls: c.tail_calls,
        jumps: Default::default(),
    };
    let mut total = fuel + c.budget_left;
    if vm.mem.memcheck() {
        vm.mem
            .set_outer_sites(c.call_sites(depth as usize).into_iter());
    }
    let result = vm.interpret(&mut state, &mut total);
    vm.mem.set_outer_sites(std::iter::empty());
    c.tail_calls = state.tail_calls;
    c.refresh_regions();
    let status = match result {
        Ok(Outcome::Returned(_)) => {
            c.regs[..6].copy_from_slice(&state.regs[..6]);
            0
        }
        Ok(Outcome::OutOfFuel) => {
            let budget = vm.config().budget;
            c.stop = Some(Stop::Trap(state.trap(TrapKind::BudgetExhausted { budget })));
            1
        }
        Ok(Outcome::Ended(v)) => {
            c.stop = Some(Stop::End(v));
            1
        }
        Ok(Outcome::Jump { helper, jump }) => {
            // The interpreted frames go out with the native ones; the fuel
            // goes back through the budget, as at every stop.
            c.unwound.extend(state.frames.drain(..).rev());
            c.pending.extend(state.pending.drain(..).rev());
            c.regs = state.regs;
            c.stop = Some(Stop::Jump {
                pc: state.pc,
                helper,
                jump,
            });
            c.budget_left = total;
            return (1, 0);
        }
        Err(trap) => {
            c.stop = Some(Stop::Trap(trap));
            1
        }
    };
    let fuel = c.take_fuel(total, 0);
    (status, fuel)
}

/// A local call or `callx` whose target has no native code yet: compiles
/// it and calls it, or interprets it when it cannot be compiled. r0–r9 are
/// in `ctx.regs` and r0–r5 come back there; the fuel is the value. Status
/// 1: stopped inside the callee; 2: trapped at the call (bad `callx`
/// target, call depth).
/// `target` is the slot, or the address with [`CALL_X`].
pub extern "C" fn jit_call(
    ctx: *mut JitCtx,
    fp: u64,
    fuel: u64,
    target: u64,
    flags: u64,
    pc: u64,
) -> Ret2 {
    // SAFETY: called by native code during a run: `ctx`, its `vm` and its
    // `core` are live and nothing else borrows them. No reference into
    // `ctx` is held while native code runs (it writes `ctx` too).
    let (vm, core) = unsafe { (&mut *(*ctx).vm, &mut *(*ctx).core) };
    // A trap at the call itself: status 2 (no callee frame to unwind).
    let stopped = |kind| Ret2 {
        status: 1 + unsafe { &mut *ctx }.trap(kind, pc as usize),
        value: fuel,
    };
    let target = if flags & CALL_X != 0 {
        match vm.callx_target(target) {
            Ok(t) => t,
            Err(kind) => return stopped(kind),
        }
    } else {
        target as usize
    };
    let config = vm.config();
    let callee_fp = fp - config.frame_size as u64;
    if flags & CALL_X != 0 && callee_fp < core.min_fp() {
        let limit = config.max_call_depth;
        return stopped(TrapKind::CallDepthExceeded { limit });
    }
    let returns = if flags & CALL_ALL != 0 {
        Returns::All
    } else {
        Returns::R0
    };
    let (status, fuel) = run_function(ctx, target, callee_fp, fuel, returns);
    unsafe { &mut *ctx }.enter_frame(fp);
    Ret2 {
        status,
        value: fuel,
    }
}

/// At a checkpoint with less than `need` fuel: polls the interrupt flag
/// and hands out more of the budget. Status 1 when the run must stop here
/// (interrupted, or the budget ends within `need` instructions: the
/// interpreter finishes it exactly).
pub extern "C" fn jit_refill(ctx: &mut JitCtx, fuel: u64, need: u64, pc: u64) -> Ret2 {
    if ctx.interrupt.load(Ordering::Relaxed) {
        return Ret2 {
            status: ctx.trap(TrapKind::Interrupted, pc as usize),
            value: fuel,
        };
    }
    let total = fuel + ctx.budget_left;
    if total < need {
        ctx.budget_left = total;
        ctx.stop = Some(Stop::Pause { pc: pc as usize });
        return Ret2 {
            status: 1,
            value: 0,
        };
    }
    Ret2 {
        status: 0,
        value: ctx.take_fuel(total, need),
    }
}

/// Records a stop that native code detected itself.
pub extern "C" fn jit_trap(ctx: &mut JitCtx, code: u64, pc: u64, aux: u64) {
    // SAFETY: during a run.
    let limit = unsafe { ctx.vm() }.config().max_call_depth;
    match code {
        TRAP_PC_OUT_OF_RANGE => {
            ctx.trap(TrapKind::PcOutOfRange(aux), pc as usize);
        }
        TRAP_CALL_DEPTH => {
            ctx.trap(TrapKind::CallDepthExceeded { limit }, pc as usize);
        }
        // A pause: `aux` is the fuel left.
        _ => {
            ctx.budget_left += aux;
            ctx.stop = Some(Stop::Pause { pc: pc as usize });
        }
    }
}

/// A native caller's frame on the way out of a stopped run.
pub extern "C" fn jit_unwind(ctx: &mut JitCtx, return_pc: u64, r6: u64, r7: u64, r8: u64, r9: u64) {
    ctx.unwound
        .push(Frame::new(return_pc as usize, [r6, r7, r8, r9]));
}
