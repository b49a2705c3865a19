//! The REPL engine: one input in, one translation unit compiled by clang,
//! linked into the session, run, and its value read back with its C type.
//!
//! The session is one C program growing by inputs. Each input is cut into
//! items by the lexer and understood by clang ([`analysis`]: one AST probe,
//! run while the lexer's guess compiles); the translation unit is rendered
//! from that plan ([`render`]): the prelude (what earlier inputs carried,
//! from the session's records, [`session`]), the input's declarations at
//! file scope, and its statements and final expression inside a fresh
//! function `__repl_run_N` that is called once. A failed input, and
//! `%undo`, roll back exactly what the input did: its link unit, the memory
//! pages it changed (a VM memory epoch), runtime state and its records
//! ([`rollback`]). Replays compile many inputs per clang run ([`batch`]).

pub mod analysis;
mod batch;
mod hosted;
pub mod render;
mod rollback;
pub mod session;
mod values;
mod world;

use crate::clang::ast::EntityKind;
use crate::clang::{ClangError, CodeMode, CompileError, Compiled, Compiler, Limits, Target};
use crate::input::{DeclKind, ItemKind};
use analysis::Plan;
use bpf_linker::{LinkError, Session, SessionOptions};
use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{Vm, VmConfig};
use rollback::Accepted;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use batch::MAX_BATCH;
pub use values::{describe_frame, display_function};
pub use world::{ProgInput, ProgRun};

/// Settings of a REPL session.
#[derive(Debug, Clone)]
pub struct ReplOptions {
    /// Extra clang flags (`--cflags`), already checked.
    pub cflags: Vec<String>,
    /// Instructions one input may execute.
    pub budget: u64,
    /// Stack bytes per BPF call frame.
    pub frame_size: usize,
    /// Nested BPF calls allowed.
    pub max_call_depth: usize,
    /// Bytes of VM memory (regions plus the undo log), also the largest
    /// object clang may write.
    pub memory_limit: usize,
    /// Time one clang run may take.
    pub compile_timeout: Duration,
    /// Ask clang for coloured diagnostics.
    pub color: bool,
    /// `--strict-bpf`: only what plain BPF runs.
    pub strict: bool,
    /// Undefined behaviour is a fault (`--no-ub-checks` turns it off).
    pub ub_checks: bool,
    /// What runs the code: the interpreter, the JIT, or both (`auto`).
    pub engine: bpf_jit::EngineKind,
    /// Memcheck: heap and global accesses checked against their blocks
    /// and bounds (`--memcheck off` turns it off; fixed at start-up).
    pub memcheck: bool,
    /// Bytes of freed heap blocks kept from reuse under memcheck.
    pub quarantine: usize,
    /// `--stdin FILE`: the program's standard input (read on by every
    /// input); without it the program's stdin is empty.
    pub stdin: Option<std::path::PathBuf>,
    /// `--fs DIR`: the directory the program's files live in; none by default.
    pub fs: Option<std::path::PathBuf>,
    /// `--deterministic-time`: clocks start at 2024-01-01 and step 1 µs per read.
    pub deterministic_time: bool,
}

/// The REPL's default call depth: deep recursion is ordinary C.
pub const DEFAULT_CALL_DEPTH: usize = 16_384;

impl Default for ReplOptions {
    fn default() -> Self {
        ReplOptions {
            cflags: Vec::new(),
            budget: 100_000_000,
            frame_size: VmConfig::default().frame_size,
            max_call_depth: DEFAULT_CALL_DEPTH,
            memory_limit: bpf_vm::files::DEFAULT_MEMORY_LIMIT,
            compile_timeout: Limits::default().timeout,
            color: false,
            strict: false,
            ub_checks: true,
            engine: bpf_jit::EngineKind::default_for_host(),
            memcheck: true,
            quarantine: bpf_runtime::DEFAULT_QUARANTINE,
            stdin: None,
            fs: None,
            deterministic_time: false,
        }
    }
}

/// Where an input came from, for diagnostics: a name and its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub name: String,
    pub first_line: u32,
}

impl Origin {
    /// `input 3`, or `file.c:12` for an input replayed from a file.
    pub fn describe(&self) -> String {
        if self.name.starts_with("input ") {
            self.name.clone()
        } else {
            format!("{}:{}", self.name, self.first_line)
        }
    }
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
    /// clang rejected the code (or the REPL refused it first); the
    /// diagnostics, mapped to the input.
    Compile(String),
    /// The object did not link (unresolved or conflicting symbols...).
    Link(String),
    /// The code ran and stopped abnormally; output produced before the
    /// stop is kept, and so are clang's warnings about the input.
    Run {
        message: String,
        output: Vec<u8>,
        warnings: String,
    },
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

/// What the meta commands keep between inputs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `%time on`: print each input's times.
    pub show_times: bool,
    /// The extra clang flags the session started with (`--cflags`),
    /// captured before `%cflags` first changes them.
    pub startup_flags: Option<Vec<String>>,
    /// Flags set by `%cflags`, after the startup ones.
    pub cflags: Vec<String>,
    /// Raised by the prompt's Ctrl-C handler: `%load` stops before its next input.
    pub cancel: Arc<AtomicBool>,
}

