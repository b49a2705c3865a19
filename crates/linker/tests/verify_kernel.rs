//! Kernel mode through the linker on clang-built objects
//! (`fixtures/verify`, rebuilt by `fixtures/verify/rebuild.sh`): each
//! program's verdict, the rule that refuses it, and the source line the
//! report points at.

use bpf_kernel::{Kernel, KernelConfig};
use bpf_linker::verify::{kernel_hook, KernelReport};
use bpf_linker::{Session, SessionOptions};
use bpf_runtime::OutputSink;
use bpf_verifier::{KernelOptions, Rule};
use bpf_vm::{Vm, VmConfig};
use std::cell::RefCell;
use std::rc::Rc;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/fixtures/verify/obj/{name}.o",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (rebuild with fixtures/verify/rebuild.sh)"))
}

fn check(name: &str, options: KernelOptions) -> (bool, Vec<KernelReport>) {
    let reports = Rc::new(RefCell::new(Vec::new()));
    // Frames as large as the biggest fixture's, so that the kernel's
    // 512-byte rule is the verifier's to report, not the VM's frame size.
    let vm = Vm::new(VmConfig {
        frame_size: 2048,
        ..VmConfig::default()
    });
    let mut session = Session::new(vm, SessionOptions::default());
    session.enable_kernel(Kernel::new(KernelConfig::default(), OutputSink::buffer()));
    session.add_verifier(kernel_hook(options, reports.clone()));
    let linked = session.add_object(name, &fixture(name)).is_ok();
    let r = reports.borrow().clone();
    assert_eq!(r.len(), 1, "{name}: one program expected");
    (linked, r)
}

#[track_caller]
fn accepted(name: &str) {
    let (linked, r) = check(name, KernelOptions::privileged());
    assert!(linked && r[0].verdict.accepted(), "{}", r[0].text);
}

/// Refused for `rule`; the first error points at source line `line`.
#[track_caller]
fn refused(name: &str, options: KernelOptions, rule: Rule, line: &str) -> String {
    let (linked, r) = check(name, options);
    let v = &r[0].verdict;
    assert!(!linked && !v.accepted(), "{}", r[0].text);
    assert!(
        v.diagnostics.iter().any(|d| d.rule == rule && d.is_error()),
        "{}",
        r[0].text
    );
    assert!(
        r[0].text.contains(line),
        "report does not point at {line}:\n{}",
        r[0].text
    );
    r[0].text.clone()
}

#[test]
fn programs_that_check_everything_are_accepted() {
    accepted("xdp_proto_count");
    accepted("xdp_tcp_port");
    accepted("xdp_bounded_loop");
    accepted("kprobe_ringbuf");
    accepted("tc_subprog_global_data");
}

#[test]
fn packet_access_without_bounds_check_is_refused_at_its_line() {
    let text = refused(
        "xdp_no_bounds_check",
        KernelOptions::privileged(),
        Rule::PacketBounds,
        "src/xdp_no_bounds_check.c:9:11",
    );
    assert!(
        text.contains("kernel: invalid access to packet, off=12 size=1"),
        "{text}"
    );
    assert!(
        text.contains(
            "state: r1 = packet pointer data (0 bytes after data checked against data_end)"
        ),
        "{text}"
    );
}

#[test]
fn unchecked_map_value_is_refused() {
    refused(
        "kprobe_null_map_value",
        KernelOptions::privileged(),
        Rule::NullDeref,
        "src/kprobe_null_map_value.c:17:5",
    );
}

#[test]
fn context_past_its_end_is_refused() {
    refused(
        "xdp_ctx_out_of_bounds",
        KernelOptions::privileged(),
        Rule::CtxAccess,
        "invalid bpf_context access off=24 size=4",
    );
}

#[test]
fn stack_beyond_512_bytes_is_refused() {
    refused(
        "kprobe_big_stack",
        KernelOptions::privileged(),
        Rule::StackBounds,
        "src/kprobe_big_stack.c:16:8",
    );
}

#[test]
fn unbounded_loop_is_refused() {
    refused(
        "xdp_unbounded_loop",
        KernelOptions::privileged(),
        Rule::UnboundedLoop,
        "src/xdp_unbounded_loop.c:21:2",
    );
}

#[test]
fn unreleased_ringbuf_reservation_is_refused() {
    refused(
        "kprobe_ringbuf_leak",
        KernelOptions::privileged(),
        Rule::UnreleasedReference,
        "alloc_insn=4",
    );
}

