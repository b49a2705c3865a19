//! The REPL engine: one input in, one translation unit compiled by clang,
//! linked into the session, run, and its value read back with its C type.
//!
//! The session is one C program growing by inputs. Each input's
//! translation unit is the *prelude* (every earlier directive and a
//! declaration of every earlier definition, in input order) followed by
//! the input's own declarations at file scope, and its statements and
//! final expression inside a fresh function `__repl_run_N` that is called
//! once. `#line` markers map every diagnostic to the user's text.

use crate::clang::{CompileError, Compiler};
use crate::dwarf::DebugInfo;
use crate::input::{self, DeclKind, Item, ItemKind, NameKind};
use crate::value;
use bpf_linker::{CallError, LinkError, Session, SessionOptions};
use bpf_runtime::{HeapPlace, OutputSink, Runtime, RuntimeSnapshot};
use bpf_vm::{Memory, Trap, Vm, VmConfig};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Settings of a REPL session.
#[derive(Debug, Clone)]
pub struct ReplOptions {
    /// Extra clang flags (`--cflags`).
    pub cflags: Vec<String>,
    /// Instructions one input may execute.
    pub budget: u64,
    /// Stack bytes per BPF call frame.
    pub frame_size: usize,
    /// Ask clang for coloured diagnostics.
    pub color: bool,
}

impl Default for ReplOptions {
    fn default() -> Self {
        ReplOptions {
            cflags: Vec::new(),
            budget: 100_000_000,
            frame_size: VmConfig::default().frame_size,
            color: false,
        }
    }
}

/// Where an input came from, for diagnostics: a name and its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub name: String,
    pub first_line: u32,
}

/// What one accepted input produced.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// What the program wrote to stdout while running.
    pub output: Vec<u8>,
    /// The value of a final expression, formatted as `(type) value`.
    pub value: Option<String>,
    /// clang warnings (already mapped to the user's text).
    pub warnings: String,
    /// Time spent compiling, linking and running.
    pub times: Times,
}

/// Time spent in each stage of one input.
#[derive(Debug, Clone, Copy, Default)]
pub struct Times {
    pub compile: Duration,
    pub link: Duration,
    pub run: Duration,
}

/// Why an input was rejected. The session is as it was before the input.
#[derive(Debug, Clone)]
pub enum EvalError {
    /// clang rejected the code; its diagnostics, mapped to the input.
    Compile(String),
    /// The object did not link (unresolved or conflicting symbols...).
    Link(String),
    /// The code ran and stopped abnormally; output produced before the stop is kept.
    Run { message: String, output: Vec<u8> },
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Compile(d) => f.write_str(d.trim_end()),
            EvalError::Link(m) => write!(f, "error: {m}"),
            EvalError::Run { message, .. } => write!(f, "error: {message}"),
        }
    }
}

/// One line of the prelude: a directive or a declaration carried forward.
#[derive(Debug, Clone)]
struct PreludeEntry {
    names: Vec<String>,
    text: String,
}

/// What undo needs to know about an accepted input.
#[derive(Debug, Clone)]
struct Accepted {
    number: usize,
    source: String,
    origin: Origin,
    /// Names its declarations and directives define.
    declares: Vec<String>,
    /// Whether it added a link unit to the session.
    linked: bool,
    prelude_before: Vec<PreludeEntry>,
    known_before: HashMap<String, NameKind>,
    /// VM memory before the input; kept for the newest [`UNDO_MEMORY_DEPTH`] inputs.
    memory_before: Option<Memory>,
    runtime_before: RuntimeSnapshot,
}

/// How many of the newest accepted inputs keep a copy of VM memory, so
/// that undoing them also undoes what they wrote.
pub const UNDO_MEMORY_DEPTH: usize = 64;

/// A REPL session: compiler, linker session, runtime and prelude.
pub struct Repl {
    compiler: Compiler,
    session: Session,
    runtime: Runtime,
    stdout: OutputSink,
    prelude: Vec<PreludeEntry>,
    known: HashMap<String, NameKind>,
    inputs: usize,
    accepted: Vec<Accepted>,
    /// What the meta commands set (`%time`, `%cflags`).
    meta: crate::meta::Settings,
}

/// How a final expression's value is brought out of the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueForm {
    /// `__typeof__((E)) __repl_val_N; ... __repl_val_N = (E);`
    Copy,
    /// `__typeof__((E)) *__repl_ref_N; ... __repl_ref_N = &(E);` (arrays,
    /// `const` objects)
    Reference,
    /// `__typeof__((E)) __repl_val_N; ... memcpy(&__repl_val_N, (E), ...);`
    /// (an array that is not an object, e.g. a member of a `?:` result)
    ArrayCopy,
    /// `__typeof__(&(E)) __repl_val_N; ... __repl_val_N = &(E);` (a
    /// function, printed as the pointer it decays to)
    Address,
    /// The expression is `void`: run it as a statement.
    Discard,
}

