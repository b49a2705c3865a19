/* <string.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Host helpers: every byte a function reads or writes is checked against
 * VM memory, and copies between overlapping ranges (undefined in C) stop
 * the program with a message; use memmove for those. strtok keeps its
 * position in the runtime (undone with the input that moved it), and
 * strerror gives glibc's texts. The C locale: strcoll is strcmp. */
#ifndef _BPF_RUNTIME_STRING_H
#define _BPF_RUNTIME_STRING_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

void *memcpy(void *__restrict dst, const void *__restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
void *memrchr(const void *s, int c, size_t n);
void *memccpy(void *__restrict dst, const void *__restrict src, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int strcoll(const char *a, const char *b);
size_t strxfrm(char *__restrict dst, const char *__restrict src, size_t n);
char *strcpy(char *__restrict dst, const char *__restrict src);
char *strncpy(char *__restrict dst, const char *__restrict src, size_t n);
char *stpcpy(char *__restrict dst, const char *__restrict src);
char *strcat(char *__restrict dst, const char *__restrict src);
char *strncat(char *__restrict dst, const char *__restrict src, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
char *strpbrk(const char *s, const char *accept);
size_t strspn(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strtok(char *__restrict s, const char *__restrict delim);
char *strtok_r(char *__restrict s, const char *__restrict delim, char **__restrict save);
char *strsep(char **__restrict sp, const char *__restrict delim);
char *strdup(const char *s);
char *strndup(const char *s, size_t n);
char *strerror(int e);
#ifdef _GNU_SOURCE
/* The GNU form: the message's address (here always buf, truncated to fit). */
char *strerror_r(int e, char *buf, size_t n) __asm__("__bpf_gnu_strerror_r");
#else
int strerror_r(int e, char *buf, size_t n);
#endif

#endif /* _BPF_RUNTIME_STRING_H */
