/* signal and raise in the synchronous case. */
#include <signal.h>
#include <stdio.h>

static volatile sig_atomic_t seen;
static void handler(int sig)
{
    seen = sig;
    printf("handler got %d\n", sig);
}

int main(void)
{
    printf("old handler is default %d\n", signal(SIGUSR1, handler) == SIG_DFL);
    int r = raise(SIGUSR1);
    printf("raise %d, seen %d\n", r, seen);
    printf("still installed %d\n", signal(SIGUSR1, SIG_IGN) == handler);
    printf("ignored raise %d\n", raise(SIGUSR1));
    printf("SIGCHLD default is ignored: %d\n", raise(SIGCHLD));
    printf("SIGKILL cannot be caught: %d\n", signal(SIGKILL, handler) == SIG_ERR);
    printf("bad signal: %d\n", raise(1000));
    signal(SIGTERM, handler);
    raise(SIGTERM);
    return seen == SIGTERM ? 0 : 1;
}
