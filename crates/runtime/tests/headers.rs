//! The headers compile for BPF with clang-19 and the runtime's flags, and
//! every function they declare becomes a call the runtime can answer.
//! These tests need clang-19 and fail (never skip) without it.

mod common;

use bpf_runtime::AbiMode;
use common::elf::fixture;
use object::{Object, ObjectSection, ObjectSymbol, RelocationTarget};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const CLANG: &str = "clang-19";
const INSTALL_HINT: &str =
    "clang-19 not found: install it with `apt-get update && apt-get install -y clang-19 llvm-19`";

/// Every header issues 6, 11 and 14 promise.
const HEADERS: [&str; 29] = [
    "stdio.h",
    "stdlib.h",
    "string.h",
    "stdint.h",
    "stdbool.h",
    "stddef.h",
    "limits.h",
    "assert.h",
    "ctype.h",
    "inttypes.h",
    "math.h",
    "float.h",
    "fenv.h",
    "stdarg.h",
    "errno.h",
    "time.h",
    "sys/time.h",
    "sys/types.h",
    "setjmp.h",
    "signal.h",
    "unistd.h",
    "memory.h",
    "strings.h",
    "wchar.h",
    "locale.h",
    "stdalign.h",
    "stdnoreturn.h",
    "iso646.h",
    "stdatomic.h",
];

/// A directory of its own for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("headers-{test}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `src` for BPF as the REPL does (strict mode); Err(stderr)
/// when clang refuses.
fn compile(src: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    compile_in(AbiMode::Strict, src, out, extra)
}

