// A read past the end of a 10-byte block (inside its size class).
#include <stdlib.h>
__attribute__((noinline)) char *make(int n) {
    char *p = malloc(n);
    for (int i = 0; i < n; i++)
        p[i] = i;
    return p;
}
__attribute__((noinline)) int sum(const char *p, int n) {
    int s = 0;
    for (int i = 0; i <= n; i++)
        s += p[i];
    return s;
}
int main(void) {
    char *p = make(10);
    int s = sum(p, 10);
    free(p);
    return s;
}
