//! The fixed pass pipeline, in JITLink's order:
//!
//! build -> prune -> resolve -> tables -> tls -> allocate -> fixup -> verify -> publish
//!
//! Every pass before `publish` only reads the session; `publish` starts
//! with the steps that can still fail (loading the code into the VM,
//! rewriting published references, placing data) and undoes them if one
//! does, then makes infallible changes. A failed link therefore leaves the
//! session exactly as it was.
//!
//! What the linker generates (function stubs, helper trampolines) is graph
//! content made by the table managers (`tables.rs`), so listings show it
//! and the same fixup and verify passes handle it.

mod allocate;
mod bind;
mod fixup;
mod publish;
mod resolve;
mod tables;
mod tls;

use crate::bpf::EdgeKind;
use crate::elf::read_object;
use crate::error::LinkError;
use crate::graph::*;
use crate::session::*;
use crate::verify::UnitProofs;
use bpf_vm::isa::{self, INSN_SIZE, OP_CALL, OP_EXIT, OP_GOTOL};
use bpf_vm::{code_addr, RegionKind};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

pub(crate) use publish::undo_unit;
pub(crate) use tables::ENTRY_SIZE;

/// Runtime helper index of the trap every stub of a not-yet-defined
/// function calls (0, which [`Session::register_helper`] never hands out).
pub const UNDEFINED_FUNCTION_HELPER: u32 = 0;

/// Where a non-local name is bound after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Binding {
    /// Defined by symbol `sym` of graph `graph` in this unit.
    New { graph: usize, sym: SymbolId },
    /// A common symbol allocated by this unit.
    NewCommon { size: u64, align: u64 },
    /// An existing session definition (its canonical address).
    Existing(u64),
    /// A host helper.
    Helper(u32),
    /// An absolute value (SHN_ABS), or 0 for an unresolved weak reference.
    Absolute(u64),
    /// A function that is called but not defined yet (sessions with
    /// `allow_redefinition`): bound to a stub that traps until a later
    /// definition repoints it.
    Pending,
}

/// The result of the resolve pass.
struct Resolution {
    bindings: HashMap<String, Binding>,
    /// Names this unit (re)defines, in first-definition order.
    defined: Vec<String>,
}

pub(crate) fn link_unit(session: &mut Session, inputs: &[(&str, &[u8])]) -> Result<(), LinkError> {
    let mut times = LinkTimes::default();
    let mut t = Instant::now();
    let mut lap = |name: &'static str, times: &mut LinkTimes| {
        times.passes.push((name, t.elapsed()));
        t = Instant::now();
    };

    let mut graphs = build(session, inputs)?;
    lap("build", &mut times);
    prune(&mut graphs);
    lap("prune", &mut times);
    let resolution = resolve::resolve(session, &graphs)?;
    crate::abi::check(session, &graphs)?;
    lap("resolve", &mut times);
    let tables = tables::build(session, &mut graphs, &resolution);
    tls::lower(session, &mut graphs, &resolution)?;
    lap("tables", &mut times);
    let layout = allocate::allocate(session, &graphs, &resolution)?;
    for m in &layout.maps {
        graphs[m.graph]
            .map_handles
            .push((m.def.section, m.def.offset, m.handle));
    }
    lap("allocate", &mut times);
    let unfixed = session.options.keep_unfixed_graphs.then(|| graphs.clone());
    let bound = bind::plan(session, &graphs, &resolution, &tables, &layout);
    let patches = fixup::fixup(session, &mut graphs, &resolution, &tables, &layout, &bound)?;
    lap("fixup", &mut times);
    let proofs = verify(session, &graphs, &tables, &patches)?;
    lap("verify", &mut times);
    let unit = publish::Unit {
        graphs,
        unfixed,
        tables,
        layout,
        bound,
        patches,
    };
    publish::publish(session, unit, &resolution.bindings)?;
    if let Some((source, slots)) = proofs {
        session.vm.set_access_proofs(source, &slots);
    }
    lap("publish", &mut times);
    session.last_times = times;
    Ok(())
}

