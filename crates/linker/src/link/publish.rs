//! Publishing a linked unit into the session, and undoing it.
//!
//! The steps that can fail come first — loading the code, patching
//! published objects (references to names this unit redefines), placing
//! data and thread-local storage — and are reverted if one does; what
//! follows cannot fail. Undo reverts a unit from what it recorded: code
//! and regions truncated, patched bytes restored, replaced symbols back.

use super::allocate::Layout;
use super::bind::{canonical, symbol_body};
use super::tables::{EntryKind, Tables};
use super::{slot_of, Binding};
use crate::bpf::{EdgeKind, Resolved};
use crate::error::LinkError;
use crate::graph::*;
use crate::session::*;
use bpf_vm::isa::{self, Insn, INSN_SIZE, OP_LD_IMM64};
use bpf_vm::{code_addr, RegionKind};

/// Everything the passes before publish made of one unit.
pub(super) struct Unit {
    pub graphs: Vec<LinkGraph>,
    pub unfixed: Option<Vec<LinkGraph>>,
    pub tables: Tables,
    pub layout: Layout,
    pub bound: Vec<(String, GlobalSymbol)>,
    pub patches: Vec<Patch>,
}

/// Pass 9: load code, patch, place data, bind names, record what undo needs.
pub(super) fn publish(
    session: &mut Session,
    unit: Unit,
    res_bindings: &std::collections::HashMap<String, Binding>,
) -> Result<(), LinkError> {
    let Unit {
        graphs,
        unfixed,
        tables,
        layout,
        bound,
        patches,
    } = unit;
    let mut chunk: Vec<Insn> = Vec::with_capacity(layout.code_len);
    for pass in [SectionKind::Code, SectionKind::Stubs] {
        for g in &graphs {
            for s in g.sections.iter().filter(|s| s.kind == pass) {
                chunk.extend(isa::decode(&s.bytes).expect("code size checked when read"));
            }
        }
    }
    let first_object = session.objects.len();
    let mut undo = UnitUndo {
        first_object,
        code_len: session.vm.code().len(),
        rodata_len: session.vm.mem.region_len(RegionKind::Rodata),
        data_len: session.vm.mem.region_len(RegionKind::Data),
        kernel_len: session.vm.mem.region_len(RegionKind::Kernel),
        map_count: session.kernel.as_ref().map_or(0, |k| k.map_count()),
        tls_size: session.vm.tls.size(),
        tls_len: session.vm.mem.region_len(RegionKind::Tls),
        ..UnitUndo::default()
    };
    let start = session.vm.load_code(&chunk).map_err(|error| {
        let (g, s) = locate_slot(&graphs, &layout, layout.code_start + error.index);
        LinkError::InvalidCode {
            object: g.map(|g| g.name.clone()).unwrap_or_default(),
            section: s.unwrap_or_default(),
            function: None,
            error,
        }
    })?;
    debug_assert_eq!(start, layout.code_start);

    // The other fallible steps, reverted together if one fails.
    let applied = apply_patches(session, &patches);
    let placed = applied.and_then(|()| place_memory(session, &graphs, &layout));
    if let Err(e) = placed {
        undo.patches = patches;
        revert(session, &undo);
        return Err(e);
    }
    undo.patches = patches;

    // Maps, and the programs their definitions list.
    crate::kmaps::create(session, &layout.maps, |gi, sym| {
        let s = &graphs[gi].symbols[sym];
        if s.scope == Scope::Local {
            symbol_body(&graphs, &layout, gi, sym)
        } else {
            match res_bindings.get(&s.name) {
                Some(b) => match canonical(&graphs, &tables, &layout, &s.name, b) {
                    Resolved::Address(a) => a,
                    Resolved::Helper(_) => 0,
                },
                None => 0,
            }
        }
    });

    // Function entries (valid callx targets): functions and generated entries.
    for (gi, g) in graphs.iter().enumerate() {
        for sym in &g.symbols {
            if let Definition::Defined { section, offset } = sym.def {
                if g.sections[section].kind == SectionKind::Code && sym.kind != SymbolKind::Section
                {
                    session
                        .vm
                        .mark_entry(slot_of(layout.section_addr[gi][section] + offset));
                }
            }
        }
    }
    for e in &tables.entries {
        let slot = slot_of(layout.section_addr[e.graph][e.section] + e.offset);
        session.vm.mark_entry(slot);
        if let EntryKind::Trampoline(id) = e.kind {
            session.trampolines.insert(id, slot);
            undo.trampolines.push(id);
        }
    }

    // Bind names.
    for (name, new) in bound {
        let old = session.globals.insert(name.clone(), new);
        undo.replaced.push((name, old));
    }

    // Remember the edges to global names, to fix them up again when a
    // name is redefined.
    for (gi, g) in graphs.iter().enumerate() {
        for (si, s) in g.sections.iter().enumerate() {
            if !s.kind.is_loaded() {
                continue;
            }
            for (ei, e) in s.edges.iter().enumerate() {
                let sym = &g.symbols[e.target];
                if sym.scope == Scope::Local || sym.name.is_empty() || e.kind == EdgeKind::Call32 {
                    continue;
                }
                let to = if e.kind == EdgeKind::StubBranch {
                    let stub = tables.entries.iter().any(|en| {
                        en.graph == gi
                            && en.section == si
                            && en.offset == e.offset
                            && en.kind == EntryKind::Stub
                    });
                    if !stub {
                        continue; // trampolines always call the same helper
                    }
                    RefTo::Body
                } else {
                    RefTo::Canonical
                };
                let list = session.references.entry(sym.name.clone()).or_default();
                undo.first_reference
                    .entry(sym.name.clone())
                    .or_insert(list.len());
                list.push(Reference {
                    object: first_object + gi,
                    section: si,
                    edge: ei,
                    to,
                });
            }
        }
    }

    let unit_index = session.units.len();
    let mut unfixed = unfixed.map(|v| v.into_iter());
    for g in graphs {
        session.objects.push(LinkedObject {
            name: g.name.clone(),
            graph: g,
            unfixed: unfixed.as_mut().and_then(|i| i.next()),
            unit: unit_index,
        });
    }
    session.units.push(undo);
    Ok(())
}

