/* <sys/time.h> for BPF programs run by bpf-repl (bpf-runtime):
 * gettimeofday, from the same clock as <time.h>'s. */
#ifndef _BPF_RUNTIME_SYS_TIME_H
#define _BPF_RUNTIME_SYS_TIME_H

#include <time.h>

#define __BPF_NEED_suseconds_t
#include <__bpf_types.h>

struct timeval {
    time_t tv_sec;
    suseconds_t tv_usec;
};

struct timezone {
    int tz_minuteswest;
    int tz_dsttime;
};

int gettimeofday(struct timeval *__restrict tv, void *__restrict tz);

#endif /* _BPF_RUNTIME_SYS_TIME_H */
