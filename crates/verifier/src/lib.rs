//! `bpf-verifier` proves things about BPF code by abstract interpretation:
//! every register and stack slot gets an abstract value (not initialised,
//! a scalar as a tristate number with signed and unsigned intervals, a
//! pointer into a stack frame, the context, the packet, a map value or a
//! reserved block, possibly NULL), states are joined where control flow
//! merges and widened at loop heads, and calls are analysed in the
//! caller's context. It is sound: it may fail to prove a fact, it never
//! proves a false one.
//!
//! Two uses:
//! - [`prove`]: user-space code on our VM. Memory accesses proven in
//!   bounds need no run-time check ([`Proofs`]).
//! - [`verify_kernel`]: a kernel program. What the Linux verifier would
//!   refuse, each finding with its instruction, the kernel's message and
//!   the abstract state that shows why ([`Verdict`], [`report`]).
//!
//! It depends on `bpf-vm` and `bpf-kabi` (the kernel's facts) only; the
//! linker's verify pass calls it.

mod alu;
mod branch;
mod call;
mod callback;
pub mod cfg;
mod compare;
mod describe;
pub mod diag;
mod engine;
mod helper;
pub mod kernel;
mod legacy;
mod loops;
mod mem;
pub mod report;
pub mod scalar;
mod stack;
pub mod state;
pub mod tnum;
pub mod value;

pub use diag::{Diagnostic, Rule, Severity};
pub use kernel::{KernelOptions, KernelProgram, MapInfo, ObjectFacts, ProgType};

use bpf_vm::isa::Insn;
use bpf_vm::RegionKind;
use engine::{Analyzer, Mode, SlotProof};
use state::State;
use std::time::{Duration, Instant};

/// The code to analyse: a run of instruction slots and the functions in it.
#[derive(Clone, Debug)]
pub struct Program<'a> {
    pub code: &'a [Insn],
    /// The absolute slot of `code[0]` (for messages and proofs).
    pub base: usize,
    pub functions: Vec<Function>,
}

/// A function of a [`Program`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// First slot and one past the last (relative to [`Program::code`]).
    pub start: usize,
    pub end: usize,
    /// Code outside the program may call it (with any arguments): an
    /// exported function, or one whose address is taken. Others are only
    /// analysed where the program calls them.
    pub external: bool,
}

/// One region of memory where speed mode may prove accesses in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    pub region: RegionKind,
    /// Addresses `start..end` are mapped (and stay mapped).
    pub start: u64,
    pub end: u64,
    pub writable: bool,
}

/// What speed mode knows about the machine the code will run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeedEnv {
    /// Bytes of each stack frame (the VM's `frame_size`).
    pub frame_size: usize,
    /// Nested calls the analysis follows before it treats a call as opaque.
    pub max_call_depth: usize,
    /// Memory that is mapped and will not shrink while the code is loaded
    /// (not the stack: frames are proven through `r10`).
    pub extents: Vec<Extent>,
}

/// What kernel mode knows about the loader and the object (the kernel's
/// own facts are `bpf-kabi`'s).
pub struct KernelEnv<'a> {
    pub maps: &'a [MapInfo],
    pub options: KernelOptions,
    pub facts: ObjectFacts,
}

/// Bounds on the analysis itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Abstract instruction steps (all fixpoint iterations of all
    /// contexts) before the analysis gives up.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 2_000_000,
        }
    }
}

/// One memory access proven in bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessProof {
    /// Absolute slot of the load, store or atomic.
    pub slot: usize,
    /// The region every execution of it stays inside, with the access's
    /// permission (a store proven in a region is proven writable there).
    pub region: RegionKind,
    /// For accesses relative to the running function's own frame: the
    /// bytes `lo..hi` from its r10 (`-frame_size <= lo`, `hi <= 0`).
    pub frame: Option<(i64, i64)>,
}

/// What speed mode proved about a program.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proofs {
    pub proven: Vec<AccessProof>,
    /// Memory access instructions the analysis reached.
    pub accesses: usize,
    /// Abstract steps taken.
    pub steps: u64,
    /// False if the analysis stopped early (limit, malformed code): then
    /// nothing is proven.
    pub complete: bool,
    pub time: Duration,
}

