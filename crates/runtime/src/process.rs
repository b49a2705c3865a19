//! How a program ends or jumps: `exit` (running `atexit` functions back
//! in BPF), `_Exit`, `quick_exit`, `abort`, `raise`/`signal` for signals a
//! program sends itself, and `setjmp`/`longjmp` (the VM keeps the saved
//! call stack: `bpf_vm::HelperStep::SetJmp`/`LongJmp`).
//!
//! A run that ends this way stops with `HelperError::Exit(status)` (the
//! REPL reports it and goes on; `bpf-jitlink` exits with the status) or
//! `HelperError::Abort(message)`.

use crate::ctx::Ctx;
use crate::vmstr::{int_arg, int_ret};
use bpf_vm::{HelperError, HelperEvent, HelperStep, Memory};

/// Signal numbers a program may name (1..NSIG, as on Linux).
pub(crate) const NSIG: usize = 65;
/// `SIG_DFL`, `SIG_IGN` and `SIG_ERR` as the header defines them.
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
const SIG_ERR: u64 = u64::MAX;
const SIGABRT: i32 = 6;
const SIGKILL: i32 = 9;
const SIGSTOP: i32 = 19;
/// Most `atexit`/`at_quick_exit` functions a program may register (C
/// requires at least 32).
pub(crate) const MAX_AT_EXIT: usize = 1024;

/// Functions the program registered (code addresses).
#[derive(Debug, Clone)]
pub(crate) struct Handlers {
    at_exit: Vec<u64>,
    at_quick_exit: Vec<u64>,
    signals: [u64; NSIG],
}

impl Default for Handlers {
    fn default() -> Self {
        Handlers {
            at_exit: Vec::new(),
            at_quick_exit: Vec::new(),
            signals: [SIG_DFL; NSIG],
        }
    }
}

impl Handlers {
    /// The `atexit` functions, in the order `exit` would call them.
    pub(crate) fn at_exit_order(&self) -> Vec<u64> {
        self.at_exit.iter().rev().copied().collect()
    }

    /// Forgets the `atexit` functions (they ran).
    pub(crate) fn clear_at_exit(&mut self) {
        self.at_exit.clear();
    }
}

/// The name and description of signal `sig` (glibc's `strsignal` text).
pub(crate) fn signal_name(sig: i32) -> (&'static str, &'static str) {
    match sig {
        1 => ("SIGHUP", "Hangup"),
        2 => ("SIGINT", "Interrupt"),
        3 => ("SIGQUIT", "Quit"),
        4 => ("SIGILL", "Illegal instruction"),
        5 => ("SIGTRAP", "Trace/breakpoint trap"),
        6 => ("SIGABRT", "Aborted"),
        7 => ("SIGBUS", "Bus error"),
        8 => ("SIGFPE", "Floating point exception"),
        9 => ("SIGKILL", "Killed"),
        10 => ("SIGUSR1", "User defined signal 1"),
        11 => ("SIGSEGV", "Segmentation fault"),
        12 => ("SIGUSR2", "User defined signal 2"),
        13 => ("SIGPIPE", "Broken pipe"),
        14 => ("SIGALRM", "Alarm clock"),
        15 => ("SIGTERM", "Terminated"),
        16 => ("SIGSTKFLT", "Stack fault"),
        17 => ("SIGCHLD", "Child exited"),
        18 => ("SIGCONT", "Continued"),
        19 => ("SIGSTOP", "Stopped (signal)"),
        20 => ("SIGTSTP", "Stopped"),
        21 => ("SIGTTIN", "Stopped (tty input)"),
        22 => ("SIGTTOU", "Stopped (tty output)"),
        23 => ("SIGURG", "Urgent I/O condition"),
        24 => ("SIGXCPU", "CPU time limit exceeded"),
        25 => ("SIGXFSZ", "File size limit exceeded"),
        26 => ("SIGVTALRM", "Virtual timer expired"),
        27 => ("SIGPROF", "Profiling timer expired"),
        28 => ("SIGWINCH", "Window changed"),
        29 => ("SIGIO", "I/O possible"),
        30 => ("SIGPWR", "Power failure"),
        31 => ("SIGSYS", "Bad system call"),
        _ => ("SIGRT", "Real-time signal"),
    }
}

/// What a signal does when nobody handles it: nothing, stop the process
/// (not modelled: nothing happens), or end it.
fn ignored_by_default(sig: i32) -> bool {
    matches!(sig, 17 | 18 | 23 | 28) || matches!(sig, 19..=22)
}

fn call_handler(func: u64, arg: u64, state: [u64; 4]) -> HelperStep {
    HelperStep::Call {
        func,
        args: [arg, 0, 0, 0, 0],
        state,
    }
}

/// `void exit(int status)`: calls the `atexit` functions, last registered
/// first, then ends the run with `status`.
pub(crate) fn exit(cx: &Ctx, _: &mut Memory, ev: HelperEvent) -> Result<HelperStep, HelperError> {
    let status = match ev {
        HelperEvent::Start(a) => a[0],
        HelperEvent::Resume { state, .. } => state[0],
    };
    let next = cx.state.borrow_mut().handlers.at_exit.pop();
    match next {
        Some(f) => Ok(call_handler(f, 0, [status, 0, 0, 0])),
        None => Err(HelperError::Exit(int_arg(status))),
    }
}

