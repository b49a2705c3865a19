/* <math.h> from C code: the functions are the runtime's, computed with the
   host's libm, printed with %a so results compare exactly. */
#include <stdio.h>
#include <math.h>
int main(void) {
  volatile double x = 0.7, y = 2.5;
  printf("%a %a %a %a\n", sin(x), cos(x), tan(x), atan2(x, y));
  printf("%a %a %a %a\n", exp(x), log(y), pow(x, y), sqrt(y));
  printf("%a %a %a\n", fmod(y, x), floor(-y), ceil(-y));
  int e; double m = frexp(y * 1000, &e); printf("%a %d\n", m, e);
  double ip; double fp = modf(-y, &ip); printf("%a %a\n", fp, ip);
  printf("%a %a\n", hypot(x, y), cbrt(y));
  return 0;
}
