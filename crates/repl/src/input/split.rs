//! Splits one input into top-level items and classifies each one.

use super::declaration::{declared_names, read};
use super::lexer::{tokens, Token, TokenKind};
use super::names::{NameKind, Names, Scope};
use super::scan::{next_span, Ending, Span};
use super::syntax::{is_identifier, STATEMENT_KEYWORDS, STATIC_ASSERT};

/// One top-level item of an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What the item is.
    pub kind: ItemKind,
    /// Exact source text, from its first token to its last (its `;` included).
    /// Comments inside it are kept; comments around it are not.
    pub text: String,
    /// 1-based line in the input where the item starts.
    pub line: u32,
    /// 1-based byte column in the input where the item starts.
    pub col: u32,
    /// Names the item declares (functions, variables, typedefs,
    /// struct/union/enum tags of types it defines, enumerators), in order.
    pub names: Vec<String>,
}

/// What kind of item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// A whole preprocessor line (`#include`, `#define`, ...) with its continuation lines.
    Directive,
    /// A declaration (file-scope material).
    Declaration(DeclKind),
    /// Something to run once inside a function body: an expression statement,
    /// a control statement, a block, `return`, a label...
    Statement,
    /// The final item of an input when it has no `;` and is not a block,
    /// declaration or other statement: its value is wanted.
    Expression,
}

/// What kind of declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclKind {
    /// A function with its body.
    FunctionDef,
    /// Function declarations only, no body.
    Prototype,
    /// Objects (variables, function pointers, arrays...), with or without initializers.
    Variable,
    /// A typedef, or a struct/union/enum definition or forward declaration without declarators.
    Type,
    /// `_Static_assert(...)` / `static_assert(...)`.
    StaticAssert,
}

/// Splits an input into its top-level items, in order.
///
/// `names` tells declarations from expressions where the text alone cannot
/// (`T * x;`); names declared by earlier items of the same input are known
/// to later ones. Comments and empty statements (`;`) are not items.
pub fn split(text: &str, names: &dyn Names) -> Vec<Item> {
    let code = code_tokens(text);
    analyse(&code, names)
        .into_iter()
        .map(|analysed| analysed.into_item(text, &code))
        .collect()
}

/// The names a declaration item declares, each with what it becomes
/// (tags as [`NameKind::Unknown`]: they are not ordinary identifiers).
/// Other items declare nothing.
pub fn declared_kinds(item: &Item) -> Vec<(String, NameKind)> {
    if !matches!(item.kind, ItemKind::Declaration(_)) {
        return Vec::new();
    }
    let toks = code_tokens(&item.text);
    if toks.is_empty() || toks[0].is_any(STATIC_ASSERT) {
        return Vec::new();
    }
    declared_names(&toks, &read(&toks))
}

/// The tokens of `text` without comments.
pub(crate) fn code_tokens(text: &str) -> Vec<Token<'_>> {
    let mut toks = tokens(text);
    toks.retain(|t| t.kind != TokenKind::Comment);
    toks
}

/// An item found by [`analyse`]: its span of tokens, kind and declared names.
pub(crate) struct Analysed {
    pub span: Span,
    pub kind: ItemKind,
    pub names: Vec<String>,
}

impl Analysed {
    fn into_item(self, text: &str, code: &[Token]) -> Item {
        let first = &code[self.span.start];
        let last = &code[self.span.end - 1];
        Item {
            kind: self.kind,
            text: text.get(first.offset..last.end()).unwrap_or("").to_string(),
            line: first.line,
            col: first.col,
            names: self.names,
        }
    }
}

/// Finds and classifies the items of `code` (tokens without comments).
pub(crate) fn analyse(code: &[Token], names: &dyn Names) -> Vec<Analysed> {
    let mut scope = Scope::new(names);
    let mut out = Vec::new();
    let mut i = 0;
    while i < code.len() {
        if code[i].is(";") {
            i += 1;
            continue;
        }
        let span = next_span(code, i, &scope);
        let (kind, declared) = classify(&code[span.start..span.end], &span);
        for (name, name_kind) in &declared {
            scope.learn(name, *name_kind);
        }
        let names = declared.into_iter().map(|(name, _)| name).collect();
        out.push(Analysed { span, kind, names });
        i = span.end.max(i + 1);
    }
    out
}

