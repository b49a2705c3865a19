//! Kernel mode: loops. The kernel (since 5.3) accepts a loop when walking
//! it path by path reaches its exit, and refuses the program when that walk
//! passes `BPF_COMPLEXITY_LIMIT_INSNS`; unprivileged programs may have no
//! loop at all.
//!
//! We decide termination with a ranking argument: a loop ends if some
//! register or spilled stack slot changes by a constant step of one sign
//! (`i += 1`, `n -= 4`) on every path around it, and the fixpoint state
//! at every back edge bounds it on the side it moves toward (the exit
//! test's refinement) without room to wrap around. The trip count that
//! bound gives estimates how many instructions the kernel would walk.

use crate::cfg::Cfg;
use crate::diag::{Rule, Severity};
use crate::engine::Analyzer;
use crate::mem::access_size;
use crate::state::{Slot, State};
use crate::value::Value;
use bpf_vm::isa::*;
use std::collections::{BTreeMap, BTreeSet};

/// A location a counter can live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Loc {
    Reg(u8),
    /// The stack bytes at this offset from r10, of this size (4 or 8: a
    /// spilled register or a 32-bit variable).
    Slot(i64, u8),
}

/// `value now = (value of `base` at the loop head + delta) mod 2^(8*width)`,
/// delta in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Delta {
    base: Loc,
    lo: i64,
    hi: i64,
    /// Bytes the value wraps at (8: 64-bit arithmetic; 4: 32-bit
    /// arithmetic or a 32-bit variable).
    width: u8,
    /// Shifted left by 32 (the first half of `r <<= 32; r >>= 32`, the
    /// zero extension of a 32-bit value): not a counter until shifted back.
    shifted: bool,
}

impl Delta {
    fn at(base: Loc, width: u8) -> Delta {
        Delta {
            base,
            lo: 0,
            hi: 0,
            width,
            shifted: false,
        }
    }

    fn narrowed(self, width: u8) -> Delta {
        Delta {
            width: self.width.min(width),
            ..self
        }
    }
}

type Deltas = BTreeMap<Loc, Delta>;

fn join(a: &Deltas, b: &Deltas) -> Deltas {
    a.iter()
        .filter_map(|(l, x)| {
            let y = b.get(l)?;
            (x.base == y.base && x.shifted == y.shifted).then(|| {
                (
                    *l,
                    Delta {
                        base: x.base,
                        lo: x.lo.min(y.lo),
                        hi: x.hi.max(y.hi),
                        width: x.width.min(y.width),
                        shifted: x.shifted,
                    },
                )
            })
        })
        .collect()
}

fn step(d: &mut Deltas, insn: Insn) {
    let dst = Loc::Reg(insn.dst);
    let class = insn.class();
    match class {
        CLASS_ALU | CLASS_ALU64 => {
            let op = insn.op & 0xf0;
            let x = insn.op & SRC_X != 0;
            let width = if class == CLASS_ALU { 4 } else { 8 };
            let cur = d.get(&dst).copied();
            let next = match (op, x, cur) {
                (ALU_ADD | ALU_SUB, false, Some(v)) if !v.shifted => {
                    let k = if op == ALU_ADD {
                        insn.imm as i64
                    } else {
                        -(insn.imm as i64)
                    };
                    Some(Delta {
                        lo: v.lo.saturating_add(k),
                        hi: v.hi.saturating_add(k),
                        ..v.narrowed(width)
                    })
                }
                (ALU_MOV, true, _) if insn.off == 0 => d
                    .get(&Loc::Reg(insn.src))
                    .filter(|v| !v.shifted || width == 8)
                    .map(|v| v.narrowed(width)),
                (ALU_LSH, false, Some(v)) if width == 8 && insn.imm == 32 && !v.shifted => {
                    Some(Delta { shifted: true, ..v })
                }
                (ALU_RSH, false, Some(v)) if width == 8 && insn.imm == 32 && v.shifted => {
                    Some(Delta {
                        shifted: false,
                        ..v.narrowed(4)
                    })
                }
                _ => None,
            };
            match next {
                Some(v) => d.insert(dst, v),
                None => d.remove(&dst),
            };
        }
        CLASS_LD => {
            d.remove(&dst);
            if !insn.is_ld_imm64() {
                // LD_ABS/LD_IND clobber r0-r5.
                for r in 0..=5 {
                    d.remove(&Loc::Reg(r));
                }
            }
        }
        CLASS_LDX => {
            let size = access_size(insn.op) as u8;
            let plain = insn.op & 0xe0 == MODE_MEM;
            let from = Loc::Slot(insn.off as i64, size);
            match d.get(&from).copied() {
                Some(v) if insn.src == REG_FP && plain && !v.shifted => {
                    d.insert(dst, v.narrowed(size))
                }
                _ => d.remove(&dst),
            };
        }
        CLASS_ST | CLASS_STX => {
            let off = insn.off as i64;
            let atomic = insn.op & 0xe0 == MODE_ATOMIC;
            if insn.dst == REG_FP {
                let size = access_size(insn.op) as i64;
                // Slots the store overlaps lose what they held.
                d.retain(|l, _| match l {
                    Loc::Slot(o, n) => *o + *n as i64 <= off || *o >= off + size,
                    _ => true,
                });
                if class == CLASS_STX && !atomic && (size == 8 || size == 4) && off % size == 0 {
                    if let Some(v) = d.get(&Loc::Reg(insn.src)).copied().filter(|v| !v.shifted) {
                        d.insert(Loc::Slot(off, size as u8), v.narrowed(size as u8));
                    }
                }
            } else {
                // A store through another pointer may hit any slot.
                d.retain(|l, _| matches!(l, Loc::Reg(_)));
            }
            if atomic && insn.imm & ATOMIC_FETCH != 0 {
                d.remove(&Loc::Reg(insn.src));
                d.remove(&Loc::Reg(0));
            }
        }
        CLASS_JMP if insn.op & 0xf0 == JMP_CALL => {
            for r in 0..=5 {
                d.remove(&Loc::Reg(r));
            }
            if !(insn.src == CALL_HELPER && writes_no_memory(insn.imm as u32)) {
                d.retain(|l, _| matches!(l, Loc::Reg(_)));
            }
        }
        _ => {}
    }
}

