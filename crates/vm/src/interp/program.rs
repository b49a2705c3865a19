//! The loaded code in the forms kept in step: the instruction slots as
//! loaded (what [`crate::Vm::code`] shows), their pre-decoded [`Op`]s, one
//! instruction each, and the same ops with pairs fused where possible
//! (what the interpreter mostly runs). Every change goes through
//! [`Program`], which re-derives exactly the ops the change can affect.

use super::decode::{decode, fuse, proven, Op};
use crate::isa::Insn;
use crate::memory::RegionKind;
use std::ops::Range;

/// Instruction slots and their decoded forms, one `Op` per slot in each.
#[derive(Default)]
pub(crate) struct Program {
    insns: Vec<Insn>,
    /// `singles[i]`: slot `i` decoded on its own.
    singles: Vec<Op>,
    /// `fused[i]`: `singles[i]` fused with `singles[i + 1]` if they fuse.
    fused: Vec<Op>,
    /// `proven[i]`: the region the access at slot `i` was proven to stay
    /// in (see `Vm::set_access_proofs`); its op skips checks.
    proven: Vec<Option<RegionKind>>,
    /// The code each set of proofs was derived from: a change to any slot
    /// in it withdraws them.
    proof_sources: Vec<Range<usize>>,
    /// Slots whose single op changed, appeared or went away since
    /// [`Program::take_changes`] (for engines that translate them).
    changes: Vec<Range<usize>>,
}

impl Program {
    /// The slots as loaded.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// The slots decoded one instruction per op.
    pub fn singles(&self) -> &[Op] {
        &self.singles
    }

    /// The slots decoded with pairs fused: an op here may run two
    /// instructions (see [`fuse`]).
    pub fn fused(&self) -> &[Op] {
        &self.fused
    }

    /// The region the access at `slot` was proven to stay in, if any.
    pub fn proof(&self, slot: usize) -> Option<RegionKind> {
        self.proven.get(slot).copied().flatten()
    }

    /// True if the access at `slot` runs without the checks a proof made redundant.
    pub fn is_proven(&self, slot: usize) -> bool {
        self.proof(slot).is_some()
    }

    /// Marks the accesses at `proofs` proven (each to stay in its region),
    /// by an analysis of the code in `source`; slots out of range are ignored.
    pub fn set_proofs(&mut self, source: Range<usize>, proofs: &[(usize, RegionKind)]) {
        let len = self.insns.len();
        self.proven.resize(len, None);
        for &(slot, region) in proofs {
            if slot < len && self.proven[slot].is_none() {
                self.proven[slot] = Some(region);
                self.redecode(slot..slot + 1);
            }
        }
        self.proof_sources
            .push(source.start.min(len)..source.end.min(len));
    }