/// The kind of an item and the names it declares.
fn classify(toks: &[Token], span: &Span) -> (ItemKind, Vec<(String, NameKind)>) {
    if span.ending == Ending::Directive {
        return (ItemKind::Directive, Vec::new());
    }
    if span.declaration {
        if toks[0].is_any(STATIC_ASSERT) {
            return (ItemKind::Declaration(DeclKind::StaticAssert), Vec::new());
        }
        let declaration = read(toks);
        let kind = declaration_kind(&declaration, span.ending);
        return (
            ItemKind::Declaration(kind),
            declared_names(toks, &declaration),
        );
    }
    if span.ending == Ending::EndOfInput && !starts_statement(toks) {
        return (ItemKind::Expression, Vec::new());
    }
    (ItemKind::Statement, Vec::new())
}

fn declaration_kind(declaration: &super::declaration::Declaration, ending: Ending) -> DeclKind {
    let unfinished_body = ending == Ending::EndOfInput && declaration.body.is_some();
    if ending == Ending::FunctionBody || unfinished_body {
        DeclKind::FunctionDef
    } else if declaration.is_typedef || declaration.declarators.is_empty() {
        DeclKind::Type
    } else if declaration.declarators.iter().all(|d| d.is_function) {
        DeclKind::Prototype
    } else {
        DeclKind::Variable
    }
}

