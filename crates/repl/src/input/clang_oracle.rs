//! clang-19 as an independent oracle: the names and kinds of declarations
//! must match clang's AST, and every rewrite must still be C that clang
//! accepts, in the places the REPL puts it.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::*;

const CLANG: &str = "clang-19";

/// Declarations every case may use.
const PRELUDE: &str = "typedef int T;\n\
    typedef __SIZE_TYPE__ size_t;\n\
    typedef unsigned char uint8_t;\n\
    int g(void);\n\
    int h(int);\n\
    int gv;\n\
    struct known { int k; };\n";
const PRELUDE_NAMES: &[&str] = &["T", "size_t", "uint8_t", "g", "h", "gv", "known"];

/// Declaration-only inputs (one REPL input each; names unique within each).
const DECLARATION_INPUTS: &[&str] = &[
    "int x = 2;",
    "static int a = 1, *b = &a, c[3];",
    "int f(int x) { return x + 1; }",
    "static inline int\nsq(int v)\n{\n  return v * v;\n}",
    "int proto(int), proto2(void);",
    "int (*fp)(int) = h;",
    "void (*handlers[4])(int sig);",
    "int (*getfn(void))(int);",
    "int (*getfn2(void))(int) { return h; }",
    "struct point { int x, y; } p1 = {1, 2}, *pp = &p1;",
    "struct outer {\n  struct inner { int a; } in;\n  enum mode { OFF, ON = 3 } m;\n} o;",
    "typedef struct { int x; } pt;\npt q = { 4 };",
    "typedef struct node { struct node *next; } node_t, *node_p;",
    "typedef int (*callback)(void *arg);",
    "enum color { RED, GREEN = 2, BLUE, };",
    "enum { ANON_A = 1 << 2, ANON_B };",
    "union u { int i; char c[4]; } uu;",
    "_Static_assert(sizeof(int) == 4, \"int\");",
    "const char *s = \"a; { // \\\" }\", t = '}';",
    "char msg[] = \"x\", q2 = '\\'';",
    "unsigned long total __attribute__((aligned(8))) = 0;",
    "_Alignas(16) char buf[64];",
    "T tv = 3; T *tp = &tv;",
    "size_t n = sizeof(int);",
    "uint8_t (*bytes)[4];",
    "struct known kv = { 1 }, *kp;",
    "struct pair { int a, b; } mk(void) { struct pair p = {1, 2}; return p; }",
    "struct __attribute__((packed)) hdr { char c; int i; } hd;",
    "int noinl(void) __attribute__((noinline)) { return 2; }",
    "typedef int I; I iv = 1; I *ip = &iv; I ifn(I a) { return a; }",
    "int m[2][2] = {{1, 2}, {3, 4}};",
    "long big = 1L << 40, other = 3 * 4;",
    "int later_use = 1;\nint /* comment; } */ cm = 2; // trailing\nint z",
    "struct point2 { int x; } mkp(int x)\n{\n  struct point2 p = { x };\n  return p;\n}",
];

/// Inputs that mix declarations, statements and a final expression.
const MIXED_INPUTS: &[&str] = &[
    "int x = 2; x *= 3; x + 1",
    "int s = 0;\nfor (int i = 0; i < 3; i++) {\n  s += i;\n}\ns",
    "int n = 5; do { n--; } while (n > 0); n",
    "int v = 0; do v++; while (v < 3); if (v) v = 1; else { v = 2; } v",
    "int k = 1;\nswitch (k) { case 1: k = 10; break; default: k = 0; }\nk",
    "struct p { int x, y; }; (struct p){1, 2}.x",
    "int arr[3] = {1, 2, 3}; (int[]){4, 5}[1] + arr[2]",
    "T a = 1; T *b = &a; a * *b",
    "int aa = 2, bb = 3; aa * bb",
    "{ int t = gv; gv = t + 1; } gv",
    "int acc = 0; int add(int d) { acc += d; return acc; } add(2); add(3)",
    "#define TWICE(x) \\\n  ((x) * 2)\nint tw = TWICE(3); tw",
    "char c = '}'; const char *str = \"};{\"; c + str[0]",
    "typedef struct { int q; } Q; Q qq = { 7 }; Q *qp = &qq; qp->q",
    "int lbl = 0; if (lbl) goto out; lbl = 1; out: lbl = 2; lbl",
    "sizeof(int)",
    "(long)gv << 3",
    "enum dir { UP, DOWN }; enum dir d = DOWN; d == DOWN",
    "static int counter; counter++; counter",
    "int r = g(); r",
    "int w = g(), w2 = h(gv) + 1; const int cw = 3, *pw = &cw; w + w2 + *pw",
];

