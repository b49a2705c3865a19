//! Keyword classes and bracket matching over token slices, shared by the
//! splitter, the declaration reader and the completeness check.
//!
//! Every index helper is total: out-of-range or unbalanced input yields
//! `None` or the slice length, never a panic.

use super::lexer::{Token, TokenKind};

/// Storage classes (and C23 `constexpr`, which sits in the same place).
#[rustfmt::skip]
pub(crate) const STORAGE_CLASSES: &[&str] = &[
    "static", "extern", "typedef", "register", "auto", "_Thread_local", "__thread",
    "thread_local", "constexpr",
];

/// Type qualifiers.
#[rustfmt::skip]
pub(crate) const QUALIFIERS: &[&str] = &[
    "const", "volatile", "restrict", "__restrict", "__restrict__", "__const", "__const__",
    "__volatile", "__volatile__", "_Atomic",
];

/// Function specifiers and `__extension__`.
#[rustfmt::skip]
pub(crate) const FUNCTION_SPECIFIERS: &[&str] = &[
    "inline", "__inline", "__inline__", "_Noreturn", "__extension__",
];

/// The spellings of `inline`.
pub(crate) const INLINE: &[&str] = &["inline", "__inline", "__inline__"];

/// Keywords that name (part of) a type on their own.
#[rustfmt::skip]
pub(crate) const TYPE_KEYWORDS: &[&str] = &[
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "__signed",
    "__signed__", "_Bool", "bool", "_Complex", "_Imaginary", "__int128", "_Float16", "__fp16",
    "_Decimal32", "_Decimal64", "_Decimal128", "__auto_type",
];

/// Keywords followed by a parenthesised group that are not types.
#[rustfmt::skip]
pub(crate) const ATTRIBUTE_LIKE: &[&str] = &[
    "__attribute__", "__attribute", "__declspec", "_Alignas", "alignas", "asm", "__asm",
    "__asm__",
];

/// Macros of the shipped `<bpf/bpf_helpers.h>` (and iproute2's style) that
/// expand to a section attribute: `SEC("xdp") int prog(...)`.
pub(crate) const ATTRIBUTE_MACROS: &[&str] = &["SEC", "__section"];

/// Whether `token` starts an attribute-like group (`__attribute__((...))`,
/// `asm(...)`, `SEC("xdp")`...).
pub(crate) fn is_attribute_like(token: &Token) -> bool {
    token.is_any(ATTRIBUTE_LIKE) || (is_identifier(token) && ATTRIBUTE_MACROS.contains(&token.text))
}

/// Keywords followed by a parenthesised group that name a type.
#[rustfmt::skip]
pub(crate) const TYPE_OPERATORS: &[&str] = &[
    "typeof", "typeof_unqual", "__typeof", "__typeof__", "_BitInt", "_Atomic",
];

/// `struct`, `union`, `enum`.
pub(crate) const TAG_KEYWORDS: &[&str] = &["struct", "union", "enum"];

/// Both spellings of the static assertion.
pub(crate) const STATIC_ASSERT: &[&str] = &["_Static_assert", "static_assert"];

/// Keywords that begin a control statement.
pub(crate) const CONTROL_KEYWORDS: &[&str] = &["if", "else", "for", "while", "do", "switch"];

/// Keywords whose parenthesised condition is followed by a statement.
pub(crate) const CONDITION_KEYWORDS: &[&str] = &["if", "for", "while", "switch"];

/// Keywords that begin a statement other than an expression statement.
#[rustfmt::skip]
pub(crate) const STATEMENT_KEYWORDS: &[&str] = &[
    "if", "else", "for", "while", "do", "switch", "return", "break", "continue", "goto", "case",
    "default", "asm", "__asm", "__asm__", "__label__",
];

/// Whether a keyword can begin a declaration.
pub(crate) fn starts_declaration_keyword(token: &Token) -> bool {
    [
        STORAGE_CLASSES,
        QUALIFIERS,
        FUNCTION_SPECIFIERS,
        TYPE_KEYWORDS,
        ATTRIBUTE_LIKE,
        TYPE_OPERATORS,
        TAG_KEYWORDS,
        STATIC_ASSERT,
    ]
    .iter()
    .any(|class| token.is_any(class))
        && !token.is_any(&["asm", "__asm", "__asm__"])
}

/// Whether `token` is an identifier (not a keyword).
pub(crate) fn is_identifier(token: &Token) -> bool {
    token.kind == TokenKind::Identifier
}

