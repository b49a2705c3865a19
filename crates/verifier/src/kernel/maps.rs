//! The maps of an object: BTF-defined maps (section `.maps`, described by
//! the object's `.BTF`), legacy `struct bpf_map_def` maps (section `maps`),
//! and the internal array maps libbpf makes of `.data`, `.rodata` and `.bss`.

use std::collections::HashMap;

/// A map's definition, as libbpf would create it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MapDef {
    /// `enum bpf_map_type`.
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
}

/// One map of the program being verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInfo {
    pub name: String,
    pub def: MapDef,
    /// Where the program refers to it: `ld_imm64` of an address in
    /// `addr..addr+size` names this map (an internal map's value, at that
    /// offset; a defined map itself).
    pub addr: u64,
    pub size: u64,
    /// True for the internal maps of global data: an address inside is a
    /// pointer to the map's single value.
    pub internal: bool,
    /// The program may not write the value (`.rodata`, `BPF_F_RDONLY_PROG`).
    pub read_only: bool,
}

/// `BPF_F_RDONLY_PROG`
pub const F_RDONLY_PROG: u32 = 1 << 7;

impl MapInfo {
    /// A `.data`/`.rodata`/`.bss` section as libbpf's internal array map.
    pub fn internal(section: &str, addr: u64, size: u64) -> MapInfo {
        let read_only = section.starts_with(".rodata");
        MapInfo {
            name: section.to_string(),
            def: MapDef {
                map_type: super::helpers::map_type::ARRAY,
                key_size: 4,
                value_size: size.min(u32::MAX as u64) as u32,
                max_entries: 1,
                flags: if read_only { F_RDONLY_PROG } else { 0 },
            },
            addr,
            size,
            internal: true,
            read_only,
        }
    }
}

/// Reads a legacy `struct bpf_map_def` (type, key size, value size, max
/// entries, flags: five `u32`s) at `bytes`.
pub fn legacy_def(bytes: &[u8]) -> Option<MapDef> {
    let word = |i: usize| -> Option<u32> {
        Some(u32::from_le_bytes(
            bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?,
        ))
    };
    Some(MapDef {
        map_type: word(0)?,
        key_size: word(1)?,
        value_size: word(2)?,
        max_entries: word(3)?,
        flags: word(4).unwrap_or(0),
    })
}

/// BTF kinds (`BTF_KIND_*`).
mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// One BTF type: kind, name, `size`-or-`type` field, and its trailing records.
#[derive(Clone, Debug, Default)]
struct BtfType {
    kind: u32,
    name: String,
    size_or_type: u32,
    /// ARRAY: (elem type, nelems); STRUCT/UNION members: (name, type);
    /// DATASEC entries: (var type, size).
    items: Vec<(String, u32, u32)>,
}

/// Map definitions from a `.BTF` section: variable name -> definition,
/// for every variable of the `.maps` data section. Malformed BTF gives an
/// error naming the problem.
pub fn btf_map_defs(btf: &[u8]) -> Result<HashMap<String, MapDef>, String> {
    let types = parse_btf(btf)?;
    let mut out = HashMap::new();
    for t in &types {
        if t.kind != kind::DATASEC || t.name != ".maps" {
            continue;
        }
        for (_, var, _) in &t.items {
            let v = types
                .get(*var as usize)
                .ok_or("a .maps entry names no type")?;
            if v.kind != kind::VAR {
                continue;
            }
            let def = map_def_of(&types, v.size_or_type)
                .ok_or_else(|| format!("map `{}` has a definition we cannot read", v.name))?;
            out.insert(v.name.clone(), def);
        }
    }
    Ok(out)
}

/// Reads `struct { __uint(type, ..); __type(key, ..); ... }`.
fn map_def_of(types: &[BtfType], id: u32) -> Option<MapDef> {
    let t = skip_modifiers(types, id)?;
    if t.kind != kind::STRUCT {
        return None;
    }
    let mut def = MapDef::default();
    for (name, member, _) in &t.items {
        let m = skip_modifiers(types, *member)?;
        if m.kind != kind::PTR {
            continue;
        }
        // `__uint(name, n)` is `int (*name)[n]`; `__type(name, T)` is `T *name`.
        let pointee = skip_modifiers(types, m.size_or_type);
        let count = pointee
            .filter(|p| p.kind == kind::ARRAY)
            .and_then(|p| p.items.first().map(|i| i.2));
        let size = || type_size(types, m.size_or_type, 0).map(|s| s as u32);
        match name.as_str() {
            "type" => def.map_type = count?,
            "max_entries" => def.max_entries = count?,
            "map_flags" => def.flags = count?,
            "key_size" => def.key_size = count?,
            "value_size" => def.value_size = count?,
            "key" => def.key_size = size()?,
            "value" => def.value_size = size()?,
            _ => {}
        }
    }
    Some(def)
}

