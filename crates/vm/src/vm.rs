//! The VM: code, memory, helpers and configuration, and the API to load
//! and call code. The interpreter loop itself lives in `interp.rs`.

use crate::exec::Engine;
use crate::host::{CallbackHelperFn, Device};
use crate::interp::Program;
use crate::isa::{Insn, INSN_SIZE};
use crate::memory::{Memory, RegionKind, MAX_REGION_SIZE};
use crate::trap::HelperError;
use crate::validate::{jump_target, validate, validate_slot, InvalidInsn, InvalidKind, JumpTarget};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A host function callable from BPF: a kernel helper (`call id`) or a
/// runtime helper (`call` with `src = 2`). It receives the VM memory (every
/// access checked) and r1..r5; its result goes to r0.
pub type HelperFn = Box<dyn FnMut(&mut Memory, [u64; 5]) -> Result<u64, HelperError>>;

pub(crate) struct Helper {
    pub(crate) name: String,
    pub(crate) func: HelperImpl,
}

/// The two kinds of helper: plain functions, and helpers that may call
/// back into BPF, tail-call or save and restore the call stack
/// (`setjmp`/`longjmp`; see [`crate::host`]). A host that hands out both
/// kinds (the C runtime) gives them in this form.
pub enum HelperImpl {
    Plain(HelperFn),
    Callback(CallbackHelperFn),
}

impl From<HelperFn> for HelperImpl {
    fn from(f: HelperFn) -> Self {
        HelperImpl::Plain(f)
    }
}

impl From<CallbackHelperFn> for HelperImpl {
    fn from(f: CallbackHelperFn) -> Self {
        HelperImpl::Callback(f)
    }
}

/// The most code slots a [`Vm`] holds (2^28): as many as the code region has addresses.
pub(crate) const MAX_CODE_SLOTS: usize = MAX_REGION_SIZE / INSN_SIZE;

/// The largest helper id or index [`Vm::register_helper`] and
/// [`Vm::register_runtime_helper`] accept.
pub const MAX_HELPER_ID: u32 = 0xffff;

/// Limits that keep any program finite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmConfig {
    /// Bytes of stack per call frame (clang assumes 512; see `-mllvm -bpf-stack-size`).
    pub frame_size: usize,
    /// Maximum number of nested frames, the entry frame included.
    pub max_call_depth: usize,
    /// Instructions one `call` may execute before it is stopped.
    pub budget: u64,
}

impl VmConfig {
    /// Checks that the limits make sense: frames are whole 8-byte words,
    /// at least one frame, and all frames fit in the stack region.
    pub fn check(&self) -> Result<(), String> {
        if self.frame_size == 0 || !self.frame_size.is_multiple_of(8) {
            return Err(format!(
                "stack frame size {} is not a positive multiple of 8",
                self.frame_size
            ));
        }
        if self.max_call_depth == 0 {
            return Err("the call depth limit must be at least 1".to_string());
        }
        match self.frame_size.checked_mul(self.max_call_depth) {
            Some(total) if total <= crate::memory::MAX_REGION_SIZE => Ok(()),
            _ => Err(format!(
                "{} frames of {} bytes do not fit in the {} byte stack region",
                self.max_call_depth,
                self.frame_size,
                crate::memory::MAX_REGION_SIZE
            )),
        }
    }

    /// The nearest configuration that passes [`VmConfig::check`]: the
    /// frame size rounded up to 8 bytes (at most 1 MiB), at least one
    /// frame, and no more frames than fit the stack region.
    pub fn clamped(mut self) -> VmConfig {
        self.frame_size = self.frame_size.clamp(8, 1 << 20).next_multiple_of(8);
        let fit = crate::memory::MAX_REGION_SIZE / self.frame_size;
        self.max_call_depth = self.max_call_depth.clamp(1, fit);
        self
    }
}

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            frame_size: 512,
            max_call_depth: 256,
            budget: 1_000_000_000,
        }
    }
}