    /// Withdraws the proofs that depend on slot `index` (all of them when
    /// `index` is `None`).
    pub fn drop_proofs(&mut self, index: Option<usize>) {
        let sources = std::mem::take(&mut self.proof_sources);
        let (hit, keep): (Vec<_>, Vec<_>) = sources
            .into_iter()
            .partition(|r| index.is_none_or(|i| r.contains(&i)));
        self.proof_sources = keep;
        for r in hit {
            for slot in r {
                if self.proven.get(slot).is_some_and(|p| p.is_some()) {
                    self.proven[slot] = None;
                    self.redecode(slot..slot + 1);
                }
            }
        }
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Appends slots (already validated by the caller).
    pub fn append(&mut self, chunk: &[Insn]) {
        let start = self.insns.len();
        self.insns.extend_from_slice(chunk);
        self.redecode(start..self.insns.len());
    }

    /// Replaces one slot (checked by the caller). Does nothing if `index`
    /// is out of range.
    pub fn replace(&mut self, index: usize, insn: Insn) {
        self.drop_proofs(Some(index));
        if let Some(slot) = self.insns.get_mut(index) {
            *slot = insn;
            self.redecode(index..index + 1);
        }
    }

    /// Sets the immediate of both slots of the `ld_imm64` at `index` (checked
    /// by the caller). Does nothing if the slots do not exist.
    pub fn set_imm64(&mut self, index: usize, value: u64) {
        self.drop_proofs(Some(index));
        if let Some([first, second]) = self.insns.get_mut(index..index.saturating_add(2)) {
            first.imm = value as u32 as i32;
            second.imm = (value >> 32) as u32 as i32;
            self.redecode(index..index + 2);
        }
    }

    /// The slot ranges whose single ops changed since the last call.
    /// (Overlapping and adjacent ranges are merged.)
    pub fn take_changes(&mut self) -> Vec<Range<usize>> {
        let mut changes = std::mem::take(&mut self.changes);
        changes.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(changes.len());
        for r in changes {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// Drops the slots after the first `len`.
    pub fn truncate(&mut self, len: usize) {
        if len < self.insns.len() {
            self.changes.push(len..self.insns.len());
            self.proof_sources.retain(|r| r.end <= len);
            self.proven.truncate(len);
            self.insns.truncate(len);
            self.redecode(len..len);
        }
    }

    /// Re-decodes after the slots in `changed` were written (or, for an
    /// empty range, the code was cut there). A single op depends on its slot
    /// and the next (an `ld_imm64`'s second half); a fused op on its single
    /// op and the next: so the ops from two slots before `changed` on.
    fn redecode(&mut self, changed: Range<usize>) {
        let len = self.insns.len();
        let to = changed.end.min(len);
        // Fill any new slots first so that every index below `len` exists.
        for ops in [&mut self.singles, &mut self.fused] {
            ops.truncate(len);
            ops.resize(len, Op::INVALID);
        }
        if changed.start < to {
            self.changes.push(changed.start..to);
        }
        for pc in changed.start.saturating_sub(1).min(len)..to {
            let op = decode(&self.insns, pc);
            let op = if self.is_proven(pc) { proven(op) } else { op };
            if pc < changed.start && self.singles[pc] != op {
                // An `ld_imm64` whose second half changed.
                self.changes.push(pc..pc + 1);
            }
            self.singles[pc] = op;
        }
        for pc in changed.start.saturating_sub(2).min(len)..to {
            let single = self.singles[pc];
            let next = self.singles.get(pc + 1).copied();
            self.fused[pc] = next.and_then(|n| fuse(single, n)).unwrap_or(single);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::decode::Kind;
    use crate::isa::asm::*;
    use crate::isa::{ALU_ADD, ALU_MUL, ALU_RSH};

    /// Every `Op` equals a fresh decode (and fusion) of its slots.
    fn in_step(p: &Program) -> bool {
        let n = p.insns.len();
        let single = |pc| {
            let op = decode(&p.insns, pc);
            if p.is_proven(pc) {
                proven(op)
            } else {
                op
            }
        };
        let fused = |pc: usize| {
            (pc + 1 < n)
                .then(|| fuse(single(pc), single(pc + 1)))
                .flatten()
                .unwrap_or(single(pc))
        };
        p.singles.len() == n
            && p.fused.len() == n
            && (0..n).all(|pc| p.singles[pc] == single(pc) && p.fused[pc] == fused(pc))
    }

    #[test]
    fn every_change_keeps_the_ops_in_step() {
        let mut p = Program::default();
        p.append(&[mov64_imm(0, 1)]);
        p.append(&ld_imm64(1, 0x1_0000_0002));
        p.append(&[exit()]);
        assert!(in_step(&p));
        assert_eq!(p.singles()[1].kind, Kind::LdImm64);
        assert_eq!(p.singles()[1].imm, 0x1_0000_0002);
        assert_eq!(p.singles()[2].kind, Kind::Invalid);

        p.set_imm64(1, 0xdead_beef_0000_0007);
        assert!(in_step(&p));
        assert_eq!(p.singles()[1].imm, 0xdead_beef_0000_0007);

        p.replace(0, ja(2));
        assert!(in_step(&p));
        assert_eq!((p.singles()[0].kind, p.singles()[0].aux), (Kind::Ja, 3));

        // Cutting an ld_imm64 in half leaves a first half that traps.
        p.truncate(2);
        assert!(in_step(&p));
        assert_eq!(p.singles()[1].kind, Kind::LdImm64Truncated);
        p.append(&[exit()]);
        assert!(in_step(&p));
        assert_eq!(p.singles()[1].kind, Kind::LdImm64);
    }

    #[test]
    fn proofs_pick_proven_loads_and_go_with_their_code() {
        use crate::isa::SIZE_DW;
        let mut p = Program::default();
        p.append(&[ldx(SIZE_DW, 0, 10, -8), ldx(SIZE_DW, 1, 10, -16), exit()]);
        p.set_proofs(
            0..3,
            &[
                (0, RegionKind::Stack),
                (1, RegionKind::Stack),
                (7, RegionKind::Stack),
            ],
        );
        assert!(in_step(&p));
        assert_eq!(p.singles()[0].kind, Kind::LdxP64);
        assert_eq!(p.proof(1), Some(RegionKind::Stack));
        assert_eq!(p.fused()[1].kind, Kind::LdxP64);
        // Code outside the analysed range does not matter to it.
        p.append(&[exit()]);
        p.replace(3, ja(-1));
        assert!(p.is_proven(0));
        // A change inside it withdraws the proofs.
        p.replace(2, ja(0));
        assert!(!p.is_proven(0) && !p.is_proven(1));
        assert!(in_step(&p));
        assert_eq!(p.singles()[0].kind, Kind::Ldx64);
        // Truncation drops them with their code.
        p.set_proofs(0..2, &[(0, RegionKind::Stack)]);
        p.truncate(1);
        assert!(p.is_proven(0));
        p.truncate(0);
        p.append(&[ldx(SIZE_DW, 0, 10, -8)]);
        assert!(!p.is_proven(0));
        assert!(in_step(&p));
    }

    #[test]
    fn fused_pairs_follow_changes_to_either_half() {
        let mut p = Program::default();
        p.append(&[mov64_reg(4, 2), alu64_imm(ALU_RSH, 4, 3), exit()]);
        assert!(in_step(&p));
        assert_eq!(p.fused()[0].kind, Kind::MovRsh64Imm);
        assert_eq!(p.fused()[1].kind, Kind::Rsh64Imm);
        p.replace(1, alu64_imm(ALU_ADD, 4, 1));
        assert!(in_step(&p));
        assert_eq!(p.fused()[0].kind, Kind::MovAdd64Imm);
        p.replace(0, mov64_imm(4, 1));
        assert!(in_step(&p));
        assert_eq!(p.fused()[0].kind, Kind::Mov64Imm);
        // A pair across two loads, undone by truncation.
        p.truncate(1);
        p.append(&[mov64_reg(0, 4)]);
        p.append(&[alu64_imm(ALU_MUL, 0, 3), exit()]);
        assert!(in_step(&p));
        assert_eq!(p.fused()[1].kind, Kind::MovMul64Imm);
        p.truncate(2);
        assert!(in_step(&p));
        assert_eq!(p.fused()[1].kind, Kind::Mov64Reg);
    }
}
