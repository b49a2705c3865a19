//! The IR stage (`bpf_cc::lower`) on clang's bitcode, in a forked child of
//! the REPL. LLVM ends the process on a fatal error (and a bug in it may
//! crash it); in a child, that ends the child: the input fails with one
//! line and the session goes on. The child is bounded like a clang run:
//! `--compile-timeout`, Ctrl-C, `--memory-limit` on what it writes, and it
//! dies with the REPL.
//!
//! Cost: a fork of the REPL process per input. Measured with
//! `cargo bench -p bpf-repl --bench latency` (the `lower` lines): see
//! docs/architecture.md.

use super::compiler::{read_small, wait_plain};
use crate::forkserver::Stopped;
use bpf_cc::LowerOptions;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// The bounds of one lowering.
pub struct Bounds<'a> {
    pub deadline: Instant,
    /// Raised by Ctrl-C.
    pub cancel: &'a AtomicBool,
    /// Largest file the child may write (the object), in bytes.
    pub output: u64,
    /// Where the child leaves its result.
    pub scratch: &'a Path,
}

/// Why lowering produced no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The IR stage refused the program: its diagnostics, one per line,
    /// each at its place in the C source.
    Refused(String),
    /// Stopped by the deadline or Ctrl-C.
    Stopped(Stopped),
    /// The child ended without a result (an LLVM fatal error or a crash):
    /// one line saying so.
    Died(String),
}

/// First byte of the result file: an object follows, or diagnostics.
const OBJECT: u8 = b'O';
const REFUSED: u8 = b'R';

/// Lowers `bitcode` to a BPF object in a child process.
pub fn lower(bitcode: &[u8], options: &LowerOptions, bounds: &Bounds) -> Result<Vec<u8>, Failure> {
    let result = bounds.scratch.join("lowered");
    let log = bounds.scratch.join("lowered.log");
    let _ = std::fs::remove_file(&result);
    let log_file = std::fs::File::create(&log).map_err(|e| died(&format!("cannot start: {e}")))?;
    // SAFETY: the child only runs the IR stage (single-threaded: fork
    // copies only this thread; glibc's malloc is reset for the child) and
    // leaves with _exit, so no destructor or atexit handler of the REPL runs twice.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(died(&format!(
            "cannot start it: {}",
            std::io::Error::last_os_error()
        )));
    }
    if pid == 0 {
        child(bitcode, options, &result, &log_file, bounds.output);
    }
    drop(log_file);
    // Its own process group (also set in the child), so a kill reaches it
    // whichever of the two runs first.
    // SAFETY: setpgid on our own child.
    unsafe { libc::setpgid(pid, pid) };
    let status = wait_plain(pid, bounds.deadline, bounds.cancel).map_err(Failure::Stopped)?;
    let said = String::from_utf8_lossy(&read_small(&log)).into_owned();
    let _ = std::fs::remove_file(&log);
    let bytes = std::fs::read(&result).unwrap_or_default();
    let _ = std::fs::remove_file(&result);
    match (status, bytes.split_first()) {
        (0, Some((&OBJECT, object))) => Ok(object.to_vec()),
        (0, Some((&REFUSED, text))) => {
            Err(Failure::Refused(String::from_utf8_lossy(text).into_owned()))
        }
        _ => Err(ended(status, &said, bounds.output)),
    }
}

/// The child: lowers, writes the result file, and leaves without
/// unwinding into the REPL's code.
fn child(
    bitcode: &[u8],
    options: &LowerOptions,
    result: &Path,
    log: &std::fs::File,
    output_limit: u64,
) -> ! {
    use std::os::fd::AsRawFd;
    // SAFETY: plain system calls on this process; no memory is shared.
    unsafe {
        libc::setpgid(0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // LLVM's last words (its fatal-error handler prints one line) go to the log.
        libc::dup2(log.as_raw_fd(), 2);
        let rl = libc::rlimit {
            rlim_cur: output_limit,
            rlim_max: output_limit,
        };
        libc::setrlimit(libc::RLIMIT_FSIZE, &rl);
    }
    let outcome = std::panic::catch_unwind(|| bpf_cc::lower(bitcode, options));
    let (tag, body) = match outcome {
        Ok(Ok(object)) => (OBJECT, object),
        Ok(Err(e)) => (REFUSED, e.to_string().into_bytes()),
        // SAFETY: leaving the child; the panic message is in the log.
        Err(_) => unsafe { libc::_exit(101) },
    };
    let written = std::fs::File::create(result).and_then(|mut f| {
        f.write_all(&[tag])?;
        f.write_all(&body)
    });
    // SAFETY: ends the child without running the REPL's exit handlers.
    unsafe { libc::_exit(if written.is_ok() { 0 } else { 1 }) }
}

fn died(why: &str) -> Failure {
    Failure::Died(format!("error: bpf-repl's IR stage: {why}"))
}

/// What to say about a child that ended without a result.
fn ended(status: i32, said: &str, output_limit: u64) -> Failure {
    if status - 128 == libc::SIGXFSZ {
        return Failure::Died(format!(
            "error: the compiled object would be larger than {output_limit} bytes (the limit \
             is --memory-limit: a larger object cannot be loaded)"
        ));
    }
    // bpf-cc's fatal-error handler: "bpf-cc: error: LLVM stopped while compiling ...".
    if let Some(line) = said
        .lines()
        .find(|l| l.contains("LLVM stopped while compiling"))
    {
        let line = line.trim().trim_start_matches("bpf-cc: ");
        let line = line.strip_prefix("error: ").unwrap_or(line);
        return Failure::Died(format!(
            "error: {line}; the input was not compiled and the session goes on"
        ));
    }
    let how = if status > 128 {
        format!("was killed by signal {}", status - 128)
    } else {
        format!("ended with status {status}")
    };
    Failure::Died(format!(
        "error: bpf-repl's IR stage {how} while compiling this input (an internal error in \
         bpf-cc or LLVM; please report it with the input); the input was not compiled and the \
         session goes on"
    ))
}
