/* <stdio.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Output only: printf and friends are host helpers that format on the host
 * and write to the session's output in program order. A BPF call passes at
 * most five arguments, so printf takes at most four values after the
 * format, fprintf and sprintf three, snprintf two. Supported conversions:
 * %d %i %u %o %x %X %c %s %p %% with flags, width, precision and the
 * length modifiers hh h l ll j z t (no floating point: BPF has none).
 * stdout and stderr are the only streams; there is no input. */
#ifndef _BPF_RUNTIME_STDIO_H
#define _BPF_RUNTIME_STDIO_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

typedef struct __bpf_runtime_file FILE;

/* Stream handles understood by the runtime's helpers. */
#define stdout ((FILE *)1)
#define stderr ((FILE *)2)

#define EOF (-1)

#define __BPF_PRINTF_LIKE(fmt, first) __attribute__((__format__(__printf__, fmt, first)))

int printf(const char *__restrict format, ...) __BPF_PRINTF_LIKE(1, 2);
int fprintf(FILE *__restrict stream, const char *__restrict format, ...) __BPF_PRINTF_LIKE(2, 3);
int sprintf(char *__restrict buf, const char *__restrict format, ...) __BPF_PRINTF_LIKE(2, 3);
int snprintf(char *__restrict buf, size_t size, const char *__restrict format, ...)
    __BPF_PRINTF_LIKE(3, 4);

int puts(const char *s);
int fputs(const char *__restrict s, FILE *__restrict stream);
int putchar(int c);
int fputc(int c, FILE *stream);
int putc(int c, FILE *stream);
int fflush(FILE *stream);

#endif /* _BPF_RUNTIME_STDIO_H */
