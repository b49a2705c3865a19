//! `linker_object`: arbitrary bytes as a BPF ELF object, linked into a
//! session and run the way `bpf-jitlink` and the REPL do.
//!
//! Checks: reading, resolving, placing, fixing up and verifying any file
//! ends in the object or a `LinkError`, never a panic, a huge allocation
//! or a hang; an object that links can be listed (`--show-graph`), its
//! functions run with the C runtime's helpers and a small budget, traps
//! map to backtraces through its (possibly corrupt) DWARF, its functions
//! disassemble with source lines, and undo takes it out again.
//!
//! The kernel world is enabled too: map definitions (BTF and legacy) are
//! read and created, CO-RE relocations resolved against the object's own
//! BTF (even lengths), and every program run on a small packet or context.
//!
//! Objects that ask for more than 64 MiB of VM memory (sections and maps)
//! are skipped (see `MAX_LOADED`).
//!
//! Input: the file itself, so clang-built objects are seeds as they are
//! (scripts/fuzz.sh adds crates/linker/fixtures/obj). An odd length links
//! as the REPL does (`allow_redefinition`, and the object is added twice,
//! the second time redefining everything); an even one as `bpf-jitlink`.

#![no_main]

use bpf_kernel::{Clock, Input, Kernel, KernelConfig};
use bpf_linker::elf::read_object;
use bpf_linker::graph::SymbolKind;
use bpf_linker::{format_backtrace, CallError, Session, SessionOptions};
use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::{Vm, VmConfig};
use libfuzzer_sys::fuzz_target;

/// At most this many functions of one object are run.
const MAX_CALLS: usize = 8;

/// Objects whose loaded sections need more bytes than this are skipped.
/// They are not bugs: the data region may hold 2 GiB, so an 880-byte
/// object may ask for a 1.75 GiB `.bss`, and the linker honours it.
const MAX_LOADED: u64 = 64 << 20;

fuzz_target!(|data: &[u8]| {
    if let Ok(graph) = read_object("fuzz.o", data) {
        let loaded: u64 = graph
            .sections
            .iter()
            .filter(|s| s.kind.is_loaded())
            .map(|s| s.size())
            .sum();
        let maps: u64 = bpf_linker::maps::read_maps(&graph)
            .map(|m| m.iter().map(|m| m.spec.footprint().unwrap_or(0)).sum())
            .unwrap_or(0);
        if loaded.saturating_add(maps) > MAX_LOADED {
            return;
        }
    }
    let redefine = data.len() % 2 == 1;
    let config = VmConfig {
        frame_size: 512,
        max_call_depth: 16,
        budget: 20_000,
    };
    let options = SessionOptions {
        allow_redefinition: redefine,
        keep_unfixed_graphs: true,
    };
    let mut session = Session::new(Vm::new(config), options);
    session.define_absolute("fuzz_abs", 0x1234);
    let runtime = Runtime::new(OutputSink::buffer_with_limit(1 << 16)).with_heap_limit(1 << 20);
    for (name, helper) in runtime.helpers() {
        session.register_helper(name, helper);
    }
    session.enable_kernel(Kernel::new(
        KernelConfig {
            clock: Clock::Fixed {
                start_ns: 0,
                step_ns: 1,
            },
            max_events: 64,
            ..KernelConfig::default()
        },
        OutputSink::buffer_with_limit(1 << 16),
    ));
    if !redefine {
        let _ = session.set_target_btf(data);
    }
    if session.add_object("fuzz.o", data).is_err() {
        return;
    }
    if redefine {
        let _ = session.add_object("again.o", data);
    }
    for obj in session.objects() {
        let _ = obj.graph.to_string();
        let _ = obj.unfixed.as_ref().map(|g| g.to_string());
    }
    let functions: Vec<String> = session
        .symbols()
        .iter()
        .filter(|s| s.kind == SymbolKind::Function)
        .map(|s| s.name.clone())
        .take(MAX_CALLS)
        .collect();
    let source = |file: &str, line: u32| Some(format!("{file}:{line}"));
    for name in &functions {
        if let Err(CallError::Trap(trap)) = session.call(name, &[1, 2, 3, 4, 5]) {
            let frames = session.backtrace(&trap);
            let _ = format_backtrace(&frames, |f| f.describe_as(&f.function));
        }
        let _ = session.disassemble(name, Some(&source));
    }
    let packet = [0x45u8; 64];
    for p in session.programs().into_iter().take(MAX_CALLS) {
        let input = match p.ty.context() {
            Ok(bpf_kernel::ContextKind::Bytes) => Input::Context(&packet),
            _ => Input::Packet {
                data: &packet,
                timestamp_ns: None,
            },
        };
        let _ = session.run_program(&p, input);
        let _ = session.dump_maps(None);
    }
    while session.undo().is_some() {}
    assert!(session.symbols().len() <= 1, "undo left symbols behind");
});
