//! `bpf-jitlink`: link BPF relocatable objects into a fresh session and run
//! an entry function, shaped like `llvm-jitlink`.

#[path = "kernel_cli/mod.rs"]
mod kernel_cli;

use bpf_linker::{Session, SessionOptions};
use bpf_vm::{Vm, VmConfig};
use clap::Parser;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "bpf-jitlink",
    version,
    about = "Link BPF ELF relocatable objects in memory and run an entry function",
    long_about = "Link BPF ELF relocatable objects (clang -target bpf -c) into a user-space BPF VM \
                  and run the entry function. The exit status is the entry's return value, \
                  as with llvm-jitlink."
)]
struct Args {
    /// Objects to link, in order (`.c` files are compiled with bpf-cc first).
    #[arg(required_unless_present_any = ["print_cflags", "print_kernel_cflags"], value_name = "OBJ")]
    objects: Vec<std::path::PathBuf>,
    /// Function to run.
    #[arg(long, default_value = "main")]
    entry: String,
    /// Integer arguments for the entry function (up to five; decimal, 0x hex or negative).
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_parser = parse_int)]
    args: Vec<u64>,
    /// Link only; do not run the entry function.
    #[arg(long)]
    noexec: bool,
    /// Print the link graph of each object before and after fixups.
    #[arg(long)]
    show_graph: bool,
    /// Print the address of every symbol.
    #[arg(long)]
    show_addrs: bool,
    /// Print the size of every loaded section and the totals.
    #[arg(long)]
    show_sizes: bool,
    /// Print how long each link pass and the run took.
    #[arg(long)]
    show_times: bool,
    /// Define an absolute symbol: NAME=VALUE.
    #[arg(long = "abs", value_name = "NAME=VALUE", value_parser = parse_abs)]
    abs: Vec<(String, u64)>,
    /// Print the disassembly of every function, with source lines interleaved
    /// where the objects have debug info (like llvm-objdump -S).
    #[arg(long)]
    disasm: bool,
    /// Print the flags for building kernel-BPF C objects with plain clang
    /// (the C runtime's headers, no bpf-cc lowering), then exit. Use bpf-cc
    /// for ordinary C.
    #[arg(long)]
    print_cflags: bool,
    /// Instructions the entry may execute before it is stopped.
    #[arg(long, default_value_t = VmConfig::default().budget)]
    budget: u64,
    /// Stack bytes per call frame (match clang's -mllvm -bpf-stack-size).
    #[arg(long, default_value_t = VmConfig::default().frame_size)]
    stack_size: usize,
    /// Execution engine: interp, jit or auto (interpret first, compile what
    /// is hot; the default where the host has a code generator).
    #[arg(long, value_name = "ENGINE", default_value_t = bpf_jit::EngineKind::default_for_host())]
    engine: bpf_jit::EngineKind,
    /// Maximum number of nested call frames, the entry frame included.
    #[arg(long, default_value_t = VmConfig::default().max_call_depth)]
    max_call_depth: usize,
    /// Bytes of VM memory (and of each object file read) allowed.
    #[arg(long, value_name = "BYTES", default_value_t = bpf_vm::files::DEFAULT_MEMORY_LIMIT)]
    memory_limit: usize,
    /// Memcheck: check every load and store into the heap against its
    /// blocks and into globals against their bounds (use after free,
    /// overflows), reported with where the block was allocated and freed.
    /// `off` for speed runs.
    #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
    memcheck: String,
    /// Bytes of freed heap blocks kept from reuse under memcheck, so a use
    /// after free finds its block still freed.
    #[arg(long, value_name = "BYTES", default_value_t = bpf_runtime::DEFAULT_QUARANTINE)]
    quarantine: usize,
    /// Check every program of the objects (functions in SEC("xdp"),
    /// SEC("kprobe/..."), ... sections) as the Linux verifier would, report
    /// what it would refuse and why, and link only (implies --noexec).
    /// `kernel`: a privileged loader; `kernel-unprivileged`: one without CAP_BPF.
    #[arg(long, value_name = "MODE", value_parser = ["kernel", "kernel-unprivileged"])]
    verify: Option<String>,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    hosted: HostedArgs,
    #[command(flatten)]
    kernel: KernelArgs,
}

