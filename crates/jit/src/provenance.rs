//! Which region each load and store of a unit most likely touches: the
//! region its base register's value came from. The inline check then
//! tests that region alone (a compare against its bounds, no table
//! lookup; for the stack, bounds computed from r10, and no write barrier,
//! since the stack is never logged). A wrong guess costs only speed: an
//! access outside the guessed region fails the compare and takes the
//! checked slow path, exactly as an unguessed one would.
//!
//! A forward analysis over the unit: r10 points into the stack; `ld_imm64`
//! of an address in a data region points there; moves, and additions or
//! subtractions of scalars, keep a pointer's region; 64-bit stores of a
//! pointer to a frame slot (`*(u64 *)(r10 + off)`) and loads back from it
//! carry it through the stack, as clang spills them. Everything else
//! (arguments, loads through pointers, call results) is unknown.

use crate::analysis::{reads_writes, Unit};
use bpf_vm::exec::{Kind, Op};
use bpf_vm::RegionKind;
use std::collections::{BTreeMap, HashMap};

/// What a register or frame slot is known to point into.
type Region = Option<RegionKind>;

/// The state before an instruction: registers r0–r10, and frame slots by
/// their offset from r10.
#[derive(Clone, PartialEq, Eq)]
struct State {
    regs: [Region; 11],
    slots: BTreeMap<i64, RegionKind>,
}

impl State {
    fn entry() -> State {
        let mut regs = [None; 11];
        regs[10] = Some(RegionKind::Stack);
        State {
            regs,
            slots: BTreeMap::new(),
        }
    }

    /// The meet with `other`: what both agree on. True if `self` changed.
    fn meet(&mut self, other: &State) -> bool {
        let before = (self.regs, self.slots.len());
        for (a, b) in self.regs.iter_mut().zip(other.regs) {
            if *a != b {
                *a = None;
            }
        }
        self.slots.retain(|off, r| other.slots.get(off) == Some(r));
        before != (self.regs, self.slots.len())
    }
}

/// The region of a constant, if it is an address in a data region.
fn region_of_constant(v: u64) -> Region {
    RegionKind::of(v).filter(|k| *k != RegionKind::Code)
}

/// Frame slot offset of an access at `r10 + off`, if `base` is r10.
fn frame_slot(base: u8, off: u64) -> Option<i64> {
    (base == 10).then_some(off as i64)
}

/// Applies the instruction `op` to `s`.
fn step(op: &Op, s: &mut State) {
    use Kind::*;
    let (d, src, src2) = (op.dst as usize, op.src as usize, op.src2 as usize);
    match op.kind {
        Mov64Reg => s.regs[d] = s.regs[src],
        Add64Imm | Sub64Imm => s.regs[d] = s.regs[src],
        Add64Reg => s.regs[d] = s.regs[src].or(s.regs[src2]),
        Sub64Reg => s.regs[d] = s.regs[src],
        LdImm64 => s.regs[d] = region_of_constant(op.imm),
        Ldx64 | LdxP64 => {
            s.regs[d] = frame_slot(op.src, op.offset()).and_then(|o| s.slots.get(&o).copied())
        }
        Stx64 => {
            if let Some(o) = frame_slot(op.dst, op.offset()) {
                s.slots.retain(|k, _| k + 8 <= o || *k >= o + 8);
                if let Some(r) = s.regs[src] {
                    s.slots.insert(o, r);
                }
            }
        }
        St8 | St16 | St32 | St64 | Stx8 | Stx16 | Stx32 | Atomic32 | Atomic64 => {
            if let Some(o) = frame_slot(op.dst, op.offset()) {
                s.slots.retain(|k, _| k + 8 <= o || *k >= o + 8);
            }
            let (_, writes) = reads_writes(op);
            clear(s, writes);
        }
        _ => {
            let (_, writes) = reads_writes(op);
            clear(s, writes);
        }
    }
}

fn clear(s: &mut State, writes: u16) {
    for (r, region) in s.regs.iter_mut().enumerate() {
        if writes & (1 << r) != 0 {
            *region = None;
        }
    }
}

