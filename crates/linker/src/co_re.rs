//! CO-RE ("compile once, run everywhere") relocations from `.BTF.ext`,
//! resolved as libbpf resolves them: the access path clang recorded
//! against the object's own BTF is matched by name against a target BTF
//! (the kernel's, given with `--btf`), and the instruction gets the
//! target's field offset, size, existence, type id or enum value. Without
//! a target BTF, an object with CO-RE relocations is refused, naming the
//! first one; none is ever silently ignored.

use crate::btf::{Btf, Member, Type};
use crate::calls::place;
use crate::error::LinkError;
use crate::graph::{LinkGraph, SectionKind};
use crate::maps::object_btf;
use bpf_vm::isa::{CLASS_ALU, CLASS_ALU64, CLASS_LDX, CLASS_ST, CLASS_STX, INSN_SIZE, OP_LD_IMM64};

/// `enum bpf_core_relo_kind`.
const KIND_NAMES: [&str; 13] = [
    "field byte offset",
    "field byte size",
    "field exists",
    "field signedness",
    "field left shift",
    "field right shift",
    "local type id",
    "target type id",
    "type exists",
    "type size",
    "enum value exists",
    "enum value",
    "type matches",
];

/// One CO-RE relocation record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Relo {
    section: String,
    insn_off: u32,
    type_id: u32,
    access: String,
    kind: u32,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The CO-RE records of a `.BTF.ext` section (none for older headers
/// without a CO-RE part).
fn records(ext: &[u8], btf: &Btf) -> Result<Vec<Relo>, String> {
    let hdr_len = u32_at(ext, 4).ok_or("header truncated")? as usize;
    if ext.get(..2) != Some(&[0x9f, 0xeb]) {
        return Err("bad magic".to_string());
    }
    if hdr_len < 32 {
        return Ok(Vec::new());
    }
    let off = u32_at(ext, 24).ok_or("header truncated")? as usize;
    let len = u32_at(ext, 28).ok_or("header truncated")? as usize;
    if len == 0 {
        return Ok(Vec::new());
    }
    let data = hdr_len
        .checked_add(off)
        .and_then(|s| ext.get(s..s.checked_add(len)?))
        .ok_or("the CO-RE part lies outside the section")?;
    let rec_size = u32_at(data, 0).ok_or("truncated")? as usize;
    if rec_size < 16 {
        return Err(format!("CO-RE record size {rec_size} is too small"));
    }
    let mut out = Vec::new();
    let mut at = 4;
    while at < data.len() {
        let name = u32_at(data, at).ok_or("truncated")?;
        let n = u32_at(data, at + 4).ok_or("truncated")? as usize;
        at += 8;
        let section = btf
            .string(name)
            .ok_or("a section name is outside the strings")?
            .to_string();
        for _ in 0..n {
            let r = data.get(at..at + rec_size).ok_or("record truncated")?;
            let access_off = u32_at(r, 8).ok_or("truncated")?;
            out.push(Relo {
                section: section.clone(),
                insn_off: u32_at(r, 0).ok_or("truncated")?,
                type_id: u32_at(r, 4).ok_or("truncated")?,
                access: btf
                    .string(access_off)
                    .ok_or("an access string is outside the strings")?
                    .to_string(),
                kind: u32_at(r, 12).ok_or("truncated")?,
            });
            at += rec_size;
        }
    }
    Ok(out)
}

/// A step of an access path, with anonymous members flattened away.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Member(String),
    Index(u32),
}

