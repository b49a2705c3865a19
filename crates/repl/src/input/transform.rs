//! Rewrites of items that the REPL needs to compile one input against the
//! earlier ones.
//!
//! Removed keywords and initializers become blanks of the same byte length
//! (newlines kept), so clang's line and column numbers still point into the
//! user's text; only [`carry`], whose output is for later inputs, is tight.

use std::ops::Range;

use super::declaration::{read, Declaration, Declarator};
use super::lexer::Token;
use super::split::{code_tokens, DeclKind, Item, ItemKind};
use super::syntax::INLINE;

/// An initializer taken out of a variable declaration, to be assigned at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initializer {
    /// The variable the initializer belongs to.
    pub name: String,
    /// The initializer expression's exact text.
    pub text: String,
    /// 1-based line of the initializer in the input.
    pub line: u32,
    /// 1-based byte column of the initializer in the input.
    pub col: u32,
}

/// The item with its top-level `static` and `inline` blanked out (every REPL
/// definition is visible to later inputs), and a `;` appended to a
/// declaration that lacks one. Items other than declarations come back as they are.
pub fn strip_internal_linkage(item: &Item) -> String {
    let Some((toks, declaration)) = read_item(item, is_declaration) else {
        return item.text.clone();
    };
    let stripped = apply(
        &item.text,
        linkage_edits(&item.text, &toks, &declaration, None),
    );
    if item.kind == ItemKind::Declaration(DeclKind::FunctionDef) {
        stripped
    } else {
        with_semicolon(stripped, &toks)
    }
}

/// What later inputs must see of an item: for a function definition its
/// prototype (`int f(int x) { ... }` -> `int f(int x);`); for a variable
/// definition an `extern` declaration without initializers (`static int a = 1,
/// *b = &a;` -> `extern int a, *b;`; a struct defined along the way stays
/// defined: `extern struct p { int x; } p1;`); types, prototypes, static
/// assertions and directives as they are. `static` and `inline` are removed
/// as in [`strip_internal_linkage`]. Statements and expressions leave nothing.
///
/// An array whose bound comes from its initializer (`int a[] = {1, 2};`)
/// would be carried incomplete; [`carry_with_bounds`] fills the bound in.
pub fn carry(item: &Item) -> String {
    carry_with_bounds(item, &|_| None)
}

/// [`carry`], with the outer bound of each array declared with `[]` taken
/// from `bound` (by variable name; the compiled object knows it):
/// `int a[] = {1, 2};` -> `extern int a[2];`. Where `bound` says `None` the
/// bound stays empty.
pub fn carry_with_bounds(item: &Item, bound: &dyn Fn(&str) -> Option<u64>) -> String {
    match item.kind {
        ItemKind::Directive => item.text.clone(),
        ItemKind::Statement | ItemKind::Expression => String::new(),
        ItemKind::Declaration(DeclKind::FunctionDef) => prototype(item),
        ItemKind::Declaration(DeclKind::Variable) => extern_declaration(item, bound),
        ItemKind::Declaration(_) => strip_internal_linkage(item),
    }
}

/// The variables a declaration item defines as arrays with an empty outer
/// bound and an initializer (`a` in `int a[] = {1}, n, e[];`).
pub fn unsized_arrays(item: &Item) -> Vec<String> {
    let Some((toks, declaration)) = read_item(item, is_variable) else {
        return Vec::new();
    };
    declaration
        .declarators
        .iter()
        .filter(|d| d.assign.is_some())
        .filter_map(|d| empty_bound(&toks, d).map(|(name, _)| toks[name].text.to_string()))
        .collect()
}

/// Byte length of a function definition's header: the text before the
/// `{` of its body. `None` for other items.
pub fn function_header_len(item: &Item) -> Option<usize> {
    let (toks, declaration) = read_item(item, is_declaration)?;
    Some(toks[declaration.body?].offset)
}

