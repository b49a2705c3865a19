/* <ctype.h> for BPF programs run by bpf-repl (bpf-runtime).
 *
 * Character classes of the C locale, as static __inline__ functions: plain BPF
 * code, no helper calls. Each takes an int that is EOF or an unsigned char
 * value; anything else is in no class (as glibc in the C locale). */
#ifndef _BPF_RUNTIME_CTYPE_H
#define _BPF_RUNTIME_CTYPE_H

static __inline__ int isdigit(int c) { return (unsigned)c - '0' < 10; }
static __inline__ int isupper(int c) { return (unsigned)c - 'A' < 26; }
static __inline__ int islower(int c) { return (unsigned)c - 'a' < 26; }
static __inline__ int isalpha(int c) { return ((unsigned)c | 32) - 'a' < 26; }
static __inline__ int isalnum(int c) { return isalpha(c) || isdigit(c); }
static __inline__ int isxdigit(int c) { return isdigit(c) || ((unsigned)c | 32) - 'a' < 6; }
static __inline__ int isspace(int c) { return c == ' ' || (unsigned)c - '\t' < 5; }
static __inline__ int isblank(int c) { return c == ' ' || c == '\t'; }
static __inline__ int iscntrl(int c) { return (unsigned)c < 0x20 || c == 0x7f; }
static __inline__ int isprint(int c) { return (unsigned)c - 0x20 < 0x5f; }
static __inline__ int isgraph(int c) { return (unsigned)c - 0x21 < 0x5e; }
static __inline__ int ispunct(int c) { return isgraph(c) && !isalnum(c); }
static __inline__ int tolower(int c) { return isupper(c) ? c | 32 : c; }
static __inline__ int toupper(int c) { return islower(c) ? c & 0x5f : c; }

#endif /* _BPF_RUNTIME_CTYPE_H */
