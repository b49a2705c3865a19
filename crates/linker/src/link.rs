//! The fixed pass pipeline, in JITLink's order:
//!
//! build -> prune -> resolve -> allocate -> fixup -> verify -> publish
//!
//! Every pass before `publish` only reads the session; `publish` starts
//! with the one step that can still fail (loading the code into the VM)
//! and then makes infallible changes. A failed link therefore leaves the
//! session exactly as it was.

use crate::bpf::{apply_fixup, EdgeKind, Resolved};
use crate::elf::read_object;
use crate::error::LinkError;
use crate::graph::*;
use crate::session::*;
use crate::verify::UnitProofs;
use bpf_vm::isa::{self, Insn, INSN_SIZE, OP_GOTOL};
use bpf_vm::memory::MAX_REGION_SIZE;
use bpf_vm::{code_addr, RegionKind};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

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

/// Addresses chosen by the allocate pass.
struct Layout {
    code_start: usize,
    /// Per graph, per section: address (VM address; 0 for non-loaded).
    section_addr: Vec<Vec<u64>>,
    /// Common symbols: name -> address.
    commons: HashMap<String, u64>,
    /// New stubs: name -> slot.
    new_stubs: Vec<(String, usize)>,
    /// Existing stubs to repoint: name -> slot.
    reused_stubs: HashMap<String, usize>,
    /// New helper trampolines: id -> slot.
    new_trampolines: Vec<(u32, usize)>,
    /// Stubs of called-but-undefined functions: name -> slot (two slots each).
    pending_stubs: Vec<(String, usize)>,
    /// Data placement in order: (graph, section, region, address).
    /// Sections placed in data regions: graph, section, region, address,
    /// and the memcheck red zone after it (bytes; 0 without memcheck).
    placements: Vec<(usize, usize, RegionKind, u64, u64)>,
    /// Common symbols placed: name, size, alignment, red zone.
    common_order: Vec<(String, u64, u64, u64)>,
    code_len: usize,
    /// Maps to create, with their handles.
    maps: Vec<crate::kmaps::PlannedMap>,
}

impl Layout {
    /// The stub slot allocated for a called-but-undefined function.
    fn pending_slot(&self, name: &str) -> usize {
        self.pending_stubs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
            .expect("allocate made a stub for every pending name")
    }
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
    let resolution = resolve(session, &graphs)?;
    crate::abi::check(session, &graphs)?;
    lap("resolve", &mut times);
    let layout = allocate(session, &graphs, &resolution)?;
    for m in &layout.maps {
        graphs[m.graph]
            .map_handles
            .push((m.def.section, m.def.offset, m.handle));
    }
    lap("allocate", &mut times);
    let unfixed = session.options.keep_unfixed_graphs.then(|| graphs.clone());
    fixup(session, &mut graphs, &resolution, &layout)?;
    lap("fixup", &mut times);
    let proofs = verify(session, &graphs)?;
    lap("verify", &mut times);
    publish(session, graphs, unfixed, resolution, layout)?;
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
        && matches!(g.section_of_def(sym), Some(s) if s.kind == SectionKind::Code)
}

trait SectionOfDef {
    fn section_of_def(&self, sym: &Symbol) -> Option<&Section>;
}

impl SectionOfDef for LinkGraph {
    fn section_of_def(&self, sym: &Symbol) -> Option<&Section> {
        match sym.def {
            Definition::Defined { section, .. } => self.sections.get(section),
            _ => None,
        }
    }
}

