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
    // Undo `f()` and `x = 5;`: x is 1 again.
    assert_eq!(repl.undo(2), 2);
    assert_eq!(value(&mut repl, "x"), "(int) 1");
    // Undo `x` and the definition of f: f is unknown to later inputs.
    assert_eq!(repl.undo(2), 2);
    let err = repl.eval("f()", None).unwrap_err().to_string();
    assert!(err.contains("undeclared function 'f'"), "{err}");
    // Redefining a function and undoing brings the old body back.
    repl.eval("int g(void) { return 1; }", None).unwrap();
    repl.eval("int g(void) { return 2; }", None).unwrap();
    assert_eq!(value(&mut repl, "g()"), "(int) 2");
    assert_eq!(repl.undo(2), 2);
    assert_eq!(value(&mut repl, "g()"), "(int) 1");
    // More than there is: everything goes.
    let n = repl.undo(100);
    assert!(n >= 3, "{n}");
    assert!(repl.eval("x", None).is_err());
}
