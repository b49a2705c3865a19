//! The world random programs run in, for the differential property test
//! (`differential.rs`) and the `vm_jit` fuzz target (which includes this
//! file): kernel helpers (plain, failing, calling back into BPF, tail
//! calls), runtime helpers (one raising undefined behaviour), a device
//! behind unmapped low addresses that also serves LD_ABS/LD_IND, access
//! proofs (right or wrong: engines must agree either way), and an undo
//! epoch around every run, rolled back afterwards. Everything a run can
//! change is observed ([`Observed`]).

#![allow(dead_code)]

use bpf_jit::{EngineKind, Jit};
use bpf_vm::isa::{self, Insn};
use bpf_vm::{
    code_addr, Device, HelperError, HelperEvent, HelperStep, Memory, RegionKind, Trap, Vm, VmConfig,
};
use std::cell::RefCell;
use std::rc::Rc;

/// Base of the device's addresses (unmapped: below the first region).
pub const DEVICE: u64 = 0x1000;
/// Bytes of the device's window.
pub const DEVICE_LEN: u64 = 0x100;

/// Kernel helper ids and runtime helper indices the programs call.
pub const HELPER_MIX: i32 = 1;
pub const HELPER_SUM: i32 = 2;
pub const HELPER_FAIL: i32 = 3;
/// `loop(ctx = r1, n = r4 & 3, func = r3)`: calls `func(i, ctx)` for i in
/// 0..n until it returns 1; returns the calls made.
pub const HELPER_LOOP: i32 = 5;
/// `tail_call(ctx = r1, func = r3)`: replaces the running function.
pub const HELPER_TAIL: i32 = 6;
/// Kernel helper ids from 1 to this (4 is never registered).
pub const HELPER_IDS: i32 = 6;
pub const RUNTIME_MIX: i32 = 0;
pub const RUNTIME_UB: i32 = 1;
/// Runtime helper indices from 0 to this (2 is never registered).
pub const RUNTIME_IDS: i32 = 2;

/// Which engine runs.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    Interp,
    Jit,
    /// `auto` compiling an entry after this many interpreted instructions.
    Auto(u64),
}

/// Everything observable about one run.
#[derive(Debug, PartialEq, Eq)]
pub struct Observed {
    pub result: Result<u64, Trap>,
    /// The input buffer after the run.
    pub buffer: Vec<u8>,
    /// The whole stack region (every frame).
    pub stack: Vec<u8>,
    /// What the device saw: (address, size, value) per store.
    pub device: Vec<(u64, usize, u64)>,
    /// Whether memory differed from the epoch's start after the run.
    pub changed: bool,
}

type Log = Rc<RefCell<Vec<(u64, usize, u64)>>>;

/// A program context behind [`DEVICE`]: loads see a function of the
/// address, stores are logged, 8-byte loads at the window's last word are
/// refused by the device itself; the packet is the input buffer.
struct Window {
    log: Log,
    packet: Vec<u8>,
}

impl Device for Window {
    fn load(&mut self, _: &Memory, addr: u64, size: usize) -> Option<Result<u64, HelperError>> {
        let off = addr.checked_sub(DEVICE).filter(|o| *o < DEVICE_LEN)?;
        if off == DEVICE_LEN - 8 && size == 8 {
            return Some(Err(HelperError::Fault(
                "the last word is write-only".into(),
            )));
        }
        let v = off.wrapping_mul(0x0101_0101_0101).wrapping_add(size as u64);
        Some(Ok(v & (u64::MAX >> (64 - 8 * size))))
    }

    fn store(
        &mut self,
        _: &mut Memory,
        addr: u64,
        size: usize,
        value: u64,
    ) -> Option<Result<(), HelperError>> {
        addr.checked_sub(DEVICE).filter(|o| *o < DEVICE_LEN)?;
        self.log.borrow_mut().push((addr, size, value));
        Some(Ok(()))
    }

    fn packet_load(
        &mut self,
        _: &Memory,
        off: i64,
        size: usize,
    ) -> Result<Option<u64>, HelperError> {
        let bytes = usize::try_from(off)
            .ok()
            .and_then(|o| self.packet.get(o..o.checked_add(size)?));
        Ok(bytes.map(|b| b.iter().fold(0, |acc, b| acc << 8 | *b as u64)))
    }
}

