//! `bpf-linker` is a JIT linker for BPF ELF relocatable objects, shaped
//! like LLVM JITLink: an ELF reader builds a [`LinkGraph`] (sections,
//! symbols, edges with explicit addends); a fixed pass pipeline resolves,
//! allocates into the VM's address space, applies the BPF fixups (one
//! [`bpf::apply_fixup`]), verifies and publishes into a [`Session`], the
//! incremental symbol table that later objects link against.
//!
//! It owns symbols, relocations and placement; it does not own execution
//! (the `bpf-vm` crate) or C (the REPL).

pub mod abi;
pub mod bpf;
pub mod btf;
mod calls;
mod co_re;
pub mod debuginfo;
pub mod elf;
pub mod error;
mod externs;
pub mod graph;
mod kmaps;
mod link;
pub mod maps;
pub mod memcheck;
mod programs;
pub mod session;
pub mod stack;
pub mod verify;

pub use debuginfo::{format_backtrace, BacktraceFrame, SourceLocation};
pub use error::LinkError;
pub use graph::LinkGraph;
pub use programs::{parse_hex, Program};
pub use session::{
    CallError, GlobalSymbol, LinkTimes, LinkedObject, Session, SessionOptions, VerifyHook,
};
