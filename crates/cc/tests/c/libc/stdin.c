/* Reading standard input: scanf, getchar, ungetc, fgets, getline, read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    int a, b;
    int r = scanf("%d %d", &a, &b);
    printf("scanf %d: %d %d\n", r, a, b);
    int c = getchar();
    printf("getchar %d\n", c);
    c = getchar();
    printf("ungetc %d\n", ungetc(c, stdin));
    char line[8];
    while (fgets(line, sizeof line, stdin)) {
        printf("fgets [%s] %zu\n", line, strlen(line));
        if (strchr(line, '\n'))
            break;
    }
    double x;
    char word[8];
    r = scanf("%lf %7s", &x, word);
    printf("scanf %d: %g %s\n", r, x, word);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getline(&buf, &cap, stdin);
    printf("getline %zd [%s]\n", n, buf);
    printf("getchar at end %d feof %d\n", getchar(), feof(stdin) != 0);
    clearerr(stdin);
    printf("after clearerr feof %d\n", feof(stdin));
    r = scanf("%d", &a);
    printf("scanf at end %d\n", r);
    n = getline(&buf, &cap, stdin);
    printf("getline at end %zd\n", n);
    free(buf);
    printf("fileno %d %d %d\n", fileno(stdin), fileno(stdout), fileno(stderr));
    return 0;
}