/// Panics with the standard message when clang-19 cannot run.
fn require_clang() {
    let found = Command::new(CLANG)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "clang-19 not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19`"
    );
}

/// Runs clang on `source` with `extra` arguments; stdout on success, stderr as the error.
fn run_clang(source: &str, extra: &[&str]) -> Result<String, String> {
    require_clang();
    let mut child = Command::new(CLANG)
        .args([
            "-target",
            "bpf",
            "-fsyntax-only",
            "-Werror=incompatible-pointer-types",
        ])
        .args(extra)
        .args(["-x", "c", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{}\n--- source ---\n{source}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn compiles(source: &str) {
    if let Err(error) = run_clang(source, &[]) {
        panic!("clang rejected a rewrite:\n{error}");
    }
}

/// What clang says a file-scope name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClangKind {
    FunctionDef,
    Prototype,
    Variable,
    Typedef,
    Tag,
    Enumerator,
}

/// The names clang's AST declares at file scope (nested tags and enumerators
/// included), and how many static assertions it holds.
fn clang_declarations(source: &str) -> (Vec<(String, ClangKind)>, usize) {
    let json = run_clang(source, &["-Xclang", "-ast-dump=json"]).unwrap_or_else(|e| panic!("{e}"));
    let root: Value = serde_json::from_str(&json).expect("clang's JSON");
    let (mut names, mut asserts) = (Vec::new(), 0);
    for decl in children(&root) {
        collect(decl, &mut names, &mut asserts);
    }
    names.retain(|(name, _)| !PRELUDE_NAMES.contains(&name.as_str()));
    (names, asserts)
}

fn children(node: &Value) -> impl Iterator<Item = &Value> {
    node["inner"].as_array().into_iter().flatten()
}

fn collect(decl: &Value, names: &mut Vec<(String, ClangKind)>, asserts: &mut usize) {
    if decl["isImplicit"].as_bool() == Some(true) {
        return;
    }
    let name = decl["name"].as_str().map(str::to_string);
    let has_body = children(decl).any(|c| c["kind"] == "CompoundStmt");
    let kind = match decl["kind"].as_str().unwrap_or("") {
        "FunctionDecl" if has_body => Some(ClangKind::FunctionDef),
        "FunctionDecl" => Some(ClangKind::Prototype),
        "VarDecl" => Some(ClangKind::Variable),
        "TypedefDecl" => Some(ClangKind::Typedef),
        "RecordDecl" if decl["completeDefinition"].as_bool() == Some(true) => Some(ClangKind::Tag),
        "EnumDecl" => Some(ClangKind::Tag),
        "EnumConstantDecl" => Some(ClangKind::Enumerator),
        "StaticAssertDecl" => {
            *asserts += 1;
            None
        }
        _ => None,
    };
    if let (Some(name), Some(kind)) = (name, kind) {
        names.push((name, kind));
    }
    if matches!(decl["kind"].as_str(), Some("RecordDecl" | "EnumDecl")) {
        for child in children(decl) {
            collect(child, names, asserts);
        }
    }
}

fn prelude_names() -> HashMap<String, NameKind> {
    [
        ("T", NameKind::Typedef),
        ("g", NameKind::Function),
        ("h", NameKind::Function),
        ("gv", NameKind::Variable),
    ]
    .into_iter()
    .map(|(n, k)| (n.to_string(), k))
    .collect()
}

/// The declaration kind clang's kinds of an item's names imply.
fn expected_kind(kinds: &[ClangKind]) -> DeclKind {
    let has = |k| kinds.contains(&k);
    if has(ClangKind::FunctionDef) {
        DeclKind::FunctionDef
    } else if has(ClangKind::Variable) {
        DeclKind::Variable
    } else if has(ClangKind::Prototype) {
        DeclKind::Prototype
    } else if kinds.is_empty() {
        DeclKind::StaticAssert
    } else {
        DeclKind::Type
    }
}

#[test]
fn declared_names_and_kinds_match_clangs_ast() {
    for input in DECLARATION_INPUTS {
        let items = split(input, &prelude_names());
        let (clang, asserts) = clang_declarations(&format!("{PRELUDE}{input};"));
        let clang_kind: HashMap<&str, ClangKind> =
            clang.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        let mut ours: Vec<&str> = items
            .iter()
            .flat_map(|i| i.names.iter().map(String::as_str))
            .collect();
        let mut theirs: Vec<&str> = clang.iter().map(|(n, _)| n.as_str()).collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs, "names of {input:?}");
        for item in &items {
            let kinds: Vec<ClangKind> = item.names.iter().map(|n| clang_kind[n.as_str()]).collect();
            let expected = ItemKind::Declaration(expected_kind(&kinds));
            assert_eq!(item.kind, expected, "{:?} in {input:?}", item.text);
        }
        let our_asserts = items
            .iter()
            .filter(|i| i.kind == ItemKind::Declaration(DeclKind::StaticAssert))
            .count();
        assert_eq!(our_asserts, asserts, "static assertions of {input:?}");
    }
}

/// `(void)&name;` for every variable and function an item declares.
fn uses(item: &Item, clang_kinds: &HashMap<String, ClangKind>) -> String {
    let used = [
        ClangKind::Variable,
        ClangKind::FunctionDef,
        ClangKind::Prototype,
    ];
    item.names
        .iter()
        .filter(|n| clang_kinds.get(*n).is_some_and(|k| used.contains(k)))
        .map(|n| format!("(void)&{n};\n"))
        .collect()
}

#[test]
fn carried_declarations_compile_for_a_later_input_and_agree_with_the_definitions() {
    for input in DECLARATION_INPUTS {
        let items = split(input, &prelude_names());
        let (clang, _) = clang_declarations(&format!("{PRELUDE}{input};"));
        let clang_kinds: HashMap<String, ClangKind> = clang.into_iter().collect();
        let carried: String = items.iter().map(|i| carry(i) + "\n").collect();
        let used: String = items.iter().map(|i| uses(i, &clang_kinds)).collect();
        compiles(&format!(
            "{PRELUDE}{carried}void later_input(void) {{\n{used}}}\n"
        ));
        for item in &items {
            let defines_a_type = carry(item).contains('{');
            if matches!(
                item.kind,
                ItemKind::Declaration(DeclKind::FunctionDef | DeclKind::Variable)
            ) && !defines_a_type
            {
                let definitions: String = items
                    .iter()
                    .take_while(|i| *i != item)
                    .map(|i| strip_internal_linkage(i) + "\n")
                    .collect();
                compiles(&format!(
                    "{PRELUDE}{definitions}{}\n{}\n",
                    carry(item),
                    strip_internal_linkage(item)
                ));
            }
        }
    }
}

/// The translation unit the REPL would build for one input: directives and
/// declarations (initializers split out) at file scope, statements and
/// expressions (and the split initializers) in order in a function body.
fn repl_translation_unit(input: &str) -> String {
    let (mut file_scope, mut body) = (String::from(PRELUDE), String::new());
    for item in split(input, &prelude_names()) {
        match item.kind {
            ItemKind::Directive => file_scope += &format!("{}\n", item.text),
            ItemKind::Declaration(DeclKind::Variable) => {
                let (declaration, initializers) = split_initializers(&item);
                file_scope += &format!("{declaration}\n");
                for init in initializers {
                    body += &format!("{} = {};\n", init.name, init.text);
                }
            }
            ItemKind::Declaration(_) => {
                file_scope += &format!("{}\n", strip_internal_linkage(&item))
            }
            ItemKind::Statement => body += &format!("{}\n;\n", item.text),
            ItemKind::Expression => body += &format!("(void)({});\n", item.text),
        }
    }
    format!("{file_scope}void run_input(void) {{\n{body}}}\n")
}

#[test]
fn mixed_inputs_compile_where_the_repl_puts_their_items() {
    for input in MIXED_INPUTS.iter().chain(DECLARATION_INPUTS) {
        compiles(&repl_translation_unit(input));
    }
}

#[test]
fn the_final_item_of_each_mixed_input_is_its_expression() {
    for input in MIXED_INPUTS {
        let items = split(input, &prelude_names());
        assert_eq!(
            items.last().map(|i| i.kind),
            Some(ItemKind::Expression),
            "{input:?}"
        );
    }
}

#[test]
fn a_misclassified_statement_is_caught_by_the_oracle() {
    // The oracle itself must be able to fail: a statement at file scope is rejected.
    assert!(run_clang(&format!("{PRELUDE}gv = 1;\n"), &[]).is_err());
}
