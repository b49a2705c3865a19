//! `bpf-cc` is bpf-repl's C compiler stage: clang turns C into LLVM IR for
//! the BPF target, and this crate rewrites what the BPF backend refuses —
//! floating point, more than five arguments, variadic functions, structs
//! by value, 128-bit multiply and divide, large copies, variable-length
//! arrays, UB-check traps — into calls and plain BPF that follow bpf-repl's
//! closed-world ABI (`docs/abi.md`), then runs LLVM's BPF backend, all in
//! process.
//!
//! ```text
//! clang -emit-llvm -Xclang -disable-llvm-optzns   (clang_flags)
//!   -> early passes on unoptimised IR               (fall-off-the-end check,
//!                                                    thread-local variables)
//!   -> LLVM's default<O2> pipeline, BPF target
//!   -> lowering passes                              (passes/)
//!   -> verifier -> BPF target machine -> ELF object
//! ```
//!
//! [`lower`] takes bitcode (from a clang the caller runs, e.g. the REPL's
//! fork server) and returns the object; [`compile`] runs clang on a file
//! too. Under [`Mode::Strict`] nothing is lowered: every construct that
//! would need the ABI is reported at its line instead.

mod abi;
mod backend;
pub mod clang;
pub mod driver;
mod error;
mod ir;
mod llvm;
mod passes;

pub use abi::{
    ABI_SECTION, ABI_VERSION, TRAP_BUILTIN, TRAP_MISSING_RETURN, TRAP_UNREACHABLE, TRAP_VA_ARG,
};
pub use clang::{clang_flags, compile, CompileError, CompileOptions, Emit};
pub use error::{Diagnostic, LowerError};
pub use ir::SourceLoc;
pub use llvm::OptLevel;

use inkwell::module::Module;
use passes::Cx;

/// Which rules the compiled code follows (docs/abi.md, "Modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// bpf-repl's ABI: all of C.
    #[default]
    Full,
    /// `--strict-bpf`: only what plain BPF runs; the rest is refused by name.
    Strict,
}

/// Whether clang's undefined-behaviour checks are compiled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UbChecks {
    #[default]
    Off,
    On,
}

/// How [`lower`] compiles one module.
#[derive(Debug, Clone)]
pub struct LowerOptions {
    pub mode: Mode,
    /// The optimisation pipeline to run (clang ran none).
    pub opt: OptLevel,
    /// Adds the IR stage's own UB check (a value-returning function falling
    /// off its end); clang's checks are chosen by its flags.
    pub ub_checks: UbChecks,
    /// Stack bytes per frame the VM gives each call (`bpf-jitlink
    /// --stack-size`); larger local variables move to the alloca region.
    pub frame_size: u64,
    /// Keep DWARF in the object (`-g`).
    pub debug_info: bool,
    /// Name of the input, for messages.
    pub name: String,
}

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions {
            mode: Mode::Full,
            opt: OptLevel::O2,
            ub_checks: UbChecks::Off,
            frame_size: 512,
            debug_info: true,
            name: "input".to_string(),
        }
    }
}

/// Compiles LLVM bitcode for the BPF target (as [`clang_flags`] makes it)
/// into a BPF ELF relocatable object, lowering it to bpf-repl's ABI.
pub fn lower(bitcode: &[u8], options: &LowerOptions) -> Result<Vec<u8>, LowerError> {
    run_stage(bitcode, options, Output::Object)
}

