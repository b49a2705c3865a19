/* errno from <math.h> functions, as glibc's libm sets it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        errno = 0;                                                                                 \
        double v_ = (expr);                                                                        \
        printf("%-22s = %-12g errno %d\n", #expr, v_, errno);                                      \
    } while (0)

int main(void)
{
    volatile double zero = 0.0, big = 1000.0, neg = -1.0;
    TRY(log(zero));
    TRY(log(neg));
    TRY(sqrt(neg));
    TRY(exp(big));
    TRY(exp(-big));
    TRY(pow(zero, neg));
    TRY(pow(10.0, 400.0));
    TRY(pow(neg, 0.5));
    TRY(acos(2.0 + zero));
    TRY(fmod(1.0, zero));
    TRY(lgamma(zero));
    TRY(tgamma(-1.0 + zero));
    TRY(cosh(big));
    TRY(atan2(zero, zero));
    TRY(sin(big));
    TRY((double)logf((float)zero));
    TRY((double)expf(100.0f + (float)zero));
    printf("math_errhandling %d\n", math_errhandling & MATH_ERRNO);
    return 0;
}
