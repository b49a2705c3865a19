/* Output without printf's variadic arguments, so these programs test the
   compiler side on their own: decimal and hex through putchar. */
#include <stdio.h>
/* Keeps the function a real call, so the call is lowered (not inlined away). */
#define NOINLINE __attribute__((noinline))
static void put_u(unsigned long v) { char b[24]; int n = 0; do { b[n++] = '0' + v % 10; v /= 10; } while (v); while (n) putchar(b[--n]); }
static void put_i(long v) { if (v < 0) { putchar('-'); put_u(-(unsigned long)v); } else put_u(v); }
static void put_x(unsigned long v) { for (int s = 60; s >= 0; s -= 4) putchar("0123456789abcdef"[(v >> s) & 15]); }
static void put_s(const char *s) { while (*s) putchar(*s++); }
#define P(x) (put_i((long)(x)), putchar('\n'))
#define PX(x) (put_x((unsigned long)(x)), putchar('\n'))
/* The bit pattern of a double or float, so results compare exactly. */
static unsigned long bits(double d) { union { double d; unsigned long u; } x = { d }; return x.u; }
static unsigned fbits(float f) { union { float f; unsigned u; } x = { f }; return x.u; }
#define PD(x) PX(bits(x))
#define PF(x) PX(fbits(x))