/// Like [`lower`], but returns the lowered LLVM IR as text instead of an
/// object (what the backend is given; `bpf-cc -S -emit-llvm`).
pub fn lower_to_ir(bitcode: &[u8], options: &LowerOptions) -> Result<String, LowerError> {
    run_stage(bitcode, options, Output::Ir).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Like [`lower`], but returns BPF assembly text (`bpf-cc -S`).
pub fn lower_to_asm(bitcode: &[u8], options: &LowerOptions) -> Result<String, LowerError> {
    run_stage(bitcode, options, Output::Asm).map(|b| String::from_utf8_lossy(&b).into_owned())
}

#[derive(PartialEq, Eq)]
enum Output {
    Object,
    Ir,
    Asm,
}

fn run_stage(
    bitcode: &[u8],
    options: &LowerOptions,
    output: Output,
) -> Result<Vec<u8>, LowerError> {
    llvm::CURRENT_INPUT.with(|c| *c.borrow_mut() = options.name.clone());
    let session = llvm::Session::new();
    let module = session.parse(bitcode, &options.name)?;
    let tm = llvm::target_machine(options.opt, options.frame_size);
    let strict = options.mode == Mode::Strict;
    let ir = ir::Ir::new(session.context.raw(), module.as_mut_ptr());
    if options.ub_checks == UbChecks::On && !strict {
        passes::falloff::run(&mut Cx::new(&ir, strict, options.frame_size));
    }
    let mut early = Cx::new(&ir, strict, options.frame_size);
    passes::tls::run(&mut early);
    let early_problems = early.problems;
    let variadic = variadic_names(&ir);
    llvm::optimise(&module, &tm, options.opt)?;
    if has_vectors(&ir) {
        llvm::scalarize(&module, &tm)?;
    }
    let mut cx = Cx::new(&ir, strict, options.frame_size);
    passes::unsupported::run(&mut cx);
    passes::atomics::run(&mut cx);
    passes::traps::run(&mut cx);
    passes::float::run(&mut cx);
    passes::int128::run(&mut cx);
    passes::signature::run(&mut cx);
    passes::memory::run(&mut cx);
    passes::alloca::run(&mut cx);
    cx.problems.splice(0..0, early_problems);
    passes::sections::run(&mut cx);
    if !cx.problems.is_empty() {
        return Err(LowerError::Unsupported(cx.problems));
    }
    drop(cx);
    verify(&module)?;
    if !strict {
        ir.append_module_asm(&marker_asm(&variadic));
    }
    let asm = backend::asm_sites(&ir);
    if !options.debug_info {
        unsafe { llvm_sys::debuginfo::LLVMStripModuleDebugInfo(module.as_mut_ptr()) };
    }
    drop(ir);
    if output == Output::Ir {
        return Ok(module.print_to_string().to_bytes().to_vec());
    }
    let object = llvm::emit(&module, &tm, output == Output::Asm);
    let errors = session.take_errors();
    if !errors.is_empty() {
        return Err(LowerError::Backend(backend::diagnostics(
            &errors,
            &asm,
            options.frame_size,
        )));
    }
    object
}

/// True if some instruction produces a vector (BPF has no vector registers,
/// and its backend's vector legalization is fragile: scalarize them all).
fn has_vectors(ir: &ir::Ir) -> bool {
    passes::definitions(ir).into_iter().any(|f| {
        ir.all_insts(f)
            .into_iter()
            .any(|i| ir.is_vector(ir.type_of(i)))
    })
}

fn verify(module: &Module) -> Result<(), LowerError> {
    module
        .verify()
        .map_err(|e| LowerError::Internal(e.to_string().trim().to_string()))
}

/// Names of the variadic functions the module defines or calls by name
/// (recorded in the ABI marker, so the linker can refuse mixing ABIs).
fn variadic_names(ir: &ir::Ir) -> Vec<String> {
    let mut names: Vec<String> = ir
        .functions()
        .into_iter()
        .filter(|f| ir.is_variadic(ir.function_type(*f)))
        .filter(|f| !ir.is_declaration(*f) || ir.has_uses(*f))
        .map(|f| ir.name(f))
        .filter(|n| !n.starts_with("llvm."))
        .collect();
    names.sort();
    names
}

/// The `.bpf_repl.abi` section: the version, then the NUL-terminated names
/// of the variadic functions the object defines or calls.
fn marker_asm(variadic: &[String]) -> String {
    let mut s = format!("\t.pushsection {ABI_SECTION},\"\",@progbits\n\t.long {ABI_VERSION}\n");
    for name in variadic {
        s.push_str(&format!("\t.asciz \"{name}\"\n"));
    }
    s.push_str("\t.popsection\n");
    s
}
