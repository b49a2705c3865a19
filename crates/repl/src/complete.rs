//! Tab completion and hints at the prompt: meta command names and their
//! arguments, every name the session defined, C keywords and the standard
//! typedefs. Pure functions of the line, so they test without a terminal.

#[cfg(test)]
use crate::input::is_keyword;
use crate::input::{NameKind, STANDARD_TYPEDEFS};
use crate::meta;
use std::collections::HashMap;

/// Keywords offered by completion: the C23 ones a user types, and the GNU
/// spellings in common use (the lexer knows more; see [`crate::input::is_keyword`]).
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof", "_Atomic", "_Bool",
    "_Generic", "_Noreturn", "_Static_assert", "alignas", "alignof", "bool", "false", "nullptr",
    "static_assert", "true", "typeof", "__attribute__", "__typeof__",
];

/// What a completion replaces: the text from `start` to the cursor, with
/// one of `candidates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Byte offset in the line where the replaced word starts.
    pub start: usize,
    /// Replacements, sorted, without duplicates.
    pub candidates: Vec<String>,
}

/// What a completion needs to know besides the line.
pub struct Context<'a> {
    /// The session's names (`Repl::names`).
    pub names: &'a HashMap<String, NameKind>,
    /// Whether the line is the first of an input (only there is `%` a meta command).
    pub first_line: bool,
}

/// What to complete at `pos` of `line`; `None` when it is a file name
/// (the caller's file completer knows the file system).
pub fn complete(line: &str, pos: usize, cx: &Context) -> Option<Completion> {
    let before = line.get(..pos).unwrap_or(line);
    let start = word_start(before);
    let word = &before[start..];
    if cx.first_line && meta::is_meta(before) {
        let lead = before.len() - before.trim_start().len();
        let body = &before[lead + 1..];
        if !body.contains(char::is_whitespace) {
            // The command name itself, `%` included.
            let mut candidates: Vec<String> = meta::COMMANDS
                .iter()
                .filter(|c| c.name.starts_with(body))
                .map(|c| match c.args {
                    "" => format!("%{}", c.name),
                    _ => format!("%{} ", c.name),
                })
                .collect();
            candidates.sort();
            return Some(Completion {
                start: lead,
                candidates,
            });
        }
        let command = body.split_whitespace().next().unwrap_or("");
        let candidates = match command {
            "save" | "load" => return None,
            "time" | "strict" | "ub" => ["on", "off"]
                .iter()
                .filter(|w| w.starts_with(word))
                .map(|w| w.to_string())
                .collect(),
            "disasm" => session_names(cx.names, word, |k| k == NameKind::Function),
            "graph" => session_names(cx.names, word, |k| {
                matches!(k, NameKind::Function | NameKind::Variable)
            }),
            _ => Vec::new(),
        };
        return Some(Completion { start, candidates });
    }
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(Completion {
            start,
            candidates: Vec::new(),
        });
    }
    let mut candidates = session_names(cx.names, word, |_| true);
    candidates.extend(
        KEYWORDS
            .iter()
            .chain(STANDARD_TYPEDEFS)
            .filter(|w| w.starts_with(word))
            .map(|w| w.to_string()),
    );
    candidates.sort();
    candidates.dedup();
    Some(Completion { start, candidates })
}

/// Names of the session starting with `prefix`, sorted, without the REPL's own.
fn session_names(
    names: &HashMap<String, NameKind>,
    prefix: &str,
    keep: impl Fn(NameKind) -> bool,
) -> Vec<String> {
    let mut v: Vec<String> = names
        .iter()
        .filter(|(n, k)| n.starts_with(prefix) && !n.starts_with("__repl_") && keep(**k))
        .map(|(n, _)| n.clone())
        .collect();
    v.sort();
    v
}

/// Start of the identifier that ends at the end of `before`.
fn word_start(before: &str) -> usize {
    before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$')
        .last()
        .map(|(i, _)| i)
        .unwrap_or(before.len())
}

/// A hint shown after the cursor, and what Right-arrow inserts of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The text shown (dimmed).
    pub display: String,
    /// The part accepted by Right-arrow, if any.
    pub completion: Option<String>,
}

