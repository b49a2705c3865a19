//! The `bpf-repl` command line: interactive use, replaying files and
//! standard input, and checking or blessing transcripts.

use crate::engine::{Repl, ReplOptions};
use crate::{replay, transcript};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "bpf-repl",
    version,
    about = "An interactive C REPL: each input is compiled by clang for BPF, linked into the \
             session by our JIT linker and run by our BPF VM"
)]
pub struct Args {
    /// C files to run as a sequence of inputs (no prompt); `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Extra flags for clang, e.g. --cflags "-DN=3 -Wall" (may be repeated).
    #[arg(long, allow_hyphen_values = true, value_name = "FLAGS")]
    pub cflags: Vec<String>,
    /// Instructions one input may execute before it is stopped.
    #[arg(long, default_value_t = ReplOptions::default().budget)]
    pub budget: u64,
    /// Stack bytes per BPF call frame (clang is told the same).
    #[arg(long, default_value_t = ReplOptions::default().frame_size)]
    pub stack_size: usize,
    /// Nested BPF calls allowed (recursion depth).
    #[arg(long, value_name = "N", default_value_t = ReplOptions::default().max_call_depth)]
    pub max_call_depth: usize,
    /// Bytes of VM memory (regions plus the undo log of changed pages);
    /// also the largest object or input file read.
    #[arg(long, value_name = "BYTES", default_value_t = ReplOptions::default().memory_limit)]
    pub memory_limit: usize,
    /// Seconds one clang run may take before it is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = ReplOptions::default().compile_timeout.as_secs_f64())]
    pub compile_timeout: f64,
    /// Only what plain BPF runs: floating point, more than five arguments,
    /// variadic definitions, struct returns, VLAs... are refused by name
    /// (`%strict off` at the prompt lifts it).
    #[arg(long)]
    pub strict_bpf: bool,
    /// Do not compile in the undefined-behaviour checks (signed overflow,
    /// division by zero, bad shifts, NULL, out-of-bounds indexes...).
    #[arg(long)]
    pub no_ub_checks: bool,
    /// What runs the code: `interp` (the interpreter), `jit` (native code
    /// from Cranelift), `auto` (interpret first, compile what is hot; the
    /// default where the host supports the JIT). `%engine` changes it.
    #[arg(long, value_name = "ENGINE", default_value_t = bpf_jit::EngineKind::default_for_host())]
    pub engine: bpf_jit::EngineKind,
    /// Memcheck: check every load and store into the heap against its
    /// blocks and into globals against their bounds (use after free,
    /// overflows), reported with where the block was allocated and freed.
    /// `off` for speed; fixed for the session (`%memcheck` shows it).
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
    pub memcheck: String,
    /// Bytes of freed heap blocks kept from reuse under memcheck, so a use
    /// after free finds its block still freed.
    #[arg(long, value_name = "BYTES", default_value_t = bpf_runtime::DEFAULT_QUARANTINE)]
    pub quarantine: usize,
    /// The C program's standard input (scanf, getchar, fgets(stdin)...),
    /// read on across inputs. Without it the program's stdin is empty:
    /// the REPL's own standard input carries the inputs.
    #[arg(long, value_name = "FILE", help_heading = "C programs")]
    pub stdin: Option<PathBuf>,
    /// Let the program's fopen, remove and rename use the files in DIR
    /// (names relative to it; absolute paths, `..` and symbolic links are
    /// refused). Without it, the program has no files.
    #[arg(long, value_name = "DIR", help_heading = "C programs")]
    pub fs: Option<PathBuf>,
    /// time(), clock() and friends start at 2024-01-01 00:00:00 UTC and
    /// advance one microsecond per read; dates are in UTC.
    #[arg(long, help_heading = "C programs")]
    pub deterministic_time: bool,
    /// Replay transcripts and show a diff where the output differs (exit 1).
    #[arg(long, conflicts_with = "bless")]
    pub check: bool,
    /// Replay transcripts and write the actual output into them.
    #[arg(long)]
    pub bless: bool,
    /// Seed of the deterministic thread scheduler (same seed, same interleaving).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub sched_seed: u64,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args = Args::parse();
    clean_up_on_termination();
    match run(args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("bpf-repl: {msg}");
            ExitCode::from(2)
        }
    }
}

