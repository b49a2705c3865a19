//! What the linker generates — function stubs, stubs of functions not
//! defined yet, helper trampolines — is graph content: listed with its
//! symbol and edge, fixed up by `apply_fixup`, repointed through the same
//! edge when a name is redefined, and restored by undo.

use bpf_linker::graph::{LinkGraph, SectionKind};
use bpf_linker::{LinkError, Session, SessionOptions};
use bpf_runtime::{OutputSink, Runtime};
use bpf_vm::isa::{Insn, OP_CALL, OP_GOTOL};
use bpf_vm::{RegionKind, Vm};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/obj/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run fixtures/rebuild.sh"))
}

fn repl_session() -> Session {
    Session::new(
        Vm::default(),
        SessionOptions {
            allow_redefinition: true,
            keep_unfixed_graphs: true,
        },
    )
}

fn add(s: &mut Session, name: &str) {
    s.add_object(name, &fixture(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

fn object<'s>(s: &'s Session, name: &str) -> &'s bpf_linker::LinkedObject {
    s.objects().iter().find(|o| o.name == name).unwrap()
}

/// The listing line of the edge at `offset` of section `section`.
fn edge_line(listing: &str, section: &str, offset: u64) -> String {
    let mut in_section = false;
    for line in listing.lines() {
        if line.starts_with("  section #") {
            in_section = line.contains(&format!(" {section} ("));
        } else if in_section && line.starts_with(&format!("    edge +{offset:#x} ")) {
            return line.to_string();
        }
    }
    panic!("no edge at {section}+{offset:#x} in:\n{listing}")
}

/// The first slot of the entry named `symbol`, as the graph holds it.
fn entry_insn(g: &LinkGraph, symbol: &str) -> (u64, Insn) {
    let sym = g.symbols.iter().find(|s| s.name == symbol).unwrap();
    let bpf_linker::graph::Definition::Defined { section, offset } = sym.def else {
        panic!("{symbol} is not defined")
    };
    let s = &g.sections[section];
    assert_eq!(s.kind, SectionKind::Stubs);
    let at = offset as usize;
    let insn = Insn::from_bytes(s.bytes[at..at + 8].try_into().unwrap());
    (s.addr.unwrap() + offset, insn)
}

fn gotol_target(addr: u64, insn: Insn) -> u64 {
    assert_eq!(insn.op, OP_GOTOL, "{insn:?}");
    (addr as i64 + 8 + insn.imm as i64 * 8) as u64
}

#[test]
fn function_stubs_are_listed_and_repointed_through_their_edge() {
    let mut s = repl_session();
    add(&mut s, "f_v1.o");
    let v1 = object(&s, "f_v1.o");
    let listing = v1.graph.to_string();
    assert!(
        listing.contains(" $__STUBS (stubs), size 0x10, align 8, at 0x1"),
        "{listing}"
    );
    assert!(
        listing.contains("    symbol f@stub +0x0 size 0x10 Local Other"),
        "{listing}"
    );
    let line = edge_line(&listing, "$__STUBS", 0);
    assert!(
        line.contains("STUB_BRANCH -> f+0x0  [06 00 00 00 "),
        "{line}"
    );
    // Before fixup the entry traps like an undefined function.
    let before = v1.unfixed.as_ref().unwrap().to_string();
    assert!(
        edge_line(&before, "$__STUBS", 0).ends_with("[85 20 00 00 00 00 00 00]"),
        "{before}"
    );
    let f = s.lookup("f").unwrap().clone();
    let (stub, insn) = entry_insn(&v1.graph, "f@stub");
    assert_eq!((f.addr, f.stub), (stub, s.vm().code_index(stub)));
    assert_eq!(gotol_target(stub, insn), f.body);
    assert_eq!(
        s.vm().code()[f.stub.unwrap()],
        insn,
        "the VM runs what the graph lists"
    );

    // A redefinition fixes the same edge up again: listing and VM agree.
    add(&mut s, "f_user.o");
    add(&mut s, "f_v2.o");
    let f2 = s.lookup("f").unwrap().clone();
    assert_ne!(f2.body, f.body);
    let (_, insn) = entry_insn(&object(&s, "f_v1.o").graph, "f@stub");
    assert_eq!(gotol_target(stub, insn), f2.body);
    assert_eq!(s.vm().code()[f.stub.unwrap()], insn);
    assert!(
        !object(&s, "f_v2.o").graph.to_string().contains("$__STUBS"),
        "the name keeps its stub"
    );
    assert_eq!(s.call("call_f", &[]).unwrap(), 2);

    s.undo().unwrap();
    let (_, insn) = entry_insn(&object(&s, "f_v1.o").graph, "f@stub");
    assert_eq!(gotol_target(stub, insn), f.body, "undo restores the edge");
    assert_eq!(s.vm().code()[f.stub.unwrap()], insn);
    assert_eq!(s.call("call_f", &[]).unwrap(), 1);
}

#[test]
fn stubs_of_functions_not_defined_yet_are_listed_and_repointed() {
    let mut s = repl_session();
    add(&mut s, "missing.o");
    let g = &object(&s, "missing.o").graph;
    let listing = g.to_string();
    for name in ["missing_one", "missing_two"] {
        assert!(
            listing.contains(&format!("    symbol {name}@stub +0x")),
            "{listing}"
        );
        assert!(listing.contains(&format!(
            "STUB_BRANCH -> {name}+0x0  [85 20 00 00 00 00 00 00]"
        )));
        // The calls of the graph that holds the stub are redirected to it.
        assert!(
            listing.contains(&format!("R_BPF_64_32 -> {name}@stub+0x0")),
            "{listing}"
        );
    }
    let (at, _) = entry_insn(g, "missing_one@stub");
    assert_eq!(s.lookup("missing_one").unwrap().addr, at);
    assert_eq!(
        s.undefined_function_at(s.vm().code_index(at).unwrap()),
        Some("missing_one")
    );

    add(&mut s, "missing_defs.o");
    let (_, insn) = entry_insn(&object(&s, "missing.o").graph, "missing_one@stub");
    assert_eq!(
        gotol_target(at, insn),
        s.lookup("missing_one").unwrap().body
    );
    assert_eq!(s.call("main", &[]).unwrap(), 82);

    s.undo().unwrap();
    let (_, insn) = entry_insn(&object(&s, "missing.o").graph, "missing_one@stub");
    assert_eq!((insn.op, insn.src, insn.imm), (OP_CALL, 2, 0));
    assert!(s.call("main", &[]).is_err());
}

#[test]
fn helper_trampolines_are_listed_and_their_references_redirected() {
    let out = OutputSink::buffer();
    let mut s = repl_session();
    for (name, f) in Runtime::new(out.clone()).helpers() {
        s.register_helper(name, f);
    }
    add(&mut s, "helper_addr.o");
    let g = &object(&s, "helper_addr.o").graph;
    let listing = g.to_string();
    let id = s.helper_id("putchar").unwrap();
    assert!(
        listing.contains(" $__TRAMPOLINES (stubs), size 0x10"),
        "{listing}"
    );
    let line = edge_line(&listing, "$__TRAMPOLINES", 0);
    assert!(
        line.contains(&format!(
            "STUB_BRANCH -> putchar+0x0  [85 20 00 00 {:02x} ",
            id
        )),
        "{line}"
    );
    assert!(
        listing.contains("R_BPF_64_64 -> putchar@trampoline+0x0"),
        "{listing}"
    );
    let (at, _) = entry_insn(g, "putchar@trampoline");
    let ptr = s.call("putchar_ptr", &[]).unwrap();
    assert_eq!(ptr, at);
    assert_eq!(s.helper_at(ptr), Some("putchar"));
    assert_eq!(s.call("call_through", &[b'x' as u64]).unwrap(), b'x' as u64);
    assert_eq!(out.take(), b"x");
    // A second unit taking the address reuses the trampoline.
    add(&mut s, "helper_addr.nodebug.o");
    assert!(!object(&s, "helper_addr.nodebug.o")
        .graph
        .to_string()
        .contains("$__TRAMPOLINES"));
    s.undo().unwrap();
    s.undo().unwrap();
    assert_eq!(s.helper_at(at), None);
}

/// An object with one data word that an `R_BPF_64_ABS32` relocation
/// points at `name`, and optionally a definition of `defines`.
fn abs32_object(name: &str, defines: Option<&str>) -> Vec<u8> {
    use object::write::{Object, Relocation, StandardSection, Symbol, SymbolSection};
    use object::{
        Architecture, BinaryFormat, Endianness, RelocationFlags, SymbolFlags, SymbolKind,
        SymbolScope,
    };
    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let data = obj.section_id(StandardSection::Data);
    let off = obj.append_section_data(data, &[0; 8], 8);
    match defines {
        Some(def) => {
            obj.add_symbol(Symbol {
                name: def.as_bytes().to_vec(),
                value: off + 4,
                size: 4,
                kind: SymbolKind::Data,
                scope: SymbolScope::Linkage,
                weak: false,
                section: SymbolSection::Section(data),
                flags: SymbolFlags::None,
            });
        }
        None => {
            let target = obj.add_symbol(Symbol {
                name: name.as_bytes().to_vec(),
                value: 0,
                size: 0,
                kind: SymbolKind::Unknown,
                scope: SymbolScope::Linkage,
                weak: false,
                section: SymbolSection::Undefined,
                flags: SymbolFlags::None,
            });
            obj.add_relocation(
                data,
                Relocation {
                    offset: off,
                    symbol: target,
                    addend: 0,
                    flags: RelocationFlags::Elf {
                        r_type: object::elf::RelocationType(3),
                    },
                },
            )
            .unwrap();
        }
    }
    obj.write().unwrap()
}

#[test]
fn a_reference_that_cannot_follow_a_redefinition_is_a_link_error() {
    let mut s = repl_session();
    s.define_absolute("limit", 0x1234);
    s.add_object("user.o", &abs32_object("limit", None))
        .unwrap();
    let word = object(&s, "user.o").graph.sections[0].addr.unwrap();
    assert_eq!(RegionKind::of(word), Some(RegionKind::Data));
    assert_eq!(s.vm().mem.load(word, 4).unwrap(), 0x1234);
    // A real variable `limit` has a VM address, which no 32-bit word holds:
    // the link fails naming the reference, and nothing changes.
    let code = s.vm().code().len();
    let err = s
        .add_object("def.o", &abs32_object("", Some("limit")))
        .unwrap_err();
    assert!(matches!(err, LinkError::Relocation { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "user.o: relocation at .data+0x0: R_BPF_64_ABS32 against `limit`: value 0x3"
        ),
        "{text}"
    );
    assert_eq!(s.vm().code().len(), code);
    assert_eq!(s.lookup("limit").unwrap().addr, 0x1234);
    assert_eq!(s.vm().mem.load(word, 4).unwrap(), 0x1234);
    assert_eq!(s.objects().len(), 1);
}