/// A REPL session: compiler, linker session, runtime and the session's records.
pub struct Repl {
    compiler: Compiler,
    session: Session,
    runtime: Runtime,
    stdout: OutputSink,
    model: session::Model,
    inputs: usize,
    accepted: Vec<Accepted>,
    settings: Settings,
    types: values::TypeCache,
    memory_limit: usize,
    /// Why the engine asked for is not the one in use, until taken.
    engine_note: Option<String>,
    /// Whether memcheck is on (set at start-up only).
    memcheck: bool,
}

/// Why preparing a unit failed.
enum Failure {
    /// The REPL refused an input before compiling it (`usize`: which of the unit's inputs).
    Refused(usize, String),
    /// clang failed.
    Compile(CompileError),
}

impl Repl {
    /// A new session with what the program may reach outside the VM
    /// (`--stdin`, `--fs`, `--deterministic-time`): fails when no usable
    /// clang exists or a granted file or directory cannot be opened.
    pub fn open(options: &ReplOptions) -> Result<Repl, String> {
        let repl = Repl::new(options).map_err(|e| e.to_string())?;
        hosted::grant(&repl.runtime, options)?;
        Ok(repl)
    }

    /// A new session (the program has no stdin, files or real clock
    /// beyond the runtime's defaults); fails only when no usable clang exists.
    pub fn new(options: &ReplOptions) -> Result<Repl, ClangError> {
        let clang = crate::clang::find_clang()?;
        let mode = CodeMode {
            strict: options.strict,
            ub_checks: options.ub_checks,
            frame_size: options.frame_size as u64,
        };
        let mut compiler = Compiler::new(clang.clone(), mode, &options.cflags).map_err(|e| {
            ClangError::Unusable {
                path: clang,
                reason: e.to_string(),
            }
        })?;
        compiler.set_color(options.color);
        compiler.set_limits(Limits {
            timeout: options.compile_timeout,
            output: options.memory_limit as u64,
        });
        let config = VmConfig {
            budget: options.budget,
            frame_size: options.frame_size,
            max_call_depth: options.max_call_depth,
        };
        let mut vm = Vm::new(config);
        vm.mem.set_limit(options.memory_limit);
        // Before anything is allocated: shadow memory covers every region.
        if options.memcheck {
            vm.mem.enable_memcheck();
        }
        let engine_note = bpf_jit::install(&mut vm, options.engine);
        let mut session = Session::new(
            vm,
            SessionOptions {
                allow_redefinition: true,
                keep_unfixed_graphs: true,
            },
        );
        let stdout = OutputSink::buffer();
        let runtime = Runtime::new(stdout.clone()).with_quarantine(options.quarantine);
        for (name, helper) in runtime.helpers() {
            session.register_helper(name, helper);
        }
        // The kernel world: maps, kernel helpers by id, program contexts
        // for kernel-style inputs (`bpf_printk` writes to the input's output).
        session.enable_kernel(bpf_kernel::Kernel::new(
            bpf_kernel::KernelConfig::default(),
            stdout.clone(),
        ));
        Ok(Repl {
            compiler,
            session,
            runtime,
            stdout,
            model: session::Model::default(),
            inputs: 0,
            accepted: Vec::new(),
            settings: Settings::default(),
            types: values::TypeCache::default(),
            memory_limit: options.memory_limit,
            engine_note,
            memcheck: options.memcheck,
        })
    }

    /// Whether memcheck checks this session's heap and globals.
    pub fn memcheck(&self) -> bool {
        self.memcheck
    }

    /// Feeds bytes to the program's standard input (a transcript's `//<` lines).
    pub fn push_stdin(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.runtime.push_stdin(bytes);
        }
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

    /// The flag that stops a running clang (Ctrl-C).
    pub fn compile_cancel_handle(&self) -> Arc<AtomicBool> {
        self.compiler.cancel_handle()
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
        Some(a.origin.describe())
    }

    /// Settings of the meta commands (`%time`, `%cflags`).
    pub fn meta_settings(&mut self) -> &mut Settings {
        &mut self.settings
    }

    /// Number of inputs evaluated so far (accepted or not).
    pub fn input_count(&self) -> usize {
        self.inputs
    }

    /// What the session knows of names (for cutting inputs and the prompt).
    pub fn names(&self) -> &session::Model {
        &self.model
    }

