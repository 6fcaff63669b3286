/* enospc - an LD_PRELOAD shim that makes a disk look full for chosen files.

   Every write(), pwrite() and pwrite64() to a file whose path starts with
   $ENOSPC_PREFIX fails with ENOSPC (nothing is written); all other writes go through.
   tests/test_ossup.py builds it and runs ossup under it to check what a full disk
   looks like for a download and for the checkpoint, without root or a small mount:

       cc -shared -fPIC tests/enospc.c -o enospc.so -ldl
       LD_PRELOAD=./enospc.so ENOSPC_PREFIX=/tmp/x/ckpt ossup put ... */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

/* dlsym's answer as a function pointer, without the object-to-function cast. */
static void next_symbol(const char *name, void *fnptr, size_t size) {
    void *sym = dlsym(RTLD_NEXT, name);
    if (!sym) {
        fprintf(stderr, "enospc: no %s\n", name);
        abort();
    }
    memcpy(fnptr, &sym, size);
}

/* Whether fd is open on a file under $ENOSPC_PREFIX. errno is left as it was. */
static int is_full(int fd) {
    const char *prefix = getenv("ENOSPC_PREFIX");
    char link[64], path[PATH_MAX];
    ssize_t n;
    int saved = errno;
    if (fd <= 2 || !prefix || !*prefix) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    errno = saved;
    if (n <= 0) return 0;
    path[n] = 0;
    return strncmp(path, prefix, strlen(prefix)) == 0;
}

ssize_t write(int fd, const void *buf, size_t len);
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off);
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off);

ssize_t write(int fd, const void *buf, size_t len) {
    static write_fn real;
    if (!real) next_symbol("write", &real, sizeof real);
    if (len && is_full(fd)) { errno = ENOSPC; return -1; }
    return real(fd, buf, len);
}
ssize_t pwrite(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    if (!real) next_symbol("pwrite", &real, sizeof real);
    if (len && is_full(fd)) { errno = ENOSPC; return -1; }
    return real(fd, buf, len, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off) {
    static pwrite_fn real;
    if (!real) next_symbol("pwrite64", &real, sizeof real);
    if (len && is_full(fd)) { errno = ENOSPC; return -1; }
    return real(fd, buf, len, off);
}
