// Without --stdin, --fs or --deterministic-time the program has an empty
// standard input, no files (the note says how to grant a directory) and
// the real clock.
#include <stdio.h>
#include <time.h>
getchar()
//> note: the program read standard input, but none was given (bpf-repl: --stdin FILE, or a `//<` section in a transcript)
//> (int) -1
FILE *f = fopen("notes.txt", "r");
//> note: fopen("notes.txt"): no directory is granted to the program, so it cannot use files; start bpf-repl or bpf-jitlink with --fs DIR to let it use the files in DIR
f
//> (FILE *) NULL
time(0) > 1704067200
//> (int) 1
// A transcript's `//<` lines are the program's stdin for the next input.
//< 7 6
int x, y;
scanf("%d %d", &x, &y) == 2 ? x * y : -1
//> (int) 42
