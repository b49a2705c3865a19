//! What translation needs to know about a unit before emitting code.
//!
//! A *unit* is the code reachable from one entry slot by falling through
//! and jumping (calls lead to other units): a BPF function, entered at its
//! first slot, or — for resuming a paused run or taking over from the
//! interpreter — at any slot inside one. The analysis finds its basic
//! blocks, its *checkpoints* and the instruction costs the exact budget
//! needs, and which caller registers the unit reads.
//!
//! Checkpoints are the unit's entry, the targets of backward jumps, and
//! the slot after every call. Every cycle passes through a backward jump,
//! so between two checkpoints execution is acyclic and has a longest path:
//! a checkpoint that finds at least that much fuel left can run to the next
//! checkpoint without counting instruction by instruction.

use bpf_vm::exec::{Kind, Op};
use bpf_vm::RegionKind;
use std::collections::{BTreeMap, BTreeSet};

/// Registers a callee can read from its caller without a parameter: r0 and
/// r6–r9 (bit `n` stands for `rn`).
pub const CALLER_REGS: u16 = 1 | (0b1111 << 6);

/// One basic block: its first slot and what it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// Instructions in the block (an `ld_imm64` counts once).
    pub cost: u64,
    /// For checkpoints: the most instructions any path from here runs
    /// before it reaches the next checkpoint (this block included).
    pub reserve: Option<u64>,
}

/// The analysis of one unit.
#[derive(Debug, Clone)]
pub struct Unit {
    pub entry: usize,
    pub returns: Returns,
    /// Block starts in slot order.
    pub blocks: BTreeMap<usize, BlockInfo>,
    /// Slots outside the code that control reaches (each traps when fetched).
    pub out_of_code: BTreeSet<usize>,
    /// Registers among [`CALLER_REGS`] that the unit may read before it
    /// writes them: the caller's values, read at entry.
    pub exposed: u16,
    /// Slots of the unit's instructions, in order.
    pub slots: Vec<usize>,
    /// Per call (its slot): the argument registers r1–r5 that are read
    /// after it returns before they are written (reloaded from the
    /// callee's, which it leaves in `JitCtx::regs`).
    pub args_live_after_call: BTreeMap<usize, u16>,
    /// Accesses a verifier proved to stay in one region
    /// ([`bpf_vm::Vm::access_proof`]; the caller of [`analyse`] fills it in).
    pub proofs: BTreeMap<usize, RegionKind>,
    /// The region each access most likely touches, from its pointer's
    /// provenance (`provenance.rs`; filled in like `proofs`).
    pub guesses: BTreeMap<usize, RegionKind>,
}

/// Argument registers r1–r5.
pub const ARG_REGS: u16 = 0b111110;

/// What a unit's `exit` hands back to its caller. The interpreter's
/// register file is shared, so a caller may read r1–r5 as the callee left
/// them; most callers never do (compiled C treats them as clobbered), and
/// a unit that need not keep them until its exit frees five registers.
/// Each unit is compiled for the variant its callers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returns {
    /// r0 only (r1–r5 at the exit are unspecified).
    R0,
    /// r0–r5.
    All,
}

impl Returns {
    /// Index of the variant in the engine's slot tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The registers an `exit` reads.
    fn exit_reads(self) -> u16 {
        match self {
            Returns::R0 => 1,
            Returns::All => 1 | ARG_REGS,
        }
    }

    /// The variant a call must ask for when `live` (of r1–r5) are read
    /// after it.
    pub fn for_live(live: u16) -> Returns {
        if live & ARG_REGS == 0 {
            Returns::R0
        } else {
            Returns::All
        }
    }
}

/// Why a unit cannot be translated (it runs on the interpreter instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub pc: usize,
    pub what: String,
}

/// Where control can go after the instruction at `pc`, and whether the
/// instruction ends a block.
pub fn successors(pc: usize, op: &Op) -> (Vec<usize>, bool) {
    use Kind::*;
    match op.kind {
        LdImm64 => (vec![pc + 2], false),
        Ja => (vec![op.aux as usize], true),
        Exit | Invalid | LdImm64Truncated => (vec![], true),
        CallLocal | CallHelper | CallRuntime | Callx | LdAbs | LdInd => (vec![pc + 1], true),
        k if is_conditional_jump(k) => (vec![op.aux as usize, pc + 1], true),
        _ => (vec![pc + 1], false),
    }
}

