//! The `bpf-run` binary, run as a user would: programs written with the
//! `isa::asm` helpers into temporary files, results read from its output
//! and exit status.

use bpf_vm::isa::asm::*;
use bpf_vm::isa::*;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

fn bpf_run(args: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_bpf-run"))
        .args(args)
        .output()
        .expect("bpf-run starts");
    Outcome {
        status: out
            .status
            .code()
            .expect("bpf-run exited, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Writes `bytes` to a file in `dir` and returns its path as a string.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path.to_str().expect("utf-8 temp path").to_string()
}

fn program_file(dir: &Path, code: &[Insn]) -> String {
    write(dir, "prog.bin", &encode(code))
}

/// r0 = sum of the bytes of the buffer at r1 with length r2.
fn sum_bytes() -> Vec<Insn> {
    vec![
        mov64_imm(0, 0),           // 0: r0 = 0
        mov64_reg(3, 1),           // 1: r3 = r1
        alu64_reg(ALU_ADD, 3, 2),  // 2: r3 += r2 (end of buffer)
        jmp_reg(JMP_JGE, 1, 3, 4), // 3: if r1 >= r3 goto 8
        ldx(SIZE_B, 4, 1, 0),      // 4: r4 = *(u8 *)(r1 + 0)
        alu64_reg(ALU_ADD, 0, 4),  // 5: r0 += r4
        alu64_imm(ALU_ADD, 1, 1),  // 6: r1 += 1
        ja(-5),                    // 7: goto 3
        exit(),                    // 8
    ]
}

#[test]
fn sums_an_input_file() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program_file(dir.path(), &sum_bytes());
    let data: Vec<u8> = (1..=100).collect();
    let input = write(dir.path(), "input.bin", &data);
    let out = bpf_run(&[&prog, "--input", &input]);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    // 1 + 2 + ... + 100 = 5050 = 0x13ba
    assert_eq!(out.stdout, "r0 = 5050 (0x13ba)\n");
}

#[test]
fn sums_hex_input_and_passes_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program_file(dir.path(), &sum_bytes());
    let out = bpf_run(&[&prog, "--input-hex", "ff ff\n01"]);
    assert_eq!(out.status, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "r0 = 511 (0x1ff)\n");
    // No input: r1 = 0 and r2 = 0, so the loop body never runs.
    let out = bpf_run(&[&prog]);
    assert_eq!(out.stdout, "r0 = 0 (0x0)\n");
}

#[test]
fn prints_negative_results_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program_file(dir.path(), &[mov64_imm(0, -1), exit()]);
    let out = bpf_run(&[&prog]);
    assert_eq!(out.status, 0);
    assert_eq!(
        out.stdout,
        "r0 = 18446744073709551615 (0xffffffffffffffff, -1 as signed)\n"
    );
}

const HEX_PROGRAM: &str = "\
# r0 = 0x2a; r0 *= 2; exit
b7 00 00 00 2a 00 00 00
27000000 02000000   # grouping does not matter
95 00 00 00 00 00 00 00
";

