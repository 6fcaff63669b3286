/* meter - runs a command and reports what it cost: wall time, user and system CPU time,
   and peak resident set size, all from the command's own process (wait4's rusage).

       meter OUT PROG [ARG...]

   OUT receives one line:

       start=T wall=S user=S sys=S maxrss_kib=N status=N

   T is the CLOCK_REALTIME time (seconds) just before the command was started, S are
   seconds, status is the command's exit status (128 + N when killed by signal N), which is
   also meter's own. Standard input, output and error are the command's too.

   Why a separate program: on Linux, exec() folds the high-water RSS of the process image it
   replaces into the new program's ru_maxrss. A command started straight from the bench
   driver (a Python process holding a 64 MiB buffer) would report the driver's RSS. meter is
   linked statically and starts the command with posix_spawn (vfork semantics), so the image
   replaced is meter's own, a few hundred KiB, below any program measured. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double seconds(const struct timeval *tv) {
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* wait4() is not in POSIX; getrusage(RUSAGE_CHILDREN) after waitpid() gives the same for
   the only child there is. */
int main(int argc, char **argv) {
    struct timespec t0, t1, real0;
    struct rusage ru;
    pid_t pid;
    int rc, status, code;
    FILE *out;
    if (argc < 3) {
        fprintf(stderr, "usage: meter OUT PROG [ARG...]\n");
        return 2;
    }
    clock_gettime(CLOCK_REALTIME, &real0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ);
    if (rc != 0) {
        fprintf(stderr, "meter: cannot start %s: %s\n", argv[2], strerror(rc));
        return 127;
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "meter: waitpid: %s\n", strerror(errno));
            return 127;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_CHILDREN, &ru);
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out = fopen(argv[1], "w");
    if (!out) {
        fprintf(stderr, "meter: cannot write %s: %s\n", argv[1], strerror(errno));
        return 127;
    }
    fprintf(out, "start=%.6f wall=%.6f user=%.6f sys=%.6f maxrss_kib=%ld status=%d\n",
            (double)real0.tv_sec + (double)real0.tv_nsec / 1e9,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
            seconds(&ru.ru_utime), seconds(&ru.ru_stime), ru.ru_maxrss, code);
    fclose(out);
    return code;
}
