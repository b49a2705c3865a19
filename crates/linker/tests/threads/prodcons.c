/* Producer/consumer over a bounded buffer with two condition variables. */
#include <pthread.h>
#include <stdio.h>

#define N 4
#define ITEMS 200
static int buf[N], head, count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg)
{
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (count == N)
            pthread_cond_wait(&not_full, &lock);
        buf[(head + count++) % N] = i;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

static void *consumer(void *arg)
{
    long sum = 0, in_order = 1, last = 0;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (count == 0)
            pthread_cond_wait(&not_empty, &lock);
        int v = buf[head];
        head = (head + 1) % N;
        count--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        in_order &= v == last + 1;
        last = v;
        sum += v;
    }
    *(long *)arg = sum;
    return (void *)in_order;
}

int main(void)
{
    pthread_t p, c;
    long sum = 0;
    void *in_order;
    pthread_create(&c, NULL, consumer, &sum);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, &in_order);
    printf("sum=%ld in_order=%ld\n", sum, (long)in_order);
    return sum == ITEMS * (ITEMS + 1) / 2 && in_order ? 0 : 1;
}
