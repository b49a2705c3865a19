//! Differential property test: random straight-line and forward-branching
//! programs run on our interpreter and on rbpf 0.4's interpreter
//! (`EbpfVmRaw`, r1 = a 64-byte buffer); r0 and the buffer must agree.
//!
//! The generator stays inside what rbpf 0.4.1 implements *the way RFC 9669
//! specifies it* (read from rbpf's `interpreter.rs` and `verifier.rs`):
//! - rbpf has no v4 instructions: no SDIV/SMOD (it ignores `off` and divides
//!   unsigned), no MOVSX, no sign-extending loads, no 64-bit BSWAP, no
//!   `gotol`, and its verifier rejects all atomics. None are generated.
//! - `MOD32` by zero: rbpf leaves the destination untouched, RFC 9669 4.1
//!   zeroes its upper 32 bits. Every generated `MOD32` is preceded by
//!   `w_dst = w_dst`, which zero-extends first, so both agree and the
//!   modulo-by-zero path is still exercised.
//! - `NEG64`: rbpf computes `-(x as i64)`, which panics on `i64::MIN` in a
//!   debug build. Every generated `NEG64` is preceded by `dst |= 1`.
//! - `JEQ/JNE/JGT/JGE/JLT/JLE` with an immediate: rbpf zero-extends the
//!   32-bit immediate (`imm as u32 as u64`), RFC 9669 / Linux sign-extend
//!   it. Those are generated with non-negative immediates only (JSET and the
//!   signed compares sign-extend in both and get any immediate).
//! - Calls are left out: rbpf gives each local function a 256-byte frame
//!   inside one 512-byte stack and allows 8 nested calls, a different frame
//!   model from ours (512 bytes per frame); `kernels.rs` covers calls.
//! - Pointers differ (rbpf uses host addresses), so r1 and r10 are only ever
//!   used as load/store bases and never flow into a compared value.

use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{RegionKind, Vm};
use proptest::prelude::*;

const BUF_LEN: usize = 64;
/// Registers a generated instruction may read or write (not r1, not r10).
const DATA_REGS: [u8; 9] = [0, 2, 3, 4, 5, 6, 7, 8, 9];
const ALU_OPS: [u8; 11] = [
    ALU_ADD, ALU_SUB, ALU_MUL, ALU_DIV, ALU_OR, ALU_AND, ALU_LSH, ALU_RSH, ALU_XOR, ALU_MOV,
    ALU_ARSH,
];
const JMP_OPS: [u8; 11] = [
    JMP_JEQ, JMP_JGT, JMP_JGE, JMP_JSET, JMP_JNE, JMP_JSGT, JMP_JSGE, JMP_JLT, JMP_JLE, JMP_JSLT,
    JMP_JSLE,
];
/// JMP (64-bit) compares whose immediate rbpf zero-extends.
const ZERO_EXTENDED_IMM: [u8; 6] = [JMP_JEQ, JMP_JNE, JMP_JGT, JMP_JGE, JMP_JLT, JMP_JLE];
const SIZES: [(u8, i16); 4] = [(SIZE_B, 1), (SIZE_H, 2), (SIZE_W, 4), (SIZE_DW, 8)];

/// A piece of program: either straight-line slots (entered only at the
/// first) or a conditional/unconditional forward jump.
#[derive(Debug, Clone)]
enum Unit {
    Straight(Vec<Insn>),
    /// `insn` with its offset filled in at layout, to the unit `skip + 1`
    /// ahead, after the `prefix` slots.
    Jump {
        prefix: Vec<Insn>,
        insn: Insn,
        skip: usize,
    },
}

fn reg() -> impl Strategy<Value = u8> {
    prop::sample::select(&DATA_REGS[..])
}

fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        any::<i32>(),
        -70i32..70,
        prop::sample::select(vec![0, 1, -1, i32::MIN, i32::MAX, 31, 32, 63, 64]),
    ]
}

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..100,
        prop::sample::select(vec![
            0,
            1,
            u64::MAX,
            i64::MIN as u64,
            i64::MAX as u64,
            u32::MAX as u64,
            0x8000_0000,
            0xffff_ffff_8000_0000,
            0x1_0000_0000,
        ]),
    ]
}

fn alu_unit() -> impl Strategy<Value = Unit> {
    (
        any::<bool>(),
        prop::sample::select(&ALU_OPS[..]),
        reg(),
        reg(),
        imm(),
        any::<bool>(),
    )
        .prop_map(|(is64, op, dst, src, imm, use_reg)| {
            let class = if is64 { CLASS_ALU64 } else { CLASS_ALU };
            let insn = if use_reg {
                Insn::new(class | SRC_X | op, dst, src, 0, 0)
            } else {
                Insn::new(class | SRC_K | op, dst, 0, 0, imm)
            };
            Unit::Straight(vec![insn])
        })
}

