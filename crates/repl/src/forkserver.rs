//! The client side of the clang fork server (see `forkserver/forkserver.c`):
//! one clang process that has done its start-up once and forks a child per
//! compile, which saves most of a small compile's time. Each child runs in
//! a process group of its own, dies with the server (which dies with the
//! REPL), and can be killed on a timeout or Ctrl-C; waiting polls, so a
//! deadline and a cancel flag are honoured while clang runs.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The preload library, built by build.rs (empty when it could not be built).
const LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/forkserver.so"));
const HANDSHAKE: &str = "bpf-repl-forkserver 2";

/// Why waiting for a child ended without its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The deadline passed; the child was killed.
    TimedOut,
    /// The cancel flag was raised; the child was killed.
    Cancelled,
    /// The server broke (it should be dropped).
    Broken,
}

/// A running fork server.
pub struct ForkServer {
    child: Child,
    input: ChildStdin,
    output: LineReader,
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
        if !lib.exists() {
            std::fs::write(&lib, LIBRARY).ok()?;
        }
        let mut child = Command::new(clang)
            // If the preload does not take, this prints a version line, not the handshake.
            .args(["-cc1", "-version"])
            .env("LD_PRELOAD", &lib)
            .env("BPF_REPL_FORKSERVER", "1")
            .env("BPF_REPL_PARENT", std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group: Ctrl-C at the terminal must not kill it.
            .process_group(0)
            .spawn()
            .ok()?;
        let input = child.stdin.take()?;
        let output = LineReader::new(child.stdout.take()?);
        Some(ForkServer {
            child,
            input,
            output,
            ready: false,
        })
    }

    /// Starts clang's main with `args` (argv[0] first) in a forked child
    /// whose stdout goes to `stdout` and stderr to `stderr`, allowed to
    /// write files of at most `file_limit` bytes; returns the child's pid.
    /// An error means the server is unusable and should be dropped.
    pub fn spawn(
        &mut self,
        args: &[String],
        stdout: &Path,
        stderr: &Path,
        file_limit: u64,
    ) -> std::io::Result<i32> {
        let bad = |what: &str| std::io::Error::other(what.to_string());
        let never = AtomicBool::new(false);
        let start_up = Instant::now() + Duration::from_secs(60);
        if !self.ready {
            let line = self
                .output
                .read_line(start_up, &never)
                .map_err(|_| bad("no handshake"))?;
            if line != HANDSHAKE {
                return Err(bad("clang did not start as a fork server"));
            }
            self.ready = true;
        }
        let paths = [stdout, stderr].map(|p| p.to_str().map(str::to_string));
        let [Some(out), Some(err)] = paths else {
            return Err(bad("non-UTF-8 path"));
        };
        if args.iter().chain([&out, &err]).any(|a| a.contains('\n')) {
            return Err(bad("argument with a newline"));
        }
        let mut request = format!("{}\n", args.len());
        for a in args {
            request.push_str(a);
            request.push('\n');
        }
        request.push_str(&format!("{out}\n{err}\n{file_limit}\n"));
        self.input.write_all(request.as_bytes())?;
        self.input.flush()?;
        let line = self
            .output
            .read_line(start_up, &never)
            .map_err(|_| bad("fork server did not answer"))?;
        match line.parse::<i32>() {
            Ok(pid) if pid > 0 => Ok(pid),
            _ => Err(bad("fork server could not fork")),
        }
    }

    /// Waits for the child `pid` started by [`ForkServer::spawn`]: its exit
    /// status (or 128 + signal). Past `deadline`, or when `cancel` is
    /// raised, the child's process group is killed.
    pub fn wait(
        &mut self,
        pid: i32,
        deadline: Instant,
        cancel: &AtomicBool,
    ) -> Result<i32, Stopped> {
        match self.output.read_line(deadline, cancel) {
            Ok(line) => line.parse().map_err(|_| Stopped::Broken),
            Err(Stopped::Broken) => Err(Stopped::Broken),
            Err(why) => {
                kill_group(pid);
                // The status of the killed child keeps the protocol in step.
                let never = AtomicBool::new(false);
                let soon = Instant::now() + Duration::from_secs(5);
                match self.output.read_line(soon, &never) {
                    Ok(_) => Err(why),
                    Err(_) => Err(Stopped::Broken),
                }
            }
        }
    }
}

impl Drop for ForkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Kills a process group (a clang child and anything it started).
pub fn kill_group(pid: i32) {
    if pid > 0 {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Reads lines from a pipe with a deadline and a cancel flag.
struct LineReader {
    pipe: ChildStdout,
    buffer: Vec<u8>,
}

/// How often a wait looks at the cancel flag.
const POLL_SLICE_MS: i32 = 20;

impl LineReader {
    fn new(pipe: ChildStdout) -> LineReader {
        LineReader {
            pipe,
            buffer: Vec::new(),
        }
    }

    /// The next line, without its newline.
    fn read_line(&mut self, deadline: Instant, cancel: &AtomicBool) -> Result<String, Stopped> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line[..end]).trim().to_string());
            }
            if cancel.load(Ordering::Relaxed) {
                return Err(Stopped::Cancelled);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Stopped::TimedOut);
            }
            let slice = (left.as_millis() as i32).clamp(1, POLL_SLICE_MS);
            let mut fd = libc::pollfd {
                fd: self.pipe.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, for the duration of the call.
            let ready = unsafe { libc::poll(&mut fd, 1, slice) };
            if ready < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(Stopped::Broken);
            }
            if ready == 0 {
                continue;
            }
            let mut chunk = [0u8; 256];
            match self.pipe.read(&mut chunk) {
                Ok(0) => return Err(Stopped::Broken),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Stopped::Broken),
            }
        }
    }
}
