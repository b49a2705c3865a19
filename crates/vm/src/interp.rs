//! The interpreter: one flat `match` over opcodes, in the order of RFC 9669.
//!
//! Code is validated when it is loaded, so every opcode seen here is known
//! and every register index is in range; what remains checked at run time is
//! what only run time knows: memory addresses, call targets, call depth, the
//! instruction budget and the interrupt flag.
//!
//! It runs on two levels. [`run_until_stop`] executes what needs only
//! registers and memory (ALU, jumps, loads, stores, atomics) in a tight loop
//! with few live values, so that the program counter and the code pointer
//! stay in machine registers. It returns to [`Vm::run_loop`] at calls,
//! exits, traps and when its fuel (a chunk of the instruction budget) is
//! spent; `run_loop` handles those, polls the interrupt flag, and resumes it.

use crate::isa::*;
use crate::memory::{MemError, Memory, RegionKind};
use crate::trap::{Trap, TrapKind};
use crate::vm::Vm;
use std::sync::atomic::Ordering;

/// How many instructions run between two looks at the interrupt flag.
const INTERRUPT_POLL: u64 = 1 << 16;

struct Frame {
    return_pc: usize,
    saved: [u64; 4],
}

/// The frames of the callers of the running function, and the stack layout.
struct CallStack {
    frames: Vec<Frame>,
    max_depth: usize,
    frame_size: u64,
    /// Size of the stack region; the entry frame's r10.
    stack_top: u64,
}

impl CallStack {
    /// r10 of the frame at `depth` (0 = entry). It is recomputed on every
    /// call and return rather than adjusted, so it cannot drift.
    /// (Wrapping: an absurd configuration must not panic; its stack is
    /// then simply not addressable.)
    fn frame_pointer(&self, depth: usize) -> u64 {
        RegionKind::Stack
            .base()
            .wrapping_add(self.stack_top)
            .wrapping_sub(self.frame_size.wrapping_mul(depth as u64))
    }

    /// Points r10 at the frame of the current depth and makes it the lowest
    /// accessible part of the stack.
    fn enter_current_frame(&self, r: &mut [u64; 16], mem: &mut Memory) {
        let depth = self.frames.len();
        r[10] = self.frame_pointer(depth);
        let low = self
            .stack_top
            .saturating_sub(self.frame_size.saturating_mul(depth as u64 + 1));
        mem.set_stack_low(usize::try_from(low).unwrap_or(usize::MAX));
    }

    /// Enters a new frame for a call returning to `return_pc`.
    #[inline]
    fn push(
        &mut self,
        return_pc: usize,
        r: &mut [u64; 16],
        mem: &mut Memory,
    ) -> Result<(), TrapKind> {
        if self.frames.len() + 1 >= self.max_depth {
            return Err(TrapKind::CallDepthExceeded {
                limit: self.max_depth,
            });
        }
        self.frames.push(Frame {
            return_pc,
            saved: [r[6], r[7], r[8], r[9]],
        });
        self.enter_current_frame(r, mem);
        Ok(())
    }

    /// Leaves the current frame; returns where to continue, or `None` in
    /// the entry frame.
    #[inline]
    fn pop(&mut self, r: &mut [u64; 16], mem: &mut Memory) -> Option<usize> {
        let f = self.frames.pop()?;
        [r[6], r[7], r[8], r[9]] = f.saved;
        self.enter_current_frame(r, mem);
        Some(f.return_pc)
    }

    /// Code indices of the `call` instructions of the enclosing frames, innermost first.
    fn call_sites(&self) -> Vec<usize> {
        self.frames.iter().rev().map(|f| f.return_pc - 1).collect()
    }
}

/// The state [`run_until_stop`] works on.
struct Cpu {
    r: [u64; 16],
    /// Where the inner loop stopped: the call, exit or trapping
    /// instruction, or the next one to run when its fuel ran out.
    pc: usize,
    /// Instructions the inner loop may still run before it stops (at most
    /// INTERRUPT_POLL).
    fuel: u64,
}

/// Why [`run_until_stop`] returned; the instruction is at `Cpu::pc`.
enum Stop {
    /// A helper `call` or a `callx`.
    Call,
    /// `exit` from the entry frame.
    Exit,
    /// `Cpu::fuel` is spent; the instruction at `Cpu::pc` has not run.
    OutOfFuel,
    Trap(TrapKind),
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

