//! Drives the real `bpf-repl` program through a pseudo-terminal, as a user
//! at a keyboard would: continuation prompts, Tab completion, Ctrl-C on a
//! runaway loop, every meta command, history across sessions, Ctrl-D.
//! Each `expect` waits at most `EXPECT_TIMEOUT`, so a hang fails the test.

use expectrl::process::unix::{PtyStream, UnixProcess, WaitStatus};
use expectrl::{ControlCode, Eof, Expect, Regex, Session};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const INSTALL_HINT: &str =
    "clang-19 not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19`";

/// Upper bound for one answer (clang runs in a debug build on a busy machine).
const EXPECT_TIMEOUT: Duration = Duration::from_secs(60);

type Repl = Session<UnixProcess, PtyStream>;

/// Starts `bpf-repl` on a pty, with its history under `data_home`.
fn start(data_home: &Path, color: bool, args: &[&str]) -> Repl {
    assert!(which::which("clang-19").is_ok(), "{INSTALL_HINT}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bpf-repl"));
    cmd.args(args)
        .env("XDG_DATA_HOME", data_home)
        .env("TERM", "xterm-256color")
        .env_remove("BPF_REPL_CLANG");
    if color {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    let mut p = Session::spawn(cmd).expect("spawn bpf-repl on a pty");
    p.set_expect_timeout(Some(EXPECT_TIMEOUT));
    p.expect("%help for commands").expect("banner");
    p.expect("bpf> ").expect("first prompt");
    p
}

/// Types a line and returns what the REPL printed for it, up to the next
/// first-line prompt, without terminal escape sequences. While a line is
/// edited the terminal only sees it redrawn after a `\r`; the `\n` comes
/// when the line is accepted, so what follows it is the REPL's answer.
fn ask(p: &mut Repl, line: &str) -> String {
    p.send_line(line)
        .unwrap_or_else(|e| panic!("send {line:?}: {e}"));
    p.expect("\n")
        .unwrap_or_else(|e| panic!("after {line:?}, waiting for the line to end: {e}"));
    let found = p
        .expect("bpf> ")
        .unwrap_or_else(|e| panic!("after {line:?}, waiting for the prompt: {e}"));
    strip_escapes(&String::from_utf8_lossy(found.before()))
}

/// The text a terminal shows: CSI escape sequences and `\r` removed.
fn strip_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// [`ask`] for an input that prints nothing (a declaration).
fn quiet(p: &mut Repl, line: &str) {
    let answer = ask(p, line);
    assert!(
        answer.trim().is_empty(),
        "after {line:?}: unexpected {answer:?}"
    );
}

/// Everything the terminal received while a line was typed and run, up
/// to the next prompt: escape sequences (colours) kept.
fn echo(p: &mut Repl, line: &str) -> String {
    p.send_line(line).unwrap();
    let typed = p.expect("\n").expect("line accepted");
    let answer = p.expect("bpf> ").expect("prompt");
    let mut text = String::from_utf8_lossy(typed.before()).into_owned();
    text.push_str(&String::from_utf8_lossy(answer.before()));
    text
}

/// [`ask`], and check that the answer contains `expected`.
fn check(p: &mut Repl, line: &str, expected: &str) -> String {
    let answer = ask(p, line);
    assert!(
        answer.contains(expected),
        "after {line:?}: expected {expected:?} in:\n{answer}"
    );
    answer
}

/// Ctrl-D at an empty prompt: the program ends, successfully.
fn quit_with_ctrl_d(mut p: Repl) {
    p.send(ControlCode::EndOfTransmission).expect("send Ctrl-D");
    p.expect(Eof).expect("bpf-repl exits on Ctrl-D");
    let status = p.get_process().wait().expect("wait for bpf-repl");
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "exit status {status:?}"
    );
}

#[test]
fn a_multi_line_function_continues_until_its_brace_closes() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false, &[]);
    p.send_line("int sq(int x) {").unwrap();
    p.expect("...> ").expect("continuation prompt after `{`");
    p.send_line("  /* a comment").unwrap();
    p.expect("...> ").expect("continuation prompt in a comment");
    p.send_line("     that ends here */ return x * x;").unwrap();
    p.expect("...> ").expect("continuation prompt before `}`");
    p.send_line("}").unwrap();
    p.expect("bpf> ").expect("prompt after the function");
    check(&mut p, "sq(7)", "(int) 49");
    // A trailing backslash continues a line too.
    p.send_line("sq(2) + \\").unwrap();
    p.expect("...> ").expect("continuation prompt after `\\`");
    check(&mut p, "sq(3)", "(int) 13");
    // Ctrl-D on a continuation line runs what there is; clang says what is missing.
    p.send_line("int unclosed(void) {").unwrap();
    p.expect("...> ").unwrap();
    p.send(ControlCode::EndOfTransmission).unwrap();
    let found = p.expect("bpf> ").expect("prompt after Ctrl-D");
    let answer = strip_escapes(&String::from_utf8_lossy(found.before()));
    assert!(answer.contains("error: expected '}'"), "{answer}");
    quit_with_ctrl_d(p);
}

