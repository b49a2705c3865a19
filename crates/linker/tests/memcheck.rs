//! Memcheck through `bpf-jitlink` on C programs (`tests/memcheck/*.c`):
//! each kind of report, on the interpreter and the JIT, with the faulting
//! instruction's source line and the block's allocation and free
//! backtraces; and, through the library, a session that goes on after a
//! report with its heap intact.
#![cfg(feature = "cc")]

use bpf_linker::{CallError, Session, SessionOptions};
use bpf_vm::{Vm, VmConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/memcheck")
}

fn clang() {
    let clang = std::env::var("BPF_REPL_CLANG").unwrap_or_else(|_| "clang-19".into());
    let ok = Command::new(&clang)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "this test needs {clang} (run scripts/setup.sh)");
}

/// Runs `file` on `engine` with extra `args`: exit status and stderr.
fn run(file: &str, engine: &str, args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .current_dir(dir())
        .args(["--engine", engine])
        .args(args)
        .arg(file)
        .output()
        .expect("run bpf-jitlink");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The report of `file` on both engines (the same text), checked to
/// contain every line of `expected` in order.
fn report(file: &str, expected: &[&str]) {
    clang();
    let (code, interp) = run(file, "interp", &[]);
    assert_eq!(code, Some(1), "{interp}");
    let mut rest = interp.as_str();
    for line in expected {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("{file}: missing {line:?} in order in:\n{interp}"));
        rest = &rest[at + line.len()..];
    }
    let (code, jit) = run(file, "jit", &[]);
    assert_eq!(code, Some(1), "{jit}");
    assert_eq!(jit, interp, "{file}: the JIT reports differently");
}

#[test]
fn heap_overflow_write_is_reported_at_the_store_with_the_allocation() {
    report(
        "heap_overflow_write.c",
        &[
            "write of 4 bytes at 0x400000010: heap buffer overflow",
            "#0 fill at ",
            "heap_overflow_write.c:7:14",
            "#1 main at ",
            "heap_overflow_write.c:11:5",
            "0x400000010 is 0 bytes past the end of the 16-byte heap block at 0x400000000",
            "allocated by:",
            "#0 make at ",
            "heap_overflow_write.c:4:53",
            "#1 main at ",
            "heap_overflow_write.c:10:16",
        ],
    );
}

#[test]
fn heap_overflow_read_inside_the_size_class_is_reported() {
    report(
        "heap_overflow_read.c",
        &[
            "read of 1 byte at 0x40000000a: heap buffer overflow",
            "#0 sum at ",
            "heap_overflow_read.c:12:14",
            "0x40000000a is 0 bytes past the end of the 10-byte heap block at 0x400000000",
            "allocated by:",
            "heap_overflow_read.c:4:15",
        ],
    );
}

#[test]
fn use_after_free_names_the_free_and_the_malloc() {
    report(
        "use_after_free.c",
        &[
            "read of 4 bytes at 0x400000020: use after free",
            "#0 main at ",
            "use_after_free.c:16:18",
            "0x400000020 is 0 bytes inside the 16-byte heap block at 0x400000020",
            "freed by:",
            "#0 release at ",
            "use_after_free.c:10:51",
            "use_after_free.c:15:5",
            "previously allocated by:",
            "#0 push at ",
            "use_after_free.c:5:15",
            "use_after_free.c:12:18",
        ],
    );
}

#[test]
fn double_free_shows_both_stacks() {
    report(
        "double_free.c",
        &[
            "free(0x400000000): double free",
            "double_free.c:7:5",
            "freed by:",
            "double_free.c:6:5",
            "previously allocated by:",
            "double_free.c:5:15",
        ],
    );
}

#[test]
fn global_overflow_into_the_neighbour_is_caught() {
    report(
        "global_overflow.c",
        &[
            "write of 4 bytes at 0x300000028: global buffer overflow",
            "#0 set at ",
            "global_overflow.c:5:65",
            "global_overflow.c:7:5",
            "0x300000028 is 0 bytes past the end of global variable 'first' (40 bytes",
            "the next global variable is 'second'",
        ],
    );
}

#[test]
fn memcheck_off_lets_the_overflow_through() {
    clang();
    for engine in ["interp", "jit"] {
        // The read lands in the block's size class and sees the canary
        // byte (a signed char): 0 + 1 + ... + 9 + (char)0xfd.
        let (code, err) = run("heap_overflow_read.c", engine, &["--memcheck", "off"]);
        let expected = 45 + bpf_runtime::HEAP_CANARY as i8 as i32;
        assert_eq!(code, Some(expected), "{err}");
        assert!(err.is_empty(), "{err}");
    }
}

#[test]
fn the_heap_stays_intact_after_a_report() {
    clang();
    let (object, _) = bpf_cc::compile(
        &dir().join("after_report.c"),
        &bpf_cc::CompileOptions::default(),
    )
    .expect("compile");
    for engine in [bpf_jit::EngineKind::Interp, bpf_jit::EngineKind::Jit] {
        let mut vm = Vm::new(VmConfig::default());
        vm.mem.enable_memcheck();
        let _ = bpf_jit::install(&mut vm, engine);
        let mut session = Session::new(vm, SessionOptions::default());
        let runtime = bpf_runtime::Runtime::new(bpf_runtime::OutputSink::buffer());
        for (name, helper) in runtime.helpers() {
            session.register_helper(name, helper);
        }
        session.add_object("after_report.o", &object).unwrap();
        assert_eq!(session.call("make", &[]).unwrap(), 1);
        let Err(CallError::Trap(trap)) = session.call("overflow", &[]) else {
            panic!("the overflow was not reported");
        };
        assert!(trap.to_string().contains("heap buffer overflow"), "{trap}");
        // Memcheck stopped the store: the red zone is intact and the block
        // can be freed (without memcheck, free would report the canary).
        assert_eq!(session.call("release", &[]).unwrap(), 0);
        let stats = runtime.heap_stats(&session.vm().mem);
        assert_eq!(stats.live_blocks, 0);
        // A use after free, then the session goes on allocating.
        assert_eq!(session.call("make", &[]).unwrap(), 1);
        let Err(CallError::Trap(trap)) = session.call("use_after", &[]) else {
            panic!("the use after free was not reported");
        };
        assert!(trap.to_string().contains("use after free"), "{trap}");
        assert_eq!(session.call("make", &[]).unwrap(), 1);
        assert_eq!(runtime.heap_stats(&session.vm().mem).live_blocks, 1);
    }
}

#[test]
fn global_overflow_in_a_thread_names_the_thread_and_the_global() {
    report(
        "thread_global_overflow.c",
        &[
            "in thread 2: invalid memory access: write of 4 bytes at 0x300000010: global buffer overflow",
            "#0 work at ",
            "thread_global_overflow.c:6:",
            "0x300000010 is 0 bytes past the end of global variable 'first' (16 bytes",
            "the next global variable is 'second'",
        ],
    );
}
