/* loop.c - an upload driven by one thread's own event loop: a session with four
   connections, poll() to wait for them, nothing that blocks but the name lookup. A
   firmware superloop does the same with its network stack in place of the sockets.

       cc -DOSSR_NO_THREADS examples/loop.c -o loop -lbearssl      (-DOSSR_NO_TLS: http only)
       OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... ./loop ENDPOINT BUCKET KEY FILE

   Each lane of the session is one connection; the session says what it wants of it
   (connect, write, read, close) and this loop does it and reports back. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LANES 4

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts a connect without waiting for it: the socket, or -1 with *err set. */
static int connect_start(const char *host, uint16_t port, int *err) {
    struct addrinfo hints, *res = NULL;
    char service[8];
    int fd;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res) { *err = 0; return -1; }
    fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd >= 0) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
        if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) { *err = errno; close(fd); fd = -1; }
    } else {
        *err = errno;
    }
    freeaddrinfo(res);
    return fd;
}

/* Carries out a lane's want once poll() says its socket is ready. */
static void lane_ready(ossr_session *s, ossr_lane *l, int fd) {
    ssize_t n;
    int err = 0;
    socklen_t len = sizeof err;
    switch (l->want) {
    case OSSR_LANE_CONNECT:
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) ossr_lane_failed(s, l, OSSR_E_CONNECT, err);   /* a CLOSE of it comes next */
        else ossr_lane_opened(s, l, NULL);
        break;
    case OSSR_LANE_WRITE:
        n = send(fd, l->out, l->out_len, MSG_NOSIGNAL);
        if (n > 0) ossr_lane_wrote(s, l, (size_t)n);
        else if (errno != EAGAIN && errno != EINTR) ossr_lane_failed(s, l, OSSR_E_SEND, errno);
        break;
    case OSSR_LANE_READ:
        n = recv(fd, l->in, l->in_cap, 0);
        if (n >= 0) ossr_lane_read(s, l, (size_t)n);
        else if (errno != EAGAIN && errno != EINTR) ossr_lane_failed(s, l, OSSR_E_RECV, errno);
        break;
    }
}

int main(int argc, char **argv) {
    ossr_options o;
    ossr_status st;
    ossr_session *s = NULL;
    ossr_result r;
    struct stat sb;
    int fds[LANES], i;
    void *mem;
    size_t size;
    char line[1024];
    if (argc != 5) { fprintf(stderr, "usage: loop ENDPOINT BUCKET KEY FILE\n"); return 2; }
    memset(&o, 0, sizeof o);
    o.endpoint = argv[1];
    o.bucket = argv[2];
    o.key = argv[3];
    o.file_path = argv[4];
    o.access_key_id = getenv("OSS_ACCESS_KEY_ID");
    o.access_key_secret = getenv("OSS_ACCESS_KEY_SECRET");
    o.num_threads = LANES;                 /* without threads: four connections at once */
    o.multipart_threshold = 1024 * 1024;
    o.part_size = 1024 * 1024;
    if (stat(o.file_path, &sb) != 0) { perror(o.file_path); return 1; }
    size = ossr_session_size(&o, (uint64_t)sb.st_size);
    mem = malloc(size);                    /* a static block on a device */
    for (i = 0; i < LANES; i++) fds[i] = -1;

    r = mem ? ossr_session_init(&s, &o, mem, size) : OSSR_E_NOMEM;
    while (r == OSSR_OK || r == OSSR_PENDING) {
        ossr_lane *lanes;
        struct pollfd pfd[LANES];
        int n, m = 0, map[LANES];
        int64_t wake, now = now_ms();
        if ((r = ossr_session_step(s, now)) != OSSR_PENDING) break;
        n = ossr_session_lanes(s, &lanes);
        for (i = 0; i < n && i < LANES; i++) {
            ossr_lane *l = &lanes[i];
            int err = 0;
            if (l->want == OSSR_LANE_CLOSE) {   /* also after a connect that failed or timed out */
                if (fds[i] >= 0) close(fds[i]);
                fds[i] = -1;
                ossr_lane_closed(s, l);
                continue;
            }
            if (l->want == OSSR_LANE_CONNECT && l->tls_name) {   /* TLS the session cannot do itself: none here */
                ossr_lane_failed(s, l, OSSR_E_TLS_HANDSHAKE, 0);
                continue;
            }
            if (l->want == OSSR_LANE_CONNECT && fds[i] < 0 && (fds[i] = connect_start(l->host, l->port, &err)) < 0) {
                ossr_lane_failed(s, l, err ? OSSR_E_CONNECT : OSSR_E_RESOLVE, err);
                continue;
            }
            if (l->want == OSSR_LANE_IDLE) continue;
            pfd[m].fd = fds[i];
            pfd[m].events = l->want == OSSR_LANE_READ ? POLLIN : POLLOUT;
            map[m++] = i;
        }
        wake = ossr_session_wake(s);
        if (poll(pfd, (nfds_t)m, wake == -1 ? 1000 : wake <= now ? 0 : (int)(wake - now)) > 0)
            for (i = 0; i < m; i++)
                if (pfd[i].revents) lane_ready(s, &lanes[map[i]], pfd[i].fd);
    }
    if (s) r = ossr_session_finish(s, &st);
    for (i = 0; i < LANES; i++)
        if (fds[i] >= 0) close(fds[i]);
    free(mem);
    if (r != OSSR_OK) { fprintf(stderr, "loop: %s\n", s ? ossr_status_format(&st, line, sizeof line) : ossr_result_str(r)); return 1; }
    printf("loop: uploaded %llu bytes in %u parts (%u sent now, %u reused) over %u connections\n",
           (unsigned long long)st.size, st.parts_total, st.parts_uploaded, st.parts_reused, st.workers);
    return 0;
}