/// Writes the new bytes of every patch; on failure, restores those written.
fn apply_patches(session: &mut Session, patches: &[Patch]) -> Result<(), LinkError> {
    for (k, p) in patches.iter().enumerate() {
        if let Err(reason) = write_field(session, p.object, p.section, p.offset, &p.new) {
            for q in patches[..k].iter().rev() {
                let _restored = write_field(session, q.object, q.section, q.offset, &q.old);
                debug_assert!(_restored.is_ok(), "restoring bytes written just before");
            }
            let obj = &session.objects[p.object];
            return Err(LinkError::Relocation {
                object: obj.name.clone(),
                section: obj.graph.sections[p.section].name.clone(),
                offset: p.offset,
                reason,
            });
        }
    }
    Ok(())
}

/// Writes `bytes` at `offset` of a published section: into the VM (code,
/// memory, or the TLS template and every thread's block) and into the
/// session's copy of the graph, which listings show.
fn write_field(
    session: &mut Session,
    object: usize,
    section: SectionId,
    offset: u64,
    bytes: &[u8],
) -> Result<(), String> {
    let s = &session.objects[object].graph.sections[section];
    let addr = s.addr.unwrap_or(0) + offset;
    if s.kind.is_code() {
        let slot = session
            .vm
            .code_index(addr)
            .ok_or_else(|| format!("{addr:#x} is not loaded code"))?;
        let first = Insn::from_bytes(bytes[..INSN_SIZE].try_into().expect("a slot"));
        let done = if first.op == OP_LD_IMM64 && bytes.len() == 2 * INSN_SIZE {
            let hi = Insn::from_bytes(bytes[INSN_SIZE..].try_into().expect("a slot"));
            let value = first.imm as u32 as u64 | (hi.imm as u32 as u64) << 32;
            session.vm.patch_ld_imm64(slot, value)
        } else {
            session.vm.patch(slot, first)
        };
        done.map_err(|e| e.to_string())?;
    } else if s.kind.is_tls() {
        let at = addr - RegionKind::Tls.base();
        let vm = &mut session.vm;
        vm.tls
            .write(&mut vm.mem, at, bytes)
            .map_err(|e| e.to_string())?;
    } else {
        session
            .vm
            .mem
            .write_initial(addr, bytes)
            .map_err(|e| e.to_string())?;
    }
    let s = &mut session.objects[object].graph.sections[section];
    s.bytes[offset as usize..offset as usize + bytes.len()].copy_from_slice(bytes);
    Ok(())
}