/// The named steps of `access` ("0:1:2") from `root`, and a C-like
/// spelling (`struct task_struct.pid`).
fn local_path(btf: &Btf, root: u32, access: &str) -> Result<(Vec<Step>, String), String> {
    let idx: Vec<u32> = access
        .split(':')
        .map(|s| {
            s.parse()
                .map_err(|_| format!("bad access string `{access}`"))
        })
        .collect::<Result<_, _>>()?;
    let mut steps = Vec::new();
    let mut text = btf.describe(root);
    let mut ty = btf.skip_mods(root).map_err(|e| e.to_string())?;
    if idx.first().is_some_and(|i| *i != 0) {
        steps.push(Step::Index(idx[0]));
        text.push_str(&format!("[{}]", idx[0]));
    }
    for &i in idx.iter().skip(1) {
        match btf.get(ty).map_err(|e| e.to_string())? {
            Type::Struct { members, .. } | Type::Union { members, .. } => {
                let m = members
                    .get(i as usize)
                    .ok_or_else(|| format!("member #{i} of {} does not exist", btf.describe(ty)))?;
                if !m.name.is_empty() {
                    steps.push(Step::Member(m.name.clone()));
                    text.push('.');
                    text.push_str(&m.name);
                }
                ty = btf.skip_mods(m.type_id).map_err(|e| e.to_string())?;
            }
            Type::Array { elem, .. } => {
                steps.push(Step::Index(i));
                text.push_str(&format!("[{i}]"));
                ty = btf.skip_mods(*elem).map_err(|e| e.to_string())?;
            }
            _ => {
                return Err(format!(
                    "access `{access}` goes through a non-composite type"
                ))
            }
        }
    }
    Ok((steps, text))
}

/// `task_struct___v2` and `task_struct` are the same type to CO-RE.
fn essential(name: &str) -> &str {
    match name.find("___") {
        Some(i) => &name[..i],
        None => name,
    }
}

fn same_kind(a: &Type, b: &Type) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        || matches!(
            (a, b),
            (
                Type::Struct { .. } | Type::Union { .. },
                Type::Struct { .. } | Type::Union { .. }
            ) | (
                Type::Enum { .. } | Type::Int { .. },
                Type::Enum { .. } | Type::Int { .. }
            )
        )
}

/// A member named `name` of composite `ty`, looking through anonymous
/// members: its bit offset from `ty`'s start and the member.
fn find_member(btf: &Btf, ty: u32, name: &str, depth: u32) -> Option<(u64, Member)> {
    if depth > 32 {
        return None;
    }
    let (Type::Struct { members, .. } | Type::Union { members, .. }) = btf.get(ty).ok()? else {
        return None;
    };
    for m in members {
        if m.name == name {
            return Some((m.bit_offset as u64, m.clone()));
        }
        if m.name.is_empty() {
            let inner = btf.skip_mods(m.type_id).ok()?;
            if let Some((off, found)) = find_member(btf, inner, name, depth + 1) {
                return Some((m.bit_offset as u64 + off, found));
            }
        }
    }
    None
}

/// What a field access resolves to in the target.
struct Field {
    bit_offset: u64,
    /// The field's type (modifiers skipped).
    ty: u32,
    bitfield_size: u32,
}

fn resolve_field(
    btf: &Btf,
    root: u32,
    steps: &[Step],
    local: &Btf,
    local_root: u32,
) -> Option<Field> {
    let mut ty = btf.skip_mods(root).ok()?;
    if !same_kind(
        btf.get(ty).ok()?,
        local.get(local.skip_mods(local_root).ok()?).ok()?,
    ) {
        return None;
    }
    let mut bit_offset = 0u64;
    let mut bitfield_size = 0;
    for (i, step) in steps.iter().enumerate() {
        match step {
            Step::Index(n) => {
                let (elem, size) = if i == 0 {
                    (ty, btf.size_of(ty).ok()?)
                } else {
                    let Type::Array { elem, .. } = btf.get(ty).ok()? else {
                        return None;
                    };
                    (btf.skip_mods(*elem).ok()?, btf.size_of(*elem).ok()?)
                };
                bit_offset += *n as u64 * size * 8;
                ty = elem;
            }
            Step::Member(name) => {
                let (off, m) = find_member(btf, ty, name, 0)?;
                bit_offset += off;
                bitfield_size = m.bitfield_size;
                ty = btf.skip_mods(m.type_id).ok()?;
            }
        }
    }
    Some(Field {
        bit_offset,
        ty,
        bitfield_size,
    })
}

