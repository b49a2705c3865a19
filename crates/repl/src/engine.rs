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
use bpf_runtime::{OutputSink, Runtime, RuntimeSnapshot};
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
    /// Whether it added a link unit to the session.
    linked: bool,
    prelude_before: Vec<PreludeEntry>,
    known_before: HashMap<String, NameKind>,
    memory_before: Memory,
    runtime_before: RuntimeSnapshot,
}

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
    /// `__typeof__((E)) *__repl_ref_N; ... __repl_ref_N = &(E);` (arrays)
    Reference,
    /// The expression is `void`: run it as a statement.
    Discard,
}

/// The pieces of one translation unit, before rendering.
struct Plan<'a> {
    number: usize,
    origin: &'a Origin,
    items: &'a [Item],
    form: ValueForm,
    /// Variable items whose initializers move into the run function.
    runtime_init: bool,
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

        // Compile, retrying with another shape where clang tells us to.
        let mut plan = Plan {
            number,
            origin: &origin,
            items: &items,
            form: initial_form(&items),
            runtime_init: false,
        };
        let t = Instant::now();
        let compiled = loop {
            let source = self.render(&plan);
            match self.compiler.compile(&source) {
                Ok(c) => break c,
                Err(e) => match retry(&plan, &e) {
                    Some(next) => plan = next,
                    None => return Err(EvalError::Compile(e.diagnostics)),
                },
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

    /// Undoes a failed run: memory, runtime state and the link unit.
    fn rollback(&mut self, memory: Memory, runtime: RuntimeSnapshot) {
        self.session.undo();
        self.session.vm_mut().mem = memory;
        self.runtime.restore(runtime);
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
        let declared: Vec<&String> = items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Declaration(_)))
            .flat_map(|i| i.names.iter())
            .collect();
        self.prelude
            .retain(|e| !e.names.iter().any(|n| declared.contains(&n)));
        for item in items {
            match item.kind {
                ItemKind::Directive => {
                    self.prelude.push(PreludeEntry {
                        names: directive_names(&item.text),
                        text: item.text.clone(),
                    });
                    for n in directive_names(&item.text) {
                        self.known.insert(n, NameKind::Variable);
                    }
                }
                ItemKind::Declaration(kind) => {
                    self.prelude.push(PreludeEntry {
                        names: item.names.clone(),
                        text: input::carry(item),
                    });
                    let name_kind = match kind {
                        DeclKind::FunctionDef | DeclKind::Prototype => NameKind::Function,
                        DeclKind::Type if item.text.trim_start().starts_with("typedef") => {
                            NameKind::Typedef
                        }
                        DeclKind::Type | DeclKind::StaticAssert => NameKind::Unknown,
                        DeclKind::Variable => NameKind::Variable,
                    };
                    for n in &item.names {
                        self.known.insert(n.clone(), name_kind);
                    }
                }
                ItemKind::Statement | ItemKind::Expression => {}
            }
        }
        let linked = true;
        self.accepted.push(Accepted {
            number,
            source: source.to_string(),
            origin,
            linked,
            prelude_before,
            known_before,
            memory_before,
            runtime_before,
        });
    }

    /// Removes the last `n` accepted inputs and everything they did.
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
            self.session.vm_mut().mem = a.memory_before;
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
        let mut tu = String::new();
        let declared: Vec<&String> = plan
            .items
            .iter()
            .filter(|i| matches!(i.kind, ItemKind::Declaration(_)))
            .flat_map(|i| i.names.iter())
            .collect();
        let _ = writeln!(tu, "#line 1 \"<repl>\"");
        for entry in &self.prelude {
            if entry.names.iter().any(|n| declared.contains(&n)) {
                continue; // this input redefines it
            }
            tu.push_str(&entry.text);
            tu.push('\n');
        }
        let n = plan.number;
        let mut run_body = String::new();
        for item in plan.items {
            match item.kind {
                ItemKind::Directive => place(&mut tu, plan.origin, item, &item.text),
                ItemKind::Declaration(DeclKind::Variable) if plan.runtime_init => {
                    let (decl, inits) = input::split_initializers(item);
                    let stripped = Item {
                        text: decl,
                        ..item.clone()
                    };
                    place(
                        &mut tu,
                        plan.origin,
                        item,
                        &input::strip_internal_linkage(&stripped),
                    );
                    for init in inits {
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n{} = (", init.name);
                        let at = Item {
                            line: init.line,
                            col: init.col,
                            ..item.clone()
                        };
                        place(&mut run_body, plan.origin, &at, &init.text);
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n);");
                    }
                }
                ItemKind::Declaration(_) => place(
                    &mut tu,
                    plan.origin,
                    item,
                    &input::strip_internal_linkage(item),
                ),
                ItemKind::Statement => place(&mut run_body, plan.origin, item, &item.text),
                ItemKind::Expression => match plan.form {
                    ValueForm::Copy => {
                        let _ = writeln!(tu, "#line 1 \"<repl>\"\n__typeof__((");
                        place(&mut tu, plan.origin, item, &item.text);
                        let _ = writeln!(tu, "#line 1 \"<repl>\"\n)) __repl_val_{n};");
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n__repl_val_{n} = (");
                        place(&mut run_body, plan.origin, item, &item.text);
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n);");
                    }
                    ValueForm::Reference => {
                        let _ = writeln!(tu, "#line 1 \"<repl>\"\n__typeof__((");
                        place(&mut tu, plan.origin, item, &item.text);
                        let _ = writeln!(tu, "#line 1 \"<repl>\"\n)) *__repl_ref_{n};");
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n__repl_ref_{n} = &(");
                        place(&mut run_body, plan.origin, item, &item.text);
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n);");
                    }
                    ValueForm::Discard => {
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n(void)(");
                        place(&mut run_body, plan.origin, item, &item.text);
                        let _ = writeln!(run_body, "#line 1 \"<repl>\"\n);");
                    }
                },
            }
        }
        if plan_has_run(plan) {
            let _ = writeln!(tu, "#line 1 \"<repl>\"\nvoid __repl_run_{n}(void) {{");
            tu.push_str(&run_body);
            let _ = writeln!(tu, "#line 1 \"<repl>\"\n}}");
        }
        tu
    }

    /// Reads the final expression's value and formats it with its C type.
    fn read_value(&self, plan: &Plan) -> Option<String> {
        let n = plan.number;
        let obj = self.session.objects().last()?;
        let debug = DebugInfo::from_graph(&obj.graph).ok()?;
        let mem = &self.session.vm().mem;
        let symbolize = |addr: u64| self.symbolize(addr);
        match plan.form {
            ValueForm::Copy => {
                let name = format!("__repl_val_{n}");
                let ty = debug.variable_type(&name)?;
                let sym = self.session.lookup(&name)?;
                let bytes = mem.read_bytes(sym.addr, ty.size() as usize).ok()?;
                Some(value::format_value(ty, &bytes, mem, &symbolize))
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
                Some(value::format_value(ty, &bytes, mem, &symbolize))
            }
            ValueForm::Discard => None,
        }
    }

    /// `name` or `name+0x10` for a code or data address, if it is one.
    pub fn symbolize(&self, addr: u64) -> Option<String> {
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
    let mut s = display_function(&f.function);
    match (&f.location, f.offset) {
        (Some(loc), _) => {
            let _ = write!(s, " at {loc}");
        }
        (None, Some(off)) => {
            let _ = write!(s, "+{off:#x}");
            if let Some(obj) = &f.object {
                let _ = write!(s, " in {obj}");
            }
        }
        (None, None) => {}
    }
    if f.inlined {
        s.push_str(" (inlined)");
    }
    s
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

/// Another shape for the translation unit, when clang's complaint says one would work.
fn retry<'a>(plan: &Plan<'a>, e: &CompileError) -> Option<Plan<'a>> {
    let d = &e.raw;
    let has_expr = plan.items.iter().any(|i| i.kind == ItemKind::Expression);
    if !plan.runtime_init && d.contains("initializer element is not a compile-time constant") {
        return Some(Plan {
            runtime_init: true,
            ..*plan
        });
    }
    if has_expr && plan.form == ValueForm::Copy {
        if d.contains("is not assignable") && d.contains("array type") {
            return Some(Plan {
                form: ValueForm::Reference,
                ..*plan
            });
        }
        if d.contains("incomplete type 'void'") {
            return Some(Plan {
                form: ValueForm::Discard,
                ..*plan
            });
        }
    }
    if has_expr
        && plan.form == ValueForm::Reference
        && d.contains("cannot take the address of an rvalue")
    {
        return Some(Plan {
            form: ValueForm::Copy,
            ..*plan
        });
    }
    None
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
