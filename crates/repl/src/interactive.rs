//! The interactive prompt: rustyline editing, with an input continuing
//! over several lines until it is complete.

use crate::engine::Repl;
use crate::input::{completeness, Completeness, NameKind};
use crate::transcript;
use rustyline::error::ReadlineError;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Completer, Editor, Helper, Highlighter, Hinter};
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

/// Tells rustyline whether the typed text is a whole input.
#[derive(Completer, Helper, Highlighter, Hinter)]
struct InputHelper {
    names: HashMap<String, NameKind>,
}

impl Validator for InputHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(match completeness(ctx.input(), &self.names) {
            Completeness::Complete => ValidationResult::Valid(None),
            Completeness::Incomplete(_) => ValidationResult::Incomplete,
        })
    }
}

/// Reads inputs until end of input; each is evaluated and its output printed.
pub fn run(mut repl: Repl) -> Result<ExitCode, String> {
    let mut editor: Editor<InputHelper, rustyline::history::DefaultHistory> =
        Editor::new().map_err(|e| format!("cannot start line editing: {e}"))?;
    editor.set_helper(Some(InputHelper {
        names: repl.names().clone(),
    }));
    println!(
        "bpf-repl {}: C on a BPF VM. %help for commands, Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        if let Some(h) = editor.helper_mut() {
            h.names = repl.names().clone();
        }
        match editor.readline("bpf> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                if line.trim() == "%quit" {
                    break;
                }
                let number = repl.input_count() + 1;
                let origin = crate::engine::Origin {
                    name: format!("input {number}"),
                    first_line: 1,
                };
                let printed = transcript::run_input(&mut repl, &line, origin);
                print!("{}", printed.stdout);
                let _ = std::io::stdout().flush();
                eprint!("{}", printed.stderr);
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(format!("cannot read input: {e}")),
        }
    }
    Ok(ExitCode::SUCCESS)
}
