// Replaying C that was not written for a REPL (issue 12): K&R layouts,
// conditionals, an unclosed delimiter that fails alone, a declaration
// that declares nothing.
#include <stdio.h>
typedef unsigned int T;
T
f1(void)
{
    return 7;
}
int (f2)(int si)
{
    return si + 1;
}
int broken( { return 0; }
//! replay.c:15:13: error: expected parameter declarator
//!    15 | int broken( { return 0; };
//!       |             ^
//! replay.c:15:13: error: expected ')'
//! replay.c:15:11: note: to match this '('
//!    15 | int broken( { return 0; };
//!       |           ^
//! note: this input ends before line 24: it leaves a `(` that is never closed, and line 24 can only start a new declaration
int after_broken = 3;
after_broken
//> (int) 3
#define FEATURE
#ifdef FEATURE
int feature = 1;
#ifdef NESTED
int nested = 1;
#else
int nested = 2;
#endif
#else
int feature = 0;
#endif
feature + nested
//> (int) 3
#ifndef NO_MAIN
int main2(void) { return 1; }
#else
int main2(void) { return 2; }
#endif
main2()
//> (int) 1
T;
//! replay.c:47:1: warning: declaration does not declare anything [-Wmissing-declarations]
//!    47 | T;
//!       | ^
extern int later;
int later = 5;
f1() + f2(1) + later
//> (T) 14
#ifdef DEBUG
printf("not shown\n");
#endif
int lost(void) {
  return 1;
//! replay.c:59:12: error: expected '}'
//!    59 |   return 1;
//!       |            ^
//! replay.c:58:16: note: to match this '{'
//!    58 | int lost(void) {
//!       |                ^
//! note: this input ends before line 67: it leaves a `{` that is never closed, and line 67 can only start a new declaration
int main(void) {
  return lost();
}
//! replay.c:68:10: error: call to undeclared function 'lost'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]
//!    68 |   return lost();
//!       |          ^
main()
//! replay.c:73:1: error: call to undeclared function 'main'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]
//!    73 | main()
//!       | ^
