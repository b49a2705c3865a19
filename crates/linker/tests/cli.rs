//! The `bpf-jitlink` command line, run as a user would.

use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/obj/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn jitlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .args(args)
        .output()
        .expect("run bpf-jitlink")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn seed_example_exits_zero() {
    // int func() { return 0; }  ->  bpf-jitlink bpf.o --entry func
    let o = jitlink(&[&fixture("func.nodebug.o"), "--entry", "func"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn exit_status_is_the_entry_result() {
    let o = jitlink(&[&fixture("fib.o")]);
    assert_eq!(o.status.code(), Some(55), "main returns fib(10)");
    let o = jitlink(&[&fixture("fib.o"), "--entry", "fib", "--args", "11"]);
    assert_eq!(o.status.code(), Some(89));
    let o = jitlink(&[
        &fixture("lib_data.o"),
        &fixture("lib_ops.o"),
        &fixture("main_multi.o"),
    ]);
    assert_eq!(o.status.code(), Some(239));
}

#[test]
fn noexec_links_only() {
    let o = jitlink(&[&fixture("crash.o"), "--noexec"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn errors_go_to_stderr_with_nonzero_status() {
    let o = jitlink(&[&fixture("missing.o")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "bpf-jitlink: error: symbols not found: [missing_one, missing_two]"
    );
    let o = jitlink(&[&fixture("crash.o")]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("invalid memory access: read of 4 bytes at 0x10"),
        "{err}"
    );
    assert!(err.contains("poke"), "{err}");
    let o = jitlink(&[&fixture("fib.o"), "--entry", "nope"]);
    assert!(stderr(&o).contains("no function named `nope`"));
    let o = jitlink(&["/nonexistent.o"]);
    assert!(stderr(&o).contains("cannot read /nonexistent.o"));
    let o = jitlink(&[&fixture("fib.o"), "--args", "1", "2", "3", "4", "5", "6"]);
    assert!(stderr(&o).contains("at most five"));
}

#[test]
fn absolute_symbols_and_listings() {
    let o = jitlink(&[
        &fixture("abs.o"),
        "--entry",
        "get_limit",
        "--abs",
        "limit=0x1234",
        "--show-addrs",
        "--show-sizes",
        "--show-times",
    ]);
    assert_eq!(o.status.code(), Some(0x34));
    let out = stdout(&o);
    assert!(out.contains("get_limit"), "{out}");
    assert!(out.contains("0x1234"), "{out}");
    assert!(out.contains("the command line"), "{out}");
    assert!(out.contains("total code"), "{out}");
    assert!(out.contains("link pass fixup"), "{out}");
}

#[test]
fn show_graph_prints_before_and_after_fixups() {
    let o = jitlink(&[
        &fixture("relocs.o"),
        &fixture("ext.o"),
        "--noexec",
        "--show-graph",
    ]);
    let out = stdout(&o);
    assert!(out.contains("--- before fixups ---"), "{out}");
    assert!(out.contains("--- after fixups ---"));
    assert!(out.contains("edge +0x"));
    for kind in [
        "R_BPF_64_64",
        "R_BPF_64_ABS64",
        "R_BPF_64_32",
        "R_BPF_64_ABS32",
        "R_BPF_64_NODYLD32",
    ] {
        assert!(out.contains(kind), "{kind} not shown");
    }
    assert!(
        out.contains("unallocated"),
        "before fixups nothing has an address"
    );
}

#[test]
fn faults_print_a_source_backtrace() {
    let o = Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "fixtures/obj/deep1.o",
            "fixtures/obj/deep2.o",
            "fixtures/obj/deep3.o",
            "--entry",
            "top",
            "--args",
            "8",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "bpf-jitlink: error: invalid memory access: read of 4 bytes at 0x8: NULL or unmapped low address\n\
         \x20 #0 leaf at fixtures/src/deep1.c:2:12\n\
         \x20 #1 mid at fixtures/src/deep2.c:3:13\n\
         \x20 #2 helper at fixtures/src/deep3.c:2:43 (inlined)\n\
         \x20 #3 top at fixtures/src/deep3.c:4:12\n"
    );
}

#[test]
fn disasm_interleaves_source() {
    let o = Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "fixtures/obj/deep2.o",
            "fixtures/obj/deep1.o",
            "--disasm",
            "--noexec",
        ])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(out.contains("<mid>:\n;     int r = leaf(p);\n"), "{out}");
    assert!(out.contains("<leaf>:\n;     return *p + 1;\n"), "{out}");
}

#[test]
fn every_engine_gives_the_same_results_and_backtraces() {
    let run = |engine: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            // (before `--args`, which takes every value after it)
            .args(["--engine", engine])
            .args(args)
            .output()
            .unwrap()
    };
    let deep = [
        "fixtures/obj/deep1.o",
        "fixtures/obj/deep2.o",
        "fixtures/obj/deep3.o",
        "--entry",
        "top",
        "--args",
        "8",
    ];
    let reference = run("interp", &deep);
    let fib = run("interp", &["fixtures/obj/fib.o"]);
    assert_eq!(fib.status.code(), Some(55));
    for engine in ["jit", "auto"] {
        let o = run(engine, &deep);
        assert_eq!(o.status.code(), Some(1), "{engine}");
        assert_eq!(stderr(&o), stderr(&reference), "{engine}");
        let o = run(engine, &["fixtures/obj/fib.o"]);
        assert_eq!(o.status.code(), Some(55), "{engine}");
    }
    let o = run("turbo", &["fixtures/obj/fib.o"]);
    assert!(
        stderr(&o).contains("unknown engine `turbo`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn devices_and_oversized_objects_are_refused_before_reading() {
    let o = jitlink(&["/dev/zero"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    let o = jitlink(&[&fixture("fib.o"), "--memory-limit", "64"]);
    assert!(stderr(&o).contains("--memory-limit"), "{}", stderr(&o));
    let o = jitlink(&[&fixture("fib.o"), "--max-call-depth", "0"]);
    assert!(stderr(&o).contains("--max-call-depth"), "{}", stderr(&o));
}

#[test]
fn verify_kernel_reports_each_program_and_fails_on_refusal() {
    let kernel = |name: &str| {
        format!(
            "{}/fixtures/verify/obj/{name}.o",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let o = jitlink(&["--verify", "kernel", &kernel("xdp_proto_count")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("program `count_protocols` (section xdp, type xdp"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("the kernel would accept it"));
    let o = jitlink(&["--verify", "kernel", &kernel("xdp_no_bounds_check")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("the kernel would REFUSE it"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("kernel: invalid access to packet"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("the Linux verifier would refuse 1 of 1 programs"),
        "{}",
        stderr(&o)
    );
    // The unprivileged rules are stricter.
    let o = jitlink(&[
        "--verify",
        "kernel-unprivileged",
        &kernel("socket_pointer_leak"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // Objects with no program section say so.
    let o = jitlink(&["--verify", "kernel", &fixture("fib.o")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no program sections"), "{}", stderr(&o));
}
