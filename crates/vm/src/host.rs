//! What the host can plug into the VM beyond plain helpers: helpers that
//! call back into BPF (`bpf_loop`, `bpf_for_each_map_elem`) or replace the
//! running program (`bpf_tail_call`), and a [`Device`] that answers
//! accesses no region maps (the kernel's program contexts) and legacy
//! packet loads (LD_ABS/LD_IND).

use crate::memory::Memory;
use crate::trap::HelperError;

/// The most tail calls one run may make (the kernel's `MAX_TAIL_CALL_CNT`).
pub const MAX_TAIL_CALLS: u32 = 33;

/// Why a [`CallbackHelperFn`] is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperEvent {
    /// A BPF `call` of the helper, with r1..r5.
    Start([u64; 5]),
    /// The BPF function the helper asked for ([`HelperStep::Call`]) returned
    /// `ret`; `state` is what the helper passed along with that request.
    Resume { state: [u64; 4], ret: u64 },
}

/// What a [`CallbackHelperFn`] asks the VM to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperStep {
    /// The helper is done: r0 = the value, execution goes on after the `call`.
    Return(u64),
    /// Call the BPF function at code address `func` (it must be a function
    /// entry) with `args` in r1..r5, in a new frame; when it returns, the
    /// helper is called again with [`HelperEvent::Resume`] and `state`.
    Call {
        func: u64,
        args: [u64; 5],
        state: [u64; 4],
    },
    /// Replace the running function by the one at `func`, with r1 = `ctx`,
    /// in the same frame (`bpf_tail_call`): when it exits, control returns
    /// to the caller of the replaced function. Past [`MAX_TAIL_CALLS`] tail
    /// calls in one run the call fails instead: r0 = `on_failure` and
    /// execution goes on after the `call`.
    TailCall {
        func: u64,
        ctx: u64,
        on_failure: u64,
    },
    /// `setjmp(buf)`: the VM remembers the calling function's activation,
    /// the instruction after the `call` and r6–r9, writes an 8-byte token
    /// naming that record at `buf` (a checked store), and returns 0 in r0.
    /// The record lives as long as the run and the activation.
    SetJmp { buf: u64 },
    /// `longjmp(buf, value)`: the VM reads the token at `buf`, and if it
    /// names a record of this run whose activation is still live, unwinds
    /// every frame above it (abandoning helpers waiting for callbacks in
    /// those frames), restores r6–r9 and continues after that `setjmp`'s
    /// `call` with r0 = `value` (verbatim: C's 0 -> 1 is the helper's job).
    /// Otherwise the run stops with a fault naming `helper`.
    LongJmp { buf: u64, value: u64 },
}

/// A helper that may call back into BPF. Registered with
/// [`crate::Vm::register_callback_helper`] in the kernel helper table, or
/// [`crate::Vm::register_runtime_helper`] (as [`crate::HelperImpl::Callback`])
/// in the runtime's.
pub type CallbackHelperFn =
    Box<dyn FnMut(&mut Memory, HelperEvent) -> Result<HelperStep, HelperError>>;

/// A host device behind addresses no region maps, and the packet of legacy
/// socket-filter loads. Set with [`crate::Vm::set_device`].
///
/// When a load or store faults, the VM offers the access to the device
/// first; only if the device declines (`None`) is it a memory fault. This
/// is how kernel program contexts (`struct xdp_md`, `struct __sk_buff`),
/// whose 32-bit `data` fields must yield 64-bit VM pointers, are emulated,
/// the way the kernel's verifier rewrites context accesses. Accesses that
/// do not fault never reach the device, so it costs nothing elsewhere.
pub trait Device {
    /// A load of `size` bytes (1, 2, 4 or 8) at `addr`; the value is
    /// zero-extended (the VM sign-extends for sign-extending loads).
    fn load(&mut self, mem: &Memory, addr: u64, size: usize) -> Option<Result<u64, HelperError>>;

    /// A store of the low `size` bytes of `value` at `addr`.
    fn store(
        &mut self,
        mem: &mut Memory,
        addr: u64,
        size: usize,
        value: u64,
    ) -> Option<Result<(), HelperError>>;

    /// LD_ABS/LD_IND: `size` bytes (1, 2 or 4) at `offset` in the packet,
    /// converted from network byte order. `Ok(None)` when the bytes lie
    /// outside the packet: the program then ends, returning 0, as in the
    /// kernel. An error when there is no packet.
    fn packet_load(
        &mut self,
        mem: &Memory,
        offset: i64,
        size: usize,
    ) -> Result<Option<u64>, HelperError>;
}