/// Code, memory and helpers of one BPF machine.
pub struct Vm {
    /// The code slots, and the decoded form the interpreter runs.
    pub(crate) program: Program,
    /// `entries[i]`: slot `i` starts a function (a valid `callx` target).
    pub(crate) entries: Vec<bool>,
    /// The address space; public so loaders and hosts can allocate and inspect.
    pub mem: Memory,
    /// Kernel helpers by id (`call id`, `src = 0`).
    pub(crate) helpers: Vec<Option<Helper>>,
    /// Runtime helpers by index (`call index`, `src = 2`).
    pub(crate) runtime_helpers: Vec<Option<Helper>>,
    pub(crate) config: VmConfig,
    pub(crate) interrupt: Arc<AtomicBool>,
    /// The engine [`Vm::call`] hands calls to (none: the interpreter).
    pub(crate) engine: Option<Box<dyn Engine>>,
    /// Answers faulting accesses and legacy packet loads (see [`Device`]).
    pub(crate) device: Option<Box<dyn Device>>,
    /// The initial contents of every thread's TLS block (the linker
    /// extends it; see [`crate::tls`]).
    pub tls: crate::tls::TlsTemplate,
    /// Threads other than the running call's, the scheduler and the
    /// synchronisation objects (see [`crate::threads`]).
    pub(crate) threads: crate::threads::Threads,
    /// The last token `setjmp` handed out (tokens never repeat, so a
    /// `jmp_buf` from an earlier run names nothing).
    pub(crate) jmp_tokens: u64,
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new(VmConfig::default())
    }
}

/// The virtual address of code slot `index` (what function pointers hold).
pub const fn code_addr(index: usize) -> u64 {
    RegionKind::Code.base() + (index * INSN_SIZE) as u64
}

impl Vm {
    /// An empty machine with the given limits (clamped, see [`Vm::set_config`]).
    pub fn new(config: VmConfig) -> Vm {
        let mut vm = Vm {
            program: Program::default(),
            entries: Vec::new(),
            mem: Memory::new(),
            helpers: Vec::new(),
            runtime_helpers: Vec::new(),
            config,
            interrupt: Arc::new(AtomicBool::new(false)),
            engine: crate::exec::default_engine(),
            device: None,
            tls: crate::tls::TlsTemplate::default(),
            threads: crate::threads::Threads::default(),
            jmp_tokens: 0,
        };
        vm.set_config(config);
        vm
    }

    /// Current limits.
    pub fn config(&self) -> VmConfig {
        self.config
    }

    /// Changes the limits (the stack is resized to fit). Limits that fail
    /// [`VmConfig::check`] are replaced by [`VmConfig::clamped`]; tools that
    /// take them from users should report `check`'s error instead.
    pub fn set_config(&mut self, config: VmConfig) {
        let config = config.clamped();
        if config.frame_size < self.config.frame_size {
            // Stack proofs hold for frames at least as large as they assumed.
            self.program.drop_proofs(None);
            self.sync_engine();
        }
        self.config = config;
        self.mem
            .set_stack_size(config.frame_size.saturating_mul(config.max_call_depth));
    }

    /// The flag another thread sets to stop a running program (Ctrl-C).
    /// It is cleared when a run starts.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// All loaded code slots.
    pub fn code(&self) -> &[Insn] {
        self.program.insns()
    }

    /// The code slot index a code address denotes, if it is one.
    pub fn code_index(&self, addr: u64) -> Option<usize> {
        let off = addr.checked_sub(RegionKind::Code.base())?;
        if !off.is_multiple_of(INSN_SIZE as u64) {
            return None;
        }
        let idx = usize::try_from(off / INSN_SIZE as u64).ok()?;
        (idx < self.program.len()).then_some(idx)
    }

    /// True if slot `index` is a registered function entry.
    pub fn is_entry(&self, index: usize) -> bool {
        self.entries.get(index).copied().unwrap_or(false)
    }

    /// Validates and appends a chunk of code; returns the index of its first
    /// slot. Jumps must stay inside the chunk; local calls may target any
    /// slot of the code loaded so far or of the chunk. On error nothing is
    /// appended and the error's index is relative to the chunk. The code
    /// may hold at most 2^28 slots (as many as the code region has addresses).
    pub fn load_code(&mut self, chunk: &[Insn]) -> Result<usize, InvalidInsn> {
        let start = self.program.len();
        let room = MAX_CODE_SLOTS.saturating_sub(start);
        if chunk.len() > room {
            return Err(InvalidInsn {
                index: room,
                opcode: chunk[room].op,
                kind: InvalidKind::CodeTooLarge(MAX_CODE_SLOTS),
            });
        }
        validate(chunk, false)?;
        let total = (start + chunk.len()) as i64;
        let mut skip = false;
        for (i, insn) in chunk.iter().enumerate() {
            if std::mem::take(&mut skip) {
                continue;
            }
            skip = insn.is_ld_imm64();
            if let Some(JumpTarget::Call(rel)) = jump_target(*insn, i) {
                let abs = start as i64 + rel;
                let kind = if abs < 0 || abs >= total {
                    InvalidKind::JumpOutOfRange(abs - start as i64)
                } else if self.is_second_half(chunk, start, abs as usize) {
                    InvalidKind::JumpIntoLdImm64((abs - start as i64) as usize)
                } else {
                    continue;
                };
                return Err(InvalidInsn {
                    index: i,
                    opcode: insn.op,
                    kind,
                });
            }
        }
        self.program.append(chunk);
        self.entries.resize(self.program.len(), false);
        self.sync_engine();
        Ok(start)
    }

