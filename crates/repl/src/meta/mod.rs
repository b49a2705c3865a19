//! Meta commands: inputs that start with `%` talk to the REPL itself
//! (`%help`, `%undo 2`, `%disasm f`...) instead of being compiled as C.
//! They work at the prompt, in replayed files and in transcripts; what
//! they print is returned as a [`Printed`], like a C input's output.
//! `%load` replays a file, which the caller does ([`Flow::Load`]): the
//! replaying code (`crate::replay`) sits above this module.

use crate::clang::Target;
use crate::engine::{Origin, Repl, Times};
use crate::printed::Printed;
use bpf_linker::graph::SymbolKind;
use bpf_linker::GlobalSymbol;
use std::fmt::Write as _;

mod world;

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
        name: "strict",
        args: "[on|off]",
        summary: "strict BPF for later inputs: only what plain BPF runs (--strict-bpf)",
    },
    Command {
        name: "ub",
        args: "[on|off]",
        summary: "undefined-behaviour checks in later inputs (on unless --no-ub-checks)",
    },
    Command {
        name: "cflags",
        args: "[FLAGS...|--clear]",
        summary: "show or replace the extra clang flags of later inputs",
    },
    Command {
        name: "threads",
        args: "",
        summary: "threads that outlived their input: state and where they are",
    },
    Command {
        name: "engine",
        args: "[interp|jit|auto]",
        summary: "show or change what runs the code: interpreter, JIT, or both (--engine)",
    },
    Command {
        name: "memcheck",
        args: "",
        summary: "whether heap and global accesses are checked (set at start: --memcheck)",
    },
    Command {
        name: "maps",
        args: "",
        summary: "the kernel-style maps (SEC(\".maps\")): name, type, sizes",
    },
    Command {
        name: "map",
        args: "NAME",
        summary: "dump map NAME's entries",
    },
    Command {
        name: "run-prog",
        args: "NAME INPUT",
        summary: "run kernel-style program NAME on INPUT: --packet HEX, --pcap FILE or --ctx HEX",
    },
    Command {
        name: "verify",
        args: "NAME [OPTIONS]",
        summary: "would the Linux verifier load program NAME? (--type SEC, --unprivileged)",
    },
];

/// Where a meta command was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// At the interactive prompt.
    Prompt,
    /// In a replayed file or transcript.
    File,
}

/// What the caller does after a meta command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
    /// Replay this file's inputs in the session (`%load FILE`).
    Load(String),
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

