/* <fenv.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Floating point always rounds to nearest (ties to even) and its exception
 * flags are not recorded. So FE_TONEAREST is the only rounding mode:
 * fegetround() returns it, fesetround() accepts only it (and returns
 * nonzero for any other value). No exception macro (FE_DIVBYZERO,
 * FE_INEXACT, ...) is defined, as C11 7.6 prescribes for exceptions an
 * implementation does not support; FE_ALL_EXCEPT is 0 and the exception
 * functions succeed on it. Everything here is inline BPF code. */
#ifndef _BPF_RUNTIME_FENV_H
#define _BPF_RUNTIME_FENV_H

#define FE_TONEAREST 0
#define FE_ALL_EXCEPT 0

typedef unsigned short fexcept_t;
typedef struct {
    int __round;
} fenv_t;

#define FE_DFL_ENV ((const fenv_t *)-1)

static __inline__ int feclearexcept(int excepts) { return excepts & ~FE_ALL_EXCEPT; }
static __inline__ int fegetexceptflag(fexcept_t *flag, int excepts) {
    *flag = 0;
    return excepts & ~FE_ALL_EXCEPT;
}
static __inline__ int feraiseexcept(int excepts) { return excepts & ~FE_ALL_EXCEPT; }
static __inline__ int fesetexceptflag(const fexcept_t *flag, int excepts) {
    (void)flag;
    return excepts & ~FE_ALL_EXCEPT;
}
static __inline__ int fetestexcept(int excepts) {
    (void)excepts;
    return 0;
}
static __inline__ int fegetround(void) { return FE_TONEAREST; }
static __inline__ int fesetround(int round) { return round != FE_TONEAREST; }
static __inline__ int fegetenv(fenv_t *env) {
    env->__round = FE_TONEAREST;
    return 0;
}
static __inline__ int feholdexcept(fenv_t *env) { return fegetenv(env); }
static __inline__ int fesetenv(const fenv_t *env) {
    (void)env;
    return 0;
}
static __inline__ int feupdateenv(const fenv_t *env) {
    (void)env;
    return 0;
}

#endif /* _BPF_RUNTIME_FENV_H */
