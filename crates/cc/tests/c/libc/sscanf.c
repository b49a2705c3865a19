/* sscanf: conversions, widths, suppression, %n, scansets, failures. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ints(const char *in, const char *fmt)
{
    int a = -1, b = -1, n = -1;
    int r = sscanf(in, fmt, &a, &b, &n);
    printf("[%s] %-12s -> %d: %d %d %d\n", in, fmt, r, a, b, n);
}

int main(void)
{
    ints("12 34", "%d %d%n");
    ints("12,34", "%d,%d%n");
    ints("12 ,34", "%d ,%d%n");
    ints("  -7+8", "%d%d%n");
    ints("0x1f 010", "%i %i%n");
    ints("0x1f 010", "%x %o%n");
    ints("0xz", "%x%n%d");
    ints("123456", "%2d%3d%n");
    ints("abc", "%d%d%n");
    ints("", "%d%d%n");
    ints("   ", "%d%d%n");
    ints("5", "%d%d%n");
    ints("-", "%d%n%d");
    ints("+-3", "%d%n%d");
    ints("99999999999999999999", "%d%n%d");
    ints("4294967295 -1", "%u %u%n");
    ints("7 8", "%*d %d%n");
    ints("1%2", "%d%%%d%n");
    ints("1 % 2", "%d %% %d%n");
    ints("x1", "x%d%n%d");
    ints("y1", "x%d%n%d");

    short h;
    signed char hh;
    long l;
    long long ll;
    unsigned long ul;
    int r = sscanf("70000 300 -5000000000 123456789012 ffffffff", "%hd %hhd %ld %lld %lx", &h, &hh,
                   &l, &ll, &ul);
    printf("lengths %d: %d %d %ld %lld %lx\n", r, h, hh, l, ll, ul);
    size_t z;
    ptrdiff_t t;
    long long j;
    r = sscanf("12 -34 56", "%zu %td %jd", &z, &t, &j);
    printf("zu td jd %d: %zu %td %lld\n", r, z, t, j);
    void *p = (void *)1;
    r = sscanf("0x1234", "%p", &p);
    printf("%%p %d: %p\n", r, p);
    r = sscanf("(nil)", "%p", &p);
    printf("%%p nil %d: %p\n", r, p);

    float f = 0;
    double d = 0, e = 0;
    const char *fl[] = {"3.25", "-1e3", "1e", "100ergs", ".5e-2x", "0x1.8p1", "0x", "inf", "-infinity",
                        "infin", "nan", "nanx", "nax", "-", "+.5", "1.2.3", "1e+x", "12e-"};
    for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        int n = -1;
        d = -99;
        r = sscanf(fl[i], "%lf%n", &d, &n);
        printf("[%s] %%lf -> %d: %a %d\n", fl[i], r, d, n);
    }
    r = sscanf("1.5 2.5 3.5", "%f %lf %le", &f, &d, &e);
    printf("f lf %d: %a %a %a\n", r, (double)f, d, e);
    r = sscanf("12345.678", "%4f%lf", &f, &d);
    printf("width f %d: %a %a\n", r, (double)f, d);

    char s1[16] = "-", s2[16] = "-", c[4] = "---";
    r = sscanf("  hello   world", "%s %s", s1, s2);
    printf("%%s %d: [%s] [%s]\n", r, s1, s2);
    r = sscanf("abcdefgh", "%3s%2s", s1, s2);
    printf("%%3s %d: [%s] [%s]\n", r, s1, s2);
    r = sscanf(" xyz", "%c%2c", c, c + 1);
    printf("%%c %d: [%.3s]\n", r, c);
    r = sscanf("ab", "%3c", c);
    printf("%%3c short %d: [%.3s]\n", r, c);
    r = sscanf("key=value;rest", "%[a-z]=%[^;];%s", s1, s2, c);
    printf("scanset %d: [%s] [%s]\n", r, s1, s2);
    r = sscanf("]a-b]c", "%[]a-]%s", s1, s2);
    printf("scanset ] %d: [%s] [%s]\n", r, s1, s2);
    r = sscanf("xyz", "%[abc]", s1);
    printf("scanset miss %d\n", r);
    r = sscanf("aaaaab", "%3[a]%s", s1, s2);
    printf("scanset width %d: [%s] [%s]\n", r, s1, s2);
    char *m1 = NULL, *m2 = NULL;
    r = sscanf("dynamic strings", "%ms %m[a-z]", &m1, &m2);
    printf("%%ms %d: [%s] [%s]\n", r, m1, m2);
    free(m1);
    free(m2);
    int n = -1;
    r = sscanf("abc  ", "abc %n", &n);
    printf("trailing space %d %d\n", r, n);
    r = sscanf("abc", "abd%n", &n);
    printf("literal mismatch %d\n", r);
    r = sscanf("12", "%d %*s %d", &n, &n);
    printf("eof after one %d %d\n", r, n);
    return 0;
}
