#include "pr.h"
/* 128-bit multiply, divide and remainder, signed and unsigned, and
   64-bit multiplication with overflow checks. */
typedef __int128 i128;
typedef unsigned __int128 u128;
static void P128(u128 v) { put_x((unsigned long)(v >> 64)); put_x((unsigned long)v); putchar('\n'); }
int main(void) {
  volatile i128 a = ((i128)0x1234567890abcdefLL << 40) + 12345, b = -987654321;
  volatile u128 c = ~(u128)0 / 3, d = 0xfedcba987654321ULL;
  P128(a * b); P128(a / b); P128(a % b); P128(-a / 7); P128(-a % 7);
  P128(c * d); P128(c / d); P128(c % d);
  for (volatile int k = 0; k < 128; k += 9) { P128((u128)a << k); P128(a >> k); P128(c >> k); }
  long r;
  P(__builtin_mul_overflow(0x100000000L, 0x80000000L, &r)); P(r);
  P(__builtin_mul_overflow(0x100000000L, 0x7fffffffL, &r)); P(r);
  unsigned long ur;
  P(__builtin_mul_overflow(0x100000000UL, 0x100000000UL, &ur)); P(ur);
  return 0;
}
