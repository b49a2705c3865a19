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

use crate::engine::Core;
use bpf_vm::exec::{ExecState, Frame};
use bpf_vm::memory::{RawRegion, REGION_SLOTS};
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
}

/// What native code reads and writes besides BPF memory. `#[repr(C)]`:
/// translated code addresses the fields by their offsets.
#[repr(C)]
pub struct JitCtx {
    /// The region table for the inline access check ([`RawRegion`]); the
    /// stack slot's `lo` follows the running frame.
    pub regions: [RawRegion; REGION_SLOTS],
    /// Registers handed between native code and the host: a callee's
    /// caller registers (r0, r6–r9), arguments and results of slow calls,
    /// and every register at a pause.
    pub regs: [u64; 11],
    /// Per code slot: the native code of the unit entered there, or 0.
    pub native: *const usize,
    /// Per code slot: the same for registered function entries only (the
    /// `callx` targets), or 0.
    pub callx: *const usize,
    /// Length of both tables.
    pub table_len: u64,
    /// Native code stops (and the interpreter goes on) when the host stack
    /// pointer falls below this.
    pub stack_limit: u64,
    /// Fuel handed back by the trampoline.
    pub fuel: u64,
    /// Results of the last host call (host calls from native code go
    /// through adapters that preserve every register and return nothing).
    pub ret: [u64; 2],

    // ---- host-only fields ----
    /// Budget not yet handed to native code as fuel.
    pub budget_left: u64,
    pub stop: Option<Stop>,
    /// Frames of the native callers of a stopped run, innermost first.
    pub unwound: Vec<Frame>,
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
/// [`HOST_FUNCTIONS`]: (address, parameters, results).
pub const HOST_LOAD: usize = 0;
pub const HOST_STORE: usize = 1;
pub const HOST_ATOMIC: usize = 2;
pub const HOST_HELPER: usize = 3;
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
        (jit_helper as *const () as usize, 3, 2),
        (jit_call as *const () as usize, 6, 2),
        (jit_refill as *const () as usize, 4, 2),
        (jit_trap as *const () as usize, 4, 0),
        (jit_unwind as *const () as usize, 6, 0),
    ]
}

/// [`jit_call`] flag: the target is an address (`callx`).
pub const CALL_X: u64 = 1;

/// Codes for [`jit_trap`].
pub const TRAP_PC_OUT_OF_RANGE: u64 = 0;
pub const TRAP_CALL_DEPTH: u64 = 1;
pub const PAUSE_NATIVE_STACK: u64 = 2;

impl JitCtx {
    pub fn new(interrupt: Arc<AtomicBool>) -> JitCtx {
        JitCtx {
            regions: [RawRegion {
                ptr: std::ptr::null_mut(),
                lo: u64::MAX,
                len: 0,
                wlen: 0,
            }; REGION_SLOTS],
            regs: [0; 11],
            native: std::ptr::null(),
            callx: std::ptr::null(),
            table_len: 0,
            stack_limit: u64::MAX,
            fuel: 0,
            ret: [0; 2],
            budget_left: 0,
            stop: None,
            unwound: Vec::new(),
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

    /// Re-reads the region table (after anything that may allocate).
    pub fn refresh_regions(&mut self) {
        // SAFETY: during a run.
        self.regions = unsafe { self.vm() }.mem.raw_regions();
    }

    fn trap(&mut self, kind: TrapKind, pc: usize) -> u64 {
        self.stop = Some(Stop::Trap(Trap {
            kind,
            pc,
            call_sites: Vec::new(),
        }));
        1
    }

    /// Splits the remaining budget into fuel for native code.
    pub fn take_fuel(&mut self, total: u64, need: u64) -> u64 {
        let fuel = total.min(FUEL_CHUNK.max(need));
        self.budget_left = total - fuel;
        fuel
    }
}

/// The slow path of a load: the checked accessor the interpreter's
/// accesses also end in (after the inline check refused, or for memory
/// the inline check does not cover).
pub extern "C" fn jit_load(ctx: &mut JitCtx, addr: u64, size: u64, fp: u64, pc: u64) -> Ret2 {
    ctx.enter_frame(fp);
    // SAFETY: during a run.
    match unsafe { ctx.vm() }.mem.load(addr, size as usize) {
        Ok(value) => Ret2 { status: 0, value },
        Err(e) => Ret2 {
            status: ctx.trap(TrapKind::Memory(e), pc as usize),
            value: 0,
        },
    }
}

/// The slow path of a store.
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
    match unsafe { ctx.vm() }.mem.store(addr, size as usize, value) {
        Ok(()) => 0,
        Err(e) => ctx.trap(TrapKind::Memory(e), pc as usize),
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

/// `call id`: the helper gets r1..r5 from `ctx.regs`; r0 is the value.
pub extern "C" fn jit_helper(ctx: &mut JitCtx, fp: u64, pc: u64) -> Ret2 {
    ctx.enter_frame(fp);
    // SAFETY: during a run.
    let vm = unsafe { &mut *ctx.vm };
    let id = vm.ops()[pc as usize].imm as i32;
    let r = &ctx.regs;
    let result = vm.call_helper(id, [r[1], r[2], r[3], r[4], r[5]]);
    ctx.refresh_regions();
    match result {
        Ok(value) => Ret2 { status: 0, value },
        Err(kind) => Ret2 {
            status: ctx.trap(kind, pc as usize),
            value: 0,
        },
    }
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
    if let Some(code) = core.unit_code(vm, target) {
        core.publish(unsafe { &mut *ctx });
        let status = core.enter(code, callee_fp, fuel);
        let ctx = unsafe { &mut *ctx };
        ctx.enter_frame(fp);
        return Ret2 {
            status,
            value: ctx.fuel,
        };
    }
    // Interpret the callee in a frame of its own on top of the native ones.
    let ctx = unsafe { &mut *ctx };
    let depth = (core.entry_fp() - callee_fp) / config.frame_size as u64;
    let mut state = ExecState {
        regs: ctx.regs,
        pc: target,
        frames: Vec::new(),
        base_depth: depth as usize,
    };
    let mut total = fuel + ctx.budget_left;
    let result = vm.interpret(&mut state, &mut total);
    ctx.enter_frame(fp);
    ctx.refresh_regions();
    let status = match result {
        Ok(Some(_)) => {
            ctx.regs[..6].copy_from_slice(&state.regs[..6]);
            0
        }
        Ok(None) => {
            let budget = config.budget;
            ctx.stop = Some(Stop::Trap(state.trap(TrapKind::BudgetExhausted { budget })));
            1
        }
        Err(trap) => {
            ctx.stop = Some(Stop::Trap(trap));
            1
        }
    };
    let fuel = ctx.take_fuel(total, 0);
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
    ctx.unwound.push(Frame {
        return_pc: return_pc as usize,
        saved: [r6, r7, r8, r9],
    });
}
