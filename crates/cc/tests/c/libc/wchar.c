/* <wchar.h> basics and the C locale's multibyte conversions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

int main(void)
{
    wchar_t a[32] = L"wide";
    wchar_t b[32];
    wcscpy(b, L" chars");
    wcscat(a, b);
    printf("wcslen %zu wcsnlen %zu\n", wcslen(a), wcsnlen(a, 3));
    printf("wcscmp %d %d %d\n", wcscmp(L"abc", L"abd") < 0, wcscmp(L"b", L"a") > 0, wcscmp(a, a));
    printf("wcsncmp %d\n", wcsncmp(L"abcX", L"abcY", 3));
    printf("wcschr %ld wcsrchr %ld wcsstr %ld\n", (long)(wcschr(a, L'e') - a),
           (long)(wcsrchr(a, L'a') - a), (long)(wcsstr(a, L"ch") - a));
    printf("wcschr miss %d\n", wcschr(a, L'z') == NULL);
    wcsncpy(b, L"xy", 5);
    printf("wcsncpy %d %d %d\n", b[1], b[2], b[4]);
    wcsncat(b, L"12345", 2);
    printf("wcsncat len %zu\n", wcslen(b));
    wmemset(b, L'q', 3);
    printf("wmemset %d wmemcmp %d\n", b[2], wmemcmp(b, L"qqq", 3));
    wmemcpy(b, L"copy", 5);
    wmemmove(b + 1, b, 4);
    printf("wmem %d %d %d\n", b[0], b[1], b[4]);
    printf("wmemchr %ld\n", (long)(wmemchr(b, L'p', 5) - b));
    mbstate_t st = {0};
    wchar_t w = 0;
    errno = 0;
    size_t n = mbrtowc(&w, "A", 1, &st);
    printf("mbrtowc %zu %d\n", n, w);
    n = mbrtowc(&w, "\xe9", 1, &st);
    printf("mbrtowc high %zd errno %d\n", (ssize_t)n, errno);
    char c;
    n = wcrtomb(&c, L'Z', &st);
    printf("wcrtomb %zu %c\n", n, c);
    printf("btowc %d %d wctob %d %d\n", btowc('a'), btowc(0xe9), wctob(L'b'), wctob(0x100));
    printf("mbsinit %d\n", mbsinit(&st));
    errno = 0;
    int k = mbtowc(&w, "x", 1);
    printf("mbtowc %d %d errno %d\n", k, w, errno);
    printf("mblen %d %d\n", mblen("abc", 3), mblen("", 1));
    printf("MB_CUR_MAX %zu\n", MB_CUR_MAX);
    return 0;
}
