//! The linker's side of the verifier (`bpf-verifier`): the code of a link
//! unit as a [`Program`] (functions from the symbol tables), proofs that
//! let the VM skip checks, and kernel mode — what the Linux verifier would
//! say about each program of an object built for the kernel, with source
//! lines from the object's debug info.

use crate::bpf::EdgeKind;
use crate::debuginfo::ObjectDebugInfo;
use crate::graph::{Definition, LinkGraph, Scope, SectionKind, SymbolKind};
use bpf_verifier::kernel::{KernelProgram, MapInfo, ObjectFacts, ProgType};
use bpf_verifier::report::{format_verdict, SourceLine};
use bpf_verifier::{
    Extent, Function, KernelEnv, KernelOptions, Limits, Program, SpeedEnv, Verdict,
};
use bpf_vm::isa::{self, Insn, INSN_SIZE};
use bpf_vm::{RegionKind, Vm};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Nested calls the proof analysis follows in their callers' context.
const PROOF_CALL_DEPTH: usize = 8;

fn slot_of(addr: u64) -> usize {
    ((addr - RegionKind::Code.base()) / INSN_SIZE as u64) as usize
}

/// The code sections of `graphs` (placed, fixed up), one after another
/// from their first slot, as the verifier sees them.
pub struct UnitCode {
    pub insns: Vec<Insn>,
    /// Absolute slot of `insns[0]`.
    pub base: usize,
    pub functions: Vec<Function>,
}

impl UnitCode {
    /// Collects the code and functions of placed graphs; `None` if they
    /// have no code or it is not contiguous.
    pub fn of(graphs: &[LinkGraph]) -> Option<UnitCode> {
        let mut insns = Vec::new();
        let mut base = None;
        let mut functions = Vec::new();
        for g in graphs {
            let taken = address_taken(g);
            for (si, s) in g.sections.iter().enumerate() {
                if s.kind != SectionKind::Code || s.bytes.is_empty() {
                    continue;
                }
                let start = slot_of(s.addr?);
                let base = *base.get_or_insert(start);
                if start != base + insns.len() {
                    return None;
                }
                insns.extend(isa::decode(&s.bytes).ok()?);
                let sec_end = insns.len();
                let mut starts: Vec<(usize, &crate::graph::Symbol)> = g
                    .symbols
                    .iter()
                    .filter(|sym| sym.kind == SymbolKind::Function)
                    .filter_map(|sym| match sym.def {
                        Definition::Defined { section, offset } if section == si => {
                            Some((start - base + (offset / INSN_SIZE as u64) as usize, sym))
                        }
                        _ => None,
                    })
                    .collect();
                starts.sort_by_key(|(s, _)| *s);
                starts.dedup_by_key(|(s, _)| *s);
                for (i, (fstart, sym)) in starts.iter().enumerate() {
                    let next = starts.get(i + 1).map_or(sec_end, |n| n.0);
                    let by_size = fstart + (sym.size / INSN_SIZE as u64) as usize;
                    let end = if sym.size > 0 {
                        by_size.min(next)
                    } else {
                        next
                    };
                    let offset_in_section = (*fstart + base - start) as u64 * INSN_SIZE as u64;
                    functions.push(Function {
                        name: sym.name.clone(),
                        start: *fstart,
                        end: end.max(fstart + 1),
                        external: sym.scope != Scope::Local
                            || taken.contains(&(si, offset_in_section)),
                    });
                }
            }
        }
        Some(UnitCode {
            insns,
            base: base?,
            functions,
        })
    }

    pub fn program(&self) -> Program<'_> {
        Program {
            code: &self.insns,
            base: self.base,
            functions: self.functions.clone(),
        }
    }
}

/// Code offsets (section, byte offset) whose address the object takes:
/// targets of relocations other than calls.
fn address_taken(g: &LinkGraph) -> BTreeSet<(usize, u64)> {
    let mut out = BTreeSet::new();
    for s in &g.sections {
        for e in &s.edges {
            if e.kind == EdgeKind::Call32
                || s.kind == SectionKind::Debug
                || s.kind == SectionKind::Btf
            {
                continue;
            }
            let sym = &g.symbols[e.target];
            if let Definition::Defined { section, offset } = sym.def {
                if g.sections
                    .get(section)
                    .is_some_and(|t| t.kind == SectionKind::Code)
                {
                    out.insert((section, offset.wrapping_add(e.addend as u64)));
                }
            }
        }
    }
    out
}

/// Memory that will be mapped once `graphs` are published: the rodata and
/// data regions up to the end of what the session and the unit placed.
fn extents(graphs: &[LinkGraph], vm: &Vm) -> Vec<Extent> {
    [(RegionKind::Rodata, false), (RegionKind::Data, true)]
        .into_iter()
        .map(|(region, writable)| {
            let mut end = region.base() + vm.mem.region_len(region) as u64;
            for g in graphs {
                for s in &g.sections {
                    if let Some(a) = s.addr {
                        if RegionKind::of(a) == Some(region) && s.kind.is_loaded() {
                            end = end.max(a + s.size());
                        }
                    }
                }
            }
            Extent {
                region,
                start: region.base(),
                end,
                writable,
            }
        })
        .collect()
}

