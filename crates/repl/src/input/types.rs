//! Type definitions in carried text: which struct/union/enum tags and
//! typedef names a text defines or mentions, and how a definition is turned
//! back into a reference when a later input defines the type again.
//!
//! All of it works on tokens, so comments, spacing and string contents
//! never match.

use super::lexer::{Token, TokenKind};
use super::split::code_tokens;

const TAG_KEYWORDS: &[&str] = &["struct", "union", "enum"];

/// A tag definition found in a text: `struct NAME { ... }`.
struct TagDefinition {
    name: String,
    /// Token index of the `{` and of its matching `}`.
    open: usize,
    close: usize,
}

fn tag_definitions(toks: &[Token]) -> Vec<TagDefinition> {
    let mut out = Vec::new();
    for i in 0..toks.len() {
        let (Some(keyword), Some(name), Some(open)) =
            (toks.get(i), toks.get(i + 1), toks.get(i + 2))
        else {
            break;
        };
        if !(keyword.is_any(TAG_KEYWORDS) && name.kind == TokenKind::Identifier && open.is("{")) {
            continue;
        }
        if let Some(close) = matching_brace(toks, i + 2) {
            out.push(TagDefinition {
                name: name.text.to_string(),
                open: i + 2,
                close,
            });
        }
    }
    out
}

fn matching_brace(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        if t.is("{") {
            depth += 1;
        } else if t.is("}") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The tags `text` defines with a body (`point` in `struct point { int x; } p;`).
pub fn defined_tags(text: &str) -> Vec<String> {
    tag_definitions(&code_tokens(text))
        .into_iter()
        .map(|d| d.name)
        .collect()
}

/// The body of the definition of `tag` in `text`, as its token spellings
/// joined by single spaces (so layout and comments do not matter).
pub fn tag_body(text: &str, tag: &str) -> Option<String> {
    let toks = code_tokens(text);
    let def = tag_definitions(&toks).into_iter().find(|d| d.name == tag)?;
    Some(spellings(&toks[def.open..=def.close]))
}

/// `text` with the body of `tag`'s definition removed, leaving a
/// reference: `extern struct p { int x; } p1;` -> `extern struct p p1;`.
pub fn without_tag_body(text: &str, tag: &str) -> String {
    let toks = code_tokens(text);
    let Some(def) = tag_definitions(&toks).into_iter().find(|d| d.name == tag) else {
        return text.to_string();
    };
    let start = toks[def.open - 1].end();
    let end = toks[def.close].end();
    format!("{}{}", &text[..start], &text[end..])
}

/// Whether `text` refers to the tag (`struct NAME`, `union NAME`, `enum NAME`).
pub fn mentions_tag(text: &str, tag: &str) -> bool {
    let toks = code_tokens(text);
    toks.windows(2)
        .any(|w| w[0].is_any(TAG_KEYWORDS) && is_identifier(&w[1], tag))
}

/// Whether `text` uses `name` as an identifier.
pub fn mentions_identifier(text: &str, name: &str) -> bool {
    code_tokens(text).iter().any(|t| is_identifier(t, name))
}

fn is_identifier(token: &Token, name: &str) -> bool {
    token.kind == TokenKind::Identifier && token.text == name
}

/// The token spellings of `text` joined by single spaces.
pub fn normalized(text: &str) -> String {
    spellings(&code_tokens(text))
}

fn spellings(toks: &[Token]) -> String {
    toks.iter().map(|t| t.text).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_defined_with_a_body_are_found() {
        assert_eq!(
            defined_tags("struct a { struct b { int x; } in; } v; struct c *p; enum e { X };"),
            ["a", "b", "e"]
        );
        assert!(defined_tags("struct c; union u *p;").is_empty());
    }

    #[test]
    fn a_body_compares_by_tokens() {
        let one = tag_body("extern struct p {int x,y;} p1;", "p");
        let two = tag_body("struct p {\n  int x, /* the y */ y;\n};", "p");
        assert_eq!(one, two);
        assert_eq!(one.as_deref(), Some("{ int x , y ; }"));
        assert_eq!(tag_body("struct q { long z; };", "p"), None);
    }

    #[test]
    fn removing_a_body_leaves_a_reference() {
        assert_eq!(
            without_tag_body("extern struct p { int x; } p1, *p2;", "p"),
            "extern struct p p1, *p2;"
        );
        assert_eq!(
            without_tag_body("extern struct p { struct { int a; } in; } p1;", "p"),
            "extern struct p p1;"
        );
        assert_eq!(without_tag_body("int x;", "p"), "int x;");
    }

    #[test]
    fn mentions_are_tokens_not_substrings() {
        assert!(mentions_tag("extern struct s v;", "s"));
        assert!(!mentions_tag("extern struct sx v; int s;", "s"));
        assert!(mentions_identifier("extern T t1;", "T"));
        assert!(!mentions_identifier("extern TT t1; char *s = \"T\";", "T"));
    }
}
