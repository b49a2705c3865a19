//! The REPL's understanding of the text of one input, without asking clang.
//!
//! A fast lexer-level analysis (no C parser, no preprocessor): [`tokens`]
//! lexes, [`completeness`] says whether the prompt should continue, [`split`]
//! cuts an input into top-level items (directives, declarations, statements,
//! a final expression), and [`strip_internal_linkage`], [`carry`] and
//! [`split_initializers`] rewrite declaration items for compilation. Nothing
//! here panics or fails: malformed C yields some answer, and clang reports
//! the error when the input is compiled.
//!
//! The one thing the text cannot decide, whether `T * x;` declares `x` or
//! multiplies, is decided by [`Names`], the session's knowledge of names:
//! an item is a declaration when it starts with a storage class, qualifier,
//! type keyword, `struct`/`union`/`enum`, `typedef`, `_Static_assert` or
//! `__attribute__`; or with a typedef name (the session's, one declared
//! earlier in the same input, or a standard one such as `size_t`); or with a
//! name the session does not know followed by a name (`T x`) or by `*`s and
//! a name (`T *p`). A name the session knows as a variable or function
//! starts an expression.

mod completeness;
mod declaration;
mod lexer;
mod names;
mod scan;
mod split;
mod syntax;
mod transform;
pub mod types;

pub use completeness::{completeness, Completeness};
pub use lexer::{is_keyword, tokens, Token, TokenKind};
pub use names::{NameKind, Names, NoNames, STANDARD_TYPEDEFS};
pub use split::{declared_kinds, split, DeclKind, Item, ItemKind};
pub use transform::{
    carry, carry_with_bounds, defines_constant, function_header_len, split_initializers,
    strip_internal_linkage, tentative_names, unsized_arrays, zero_initialize_tentatives,
    Initializer,
};
#[cfg(test)]
mod clang_oracle;
#[cfg(test)]
mod fuzz;