/// Proves memory accesses of `program` in bounds, analysing every function
/// code outside may call with unknown arguments (and the functions they
/// call in their context).
pub fn prove(program: &Program, env: &SpeedEnv, limits: Limits) -> Proofs {
    let start = Instant::now();
    let mut an = Analyzer::new(program, Mode::Speed(env), limits.max_steps);
    an.record = true;
    for (f, func) in program.functions.iter().enumerate() {
        if !func.external {
            continue;
        }
        let mut entry = State::entry(f);
        for r in 0..10 {
            entry.set(r, value::Value::Any);
        }
        for r in 1..=5 {
            entry.set(r, value::Value::UNKNOWN);
        }
        an.active.push(f);
        an.analyse(f, entry);
        an.active.pop();
        if an.gave_up {
            break;
        }
    }
    let complete = !an.gave_up && !an.unsound;
    let mut out = Proofs {
        accesses: an
            .proofs
            .iter()
            .filter(|p| **p != SlotProof::Unseen)
            .count(),
        steps: an.steps,
        complete,
        ..Proofs::default()
    };
    if complete {
        for (i, p) in an.proofs.iter().enumerate() {
            if let SlotProof::Proven { region, frame } = *p {
                out.proven.push(AccessProof {
                    slot: program.base + i,
                    region,
                    frame,
                });
            }
        }
    }
    out.time = start.elapsed();
    out
}

/// `check_max_stack_depth`: the frames of the deepest call chain from
/// `entry`, each rounded up to 32 bytes, must fit in `limit` bytes.
fn combined_stack(an: &mut Analyzer, entry: usize, limit: usize) {
    fn deepest(an: &Analyzer, f: usize, seen: &mut Vec<usize>) -> (u64, Vec<usize>) {
        let own = an
            .stack_use
            .get(&f)
            .copied()
            .unwrap_or(0)
            .max(1)
            .next_multiple_of(32);
        seen.push(f);
        let mut best = (0, Vec::new());
        for &g in an.calls.get(&f).into_iter().flatten() {
            if !seen.contains(&g) {
                let d = deepest(an, g, seen);
                if d.0 > best.0 {
                    best = d;
                }
            }
        }
        seen.pop();
        let mut chain = vec![f];
        chain.extend(best.1);
        (own + best.0, chain)
    }
    let (total, chain) = deepest(an, entry, &mut Vec::new());
    if total as usize > limit && chain.len() > 1 {
        let names: Vec<String> = chain
            .iter()
            .map(|f| {
                let used = an.stack_use.get(f).copied().unwrap_or(0);
                format!("`{}` ({used} bytes)", an.prog.functions[*f].name)
            })
            .collect();
        let start = an.prog.functions[entry].start;
        an.report(
            start,
            Rule::CombinedStack,
            Severity::Error,
            format!(
                "the call chain {} needs {total} bytes of stack together (frames rounded up to 32 bytes); the limit is {limit}",
                names.join(" -> ")
            ),
        )
        .kernel_says(Some(format!(
            "combined stack size of {} calls is {total}. Too large",
            chain.len()
        )))
        .emit_plain();
    }
}

/// `check_max_stack_depth`: a subprogram that makes a tail call must be
/// reached with less than 256 bytes of stack in the frames up to it.
fn tail_call_stack(an: &mut Analyzer, entry: usize) {
    fn walk(
        an: &Analyzer,
        f: usize,
        depth: u64,
        seen: &mut Vec<usize>,
        out: &mut Vec<(usize, u64)>,
    ) {
        let own = an
            .stack_use
            .get(&f)
            .copied()
            .unwrap_or(0)
            .max(1)
            .next_multiple_of(32);
        let depth = depth + own;
        if !seen.is_empty() && an.tail_calls.contains(&f) && depth >= 256 {
            out.push((f, depth));
        }
        seen.push(f);
        for &g in an.calls.get(&f).into_iter().flatten() {
            if !seen.contains(&g) {
                walk(an, g, depth, seen, out);
            }
        }
        seen.pop();
    }
    let mut found = Vec::new();
    walk(an, entry, 0, &mut Vec::new(), &mut found);
    found.sort();
    found.dedup_by_key(|(f, _)| *f);
    for (f, depth) in found {
        let name = an.prog.functions[f].name.clone();
        let start = an.prog.functions[f].start;
        an.report(
            start,
            Rule::CombinedStack,
            Severity::Error,
            format!("`{name}` makes a tail call with {depth} bytes of stack in use by it and its callers; the limit for that is 256"),
        )
        .kernel_says(Some(format!(
            "tail_calls are not allowed when call stack of previous frames is {depth} bytes. Too large"
        )))
        .emit_plain();
    }
}

