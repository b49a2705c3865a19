//! Tests of the address space's regions and checks.

use super::*;

#[test]
fn addresses_are_deterministic_and_stable() {
    let mut m = Memory::new();
    let a = m.alloc(RegionKind::Data, 4, 4).unwrap();
    let b = m.alloc(RegionKind::Data, 8, 8).unwrap();
    assert_eq!(a, 0x3_0000_0000);
    assert_eq!(b, 0x3_0000_0008);
    m.store(a, 4, 0xdead_beef).unwrap();
    // Growing the region keeps old data at the old address.
    m.alloc(RegionKind::Data, 1 << 20, 8).unwrap();
    assert_eq!(m.load(a, 4).unwrap(), 0xdead_beef);
}

#[test]
fn null_and_gaps_fault() {
    let mut m = Memory::new();
    m.alloc(RegionKind::Heap, 16, 8).unwrap();
    let e = m.load(0, 8).unwrap_err();
    assert_eq!(e.reason, MemReason::Unmapped);
    let e = m.load(RegionKind::Heap.base() + 12, 8).unwrap_err();
    assert_eq!(e.reason, MemReason::OutOfBounds(RegionKind::Heap));
    let e = m.load(9 << 32, 1).unwrap_err();
    assert_eq!(e.reason, MemReason::Unmapped);
    let e = m.load(u64::MAX - 2, 8).unwrap_err();
    assert_eq!(e.reason, MemReason::Unmapped);
}

#[test]
fn rodata_is_read_only_but_loader_can_fill_it() {
    let mut m = Memory::new();
    let a = m.alloc(RegionKind::Rodata, 4, 1).unwrap();
    m.write_initial(a, b"abc\0").unwrap();
    assert_eq!(m.read_cstr(a, 100).unwrap(), b"abc");
    let e = m.store(a, 1, 0).unwrap_err();
    assert_eq!(e.reason, MemReason::ReadOnly(RegionKind::Rodata));
}

#[test]
fn code_is_not_data() {
    let m = Memory::new();
    let e = m.load(RegionKind::Code.base(), 8).unwrap_err();
    assert_eq!(e.reason, MemReason::NotData);
}

#[test]
fn unterminated_string_faults_at_region_end() {
    let mut m = Memory::new();
    let a = m.alloc(RegionKind::Data, 3, 1).unwrap();
    m.write_bytes(a, b"abc").unwrap();
    let e = m.read_cstr(a, 100).unwrap_err();
    assert_eq!(e.addr, a + 3);
    assert!(m.read_cstr(a, 2).is_err());
}

#[test]
fn release_to_mark_drops_later_allocations() {
    let mut m = Memory::new();
    m.alloc(RegionKind::Data, 8, 8).unwrap();
    let mark = m.mark();
    let b = m.alloc(RegionKind::Data, 8, 8).unwrap();
    m.release_to(mark);
    assert!(m.load(b, 8).is_err());
    assert_eq!(m.alloc(RegionKind::Data, 8, 8).unwrap(), b);
}

#[test]
fn stack_low_bound_is_enforced() {
    let mut m = Memory::new();
    m.set_stack_size(1024);
    m.set_stack_low(512);
    let base = RegionKind::Stack.base();
    assert!(m.load(base + 512, 8).is_ok());
    assert_eq!(
        m.load(base + 504, 8).unwrap_err().reason,
        MemReason::OutOfBounds(RegionKind::Stack)
    );
}
