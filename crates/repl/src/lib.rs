//! `bpf-repl` owns the C side of the product: finding and running clang
//! ([`clang`]), understanding the text of an input ([`input`], with
//! clang's AST), turning inputs into translation units and running them
//! ([`engine`]), printing values the way a C programmer reads them
//! ([`ctype`], [`dwarf`], [`value`]), what an input prints ([`printed`]),
//! transcripts ([`transcript`]) and replays ([`replay`]), meta commands
//! ([`meta`]) and the prompt ([`cli`], [`interactive`], [`complete`],
//! [`highlight`]). Linking and execution belong to `bpf-linker` and
//! `bpf-vm`; the C library to `bpf-runtime`.
//!
//! Modules depend downwards only: front ends (cli, interactive) -> replay
//! -> meta -> engine -> clang, input, dwarf/value; nothing below names
//! anything above it.

pub mod ansi;
pub mod clang;
pub mod cli;
pub mod complete;
pub mod ctype;
pub mod dwarf;
pub mod engine;
mod forkserver;
pub mod highlight;
pub mod input;
pub mod interactive;
pub mod meta;
pub mod printed;
pub mod replay;
pub mod transcript;
pub mod value;
