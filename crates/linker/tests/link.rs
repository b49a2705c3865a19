//! Linking clang-built fixtures (crates/linker/fixtures, rebuilt by
//! fixtures/rebuild.sh) into sessions and running them.

use bpf_linker::bpf::EdgeKind;
use bpf_linker::graph::SectionKind;
use bpf_linker::{CallError, LinkError, Session, SessionOptions};
use bpf_vm::{MemReason, RegionKind, TrapKind, Vm};
use std::collections::HashSet;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/obj/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}; run fixtures/rebuild.sh"))
}

fn session(redefine: bool) -> Session {
    Session::new(
        Vm::default(),
        SessionOptions {
            allow_redefinition: redefine,
            keep_unfixed_graphs: false,
        },
    )
}

fn add(s: &mut Session, names: &[&str]) -> Result<(), LinkError> {
    let files: Vec<(String, Vec<u8>)> = names.iter().map(|n| (n.to_string(), fixture(n))).collect();
    let inputs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    s.add_objects(&inputs)
}

fn call(s: &mut Session, name: &str, args: &[u64]) -> u64 {
    s.call(name, args).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_relocation_kind_links_and_runs() {
    for debug in [true, false] {
        let suffix = if debug { ".o" } else { ".nodebug.o" };
        let mut s = session(false);
        add(
            &mut s,
            &[&format!("relocs{suffix}"), &format!("ext{suffix}")],
        )
        .unwrap();
        let hidden = [10, 20, 30, 40];
        for i in 0..6u64 {
            let entry = 3 * i + (i + 7);
            let expected = entry + hidden[(i & 3) as usize] + b'e' as u64 + 3 + (i + 1000);
            assert_eq!(
                call(&mut s, "use_all", &[i]) as u32 as u64,
                expected,
                "use_all({i})"
            );
        }
        let kinds: HashSet<EdgeKind> = s
            .objects()
            .iter()
            .flat_map(|o| {
                o.graph
                    .sections
                    .iter()
                    .flat_map(|s| s.edges.iter().map(|e| e.kind))
            })
            .collect();
        let mut want = vec![EdgeKind::LdImm64, EdgeKind::Abs64, EdgeKind::Call32];
        if debug {
            want.extend([EdgeKind::Abs32, EdgeKind::NoDyld32]);
        }
        for k in want {
            assert!(kinds.contains(&k), "{} missing (debug={debug})", k.name());
        }
    }
}

#[test]
fn debug_sections_are_relocated_to_vm_addresses() {
    let mut s = session(false);
    add(&mut s, &["relocs.o", "ext.o"]).unwrap();
    let obj = &s.objects()[0];
    let debug_addr = obj
        .graph
        .sections
        .iter()
        .find(|s| s.name == ".debug_addr")
        .expect(".debug_addr kept");
    assert_eq!(debug_addr.kind, SectionKind::Debug);
    let text = obj
        .graph
        .sections
        .iter()
        .find(|s| s.name == ".text")
        .unwrap();
    let text_addr = text.addr.unwrap();
    let mut checked = 0;
    for e in debug_addr
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Abs64)
    {
        let at = e.offset as usize;
        let v = u64::from_le_bytes(debug_addr.bytes[at..at + 8].try_into().unwrap());
        if obj.graph.symbols[e.target].name == ".text" {
            assert_eq!(v, text_addr.wrapping_add(e.addend as u64));
            checked += 1;
        }
    }
    assert!(checked > 0, "no .debug_addr entry pointed at .text");
    // Debug sections are not loaded into VM memory.
    assert_eq!(debug_addr.addr, Some(0));
}

