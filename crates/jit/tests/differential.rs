//! Differential property test: random valid programs — loops, local calls
//! and recursion, `callx`, kernel and runtime helpers (plain, failing,
//! calling back into BPF, tail calls), LD_ABS/LD_IND, loads, stores and
//! atomics that may fault or reach the device, proven accesses (the proofs
//! right or wrong), division by zero, small budgets and call-depth limits
//! — run on the interpreter, on the JIT, and on `auto` with a tiny
//! threshold (so that runs move from the interpreter to native code
//! mid-call), each inside an undo epoch that is rolled back afterwards
//! (see `support/world.rs`). The result or trap (kind, pc, call sites),
//! the data buffer, the stack and what the device saw must be identical.
//!
//! `DIFF_CASES=100000 cargo test --release -p bpf-jit --test differential`
//! runs a long campaign.

#[path = "support/world.rs"]
mod world;

use bpf_vm::isa::*;
use bpf_vm::validate::validate_slot;
use bpf_vm::{code_addr, RegionKind, VmConfig};
use proptest::prelude::*;
use std::sync::OnceLock;
use world::Which;

const BUF: usize = 64;

/// The operations of atomic instructions.
const ATOMIC_OPS: [i32; 10] = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];

/// One slot template per valid opcode (as `fuzz/fuzz_targets/vm_run.rs`).
fn templates() -> &'static [Insn] {
    static T: OnceLock<Vec<Insn>> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = vec![Insn::new(OP_LD_IMM64, 1, 0, 0, 0)];
        for op in 0..=255u8 {
            // (dst 0 for the legacy packet loads, which take no dst.)
            'found: for (dst, src) in [(1, 0), (1, 1), (1, 2), (0, 0), (0, 1)] {
                for off in [0, 1, 8, 16, 32] {
                    for imm in [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0xa0, 0xe1, 0xf1] {
                        let insn = Insn::new(op, dst, src, off, imm);
                        if validate_slot(insn).is_ok() {
                            out.push(insn);
                            break 'found;
                        }
                    }
                }
            }
        }
        out
    })
}

/// A raw slot from the generator, repaired toward a valid instruction.
#[derive(Debug, Clone)]
struct Raw {
    op: usize,
    dst: u8,
    src: u8,
    off: i16,
    imm: i32,
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        any::<usize>(),
        0u8..11,
        0u8..11,
        prop_oneof![-80i16..80, any::<i16>()],
        prop_oneof![-70i32..70, any::<i32>(), Just(0), Just(-1), Just(i32::MIN)],
    )
        .prop_map(|(op, dst, src, off, imm)| Raw {
            op,
            dst,
            src,
            off,
            imm,
        })
}

