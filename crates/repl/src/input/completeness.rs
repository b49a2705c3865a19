//! Whether the text typed so far is a whole input, or the prompt should continue.

use super::lexer::{tokens, Token, TokenKind};
use super::names::Names;
use super::scan::Ending;
use super::split::{analyse, Analysed};
use super::syntax::{
    closed_opener, has_depth0_assignment, is_condition, is_identifier, is_tag_head, matching_open,
    opener, skip_attributes, starts_declaration_keyword, STATIC_ASSERT,
};

/// Whether the text typed so far is a whole input, or the prompt should continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// A whole input (possibly an erroneous one, for clang to report).
    Complete,
    /// The user is not done; the reason says what is still open (e.g. "unclosed {").
    Incomplete(&'static str),
}

/// Decides whether `text` is a whole input.
///
/// Incomplete when the text ends inside a `/* */` comment or a string or
/// character literal, ends with a `\` line continuation, leaves a `{`, `(`
/// or `[` unclosed, ends with an operator or `,`, or ends in the middle of a
/// statement or declaration: after `if (...)`/`for (...)`/`while (...)`/
/// `switch (...)`, `else`, `do` or a `do` body, after a function header such
/// as `int f(int x)` (the body comes on the next line), or after specifiers
/// or a struct/union/enum head (`static int`, `struct point`).
///
/// Complete otherwise, including empty or comment-only text, a directive
/// line, and broken text that more typing cannot fix (a mismatched or extra
/// closing bracket, a literal cut off by a newline): clang reports those.
/// `names` is used as in [`split`](super::split).
pub fn completeness(text: &str, names: &dyn Names) -> Completeness {
    if ends_with_line_continuation(text) {
        return Completeness::Incomplete("the line ends with a `\\` continuation");
    }
    let all = tokens(text);
    if let Some(verdict) = open_literal(&all, text.len()) {
        return verdict;
    }
    let code: Vec<Token> = all
        .into_iter()
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    if open_conditional(&code) {
        return Completeness::Incomplete("an #if block is open until its #endif");
    }
    if let Some(verdict) = bracket_balance(&code) {
        return verdict;
    }
    let Some(last) = code.last() else {
        return Completeness::Complete;
    };
    if waits_for_operand(last) {
        return Completeness::Incomplete("an operand should follow the operator");
    }
    let items = analyse(&code, names);
    if items.last().is_some_and(|item| {
        let toks = &code[item.span.start..item.span.end];
        !toks[0].is_any(&["asm", "__asm", "__asm__"]) && skip_attributes(toks, 0) >= toks.len()
    }) {
        return Completeness::Incomplete("a declaration should follow its attributes");
    }
    match items.last().and_then(|item| awaited_part(&code, item)) {
        Some(reason) => Completeness::Incomplete(reason),
        None => Completeness::Complete,
    }
}

/// Whether an `#if`/`#ifdef`/`#ifndef` still lacks its `#endif`.
fn open_conditional(code: &[Token]) -> bool {
    let mut depth = 0i32;
    for t in code.iter().filter(|t| t.kind == TokenKind::Directive) {
        let word = t
            .text
            .trim_start_matches('#')
            .trim_start()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        match word {
            "if" | "ifdef" | "ifndef" => depth += 1,
            "endif" => depth -= 1,
            _ => {}
        }
    }
    depth > 0
}

/// Whether the text ends with `\` (blanks and one final newline allowed after it).
fn ends_with_line_continuation(text: &str) -> bool {
    let text = text.trim_end_matches([' ', '\t']);
    let text = text
        .strip_suffix('\n')
        .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
    text.trim_end_matches([' ', '\t']).ends_with('\\')
}

/// The verdict when a literal or comment is left open: Incomplete if the text
/// ends inside it, Complete if a newline cut a literal off (an error already).
fn open_literal(all: &[Token], text_len: usize) -> Option<Completeness> {
    let is_literal = |t: &Token| matches!(t.kind, TokenKind::String | TokenKind::Char);
    if all
        .iter()
        .any(|t| is_literal(t) && !t.terminated && t.end() < text_len)
    {
        return Some(Completeness::Complete);
    }
    let last = all.last().filter(|t| !t.terminated)?;
    let reason = match last.kind {
        TokenKind::Comment | TokenKind::Directive => "unterminated /* comment",
        TokenKind::String => "unterminated string literal",
        TokenKind::Char => "unterminated character literal",
        _ => return None,
    };
    Some(Completeness::Incomplete(reason))
}

/// Incomplete if a bracket is left open, Complete if one is closed wrongly
/// (no typing can fix that), `None` if the brackets balance.
fn bracket_balance(code: &[Token]) -> Option<Completeness> {
    let mut stack = Vec::new();
    for token in code {
        if let Some(open) = opener(token) {
            stack.push(open);
        } else if let Some(open) = closed_opener(token) {
            if stack.pop() != Some(open) {
                return Some(Completeness::Complete);
            }
        }
    }
    let reason = match stack.last()? {
        b'{' => "unclosed {",
        b'(' => "unclosed (",
        _ => "unclosed [",
    };
    Some(Completeness::Incomplete(reason))
}

