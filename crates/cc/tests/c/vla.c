#include "pr.h"
/* Variable-length arrays and alloca: sized at run time, in loops (released
   each iteration), in recursion, and local arrays larger than a frame. */
NOINLINE long tri(int n) { long a[n + 1]; a[0] = 0; for (int i = 1; i <= n; i++) a[i] = a[i - 1] + i; return a[n]; }
NOINLINE long depth(int n) { if (n == 0) return 0; char buf[n * 10]; buf[n * 10 - 1] = (char)n; return buf[n * 10 - 1] + depth(n - 1); }
NOINLINE long big_local(int k) { long table[1000]; for (int i = 0; i < 1000; i++) table[i] = i * k; return table[999] + table[k]; }
int main(void) {
  long s = 0;
  for (int round = 1; round <= 200; round++) { int v[round * 50]; v[round * 50 - 1] = round; s += v[round * 50 - 1]; }
  P(s);
  P(tri(1000));
  P(depth(50));
  P(big_local(7));
  char *p = __builtin_alloca(100); p[99] = 3; P(p[99]);
  return 0;
}
