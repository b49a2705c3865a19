/* <unistd.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * read and write on the standard descriptors 0, 1 and 2 (the same streams
 * as stdin, stdout and stderr; other descriptors fail with EBADF). No
 * descriptor is a terminal. sleep and usleep never block: they move the
 * program's clocks forward (<time.h>). */
#ifndef _BPF_RUNTIME_UNISTD_H
#define _BPF_RUNTIME_UNISTD_H

#define __need_size_t
#define __need_NULL
#include <stddef.h>

#define __BPF_NEED_ssize_t
#define __BPF_NEED_off_t
#define __BPF_NEED_pid_t
#define __BPF_NEED_useconds_t
#include <__bpf_types.h>

#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
int isatty(int fd);
unsigned int sleep(unsigned int seconds);
int usleep(useconds_t microseconds);
void _exit(int status) __attribute__((__noreturn__)) __asm__("_Exit");

#endif /* _BPF_RUNTIME_UNISTD_H */
