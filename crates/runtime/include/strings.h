/* <strings.h> for BPF programs run by bpf-repl (bpf-runtime): case-blind
 * comparison in the C locale (ASCII), and the old BSD byte functions. */
#ifndef _BPF_RUNTIME_STRINGS_H
#define _BPF_RUNTIME_STRINGS_H

#define __need_size_t
#include <stddef.h>

int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);
void bzero(void *s, size_t n);
void bcopy(const void *src, void *dst, size_t n);
int bcmp(const void *a, const void *b, size_t n);
int ffs(int x);

#endif /* _BPF_RUNTIME_STRINGS_H */
