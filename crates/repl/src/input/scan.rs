//! Where one top-level item ends, and whether it starts like a declaration.
//!
//! Works on the input's tokens with comments removed. An item ends at a `;`
//! at bracket depth 0, or at the `}` of a depth-0 block that is a function
//! body or the body of a compound/control statement, unless what follows
//! continues the statement (`else`, or the `while` of a pending `do`).

use super::lexer::{Token, TokenKind};
use super::names::{NameKind, Scope};
use super::syntax::{
    closed_opener, is_condition, is_identifier, matching_open, opener,
    previous_skipping_attributes, starts_declaration_keyword, CONTROL_KEYWORDS, QUALIFIERS,
};

/// What ended an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// A `;` at depth 0.
    Semicolon,
    /// The `}` of a compound statement or of a control statement's block.
    Block,
    /// The `}` of a function body.
    FunctionBody,
    /// The item is a directive line.
    Directive,
    /// The input ran out first.
    EndOfInput,
}

/// One item's token range and what the scan learnt about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// Index of the first token.
    pub start: usize,
    /// Index after the last token.
    pub end: usize,
    pub ending: Ending,
    /// The item starts like a declaration.
    pub declaration: bool,
    /// A `do` at depth 0 still waits for its `while (...)`.
    pub pending_do: bool,
    /// Index of the last depth-0 `while` that closed a `do` loop.
    pub last_do_tail: Option<usize>,
}

/// Whether an item's tokens start like a declaration (see the module docs of `input`).
pub(crate) fn starts_declaration(toks: &[Token], scope: &Scope) -> bool {
    let toks = &toks[super::syntax::skip_attributes(toks, 0).min(toks.len())..];
    let Some(first) = toks.first() else {
        return false;
    };
    match first.kind {
        TokenKind::Keyword => starts_declaration_keyword(first),
        TokenKind::Identifier => match scope.kind(first.text) {
            NameKind::Typedef => true,
            NameKind::Variable | NameKind::Function => false,
            NameKind::Unknown => followed_by_declarator(&toks[1..]),
        },
        _ => false,
    }
}

/// `x`, `const x`, `*x`, `**const x`: what follows an unknown name that makes it a type.
fn followed_by_declarator(rest: &[Token]) -> bool {
    match rest.first() {
        Some(t) if is_identifier(t) || t.is_any(QUALIFIERS) => true,
        Some(t) if t.is("*") => rest
            .iter()
            .find(|t| !t.is("*") && !t.is_any(QUALIFIERS))
            .is_some_and(is_identifier),
        _ => false,
    }
}

/// What a depth-0 `{` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BraceRole {
    /// A statement block: its `}` ends the item.
    Block,
    /// A function body: its `}` ends the item.
    FunctionBody,
    /// A type body, initializer or compound literal: the item goes on.
    Nested,
}

/// The role of the `{` at `i` in the item starting at `start`; `assigned`
/// says whether a depth-0 `=` came before it.
fn brace_role(
    toks: &[Token],
    start: usize,
    i: usize,
    declaration: bool,
    assigned: bool,
) -> BraceRole {
    if i == start {
        return BraceRole::Block;
    }
    let Some(p) = previous_skipping_attributes(toks, start, i) else {
        return BraceRole::Nested;
    };
    let prev = &toks[p];
    if toks[start].is_any(CONTROL_KEYWORDS) {
        return if opens_statement_block(toks, start, p) {
            BraceRole::Block
        } else {
            BraceRole::Nested
        };
    }
    if declaration && prev.is(")") && !assigned {
        return BraceRole::FunctionBody;
    }
    BraceRole::Nested
}

/// In a control statement, whether a `{` after the token at `p` opens a statement block.
fn opens_statement_block(toks: &[Token], start: usize, p: usize) -> bool {
    let prev = &toks[p];
    prev.is_any(&["else", "do"])
        || (prev.is(")")
            && matching_open(toks, start, p).is_some_and(|o| is_condition(toks, start, o)))
}

/// The scan state of one item.
struct ItemScan {
    start: usize,
    declaration: bool,
    /// Open brackets, each with the role of a depth-0 `{`.
    stack: Vec<(u8, BraceRole)>,
    pending_do: usize,
    last_do_tail: Option<usize>,
    /// A `=` appeared at depth 0.
    assigned: bool,
    /// A closing bracket did not match: later braces are not told apart any
    /// more (which also keeps the backward bracket matching linear).
    broken: bool,
}

impl ItemScan {
    /// Looks at token `i`; returns how the item ends if it ends with this token.
    fn step(&mut self, toks: &[Token], i: usize) -> Option<Ending> {
        let token = &toks[i];
        if self.stack.is_empty() {
            self.track_do(toks, i);
            self.assigned |= token.is("=");
            if token.is(";") {
                return self.end_unless_continued(toks, i, Ending::Semicolon);
            }
        }
        if let Some(open) = opener(token) {
            let role = match (open, self.stack.is_empty(), self.broken) {
                (b'{', true, false) => {
                    brace_role(toks, self.start, i, self.declaration, self.assigned)
                }
                _ => BraceRole::Nested,
            };
            self.stack.push((open, role));
            return None;
        }
        let open = closed_opener(token)?;
        let Some(role) = self.pop(open) else {
            self.broken = true;
            return None;
        };
        let ending = match role {
            BraceRole::Block => Ending::Block,
            BraceRole::FunctionBody => Ending::FunctionBody,
            BraceRole::Nested => return None,
        };
        if self.stack.is_empty() {
            self.end_unless_continued(toks, i, ending)
        } else {
            None
        }
    }

    /// Counts depth-0 `do`s and the `while`s that close them.
    fn track_do(&mut self, toks: &[Token], i: usize) {
        if toks[i].is("do") {
            self.pending_do += 1;
        } else if toks[i].is("while")
            && self.pending_do > 0
            && i > self.start
            && toks[i - 1].is_any(&["}", ";"])
        {
            self.pending_do -= 1;
            self.last_do_tail = Some(i);
        }
    }

    /// Pops the innermost bracket if `open` is its kind; a closer that does
    /// not match is ignored (clang reports it).
    fn pop(&mut self, open: u8) -> Option<BraceRole> {
        match self.stack.last() {
            Some(&(b, role)) if b == open => {
                self.stack.pop();
                Some(role)
            }
            _ => None,
        }
    }

    fn end_unless_continued(&self, toks: &[Token], i: usize, ending: Ending) -> Option<Ending> {
        let else_follows = toks.get(i + 1).is_some_and(|t| t.is("else"));
        (self.pending_do == 0 && !else_follows).then_some(ending)
    }

    fn span(&self, end: usize, ending: Ending) -> Span {
        Span {
            start: self.start,
            end,
            ending,
            declaration: self.declaration,
            pending_do: self.pending_do > 0,
            last_do_tail: self.last_do_tail,
        }
    }
}

/// The item that starts at token `start` (which must be in range).
pub(crate) fn next_span(toks: &[Token], start: usize, scope: &Scope) -> Span {
    let mut scan = ItemScan {
        start,
        declaration: starts_declaration(&toks[start..], scope),
        stack: Vec::new(),
        pending_do: 0,
        last_do_tail: None,
        assigned: false,
        broken: false,
    };
    if toks[start].kind == TokenKind::Directive {
        return scan.span(start + 1, Ending::Directive);
    }
    for i in start..toks.len() {
        if let Some(ending) = scan.step(toks, i) {
            return scan.span(i + 1, ending);
        }
    }
    scan.span(toks.len(), Ending::EndOfInput)
}
