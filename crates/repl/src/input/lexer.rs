//! C tokens of one REPL input, with their positions.
//!
//! A small hand-written lexer: it never fails and never panics. Whatever it
//! cannot name becomes an [`TokenKind::Unknown`] token; a literal, comment or
//! directive cut off by the end of the text is marked `terminated: false`.
//! A preprocessor directive (with its continuation lines) is one token.
//! Backslash-newline line splices are whitespace between tokens; inside
//! literals and comments they simply belong to the token. Digraphs and
//! trigraphs are not recognised.

/// What a [`Token`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name that is not a keyword (`x`, `printf`, `size_t`).
    Identifier,
    /// A C11/C23 keyword or a GNU extension keyword (`int`, `__attribute__`).
    Keyword,
    /// A preprocessing number (`42`, `0x1fULL`, `1.5e-3f`).
    Number,
    /// A string literal, with its prefix if any (`"a"`, `u8"b"`, `L"c"`).
    String,
    /// A character literal, with its prefix if any (`'a'`, `'\''`, `L'x'`).
    Char,
    /// An operator or punctuator (`+=`, `->`, `{`, `;`).
    Punctuator,
    /// A `/* */` or `//` comment.
    Comment,
    /// A whole preprocessor line from `#`, continuation lines included.
    Directive,
    /// A byte the lexer has no name for (`@`, a stray `\`).
    Unknown,
}

/// One token: a slice of the input and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// The exact source text of the token.
    pub text: &'a str,
    /// Byte offset of the token in the input.
    pub offset: usize,
    /// 1-based line of the token's first byte.
    pub line: u32,
    /// 1-based byte column of the token's first byte (clang counts columns in bytes too).
    pub col: u32,
    /// False for a literal, comment or directive that the text ends inside of
    /// (or, for a string/char literal, that a newline cut off).
    pub terminated: bool,
}

impl Token<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.offset + self.text.len()
    }

    /// Whether this is the punctuator or keyword spelled `spelling`.
    pub fn is(&self, spelling: &str) -> bool {
        matches!(self.kind, TokenKind::Punctuator | TokenKind::Keyword) && self.text == spelling
    }

    /// Whether this is one of the punctuators or keywords in `spellings`.
    pub fn is_any(&self, spellings: &[&str]) -> bool {
        spellings.iter().any(|s| self.is(s))
    }
}

/// Splits `text` into tokens (comments and directives included, whitespace left out).
pub fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut lexer = Lexer {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        at_line_start: true,
    };
    let mut out = Vec::new();
    while let Some(token) = lexer.next_token() {
        out.push(token);
    }
    out
}

/// Keywords of C23 plus the GNU spellings clang accepts in C.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof", "_Atomic",
    "_BitInt", "_Bool", "_Complex", "_Decimal128", "_Decimal32", "_Decimal64", "_Float16",
    "_Generic", "_Imaginary", "_Noreturn", "_Static_assert", "_Thread_local", "alignas",
    "alignof", "bool", "constexpr", "false", "nullptr", "static_assert", "thread_local", "true",
    "typeof", "typeof_unqual", "__alignof", "__alignof__", "__asm", "__asm__", "asm",
    "__attribute", "__attribute__", "__auto_type", "__builtin_offsetof", "__builtin_va_arg",
    "__const", "__const__", "__declspec", "__extension__", "__fp16", "__inline", "__inline__",
    "__int128", "__label__", "__restrict", "__restrict__", "__signed", "__signed__", "__thread",
    "__typeof", "__typeof__", "__volatile", "__volatile__",
];

/// Punctuators, longest first so that the first match is the longest one.
#[rustfmt::skip]
const PUNCTUATORS: &[&str] = &[
    "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=",
    "/=", "%=", "+=", "-=", "&=", "^=", "|=", "##", "[", "]", "(", ")", "{", "}", ".", "&", "*",
    "+", "-", "~", "!", "/", "%", "<", ">", "^", "|", "?", ":", ";", "=", ",", "#",
];

