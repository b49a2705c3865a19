//! The part of clang's JSON AST dump (`-Xclang -ast-dump=json`) the REPL
//! reads, deserialised with serde, and the questions it answers: which
//! names a declaration declares and of what kind and type, whether an
//! initializer is surely a constant, what kind of value an expression has.
//! Fields clang adds that are not listed here are ignored.

use serde::Deserialize;

/// One AST node (declaration, statement or expression).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Node {
    pub kind: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<QualType>,
    #[serde(rename = "valueCategory")]
    pub value_category: Option<String>,
    #[serde(rename = "castKind")]
    pub cast_kind: Option<String>,
    #[serde(rename = "storageClass")]
    pub storage_class: Option<String>,
    /// How a variable is initialized (`c`, `call`, `list`), if it is.
    pub init: Option<String>,
    pub inline: bool,
    #[serde(rename = "tagUsed")]
    pub tag_used: Option<String>,
    #[serde(rename = "completeDefinition")]
    pub complete_definition: bool,
    pub opcode: Option<String>,
    /// A constant's value (ConstantExpr, literals).
    pub value: Option<serde_json::Value>,
    pub range: Option<Range>,
    /// A `SectionAttr`'s section.
    pub section_name: Option<String>,
    pub inner: Vec<Node>,
}

/// A type as clang prints it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QualType {
    #[serde(rename = "qualType")]
    pub qual_type: String,
    #[serde(rename = "desugaredQualType")]
    pub desugared: Option<String>,
}

impl QualType {
    /// The type without sugar (typedefs, typeof) where clang gives it.
    pub fn canonical(&self) -> &str {
        self.desugared.as_deref().unwrap_or(&self.qual_type)
    }
}

/// A node's source range.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Range {
    pub begin: Loc,
}

/// A source location: a file offset, or for a macro expansion the
/// places of spelling and expansion.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Loc {
    pub offset: Option<usize>,
    #[serde(rename = "expansionLoc")]
    pub expansion: Option<Box<Loc>>,
}

impl Node {
    /// Byte offset in the probe file where the node begins (for a macro
    /// expansion, where the macro was used).
    pub fn begin(&self) -> Option<usize> {
        let begin = &self.range.as_ref()?.begin;
        match &begin.expansion {
            Some(e) => e.offset,
            None => begin.offset,
        }
    }

    /// The node's type as printed, if it has one.
    pub fn type_name(&self) -> Option<&str> {
        self.ty.as_ref().map(|t| t.qual_type.as_str())
    }

    /// Whether this node or one below it is of `kind`.
    pub fn contains(&self, kind: &str) -> bool {
        self.kind == kind || self.inner.iter().any(|n| n.contains(kind))
    }

    /// The integer a constant node holds (a ConstantExpr's `value`).
    pub fn constant(&self) -> Option<u128> {
        let found = self.inner.iter().find(|n| n.kind == "ConstantExpr")?;
        match found.value.as_ref()? {
            serde_json::Value::String(s) => s.parse().ok(),
            serde_json::Value::Number(n) => n.as_u64().map(u128::from),
            _ => None,
        }
    }
}

/// Parses a probe's dump: the first top-level value that is the function
/// `name` (the dump of a filtered AST is a sequence of JSON values).
pub fn parse(json: &str, name: &str) -> Option<Node> {
    serde_json::Deserializer::from_str(json)
        .into_iter::<Node>()
        .map_while(Result::ok)
        .find(|n| n.kind == "FunctionDecl" && n.name.as_deref() == Some(name))
}

/// The statements of a function's body.
pub fn body(function: &Node) -> &[Node] {
    function
        .inner
        .iter()
        .find(|n| n.kind == "CompoundStmt")
        .map_or(&[], |b| b.inner.as_slice())
}

/// The namespace of a C name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    /// Variables, functions, typedef names, enumerators.
    Ordinary,
    /// struct, union and enum tags.
    Tag,
}

/// What a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    Variable,
    Function,
    Typedef,
    Enumerator,
    Tag,
}

/// One name a declaration declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    pub name: String,
    pub kind: EntityKind,
    /// The type as clang prints it (for a tag: `struct`, `union` or `enum`).
    pub ty: String,
    /// The type without sugar.
    pub canonical: String,
    /// `static`, `extern`, or none.
    pub storage: Option<String>,
    pub inline: bool,
    /// A variable with an initializer.
    pub initialized: bool,
    /// A variable whose initializer is surely a compile-time constant.
    pub constant_init: bool,
    /// A tag with its body (a definition, not a forward declaration).
    pub defines_body: bool,
    /// The section its `__attribute__((section))` names (thread-local
    /// variables carry `__bpf_tls.h`'s marker section).
    pub section: Option<String>,
}

