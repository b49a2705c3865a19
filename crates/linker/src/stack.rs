//! How much stack each function needs, from the r10 offsets of its code,
//! against the VM's frame size: a function clang built with a larger
//! `-mllvm -bpf-stack-size` than the VM gives is refused at link time,
//! naming `--stack-size`, instead of running with corrupted results.
//!
//! The scan is linear and tracks which registers hold `r10 + k`: loads and
//! stores through them, and stack addresses handed to helpers, count.

use crate::error::LinkError;
use crate::graph::{Definition, LinkGraph, SectionKind, SymbolKind};
use bpf_vm::isa::*;

/// The deepest stack byte (counted down from r10) the code touches.
pub fn stack_need(code: &[Insn]) -> u64 {
    let mut fp: [Option<i64>; 11] = [None; 11];
    fp[10] = Some(0);
    let mut need: i64 = 0;
    let mut note = |v: Option<i64>| {
        if let Some(v) = v {
            need = need.max(-v);
        }
    };
    let mut skip = false;
    for insn in code {
        if std::mem::take(&mut skip) {
            continue;
        }
        let (d, s) = (insn.dst as usize, insn.src as usize);
        if d > 10 || s > 10 {
            continue;
        }
        match insn.class() {
            CLASS_ALU64 if insn.op & 0xf0 == ALU_MOV && insn.op & SRC_X != 0 => {
                fp[d] = fp[s];
                note(fp[d]);
            }
            CLASS_ALU64 if insn.op & SRC_X == 0 && matches!(insn.op & 0xf0, ALU_ADD | ALU_SUB) => {
                let k = insn.imm as i64;
                fp[d] = fp[d].map(|v| {
                    if insn.op & 0xf0 == ALU_ADD {
                        v + k
                    } else {
                        v - k
                    }
                });
                note(fp[d]);
            }
            CLASS_LDX => {
                note(fp[s].map(|v| v + insn.off as i64));
                fp[d] = None;
            }
            CLASS_ST | CLASS_STX => {
                note(fp[d].map(|v| v + insn.off as i64));
                if insn.op & 0xe0 == MODE_ATOMIC
                    && (insn.imm & ATOMIC_FETCH != 0 || insn.imm == ATOMIC_CMPXCHG)
                {
                    fp[s] = None;
                    fp[0] = None;
                }
            }
            CLASS_JMP if insn.op & 0xf0 == JMP_CALL => {
                for r in fp.iter_mut().take(6) {
                    *r = None;
                }
            }
            CLASS_LD if insn.is_ld_imm64() => {
                skip = true;
                fp[d] = None;
            }
            // LD_ABS/LD_IND: r0 gets the value, r1-r5 are clobbered.
            CLASS_LD => {
                for r in fp.iter_mut().take(6) {
                    *r = None;
                }
            }
            CLASS_ALU | CLASS_ALU64 => fp[d] = None,
            _ => {}
        }
        fp[10] = Some(0);
    }
    need.max(0) as u64
}

/// Refuses the first function of `g` that needs more than `frame_size`
/// bytes of stack.
pub(crate) fn check(g: &LinkGraph, frame_size: usize) -> Result<(), LinkError> {
    for (si, s) in g.sections.iter().enumerate() {
        if s.kind != SectionKind::Code {
            continue;
        }
        let code = decode(&s.bytes).unwrap_or_default();
        // Function boundaries: every function symbol's start, in order.
        let mut starts: Vec<(u64, &str)> = g
            .symbols
            .iter()
            .filter(|sym| sym.kind == SymbolKind::Function)
            .filter_map(|sym| match sym.def {
                Definition::Defined { section, offset } if section == si => {
                    Some((offset / INSN_SIZE as u64, sym.name.as_str()))
                }
                _ => None,
            })
            .collect();
        starts.sort();
        starts.dedup_by_key(|(o, _)| *o);
        if starts.first().is_none_or(|(o, _)| *o != 0) {
            starts.insert(0, (0, ""));
        }
        for (i, &(start, name)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(code.len() as u64, |(o, _)| *o);
            let body = code.get(start as usize..end as usize).unwrap_or_default();
            let need = stack_need(body);
            if need > frame_size as u64 {
                let who = if name.is_empty() {
                    format!("code at {}+{:#x}", s.name, start * INSN_SIZE as u64)
                } else {
                    format!("function `{name}`")
                };
                return Err(LinkError::StackTooLarge {
                    object: g.name.clone(),
                    function: who,
                    need,
                    frame_size,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_vm::isa::asm::*;

    #[test]
    fn stores_and_stack_pointers_count() {
        assert_eq!(stack_need(&[st(SIZE_DW, 10, -16, 0), exit()]), 16);
        // A pointer to r10 - 600 handed to a helper.
        let p = [
            mov64_reg(2, 10),
            alu64_imm(ALU_ADD, 2, -600),
            call_helper(1),
            exit(),
        ];
        assert_eq!(stack_need(&p), 600);
        // Through a copy, then the copy is overwritten.
        let p = [
            mov64_reg(3, 10),
            ldx(SIZE_W, 0, 3, -40),
            mov64_imm(3, 0),
            ldx(SIZE_W, 0, 3, -4000),
            exit(),
        ];
        assert_eq!(stack_need(&p), 40);
        assert_eq!(stack_need(&[mov64_imm(0, 0), exit()]), 0);
    }
}
