//! LLVM in process: reading bitcode, the optimisation pipeline, the BPF
//! target machine, and catching LLVM's diagnostics (which would otherwise
//! be printed to stderr and end the process).

use crate::error::LowerError;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::passes::PassBuilderOptions;
use inkwell::targets::{
    CodeModel, FileType, InitializationConfig, RelocMode, Target, TargetMachine, TargetTriple,
};
use inkwell::OptimizationLevel;
use llvm_sys::prelude::LLVMDiagnosticInfoRef;
use llvm_sys::LLVMDiagnosticSeverity;
use std::cell::RefCell;
use std::ffi::{c_void, CStr};
use std::sync::{Mutex, Once};

/// Optimisation level, as clang's `-O` flags name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptLevel {
    O0,
    O1,
    #[default]
    O2,
    O3,
    Os,
    Oz,
}

impl OptLevel {
    /// Parses the part after `-O` (`""` is `-O`, i.e. `-O1` as in clang... we use O2).
    pub fn parse(s: &str) -> Option<OptLevel> {
        Some(match s {
            "0" => OptLevel::O0,
            "1" => OptLevel::O1,
            "" | "2" => OptLevel::O2,
            "3" | "fast" => OptLevel::O3,
            "s" => OptLevel::Os,
            "z" => OptLevel::Oz,
            _ => return None,
        })
    }

    /// The flag for clang (`-O2`, ...).
    pub fn flag(self) -> &'static str {
        match self {
            OptLevel::O0 => "-O0",
            OptLevel::O1 => "-O1",
            OptLevel::O2 => "-O2",
            OptLevel::O3 => "-O3",
            OptLevel::Os => "-Os",
            OptLevel::Oz => "-Oz",
        }
    }

    fn pipeline(self) -> &'static str {
        match self {
            OptLevel::O0 => "default<O0>",
            OptLevel::O1 => "default<O1>",
            OptLevel::O2 => "default<O2>",
            OptLevel::O3 => "default<O3>",
            OptLevel::Os => "default<Os>",
            OptLevel::Oz => "default<Oz>",
        }
    }

    fn codegen(self) -> OptimizationLevel {
        match self {
            OptLevel::O0 => OptimizationLevel::None,
            OptLevel::O1 => OptimizationLevel::Less,
            OptLevel::O3 => OptimizationLevel::Aggressive,
            _ => OptimizationLevel::Default,
        }
    }
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        Target::initialize_bpf(&InitializationConfig::default());
        // For inline BPF assembly and the ABI marker (inkwell leaves it out).
        unsafe {
            llvm_sys::target::LLVMInitializeBPFAsmParser();
            llvm_sys::error_handling::LLVMInstallFatalErrorHandler(Some(on_fatal_error));
        }
    });
}

