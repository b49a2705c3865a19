//! The external compiler: finding clang, compiling one translation unit
//! to a BPF object, and cleaning up its diagnostics.

use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest clang whose BPF backend has `-mcpu=v4`.
pub const MIN_CLANG: u32 = 18;
/// The newest clang-N looked for on PATH.
const MAX_CLANG: u32 = 40;

/// What to tell a user who has no usable clang.
pub const INSTALL_HINT: &str =
    "install it with `apt-get update && apt-get install -y clang-19 llvm-19` \
     (or set BPF_REPL_CLANG to a clang >= 18)";

/// Why no compiler could be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClangError {
    NotFound,
    TooOld { path: PathBuf, version: u32 },
    Unusable { path: PathBuf, reason: String },
}

impl fmt::Display for ClangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClangError::NotFound => write!(f, "clang-19 not found: {INSTALL_HINT}"),
            ClangError::TooOld { path, version } => write!(
                f,
                "{} is clang {version}, but BPF ISA v4 needs clang {MIN_CLANG} or newer: {INSTALL_HINT}",
                path.display()
            ),
            ClangError::Unusable { path, reason } => {
                write!(f, "cannot run {}: {reason}: {INSTALL_HINT}", path.display())
            }
        }
    }
}

impl std::error::Error for ClangError {}

/// Finds clang: `$BPF_REPL_CLANG` if set, else the newest `clang-N`
/// (N >= 18) on PATH, else a plain `clang` that is new enough.
pub fn find_clang() -> Result<PathBuf, ClangError> {
    if let Some(path) = std::env::var_os("BPF_REPL_CLANG").filter(|p| !p.is_empty()) {
        let path = which::which(&path).map_err(|e| ClangError::Unusable {
            path: PathBuf::from(&path),
            reason: format!("BPF_REPL_CLANG: {e}"),
        })?;
        return Ok(path);
    }
    for n in (MIN_CLANG..=MAX_CLANG).rev() {
        if let Ok(path) = which::which(format!("clang-{n}")) {
            return Ok(path);
        }
    }
    let path = which::which("clang").map_err(|_| ClangError::NotFound)?;
    let version = clang_version(&path)?;
    if version < MIN_CLANG {
        return Err(ClangError::TooOld { path, version });
    }
    Ok(path)
}

/// The major version `clang --version` reports.
pub fn clang_version(path: &Path) -> Result<u32, ClangError> {
    let out = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| ClangError::Unusable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("version ")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ClangError::Unusable {
            path: path.to_path_buf(),
            reason: "cannot read its version".to_string(),
        })
}

/// The flags every BPF compile uses: ISA v4 (signed division, sign
/// extension, gotol), optimisation, debug info for value types and
/// backtraces, interposable globals (redefinition), no library calls the
/// backend cannot lower.
pub fn base_flags() -> Vec<String> {
    [
        "-target",
        "bpf",
        "-mcpu=v4",
        "-O2",
        "-g",
        // Full type descriptions even where only a pointer is used, so
        // every value the REPL reads back has a complete type.
        "-fstandalone-debug",
        // Source paths in debug info exactly as `#line` names them.
        "-fdebug-compilation-dir=.",
        // Keep loops that compute sums as loops: replacing their exit
        // values needs 128-bit multiplication (__multi3), which the BPF
        // backend cannot call.
        "-mllvm",
        "-replexitval=never",
        // Every global definition may be replaced by a later input, so
        // clang must treat it as interposable: no inlining of one global
        // function into another, no folding of a global's initial value.
        // Without this, inputs compiled together (a replayed file) would
        // keep an old body after a redefinition.
        "-fPIC",
        "-fsemantic-interposition",
        "-fno-builtin",
        "-ffreestanding",
        "-fcommon",
        "-std=gnu17",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A compiler bound to a scratch directory.
pub struct Compiler {
    clang: PathBuf,
    dir: tempfile::TempDir,
    flags: Vec<String>,
    color: bool,
    /// A clang that has done its start-up once (None: start clang per compile).
    server: Option<crate::forkserver::ForkServer>,
}

/// A successful compile: the object and any warnings.
pub struct Compiled {
    pub object: Vec<u8>,
    pub warnings: String,
}

/// A failed compile: clang's diagnostics, cleaned up for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// What the user sees: repeats and generated-code noise removed.
    pub diagnostics: String,
    /// Everything clang said, for deciding how to retry.
    pub raw: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.diagnostics.trim_end())
    }
}

impl Compiler {
    /// A compiler using `clang` with the base flags plus `extra`.
    pub fn new(clang: PathBuf, extra: &[String]) -> std::io::Result<Compiler> {
        let mut flags = base_flags();
        flags.extend(extra.iter().cloned());
        let dir = tempfile::Builder::new().prefix("bpf-repl-").tempdir()?;
        let server = crate::forkserver::ForkServer::start(&clang, dir.path());
        Ok(Compiler {
            clang,
            dir,
            flags,
            color: false,
            server,
        })
    }

    /// The clang binary in use.
    pub fn clang(&self) -> &Path {
        &self.clang
    }