/// True for the single-instruction conditional jumps.
pub fn is_conditional_jump(kind: Kind) -> bool {
    use Kind::*;
    matches!(
        kind,
        Jeq64Imm
            | Jeq64Reg
            | Jgt64Imm
            | Jgt64Reg
            | Jge64Imm
            | Jge64Reg
            | Jset64Imm
            | Jset64Reg
            | Jne64Imm
            | Jne64Reg
            | Jsgt64Imm
            | Jsgt64Reg
            | Jsge64Imm
            | Jsge64Reg
            | Jlt64Imm
            | Jlt64Reg
            | Jle64Imm
            | Jle64Reg
            | Jslt64Imm
            | Jslt64Reg
            | Jsle64Imm
            | Jsle64Reg
            | Jeq32Imm
            | Jeq32Reg
            | Jgt32Imm
            | Jgt32Reg
            | Jge32Imm
            | Jge32Reg
            | Jset32Imm
            | Jset32Reg
            | Jne32Imm
            | Jne32Reg
            | Jsgt32Imm
            | Jsgt32Reg
            | Jsge32Imm
            | Jsge32Reg
            | Jlt32Imm
            | Jlt32Reg
            | Jle32Imm
            | Jle32Reg
            | Jslt32Imm
            | Jslt32Reg
            | Jsle32Imm
            | Jsle32Reg
    )
}

/// True for the kinds the translator handles. Deliberately without a
/// wildcard: a new kind (a new instruction, a new call form) does not
/// compile until it is either translated or refused here, and a unit
/// holding a refused kind runs on the interpreter — never mis-run.
/// (The fused kinds exist only in the interpreter's own copy of the code.)
fn translatable(kind: Kind) -> bool {
    use Kind::*;
    match kind {
        Add64Imm | Add64Reg | Sub64Imm | Sub64Reg | Mul64Imm | Mul64Reg | Div64Imm | Div64Reg
        | SDiv64Imm | SDiv64Reg | Or64Imm | Or64Reg | And64Imm | And64Reg | Lsh64Imm | Lsh64Reg
        | Rsh64Imm | Rsh64Reg | Neg64 | Mod64Imm | Mod64Reg | SMod64Imm | SMod64Reg | Xor64Imm
        | Xor64Reg | Mov64Imm | Mov64Reg | Movsx64From8 | Movsx64From16 | Movsx64From32
        | Arsh64Imm | Arsh64Reg | Swap16 | Swap32 | Swap64 | Zext16 | Zext32 | Add32Imm
        | Add32Reg | Sub32Imm | Sub32Reg | Mul32Imm | Mul32Reg | Div32Imm | Div32Reg
        | SDiv32Imm | SDiv32Reg | Or32Imm | Or32Reg | And32Imm | And32Reg | Lsh32Imm | Lsh32Reg
        | Rsh32Imm | Rsh32Reg | Neg32 | Mod32Imm | Mod32Reg | SMod32Imm | SMod32Reg | Xor32Imm
        | Xor32Reg | Mov32Imm | Mov32Reg | Movsx32From8 | Movsx32From16 | Arsh32Imm | Arsh32Reg
        | Nop | Ja | Jeq64Imm | Jeq64Reg | Jgt64Imm | Jgt64Reg | Jge64Imm | Jge64Reg
        | Jset64Imm | Jset64Reg | Jne64Imm | Jne64Reg | Jsgt64Imm | Jsgt64Reg | Jsge64Imm
        | Jsge64Reg | Jlt64Imm | Jlt64Reg | Jle64Imm | Jle64Reg | Jslt64Imm | Jslt64Reg
        | Jsle64Imm | Jsle64Reg | Jeq32Imm | Jeq32Reg | Jgt32Imm | Jgt32Reg | Jge32Imm
        | Jge32Reg | Jset32Imm | Jset32Reg | Jne32Imm | Jne32Reg | Jsgt32Imm | Jsgt32Reg
        | Jsge32Imm | Jsge32Reg | Jlt32Imm | Jlt32Reg | Jle32Imm | Jle32Reg | Jslt32Imm
        | Jslt32Reg | Jsle32Imm | Jsle32Reg | CallLocal | CallHelper | CallRuntime | Callx
        | Exit | LdImm64 | LdImm64Truncated | LdAbs | LdInd | Ldx8 | Ldx16 | Ldx32 | Ldx64
        | Ldxs8 | Ldxs16 | Ldxs32 | LdxP8 | LdxP16 | LdxP32 | LdxP64 | LdxsP8 | LdxsP16
        | LdxsP32 | St8 | St16 | St32 | St64 | Stx8 | Stx16 | Stx32 | Stx64 | Atomic32
        | Atomic64 | Invalid => true,
        MovAdd64Imm | MovAdd64Reg | MovSub64Imm | MovSub64Reg | MovMul64Imm | MovMul64Reg
        | MovDiv64Imm | MovDiv64Reg | MovSDiv64Imm | MovSDiv64Reg | MovOr64Imm | MovOr64Reg
        | MovAnd64Imm | MovAnd64Reg | MovLsh64Imm | MovLsh64Reg | MovRsh64Imm | MovRsh64Reg
        | MovMod64Imm | MovMod64Reg | MovSMod64Imm | MovSMod64Reg | MovXor64Imm | MovXor64Reg
        | MovArsh64Imm | MovArsh64Reg | MovAdd32Imm | MovAdd32Reg | MovSub32Imm | MovSub32Reg
        | MovMul32Imm | MovMul32Reg | MovOr32Imm | MovOr32Reg | MovAnd32Imm | MovAnd32Reg
        | MovLsh32Imm | MovLsh32Reg | MovRsh32Imm | MovRsh32Reg | MovXor32Imm | MovXor32Reg
        | MovArsh32Imm | MovArsh32Reg | MovMov64Imm | MovMov64Reg | MovMov32Imm | MovMov32Reg
        | AddJeqImm | AddJeqReg | AddJgtImm | AddJgtReg | AddJgeImm | AddJgeReg | AddJsetImm
        | AddJsetReg | AddJneImm | AddJneReg | AddJsgtImm | AddJsgtReg | AddJsgeImm
        | AddJsgeReg | AddJltImm | AddJltReg | AddJleImm | AddJleReg | AddJsltImm | AddJsltReg
        | AddJsleImm | AddJsleReg | MovExit | MovImmExit => false,
    }
}

