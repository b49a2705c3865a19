//! The resolve pass: which definition every non-local name binds to.
//! Resolution order: this unit, the session, host helpers; all missing
//! names in one error; strong/weak/common rules as in ELF.

use super::{Binding, Resolution};
use crate::bpf::EdgeKind;
use crate::error::LinkError;
use crate::graph::*;
use crate::session::Session;
use std::collections::{HashMap, HashSet};

/// Pass 3: binds every non-local name; report duplicates and all missing names.
pub(super) fn resolve(session: &Session, graphs: &[LinkGraph]) -> Result<Resolution, LinkError> {
    let mut bindings: HashMap<String, Binding> = HashMap::new();
    let mut defined = Vec::new();
    // Strength of a definition made by this unit: 2 strong, 1 weak, 0 common.
    let mut strength: HashMap<String, (u8, usize)> = HashMap::new();

    for (gi, g) in graphs.iter().enumerate() {
        for (sid, sym) in g.exported() {
            let name = &sym.name;
            let new_strength = match (sym.def, sym.scope) {
                (Definition::Common { .. }, _) => 0,
                (_, Scope::Weak) => 1,
                _ => 2,
            };
            let new_binding = match sym.def {
                Definition::Common { align } => Binding::NewCommon {
                    size: sym.size,
                    align,
                },
                Definition::Absolute(v) => Binding::Absolute(v),
                _ => Binding::New {
                    graph: gi,
                    sym: sid,
                },
            };
            match strength.get(name).copied() {
                Some((2, other)) if new_strength == 2 => {
                    return Err(LinkError::Duplicate {
                        name: name.clone(),
                        first: graphs[other].name.clone(),
                        second: g.name.clone(),
                    });
                }
                Some((old, _)) if old > new_strength => continue,
                Some((0, _)) if new_strength == 0 => {
                    // Two tentative definitions: keep the larger.
                    if let (
                        Some(Binding::NewCommon { size, align }),
                        Binding::NewCommon {
                            size: s2,
                            align: a2,
                        },
                    ) = (bindings.get(name).cloned(), &new_binding)
                    {
                        bindings.insert(
                            name.clone(),
                            Binding::NewCommon {
                                size: size.max(*s2),
                                align: align.max(*a2),
                            },
                        );
                    }
                    continue;
                }
                _ => {}
            }
            if !strength.contains_key(name) {
                defined.push(name.clone());
            }
            strength.insert(name.clone(), (new_strength, gi));
            bindings.insert(name.clone(), new_binding);
        }
    }

    // Against the session: strong replaces (if allowed), weak and common yield.
    let mut kept_existing = Vec::new();
    for name in &defined {
        let Some(old) = session.globals.get(name) else {
            continue;
        };
        let (s, gi) = strength[name];
        let old_yields = old.weak || old.common;
        if old.is_pending() {
            // Any definition replaces a called-but-undefined function.
        } else if s == 2 && !old_yields {
            if !session.options.allow_redefinition {
                return Err(LinkError::Duplicate {
                    name: name.clone(),
                    first: session.defined_by(old),
                    second: graphs[gi].name.clone(),
                });
            }
        } else if s < 2 {
            // A weak or tentative definition of a name that exists binds to
            // it, unless it is a tentative one that would not fit there.
            if let Some(Binding::NewCommon { size, .. }) = bindings.get(name) {
                if *size > old.size {
                    if session.options.allow_redefinition {
                        continue; // a new, larger variable replaces the old
                    }
                    return Err(LinkError::CommonTooLarge {
                        name: name.clone(),
                        size: *size,
                        existing_size: old.size,
                        existing: session.defined_by(old),
                        object: graphs[gi].name.clone(),
                    });
                }
            }
            bindings.insert(name.clone(), Binding::Existing(old.addr));
            kept_existing.push(name.clone());
        }
    }
    defined.retain(|n| !kept_existing.contains(n));

    // Externals: this unit, then the session, then helpers.
    let mut missing = Vec::new();
    let mut seen = HashSet::new();
    for g in graphs {
        for (_, sym) in g.externals() {
            if sym.name.is_empty() || bindings.contains_key(&sym.name) {
                continue;
            }
            let b = if let Some(old) = session.globals.get(&sym.name) {
                Binding::Existing(old.addr)
            } else if let Some(id) = session.helpers.get(&sym.name) {
                Binding::Helper(*id)
            } else if sym.scope == Scope::Weak {
                // A weak `__kconfig` extern would read as 0, as on a kernel
                // without that option: refused instead, since bpf-repl has
                // no kernel configuration. (Weak `__ksym`s are 0 as libbpf
                // makes them when the kernel lacks the symbol.)
                if let Some(e) = crate::externs::explain_kconfig(graphs, &sym.name) {
                    return Err(e);
                }
                Binding::Absolute(0)
            } else if session.options.allow_redefinition && is_called(graphs, &sym.name) {
                defined.push(sym.name.clone());
                Binding::Pending
            } else {
                if seen.insert(sym.name.clone()) {
                    missing.push(sym.name.clone());
                }
                continue;
            };
            bindings.insert(sym.name.clone(), b);
        }
    }
    if !missing.is_empty() {
        if let Some(e) = crate::externs::explain(graphs, &missing) {
            return Err(e);
        }
        return Err(LinkError::Unresolved { names: missing });
    }
    Ok(Resolution { bindings, defined })
}

/// True if some code of this unit calls `name` directly.
fn is_called(graphs: &[LinkGraph], name: &str) -> bool {
    graphs.iter().any(|g| {
        g.sections.iter().any(|s| {
            s.edges
                .iter()
                .any(|e| e.kind == EdgeKind::Call32 && g.symbols[e.target].name == name)
        })
    })
}
