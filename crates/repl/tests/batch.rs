//! Replaying a file batches inputs into few clang runs; the result must be
//! exactly what evaluating the inputs one at a time gives, errors and
//! rollbacks included.

use bpf_repl::engine::{Origin, Repl, ReplOptions};
use bpf_repl::printed::Printed;
use bpf_repl::{replay, transcript};
use std::path::PathBuf;

fn one_by_one(file: &str, name: &str) -> Vec<Printed> {
    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let chunks = transcript::collect_inputs(&repl, file);
    chunks
        .iter()
        .map(|c| {
            if c.text.is_empty() {
                return Printed::default();
            }
            let origin = Origin {
                name: name.to_string(),
                first_line: c.first_line,
            };
            repl.push_stdin(&c.stdin()); // a transcript's `//<` lines
            let mut p = replay::run_input(&mut repl, &c.text, origin);
            p.stderr.push_str(c.note.as_deref().unwrap_or(""));
            p
        })
        .collect()
}

fn batched(file: &str, name: &str) -> Vec<Printed> {
    batched_with_units(file, name).0
}

/// Also returns how many link units covered several inputs.
fn batched_with_units(file: &str, name: &str) -> (Vec<Printed>, usize) {
    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let chunks = transcript::collect_inputs(&repl, file);
    let mut out = vec![Printed::default(); chunks.len()];
    replay::replay_chunks(&mut repl, &chunks, name, |i, p| out[i] = p);
    let batches = repl
        .session()
        .objects()
        .iter()
        .filter(|o| o.name.contains('-'))
        .count();
    (out, batches)
}

#[test]
fn batched_replay_equals_one_input_at_a_time() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/transcripts");
    let mut checked = 0;
    let mut multi = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "c") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains(transcript::OPTIONS_MARK) {
            continue; // needs options the default REPL does not have
        }
        if text.contains("%graph") {
            continue; // shows link units, which batching makes larger
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (got, batches) = batched_with_units(&text, &name);
        assert_eq!(got, one_by_one(&text, &name), "{name}");
        checked += 1;
        multi += batches;
    }
    assert!(checked >= 5);
    assert!(
        multi >= 5,
        "batching never combined inputs ({multi} batches)"
    );
}

#[test]
fn a_failure_inside_a_batch_rolls_back_only_that_input() {
    let file = "int a = 1;\nint b = 2;\nint *p = 0;\n*p\na + b\nint c = a + 40;\nc\n";
    let got = batched(file, "t.c");
    let stdout: Vec<&str> = got.iter().map(|p| p.stdout.as_str()).collect();
    assert_eq!(stdout, ["", "", "", "", "(int) 3\n", "", "(int) 41\n"]);
    assert!(got[3].failed);
    assert!(
        got[3].stderr.contains("NULL or misaligned pointer used"),
        "{}",
        got[3].stderr
    );
    assert_eq!(got, one_by_one(file, "t.c"));
}

#[test]
fn an_inspection_inside_a_batch_is_not_counted_by_undo() {
    // `x` runs in the batch's unit, whose result variables existed before
    // it started: writing its own result must not make it count.
    let text = "int x = 1;\nx\nint y = 2;\n%undo 2\nx\n";
    let got = batched(text, "undo.c");
    assert_eq!(got, one_by_one(text, "undo.c"));
    assert!(
        got[3].stdout.contains("undid undo.c:1: int x = 1;"),
        "{got:?}"
    );
    assert!(
        got[4].stderr.contains("undeclared identifier 'x'"),
        "{got:?}"
    );
}
