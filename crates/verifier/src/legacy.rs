//! LD_ABS/LD_IND, the legacy packet loads of socket filters: `r0 =` 1, 2
//! or 4 bytes of the packet at a constant (ABS) or register-relative
//! (IND) offset, in network byte order, with r6 holding the context. A
//! load past the packet ends the program, returning 0.
//!
//! Kernel mode checks them as `check_ld_abs` does. Speed mode treats them
//! as a call that may end the program: r0 is a number of the load's
//! width, and r1-r5 are not relied on (the kernel clobbers them; our
//! interpreter keeps them; engines may do either).

use crate::diag::{Rule, Severity};
use crate::engine::{Analyzer, Mode};
use crate::mem::access_size;
use crate::scalar::Scalar;
use crate::state::State;
use crate::value::{Base, Ptr, Value};
use bpf_vm::isa::*;

impl Analyzer<'_> {
    pub(crate) fn legacy_packet_load(&mut self, st: &mut State, pc: usize, insn: Insn) {
        let size = access_size(insn.op);
        let indirect = insn.op & 0xe0 == MODE_IND;
        let prog = match self.mode {
            Mode::Kernel { prog, .. } => prog,
            Mode::Speed(_) => {
                for r in 1..=5 {
                    st.set(r, Value::Any);
                }
                st.set(0, Value::scalar(Scalar::of_width(size as u32)));
                return;
            }
        };
        if !prog.may_access_skb() {
            self.report(
                pc,
                Rule::LegacyPacketAccess,
                Severity::Error,
                format!(
                    "LD_ABS/LD_IND packet loads are for socket filters and tc programs, not {} programs",
                    prog.name()
                ),
            )
            .kernel_says(Some(
                "BPF_LD_[ABS|IND] instructions not allowed for this program type".to_string(),
            ))
            .emit_plain();
        }
        self.subprogram_abnormal_exit(st, pc, "LD_ABS", "an LD_ABS/LD_IND load");
        let r6 = self.read(st, pc, 6);
        let ctx = matches!(
            r6,
            Value::Ptr(Ptr {
                base: Base::Ctx,
                nullable: false,
                ..
            })
        );
        if !ctx {
            self.report(
                pc,
                Rule::LegacyPacketAccess,
                Severity::Error,
                "LD_ABS/LD_IND load through the context in r6, and r6 does not hold it here"
                    .to_string(),
            )
            .kernel_says(Some(
                "at the time of BPF_LD_ABS|IND R6 != pointer to skb".to_string(),
            ))
            .regs(st, &[6])
            .hint("keep the context pointer (the program's first argument) in r6")
            .emit_plain();
        } else if r6.as_ptr().and_then(|p| p.const_offset()) != Some(0) {
            self.report(
                pc,
                Rule::CtxAccess,
                Severity::Error,
                "the context pointer in r6 was moved; LD_ABS/LD_IND need it unmodified".to_string(),
            )
            .kernel_says(Some(
                "dereference of modified ctx ptr R6 disallowed".to_string(),
            ))
            .regs(st, &[6])
            .emit_plain();
        }
        if !st.refs.is_empty() {
            self.report(
                pc,
                Rule::UnreleasedReference,
                Severity::Error,
                "an LD_ABS/LD_IND load may end the program while memory from bpf_ringbuf_reserve is held".to_string(),
            )
            .kernel_says(Some(
                "BPF_LD_[ABS|IND] cannot be mixed with socket references".to_string(),
            ))
            .emit_plain();
        }
        if indirect {
            self.read(st, pc, insn.src);
        }
        for r in 1..=5 {
            st.set(r, Value::Uninit);
        }
        st.set(0, Value::UNKNOWN);
    }
}
