//! Soundness of speed mode against the real interpreter: random programs
//! (stack traffic at computed offsets, spilled pointers, loops, calls,
//! global data, atomics, 32-bit arithmetic, legacy packet loads, kernel
//! helper calls and runtime helper calls, one of which keeps the pointer
//! it was given and writes through it at a later call, as `strtok` does)
//! run on `bpf_vm::Vm` with random arguments; no memory access the
//! analysis proves in bounds may trap.
//! A trap at a proven instruction is a counterexample; so is any
//! difference between runs with and without the proofs applied.

use bpf_verifier::{prove, Extent, Function, Limits, Program, SpeedEnv};
use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use bpf_vm::{RegionKind, TrapKind, Vm, VmConfig};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::collections::HashSet;

const DATA_LEN: u64 = 64;
const RODATA_LEN: u64 = 32;
/// Runtime helper (`src = 2`) 0: writes 8 bytes at r1 and remembers r1;
/// called with r1 = 0, writes at the address it remembered.
const RETAINING_HELPER: u32 = 0;
/// Kernel helper (`src = 0`) 1: returns r1 ^ r2, touches no memory.
const PURE_HELPER: u32 = 1;
/// Bytes of the packet legacy loads read.
const PACKET_LEN: i64 = 48;

/// Answers LD_ABS/LD_IND: byte `i` of the packet is `i`; loads past it
/// end the program.
struct Packet;

impl bpf_vm::Device for Packet {
    fn load(
        &mut self,
        _: &bpf_vm::Memory,
        _: u64,
        _: usize,
    ) -> Option<Result<u64, bpf_vm::HelperError>> {
        None
    }

    fn store(
        &mut self,
        _: &mut bpf_vm::Memory,
        _: u64,
        _: usize,
        _: u64,
    ) -> Option<Result<(), bpf_vm::HelperError>> {
        None
    }

    fn packet_load(
        &mut self,
        _: &bpf_vm::Memory,
        offset: i64,
        size: usize,
    ) -> Result<Option<u64>, bpf_vm::HelperError> {
        if offset < 0 || offset + size as i64 > PACKET_LEN {
            return Ok(None);
        }
        Ok(Some(
            (0..size as u64).fold(0, |v, i| v << 8 | (offset as u64 + i)),
        ))
    }
}

/// One random instruction template: (kind, a, b, off, imm).
type Raw = (u8, u8, u8, i16, i32);