/// Whether a declaration item defines a `const` object with an initializer
/// (`const int k = 5;`). clang folds such a value into code compiled in
/// the same translation unit, even where a later input redefines it.
pub fn defines_constant(item: &Item) -> bool {
    read_item(item, is_variable).is_some_and(|(_, declaration)| {
        declaration
            .declarators
            .iter()
            .any(|d| d.is_const && d.assign.is_some())
    })
}

/// The variables a declaration item defines tentatively: without an
/// initializer, `extern` or `typedef` (`n` and `buf` in `int n, buf[4];`).
/// Such a definition of a name that exists merges with it when the types
/// agree (C's rule for one translation unit).
pub fn tentative_names(item: &Item) -> Vec<String> {
    let Some((toks, declaration)) = read_item(item, is_variable) else {
        return Vec::new();
    };
    let specifiers = &toks[..declaration.specifiers_end.min(toks.len())];
    if declaration.is_typedef || specifiers.iter().any(|t| t.is("extern")) {
        return Vec::new();
    }
    declaration
        .declarators
        .iter()
        .filter(|d| d.assign.is_none() && !d.is_function)
        .filter_map(|d| Some(toks[d.name?].text.to_string()))
        .collect()
}

/// The item with ` = {0}` after each tentative definition ([`tentative_names`]),
/// making it a definition of a new, zeroed object. Other items come back as
/// they are.
pub fn zero_initialize_tentatives(item: &Item) -> String {
    if tentative_names(item).is_empty() {
        return item.text.clone();
    }
    let Some((toks, declaration)) = read_item(item, is_declaration) else {
        return item.text.clone();
    };
    let edits = declaration
        .declarators
        .iter()
        .filter(|d| d.assign.is_none() && !d.is_function && d.name.is_some())
        .filter_map(|d| {
            let last = d.tokens.end.checked_sub(1)?;
            let at = toks.get(last)?.end();
            Some(Edit {
                range: at..at,
                replacement: " = {0}".to_string(),
            })
        })
        .collect();
    apply(&item.text, edits)
}

/// The name and the `]` of a declarator `name[]`, if it has that form.
fn empty_bound(toks: &[Token], declarator: &Declarator) -> Option<(usize, usize)> {
    let name = declarator.name?;
    let open = toks.get(name + 1)?;
    let close = toks.get(name + 2)?;
    (open.is("[") && close.is("]")).then_some((name, name + 2))
}

/// For a variable declaration whose initializers are not compile-time
/// constants: the declaration without them (`static`/`inline` removed, as in
/// [`strip_internal_linkage`]), and each initializer with the variable it
/// belongs to, for the caller to assign in a function body. Brace initializers
/// and the initializers of arrays and of const objects stay in place (those
/// cannot be assigned; clang reports them if they are not constant). Items
/// other than variable declarations come back as they are, with no initializers.
pub fn split_initializers(item: &Item) -> (String, Vec<Initializer>) {
    let Some((toks, declaration)) = read_item(item, is_variable) else {
        return (item.text.clone(), Vec::new());
    };
    let mut edits = linkage_edits(&item.text, &toks, &declaration, None);
    let mut initializers = Vec::new();
    for declarator in &declaration.declarators {
        let Some((name, assign, init)) = assignable(&toks, declarator) else {
            continue;
        };
        let (first, last) = (&init[0], &init[init.len() - 1]);
        edits.push(blank(&item.text, toks[assign].offset..last.end()));
        let (line, col) = position_in_input(item, first);
        initializers.push(Initializer {
            name: toks[name].text.to_string(),
            text: item.text[first.offset..last.end()].to_string(),
            line,
            col,
        });
    }
    (
        with_semicolon(apply(&item.text, edits), &toks),
        initializers,
    )
}

fn is_variable(kind: ItemKind) -> bool {
    kind == ItemKind::Declaration(DeclKind::Variable)
}

fn is_declaration(kind: ItemKind) -> bool {
    matches!(kind, ItemKind::Declaration(_))
}

/// The item's tokens and declaration, if its kind passes `wanted`.
fn read_item(
    item: &Item,
    wanted: impl Fn(ItemKind) -> bool,
) -> Option<(Vec<Token<'_>>, Declaration)> {
    if !wanted(item.kind) {
        return None;
    }
    let toks = code_tokens(&item.text);
    let declaration = read(&toks);
    Some((toks, declaration))
}

