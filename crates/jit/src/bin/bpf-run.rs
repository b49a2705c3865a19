//! `bpf-run`: runs raw BPF bytecode on bpf-vm (the interpreter or the
//! Cranelift JIT, `--engine`), the way uBPF's and rbpf's users run programs.
//!
//! The program starts at instruction 0 with r1 = the address of the input
//! buffer (copied into VM memory) and r2 = its length; r0 is printed when it
//! exits. Exit status: 0 on success, 1 when the program traps, 2 for usage,
//! I/O and validation errors.

use bpf_jit::EngineKind;
use bpf_vm::disasm::{disasm_insn, disasm_listing, listing_line, NoSymbols};
use bpf_vm::files::{read_bounded, DEFAULT_MEMORY_LIMIT};
use bpf_vm::isa::{self, Insn};
use bpf_vm::memory::MAX_REGION_SIZE;
use bpf_vm::{RegionKind, Trap, Vm, VmConfig};
use clap::Parser;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run raw BPF bytecode (RFC 9669, ISA v4) and print r0.
#[derive(Parser, Debug)]
#[command(name = "bpf-run", version, after_help = AFTER_HELP)]
struct Args {
    /// Program: raw little-endian 8-byte instructions, or hex text (detected
    /// when the file holds only hex digits, whitespace and `#` comments).
    program: PathBuf,
    /// Read PROGRAM as hex text.
    #[arg(long, conflicts_with = "raw")]
    hex: bool,
    /// Read PROGRAM as raw bytes, even if it looks like hex text.
    #[arg(long)]
    raw: bool,
    /// Input buffer: the file's bytes are copied into VM memory.
    #[arg(long, value_name = "FILE", conflicts_with = "input_hex")]
    input: Option<PathBuf>,
    /// Input buffer given as hex digits (whitespace ignored).
    #[arg(long, value_name = "HEX")]
    input_hex: Option<String>,
    /// Maximum number of instructions to execute before stopping.
    #[arg(long, value_name = "N", default_value_t = VmConfig::default().budget)]
    budget: u64,
    /// Stack bytes per call frame (a multiple of 8; clang assumes 512).
    #[arg(long, value_name = "N", default_value_t = VmConfig::default().frame_size)]
    stack_size: usize,
    /// Maximum number of nested call frames, the entry frame included.
    #[arg(long, value_name = "N", default_value_t = VmConfig::default().max_call_depth)]
    max_call_depth: usize,
    /// Bytes of VM memory (and of each file read) allowed.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MEMORY_LIMIT)]
    memory_limit: usize,
    /// Print the program's disassembly (llvm-objdump syntax) instead of running it.
    #[arg(long)]
    disasm: bool,
    /// Execution engine: interp (the interpreter), jit (native code) or auto
    /// (interpret first, compile what is hot). Default: auto where the host
    /// has a code generator, else interp.
    #[arg(long, value_name = "ENGINE", default_value_t = EngineKind::default_for_host())]
    engine: EngineKind,
}

const AFTER_HELP: &str = "\
The program starts at instruction 0 with r1 = address of the input buffer
(0 without one) and r2 = its length. No helpers are registered.
Exit status: 0 success, 1 the program trapped, 2 usage, I/O or validation error.";

/// Why bpf-run stops without a result; each kind has its own exit status.
enum Failure {
    /// Bad arguments, unreadable files, malformed or invalid programs (status 2).
    Usage(String),
    /// The program trapped (status 1).
    Trap(String),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let (message, status) = match failure {
                Failure::Usage(m) => (m, 2),
                Failure::Trap(m) => (m, 1),
            };
            let _ = writeln!(std::io::stderr(), "bpf-run: {message}");
            ExitCode::from(status)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let config = vm_config(args)?;
    let code = read_program(args)?;
    if args.disasm {
        print(&disasm_listing(&code, 0, &NoSymbols))?;
    }
    let mut vm = Vm::new(config);
    vm.mem.set_limit(args.memory_limit);
    if let Some(note) = bpf_jit::install(&mut vm, args.engine) {
        let _ = writeln!(std::io::stderr(), "bpf-run: note: {note}");
    }
    let entry = vm
        .load_code(&code)
        .map_err(|e| Failure::Usage(format!("invalid program: {e}\n{}", show(&code, e.index))))?;
    if args.disasm {
        return Ok(());
    }
    vm.mark_entry(entry);
    let input = read_input(args)?;
    let (addr, len) = match input {
        Some(bytes) => (place_input(&mut vm, &bytes)?, bytes.len() as u64),
        None => (0, 0),
    };
    let r0 = vm
        .call(entry, &[addr, len])
        .map_err(|t| Failure::Trap(describe_trap(&t, vm.code())))?;
    let signed = if (r0 as i64) < 0 {
        format!(", {} as signed", r0 as i64)
    } else {
        String::new()
    };
    print(&format!("r0 = {r0} ({r0:#x}{signed})\n"))
}

/// The VM limits from the command line, checked so the stack fits its region.
fn vm_config(args: &Args) -> Result<VmConfig, Failure> {
    if !args.stack_size.is_multiple_of(8) {
        return Err(Failure::Usage(format!(
            "--stack-size {} is not a multiple of 8",
            args.stack_size
        )));
    }
    if args.max_call_depth == 0 {
        return Err(Failure::Usage(
            "--max-call-depth must be at least 1 (the entry frame)".into(),
        ));
    }
    let stack = args.stack_size.checked_mul(args.max_call_depth);
    if stack.is_none_or(|s| s > MAX_REGION_SIZE) {
        return Err(Failure::Usage(format!(
            "--stack-size {} times --max-call-depth {} exceeds the stack region's {} bytes",
            args.stack_size, args.max_call_depth, MAX_REGION_SIZE
        )));
    }
    Ok(VmConfig {
        frame_size: args.stack_size,
        max_call_depth: args.max_call_depth,
        budget: args.budget,
    })
}

