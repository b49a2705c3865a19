//! Objects in the style older LLVM (11 and before) produced for the kernel:
//! R_BPF_64_64 and R_BPF_64_32 used for data words, an allocated
//! `.eh_frame` with relocations, legacy `maps` referenced through the
//! section symbol plus an offset. Built here with `object::write`, since
//! clang-19 no longer emits them.

use bpf_kernel::{Kernel, KernelConfig};
use bpf_linker::{Session, SessionOptions};
use bpf_runtime::OutputSink;
use bpf_vm::isa::asm::*;
use bpf_vm::isa::{encode, Insn, JMP_JEQ, SIZE_DW, SIZE_W};
use bpf_vm::Vm;
use object::write::{Object, Relocation, SectionId, Symbol, SymbolId, SymbolSection};
use object::{
    elf, Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
    SymbolKind, SymbolScope,
};

const R_BPF_64_64: u32 = 1;
const R_BPF_64_32: u32 = 10;

fn reloc(obj: &mut Object, section: SectionId, offset: u64, symbol: SymbolId, r_type: u32) {
    obj.add_relocation(
        section,
        Relocation {
            offset,
            symbol,
            addend: 0,
            flags: RelocationFlags::Elf {
                r_type: elf::RelocationType(r_type),
            },
        },
    )
    .unwrap();
}

fn symbol(
    obj: &mut Object,
    name: &str,
    section: SectionId,
    value: u64,
    size: u64,
    kind: SymbolKind,
) -> SymbolId {
    obj.add_symbol(Symbol {
        name: name.as_bytes().to_vec(),
        value,
        size,
        kind,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    })
}

/// `bpf_map_def` records: a hash map, then a one-element array.
fn map_defs() -> Vec<u8> {
    [[1u32, 4, 8, 16, 0], [2, 4, 8, 1, 0]]
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

fn old_object() -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let text = obj.add_section(Vec::new(), b".text".to_vec(), SectionKind::Text);
    let data = obj.add_section(Vec::new(), b".data".to_vec(), SectionKind::Data);
    let maps = obj.add_section(Vec::new(), b"maps".to_vec(), SectionKind::Data);
    let eh = obj.add_section(Vec::new(), b".eh_frame".to_vec(), SectionKind::ReadOnlyData);
    let info = obj.add_section(Vec::new(), b".debug_info".to_vec(), SectionKind::Debug);
    let strs = obj.add_section(Vec::new(), b".debug_str".to_vec(), SectionKind::Debug);

    // f: returns **(u32 **)&ptr, where ptr (in .data) points at value.
    let mut f: Vec<Insn> = ld_imm64(1, 0).to_vec(); // R_BPF_64_64 -> .data + 0
    f.extend([ldx(SIZE_DW, 1, 1, 0), ldx(SIZE_W, 0, 1, 0), exit()]);
    // g: looks up key 0 in the second map, named as `maps` + 20 (the addend
    // sits in the ld_imm64 immediate, as old LLVM wrote it).
    let mut g = vec![
        st(SIZE_W, 10, -4, 0),
        mov64_reg(2, 10),
        alu64_imm(0x00, 2, -4),
    ];
    g.extend(ld_imm64(1, 20));
    g.extend([
        call_helper(1),
        jmp_imm(JMP_JEQ, 0, 0, 2),
        ldx(SIZE_DW, 0, 0, 0),
        exit(),
        mov64_imm(0, 99),
        exit(),
    ]);
    let f_bytes = encode(&f);
    let g_at = f_bytes.len() as u64;
    let mut code = f_bytes.clone();
    code.extend(encode(&g));
    obj.append_section_data(text, &code, 8);
    symbol(&mut obj, "f", text, 0, g_at, SymbolKind::Text);
    symbol(
        &mut obj,
        "g",
        text,
        g_at,
        code.len() as u64 - g_at,
        SymbolKind::Text,
    );

    // .data: ptr = &value (64-bit word, R_BPF_64_64 with the addend 8 in
    // place), value = 0x1234.
    let mut d = 8u64.to_le_bytes().to_vec();
    d.extend(0x1234u32.to_le_bytes());
    d.extend([0; 4]);
    obj.append_section_data(data, &d, 8);
    let data_sym = obj.section_symbol(data);
    reloc(&mut obj, data, 0, data_sym, R_BPF_64_64);
    reloc(&mut obj, text, 0, data_sym, R_BPF_64_64);

    obj.append_section_data(maps, &map_defs(), 4);
    symbol(&mut obj, "map_a", maps, 0, 20, SymbolKind::Data);
    symbol(&mut obj, "map_b", maps, 20, 20, SymbolKind::Data);
    let maps_sym = obj.section_symbol(maps);
    reloc(&mut obj, text, g_at + 3 * 8, maps_sym, R_BPF_64_64);

    // An allocated .eh_frame whose 64-bit word points at f.
    obj.append_section_data(eh, &[0u8; 16], 8);
    let text_sym = obj.section_symbol(text);
    reloc(&mut obj, eh, 8, text_sym, R_BPF_64_64);

    // .debug_info: a 32-bit offset into .debug_str (old R_BPF_64_32 for data).
    obj.append_section_data(strs, b"\0\0\0\0\0\0\0\0abc\0", 1);
    obj.append_section_data(info, &8u32.to_le_bytes(), 1);
    let strs_sym = obj.section_symbol(strs);
    reloc(&mut obj, info, 0, strs_sym, R_BPF_64_32);
    obj.write().unwrap()
}

#[test]
fn old_style_data_relocations_eh_frame_and_legacy_maps_link_and_run() {
    let bytes = old_object();
    // Sanity: the object really has the old relocation types on data.
    let file = object::read::elf::ElfFile64::<object::LittleEndian>::parse(&*bytes).unwrap();
    use object::{Object as _, ObjectSection as _};
    let eh = file.section_by_name(".eh_frame").unwrap();
    let (_, r) = eh.relocations().next().unwrap();
    assert_eq!(
        r.flags(),
        RelocationFlags::Elf {
            r_type: elf::RelocationType(R_BPF_64_64)
        }
    );
    let object::SectionFlags::Elf { sh_flags, .. } = eh.flags() else {
        panic!("ELF flags")
    };
    assert_ne!(sh_flags.0 & elf::SHF_ALLOC.0, 0, ".eh_frame is allocated");

    let mut s = Session::new(Vm::default(), SessionOptions::default());
    s.enable_kernel(Kernel::new(KernelConfig::default(), OutputSink::buffer()));
    s.add_object("old.o", &bytes).unwrap();
    assert_eq!(s.call("f", &[]).unwrap(), 0x1234);

    // g names map_b through `maps` + 20: an empty array slot, then 77.
    assert_eq!(s.call("g", &[]).unwrap(), 0);
    let handle = s.map_handle("map_b").unwrap();
    let kernel = s.kernel().unwrap().clone();
    kernel
        .update(&mut s.vm_mut().mem, handle, &[0; 4], &77u64.to_le_bytes())
        .unwrap();
    assert_eq!(s.call("g", &[]).unwrap(), 77);
    assert!(s.list_maps().contains("map_a"));
    assert!(s.list_maps().contains("hash, key 4 B, value 8 B, max 16"));

    // The debug word was relocated as a 32-bit offset, not refused as code.
    let obj = &s.objects()[0];
    let info = obj
        .graph
        .sections
        .iter()
        .find(|s| s.name == ".debug_info")
        .unwrap();
    assert_eq!(info.bytes, 8u32.to_le_bytes());
    assert!(obj.graph.sections.iter().all(|s| s.name != ".eh_frame"));
}
