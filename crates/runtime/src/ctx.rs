//! What every helper closure shares: the runtime state, the output sinks,
//! the world outside the VM (standard input, files, the clock), and string
//! and range access checked against both the VM's regions and the heap's
//! blocks.

use crate::heap::Heap;
use crate::output::OutputSink;
use crate::process::Handlers;
use crate::rand::GlibcRandom;
use crate::statics::{self, Statics};
use crate::vmstr::{cstr, cstr_prefix, explain};
use crate::world::World;
use bpf_vm::{HelperError, Memory};
use std::cell::RefCell;
use std::rc::Rc;

/// State the helpers share and the REPL snapshots.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) heap: Heap,
    pub(crate) rand: GlibcRandom,
    /// Size limit of the alloca region (`Runtime::with_alloca_limit`).
    pub(crate) alloca_limit: usize,
    /// The runtime's own variables in VM memory (`errno`, ...), once made.
    pub(crate) statics: Statics,
    /// Where `strtok(NULL, ...)` goes on (0: nowhere).
    pub(crate) strtok: u64,
    /// `atexit` functions and `signal` handlers (code addresses).
    pub(crate) handlers: Handlers,
    /// Nanoseconds the deterministic clock has advanced since its start.
    pub(crate) ticks: u64,
}

/// What every helper closure holds.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) state: Rc<RefCell<State>>,
    /// Standard input, open files, the granted directory and the clock:
    /// outside the VM and not rolled back.
    pub(crate) world: Rc<RefCell<World>>,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
    /// Where notes for the user go (a refused `fopen` says how to grant a
    /// directory), apart from program output when the host wants it so.
    pub(crate) notices: OutputSink,
}

impl Ctx {
    /// The address of the runtime's static variables, made on first use.
    pub(crate) fn statics(&self, mem: &mut Memory) -> Result<u64, HelperError> {
        let mut st = self.state.borrow_mut();
        st.statics.base(mem)
    }

    /// Sets the program's `errno`.
    pub(crate) fn set_errno(&self, mem: &mut Memory, value: i32) -> Result<(), HelperError> {
        let base = self.statics(mem)?;
        mem.store(base + statics::ERRNO, 4, value as u32 as u64)?;
        Ok(())
    }

    /// The program's `errno` now, without making the statics (0 before
    /// anything set it).
    pub(crate) fn errno_now(&self, mem: &Memory) -> i32 {
        match self.state.borrow().statics.existing() {
            Some(b) => mem
                .load(b + statics::ERRNO, 4)
                .map_or(0, |v| v as u32 as i32),
            None => 0,
        }
    }

    /// Writes a note for the user (once per distinct text and session).
    pub(crate) fn notice(&self, text: &str) {
        let mut world = self.world.borrow_mut();
        if world.noticed.insert(text.to_string()) {
            // A note that cannot be shown is not worth stopping the program.
            let _ = self.notices.write(format!("note: {text}\n").as_bytes());
        }
    }

    /// Checks a range a helper is about to touch against the heap's blocks
    /// (see [`Heap::check_range`]).
    pub(crate) fn check(&self, func: &str, addr: u64, len: usize) -> Result<(), HelperError> {
        self.state.borrow().heap.check_range(func, addr, len)
    }

    /// The NUL-terminated string at `addr`; a failed read is explained by
    /// the heap's bounds where they apply. The bytes are not checked against
    /// a heap block (callers that read only part of them check that part).
    pub(crate) fn cstr<'m>(
        &self,
        func: &str,
        mem: &'m Memory,
        addr: u64,
    ) -> Result<&'m [u8], HelperError> {
        cstr(mem, addr).map_err(|e| explain(e, addr, |a, n| self.check(func, a, n)))
    }

    /// The string at `addr` up to its NUL or `max` bytes, like [`Ctx::cstr`].
    pub(crate) fn cstr_prefix<'m>(
        &self,
        func: &str,
        mem: &'m Memory,
        addr: u64,
        max: usize,
    ) -> Result<&'m [u8], HelperError> {
        cstr_prefix(mem, addr, max).map_err(|e| explain(e, addr, |a, n| self.check(func, a, n)))
    }

    /// The NUL-terminated string at `addr`, its bytes and NUL checked.
    pub(crate) fn string<'m>(
        &self,
        func: &str,
        mem: &'m Memory,
        addr: u64,
    ) -> Result<&'m [u8], HelperError> {
        let s = self.cstr(func, mem, addr)?;
        self.check(func, addr, s.len() + 1)?;
        Ok(s)
    }

    /// The string at `addr` up to its NUL or `max` bytes, the bytes read checked.
    pub(crate) fn prefix<'m>(
        &self,
        func: &str,
        mem: &'m Memory,
        addr: u64,
        max: usize,
    ) -> Result<&'m [u8], HelperError> {
        let s = self.cstr_prefix(func, mem, addr, max)?;
        self.check(func, addr, (s.len() + 1).min(max))?;
        Ok(s)
    }
}
