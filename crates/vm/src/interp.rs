//! The interpreter: one flat `match` over opcodes, in the order of RFC 9669.
//!
//! Code is validated when it is loaded, so every opcode seen here is known
//! and every register index is in range; what remains checked at run time is
//! what only run time knows: memory addresses, call targets, call depth, the
//! instruction budget and the interrupt flag.

use crate::isa::*;
use crate::memory::{MemError, RegionKind};
use crate::trap::{Trap, TrapKind};
use crate::vm::Vm;
use std::sync::atomic::Ordering;

/// How many instructions run between two looks at the interrupt flag.
const INTERRUPT_POLL: u64 = 1 << 16;

struct Frame {
    return_pc: usize,
    saved: [u64; 4],
}

impl Vm {
    /// Runs the function whose first slot is `entry` with up to five
    /// arguments in r1..r5, and returns r0 when it exits.
    pub fn call(&mut self, entry: usize, args: &[u64]) -> Result<u64, Trap> {
        self.interrupt.store(false, Ordering::Relaxed);
        let mut regs = [0u64; 16];
        for (r, a) in regs[1..6].iter_mut().zip(args) {
            *r = *a;
        }
        self.run_loop(entry, regs)
    }

    fn run_loop(&mut self, entry: usize, mut r: [u64; 16]) -> Result<u64, Trap> {
        let Vm {
            code,
            entries,
            mem,
            helpers,
            config,
            interrupt,
        } = self;
        let code: &[Insn] = code;
        let frame_size = config.frame_size as u64;
        let stack_top = frame_size * config.max_call_depth as u64;
        let max_depth = config.max_call_depth;
        let budget = config.budget;
        let mut frames: Vec<Frame> = Vec::new();
        let mut executed: u64 = 0;
        let mut next_poll: u64 = INTERRUPT_POLL;
        let mut pc = entry;

        let set_low = |mem: &mut crate::memory::Memory, depth: usize| {
            mem.set_stack_low((stack_top - frame_size * (depth as u64 + 1)) as usize);
        };
        // r10 of the frame at `depth` (0 = entry), recomputed on every call
        // and return rather than adjusted, so it cannot drift.
        let frame_pointer =
            |depth: usize| RegionKind::Stack.base() + stack_top - frame_size * depth as u64;
        r[10] = frame_pointer(0);
        if max_depth == 0 {
            return Err(Trap {
                kind: TrapKind::CallDepthExceeded { limit: 0 },
                pc,
                call_sites: vec![],
            });
        }
        set_low(mem, 0);

        macro_rules! trap {
            ($kind:expr) => {
                return Err(Trap {
                    kind: $kind,
                    pc,
                    call_sites: frames.iter().rev().map(|f| f.return_pc - 1).collect(),
                })
            };
        }
        macro_rules! mem_try {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => trap!(TrapKind::Memory(e)),
                }
            };
        }

        loop {
            let Some(&insn) = code.get(pc) else {
                trap!(TrapKind::PcOutOfRange(pc as u64));
            };
            executed += 1;
            if executed >= next_poll || executed > budget {
                if executed > budget {
                    trap!(TrapKind::BudgetExhausted { budget });
                }
                next_poll += INTERRUPT_POLL;
                if interrupt.load(Ordering::Relaxed) {
                    trap!(TrapKind::Interrupted);
                }
            }
            let d = (insn.dst & 15) as usize;
            let s = (insn.src & 15) as usize;
            let imm = insn.imm as i64 as u64;
            let imm32 = insn.imm as u32;
            let off = insn.off as i64 as u64;
            let mut next = pc + 1;

            macro_rules! jmp {
                ($cond:expr) => {
                    if $cond {
                        next = (next as i64 + insn.off as i64) as usize;
                    }
                };
            }
            macro_rules! load {
                ($size:expr) => {
                    mem_try!(mem.load(r[s].wrapping_add(off), $size))
                };
            }
            macro_rules! store {
                ($size:expr, $val:expr) => {
                    mem_try!(mem.store(r[d].wrapping_add(off), $size, $val))
                };
            }

            match insn.op {
                // ---- ALU64, immediate and register source ----
                0x07 => r[d] = r[d].wrapping_add(imm),
                0x0f => r[d] = r[d].wrapping_add(r[s]),
                0x17 => r[d] = r[d].wrapping_sub(imm),
                0x1f => r[d] = r[d].wrapping_sub(r[s]),
                0x27 => r[d] = r[d].wrapping_mul(imm),
                0x2f => r[d] = r[d].wrapping_mul(r[s]),
                0x37 => r[d] = div64(r[d], imm, insn.off),
                0x3f => r[d] = div64(r[d], r[s], insn.off),
                0x47 => r[d] |= imm,
                0x4f => r[d] |= r[s],
                0x57 => r[d] &= imm,
                0x5f => r[d] &= r[s],
                0x67 => r[d] <<= imm & 63,
                0x6f => r[d] <<= r[s] & 63,
                0x77 => r[d] >>= imm & 63,
                0x7f => r[d] >>= r[s] & 63,
                0x87 => r[d] = (r[d] as i64).wrapping_neg() as u64,
                0x97 => r[d] = mod64(r[d], imm, insn.off),
                0x9f => r[d] = mod64(r[d], r[s], insn.off),
                0xa7 => r[d] ^= imm,
                0xaf => r[d] ^= r[s],
                0xb7 => r[d] = imm,
                0xbf => {
                    r[d] = match insn.off {
                        8 => r[s] as i8 as i64 as u64,
                        16 => r[s] as i16 as i64 as u64,
                        32 => r[s] as i32 as i64 as u64,
                        _ => r[s],
                    }
                }
                0xc7 => r[d] = ((r[d] as i64) >> (imm & 63)) as u64,
                0xcf => r[d] = ((r[d] as i64) >> (r[s] & 63)) as u64,
                0xd7 => r[d] = bswap(r[d], insn.imm),

                // ---- ALU (32-bit): results are zero-extended ----
                0x04 => r[d] = (r[d] as u32).wrapping_add(imm32) as u64,
                0x0c => r[d] = (r[d] as u32).wrapping_add(r[s] as u32) as u64,
                0x14 => r[d] = (r[d] as u32).wrapping_sub(imm32) as u64,
                0x1c => r[d] = (r[d] as u32).wrapping_sub(r[s] as u32) as u64,
                0x24 => r[d] = (r[d] as u32).wrapping_mul(imm32) as u64,
                0x2c => r[d] = (r[d] as u32).wrapping_mul(r[s] as u32) as u64,
                0x34 => r[d] = div32(r[d] as u32, imm32, insn.off) as u64,
                0x3c => r[d] = div32(r[d] as u32, r[s] as u32, insn.off) as u64,
                0x44 => r[d] = (r[d] as u32 | imm32) as u64,
                0x4c => r[d] = (r[d] as u32 | r[s] as u32) as u64,
                0x54 => r[d] = (r[d] as u32 & imm32) as u64,
                0x5c => r[d] = (r[d] as u32 & r[s] as u32) as u64,
                0x64 => r[d] = ((r[d] as u32) << (imm32 & 31)) as u64,
                0x6c => r[d] = ((r[d] as u32) << (r[s] as u32 & 31)) as u64,
                0x74 => r[d] = ((r[d] as u32) >> (imm32 & 31)) as u64,
                0x7c => r[d] = ((r[d] as u32) >> (r[s] as u32 & 31)) as u64,
                0x84 => r[d] = (r[d] as i32).wrapping_neg() as u32 as u64,
                0x94 => r[d] = mod32(r[d] as u32, imm32, insn.off) as u64,
                0x9c => r[d] = mod32(r[d] as u32, r[s] as u32, insn.off) as u64,
                0xa4 => r[d] = (r[d] as u32 ^ imm32) as u64,
                0xac => r[d] = (r[d] as u32 ^ r[s] as u32) as u64,
                0xb4 => r[d] = imm32 as u64,
                0xbc => {
                    r[d] = match insn.off {
                        8 => r[s] as i8 as i32 as u32 as u64,
                        16 => r[s] as i16 as i32 as u32 as u64,
                        _ => r[s] as u32 as u64,
                    }
                }
                0xc4 => r[d] = ((r[d] as i32) >> (imm32 & 31)) as u32 as u64,
                0xcc => r[d] = ((r[d] as i32) >> (r[s] as u32 & 31)) as u32 as u64,
                // le: truncate to the width (the host order is little-endian).
                0xd4 => r[d] = truncate(r[d], insn.imm),
                // be: byte swap to the width.
                0xdc => r[d] = bswap(r[d], insn.imm),

                // ---- JMP (64-bit compares) ----
                0x05 => jmp!(true),
                0x15 => jmp!(r[d] == imm),
                0x1d => jmp!(r[d] == r[s]),
                0x25 => jmp!(r[d] > imm),
                0x2d => jmp!(r[d] > r[s]),
                0x35 => jmp!(r[d] >= imm),
                0x3d => jmp!(r[d] >= r[s]),
                0x45 => jmp!(r[d] & imm != 0),
                0x4d => jmp!(r[d] & r[s] != 0),
                0x55 => jmp!(r[d] != imm),
                0x5d => jmp!(r[d] != r[s]),
                0x65 => jmp!((r[d] as i64) > imm as i64),
                0x6d => jmp!((r[d] as i64) > r[s] as i64),
                0x75 => jmp!((r[d] as i64) >= imm as i64),
                0x7d => jmp!((r[d] as i64) >= r[s] as i64),
                0xa5 => jmp!(r[d] < imm),
                0xad => jmp!(r[d] < r[s]),
                0xb5 => jmp!(r[d] <= imm),
                0xbd => jmp!(r[d] <= r[s]),
                0xc5 => jmp!((r[d] as i64) < imm as i64),
                0xcd => jmp!((r[d] as i64) < r[s] as i64),
                0xd5 => jmp!((r[d] as i64) <= imm as i64),
                0xdd => jmp!((r[d] as i64) <= r[s] as i64),

                // ---- JMP32 (32-bit compares) ----
                0x06 => next = (next as i64 + insn.imm as i64) as usize,
                0x16 => jmp!(r[d] as u32 == imm32),
                0x1e => jmp!(r[d] as u32 == r[s] as u32),
                0x26 => jmp!(r[d] as u32 > imm32),
                0x2e => jmp!(r[d] as u32 > r[s] as u32),
                0x36 => jmp!(r[d] as u32 >= imm32),
                0x3e => jmp!(r[d] as u32 >= r[s] as u32),
                0x46 => jmp!(r[d] as u32 & imm32 != 0),
                0x4e => jmp!(r[d] as u32 & r[s] as u32 != 0),
                0x56 => jmp!(r[d] as u32 != imm32),
                0x5e => jmp!(r[d] as u32 != r[s] as u32),
                0x66 => jmp!((r[d] as i32) > imm32 as i32),
                0x6e => jmp!((r[d] as i32) > r[s] as i32),
                0x76 => jmp!((r[d] as i32) >= imm32 as i32),
                0x7e => jmp!((r[d] as i32) >= r[s] as i32),
                0xa6 => jmp!((r[d] as u32) < imm32),
                0xae => jmp!((r[d] as u32) < r[s] as u32),
                0xb6 => jmp!(r[d] as u32 <= imm32),
                0xbe => jmp!(r[d] as u32 <= r[s] as u32),
                0xc6 => jmp!((r[d] as i32) < imm32 as i32),
                0xce => jmp!((r[d] as i32) < r[s] as i32),
                0xd6 => jmp!((r[d] as i32) <= imm32 as i32),
                0xde => jmp!((r[d] as i32) <= r[s] as i32),

                // ---- calls and exit ----
                OP_CALL if insn.src == CALL_HELPER => {
                    let helper = helpers
                        .get_mut(insn.imm as u32 as usize)
                        .and_then(|h| h.as_mut());
                    let Some(helper) = helper else {
                        trap!(TrapKind::UnknownHelper(insn.imm));
                    };
                    match (helper.func)(mem, [r[1], r[2], r[3], r[4], r[5]]) {
                        Ok(v) => r[0] = v,
                        Err(error) => {
                            let helper = helper.name.clone();
                            trap!(TrapKind::Helper { helper, error })
                        }
                    }
                }
                OP_CALL | OP_CALLX => {
                    let target = if insn.op == OP_CALL {
                        (next as i64 + insn.imm as i64) as usize
                    } else {
                        let addr = r[d];
                        match code_index(addr, code.len()) {
                            Some(i) if entries[i] => i,
                            _ => trap!(TrapKind::BadCallTarget(addr)),
                        }
                    };
                    if frames.len() + 1 >= max_depth {
                        trap!(TrapKind::CallDepthExceeded { limit: max_depth });
                    }
                    frames.push(Frame {
                        return_pc: next,
                        saved: [r[6], r[7], r[8], r[9]],
                    });
                    r[10] = frame_pointer(frames.len());
                    set_low(mem, frames.len());
                    next = target;
                }
                OP_EXIT => match frames.pop() {
                    None => return Ok(r[0]),
                    Some(f) => {
                        [r[6], r[7], r[8], r[9]] = f.saved;
                        r[10] = frame_pointer(frames.len());
                        set_low(mem, frames.len());
                        next = f.return_pc;
                    }
                },

                // ---- loads and stores ----
                OP_LD_IMM64 => {
                    // Validation keeps both slots together; only a later
                    // `truncate_code` could cut them apart.
                    let Some(second) = code.get(pc + 1) else {
                        trap!(TrapKind::PcOutOfRange(pc as u64 + 1));
                    };
                    let hi = second.imm as u32 as u64;
                    r[d] = (imm32 as u64) | (hi << 32);
                    next = pc + 2;
                }
                0x61 => r[d] = load!(4),
                0x69 => r[d] = load!(2),
                0x71 => r[d] = load!(1),
                0x79 => r[d] = load!(8),
                0x81 => r[d] = load!(4) as i32 as i64 as u64,
                0x89 => r[d] = load!(2) as i16 as i64 as u64,
                0x91 => r[d] = load!(1) as i8 as i64 as u64,
                0x62 => store!(4, imm),
                0x6a => store!(2, imm),
                0x72 => store!(1, imm),
                0x7a => store!(8, imm),
                0x63 => store!(4, r[s]),
                0x6b => store!(2, r[s]),
                0x73 => store!(1, r[s]),
                0x7b => store!(8, r[s]),
                0xc3 | 0xdb => {
                    let size = if insn.op == 0xc3 { 4 } else { 8 };
                    let addr = r[d].wrapping_add(off);
                    // Atomics read and write: both permissions are checked up front.
                    let old = mem_try!(mem.load(addr, size));
                    mem_try!(mem.slice_mut(addr, size).map(|_| ()));
                    let src = if size == 4 { r[s] as u32 as u64 } else { r[s] };
                    let (new, fetched) = atomic(insn.imm, old, src, r[0], size);
                    if let Some(new) = new {
                        mem_try!(mem.store(addr, size, new));
                    }
                    match insn.imm {
                        ATOMIC_CMPXCHG => r[0] = fetched,
                        imm if imm & ATOMIC_FETCH != 0 => r[s] = fetched,
                        _ => {}
                    }
                }
                _ => {
                    // Validation makes this unreachable; stay safe if it is not.
                    trap!(TrapKind::PcOutOfRange(pc as u64));
                }
            }
            pc = next;
        }
    }
}