/// Pass 1: ELF -> graphs.
fn build(session: &Session, inputs: &[(&str, &[u8])]) -> Result<Vec<LinkGraph>, LinkError> {
    inputs
        .iter()
        .map(|(name, bytes)| {
            let mut g = read_object(name, bytes)?;
            crate::calls::check_input_calls(&g)?;
            crate::co_re::relocate(&mut g, session.target_btf.as_deref())?;
            Ok(g)
        })
        .collect()
}

/// Pass 2: drop what has no effect (R_BPF_NONE edges).
fn prune(graphs: &mut [LinkGraph]) {
    for g in graphs {
        for s in &mut g.sections {
            s.edges.retain(|e| e.kind != EdgeKind::None);
        }
    }
}

/// True for symbols that name code: defined in a code section (section symbols excluded).
fn is_function(g: &LinkGraph, sym: &Symbol) -> bool {
    sym.kind != SymbolKind::Section
        && matches!(sym.def, Definition::Defined { section, .. }
            if g.sections.get(section).is_some_and(|s| s.kind == SectionKind::Code))
}

/// The function symbol of `g` covering byte `offset` of section `si`.
pub(crate) fn function_containing(g: &LinkGraph, si: usize, offset: u64) -> Option<String> {
    g.symbols
        .iter()
        .filter(|s| s.kind == SymbolKind::Function)
        .filter_map(|s| match s.def {
            Definition::Defined { section, offset: o } if section == si && o <= offset => {
                Some((o, s))
            }
            _ => None,
        })
        .filter(|(o, s)| offset < o + s.size.max(1) || s.size == 0)
        .max_by_key(|(o, _)| *o)
        .map(|(_, s)| s.name.clone())
}

fn slot_of(addr: u64) -> usize {
    ((addr - RegionKind::Code.base()) / INSN_SIZE as u64) as usize
}

/// Pass 8: every code section must be valid VM code, and every stub
/// entry (new, or repointed by this unit) a branch to a function or a
/// call of a runtime helper; then the hooks; then (when the session
/// proves accesses) the accesses proven in bounds.
fn verify(
    session: &Session,
    graphs: &[LinkGraph],
    tables: &tables::Tables,
    patches: &[Patch],
) -> Result<UnitProofs, LinkError> {
    let starts = function_starts(session, graphs);
    for g in graphs {
        for (si, s) in g.sections.iter().enumerate() {
            if s.kind != SectionKind::Code {
                continue;
            }
            let code = isa::decode(&s.bytes).expect("code size checked when read");
            if let Err(error) = bpf_vm::validate(&code, false) {
                return Err(LinkError::InvalidCode {
                    object: g.name.clone(),
                    section: s.name.clone(),
                    function: function_containing(g, si, (error.index * INSN_SIZE) as u64),
                    error,
                });
            }
        }
    }
    for e in &tables.entries {
        let g = &graphs[e.graph];
        let s = &g.sections[e.section];
        let at = e.offset as usize;
        let addr = s.addr.unwrap_or(0) + e.offset;
        check_entry(session, &s.bytes[at..at + 16], addr, &starts).map_err(|message| {
            LinkError::Verify {
                object: g.name.clone(),
                message: format!(
                    "{} ({}+{:#x}): {message}",
                    e.symbol_name(g),
                    s.name,
                    e.offset
                ),
            }
        })?;
    }
    for p in patches {
        let obj = &session.objects[p.object];
        let s = &obj.graph.sections[p.section];
        if s.kind != SectionKind::Stubs {
            continue;
        }
        let mut entry = s.bytes[p.offset as usize..p.offset as usize + 16].to_vec();
        entry[..8].copy_from_slice(&p.new);
        let addr = s.addr.unwrap_or(0) + p.offset;
        check_entry(session, &entry, addr, &starts).map_err(|message| LinkError::Verify {
            object: obj.name.clone(),
            message: format!("repointed stub at {}+{:#x}: {message}", s.name, p.offset),
        })?;
    }
    for g in graphs {
        crate::calls::check_kernel_helpers(g, &session.vm)?;
        crate::stack::check(g, session.vm.config().frame_size)?;
        for hook in &session.verifiers {
            hook(g, &session.vm).map_err(|message| LinkError::Verify {
                object: g.name.clone(),
                message,
            })?;
        }
    }
    Ok(if session.prove_accesses {
        crate::verify::prove_unit(graphs, &session.vm)
    } else {
        None
    })
}

