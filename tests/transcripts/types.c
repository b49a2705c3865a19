// Structs, unions, enums, arrays, pointers and typedefs.
struct point { int x, y; };
struct point p = {1, 2};
p
//> (struct point) {.x = 1, .y = 2}
p.y
//> (int) 2
struct point *pp = &p;
pp->x = 10;
p
//> (struct point) {.x = 10, .y = 2}
union bits { unsigned int u; unsigned char b[4]; };
union bits v = { .u = 0x01020304 };
v
//> (union bits) {.u = 16909060, .b = {4, 3, 2, 1}}
enum color { RED, GREEN = 5, BLUE };
enum color c = BLUE;
c
//> (enum color) BLUE
(enum color)1
//> (enum color) 1
int arr[4] = {1, 2, 3, 4};
arr
//> (int[4]) {1, 2, 3, 4}
arr[2] + arr[3]
//> (int) 7
typedef unsigned long ulong;
ulong big = 1ul << 40;
big
//> (ulong) 1099511627776
struct line { struct point a, b; } ln = {{1, 2}, {3, 4}};
ln
//> (struct line) {.a = {.x = 1, .y = 2}, .b = {.x = 3, .y = 4}}
const char *names[] = {"zero", "one"};
names[1]
//> (const char *) "one"
char word[8] = "bpf";
word
//> (char[8]) "bpf"
int *null = 0;
null
//> (int *) NULL
struct point points[2] = {{1, 1}, {2, 4}};
points
//> (struct point[2]) {{.x = 1, .y = 1}, {.x = 2, .y = 4}}
// An array sized by its initializer keeps its size in later inputs.
int primes[] = {2, 3, 5, 7, 11};
sizeof primes / sizeof primes[0]
//> (unsigned long) 5
primes
//> (int[5]) {2, 3, 5, 7, 11}
char greeting[] = "hello";
sizeof greeting
//> (unsigned long) 6
greeting
//> (char[6]) "hello"
int grid[][2] = {{1, 2}, {3, 4}, {5, 6}};
sizeof grid
//> (unsigned long) 24
// const objects are read in place.
const int limits[3] = {10, 20, 30};
limits
//> (const int[3]) {10, 20, 30}
const int answer = 42;
answer
//> (const int) 42
answer + 1
//> (int) 43
const struct point origin = {0, 0};
origin
//> (const struct point) {.x = 0, .y = 0}
// An array that is not an object (a member of a ?: result) is copied.
struct pair { int v[2]; } pa = {{8, 9}}, pb = {{6, 7}};
(pa.v[0] > pb.v[0] ? pa : pb).v
//> (int[2]) {8, 9}
struct point *first = &points[0];
*first
//> (struct point) {.x = 1, .y = 1}
// Defining a struct again keeps the variables declared with it.
struct rgb { int r, g, b; } teal = {0, 128, 128};
struct rgb { int r, g, b; };
teal
//> (struct rgb) {.r = 0, .g = 128, .b = 128}
// Changing a type that earlier variables or functions use is refused,
// naming them; an unused type may change.
int brightness(struct rgb *c) { return c->r + c->g + c->b; }
struct rgb { unsigned char r, g, b; };
//! types.c:87:1: error: redefining 'struct rgb' would leave 'teal' (types.c:80), 'brightness' (types.c:86) with the old definition's layout; %undo back to before them, or give the new type another name
brightness(&teal)
//> (int) 256
typedef int score_t;
score_t best = 10;
typedef long score_t;
//! types.c:93:1: error: redefining 'score_t' would leave 'best' (types.c:92) with the old definition's layout; %undo back to before it, or give the new type another name
typedef int score_t;
best
//> (score_t) 10
struct scratch { int a; };
struct scratch { long a, b; };
sizeof(struct scratch)
//> (unsigned long) 16