fn skip_modifiers(types: &[BtfType], mut id: u32) -> Option<&BtfType> {
    for _ in 0..32 {
        let t = types.get(id as usize)?;
        match t.kind {
            kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
                id = t.size_or_type
            }
            _ => return Some(t),
        }
    }
    None
}

fn type_size(types: &[BtfType], id: u32, depth: u32) -> Option<u64> {
    if depth > 32 {
        return None;
    }
    let t = skip_modifiers(types, id)?;
    match t.kind {
        kind::INT | kind::STRUCT | kind::UNION | kind::ENUM | kind::FLOAT | kind::ENUM64 => {
            Some(t.size_or_type as u64)
        }
        kind::PTR => Some(8),
        kind::ARRAY => {
            let (_, elem, n) = t.items.first()?;
            type_size(types, *elem, depth + 1)?.checked_mul(*n as u64)
        }
        _ => None,
    }
}

/// Parses the type section of BTF; index 0 is the void type.
fn parse_btf(b: &[u8]) -> Result<Vec<BtfType>, String> {
    let u16_at =
        |o: usize| -> Option<u16> { Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?)) };
    let u32_at =
        |o: usize| -> Option<u32> { Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?)) };
    let bad = |what: &str| format!("malformed .BTF: {what}");
    if u16_at(0) != Some(0xeb9f) {
        return Err(bad("wrong magic (big-endian BTF is not supported)"));
    }
    let hdr_len = u32_at(4).ok_or_else(|| bad("short header"))? as usize;
    let field = |i: usize| -> Result<usize, String> {
        u32_at(8 + 4 * i)
            .map(|v| v as usize)
            .ok_or_else(|| bad("short header"))
    };
    let (type_off, type_len, str_off, str_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
    let types_start = hdr_len
        .checked_add(type_off)
        .ok_or_else(|| bad("type section"))?;
    let types_end = types_start
        .checked_add(type_len)
        .ok_or_else(|| bad("type section"))?;
    let str_start = hdr_len
        .checked_add(str_off)
        .ok_or_else(|| bad("string section"))?;
    let str_end = str_start
        .checked_add(str_len)
        .ok_or_else(|| bad("string section"))?;
    if types_end > b.len() || str_end > b.len() {
        return Err(bad("a section lies outside the data"));
    }
    let strings = &b[str_start..str_end];
    let name = |off: u32| -> String {
        let s = strings.get(off as usize..).unwrap_or(&[]);
        let end = s.iter().position(|c| *c == 0).unwrap_or(s.len());
        String::from_utf8_lossy(&s[..end]).into_owned()
    };
    let mut types = vec![BtfType::default()];
    let mut p = types_start;
    while p < types_end {
        let rd = |o: usize| {
            u32_at(o)
                .filter(|_| o + 4 <= types_end)
                .ok_or_else(|| bad("truncated type"))
        };
        let name_off = rd(p)?;
        let info = rd(p + 4)?;
        let size_or_type = rd(p + 8)?;
        p += 12;
        let vlen = (info & 0xffff) as usize;
        let k = (info >> 24) & 0x1f;
        let mut t = BtfType {
            kind: k,
            name: name(name_off),
            size_or_type,
            items: Vec::new(),
        };
        match k {
            kind::INT | kind::VAR | kind::DECL_TAG => p += 4,
            kind::ARRAY => {
                t.items.push((String::new(), rd(p)?, rd(p + 8)?));
                p += 12;
            }
            kind::STRUCT | kind::UNION => {
                for _ in 0..vlen {
                    t.items.push((name(rd(p)?), rd(p + 4)?, rd(p + 8)?));
                    p += 12;
                }
            }
            kind::DATASEC => {
                for _ in 0..vlen {
                    t.items.push((String::new(), rd(p)?, rd(p + 8)?));
                    p += 12;
                }
            }
            kind::ENUM | kind::FUNC_PROTO => p += 8 * vlen,
            kind::ENUM64 => p += 12 * vlen,
            kind::PTR
            | kind::FWD
            | kind::TYPEDEF
            | kind::VOLATILE
            | kind::CONST
            | kind::RESTRICT
            | kind::FUNC
            | kind::FLOAT
            | kind::TYPE_TAG => {}
            other => return Err(bad(&format!("unknown type kind {other}"))),
        }
        types.push(t);
    }
    Ok(types)
}
