//! The rewriting passes of the IR stage, in the order [`crate::lower`] runs
//! them (docs/abi.md is the contract they implement).
//!
//! Each pass walks the module once and either rewrites what the BPF backend
//! cannot lower (full mode) or, under `--strict-bpf`, reports it at its
//! place in the C source and leaves it alone.

pub(crate) mod alloca;
pub(crate) mod atomics;
pub(crate) mod falloff;
pub(crate) mod float;
pub(crate) mod int128;
pub(crate) mod memory;
pub(crate) mod sections;
pub(crate) mod signature;
pub(crate) mod tls;
pub(crate) mod traps;
pub(crate) mod unsupported;
pub(crate) mod vaarg;

use crate::error::Diagnostic;
use crate::ir::{Ir, V};
use std::collections::HashMap;

/// What every pass works with: the module, the mode, and the problems found.
pub(crate) struct Cx<'a> {
    pub ir: &'a Ir,
    /// `--strict-bpf`: report constructs instead of lowering them.
    pub strict: bool,
    /// Stack bytes per call frame the VM gives each function.
    pub frame_size: u64,
    pub problems: Vec<Diagnostic>,
    /// Per-function scratch slots, by purpose (see [`Cx::slot`]).
    slots: HashMap<(V, &'static str), V>,
}

impl<'a> Cx<'a> {
    pub fn new(ir: &'a Ir, strict: bool, frame_size: u64) -> Cx<'a> {
        Cx {
            ir,
            strict,
            frame_size,
            problems: Vec::new(),
            slots: HashMap::new(),
        }
    }

    /// A stack slot of `size` bytes in `f`'s frame for one `purpose`,
    /// shared by all instructions of `f` that need one only around a
    /// single call (results of 128-bit helpers, `frexp`'s exponent).
    pub fn slot(&mut self, f: V, purpose: &'static str, size: u64, align: u64) -> V {
        let ir = self.ir;
        *self
            .slots
            .entry((f, purpose))
            .or_insert_with(|| ir.entry_alloca(f, size, align))
    }

    /// Reports `message` at instruction `at`.
    pub fn problem(&mut self, at: V, message: String) {
        // An instruction without a location: the nearest one before it.
        let loc = self.ir.loc(at).or_else(|| {
            let insts = self.ir.insts(self.ir.block_of(at));
            let k = insts.iter().position(|i| *i == at)?;
            insts[..k].iter().rev().find_map(|i| self.ir.loc(*i))
        });
        let function = Some(c_name(&self.ir.name(self.ir.function_of(at))));
        let d = Diagnostic {
            loc,
            function,
            message,
        };
        if !self.problems.contains(&d) {
            self.problems.push(d);
        }
    }

    /// Under `--strict-bpf`: reports that `construct` needs the full ABI.
    pub fn refuse(&mut self, at: V, construct: &str) {
        self.problem(
            at,
            format!("{construct} is not allowed under --strict-bpf (plain BPF cannot run it; compile without --strict-bpf to use bpf-repl's ABI)"),
        );
    }
}

/// A function's C name (LLVM suffixes local copies with `.N`).
fn c_name(name: &str) -> String {
    match name.split_once('.') {
        Some((base, _)) if !base.is_empty() => base.to_string(),
        _ => name.to_string(),
    }
}

/// The defined functions of the module (snapshot).
pub(crate) fn definitions(ir: &Ir) -> Vec<V> {
    ir.functions()
        .into_iter()
        .filter(|f| !ir.is_declaration(*f))
        .collect()
}

/// Every call instruction of every defined function, with the base name of
/// the intrinsic it calls (if it calls one).
pub(crate) fn calls(ir: &Ir) -> Vec<(V, Option<String>)> {
    let mut out = Vec::new();
    for f in definitions(ir) {
        for i in ir.all_insts(f) {
            if ir.is_call(i) {
                let name = ir.callee_name(i);
                let base = crate::ir::intrinsic_base(&name).map(str::to_string);
                out.push((i, base));
            }
        }
    }
    out
}
