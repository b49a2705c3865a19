//! Meta commands: inputs that start with `%` talk to the REPL itself
//! (`%help`, `%undo 2`, `%disasm f`...) instead of being compiled as C.
//! They work at the prompt, in replayed files and in transcripts; what
//! they print is returned as a [`Printed`], like a C input's output.

use crate::engine::{Origin, Repl, Times};
use crate::transcript::{self, Printed};
use bpf_linker::graph::SymbolKind;
use bpf_linker::GlobalSymbol;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One meta command: its name, its arguments and what it does.
#[derive(Debug, Clone, Copy)]
pub struct Command {
    /// The name without `%`.
    pub name: &'static str,
    /// Argument synopsis (`[N]`, `NAME`), empty when it takes none.
    pub args: &'static str,
    /// One line for `%help`.
    pub summary: &'static str,
}

/// Every meta command, in `%help` order.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        args: "",
        summary: "this list",
    },
    Command {
        name: "quit",
        args: "",
        summary: "leave the REPL (also Ctrl-D)",
    },
    Command {
        name: "undo",
        args: "[N]",
        summary: "forget the last N inputs (default 1): their definitions and their effects",
    },
    Command {
        name: "reset",
        args: "",
        summary: "forget every input",
    },
    Command {
        name: "symbols",
        args: "",
        summary: "the session's symbols: name, kind, address, size, defining input",
    },
    Command {
        name: "disasm",
        args: "NAME",
        summary: "disassemble function NAME, with its source lines",
    },
    Command {
        name: "graph",
        args: "[--all] [NAME]",
        summary: "link graph of the last input (or of NAME's), before and after fixup",
    },
    Command {
        name: "time",
        args: "[on|off]",
        summary: "show each input's compile, link and run times",
    },
    Command {
        name: "save",
        args: "FILE",
        summary: "write the session's inputs to FILE, to replay with `bpf-repl FILE` or %load",
    },
    Command {
        name: "load",
        args: "FILE",
        summary: "run FILE's inputs in this session",
    },
    Command {
        name: "cflags",
        args: "[FLAGS...|--clear]",
        summary: "show or replace the extra clang flags of later inputs",
    },
];

/// How deeply `%load` may nest (a file that loads itself stops here).
const MAX_LOAD_DEPTH: usize = 16;

/// What the meta commands keep between inputs (held by [`Repl`]).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `%time on`: print each input's times.
    pub show_times: bool,
    /// The extra clang flags the session started with (runtime includes,
    /// `--cflags`, stack size), captured before `%cflags` first changes them.
    startup_flags: Option<Vec<String>>,
    /// Flags set by `%cflags`, after the startup ones.
    pub cflags: Vec<String>,
    /// Raised by the prompt's Ctrl-C handler: `%load` stops before its next input.
    pub cancel: Arc<AtomicBool>,
}

/// Where a meta command was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// At the interactive prompt.
    Prompt,
    /// In a replayed file or transcript.
    File,
}

/// What the caller does after a meta command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Whether an input is a meta command (its first non-blank character is `%`).
/// No C input starts with `%`.
pub fn is_meta(text: &str) -> bool {
    text.trim_start().starts_with('%')
}

