//! Replays every transcript under `tests/transcripts/` with
//! `bpf-repl --check`: each input's output must match the `//>` / `//!`
//! lines under it. Regenerate with `bpf-repl --bless tests/transcripts/*.c`
//! and review the diff.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn transcripts_match() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/transcripts exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 8,
        "transcripts missing from {}",
        dir.display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_bpf-repl"))
        .arg("--check")
        .args(&files)
        .output()
        .expect("run bpf-repl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bpf-repl --check failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", files.len())),
        "{stdout}"
    );
}
