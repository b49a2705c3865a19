//! Debug info registered with the session: any code slot -> function,
//! file, line and column (inlined frames included), from each object's
//! DWARF, which the fixup pass relocated to VM addresses.
//!
//! Objects built without `-g` still symbolize to function names and
//! offsets from their symbol tables.

use crate::graph::{LinkGraph, SectionKind};
use crate::session::Session;
use gimli::{EndianRcSlice, LittleEndian};
use std::rc::Rc;

type Reader = EndianRcSlice<LittleEndian>;

/// A parsed, ready-to-query view of one object's DWARF.
pub struct ObjectDebugInfo {
    context: addr2line::Context<Reader>,
    dwarf: std::sync::Arc<gimli::Dwarf<Reader>>,
}

impl ObjectDebugInfo {
    /// Loads the DWARF sections of a linked object's graph; `None` when it
    /// has none (built without `-g`) or they do not parse.
    pub fn load(graph: &LinkGraph) -> Option<ObjectDebugInfo> {
        if !graph
            .sections
            .iter()
            .any(|s| s.kind == SectionKind::Debug && s.name == ".debug_info")
        {
            return None;
        }
        let dwarf = gimli::Dwarf::load(|id| -> Result<Reader, gimli::Error> {
            let bytes = graph
                .sections
                .iter()
                .find(|s| s.kind == SectionKind::Debug && s.name == id.name())
                .map(|s| s.bytes.as_slice())
                .unwrap_or(&[]);
            Ok(EndianRcSlice::new(Rc::from(bytes), LittleEndian))
        })
        .ok()?;
        // addr2line shares a parse only through an Arc; the session is single-threaded.
        #[allow(clippy::arc_with_non_send_sync)]
        let dwarf = std::sync::Arc::new(dwarf);
        let context = addr2line::Context::from_arc_dwarf(dwarf.clone()).ok()?;
        Some(ObjectDebugInfo { context, dwarf })
    }

    /// The loaded DWARF sections, for readers of more than lines (the
    /// REPL reads the types of globals from the same parse).
    pub fn dwarf(&self) -> &gimli::Dwarf<Reader> {
        &self.dwarf
    }

    /// Source frames at a code address, innermost (inlined) first.
    pub fn frames(&self, addr: u64) -> Vec<(Option<String>, Option<SourceLocation>)> {
        let mut out = Vec::new();
        let Ok(mut iter) = self.context.find_frames(addr).skip_all_loads() else {
            return out;
        };
        while let Ok(Some(frame)) = iter.next() {
            let name = frame
                .function
                .as_ref()
                .and_then(|f| f.raw_name().ok())
                .map(|n| n.into_owned());
            let loc = frame.location.map(|l| SourceLocation {
                file: l.file.map(clean_path),
                line: l.line,
                column: l.column,
            });
            out.push((name, loc));
        }
        out
    }

    /// The source location of a code address (no inlining detail).
    pub fn location(&self, addr: u64) -> Option<SourceLocation> {
        let l = self.context.find_location(addr).ok()??;
        Some(SourceLocation {
            file: l.file.map(clean_path),
            line: l.line,
            column: l.column,
        })
    }
}

/// `./input 3` -> `input 3` (objects compiled with `-fdebug-compilation-dir=.`).
fn clean_path(path: &str) -> String {
    path.strip_prefix("./").unwrap_or(path).to_string()
}

/// A place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.file.as_deref().unwrap_or("??"))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column.filter(|c| *c > 0) {
                write!(f, ":{col}")?;
            }
        }
        Ok(())
    }
}

/// One frame of a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BacktraceFrame {
    /// Code slot of the instruction (the faulting one, or a call).
    pub slot: usize,
    /// Function name (`??` when nothing is known).
    pub function: String,
    /// Byte offset of the slot from the function's start, when known from symbols.
    pub offset: Option<u64>,
    /// The object that defines the function.
    pub object: Option<String>,
    /// Source location, when the object has line info.
    pub location: Option<SourceLocation>,
    /// True for a frame the compiler inlined into the next one.
    pub inlined: bool,
}

impl Session {
    /// Parsed debug info of object `index` (cached after the first use).
    pub fn debug_info(&self, index: usize) -> Option<Rc<ObjectDebugInfo>> {
        let mut cache = self.debug_cache.borrow_mut();
        if let Some(d) = cache.get(&index) {
            return d.clone();
        }
        let loaded = self
            .objects
            .get(index)
            .and_then(|o| ObjectDebugInfo::load(&o.graph))
            .map(Rc::new);
        cache.insert(index, loaded.clone());
        loaded
    }

    /// Index of the object whose code contains `slot`.
    pub fn object_at(&self, slot: usize) -> Option<usize> {
        let addr = bpf_vm::code_addr(slot);
        self.objects.iter().position(|o| {
            o.graph.sections.iter().any(|s| {
                s.kind == SectionKind::Code
                    && s.addr.is_some_and(|a| addr >= a && addr < a + s.size())
            })
        })
    }

