/*
 * A fork server for clang, loaded with LD_PRELOAD.
 *
 * Most of a small clang run is start-up: loading and relocating libLLVM and
 * libclang-cpp and running their static constructors (~18 ms of ~24 ms on
 * a 2-core machine). With BPF_REPL_FORKSERVER=1 in its environment, a
 * clang process started with this library does its start-up once and then
 * serves compile requests: for each, it forks a child that runs clang's
 * own main() with the request's arguments, so every compile starts from an
 * already-initialised process (the technique of AFL's fork server).
 *
 * Protocol on the server's stdin/stdout, one request at a time:
 *   server -> host: "bpf-repl-forkserver 2\n" once at start-up
 *   host -> server: "<argc>\n" then argc lines (argv, argv[0] first),
 *                   then three lines: the file that receives the child's
 *                   stdout, the file for its stderr (may be the same),
 *                   and the largest file in bytes the child may write
 *   server -> host: "<pid>\n" as soon as the child runs, then
 *                   "<status>\n" when it ends (exit code, or 128 + signal)
 * End of input ends the server.
 *
 * Bounds: the server and every child die with their parent
 * (PR_SET_PDEATHSIG); each child is the leader of its own process group,
 * so the host can kill it (and anything it starts) on a timeout or Ctrl-C
 * with kill(-pid); RLIMIT_FSIZE stops a child that would write a file
 * larger than the limit (SIGXFSZ). Without BPF_REPL_FORKSERVER the library
 * does nothing: clang runs as usual.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;
extern char **environ;

#define MAX_LINE 16384
#define MAX_ARGS 4096

static int read_line(FILE *in, char *buf) {
    if (!fgets(buf, MAX_LINE, in)) return 0;
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n') buf[n - 1] = 0;
    return 1;
}

static int run_one(FILE *in, FILE *out) {
    char line[MAX_LINE];
    if (!read_line(in, line)) return 0;
    int argc = atoi(line);
    if (argc <= 0 || argc > MAX_ARGS) return 0;
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    if (!argv) return 0;
    for (int i = 0; i < argc; i++) {
        if (!read_line(in, line)) return 0;
        argv[i] = strdup(line);
    }
    char out_path[MAX_LINE], err_path[MAX_LINE];
    if (!read_line(in, out_path) || !read_line(in, err_path) || !read_line(in, line)) return 0;
    unsigned long long fsize = strtoull(line, NULL, 10);
    fflush(out);
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != server) _exit(127);
        struct rlimit limit = {fsize, fsize};
        if (fsize) setrlimit(RLIMIT_FSIZE, &limit);
        signal(SIGXFSZ, SIG_DFL);
        int so = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int se = strcmp(out_path, err_path) == 0 ? so
                                                 : open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int nul = open("/dev/null", O_RDONLY);
        if (so < 0 || se < 0 || nul < 0) _exit(127);
        dup2(nul, 0);
        dup2(so, 1);
        dup2(se, 2);
        exit(real_main(argc, argv, environ));
    }
    fprintf(out, "%d\n", pid > 0 ? (int)pid : -1);
    fflush(out);
    int status = 0;
    int code = 127;
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    fprintf(out, "%d\n", code);
    fflush(out);
    return 1;
}

static int serve_or_run(int argc, char **argv, char **envp) {
    const char *on = getenv("BPF_REPL_FORKSERVER");
    if (!on || strcmp(on, "1") != 0) return real_main(argc, argv, envp);
    /* Die with the REPL, even if it is killed (BPF_REPL_PARENT is its pid:
       if it is gone already, getppid() no longer names it). */
    const char *parent = getenv("BPF_REPL_PARENT");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (parent && atoi(parent) != (int)getppid()) return 1;
    unsetenv("BPF_REPL_FORKSERVER");
    unsetenv("BPF_REPL_PARENT");
    unsetenv("LD_PRELOAD");
    fprintf(stdout, "bpf-repl-forkserver 2\n");
    fflush(stdout);
    while (run_one(stdin, stdout)) {
    }
    return 0;
}

typedef int (*start_fn)(main_fn, int, char **, void (*)(void), void (*)(void),
                        void (*)(void), void *);

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void),
                      void (*fini)(void), void (*rtld_fini)(void), void *stack_end) {
    start_fn next = (start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return next(serve_or_run, argc, argv, init, fini, rtld_fini, stack_end);
}
