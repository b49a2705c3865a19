//! The runtime object: shared state, the helper table, snapshots.

use crate::ctx::{Ctx, State};
use crate::heap::{Heap, HeapStats, DEFAULT_HEAP_LIMIT};
use crate::output::OutputSink;
use crate::rand::GlibcRandom;
use crate::{abi, float, math, stdio, stdlib, string};
use bpf_vm::{HelperError, HelperFn, Memory};
use std::cell::RefCell;
use std::rc::Rc;

/// The body of one helper: the shared context, VM memory, argument registers.
pub(crate) type Imp = fn(&Ctx, &mut Memory, [u64; 5]) -> Result<u64, HelperError>;

/// Every function the runtime provides, by its C name. Aliases of the same
/// width on BPF (`long` and `long long` are both 64 bits) share one body.
const TABLE: &[(&str, Imp)] = &[
    // <stdio.h> (the printf family is in `stdio::PRINTF_FAMILY`)
    ("puts", stdio::puts),
    ("fputs", stdio::fputs),
    ("putchar", stdio::putchar),
    ("fputc", stdio::fputc),
    ("putc", stdio::putc),
    ("fflush", stdio::fflush),
    // <stdlib.h>
    ("malloc", stdlib::malloc),
    ("calloc", stdlib::calloc),
    ("realloc", stdlib::realloc),
    ("free", stdlib::free),
    ("atoi", stdlib::atoi),
    ("atol", stdlib::atol),
    ("atoll", stdlib::atol),
    ("strtol", stdlib::strtol),
    ("strtoll", stdlib::strtol),
    ("strtoul", stdlib::strtoul),
    ("strtoull", stdlib::strtoul),
    ("strtod", stdlib::strtod),
    ("strtold", stdlib::strtold),
    ("strtof", stdlib::strtof),
    ("atof", stdlib::atof),
    ("abs", stdlib::abs),
    ("labs", stdlib::labs),
    ("llabs", stdlib::labs),
    ("rand", stdlib::rand),
    ("srand", stdlib::srand),
    ("abort", stdlib::abort),
    ("exit", stdlib::exit),
    // <assert.h>
    ("__bpf_assert_fail", stdlib::assert_fail),
    // <string.h>
    ("memcpy", string::memcpy),
    ("memmove", string::memmove),
    ("memset", string::memset),
    ("memcmp", string::memcmp),
    ("memchr", string::memchr),
    ("strlen", string::strlen),
    ("strnlen", string::strnlen),
    ("strcmp", string::strcmp),
    ("strncmp", string::strncmp),
    ("strcpy", string::strcpy),
    ("strncpy", string::strncpy),
    ("strcat", string::strcat),
    ("strchr", string::strchr),
    ("strrchr", string::strrchr),
    ("strstr", string::strstr),
    ("strdup", string::strdup),
];

/// The helpers of bpf-repl's ABI (docs/abi.md): no header declares them;
/// code lowered by bpf-cc calls them.
const ABI_TABLE: &[(&str, Imp)] = &[
    ("__bpf_memcpy", abi::memcpy),
    ("__bpf_memmove", abi::memmove),
    ("__bpf_memset", abi::memset),
    ("__bpf_i128_mul", abi::i128_mul),
    ("__bpf_i128_udiv", abi::i128_udiv),
    ("__bpf_i128_sdiv", abi::i128_sdiv),
    ("__bpf_i128_urem", abi::i128_urem),
    ("__bpf_i128_srem", abi::i128_srem),
    ("__bpf_alloca", abi::alloca),
    ("__bpf_stacksave", abi::stacksave),
    ("__bpf_stackrestore", abi::stackrestore),
    ("__bpf_ub_trap", abi::ub_trap),
];

/// The helper tables: the C library above, then the ABI's helpers.
const TABLES: &[&[(&str, Imp)]] = &[
    TABLE,
    stdio::PRINTF_FAMILY,
    math::UNARY,
    math::BINARY,
    math::OTHER,
    float::HELPERS,
    ABI_TABLE,
];

/// Every helper, in table order.
fn all() -> impl Iterator<Item = &'static (&'static str, Imp)> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// The C function a helper implements: `printf` for `__bpf_strict_printf`
/// (the register-ABI variant strict-mode code calls), the name itself for
/// every other helper. For showing helper addresses to users.
pub fn c_name(helper: &str) -> &str {
    match helper.strip_prefix("__bpf_strict_") {
        Some(name) if helper_names().any(|n| n == helper) => name,
        _ => helper,
    }
}

/// The C names of all helpers, in table order.
pub fn helper_names() -> impl Iterator<Item = &'static str> {
    all().map(|(name, _)| *name)
}

/// The names of the ABI helpers (`__bpf_memcpy`, `__bpf_ub_trap`, ...),
/// which no header declares.
pub fn abi_helper_names() -> impl Iterator<Item = &'static str> {
    ABI_TABLE.iter().map(|(name, _)| *name)
}

/// The C library of one session: heap, random generator and output.
///
/// Clones of the helper closures share this state, so one `Runtime` serves
/// one VM. Save it with [`Runtime::save`] whenever the VM memory is
/// snapshotted, and restore both together.
pub struct Runtime {
    ctx: Ctx,
}

