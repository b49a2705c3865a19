/* <stdio.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Output only: printf and friends are host helpers that format on the host
 * (as glibc does, digit for digit) and write to the session's output in
 * program order. Supported conversions: %d %i %u %o %x %X %c %s %p %% and
 * %f %F %e %E %g %G %a %A, with flags, width, precision and the length
 * modifiers hh h l ll L j z t (long double is double). A format that asks
 * for more values than the call passed stops the program with a message.
 *
 * In full mode (the default) the variadic functions take any number of
 * values. In strict mode (__BPF_REPL_STRICT__, plain BPF) they are renamed
 * to their register variants (__bpf_strict_printf, ...): a BPF call passes
 * at most five arguments, so printf takes at most four values after the
 * format, fprintf and sprintf three, snprintf two, and floating point is
 * refused. stdout and stderr are the only streams; there is no input. */
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

/* A variadic function's strict-mode name (docs/abi.md). */
#ifdef __BPF_REPL_STRICT__
#define __BPF_STRICT(name) __asm__("__bpf_strict_" #name)
#else
#define __BPF_STRICT(name)
#endif

int printf(const char *__restrict format, ...) __BPF_STRICT(printf) __BPF_PRINTF_LIKE(1, 2);
int fprintf(FILE *__restrict stream, const char *__restrict format, ...) __BPF_STRICT(fprintf)
    __BPF_PRINTF_LIKE(2, 3);
int sprintf(char *__restrict buf, const char *__restrict format, ...) __BPF_STRICT(sprintf)
    __BPF_PRINTF_LIKE(2, 3);
int snprintf(char *__restrict buf, size_t size, const char *__restrict format, ...)
    __BPF_STRICT(snprintf) __BPF_PRINTF_LIKE(3, 4);

int vprintf(const char *__restrict format, __builtin_va_list ap) __BPF_PRINTF_LIKE(1, 0);
int vfprintf(FILE *__restrict stream, const char *__restrict format, __builtin_va_list ap)
    __BPF_PRINTF_LIKE(2, 0);
int vsprintf(char *__restrict buf, const char *__restrict format, __builtin_va_list ap)
    __BPF_PRINTF_LIKE(2, 0);
int vsnprintf(char *__restrict buf, size_t size, const char *__restrict format,
              __builtin_va_list ap) __BPF_PRINTF_LIKE(3, 0);

int puts(const char *s);
int fputs(const char *__restrict s, FILE *__restrict stream);
int putchar(int c);
int fputc(int c, FILE *stream);
int putc(int c, FILE *stream);
int fflush(FILE *stream);

#endif /* _BPF_RUNTIME_STDIO_H */
