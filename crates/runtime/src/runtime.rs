//! The runtime object: shared state, the helper table, snapshots.

use crate::ctx::{Ctx, State};
use crate::fs::Grant;
use crate::heap::{Heap, HeapStats, DEFAULT_HEAP_LIMIT};
use crate::input::InputSource;
use crate::output::OutputSink;
use crate::rand::GlibcRandom;
use crate::world::{TimeSource, World};
use crate::{
    abi, errno, fileio, fileopen, float, math, process, scanf, sort, stdio, stdlib, string,
};
use crate::{strscan, time, unistd};
use bpf_vm::{
    CallbackHelperFn, HelperError, HelperEvent, HelperFn, HelperImpl, HelperStep, Memory,
};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

/// The body of one helper: the shared context, VM memory, argument registers.
pub(crate) type Imp = fn(&Ctx, &mut Memory, [u64; 5]) -> Result<u64, HelperError>;

/// The body of a helper that calls back into BPF or moves the call stack
/// (`bpf_vm::HelperStep`).
pub(crate) type CallbackImp = fn(&Ctx, &mut Memory, HelperEvent) -> Result<HelperStep, HelperError>;

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
    ("fopen", fileopen::fopen),
    ("freopen", fileopen::freopen),
    ("tmpnam", fileopen::tmpnam),
    ("fclose", fileopen::fclose),
    ("tmpfile", fileopen::tmpfile),
    ("fread", fileio::fread),
    ("fwrite", fileio::fwrite),
    ("fgetc", fileio::fgetc),
    ("getc", fileio::fgetc),
    ("getchar", fileio::getchar),
    ("ungetc", fileio::ungetc),
    ("fgets", fileio::fgets),
    ("getdelim", fileio::getdelim),
    ("getline", fileio::getline),
    ("fseek", fileio::fseek),
    ("fseeko", fileio::fseek),
    ("ftell", fileio::ftell),
    ("ftello", fileio::ftell),
    ("rewind", fileio::rewind),
    ("fgetpos", fileio::fgetpos),
    ("fsetpos", fileio::fsetpos),
    ("feof", fileio::feof),
    ("ferror", fileio::ferror),
    ("clearerr", fileio::clearerr),
    ("fileno", fileio::fileno),
    ("setvbuf", fileio::setvbuf),
    ("setbuf", fileio::setbuf),
    ("remove", fileopen::remove),
    ("rename", fileopen::rename),
    ("perror", errno::perror),
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
    ("strtoimax", stdlib::strtol),
    ("strtoul", stdlib::strtoul),
    ("strtoull", stdlib::strtoul),
    ("strtoumax", stdlib::strtoul),
    ("strtod", stdlib::strtod),
    ("strtold", stdlib::strtold),
    ("strtof", stdlib::strtof),
    ("atof", stdlib::atof),
    ("div", stdlib::div),
    ("ldiv", stdlib::ldiv),
    ("lldiv", stdlib::ldiv),
    ("imaxdiv", stdlib::ldiv),
    ("getenv", stdlib::getenv),
    ("mblen", stdlib::mblen),
    ("mbtowc", stdlib::mbtowc),
    ("wctomb", stdlib::wctomb),
    ("abs", stdlib::abs),
    ("labs", stdlib::labs),
    ("llabs", stdlib::labs),
    ("rand", stdlib::rand),
    ("srand", stdlib::srand),
    ("_Exit", process::underscore_exit),
    ("atexit", process::atexit),
    ("at_quick_exit", process::at_quick_exit),
    ("signal", process::signal),
    ("system", unistd::system),
    // <errno.h>
    ("__errno_location", errno::errno_location),
    // <time.h>, <sys/time.h>
    ("time", time::time),
    ("clock", time::clock),
    ("clock_gettime", time::clock_gettime),
    ("clock_getres", time::clock_getres),
    ("timespec_get", time::timespec_get),
    ("gettimeofday", time::gettimeofday),
    ("difftime", time::difftime),
    ("localtime", time::localtime),
    ("localtime_r", time::localtime_r),
    ("gmtime", time::gmtime),
    ("gmtime_r", time::gmtime_r),
    ("mktime", time::mktime),
    ("timegm", time::timegm),
    ("strftime", time::strftime),
    ("asctime", time::asctime),
    ("asctime_r", time::asctime_r),
    ("ctime", time::ctime),
    ("ctime_r", time::ctime_r),
    ("nanosleep", time::nanosleep),
    // <unistd.h>
    ("read", unistd::read),
    ("write", unistd::write),
    ("isatty", unistd::isatty),
    ("sleep", time::sleep),
    ("usleep", time::usleep),
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
    ("strndup", string::strndup),
    ("strncat", string::strncat),
    ("stpcpy", string::stpcpy),
    ("strxfrm", string::strxfrm),
    ("strcoll", string::strcmp),
    ("memccpy", string::memccpy),
    ("memrchr", string::memrchr),
    ("strspn", strscan::strspn),
    ("strcspn", strscan::strcspn),
    ("strpbrk", strscan::strpbrk),
    ("strtok", strscan::strtok),
    ("strtok_r", strscan::strtok_r),
    ("strsep", strscan::strsep),
    ("strerror", errno::strerror),
    ("strerror_r", errno::strerror_r),
    ("__bpf_gnu_strerror_r", errno::gnu_strerror_r),
    // <strings.h>
    ("strcasecmp", string::strcasecmp),
    ("strncasecmp", string::strncasecmp),
    ("bcmp", string::memcmp),
    ("bzero", string::bzero),
    ("ffs", stdlib::ffs),
    ("bcopy", string::bcopy),
];

