#include "pr.h"
/* More than five arguments: definitions, direct calls, calls through
   pointers, mixed widths and signedness, 128-bit and struct parameters. */
struct pair { long a, b; };
NOINLINE long seven(long a, int b, char c, unsigned char d, short e, unsigned f, long g) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * (long)f + 7 * g;
}
NOINLINE long many(int a, int b, int c, int d, int e, int f, int g, int h, int i, int j, int k, int l) {
  return a - b + c - d + e - f + g - h + i - j + k - l * 1000;
}
NOINLINE __int128 wide(long a, __int128 b, long c, __int128 d, long e) { return a + b * 2 + c + d * 3 + e; }
NOINLINE long pairs(struct pair x, struct pair y, struct pair z, long w) { return x.a * y.b + z.a - z.b + w; }
typedef long (*seven_fn)(long, int, char, unsigned char, short, unsigned, long);
static long twice(seven_fn f, long v) { return f(v, -1, -2, 200, -300, 4000000000u, v) * 2; }
int main(void) {
  P(seven(1, -2, -3, 250, -32000, 4000000000u, 7));
  P(many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
  __int128 w = wide(1, (__int128)1 << 80, 3, -5, 9);
  PX(w >> 64); PX(w);
  struct pair p = { 3, 4 }, q = { 5, 6 }, r = { 7, 8 };
  P(pairs(p, q, r, 100));
  seven_fn volatile fp = seven;
  P(twice(fp, 11));
  return 0;
}
