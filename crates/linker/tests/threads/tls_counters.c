/* Thread-local counters: every thread starts from the initial value and
 * counts in its own instance; &var differs per thread. */
#include <pthread.h>
#include <stdio.h>

_Thread_local long counter = 1000;
static __thread int zeroed;
static long seen_main;
static pthread_barrier_t alive; /* all three alive at once: distinct blocks */

static void *count(void *arg)
{
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        counter++;
        zeroed++;
    }
    if (counter != 1000 + n || zeroed != n)
        return (void *)-1;
    pthread_barrier_wait(&alive);
    return &counter; /* this thread's address */
}

int main(void)
{
    pthread_t t[3];
    counter = 5;
    pthread_barrier_init(&alive, NULL, 3);
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, count, (void *)(100 * (i + 1)));
    void *addr[3];
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], &addr[i]);
    seen_main = counter;
    int distinct = addr[0] != addr[1] && addr[1] != addr[2] && addr[0] != (void *)&counter;
    int ok = addr[0] != (void *)-1 && addr[1] != (void *)-1 && addr[2] != (void *)-1;
    printf("main=%ld zeroed=%d distinct=%d ok=%d\n", seen_main, zeroed, distinct, ok);
    return seen_main == 5 && zeroed == 0 && distinct && ok ? 0 : 1;
}
