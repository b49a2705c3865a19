//! ELF relocatable object -> [`LinkGraph`], with the `object` crate's
//! zero-copy ELF reader.
//!
//! Every check that can fail on a hostile file is an error naming the
//! object and the place: wrong class, endianness, machine or type; section
//! or symbol tables out of bounds; relocations with bad symbol indices or
//! offsets past their section; code sections that are not whole
//! instructions.

use crate::bpf::{edge_kind, read_addend};
use crate::error::LinkError;
use crate::graph::*;
use object::elf;
use object::read::elf::{FileHeader, Rel, SectionHeader, Sym};
use object::LittleEndian as LE;
use std::collections::HashMap;

type Header = elf::FileHeader64<LE>;

/// Reads an ELF relocatable BPF object into a link graph named `name`.
pub fn read_object(name: &str, data: &[u8]) -> Result<LinkGraph, LinkError> {
    let malformed = |reason: &str| LinkError::Malformed {
        object: name.to_string(),
        reason: reason.to_string(),
    };
    check_ident(name, data)?;
    let header = Header::parse(data).map_err(|e| malformed(&e.to_string()))?;
    let endian = LE;
    if header.e_machine(endian) != elf::EM_BPF {
        return Err(LinkError::WrongTarget {
            object: name.to_string(),
            found: format!("machine {}", machine_name(header.e_machine(endian).0)),
        });
    }
    if header.e_type(endian) != elf::ET_REL {
        return Err(LinkError::WrongTarget {
            object: name.to_string(),
            found: format!("ELF type {} (want ET_REL)", header.e_type(endian).0),
        });
    }
    let sections = header
        .sections(endian, data)
        .map_err(|e| malformed(&e.to_string()))?;

    // Sections that contribute to the graph, by ELF index.
    let mut graph = LinkGraph {
        name: name.to_string(),
        sections: Vec::new(),
        symbols: Vec::new(),
        abi: None,
        map_handles: Vec::new(),
    };
    let mut by_elf_index: HashMap<usize, SectionId> = HashMap::new();
    let mut dropped: HashMap<usize, String> = HashMap::new();
    for (index, sh) in sections.iter().enumerate().skip(1) {
        let sec_name = String::from_utf8_lossy(
            sections
                .section_name(endian, sh)
                .map_err(|e| malformed(&e.to_string()))?,
        )
        .into_owned();
        let Some(kind) = classify(sh, &sec_name) else {
            if sec_name == crate::abi::ABI_SECTION {
                let bytes = sh
                    .data(endian, data)
                    .map_err(|_| malformed("section .bpf_repl.abi lies outside the file"))?;
                graph.abi = Some(crate::abi::AbiMarker::parse(bytes).map_err(|r| malformed(&r))?);
            }
            dropped.insert(index, sec_name);
            continue;
        };
        let size = sh.sh_size(endian);
        let bytes = if sh.sh_type(endian) == elf::SHT_NOBITS {
            if size > bpf_vm::memory::MAX_REGION_SIZE as u64 {
                return Err(malformed(&format!(
                    "section {sec_name} is too large ({size:#x} bytes)"
                )));
            }
            vec![0; size as usize]
        } else {
            sh.data(endian, data)
                .map_err(|_| malformed(&format!("section {sec_name} lies outside the file")))?
                .to_vec()
        };
        if kind == SectionKind::Code && bytes.len() % bpf_vm::isa::INSN_SIZE != 0 {
            return Err(malformed(&format!(
                "code section {sec_name} is {} bytes, not a whole number of 8-byte instructions",
                bytes.len()
            )));
        }
        let align = sh.sh_addralign(endian).max(1);
        if !align.is_power_of_two() {
            return Err(malformed(&format!(
                "section {sec_name} has alignment {align}"
            )));
        }
        by_elf_index.insert(index, graph.sections.len());
        graph.sections.push(Section {
            name: sec_name,
            kind,
            align,
            bytes,
            edges: Vec::new(),
            addr: None,
        });
    }

    // Symbols: graph symbol ids equal ELF symbol indices.
    let symtab = sections
        .symbols(endian, data, elf::SHT_SYMTAB)
        .map_err(|e| malformed(&e.to_string()))?;
    let strings = symtab.strings();
    let mut unplaced: HashMap<SymbolId, String> = HashMap::new();
    for (index, sym) in symtab.iter().enumerate() {
        let sym_name = String::from_utf8_lossy(
            sym.name(endian, strings)
                .map_err(|_| malformed(&format!("symbol #{index} has a bad name offset")))?,
        )
        .into_owned();
        let scope = match sym.st_bind() {
            elf::STB_LOCAL => Scope::Local,
            elf::STB_WEAK => Scope::Weak,
            _ => Scope::Global,
        };
        let shndx = sym.st_shndx(endian);
        let value = sym.st_value(endian);
        let size = sym.st_size(endian);
        let def = if index == 0 {
            Definition::Absolute(0)
        } else if shndx == elf::SHN_UNDEF {
            Definition::External
        } else if shndx == elf::SHN_ABS {
            Definition::Absolute(value)
        } else if shndx == elf::SHN_COMMON {
            Definition::Common {
                align: value.max(1),
            }
        } else {
            let elf_index = symtab
                .symbol_section(endian, sym, object::SymbolIndex(index))
                .map_err(|e| malformed(&e.to_string()))?
                .map(|s| s.0)
                .unwrap_or(0);
            match by_elf_index.get(&elf_index) {
                Some(&section) => {
                    let sec = &graph.sections[section];
                    if value > sec.size() {
                        return Err(malformed(&format!(
                            "symbol {sym_name} at offset {value:#x} lies past the end of {}",
                            sec.name
                        )));
                    }
                    if value.checked_add(size).is_none_or(|end| end > sec.size()) {
                        return Err(malformed(&format!(
                            "symbol {sym_name} at offset {value:#x} with size {size:#x} runs \
                             past the end of {} ({:#x} bytes)",
                            sec.name,
                            sec.size()
                        )));
                    }
                    Definition::Defined {
                        section,
                        offset: value,
                    }
                }
                None => {
                    let sec = dropped
                        .get(&elf_index)
                        .cloned()
                        .unwrap_or_else(|| format!("#{elf_index}"));
                    unplaced.insert(index, sec);
                    Definition::Absolute(0)
                }
            }
        };
        let kind = match sym.st_type() {
            elf::STT_FUNC => SymbolKind::Function,
            elf::STT_OBJECT => SymbolKind::Object,
            elf::STT_SECTION => SymbolKind::Section,
            _ => match def {
                Definition::Defined { section, .. }
                    if graph.sections[section].kind == SectionKind::Code =>
                {
                    SymbolKind::Function
                }
                _ => SymbolKind::Other,
            },
        };
        // A global name in code is a function others call and the REPL
        // redefines through a stub: it must start an instruction.
        if let Definition::Defined { section, offset } = def {
            let sec = &graph.sections[section];
            if sec.kind == SectionKind::Code
                && kind != SymbolKind::Section
                && scope != Scope::Local
                && (offset >= sec.size() || offset % bpf_vm::isa::INSN_SIZE as u64 != 0)
            {
                return Err(malformed(&format!(
                    "function {sym_name} at offset {offset:#x} of {} does not start an \
                     instruction ({} is {:#x} bytes)",
                    sec.name,
                    sec.name,
                    sec.size()
                )));
            }
        }
        let sym_name = if kind == SymbolKind::Section && sym_name.is_empty() {
            match def {
                Definition::Defined { section, .. } => graph.sections[section].name.clone(),
                _ => sym_name,
            }
        } else {
            sym_name
        };
        graph.symbols.push(Symbol {
            name: sym_name,
            scope,
            kind,
            def,
            size,
        });
    }

    // Relocations -> edges with explicit addends.
    for sh in sections.iter() {
        let Some((rels, _link)) = sh
            .rel(endian, data)
            .map_err(|e| malformed(&e.to_string()))?
        else {
            if sh.sh_type(endian) == elf::SHT_RELA {
                return Err(malformed("RELA relocation sections are not used by BPF"));
            }
            continue;
        };
        let target_index = sh.sh_info(endian) as usize;
        let Some(&section) = by_elf_index.get(&target_index) else {
            continue; // relocations of a section we do not keep
        };
        let sec_name = graph.sections[section].name.clone();
        for rel in rels {
            let offset = rel.r_offset(endian);
            let reloc_err = |reason: String| LinkError::Relocation {
                object: name.to_string(),
                section: sec_name.clone(),
                offset,
                reason,
            };
            let r_type = rel.r_type(endian).0;
            let in_code = graph.sections[section].kind == SectionKind::Code;
            let Some(kind) = edge_kind(r_type, in_code) else {
                return Err(reloc_err(format!("unknown BPF relocation type {r_type}")));
            };
            let target = rel.r_sym(endian) as usize;
            if target >= graph.symbols.len() {
                return Err(reloc_err(format!(
                    "symbol index {target} is out of range (the symbol table has {} entries)",
                    graph.symbols.len()
                )));
            }
            if let Some(where_) = unplaced.get(&target) {
                return Err(reloc_err(format!(
                    "refers to `{}` in section {where_}, which is not loaded",
                    graph.symbols[target].name
                )));
            }
            let bytes = &graph.sections[section].bytes;
            let addend = read_addend(kind, bytes, offset).map_err(|e| reloc_err(e.to_string()))?;
            graph.sections[section].edges.push(Edge {
                kind,
                offset,
                target,
                addend,
            });
        }
    }
    Ok(graph)
}

