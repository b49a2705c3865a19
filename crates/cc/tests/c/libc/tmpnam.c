/* Temporary names and freopen of the standard streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *name = tmpnam(NULL);
    char copy[L_tmpnam + 32];
    strcpy(copy, name);
    FILE *f = fopen(copy, "w");
    if (!f)
        return 10;
    fprintf(f, "%d %s\n", 42, "temp");
    fclose(f);
    f = fopen(copy, "r");
    int n = 0;
    char word[16];
    int got = fscanf(f, "%d %15s", &n, word);
    fclose(f);
    printf("read back %d: %d %s\n", got, n, word);
    printf("append then read\n");
    f = fopen(copy, "a");
    fputs("more\n", f);
    fclose(f);

    /* stdin from the file. */
    if (!freopen(copy, "r", stdin))
        return 11;
    char line[32];
    fgets(line, sizeof line, stdin);
    printf("stdin line 1: %s", line);
    fgets(line, sizeof line, stdin);
    printf("stdin line 2: %s", line);
    fflush(stdout);

    /* stdout into a second temporary file, checked after closing it. */
    char out[L_tmpnam + 32];
    tmpnam(out);
    if (!freopen(out, "w", stdout))
        return 12;
    printf("hidden %d\n", 7);
    fclose(stdout);
    f = fopen(out, "r");
    if (!f)
        return 13;
    int v = 0;
    if (fscanf(f, "hidden %d", &v) != 1 || v != 7)
        return 14;
    fclose(f);
    if (remove(copy) != 0 || remove(out) != 0)
        return 15;
    if (fopen(copy, "r") != NULL)
        return 16;
    return 0;
}
