/* <time.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Clocks come from the host, or from a deterministic clock (bpf-repl's
 * --deterministic-time) that starts at 2024-01-01 00:00:00 UTC and moves
 * one microsecond at every read, with all conversions in UTC, so output
 * does not change between runs. Calendar conversions and strftime are
 * glibc's (the host's time zone, or UTC). sleep/nanosleep never block:
 * they move the program's clocks forward. struct tm has glibc's layout,
 * tm_gmtoff and tm_zone included. */
#ifndef _BPF_RUNTIME_TIME_H
#define _BPF_RUNTIME_TIME_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

#define __BPF_NEED_time_t
#define __BPF_NEED_clock_t
#define __BPF_NEED_clockid_t
#define __BPF_NEED_timespec
#include <__bpf_types.h>

struct tm {
    int tm_sec;
    int tm_min;
    int tm_hour;
    int tm_mday;
    int tm_mon;
    int tm_year;
    int tm_wday;
    int tm_yday;
    int tm_isdst;
    long tm_gmtoff;
    const char *tm_zone;
};

#define CLOCKS_PER_SEC ((clock_t)1000000)
#define TIME_UTC 1
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7

time_t time(time_t *t);
clock_t clock(void);
double difftime(time_t t1, time_t t0);
int clock_gettime(clockid_t id, struct timespec *ts);
int clock_getres(clockid_t id, struct timespec *res);
int timespec_get(struct timespec *ts, int base);
int nanosleep(const struct timespec *req, struct timespec *rem);

struct tm *gmtime(const time_t *t);
struct tm *gmtime_r(const time_t *__restrict t, struct tm *__restrict out);
struct tm *localtime(const time_t *t);
struct tm *localtime_r(const time_t *__restrict t, struct tm *__restrict out);
time_t mktime(struct tm *tm);
time_t timegm(struct tm *tm);
size_t strftime(char *__restrict s, size_t max, const char *__restrict format,
                const struct tm *__restrict tm) __attribute__((__format__(__strftime__, 3, 0)));
char *asctime(const struct tm *tm);
char *asctime_r(const struct tm *__restrict tm, char *__restrict buf);
char *ctime(const time_t *t);
char *ctime_r(const time_t *__restrict t, char *__restrict buf);

#endif /* _BPF_RUNTIME_TIME_H */
