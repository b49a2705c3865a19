//! The maps of the program being verified: where the program refers to
//! them and their definitions (read by the linker, `bpf-linker::maps`).

use bpf_kabi::MapDef;

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

impl MapInfo {
    /// A map defined in a `.maps`/`maps` section, referred to at `addr`.
    pub fn defined(name: &str, def: MapDef, addr: u64, size: u64) -> MapInfo {
        MapInfo {
            name: name.to_string(),
            read_only: def.read_only(),
            def,
            addr,
            size,
            internal: false,
        }
    }

    /// A `.data`/`.rodata`/`.bss` section as libbpf's internal array map.
    pub fn internal(section: &str, addr: u64, size: u64) -> MapInfo {
        let def = MapDef::internal(section, size);
        MapInfo {
            name: section.to_string(),
            read_only: def.read_only(),
            def,
            addr,
            size,
            internal: true,
        }
    }
}
