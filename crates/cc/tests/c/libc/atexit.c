/* exit() runs the atexit functions, last registered first. */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("first registered, called last\n"); }
static void second(void) { printf("second\n"); }
static void third(void)
{
    printf("third registers another\n");
    atexit(second);
}

int main(void)
{
    atexit(first);
    atexit(second);
    atexit(third);
    printf("main calls exit(3)\n");
    fflush(stdout);
    exit(3);
}
