/* va_arg for bpf-repl's ABI (docs/abi.md, "Variadic functions"), shared by
 * <stdarg.h> and bpf-cc's full mode, which includes this header first in
 * every file (-include), so that __builtin_va_arg used directly reads a
 * struct or union argument by value too (clang's own expects a pointer).
 *
 * A va_list holds the address of a 16-byte va state {cur, end}; each
 * argument takes whole 8-byte slots. Reading past end stops the program
 * ("va_arg past the last argument"). A statement expression rather than a
 * function, so that fault is reported at the line that uses va_arg. */
#ifndef __BPF_VA_ARG_H
#define __BPF_VA_ARG_H
#pragma clang system_header

#define __bpf_va_arg(ap, type)                                                \
    (*(__typeof__(type) *)({                                                  \
        extern void __bpf_ub_trap(long) __attribute__((__noreturn__));        \
        unsigned long *__bpf_state = *(unsigned long **)&(ap);                \
        unsigned long __bpf_cur = __bpf_state[0];                             \
        unsigned long __bpf_next = __bpf_cur + ((sizeof(type) + 7) & ~7UL);   \
        if (__bpf_next > __bpf_state[1])                                      \
            __bpf_ub_trap(257); /* va_arg past the last argument */           \
        __bpf_state[0] = __bpf_next;                                          \
        (void *)__bpf_cur;                                                    \
    }))

#ifndef __BPF_REPL_STRICT__
#define __builtin_va_arg(ap, type) __bpf_va_arg(ap, type)
#endif

#endif
