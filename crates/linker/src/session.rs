//! The session (JITLink's JITDylib): the VM, everything linked into it so
//! far, the global symbol table, and the host helper table.

use crate::error::LinkError;
use crate::graph::{LinkGraph, SectionId, SymbolKind};
use crate::link;
use bpf_vm::tls::TlsTemplate;
use bpf_vm::{HelperImpl, Trap, Vm};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// How a session treats later definitions of an existing name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// A later strong definition replaces an earlier one (the REPL), instead
    /// of being a duplicate-definition error (`bpf-jitlink`). Functions are
    /// then reached through stubs, so old callers and stored function
    /// pointers reach the new body; references to a replaced variable are
    /// rebound to the new storage.
    pub allow_redefinition: bool,
    /// Keep a copy of each graph before fixups (for `--show-graph`).
    pub keep_unfixed_graphs: bool,
}

/// The current definition of a global name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalSymbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The address references bind to (a function's stub when redefinable).
    pub addr: u64,
    /// Where the definition itself lives.
    pub body: u64,
    pub size: u64,
    /// Index of the defining object in [`Session::objects`]; `None` for
    /// symbols the host defined (see [`Session::define_absolute`]).
    pub object: Option<usize>,
    /// Weak and common definitions yield to a later strong one.
    pub weak: bool,
    pub common: bool,
    /// Code slot of the function's stub, if it has one.
    pub stub: Option<usize>,
}

impl GlobalSymbol {
    /// True for a function that is called but not defined yet: its stub
    /// traps until a definition repoints it.
    pub fn is_pending(&self) -> bool {
        self.weak && self.object.is_none() && self.stub.is_some()
    }
}

/// A published edge to a global name: edge `edge` of section `section` of
/// object `object`. When the name is redefined, the edge is fixed up again
/// (by [`crate::bpf::apply_fixup`]) against the new definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reference {
    pub object: usize,
    pub section: SectionId,
    pub edge: usize,
    pub to: RefTo,
}

/// What of a name a published edge refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefTo {
    /// Its canonical address (a function's stub, a variable's storage).
    Canonical,
    /// Its definition: the edge of the name's stub entry.
    Body,
}

/// Bytes a link rewrote in a published object (a reference to a name the
/// link redefined): the field before and after, for undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Patch {
    pub object: usize,
    pub section: SectionId,
    pub offset: u64,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// One object as linked into the session.
#[derive(Debug, Clone)]
pub struct LinkedObject {
    /// File name or REPL input name.
    pub name: String,
    /// The graph with addresses assigned and fixups applied (debug sections
    /// relocated to VM addresses, for debuggers and the REPL).
    pub graph: LinkGraph,
    /// The graph before fixups, when [`SessionOptions::keep_unfixed_graphs`] is set.
    pub unfixed: Option<LinkGraph>,
    /// The link unit (one `add_objects` call) this object came with.
    pub unit: usize,
}

/// Timings of the passes of one link, for `--show-times`.
#[derive(Debug, Clone, Default)]
pub struct LinkTimes {
    pub passes: Vec<(&'static str, Duration)>,
}

/// What is needed to undo one `add_objects` call.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitUndo {
    pub first_object: usize,
    pub code_len: usize,
    pub rodata_len: usize,
    pub data_len: usize,
    /// Bindings this unit replaced (None: the name was new).
    pub replaced: Vec<(String, Option<GlobalSymbol>)>,
    pub first_reference: HashMap<String, usize>,
    pub trampolines: Vec<u32>,
    /// The kernel-object region's length and the number of maps before.
    pub kernel_len: usize,
    pub map_count: usize,
    /// Published bytes this unit rewrote, in order.
    pub patches: Vec<Patch>,
    /// The TLS template's size and the thread-local region's length before.
    pub tls_size: u64,
    pub tls_len: usize,
}

/// A verification pass run on every link before anything is published.
pub type VerifyHook = Box<dyn Fn(&LinkGraph, &Vm) -> Result<(), String>>;

/// The linked state: VM, objects, symbols, helpers.
pub struct Session {
    pub(crate) vm: Vm,
    pub(crate) options: SessionOptions,
    pub(crate) objects: Vec<LinkedObject>,
    pub(crate) globals: HashMap<String, GlobalSymbol>,
    pub(crate) helpers: HashMap<String, u32>,
    pub(crate) trampolines: HashMap<u32, usize>,
    pub(crate) references: HashMap<String, Vec<Reference>>,
    pub(crate) units: Vec<UnitUndo>,
    pub(crate) verifiers: Vec<VerifyHook>,
    /// The kernel world (maps, kernel helpers), when enabled.
    pub(crate) kernel: Option<bpf_kernel::Kernel>,
    /// The BTF CO-RE relocations are resolved against (`--btf`).
    pub(crate) target_btf: Option<std::rc::Rc<crate::btf::Btf>>,
    /// Prove memory accesses in bounds when linking (see `bpf-verifier`).
    pub(crate) prove_accesses: bool,
    pub(crate) last_times: LinkTimes,
    pub(crate) debug_cache:
        std::cell::RefCell<HashMap<usize, Option<std::rc::Rc<crate::debuginfo::ObjectDebugInfo>>>>,
}

