//! Kernel mode: helpers that call a BPF function of the program back
//! (`bpf_loop`, `bpf_for_each_map_elem`, `bpf_timer_set_callback`). The
//! callback is analysed in a frame of its own with the arguments the
//! helper passes (`set_*_callback_state`), and must return a value in the
//! helper's range. A synchronous callback may run any number of times,
//! each seeing what the last left in the caller's stack (through the
//! context pointer): the state after the helper is the join over 0, 1,
//! 2... runs, computed to a fixpoint. An asynchronous one (a timer) runs
//! later on its own and changes nothing in the caller.

use crate::diag::{Rule, Severity};
use crate::engine::Analyzer;
use crate::kernel::{Callback, CallbackArg};
use crate::state::{Frame, State};
use crate::value::{Base, Ptr, Value};

/// Rounds of the fixpoint over callback runs before widening.
const JOIN_ROUNDS: usize = 2;
/// Rounds after which the analysis stops iterating (widening converges
/// long before on anything but pathological code).
const MAX_ROUNDS: usize = 24;

impl Analyzer<'_> {
    /// The caller's state after helper `helper` at `pc` called `f` back.
    pub(crate) fn callback(
        &mut self,
        st: State,
        pc: usize,
        cb: Callback,
        f: usize,
        map: Option<u16>,
        helper: &str,
    ) -> Option<State> {
        let name = self.prog.functions[f].name.clone();
        if self.active.contains(&f) {
            self.report(
                pc,
                Rule::Recursion,
                Severity::Error,
                format!("`{name}` is called back by {helper} while it runs: the kernel does not allow recursion"),
            )
            .emit_plain();
            return Some(st);
        }
        if cb.asynchronous {
            let mut entry = State::entry(f);
            let regs = self.callback_regs(&st, &cb, map, 0);
            entry.cur_mut().regs[1..6].copy_from_slice(&regs);
            self.active.push(f);
            let exit = self.analyse(f, entry);
            self.active.pop();
            if let Some(exit) = exit {
                self.check_callback_return(&exit, pc, &cb, &name, helper);
            }
            return Some(st);
        }
        if st.frames.len() >= self.kernel().map_or(8, |k| k.options.max_call_frames) {
            self.report(
                pc,
                Rule::CallDepth,
                Severity::Error,
                format!(
                    "the callback `{name}` of {helper} nests {} frames deep",
                    st.frames.len() + 1
                ),
            )
            .kernel_says(Some(format!(
                "the call stack of {} frames is too deep",
                st.frames.len() + 1
            )))
            .emit_plain();
            return Some(st);
        }
        if self.record {
            self.calls.entry(st.cur().func).or_default().insert(f);
        }
        let depth = st.frames.len();
        let mut acc = st;
        for round in 0..MAX_ROUNDS {
            let mut entry = acc.clone();
            let mut frame = Frame::new(f, pc);
            let regs = self.callback_regs(&acc, &cb, map, depth);
            frame.regs[1..6].copy_from_slice(&regs);
            frame.regs[10] = Value::Ptr(Ptr::at(Base::Stack(depth as u8), 0));
            entry.frames.push(frame);
            self.active.push(f);
            let exit = self.analyse(f, entry);
            self.active.pop();
            // A callback that never returns leaves only the runs before it.
            let Some(mut post) = exit else { break };
            self.check_callback_return(&post, pc, &cb, &name, helper);
            post.frames.pop();
            post.for_each_value(|v| {
                if matches!(v, Value::Ptr(Ptr { base: Base::Stack(d), .. }) if *d as usize >= depth)
                {
                    *v = Value::UNKNOWN;
                }
            });
            let next = if round < JOIN_ROUNDS {
                acc.join(&post)
            } else {
                acc.widen(&post)
            };
            if next == acc {
                break;
            }
            acc = next;
        }
        Some(acc)
    }

    /// r1-r5 of a callback called with the caller's registers in `st`.
    fn callback_regs(
        &self,
        st: &State,
        cb: &Callback,
        map: Option<u16>,
        _depth: usize,
    ) -> [Value; 5] {
        let mut regs = [Value::Uninit; 5];
        for (r, a) in regs.iter_mut().zip(cb.args) {
            *r = match (a, map) {
                (CallbackArg::None, _) => Value::Uninit,
                (CallbackArg::Scalar, _) => Value::UNKNOWN,
                (CallbackArg::Caller(n), _) => st.reg(n),
                (CallbackArg::Map, Some(m)) => Value::Ptr(Ptr::at(Base::Map(m), 0)),
                (CallbackArg::MapKey, Some(m)) => Value::Ptr(Ptr::at(Base::MapKey(m), 0)),
                (CallbackArg::MapValue, Some(m)) => Value::Ptr(Ptr::at(Base::MapValue(m), 0)),
                (_, None) => Value::UNKNOWN,
            };
        }
        regs
    }

    /// `prepare_func_exit`: a callback's r0 must be a number in the
    /// helper's range.
    fn check_callback_return(
        &mut self,
        exit: &State,
        pc: usize,
        cb: &Callback,
        name: &str,
        helper: &str,
    ) {
        let (lo, hi) = cb.ret;
        let r0 = exit.reg(0);
        let (ok, kernel) = match r0 {
            Value::Scalar(s, _) => (
                s.umin >= lo && s.umax <= hi,
                format!("At callback return the register R0 has value {s} should have been in [{lo}, {hi}]"),
            ),
            Value::Uninit => (false, "R0 !read_ok".to_string()),
            _ => (false, "R0 not a scalar value".to_string()),
        };
        if !ok {
            self.report(
                pc,
                Rule::CallbackReturn,
                Severity::Error,
                format!(
                    "the callback `{name}` of {helper} may return {}; it must return a number in {lo}..={hi}",
                    crate::describe::value(self, exit, &r0)
                ),
            )
            .kernel_says(Some(kernel))
            .emit_plain();
        }
    }
}