/// Multi-threaded programs (<pthread.h>, <threads.h>).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Threads")]
struct ThreadArgs {
    /// Seed of the deterministic scheduler: the same seed replays the same
    /// interleaving; another seed explores another.
    #[arg(long, value_name = "N", default_value_t = bpf_vm::threads::SchedConfig::default().seed)]
    sched_seed: u64,
    /// Mean instructions a thread runs before the scheduler may switch.
    #[arg(long, value_name = "INSNS", default_value_t = bpf_vm::threads::SchedConfig::default().quantum)]
    quantum: u64,
    /// Most threads alive at once, the main thread included.
    #[arg(long, value_name = "N", default_value_t = bpf_vm::threads::SchedConfig::default().max_threads)]
    max_threads: usize,
}

/// What a C program's library may reach outside the VM.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "C programs")]
struct HostedArgs {
    /// Let the program's fopen, remove and rename use the files in DIR
    /// (names relative to it; absolute paths, `..` and symbolic links are
    /// refused). Without it, the program has no files.
    #[arg(long, value_name = "DIR")]
    fs: Option<std::path::PathBuf>,
    /// time(), clock() and friends start at 2024-01-01 00:00:00 UTC and
    /// advance one microsecond per read; dates are in UTC.
    #[arg(long)]
    deterministic_time: bool,
}

/// Running kernel-style programs (SEC("xdp"), SEC("kprobe/..."), ...).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Kernel programs")]
struct KernelArgs {
    /// Run this program (a function in a program section, or a section
    /// holding one program) instead of --entry; then print the verdict and
    /// the maps.
    #[arg(long, value_name = "PROGRAM")]
    prog: Option<String>,
    /// Run the program on one packet (Ethernet frame), given in hex.
    #[arg(long, value_name = "HEX", requires = "prog", conflicts_with = "pcap")]
    packet: Option<String>,
    /// Run the program on every packet of a pcap or pcapng capture.
    #[arg(long, value_name = "FILE", requires = "prog")]
    pcap: Option<std::path::PathBuf>,
    /// Context bytes in hex for tracing programs (pt_regs, tracepoint record, u64 args).
    #[arg(long, value_name = "HEX", requires = "prog", conflicts_with_all = ["packet", "pcap"])]
    ctx: Option<String>,
    /// Fill a program array slot before running: MAP[INDEX]=PROGRAM.
    #[arg(long = "tail-call", value_name = "MAP[INDEX]=PROGRAM")]
    tail_calls: Vec<String>,
    /// Resolve CO-RE relocations against this kernel BTF
    /// (e.g. /sys/kernel/btf/vmlinux); without it they are refused.
    #[arg(long, value_name = "FILE")]
    btf: Option<std::path::PathBuf>,
    /// Deterministic bpf_ktime_get_ns: START[:STEP] nanoseconds (default: the
    /// host clock, or each packet's capture time).
    #[arg(long, value_name = "START[:STEP]")]
    ktime: Option<String>,
    /// Seed of bpf_get_prandom_u32.
    #[arg(long, default_value_t = bpf_kernel::KernelConfig::default().seed)]
    seed: u64,
    /// Ring buffer and perf event records to print (all are counted).
    #[arg(long, default_value_t = 20, value_name = "N")]
    show_events: usize,
    /// List the programs of the objects (function, section, type), then exit.
    #[arg(long)]
    list_progs: bool,
    /// Print the clang flags that build kernel-style objects with the
    /// shipped headers (<linux/bpf.h>, <bpf/bpf_helpers.h>...), then exit.
    #[arg(long)]
    print_kernel_cflags: bool,
}

fn parse_int(s: &str) -> Result<u64, String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    }
    .map_err(|e| format!("`{s}` is not an integer: {e}"))?;
    Ok(if neg { v.wrapping_neg() } else { v })
}

