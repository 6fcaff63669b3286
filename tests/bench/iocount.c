/* iocount - an LD_PRELOAD shim that counts what a program writes to regular files.

   The bench runs ossup under it to measure what the checkpoint costs: write(), pwrite()
   and pwrite64() calls on regular files (the upload's source file is only read, so these
   are the checkpoint's writes), their bytes, and fsync()/fdatasync() calls. At exit one
   line is appended to the file named by $IOCOUNT_OUT:

       iocount writes=N bytes=B fsyncs=F

   Writes to pipes, sockets and terminals are not counted. */
#define _GNU_SOURCE 1
#define PRELOAD_NAME "iocount"
#include "../preload.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);

static uint64_t n_writes, n_bytes, n_syncs;

static int is_regular(int fd) {
    struct stat st;
    return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static void count(int fd, ssize_t n) {
    if (n > 0 && is_regular(fd)) {
        __atomic_add_fetch(&n_writes, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&n_bytes, (uint64_t)n, __ATOMIC_RELAXED);
    }
}

ssize_t write(int fd, const void *buf, size_t len);
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off);
int fsync(int fd);
int fdatasync(int fd);

ssize_t write(int fd, const void *buf, size_t len) {
    static write_fn real;
    ssize_t n;
    if (!real) next_symbol("write", &real, sizeof real);
    n = real(fd, buf, len);
    count(fd, n);
    return n;
}
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    ssize_t n;
    if (!real) next_symbol("pwrite", &real, sizeof real);
    n = real(fd, buf, len, off);
    count(fd, n);
    return n;
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    ssize_t n;
    if (!real) next_symbol("pwrite64", &real, sizeof real);
    n = real(fd, buf, len, off);
    count(fd, n);
    return n;
}
int fsync(int fd) {
    static sync_fn real;
    if (!real) next_symbol("fsync", &real, sizeof real);
    __atomic_add_fetch(&n_syncs, 1, __ATOMIC_RELAXED);
    return real(fd);
}
int fdatasync(int fd) {
    static sync_fn real;
    if (!real) next_symbol("fdatasync", &real, sizeof real);
    __atomic_add_fetch(&n_syncs, 1, __ATOMIC_RELAXED);
    return real(fd);
}

__attribute__((destructor)) static void report(void) {
    report_line("IOCOUNT_OUT", "iocount writes=%llu bytes=%llu fsyncs=%llu", (unsigned long long)n_writes,
                (unsigned long long)n_bytes, (unsigned long long)n_syncs);
}
