//! The interpreter runs a pre-decoded copy of the code in which some pairs
//! of instructions are fused into one step (a register move folded into
//! the ALU op after it; `r += imm` folded into the conditional jump after
//! it). These tests pin down that nothing about that is observable: every
//! change to the code (load, patch, `patch_ld_imm64`, truncation) reaches
//! the copy, jumps may land between the halves of a fused pair, and the
//! budget counts and stops at every single instruction.
//!
//! Expected values come from the instruction semantics (RFC 9669) worked
//! by hand, or from an instruction trace written out independently.

use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{Insn, Trap, TrapKind, Vm, VmConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn vm_with_budget(budget: u64) -> Vm {
    Vm::new(VmConfig {
        budget,
        ..VmConfig::default()
    })
}

fn run(code: &[Insn], args: &[u64]) -> Result<u64, Trap> {
    let mut vm = Vm::default();
    let at = vm.load_code(code).unwrap();
    vm.call(at, args)
}

#[test]
fn moves_folded_into_alu_ops_compute_the_same() {
    // r0 = r1; r0 *= r0; r2 = r1; r2 >>= 3; r0 ^= r2;
    // w3 = w1; w3 += -1 (wraps in 32 bits); r0 += r3
    let code = [
        mov64_reg(0, 1),
        alu64_reg(ALU_MUL, 0, 0),
        mov64_reg(2, 1),
        alu64_imm(ALU_RSH, 2, 3),
        alu64_reg(ALU_XOR, 0, 2),
        alu32_reg(ALU_MOV, 3, 1),
        alu32_imm(ALU_ADD, 3, -1),
        alu64_reg(ALU_ADD, 0, 3),
        exit(),
    ];
    for x in [0u64, 1, 77, 0xffff_ffff, 0x1_0000_0000, u64::MAX] {
        let expect = (x.wrapping_mul(x) ^ (x >> 3)).wrapping_add((x as u32).wrapping_sub(1) as u64);
        assert_eq!(run(&code, &[x]), Ok(expect), "x = {x:#x}");
    }
}

#[test]
fn independent_moves_fold_in_either_order() {
    let code = [
        mov64_reg(2, 1),          // r2 = x
        mov64_imm(5, 100),        // r5 = 100
        alu64_reg(ALU_SUB, 5, 2), // r5 = 100 - x
        mov64_reg(6, 5),          // r6 = 100 - x
        alu64_imm(ALU_ADD, 2, 1), // r2 = x + 1
        mov64_reg(3, 5),          // r3 = 100 - x (commutes with the add)
        mov64_reg(0, 3),          // r0 = 100 - x
        alu64_reg(ALU_ADD, 0, 2), // r0 = 101
        alu64_reg(ALU_XOR, 0, 6), // r0 = 101 ^ (100 - x)
        alu64_reg(ALU_ADD, 0, 3), // r0 += r3 (not fused: reads the add's result)
        mov64_reg(3, 0),          // r3 = r0
        exit(),
    ];
    for x in [0u64, 1, 100, 0xffff_ffff_ffff_fff0] {
        let d = 100u64.wrapping_sub(x);
        let expect = (101 ^ d).wrapping_add(d);
        assert_eq!(run(&code, &[x]), Ok(expect), "x = {x:#x}");
    }
}

#[test]
fn a_move_is_not_folded_across_widths() {
    // w0 = w1 zero-extends, so the 64-bit add sees only the low half.
    let code = [alu32_reg(ALU_MOV, 0, 1), alu64_imm(ALU_ADD, 0, 1), exit()];
    assert_eq!(run(&code, &[0x7_0000_0005]), Ok(6));
    // r0 = r1 keeps all 64 bits; the 32-bit add then truncates.
    let code = [mov64_reg(0, 1), alu32_imm(ALU_ADD, 0, 1), exit()];
    assert_eq!(run(&code, &[0x7_ffff_ffff]), Ok(0));
}

#[test]
fn a_jump_may_land_on_the_second_half_of_a_fused_pair() {
    // if r1 == 0 goto L; r0 = r2; L: r0 += 10; exit
    // r0 starts at 0 (registers other than r1..r5 start cleared).
    let code = [
        jmp_imm(JMP_JEQ, 1, 0, 1),
        mov64_reg(0, 2),
        alu64_imm(ALU_ADD, 0, 10),
        exit(),
    ];
    assert_eq!(run(&code, &[0, 5]), Ok(10));
    assert_eq!(run(&code, &[1, 5]), Ok(15));
    // The same with a counted loop: r0 += 1; if r0 < r1 goto the add.
    let code = [
        mov64_imm(0, 0),
        ja(0),
        alu64_imm(ALU_ADD, 0, 1),
        jmp_reg(JMP_JLT, 0, 1, -2),
        exit(),
    ];
    assert_eq!(run(&code, &[7]), Ok(7));
    // Entering at the jump skips the add; entering at the add does not.
    let mut vm = Vm::default();
    let at = vm.load_code(&code).unwrap();
    assert_eq!(vm.call(at + 3, &[0]), Ok(0));
    assert_eq!(vm.call(at + 2, &[0]), Ok(1));
}

#[test]
fn adds_folded_into_jumps_compute_the_same() {
    // Every 64-bit condition after `r2 += -3`: r0 collects which were taken.
    let conds = [
        JMP_JEQ, JMP_JGT, JMP_JGE, JMP_JSET, JMP_JNE, JMP_JSGT, JMP_JSGE, JMP_JLT, JMP_JLE,
        JMP_JSLT, JMP_JSLE,
    ];
    let taken = |cond: u8, a: u64, b: u64| match cond {
        JMP_JEQ => a == b,
        JMP_JGT => a > b,
        JMP_JGE => a >= b,
        JMP_JSET => a & b != 0,
        JMP_JNE => a != b,
        JMP_JSGT => (a as i64) > b as i64,
        JMP_JSGE => (a as i64) >= b as i64,
        JMP_JLT => a < b,
        JMP_JLE => a <= b,
        JMP_JSLT => (a as i64) < (b as i64),
        _ => (a as i64) <= b as i64,
    };
    for (i, cond) in conds.into_iter().enumerate() {
        for use_reg in [false, true] {
            for (x, y) in [(3u64, 0u64), (2, 5), (0, u64::MAX - 2), (8, 5), (1, 0)] {
                // r2 = x; r2 += -3; if r2 <cond> (-2 | r3) goto +1; r0 = 0; exit
                let jump = if use_reg {
                    jmp_reg(cond, 2, 3, 1)
                } else {
                    jmp_imm(cond, 2, -2, 1)
                };
                let code = [
                    mov64_reg(2, 1),
                    mov64_imm(0, 1),
                    alu64_imm(ALU_ADD, 2, -3),
                    jump,
                    mov64_imm(0, 0),
                    exit(),
                ];
                let a = x.wrapping_sub(3);
                let b = if use_reg { y } else { -2i64 as u64 };
                let expect = taken(cond, a, b) as u64;
                assert_eq!(
                    run(&code, &[x, 0, y]),
                    Ok(expect),
                    "condition #{i}, register {use_reg}, x {x}, y {y}"
                );
            }
        }
    }
}

#[test]
fn patching_either_half_of_a_fused_pair_takes_effect() {
    let mut vm = Vm::default();
    // r0 = r1; r0 += 5; exit
    let at = vm
        .load_code(&[mov64_reg(0, 1), alu64_imm(ALU_ADD, 0, 5), exit()])
        .unwrap();
    assert_eq!(vm.call(at, &[7]), Ok(12));
    vm.patch(at + 1, alu64_imm(ALU_SUB, 0, 5)).unwrap();
    assert_eq!(vm.call(at, &[7]), Ok(2));
    vm.patch(at, mov64_reg(0, 2)).unwrap();
    assert_eq!(vm.call(at, &[7, 100]), Ok(95));
    // No longer a move: the pair is no longer fused.
    vm.patch(at, mov64_imm(0, 40)).unwrap();
    assert_eq!(vm.call(at, &[7, 100]), Ok(35));
    // And a move again, now into another register: r3 = r1; r0 -= 5.
    vm.patch(at, mov64_reg(3, 1)).unwrap();
    assert_eq!(vm.call(at, &[7, 100]), Ok(-5i64 as u64));
}

#[test]
fn patching_the_jump_of_a_fused_add_takes_effect() {
    let mut vm = Vm::default();
    // r0 += 1; if r0 < r1 goto -2 (back to the add); exit
    let at = vm
        .load_code(&[alu64_imm(ALU_ADD, 0, 1), jmp_reg(JMP_JLT, 0, 1, -2), exit()])
        .unwrap();
    assert_eq!(vm.call(at, &[9]), Ok(9));
    vm.patch(at + 1, jmp_imm(JMP_JLT, 0, 4, -2)).unwrap();
    assert_eq!(vm.call(at, &[9]), Ok(4));
    vm.patch(at, alu64_imm(ALU_ADD, 0, 2)).unwrap();
    assert_eq!(vm.call(at, &[9]), Ok(4));
    vm.patch(at + 1, ja(0)).unwrap();
    assert_eq!(vm.call(at, &[9]), Ok(2));
}

#[test]
fn calls_and_jumps_land_where_a_patch_points_them() {
    let mut vm = Vm::default();
    // 0: call f; 1: exit; f = 2: r0 = 1; exit; g = 4: r0 = r1; r0 *= 3; exit
    let at = vm
        .load_code(&[
            call_local(1),
            exit(),
            mov64_imm(0, 1),
            exit(),
            mov64_reg(0, 1),
            alu64_imm(ALU_MUL, 0, 3),
            exit(),
        ])
        .unwrap();
    assert_eq!(vm.call(at, &[5]), Ok(1));
    vm.patch(at, call_local(3)).unwrap();
    assert_eq!(vm.call(at, &[5]), Ok(15));
    // Into the second half of the fused move + multiply: r0 is still 0.
    vm.patch(at, call_local(4)).unwrap();
    assert_eq!(vm.call(at, &[5]), Ok(0));
    vm.patch(at + 2, ja(1)).unwrap();
    vm.patch(at, call_local(1)).unwrap();
    assert_eq!(vm.call(at, &[5]), Ok(15));
}

#[test]
fn patch_ld_imm64_reaches_the_running_code() {
    let mut vm = Vm::default();
    let mut code = ld_imm64(0, 0x1234_5678_9abc_def0).to_vec();
    code.push(alu64_imm(ALU_ADD, 0, 1));
    code.push(exit());
    let at = vm.load_code(&code).unwrap();
    assert_eq!(vm.call(at, &[]), Ok(0x1234_5678_9abc_def1));
    vm.patch_ld_imm64(at, 0xffff_ffff_0000_0000).unwrap();
    assert_eq!(vm.call(at, &[]), Ok(0xffff_ffff_0000_0001));
}

#[test]
fn a_pair_across_chunks_follows_truncation_and_reloading() {
    let mut vm = Vm::default();
    // Chunk A ends in a move that falls through into chunk B.
    let a = vm.load_code(&[mov64_reg(0, 1)]).unwrap();
    vm.load_code(&[alu64_imm(ALU_ADD, 0, 1), exit()]).unwrap();
    assert_eq!(vm.call(a, &[41]), Ok(42));
    vm.truncate_code(a + 1);
    let t = vm.call(a, &[41]).unwrap_err();
    assert_eq!((t.kind, t.pc), (TrapKind::PcOutOfRange(1), 1));
    vm.load_code(&[alu64_imm(ALU_MUL, 0, 3), exit()]).unwrap();
    assert_eq!(vm.call(a, &[41]), Ok(123));
}

#[test]
fn a_fused_jump_into_truncated_code_traps_at_its_target() {
    let mut vm = Vm::default();
    // 0: r0 += 1; 1: if r0 < r1 goto 4; 2: exit; 3: exit; 4: r0 = 9; 5: exit
    let at = vm
        .load_code(&[
            alu64_imm(ALU_ADD, 0, 1),
            jmp_reg(JMP_JLT, 0, 1, 2),
            exit(),
            exit(),
            mov64_imm(0, 9),
            exit(),
        ])
        .unwrap();
    assert_eq!(vm.call(at, &[5]), Ok(9));
    vm.truncate_code(at + 4);
    let t = vm.call(at, &[5]).unwrap_err();
    assert_eq!((t.kind, t.pc), (TrapKind::PcOutOfRange(4), 4));
    assert_eq!(vm.call(at, &[0]), Ok(1));
}

/// Runs `code` from slot 0 with every budget below `trace.len()` and at
/// it: budget `k` must stop with the budget trap exactly at `trace[k]`
/// (the instruction that would have been the `k+1`-th), and a budget of
/// the whole trace must finish with `result`.
fn check_budget_stops(code: &[Insn], args: &[u64], trace: &[usize], result: u64) {
    for (k, &pc) in trace.iter().enumerate() {
        let mut vm = vm_with_budget(k as u64);
        vm.load_code(code).unwrap();
        let t = vm.call(0, args).unwrap_err();
        assert_eq!(
            (t.kind, t.pc),
            (TrapKind::BudgetExhausted { budget: k as u64 }, pc),
            "budget {k}"
        );
    }
    let mut vm = vm_with_budget(trace.len() as u64);
    vm.load_code(code).unwrap();
    assert_eq!(vm.call(0, args), Ok(result));
}

#[test]
fn the_budget_stops_between_the_halves_of_a_fused_pair() {
    // r0 = r1; r0 += 1; r2 = r0; r2 *= 3; exit: two fused pairs.
    let code = [
        mov64_reg(0, 1),
        alu64_imm(ALU_ADD, 0, 1),
        mov64_reg(2, 0),
        alu64_imm(ALU_MUL, 2, 3),
        exit(),
    ];
    check_budget_stops(&code, &[4], &[0, 1, 2, 3, 4], 5);
}

#[test]
fn the_budget_counts_every_instruction_of_a_fused_loop() {
    // 0: r0 = 0; 1: r0 += 1; 2: if r0 < r1 goto 1; 3: exit
    let code = [
        mov64_imm(0, 0),
        alu64_imm(ALU_ADD, 0, 1),
        jmp_reg(JMP_JLT, 0, 1, -2),
        exit(),
    ];
    let n = 10;
    let mut trace = vec![0];
    for _ in 0..n {
        trace.extend([1, 2]);
    }
    trace.push(3);
    check_budget_stops(&code, &[n], &trace, n);
    // The same loop at slot 0: 0: r0 += 1; 1: if r0 < r1 goto 0; 2: exit
    let code = [alu64_imm(ALU_ADD, 0, 1), jmp_reg(JMP_JLT, 0, 1, -2), exit()];
    let mut trace = Vec::new();
    for _ in 0..n {
        trace.extend([0, 1]);
    }
    trace.push(2);
    check_budget_stops(&code, &[n], &trace, n);
    // ld_imm64 counts once and is never fused.
    let mut code = ld_imm64(0, 7).to_vec();
    code.extend([mov64_reg(1, 0), alu64_imm(ALU_ADD, 1, 1), exit()]);
    check_budget_stops(&code, &[], &[0, 2, 3, 4], 7);
}

#[test]
fn the_budget_stops_between_a_move_and_the_exit_it_is_fused_with() {
    let code = [
        mov64_imm(1, 3),
        call_local(4), // to 6
        mov64_reg(7, 0),
        alu64_imm(ALU_ADD, 7, 10),
        mov64_reg(0, 7), // fused with the entry's exit
        exit(),
        mov64_reg(0, 1), // the callee: fused with its exit
        exit(),
    ];
    check_budget_stops(&code, &[], &[0, 1, 6, 7, 2, 3, 4, 5], 13);
    // And as the whole function: r0 = 5; exit.
    check_budget_stops(&[mov64_imm(0, 5), exit()], &[], &[0, 1], 5);
}

#[test]
fn the_budget_is_exact_across_many_fuel_chunks() {
    // A loop long enough to cross the interpreter's internal fuel chunks
    // (65536 instructions) many times: 1 + 2n + 1 instructions.
    let code = [
        mov64_imm(0, 0),
        alu64_imm(ALU_ADD, 0, 1),
        jmp_reg(JMP_JLT, 0, 1, -2),
        exit(),
    ];
    let n: u64 = 300_000;
    let needed = 2 * n + 2;
    let mut vm = vm_with_budget(needed);
    vm.load_code(&code).unwrap();
    assert_eq!(vm.call(0, &[n]), Ok(n));
    for budget in [needed - 1, needed - 2, 65_536, 65_537, 131_071] {
        vm.set_config(VmConfig {
            budget,
            ..VmConfig::default()
        });
        let t = vm.call(0, &[n]).unwrap_err();
        // Instruction number `budget` (0-based) of the trace 0, (1, 2)*, 3.
        let pc = if budget == needed - 1 {
            3
        } else if budget % 2 == 1 {
            1
        } else {
            2
        };
        assert_eq!((t.kind, t.pc), (TrapKind::BudgetExhausted { budget }, pc));
    }
}

#[test]
fn an_interrupt_stops_a_fused_loop() {
    let mut vm = vm_with_budget(u64::MAX);
    let handle = vm.interrupt_handle();
    // r0 += 1; if r0 != 0 goto -2: runs for 2^64 iterations.
    let at = vm
        .load_code(&[alu64_imm(ALU_ADD, 0, 1), jmp_imm(JMP_JNE, 0, 0, -2), exit()])
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let raiser = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                handle.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let result = vm.call(at, &[]);
    done.store(true, Ordering::SeqCst);
    raiser.join().unwrap();
    let t = result.unwrap_err();
    assert_eq!(t.kind, TrapKind::Interrupted);
    assert!(t.pc == at || t.pc == at + 1, "pc {}", t.pc);
}
