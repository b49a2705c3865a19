//! `bpf-cc`: compile C to BPF objects for bpf-jitlink through bpf-repl's IR stage.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", bpf_cc::driver::USAGE);
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version") {
        println!(
            "bpf-cc {} (LLVM 19, bpf-repl ABI {})",
            env!("CARGO_PKG_VERSION"),
            bpf_cc::ABI_VERSION
        );
        return ExitCode::SUCCESS;
    }
    match bpf_cc::driver::parse_args(&args) {
        Ok(inv) => ExitCode::from(bpf_cc::driver::run(&inv) as u8),
        Err(e) => {
            eprintln!("bpf-cc: error: {e}");
            ExitCode::from(1)
        }
    }
}
