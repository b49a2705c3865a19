//! Maps at link time: the allocate pass plans each map an object defines
//! at the end of the VM's kernel-object region (the kernel world, a
//! `bpf_kernel::Kernel` the session holds, says how many bytes a map
//! takes); fixups bind references to a map symbol to the map's handle;
//! publish creates the maps exactly where planned and fills program arrays
//! whose definitions list programs.

use crate::error::LinkError;
use crate::graph::{Definition, LinkGraph, SectionId, SectionKind, SymbolId};
use crate::maps::{read_maps, MapDef};
use crate::session::Session;
use bpf_kernel::MapSpec;
use bpf_vm::memory::MAX_REGION_SIZE;
use bpf_vm::RegionKind;

/// A map this unit creates.
#[derive(Debug, Clone)]
pub(crate) struct PlannedMap {
    pub graph: usize,
    pub def: MapDef,
    /// What the kernel world creates.
    pub spec: MapSpec,
    /// Its handle: the address programs use.
    pub handle: u64,
}

/// Reads the maps of every graph and plans their handles.
pub(crate) fn plan(session: &Session, graphs: &[LinkGraph]) -> Result<Vec<PlannedMap>, LinkError> {
    let mut cursor = session.vm.mem.region_len(RegionKind::Kernel) as u64;
    let mut out = Vec::new();
    for (gi, g) in graphs.iter().enumerate() {
        let defs = read_maps(g)?;
        if defs.is_empty() {
            continue;
        }
        if session.kernel.is_none() {
            return Err(LinkError::Unsupported {
                object: g.name.clone(),
                place: format!("map `{}`", defs[0].name),
                feature: "BPF maps outside the kernel world (enable it with \
                          Session::enable_kernel; bpf-jitlink does)"
                    .to_string(),
            });
        }
        for def in defs {
            let spec = MapSpec::from_def(&def.def).map_err(|feature| LinkError::Unsupported {
                object: g.name.clone(),
                place: format!("map `{}`", def.name),
                feature,
            })?;
            let size = spec.footprint().map_err(|e| LinkError::Unsupported {
                object: g.name.clone(),
                place: format!("map `{}`", def.name),
                feature: e.to_string(),
            })?;
            if let Some((index, _)) = def.values.iter().find(|(i, _)| *i >= spec.max_entries) {
                return Err(LinkError::Malformed {
                    object: g.name.clone(),
                    reason: format!(
                        "map `{}` lists a program at index {index}, past its {} entries",
                        def.name, spec.max_entries
                    ),
                });
            }
            let start = cursor.next_multiple_of(8);
            cursor = start + size;
            if cursor > MAX_REGION_SIZE as u64 {
                return Err(LinkError::OutOfMemory {
                    object: g.name.clone(),
                    reason: format!("map `{}`: the kernel-object region is full", def.name),
                });
            }
            out.push(PlannedMap {
                graph: gi,
                def,
                spec,
                handle: RegionKind::Kernel.base() + start,
            });
        }
    }
    Ok(out)
}

/// The handle of the map of graph `gi` that covers `offset` of `section`.
pub(crate) fn handle_at(
    maps: &[PlannedMap],
    gi: usize,
    section: SectionId,
    offset: u64,
) -> Option<u64> {
    maps.iter()
        .find(|m| {
            m.graph == gi
                && m.def.section == section
                && offset >= m.def.offset
                && (offset == m.def.offset || offset < m.def.offset + m.def.size)
        })
        .map(|m| m.handle)
}

/// If `sym` of graph `gi` lies in a map section, the handle it (plus
/// `addend`, for references through the section symbol) stands for.
pub(crate) fn symbol_handle(
    maps: &[PlannedMap],
    g: &LinkGraph,
    gi: usize,
    sym: SymbolId,
    addend: i64,
) -> Option<Option<u64>> {
    let Definition::Defined { section, offset } = g.symbols[sym].def else {
        return None;
    };
    if g.sections[section].kind != SectionKind::Maps {
        return None;
    }
    Some(handle_at(
        maps,
        gi,
        section,
        offset.wrapping_add_signed(addend),
    ))
}

/// Creates the planned maps (publish), then fills the program arrays:
/// `program(graph, symbol)` gives a listed program's code address.
pub(crate) fn create(
    session: &mut Session,
    maps: &[PlannedMap],
    program: impl Fn(usize, SymbolId) -> u64,
) {
    let Some(kernel) = session.kernel.clone() else {
        return;
    };
    for m in maps {
        let handle = kernel
            .create_map(&mut session.vm.mem, &m.def.name, &m.spec)
            .expect("the allocate pass checked the definition and the room");
        debug_assert_eq!(handle, m.handle);
    }
    for m in maps {
        for &(index, sym) in &m.def.values {
            kernel
                .set_prog(m.handle, index, Some(program(m.graph, sym)))
                .expect("the allocate pass checked the index");
        }
    }
}
