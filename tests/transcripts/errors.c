// Every error leaves the session as it was before the input.
// bpf-repl-options: --budget 1000000
int good = 1;
good + missing
//! errors.c:4:8: error: use of undeclared identifier 'missing'
//!     4 | good + missing
//!       |        ^
good
//> (int) 1
int broken(void) { return 1 }
//! errors.c:10:28: error: expected ';' after return statement
//!    10 | int broken(void) { return 1 }
//!       |                            ^
//!       |                            ;
void uses_undefined(void);
void call_it(void) { uses_undefined(); }
call_it();
//! error: call to `uses_undefined`, which is declared but not defined yet
//!   #0 call_it at errors.c:16:22
//!   #1 <input 7> at errors.c:17:1
int *p = 0;
*p
//! error: undefined behaviour: NULL or misaligned pointer used
//!   #0 <input 9> at errors.c:22:1
__attribute__((noinline)) int deref(int *q) { return *q; }
int outer(void) { return deref((int *)8) + 1; }
outer()
//! error: invalid memory access: read of 4 bytes at 0x8: NULL or unmapped low address
//!   #0 deref at errors.c:25:54
//!   #1 outer at errors.c:26:26
//!   #2 <input 12> at errors.c:27:1
good
//> (int) 1
int loop(void) { for (;;) {} return 0; }
loop()
//! error: instruction budget of 1000000 exhausted (runaway loop? raise it with --budget)
//!   #0 loop at errors.c:34:18
//!   #1 <input 15> at errors.c:35:1
__attribute__((noinline)) int pong(int n);
__attribute__((noinline)) int ping(int n) { return n ? pong(n - 1) + 1 : 0; }
__attribute__((noinline)) int pong(int n) { return n ? ping(n - 1) + 2 : 0; }
ping(100)
//> (int) 150
ping(100000)
//! error: call depth limit of 16384 frames exceeded (runaway recursion? raise it with --max-call-depth)
//!   #0 ping at errors.c:40:56
//!   #1 pong at errors.c:41:56
//!   #2 ping at errors.c:40:56
//!   #3 pong at errors.c:41:56
//!   #4 ping at errors.c:40:56
//!   #5 pong at errors.c:41:56
//!   #6 ping at errors.c:40:56
//!   #7 pong at errors.c:41:56
//!   #8 ping at errors.c:40:56
//!   #9 pong at errors.c:41:56
//!   ... 16370 more frames ...
//!   #16380 ping at errors.c:40:56
//!   #16381 pong at errors.c:41:56
//!   #16382 ping at errors.c:40:56
//!   #16383 <input 20> at errors.c:44:1
good = 2;
good
//> (int) 2
*(int *)0x900000000 = 1
//! error: invalid memory access: write of 4 bytes at 0x900000000: address is not mapped
//!   #0 <input 23> at errors.c:64:21
*(long *)ping
//! error: invalid memory access: read of 8 bytes at 0x100000238: code addresses cannot be read or written
//!   #0 <input 24> at errors.c:67:1
good
//> (int) 2
// A format asking for more than the call passes is a fault, not garbage.
int printf(const char *, ...);
printf("%d %d %d %d %d %d\n", 1, 2, 3, 4, 5);
//! errors.c:74:25: warning: more '%' conversions than data arguments [-Wformat-insufficient-args]
//!    74 | printf("%d %d %d %d %d %d\n", 1, 2, 3, 4, 5);
//!       |                        ~^
//! error: printf: the format asks for argument 6 after the format, but the call passed 5
//!   #0 <input 27> at errors.c:74:1
good
//> (int) 2