impl Entity {
    pub fn namespace(&self) -> Namespace {
        match self.kind {
            EntityKind::Tag => Namespace::Tag,
            _ => Namespace::Ordinary,
        }
    }
}

/// The names a declaration statement (or a declaration node) declares,
/// nested tags and enumerators included, in order.
pub fn entities(node: &Node) -> Vec<Entity> {
    let mut out = Vec::new();
    collect_entities(node, &mut out);
    out
}

fn collect_entities(node: &Node, out: &mut Vec<Entity>) {
    let entity = |kind, ty: &str, canonical: &str| Entity {
        name: node.name.clone().unwrap_or_default(),
        kind,
        ty: ty.to_string(),
        canonical: canonical.to_string(),
        storage: node.storage_class.clone(),
        inline: node.inline,
        initialized: false,
        constant_init: false,
        defines_body: false,
        section: node
            .inner
            .iter()
            .find(|a| a.kind == "SectionAttr")
            .and_then(|a| a.section_name.clone()),
    };
    let ty = node.ty.clone().unwrap_or_default();
    match node.kind.as_str() {
        "DeclStmt" => node.inner.iter().for_each(|n| collect_entities(n, out)),
        "VarDecl" if node.name.is_some() => {
            let init = node.init.as_ref().and_then(|_| initializer(node));
            out.push(Entity {
                initialized: node.init.is_some(),
                constant_init: init.is_some_and(surely_constant),
                ..entity(EntityKind::Variable, &ty.qual_type, ty.canonical())
            });
        }
        "FunctionDecl" if node.name.is_some() => {
            out.push(entity(EntityKind::Function, &ty.qual_type, ty.canonical()))
        }
        "TypedefDecl" if node.name.is_some() => {
            out.push(entity(EntityKind::Typedef, &ty.qual_type, ty.canonical()))
        }
        "EnumConstantDecl" if node.name.is_some() => {
            out.push(entity(EntityKind::Enumerator, "int", "int"))
        }
        "RecordDecl" | "EnumDecl" => {
            let keyword = node.tag_used.clone().unwrap_or_else(|| "enum".to_string());
            if node.name.as_ref().is_some_and(|n| !n.is_empty()) {
                out.push(Entity {
                    defines_body: node.complete_definition,
                    ..entity(EntityKind::Tag, &keyword, &keyword)
                });
            }
            // Tags and enumerators declared inside belong to the same scope.
            for n in &node.inner {
                if matches!(
                    n.kind.as_str(),
                    "RecordDecl" | "EnumDecl" | "EnumConstantDecl"
                ) {
                    collect_entities(n, out);
                }
            }
        }
        _ => {}
    }
}

/// A variable declaration's initializer expression (its last child that
/// is an expression, not an attribute).
fn initializer(var: &Node) -> Option<&Node> {
    var.inner
        .iter()
        .rev()
        .find(|n| !n.kind.ends_with("Attr") && n.kind != "TypedefDecl")
}

/// Whether an initializer is surely a constant expression: it reads no
/// object, calls nothing and changes nothing. (Conservative: "no" moves
/// the initialization to run time, which gives the same value.)
pub fn surely_constant(node: &Node) -> bool {
    match node.kind.as_str() {
        "CallExpr"
        | "StmtExpr"
        | "RecoveryExpr"
        | "CompoundAssignOperator"
        | "BlockExpr"
        | "VAArgExpr"
        | "OpaqueValueExpr" => false,
        // The operand of sizeof/_Alignof is not evaluated (VLAs are not constant anyway).
        "UnaryExprOrTypeTraitExpr" => !node.inner.iter().any(|n| n.contains("VariableArrayType")),
        "ImplicitCastExpr" if node.cast_kind.as_deref() == Some("LValueToRValue") => false,
        "BinaryOperator" if matches!(node.opcode.as_deref(), Some("=" | ",")) => false,
        "UnaryOperator" if matches!(node.opcode.as_deref(), Some("++" | "--")) => false,
        _ => node.inner.iter().all(surely_constant),
    }
}

