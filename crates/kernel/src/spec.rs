//! Map definitions: the kernel's map types (`enum bpf_map_type`), what a
//! definition must satisfy, and the VM memory a map takes.

use bpf_kabi::MapDef;
use std::fmt;

/// The map types bpf-repl implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MapType {
    Hash,
    Array,
    ProgArray,
    PerfEventArray,
    PercpuHash,
    PercpuArray,
    LruHash,
    LruPercpuHash,
    LpmTrie,
    Devmap,
    Cpumap,
    Xskmap,
    Queue,
    Stack,
    DevmapHash,
    RingBuf,
}

impl MapType {
    /// The type with kernel id `id`, or the name of an id bpf-repl does
    /// not implement (for the message that refuses it).
    pub fn from_id(id: u32) -> Result<MapType, String> {
        Ok(match id {
            1 => MapType::Hash,
            2 => MapType::Array,
            3 => MapType::ProgArray,
            4 => MapType::PerfEventArray,
            5 => MapType::PercpuHash,
            6 => MapType::PercpuArray,
            9 => MapType::LruHash,
            10 => MapType::LruPercpuHash,
            11 => MapType::LpmTrie,
            14 => MapType::Devmap,
            16 => MapType::Cpumap,
            17 => MapType::Xskmap,
            22 => MapType::Queue,
            23 => MapType::Stack,
            25 => MapType::DevmapHash,
            27 => MapType::RingBuf,
            _ => return Err(bpf_kabi::maps::describe_type(id)),
        })
    }

    /// The kernel's id of this type.
    pub fn id(self) -> u32 {
        match self {
            MapType::Hash => 1,
            MapType::Array => 2,
            MapType::ProgArray => 3,
            MapType::PerfEventArray => 4,
            MapType::PercpuHash => 5,
            MapType::PercpuArray => 6,
            MapType::LruHash => 9,
            MapType::LruPercpuHash => 10,
            MapType::LpmTrie => 11,
            MapType::Devmap => 14,
            MapType::Cpumap => 16,
            MapType::Xskmap => 17,
            MapType::Queue => 22,
            MapType::Stack => 23,
            MapType::DevmapHash => 25,
            MapType::RingBuf => 27,
        }
    }

    /// `bpftool`'s name of the type (`lru_percpu_hash`).
    pub fn name(self) -> &'static str {
        bpf_kabi::maps::type_name(self.id()).expect("a kernel map type")
    }

    /// How its elements are stored.
    pub(crate) fn layout(self) -> Layout {
        match self {
            MapType::Array
            | MapType::PercpuArray
            | MapType::Devmap
            | MapType::Cpumap
            | MapType::Xskmap => Layout::Array,
            MapType::Hash
            | MapType::PercpuHash
            | MapType::LruHash
            | MapType::LruPercpuHash
            | MapType::LpmTrie
            | MapType::DevmapHash => Layout::Hash,
            MapType::Queue | MapType::Stack => Layout::Queue,
            MapType::ProgArray => Layout::Progs,
            MapType::PerfEventArray => Layout::None,
            MapType::RingBuf => Layout::Ring,
        }
    }

    /// Least-recently-used eviction when full.
    pub(crate) fn is_lru(self) -> bool {
        matches!(self, MapType::LruHash | MapType::LruPercpuHash)
    }
}

/// Where a map's elements live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `max_entries` values in VM memory, indexed by a `u32` key.
    Array,
    /// A pool of `max_entries` (key, value) slots in VM memory.
    Hash,
    /// Values copied in and out (queue, stack): host memory only.
    Queue,
    /// Program entries (tail calls): host memory only.
    Progs,
    /// The data area of a ring buffer.
    Ring,
    /// Nothing (perf event arrays send records to the host).
    None,
}

/// A map definition, as a `.maps` or legacy `maps` section declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    pub map_type: MapType,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
}

/// Header at a map's handle address: `u32` type, key size, value size,
/// max entries, flags (then padding), so a program that reads its map's
/// fields sees them.
pub(crate) const HEADER_SIZE: u64 = 64;

/// The largest map footprint accepted (256 MiB): a limit, named in the
/// message that reports it.
pub const MAX_MAP_BYTES: u64 = 256 << 20;

/// Why a map definition cannot be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

fn round8(n: u32) -> u64 {
    (n as u64).next_multiple_of(8)
}

impl MapSpec {
    /// The map a definition declares, if bpf-repl implements its type;
    /// else the type's name (for the message that refuses it).
    pub fn from_def(def: &MapDef) -> Result<MapSpec, String> {
        Ok(MapSpec {
            map_type: MapType::from_id(def.map_type)?,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            flags: def.flags,
        })
    }

