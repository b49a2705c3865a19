//! Maps: their elements in the VM's kernel-object region (so programs get
//! real pointers to values), their bookkeeping on the host.
//!
//! Every map starts with a small header at its *handle* address (what a
//! program's `&my_map` is). Arrays follow it with `max_entries` values;
//! hash maps with a pool of `max_entries` key and value slots, preallocated
//! as the kernel does by default, so a value's address stays valid while
//! its element lives. Errors are the kernel's negative errno values.

use crate::spec::{Layout, MapSpec, MapType, HEADER_SIZE};
use bpf_vm::{MemError, Memory};
use std::collections::{HashMap, VecDeque};

pub(crate) const ENOENT: i64 = 2;
pub(crate) const E2BIG: i64 = 7;
pub(crate) const EFAULT: i64 = 14;
pub(crate) const EEXIST: i64 = 17;
pub(crate) const EINVAL: i64 = 22;
pub(crate) const ENOSPC: i64 = 28;
pub(crate) const EOPNOTSUPP: i64 = 95;

/// `bpf_map_update_elem` flags.
const BPF_NOEXIST: u64 = 1;
const BPF_EXIST: u64 = 2;
const BPF_F_LOCK: u64 = 4;

fn round8(n: u32) -> u64 {
    (n as u64).next_multiple_of(8)
}

/// A hash map's slots: which key each holds, free slots, recency.
#[derive(Debug, Clone)]
pub(crate) struct HashStore {
    keys: u64,
    values: u64,
    index: HashMap<Vec<u8>, u32>,
    slot_key: Vec<Option<Vec<u8>>>,
    /// Free slots; the next one used is the last.
    free: Vec<u32>,
    /// Per slot, the clock value of its last use (LRU maps).
    last_use: Vec<u64>,
    clock: u64,
}

/// A ring buffer's data area and its outstanding reservations.
#[derive(Debug, Clone)]
pub(crate) struct RingStore {
    pub data: u64,
    pub size: u64,
    /// Offset where the next record would start.
    head: u64,
    /// Outstanding reservations: (offset of the 8-byte header, total length).
    reserved: Vec<(u64, u64)>,
}

/// How a map keeps its elements.
#[derive(Debug, Clone)]
pub(crate) enum Store {
    Array { base: u64 },
    Hash(HashStore),
    Queue(VecDeque<Vec<u8>>),
    Progs(Vec<Option<u64>>),
    Ring(RingStore),
    None,
}

/// One map.
#[derive(Debug, Clone)]
pub struct Map {
    pub name: String,
    pub spec: MapSpec,
    /// The handle address programs use (`&my_map`).
    pub handle: u64,
    pub(crate) store: Store,
}

