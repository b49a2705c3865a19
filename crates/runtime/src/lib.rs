//! `bpf-runtime` is the C library of bpf-repl: the headers a snippet may
//! `#include` (ours in `include/`, clang's own freestanding ones for
//! `<stdint.h>`, `<stddef.h>`, `<stdbool.h>` and `<limits.h>`) and the host
//! helpers that implement their functions (`printf`, `malloc`, `strlen`,
//! `assert`, ...) on the VM's memory, every pointer and length checked.
//!
//! It owns no linking and no execution: the linker resolves an undefined
//! symbol such as `printf` to the helper of the same name from
//! [`Runtime::helpers`] and registers it with the VM. `<ctype.h>` is pure
//! BPF code (static inline functions in the header) and needs no helper.
//!
//! Output goes to an [`OutputSink`] shared by all helpers, so program output
//! stays in the order it was produced; the host drains or streams it.
//!
//! How a session uses it:
//!
//! ```
//! use bpf_runtime::{OutputSink, Runtime};
//! use bpf_vm::Vm;
//!
//! let out = OutputSink::buffer(); // or OutputSink::writer(std::io::stdout())
//! let rt = Runtime::new(out.clone());
//! let mut vm = Vm::default();
//! // The linker gives each helper an index and resolves `call printf` to a
//! // runtime-helper call (`src = 2`) of it.
//! for (i, (name, f)) in rt.helpers().into_iter().enumerate() {
//!     vm.register_runtime_helper(i as u32 + 1, name, f);
//! }
//! // Before an input runs, snapshot VM memory and runtime state together...
//! let (mem, saved) = (vm.mem.clone(), rt.save());
//! // ...link and run the input; if it fails, roll both back:
//! vm.mem = mem;
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

mod ctx;
mod format;
mod heap;
mod output;
mod rand;
mod runtime;
mod stdio;
mod stdlib;
mod strconv;
mod string;
mod vmstr;

pub use format::{format_registers, MAX_FORMATTED};
pub use heap::{
    HeapPlace, HeapStats, ALIGN as HEAP_ALIGN, CANARY as HEAP_CANARY, RED_ZONE as HEAP_RED_ZONE,
};
pub use output::{OutputSink, DEFAULT_BUFFER_LIMIT};
pub use runtime::{helper_names, Runtime, RuntimeSnapshot};
pub use stdio::{STDERR_HANDLE, STDOUT_HANDLE};
pub use stdlib::assert_message;

use std::ffi::OsString;
use std::path::PathBuf;

/// The directory holding the runtime's headers (pass it with `-isystem`).
pub fn include_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// The clang arguments that make `#include <stdio.h>` and friends resolve
/// to the runtime's headers: freestanding (clang's own `<stdint.h>` then
/// defines everything itself instead of including glibc's), no host system
/// include directories (a header we do not ship is "file not found", not a
/// glibc header that cannot compile for BPF), no built-in library calls
/// (loops stay loops; `memcpy(...)` stays a call to the helper), and our
/// include directory.
pub fn clang_args() -> Vec<OsString> {
    vec![
        "-ffreestanding".into(),
        "-fno-builtin".into(),
        "-nostdlibinc".into(),
        "-isystem".into(),
        include_dir().into_os_string(),
    ]
}
