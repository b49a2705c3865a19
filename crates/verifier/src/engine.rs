//! The abstract interpreter: a worklist fixpoint over each function's
//! basic blocks, joins at merge points, widening at loop heads, and calls
//! analysed in the caller's context (the callee's exit states joined are
//! its summary for that context). After the fixpoint, one more pass over
//! every block with its final entry state records what is proven and what
//! breaks a kernel rule: facts are only ever taken from states that hold
//! for every execution.

use crate::cfg::{Cfg, CfgError};
use crate::diag::{Diagnostic, Rule, Severity};
use crate::kernel::{CtxLayout, ProgType};
use crate::state::State;
use crate::value::Value;
use crate::{KernelEnv, Program, SpeedEnv};
use bpf_vm::isa::*;
use bpf_vm::RegionKind;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// Visits of a loop head before its incoming states are widened.
const WIDEN_DELAY: u32 = 2;

/// Entry states a block keeps apart in kernel mode before joining them
/// (loop heads included: the first iterations of a loop are walked apart).
const KERNEL_PATHS: usize = 64;

/// Adds `ns` to a block's entry states (at most `limit`, joined or widened
/// into the last when full); returns the index of the state that changed.
fn add_state(list: &mut Vec<State>, ns: State, limit: usize, widen: bool) -> Option<usize> {
    if list.iter().any(|d| *d == ns || d.join(&ns) == *d) {
        return None;
    }
    if list.len() < limit {
        list.push(ns);
        return Some(list.len() - 1);
    }
    let last = list.len() - 1;
    let merged = if widen {
        list[last].widen(&ns)
    } else {
        list[last].join(&ns)
    };
    if merged == list[last] {
        return None;
    }
    list[last] = merged;
    Some(last)
}

/// What the analysis is for.
pub(crate) enum Mode<'a> {
    /// User-space code on our VM: prove accesses in bounds.
    Speed(&'a SpeedEnv),
    /// A kernel program: find what the kernel would refuse.
    Kernel {
        env: &'a KernelEnv<'a>,
        prog: ProgType,
        ctx: CtxLayout,
    },
}

/// What one memory access instruction is known to touch, over all the
/// contexts in which the analysis reached it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotProof {
    Unseen,
    /// In bounds of `region` every time; for accesses relative to the
    /// running function's own frame, the byte range from its r10.
    Proven {
        region: RegionKind,
        frame: Option<(i64, i64)>,
    },
    Unproven,
}

impl SlotProof {
    fn merge(self, o: SlotProof) -> SlotProof {
        match (self, o) {
            (SlotProof::Unseen, x) | (x, SlotProof::Unseen) => x,
            (
                SlotProof::Proven {
                    region: a,
                    frame: fa,
                },
                SlotProof::Proven {
                    region: b,
                    frame: fb,
                },
            ) if a == b => SlotProof::Proven {
                region: a,
                frame: match (fa, fb) {
                    (Some((l1, h1)), Some((l2, h2))) => Some((l1.min(l2), h1.max(h2))),
                    _ => None,
                },
            },
            _ => SlotProof::Unproven,
        }
    }
}

/// A function's effect on its caller when analysed with unknown arguments.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    /// r0 at its exits (joined).
    pub r0: Value,
    /// It (or something it calls) may write memory it cannot see: the
    /// caller's stack slots are no longer known after the call.
    pub havoc: bool,
    /// It handed a stack address to code the analysis does not follow.
    pub exposes: bool,
}

/// Where control goes after one block.
pub(crate) struct BlockOut {
    pub succs: Vec<(usize, State)>,
    pub exit: Option<State>,
}

