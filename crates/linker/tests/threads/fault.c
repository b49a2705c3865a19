/* A thread that faults (no argument) or never ends (an argument). */
#include <pthread.h>

static void *bad(void *p) { return (void *)(long)*(int *)p; }
static void *spin(void *p)
{
    for (volatile int i = 0;; i++)
        ;
    return p;
}

int run(long forever)
{
    pthread_t t;
    pthread_create(&t, NULL, forever ? spin : bad, NULL);
    pthread_join(t, NULL);
    return 0;
}
