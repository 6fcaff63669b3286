/* fd_io.h - BearSSL's low-level I/O callbacks over a socket, for the bench programs
   (raw.c, sink.c): ctx points at the socket's int. Each returns > 0 bytes, or -1 on
   error or end of stream, as br_sslio_init() wants. */
#ifndef OSSR_BENCH_FD_IO_H
#define OSSR_BENCH_FD_IO_H
#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>

static int low_read(void *ctx, unsigned char *data, size_t len) {
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = recv(fd, data, len, 0);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}
static int low_write(void *ctx, const unsigned char *data, size_t len) {
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}
#endif
