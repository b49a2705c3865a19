//! Differential property test: random valid programs — loops, local calls
//! and recursion, `callx`, helpers, loads, stores and atomics that may
//! fault, division by zero, small budgets and call-depth limits — run on
//! the interpreter, on the JIT, and on `auto` with a tiny threshold (so
//! that runs move from the interpreter to native code mid-call). The
//! result or trap (kind, pc, call sites), the data buffer and the stack
//! must be identical.

use bpf_jit::{EngineKind, Jit};
use bpf_vm::isa::*;
use bpf_vm::validate::validate_slot;
use bpf_vm::{code_addr, HelperError, RegionKind, Trap, Vm, VmConfig};
use proptest::prelude::*;
use std::sync::OnceLock;

const BUF: usize = 64;

/// One slot template per valid opcode (as `fuzz/fuzz_targets/vm_run.rs`).
fn templates() -> &'static [Insn] {
    static T: OnceLock<Vec<Insn>> = OnceLock::new();
    T.get_or_init(|| {
        let mut out = vec![Insn::new(OP_LD_IMM64, 1, 0, 0, 0)];
        for op in 0..=255u8 {
            'found: for src in [0, 1, 2] {
                for off in [0, 1, 8, 16, 32] {
                    for imm in [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0xa0, 0xe1, 0xf1] {
                        let insn = Insn::new(op, 1, src, off, imm);
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
/// call targets inside it, helper ids 1..=4 (4 is unknown), and a loop
/// counter-friendly mix of everything else.
fn build(raws: &[Raw]) -> Vec<Insn> {
    let table = templates();
    let len = raws.len() as i64;
    let mut code = Vec::new();
    let mut i = 0;
    while i < raws.len() {
        let r = &raws[i];
        let t = table[r.op % table.len()];
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
        if t.op == OP_CALL {
            insn.src = r.src % 2;
            insn.imm = if insn.src == CALL_LOCAL {
                rel(r.imm as i64)
            } else {
                1 + r.imm.rem_euclid(4)
            };
        } else if matches!(t.class(), CLASS_JMP | CLASS_JMP32) && t.op != OP_CALL {
            if t.op == OP_GOTOL {
                insn.imm = rel(r.imm as i64);
            } else if let Ok(off) = i16::try_from(rel(r.off as i64)) {
                insn.off = off;
            }
        }
        // Mostly keep r1 as the buffer pointer, and aim most accesses at
        // the buffer or the frame (the rest may fault).
        let (class, bias) = (t.class(), r.imm.rem_euclid(8));
        if !matches!(class, CLASS_LDX | CLASS_ST | CLASS_STX) && insn.dst == 1 && bias < 6 {
            insn.dst = 0;
        }
        if matches!(class, CLASS_LDX | CLASS_ST | CLASS_STX) && bias < 6 {
            let (base, off) = if bias < 3 {
                (1, r.off.rem_euclid(BUF as i16 - 8))
            } else {
                (10, -8 - r.off.rem_euclid(56))
            };
            if class == CLASS_LDX {
                insn.src = base;
                insn.dst = insn.dst.clamp(2, 9);
            } else {
                insn.dst = base;
            }
            insn.off = off;
        }
        for fix in 0..5 {
            match fix {
                1 => insn.src = t.src,
                2 => insn.imm = t.imm,
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

/// Everything observable about one run.
#[derive(Debug, PartialEq)]
struct Outcome {
    result: Result<u64, Trap>,
    buffer: Vec<u8>,
    stack: Vec<u8>,
}

fn run(code: &[Insn], engine: Option<u64>, config: VmConfig, input: &[u8]) -> Option<Outcome> {
    let mut vm = Vm::new(config);
    vm.register_helper(
        1,
        "mix",
        Box::new(|_, a| Ok(a[0].wrapping_mul(31) ^ a[1].rotate_left(7) ^ a[4])),
    );
    vm.register_helper(
        2,
        "sum_bytes",
        Box::new(|mem, a| {
            let bytes = mem.slice(a[0], a[1].min(256) as usize)?;
            Ok(bytes.iter().map(|&b| u64::from(b)).sum())
        }),
    );
    vm.register_helper(
        3,
        "fail",
        Box::new(|_, a| Err(HelperError::Fault(format!("fail({})", a[0])))),
    );
    match engine {
        None => {}
        Some(u64::MAX) => {
            bpf_jit::install(&mut vm, EngineKind::Jit);
        }
        Some(threshold) => {
            let mut jit = Jit::new(EngineKind::Auto).unwrap();
            jit.threshold = threshold;
            jit.per_instruction = 0;
            vm.set_engine(Some(Box::new(jit)));
        }
    }
    let entry = vm.load_code(code).ok()?;
    for (i, insn) in code.iter().enumerate() {
        if i % 3 == 0 || insn.op == OP_EXIT {
            vm.mark_entry(i);
        }
    }
    let addr = vm.mem.alloc(RegionKind::Data, BUF, 8).unwrap();
    vm.mem.write_bytes(addr, input).unwrap();
    let result = vm.call(entry, &[addr, BUF as u64, code_addr(0), 7, u64::MAX]);
    let buffer = vm.mem.read_bytes(addr, BUF).unwrap();
    // The whole stack region (every frame).
    vm.mem.set_stack_low(0);
    let size = config.frame_size * config.max_call_depth;
    let stack = vm.mem.read_bytes(RegionKind::Stack.base(), size).unwrap();
    Some(Outcome {
        result,
        buffer,
        stack,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn jit_and_interpreter_agree(
        raws in prop::collection::vec(raw(), 1..40),
        input in prop::collection::vec(any::<u8>(), BUF),
        budget in prop_oneof![1u64..60, 60u64..3000, Just(20_000u64)],
        depth in 1usize..6,
        threshold in 0u64..40,
    ) {
        let code = build(&raws);
        let config = VmConfig { frame_size: 64, max_call_depth: depth, budget };
        let Some(interp) = run(&code, None, config, &input) else {
            return Ok(());
        };
        let jit = run(&code, Some(u64::MAX), config, &input).expect("loads");
        if std::env::var_os("DIFF_STATS").is_some() {
            let what = match &jit.result {
                Ok(_) => "ok".to_string(),
                Err(t) => format!("{:?}", t.kind).chars().take(14).collect(),
            };
            eprintln!("outcome: {what}");
        }
        prop_assert_eq!(&interp, &jit, "jit differs on {:?}", code);
        let auto = run(&code, Some(threshold), config, &input).expect("loads");
        prop_assert_eq!(&interp, &auto, "auto differs on {:?}", code);
    }
}
