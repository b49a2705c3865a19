//! A VM memory, a runtime and its helpers, for calling helpers directly.
#![allow(dead_code)]

pub mod elf;

use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{HelperError, HelperFn, HelperImpl, Memory, RegionKind};
use std::collections::HashMap;

pub struct Env {
    pub mem: Memory,
    pub rt: Runtime,
    pub out: OutputSink,
    helpers: HashMap<&'static str, HelperFn>,
    /// Where the next va block ends in the stack region (blocks are made
    /// downward, as in a caller's frame, and reused once it is full).
    va_top: usize,
}

/// The stack region's size in an `Env`.
const STACK_SIZE: usize = 4096;

impl Env {
    pub fn new() -> Env {
        let out = OutputSink::buffer();
        Env::with_runtime(Runtime::new(out.clone()), out)
    }

    pub fn with_runtime(rt: Runtime, out: OutputSink) -> Env {
        let mut mem = Memory::new();
        mem.set_stack_size(STACK_SIZE);
        Env {
            mem,
            // Plain helpers only: callback helpers need a VM (tests/callbacks.rs).
            helpers: rt
                .helpers()
                .into_iter()
                .filter_map(|(name, h)| match h {
                    HelperImpl::Plain(f) => Some((name, f)),
                    HelperImpl::Callback(_) => None,
                })
                .collect(),
            rt,
            out,
            va_top: STACK_SIZE,
        }
    }

    /// Calls a helper with up to five argument registers.
    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<u64, HelperError> {
        let mut regs = [0u64; 5];
        regs[..args.len()].copy_from_slice(args);
        let f = self
            .helpers
            .get_mut(name)
            .unwrap_or_else(|| panic!("no helper {name}"));
        f(&mut self.mem, regs)
    }

    /// Calls a helper that must succeed.
    pub fn ok(&mut self, name: &str, args: &[u64]) -> u64 {
        self.call(name, args)
            .unwrap_or_else(|e| panic!("{name}{args:x?} failed: {e}"))
    }

    /// Places bytes in the data region; returns their address.
    pub fn data(&mut self, bytes: &[u8]) -> u64 {
        let a = self
            .mem
            .alloc(RegionKind::Data, bytes.len().max(1), 8)
            .unwrap();
        self.mem.write_bytes(a, bytes).unwrap();
        a
    }

    /// Places a NUL-terminated string in the data region.
    pub fn cstr(&mut self, s: &[u8]) -> u64 {
        let mut v = s.to_vec();
        v.push(0);
        self.data(&v)
    }

    /// Places a NUL-terminated string in read-only data (like a literal).
    pub fn literal(&mut self, s: &[u8]) -> u64 {
        let mut v = s.to_vec();
        v.push(0);
        let a = self.mem.alloc(RegionKind::Rodata, v.len(), 1).unwrap();
        self.mem.write_initial(a, &v).unwrap();
        a
    }

    /// Builds a full-mode va block `{cur, end, slots...}` (docs/abi.md)
    /// holding `slots` in the stack region, where a caller makes it;
    /// returns its address.
    pub fn va_block(&mut self, slots: &[u64]) -> u64 {
        let size = 16 + 8 * slots.len();
        assert!(size <= STACK_SIZE, "too many values for the test stack");
        if size > self.va_top {
            self.va_top = STACK_SIZE;
        }
        self.va_top -= size;
        let va = RegionKind::Stack.base() + self.va_top as u64;
        let first = va + 16;
        self.mem.store(va, 8, first).unwrap();
        self.mem
            .store(va + 8, 8, first + 8 * slots.len() as u64)
            .unwrap();
        for (i, v) in slots.iter().enumerate() {
            self.mem.store(first + 8 * i as u64, 8, *v).unwrap();
        }
        va
    }

    /// Calls a full-mode variadic helper: the fixed arguments, then a va
    /// block holding `values`.
    pub fn call_va(
        &mut self,
        name: &str,
        fixed: &[u64],
        values: &[u64],
    ) -> Result<u64, HelperError> {
        let va = self.va_block(values);
        let mut args = fixed.to_vec();
        args.push(va);
        self.call(name, &args)
    }

    /// Like [`Env::call_va`], for a call that must succeed.
    pub fn ok_va(&mut self, name: &str, fixed: &[u64], values: &[u64]) -> u64 {
        self.call_va(name, fixed, values)
            .unwrap_or_else(|e| panic!("{name}{fixed:x?} with {values:x?} failed: {e}"))
    }

    /// Reads a string back.
    pub fn read_cstr(&self, a: u64) -> Vec<u8> {
        self.mem.read_cstr(a, 1 << 20).unwrap().to_vec()
    }

    /// The output written so far (drained).
    pub fn output(&self) -> String {
        String::from_utf8(self.out.take()).unwrap()
    }
}

/// Asserts that a helper error is a fault whose message contains all `parts`.
#[track_caller]
pub fn assert_fault(r: Result<u64, HelperError>, parts: &[&str]) {
    match r {
        Err(HelperError::Fault(m)) => {
            for p in parts {
                assert!(m.contains(p), "fault message {m:?} lacks {p:?}");
            }
        }
        other => panic!("expected a fault containing {parts:?}, got {other:?}"),
    }
}

/// Asserts that a helper error is a refused memory access at `addr`.
#[track_caller]
pub fn assert_mem_error(r: Result<u64, HelperError>, addr: u64) {
    match r {
        Err(HelperError::Memory(e)) => assert_eq!(e.addr, addr, "{e}"),
        other => panic!("expected a memory error at {addr:#x}, got {other:?}"),
    }
}

/// The address of a NULL-page pointer, a gap between regions, and a heap
/// address past the end of the heap.
pub const BAD_POINTERS: [u64; 3] = [0, 0x10, 7 << 32];
