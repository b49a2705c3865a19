/* <assert.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * No include guard: each inclusion redefines assert according to NDEBUG
 * (C11 7.2). A failed assertion stops the program with the expression and
 * where it is, e.g. "Assertion failed: x > 0 (input 3, line 1)". */
#undef assert
#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
void __bpf_assert_fail(const char *expr, const char *file, int line, const char *func)
    __attribute__((__noreturn__));
#define assert(expr) ((expr) ? (void)0 : __bpf_assert_fail(#expr, __FILE__, __LINE__, __func__))
#endif

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && \
    __STDC_VERSION__ < 202311L
#undef static_assert
#define static_assert _Static_assert
#endif
