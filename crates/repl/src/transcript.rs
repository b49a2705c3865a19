//! Transcripts: a C file of REPL inputs whose expected output is written
//! under each input in comments, so an editor shows it as C and the REPL
//! can check it.
//!
//! ```c
//! int x = 41;
//! x + 1
//! //> (int) 42
//! printf("hi\n");
//! //> hi
//! y
//! //! input.c:6:1: error: use of undeclared identifier 'y'
//! ```
//!
//! `//> ` lines are what the input printed on stdout (program output,
//! then the value), `//! ` lines what it printed on stderr. Replaying a
//! transcript drops the old expectation lines, keeps every other line as
//! it is, and writes the actual output under each input: checking compares
//! that with the file, blessing writes it back.

use crate::engine::{EvalError, Evaluation, Origin, Repl};
#[cfg(test)]
use crate::input::NoNames;
use crate::input::{completeness, Completeness, Names};

/// Prefix of a line of options for replaying the transcript
/// (`// bpf-repl-options: --budget 1000000`).
pub const OPTIONS_MARK: &str = "// bpf-repl-options:";
/// Prefix of an expected stdout line.
pub const STDOUT_MARK: &str = "//>";
/// Prefix of an expected stderr line.
pub const STDERR_MARK: &str = "//!";

/// One complete input cut out of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The input's text (its lines joined with `\n`).
    pub text: String,
    /// 1-based line of its first line in the file.
    pub first_line: u32,
    /// Lines of the file it covers (to copy into a replayed transcript),
    /// comments and blank lines before it included.
    pub lines: Vec<String>,
}

/// True for a transcript expectation line.
pub fn is_expectation(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with(STDOUT_MARK) || t.starts_with(STDERR_MARK)
}

/// Cuts a file into complete inputs, line by line, so that the names the
/// session learns from one input can decide where the next one ends.
/// Expectation lines are dropped; blank and comment-only lines between
/// inputs stay with the next input's `lines`.
#[derive(Debug, Default)]
pub struct Splitter {
    lines: Vec<String>,
    text: String,
    first_line: u32,
}

impl Splitter {
    /// Adds line `number` (1-based); returns an input when it is complete.
    pub fn push(&mut self, number: u32, line: &str, names: &dyn Names) -> Option<Chunk> {
        if is_expectation(line) {
            return None;
        }
        self.lines.push(line.to_string());
        if self.text.is_empty() && is_blank_or_comment(line) {
            return None;
        }
        if self.text.is_empty() {
            self.first_line = number;
            if crate::meta::is_meta(line) {
                // A meta command is one line; `%` would read as an operator.
                self.text.push_str(line);
                return Some(self.take());
            }
        } else {
            self.text.push('\n');
        }
        self.text.push_str(line);
        match completeness(&self.text, names) {
            Completeness::Complete => Some(self.take()),
            Completeness::Incomplete(_) => None,
        }
    }

    /// What is left at the end of the file (an unfinished input, or
    /// trailing comments with empty `text`).
    pub fn finish(mut self) -> Option<Chunk> {
        (!self.text.is_empty() || !self.lines.is_empty()).then(|| self.take())
    }

    fn take(&mut self) -> Chunk {
        Chunk {
            text: std::mem::take(&mut self.text),
            first_line: self.first_line,
            lines: std::mem::take(&mut self.lines),
        }
    }
}

/// Cuts a whole file into inputs with a fixed view of the names.
pub fn split_inputs(file: &str, names: &dyn Names) -> Vec<Chunk> {
    let mut splitter = Splitter::default();
    let mut chunks: Vec<Chunk> = file
        .lines()
        .enumerate()
        .filter_map(|(i, line)| splitter.push(i as u32 + 1, line, names))
        .collect();
    chunks.extend(splitter.finish());
    chunks
}

/// Runs `each` on every input of a file, in order, deciding where inputs
/// end with the names the REPL knows at that point.
pub fn for_each_input(repl: &mut Repl, file: &str, mut each: impl FnMut(&mut Repl, Chunk)) {
    let mut splitter = Splitter::default();
    for (i, line) in file.lines().enumerate() {
        if let Some(chunk) = splitter.push(i as u32 + 1, line, repl.names()) {
            each(repl, chunk);
        }
    }
    if let Some(chunk) = splitter.finish() {
        each(repl, chunk);
    }
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || (t.starts_with("//") && !t.starts_with("///"))
}

/// What replaying one input printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
    pub failed: bool,
}

/// Evaluates one input and renders what the REPL prints for it.
pub fn run_input(repl: &mut Repl, text: &str, origin: Origin) -> Printed {
    if crate::meta::is_meta(text) {
        return crate::meta::run_collected(repl, text);
    }
    let show_times = repl.meta_settings().show_times;
    printed(repl.eval(text, Some(origin)), show_times)
}

