//! Map definitions in objects, read as libbpf reads them: BTF-defined maps
//! in `.maps` (a struct per map whose members `type`, `key`, `value`,
//! `max_entries`... encode the definition in their types, and whose
//! `values` member may list programs for a program array), and legacy
//! `struct bpf_map_def` records in `maps` sections.

use crate::btf::{Btf, Type};
use crate::error::LinkError;
use crate::graph::{Definition, LinkGraph, SectionId, SectionKind, SymbolId, SymbolKind};
use bpf_kabi::maps::{map_type, MapDef as KernelMapDef};

/// One map an object defines.
#[derive(Debug, Clone)]
pub struct MapDef {
    pub name: String,
    /// Its place in the map section (what relocations against it name).
    pub section: SectionId,
    pub offset: u64,
    pub size: u64,
    /// The definition, whatever its type (the kernel world refuses types
    /// it does not implement when it creates the map; the verifier checks
    /// programs against any).
    pub def: KernelMapDef,
    /// Program array entries set at load time (`.values = { [i] = &prog }`):
    /// (index, the program's symbol).
    pub values: Vec<(u32, SymbolId)>,
}

/// The object's `.BTF`, if it has one.
pub(crate) fn object_btf(g: &LinkGraph) -> Result<Option<Btf>, LinkError> {
    let Some(s) = g.sections.iter().find(|s| s.name == ".BTF") else {
        return Ok(None);
    };
    Btf::parse(&s.bytes)
        .map(Some)
        .map_err(|e| LinkError::Malformed {
            object: g.name.clone(),
            reason: format!(".BTF: {e}"),
        })
}

/// Every map the object defines, in section and offset order.
pub fn read_maps(g: &LinkGraph) -> Result<Vec<MapDef>, LinkError> {
    let mut out = Vec::new();
    for (si, s) in g.sections.iter().enumerate() {
        if s.kind != SectionKind::Maps {
            continue;
        }
        if s.name == ".maps" {
            let btf = object_btf(g)?.ok_or_else(|| LinkError::Unsupported {
                object: g.name.clone(),
                place: "section .maps".to_string(),
                feature: "BTF-defined maps without .BTF (compile with -g)".to_string(),
            })?;
            out.extend(btf_maps(g, si, &btf)?);
        } else {
            out.extend(legacy_maps(g, si)?);
        }
    }
    Ok(out)
}

