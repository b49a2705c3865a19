//! `bpf-repl`: an interactive C REPL on a user-space BPF VM.

use bpf_repl::cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