    /// Evaluates one complete input.
    pub fn eval(&mut self, source: &str, origin: Option<Origin>) -> Result<Evaluation, EvalError> {
        let items = crate::input::split(source, &self.model);
        if items.is_empty() {
            return Ok(Evaluation::default());
        }
        self.inputs += 1;
        let number = self.inputs;
        let origin = origin.unwrap_or_else(|| Origin {
            name: format!("input {number}"),
            first_line: 1,
        });
        let guess = analysis::guess(number, &origin, source, &items, &self.model);
        let t = Instant::now();
        let (plan, compiled) = match self.prepare(vec![guess], false) {
            Ok((mut plans, compiled)) => (plans.remove(0), compiled),
            Err(Failure::Refused(_, message)) => return Err(EvalError::Compile(message)),
            Err(Failure::Compile(e)) => {
                // A place clang could not name is the input's first line.
                let at = format!("{}:{}:", origin.name, origin.first_line);
                return Err(EvalError::Compile(e.diagnostics.replace("<input>:", &at)));
            }
        };
        let mut times = Times {
            compile: t.elapsed(),
            ..Times::default()
        };

        let t = Instant::now();
        let start = self.begin_input();
        if let Err(e) = self.session.add_object(&origin.name, &compiled.object) {
            self.session.vm_mut().mem.rollback(start.checkpoint);
            return Err(EvalError::Link(link_message(&e)));
        }
        times.link = t.elapsed();

        let t = Instant::now();
        let mut evaluation = Evaluation {
            warnings: compiled.warnings + &self.refusal_notes(),
            ..Evaluation::default()
        };
        if plan.has_run() {
            let result = self.session.call(&format!("__repl_run_{number}"), &[]);
            let output = self.stdout.take();
            if let Err(e) = result {
                // Describe while the input's code is still linked, then forget it.
                let message = self.describe_call_error(&e);
                self.abandon_input(start, true);
                return Err(EvalError::Run {
                    message,
                    output,
                    warnings: evaluation.warnings,
                });
            }
            evaluation.output = output;
            evaluation.value = self.read_value(number, plan.form);
        }
        times.run = t.elapsed();
        evaluation.times = times;
        self.accept(&plan, start, true);
        Ok(evaluation)
    }

    /// The compiled unit of some plans (one input, or a batch): the
    /// lexer's guess compiles while clang's probe says what the inputs
    /// are; if the probe changes the plans, the unit is compiled again
    /// from them (the guess's compile is stopped).
    fn prepare(
        &mut self,
        mut plans: Vec<Plan>,
        batch: bool,
    ) -> Result<(Vec<Plan>, Compiled), Failure> {
        self.compiler
            .cancel_handle()
            .store(false, Ordering::Relaxed);
        let guess_tu = {
            let refs: Vec<&Plan> = plans.iter().collect();
            render::unit(&self.model, &refs)
        };
        let mut target = guess_target(&plans);
        let job = self
            .compiler
            .start(&guess_tu, target)
            .map_err(Failure::Compile)?;
        let probe = plans.iter().any(|p| {
            let items: Vec<_> = p.items.iter().map(|i| i.item.clone()).collect();
            analysis::needs_probe(&items, &self.model)
        });
        if probe {
            let (probe_tu, map) = {
                let refs: Vec<&Plan> = plans.iter().collect();
                analysis::probe_source(&self.model, &refs)
            };
            let json = self.compiler.probe(&probe_tu);
            analysis::apply_probe(&mut plans, &map, json.as_deref(), &self.model);
        }
        if let Some(refusal) = self.refusal(&plans, batch) {
            self.compiler.abandon(job);
            return Err(refusal);
        }
        let refs: Vec<&Plan> = plans.iter().collect();
        let final_tu = render::unit(&self.model, &refs);
        let compiled = if final_tu == guess_tu {
            self.compiler.finish(job)
        } else {
            self.compiler.abandon(job);
            self.compiler.compile(&final_tu, target)
        };
        let mut compiled = match compiled {
            Ok(c) => c,
            // Without a probe, a failed compile may be a wrong guess (a call
            // of a `void` function): ask clang now, and compile again if
            // that changes the unit. (Only the failure itself is used.)
            Err(e) if !probe => {
                let (probe_tu, map) = {
                    let refs: Vec<&Plan> = plans.iter().collect();
                    analysis::probe_source(&self.model, &refs)
                };
                let json = self.compiler.probe(&probe_tu);
                analysis::apply_probe(&mut plans, &map, json.as_deref(), &self.model);
                let refs: Vec<&Plan> = plans.iter().collect();
                let tu = render::unit(&self.model, &refs);
                if tu == final_tu {
                    return Err(Failure::Compile(e));
                }
                self.compiler
                    .compile(&tu, target)
                    .map_err(Failure::Compile)?
            }
            Err(e) => return Err(Failure::Compile(e)),
        };
        // The object says for sure whether the unit is kernel-style (a
        // section name can come from a macro the guess did not see).
        let found = object_target(&compiled.object);
        if found != target {
            target = found;
            let refs: Vec<&Plan> = plans.iter().collect();
            let tu = render::unit(&self.model, &refs);
            compiled = self
                .compiler
                .compile(&tu, target)
                .map_err(Failure::Compile)?;
        }
        // `static` from a macro is only visible in the object: a definition
        // that is not a global symbol there (local, or dropped as unused)
        // is compiled again with its linkage neutralized.
        let globals = global_definitions(&compiled.object);
        let mut hidden = false;
        for p in plans.iter_mut().flat_map(|p| p.items.iter_mut()) {
            let defines = |e: &crate::clang::ast::Entity| match p.item.kind {
                ItemKind::Declaration(DeclKind::FunctionDef) => e.kind == EntityKind::Function,
                ItemKind::Declaration(DeclKind::Variable) => {
                    e.kind == EntityKind::Variable && e.storage.as_deref() != Some("extern")
                }
                _ => false,
            };
            let missing = p
                .entities
                .iter()
                .any(|e| defines(e) && !globals.contains(&e.name));
            if p.active && missing && !p.hidden_linkage {
                p.hidden_linkage = true;
                hidden = true;
            }
        }
        if hidden {
            let refs: Vec<&Plan> = plans.iter().collect();
            let tu = render::unit(&self.model, &refs);
            compiled = self
                .compiler
                .compile(&tu, target)
                .map_err(Failure::Compile)?;
        }
        Ok((plans, compiled))
    }

