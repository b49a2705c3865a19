//! Hostile and malformed objects: each is a clear error naming the place,
//! never a panic, and the session stays usable.

use bpf_linker::{LinkError, Session, SessionOptions};
use bpf_vm::Vm;
use object::read::elf::{FileHeader, SectionHeader};
use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
use object::{elf, Architecture, BinaryFormat, Endianness, LittleEndian as LE, RelocationFlags};
use object::{SymbolFlags, SymbolKind, SymbolScope};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/obj/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn link(bytes: &[u8]) -> LinkError {
    let mut s = Session::new(Vm::default(), SessionOptions::default());
    let e = s.add_object("bad.o", bytes).unwrap_err();
    // The session is still usable after the failure.
    s.add_object("func.o", &fixture("func.o")).unwrap();
    assert_eq!(s.call("func", &[]).unwrap(), 0);
    e
}

/// File offset of the first relocation entry of `.rel<section>`.
fn first_rel_offset(bytes: &[u8], section: &str) -> usize {
    let header = elf::FileHeader64::<LE>::parse(bytes).unwrap();
    let sections = header.sections(LE, bytes).unwrap();
    for sh in sections.iter() {
        let name = sections.section_name(LE, sh).unwrap();
        if name == format!(".rel{section}").as_bytes() {
            return sh.sh_offset(LE) as usize;
        }
    }
    panic!("no .rel{section}")
}

fn bpf_object() -> Object<'static> {
    Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little)
}

fn add_text(obj: &mut Object, code: &[u8]) -> object::write::SymbolId {
    let text = obj.section_id(StandardSection::Text);
    let off = obj.append_section_data(text, code, 8);
    obj.add_symbol(Symbol {
        name: b"f".to_vec(),
        value: off,
        size: code.len() as u64,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(text),
        flags: SymbolFlags::None,
    })
}

const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

#[test]
fn truncated_and_non_elf_files() {
    let good = fixture("fib.o");
    for cut in [0, 10, 63, 200, good.len() / 2, good.len() - 1] {
        let e = link(&good[..cut]);
        assert!(
            matches!(e, LinkError::Malformed { .. }),
            "cut at {cut}: {e}"
        );
        assert!(e.to_string().starts_with("bad.o: malformed object"), "{e}");
    }
    let e = link(b"#!/bin/sh\necho not an object\n");
    assert_eq!(
        e.to_string(),
        "bad.o: malformed object: not an ELF file (bad magic)"
    );
}

#[test]
fn wrong_machine_and_endianness() {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    obj.append_section_data(text, &[0xc3], 1);
    let e = link(&obj.write().unwrap());
    assert!(matches!(e, LinkError::WrongTarget { .. }));
    assert!(e.to_string().contains("x86-64"), "{e}");

    let e = link(&fixture("fib.bpfeb.o"));
    assert!(e.to_string().contains("big-endian"), "{e}");
}

#[test]
fn relocation_with_bad_symbol_index() {
    let mut bytes = fixture("relocs.nodebug.o");
    let at = first_rel_offset(&bytes, ".text");
    // r_info = sym << 32 | type; keep the type, point at symbol 4000.
    bytes[at + 12..at + 16].copy_from_slice(&4000u32.to_le_bytes());
    let e = link(&bytes);
    let text = e.to_string();
    assert!(text.contains("relocation at .text+0x"), "{text}");
    assert!(text.contains("symbol index 4000 is out of range"), "{text}");
}

#[test]
fn relocation_offset_past_its_section() {
    let mut bytes = fixture("relocs.nodebug.o");
    let at = first_rel_offset(&bytes, ".text");
    bytes[at..at + 8].copy_from_slice(&0x10_0000u64.to_le_bytes());
    let e = link(&bytes);
    assert!(
        e.to_string()
            .contains("relocation at .text+0x100000: patched field runs past the end"),
        "{e}"
    );
}

#[test]
fn unknown_relocation_type() {
    let mut bytes = fixture("relocs.nodebug.o");
    let at = first_rel_offset(&bytes, ".text");
    bytes[at + 8..at + 12].copy_from_slice(&77u32.to_le_bytes());
    let e = link(&bytes);
    assert!(
        e.to_string().contains("unknown BPF relocation type 77"),
        "{e}"
    );
}

#[test]
fn ld_imm64_relocation_on_another_instruction() {
    let mut obj = bpf_object();
    let f = add_text(&mut obj, &EXIT);
    let text = obj.section_id(StandardSection::Text);
    obj.add_relocation(
        text,
        Relocation {
            offset: 0,
            symbol: f,
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: elf::RelocationType(1),
            },
        },
    )
    .unwrap();
    let e = link(&obj.write().unwrap());
    let text = e.to_string();
    assert!(text.contains("relocation at .text+0x0"), "{text}");
    assert!(text.contains("expected ld_imm64"), "{text}");
}

