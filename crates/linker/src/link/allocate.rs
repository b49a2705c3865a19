//! The allocate pass: addresses for every loaded section, common symbol
//! and map, chosen without touching the session. Code sections come first,
//! then the generated entries, so a unit's own code is one contiguous run
//! (what the verifier's proofs cover). Thread-local sections get offsets
//! in the TLS template; their address is the main thread's instance.

use super::{Binding, Resolution};
use crate::error::LinkError;
use crate::graph::*;
use crate::kmaps::PlannedMap;
use crate::session::Session;
use bpf_vm::isa::INSN_SIZE;
use bpf_vm::memory::MAX_REGION_SIZE;
use bpf_vm::tls::{MAX_TLS_ALIGN, TCB_SIZE};
use bpf_vm::{code_addr, RegionKind};
use std::collections::HashMap;

/// Addresses chosen by the allocate pass.
pub(super) struct Layout {
    pub code_start: usize,
    /// Code slots of the unit (its code sections, then its entries).
    pub code_len: usize,
    /// Per graph, per section: address (VM address; 0 for non-loaded).
    pub section_addr: Vec<Vec<u64>>,
    /// Common symbols: name -> address.
    pub commons: HashMap<String, u64>,
    /// Common symbols placed: name, size, alignment, memcheck red zone.
    pub common_order: Vec<(String, u64, u64, u64)>,
    /// Sections placed in data regions: graph, section, region, address,
    /// and the memcheck red zone after it (bytes; 0 without memcheck).
    pub placements: Vec<(usize, usize, RegionKind, u64, u64)>,
    /// Thread-local sections: (graph, section).
    pub tls_sections: Vec<(usize, usize)>,
    /// The TLS template's size once this unit is linked.
    pub tls_size: u64,
    /// Maps to create, with their handles.
    pub maps: Vec<PlannedMap>,
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

/// Pass 5: chooses addresses (without touching the session).
pub(super) fn allocate(
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
    let mut tls_cursor = session.vm.tls.size().max(TCB_SIZE);
    let mut tls_sections = Vec::new();
    let mut section_addr: Vec<Vec<u64>> =
        graphs.iter().map(|g| vec![0; g.sections.len()]).collect();
    let mut placements = Vec::new();
    let memcheck = session.vm.mem.memcheck();
    let oom = |g: &LinkGraph, what: String| LinkError::OutOfMemory {
        object: g.name.clone(),
        reason: what,
    };

    // Code, then the generated entries.
    for pass in [SectionKind::Code, SectionKind::Stubs] {
        for (gi, g) in graphs.iter().enumerate() {
            for (si, s) in g.sections.iter().enumerate() {
                if s.kind == pass {
                    section_addr[gi][si] = code_addr(next_slot);
                    next_slot += s.bytes.len() / INSN_SIZE;
                }
            }
        }
    }
    for (gi, g) in graphs.iter().enumerate() {
        for (si, s) in g.sections.iter().enumerate() {
            if s.kind.is_tls() {
                if s.align > MAX_TLS_ALIGN {
                    return Err(oom(
                        g,
                        format!(
                            "thread-local section {} asks for {}-byte alignment; at most \
                             {MAX_TLS_ALIGN} is supported",
                            s.name, s.align
                        ),
                    ));
                }
                let start = tls_cursor.next_multiple_of(s.align);
                tls_cursor = start + s.size();
                if tls_cursor > session.vm.tls.block_size() {
                    return Err(oom(
                        g,
                        format!(
                            "thread-local variables would need {tls_cursor} bytes per thread, \
                             more than the TLS block size of {} bytes; raise it with \
                             --tls-block-size",
                            session.vm.tls.block_size()
                        ),
                    ));
                }
                section_addr[gi][si] = RegionKind::Tls.base() + start;
                tls_sections.push((gi, si));
                continue;
            }
            let Some(region) = region_of(s.kind) else {
                continue;
            };
            let cur = cursors.get_mut(&region).expect("region cursor");
            let start = cur.next_multiple_of(global_align(s.align, memcheck));
            let end = start + s.size();
            let rz = if memcheck {
                red_zone_after(end, s.size())
            } else {
                0
            };
            if end + rz > MAX_REGION_SIZE as u64 {
                return Err(oom(g, format!("the {} region is full", region.name())));
            }
            *cur = end + rz;
            placements.push((gi, si, region, region.base() + start, rz));
            section_addr[gi][si] = region.base() + start;
        }
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
                return Err(oom(&graphs[0], "the data region is full".to_string()));
            }
            let addr = RegionKind::Data.base() + start;
            commons.insert(name.clone(), addr);
            common_order.push((name.clone(), *size, align, rz));
        }
    }

    let maps = crate::kmaps::plan(session, graphs)?;
    let tls_size = if tls_sections.is_empty() {
        session.vm.tls.size()
    } else {
        tls_cursor
    };
    Ok(Layout {
        code_start,
        code_len: next_slot - code_start,
        section_addr,
        commons,
        common_order,
        placements,
        tls_sections,
        tls_size,
        maps,
    })
}
