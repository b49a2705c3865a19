//! Loads, stores and atomics: which memory an access touches (and whether
//! that is allowed or proven in bounds), and the stack model: spilled
//! registers and byte-level initialisation.

use crate::diag::{Rule, Severity};
use crate::engine::{Analyzer, Mode, SlotProof};
use crate::kernel::CtxField;
use crate::scalar::Scalar;
use crate::state::State;
use crate::value::{Base, Ptr, Value};
use bpf_vm::isa::*;
use bpf_vm::RegionKind;

/// What an access touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Bytes `lo..hi` from the r10 of frame `frame`.
    Stack {
        frame: usize,
        lo: i64,
        hi: i64,
    },
    Ctx(CtxField),
    Packet,
    MapValue(u16),
    Alloc,
    /// Speed mode: inside memory that is not the stack.
    Region,
    /// Not known (or refused).
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    /// A store of an immediate (`BPF_ST`).
    WriteImm,
    Atomic,
    /// A helper reads memory an argument points to.
    HelperRead,
    /// A helper writes memory an argument points to.
    HelperWrite,
}

impl Access {
    fn writes(self) -> bool {
        !matches!(self, Access::Read | Access::HelperRead)
    }

    /// An access by a load, store or atomic instruction (not a helper).
    fn is_insn(self) -> bool {
        !matches!(self, Access::HelperRead | Access::HelperWrite)
    }

    fn verb(self) -> &'static str {
        match self {
            Access::Read | Access::HelperRead => "read",
            Access::Write | Access::WriteImm | Access::HelperWrite => "write",
            Access::Atomic => "atomic update",
        }
    }
}

/// Bytes of a load or store opcode.
pub(crate) fn access_size(op: u8) -> u64 {
    match op & 0x18 {
        SIZE_B => 1,
        SIZE_H => 2,
        SIZE_W => 4,
        _ => 8,
    }
}

/// Slot index and byte within the slot of the stack byte at `off` (< 0).
pub(crate) fn slot_of(off: i64) -> (usize, usize) {
    let i = ((-off - 1) / 8) as usize;
    let j = (off + 8 * (i as i64 + 1)) as usize;
    (i, j)
}

pub(crate) fn fmt_off(off: i64) -> String {
    if off < 0 {
        format!("r10{off}")
    } else {
        format!("r10+{off}")
    }
}

