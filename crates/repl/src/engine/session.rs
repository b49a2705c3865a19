//! The session as data: every directive and declaration later inputs must
//! see, as records (what it declares, in which namespace, with which type,
//! the text carried, the input that made it), the current binding of
//! every name in its namespace (ordinary identifiers, tags, macros), and a
//! log of changes per input so undo reverts exactly what an input did.
//!
//! Nothing here is cloned per input: an input adds records and bindings
//! and logs each change; undo replays its log backwards. The prelude of a
//! translation unit holds the directives and the declarations the input
//! can reach through the identifiers it mentions (transitively), so its
//! size follows what the input uses, not the session's length.

use super::Origin;
use crate::clang::ast::{Entity, EntityKind, Namespace};
use crate::input::{self, NameKind, Names, TokenKind};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Where a name lives: C's ordinary identifiers, tags, and macros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    Ordinary,
    Tag,
    Macro,
}

impl From<Namespace> for Space {
    fn from(ns: Namespace) -> Space {
        match ns {
            Namespace::Ordinary => Space::Ordinary,
            Namespace::Tag => Space::Tag,
        }
    }
}

/// A directive or a declaration carried to later inputs.
#[derive(Debug, Clone)]
pub struct Record {
    /// The input that made it.
    pub origin: Origin,
    pub directive: bool,
    /// The text later translation units include.
    pub text: String,
    /// What it declares (directives: nothing).
    pub entities: Vec<Entity>,
    /// Macros a `#define` defines.
    pub macros: Vec<String>,
    /// Identifiers its text mentions.
    pub idents: Vec<String>,
    pub live: bool,
}

impl Record {
    /// The names it declares, with their spaces.
    pub fn names(&self) -> impl Iterator<Item = (Space, &str)> {
        self.entities
            .iter()
            .map(|e| (Space::from(e.namespace()), e.name.as_str()))
            .chain(self.macros.iter().map(|m| (Space::Macro, m.as_str())))
    }
}

/// One change to the model, as undo needs it.
#[derive(Debug, Clone)]
pub enum Change {
    Added(usize),
    Killed(usize),
    Rewritten {
        id: usize,
        text: String,
        entities: Vec<Entity>,
        idents: Vec<String>,
    },
    Bound {
        space: Space,
        name: String,
        old: Option<usize>,
    },
}

/// What the prelude of one translation unit leaves out or shortens,
/// because the unit declares those names anew.
#[derive(Debug, Clone, Default)]
pub struct Displacement {
    /// Record id -> replacement text (`None`: left out).
    pub records: HashMap<usize, Option<Shortened>>,
}

/// A record's text and entities without the names displaced.
#[derive(Debug, Clone)]
pub struct Shortened {
    pub text: String,
    pub entities: Vec<Entity>,
}

/// The session's records and name bindings.
#[derive(Debug, Default)]
pub struct Model {
    records: Vec<Record>,
    bindings: HashMap<(Space, String), usize>,
    /// Identifier -> records whose text mentions it (append-only).
    mentions: HashMap<String, Vec<usize>>,
    /// Identifiers mentioned by live directives, with counts.
    macro_idents: HashMap<String, usize>,
    directives: Vec<usize>,
}

impl Names for Model {
    fn kind(&self, name: &str) -> NameKind {
        match self.entity(Space::Ordinary, name).map(|e| e.kind) {
            Some(EntityKind::Typedef) => NameKind::Typedef,
            Some(EntityKind::Function) => NameKind::Function,
            Some(_) => NameKind::Variable,
            None => NameKind::Unknown,
        }
    }
}