#[test]
fn unprivileged_loaders_are_held_to_stricter_rules() {
    // Padding bytes of a map key and a pointer stored in a map: fine for
    // root (warnings), refused without CAP_BPF/CAP_PERFMON.
    for (name, rule) in [
        ("socket_padding_key", Rule::UninitStack),
        ("socket_pointer_leak", Rule::PointerLeak),
    ] {
        let (linked, r) = check(name, KernelOptions::privileged());
        assert!(linked && r[0].verdict.accepted(), "{}", r[0].text);
        assert!(
            r[0].verdict.diagnostics.iter().any(|d| d.rule == rule),
            "{}",
            r[0].text
        );
        refused(
            name,
            KernelOptions::unprivileged(),
            rule,
            &format!("src/{name}.c"),
        );
    }
}

#[test]
fn a_linked_function_can_be_verified_by_name() {
    // What the REPL's `%verify NAME` calls: link normally, verify later.
    let mut session = Session::new(Vm::default(), SessionOptions::default());
    session
        .add_object("xdp_no_bounds_check", &fixture("xdp_no_bounds_check"))
        .unwrap();
    let no_source = |_: &str, _: u32| None;
    let r = bpf_linker::verify::verify_linked_function(
        &session,
        "no_check",
        bpf_verifier::ProgType::Xdp,
        KernelOptions::privileged(),
        &no_source,
    )
    .unwrap();
    assert!(!r.verdict.accepted());
    assert!(
        r.text.contains("src/xdp_no_bounds_check.c:9:11"),
        "{}",
        r.text
    );
    let e = bpf_linker::verify::verify_linked_function(
        &session,
        "nope",
        bpf_verifier::ProgType::Xdp,
        KernelOptions::privileged(),
        &no_source,
    )
    .unwrap_err();
    assert_eq!(e, "no function named `nope` is linked");
}

#[test]
fn callbacks_legacy_loads_and_tail_calls_are_accepted() {
    // bpf_loop's callback analysed in its own frame, writing the caller's
    // stack; LD_ABS in a socket filter; a tail call with a fall-back.
    accepted("raw_tp_loop_callback");
    accepted("socket_ld_abs");
    accepted("xdp_tail_call");
}

#[test]
fn a_record_read_after_submit_is_refused() {
    let text = refused(
        "kprobe_ringbuf_use_after_submit",
        KernelOptions::privileged(),
        Rule::InvalidMemAccess,
        "src/kprobe_ringbuf_use_after_submit.c:25:12",
    );
    assert!(
        text.contains("pointed to memory reserved at instruction 4, which was submitted"),
        "{text}"
    );
    assert!(
        text.contains("kernel: R6 invalid mem access 'scalar'"),
        "{text}"
    );
}

#[test]
fn a_callback_returning_more_than_one_is_refused() {
    let text = refused(
        "raw_tp_bad_callback",
        KernelOptions::privileged(),
        Rule::CallbackReturn,
        "src/raw_tp_bad_callback.c:16",
    );
    assert!(text.contains("the callback `count` of bpf_loop"), "{text}");
}

#[test]
fn legacy_loads_outside_socket_programs_are_refused() {
    refused(
        "kprobe_ld_abs",
        KernelOptions::privileged(),
        Rule::LegacyPacketAccess,
        "BPF_LD_[ABS|IND] instructions not allowed for this program type",
    );
}

#[test]
fn gpl_only_helpers_need_a_gpl_license() {
    refused(
        "kprobe_not_gpl",
        KernelOptions::privileged(),
        Rule::License,
        "cannot call GPL-restricted function from non-GPL compatible program",
    );
}

/// The kernel-world fixtures (`fixtures/kernel`) are programs the kernel
/// accepts: ring buffer and perf output, bpf_loop and for-each callbacks,
/// 32-bit loop counters on the stack, LD_ABS, tail calls.
#[test]
fn the_kernel_world_fixtures_are_accepted() {
    for name in [
        "events",
        "iterate",
        "sockex_ldabs",
        "tailcall",
        "xdp_adjust",
        "xdp_count",
    ] {
        let path = format!(
            "{}/fixtures/kernel/obj/{name}.o",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let reports = Rc::new(RefCell::new(Vec::new()));
        let mut session = Session::new(Vm::default(), SessionOptions::default());
        session.enable_kernel(Kernel::new(KernelConfig::default(), OutputSink::buffer()));
        session.add_verifier(kernel_hook(KernelOptions::privileged(), reports.clone()));
        let linked = session.add_object(name, &bytes);
        let reports = reports.borrow();
        let text: Vec<&str> = reports.iter().map(|r| r.text.as_str()).collect();
        assert!(linked.is_ok(), "{name}: {linked:?}\n{}", text.join("\n"));
        assert!(!reports.is_empty(), "{name}: no programs");
        for r in reports.iter() {
            // Every helper these programs call is modelled.
            assert!(
                !r.verdict
                    .diagnostics
                    .iter()
                    .any(|d| d.rule == Rule::NotModelled),
                "{}",
                r.text
            );
        }
    }
}
