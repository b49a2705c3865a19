/* Micro-benchmarks of the thread support: run(MODE, N).
 *   0: N loop iterations adding to a global (baseline)
 *   1: N iterations adding to a thread-local variable
 *   2: N uncontended pthread_mutex_lock/unlock pairs (a second thread exists)
 *   3: N sched_yield calls, each a context switch to a second thread that
 *      yields back (2N switches in all)
 * Built natively (gcc -O2 -pthread) it takes MODE and N from argv. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

static volatile long global;
static _Thread_local volatile long local;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;

static void *partner(void *arg)
{
    while (!stop)
        sched_yield();
    return arg;
}

int run(long mode, long n)
{
    pthread_t t;
    int threaded = mode >= 2;
    if (threaded)
        pthread_create(&t, NULL, partner, NULL);
    for (long i = 0; i < n; i++) {
        switch (mode) {
        case 0: global += i; break;
        case 1: local += i; break;
        case 2: pthread_mutex_lock(&m); global += i; pthread_mutex_unlock(&m); break;
        default: global += i; sched_yield(); break;
        }
    }
    stop = 1;
    if (threaded)
        pthread_join(t, NULL);
    printf("%ld\n", global + local);
    return 0;
}

#ifndef __bpf__
#include <stdlib.h>
int main(int argc, char **argv)
{
    return argc < 3 ? 2 : run(atol(argv[1]), atol(argv[2]));
}
#endif
