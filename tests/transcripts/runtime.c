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
//! 0x400000000 is 0 bytes inside the 16-byte heap block at 0x400000000
//! freed by:
//!   #0 <input 18> at runtime.c:26:1
//! previously allocated by:
//!   #0 <input 6> at runtime.c:7:11
unsigned long one = 1;
memcpy(0, "x", one);
//! error: in memcpy: invalid memory access: write of 1 byte at 0x0: NULL or unmapped low address
//!   #0 <input 21> at runtime.c:36:1
memset(buf, 'x', 40);
//! runtime.c:39:1: warning: 'memset' will always overflow; destination buffer has size 32, but size argument is 40 [-Wfortify-source]
//!    39 | memset(buf, 'x', 40);
//!       | ^
//! error: in memset: invalid memory access: write of 40 bytes at 0x300000118: global buffer overflow: byte 0x300000138 is past the end of a global variable
//!   #0 <input 22> at runtime.c:39:1
//! 0x300000138 is 0 bytes past the end of global variable 'buf' (32 bytes at 0x300000118)
//! the next global variable is '__repl_ref_17' at 0x300000158 (8 bytes)
assert(1 + 1 == 3);
//! error: Assertion failed: 1 + 1 == 3 (runtime.c:47)
//!   #0 <input 23> at runtime.c:47:1
srand(1);
rand() % 100
//> (int) 83
// Printed strings stop at the end of their heap block, and dangling
// pointers are named, not read.
char *word4 = malloc(4);
memcpy(word4, "abcd", 4);
word4
//> (char *) "abcd"<unterminated: 0x400000024 is past the end of the 4-byte heap block at 0x400000020>
strcpy(word4, "abc");
word4
//> (char *) "abc"
free(word4);
word4
//> (char *) 0x400000020 <freed heap block>
word4 + 1
//> (char *) 0x400000021 <inside the freed heap block at 0x400000020>
(char *)0x400100000
//> (char *) 0x400100000 <heap memory never allocated>
