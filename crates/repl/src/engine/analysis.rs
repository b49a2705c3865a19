//! What an input is, from clang: the lexer cuts an input into items
//! ([`crate::input::split`]) and guesses; one AST probe — the items in
//! order inside a function, compiled with `-fsyntax-only` and dumped as
//! JSON — says for each item whether the preprocessor kept it, whether it
//! is a declaration or a statement, what it declares (names, kinds, types,
//! sizes, storage), and for a final expression what kind of value it has.
//! A [`Plan`] is the model each translation unit is rendered from.

use super::session::{Model, Space};
use super::Origin;
use crate::clang::ast::{self, Entity, EntityKind, Node};
use crate::clang::PROBE_FUNCTION;
use crate::input::{self, DeclKind, Item, ItemKind, NameKind, Names};
use std::collections::HashMap;
use std::fmt::Write as _;

/// How a final expression's value is brought out of the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueForm {
    /// `__typeof__((0, (E))) __repl_val_N; ... __repl_val_N = (E);` (the
    /// comma gives the value's type unqualified, bit-fields included)
    Copy,
    /// `__typeof__((E)) *__repl_ref_N; ... __repl_ref_N = &(E);` (arrays
    /// and `const` objects with static storage)
    Reference,
    /// `__typeof__((E)) __repl_val_N; ... memcpy(&__repl_val_N, (E), ...);`
    /// (an array that is not an object, or a compound literal)
    ArrayCopy,
    /// `__typeof__(&(E)) __repl_val_N; ... __repl_val_N = &(E);` (a
    /// function, printed as the pointer it decays to)
    Address,
    /// The expression is `void`: run it as a statement.
    Discard,
}

/// One item with what is known about it.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The lexer's item, its kind corrected by clang.
    pub item: Item,
    /// The preprocessor keeps it (an item in a disabled `#if` branch does not).
    pub active: bool,
    /// `#if`, `#ifdef`, `#ifndef`, `#elif`, `#else`, `#endif`.
    pub conditional: bool,
    /// What it declares.
    pub entities: Vec<Entity>,
    /// Object sizes of the variables it declares, as clang computes them.
    pub sizes: Vec<(String, u128)>,
    /// `static` or `inline` comes from a macro (the lexer cannot blank it).
    pub hidden_linkage: bool,
    /// The lexer's reading disagrees with clang's: carry what clang says.
    pub carry_from_types: bool,
}

/// One input, planned: the model its translation unit is rendered from.
#[derive(Debug, Clone)]
pub struct Plan {
    pub number: usize,
    pub origin: Origin,
    pub source: String,
    pub items: Vec<Planned>,
    pub form: ValueForm,
    /// Non-constant initializers become assignments in the run function.
    pub runtime_init: bool,
    /// Tentative definitions of names that exist with another type make
    /// new, zeroed objects.
    pub fresh_tentatives: bool,
    /// Whether clang's probe informed the plan.
    pub from_clang: bool,
}

impl Plan {
    /// Whether the unit needs a run function.
    pub fn has_run(&self) -> bool {
        self.items.iter().any(|p| {
            p.active
                && (matches!(p.item.kind, ItemKind::Statement | ItemKind::Expression)
                    || (self.runtime_init
                        && p.item.kind == ItemKind::Declaration(DeclKind::Variable)))
        })
    }

    /// The active items.
    pub fn active(&self) -> impl Iterator<Item = &Planned> {
        self.items.iter().filter(|p| p.active)
    }

