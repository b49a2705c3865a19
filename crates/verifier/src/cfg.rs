//! Control-flow graphs of functions: basic blocks, their successors, a
//! reverse post-order to visit them in, and the loop heads (targets of
//! retreating edges), where the analysis widens.

use bpf_vm::isa::*;

/// A maximal run of instructions entered only at its first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// First and one-past-last slot (relative to the program's code).
    pub start: usize,
    pub end: usize,
    pub succs: Vec<usize>,
}

/// Why a function's control flow is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CfgError {
    /// A jump at `from` leaves the function (to `to`, relative slot).
    JumpOutside { from: usize, to: i64 },
    /// Execution can run past the last instruction, which is at `at`.
    FallsOffEnd { at: usize },
    /// The function has no instructions.
    Empty,
}

/// The graph of one function.
#[derive(Clone, Debug)]
pub struct Cfg {
    pub blocks: Vec<Block>,
    /// Block of each slot of the function (`usize::MAX` for the second
    /// half of an `ld_imm64`), indexed by `slot - start`.
    block_of: Vec<usize>,
    pub start: usize,
    /// Blocks in reverse post-order from the entry (reachable ones only).
    pub rpo: Vec<usize>,
    /// Position of each block in `rpo` (`usize::MAX` if unreachable).
    pub order: Vec<usize>,
    /// Blocks entered by a retreating edge.
    pub loop_heads: Vec<bool>,
    /// Retreating edges (from block, to block).
    pub back_edges: Vec<(usize, usize)>,
    /// Slots (relative) of instructions no path from the entry reaches.
    pub unreachable: Vec<usize>,
}

/// Where control goes after the instruction at `pc`: the fall-through
/// slot and the jump target, as present.
fn successors(code: &[Insn], pc: usize) -> (Option<usize>, Option<i64>) {
    let insn = code[pc];
    let next = pc + if insn.is_ld_imm64() { 2 } else { 1 };
    match insn.class() {
        CLASS_JMP | CLASS_JMP32 => {
            let op = insn.op & 0xf0;
            if insn.op == OP_EXIT {
                (None, None)
            } else if op == JMP_CALL {
                (Some(next), None)
            } else if insn.op == OP_JA {
                (None, Some(pc as i64 + 1 + insn.off as i64))
            } else if insn.op == OP_GOTOL {
                (None, Some(pc as i64 + 1 + insn.imm as i64))
            } else {
                (Some(next), Some(pc as i64 + 1 + insn.off as i64))
            }
        }
        _ => (Some(next), None),
    }
}

impl Cfg {
    /// Builds the graph of the function at `start..end` of `code` (which
    /// validation has checked instruction by instruction).
    pub fn build(code: &[Insn], start: usize, end: usize) -> Result<Cfg, CfgError> {
        if start >= end || end > code.len() {
            return Err(CfgError::Empty);
        }
        let n = end - start;
        let mut leader = vec![false; n + 1];
        leader[0] = true;
        let mut second_half = vec![false; n];
        let mut pc = start;
        while pc < end {
            let (fall, jump) = successors(code, pc);
            if code[pc].is_ld_imm64() && pc + 1 < end {
                second_half[pc + 1 - start] = true;
            }
            if let Some(t) = jump {
                if t < start as i64 || t >= end as i64 {
                    return Err(CfgError::JumpOutside { from: pc, to: t });
                }
                leader[t as usize - start] = true;
                leader[pc + 1 - start] = true;
            } else if fall.is_none() {
                leader[pc + 1 - start] = true;
            }
            if fall.is_some_and(|f| f > end) {
                return Err(CfgError::FallsOffEnd { at: pc });
            }
            pc += if code[pc].is_ld_imm64() { 2 } else { 1 };
        }
        // Blocks.
        let mut blocks = Vec::new();
        let mut block_of = vec![usize::MAX; n];
        let mut s = 0;
        while s < n {
            let mut e = s + 1;
            while e < n && (!leader[e] || second_half[e]) {
                e += 1;
            }
            for (i, b) in block_of.iter_mut().enumerate().take(e).skip(s) {
                if !second_half[i] {
                    *b = blocks.len();
                }
            }
            blocks.push(Block {
                start: start + s,
                end: start + e,
                succs: Vec::new(),
            });
            s = e;
        }
        for block in blocks.iter_mut() {
            let mut last = block.end - 1;
            if last > block.start && second_half[last - start] {
                last -= 1;
            }
            let (fall, jump) = successors(code, last);
            let mut succs = Vec::new();
            if let Some(f) = fall {
                if f >= end {
                    return Err(CfgError::FallsOffEnd { at: last });
                }
                succs.push(block_of[f - start]);
            }
            if let Some(t) = jump {
                let b = block_of[t as usize - start];
                if !succs.contains(&b) {
                    succs.push(b);
                }
            }
            block.succs = succs;
        }
        let mut cfg = Cfg {
            blocks,
            block_of,
            start,
            rpo: Vec::new(),
            order: Vec::new(),
            loop_heads: Vec::new(),
            back_edges: Vec::new(),
            unreachable: Vec::new(),
        };
        cfg.order_blocks(second_half);
        Ok(cfg)
    }