/// On SIGTERM or SIGHUP, removes the scratch directories before the
/// process ends (clang children die with it by their parent-death signal).
fn clean_up_on_termination() {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            crate::clang::remove_scratch_dirs();
            std::process::exit(128 + signal);
        }
    });
}

fn options(args: &Args) -> Result<ReplOptions, String> {
    let cflags: Vec<String> = args
        .cflags
        .iter()
        .flat_map(|f| f.split_whitespace().map(str::to_string))
        .collect();
    crate::clang::flags::check(&cflags).map_err(|e| format!("--cflags: {e}"))?;
    let config = bpf_vm::VmConfig {
        frame_size: args.stack_size,
        max_call_depth: args.max_call_depth,
        ..bpf_vm::VmConfig::default()
    };
    config
        .check()
        .map_err(|e| format!("--stack-size/--max-call-depth: {e}"))?;
    if !(args.compile_timeout > 0.0 && args.compile_timeout <= 86_400.0) {
        return Err(format!(
            "--compile-timeout {} is not a number of seconds between 0 and 86400",
            args.compile_timeout
        ));
    }
    Ok(ReplOptions {
        cflags,
        budget: args.budget,
        frame_size: args.stack_size,
        max_call_depth: args.max_call_depth,
        memory_limit: args.memory_limit,
        compile_timeout: std::time::Duration::from_secs_f64(args.compile_timeout),
        color: false,
        strict: args.strict_bpf,
        ub_checks: !args.no_ub_checks,
        engine: args.engine,
        memcheck: args.memcheck == "on",
        quarantine: args.quarantine,
        stdin: args.stdin.clone(),
        fs: args.fs.clone(),
        deterministic_time: args.deterministic_time,
    })
}