/// The value libbpf's `bpf_core_calc_field_relo` gives for a field.
fn field_value(btf: &Btf, f: &Field, kind: u32) -> Result<u64, String> {
    let (byte_off, byte_sz, bit_sz) = if f.bitfield_size == 0 {
        let sz = btf.size_of(f.ty).map_err(|e| e.to_string())?;
        (f.bit_offset / 8, sz, sz * 8)
    } else {
        let mut sz = btf.size_of(f.ty).map_err(|e| e.to_string())?.max(1);
        let bits = f.bitfield_size as u64;
        let mut off = f.bit_offset / 8 / sz * sz;
        while f.bit_offset + bits - off * 8 > sz * 8 {
            if sz >= 8 {
                return Err("a bitfield spans more than 8 bytes".to_string());
            }
            sz *= 2;
            off = f.bit_offset / 8 / sz * sz;
        }
        (off, sz, bits)
    };
    let bit_in = if f.bitfield_size == 0 {
        0
    } else {
        f.bit_offset - byte_off * 8
    };
    Ok(match kind {
        0 => byte_off,
        1 => byte_sz,
        2 => 1,
        3 => match btf.get(f.ty).map_err(|e| e.to_string())? {
            Type::Int { signed, .. } | Type::Enum { signed, .. } => *signed as u64,
            _ => 0,
        },
        4 => 64 - (bit_in + bit_sz),
        5 => 64 - bit_sz,
        _ => unreachable!("field kinds are 0..=5"),
    })
}

/// Resolves one relocation against the target; `None` when the target
/// lacks what it names.
fn resolve(local: &Btf, target: &Btf, r: &Relo) -> Result<Option<(u64, Option<u64>)>, String> {
    let root = r.type_id;
    let local_ty = local
        .get(local.skip_mods(root).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let name = essential(local.name_of(local.skip_mods(root).map_err(|e| e.to_string())?));
    let candidates: Vec<u32> = target
        .types()
        .filter(|(_, t)| same_kind(t, local_ty))
        .filter(|(id, _)| essential(target.name_of(*id)) == name && !name.is_empty())
        .map(|(id, _)| id)
        .collect();
    let mut results = Vec::new();
    for c in candidates {
        let v = match r.kind {
            0..=5 => {
                let (steps, _) = local_path(local, root, &r.access)?;
                match resolve_field(target, c, &steps, local, root) {
                    Some(f) => {
                        let size = (r.kind == 0).then(|| target.size_of(f.ty).ok()).flatten();
                        (field_value(target, &f, r.kind)?, size)
                    }
                    None => continue,
                }
            }
            7 => (c as u64, None),
            8 | 12 => (1, None),
            9 => (target.size_of(c).map_err(|e| e.to_string())?, None),
            10 | 11 => {
                let idx: usize = r
                    .access
                    .parse()
                    .map_err(|_| "bad enum access".to_string())?;
                let (Type::Enum { values: lv, .. }, Ok(Type::Enum { values: tv, .. })) =
                    (local_ty, target.get(c))
                else {
                    continue;
                };
                let want = &lv.get(idx).ok_or("enumerator index out of range")?.name;
                match tv.iter().find(|e| essential(&e.name) == essential(want)) {
                    Some(_) if r.kind == 10 => (1, None),
                    Some(e) => (e.value as u64, None),
                    None => continue,
                }
            }
            k => return Err(format!("unknown CO-RE relocation kind {k}")),
        };
        results.push(v);
    }
    results.dedup();
    match results.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err("the target BTF has several matching types that disagree".to_string()),
    }
}

/// A description of the relocation for messages.
fn describe(local: &Btf, r: &Relo) -> String {
    let kind = KIND_NAMES
        .get(r.kind as usize)
        .copied()
        .unwrap_or("unknown kind");
    let what = match r.kind {
        0..=5 => local_path(local, r.type_id, &r.access)
            .map(|(_, t)| format!("`{t}`"))
            .unwrap_or_else(|_| format!("`{}` (access {})", local.describe(r.type_id), r.access)),
        10 | 11 => format!("enumerator {} of `{}`", r.access, local.describe(r.type_id)),
        _ => format!("`{}`", local.describe(r.type_id)),
    };
    format!("CO-RE relocation ({kind} of {what})")
}