/// A hint for a meta command being typed at the end of the line: the rest
/// of its name when only one command fits, then its arguments.
pub fn hint(line: &str, pos: usize, first_line: bool) -> Option<Hint> {
    if !first_line || pos != line.len() || !meta::is_meta(line) {
        return None;
    }
    let body = line.trim_start().strip_prefix('%')?;
    let (name, rest) = match body.find(char::is_whitespace) {
        Some(i) => (&body[..i], &body[i..]),
        None => (body, ""),
    };
    if !rest.is_empty() {
        // Arguments are being typed: show the synopsis while there are none.
        let c = meta::command(name)?;
        return (rest.trim().is_empty() && !c.args.is_empty()).then(|| Hint {
            display: c.args.to_string(),
            completion: None,
        });
    }
    let mut fitting = meta::COMMANDS.iter().filter(|c| c.name.starts_with(name));
    let c = fitting.next()?;
    if fitting.next().is_some() {
        return None;
    }
    let rest_of_name = &c.name[name.len()..];
    let display = if c.args.is_empty() {
        rest_of_name.to_string()
    } else {
        format!("{rest_of_name} {}", c.args)
    };
    (!display.is_empty()).then(|| Hint {
        display,
        completion: (!rest_of_name.is_empty()).then(|| rest_of_name.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> HashMap<String, NameKind> {
        [
            ("counter", NameKind::Variable),
            ("count_up", NameKind::Function),
            ("point_t", NameKind::Typedef),
            ("__repl_val_1", NameKind::Variable),
        ]
        .into_iter()
        .map(|(n, k)| (n.to_string(), k))
        .collect()
    }

    fn candidates(line: &str, first_line: bool) -> Vec<String> {
        let names = names();
        let cx = Context {
            names: &names,
            first_line,
        };
        complete(line, line.len(), &cx).unwrap().candidates
    }

    #[test]
    fn identifiers_complete_from_the_session_and_keywords() {
        assert_eq!(candidates("x = cou", true), ["count_up", "counter"]);
        assert_eq!(candidates("uns", true), ["unsigned"]);
        assert_eq!(candidates("uint3", true), ["uint32_t"]);
        assert_eq!(candidates("poi", true), ["point_t"]);
        assert!(candidates("__re", true).is_empty());
        assert!(candidates("x + 1", true).is_empty());
    }

    #[test]
    fn completion_replaces_only_the_word_before_the_cursor() {
        let names = names();
        let cx = Context {
            names: &names,
            first_line: true,
        };
        let c = complete("f(coun, 1)", 6, &cx).unwrap();
        assert_eq!(c.start, 2);
        assert_eq!(c.candidates, ["count_up", "counter"]);
    }

    #[test]
    fn meta_commands_and_their_arguments_complete() {
        assert_eq!(candidates("%un", true), ["%undo "]);
        assert_eq!(candidates("%s", true), ["%save ", "%strict ", "%symbols"]);
        assert_eq!(candidates("%ub o", true), ["on", "off"]);
        assert_eq!(candidates("%disasm c", true), ["count_up"]);
        assert_eq!(candidates("%time o", true), ["on", "off"]);
        // Not at the start of an input: `%` is the remainder operator.
        assert_eq!(candidates("%un", false), ["union", "unsigned"]);
        let names = names();
        let cx = Context {
            names: &names,
            first_line: true,
        };
        assert_eq!(complete("%load te", 8, &cx), None);
    }

    #[test]
    fn hints_finish_a_command_and_show_its_arguments() {
        assert_eq!(
            hint("%dis", 4, true),
            Some(Hint {
                display: "asm NAME".to_string(),
                completion: Some("asm".to_string())
            })
        );
        assert_eq!(
            hint("%undo ", 6, true),
            Some(Hint {
                display: "[N]".to_string(),
                completion: None
            })
        );
        assert_eq!(hint("%undo 2", 7, true), None);
        assert_eq!(hint("%s", 2, true), None);
        assert_eq!(hint("%dis", 4, false), None);
        assert_eq!(hint("x", 1, true), None);
    }

    #[test]
    fn offered_keywords_are_keywords() {
        for k in KEYWORDS {
            assert!(is_keyword(k), "{k}");
        }
    }
}