/// The command of that name.
pub fn command(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Runs a meta command; `emit` receives what it prints, possibly in several
/// pieces (`%load` emits each input's output as it runs).
pub fn run(repl: &mut Repl, text: &str, place: Place, emit: &mut dyn FnMut(&Printed)) -> Flow {
    run_nested(repl, text, place, 0, emit)
}

/// Runs a meta command and collects everything it prints (for transcripts).
pub fn run_collected(repl: &mut Repl, text: &str) -> Printed {
    let mut all = Printed::default();
    run(repl, text, Place::File, &mut |p| append(&mut all, p));
    all
}

/// `compile 21.3 ms, link 0.4 ms, run 0.01 ms` for `%time on`.
pub fn format_times(t: &Times) -> String {
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    format!(
        "compile {:.1} ms, link {:.2} ms, run {:.2} ms\n",
        ms(t.compile),
        ms(t.link),
        ms(t.run)
    )
}

/// The `%help` text.
pub fn help() -> String {
    let width = COMMANDS.iter().map(|c| usage(c).len()).max().unwrap_or(0);
    let mut out = String::from(
        "Type C: declarations, statements, and an expression to print its value.\n\
         An input continues over several lines until it is complete; Tab completes names.\n\
         Ctrl-C cancels the line being typed or stops a running input; Ctrl-D quits.\n",
    );
    for c in COMMANDS {
        let _ = writeln!(out, "  {:width$}  {}", usage(c), c.summary);
    }
    out
}

/// `%undo [N]`.
pub fn usage(c: &Command) -> String {
    if c.args.is_empty() {
        format!("%{}", c.name)
    } else {
        format!("%{} {}", c.name, c.args)
    }
}

/// The command closest to a misspelt name, if one is close enough.
pub fn suggestion(name: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .map(|c| (strsim::damerau_levenshtein(name, c.name), c))
        .filter(|(d, c)| *d <= 2.max(c.name.len() / 3) && *d < c.name.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
        .or_else(|| {
            // A prefix of exactly one command (`%sym`).
            let mut prefixed = COMMANDS
                .iter()
                .filter(|c| !name.is_empty() && c.name.starts_with(name));
            match (prefixed.next(), prefixed.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        })
}

fn append(all: &mut Printed, p: &Printed) {
    all.stdout.push_str(&p.stdout);
    all.stderr.push_str(&p.stderr);
    all.failed |= p.failed;
}

fn out(text: String) -> Printed {
    Printed {
        stdout: text,
        ..Printed::default()
    }
}

fn error(text: String) -> Printed {
    Printed {
        stderr: text + "\n",
        failed: true,
        ..Printed::default()
    }
}

fn run_nested(
    repl: &mut Repl,
    text: &str,
    place: Place,
    depth: usize,
    emit: &mut dyn FnMut(&Printed),
) -> Flow {
    let text = text.trim();
    let body = text.strip_prefix('%').unwrap_or(text);
    let (name, rest) = match body.find(char::is_whitespace) {
        Some(i) => (&body[..i], body[i..].trim()),
        None => (body, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    let printed = match name {
        "help" => out(help()),
        "quit" if place == Place::Prompt => return Flow::Quit,
        "quit" => error("%quit: works only at the prompt".to_string()),
        "undo" => undo(repl, &args),
        "reset" => no_args(name, &args).unwrap_or_else(|| {
            repl.reset();
            out("session reset: every input forgotten\n".to_string())
        }),
        "symbols" => no_args(name, &args).unwrap_or_else(|| out(symbols(repl))),
        "disasm" => disasm(repl, &args),
        "graph" => graph(repl, &args),
        "time" => time(repl, &args),
        "save" => save(repl, rest),
        "load" => return load(repl, rest, place, depth, emit),
        "cflags" => cflags(repl, &args),
        "" => error("`%` needs a command name: %help lists them".to_string()),
        _ => error(match suggestion(name) {
            Some(c) => format!(
                "unknown command %{name}; did you mean %{}? (%help lists commands)",
                c.name
            ),
            None => format!("unknown command %{name} (%help lists commands)"),
        }),
    };
    emit(&printed);
    Flow::Continue
}

fn no_args(name: &str, args: &[&str]) -> Option<Printed> {
    (!args.is_empty()).then(|| error(format!("%{name} takes no arguments")))
}

fn undo(repl: &mut Repl, args: &[&str]) -> Printed {
    let n = match args {
        [] => 1,
        [n] => match n.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => return error(format!("%undo: N must be a positive number, not `{n}`")),
        },
        _ => return error("%undo takes one number at most".to_string()),
    };
    let undone: Vec<String> = repl
        .accepted_inputs()
        .rev()
        .take(n)
        .map(|(origin, source)| describe_input(origin, source))
        .collect();
    if undone.is_empty() {
        return error("%undo: nothing to undo".to_string());
    }
    repl.undo(n);
    let mut text = String::new();
    for line in undone {
        let _ = writeln!(text, "undid {line}");
    }
    out(text)
}

/// `input 3: int x = 4;` (the first line of the input, shortened).
fn describe_input(origin: &Origin, source: &str) -> String {
    let first = source.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut first = first.trim().to_string();
    if first.chars().count() > 50 {
        first = first.chars().take(47).collect::<String>() + "...";
    }
    let more = if source.trim().lines().count() > 1 {
        " ..."
    } else {
        ""
    };
    if origin.name.starts_with("input ") {
        format!("{}: {first}{more}", origin.name)
    } else {
        format!("{}:{}: {first}{more}", origin.name, origin.first_line)
    }
}

fn symbols(repl: &Repl) -> String {
    let session = repl.session();
    let rows: Vec<[String; 5]> = session
        .symbols()
        .into_iter()
        .filter(|s| !s.name.starts_with("__repl_"))
        .map(|s| {
            let defined = if s.object.is_none() && s.weak {
                "(not defined yet)".to_string()
            } else {
                repl.defining_input(&s.name)
                    .unwrap_or_else(|| session.defined_by(s))
            };
            [
                s.name.clone(),
                symbol_kind(s).to_string(),
                format!("{:#x}", s.body),
                s.size.to_string(),
                defined,
            ]
        })
        .collect();
    if rows.is_empty() {
        return "no symbols yet\n".to_string();
    }
    let header = ["name", "kind", "address", "size", "defined by"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(header.map(str::to_string)).chain(rows) {
        let line = format!(
            "{:w0$}  {:w1$}  {:>w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn symbol_kind(s: &GlobalSymbol) -> &'static str {
    match s.kind {
        SymbolKind::Function => "function",
        SymbolKind::Object if s.common => "variable (common)",
        SymbolKind::Object => "variable",
        SymbolKind::Section => "section",
        SymbolKind::Other => "other",
    }
}

fn disasm(repl: &Repl, args: &[&str]) -> Printed {
    let [name] = args else {
        return error("usage: %disasm NAME (a function)".to_string());
    };
    let reader = |file: &str, line: u32| source_line(repl, file, line);
    match repl.session().disassemble(name, Some(&reader)) {
        Some(listing) => out(listing),
        None => error(match repl.session().lookup(name) {
            Some(_) => format!("%disasm: `{name}` is not a function"),
            None => format!("%disasm: no function named `{name}`"),
        }),
    }
}

/// Line `line` of the input that debug info calls `file` (the newest one
/// whose lines cover it).
fn source_line(repl: &Repl, file: &str, line: u32) -> Option<String> {
    repl.accepted_inputs()
        .rev()
        .filter(|(origin, _)| origin.name == file && line >= origin.first_line)
        .find_map(|(origin, source)| {
            let index = (line - origin.first_line) as usize;
            source.lines().nth(index).map(|l| l.trim_end().to_string())
        })
}

fn graph(repl: &Repl, args: &[&str]) -> Printed {
    let all = args.contains(&"--all");
    let names: Vec<&str> = args.iter().copied().filter(|a| *a != "--all").collect();
    let objects = repl.session().objects();
    let object = match names[..] {
        [] => match objects.last() {
            Some(o) => o,
            None => return error("%graph: nothing has been linked yet".to_string()),
        },
        [name] => match repl.session().lookup(name).and_then(|s| s.object) {
            Some(i) if i < objects.len() => &objects[i],
            _ => return error(format!("%graph: no input defines `{name}`")),
        },
        _ => return error("usage: %graph [--all] [NAME]".to_string()),
    };
    let show = |graph: &bpf_linker::LinkGraph| {
        let listing = graph.to_string();
        if all {
            listing
        } else {
            without_debug_sections(&listing)
        }
    };
    let mut text = String::from("before fixup:\n");
    match &object.unfixed {
        Some(g) => text.push_str(&show(g)),
        None => text.push_str("  (not kept)\n"),
    }
    text.push_str("after fixup:\n");
    text.push_str(&show(&object.graph));
    out(text)
}

/// A link graph listing without its debug and BTF sections, and a line
/// saying how many were left out.
fn without_debug_sections(listing: &str) -> String {
    let mut text = String::new();
    let mut skipping = false;
    let mut skipped = 0;
    for line in listing.lines() {
        if line.starts_with("  section #") {
            skipping = line.contains(" (debug), ") || line.contains(" (btf), ");
            skipped += usize::from(skipping);
        } else if !line.starts_with("    ") {
            skipping = false;
        }
        if !skipping {
            text.push_str(line);
            text.push('\n');
        }
    }
    if skipped > 0 {
        let _ = writeln!(
            text,
            "  ({skipped} debug and BTF sections left out; %graph --all shows them)"
        );
    }
    text
}

fn time(repl: &mut Repl, args: &[&str]) -> Printed {
    let settings = repl.meta_settings();
    match args {
        [] => {}
        ["on"] => settings.show_times = true,
        ["off"] => settings.show_times = false,
        _ => return error("usage: %time [on|off]".to_string()),
    }
    out(format!(
        "times are {}\n",
        if settings.show_times { "on" } else { "off" }
    ))
}

/// The session's accepted inputs as a file that `bpf-repl FILE`, `%load`
/// and `--bless` replay.
pub fn saved_session(repl: &mut Repl) -> String {
    let mut text = String::from("// bpf-repl session, saved by %save\n");
    let cflags = repl.meta_settings().cflags.clone();
    if !cflags.is_empty() {
        let _ = writeln!(text, "%cflags {}", cflags.join(" "));
    }
    for (_, source) in repl.accepted_inputs() {
        text.push_str(source.trim_end_matches('\n'));
        text.push('\n');
    }
    text
}

fn save(repl: &mut Repl, path: &str) -> Printed {
    if path.is_empty() {
        return error("usage: %save FILE".to_string());
    }
    let n = repl.accepted_inputs().count();
    let text = saved_session(repl);
    match std::fs::write(path, text) {
        Ok(()) => out(format!(
            "saved {n} input{} to {path}\n",
            if n == 1 { "" } else { "s" }
        )),
        Err(e) => error(format!("%save: cannot write {path}: {e}")),
    }
}

fn load(
    repl: &mut Repl,
    path: &str,
    place: Place,
    depth: usize,
    emit: &mut dyn FnMut(&Printed),
) -> Flow {
    if path.is_empty() {
        emit(&error("usage: %load FILE".to_string()));
        return Flow::Continue;
    }
    if depth >= MAX_LOAD_DEPTH {
        emit(&error(format!(
            "%load: files nested more than {MAX_LOAD_DEPTH} deep (does {path} load itself?)"
        )));
        return Flow::Continue;
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            emit(&error(format!("%load: cannot read {path}: {e}")));
            return Flow::Continue;
        }
    };
    let cancel = repl.meta_settings().cancel.clone();
    if depth == 0 {
        cancel.store(false, Ordering::Relaxed);
    }
    let mut flow = Flow::Continue;
    let mut stopped = false;
    transcript::for_each_input(repl, &text, |repl, chunk| {
        if chunk.text.is_empty() || flow == Flow::Quit || stopped {
            return;
        }
        if cancel.load(Ordering::Relaxed) {
            stopped = true;
            emit(&error(format!(
                "%load: stopped by Ctrl-C before {path}:{}",
                chunk.first_line
            )));
            return;
        }
        if is_meta(&chunk.text) {
            flow = run_nested(repl, &chunk.text, place, depth + 1, emit);
            return;
        }
        let origin = Origin {
            name: path.to_string(),
            first_line: chunk.first_line,
        };
        emit(&transcript::run_input(repl, &chunk.text, origin));
    });
    flow
}

fn cflags(repl: &mut Repl, args: &[&str]) -> Printed {
    if args.is_empty() {
        let current = &repl.meta_settings().cflags;
        return out(if current.is_empty() {
            "no extra clang flags (set them with %cflags FLAGS...)\n".to_string()
        } else {
            format!("extra clang flags: {}\n", current.join(" "))
        });
    }
    let wanted: Vec<String> = if args == ["--clear"] {
        Vec::new()
    } else {
        args.iter().map(|a| a.to_string()).collect()
    };
    let base_len = crate::clang::base_flags().len();
    let startup = match repl.meta_settings().startup_flags.clone() {
        Some(s) => s,
        None => {
            let flags = repl.compiler_mut().flags();
            let s = flags.get(base_len..).unwrap_or_default().to_vec();
            repl.meta_settings().startup_flags = Some(s.clone());
            s
        }
    };
    let old = repl.meta_settings().cflags.clone();
    let with =
        |extra: &[String]| -> Vec<String> { startup.iter().chain(extra.iter()).cloned().collect() };
    repl.compiler_mut().set_extra_flags(&with(&wanted));
    // One empty compile tells whether clang accepts the flags at all.
    if let Err(e) = repl.compiler_mut().compile("") {
        repl.compiler_mut().set_extra_flags(&with(&old));
        return error(format!(
            "%cflags: clang rejects these flags; they are not set:\n{}",
            e.to_string().trim_end()
        ));
    }
    repl.meta_settings().cflags = wanted.clone();
    out(if wanted.is_empty() {
        "extra clang flags cleared\n".to_string()
    } else {
        format!("extra clang flags: {}\n", wanted.join(" "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_inputs_start_with_percent() {
        assert!(is_meta("%help"));
        assert!(is_meta("  %undo 2"));
        assert!(!is_meta("x % 2"));
        assert!(!is_meta(""));
    }

    #[test]
    fn misspelt_commands_get_the_nearest_one() {
        assert_eq!(suggestion("symbol").map(|c| c.name), Some("symbols"));
        assert_eq!(suggestion("dissasm").map(|c| c.name), Some("disasm"));
        assert_eq!(suggestion("udno").map(|c| c.name), Some("undo"));
        assert_eq!(suggestion("sym").map(|c| c.name), Some("symbols"));
        assert_eq!(suggestion("zzzzzz").map(|c| c.name), None);
    }

    #[test]
    fn help_lists_every_command() {
        let h = help();
        for c in COMMANDS {
            assert!(h.contains(&usage(c)), "{} missing from\n{h}", c.name);
        }
    }
}