/// Builds a program that passes validation from the raw slots: jump and
/// call targets inside it, r1 (buffer), r3 (a function) and r5 (device)
/// mostly kept, helper ids and runtime indices of the world
/// (and one unknown of each), and a loop counter-friendly mix of
/// everything else.
fn build(raws: &[Raw]) -> Vec<Insn> {
    let table = templates();
    let len = raws.len() as i64;
    let mut code = Vec::new();
    let mut i = 0;
    while i < raws.len() {
        let r = &raws[i];
        // One slot in eight a call (helpers that call back, tail calls,
        // runtime helpers and local calls are where engines differ most).
        let t = if r.op.is_multiple_of(8) {
            Insn::new(OP_CALL, 0, 0, 0, 0)
        } else {
            table[r.op % table.len()]
        };
        let mut insn = Insn::new(t.op, r.dst % 11, r.src % 11, r.off, r.imm);
        let at = code.len() as i64;
        let rel = |v: i64| (v.rem_euclid(len.max(1)) - (at + 1)) as i32;
        if t.op == OP_LD_IMM64 {
            // A data or code address now and then, else the immediate.
            let value = match r.imm.rem_euclid(4) {
                0 => RegionKind::Data.base() + (r.off as u64 % BUF as u64),
                1 => code_addr(r.off.unsigned_abs() as usize % raws.len()),
                _ => r.imm as i64 as u64 * 0x1_0001,
            };
            code.extend(asm::ld_imm64(insn.dst.min(9), value));
            i += 2;
            continue;
        }
        if t.class() == CLASS_LD {
            // LD_ABS/LD_IND: no dst or offset; LD_ABS has no src either.
            (insn.dst, insn.off) = (0, 0);
            insn.imm = r.imm.rem_euclid(BUF as i32 + 8);
            if t.op & 0xe0 == MODE_ABS {
                insn.src = 0;
            }
        }
        if t.class() == CLASS_STX && t.op & 0xe0 == MODE_ATOMIC {
            // Every atomic operation, not only the template's.
            insn.imm = ATOMIC_OPS[r.imm.unsigned_abs() as usize % ATOMIC_OPS.len()];
        }
        if t.op == OP_CALL {
            (insn.dst, insn.off) = (0, 0);
            insn.src = r.src % 3;
            insn.imm = match insn.src {
                CALL_LOCAL => rel(r.imm as i64),
                CALL_RUNTIME => r.imm.rem_euclid(world::RUNTIME_IDS + 1),
                _ => 1 + r.imm.rem_euclid(world::HELPER_IDS),
            };
        } else if matches!(t.class(), CLASS_JMP | CLASS_JMP32) && t.op != OP_CALL {
            if t.op == OP_GOTOL {
                insn.imm = rel(r.imm as i64);
            } else if let Ok(off) = i16::try_from(rel(r.off as i64)) {
                insn.off = off;
            }
        }
        // Mostly keep r1 (the buffer) and r5 (the device) as they are, and
        // aim most accesses at the buffer, the frame or the device (the
        // rest may fault).
        let (class, bias) = (t.class(), r.imm.rem_euclid(10));
        let is_access = matches!(class, CLASS_LDX | CLASS_ST | CLASS_STX);
        if !is_access && matches!(insn.dst, 1 | 3 | 5) && bias < 8 {
            insn.dst = 0;
        }
        if is_access && bias < 8 {
            let (base, off) = match bias {
                0..3 => (1, r.off.rem_euclid(BUF as i16 - 8)),
                3..5 => (10, -8 - r.off.rem_euclid(56)),
                _ => (5, r.off.rem_euclid(world::DEVICE_LEN as i16)),
            };
            if class == CLASS_LDX {
                insn.src = base;
                insn.dst = [2, 4, 6, 7, 8, 9][insn.dst as usize % 6];
            } else {
                insn.dst = base;
            }
            insn.off = off;
        }
        for fix in 0..5 {
            match fix {
                1 => insn.imm = t.imm,
                2 => insn.src = t.src,
                3 => insn.off = t.off,
                4 => insn = t,
                _ => {}
            }
            if validate_slot(insn).is_ok() {
                break;
            }
        }
        code.push(insn);
        i += 1;
    }
    code.push(Insn::new(OP_EXIT, 0, 0, 0, 0));
    code
}

/// Cases per run: 400, or `DIFF_CASES`.
fn cases() -> u32 {
    std::env::var("DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn jit_and_interpreter_agree(
        raws in prop::collection::vec(raw(), 1..40),
        input in prop::collection::vec(any::<u8>(), BUF),
        budget in prop_oneof![1u64..60, 60u64..3000, Just(20_000u64)],
        depth in 1usize..6,
        threshold in 0u64..40,
        proof_seed in prop_oneof![Just(0u64), any::<u64>()],
    ) {
        let code = build(&raws);
        let config = VmConfig { frame_size: 64, max_call_depth: depth, budget };
        let proven = world::proofs(&code, proof_seed);
        let run = |which| world::run(&code, &input, config, which, &proven);
        let Some(interp) = run(Which::Interp) else {
            return Ok(());
        };
        let jit = run(Which::Jit).expect("loads");
        if std::env::var_os("DIFF_STATS").is_some() {
            let what = match &jit.result {
                Ok(_) => "ok".to_string(),
                Err(t) => format!("{:?}", t.kind).chars().take(32).collect(),
            };
            let what = format!("{what} device={}", !jit.device.is_empty());
            eprintln!("outcome: {what}");
        }
        prop_assert_eq!(&interp, &jit, "jit differs on {:?}", code);
        let auto = run(Which::Auto(threshold)).expect("loads");
        prop_assert_eq!(&interp, &auto, "auto differs on {:?}", code);
    }
}