/// The code a unit's proofs were derived from, and its proven accesses
/// (slot, region), for [`Vm::set_access_proofs`].
pub(crate) type UnitProofs = Option<(std::ops::Range<usize>, Vec<(usize, RegionKind)>)>;

/// Accesses of the unit proven in bounds: `(code range, (slot, region))`
/// for [`Vm::set_access_proofs`], or `None` when nothing was proven.
pub(crate) fn prove_unit(graphs: &[LinkGraph], vm: &Vm) -> UnitProofs {
    let unit = UnitCode::of(graphs)?;
    let env = SpeedEnv {
        frame_size: vm.config().frame_size,
        max_call_depth: PROOF_CALL_DEPTH.min(vm.config().max_call_depth),
        extents: extents(graphs, vm),
    };
    let proofs = bpf_verifier::prove(&unit.program(), &env, Limits::default());
    if !proofs.complete || proofs.proven.is_empty() {
        return None;
    }
    let range = unit.base..unit.base + unit.insns.len();
    Some((
        range,
        proofs.proven.iter().map(|p| (p.slot, p.region)).collect(),
    ))
}

// ---- kernel mode ----

/// The maps of an object: those its map sections define (read by
/// [`crate::maps::read_maps`], the one reader of map definitions) and the
/// internal maps of its global data, at the addresses its code uses.
pub fn object_maps(g: &LinkGraph) -> Result<Vec<MapInfo>, String> {
    let mut out = Vec::new();
    for m in crate::maps::read_maps(g).map_err(|e| e.to_string())? {
        // A map the kernel world created is referred to by its handle;
        // otherwise by where its definition was placed.
        let handle = g
            .map_handles
            .iter()
            .find(|(sec, at, _)| *sec == m.section && *at == m.offset)
            .map(|(_, _, h)| *h);
        let placed = g.sections[m.section].addr.map(|a| a + m.offset);
        if let Some(addr) = handle.or(placed) {
            out.push(MapInfo::defined(&m.name, m.def, addr, m.size.max(1)));
        }
    }
    for s in &g.sections {
        let data = matches!(
            s.kind,
            SectionKind::Data | SectionKind::ReadOnly | SectionKind::ZeroFill
        ) && (s.name.starts_with(".data")
            || s.name.starts_with(".rodata")
            || s.name.starts_with(".bss"));
        if let Some(addr) = s.addr.filter(|_| data) {
            out.push(MapInfo::internal(&s.name, addr, s.size()));
        }
    }
    Ok(out)
}

/// What the kernel checks of the object itself: its license (section
/// `license`) and whether it carries BTF function info (`.BTF.ext`).
pub fn object_facts(g: &LinkGraph) -> ObjectFacts {
    let license = g.sections.iter().find(|s| s.name == "license").map(|s| {
        let end = s
            .bytes
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(s.bytes.len());
        String::from_utf8_lossy(&s.bytes[..end]).into_owned()
    });
    ObjectFacts {
        gpl: license.as_deref().is_some_and(license_is_gpl_compatible),
        func_info: g.sections.iter().any(|s| s.name == ".BTF.ext"),
    }
}

/// `license_is_gpl_compatible` (include/linux/license.h).
fn license_is_gpl_compatible(license: &str) -> bool {
    matches!(
        license,
        "GPL"
            | "GPL v2"
            | "GPL and additional rights"
            | "Dual BSD/GPL"
            | "Dual MIT/GPL"
            | "Dual MPL/GPL"
    )
}

/// The programs of an object: every function in a code section whose
/// name gives a program type (libbpf's convention).
pub fn object_programs(g: &LinkGraph, unit: &UnitCode) -> Vec<KernelProgram> {
    let mut out = Vec::new();
    for s in &g.sections {
        if s.kind != SectionKind::Code {
            continue;
        }
        let Some(prog_type) = ProgType::from_section(&s.name) else {
            continue;
        };
        let Some(addr) = s.addr else { continue };
        let (lo, hi) = (slot_of(addr), slot_of(addr + s.size()));
        for (i, f) in unit.functions.iter().enumerate() {
            let slot = unit.base + f.start;
            if slot >= lo && slot < hi && f.external {
                out.push(KernelProgram {
                    function: i,
                    prog_type,
                    section: s.name.clone(),
                });
            }
        }
    }
    out
}

/// One program's verdict with its report text.
#[derive(Clone, Debug)]
pub struct KernelReport {
    pub object: String,
    pub verdict: Verdict,
    /// The human-readable report (what `--verify kernel` prints).
    pub text: String,
}

