//! Reads one declaration item: its specifiers, the struct/union/enum types it
//! defines, and each declarator's name, shape and initializer.
//!
//! Indices are into the item's tokens (comments removed). The reader is
//! lenient: on malformed input it returns some reading, never a panic.

use std::ops::Range;

use super::lexer::Token;
use super::names::NameKind;
use super::syntax::{
    depth0_indices, is_identifier, matching_close, skip_attributes, skip_group,
    FUNCTION_SPECIFIERS, QUALIFIERS, STORAGE_CLASSES, TAG_KEYWORDS, TYPE_KEYWORDS, TYPE_OPERATORS,
};

/// A `struct`/`union`/`enum` specifier among the declaration specifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagSpecifier {
    /// Index of the `struct`/`union`/`enum` keyword.
    pub keyword: usize,
    /// Index of the tag name, if any.
    pub tag: Option<usize>,
    /// Tokens between the braces of the body, if the specifier has one.
    pub body: Option<Range<usize>>,
}

/// One declarator, with its initializer if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declarator {
    /// Tokens of the declarator, without `= initializer`.
    pub tokens: Range<usize>,
    /// Index of the declared name.
    pub name: Option<usize>,
    /// The name is followed by a parameter list: a function is declared.
    pub is_function: bool,
    /// The name is followed by `[`: an array is declared.
    pub is_array: bool,
    /// The declared object itself is `const` (`const int k`, `char *const p`; not `const char *s`).
    pub is_const: bool,
    /// Index of the `=` of the initializer.
    pub assign: Option<usize>,
    /// Tokens of the initializer (empty without one).
    pub initializer: Range<usize>,
}

/// A declaration item, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declaration {
    /// The specifiers are the tokens `0..specifiers_end`.
    pub specifiers_end: usize,
    /// `typedef` is among the specifiers.
    pub is_typedef: bool,
    /// struct/union/enum specifiers among the specifiers.
    pub tags: Vec<TagSpecifier>,
    pub declarators: Vec<Declarator>,
    /// Index of the `{` of a function body.
    pub body: Option<usize>,
}

/// Reads the tokens of a declaration item.
pub(crate) fn read(toks: &[Token]) -> Declaration {
    let mut tags = Vec::new();
    let (specifiers_end, is_typedef) = read_specifiers(toks, &mut tags);
    let (mut declarators, body) = read_declarators(toks, specifiers_end);
    let const_type = toks[..specifiers_end].iter().any(|t| t.is_any(CONST));
    for declarator in &mut declarators {
        declarator.is_const = object_is_const(toks, declarator, const_type);
    }
    Declaration {
        specifiers_end,
        is_typedef,
        tags,
        declarators,
        body,
    }
}

/// Storage classes, qualifiers, function specifiers and type keywords.
fn is_simple_specifier(token: &Token) -> bool {
    [
        STORAGE_CLASSES,
        QUALIFIERS,
        FUNCTION_SPECIFIERS,
        TYPE_KEYWORDS,
    ]
    .iter()
    .any(|class| token.is_any(class))
}

/// Reads the specifiers; returns where they end and whether `typedef` is one.
fn read_specifiers(toks: &[Token], tags: &mut Vec<TagSpecifier>) -> (usize, bool) {
    let (mut i, mut seen_type, mut is_typedef) = (0, false, false);
    while let Some(token) = toks.get(i) {
        let has_group = toks.get(i + 1).is_some_and(|t| t.is("("));
        i = if token.is_any(TAG_KEYWORDS) {
            let (tag, next) = read_tag(toks, i);
            tags.push(tag);
            seen_type = true;
            next
        } else if token.is_any(TYPE_OPERATORS) && has_group {
            seen_type = true;
            skip_group(toks, i + 1)
        } else if super::syntax::is_attribute_like(token)
            || super::syntax::is_c23_attribute(toks, i)
        {
            skip_attributes(toks, i)
        } else if is_simple_specifier(token) {
            seen_type |= token.is_any(TYPE_KEYWORDS);
            is_typedef |= token.is("typedef");
            i + 1
        } else if is_identifier(token) && !seen_type && names_a_type(toks.get(i + 1)) {
            seen_type = true;
            i + 1
        } else {
            break;
        };
    }
    (i, is_typedef)
}

/// Whether a name with no type before it, followed by `next`, is a type name (`T x`, `T *p`).
fn names_a_type(next: Option<&Token>) -> bool {
    next.is_some_and(|t| {
        is_identifier(t) || t.kind == super::lexer::TokenKind::Keyword || t.is_any(&["*", "("])
    })
}

/// Reads `struct TAG { ... }` from the keyword at `i`; returns it and the index after it.
pub(crate) fn read_tag(toks: &[Token], i: usize) -> (TagSpecifier, usize) {
    let (tag, mut j) = read_tag_head(toks, i);
    let mut body = None;
    if toks.get(j).is_some_and(|t| t.is("{")) {
        let close = matching_close(toks, j).unwrap_or(toks.len());
        body = Some(j + 1..close);
        j = skip_attributes(toks, close + 1);
    }
    let specifier = TagSpecifier {
        keyword: i,
        tag,
        body,
    };
    (specifier, j.min(toks.len()))
}

/// Reads `struct TAG` (attributes and an enum's fixed type included) from
/// the keyword at `i`; returns the tag and the index after the head.
fn read_tag_head(toks: &[Token], i: usize) -> (Option<usize>, usize) {
    let mut j = skip_attributes(toks, i + 1);
    let tag = toks.get(j).filter(|t| is_identifier(t)).map(|_| j);
    if tag.is_some() {
        j = skip_attributes(toks, j + 1);
    }
    if toks[i].is("enum") && toks.get(j).is_some_and(|t| t.is(":")) {
        j = skip_fixed_underlying_type(toks, j + 1);
    }
    (tag, j)
}

