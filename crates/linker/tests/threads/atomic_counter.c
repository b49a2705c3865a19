/* 8 threads increment one atomic counter (C11 <threads.h>, <stdatomic.h>). */
#include <stdatomic.h>
#include <stdio.h>
#include <threads.h>

#define PER_THREAD 5000
static atomic_long counter;
static long plain_sync;

static int bump(void *arg)
{
    for (int i = 0; i < PER_THREAD; i++) {
        atomic_fetch_add(&counter, 1);
        __sync_fetch_and_add(&plain_sync, 2);
    }
    return (int)(long)arg;
}

int main(void)
{
    thrd_t t[8];
    for (long i = 0; i < 8; i++)
        if (thrd_create(&t[i], bump, (void *)i) != thrd_success)
            return 2;
    int ids = 0;
    for (int i = 0; i < 8; i++) {
        int r;
        thrd_join(t[i], &r);
        ids += r;
    }
    long c = atomic_load(&counter);
    printf("counter=%ld sync=%ld ids=%d\n", c, plain_sync, ids);
    return c == 8 * PER_THREAD && plain_sync == 16 * PER_THREAD && ids == 28 ? 0 : 1;
}