/// Runs a meta command and returns what it printed and what the caller
/// does next.
pub fn run(repl: &mut Repl, text: &str, place: Place) -> (Printed, Flow) {
    let text = text.trim();
    let body = text.strip_prefix('%').unwrap_or(text);
    let (name, rest) = match body.find(char::is_whitespace) {
        Some(i) => (&body[..i], body[i..].trim()),
        None => (body, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    let printed = match name {
        "help" => out(help()),
        "quit" if place == Place::Prompt => return (Printed::default(), Flow::Quit),
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
        "load" if rest.is_empty() => error("usage: %load FILE".to_string()),
        "load" => return (Printed::default(), Flow::Load(rest.to_string())),
        "cflags" => cflags(repl, &args),
        "threads" => no_args(name, &args).unwrap_or_else(|| out(threads(repl))),
        "strict" => switch(repl, Switch::Strict, &args),
        "ub" => switch(repl, Switch::UbChecks, &args),
        "engine" => world::engine(repl, &args),
        "memcheck" => world::memcheck(repl, &args),
        "maps" => world::maps(repl, &args),
        "map" => world::map(repl, &args),
        "run-prog" => world::run_prog(repl, text, rest),
        "verify" => world::verify(repl, &args),
        "" => error("`%` needs a command name: %help lists them".to_string()),
        _ => error(match suggestion(name) {
            Some(c) => format!(
                "unknown command %{name}; did you mean %{}? (%help lists commands)",
                c.name
            ),
            None => format!("unknown command %{name} (%help lists commands)"),
        }),
    };
    (printed, Flow::Continue)
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

fn out(text: String) -> Printed {
    Printed {
        stdout: text,
        ..Printed::default()
    }
}

/// An error printed by a command.
pub fn error(text: String) -> Printed {
    Printed {
        stderr: text + "\n",
        failed: true,
        ..Printed::default()
    }
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
    let undone = repl.undo_inputs(n);
    if undone.is_empty() {
        return error("%undo: nothing to undo (no input changed the session)".to_string());
    }
    let mut text = String::new();
    for (origin, source) in &undone {
        let _ = writeln!(text, "undid {}", describe_input(origin, source));
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
    let reader = |file: &str, line: u32| repl.input_line(file, line);
    match repl.session().disassemble(name, Some(&reader)) {
        Some(listing) => out(listing),
        None => error(match repl.session().lookup(name) {
            Some(_) => format!("%disasm: `{name}` is not a function"),
            None => format!("%disasm: no function named `{name}`"),
        }),
    }
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
    // The session's mode for what comes next (the inputs above replay in
    // full mode, which accepts everything strict mode does).
    let mode = repl.compiler_mut().mode();
    if mode.strict {
        text.push_str("%strict on\n");
    }
    if !mode.ub_checks {
        text.push_str("%ub off\n");
    }
    text
}

fn save(repl: &mut Repl, path: &str) -> Printed {
    if path.is_empty() {
        return error("usage: %save FILE".to_string());
    }
    let n = repl.accepted_inputs().count();
    let text = saved_session(repl);
    match write_atomically(std::path::Path::new(path), text.as_bytes()) {
        Ok(()) => out(format!(
            "saved {n} input{} to {path}\n",
            if n == 1 { "" } else { "s" }
        )),
        Err(e) => error(format!("%save: cannot write {path}: {e}")),
    }
}

/// Writes a file through a temporary file in the same directory and a
/// rename, so the old file stays whole until the new one is.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A setting of how later inputs are compiled.
#[derive(Clone, Copy)]
enum Switch {
    Strict,
    UbChecks,
}

/// `%strict [on|off]`, `%ub [on|off]`: show or change the setting.
fn switch(repl: &mut Repl, which: Switch, args: &[&str]) -> Printed {
    let mut mode = repl.compiler_mut().mode();
    let (name, value) = match which {
        Switch::Strict => ("strict", &mut mode.strict),
        Switch::UbChecks => ("ub", &mut mode.ub_checks),
    };
    match args {
        [] => {}
        ["on"] => *value = true,
        ["off"] => *value = false,
        _ => return error(format!("usage: %{name} [on|off]")),
    }
    let on = *value;
    repl.compiler_mut().set_mode(mode);
    out(match (which, on) {
        (Switch::Strict, true) => {
            "strict mode is on: later inputs may use only what plain BPF runs\n".to_string()
        }
        (Switch::Strict, false) => {
            "strict mode is off: later inputs use bpf-repl's ABI (all of C)\n".to_string()
        }
        (Switch::UbChecks, true) => {
            "undefined-behaviour checks are on for later inputs\n".to_string()
        }
        (Switch::UbChecks, false) => {
            "undefined-behaviour checks are off for later inputs\n".to_string()
        }
    })
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
    if let Err(e) = crate::clang::flags::check(&wanted) {
        return error(format!("%cflags: {e}; the flags are not set"));
    }
    let startup = match repl.meta_settings().startup_flags.clone() {
        Some(s) => s,
        None => {
            let s = repl.compiler_mut().extra_flags().to_vec();
            repl.meta_settings().startup_flags = Some(s.clone());
            s
        }
    };
    let old = repl.meta_settings().cflags.clone();
    let with =
        |extra: &[String]| -> Vec<String> { startup.iter().chain(extra.iter()).cloned().collect() };
    repl.compiler_mut().set_extra_flags(&with(&wanted));
    // One empty compile tells whether clang accepts the flags at all.
    if let Err(e) = repl.compiler_mut().compile("", Target::Repl) {
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

/// `%threads`: each live thread, its state and its backtrace.
fn threads(repl: &Repl) -> String {
    let session = repl.session();
    let list = session.vm().threads_info();
    if list.is_empty() {
        return "no threads besides the inputs' own\n".to_string();
    }
    let mut out = String::new();
    for t in list {
        let state = session.describe_wait(&t.state, t.object);
        let _ = writeln!(out, "thread {}: {state}", t.thread);
        let at = bpf_vm::Trap {
            kind: bpf_vm::TrapKind::Interrupted,
            pc: t.pc,
            call_sites: t.call_sites,
        };
        let frames = session.backtrace(&at);
        let listing = bpf_linker::format_backtrace(&frames, crate::engine::describe_frame);
        let _ = writeln!(out, "{}", listing.trim_start_matches('\n'));
    }
    out
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