    fn is_second_half(&self, chunk: &[Insn], start: usize, abs: usize) -> bool {
        let at = |i: usize| {
            if i < start {
                self.program.insns()[i]
            } else {
                chunk[i - start]
            }
        };
        // Second slots of ld_imm64 have opcode 0, so a slot follows an
        // ld_imm64 opcode exactly when it is that instruction's second half.
        abs > 0 && at(abs - 1).is_ld_imm64()
    }

    /// Replaces one slot (used for redefinable-function stubs). The new slot
    /// must be a valid single-slot instruction whose jump or call target is
    /// inside the code; it must not overwrite either half of an `ld_imm64`.
    pub fn patch(&mut self, index: usize, insn: Insn) -> Result<(), InvalidInsn> {
        let fail = |kind| InvalidInsn {
            index,
            opcode: insn.op,
            kind,
        };
        let len = self.program.len();
        if index >= len {
            return Err(fail(InvalidKind::JumpOutOfRange(index as i64)));
        }
        if insn.is_ld_imm64()
            || self.program.insns()[index].is_ld_imm64()
            || self.is_second_half(&[], len, index)
        {
            return Err(fail(InvalidKind::TruncatedLdImm64));
        }
        validate_slot(insn).map_err(fail)?;
        if let Some(JumpTarget::Jump(t) | JumpTarget::Call(t)) = jump_target(insn, index) {
            if t < 0 || t >= len as i64 {
                return Err(fail(InvalidKind::JumpOutOfRange(t)));
            }
            if self.is_second_half(&[], len, t as usize) {
                return Err(fail(InvalidKind::JumpIntoLdImm64(t as usize)));
            }
        }
        self.program.replace(index, insn);
        self.sync_engine();
        Ok(())
    }

    /// Rewrites the 64-bit immediate of the `ld_imm64` starting at `index`
    /// (the linker rebinding a reference to a redefined variable).
    pub fn patch_ld_imm64(&mut self, index: usize, value: u64) -> Result<(), InvalidInsn> {
        match self.program.insns().get(index) {
            Some(insn) if insn.is_ld_imm64() && index + 1 < self.program.len() => {
                self.program.set_imm64(index, value);
                self.sync_engine();
                Ok(())
            }
            other => Err(InvalidInsn {
                index,
                opcode: other.map(|i| i.op).unwrap_or(0),
                kind: InvalidKind::TruncatedLdImm64,
            }),
        }
    }

    /// Lets the accesses at `proofs` skip the checks a verifier proved
    /// redundant: each `(slot, region)` stays inside `region` (for the
    /// stack: inside the live frames) on every execution. The interpreter
    /// uses this for loads; an engine may use it for stores too. `source` is
    /// the code the proof was derived from; changing any slot in it ([`Vm::patch`],
    /// [`Vm::patch_ld_imm64`], truncation) withdraws the proofs, and so
    /// does a smaller frame size. The checks that remain still keep every
    /// access inside VM memory.
    pub fn set_access_proofs(
        &mut self,
        source: std::ops::Range<usize>,
        proofs: &[(usize, RegionKind)],
    ) {
        self.program.set_proofs(source, proofs);
        self.sync_engine();
    }

    /// Withdraws every access proof.
    pub fn clear_access_proofs(&mut self) {
        self.program.drop_proofs(None);
        self.sync_engine();
    }

    /// True if the access at `slot` runs with the checks a proof made redundant skipped.
    pub fn is_access_proven(&self, slot: usize) -> bool {
        self.program.is_proven(slot)
    }

    /// The region the access at `slot` was proven to stay in, if any.
    pub fn access_proof(&self, slot: usize) -> Option<RegionKind> {
        self.program.proof(slot)
    }

    /// Marks slot `index` as a function entry (a valid `callx` target).
    pub fn mark_entry(&mut self, index: usize) {
        if index < self.entries.len() {
            self.entries[index] = true;
        }
    }

