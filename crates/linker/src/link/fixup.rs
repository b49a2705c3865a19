//! The fixup pass: every edge of the unit — the objects' relocations and
//! the entries the table managers made — goes through the one
//! [`apply_fixup`]; so does every published edge to a name this unit
//! redefines (a stub repointed at a new body, a reference rebound to a
//! variable's new storage), computed here as patches that publish applies
//! and undo reverts. An edge that cannot be applied is a link error naming
//! its object, section and offset; nothing has changed yet.

use super::allocate::Layout;
use super::bind::{body, canonical, symbol_body, trampoline_addr};
use super::tables::Tables;
use super::{slot_of, Resolution, UNDEFINED_FUNCTION_HELPER};
use crate::bpf::{apply_fixup, EdgeKind, FixupError, Resolved};
use crate::error::LinkError;
use crate::graph::*;
use crate::session::{GlobalSymbol, Patch, RefTo, Session};
use bpf_vm::RegionKind;

/// Pass 6: applies every edge of the unit; returns the patches of
/// published objects.
pub(super) fn fixup(
    session: &Session,
    graphs: &mut [LinkGraph],
    res: &Resolution,
    tables: &Tables,
    layout: &Layout,
    bound: &[(String, GlobalSymbol)],
) -> Result<Vec<Patch>, LinkError> {
    for gi in 0..graphs.len() {
        for si in 0..graphs[gi].sections.len() {
            let base = layout.section_addr[gi][si];
            graphs[gi].sections[si].addr = Some(base);
            if graphs[gi].sections[si].kind == SectionKind::Maps {
                // Map definitions are read, not loaded: their edges (programs
                // of a program array) are used when the maps are created.
                continue;
            }
            for ei in 0..graphs[gi].sections[si].edges.len() {
                let g = &graphs[gi];
                let mut e = g.sections[si].edges[ei];
                let target = resolve_edge(session, graphs, res, tables, layout, gi, si, &mut e)?;
                let place = base.wrapping_add(e.offset);
                let bytes = &mut graphs[gi].sections[si].bytes;
                if let Err(err) = apply_fixup(e.kind, bytes, e.offset, place, target, e.addend) {
                    let g = &graphs[gi];
                    return Err(describe(
                        &g.name,
                        &g.sections[si].name,
                        &e,
                        &display_name(&g.symbols[e.target]),
                        err,
                    ));
                }
            }
        }
    }
    refix(session, graphs, bound)
}

/// What the target of edge `e` (of section `si` of graph `gi`) resolves to.
#[allow(clippy::too_many_arguments)]
fn resolve_edge(
    session: &Session,
    graphs: &[LinkGraph],
    res: &Resolution,
    tables: &Tables,
    layout: &Layout,
    gi: usize,
    si: usize,
    e: &mut Edge,
) -> Result<Resolved, LinkError> {
    let g = &graphs[gi];
    let s = &g.sections[si];
    let sym = &g.symbols[e.target];
    // A reference to a map is its handle, whatever the addend (legacy
    // code names maps as `maps` + offset).
    let map = (s.kind != SectionKind::Btf)
        .then(|| crate::kmaps::symbol_handle(&layout.maps, g, gi, e.target, e.addend))
        .flatten();
    if let Some(handle) = map {
        e.addend = 0;
        return handle
            .map(Resolved::Address)
            .ok_or_else(|| LinkError::Relocation {
                object: g.name.clone(),
                section: s.name.clone(),
                offset: e.offset,
                reason: format!("`{}` does not name a map", display_name(sym)),
            });
    }
    if s.kind == SectionKind::Btf {
        // BTF describes sections, not the VM: it keeps section-relative offsets.
        return Ok(Resolved::Address(match sym.def {
            Definition::Defined { offset, .. } => offset,
            _ => 0,
        }));
    }
    let target = if sym.scope == Scope::Local || sym.name.is_empty() {
        Resolved::Address(symbol_body(graphs, layout, gi, e.target))
    } else {
        let b = res
            .bindings
            .get(&sym.name)
            .expect("resolve binds every non-local name");
        if e.kind == EdgeKind::StubBranch {
            body(session, graphs, layout, &sym.name, b)
        } else {
            canonical(graphs, tables, layout, &sym.name, b)
        }
    };
    Ok(match target {
        Resolved::Helper(id) if !matches!(e.kind, EdgeKind::Call32 | EdgeKind::StubBranch) => {
            Resolved::Address(
                trampoline_addr(session, tables, layout, id)
                    .expect("the table pass made a trampoline for every helper address taken"),
            )
        }
        t => t,
    })
}

fn describe(object: &str, section: &str, e: &Edge, target: &str, err: FixupError) -> LinkError {
    LinkError::Relocation {
        object: object.to_string(),
        section: section.to_string(),
        offset: e.offset,
        reason: format!("{} against `{target}`: {err}", e.kind.name()),
    }
}

/// The published edges to names this unit redefines, fixed up against the
/// new definitions: the patches whose bytes change.
fn refix(
    session: &Session,
    graphs: &[LinkGraph],
    bound: &[(String, GlobalSymbol)],
) -> Result<Vec<Patch>, LinkError> {
    let mut patches = Vec::new();
    for (name, new) in bound {
        if !session.globals.contains_key(name) {
            continue;
        }
        let Some(refs) = session.references.get(name) else {
            continue;
        };
        let definer = || {
            let first = session.objects.len();
            new.object
                .and_then(|i| graphs.get(i.wrapping_sub(first)))
                .map_or("the command line".to_string(), |g| g.name.clone())
        };
        for r in refs {
            let obj = &session.objects[r.object];
            let s = &obj.graph.sections[r.section];
            let e = s.edges[r.edge];
            let place = s.addr.unwrap_or(0) + e.offset;
            let target = match r.to {
                RefTo::Canonical => {
                    let tls = RegionKind::of(new.addr) == Some(RegionKind::Tls);
                    if tls != (e.kind == EdgeKind::TpOff64) {
                        let (t, plain) = if tls {
                            (definer(), obj.name.clone())
                        } else {
                            (obj.name.clone(), definer())
                        };
                        return Err(LinkError::TlsMismatch {
                            name: name.clone(),
                            tls: t,
                            plain,
                        });
                    }
                    Resolved::Address(new.addr)
                }
                // A stub follows its name while the definition uses it.
                RefTo::Body if new.stub != Some(slot_of(place)) => continue,
                RefTo::Body if new.is_pending() => Resolved::Helper(UNDEFINED_FUNCTION_HELPER),
                RefTo::Body => Resolved::Address(new.body),
            };
            let at = e.offset as usize;
            let old = s.bytes[at..at + e.kind.width() as usize].to_vec();
            let mut field = old.clone();
            apply_fixup(e.kind, &mut field, 0, place, target, e.addend)
                .map_err(|err| describe(&obj.name, &s.name, &e, name, err))?;
            if field != old {
                patches.push(Patch {
                    object: r.object,
                    section: r.section,
                    offset: e.offset,
                    old,
                    new: field,
                });
            }
        }
    }
    Ok(patches)
}