/// True for kernel helpers that write no memory of the program's (their
/// prototype has no argument they fill and no callback).
fn writes_no_memory(id: u32) -> bool {
    use bpf_kabi::Arg;
    bpf_kabi::helpers::prototype(id).is_some_and(|p| {
        p.callback.is_none()
            && !p.args.iter().any(|a| {
                matches!(
                    a,
                    Arg::UninitMem
                        | Arg::MemRw
                        | Arg::MemRwOrNull
                        | Arg::UninitMapValue
                        | Arg::Long
                )
            })
    })
}

/// Deltas at the end of each back edge into `head`, over all paths of the loop.
fn deltas_at_back_edges(
    cfg: &Cfg,
    code: &[Insn],
    head: usize,
    body: &BTreeSet<usize>,
) -> BTreeMap<usize, Deltas> {
    let mut start: Deltas = BTreeMap::new();
    for r in 0..10 {
        start.insert(Loc::Reg(r), Delta::at(Loc::Reg(r), 8));
    }
    for i in 1..=128 {
        for size in [4u8, 8] {
            let l = Loc::Slot(-4 * i, size);
            if (4 * i) % size as i64 == 0 {
                start.insert(l, Delta::at(l, size));
            }
        }
    }
    let order: Vec<usize> = cfg
        .rpo
        .iter()
        .copied()
        .filter(|b| body.contains(b))
        .collect();
    let mut input: BTreeMap<usize, Deltas> = BTreeMap::new();
    let mut at_back: BTreeMap<usize, Deltas> = BTreeMap::new();
    let mut visits: BTreeMap<usize, u32> = BTreeMap::new();
    input.insert(head, start.clone());
    for _round in 0..20 {
        let mut changed = false;
        for &b in &order {
            let Some(mut d) = input.get(&b).cloned() else {
                continue;
            };
            let block = &cfg.blocks[b];
            let mut pc = block.start;
            while pc < block.end {
                step(&mut d, code[pc]);
                pc += if code[pc].is_ld_imm64() { 2 } else { 1 };
            }
            for &s in &block.succs {
                if s == head {
                    let merged = match at_back.get(&b) {
                        Some(old) => join(old, &d),
                        None => d.clone(),
                    };
                    at_back.insert(b, merged);
                    continue;
                }
                if !body.contains(&s) {
                    continue;
                }
                let new = match input.get(&s) {
                    Some(old) => {
                        let j = join(old, &d);
                        let v = visits.entry(s).or_insert(0);
                        *v += 1;
                        // An inner loop that keeps moving a value: forget it.
                        if *v > 3 {
                            j.into_iter()
                                .filter(|(l, x)| old.get(l) == Some(x))
                                .collect()
                        } else {
                            j
                        }
                    }
                    None => d.clone(),
                };
                if input.get(&s) != Some(&new) {
                    input.insert(s, new);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    at_back
}

/// The scalar at `loc` in the innermost frame of `st`, or that of a
/// register known to hold the same value (the same delta from the same
/// base: a 32-bit variable and the register it was loaded into).
fn value_at(st: &State, loc: Loc, deltas: &Deltas) -> Option<crate::scalar::Scalar> {
    let own = match loc {
        Loc::Reg(r) => st.reg(r).as_scalar(),
        Loc::Slot(off, 8) if off % 8 == 0 => match st.cur().slot(((-off - 1) / 8) as usize) {
            Slot::Spill(Value::Scalar(s, _)) => Some(s),
            _ => None,
        },
        Loc::Slot(..) => None,
    };
    let delta = deltas.get(&loc)?;
    let copies = (0..10u8).filter_map(|r| {
        (deltas.get(&Loc::Reg(r)) == Some(delta))
            .then(|| st.reg(r).as_scalar())
            .flatten()
    });
    own.into_iter()
        .chain(copies)
        .min_by_key(|s| s.umax.saturating_sub(s.umin))
}

/// Most back-edge arrivals a counter allows, if it is one: `edges` are
/// the state and the deltas along each back edge.
fn trips(delta: &Delta, loc: Loc, edges: &[(&State, &Deltas)]) -> Option<u64> {
    if delta.base != loc || delta.shifted || (delta.lo <= 0 && delta.hi >= 0) {
        return None;
    }
    let wide = delta.width >= 8;
    let limit: u128 = 1 << (8 * delta.width as u32);
    let mut worst = 0u64;
    for (st, deltas) in edges {
        let v = value_at(st, loc, deltas)?;
        let t = if delta.lo > 0 {
            let step = delta.lo as u128;
            // Unsigned: bounded above with no room to wrap.
            let unsigned = ((v.umax as u128 + delta.hi as u128) < limit)
                .then(|| (v.umax - v.umin) as u128 / step + 1);
            let signed = (wide && v.smax.checked_add(delta.hi).is_some())
                .then(|| (v.smax as i128 - v.smin as i128) as u128 / step + 1)
                .filter(|_| v.smax < i64::MAX / 2);
            match (unsigned, signed) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                _ => return None,
            }
        } else {
            let step = (-delta.hi) as u128;
            let unsigned = (v.umin as i128 + delta.lo as i128 >= 0)
                .then(|| (v.umax - v.umin) as u128 / step + 1);
            let signed = (wide && v.smin.checked_add(delta.lo).is_some() && v.smin > i64::MIN / 2)
                .then(|| (v.smax as i128 - v.smin as i128) as u128 / step + 1);
            match (unsigned, signed) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                _ => return None,
            }
        };
        // A bound of the full range proves nothing useful.
        if t >= 1 << 40 {
            return None;
        }
        worst = worst.max(t as u64);
    }
    Some(worst)
}

/// Checks every loop of the functions analysed for the program entered at `entry`.
pub(crate) fn check(an: &mut Analyzer, entry: usize) {
    let Some(env) = an.kernel() else { return };
    let privileged = env.options.privileged;
    let limit = env.options.complexity_limit;
    let code = an.prog.code;
    let functions: Vec<usize> = an.analysed.iter().copied().collect();
    let mut walked: u64 = 0;
    for f in functions {
        let Ok(cfg) = an.cfg(f) else { continue };
        let heads: BTreeSet<usize> = cfg.back_edges.iter().map(|(_, h)| *h).collect();
        // Loop costs, innermost first (smaller bodies first).
        let mut loops: Vec<(usize, BTreeSet<usize>, Vec<usize>)> = heads
            .iter()
            .map(|&h| {
                let froms: Vec<usize> = cfg
                    .back_edges
                    .iter()
                    .filter(|(_, t)| *t == h)
                    .map(|(b, _)| *b)
                    .collect();
                let body: BTreeSet<usize> =
                    froms.iter().flat_map(|&b| cfg.loop_body(b, h)).collect();
                (h, body, froms)
            })
            .collect();
        loops.sort_by_key(|(_, body, _)| body.len());
        let mut cost_of: BTreeMap<usize, (u64, BTreeSet<usize>)> = BTreeMap::new();
        for (h, body, froms) in &loops {
            let jump = |b: usize| {
                let blk = &cfg.blocks[b];
                let mut last = blk.end - 1;
                if last > blk.start && code[last - 1].is_ld_imm64() {
                    last -= 1;
                }
                last
            };
            let owned: Vec<(usize, State)> = froms
                .iter()
                .filter_map(|b| Some((*b, an.back_edge_states.get(&(f, *b, *h))?.clone())))
                .collect();
            let states: Vec<&State> = owned.iter().map(|(_, st)| st).collect();
            if states.is_empty() {
                continue; // never reached
            }
            let from_slot = jump(froms[0]);
            let head_slot = cfg.blocks[*h].start;
            if !privileged {
                an.report(from_slot, Rule::BackEdge, Severity::Error,
                    format!("a loop (a jump back to instruction {}): loaders without CAP_BPF may not load loops", an.prog.base + head_slot))
                    .kernel_says(Some(format!("back-edge from insn {from_slot} to {head_slot}")))
                    .emit_plain();
            }
            let at_back = deltas_at_back_edges(&cfg, code, *h, body);
            let mut best: Option<(Loc, u64)> = None;
            let candidates: BTreeSet<Loc> =
                at_back.values().flat_map(|d| d.keys().copied()).collect();
            for loc in candidates {
                let mut all = Vec::new();
                for b in froms {
                    match at_back.get(b).and_then(|d| d.get(&loc)) {
                        Some(d) => all.push(*d),
                        None => all.clear(),
                    }
                    if all.is_empty() {
                        break;
                    }
                }
                if all.len() != froms.len() {
                    continue;
                }
                let merged = all.iter().skip(1).fold(all[0], |a, b| Delta {
                    lo: a.lo.min(b.lo),
                    hi: a.hi.max(b.hi),
                    width: a.width.min(b.width),
                    ..a
                });
                if all
                    .iter()
                    .any(|d| d.base != merged.base || d.shifted != merged.shifted)
                {
                    continue;
                }
                let Some(edges) = owned
                    .iter()
                    .map(|(b, st)| at_back.get(b).map(|d| (st, d)))
                    .collect::<Option<Vec<(&State, &Deltas)>>>()
                else {
                    continue;
                };
                if let Some(t) = trips(&merged, loc, &edges) {
                    if best.is_none_or(|(_, bt)| t < bt) {
                        best = Some((loc, t));
                    }
                }
            }
            let own: u64 = body
                .iter()
                .map(|b| (cfg.blocks[*b].end - cfg.blocks[*b].start) as u64)
                .sum();
            match best {
                Some((_, t)) => {
                    // Inner loops already costed replace their bodies.
                    let mut inner_cost = 0u64;
                    let mut inner_len = 0u64;
                    for (ih, (c, ib)) in &cost_of {
                        if ih != h && body.contains(ih) && ib.is_subset(body) {
                            inner_cost = inner_cost.saturating_add(*c);
                            inner_len += ib
                                .iter()
                                .map(|b| (cfg.blocks[*b].end - cfg.blocks[*b].start) as u64)
                                .sum::<u64>();
                        }
                    }
                    let per_trip = own.saturating_sub(inner_len).saturating_add(inner_cost);
                    let cost = t.saturating_mul(per_trip.max(1));
                    cost_of.insert(*h, (cost, body.clone()));
                }
                None => {
                    let st = states[0];
                    let regs: Vec<u8> = (0..10u8)
                        .filter(|r| matches!(st.reg(*r), Value::Scalar(..)))
                        .collect();
                    let mut finding = an.report(from_slot, Rule::UnboundedLoop, Severity::Error,
                        format!("the loop back to instruction {} may never end: no register or stack variable moves by a fixed step toward a bound on every iteration",
                            an.prog.base + head_slot))
                        .kernel_says(Some("BPF program is too large. Processed 1000001 insn".to_string()))
                        .hint("give the loop a constant bound: `for (i = 0; i < N && i < len; i++)`, or use bpf_loop()");
                    for r in regs.into_iter().take(4) {
                        finding = finding.regs(st, &[r]);
                    }
                    finding.emit_plain();
                    cost_of.insert(*h, (limit.saturating_add(1), body.clone()));
                }
            }
        }
        // Outermost loops: those not inside another.
        for (h, (c, _)) in &cost_of {
            let nested = cost_of
                .iter()
                .any(|(o, (_, ob))| o != h && ob.contains(h) && ob.len() > cost_of[h].1.len());
            if !nested {
                walked = walked.saturating_add(*c);
            }
        }
    }
    if walked > limit && !an.diags.values().any(|d| d.rule == Rule::UnboundedLoop) {
        let start = an.prog.functions[entry].start;
        an.report(start, Rule::TooComplex, Severity::Error,
            format!("the kernel walks bounded loops one iteration at a time: here about {walked} instructions, more than its limit of {limit}"))
            .kernel_says(Some(format!("BPF program is too large. Processed {} insn", limit + 1)))
            .hint("lower the loop bounds, or move the loop body into a bpf_loop() callback")
            .emit_plain();
    }
}
