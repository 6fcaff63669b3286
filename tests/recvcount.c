/* recvcount - an LD_PRELOAD shim that counts how a program reads from sockets.

   tests/test_faults.py runs ossup under it to see whether a large reply is read in
   big pieces or a byte at a time: recv(), recvfrom(), recvmsg() and read() calls on
   sockets (read() on files, pipes and terminals is not counted), and the bytes they
   returned. At exit one line is appended to the file named by $RECVCOUNT_OUT:

       recvcount calls=N bytes=B

   Build: cc -O2 -shared -fPIC tests/recvcount.c -o recvcount.so -ldl */
#define _GNU_SOURCE 1
#define PRELOAD_NAME "recvcount"
#include "preload.h"
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef ssize_t (*recvfrom_fn)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);
typedef ssize_t (*read_fn)(int, void *, size_t);

static uint64_t n_calls, n_bytes;

static void count(ssize_t n) {
    __atomic_add_fetch(&n_calls, 1, __ATOMIC_RELAXED);
    if (n > 0) __atomic_add_fetch(&n_bytes, (uint64_t)n, __ATOMIC_RELAXED);
}

static int is_socket(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

ssize_t recv(int fd, void *buf, size_t len, int flags);
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
ssize_t recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t read(int fd, void *buf, size_t len);

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    static recv_fn real;
    ssize_t n;
    if (!real) next_symbol("recv", &real, sizeof real);
    n = real(fd, buf, len, flags);
    count(n);
    return n;
}
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen) {
    static recvfrom_fn real;
    ssize_t n;
    if (!real) next_symbol("recvfrom", &real, sizeof real);
    n = real(fd, buf, len, flags, from, fromlen);
    count(n);
    return n;
}
ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    static recvmsg_fn real;
    ssize_t n;
    if (!real) next_symbol("recvmsg", &real, sizeof real);
    n = real(fd, msg, flags);
    count(n);
    return n;
}
ssize_t read(int fd, void *buf, size_t len) {
    static read_fn real;
    ssize_t n;
    if (!real) next_symbol("read", &real, sizeof real);
    n = real(fd, buf, len);
    if (is_socket(fd)) count(n);
    return n;
}

__attribute__((destructor)) static void report(void) {
    report_line("RECVCOUNT_OUT", "recvcount calls=%llu bytes=%llu", (unsigned long long)n_calls,
                (unsigned long long)n_bytes);
}
