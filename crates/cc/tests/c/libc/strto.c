/* The strto* family with end pointers and errno, atoi/atol/atoll. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ints[] = {
    "0", "42", "  -17xyz", "+9", "0x1F", "0X", "017", "09", "z", "", "-",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "99999999999999999999999", "18446744073709551615",
    "18446744073709551616", "-1", "  +0x7fffffffffffffff", "1e5", "0b101",
};
static const int bases[] = {0, 2, 8, 10, 16, 36, 1, 37};

static const char *floats[] = {
    "0", "1.5", "-2.25e3", ".5", "5.", "1e", "1e+", "0x1p-3", "0x1.8p1", "inf", "-INFINITY",
    "nan", "nan(123)", "1e309", "-1e309", "1e-320", "1e-330", "2.2250738585072011e-308",
    "4.9406564584124654e-324", "0x1p-1074", "0x1.8p-1074", "0x1p-1080", "3.4e38", "3.5e38",
    "1e-45", "1.4e-45", "0.000", "abc", "  +.e1",
};

int main(void)
{
    int divs[][2] = {{7, 2}, {-7, 2}, {7, -2}, {-7, -2}, {0, 5}, {2147483647, 1}};
    for (unsigned i = 0; i < sizeof divs / sizeof divs[0]; i++) {
        div_t d = div(divs[i][0], divs[i][1]);
        ldiv_t l = ldiv(divs[i][0] * 1000000000L, divs[i][1]);
        lldiv_t ll = lldiv(divs[i][0], divs[i][1] * 3LL);
        imaxdiv_t im = imaxdiv(divs[i][0], 5);
        printf("div %d %d ldiv %ld %ld lldiv %lld %lld imaxdiv %jd %jd\n", d.quot, d.rem, l.quot,
               l.rem, ll.quot, ll.rem, im.quot, im.rem);
    }
    printf("getenv %p\n", (void *)getenv("BPF_REPL_TEST_SURELY_UNSET"));
    char small[8], buf[64];
    int rc = strerror_r(ENOENT, small, sizeof small);
    printf("strerror_r small: %d [%s]\n", rc, small);
    rc = strerror_r(EDOM, buf, sizeof buf);
    printf("strerror_r: %d [%s]\n", rc, buf);
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        for (unsigned b = 0; b < sizeof bases / sizeof bases[0]; b++) {
            char *end;
            errno = 0;
            long v = strtol(ints[i], &end, bases[b]);
            int e1 = errno;
            errno = 0;
            unsigned long u = strtoul(ints[i], NULL, bases[b]);
            int e2 = errno;
            printf("[%s] base %d: strtol %ld end %ld errno %d | strtoul %lu errno %d\n", ints[i],
                   bases[b], v, (long)(end - ints[i]), e1, u, e2);
        }
        /* Through pointers: compilers assume atoi leaves errno alone, but
         * glibc's (strtol's) sets it. */
        int (*volatile atoi_p)(const char *) = atoi;
        long (*volatile atol_p)(const char *) = atol;
        long long (*volatile atoll_p)(const char *) = atoll;
        errno = 0;
        int a = atoi_p(ints[i]);
        long al = atol_p(ints[i]);
        long long all = atoll_p(ints[i]);
        printf("  atoi %d atol %ld atoll %lld errno %d\n", a, al, all, errno);
        errno = 0;
        intmax_t m = strtoimax(ints[i], NULL, 10);
        uintmax_t um = strtoumax(ints[i], NULL, 10);
        printf("  strtoimax %jd strtoumax %ju errno %d\n", m, um, errno);
    }
    for (unsigned i = 0; i < sizeof floats / sizeof floats[0]; i++) {
        char *end;
        errno = 0;
        double d = strtod(floats[i], &end);
        int e1 = errno;
        errno = 0;
        float f = strtof(floats[i], NULL);
        int e2 = errno;
        /* (strtold is not compared: long double is 80 bits on x86-64, 64 on BPF.) */
        printf("[%s] strtod %a end %ld errno %d | strtof %a errno %d | atof %g\n", floats[i], d,
               (long)(end - floats[i]), e1, (double)f, e2, atof(floats[i]));
    }
    return 0;
}
