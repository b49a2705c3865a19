/* abort() calls a SIGABRT handler, then ends the program anyway. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static void handler(int sig)
{
    printf("handler for %d\n", sig);
    fflush(stdout);
}

int main(void)
{
    signal(SIGABRT, handler);
    printf("before abort\n");
    fflush(stdout);
    abort();
}
