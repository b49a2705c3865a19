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