    /// Checks the definition as the kernel's `map_alloc_check` would, and
    /// returns the bytes of VM memory the map takes (handle header
    /// included; always a multiple of 8).
    pub fn footprint(&self) -> Result<u64, SpecError> {
        let t = self.map_type;
        let err = |what: String| SpecError(format!("{} map: {what}", t.name()));
        let bad = |what: String| Err(err(what));
        if self.max_entries == 0 && t != MapType::PerfEventArray {
            return bad("max_entries is 0".to_string());
        }
        let need_key = |size: u32| -> Result<(), SpecError> {
            if self.key_size != size {
                Err(err(format!(
                    "key size is {}, must be {size}",
                    self.key_size
                )))
            } else {
                Ok(())
            }
        };
        let body = match t.layout() {
            Layout::Array => {
                need_key(4)?;
                if self.value_size == 0 {
                    return bad("value size is 0".to_string());
                }
                round8(self.value_size) * self.max_entries as u64
            }
            Layout::Hash => {
                if self.key_size == 0 || self.value_size == 0 {
                    return bad(format!(
                        "key size {} and value size {} must both be positive",
                        self.key_size, self.value_size
                    ));
                }
                if t == MapType::LpmTrie && self.key_size <= 4 {
                    return bad("an LPM trie key is a u32 prefix length and data".to_string());
                }
                (round8(self.key_size) + round8(self.value_size)) * self.max_entries as u64
            }
            Layout::Queue => {
                need_key(0)?;
                if self.value_size == 0 {
                    return bad("value size is 0".to_string());
                }
                0
            }
            Layout::Progs => {
                need_key(4)?;
                if self.value_size != 4 {
                    return bad(format!("value size is {}, must be 4", self.value_size));
                }
                0
            }
            Layout::Ring => {
                if self.key_size != 0 || self.value_size != 0 {
                    return bad("key and value sizes must be 0".to_string());
                }
                let size = self.max_entries as u64;
                if !size.is_power_of_two() || size < 4096 {
                    return bad(format!(
                        "max_entries {size} must be a power of 2 and at least a page (4096)"
                    ));
                }
                size
            }
            Layout::None => 0,
        };
        let total = body + HEADER_SIZE;
        if total > MAX_MAP_BYTES {
            return bad(format!(
                "it would take {total} bytes, more than the {MAX_MAP_BYTES}-byte limit per map"
            ));
        }
        Ok(total)
    }

    /// A one-line description: `hash, key 4 B, value 8 B, max 1024`.
    pub fn describe(&self) -> String {
        let mut s = self.map_type.name().to_string();
        if self.key_size != 0 {
            s.push_str(&format!(", key {} B", self.key_size));
        }
        if self.value_size != 0 {
            s.push_str(&format!(", value {} B", self.value_size));
        }
        s.push_str(&format!(", max {}", self.max_entries));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(t: MapType, k: u32, v: u32, n: u32) -> MapSpec {
        MapSpec {
            map_type: t,
            key_size: k,
            value_size: v,
            max_entries: n,
            flags: 0,
        }
    }

    #[test]
    fn footprints_follow_the_layout() {
        assert_eq!(spec(MapType::Array, 4, 12, 10).footprint(), Ok(64 + 160));
        assert_eq!(spec(MapType::Hash, 6, 8, 4).footprint(), Ok(64 + 64));
        assert_eq!(
            spec(MapType::RingBuf, 0, 0, 4096).footprint(),
            Ok(64 + 4096)
        );
        assert_eq!(spec(MapType::Queue, 0, 4, 9).footprint(), Ok(64));
    }

    #[test]
    fn bad_definitions_name_the_problem() {
        let e = spec(MapType::Array, 8, 4, 1).footprint().unwrap_err();
        assert_eq!(e.0, "array map: key size is 8, must be 4");
        let e = spec(MapType::RingBuf, 0, 0, 1000).footprint().unwrap_err();
        assert!(e.0.contains("power of 2"), "{e}");
        let e = spec(MapType::Hash, 4, 4, 0).footprint().unwrap_err();
        assert_eq!(e.0, "hash map: max_entries is 0");
        let e = spec(MapType::Array, 4, 1 << 20, 1 << 20)
            .footprint()
            .unwrap_err();
        assert!(e.0.contains("limit per map"), "{e}");
        assert_eq!(
            MapType::from_id(7).unwrap_err(),
            "map type stack_trace (BPF_MAP_TYPE_STACK_TRACE)"
        );
        assert_eq!(
            MapType::from_id(99).unwrap_err(),
            "map type #99, which the kernel does not define"
        );
        for id in 0..40 {
            if let Ok(t) = MapType::from_id(id) {
                assert_eq!(t.id(), id);
            }
        }
    }
}