// ---- the semantics every engine shares ----
//
// What a helper call, a legacy packet load or a faulting access does is
// decided here, once: the interpreter's host side (`interp/host.rs`) and
// native engines (through the methods in `exec.rs`) only apply the result
// to their own registers and frames.

use crate::exec::PendingHelper;
use crate::interp::{Kind, Op};
use crate::isa::INSN_SIZE;
use crate::jump::Jump;
use crate::memory::RegionKind;
use crate::trap::TrapKind;
use crate::vm::{Helper, HelperImpl};

/// What an engine does after a helper call or a helper's resumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperAction {
    /// r0 = `value`; execution goes on at slot `next`.
    Return { value: u64, next: usize },
    /// Enter the function at slot `target` in a new frame whose return
    /// address is `RESUME_BIT | pending.return_pc`, with `args` in r1..r5;
    /// `pending` waits (innermost last) until that frame exits, and then
    /// the helper resumes with its r0.
    Call {
        target: usize,
        args: [u64; 5],
        pending: PendingHelper,
    },
    /// Go on at slot `target` in the same frame with r1 = `ctx`.
    TailCall { target: usize, ctx: u64 },
    /// `setjmp`/`longjmp`: needs every frame of the run (see
    /// [`crate::exec::JmpRecords`]); an error names `helper`.
    Jump { helper: HelperId, jump: Jump },
}

/// A helper by table and index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelperId {
    pub index: u32,
    /// In the runtime table (`call` with `src = 2`), else the kernel's.
    pub runtime: bool,
}

impl HelperId {
    /// The trap for a helper that is not (or no longer) registered.
    fn unknown(self) -> TrapKind {
        if self.runtime {
            TrapKind::UnknownRuntimeHelper(self.index as i32)
        } else {
            TrapKind::UnknownHelper(self.index as i32)
        }
    }
}

/// The helper `id` names, if registered.
fn helper_mut<'a>(
    helpers: &'a mut [Option<Helper>],
    runtime_helpers: &'a mut [Option<Helper>],
    id: HelperId,
) -> Option<&'a mut Helper> {
    let table = if id.runtime { runtime_helpers } else { helpers };
    table.get_mut(id.index as usize).and_then(|h| h.as_mut())
}

/// The error of helper `id` as the trap that names it.
pub(crate) fn helper_error(
    helpers: &[Option<Helper>],
    runtime_helpers: &[Option<Helper>],
    id: HelperId,
    error: HelperError,
) -> TrapKind {
    let table = if id.runtime { runtime_helpers } else { helpers };
    let helper = table
        .get(id.index as usize)
        .and_then(|h| h.as_ref())
        .map_or_else(|| "?".to_string(), |h| h.name.clone());
    TrapKind::Helper { helper, error }
}

/// The function entry at code address `addr` (a `callx` or a helper's
/// callback), or the trap for it.
pub(crate) fn entry_at(entries: &[bool], addr: u64) -> Result<usize, TrapKind> {
    let off = addr.wrapping_sub(RegionKind::Code.base());
    let index = off / INSN_SIZE as u64;
    if off.is_multiple_of(INSN_SIZE as u64)
        && index < entries.len() as u64
        && entries[index as usize]
    {
        return Ok(index as usize);
    }
    Err(TrapKind::BadCallTarget(addr))
}

/// The error of helper `helper` as a trap.
fn helper_trap(helper: &Helper, error: HelperError) -> TrapKind {
    TrapKind::Helper {
        helper: helper.name.clone(),
        error,
    }
}

/// Starts the helper that the `call` `op` names (a kernel helper, or a
/// runtime helper for [`Kind::CallRuntime`]) with r1..r5 = `args`; returns
/// its id and its first step.
pub(crate) fn start_helper(
    helpers: &mut [Option<Helper>],
    runtime_helpers: &mut [Option<Helper>],
    mem: &mut Memory,
    op: &Op,
    args: [u64; 5],
) -> Result<(HelperId, HelperStep), TrapKind> {
    let id = HelperId {
        index: op.imm as i32 as u32,
        runtime: op.kind == Kind::CallRuntime,
    };
    let Some(helper) = helper_mut(helpers, runtime_helpers, id) else {
        return Err(id.unknown());
    };
    let step = match &mut helper.func {
        HelperImpl::Plain(f) => f(mem, args).map(HelperStep::Return),
        HelperImpl::Callback(f) => f(mem, HelperEvent::Start(args)),
    };
    step.map(|s| (id, s))
        .map_err(|error| helper_trap(helper, error))
}

