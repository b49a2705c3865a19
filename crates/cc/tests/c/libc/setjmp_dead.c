/* longjmp across several frames, then to a function that has returned:
   the run stops with an error instead of jumping into a dead frame. */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf env;

__attribute__((noinline)) static int dive(int n)
{
    volatile char pad[32];
    pad[n % 32] = (char)n;
    if (n == 0)
        longjmp(env, 7);
    return dive(n - 1) + pad[n % 32];
}

__attribute__((noinline)) static void arm(void)
{
    if (setjmp(env))
        puts("not reached: arm has returned");
}

int main(void)
{
    volatile int r = setjmp(env);
    if (r == 0)
        dive(6);
    printf("back with %d\n", r);
    arm();
    puts("arm returned");
    longjmp(env, 1);
    puts("not reached");
    return 0;
}