    /// The frames at one code slot: inlined frames first, then the function.
    /// A function's stub (a thread not started yet, a pointer not yet
    /// called) is shown as the start of the body it leads to.
    pub fn frames_at(&self, slot: usize) -> Vec<BacktraceFrame> {
        let slot = self.stub_target(slot).unwrap_or(slot);
        let addr = bpf_vm::code_addr(slot);
        let symbol = self.function_at(slot);
        let object_index = self.object_at(slot);
        let object = object_index.map(|i| self.objects[i].name.clone());
        let debug = object_index.and_then(|i| self.debug_info(i));
        let source_frames = debug.map(|d| d.frames(addr)).unwrap_or_default();
        if source_frames.is_empty() {
            return vec![BacktraceFrame {
                slot,
                function: symbol
                    .map(|s| s.0.to_string())
                    .unwrap_or_else(|| "??".into()),
                offset: symbol.map(|s| s.2),
                object,
                location: None,
                inlined: false,
            }];
        }
        let last = source_frames.len() - 1;
        source_frames
            .into_iter()
            .enumerate()
            .map(|(i, (name, location))| BacktraceFrame {
                slot,
                function: name
                    .or_else(|| symbol.map(|s| s.0.to_string()))
                    .unwrap_or_else(|| "??".into()),
                offset: if i == last { symbol.map(|s| s.2) } else { None },
                object: object.clone(),
                location,
                inlined: i != last,
            })
            .collect()
    }

    /// The first slot of the function whose stub (`$__STUBS` entry) holds
    /// `slot`, if it is a stub's and its function is defined.
    fn stub_target(&self, slot: usize) -> Option<usize> {
        let addr = bpf_vm::code_addr(slot);
        for obj in &self.objects {
            let g = &obj.graph;
            for s in g.sections.iter().filter(|s| s.kind == SectionKind::Stubs) {
                let Some(base) = s.addr.filter(|&b| addr >= b && addr < b + s.size()) else {
                    continue;
                };
                let entry = (addr - base) / crate::link::ENTRY_SIZE * crate::link::ENTRY_SIZE;
                let edge = s.edges.iter().find(|e| e.offset == entry)?;
                let name = g.symbols[edge.target].name.as_str();
                return self.function_slots(name).map(|(start, _)| start);
            }
        }
        None
    }

    /// A whole backtrace for a trap: the faulting slot, then every call site.
    pub fn backtrace(&self, trap: &bpf_vm::Trap) -> Vec<BacktraceFrame> {
        std::iter::once(trap.pc)
            .chain(trap.call_sites.iter().copied())
            .flat_map(|slot| self.frames_at(slot))
            .collect()
    }

    /// The source location of one code slot, if its object has line info.
    pub fn location_at(&self, slot: usize) -> Option<SourceLocation> {
        let d = self.debug_info(self.object_at(slot)?)?;
        d.location(bpf_vm::code_addr(slot))
    }
}

impl BacktraceFrame {
    /// One backtrace line naming the function `name` (the caller may
    /// rename it): `poke at crash.c:1:55`, `poke+0x8 in crash.o` without
    /// line info, `?? at instruction 12` with nothing known.
    pub fn describe_as(&self, name: &str) -> String {
        let mut s = name.to_string();
        match (&self.location, self.offset) {
            (Some(loc), _) => s.push_str(&format!(" at {loc}")),
            (None, Some(off)) => {
                s.push_str(&format!("+{off:#x}"));
                if let Some(obj) = &self.object {
                    s.push_str(&format!(" in {obj}"));
                }
            }
            (None, None) => s.push_str(&format!(" at instruction {}", self.slot)),
        }
        if self.inlined {
            s.push_str(" (inlined)");
        }
        s
    }
}

impl Session {
    /// A trap as users read it: its cause and the backtrace, or for a
    /// deadlock, each blocked thread with what it waits for and its own
    /// backtrace. `describe` renders one frame.
    pub fn trap_report(
        &self,
        trap: &bpf_vm::Trap,
        describe: impl Fn(&BacktraceFrame) -> String,
    ) -> String {
        let bpf_vm::TrapKind::Deadlock(threads) = &trap.kind else {
            let frames = self.backtrace(trap);
            return format!("{}{}", trap.kind, format_backtrace(&frames, &describe));
        };
        let mut out = String::from("deadlock: every thread is blocked");
        for t in threads {
            let at = bpf_vm::Trap {
                kind: bpf_vm::TrapKind::Interrupted,
                pc: t.pc,
                call_sites: t.call_sites.clone(),
            };
            let frames = format_backtrace(&self.backtrace(&at), &describe);
            let waits = self.describe_wait(&t.waits, t.object);
            out.push_str(&format!("\n  thread {} waits for {waits}", t.thread));
            out.push_str(&frames.replace("\n  #", "\n    #"));
        }
        out
    }
}

