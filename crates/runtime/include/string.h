/* <string.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Host helpers: every byte a function reads or writes is checked against
 * VM memory, and copies between overlapping ranges (undefined in C) stop
 * the program with a message; use memmove for those. */
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

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *__restrict dst, const char *__restrict src);
char *strncpy(char *__restrict dst, const char *__restrict src, size_t n);
char *strcat(char *__restrict dst, const char *__restrict src);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
char *strdup(const char *s);

#endif /* _BPF_RUNTIME_STRING_H */
