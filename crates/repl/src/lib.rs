//! `bpf-repl` is the C REPL on top of the linker and the VM. So far it owns
//! printing values the way a C programmer reads them: a model of C types
//! ([`ctype`]), reading those types from an object's DWARF ([`dwarf`]), and
//! formatting the bytes of a value of such a type ([`value`]).

pub mod ctype;
pub mod dwarf;
pub mod value;
