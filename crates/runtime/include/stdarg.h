/* <stdarg.h> for bpf-repl's ABI (docs/abi.md, "Variadic functions"):
 * va_arg reads arguments from the caller's va block (see __bpf_va_arg.h). */
#ifndef __BPF_REPL_STDARG_H
#define __BPF_REPL_STDARG_H
#pragma clang system_header

#include <__bpf_va_arg.h>

typedef __builtin_va_list va_list;
typedef __builtin_va_list __gnuc_va_list;

#define va_start(ap, param) __builtin_va_start(ap, param)
#define va_end(ap) __builtin_va_end(ap)
#define va_copy(dst, src) __builtin_va_copy(dst, src)
#define __va_copy(dst, src) __builtin_va_copy(dst, src)
#define va_arg(ap, type) __bpf_va_arg(ap, type)

#endif
