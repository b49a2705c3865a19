/* <stdio.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Output: printf and friends are host helpers that format on the host (as
 * glibc does, digit for digit) and write to the session's output in
 * program order. Conversions: %d %i %u %o %x %X %c %s %p %n %m %% and
 * %f %F %e %E %g %G %a %A, with flags, width, precision and the length
 * modifiers hh h l ll L j z t (long double is double). A format that asks
 * for more values than the call passed stops the program with a message.
 *
 * Input: stdin is what the session gives the program (bpf-repl: --stdin
 * FILE, or a //< section in a transcript; bpf-jitlink: its own standard
 * input); without any, reads are end of file and a note says so. The
 * scanf family follows glibc's algorithm exactly (%ms allocates).
 *
 * Files: fopen and friends work on files inside the one directory the
 * session grants (--fs DIR); names are relative to it, and absolute paths,
 * ".." and symbolic links are refused. Without a grant, fopen returns NULL
 * with errno EACCES and a note says how to grant one. tmpfile() and the
 * names tmpnam() gives (/tmp/bpf-tmp-N) are files in memory, needing no
 * directory. freopen() redirects stdin, stdout or stderr until they are
 * fclose()d. Streams write through at once (no buffering to flush).
 *
 * In full mode (the default) the variadic functions take any number of
 * values. In strict mode (__BPF_REPL_STRICT__, plain BPF) they are renamed
 * to their register variants (__bpf_strict_printf, ...): a BPF call passes
 * at most five arguments, so printf and scanf take at most four values
 * after the format, fprintf, sprintf, fscanf and sscanf three, snprintf
 * two, and floating point is refused. */
#ifndef _BPF_RUNTIME_STDIO_H
#define _BPF_RUNTIME_STDIO_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

typedef struct __bpf_runtime_file FILE;
typedef struct {
    long long __pos;
} fpos_t;
#define __BPF_NEED_ssize_t
#define __BPF_NEED_off_t
#include <__bpf_types.h>

/* Stream handles understood by the runtime's helpers (not addresses). */
#define stdout ((FILE *)1)
#define stderr ((FILE *)2)
#define stdin ((FILE *)3)

#define EOF (-1)
#define BUFSIZ 8192
#define FOPEN_MAX 64
#define FILENAME_MAX 4096
#define L_tmpnam 20
#define TMP_MAX 238328
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2

#define __BPF_PRINTF_LIKE(fmt, first) __attribute__((__format__(__printf__, fmt, first)))
#define __BPF_SCANF_LIKE(fmt, first) __attribute__((__format__(__scanf__, fmt, first)))

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

int scanf(const char *__restrict format, ...) __BPF_STRICT(scanf) __BPF_SCANF_LIKE(1, 2);
int fscanf(FILE *__restrict stream, const char *__restrict format, ...) __BPF_STRICT(fscanf)
    __BPF_SCANF_LIKE(2, 3);
int sscanf(const char *__restrict s, const char *__restrict format, ...) __BPF_STRICT(sscanf)
    __BPF_SCANF_LIKE(2, 3);
int vscanf(const char *__restrict format, __builtin_va_list ap) __BPF_SCANF_LIKE(1, 0);
int vfscanf(FILE *__restrict stream, const char *__restrict format, __builtin_va_list ap)
    __BPF_SCANF_LIKE(2, 0);
int vsscanf(const char *__restrict s, const char *__restrict format, __builtin_va_list ap)
    __BPF_SCANF_LIKE(2, 0);

int puts(const char *s);
int fputs(const char *__restrict s, FILE *__restrict stream);
int putchar(int c);
int fputc(int c, FILE *stream);
int putc(int c, FILE *stream);
int fflush(FILE *stream);

int getchar(void);
int fgetc(FILE *stream);
int getc(FILE *stream);
int ungetc(int c, FILE *stream);
char *fgets(char *__restrict s, int n, FILE *__restrict stream);
ssize_t getdelim(char **__restrict line, size_t *__restrict n, int delim, FILE *__restrict stream);
ssize_t getline(char **__restrict line, size_t *__restrict n, FILE *__restrict stream);

FILE *fopen(const char *__restrict name, const char *__restrict mode);
FILE *freopen(const char *__restrict name, const char *__restrict mode, FILE *__restrict stream);
FILE *tmpfile(void);
char *tmpnam(char *s);
int fclose(FILE *stream);
size_t fread(void *__restrict p, size_t size, size_t n, FILE *__restrict stream);
size_t fwrite(const void *__restrict p, size_t size, size_t n, FILE *__restrict stream);
int fseek(FILE *stream, long offset, int whence);
int fseeko(FILE *stream, off_t offset, int whence);
long ftell(FILE *stream);
off_t ftello(FILE *stream);
void rewind(FILE *stream);
int fgetpos(FILE *__restrict stream, fpos_t *__restrict pos);
int fsetpos(FILE *stream, const fpos_t *pos);
int feof(FILE *stream);
int ferror(FILE *stream);
void clearerr(FILE *stream);
int fileno(FILE *stream);
int setvbuf(FILE *__restrict stream, char *__restrict buf, int mode, size_t size);
void setbuf(FILE *__restrict stream, char *__restrict buf);
int remove(const char *name);
int rename(const char *from, const char *to);
void perror(const char *s);

#endif /* _BPF_RUNTIME_STDIO_H */
