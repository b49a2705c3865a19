//! The table managers (JITLink's `TableManager`, as its PLT and GOT
//! managers): entries the linker generates for a unit, added to its graphs
//! as content. Each entry is 16 bytes of a generated section — a branch
//! slot and an `exit` — with a local symbol (`f@stub`, `printf@trampoline`)
//! and one [`EdgeKind::StubBranch`] edge to what it stands for, so listings
//! show it, `apply_fixup` fixes it up and the verify pass checks it like
//! the object's own code.
//!
//! - **Stubs** (`$__STUBS`): in a session that allows redefinition, every
//!   global function gets one in the graph that defines it; its address is
//!   the function's canonical address and its edge goes to the body
//!   (`gotol body`). A name that is called but defined nowhere yet gets
//!   one in the first graph that calls it; its edge resolves to the
//!   undefined-function trap (`call <undefined function>`). A later
//!   definition fixes the same edge up again against the new body.
//! - **Trampolines** (`$__TRAMPOLINES`): a runtime helper whose address is
//!   taken gets `call index; exit`, so the pointer is a real code address.
//!
//! Entries are per session, as `TableManager::registerPreExistingEntry`
//! makes them per graph: a name keeps the stub an earlier unit made, a
//! helper its trampoline. And as `visitEdge` does, the edges of the graph
//! that holds an entry are redirected to the entry's symbol; other graphs
//! reach it through the name's binding.

use super::{is_function, Binding, Resolution, UNDEFINED_FUNCTION_HELPER};
use crate::bpf::EdgeKind;
use crate::graph::*;
use crate::session::Session;
use bpf_vm::isa::{asm, encode};
use std::collections::HashMap;

/// Section of function stubs.
pub(crate) const STUBS_SECTION: &str = "$__STUBS";
/// Section of helper trampolines.
pub(crate) const TRAMPOLINES_SECTION: &str = "$__TRAMPOLINES";
/// Bytes of one entry: the branch slot and an `exit`.
pub(crate) const ENTRY_SIZE: u64 = 16;

/// What an entry is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A function's stub (also a not-yet-defined function's).
    Stub,
    /// A runtime helper's trampoline (its index).
    Trampoline(u32),
}

/// One generated entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub graph: usize,
    pub section: SectionId,
    pub offset: u64,
    /// The entry's own symbol.
    pub symbol: SymbolId,
    /// The name it stands for.
    pub name: String,
    pub kind: EntryKind,
}

impl Entry {
    /// The entry symbol's name, for messages.
    pub fn symbol_name<'g>(&self, g: &'g LinkGraph) -> &'g str {
        &g.symbols[self.symbol].name
    }
}

/// The entries of one unit.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub entries: Vec<Entry>,
    /// Functions this unit redefines that keep an earlier unit's stub: code slot.
    pub reused: HashMap<String, usize>,
}

impl Tables {
    /// The new stub of `name`, if this unit made one.
    pub fn stub(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.kind == EntryKind::Stub && e.name == name)
    }

    /// The new trampoline of helper `id`, if this unit made one.
    pub fn trampoline(&self, id: u32) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.kind == EntryKind::Trampoline(id))
    }

    /// Adds an entry for `name` to graph `gi` (in section `section_name`,
    /// made on first use) with an edge to symbol `target`.
    fn add(
        &mut self,
        graphs: &mut [LinkGraph],
        gi: usize,
        section_name: &str,
        target: SymbolId,
        name: &str,
        kind: EntryKind,
    ) {
        let g = &mut graphs[gi];
        let section = match g.sections.iter().position(|s| s.name == section_name) {
            Some(s) => s,
            None => {
                g.sections.push(Section {
                    name: section_name.to_string(),
                    kind: SectionKind::Stubs,
                    align: 8,
                    bytes: Vec::new(),
                    edges: Vec::new(),
                    addr: None,
                });
                g.sections.len() - 1
            }
        };
        let s = &mut g.sections[section];
        let offset = s.bytes.len() as u64;
        // Until fixed up, an entry traps like a function not defined yet.
        s.bytes.extend(encode(&[
            asm::call_runtime(UNDEFINED_FUNCTION_HELPER as i32),
            asm::exit(),
        ]));
        s.edges.push(Edge {
            kind: EdgeKind::StubBranch,
            offset,
            target,
            addend: 0,
        });
        let suffix = match kind {
            EntryKind::Stub => "stub",
            EntryKind::Trampoline(_) => "trampoline",
        };
        g.symbols.push(Symbol {
            name: format!("{name}@{suffix}"),
            scope: Scope::Local,
            kind: SymbolKind::Other,
            def: Definition::Defined { section, offset },
            size: ENTRY_SIZE,
            tls: false,
        });
        self.entries.push(Entry {
            graph: gi,
            section,
            offset,
            symbol: g.symbols.len() - 1,
            name: name.to_string(),
            kind,
        });
    }
}

