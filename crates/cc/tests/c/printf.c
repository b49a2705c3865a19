/* printf with any number of arguments, every conversion (floating point
   included), snprintf, and a variadic wrapper passing its va_list on to
   vprintf / vsnprintf. Needs the runtime's va-block printf. */
#include <stdio.h>
#include <stdarg.h>
static int logf_(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  char buf[64];
  va_list again; va_copy(again, ap);
  int n = vsnprintf(buf, sizeof buf, fmt, again);
  va_end(again);
  printf("[%d] %s|", n, buf);
  int m = vprintf(fmt, ap);
  va_end(ap);
  return m;
}
int main(void) {
  printf("%d %d %d %d %d %d %d %d %d %d\n", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  printf("%s %c %ld %lu %x %o %p %%\n", "str", 'c', -5L, 5UL, 255, 8, (void *)0);
  printf("%f %.3f %e %.2e %g %g %a\n", 3.14159, -2.5, 12345.678, 0.000123, 1e-5, 123456789.0, 1.0);
  printf("%10.4f|%-8d|%+d|%05d\n", 2.718281828, 42, 7, 3);
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%s-%d-%.1f", "x", 99, 0.25);
  printf("%d %s\n", n, buf);
  logf_("%d+%d=%d %.2f\n", 2, 3, 5, 1.5);
  return 0;
}
