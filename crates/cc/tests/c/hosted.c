#include "pr.h"
/* Hosted C: main without return returns 0; functions with many locals. */
static int counter;
static void bump(void) { counter++; }
int main(void) {
  bump(); bump();
  P(counter);
}
