/* Returning from main runs the atexit functions too. */
#include <stdio.h>
#include <stdlib.h>

static int value = 7;
static void report(void) { printf("atexit sees value %d\n", value); }

int main(void)
{
    printf("atexit %d\n", atexit(report));
    value = 11;
    return 0;
}
