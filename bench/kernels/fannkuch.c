/* fannkuch-redux (the Computer Language Benchmarks Game's algorithm):
   integer arrays, permutations, no floating point. N: -DN=... */
#include <stdio.h>
#ifndef N
#define N 9
#endif
static void put_i(long v) { char b[24]; int k = 0; if (v < 0) { putchar('-'); v = -v; } do { b[k++] = '0' + v % 10; v /= 10; } while (v); while (k) putchar(b[--k]); putchar('\n'); }
int main(void) {
  int perm[N], perm1[N], count[N];
  int maxflips = 0, checksum = 0, permcount = 0, r = N;
  for (int i = 0; i < N; i++) perm1[i] = i;
  for (;;) {
    while (r != 1) { count[r - 1] = r; r--; }
    for (int i = 0; i < N; i++) perm[i] = perm1[i];
    int flips = 0, k;
    while ((k = perm[0]) != 0) {
      for (int i = 0, j = k; i < j; i++, j--) { int t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
      flips++;
    }
    if (flips > maxflips) maxflips = flips;
    checksum += (permcount % 2 == 0) ? flips : -flips;
    for (;;) {
      if (r == N) { put_i(checksum); put_i(maxflips); return 0; }
      int p0 = perm1[0];
      for (int i = 0; i < r; i++) perm1[i] = perm1[i + 1];
      perm1[r] = p0;
      if (--count[r] > 0) break;
      r++;
    }
    permcount++;
  }
}
