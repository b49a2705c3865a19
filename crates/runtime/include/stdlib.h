/* <stdlib.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * The heap lives in the VM's heap region: addresses are deterministic,
 * every block is 16-byte aligned, and free/realloc of anything that is not
 * a live block (a double free, a pointer into a block or into other
 * memory) stops the program with a message. rand() produces glibc's
 * sequence. Number parsing (strtol, strtod, ...) is glibc's, errno
 * included. qsort is glibc's merge sort (the same comparisons in the same
 * order, stable); it and bsearch call the comparison function back in BPF.
 * exit() runs the atexit functions and ends the run with its status;
 * abort() and _Exit() end it at once. getenv finds nothing (a session has
 * no environment) and system runs no command. */
#ifndef _BPF_RUNTIME_STDLIB_H
#define _BPF_RUNTIME_STDLIB_H

#define __need_size_t
#define __need_wchar_t
#define __need_NULL
#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647
#define MB_CUR_MAX ((size_t)1)

typedef struct {
    int quot;
    int rem;
} div_t;
typedef struct {
    long quot;
    long rem;
} ldiv_t;
typedef struct {
    long long quot;
    long long rem;
} lldiv_t;

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);

int atoi(const char *s);
long atol(const char *s);
long long atoll(const char *s);
long strtol(const char *__restrict s, char **__restrict end, int base);
long long strtoll(const char *__restrict s, char **__restrict end, int base);
unsigned long strtoul(const char *__restrict s, char **__restrict end, int base);
unsigned long long strtoull(const char *__restrict s, char **__restrict end, int base);

/* Parsed exactly as glibc does (decimal, hexadecimal 0x1.8p3, inf, nan(...)). */
double atof(const char *s);
double strtod(const char *__restrict s, char **__restrict end);
float strtof(const char *__restrict s, char **__restrict end);
long double strtold(const char *__restrict s, char **__restrict end);

int abs(int x);
long labs(long x);
long long llabs(long long x);
div_t div(int a, int b);
ldiv_t ldiv(long a, long b);
lldiv_t lldiv(long long a, long long b);

int rand(void);
void srand(unsigned int seed);

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void qsort_r(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *, void *),
             void *arg);
void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *));

void abort(void) __attribute__((__noreturn__));
void exit(int status) __attribute__((__noreturn__));
void _Exit(int status) __attribute__((__noreturn__));
void quick_exit(int status) __attribute__((__noreturn__));
int atexit(void (*func)(void));
int at_quick_exit(void (*func)(void));
int system(const char *command);

char *getenv(const char *name);

/* Multibyte characters in the C locale: one byte each, ASCII only. */
int mblen(const char *s, size_t n);
int mbtowc(wchar_t *__restrict wc, const char *__restrict s, size_t n);
int wctomb(char *s, wchar_t wc);

#endif /* _BPF_RUNTIME_STDLIB_H */
