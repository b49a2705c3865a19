/* Sieve of Eratosthenes on a malloc'd array, repeated: byte loads and
   stores into the heap (memcheck's heap check on every one). */
#include <stdio.h>
#include <stdlib.h>
#ifndef N
#define N 200000
#endif
int main(void) {
  long total = 0;
  for (int round = 0; round < 60; round++) {
    char *composite = calloc(N + 1, 1);
    int count = 0;
    for (long i = 2; i <= N; i++) {
      if (composite[i]) continue;
      count++;
      for (long j = i * i; j <= N; j += i) composite[j] = 1;
    }
    total += count;
    free(composite);
  }
  printf("%ld\n", total);
  return 0;
}
