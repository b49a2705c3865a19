// Functions: multi-line definitions, recursion, redefinition, pointers.
int fib(int n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}
fib(10)
//> (int) 55
fib(20)
//> (int) 6765
int twice(int x) { return 2 * x; }
int apply(int (*f)(int), int v) { return f(v); }
apply(twice, 21)
//> (int) 42
int (*saved)(int) = twice;
saved(4)
//> (int) 8
// Redefinition reaches old callers and stored pointers.
int twice(int x) { return 3 * x; }
apply(twice, 21)
//> (int) 63
saved(4)
//> (int) 12
saved == twice
//> (int) 1
static int helper(int x) { return x + 100; }
helper(1)
//> (int) 101
long sum_to(long n) {
    long s = 0;
    for (long i = 1; i <= n; i++)
        s += i;
    return s;
}
sum_to(100000)
//> (long) 5000050000
sum_to(10)
//> (long) 55
long div_mod(long a, long b) { return a / b * 1000 + a % b; }
div_mod(-17, 5)
//> (long) -3002
// A function may call one that is defined later.
int later(int x);
int early(int x) { return later(x) * 2; }
early(1)
//! error: call to `later`, which is declared but not defined yet
//!   #0 early at functions.c:45:27
//!   #1 <input 22> at functions.c:46:1
int later(int x) { return x + 20; }
early(1)
//> (int) 42
// A function used as a value prints as the pointer it decays to.
later
//> (int (*)(int)) 0x100000840 <later>
*later
//> (int (*)(int)) 0x100000840 <later>
&later == later
//> (int) 1
// Floating point at run time: the runtime's IEEE helpers (docs/abi.md).
double half = 0.5;
half * 3
//> (double) 1.5
int truncated = half * 5;
truncated
//> (int) 2
// A redefinition reaches callers compiled in the same input.
int step(int x) { return x + 1; } int steps(int x) { return step(step(x)); }
steps(0)
//> (int) 2
int step(int x) { return x + 10; }
steps(0)
//> (int) 20
// A helper used as a value: the address of a trampoline into the runtime.
#include <stdio.h>
printf
//> (int (*)(const char *, ...)) 0x100000cb0 <printf>