/// Builds a function body of `raws` (plus a final exit) at slot `start`.
/// `callee`: slot of a function the body may call.
fn body(raws: &[Raw], start: usize, callee: Option<usize>) -> Vec<Insn> {
    let data = RegionKind::Data.base();
    let rodata = RegionKind::Rodata.base();
    // Prologue: r6 points into the frame, r7 at data, r8 at rodata; the
    // body mostly leaves them alone, so many accesses are real.
    let mut out: Vec<Insn> = vec![mov64_reg(6, 10), alu64_imm(ALU_ADD, 6, -256)];
    out.extend(ld_imm64(7, data));
    out.extend(ld_imm64(8, rodata));
    let n = raws.len();
    for (i, &(kind, a, b, off, imm)) in raws.iter().enumerate() {
        // Mostly scratch registers r0-r5; sometimes anything.
        let ra = if a % 5 == 0 { a % 10 } else { a % 6 };
        let rb = b % 11;
        let base = [6, 7, 8, 10, 10, 6, 7, 10, 6, rb][(a / 7 % 10) as usize];
        let small = (imm % 64) as i64;
        let soff = -((off.unsigned_abs() % 560) as i16) + 8;
        let moff = match base {
            7 | 8 => (off % 80).abs() - 4,
            6 => {
                if off % 4 == 0 {
                    off % 300
                } else {
                    (off % 200).abs()
                }
            }
            _ => soff,
        };
        let size = [SIZE_B, SIZE_H, SIZE_W, SIZE_DW][(b % 4) as usize];
        // Jumps go forward inside the body, or back a few slots (the budget ends loops).
        let fwd = (off.unsigned_abs() as usize % (n - i).max(1)) as i16;
        match kind % 28 {
            0 => out.push(mov64_imm(ra, small as i32)),
            1 => out.push(mov64_reg(ra, rb)),
            2 => out.push(alu64_imm(
                [
                    ALU_ADD, ALU_SUB, ALU_AND, ALU_OR, ALU_LSH, ALU_RSH, ALU_MUL, ALU_XOR,
                ][(b % 8) as usize],
                ra,
                imm % 600,
            )),
            3 => out.push(alu64_reg(
                [
                    ALU_ADD, ALU_SUB, ALU_AND, ALU_MUL, ALU_DIV, ALU_MOD, ALU_ARSH, ALU_RSH,
                ][(imm as u32 % 8) as usize],
                ra,
                rb,
            )),
            4 => out.push(alu32_imm(
                [ALU_ADD, ALU_SUB, ALU_AND, ALU_MOV, ALU_LSH, ALU_ARSH][(b % 6) as usize],
                ra,
                imm % 300,
            )),
            5 => out.push(alu32_reg(
                [ALU_ADD, ALU_SUB, ALU_MOV, ALU_AND][(b % 4) as usize],
                ra,
                rb,
            )),
            6 => {
                out.push(mov64_reg(ra, 10));
                out.push(alu64_imm(ALU_ADD, ra, soff as i32));
            }
            7 | 8 => out.push(ldx(size, ra, base, moff)),
            9 | 10 => out.push(stx(size, base, ra, moff)),
            11 => out.push(st(size, base, moff, imm)),
            12 => out.push(stx(SIZE_DW, 10, ra, -8 * (1 + (b as i16 % 8)))),
            13 => out.push(ldx(SIZE_DW, ra, 10, -8 * (1 + (b as i16 % 8)))),
            14 => out.extend(ld_imm64(
                ra,
                if b % 2 == 0 { data } else { rodata } + (imm as u64 % 80),
            )),
            15 | 16 => {
                let ops = [
                    JMP_JEQ, JMP_JNE, JMP_JGT, JMP_JGE, JMP_JLT, JMP_JLE, JMP_JSGT, JMP_JSLT,
                    JMP_JSET,
                ];
                let op = ops[(b as usize) % ops.len()];
                if kind % 2 == 0 {
                    out.push(jmp_imm(op, ra, small as i32 * 8, fwd));
                } else {
                    out.push(jmp_reg(op, ra, rb, fwd));
                }
            }
            17 => out.push(Insn::new(
                CLASS_JMP32 | JMP_JLT | SRC_K,
                ra,
                0,
                fwd,
                imm % 512,
            )),
            18 => out.push(jmp_imm(
                JMP_JGT,
                ra,
                (imm % 100).abs(),
                -((off.unsigned_abs() % 4) as i16) - 1,
            )),
            19 => out.push(Insn::new(
                CLASS_STX | MODE_ATOMIC | SIZE_DW,
                base,
                ra,
                moff & !7,
                [
                    ATOMIC_ADD,
                    ATOMIC_ADD | ATOMIC_FETCH,
                    ATOMIC_XCHG,
                    ATOMIC_CMPXCHG,
                ][(b % 4) as usize],
            )),
            20 => match callee {
                Some(c) => out.push(call_local(
                    (c as i64 - (start + out.len()) as i64 - 1) as i32,
                )),
                None => out.push(mov64_imm(ra, imm)),
            },
            21 => out.push(alu64_reg(ALU_ADD, ra, rb)),
            22 => {
                // A bounded index: r &= 63 (or 511), then address a stack buffer with it.
                let p = [1, 2, 3, 4, 5, 9][(b % 6) as usize];
                out.push(alu64_imm(ALU_AND, ra, if b % 2 == 0 { 63 } else { 511 }));
                out.push(mov64_reg(p, 10));
                out.push(alu64_imm(ALU_ADD, p, -512));
                out.push(alu64_reg(ALU_ADD, p, ra));
                out.push(ldx(size, ra, p, off % 8));
            }
            23 => out.push(Insn::new(
                CLASS_ALU64 | ALU_MOV | SRC_X,
                ra,
                rb,
                [0, 8, 16, 32][(b % 4) as usize],
                0,
            )),
            24 | 25 => {
                // LD_ABS / LD_IND: r0 = packet bytes (the device below).
                let size = [SIZE_B, SIZE_H, SIZE_W][(b % 3) as usize];
                let (mode, src) = if kind % 2 == 0 {
                    (MODE_ABS, 0)
                } else {
                    (MODE_IND, rb % 10)
                };
                out.push(Insn::new(CLASS_LD | mode | size, 0, src, 0, imm % 56));
            }
            26 => {
                // The retaining runtime helper: given a stack slot, or 0
                // (write through the slot it was given before).
                if b % 2 == 0 {
                    out.push(mov64_reg(1, 10));
                    out.push(alu64_imm(ALU_ADD, 1, -8 * (1 + (b as i32 / 2 % 8))));
                } else {
                    // No argument may be a stack address: only what the
                    // helper kept can reach the stack.
                    for r in 1..=5 {
                        out.push(mov64_imm(r, 0));
                    }
                }
                out.push(call_runtime(RETAINING_HELPER as i32));
            }
            _ => out.push(call_helper(PURE_HELPER as i32)),
        }
    }
    out.push(mov64_imm(0, 0));
    out.push(exit());
    // Jump offsets were chosen in template units: clamp every jump into the body.
    let len = out.len() as i64;
    for (i, insn) in out.iter_mut().enumerate() {
        let class = insn.class();
        if (class == CLASS_JMP || class == CLASS_JMP32)
            && insn.op & 0xf0 != JMP_CALL
            && insn.op & 0xf0 != JMP_EXIT
        {
            let t = i as i64 + 1 + insn.off as i64;
            if t < 0 || t >= len {
                insn.off = (len - 1 - (i as i64 + 1)) as i16;
            }
        }
    }
    // Do not jump into the middle of an ld_imm64.
    let second: HashSet<usize> = out
        .iter()
        .enumerate()
        .filter(|(_, x)| x.is_ld_imm64())
        .map(|(i, _)| i + 1)
        .collect();
    for (i, insn) in out.iter_mut().enumerate() {
        let class = insn.class();
        if (class == CLASS_JMP || class == CLASS_JMP32)
            && insn.op & 0xf0 != JMP_CALL
            && insn.op & 0xf0 != JMP_EXIT
        {
            let t = (i as i64 + 1 + insn.off as i64) as usize;
            if second.contains(&t) {
                insn.off -= 1;
            }
        }
    }
    out
}

