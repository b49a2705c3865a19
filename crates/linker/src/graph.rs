//! The link graph: what one relocatable object contributes, in a form the
//! passes can transform without knowing ELF.
//!
//! As in LLVM JITLink: sections own blocks (content, alignment), symbols
//! name offsets in blocks (or nothing, when external), and edges say "the
//! bytes at this offset of the block must refer to that symbol plus this
//! addend, encoded this way". For ELF relocatable input there is exactly one
//! block per section, so block and section share an index.

use crate::bpf::EdgeKind;
use std::fmt;

/// Index of a section (and of its single block) in a [`LinkGraph`].
pub type SectionId = usize;
/// Index of a symbol in a [`LinkGraph`].
pub type SymbolId = usize;

/// What a section holds, which decides where (and whether) it is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// BPF instructions: placed in the VM's code.
    Code,
    /// Read-only data (`.rodata*`): placed in the rodata region.
    ReadOnly,
    /// Initialised writable data (`.data*`).
    Data,
    /// Zero-initialised data (`.bss*`, and common symbols).
    ZeroFill,
    /// DWARF (`.debug_*`): kept for debuggers, not loaded.
    Debug,
    /// `.BTF` / `.BTF.ext`: kept, not loaded.
    Btf,
    /// Map definitions (`.maps`, legacy `maps`): read by the linker, which
    /// creates the maps in the kernel world; not loaded. Symbols in it
    /// stand for the maps' handles.
    Maps,
}

impl SectionKind {
    /// True if the section occupies VM memory or code.
    pub fn is_loaded(self) -> bool {
        matches!(
            self,
            SectionKind::Code | SectionKind::ReadOnly | SectionKind::Data | SectionKind::ZeroFill
        )
    }

    /// Short name for listings.
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Code => "code",
            SectionKind::ReadOnly => "rodata",
            SectionKind::Data => "data",
            SectionKind::ZeroFill => "zero-fill",
            SectionKind::Debug => "debug",
            SectionKind::Btf => "btf",
            SectionKind::Maps => "maps",
        }
    }
}

/// A section with its single block of content.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub kind: SectionKind,
    pub align: u64,
    /// Content; for zero-fill sections, `size` zero bytes.
    pub bytes: Vec<u8>,
    /// Relocations of this block.
    pub edges: Vec<Edge>,
    /// Address assigned by the allocate pass (VM address for loaded
    /// sections, 0 for debug/BTF sections which are section-relative).
    pub addr: Option<u64>,
}

impl Section {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// Symbol binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Visible only inside its object (`static`, section symbols).
    Local,
    /// Visible to every later object; two strong definitions clash.
    Global,
    /// Global, but yields to a strong definition.
    Weak,
}

/// What a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Function,
    Object,
    Section,
    Other,
}

/// Where a symbol's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Definition {
    /// At `offset` in the block of `section`.
    Defined { section: SectionId, offset: u64 },
    /// A fixed value (`SHN_ABS`, or `--abs name=value`).
    Absolute(u64),
    /// A tentative definition (`SHN_COMMON`): size and alignment, merged by name.
    Common { align: u64 },
    /// Must be found elsewhere (the session or the helper table).
    External,
}

/// A named (or section) symbol.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub name: String,
    pub scope: Scope,
    pub kind: SymbolKind,
    pub def: Definition,
    pub size: u64,
}

/// A relocation with an explicit addend: the bytes at `offset` in the
/// owning block refer to `target + addend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub kind: EdgeKind,
    pub offset: u64,
    pub target: SymbolId,
    pub addend: i64,
}

/// One object's sections, symbols and edges.
#[derive(Debug, Clone)]
pub struct LinkGraph {
    /// Name of the object (file name or REPL input) for messages.
    pub name: String,
    pub sections: Vec<Section>,
    pub symbols: Vec<Symbol>,
    /// The `.bpf_repl.abi` marker of objects built by bpf-cc in full mode.
    pub abi: Option<crate::abi::AbiMarker>,
    /// The handles the allocate pass gave this object's maps:
    /// (map-definition section, offset of the definition, handle).
    pub map_handles: Vec<(SectionId, u64, u64)>,
}

impl LinkGraph {
    /// The section a symbol is defined in, if any.
    pub fn section_of(&self, sym: SymbolId) -> Option<&Section> {
        match self.symbols[sym].def {
            Definition::Defined { section, .. } => self.sections.get(section),
            _ => None,
        }
    }

    /// Global and weak symbols this object defines (functions and data).
    pub fn exported(&self) -> impl Iterator<Item = (SymbolId, &Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| s.scope != Scope::Local && !matches!(s.def, Definition::External))
    }

    /// Names this object needs from elsewhere.
    pub fn externals(&self) -> impl Iterator<Item = (SymbolId, &Symbol)> {
        self.symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.def, Definition::External))
    }
}

impl fmt::Display for LinkGraph {
    /// A listing in the spirit of `llvm-jitlink -show-graph`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "link graph of {}", self.name)?;
        for (i, s) in self.sections.iter().enumerate() {
            let addr = match s.addr {
                Some(a) => format!("{a:#x}"),
                None => "unallocated".to_string(),
            };
            writeln!(
                f,
                "  section #{i} {} ({}), size {:#x}, align {}, at {addr}",
                s.name,
                s.kind.name(),
                s.size(),
                s.align
            )?;
            for (id, sym) in self.symbols.iter().enumerate() {
                if let Definition::Defined { section, offset } = sym.def {
                    if section == i && sym.kind != SymbolKind::Section {
                        writeln!(
                            f,
                            "    symbol {} +{offset:#x} size {:#x} {:?} {:?} (#{id})",
                            sym.name, sym.size, sym.scope, sym.kind
                        )?;
                    }
                }
            }
            for e in &s.edges {
                let t = &self.symbols[e.target];
                let start = (e.offset as usize).min(s.bytes.len());
                let end = (start + e.kind.width() as usize).min(s.bytes.len());
                let field: Vec<String> = s.bytes[start..end]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                writeln!(
                    f,
                    "    edge +{:#x} {} -> {}{:+#x}  [{}]",
                    e.offset,
                    e.kind.name(),
                    display_name(t),
                    e.addend,
                    field.join(" ")
                )?;
            }
        }
        let ext: Vec<_> = self.externals().map(|(_, s)| s.name.as_str()).collect();
        if !ext.is_empty() {
            writeln!(f, "  external symbols: {}", ext.join(", "))?;
        }
        Ok(())
    }
}

/// A symbol's name for listings (`<section .text>` for unnamed section symbols).
pub fn display_name(s: &Symbol) -> String {
    if s.name.is_empty() {
        "<anonymous>".to_string()
    } else {
        s.name.clone()
    }
}
