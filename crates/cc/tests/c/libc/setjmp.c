/* setjmp/longjmp through several frames, out of callbacks, repeatedly. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf env;
static int depth_reached;

static void dive(int depth)
{
    char pad[64];
    pad[depth % 64] = (char)depth;
    depth_reached = depth + pad[depth % 64] * 0;
    if (depth == 20)
        longjmp(env, depth);
    dive(depth + 1);
}

static int jumps;
static int compare(const void *a, const void *b)
{
    if (*(const int *)a == 13 || *(const int *)b == 13)
        longjmp(env, -1);
    return *(const int *)a - *(const int *)b;
}

static long try_divide(long a, long b, jmp_buf fail)
{
    if (b == 0)
        longjmp(fail, 1);
    return a / b;
}

int main(void)
{
    volatile int rounds = 0;
    int r = setjmp(env);
    printf("setjmp returned %d (round %d, depth %d)\n", r, rounds, depth_reached);
    if (rounds++ == 0)
        dive(1);

    int v[] = {5, 3, 13, 1};
    if ((r = setjmp(env)) == 0)
        qsort(v, 4, sizeof v[0], compare);
    else
        printf("left qsort's comparison with %d\n", r);

    volatile int count = 0;
    if (setjmp(env) < 5) {
        count++;
        longjmp(env, count);
    }
    printf("looped %d times\n", count);

    if (setjmp(env) == 0)
        longjmp(env, 0);
    else
        printf("longjmp(env, 0) makes setjmp return 1\n");

    jmp_buf fail;
    long results[3];
    long divisors[] = {4, 0, -2};
    for (int i = 0; i < 3; i++) {
        if (setjmp(fail)) {
            results[i] = -999;
            continue;
        }
        results[i] = try_divide(100, divisors[i], fail);
    }
    printf("divisions %ld %ld %ld\n", results[0], results[1], results[2]);
    (void)jumps;
    return 0;
}
