//! Disassembly in the syntax of `llvm-objdump -d` (LLVM 19).
//!
//! [`disasm_insn`] gives the text of one instruction (`r1 = *(u32 *)(r1 +
//! 0x0)`), [`disasm_listing`] whole objdump-style listings with the hex
//! bytes, symbol headers and jump-target annotations. Names come from a
//! [`Symbolizer`]; [`SymbolTable`] is a ready-made one.
//!
//! Every instruction that [`crate::validate`] accepts prints exactly as
//! `llvm-objdump-19 -d` prints it (checked against recorded objdump output
//! in `tests/disasm.rs`), with one deliberate exception: 32-bit atomics
//! other than a plain `lock ... +=`. The default objdump prints `<unknown>`
//! for them, and prints a 32-bit `atomic_fetch_add` as if it were a plain
//! `lock ... += r2`, dropping the fetch. For these we print what
//! `llvm-objdump-19 -d --mcpu=v4` prints, e.g.
//! `w0 = cmpxchg32_32(r1 + 0x0, w0, w2)`.
//!
//! Slots that are not valid instructions print as `<unknown>`, like
//! objdump; unlike objdump we are strict, so a slot whose reserved fields
//! are not zero is `<unknown>` rather than shown as if they were. Register
//! numbers above r10 are still shown (`r11`) so that error messages can
//! point at them. Kernel-only encodings that objdump knows (`ld_pseudo`,
//! legacy `skb[...]` loads, kfunc calls) print as objdump prints them,
//! except that an indirect packet load with a non-zero `imm` shows it
//! (`skb[r1 + 0x4]`), where objdump drops it.

use crate::isa::*;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Names for code locations, used to annotate jumps (and, optionally, calls).
///
/// Slot indices are absolute (the listing's `base_index` already added) and
/// wrap like objdump's addresses: a jump before slot 0 targets a huge index.
pub trait Symbolizer {
    /// The symbol that starts at or most closely before slot `index`:
    /// its name and its own slot index.
    fn symbol_before(&self, index: u64) -> Option<(&str, u64)>;

    /// The annotation for a `call` (without the angle brackets). objdump
    /// annotates no calls, so the default is none.
    fn call_name(&self, _target: CallTarget) -> Option<String> {
        None
    }
}

/// What a `call` instruction calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallTarget {
    /// A kernel helper by id (`src = 0`; other unknown `src` values too).
    Helper(i32),
    /// A runtime helper by table index (`src = 2`).
    Runtime(i32),
    /// A BPF function at this absolute slot index (`src = 1`), wrapped like jump targets.
    Local(u64),
}

/// A [`Symbolizer`] that knows no names: no annotations at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSymbols;

impl Symbolizer for NoSymbols {
    fn symbol_before(&self, _index: u64) -> Option<(&str, u64)> {
        None
    }
}

/// Names by slot index, plus optional helper names.
///
/// As in objdump, when several names share a slot the last one in name
/// order wins. Calls are annotated only if [`SymbolTable::annotate_calls`]
/// is set (objdump does not annotate them): kernel helpers by their kernel
/// name and id (`bpf_map_lookup_elem#1`) unless named otherwise, runtime
/// helpers by the name they were inserted with.
#[derive(Debug, Clone, Default)]
pub struct SymbolTable {
    symbols: BTreeMap<u64, String>,
    helpers: BTreeMap<i32, String>,
    runtime_helpers: BTreeMap<i32, String>,
    annotate_calls: bool,
}

impl SymbolTable {
    /// An empty table.
    pub fn new() -> SymbolTable {
        SymbolTable::default()
    }

    /// Names slot `index`. Of several names for one slot the greatest is kept.
    pub fn insert(&mut self, index: u64, name: impl Into<String>) {
        let name = name.into();
        match self.symbols.get(&index) {
            Some(old) if *old >= name => {}
            _ => {
                self.symbols.insert(index, name);
            }
        }
    }

    /// Names kernel helper `id` (for call annotations), instead of its kernel name.
    pub fn insert_helper(&mut self, id: i32, name: impl Into<String>) {
        self.helpers.insert(id, name.into());
    }

    /// Names runtime helper `index` (for call annotations).
    pub fn insert_runtime_helper(&mut self, index: i32, name: impl Into<String>) {
        self.runtime_helpers.insert(index, name.into());
    }

    /// Whether `call` instructions get a `<name>` annotation.
    pub fn annotate_calls(&mut self, on: bool) {
        self.annotate_calls = on;
    }
}

