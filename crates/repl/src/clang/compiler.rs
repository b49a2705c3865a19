//! Compiling one translation unit to a BPF object, and asking clang what
//! an input is (an AST probe), each in a bounded clang run: a time limit,
//! Ctrl-C, a bound on the files clang writes, and clang dying with the REPL.

use super::diagnostics::clean_diagnostics;
use crate::forkserver::{ForkServer, Stopped};
use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a translation unit's code is built for (docs/abi.md, "Modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The REPL's own C: clang emits bitcode and the IR stage
    /// (`bpf_cc::lower`) lowers it to bpf-repl's ABI, in full or strict
    /// mode ([`CodeMode`]).
    Repl,
    /// A kernel-style program (`SEC("xdp")` functions, maps): plain BPF,
    /// built as clang builds it for the kernel, with no IR stage (kernel
    /// helpers by id, the runtime's register-ABI functions by name).
    Kernel,
}

/// How the REPL's own C is compiled (`--strict-bpf`, `%strict`,
/// `--no-ub-checks`, `%ub`, `--stack-size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeMode {
    /// Only what plain BPF runs; the IR stage refuses the rest by name.
    pub strict: bool,
    /// Undefined behaviour is a fault at its line (clang's checks in trap mode).
    pub ub_checks: bool,
    /// Stack bytes per call frame (larger locals move to the alloca region).
    pub frame_size: u64,
}

impl Default for CodeMode {
    fn default() -> Self {
        CodeMode {
            strict: false,
            ub_checks: true,
            frame_size: bpf_vm::VmConfig::default().frame_size as u64,
        }
    }
}

impl CodeMode {
    fn abi(self) -> bpf_cc::Mode {
        if self.strict {
            bpf_cc::Mode::Strict
        } else {
            bpf_cc::Mode::Full
        }
    }

    fn ub(self) -> bpf_cc::UbChecks {
        if self.ub_checks {
            bpf_cc::UbChecks::On
        } else {
            bpf_cc::UbChecks::Off
        }
    }
}

/// The REPL's own flags, for every target. Every global definition may be
/// replaced by a later input, so clang must treat it as interposable
/// (`-fPIC -fsemantic-interposition`): no inlining of one global function
/// into another, no folding of a global's initial value. Without this,
/// inputs compiled together (a replayed file) would keep an old body after
/// a redefinition. Full type descriptions even where only a pointer is
/// used, so every value the REPL reads back has a complete type; source
/// paths exactly as `#line` names them; tentative definitions as commons.
const REPL_FLAGS: &[&str] = &[
    "-fstandalone-debug",
    "-fdebug-compilation-dir=.",
    "-fPIC",
    "-fsemantic-interposition",
    "-fcommon",
    "-std=gnu17",
];

/// The ISA kernel-style units are built for: v3 (Linux 5.1 on) runs on
/// the kernels the verifier's rules follow; v4 needs Linux 6.6.
const KERNEL_CPU: &str = "-mcpu=v3";

/// The flags a compile for `target` starts with (the user's come after).
/// The REPL's C: `bpf_cc::clang_flags` for the mode (bitcode for the IR
/// stage). Kernel-style units: plain BPF objects with the runtime's
/// register-ABI headers. Both see the shipped kernel headers
/// (`<bpf/bpf_helpers.h>`, `<linux/bpf.h>`...).
pub fn target_flags(target: Target, mode: CodeMode) -> Vec<String> {
    let mut flags: Vec<String> = match target {
        Target::Repl => {
            let mut f: Vec<String> = bpf_cc::clang_flags(mode.abi(), mode.ub())
                .into_iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            // The load through NULL is kept (-fno-delete-null-pointer-checks)
            // and faults: clang's warning that it "will be deleted" is wrong here.
            f.push("-Wno-null-dereference".to_string());
            f
        }
        Target::Kernel => {
            let mut f: Vec<String> = ["-target", "bpf", KERNEL_CPU, "-O2", "-g"]
                .map(str::to_string)
                .to_vec();
            f.extend(
                bpf_runtime::clang_args_for(bpf_runtime::AbiMode::Strict)
                    .into_iter()
                    .map(|a| a.to_string_lossy().into_owned()),
            );
            if !crash_reports_wanted() {
                f.push("-fno-crash-diagnostics".to_string());
            }
            f
        }
    };
    flags.push("-isystem".to_string());
    flags.push(bpf_kernel::include_dir().display().to_string());
    flags.extend(REPL_FLAGS.iter().map(|s| s.to_string()));
    flags
}