/// The table pass: makes the entries this unit needs and redirects the
/// edges of the graphs that hold them.
pub(super) fn build(session: &Session, graphs: &mut [LinkGraph], res: &Resolution) -> Tables {
    let mut t = Tables::default();
    if session.options.allow_redefinition {
        for name in &res.defined {
            let Some(Binding::New { graph, sym }) = res.bindings.get(name) else {
                continue;
            };
            if !is_function(&graphs[*graph], &graphs[*graph].symbols[*sym]) {
                continue;
            }
            match session.globals.get(name).and_then(|old| old.stub) {
                Some(slot) => {
                    t.reused.insert(name.clone(), slot);
                }
                None => t.add(graphs, *graph, STUBS_SECTION, *sym, name, EntryKind::Stub),
            }
        }
    }
    for name in &res.defined {
        if res.bindings.get(name) != Some(&Binding::Pending) {
            continue;
        }
        if let Some((gi, sym)) = first_caller(graphs, name) {
            t.add(graphs, gi, STUBS_SECTION, sym, name, EntryKind::Stub);
        }
    }
    for gi in 0..graphs.len() {
        for si in 0..graphs[gi].sections.len() {
            for ei in 0..graphs[gi].sections[si].edges.len() {
                let e = graphs[gi].sections[si].edges[ei];
                let sym = &graphs[gi].symbols[e.target];
                if e.kind == EdgeKind::Call32 || sym.scope == Scope::Local {
                    continue;
                }
                let Some(Binding::Helper(id)) = res.bindings.get(&sym.name) else {
                    continue;
                };
                if session.trampolines.contains_key(id) || t.trampoline(*id).is_some() {
                    continue;
                }
                let name = sym.name.clone();
                t.add(
                    graphs,
                    gi,
                    TRAMPOLINES_SECTION,
                    e.target,
                    &name,
                    EntryKind::Trampoline(*id),
                );
            }
        }
    }
    redirect(graphs, &t);
    t
}

/// The graph and external symbol of the first direct call to `name`.
fn first_caller(graphs: &[LinkGraph], name: &str) -> Option<(usize, SymbolId)> {
    graphs.iter().enumerate().find_map(|(gi, g)| {
        g.sections
            .iter()
            .flat_map(|s| &s.edges)
            .find(|e| e.kind == EdgeKind::Call32 && g.symbols[e.target].name == name)
            .map(|e| (gi, e.target))
    })
}

/// Points the edges of each entry's graph that refer to its name at the
/// entry (calls too for stubs; never calls for trampolines, which reach
/// helpers directly). Debug, BTF and map sections keep their targets.
fn redirect(graphs: &mut [LinkGraph], t: &Tables) {
    for entry in &t.entries {
        let g = &mut graphs[entry.graph];
        let names_it: Vec<bool> = g
            .symbols
            .iter()
            .map(|s| s.scope != Scope::Local && s.name == entry.name)
            .collect();
        for s in &mut g.sections {
            if !s.kind.is_loaded() || s.kind == SectionKind::Stubs {
                continue;
            }
            for e in &mut s.edges {
                let is_call = e.kind == EdgeKind::Call32;
                let redirectable = match entry.kind {
                    EntryKind::Stub => true,
                    EntryKind::Trampoline(_) => !is_call,
                };
                if redirectable && e.addend == 0 && names_it[e.target] {
                    e.target = entry.symbol;
                }
            }
        }
    }
}