/// Runs kernel mode on every program of one placed object.
pub fn verify_object(
    g: &LinkGraph,
    options: KernelOptions,
    source_text: &dyn Fn(&str, u32) -> Option<String>,
) -> Result<Vec<KernelReport>, String> {
    let unit = UnitCode::of(std::slice::from_ref(g)).ok_or("the object has no code")?;
    let maps = object_maps(g)?;
    let programs = object_programs(g, &unit);
    if programs.is_empty() {
        return Err(
            "no program sections (SEC(\"xdp\"), SEC(\"kprobe/...\"), ...) in the object"
                .to_string(),
        );
    }
    let debug = ObjectDebugInfo::load(g);
    let lines = |slot: usize| -> Option<SourceLine> {
        let loc = debug.as_ref()?.location(bpf_vm::code_addr(slot))?;
        let text = match (&loc.file, loc.line) {
            (Some(f), Some(l)) => source_text(f, l),
            _ => None,
        };
        Some(SourceLine {
            location: loc.to_string(),
            text,
        })
    };
    let env = KernelEnv {
        maps: &maps,
        options,
        facts: object_facts(g),
    };
    let program = unit.program();
    Ok(programs
        .iter()
        .map(|kp| {
            let verdict = bpf_verifier::verify_kernel(&program, kp, &env, Limits::default());
            let text = format_verdict(&verdict, &program, &kp.section, &lines);
            KernelReport {
                object: g.name.clone(),
                verdict,
                text,
            }
        })
        .collect())
}

/// A verification pass for [`crate::Session::add_verifier`]: kernel mode on
/// every object linked; a program the kernel would refuse fails the link
/// with its report. Every report (accepted ones too) is also pushed to
/// `reports`.
pub fn kernel_hook(
    options: KernelOptions,
    reports: Rc<RefCell<Vec<KernelReport>>>,
) -> crate::session::VerifyHook {
    Box::new(move |g: &LinkGraph, _vm: &Vm| {
        let source = |file: &str, line: u32| -> Option<String> {
            let text = std::fs::read_to_string(file).ok()?;
            text.lines()
                .nth(line.checked_sub(1)? as usize)
                .map(str::to_string)
        };
        let found = verify_object(g, options, &source)?;
        let refused: Vec<String> = found
            .iter()
            .filter(|r| !r.verdict.accepted())
            .map(|r| r.text.clone())
            .collect();
        reports.borrow_mut().extend(found);
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the Linux verifier would refuse it:\n{}",
                refused.join("\n")
            ))
        }
    })
}

/// Kernel mode on one function already linked into `session` (the REPL's
/// `%verify NAME`): the function is verified as a program of `prog_type`,
/// together with the functions of its object it calls, against the maps
/// and global data of every linked object. `source_text` reads line `n` of a file for the report.
pub fn verify_linked_function(
    session: &crate::Session,
    name: &str,
    prog_type: ProgType,
    options: KernelOptions,
    source_text: &dyn Fn(&str, u32) -> Option<String>,
) -> Result<KernelReport, String> {
    let (start, _) = session
        .function_slots(name)
        .ok_or_else(|| format!("no function named `{name}` is linked"))?;
    let index = session
        .object_at(start)
        .ok_or_else(|| format!("`{name}` is not in a linked object"))?;
    let object = &session.objects()[index];
    let g = &object.graph;
    let unit = UnitCode::of(std::slice::from_ref(g)).ok_or("the object has no code")?;
    let function = unit
        .functions
        .iter()
        .position(|f| unit.base + f.start == start)
        .ok_or_else(|| format!("`{name}` does not start a function of {}", object.name))?;
    // A session grows by objects (a REPL's inputs): a program sees the
    // maps and global data of every object linked so far, and the license
    // any of them declares.
    let mut maps = Vec::new();
    let mut facts = object_facts(g);
    for o in session.objects() {
        maps.extend(object_maps(&o.graph)?);
        facts.gpl |= object_facts(&o.graph).gpl;
    }
    let debug = session.debug_info(index);
    let lines = |slot: usize| -> Option<SourceLine> {
        let loc = debug.as_ref()?.location(bpf_vm::code_addr(slot))?;
        let text = match (&loc.file, loc.line) {
            (Some(f), Some(l)) => source_text(f, l),
            _ => None,
        };
        Some(SourceLine {
            location: loc.to_string(),
            text,
        })
    };
    let env = KernelEnv {
        maps: &maps,
        options,
        facts,
    };
    let kp = KernelProgram {
        function,
        prog_type,
        section: g
            .sections
            .iter()
            .find(|s| {
                s.kind == SectionKind::Code
                    && s.addr
                        .is_some_and(|a| slot_of(a) <= start && start < slot_of(a + s.size()))
            })
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    };
    let program = unit.program();
    let verdict = bpf_verifier::verify_kernel(&program, &kp, &env, Limits::default());
    let text = format_verdict(&verdict, &program, &kp.section, &lines);
    Ok(KernelReport {
        object: object.name.clone(),
        verdict,
        text,
    })
}
