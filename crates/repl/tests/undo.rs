//! `Repl::undo` removes inputs with their symbols, declarations and memory effects.

use bpf_repl::engine::{Repl, ReplOptions};

fn value(repl: &mut Repl, input: &str) -> String {
    repl.eval(input, None)
        .unwrap_or_else(|e| panic!("{input}: {e}"))
        .value
        .unwrap_or_default()
}

#[test]
fn undo_forgets_definitions_and_writes() {
    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    repl.eval("int x = 1;", None).unwrap();
    repl.eval("int f(void) { return x * 10; }", None).unwrap();
    repl.eval("x = 5;", None).unwrap();
    assert_eq!(value(&mut repl, "f()"), "(int) 50");
    // `f()` changed nothing, so one undo takes back `x = 5;`: x is 1 again.
    assert_eq!(repl.undo(1), 1);
    assert_eq!(value(&mut repl, "x"), "(int) 1");
    // The definition of f goes next: f is unknown to later inputs.
    assert_eq!(repl.undo(1), 1);
    let err = repl.eval("f()", None).unwrap_err().to_string();
    assert!(err.contains("undeclared function 'f'"), "{err}");
    // Redefining a function and undoing brings the old body back.
    repl.eval("int g(void) { return 1; }", None).unwrap();
    repl.eval("int g(void) { return 2; }", None).unwrap();
    assert_eq!(value(&mut repl, "g()"), "(int) 2");
    assert_eq!(repl.undo(1), 1);
    assert_eq!(value(&mut repl, "g()"), "(int) 1");
    // More than there is: everything goes.
    let n = repl.undo(100);
    assert_eq!(n, 2, "g and x are left");
    assert!(repl.eval("x", None).is_err());
}

/// Undo restores what an input wrote to a large array by the pages it
/// changed; memory does not grow with the number of inputs.
#[test]
fn undo_restores_writes_to_a_large_array_by_pages() {
    let mut repl = Repl::new(&ReplOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    repl.eval("char big[1UL << 26];", None).unwrap();
    repl.eval("big[12345] = 7; big[1 << 25] = 9;", None)
        .unwrap();
    for i in 0..20 {
        repl.eval(&format!("int v{i} = {i};"), None).unwrap();
    }
    let used = repl.session().vm().mem.used();
    assert!(used < (1 << 26) + (12 << 20), "memory used: {used}");
    // A failing input's writes are rolled back.
    repl.eval("int *nowhere = 0;", None).unwrap();
    let e = repl
        .eval("big[12345] = 1; *nowhere = 1;", None)
        .unwrap_err();
    assert!(e.to_string().contains("NULL"), "{e}");
    assert_eq!(value(&mut repl, "big[12345]"), "(char) '\\a'");
    assert_eq!(repl.undo(22), 22);
    assert_eq!(value(&mut repl, "big[12345] + big[1 << 25]"), "(int) 0");
}
