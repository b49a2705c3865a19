// A write one past the end of a global array, which without red zones
// would land in the neighbouring global.
int first[10];
int second[10];
__attribute__((noinline)) void set(int *a, int i, int v) { a[i] = v; }
int main(void) {
    set(first, 10, 5);
    return second[0];
}
