//! The host boundary and resource bounds of `bpf-repl` (issue 12): clang
//! flags pass an allowlist wherever they come from, output errors are
//! errors, a compile has a time limit, clang dies with the REPL, scratch
//! directories go away on every exit path, devices are not read.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const INSTALL_HINT: &str =
    "clang-19 not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19`";

fn repl() -> Command {
    assert!(which::which("clang-19").is_ok(), "{INSTALL_HINT}");
    Command::new(env!("CARGO_BIN_EXE_bpf-repl"))
}

fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("boundary-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file whose one declaration takes clang seconds (4M macro tokens).
fn macro_bomb(dir: &Path) -> PathBuf {
    let mut text = String::from("#define A0 1+\n");
    for i in 1..=22 {
        text.push_str(&format!("#define A{i} A{p} A{p}\n", p = i - 1));
    }
    text.push_str("int bomb = A22 1;\n");
    let path = dir.join("bomb.c");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn flags_that_reach_the_host_are_refused_from_every_source() {
    let dir = scratch("flags");
    let transcript = dir.join("t.c");
    std::fs::write(
        &transcript,
        "// bpf-repl-options: --cflags -fplugin=x.so\n1\n//> (int) 1\n",
    )
    .unwrap();
    let out = repl().arg("--check").arg(&transcript).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("loads host code"), "{}", stderr(&out));
    let out = repl()
        .args(["--cflags", "-Xclang -load -Xclang x.so", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("clang's internals"),
        "{}",
        stderr(&out)
    );
    let depfile = dir.join("dep.d");
    let script = dir.join("s.c");
    std::fs::write(
        &script,
        format!(
            "%cflags -MD -MF {}\n%cflags @/etc/shadow\n",
            depfile.display()
        ),
    )
    .unwrap();
    let out = repl().arg(&script).output().unwrap();
    assert!(
        stderr(&out).contains("write host files"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("reads flags from a host file"),
        "{}",
        stderr(&out)
    );
    assert!(!depfile.exists());
}

#[test]
fn an_output_error_is_a_failure() {
    let dir = scratch("full");
    let script = dir.join("s.c");
    std::fs::write(&script, "1 + 1\n").unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = repl().arg(&script).stdout(full).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot write to standard output"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn devices_are_not_read() {
    let out = repl().arg("/dev/zero").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_compile_past_its_time_limit_is_stopped_and_named() {
    let dir = scratch("timeout");
    let bomb = macro_bomb(&dir);
    let out = repl()
        .args(["--compile-timeout", "0.5"])
        .arg(&bomb)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("did not finish within 0.5 s"), "{err}");
    assert!(err.contains("--compile-timeout"), "{err}");
}

/// Processes whose environment says they serve the REPL `pid`.
fn clangs_of(pid: u32) -> Vec<u32> {
    let marker = format!("BPF_REPL_PARENT={pid}");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == marker.as_bytes()))
        })
        .collect()
}

fn scratch_dirs_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("bpf-repl-{pid}-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}");
}

#[test]
fn clang_dies_with_the_repl_and_scratch_dirs_are_removed() {
    let dir = scratch("death");
    let bomb = macro_bomb(&dir);
    // Killed outright: clang goes with it; the next REPL removes the scratch dir.
    let mut child = repl().arg(&bomb).stdout(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    wait_until("clang starts", || !clangs_of(pid).is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until("clang dies with the REPL", || clangs_of(pid).is_empty());
    assert!(!scratch_dirs_of(pid).is_empty(), "SIGKILL leaves the dir");
    let out = repl().arg("-").stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(scratch_dirs_of(pid).is_empty(), "the next start removes it");
    // SIGTERM: the REPL removes its own.
    let mut child = repl().arg(&bomb).stdout(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    wait_until("clang starts", || !clangs_of(pid).is_empty());
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    child.wait().unwrap();
    assert!(scratch_dirs_of(pid).is_empty());
    wait_until("clang dies with the REPL", || clangs_of(pid).is_empty());
}