impl Map {
    /// Creates the map at `handle`, whose `footprint` bytes (from
    /// [`MapSpec::footprint`]) the caller has allocated, zeroed.
    pub(crate) fn new(
        mem: &mut Memory,
        name: &str,
        spec: &MapSpec,
        handle: u64,
    ) -> Result<Map, MemError> {
        let mut header = [0u8; HEADER_SIZE as usize];
        for (i, v) in [
            spec.map_type.id(),
            spec.key_size,
            spec.value_size,
            spec.max_entries,
            spec.flags,
        ]
        .iter()
        .enumerate()
        {
            header[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        mem.write_bytes(handle, &header)?;
        let body = handle + HEADER_SIZE;
        let n = spec.max_entries;
        let store = match spec.map_type.layout() {
            Layout::Array => Store::Array { base: body },
            Layout::Hash => Store::Hash(HashStore {
                keys: body,
                values: body + round8(spec.key_size) * n as u64,
                index: HashMap::new(),
                slot_key: vec![None; n as usize],
                free: (0..n).rev().collect(),
                last_use: vec![0; n as usize],
                clock: 0,
            }),
            Layout::Queue => Store::Queue(VecDeque::new()),
            Layout::Progs => Store::Progs(vec![None; n as usize]),
            Layout::Ring => Store::Ring(RingStore {
                data: body,
                size: n as u64,
                head: 0,
                reserved: Vec::new(),
            }),
            Layout::None => Store::None,
        };
        Ok(Map {
            name: name.to_string(),
            spec: spec.clone(),
            handle,
            store,
        })
    }

    fn value_stride(&self) -> u64 {
        round8(self.spec.value_size)
    }

    /// The address of the value stored under `key`, if any (what
    /// `bpf_map_lookup_elem` returns). `key` has `key_size` bytes.
    pub(crate) fn lookup(&mut self, key: &[u8]) -> Option<u64> {
        let stride = self.value_stride();
        let lpm = self.spec.map_type == MapType::LpmTrie;
        let lru = self.spec.map_type.is_lru();
        match &mut self.store {
            Store::Array { base } => {
                let i = u32::from_le_bytes(key.get(..4)?.try_into().ok()?);
                (i < self.spec.max_entries).then(|| *base + i as u64 * stride)
            }
            Store::Hash(h) => {
                let slot = if lpm {
                    longest_prefix(h, key)?
                } else {
                    *h.index.get(key)?
                };
                if lru {
                    h.clock += 1;
                    h.last_use[slot as usize] = h.clock;
                }
                Some(h.values + slot as u64 * stride)
            }
            _ => None,
        }
    }

    /// `bpf_map_update_elem`: 0 or a negative errno.
    pub(crate) fn update(
        &mut self,
        mem: &mut Memory,
        key: &[u8],
        value: &[u8],
        flags: u64,
    ) -> Result<i64, MemError> {
        if flags & !(BPF_NOEXIST | BPF_EXIST | BPF_F_LOCK) != 0
            || flags & (BPF_NOEXIST | BPF_EXIST) == BPF_NOEXIST | BPF_EXIST
        {
            return Ok(-EINVAL);
        }
        let stride = self.value_stride();
        let max = self.spec.max_entries;
        let lru = self.spec.map_type.is_lru();
        let key_stride = round8(self.spec.key_size);
        match &mut self.store {
            Store::Array { base } => {
                let i = u32::from_le_bytes(key[..4].try_into().expect("4-byte key"));
                if i >= max {
                    return Ok(-E2BIG);
                }
                if flags & BPF_NOEXIST != 0 {
                    return Ok(-EEXIST);
                }
                mem.write_bytes(*base + i as u64 * stride, value)?;
                Ok(0)
            }
            Store::Hash(h) => {
                let existing = h.index.get(key).copied();
                match (existing, flags & (BPF_NOEXIST | BPF_EXIST)) {
                    (Some(_), BPF_NOEXIST) => return Ok(-EEXIST),
                    (None, BPF_EXIST) => return Ok(-ENOENT),
                    _ => {}
                }
                let slot = match existing {
                    Some(slot) => slot,
                    None => {
                        if h.free.is_empty() && lru {
                            evict_lru(h);
                        }
                        let Some(slot) = h.free.pop() else {
                            return Ok(-E2BIG);
                        };
                        mem.write_bytes(h.keys + slot as u64 * key_stride, key)?;
                        h.index.insert(key.to_vec(), slot);
                        h.slot_key[slot as usize] = Some(key.to_vec());
                        slot
                    }
                };
                h.clock += 1;
                h.last_use[slot as usize] = h.clock;
                mem.write_bytes(h.values + slot as u64 * stride, value)?;
                Ok(0)
            }
            Store::Progs(_) => Ok(-EOPNOTSUPP),
            _ => Ok(-EINVAL),
        }
    }

    /// `bpf_map_delete_elem`: 0 or a negative errno.
    pub(crate) fn delete(&mut self, key: &[u8]) -> i64 {
        match &mut self.store {
            Store::Hash(h) => match h.index.remove(key) {
                Some(slot) => {
                    h.slot_key[slot as usize] = None;
                    h.free.push(slot);
                    0
                }
                None => -ENOENT,
            },
            Store::Progs(progs) => {
                let i = u32::from_le_bytes(key[..4].try_into().expect("4-byte key"));
                match progs.get_mut(i as usize) {
                    Some(p) => {
                        *p = None;
                        0
                    }
                    None => -E2BIG,
                }
            }
            _ => -EINVAL,
        }
    }

    /// `bpf_map_push_elem` (queue and stack maps).
    pub(crate) fn push(&mut self, value: &[u8], flags: u64) -> i64 {
        let max = self.spec.max_entries as usize;
        let Store::Queue(q) = &mut self.store else {
            return -EINVAL;
        };
        if flags & !BPF_EXIST != 0 {
            return -EINVAL;
        }
        if q.len() >= max {
            if flags & BPF_EXIST == 0 {
                return -E2BIG;
            }
            // Make room by dropping the oldest element (queues and stacks alike).
            q.pop_front();
        }
        q.push_back(value.to_vec());
        0
    }

    /// `bpf_map_pop_elem` / `bpf_map_peek_elem`: the element a queue
    /// gives first-in-first-out, a stack last-in-first-out.
    pub(crate) fn take(&mut self, remove: bool) -> Result<Vec<u8>, i64> {
        let is_stack = self.spec.map_type == MapType::Stack;
        let Store::Queue(q) = &mut self.store else {
            return Err(-EINVAL);
        };
        let v = match (is_stack, remove) {
            (true, true) => q.pop_back(),
            (true, false) => q.back().cloned(),
            (false, true) => q.pop_front(),
            (false, false) => q.front().cloned(),
        };
        v.ok_or(-ENOENT)
    }

    /// The program entry (code address) at `index` of a program array.
    pub(crate) fn prog(&self, index: u64) -> Option<u64> {
        match &self.store {
            Store::Progs(p) => p.get(usize::try_from(index).ok()?).copied().flatten(),
            _ => None,
        }
    }

    /// Sets (or, with `None`, clears) entry `index` of a program array.
    pub(crate) fn set_prog(&mut self, index: u32, entry: Option<u64>) -> Result<(), String> {
        let name = self.name.clone();
        match &mut self.store {
            Store::Progs(p) => match p.get_mut(index as usize) {
                Some(slot) => {
                    *slot = entry;
                    Ok(())
                }
                None => Err(format!(
                    "index {index} is past the end of program array `{name}` ({} entries)",
                    p.len()
                )),
            },
            _ => Err(format!("map `{name}` is not a program array")),
        }
    }

    /// Every element as (key bytes, value address), in slot order; array
    /// maps give every index.
    pub(crate) fn elements(&self) -> Vec<(Vec<u8>, u64)> {
        let stride = self.value_stride();
        match &self.store {
            Store::Array { base } => (0..self.spec.max_entries)
                .map(|i| (i.to_le_bytes().to_vec(), base + i as u64 * stride))
                .collect(),
            Store::Hash(h) => h
                .slot_key
                .iter()
                .enumerate()
                .filter_map(|(slot, k)| Some((k.clone()?, h.values + slot as u64 * stride)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The key address of the element whose value is at `value` (hash
    /// maps keep keys in VM memory for `bpf_for_each_map_elem`).
    pub(crate) fn key_addr(&self, value: u64) -> Option<u64> {
        let Store::Hash(h) = &self.store else {
            return None;
        };
        let slot = (value - h.values) / self.value_stride();
        Some(h.keys + slot * round8(self.spec.key_size))
    }

    /// Queue or stack contents, oldest first.
    pub(crate) fn queued(&self) -> Vec<Vec<u8>> {
        match &self.store {
            Store::Queue(q) => q.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// Program array entries that are set: (index, code address).
    pub(crate) fn progs(&self) -> Vec<(u32, u64)> {
        match &self.store {
            Store::Progs(p) => p
                .iter()
                .enumerate()
                .filter_map(|(i, e)| Some((i as u32, (*e)?)))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn ring_mut(&mut self) -> Option<&mut RingStore> {
        match &mut self.store {
            Store::Ring(r) => Some(r),
            _ => None,
        }
    }
}

fn evict_lru(h: &mut HashStore) {
    let oldest = h
        .slot_key
        .iter()
        .enumerate()
        .filter(|(_, k)| k.is_some())
        .min_by_key(|(slot, _)| h.last_use[*slot])
        .map(|(slot, _)| slot);
    if let Some(slot) = oldest {
        if let Some(key) = h.slot_key[slot].take() {
            h.index.remove(&key);
        }
        h.free.push(slot as u32);
    }
}

/// LPM trie lookup: keys are a `u32` prefix length then the data; the
/// element with the longest prefix that matches the key's data wins.
fn longest_prefix(h: &HashStore, key: &[u8]) -> Option<u32> {
    let want = u32::from_le_bytes(key.get(..4)?.try_into().ok()?);
    let data = &key[4..];
    h.index
        .iter()
        .filter_map(|(k, slot)| {
            let plen = u32::from_le_bytes(k[..4].try_into().ok()?);
            (plen <= want && prefix_matches(&k[4..], data, plen)).then_some((plen, *slot))
        })
        .max_by_key(|(plen, _)| *plen)
        .map(|(_, slot)| slot)
}

fn prefix_matches(a: &[u8], b: &[u8], bits: u32) -> bool {
    let full = (bits / 8) as usize;
    let rest = bits % 8;
    if a.len() < full || b.len() < full || a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

impl RingStore {
    /// Reserves a record of `len` bytes; returns the address of its data
    /// (after the 8-byte header), or `None` when there is no room.
    pub(crate) fn reserve(&mut self, mem: &mut Memory, len: u64) -> Result<Option<u64>, MemError> {
        let total = (len + 8).next_multiple_of(8);
        if total > self.size {
            return Ok(None);
        }
        let fits = |start: u64, reserved: &[(u64, u64)]| {
            start + total <= self.size
                && reserved
                    .iter()
                    .all(|(o, l)| start + total <= *o || o + l <= start)
        };
        let start = if fits(self.head, &self.reserved) {
            self.head
        } else if fits(0, &self.reserved) {
            0
        } else {
            return Ok(None);
        };
        self.head = (start + total) % self.size;
        self.reserved.push((start, total));
        // The kernel's record header: length with the busy bit, page offset.
        let header = (len as u32 | 1 << 31) as u64 | (start / 8) << 32;
        mem.store(self.data + start, 8, header)?;
        Ok(Some(self.data + start + 8))
    }

    /// Ends the reservation whose data is at `addr`; false if there is none.
    pub(crate) fn release(&mut self, addr: u64) -> bool {
        let Some(off) = addr.checked_sub(self.data + 8) else {
            return false;
        };
        match self.reserved.iter().position(|(o, _)| *o == off) {
            Some(i) => {
                self.reserved.remove(i);
                true
            }
            None => false,
        }
    }

    /// Outstanding reservations (records reserved and never submitted).
    pub(crate) fn outstanding(&self) -> usize {
        self.reserved.len()
    }

    /// Drops outstanding reservations (at the end of a run).
    pub(crate) fn clear(&mut self) {
        self.reserved.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::RegionKind;

    fn make(t: MapType, k: u32, v: u32, n: u32) -> (Memory, Map) {
        let spec = MapSpec {
            map_type: t,
            key_size: k,
            value_size: v,
            max_entries: n,
            flags: 0,
        };
        let mut mem = Memory::new();
        let size = spec.footprint().unwrap();
        let at = mem.alloc(RegionKind::Kernel, size as usize, 8).unwrap();
        let map = Map::new(&mut mem, "m", &spec, at).unwrap();
        (mem, map)
    }

    #[test]
    fn hash_maps_keep_value_addresses_and_honour_flags() {
        let (mut mem, mut m) = make(MapType::Hash, 4, 8, 2);
        assert_eq!(
            m.update(&mut mem, &[1, 0, 0, 0], &7u64.to_le_bytes(), 0),
            Ok(0)
        );
        let a = m.lookup(&[1, 0, 0, 0]).unwrap();
        assert_eq!(mem.load(a, 8).unwrap(), 7);
        assert_eq!(
            m.update(&mut mem, &[1, 0, 0, 0], &[0; 8], BPF_NOEXIST),
            Ok(-EEXIST)
        );
        assert_eq!(
            m.update(&mut mem, &[2, 0, 0, 0], &[0; 8], BPF_EXIST),
            Ok(-ENOENT)
        );
        assert_eq!(m.update(&mut mem, &[2, 0, 0, 0], &[0; 8], 0), Ok(0));
        assert_eq!(m.update(&mut mem, &[3, 0, 0, 0], &[0; 8], 0), Ok(-E2BIG));
        assert_eq!(m.update(&mut mem, &[3, 0, 0, 0], &[0; 8], 3), Ok(-EINVAL));
        assert_eq!(m.delete(&[1, 0, 0, 0]), 0);
        assert_eq!(m.delete(&[1, 0, 0, 0]), -ENOENT);
        assert_eq!(m.lookup(&[1, 0, 0, 0]), None);
        assert_eq!(m.elements().len(), 1);
    }

    #[test]
    fn lru_maps_evict_the_least_recently_used() {
        let (mut mem, mut m) = make(MapType::LruHash, 4, 4, 2);
        m.update(&mut mem, &[1, 0, 0, 0], &[1; 4], 0).unwrap();
        m.update(&mut mem, &[2, 0, 0, 0], &[2; 4], 0).unwrap();
        m.lookup(&[1, 0, 0, 0]).unwrap();
        assert_eq!(m.update(&mut mem, &[3, 0, 0, 0], &[3; 4], 0), Ok(0));
        assert!(
            m.lookup(&[2, 0, 0, 0]).is_none(),
            "2 was least recently used"
        );
        assert!(m.lookup(&[1, 0, 0, 0]).is_some());
    }

    #[test]
    fn arrays_queues_stacks_and_lpm() {
        let (mut mem, mut a) = make(MapType::Array, 4, 4, 3);
        assert!(a.lookup(&[3, 0, 0, 0]).is_none());
        assert_eq!(a.update(&mut mem, &[5, 0, 0, 0], &[0; 4], 0), Ok(-E2BIG));
        assert_eq!(a.delete(&[0; 4]), -EINVAL);
        let (_, mut q) = make(MapType::Queue, 0, 1, 2);
        assert_eq!(
            (q.push(&[1], 0), q.push(&[2], 0), q.push(&[3], 0)),
            (0, 0, -E2BIG)
        );
        assert_eq!(q.push(&[3], BPF_EXIST), 0);
        assert_eq!(q.take(false), Ok(vec![2]));
        assert_eq!(q.take(true), Ok(vec![2]));
        let (_, mut s) = make(MapType::Stack, 0, 1, 2);
        s.push(&[1], 0);
        s.push(&[2], 0);
        assert_eq!(s.take(true), Ok(vec![2]));
        assert_eq!(s.take(true), Ok(vec![1]));
        assert_eq!(s.take(true), Err(-ENOENT));
        let (mut mem, mut t) = make(MapType::LpmTrie, 8, 4, 4);
        // 10.0.0.0/8 -> 1, 10.1.0.0/16 -> 2
        t.update(&mut mem, &[8, 0, 0, 0, 10, 0, 0, 0], &[1; 4], 0)
            .unwrap();
        t.update(&mut mem, &[16, 0, 0, 0, 10, 1, 0, 0], &[2; 4], 0)
            .unwrap();
        let get = |t: &mut Map, mem: &Memory, ip: [u8; 4]| {
            let mut k = vec![32, 0, 0, 0];
            k.extend(ip);
            t.lookup(&k).map(|a| mem.load(a, 1).unwrap())
        };
        assert_eq!(get(&mut t, &mem, [10, 1, 2, 3]), Some(2));
        assert_eq!(get(&mut t, &mem, [10, 2, 2, 3]), Some(1));
        assert_eq!(get(&mut t, &mem, [11, 1, 2, 3]), None);
    }

    #[test]
    fn ring_reservations_never_overlap() {
        let (mut mem, mut m) = make(MapType::RingBuf, 0, 0, 4096);
        let r = m.ring_mut().unwrap();
        let a = r.reserve(&mut mem, 2000).unwrap().unwrap();
        let b = r.reserve(&mut mem, 2000).unwrap().unwrap();
        assert!(r.reserve(&mut mem, 2000).unwrap().is_none(), "full");
        assert!(b >= a + 2000);
        assert!(r.release(a));
        assert!(!r.release(a), "released twice");
        // Room at the start again.
        assert!(r.reserve(&mut mem, 100).unwrap().is_some());
    }
}