    fn run_loop(&mut self, entry: usize, regs: [u64; 16]) -> Result<u64, Trap> {
        let Vm {
            code,
            entries,
            mem,
            helpers,
            config,
            interrupt,
        } = self;
        let code: &[Insn] = code;
        let budget = config.budget;
        let mut stack = CallStack {
            frames: Vec::new(),
            max_depth: config.max_call_depth,
            frame_size: config.frame_size as u64,
            stack_top: (config.frame_size as u64).saturating_mul(config.max_call_depth as u64),
        };
        // The budget is handed to the inner loop in chunks of at most
        // INTERRUPT_POLL instructions; `budget_left` is what remains after
        // the current chunk.
        let mut cpu = Cpu {
            r: regs,
            pc: entry,
            fuel: budget.min(INTERRUPT_POLL),
        };
        let mut budget_left: u64 = budget - cpu.fuel;
        if stack.max_depth == 0 {
            return Err(Trap {
                kind: TrapKind::CallDepthExceeded { limit: 0 },
                pc: entry,
                call_sites: vec![],
            });
        }
        stack.enter_current_frame(&mut cpu.r, mem);

        macro_rules! trap {
            ($kind:expr) => {
                return Err(Trap {
                    kind: $kind,
                    pc: cpu.pc,
                    call_sites: stack.call_sites(),
                })
            };
        }

        loop {
            match run_until_stop(code, mem, &mut stack, &mut cpu) {
                Stop::Trap(kind) => trap!(kind),
                Stop::OutOfFuel => {
                    if budget_left == 0 {
                        trap!(TrapKind::BudgetExhausted { budget });
                    }
                    if interrupt.load(Ordering::Relaxed) {
                        trap!(TrapKind::Interrupted);
                    }
                    cpu.fuel = budget_left.min(INTERRUPT_POLL);
                    budget_left -= cpu.fuel;
                }
                Stop::Exit => return Ok(cpu.r[0]),
                Stop::Call => {
                    let Some(&insn) = code.get(cpu.pc) else {
                        trap!(TrapKind::PcOutOfRange(cpu.pc as u64));
                    };
                    let next = cpu.pc + 1;
                    let r = &mut cpu.r;
                    if insn.op == OP_CALLX {
                        let addr = r[(insn.dst & 15) as usize];
                        let target = match code_index(addr, code.len()) {
                            Some(i) if entries[i] => i,
                            _ => trap!(TrapKind::BadCallTarget(addr)),
                        };
                        if let Err(kind) = stack.push(next, r, mem) {
                            trap!(kind);
                        }
                        cpu.pc = target;
                        continue;
                    }
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
                    cpu.pc = next;
                }
            }
        }
    }
}