/// The identifiers of a text, each once, in order.
pub fn identifiers(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    input::tokens(text)
        .into_iter()
        .filter(|t| t.kind == TokenKind::Identifier || t.kind == TokenKind::Directive)
        .flat_map(|t| {
            if t.kind == TokenKind::Directive {
                input::tokens(t.text.trim_start_matches(['#', ' ', '\t']))
                    .into_iter()
                    .filter(|t| t.kind == TokenKind::Identifier)
                    .map(|t| t.text.to_string())
                    .collect()
            } else {
                vec![t.text.to_string()]
            }
        })
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

impl Model {
    /// The live record bound to `name` in `space`.
    pub fn binding(&self, space: Space, name: &str) -> Option<usize> {
        self.bindings.get(&(space, name.to_string())).copied()
    }

    /// A record by id.
    pub fn record(&self, id: usize) -> &Record {
        &self.records[id]
    }

    /// What `name` currently is in `space`.
    pub fn entity(&self, space: Space, name: &str) -> Option<&Entity> {
        let id = self.binding(space, name)?;
        self.records[id]
            .entities
            .iter()
            .find(|e| e.name == name && Space::from(e.namespace()) == space)
    }

    /// Whether a macro of that name is defined.
    pub fn is_macro(&self, name: &str) -> bool {
        self.binding(Space::Macro, name).is_some()
    }

    /// Every name the session knows, with what the prompt needs of it.
    pub fn name_kinds(&self) -> HashMap<String, NameKind> {
        self.bindings
            .keys()
            .map(|(space, name)| {
                let kind = match space {
                    Space::Ordinary => self.kind(name),
                    _ => NameKind::Unknown,
                };
                (name.clone(), kind)
            })
            .collect()
    }

    /// Adds a record and binds its names; logs both.
    pub fn add(&mut self, record: Record, log: &mut Vec<Change>) -> usize {
        let id = self.records.len();
        for ident in &record.idents {
            self.mentions.entry(ident.clone()).or_default().push(id);
            if record.directive {
                *self.macro_idents.entry(ident.clone()).or_default() += 1;
            }
        }
        if record.directive {
            self.directives.push(id);
        }
        let names: Vec<(Space, String)> = record.names().map(|(s, n)| (s, n.to_string())).collect();
        self.records.push(record);
        log.push(Change::Added(id));
        for (space, name) in names {
            let old = self.bindings.insert((space, name.clone()), id);
            log.push(Change::Bound { space, name, old });
        }
        id
    }

    /// Takes a record out of later preludes (its names stay bound until
    /// rebound).
    pub fn kill(&mut self, id: usize, log: &mut Vec<Change>) {
        if !self.records[id].live {
            return;
        }
        self.set_live(id, false);
        log.push(Change::Killed(id));
    }

    /// Replaces a record's text and entities (a displaced part removed).
    pub fn rewrite(&mut self, id: usize, short: Shortened, log: &mut Vec<Change>) {
        let record = &mut self.records[id];
        let idents = identifiers(&short.text);
        log.push(Change::Rewritten {
            id,
            text: std::mem::replace(&mut record.text, short.text),
            entities: std::mem::replace(&mut record.entities, short.entities),
            idents: std::mem::replace(&mut record.idents, idents),
        });
        for ident in self.records[id].idents.clone() {
            self.mentions.entry(ident).or_default().push(id);
        }
    }

    fn set_live(&mut self, id: usize, live: bool) {
        let record = &mut self.records[id];
        record.live = live;
        if record.directive {
            for ident in &record.idents {
                let count = self.macro_idents.entry(ident.clone()).or_default();
                if live {
                    *count += 1;
                } else {
                    *count = count.saturating_sub(1);
                }
            }
        }
    }

    /// Reverts a change log (newest change first).
    pub fn revert(&mut self, log: Vec<Change>) {
        for change in log.into_iter().rev() {
            match change {
                Change::Added(id) => {
                    let record = self.records.pop().expect("the newest record");
                    debug_assert_eq!(self.records.len(), id);
                    for ident in &record.idents {
                        if let Some(list) = self.mentions.get_mut(ident) {
                            list.retain(|&r| r != id);
                        }
                        if record.directive && record.live {
                            if let Some(c) = self.macro_idents.get_mut(ident) {
                                *c = c.saturating_sub(1);
                            }
                        }
                    }
                    if record.directive {
                        self.directives.pop();
                    }
                }
                Change::Killed(id) => self.set_live(id, true),
                Change::Rewritten {
                    id,
                    text,
                    entities,
                    idents,
                } => {
                    let record = &mut self.records[id];
                    record.text = text;
                    record.entities = entities;
                    record.idents = idents;
                }
                Change::Bound { space, name, old } => match old {
                    Some(id) => {
                        self.bindings.insert((space, name), id);
                    }
                    None => {
                        self.bindings.remove(&(space, name));
                    }
                },
            }
        }
    }

    /// The prelude for a unit whose inputs mention `seeds`: the live
    /// directives and every live declaration reachable from the seeds and
    /// from what the directives mention, in session order, as displaced.
    pub fn prelude<'s>(
        &self,
        seeds: impl IntoIterator<Item = &'s str>,
        displaced: &Displacement,
    ) -> String {
        let mut wanted: HashSet<usize> = self.directives.iter().copied().collect();
        let mut queue: Vec<String> = seeds.into_iter().map(str::to_string).collect();
        queue.extend(
            self.macro_idents
                .iter()
                .filter(|(_, &n)| n > 0)
                .map(|(i, _)| i.clone()),
        );
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(ident) = queue.pop() {
            if !seen.insert(ident.clone()) {
                continue;
            }
            for space in [Space::Ordinary, Space::Tag] {
                let Some(id) = self.binding(space, &ident) else {
                    continue;
                };
                if !self.records[id].live || !wanted.insert(id) {
                    continue;
                }
                let idents = match displaced.records.get(&id) {
                    Some(Some(short)) => identifiers(&short.text),
                    Some(None) => continue,
                    None => self.records[id].idents.clone(),
                };
                queue.extend(idents.into_iter().filter(|i| !seen.contains(i)));
            }
        }
        let mut ids: Vec<usize> = wanted.into_iter().collect();
        ids.sort_unstable();
        let mut out = String::new();
        for id in ids {
            let record = &self.records[id];
            if !record.live {
                continue;
            }
            match displaced.records.get(&id) {
                Some(None) => {}
                Some(Some(short)) => {
                    let _ = writeln!(out, "{}", short.text);
                }
                None => {
                    let _ = writeln!(out, "{}", record.text);
                }
            }
        }
        out
    }

    /// Live records that mention `ident`.
    pub fn mentioning(&self, ident: &str) -> Vec<usize> {
        let mut ids: Vec<usize> = self
            .mentions
            .get(ident)
            .map(|l| {
                l.iter()
                    .copied()
                    .filter(|&i| self.records[i].live)
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(name: &str, kind: EntityKind) -> Entity {
        Entity {
            name: name.to_string(),
            kind,
            ty: "int".to_string(),
            canonical: "int".to_string(),
            storage: None,
            inline: false,
            initialized: false,
            constant_init: false,
            defines_body: true,
            section: None,
        }
    }

    fn record(text: &str, entities: Vec<Entity>) -> Record {
        Record {
            origin: Origin {
                name: "t".into(),
                first_line: 1,
            },
            directive: false,
            idents: identifiers(text),
            text: text.to_string(),
            entities,
            macros: Vec::new(),
            live: true,
        }
    }

    #[test]
    fn tags_and_variables_have_separate_bindings_and_undo_restores_them() {
        let mut model = Model::default();
        let mut first = Vec::new();
        model.add(
            record("extern int pt;", vec![entity("pt", EntityKind::Variable)]),
            &mut first,
        );
        let mut second = Vec::new();
        let tag = model.add(
            record("struct pt { int a; };", vec![entity("pt", EntityKind::Tag)]),
            &mut second,
        );
        assert_eq!(model.kind("pt"), NameKind::Variable);
        assert_eq!(model.binding(Space::Tag, "pt"), Some(tag));
        let prelude = model.prelude(["pt"], &Displacement::default());
        assert!(
            prelude.contains("extern int pt;") && prelude.contains("struct pt {"),
            "{prelude}"
        );
        model.revert(second);
        assert_eq!(model.binding(Space::Tag, "pt"), None);
        assert_eq!(model.kind("pt"), NameKind::Variable);
    }

    #[test]
    fn the_prelude_holds_what_an_input_can_reach() {
        let mut model = Model::default();
        let mut log = Vec::new();
        model.add(
            record("struct p { int x; };", vec![entity("p", EntityKind::Tag)]),
            &mut log,
        );
        model.add(
            record(
                "extern struct p a;",
                vec![entity("a", EntityKind::Variable)],
            ),
            &mut log,
        );
        model.add(
            record(
                "extern int unrelated;",
                vec![entity("unrelated", EntityKind::Variable)],
            ),
            &mut log,
        );
        let prelude = model.prelude(["a"], &Displacement::default());
        assert_eq!(prelude, "struct p { int x; };\nextern struct p a;\n");
    }
}
