//! Replays compile many inputs per clang run: a run of consecutive inputs
//! that redeclare nothing shares one translation unit, one probe, one link
//! unit; each input still runs in its own memory epoch and is accepted on
//! its own. Any failure restores the state from before the batch and the
//! inputs up to the failing one are evaluated singly, so results are
//! exactly those of one-at-a-time evaluation.

use super::analysis::{self, Plan};
use super::session::{Model, Space};
use super::{EvalError, Evaluation, Failure, Origin, Repl, Times};
use crate::clang::ast::{self, EntityKind};
use crate::input::{self, ItemKind, NameKind, Names};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// Inputs compiled together per clang run by [`Repl::eval_batch`].
pub const MAX_BATCH: usize = 64;

/// The session's names overlaid with those a batch declares so far.
struct Overlay<'m> {
    model: &'m Model,
    local: HashMap<String, NameKind>,
}

impl Names for Overlay<'_> {
    fn kind(&self, name: &str) -> NameKind {
        match self.local.get(name) {
            Some(k) => *k,
            None => self.model.kind(name),
        }
    }
}

/// The space a lexer-declared name lives in.
fn space_of(kind: NameKind) -> Space {
    match kind {
        NameKind::Unknown => Space::Tag,
        _ => Space::Ordinary,
    }
}

/// The first plan (after the first) that must not share the unit by what
/// clang says it declares: a name the session or an earlier plan has, a
/// macro defined again, or a `const` object (later inputs must read it,
/// not have clang fold it). `None`: all may stay.
pub(super) fn first_unbatchable(plans: &[Plan], model: &Model) -> Option<usize> {
    let mut declared: HashSet<(Space, String)> = HashSet::new();
    for (k, plan) in plans.iter().enumerate() {
        let names: Vec<(Space, String)> = plan
            .entities()
            .filter(|e| e.kind != EntityKind::Tag || e.defines_body)
            .map(|e| (Space::from(e.namespace()), e.name.clone()))
            .chain(plan.macros().into_iter().map(|m| (Space::Macro, m)))
            .collect();
        let clash = names
            .iter()
            .any(|(s, n)| declared.contains(&(*s, n.clone())) || model.binding(*s, n).is_some());
        if k > 0 && clash {
            return Some(k);
        }
        declared.extend(names);
        let constant = plan.entities().any(|e| {
            e.kind == EntityKind::Variable && e.initialized && ast::is_top_level_const(&e.canonical)
        });
        if constant && k + 1 < plans.len() {
            return Some(k);
        }
    }
    None
}

impl Repl {
    /// Evaluates inputs in order with the same results as calling
    /// [`Repl::eval`] on each, but compiles runs of consecutive inputs as
    /// one translation unit (see the module documentation). `each` gets
    /// every input's index and result, in order.
    pub fn eval_batch(
        &mut self,
        inputs: &[(String, Origin)],
        mut each: impl FnMut(usize, Result<Evaluation, EvalError>),
    ) {
        let mut pos = 0;
        while pos < inputs.len() {
            let batch = self.speculate(&inputs[pos..]);
            let len = batch.len();
            match self.run_batch(batch) {
                Ok(results) => {
                    for (k, r) in results.into_iter().enumerate() {
                        each(pos + k, Ok(r));
                    }
                    pos += len;
                }
                Err(failed) => {
                    for (k, (source, origin)) in inputs[pos..=pos + failed].iter().enumerate() {
                        each(pos + k, self.eval(source, Some(origin.clone())));
                    }
                    pos += failed + 1;
                }
            }
        }
    }

    /// The lexer's plans for the longest run of inputs (at most
    /// [`MAX_BATCH`]) that can share one translation unit, assuming each
    /// is accepted. `None` marks an empty input (comments only).
    fn speculate(&self, inputs: &[(String, Origin)]) -> Vec<Option<Plan>> {
        let mut names = Overlay {
            model: &self.model,
            local: HashMap::new(),
        };
        let mut declared: HashSet<(Space, String)> = HashSet::new();
        let mut number = self.inputs;
        let mut out = Vec::new();
        for (source, origin) in inputs.iter().take(MAX_BATCH) {
            let items = input::split(source, &names);
            if items.is_empty() {
                out.push(None);
                continue;
            }
            let mut these: Vec<(Space, String)> = Vec::new();
            for item in &items {
                if item.kind == ItemKind::Directive {
                    these.extend(
                        analysis::directive_macros(&item.text)
                            .into_iter()
                            .map(|m| (Space::Macro, m)),
                    );
                }
                for (n, k) in input::declared_kinds(item) {
                    these.push((space_of(k), n));
                }
            }
            let clashes = these.iter().any(|(s, n)| {
                declared.contains(&(*s, n.clone())) || self.model.binding(*s, n).is_some()
            });
            // A kernel-style input is compiled on its own (in kernel mode).
            let kernel_style = super::names_a_section(source);
            if (clashes || kernel_style) && !out.is_empty() {
                break; // a redefinition starts the next batch
            }
            for item in &items {
                for (n, k) in input::declared_kinds(item) {
                    if k != NameKind::Unknown {
                        names.local.insert(n, k);
                    }
                }
            }
            declared.extend(these);
            number += 1;
            // Later inputs must read a constant from memory, as they do
            // one at a time, not have clang fold it: end the batch here.
            let ends_batch = kernel_style || items.iter().any(input::defines_constant);
            out.push(Some(analysis::guess(
                number,
                origin,
                source,
                &items,
                &self.model,
            )));
            if ends_batch {
                break;
            }
        }
        if out.is_empty() {
            out.push(None); // the first input alone
        }
        out
    }

