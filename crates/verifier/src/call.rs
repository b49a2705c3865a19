//! Calls: BPF-to-BPF calls analysed in the caller's context, kernel
//! helpers checked against their prototypes, and (speed mode) calls the
//! analysis cannot see into.

use crate::diag::{Rule, Severity};
use crate::engine::{Analyzer, Mode, Summary};
use crate::kernel::helpers::{Arg, Ret, SPECIAL_MAP_TYPES};
use crate::kernel::HelperProto;
use crate::mem::{Access, Target};
use crate::scalar::Scalar;
use crate::state::{Byte, Frame, Slot, State};
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
            _ => match self.mode {
                Mode::Speed(_) => Some(self.opaque_call(st)),
                Mode::Kernel { .. } => self.kernel_helper(st, pc, insn.imm as u32),
            },
        }
    }

    /// A call into code the analysis does not follow (a host helper, code
    /// outside the program, `callx`): it may write any memory it can
    /// address, and change r0-r5.
    fn opaque_call(&mut self, mut st: State) -> State {
        let stack_safe = (1..=5).all(|r| match st.reg(r) {
            Value::Scalar(s, _) => {
                let stack = bpf_vm::RegionKind::Stack.base();
                s.umax < stack || s.umin >= stack + (1 << 32)
            }
            _ => false,
        });
        if !stack_safe {
            st.havoc_stacks();
            self.havocs += 1;
        }
        st.set(0, Value::UNKNOWN);
        st
    }

    /// After a call kernel mode could not model: r0 unknown, r1-r5 gone.
    fn kernel_unknown_call(&mut self, mut st: State) -> State {
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
            if self.active.len() >= MAX_NESTED_ANALYSES && !self.summaries.contains_key(&f) {
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
        let summary = match self.summaries.get(&f) {
            Some(s) => s.clone(),
            None => {
                // Analysed once, as external code would enter it.
                let mut entry = State::entry(f);
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
                });
                self.summaries.insert(f, s.clone());
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

    // ---- kernel helpers ----

    fn kernel_helper(&mut self, st: State, pc: usize, id: u32) -> Option<State> {
        let Mode::Kernel { env, prog, .. } = self.mode else {
            return Some(st);
        };
        let name: Option<String> = env.tables.helper_name(id).map(|n| format!("bpf_{n}"));
        let Some(name) = name else {
            self.report(
                pc,
                Rule::UnknownHelper,
                Severity::Error,
                format!("helper #{id} does not exist"),
            )
            .kernel_says(Some(format!("invalid func unknown#{id}")))
            .emit_plain();
            return Some(self.kernel_unknown_call(st));
        };
        let Some(proto) = env.tables.helper(id).copied() else {
            self.report(pc, Rule::NotModelled, Severity::Warning,
                format!("{name}#{id} is not modelled here: its arguments are not checked, and it is assumed to return a number"))
                .emit_plain();
            return Some(self.kernel_unknown_call(st));
        };
        if !proto.avail.allows(prog) {
            self.report(
                pc,
                Rule::UnknownHelper,
                Severity::Error,
                format!("{name} may not be called by {} programs", prog.name()),
            )
            .kernel_says(Some(format!("unknown func {name}#{id}")))
            .emit_plain();
            return Some(self.kernel_unknown_call(st));
        }
        let mut st = st;
        let map = self.check_helper_args(&mut st, pc, &proto, &name);
        // Effects.
        if proto.changes_packet {
            st.for_each_value(|v| {
                if matches!(
                    v,
                    Value::Ptr(Ptr {
                        base: Base::Packet | Base::PacketEnd | Base::PacketMeta,
                        ..
                    })
                ) {
                    *v = Value::UNKNOWN;
                }
            });
            st.packet.clear();
        }
        let r1 = st.reg(1);
        let ret = match proto.ret {
            Ret::Integer | Ret::Void => Value::UNKNOWN,
            Ret::MapValueOrNull => match map {
                Some(m) => {
                    let id = self.fresh_id(&mut st, pc);
                    Value::Ptr(Ptr {
                        id,
                        nullable: true,
                        ..Ptr::at(Base::MapValue(m), 0)
                    })
                }
                None => Value::UNKNOWN,
            },
            Ret::AllocOrNull => match st.reg(2).as_scalar().and_then(|s| s.as_const()) {
                Some(n) if n <= u32::MAX as u64 => {
                    let id = self.fresh_id(&mut st, pc);
                    st.refs.push(id);
                    st.refs.sort();
                    Value::Ptr(Ptr {
                        id,
                        nullable: true,
                        ..Ptr::at(Base::Alloc(n as u32), 0)
                    })
                }
                _ => Value::UNKNOWN,
            },
        };
        if proto.args[0] == Arg::ReleaseAlloc {
            if let Value::Ptr(p) = r1 {
                st.refs.retain(|i| *i != p.id);
                let id = p.id;
                st.for_each_value(|v| {
                    if id != 0 && v.id() == id {
                        *v = Value::UNKNOWN;
                    }
                });
            }
        }
        let mut st = self.kernel_unknown_call(st);
        st.set(0, ret);
        Some(st)
    }

    /// Checks each argument against the prototype; returns the map index
    /// passed as a map argument.
    fn check_helper_args(
        &mut self,
        st: &mut State,
        pc: usize,
        proto: &HelperProto,
        name: &str,
    ) -> Option<u16> {
        let env = self.kernel()?;
        let mut map: Option<u16> = None;
        for (i, arg) in proto.args.iter().enumerate() {
            let r = i as u8 + 1;
            if *arg == Arg::None {
                continue;
            }
            let v = self.read(st, pc, r);
            let bad = |an: &mut Self, st: &State, what: &str, kernel: Option<String>| {
                an.report(
                    pc,
                    Rule::HelperArgs,
                    Severity::Error,
                    format!("argument {r} of {name} (r{r}) must be {what}"),
                )
                .kernel_says(kernel)
                .regs(st, &[r])
                .emit_plain();
            };
            match arg {
                Arg::None => {}
                Arg::Anything => {}
                Arg::MapPtr => match v {
                    Value::Ptr(Ptr {
                        base: Base::Map(m), ..
                    }) => {
                        map = Some(m);
                        let t = env.maps[m as usize].def.map_type;
                        let ok = if proto.map_types.is_empty() {
                            !SPECIAL_MAP_TYPES.contains(&t)
                        } else {
                            proto.map_types.contains(&t)
                        };
                        if !ok {
                            let mname = env.maps[m as usize].name.clone();
                            self.report(
                                pc,
                                Rule::HelperArgs,
                                Severity::Error,
                                format!("{name} cannot be used with map `{mname}` (map type {t})"),
                            )
                            .kernel_says(Some(format!(
                                "cannot pass map_type {t} into func {name}#{}",
                                proto.id
                            )))
                            .emit_plain();
                        }
                    }
                    _ => bad(
                        self,
                        st,
                        "a map (`&my_map`)",
                        Some(format!("R{r} type={} expected=map_ptr", kernel_type(&v))),
                    ),
                },
                Arg::Ctx => {
                    if !matches!(
                        v,
                        Value::Ptr(Ptr {
                            base: Base::Ctx,
                            fixed: 0,
                            ..
                        })
                    ) {
                        bad(
                            self,
                            st,
                            "the program's context pointer, unmodified",
                            Some(format!("R{r} type={} expected=ctx", kernel_type(&v))),
                        );
                    }
                }
                Arg::MapKey | Arg::MapValue | Arg::UninitMapValue => {
                    let Some(m) = map else { continue };
                    let def = &env.maps[m as usize].def;
                    let size = if *arg == Arg::MapKey {
                        def.key_size
                    } else {
                        def.value_size
                    } as u64;
                    let write = *arg == Arg::UninitMapValue;
                    self.helper_mem(st, pc, r, size, write, name);
                }
                Arg::Mem | Arg::UninitMem => {
                    let size_arg = proto.args.get(i + 1).copied();
                    let size = st.reg(r + 1).as_scalar().unwrap_or(Scalar::TOP);
                    let zero_ok = size_arg == Some(Arg::SizeOrZero);
                    if size.smin < 0 || size.umax >= 1 << 29 {
                        self.report(
                            pc,
                            Rule::HelperArgs,
                            Severity::Error,
                            format!(
                                "the size argument of {name} (r{}) is not bounded ({size})",
                                r + 1
                            ),
                        )
                        .kernel_says(Some(format!(
                            "R{} unbounded memory access, use 'var &= const' or 'if (var < const)'",
                            r + 1
                        )))
                        .regs(st, &[r + 1])
                        .emit_plain();
                        continue;
                    }
                    if size.umax == 0 && zero_ok {
                        continue;
                    }
                    self.helper_mem(st, pc, r, size.umax.max(1), *arg == Arg::UninitMem, name);
                }
                Arg::Size | Arg::SizeOrZero => {
                    if let Value::Scalar(s, _) = v {
                        if *arg == Arg::Size && s.umax == 0 {
                            bad(
                                self,
                                st,
                                "a size greater than 0",
                                Some(format!("R{r} invalid zero-sized read")),
                            );
                        }
                    } else {
                        bad(
                            self,
                            st,
                            "a number (a size)",
                            Some(format!("R{r} type={} expected=scalar", kernel_type(&v))),
                        );
                    }
                }
                Arg::AllocSize => {
                    if v.as_scalar().and_then(|s| s.as_const()).is_none() {
                        bad(
                            self,
                            st,
                            "a constant size",
                            Some(format!("R{r} is not a known constant")),
                        );
                    }
                }
                Arg::ReleaseAlloc => {
                    let ok = matches!(
                        v,
                        Value::Ptr(Ptr {
                            base: Base::Alloc(_),
                            nullable: false,
                            fixed: 0,
                            ..
                        })
                    ) && v.as_ptr().is_some_and(|p| st.refs.contains(&p.id));
                    if !ok {
                        bad(self, st, "memory from bpf_ringbuf_reserve, checked against NULL and not yet submitted or discarded",
                            Some(format!("R{r} type={} expected=alloc_mem", kernel_type(&v))));
                    }
                }
            }
        }
        map
    }

    /// Checks that `r` points to `size` bytes the helper may read (or, with
    /// `write`, fill); filled stack bytes become initialised.
    fn helper_mem(&mut self, st: &mut State, pc: usize, r: u8, size: u64, write: bool, name: &str) {
        let v = st.reg(r);
        if let Value::Ptr(p) = v {
            if p.base == Base::Stack(p.base_frame()) && !p.nullable {
                let t = self.target(
                    st,
                    pc,
                    r,
                    0,
                    size.max(1),
                    if write { Access::Write } else { Access::Read },
                );
                if let Target::Stack { frame, lo, hi } = t {
                    let fr = &mut st.frames[frame];
                    let mut uninit = None;
                    for k in lo..hi {
                        let i = ((-k - 1) / 8) as usize;
                        let j = (k + 8 * (i as i64 + 1)) as usize;
                        let slot = fr.slot_mut(i);
                        let mut bytes = slot.bytes();
                        if write {
                            bytes[j] = Byte::Misc;
                            *slot = Slot::Bytes(bytes);
                        } else if bytes[j] == Byte::Uninit && uninit.is_none() {
                            uninit = Some(k);
                        }
                    }
                    if let Some(k) = uninit {
                        let sev = self.unprivileged_error();
                        self.report(pc, Rule::UninitStack, sev,
                            format!("{name} reads {size} bytes at r10{lo} through r{r}, and the byte at r10{k} is not written on every path"))
                            .kernel_says(Some(format!("invalid indirect read from stack R{r} off {lo}+{} size {size}", k - lo)))
                            .hint("initialise the whole variable (e.g. `= {}`), padding included, before passing its address")
                            .emit_plain();
                    }
                }
                return;
            }
            // Other memory: bounds only (the kernel also accepts map values and packet data).
            self.target(
                st,
                pc,
                r,
                0,
                size.max(1),
                if write { Access::Write } else { Access::Read },
            );
            return;
        }
        self.report(
            pc,
            Rule::HelperArgs,
            Severity::Error,
            format!("argument r{r} of {name} must point to {size} bytes of memory"),
        )
        .kernel_says(Some(format!(
            "R{r} type={} expected=fp, pkt, pkt_meta, map_key, map_value, mem",
            kernel_type(&v)
        )))
        .regs(st, &[r])
        .emit_plain();
    }
}

impl Ptr {
    /// The frame of a stack pointer (0 for other bases).
    fn base_frame(&self) -> u8 {
        match self.base {
            Base::Stack(f) => f,
            _ => 0,
        }
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
        },
    }
}