#[inline]
fn code_index(addr: u64, len: usize) -> Option<usize> {
    let off = addr.wrapping_sub(RegionKind::Code.base());
    if !off.is_multiple_of(INSN_SIZE as u64) || off / INSN_SIZE as u64 >= len as u64 {
        return None;
    }
    Some((off / INSN_SIZE as u64) as usize)
}

/// 64-bit division: unsigned (off 0) or signed (off 1); x / 0 = 0.
#[inline]
fn div64(a: u64, b: u64, off: i16) -> u64 {
    if b == 0 {
        0
    } else if off == 1 {
        (a as i64).wrapping_div(b as i64) as u64
    } else {
        a / b
    }
}

/// 64-bit modulo: unsigned or signed; x % 0 = x.
#[inline]
fn mod64(a: u64, b: u64, off: i16) -> u64 {
    if b == 0 {
        a
    } else if off == 1 {
        (a as i64).wrapping_rem(b as i64) as u64
    } else {
        a % b
    }
}

#[inline]
fn div32(a: u32, b: u32, off: i16) -> u32 {
    if b == 0 {
        0
    } else if off == 1 {
        (a as i32).wrapping_div(b as i32) as u32
    } else {
        a / b
    }
}

#[inline]
fn mod32(a: u32, b: u32, off: i16) -> u32 {
    if b == 0 {
        a
    } else if off == 1 {
        (a as i32).wrapping_rem(b as i32) as u32
    } else {
        a % b
    }
}