    /// Every entity the input declares.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.active()
            .filter(|p| matches!(p.item.kind, ItemKind::Declaration(_)))
            .flat_map(|p| p.entities.iter())
    }

    /// Names a `#define` of the input defines.
    pub fn macros(&self) -> Vec<String> {
        self.active()
            .filter(|p| p.item.kind == ItemKind::Directive)
            .flat_map(|p| directive_macros(&p.item.text))
            .collect()
    }

    /// Tentative definitions that merge with an existing variable of the
    /// same type (their old declaration stays in the prelude).
    pub fn merging(&self, model: &Model) -> Vec<String> {
        if self.fresh_tentatives {
            return Vec::new();
        }
        self.entities()
            .filter(|e| is_tentative(e))
            .filter(|e| same_variable(model, e))
            .map(|e| e.name.clone())
            .collect()
    }

    /// The names whose earlier declarations this unit's prelude leaves out.
    pub fn redeclared(&self, model: &Model) -> Vec<(Space, String)> {
        let merging = self.merging(model);
        let typedef_repeats = self.typedef_repeats(model);
        self.entities()
            .filter(|e| e.kind != EntityKind::Tag || e.defines_body)
            .filter(|e| !merging.contains(&e.name) && !typedef_repeats.contains(&e.name))
            .map(|e| (Space::from(e.namespace()), e.name.clone()))
            .collect()
    }

    /// Typedefs the input repeats with the same type (C allows that; the
    /// earlier one stays).
    pub fn typedef_repeats(&self, model: &Model) -> Vec<String> {
        self.entities()
            .filter(|e| e.kind == EntityKind::Typedef)
            .filter(|e| {
                model.entity(Space::Ordinary, &e.name).is_some_and(|old| {
                    old.kind == EntityKind::Typedef && old.canonical == e.canonical
                })
            })
            .map(|e| e.name.clone())
            .collect()
    }

    /// Identifiers the input's items mention (the prelude's seeds).
    pub fn identifiers(&self) -> Vec<String> {
        self.items
            .iter()
            .flat_map(|p| super::session::identifiers(&p.item.text))
            .collect()
    }
}

/// A tentative definition: a variable without initializer or `extern`.
fn is_tentative(e: &Entity) -> bool {
    e.kind == EntityKind::Variable && !e.initialized && e.storage.as_deref() != Some("extern")
}

/// Whether the session has a variable of that name and the same type.
fn same_variable(model: &Model, e: &Entity) -> bool {
    model
        .entity(Space::Ordinary, &e.name)
        .is_some_and(|old| old.kind == EntityKind::Variable && old.canonical == e.canonical)
}

