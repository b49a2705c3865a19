/* The rest of <pthread.h>: once, rwlock, barrier, keys, trylock,
 * recursive and error-checking mutexes, timed waits, detach, yield. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int inits;
static void init(void) { inits++; }

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t barrier;
static pthread_key_t key;
static int shared, after_barrier, serial;

static void *worker(void *arg)
{
    pthread_once(&once, init);
    pthread_setspecific(key, arg);
    pthread_rwlock_wrlock(&rw);
    shared++;
    pthread_rwlock_unlock(&rw);
    if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        serial++;
    pthread_rwlock_rdlock(&rw);
    after_barrier += shared == 3;
    pthread_rwlock_unlock(&rw);
    sched_yield();
    return pthread_getspecific(key);
}

static int detached_ran;
static void *detached(void *arg) { detached_ran = 1; return arg; }

int main(void)
{
    int fails = 0;
    pthread_key_create(&key, NULL);
    pthread_barrier_init(&barrier, NULL, 3);
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, worker, (void *)(i + 10));
    long keys = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(t[i], &r);
        keys += (long)r;
    }
    fails += inits != 1;
    fails += keys != 33;
    fails += after_barrier != 3;
    fails += serial != 1;
    fails += pthread_getspecific(key) != NULL;

    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    fails += pthread_mutex_trylock(&m) != 0;
    fails += pthread_mutex_trylock(&m) != EBUSY;
    fails += pthread_mutex_unlock(&m) != 0;

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_t r;
    pthread_mutex_init(&r, &a);
    fails += pthread_mutex_lock(&r) || pthread_mutex_lock(&r);
    fails += pthread_mutex_unlock(&r) || pthread_mutex_unlock(&r);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&r, &a);
    pthread_mutex_lock(&r);
    fails += pthread_mutex_lock(&r) != EDEADLK;
    pthread_mutex_unlock(&r);
    fails += pthread_mutex_unlock(&r) != EPERM;

    /* Nobody signals: the wait times out once nothing else can run. */
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec when = { 1, 0 };
    pthread_mutex_lock(&m);
    fails += pthread_cond_timedwait(&c, &m, &when) != ETIMEDOUT;
    pthread_mutex_unlock(&m);

    pthread_t d;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&d, &attr, detached, NULL);
    fails += pthread_join(d, NULL) != EINVAL;
    while (!detached_ran)
        sched_yield();
    fails += !pthread_equal(pthread_self(), pthread_self());
    fails += pthread_join(pthread_self(), NULL) != EDEADLK;
    printf("fails=%d\n", fails);
    return fails;
}
