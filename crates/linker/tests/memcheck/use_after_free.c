// The linked list: a node read after it was freed.
#include <stdlib.h>
typedef struct node { int val; struct node *next; } node;
__attribute__((noinline)) node *push(node *head, int v) {
    node *n = malloc(sizeof *n);
    n->val = v;
    n->next = head;
    return n;
}
__attribute__((noinline)) void release(node *n) { free(n); }
int main(void) {
    node *head = push(push(0, 1), 2);
    node *tmp = head;
    head = head->next;
    release(tmp);
    int v = tmp->val;
    release(head);
    return v;
}
