//! `bpf-runtime` is the C library of bpf-repl: the headers a snippet may
//! `#include` (ours in `include/`, clang's own for `<stdint.h>`,
//! `<stddef.h>`, `<stdbool.h>`, `<limits.h>`, `<float.h>` and
//! `<stdarg.h>`) and the host helpers that implement their functions
//! (`printf`, `malloc`, `strlen`, `sin`, `strtod`, `assert`, ...) on the
//! VM's memory, every pointer and length checked. It also implements the
//! helpers of the closed-world ABI (docs/abi.md) that the IR stage calls
//! for floating-point operations (`__bpf_f64_add`, ...): bit-exact with
//! native x86-64, libm results from the host's glibc.
//!
//! It owns no linking and no execution: the linker resolves an undefined
//! symbol such as `printf` to the helper of the same name from
//! [`Runtime::helpers`] and registers it with the VM. `<ctype.h>` and
//! `<fenv.h>` are pure BPF code (static inline functions in the header).
//!
//! Variadic functions exist in two ABIs ([`AbiMode`]): under their C names
//! they read a va block (full mode), under `__bpf_strict_<name>` their
//! values in registers (strict mode, where the headers rename them).
//!
//! Output goes to an [`OutputSink`] shared by all helpers, so program output
//! stays in the order it was produced; the host drains or streams it.
//!
//! How a session uses it:
//!
//! ```
//! use bpf_runtime::{OutputSink, Runtime};
//! use bpf_vm::{HelperImpl, Vm};
//!
//! let out = OutputSink::buffer(); // or OutputSink::writer(std::io::stdout())
//! let rt = Runtime::new(out.clone());
//! let mut vm = Vm::default();
//! // The linker gives each helper an index and resolves `call printf` to a
//! // runtime-helper call (`src = 2`) of it. Some helpers call back into
//! // BPF (`qsort`'s comparisons, `atexit` functions) or move the call
//! // stack (`longjmp`).
//! for (i, (name, f)) in rt.helpers().into_iter().enumerate() {
//!     let index = i as u32 + 1;
//!     match f {
//!         HelperImpl::Plain(f) => vm.register_runtime_helper(index, name, f),
//!         HelperImpl::Callback(f) => vm.register_runtime_callback_helper(index, name, f),
//!     }
//! }
//! // Before an input runs, open a memory epoch and snapshot runtime state...
//! let (checkpoint, saved) = (vm.mem.begin_epoch(), rt.save());
//! // ...link and run the input; if it fails, roll both back:
//! vm.mem.rollback(checkpoint);
//! rt.restore(saved);
//! // Then show what the program printed, followed by the input's value.
//! out.write_all(b"(int) 42\n").unwrap();
//! assert_eq!(out.take(), b"(int) 42\n");
//! ```
//!
//! Why helpers and not BPF code linked into every session: a helper call
//! costs about what an empty BPF function call costs (25-30 ns), and the
//! host does the work itself, while the interpreter pays per byte. Measured
//! with `cargo bench -p bpf-runtime --bench helper_vs_bpf`: strlen of 256
//! bytes 2.2 us as a BPF loop vs 0.13 us as a helper; memcpy of 4096 bytes
//! 54 us vs 0.16 us. Helpers also see whole ranges at once, so they can
//! check them against heap blocks and report misuse by name.

mod abi;
mod ctx;
mod errno;
mod fileio;
mod fileopen;
mod float;
mod format;
mod fs;
mod heap;
mod input;
mod libm;
mod math;
mod output;
mod process;
mod rand;
mod runtime;
mod scan;
mod scanf;
mod sort;
mod statics;
mod stdio;
mod stdlib;
mod strconv;
mod stream;
mod string;
mod strscan;
mod strtod;
mod threads;
mod time;
mod unistd;
mod vmstr;
mod world;

pub use abi::{ub_check_name, DEFAULT_ALLOCA_LIMIT};
pub use format::{format_registers, MAX_FORMATTED};
pub use heap::{
    BlockInfo, CallStack, HeapPlace, HeapStats, ALIGN as HEAP_ALIGN, CANARY as HEAP_CANARY,
    DEFAULT_QUARANTINE, RED_ZONE as HEAP_RED_ZONE,
};
pub use input::InputSource;
pub use output::{OutputSink, DEFAULT_BUFFER_LIMIT};
pub use runtime::{abi_helper_names, c_name, helper_names, Runtime, RuntimeSnapshot};
pub use stdlib::assert_message;
pub use stream::{
    DEFAULT_FILE_WRITE_LIMIT, DEFAULT_MAX_OPEN_FILES, STDERR_HANDLE, STDIN_HANDLE, STDOUT_HANDLE,
};
pub use world::TimeSource;