#[test]
fn tab_completes_a_name_the_session_defined() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false, &[]);
    ask(&mut p, "int counter_value = 41;");
    // `counter_v` + Tab becomes `counter_value`; the line then runs.
    p.send("counter_v\t").unwrap();
    p.expect("counter_value")
        .expect("Tab completes the variable");
    check(&mut p, " + 1", "(int) 42");
    // Keywords complete too.
    p.send("unsig\t").unwrap();
    p.expect("unsigned").expect("Tab completes a keyword");
    check(&mut p, " char c = 200; c", "(unsigned char) 200");
    // Meta command names complete: `%sy` + Tab is `%symbols`.
    p.send("%sy\t").unwrap();
    p.expect("%symbols").expect("Tab completes a meta command");
    let table = check(&mut p, "", "counter_value");
    assert!(table.contains("variable"), "{table}");
    quit_with_ctrl_d(p);
}

#[test]
fn ctrl_c_stops_a_runaway_loop_and_the_session_goes_on() {
    let home = tempfile::tempdir().unwrap();
    // A budget no loop reaches in the test's lifetime: only Ctrl-C stops it.
    let mut p = start(home.path(), false, &["--budget", "1000000000000000"]);
    quiet(&mut p, "int ticks = 7;");
    quiet(&mut p, "void spin(void) { for (;;) ticks++; }");
    // A Ctrl-C that lands while clang is still compiling the call cancels
    // the compile instead; then type the call again, a bounded number of times.
    let mut interrupted = None;
    for attempt in 1..=20u64 {
        p.send_line("spin();").unwrap();
        std::thread::sleep(Duration::from_millis(200 * attempt));
        p.send(ControlCode::EndOfText).unwrap();
        let m = p
            .expect(Regex("error: (interrupted|clang exited with signal)"))
            .expect("Ctrl-C ends the input");
        let rest = p.expect("bpf> ").expect("prompt after Ctrl-C");
        if String::from_utf8_lossy(m.as_bytes()).contains("interrupted") {
            interrupted = Some(String::from_utf8_lossy(rest.before()).into_owned());
            break;
        }
    }
    let backtrace = interrupted.expect("Ctrl-C interrupted the loop in 20 tries");
    // Where it stopped: in `spin` (whose optimised loop may have no line
    // of its own), called from the input.
    assert!(backtrace.contains("#0 spin at input 2"), "{backtrace}");
    assert!(backtrace.contains("#1 <input "), "{backtrace}");
    // The session survives; the interrupted input's effects are rolled back.
    check(&mut p, "ticks", "(int) 7");
    check(&mut p, "ticks * 6", "(int) 42");
    quit_with_ctrl_d(p);
}

#[test]
fn ctrl_c_stops_a_load_before_its_next_input() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("spins.c");
    std::fs::write(&file, "spin();\nticks = 99;\n").unwrap();
    let mut p = start(home.path(), false, &["--budget", "1000000000000000"]);
    quiet(&mut p, "int ticks = 7;");
    quiet(&mut p, "void spin(void) { for (;;) ticks++; }");
    p.send_line(format!("%load {}", file.display())).unwrap();
    p.expect("\n").expect("line accepted");
    // Whether it lands in clang or in the loop, Ctrl-C ends `spin();` and
    // the load stops there.
    std::thread::sleep(Duration::from_millis(300));
    p.send(ControlCode::EndOfText).unwrap();
    let stopped = p.expect("bpf> ").expect("prompt after the stopped load");
    let stopped = strip_escapes(&String::from_utf8_lossy(stopped.before()));
    assert!(
        stopped.contains(&format!(
            "%load: stopped by Ctrl-C before {}:2",
            file.display()
        )),
        "{stopped}"
    );
    check(&mut p, "ticks", "(int) 7");
    quit_with_ctrl_d(p);
}

#[test]
fn ctrl_c_cancels_the_input_being_typed() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false, &[]);
    p.send_line("int unfinished(void) {").unwrap();
    p.expect("...> ").unwrap();
    p.send(ControlCode::EndOfText).unwrap();
    p.expect("bpf> ")
        .expect("Ctrl-C returns to the first prompt");
    check(&mut p, "6 * 7", "(int) 42");
    // Nothing of the cancelled input was defined.
    check(&mut p, "unfinished", "undeclared identifier 'unfinished'");
    quit_with_ctrl_d(p);
}

