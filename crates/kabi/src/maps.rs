//! Map types (`enum bpf_map_type`), map definitions as objects declare
//! them, and which helpers each map type admits.

/// A map type id (`enum bpf_map_type`).
pub type MapTypeId = u32;

/// The map type ids.
pub mod map_type {
    use super::MapTypeId;
    pub const HASH: MapTypeId = 1;
    pub const ARRAY: MapTypeId = 2;
    pub const PROG_ARRAY: MapTypeId = 3;
    pub const PERF_EVENT_ARRAY: MapTypeId = 4;
    pub const PERCPU_HASH: MapTypeId = 5;
    pub const PERCPU_ARRAY: MapTypeId = 6;
    pub const STACK_TRACE: MapTypeId = 7;
    pub const CGROUP_ARRAY: MapTypeId = 8;
    pub const LRU_HASH: MapTypeId = 9;
    pub const LRU_PERCPU_HASH: MapTypeId = 10;
    pub const LPM_TRIE: MapTypeId = 11;
    pub const ARRAY_OF_MAPS: MapTypeId = 12;
    pub const HASH_OF_MAPS: MapTypeId = 13;
    pub const DEVMAP: MapTypeId = 14;
    pub const SOCKMAP: MapTypeId = 15;
    pub const CPUMAP: MapTypeId = 16;
    pub const XSKMAP: MapTypeId = 17;
    pub const SOCKHASH: MapTypeId = 18;
    pub const CGROUP_STORAGE: MapTypeId = 19;
    pub const REUSEPORT_SOCKARRAY: MapTypeId = 20;
    pub const PERCPU_CGROUP_STORAGE: MapTypeId = 21;
    pub const QUEUE: MapTypeId = 22;
    pub const STACK: MapTypeId = 23;
    pub const SK_STORAGE: MapTypeId = 24;
    pub const DEVMAP_HASH: MapTypeId = 25;
    pub const STRUCT_OPS: MapTypeId = 26;
    pub const RINGBUF: MapTypeId = 27;
    pub const INODE_STORAGE: MapTypeId = 28;
    pub const TASK_STORAGE: MapTypeId = 29;
    pub const BLOOM_FILTER: MapTypeId = 30;
    pub const USER_RINGBUF: MapTypeId = 31;
    pub const CGRP_STORAGE: MapTypeId = 32;
}

/// `bpftool`'s names of the map types, by id.
const NAMES: [&str; 33] = [
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
];

/// `bpftool`'s name of map type `id` (`lru_percpu_hash`), if the kernel
/// defines it.
pub fn type_name(id: MapTypeId) -> Option<&'static str> {
    NAMES.get(id as usize).copied().filter(|_| id != 0)
}

/// `map type stack_trace (BPF_MAP_TYPE_STACK_TRACE)`, for messages.
pub fn describe_type(id: MapTypeId) -> String {
    match type_name(id) {
        Some(name) => format!("map type {name} (BPF_MAP_TYPE_{})", name.to_uppercase()),
        None => format!("map type #{id}, which the kernel does not define"),
    }
}

/// `BPF_F_RDONLY_PROG`: the program may not write the map's values.
pub const F_RDONLY_PROG: u32 = 1 << 7;

/// A map definition, as a `.maps` or legacy `maps` section declares it
/// (and as `BPF_MAP_CREATE` takes it).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MapDef {
    pub map_type: MapTypeId,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
}

impl MapDef {
    /// The array map libbpf makes of a `.data`/`.rodata`/`.bss` section
    /// of `size` bytes (`.rodata` is read-only for the program).
    pub fn internal(section: &str, size: u64) -> MapDef {
        MapDef {
            map_type: map_type::ARRAY,
            key_size: 4,
            value_size: size.min(u32::MAX as u64) as u32,
            max_entries: 1,
            flags: if section.starts_with(".rodata") {
                F_RDONLY_PROG
            } else {
                0
            },
        }
    }

