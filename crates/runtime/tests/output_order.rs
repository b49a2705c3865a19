//! Program output and the host's own text stay in one stream, in order,
//! also through a real pipe with a buffered writer in front of it.

mod common;

use bpf_runtime::{OutputSink, Runtime};
use common::Env;
use std::io::{BufWriter, Read};

#[test]
fn program_output_and_values_keep_input_order_through_a_pipe() {
    let (mut reader, writer) = std::io::pipe().unwrap();
    // Fully buffered, as a C program's stdout is when it is a pipe.
    let out = OutputSink::writer(BufWriter::new(writer));
    let mut env = Env::with_runtime(Runtime::new(out.clone()), out.clone());
    let fmt = env.literal(b"x = %d");
    let line = env.literal(b"done");
    // Input 1 prints without a newline, then the REPL shows its value.
    env.ok("__bpf_strict_printf", &[fmt, 1]);
    out.write_all(b"\n(int) 6\n").unwrap();
    // Input 2 writes to stderr and stdout; input 3 only has a value.
    env.ok("fputs", &[line, bpf_runtime::STDERR_HANDLE]);
    env.ok("puts", &[line]);
    out.write_all(b"(int) 5\n(long) 7\n").unwrap();
    out.flush().unwrap();
    drop(env);
    drop(out);
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    assert_eq!(text, "x = 1\n(int) 6\ndonedone\n(int) 5\n(long) 7\n");
}

#[test]
fn buffer_sink_separates_inputs_when_drained_between_them() {
    let mut env = Env::new();
    let a = env.literal(b"first");
    let b = env.literal(b"second");
    env.ok("puts", &[a]);
    let input1 = env.out.take();
    env.ok("puts", &[b]);
    env.out.write_all(b"(int) 7\n").unwrap();
    let input2 = env.out.take();
    assert_eq!(input1, b"first\n");
    assert_eq!(input2, b"second\n(int) 7\n");
}
