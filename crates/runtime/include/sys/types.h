/* <sys/types.h> for BPF programs run by bpf-repl (bpf-runtime): the
 * POSIX types, with glibc's x86-64 sizes. */
#ifndef _BPF_RUNTIME_SYS_TYPES_H
#define _BPF_RUNTIME_SYS_TYPES_H

#define __need_size_t
#include <stddef.h>
#include <stdint.h>

#define __BPF_NEED_ssize_t
#define __BPF_NEED_off_t
#define __BPF_NEED_time_t
#define __BPF_NEED_clock_t
#define __BPF_NEED_clockid_t
#define __BPF_NEED_pid_t
#define __BPF_NEED_useconds_t
#define __BPF_NEED_suseconds_t
#include <__bpf_types.h>

typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int mode_t;
typedef unsigned long dev_t;
typedef unsigned long ino_t;
typedef unsigned long nlink_t;
typedef long blksize_t;
typedef long blkcnt_t;
typedef int key_t;
typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef unsigned long u_long;
typedef uint8_t u_int8_t;
typedef uint16_t u_int16_t;
typedef uint32_t u_int32_t;
typedef uint64_t u_int64_t;

#endif /* _BPF_RUNTIME_SYS_TYPES_H */