/// The opening bracket byte if `token` opens a bracket.
pub(crate) fn opener(token: &Token) -> Option<u8> {
    ["(", "[", "{"]
        .iter()
        .find(|b| token.is(b))
        .map(|b| b.as_bytes()[0])
}

/// The opening bracket byte that `token` closes, if it is a closing bracket.
pub(crate) fn closed_opener(token: &Token) -> Option<u8> {
    [(")", b'('), ("]", b'['), ("}", b'{')]
        .iter()
        .find(|(close, _)| token.is(close))
        .map(|&(_, open)| open)
}

/// Index of the bracket closing the one opened at `open` (any bracket kind counts).
pub(crate) fn matching_close(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in toks.iter().enumerate().skip(open) {
        if opener(token).is_some() {
            depth += 1;
        } else if closed_opener(token).is_some() {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Index of the bracket opening the one closed at `close`, not looking below `low`.
pub(crate) fn matching_open(toks: &[Token], low: usize, close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for i in (low..=close.min(toks.len().checked_sub(1)?)).rev() {
        if closed_opener(&toks[i]).is_some() {
            depth += 1;
        } else if opener(&toks[i]).is_some() {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The index after the bracket group that starts at `i`, or `i` if no group starts there.
pub(crate) fn skip_group(toks: &[Token], i: usize) -> usize {
    match toks.get(i) {
        Some(t) if opener(t).is_some() => matching_close(toks, i).map_or(toks.len(), |c| c + 1),
        _ => i,
    }
}

/// The index after `i`, skipping a following `__attribute__((...))`-like group if `i` starts one.
/// C23 `[[...]]` attributes are skipped too.
pub(crate) fn skip_attributes(toks: &[Token], mut i: usize) -> usize {
    loop {
        if toks.get(i).is_some_and(is_attribute_like) {
            i = skip_group(toks, i + 1);
        } else if is_c23_attribute(toks, i) {
            i = skip_group(toks, i);
        } else {
            return i;
        }
    }
}

/// Whether `[[` starts at `i`.
pub(crate) fn is_c23_attribute(toks: &[Token], i: usize) -> bool {
    toks.get(i).is_some_and(|t| t.is("[")) && toks.get(i + 1).is_some_and(|t| t.is("["))
}

/// The index of the token before `i` (not below `low`), looking past attribute groups.
pub(crate) fn previous_skipping_attributes(toks: &[Token], low: usize, i: usize) -> Option<usize> {
    let mut p = i.checked_sub(1)?;
    loop {
        if p < low || p >= toks.len() {
            return None;
        }
        let open = toks[p]
            .is(")")
            .then(|| matching_open(toks, low, p))
            .flatten();
        match open {
            Some(o) if o > low && is_attribute_like(&toks[o - 1]) => p = (o - 1).checked_sub(1)?,
            _ => return Some(p),
        }
    }
}

/// Indices of the tokens at bracket depth 0 (brackets opening or closing depth 0 included).
pub(crate) fn depth0_indices(toks: &[Token]) -> Vec<usize> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (i, token) in toks.iter().enumerate() {
        if closed_opener(token).is_some() {
            depth = depth.saturating_sub(1);
        }
        if depth == 0 {
            out.push(i);
        }
        if opener(token).is_some() {
            depth += 1;
        }
    }
    out
}

/// Whether a `=` appears at bracket depth 0 in `toks`.
pub(crate) fn has_depth0_assignment(toks: &[Token]) -> bool {
    depth0_indices(toks).into_iter().any(|i| toks[i].is("="))
}

/// Whether the `(` at `open` is the condition of `if`/`for`/`while`/`switch` (not below `low`).
pub(crate) fn is_condition(toks: &[Token], low: usize, open: usize) -> bool {
    open > low && toks[open - 1].is_any(CONDITION_KEYWORDS)
}

/// Whether the token at `i` (not below `low`) is a struct/union/enum keyword or the tag after one.
pub(crate) fn is_tag_head(toks: &[Token], low: usize, i: usize) -> bool {
    let Some(token) = toks.get(i) else {
        return false;
    };
    token.is_any(TAG_KEYWORDS)
        || (is_identifier(token)
            && previous_skipping_attributes(toks, low, i)
                .is_some_and(|p| toks[p].is_any(TAG_KEYWORDS)))
}