/// Whether the user asked for clang's own crash reports
/// (`BPF_CC_CLANG_CRASH_REPORT=1`, as for bpf-cc).
fn crash_reports_wanted() -> bool {
    std::env::var_os(bpf_cc::clang::CRASH_REPORT_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The optimisation level the user's flags ask for (the last `-O`), which
/// the IR stage's pipeline must run (clang runs none).
fn opt_level(extra: &[String]) -> bpf_cc::OptLevel {
    extra
        .iter()
        .rev()
        .find_map(|f| f.strip_prefix("-O").and_then(bpf_cc::OptLevel::parse))
        .unwrap_or_default()
}

/// Bounds on one clang run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time one clang run may take (`--compile-timeout`).
    pub timeout: Duration,
    /// Largest file clang may write (the object, the AST dump), in bytes
    /// (`--memory-limit`: an object larger than VM memory cannot load).
    pub output: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            output: bpf_vm::files::DEFAULT_MEMORY_LIMIT as u64,
        }
    }
}

/// What one clang run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `-c`: bitcode for the IR stage, or a kernel-style object.
    Compile(Target),
    /// `-fsyntax-only` with a JSON dump of the probe function's AST.
    Probe,
}

impl Action {
    /// What the run's flags are for (a probe reads C as the REPL compiles it).
    fn target(self) -> Target {
        match self {
            Action::Compile(target) => target,
            Action::Probe => Target::Repl,
        }
    }
}

/// The fork server (or plain process) slot each action uses: a compile
/// and a probe can run at the same time.
fn slot(action: Action) -> usize {
    match action {
        Action::Compile(_) => 0,
        Action::Probe => 1,
    }
}

/// The function a probe translation unit wraps the inputs in; the AST
/// dump is filtered to it.
pub const PROBE_FUNCTION: &str = "__repl_probe_fn";

/// A compiler bound to a scratch directory (removed when it is dropped).
pub struct Compiler {
    clang: PathBuf,
    dir: tempfile::TempDir,
    /// How the REPL's own C is compiled.
    mode: CodeMode,
    /// The user's flags (`--cflags`, then `%cflags`), after the target's.
    extra: Vec<String>,
    color: bool,
    /// Clangs that have done their start-up once (None: start clang per run).
    servers: [Option<ForkServer>; 2],
    limits: Limits,
    /// Raised by Ctrl-C: a running clang is killed.
    cancel: Arc<AtomicBool>,
    runs: u64,
}

/// A successful compile: the object, what it was built for, and any warnings.
pub struct Compiled {
    pub object: Vec<u8>,
    pub target: Target,
    pub warnings: String,
}

/// A failed compile: what the user sees (clang's diagnostics cleaned up,
/// or why clang was stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub diagnostics: String,
    /// Everything clang said (for locating errors in a batch).
    pub raw: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.diagnostics.trim_end())
    }
}

impl CompileError {
    fn said(message: String) -> CompileError {
        CompileError {
            diagnostics: message,
            raw: String::new(),
        }
    }
}

/// A clang run in progress.
pub struct Job {
    action: Action,
    process: Process,
    files: RunFiles,
    deadline: Instant,
}

enum Process {
    Served(i32),
    Spawned(Child),
}

/// The files of one run.
struct RunFiles {
    source: PathBuf,
    output: PathBuf,
    log: PathBuf,
}

impl Compiler {
    /// A compiler using `clang` with the target's flags plus the user's `extra`.
    pub fn new(clang: PathBuf, mode: CodeMode, extra: &[String]) -> std::io::Result<Compiler> {
        let dir = scratch_dir()?;
        live_scratch_dirs().push(dir.path().to_path_buf());
        let servers = [
            ForkServer::start(&clang, dir.path()),
            ForkServer::start(&clang, dir.path()),
        ];
        Ok(Compiler {
            clang,
            dir,
            mode,
            extra: extra.to_vec(),
            color: false,
            servers,
            limits: Limits::default(),
            cancel: Arc::new(AtomicBool::new(false)),
            runs: 0,
        })
    }

    /// The clang binary in use.
    pub fn clang(&self) -> &Path {
        &self.clang
    }

    /// The user's flags (after the target's).
    pub fn extra_flags(&self) -> &[String] {
        &self.extra
    }

    /// Replaces the user's flags.
    pub fn set_extra_flags(&mut self, extra: &[String]) {
        self.extra = extra.to_vec();
    }

    /// How the REPL's own C is compiled.
    pub fn mode(&self) -> CodeMode {
        self.mode
    }

