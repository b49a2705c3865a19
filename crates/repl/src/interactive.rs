//! The interactive prompt: rustyline editing with completion, hints and
//! colours; an input continues over several lines (`...> `) until it is
//! complete; `%` commands; Ctrl-C stops a running input; history persists.

use crate::complete::{self, Completion};
use crate::engine::{Origin, Repl};
use crate::highlight::{self, color_enabled, paint};
use crate::input::{completeness, Completeness, NameKind};
use crate::meta::{self, Flow, Place};
use crate::printed::Printed;
use crate::replay;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::{Editor, Helper, Validator};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// The prompt of an input's first line.
pub const PROMPT: &str = "bpf> ";
/// The prompt of the lines that continue an input.
pub const CONTINUATION_PROMPT: &str = "...> ";

/// Completion, hints and colours for the line being typed. Each line is
/// read on its own (so that continuation lines get their own prompt); the
/// earlier lines of the input are kept in `earlier`.
#[derive(Helper, Validator)]
struct LineHelper {
    names: HashMap<String, NameKind>,
    earlier: String,
    color: bool,
    files: FilenameCompleter,
}

impl Completer for LineHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let cx = complete::Context {
            names: &self.names,
            first_line: self.earlier.is_empty(),
        };
        match complete::complete(line, pos, &cx) {
            Some(Completion { start, candidates }) => Ok((
                start,
                candidates
                    .into_iter()
                    .map(|c| Pair {
                        display: c.trim_end().to_string(),
                        replacement: c,
                    })
                    .collect(),
            )),
            None => self.files.complete(line, pos, ctx),
        }
    }
}

/// A hint after the cursor, from [`complete::hint`].
struct LineHint(complete::Hint);

impl rustyline::hint::Hint for LineHint {
    fn display(&self) -> &str {
        &self.0.display
    }

    fn completion(&self) -> Option<&str> {
        self.0.completion.as_deref()
    }
}

impl Hinter for LineHelper {
    type Hint = LineHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &rustyline::Context<'_>) -> Option<LineHint> {
        complete::hint(line, pos, self.earlier.is_empty()).map(LineHint)
    }
}

impl Highlighter for LineHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight::highlight(&self.earlier, line, &self.names))
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        if !self.color {
            return Cow::Borrowed(prompt);
        }
        let style = if prompt == PROMPT {
            highlight::PROMPT
        } else {
            highlight::CONTINUATION
        };
        Cow::Owned(paint(prompt, style))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if !self.color {
            return Cow::Borrowed(hint);
        }
        Cow::Owned(paint(hint, highlight::HINT))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// `$XDG_DATA_HOME/bpf-repl/history` (`~/.local/share/bpf-repl/history`).
pub fn history_path() -> Option<PathBuf> {
    Some(dirs::data_dir()?.join("bpf-repl").join("history"))
}

/// Reads inputs until Ctrl-D or `%quit`; each is evaluated and its output printed.
pub fn run(mut repl: Repl) -> Result<ExitCode, String> {
    let color = color_enabled();
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(10_000)
        .map_err(|e| format!("cannot configure line editing: {e}"))?
        .build();
    let mut editor: Editor<LineHelper, DefaultHistory> =
        Editor::with_config(config).map_err(|e| format!("cannot start line editing: {e}"))?;
    editor.set_helper(Some(LineHelper {
        names: repl.names().name_kinds(),
        earlier: String::new(),
        color,
        files: FilenameCompleter::new(),
    }));
    let mut history = history_path();
    if let Some(path) = &history {
        if path.exists() {
            if let Err(e) = editor.load_history(path) {
                eprintln!("bpf-repl: cannot read history {}: {e}", path.display());
            }
        }
    }
    // While a snippet runs the terminal is not in raw mode, so Ctrl-C is a
    // SIGINT: raise the VM's interrupt flag and let the VM stop the snippet.
    // `%load` also stops before its next input.
    // A running clang is stopped too.
    let interrupt = repl.session().vm().interrupt_handle();
    let cancel_load = repl.meta_settings().cancel.clone();
    let cancel_compile = repl.compile_cancel_handle();
    ctrlc::set_handler(move || {
        interrupt.store(true, Ordering::Relaxed);
        cancel_load.store(true, Ordering::Relaxed);
        cancel_compile.store(true, Ordering::Relaxed);
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    println!(
        "bpf-repl {}: C on a BPF VM. %help for commands, Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    );

    let mut pending = String::new();
    loop {
        if let Some(h) = editor.helper_mut() {
            h.names = repl.names().name_kinds();
            h.earlier = pending.clone();
        }
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION_PROMPT
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                pending.clear(); // Ctrl-C drops the input being typed
                continue;
            }
            Err(rustyline::error::ReadlineError::Eof) if pending.is_empty() => break,
            Err(rustyline::error::ReadlineError::Eof) => {
                // Ctrl-D on a continuation line: run what there is, and
                // let clang say what is missing.
                println!();
                let input = std::mem::take(&mut pending);
                remember(&mut editor, &mut history, &input);
                evaluate(&mut repl, &input);
                continue;
            }
            Err(e) => return Err(format!("cannot read input: {e}")),
        };
        if pending.is_empty() {
            if line.trim().is_empty() {
                continue;
            }
            if meta::is_meta(&line) {
                remember(&mut editor, &mut history, &line);
                let flow = replay::run_command(&mut repl, &line, Place::Prompt, &mut print);
                if flow == Flow::Quit {
                    break;
                }
                continue;
            }
        } else {
            pending.push('\n');
        }
        pending.push_str(&line);
        if let Completeness::Incomplete(_) = completeness(&pending, repl.names()) {
            continue;
        }
        let input = std::mem::take(&mut pending);
        remember(&mut editor, &mut history, &input);
        evaluate(&mut repl, &input);
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds a whole input to the history, and to the history file (which is
/// forgotten after the first failure to write it, with one message).
fn remember(
    editor: &mut Editor<LineHelper, DefaultHistory>,
    path: &mut Option<PathBuf>,
    input: &str,
) {
    let _ = editor.add_history_entry(input);
    let Some(file) = path else { return };
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = editor.append_history(file) {
        eprintln!("bpf-repl: cannot write history {}: {e}", file.display());
        *path = None;
    }
}

fn evaluate(repl: &mut Repl, input: &str) {
    let number = repl.input_count() + 1;
    let origin = Origin {
        name: format!("input {number}"),
        first_line: 1,
    };
    let printed = replay::run_input(repl, input, origin);
    if repl.meta_settings().cancel.swap(false, Ordering::Relaxed) {
        println!(); // end the line where the terminal echoed `^C`
    }
    print(&printed);
}

fn print(p: &Printed) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(p.stdout.as_bytes());
    if !p.stdout.is_empty() && !p.stdout.ends_with('\n') {
        let _ = stdout.write_all(b"\n");
    }
    let _ = stdout.flush();
    drop(stdout);
    let _ = std::io::stderr().write_all(p.stderr.as_bytes());
}