/// A program: `main` (external), then `helper` (called only from main, or external).
fn program(main: &[Raw], helper: &[Raw], helper_external: bool) -> (Vec<Insn>, Vec<Function>) {
    // Lay out main first with a placeholder callee slot, then fix it up.
    let first = body(main, 0, Some(usize::MAX / 2));
    let callee_start = first.len();
    let main_code = body(main, 0, Some(callee_start));
    assert_eq!(main_code.len(), callee_start);
    let helper_code = body(helper, callee_start, None);
    let mut code = main_code;
    code.extend(&helper_code);
    let functions = vec![
        Function {
            name: "main".into(),
            start: 0,
            end: callee_start,
            external: true,
        },
        Function {
            name: "helper".into(),
            start: callee_start,
            end: code.len(),
            external: helper_external,
        },
    ];
    (code, functions)
}

fn vm_with_data() -> Vm {
    let mut vm = Vm::new(VmConfig {
        frame_size: 512,
        max_call_depth: 8,
        budget: 20_000,
    });
    vm.mem
        .alloc(RegionKind::Data, DATA_LEN as usize, 8)
        .unwrap();
    let r = vm
        .mem
        .alloc(RegionKind::Rodata, RODATA_LEN as usize, 8)
        .unwrap();
    vm.mem.write_initial(r, &[7; RODATA_LEN as usize]).unwrap();
    let kept = std::rc::Rc::new(std::cell::Cell::new(0u64));
    vm.register_runtime_helper(
        RETAINING_HELPER,
        "retain",
        Box::new(move |mem, args| {
            if args[0] != 0 {
                kept.set(args[0]);
            }
            // Whatever it points to now gets a recognisable non-pointer.
            let _ = mem.write_bytes(kept.get(), &[0x41; 8]);
            Ok(0)
        }),
    );
    vm.register_helper(PURE_HELPER, "pure", Box::new(|_, a| Ok(a[0] ^ a[1])));
    vm.set_device(Some(Box::new(Packet)));
    vm
}