fn parse_abs(s: &str) -> Result<(String, u64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    if name.is_empty() {
        return Err(format!("`{s}` has an empty name"));
    }
    Ok((name.to_string(), parse_int(value)?))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut out = String::new();
    let result = run(&args, &mut out);
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    match result {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("bpf-jitlink: error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args, out: &mut String) -> Result<ExitCode, String> {
    if args.print_cflags {
        let mut flags: Vec<String> = [
            "-target",
            "bpf",
            "-mcpu=v4",
            "-O2",
            "-g",
            "-D__BPF_REPL_STRICT__",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        flags.extend(
            bpf_runtime::clang_args()
                .into_iter()
                .map(|a| a.to_string_lossy().into_owned()),
        );
        let _ = writeln!(out, "{}", flags.join(" "));
        return Ok(ExitCode::SUCCESS);
    }
    if args.kernel.print_kernel_cflags {
        let _ = writeln!(out, "{}", kernel_cli::cflags());
        return Ok(ExitCode::SUCCESS);
    }
    if args.args.len() > 5 {
        return Err(format!(
            "{} arguments given; BPF functions take at most five",
            args.args.len()
        ));
    }
    let mut files = Vec::new();
    for path in &args.objects {
        let bytes = if path.extension().is_some_and(|e| e == "c") {
            compile_c(path, args.stack_size)?
        } else {
            bpf_vm::files::read_bounded(path, "", args.memory_limit, "--memory-limit")?
        };
        files.push((path.display().to_string(), bytes));
    }
    let config = VmConfig {
        budget: args.budget,
        frame_size: args.stack_size,
        max_call_depth: args.max_call_depth,
    };
    config
        .check()
        .map_err(|e| format!("--stack-size/--max-call-depth: {e}"))?;
    let options = SessionOptions {
        allow_redefinition: false,
        keep_unfixed_graphs: args.show_graph,
    };
    let mut vm = Vm::new(config);
    vm.mem.set_limit(args.memory_limit);
    if args.threads.quantum == 0 {
        return Err("--quantum must be at least 1 instruction".to_string());
    }
    vm.set_sched_config(bpf_vm::threads::SchedConfig {
        quantum: args.threads.quantum,
        seed: args.threads.sched_seed,
        max_threads: args.threads.max_threads,
    });
    if args.memcheck == "on" {
        vm.mem.enable_memcheck();
    }
    if let Some(note) = bpf_jit::install(&mut vm, args.engine) {
        eprintln!("bpf-jitlink: note: {note}");
    }
    let mut session = Session::new(vm, options);
    for (name, value) in &args.abs {
        session.define_absolute(name, *value);
    }
    // The C runtime: printf, malloc, strlen, ... as host helpers; the
    // program's standard streams are ours.
    let runtime = bpf_runtime::Runtime::new(bpf_runtime::OutputSink::writer(std::io::stdout()))
        .with_stderr(bpf_runtime::OutputSink::writer(std::io::stderr()))
        .with_quarantine(args.quarantine);
    runtime.set_stdin(bpf_runtime::InputSource::reader(std::io::stdin()));
    if let Some(dir) = &args.hosted.fs {
        runtime
            .grant_fs(dir)
            .map_err(|e| format!("--fs {}: {e}", dir.display()))?;
    }
    if args.hosted.deterministic_time {
        runtime.set_time_source(bpf_runtime::TimeSource::DETERMINISTIC);
    }
    for (name, helper) in runtime.helpers() {
        session.register_helper(name, helper);
    }
    // The kernel world: maps, kernel helpers by id, program contexts.
    kernel_cli::enable(&mut session, &args.kernel)?;
    let inputs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    if let Some(mode) = &args.verify {
        return verify_kernel(&mut session, &inputs, mode, out);
    }
    session.add_objects(&inputs).map_err(|e| e.to_string())?;

    if args.show_graph {
        for obj in session.objects() {
            if let Some(before) = &obj.unfixed {
                let _ = writeln!(out, "--- before fixups ---\n{before}");
            }
            let _ = writeln!(out, "--- after fixups ---\n{}", obj.graph);
        }
    }
    if args.show_addrs {
        print_addrs(&session, out);
    }
    if args.show_sizes {
        print_sizes(&session, out);
    }
    if args.show_times {
        for (pass, t) in &session.last_link_times().passes {
            let _ = writeln!(
                out,
                "link pass {pass:<9} {:>10.3} ms",
                t.as_secs_f64() * 1e3
            );
        }
    }
    if args.disasm {
        print_disasm(&session, out);
    }
    if args.kernel.list_progs {
        kernel_cli::list(&session, out);
    }
    if args.noexec || args.kernel.list_progs {
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(prog) = &args.kernel.prog {
        let _ = std::io::stdout()
            .lock()
            .write_all(std::mem::take(out).as_bytes());
        let result = kernel_cli::run(&mut session, prog, &args.kernel, out);
        let _ = runtime.stdout().flush();
        return result.map(|()| ExitCode::SUCCESS);
    }
    // Listings first, then whatever the program prints.
    let _ = std::io::stdout()
        .lock()
        .write_all(std::mem::take(out).as_bytes());
    let start = Instant::now();
    let mut result = session.call(&args.entry, &args.args);
    if result.is_ok() {
        // What C's startup code does when main returns: the atexit functions.
        let functions = runtime.atexit_functions();
        runtime.clear_atexit();
        for f in functions {
            let slot = session.vm().code_index(f);
            let Some(slot) = slot.filter(|s| session.vm().is_entry(*s)) else {
                return Err(format!("atexit: {f:#x} is not a function"));
            };
            if let Err(trap) = session.vm_mut().call(slot, &[]) {
                result = Err(bpf_linker::CallError::Trap(trap));
                break;
            }
        }
    }
    let _ = runtime.stdout().flush();
    let _ = runtime.stderr().flush();
    if args.show_times {
        let _ = writeln!(
            out,
            "run {:<15} {:>10.3} ms",
            args.entry,
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    match result {
        Ok(value) => Ok(ExitCode::from(value as u8)),
        Err(bpf_linker::CallError::Trap(trap)) => {
            if let Some(code) = trap.exit_code() {
                return Ok(ExitCode::from(code as u8));
            }
            Err(format!(
                "{}{}",
                session.trap_report(&trap, describe_frame),
                memcheck_details(&session, &runtime, &trap)
            ))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Compiles a C file through bpf-cc's IR stage (full mode, `-O2 -g`).
#[cfg(feature = "cc")]
fn compile_c(path: &std::path::Path, frame_size: usize) -> Result<Vec<u8>, String> {
    let mut options = bpf_cc::CompileOptions::default();
    options.lower.frame_size = frame_size as u64;
    let (object, warnings) = bpf_cc::compile(path, &options).map_err(|e| e.to_string())?;
    eprint!("{warnings}");
    Ok(object)
}

#[cfg(not(feature = "cc"))]
fn compile_c(path: &std::path::Path, _: usize) -> Result<Vec<u8>, String> {
    Err(format!(
        "{}: this bpf-jitlink was built without C support (feature `cc`); compile it with bpf-cc",
        path.display()
    ))
}

/// `--verify kernel`: links with the kernel-mode verifier as a pass and
/// prints its report on every program.
fn verify_kernel(
    session: &mut Session,
    inputs: &[(&str, &[u8])],
    mode: &str,
    out: &mut String,
) -> Result<ExitCode, String> {
    use bpf_linker::verify::kernel_hook;
    let options = match mode {
        "kernel-unprivileged" => bpf_verifier::KernelOptions::unprivileged(),
        _ => bpf_verifier::KernelOptions::privileged(),
    };
    let reports = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    session.add_verifier(kernel_hook(options, reports.clone()));
    let linked = session.add_objects(inputs);
    let reports = reports.borrow();
    for r in reports.iter() {
        let _ = writeln!(out, "{}: {}", r.object, r.text);
    }
    let refused = reports.iter().filter(|r| !r.verdict.accepted()).count();
    match linked {
        Ok(()) => {
            let _ = match reports.len() {
                1 => writeln!(out, "1 program checked: the kernel would accept it"),
                n => writeln!(
                    out,
                    "{n} programs checked: the kernel would accept all of them"
                ),
            };
            Ok(ExitCode::SUCCESS)
        }
        Err(bpf_linker::LinkError::Verify { object, .. }) if refused > 0 => Err(format!(
            "{object}: the Linux verifier would refuse {refused} of {} programs (see above)",
            reports.len()
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn print_addrs(session: &Session, out: &mut String) {
    let _ = writeln!(
        out,
        "{:<24} {:<8} {:>18} {:>8}  object",
        "symbol", "kind", "address", "size"
    );
    for sym in session.symbols() {
        let _ = writeln!(
            out,
            "{:<24} {:<8} {:>#18x} {:>8}  {}",
            sym.name,
            format!("{:?}", sym.kind).to_lowercase(),
            sym.addr,
            sym.size,
            session.defined_by(sym)
        );
    }
}

fn print_sizes(session: &Session, out: &mut String) {
    let mut totals = std::collections::BTreeMap::new();
    for obj in session.objects() {
        for s in &obj.graph.sections {
            let _ = writeln!(
                out,
                "{:<20} {:<24} {:<10} {:>8} bytes",
                obj.name,
                s.name,
                s.kind.name(),
                s.size()
            );
            *totals.entry(s.kind.name()).or_insert(0u64) += s.size();
        }
    }
    for (kind, total) in totals {
        let _ = writeln!(out, "total {kind:<10} {total:>8} bytes");
    }
}

/// `poke at crash.c:1:55`, or `poke+0x8 in crash.o` without line info.
/// What memcheck adds to a trap's report: the heap block or global the
/// faulting byte is in or after, with the block's allocation and free
/// stacks (also for a helper's fault about a heap pointer, such as a
/// double free).
fn memcheck_details(
    session: &Session,
    runtime: &bpf_runtime::Runtime,
    trap: &bpf_vm::Trap,
) -> String {
    let (at, info) = match bpf_linker::memcheck::poisoned_byte(trap) {
        Some(at) => (at, runtime.heap_block_info(at)),
        None => match (trap.kind.innermost(), runtime.take_blamed_block()) {
            (bpf_vm::TrapKind::Helper { .. }, Some(b)) => (b.start, Some(b)),
            _ => return String::new(),
        },
    };
    let block = info.as_ref().map(|b| bpf_linker::memcheck::HeapBlock {
        start: b.start,
        size: b.size,
        allocated_at: &b.allocated_at,
        freed_at: b.freed_at.as_deref(),
    });
    session.memcheck_details(at, block, describe_frame)
}

fn describe_frame(f: &bpf_linker::BacktraceFrame) -> String {
    f.describe_as(&f.function)
}

fn print_disasm(session: &Session, out: &mut String) {
    let files = std::cell::RefCell::new(std::collections::HashMap::<String, Vec<String>>::new());
    let source = |file: &str, line: u32| -> Option<String> {
        let mut files = files.borrow_mut();
        let lines = files.entry(file.to_string()).or_insert_with(|| {
            std::fs::read_to_string(file)
                .map(|t| t.lines().map(str::to_string).collect())
                .unwrap_or_default()
        });
        lines.get(line.checked_sub(1)? as usize).cloned()
    };
    for obj in session.objects() {
        let _ = writeln!(out, "\n{}:", obj.name);
        let mut functions: Vec<(u64, &str)> = obj
            .graph
            .symbols
            .iter()
            .filter(|s| s.kind == bpf_linker::graph::SymbolKind::Function)
            .filter_map(|s| match s.def {
                bpf_linker::graph::Definition::Defined { section, offset } => {
                    Some((obj.graph.sections[section].addr? + offset, s.name.as_str()))
                }
                _ => None,
            })
            .collect();
        functions.sort();
        for (_, name) in functions {
            if let Some(text) = session.disassemble(name, Some(&source)) {
                let _ = writeln!(out, "\n{text}");
            }
        }
    }
}