/// Writes `value` into the instruction at byte `off` of `code`, as libbpf
/// patches each form. `sizes`: the accessed field's (local, target) size,
/// for loads of a field whose size changed.
fn patch(code: &mut [u8], off: usize, value: u64, sizes: Option<(u64, u64)>) -> Result<(), String> {
    let op = *code
        .get(off)
        .ok_or("the instruction is past the section's end")?;
    let class = op & 7;
    if op == OP_LD_IMM64 {
        let b = code.get_mut(off..off + 16).ok_or("ld_imm64 truncated")?;
        b[4..8].copy_from_slice(&(value as u32).to_le_bytes());
        b[12..16].copy_from_slice(&((value >> 32) as u32).to_le_bytes());
        return Ok(());
    }
    match class {
        CLASS_ALU | CLASS_ALU64 => {
            let imm = i32::try_from(value as i64)
                .map_err(|_| format!("value {value} does not fit in an immediate"))?;
            code[off + 4..off + 8].copy_from_slice(&imm.to_le_bytes());
        }
        CLASS_LDX | CLASS_ST | CLASS_STX => {
            let o = i16::try_from(value)
                .map_err(|_| format!("offset {value} does not fit in an instruction"))?;
            code[off + 2..off + 4].copy_from_slice(&o.to_le_bytes());
            // A field whose size changed is loaded at its new size, as libbpf does.
            let load_size = match op & 0x18 {
                0x10 => 1,
                0x08 => 2,
                0x00 => 4,
                _ => 8,
            };
            if let (Some((local, target)), CLASS_LDX) = (sizes, class) {
                if local != load_size || local == target {
                    return Ok(());
                }
                let bits = match target {
                    1 => 0x10,
                    2 => 0x08,
                    4 => 0x00,
                    8 => 0x18,
                    _ => return Ok(()),
                };
                code[off] = (op & !0x18) | bits;
            }
        }
        _ => {
            return Err(format!(
                "instruction opcode {op:#04x} cannot take a CO-RE value"
            ))
        }
    }
    Ok(())
}

/// Resolves (or, without a target, refuses) every CO-RE relocation of `g`.
pub(crate) fn relocate(g: &mut LinkGraph, target: Option<&Btf>) -> Result<(), LinkError> {
    let Some(ext) = g.sections.iter().find(|s| s.name == ".BTF.ext") else {
        return Ok(());
    };
    let object = g.name.clone();
    let bad = |reason: String| LinkError::Malformed {
        object: object.clone(),
        reason: format!(".BTF.ext: {reason}"),
    };
    let Some(local) = object_btf(g)? else {
        return Ok(());
    };
    let relos = records(&ext.bytes, &local).map_err(bad)?;
    for r in relos {
        let si = g
            .sections
            .iter()
            .position(|s| s.name == r.section && s.kind == SectionKind::Code)
            .ok_or_else(|| {
                bad(format!(
                    "CO-RE records for unknown code section {}",
                    r.section
                ))
            })?;
        let at = place(g, si, r.insn_off as u64);
        let unsupported = |feature: String| LinkError::Unsupported {
            object: object.clone(),
            place: at.clone(),
            feature,
        };
        let value = if r.kind == 6 {
            // The local type id needs no kernel.
            Some((r.type_id as u64, None))
        } else {
            let Some(target) = target else {
                let hint = if std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
                    " (this host's is /sys/kernel/btf/vmlinux)"
                } else {
                    ""
                };
                return Err(unsupported(format!(
                    "{} needs the kernel's BTF: give it with --btf FILE{hint}",
                    describe(&local, &r)
                )));
            };
            resolve(&local, target, &r)
                .map_err(|e| unsupported(format!("{}: {e}", describe(&local, &r))))?
        };
        let (value, target_size) = match (value, r.kind) {
            (Some(v), _) => v,
            // Existence checks are answered "no"; anything else is refused.
            (None, 2 | 8 | 10 | 12) => (0, None),
            (None, _) => {
                return Err(unsupported(format!(
                    "{}: the target BTF has no such {}",
                    describe(&local, &r),
                    if r.kind >= 10 {
                        "enumerator"
                    } else {
                        "field or type"
                    }
                )))
            }
        };
        let off = r.insn_off as usize;
        if !off.is_multiple_of(INSN_SIZE) {
            return Err(bad(format!(
                "CO-RE record at {} is not on an instruction",
                r.insn_off
            )));
        }
        let sizes = target_size.and_then(|t| {
            let (steps, _) = local_path(&local, r.type_id, &r.access).ok()?;
            let f = resolve_field(&local, r.type_id, &steps, &local, r.type_id)?;
            Some((local.size_of(f.ty).ok()?, t))
        });
        let code = &mut g.sections[si].bytes;
        patch(code, off, value, sizes)
            .map_err(|e| unsupported(format!("{}: {e}", describe(&local, &r))))?;
    }
    Ok(())
}
