// The engine that runs the code: --engine interp|jit|auto, %engine at the
// prompt. Values, faults, backtraces, limits and %undo are the same on
// the interpreter and the JIT.
// bpf-repl-options: --engine jit --budget 1000000
%engine
//> engine: the JIT (native code from Cranelift)
int table[1000];
__attribute__((noinline)) int fill(int n) {
    for (int i = 0; i < n; i++)
        table[i] = i * i;
    return table[n - 1];
}
fill(1000)
//> (int) 998001
table[999] + table[1]
//> (int) 998002
// A store the JIT made is undone like any other.
%undo
//> undid engine.c:13: fill(1000)
table[999]
//> (int) 0
__attribute__((noinline)) int at(int *p, int i) { return p[i]; }
int via(int i) { return at(table, i) + 1; }
via(5000)
//! error: invalid memory access: read of 4 bytes at 0x300004e20: past the end of the data region
//!   #0 at at engine.c:22:58
//!   #1 via at engine.c:23:25
//!   #2 <input 8> at engine.c:24:1
int spin(void) { for (;;) {} return 0; }
spin()
//! error: instruction budget of 1000000 exhausted (runaway loop? raise it with --budget)
//!   #0 spin at engine.c:29:18
//!   #1 <input 10> at engine.c:30:1
// The same inputs on the interpreter fail with the same messages.
%engine interp
//> engine: the interpreter
via(5000)
//! error: invalid memory access: read of 4 bytes at 0x300004e20: past the end of the data region
//!   #0 at at engine.c:22:58
//!   #1 via at engine.c:23:25
//!   #2 <input 11> at engine.c:37:1
spin()
//! error: instruction budget of 1000000 exhausted (runaway loop? raise it with --budget)
//!   #0 spin at engine.c:29:18
//!   #1 <input 12> at engine.c:42:1
fill(10)
//> (int) 81
// auto interprets first and compiles what is hot.
%engine auto
//> engine: auto (interpret first, compile hot functions with the JIT)
fill(1000)
//> (int) 998001
%engine turbo
//! %engine: unknown engine `turbo` (expected interp, jit or auto)
%engine jit interp
//! usage: %engine [interp|jit|auto]