/// The symbols defined in section `si`, by offset.
fn symbols_in(g: &LinkGraph, si: SectionId) -> Vec<(u64, SymbolId)> {
    let mut v: Vec<(u64, SymbolId)> = g
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind != SymbolKind::Section)
        .filter_map(|(id, s)| match s.def {
            Definition::Defined { section, offset } if section == si => Some((offset, id)),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// `struct bpf_map_def { type, key_size, value_size, max_entries,
/// map_flags; ... }` records (iproute2's longer `bpf_elf_map` starts the
/// same way). Each symbol in the section is one map; without symbol sizes
/// the section is split evenly, as libbpf does.
fn legacy_maps(g: &LinkGraph, si: SectionId) -> Result<Vec<MapDef>, LinkError> {
    let s = &g.sections[si];
    let syms = symbols_in(g, si);
    if syms.is_empty() {
        return Ok(Vec::new());
    }
    let even = s.size() / syms.len() as u64;
    syms.iter()
        .map(|&(offset, id)| {
            let sym = &g.symbols[id];
            let size = if sym.size > 0 { sym.size } else { even };
            let bytes = s.bytes.get(offset as usize..).unwrap_or(&[]);
            let def = (offset + size <= s.size())
                .then(|| KernelMapDef::legacy(bytes, size as usize))
                .flatten();
            let Some(def) = def else {
                return Err(LinkError::Malformed {
                    object: g.name.clone(),
                    reason: format!(
                        "map `{}` in section {} is {size} bytes, too small for a struct \
                         bpf_map_def",
                        sym.name, s.name
                    ),
                });
            };
            Ok(MapDef {
                name: sym.name.clone(),
                section: si,
                offset,
                size,
                def,
                values: Vec::new(),
            })
        })
        .collect()
}

/// Maps of a `.maps` section, from its BTF data section.
fn btf_maps(g: &LinkGraph, si: SectionId, btf: &Btf) -> Result<Vec<MapDef>, LinkError> {
    let bad = |reason: String| LinkError::Malformed {
        object: g.name.clone(),
        reason,
    };
    let vars = btf
        .datasec(".maps")
        .ok_or_else(|| bad(".BTF has no data section for .maps".to_string()))?;
    let section = &g.sections[si];
    let mut out = Vec::new();
    for v in vars {
        let Ok(Type::Var { name, type_id, .. }) = btf.get(v.type_id) else {
            return Err(bad(format!(
                ".BTF: the .maps entry at offset {} is not a variable",
                v.offset
            )));
        };
        let place = format!("map `{name}` (section .maps)");
        let def = btf
            .skip_mods(*type_id)
            .and_then(|t| btf.get(t))
            .map_err(|e| bad(format!("{place}: {e}")))?;
        let Type::Struct { members, .. } = def else {
            return Err(bad(format!("{place}: its type is not a struct")));
        };
        let mut spec = KernelMapDef::default();
        let mut type_id = None;
        let mut values_at = None;
        for m in members {
            let int = || -> Result<u32, LinkError> {
                // __uint(name, N) is `int (*name)[N]`.
                let target =
                    match btf.get(btf.skip_mods(m.type_id).map_err(|e| bad(e.to_string()))?) {
                        Ok(Type::Ptr(t)) => btf.skip_mods(*t).ok(),
                        _ => None,
                    };
                match target.and_then(|t| btf.get(t).ok()) {
                    Some(Type::Array { nelems, .. }) => Ok(*nelems),
                    _ => Err(bad(format!(
                        "{place}: member `{}` is not __uint(...)",
                        m.name
                    ))),
                }
            };
            let sizeof_pointee = || -> Result<u32, LinkError> {
                // __type(name, T) is `typeof(T) *name`.
                let t = btf.skip_mods(m.type_id).map_err(|e| bad(e.to_string()))?;
                match btf.get(t) {
                    Ok(Type::Ptr(p)) => btf
                        .size_of(*p)
                        .map(|s| s as u32)
                        .map_err(|e| bad(format!("{place}: member `{}`: {e}", m.name))),
                    _ => Err(bad(format!(
                        "{place}: member `{}` is not __type(...)",
                        m.name
                    ))),
                }
            };
            match m.name.as_str() {
                "type" => type_id = Some(int()?),
                "max_entries" => spec.max_entries = int()?,
                "map_flags" => spec.flags = int()?,
                "key_size" => spec.key_size = int()?,
                "value_size" => spec.value_size = int()?,
                "key" => spec.key_size = sizeof_pointee()?,
                "value" => spec.value_size = sizeof_pointee()?,
                "values" => values_at = Some(m.bit_offset as u64 / 8),
                // Pinning, NUMA node and map_extra do not change behaviour here.
                "pinning" | "numa_node" | "map_extra" => {}
                other => {
                    return Err(LinkError::Unsupported {
                        object: g.name.clone(),
                        place,
                        feature: format!("map definition member `{other}`"),
                    })
                }
            }
        }
        let Some(type_id) = type_id else {
            return Err(bad(format!("{place}: no `type` member")));
        };
        spec.map_type = type_id;
        // Objects leave DATASEC offsets 0 (libbpf fills them in from the
        // symbol table): the map's symbol says where it is.
        let offset = symbols_in(g, si)
            .iter()
            .find(|(_, id)| g.symbols[*id].name == *name)
            .map(|(o, _)| *o)
            .unwrap_or(v.offset as u64);
        let mut values = Vec::new();
        if let Some(at) = values_at {
            let start = offset + at;
            for e in &section.edges {
                if e.offset >= start && e.offset < offset + v.size as u64 {
                    if spec.map_type != map_type::PROG_ARRAY {
                        return Err(LinkError::Unsupported {
                            object: g.name.clone(),
                            place,
                            feature: format!(
                                "initial values of a {} map (map in map)",
                                bpf_kabi::maps::type_name(spec.map_type).unwrap_or("?")
                            ),
                        });
                    }
                    values.push(((e.offset - start) as u32 / 8, e.target));
                }
            }
        }
        out.push(MapDef {
            name: name.clone(),
            section: si,
            offset,
            size: v.size as u64,
            def: spec,
            values,
        });
    }
    Ok(out)
}