/// Registers the helpers and the device.
fn furnish(vm: &mut Vm, log: Log, packet: &[u8]) {
    vm.register_helper(
        HELPER_MIX as u32,
        "mix",
        Box::new(|_, a| Ok(a[0].wrapping_mul(31) ^ a[1].rotate_left(7) ^ a[4])),
    );
    vm.register_helper(
        HELPER_SUM as u32,
        "sum_bytes",
        Box::new(|mem, a| {
            let bytes = mem.slice(a[0], a[1].min(256) as usize)?;
            Ok(bytes.iter().map(|&b| u64::from(b)).sum())
        }),
    );
    vm.register_helper(
        HELPER_FAIL as u32,
        "fail",
        Box::new(|_, a| Err(HelperError::Fault(format!("fail({})", a[0])))),
    );
    vm.register_callback_helper(
        HELPER_LOOP as u32,
        "loop",
        Box::new(|_, event| {
            let [i, n, func, ctx] = match event {
                HelperEvent::Start(a) => [0, a[3] & 3, a[2], a[0]],
                HelperEvent::Resume { state, ret: 1 } => return Ok(HelperStep::Return(state[0])),
                HelperEvent::Resume { state, .. } => state,
            };
            if i >= n {
                return Ok(HelperStep::Return(i));
            }
            Ok(HelperStep::Call {
                func,
                args: [i, ctx, 0, 0, 0],
                state: [i + 1, n, func, ctx],
            })
        }),
    );
    vm.register_callback_helper(
        HELPER_TAIL as u32,
        "tail_call",
        Box::new(|_, event| match event {
            HelperEvent::Start(a) => Ok(HelperStep::TailCall {
                func: a[2],
                ctx: a[0],
                on_failure: 0xfa11,
            }),
            HelperEvent::Resume { .. } => Err(HelperError::Fault("no callbacks".into())),
        }),
    );
    vm.register_runtime_helper(
        RUNTIME_MIX as u32,
        "rt_mix",
        Box::new(|_, a| Ok(a[0] ^ a[1].wrapping_mul(3))),
    );
    vm.register_runtime_helper(
        RUNTIME_UB as u32,
        "__bpf_ub_trap",
        Box::new(|_, a| Err(HelperError::Undefined(format!("check {}", a[0] & 7)))),
    );
    vm.set_device(Some(Box::new(Window {
        log,
        packet: packet.to_vec(),
    })));
}

/// Marks some loads and stores proven, to regions chosen by `seed` (the
/// proofs need not be true: engines must still agree).
pub fn proofs(code: &[Insn], seed: u64) -> Vec<(usize, RegionKind)> {
    if seed == 0 {
        return Vec::new();
    }
    let regions = [RegionKind::Data, RegionKind::Stack, RegionKind::Heap];
    let mut out = Vec::new();
    let mut x = seed;
    for (slot, insn) in code.iter().enumerate() {
        if !matches!(
            insn.class(),
            isa::CLASS_LDX | isa::CLASS_ST | isa::CLASS_STX
        ) {
            continue;
        }
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        if !(x >> 33).is_multiple_of(3) {
            // Mostly the region the access really uses: r10-based are stack.
            let base = if insn.class() == isa::CLASS_LDX {
                insn.src
            } else {
                insn.dst
            };
            let region = if (x >> 40).is_multiple_of(5) {
                regions[(x >> 45) as usize % 3]
            } else if base == 10 {
                RegionKind::Stack
            } else {
                RegionKind::Data
            };
            out.push((slot, region));
        }
    }
    out
}

/// Runs `code` on `which` with `input` in a data buffer that straddles a
/// page boundary; r1 = buffer, r2 = its length, r3 = code address of slot
/// 0, r4 = 7, r5 = [`DEVICE`]. Every third slot and every `exit` is a
/// function entry. `None` if the code does not load.
pub fn run(
    code: &[Insn],
    input: &[u8],
    config: VmConfig,
    which: Which,
    proven: &[(usize, RegionKind)],
) -> Option<Observed> {
    let mut vm = Vm::new(config);
    let log: Log = Rc::default();
    furnish(&mut vm, log.clone(), input);
    match which {
        Which::Interp => {}
        Which::Jit => {
            assert_eq!(bpf_jit::install(&mut vm, EngineKind::Jit), None);
        }
        Which::Auto(threshold) => {
            let mut jit = Jit::new(EngineKind::Auto).expect("a JIT on this host");
            jit.threshold = threshold;
            jit.per_instruction = 0;
            vm.set_engine(Some(Box::new(jit)));
        }
    }
    let entry = vm.load_code(code).ok()?;
    for (i, insn) in code.iter().enumerate() {
        if i % 3 == 0 || insn.op == isa::OP_EXIT {
            vm.mark_entry(i);
        }
    }
    vm.set_access_proofs(0..code.len(), proven);
    // Two pages of data; the buffer ends 16 bytes into the second.
    let n = input.len();
    let data = vm.mem.alloc(RegionKind::Data, 2 * 4096, 8).unwrap();
    let addr = data + 4096 + 16 - n as u64;
    vm.mem.write_bytes(addr, input).unwrap();
    let before = vm.mem.read_bytes(data, 2 * 4096).unwrap();
    let epoch = vm.mem.begin_epoch();
    let args = [addr, n as u64, code_addr(0), 7, DEVICE];
    let result = vm.call(entry, &args);
    let buffer = vm.mem.read_bytes(addr, n).unwrap();
    vm.mem.set_stack_low(0);
    let size = config.frame_size * config.max_call_depth;
    let stack = vm.mem.read_bytes(RegionKind::Stack.base(), size).unwrap();
    let changed = vm.mem.changed_since(epoch);
    // Undo restores the data exactly, whatever engine wrote it.
    assert!(vm.mem.rollback(epoch));
    let after = vm.mem.read_bytes(data, 2 * 4096).unwrap();
    assert!(before == after, "rollback after {which:?} left changes");
    let device = log.borrow().clone();
    Some(Observed {
        result,
        buffer,
        stack,
        device,
        changed,
    })
}