impl Symbolizer for SymbolTable {
    fn symbol_before(&self, index: u64) -> Option<(&str, u64)> {
        self.symbols
            .range(..=index)
            .next_back()
            .map(|(at, name)| (name.as_str(), *at))
    }

    fn call_name(&self, target: CallTarget) -> Option<String> {
        if !self.annotate_calls {
            return None;
        }
        match target {
            CallTarget::Helper(id) => self.helpers.get(&id).cloned().or_else(|| {
                crate::kernel_helpers::kernel_helper_name(id)
                    .map(|_| crate::kernel_helpers::describe_kernel_helper(id))
            }),
            CallTarget::Runtime(index) => self.runtime_helpers.get(&index).cloned(),
            CallTarget::Local(index) => Some(annotation(self, index)?),
        }
    }
}

/// The text of the instruction at `code[index]` and the number of slots it
/// uses (2 for `ld_imm64`, else 1), without annotations. `None` if `index`
/// is past the end.
pub fn disasm_insn(code: &[Insn], index: usize) -> Option<(String, usize)> {
    disasm_insn_with(code, index, 0, &NoSymbols)
}

/// Like [`disasm_insn`], annotating jump (and call) targets with names from
/// `symbols`; `code[0]` is absolute slot `base_index`.
pub fn disasm_insn_with(
    code: &[Insn],
    index: usize,
    base_index: usize,
    symbols: &dyn Symbolizer,
) -> Option<(String, usize)> {
    let insn = *code.get(index)?;
    let at = (base_index as u64).wrapping_add(index as u64);
    Some(match decode(insn, code.get(index + 1).copied(), at) {
        Some(Decoded {
            mut text,
            slots,
            target,
        }) => {
            let name = match target {
                Some(Target::Jump(t)) => annotation(symbols, t),
                Some(Target::Call(t)) => symbols.call_name(t),
                None => None,
            };
            if let Some(name) = name {
                let _ = write!(text, " <{name}>");
            }
            (text, slots)
        }
        None => ("<unknown>".to_string(), 1),
    })
}

/// One objdump listing line for the instruction at `code[index]`:
/// `"{index:>8}:\t{hex bytes}\t{text}"` (no newline), and the slots used.
pub fn listing_line(
    code: &[Insn],
    index: usize,
    base_index: usize,
    symbols: &dyn Symbolizer,
) -> Option<(String, usize)> {
    let (text, slots) = disasm_insn_with(code, index, base_index, symbols)?;
    let hex = code[index..index + slots]
        .iter()
        .flat_map(|i| i.to_bytes())
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    let line = format!(
        "{:>8}:\t{hex}\t{text}",
        (base_index as u64).wrapping_add(index as u64)
    );
    Some((line, slots))
}

/// The body objdump prints for one code section: for each symbol that
/// starts at an instruction, a blank line and `"{address:016x} <name>:"`
/// (address = slot index × 8), then one [`listing_line`] per instruction.
/// Every line ends with a newline.
pub fn disasm_listing(code: &[Insn], base_index: usize, symbols: &dyn Symbolizer) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < code.len() {
        let at = (base_index as u64).wrapping_add(i as u64);
        if let Some((name, start)) = symbols.symbol_before(at) {
            if start == at {
                let _ = writeln!(
                    out,
                    "\n{:016x} <{name}>:",
                    at.wrapping_mul(INSN_SIZE as u64)
                );
            }
        }
        let Some((line, slots)) = listing_line(code, i, base_index, symbols) else {
            break;
        };
        out.push_str(&line);
        out.push('\n');
        i += slots;
    }
    out
}

/// `name` or `name+0xOFF` (byte offset) for a jump to slot `target`.
fn annotation(symbols: &dyn Symbolizer, target: u64) -> Option<String> {
    let (name, start) = symbols.symbol_before(target)?;
    let off = target.wrapping_sub(start).wrapping_mul(INSN_SIZE as u64);
    Some(if off == 0 {
        name.to_string()
    } else {
        format!("{name}+{off:#x}")
    })
}

/// Where a decoded instruction transfers control, as an absolute wrapped slot index.
enum Target {
    Jump(u64),
    Call(CallTarget),
}

struct Decoded {
    text: String,
    slots: usize,
    target: Option<Target>,
}

impl Decoded {
    fn one(text: String) -> Option<Decoded> {
        Some(Decoded {
            text,
            slots: 1,
            target: None,
        })
    }
}

