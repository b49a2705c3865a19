/* The POSIX types several headers share, each defined once (a header asks
 * for the ones it needs with __BPF_NEED_<type>, as <stddef.h> does with
 * __need_size_t). glibc's x86-64 sizes. */
#if defined(__BPF_NEED_ssize_t) && !defined(__BPF_HAVE_ssize_t)
#define __BPF_HAVE_ssize_t
typedef long ssize_t;
#endif
#if defined(__BPF_NEED_off_t) && !defined(__BPF_HAVE_off_t)
#define __BPF_HAVE_off_t
typedef long off_t;
#endif
#if defined(__BPF_NEED_time_t) && !defined(__BPF_HAVE_time_t)
#define __BPF_HAVE_time_t
typedef long time_t;
#endif
#if defined(__BPF_NEED_clock_t) && !defined(__BPF_HAVE_clock_t)
#define __BPF_HAVE_clock_t
typedef long clock_t;
#endif
#if defined(__BPF_NEED_clockid_t) && !defined(__BPF_HAVE_clockid_t)
#define __BPF_HAVE_clockid_t
typedef int clockid_t;
#endif
#if defined(__BPF_NEED_pid_t) && !defined(__BPF_HAVE_pid_t)
#define __BPF_HAVE_pid_t
typedef int pid_t;
#endif
#if defined(__BPF_NEED_useconds_t) && !defined(__BPF_HAVE_useconds_t)
#define __BPF_HAVE_useconds_t
typedef unsigned int useconds_t;
#endif
#if defined(__BPF_NEED_suseconds_t) && !defined(__BPF_HAVE_suseconds_t)
#define __BPF_HAVE_suseconds_t
typedef long suseconds_t;
#endif
#if defined(__BPF_NEED_timespec) && !defined(__BPF_HAVE_timespec)
#define __BPF_HAVE_timespec
struct timespec {
    long tv_sec;
    long tv_nsec;
};
#endif
#undef __BPF_NEED_ssize_t
#undef __BPF_NEED_off_t
#undef __BPF_NEED_time_t
#undef __BPF_NEED_clock_t
#undef __BPF_NEED_clockid_t
#undef __BPF_NEED_pid_t
#undef __BPF_NEED_useconds_t
#undef __BPF_NEED_suseconds_t
#undef __BPF_NEED_timespec