#[test]
fn every_meta_command_works_at_the_prompt() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false, &[]);
    let help = check(&mut p, "%help", "%cflags");
    for command in [
        "%help",
        "%quit",
        "%undo [N]",
        "%reset",
        "%symbols",
        "%disasm NAME",
        "%graph",
        "%time",
        "%save FILE",
        "%load FILE",
    ] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }

    quiet(&mut p, "int add1(int x) { return x + 1; }");
    quiet(&mut p, "int g = 5;");
    let symbols = check(&mut p, "%symbols", "defined by");
    let symbols = symbols + &check(&mut p, "%symbols", "g ");
    assert!(
        symbols.contains("add1") && symbols.contains("function"),
        "{symbols}"
    );
    assert!(
        symbols.contains("input 1") && symbols.contains("input 2"),
        "{symbols}"
    );
    assert!(!symbols.contains("__repl_"), "{symbols}");

    // llvm-objdump's syntax, with the source line interleaved.
    let listing = check(&mut p, "%disasm add1", "exit");
    assert!(listing.contains("<add1>:"), "{listing}");
    assert!(
        listing.contains("; int add1(int x) { return x + 1; }"),
        "{listing}"
    );
    assert!(listing.contains("w0 += 0x1"), "{listing}");

    let graph = check(&mut p, "%graph add1", "after fixup");
    assert!(graph.contains("before fixup"), "{graph}");
    assert!(graph.contains("symbol add1"), "{graph}");

    check(&mut p, "%time on", "times are on");
    check(&mut p, "add1(g)", "compile ");
    check(&mut p, "%time off", "times are off");

    // %undo forgets `g`; `add1` stays. The inspection `add1(g)` changed
    // nothing, so it is not one of the two inputs undone.
    quiet(&mut p, "g = 40;");
    let undone = check(&mut p, "%undo 2", "undid input 4: g = 40;");
    assert!(!undone.contains("add1(g)"), "{undone}");
    assert!(undone.contains("undid input 2: int g = 5;"), "{undone}");
    check(&mut p, "g", "undeclared identifier 'g'");
    check(&mut p, "add1(1)", "(int) 2");

    // %cflags adds flags to later inputs, keeps the runtime's headers working.
    check(&mut p, "%cflags -DSTEP=10", "extra clang flags: -DSTEP=10");
    check(&mut p, "add1(STEP)", "(int) 11");
    quiet(&mut p, "#include <stdio.h>");
    check(&mut p, "printf(\"%d\\n\", STEP)", "10");
    check(&mut p, "%cflags -fno-such-flag", "is not allowed");
    check(&mut p, "%cflags -fplugin=x.so", "loads host code");
    check(&mut p, "%cflags", "extra clang flags: -DSTEP=10");

    // %save writes a file that %load replays into a fresh session.
    let saved = home.path().join("saved.c");
    let saved_s = saved.display().to_string();
    check(&mut p, &format!("%save {saved_s}"), "saved ");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("int add1(int x) { return x + 1; }"), "{text}");
    assert!(text.contains("%cflags -DSTEP=10"), "{text}");
    check(&mut p, "%cflags --clear", "extra clang flags cleared");
    check(&mut p, "%reset", "session reset");
    check(&mut p, "add1(1)", "undeclared function 'add1'");
    let loaded = check(&mut p, &format!("%load {saved_s}"), "10");
    assert!(loaded.contains("(int) 11"), "{loaded}");
    check(&mut p, "add1(STEP)", "(int) 11");

    check(&mut p, "%symbl", "did you mean %symbols?");
    p.send_line("%quit").unwrap();
    p.expect(Eof).expect("%quit ends the program");
}

#[test]
fn history_persists_across_sessions() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false, &[]);
    p.send_line("int h(int x) {").unwrap();
    p.expect("...> ").unwrap();
    ask(&mut p, "return x * 3; }");
    quit_with_ctrl_d(p);
    let file = home.path().join("bpf-repl").join("history");
    let history = std::fs::read_to_string(&file).expect("history file written");
    assert!(history.contains("return x * 3; }"), "{history}");

    // Up-arrow in a new session brings the whole function back.
    let mut p = start(home.path(), false, &[]);
    p.send("\x1b[A").unwrap();
    p.expect("return x * 3; }")
        .expect("Up recalls the last input");
    ask(&mut p, "");
    check(&mut p, "h(14)", "(int) 42");
    quit_with_ctrl_d(p);
}

#[test]
fn input_is_coloured_unless_no_color_is_set() {
    let home = tempfile::tempdir().unwrap();
    let keyword = "\x1b[35mint\x1b[0m";
    let mut p = start(home.path(), true, &[]);
    let echoed = echo(&mut p, "int coloured = 1;");
    assert!(echoed.contains(keyword), "{echoed:?}");
    quit_with_ctrl_d(p);

    let mut p = start(home.path(), false, &[]);
    let echoed = echo(&mut p, "int plain = 1;");
    assert!(!echoed.contains(keyword), "{echoed:?}");
    assert!(echoed.contains("int plain = 1;"), "{echoed:?}");
    quit_with_ctrl_d(p);
}

/// Engine bug (engine.rs `retry` looks for clang's "incomplete type 'void'",
/// but clang 19 says "incomplete type 'typeof ((f()))' (aka 'void')"): a
/// void expression typed without `;` fails to compile instead of running.
#[test]
fn a_void_call_without_a_semicolon_runs() {
    let home = tempfile::tempdir().unwrap();
    let mut p = start(home.path(), false, &[]);
    quiet(&mut p, "int calls = 0;");
    quiet(&mut p, "void bump(void) { calls++; }");
    quiet(&mut p, "bump()");
    check(&mut p, "calls", "(int) 1");
    quit_with_ctrl_d(p);
}