/// What the REPL prints for an input's result (with `%time on`, its times too).
pub fn printed(result: Result<Evaluation, EvalError>, show_times: bool) -> Printed {
    let mut p = Printed::default();
    match result {
        Ok(ev) => {
            p.stderr.push_str(&ev.warnings);
            if show_times {
                p.stderr.push_str(&crate::meta::format_times(&ev.times));
            }
            p.stdout.push_str(&String::from_utf8_lossy(&ev.output));
            if let Some(v) = ev.value {
                if !p.stdout.is_empty() && !p.stdout.ends_with('\n') {
                    p.stdout.push('\n');
                }
                p.stdout.push_str(&v);
                p.stdout.push('\n');
            }
        }
        Err(e) => {
            p.failed = true;
            if let EvalError::Run { output, .. } = &e {
                p.stdout.push_str(&String::from_utf8_lossy(output));
            }
            p.stderr.push_str(&e.to_string());
            p.stderr.push('\n');
        }
    }
    p
}

/// Cuts a whole file into inputs the way replaying it would, learning
/// the names each input declares as it goes.
pub fn collect_inputs(repl: &Repl, file: &str) -> Vec<Chunk> {
    let mut names = repl.names().clone();
    let mut splitter = Splitter::default();
    let mut chunks = Vec::new();
    for (i, line) in file.lines().enumerate() {
        if let Some(chunk) = splitter.push(i as u32 + 1, line, &names) {
            crate::engine::learn_names(&mut names, &chunk.text);
            chunks.push(chunk);
        }
    }
    chunks.extend(splitter.finish());
    chunks
}

/// Evaluates every chunk of a file in order — runs of C inputs batched
/// into few clang runs ([`Repl::eval_batch`]), meta commands one at a time —
/// and calls `each` with each chunk's index and what it printed.
pub fn replay_chunks(
    repl: &mut Repl,
    chunks: &[Chunk],
    name: &str,
    mut each: impl FnMut(usize, Printed),
) {
    let mut i = 0;
    while i < chunks.len() {
        if crate::meta::is_meta(&chunks[i].text) {
            let origin = chunk_origin(&chunks[i], name);
            each(i, run_input(repl, &chunks[i].text, origin));
            i += 1;
            continue;
        }
        let end = (i..chunks.len())
            .find(|&j| crate::meta::is_meta(&chunks[j].text))
            .unwrap_or(chunks.len());
        // The input just before a meta command is linked on its own, so
        // `%graph` and friends see exactly what they would interactively.
        let end = if end < chunks.len() && end > i + 1 {
            end - 1
        } else {
            end
        };
        let inputs: Vec<(String, Origin)> = chunks[i..end]
            .iter()
            .map(|c| (c.text.clone(), chunk_origin(c, name)))
            .collect();
        let show_times = repl.meta_settings().show_times;
        repl.eval_batch(&inputs, |k, result| {
            each(i + k, printed(result, show_times))
        });
        i = end;
    }
}

fn chunk_origin(chunk: &Chunk, name: &str) -> Origin {
    Origin {
        name: name.to_string(),
        first_line: chunk.first_line,
    }
}

/// Replays a transcript and returns the transcript it should be (the
/// same inputs with the actual output under each), and whether any input failed.
pub fn replay(repl: &mut Repl, file: &str, name: &str) -> (String, bool) {
    let chunks = collect_inputs(repl, file);
    let mut printed: Vec<Printed> = vec![Printed::default(); chunks.len()];
    replay_chunks(repl, &chunks, name, |i, p| printed[i] = p);
    let mut out = String::new();
    let mut any_failed = false;
    for (chunk, p) in chunks.iter().zip(&printed) {
        for l in &chunk.lines {
            out.push_str(l);
            out.push('\n');
        }
        any_failed |= p.failed;
        for (mark, text) in [(STDOUT_MARK, &p.stdout), (STDERR_MARK, &p.stderr)] {
            for line in text.lines() {
                out.push_str(mark);
                if !line.is_empty() {
                    out.push(' ');
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
    }
    (out, any_failed)
}

/// A unified diff of expected against actual, empty when they agree.
pub fn diff(expected: &str, actual: &str, name: &str) -> String {
    if expected == actual {
        return String::new();
    }
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (expected)"), &format!("{name} (actual)"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_cut_at_completeness_and_expectations_dropped() {
        let file =
            "// setup\nint f(int x)\n{\n  return x;\n}\n//> old output\nf(2)\n//> (int) 2\n\n";
        let chunks = split_inputs(file, &NoNames);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].text, "int f(int x)\n{\n  return x;\n}");
        assert_eq!(chunks[0].first_line, 2);
        assert_eq!(chunks[0].lines[0], "// setup");
        assert_eq!(chunks[1].text, "f(2)");
        assert_eq!(chunks[1].first_line, 7);
        assert_eq!(chunks[2].text, "");
        assert_eq!(chunks[2].lines, vec![String::new()]);
    }

    #[test]
    fn diff_is_empty_only_when_equal() {
        assert_eq!(diff("a\n", "a\n", "t"), "");
        let d = diff("a\nb\n", "a\nc\n", "t.c");
        assert!(d.contains("-b") && d.contains("+c"), "{d}");
    }
}