/// Runs instructions from `cpu.pc` until a helper call, a `callx`, the
/// entry frame's `exit`, a trap, or the end of `cpu.fuel`. Local calls and
/// their returns are handled here.
#[inline(never)]
fn run_until_stop(code: &[Insn], mem: &mut Memory, stack: &mut CallStack, cpu: &mut Cpu) -> Stop {
    let len = code.len();
    let mut pc = cpu.pc;
    // Fuel is kept as `end`, the pc at which it would run out if execution
    // went straight on: each instruction costs one compare, and a control
    // transfer moves `end` by the distance jumped. (Fuel is at most
    // INTERRUPT_POLL, so `end` stays far from overflow for any real pc;
    // for a wild target the wrapped `end` only ever leads to the
    // PcOutOfRange trap.)
    let mut end = pc.saturating_add(cpu.fuel as usize);
    // The code this run may execute: up to the end of the fuel or of the
    // code, whichever is first. One bounds check per instruction covers both.
    let mut window = code.get(..end.min(len)).unwrap_or(code);
    let r = &mut cpu.r;

    macro_rules! trap {
        ($kind:expr) => {{
            cpu.pc = pc;
            cpu.fuel = 0;
            return Stop::Trap($kind);
        }};
    }
    // Stops after the instruction at `pc` has run.
    macro_rules! stop_after {
        ($why:expr) => {{
            cpu.pc = pc;
            cpu.fuel = (end - pc - 1) as u64;
            return $why;
        }};
    }
    // Continues at `target` after the instruction at `pc`.
    macro_rules! transfer {
        ($target:expr) => {{
            let target: usize = $target;
            end = end.wrapping_add(target).wrapping_sub(pc + 1);
            window = code.get(..end.min(len)).unwrap_or(code);
            pc = target;
            continue;
        }};
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
        let Some(insn) = window.get(pc) else {
            if pc >= len {
                trap!(TrapKind::PcOutOfRange(pc as u64));
            }
            cpu.pc = pc;
            cpu.fuel = 0;
            return Stop::OutOfFuel;
        };

        // Operands are decoded inside each arm, not before the dispatch: that
        // keeps the dispatch's live values (and register pressure) low.
        macro_rules! d {
            () => {
                (insn.dst & 15) as usize
            };
        }
        macro_rules! s {
            () => {
                (insn.src & 15) as usize
            };
        }
        macro_rules! imm {
            () => {
                insn.imm as i64 as u64
            };
        }
        macro_rules! imm32 {
            () => {
                insn.imm as u32
            };
        }
        macro_rules! off {
            () => {
                insn.off as i64 as u64
            };
        }

        // A taken branch checks its target against the end of the code.
        // Besides trapping early, the check keeps LLVM from turning the
        // jump into a conditional move of the next pc, which would make
        // every following fetch wait for the compared registers.
        macro_rules! jmp {
            ($cond:expr) => {
                if $cond {
                    let target = (pc as i64 + 1 + insn.off as i64) as usize;
                    if target >= len {
                        pc = target;
                        trap!(TrapKind::PcOutOfRange(pc as u64));
                    }
                    transfer!(target);
                }
            };
        }
        macro_rules! load {
            ($t:ty) => {
                <$t>::from_le_bytes(mem_try!(mem.read_array(r[s!()].wrapping_add(off!()))))
            };
        }
        macro_rules! store {
            ($t:ty, $val:expr) => {
                mem_try!(mem.write_array(r[d!()].wrapping_add(off!()), ($val as $t).to_le_bytes()))
            };
        }

        match insn.op {
            // ---- ALU64, immediate and register source ----
            0x07 => r[d!()] = r[d!()].wrapping_add(imm!()),
            0x0f => r[d!()] = r[d!()].wrapping_add(r[s!()]),
            0x17 => r[d!()] = r[d!()].wrapping_sub(imm!()),
            0x1f => r[d!()] = r[d!()].wrapping_sub(r[s!()]),
            0x27 => r[d!()] = r[d!()].wrapping_mul(imm!()),
            0x2f => r[d!()] = r[d!()].wrapping_mul(r[s!()]),
            0x37 => r[d!()] = div64(r[d!()], imm!(), insn.off),
            0x3f => r[d!()] = div64(r[d!()], r[s!()], insn.off),
            0x47 => r[d!()] |= imm!(),
            0x4f => r[d!()] |= r[s!()],
            0x57 => r[d!()] &= imm!(),
            0x5f => r[d!()] &= r[s!()],
            0x67 => r[d!()] <<= imm!() & 63,
            0x6f => r[d!()] <<= r[s!()] & 63,
            0x77 => r[d!()] >>= imm!() & 63,
            0x7f => r[d!()] >>= r[s!()] & 63,
            0x87 => r[d!()] = (r[d!()] as i64).wrapping_neg() as u64,
            0x97 => r[d!()] = mod64(r[d!()], imm!(), insn.off),
            0x9f => r[d!()] = mod64(r[d!()], r[s!()], insn.off),
            0xa7 => r[d!()] ^= imm!(),
            0xaf => r[d!()] ^= r[s!()],
            0xb7 => r[d!()] = imm!(),
            // mov, or movsx (off 8/16/32); plain mov tested first, it is common.
            0xbf if insn.off == 0 => r[d!()] = r[s!()],
            0xbf => {
                r[d!()] = match insn.off {
                    8 => r[s!()] as i8 as i64 as u64,
                    16 => r[s!()] as i16 as i64 as u64,
                    _ => r[s!()] as i32 as i64 as u64,
                }
            }
            0xc7 => r[d!()] = ((r[d!()] as i64) >> (imm!() & 63)) as u64,
            0xcf => r[d!()] = ((r[d!()] as i64) >> (r[s!()] & 63)) as u64,
            0xd7 => r[d!()] = bswap(r[d!()], insn.imm),

            // ---- ALU (32-bit): results are zero-extended ----
            0x04 => r[d!()] = (r[d!()] as u32).wrapping_add(imm32!()) as u64,
            0x0c => r[d!()] = (r[d!()] as u32).wrapping_add(r[s!()] as u32) as u64,
            0x14 => r[d!()] = (r[d!()] as u32).wrapping_sub(imm32!()) as u64,
            0x1c => r[d!()] = (r[d!()] as u32).wrapping_sub(r[s!()] as u32) as u64,
            0x24 => r[d!()] = (r[d!()] as u32).wrapping_mul(imm32!()) as u64,
            0x2c => r[d!()] = (r[d!()] as u32).wrapping_mul(r[s!()] as u32) as u64,
            0x34 => r[d!()] = div32(r[d!()] as u32, imm32!(), insn.off) as u64,
            0x3c => r[d!()] = div32(r[d!()] as u32, r[s!()] as u32, insn.off) as u64,
            0x44 => r[d!()] = (r[d!()] as u32 | imm32!()) as u64,
            0x4c => r[d!()] = (r[d!()] as u32 | r[s!()] as u32) as u64,
            0x54 => r[d!()] = (r[d!()] as u32 & imm32!()) as u64,
            0x5c => r[d!()] = (r[d!()] as u32 & r[s!()] as u32) as u64,
            0x64 => r[d!()] = ((r[d!()] as u32) << (imm32!() & 31)) as u64,
            0x6c => r[d!()] = ((r[d!()] as u32) << (r[s!()] as u32 & 31)) as u64,
            0x74 => r[d!()] = ((r[d!()] as u32) >> (imm32!() & 31)) as u64,
            0x7c => r[d!()] = ((r[d!()] as u32) >> (r[s!()] as u32 & 31)) as u64,
            0x84 => r[d!()] = (r[d!()] as i32).wrapping_neg() as u32 as u64,
            0x94 => r[d!()] = mod32(r[d!()] as u32, imm32!(), insn.off) as u64,
            0x9c => r[d!()] = mod32(r[d!()] as u32, r[s!()] as u32, insn.off) as u64,
            0xa4 => r[d!()] = (r[d!()] as u32 ^ imm32!()) as u64,
            0xac => r[d!()] = (r[d!()] as u32 ^ r[s!()] as u32) as u64,
            0xb4 => r[d!()] = imm32!() as u64,
            0xbc if insn.off == 0 => r[d!()] = r[s!()] as u32 as u64,
            0xbc => {
                r[d!()] = match insn.off {
                    8 => r[s!()] as i8 as i32 as u32 as u64,
                    _ => r[s!()] as i16 as i32 as u32 as u64,
                }
            }
            0xc4 => r[d!()] = ((r[d!()] as i32) >> (imm32!() & 31)) as u32 as u64,
            0xcc => r[d!()] = ((r[d!()] as i32) >> (r[s!()] as u32 & 31)) as u32 as u64,
            // le: truncate to the width (the host order is little-endian).
            0xd4 => r[d!()] = truncate(r[d!()], insn.imm),
            // be: byte swap to the width.
            0xdc => r[d!()] = bswap(r[d!()], insn.imm),

            // ---- JMP (64-bit compares) ----
            0x05 => jmp!(true),
            0x15 => jmp!(r[d!()] == imm!()),
            0x1d => jmp!(r[d!()] == r[s!()]),
            0x25 => jmp!(r[d!()] > imm!()),
            0x2d => jmp!(r[d!()] > r[s!()]),
            0x35 => jmp!(r[d!()] >= imm!()),
            0x3d => jmp!(r[d!()] >= r[s!()]),
            0x45 => jmp!(r[d!()] & imm!() != 0),
            0x4d => jmp!(r[d!()] & r[s!()] != 0),
            0x55 => jmp!(r[d!()] != imm!()),
            0x5d => jmp!(r[d!()] != r[s!()]),
            0x65 => jmp!((r[d!()] as i64) > imm!() as i64),
            0x6d => jmp!((r[d!()] as i64) > r[s!()] as i64),
            0x75 => jmp!((r[d!()] as i64) >= imm!() as i64),
            0x7d => jmp!((r[d!()] as i64) >= r[s!()] as i64),
            0xa5 => jmp!(r[d!()] < imm!()),
            0xad => jmp!(r[d!()] < r[s!()]),
            0xb5 => jmp!(r[d!()] <= imm!()),
            0xbd => jmp!(r[d!()] <= r[s!()]),
            0xc5 => jmp!((r[d!()] as i64) < imm!() as i64),
            0xcd => jmp!((r[d!()] as i64) < r[s!()] as i64),
            0xd5 => jmp!((r[d!()] as i64) <= imm!() as i64),
            0xdd => jmp!((r[d!()] as i64) <= r[s!()] as i64),

            // ---- JMP32 (32-bit compares) ----
            0x06 => transfer!((pc as i64 + 1 + insn.imm as i64) as usize),
            0x16 => jmp!(r[d!()] as u32 == imm32!()),
            0x1e => jmp!(r[d!()] as u32 == r[s!()] as u32),
            0x26 => jmp!(r[d!()] as u32 > imm32!()),
            0x2e => jmp!(r[d!()] as u32 > r[s!()] as u32),
            0x36 => jmp!(r[d!()] as u32 >= imm32!()),
            0x3e => jmp!(r[d!()] as u32 >= r[s!()] as u32),
            0x46 => jmp!(r[d!()] as u32 & imm32!() != 0),
            0x4e => jmp!(r[d!()] as u32 & r[s!()] as u32 != 0),
            0x56 => jmp!(r[d!()] as u32 != imm32!()),
            0x5e => jmp!(r[d!()] as u32 != r[s!()] as u32),
            0x66 => jmp!((r[d!()] as i32) > imm32!() as i32),
            0x6e => jmp!((r[d!()] as i32) > r[s!()] as i32),
            0x76 => jmp!((r[d!()] as i32) >= imm32!() as i32),
            0x7e => jmp!((r[d!()] as i32) >= r[s!()] as i32),
            0xa6 => jmp!((r[d!()] as u32) < imm32!()),
            0xae => jmp!((r[d!()] as u32) < r[s!()] as u32),
            0xb6 => jmp!(r[d!()] as u32 <= imm32!()),
            0xbe => jmp!(r[d!()] as u32 <= r[s!()] as u32),
            0xc6 => jmp!((r[d!()] as i32) < imm32!() as i32),
            0xce => jmp!((r[d!()] as i32) < r[s!()] as i32),
            0xd6 => jmp!((r[d!()] as i32) <= imm32!() as i32),
            0xde => jmp!((r[d!()] as i32) <= r[s!()] as i32),

            // ---- calls and exit (helpers and callx: in `run_loop`) ----
            OP_CALL if insn.src == CALL_LOCAL => {
                if let Err(kind) = stack.push(pc + 1, r, mem) {
                    trap!(kind);
                }
                transfer!((pc as i64 + 1 + insn.imm as i64) as usize);
            }
            OP_CALL | OP_CALLX => stop_after!(Stop::Call),
            OP_EXIT => match stack.pop(r, mem) {
                Some(return_pc) => transfer!(return_pc),
                None => stop_after!(Stop::Exit),
            },

            // ---- loads and stores ----
            OP_LD_IMM64 => {
                // Validation keeps both slots together; only a later
                // `truncate_code` could cut them apart.
                let Some(second) = code.get(pc + 1) else {
                    trap!(TrapKind::PcOutOfRange(pc as u64 + 1));
                };
                let hi = second.imm as u32 as u64;
                r[d!()] = (imm32!() as u64) | (hi << 32);
                // Two slots, one instruction.
                transfer!(pc + 2);
            }
            0x61 => r[d!()] = load!(u32) as u64,
            0x69 => r[d!()] = load!(u16) as u64,
            0x71 => r[d!()] = load!(u8) as u64,
            0x79 => r[d!()] = load!(u64),
            0x81 => r[d!()] = load!(i32) as i64 as u64,
            0x89 => r[d!()] = load!(i16) as i64 as u64,
            0x91 => r[d!()] = load!(i8) as i64 as u64,
            0x62 => store!(u32, imm!()),
            0x6a => store!(u16, imm!()),
            0x72 => store!(u8, imm!()),
            0x7a => store!(u64, imm!()),
            0x63 => store!(u32, r[s!()]),
            0x6b => store!(u16, r[s!()]),
            0x73 => store!(u8, r[s!()]),
            0x7b => store!(u64, r[s!()]),
            0xc3 | 0xdb => {
                let size = if insn.op == 0xc3 { 4 } else { 8 };
                let addr = r[d!()].wrapping_add(off!());
                // Atomics read and write: both permissions are checked up front.
                let old = mem_try!(mem.load(addr, size));
                mem_try!(mem.slice_mut(addr, size).map(|_| ()));
                let src = if size == 4 {
                    r[s!()] as u32 as u64
                } else {
                    r[s!()]
                };
                let (new, fetched) = atomic(insn.imm, old, src, r[0], size);
                if let Some(new) = new {
                    mem_try!(mem.store(addr, size, new));
                }
                match insn.imm {
                    ATOMIC_CMPXCHG => r[0] = fetched,
                    op if op & ATOMIC_FETCH != 0 => r[s!()] = fetched,
                    _ => {}
                }
            }
            _ => {
                // Validation makes this unreachable; stay safe if it is not.
                trap!(TrapKind::PcOutOfRange(pc as u64));
            }
        }
        pc += 1;
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