/// The kernel verifier's verdict on one program, as far as we can tell.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The entry function's name.
    pub name: String,
    pub prog_type: ProgType,
    /// Instructions of the program and the functions it calls.
    pub insns: usize,
    /// Findings, errors first, by instruction.
    pub diagnostics: Vec<Diagnostic>,
    /// Memory access instructions the analysis reached.
    pub accesses: usize,
    /// Of those, the ones in bounds on every path.
    pub in_bounds: usize,
    pub steps: u64,
    pub time: Duration,
}

impl Verdict {
    /// True if the kernel would load the program.
    pub fn accepted(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What the Linux verifier would say about `kprog` (a program of
/// `program`, with its maps in `env`).
pub fn verify_kernel(
    program: &Program,
    kprog: &KernelProgram,
    env: &KernelEnv,
    limits: Limits,
) -> Verdict {
    let start = Instant::now();
    let ctx = kernel::CtxLayout::of(kprog.prog_type);
    let mut an = Analyzer::new(
        program,
        Mode::Kernel {
            env,
            prog: kprog.prog_type,
            ctx,
        },
        limits.max_steps,
    );
    an.record = true;
    let f = kprog.function;
    let mut entry = State::entry(f);
    entry.set(1, value::Value::Ptr(value::Ptr::at(value::Base::Ctx, 0)));
    an.active.push(f);
    an.analyse(f, entry);
    an.active.pop();
    loops::check(&mut an, f);
    combined_stack(&mut an, f, env.options.stack_limit);
    tail_call_stack(&mut an, f);
    let insns = an
        .analysed
        .iter()
        .map(|f| program.functions[*f].end - program.functions[*f].start)
        .sum();
    if an.gave_up {
        an.record = true;
        an.report(
            program.functions[f].start,
            Rule::TooComplex,
            Severity::Error,
            format!(
                "the analysis did not finish within {} steps; the kernel's verifier would likely give up too",
                limits.max_steps
            ),
        )
        .kernel_says(Some("BPF program is too large. Processed 1000001 insn".to_string()))
        .emit_plain();
    }
    if insns > env.options.max_insns {
        an.report(
            program.functions[f].start,
            Rule::TooManyInsns,
            Severity::Error,
            format!(
                "the program has {insns} instructions; the limit is {}",
                env.options.max_insns
            ),
        )
        .kernel_says(Some(format!(
            "BPF program is too large. Processed {insns} insn"
        )))
        .emit_plain();
    }
    let accesses = an
        .proofs
        .iter()
        .filter(|p| **p != SlotProof::Unseen)
        .count();
    let in_bounds = an
        .proofs
        .iter()
        .filter(|p| matches!(p, SlotProof::Proven { .. }))
        .count();
    let mut diagnostics: Vec<Diagnostic> = an.diags.into_values().collect();
    for d in &mut diagnostics {
        d.slot += program.base;
    }
    diagnostics.sort_by_key(|d| (d.severity, d.slot, d.rule));
    Verdict {
        name: program.functions[f].name.clone(),
        prog_type: kprog.prog_type,
        insns,
        diagnostics,
        accesses,
        in_bounds,
        steps: an.steps,
        time: start.elapsed(),
    }
}

/// Functions of code that has no symbols: one starting at `entry`, and one
/// at each target of a BPF-to-BPF call reached from it. Each ends where
/// the next begins. Only `entry` is external.
pub fn functions_from_calls(code: &[Insn], entry: usize) -> Vec<Function> {
    use bpf_vm::isa::{CALL_LOCAL, OP_CALL};
    let mut starts = std::collections::BTreeSet::new();
    starts.insert(entry);
    let mut pc = 0;
    while pc < code.len() {
        let insn = code[pc];
        if insn.op == OP_CALL && insn.src == CALL_LOCAL {
            let t = pc as i64 + 1 + insn.imm as i64;
            if t >= 0 && (t as usize) < code.len() {
                starts.insert(t as usize);
            }
        }
        pc += if insn.is_ld_imm64() { 2 } else { 1 };
    }
    let starts: Vec<usize> = starts.into_iter().collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, &s)| Function {
            name: if s == entry {
                "entry".to_string()
            } else {
                format!("fn@{s}")
            },
            start: s,
            end: starts.get(i + 1).copied().unwrap_or(code.len()),
            external: s == entry,
        })
        .collect()
}