impl ValueForm {
    /// The generated code around the expression of input `n`: at file
    /// scope (the value variable's declaration, if any) and in the run
    /// function, each as the text before and after the expression.
    fn wrappers(self, n: usize) -> (Option<(String, String)>, (String, String)) {
        let declare = |before: &str, after: String| Some((before.to_string(), after));
        let run = |before: String, after: &str| (before, after.to_string());
        match self {
            ValueForm::Copy => (
                declare("__typeof__((", format!(")) __repl_val_{n};")),
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

/// Inputs compiled together per clang run by [`Repl::eval_batch`].
pub const MAX_BATCH: usize = 64;

/// An input of a batch, split and numbered ahead of time.
struct Prepared {
    number: usize,
    origin: Origin,
    source: String,
    items: Vec<Item>,
    form: ValueForm,
}

impl Prepared {
    fn plan(&self) -> Plan<'_> {
        Plan {
            number: self.number,
            origin: &self.origin,
            items: &self.items,
            form: self.form,
            runtime_init: false,
            fresh_tentatives: false,
        }
    }
}

/// What a failed batch restores.
struct BatchStart {
    inputs: usize,
    accepted: usize,
    prelude: Vec<PreludeEntry>,
    known: HashMap<String, NameKind>,
    memory: Memory,
    runtime: RuntimeSnapshot,
}

/// The index of the batch input whose origin a diagnostic line names.
fn batch_position(batch: &[Option<Prepared>], line: &str) -> Option<usize> {
    batch.iter().position(|p| {
        let Some(p) = p else { return false };
        let Some(rest) = line.strip_prefix(&format!("{}:", p.origin.name)) else {
            return false;
        };
        let Some(n) = rest.split(':').next().and_then(|n| n.parse::<u32>().ok()) else {
            return false;
        };
        let lines = p.source.lines().count().max(1) as u32;
        n >= p.origin.first_line && n < p.origin.first_line + lines
    })
}

/// The pieces of one translation unit, before rendering.
struct Plan<'a> {
    number: usize,
    origin: &'a Origin,
    items: &'a [Item],
    form: ValueForm,
    /// Variable items whose initializers move into the run function.
    runtime_init: bool,
    /// Tentative definitions of existing names define new, zeroed objects
    /// (the types differ) instead of merging with the old ones.
    fresh_tentatives: bool,
}

impl Plan<'_> {
    /// The shape of the translation unit, for trying each shape once.
    fn shape(&self) -> (ValueForm, bool, bool) {
        (self.form, self.runtime_init, self.fresh_tentatives)
    }

    /// Names whose earlier declarations the prelude leaves out because
    /// this plan declares them anew. A tentative definition (`int n;`)
    /// keeps the earlier declaration, so that clang merges the two when
    /// the types agree and says so when they do not.
    fn redeclared(&self) -> Vec<&String> {
        let merging: Vec<String> = if self.fresh_tentatives {
            Vec::new()
        } else {
            self.items.iter().flat_map(input::tentative_names).collect()
        };
        declared_names(self.items)
            .into_iter()
            .filter(|n| !merging.contains(n))
            .collect()
    }
}

impl Repl {
    /// A new session; fails only when no usable clang exists.
    pub fn new(options: &ReplOptions) -> Result<Repl, crate::clang::ClangError> {
        let clang = crate::clang::find_clang()?;
        let mut flags: Vec<String> = bpf_runtime::clang_args()
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        flags.extend(options.cflags.iter().cloned());
        let mut compiler = Compiler::new(clang.clone(), &flags).map_err(|e| {
            crate::clang::ClangError::Unusable {
                path: clang,
                reason: e.to_string(),
            }
        })?;
        compiler.set_color(options.color);
        let config = VmConfig {
            budget: options.budget,
            frame_size: options.frame_size,
            ..VmConfig::default()
        };
        let mut session = Session::new(
            Vm::new(config),
            SessionOptions {
                allow_redefinition: true,
                keep_unfixed_graphs: true,
            },
        );
        let stdout = OutputSink::buffer();
        let runtime = Runtime::new(stdout.clone());
        for (name, helper) in runtime.helpers() {
            session.register_helper(name, helper);
        }
        Ok(Repl {
            compiler,
            session,
            runtime,
            stdout,
            prelude: Vec::new(),
            known: HashMap::new(),
            inputs: 0,
            accepted: Vec::new(),
            meta: crate::meta::Settings::default(),
        })
    }

    /// The linker session (symbols, VM, objects).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The linker session, mutably (e.g. the VM's interrupt flag).
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The compiler (flags, clang path).
    pub fn compiler_mut(&mut self) -> &mut Compiler {
        &mut self.compiler
    }

    /// Sources of the accepted inputs, oldest first.
    pub fn accepted_sources(&self) -> impl Iterator<Item = &str> {
        self.accepted.iter().map(|a| a.source.as_str())
    }

    /// The accepted inputs, oldest first: where each came from and its text.
    pub fn accepted_inputs(&self) -> impl DoubleEndedIterator<Item = (&Origin, &str)> {
        self.accepted.iter().map(|a| (&a.origin, a.source.as_str()))
    }

    /// The accepted input that last declared `name`: `input 3`, or
    /// `file.c:12` for an input replayed from a file.
    pub fn defining_input(&self, name: &str) -> Option<String> {
        let a = self
            .accepted
            .iter()
            .rev()
            .find(|a| a.declares.iter().any(|n| n == name))?;
        Some(if a.origin.name.starts_with("input ") {
            a.origin.name.clone()
        } else {
            format!("{}:{}", a.origin.name, a.origin.first_line)
        })
    }

    /// Settings of the meta commands (`%time`, `%cflags`).
    pub fn meta_settings(&mut self) -> &mut crate::meta::Settings {
        &mut self.meta
    }

    /// Number of inputs evaluated so far (accepted or not).
    pub fn input_count(&self) -> usize {
        self.inputs
    }

