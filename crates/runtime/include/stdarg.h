/* <stdarg.h> for bpf-repl's ABI (docs/abi.md, "Variadic functions").
 *
 * A va_list holds the address of a 16-byte va state {cur, end}; each
 * variadic argument takes whole 8-byte slots, structs and unions by value
 * as their bytes. va_arg reads the slots at cur and advances it; reading
 * past end stops the program ("va_arg past the last argument").
 * (clang's own va_arg passes structs by reference, which is why this
 * header defines va_arg itself.) */
#ifndef __BPF_REPL_STDARG_H
#define __BPF_REPL_STDARG_H

typedef __builtin_va_list va_list;
typedef __builtin_va_list __gnuc_va_list;

#define va_start(ap, param) __builtin_va_start(ap, param)
#define va_end(ap) __builtin_va_end(ap)
#define va_copy(dst, src) __builtin_va_copy(dst, src)
#define __va_copy(dst, src) __builtin_va_copy(dst, src)

void __bpf_ub_trap(long __check) __attribute__((__noreturn__));

/* A statement expression rather than a function, so a fault is reported
   at the line that uses va_arg. */
#define va_arg(ap, type)                                                      \
    (*(__typeof__(type) *)({                                                  \
        unsigned long *__bpf_state = *(unsigned long **)&(ap);                \
        unsigned long __bpf_cur = __bpf_state[0];                             \
        unsigned long __bpf_next = __bpf_cur + ((sizeof(type) + 7) & ~7UL);   \
        if (__bpf_next > __bpf_state[1])                                      \
            __bpf_ub_trap(257); /* va_arg past the last argument */           \
        __bpf_state[0] = __bpf_next;                                          \
        (void *)__bpf_cur;                                                    \
    }))

#endif
