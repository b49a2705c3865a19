// Entry points for the library test: a report, then the heap still works.
#include <stdlib.h>
int *blk;
int make(void) { blk = malloc(4 * sizeof(int)); return blk != 0; }
int overflow(void) { blk[4] = 1; return 0; }
int use_after(void) { free(blk); return blk[0]; }
int release(void) { free(blk); return 0; }
