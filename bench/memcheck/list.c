/* A linked list of heap nodes built, walked many times and freed: pointer
   chasing through malloc'd blocks, many small allocations. */
#include <stdio.h>
#include <stdlib.h>
#ifndef N
#define N 20000
#endif
typedef struct node { long val; struct node *next; } node;
int main(void) {
  node *head = 0;
  for (long i = 0; i < N; i++) {
    node *n = malloc(sizeof *n);
    n->val = i * 7 % 1000;
    n->next = head;
    head = n;
  }
  long sum = 0;
  for (int pass = 0; pass < 600; pass++)
    for (node *p = head; p; p = p->next) sum += p->val ^ pass;
  while (head) { node *next = head->next; free(head); head = next; }
  printf("%ld\n", sum);
  return 0;
}