/// The function `pending` called returned `ret`: the helper's next step.
pub(crate) fn resume_helper(
    helpers: &mut [Option<Helper>],
    runtime_helpers: &mut [Option<Helper>],
    mem: &mut Memory,
    pending: &PendingHelper,
    ret: u64,
) -> Result<HelperStep, TrapKind> {
    let id = pending.helper;
    let helper = helper_mut(helpers, runtime_helpers, id).ok_or(id.unknown())?;
    let HelperImpl::Callback(f) = &mut helper.func else {
        return Err(id.unknown());
    };
    let event = HelperEvent::Resume {
        state: pending.state,
        ret,
    };
    f(mem, event).map_err(|error| helper_trap(helper, error))
}

/// What helper `helper`'s `step` means for the engine; `next` is where
/// execution goes on when the helper is done, `tail_calls` the tail calls
/// this run has made.
pub(crate) fn plan_step(
    entries: &[bool],
    helper: HelperId,
    step: HelperStep,
    next: usize,
    tail_calls: &mut u32,
) -> Result<HelperAction, TrapKind> {
    Ok(match step {
        HelperStep::Return(value) => HelperAction::Return { value, next },
        HelperStep::Call { func, args, state } => HelperAction::Call {
            target: entry_at(entries, func)?,
            args,
            pending: PendingHelper {
                helper,
                state,
                return_pc: next,
            },
        },
        HelperStep::TailCall {
            func,
            ctx,
            on_failure,
        } => {
            let target = entry_at(entries, func)?;
            if *tail_calls >= MAX_TAIL_CALLS {
                HelperAction::Return {
                    value: on_failure,
                    next,
                }
            } else {
                *tail_calls += 1;
                HelperAction::TailCall { target, ctx }
            }
        }
        HelperStep::SetJmp { buf } => HelperAction::Jump {
            helper,
            jump: Jump::Set { buf, next },
        },
        HelperStep::LongJmp { buf, value } => HelperAction::Jump {
            helper,
            jump: Jump::Long { buf, value },
        },
    })
}

/// LD_ABS/LD_IND `op` with `r[src]` = `index`: the loaded value, or `None`
/// when the bytes lie outside the packet (the run then ends, returning 0).
pub(crate) fn packet_load(
    device: &mut Option<Box<dyn Device>>,
    mem: &Memory,
    op: &Op,
    index: u64,
) -> Result<Option<u64>, TrapKind> {
    let mut offset = op.imm as i32 as i64;
    if op.kind == Kind::LdInd {
        offset = (index as i32 as i64).wrapping_add(offset);
    }
    let error = |error| TrapKind::Helper {
        helper: "LD_ABS/LD_IND".to_string(),
        error,
    };
    let Some(device) = device.as_mut() else {
        return Err(error(HelperError::Fault(
            "legacy packet load (LD_ABS/LD_IND) without a packet: run the program as a \
             socket filter or tc program"
                .to_string(),
        )));
    };
    device
        .packet_load(mem, offset, op.src2 as usize)
        .map_err(error)
}

/// How a load or store kind that may reach the device accesses memory:
/// (bytes, sign-extended, is a load). `None` for every other kind (proven
/// loads and atomics included: they never reach the device).
pub(crate) fn device_access(kind: Kind) -> Option<(usize, bool, bool)> {
    use Kind::*;
    Some(match kind {
        Ldx8 => (1, false, true),
        Ldx16 => (2, false, true),
        Ldx32 => (4, false, true),
        Ldx64 => (8, false, true),
        Ldxs8 => (1, true, true),
        Ldxs16 => (2, true, true),
        Ldxs32 => (4, true, true),
        St8 | Stx8 => (1, false, false),
        St16 | Stx16 => (2, false, false),
        St32 | Stx32 => (4, false, false),
        St64 | Stx64 => (8, false, false),
        _ => return None,
    })
}

/// The error of the program-context device as a trap.
fn device_trap(error: HelperError) -> TrapKind {
    TrapKind::Helper {
        helper: "program context".to_string(),
        error,
    }
}

/// A load of `size` bytes at `addr` that memory refused, offered to the
/// device: the zero-extended value, or `None` when the device declines
/// (the access is then the memory fault).
pub(crate) fn device_load(
    device: &mut Option<Box<dyn Device>>,
    mem: &Memory,
    addr: u64,
    size: usize,
) -> Option<Result<u64, TrapKind>> {
    let answer = device.as_mut()?.load(mem, addr, size)?;
    Some(answer.map_err(device_trap))
}

/// A store that memory refused, offered to the device (see [`device_load`]).
pub(crate) fn device_store(
    device: &mut Option<Box<dyn Device>>,
    mem: &mut Memory,
    addr: u64,
    size: usize,
    value: u64,
) -> Option<Result<(), TrapKind>> {
    let answer = device.as_mut()?.store(mem, addr, size, value)?;
    Some(answer.map_err(device_trap))
}
