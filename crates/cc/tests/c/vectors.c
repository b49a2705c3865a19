#include "pr.h"
/* GCC vector extensions: integer and floating-point vectors, passed to
   and returned from functions (BPF has no vector registers). */
typedef double v2d __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));
NOINLINE v2d axpy(double a, v2d x, v2d y) { return a * x + y; }
NOINLINE v4f scale(v4f v, float k) { return v * k - v / 2; }
NOINLINE v4i mix(v4i a, v4i b) { return (a + b) * (a - b) ^ (a >> 1); }
int main(void) {
  volatile double a = 1.5;
  v2d x = {1.25, -2.5}, y = {0.1, 0.2};
  v2d r = axpy(a, x, y); PD(r[0]); PD(r[1]);
  v4f f = {1, 2, 3, 4.5f}; v4f g = scale(f, 0.3f); PF(g[0]); PF(g[3]);
  v4i i = {1, -2, 300, 4}, j = {5, 6, -7, 8}; v4i m = mix(i, j); P(m[0]); P(m[1]); P(m[2]); P(m[3]);
  return 0;
}
