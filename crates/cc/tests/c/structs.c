#include "pr.h"
/* Structs and unions by value: returned (small and large), passed, the
   callee's copy is its own, nested calls, assignment through functions. */
struct small { int a, b; };
struct mid { long a, b; };
struct big { long v[10]; char tag; };
union u { double d; long l; char c[12]; };
NOINLINE struct small mk_small(int a) { struct small s = { a, -a }; return s; }
NOINLINE struct mid mk_mid(long a) { struct mid m = { a, a * a }; return m; }
NOINLINE struct big mk_big(long seed) { struct big b; for (int i = 0; i < 10; i++) b.v[i] = seed * i; b.tag = 'x'; return b; }
NOINLINE long clobber(struct big b) { long s = 0; for (int i = 0; i < 10; i++) { s += b.v[i]; b.v[i] = -1; } return s + b.tag; }
NOINLINE struct big twice(struct big b) { for (int i = 0; i < 10; i++) b.v[i] *= 2; return b; }
NOINLINE union u mk_u(long l) { union u x; x.l = l; x.c[11] = 5; return x; }
int main(void) {
  struct small s = mk_small(9); P(s.a); P(s.b);
  struct mid m = mk_mid(12); P(m.a); P(m.b);
  struct big b = mk_big(3);
  P(clobber(b)); P(b.v[9]);
  struct big t = twice(twice(b)); P(t.v[9]); P(t.tag); P(b.v[9]);
  b = b; P(b.v[2]);
  union u x = mk_u(77); P(x.l); P(x.c[11]);
  return 0;
}