#[inline]
fn truncate(v: u64, width: i32) -> u64 {
    match width {
        16 => v as u16 as u64,
        32 => v as u32 as u64,
        _ => v,
    }
}

#[inline]
fn bswap(v: u64, width: i32) -> u64 {
    match width {
        16 => (v as u16).swap_bytes() as u64,
        32 => (v as u32).swap_bytes() as u64,
        _ => v.swap_bytes(),
    }
}

/// Computes an atomic operation: the value to store (if any) and the value fetched.
#[inline]
fn atomic(op: i32, old: u64, src: u64, r0: u64, size: usize) -> (Option<u64>, u64) {
    let mask = if size == 4 { u32::MAX as u64 } else { u64::MAX };
    let new = match op & !ATOMIC_FETCH {
        ATOMIC_ADD => Some(old.wrapping_add(src) & mask),
        ATOMIC_OR => Some(old | src),
        ATOMIC_AND => Some(old & src),
        ATOMIC_XOR => Some(old ^ src),
        0xe0 => Some(src),
        _ => {
            // cmpxchg: compare with r0 (low 32 bits for the W form).
            if old == r0 & mask {
                Some(src)
            } else {
                None
            }
        }
    };
    (new, old)
}

impl From<MemError> for TrapKind {
    fn from(e: MemError) -> Self {
        TrapKind::Memory(e)
    }
}