    /// Reads a legacy `struct bpf_map_def { type, key_size, value_size,
    /// max_entries, map_flags; ... }` (iproute2's longer `bpf_elf_map`
    /// starts the same way) from the first `size` bytes of `bytes`: the
    /// words present, zeros after. `None` if fewer than 16 bytes.
    pub fn legacy(bytes: &[u8], size: usize) -> Option<MapDef> {
        if size < 16 || bytes.len() < 16 {
            return None;
        }
        let word = |i: usize| -> u32 {
            if 4 * i + 4 > size {
                return 0;
            }
            bytes
                .get(4 * i..4 * i + 4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
                .unwrap_or(0)
        };
        Some(MapDef {
            map_type: word(0),
            key_size: word(1),
            value_size: word(2),
            max_entries: word(3),
            flags: word(4),
        })
    }

    /// True if programs may not write its values (`BPF_F_RDONLY_PROG`).
    pub fn read_only(&self) -> bool {
        self.flags & F_RDONLY_PROG != 0
    }
}

/// True if a map of type `map` may be passed to helper `helper` (the
/// map's side of `check_map_func_compatibility`: some map types are
/// reserved for their own helpers).
pub fn admits_helper(map: MapTypeId, helper: u32) -> bool {
    use map_type::*;
    // Helper ids (enum bpf_func_id).
    const LOOKUP: u32 = 1;
    const UPDATE: u32 = 2;
    const DELETE: u32 = 3;
    const TAIL_CALL: u32 = 12;
    const PERF_EVENT_READ: u32 = 22;
    const PERF_EVENT_OUTPUT: u32 = 25;
    const GET_STACKID: u32 = 27;
    const SKB_UNDER_CGROUP: u32 = 33;
    const CURRENT_TASK_UNDER_CGROUP: u32 = 37;
    const REDIRECT_MAP: u32 = 51;
    const SK_REDIRECT_MAP: u32 = 52;
    const SOCK_MAP_UPDATE: u32 = 53;
    const PERF_EVENT_READ_VALUE: u32 = 55;
    const MSG_REDIRECT_MAP: u32 = 60;
    const SOCK_HASH_UPDATE: u32 = 70;
    const MSG_REDIRECT_HASH: u32 = 71;
    const SK_REDIRECT_HASH: u32 = 72;
    const GET_LOCAL_STORAGE: u32 = 81;
    const SK_SELECT_REUSEPORT: u32 = 82;
    const PUSH: u32 = 87;
    const POP: u32 = 88;
    const PEEK: u32 = 89;
    const SK_STORAGE_GET: u32 = 107;
    const SK_STORAGE_DELETE: u32 = 108;
    const SKB_OUTPUT: u32 = 111;
    const XDP_OUTPUT: u32 = 121;
    const RINGBUF_OUTPUT: u32 = 130;
    const RINGBUF_RESERVE: u32 = 131;
    const RINGBUF_QUERY: u32 = 134;
    const INODE_STORAGE_GET: u32 = 145;
    const INODE_STORAGE_DELETE: u32 = 146;
    const TASK_STORAGE_GET: u32 = 156;
    const TASK_STORAGE_DELETE: u32 = 157;
    const RINGBUF_RESERVE_DYNPTR: u32 = 198;
    const RINGBUF_SUBMIT_DYNPTR: u32 = 199;
    const RINGBUF_DISCARD_DYNPTR: u32 = 200;
    const USER_RINGBUF_DRAIN: u32 = 209;
    const CGRP_STORAGE_GET: u32 = 210;
    const CGRP_STORAGE_DELETE: u32 = 211;
    let allowed: &[u32] = match map {
        PROG_ARRAY => &[TAIL_CALL],
        PERF_EVENT_ARRAY => &[
            PERF_EVENT_READ,
            PERF_EVENT_OUTPUT,
            SKB_OUTPUT,
            PERF_EVENT_READ_VALUE,
            XDP_OUTPUT,
        ],
        RINGBUF => &[
            RINGBUF_OUTPUT,
            RINGBUF_RESERVE,
            RINGBUF_QUERY,
            RINGBUF_RESERVE_DYNPTR,
            RINGBUF_SUBMIT_DYNPTR,
            RINGBUF_DISCARD_DYNPTR,
        ],
        USER_RINGBUF => &[USER_RINGBUF_DRAIN],
        STACK_TRACE => &[GET_STACKID],
        CGROUP_ARRAY => &[SKB_UNDER_CGROUP, CURRENT_TASK_UNDER_CGROUP],
        CGROUP_STORAGE | PERCPU_CGROUP_STORAGE => &[GET_LOCAL_STORAGE],
        DEVMAP | DEVMAP_HASH | XSKMAP => &[REDIRECT_MAP, LOOKUP],
        CPUMAP => &[REDIRECT_MAP],
        ARRAY_OF_MAPS | HASH_OF_MAPS => &[LOOKUP],
        SOCKMAP => &[
            SK_REDIRECT_MAP,
            SOCK_MAP_UPDATE,
            MSG_REDIRECT_MAP,
            SK_SELECT_REUSEPORT,
            LOOKUP,
            UPDATE,
            DELETE,
        ],
        SOCKHASH => &[
            SK_REDIRECT_HASH,
            SOCK_HASH_UPDATE,
            MSG_REDIRECT_HASH,
            SK_SELECT_REUSEPORT,
            LOOKUP,
            UPDATE,
            DELETE,
        ],
        REUSEPORT_SOCKARRAY => &[SK_SELECT_REUSEPORT],
        QUEUE | STACK => &[PEEK, POP, PUSH],
        SK_STORAGE => &[SK_STORAGE_GET, SK_STORAGE_DELETE],
        INODE_STORAGE => &[INODE_STORAGE_GET, INODE_STORAGE_DELETE],
        TASK_STORAGE => &[TASK_STORAGE_GET, TASK_STORAGE_DELETE],
        CGRP_STORAGE => &[CGRP_STORAGE_GET, CGRP_STORAGE_DELETE],
        BLOOM_FILTER => &[PEEK, PUSH],
        _ => return true,
    };
    allowed.contains(&helper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert_eq!(type_name(map_type::RINGBUF), Some("ringbuf"));
        assert_eq!(type_name(map_type::CGRP_STORAGE), Some("cgrp_storage"));
        assert_eq!(type_name(0), None);
        assert_eq!(type_name(33), None);
        assert_eq!(
            describe_type(7),
            "map type stack_trace (BPF_MAP_TYPE_STACK_TRACE)"
        );
    }

    #[test]
    fn legacy_definitions_read_the_words_present() {
        let mut b = Vec::new();
        for w in [1u32, 4, 8, 16, 0] {
            b.extend(w.to_le_bytes());
        }
        let d = MapDef::legacy(&b, 20).unwrap();
        assert_eq!((d.map_type, d.key_size, d.value_size), (1, 4, 8));
        assert_eq!(d.max_entries, 16);
        assert_eq!(MapDef::legacy(&b, 16).unwrap().flags, 0);
        assert_eq!(MapDef::legacy(&b[..12], 12), None);
    }

    #[test]
    fn reserved_map_types_admit_their_own_helpers_only() {
        assert!(admits_helper(map_type::HASH, 1));
        assert!(!admits_helper(map_type::RINGBUF, 1));
        assert!(admits_helper(map_type::RINGBUF, 131));
        assert!(!admits_helper(map_type::QUEUE, 1));
        assert!(admits_helper(map_type::PROG_ARRAY, 12));
        assert!(admits_helper(map_type::DEVMAP, 1));
        assert!(!admits_helper(map_type::CPUMAP, 1));
        assert!(MapDef::internal(".rodata.str1.1", 8).read_only());
        assert!(!MapDef::internal(".bss", 8).read_only());
    }
}