/// Reads a file no larger than `--memory-limit` (devices are refused).
fn read_file(path: &Path, what: &str, limit: usize) -> Result<Vec<u8>, Failure> {
    read_bounded(path, what, limit, "--memory-limit").map_err(Failure::Usage)
}

/// Reads and decodes PROGRAM into instruction slots.
fn read_program(args: &Args) -> Result<Vec<Insn>, Failure> {
    let path = &args.program;
    let bytes = read_file(path, "program", args.memory_limit)?;
    let as_hex = args.hex || (!args.raw && looks_like_hex(&bytes));
    let bytes = if as_hex {
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            Failure::Usage(format!(
                "{}: not text (byte {}): {e}",
                path.display(),
                e.valid_up_to()
            ))
        })?;
        parse_hex(text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?
    } else {
        bytes
    };
    if bytes.is_empty() {
        return Err(Failure::Usage(format!(
            "{}: the program is empty",
            path.display()
        )));
    }
    isa::decode(&bytes).map_err(|rest| {
        Failure::Usage(format!(
            "{}: the program is {} bytes, not a whole number of 8-byte instructions \
             ({rest} bytes left over)",
            path.display(),
            bytes.len()
        ))
    })
}

/// True for text made only of hex digits, whitespace and `#` comments.
fn looks_like_hex(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut digits = 0;
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or("");
        for c in code.chars() {
            if c.is_ascii_hexdigit() {
                digits += 1;
            } else if !c.is_whitespace() {
                return false;
            }
        }
    }
    digits > 0
}

/// Hex digits to bytes; whitespace and `#` comments (to end of line) are
/// ignored. Errors name the line and column of the offending character.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut nibbles = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("");
        for (col, c) in code.chars().enumerate() {
            if let Some(v) = c.to_digit(16) {
                nibbles.push(v as u8);
            } else if !c.is_whitespace() {
                return Err(format!(
                    "line {}, column {}: {c:?} is not a hex digit",
                    line_no + 1,
                    col + 1
                ));
            }
        }
    }
    if !nibbles.len().is_multiple_of(2) {
        return Err(format!(
            "odd number of hex digits ({}): the last byte is incomplete",
            nibbles.len()
        ));
    }
    Ok(nibbles
        .chunks_exact(2)
        .map(|p| (p[0] << 4) | p[1])
        .collect())
}

fn read_input(args: &Args) -> Result<Option<Vec<u8>>, Failure> {
    if let Some(path) = &args.input {
        return read_file(path, "input", args.memory_limit).map(Some);
    }
    match &args.input_hex {
        Some(hex) => parse_hex(hex)
            .map(Some)
            .map_err(|e| Failure::Usage(format!("--input-hex: {e}"))),
        None => Ok(None),
    }
}

/// Copies the input into the VM's data region; returns its address.
fn place_input(vm: &mut Vm, bytes: &[u8]) -> Result<u64, Failure> {
    let too_big = |e| {
        Failure::Usage(format!(
            "the input ({} bytes) does not fit: {e}",
            bytes.len()
        ))
    };
    let addr = vm
        .mem
        .alloc(RegionKind::Data, bytes.len(), 8)
        .map_err(too_big)?;
    vm.mem.write_bytes(addr, bytes).map_err(too_big)?;
    Ok(addr)
}

/// The listing line of instruction `index`, or a note if there is none.
fn show(code: &[Insn], index: usize) -> String {
    match listing_line(code, index, 0, &NoSymbols) {
        Some((line, _)) => line,
        None => format!("{index:>8}:\t(no instruction here)"),
    }
}

/// Most call-stack lines shown for a trap; deeper stacks are summarised.
const MAX_STACK_LINES: usize = 16;

/// The trap, the instruction that raised it, and the calls that led there
/// (runs of the same call site, as in deep recursion, shown once with a count).
fn describe_trap(trap: &Trap, code: &[Insn]) -> String {
    let insn = |index: usize| match disasm_insn(code, index) {
        Some((text, _)) => format!("instruction {index}: {text}"),
        None => format!("slot {index} (outside the program)"),
    };
    let mut text = format!("trap: {}\n  at {}", trap.kind, insn(trap.pc));
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &site in &trap.call_sites {
        match runs.last_mut() {
            Some((last, count)) if *last == site => *count += 1,
            _ => runs.push((site, 1)),
        }
    }
    for &(site, count) in runs.iter().take(MAX_STACK_LINES) {
        text.push_str(&format!("\n  called from {}", insn(site)));
        if count > 1 {
            text.push_str(&format!(" ({count} times)"));
        }
    }
    if runs.len() > MAX_STACK_LINES {
        let hidden: usize = runs[MAX_STACK_LINES..].iter().map(|(_, n)| n).sum();
        text.push_str(&format!("\n  ... and {hidden} more calls"));
    }
    text
}

/// Writes to stdout; a closed pipe is an I/O error, not a panic.
fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Usage(format!("cannot write to stdout: {e}")))
}
