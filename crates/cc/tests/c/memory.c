#include "pr.h"
#include <string.h>
/* Block copies the backend will not expand: large struct copies, memcpy,
   memmove and memset of variable length, loops the optimizer turns into
   memset/memcpy, comparisons the optimizer turns into bcmp. */
struct page { char bytes[3000]; int n; };
static struct page g1, g2;
int main(void) {
  for (int i = 0; i < 3000; i++) g1.bytes[i] = (char)(i * 7);
  g1.n = 5;
  g2 = g1;
  P(g2.bytes[2999]); P(g2.n);
  volatile int n = 1500;
  memmove(g2.bytes + 10, g2.bytes, n);
  P(g2.bytes[10]); P(g2.bytes[1509]);
  memset(g2.bytes, 'z', n);
  P(g2.bytes[1499]); P(g2.bytes[1500]);
  for (int i = 0; i < 3000; i++) g1.bytes[i] = 0;
  P(g1.bytes[1234]);
  memcpy(g1.bytes, g2.bytes, n);
  P(memcmp(g1.bytes, g2.bytes, n) == 0);
  g1.bytes[3] = 1;
  P(memcmp(g1.bytes, g2.bytes, n) == 0);
  return 0;
}