    /// Depth-first search from the entry: reverse post-order, retreating
    /// edges, unreachable code.
    fn order_blocks(&mut self, second_half: Vec<bool>) {
        let n = self.blocks.len();
        // 0 = new, 1 = on the DFS stack, 2 = done
        let mut state = vec![0u8; n];
        let mut post = Vec::with_capacity(n);
        let mut heads = vec![false; n];
        let mut back = Vec::new();
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        state[0] = 1;
        while let Some((b, i)) = stack.pop() {
            if let Some(&s) = self.blocks[b].succs.get(i) {
                stack.push((b, i + 1));
                match state[s] {
                    0 => {
                        state[s] = 1;
                        stack.push((s, 0));
                    }
                    1 => {
                        heads[s] = true;
                        back.push((b, s));
                    }
                    _ => {}
                }
            } else {
                state[b] = 2;
                post.push(b);
            }
        }
        post.reverse();
        let mut order = vec![usize::MAX; n];
        for (i, b) in post.iter().enumerate() {
            order[*b] = i;
        }
        for (b, block) in self.blocks.iter().enumerate() {
            if state[b] == 0 {
                self.unreachable
                    .extend((block.start..block.end).filter(|s| !second_half[s - self.start]));
            }
        }
        self.rpo = post;
        self.order = order;
        self.loop_heads = heads;
        self.back_edges = back;
    }

    /// The block holding slot `pc` (absolute in the program's code).
    pub fn block_at(&self, pc: usize) -> Option<usize> {
        self.block_of
            .get(pc.checked_sub(self.start)?)
            .copied()
            .filter(|b| *b != usize::MAX)
    }

    /// Blocks of the natural loop of the back edge `from -> head`: those
    /// that reach `from` without passing through `head`.
    pub fn loop_body(&self, from: usize, head: usize) -> Vec<usize> {
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); self.blocks.len()];
        for (b, block) in self.blocks.iter().enumerate() {
            for s in &block.succs {
                preds[*s].push(b);
            }
        }
        let mut body = vec![head];
        let mut work = vec![from];
        while let Some(b) = work.pop() {
            if body.contains(&b) {
                continue;
            }
            body.push(b);
            work.extend(&preds[b]);
        }
        body.sort();
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::isa::asm::*;

    #[test]
    fn blocks_loops_and_dead_code() {
        // 0: r0 = 0; 1: r0 += 1; 2: if r0 < 10 goto 1; 3: exit; 4: exit (dead)
        let code = [
            mov64_imm(0, 0),
            alu64_imm(ALU_ADD, 0, 1),
            jmp_imm(JMP_JLT, 0, 10, -2),
            exit(),
            exit(),
        ];
        let cfg = Cfg::build(&code, 0, 5).unwrap();
        assert_eq!(cfg.blocks.len(), 4);
        assert_eq!(cfg.blocks[1].succs, vec![2, 1]);
        assert!(cfg.loop_heads[1]);
        assert_eq!(cfg.back_edges, vec![(1, 1)]);
        assert_eq!(cfg.unreachable, vec![4]);
        assert_eq!(cfg.loop_body(1, 1), vec![1]);
    }

    #[test]
    fn jumps_must_stay_inside_and_code_must_not_fall_off() {
        let code = [ja(3), exit()];
        assert_eq!(
            Cfg::build(&code, 0, 2).unwrap_err(),
            CfgError::JumpOutside { from: 0, to: 4 }
        );
        let code = [mov64_imm(0, 0)];
        assert_eq!(
            Cfg::build(&code, 0, 1).unwrap_err(),
            CfgError::FallsOffEnd { at: 0 }
        );
        let mut code = vec![mov64_imm(0, 0)];
        code.extend(ld_imm64(1, 5));
        code.push(exit());
        let cfg = Cfg::build(&code, 0, 4).unwrap();
        assert_eq!(cfg.blocks.len(), 1);
        assert_eq!(cfg.block_at(2), None);
    }
}
