//! Multi-threaded C programs (tests/threads/*.c) through bpf-jitlink: the
//! deterministic scheduler, <pthread.h>, <threads.h>, <stdatomic.h> and
//! thread-local storage.
#![cfg(feature = "cc")]

use std::process::{Command, Output};

fn clang() {
    let clang = std::env::var("BPF_REPL_CLANG").unwrap_or_else(|_| "clang-19".into());
    let ok = Command::new(&clang)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "this test needs {clang} (run scripts/setup.sh)");
}

fn run(program: &str, args: &[&str]) -> Output {
    clang();
    let path = format!("{}/tests/threads/{program}.c", env!("CARGO_MANIFEST_DIR"));
    Command::new(env!("CARGO_BIN_EXE_bpf-jitlink"))
        .arg(&path)
        .args(args)
        .output()
        .expect("run bpf-jitlink")
}

/// Runs a self-checking program (exit status 0: its checks passed).
fn passes(program: &str) -> String {
    let o = run(program, &[]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{program}: {out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

#[test]
fn producer_and_consumer_hand_over_every_item_in_order() {
    assert_eq!(passes("prodcons"), "sum=20100 in_order=1\n");
}

#[test]
fn a_parallel_sum_under_a_mutex_is_exact() {
    assert_eq!(passes("parallel_sum"), "total=191149 expect=191149\n");
}

#[test]
fn eight_threads_on_an_atomic_counter_lose_nothing() {
    assert_eq!(
        passes("atomic_counter"),
        "counter=40000 sync=80000 ids=28\n"
    );
}

#[test]
fn thread_local_counters_are_per_thread() {
    assert_eq!(passes("tls_counters"), "main=5 zeroed=0 distinct=1 ok=1\n");
}

#[test]
fn once_rwlock_barrier_keys_and_mutex_kinds_behave_as_posix_says() {
    assert_eq!(passes("misc"), "fails=0\n");
}

#[test]
fn an_unsynchronised_counter_depends_on_the_seed_and_only_on_it() {
    let total = |seed: &str| {
        let o = run("race", &["--sched-seed", seed, "--quantum", "500"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let seeds: Vec<u64> = ["1", "2", "3"].iter().map(|s| total(s)).collect();
    assert!(
        seeds.iter().all(|&t| t < 80000),
        "no update lost: {seeds:?}"
    );
    assert!(
        seeds[0] != seeds[1] || seeds[1] != seeds[2],
        "three seeds, one interleaving: {seeds:?}"
    );
    assert_eq!(total("2"), seeds[1], "the same seed replays the same run");
}

#[test]
fn a_deadlock_lists_both_threads_with_their_backtraces() {
    let o = run("deadlock", &[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("deadlock: every thread is blocked"), "{err}");
    let main = err.find("thread 1 waits for mutex").expect(&err);
    let other = err.find("thread 2 waits for mutex").expect(&err);
    assert!(
        err.contains("(held by thread 2)") && err.contains("(held by thread 1)"),
        "{err}"
    );
    assert!(
        err[main..].contains("#0 main at ") && err[main..].contains("deadlock.c:23:"),
        "{err}"
    );
    assert!(
        err[other..].contains("#0 take_second_then_first at ")
            && err[other..].contains("deadlock.c:12:"),
        "{err}"
    );
}

#[test]
fn a_fault_names_its_thread_and_the_budget_stops_every_thread() {
    let o = run("fault", &["--entry", "run", "--args", "0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("error: in thread 2: invalid memory access") && err.contains("#0 bad at "),
        "{err}"
    );
    let o = run(
        "fault",
        &["--entry", "run", "--budget", "100000", "--args", "1"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("instruction budget of 100000 exhausted") && err.contains("spin at "),
        "{err}"
    );
}