/// Pass 3: bind every non-local name; report duplicates and all missing names.
fn resolve(session: &Session, graphs: &[LinkGraph]) -> Result<Resolution, LinkError> {
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
        let old_pending = old.weak && old.object.is_none() && old.stub.is_some();
        if old_pending {
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

fn region_of(kind: SectionKind) -> Option<RegionKind> {
    match kind {
        SectionKind::ReadOnly => Some(RegionKind::Rodata),
        SectionKind::Data | SectionKind::ZeroFill => Some(RegionKind::Data),
        _ => None,
    }
}

/// The alignment a global gets: its own, and under memcheck at least a
/// shadow granule (so its shadow bytes are its own).
fn global_align(align: u64, memcheck: bool) -> u64 {
    if memcheck {
        align.max(bpf_vm::memory::GRANULE as u64)
    } else {
        align.max(1)
    }
}

/// Memcheck's red zone after a global of `size` bytes ending at region
/// offset `end`: up to the next granule, then a quarter of its size
/// (at least 32 bytes, at most 1 KiB), as AddressSanitizer sizes them.
fn red_zone_after(end: u64, size: u64) -> u64 {
    let granule = bpf_vm::memory::GRANULE as u64;
    end.next_multiple_of(granule) - end + (size / 4).clamp(32, 1024).next_multiple_of(granule)
}

/// The alignment that makes `alloc` return `addr` where the allocate
/// pass put it (the largest power of two dividing its offset).
fn addr_align(addr: u64) -> usize {
    1 << addr.trailing_zeros().min(31)
}

/// Appends a red zone of `len` bytes at `at` and poisons it.
fn place_red_zone(mem: &mut bpf_vm::Memory, region: RegionKind, at: u64, len: u64) {
    if len == 0 {
        return;
    }
    let got = mem
        .alloc(region, len as usize, 1)
        .expect("allocate pass checked the size");
    debug_assert_eq!(got, at);
    mem.poison(at, len as usize, bpf_vm::memory::Poison::GlobalRedZone)
        .expect("just allocated");
}

/// Pass 4: choose addresses (without touching the session).
fn allocate(
    session: &Session,
    graphs: &[LinkGraph],
    res: &Resolution,
) -> Result<Layout, LinkError> {
    let code_start = session.vm.code().len();
    let mut next_slot = code_start;
    let mut cursors: HashMap<RegionKind, u64> = [RegionKind::Rodata, RegionKind::Data]
        .into_iter()
        .map(|k| (k, session.vm.mem.region_len(k) as u64))
        .collect();
    let mut section_addr = Vec::new();
    let mut placements = Vec::new();
    let memcheck = session.vm.mem.memcheck();
    let oom = |g: &LinkGraph, what: &str| LinkError::OutOfMemory {
        object: g.name.clone(),
        reason: what.to_string(),
    };

    for (gi, g) in graphs.iter().enumerate() {
        let mut addrs = Vec::new();
        for (si, s) in g.sections.iter().enumerate() {
            let addr = match s.kind {
                SectionKind::Code => {
                    let a = code_addr(next_slot);
                    next_slot += s.bytes.len() / INSN_SIZE;
                    a
                }
                k => match region_of(k) {
                    Some(region) => {
                        let cur = cursors.get_mut(&region).expect("region cursor");
                        let start = cur.next_multiple_of(global_align(s.align, memcheck));
                        let end = start + s.size();
                        let rz = if memcheck {
                            red_zone_after(end, s.size())
                        } else {
                            0
                        };
                        if end + rz > MAX_REGION_SIZE as u64 {
                            return Err(oom(g, &format!("the {} region is full", region.name())));
                        }
                        *cur = end + rz;
                        placements.push((gi, si, region, region.base() + start, rz));
                        region.base() + start
                    }
                    None => 0,
                },
            };
            addrs.push(addr);
        }
        section_addr.push(addrs);
    }

    let mut commons = HashMap::new();
    let mut common_order = Vec::new();
    for name in &res.defined {
        if let Some(Binding::NewCommon { size, align }) = res.bindings.get(name) {
            let cur = cursors.get_mut(&RegionKind::Data).expect("data cursor");
            let align = global_align((*align).max(1), memcheck);
            let start = cur.next_multiple_of(align);
            let rz = if memcheck {
                red_zone_after(start + size, *size)
            } else {
                0
            };
            *cur = start + size + rz;
            if *cur > MAX_REGION_SIZE as u64 {
                return Err(oom(&graphs[0], "the data region is full"));
            }
            let addr = RegionKind::Data.base() + start;
            commons.insert(name.clone(), addr);
            common_order.push((name.clone(), *size, align, rz));
        }
    }

    let mut new_stubs = Vec::new();
    let mut reused_stubs = HashMap::new();
    if session.options.allow_redefinition {
        for name in &res.defined {
            let Some(Binding::New { graph, sym }) = res.bindings.get(name) else {
                continue;
            };
            let g = &graphs[*graph];
            if !is_function(g, &g.symbols[*sym]) {
                continue;
            }
            match session.globals.get(name).and_then(|old| old.stub) {
                Some(slot) => {
                    reused_stubs.insert(name.clone(), slot);
                }
                None => {
                    new_stubs.push((name.clone(), next_slot));
                    next_slot += 1;
                }
            }
        }
    }

    let mut pending_stubs = Vec::new();
    for name in &res.defined {
        if res.bindings.get(name) == Some(&Binding::Pending) {
            pending_stubs.push((name.clone(), next_slot));
            next_slot += 2;
        }
    }

    // Trampolines give helpers an address when code takes one (`&printf`).
    let mut new_trampolines = Vec::new();
    let mut seen = HashSet::new();
    for g in graphs {
        for s in &g.sections {
            for e in &s.edges {
                let sym = &g.symbols[e.target];
                if e.kind == EdgeKind::Call32 || sym.scope == Scope::Local {
                    continue;
                }
                if let Some(Binding::Helper(id)) = res.bindings.get(&sym.name) {
                    if !session.trampolines.contains_key(id) && seen.insert(*id) {
                        new_trampolines.push((*id, next_slot));
                        next_slot += 2;
                    }
                }
            }
        }
    }

    let maps = crate::kmaps::plan(session, graphs)?;

    Ok(Layout {
        maps,
        code_start,
        section_addr,
        commons,
        new_stubs,
        reused_stubs,
        new_trampolines,
        pending_stubs,
        placements,
        common_order,
        code_len: next_slot - code_start,
    })
}

/// The address a non-local name resolves to for references.
fn binding_value(graphs: &[LinkGraph], layout: &Layout, name: &str, b: &Binding) -> Resolved {
    match b {
        Binding::New { graph, sym } => {
            if let Some((_, slot)) = layout.new_stubs.iter().find(|(n, _)| n == name) {
                return Resolved::Address(code_addr(*slot));
            }
            if let Some(slot) = layout.reused_stubs.get(name) {
                return Resolved::Address(code_addr(*slot));
            }
            Resolved::Address(symbol_body(graphs, layout, *graph, *sym))
        }
        Binding::NewCommon { .. } => Resolved::Address(layout.commons[name]),
        Binding::Existing(a) | Binding::Absolute(a) => Resolved::Address(*a),
        Binding::Helper(id) => Resolved::Helper(*id),
        Binding::Pending => Resolved::Address(code_addr(layout.pending_slot(name))),
    }
}

fn symbol_body(graphs: &[LinkGraph], layout: &Layout, graph: usize, sym: SymbolId) -> u64 {
    if let Some(handle) = crate::kmaps::symbol_handle(&layout.maps, &graphs[graph], graph, sym, 0) {
        return handle.unwrap_or(0);
    }
    match graphs[graph].symbols[sym].def {
        Definition::Defined { section, offset } => layout.section_addr[graph][section] + offset,
        Definition::Absolute(v) => v,
        _ => 0,
    }
}

fn trampoline_addr(session: &Session, layout: &Layout, id: u32) -> Option<u64> {
    session
        .trampolines
        .get(&id)
        .copied()
        .or_else(|| {
            layout
                .new_trampolines
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, s)| *s)
        })
        .map(code_addr)
}

