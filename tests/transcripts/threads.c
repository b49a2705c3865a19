// Threads (<pthread.h>, <threads.h>): they run on the VM's deterministic
// scheduler (--sched-seed picks the interleaving), and a thread an input
// leaves running goes on in later inputs.
#include <pthread.h>
#include <stdio.h>
int counter;
pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
void *work(void *arg) {
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return arg;
}
pthread_t t[4];
for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, work, (void *)i);
// The threads are waiting to run: %threads shows where each is.
%threads
//> thread 2: runnable
//>   #0 work at threads.c:8
//> thread 3: runnable
//>   #0 work at threads.c:8
//> thread 4: runnable
//>   #0 work at threads.c:8
//> thread 5: runnable
//>   #0 work at threads.c:8
void *ret;
for (int i = 0; i < 4; i++) pthread_join(t[i], &ret);
counter
//> (int) 4000
(long)ret
//> (long) 3
// Each thread has its own copy of a thread-local variable.
_Thread_local int mine = 5;
void *bump(void *a) { mine += (long)a; printf("thread sees %d\n", mine); return 0; }
pthread_create(&t[0], 0, bump, (void *)10); pthread_join(t[0], 0);
//> thread sees 15
mine
//> (int) 5
// A deadlock is reported with what each thread waits for and where; the
// input is rolled back and the session goes on.
pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
void *ab(void *x) { pthread_mutex_lock(&a); sched_yield(); pthread_mutex_lock(&b); return 0; }
void *ba(void *x) { pthread_mutex_lock(&b); sched_yield(); pthread_mutex_lock(&a); return 0; }
pthread_create(&t[0], 0, ab, 0); pthread_create(&t[1], 0, ba, 0); pthread_join(t[0], 0);
//! error: deadlock: every thread is blocked
//!   thread 1 waits for thread 7 to finish (pthread_join)
//!     #0 <input 19> at threads.c:46:67
//!   thread 7 waits for mutex `b` (held by thread 8)
//!     #0 ab at threads.c:44:60
//!   thread 8 waits for mutex `a` (held by thread 7)
//!     #0 ba at threads.c:45:60
counter
//> (int) 4000
// A thread left running goes on in later inputs, survives a failing
// input, and %undo of the input that started it takes it away.
volatile int ticks;
void *ticker(void *x) { for (;;) { ticks++; sched_yield(); } }
pthread_create(&t[2], 0, ticker, 0);
%threads
//> thread 7: runnable
//>   #0 ticker at threads.c:59:41
while (ticks < 3) sched_yield();
ticks >= 3
//> (int) 1
*(int *)0 = 1;
//! error: in thread 1: undefined behaviour: NULL or misaligned pointer used
//!   #0 <input 26> at threads.c:67:11
%threads
//> thread 7: runnable
//>   #0 ticker at threads.c:59:41
%undo 4
//> undid threads.c:64: while (ticks < 3) sched_yield();
//> undid threads.c:60: pthread_create(&t[2], 0, ticker, 0);
//> undid threads.c:59: void *ticker(void *x) { for (;;) { ticks++; sch...
//> undid threads.c:58: volatile int ticks;
%threads
//> no threads besides the inputs' own
