//! The hosted C library (issue 14): programs in `tests/c/libc/` compiled by
//! bpf-cc, linked and run on the VM with the C runtime, against the same
//! programs built by the host's gcc -O2 and run on glibc: same standard
//! output, same exit status. Input comes from the same bytes on both
//! sides; file programs get a fresh directory each (their working
//! directory natively, the granted directory `--fs DIR` on the VM). Every
//! program runs on each engine: the interpreter, the JIT, and `auto` with a
//! threshold low enough that the JIT takes over running calls.

mod common;

use bpf_cc::{compile, CompileOptions};
use bpf_jit::{EngineKind, Jit};
use bpf_linker::{CallError, Session, SessionOptions};
use bpf_runtime::{InputSource, OutputSink, Runtime, TimeSource};
use bpf_vm::{Vm, VmConfig};
use common::{c_dir, require_clang, Outcome};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// How a program runs: standard input, and whether it gets a directory.
#[derive(Default, Clone)]
struct Setup {
    stdin: Option<&'static [u8]>,
    files: bool,
}

/// A VM running on `engine`; `auto` compiles an entry after 300
/// interpreted instructions, so the JIT takes over calls mid-run.
fn vm_on(engine: EngineKind) -> Vm {
    let mut vm = Vm::new(VmConfig::default());
    if engine != EngineKind::Interp {
        let mut jit = Jit::new(engine).expect("this host has a JIT");
        jit.threshold = 300;
        jit.per_instruction = 0;
        vm.set_engine(Some(Box::new(jit)));
    }
    vm
}

