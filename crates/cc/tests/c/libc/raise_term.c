/* raise() of a signal nobody handles ends the program. */
#include <signal.h>
#include <stdio.h>

int main(void)
{
    printf("raising\n");
    raise(SIGTERM);
    printf("not reached\n");
    return 0;
}
