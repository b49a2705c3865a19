#include "pr.h"
#include <stdarg.h>
/* Variadic definitions: va_start/va_arg/va_copy/va_end, every argument
   kind, a va_list passed on, calls through pointers, many arguments. */
struct rgb { unsigned char r, g, b; };
struct big { long v[6]; };
NOINLINE static long vsum(int n, va_list ap) { long s = 0; while (n--) s += va_arg(ap, long); return s; }
NOINLINE long sum(int n, ...) { va_list ap; va_start(ap, n); long s = vsum(n, ap); va_end(ap); return s; }
NOINLINE long twice(int n, ...) {
  va_list ap, again; va_start(ap, n); va_copy(again, ap);
  long s = vsum(n, ap) + vsum(n, again);
  va_end(again); va_end(ap); return s;
}
NOINLINE long mixed(const char *kinds, ...) {
  va_list ap; va_start(ap, kinds); long s = 0;
  for (const char *k = kinds; *k; k++) {
    switch (*k) {
    case 'i': s = s * 3 + va_arg(ap, int); break;
    case 'l': s = s * 3 + va_arg(ap, long); break;
    case 'p': s = s * 3 + *va_arg(ap, int *); break;
    case 'q': { __int128 q = va_arg(ap, __int128); s = s * 3 + (long)(q >> 64) + (long)q; break; }
    case 'c': { struct rgb c = va_arg(ap, struct rgb); s = s * 3 + c.r + 10 * c.g + 100 * c.b; break; }
    case 'b': { struct big b = va_arg(ap, struct big); s = s * 3 + b.v[0] + b.v[5]; break; }
    }
  }
  va_end(ap); return s;
}
NOINLINE long none(int n, ...) { va_list ap; va_start(ap, n); va_end(ap); return n; }
int main(void) {
  P(sum(3, 10L, 20L, 30L));
  P(sum(12, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L));
  P(twice(4, 1L, 2L, 3L, 4L));
  int x = 42; struct rgb c = { 1, 2, 3 }; struct big b = { { 7, 0, 0, 0, 0, 9 } };
  P(mixed("ilpqcb", -5, 1L << 40, &x, ((__int128)3 << 64) | 4, c, b));
  long (*fp)(int, ...) = sum;
  P(fp(2, 100L, 200L));
  P(none(7));
  return 0;
}