/// A declarator's name, `=` and initializer tokens, if the initializer can become an assignment.
fn assignable<'t, 'a>(
    toks: &'t [Token<'a>],
    declarator: &super::declaration::Declarator,
) -> Option<(usize, usize, &'t [Token<'a>])> {
    let (name, assign) = (declarator.name?, declarator.assign?);
    let init = toks.get(declarator.initializer.clone())?;
    let assignable =
        !init.is_empty() && !init[0].is("{") && !declarator.is_array && !declarator.is_const;
    assignable.then_some((name, assign, init))
}

/// `int f(int x) { ... }` -> `int f(int x);`
fn prototype(item: &Item) -> String {
    let Some((toks, declaration)) = read_item(item, is_declaration) else {
        return item.text.clone();
    };
    let header_end = declaration
        .body
        .and_then(|body| body.checked_sub(1))
        .map(|last| toks[last].end());
    let Some(header_end) = header_end else {
        return strip_internal_linkage(item);
    };
    let mut edits = linkage_edits(&item.text, &toks, &declaration, None);
    edits.push(Edit {
        range: header_end..item.text.len(),
        replacement: ";".to_string(),
    });
    apply(&item.text, edits)
}

/// `static int a = 1, *b;` -> `extern int a, *b;`
fn extern_declaration(item: &Item, bound: &dyn Fn(&str) -> Option<u64>) -> String {
    let Some((toks, declaration)) = read_item(item, is_declaration) else {
        return item.text.clone();
    };
    let specifiers = &toks[..declaration.specifiers_end];
    let mut edits = linkage_edits(&item.text, &toks, &declaration, Some("extern"));
    if !specifiers.iter().any(|t| t.is_any(&["static", "extern"])) {
        // After C23 attributes, which must come first.
        let at = toks
            .get(super::syntax::skip_attributes(&toks, 0))
            .map_or(0, |t| t.offset);
        edits.push(Edit {
            range: at..at,
            replacement: "extern ".to_string(),
        });
    }
    for declarator in &declaration.declarators {
        let filled = empty_bound(&toks, declarator)
            .and_then(|(name, close)| Some((bound(toks[name].text)?, close)));
        if let Some((count, close)) = filled {
            let at = toks[close].offset;
            edits.push(Edit {
                range: at..at,
                replacement: count.to_string(),
            });
        }
        if let Some(assign) = declarator.assign {
            let last = declarator
                .initializer
                .end
                .checked_sub(1)
                .unwrap_or(assign)
                .max(assign);
            let start = assign
                .checked_sub(1)
                .map_or(toks[assign].offset, |p| toks[p].end());
            edits.push(remove_keeping_lines(&item.text, start..toks[last].end()));
        }
    }
    with_semicolon(apply(&item.text, edits), &toks)
}

/// Edits that remove `static` (blank, or `replace_static` of the same width) and `inline`.
fn linkage_edits(
    text: &str,
    toks: &[Token],
    declaration: &Declaration,
    replace_static: Option<&str>,
) -> Vec<Edit> {
    let specifiers = &toks[..declaration.specifiers_end.min(toks.len())];
    let mut edits = Vec::new();
    for token in specifiers {
        let range = token.offset..token.end();
        if token.is("static") {
            edits.push(match replace_static {
                Some(replacement) => Edit {
                    range,
                    replacement: replacement.to_string(),
                },
                None => blank(text, range),
            });
        } else if token.is_any(INLINE) {
            edits.push(blank(text, range));
        }
    }
    edits
}

/// The item's line and column of `token` (a token of the item's own text).
fn position_in_input(item: &Item, token: &Token) -> (u32, u32) {
    if token.line <= 1 {
        (
            item.line,
            item.col.saturating_add(token.col).saturating_sub(1),
        )
    } else {
        (item.line.saturating_add(token.line - 1), token.col)
    }
}

