//! clang's diagnostics as the user should read them: repeats and
//! generated-code noise dropped, the BPF backend's errors said in C terms.
//! Only kernel-style units meet the backend in clang (the REPL's own C
//! goes through the IR stage, which reports in C terms itself), so those
//! errors are said as what kernel BPF cannot do. Presentation only: no
//! decision of the REPL depends on these texts.

/// Splits clang's output into diagnostics (a `file:line:col: kind:` line
/// with the source and caret lines after it), drops exact repeats (the REPL
/// compiles an expression twice, in `__typeof__` and in the assignment) and
/// diagnostics inside REPL-generated code, and drops the `N errors
/// generated.` summary.
pub fn clean_diagnostics(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut blocks: Vec<String> = Vec::new();
    let mut skipping = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some(rewritten) = rewrite_backend_error(line, &lines[i + 1..]) {
            // The source lines after it show generated code: drop them.
            blocks.push(rewritten);
            skipping = true;
            continue;
        }
        if skipping && !starts_diagnostic(line) {
            continue;
        }
        skipping = false;
        if line.ends_with(" generated.") && !line.contains(": ") {
            continue;
        }
        if starts_diagnostic(line) || blocks.is_empty() {
            blocks.push(String::new());
        }
        let b = blocks.last_mut().expect("pushed above");
        b.push_str(line);
        b.push('\n');
    }
    let mut seen = std::collections::HashSet::new();
    blocks
        .into_iter()
        .filter(|b| seen.insert(b.clone()))
        .filter(|b| !b.starts_with("<repl>") && !b.is_empty())
        .collect()
}

/// The note clang's BPF backend adds after an error it reports against
/// generated code, naming the user's place.
const LOCATION_NOTE: &str = "could not determine the original source location for ";

/// The BPF backend reports some errors against generated code (`<repl>`),
/// with the user's place in a note after them or an LLVM node dump in the
/// message; say them in C terms at the user's place. `rest` is the output
/// after `line`. Notes that only give a place become empty (dropped).
///
/// `<repl>:1:6: error: 0x...: i64 = GlobalAddress<ptr @printf> 0, t.c:16:1 too many arguments`
/// becomes `t.c:16:1: error: too many arguments in call to 'printf': ...`.
fn rewrite_backend_error(line: &str, rest: &[&str]) -> Option<String> {
    let line = crate::ansi::strip(line);
    if line.contains(LOCATION_NOTE) {
        return Some(String::new());
    }
    let (at, msg) = line.split_once(": error: ")?;
    if let Some(routine) = msg
        .strip_prefix("A call to built-in function '")
        .and_then(|m| m.strip_suffix("' is not supported."))
    {
        let place = user_place(at, rest);
        return Some(format!(
            "{place}: error: {}\n",
            unsupported_routine(routine)
        ));
    }
    if msg == "only small returns supported" {
        let place = user_place(at, rest);
        return Some(format!(
            "{place}: error: kernel BPF functions return at most 8 bytes in a register; this \
             value is larger (an __int128 or a struct): return it through a pointer argument\n"
        ));
    }
    let rest = msg.strip_suffix(" too many arguments")?;
    let callee = rest
        .split("@")
        .nth(1)
        .and_then(|r| r.split('>').next())
        .unwrap_or("a function");
    let place = rest.rsplit(", ").next().unwrap_or("");
    let place = if place.contains(':') {
        place
    } else {
        "<input>"
    };
    Some(format!(
        "{place}: error: too many arguments in call to '{callee}': kernel BPF passes at most 5 \
         arguments, in registers\n"
    ))
}

/// Where the user should look for a backend error reported at `at`: `at`
/// itself unless it is generated code, else the place the next location
/// note gives (if that is not generated code either), else `<input>`.
fn user_place(at: &str, rest: &[&str]) -> String {
    let is_user = |place: &str| !place.is_empty() && !place.starts_with("<repl>");
    if is_user(at) {
        return at.to_string();
    }
    let note = rest
        .iter()
        .map(|l| crate::ansi::strip(l))
        .take_while(|l| !l.contains(": error: "))
        .find_map(|l| {
            l.split_once(LOCATION_NOTE)
                .map(|(_, p)| p.trim().to_string())
        });
    match note {
        Some(place) if is_user(&place) => place,
        _ => "<input>".to_string(),
    }
}

