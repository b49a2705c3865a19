//! The client side of the clang fork server (see `forkserver/forkserver.c`):
//! one clang process that has done its start-up once and forks a child per
//! compile, which saves most of a small compile's time.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The preload library, built by build.rs (empty when it could not be built).
const LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/forkserver.so"));
const HANDSHAKE: &str = "bpf-repl-forkserver 1";

/// A running fork server.
pub struct ForkServer {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    ready: bool,
}

impl ForkServer {
    /// Starts a server for `clang`, writing the preload library into `dir`.
    /// `None` when the library is unavailable, disabled with
    /// `BPF_REPL_NO_FORKSERVER=1`, or the process cannot start.
    pub fn start(clang: &Path, dir: &Path) -> Option<ForkServer> {
        if LIBRARY.is_empty()
            || std::env::var_os("BPF_REPL_NO_FORKSERVER").is_some_and(|v| v == "1")
        {
            return None;
        }
        let lib: PathBuf = dir.join("forkserver.so");
        std::fs::write(&lib, LIBRARY).ok()?;
        let mut child = Command::new(clang)
            // If the preload does not take, this prints a version line, not the handshake.
            .args(["-cc1", "-version"])
            .env("LD_PRELOAD", &lib)
            .env("BPF_REPL_FORKSERVER", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: Ctrl-C at the terminal must not kill it.
            .process_group(0)
            .spawn()
            .ok()?;
        let input = child.stdin.take()?;
        let output = BufReader::new(child.stdout.take()?);
        Some(ForkServer {
            child,
            input,
            output,
            ready: false,
        })
    }

    /// Runs clang's main with `args` (argv[0] first) in a forked child whose
    /// stdout and stderr go to `log`; returns its exit status. An error
    /// means the server is unusable and should be dropped.
    pub fn run(&mut self, args: &[String], log: &Path) -> std::io::Result<i32> {
        let bad = |what: &str| std::io::Error::other(what.to_string());
        if !self.ready {
            let mut line = String::new();
            self.output.read_line(&mut line)?;
            if line.trim_end() != HANDSHAKE {
                return Err(bad("clang did not start as a fork server"));
            }
            self.ready = true;
        }
        let log = log.to_str().ok_or_else(|| bad("non-UTF-8 path"))?;
        if args.iter().any(|a| a.contains('\n')) || log.contains('\n') {
            return Err(bad("argument with a newline"));
        }
        let mut request = format!("{}\n", args.len());
        for a in args {
            request.push_str(a);
            request.push('\n');
        }
        request.push_str(log);
        request.push('\n');
        self.input.write_all(request.as_bytes())?;
        self.input.flush()?;
        let mut line = String::new();
        if self.output.read_line(&mut line)? == 0 {
            return Err(bad("fork server exited"));
        }
        line.trim()
            .parse()
            .map_err(|_| bad("bad reply from fork server"))
    }
}

impl Drop for ForkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
