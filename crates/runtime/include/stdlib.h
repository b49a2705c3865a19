/* <stdlib.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * The heap lives in the VM's heap region: addresses are deterministic,
 * every block is 16-byte aligned, and free/realloc of anything that is not
 * a live block (a double free, a pointer into a block or into other
 * memory) stops the program with a message. rand() produces glibc's
 * sequence. abort() and exit() stop the program. */
#ifndef _BPF_RUNTIME_STDLIB_H
#define _BPF_RUNTIME_STDLIB_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#define RAND_MAX 2147483647

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

int rand(void);
void srand(unsigned int seed);

void abort(void) __attribute__((__noreturn__));
void exit(int status) __attribute__((__noreturn__));

#endif /* _BPF_RUNTIME_STDLIB_H */