/// Helpers that call back into BPF (`qsort`'s comparisons, `atexit`
/// functions, signal handlers) or move the VM's call stack
/// (`setjmp`/`longjmp`).
const CALLBACKS: &[(&str, CallbackImp)] = &[
    ("qsort", sort::qsort),
    ("qsort_r", sort::qsort_r),
    ("bsearch", sort::bsearch),
    ("exit", process::exit),
    ("quick_exit", process::quick_exit),
    ("abort", process::abort),
    ("raise", process::raise),
    ("setjmp", process::setjmp),
    ("_setjmp", process::setjmp),
    ("sigsetjmp", process::setjmp),
    ("longjmp", process::longjmp),
    ("_longjmp", process::longjmp),
    ("siglongjmp", process::longjmp),
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
    ("__bpf_tls_base", abi::tls_base),
];

/// The helper tables: the C library above, then the ABI's helpers.
const TABLES: &[&[(&str, Imp)]] = &[
    TABLE,
    stdio::PRINTF_FAMILY,
    scanf::SCANF_FAMILY,
    math::UNARY,
    math::BINARY,
    math::OTHER,
    float::HELPERS,
    crate::threads::HELPERS,
    ABI_TABLE,
];

/// The tables of `<math.h>`, whose functions set `errno` as glibc's do.
const MATH_TABLES: [&[(&str, Imp)]; 3] = [math::UNARY, math::BINARY, math::OTHER];

/// Every helper, in table order.
fn all() -> impl Iterator<Item = &'static (&'static str, Imp)> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// True for a `<math.h>` function.
fn is_math(name: &str) -> bool {
    MATH_TABLES
        .iter()
        .any(|t| t.iter().any(|(n, _)| *n == name))
}

/// Calls a `<math.h>` helper and gives the program the `errno` glibc's
/// libm set (`EDOM` for `sqrt(-1)`, `ERANGE` for `exp(1000)`).
fn with_math_errno(imp: Imp, cx: &Ctx, mem: &mut Memory, a: [u64; 5]) -> Result<u64, HelperError> {
    crate::libm::take_errno();
    let r = imp(cx, mem, a)?;
    let e = crate::libm::take_errno();
    if e != 0 {
        cx.set_errno(mem, e)?;
    }
    Ok(r)
}

/// The C function a helper implements: `printf` for `__bpf_strict_printf`
/// (the register-ABI variant strict-mode code calls), `strerror_r` for
/// `__bpf_gnu_strerror_r` (the `_GNU_SOURCE` form), the name itself for
/// every other helper. For showing helper addresses to users.
pub fn c_name(helper: &str) -> &str {
    let variant = helper
        .strip_prefix("__bpf_strict_")
        .or_else(|| helper.strip_prefix("__bpf_gnu_"));
    match variant {
        Some(name) if helper_names().any(|n| n == helper) => name,
        _ => helper,
    }
}