/// Compiles and runs `source` on the VM as `bpf-jitlink` does: `main`,
/// then the `atexit` functions if it returned; once per engine. The
/// engines must agree; the result is the interpreter's.
fn run_vm(source: &Path, setup: &Setup, dir: &Path) -> Outcome {
    let (object, _) = compile(source, &CompileOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let mut outcomes = EngineKind::ALL.into_iter().map(|engine| {
        let run_dir = dir.join(engine.name());
        std::fs::create_dir(&run_dir).unwrap();
        let outcome = run_object(source, &object, setup, &run_dir, engine);
        (engine, outcome, run_dir)
    });
    let (_, first, first_dir) = outcomes.next().expect("three engines");
    for (engine, outcome, run_dir) in outcomes {
        let name = source.display();
        assert_eq!(outcome, first, "{name}: {engine} (left) vs interp (right)");
        if setup.files {
            let files = listing(&run_dir);
            assert_eq!(files, listing(&first_dir), "{name}: files left by {engine}");
        }
        std::fs::remove_dir_all(run_dir).unwrap();
    }
    // What the interpreter left behind is the VM's result.
    for entry in std::fs::read_dir(&first_dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::rename(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::remove_dir(first_dir).unwrap();
    first
}

fn run_object(
    source: &Path,
    object: &[u8],
    setup: &Setup,
    dir: &Path,
    engine: EngineKind,
) -> Outcome {
    let out = OutputSink::buffer();
    let runtime = Runtime::new(out.clone()).with_stderr(OutputSink::buffer());
    if let Some(bytes) = setup.stdin {
        runtime.set_stdin(InputSource::bytes(bytes));
    }
    if setup.files {
        runtime.grant_fs(dir).unwrap();
    }
    let mut session = Session::new(vm_on(engine), SessionOptions::default());
    for (name, helper) in runtime.helpers() {
        session.register_helper(name, helper);
    }
    session
        .add_objects(&[(&source.display().to_string(), object)])
        .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let mut result = session.call("main", &[]);
    if let Ok(status) = result {
        // What C's startup code does after main returns.
        let functions = runtime.atexit_functions();
        runtime.clear_atexit();
        for f in functions {
            let slot = session.vm().code_index(f).expect("atexit function");
            if let Err(trap) = session.vm_mut().call(slot, &[]) {
                result = Err(CallError::Trap(trap));
                break;
            }
        }
        if result.is_ok() {
            result = Ok(status);
        }
    }
    let end = match result {
        Ok(v) => Ok(v as i32),
        Err(CallError::Trap(trap)) => match trap.exit_code() {
            Some(c) => Ok(c),
            None => Err(trap.kind.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    Outcome {
        stdout: String::from_utf8_lossy(&out.take()).into_owned(),
        end,
    }
}

/// Builds `source` with gcc -O2 and runs it in `dir` with `stdin`.
fn run_gcc(source: &Path, setup: &Setup, dir: &Path) -> Outcome {
    let exe = dir.join("native-program");
    let gcc = Command::new("gcc")
        .args(["-O2", "-w", "-o"])
        .arg(&exe)
        .arg(source)
        .arg("-lm")
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}): install gcc"));
    assert!(
        gcc.status.success(),
        "{}",
        String::from_utf8_lossy(&gcc.stderr)
    );
    let mut child = Command::new(&exe)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the native program runs");
    let input = setup.stdin.unwrap_or(b"");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let run = child.wait_with_output().unwrap();
    std::fs::remove_file(&exe).unwrap();
    Outcome {
        stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
        end: run
            .status
            .code()
            .ok_or_else(|| format!("killed: {:?}", run.status)),
    }
}

/// Lists a directory's files with their contents, for comparing what the
/// two runs left behind.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = if e.path().is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                b"<dir>".to_vec()
            };
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

fn same_as_glibc_with(name: &str, setup: Setup) -> Outcome {
    require_clang();
    let path = c_dir().join("libc").join(name);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ours = run_vm(&path, &setup, a.path());
    let native = run_gcc(&path, &setup, b.path());
    assert_eq!(
        ours, native,
        "{name}: bpf-cc + VM (left) vs gcc + glibc (right)"
    );
    assert!(!native.stdout.is_empty(), "{name} printed nothing");
    if setup.files {
        assert_eq!(
            listing(a.path()),
            listing(b.path()),
            "{name}: files left behind"
        );
    }
    ours
}

fn same_as_glibc(name: &str) -> Outcome {
    same_as_glibc_with(name, Setup::default())
}

#[test]
fn qsort_and_bsearch_compare_like_glibc() {
    same_as_glibc("sort.c");
}

#[test]
fn string_scanning_and_tokens() {
    same_as_glibc("strings.c");
}

#[test]
fn number_parsing_and_errno() {
    same_as_glibc("strto.c");
}

#[test]
fn sscanf_conversions() {
    same_as_glibc("sscanf.c");
}

#[test]
fn reading_standard_input() {
    let input = b"42 17\nhello world\n3.25 x\nline without end";
    same_as_glibc_with(
        "stdin.c",
        Setup {
            stdin: Some(input),
            files: false,
        },
    );
}

#[test]
fn files_in_the_granted_directory() {
    same_as_glibc_with(
        "files.c",
        Setup {
            stdin: None,
            files: true,
        },
    );
}

#[test]
fn calendar_time_and_strftime() {
    same_as_glibc("time.c");
}

#[test]
fn setjmp_and_longjmp_across_frames() {
    same_as_glibc("setjmp.c");
}

#[test]
fn exit_runs_atexit_functions() {
    let end = same_as_glibc("atexit.c").end;
    assert_eq!(end, Ok(3));
}

#[test]
fn returning_from_main_runs_atexit_functions() {
    same_as_glibc("atexit_return.c");
}

#[test]
fn signal_handlers_run_on_raise() {
    same_as_glibc("signal.c");
}

#[test]
fn math_errors_set_errno() {
    same_as_glibc("math_errno.c");
}

#[test]
fn wide_character_basics() {
    same_as_glibc("wchar.c");
}

#[test]
fn deterministic_time_is_the_same_every_run() {
    require_clang();
    let path = c_dir().join("libc").join("clock.c");
    let (object, _) = compile(&path, &CompileOptions::default()).unwrap();
    let run = || {
        let out = OutputSink::buffer();
        let runtime = Runtime::new(out.clone());
        runtime.set_time_source(TimeSource::DETERMINISTIC);
        let mut session = Session::new(Vm::new(VmConfig::default()), SessionOptions::default());
        for (name, helper) in runtime.helpers() {
            session.register_helper(name, helper);
        }
        session.add_objects(&[("clock.c", &object)]).unwrap();
        session.call("main", &[]).unwrap();
        String::from_utf8(out.take()).unwrap()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains("2024-01-01 00:00:00 GMT"), "{first}");
    assert!(first.contains("slept 2.000"), "{first}");
}

#[test]
fn read_and_write_on_standard_descriptors() {
    same_as_glibc_with(
        "read.c",
        Setup {
            stdin: Some(b"raw bytes\n"),
            files: false,
        },
    );
}

#[test]
fn abort_runs_the_sigabrt_handler_then_ends_the_run() {
    require_clang();
    let dir = tempfile::tempdir().unwrap();
    let path = c_dir().join("libc").join("abort.c");
    let ours = run_vm(&path, &Setup::default(), dir.path());
    assert_eq!(ours.stdout, "before abort\nhandler for 6\n");
    assert_eq!(ours.end, Err("abort() called".to_string()));
    // Natively the same output, then death by SIGABRT.
    let native = run_gcc(&path, &Setup::default(), dir.path());
    assert_eq!(native.stdout, ours.stdout);
    assert!(native.end.is_err(), "{:?}", native.end);
}

#[test]
fn a_signal_without_a_handler_ends_the_run_naming_it() {
    require_clang();
    let dir = tempfile::tempdir().unwrap();
    let path = c_dir().join("libc").join("raise_term.c");
    let ours = run_vm(&path, &Setup::default(), dir.path());
    assert_eq!(ours.stdout, "raising\n");
    let end = ours.end.unwrap_err();
    assert!(end.contains("signal 15 (SIGTERM: Terminated)"), "{end}");
}

#[test]
fn temporary_names_and_freopen() {
    same_as_glibc("tmpnam.c");
}

#[test]
fn longjmp_to_a_returned_function_stops_the_run_on_every_engine() {
    require_clang();
    let path = c_dir().join("libc").join("setjmp_dead.c");
    let (object, _) = compile(&path, &CompileOptions::default()).unwrap();
    for engine in EngineKind::ALL {
        let dir = tempfile::tempdir().unwrap();
        let ours = run_object(&path, &object, &Setup::default(), dir.path(), engine);
        assert_eq!(ours.stdout, "back with 7\narm returned\n", "{engine}");
        let end = ours.end.unwrap_err();
        assert!(
            end.contains("longjmp")
                && end.contains("the function that called setjmp with this jmp_buf has returned"),
            "{engine}: {end}"
        );
    }
}