    /// All flags passed to clang (base flags, then user flags).
    pub fn flags(&self) -> &[String] {
        &self.flags
    }

    /// Replaces the user flags (after the base flags).
    pub fn set_extra_flags(&mut self, extra: &[String]) {
        self.flags = base_flags();
        self.flags.extend(extra.iter().cloned());
    }

    /// Asks clang for coloured diagnostics.
    pub fn set_color(&mut self, color: bool) {
        self.color = color;
    }

    /// Whether compiles go through the fork server.
    pub fn uses_fork_server(&self) -> bool {
        self.server.is_some()
    }

    /// Compiles one translation unit to a BPF object.
    pub fn compile(&mut self, source: &str) -> Result<Compiled, CompileError> {
        let src = self.dir.path().join("input.c");
        let obj = self.dir.path().join("input.o");
        let log = self.dir.path().join("clang.log");
        let io_err = |e: std::io::Error| CompileError {
            diagnostics: format!("error: cannot run {}: {e}", self.clang.display()),
            raw: String::new(),
        };
        std::fs::write(&src, source).map_err(io_err)?;
        let _ = std::fs::remove_file(&obj);
        let mut args: Vec<String> = vec![self.clang.display().to_string()];
        args.extend(self.flags.iter().cloned());
        args.push(
            if self.color {
                "-fcolor-diagnostics"
            } else {
                "-fno-color-diagnostics"
            }
            .to_string(),
        );
        args.extend(["-c".to_string(), src.display().to_string()]);
        args.extend(["-o".to_string(), obj.display().to_string()]);
        let served = self.server.as_mut().map(|s| s.run(&args, &log));
        let (success, stderr) = match served {
            Some(Ok(status)) => (status == 0, std::fs::read(&log).unwrap_or_default()),
            other => {
                if other.is_some() {
                    self.server = None; // broken: from now on, one clang per compile
                }
                let out = Command::new(&self.clang)
                    .args(&args[1..])
                    .stdin(std::process::Stdio::null())
                    .process_group(0)
                    .output()
                    .map_err(io_err)?;
                (out.status.success(), out.stderr)
            }
        };
        let raw = String::from_utf8_lossy(&stderr).into_owned();
        let stderr = clean_diagnostics(&raw);
        if !success {
            return Err(CompileError {
                diagnostics: if stderr.trim().is_empty() {
                    // Only generated code was blamed: show it all rather than nothing.
                    if raw.trim().is_empty() {
                        "error: clang failed without a message".to_string()
                    } else {
                        raw.clone()
                    }
                } else {
                    stderr
                },
                raw,
            });
        }
        let object = std::fs::read(&obj).map_err(io_err)?;
        Ok(Compiled {
            object,
            warnings: stderr,
        })
    }
}

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
    let line = crate::highlight::strip(line);
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
            "{place}: error: BPF functions return at most 8 bytes in a register; this value \
             is larger (an __int128 or a struct): return it through a pointer argument\n"
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
        "{place}: error: too many arguments in call to '{callee}': BPF passes at most 5 arguments \
         in registers (printf-style functions take the format and at most 4 values)\n"
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
        .map(|l| crate::highlight::strip(l))
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

/// Why the BPF backend cannot call the compiler runtime routine `name`,
/// and what to do instead.
fn unsupported_routine(name: &str) -> String {
    let float_suffix = ["sf", "df", "tf", "xf"]
        .iter()
        .any(|s| name.trim_end_matches(char::is_numeric).ends_with(s));
    if float_suffix || name.starts_with("__float") || name.starts_with("__fix") {
        format!(
            "floating-point arithmetic at run time needs '{name}', which BPF code cannot call: \
             BPF has no floating-point instructions (floating-point constants, variables and \
             values clang computes at compile time, like 1.0 / 3, still work)"
        )
    } else if name.ends_with("ti3") || name.ends_with("ti2") || name.ends_with("ti4") {
        format!(
            "this 128-bit integer operation needs '{name}', which BPF code cannot call: \
             BPF has 64-bit multiply and divide only (128-bit add, subtract, shifts and \
             compares work)"
        )
    } else if matches!(name, "memcpy" | "memmove" | "memset") {
        format!(
            "this copy or fill is too large for clang to expand inline and BPF code cannot \
             call the builtin '{name}': call {name}() from <string.h> explicitly"
        )
    } else {
        format!("this operation needs the compiler runtime routine '{name}', which BPF code cannot call")
    }
}

fn starts_diagnostic(line: &str) -> bool {
    // `<file>:<line>:<col>: <kind>:` where kind is error/warning/note/fatal error.
    let stripped = crate::highlight::strip(line);
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
            "t.c:16:1: error: too many arguments in call to 'printf': BPF passes at most 5 arguments \
             in registers (printf-style functions take the format and at most 4 values)\n"
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
            .starts_with("a.c:3:5: error: BPF functions return at most 8 bytes"));
    }

    #[test]
    fn generated_code_diagnostics_are_hidden() {
        let raw = "<repl>:3:1: warning: something internal\n\
                   input 2:1:5: error: expected ';'\n";
        assert_eq!(clean_diagnostics(raw), "input 2:1:5: error: expected ';'\n");
    }
}