    /// Changes how later inputs are compiled (`%strict`, `%ub`).
    pub fn set_mode(&mut self, mode: CodeMode) {
        self.mode = mode;
    }

    /// Asks clang for coloured diagnostics.
    pub fn set_color(&mut self, color: bool) {
        self.color = color;
    }

    /// Sets the bounds of every later clang run.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The flag that stops a running clang (raise it from a Ctrl-C handler;
    /// it is cleared when a run starts).
    pub fn cancel_handle(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// The scratch directory (removed when the compiler is dropped).
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Whether compiles go through the fork server.
    pub fn uses_fork_server(&self) -> bool {
        self.servers[0].is_some()
    }

    /// Compiles one translation unit for `target` to a BPF object.
    pub fn compile(&mut self, source: &str, target: Target) -> Result<Compiled, CompileError> {
        self.cancel.store(false, Ordering::Relaxed);
        let job = self.start(source, target)?;
        self.finish(job)
    }

    /// Starts compiling a translation unit; [`Compiler::finish`] waits for
    /// clang and lowers its bitcode, [`Compiler::abandon`] kills the run. A
    /// probe may run meanwhile.
    pub fn start(&mut self, source: &str, target: Target) -> Result<Job, CompileError> {
        self.launch(Action::Compile(target), source)
    }

    /// Waits for a compile started with [`Compiler::start`]; the REPL's C
    /// then goes through the IR stage (in a child process: see
    /// [`super::lower`]).
    pub fn finish(&mut self, job: Job) -> Result<Compiled, CompileError> {
        let status = self.wait(&job)?;
        let raw = String::from_utf8_lossy(&read_small(&job.files.log)).into_owned();
        let stderr = clean_diagnostics(&raw);
        if status != 0 {
            if let Some(message) = self.crash_message(status, &raw) {
                return Err(CompileError::said(message));
            }
            let diagnostics = if stderr.trim().is_empty() {
                // Only generated code was blamed: show it all rather than nothing.
                if raw.trim().is_empty() {
                    "error: clang failed without a message".to_string()
                } else {
                    raw.clone()
                }
            } else {
                stderr
            };
            return Err(CompileError { diagnostics, raw });
        }
        let output = std::fs::read(&job.files.output)
            .map_err(|e| CompileError::said(format!("error: cannot read clang's output: {e}")))?;
        let _ = std::fs::remove_file(&job.files.output);
        let target = job.action.target();
        let object = match target {
            Target::Repl => self.lower(&output)?,
            Target::Kernel => output,
        };
        Ok(Compiled {
            object,
            target,
            warnings: stderr,
        })
    }

    /// The IR stage on clang's bitcode, bounded like a clang run.
    fn lower(&mut self, bitcode: &[u8]) -> Result<Vec<u8>, CompileError> {
        let options = bpf_cc::LowerOptions {
            mode: self.mode.abi(),
            opt: opt_level(&self.extra),
            ub_checks: self.mode.ub(),
            frame_size: self.mode.frame_size,
            debug_info: true,
            name: "this input".to_string(),
        };
        let bounds = super::lower::Bounds {
            deadline: Instant::now() + self.limits.timeout,
            cancel: &self.cancel,
            output: self.limits.output,
            scratch: self.dir.path(),
        };
        super::lower::lower(bitcode, &options, &bounds).map_err(|failure| match failure {
            super::lower::Failure::Refused(diagnostics) => CompileError {
                raw: diagnostics.clone(),
                diagnostics: self.with_strict_note(diagnostics),
            },
            super::lower::Failure::Stopped(why) => CompileError::said(self.stopped_message(why)),
            super::lower::Failure::Died(message) => CompileError::said(message),
        })
    }

    /// Strict-mode refusals name `--strict-bpf`; at the prompt, `%strict
    /// off` is the way out.
    fn with_strict_note(&self, diagnostics: String) -> String {
        if self.mode.strict && diagnostics.contains("--strict-bpf") {
            format!(
                "{}\nnote: strict mode is on (--strict-bpf or %strict on); %strict off compiles \
                 with bpf-repl's ABI\n",
                diagnostics.trim_end()
            )
        } else {
            diagnostics
        }
    }

    /// Kills a run that is no longer wanted.
    pub fn abandon(&mut self, job: Job) {
        match job.process {
            Process::Served(pid) => {
                crate::forkserver::kill_group(pid);
                let never = AtomicBool::new(false);
                let soon = Instant::now() + Duration::from_secs(5);
                let server = &mut self.servers[slot(job.action)];
                if server
                    .as_mut()
                    .is_some_and(|s| s.wait(pid, soon, &never).is_err())
                {
                    *server = None;
                }
            }
            Process::Spawned(mut child) => {
                crate::forkserver::kill_group(child.id() as i32);
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_file(&job.files.output);
    }

    /// Runs a probe: `clang -fsyntax-only` with the JSON AST of
    /// [`PROBE_FUNCTION`] on stdout. `None` when clang could not produce
    /// one in time (the caller then works without it).
    pub fn probe(&mut self, source: &str) -> Option<String> {
        let job = self.launch(Action::Probe, source).ok()?;
        self.wait(&job).ok()?;
        let json = std::fs::read(&job.files.output).ok()?;
        let _ = std::fs::remove_file(&job.files.output);
        String::from_utf8(json).ok()
    }

    fn launch(&mut self, action: Action, source: &str) -> Result<Job, CompileError> {
        self.runs += 1;
        let stem = match action {
            Action::Compile(_) => "input",
            Action::Probe => "probe",
        };
        let files = RunFiles {
            source: self.dir.path().join(format!("{stem}.c")),
            output: self.dir.path().join(match action {
                Action::Compile(_) => "input.o",
                Action::Probe => "probe.json",
            }),
            log: self.dir.path().join(format!("{stem}.log")),
        };
        let io_err = |e: std::io::Error| {
            CompileError::said(format!("error: cannot run {}: {e}", self.clang.display()))
        };
        std::fs::write(&files.source, source).map_err(io_err)?;
        let _ = std::fs::remove_file(&files.output);
        let args = self.arguments(action, &files);
        let (stdout, stderr) = match action {
            Action::Compile(_) => (&files.log, &files.log),
            Action::Probe => (&files.output, &files.log),
        };
        let deadline = Instant::now() + self.limits.timeout;
        let server = &mut self.servers[slot(action)];
        if let Some(s) = server.as_mut() {
            match s.spawn(&args, stdout, stderr, self.limits.output) {
                Ok(pid) => {
                    return Ok(Job {
                        action,
                        process: Process::Served(pid),
                        files,
                        deadline,
                    })
                }
                Err(_) => *server = None, // broken: from now on, one clang per run
            }
        }
        let child = spawn_plain(&args, stdout, stderr, self.limits.output).map_err(io_err)?;
        Ok(Job {
            action,
            process: Process::Spawned(child),
            files,
            deadline,
        })
    }

    /// The full argument list (argv[0] first) of a run.
    fn arguments(&self, action: Action, files: &RunFiles) -> Vec<String> {
        let mut args: Vec<String> = vec![self.clang.display().to_string()];
        args.extend(target_flags(action.target(), self.mode));
        args.extend(self.extra.iter().cloned());
        match action {
            Action::Compile(_) => {
                args.push(
                    if self.color {
                        "-fcolor-diagnostics"
                    } else {
                        "-fno-color-diagnostics"
                    }
                    .to_string(),
                );
                args.extend(["-c".to_string(), files.source.display().to_string()]);
                args.extend(["-o".to_string(), files.output.display().to_string()]);
            }
            Action::Probe => {
                args.extend(
                    [
                        "-fsyntax-only",
                        "-w",
                        "-Wno-fatal-errors",
                        "-ferror-limit=0",
                        "-fno-color-diagnostics",
                        "-Xclang",
                        "-ast-dump=json",
                        "-Xclang",
                    ]
                    .map(str::to_string),
                );
                args.push(format!("-ast-dump-filter={PROBE_FUNCTION}"));
                args.push(files.source.display().to_string());
            }
        }
        args
    }

    /// Waits for a run: its exit status, or the message for a run that was
    /// stopped (timeout, Ctrl-C).
    fn wait(&mut self, job: &Job) -> Result<i32, CompileError> {
        let stopped = match &job.process {
            Process::Served(pid) => {
                let server = &mut self.servers[slot(job.action)];
                let Some(s) = server.as_mut() else {
                    return Err(CompileError::said(
                        "error: the clang fork server stopped".into(),
                    ));
                };
                match s.wait(*pid, job.deadline, &self.cancel) {
                    Ok(status) => return Ok(status),
                    Err(Stopped::Broken) => {
                        *server = None;
                        Stopped::Broken
                    }
                    Err(why) => why,
                }
            }
            Process::Spawned(child) => {
                match wait_plain(child.id() as i32, job.deadline, &self.cancel) {
                    Ok(status) => return Ok(status),
                    Err(why) => why,
                }
            }
        };
        Err(CompileError::said(self.stopped_message(stopped)))
    }

    /// What to say about a compile that was stopped.
    fn stopped_message(&self, why: Stopped) -> String {
        match why {
            Stopped::TimedOut => format!(
                "error: the compile did not finish within {} s and was stopped (the limit is \
                 --compile-timeout)",
                self.limits.timeout.as_secs_f64()
            ),
            Stopped::Cancelled => "error: compile interrupted (Ctrl-C); it was stopped".into(),
            Stopped::Broken => "error: clang stopped unexpectedly".into(),
        }
    }

    /// What to say about a clang that was stopped by the output bound or
    /// crashed (one line; its own report only when asked for), if it was.
    fn crash_message(&self, status: i32, raw: &str) -> Option<String> {
        if status - 128 == libc::SIGXFSZ {
            return Some(format!(
                "error: clang's output would be larger than {} bytes and was stopped (the limit \
                 is --memory-limit: a larger object cannot be loaded)",
                self.limits.output
            ));
        }
        let signal = status > 128
            && matches!(
                status - 128,
                libc::SIGKILL | libc::SIGSEGV | libc::SIGABRT | libc::SIGBUS | libc::SIGILL
            );
        let reported = [
            "PLEASE submit a bug report",
            "Stack dump:",
            "frontend command failed",
        ]
        .iter()
        .any(|m| raw.contains(m));
        if !(signal || reported) || crash_reports_wanted() {
            return None;
        }
        Some(format!(
            "error: clang crashed while compiling this input; it was not compiled (run with \
             {}=1 to see clang's report)",
            bpf_cc::clang::CRASH_REPORT_ENV
        ))
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        live_scratch_dirs().retain(|d| d != self.dir.path());
    }
}

/// The scratch directories of the compilers alive in this process.
fn live_scratch_dirs() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every live compiler's scratch directory: for a process about
/// to end without unwinding (SIGTERM, SIGHUP).
pub fn remove_scratch_dirs() {
    for dir in live_scratch_dirs().drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Starts clang as a plain child process (no fork server) with the same
/// bounds: own process group, death with the REPL, a file size limit.
fn spawn_plain(
    args: &[String],
    stdout: &Path,
    stderr: &Path,
    limit: u64,
) -> std::io::Result<Child> {
    let out = std::fs::File::create(stdout)?;
    let err = if stdout == stderr {
        out.try_clone()?
    } else {
        std::fs::File::create(stderr)?
    };
    let mut cmd = Command::new(&args[0]);
    cmd.args(&args[1..])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    // SAFETY: only async-signal-safe calls (prctl, setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            let rl = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &rl);
            Ok(())
        });
    }
    cmd.spawn()
}

/// Waits for a plain child (by pid) like [`ForkServer::wait`].
pub(super) fn wait_plain(pid: i32, deadline: Instant, cancel: &AtomicBool) -> Result<i32, Stopped> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            return Ok(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                128 + libc::WTERMSIG(status)
            });
        }
        if done < 0 {
            return Err(Stopped::Broken);
        }
        let why = if cancel.load(Ordering::Relaxed) {
            Some(Stopped::Cancelled)
        } else if Instant::now() >= deadline {
            Some(Stopped::TimedOut)
        } else {
            None
        };
        if let Some(why) = why {
            crate::forkserver::kill_group(pid);
            // SAFETY: as above; reaps the killed child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            return Err(why);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Reads a log, at most 1 MiB of it (clang can be made to say a lot).
pub(super) fn read_small(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(1 << 20).read_to_end(&mut out);
    }
    out
}

/// Prefix of the REPL's scratch directories: `bpf-repl-<pid>-XXXXXX`.
const SCRATCH_PREFIX: &str = "bpf-repl-";

/// A new scratch directory in the system temporary directory, named
/// after this process; directories left by REPLs that no longer run
/// (killed with SIGKILL, say) are removed first.
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    remove_orphaned_scratch_dirs(&std::env::temp_dir());
    tempfile::Builder::new()
        .prefix(&format!("{SCRATCH_PREFIX}{}-", std::process::id()))
        .tempdir()
}

/// Removes `bpf-repl-<pid>-*` directories whose process is gone.
fn remove_orphaned_scratch_dirs(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(SCRATCH_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        let mine = entry.metadata().is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            // SAFETY: getuid has no preconditions.
            m.uid() == unsafe { libc::getuid() }
        });
        if gone && mine && entry.path().is_dir() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