    /// Names the session knows (functions, variables, types, macros) and what they are.
    pub fn names(&self) -> &HashMap<String, NameKind> {
        &self.known
    }

    /// Evaluates one complete input.
    pub fn eval(&mut self, source: &str, origin: Option<Origin>) -> Result<Evaluation, EvalError> {
        let items = input::split(source, &self.known);
        if items.is_empty() {
            return Ok(Evaluation::default());
        }
        self.inputs += 1;
        let number = self.inputs;
        let origin = origin.unwrap_or_else(|| Origin {
            name: format!("input {number}"),
            first_line: 1,
        });
        let mut times = Times::default();
        if let Some(message) = self.type_redefinition_conflict(&items, &origin) {
            return Err(EvalError::Compile(message));
        }

        // Compile, retrying with another shape where clang tells us to.
        let mut plan = Plan {
            number,
            origin: &origin,
            items: &items,
            form: initial_form(&items),
            runtime_init: false,
            fresh_tentatives: false,
        };
        let t = Instant::now();
        // Each shape is tried once: retries can point back at a shape
        // already tried (an array that is an rvalue can be neither copied
        // nor referenced), and then the last complaint stands.
        let mut tried = vec![plan.shape()];
        let compiled = loop {
            let source = self.render(&plan);
            match self.compiler.compile(&source) {
                Ok(c) => break c,
                Err(e) => {
                    let next = retry(&plan, &e)
                        .into_iter()
                        .find(|p| !tried.contains(&p.shape()));
                    let Some(next) = next else {
                        // A place clang could not name is the input's first line.
                        let input = format!("{}:{}:", origin.name, origin.first_line);
                        let diagnostics = e.diagnostics.replace("<input>:", &input);
                        return Err(EvalError::Compile(diagnostics));
                    };
                    tried.push(next.shape());
                    plan = next;
                }
            }
        };
        times.compile = t.elapsed();

        // Link.
        let t = Instant::now();
        let has_run = plan_has_run(&plan);
        let memory_before = self.session.vm().mem.clone();
        let runtime_before = self.runtime.save();
        self.session
            .add_object(&origin.name, &compiled.object)
            .map_err(|e| EvalError::Link(link_message(&e)))?;
        times.link = t.elapsed();

        // Run.
        let t = Instant::now();
        let mut evaluation = Evaluation {
            warnings: compiled.warnings,
            ..Evaluation::default()
        };
        if has_run {
            let result = self.session.call(&format!("__repl_run_{number}"), &[]);
            let output = self.stdout.take();
            if let Err(e) = result {
                // Describe while the input's code is still linked, then forget it.
                let message = self.describe_call_error(&e);
                self.rollback(memory_before, runtime_before);
                return Err(EvalError::Run { message, output });
            }
            evaluation.output = output;
            evaluation.value = self.read_value(&plan);
        }
        times.run = t.elapsed();
        evaluation.times = times;

        self.accept(
            number,
            source,
            origin.clone(),
            &items,
            memory_before,
            runtime_before,
        );
        Ok(evaluation)
    }

