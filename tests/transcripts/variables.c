// Variables: tentative definitions, non-constant initializers, redefinition.
#include <stdlib.h>
int n;
n
//> (int) 0
n = 5;
int n;
n
//> (int) 5
int total = 10;
int get_total(void) { return total; }
get_total()
//> (int) 10
int total = 99;
get_total()
//> (int) 99
int *cells = calloc(4, sizeof(int));
cells[2] = 7;
cells[2]
//> (int) 7
int x = 2; x *= 3; x + 1
//> (int) 7
x
//> (int) 6
static int hidden = 4;
hidden * hidden
//> (int) 16
// Functions read a redefined constant's new value.
const int limit = 5;
int over_limit(int v) { return v > limit; }
over_limit(6)
//> (int) 1
const int limit = 10;
over_limit(6)
//> (int) 0
// A tentative definition keeps a variable of the same type, and makes a
// new, zeroed one when the type changes.
int kept = 3;
int kept;
kept
//> (int) 3
int grows[2] = {1, 2};
int grows[4];
grows
//> (int[4]) {0, 0, 0, 0}
long kept;
kept
//> (long) 0
// Redefining a macro needs no #undef.
#define SCALE 2
SCALE * 21
//> (int) 42
#define SCALE 3
SCALE * 21
//> (int) 63