#[test]
fn unresolved_symbols_are_all_reported_at_once() {
    let mut s = session(false);
    let e = add(&mut s, &["missing.o"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "symbols not found: [missing_one, missing_two]"
    );
    let e = add(&mut s, &["relocs.o"]).unwrap_err();
    assert_eq!(e.to_string(), "symbols not found: [ext_value]");
}

#[test]
fn objects_share_globals_statics_strings_and_function_tables() {
    let expected = (11 + 1) + 2 * 3 + b'e' as u64 + 3 + b'u' as u64;
    for order in [
        ["lib_data.o", "lib_ops.o", "main_multi.o"],
        ["main_multi.o", "lib_ops.o", "lib_data.o"],
    ] {
        let mut s = session(false);
        add(&mut s, &order).unwrap();
        assert_eq!(call(&mut s, "main", &[]), expected);
        // State persists between calls: counter was incremented.
        assert_eq!(call(&mut s, "main", &[]), expected + 1);
    }
}

#[test]
fn incremental_links_see_earlier_definitions() {
    let mut s = session(false);
    add(&mut s, &["step1.o"]).unwrap();
    assert_eq!(call(&mut s, "get_base", &[]), 100);
    add(&mut s, &["step2.o"]).unwrap();
    assert_eq!(call(&mut s, "twice", &[]), 200);
    add(&mut s, &["step3.o"]).unwrap();
    assert_eq!(call(&mut s, "bump_and_twice", &[5]), 210);
    assert_eq!(call(&mut s, "get_base", &[]), 105);
    let base = s.lookup("base").unwrap();
    assert_eq!(s.vm().mem.load(base.addr, 4).unwrap(), 105);
    assert_eq!(s.defined_by(base), "step1.o");
}

#[test]
fn undo_removes_the_last_unit() {
    let mut s = session(false);
    add(&mut s, &["step1.o"]).unwrap();
    let code_after_1 = s.vm().code().len();
    let data_after_1 = s.vm().mem.region_len(RegionKind::Data);
    add(&mut s, &["step2.o"]).unwrap();
    add(&mut s, &["step3.o"]).unwrap();
    assert_eq!(s.undo(), Some(vec!["step3.o".to_string()]));
    assert!(matches!(
        s.call("bump_and_twice", &[1]),
        Err(CallError::NotFound(_))
    ));
    assert_eq!(call(&mut s, "twice", &[]), 200);
    assert_eq!(s.undo(), Some(vec!["step2.o".to_string()]));
    assert_eq!(s.vm().code().len(), code_after_1);
    assert_eq!(s.vm().mem.region_len(RegionKind::Data), data_after_1);
    assert!(s.lookup("twice").is_none());
    // The removed definitions can come back.
    add(&mut s, &["step2.o"]).unwrap();
    assert_eq!(call(&mut s, "twice", &[]), 200);
    assert_eq!(s.undo().map(|v| v.len()), Some(1));
    assert_eq!(s.undo().map(|v| v.len()), Some(1));
    assert_eq!(s.undo(), None);
    assert!(s.symbols().is_empty());
}

#[test]
fn redefined_function_reaches_old_callers_and_stored_pointers() {
    let mut s = session(true);
    add(&mut s, &["f_v1.o"]).unwrap();
    add(&mut s, &["f_user.o"]).unwrap();
    let canonical = s.lookup("f").unwrap().addr;
    assert_eq!(call(&mut s, "call_f", &[]), 1);
    assert_eq!(call(&mut s, "call_saved", &[]), 1);
    assert_eq!(call(&mut s, "same", &[]), 1);

    add(&mut s, &["f_v2.o"]).unwrap();
    assert_eq!(call(&mut s, "f", &[]), 2);
    assert_eq!(call(&mut s, "call_f", &[]), 2, "old caller");
    assert_eq!(call(&mut s, "call_saved", &[]), 2, "stored pointer");
    assert_eq!(call(&mut s, "same", &[]), 1, "pointer equality survives");
    assert_eq!(s.lookup("f").unwrap().addr, canonical);
    assert_eq!(s.defined_by(s.lookup("f").unwrap()), "f_v2.o");

    s.undo().unwrap();
    assert_eq!(call(&mut s, "call_f", &[]), 1, "undo restores the old body");
    assert_eq!(call(&mut s, "call_saved", &[]), 1);
}

#[test]
fn redefined_variable_rebinds_old_references() {
    let mut s = session(true);
    add(&mut s, &["var_v1.o"]).unwrap();
    assert_eq!(call(&mut s, "read_v", &[]), 1);
    add(&mut s, &["var_v2.o"]).unwrap();
    assert_eq!(call(&mut s, "read_v", &[]), 42);
    s.undo().unwrap();
    assert_eq!(call(&mut s, "read_v", &[]), 1);
}

#[test]
fn duplicate_definitions_are_errors_without_redefinition() {
    let mut s = session(false);
    add(&mut s, &["f_v1.o", "f_user.o"]).unwrap();
    let code = s.vm().code().len();
    let e = add(&mut s, &["f_v2.o"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "duplicate definition of symbol `f`: in f_v1.o and in f_v2.o"
    );
    assert_eq!(s.vm().code().len(), code);
    assert_eq!(call(&mut s, "call_f", &[]), 1);

    let mut s = session(true);
    let e = add(&mut s, &["dup.o", "dup.nodebug.o"]).unwrap_err();
    assert!(matches!(e, LinkError::Duplicate { .. }), "{e}");
}

#[test]
fn tentative_definitions_merge() {
    let mut s = session(false);
    add(&mut s, &["common_a.o", "common_b.o"]).unwrap();
    assert_eq!(call(&mut s, "set_n", &[5]), 5);
    assert_eq!(call(&mut s, "get_n", &[]), 5);

    let mut s = session(true);
    add(&mut s, &["common_a.o"]).unwrap();
    assert_eq!(call(&mut s, "set_n", &[9]), 9);
    add(&mut s, &["common_b.o"]).unwrap();
    assert_eq!(
        call(&mut s, "get_n", &[]),
        9,
        "a later `int n;` keeps the value"
    );
}

#[test]
fn a_larger_tentative_definition_never_merges_into_a_smaller_variable() {
    // Without redefinition it is an error naming both objects and sizes.
    let mut s = session(false);
    add(&mut s, &["common_a.o"]).unwrap();
    let err = add(&mut s, &["common_wide.o"]).unwrap_err().to_string();
    for part in ["common_wide.o", "`n` (32 bytes)", "common_a.o (4 bytes)"] {
        assert!(err.contains(part), "{err}");
    }
    assert_eq!(s.lookup("n").map(|g| g.size), Some(4));

    // With redefinition it is a new variable; the old one's neighbours
    // are not overwritten through it.
    let mut s = session(true);
    add(&mut s, &["common_a.o"]).unwrap();
    let old = s.lookup("n").unwrap().addr;
    assert_eq!(call(&mut s, "set_n", &[9]), 9);
    add(&mut s, &["common_wide.o"]).unwrap();
    let new = s.lookup("n").unwrap();
    assert_eq!((new.size, new.addr == old), (32, false));
    assert_eq!(call(&mut s, "set_n3", &[7]), 7);
    assert_eq!(call(&mut s, "get_n3", &[]), 7);
    // In one unit, two tentative definitions merge to the larger.
    let mut s = session(false);
    add(&mut s, &["common_a.o", "common_wide.o"]).unwrap();
    assert_eq!(s.lookup("n").map(|g| g.size), Some(32));
}

#[test]
fn weak_definitions_yield_and_weak_references_may_be_missing() {
    let mut s = session(false);
    add(&mut s, &["weak.o"]).unwrap();
    assert_eq!(call(&mut s, "call_maybe", &[]), 5);
    let mut s = session(false);
    add(&mut s, &["weak.o", "strong.o"]).unwrap();
    assert_eq!(call(&mut s, "call_maybe", &[]), 9);
}

#[test]
fn failed_link_leaves_the_session_unchanged() {
    let mut s = session(true);
    add(&mut s, &["step1.o"]).unwrap();
    call(&mut s, "get_base", &[]);
    let code = s.vm().code().to_vec();
    let mem = s.vm().mem.clone();
    let symbols: Vec<_> = s.symbols().into_iter().cloned().collect();
    // (With redefinition on, calls to missing functions link to pending
    // stubs; a missing variable is still an error.)
    for bad in [&["abs.o"][..], &["dup.o", "dup.o"]] {
        assert!(add(&mut s, bad).is_err());
        assert_eq!(s.vm().code(), &code[..]);
        assert_eq!(s.vm().mem.mark(), mem.mark());
        let now: Vec<_> = s.symbols().into_iter().cloned().collect();
        assert_eq!(now, symbols);
        assert_eq!(s.objects().len(), 1);
    }
    add(&mut s, &["step2.o"]).unwrap();
    assert_eq!(call(&mut s, "twice", &[]), 200);
}

#[test]
fn recursion_runs_and_faults_name_the_function() {
    let mut s = session(false);
    add(&mut s, &["fib.o", "crash.o"]).unwrap_err();
    add(&mut s, &["fib.o"]).unwrap();
    assert_eq!(call(&mut s, "fib", &[20]), 6765);
    let mut s = session(false);
    add(&mut s, &["crash.o"]).unwrap();
    let Err(CallError::Trap(t)) = s.call("main", &[]) else {
        panic!("crash.o must trap")
    };
    let TrapKind::Memory(m) = &t.kind else {
        panic!("{t}")
    };
    assert_eq!(m.addr, 16);
    assert_eq!(m.reason, MemReason::Unmapped);
    let (func, obj, _) = s.function_at(t.pc).unwrap();
    // clang may specialise the noinline function into `poke.specialized.1`.
    assert!(func.starts_with("poke"), "{func}");
    assert_eq!(obj.name, "crash.o");
    assert_eq!(t.call_sites.len(), 1);
    assert_eq!(s.function_at(t.call_sites[0]).unwrap().0, "main");
}

#[test]
fn absolute_symbols_from_the_host() {
    let mut s = session(false);
    s.define_absolute("limit", 0x1234);
    add(&mut s, &["abs.o"]).unwrap();
    assert_eq!(call(&mut s, "get_limit", &[]), 0x1234);
}

#[test]
fn functions_are_valid_callx_targets_and_data_is_placed_by_kind() {
    let mut s = session(false);
    add(&mut s, &["lib_data.o", "lib_ops.o", "main_multi.o"]).unwrap();
    let ops = s.lookup("ops").unwrap();
    assert_eq!(RegionKind::of(ops.addr), Some(RegionKind::Data));
    let names = s.lookup("names").unwrap();
    assert_eq!(RegionKind::of(names.addr), Some(RegionKind::Rodata));
    let first = s.vm().mem.load(ops.addr, 8).unwrap();
    let slot = s.vm().code_index(first).expect("ops[0] is a code address");
    assert!(s.vm().is_entry(slot));
}

#[test]
fn calls_to_functions_defined_later_trap_until_defined() {
    let mut s = session(true);
    add(&mut s, &["missing.o"]).unwrap();
    let Err(CallError::Trap(t)) = s.call("main", &[]) else {
        panic!("calling a pending function must trap")
    };
    assert_eq!(s.undefined_function_at(t.pc), Some("missing_one"));
    add(&mut s, &["missing_defs.o"]).unwrap();
    assert_eq!(call(&mut s, "main", &[]), 40 + 2 + 40);
    // Undo brings the pending stubs back.
    s.undo().unwrap();
    assert!(s.call("main", &[]).is_err());
    // Without redefinition (bpf-jitlink), missing functions are link errors.
    let mut s = session(false);
    assert!(matches!(
        add(&mut s, &["missing.o"]),
        Err(LinkError::Unresolved { .. })
    ));
}
