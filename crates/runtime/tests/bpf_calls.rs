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

#[test]
fn full_mode_printf_reads_a_va_block_from_the_callers_frame() {
    let out = OutputSink::buffer();
    let rt = Runtime::new(out.clone());
    let mut prog = load("fullmode.o", &rt);
    let n = prog
        .call("print_mixed", &[-42i64 as u64, 2.0f64.to_bits()])
        .unwrap();
    let text = String::from_utf8(out.take()).unwrap();
    assert_eq!(text, "-42 2.000 va|1.41421\n");
    assert_eq!(n as usize, text.len());
}

#[test]
fn full_mode_printf_names_the_missing_argument() {
    let out = OutputSink::buffer();
    let rt = Runtime::new(out.clone());
    let mut prog = load("fullmode.o", &rt);
    let trap = prog
        .call("print_too_few", &[1, 2.0f64.to_bits()])
        .unwrap_err();
    match &trap.kind {
        TrapKind::Helper {
            helper,
            error: HelperError::Fault(msg),
        } => {
            assert_eq!(helper, "printf");
            assert_eq!(
                msg,
                "printf: the format asks for argument 4 after the format, but the call passed 3"
            );
        }
        other => panic!("unexpected trap {other:?}"),
    }
    assert!(out.take().is_empty(), "nothing of a failed call is printed");
}

#[test]
fn vprintf_advances_the_va_state_it_is_given() {
    let out = OutputSink::buffer();
    let rt = Runtime::new(out.clone());
    let mut prog = load("fullmode.o", &rt);
    assert_eq!(prog.call("print_twice", &[7, 8]).unwrap(), 6);
    assert_eq!(out.take(), b"[7][8]");
}

#[test]
fn floating_point_helpers_from_bpf() {
    let rt = Runtime::new(OutputSink::buffer());
    let mut prog = load("fullmode.o", &rt);
    // sum of i * 0.5 for i < 1001 = 250250.
    assert_eq!(prog.call("half_sum", &[1001]).unwrap(), 250_250);
    assert_eq!(prog.call("fp_add_loop", &[10]).unwrap(), 10f64.to_bits());
    let (a, b) = (1.5f64.to_bits(), 2.5f64.to_bits());
    assert_eq!(prog.call("less", &[a, b]).unwrap(), 1);
    assert_eq!(prog.call("less", &[b, a]).unwrap(), 0);
    assert_eq!(prog.call("less", &[a, f64::NAN.to_bits()]).unwrap(), 0);
}