fn run(args: Args) -> Result<ExitCode, String> {
    let options = options(&args)?;
    if args.check || args.bless {
        if args.files.is_empty() {
            return Err("--check and --bless need transcript files".to_string());
        }
        return check_or_bless(&args.files, &options, args.bless);
    }
    let mut repl = Repl::open(&options)?;
    let vm = repl.session_mut().vm_mut();
    vm.set_sched_config(bpf_vm::threads::SchedConfig {
        seed: args.sched_seed,
        ..vm.sched_config()
    });
    if let Some(note) = repl.take_engine_note() {
        eprintln!("bpf-repl: note: {note}");
    }
    if !args.files.is_empty() {
        let mut failed = false;
        for path in &args.files {
            let (text, name) = read_source(path, options.memory_limit)?;
            failed |= replay_plain(&mut repl, &text, &name)?;
        }
        return Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    if std::io::stdin().is_terminal() {
        crate::interactive::run(repl)
    } else {
        let (text, name) = read_source(&PathBuf::from("-"), options.memory_limit)?;
        let failed = replay_plain(&mut repl, &text, &name)?;
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// Reads a file to replay (`-`: standard input), at most `--memory-limit`
/// bytes; devices are refused.
fn read_source(path: &std::path::Path, limit: usize) -> Result<(String, String), String> {
    let (bytes, name) = if path.as_os_str() == "-" {
        let bytes = bpf_vm::files::read_at_most(
            std::io::stdin(),
            limit,
            "standard input",
            "--memory-limit",
        )?;
        (bytes, "<stdin>".to_string())
    } else {
        let bytes = bpf_vm::files::read_bounded(path, "", limit, "--memory-limit")?;
        (bytes, path.display().to_string())
    };
    let text = String::from_utf8(bytes).map_err(|e| format!("{name} is not UTF-8 text: {e}"))?;
    Ok((text, name))
}

/// Runs every input of a file: output and values on stdout, errors on
/// stderr, in order; goes on after errors. Returns whether any failed;
/// an error writing standard output (a full disk, a closed pipe) ends the
/// replay with an error.
fn replay_plain(repl: &mut Repl, text: &str, name: &str) -> Result<bool, String> {
    let mut failed = false;
    let mut write_error = None;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let chunks = transcript::collect_inputs(repl, text);
    replay::replay_chunks(repl, &chunks, name, |_, printed| {
        failed |= printed.failed;
        if write_error.is_some() {
            return;
        }
        let mut out = stdout.lock();
        if let Err(e) = out
            .write_all(printed.stdout.as_bytes())
            .and_then(|()| out.flush())
        {
            write_error = Some(e);
        }
        let _ = stderr.lock().write_all(printed.stderr.as_bytes());
    });
    match write_error {
        Some(e) => Err(format!("cannot write to standard output: {e}")),
        None => Ok(failed),
    }
}

/// Options a transcript asks for in a `// bpf-repl-options: ...` line
/// (e.g. `--budget 1000000`), on top of the command line's.
/// Relative `--stdin`/`--fs` paths are taken from the transcript's directory.
fn transcript_options(
    text: &str,
    base: &ReplOptions,
    dir: &std::path::Path,
) -> Result<ReplOptions, String> {
    let mut words = vec!["bpf-repl".to_string()];
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix(transcript::OPTIONS_MARK) {
            words.extend(rest.split_whitespace().map(str::to_string));
        }
    }
    if words.len() == 1 {
        return Ok(base.clone());
    }
    let args = Args::try_parse_from(&words).map_err(|e| e.to_string())?;
    // (`options` checks the transcript's --cflags against the allowlist.)
    let mut opts = options(&args)?;
    let mut cflags = base.cflags.clone();
    cflags.extend(opts.cflags);
    opts.cflags = cflags;
    opts.stdin = opts
        .stdin
        .map(|p| dir.join(p))
        .or_else(|| base.stdin.clone());
    opts.fs = opts.fs.map(|p| dir.join(p)).or_else(|| base.fs.clone());
    opts.deterministic_time |= base.deterministic_time;
    opts.strict |= base.strict;
    opts.ub_checks &= base.ub_checks;
    Ok(opts)
}

/// Most extra replays `--bless` makes for line numbers to settle.
const BLESS_ROUNDS: usize = 3;

fn check_or_bless(
    files: &[PathBuf],
    options: &ReplOptions,
    bless: bool,
) -> Result<ExitCode, String> {
    let mut mismatches = 0;
    for path in files {
        let (text, _) = read_source(path, options.memory_limit)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let options = transcript_options(
            &text,
            options,
            path.parent().unwrap_or(std::path::Path::new(".")),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let replay = |text: &str| -> Result<String, String> {
            let mut repl = Repl::open(&options)?;
            Ok(replay::replay(&mut repl, text, &name).0)
        };
        let actual = replay(&text)?;
        if bless {
            // Expectations added above an input move its line number, which
            // messages may quote: replay until the file reproduces itself.
            let mut blessed = actual;
            for _ in 0..BLESS_ROUNDS {
                let again = replay(&blessed)?;
                if again == blessed {
                    break;
                }
                blessed = again;
            }
            if blessed != text {
                crate::meta::write_atomically(path, blessed.as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                writeln!(std::io::stdout(), "blessed {}", path.display())
                    .map_err(|e| format!("cannot write to standard output: {e}"))?;
            }
        } else {
            let d = transcript::diff(&text, &actual, &path.display().to_string());
            if !d.is_empty() {
                mismatches += 1;
                write!(std::io::stdout(), "{d}")
                    .map_err(|e| format!("cannot write to standard output: {e}"))?;
            }
        }
    }
    if !bless {
        writeln!(
            std::io::stdout(),
            "{} passed, {} failed",
            files.len() - mismatches,
            mismatches
        )
        .map_err(|e| format!("cannot write to standard output: {e}"))?;
    }
    Ok(if mismatches > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
