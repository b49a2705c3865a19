//! Helper namespaces: `call N` is kernel helper N, the C runtime is reached
//! by name only. A raw id can never reach `printf` or `putchar`.

use bpf_linker::{LinkError, Session, SessionOptions};
use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::Vm;
use object::write::{Object, StandardSection, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/obj/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run fixtures/rebuild.sh"))
}

/// A session with the whole C runtime registered (putchar, printf, ...).
fn runtime_session(out: &OutputSink) -> Session {
    let mut s = Session::new(Vm::default(), SessionOptions::default());
    for (name, f) in Runtime::new(out.clone()).helpers() {
        s.register_helper(name, f);
    }
    s
}

/// A one-function object `f` with the given code and no relocations.
fn raw_object(code: &[[u8; 8]]) -> Vec<u8> {
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let text = obj.section_id(StandardSection::Text);
    let bytes: Vec<u8> = code.iter().flatten().copied().collect();
    let off = obj.append_section_data(text, &bytes, 8);
    obj.add_symbol(Symbol {
        name: b"f".to_vec(),
        value: off,
        size: bytes.len() as u64,
        kind: SymbolKind::Text,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(text),
        flags: SymbolFlags::None,
    });
    obj.write().unwrap()
}

const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

#[test]
fn a_kernel_helper_id_never_binds_to_a_runtime_helper() {
    for obj in ["helper_ns.o", "helper_ns.nodebug.o"] {
        let out = OutputSink::buffer();
        let mut s = runtime_session(&out);
        // The runtime has at least 7 helpers, so index 7 exists there.
        assert!(s.vm().runtime_helper_name(7).is_some());
        let e = s.add_object(obj, &fixture(obj)).unwrap_err();
        assert!(matches!(e, LinkError::Unsupported { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!(
                "{obj}: .text+0x0 in function `roll`: unsupported: kernel helper \
                 bpf_get_prandom_u32#7 is not implemented"
            )
        );
        assert!(s.objects().is_empty());
    }
}

#[test]
fn kernel_helpers_and_runtime_helpers_link_side_by_side() {
    let out = OutputSink::buffer();
    let mut s = runtime_session(&out);
    s.vm_mut()
        .register_helper(7, "bpf_get_prandom_u32", Box::new(|_, _| Ok(40)));
    s.add_object("helper_ns.o", &fixture("helper_ns.o"))
        .unwrap();
    assert_eq!(s.call("roll", &[]).unwrap(), 4);
    assert_eq!(out.take(), b"5");
    let listing = s.disassemble("roll", None).unwrap();
    assert!(
        listing.contains("call 0x7 <bpf_get_prandom_u32#7>"),
        "{listing}"
    );
    let putchar = s.helper_id("putchar").unwrap();
    assert!(
        listing.contains(&format!("call {putchar:#x} <putchar>")),
        "{listing}"
    );
}

#[test]
fn unrelocated_runtime_calls_and_unknown_ids_are_refused() {
    let out = OutputSink::buffer();
    // `call` with src=2 (the kernel's kfunc encoding) and no relocation.
    let kfunc = [0x85, 0x20, 0, 0, 1, 0, 0, 0];
    let e = runtime_session(&out)
        .add_object("k.o", &raw_object(&[kfunc, EXIT]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "k.o: .text+0x0 in function `f`: unsupported: kfunc call (src=2) of id 1 without a \
         relocation naming the function"
    );
    // A helper id the kernel never defined.
    let call999 = [0x85, 0, 0, 0, 0xe7, 0x03, 0, 0];
    let e = runtime_session(&out)
        .add_object("u.o", &raw_object(&[EXIT, call999, EXIT]))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "u.o: .text+0x8 in function `f`: unsupported: call of kernel helper #999, which the \
         kernel does not define"
    );
}