fn special_alu_unit() -> impl Strategy<Value = Unit> {
    (reg(), reg(), imm(), any::<bool>(), 0usize..6).prop_map(|(dst, src, imm, is64, kind)| {
        let class = if is64 { CLASS_ALU64 } else { CLASS_ALU };
        Unit::Straight(match kind {
            // MOD: 64-bit as is; 32-bit after zero-extending dst (see above).
            0 | 1 => {
                let m = if kind == 0 {
                    Insn::new(class | SRC_X | ALU_MOD, dst, src, 0, 0)
                } else {
                    Insn::new(class | SRC_K | ALU_MOD, dst, 0, 0, imm)
                };
                if is64 {
                    vec![m]
                } else {
                    vec![alu32_reg(ALU_MOV, dst, dst), m]
                }
            }
            2 if is64 => vec![
                alu64_imm(ALU_OR, dst, 1),
                Insn::new(CLASS_ALU64 | ALU_NEG, dst, 0, 0, 0),
            ],
            2 => vec![Insn::new(CLASS_ALU | ALU_NEG, dst, 0, 0, 0)],
            // le/be of width 16/32/64.
            3 | 4 => {
                let width = [16, 32, 64][imm.unsigned_abs() as usize % 3];
                let src_bit = if kind == 3 { SRC_K } else { SRC_X };
                vec![Insn::new(CLASS_ALU | ALU_END | src_bit, dst, 0, 0, width)]
            }
            _ => ld_imm64(dst, imm as i64 as u64 ^ 0x5a5a_0000_0000_0000).to_vec(),
        })
    })
}

fn memory_unit() -> impl Strategy<Value = Unit> {
    (
        prop::sample::select(&SIZES[..]),
        reg(),
        0usize..6,
        0i16..64,
        imm(),
    )
        .prop_map(|((size, width), r, kind, pos, imm)| {
            // Stack slots in r10-64..r10; buffer bytes in r1+0..r1+64.
            let stack_off = -(pos % (64 - width + 1)) - width;
            let buf_off = pos % (BUF_LEN as i16 - width + 1);
            Unit::Straight(vec![match kind {
                0 => stx(size, 10, r, stack_off),
                1 => ldx(size, r, 10, stack_off),
                2 => st(size, 10, stack_off, imm),
                3 => stx(size, 1, r, buf_off),
                4 => ldx(size, r, 1, buf_off),
                _ => st(size, 1, buf_off, imm),
            }])
        })
}

fn jump_unit() -> impl Strategy<Value = Unit> {
    (
        0usize..3,
        prop::sample::select(&JMP_OPS[..]),
        reg(),
        reg(),
        imm(),
        any::<bool>(),
        0usize..6,
    )
        .prop_map(|(class, op, dst, src, imm, use_reg, skip)| {
            let insn = match class {
                0 => ja(0),
                _ => {
                    let class = if class == 1 { CLASS_JMP } else { CLASS_JMP32 };
                    if use_reg {
                        Insn::new(class | SRC_X | op, dst, src, 0, 0)
                    } else {
                        let imm = if class == CLASS_JMP && ZERO_EXTENDED_IMM.contains(&op) {
                            imm & i32::MAX
                        } else {
                            imm
                        };
                        Insn::new(class | SRC_K | op, dst, 0, 0, imm)
                    }
                }
            };
            Unit::Jump {
                prefix: vec![],
                insn,
                skip,
            }
        })
}

/// The pairs our interpreter fuses into one step: a register move and an
/// ALU op of the same width, in either order (the op may use or be the
/// moved register), and `r += imm` followed by a 64-bit conditional jump.
fn fused_pair_unit() -> impl Strategy<Value = Unit> {
    (
        (any::<bool>(), 0usize..3),
        prop::sample::select(&ALU_OPS[..]),
        prop::sample::select(&JMP_OPS[..]),
        (reg(), reg(), reg(), reg()),
        imm(),
        any::<bool>(),
        0usize..6,
    )
        .prop_map(
            |((is64, form), alu, jmp, (d, s, e, x), imm, use_reg, skip)| {
                if form == 2 {
                    // r_d += imm; if r_d <jmp> (imm | r_x) goto +skip
                    let insn = if use_reg {
                        jmp_reg(jmp, d, x, 0)
                    } else if ZERO_EXTENDED_IMM.contains(&jmp) {
                        jmp_imm(jmp, d, imm & i32::MAX, 0)
                    } else {
                        jmp_imm(jmp, d, imm, 0)
                    };
                    return Unit::Jump {
                        prefix: vec![alu64_imm(ALU_ADD, d, imm)],
                        insn,
                        skip,
                    };
                }
                let class = if is64 { CLASS_ALU64 } else { CLASS_ALU };
                // The op writes r_e (half the time the moved register).
                let e = if e % 2 == 0 { d } else { e };
                let op = if use_reg {
                    Insn::new(class | SRC_X | alu, e, x, 0, 0)
                } else {
                    Insn::new(class | SRC_K | alu, e, 0, 0, imm)
                };
                let mov = Insn::new(class | SRC_X | ALU_MOV, d, s, 0, 0);
                Unit::Straight(if form == 0 {
                    vec![mov, op]
                } else {
                    vec![op, mov]
                })
            },
        )
}