    /// Evaluates inputs in order with the same results as calling
    /// [`Repl::eval`] on each, but compiles runs of consecutive inputs as one
    /// translation unit — one clang run for up to [`MAX_BATCH`] inputs —
    /// when nothing in the run redefines a name. If a batch fails anywhere
    /// (compile, link or run), the session goes back to where the batch
    /// started and the inputs up to the failing one are evaluated one by
    /// one, so errors, output and state are exactly as without batching.
    /// `each` gets every input's index and result, in order.
    pub fn eval_batch(
        &mut self,
        inputs: &[(String, Origin)],
        mut each: impl FnMut(usize, Result<Evaluation, EvalError>),
    ) {
        let mut pos = 0;
        while pos < inputs.len() {
            let batch = self.speculate(&inputs[pos..]);
            match self.run_batch(&batch) {
                Ok(results) => {
                    for (k, r) in results.into_iter().enumerate() {
                        each(pos + k, Ok(r));
                    }
                    pos += batch.len();
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

    /// Prepares the longest run of inputs (at most [`MAX_BATCH`]) that can
    /// share one translation unit, assuming each is accepted. `None` marks
    /// an empty input (comments only).
    fn speculate(&self, inputs: &[(String, Origin)]) -> Vec<Option<Prepared>> {
        let mut known = self.known.clone();
        let mut number = self.inputs;
        let mut declared: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (source, origin) in inputs.iter().take(MAX_BATCH) {
            let items = input::split(source, &known);
            if items.is_empty() {
                out.push(None);
                continue;
            }
            let names: Vec<String> = declared_names(&items)
                .into_iter()
                .cloned()
                .chain(
                    items
                        .iter()
                        .filter(|i| i.kind == ItemKind::Directive)
                        .flat_map(|i| directive_names(&i.text)),
                )
                .collect();
            let clashes = names.iter().any(|n| {
                declared.contains(n)
                    || known.contains_key(n)
                    || self.prelude.iter().any(|e| e.names.contains(n))
            });
            if clashes && !out.is_empty() {
                break; // a redefinition starts the next batch
            }
            for (name, kind) in known_updates(&items) {
                known.insert(name, kind);
            }
            declared.extend(names);
            number += 1;
            // Later inputs must read a constant from memory, as they do
            // one at a time, not have clang fold it: end the batch here.
            let ends_batch = items.iter().any(input::defines_constant);
            out.push(Some(Prepared {
                number,
                origin: origin.clone(),
                source: source.clone(),
                form: initial_form(&items),
                items,
            }));
            if ends_batch {
                break;
            }
        }
        if out.is_empty() {
            // The first input alone (it may redefine what the prelude declares).
            out.push(None);
        }
        out
    }

    /// Compiles, links and runs a prepared batch. `Err(k)`: evaluate the
    /// batch's inputs `0..=k` one by one (the session is as before the batch).
    fn run_batch(&mut self, batch: &[Option<Prepared>]) -> Result<Vec<Evaluation>, usize> {
        let real: Vec<&Prepared> = batch.iter().flatten().collect();
        let last = batch.len() - 1;
        if real.len() < 2 {
            return Err(last);
        }
        if self
            .type_redefinition_conflict(&real[0].items, &real[0].origin)
            .is_some()
        {
            return Err(0);
        }
        let plans: Vec<Plan> = real.iter().map(|p| p.plan()).collect();
        let mut tu = self.render_prelude(&plans[0].redeclared(), plans[0].items);
        for plan in &plans {
            self.render_input(&mut tu, plan);
        }
        let t = Instant::now();
        let compiled = match self.compiler.compile(&tu) {
            Ok(c) => c,
            Err(e) => return Err(self.batch_index_of(batch, &e.raw).unwrap_or(0)),
        };
        let compile_time = t.elapsed() / real.len() as u32;

        let before = BatchStart {
            inputs: self.inputs,
            accepted: self.accepted.len(),
            prelude: self.prelude.clone(),
            known: self.known.clone(),
            memory: self.session.vm().mem.clone(),
            runtime: self.runtime.save(),
        };
        let (first, final_input) = (real[0], real[real.len() - 1]);
        let same_file = first.origin.name == final_input.origin.name
            && !first.origin.name.starts_with("input ");
        let name = if same_file {
            let (from, to) = (first.origin.first_line, final_input.origin.first_line);
            format!("{}:{from}-{to}", first.origin.name)
        } else {
            format!("inputs {}-{}", first.number, final_input.number)
        };
        let t = Instant::now();
        if self.session.add_object(&name, &compiled.object).is_err() {
            return Err(last);
        }
        let link_time = t.elapsed() / real.len() as u32;
        let warnings = self.split_warnings(batch, &compiled.warnings);

        let mut results = Vec::new();
        let mut first = true;
        for (k, p) in batch.iter().enumerate() {
            let Some(p) = p else {
                results.push(Evaluation::default());
                continue;
            };
            let plan = p.plan();
            let memory_before = self.session.vm().mem.clone();
            let runtime_before = self.runtime.save();
            self.inputs = p.number;
            let t = Instant::now();
            let mut evaluation = Evaluation {
                warnings: warnings[k].clone(),
                ..Evaluation::default()
            };
            if plan_has_run(&plan) {
                let result = self.session.call(&format!("__repl_run_{}", p.number), &[]);
                evaluation.output = self.stdout.take();
                if result.is_err() {
                    self.restore_batch_start(before);
                    return Err(k);
                }
                evaluation.value = self.read_value(&plan);
            }
            evaluation.times = Times {
                compile: compile_time,
                link: link_time,
                run: t.elapsed(),
            };
            self.accept_linked(p, memory_before, runtime_before, first);
            first = false;
            results.push(evaluation);
        }
        Ok(results)
    }

    fn restore_batch_start(&mut self, before: BatchStart) {
        self.session.undo();
        self.session.vm_mut().mem = before.memory;
        self.runtime.restore(before.runtime);
        self.inputs = before.inputs;
        self.accepted.truncate(before.accepted);
        self.prelude = before.prelude;
        self.known = before.known;
        let _ = self.stdout.take();
    }

    /// The batch index of the input a diagnostic (`name:line:col: ...`) points at.
    fn batch_index_of(&self, batch: &[Option<Prepared>], diagnostics: &str) -> Option<usize> {
        let line = diagnostics.lines().find(|l| l.contains(": error:"))?;
        batch_position(batch, line)
    }

    /// Warnings of a batch compile, given to the input each one points at.
    fn split_warnings(&self, batch: &[Option<Prepared>], warnings: &str) -> Vec<String> {
        let mut out = vec![String::new(); batch.len()];
        let mut current = batch.iter().position(|p| p.is_some()).unwrap_or(0);
        for line in warnings.lines() {
            if let Some(k) = batch_position(batch, line) {
                current = k;
            }
            out[current].push_str(line);
            out[current].push('\n');
        }
        out
    }

    /// Undoes a failed run: memory, runtime state and the link unit.
    fn rollback(&mut self, memory: Memory, runtime: RuntimeSnapshot) {
        self.session.undo();
        self.session.vm_mut().mem = memory;
        self.runtime.restore(runtime);
    }

    /// Records a batch input as accepted (`linked`: it is the one whose undo removes the batch's link unit).
    fn accept_linked(
        &mut self,
        p: &Prepared,
        memory_before: Memory,
        runtime_before: RuntimeSnapshot,
        linked: bool,
    ) {
        self.accept(
            p.number,
            &p.source,
            p.origin.clone(),
            &p.items,
            memory_before,
            runtime_before,
        );
        if let Some(a) = self.accepted.last_mut() {
            a.linked = linked;
        }
    }

    /// Records an accepted input: its directives and declarations join the prelude.
    fn accept(
        &mut self,
        number: usize,
        source: &str,
        origin: Origin,
        items: &[Item],
        memory_before: Memory,
        runtime_before: RuntimeSnapshot,
    ) {
        let prelude_before = self.prelude.clone();
        let known_before = self.known.clone();
        let declared = declared_names(items);
        self.prelude = displace(&self.prelude, &declared, items);
        for item in items {
            match item.kind {
                ItemKind::Directive => {
                    let text = self.undef_redefined_macro(&item.text) + &item.text;
                    self.prelude.push(PreludeEntry {
                        names: directive_names(&item.text),
                        text,
                    })
                }
                ItemKind::Declaration(_) => self.prelude.push(PreludeEntry {
                    names: item.names.clone(),
                    text: self.carry(item),
                }),
                ItemKind::Statement | ItemKind::Expression => {}
            }
        }
        for (n, k) in known_updates(items) {
            self.known.insert(n, k);
        }
        let linked = true;
        let declares = known_updates(items).into_iter().map(|(n, _)| n).collect();
        self.accepted.push(Accepted {
            number,
            source: source.to_string(),
            origin,
            declares,
            linked,
            prelude_before,
            known_before,
            memory_before: Some(memory_before),
            runtime_before,
        });
        let n = self.accepted.len();
        if n > UNDO_MEMORY_DEPTH {
            self.accepted[n - 1 - UNDO_MEMORY_DEPTH].memory_before = None;
        }
    }

    /// What later inputs see of an accepted item ([`input::carry`]), with
    /// the bounds of arrays sized by their initializers read from the
    /// debug info of the object just linked, so that `sizeof a` and the
    /// printed value of `a` stay right after `int a[] = {1, 2, 3};`.
    fn carry(&self, item: &Item) -> String {
        let open_bounds = input::unsized_arrays(item);
        if open_bounds.is_empty() {
            return input::carry(item);
        }
        let debug = self
            .session
            .objects()
            .last()
            .and_then(|obj| DebugInfo::from_graph(&obj.graph).ok());
        let bound = |name: &str| match debug.as_ref()?.variable_type(name)?.strip_typedefs() {
            crate::ctype::CType::Array { count, .. } => *count,
            _ => None,
        };
        input::carry_with_bounds(item, &bound)
    }

    /// Removes the last `n` accepted inputs and everything they did: their
    /// code and symbols, their declarations, and (for the newest
    /// [`UNDO_MEMORY_DEPTH`] inputs) what they wrote to memory.
    /// Returns how many were removed.
    pub fn undo(&mut self, n: usize) -> usize {
        let mut removed = 0;
        while removed < n {
            let Some(a) = self.accepted.pop() else { break };
            if a.linked {
                self.session.undo();
            }
            self.prelude = a.prelude_before;
            self.known = a.known_before;
            if let Some(memory) = a.memory_before {
                self.session.vm_mut().mem = memory;
            }
            self.runtime.restore(a.runtime_before);
            let _ = (a.number, a.origin);
            removed += 1;
        }
        removed
    }

    /// Forgets everything: a fresh session with the same options.
    pub fn reset(&mut self) {
        let n = self.accepted.len();
        self.undo(n);
        self.inputs = 0;
    }

    /// Renders the translation unit for a plan.
    fn render(&self, plan: &Plan) -> String {
        let mut tu = self.render_prelude(&plan.redeclared(), plan.items);
        self.render_input(&mut tu, plan);
        tu
    }

    /// `#undef NAME` (and a newline) when the directive `text` defines a
    /// macro an earlier input defined: a REPL redefines it without
    /// clang's "macro redefined" warning. Otherwise empty.
    fn undef_redefined_macro(&self, text: &str) -> String {
        let mut out = String::new();
        for name in directive_names(text) {
            if self.prelude.iter().any(|e| e.names.contains(&name)) {
                let _ = writeln!(out, "#undef {name}");
            }
        }
        out
    }

    /// The prelude, leaving out what `redeclared` names declare anew.
    fn render_prelude(&self, redeclared: &[&String], items: &[Item]) -> String {
        let mut tu = String::new();
        let _ = writeln!(tu, "#line 1 \"<repl>\"");
        for entry in displace(&self.prelude, redeclared, items) {
            tu.push_str(&entry.text);
            tu.push('\n');
        }
        tu
    }

    /// An error when `items` define a struct/union/enum tag or a typedef
    /// name differently from an earlier input while earlier declarations
    /// that stay (variables, functions) use the old definition: they would
    /// silently get the new layout.
    fn type_redefinition_conflict(&self, items: &[Item], origin: &Origin) -> Option<String> {
        use input::types::{defined_tags, mentions_identifier, mentions_tag, normalized, tag_body};
        let redeclared = declared_names(items);
        let stays = |n: &String| !redeclared.contains(&n);
        for item in items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Declaration(_)))
        {
            let mut changed: Vec<(String, Vec<String>)> = Vec::new();
            for tag in defined_tags(&item.text) {
                let Some(old) = self
                    .prelude
                    .iter()
                    .find(|e| defined_tags(&e.text).contains(&tag))
                else {
                    continue;
                };
                let old_body = tag_body(&old.text, &tag).unwrap_or_default();
                if tag_body(&item.text, &tag).unwrap_or_default() == old_body {
                    continue;
                }
                let in_body = |n: &String| old_body.split(' ').any(|t| t == n);
                let mut users: Vec<String> = old
                    .names
                    .iter()
                    .filter(|n| **n != tag && !in_body(n) && stays(n))
                    .cloned()
                    .collect();
                for e in self.prelude.iter().filter(|e| !std::ptr::eq(*e, old)) {
                    if mentions_tag(&e.text, &tag) {
                        users.extend(e.names.iter().filter(|n| stays(n)).cloned());
                    }
                }
                let keyword = item
                    .text
                    .split_whitespace()
                    .find(|w| ["struct", "union", "enum"].contains(w))
                    .unwrap_or("struct");
                changed.push((format!("{keyword} {tag}"), users));
            }
            let is_typedef = item.kind == ItemKind::Declaration(DeclKind::Type)
                && item.text.trim_start().starts_with("typedef");
            for name in item.names.iter().filter(|_| is_typedef) {
                let Some(old) = self
                    .prelude
                    .iter()
                    .find(|e| e.names.contains(name) && e.text.trim_start().starts_with("typedef"))
                else {
                    continue;
                };
                if normalized(&old.text) == normalized(&item.text) {
                    continue;
                }
                let users = self
                    .prelude
                    .iter()
                    .filter(|e| !std::ptr::eq(*e, old) && mentions_identifier(&e.text, name))
                    .flat_map(|e| e.names.iter().filter(|n| stays(n)).cloned())
                    .collect();
                changed.push((name.clone(), users));
            }
            if let Some((ty, users)) = changed.into_iter().find(|(_, u)| !u.is_empty()) {
                let listed: Vec<String> = users
                    .iter()
                    .map(|u| match self.defining_input(u) {
                        Some(at) => format!("'{u}' ({at})"),
                        None => format!("'{u}'"),
                    })
                    .collect();
                let line = origin.first_line + item.line.saturating_sub(1);
                return Some(format!(
                    "{}:{line}:{}: error: redefining '{ty}' would leave {} with the old \
                     definition's layout; %undo back to before {}, or give the new type \
                     another name",
                    origin.name,
                    item.col,
                    listed.join(", "),
                    if users.len() == 1 { "it" } else { "them" }
                ));
            }
        }
        None
    }

    /// Appends one input's declarations, value variable and run function.
    fn render_input(&self, tu: &mut String, plan: &Plan) {
        let n = plan.number;
        let mut run_body = String::new();
        for item in plan.items {
            let zeroed;
            let item = if plan.fresh_tentatives {
                zeroed = Item {
                    text: input::zero_initialize_tentatives(item),
                    ..item.clone()
                };
                &zeroed
            } else {
                item
            };
            match item.kind {
                ItemKind::Directive => {
                    tu.push_str(&self.undef_redefined_macro(&item.text));
                    place(tu, plan.origin, item, &item.text)
                }
                ItemKind::Declaration(DeclKind::Variable) if plan.runtime_init => {
                    let (decl, inits) = input::split_initializers(item);
                    let stripped = Item {
                        text: decl,
                        ..item.clone()
                    };
                    place(
                        tu,
                        plan.origin,
                        item,
                        &input::strip_internal_linkage(&stripped),
                    );
                    for init in inits {
                        let at = Item {
                            line: init.line,
                            col: init.col,
                            text: init.text,
                            ..item.clone()
                        };
                        wrap(
                            &mut run_body,
                            plan.origin,
                            &at,
                            &format!("{} = (", init.name),
                            ");",
                        );
                    }
                }
                ItemKind::Declaration(_) => {
                    place(tu, plan.origin, item, &input::strip_internal_linkage(item))
                }
                ItemKind::Statement => place(&mut run_body, plan.origin, item, &item.text),
                ItemKind::Expression => {
                    let (declaration, run) = plan.form.wrappers(n);
                    if let Some((before, after)) = declaration {
                        wrap(tu, plan.origin, item, &before, &after);
                    }
                    wrap(&mut run_body, plan.origin, item, &run.0, &run.1);
                }
            }
        }
        if plan_has_run(plan) {
            let _ = writeln!(tu, "#line 1 \"<repl>\"\nvoid __repl_run_{n}(void) {{");
            tu.push_str(&run_body);
            let _ = writeln!(tu, "#line 1 \"<repl>\"\n}}");
        }
    }

    /// Reads the final expression's value and formats it with its C type.
    fn read_value(&self, plan: &Plan) -> Option<String> {
        let n = plan.number;
        let obj = self.session.objects().last()?;
        let debug = DebugInfo::from_graph(&obj.graph).ok()?;
        let mem = &self.session.vm().mem;
        let symbolize = |addr: u64| self.symbolize(addr);
        let pointees = HeapCheckedMemory {
            mem,
            runtime: &self.runtime,
        };
        match plan.form {
            ValueForm::Copy | ValueForm::ArrayCopy | ValueForm::Address => {
                let name = format!("__repl_val_{n}");
                let ty = debug.variable_type(&name)?;
                let sym = self.session.lookup(&name)?;
                let bytes = mem.read_bytes(sym.addr, ty.size() as usize).ok()?;
                Some(value::format_value(ty, &bytes, &pointees, &symbolize))
            }
            ValueForm::Reference => {
                let name = format!("__repl_ref_{n}");
                let ptr_ty = debug.variable_type(&name)?;
                let crate::ctype::CType::Pointer(ty) = ptr_ty.strip_typedefs() else {
                    return None;
                };
                let sym = self.session.lookup(&name)?;
                let at = mem.load(sym.addr, 8).ok()?;
                let bytes = mem.read_bytes(at, ty.size() as usize).ok()?;
                Some(value::format_value(ty, &bytes, &pointees, &symbolize))
            }
            ValueForm::Discard => None,
        }
    }

    /// `name` or `name+0x10` for a code or data address, if it is one.
    pub fn symbolize(&self, addr: u64) -> Option<String> {
        if let Some(helper) = self.session.helper_at(addr) {
            return Some(helper.to_string());
        }
        let syms = self.session.symbols();
        let exact = syms.iter().find(|s| s.addr == addr || s.body == addr)?;
        if exact.name.starts_with("__repl_") {
            return None;
        }
        Some(exact.name.clone())
    }

    fn describe_call_error(&self, e: &CallError) -> String {
        match e {
            CallError::Trap(t) => self.describe_trap(t),
            other => other.to_string(),
        }
    }

    /// A trap as the user should read it: the cause, then a backtrace with
    /// one line per BPF frame, innermost first (`#0 poke at input 7:1:32`).
    pub fn describe_trap(&self, t: &Trap) -> String {
        let mut frames = self.session.backtrace(t);
        let mut msg = match self.session.undefined_function_at(t.pc) {
            Some(name) => {
                frames.remove(0);
                format!("call to `{name}`, which is declared but not defined yet")
            }
            None => t.kind.to_string(),
        };
        msg.push_str(&bpf_linker::format_backtrace(&frames, describe_frame));
        msg
    }
}

/// VM memory as the value printer follows pointers into it: heap bytes
/// are readable only inside live blocks, up to their requested size, so a
/// dangling `char *` prints as such instead of as freed bytes.
struct HeapCheckedMemory<'a> {
    mem: &'a Memory,
    runtime: &'a Runtime,
}

impl value::ReadMemory for HeapCheckedMemory<'_> {
    fn read(&self, addr: u64, len: usize) -> Option<Vec<u8>> {
        match self.runtime.heap_place(addr) {
            HeapPlace::Outside => {}
            HeapPlace::Live { start, size } => {
                let end = addr.checked_add(len as u64)?;
                if end > start + size as u64 {
                    return None;
                }
            }
            HeapPlace::Freed { .. } | HeapPlace::Unallocated => return None,
        }
        self.mem.read_bytes(addr, len).ok()
    }