pub(crate) struct Analyzer<'a> {
    pub prog: &'a Program<'a>,
    pub mode: Mode<'a>,
    cfgs: HashMap<usize, Result<Rc<Cfg>, CfgError>>,
    /// Per slot of the code.
    pub proofs: Vec<SlotProof>,
    pub diags: BTreeMap<(usize, Rule), Diagnostic>,
    /// Whether this pass records proofs and findings.
    pub record: bool,
    pub steps: u64,
    pub max_steps: u64,
    /// The step limit was hit: nothing recorded may be trusted.
    pub gave_up: bool,
    /// A fixpoint check failed: nothing recorded may be trusted.
    pub unsound: bool,
    /// Functions being analysed, outermost first (recursion check).
    pub active: Vec<usize>,
    /// Analyses done: (function, entry, recording) -> (exit, whether it
    /// wrote memory the analysis could not follow).
    memo: HashMap<(usize, State, bool), (Option<State>, bool)>,
    /// Stores and calls that may have written any stack slot (speed mode):
    /// a call whose callee did one must forget its caller's stack too.
    pub havocs: u64,
    /// Speed mode: what each function does when analysed with unknown
    /// arguments (used for calls that pass no stack pointer).
    /// Keyed by function and whether a stack address was exposed before.
    pub summaries: HashMap<(usize, bool), Option<Summary>>,
    /// Deepest stack byte used by each function (kernel stack limit).
    pub stack_use: HashMap<usize, u64>,
    /// Calls seen: caller function -> callee functions.
    pub calls: BTreeMap<usize, BTreeSet<usize>>,
    /// States flowing along each back edge `(function, from block, to block)`.
    pub back_edge_states: HashMap<(usize, usize, usize), State>,
    /// Functions whose graph the analysis used.
    pub analysed: BTreeSet<usize>,
    /// Functions that make tail calls (kernel mode).
    pub tail_calls: BTreeSet<usize>,
}

