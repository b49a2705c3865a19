/* <signal.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * The synchronous case: signal installs a handler that raise (and abort,
 * for SIGABRT) calls; the handler stays installed (glibc's semantics). A
 * signal without a handler does what Linux's default action does: most
 * end the run with a message naming the signal; SIGCHLD, SIGCONT, SIGURG
 * and SIGWINCH are ignored; stop signals do nothing here. No signal
 * arrives from outside. */
#ifndef _BPF_RUNTIME_SIGNAL_H
#define _BPF_RUNTIME_SIGNAL_H

typedef int sig_atomic_t;
typedef void (*sighandler_t)(int);

#define SIG_DFL ((sighandler_t)0)
#define SIG_IGN ((sighandler_t)1)
#define SIG_ERR ((sighandler_t)-1)

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGIOT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SIGUSR2 12
#define SIGPIPE 13
#define SIGALRM 14
#define SIGTERM 15
#define SIGSTKFLT 16
#define SIGCHLD 17
#define SIGCONT 18
#define SIGSTOP 19
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIGURG 23
#define SIGXCPU 24
#define SIGXFSZ 25
#define SIGVTALRM 26
#define SIGPROF 27
#define SIGWINCH 28
#define SIGIO 29
#define SIGPOLL SIGIO
#define SIGPWR 30
#define SIGSYS 31
#define NSIG 65

sighandler_t signal(int sig, sighandler_t handler);
int raise(int sig);

#endif /* _BPF_RUNTIME_SIGNAL_H */
