/* <pthread.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Threads run inside the VM under its deterministic scheduler: each has its
 * own registers, stack and thread-local storage over the shared code, data
 * and heap. A thread runs a slice of instructions (--quantum), blocking
 * calls and sched_yield end it early, and the order is a function of
 * --sched-seed: the same seed replays the same interleaving. Every live
 * thread blocked is a deadlock error that lists each thread, what it waits
 * for and where. Timed waits time out only when no thread can run.
 * Not supported: thread cancellation, key destructors (pthread_key_create
 * accepts one and never calls it), process-shared objects. */
#ifndef _BPF_RUNTIME_PTHREAD_H
#define _BPF_RUNTIME_PTHREAD_H

#define __need_NULL
#include <stddef.h>
#include <sched.h>

/* errno values (EBUSY, ETIMEDOUT...) and struct timespec, as glibc's
 * <pthread.h> has them through <time.h>. */
#include <errno.h>
#include <time.h>

typedef unsigned long pthread_t;
typedef struct { int __detached; int __pad; } pthread_attr_t;
typedef struct { int __kind; int __pad[9]; } pthread_mutex_t;
typedef struct { int __kind; } pthread_mutexattr_t;
typedef struct { long __pad[6]; } pthread_cond_t;
typedef struct { int __pad; } pthread_condattr_t;
typedef struct { long __pad[7]; } pthread_rwlock_t;
typedef struct { int __pad; } pthread_rwlockattr_t;
typedef struct { long __pad[4]; } pthread_barrier_t;
typedef struct { int __pad; } pthread_barrierattr_t;
typedef int pthread_once_t;
typedef unsigned int pthread_key_t;

#define PTHREAD_CREATE_JOINABLE 0
#define PTHREAD_CREATE_DETACHED 1
#define PTHREAD_MUTEX_NORMAL 0
#define PTHREAD_MUTEX_RECURSIVE 1
#define PTHREAD_MUTEX_ERRORCHECK 2
#define PTHREAD_MUTEX_DEFAULT PTHREAD_MUTEX_NORMAL
#define PTHREAD_BARRIER_SERIAL_THREAD (-1)
#define PTHREAD_MUTEX_INITIALIZER { 0 }
#define PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP { PTHREAD_MUTEX_RECURSIVE }
#define PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP { PTHREAD_MUTEX_ERRORCHECK }
#define PTHREAD_COND_INITIALIZER { { 0 } }
#define PTHREAD_RWLOCK_INITIALIZER { { 0 } }
#define PTHREAD_ONCE_INIT 0

int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                   void *(*start)(void *), void *arg);
int pthread_join(pthread_t thread, void **result);
int pthread_detach(pthread_t thread);
pthread_t pthread_self(void);
_Noreturn void pthread_exit(void *result);
static inline int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

static inline int pthread_attr_init(pthread_attr_t *a) { a->__detached = 0; return 0; }
static inline int pthread_attr_destroy(pthread_attr_t *a) { (void)a; return 0; }
static inline int pthread_attr_setdetachstate(pthread_attr_t *a, int s)
{
    if (s != PTHREAD_CREATE_JOINABLE && s != PTHREAD_CREATE_DETACHED)
        return EINVAL;
    a->__detached = s;
    return 0;
}
static inline int pthread_attr_getdetachstate(const pthread_attr_t *a, int *s)
{
    *s = a->__detached;
    return 0;
}

int __bpf_sched_mutex_init(pthread_mutex_t *m, int kind);
static inline int pthread_mutexattr_init(pthread_mutexattr_t *a) { a->__kind = 0; return 0; }
static inline int pthread_mutexattr_destroy(pthread_mutexattr_t *a) { (void)a; return 0; }
static inline int pthread_mutexattr_settype(pthread_mutexattr_t *a, int kind)
{
    if (kind < 0 || kind > PTHREAD_MUTEX_ERRORCHECK)
        return EINVAL;
    a->__kind = kind;
    return 0;
}
static inline int pthread_mutexattr_gettype(const pthread_mutexattr_t *a, int *kind)
{
    *kind = a->__kind;
    return 0;
}
static inline int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    return __bpf_sched_mutex_init(m, a ? a->__kind : PTHREAD_MUTEX_NORMAL);
}
int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_mutex_trylock(pthread_mutex_t *m);
int pthread_mutex_unlock(pthread_mutex_t *m);
int pthread_mutex_destroy(pthread_mutex_t *m);

static inline int pthread_condattr_init(pthread_condattr_t *a) { (void)a; return 0; }
static inline int pthread_condattr_destroy(pthread_condattr_t *a) { (void)a; return 0; }
int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
int pthread_cond_destroy(pthread_cond_t *c);
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                           const struct timespec *abstime);
int pthread_cond_signal(pthread_cond_t *c);
int pthread_cond_broadcast(pthread_cond_t *c);

int __bpf_sched_once_begin(pthread_once_t *once);
int __bpf_sched_once_end(pthread_once_t *once);
static inline int pthread_once(pthread_once_t *once, void (*init)(void))
{
    if (__bpf_sched_once_begin(once)) {
        init();
        __bpf_sched_once_end(once);
    }
    return 0;
}

int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *a);
static inline int pthread_rwlock_destroy(pthread_rwlock_t *rw) { (void)rw; return 0; }
int pthread_rwlock_rdlock(pthread_rwlock_t *rw);
int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw);
int pthread_rwlock_wrlock(pthread_rwlock_t *rw);
int pthread_rwlock_trywrlock(pthread_rwlock_t *rw);
int pthread_rwlock_unlock(pthread_rwlock_t *rw);

int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a,
                         unsigned count);
static inline int pthread_barrier_destroy(pthread_barrier_t *b) { (void)b; return 0; }
int pthread_barrier_wait(pthread_barrier_t *b);

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *));
int pthread_key_delete(pthread_key_t key);
void *pthread_getspecific(pthread_key_t key);
int pthread_setspecific(pthread_key_t key, const void *value);

#endif
