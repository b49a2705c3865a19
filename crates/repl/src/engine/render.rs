//! Translation units from plans: the prelude (what earlier inputs carried,
//! as much as the unit can reach), then each input's directives and
//! declarations at file scope and its statements and final expression in
//! `__repl_run_N`, every piece under a `#line` marker naming the user's
//! place. Also what an accepted input carries to later inputs.

use super::analysis::{Plan, Planned, ValueForm};
use super::session::{Displacement, Model, Shortened, Space};
use super::Origin;
use crate::clang::ast::{self, Entity, EntityKind};
use crate::input::{self, DeclKind, Item, ItemKind};
use std::collections::HashMap;
use std::fmt::Write as _;

impl ValueForm {
    /// The generated code around the expression of input `n`: at file
    /// scope (the value variable's declaration, if any) and in the run
    /// function, each as the text before and after the expression.
    fn wrappers(self, n: usize) -> (Option<(String, String)>, (String, String)) {
        let declare = |before: &str, after: String| Some((before.to_string(), after));
        let run = |before: String, after: &str| (before, after.to_string());
        match self {
            ValueForm::Copy => (
                declare("__typeof__((0, (", format!("))) __repl_val_{n};")),
                run(format!("__repl_val_{n} = ("), ");"),
            ),
            ValueForm::Reference => (
                declare("__typeof__((", format!(")) *__repl_ref_{n};")),
                run(format!("__repl_ref_{n} = &("), ");"),
            ),
            ValueForm::ArrayCopy => (
                declare("__typeof__((", format!(")) __repl_val_{n};")),
                (
                    format!("__builtin_memcpy(&__repl_val_{n}, ("),
                    format!("), sizeof __repl_val_{n});"),
                ),
            ),
            ValueForm::Address => (
                declare("__typeof__(&(", format!(")) __repl_val_{n};")),
                run(format!("__repl_val_{n} = &("), ");"),
            ),
            ValueForm::Discard => (None, run("(void)(".to_string(), ");")),
        }
    }
}

/// The translation unit of one or more inputs (a batch); only the first
/// may redeclare what the session has.
pub fn unit(model: &Model, plans: &[&Plan]) -> String {
    let displaced = match plans.first() {
        Some(first) => displacement(model, &first.redeclared(model)),
        None => Displacement::default(),
    };
    let seeds: Vec<String> = plans.iter().flat_map(|p| p.identifiers()).collect();
    let mut tu = String::from("#line 1 \"<repl>\"\n");
    tu.push_str(&model.prelude(seeds.iter().map(String::as_str), &displaced));
    for plan in plans {
        render_input(&mut tu, plan, model);
    }
    tu
}

/// What the prelude leaves out or shortens when `redeclared` are declared
/// anew: a record declaring only those names goes; one that also declares
/// others keeps them (a struct defined again keeps the variables declared
/// with it, as references to the tag; variables and functions declared
/// together keep the others, declared by type).
pub fn displacement(model: &Model, redeclared: &[(Space, String)]) -> Displacement {
    use input::types::{defined_tags, tag_body, without_tag_body};
    let mut hits: HashMap<usize, Vec<(Space, String)>> = HashMap::new();
    for (space, name) in redeclared {
        if let Some(id) = model.binding(*space, name) {
            hits.entry(id).or_default().push((*space, name.clone()));
        }
    }
    let mut out = Displacement::default();
    for (id, hit) in hits {
        let record = model.record(id);
        if !record.live || record.directive {
            continue;
        }
        let is_hit = |e: &Entity| {
            hit.iter()
                .any(|(s, n)| *n == e.name && *s == Space::from(e.namespace()))
        };
        let remaining: Vec<Entity> = record
            .entities
            .iter()
            .filter(|e| !is_hit(e))
            .cloned()
            .collect();
        if remaining.is_empty() {
            out.records.insert(id, None);
            continue;
        }
        let tags: Vec<String> = defined_tags(&record.text)
            .into_iter()
            .filter(|t| hit.iter().any(|(s, n)| *s == Space::Tag && n == t))
            .collect();
        let bodies: Vec<String> = tags
            .iter()
            .filter_map(|t| tag_body(&record.text, t))
            .collect();
        let inside = |n: &str| bodies.iter().any(|b| b.split(' ').any(|t| t == n));
        let rest: Vec<Entity> = remaining.into_iter().filter(|e| !inside(&e.name)).collect();
        let only_tags_hit = hit
            .iter()
            .all(|(s, n)| *s == Space::Tag && tags.contains(n) || inside(n));
        let shortened = if rest.is_empty() {
            None
        } else if !tags.is_empty() && only_tags_hit {
            let text = tags.iter().fold(record.text.clone(), |text, tag| {
                without_tag_body(&text, tag)
            });
            Some(Shortened {
                text,
                entities: rest,
            })
        } else if tags.is_empty() {
            typed_declarations(&rest).map(|text| Shortened {
                text,
                entities: rest,
            })
        } else {
            None
        };
        out.records.insert(id, shortened);
    }
    out
}

