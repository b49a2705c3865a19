// A second thread writes one past the end of a global array: the report
// names the thread and the global, as in the main thread.
#include <pthread.h>
int first[4];
int second[4];
void *work(void *i) { first[(long)i] = 1; return 0; }
int main(void) {
    pthread_t t;
    pthread_create(&t, 0, work, (void *)4);
    pthread_join(t, 0);
    return second[0];
}
