//! The compiler: finding clang ([`find`]), running it within bounds
//! ([`compiler`]), the IR stage on its bitcode ([`lower`]), the flags a
//! user may add ([`flags`]), what its AST dump says ([`ast`]) and its
//! diagnostics as users read them ([`diagnostics`]).

pub mod ast;
pub mod compiler;
pub mod diagnostics;
pub mod find;
pub mod flags;
pub mod lower;

pub use compiler::{
    remove_scratch_dirs, target_flags, CodeMode, CompileError, Compiled, Compiler, Job, Limits,
    Target, PROBE_FUNCTION,
};
pub use diagnostics::clean_diagnostics;
pub use find::{clang_version, find_clang, ClangError, INSTALL_HINT, MIN_CLANG};