    /// Compiles, links and runs a prepared batch. `Err(k)`: evaluate the
    /// batch's inputs `0..=k` one by one (the session is as before the batch).
    fn run_batch(&mut self, batch: Vec<Option<Plan>>) -> Result<Vec<Evaluation>, usize> {
        let last = batch.len() - 1;
        let positions: Vec<usize> = (0..batch.len()).filter(|&k| batch[k].is_some()).collect();
        if positions.len() < 2 {
            return Err(last);
        }
        let origins: Vec<Option<(Origin, String)>> = batch
            .iter()
            .map(|p| p.as_ref().map(|p| (p.origin.clone(), p.source.clone())))
            .collect();
        let plans: Vec<Plan> = batch.into_iter().flatten().collect();
        let t = Instant::now();
        let (plans, compiled) = match self.prepare(plans, true) {
            Ok(done) => done,
            Err(Failure::Refused(k, _)) => return Err(positions[k]),
            // An error nobody's line names (a timeout, a crash): evaluate
            // every input of the batch on its own, so it is paid once.
            Err(Failure::Compile(e)) => {
                return Err(batch_position(&origins, &e.raw).unwrap_or(last))
            }
        };
        let compile_time = t.elapsed() / plans.len() as u32;
        let (first, final_plan) = (&plans[0], &plans[plans.len() - 1]);
        let same_file =
            first.origin.name == final_plan.origin.name && !first.origin.name.starts_with("input ");
        let name = if same_file {
            let (from, to) = (first.origin.first_line, final_plan.origin.first_line);
            format!("{}:{from}-{to}", first.origin.name)
        } else {
            format!("inputs {}-{}", first.number, final_plan.number)
        };
        let before = (self.inputs, self.accepted.len());
        let t = Instant::now();
        let mut start = Some(self.begin_input());
        if self.session.add_object(&name, &compiled.object).is_err() {
            if let Some(s) = start {
                self.abandon_input(s, false);
            }
            return Err(last);
        }
        let link_time = t.elapsed() / plans.len() as u32;
        let warnings = split_warnings(&origins, &compiled.warnings);

        let mut plans = plans.into_iter();
        let mut results = Vec::new();
        for k in 0..=last {
            if origins[k].is_none() {
                results.push(Evaluation::default());
                continue;
            }
            let plan = plans.next().expect("one plan per input");
            let owner = start.is_some();
            let this = start.take().unwrap_or_else(|| self.begin_input());
            self.inputs = plan.number;
            let t = Instant::now();
            let mut evaluation = Evaluation {
                warnings: warnings[k].clone(),
                ..Evaluation::default()
            };
            if plan.has_run() {
                let result = self
                    .session
                    .call(&format!("__repl_run_{}", plan.number), &[]);
                evaluation.output = self.stdout.take();
                if result.is_err() {
                    self.abandon_input(this, owner);
                    self.truncate_accepted(before.1);
                    self.inputs = before.0;
                    return Err(k);
                }
                evaluation.value = self.read_value(plan.number, plan.form);
            }
            evaluation.times = Times {
                compile: compile_time,
                link: link_time,
                run: t.elapsed(),
            };
            self.accept(&plan, this, owner);
            results.push(evaluation);
        }
        Ok(results)
    }
}

/// The batch index of the input a diagnostic line (`name:line:col: ...`) points at.
fn batch_position(origins: &[Option<(Origin, String)>], diagnostics: &str) -> Option<usize> {
    let line = diagnostics.lines().find(|l| l.contains(": error:"))?;
    position_of(origins, line)
}

fn position_of(origins: &[Option<(Origin, String)>], line: &str) -> Option<usize> {
    origins.iter().position(|o| {
        let Some((origin, source)) = o else {
            return false;
        };
        let Some(rest) = line.strip_prefix(&format!("{}:", origin.name)) else {
            return false;
        };
        let Some(n) = rest.split(':').next().and_then(|n| n.parse::<u32>().ok()) else {
            return false;
        };
        let lines = source.lines().count().max(1) as u32;
        n >= origin.first_line && n < origin.first_line + lines
    })
}

/// Warnings of a batch compile, given to the input each one points at.
fn split_warnings(origins: &[Option<(Origin, String)>], warnings: &str) -> Vec<String> {
    let mut out = vec![String::new(); origins.len()];
    let mut current = origins.iter().position(|p| p.is_some()).unwrap_or(0);
    for line in warnings.lines() {
        if let Some(k) = position_of(origins, line) {
            current = k;
        }
        out[current].push_str(line);
        out[current].push('\n');
    }
    out
}