/// Errors from [`Session::call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No function of that name.
    NotFound(String),
    /// The name is not a function.
    NotAFunction(String),
    /// The function trapped.
    Trap(Trap),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::NotFound(n) => write!(f, "no function named `{n}` is defined"),
            CallError::NotAFunction(n) => write!(f, "`{n}` is not a function"),
            CallError::Trap(t) => write!(f, "{t}"),
        }
    }
}

impl std::error::Error for CallError {}

impl Session {
    /// A session over a VM.
    pub fn new(mut vm: Vm, options: SessionOptions) -> Session {
        vm.register_runtime_helper(
            link::UNDEFINED_FUNCTION_HELPER,
            "<undefined function>",
            Box::new(|_, _| {
                Err(bpf_vm::HelperError::Fault(
                    "call to a function that is declared but not defined yet".to_string(),
                ))
            }),
        );
        Session {
            vm,
            options,
            objects: Vec::new(),
            globals: HashMap::new(),
            helpers: HashMap::new(),
            trampolines: HashMap::new(),
            references: HashMap::new(),
            units: Vec::new(),
            verifiers: Vec::new(),
            kernel: None,
            target_btf: None,
            prove_accesses: true,
            last_times: LinkTimes::default(),
            debug_cache: Default::default(),
        }
    }

    /// The VM (code, memory, configuration).
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The VM, mutably (memory snapshots, configuration, interrupts).
    pub fn vm_mut(&mut self) -> &mut Vm {
        &mut self.vm
    }

    /// The options the session was made with.
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// Registers a host runtime helper under its C name; undefined
    /// references to that name resolve to it when no linked object defines
    /// it. Calls to it become runtime-helper calls (`call` with `src = 2`)
    /// of the index returned: a raw `call N` (a kernel helper id) can never
    /// reach it.
    pub fn register_helper(&mut self, name: &str, func: impl Into<HelperImpl>) -> u32 {
        let id = match self.helpers.get(name) {
            Some(id) => *id,
            None => self.helpers.len() as u32 + 1,
        };
        // Messages and listings name the C function (`printf`, not its
        // strict-mode variant `__bpf_strict_printf`).
        let shown = bpf_runtime::c_name(name);
        match func.into() {
            HelperImpl::Plain(f) => self.vm.register_runtime_helper(id, shown, f),
            HelperImpl::Callback(f) => self.vm.register_runtime_callback_helper(id, shown, f),
        }
        self.helpers.insert(name.to_string(), id);
        id
    }

    /// Enables the kernel world: its helpers are registered under their
    /// kernel ids, objects may define maps (created in it as they link),
    /// and kernel program contexts are emulated.
    pub fn enable_kernel(&mut self, kernel: bpf_kernel::Kernel) {
        kernel.install(&mut self.vm);
        self.kernel = Some(kernel);
    }

    /// Sets the BTF that CO-RE relocations of later objects are resolved
    /// against (raw BTF such as `/sys/kernel/btf/vmlinux`, or an ELF file's
    /// `.BTF`). Without
    /// one, objects with CO-RE relocations are refused.
    pub fn set_target_btf(&mut self, bytes: &[u8]) -> Result<(), crate::btf::BtfError> {
        self.target_btf = Some(std::rc::Rc::new(crate::btf::Btf::parse_file(bytes)?));
        Ok(())
    }

    /// The kernel world, if enabled.
    pub fn kernel(&self) -> Option<&bpf_kernel::Kernel> {
        self.kernel.as_ref()
    }

    /// The runtime helper index registered for a name.
    pub fn helper_id(&self, name: &str) -> Option<u32> {
        self.helpers.get(name).copied()
    }

    /// Adds a verification pass run on every later link.
    pub fn add_verifier(&mut self, hook: VerifyHook) {
        self.verifiers.push(hook);
    }

    /// Whether later links prove memory accesses in bounds, so that the VM
    /// runs them with fewer checks (on by default).
    pub fn set_prove_accesses(&mut self, on: bool) {
        self.prove_accesses = on;
    }

    /// Links one object.
    pub fn add_object(&mut self, name: &str, bytes: &[u8]) -> Result<(), LinkError> {
        self.add_objects(&[(name, bytes)])
    }

    /// Links objects together as one unit: they see each other's
    /// definitions and everything linked before. All or nothing: on error
    /// the session is exactly as it was.
    pub fn add_objects(&mut self, objects: &[(&str, &[u8])]) -> Result<(), LinkError> {
        link::link_unit(self, objects)
    }

