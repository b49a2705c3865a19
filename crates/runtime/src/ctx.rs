//! What every helper closure shares: the runtime state, the output sinks,
//! and string and range access checked against both the VM's regions and
//! the heap's blocks.

use crate::heap::Heap;
use crate::output::OutputSink;
use crate::rand::GlibcRandom;
use crate::vmstr::{cstr, cstr_prefix, explain};
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
}

/// What every helper closure holds.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) state: Rc<RefCell<State>>,
    pub(crate) stdout: OutputSink,
    pub(crate) stderr: OutputSink,
}

impl Ctx {
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
