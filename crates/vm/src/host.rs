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
