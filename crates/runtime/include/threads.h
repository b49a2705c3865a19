/* <threads.h> (C11) for BPF programs run by bpf-repl (bpf-runtime): the
 * same threads, mutexes and condition variables as <pthread.h>, under the
 * VM's deterministic scheduler. thrd_sleep yields (time does not pass on
 * its own in the VM); mtx_timedlock waits like mtx_lock. */
#ifndef _BPF_RUNTIME_THREADS_H
#define _BPF_RUNTIME_THREADS_H

#include <pthread.h>

enum { thrd_success = 0, thrd_nomem = 1, thrd_timedout = 2, thrd_busy = 3, thrd_error = 4 };
enum { mtx_plain = 0, mtx_recursive = 1, mtx_timed = 2 };

typedef pthread_t thrd_t;
typedef int (*thrd_start_t)(void *);
typedef pthread_mutex_t mtx_t;
typedef pthread_cond_t cnd_t;
typedef pthread_key_t tss_t;
typedef void (*tss_dtor_t)(void *);
typedef pthread_once_t once_flag;
#define ONCE_FLAG_INIT PTHREAD_ONCE_INIT
#define TSS_DTOR_ITERATIONS 4
#ifndef thread_local
#define thread_local _Thread_local
#endif

static inline int __bpf_thrd_result(int e)
{
    return e == 0 ? thrd_success : e == EBUSY ? thrd_busy : e == ETIMEDOUT ? thrd_timedout
                                                                         : thrd_error;
}

int __bpf_sched_join32(thrd_t thr, int *res);

static inline int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
    return __bpf_thrd_result(pthread_create(thr, 0, (void *(*)(void *))func, arg));
}
static inline int thrd_join(thrd_t thr, int *res) { return __bpf_thrd_result(__bpf_sched_join32(thr, res)); }
static inline int thrd_detach(thrd_t thr) { return __bpf_thrd_result(pthread_detach(thr)); }
static inline thrd_t thrd_current(void) { return pthread_self(); }
static inline int thrd_equal(thrd_t a, thrd_t b) { return a == b; }
static inline void thrd_yield(void) { sched_yield(); }
static inline int thrd_sleep(const struct timespec *d, struct timespec *rem)
{
    (void)d;
    if (rem) {
        rem->tv_sec = 0;
        rem->tv_nsec = 0;
    }
    sched_yield();
    return 0;
}
_Noreturn static inline void thrd_exit(int res) { pthread_exit((void *)(long)res); }

static inline int mtx_init(mtx_t *m, int type)
{
    return __bpf_thrd_result(__bpf_sched_mutex_init(m, (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE
                                                                              : PTHREAD_MUTEX_NORMAL));
}
static inline int mtx_lock(mtx_t *m) { return __bpf_thrd_result(pthread_mutex_lock(m)); }
static inline int mtx_timedlock(mtx_t *m, const struct timespec *t) { (void)t; return mtx_lock(m); }
static inline int mtx_trylock(mtx_t *m) { return __bpf_thrd_result(pthread_mutex_trylock(m)); }
static inline int mtx_unlock(mtx_t *m) { return __bpf_thrd_result(pthread_mutex_unlock(m)); }
static inline void mtx_destroy(mtx_t *m) { pthread_mutex_destroy(m); }

static inline int cnd_init(cnd_t *c) { return __bpf_thrd_result(pthread_cond_init(c, 0)); }
static inline int cnd_signal(cnd_t *c) { return __bpf_thrd_result(pthread_cond_signal(c)); }
static inline int cnd_broadcast(cnd_t *c) { return __bpf_thrd_result(pthread_cond_broadcast(c)); }
static inline int cnd_wait(cnd_t *c, mtx_t *m) { return __bpf_thrd_result(pthread_cond_wait(c, m)); }
static inline int cnd_timedwait(cnd_t *c, mtx_t *m, const struct timespec *t)
{
    return __bpf_thrd_result(pthread_cond_timedwait(c, m, t));
}
static inline void cnd_destroy(cnd_t *c) { pthread_cond_destroy(c); }

static inline int tss_create(tss_t *key, tss_dtor_t dtor) { return __bpf_thrd_result(pthread_key_create(key, dtor)); }
static inline void *tss_get(tss_t key) { return pthread_getspecific(key); }
static inline int tss_set(tss_t key, void *v) { return __bpf_thrd_result(pthread_setspecific(key, v)); }
static inline void tss_delete(tss_t key) { pthread_key_delete(key); }

static inline void call_once(once_flag *flag, void (*func)(void)) { pthread_once(flag, func); }

#endif
