/* <string.h>'s scanning and tokenizing functions, <strings.h>, strerror. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void show(const char *what, const char *s)
{
    printf("%s: [%s]\n", what, s ? s : "(null)");
}

int main(void)
{
    char text[] = "  alpha, beta;;gamma ,delta  ";
    for (char *t = strtok(text, " ,;"); t; t = strtok(NULL, " ,;"))
        show("strtok", t);
    show("after", strtok(NULL, ","));

    char csv[] = "a,b,,c,";
    char *save = NULL;
    for (char *t = strtok_r(csv, ",", &save); t; t = strtok_r(NULL, ",", &save))
        show("strtok_r", t);

    char fields[] = "x::y:z:";
    char *rest = fields, *f;
    while ((f = strsep(&rest, ":")) != NULL)
        show("strsep", f);

    const char *s = "hello, world";
    printf("strspn %zu strcspn %zu strpbrk %s\n", strspn(s, "helo"), strcspn(s, " ,"),
           strpbrk(s, "wr"));
    printf("no match: %zu %zu %p\n", strspn(s, "xyz"), strcspn(s, "xyz"), (void *)strpbrk(s, "xyz"));

    char buf[40] = "abc";
    strncat(buf, "defghij", 3);
    strncat(buf, "", 5);
    strncat(buf, "XY", 10);
    show("strncat", buf);
    char *end = stpcpy(buf, "stp");
    end = stpcpy(end, "cpy");
    printf("stpcpy [%s] length %ld\n", buf, (long)(end - buf));
    char *d = strndup("truncate me", 8);
    show("strndup", d);
    free(d);
    d = strndup("short", 100);
    show("strndup", d);
    free(d);

    printf("strcasecmp %d %d %d\n", strcasecmp("Hello", "hELLO") == 0, strcasecmp("abc", "ABD") < 0,
           strcasecmp("b", "A") > 0);
    printf("strncasecmp %d %d\n", strncasecmp("HelloX", "hELLOy", 5), strncasecmp("a", "b", 0));
    printf("strcoll %d\n", strcoll("apple", "banana") < 0);
    char x[16];
    printf("strxfrm %zu [%s] %zu\n", strxfrm(x, "collate", sizeof x), x, strxfrm(NULL, "abc", 0));

    char dst[16] = {0};
    char *after = memccpy(dst, "copy:rest", ':', sizeof dst);
    printf("memccpy [%s] %ld\n", dst, after ? (long)(after - dst) : -1L);
    printf("memccpy miss %p\n", memccpy(dst, "abc", 'z', 3));
    const char *hay = "abcabc";
    printf("memrchr %ld\n", (long)((const char *)memrchr(hay, 'b', 6) - hay));
    char z[8] = "zzzzzzz";
    bzero(z + 2, 3);
    printf("bzero %d %d %d\n", z[1], z[2], z[5]);
    bcopy("12345", z, 4);
    printf("bcopy %.4s bcmp %d %d\n", z, bcmp("ab", "ab", 2) == 0, bcmp("ab", "ac", 2) != 0);

    for (int e = 0; e < 40; e += 3)
        printf("strerror(%d) = %s\n", e, strerror(e));
    printf("strerror(%d) = %s\n", 1234, strerror(1234));
    printf("strerror(-1) = %s\n", strerror(-1));
    errno = ERANGE;
    printf("%%m: %m\n");
    int n1 = 0, n2 = 0;
    printf("count%n me%hhn\n", &n1, (signed char *)&n2);
    printf("%%n: %d %d\n", n1, n2 & 0xff);
    return 0;
}