impl Analyzer<'_> {
    /// Classifies an access of `size` bytes at `reg + off`, reports what
    /// the kernel would refuse, and records the speed-mode proof.
    pub(crate) fn target(
        &mut self,
        st: &State,
        pc: usize,
        reg: u8,
        off: i16,
        size: u64,
        access: Access,
    ) -> Target {
        let v = self.read(st, pc, reg);
        let off = off as i64;
        let t = match v {
            Value::Ptr(p) if !p.nullable => self.pointer_target(st, pc, reg, p, off, size, access),
            Value::Ptr(p) => {
                let what = match p.base {
                    Base::Alloc(_) => "alloc_mem_or_null",
                    _ => "map_value_or_null",
                };
                self.report(pc, Rule::NullDeref, Severity::Error,
                    format!("r{reg} may be NULL here: the {} is not checked against NULL on every path to this {}", describe_base(self, p.base), access.verb()))
                    .kernel_says(Some(format!("R{reg} invalid mem access '{what}'")))
                    .regs(st, &[reg])
                    .hint("check the pointer first: `if (!p) return ...;`")
                    .emit_plain();
                Target::Other
            }
            Value::Scalar(s, _) => match self.mode {
                Mode::Speed(env) => {
                    let lo = s.umin as i128 + off as i128;
                    let hi = s.umax as i128 + off as i128 + size as i128;
                    let inside = env.extents.iter().find(|e| {
                        lo >= e.start as i128
                            && hi <= e.end as i128
                            && (e.writable || !access.writes())
                    });
                    match inside {
                        Some(e) => {
                            self.record_access(
                                pc,
                                SlotProof::Proven {
                                    region: e.region,
                                    frame: None,
                                },
                            );
                            return Target::Region;
                        }
                        None => Target::Other,
                    }
                }
                Mode::Kernel { .. } => {
                    let null = s.as_const() == Some(0);
                    let released = match v {
                        Value::Scalar(_, link) => self.released_by(link.id),
                        _ => None,
                    };
                    self.report(
                        pc,
                        Rule::InvalidMemAccess,
                        Severity::Error,
                        if null {
                            format!("r{reg} is NULL (0) here; the {} would fault", access.verb())
                        } else if let Some(at) = released {
                            format!("r{reg} pointed to memory reserved at instruction {at}, which was submitted or discarded before this {}: after that the pointer is only a number", access.verb())
                        } else {
                            format!("r{reg} is a number, not a pointer the program may dereference")
                        },
                    )
                    .kernel_says(Some(format!("R{reg} invalid mem access 'scalar'")))
                    .regs(st, &[reg])
                    .emit_plain();
                    Target::Other
                }
            },
            _ => {
                self.report(
                    pc,
                    Rule::InvalidMemAccess,
                    Severity::Error,
                    format!("r{reg} is a pointer on some paths and something else on others"),
                )
                .kernel_says(Some(format!("R{reg} invalid mem access 'scalar'")))
                .regs(st, &[reg])
                .emit_plain();
                Target::Other
            }
        };
        let proof = match t {
            Target::Stack { frame, lo, hi } => SlotProof::Proven {
                region: RegionKind::Stack,
                frame: (frame == st.depth()).then_some((lo, hi)),
            },
            // Kernel objects (the kernel crate places them in the kernel region).
            Target::Ctx(_) | Target::Packet | Target::MapValue(_) | Target::Alloc => {
                SlotProof::Proven {
                    region: RegionKind::Kernel,
                    frame: None,
                }
            }
            _ => SlotProof::Unproven,
        };
        self.record_access(pc, proof);
        t
    }

    #[allow(clippy::too_many_arguments)]
    fn pointer_target(
        &mut self,
        st: &State,
        pc: usize,
        reg: u8,
        p: Ptr,
        off: i64,
        size: u64,
        access: Access,
    ) -> Target {
        let lo = p.fixed as i128 + p.var.smin as i128 + off as i128;
        let hi = p.fixed as i128 + p.var.smax as i128 + off as i128 + size as i128;
        let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        let (lo, hi) = (clamp(lo), clamp(hi));
        let exact = p.var.as_const().is_some();
        let verb = access.verb();
        match p.base {
            Base::Stack(f) => {
                let frame = f as usize;
                let limit = -self.frame_size();
                if self.is_kernel() {
                    if !exact && !self.privileged() {
                        self.report(
                            pc,
                            Rule::StackBounds,
                            Severity::Error,
                            format!(
                                "a stack {verb} at a variable offset ({}..{})",
                                fmt_off(lo),
                                fmt_off(hi - size as i64)
                            ),
                        )
                        .kernel_says(Some(format!(
                            "R{reg} variable stack access prohibited for !root"
                        )))
                        .regs(st, &[reg])
                        .emit_plain();
                    }
                    if exact && access.is_insn() && lo.rem_euclid(size as i64) != 0 {
                        self.report(
                            pc,
                            Rule::MisalignedStack,
                            Severity::Error,
                            format!(
                                "a {size}-byte stack {verb} at {} is not aligned to {size} bytes",
                                fmt_off(lo)
                            ),
                        )
                        .kernel_says(Some(format!(
                            "misaligned stack access off {}+{off} size {size}",
                            p.fixed
                        )))
                        .regs(st, &[reg])
                        .emit_plain();
                    }
                }
                if lo < limit || hi > 0 {
                    let kernel = if exact {
                        format!(
                            "invalid {} stack R{reg} off={lo} size={size}",
                            if access.writes() {
                                "write to"
                            } else {
                                "read from"
                            }
                        )
                    } else {
                        format!(
                            "invalid variable-offset {} stack R{reg}",
                            if access.writes() {
                                "write to"
                            } else {
                                "read from"
                            }
                        )
                    };
                    self.report(pc, Rule::StackBounds, Severity::Error,
                        format!("the stack {verb} reaches {}..{}, outside the {}-byte stack frame", fmt_off(lo), fmt_off(hi), -limit))
                        .kernel_says(Some(kernel))
                        .regs(st, &[reg])
                        .hint("BPF programs get 512 bytes of stack; move big buffers into a per-CPU array map")
                        .emit_plain();
                    return Target::Other;
                }
                self.note_stack_use(st, frame, lo);
                Target::Stack { frame, lo, hi }
            }
            Base::Ctx => {
                let Mode::Kernel { ctx, .. } = self.mode else {
                    return Target::Other;
                };
                if !access.is_insn() {
                    self.report(
                        pc,
                        Rule::HelperArgs,
                        Severity::Error,
                        format!("r{reg} is the context: helpers take it only where their prototype says so, not as memory to {verb}"),
                    )
                    .kernel_says(Some(format!(
                        "R{reg} type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf"
                    )))
                    .emit_plain();
                    return Target::Other;
                }
                if !ctx.modelled {
                    self.report(
                        pc,
                        Rule::NotModelled,
                        Severity::Warning,
                        format!(
                            "the context of {} programs is not laid out here: its fields are assumed readable numbers",
                            ctx.prog.name()
                        ),
                    )
                    .emit_plain();
                    return Target::Ctx(CtxField::Scalar);
                }
                if !exact {
                    self.report(
                        pc,
                        Rule::CtxAccess,
                        Severity::Error,
                        format!("a context {verb} at a variable offset"),
                    )
                    .kernel_says(Some(format!(
                        "variable ctx access var_off={} disallowed",
                        p.var
                    )))
                    .regs(st, &[reg])
                    .emit_plain();
                    return Target::Other;
                }
                if p.fixed != 0 {
                    self.report(pc, Rule::CtxAccess, Severity::Error,
                        format!("the context pointer in r{reg} was moved by {}: the kernel rewrites context accesses and needs the field offset in the instruction", p.fixed))
                        .kernel_says(Some(format!("dereference of modified ctx ptr R{reg} off={} disallowed", p.fixed)))
                        .regs(st, &[reg])
                        .emit_plain();
                    return Target::Other;
                }
                if access == Access::WriteImm || access == Access::Atomic {
                    let what = if access == Access::Atomic {
                        "BPF_ATOMIC"
                    } else {
                        "BPF_ST"
                    };
                    self.report(
                        pc,
                        Rule::CtxAccess,
                        Severity::Error,
                        format!("{what} stores into the context are not allowed"),
                    )
                    .kernel_says(Some(format!(
                        "{what} stores into R{reg} ctx is not allowed"
                    )))
                    .emit_plain();
                    return Target::Other;
                }
                match ctx.access(off, size, access.writes()) {
                    Some(field) => Target::Ctx(field),
                    None => {
                        self.report(pc, Rule::CtxAccess, Severity::Error,
                            format!("a {size}-byte {verb} at offset {off} of {} is not allowed for {} programs", ctx.c_type, ctx.prog.name()))
                            .kernel_says(Some(format!("invalid bpf_context access off={off} size={size}")))
                            .regs(st, &[reg])
                            .emit_plain();
                        Target::Other
                    }
                }
            }
            Base::Packet => {
                if access == Access::Atomic {
                    self.report(
                        pc,
                        Rule::InvalidMemAccess,
                        Severity::Error,
                        "atomic operations on packet data are not allowed".to_string(),
                    )
                    .kernel_says(Some(format!(
                        "BPF_ATOMIC stores into R{reg} pkt is not allowed"
                    )))
                    .emit_plain();
                    return Target::Other;
                }
                if p.var.smin < 0 {
                    self.report(pc, Rule::PacketBounds, Severity::Error,
                        format!("the offset added to the packet pointer in r{reg} may be negative ({})", p.var))
                        .kernel_says(Some(format!("R{reg} min value is negative, either use unsigned index or do a if (index >=0) check.")))
                        .regs(st, &[reg])
                        .emit_plain();
                    return Target::Other;
                }
                let start = p.fixed + off;
                let by_id =
                    p.id != 0 && start >= 0 && (start as u64 + size) <= st.packet_range(p.id);
                let data_rel = p.fixed as i128 + p.var.umin as i128 + off as i128 >= 0
                    && p.fixed as i128 + p.var.umax as i128 + off as i128 + size as i128
                        <= st.packet_range(0) as i128;
                if by_id || data_rel {
                    return Target::Packet;
                }
                let known = if p.id != 0 {
                    st.packet_range(p.id)
                } else {
                    st.packet_range(0)
                };
                self.report(pc, Rule::PacketBounds, Severity::Error,
                    format!("the {verb} of {size} byte{} at packet offset {} is not covered by a check against data_end (the checks so far cover {known} bytes)",
                        if size == 1 { "" } else { "s" },
                        describe_packet_offset(&p, off)))
                    .kernel_says(Some(format!("invalid access to packet, off={start} size={size}, R{reg}(id={},off={start},r={known})", p.id)))
                    .regs(st, &[reg])
                    .hint("compare the end of what you read with data_end first: `if ((void *)(p + 1) > data_end) return XDP_PASS;`")
                    .emit_plain();
                Target::Other
            }
            Base::PacketMeta => {
                self.report(
                    pc,
                    Rule::NotModelled,
                    Severity::Warning,
                    "accesses through data_meta are not checked by this verifier".to_string(),
                )
                .emit_plain();
                Target::Packet
            }
            Base::PacketEnd => {
                self.report(pc, Rule::InvalidMemAccess, Severity::Error,
                    format!("r{reg} is data_end: it marks the end of the packet and may only be compared with"))
                    .kernel_says(Some(format!("R{reg} invalid mem access 'pkt_end'")))
                    .emit_plain();
                Target::Other
            }
            Base::Map(_) => {
                self.report(pc, Rule::InvalidMemAccess, Severity::Error,
                    format!("r{reg} is a map, not a map value: look the value up with bpf_map_lookup_elem"))
                    .kernel_says(Some(format!("R{reg} invalid mem access 'map_ptr'")))
                    .emit_plain();
                Target::Other
            }
            Base::MapValue(m) => {
                let Some(env) = self.kernel() else {
                    return Target::Other;
                };
                let Some(map) = env.maps.get(m as usize) else {
                    return Target::Other;
                };
                let vs = map.def.value_size as i64;
                let name = map.name.clone();
                let read_only = map.read_only;
                if access.writes() && read_only {
                    self.report(
                        pc,
                        Rule::ReadOnly,
                        Severity::Error,
                        format!("`{name}` is read-only for the program"),
                    )
                    .kernel_says(Some(format!(
                        "write into map forbidden, value_size={vs} off={lo} size={size}"
                    )))
                    .emit_plain();
                    return Target::Other;
                }
                let what = format!("map `{name}`'s value");
                if self.bounded_access(st, pc, reg, p, lo, hi, size, vs, &what, "map value") {
                    Target::MapValue(m)
                } else {
                    Target::Other
                }
            }
            Base::MapKey(m) => {
                let Some(map) = self.kernel().and_then(|env| env.maps.get(m as usize)) else {
                    return Target::Other;
                };
                let (ks, name) = (map.def.key_size as i64, map.name.clone());
                if access.writes() {
                    self.report(
                        pc,
                        Rule::ReadOnly,
                        Severity::Error,
                        format!("the key of map `{name}` in r{reg} is read-only"),
                    )
                    .kernel_says(Some(format!("R{reg} cannot write into map_key")))
                    .emit_plain();
                    return Target::Other;
                }
                let what = format!("a key of map `{name}`");
                if self.bounded_access(st, pc, reg, p, lo, hi, size, ks, &what, "map key") {
                    Target::MapValue(m)
                } else {
                    Target::Other
                }
            }
            Base::Func(_) => {
                self.report(
                    pc,
                    Rule::InvalidMemAccess,
                    Severity::Error,
                    format!("r{reg} is a function, not memory"),
                )
                .kernel_says(Some(format!("R{reg} invalid mem access 'func'")))
                .emit_plain();
                Target::Other
            }
            Base::Alloc(n) => {
                let what = "the reserved memory";
                if self.bounded_access(st, pc, reg, p, lo, hi, size, n as i64, what, "memory") {
                    Target::Alloc
                } else {
                    Target::Other
                }
            }
        }
    }

    /// Bounds of a map value or reserved memory of `limit` bytes.
    #[allow(clippy::too_many_arguments)]
    fn bounded_access(
        &mut self,
        st: &State,
        pc: usize,
        reg: u8,
        p: Ptr,
        lo: i64,
        hi: i64,
        size: u64,
        limit: i64,
        what: &str,
        kname: &str,
    ) -> bool {
        let rule = if kname == "memory" {
            Rule::MemBounds
        } else {
            Rule::MapValueBounds
        };
        if p.var.smin < 0 && p.var.as_const().is_none() {
            self.report(pc, rule, Severity::Error,
                format!("the index into {what} may be negative ({})", p.var))
                .kernel_says(Some(format!("R{reg} min value is negative, either use unsigned index or do a if (index >=0) check.")))
                .regs(st, &[reg])
                .hint("use an unsigned index, or check `index >= 0`")
                .emit_plain();
            return false;
        }
        if p.var.umax >= 1 << 29 && p.var.as_const().is_none() {
            self.report(
                pc,
                rule,
                Severity::Error,
                format!("the index into {what} has no upper bound ({})", p.var),
            )
            .kernel_says(Some(format!(
                "R{reg} unbounded memory access, make sure to bounds check any such access"
            )))
            .regs(st, &[reg])
            .hint("bound the index: `if (i >= N) return ...;`")
            .emit_plain();
            return false;
        }
        if lo < 0 || hi > limit {
            self.report(
                pc,
                rule,
                Severity::Error,
                format!("the access to bytes {lo}..{hi} of {what} is outside its {limit} bytes"),
            )
            .kernel_says(Some(format!(
                "invalid access to {kname}, {}_size={limit} off={lo} size={size}",
                match kname {
                    "memory" => "mem",
                    "map key" => "key",
                    _ => "value",
                }
            )))
            .regs(st, &[reg])
            .emit_plain();
            return false;
        }
        true
    }

    // ---- instructions ----

    pub(crate) fn load(&mut self, st: &mut State, pc: usize, insn: Insn) {
        let size = access_size(insn.op);
        let signed = insn.op & 0xe0 == MODE_MEMSX;
        let t = self.target(st, pc, insn.src, insn.off, size, Access::Read);
        let v = match t {
            Target::Stack { frame, lo, hi } => self.stack_read(st, pc, frame, lo, hi, size),
            Target::Ctx(CtxField::PacketData) => Value::Ptr(Ptr::at(Base::Packet, 0)),
            Target::Ctx(CtxField::PacketEnd) => Value::Ptr(Ptr::at(Base::PacketEnd, 0)),
            Target::Ctx(CtxField::PacketMeta) => Value::Ptr(Ptr::at(Base::PacketMeta, 0)),
            _ => Value::scalar(Scalar::of_width(size as u32)),
        };
        let v = match v {
            Value::Scalar(s, _) if signed => Value::scalar(s.sext(size as u32)),
            Value::Scalar(s, link) => Value::Scalar(s, link),
            other if signed => {
                if other.may_be_pointer() {
                    self.unknown_pointer_value()
                } else {
                    Value::scalar(Scalar::of_width(size as u32).sext(size as u32))
                }
            }
            other => other,
        };
        st.set(insn.dst, v);
    }

    fn unknown_pointer_value(&self) -> Value {
        if self.is_kernel() {
            Value::UNKNOWN
        } else {
            Value::Any
        }
    }

    pub(crate) fn store(&mut self, st: &mut State, pc: usize, insn: Insn) {
        let size = access_size(insn.op);
        if insn.op & 0xe0 == MODE_ATOMIC {
            return self.atomic(st, pc, insn, size);
        }
        let imm = insn.class() == CLASS_ST;
        let v = if imm {
            Value::constant(insn.imm as i64 as u64)
        } else {
            self.read(st, pc, insn.src)
        };
        let access = if imm { Access::WriteImm } else { Access::Write };
        let t = self.target(st, pc, insn.dst, insn.off, size, access);
        if v.may_be_pointer() {
            let into = match t {
                Target::MapValue(_) => Some("map"),
                Target::Alloc => Some("mem"),
                Target::Packet => Some("packet"),
                Target::Ctx(_) => Some("ctx"),
                _ => None,
            };
            if let Some(into) = into {
                let sev = self.unprivileged_error();
                self.report(pc, Rule::PointerLeak, sev,
                    format!("the pointer in r{} is stored into {}: user space could read the kernel address", insn.src,
                        match into { "map" => "a map value", "mem" => "reserved memory", "packet" => "the packet", _ => "the context" }))
                    .kernel_says(Some(format!("R{} leaks addr into {into}", insn.src)))
                    .regs(st, &[insn.src])
                    .emit_plain();
            }
        }
        if !self.is_kernel()
            && !matches!(t, Target::Stack { .. })
            && crate::call::may_address_stack(&v)
        {
            // Stored where a helper may find it later.
            st.exposed = true;
        }
        match t {
            Target::Stack { frame, lo, hi } => self.stack_write(st, pc, frame, lo, hi, size, v),
            Target::Other if !self.is_kernel() => {
                st.havoc_stacks();
                self.havocs += 1;
            }
            _ => {}
        }
    }

    fn atomic(&mut self, st: &mut State, pc: usize, insn: Insn, size: u64) {
        let src = self.read(st, pc, insn.src);
        let t = self.target(st, pc, insn.dst, insn.off, size, Access::Atomic);
        let cmpxchg = insn.imm == ATOMIC_CMPXCHG;
        if cmpxchg {
            self.read(st, pc, 0);
        }
        if src.may_be_pointer() && self.is_kernel() {
            let sev = self.unprivileged_error();
            self.report(
                pc,
                Rule::PointerLeak,
                sev,
                format!("an atomic operation stores the pointer in r{}", insn.src),
            )
            .kernel_says(Some(format!("R{} leaks addr into mem", insn.src)))
            .emit_plain();
        }
        if !self.is_kernel()
            && !matches!(t, Target::Stack { .. })
            && crate::call::may_address_stack(&src)
        {
            st.exposed = true;
        }
        let old = match t {
            Target::Stack { frame, lo, hi } => {
                let old = self.stack_read(st, pc, frame, lo, hi, size);
                let written = Value::scalar(Scalar::of_width(size as u32));
                self.stack_write(st, pc, frame, lo, hi, size, written);
                match old {
                    Value::Scalar(s, _) => Value::scalar(s),
                    _ => self.unknown_pointer_value(),
                }
            }
            Target::Other if !self.is_kernel() => {
                st.havoc_stacks();
                self.havocs += 1;
                Value::scalar(Scalar::of_width(size as u32))
            }
            _ => Value::scalar(Scalar::of_width(size as u32)),
        };
        if cmpxchg {
            st.set(0, old);
        } else if insn.imm & ATOMIC_FETCH != 0 {
            st.set(insn.src, old);
        }
    }
}