/// Operators that cannot end an input: binary and assignment operators,
/// `,`, `.`, `->`, `?`, `:`, and the prefix-only `!`, `~` and `sizeof`.
#[rustfmt::skip]
const OPERAND_EXPECTED: &[&str] = &[
    "+", "-", "*", "/", "%", "<<", ">>", "<", ">", "<=", ">=", "==", "!=", "&", "^", "|", "&&",
    "||", "?", ":", "=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", ",", ".",
    "->", "!", "~", "sizeof", "_Alignof", "alignof", "__alignof__",
];

fn waits_for_operand(last: &Token) -> bool {
    last.is_any(OPERAND_EXPECTED)
}

/// What the last item still waits for, when the input ran out inside it.
fn awaited_part(code: &[Token], item: &Analysed) -> Option<&'static str> {
    let span = &item.span;
    if span.ending != Ending::EndOfInput {
        return None;
    }
    let last_index = span.end - 1;
    let last = &code[last_index];
    if span.pending_do {
        return Some("`while (...);` should follow the `do` body");
    }
    if last.is_any(&["else", "do"]) {
        return Some("a statement should follow");
    }
    if last.is(")") {
        return after_parenthesis(code, item, last_index);
    }
    // Only specifiers so far (`T` or `static T` for a typedef name T, as
    // generated code writes a return type alone on its line).
    let toks = &code[span.start..span.end];
    let only_specifiers = is_identifier(last)
        && toks.iter().filter(|t| is_identifier(t)).count() == 1
        && toks
            .iter()
            .all(|t| is_identifier(t) || t.kind == TokenKind::Keyword);
    let unfinished_declaration = (starts_declaration_keyword(last) && !last.is_any(STATIC_ASSERT))
        || is_tag_head(code, span.start, last_index)
        || only_specifiers;
    (span.declaration && unfinished_declaration).then_some("the declaration goes on")
}

/// After a final `)`: a control statement's condition or a function header wait for more.
fn after_parenthesis(code: &[Token], item: &Analysed, close: usize) -> Option<&'static str> {
    let span = &item.span;
    let open = matching_open(code, span.start, close)?;
    if is_condition(code, span.start, open) && span.last_do_tail != Some(open - 1) {
        return Some("a statement should follow the condition");
    }
    // `f(...)`, or a parenthesized declarator of a function: `(f)(...)`,
    // `(*f(int))(...)` (not `(*fp)(...)`, a pointer).
    let named = open > span.start
        && (is_identifier(&code[open - 1])
            || declares_function_in_parens(code, span.start, open - 1));
    let header = span.declaration && named && !has_depth0_assignment(&code[span.start..close]);
    header.then_some("a function body should follow")
}

/// Whether the group closed at `close` is `(name)` or holds a parameter list.
fn declares_function_in_parens(code: &[Token], low: usize, close: usize) -> bool {
    if !code[close].is(")") {
        return false;
    }
    let Some(open) = matching_open(code, low, close) else {
        return false;
    };
    let inside = &code[open + 1..close];
    matches!(inside, [t] if is_identifier(t)) || inside.iter().any(|t| t.is("("))
}

#[cfg(test)]
mod conditional_tests {
    use super::*;
    use crate::input::NoNames;

