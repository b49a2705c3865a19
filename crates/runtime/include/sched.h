/* <sched.h> for BPF programs run by bpf-repl (bpf-runtime): sched_yield
 * ends the calling thread's slice (see <pthread.h>). */
#ifndef _BPF_RUNTIME_SCHED_H
#define _BPF_RUNTIME_SCHED_H

int sched_yield(void);

#endif
