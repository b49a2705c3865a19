//! Kernel mode: calls of kernel helpers, checked against their prototypes
//! (`bpf-kabi`'s table, after the kernel's `bpf_func_proto`s) as the
//! kernel's `check_helper_call` and `check_func_arg` do, and their effects
//! on the state: r0 as the prototype returns it, r1-r5 unreadable, packet
//! pointers gone after helpers that move the packet, references acquired
//! and released, callbacks analysed (`callback.rs`).

use crate::call::kernel_type;
use crate::diag::{Rule, Severity};
use crate::engine::{Analyzer, Mode};
use crate::kernel::{Arg, HelperProto, Privilege, Ret};
use crate::mem::{Access, Target};
use crate::scalar::Scalar;
use crate::state::{Byte, Slot, State};
use crate::value::{Base, Link, Ptr, Value};
use bpf_kabi::helpers;
use bpf_kabi::maps::admits_helper;

/// `BPF_FUNC_tail_call`.
pub(crate) const TAIL_CALL: u32 = 12;

/// What the arguments of one call gave.
#[derive(Default)]
struct Args {
    /// The map passed as a map argument.
    map: Option<u16>,
    /// The function passed as a callback.
    func: Option<usize>,
}

impl Analyzer<'_> {
    /// A call of kernel helper `id` at `pc` (kernel mode).
    pub(crate) fn kernel_helper(&mut self, st: State, pc: usize, id: u32) -> Option<State> {
        let Mode::Kernel { env, prog, .. } = self.mode else {
            return Some(st);
        };
        let Some(helper) = helpers::helper(id) else {
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
        let name = helper.name;
        let Some(proto) = helper.proto else {
            self.report(pc, Rule::NotModelled, Severity::Warning,
                format!("{name}#{id} is not modelled here: its arguments are not checked, and it is assumed to return a number"))
                .emit_plain();
            return Some(self.kernel_unknown_call(st));
        };
        let privileged = env.options.privileged;
        if !proto.allows(prog) || (!privileged && proto.privilege != Privilege::Any) {
            let why = if proto.allows(prog) {
                format!(
                    "{name} needs {} to be loaded, and the loader has no privileges",
                    match proto.privilege {
                        Privilege::CapBpf => "CAP_BPF",
                        _ => "CAP_PERFMON",
                    }
                )
            } else {
                format!("{name} may not be called by {} programs", prog.name())
            };
            self.report(pc, Rule::UnknownHelper, Severity::Error, why)
                .kernel_says(Some(format!("unknown func {name}#{id}")))
                .emit_plain();
            return Some(self.kernel_unknown_call(st));
        }
        if proto.gpl_only && !env.facts.gpl {
            self.report(
                pc,
                Rule::License,
                Severity::Error,
                format!(
                    "{name} is for GPL-compatible programs only, and the object's license is not"
                ),
            )
            .kernel_says(Some(
                "cannot call GPL-restricted function from non-GPL compatible program".to_string(),
            ))
            .hint("declare the license: `char LICENSE[] SEC(\"license\") = \"GPL\";`")
            .emit_plain();
        }
        if id == TAIL_CALL {
            self.tail_call_rules(&st, pc);
        }
        let mut st = st;
        let args = self.check_helper_args(&mut st, pc, id, &proto, name);
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
        if let (Some(cb), Some(f)) = (proto.callback, args.func) {
            st = self.callback(st, pc, cb, f, args.map, name)?;
        }
        let ret = match proto.ret {
            Ret::Integer => Value::UNKNOWN,
            Ret::Void => Value::Uninit,
            Ret::MapValueOrNull => match args.map {
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
            if let Value::Ptr(p) = st.reg(1) {
                self.release(&mut st, p.id);
            }
        }
        let mut st = self.kernel_unknown_call(st);
        st.set(0, ret);
        Some(st)
    }

    /// `bpf_tail_call`: no references may be held across it, and a
    /// subprogram may only make one in an object with BTF function info.
    fn tail_call_rules(&mut self, st: &State, pc: usize) {
        if !st.refs.is_empty() {
            self.report(
                pc,
                Rule::UnreleasedReference,
                Severity::Error,
                "a tail call while memory from bpf_ringbuf_reserve is still held: it would never be submitted".to_string(),
            )
            .kernel_says(Some("tail_call would lead to reference leak".to_string()))
            .emit_plain();
        }
        let f = st.cur().func;
        if self.record {
            self.tail_calls.insert(f);
        }
        self.subprogram_abnormal_exit(st, pc, "tail_call", "a tail call");
    }

    /// `check_abnormal_return`: LD_ABS/LD_IND and tail calls may leave the
    /// program from inside a subprogram only if the object has BTF
    /// function info.
    pub(crate) fn subprogram_abnormal_exit(
        &mut self,
        st: &State,
        pc: usize,
        what: &str,
        words: &str,
    ) {
        let Some(env) = self.kernel() else { return };
        if st.depth() > 0 && !env.facts.func_info {
            let name = self.prog.functions[st.cur().func].name.clone();
            self.report(
                pc,
                Rule::Unsupported,
                Severity::Error,
                format!(
                    "{words} in the subprogram `{name}` needs BTF function info (build with -g)"
                ),
            )
            .kernel_says(Some(format!(
                "{what} is not allowed in subprogs without BTF"
            )))
            .emit_plain();
        }
    }

    /// The reference `id` is released: every copy of the pointer becomes
    /// a number (`release_reference`), still tied to the others under the
    /// reference's id so that a later use can be explained.
    fn release(&mut self, st: &mut State, id: u32) {
        if id == 0 {
            return;
        }
        st.refs.retain(|i| *i != id);
        st.for_each_value(|v| {
            if let Value::Ptr(p) = *v {
                if p.id == id {
                    let link = match p.const_offset() {
                        Some(off) => Link { id, off },
                        None => Link::NONE,
                    };
                    *v = Value::Scalar(Scalar::TOP, link);
                }
            }
        });
    }

    /// Checks each argument against the prototype.
    fn check_helper_args(
        &mut self,
        st: &mut State,
        pc: usize,
        id: u32,
        proto: &HelperProto,
        name: &str,
    ) -> Args {
        let mut out = Args::default();
        let Some(env) = self.kernel() else {
            return out;
        };
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
            let expected =
                |exp: &str| Some(format!("R{r} type={} expected={exp}", kernel_type(&v)));
            match arg {
                Arg::None => {}
                Arg::Anything => {
                    if v.may_be_pointer() && !self.privileged() {
                        self.report(
                            pc,
                            Rule::PointerLeak,
                            Severity::Error,
                            format!("the pointer in r{r} is passed to {name} as a number"),
                        )
                        .kernel_says(Some(format!("R{r} leaks addr into helper function")))
                        .regs(st, &[r])
                        .emit_plain();
                    }
                }
                Arg::MapPtr => match v {
                    Value::Ptr(Ptr {
                        base: Base::Map(m), ..
                    }) => {
                        out.map = Some(m);
                        let t = env.maps[m as usize].def.map_type;
                        let ok = admits_helper(t, id)
                            && (proto.map_types.is_empty() || proto.map_types.contains(&t));
                        if !ok {
                            let mname = env.maps[m as usize].name.clone();
                            self.report(
                                pc,
                                Rule::HelperArgs,
                                Severity::Error,
                                format!(
                                    "{name} cannot be used with map `{mname}` ({})",
                                    bpf_kabi::maps::describe_type(t)
                                ),
                            )
                            .kernel_says(Some(format!(
                                "cannot pass map_type {t} into func {name}#{id}"
                            )))
                            .emit_plain();
                        }
                    }
                    _ => bad(self, st, "a map (`&my_map`)", expected("map_ptr")),
                },
                Arg::Timer | Arg::SpinLock => match v {
                    Value::Ptr(Ptr {
                        base: Base::MapValue(m),
                        nullable: false,
                        ..
                    }) if !env.maps[m as usize].internal => out.map = out.map.or(Some(m)),
                    _ => bad(
                        self,
                        st,
                        "a pointer into a map value (checked against NULL)",
                        expected("map_value"),
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
                            expected("ctx"),
                        );
                    }
                }
                Arg::MapKey | Arg::MapValue | Arg::UninitMapValue => {
                    let Some(m) = out.map else { continue };
                    let def = &env.maps[m as usize].def;
                    let size = if *arg == Arg::MapKey {
                        def.key_size
                    } else {
                        def.value_size
                    } as u64;
                    let write = *arg == Arg::UninitMapValue;
                    self.helper_mem(st, pc, r, size, write, name);
                }
                Arg::Mem | Arg::MemOrNull | Arg::MemRw | Arg::MemRwOrNull | Arg::UninitMem => {
                    let size = st.reg(r + 1).as_scalar().unwrap_or(Scalar::TOP);
                    let nullable = matches!(arg, Arg::MemOrNull | Arg::MemRwOrNull);
                    if nullable && v.as_scalar().and_then(|s| s.as_const()) == Some(0) {
                        if size.umax != 0 {
                            bad(
                                self,
                                st,
                                "memory, or NULL with size 0",
                                Some(format!("R{r} type=scalar expected=fp")),
                            );
                        }
                        continue;
                    }
                    let zero_ok = proto.args.get(i + 1) == Some(&Arg::SizeOrZero);
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
                    let write = *arg == Arg::UninitMem;
                    if matches!(arg, Arg::MemRw | Arg::MemRwOrNull) {
                        // Read (initialised) and written.
                        self.helper_mem(st, pc, r, size.umax.max(1), false, name);
                        self.helper_target(st, pc, r, size.umax.max(1), true);
                    } else {
                        self.helper_mem(st, pc, r, size.umax.max(1), write, name);
                    }
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
                        bad(self, st, "a number (a size)", expected("scalar"));
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
                            expected("alloc_mem"));
                    }
                }
                Arg::Func => match v {
                    Value::Ptr(Ptr {
                        base: Base::Func(f),
                        ..
                    }) => out.func = Some(f as usize),
                    _ => bad(self, st, "a function of the program", expected("func")),
                },
                Arg::StackOrNull => match v {
                    Value::Ptr(Ptr {
                        base: Base::Stack(_),
                        nullable: false,
                        ..
                    }) => {}
                    Value::Scalar(s, _) if s.as_const() == Some(0) => {}
                    _ => bad(self, st, "a stack pointer or NULL", expected("fp")),
                },
                Arg::ConstStr => {
                    let read_only = match v {
                        Value::Ptr(Ptr {
                            base: Base::MapValue(m),
                            nullable: false,
                            ..
                        }) => env.maps[m as usize].read_only,
                        _ => false,
                    };
                    if !read_only {
                        bad(
                            self,
                            st,
                            "a constant string (in .rodata)",
                            Some(format!("R{r} does not point to a readonly map'")),
                        );
                    } else {
                        self.helper_target(st, pc, r, 1, false);
                    }
                }
                Arg::Long => self.helper_mem(st, pc, r, 8, true, name),
            }
        }
        out
    }

    /// The access check of helper memory at `r` (bounds, writability).
    fn helper_target(&mut self, st: &State, pc: usize, r: u8, size: u64, write: bool) -> Target {
        let access = if write {
            Access::HelperWrite
        } else {
            Access::HelperRead
        };
        self.target(st, pc, r, 0, size.max(1), access)
    }

    /// Checks that `r` points to `size` bytes the helper may read (or, with
    /// `write`, fill); filled stack bytes become initialised.
    fn helper_mem(&mut self, st: &mut State, pc: usize, r: u8, size: u64, write: bool, name: &str) {
        let v = st.reg(r);
        let Value::Ptr(p) = v else {
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
            return;
        };
        let t = self.helper_target(st, pc, r, size, write);
        let Target::Stack { frame, lo, hi } = t else {
            // Other memory: bounds only (map values, packet data, reserved memory).
            return;
        };
        if p.nullable {
            return;
        }
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
}