fn with_semicolon(mut text: String, toks: &[Token]) -> String {
    if !toks.last().is_some_and(|t| t.is(";")) {
        text.push(';');
    }
    text
}

/// Replace `range` of the text with `replacement`.
struct Edit {
    range: Range<usize>,
    replacement: String,
}

/// An edit that blanks `range`, keeping its newlines and byte length.
fn blank(text: &str, range: Range<usize>) -> Edit {
    let removed = text.get(range.clone()).unwrap_or("");
    let replacement = removed
        .bytes()
        .map(|b| if b == b'\n' { '\n' } else { ' ' })
        .collect();
    Edit { range, replacement }
}

/// An edit that removes `range`, keeping only its newlines.
fn remove_keeping_lines(text: &str, range: Range<usize>) -> Edit {
    let removed = text.get(range.clone()).unwrap_or("");
    let replacement = removed.chars().filter(|&c| c == '\n').collect();
    Edit { range, replacement }
}

/// Applies non-overlapping edits (an edit overlapping an earlier one is dropped).
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out = String::with_capacity(text.len() + 8);
    let mut at = 0;
    for edit in edits {
        if edit.range.start < at || edit.range.end > text.len() {
            continue;
        }
        out.push_str(text.get(at..edit.range.start).unwrap_or(""));
        out.push_str(&edit.replacement);
        at = edit.range.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::names::NoNames;
    use crate::input::split::split;

    fn item(text: &str) -> Item {
        let mut items = split(text, &NoNames);
        assert_eq!(items.len(), 1, "{text:?} gave {items:#?}");
        items.remove(0)
    }

    /// `text` with the last occurrence of `part` replaced by as many spaces.
    fn blank_last(text: &str, part: &str) -> String {
        let at = text.rfind(part).expect("part of the text");
        format!(
            "{}{}{}",
            &text[..at],
            " ".repeat(part.len()),
            &text[at + part.len()..]
        )
    }

    fn last_item(text: &str) -> Item {
        split(text, &NoNames).pop().expect("an item")
    }

    #[test]
    fn strip_blanks_static_and_inline_keeping_positions() {
        assert_eq!(
            strip_internal_linkage(&item("static inline int sq(int v) { return v * v; }")),
            "              int sq(int v) { return v * v; }"
        );
        assert_eq!(
            strip_internal_linkage(&item("static int n = 3;")),
            "       int n = 3;"
        );
        assert_eq!(
            strip_internal_linkage(&item("int static n;")),
            "int        n;"
        );
        assert_eq!(
            strip_internal_linkage(&item("__inline__ static\nvoid f(void) {}")),
            "                 \nvoid f(void) {}"
        );
    }

    #[test]
    fn strip_keeps_static_inside_function_bodies_and_parameters() {
        let text = "static int count(int a[static 3]) { static int calls; return ++calls; }";
        assert_eq!(
            strip_internal_linkage(&item(text)),
            "       int count(int a[static 3]) { static int calls; return ++calls; }"
        );
    }

    #[test]
    fn strip_leaves_statements_and_expressions_alone_and_terminates_declarations() {
        assert_eq!(
            strip_internal_linkage(&item("static_x = 1;")),
            "static_x = 1;"
        );
        assert_eq!(
            strip_internal_linkage(&last_item("x; inline_count")),
            "inline_count"
        );
        assert_eq!(
            strip_internal_linkage(&item("static int n")),
            "       int n;"
        );
    }

    #[test]
    fn carry_gives_a_prototype_for_a_function_definition() {
        assert_eq!(carry(&item("int f(int x) { return x; }")), "int f(int x);");
        assert_eq!(
            carry(&item(
                "static inline int\nsq(int v) // squares\n{\n  return v * v;\n}"
            )),
            "              int\nsq(int v);"
        );
        assert_eq!(
            carry(&item("int g(void) __attribute__((noinline)) { return 2; }")),
            "int g(void) __attribute__((noinline));"
        );
        assert_eq!(
            carry(&item(
                "struct pair { int a, b; } mk(void) { struct pair p = {1, 2}; return p; }"
            )),
            "struct pair { int a, b; } mk(void);"
        );
    }

    #[test]
    fn carry_gives_an_extern_declaration_without_initializers_for_a_variable() {
        assert_eq!(
            carry(&item("static int a = 1, *b = &a;")),
            "extern int a, *b;"
        );
        assert_eq!(carry(&item("int x = 2;")), "extern int x;");
        assert_eq!(carry(&item("int n;")), "extern int n;");
        assert_eq!(carry(&item("extern int e;")), "extern int e;");
        assert_eq!(
            carry(&item("const char *s = \"a, b; c\", t")),
            "extern const char *s, t;"
        );
        assert_eq!(
            carry(&item("int (*fp)(int) = f;")),
            "extern int (*fp)(int);"
        );
        assert_eq!(
            carry(&item("int m[2][2] = {{1, 2}, {3, 4}};")),
            "extern int m[2][2];"
        );
        assert_eq!(
            carry(&item(
                "unsigned long total __attribute__((aligned(8))) = 0;"
            )),
            "extern unsigned long total __attribute__((aligned(8)));"
        );
    }

    #[test]
    fn carry_fills_in_array_bounds_that_came_from_initializers() {
        let bound = |name: &str| match name {
            "a" => Some(3),
            "s" => Some(6),
            "m" => Some(2),
            _ => None,
        };
        let text = "static int a[] = {1, 2, 3}, n = 1, m[][2] = {{1}, {2}};";
        let carried = carry_with_bounds(&item(text), &bound);
        assert_eq!(carried, "extern int a[3], n, m[2][2];");
        assert_eq!(unsized_arrays(&item(text)), ["a", "m"]);
        let text = "char s[] = \"hello\";";
        assert_eq!(carry_with_bounds(&item(text), &bound), "extern char s[6];");
        // Unknown bounds, sized arrays and pointers are left as written.
        assert_eq!(
            carry_with_bounds(&item("int b[] = {1}, c[4], *d;"), &bound),
            "extern int b[], c[4], *d;"
        );
        assert_eq!(carry(&item("int a[] = {1, 2, 3};")), "extern int a[];");
        assert!(unsized_arrays(&item("int c[4], *d, (*p)[], e[];")).is_empty());
    }

    #[test]
    fn tentative_definitions_are_variables_without_initializers() {
        assert_eq!(
            tentative_names(&item("int n, m = 2, buf[4];")),
            ["n", "buf"]
        );
        assert!(tentative_names(&item("extern int e;")).is_empty());
        assert!(tentative_names(&item("typedef int T;")).is_empty());
        assert!(tentative_names(&item("int f(void);")).is_empty());
        assert_eq!(
            zero_initialize_tentatives(&item("static int n, m = 2, buf[4];")),
            "static int n = {0}, m = 2, buf[4] = {0};"
        );
        assert_eq!(
            zero_initialize_tentatives(&item("int x = 1;")),
            "int x = 1;"
        );
    }

    #[test]
    fn constants_are_const_objects_with_initializers() {
        assert!(defines_constant(&item("const int k = 5;")));
        assert!(!defines_constant(&item("int a = 1;")));
        assert!(defines_constant(&item("char *const p = 0, q;")));
        assert!(!defines_constant(&item("const char *s = \"x\";")));
        assert!(!defines_constant(&item("extern const int e;")));
        assert!(!defines_constant(&item("int f(const int x) { return x; }")));
    }

    #[test]
    fn carry_keeps_the_lines_of_a_multi_line_initializer() {
        assert_eq!(
            carry(&item("int a = f(1,\n  2),\n    b = 3;")),
            "extern int a\n,\n    b;"
        );
    }

    #[test]
    fn carry_keeps_a_struct_defined_with_its_variables() {
        assert_eq!(
            carry(&item("struct point { int x, y; } p1 = {1, 2};")),
            "extern struct point { int x, y; } p1;"
        );
        assert_eq!(
            carry(&item("static struct { int k; } anon = { 3 };")),
            "extern struct { int k; } anon;"
        );
    }

    #[test]
    fn carry_keeps_types_prototypes_asserts_and_directives_verbatim() {
        for text in [
            "typedef struct node { struct node *next; } node_t;",
            "struct later;",
            "enum color { RED, GREEN };",
            "int f(int);",
            "_Static_assert(sizeof(int) == 4, \"int\");",
            "#define MAX 10",
        ] {
            assert_eq!(carry(&item(text)), text);
        }
        assert_eq!(
            carry(&item("static int helper(void);")),
            "       int helper(void);"
        );
        assert_eq!(carry(&item("typedef int T")), "typedef int T;");
    }

    #[test]
    fn carry_of_statements_and_expressions_is_empty() {
        assert_eq!(carry(&item("x = 1;")), "");
        assert_eq!(carry(&item("for (;;) break;")), "");
        assert_eq!(carry(&item("x + 1")), "");
    }

    #[test]
    fn split_initializers_blanks_them_and_reports_where_they_were() {
        let original = "int a = f(), *b = &a;";
        let (declaration, inits) = split_initializers(&item(original));
        assert_eq!(
            declaration,
            blank_last(&blank_last(original, "= &a"), "= f()")
        );
        assert_eq!(
            inits,
            [
                Initializer {
                    name: "a".into(),
                    text: "f()".into(),
                    line: 1,
                    col: 9
                },
                Initializer {
                    name: "b".into(),
                    text: "&a".into(),
                    line: 1,
                    col: 19
                },
            ]
        );
    }

    #[test]
    fn split_initializer_positions_are_in_the_input_not_the_item() {
        let items = split("x = 1;\n  static int n =\n     g(x) + 1, m = 2;", &NoNames);
        let (declaration, inits) = split_initializers(&items[1]);
        assert_eq!(declaration, "       int n  \n             , m    ;");
        let at: Vec<_> = inits
            .iter()
            .map(|i| (i.name.as_str(), i.text.as_str(), i.line, i.col))
            .collect();
        assert_eq!(at, [("n", "g(x) + 1", 3, 6), ("m", "2", 3, 20)]);
    }

    #[test]
    fn split_initializers_leaves_brace_and_array_initializers() {
        let (declaration, inits) = split_initializers(&item("int a[] = {1, 2}, n = len(a);"));
        assert_eq!(declaration, "int a[] = {1, 2}, n         ;");
        assert_eq!(inits.len(), 1);
        assert_eq!(inits[0].name, "n");
        let (same, none) = split_initializers(&item("char s[] = \"x\", *t = s;"));
        assert_eq!(same, "char s[] = \"x\", *t    ;");
        assert_eq!(none[0].name, "t");
        let (braced, nothing) = split_initializers(&item("struct p q = { f() };"));
        assert_eq!(
            (braced.as_str(), nothing.len()),
            ("struct p q = { f() };", 0)
        );
    }

    #[test]
    fn split_initializers_leaves_const_objects_but_not_pointers_to_const() {
        let original = "const char *s = f(), c = g(), *const p = s;";
        let (declaration, inits) = split_initializers(&item(original));
        assert_eq!(declaration, blank_last(original, "= f()"));
        assert_eq!(inits.len(), 1);
        assert_eq!(inits[0].name, "s");
        let original = "int (*const fp)(int) = pick(), (*fq)(int) = pick();";
        let (pointer, to_const) = split_initializers(&item(original));
        assert_eq!(pointer, blank_last(original, "= pick()"));
        assert_eq!(to_const[0].name, "fq");
    }

    #[test]
    fn split_initializers_ignores_other_items() {
        let function = item("int f(void) { int a = g(); return a; }");
        assert_eq!(
            split_initializers(&function),
            (function.text.clone(), vec![])
        );
        let statement = item("a = g();");
        assert_eq!(
            split_initializers(&statement),
            (statement.text.clone(), vec![])
        );
    }

    #[test]
    fn split_initializers_terminates_and_strips_linkage() {
        let (declaration, inits) = split_initializers(&item("static long t = now()"));
        assert_eq!(declaration, "       long t        ;");
        assert_eq!(inits[0].text, "now()");
    }
}