impl<'a> Analyzer<'a> {
    pub fn new(prog: &'a Program<'a>, mode: Mode<'a>, max_steps: u64) -> Analyzer<'a> {
        Analyzer {
            prog,
            mode,
            cfgs: HashMap::new(),
            proofs: vec![SlotProof::Unseen; prog.code.len()],
            diags: BTreeMap::new(),
            record: false,
            steps: 0,
            max_steps,
            gave_up: false,
            unsound: false,
            active: Vec::new(),
            memo: HashMap::new(),
            havocs: 0,
            summaries: HashMap::new(),
            stack_use: HashMap::new(),
            calls: BTreeMap::new(),
            back_edge_states: HashMap::new(),
            analysed: BTreeSet::new(),
            tail_calls: BTreeSet::new(),
        }
    }

    pub fn kernel(&self) -> Option<&'a KernelEnv<'a>> {
        match self.mode {
            Mode::Kernel { env, .. } => Some(env),
            Mode::Speed(_) => None,
        }
    }

    pub fn is_kernel(&self) -> bool {
        matches!(self.mode, Mode::Kernel { .. })
    }

    pub fn privileged(&self) -> bool {
        self.kernel().is_none_or(|k| k.options.privileged)
    }

    /// Stack bytes of one frame.
    pub fn frame_size(&self) -> i64 {
        match self.mode {
            Mode::Speed(env) => env.frame_size as i64,
            Mode::Kernel { env, .. } => env.options.stack_limit as i64,
        }
    }

    /// The graph of function `f` (built once).
    pub fn cfg(&mut self, f: usize) -> Result<Rc<Cfg>, CfgError> {
        let prog = self.prog;
        self.cfgs
            .entry(f)
            .or_insert_with(|| {
                let func = &prog.functions[f];
                Cfg::build(prog.code, func.start, func.end).map(Rc::new)
            })
            .clone()
    }

    /// The function starting at slot `pc` (relative), if one does.
    pub fn function_at(&self, pc: usize) -> Option<usize> {
        self.prog.functions.iter().position(|f| f.start == pc)
    }

    // ---- findings ----

    /// Records a finding at `pc` (kernel mode, recording pass only).
    pub fn report(
        &mut self,
        pc: usize,
        rule: Rule,
        severity: Severity,
        message: String,
    ) -> Finding<'_, 'a> {
        Finding {
            an: self,
            diag: Diagnostic {
                rule,
                severity,
                slot: pc,
                message,
                kernel: None,
                state: Vec::new(),
                hint: None,
            },
        }
    }

    /// A finding that is an error for unprivileged loaders and a warning
    /// for privileged ones.
    pub fn unprivileged_error(&self) -> Severity {
        if self.privileged() {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Records the proof status of the access at `pc`.
    pub fn record_access(&mut self, pc: usize, proof: SlotProof) {
        if self.record {
            if let Some(p) = self.proofs.get_mut(pc) {
                *p = p.merge(proof);
            }
        }
    }

    // ---- the fixpoint ----

    /// Analyses function `f` from `entry` and returns the join of its exit
    /// states (`None`: it never returns, or the analysis stopped).
    pub fn analyse(&mut self, f: usize, entry: State) -> Option<State> {
        if self.gave_up {
            return None;
        }
        let cfg = match self.cfg(f) {
            Ok(c) => c,
            Err(e) => {
                self.bad_cfg(f, e);
                return None;
            }
        };
        self.analysed.insert(f);
        let key = (f, entry, self.record);
        if let Some((r, havoc)) = self.memo.get(&key) {
            self.havocs += *havoc as u64;
            return r.clone();
        }
        let havocs_before = self.havocs;
        let (f, entry, record) = key;
        let n = cfg.blocks.len();
        let paths = self.paths();
        // Each block's entry states: up to `paths` kept apart (one at loop heads).
        let mut input: Vec<Vec<State>> = vec![Vec::new(); n];
        input[0].push(entry.clone());
        let mut visits = vec![0u32; n];
        let mut work = BTreeSet::new();
        work.insert((cfg.order[0], 0usize, 0usize));
        self.record = false;
        while let Some((_, b, i)) = work.pop_first() {
            if self.gave_up {
                break;
            }
            let Some(st) = input[b].get(i).cloned() else {
                continue;
            };
            let out = self.run_block(f, &cfg, b, st);
            for (s, ns) in out.succs {
                // Kernel mode walks the first iterations of a loop apart
                // too, as the kernel does (a counted loop is unrolled).
                let limit = if cfg.loop_heads[s] && paths == 1 {
                    1
                } else {
                    paths
                };
                let widen = cfg.loop_heads[s] && visits[s] >= WIDEN_DELAY;
                if let Some(j) = add_state(&mut input[s], ns, limit, widen) {
                    visits[s] += 1;
                    work.insert((cfg.order[s], s, j));
                }
            }
        }
        if !self.gave_up && paths == 1 && cfg.loop_heads.iter().any(|h| *h) {
            let single: Vec<Option<State>> = input.iter().map(|v| v.first().cloned()).collect();
            input = self
                .narrow(f, &cfg, &entry, single)
                .into_iter()
                .map(|s| s.into_iter().collect())
                .collect();
        }
        self.record = record;
        if self.gave_up {
            return None;
        }
        // The final pass: every block once per entry state, from the fixpoint.
        let mut exit: Option<State> = None;
        for &b in &cfg.rpo {
            for st in input[b].clone() {
                let out = self.run_block(f, &cfg, b, st);
                for (s, ns) in out.succs {
                    // The fixpoint holds: what flows along each edge is
                    // already described by one of the successor's states.
                    if !input[s].iter().any(|i| i.join(&ns) == *i) {
                        self.unsound = true;
                    }
                    if record && cfg.back_edges.contains(&(b, s)) {
                        let e = self.back_edge_states.entry((f, b, s));
                        match e {
                            std::collections::hash_map::Entry::Occupied(mut o) => {
                                if o.get().frames.len() == ns.frames.len() {
                                    let j = o.get().join(&ns);
                                    o.insert(j);
                                }
                            }
                            std::collections::hash_map::Entry::Vacant(v) => {
                                v.insert(ns);
                            }
                        }
                    }
                }
                if let Some(x) = out.exit {
                    exit = Some(match exit {
                        Some(e) => e.join(&x),
                        None => x,
                    });
                }
            }
        }
        let havoc = self.havocs > havocs_before;
        self.memo.insert((f, entry, record), (exit.clone(), havoc));
        exit
    }

    /// Entry states a block keeps apart before joining them: kernel mode
    /// follows paths as the kernel does (which never joins), up to a bound.
    fn paths(&self) -> usize {
        if self.is_kernel() {
            KERNEL_PATHS
        } else {
            1
        }
    }

    /// Narrowing: widening may overshoot a loop's bound (a counter that
    /// stops at 400 widened to 0xffff); recomputing every entry state from
    /// its predecessors a few times pulls the bounds back in. The result is
    /// kept only if it is still a fixpoint (every edge's state described by
    /// its target's entry state).
    fn narrow(
        &mut self,
        f: usize,
        cfg: &Cfg,
        entry: &State,
        widened: Vec<Option<State>>,
    ) -> Vec<Option<State>> {
        const ROUNDS: usize = 2;
        let n = cfg.blocks.len();
        let mut input = widened.clone();
        for _ in 0..ROUNDS {
            let mut next: Vec<Option<State>> = vec![None; n];
            next[0] = Some(entry.clone());
            for &b in &cfg.rpo {
                let Some(st) = input[b].clone() else { continue };
                for (s, ns) in self.run_block(f, cfg, b, st).succs {
                    next[s] = Some(match next[s].take() {
                        Some(x) => x.join(&ns),
                        None => ns,
                    });
                }
                if self.gave_up {
                    return widened;
                }
            }
            if next == input {
                break;
            }
            input = next;
        }
        // Still a fixpoint?
        for &b in &cfg.rpo {
            let Some(st) = input[b].clone() else { continue };
            for (s, ns) in self.run_block(f, cfg, b, st).succs {
                match &input[s] {
                    Some(i) if i.join(&ns) == *i => {}
                    _ => return widened,
                }
            }
        }
        input
    }

    fn bad_cfg(&mut self, f: usize, e: CfgError) {
        let name = self.prog.functions[f].name.clone();
        let start = self.prog.functions[f].start;
        let (pc, msg, kernel) = match e {
            CfgError::JumpOutside { from, to } => (
                from,
                format!("a jump in `{name}` leaves the function (to instruction {to})"),
                Some(format!("jump out of range from insn {from} to {to}")),
            ),
            CfgError::FallsOffEnd { at } => (
                at,
                format!("`{name}` can run past its last instruction"),
                Some("last insn is not an exit or jmp".to_string()),
            ),
            CfgError::Empty => (start, format!("`{name}` has no instructions"), None),
        };
        if self.is_kernel() {
            let rec = self.record;
            self.record = true;
            self.report(pc, Rule::BadControlFlow, Severity::Error, msg)
                .kernel_says(kernel)
                .emit_plain();
            self.record = rec;
        } else {
            // Nothing about this function can be proven.
            self.gave_up = true;
        }
    }

    /// Runs one block from `st`: the successors with their states, and the
    /// state at `exit` if the block ends the function.
    fn run_block(&mut self, f: usize, cfg: &Cfg, b: usize, mut st: State) -> BlockOut {
        let block = &cfg.blocks[b];
        let mut out = BlockOut {
            succs: Vec::new(),
            exit: None,
        };
        let code = self.prog.code;
        let mut pc = block.start;
        while pc < block.end {
            self.steps += 1;
            if self.steps > self.max_steps {
                self.gave_up = true;
                return out;
            }
            let insn = code[pc];
            let next = pc + if insn.is_ld_imm64() { 2 } else { 1 };
            match insn.class() {
                CLASS_JMP | CLASS_JMP32 => {
                    let op = insn.op & 0xf0;
                    if insn.op == OP_EXIT {
                        self.on_exit(&st, pc);
                        out.exit = Some(st);
                        return out;
                    } else if op == JMP_CALL && insn.class() == CLASS_JMP {
                        match self.call(st, pc, insn) {
                            Some(s) => st = s,
                            None => return out,
                        }
                    } else if insn.op == OP_JA || insn.op == OP_GOTOL {
                        let rel = if insn.op == OP_JA {
                            insn.off as i64
                        } else {
                            insn.imm as i64
                        };
                        let target = (pc as i64 + 1 + rel) as usize;
                        if let Some(t) = cfg.block_at(target) {
                            out.succs.push((t, st));
                        }
                        return out;
                    } else {
                        let target = (pc as i64 + 1 + insn.off as i64) as usize;
                        let (taken, fall) = self.branch(&st, pc, insn);
                        if let (Some(s), Some(t)) = (fall, cfg.block_at(next)) {
                            out.succs.push((t, s));
                        }
                        if let (Some(s), Some(t)) = (taken, cfg.block_at(target)) {
                            out.succs.push((t, s));
                        }
                        return out;
                    }
                }
                CLASS_ALU | CLASS_ALU64 => self.alu(&mut st, pc, insn),
                CLASS_LD if insn.is_ld_imm64() => self.ld_imm64(&mut st, pc),
                CLASS_LD => self.legacy_packet_load(&mut st, pc, insn),
                CLASS_LDX => self.load(&mut st, pc, insn),
                CLASS_ST | CLASS_STX => self.store(&mut st, pc, insn),
                _ => {}
            }
            pc = next;
        }
        if let Some(t) = cfg.block_at(pc) {
            out.succs.push((t, st));
        }
        let _ = f;
        out
    }

    /// Checks at `exit` of the program (depth 0) in kernel mode.
    fn on_exit(&mut self, st: &State, pc: usize) {
        if !self.is_kernel() || !self.record || st.depth() > 0 {
            return;
        }
        let r0 = st.reg(0);
        if r0 == Value::Uninit {
            self.report(
                pc,
                Rule::UninitRegister,
                Severity::Error,
                "the program exits without setting its return value r0".to_string(),
            )
            .kernel_says(Some("R0 !read_ok".to_string()))
            .regs(st, &[0])
            .emit_plain();
        } else if r0.may_be_pointer() {
            let sev = self.unprivileged_error();
            self.report(
                pc,
                Rule::PointerLeak,
                sev,
                "the program returns a pointer: its value would leak a kernel address".to_string(),
            )
            .kernel_says(Some("R0 leaks addr as return value".to_string()))
            .regs(st, &[0])
            .emit_plain();
        }
        if let Some(id) = st.refs.first() {
            let at = id.saturating_sub(1) as usize;
            self.report(
                pc,
                Rule::UnreleasedReference,
                Severity::Error,
                format!(
                    "memory reserved at instruction {} may still be held at exit: submit or discard it on every path",
                    self.prog.base + at
                ),
            )
            .kernel_says(Some(format!("Unreleased reference id=<n> alloc_insn={at}")))
            .emit_plain();
        }
    }

    /// An id for a value made at `pc`, unused in `st` from now on.
    pub fn fresh_id(&self, st: &mut State, pc: usize) -> u32 {
        let id = pc as u32 + 1;
        st.retire_id(id);
        id
    }

    /// The value of register `r` as an operand: reading it before it is
    /// written is a kernel error; in speed mode it is simply unknown.
    pub fn read(&mut self, st: &State, pc: usize, r: u8) -> Value {
        let v = st.reg(r);
        if v != Value::Uninit {
            return v;
        }
        if self.is_kernel() {
            if self.record {
                self.report(
                    pc,
                    Rule::UninitRegister,
                    Severity::Error,
                    format!("r{r} is read before anything is written to it"),
                )
                .kernel_says(Some(format!("R{r} !read_ok")))
                .emit_plain();
            }
            Value::UNKNOWN
        } else {
            Value::Any
        }
    }

    /// Stack bytes used by the function running in frame `frame` of `st`.
    pub fn note_stack_use(&mut self, st: &State, frame: usize, lo: i64) {
        if let Some(fr) = st.frames.get(frame) {
            let used = (-lo).max(0) as u64;
            let e = self.stack_use.entry(fr.func).or_insert(0);
            *e = (*e).max(used);
        }
    }
}

/// A finding being built: add the kernel's message, the state and a hint,
/// then [`Finding::emit`] it.
pub(crate) struct Finding<'b, 'a> {
    an: &'b mut Analyzer<'a>,
    diag: Diagnostic,
}

impl Finding<'_, '_> {
    pub fn kernel_says(mut self, msg: Option<String>) -> Self {
        self.diag.kernel = msg;
        self
    }

    pub fn hint(mut self, h: &str) -> Self {
        self.diag.hint = Some(h.to_string());
        self
    }

    pub fn hint_if(self, cond: bool, h: &str) -> Self {
        if cond {
            self.hint(h)
        } else {
            self
        }
    }

    /// Adds the description of registers `regs` in `st`.
    pub fn regs(mut self, st: &State, regs: &[u8]) -> Self {
        for r in regs {
            let line = format!(
                "r{r} = {}",
                crate::describe::value(self.an, st, &st.reg(*r))
            );
            if !self.diag.state.contains(&line) {
                self.diag.state.push(line);
            }
        }
        self
    }

    pub fn line(mut self, text: String) -> Self {
        self.diag.state.push(text);
        self
    }

    /// Records the finding (the first per instruction and rule wins).
    pub fn emit_plain(self) {
        let an = self.an;
        if !an.record || !an.is_kernel() {
            return;
        }
        an.diags
            .entry((self.diag.slot, self.diag.rule))
            .or_insert(self.diag);
    }
}
