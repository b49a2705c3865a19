// Directives persist: includes and macros are seen by later inputs.
#include <stdint.h>
#include <string.h>
#define SQUARE(x) ((x) * (x))
#define LIMIT 12
SQUARE(LIMIT)
//> (int) 144
uint8_t small = 255;
small
//> (uint8_t) 255
(uint8_t)(small + 1)
//> (uint8_t) 0
int64_t wide = INT64_MAX;
wide
//> (int64_t) 9223372036854775807
strlen("four")
//> (unsigned long) 4
#define MULTI(a, b) \
    ((a) + \
     (b))
MULTI(1, 2)
//> (int) 3
#ifdef LIMIT
int limit_seen = 1;
#else
int limit_seen = 0;
#endif
limit_seen
//> (int) 1