fn check_ident(name: &str, data: &[u8]) -> Result<(), LinkError> {
    let wrong = |found: &str| LinkError::WrongTarget {
        object: name.to_string(),
        found: found.to_string(),
    };
    if data.len() < 16 || &data[..4] != b"\x7fELF" {
        return Err(LinkError::Malformed {
            object: name.to_string(),
            reason: if data.len() < 16 {
                format!("file is truncated ({} bytes)", data.len())
            } else {
                "not an ELF file (bad magic)".to_string()
            },
        });
    }
    if data[4] != elf::ELFCLASS64.0 {
        return Err(wrong("32-bit ELF"));
    }
    if data[5] == elf::ELFDATA2MSB.0 {
        return Err(wrong(
            "big-endian (bpfeb) ELF; compile with -target bpfel or -target bpf",
        ));
    }
    if data[5] != elf::ELFDATA2LSB.0 {
        return Err(wrong("unknown ELF data encoding"));
    }
    Ok(())
}

fn machine_name(machine: u16) -> String {
    match machine {
        62 => "x86-64 (EM_X86_64)".to_string(),
        183 => "AArch64 (EM_AARCH64)".to_string(),
        243 => "RISC-V (EM_RISCV)".to_string(),
        3 => "i386 (EM_386)".to_string(),
        40 => "ARM (EM_ARM)".to_string(),
        m => format!("EM {m}"),
    }
}