thread_local! {
    /// The input being compiled on this thread, for [`on_fatal_error`].
    pub(crate) static CURRENT_INPUT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// LLVM's last word before it ends the process: one line naming the input.
extern "C" fn on_fatal_error(reason: *const std::ffi::c_char) {
    let reason = unsafe { CStr::from_ptr(reason) }.to_string_lossy();
    let input = CURRENT_INPUT.with(|c| c.borrow().clone());
    eprintln!(
        "bpf-cc: error: LLVM stopped while compiling {input}: {reason} (an internal error in bpf-cc's IR stage or LLVM; please report it with the input)"
    );
}

/// Sets the BPF backend's per-frame stack limit (`-bpf-stack-size`), a
/// process-wide LLVM option, when it differs from the last one set.
fn set_stack_size(bytes: u64) {
    static CURRENT: Mutex<u64> = Mutex::new(512);
    let mut current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    if *current == bytes {
        return;
    }
    let args = [
        c"bpf-cc".to_owned(),
        std::ffi::CString::new(format!("-bpf-stack-size={bytes}")).expect("no NUL"),
    ];
    let ptrs: Vec<*const std::ffi::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    unsafe {
        llvm_sys::support::LLVMParseCommandLineOptions(
            ptrs.len() as i32,
            ptrs.as_ptr(),
            std::ptr::null(),
        )
    };
    *current = bytes;
}

/// Messages LLVM reported through the context's diagnostic handler.
#[derive(Default)]
pub(crate) struct Collected {
    pub errors: Vec<String>,
}

extern "C" fn on_diagnostic(info: LLVMDiagnosticInfoRef, ctx: *mut c_void) {
    // SAFETY: `ctx` is the `RefCell<Collected>` installed by `Session::new`,
    // which outlives the context.
    let collected = unsafe { &*(ctx as *const RefCell<Collected>) };
    let severity = unsafe { llvm_sys::core::LLVMGetDiagInfoSeverity(info) };
    if severity != LLVMDiagnosticSeverity::LLVMDSError {
        return;
    }
    let text = unsafe {
        let p = llvm_sys::core::LLVMGetDiagInfoDescription(info);
        let s = CStr::from_ptr(p).to_string_lossy().into_owned();
        llvm_sys::core::LLVMDisposeMessage(p);
        s
    };
    if let Ok(mut c) = collected.try_borrow_mut() {
        c.errors.push(text);
    }
}

/// One LLVM context with its diagnostics caught.
pub(crate) struct Session {
    pub context: Context,
    collected: Box<RefCell<Collected>>,
}

impl Session {
    pub fn new() -> Session {
        init();
        let context = Context::create();
        let collected = Box::new(RefCell::new(Collected::default()));
        unsafe {
            llvm_sys::core::LLVMContextSetDiagnosticHandler(
                context.raw(),
                Some(on_diagnostic),
                &*collected as *const RefCell<Collected> as *mut c_void,
            );
        }
        Session { context, collected }
    }

    /// Errors reported so far (and forgets them).
    pub fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut self.collected.borrow_mut().errors)
    }

    /// Reads a bitcode module for the BPF target.
    pub fn parse<'c>(&'c self, bitcode: &[u8], name: &str) -> Result<Module<'c>, LowerError> {
        let buf = MemoryBuffer::create_from_memory_range_copy(bitcode, name);
        let module = Module::parse_bitcode_from_buffer(&buf, &self.context)
            .map_err(|e| LowerError::BadInput(format!("{name}: not LLVM bitcode: {e}")))?;
        let triple = module.get_triple();
        let triple = triple.as_str().to_string_lossy();
        if !triple.starts_with("bpf") {
            return Err(LowerError::BadInput(format!(
                "{name}: bitcode for target `{triple}`, not bpf (compile with -target bpf)"
            )));
        }
        Ok(module)
    }
}

/// The BPF target machine for `-mcpu=v4`.
pub(crate) fn target_machine(opt: OptLevel, frame_size: u64) -> TargetMachine {
    init();
    set_stack_size(frame_size);
    let triple = TargetTriple::create("bpfel");
    let target = Target::from_triple(&triple).expect("the BPF target is initialised");
    target
        .create_target_machine(
            &triple,
            "v4",
            "",
            opt.codegen(),
            RelocMode::Default,
            CodeModel::Default,
        )
        .expect("a BPF target machine")
}

/// Runs LLVM's standard pipeline for `opt` on `module`.
pub(crate) fn optimise(
    module: &Module,
    tm: &TargetMachine,
    opt: OptLevel,
) -> Result<(), LowerError> {
    let options = PassBuilderOptions::create();
    options.set_loop_vectorization(false);
    options.set_loop_slp_vectorization(false);
    module
        .run_passes(opt.pipeline(), tm, options)
        .map_err(|e| LowerError::Internal(format!("optimisation pipeline: {e}")))
}

/// Splits vector operations into scalar ones (BPF has no vector registers;
/// the lowering passes then see each element's operation).
pub(crate) fn scalarize(module: &Module, tm: &TargetMachine) -> Result<(), LowerError> {
    module
        .run_passes("function(scalarizer)", tm, PassBuilderOptions::create())
        .map_err(|e| LowerError::Internal(format!("scalarizer: {e}")))
}

/// Emits the object file (or assembly text).
pub(crate) fn emit(module: &Module, tm: &TargetMachine, asm: bool) -> Result<Vec<u8>, LowerError> {
    let kind = if asm {
        FileType::Assembly
    } else {
        FileType::Object
    };
    tm.write_to_memory_buffer(module, kind)
        .map(|b| b.as_slice().to_vec())
        .map_err(|e| LowerError::Internal(format!("code generation: {e}")))
}