/// Compiles `src` for BPF with the runtime's arguments for `mode`.
fn compile_in(mode: AbiMode, src: &Path, out: &Path, extra: &[&str]) -> Result<(), String> {
    let result = Command::new(CLANG)
        .args(["-target", "bpf", "-mcpu=v4", "-O2", "-g", "-c"])
        .args(bpf_runtime::clang_args_for(mode))
        .args(extra)
        .arg(src)
        .arg("-o")
        .arg(out)
        .output();
    let output = match result {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
        Err(e) => panic!("running {CLANG}: {e}"),
    };
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn compile_text(test: &str, text: &str, extra: &[&str]) -> Result<Vec<u8>, String> {
    let dir = scratch(test);
    let (src, obj) = (dir.join("input.c"), dir.join("input.o"));
    std::fs::write(&src, text).unwrap();
    compile(&src, &obj, extra)?;
    Ok(std::fs::read(obj).unwrap())
}

fn undefined_symbols(obj: &[u8]) -> BTreeSet<String> {
    let file = object::File::parse(obj).unwrap();
    file.symbols()
        .filter(|s| s.is_undefined() && !s.name().unwrap().is_empty())
        .map(|s| s.name().unwrap().to_string())
        .collect()
}

#[test]
fn every_header_compiles_on_its_own() {
    for h in HEADERS {
        // Included twice (guards work); the three that C says define NULL
        // and size_t must do so on their own.
        let uses = match h {
            "stdio.h" | "stdlib.h" | "string.h" => "void *p = NULL; size_t n = sizeof p;",
            _ => "int placeholder;",
        };
        let text = format!("#include <{h}>\n#include <{h}>\n{uses}\n");
        for (mode, name) in [(AbiMode::Strict, "strict"), (AbiMode::Full, "full")] {
            let dir = scratch(&format!("{}_{name}", h.replace(['.', '/'], "_")));
            let (src, obj) = (dir.join("input.c"), dir.join("input.o"));
            std::fs::write(&src, &text).unwrap();
            compile_in(mode, &src, &obj, &["-Wall", "-Wextra", "-Werror"])
                .unwrap_or_else(|e| panic!("<{h}> does not compile for BPF in {name} mode:\n{e}"));
        }
    }
}

/// Helpers only the IR stage calls (docs/abi.md): named `__bpf_*`, apart
/// from the header-named `__bpf_assert_fail`, `__bpf_strict_*`,
/// `__bpf_sched_*` and `__bpf_gnu_*`.
fn is_abi_helper(name: &str) -> bool {
    name.starts_with("__bpf_")
        && name != "__bpf_assert_fail"
        && !name.starts_with("__bpf_strict_")
        && !name.starts_with("__bpf_sched_")
        && !name.starts_with("__bpf_gnu_")
}

/// The helpers each call of `obj` reaches; every call carries
/// R_BPF_64_32 (type 10) against the plain name.
fn called_helpers(obj: &[u8]) -> BTreeSet<String> {
    let file = object::File::parse(obj).unwrap();
    let text = file.section_by_name(".text").unwrap();
    let mut called = BTreeSet::new();
    for (_, rel) in text.relocations() {
        if let (RelocationTarget::Symbol(i), object::RelocationFlags::Elf { r_type }) =
            (rel.target(), rel.flags())
        {
            let sym = file.symbol_by_index(i).unwrap();
            if sym.is_undefined() {
                assert_eq!(r_type.0, 10, "{}", sym.name().unwrap());
                called.insert(sym.name().unwrap().to_string());
            }
        }
    }
    called
}

#[test]
fn all_functions_become_calls_to_runtime_helpers() {
    let dir = scratch("all");
    let mut reached = BTreeSet::new();
    for (mode, name) in [(AbiMode::Strict, "strict"), (AbiMode::Full, "full")] {
        let obj_path = dir.join(format!("all_headers_{name}.o"));
        compile_in(
            mode,
            &fixture("all_headers.c"),
            &obj_path,
            &["-Wall", "-Wextra", "-Werror"],
        )
        .unwrap_or_else(|e| panic!("all_headers.c does not compile in {name} mode:\n{e}"));
        let obj = std::fs::read(obj_path).unwrap();
        let called = called_helpers(&obj);
        assert_eq!(undefined_symbols(&obj), called, "{name} mode");
        // Strict mode reaches the register variants of the variadic
        // functions, full mode the C names.
        let strict_names = called.iter().any(|n| n.starts_with("__bpf_strict_"));
        assert_eq!(strict_names, mode == AbiMode::Strict, "{name} mode");
        assert_eq!(
            called.contains("printf"),
            mode == AbiMode::Full,
            "{name} mode"
        );
        reached.extend(called);
    }
    // _GNU_SOURCE's strerror_r.
    let gnu = "#define _GNU_SOURCE\n#include <string.h>\nchar *f(char *b) { return strerror_r(1, b, 8); }\n";
    reached.extend(called_helpers(
        &compile_text("gnu", gnu, &["-Wall", "-Werror"]).unwrap(),
    ));
    // The fixture calls every declared function, and nothing else is needed.
    let provided: BTreeSet<String> = bpf_runtime::helper_names()
        .filter(|n| !is_abi_helper(n))
        .map(String::from)
        .collect();
    assert_eq!(reached, provided);
}

#[test]
fn ndebug_removes_assert_and_its_helper() {
    let src = "#define NDEBUG\n#include <assert.h>\nint f(int x) { assert(x > 0); return x; }\n";
    let obj = compile_text("ndebug", src, &["-Werror"]).unwrap();
    assert!(undefined_symbols(&obj).is_empty());
    let src = "#include <assert.h>\nint f(int x) { assert(x > 0); return x; }\n";
    let obj = compile_text("assert", src, &["-Werror"]).unwrap();
    assert_eq!(
        undefined_symbols(&obj),
        BTreeSet::from(["__bpf_assert_fail".to_string()])
    );
}

#[test]
fn headers_we_do_not_ship_are_not_found_rather_than_glibc() {
    // Without the host's /usr/include, a missing header is a clear error,
    // not glibc's headers failing to compile for BPF.
    let err = compile_text("missing", "#include <sys/socket.h>\n", &[]).unwrap_err();
    assert!(err.contains("'sys/socket.h' file not found"), "{err}");
}

#[test]
fn printf_format_checking_is_on() {
    let src = "#include <stdio.h>\nvoid f(long x) { printf(\"%d\\n\", x); }\n";
    let err = compile_text("format", src, &["-Werror"]).unwrap_err();
    assert!(err.contains("-Wformat"), "{err}");
}

#[test]
fn committed_fixtures_match_the_headers() {
    for name in ["ctype", "calls", "bench", "sort", "fullmode"] {
        let dir = scratch(name);
        let fresh = dir.join(format!("{name}.o"));
        let mode = if name == "fullmode" {
            AbiMode::Full
        } else {
            AbiMode::Strict
        };
        compile_in(mode, &fixture(&format!("{name}.c")), &fresh, &[]).unwrap();
        let text = |path: &Path| {
            let data = std::fs::read(path).unwrap();
            let file = object::File::parse(&*data).unwrap();
            let text = file.section_by_name(".text").unwrap();
            text.data().unwrap().to_vec()
        };
        assert!(
            text(&fresh) == text(&fixture(&format!("{name}.o"))),
            "tests/fixtures/{name}.o is stale: run tests/fixtures/build.sh"
        );
    }
}
