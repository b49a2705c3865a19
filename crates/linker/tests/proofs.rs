//! Accesses proven in bounds when linking: the VM runs them with fewer
//! checks and the results do not change; redefining code withdraws them.

use bpf_linker::{Session, SessionOptions};
use bpf_vm::Vm;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/obj/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn session(prove: bool) -> Session {
    let mut s = Session::new(Vm::default(), SessionOptions::default());
    s.set_prove_accesses(prove);
    s.add_object("proven.o", &fixture("proven.o")).unwrap();
    s
}

#[test]
fn linked_code_gets_proofs_and_the_same_results() {
    let mut with = session(true);
    let mut without = session(false);
    let (start, end) = with.function_slots("main").unwrap();
    let (sub_start, sub_end) = with.function_slots("sum").unwrap();
    let proven: Vec<usize> = (start.min(sub_start)..end.max(sub_end))
        .filter(|s| with.vm().is_access_proven(*s))
        .collect();
    // The stack array reads in `sum` (through the caller's pointer) and
    // the global `weights` reads are proven.
    assert!(proven.len() >= 10, "only {proven:?} proven");
    assert!((start..end.max(sub_end)).all(|s| !without.vm().is_access_proven(s)));
    for _ in 0..3 {
        assert_eq!(
            with.call("main", &[]).unwrap(),
            without.call("main", &[]).unwrap()
        );
    }
}

#[test]
fn redefinition_withdraws_the_proofs_of_the_changed_code() {
    let mut s = Session::new(
        Vm::default(),
        SessionOptions {
            allow_redefinition: true,
            ..Default::default()
        },
    );
    s.add_object("proven.o", &fixture("proven.o")).unwrap();
    let (start, end) = s.function_slots("main").unwrap();
    assert!((start..end).any(|i| s.vm().is_access_proven(i)));
    // Patching a slot inside the proven code drops its proofs.
    let slot = (start..end).find(|i| s.vm().is_access_proven(*i)).unwrap();
    let insn = s.vm().code()[slot];
    s.vm_mut().patch(slot, insn).unwrap();
    assert!((start..end).all(|i| !s.vm().is_access_proven(i)));
}