/// The region each load and store of `unit` (by slot) most likely
/// touches, where one is known.
pub fn guess_regions(ops: &[Op], unit: &Unit) -> BTreeMap<usize, RegionKind> {
    let mut states: HashMap<usize, State> = HashMap::new();
    states.insert(unit.entry, State::entry());
    let mut work = vec![unit.entry];
    let mut guesses = BTreeMap::new();
    // Each block is walked from its start; a block's entry state only
    // ever loses facts, so this ends.
    while let Some(start) = work.pop() {
        let mut s = states[&start].clone();
        let mut pc = start;
        loop {
            let op = &ops[pc];
            if let Some(base) = access_base(op) {
                match s.regs[base as usize] {
                    Some(region) => guesses.insert(pc, region),
                    None => guesses.remove(&pc),
                };
            }
            step(op, &mut s);
            let (succ, ends) = crate::analysis::successors(pc, op);
            let next = succ.first().copied();
            let falls_into_block = next.is_some_and(|n| unit.blocks.contains_key(&n));
            if ends || falls_into_block || next.is_none_or(|n| n >= ops.len()) {
                for t in succ.into_iter().filter(|t| unit.blocks.contains_key(t)) {
                    let changed = match states.get_mut(&t) {
                        Some(old) => old.meet(&s),
                        None => {
                            states.insert(t, s.clone());
                            true
                        }
                    };
                    if changed {
                        work.push(t);
                    }
                }
                break;
            }
            pc = next.expect("a successor");
        }
    }
    guesses
}

/// The base register of a load or store.
fn access_base(op: &Op) -> Option<u8> {
    use Kind::*;
    match op.kind {
        Ldx8 | Ldx16 | Ldx32 | Ldx64 | Ldxs8 | Ldxs16 | Ldxs32 | LdxP8 | LdxP16 | LdxP32
        | LdxP64 | LdxsP8 | LdxsP16 | LdxsP32 => Some(op.src),
        St8 | St16 | St32 | St64 | Stx8 | Stx16 | Stx32 | Stx64 | Atomic32 | Atomic64 => {
            Some(op.dst)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyse, Returns};
    use bpf_vm::isa::asm::*;
    use bpf_vm::isa::*;
    use bpf_vm::Vm;

    fn guesses(code: &[bpf_vm::Insn]) -> BTreeMap<usize, RegionKind> {
        let mut vm = Vm::default();
        vm.load_code(code).unwrap();
        let unit = analyse(vm.ops(), 0, Returns::R0).unwrap();
        guess_regions(vm.ops(), &unit)
    }

    #[test]
    fn stack_pointers_survive_arithmetic_spills_and_loops() {
        let mut code = vec![
            mov64_reg(2, 10),            // 0: r2 = r10
            alu64_imm(ALU_ADD, 2, -64),  // 1
            stx(SIZE_DW, 10, 2, -72),    // 2: spill r2
            mov64_imm(3, 0),             // 3
            ldx(SIZE_DW, 4, 10, -72),    // 4: loop: r4 = spilled r2
            alu64_reg(ALU_ADD, 4, 3),    // 5: r4 += i
            st(SIZE_B, 4, 0, 1),         // 6: *(u8 *)r4 = 1 -> stack
            ldx(SIZE_B, 5, 1, 0),        // 7: through r1 -> unknown
            alu64_imm(ALU_ADD, 3, 1),    // 8
            jmp_imm(JMP_JLT, 3, 10, -6), // 9
        ];
        code.extend(ld_imm64(6, RegionKind::Heap.base() + 16)); // 10
        code.extend([st(SIZE_W, 6, 4, 0), exit()]); // 12, 13
        let g = guesses(&code);
        assert_eq!(g.get(&2), Some(&RegionKind::Stack));
        assert_eq!(g.get(&6), Some(&RegionKind::Stack));
        assert_eq!(g.get(&7), None);
        assert_eq!(g.get(&12), Some(&RegionKind::Heap));
    }

    #[test]
    fn paths_that_disagree_and_calls_forget() {
        let code = [
            mov64_reg(2, 10),          // 0
            jmp_imm(JMP_JEQ, 1, 0, 1), // 1
            mov64_reg(2, 1),           // 2: r2 = r1 on one path
            st(SIZE_B, 2, -1, 0),      // 3: unknown
            mov64_reg(0, 10),          // 4
            call_local(2),             // 5
            st(SIZE_B, 0, -1, 0),      // 6: r0 from the call: unknown
            exit(),                    // 7
            exit(),                    // 8
        ];
        let g = guesses(&code);
        assert_eq!(g.get(&3), None);
        assert_eq!(g.get(&6), None);
    }
}
