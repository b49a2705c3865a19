//! What names and symbols are worth once the unit is allocated: a symbol's
//! address, a name's canonical address (its stub when it has one) and its
//! body, and the session's new global symbols.

use super::allocate::Layout;
use super::tables::{Entry, Tables};
use super::{is_function, Binding, Resolution, UNDEFINED_FUNCTION_HELPER};
use crate::bpf::Resolved;
use crate::graph::*;
use crate::session::{GlobalSymbol, Session};
use bpf_vm::code_addr;

/// Where a symbol of this unit lives (a map symbol: the map's handle).
pub(super) fn symbol_body(
    graphs: &[LinkGraph],
    layout: &Layout,
    graph: usize,
    sym: SymbolId,
) -> u64 {
    if let Some(handle) = crate::kmaps::symbol_handle(&layout.maps, &graphs[graph], graph, sym, 0) {
        return handle.unwrap_or(0);
    }
    match graphs[graph].symbols[sym].def {
        Definition::Defined { section, offset } => layout.section_addr[graph][section] + offset,
        Definition::Absolute(v) => v,
        _ => 0,
    }
}

/// The address of an entry this unit made.
pub(super) fn entry_addr(layout: &Layout, e: &Entry) -> u64 {
    layout.section_addr[e.graph][e.section] + e.offset
}

/// The address a non-local name resolves to for references: its stub if
/// it has one, else its definition.
pub(super) fn canonical(
    graphs: &[LinkGraph],
    tables: &Tables,
    layout: &Layout,
    name: &str,
    b: &Binding,
) -> Resolved {
    match b {
        Binding::New { graph, sym } => {
            if let Some(e) = tables.stub(name) {
                return Resolved::Address(entry_addr(layout, e));
            }
            if let Some(slot) = tables.reused.get(name) {
                return Resolved::Address(code_addr(*slot));
            }
            Resolved::Address(symbol_body(graphs, layout, *graph, *sym))
        }
        Binding::NewCommon { .. } => Resolved::Address(layout.commons[name]),
        Binding::Existing(a) | Binding::Absolute(a) => Resolved::Address(*a),
        Binding::Helper(id) => Resolved::Helper(*id),
        Binding::Pending => Resolved::Address(
            tables
                .stub(name)
                .map(|e| entry_addr(layout, e))
                .expect("the table pass made a stub for every pending name"),
        ),
    }
}

/// What a stub of `name` branches to: the definition's code, or the trap
/// of a function not defined yet, or a runtime helper.
pub(super) fn body(
    session: &Session,
    graphs: &[LinkGraph],
    layout: &Layout,
    name: &str,
    b: &Binding,
) -> Resolved {
    match b {
        Binding::New { graph, sym } => Resolved::Address(symbol_body(graphs, layout, *graph, *sym)),
        Binding::Pending => Resolved::Helper(UNDEFINED_FUNCTION_HELPER),
        Binding::Helper(id) => Resolved::Helper(*id),
        Binding::Existing(a) => match session.globals.get(name) {
            Some(g) if g.is_pending() => Resolved::Helper(UNDEFINED_FUNCTION_HELPER),
            Some(g) => Resolved::Address(g.body),
            None => Resolved::Address(*a),
        },
        Binding::NewCommon { .. } => Resolved::Address(layout.commons[name]),
        Binding::Absolute(a) => Resolved::Address(*a),
    }
}

/// The address of helper `id`'s trampoline (this unit's or an earlier one's).
pub(super) fn trampoline_addr(
    session: &Session,
    tables: &Tables,
    layout: &Layout,
    id: u32,
) -> Option<u64> {
    match session.trampolines.get(&id) {
        Some(slot) => Some(code_addr(*slot)),
        None => tables.trampoline(id).map(|e| entry_addr(layout, e)),
    }
}

/// The global symbols this unit defines, as publish will record them.
pub(super) fn plan(
    session: &Session,
    graphs: &[LinkGraph],
    res: &Resolution,
    tables: &Tables,
    layout: &Layout,
) -> Vec<(String, GlobalSymbol)> {
    let first_object = session.objects.len();
    let mut out = Vec::new();
    for name in &res.defined {
        let b = &res.bindings[name];
        let (kind, body, size, object, weak, common) = match b {
            Binding::New { graph, sym } => {
                let g = &graphs[*graph];
                let s = &g.symbols[*sym];
                let kind = if is_function(g, s) {
                    SymbolKind::Function
                } else if s.kind == SymbolKind::Function {
                    SymbolKind::Other
                } else {
                    s.kind
                };
                (
                    kind,
                    symbol_body(graphs, layout, *graph, *sym),
                    s.size,
                    Some(first_object + graph),
                    s.scope == Scope::Weak,
                    false,
                )
            }
            Binding::NewCommon { size, .. } => {
                let gi = graphs
                    .iter()
                    .position(|g| g.exported().any(|(_, s)| &s.name == name))
                    .unwrap_or(0);
                (
                    SymbolKind::Object,
                    layout.commons[name],
                    *size,
                    Some(first_object + gi),
                    false,
                    true,
                )
            }
            Binding::Absolute(v) => (SymbolKind::Other, *v, 0, Some(first_object), false, false),
            Binding::Pending => {
                let e = tables.stub(name).expect("a stub for every pending name");
                // Weak: the first real definition replaces it and repoints the stub.
                (
                    SymbolKind::Function,
                    entry_addr(layout, e),
                    0,
                    None,
                    true,
                    false,
                )
            }
            Binding::Existing(_) | Binding::Helper(_) => continue,
        };
        let stub = tables
            .stub(name)
            .map(|e| slot_of(entry_addr(layout, e)))
            .or_else(|| tables.reused.get(name).copied());
        let addr = stub.map(code_addr).unwrap_or(body);
        out.push((
            name.clone(),
            GlobalSymbol {
                name: name.clone(),
                kind,
                addr,
                body,
                size,
                object,
                weak,
                common,
                stub,
            },
        ));
    }
    out
}

fn slot_of(addr: u64) -> usize {
    super::slot_of(addr)
}
