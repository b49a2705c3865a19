/* read and write on the standard descriptors. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char raw[64];
    ssize_t n = read(0, raw, sizeof raw);
    write(1, "read: [", 7);
    write(1, raw, (size_t)n);
    write(1, "]\n", 2);
    n = read(0, raw, sizeof raw);
    printf("at end %zd\n", n);
    fflush(stdout);
    errno = 0;
    n = read(5, raw, 1);
    printf("bad fd %zd errno %d\n", n, errno);
    errno = 0;
    n = write(7, raw, 1);
    printf("bad fd %zd errno %d\n", n, errno);
    printf("isatty %d\n", isatty(1));
    return 0;
}
