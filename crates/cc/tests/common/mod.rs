//! Running C programs two ways: through bpf-cc, bpf-linker and the VM, and
//! natively with the host's gcc, to compare what they print and return.

#![allow(dead_code)]

pub mod host_fp;

use bpf_cc::{compile, CompileOptions};
use bpf_linker::{Session, SessionOptions};
use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{Vm, VmConfig};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a program did: its standard output and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    /// The exit status, or the fault that stopped it (with its backtrace).
    pub end: Result<i32, String>,
}

pub fn c_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c")
}

/// Compiles `source` with bpf-cc and runs its `main` on the VM.
pub fn run_bpf(source: &Path, options: &CompileOptions) -> Result<Outcome, String> {
    let (object, _warnings) = compile(source, options).map_err(|e| e.to_string())?;
    run_objects(&[(source.display().to_string(), object)])
}

/// Links objects into a fresh session with the C runtime and runs `main`.
pub fn run_objects(objects: &[(String, Vec<u8>)]) -> Result<Outcome, String> {
    let out = OutputSink::buffer();
    let runtime = Runtime::new(out.clone());
    let mut session = Session::new(Vm::new(VmConfig::default()), SessionOptions::default());
    for (name, helper) in runtime.helpers() {
        session.register_helper(name, helper);
    }
    // The floating-point helpers belong to the runtime; where it does not
    // have them yet, a stand-in doing the same host arithmetic.
    for (name, helper) in host_fp::helpers() {
        if runtime.helper(name).is_none() {
            session.register_helper(name, helper);
        }
    }
    let inputs: Vec<(&str, &[u8])> = objects
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    session.add_objects(&inputs).map_err(|e| e.to_string())?;
    let result = session.call("main", &[]);
    let _ = runtime.stdout().flush();
    let stdout = String::from_utf8_lossy(&out.take()).into_owned();
    let end = match result {
        Ok(v) => Ok(v as i32),
        Err(bpf_linker::CallError::Trap(trap)) => match trap.exit_code() {
            Some(c) => Ok(c),
            None => {
                let frames = session.backtrace(&trap);
                Err(format!(
                    "{}{}",
                    trap.kind,
                    bpf_linker::format_backtrace(&frames, |f| f.describe_as(&f.function))
                ))
            }
        },
        Err(e) => Err(e.to_string()),
    };
    Ok(Outcome { stdout, end })
}

/// Compiles `source` with the host's gcc -O2 and runs it.
pub fn run_native(source: &Path) -> Outcome {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exe = dir.path().join("prog");
    let gcc = Command::new("gcc")
        .args(["-O2", "-w", "-o"])
        .arg(&exe)
        .arg(source)
        .arg("-lm")
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e}): install gcc (build-essential)"));
    assert!(
        gcc.status.success(),
        "gcc failed on {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&gcc.stderr)
    );
    let run = Command::new(&exe)
        .output()
        .expect("the native program runs");
    Outcome {
        stdout: String::from_utf8_lossy(&run.stdout).into_owned(),
        end: run
            .status
            .code()
            .ok_or_else(|| format!("killed: {:?}", run.status)),
    }
}

/// Fails with the install hint when clang-19 is missing.
pub fn require_clang() {
    let clang = bpf_cc::clang::clang_path();
    let ok = Command::new(&clang)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "these tests need {} (run scripts/setup.sh, or set BPF_REPL_CLANG)",
        clang.display()
    );
}