/// `void quick_exit(int status)`: the `at_quick_exit` functions, then the end.
pub(crate) fn quick_exit(
    cx: &Ctx,
    _: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    let status = match ev {
        HelperEvent::Start(a) => a[0],
        HelperEvent::Resume { state, .. } => state[0],
    };
    let next = cx.state.borrow_mut().handlers.at_quick_exit.pop();
    match next {
        Some(f) => Ok(call_handler(f, 0, [status, 0, 0, 0])),
        None => Err(HelperError::Exit(int_arg(status))),
    }
}

/// `void _Exit(int status)`: ends the run at once.
pub(crate) fn underscore_exit(_: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Err(HelperError::Exit(int_arg(a[0])))
}

fn register(list: &mut Vec<u64>, func: u64) -> u64 {
    if list.len() >= MAX_AT_EXIT {
        return int_ret(-1);
    }
    list.push(func);
    0
}

/// `int atexit(void (*func)(void))`.
pub(crate) fn atexit(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(register(&mut cx.state.borrow_mut().handlers.at_exit, a[0]))
}

/// `int at_quick_exit(void (*func)(void))`.
pub(crate) fn at_quick_exit(cx: &Ctx, _: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    Ok(register(
        &mut cx.state.borrow_mut().handlers.at_quick_exit,
        a[0],
    ))
}

/// The end of a run by signal `sig` nobody handles.
fn terminated(sig: i32, how: &str) -> HelperError {
    if sig == SIGABRT {
        return HelperError::Abort("abort() called".to_string());
    }
    let (name, text) = signal_name(sig);
    HelperError::Abort(format!(
        "{how}: the program was ended by signal {sig} ({name}: {text})"
    ))
}

/// `void abort(void)`: a `SIGABRT` handler runs first; if it returns, the
/// run ends anyway (C says `abort` does not return).
pub(crate) fn abort(cx: &Ctx, _: &mut Memory, ev: HelperEvent) -> Result<HelperStep, HelperError> {
    if let HelperEvent::Start(_) = ev {
        let h = cx.state.borrow().handlers.signals[SIGABRT as usize];
        if h != SIG_DFL && h != SIG_IGN {
            return Ok(call_handler(h, SIGABRT as u64, [0; 4]));
        }
    }
    Err(terminated(SIGABRT, "abort()"))
}

/// `int raise(int sig)`: runs the handler, ignores, or ends the run as
/// the signal's default action would.
pub(crate) fn raise(
    cx: &Ctx,
    mem: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    let sig = match ev {
        HelperEvent::Start(a) => int_arg(a[0]),
        HelperEvent::Resume { .. } => return Ok(HelperStep::Return(0)),
    };
    if sig < 1 || sig as usize >= NSIG {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(HelperStep::Return(int_ret(-1)));
    }
    let h = cx.state.borrow().handlers.signals[sig as usize];
    match h {
        SIG_IGN => Ok(HelperStep::Return(0)),
        SIG_DFL if ignored_by_default(sig) => Ok(HelperStep::Return(0)),
        SIG_DFL => Err(terminated(sig, &format!("raise({})", signal_name(sig).0))),
        f => Ok(call_handler(f, sig as u64, [0; 4])),
    }
}

/// `void (*signal(int sig, void (*handler)(int)))(int)`: installs a
/// handler `raise` and `abort` call (it stays installed, as in glibc).
pub(crate) fn signal(cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    let sig = int_arg(a[0]);
    if sig < 1 || sig as usize >= NSIG || sig == SIGKILL || sig == SIGSTOP || a[1] == SIG_ERR {
        cx.set_errno(mem, libc::EINVAL)?;
        return Ok(SIG_ERR);
    }
    let slot = &mut cx.state.borrow_mut().handlers.signals[sig as usize];
    Ok(std::mem::replace(slot, a[1]))
}

/// `int setjmp(jmp_buf env)` (also `_setjmp`, `sigsetjmp`).
pub(crate) fn setjmp(cx: &Ctx, _: &mut Memory, ev: HelperEvent) -> Result<HelperStep, HelperError> {
    match ev {
        HelperEvent::Start([buf, ..]) => {
            cx.check("setjmp", buf, 8)?;
            Ok(HelperStep::SetJmp { buf })
        }
        HelperEvent::Resume { .. } => Ok(HelperStep::Return(0)),
    }
}

/// `void longjmp(jmp_buf env, int value)` (also `_longjmp`, `siglongjmp`):
/// `setjmp` returns `value`, or 1 for 0.
pub(crate) fn longjmp(
    cx: &Ctx,
    _: &mut Memory,
    ev: HelperEvent,
) -> Result<HelperStep, HelperError> {
    match ev {
        HelperEvent::Start([buf, value, ..]) => {
            cx.check("longjmp", buf, 8)?;
            let v = match int_arg(value) {
                0 => 1,
                v => v,
            };
            Ok(HelperStep::LongJmp {
                buf,
                value: int_ret(v),
            })
        }
        HelperEvent::Resume { .. } => Ok(HelperStep::Return(0)),
    }
}