    /// Drops code after `len` slots (undo of the most recent loads).
    pub fn truncate_code(&mut self, len: usize) {
        self.program.truncate(len);
        self.entries.truncate(len);
        self.sync_engine();
    }

    /// Registers the kernel helper `id` (what `call id` with `src = 0`
    /// calls; ids are the kernel's, see [`crate::kernel_helpers`]),
    /// replacing any earlier one. Ids index a table, so they must be small:
    /// at most [`MAX_HELPER_ID`].
    ///
    /// # Panics
    /// If `id` is greater than [`MAX_HELPER_ID`] (a host programming error).
    pub fn register_helper(&mut self, id: u32, name: &str, func: HelperFn) {
        put(&mut self.helpers, id, name, HelperImpl::Plain(func));
    }

    /// Registers kernel helper `id` as one that may call back into BPF or
    /// tail-call ([`crate::host::HelperStep`]), replacing any earlier one.
    ///
    /// # Panics
    /// If `id` is greater than [`MAX_HELPER_ID`] (a host programming error).
    pub fn register_callback_helper(&mut self, id: u32, name: &str, func: CallbackHelperFn) {
        put(&mut self.helpers, id, name, HelperImpl::Callback(func));
    }

    /// Plugs in (or, with `None`, removes) the device that answers faulting
    /// accesses and LD_ABS/LD_IND; returns the previous one.
    pub fn set_device(&mut self, device: Option<Box<dyn Device>>) -> Option<Box<dyn Device>> {
        std::mem::replace(&mut self.device, device)
    }

    /// The name a kernel helper id was registered with.
    pub fn helper_name(&self, id: u32) -> Option<&str> {
        name_in(&self.helpers, id)
    }

    /// Registers runtime helper `index` (what `call index` with `src = 2`
    /// calls: the C runtime's `printf`, `malloc`, ...), replacing any
    /// earlier one. At most [`MAX_HELPER_ID`].
    ///
    /// # Panics
    /// If `index` is greater than [`MAX_HELPER_ID`] (a host programming error).
    pub fn register_runtime_helper(&mut self, index: u32, name: &str, func: HelperFn) {
        self.threads.code_changed();
        put(
            &mut self.runtime_helpers,
            index,
            name,
            HelperImpl::Plain(func),
        );
    }

    /// Registers runtime helper `index` as one that may call back into BPF
    /// or move the call stack (`qsort`, `exit` running `atexit` functions,
    /// `setjmp`/`longjmp`: [`crate::host::HelperStep`]), replacing any
    /// earlier one.
    ///
    /// # Panics
    /// If `index` is greater than [`MAX_HELPER_ID`] (a host programming error).
    pub fn register_runtime_callback_helper(
        &mut self,
        index: u32,
        name: &str,
        func: CallbackHelperFn,
    ) {
        put(
            &mut self.runtime_helpers,
            index,
            name,
            HelperImpl::Callback(func),
        );
    }

    /// The name a runtime helper index was registered with.
    pub fn runtime_helper_name(&self, index: u32) -> Option<&str> {
        name_in(&self.runtime_helpers, index)
    }

    // ---- for execution engines (see `crate::exec`) ----

    /// Registers the engine that runs every later [`Vm::call`] (`None`: the
    /// interpreter); returns the previous one.
    pub fn set_engine(&mut self, engine: Option<Box<dyn Engine>>) -> Option<Box<dyn Engine>> {
        std::mem::replace(&mut self.engine, engine)
    }

    /// The registered engine, if any.
    pub fn engine(&self) -> Option<&dyn Engine> {
        self.engine.as_deref()
    }

    /// Tells the engine which decoded slots changed (code loaded, patched
    /// or cut, proofs set or withdrawn).
    fn sync_engine(&mut self) {
        self.threads.code_changed();
        let changes = self.program.take_changes();
        if let Some(engine) = self.engine.as_mut() {
            for changed in changes {
                engine.code_changed(changed);
            }
        }
    }
}

fn put(table: &mut Vec<Option<Helper>>, id: u32, name: &str, func: HelperImpl) {
    assert!(
        id <= MAX_HELPER_ID,
        "helper id {id} is above MAX_HELPER_ID ({MAX_HELPER_ID})"
    );
    let idx = id as usize;
    if table.len() <= idx {
        table.resize_with(idx + 1, || None);
    }
    table[idx] = Some(Helper {
        name: name.to_string(),
        func,
    });
}

fn name_in(table: &[Option<Helper>], id: u32) -> Option<&str> {
    table.get(id as usize)?.as_ref().map(|h| h.name.as_str())
}