/// `extern __typeof__(TYPE) NAME;` for variables and `__typeof__(TYPE)
/// NAME;` for functions, from clang's types, each with its section
/// attribute (a thread-local variable stays thread-local); `None` if one
/// is not a variable or function or its type cannot be written back.
fn typed_declarations(entities: &[Entity]) -> Option<String> {
    let mut out = Vec::new();
    for e in entities {
        if e.ty.is_empty() || !ast::is_writable(&e.ty) {
            return None;
        }
        let section = e.section.as_ref().map_or(String::new(), |s| {
            format!(" __attribute__((__section__(\"{}\")))", escape_c(s))
        });
        match e.kind {
            EntityKind::Variable => {
                out.push(format!("extern __typeof__({}) {}{section};", e.ty, e.name))
            }
            EntityKind::Function => out.push(format!("__typeof__({}) {}{section};", e.ty, e.name)),
            _ => return None,
        }
    }
    Some(out.join(" "))
}

/// Text that turns `static` and `inline` into nothing, for a declaration
/// whose linkage comes from a macro (every REPL definition must be
/// visible to later inputs), and the text that restores them.
const KEYWORDS: [&str; 4] = ["static", "inline", "__inline", "__inline__"];

fn neutralize(out: &mut String, on: bool) {
    for k in KEYWORDS {
        if on {
            let _ = writeln!(out, "#pragma push_macro(\"{k}\")\n#undef {k}\n#define {k}");
        } else {
            let _ = writeln!(out, "#pragma pop_macro(\"{k}\")");
        }
    }
}

/// `#undef NAME` lines for macros the directive defines again.
fn undef_redefined(model: &Model, text: &str) -> String {
    let mut out = String::new();
    for name in super::analysis::directive_macros(text) {
        if model.is_macro(&name) {
            let _ = writeln!(out, "#undef {name}");
        }
    }
    out
}

/// Appends one input's declarations, value variable and run function.
fn render_input(tu: &mut String, plan: &Plan, model: &Model) {
    let n = plan.number;
    let origin = &plan.origin;
    let mut run_body = String::new();
    for p in plan.active() {
        if p.conditional && plan.from_clang {
            continue; // the probe resolved it: inactive items are left out
        }
        let zeroed;
        let item = if plan.fresh_tentatives {
            zeroed = Item {
                text: input::zero_initialize_tentatives(&p.item),
                ..p.item.clone()
            };
            &zeroed
        } else {
            &p.item
        };
        match item.kind {
            ItemKind::Directive => {
                tu.push_str(&undef_redefined(model, &item.text));
                place(tu, origin, item, &item.text);
            }
            ItemKind::Declaration(DeclKind::FunctionDef) if p.hidden_linkage => {
                function_without_linkage(tu, origin, item);
            }
            ItemKind::Declaration(DeclKind::Variable) if plan.runtime_init => {
                let (decl, inits) = input::split_initializers(item);
                let stripped = Item {
                    text: decl,
                    ..item.clone()
                };
                declaration(tu, origin, p, &input::strip_internal_linkage(&stripped));
                for init in inits {
                    let at = Item {
                        line: init.line,
                        col: init.col,
                        text: init.text,
                        ..item.clone()
                    };
                    wrap(
                        &mut run_body,
                        origin,
                        &at,
                        &format!("{} = (", init.name),
                        ");",
                    );
                }
            }
            ItemKind::Declaration(_) => {
                declaration(tu, origin, p, &input::strip_internal_linkage(item))
            }
            ItemKind::Statement => place(&mut run_body, origin, item, &item.text),
            ItemKind::Expression => {
                let (declaration, run) = plan.form.wrappers(n);
                if let Some((before, after)) = declaration {
                    wrap(tu, origin, item, &before, &after);
                }
                wrap(&mut run_body, origin, item, &run.0, &run.1);
            }
        }
    }
    if plan.has_run() {
        let _ = writeln!(tu, "#line 1 \"<repl>\"\nvoid __repl_run_{n}(void) {{");
        tu.push_str(&run_body);
        let _ = writeln!(tu, "#line 1 \"<repl>\"\n}}");
    }
}

