// Ordinary C that plain BPF refuses runs at the prompt (the IR stage
// lowers it; --strict-bpf or %strict on shows what plain BPF runs), and
// undefined behaviour is a fault at the user's line (%ub off, --no-ub-checks).
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
double third = 1.0 / 3;
printf("%f %.3e %g %a\n", third, third * 1e6, 2.5, 1.0);
//> 0.333333 3.333e+05 2.5 0x1p+0
third * 3 == 1.0
//> (int) 1
struct point { double x, y; };
struct point mid(struct point a, struct point b) {
    struct point m = { (a.x + b.x) / 2, (a.y + b.y) / 2 };
    return m;
}
mid((struct point){0, 0}, (struct point){3, 5})
//> (struct point) {.x = 1.5, .y = 2.5}
struct big { long v[16]; };
struct big make(long seed) { struct big b; for (int i = 0; i < 16; i++) b.v[i] = seed + i; return b; }
make(100).v[15]
//> (long) 115
int sum(int n, ...) {
    va_list ap;
    va_start(ap, n);
    int s = 0;
    for (int i = 0; i < n; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}
sum(6, 1, 2, 3, 4, 5, 6)
//> (int) 21
long seven(long a, long b, long c, long d, long e, long f, long g) { return a + b + c + d + e + f + g; }
seven(1, 2, 3, 4, 5, 6, 7)
//> (long) 28
printf("%d %d %d %d %d %d %d %d\n", 1, 2, 3, 4, 5, 6, 7, 8);
//> 1 2 3 4 5 6 7 8
int vla_sum(int n) { int a[n]; for (int i = 0; i < n; i++) a[i] = i; int s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }
vla_sum(100)
//> (int) 4950
unsigned __int128 big = (unsigned __int128)0xffffffffffffffffULL * 0xffffffffffffffffULL;
(unsigned long)(big >> 64)
//> (unsigned long) 18446744073709551614
(unsigned long)(big / 12345678901ULL)
//> (unsigned long) 8237204876921833381
int main(void) { puts("hosted main"); }
main()
//> hosted main
//> (int) 0
// Undefined behaviour is a fault at its line, naming the check.
int zero = 0;
10 / zero
//! error: undefined behaviour: division by zero (or INT_MIN / -1)
//!   #0 <input 26> at fullc.c:52:4
*(int *)0
//! error: undefined behaviour: NULL or misaligned pointer used
//!   #0 <input 27> at fullc.c:55:1
int big_int = 2147483647;
big_int + 1
//! error: undefined behaviour: signed integer overflow
//!   #0 <input 29> at fullc.c:59:9
1 << zero - 1
//! fullc.c:62:11: warning: operator '<<' has lower precedence than '-'; '-' will be evaluated first [-Wshift-op-parentheses]
//!    62 | 1 << zero - 1
//!       |   ~~ ~~~~~^~~
//! fullc.c:62:11: note: place parentheses around the '-' expression to silence this warning
//!    62 | 1 << zero - 1
//!       |           ^  
//!       |      (       )
//! error: undefined behaviour: shift amount out of range
//!   #0 <input 30> at fullc.c:62:3
int arr[4];
arr[zero + 4]
//! error: undefined behaviour: array index out of bounds
//!   #0 <input 32> at fullc.c:73:1
// With the checks off, C's silent values come back.
%ub off
//> undefined-behaviour checks are off for later inputs
10 / zero
//> (int) 0
%ub on
//> undefined-behaviour checks are on for later inputs
// Strict mode names what plain BPF cannot run, and why.
%strict on
//> strict mode is on: later inputs may use only what plain BPF runs
double half(double x) { return x / 2; }
//! fullc.c:86:34: error: floating-point multiplication is not allowed under --strict-bpf (plain BPF cannot run it; compile without --strict-bpf to use bpf-repl's ABI) (in function half)
//! note: strict mode is on (--strict-bpf or %strict on); %strict off compiles with bpf-repl's ABI
%strict off
//> strict mode is off: later inputs use bpf-repl's ABI (all of C)
double half(double x) { return x / 2; }
half(3)
//> (double) 1.5
