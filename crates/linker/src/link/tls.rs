//! The TLS pass: a reference to a thread-local variable is its offset from
//! the thread pointer, not an address (as ELF's TPOFF relocations, and
//! JITLink's TLS edges, resolve to offsets). An `ld_imm64` of such a
//! variable in code becomes a [`EdgeKind::TpOff64`] edge; the code adds
//! the running thread's pointer (docs/abi.md). The offsets are link-time
//! constants (ELF's local-exec model), so no table entries are needed: the
//! per-thread part is the thread pointer.
//!
//! A data word cannot hold a thread-local address (it differs per thread),
//! so such a relocation is an error; debug sections keep addresses: there a
//! thread-local variable is its main thread's instance. A name declared
//! thread-local in one object and not in another is refused, naming both.

use super::{Binding, Resolution};
use crate::bpf::EdgeKind;
use crate::error::LinkError;
use crate::graph::*;
use crate::session::Session;
use bpf_vm::RegionKind;

pub(super) fn lower(
    session: &Session,
    graphs: &mut [LinkGraph],
    res: &Resolution,
) -> Result<(), LinkError> {
    for gi in 0..graphs.len() {
        for si in 0..graphs[gi].sections.len() {
            let kind = graphs[gi].sections[si].kind;
            if !kind.is_loaded() || kind == SectionKind::Stubs {
                continue;
            }
            for ei in 0..graphs[gi].sections[si].edges.len() {
                let g = &graphs[gi];
                let e = g.sections[si].edges[ei];
                let sym = &g.symbols[e.target];
                let global = sym.scope != Scope::Local && !sym.name.is_empty();
                let (def_tls, definer) = if global {
                    definition(session, graphs, res, &sym.name)
                } else {
                    (sym.tls, g.name.clone())
                };
                if global && sym.tls != def_tls {
                    let (tls, plain) = if sym.tls {
                        (g.name.clone(), definer)
                    } else {
                        (definer, g.name.clone())
                    };
                    return Err(LinkError::TlsMismatch {
                        name: sym.name.clone(),
                        tls,
                        plain,
                    });
                }
                if !def_tls {
                    continue;
                }
                if kind.is_code() && e.kind == EdgeKind::LdImm64 {
                    graphs[gi].sections[si].edges[ei].kind = EdgeKind::TpOff64;
                    continue;
                }
                let s = &g.sections[si];
                let reason = if kind.is_code() {
                    format!(
                        "{} against thread-local `{}`: only an ld_imm64 can take its offset",
                        e.kind.name(),
                        display_name(sym)
                    )
                } else {
                    format!(
                        "{} against thread-local `{}`: its address differs from thread to \
                         thread, so it is not a constant a data word can hold; take it at run \
                         time",
                        e.kind.name(),
                        display_name(sym)
                    )
                };
                return Err(LinkError::Relocation {
                    object: g.name.clone(),
                    section: s.name.clone(),
                    offset: e.offset,
                    reason,
                });
            }
        }
    }
    Ok(())
}

/// Whether the definition `name` binds to is thread-local, and who made it.
fn definition(
    session: &Session,
    graphs: &[LinkGraph],
    res: &Resolution,
    name: &str,
) -> (bool, String) {
    match res.bindings.get(name) {
        Some(Binding::New { graph, sym }) => (
            graphs[*graph].symbols[*sym].tls,
            graphs[*graph].name.clone(),
        ),
        Some(Binding::Existing(addr)) => {
            let by = session
                .globals
                .get(name)
                .map(|g| session.defined_by(g))
                .unwrap_or_default();
            (RegionKind::of(*addr) == Some(RegionKind::Tls), by)
        }
        Some(Binding::Helper(_)) => (false, "the runtime".to_string()),
        _ => {
            let by = graphs
                .iter()
                .find(|g| g.exported().any(|(_, s)| s.name == name))
                .map_or("the command line".to_string(), |g| g.name.clone());
            (false, by)
        }
    }
}
