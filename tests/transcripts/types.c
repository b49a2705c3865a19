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
//> (struct point[2]) {<incomplete type>, <incomplete type>}
