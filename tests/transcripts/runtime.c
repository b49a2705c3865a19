// The C runtime: headers and checked library functions.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <assert.h>
char *s = malloc(16);
strcpy(s, "abc");
strcat(s, "def");
s
//> (char *) "abcdef"
strlen(s)
//> (unsigned long) 6
toupper(s[0])
//> (int) 65
strcmp("a", "b") < 0
//> (int) 1
atoi("  -42")
//> (int) -42
abs(-5)
//> (int) 5
char buf[32];
snprintf(buf, sizeof buf, "[%5d|%-4s]", 42, "ab");
buf
//> (char[32]) "[   42|ab  ]"
free(s);
free(s);
//! error: free(0x400000000): double free: the block was already freed
//!   #0 <input 19> at runtime.c:27:1
unsigned long one = 1;
memcpy(0, "x", one);
//! error: in memcpy: invalid memory access: write of 1 byte at 0x0: NULL or unmapped low address
//!   #0 <input 21> at runtime.c:31:1
memset(buf, 'x', 40);
//! runtime.c:34:1: warning: 'memset' will always overflow; destination buffer has size 32, but size argument is 40 [-Wfortify-source]
//!    34 | memset(buf, 'x', 40);
//!       | ^
assert(1 + 1 == 3);
//! error: Assertion failed: 1 + 1 == 3 (runtime.c:38)
//!   #0 <input 23> at runtime.c:38:1
srand(1);
rand() % 100
//> (int) 83
// Printed strings stop at the end of their heap block, and dangling
// pointers are named, not read.
char *word4 = malloc(4);
memcpy(word4, "abcd", 4);
word4
//> (char *) "abcd"<unterminated: 0x400000004 is past the end of the 4-byte heap block at 0x400000000>
strcpy(word4, "abc");
word4
//> (char *) "abc"
free(word4);
word4
//> (char *) 0x400000000 <freed heap block>
word4 + 1
//> (char *) 0x400000001 <inside the freed heap block at 0x400000000>
(char *)0x400100000
//> (char *) 0x400100000 <heap memory never allocated>
