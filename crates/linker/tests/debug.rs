//! Debug info registered at link time: backtraces with source lines
//! (inlined frames included) and source-interleaved disassembly.

use bpf_linker::{CallError, Session, SessionOptions};
use bpf_vm::Vm;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/obj/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn linked(suffix: &str) -> Session {
    let names: Vec<String> = ["deep1", "deep2", "deep3"]
        .iter()
        .map(|n| format!("{n}{suffix}"))
        .collect();
    let files: Vec<Vec<u8>> = names.iter().map(|n| fixture(n)).collect();
    let mut s = Session::new(Vm::default(), SessionOptions::default());
    // Three separate units, as three REPL inputs would be.
    for (n, f) in names.iter().zip(&files) {
        s.add_object(n, f).unwrap();
    }
    s
}

fn trap(s: &mut Session) -> bpf_vm::Trap {
    match s.call("top", &[8]) {
        Err(CallError::Trap(t)) => t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn nested_fault_across_objects_has_source_frames() {
    let mut s = linked(".o");
    let t = trap(&mut s);
    let frames = s.backtrace(&t);
    let got: Vec<(String, String, bool)> = frames
        .iter()
        .map(|f| {
            (
                f.function.clone(),
                f.location
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
                f.inlined,
            )
        })
        .collect();
    // Lines and columns from the C sources in fixtures/src.
    let want = [
        ("leaf", "fixtures/src/deep1.c:2:12", false),
        ("mid", "fixtures/src/deep2.c:3:13", false),
        ("helper", "fixtures/src/deep3.c:2:43", true),
        ("top", "fixtures/src/deep3.c:4:12", false),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((f, l, i), (wf, wl, wi)) in got.iter().zip(want) {
        assert_eq!((f.as_str(), l.as_str(), *i), (wf, wl, wi));
    }
    assert_eq!(frames[0].object.as_deref(), Some("deep1.o"));
    assert_eq!(frames[3].object.as_deref(), Some("deep3.o"));
}

#[test]
fn objects_without_debug_info_give_names_and_offsets() {
    let mut s = linked(".nodebug.o");
    let t = trap(&mut s);
    let frames = s.backtrace(&t);
    let got: Vec<(&str, Option<u64>)> = frames
        .iter()
        .map(|f| (f.function.as_str(), f.offset))
        .collect();
    // leaf faults at its first instruction; mid and top call at their first.
    assert_eq!(
        got,
        vec![("leaf", Some(0)), ("mid", Some(0)), ("top", Some(0))]
    );
    assert!(frames.iter().all(|f| f.location.is_none()));
}

#[test]
fn disassembly_interleaves_source_lines() {
    let s = linked(".o");
    let read = |file: &str, line: u32| -> Option<String> {
        let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).ok()?;
        text.lines().nth(line as usize - 1).map(str::to_string)
    };
    let text = s.disassemble("mid", Some(&read)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("<mid>:"), "{text}");
    assert_eq!(lines[1], ";     int r = leaf(p);");
    assert!(
        lines[2].contains("call") && lines[2].ends_with("<leaf>"),
        "{text}"
    );
    assert_eq!(lines[3], ";     return r * 3;");
    assert!(lines[4].contains("w0 *= 0x3"), "{text}");
    // Without a source reader: the plain listing.
    let plain = s.disassemble("mid", None).unwrap();
    assert!(!plain.contains(';'));
    assert!(s.disassemble("no_such_function", None).is_none());
}
