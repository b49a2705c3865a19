/* qsort, qsort_r and bsearch: results, stability and the comparisons made
 * (their count and order are glibc's). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int calls;
static int by_int(const void *a, const void *b)
{
    calls++;
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

struct rec {
    int key;
    char tag[44]; /* 48 bytes: sorted through pointers */
};
static int by_key(const void *a, const void *b)
{
    calls++;
    return ((const struct rec *)a)->key - ((const struct rec *)b)->key;
}

struct pair {
    short key;
    short seq;
};
static int by_pair_key(const void *a, const void *b)
{
    return ((const struct pair *)a)->key - ((const struct pair *)b)->key;
}

static int by_mod(const void *a, const void *b, void *m)
{
    int k = *(int *)m;
    return (*(const int *)a % k) - (*(const int *)b % k);
}

/* A comparison that sorts inside itself. */
static int nested_sorts;
static int by_sorted_sum(const void *a, const void *b)
{
    int x[3], y[3];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    qsort(x, 3, sizeof(int), by_int);
    qsort(y, 3, sizeof(int), by_int);
    nested_sorts += 2;
    return (x[0] * 100 + x[1] * 10 + x[2]) - (y[0] * 100 + y[1] * 10 + y[2]);
}

/* The order of comparisons, recorded. */
static int trace[64], ntrace;
static int traced(const void *a, const void *b)
{
    if (ntrace < 63)
        trace[ntrace++] = *(const int *)a * 100 + *(const int *)b;
    return *(const int *)a - *(const int *)b;
}

int main(void)
{
    int v[1000];
    unsigned s = 12345;
    for (int i = 0; i < 1000; i++) {
        s = s * 1103515245 + 12345;
        v[i] = (int)(s >> 8) % 1000 - 500;
    }
    calls = 0;
    qsort(v, 1000, sizeof v[0], by_int);
    long sum = 0;
    for (int i = 0; i < 1000; i++)
        sum = sum * 31 + v[i];
    printf("ints: %d comparisons, checksum %ld, first %d last %d\n", calls, sum, v[0], v[999]);

    int t[] = {5, 3, 8, 1, 9, 2, 7};
    qsort(t, 7, sizeof t[0], traced);
    printf("trace:");
    for (int i = 0; i < ntrace; i++)
        printf(" %d", trace[i]);
    printf("\n");

    struct pair p[20];
    for (int i = 0; i < 20; i++) {
        p[i].key = (short)(i * 7 % 5);
        p[i].seq = (short)i;
    }
    qsort(p, 20, sizeof p[0], by_pair_key);
    printf("stable:");
    for (int i = 0; i < 20; i++)
        printf(" %d.%d", p[i].key, p[i].seq);
    printf("\n");

    struct rec r[50];
    for (int i = 0; i < 50; i++) {
        r[i].key = (i * 37) % 11;
        snprintf(r[i].tag, sizeof r[i].tag, "rec-%02d", i);
    }
    calls = 0;
    qsort(r, 50, sizeof r[0], by_key);
    printf("large (%d comparisons):", calls);
    for (int i = 0; i < 50; i += 7)
        printf(" %d:%s", r[i].key, r[i].tag);
    printf("\n");

    int m = 4, w[12];
    for (int i = 0; i < 12; i++)
        w[i] = 11 - i;
    qsort_r(w, 12, sizeof w[0], by_mod, &m);
    printf("qsort_r:");
    for (int i = 0; i < 12; i++)
        printf(" %d", w[i]);
    printf("\n");

    int triples[5][3] = {{3, 1, 2}, {9, 0, 0}, {1, 1, 1}, {2, 2, 0}, {0, 5, 4}};
    qsort(triples, 5, sizeof triples[0], by_sorted_sum);
    printf("nested (%d inner sorts):", nested_sorts);
    for (int i = 0; i < 5; i++)
        printf(" %d%d%d", triples[i][0], triples[i][1], triples[i][2]);
    printf("\n");

    int one = 7;
    qsort(&one, 1, sizeof one, by_int);
    qsort(NULL, 0, sizeof one, by_int);

    for (int key = -502; key <= 502; key += 167) {
        calls = 0;
        int *hit = bsearch(&key, v, 1000, sizeof v[0], by_int);
        printf("bsearch %d: %s at %ld after %d comparisons\n", key, hit ? "found" : "missing",
               hit ? (long)(hit - v) : -1L, calls);
    }
    int none = 3;
    printf("empty: %p\n", bsearch(&none, v, 0, sizeof v[0], by_int));
    return 0;
}