/// Pass 5: apply every edge to the section bytes.
fn fixup(
    session: &Session,
    graphs: &mut [LinkGraph],
    res: &Resolution,
    layout: &Layout,
) -> Result<(), LinkError> {
    for gi in 0..graphs.len() {
        for si in 0..graphs[gi].sections.len() {
            let base = layout.section_addr[gi][si];
            graphs[gi].sections[si].addr = Some(base);
            if graphs[gi].sections[si].kind == SectionKind::Maps {
                // Map definitions are read, not loaded: their edges (programs
                // of a program array) are used when the maps are created.
                continue;
            }
            let edges = graphs[gi].sections[si].edges.clone();
            for mut e in edges {
                let g = &graphs[gi];
                let sym = &g.symbols[e.target];
                // A reference to a map is its handle, whatever the addend
                // (legacy code names maps as `maps` + offset).
                let map = (g.sections[si].kind != SectionKind::Btf)
                    .then(|| crate::kmaps::symbol_handle(&layout.maps, g, gi, e.target, e.addend))
                    .flatten();
                if map.is_some() {
                    e.addend = 0;
                }
                let mut target = if let Some(handle) = map {
                    Resolved::Address(handle.ok_or_else(|| LinkError::Relocation {
                        object: g.name.clone(),
                        section: g.sections[si].name.clone(),
                        offset: e.offset,
                        reason: format!("`{}` does not name a map", sym_name(g, e.target)),
                    })?)
                } else if g.sections[si].kind == SectionKind::Btf {
                    // BTF describes sections, not the VM: it keeps section-relative offsets.
                    Resolved::Address(match sym.def {
                        Definition::Defined { offset, .. } => offset,
                        _ => 0,
                    })
                } else if sym.scope == Scope::Local || sym.name.is_empty() {
                    Resolved::Address(symbol_body(graphs, layout, gi, e.target))
                } else {
                    let b = res
                        .bindings
                        .get(&sym.name)
                        .expect("resolve binds every non-local name");
                    binding_value(graphs, layout, &sym.name, b)
                };
                if let Resolved::Helper(id) = target {
                    if e.kind != EdgeKind::Call32 {
                        target = Resolved::Address(
                            trampoline_addr(session, layout, id).expect("allocated trampoline"),
                        );
                    }
                }
                let place = base.wrapping_add(e.offset);
                let mut bytes = std::mem::take(&mut graphs[gi].sections[si].bytes);
                let result = apply_fixup(e.kind, &mut bytes, e.offset, place, target, e.addend);
                let err = result
                    .err()
                    .map(|err| describe_owned(&graphs[gi], si, &e, err));
                graphs[gi].sections[si].bytes = bytes;
                if let Some(err) = err {
                    return Err(err);
                }
            }
        }
    }
    Ok(())
}

