//! `bpf-vm` owns everything about executing BPF: the instruction set of
//! RFC 9669 (decode, encode, validate, disassemble), a deterministic address
//! space in which every access is translated and bounds-checked, and an
//! interpreter with host helpers, an instruction budget, a call-depth limit
//! and an interrupt flag.
//!
//! It knows nothing about ELF, symbols or C: loaders (the `bpf-linker`
//! crate) place code and data through [`Vm::load_code`] and [`Memory`], and
//! then [`Vm::call`] a function by its code index.

pub mod disasm;
pub mod exec;
pub mod files;
pub mod host;
mod interp;
pub mod isa;
mod jump;
pub mod kernel_helpers;
pub mod memory;
pub mod threads;
pub mod tls;
pub mod trap;
pub mod validate;
mod vm;

pub use exec::{Engine, ExecState};
pub use host::{CallbackHelperFn, Device, HelperEvent, HelperStep, MAX_TAIL_CALLS};
pub use isa::Insn;
pub use memory::{
    Access, Checkpoint, MemError, MemReason, Memory, MemoryMark, RawRegion, RegionKind,
};
pub use trap::{HelperError, Trap, TrapKind};
pub use validate::{validate, InvalidInsn, InvalidKind};
pub use vm::{code_addr, HelperFn, HelperImpl, Vm, VmConfig, MAX_HELPER_ID};