    #[test]
    fn conditional_blocks_continue_until_endif() {
        let open = "#ifdef LIMIT\nint seen = 1;\n#else\nint seen = 0;";
        assert!(matches!(
            completeness(open, &NoNames),
            Completeness::Incomplete(_)
        ));
        let closed = format!("{open}\n#endif");
        assert!(matches!(
            completeness(&closed, &NoNames),
            Completeness::Complete
        ));
        let nested = "#if A\n#if B\n#endif";
        assert!(matches!(
            completeness(nested, &NoNames),
            Completeness::Incomplete(_)
        ));
        assert!(matches!(
            completeness("#define X 1", &NoNames),
            Completeness::Complete
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::Completeness::{Complete, Incomplete};
    use super::*;
    use crate::input::names::{NameKind, NoNames};

    fn check(text: &str) -> Completeness {
        completeness(text, &NoNames)
    }

    fn assert_complete(texts: &[&str]) {
        for text in texts {
            assert_eq!(check(text), Complete, "{text:?}");
        }
    }

    fn assert_incomplete(texts: &[&str]) {
        for text in texts {
            assert!(
                matches!(check(text), Incomplete(_)),
                "{text:?} gave {:?}",
                check(text)
            );
        }
    }

    #[test]
    fn whole_inputs_are_complete() {
        assert_complete(&[
            "int x = 2; x *= 3; x + 1",
            "x",
            "int f(int x) { return x; }",
            "for (int i = 0; i < 3; i++) { s += i; }",
            "do { x++; } while (x < 3)",
            "do { x++; } while (x < 3);",
            "x++",
            "x--",
            "f(3)",
            "int x = f(3)",
            "int (*fp)(int)",
            "(int)x",
            "sizeof(int)",
            "if (x) y = f(3)",
            "struct point p",
            "struct point { int x; }",
            "return",
        ]);
    }

    #[test]
    fn empty_whitespace_and_comment_only_text_is_complete() {
        assert_complete(&["", "  \n\t", "// just a note", "/* a */ /* b */"]);
    }

    #[test]
    fn unclosed_brackets_say_which() {
        assert_eq!(
            check("int f(void) {\n  return 1;"),
            Incomplete("unclosed {")
        );
        assert_eq!(check("printf(\"%d\",\n  x"), Incomplete("unclosed ("));
        assert_eq!(check("int a[3] = { [1"), Incomplete("unclosed ["));
    }

    #[test]
    fn brackets_in_literals_and_comments_do_not_count() {
        assert_complete(&[
            "puts(\"{ ( [\")",
            "char c = '{'",
            "char q = '\\''",
            "x /* { */",
            "x // (",
            "s = \"\\\" {\"",
        ]);
    }

    #[test]
    fn extra_or_mismatched_closers_are_complete_for_clang_to_report() {
        assert_complete(&["}", "x)", "f(1]", "{ ( }", "} {"]);
    }

    #[test]
    fn unterminated_comment_and_literals_at_the_end() {
        assert_eq!(check("x /* still"), Incomplete("unterminated /* comment"));
        assert_eq!(check("/* a\n b"), Incomplete("unterminated /* comment"));
        assert_eq!(
            check("puts(\"abc"),
            Incomplete("unterminated string literal")
        );
        assert_eq!(
            check("c = 'a"),
            Incomplete("unterminated character literal")
        );
        assert_eq!(
            check("#define X /* open"),
            Incomplete("unterminated /* comment")
        );
    }

    #[test]
    fn a_literal_cut_by_a_newline_is_an_error_not_a_continuation() {
        assert_complete(&["puts(\"abc\ndef\");", "c = 'a\n';"]);
    }

    #[test]
    fn trailing_backslash_continues_the_line() {
        assert_incomplete(&[
            "x = 1 + \\",
            "x = 1 + \\\n",
            "x = 1 + \\  ",
            "#define A \\",
            "#define A \\\n",
            "// note \\",
        ]);
        assert_complete(&["x = 1 \\\n\n", "#define A \\\n  1"]);
    }

    #[test]
    fn directive_lines_are_complete_at_end_of_line() {
        assert_complete(&[
            "#include <stdio.h>",
            "#define LP (",
            "#if X\n#endif\n",
            "#error don't",
        ]);
    }

    #[test]
    fn a_trailing_operator_waits_for_its_operand() {
        assert_incomplete(&[
            "x +",
            "x =",
            "int a[] =",
            "f(a),",
            "a &&",
            "a ? b :",
            "p->",
            "s.",
            "x <<=",
            "!",
            "~",
            "n = sizeof",
            "int *",
        ]);
    }

    #[test]
    fn a_function_header_waits_for_its_body() {
        assert_eq!(
            check("int f(int x)"),
            Incomplete("a function body should follow")
        );
        assert_incomplete(&[
            "static inline int\nsq(int v)",
            "T f(T a)",
            "struct p make(void)",
            "int a = 1; void g(void)",
        ]);
    }

    #[test]
    fn a_known_typedef_makes_a_header_even_with_a_pointer() {
        let names: HashMap<String, NameKind> = [("T".to_string(), NameKind::Typedef)].into();
        assert!(matches!(
            completeness("T *get(void)", &names),
            Incomplete(_)
        ));
        let variables: HashMap<String, NameKind> = [("T".to_string(), NameKind::Variable)].into();
        assert_eq!(completeness("T *get(v)", &variables), Complete);
    }

    #[test]
    fn a_control_header_waits_for_its_statement() {
        assert_eq!(
            check("for (int i = 0; i < 3; i++)"),
            Incomplete("a statement should follow the condition")
        );
        assert_incomplete(&[
            "if (x)",
            "while (n--)",
            "switch (k)",
            "if (a) x = 1; else",
            "if (a) {} else if (b)",
            "do",
        ]);
    }

    #[test]
    fn a_do_body_waits_for_its_while() {
        assert_eq!(
            check("do { x++; }"),
            Incomplete("`while (...);` should follow the `do` body")
        );
        assert_incomplete(&["do x++;"]);
    }

    #[test]
    fn an_unfinished_declaration_head_waits() {
        assert_incomplete(&[
            "static int",
            "struct point",
            "typedef struct node",
            "enum color",
            "unsigned long",
        ]);
    }
}
