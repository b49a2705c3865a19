//! Running clang: the flags that make it emit bitcode for the IR stage,
//! and compiling a C file to an object ([`compile`]). A clang crash is
//! reported as one line, never as its 70-line dump, and leaves no
//! reproducer files behind unless asked for (`BPF_CC_CLANG_CRASH_REPORT=1`).

use crate::{lower, lower_to_asm, lower_to_ir, LowerError, LowerOptions, Mode, OptLevel, UbChecks};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Environment variable naming the clang to run (default `clang-19`).
pub const CLANG_ENV: &str = "BPF_REPL_CLANG";
/// Set to 1 to see clang's own report (and reproducer files) when it crashes.
pub const CRASH_REPORT_ENV: &str = "BPF_CC_CLANG_CRASH_REPORT";

/// The UB checks of docs/abi.md, in clang's trap mode.
const SANITIZERS: &str = "-fsanitize=signed-integer-overflow,integer-divide-by-zero,shift,null,bounds,vla-bound,float-cast-overflow,builtin,unreachable,return,alignment";

/// Functions LLVM's library-call simplifier may introduce (`fprintf(f,
/// "text")` -> `fwrite`) that the runtime does not provide.
const NOT_IN_RUNTIME: &[&str] = &["fwrite", "stpcpy"];

/// The clang flags that make bitcode for [`lower`] from C using the
/// runtime's headers: BPF v4, `-O2` front end with LLVM's optimisation
/// left to the IR stage, debug info, and the mode's rules. Add `-c file -o
/// out` (or the REPL's equivalent); the output is bitcode.
///
/// Full mode compiles hosted C (so `main` returns 0 when it falls off its
/// end) with builtins; strict mode keeps the plain-BPF flags of
/// `--print-cflags` plus `-D__BPF_REPL_STRICT__`, so the headers bind
/// variadic runtime functions to their register-ABI variants.
pub fn clang_flags(mode: Mode, ub: UbChecks) -> Vec<OsString> {
    let mut f: Vec<OsString> = [
        "-target",
        "bpf",
        "-mcpu=v4",
        "-O2",
        "-g",
        "-emit-llvm",
        "-Xclang",
        "-disable-llvm-optzns",
        "-fno-delete-null-pointer-checks",
        "-nostdlibinc",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    f.push("-isystem".into());
    f.push(bpf_runtime::include_dir().into_os_string());
    if std::env::var_os(CRASH_REPORT_ENV).is_none_or(|v| v.is_empty() || v == "0") {
        f.push("-fno-crash-diagnostics".into());
    }
    match mode {
        Mode::Strict => {
            for a in ["-D__BPF_REPL_STRICT__", "-ffreestanding", "-fno-builtin"] {
                f.push(a.into());
            }
        }
        // `__builtin_va_arg` reads by-value struct arguments (docs/abi.md).
        Mode::Full => {
            f.push("-include".into());
            f.push("__bpf_va_arg.h".into());
            // Library calls the optimizer could invent that the runtime lacks.
            for name in NOT_IN_RUNTIME {
                f.push(format!("-fno-builtin-{name}").into());
            }
        }
    }
    if ub == UbChecks::On {
        f.push(SANITIZERS.into());
        f.push("-fsanitize-trap=all".into());
    }
    f
}

/// The clang `bpf-cc` runs: `$BPF_REPL_CLANG`, else `clang-19`.
pub fn clang_path() -> PathBuf {
    std::env::var_os(CLANG_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("clang-19"))
}

/// What [`compile`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Emit {
    /// A BPF ELF relocatable object.
    #[default]
    Object,
    /// BPF assembly text (`-S`).
    Assembly,
    /// The lowered LLVM IR as text (`-S -emit-llvm`).
    Ir,
}

/// How [`compile`] builds one file.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    pub lower: LowerOptions,
    pub emit: Emit,
    /// Extra clang flags (`-I`, `-D`, `-std=`, `-W...`), already checked.
    pub clang_args: Vec<OsString>,
}

/// Why [`compile`] produced no object.
#[derive(Debug)]
pub enum CompileError {
    /// clang could not be started.
    NoClang { clang: PathBuf, error: String },
    /// clang reported errors (its diagnostics, as it printed them).
    Clang { stderr: String },
    /// clang crashed on the input.
    ClangCrashed { input: String },
    /// The IR stage or the backend refused the program.
    Lower(LowerError),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::NoClang { clang, error } => write!(
                f,
                "cannot run {}: {error} (install clang-19, e.g. with scripts/setup.sh, or set {CLANG_ENV})",
                clang.display()
            ),
            CompileError::Clang { stderr } => f.write_str(stderr.trim_end()),
            CompileError::ClangCrashed { input } => write!(
                f,
                "error: clang crashed while compiling {input}; run again with {CRASH_REPORT_ENV}=1 to see its report and keep its reproducer files"
            ),
            CompileError::Lower(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CompileError {}

/// Compiles C source file `input` to a BPF object (or what `options.emit`
/// asks for) through the IR stage. Returns it with clang's warnings
/// (empty when there were none).
pub fn compile(input: &Path, options: &CompileOptions) -> Result<(Vec<u8>, String), CompileError> {
    let bitcode_and_warnings = run_clang(input, options)?;
    let (bitcode, warnings) = bitcode_and_warnings;
    let mut lower_options = options.lower.clone();
    lower_options.name = input.display().to_string();
    let out = match options.emit {
        Emit::Object => lower(&bitcode, &lower_options),
        Emit::Assembly => lower_to_asm(&bitcode, &lower_options).map(String::into_bytes),
        Emit::Ir => lower_to_ir(&bitcode, &lower_options).map(String::into_bytes),
    };
    Ok((out.map_err(CompileError::Lower)?, warnings))
}

fn run_clang(input: &Path, options: &CompileOptions) -> Result<(Vec<u8>, String), CompileError> {
    let clang = clang_path();
    let mut args = clang_flags(options.lower.mode, options.lower.ub_checks);
    // The optimisation level the front end plans for matches the pipeline.
    for a in args.iter_mut() {
        if a == "-O2" {
            *a = options.lower.opt.flag().into();
        }
    }
    args.extend(options.clang_args.iter().cloned());
    args.extend([
        "-c".into(),
        input.as_os_str().to_owned(),
        "-o".into(),
        "-".into(),
    ]);
    let out = Command::new(&clang)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CompileError::NoClang {
            clang: clang.clone(),
            error: e.to_string(),
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if crashed(&out.status, &stderr) {
        if std::env::var_os(CRASH_REPORT_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
            return Err(CompileError::Clang { stderr });
        }
        return Err(CompileError::ClangCrashed {
            input: input.display().to_string(),
        });
    }
    if !out.status.success() {
        return Err(CompileError::Clang { stderr });
    }
    Ok((out.stdout, stderr))
}

/// True if clang died of a signal or reported an internal crash.
fn crashed(status: &std::process::ExitStatus, stderr: &str) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal().is_some() {
            return true;
        }
    }
    stderr.contains("PLEASE submit a bug report")
        || stderr.contains("Stack dump:")
        || stderr.contains("command failed due to signal")
        || stderr.contains("fatal error: error in backend")
}

/// Makes [`OptLevel`] usable by the driver.
pub fn opt_level(s: &str) -> Option<OptLevel> {
    OptLevel::parse(s)
}