/// Macro names a directive defines.
pub fn directive_macros(text: &str) -> Vec<String> {
    let t = text.trim_start().trim_start_matches('#').trim_start();
    match t.strip_prefix("define") {
        Some(rest) if rest.starts_with([' ', '\t']) => rest
            .trim_start()
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .filter(|n| !n.is_empty())
            .map(|n| vec![n.to_string()])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Whether a directive is part of a conditional (`#if` ... `#endif`).
pub fn is_conditional(text: &str) -> bool {
    let word = text
        .trim_start()
        .trim_start_matches('#')
        .trim_start()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or("");
    matches!(
        word,
        "if" | "ifdef" | "ifndef" | "elif" | "elifdef" | "elifndef" | "else" | "endif"
    )
}

/// Whether the plan needs clang's probe. Not for what the lexer reads
/// exactly: plain directives, function definitions that use no macro (the
/// lexer finds their names; a `static` from a macro shows in the object),
/// and an expression made only of number and character literals and
/// operators (its value is an arithmetic rvalue: copied).
pub fn needs_probe(items: &[Item], model: &Model) -> bool {
    let defines_macros = items
        .iter()
        .any(|i| i.kind == ItemKind::Directive && !directive_macros(&i.text).is_empty());
    items.iter().any(|i| match i.kind {
        ItemKind::Directive => is_conditional(&i.text),
        ItemKind::Declaration(DeclKind::FunctionDef) => {
            defines_macros
                || input::tokens(&i.text)
                    .iter()
                    .any(|t| t.kind == input::TokenKind::Identifier && model.is_macro(t.text))
        }
        ItemKind::Expression if items.len() == 1 => {
            !scalar_arithmetic(&i.text, model)
                && !call_of_known_function(&i.text, model)
                && known_name_form(&i.text, model).is_none()
        }
        _ => true,
    })
}

/// The value form of an expression that is one name whose type an earlier
/// probe gave: a variable (an array or a `const` object is read in place)
/// or a function (its address).
fn known_name_form(text: &str, model: &Model) -> Option<ValueForm> {
    let toks: Vec<_> = input::tokens(text)
        .into_iter()
        .filter(|t| t.kind != input::TokenKind::Comment)
        .collect();
    let [name] = toks.as_slice() else { return None };
    if name.kind != input::TokenKind::Identifier || model.is_macro(name.text) {
        return None;
    }
    let e = model.entity(Space::Ordinary, name.text)?;
    match e.kind {
        EntityKind::Function => Some(ValueForm::Address),
        EntityKind::Variable if !e.canonical.is_empty() => {
            let array = ast::outer_bound(&e.canonical).is_some() || e.canonical.ends_with("[]");
            Some(if array || ast::is_top_level_const(&e.canonical) {
                ValueForm::Reference
            } else {
                ValueForm::Copy
            })
        }
        _ => None,
    }
}

/// Whether an expression is one call `f(...)` of a function the session
/// knows: its value is an rvalue of the return type (never an array), so
/// a copy is right unless the type is `void`, and then the guess does not
/// compile and the probe runs after all.
fn call_of_known_function(text: &str, model: &Model) -> bool {
    use input::TokenKind::Comment;
    let toks: Vec<_> = input::tokens(text)
        .into_iter()
        .filter(|t| t.kind != Comment)
        .collect();
    let [name, open, .., close] = toks.as_slice() else {
        return false;
    };
    let function = model
        .entity(Space::Ordinary, name.text)
        .is_some_and(|e| e.kind == EntityKind::Function)
        && !model.is_macro(name.text);
    let mut depth = 0usize;
    let one_group = toks[1..].iter().enumerate().all(|(k, t)| {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth = depth.saturating_sub(1);
        }
        depth > 0 || k == toks.len() - 2
    });
    function && open.is("(") && close.is(")") && one_group
}

/// Whether an expression is arithmetic on literals and on variables whose
/// types clang gave earlier and that are neither arrays, functions nor
/// `const` (nor reached through members, subscripts, dereferences or
/// calls): its value is then a copy, whatever clang would say.
fn scalar_arithmetic(text: &str, model: &Model) -> bool {
    use input::TokenKind::{Char, Comment, Identifier, Number, Punctuator};
    let toks: Vec<_> = input::tokens(text)
        .into_iter()
        .filter(|t| t.kind != Comment)
        .collect();
    let forbidden = [
        "{", "}", "[", "]", ".", "->", "=", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=",
        "^=", "<<=", ">>=", ",",
    ];
    toks.iter().enumerate().all(|(k, t)| match t.kind {
        Number | Char => true,
        Punctuator if t.is_any(&forbidden) => false,
        Punctuator if t.is_any(&["*", "&"]) => {
            // Binary only: after an operand.
            k > 0 && (matches!(toks[k - 1].kind, Number | Char | Identifier) || toks[k - 1].is(")"))
        }
        Punctuator => true,
        Identifier => {
            let called = toks.get(k + 1).is_some_and(|n| n.is("("));
            let typed = model.entity(Space::Ordinary, t.text).is_some_and(|e| {
                matches!(e.kind, EntityKind::Variable | EntityKind::Enumerator)
                    && !e.canonical.is_empty()
                    && !e.canonical.contains(['[', '(', ':'])
                    && !ast::is_top_level_const(&e.canonical)
            });
            typed && !called && !model.is_macro(t.text)
        }
        _ => false,
    })
}

/// The lexer's plan for an input: what the unit would be if its guesses
/// are right (compiled while clang's probe runs).
pub fn guess(number: usize, origin: &Origin, source: &str, items: &[Item], model: &Model) -> Plan {
    let planned: Vec<Planned> = items
        .iter()
        .map(|item| Planned {
            item: item.clone(),
            active: true,
            conditional: item.kind == ItemKind::Directive && is_conditional(&item.text),
            entities: lexer_entities(item),
            sizes: Vec::new(),
            hidden_linkage: false,
            carry_from_types: false,
        })
        .collect();
    let form = match items.last() {
        Some(i) if i.kind == ItemKind::Expression && is_string_literal(&i.text) => {
            ValueForm::Reference
        }
        Some(i) if i.kind == ItemKind::Expression => {
            known_name_form(&i.text, model).unwrap_or(ValueForm::Copy)
        }
        _ => ValueForm::Copy,
    };
    let runtime_init = items.iter().any(|i| guess_runtime_init(i, model));
    Plan {
        number,
        origin: origin.clone(),
        source: source.to_string(),
        items: planned,
        form,
        runtime_init,
        fresh_tentatives: false,
        from_clang: false,
    }
}

fn is_string_literal(text: &str) -> bool {
    let t = text.trim();
    t.starts_with('"') && t.ends_with('"')
}

/// The lexer's guess that a variable's initializer is not constant: it
/// calls something or reads a variable the session knows.
fn guess_runtime_init(item: &Item, model: &Model) -> bool {
    if item.kind != ItemKind::Declaration(DeclKind::Variable) {
        return false;
    }
    let (_, inits) = input::split_initializers(item);
    inits.iter().any(|init| {
        let toks = input::tokens(&init.text);
        toks.iter().enumerate().any(|(k, t)| {
            let after_address = k > 0 && (toks[k - 1].is("&") || toks[k - 1].is("sizeof"));
            let call = toks.get(k + 1).is_some_and(|n| n.is("("));
            t.kind == input::TokenKind::Identifier
                && !after_address
                && (call || model.kind(t.text) == NameKind::Variable)
                && model.entity(Space::Ordinary, t.text).map(|e| e.kind)
                    != Some(EntityKind::Enumerator)
        })
    })
}

/// Entities as the lexer reads a declaration (no types).
fn lexer_entities(item: &Item) -> Vec<Entity> {
    input::declared_kinds(item)
        .into_iter()
        .map(|(name, kind)| Entity {
            name,
            kind: match kind {
                NameKind::Typedef => EntityKind::Typedef,
                NameKind::Function => EntityKind::Function,
                NameKind::Variable => EntityKind::Variable,
                NameKind::Unknown => EntityKind::Tag,
            },
            ty: String::new(),
            canonical: String::new(),
            storage: None,
            inline: false,
            initialized: false,
            constant_init: false,
            defines_body: kind == NameKind::Unknown,
            section: None,
        })
        .collect()
}

/// Where each item of each input sits in the probe's text.
#[derive(Debug, Clone, Default)]
pub struct ProbeMap {
    /// Per input, per item: marker offset and text range.
    items: Vec<Vec<ItemSpan>>,
    /// Size queries: enumerator index -> (input, item, variable).
    sizes: Vec<(usize, usize, String)>,
}

#[derive(Debug, Clone, Copy, Default)]
struct ItemSpan {
    marker: Option<usize>,
    start: usize,
    end: usize,
    /// Range of the `__auto_type` companion of a final expression.
    companion: Option<(usize, usize)>,
}

/// The name of the enumerators that ask clang for sizes.
const SIZE_QUERY: &str = "__repl_size_";

/// The probe's translation unit for some inputs (one batch): the prelude,
/// then every item inside [`PROBE_FUNCTION`], each after a `;` marker that
/// shows whether the preprocessor kept it.
pub fn probe_source(model: &Model, inputs: &[&Plan]) -> (String, ProbeMap) {
    let seeds: Vec<String> = inputs.iter().flat_map(|p| p.identifiers()).collect();
    let mut tu = String::from("#line 1 \"<repl>\"\n");
    tu.push_str(&model.prelude(seeds.iter().map(String::as_str), &Default::default()));
    let _ = writeln!(tu, "#line 1 \"<probe>\"\nvoid {PROBE_FUNCTION}(void) {{");
    let mut map = ProbeMap::default();
    for (i, plan) in inputs.iter().enumerate() {
        let mut spans = Vec::new();
        let last = plan.items.len().saturating_sub(1);
        for (j, p) in plan.items.iter().enumerate() {
            let item = &p.item;
            let mut span = ItemSpan::default();
            if item.kind == ItemKind::Directive {
                span.start = tu.len();
                tu.push_str(&item.text);
                span.end = tu.len();
                tu.push('\n');
                if !p.conditional {
                    span.marker = Some(tu.len());
                    tu.push_str(";\n");
                }
                spans.push(span);
                continue;
            }
            span.marker = Some(tu.len());
            tu.push_str(";\n");
            span.start = tu.len();
            if item.kind == ItemKind::Declaration(DeclKind::FunctionDef) {
                tu.push_str(&input::carry(item));
            } else {
                tu.push_str(&item.text);
            }
            span.end = tu.len();
            tu.push_str("\n;\n");
            if j == last && item.kind == ItemKind::Expression {
                let start = tu.len();
                let _ = writeln!(
                    tu,
                    "__auto_type __repl_probe_value_{i} = ({}\n);",
                    item.text
                );
                span.companion = Some((start, tu.len()));
            }
            if matches!(item.kind, ItemKind::Declaration(_)) {
                for e in p.entities.iter().filter(|e| e.kind == EntityKind::Variable) {
                    let _ = writeln!(
                        tu,
                        "enum {{ {SIZE_QUERY}{} = sizeof({}) }};",
                        map.sizes.len(),
                        e.name
                    );
                    map.sizes.push((i, j, e.name.clone()));
                }
            }
            spans.push(span);
        }
        map.items.push(spans);
    }
    tu.push_str("}\n");
    (tu, map)
}

/// What clang says an expression is.
#[derive(Debug, Clone, Default)]
struct ExprInfo {
    void: bool,
    function: bool,
    array: bool,
    lvalue: bool,
    constant: bool,
    compound_literal: bool,
}

impl ExprInfo {
    fn form(&self) -> ValueForm {
        if self.void {
            ValueForm::Discard
        } else if self.function {
            ValueForm::Address
        } else if self.array {
            if self.lvalue && !self.compound_literal {
                ValueForm::Reference
            } else {
                ValueForm::ArrayCopy
            }
        } else if self.constant && self.lvalue && !self.compound_literal {
            ValueForm::Reference
        } else {
            ValueForm::Copy
        }
    }
}

/// Corrects the guessed plans of a probe's inputs with its AST (`None`:
/// the probe failed; the guesses stand).
pub fn apply_probe(plans: &mut [Plan], map: &ProbeMap, json: Option<&str>, model: &Model) {
    let Some(function) = json.and_then(|j| ast::parse(j, PROBE_FUNCTION)) else {
        return;
    };
    let stmts = ast::body(&function);
    let mut sizes: HashMap<(usize, usize), Vec<(String, u128)>> = HashMap::new();
    for stmt in stmts.iter().filter(|s| s.kind == "DeclStmt") {
        for e in stmt.inner.iter().flat_map(|d| d.inner.iter()) {
            let Some(k) = e
                .name
                .as_deref()
                .and_then(|n| n.strip_prefix(SIZE_QUERY))
                .and_then(|k| k.parse::<usize>().ok())
            else {
                continue;
            };
            if let (Some((i, j, name)), Some(size)) = (map.sizes.get(k), e.constant()) {
                sizes
                    .entry((*i, *j))
                    .or_default()
                    .push((name.clone(), size));
            }
        }
    }
    for (i, plan) in plans.iter_mut().enumerate() {
        let Some(spans) = map.items.get(i) else {
            continue;
        };
        plan.from_clang = true;
        let last = plan.items.len().saturating_sub(1);
        let mut expr = None;
        for (j, (p, span)) in plan.items.iter_mut().zip(spans).enumerate() {
            let within =
                |n: &&Node, (a, b): (usize, usize)| n.begin().is_some_and(|o| o >= a && o < b);
            let kept = span.marker.is_none_or(|m| {
                stmts
                    .iter()
                    .any(|n| n.kind == "NullStmt" && n.begin() == Some(m))
            });
            p.active = kept;
            p.sizes = sizes.remove(&(i, j)).unwrap_or_default();
            if p.item.kind == ItemKind::Directive || !kept {
                continue;
            }
            let nodes: Vec<&Node> = stmts
                .iter()
                .filter(|n| within(n, (span.start, span.end)) && n.kind != "NullStmt")
                .collect();
            if nodes.is_empty() {
                // Declares nothing (`T;`), or clang could not parse it (the
                // compile says why): nothing to carry either way.
                p.entities.clear();
                p.carry_from_types = true;
                continue;
            }
            classify(p, &nodes, j == last);
            if p.item.kind == ItemKind::Expression {
                let companion = span
                    .companion
                    .and_then(|c| stmts.iter().find(|n| within(n, c) && n.kind == "DeclStmt"));
                expr = Some(expression_info(nodes[0], companion));
            }
        }
        if let Some(info) = expr {
            plan.form = info.form();
        }
        decide_initialization(plan, model);
    }
}

/// Sets an item's kind and entities from its AST nodes.
fn classify(p: &mut Planned, nodes: &[&Node], last: bool) {
    let declarations: Vec<&&Node> = nodes.iter().filter(|n| n.kind == "DeclStmt").collect();
    let unterminated = !p.item.text.trim_end().ends_with([';', '}']);
    if declarations.is_empty() {
        if p.item.kind != ItemKind::Declaration(DeclKind::FunctionDef) {
            let expression = p.item.kind == ItemKind::Expression || (last && unterminated);
            p.item.kind = if expression {
                ItemKind::Expression
            } else {
                ItemKind::Statement
            };
            p.entities.clear();
        }
        return;
    }
    let entities: Vec<Entity> = declarations.iter().flat_map(|n| ast::entities(n)).collect();
    let static_assert = declarations
        .iter()
        .any(|n| n.inner.iter().any(|d| d.kind == "StaticAssertDecl"));
    let kind = if p.item.kind == ItemKind::Declaration(DeclKind::FunctionDef) {
        DeclKind::FunctionDef
    } else if static_assert && entities.is_empty() {
        DeclKind::StaticAssert
    } else if entities.iter().any(|e| e.kind == EntityKind::Variable) {
        DeclKind::Variable
    } else if entities.iter().any(|e| e.kind == EntityKind::Function) {
        DeclKind::Prototype
    } else {
        DeclKind::Type
    };
    let lexer_names: Vec<String> = input::declared_kinds(&Item {
        kind: ItemKind::Declaration(kind),
        ..p.item.clone()
    })
    .into_iter()
    .map(|(n, _)| n)
    .collect();
    let clang_names: Vec<String> = entities.iter().map(|e| e.name.clone()).collect();
    p.item.kind = ItemKind::Declaration(kind);
    p.carry_from_types = lexer_names != clang_names;
    let words: Vec<&str> = input::tokens(&p.item.text).iter().map(|t| t.text).collect();
    p.hidden_linkage = entities.iter().any(|e| {
        (e.storage.as_deref() == Some("static") && !words.contains(&"static"))
            || (e.inline && !words.iter().any(|w| w.contains("inline")))
    });
    p.entities = entities;
}

/// The kind of value of a final expression: its statement node (with
/// clang's implicit conversions) and its `__auto_type` companion (whose
/// initializer shows array and function decay).
fn expression_info(stmt: &Node, companion: Option<&Node>) -> ExprInfo {
    let decay = companion
        .and_then(|c| c.inner.first())
        .and_then(|var| var.inner.iter().find(|n| n.kind == "ImplicitCastExpr"))
        .and_then(|cast| cast.cast_kind.clone());
    let operand = match stmt.cast_kind.as_deref() {
        Some("LValueToRValue" | "ArrayToPointerDecay" | "FunctionToPointerDecay")
            if stmt.kind == "ImplicitCastExpr" =>
        {
            stmt.inner.first().unwrap_or(stmt)
        }
        _ => stmt,
    };
    let ty = stmt.ty.clone().unwrap_or_default();
    ExprInfo {
        void: ty.canonical() == "void",
        function: decay.as_deref() == Some("FunctionToPointerDecay"),
        array: decay.as_deref() == Some("ArrayToPointerDecay"),
        lvalue: operand.value_category.as_deref() == Some("lvalue"),
        constant: operand.type_name().is_some_and(ast::is_top_level_const),
        compound_literal: stmt.contains("CompoundLiteralExpr"),
    }
}

/// Runtime initialization and fresh tentative definitions, from types.
fn decide_initialization(plan: &mut Plan, model: &Model) {
    let entities: Vec<Entity> = plan.entities().cloned().collect();
    plan.runtime_init = entities.iter().any(|e| {
        e.kind == EntityKind::Variable
            && e.initialized
            && !e.constant_init
            && e.storage.as_deref() != Some("extern")
            && ast::outer_bound(&e.canonical).is_none()
            && !e.canonical.ends_with(']')
            && !ast::is_top_level_const(&e.canonical)
    });
    plan.fresh_tentatives = entities.iter().any(|e| {
        is_tentative(e)
            && model.binding(Space::Ordinary, &e.name).is_some()
            && !same_variable(model, e)
    });
}

/// The first variable larger than `limit` bytes: its item and a message.
pub fn oversized(plan: &Plan, limit: usize) -> Option<String> {
    for p in plan.active() {
        for (name, size) in &p.sizes {
            if *size > limit as u128 {
                let line = plan.origin.first_line + p.item.line.saturating_sub(1);
                return Some(format!(
                    "{}:{line}:{}: error: '{name}' is {size} bytes, more than the VM memory limit \
                     of {limit} bytes (raise it with --memory-limit)",
                    plan.origin.name, p.item.col
                ));
            }
        }
    }
    None
}

/// An error when the input gives a struct/union/enum tag or a typedef
/// name a new definition while earlier declarations that stay (variables,
/// functions) use the old one: they would silently get the new layout.
pub fn type_conflict(
    plan: &Plan,
    model: &Model,
    defining: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    use crate::input::types::{mentions_tag, normalized, tag_body};
    let redeclared: Vec<String> = plan.entities().map(|e| e.name.clone()).collect();
    let stays = |n: &String| !redeclared.contains(n);
    for p in plan.active() {
        let mut changed: Vec<(String, Vec<String>)> = Vec::new();
        for e in p
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Tag && e.defines_body)
        {
            let Some(old_id) = model.binding(Space::Tag, &e.name) else {
                continue;
            };
            let old = model.record(old_id);
            if !old.live {
                continue;
            }
            let old_body = tag_body(&old.text, &e.name).unwrap_or_default();
            if tag_body(&p.item.text, &e.name).unwrap_or_default() == old_body {
                continue;
            }
            let in_body = |n: &String| old_body.split(' ').any(|t| t == n);
            let mut users: Vec<String> = old
                .entities
                .iter()
                .map(|x| &x.name)
                .filter(|n| **n != e.name && !in_body(n) && stays(n))
                .cloned()
                .collect();
            for id in model
                .mentioning(&e.name)
                .into_iter()
                .filter(|&id| id != old_id)
            {
                let r = model.record(id);
                if mentions_tag(&r.text, &e.name) {
                    users.extend(
                        r.entities
                            .iter()
                            .map(|x| x.name.clone())
                            .filter(|n| stays(n)),
                    );
                }
            }
            changed.push((format!("{} {}", e.ty, e.name), users));
        }
        for e in p.entities.iter().filter(|e| e.kind == EntityKind::Typedef) {
            let Some(old_id) = model.binding(Space::Ordinary, &e.name) else {
                continue;
            };
            let old = model.record(old_id);
            let same = old.entities.iter().any(|x| {
                x.name == e.name && x.kind == EntityKind::Typedef && x.canonical == e.canonical
            }) || normalized(&old.text) == normalized(&p.item.text);
            if same {
                continue;
            }
            let users = model
                .mentioning(&e.name)
                .into_iter()
                .filter(|&id| id != old_id)
                .flat_map(|id| model.record(id).entities.iter().map(|x| x.name.clone()))
                .filter(|n| stays(n) && *n != e.name)
                .collect();
            changed.push((e.name.clone(), users));
        }
        if let Some((ty, mut users)) = changed.into_iter().find(|(_, u)| !u.is_empty()) {
            users.dedup();
            let listed: Vec<String> = users
                .iter()
                .map(|u| match defining(u) {
                    Some(at) => format!("'{u}' ({at})"),
                    None => format!("'{u}'"),
                })
                .collect();
            let line = plan.origin.first_line + p.item.line.saturating_sub(1);
            return Some(format!(
                "{}:{line}:{}: error: redefining '{ty}' would leave {} with the old \
                 definition's layout; %undo back to before {}, or give the new type \
                 another name",
                plan.origin.name,
                p.item.col,
                listed.join(", "),
                if users.len() == 1 { "it" } else { "them" }
            ));
        }
    }
    None
}