    /// Why the REPL refuses to compile these plans, if it does: a variable
    /// larger than VM memory, a type change earlier declarations depend
    /// on, or (in a batch) a plan that must not share a unit.
    fn refusal(&self, plans: &[Plan], batch: bool) -> Option<Failure> {
        for (k, plan) in plans.iter().enumerate() {
            if let Some(m) = analysis::oversized(plan, self.memory_limit) {
                return Some(Failure::Refused(k, m));
            }
            let defining = |n: &str| self.defining_input(n);
            if let Some(m) = analysis::type_conflict(plan, &self.model, &defining) {
                return Some(Failure::Refused(k, m));
            }
        }
        if batch {
            if let Some(k) = batch::first_unbatchable(plans, &self.model) {
                return Some(Failure::Refused(k, String::new()));
            }
        }
        None
    }
}

/// What a unit is built for, as its text suggests: kernel-style when an
/// input names a section (`SEC("xdp")`, `__attribute__((section(...)))`),
/// which only kernel-style programs and maps do; the compiled object
/// confirms it ([`object_target`]).
fn guess_target(plans: &[Plan]) -> Target {
    if plans.iter().any(|p| names_a_section(&p.source)) {
        Target::Kernel
    } else {
        Target::Repl
    }
}

/// Whether C text mentions a section attribute (`SEC(` or `section(`).
pub(crate) fn names_a_section(source: &str) -> bool {
    source.contains("SEC(") || source.contains("section(")
}

/// What an object is: kernel-style if it has a program section (a name
/// libbpf gives a program type) or a map section.
fn object_target(object: &[u8]) -> Target {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(object) else {
        return Target::Repl;
    };
    let kernel = file.sections().any(|s| {
        s.name().is_ok_and(|n| {
            n == ".maps" || n == "maps" || bpf_kernel::ProgType::from_section(n).is_some()
        })
    });
    if kernel {
        Target::Kernel
    } else {
        Target::Repl
    }
}

/// Names an object defines (or holds as common) with global binding.
fn global_definitions(object: &[u8]) -> std::collections::HashSet<String> {
    use object::{Object, ObjectSymbol, SymbolKind};
    let Ok(file) = object::File::parse(object) else {
        return Default::default();
    };
    // (`object` counts no STT_TLS symbol as a definition.)
    let thread_local = |s: &object::Symbol| s.kind() == SymbolKind::Tls && !s.is_undefined();
    file.symbols()
        .filter(|s| s.is_global() && (s.is_definition() || s.is_common() || thread_local(s)))
        .filter_map(|s| s.name().ok().map(str::to_string))
        .collect()
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

/// Adds what `source` would declare (if accepted) to `names`: how a
/// replay decides where later inputs end before running them.
pub fn learn_names(
    names: &mut std::collections::HashMap<String, crate::input::NameKind>,
    source: &str,
) {
    for item in crate::input::split(source, &*names) {
        if item.kind == crate::input::ItemKind::Directive {
            continue;
        }
        for (n, k) in crate::input::declared_kinds(&item) {
            if k != crate::input::NameKind::Unknown {
                names.insert(n, k);
            }
        }
    }
}
