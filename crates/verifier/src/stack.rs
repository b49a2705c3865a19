//! The stack model: what reading bytes of a frame gives (a spilled
//! register, a number, zero) and whether they were written, and what a
//! store leaves there.

use crate::diag::{Rule, Severity};
use crate::engine::Analyzer;
use crate::mem::{fmt_off, slot_of};
use crate::scalar::Scalar;
use crate::state::{Byte, Slot, State};
use crate::value::{Base, Ptr, Value};

impl Analyzer<'_> {
    /// The value read from bytes `lo..hi` of frame `frame`.
    pub(crate) fn stack_read(
        &mut self,
        st: &State,
        pc: usize,
        frame: usize,
        lo: i64,
        hi: i64,
        size: u64,
    ) -> Value {
        let fr = &st.frames[frame];
        let width = Value::scalar(Scalar::of_width(size as u32));
        if hi - lo == size as i64 {
            let (i, j) = slot_of(lo);
            let slot = fr.slot(i);
            if j as u64 + size <= 8 {
                match slot {
                    Slot::Spill(v) if size == 8 => return v,
                    Slot::Spill(Value::Scalar(s, _)) => {
                        return Value::scalar(
                            s.rsh(Scalar::constant(8 * j as u64)).truncate(size as u32),
                        );
                    }
                    Slot::Spill(v) if v.may_be_pointer() && self.is_kernel() => {
                        self.report(
                            pc,
                            Rule::InvalidMemAccess,
                            Severity::Error,
                            format!(
                                "a {size}-byte read of part of a pointer spilled at {}",
                                fmt_off(lo - j as i64)
                            ),
                        )
                        .kernel_says(Some("invalid size of register fill".to_string()))
                        .emit_plain();
                        return width;
                    }
                    _ => {}
                }
            }
        }
        // Byte by byte.
        let mut all_zero = true;
        let mut first_uninit = None;
        for k in lo..hi {
            let (i, j) = slot_of(k);
            let b = fr.slot(i).bytes()[j];
            if b != Byte::Zero {
                all_zero = false;
            }
            if b == Byte::Uninit && first_uninit.is_none() {
                first_uninit = Some(k);
            }
        }
        if let Some(k) = first_uninit {
            if self.is_kernel() {
                let sev = self.unprivileged_error();
                let mut f = self.report(pc, Rule::UninitStack, sev,
                    format!("reads stack bytes {}..{}, and the byte at {} is not written on every path to here", fmt_off(lo), fmt_off(hi), fmt_off(k)))
                    .kernel_says(Some(format!("invalid read from stack off {}+{} size {size}", lo, k - lo)))
                    .hint("initialise the variable (e.g. `= {}` or memset) before its address is used or it is read");
                if sev == Severity::Warning {
                    f = f.line("(allowed for loaders with CAP_PERFMON, which may read uninitialised stack)".to_string());
                }
                f.emit_plain();
            }
        }
        if all_zero && first_uninit.is_none() {
            return Value::constant(0);
        }
        width
    }

    /// Writes `v` (`size` bytes) to bytes `lo..hi` of frame `frame`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn stack_write(
        &mut self,
        st: &mut State,
        pc: usize,
        frame: usize,
        lo: i64,
        hi: i64,
        size: u64,
        v: Value,
    ) {
        if self.is_kernel()
            && frame != st.depth()
            && matches!(
                v,
                Value::Ptr(Ptr {
                    base: Base::Stack(_),
                    ..
                })
            )
        {
            self.report(
                pc,
                Rule::InvalidMemAccess,
                Severity::Error,
                "a pointer to the stack is stored in the stack frame of a caller".to_string(),
            )
            .kernel_says(Some(
                "cannot spill pointers to stack into stack frame of the caller".to_string(),
            ))
            .emit_plain();
        }
        let exact = hi - lo == size as i64;
        let privileged = self.privileged();
        let kernel = self.is_kernel();
        let mut corrupts_pointer = false;
        {
            let fr = &mut st.frames[frame];
            if exact && size == 8 && lo % 8 == 0 {
                let (i, _) = slot_of(lo);
                *fr.slot_mut(i) = Slot::Spill(v);
            } else {
                for k in lo..hi {
                    let (i, j) = slot_of(k);
                    let slot = fr.slot_mut(i);
                    if matches!(slot, Slot::Spill(x) if x.may_be_pointer()) {
                        corrupts_pointer = true;
                    }
                    let mut bytes = slot.bytes();
                    bytes[j] = if !exact {
                        if bytes[j] == Byte::Uninit {
                            Byte::Uninit
                        } else {
                            Byte::Misc
                        }
                    } else {
                        let byte = match v {
                            Value::Scalar(s, _) => s
                                .rsh(Scalar::constant(8 * (k - lo) as u64))
                                .truncate(1)
                                .as_const(),
                            _ => None,
                        };
                        if byte == Some(0) {
                            Byte::Zero
                        } else {
                            Byte::Misc
                        }
                    };
                    *slot = Slot::Bytes(bytes);
                }
            }
        }
        if corrupts_pointer && kernel && !privileged {
            self.report(
                pc,
                Rule::PointerLeak,
                Severity::Error,
                "a store overwrites part of a pointer spilled on the stack".to_string(),
            )
            .kernel_says(Some(
                "attempt to corrupt spilled pointer on stack".to_string(),
            ))
            .emit_plain();
        }
    }
}