/// Signed hexadecimal as objdump prints immediates: `0x5`, `-0x5`.
/// The source operand of an ALU op or conditional jump: register `w`+`s`
/// (BPF_X, imm must be 0) or the immediate (BPF_K, src must be 0).
fn source_operand(insn: Insn, x: bool, w: char, s: u8) -> Option<String> {
    if x {
        (insn.imm == 0).then(|| format!("{w}{s}"))
    } else {
        (s == 0).then(|| hex(insn.imm as i64))
    }
}

fn hex(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("{v:#x}")
    }
}

/// A branch displacement: `+0x5`, `-0x5`, `+0x0`.
fn displacement(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("+{v:#x}")
    }
}

/// A memory operand: `(r1 + 0x8)`, `(r10 - 0x8)`.
fn mem(reg: u8, off: i16) -> String {
    let sign = if off < 0 { '-' } else { '+' };
    format!("(r{reg} {sign} {:#x})", off.unsigned_abs())
}

fn size_bits(op: u8) -> u32 {
    match op & 0x18 {
        SIZE_W => 32,
        SIZE_H => 16,
        SIZE_B => 8,
        _ => 64,
    }
}

/// Slot index `pc + 1 + rel`, wrapped like objdump's addresses.
fn relative(pc: u64, rel: i64) -> u64 {
    pc.wrapping_add(1).wrapping_add(rel as u64)
}

/// Decodes one instruction at absolute slot `pc`; `None` for `<unknown>`.
fn decode(insn: Insn, next: Option<Insn>, pc: u64) -> Option<Decoded> {
    match insn.class() {
        CLASS_ALU | CLASS_ALU64 => decode_alu(insn),
        CLASS_JMP | CLASS_JMP32 => decode_jmp(insn, pc),
        CLASS_LD => decode_ld(insn, next),
        CLASS_LDX => decode_ldx(insn),
        CLASS_ST => decode_st(insn),
        _ => decode_stx(insn),
    }
}

fn decode_alu(insn: Insn) -> Option<Decoded> {
    let is64 = insn.class() == CLASS_ALU64;
    let w = if is64 { 'r' } else { 'w' };
    let x = insn.op & SRC_X != 0;
    let code = insn.op & 0xf0;
    let (d, s) = (insn.dst, insn.src);
    match code {
        ALU_NEG => (!x && s == 0 && insn.off == 0 && insn.imm == 0)
            .then(|| format!("{w}{d} = -{w}{d}"))
            .and_then(Decoded::one),
        ALU_END => {
            if s != 0 || insn.off != 0 || !matches!(insn.imm, 16 | 32 | 64) {
                return None;
            }
            let name = match (is64, x) {
                (true, false) => "bswap",
                (true, true) => return None,
                (false, false) => "le",
                (false, true) => "be",
            };
            Decoded::one(format!("r{d} = {name}{} r{d}", insn.imm))
        }
        _ => {
            let rhs = source_operand(insn, x, w, s)?;
            let op = match (code, insn.off) {
                (ALU_ADD, 0) => "+=",
                (ALU_SUB, 0) => "-=",
                (ALU_MUL, 0) => "*=",
                (ALU_DIV, 0) => "/=",
                (ALU_DIV, 1) => "s/=",
                (ALU_OR, 0) => "|=",
                (ALU_AND, 0) => "&=",
                (ALU_LSH, 0) => "<<=",
                (ALU_RSH, 0) => ">>=",
                (ALU_MOD, 0) => "%=",
                (ALU_MOD, 1) => "s%=",
                (ALU_XOR, 0) => "^=",
                (ALU_MOV, 0) => "=",
                (ALU_ARSH, 0) => "s>>=",
                (ALU_MOV, 8 | 16) if x => {
                    return Decoded::one(format!("{w}{d} = (s{}){w}{s}", insn.off))
                }
                (ALU_MOV, 32) if x && is64 => return Decoded::one(format!("{w}{d} = (s32){w}{s}")),
                _ => return None,
            };
            Decoded::one(format!("{w}{d} {op} {rhs}"))
        }
    }
}