#[test]
fn reads_hex_programs_detected_or_forced() {
    let dir = tempfile::tempdir().unwrap();
    let prog = write(dir.path(), "prog.hex", HEX_PROGRAM.as_bytes());
    for args in [vec![prog.as_str()], vec![prog.as_str(), "--hex"]] {
        let out = bpf_run(&args);
        assert_eq!(out.status, 0, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "r0 = 84 (0x54)\n");
    }
    // Forced raw, the 122 bytes of text are not whole instructions.
    let out = bpf_run(&[&prog, "--raw"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("not a whole number of 8-byte instructions"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_hex_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let prog = write(dir.path(), "prog.hex", b"b7 00 00 00 2a 00 00 00\n95 0g");
    let out = bpf_run(&[&prog, "--hex"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr
            .contains("line 2, column 5: 'g' is not a hex digit"),
        "{}",
        out.stderr
    );
    let good = program_file(dir.path(), &[mov64_imm(0, 1), exit()]);
    let out = bpf_run(&[&good, "--input-hex", "abc"]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("odd number of hex digits"),
        "{}",
        out.stderr
    );
}

#[test]
fn memory_fault_is_a_trap_with_the_instruction() {
    let dir = tempfile::tempdir().unwrap();
    let code = [ldx(SIZE_DW, 0, 1, 8), exit()];
    let prog = program_file(dir.path(), &code);
    // Four bytes of input: reading 8 bytes at offset 8 is past the data region.
    let out = bpf_run(&[&prog, "--input-hex", "01020304"]);
    assert_eq!(out.status, 1, "stdout: {}", out.stdout);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("trap: invalid memory access: read of 8 bytes at 0x300000008"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("at instruction 0: r0 = *(u64 *)(r1 + 0x8)"),
        "{}",
        out.stderr
    );
}

#[test]
fn trap_inside_a_call_shows_the_call_site() {
    let dir = tempfile::tempdir().unwrap();
    let code = [
        call_local(1),       // 0: call 2
        exit(),              // 1
        st(SIZE_W, 1, 0, 7), // 2: *(u32 *)(r1 + 0) = 7, r1 = NULL
        exit(),              // 3
    ];
    let prog = program_file(dir.path(), &code);
    let out = bpf_run(&[&prog]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("write of 4 bytes at 0x0"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("at instruction 2: *(u32 *)(r1 + 0x0) = 0x7"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("called from instruction 0: call 0x1"),
        "{}",
        out.stderr
    );
}

#[test]
fn runaway_recursion_shows_the_repeated_call_once() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program_file(dir.path(), &[call_local(-1), exit()]);
    let out = bpf_run(&[&prog, "--max-call-depth", "10"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("call depth limit of 10 frames exceeded"),
        "{}",
        out.stderr
    );
    // The entry frame plus nine nested calls fill ten frames.
    assert!(
        out.stderr.ends_with(
            "  at instruction 0: call -0x1\n  called from instruction 0: call -0x1 (9 times)\n"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn deep_mixed_call_stacks_are_summarised() {
    let dir = tempfile::tempdir().unwrap();
    // Slot 0 calls slot 1, slot 1 calls slot 0: the call sites alternate.
    let prog = program_file(dir.path(), &[call_local(0), call_local(-2)]);
    let out = bpf_run(&[&prog, "--max-call-depth", "40"]);
    assert_eq!(out.status, 1);
    assert_eq!(
        out.stderr.matches("called from").count(),
        16,
        "{}",
        out.stderr
    );
    // 39 call sites in all, 16 of them shown.
    assert!(
        out.stderr.ends_with("  ... and 23 more calls\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn budget_stops_a_runaway_loop() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program_file(dir.path(), &[ja(-1), exit()]);
    let out = bpf_run(&[&prog, "--budget", "100"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("budget of 100 exhausted"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("at instruction 0: goto -0x1"),
        "{}",
        out.stderr
    );
}

#[test]
fn stack_size_sets_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    // *(u64 *)(r10 - 1024) = 1; r0 = 7; exit
    let code = [st(SIZE_DW, 10, -1024, 1), mov64_imm(0, 7), exit()];
    let prog = program_file(dir.path(), &code);
    let out = bpf_run(&[&prog, "--stack-size", "1024"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "r0 = 7 (0x7)\n");
    let out = bpf_run(&[&prog]);
    assert_eq!(out.status, 1, "a 512-byte frame has no r10 - 1024");
    assert!(
        out.stderr.contains("outside the live stack frames"),
        "{}",
        out.stderr
    );
}

#[test]
fn validation_error_names_index_and_instruction() {
    let dir = tempfile::tempdir().unwrap();
    let code = [mov64_imm(0, 0), mov64_imm(11, 1), exit()];
    let prog = program_file(dir.path(), &code);
    let out = bpf_run(&[&prog]);
    assert_eq!(out.status, 2);
    assert!(
        out.stderr.contains("invalid instruction #1 (opcode 0xb7)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("register r11 does not exist"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("       1:\tb7 0b 00 00 01 00 00 00\tr11 = 0x1"),
        "{}",
        out.stderr
    );

    let prog = program_file(dir.path(), &[mov64_imm(0, 0), Insn::new(0xff, 0, 0, 0, 0)]);
    let out = bpf_run(&[&prog]);
    assert_eq!(out.status, 2);
    assert!(out.stderr.contains("unknown opcode 0xff"), "{}", out.stderr);
    assert!(
        out.stderr.contains("\tff 00 00 00 00 00 00 00\t<unknown>"),
        "{}",
        out.stderr
    );
}

#[test]
fn disasm_prints_the_listing_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut code = ld_imm64(1, 0x1234_5678_9abc).to_vec();
    code.extend([jmp_imm(JMP_JSGT, 1, 5, 1), ja(-1), exit()]);
    let prog = program_file(dir.path(), &code);
    let out = bpf_run(&[&prog, "--disasm"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "       0:\t18 01 00 00 bc 9a 78 56 00 00 00 00 34 12 00 00\tr1 = 0x123456789abc ll\n\
         \x20      2:\t65 01 01 00 05 00 00 00\tif r1 s> 0x5 goto +0x1\n\
         \x20      3:\t05 00 ff ff 00 00 00 00\tgoto -0x1\n\
         \x20      4:\t95 00 00 00 00 00 00 00\texit\n"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let prog = program_file(dir.path(), &[mov64_imm(0, 1), exit()]);
    let missing = dir.path().join("missing.bin");
    let missing = missing.to_str().unwrap();
    let empty = write(dir.path(), "empty.bin", b"");
    let odd = write(dir.path(), "odd.bin", &[0x95, 0, 0, 0, 0, 0, 0, 0, 0x95]);
    let cases: [(&[&str], &str); 8] = [
        (&[missing], "cannot read program"),
        (&[&prog, "--input", missing], "cannot read input"),
        (&[&empty], "the program is empty"),
        (&[&odd], "9 bytes, not a whole number"),
        (&[&prog, "--stack-size", "100"], "not a multiple of 8"),
        (
            &[&prog, "--stack-size", "1073741824"],
            "exceeds the stack region",
        ),
        (
            &[&prog, "--input", &prog, "--input-hex", "00"],
            "cannot be used with",
        ),
        (&[], "PROGRAM"),
    ];
    for (args, message) in cases {
        let out = bpf_run(args);
        assert_eq!(out.status, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
    }
}

/// `Vm::new` clamps limits that do not fit (`VmConfig::clamped`) instead of
/// trying to allocate them; `VmConfig::check` reports them to users.
#[test]
fn vm_with_oversized_stack_does_not_panic() {
    let made = std::panic::catch_unwind(|| {
        bpf_vm::Vm::new(bpf_vm::VmConfig {
            frame_size: usize::MAX / 2,
            max_call_depth: 4,
            budget: 1,
        })
    });
    assert!(made.is_ok(), "Vm::new panicked on an oversized stack");
    let huge = bpf_vm::VmConfig {
        frame_size: usize::MAX / 2,
        max_call_depth: 4,
        budget: 1,
    };
    assert!(huge.check().is_err());
    assert!(made.unwrap().config().check().is_ok());
}

#[test]
fn every_engine_gives_the_same_results_and_traps() {
    let dir = tempfile::tempdir().unwrap();
    let sum = program_file(dir.path(), &sum_bytes());
    let fault = write(
        dir.path(),
        "fault.bin",
        &encode(&[call_local(1), exit(), ldx(SIZE_W, 0, 1, 3), exit()]),
    );
    let mut outputs = Vec::new();
    for engine in ["interp", "jit", "auto"] {
        let ok = bpf_run(&["--engine", engine, &sum, "--input-hex", "01 02 03 fa"]);
        assert_eq!((ok.status, ok.stdout.as_str()), (0, "r0 = 256 (0x100)\n"));
        let trap = bpf_run(&["--engine", engine, &fault]);
        assert_eq!(trap.status, 1, "{engine}: {}", trap.stderr);
        outputs.push(trap.stderr);
    }
    assert!(
        outputs[0].contains("read of 4 bytes at 0x3"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[0].contains("called from instruction 0"),
        "{}",
        outputs[0]
    );
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    let bad = bpf_run(&["--engine", "fast", &sum]);
    assert_eq!(bad.status, 2);
    assert!(
        bad.stderr.contains("unknown engine `fast`"),
        "{}",
        bad.stderr
    );
}

/// Devices are refused without being read, and files larger than
/// `--memory-limit` before being read.
#[test]
fn devices_and_oversized_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let prog = write(dir.path(), "p.bin", &[0x95, 0, 0, 0, 0, 0, 0, 0]);
    let out = bpf_run(&["/dev/zero"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
    let out = bpf_run(&[&prog, "--input", "/dev/zero"]);
    assert!(
        out.stderr.contains("cannot read input /dev/zero"),
        "{}",
        out.stderr
    );
    let out = bpf_run(&[&prog, "--memory-limit", "4"]);
    assert_eq!(out.status, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--memory-limit"), "{}", out.stderr);
}