fn describe_owned(g: &LinkGraph, si: usize, e: &Edge, err: crate::bpf::FixupError) -> LinkError {
    LinkError::Relocation {
        object: g.name.clone(),
        section: g.sections[si].name.clone(),
        offset: e.offset,
        reason: format!(
            "{} against `{}`: {err}",
            e.kind.name(),
            sym_name(g, e.target)
        ),
    }
}

fn sym_name(g: &LinkGraph, id: SymbolId) -> String {
    display_name(&g.symbols[id])
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

/// Pass 6: every code section must be valid VM code; then the hooks; then
/// (when the session proves accesses) the accesses proven in bounds.
fn verify(session: &Session, graphs: &[LinkGraph]) -> Result<UnitProofs, LinkError> {
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

fn gotol(from: usize, to: usize) -> Insn {
    Insn::new(OP_GOTOL, 0, 0, 0, (to as i64 - from as i64 - 1) as i32)
}

/// Pass 7: load code, place data, bind names, record what undo needs.
fn publish(
    session: &mut Session,
    graphs: Vec<LinkGraph>,
    unfixed: Option<Vec<LinkGraph>>,
    res: Resolution,
    layout: Layout,
) -> Result<(), LinkError> {
    // The only fallible step comes first.
    let mut chunk: Vec<Insn> = Vec::with_capacity(layout.code_len);
    for g in &graphs {
        for s in g.sections.iter().filter(|s| s.kind == SectionKind::Code) {
            chunk.extend(isa::decode(&s.bytes).expect("code size checked when read"));
        }
    }
    let first_object = session.objects.len();
    for (name, slot) in &layout.new_stubs {
        let Some(Binding::New { graph, sym }) = res.bindings.get(name) else {
            unreachable!("stubs are made for new functions only")
        };
        let body = symbol_body(&graphs, &layout, *graph, *sym);
        let body_slot = slot_of(body);
        chunk.push(gotol(*slot, body_slot));
    }
    for (id, _) in &layout.new_trampolines {
        chunk.push(isa::asm::call_runtime(*id as i32));
        chunk.push(isa::asm::exit());
    }
    for _ in &layout.pending_stubs {
        chunk.push(isa::asm::call_runtime(UNDEFINED_FUNCTION_HELPER as i32));
        chunk.push(isa::asm::exit());
    }
    let undo_base = UnitUndo {
        first_object,
        code_len: session.vm.code().len(),
        rodata_len: session.vm.mem.region_len(RegionKind::Rodata),
        data_len: session.vm.mem.region_len(RegionKind::Data),
        kernel_len: session.vm.mem.region_len(RegionKind::Kernel),
        map_count: session.kernel.as_ref().map_or(0, |k| k.map_count()),
        ..UnitUndo::default()
    };
    let start = session.vm.load_code(&chunk).map_err(|error| {
        let (g, s) = locate_slot(&graphs, &layout, layout.code_start + error.index);
        LinkError::InvalidCode {
            object: g.map(|g| g.name.clone()).unwrap_or_default(),
            section: s.unwrap_or_else(|| "<stubs>".to_string()),
            function: None,
            error,
        }
    })?;
    debug_assert_eq!(start, layout.code_start);
    let mut undo = undo_base;

    // Data.
    for &(gi, si, region, addr, rz) in &layout.placements {
        let s = &graphs[gi].sections[si];
        let got = session
            .vm
            .mem
            .alloc(region, s.bytes.len(), addr_align(addr))
            .expect("allocate pass checked the size");
        debug_assert_eq!(got, addr);
        session
            .vm
            .mem
            .write_initial(addr, &s.bytes)
            .expect("just allocated");
        place_red_zone(&mut session.vm.mem, region, addr + s.size(), rz);
    }
    for (name, size, _, rz) in &layout.common_order {
        let addr = layout.commons[name];
        let got = session
            .vm
            .mem
            .alloc(RegionKind::Data, *size as usize, addr_align(addr))
            .expect("allocate pass checked the size");
        debug_assert_eq!(got, addr);
        place_red_zone(&mut session.vm.mem, RegionKind::Data, addr + size, *rz);
    }

    // Maps, and the programs their definitions list.
    crate::kmaps::create(session, &layout.maps, |gi, sym| {
        let s = &graphs[gi].symbols[sym];
        if s.scope == Scope::Local {
            symbol_body(&graphs, &layout, gi, sym)
        } else {
            match res.bindings.get(&s.name) {
                Some(b) => match binding_value(&graphs, &layout, &s.name, b) {
                    Resolved::Address(a) => a,
                    Resolved::Helper(_) => 0,
                },
                None => 0,
            }
        }
    });

    // Function entries (valid callx targets).
    for (gi, g) in graphs.iter().enumerate() {
        for sym in &g.symbols {
            if let Definition::Defined { section, offset } = sym.def {
                if g.sections[section].kind == SectionKind::Code && sym.kind != SymbolKind::Section
                {
                    let slot = slot_of(layout.section_addr[gi][section] + offset);
                    session.vm.mark_entry(slot);
                }
            }
        }
    }
    for (_, slot) in &layout.new_stubs {
        session.vm.mark_entry(*slot);
    }
    for (id, slot) in &layout.new_trampolines {
        session.vm.mark_entry(*slot);
        session.trampolines.insert(*id, *slot);
        undo.trampolines.push(*id);
    }

    // Bind names.
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
                    symbol_body(&graphs, &layout, *graph, *sym),
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
                let slot = layout.pending_slot(name);
                session.vm.mark_entry(slot);
                // Weak: the first real definition replaces it and repoints the stub.
                (SymbolKind::Function, code_addr(slot), 0, None, true, false)
            }
            Binding::Existing(_) | Binding::Helper(_) => continue,
        };
        let stub = layout
            .new_stubs
            .iter()
            .chain(&layout.pending_stubs)
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
            .or_else(|| layout.reused_stubs.get(name).copied());
        let addr = stub.map(code_addr).unwrap_or(body);
        let new = GlobalSymbol {
            name: name.clone(),
            kind,
            addr,
            body,
            size,
            object,
            weak,
            common,
            stub,
        };
        let old = session.globals.insert(name.clone(), new.clone());
        if let Some(slot) = layout.reused_stubs.get(name) {
            session
                .vm
                .patch(*slot, gotol(*slot, slot_of(body)))
                .expect("stub targets a loaded function");
        } else if let Some(old) = &old {
            if old.addr != new.addr {
                rebind(session, name, new.addr);
            }
        }
        undo.replaced.push((name.clone(), old));
    }

    // Remember references to global names for later rebinding.
    for (gi, g) in graphs.iter().enumerate() {
        for (si, s) in g.sections.iter().enumerate() {
            if !s.kind.is_loaded() {
                continue;
            }
            for e in &s.edges {
                let sym = &g.symbols[e.target];
                if sym.scope == Scope::Local || sym.name.is_empty() || e.kind == EdgeKind::Call32 {
                    continue;
                }
                let place = layout.section_addr[gi][si] + e.offset;
                let place = if s.kind == SectionKind::Code {
                    Place::Code(slot_of(place))
                } else {
                    Place::Data(place)
                };
                let list = session.references.entry(sym.name.clone()).or_default();
                undo.first_reference
                    .entry(sym.name.clone())
                    .or_insert(list.len());
                list.push(Reference {
                    name: sym.name.clone(),
                    kind: e.kind,
                    place,
                    addend: e.addend,
                });
            }
        }
    }

    let unit = session.units.len();
    let mut unfixed = unfixed.map(|v| v.into_iter());
    for g in graphs {
        session.objects.push(LinkedObject {
            name: g.name.clone(),
            graph: g,
            unfixed: unfixed.as_mut().and_then(|i| i.next()),
            unit,
        });
    }
    session.units.push(undo);
    Ok(())
}