/// Frames shown at the start and the end of a long backtrace.
const BACKTRACE_HEAD: usize = 10;
const BACKTRACE_TAIL: usize = 4;

/// Backtrace lines `  #N <frame>`, innermost first; a deep one (runaway
/// recursion) keeps its first and last frames and says how many it left out.
pub fn format_backtrace(
    frames: &[BacktraceFrame],
    describe: impl Fn(&BacktraceFrame) -> String,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let n = frames.len();
    for (i, f) in frames.iter().enumerate() {
        if n > BACKTRACE_HEAD + BACKTRACE_TAIL + 1 && i == BACKTRACE_HEAD {
            let _ = write!(
                out,
                "\n  ... {} more frames ...",
                n - BACKTRACE_HEAD - BACKTRACE_TAIL
            );
        }
        if n > BACKTRACE_HEAD + BACKTRACE_TAIL + 1 && i >= BACKTRACE_HEAD && i < n - BACKTRACE_TAIL
        {
            continue;
        }
        let _ = write!(out, "\n  #{i} {}", describe(f));
    }
    out
}

/// Reads line `line` (1-based) of a source file, for interleaving.
pub type SourceLines<'a> = &'a dyn Fn(&str, u32) -> Option<String>;

impl Session {
    /// Code slots `[start, end)` of a function: a global by name, else the
    /// newest local (static) function of that name.
    pub fn function_slots(&self, name: &str) -> Option<(usize, usize)> {
        let slot_of = |addr: u64| self.vm.code_index(addr);
        if let Some(g) = self.globals.get(name) {
            if g.kind == crate::graph::SymbolKind::Function {
                let start = slot_of(g.body)?;
                return Some((start, start + (g.size as usize / 8).max(1)));
            }
        }
        for obj in self.objects.iter().rev() {
            for sym in &obj.graph.symbols {
                if sym.name != name || sym.kind != crate::graph::SymbolKind::Function {
                    continue;
                }
                if let crate::graph::Definition::Defined { section, offset } = sym.def {
                    let base = obj.graph.sections[section].addr?;
                    let start = slot_of(base + offset)?;
                    return Some((start, start + (sym.size as usize / 8).max(1)));
                }
            }
        }
        None
    }

    /// Names for the disassembler: every function and stub, every helper.
    pub fn disasm_symbols(&self) -> bpf_vm::disasm::SymbolTable {
        let mut table = bpf_vm::disasm::SymbolTable::new();
        for obj in &self.objects {
            for sym in &obj.graph.symbols {
                if sym.kind != crate::graph::SymbolKind::Function {
                    continue;
                }
                if let crate::graph::Definition::Defined { section, offset } = sym.def {
                    if let Some(slot) = obj.graph.sections[section]
                        .addr
                        .and_then(|a| self.vm.code_index(a + offset))
                    {
                        table.insert(slot as u64, sym.name.clone());
                    }
                }
            }
        }
        for g in self.globals.values() {
            if let Some(stub) = g.stub {
                table.insert(stub as u64, format!("{}@stub", g.name));
            }
        }
        for (name, id) in &self.helpers {
            table.insert_runtime_helper(*id as i32, name.clone());
        }
        table.annotate_calls(true);
        table
    }

    /// An llvm-objdump style listing of one function; with `source`, the
    /// source line of each new location is interleaved (`llvm-objdump -S`).
    pub fn disassemble(&self, name: &str, source: Option<SourceLines>) -> Option<String> {
        use std::fmt::Write as _;
        let (start, end) = self.function_slots(name)?;
        let code = self.vm.code();
        let end = end.min(code.len());
        let symbols = self.disasm_symbols();
        let mut out = String::new();
        let _ = writeln!(out, "{:016x} <{name}>:", bpf_vm::code_addr(start));
        let mut last: Option<(Option<String>, Option<u32>)> = None;
        let mut slot = start;
        while slot < end {
            if let Some(source) = source {
                if let Some(loc) = self.location_at(slot) {
                    let key = (loc.file.clone(), loc.line);
                    if last.as_ref() != Some(&key) && loc.line.is_some_and(|l| l > 0) {
                        if let (Some(file), Some(line)) = (&loc.file, loc.line) {
                            if let Some(text) = source(file, line) {
                                let _ = writeln!(out, "; {text}");
                            }
                        }
                        last = Some(key);
                    }
                }
            }
            let Some((line, slots)) =
                bpf_vm::disasm::listing_line(&code[start..end], slot - start, start, &symbols)
            else {
                break;
            };
            let _ = writeln!(out, "{line}");
            slot += slots;
        }
        Some(out)
    }
}