    /// Timings of the passes of the last successful link.
    pub fn last_link_times(&self) -> &LinkTimes {
        &self.last_times
    }

    /// Removes the most recent unit added with [`Session::add_objects`]:
    /// its code, data, symbols and references; earlier definitions it
    /// replaced come back. Returns the names of the objects removed.
    pub fn undo(&mut self) -> Option<Vec<String>> {
        link::undo_unit(self)
    }

    /// Number of units that [`Session::undo`] can remove.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Defines (or redefines) a global name as a fixed value, like
    /// `llvm-jitlink -abs name=value`.
    pub fn define_absolute(&mut self, name: &str, value: u64) {
        self.globals.insert(
            name.to_string(),
            GlobalSymbol {
                name: name.to_string(),
                kind: SymbolKind::Other,
                addr: value,
                body: value,
                size: 0,
                object: None,
                weak: false,
                common: false,
                stub: None,
            },
        );
    }

    /// The TLS template: the initial contents of a thread's TLS block
    /// (its thread control block, `.tdata` values, `.tbss` zeros) and
    /// where each thread's block is. The main thread's block is made when
    /// the first thread-local variable is linked; thread support makes the
    /// others with [`TlsTemplate::init_block`] (see docs/abi.md).
    pub fn tls_template(&self) -> &TlsTemplate {
        &self.vm.tls
    }

    /// Sets the distance between threads' TLS blocks, which bounds the
    /// thread-local storage of one thread (`--tls-block-size`; default
    /// [`bpf_vm::tls::DEFAULT_BLOCK_SIZE`]). Refused once threads other
    /// than the main one have blocks, or below what is already linked.
    pub fn set_tls_block_size(&mut self, bytes: u64) -> Result<(), String> {
        let vm = &mut self.vm;
        vm.tls.set_block_size(&vm.mem, bytes)
    }

    /// The name of whatever defined a symbol, for messages.
    pub fn defined_by(&self, sym: &GlobalSymbol) -> String {
        match sym.object.and_then(|i| self.objects.get(i)) {
            Some(o) => o.name.clone(),
            None => "the command line".to_string(),
        }
    }

    /// The name of the not-yet-defined function whose stub is at `slot`.
    pub fn undefined_function_at(&self, slot: usize) -> Option<&str> {
        self.globals
            .values()
            .find(|g| g.is_pending() && g.stub == Some(slot))
            .map(|g| g.name.as_str())
    }

    /// The C name of the host helper whose trampoline (the code address
    /// `&printf` gives) is at `addr`.
    pub fn helper_at(&self, addr: u64) -> Option<&str> {
        let slot = self.vm.code_index(addr)?;
        let id = self
            .trampolines
            .iter()
            .find_map(|(&id, &s)| (s == slot).then_some(id))?;
        self.helpers
            .iter()
            .find_map(|(name, &i)| (i == id).then_some(bpf_runtime::c_name(name)))
    }

    /// The current definition of a global name.
    pub fn lookup(&self, name: &str) -> Option<&GlobalSymbol> {
        self.globals.get(name)
    }

    /// All global symbols, in address order.
    pub fn symbols(&self) -> Vec<&GlobalSymbol> {
        let mut v: Vec<_> = self.globals.values().collect();
        v.sort_by(|a, b| (a.body, &a.name).cmp(&(b.body, &b.name)));
        v
    }

    /// Objects linked so far, oldest first.
    pub fn objects(&self) -> &[LinkedObject] {
        &self.objects
    }

    /// Calls a function by name with up to five integer arguments.
    pub fn call(&mut self, name: &str, args: &[u64]) -> Result<u64, CallError> {
        let sym = self
            .globals
            .get(name)
            .ok_or_else(|| CallError::NotFound(name.to_string()))?;
        if sym.kind != SymbolKind::Function {
            return Err(CallError::NotAFunction(name.to_string()));
        }
        let index = self
            .vm
            .code_index(sym.addr)
            .ok_or_else(|| CallError::NotAFunction(name.to_string()))?;
        self.vm.call(index, args).map_err(CallError::Trap)
    }

    /// The function (global or local) whose code contains `slot`, with the
    /// object that defines it and the slot's offset in bytes from the
    /// function's start. Stubs and trampolines have no function.
    pub fn function_at(&self, slot: usize) -> Option<(&str, &LinkedObject, u64)> {
        let addr = bpf_vm::code_addr(slot);
        for obj in &self.objects {
            for sym in &obj.graph.symbols {
                if sym.kind != SymbolKind::Function {
                    continue;
                }
                if let crate::graph::Definition::Defined { section, offset } = sym.def {
                    let sec = &obj.graph.sections[section];
                    let Some(base) = sec.addr else { continue };
                    let start = base + offset;
                    if addr >= start && addr < start + sym.size.max(8) {
                        return Some((sym.name.as_str(), obj, addr - start));
                    }
                }
            }
        }
        None
    }
}
