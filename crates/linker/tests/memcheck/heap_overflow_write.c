// A write one element past a malloc'd array, in a function the block was
// passed to.
#include <stdlib.h>
__attribute__((noinline)) int *make(int n) { return malloc(n * sizeof(int)); }
__attribute__((noinline)) void fill(int *p, int n) {
    for (int i = 0; i <= n; i++)
        p[i] = i;
}
int main(void) {
    int *blk = make(4);
    fill(blk, 4);
    free(blk);
    return 0;
}
