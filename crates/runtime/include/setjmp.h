/* <setjmp.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * setjmp records where the calling function is (the VM keeps the call
 * stack; the jmp_buf holds a token naming the record), and longjmp goes
 * back there through any number of BPF frames, as C says: setjmp then
 * returns longjmp's value (1 for 0), the function's callee-saved state is
 * as it was, and local variables changed since setjmp are indeterminate
 * unless volatile. A longjmp to a function that has returned, or with a
 * jmp_buf setjmp never filled, stops the program with a message. There
 * are no signal masks, so sigsetjmp/siglongjmp are the same. */
#ifndef _BPF_RUNTIME_SETJMP_H
#define _BPF_RUNTIME_SETJMP_H

typedef struct __bpf_jmp_buf {
    unsigned long long __token;
} jmp_buf[1];
typedef jmp_buf sigjmp_buf;

int setjmp(jmp_buf env) __attribute__((__returns_twice__));
int _setjmp(jmp_buf env) __attribute__((__returns_twice__));
int sigsetjmp(sigjmp_buf env, int savemask) __attribute__((__returns_twice__));
void longjmp(jmp_buf env, int value) __attribute__((__noreturn__));
void _longjmp(jmp_buf env, int value) __attribute__((__noreturn__));
void siglongjmp(sigjmp_buf env, int value) __attribute__((__noreturn__));

#endif /* _BPF_RUNTIME_SETJMP_H */