/// Code slots where a function of the session or of this unit starts.
fn function_starts(session: &Session, graphs: &[LinkGraph]) -> HashSet<usize> {
    let mut out: HashSet<usize> = session
        .globals
        .values()
        .filter(|g| g.kind == SymbolKind::Function)
        .filter_map(|g| session.vm.code_index(g.body))
        .collect();
    for g in graphs {
        for sym in &g.symbols {
            if !is_function(g, sym) {
                continue;
            }
            if let Definition::Defined { section, offset } = sym.def {
                if let Some(a) = g.sections[section].addr {
                    out.insert(slot_of(a + offset));
                }
            }
        }
    }
    out
}

/// An entry is `gotol <function>; exit` or `call <runtime helper>; exit`.
fn check_entry(
    session: &Session,
    bytes: &[u8],
    addr: u64,
    starts: &HashSet<usize>,
) -> Result<(), String> {
    let code = isa::decode(bytes).map_err(|_| "a partial entry".to_string())?;
    if code.len() != 2 || code[1].op != OP_EXIT {
        return Err("an entry is a branch and an `exit`".to_string());
    }
    let first = code[0];
    let slot = slot_of(addr);
    match first.op {
        OP_GOTOL => {
            let to = slot as i64 + 1 + first.imm as i64;
            if to < 0 || !starts.contains(&(to as usize)) {
                return Err(format!(
                    "it branches to {:#x}, which does not start a function",
                    code_addr(to.max(0) as usize)
                ));
            }
        }
        OP_CALL if first.src == isa::CALL_RUNTIME => {
            let id = first.imm as u32;
            if session.vm.runtime_helper_name(id).is_none() {
                return Err(format!(
                    "it calls runtime helper #{id}, which is not registered"
                ));
            }
        }
        op => {
            return Err(format!(
                "its first instruction (opcode {op:#04x}) is not a branch"
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::isa::asm;

    #[test]
    fn entries_must_branch_to_a_function_or_call_a_registered_helper() {
        let mut s = Session::new(bpf_vm::Vm::default(), SessionOptions::default());
        let code = [asm::mov64_imm(0, 1), asm::exit(), asm::exit(), asm::exit()];
        s.vm.load_code(&code).unwrap();
        let starts: HashSet<usize> = [0].into();
        let entry = |first: bpf_vm::Insn| isa::encode(&[first, asm::exit()]);
        let at = code_addr(2);
        let to_start = bpf_vm::Insn::new(OP_GOTOL, 0, 0, 0, -3);
        assert_eq!(check_entry(&s, &entry(to_start), at, &starts), Ok(()));
        let mid = bpf_vm::Insn::new(OP_GOTOL, 0, 0, 0, -2);
        let err = check_entry(&s, &entry(mid), at, &starts).unwrap_err();
        assert!(err.contains("does not start a function"), "{err}");
        let undefined = asm::call_runtime(UNDEFINED_FUNCTION_HELPER as i32);
        assert_eq!(check_entry(&s, &entry(undefined), at, &starts), Ok(()));
        let err = check_entry(&s, &entry(asm::call_runtime(77)), at, &starts).unwrap_err();
        assert!(err.contains("#77, which is not registered"), "{err}");
        let err = check_entry(&s, &entry(asm::mov64_imm(0, 0)), at, &starts).unwrap_err();
        assert!(err.contains("is not a branch"), "{err}");
        let no_exit = isa::encode(&[to_start, asm::mov64_imm(0, 0)]);
        assert!(check_entry(&s, &no_exit, at, &starts).is_err());
    }
}