/// The alignment that makes `alloc` return `addr` where the allocate
/// pass put it (the largest power of two dividing its offset).
fn addr_align(addr: u64) -> usize {
    1 << addr.trailing_zeros().min(31)
}

/// Appends a memcheck red zone of `len` bytes at `at` and poisons it.
fn place_red_zone(
    mem: &mut bpf_vm::Memory,
    region: RegionKind,
    at: u64,
    len: u64,
) -> Result<(), bpf_vm::MemError> {
    if len == 0 {
        return Ok(());
    }
    let got = mem.alloc(region, len as usize, 1)?;
    debug_assert_eq!(got, at);
    mem.poison(at, len as usize, bpf_vm::memory::Poison::GlobalRedZone)
}

/// Places the unit's data, common symbols and thread-local storage.
fn place_memory(
    session: &mut Session,
    graphs: &[LinkGraph],
    layout: &Layout,
) -> Result<(), LinkError> {
    let oom = |g: &LinkGraph, e: bpf_vm::MemError| LinkError::OutOfMemory {
        object: g.name.clone(),
        reason: e.to_string(),
    };
    let mem = &mut session.vm.mem;
    for &(gi, si, region, addr, rz) in &layout.placements {
        let s = &graphs[gi].sections[si];
        let got = mem
            .alloc(region, s.bytes.len(), addr_align(addr))
            .map_err(|e| oom(&graphs[gi], e))?;
        debug_assert_eq!(got, addr);
        mem.write_initial(addr, &s.bytes)
            .map_err(|e| oom(&graphs[gi], e))?;
        place_red_zone(mem, region, addr + s.size(), rz).map_err(|e| oom(&graphs[gi], e))?;
    }
    for (name, size, _, rz) in &layout.common_order {
        let addr = layout.commons[name];
        let got = mem
            .alloc(RegionKind::Data, *size as usize, addr_align(addr))
            .map_err(|e| oom(&graphs[0], e))?;
        debug_assert_eq!(got, addr);
        place_red_zone(mem, RegionKind::Data, addr + size, *rz).map_err(|e| oom(&graphs[0], e))?;
    }
    let old = session.vm.tls.size();
    if layout.tls_size > old {
        let mut tail = vec![0u8; (layout.tls_size - old) as usize];
        for &(gi, si) in &layout.tls_sections {
            let s = &graphs[gi].sections[si];
            let at = (layout.section_addr[gi][si] - RegionKind::Tls.base() - old) as usize;
            tail[at..at + s.bytes.len()].copy_from_slice(&s.bytes);
        }
        let (gi, _) = layout.tls_sections[0];
        let vm = &mut session.vm;
        vm.tls
            .extend(&mut vm.mem, &tail)
            .map_err(|e| oom(&graphs[gi], e))?;
    }
    Ok(())
}

/// Reverts what a unit's publish did to code, memory and published bytes.
fn revert(session: &mut Session, undo: &UnitUndo) {
    for p in undo.patches.iter().rev() {
        // The bytes were there before this unit wrote over them.
        let _restored = write_field(session, p.object, p.section, p.offset, &p.old);
        debug_assert!(_restored.is_ok(), "restoring published bytes");
    }
    let vm = &mut session.vm;
    vm.tls.truncate(&mut vm.mem, undo.tls_size, undo.tls_len);
    session.vm.truncate_code(undo.code_len);
    session.vm.mem.truncate(RegionKind::Rodata, undo.rodata_len);
    session.vm.mem.truncate(RegionKind::Data, undo.data_len);
    session.vm.mem.truncate(RegionKind::Kernel, undo.kernel_len);
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
            if s.kind.is_code() && addr >= base && addr < base + s.size() {
                return (Some(g), Some(s.name.clone()));
            }
        }
    }
    (None, None)
}

/// Removes the most recent unit (see [`Session::undo`]).
pub(crate) fn undo_unit(session: &mut Session) -> Option<Vec<String>> {
    let undo = session.units.pop()?;
    // References this unit recorded go first.
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
            }
            None => {
                session.globals.remove(name);
            }
        }
    }
    for id in &undo.trampolines {
        session.trampolines.remove(id);
    }
    revert(session, &undo);
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