/// Why kernel BPF cannot call the compiler runtime routine `name`, and
/// what to do instead.
fn unsupported_routine(name: &str) -> String {
    let float_suffix = ["sf", "df", "tf", "xf"]
        .iter()
        .any(|s| name.trim_end_matches(char::is_numeric).ends_with(s));
    if float_suffix || name.starts_with("__float") || name.starts_with("__fix") {
        format!(
            "floating-point arithmetic at run time needs '{name}', which kernel BPF cannot \
             call: it has no floating point (constants clang computes at compile time still \
             work; ordinary inputs, which define no program or map, have floating point)"
        )
    } else if name.ends_with("ti3") || name.ends_with("ti2") || name.ends_with("ti4") {
        format!(
            "this 128-bit integer operation needs '{name}', which kernel BPF cannot call: it \
             has 64-bit multiply and divide only (128-bit add, subtract, shifts and compares \
             work)"
        )
    } else if matches!(name, "memcpy" | "memmove" | "memset") {
        format!(
            "this copy or fill is too large for clang to expand inline, and kernel BPF cannot \
             call '{name}': copy or fill in smaller pieces"
        )
    } else {
        format!(
            "this operation needs the compiler runtime routine '{name}', which kernel BPF \
             cannot call"
        )
    }
}

fn starts_diagnostic(line: &str) -> bool {
    // `<file>:<line>:<col>: <kind>:` where kind is error/warning/note/fatal error.
    let stripped = crate::ansi::strip(line);
    [": error:", ": warning:", ": note:", ": fatal error:"]
        .iter()
        .any(|k| stripped.contains(k))
        && !stripped.starts_with(' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_diagnostics_are_dropped() {
        let raw = "input 1:1:1: error: use of undeclared identifier 'y'\n    1 | y\n      | ^\n\
                   input 1:1:1: error: use of undeclared identifier 'y'\n    1 | y\n      | ^\n\
                   2 errors generated.\n";
        assert_eq!(
            clean_diagnostics(raw),
            "input 1:1:1: error: use of undeclared identifier 'y'\n    1 | y\n      | ^\n"
        );
    }

    #[test]
    fn backend_argument_errors_are_said_in_c_terms() {
        let raw = "<repl>:1:6: error: 0x561f2589e580: i64 = GlobalAddress<ptr @printf> 0, t.c:16:1 too many arguments\n\
                   \x20   1 | void __repl_run_10(void) {\n\
                   \x20     |      ^\n\
                   <repl>:1:6: note: could not determine the original source location for t.c:16:1\n\
                   1 error generated.\n";
        assert_eq!(
            clean_diagnostics(raw),
            "t.c:16:1: error: too many arguments in call to 'printf': kernel BPF passes at most 5 \
             arguments, in registers\n"
        );
    }

    #[test]
    fn unsupported_runtime_routines_are_said_at_the_users_place() {
        let raw = "<repl>:1:6: error: A call to built-in function '__muldf3' is not supported.\n\
                   \x20   1 | void __repl_run_3(void) {\n\
                   \x20     |      ^\n\
                   <repl>:1:6: note: could not determine the original source location for <stdin>:7:3\n\
                   1 error generated.\n";
        let cleaned = clean_diagnostics(raw);
        assert!(
            cleaned.starts_with(
                "<stdin>:7:3: error: floating-point arithmetic at run time needs '__muldf3'"
            ),
            "{cleaned}"
        );
        assert_eq!(cleaned.lines().count(), 1, "{cleaned}");

        // In a user's function the error itself has the place; no note.
        let raw = "t.c:1:8: error: A call to built-in function '__divti3' is not supported.\n\
                   \x20   1 | __int128 f(__int128 a) {\n";
        assert!(
            clean_diagnostics(raw).starts_with("t.c:1:8: error: this 128-bit integer operation")
        );

        // A place inside generated code is not shown as the user's.
        let raw = "<repl>:1:6: error: A call to built-in function 'memcpy' is not supported.\n\
                   <repl>:1:6: note: could not determine the original source location for <repl>:1:5\n";
        assert!(clean_diagnostics(raw).starts_with("<input>: error: this copy or fill"));

        let raw = "<repl>:1:6: error: only small returns supported\n\
                   <repl>:1:6: note: could not determine the original source location for a.c:3:5\n";
        assert!(clean_diagnostics(raw)
            .starts_with("a.c:3:5: error: kernel BPF functions return at most 8 bytes"));
    }

    #[test]
    fn generated_code_diagnostics_are_hidden() {
        let raw = "<repl>:3:1: warning: something internal\n\
                   input 2:1:5: error: expected ';'\n";
        assert_eq!(clean_diagnostics(raw), "input 2:1:5: error: expected ';'\n");
    }
}