mod headers {
    include!(concat!(env!("OUT_DIR"), "/headers.rs"));
}

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The directory holding the runtime's headers (pass it with `-isystem`).
///
/// The headers are compiled into the library (every file under
/// `crates/runtime/include`) and written once per version to a private
/// cache directory, `$XDG_CACHE_HOME/bpf-repl/include-<hash>` (else
/// `~/.cache/...`, else the system temporary directory), named by a hash
/// of their contents, so an installed binary keeps working wherever the
/// source checkout is. If no directory is writable, the source checkout's
/// `include/` is returned.
pub fn include_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let name = format!("include-{:016x}", headers_hash());
        cache_roots()
            .into_iter()
            .find_map(|root| materialize(&root.join(&name)).ok())
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include"))
    })
    .clone()
}

/// The embedded headers: path relative to the include directory, contents.
pub fn embedded_headers() -> &'static [(&'static str, &'static [u8])] {
    headers::HEADERS
}

/// Candidate parents of the cache directory, best first.
fn cache_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        roots.push(PathBuf::from(dir).join("bpf-repl"));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        roots.push(PathBuf::from(home).join(".cache").join("bpf-repl"));
    }
    roots.push(std::env::temp_dir().join(format!("bpf-repl-{}", user_tag())));
    roots
}

/// Something that tells users apart in a shared temporary directory.
fn user_tag() -> String {
    std::env::var("USER").unwrap_or_else(|_| "user".to_string())
}

/// FNV-1a over every header's path and contents.
fn headers_hash() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, bytes) in headers::HEADERS {
        for b in path
            .bytes()
            .chain([0])
            .chain(bytes.iter().copied())
            .chain([0])
        {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Makes `dir` hold exactly the embedded headers: written to a fresh
/// sibling directory, then renamed into place (another process may win
/// the race; its copy is identical).
fn materialize(dir: &Path) -> std::io::Result<PathBuf> {
    const DONE: &str = ".complete";
    if dir.join(DONE).is_file() {
        return Ok(dir.to_path_buf());
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = parent.join(format!(
        ".{}.{}",
        dir.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("include"),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    for (path, bytes) in headers::HEADERS {
        let file = staging.join(path);
        if let Some(p) = file.parent() {
            std::fs::create_dir_all(p)?;
        }
        std::fs::write(file, bytes)?;
    }
    std::fs::write(staging.join(DONE), b"")?;
    if std::fs::rename(&staging, dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
        if !dir.join(DONE).is_file() {
            return Err(std::io::Error::other("cache directory not usable"));
        }
    }
    Ok(dir.to_path_buf())
}

/// The ABI a translation unit is compiled for (docs/abi.md, "Modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbiMode {
    /// Full C through the IR stage: floating point, any number of
    /// arguments, variadic definitions; hosted (`main` returns 0).
    Full,
    /// Only what the BPF backend lowers itself: the headers see
    /// `__BPF_REPL_STRICT__` and name the register variants of the
    /// variadic functions (`printf` -> `__bpf_strict_printf`).
    Strict,
}

/// The clang arguments that make `#include <stdio.h>` and friends resolve
/// to the runtime's headers for `mode`: no host system include directories
/// (a header we do not ship is "file not found", not a glibc header that
/// cannot compile for BPF; clang's own `<stdint.h>`, `<float.h>`,
/// `<stdarg.h>`... are found), no built-in library calls (loops stay
/// loops; `memcpy(...)` stays a call to the helper; clang invents no calls
/// to functions the runtime lacks, such as `fwrite`), and our include
/// directory. Strict mode is also freestanding, as BPF code always was.
pub fn clang_args_for(mode: AbiMode) -> Vec<OsString> {
    let mut args: Vec<OsString> = match mode {
        AbiMode::Full => vec![],
        AbiMode::Strict => vec!["-ffreestanding".into(), "-D__BPF_REPL_STRICT__".into()],
    };
    args.extend([
        "-fno-builtin".into(),
        "-nostdlibinc".into(),
        "-isystem".into(),
        include_dir().into_os_string(),
    ]);
    args
}

/// The arguments of [`clang_args_for`] in strict mode: what the REPL and
/// `bpf-jitlink` compile with until they run the IR stage.
pub fn clang_args() -> Vec<OsString> {
    clang_args_for(AbiMode::Strict)
}
