// The session as clang sees it (issue 12): tags, ordinary identifiers and
// macros live in separate namespaces; declarations made through macros or
// attributes persist; values of every kind print; warnings stay visible;
// %undo counts only inputs that changed something.
int pt = 4;
struct pt { int a; };
pt
//> (int) 4
struct pq { int a; };
int pq = 5;
pq
//> (int) 5
struct pq w = {7};
w.a
//> (int) 7
#define INT int
INT x = 3;
x
//> (int) 3
#define DEF(n) int n = 0
DEF(c);
c
//> (int) 0
[[maybe_unused]] int z = 4;
z
//> (int) 4
#define ATTR static
int ATTR f() { static int calls; return ++calls; }
f() + f()
//> (int) 3
// A compound literal lives in the run function: its value is copied out.
(int[3]){5, 6, 7}
//> (int[3]) {5, 6, 7}
(char[]){"abc"}
//> (char[4]) "abc"
struct flags { int a; unsigned c : 3; } fl = {1, 5};
fl.c
//> (unsigned int) 5
// A warning is shown even when the input then faults.
#include <stdio.h>
int *nowhere = 0;
printf("%s\n", 42); *nowhere = 1;
//! session.c:42:16: warning: format specifies type 'char *' but the argument has type 'int' [-Wformat]
//!    42 | printf("%s\n", 42);
//!       |         ~~     ^~
//!       |         %d
//! error: in printf: invalid memory access: read of 1 byte at 0x2a: NULL or unmapped low address
//!   #0 <input 26> at session.c:42:1
// An inspection changes nothing: %undo takes back the assignment.
x = 999;
x
//> (int) 999
%undo
//> undid session.c:50: x = 999;
x
//> (int) 3
// A variable larger than VM memory is refused at its declaration, before
// clang writes an object for it.
char huge[1UL << 34] = {1};
//! session.c:59:1: error: 'huge' is 17179869184 bytes, more than the VM memory limit of 2147483648 bytes (raise it with --memory-limit)
huge[0]
//! session.c:61:1: error: use of undeclared identifier 'huge'
//!    61 | huge[0]
//!       | ^
// A call of a void function, alone (no probe runs for a call of a known
// function; the failed guess brings it).
void nothing(int v) { (void)v; }
%time off
//> times are off
nothing(1)
