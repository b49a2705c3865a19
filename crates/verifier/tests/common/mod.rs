//! Helpers shared by the kernel-mode corpus tests.
#![allow(dead_code)]

use bpf_verifier::kernel::map_type;
use bpf_verifier::kernel::KernelProgram;
use bpf_verifier::kernel::MapDef;
use bpf_verifier::*;
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;

pub const MAP_ADDR: u64 = 0x3_0000_0000;
pub const RINGBUF_ADDR: u64 = 0x3_0000_0100;
pub const RODATA_ADDR: u64 = 0x2_0000_0000;

pub fn maps() -> Vec<MapInfo> {
    vec![
        MapInfo {
            name: "counts".into(),
            def: MapDef {
                map_type: map_type::ARRAY,
                key_size: 4,
                value_size: 16,
                max_entries: 8,
                flags: 0,
            },
            addr: MAP_ADDR,
            size: 32,
            internal: false,
            read_only: false,
        },
        MapInfo {
            name: "events".into(),
            def: MapDef {
                map_type: map_type::RINGBUF,
                key_size: 0,
                value_size: 0,
                max_entries: 4096,
                flags: 0,
            },
            addr: RINGBUF_ADDR,
            size: 32,
            internal: false,
            read_only: false,
        },
        MapInfo::internal(".rodata", RODATA_ADDR, 8),
    ]
}

pub fn verdict_with(code: &[Insn], prog_type: ProgType, options: KernelOptions) -> Verdict {
    let program = Program {
        code,
        base: 0,
        functions: vec![Function {
            name: "prog".into(),
            start: 0,
            end: code.len(),
            external: true,
        }],
    };
    let maps = maps();
    let env = KernelEnv {
        facts: ObjectFacts::default(),
        maps: &maps,
        options,
    };
    let kp = KernelProgram {
        function: 0,
        prog_type,
        section: "test".into(),
    };
    verify_kernel(&program, &kp, &env, Limits::default())
}

pub fn verdict(code: &[Insn], prog_type: ProgType) -> Verdict {
    verdict_with(code, prog_type, KernelOptions::privileged())
}

#[track_caller]
pub fn accepts(code: &[Insn], prog_type: ProgType) {
    let v = verdict(code, prog_type);
    assert!(
        v.accepted(),
        "expected acceptance, got {:#?}",
        v.diagnostics
    );
}

#[track_caller]
pub fn rejects_at(code: &[Insn], prog_type: ProgType, rule: Rule, slot: usize) -> Diagnostic {
    rejects_with(code, prog_type, KernelOptions::privileged(), rule, slot)
}

#[track_caller]
pub fn rejects_with(
    code: &[Insn],
    prog_type: ProgType,
    options: KernelOptions,
    rule: Rule,
    slot: usize,
) -> Diagnostic {
    let v = verdict_with(code, prog_type, options);
    let found = v
        .diagnostics
        .iter()
        .find(|d| d.rule == rule && d.is_error());
    match found {
        Some(d) => {
            assert_eq!(
                d.slot, slot,
                "{rule:?} reported at the wrong instruction: {d:#?}"
            );
            d.clone()
        }
        None => panic!("expected {rule:?} at {slot}, got {:#?}", v.diagnostics),
    }
}

pub fn ld_map(r: u8, addr: u64) -> [Insn; 2] {
    ld_imm64(r, addr)
}

/// `r0 = lookup(counts, &key)` with key 0 at r10-4: slots 0..=5.
pub fn lookup_counts() -> Vec<Insn> {
    let mut c = vec![
        st(SIZE_W, 10, -4, 0),
        mov64_reg(2, 10),
        alu64_imm(ALU_ADD, 2, -4),
    ];
    c.extend(ld_map(1, MAP_ADDR));
    c.push(call_helper(1));
    c
}

pub fn xdp_bounds_prologue(n: i32) -> Vec<Insn> {
    // r2 = data, r3 = data_end, r4 = data + n; if r4 > r3 goto exit
    vec![
        ldx(SIZE_W, 2, 1, 0),
        ldx(SIZE_W, 3, 1, 4),
        mov64_reg(4, 2),
        alu64_imm(ALU_ADD, 4, n),
    ]
}