/// The C names of all helpers: the plain ones in table order, then the
/// callback helpers.
pub fn helper_names() -> impl Iterator<Item = &'static str> {
    all()
        .map(|(name, _)| *name)
        .chain(CALLBACKS.iter().map(|(name, _)| *name))
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
    /// most 1 GiB, empty standard input, no directory for files and the
    /// host's clock.
    pub fn new(out: OutputSink) -> Runtime {
        Runtime {
            ctx: Ctx {
                state: Rc::new(RefCell::new(State {
                    heap: Heap::new(DEFAULT_HEAP_LIMIT),
                    rand: GlibcRandom::default(),
                    alloca_limit: crate::abi::DEFAULT_ALLOCA_LIMIT,
                    statics: Default::default(),
                    strtok: 0,
                    handlers: Default::default(),
                    ticks: 0,
                })),
                world: Rc::new(RefCell::new(World::default())),
                stderr: out.clone(),
                notices: out.clone(),
                stdout: out,
            },
        }
    }

    /// Sends `stderr` to its own sink (notes for the user follow it unless
    /// [`Runtime::with_notices`] sets them apart).
    pub fn with_stderr(mut self, err: OutputSink) -> Runtime {
        if self.ctx.notices.same_as(&self.ctx.stderr) {
            self.ctx.notices = err.clone();
        }
        self.ctx.stderr = err;
        self
    }

    /// Sends the runtime's notes for the user (how to grant a directory,
    /// that standard input is empty: each shown once, as `note: ...`
    /// lines) to their own sink instead of `stderr`'s.
    pub fn with_notices(mut self, notices: OutputSink) -> Runtime {
        self.ctx.notices = notices;
        self
    }

    /// Gives the program standard input (`getchar`, `scanf`, `read(0)`):
    /// bpf-repl's `--stdin FILE` or its own standard input,
    /// `bpf-jitlink`'s standard input. Replaces what was there.
    pub fn set_stdin(&self, source: InputSource) {
        self.ctx.world.borrow_mut().stdin = source;
    }

    /// Appends bytes to standard input, after what is not read yet (a
    /// transcript's `//<` section, given before its input runs).
    pub fn push_stdin(&self, bytes: &[u8]) {
        self.ctx.world.borrow_mut().stdin.push(bytes);
    }

    /// Bytes pushed with [`Runtime::push_stdin`] and not read yet.
    pub fn stdin_pending(&self) -> usize {
        self.ctx.world.borrow().stdin.pending()
    }

    /// Grants the directory `dir` to the program's file functions
    /// (`--fs DIR`): `fopen`, `remove` and `rename` then work on names
    /// inside it, and nowhere else. Without a grant they fail with
    /// `EACCES` and a note saying how to grant one.
    pub fn grant_fs(&self, dir: &Path) -> std::io::Result<()> {
        let grant = Grant::new(dir)?;
        self.ctx.world.borrow_mut().grant = Some(grant);
        Ok(())
    }

    /// The granted directory, if any.
    pub fn fs_grant(&self) -> Option<std::path::PathBuf> {
        let world = self.ctx.world.borrow();
        world.grant.as_ref().map(|g| g.path().to_path_buf())
    }

    /// Chooses the clock (`--deterministic-time`: [`TimeSource::DETERMINISTIC`]).
    pub fn set_time_source(&self, source: TimeSource) {
        self.ctx.world.borrow_mut().time = source;
    }

    /// Caps the files open at once (default 64).
    pub fn with_max_open_files(self, n: usize) -> Runtime {
        self.ctx.world.borrow_mut().files.max_open = n;
        self
    }

    /// Caps the bytes a session may write to files (default 1 GiB).
    pub fn with_file_write_limit(self, bytes: u64) -> Runtime {
        self.ctx.world.borrow_mut().files.write_limit = bytes;
        self
    }

    /// The functions `atexit` registered, in the order `exit` calls them
    /// (last registered first). A host whose program returned from `main`
    /// calls them itself, as C's startup code would, then
    /// [`Runtime::clear_atexit`].
    pub fn atexit_functions(&self) -> Vec<u64> {
        self.ctx.state.borrow().handlers.at_exit_order()
    }

    /// Forgets the `atexit` functions (they ran).
    pub fn clear_atexit(&self) {
        self.ctx.state.borrow_mut().handlers.clear_at_exit();
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
    /// helper table: plain helpers, and callback helpers (`qsort`,
    /// `setjmp`, `exit`...) that the VM resumes. Every call returns fresh
    /// closures over the same state.
    pub fn helpers(&self) -> Vec<(&'static str, HelperImpl)> {
        all()
            .map(|(name, imp)| (*name, HelperImpl::Plain(self.closure_for(name, *imp))))
            .chain(
                CALLBACKS
                    .iter()
                    .map(|(name, imp)| (*name, HelperImpl::Callback(self.callback(*imp)))),
            )
            .collect()
    }

    /// The plain helper for one C name, if the runtime provides one
    /// (callback helpers need a VM: see [`Runtime::helpers`]).
    pub fn helper(&self, name: &str) -> Option<HelperFn> {
        all()
            .find(|(n, _)| *n == name)
            .map(|(n, imp)| self.closure_for(n, *imp))
    }

    fn closure_for(&self, name: &str, imp: Imp) -> HelperFn {
        let ctx = self.ctx.clone();
        if is_math(name) {
            Box::new(move |mem: &mut Memory, args: [u64; 5]| with_math_errno(imp, &ctx, mem, args))
        } else {
            Box::new(move |mem: &mut Memory, args: [u64; 5]| imp(&ctx, mem, args))
        }
    }

    fn callback(&self, imp: CallbackImp) -> CallbackHelperFn {
        let ctx = self.ctx.clone();
        Box::new(move |mem: &mut Memory, ev: HelperEvent| imp(&ctx, mem, ev))
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
        assert_eq!(c_name("__bpf_gnu_strerror_r"), "strerror_r");
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