/// Whether an item starts like a statement that is not an expression:
/// a statement keyword, a block, or a label.
fn starts_statement(toks: &[Token]) -> bool {
    let label = toks.len() > 1 && is_identifier(&toks[0]) && toks[1].is(":");
    label || toks[0].is("{") || toks[0].is_any(STATEMENT_KEYWORDS)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::DeclKind::*;
    use super::ItemKind::{Declaration, Directive, Expression, Statement};
    use super::*;
    use crate::input::names::NoNames;

    fn items(text: &str) -> Vec<(ItemKind, String)> {
        split(text, &NoNames)
            .into_iter()
            .map(|i| (i.kind, i.text))
            .collect()
    }

    fn only(text: &str) -> Item {
        let mut all = split(text, &NoNames);
        assert_eq!(all.len(), 1, "{text:?} gave {all:#?}");
        all.remove(0)
    }

    fn known(pairs: &[(&str, NameKind)]) -> HashMap<String, NameKind> {
        pairs.iter().map(|&(n, k)| (n.to_string(), k)).collect()
    }

    fn own(pairs: &[(ItemKind, &str)]) -> Vec<(ItemKind, String)> {
        pairs.iter().map(|&(k, t)| (k, t.to_string())).collect()
    }

    #[test]
    fn declaration_statement_and_final_expression() {
        assert_eq!(
            items("int x = 2; x *= 3; x + 1"),
            own(&[
                (Declaration(Variable), "int x = 2;"),
                (Statement, "x *= 3;"),
                (Expression, "x + 1"),
            ])
        );
    }

    #[test]
    fn function_definition_over_several_lines_with_brace_on_its_own_line() {
        let text = "int\nadd(int a,\n    int b)\n{\n  return a + b;\n}\nadd(1, 2)";
        let all = split(text, &NoNames);
        assert_eq!(all[0].kind, Declaration(FunctionDef));
        assert_eq!(
            all[0].text,
            "int\nadd(int a,\n    int b)\n{\n  return a + b;\n}"
        );
        assert_eq!(all[0].names, ["add"]);
        assert_eq!((all[1].kind, all[1].line, all[1].col), (Expression, 7, 1));
    }

    #[test]
    fn k_and_r_brace_placement_and_a_function_returning_a_pointer() {
        let all = items("char *dup(const char *s) {\n  return 0;\n}\nstatic int n;");
        assert_eq!(all[0].0, Declaration(FunctionDef));
        assert_eq!(all[1], (Declaration(Variable), "static int n;".to_string()));
    }

    #[test]
    fn a_function_body_with_nested_blocks_and_braces_in_literals_ends_at_its_own_brace() {
        let text = "void f(void) { if (1) { puts(\"}\"); } char c = '}'; /* } */ } f();";
        let all = items(text);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, Declaration(FunctionDef));
        assert!(all[0].1.ends_with("/* } */ }"));
        assert_eq!(all[1], (Statement, "f();".to_string()));
    }

    #[test]
    fn control_statements_end_at_their_block() {
        assert_eq!(
            items("for (int i = 0; i < 3; i++) { s += i; }\nwhile (n) { n--; } switch (k) { case 1: break; default: k = 0; } s"),
            own(&[
                (Statement, "for (int i = 0; i < 3; i++) { s += i; }"),
                (Statement, "while (n) { n--; }"),
                (Statement, "switch (k) { case 1: break; default: k = 0; }"),
                (Expression, "s"),
            ])
        );
    }

    #[test]
    fn do_while_ends_at_its_semicolon() {
        assert_eq!(
            items("do { x++; } while (x < 3); do x--; while (x); x"),
            own(&[
                (Statement, "do { x++; } while (x < 3);"),
                (Statement, "do x--; while (x);"),
                (Expression, "x"),
            ])
        );
    }

    #[test]
    fn do_while_0_and_a_while_loop_inside_a_do_body() {
        assert_eq!(
            items("do { while (a) a--; } while (0); b"),
            own(&[
                (Statement, "do { while (a) a--; } while (0);"),
                (Expression, "b")
            ])
        );
    }

    #[test]
    fn if_else_chains_stay_one_statement() {
        assert_eq!(
            items("if (a) b = 1; else { b = 2; }\nif (a) {\n} else if (b) {\n} else c();\nd;"),
            own(&[
                (Statement, "if (a) b = 1; else { b = 2; }"),
                (Statement, "if (a) {\n} else if (b) {\n} else c();"),
                (Statement, "d;"),
            ])
        );
    }

    #[test]
    fn a_compound_literal_in_an_if_body_does_not_end_the_statement() {
        assert_eq!(
            items("if (x) p = (struct pt){1, 2}; q"),
            own(&[
                (Statement, "if (x) p = (struct pt){1, 2};"),
                (Expression, "q")
            ])
        );
    }

    #[test]
    fn a_bare_block_is_a_statement() {
        assert_eq!(
            items("{ int t = a; a = b; b = t; } a"),
            own(&[
                (Statement, "{ int t = a; a = b; b = t; }"),
                (Expression, "a")
            ])
        );
    }

    #[test]
    fn struct_bodies_and_initializer_braces_do_not_end_items() {
        assert_eq!(
            items("struct point { int x, y; } p1 = { .x = 1, .y = 2 }; int a[] = {1, 2, 3}; p1.x"),
            own(&[
                (
                    Declaration(Variable),
                    "struct point { int x, y; } p1 = { .x = 1, .y = 2 };"
                ),
                (Declaration(Variable), "int a[] = {1, 2, 3};"),
                (Expression, "p1.x"),
            ])
        );
    }

    #[test]
    fn struct_definition_names_tag_and_declarators() {
        let item = only("struct point { int x, y; } p1, *pp;");
        assert_eq!(item.kind, Declaration(Variable));
        assert_eq!(item.names, ["point", "p1", "pp"]);
    }

    #[test]
    fn nested_struct_definitions_put_their_tags_and_enumerators_in_file_scope() {
        let item = only(
            "struct outer {\n  struct inner { int a; } in;\n  enum mode { OFF, ON = 3 } m;\n};",
        );
        assert_eq!(item.kind, Declaration(Type));
        assert_eq!(item.names, ["outer", "inner", "mode", "OFF", "ON"]);
    }

    #[test]
    fn types_typedefs_and_forward_declarations() {
        let cases: &[(&str, &[&str])] = &[
            ("typedef struct { int x; } pt;", &["pt"]),
            (
                "typedef struct node { struct node *next; } node_t, *node_p;",
                &["node", "node_t", "node_p"],
            ),
            ("typedef int (*callback)(void *arg);", &["callback"]),
            ("typedef unsigned long long u64;", &["u64"]),
            ("struct later;", &["later"]),
            ("union u { int i; float f; };", &["u"]),
            (
                "enum color { RED, GREEN = 2, BLUE, };",
                &["color", "RED", "GREEN", "BLUE"],
            ),
            (
                "enum { ANON_A = 1 << 2, ANON_B = (1, 2) };",
                &["ANON_A", "ANON_B"],
            ),
        ];
        for (text, names) in cases {
            let item = only(text);
            assert_eq!(item.kind, Declaration(Type), "{text}");
            assert_eq!(item.names, *names, "{text}");
        }
    }

    #[test]
    fn a_struct_used_but_not_defined_does_not_declare_its_tag() {
        assert_eq!(only("struct point p2;").names, ["p2"]);
        assert_eq!(only("struct point *make(int x);").names, ["make"]);
    }

    #[test]
    fn variable_declarators_and_their_names() {
        let cases: &[(&str, &[&str])] = &[
            ("int a = 1, *b, c[3];", &["a", "b", "c"]),
            ("int (*fp)(int) = f;", &["fp"]),
            ("void (*handlers[4])(int sig);", &["handlers"]),
            ("char *const names[] = { \"a\", \"b\" };", &["names"]),
            (
                "unsigned long total __attribute__((aligned(8))) = 0;",
                &["total"],
            ),
            ("_Alignas(16) char buf[64];", &["buf"]),
            ("const volatile int *restrict q;", &["q"]),
            ("__thread int tls;", &["tls"]),
            ("typeof(x) y = x;", &["y"]),
            ("int (*getfn(void))(int), z;", &["getfn", "z"]),
        ];
        for (text, names) in cases {
            let item = only(text);
            assert_eq!(item.kind, Declaration(Variable), "{text}");
            assert_eq!(item.names, *names, "{text}");
        }
    }

    #[test]
    fn prototypes_against_function_pointer_variables() {
        let cases: &[(&str, DeclKind, &[&str])] = &[
            ("int f(int x);", Prototype, &["f"]),
            ("extern void g(void), h(int);", Prototype, &["g", "h"]),
            ("static inline int sq(int);", Prototype, &["sq"]),
            ("int (*getfn(void))(int);", Prototype, &["getfn"]),
            (
                "_Noreturn void die(const char *fmt, ...);",
                Prototype,
                &["die"],
            ),
            ("int (*fp)(int) = f;", Variable, &["fp"]),
            ("int (*fp2)(int);", Variable, &["fp2"]),
        ];
        for (text, kind, names) in cases {
            let item = only(text);
            assert_eq!(item.kind, Declaration(*kind), "{text}");
            assert_eq!(item.names, *names, "{text}");
        }
    }

    #[test]
    fn static_asserts() {
        for text in [
            "_Static_assert(sizeof(int) == 4, \"int\");",
            "static_assert(1)",
        ] {
            let item = only(text);
            assert_eq!(item.kind, Declaration(StaticAssert), "{text}");
            assert!(item.names.is_empty());
        }
    }

    #[test]
    fn casts_sizeof_and_compound_literals_are_expressions() {
        for text in [
            "(int)x",
            "sizeof(int)",
            "(struct p){1, 2}.x",
            "(int[]){1, 2, 3}[1]",
            "-x",
            "*p",
            "printf(\"%d;\\n\", 1)",
            "\"abc\"",
            "'}'",
            "x = 3",
        ] {
            assert_eq!(only(text).kind, Expression, "{text}");
        }
    }

    #[test]
    fn statements_without_semicolon_at_the_end_are_not_expressions() {
        for text in [
            "return 3",
            "break",
            "goto out",
            "out: x++",
            "{ x++; }",
            "do {} while (0)",
        ] {
            assert_eq!(only(text).kind, Statement, "{text}");
        }
    }

    #[test]
    fn the_last_declaration_may_lack_its_semicolon() {
        let item = only("int x = 3");
        assert_eq!(
            (item.kind, item.names),
            (Declaration(Variable), vec!["x".to_string()])
        );
        assert_eq!(only("struct s { int a; }").kind, Declaration(Type));
    }

    #[test]
    fn multiplication_or_pointer_declaration_depends_on_the_names() {
        let variables = known(&[("x", NameKind::Variable), ("f", NameKind::Function)]);
        let x_times_y = split("x * y;", &variables);
        assert_eq!(x_times_y[0].kind, Statement);
        assert_eq!(split("f * y", &variables)[0].kind, Expression);
        let typedefs = known(&[("T", NameKind::Typedef)]);
        let t_pointer = split("T * y;", &typedefs);
        assert_eq!(
            (t_pointer[0].kind, &t_pointer[0].names),
            (Declaration(Variable), &vec!["y".to_string()])
        );
        assert_eq!(split("T * y;", &NoNames)[0].kind, Declaration(Variable));
        assert_eq!(
            split("T ** const y;", &NoNames)[0].kind,
            Declaration(Variable)
        );
    }

    #[test]
    fn two_names_in_a_row_declare_and_known_typedefs_declare_alone() {
        assert_eq!(only("T x;").kind, Declaration(Variable));
        assert_eq!(
            only("T f(T a) { return a; }").kind,
            Declaration(FunctionDef)
        );
        assert_eq!(only("size_t n = 0;").kind, Declaration(Variable));
        assert_eq!(only("uint8_t (*bytes)[4];").kind, Declaration(Variable));
        assert_eq!(only("bool ok").kind, Declaration(Variable));
        assert_eq!(only("x;").kind, Statement);
        assert_eq!(only("f(x);").kind, Statement);
    }

    #[test]
    fn the_session_can_override_a_standard_typedef() {
        let shadowed = known(&[("size_t", NameKind::Variable)]);
        assert_eq!(split("size_t * 2", &shadowed)[0].kind, Expression);
    }

    #[test]
    fn names_declared_earlier_in_the_same_input_are_known_later() {
        assert_eq!(
            items("int x = 2; x * y; typedef int T; T * p;"),
            own(&[
                (Declaration(Variable), "int x = 2;"),
                (Statement, "x * y;"),
                (Declaration(Type), "typedef int T;"),
                (Declaration(Variable), "T * p;"),
            ])
        );
        assert_eq!(items("enum { K = 2 }; K * k")[1].0, Expression);
    }

    #[test]
    fn directives_are_items_of_their_own_with_continuation_lines() {
        let text =
            "#include <stdio.h>\n#define SQ(x) \\\n  ((x) * (x))\nint y = SQ(3);\n# pragma once\ny";
        let all = split(text, &NoNames);
        let summary: Vec<_> = all
            .iter()
            .map(|i| (i.kind, i.text.as_str(), i.line))
            .collect();
        assert_eq!(
            summary,
            [
                (Directive, "#include <stdio.h>", 1),
                (Directive, "#define SQ(x) \\\n  ((x) * (x))", 2),
                (Declaration(Variable), "int y = SQ(3);", 4),
                (Directive, "# pragma once", 5),
                (Expression, "y", 6),
            ]
        );
    }

    #[test]
    fn a_directive_inside_a_function_body_stays_in_the_body() {
        let text = "int f(void) {\n#ifdef X\n  return 1;\n#endif\n  return 0;\n}";
        assert_eq!(items(text), own(&[(Declaration(FunctionDef), text)]));
    }

    #[test]
    fn comments_are_not_items_but_stay_inside_items() {
        assert!(split("/* nothing */ // here\n", &NoNames).is_empty());
        assert!(split("  \n\t", &NoNames).is_empty());
        assert_eq!(
            items("// lead\nint /* in; } */ x = 1; /* between */ x // trailing"),
            own(&[
                (Declaration(Variable), "int /* in; } */ x = 1;"),
                (Expression, "x")
            ])
        );
    }

    #[test]
    fn empty_statements_are_dropped() {
        assert_eq!(
            items(";; int f(void) { return 1; }; f()"),
            own(&[
                (Declaration(FunctionDef), "int f(void) { return 1; }"),
                (Expression, "f()")
            ])
        );
    }

    #[test]
    fn item_positions_are_where_they_start_in_the_input() {
        let all = split("int a;\n  a = 1;  /* x */ a", &NoNames);
        let positions: Vec<_> = all.iter().map(|i| (i.line, i.col)).collect();
        assert_eq!(positions, [(1, 1), (2, 3), (2, 19)]);
    }

    #[test]
    fn attributes_before_a_struct_body_or_a_function_body() {
        assert_eq!(
            items("struct __attribute__((packed)) hdr { char c; int i; } h;\nint g(void) __attribute__((noinline)) { return 2; } g()"),
            own(&[
                (Declaration(Variable), "struct __attribute__((packed)) hdr { char c; int i; } h;"),
                (Declaration(FunctionDef), "int g(void) __attribute__((noinline)) { return 2; }"),
                (Expression, "g()"),
            ])
        );
    }

    #[test]
    fn a_function_definition_returning_a_struct_defined_in_place() {
        let item = only("struct pair { int a, b; } mk(void) { struct pair p = {1, 2}; return p; }");
        assert_eq!(item.kind, Declaration(FunctionDef));
        assert_eq!(item.names, ["pair", "mk"]);
    }

    #[test]
    fn unbalanced_input_gives_items_without_panicking() {
        assert_eq!(
            items("int f(void) {"),
            own(&[(Declaration(FunctionDef), "int f(void) {")])
        );
        assert_eq!(items("x = (1;"), own(&[(Expression, "x = (1;")]));
        assert_eq!(items("} x;"), own(&[(Statement, "} x;")]));
        // A closer that does not match is ignored: the rest stays in one item.
        assert_eq!(
            items("int f(void) { g( } x; } y;"),
            own(&[(Declaration(FunctionDef), "int f(void) { g( } x; } y;")])
        );
    }
}
