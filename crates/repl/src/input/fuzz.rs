//! Property tests: no input makes the analysis panic, and positions, item
//! boundaries and blanking rewrites keep their promises on any input.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

/// Pieces of C (and of broken C) to build token soups from.
const VOCABULARY: &[&str] = &[
    "int",
    "char",
    "static",
    "inline",
    "extern",
    "typedef",
    "struct",
    "union",
    "enum",
    "const",
    "unsigned",
    "long",
    "void",
    "if",
    "else",
    "for",
    "while",
    "do",
    "switch",
    "case",
    "default",
    "return",
    "break",
    "sizeof",
    "_Static_assert",
    "__attribute__",
    "T",
    "x",
    "f",
    "p",
    "size_t",
    "tag",
    "0",
    "1",
    "0x1fUL",
    "1.5e-3",
    "\"s;{\"",
    "\"\\\"\"",
    "'}'",
    "'\\''",
    "\"",
    "'",
    "/*",
    "*/",
    "// c",
    "/* c */",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "=",
    "*",
    "&",
    "+",
    "-",
    "->",
    ".",
    "?",
    ":",
    "...",
    "<<=",
    "#",
    "\n#define M(a) \\\n (a)\n",
    "\n#include <x.h>\n",
    "\\",
    "\\\n",
    "\n",
    "\r\n",
    "\t",
    "é",
    "@",
];

fn soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(VOCABULARY);
    let separator = prop::sample::select(&[" ", "", "\n"][..]);
    prop::collection::vec((piece, separator), 0..40)
        .prop_map(|parts| parts.into_iter().flat_map(|(p, s)| [p, s]).collect())
}

fn names() -> HashMap<String, NameKind> {
    [
        ("x", NameKind::Variable),
        ("f", NameKind::Function),
        ("T", NameKind::Typedef),
    ]
    .into_iter()
    .map(|(n, k)| (n.to_string(), k))
    .collect()
}

/// The 1-based line and byte column of `offset` in `text`.
fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line as u32, (offset - line_start + 1) as u32)
}

/// The byte offset of a 1-based line and byte column in `text`.
fn offset_of(text: &str, line: u32, col: u32) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line as usize - 1)
        .map(str::len)
        .sum();
    line_start + col as usize - 1
}

/// Positions of the newlines of `text`.
fn newlines(text: &str) -> Vec<usize> {
    text.match_indices('\n').map(|(i, _)| i).collect()
}

fn check_tokens(text: &str) {
    let mut previous_end = 0;
    for token in tokens(text) {
        assert!(token.offset >= previous_end, "overlap at {token:?}");
        assert!(!token.text.is_empty());
        assert_eq!(&text[token.offset..token.end()], token.text);
        assert_eq!(position(text, token.offset), (token.line, token.col));
        previous_end = token.end();
    }
}

fn check_items(text: &str, names: &dyn Names) {
    let items = split(text, names);
    let mut previous_end = 0;
    for item in &items {
        let offset = offset_of(text, item.line, item.col);
        assert!(offset >= previous_end, "items out of order: {items:#?}");
        assert_eq!(&text[offset..offset + item.text.len()], item.text);
        previous_end = offset + item.text.len();
        check_rewrites(text, item);
    }
    let covered = |t: &Token| {
        items.iter().any(|i| {
            let start = offset_of(text, i.line, i.col);
            (start..start + i.text.len()).contains(&t.offset)
        })
    };
    for token in tokens(text) {
        let dropped = token.kind == TokenKind::Comment || token.is(";");
        assert!(
            dropped || covered(&token),
            "{token:?} is in no item: {items:#?}"
        );
    }
}

/// Blanking keeps byte length and newlines; initializers are where they say they are.
fn check_rewrites(text: &str, item: &Item) {
    let _ = carry(item);
    let stripped = strip_internal_linkage(item);
    let (declaration, initializers) = split_initializers(item);
    for rewritten in [&stripped, &declaration] {
        let kept = &rewritten[..item.text.len().min(rewritten.len())];
        assert_eq!(
            kept.len(),
            item.text.len(),
            "{rewritten:?} from {:?}",
            item.text
        );
        assert_eq!(newlines(kept), newlines(&item.text));
        assert!(rewritten.len() <= item.text.len() + 1);
    }
    for init in initializers {
        let at = offset_of(text, init.line, init.col);
        assert!(text[at..].starts_with(&init.text), "{init:?} in {text:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_string_is_handled(text in any::<String>()) {
        check_tokens(&text);
        let _ = completeness(&text, &NoNames);
        check_items(&text, &NoNames);
    }

    #[test]
    fn any_token_soup_is_handled(text in soup()) {
        check_tokens(&text);
        let _ = completeness(&text, &names());
        check_items(&text, &names());
        check_items(&text, &NoNames);
    }

    #[test]
    fn completing_a_prefix_never_panics(text in soup(), cut in 0usize..400) {
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let _ = completeness(&text[..cut], &names());
    }
}
