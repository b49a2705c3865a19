//! The `bpf-cc` command as a user runs it.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn bpf_cc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpf-cc"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("bpf-cc runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn compiles_an_object_that_links_and_runs() {
    common::require_clang();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("six.c"),
        "long six(long a, long b, long c, long d, long e, long f) { return a + b + c + d + e * f; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main.c"),
        "long six(long, long, long, long, long, long);\nint main(void) { return six(1, 2, 3, 4, 5, 6); }\n",
    )
    .unwrap();
    for (src, obj) in [("six.c", "six.o"), ("main.c", "main.o")] {
        let o = bpf_cc(dir.path(), &["-c", src, "-o", obj, "-O2", "-g", "-Wall"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let read = |n: &str| (n.to_string(), std::fs::read(dir.path().join(n)).unwrap());
    let outcome = common::run_objects(&[read("six.o"), read("main.o")]).unwrap();
    assert_eq!(outcome.end, Ok(40));
}

#[test]
fn strict_mode_names_each_refused_construct_at_its_line() {
    common::require_clang();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.c"),
        "double half(double x) {\n  return x / 2;\n}\nlong six(long a, long b, long c, long d, long e, long f) {\n  return f;\n}\n",
    )
    .unwrap();
    let o = bpf_cc(dir.path(), &["-c", "s.c", "--strict-bpf"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("s.c:2:")
            && e.contains("floating-point multiplication is not allowed under --strict-bpf"),
        "{e}"
    );
    assert!(e.contains("6 parameter registers"), "{e}");
    assert!(!dir.path().join("s.o").exists());
    // The same file compiles in full mode.
    let o = bpf_cc(dir.path(), &["-c", "s.c"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("s.o").exists());
}

#[test]
fn foreign_inline_assembly_is_one_error_at_its_line() {
    common::require_clang();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("asm.c"),
        "int main(void) {\n  int x;\n  __asm__(\"movl $1, %0\" : \"=r\"(x));\n  return x;\n}\n",
    )
    .unwrap();
    let o = bpf_cc(dir.path(), &["-c", "asm.c"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("asm.c:3:"), "{e}");
    assert!(e.matches("error").count() <= 2, "{e}");
    assert!(!e.contains("Stack dump") && !e.contains("PLEASE"), "{e}");
}

#[test]
fn a_clang_crash_is_one_line_and_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("crashing-clang");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'PLEASE submit a bug report to https://github.com/llvm/llvm-project/issues/' >&2\necho 'Stack dump:' >&2\nkill -SEGV $$\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(dir.path().join("x.c"), "int main(void) { return 0; }\n").unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    let o = Command::new(env!("CARGO_BIN_EXE_bpf-cc"))
        .current_dir(dir.path())
        .env("BPF_REPL_CLANG", &fake)
        .args(["-c", "x.c"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("clang crashed while compiling x.c")
            && e.contains("BPF_CC_CLANG_CRASH_REPORT=1"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), before.len());
    // Asked for, the report is shown.
    let o = Command::new(env!("CARGO_BIN_EXE_bpf-cc"))
        .current_dir(dir.path())
        .env("BPF_REPL_CLANG", &fake)
        .env("BPF_CC_CLANG_CRASH_REPORT", "1")
        .args(["-c", "x.c"])
        .output()
        .unwrap();
    assert!(stderr(&o).contains("Stack dump:"), "{}", stderr(&o));
}

#[test]
fn flags_that_load_code_are_refused_and_help_lists_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let o = bpf_cc(dir.path(), &["-c", "x.c", "-fplugin=evil.so"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("`-fplugin=evil.so` is not allowed"),
        "{}",
        stderr(&o)
    );
    let o = bpf_cc(dir.path(), &["--help"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("--strict-bpf"));
}

#[test]
fn emits_assembly_and_lowered_ir() {
    common::require_clang();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.c"),
        "double f(double x) { return x * 3; }\n",
    )
    .unwrap();
    let o = bpf_cc(dir.path(), &["-S", "f.c"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let asm = std::fs::read_to_string(dir.path().join("f.s")).unwrap();
    assert!(asm.contains("call __bpf_f64_mul"), "{asm}");
    let o = bpf_cc(dir.path(), &["-S", "-emit-llvm", "f.c", "-o", "-"]);
    let ir = String::from_utf8_lossy(&o.stdout);
    assert!(ir.contains("call i64 @__bpf_f64_mul"), "{ir}");
}