fn decode_jmp(insn: Insn, pc: u64) -> Option<Decoded> {
    let is32 = insn.class() == CLASS_JMP32;
    let x = insn.op & SRC_X != 0;
    let code = insn.op & 0xf0;
    let (d, s) = (insn.dst, insn.src);
    let jump = |text: String, rel: i64| {
        Some(Decoded {
            text,
            slots: 1,
            target: Some(Target::Jump(relative(pc, rel))),
        })
    };
    let cond = match code {
        JMP_JA => {
            if x || d != 0 || s != 0 {
                return None;
            }
            return if is32 {
                if insn.off != 0 {
                    return None;
                }
                jump(
                    format!("gotol {}", displacement(insn.imm as i64)),
                    insn.imm as i64,
                )
            } else {
                if insn.imm != 0 {
                    return None;
                }
                jump(
                    format!("goto {}", displacement(insn.off as i64)),
                    insn.off as i64,
                )
            };
        }
        JMP_CALL => {
            if is32 || insn.off != 0 {
                return None;
            }
            if x {
                return (s == 0 && insn.imm == 0)
                    .then(|| format!("callx r{d}"))
                    .and_then(Decoded::one);
            }
            if d != 0 {
                return None;
            }
            let target = match s {
                CALL_LOCAL => CallTarget::Local(relative(pc, insn.imm as i64)),
                // Kernel helpers (0) and runtime helpers (2, the kernel's
                // kfunc encoding) are called by id; objdump shows both so.
                CALL_RUNTIME => CallTarget::Runtime(insn.imm),
                _ => CallTarget::Helper(insn.imm),
            };
            return Some(Decoded {
                text: format!("call {}", hex(insn.imm as i64)),
                slots: 1,
                target: Some(Target::Call(target)),
            });
        }
        JMP_EXIT => {
            return (!is32 && !x && d == 0 && s == 0 && insn.off == 0 && insn.imm == 0)
                .then(|| "exit".to_string())
                .and_then(Decoded::one);
        }
        JMP_JEQ => "==",
        JMP_JGT => ">",
        JMP_JGE => ">=",
        JMP_JSET => "&",
        JMP_JNE => "!=",
        JMP_JSGT => "s>",
        JMP_JSGE => "s>=",
        JMP_JLT => "<",
        JMP_JLE => "<=",
        JMP_JSLT => "s<",
        JMP_JSLE => "s<=",
        _ => return None,
    };
    let w = if is32 { 'w' } else { 'r' };
    let rhs = source_operand(insn, x, w, s)?;
    jump(
        format!(
            "if {w}{d} {cond} {rhs} goto {}",
            displacement(insn.off as i64)
        ),
        insn.off as i64,
    )
}

fn decode_ld(insn: Insn, next: Option<Insn>) -> Option<Decoded> {
    let bits = size_bits(insn.op);
    match insn.op & 0xe0 {
        MODE_IMM if insn.op == OP_LD_IMM64 => {
            let next = next?;
            if insn.off != 0 || next.op != 0 || next.dst != 0 || next.src != 0 || next.off != 0 {
                return None;
            }
            let text = if insn.src == 0 {
                let value = (insn.imm as u32 as u64) | ((next.imm as u32 as u64) << 32);
                format!("r{} = {} ll", insn.dst, hex(value as i64))
            } else {
                format!(
                    "ld_pseudo\tr{}, {:#x}, {:#x}",
                    insn.dst, insn.src, insn.imm as u32
                )
            };
            Some(Decoded {
                text,
                slots: 2,
                target: None,
            })
        }
        // Legacy packet loads (cBPF heritage), in objdump's notation.
        MODE_ABS if bits < 64 && insn.dst == 0 && insn.src == 0 && insn.off == 0 => {
            Decoded::one(format!("r0 = *(u{bits} *)skb[{}]", hex(insn.imm as i64)))
        }
        MODE_IND if bits < 64 && insn.dst == 0 && insn.off == 0 => {
            let index = match insn.imm {
                0 => format!("r{}", insn.src),
                imm => format!("r{} + {}", insn.src, hex(imm as i64)),
            };
            Decoded::one(format!("r0 = *(u{bits} *)skb[{index}]"))
        }
        _ => None,
    }
}

fn decode_ldx(insn: Insn) -> Option<Decoded> {
    let bits = size_bits(insn.op);
    let sign = match insn.op & 0xe0 {
        MODE_MEM => 'u',
        MODE_MEMSX if bits < 64 => 's',
        _ => return None,
    };
    if insn.imm != 0 {
        return None;
    }
    Decoded::one(format!(
        "r{} = *({sign}{bits} *){}",
        insn.dst,
        mem(insn.src, insn.off)
    ))
}

fn decode_st(insn: Insn) -> Option<Decoded> {
    if insn.op & 0xe0 != MODE_MEM || insn.src != 0 {
        return None;
    }
    Decoded::one(format!(
        "*(u{} *){} = {}",
        size_bits(insn.op),
        mem(insn.dst, insn.off),
        hex(insn.imm as i64)
    ))
}