/// Decides what a section is, or `None` if it contributes nothing.
fn classify(sh: &elf::SectionHeader64<LE>, name: &str) -> Option<SectionKind> {
    let endian = LE;
    let flags = sh.sh_flags(endian).0;
    let ty = sh.sh_type(endian);
    let alloc = flags & elf::SHF_ALLOC.0 != 0;
    // Map definitions (libbpf's BTF-defined `.maps`, legacy `maps`): read
    // by the linker, never loaded.
    if (name == ".maps" || name == "maps" || name.starts_with("maps/"))
        && ty == elf::SHT_PROGBITS
        && flags & elf::SHF_EXECINSTR.0 == 0
    {
        return Some(SectionKind::Maps);
    }
    // Unwind tables (older LLVM emitted `.eh_frame`, allocated): BPF has
    // no unwinding; dropped with their relocations.
    if name == ".eh_frame" {
        return None;
    }
    if alloc && (ty == elf::SHT_PROGBITS || ty == elf::SHT_NOBITS) {
        return Some(if flags & elf::SHF_EXECINSTR.0 != 0 {
            SectionKind::Code
        } else if ty == elf::SHT_NOBITS {
            SectionKind::ZeroFill
        } else if flags & elf::SHF_WRITE.0 != 0 {
            SectionKind::Data
        } else {
            SectionKind::ReadOnly
        });
    }
    if ty == elf::SHT_PROGBITS && name.starts_with(".debug_") {
        return Some(SectionKind::Debug);
    }
    if ty == elf::SHT_PROGBITS && (name == ".BTF" || name == ".BTF.ext") {
        return Some(SectionKind::Btf);
    }
    None
}
