/* Calendar conversions and formatting for fixed times (UTC and local). */
#include <stdio.h>
#include <string.h>
#include <time.h>

static void show(const char *what, const struct tm *tm)
{
    printf("%s: %d-%02d-%02d %02d:%02d:%02d wday %d yday %d dst %d off %ld zone %s\n", what,
           tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec,
           tm->tm_wday, tm->tm_yday, tm->tm_isdst, tm->tm_gmtoff, tm->tm_zone);
}

int main(void)
{
    time_t times[] = {0, 951782400, 1704067200, 1719792000, -86400 * 365L, 4102444800, 253402300799};
    char buf[128];
    for (unsigned i = 0; i < sizeof times / sizeof times[0]; i++) {
        struct tm g, l;
        gmtime_r(&times[i], &g);
        localtime_r(&times[i], &l);
        show("gmtime", &g);
        show("localtime", &l);
        strftime(buf, sizeof buf, "%a %A %b %B %c %d %e %H %I %j %m %M %p %S %U %w %W %x %X %y %Y %%", &g);
        printf("strftime [%s]\n", buf);
        strftime(buf, sizeof buf, "%F %T %D %R %r %u %V %G %g %C %h %n%t %z %Z %s", &l);
        printf("strftime [%s]\n", buf);
        printf("asctime %s", asctime(&g));
        printf("ctime %s", ctime(&times[i]));
        time_t back = mktime(&l);
        printf("mktime %ld same %d\n", (long)back, back == times[i]);
    }
    struct tm n = {0};
    n.tm_year = 124;
    n.tm_mon = 13; /* February of the next year */
    n.tm_mday = 31;
    n.tm_hour = 25;
    n.tm_isdst = -1;
    time_t t = mktime(&n);
    show("normalised", &n);
    printf("normalised time %ld\n", (long)t);
    printf("strftime too small %zu\n", strftime(buf, 5, "%Y-%m-%d", &n));
    printf("strftime empty %zu\n", strftime(buf, sizeof buf, "", &n));
    printf("difftime %.1f %.1f\n", difftime(100, 40), difftime(0, 9223372036854775807L));
    struct tm *p = gmtime(&times[2]);
    struct tm *q = localtime(&times[3]);
    printf("static result shared %d\n", p == q);
    char a[32];
    printf("asctime_r %s", asctime_r(p, a));
    printf("ctime_r %s", ctime_r(&times[1], a));
    return 0;
}