impl Analyzer<'_> {
    /// If scalars tied under `id` are what is left of a reference released
    /// earlier (`bpf_ringbuf_reserve`'s memory, submitted or discarded),
    /// the absolute slot of the reservation.
    pub(crate) fn released_by(&self, id: u32) -> Option<usize> {
        let at = (id as usize).checked_sub(1)?;
        let insn = self.prog.code.get(at)?;
        let reserve = insn.op == OP_CALL
            && insn.src == CALL_HELPER
            && bpf_kabi::helpers::prototype(insn.imm as u32)
                .is_some_and(|p| p.ret == bpf_kabi::Ret::AllocOrNull);
        reserve.then_some(self.prog.base + at)
    }
}

/// A short name for what a pointer base is, for messages.
pub(crate) fn describe_base(an: &Analyzer, b: Base) -> String {
    match b {
        Base::MapValue(m) => match an.kernel().and_then(|k| k.maps.get(m as usize)) {
            Some(map) => format!("value of map `{}` from bpf_map_lookup_elem", map.name),
            None => "map value".to_string(),
        },
        Base::Alloc(_) => "memory from bpf_ringbuf_reserve".to_string(),
        Base::Stack(_) => "stack pointer".to_string(),
        Base::Ctx => "context pointer".to_string(),
        Base::Packet => "packet pointer".to_string(),
        Base::PacketMeta => "packet metadata pointer".to_string(),
        Base::PacketEnd => "packet end".to_string(),
        Base::Map(_) => "map".to_string(),
        Base::MapKey(_) => "map key".to_string(),
        Base::Func(_) => "function".to_string(),
    }
}

fn describe_packet_offset(p: &Ptr, off: i64) -> String {
    if let Some(c) = p.var.as_const() {
        format!("{}", p.fixed + c as i64 + off)
    } else {
        format!("{} + ({})", p.fixed + off, p.var)
    }
}