/// Whether `word` is a keyword (see [`TokenKind::Keyword`]).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_ident_continue(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    /// Only whitespace and comments so far on this line: a `#` starts a directive.
    at_line_start: bool,
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        self.skip_whitespace();
        let start = self.pos;
        if start >= self.bytes.len() {
            return None;
        }
        let (line, col) = (self.line, (start - self.line_start + 1) as u32);
        let (kind, terminated) = self.scan_token();
        let end = self.pos.max(start + 1).min(self.bytes.len());
        self.pos = self.pos.max(end);
        self.count_newlines(start, end);
        if kind != TokenKind::Comment {
            self.at_line_start = false;
        }
        Some(Token {
            kind,
            text: self.text.get(start..end).unwrap_or(""),
            offset: start,
            line,
            col,
            terminated,
        })
    }

    fn count_newlines(&mut self, start: usize, end: usize) {
        for (i, &b) in self.bytes[start..end].iter().enumerate() {
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.line_start = start + i + 1;
            }
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b) = self.peek(0) {
            match b {
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.pos;
                    self.at_line_start = true;
                }
                b'\\' => match self.splice_end(self.pos) {
                    Some(after) => {
                        self.pos = after;
                        self.line = self.line.saturating_add(1);
                        self.line_start = after;
                    }
                    None => return,
                },
                _ => return,
            }
        }
    }

    /// If a backslash at `at` starts a line splice (`\`, blanks, newline), where it ends.
    fn splice_end(&self, at: usize) -> Option<usize> {
        let mut i = at + 1;
        while matches!(self.bytes.get(i), Some(b' ' | b'\t' | b'\r')) {
            i += 1;
        }
        (self.bytes.get(i) == Some(&b'\n')).then_some(i + 1)
    }

    fn scan_token(&mut self) -> (TokenKind, bool) {
        let b = self.bytes[self.pos];
        match b {
            b'/' if self.peek(1) == Some(b'*') => (TokenKind::Comment, self.block_comment()),
            b'/' if self.peek(1) == Some(b'/') => {
                self.line_comment();
                (TokenKind::Comment, true)
            }
            b'#' if self.at_line_start => (TokenKind::Directive, self.directive()),
            b'"' => (TokenKind::String, self.quoted(b'"')),
            b'\'' => (TokenKind::Char, self.quoted(b'\'')),
            b'0'..=b'9' => self.number(),
            b'.' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
            _ if is_ident_start(b) => self.word(),
            _ => self.punctuator(),
        }
    }

    /// Scans `/* ... */`; false when the text ends inside it.
    fn block_comment(&mut self) -> bool {
        match self.text[self.pos + 2..].find("*/") {
            Some(i) => {
                self.pos += 2 + i + 2;
                true
            }
            None => {
                self.pos = self.bytes.len();
                false
            }
        }
    }

    /// Scans `// ...` to the end of its line (a line ending in `\` continues it).
    fn line_comment(&mut self) {
        loop {
            match self.text[self.pos..].find('\n') {
                None => {
                    self.pos = self.bytes.len();
                    return;
                }
                Some(i) => {
                    let newline = self.pos + i;
                    if self.continues_at(newline) {
                        self.pos = newline + 1;
                    } else {
                        self.pos = self.trim_cr(newline);
                        return;
                    }
                }
            }
        }
    }

    /// Whether the line ending at the newline `newline` ends in a `\` (blanks allowed after it).
    fn continues_at(&self, newline: usize) -> bool {
        self.bytes[..newline]
            .iter()
            .rev()
            .find(|&&b| !matches!(b, b' ' | b'\t' | b'\r'))
            == Some(&b'\\')
    }

    /// Where a token ending at `newline` ends without its `\r` (the token's own bytes precede it).
    fn trim_cr(&self, newline: usize) -> usize {
        if newline > 0 && self.bytes[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        }
    }

    /// Scans a directive line with its continuations; false when the text
    /// ends inside a `/* */` comment of the directive.
    fn directive(&mut self) -> bool {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            match b {
                b'\n' if self.continues_at(self.pos) => self.pos += 1,
                b'\n' => {
                    self.pos = self.trim_cr(self.pos);
                    return true;
                }
                b'/' if self.peek(1) == Some(b'*') => {
                    if !self.block_comment() {
                        return false;
                    }
                }
                b'/' if self.peek(1) == Some(b'/') => {
                    self.pos = self.text[self.pos..]
                        .find('\n')
                        .map_or(self.bytes.len(), |i| self.pos + i);
                }
                b'"' | b'\'' => {
                    self.quoted(b);
                }
                _ => self.pos += 1,
            }
        }
        true
    }

    /// Scans a literal quoted by `quote` from its opening quote; false when a
    /// newline or the end of the text comes before the closing quote.
    fn quoted(&mut self, quote: u8) -> bool {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            match b {
                b'\\' => {
                    let crlf = self.peek(1) == Some(b'\r') && self.peek(2) == Some(b'\n');
                    self.pos = (self.pos + if crlf { 3 } else { 2 }).min(self.bytes.len());
                }
                b'\n' => return false,
                _ if b == quote => {
                    self.pos += 1;
                    return true;
                }
                _ => self.pos += 1,
            }
        }
        false
    }

    /// Scans a preprocessing number.
    fn number(&mut self) -> (TokenKind, bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            let exponent_sign = matches!(b, b'+' | b'-')
                && matches!(self.bytes[self.pos - 1], b'e' | b'E' | b'p' | b'P');
            if is_ident_continue(b) || b == b'.' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        (TokenKind::Number, true)
    }

    /// Scans an identifier or keyword, or a prefixed literal (`L"x"`, `u8'a'`).
    fn word(&mut self) -> (TokenKind, bool) {
        let start = self.pos;
        while self.peek(0).is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        let word = self.text.get(start..self.pos).unwrap_or("");
        match self.peek(0) {
            Some(q @ (b'"' | b'\'')) if matches!(word, "L" | "u" | "U" | "u8") => {
                let kind = if q == b'"' {
                    TokenKind::String
                } else {
                    TokenKind::Char
                };
                (kind, self.quoted(q))
            }
            _ if is_keyword(word) => (TokenKind::Keyword, true),
            _ => (TokenKind::Identifier, true),
        }
    }

    fn punctuator(&mut self) -> (TokenKind, bool) {
        let rest = &self.bytes[self.pos..];
        match PUNCTUATORS.iter().find(|p| rest.starts_with(p.as_bytes())) {
            Some(p) => {
                self.pos += p.len();
                (TokenKind::Punctuator, true)
            }
            None => {
                self.pos += 1;
                (TokenKind::Unknown, true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TokenKind::*;
    use super::*;

    fn kinds_and_texts(text: &str) -> Vec<(TokenKind, &str)> {
        tokens(text).iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn declaration_with_every_basic_kind() {
        assert_eq!(
            kinds_and_texts("static int x_1 = 0x1fULL + 1.5e-3f;"),
            [
                (Keyword, "static"),
                (Keyword, "int"),
                (Identifier, "x_1"),
                (Punctuator, "="),
                (Number, "0x1fULL"),
                (Punctuator, "+"),
                (Number, "1.5e-3f"),
                (Punctuator, ";"),
            ]
        );
    }

    #[test]
    fn longest_punctuator_wins() {
        let texts: Vec<_> = tokens("a>>=b->c...d++<<e").iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            ["a", ">>=", "b", "->", "c", "...", "d", "++", "<<", "e"]
        );
    }

    #[test]
    fn string_with_semicolon_brace_slashes_and_escaped_quote_is_one_token() {
        let toks = tokens(r#"s = "a;{// \"q\" }"; t"#);
        assert_eq!(toks[2].kind, String);
        assert_eq!(toks[2].text, r#""a;{// \"q\" }""#);
        assert!(toks[2].terminated);
        assert_eq!(toks[4].text, "t");
    }

    #[test]
    fn char_literals_with_brace_and_escaped_quote() {
        assert_eq!(
            kinds_and_texts(r"'}' '\'' '\\' L'x' u8'a'"),
            [
                (Char, "'}'"),
                (Char, r"'\''"),
                (Char, r"'\\'"),
                (Char, "L'x'"),
                (Char, "u8'a'")
            ]
        );
    }

    #[test]
    fn prefixed_strings_and_a_plain_identifier_named_l() {
        assert_eq!(
            kinds_and_texts(r#"L"w" u"x" U"y" u8"z" L"#),
            [
                (String, r#"L"w""#),
                (String, r#"u"x""#),
                (String, r#"U"y""#),
                (String, r#"u8"z""#),
                (Identifier, "L")
            ]
        );
    }

    #[test]
    fn comments_of_both_kinds() {
        assert_eq!(
            kinds_and_texts("a /* x; { */ b // c;\nd"),
            [
                (Identifier, "a"),
                (Comment, "/* x; { */"),
                (Identifier, "b"),
                (Comment, "// c;"),
                (Identifier, "d")
            ]
        );
    }

    #[test]
    fn a_line_comment_ending_in_backslash_continues() {
        assert_eq!(
            kinds_and_texts("// a \\\n b\nc"),
            [(Comment, "// a \\\n b"), (Identifier, "c")]
        );
    }

    #[test]
    fn unterminated_literals_and_comments_are_marked() {
        let open_comment = tokens("x /* never closed");
        assert_eq!(open_comment[1].kind, Comment);
        assert!(!open_comment[1].terminated);
        let open_string = tokens("\"abc");
        assert!(!open_string[0].terminated);
        let cut_string = tokens("\"abc\nd\"");
        assert_eq!(cut_string[0].text, "\"abc");
        assert!(!cut_string[0].terminated);
        assert_eq!(cut_string[1].text, "d");
    }

    #[test]
    fn a_directive_is_one_token_with_its_continuation_lines() {
        let text = "#define MAX(a, b) \\\n  ((a) > (b) ? (a) : (b))\nMAX(1, 2)";
        let toks = tokens(text);
        assert_eq!(toks[0].kind, Directive);
        assert_eq!(
            toks[0].text,
            "#define MAX(a, b) \\\n  ((a) > (b) ? (a) : (b))"
        );
        assert_eq!((toks[1].text, toks[1].line, toks[1].col), ("MAX", 3, 1));
    }

    #[test]
    fn a_directive_spans_a_multi_line_comment_but_not_a_line_comment() {
        let toks = tokens("  #if X /* one\ntwo */ && Y // z\nint");
        assert_eq!(toks[0].text, "#if X /* one\ntwo */ && Y // z");
        assert_eq!(toks[1].text, "int");
    }

    #[test]
    fn hash_inside_a_line_is_a_punctuator_but_after_a_comment_starts_a_directive() {
        assert_eq!(tokens("x # y")[1].kind, Punctuator);
        let toks = tokens("/* c */ #include <stdio.h>\n");
        assert_eq!(
            (toks[1].kind, toks[1].text),
            (Directive, "#include <stdio.h>")
        );
    }

    #[test]
    fn apostrophe_in_an_error_directive_does_not_swallow_the_next_line() {
        let toks = tokens("#error don't\nx");
        assert_eq!(toks[0].text, "#error don't");
        assert_eq!(toks[1].text, "x");
    }

    #[test]
    fn crlf_line_endings() {
        let toks = tokens("#define A 1\r\nint x; // c\r\ny");
        assert_eq!(toks[0].text, "#define A 1");
        assert_eq!(toks[4].text, "// c");
        assert_eq!((toks[5].text, toks[5].line, toks[5].col), ("y", 3, 1));
    }

    #[test]
    fn positions_are_one_based_lines_and_byte_columns() {
        let toks = tokens("int f(void)\n{\n\treturn \"é\" [0];\n}");
        let at = |text: &str| {
            let t = toks.iter().find(|t| t.text == text).unwrap();
            (t.line, t.col, t.offset)
        };
        assert_eq!(at("int"), (1, 1, 0));
        assert_eq!(at("{"), (2, 1, 12));
        assert_eq!(at("return"), (3, 2, 15));
        // "é" is two bytes: `\t`, `return `, the 4-byte string and a space put `[` at byte 14.
        assert_eq!(at("["), (3, 14, 27));
        assert_eq!(at("}"), (4, 1, 32));
    }

    #[test]
    fn a_line_splice_between_tokens_is_whitespace() {
        let toks = tokens("a + \\\n b");
        assert_eq!(
            toks.iter().map(|t| t.text).collect::<Vec<_>>(),
            ["a", "+", "b"]
        );
        assert_eq!((toks[2].line, toks[2].col), (2, 2));
    }

    #[test]
    fn stray_bytes_are_unknown_tokens() {
        assert_eq!(
            kinds_and_texts("@ ` \\"),
            [(Unknown, "@"), (Unknown, "`"), (Unknown, "\\")]
        );
    }

    #[test]
    fn non_ascii_identifiers_and_dollars() {
        assert_eq!(
            kinds_and_texts("$x größe"),
            [(Identifier, "$x"), (Identifier, "größe")]
        );
    }

    #[test]
    fn numbers_keep_exponent_signs_but_not_other_operators() {
        assert_eq!(
            kinds_and_texts("1e+5 0x1p-3 .5 1-2"),
            [
                (Number, "1e+5"),
                (Number, "0x1p-3"),
                (Number, ".5"),
                (Number, "1"),
                (Punctuator, "-"),
                (Number, "2")
            ]
        );
    }
}
