//! Calls: BPF-to-BPF calls analysed in the caller's context, kernel
//! helpers checked against their prototypes, and (speed mode) calls the
//! analysis cannot see into.

use crate::diag::{Rule, Severity};
use crate::engine::{Analyzer, Mode, Summary};
use crate::state::{Frame, State};
use crate::value::{Base, Ptr, Value};
use bpf_vm::isa::*;

/// Speed mode follows calls in their caller's context this many frames
/// deep; deeper calls (and calls passing no stack pointer) use summaries.
const SPEED_CONTEXT_FRAMES: usize = 3;

/// Analyses that may be in progress at once (each a summary or a calling
/// context): the bound on the analysis' own recursion.
const MAX_NESTED_ANALYSES: usize = 32;

/// True if a call from `st` passes a pointer into a stack frame in r1-r5.
fn passes_stack_pointer(st: &State) -> bool {
    (1..=5).any(|r| {
        matches!(
            st.reg(r),
            Value::Ptr(Ptr {
                base: Base::Stack(_),
                ..
            })
        )
    })
}

impl Analyzer<'_> {
    /// The state after the call at `pc`, or `None` if it never returns.
    pub(crate) fn call(&mut self, st: State, pc: usize, insn: Insn) -> Option<State> {
        if insn.op == OP_CALLX {
            if self.is_kernel() {
                self.report(pc, Rule::Unsupported, Severity::Error,
                    "an indirect call (callx, a call through a function pointer): the kernel does not accept it".to_string())
                    .kernel_says(Some("unknown opcode 8d".to_string()))
                    .emit_plain();
                return Some(self.kernel_unknown_call(st));
            }
            return Some(self.opaque_call(st));
        }
        match insn.src {
            CALL_LOCAL => {
                let target = pc as i64 + 1 + insn.imm as i64;
                let callee = usize::try_from(target)
                    .ok()
                    .and_then(|t| self.function_at(t));
                match callee {
                    Some(f) => self.call_function(st, pc, f),
                    None if self.is_kernel() => {
                        self.report(pc, Rule::BadControlFlow, Severity::Error,
                            format!("a call to instruction {target}, which does not start a function of this program"))
                            .emit_plain();
                        Some(self.kernel_unknown_call(st))
                    }
                    None => Some(self.opaque_call(st)),
                }
            }
            CALL_RUNTIME if self.is_kernel() => {
                self.report(pc, Rule::UnknownHelper, Severity::Error,
                    format!("a call of the C runtime's helper #{} (src=2): the kernel has no such function (for the kernel, src=2 calls a kfunc by BTF id)", insn.imm))
                    .kernel_says(Some("calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF".to_string()))
                    .emit_plain();
                Some(self.kernel_unknown_call(st))
            }
            // A helper of the host: a kernel helper by id (src=0) or a
            // runtime helper by index (src=2). Neither is followed.
            _ if !self.is_kernel() => Some(self.opaque_call(st)),
            _ => self.kernel_helper(st, pc, insn.imm as u32),
        }
    }

    /// A call into code the analysis does not follow (a host helper, code
    /// outside the program, `callx`): it may write any memory it can
    /// address, and change r0-r5.
    fn opaque_call(&mut self, mut st: State) -> State {
        let stack_safe = (1..=5).all(|r| !may_address_stack(&st.reg(r)));
        if !stack_safe {
            st.exposed = true;
        }
        if st.exposed {
            st.havoc_stacks();
            self.havocs += 1;
        }
        st.set(0, Value::UNKNOWN);
        st
    }

    /// After a call kernel mode could not model: r0 unknown, r1-r5 gone.
    pub(crate) fn kernel_unknown_call(&mut self, mut st: State) -> State {
        st.set(0, Value::UNKNOWN);
        for r in 1..=5 {
            st.set(r, Value::Uninit);
        }
        st
    }

    /// A BPF-to-BPF call to function `f`, analysed with the caller's state.
    fn call_function(&mut self, st: State, pc: usize, f: usize) -> Option<State> {
        let kernel = self.is_kernel();
        let caller = st.cur().func;
        if self.record {
            self.calls.entry(caller).or_default().insert(f);
        }
        let recursive = self.active.contains(&f);
        if recursive || st.frames.len() >= self.max_frames_allowed() {
            if kernel {
                let name = self.prog.functions[f].name.clone();
                let (rule, msg, ks) = if recursive {
                    (
                        Rule::Recursion,
                        format!(
                            "`{name}` is called recursively: the kernel does not allow recursion"
                        ),
                        None,
                    )
                } else {
                    (
                        Rule::CallDepth,
                        format!(
                            "the call to `{name}` nests {} frames deep",
                            st.frames.len() + 1
                        ),
                        Some(format!(
                            "the call stack of {} frames is too deep",
                            st.frames.len() + 1
                        )),
                    )
                };
                self.report(pc, rule, Severity::Error, msg)
                    .kernel_says(ks)
                    .emit_plain();
                return Some(self.kernel_unknown_call(st));
            }
            return Some(self.opaque_call(st));
        }
        if !kernel && (st.frames.len() >= SPEED_CONTEXT_FRAMES || !passes_stack_pointer(&st)) {
            if self.active.len() >= MAX_NESTED_ANALYSES
                && !self.summaries.contains_key(&(f, st.exposed))
            {
                // Summaries nest along call chains: bound how deep.
                return Some(self.opaque_call(st));
            }
            return Some(self.summarised_call(st, f));
        }
        let depth = st.frames.len();
        let mut entry = st.clone();
        let mut frame = Frame::new(f, pc);
        let regs = &st.cur().regs;
        for (r, v) in regs.iter().enumerate().take(10) {
            // The VM keeps every register across a call; the kernel passes r1-r5.
            if !kernel || (1..=5).contains(&r) {
                frame.regs[r] = *v;
            }
        }
        frame.regs[10] = Value::Ptr(Ptr::at(Base::Stack(depth as u8), 0));
        entry.frames.push(frame);
        self.active.push(f);
        let exit = self.analyse(f, entry);
        self.active.pop();
        let mut post = exit?;
        let callee = post.frames.pop()?;
        let r0 = callee.regs[0];
        if kernel
            && matches!(r0, Value::Ptr(Ptr { base: Base::Stack(d), .. }) if d as usize >= depth)
        {
            self.report(pc, Rule::InvalidMemAccess, Severity::Error,
                format!("`{}` returns a pointer into its own stack frame, which is gone after it returns", self.prog.functions[f].name))
                .kernel_says(Some("cannot return stack pointer to the caller frame".to_string()))
                .emit_plain();
        }
        {
            let cur = post.cur_mut();
            cur.regs[0] = r0;
            for r in 1..=5 {
                cur.regs[r] = if kernel {
                    Value::Uninit
                } else {
                    callee.regs[r]
                };
            }
        }
        // Pointers into the callee's frame now dangle.
        post.for_each_value(|v| {
            if matches!(v, Value::Ptr(Ptr { base: Base::Stack(d), .. }) if *d as usize >= depth) {
                *v = Value::UNKNOWN;
            }
        });
        Some(post)
    }

    /// Speed mode: a call that passes no stack pointer, applied through the
    /// callee's summary (its analysis with unknown arguments, done once).
    fn summarised_call(&mut self, mut st: State, f: usize) -> State {
        let key = (f, st.exposed);
        let summary = match self.summaries.get(&key) {
            Some(s) => s.clone(),
            None => {
                // Analysed once, as external code would enter it.
                let mut entry = State::entry(f);
                entry.exposed = st.exposed;
                for r in 0..10 {
                    entry.set(r, Value::Any);
                }
                let before = self.havocs;
                // Facts from this analysis hold for every call: record them.
                let record = std::mem::replace(&mut self.record, true);
                self.active.push(f);
                let exit = self.analyse(f, entry);
                self.active.pop();
                self.record = record;
                let havoc = self.havocs > before;
                let s = exit.map(|e| Summary {
                    r0: match e.reg(0) {
                        // Its own frame is gone after it returns.
                        Value::Ptr(Ptr {
                            base: Base::Stack(_),
                            ..
                        }) => Value::Any,
                        v => v,
                    },
                    havoc,
                    exposes: e.exposed,
                });
                self.summaries.insert(key, s.clone());
                s
            }
        };
        let Some(summary) = summary else {
            // It never returns (or could not be analysed): nothing after the call runs.
            return self.opaque_call(st);
        };
        if summary.havoc {
            st.havoc_stacks();
            self.havocs += 1;
        }
        st.exposed |= summary.exposes;
        st.set(0, summary.r0);
        for r in 1..=5 {
            st.set(r, Value::Any);
        }
        st
    }

    fn max_frames_allowed(&self) -> usize {
        match self.mode {
            Mode::Speed(env) => env.max_call_depth,
            Mode::Kernel { env, .. } => env.options.max_call_frames,
        }
    }
}

