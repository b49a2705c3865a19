//! Runtime helpers called from clang-built BPF code running in the VM:
//! the calling convention, results used by C code, and traps that name the
//! helper. The objects are committed fixtures (see fixtures/build.sh).

mod common;

use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{HelperError, TrapKind};
use common::elf::load;

#[test]
fn printf_from_bpf_formats_register_arguments() {
    let out = OutputSink::buffer();
    let rt = Runtime::new(out.clone());
    let mut prog = load("calls.o", &rt);
    let n = prog.call("greet", &[7]).unwrap();
    let text = String::from_utf8(out.take()).unwrap();
    assert_eq!(text, format!("n=7 neg=-7 big={} s=hello\n", 7i64 << 40));
    assert_eq!(n as usize, text.len());
    // A negative int argument arrives as a zero-extended 32-bit register.
    prog.call("greet", &[-5i64 as u64]).unwrap();
    let text = String::from_utf8(out.take()).unwrap();
    assert_eq!(text, format!("n=-5 neg=5 big={} s=hello\n", -5i64 << 40));
}

#[test]
fn heap_and_strings_from_bpf() {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = load("calls.o", &rt);
    let sum: u64 = (0..100).map(|i| i * i).sum();
    assert_eq!(prog.call("heap_roundtrip", &[100]).unwrap(), sum);
    assert_eq!(rt.heap_stats(&prog.vm.mem).live_blocks, 0);
    assert_eq!(prog.call("compare_words", &[]).unwrap(), 1);
}

#[test]
fn helper_faults_become_traps_naming_the_helper() {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = load("calls.o", &rt);
    let trap = prog.call("overflow", &[]).unwrap_err();
    match &trap.kind {
        TrapKind::Helper {
            helper,
            error: HelperError::Fault(msg),
        } => {
            assert_eq!(helper, "memset");
            assert!(msg.contains("4-byte heap block"), "{msg}");
        }
        other => panic!("unexpected trap {other:?}"),
    }
    assert!(
        trap.to_string().starts_with("memset: the 5-byte range"),
        "{trap}"
    );
    let trap = prog.call("stop", &[3]).unwrap_err();
    assert_eq!(trap.exit_code(), Some(3));
}
