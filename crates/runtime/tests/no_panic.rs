//! Hostile arguments never crash the host: every helper, called with any
//! mix of good, bad, dangling and absurd registers, returns a value or a
//! typed error.

mod common;

use bpf_runtime::helper_names;
use common::Env;
use proptest::prelude::*;

/// Registers a hostile program might pass, resolved against `env`.
#[derive(Debug, Clone)]
enum Arg {
    Raw(u64),
    Text(usize),
    Heap(usize),
    FreedHeap,
    RegionEnd,
    Literal,
}

fn arg() -> impl Strategy<Value = Arg> {
    prop_oneof![
        any::<u64>().prop_map(Arg::Raw),
        proptest::sample::select(vec![
            0u64,
            1,
            2,
            8,
            0x10,
            u64::MAX,
            1 << 63,
            7 << 32,
            1 << 31,
            4 << 32
        ])
        .prop_map(Arg::Raw),
        (0usize..6).prop_map(Arg::Text),
        (0usize..4).prop_map(Arg::Heap),
        Just(Arg::FreedHeap),
        Just(Arg::RegionEnd),
        Just(Arg::Literal),
    ]
}

const TEXTS: [&[u8]; 6] = [
    b"%s %d %p %n",
    b"%*.*d %ls %f %",
    b"%1$d %99999999d",
    b"  -0x7fffffffffffffffff",
    b"hello",
    b"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn helpers_never_panic(calls in proptest::collection::vec((0usize..64, proptest::collection::vec(arg(), 5)), 1..8)) {
        let names: Vec<&str> = helper_names().collect();
        let mut env = Env::new();
        let texts: Vec<u64> = TEXTS.iter().map(|t| env.cstr(t)).collect();
        let literal = env.literal(b"read-only");
        let heap: Vec<u64> = [0u64, 1, 16, 100].iter().map(|n| env.ok("malloc", &[*n])).collect();
        let freed = env.ok("malloc", &[24]);
        env.ok("free", &[freed]);
        let end = bpf_vm::RegionKind::Data.base() + env.mem.region_len(bpf_vm::RegionKind::Data) as u64;
        for (which, args) in calls {
            let regs: Vec<u64> = args.iter().map(|a| match a {
                Arg::Raw(v) => *v,
                Arg::Text(i) => texts[*i],
                Arg::Heap(i) => heap[*i],
                Arg::FreedHeap => freed,
                Arg::RegionEnd => end - 1,
                Arg::Literal => literal,
            }).collect();
            let name = names[which % names.len()];
            let _ = env.call(name, &regs);
        }
    }
}
