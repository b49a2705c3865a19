//! The `bpf-cc` command line: clang's usual compile flags, checked against
//! an allowlist (nothing that loads code into clang or writes other files),
//! plus bpf-cc's own `--strict-bpf`, `-fcheck-ub` and `--stack-size`.

use crate::clang::{compile, CompileOptions, Emit};
use crate::{LowerOptions, Mode, OptLevel, UbChecks};
use std::ffi::OsString;
use std::path::PathBuf;

/// What one `bpf-cc` command asks for.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub inputs: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub options: CompileOptions,
    /// `-c` was given.
    pub compile_only: bool,
}

pub const USAGE: &str = "\
usage: bpf-cc -c FILE.c [-o FILE.o] [clang flags] [--strict-bpf] [-fcheck-ub]
       bpf-cc -S [-emit-llvm] FILE.c     (BPF assembly, or the lowered LLVM IR)

Compiles C for bpf-repl's VM: clang -target bpf, then bpf-repl's IR stage,
which lowers what plain BPF cannot run (floating point, more than five
arguments, variadic functions, structs by value, VLAs, 128-bit division...)
to the ABI of docs/abi.md. Link and run the objects with bpf-jitlink.

flags passed to clang: -I DIR, -isystem DIR, -D NAME[=VALUE], -U NAME,
  -include FILE, -O0/-O1/-O2/-O3/-Os/-Oz, -g/-g0, -std=..., -W..., -w,
  -pedantic, -ansi, -x c, and -f flags that change the language
  (-fwrapv, -fno-strict-aliasing, -fsigned-char, -fno-common, -fno-builtin...)