    fn why_unreadable(&self, addr: u64) -> Option<String> {
        match self.runtime.heap_place(addr) {
            HeapPlace::Outside => None,
            HeapPlace::Live { start, size } => Some(format!(
                "{addr:#x} is past the end of the {size}-byte heap block at {start:#x}"
            )),
            HeapPlace::Freed { start } if start == addr => Some("freed heap block".to_string()),
            HeapPlace::Freed { start } => {
                Some(format!("inside the freed heap block at {start:#x}"))
            }
            HeapPlace::Unallocated => Some("heap memory never allocated".to_string()),
        }
    }
}

/// The prelude as an input that declares `redeclared` anew sees it: entries
/// declaring those names are left out, except that an entry which defines
/// a redeclared tag along with other names keeps those names, referring to
/// the tag without its body (`extern struct p { int x; } p1;` ->
/// `extern struct p p1;`), and a typedef that `items` repeat exactly
/// stays (C allows that, and declarations after it may use the name).
fn displace(prelude: &[PreludeEntry], redeclared: &[&String], items: &[Item]) -> Vec<PreludeEntry> {
    use input::types::{defined_tags, normalized, tag_body, without_tag_body};
    let typedefs: Vec<String> = items
        .iter()
        .filter(|i| {
            i.kind == ItemKind::Declaration(DeclKind::Type)
                && i.text.trim_start().starts_with("typedef")
        })
        .map(|i| normalized(&i.text))
        .collect();
    let mut out = Vec::with_capacity(prelude.len());
    for entry in prelude {
        if entry.text.trim_start().starts_with("typedef")
            && typedefs.contains(&normalized(&entry.text))
        {
            out.push(entry.clone());
            continue;
        }
        let hit: Vec<&String> = entry
            .names
            .iter()
            .filter(|n| redeclared.contains(n))
            .collect();
        if hit.is_empty() {
            out.push(entry.clone());
            continue;
        }
        let tags: Vec<String> = defined_tags(&entry.text)
            .into_iter()
            .filter(|t| hit.contains(&t))
            .collect();
        let bodies: Vec<String> = tags
            .iter()
            .filter_map(|t| tag_body(&entry.text, t))
            .collect();
        let inside =
            |n: &String| tags.contains(n) || bodies.iter().any(|b| b.split(' ').any(|t| t == n));
        let rest: Vec<String> = entry.names.iter().filter(|n| !inside(n)).cloned().collect();
        if tags.is_empty() || !hit.iter().all(|n| inside(n)) || rest.is_empty() {
            continue; // this input redefines it
        }
        let text = tags
            .iter()
            .fold(entry.text.clone(), |text, tag| without_tag_body(&text, tag));
        out.push(PreludeEntry { names: rest, text });
    }
    out
}

/// The name users know a function by: REPL wrappers are `<input N>`.
pub fn display_function(name: &str) -> String {
    match name.strip_prefix("__repl_run_") {
        Some(n) => format!("<input {n}>"),
        None => name.to_string(),
    }
}

/// One backtrace line: `poke at input 7:1:32`, or `poke+0x8 in input 7`
/// when the object has no line info.
pub fn describe_frame(f: &bpf_linker::BacktraceFrame) -> String {
    f.describe_as(&display_function(&f.function))
}

/// Writes `text` so that it starts at the item's line and column of its origin.
fn place(out: &mut String, origin: &Origin, item: &Item, text: &str) {
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

/// Macro names a directive defines.
fn directive_names(text: &str) -> Vec<String> {
    let t = text.trim_start().trim_start_matches('#').trim_start();
    match t.strip_prefix("define") {
        Some(rest) => rest
            .trim_start()
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .filter(|n| !n.is_empty())
            .map(|n| vec![n.to_string()])
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// Adds what `source` would declare (if accepted) to `names`: how a
/// replay decides where later inputs end before running them.
pub fn learn_names(names: &mut HashMap<String, NameKind>, source: &str) {
    let items = input::split(source, &*names);
    for (n, k) in known_updates(&items) {
        names.insert(n, k);
    }
}

/// Names the declarations of an input declare.
fn declared_names(items: &[Item]) -> Vec<&String> {
    items
        .iter()
        .filter(|i| matches!(i.kind, ItemKind::Declaration(_)))
        .flat_map(|i| i.names.iter())
        .collect()
}

/// What the names an input declares become for later inputs.
fn known_updates(items: &[Item]) -> Vec<(String, NameKind)> {
    let mut out = Vec::new();
    for item in items {
        match item.kind {
            ItemKind::Directive => out.extend(
                directive_names(&item.text)
                    .into_iter()
                    .map(|n| (n, NameKind::Variable)),
            ),
            ItemKind::Declaration(kind) => {
                let name_kind = match kind {
                    DeclKind::FunctionDef | DeclKind::Prototype => NameKind::Function,
                    DeclKind::Type if item.text.trim_start().starts_with("typedef") => {
                        NameKind::Typedef
                    }
                    DeclKind::Type | DeclKind::StaticAssert => NameKind::Unknown,
                    DeclKind::Variable => NameKind::Variable,
                };
                out.extend(item.names.iter().map(|n| (n.clone(), name_kind)));
            }
            ItemKind::Statement | ItemKind::Expression => {}
        }
    }
    out
}

fn initial_form(items: &[Item]) -> ValueForm {
    match items.last() {
        Some(i) if i.kind == ItemKind::Expression && is_string_literal(&i.text) => {
            ValueForm::Reference
        }
        _ => ValueForm::Copy,
    }
}

fn is_string_literal(text: &str) -> bool {
    let t = text.trim();
    t.starts_with('"') && t.ends_with('"')
}

fn plan_has_run(plan: &Plan) -> bool {
    plan.items.iter().any(|i| {
        matches!(i.kind, ItemKind::Statement | ItemKind::Expression)
            || (plan.runtime_init && i.kind == ItemKind::Declaration(DeclKind::Variable))
    })
}

/// Other shapes for the translation unit, best first, when clang's
/// complaint says one would work. The caller skips shapes already tried.
fn retry<'a>(plan: &Plan<'a>, e: &CompileError) -> Vec<Plan<'a>> {
    let d = &e.raw;
    let has_expr = plan.items.iter().any(|i| i.kind == ItemKind::Expression);
    let with_form = |form| Plan { form, ..*plan };
    if !plan.runtime_init && d.contains("initializer element is not a compile-time constant") {
        return vec![Plan {
            runtime_init: true,
            ..*plan
        }];
    }
    // `int n;` where an earlier input declared `n` with another type (or
    // as another kind of name): a new variable, as redefinition makes one.
    let type_changed = d.contains("with a different type")
        || d.contains("as different kind of symbol")
        || d.contains("conflicting types for");
    if type_changed && !plan.fresh_tentatives {
        let tentative = plan
            .items
            .iter()
            .any(|i| !input::tentative_names(i).is_empty());
        if tentative {
            return vec![Plan {
                fresh_tentatives: true,
                ..*plan
            }];
        }
    }
    if !has_expr {
        return Vec::new();
    }
    match plan.form {
        // Arrays cannot be assigned, nor can a `const` copy: read them in place.
        ValueForm::Copy
            if (d.contains("is not assignable") && d.contains("array type"))
                || d.contains("with const-qualified type") =>
        {
            vec![
                with_form(ValueForm::Reference),
                with_form(ValueForm::ArrayCopy),
            ]
        }
        // A function designator: print the pointer it decays to.
        ValueForm::Copy if d.contains("non-object type") && d.contains("is not assignable") => {
            vec![with_form(ValueForm::Address)]
        }
        // clang 19 says `incomplete type 'typeof ((f()))' (aka 'void')`.
        ValueForm::Copy if d.contains("incomplete type 'void'") || d.contains("(aka 'void')") => {
            vec![with_form(ValueForm::Discard)]
        }
        // A value that is not an object: copy it; an array that is not an
        // object (`(c ? s : t).member`) has its elements copied.
        ValueForm::Reference if d.contains("cannot take the address of an rvalue") => {
            vec![with_form(ValueForm::Copy), with_form(ValueForm::ArrayCopy)]
        }
        _ => Vec::new(),
    }
}

fn link_message(e: &LinkError) -> String {
    match e {
        LinkError::Unresolved { names } => format!(
            "{e}\n  (declared but never defined; define {} first, or check the spelling)",
            if names.len() == 1 { "it" } else { "them" }
        ),
        other => other.to_string(),
    }
}