/// Analyses the unit entered at `entry` of `ops`.
pub fn analyse(ops: &[Op], entry: usize, returns: Returns) -> Result<Unit, Unsupported> {
    let len = ops.len();
    let mut seen = BTreeSet::new();
    let mut out_of_code = BTreeSet::new();
    let mut starts = BTreeSet::from([entry]);
    let mut checkpoints = BTreeSet::from([entry]);
    let mut work = vec![entry];
    while let Some(pc) = work.pop() {
        if pc >= len {
            out_of_code.insert(pc);
            continue;
        }
        if !seen.insert(pc) {
            continue;
        }
        let op = &ops[pc];
        if !translatable(op.kind) {
            return Err(Unsupported {
                pc,
                what: format!("no translation for {:?}", op.kind),
            });
        }
        let (succ, ends) = successors(pc, op);
        let is_call = is_call_like(op.kind);
        for &s in &succ {
            if ends {
                starts.insert(s);
            }
            if is_call || s <= pc {
                checkpoints.insert(s);
            }
            work.push(s);
        }
    }
    let slots: Vec<usize> = seen.iter().copied().collect();
    // A fall-through into a block start ends the block before it, so the
    // block of `pc` is the run of slots from its start to the next start.
    let mut blocks = BTreeMap::new();
    for &start in starts.iter().filter(|s| seen.contains(s)) {
        let mut cost = 0;
        let mut pc = start;
        loop {
            cost += 1;
            let (succ, ends) = successors(pc, &ops[pc]);
            let next = succ.first().copied();
            match next {
                Some(n) if !ends && !starts.contains(&n) && n < len => pc = n,
                _ => break,
            }
        }
        blocks.insert(
            start,
            BlockInfo {
                cost,
                reserve: None,
            },
        );
    }
    // Longest path to the next checkpoint, from the last slot backwards:
    // every successor that is not a checkpoint lies further on.
    let mut dist: BTreeMap<usize, u64> = BTreeMap::new();
    for &pc in slots.iter().rev() {
        let (succ, _) = successors(pc, &ops[pc]);
        let after = succ
            .iter()
            .filter(|s| !checkpoints.contains(s) && **s < len)
            .map(|s| dist.get(s).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        dist.insert(pc, 1 + after);
    }
    for (start, info) in blocks.iter_mut() {
        if checkpoints.contains(start) {
            info.reserve = Some(dist[start]);
        }
    }
    let exposed = exposed_registers(ops, entry, &slots);
    let live = live_registers(ops, &slots, returns);
    let args_live_after_call = slots
        .iter()
        .filter(|&&pc| {
            matches!(
                ops[pc].kind,
                Kind::CallLocal | Kind::Callx | Kind::CallHelper | Kind::CallRuntime
            )
        })
        .map(|&pc| (pc, live.get(&(pc + 1)).copied().unwrap_or(0) & ARG_REGS))
        .collect();
    Ok(Unit {
        entry,
        returns,
        blocks,
        out_of_code,
        exposed,
        slots,
        args_live_after_call,
        proofs: BTreeMap::new(),
        guesses: BTreeMap::new(),
    })
}

/// True for the instructions that leave the unit's code for a while:
/// calls of every kind and legacy packet loads (their next slot is a
/// checkpoint).
pub fn is_call_like(kind: Kind) -> bool {
    use Kind::*;
    matches!(
        kind,
        CallLocal | CallHelper | CallRuntime | Callx | LdAbs | LdInd
    )
}

/// Registers an instruction reads and writes (bit `n`: `rn`). Calls read
/// the registers a callee may read from its caller and write r0–r5
/// (helpers too: one that calls back into BPF hands them to its callback,
/// and the callback's r1–r5 stay).
pub fn reads_writes(op: &Op) -> (u16, u16) {
    use Kind::*;
    let bit = |r: u8| 1u16 << r;
    let (d, s) = (bit(op.dst), bit(op.src));
    match op.kind {
        // (What `exit` reads depends on the unit: see `Returns`.)
        Exit => (ARG_REGS | 1, 0),
        Ja | Invalid | LdImm64Truncated => (0, 0),
        CallLocal | Callx => (CALLER_REGS | 0b111110 | d, 0b111111),
        CallHelper | CallRuntime => (CALLER_REGS | ARG_REGS, 0b111111),
        LdAbs => (0, 1),
        LdInd => (s, 1),
        LdImm64 => (0, d),
        Ldx8 | Ldx16 | Ldx32 | Ldx64 | Ldxs8 | Ldxs16 | Ldxs32 | LdxP8 | LdxP16 | LdxP32
        | LdxP64 | LdxsP8 | LdxsP16 | LdxsP32 => (s, d),
        St8 | St16 | St32 | St64 => (d, 0),
        Stx8 | Stx16 | Stx32 | Stx64 => (d | s, 0),
        // Atomics may write `src` (fetch) or r0 (cmpxchg), and read r0.
        Atomic32 | Atomic64 => (d | s | 1, s | 1),
        k if is_conditional_jump(k) => (d | s, 0),
        Mov64Imm | Mov32Imm => (0, d),
        // ALU in three-address form: r[dst] = r[src] op (imm | r[src2]).
        _ => (s | bit(op.src2), d),
    }
}

/// Registers live at each slot of the unit (read on some path before
/// being written), with `exit` reading what `returns` hands back.
fn live_registers(ops: &[Op], slots: &[usize], returns: Returns) -> BTreeMap<usize, u16> {
    let mut live: BTreeMap<usize, u16> = slots.iter().map(|&pc| (pc, 0)).collect();
    let mut changed = true;
    while changed {
        changed = false;
        for &pc in slots.iter().rev() {
            let op = &ops[pc];
            let (mut reads, writes) = reads_writes(op);
            if op.kind == Kind::Exit {
                reads = returns.exit_reads();
            }
            let out = successors(pc, op)
                .0
                .iter()
                .map(|s| live.get(s).copied().unwrap_or(0))
                .fold(0, |a, b| a | b);
            let new = reads | (out & !writes);
            let slot = live.get_mut(&pc).expect("slot of the unit");
            if new != *slot {
                *slot = new;
                changed = true;
            }
        }
    }
    live
}

/// The registers among [`CALLER_REGS`] that some path from `entry` reads
/// before writing (a must-be-written forward analysis over the unit).
fn exposed_registers(ops: &[Op], entry: usize, slots: &[usize]) -> u16 {
    let all: u16 = 0x7ff;
    // written[pc]: registers written on every path from entry to pc.
    let mut written: BTreeMap<usize, u16> = slots.iter().map(|&pc| (pc, all)).collect();
    written.insert(entry, !CALLER_REGS & all);
    let mut exposed = 0;
    let mut changed = true;
    while changed {
        changed = false;
        for &pc in slots {
            let have = written[&pc];
            let op = &ops[pc];
            let (reads, writes) = reads_writes(op);
            exposed |= reads & !have & CALLER_REGS;
            let after = have | writes;
            for s in successors(pc, op).0 {
                if let Some(w) = written.get_mut(&s) {
                    let meet = *w & after;
                    if meet != *w {
                        *w = meet;
                        changed = true;
                    }
                }
            }
        }
    }
    exposed
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::isa::asm::*;
    use bpf_vm::isa::*;
    use bpf_vm::Vm;

    fn unit(code: &[bpf_vm::Insn], entry: usize) -> Unit {
        let mut vm = Vm::default();
        vm.load_code(code).unwrap();
        analyse(vm.ops(), entry, Returns::All).unwrap()
    }

    #[test]
    fn loops_get_checkpoints_with_the_longest_path_to_the_next() {
        // 0: r0 = 0; 1: r1 = 10; 2: r0 += r1 (loop head); 3: r1 -= 1;
        // 4: if r1 != 0 goto 2; 5: exit
        let code = [
            mov64_imm(0, 0),
            mov64_imm(1, 10),
            alu64_reg(ALU_ADD, 0, 1),
            alu64_imm(ALU_SUB, 1, 1),
            jmp_imm(JMP_JNE, 1, 0, -3),
            exit(),
        ];
        let u = unit(&code, 0);
        let starts: Vec<_> = u.blocks.keys().copied().collect();
        assert_eq!(starts, [0, 2, 5]);
        assert_eq!(u.blocks[&0].reserve, Some(2));
        // From the loop head: 2, 3, 4 then either 2 (a checkpoint) or 5.
        assert_eq!(u.blocks[&2].reserve, Some(4));
        assert_eq!(u.blocks[&5].reserve, None);
        assert_eq!(u.blocks[&2].cost, 3);
        assert_eq!(u.exposed, 0);
    }

    #[test]
    fn caller_registers_read_before_written_are_exposed() {
        // r0 = r6 + r1; exit  -> reads r6 from the caller
        let u = unit(&[alu64_reg(ALU_ADD, 6, 1), mov64_reg(0, 6), exit()], 0);
        assert_eq!(u.exposed, 1 << 6);
        // r7 written first; r0 read by exit only on a path that skips its write.
        let code = [
            mov64_imm(7, 1),
            jmp_imm(JMP_JEQ, 1, 0, 1),
            mov64_reg(0, 7),
            exit(),
        ];
        assert_eq!(unit(&code, 0).exposed, 1);
        // A local call hands the caller registers on.
        let code = [call_local(1), exit(), mov64_imm(0, 1), exit()];
        assert_eq!(unit(&code, 0).exposed, CALLER_REGS);
    }

    #[test]
    fn arguments_read_after_a_call_are_found() {
        // r1 is read after the call; r2 is written first; r3-r5 reach the
        // `exit`, which hands them to the caller.
        let code = [
            call_local(3),
            mov64_imm(2, 0),
            alu64_reg(ALU_ADD, 1, 2),
            mov64_reg(0, 1),
            exit(),
        ];
        let mut code = code.to_vec();
        code[0] = call_local(4);
        code.push(exit());
        let u = unit(&code, 0);
        assert_eq!(u.args_live_after_call[&0], ARG_REGS & !(1 << 2));
        let u = unit(&[call_local(1), exit(), exit()], 0);
        assert_eq!(u.args_live_after_call[&0], ARG_REGS);
        // A unit that hands back r0 only needs nothing of r1-r5.
        let mut vm = Vm::default();
        vm.load_code(&code).unwrap();
        let u = analyse(vm.ops(), 0, Returns::R0).unwrap();
        assert_eq!(u.args_live_after_call[&0], 1 << 1);
    }

    #[test]
    fn falling_off_the_end_is_recorded() {
        let mut vm = Vm::default();
        vm.load_code(&[mov64_imm(0, 1), exit(), mov64_imm(0, 2)])
            .unwrap();
        let u = analyse(vm.ops(), 2, Returns::All).unwrap();
        assert_eq!(u.out_of_code, BTreeSet::from([3]));
    }
}
