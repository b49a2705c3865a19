//! Syntax colouring of the line being typed, with ANSI escape codes: the
//! text is lexed by [`crate::input::tokens`] (together with the earlier
//! lines of the same input, so a comment or string that began there keeps
//! its colour) and only escape codes are inserted, so the line keeps its width.

#[cfg(test)]
use crate::ansi::strip;
use crate::input::{tokens, NameKind, TokenKind};
use crate::meta;
use std::collections::HashMap;
use std::io::IsTerminal;

/// Resets every attribute.
pub const RESET: &str = "\x1b[0m";
/// Hints: dark grey.
pub const HINT: &str = "\x1b[90m";
/// The prompt: bold green.
pub const PROMPT: &str = "\x1b[1;32m";
/// The continuation prompt: green.
pub const CONTINUATION: &str = "\x1b[32m";

const KEYWORD: &str = "\x1b[35m";
const TYPE_NAME: &str = "\x1b[33m";
const NUMBER: &str = "\x1b[36m";
const STRING: &str = "\x1b[32m";
const COMMENT: &str = "\x1b[90m";
const DIRECTIVE: &str = "\x1b[34m";
const ERROR: &str = "\x1b[31m";
const META: &str = "\x1b[1;34m";

/// Whether to colour: stdout is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>).
pub fn color_enabled() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// `text` in `style`, then reset.
pub fn paint(text: &str, style: &str) -> String {
    format!("{style}{text}{RESET}")
}

/// The colour of a token, if it has one.
fn style(
    kind: TokenKind,
    text: &str,
    terminated: bool,
    names: &HashMap<String, NameKind>,
) -> Option<&'static str> {
    if !terminated && matches!(kind, TokenKind::String | TokenKind::Char) {
        return Some(ERROR);
    }
    match kind {
        TokenKind::Keyword => Some(KEYWORD),
        TokenKind::Identifier => {
            let typedef = names.get(text) == Some(&NameKind::Typedef)
                || crate::input::STANDARD_TYPEDEFS.contains(&text);
            typedef.then_some(TYPE_NAME)
        }
        TokenKind::Number => Some(NUMBER),
        TokenKind::String | TokenKind::Char => Some(STRING),
        TokenKind::Comment => Some(COMMENT),
        TokenKind::Directive => Some(DIRECTIVE),
        TokenKind::Unknown => Some(ERROR),
        TokenKind::Punctuator => None,
    }
}

/// `line` with colours; `earlier` holds the input's previous lines (empty
/// on its first line), whose tokens may continue into this one.
pub fn highlight(earlier: &str, line: &str, names: &HashMap<String, NameKind>) -> String {
    if earlier.is_empty() && meta::is_meta(line) {
        return highlight_meta(line);
    }
    let (text, offset) = if earlier.is_empty() {
        (line.to_string(), 0)
    } else {
        (format!("{earlier}\n{line}"), earlier.len() + 1)
    };
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0; // bytes of `line` written so far
    for t in tokens(&text) {
        if t.end() <= offset {
            continue;
        }
        let Some(style) = style(t.kind, t.text, t.terminated, names) else {
            continue;
        };
        let start = t.offset.saturating_sub(offset).max(at);
        let end = t.end() - offset;
        out.push_str(&line[at..start]);
        out.push_str(style);
        out.push_str(&line[start..end]);
        out.push_str(RESET);
        at = end;
    }
    out.push_str(&line[at..]);
    out
}

/// A meta command: its name in bold blue while it is (or may become) a
/// command, red when no command starts so.
fn highlight_meta(line: &str) -> String {
    let lead = line.len() - line.trim_start().len();
    let body = &line[lead..];
    let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
    let name = &body[1..name_end];
    let known = meta::COMMANDS.iter().any(|c| c.name.starts_with(name));
    format!(
        "{}{}{}",
        &line[..lead],
        paint(&body[..name_end], if known { META } else { ERROR }),
        &body[name_end..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_names() -> HashMap<String, NameKind> {
        HashMap::new()
    }

    #[test]
    fn colouring_keeps_the_text() {
        let names = no_names();
        for line in [
            "int x = 0x1f; // note",
            "printf(\"%d\\n\", 'a' + 1);",
            "#define N 3",
            "\"unterminated",
            "%undo 2",
            "%nope",
            "  x @ y",
            "é = \"ü\";",
        ] {
            assert_eq!(strip(&highlight("", line, &names)), line);
        }
    }

    #[test]
    fn tokens_get_their_colours() {
        let names: HashMap<String, NameKind> = [("point".to_string(), NameKind::Typedef)]
            .into_iter()
            .collect();
        let h = highlight("", "int x = 42; point p; /* c */", &names);
        assert!(h.contains(&paint("int", KEYWORD)), "{h:?}");
        assert!(h.contains(&paint("42", NUMBER)), "{h:?}");
        assert!(h.contains(&paint("point", TYPE_NAME)), "{h:?}");
        assert!(h.contains(&paint("/* c */", COMMENT)), "{h:?}");
        assert!(h.contains(" x = "), "{h:?}");
        assert_eq!(
            highlight("", "%undo 2", &names),
            paint("%undo", META) + " 2"
        );
        assert_eq!(highlight("", "%nope", &names), paint("%nope", ERROR));
    }

    #[test]
    fn a_comment_begun_on_an_earlier_line_continues() {
        let names = no_names();
        let h = highlight("int x; /* begins", "still comment */ x", &names);
        assert_eq!(h, paint("still comment */", COMMENT) + " x");
        // `%` after the first line is the operator, not a meta command.
        assert_eq!(
            highlight("x", "% 2", &names),
            format!("% {}", paint("2", NUMBER))
        );
    }
}
