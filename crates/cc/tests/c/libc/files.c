/* Files in the working (natively) or granted (bpf-repl --fs) directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    FILE *f = fopen("numbers.txt", "w");
    if (!f) {
        perror("fopen");
        return 1;
    }
    for (int i = 1; i <= 5; i++)
        fprintf(f, "%d %s\n", i * i, i % 2 ? "odd" : "even");
    fputs("last line without newline", f);
    fputc('!', f);
    printf("ftell after writing %ld\n", ftell(f));
    printf("fclose %d\n", fclose(f));

    f = fopen("numbers.txt", "r");
    int v;
    char word[16];
    while (fscanf(f, "%d %15s", &v, word) == 2)
        printf("read %d %s\n", v, word);
    printf("feof %d ferror %d\n", feof(f) != 0, ferror(f) != 0);
    rewind(f);
    char line[64];
    while (fgets(line, sizeof line, f))
        printf("line [%s]", line);
    printf("\nfeof %d\n", feof(f) != 0);
    fseek(f, -5, SEEK_END);
    long at = ftell(f);
    printf("tail at %ld: [%s]\n", at, fgets(line, sizeof line, f));
    fseek(f, 2, SEEK_SET);
    int c = fgetc(f);
    ungetc('X', f);
    int c2 = getc(f);
    printf("fgetc %c then %c at %ld\n", c, c2, ftell(f));
    fpos_t pos;
    fgetpos(f, &pos);
    fgetc(f);
    fsetpos(f, &pos);
    printf("fsetpos back to %ld\n", ftell(f));
    int w = fputs("x", f);
    printf("write to read-only: %d ferror %d\n", w, ferror(f) != 0);
    fclose(f);

    f = fopen("data.bin", "wb+");
    double vals[4] = {1.5, -2.25, 1e300, 0.1};
    printf("fwrite %zu\n", fwrite(vals, sizeof vals[0], 4, f));
    fseek(f, sizeof(double), SEEK_SET);
    double back[4] = {0};
    size_t got = fread(back, sizeof back[0], 4, f);
    printf("fread %zu: %g %g %g\n", got, back[0], back[1], back[2]);
    printf("feof %d\n", feof(f) != 0);
    fclose(f);

    f = fopen("log.txt", "a");
    fprintf(f, "first\n");
    fclose(f);
    f = fopen("log.txt", "a+");
    fprintf(f, "second\n");
    rewind(f);
    while (fgets(line, sizeof line, f))
        printf("log [%s]", line);
    fclose(f);

    char *buf = NULL;
    size_t cap = 0;
    f = fopen("numbers.txt", "r");
    ssize_t n;
    while ((n = getline(&buf, &cap, f)) > 0)
        printf("getline %zd\n", n);
    free(buf);
    fclose(f);

    printf("rename %d\n", rename("log.txt", "renamed.txt"));
    printf("remove %d\n", remove("data.bin"));
    errno = 0;
    void *p = fopen("missing.txt", "r");
    printf("fopen missing %p errno %d\n", p, errno);
    errno = 0;
    int r = remove("missing.txt");
    printf("remove missing %d errno %d\n", r, errno);
    errno = 0;
    p = fopen("x", "q");
    printf("bad mode %p errno %d\n", p, errno);
    errno = 0;
    p = fopen("numbers.txt", "wx");
    printf("exclusive %p errno %d\n", p, errno);

    FILE *t = tmpfile();
    fprintf(t, "in memory %d", 42);
    rewind(t);
    fgets(line, sizeof line, t);
    printf("tmpfile [%s]\n", line);
    fclose(t);
    return 0;
}