bpf-cc flags:
  --strict-bpf      only what plain BPF can run; everything else is refused by name
  -fcheck-ub        compile in undefined-behaviour checks (faults at the line)
  --stack-size N    stack bytes per call frame (match bpf-jitlink --stack-size; default 512)
  -o FILE           output object (default: the input's name with .o)
environment:
  BPF_REPL_CLANG                 clang to run (default clang-19)
  BPF_CC_CLANG_CRASH_REPORT=1    show clang's report when it crashes";

/// `-f` flags clang may take from users: they change the language or the
/// diagnostics, never load code or write files.
const F_FLAGS: &[&str] = &[
    "-fwrapv",
    "-fno-wrapv",
    "-fstrict-aliasing",
    "-fno-strict-aliasing",
    "-fsigned-char",
    "-funsigned-char",
    "-fcommon",
    "-fno-common",
    "-fbuiltin",
    "-fno-builtin",
    "-ffreestanding",
    "-fno-inline",
    "-finline-functions",
    "-fno-inline-functions",
    "-fshort-enums",
    "-fno-short-enums",
    "-fms-extensions",
    "-fgnu89-inline",
    "-fno-gnu89-inline",
    "-fcolor-diagnostics",
    "-fno-color-diagnostics",
    "-fno-caret-diagnostics",
    "-fno-show-column",
    "-fno-math-errno",
    "-fmath-errno",
    "-fno-omit-frame-pointer",
    "-fomit-frame-pointer",
    "-fPIC",
    "-fpic",
    "-fno-pic",
    "-fno-PIC",
    "-fsemantic-interposition",
    "-fno-semantic-interposition",
    "-fno-delete-null-pointer-checks",
    "-fstrict-overflow",
    "-fno-strict-overflow",
    "-fno-asynchronous-unwind-tables",
];

/// Prefixes of `-f` flags allowed with any value.
const F_PREFIXES: &[&str] = &[
    "-fno-builtin-",
    "-fdiagnostics-",
    "-fmessage-length=",
    "-fmacro-backtrace-limit=",
    "-ftemplate-backtrace-limit=",
    "-ferror-limit=",
    "-fextended-identifiers",
    "-fdollars-in-identifiers",
    "-fno-dollars-in-identifiers",
];

fn refuse(flag: &str) -> String {
    format!(
        "`{flag}` is not allowed: bpf-cc passes clang only flags that cannot load code or write files (see bpf-cc --help)"
    )
}

/// Parses `bpf-cc`'s arguments (without the program name).
pub fn parse_args(args: &[String]) -> Result<Invocation, String> {
    let mut inv = Invocation {
        options: CompileOptions {
            lower: LowerOptions {
                debug_info: false,
                ..LowerOptions::default()
            },
            clang_args: Vec::new(),
            emit: Emit::Object,
        },
        ..Invocation::default()
    };
    let (mut asm, mut llvm) = (false, false);
    let mut it = args.iter();
    let value = |it: &mut std::slice::Iter<String>, flag: &str| -> Result<String, String> {
        it.next()
            .cloned()
            .ok_or_else(|| format!("`{flag}` needs a value"))
    };
    let clang = &mut inv.options.clang_args;
    while let Some(a) = it.next() {
        let a = a.as_str();
        match a {
            "-c" => inv.compile_only = true,
            "-S" => asm = true,
            "-emit-llvm" => llvm = true,
            "-o" => inv.output = Some(PathBuf::from(value(&mut it, a)?)),
            "--strict-bpf" => inv.options.lower.mode = Mode::Strict,
            "-fcheck-ub" => inv.options.lower.ub_checks = UbChecks::On,
            "-fno-check-ub" => inv.options.lower.ub_checks = UbChecks::Off,
            "--stack-size" => {
                let v = value(&mut it, a)?;
                inv.options.lower.frame_size = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0 && n % 8 == 0)
                    .ok_or_else(|| format!("--stack-size {v}: not a positive multiple of 8"))?;
            }
            "-g" | "-ggdb" | "-g2" | "-g3" | "-gdwarf" | "-gdwarf-4" | "-gdwarf-5" => {
                inv.options.lower.debug_info = true
            }
            "-g0" => inv.options.lower.debug_info = false,
            "-I" | "-isystem" | "-idirafter" | "-iquote" | "-D" | "-U" | "-include" => {
                clang.push(a.into());
                clang.push(value(&mut it, a)?.into());
            }
            "-x" => {
                let v = value(&mut it, a)?;
                if v != "c" {
                    return Err(format!("`-x {v}`: bpf-cc compiles C only"));
                }
                clang.push(a.into());
                clang.push(v.into());
            }
            "-w" | "-pedantic" | "-pedantic-errors" | "-ansi" | "-Werror" => clang.push(a.into()),
            _ if a.starts_with("-O") => {
                inv.options.lower.opt = OptLevel::parse(&a[2..])
                    .ok_or_else(|| format!("`{a}`: unknown optimisation level"))?;
            }
            _ if ["-I", "-D", "-U"].iter().any(|p| a.starts_with(p)) => clang.push(a.into()),
            _ if a.starts_with("-std=") => clang.push(a.into()),
            _ if a.starts_with("-W") => {
                // -Wl,/-Wa,/-Wp, pass options to other tools.
                if a.starts_with("-Wl,") || a.starts_with("-Wa,") || a.starts_with("-Wp,") {
                    return Err(refuse(a));
                }
                clang.push(a.into());
            }
            _ if a.starts_with("-f") => {
                if F_FLAGS.contains(&a) || F_PREFIXES.iter().any(|p| a.starts_with(p)) {
                    clang.push(a.into());
                } else {
                    return Err(refuse(a));
                }
            }
            _ if a.starts_with('-') && a != "-" => return Err(refuse(a)),
            _ => inv.inputs.push(PathBuf::from(a)),
        }
    }
    inv.options.emit = match (asm, llvm) {
        (true, true) => Emit::Ir,
        (true, false) => Emit::Assembly,
        (false, true) => {
            return Err("-emit-llvm needs -S (bpf-cc writes the lowered IR as text)".into())
        }
        _ => Emit::Object,
    };
    inv.compile_only |= asm;
    if inv.inputs.is_empty() {
        return Err("no input files".to_string());
    }
    if !inv.compile_only {
        return Err(
            "bpf-cc only compiles (-c); link and run the objects with bpf-jitlink".to_string(),
        );
    }
    if inv.output.is_some() && inv.inputs.len() > 1 {
        return Err("-o with more than one input file".to_string());
    }
    Ok(inv)
}