fn decode_stx(insn: Insn) -> Option<Decoded> {
    let bits = size_bits(insn.op);
    let (d, s) = (insn.dst, insn.src);
    match insn.op & 0xe0 {
        MODE_MEM if insn.imm == 0 => {
            Decoded::one(format!("*(u{bits} *){} = r{s}", mem(d, insn.off)))
        }
        MODE_ATOMIC if bits == 32 || bits == 64 => {
            let w = if bits == 64 { 'r' } else { 'w' };
            let at = mem(d, insn.off);
            let addr = &at[1..at.len() - 1];
            let alu = |imm: i32| match imm & !ATOMIC_FETCH {
                ATOMIC_ADD => Some(("+=", "add")),
                ATOMIC_OR => Some(("|=", "or")),
                ATOMIC_AND => Some(("&=", "and")),
                ATOMIC_XOR => Some(("^=", "xor")),
                _ => None,
            };
            let text = match insn.imm {
                // objdump's default CPU shows the 32-bit add with an `r` source.
                ATOMIC_ADD if bits == 32 => format!("lock *(u32 *){at} += r{s}"),
                ATOMIC_XCHG if bits == 64 => format!("r{s} = xchg_64({addr}, r{s})"),
                ATOMIC_XCHG => format!("w{s} = xchg32_32({addr}, w{s})"),
                ATOMIC_CMPXCHG if bits == 64 => format!("r0 = cmpxchg_64({addr}, r0, r{s})"),
                ATOMIC_CMPXCHG => format!("w0 = cmpxchg32_32({addr}, w0, w{s})"),
                imm if imm & ATOMIC_FETCH != 0 => {
                    let (_, name) = alu(imm)?;
                    format!("{w}{s} = atomic_fetch_{name}((u{bits} *){at}, {w}{s})")
                }
                imm => {
                    let (op, _) = alu(imm)?;
                    format!("lock *(u{bits} *){at} {op} {w}{s}")
                }
            };
            Decoded::one(text)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::asm::*;

    fn text(code: &[Insn]) -> String {
        disasm_insn(code, 0).unwrap().0
    }

    #[test]
    fn out_of_range_index_is_none() {
        assert_eq!(disasm_insn(&[exit()], 1), None);
        assert_eq!(disasm_insn(&[], 0), None);
    }

    #[test]
    fn truncated_ld_imm64_is_unknown_single_slot() {
        let [a, _] = ld_imm64(1, 5);
        assert_eq!(disasm_insn(&[a], 0), Some(("<unknown>".into(), 1)));
        assert_eq!(disasm_insn(&[a, exit()], 0), Some(("<unknown>".into(), 1)));
    }

    #[test]
    fn reserved_fields_make_unknown() {
        assert_eq!(text(&[Insn::new(OP_EXIT, 0, 0, 0, 1)]), "<unknown>");
        assert_eq!(
            text(&[Insn::new(CLASS_ALU64 | SRC_X | ALU_ADD, 1, 2, 0, 7)]),
            "<unknown>"
        );
        assert_eq!(text(&[Insn::new(0xff, 0, 0, 0, 0)]), "<unknown>");
    }

    #[test]
    fn symbol_table_keeps_greatest_name_per_slot() {
        let mut t = SymbolTable::new();
        t.insert(0, "zzz");
        t.insert(0, "aaa");
        t.insert(4, "f");
        assert_eq!(t.symbol_before(0), Some(("zzz", 0)));
        assert_eq!(t.symbol_before(3), Some(("zzz", 0)));
        assert_eq!(t.symbol_before(u64::MAX), Some(("f", 4)));
    }

    #[test]
    fn calls_are_annotated_only_on_request() {
        let mut t = SymbolTable::new();
        t.insert(0, "main");
        t.insert(4, "g");
        t.insert_runtime_helper(6, "printf");
        let code = [
            call_local(3),
            call_runtime(6),
            call_helper(6),
            call_helper(1),
            call_helper(999),
            exit(),
        ];
        let line = |t: &SymbolTable, i| disasm_insn_with(&code, i, 0, t).unwrap().0;
        assert_eq!(line(&t, 0), "call 0x3");
        assert_eq!(line(&t, 1), "call 0x6");
        t.annotate_calls(true);
        assert_eq!(line(&t, 0), "call 0x3 <g>");
        // The two namespaces never mix: runtime index 6 is printf, kernel
        // helper 6 is bpf_trace_printk.
        assert_eq!(line(&t, 1), "call 0x6 <printf>");
        assert_eq!(line(&t, 2), "call 0x6 <bpf_trace_printk#6>");
        assert_eq!(line(&t, 3), "call 0x1 <bpf_map_lookup_elem#1>");
        assert_eq!(line(&t, 4), "call 0x3e7");
    }
}