fn env() -> SpeedEnv {
    SpeedEnv {
        frame_size: 512,
        max_call_depth: 8,
        extents: vec![
            Extent {
                region: RegionKind::Data,
                start: RegionKind::Data.base(),
                end: RegionKind::Data.base() + DATA_LEN,
                writable: true,
            },
            Extent {
                region: RegionKind::Rodata,
                start: RegionKind::Rodata.base(),
                end: RegionKind::Rodata.base() + RODATA_LEN,
                writable: false,
            },
        ],
    }
}

fn raw() -> impl Strategy<Value = Raw> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<i16>(),
        any::<i32>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn nothing_proven_in_bounds_ever_traps(
        main in prop::collection::vec(raw(), 1..40),
        helper in prop::collection::vec(raw(), 1..12),
        helper_external in any::<bool>(),
        args in prop::collection::vec(any::<u64>(), 5),
    ) {
        let (code, functions) = program(&main, &helper, helper_external);
        if bpf_vm::validate(&code, true).is_err() {
            return Ok(());
        }
        let p = Program { code: &code, base: 0, functions };
        let proofs = prove(&p, &env(), Limits::default());
        let proven: HashSet<usize> = proofs.proven.iter().map(|a| a.slot).collect();
        let applied: Vec<(usize, RegionKind)> = proofs.proven.iter().map(|a| (a.slot, a.region)).collect();
        // Small and stack-like arguments as well as random ones.
        let args: Vec<u64> = args.iter().enumerate().map(|(i, a)| match i % 3 { 0 => a % 700, 1 => RegionKind::Stack.base() + a % 4096, _ => *a }).collect();
        for entry in [0, p.functions[1].start] {
            if entry != 0 && !p.functions[1].external {
                continue;
            }
            // Fresh machines per run: what a helper kept from an earlier
            // run would point into frames that are gone.
            let mut vm = vm_with_data();
            vm.load_code(&code).unwrap();
            // The same code with the proofs applied must behave identically.
            let mut fast = vm_with_data();
            fast.load_code(&code).unwrap();
            fast.set_access_proofs(0..code.len(), &applied);
            let result = vm.call(entry, &args);
            prop_assert_eq!(&result, &fast.call(entry, &args), "proofs changed the result");
            prop_assert_eq!(
                vm.mem.read_bytes(RegionKind::Data.base(), DATA_LEN as usize).unwrap(),
                fast.mem.read_bytes(RegionKind::Data.base(), DATA_LEN as usize).unwrap()
            );
            if let Err(trap) = result {
                if let TrapKind::Memory(e) = &trap.kind {
                    prop_assert!(!proven.contains(&trap.pc),
                        "slot {} was proven in bounds but trapped: {e}\n{}", trap.pc,
                        bpf_vm::disasm::disasm_listing(&code, 0, &bpf_vm::disasm::NoSymbols));
                }
            }
        }
    }
}

