/* diskfault - an LD_PRELOAD shim that makes the disk misbehave for chosen files.

   For files whose path starts with $DISKFAULT_PREFIX, $DISKFAULT says what goes wrong:

       enospc      write(), pwrite() and pwrite64() fail with ENOSPC, writing nothing
                   (a full disk)
       slow-sync   fsync() and fdatasync() take $DISKFAULT_SECONDS (default 15) seconds,
                   signals or not (a slow disk: a place where a program cannot stop)
       eio-read    read(), pread() and pread64() fail with EIO (a bad sector)

   All other calls go through. tests/test_ossup.py builds it and runs ossup under it, with
   no root and no special mount:

       cc -shared -fPIC tests/diskfault.c -o diskfault.so -ldl
       LD_PRELOAD=./diskfault.so DISKFAULT=enospc DISKFAULT_PREFIX=/tmp/x/ckpt ossup put ... */
#define _GNU_SOURCE 1
#define PRELOAD_NAME "diskfault"
#include "preload.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);
typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);

/* Whether fault is the one asked for and fd is open on a file under $DISKFAULT_PREFIX.
   errno is left as it was. */
static int hit(int fd, const char *fault) {
    const char *prefix = getenv("DISKFAULT_PREFIX"), *which = getenv("DISKFAULT");
    char link[64], path[PATH_MAX];
    ssize_t n;
    int saved = errno;
    if (fd <= 2 || !prefix || !*prefix || !which || strcmp(which, fault) != 0) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    errno = saved;
    if (n <= 0) return 0;
    path[n] = 0;
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Sleeps the whole time: a signal handler runs, and the sleep goes on. */
static void slow_disk(void) {
    const char *s = getenv("DISKFAULT_SECONDS");
    struct timespec left;
    int saved = errno;
    left.tv_sec = s && *s ? atoi(s) : 15;
    left.tv_nsec = 0;
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {}
    errno = saved;
}

ssize_t write(int fd, const void *buf, size_t len);
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off);
int fsync(int fd);
int fdatasync(int fd);
ssize_t read(int fd, void *buf, size_t len);
ssize_t pread(int fd, void *buf, size_t len, off_t off);
ssize_t pread64(int fd, void *buf, size_t len, off_t off);

ssize_t read(int fd, void *buf, size_t len) {
    static read_fn real;
    if (!real) next_symbol("read", &real, sizeof real);
    if (len && hit(fd, "eio-read")) { errno = EIO; return -1; }
    return real(fd, buf, len);
}
ssize_t pread(int fd, void *buf, size_t len, off_t off) {
    static pread_fn real;
    if (!real) next_symbol("pread", &real, sizeof real);
    if (len && hit(fd, "eio-read")) { errno = EIO; return -1; }
    return real(fd, buf, len, off);
}
ssize_t pread64(int fd, void *buf, size_t len, off_t off) {
    static pread_fn real;
    if (!real) next_symbol("pread64", &real, sizeof real);
    if (len && hit(fd, "eio-read")) { errno = EIO; return -1; }
    return real(fd, buf, len, off);
}

ssize_t write(int fd, const void *buf, size_t len) {
    static write_fn real;
    if (!real) next_symbol("write", &real, sizeof real);
    if (len && hit(fd, "enospc")) { errno = ENOSPC; return -1; }
    return real(fd, buf, len);
}
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    if (!real) next_symbol("pwrite", &real, sizeof real);
    if (len && hit(fd, "enospc")) { errno = ENOSPC; return -1; }
    return real(fd, buf, len, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    if (!real) next_symbol("pwrite64", &real, sizeof real);
    if (len && hit(fd, "enospc")) { errno = ENOSPC; return -1; }
    return real(fd, buf, len, off);
}
int fsync(int fd) {
    static sync_fn real;
    if (!real) next_symbol("fsync", &real, sizeof real);
    if (hit(fd, "slow-sync")) slow_disk();
    return real(fd);
}
int fdatasync(int fd) {
    static sync_fn real;
    if (!real) next_symbol("fdatasync", &real, sizeof real);
    if (hit(fd, "slow-sync")) slow_disk();
    return real(fd);
}
