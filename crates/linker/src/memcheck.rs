//! Memcheck reports in AddressSanitizer's manner: what the faulting
//! address is (inside or past which heap block or global variable) and,
//! for heap blocks, the source backtraces of the `malloc` that made the
//! block and the `free` that released it.
//!
//! The VM says *that* a byte is poisoned ([`bpf_vm::MemReason::Poisoned`]);
//! the runtime's heap knows its blocks and the call stacks it recorded
//! ([`bpf_vm::Memory::helper_stack`]); the session knows symbols and
//! source lines. Hosts pass what the heap knows as a [`HeapBlock`].

use crate::debuginfo::{format_backtrace, BacktraceFrame};
use crate::graph::{Definition, SectionKind, SymbolKind};
use crate::session::Session;
use bpf_vm::{HelperError, MemReason, RegionKind, Trap, TrapKind};
use std::fmt::Write as _;

/// A heap block as the runtime describes it (see `bpf_runtime::BlockInfo`).
#[derive(Debug, Clone, Copy)]
pub struct HeapBlock<'a> {
    pub start: u64,
    pub size: usize,
    /// The `malloc`'s BPF call stack: its call slot, then callers' call sites.
    pub allocated_at: &'a [usize],
    /// The `free`'s, if the block was freed.
    pub freed_at: Option<&'a [usize]>,
}

/// A global variable's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalVar {
    pub name: String,
    pub addr: u64,
    pub size: u64,
}

/// The poisoned byte of a memcheck trap (a load or store by BPF code, or a
/// helper's access), if the trap is one.
pub fn poisoned_byte(trap: &Trap) -> Option<u64> {
    let e = match trap.kind.innermost() {
        TrapKind::Memory(e) => e,
        TrapKind::Helper {
            error: HelperError::Memory(e),
            ..
        } => e,
        _ => return None,
    };
    match e.reason {
        MemReason::Poisoned { at, .. } => Some(at),
        _ => None,
    }
}

impl Session {
    /// A data address as C code names it: `lock` for the start of global
    /// variable `lock`, `locks+8` for a byte inside it.
    pub fn name_of_address(&self, addr: u64) -> Option<String> {
        let v = self
            .global_variables()
            .into_iter()
            .rev()
            .find(|v| v.addr <= addr && addr < v.addr + v.size.max(1))?;
        Some(match addr - v.addr {
            0 => v.name,
            off => format!("{}+{off}", v.name),
        })
    }

    /// What a thread waits for, with the object named where a global
    /// variable holds it (`mutex `a` (held by thread 2)`).
    pub fn describe_wait(&self, waits: &str, object: Option<u64>) -> String {
        match object.and_then(|a| Some((a, self.name_of_address(a)?))) {
            Some((a, name)) => waits.replacen(&format!("{a:#x}"), &format!("`{name}`"), 1),
            None => waits.to_string(),
        }
    }

    /// The global variables (functions excluded, static ones included)
    /// in data regions, by address.
    pub fn global_variables(&self) -> Vec<GlobalVar> {
        let mut vars = Vec::new();
        for obj in self.objects() {
            let g = &obj.graph;
            for s in &g.symbols {
                let Definition::Defined { section, offset } = s.def else {
                    continue;
                };
                let sec = &g.sections[section];
                let data = matches!(
                    sec.kind,
                    SectionKind::Data | SectionKind::ZeroFill | SectionKind::ReadOnly
                );
                if s.kind != SymbolKind::Object || !data || s.name.is_empty() {
                    continue;
                }
                if let Some(base) = sec.addr {
                    vars.push(GlobalVar {
                        name: s.name.clone(),
                        addr: base + offset,
                        size: s.size,
                    });
                }
            }
        }
        for sym in self.symbols() {
            if sym.common && sym.kind == SymbolKind::Object {
                vars.push(GlobalVar {
                    name: sym.name.clone(),
                    addr: sym.body,
                    size: sym.size,
                });
            }
        }
        vars.sort_by_key(|v| (v.addr, v.size));
        vars.dedup();
        vars
    }

    /// The lines a memcheck report adds after the trap's own backtrace:
    /// where `at` lies and, for a heap block, where it was allocated and
    /// freed. `describe` formats one backtrace frame.
    pub fn memcheck_details(
        &self,
        at: u64,
        block: Option<HeapBlock>,
        describe: impl Fn(&BacktraceFrame) -> String,
    ) -> String {
        let mut out = String::new();
        if let Some(b) = block {
            let end = b.start + b.size as u64;
            let place = if at >= end {
                format!("{} bytes past the end of", at - end)
            } else {
                format!("{} bytes inside", at - b.start)
            };
            let _ = write!(
                out,
                "\n{at:#x} is {place} the {}-byte heap block at {:#x}",
                b.size, b.start
            );
            if let Some(freed) = b.freed_at {
                let _ = write!(out, "\nfreed by:{}", self.stack_text(freed, &describe));
                let _ = write!(
                    out,
                    "\npreviously allocated by:{}",
                    self.stack_text(b.allocated_at, &describe)
                );
            } else {
                let _ = write!(
                    out,
                    "\nallocated by:{}",
                    self.stack_text(b.allocated_at, &describe)
                );
            }
            return out;
        }
        if !matches!(
            RegionKind::of(at),
            Some(RegionKind::Data | RegionKind::Rodata)
        ) {
            return out;
        }
        let vars = self.global_variables();
        let before = vars.iter().rev().find(|v| v.addr <= at);
        let after = vars.iter().find(|v| v.addr > at);
        if let Some(v) = before {
            let end = v.addr + v.size;
            let _ = write!(
                out,
                "\n{at:#x} is {} bytes past the end of global variable '{}' ({} bytes at {:#x})",
                at.saturating_sub(end),
                v.name,
                v.size,
                v.addr
            );
        }
        if let Some(v) = after {
            let _ = write!(
                out,
                "\nthe next global variable is '{}' at {:#x} ({} bytes)",
                v.name, v.addr, v.size
            );
        }
        out
    }

    fn stack_text(&self, slots: &[usize], describe: &impl Fn(&BacktraceFrame) -> String) -> String {
        if slots.is_empty() {
            return "\n  (no call stack was recorded)".to_string();
        }
        let frames: Vec<BacktraceFrame> = slots.iter().flat_map(|&s| self.frames_at(s)).collect();
        format_backtrace(&frames, describe)
    }
}