/// True if `v` may be an address in the stack region (a stack pointer, or
/// a number the analysis cannot place outside it).
pub(crate) fn may_address_stack(v: &Value) -> bool {
    match v {
        Value::Scalar(s, _) => {
            let stack = bpf_vm::RegionKind::Stack.base();
            !(s.umax < stack || s.umin >= stack + (1 << 32))
        }
        Value::Ptr(p) => matches!(p.base, Base::Stack(_)),
        Value::Uninit | Value::Any => true,
    }
}

/// The kernel's short name of a value's type (`reg_type_str`).
pub(crate) fn kernel_type(v: &Value) -> &'static str {
    match v {
        Value::Uninit => "?",
        Value::Scalar(..) | Value::Any => "scalar",
        Value::Ptr(p) => match (p.base, p.nullable) {
            (Base::Stack(_), _) => "fp",
            (Base::Ctx, _) => "ctx",
            (Base::Packet, _) => "pkt",
            (Base::PacketMeta, _) => "pkt_meta",
            (Base::PacketEnd, _) => "pkt_end",
            (Base::MapValue(_), false) => "map_value",
            (Base::MapValue(_), true) => "map_value_or_null",
            (Base::Map(_), _) => "map_ptr",
            (Base::Alloc(_), false) => "alloc_mem",
            (Base::Alloc(_), true) => "alloc_mem_or_null",
            (Base::MapKey(_), _) => "map_key",
            (Base::Func(_), _) => "func",
        },
    }
}
