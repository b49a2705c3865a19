/* Thread-local storage for bpf-repl (docs/abi.md, "Thread-local storage").
 *
 * clang refuses _Thread_local, __thread and thread_local for the BPF
 * target ("thread-local storage is not supported for the current target"):
 * its BPF target declares no TLS, and that is checked before any flag could
 * matter. bpf-cc includes this header first in every file (-include): the
 * keywords become a section attribute that marks the variable, and bpf-cc's
 * IR stage gives every thread its own instance (thread pointer + offset).
 *
 * A thread-local variable needs static storage, as in C: at block scope,
 * write `static _Thread_local int x;` (without `static`, clang reports that
 * the section attribute applies to global variables only). */
#ifndef __BPF_TLS_H
#define __BPF_TLS_H
#pragma clang system_header

#define __bpf_thread_local __attribute__((__section__(".bpf_repl.tls")))
#define __thread __bpf_thread_local
#define _Thread_local __bpf_thread_local
/* C23 keyword; <threads.h>'s macro before C23. */
#ifndef thread_local
#define thread_local __bpf_thread_local
#endif

#endif
