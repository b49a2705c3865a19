// Memcheck (on by default, `--memcheck off` to turn it off): heap and
// global accesses are checked; a fault names the block with the backtraces
// of its malloc and free, and the session goes on.
#include <stdlib.h>
%memcheck
//> memcheck: on (heap and global accesses checked)
char *make(int n) { return malloc(n); }
char *p = make(8);
p[8] = 1;
//! error: invalid memory access: write of 1 byte at 0x400000008: heap buffer overflow: byte 0x400000008 is past the end of a heap block
//!   #0 <input 4> at memcheck.c:9:6
//! 0x400000008 is 0 bytes past the end of the 8-byte heap block at 0x400000000
//! allocated by:
//!   #0 make at memcheck.c:7:28
//!   #1 <input 3> at memcheck.c:8:11
p[7] = 'x';
p[7]
//> (char) 'x'
free(p);
p[0]
//! error: invalid memory access: read of 1 byte at 0x400000000: use after free: byte 0x400000000 is inside a heap block that was freed
//!   #0 <input 8> at memcheck.c:20:1
//! 0x400000000 is 0 bytes inside the 8-byte heap block at 0x400000000
//! freed by:
//!   #0 <input 7> at memcheck.c:19:1
//! previously allocated by:
//!   #0 make at memcheck.c:7:28
//!   #1 <input 3> at memcheck.c:8:11
// A faulting input is rolled back; the block stays usable and freeable.
int *q = malloc(4 * sizeof(int));
q[4] = 7;
//! error: invalid memory access: write of 4 bytes at 0x400000030: heap buffer overflow: byte 0x400000030 is past the end of a heap block
//!   #0 <input 10> at memcheck.c:31:6
//! 0x400000030 is 0 bytes past the end of the 16-byte heap block at 0x400000020
//! allocated by:
//!   #0 <input 9> at memcheck.c:30:10
q[3] = 5;
q[3]
//> (int) 5
free(q);
// One global read past its end into the next is caught too.
int g[4] = {1, 2, 3, 4};
int h = 9;
int *gp = g;
gp[4]
//! error: invalid memory access: read of 4 bytes at 0x3000000b0: global buffer overflow: byte 0x3000000b0 is past the end of a global variable
//!   #0 <input 17> at memcheck.c:45:1
//! 0x3000000b0 is 0 bytes past the end of global variable 'g' (16 bytes at 0x3000000a0)
//! the next global variable is 'h' at 0x3000000d0 (4 bytes)
g
//> (int[4]) {1, 2, 3, 4}
%memcheck off
//! %memcheck: memcheck is on and can only be set at start-up (bpf-repl --memcheck on|off)