/// A runtime helper may keep a pointer into the stack and write through it
/// at a later call that passes no pointer at all (as `strtok` does): a
/// pointer spilled there in between is gone.
#[test]
fn a_helper_may_write_where_an_earlier_call_pointed_it() {
    let mut code = vec![
        mov64_reg(1, 10),
        alu64_imm(ALU_ADD, 1, -16),
        call_runtime(RETAINING_HELPER as i32),
    ];
    code.extend(ld_imm64(2, RegionKind::Data.base()));
    code.push(stx(SIZE_DW, 10, 2, -16));
    for r in 1..=5 {
        code.push(mov64_imm(r, 0));
    }
    code.extend([
        call_runtime(RETAINING_HELPER as i32),
        ldx(SIZE_DW, 3, 10, -16),
        ldx(SIZE_DW, 0, 3, 0),
        exit(),
    ]);
    let load = code.len() - 2;
    let p = Program {
        code: &code,
        base: 0,
        functions: vec![Function {
            name: "main".into(),
            start: 0,
            end: code.len(),
            external: true,
        }],
    };
    let proofs = prove(&p, &env(), Limits::default());
    assert!(proofs.complete);
    assert!(
        !proofs.proven.iter().any(|a| a.slot == load),
        "the load through the overwritten slot was proven"
    );
    let mut vm = vm_with_data();
    vm.load_code(&code).unwrap();
    let trap = vm.call(0, &[]).unwrap_err();
    assert!(matches!(trap.kind, TrapKind::Memory(_)), "{trap:?}");
    assert_eq!(trap.pc, load);
}

/// The generator does produce proofs and traps (the property is not vacuous).
#[test]
fn the_generator_exercises_both_sides() {
    let mut proven_total = 0;
    let mut traps = 0;
    let mut valid = 0;
    let mut executed_proven = 0;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strat = (
        prop::collection::vec(raw(), 1..40),
        prop::collection::vec(raw(), 1..12),
    );
    for _ in 0..300 {
        let (main, helper) = strat.new_tree(&mut runner).unwrap().current();
        let (code, functions) = program(&main, &helper, false);
        if bpf_vm::validate(&code, true).is_err() {
            continue;
        }
        valid += 1;
        let p = Program {
            code: &code,
            base: 0,
            functions,
        };
        proven_total += prove(&p, &env(), Limits::default()).proven.len();
        let proofs = prove(&p, &env(), Limits::default());
        let proven: HashSet<usize> = proofs.proven.iter().map(|a| a.slot).collect();
        let mut vm = vm_with_data();
        vm.load_code(&code).unwrap();
        if matches!(vm.call(0, &[1, 2, 3, 4, 5]), Err(t) if matches!(t.kind, TrapKind::Memory(_))) {
            traps += 1;
        }
        // Which proven accesses ran: step through with growing budgets.
        for k in 0..200u64 {
            vm.set_config(VmConfig {
                frame_size: 512,
                max_call_depth: 8,
                budget: k,
            });
            match vm.call(0, &[1, 2, 3, 4, 5]) {
                Err(t) if t.kind == (TrapKind::BudgetExhausted { budget: k }) => {
                    if proven.contains(&t.pc) {
                        executed_proven += 1;
                    }
                }
                _ => break,
            }
        }
    }
    println!("{valid} valid programs, {proven_total} accesses proven, {executed_proven} proven accesses executed, {traps} memory traps");
    assert!(
        // About 580 with the retaining-helper templates (which make every
        // later call expose the stack); far fewer means the generator broke.
        executed_proven > 400,
        "only {executed_proven} proven accesses executed"
    );
    assert!(
        valid > 250,
        "only {valid} of 300 generated programs are valid"
    );
    assert!(proven_total > 300, "only {proven_total} accesses proven");
    assert!(traps > 30, "only {traps} memory traps");
}
