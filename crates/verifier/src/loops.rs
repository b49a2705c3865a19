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
use crate::state::{Slot, State};
use crate::value::Value;
use bpf_vm::isa::*;
use std::collections::{BTreeMap, BTreeSet};

/// A location a counter can live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Loc {
    Reg(u8),
    /// The spilled 8-byte slot at this offset from r10.
    Slot(i64),
}

/// `value now = value of `base` at the loop head + delta`, delta in `lo..=hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Delta {
    base: Loc,
    lo: i64,
    hi: i64,
    /// Computed with 32-bit operations (the value wraps at 2^32).
    is32: bool,
}

type Deltas = BTreeMap<Loc, Delta>;

fn join(a: &Deltas, b: &Deltas) -> Deltas {
    a.iter()
        .filter_map(|(l, x)| {
            let y = b.get(l)?;
            (x.base == y.base).then(|| {
                (
                    *l,
                    Delta {
                        base: x.base,
                        lo: x.lo.min(y.lo),
                        hi: x.hi.max(y.hi),
                        is32: x.is32 || y.is32,
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
            let is32 = class == CLASS_ALU;
            match (op, x) {
                (ALU_ADD | ALU_SUB, false) => {
                    let k = if op == ALU_ADD {
                        insn.imm as i64
                    } else {
                        -(insn.imm as i64)
                    };
                    if let Some(v) = d.get_mut(&dst) {
                        v.lo = v.lo.saturating_add(k);
                        v.hi = v.hi.saturating_add(k);
                        v.is32 |= is32;
                    }
                }
                (ALU_MOV, true) if insn.off == 0 => match d.get(&Loc::Reg(insn.src)).copied() {
                    Some(mut v) => {
                        v.is32 |= is32;
                        d.insert(dst, v);
                    }
                    None => {
                        d.remove(&dst);
                    }
                },
                _ => {
                    d.remove(&dst);
                }
            }
        }
        CLASS_LD => {
            d.remove(&dst);
        }
        CLASS_LDX => {
            if insn.src == REG_FP && insn.op & 0x18 == SIZE_DW && insn.op & 0xe0 == MODE_MEM {
                match d.get(&Loc::Slot(insn.off as i64)).copied() {
                    Some(v) => d.insert(dst, v),
                    None => d.remove(&dst),
                };
            } else {
                d.remove(&dst);
            }
        }
        CLASS_ST | CLASS_STX => {
            let off = insn.off as i64;
            let atomic = insn.op & 0xe0 == MODE_ATOMIC;
            if insn.dst == REG_FP {
                let size = match insn.op & 0x18 {
                    SIZE_B => 1,
                    SIZE_H => 2,
                    SIZE_W => 4,
                    _ => 8,
                };
                // Slots the store overlaps lose what they held.
                d.retain(|l, _| match l {
                    Loc::Slot(o) => *o + 8 <= off || *o >= off + size,
                    _ => true,
                });
                if class == CLASS_STX && !atomic && size == 8 && off % 8 == 0 {
                    if let Some(v) = d.get(&Loc::Reg(insn.src)).copied() {
                        d.insert(Loc::Slot(off), v);
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
            d.retain(|l, _| matches!(l, Loc::Reg(_)));
        }
        _ => {}
    }
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
        start.insert(
            Loc::Reg(r),
            Delta {
                base: Loc::Reg(r),
                lo: 0,
                hi: 0,
                is32: false,
            },
        );
    }
    for i in 1..=64 {
        let l = Loc::Slot(-8 * i);
        start.insert(
            l,
            Delta {
                base: l,
                lo: 0,
                hi: 0,
                is32: false,
            },
        );
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

/// The scalar at `loc` in the innermost frame of `st`.
fn value_at(st: &State, loc: Loc) -> Option<crate::scalar::Scalar> {
    match loc {
        Loc::Reg(r) => st.reg(r).as_scalar(),
        Loc::Slot(off) => match st.cur().slot(((-off - 1) / 8) as usize) {
            Slot::Spill(Value::Scalar(s, _)) => Some(s),
            _ => None,
        },
    }
}

/// Most back-edge arrivals a counter allows, if it is one.
fn trips(delta: &Delta, loc: Loc, states: &[&State]) -> Option<u64> {
    if delta.base != loc || (delta.lo <= 0 && delta.hi >= 0) {
        return None;
    }
    let mut worst = 0u64;
    for st in states {
        let v = value_at(st, loc)?;
        let t = if delta.lo > 0 {
            let step = delta.lo as u128;
            let limit: u128 = if delta.is32 { 1 << 32 } else { 1 << 64 };
            // Unsigned: bounded above with no room to wrap.
            let unsigned = ((v.umax as u128 + delta.hi as u128) < limit)
                .then(|| (v.umax - v.umin) as u128 / step + 1);
            let signed = (!delta.is32 && v.smax.checked_add(delta.hi).is_some())
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
            let signed =
                (!delta.is32 && v.smin.checked_add(delta.lo).is_some() && v.smin > i64::MIN / 2)
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
            let owned: Vec<State> = froms
                .iter()
                .filter_map(|b| an.back_edge_states.get(&(f, *b, *h)).cloned())
                .collect();
            let states: Vec<&State> = owned.iter().collect();
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
                    base: a.base,
                    lo: a.lo.min(b.lo),
                    hi: a.hi.max(b.hi),
                    is32: a.is32 || b.is32,
                });
                if all.iter().any(|d| d.base != merged.base) {
                    continue;
                }
                if let Some(t) = trips(&merged, loc, &states) {
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