fn slot_of(addr: u64) -> usize {
    ((addr - RegionKind::Code.base()) / INSN_SIZE as u64) as usize
}

fn locate_slot<'a>(
    graphs: &'a [LinkGraph],
    layout: &Layout,
    slot: usize,
) -> (Option<&'a LinkGraph>, Option<String>) {
    let addr = code_addr(slot);
    for (gi, g) in graphs.iter().enumerate() {
        for (si, s) in g.sections.iter().enumerate() {
            let base = layout.section_addr[gi][si];
            if s.kind == SectionKind::Code && addr >= base && addr < base + s.size() {
                return (Some(g), Some(s.name.clone()));
            }
        }
    }
    (None, None)
}

/// Points every published reference to `name` at `addr`.
fn rebind(session: &mut Session, name: &str, addr: u64) {
    let Some(refs) = session.references.get(name) else {
        return;
    };
    for r in refs.clone() {
        let value = (addr as i64).wrapping_add(r.addend) as u64;
        match (r.place, r.kind) {
            (Place::Code(slot), EdgeKind::LdImm64) => {
                let _ = session.vm.patch_ld_imm64(slot, value);
            }
            (Place::Data(at), EdgeKind::Abs64) => {
                let _ = session.vm.mem.write_initial(at, &value.to_le_bytes());
            }
            (Place::Data(at), EdgeKind::Abs32) => {
                if let Ok(v) = u32::try_from(value) {
                    let _ = session.vm.mem.write_initial(at, &v.to_le_bytes());
                }
            }
            _ => {}
        }
    }
}

