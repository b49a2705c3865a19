// bpf-repl-options: --stdin hosted/stdin.txt --fs hosted --deterministic-time
// The C library's hosted parts, granted on the command line: stdin from
// a file (--stdin FILE), files in one directory (--fs DIR), a clock that
// gives the same times on every run (--deterministic-time).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int a, b;
scanf("%d %d", &a, &b)
//> (int) 2
a + b
//> (int) 46
char line[32];
fgets(line, sizeof line, stdin);
line
//> (char[32]) "\n"
getchar()
//> (int) 115
// `//<` lines feed the program's stdin before the input that follows.
//< 40
//< 2
scanf("%*[^\n]%d %d", &a, &b) == 2 ? a + b : -1
//> (int) 42
FILE *f = fopen("greeting.txt", "r");
fgets(line, sizeof line, f);
line
//> (char[32]) "hello from a file\n"
fclose(f);
fopen("../secret.txt", "r")
//> (FILE *) NULL
time(0)
//> (time_t) 1704067200
void bye(void) { printf("atexit handler ran\n"); }
atexit(bye);
printf("before exit\n");
//> before exit
exit(3);
//> atexit handler ran
//! error: the program called exit(3): this input ends here and is undone (output before the exit is kept); the session goes on
//!   #0 <input 21> at hosted.c:37:1
a
//> (int) 40
abort();
//! error: abort() called: this input ends here and is undone; the session goes on
//!   #0 <input 23> at hosted.c:43:1
a
//> (int) 40
