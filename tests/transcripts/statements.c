// Statements run once; program output and values keep their order.
#include <stdio.h>
printf("hello, %s!\n", "world");
//> hello, world!
for (int i = 0; i < 3; i++)
    printf("i = %d\n", i);
//> i = 0
//> i = 1
//> i = 2
int count = 0;
while (count < 5) count++;
count
//> (int) 5
if (count == 5) {
    printf("five\n");
} else {
    printf("not five\n");
}
//> five
do { count--; } while (count > 2);
count
//> (int) 2
printf("%d %u %x %c|\n", -1, 3u, 255, 'z')
//> -1 3 ff z|
//> (int) 11
printf("%s %ld %%\n", "str", 1234567890123L)
//> str 1234567890123 %
//> (int) 20
puts("a line");
//> a line
{ int local = 3; printf("local %d\n", local * 2); }
//> local 6