/// Removes the most recent unit (see [`Session::undo`]).
pub(crate) fn undo_unit(session: &mut Session) -> Option<Vec<String>> {
    let undo = session.units.pop()?;
    // References this unit recorded go first, so rebinding below does not
    // touch code that is about to disappear.
    for (name, first) in &undo.first_reference {
        if let Some(list) = session.references.get_mut(name) {
            list.truncate(*first);
            if list.is_empty() {
                session.references.remove(name);
            }
        }
    }
    for (name, old) in undo.replaced.iter().rev() {
        match old {
            Some(old) => {
                session.globals.insert(name.clone(), old.clone());
                if let Some(stub) = old.stub.filter(|s| *s < undo.code_len) {
                    let _ = session.vm.patch(stub, gotol(stub, slot_of(old.body)));
                } else {
                    rebind(session, name, old.addr);
                }
            }
            None => {
                session.globals.remove(name);
            }
        }
    }
    for id in &undo.trampolines {
        session.trampolines.remove(id);
    }
    session.vm.truncate_code(undo.code_len);
    session.vm.mem.truncate(RegionKind::Rodata, undo.rodata_len);
    session.vm.mem.truncate(RegionKind::Data, undo.data_len);
    session.vm.mem.truncate(RegionKind::Kernel, undo.kernel_len);
    if let Some(k) = &session.kernel {
        k.truncate_maps(undo.map_count);
    }
    session
        .debug_cache
        .borrow_mut()
        .retain(|i, _| *i < undo.first_object);
    let removed = session
        .objects
        .drain(undo.first_object..)
        .map(|o| o.name)
        .collect();
    Some(removed)
}
