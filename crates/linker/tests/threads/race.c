/* A deliberate data race: four threads increment a plain counter. */
#include <pthread.h>
#include <stdio.h>

static volatile long counter;

static void *bump(void *arg)
{
    for (int i = 0; i < 20000; i++)
        counter = counter + 1;
    return arg;
}

int main(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, bump, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("%ld\n", counter);
    return 0;
}
