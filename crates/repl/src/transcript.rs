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
//! then the value), `//! ` lines what it printed on stderr. `//< ` lines
//! above an input are fed to the program's standard input before it runs
//! (each line with its newline); they stay in the file. Replaying a
//! transcript drops the old expectation lines, keeps every other line as
//! it is, and writes the actual output under each input: checking compares
//! that with the file, blessing writes it back.

use crate::engine::Repl;
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
/// Prefix of a line of standard input for the program, fed before the
/// input that follows (`//< 12 34`).
pub const STDIN_MARK: &str = "//<";

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
    /// Why the input ends where it does, when that is not where its
    /// brackets close (shown after what the input prints).
    pub note: Option<String>,
}

impl Chunk {
    /// The standard input its `//<` lines give the program (each line
    /// with its newline), fed before the input runs.
    pub fn stdin(&self) -> Vec<u8> {
        let mut data = Vec::new();
        for line in &self.lines {
            if let Some(rest) = line.trim_start().strip_prefix(STDIN_MARK) {
                data.extend_from_slice(rest.strip_prefix(' ').unwrap_or(rest).as_bytes());
                data.push(b'\n');
            }
        }
        data
    }
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
    /// Adds line `number` (1-based); returns the inputs it completes: the
    /// one it ends, or — when the line can only start a new input while
    /// the pending one still has a bracket open — the pending one, cut
    /// there, and the line's own input if it is complete by itself.
    pub fn push(&mut self, number: u32, line: &str, names: &dyn Names) -> Vec<Chunk> {
        if is_expectation(line) {
            return Vec::new();
        }
        let mut done = Vec::new();
        if !self.text.is_empty() {
            if let Some(reason) = self.cut_before(line, names) {
                let mut chunk = self.take();
                chunk.note = Some(format!(
                    "note: this input ends before line {number}: it leaves {reason}, and line \
                     {number} can only start a new declaration\n"
                ));
                done.push(chunk);
            }
        }
        self.lines.push(line.to_string());
        if self.text.is_empty() && is_blank_or_comment(line) {
            return done;
        }
        if self.text.is_empty() {
            self.first_line = number;
            if crate::meta::is_meta(line) {
                // A meta command is one line; `%` would read as an operator.
                self.text.push_str(line);
                done.push(self.take());
                return done;
            }
        } else {
            self.text.push('\n');
        }
        self.text.push_str(line);
        if completeness(&self.text, names) == Completeness::Complete {
            done.push(self.take());
        }
        done
    }

    /// Whether the pending input must end before `line` (and why): it has
    /// a `(` or `[` open and the line starts a declaration in column 0
    /// after a line that ended a statement, or it has a function body open
    /// and the line starts a function definition (C has no nested ones).
    fn cut_before(&self, line: &str, names: &dyn Names) -> Option<String> {
        let Completeness::Incomplete(open) = completeness(&self.text, names) else {
            return None;
        };
        let previous = self.text.lines().last().unwrap_or("").trim_end();
        let ended = previous.ends_with(';') || previous.ends_with('}');
        let declaration = starts_top_level_declaration(line, names);
        let cut = match open {
            "unclosed (" | "unclosed [" => declaration && ended,
            "unclosed {" => {
                declaration
                    && (ended || previous.ends_with('{'))
                    && line.contains('(')
                    && !line.trim_end().ends_with([';', ','])
                    && starts_top_level_declaration(&self.text, names)
            }
            _ => false,
        };
        let bracket = open.trim_start_matches("unclosed ");
        cut.then(|| format!("a `{bracket}` that is never closed"))
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
            note: None,
        }
    }
}

/// Whether a line starts, in column 0, with what only a declaration
/// starts with: a type keyword, storage class, `struct`/`union`/`enum`,
/// `typedef`, or a known typedef name.
fn starts_top_level_declaration(line: &str, names: &dyn Names) -> bool {
    if line.starts_with([' ', '\t']) {
        return false;
    }
    let toks = crate::input::tokens(line);
    let Some(first) = toks.first() else {
        return false;
    };
    const STARTS: &[&str] = &[
        "int", "char", "void", "long", "short", "unsigned", "signed", "float", "double", "_Bool",
        "bool", "static", "extern", "typedef", "struct", "union", "enum", "const", "inline",
        "register", "volatile",
    ];
    first.is_any(STARTS)
        || (first.kind == crate::input::TokenKind::Identifier
            && names.kind(first.text) == crate::input::NameKind::Typedef)
}

/// Cuts a whole file into inputs with a fixed view of the names.
pub fn split_inputs(file: &str, names: &dyn Names) -> Vec<Chunk> {
    let mut splitter = Splitter::default();
    let mut chunks: Vec<Chunk> = file
        .lines()
        .enumerate()
        .flat_map(|(i, line)| splitter.push(i as u32 + 1, line, names))
        .collect();
    chunks.extend(splitter.finish());
    chunks
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || (t.starts_with("//") && !t.starts_with("///"))
}

/// Cuts a whole file into inputs the way replaying it would, learning
/// the names each input declares as it goes.
pub fn collect_inputs(repl: &Repl, file: &str) -> Vec<Chunk> {
    let mut names = repl.names().name_kinds();
    let mut splitter = Splitter::default();
    let mut chunks = Vec::new();
    for (i, line) in file.lines().enumerate() {
        for chunk in splitter.push(i as u32 + 1, line, &names) {
            crate::engine::learn_names(&mut names, &chunk.text);
            chunks.push(chunk);
        }
    }
    chunks.extend(splitter.finish());
    chunks
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
    fn an_unclosed_bracket_fails_its_input_alone() {
        let file = "int broken( { return 0; }\nint after = 3;\nafter\n";
        let chunks = split_inputs(file, &NoNames);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            ["int broken( { return 0; }", "int after = 3;", "after"]
        );
        assert!(chunks[0].note.as_deref().unwrap_or("").contains("line 2"));
        // An open function body ends at the next function definition; an
        // unindented local declaration does not end it.
        let file = "int f(void) {\nint x = 1;\nint y = 2;\nint main(void) {\n  return 0;\n}\n";
        let chunks = split_inputs(file, &NoNames);
        assert_eq!(chunks[0].text, "int f(void) {\nint x = 1;\nint y = 2;");
        assert_eq!(chunks[1].first_line, 4);
    }

    #[test]
    fn k_and_r_layouts_stay_one_input() {
        let file = "int (f)(int si)\n{\n  return si;\n}\nuint32_t\ng(void)\n{\n  return 1;\n}\n";
        let chunks = split_inputs(file, &NoNames);
        assert_eq!(chunks.len(), 2, "{chunks:#?}");
        assert!(chunks[1].text.starts_with("uint32_t\ng(void)"));
    }

    #[test]
    fn diff_is_empty_only_when_equal() {
        assert_eq!(diff("a\n", "a\n", "t"), "");
        let d = diff("a\nb\n", "a\nc\n", "t.c");
        assert!(d.contains("-b") && d.contains("+c"), "{d}");
    }
}
