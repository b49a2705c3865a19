/* Clocks under the deterministic time source. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

int main(void)
{
    time_t t = time(NULL);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    printf("%s\n", buf);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    sleep(2);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept %.3f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday %ld.%06ld clock %ld\n", (long)tv.tv_sec, (long)tv.tv_usec, (long)clock());
    return 0;
}