/// Skips the type after `enum E :` (C23).
fn skip_fixed_underlying_type(toks: &[Token], mut j: usize) -> usize {
    while toks
        .get(j)
        .is_some_and(|t| is_identifier(t) || is_simple_specifier(t))
    {
        j += 1;
    }
    j
}

/// Reads the declarators from `from` up to the end, a `;` or a function body.
fn read_declarators(toks: &[Token], from: usize) -> (Vec<Declarator>, Option<usize>) {
    let rest = toks.get(from..).unwrap_or(&[]);
    let (mut out, mut start, mut assign) = (Vec::new(), from, None);
    for i in depth0_indices(rest).into_iter().map(|i| i + from) {
        let token = &toks[i];
        if token.is_any(&[",", ";"]) {
            push_declarator(&mut out, toks, start, assign, i);
            (start, assign) = (i + 1, None);
        } else if token.is("=") && assign.is_none() {
            assign = Some(i);
        } else if token.is("{") && assign.is_none() {
            push_declarator(&mut out, toks, start, None, i);
            return (out, Some(i));
        }
    }
    push_declarator(&mut out, toks, start, assign, toks.len());
    (out, None)
}

fn push_declarator(
    out: &mut Vec<Declarator>,
    toks: &[Token],
    start: usize,
    assign: Option<usize>,
    end: usize,
) {
    if start >= end {
        return;
    }
    let declarator_end = assign.unwrap_or(end);
    let name = first_name(toks, start, declarator_end);
    let after = name.and_then(|n| toks.get(n + 1));
    out.push(Declarator {
        tokens: start..declarator_end,
        name,
        is_function: after.is_some_and(|t| t.is("(")),
        is_array: after.is_some_and(|t| t.is("[")),
        is_const: false,
        assign,
        initializer: assign.map_or(end..end, |a| a + 1..end),
    });
}

/// The spellings of `const`.
const CONST: &[&str] = &["const", "__const", "__const__"];

/// Whether the object a declarator declares is const: the qualifiers after
/// its last pointer `*` say so, or without a pointer the specifiers do.
fn object_is_const(toks: &[Token], declarator: &Declarator, const_type: bool) -> bool {
    let Some(name) = declarator.name else {
        return false;
    };
    let before_name = toks.get(declarator.tokens.start..name).unwrap_or(&[]);
    match before_name.iter().rposition(|t| t.is("*")) {
        Some(star) => before_name[star..].iter().any(|t| t.is_any(CONST)),
        None => const_type,
    }
}

/// The first identifier in `start..end` outside attribute groups: the declared name.
fn first_name(toks: &[Token], start: usize, end: usize) -> Option<usize> {
    let mut i = start;
    while i < end.min(toks.len()) {
        if super::syntax::is_attribute_like(&toks[i]) {
            i = skip_attributes(toks, i);
        } else if is_identifier(&toks[i]) {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// The names a declaration declares, in order, each with what it becomes.
/// Tags get [`NameKind::Unknown`]: they live outside the ordinary name space.
pub(crate) fn declared_names(toks: &[Token], declaration: &Declaration) -> Vec<(String, NameKind)> {
    let mut out = Vec::new();
    for specifier in &declaration.tags {
        let defines = specifier.body.is_some() || declaration.declarators.is_empty();
        if defines {
            push_tag(&mut out, toks, specifier);
        }
        if let Some(body) = &specifier.body {
            body_names(&mut out, toks, specifier.keyword, body.clone());
        }
    }
    for declarator in &declaration.declarators {
        let Some(name) = declarator.name else {
            continue;
        };
        let kind = if declaration.is_typedef {
            NameKind::Typedef
        } else if declarator.is_function {
            NameKind::Function
        } else {
            NameKind::Variable
        };
        out.push((toks[name].text.to_string(), kind));
    }
    out
}

fn push_tag(out: &mut Vec<(String, NameKind)>, toks: &[Token], specifier: &TagSpecifier) {
    if let Some(tag) = specifier.tag {
        out.push((toks[tag].text.to_string(), NameKind::Unknown));
    }
}

/// Names a type body puts in file scope: an enum's enumerators, and the
/// tags (and enumerators) of types defined inside a struct or union body.
fn body_names(
    out: &mut Vec<(String, NameKind)>,
    toks: &[Token],
    keyword: usize,
    body: Range<usize>,
) {
    if toks[keyword].is("enum") {
        enumerators(out, toks, body.clone());
    }
    // One pass over the body: each nested definition is found by its head
    // alone, so deeply nested bodies are not re-read at every level.
    for k in body.filter(|&k| toks.get(k).is_some_and(|t| t.is_any(TAG_KEYWORDS))) {
        let (tag, brace) = read_tag_head(toks, k);
        if !toks.get(brace).is_some_and(|t| t.is("{")) {
            continue;
        }
        if let Some(tag) = tag {
            out.push((toks[tag].text.to_string(), NameKind::Unknown));
        }
        if toks[k].is("enum") {
            let close = matching_close(toks, brace).unwrap_or(toks.len());
            enumerators(out, toks, brace + 1..close);
        }
    }
}

/// The enumerators of an enum body: the first name of each comma-separated element.
fn enumerators(out: &mut Vec<(String, NameKind)>, toks: &[Token], body: Range<usize>) {
    let inside = toks.get(body.clone()).unwrap_or(&[]);
    let mut expecting = true;
    for i in depth0_indices(inside) {
        let token = &inside[i];
        if expecting && is_identifier(token) {
            out.push((token.text.to_string(), NameKind::Variable));
        }
        expecting = token.is(",");
    }
}
