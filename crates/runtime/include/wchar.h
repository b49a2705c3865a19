/* <wchar.h> for BPF programs run by bpf-repl (bpf-runtime): the basics.
 *
 * wchar_t is a 32-bit int (clang's BPF target). The wide-string and
 * wide-memory functions are BPF code here (every access checked by the VM
 * like any other); conversions follow glibc's C locale, which is ASCII:
 * bytes above 0x7f are invalid (EILSEQ). Not provided: wide formatted I/O
 * (wprintf, wscanf) and wide streams. */
#ifndef _BPF_RUNTIME_WCHAR_H
#define _BPF_RUNTIME_WCHAR_H

#define __need_size_t
#define __need_wchar_t
#define __need_wint_t
#define __need_NULL
#include <stddef.h>
#include <string.h>

typedef struct {
    int __count;
    unsigned int __value;
} mbstate_t;

#define WEOF ((wint_t)-1)
#define WCHAR_MIN __WCHAR_MIN__
#define WCHAR_MAX __WCHAR_MAX__

int *__errno_location(void) __attribute__((__const__));

static __inline__ size_t wcslen(const wchar_t *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
static __inline__ size_t wcsnlen(const wchar_t *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}
static __inline__ wchar_t *wcscpy(wchar_t *__restrict d, const wchar_t *__restrict s)
{
    wchar_t *r = d;
    while ((*d++ = *s++))
        ;
    return r;
}
static __inline__ wchar_t *wcsncpy(wchar_t *__restrict d, const wchar_t *__restrict s, size_t n)
{
    size_t i = 0;
    for (; i < n && s[i]; i++)
        d[i] = s[i];
    for (; i < n; i++)
        d[i] = 0;
    return d;
}
static __inline__ wchar_t *wcscat(wchar_t *__restrict d, const wchar_t *__restrict s)
{
    wcscpy(d + wcslen(d), s);
    return d;
}
static __inline__ wchar_t *wcsncat(wchar_t *__restrict d, const wchar_t *__restrict s, size_t n)
{
    wchar_t *e = d + wcslen(d);
    size_t i = 0;
    for (; i < n && s[i]; i++)
        e[i] = s[i];
    e[i] = 0;
    return d;
}
static __inline__ int wcscmp(const wchar_t *a, const wchar_t *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a < *b ? -1 : *a > *b;
}
static __inline__ int wcsncmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return *a < *b ? -1 : 1;
        if (!*a)
            return 0;
    }
    return 0;
}
static __inline__ wchar_t *wcschr(const wchar_t *s, wchar_t c)
{
    for (;; s++) {
        if (*s == c)
            return (wchar_t *)s;
        if (!*s)
            return NULL;
    }
}
static __inline__ wchar_t *wcsrchr(const wchar_t *s, wchar_t c)
{
    const wchar_t *found = NULL;
    for (;; s++) {
        if (*s == c)
            found = s;
        if (!*s)
            return (wchar_t *)found;
    }
}
static __inline__ wchar_t *wcsstr(const wchar_t *h, const wchar_t *n)
{
    size_t k = wcslen(n);
    for (; *h; h++)
        if (wcsncmp(h, n, k) == 0)
            return (wchar_t *)h;
    return k ? NULL : (wchar_t *)h;
}
static __inline__ wchar_t *wmemcpy(wchar_t *__restrict d, const wchar_t *__restrict s, size_t n)
{
    return (wchar_t *)memcpy(d, s, n * sizeof(wchar_t));
}
static __inline__ wchar_t *wmemmove(wchar_t *d, const wchar_t *s, size_t n)
{
    return (wchar_t *)memmove(d, s, n * sizeof(wchar_t));
}
static __inline__ wchar_t *wmemset(wchar_t *d, wchar_t c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        d[i] = c;
    return d;
}
static __inline__ int wmemcmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}
static __inline__ wchar_t *wmemchr(const wchar_t *s, wchar_t c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] == c)
            return (wchar_t *)s + i;
    return NULL;
}

static __inline__ wint_t btowc(int c)
{
    return c >= 0 && c <= 0x7f ? (wint_t)c : WEOF;
}
static __inline__ int wctob(wint_t c)
{
    return c >= 0 && c <= 0x7f ? (int)c : -1;
}
static __inline__ int mbsinit(const mbstate_t *ps)
{
    return !ps || !ps->__count;
}
static __inline__ size_t mbrtowc(wchar_t *__restrict wc, const char *__restrict s, size_t n,
                             mbstate_t *__restrict ps)
{
    (void)ps;
    if (!s)
        return 0;
    if (n == 0)
        return (size_t)-2;
    if ((unsigned char)*s > 0x7f) {
        *__errno_location() = 84; /* EILSEQ */
        return (size_t)-1;
    }
    if (wc)
        *wc = (unsigned char)*s;
    return *s != 0;
}
static __inline__ size_t mbrlen(const char *__restrict s, size_t n, mbstate_t *__restrict ps)
{
    return mbrtowc(NULL, s, n, ps);
}
static __inline__ size_t wcrtomb(char *__restrict s, wchar_t wc, mbstate_t *__restrict ps)
{
    (void)ps;
    if (!s)
        return 1;
    if (wc < 0 || wc > 0x7f) {
        *__errno_location() = 84;
        return (size_t)-1;
    }
    *s = (char)wc;
    return 1;
}

#endif /* _BPF_RUNTIME_WCHAR_H */
