/* A parallel sum: each thread sums a slice, adds it under a mutex. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define LEN 4000
static int data[LEN];
static long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct slice { int from, to; };

static void *sum_slice(void *arg)
{
    struct slice *s = arg;
    for (int i = s->from; i < s->to; i++) {
        pthread_mutex_lock(&lock);
        total += data[i];
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    struct slice parts[THREADS]; /* on main's stack: threads read it */
    pthread_t t[THREADS];
    for (int i = 0; i < LEN; i++)
        data[i] = i % 97;
    long expect = 0;
    for (int i = 0; i < LEN; i++)
        expect += data[i];
    for (int k = 0; k < THREADS; k++) {
        parts[k].from = k * LEN / THREADS;
        parts[k].to = (k + 1) * LEN / THREADS;
        pthread_create(&t[k], NULL, sum_slice, &parts[k]);
    }
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
    printf("total=%ld expect=%ld\n", total, expect);
    return total == expect ? 0 : 1;
}
