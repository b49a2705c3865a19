#include "pr.h"
/* Atomic builtins on every width, including the operations BPF has no
   instruction for (nand, 8- and 16-bit operands, fences). */
int main(void) {
  volatile long l = 10; volatile int i = 7; volatile short s = 3; volatile char c = 1;
  P(__atomic_fetch_add(&l, 5, __ATOMIC_SEQ_CST)); P(l);
  P(__atomic_fetch_and(&l, 0x7e, __ATOMIC_SEQ_CST)); P(l);
  P(__atomic_fetch_sub(&i, 4, __ATOMIC_SEQ_CST)); P(i);
  P(__sync_fetch_and_nand(&l, 0xff)); P(l);
  P(__atomic_fetch_or(&s, 0x70, __ATOMIC_RELAXED)); P(s);
  P(__atomic_exchange_n(&c, 9, __ATOMIC_ACQ_REL)); P(c);
  P(__sync_bool_compare_and_swap(&s, 0x73, 5)); P(s);
  P(__sync_val_compare_and_swap(&c, 1, 2)); P(c);
  __atomic_store_n(&i, 42, __ATOMIC_RELEASE);
  __sync_synchronize();
  P(__atomic_load_n(&i, __ATOMIC_ACQUIRE));
  return 0;
}
