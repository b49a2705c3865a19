//! `bpf-jitlink` with C sources: compiled through bpf-cc's IR stage, and
//! refused when a variadic function would be used under two ABIs.
#![cfg(feature = "cc")]

use std::process::{Command, Output};

fn jitlink(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bpf-jitlink")
}

fn clang() -> String {
    let clang = std::env::var("BPF_REPL_CLANG").unwrap_or_else(|_| "clang-19".into());
    let ok = Command::new(&clang)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "this test needs {clang} (run scripts/setup.sh)");
    clang
}

#[test]
fn c_sources_are_compiled_and_run() {
    clang();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.c"),
        "#include <stdarg.h>\nstruct s { long v[8]; };\n\
         long sum(int n, ...) { va_list ap; va_start(ap, n); long t = 0; while (n--) t += va_arg(ap, long); va_end(ap); return t; }\n\
         struct s mk(long x) { struct s r; for (int i = 0; i < 8; i++) r.v[i] = x + i; return r; }\n\
         int main(void) { struct s a = mk(1); return sum(7, a.v[0], a.v[1], a.v[2], a.v[3], a.v[4], a.v[5], a.v[6]); }\n",
    )
    .unwrap();
    let o = jitlink(dir.path(), &["p.c"]);
    assert_eq!(
        o.status.code(),
        Some(28),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn mixing_abis_for_a_variadic_function_is_refused() {
    let clang = clang();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("full.c"),
        "#include <stdarg.h>\nint sum(int n, ...) { va_list ap; va_start(ap, n); int t = 0; while (n--) t += va_arg(ap, int); va_end(ap); return t; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("plain.c"),
        "int sum(int, ...);\nint main(void) { return sum(2, 1, 2); }\n",
    )
    .unwrap();
    let cflags = jitlink(dir.path(), &["--print-cflags"]);
    let cflags = String::from_utf8_lossy(&cflags.stdout).into_owned();
    let cc = Command::new(clang)
        .current_dir(dir.path())
        .args(cflags.split_whitespace())
        .args(["-c", "plain.c", "-o", "plain.o"])
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let o = jitlink(dir.path(), &["full.c", "plain.o"]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("variadic function sum is used with two calling conventions")
            && e.contains("full.c")
            && e.contains("plain.o"),
        "{e}"
    );
}