/// The object path for `input`: `-o`, else `name.o` in the current directory.
pub fn output_path(inv: &Invocation, input: &std::path::Path) -> PathBuf {
    inv.output.clone().unwrap_or_else(|| {
        let stem = input.file_stem().unwrap_or(input.as_os_str());
        let mut name = OsString::from(stem);
        name.push(match inv.options.emit {
            Emit::Object => ".o",
            Emit::Assembly => ".s",
            Emit::Ir => ".ll",
        });
        PathBuf::from(name)
    })
}

/// Compiles every input; prints clang's warnings and every error to
/// stderr. Returns the process exit status.
pub fn run(inv: &Invocation) -> i32 {
    let mut status = 0;
    for input in &inv.inputs {
        match compile(input, &inv.options) {
            Ok((object, warnings)) => {
                eprint!("{warnings}");
                let out = output_path(inv, input);
                let written = if out.as_os_str() == "-" {
                    std::io::Write::write_all(&mut std::io::stdout(), &object)
                } else {
                    std::fs::write(&out, object)
                };
                if let Err(e) = written {
                    eprintln!("bpf-cc: error: cannot write {}: {e}", out.display());
                    status = 1;
                }
            }
            Err(e) => {
                eprintln!("{e}");
                status = 1;
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn clang_flags_pass_and_ours_are_taken() {
        let inv = parse_args(&args(
            "-c x.c -o y.o -I inc -Iinc2 -DX=1 -U Y -O3 -g -std=c11 -Wall -fwrapv --strict-bpf -fcheck-ub --stack-size 1024",
        ))
        .unwrap();
        assert_eq!(inv.inputs, vec![PathBuf::from("x.c")]);
        assert_eq!(inv.output, Some(PathBuf::from("y.o")));
        assert_eq!(inv.options.lower.mode, Mode::Strict);
        assert_eq!(inv.options.lower.ub_checks, UbChecks::On);
        assert_eq!(inv.options.lower.opt, OptLevel::O3);
        assert_eq!(inv.options.lower.frame_size, 1024);
        assert!(inv.options.lower.debug_info);
        let clang: Vec<String> = inv
            .options
            .clang_args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            clang,
            args("-I inc -Iinc2 -DX=1 -U Y -std=c11 -Wall -fwrapv")
        );
    }

    #[test]
    fn flags_that_load_code_or_write_files_are_refused() {
        for bad in [
            "-fplugin=x.so",
            "-fpass-plugin=x.so",
            "-Xclang",
            "-mllvm",
            "-Wl,-rpath",
            "-MD",
            "-fprofile-generate",
            "-ftime-trace",
            "-save-temps",
            "-fsave-optimization-record",
            "--target=x86_64",
        ] {
            let e = parse_args(&args(&format!("-c x.c {bad}"))).unwrap_err();
            assert!(e.contains("not allowed"), "{bad}: {e}");
        }
        assert!(parse_args(&args("x.c"))
            .unwrap_err()
            .contains("only compiles"));
        assert!(parse_args(&args("-c")).unwrap_err().contains("no input"));
        assert!(parse_args(&args("-c a.c b.c -o x.o")).is_err());
        assert!(parse_args(&args("-c a.c --stack-size 100")).is_err());
        assert!(parse_args(&args("-c a.c -x c++")).is_err());
    }

    #[test]
    fn default_output_is_the_input_name_with_o() {
        let inv = parse_args(&args("-c dir/prog.c")).unwrap();
        assert_eq!(output_path(&inv, &inv.inputs[0]), PathBuf::from("prog.o"));
    }
}