/// A copy of the runtime's state (heap bookkeeping and `rand` seed).
#[derive(Debug, Clone)]
pub struct RuntimeSnapshot(State);

impl Runtime {
    /// A runtime writing `stdout` and `stderr` to `out`, with a heap of at
    /// most 1 GiB.
    pub fn new(out: OutputSink) -> Runtime {
        Runtime {
            ctx: Ctx {
                state: Rc::new(RefCell::new(State {
                    heap: Heap::new(DEFAULT_HEAP_LIMIT),
                    rand: GlibcRandom::default(),
                    alloca_limit: crate::abi::DEFAULT_ALLOCA_LIMIT,
                })),
                stderr: out.clone(),
                stdout: out,
            },
        }
    }

    /// Sends `stderr` to its own sink.
    pub fn with_stderr(mut self, err: OutputSink) -> Runtime {
        self.ctx.stderr = err;
        self
    }

    /// Caps the heap region at `bytes`; `malloc` returns NULL beyond it.
    pub fn with_heap_limit(self, bytes: usize) -> Runtime {
        self.ctx.state.borrow_mut().heap.set_limit(bytes);
        self
    }

    /// Caps the alloca region (VLAs and `alloca`) at `bytes`; a larger
    /// allocation stops the run with a fault naming the limit.
    pub fn with_alloca_limit(self, bytes: usize) -> Runtime {
        self.ctx.state.borrow_mut().alloca_limit = bytes;
        self
    }

    /// The `stdout` sink.
    pub fn stdout(&self) -> &OutputSink {
        &self.ctx.stdout
    }

    /// The `stderr` sink (the `stdout` sink unless set apart).
    pub fn stderr(&self) -> &OutputSink {
        &self.ctx.stderr
    }

    /// One closure per C function, named exactly as in C, for the linker's
    /// helper table. Every call returns fresh closures over the same state.
    pub fn helpers(&self) -> Vec<(&'static str, HelperFn)> {
        all()
            .map(|(name, imp)| (*name, self.closure(*imp)))
            .collect()
    }

    /// The helper for one C name, if the runtime provides it.
    pub fn helper(&self, name: &str) -> Option<HelperFn> {
        all()
            .find(|(n, _)| *n == name)
            .map(|(_, imp)| self.closure(*imp))
    }

    fn closure(&self, imp: Imp) -> HelperFn {
        let ctx = self.ctx.clone();
        Box::new(move |mem: &mut Memory, args: [u64; 5]| imp(&ctx, mem, args))
    }

    /// Copies the runtime state (cost: one clone of the heap bookkeeping).
    pub fn save(&self) -> RuntimeSnapshot {
        RuntimeSnapshot(self.ctx.state.borrow().clone())
    }

    /// Puts back a state saved earlier; pair it with restoring the VM memory.
    pub fn restore(&self, snapshot: RuntimeSnapshot) {
        *self.ctx.state.borrow_mut() = snapshot.0;
    }

    /// Live blocks and heap size, given the VM memory the heap lives in.
    pub fn heap_stats(&self, mem: &Memory) -> HeapStats {
        self.ctx.state.borrow().heap.stats(mem)
    }

    /// Where `addr` lies in the heap: in a live block, a freed one, or none.
    pub fn heap_place(&self, addr: u64) -> crate::heap::HeapPlace {
        self.ctx.state.borrow().heap.place(addr)
    }

    /// Holds freed blocks back from reuse until `bytes` of them wait
    /// (under memcheck; default [`crate::heap::DEFAULT_QUARANTINE`]).
    pub fn with_quarantine(self, bytes: usize) -> Runtime {
        self.ctx.state.borrow_mut().heap.set_quarantine(bytes);
        self
    }

    /// The heap block `addr` is in (or in the red zone of), live or
    /// freed, with where it was allocated and freed: what a memcheck
    /// report shows about a faulting address.
    pub fn heap_block_info(&self, addr: u64) -> Option<crate::heap::BlockInfo> {
        self.ctx.state.borrow().heap.block_info(addr)
    }

    /// The block the last helper fault about a heap pointer concerned (a
    /// double free, a range past a block), once.
    pub fn take_blamed_block(&self) -> Option<crate::heap::BlockInfo> {
        self.ctx.state.borrow().heap.take_blamed()
    }

    /// The requested size of the live heap block starting at `ptr`
    /// (for value printing: how many elements a pointer has).
    pub fn heap_block_size(&self, ptr: u64) -> Option<usize> {
        self.ctx.state.borrow().heap.block_size(ptr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_variants_are_shown_by_their_c_name() {
        assert_eq!(c_name("__bpf_strict_printf"), "printf");
        assert_eq!(c_name("printf"), "printf");
        assert_eq!(c_name("__bpf_f64_add"), "__bpf_f64_add");
        assert_eq!(c_name("__bpf_strict_nothing"), "__bpf_strict_nothing");
    }

    #[test]
    fn helper_names_are_unique() {
        let mut names: Vec<&str> = helper_names().collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
