//! Where a printf-family call's value arguments come from.
//!
//! In full mode (docs/abi.md) a variadic call passes a **va block**
//! `{cur, end, slots...}` and a `v*` function a **va state** `{cur, end}`
//! (a `va_list` points at one); both are read here, one 8-byte slot per
//! argument, never past `end`. In strict mode the values are the argument
//! registers after the fixed ones.

use bpf_vm::{HelperError, Memory};

/// Checks a range of VM memory a helper is about to read (heap bounds).
pub(crate) type RangeCheck<'a> = &'a dyn Fn(u64, usize) -> Result<(), HelperError>;

/// The value arguments of one call, taken in order.
pub(crate) enum Args<'a> {
    /// Strict mode: the argument registers after the fixed ones.
    Registers { values: &'a [u64], next: usize },
    /// Full mode: the slots between `cur` and `end` of a va block or state.
    Va(VaReader),
}

/// A reader over a va state in VM memory.
pub(crate) struct VaReader {
    /// The address of the `{cur, end}` pair.
    state: u64,
    cur: u64,
    end: u64,
    /// Arguments read so far.
    taken: usize,
    /// True for a `va_list` (`vprintf`), false for a call's own va block.
    list: bool,
}

fn fault(func: &str, what: &str) -> HelperError {
    HelperError::Fault(format!("{func}: {what}"))
}

impl VaReader {
    /// Reads the va state at `state`: a va block a variadic call made
    /// (`list == false`: its `cur` must be `state + 16`), or the state a
    /// `va_list` points at.
    pub(crate) fn new(
        mem: &Memory,
        check: RangeCheck,
        func: &str,
        state: u64,
        list: bool,
    ) -> Result<VaReader, HelperError> {
        check(state, 16)?;
        let cur = mem.load(state, 8)?;
        let end = mem.load(state.wrapping_add(8), 8)?;
        if !list && cur != state.wrapping_add(16) {
            return Err(fault(
                func,
                &format!(
                    "its variadic arguments at {state:#x} are not a va block (it starts with \
                     {cur:#x}, not {:#x}): the call was compiled for another ABI, e.g. strict \
                     mode with {func} declared by hand instead of by <stdio.h>",
                    state.wrapping_add(16)
                ),
            ));
        }
        if cur > end || !(end - cur).is_multiple_of(8) {
            let what = if list { "va_list" } else { "va block" };
            return Err(fault(
                func,
                &format!(
                    "the {what} at {state:#x} is damaged: its argument slots run from {cur:#x} \
                     to {end:#x}"
                ),
            ));
        }
        Ok(VaReader {
            state,
            cur,
            end,
            taken: 0,
            list,
        })
    }

    /// The next 8-byte slot.
    fn take(&mut self, mem: &Memory, check: RangeCheck, func: &str) -> Result<u64, HelperError> {
        if self.cur == self.end {
            let passed = self.taken;
            let wanted = passed + 1;
            return Err(fault(
                func,
                &if self.list {
                    format!(
                        "the format asks for argument {wanted} from the va_list, but only \
                         {passed} remained in it"
                    )
                } else {
                    format!(
                        "the format asks for argument {wanted} after the format, but the call \
                         passed {passed}"
                    )
                },
            ));
        }
        check(self.cur, 8)?;
        let v = mem.load(self.cur, 8)?;
        self.cur += 8;
        self.taken += 1;
        Ok(v)
    }

    /// Stores `cur` back into the state, as `vprintf` leaves a `va_list`
    /// advanced past what it read.
    pub(crate) fn write_back(&self, mem: &mut Memory) -> Result<(), HelperError> {
        mem.store(self.state, 8, self.cur)?;
        Ok(())
    }

    /// Slots left unread.
    #[cfg(test)]
    pub(crate) fn remaining(&self) -> usize {
        ((self.end - self.cur) / 8) as usize
    }
}

impl Args<'_> {
    /// The next argument as its 64-bit slot or register.
    pub(crate) fn take(
        &mut self,
        mem: &Memory,
        check: RangeCheck,
        func: &str,
    ) -> Result<u64, HelperError> {
        match self {
            Args::Registers { values, next } => {
                let v = values.get(*next).copied().ok_or_else(|| {
                    fault(
                        func,
                        &format!(
                            "the format asks for argument {} after the format, but a strict-mode \
                             call passes at most {} value arguments to {func} (a BPF call passes \
                             at most five arguments)",
                            *next + 1,
                            values.len()
                        ),
                    )
                })?;
                *next += 1;
                Ok(v)
            }
            Args::Va(reader) => reader.take(mem, check, func),
        }
    }

    /// True in strict mode, where floating-point conversions are refused.
    pub(crate) fn strict(&self) -> bool {
        matches!(self, Args::Registers { .. })
    }
}
