/* Matrix product on global arrays: loads and stores into the data region
   (memcheck's global check on every one). */
#include <stdio.h>
#ifndef N
#define N 200
#endif
long a[N][N], b[N][N], c[N][N];
int main(void) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) { a[i][j] = i + j; b[i][j] = i - j; }
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        long s = 0;
        for (int k = 0; k < N; k++) s += a[i][k] * b[k][j];
        c[i][j] = s + r;
      }
  long t = 0;
  for (int i = 0; i < N; i++) t += c[i][i];
  printf("%ld\n", t);
  return 0;
}
