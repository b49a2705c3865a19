//! The external compiler: finding clang ([`find`]), running it within
//! bounds ([`compiler`]), the flags a user may add ([`flags`]), what its
//! AST dump says ([`ast`]) and its diagnostics as users read them
//! ([`diagnostics`]).

pub mod ast;
pub mod compiler;
pub mod diagnostics;
pub mod find;
pub mod flags;

pub use compiler::{
    base_flags, remove_scratch_dirs, CompileError, Compiled, Compiler, Job, Limits, PROBE_FUNCTION,
};
pub use diagnostics::clean_diagnostics;
pub use find::{clang_version, find_clang, ClangError, INSTALL_HINT, MIN_CLANG};
