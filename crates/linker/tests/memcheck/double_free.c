// The same block freed twice.
#include <stdlib.h>
__attribute__((noinline)) void release(void *p) { free(p); }
int main(void) {
    char *p = malloc(24);
    release(p);
    release(p);
    return 0;
}