/// A declaration at file scope (its macro-made linkage neutralized).
fn declaration(tu: &mut String, origin: &Origin, p: &Planned, text: &str) {
    if p.hidden_linkage {
        neutralize(tu, true);
        place(tu, origin, &p.item, text);
        neutralize(tu, false);
    } else {
        place(tu, origin, &p.item, text);
    }
}

/// A function definition whose `static`/`inline` come from macros: its
/// header with them neutralized, its body as written (static locals stay).
fn function_without_linkage(tu: &mut String, origin: &Origin, item: &Item) {
    let Some(split) = input::function_header_len(item) else {
        place(tu, origin, item, &item.text);
        return;
    };
    let (header, body) = item.text.split_at(split);
    neutralize(tu, true);
    place(tu, origin, item, header);
    neutralize(tu, false);
    let lines = header.matches('\n').count() as u32;
    let col = match header.rfind('\n') {
        Some(nl) => (header.len() - nl) as u32,
        None => item.col + header.len() as u32,
    };
    let at = Item {
        line: item.line + lines,
        col,
        text: body.to_string(),
        ..item.clone()
    };
    place(tu, origin, &at, body);
}

/// Writes `text` so that it starts at the item's line and column of its origin.
pub fn place(out: &mut String, origin: &Origin, item: &Item, text: &str) {
    let line = origin.first_line + item.line.saturating_sub(1);
    let _ = writeln!(out, "#line {line} \"{}\"", escape_c(&origin.name));
    for _ in 1..item.col {
        out.push(' ');
    }
    out.push_str(text);
    out.push('\n');
}

/// `item`'s text between generated `before` and `after` lines, which are
/// marked as `<repl>` code so that diagnostics in them are not the user's.
fn wrap(out: &mut String, origin: &Origin, item: &Item, before: &str, after: &str) {
    let _ = writeln!(out, "#line 1 \"<repl>\"\n{before}");
    place(out, origin, item, &item.text);
    let _ = writeln!(out, "#line 1 \"<repl>\"\n{after}");
}

fn escape_c(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// What later inputs see of an accepted item: for a function its
/// prototype, for variables `extern` declarations (array bounds from
/// clang's types), types and directives as written. Where the lexer's
/// reading disagrees with clang's, or linkage comes from a macro,
/// declarations are written from clang's types instead.
pub fn carried(p: &Planned, model: &Model) -> String {
    let item = &p.item;
    if item.kind == ItemKind::Directive {
        return undef_redefined(model, &item.text) + &item.text;
    }
    let by_types = p.carry_from_types || p.hidden_linkage;
    let only_objects = p
        .entities
        .iter()
        .all(|e| matches!(e.kind, EntityKind::Variable | EntityKind::Function));
    let object_item = matches!(
        item.kind,
        ItemKind::Declaration(DeclKind::Variable | DeclKind::Prototype)
    );
    if by_types && p.entities.is_empty() && object_item {
        return String::new();
    }
    if by_types && !p.entities.is_empty() && only_objects {
        if let Some(text) = typed_declarations(&p.entities) {
            return text;
        }
    }
    let bound = |name: &str| {
        p.entities
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| ast::outer_bound(&e.canonical))
    };
    input::carry_with_bounds(item, &bound)
}