fn unit() -> impl Strategy<Value = Unit> {
    prop_oneof![
        5 => alu_unit(),
        2 => special_alu_unit(),
        3 => memory_unit(),
        2 => jump_unit(),
        2 => fused_pair_unit(),
    ]
}

/// Lays out: register set-up, the units (jumps resolved to slot offsets),
/// a mixing epilogue that folds r2..r9 into r0, and `exit`.
fn assemble(init: &[u64; 9], units: &[Unit]) -> Vec<Insn> {
    let mut code = Vec::new();
    for (r, v) in DATA_REGS.iter().zip(init) {
        code.extend(ld_imm64(*r, *v));
    }
    let mut starts = Vec::with_capacity(units.len() + 1);
    let mut at = code.len();
    for u in units {
        starts.push(at);
        at += match u {
            Unit::Straight(s) => s.len(),
            Unit::Jump { prefix, .. } => prefix.len() + 1,
        };
    }
    starts.push(at); // the epilogue
    for (i, u) in units.iter().enumerate() {
        match u {
            Unit::Straight(s) => code.extend(s),
            Unit::Jump { prefix, insn, skip } => {
                code.extend(prefix);
                let target = starts[(i + 1 + skip).min(units.len())];
                let mut j = *insn;
                j.off = (target - (starts[i] + prefix.len() + 1)) as i16;
                code.push(j);
            }
        }
    }
    for r in 2..=9 {
        code.push(alu64_imm(ALU_MUL, 0, 31));
        code.push(alu64_reg(ALU_ADD, 0, r));
    }
    code.push(exit());
    code
}

fn run_ours(code: &[Insn], buf: &[u8]) -> (u64, Vec<u8>) {
    let mut vm = Vm::default();
    let addr = vm.mem.alloc(RegionKind::Data, BUF_LEN, 8).unwrap();
    vm.mem.write_bytes(addr, buf).unwrap();
    let at = vm
        .load_code(code)
        .unwrap_or_else(|e| panic!("we reject: {e}"));
    let r0 = vm
        .call(at, &[addr])
        .unwrap_or_else(|t| panic!("we trap: {t}"));
    (r0, vm.mem.read_bytes(addr, BUF_LEN).unwrap())
}

fn run_rbpf(code: &[Insn], buf: &[u8]) -> (u64, Vec<u8>) {
    let bytes = encode(code);
    let mut mem = buf.to_vec();
    let r0 = {
        let vm = rbpf::EbpfVmRaw::new(Some(&bytes)).unwrap_or_else(|e| panic!("rbpf rejects: {e}"));
        vm.execute_program(&mut mem)
            .unwrap_or_else(|e| panic!("rbpf fails: {e}"))
    };
    (r0, mem)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_rbpf(
        init in prop::array::uniform9(value()),
        buf in prop::collection::vec(any::<u8>(), BUF_LEN),
        units in prop::collection::vec(unit(), 1..48),
    ) {
        let code = assemble(&init, &units);
        let ours = run_ours(&code, &buf);
        let theirs = run_rbpf(&code, &buf);
        prop_assert_eq!(ours.0, theirs.0, "r0 differs");
        prop_assert_eq!(ours.1, theirs.1, "buffer differs");
    }

    /// Straight-line only: every generated instruction runs.
    #[test]
    fn agrees_with_rbpf_straight_line(
        init in prop::array::uniform9(value()),
        units in prop::collection::vec(prop_oneof![3 => alu_unit(), 2 => special_alu_unit(), 1 => memory_unit(), 1 => fused_pair_unit().prop_filter("straight", |u| matches!(u, Unit::Straight(_)))], 1..64),
    ) {
        let buf = [0x5au8; BUF_LEN];
        let code = assemble(&init, &units);
        prop_assert_eq!(run_ours(&code, &buf), run_rbpf(&code, &buf));
    }
}

/// The divergences the generator works around are real: if rbpf changes
/// these, the workarounds above can go.
#[test]
fn rbpf_divergences_from_rfc_9669_that_the_generator_avoids() {
    // MOD32 by zero: RFC 9669 zeroes the upper half, rbpf keeps it.
    let mut code = ld_imm64(0, 0xdead_beef_0000_0007).to_vec();
    code.extend([alu32_imm(ALU_MOD, 0, 0), exit()]);
    assert_eq!(run_ours(&code, &[0; BUF_LEN]).0, 7);
    assert_eq!(run_rbpf(&code, &[0; BUF_LEN]).0, 0xdead_beef_0000_0007);
    // JEQ with imm -1 against u64::MAX: sign-extended (taken) vs zero-extended.
    let code = [
        mov64_imm(0, -1),
        jmp_imm(JMP_JEQ, 0, -1, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    assert_eq!(run_ours(&code, &[0; BUF_LEN]).0, u64::MAX);
    assert_eq!(run_rbpf(&code, &[0; BUF_LEN]).0, 0);
}