/// Whether an expression calls something or changes memory.
pub fn has_side_effects(node: &Node) -> bool {
    match node.kind.as_str() {
        "CallExpr" | "CompoundAssignOperator" | "StmtExpr" => true,
        "BinaryOperator" if node.opcode.as_deref() == Some("=") => true,
        "UnaryOperator" if matches!(node.opcode.as_deref(), Some("++" | "--")) => true,
        "UnaryExprOrTypeTraitExpr" => false,
        _ => node.inner.iter().any(has_side_effects),
    }
}

/// Whether a type, as clang prints it, is `const` itself (not a pointee):
/// `const int`, `const struct p`, `char *const`, `int (*const)(int)`.
pub fn is_top_level_const(printed: &str) -> bool {
    let declarator = match printed.find("(*") {
        Some(open) => {
            &printed[open..printed[open..]
                .find(')')
                .map_or(printed.len(), |c| open + c)]
        }
        None => printed,
    };
    let after_star = match declarator.rfind('*') {
        Some(star) => &declarator[star + 1..],
        None if printed.contains("(*") => "",
        None => declarator.split('[').next().unwrap_or(""),
    };
    after_star
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| w == "const")
}

/// Whether a printed type names a type that cannot be written back as C
/// (clang describes anonymous types by place: `struct (unnamed at ...)`).
pub fn is_writable(printed: &str) -> bool {
    !(printed.contains("unnamed") || printed.contains("anonymous") || printed.contains(" at "))
}

/// The outermost array bound of a printed array type (`int[5]` -> 5,
/// `char[2][3]` -> 2).
pub fn outer_bound(printed: &str) -> Option<u64> {
    let open = printed.find('[')?;
    if printed[..open].contains('(') {
        return None; // a pointer to an array, or a function
    }
    let close = open + printed[open..].find(']')?;
    printed[open + 1..close].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_const_is_read_from_clangs_type_printing() {
        for (ty, want) in [
            ("const int", true),
            ("const struct point", true),
            ("const volatile unsigned long", true),
            ("const char *", false),
            ("char *const", true),
            ("const char *const", true),
            ("int (*const)(int)", true),
            ("int (*)(const int)", false),
            ("const int[3]", true),
            ("int", false),
            ("constant_t", false),
        ] {
            assert_eq!(is_top_level_const(ty), want, "{ty}");
        }
    }

    #[test]
    fn array_bounds_and_writable_types() {
        assert_eq!(outer_bound("int[5]"), Some(5));
        assert_eq!(outer_bound("char[2][3]"), Some(2));
        assert_eq!(outer_bound("int (*)[3]"), None);
        assert_eq!(outer_bound("int *"), None);
        assert!(is_writable("struct point"));
        assert!(!is_writable("struct (unnamed struct at input 3:1:1)"));
    }

    #[test]
    fn a_dump_is_deserialised_and_questioned() {
        let json = r#"{"kind":"FunctionDecl","name":"f","inner":[{"kind":"CompoundStmt","inner":[
            {"kind":"DeclStmt","range":{"begin":{"spellingLoc":{"offset":3},"expansionLoc":{"offset":9}}},
             "inner":[{"kind":"VarDecl","name":"x","type":{"qualType":"T","desugaredQualType":"int"},
               "init":"c","inner":[{"kind":"ImplicitCastExpr","castKind":"LValueToRValue",
                 "inner":[{"kind":"DeclRefExpr"}]}]},
              {"kind":"VarDecl","name":"y","type":{"qualType":"int"},"init":"c",
               "inner":[{"kind":"IntegerLiteral","value":"3","unknownField":[1,2]}]},
              {"kind":"RecordDecl","name":"s","tagUsed":"struct","completeDefinition":true,
               "inner":[{"kind":"EnumDecl","name":"e","inner":[{"kind":"EnumConstantDecl","name":"A"}]}]}]}]}]}
            {"kind":"FunctionDecl","name":"other"}"#;
        let f = parse(json, "f").expect("parsed");
        let stmt = &body(&f)[0];
        assert_eq!(stmt.begin(), Some(9));
        let names: Vec<(String, EntityKind, bool)> = entities(stmt)
            .into_iter()
            .map(|e| (e.name, e.kind, e.constant_init))
            .collect();
        assert_eq!(
            names,
            [
                ("x".to_string(), EntityKind::Variable, false),
                ("y".to_string(), EntityKind::Variable, true),
                ("s".to_string(), EntityKind::Tag, false),
                ("e".to_string(), EntityKind::Tag, false),
                ("A".to_string(), EntityKind::Enumerator, false),
            ]
        );
        assert_eq!(entities(stmt)[0].canonical, "int");
        assert!(parse(json, "missing").is_none());
    }
}