#[test]
fn relocation_against_a_section_that_is_not_loaded() {
    let mut obj = bpf_object();
    let mut code = vec![0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    code.extend_from_slice(&EXIT);
    add_text(&mut obj, &code);
    let notes = obj.add_section(Vec::new(), b".notes".to_vec(), object::SectionKind::Note);
    obj.append_section_data(notes, &[1, 2, 3, 4], 4);
    let sym = obj.add_symbol(Symbol {
        name: b"note_sym".to_vec(),
        value: 0,
        size: 4,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(notes),
        flags: SymbolFlags::None,
    });
    let text = obj.section_id(StandardSection::Text);
    obj.add_relocation(
        text,
        Relocation {
            offset: 0,
            symbol: sym,
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: elf::RelocationType(1),
            },
        },
    )
    .unwrap();
    let e = link(&obj.write().unwrap());
    assert!(
        e.to_string()
            .contains("refers to `note_sym` in section .notes, which is not loaded"),
        "{e}"
    );
}

#[test]
fn code_that_the_vm_would_not_run() {
    let mut obj = bpf_object();
    // An unknown opcode inside function `f`.
    let mut code = EXIT.to_vec();
    code[0] = 0xff;
    code.extend_from_slice(&EXIT);
    add_text(&mut obj, &code);
    let e = link(&obj.write().unwrap());
    assert_eq!(
        e.to_string(),
        "bad.o: .text in function `f`: invalid instruction #0 (opcode 0xff): unknown opcode 0xff"
    );
}

#[test]
fn code_section_that_is_not_whole_instructions() {
    let mut obj = bpf_object();
    add_text(&mut obj, &[0x95, 0, 0, 0, 0, 0, 0, 0, 0x95, 0]);
    let e = link(&obj.write().unwrap());
    assert!(
        e.to_string()
            .contains("not a whole number of 8-byte instructions"),
        "{e}"
    );
}

#[test]
fn random_corruption_never_panics() {
    let good = fixture("relocs.o");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let mut bytes = good.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % bytes.len();
            bytes[at] = (seed >> 32) as u8;
        }
        let mut s = Session::new(Vm::default(), SessionOptions::default());
        let _ = s.add_objects(&[("x.o", &bytes), ("ext.o", &fixture("ext.o"))]);
    }
}

/// Adds a global function symbol `name` at `value` in `.text`.
fn add_text_symbol(obj: &mut Object, name: &str, value: u64) {
    let text = obj.section_id(StandardSection::Text);
    obj.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value,
        size: 0,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(text),
        flags: SymbolFlags::None,
    });
}

#[test]
fn function_symbol_past_the_last_instruction() {
    // Found by fuzzing (linker_object): a global at the end of `.text` had
    // no instruction, and redefining it in a REPL session repointed its
    // stub past the code, which panicked.
    let mut obj = bpf_object();
    add_text(&mut obj, &EXIT);
    add_text_symbol(&mut obj, "g", 8);
    let bytes = obj.write().unwrap();
    assert_eq!(
        link(&bytes).to_string(),
        "bad.o: malformed object: function g at offset 0x8 of .text does not start an \
         instruction (.text is 0x8 bytes)"
    );
    let options = SessionOptions {
        allow_redefinition: true,
        ..SessionOptions::default()
    };
    let mut s = Session::new(Vm::default(), options);
    assert!(s.add_object("a.o", &bytes).is_err());
    assert!(s.add_object("b.o", &bytes).is_err());
    s.add_object("func.o", &fixture("func.o")).unwrap();
    assert_eq!(s.call("func", &[]).unwrap(), 0);
}

#[test]
fn function_symbol_inside_an_instruction() {
    let mut obj = bpf_object();
    add_text(&mut obj, &[EXIT, EXIT].concat());
    add_text_symbol(&mut obj, "g", 4);
    assert!(link(&obj.write().unwrap())
        .to_string()
        .contains("function g at offset 0x4 of .text does not start an instruction"));
}

#[test]
fn symbol_size_past_the_end_of_its_section() {
    // Found by fuzzing (linker_object): a huge `st_size` overflowed the
    // function lookup of backtraces (`Session::function_at`).
    let mut obj = bpf_object();
    let f = add_text(&mut obj, &EXIT);
    obj.symbol_mut(f).size = u64::MAX - 7;
    let e = link(&obj.write().unwrap());
    assert_eq!(
        e.to_string(),
        "bad.o: malformed object: symbol f at offset 0x0 with size 0xfffffffffffffff8 runs \
         past the end of .text (0x8 bytes)"
    );
}
