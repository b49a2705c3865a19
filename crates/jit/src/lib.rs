//! `bpf-jit`: a Cranelift JIT for `bpf-vm` with exactly the interpreter's
//! semantics — the same results, memory effects and traps (kind, pc,
//! address, size, call sites), the same exact instruction budget and
//! call-depth limit, the same helpers.
//!
//! Register it on a VM with [`install`]; [`bpf_vm::Vm::call`] then runs on
//! it. Code is translated one *unit* at a time (a function, or the code
//! reachable from a slot where a run resumes), lazily when first called,
//! and re-translated only where the linker patches code.
//!
//! Engines ([`EngineKind`]): `interp` (the interpreter), `jit` (compile
//! every unit when first called) and `auto` (interpret first; compile an
//! entry once it has interpreted [`engine::AUTO_THRESHOLD`] plus
//! [`engine::AUTO_PER_INSTRUCTION`] per instruction of its code, taking
//! over a call still running at that point).

mod analysis;
pub mod engine;
mod provenance;
mod runtime;
mod translate;

pub use engine::{Jit, Stats, AUTO_PER_INSTRUCTION, AUTO_THRESHOLD};

use bpf_vm::Vm;
use std::fmt;
use std::str::FromStr;

/// Which engine runs BPF code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// The interpreter.
    Interp,
    /// Native code for every function, compiled when first called.
    Jit,
    /// Interpret first, compile what is hot.
    Auto,
}

impl EngineKind {
    pub const ALL: [EngineKind; 3] = [EngineKind::Interp, EngineKind::Jit, EngineKind::Auto];

    /// The name used on command lines (`interp`, `jit`, `auto`).
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
            EngineKind::Jit => "jit",
            EngineKind::Auto => "auto",
        }
    }

    /// `auto` where this host has a code generator, else `interp`.
    pub fn default_for_host() -> EngineKind {
        if host_support().is_ok() {
            EngineKind::Auto
        } else {
            EngineKind::Interp
        }
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EngineKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown engine `{s}` (expected interp, jit or auto)"))
    }
}

/// Ok if Cranelift can generate code for this host, else why not.
pub fn host_support() -> Result<(), String> {
    engine::host_isa().map(drop)
}

/// Makes `kind` the engine of `vm`. Where the host has no code generator,
/// `jit` and `auto` fall back to the interpreter; the returned note says
/// so (print it for the user).
pub fn install(vm: &mut Vm, kind: EngineKind) -> Option<String> {
    if kind == EngineKind::Interp {
        vm.set_engine(None);
        return None;
    }
    match Jit::new(kind) {
        Ok(jit) => {
            vm.set_engine(Some(Box::new(jit)));
            None
        }
        Err(why) => {
            vm.set_engine(None);
            Some(format!("{why}; using the interpreter"))
        }
    }
}

/// The name of the engine `vm` runs on (`interp` when none is registered).
pub fn engine_name(vm: &Vm) -> &str {
    vm.engine().map(|e| e.name()).unwrap_or("interp")
}
