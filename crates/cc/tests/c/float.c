#include "pr.h"
/* float and double arithmetic, compares (NaN included), conversions and
   the builtins that become intrinsics; printed as bit patterns, so the
   comparison with gcc is exact. */
NOINLINE double poly(double x) { return ((3.5 * x - 2.25) * x + 1.0 / 3.0) * x - 7.0; }
NOINLINE float fpoly(float x) { return (2.5f * x - 1.5f) / (x + 0.75f); }
NOINLINE int classify(double a, double b) { return (a < b) + 2 * (a <= b) + 4 * (a == b) + 8 * (a != b) + 16 * (a > b) + 32 * (a >= b); }
NOINLINE long conv(double d) { return (long)d + (int)(d / 3) + (unsigned char)(unsigned)(d); }
int main(void) {
  volatile double zero = 0.0, nan = zero / zero, x = 1.7, y = -123.456;
  volatile float fx = 3.25f;
  PD(poly(x)); PD(poly(y)); PF(fpoly(fx)); PF(fpoly(-fx));
  PD(x / zero); PD(-x / zero); PD(nan + 1);
  P(classify(x, y)); P(classify(y, x)); P(classify(x, x)); P(classify(nan, x)); P(classify(x, nan));
  P(conv(x * 1000)); P(conv(y)); P((unsigned long)(x * 1e18)); P((long)(float)y);
  PD((double)fx); PF((float)y); PD((double)(long)-9007199254740993L); PD((double)18446744073709551615UL);
  PD(__builtin_fabs(y)); PD(__builtin_floor(y)); PD(__builtin_ceil(y)); PD(__builtin_trunc(y)); PD(__builtin_round(y));
  PD(__builtin_copysign(x, y)); PD(__builtin_fmin(x, y)); PD(__builtin_fmax(x, nan));
  P(__builtin_isnan(nan)); P(__builtin_isinf(x / zero)); P(__builtin_isfinite(y)); P(__builtin_signbit(y));
  double acc = 0; for (int i = 1; i <= 100; i++) acc += 1.0 / (i * (double)i); PD(acc);
  return 0;
}
