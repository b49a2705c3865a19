//! malloc, calloc, realloc and free: C semantics, deterministic addresses,
//! exact detection of misuse, heap bounds for the other helpers, and
//! snapshot/restore.

mod common;

use bpf_runtime::{HeapPlace, OutputSink, Runtime, HEAP_ALIGN, HEAP_RED_ZONE};
use bpf_vm::{HelperError, RegionKind};
use common::{assert_fault, Env};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Malloc(usize),
    Calloc(usize, usize),
    Realloc(usize, usize),
    Free(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let size = prop_oneof![0usize..64, 0usize..5000];
    prop_oneof![
        size.clone().prop_map(Op::Malloc),
        (0usize..20, 0usize..20).prop_map(|(n, m)| Op::Calloc(n, m)),
        (any::<usize>(), size).prop_map(|(i, n)| Op::Realloc(i, n)),
        any::<usize>().prop_map(Op::Free),
    ]
}

/// A live block in the model: address, size, and the byte it was filled with.
struct Live {
    addr: u64,
    size: usize,
    fill: u8,
}

/// Runs `ops`, checking every C guarantee against a model, and returns
/// every address the allocator handed out.
fn run(ops: &[Op]) -> Vec<u64> {
    let mut env = Env::new();
    let mut live: Vec<Live> = Vec::new();
    let mut seen = Vec::new();
    let mut next_fill = 1u8;
    for op in ops {
        match *op {
            Op::Malloc(n) | Op::Calloc(n, 1) => {
                let p = if matches!(op, Op::Malloc(_)) {
                    env.ok("malloc", &[n as u64])
                } else {
                    let p = env.ok("calloc", &[n as u64, 1]);
                    assert!(env.mem.read_bytes(p, n).unwrap().iter().all(|b| *b == 0));
                    p
                };
                live.push(Live {
                    addr: p,
                    size: n,
                    fill: 0,
                });
                seen.push(p);
            }
            Op::Calloc(n, m) => {
                let p = env.ok("calloc", &[n as u64, m as u64]);
                assert!(env
                    .mem
                    .read_bytes(p, n * m)
                    .unwrap()
                    .iter()
                    .all(|b| *b == 0));
                live.push(Live {
                    addr: p,
                    size: n * m,
                    fill: 0,
                });
                seen.push(p);
            }
            Op::Realloc(i, n) if !live.is_empty() => {
                let old = live.swap_remove(i % live.len());
                let p = env.ok("realloc", &[old.addr, n as u64]);
                if n == 0 {
                    assert_eq!(p, 0, "realloc(p, 0) frees and returns NULL");
                    continue;
                }
                let kept = env.mem.read_bytes(p, old.size.min(n)).unwrap();
                assert!(kept.iter().all(|b| *b == old.fill), "realloc lost contents");
                // The grown part is indeterminate: give it the block's fill.
                env.mem.slice_mut(p, n).unwrap().fill(old.fill);
                live.push(Live {
                    addr: p,
                    size: n,
                    fill: old.fill,
                });
                seen.push(p);
            }
            Op::Free(i) if !live.is_empty() => {
                let old = live.swap_remove(i % live.len());
                env.ok("free", &[old.addr]);
            }
            Op::Realloc(_, n) => {
                let p = env.ok("realloc", &[0, n as u64]);
                live.push(Live {
                    addr: p,
                    size: n,
                    fill: 0,
                });
                seen.push(p);
            }
            Op::Free(_) => {
                env.ok("free", &[0]);
            }
        }
        // Fill the newest block with its own byte; fills must survive
        // everything that happens to other blocks.
        if let Some(b) = live.last_mut() {
            if b.fill == 0 && b.size > 0 {
                b.fill = next_fill;
                next_fill = next_fill % 250 + 1;
                env.mem.slice_mut(b.addr, b.size).unwrap().fill(b.fill);
            }
        }
        let mut ranges: Vec<(u64, u64)> = live
            .iter()
            .map(|b| (b.addr, b.addr + (b.size + HEAP_RED_ZONE) as u64))
            .collect();
        ranges.sort();
        for w in ranges.windows(2) {
            assert!(w[0].1 <= w[1].0, "blocks overlap: {w:x?}");
        }
        for b in &live {
            assert_ne!(b.addr, 0);
            assert_eq!(RegionKind::of(b.addr), Some(RegionKind::Heap));
            assert_eq!(b.addr % HEAP_ALIGN as u64, 0);
            if b.fill != 0 {
                let bytes = env.mem.read_bytes(b.addr, b.size).unwrap();
                assert!(
                    bytes.iter().all(|x| *x == b.fill),
                    "block {:#x} was clobbered",
                    b.addr
                );
            }
        }
        let stats = env.rt.heap_stats(&env.mem);
        assert_eq!(stats.live_blocks, live.len());
        assert_eq!(stats.live_bytes, live.iter().map(|b| b.size).sum::<usize>());
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn allocator_keeps_c_guarantees_and_is_deterministic(ops in proptest::collection::vec(op(), 1..60)) {
        let first = run(&ops);
        let second = run(&ops);
        prop_assert_eq!(first, second);
    }
}

#[test]
fn first_blocks_have_fixed_addresses() {
    let mut env = Env::new();
    let base = RegionKind::Heap.base();
    // Each block is its 16-byte size class followed by a 16-byte red zone.
    assert_eq!(env.ok("malloc", &[10]), base);
    assert_eq!(env.ok("malloc", &[16]), base + 32);
    assert_eq!(env.ok("malloc", &[17]), base + 64);
    assert_eq!(env.ok("malloc", &[0]), base + 112);
}

#[test]
fn freed_blocks_are_reused_lowest_address_first() {
    let mut env = Env::new();
    let a = env.ok("malloc", &[24]);
    let b = env.ok("malloc", &[24]);
    let c = env.ok("malloc", &[24]);
    env.ok("free", &[c]);
    env.ok("free", &[a]);
    assert_eq!(env.ok("malloc", &[20]), a);
    assert_eq!(env.ok("malloc", &[32]), c);
    let d = env.ok("malloc", &[24]);
    assert!(d > c && d != b);
}

#[test]
fn malloc_zero_gives_distinct_freeable_pointers() {
    let mut env = Env::new();
    let a = env.ok("malloc", &[0]);
    let b = env.ok("malloc", &[0]);
    assert!(a != 0 && b != 0 && a != b);
    env.ok("free", &[a]);
    env.ok("free", &[b]);
}

#[test]
fn calloc_overflow_and_exhaustion_return_null() {
    let mut env = Env::new();
    assert_eq!(env.ok("calloc", &[1 << 33, 1 << 33]), 0);
    assert_eq!(env.ok("calloc", &[u64::MAX, 2]), 0);
    assert_eq!(env.ok("malloc", &[u64::MAX]), 0);
    assert_eq!(env.ok("malloc", &[1 << 40]), 0);
    // A freed block's old contents do not leak into calloc.
    let p = env.ok("malloc", &[32]);
    env.mem.slice_mut(p, 32).unwrap().fill(0xab);
    env.ok("free", &[p]);
    let q = env.ok("calloc", &[8, 4]);
    assert_eq!(q, p);
    assert_eq!(env.mem.read_bytes(q, 32).unwrap(), [0; 32]);
}

#[test]
fn heap_limit_makes_malloc_return_null_until_memory_is_freed() {
    let out = OutputSink::buffer();
    let mut env = Env::with_runtime(Runtime::new(out.clone()).with_heap_limit(4096), out);
    let mut blocks = Vec::new();
    loop {
        let p = env.ok("malloc", &[100]);
        if p == 0 {
            break;
        }
        blocks.push(p);
    }
    // 112-byte class + 16-byte red zone = 128 bytes each.
    assert_eq!(blocks.len(), 4096 / 128);
    assert_eq!(env.ok("malloc", &[5000]), 0);
    env.ok("free", &[blocks[3]]);
    assert_eq!(env.ok("malloc", &[100]), blocks[3]);
}

#[test]
fn realloc_follows_glibc() {
    let mut env = Env::new();
    // realloc(NULL, n) is malloc(n).
    let p = env.ok("realloc", &[0, 8]);
    assert_eq!(env.rt.heap_block_size(p), Some(8));
    env.mem.write_bytes(p, b"12345678").unwrap();
    // Growing within the size class stays in place.
    assert_eq!(env.ok("realloc", &[p, 16]), p);
    // Growing past it moves and keeps the contents.
    let q = env.ok("realloc", &[p, 1000]);
    assert_ne!(q, p);
    assert_eq!(env.mem.read_bytes(q, 8).unwrap(), b"12345678");
    assert_fault(env.call("free", &[p]), &["double free"]);
    // Shrinking stays in place.
    assert_eq!(env.ok("realloc", &[q, 4]), q);
    assert_eq!(env.rt.heap_block_size(q), Some(4));
    // An impossible size returns NULL and leaves the block alone.
    assert_eq!(env.ok("realloc", &[q, 1 << 40]), 0);
    assert_eq!(env.mem.read_bytes(q, 4).unwrap(), b"1234");
    // realloc(p, 0) frees p and returns NULL.
    assert_eq!(env.ok("realloc", &[q, 0]), 0);
    assert_fault(env.call("free", &[q]), &["double free"]);
    assert_eq!(env.rt.heap_stats(&env.mem).live_blocks, 0);
}

#[test]
fn heap_place_says_which_block_an_address_is_in() {
    let mut env = Env::new();
    let p = env.ok("malloc", &[10]);
    let q = env.ok("malloc", &[10]);
    let live = HeapPlace::Live { start: p, size: 10 };
    assert_eq!(env.rt.heap_place(p), live);
    // The tail and the red zone still belong to the block.
    assert_eq!(env.rt.heap_place(p + 15 + HEAP_RED_ZONE as u64), live);
    env.ok("free", &[q]);
    assert_eq!(env.rt.heap_place(q + 3), HeapPlace::Freed { start: q });
    let past = q + 16 + HEAP_RED_ZONE as u64;
    assert_eq!(env.rt.heap_place(past), HeapPlace::Unallocated);
    assert_eq!(env.rt.heap_place(0x1000), HeapPlace::Outside);
    assert_eq!(
        env.rt.heap_place(RegionKind::Data.base()),
        HeapPlace::Outside
    );
}

#[test]
fn free_null_does_nothing() {
    let mut env = Env::new();
    env.ok("free", &[0]);
    assert_eq!(env.rt.heap_stats(&env.mem).region_bytes, 0);
}

#[test]
fn double_free_is_a_fault_naming_the_pointer() {
    let mut env = Env::new();
    let p = env.ok("malloc", &[10]);
    env.ok("free", &[p]);
    assert_fault(
        env.call("free", &[p]),
        &[&format!("free({p:#x})"), "double free"],
    );
    assert_fault(
        env.call("realloc", &[p, 20]),
        &[&format!("realloc({p:#x})"), "already freed"],
    );
}

#[test]
fn foreign_pointers_are_faults_saying_what_they_point_to() {
    let mut env = Env::new();
    let p = env.ok("malloc", &[40]);
    assert_fault(
        env.call("free", &[p + 8]),
        &[
            &format!("free({:#x})", p + 8),
            "8 bytes into the 40-byte block",
            &format!("{p:#x}"),
        ],
    );
    let d = env.cstr(b"not heap");
    assert_fault(
        env.call("free", &[d]),
        &["not a pointer returned by malloc", "data region"],
    );
    let s = RegionKind::Stack.base() + 64;
    assert_fault(env.call("realloc", &[s, 4]), &["realloc", "stack region"]);
    assert_fault(
        env.call("free", &[0x1234]),
        &["free(0x1234)", "no memory at all"],
    );
    let beyond = RegionKind::Heap.base() + (1 << 20);
    assert_fault(
        env.call("free", &[beyond]),
        &["not a pointer returned by malloc", "heap region"],
    );
    // The block itself is untouched by the refused calls.
    env.ok("free", &[p]);
}

#[test]
fn writing_past_a_block_is_reported_when_it_is_freed() {
    let mut env = Env::new();
    let p = env.ok("malloc", &[10]);
    env.mem.store(p + 10, 1, b'!' as u64).unwrap();
    assert_fault(
        env.call("free", &[p]),
        &[
            "free",
            "heap buffer overflow",
            "byte 10 of the 10-byte block",
            &format!("{:#x}", p + 10),
        ],
    );
    let q = env.ok("malloc", &[32]);
    env.mem.store(q + 32 + 15, 1, 0).unwrap();
    assert_fault(
        env.call("realloc", &[q, 64]),
        &["realloc", "heap buffer overflow"],
    );
}

#[test]
fn helpers_respect_heap_block_bounds() {
    let mut env = Env::new();
    let p = env.ok("malloc", &[10]);
    let src = env.cstr(b"0123456789ABCDEF");
    assert_fault(
        env.call("memset", &[p, 0, 16]),
        &[
            "memset",
            "runs 6 bytes past the end of the 10-byte heap block",
            &format!("{p:#x}"),
        ],
    );
    assert_fault(
        env.call("memcpy", &[p, src, 11]),
        &["memcpy", "10-byte heap block"],
    );
    assert_fault(
        env.call("strcpy", &[p, src]),
        &["strcpy", "10-byte heap block"],
    );
    // Exactly the block is fine.
    env.ok("memset", &[p, b'x' as u64, 10]);
    // An unterminated heap string is read past its block.
    assert_fault(
        env.call("strlen", &[p]),
        &["strlen", "past the end of the 10-byte heap block"],
    );
    let f = env.literal(b"%s");
    assert_fault(
        env.call("__bpf_strict_printf", &[f, p]),
        &["printf", "10-byte heap block"],
    );
    let f3 = env.literal(b"%.10s");
    assert_eq!(env.ok("__bpf_strict_printf", &[f3, p]), 10);
    // Touching a freed block is a use after free.
    env.ok("memset", &[p + 9, 0, 1]);
    env.ok("free", &[p]);
    for (f, args) in [
        ("strlen", vec![p]),
        ("memset", vec![p, 0, 1]),
        ("memcpy", vec![src, p + 2, 1]),
        ("__bpf_strict_printf", vec![f, p]),
    ] {
        // The strict variant's messages use the C name.
        let name = f.trim_start_matches("__bpf_strict_");
        assert_fault(
            env.call(f, &args),
            &[name, "which was freed", "use after free"],
        );
    }
    // strtol's end pointer needs 8 bytes: a 4-byte block is too small.
    let num = env.cstr(b"42");
    let end = env.ok("malloc", &[8]);
    assert_eq!(env.ok("strtol", &[num, end, 10]), 42);
    assert_eq!(env.mem.load(end, 8).unwrap(), num + 2);
    let small = env.ok("malloc", &[4]);
    assert_fault(
        env.call("strtol", &[num, small, 10]),
        &["strtol", "4-byte heap block"],
    );
}

#[test]
fn snapshot_restore_replays_the_same_addresses_and_numbers() {
    let mut env = Env::new();
    let a = env.ok("malloc", &[10]);
    let mem_before = env.mem.clone();
    let saved = env.rt.save();
    let b = env.ok("malloc", &[10]);
    let r1 = env.ok("rand", &[]);
    env.ok("free", &[a]);
    // The input failed: roll back memory and runtime together.
    env.mem = mem_before;
    env.rt.restore(saved);
    assert_eq!(env.ok("malloc", &[10]), b);
    assert_eq!(env.ok("rand", &[]), r1);
    // `a` is live again after the rollback.
    env.ok("free", &[a]);
    assert_eq!(env.rt.heap_stats(&env.mem).live_blocks, 1);
}

#[test]
fn helper_errors_are_errors_not_panics_after_inconsistent_restore() {
    // Memory rolled back without the runtime: bookkeeping names blocks that
    // no longer exist. Every call still returns an error, never panics.
    let mut env = Env::new();
    let before = env.mem.clone();
    let p = env.ok("malloc", &[10]);
    env.mem = before;
    assert!(matches!(
        env.call("free", &[p]),
        Err(HelperError::Memory(_))
    ));
    assert!(matches!(
        env.call("realloc", &[p, 100]),
        Err(HelperError::Memory(_))
    ));
}
