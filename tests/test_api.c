/* API-level tests of ossr_upload()/ossr_download() against the test server: the progress
   callback, cancelling from it, resuming after the cancel, the log callback, status
   fields on failure, and that no secret reaches the checkpoint or the log.

       test_api ENDPOINT WORKDIR        (run by tests/test_e2e.py with the server's address)

   Prints "api: N passed, M failed" last. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"

static const char *SECRET = "test-secret";

typedef struct progress_log {
    uint64_t calls, last, total, max_seen, cancel_at, at_cancel;
    int cancelled, non_part_values;
    uint64_t part_size;
} progress_log;

static int on_progress(uint64_t done, uint64_t total, void *user) {
    progress_log *p = (progress_log *)user;
    p->calls++;
    p->last = done;
    p->total = total;
    if (done > p->max_seen) p->max_seen = done;
    if (p->part_size && done % p->part_size != 0 && done != total) p->non_part_values++;
    if (p->cancel_at && done >= p->cancel_at && !p->cancelled) {
        p->cancelled = 1;
        p->at_cancel = done;
        return 1;
    }
    return 0;
}

static char logbuf[65536];
static size_t loglen;
static void on_log(int level, const char *msg, void *user) {
    size_t n = strlen(msg);
    (void)level; (void)user;
    if (loglen + n + 2 < sizeof logbuf) {
        memcpy(logbuf + loglen, msg, n);
        loglen += n;
        logbuf[loglen++] = '\n';
        logbuf[loglen] = 0;
    }
}

static void make_file(const char *path, size_t size, unsigned seed) {
    FILE *f = fopen(path, "wb");
    size_t i;
    for (i = 0; i < size; i++) { seed = seed * 1103515245u + 12345u; fputc((int)(seed >> 16) & 255, f); }
    fclose(f);
}
static int file_contains(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    static char buf[1 << 20];
    size_t n;
    if (!f) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    {
        size_t i, m = strlen(needle);
        for (i = 0; i + m <= n; i++)
            if (memcmp(buf + i, needle, m) == 0) return 1;
    }
    return 0;
}
/* Whether a checkpoint file holds the slot that marks a sent Complete. */
static int checkpoint_has_completing(const char *path) {
    static unsigned char buf[1 << 20];
    FILE *f = fopen(path, "rb");
    size_t n, off;
    ossr_checkpoint k;
    long head;
    int found = 0;
    if (!f) return 0;
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    head = ossr_checkpoint_decode(buf, n, &k);
    if (head <= 0) return 0;
    for (off = (size_t)head; off + OSSR_CKPT_SLOT <= n; off += OSSR_CKPT_SLOT) {
        ossr_checkpoint_part p;
        if (ossr_checkpoint_decode_part(buf + off, &p) && p.number == OSSR_CKPT_COMPLETING) found = 1;
    }
    return found;
}
static int same_files(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int ca, cb, same = fa && fb;
    while (same) {
        ca = fgetc(fa); cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* ---- robustness hooks ---- */
static int64_t clock_value;            /* what the skewed clock hook answers */
static int64_t skewed_clock(void *user) { (void)user; return clock_value; }

typedef struct creds_state { int calls; int bad_first; int64_t ttl; } creds_state;
static int give_creds(ossr_credentials *out, void *user) {
    creds_state *cs = (creds_state *)user;
    cs->calls++;
    snprintf(out->access_key_id, sizeof out->access_key_id, "%s",
             cs->bad_first && cs->calls == 1 ? "unknown-ak" : "test-ak");
    snprintf(out->access_key_secret, sizeof out->access_key_secret, "%s", SECRET);
    out->expires_at = cs->ttl ? (int64_t)time(NULL) + cs->ttl : 0;
    return 0;
}

/* Credentials whose token (or key id) carries a line break, as a garbled or hostile STS
   reply decoded from JSON can: they must never reach a request head. */
typedef struct broken_creds { int calls; int in_key_id; } broken_creds;
static int give_broken_creds(ossr_credentials *out, void *user) {
    broken_creds *b = (broken_creds *)user;
    b->calls++;
    snprintf(out->access_key_id, sizeof out->access_key_id, "%s", b->in_key_id ? "test-ak\r\nx-oss-meta-k: 1" : "test-ak");
    snprintf(out->access_key_secret, sizeof out->access_key_secret, "%s", SECRET);
    snprintf(out->security_token, sizeof out->security_token, "%s",
             b->in_key_id ? "" : "token\r\nx-oss-object-acl: public-read-write");
    out->expires_at = 0;
    return 0;
}

typedef struct change_state { const char *path; uint64_t at; int done; } change_state;
static int change_file_midway(uint64_t done, uint64_t total, void *user) {
    change_state *cs = (change_state *)user;
    (void)total;
    if (!cs->done && done >= cs->at) {   /* another writer appends to the file */
        FILE *f = fopen(cs->path, "ab");
        fputs("appended while uploading", f);
        fclose(f);
        cs->done = 1;
    }
    return 0;
}

#ifndef OSSR_NO_THREADS
#include <pthread.h>
#include <unistd.h>
#include <poll.h>
typedef struct canceller { volatile int flag; volatile int finished; uint64_t at; } canceller;
static uint64_t seen_progress;
static int track_progress(uint64_t done, uint64_t total, void *user) {
    (void)total; (void)user;
    __atomic_store_n(&seen_progress, done, __ATOMIC_RELAXED);
    return 0;
}
static void *cancel_later(void *arg) {   /* another thread: cancel once a third has gone */
    canceller *k = (canceller *)arg;
    while (__atomic_load_n(&seen_progress, __ATOMIC_RELAXED) < k->at && !__atomic_load_n(&k->finished, __ATOMIC_RELAXED))
        usleep(1000);
    ossr_cancel(&k->flag);
    return NULL;
}
static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
#endif


/* Counting allocator for the allocator hook: live bytes, peak, calls; fails the
   fail_at-th call when set. */
typedef struct { size_t live, peak, calls, bad_frees; size_t fail_at; } heap_count;
/* ossr_list_uploads' callback: the count, and the last upload's fields. */
typedef struct upload_list { int n; char key[256], id[128], initiated[40]; } upload_list;
static int collect_upload(const ossr_upload_info *u, void *user) {
    upload_list *l = (upload_list *)user;
    l->n++;
    snprintf(l->key, sizeof l->key, "%s", u->key);
    snprintf(l->id, sizeof l->id, "%s", u->upload_id);
    snprintf(l->initiated, sizeof l->initiated, "%s", u->initiated);
    return 0;
}
static void *count_alloc(size_t n, void *user) {
    heap_count *h = (heap_count *)user;
    size_t *p;
    h->calls++;
    if (h->fail_at && h->calls == h->fail_at) return NULL;
    p = (size_t *)malloc(n + sizeof(size_t) * 2);
    if (!p) return NULL;
    p[0] = n;
    h->live += n;
    if (h->live > h->peak) h->peak = h->live;
    return p + 2;
}
static void count_free(void *ptr, size_t n, void *user) {
    heap_count *h = (heap_count *)user;
    size_t *p = (size_t *)ptr - 2;
    if (p[0] != n) h->bad_frees++;
    h->live -= p[0];
    free(p);
}

/* A transport that carries "TLS" itself: a plain TCP socket standing in for a platform's
   TLS link (the test server's plain port), to show what the library hands it. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
typedef struct tls_link_log {
    int tls_connects, plain_connects;
    char server_name[300];
    ossr_result refuse;      /* nonzero: connect_tls fails with this */
} tls_link_log;
static ossr_result link_open(const char *host, uint16_t port, void **conn) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return OSSR_E_CONNECT;
    }
    *conn = (void *)(intptr_t)fd;
    return OSSR_OK;
}
static ossr_result link_connect(const char *host, uint16_t port, int timeout_ms, void **conn, void *user) {
    (void)timeout_ms;
    ((tls_link_log *)user)->plain_connects++;
    return link_open(host, port, conn);
}
static ossr_result link_connect_tls(const char *host, uint16_t port, const char *server_name, int timeout_ms,
                                    void **conn, void *user) {
    tls_link_log *l = (tls_link_log *)user;
    (void)timeout_ms;
    l->tls_connects++;
    snprintf(l->server_name, sizeof l->server_name, "%s", server_name);
    return l->refuse ? l->refuse : link_open(host, port, conn);
}
static long link_send(void *conn, const void *buf, size_t len, int timeout_ms, void *user) {
    (void)timeout_ms; (void)user;
    return (long)send((int)(intptr_t)conn, buf, len, MSG_NOSIGNAL);
}
static long link_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    (void)timeout_ms; (void)user;
    return (long)recv((int)(intptr_t)conn, buf, cap, 0);
}
static void link_close(void *conn, void *user) { (void)user; close((int)(intptr_t)conn); }

/* Cancels the session in cancel_target once 2 MiB are out: with three connections that
   each send their next part only after the last one's reply, at least five parts are on
   the server by then. */
static ossr_session *cancel_target;
static int cancel_at_2mib(uint64_t done, uint64_t total, void *user) {
    (void)total; (void)user;
    if (done >= 2 * 1024 * 1024 && cancel_target) ossr_session_cancel(cancel_target);
    return 0;
}
/* Drives a session with sockets, one want at a time, until it ends: a read only once
   poll() says data is there (as an event loop does), the clock offset by clock_offset
   ms (a caller's clock need not be the system's). stop_at_close: stop at the first
   CLOSE want (the upload is over then, in a run without failures) and leave the rest
   to ossr_session_finish. Returns the last step's result; *closes counts CLOSE wants. */
/* A session's options: the source file (3 MiB + 5: 13 parts of 256 KiB), lanes. */
static void session_options(ossr_options *o, const char *key, const char *src, int lanes, ossr_progress_fn progress) {
    o->key = key;
    o->file_path = src;
    o->multipart_threshold = 1024 * 1024;
    o->part_size = 256 * 1024;
    o->buffer_size = 32 * 1024;
    o->progress = progress;
    o->num_threads = lanes;
}
/* A session of those options in a block of ossr_session_size() bytes (*mem, freed by the
   caller); the result of ossr_session_init. */
static ossr_result session_new(ossr_options *o, const char *key, const char *src, int lanes,
                               ossr_progress_fn progress, ossr_session **sess, void **mem) {
    size_t need;
    session_options(o, key, src, lanes, progress);
    need = ossr_session_size(o, 3 * 1024 * 1024 + 5);
    *mem = malloc(need);
    return *mem ? ossr_session_init(sess, o, *mem, need) : OSSR_E_NOMEM;
}
static int deadlines_past;   /* wants whose deadline lay before the step that made them */
static ossr_result drive_session(ossr_session *s, int64_t clock_offset, int stop_at_close, int *closes) {
    int fds[8], i;
    ossr_result r;
    for (i = 0; i < 8; i++) fds[i] = -1;
    for (;;) {
        struct timespec ts;
        ossr_lane *lanes;
        int n;
        int64_t now;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = clock_offset + (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        r = ossr_session_step(s, now);
        if (r != OSSR_PENDING) break;
        n = ossr_session_lanes(s, &lanes);
        for (i = 0; i < n && i < 8; i++) {
            ossr_lane *l = &lanes[i];
            struct pollfd pfd;
            long k;
            if (l->want == OSSR_LANE_IDLE) continue;
            if (l->want != OSSR_LANE_CLOSE && l->deadline_ms < now) deadlines_past++;
            if (l->want == OSSR_LANE_CLOSE) {
                if (stop_at_close) break;
                if (fds[i] >= 0) close(fds[i]);
                fds[i] = -1;
                (*closes)++;
                ossr_lane_closed(s, l);
                continue;
            }
            if (l->want == OSSR_LANE_CONNECT) {
                if (link_open(l->host, l->port, (void **)&l->conn) != OSSR_OK) { ossr_lane_failed(s, l, OSSR_E_CONNECT, 0); continue; }
                fds[i] = (int)(intptr_t)l->conn;
                ossr_lane_opened(s, l, l->conn);
            } else if (l->want == OSSR_LANE_WRITE) {
                k = (long)send(fds[i], l->out, l->out_len, MSG_NOSIGNAL);
                if (k > 0) ossr_lane_wrote(s, l, (size_t)k); else ossr_lane_failed(s, l, OSSR_E_SEND, errno);
            } else {
                pfd.fd = fds[i]; pfd.events = POLLIN; pfd.revents = 0;
                if (poll(&pfd, 1, 0) != 1) continue;   /* not yet: step again */
                k = (long)recv(fds[i], l->in, l->in_cap, 0);
                if (k >= 0) ossr_lane_read(s, l, (size_t)k); else ossr_lane_failed(s, l, OSSR_E_RECV, errno);
            }
        }
        if (i < n && stop_at_close) break;
    }
    for (i = 0; i < 8; i++)
        if (fds[i] >= 0) close(fds[i]);
    return r;
}

int main(int argc, char **argv) {
    ossr_options o;
    ossr_status st;
    progress_log pl;
    char src[512], dst[512], ckdir[512], line[1024];
    ossr_result r;
    if (argc != 3) { fprintf(stderr, "usage: test_api ENDPOINT WORKDIR\n"); return 2; }
    snprintf(src, sizeof src, "%s/api-src.bin", argv[2]);
    snprintf(dst, sizeof dst, "%s/api-dst.bin", argv[2]);
    snprintf(ckdir, sizeof ckdir, "%s/api-ckpt", argv[2]);
    make_file(src, 3 * 1024 * 1024 + 5, 42);

    memset(&o, 0, sizeof o);
    o.endpoint = argv[1];
    o.bucket = "bkt-api";
    o.key = "api/progress.bin";
    o.file_path = src;
    o.access_key_id = "test-ak";
    o.access_key_secret = SECRET;
    o.multipart_threshold = 1024 * 1024;
    o.part_size = 256 * 1024;
    o.buffer_size = 32 * 1024;
    o.num_threads = 2;
    o.checkpoint_dir = ckdir;
    o.progress = on_progress;
    o.log = on_log;

    /* 1. cancel half-way from the progress callback */
    memset(&pl, 0, sizeof pl);
    pl.cancel_at = 1536 * 1024;
    pl.part_size = o.part_size;
    o.progress_user = &pl;
    r = ossr_upload(&o, &st);
    CHECK(r == OSSR_E_CANCELLED, "got %s", ossr_status_format(&st, line, sizeof line));
    CHECK(st.result == OSSR_E_CANCELLED, "status.result %d", st.result);
    CHECK(pl.non_part_values > 0, "progress only fired at part boundaries");
    /* prompt: at most one buffer per worker goes out after the cancel */
    CHECK(pl.max_seen <= pl.at_cancel + (uint64_t)o.num_threads * o.buffer_size,
          "sent %llu after cancelling at %llu", (unsigned long long)pl.max_seen, (unsigned long long)pl.at_cancel);
    CHECK(st.checkpoint_path[0] && file_contains(st.checkpoint_path, "OSSRCKPT"), "no checkpoint kept: '%s'", st.checkpoint_path);
    CHECK(st.upload_id[0] != 0, "no upload id in the status");
    CHECK(!file_contains(st.checkpoint_path, SECRET) && !file_contains(st.checkpoint_path, "test-ak"),
          "a credential is in the checkpoint");

    /* 1b. a cancel on the last byte of a part: no Complete, no COMPLETING mark */
    {
        ossr_options o2 = o;
        progress_log pl2;
        memset(&pl2, 0, sizeof pl2);
        pl2.cancel_at = 2 * o.part_size;       /* the last chunk of part 2 */
        o2.num_threads = 1;
        o2.key = "api/cancel-boundary.bin";
        o2.progress_user = &pl2;
        r = ossr_upload(&o2, &st);
        CHECK(r == OSSR_E_CANCELLED, "boundary cancel: %s", ossr_status_format(&st, line, sizeof line));
        CHECK(!checkpoint_has_completing(st.checkpoint_path), "a COMPLETING mark after a cancel");
        pl2.cancel_at = 0;
        r = ossr_upload(&o2, &st);
        CHECK(r == OSSR_OK && st.parts_reused == 2, "boundary resume: reused %u, %s", st.parts_reused,
              ossr_status_format(&st, line, sizeof line));
        CHECK(st.crc64_verified == 1, "the test server's Complete carries a CRC-64, yet it was not compared");
    }

    /* 2. the next call resumes and reports progress from where it was */
    memset(&pl, 0, sizeof pl);
    o.progress_user = &pl;
    r = ossr_upload(&o, &st);
    CHECK(r == OSSR_OK, "resume: %s", ossr_status_format(&st, line, sizeof line));
    CHECK(st.resumed == 1 && st.parts_reused > 0, "resumed %d reused %u", st.resumed, st.parts_reused);
    CHECK(st.parts_reused + st.parts_uploaded == st.parts_total, "%u + %u != %u", st.parts_reused,
          st.parts_uploaded, st.parts_total);
    CHECK(pl.last == pl.total && pl.total == 3 * 1024 * 1024 + 5, "last progress %llu of %llu",
          (unsigned long long)pl.last, (unsigned long long)pl.total);
    CHECK(st.crc64 == ossr_crc64(0, NULL, 0) || st.crc64 != 0, "crc");
    CHECK(st.checkpoint_path[0] && !file_contains(st.checkpoint_path, "OSSRCKPT"), "checkpoint not removed");

    /* 3. download it back; the CRC-64 reported equals the upload's */
    {
        uint64_t up = st.crc64;
        o.file_path = dst;
        r = ossr_download(&o, &st);
        CHECK(r == OSSR_OK, "download: %s", ossr_status_format(&st, line, sizeof line));
        CHECK(st.crc64 == up, "download CRC %llu, upload %llu", (unsigned long long)st.crc64, (unsigned long long)up);
        CHECK(same_files(src, dst), "downloaded bytes differ");
        {   /* an ordinary file: readable by others as the umask allows, like any the user makes */
            struct stat sb;
            mode_t um = umask(022);
            umask(um);
            CHECK(stat(dst, &sb) == 0 && (sb.st_mode & 0777) == (0644 & ~um), "downloaded file mode %o",
                  (unsigned)(sb.st_mode & 0777));
        }
        o.file_path = src;
    }

    /* 4. a failing call fills the status: code, HTTP status, request id */
    o.key = "api/wrong-secret.bin";
    o.access_key_secret = "not-the-secret";
    r = ossr_upload(&o, &st);
    CHECK(r == OSSR_E_SERVER && st.http_status == 403 && !strcmp(st.code, "SignatureDoesNotMatch") &&
          st.request_id[0], "%s", ossr_status_format(&st, line, sizeof line));
    CHECK(strstr(ossr_status_format(&st, line, sizeof line), st.request_id) != NULL, "format lacks request id");
    CHECK(strstr(line, "not-the-secret") == NULL, "the secret is in the message");
    o.access_key_secret = SECRET;

    /* 5. a missing object on download: NoSuchKey, no file left behind */
    o.key = "api/does-not-exist";
    o.file_path = dst;
    remove(dst);
    r = ossr_download(&o, &st);
    CHECK(r == OSSR_E_SERVER && st.http_status == 404 && !strcmp(st.code, "NoSuchKey"), "%s",
          ossr_status_format(&st, line, sizeof line));
    {
        FILE *f = fopen(dst, "rb");
        char tmp[600];
        CHECK(f == NULL, "a file was created for a failed download");
        if (f) fclose(f);
        snprintf(tmp, sizeof tmp, "%s.ossr-tmp", dst);
        f = fopen(tmp, "rb");
        CHECK(f == NULL, "the temporary download file was left behind");
        if (f) fclose(f);
    }

    /* 6. the log saw the upload start and resume, and never a secret */
    CHECK(strstr(logbuf, "resuming upload") != NULL, "log: %s", logbuf);
    CHECK(strstr(logbuf, SECRET) == NULL && strstr(logbuf, "not-the-secret") == NULL, "a secret in the log");

    /* 8. a client clock an hour fast, and one at 1970: signing follows the server's time */
    {
        ossr_options o3 = o;
        static const int64_t skews[] = {3600, -3600};
        int i;
        o3.endpoint = argv[1]; o3.bucket = "bkt-api"; o3.file_path = src; o3.multipart_threshold = 1024 * 1024;
        o3.part_size = 256 * 1024; o3.checkpoint_dir = ckdir; o3.progress = NULL; o3.clock = skewed_clock;
        for (i = 0; i < 3; i++) {
            clock_value = i < 2 ? (int64_t)time(NULL) + skews[i] : 0;
            o3.key = i == 0 ? "api/clock-fast.bin" : i == 1 ? "api/clock-slow.bin" : "api/clock-1970.bin";
            loglen = 0; logbuf[0] = 0;
            r = ossr_upload(&o3, &st);
            CHECK(r == OSSR_OK, "clock %lld: %s", (long long)clock_value, ossr_status_format(&st, line, sizeof line));
            CHECK(strstr(logbuf, "the local clock is") != NULL, "no word about the clock: %s", logbuf);
        }
    }

    /* 9. refreshable credentials: refused ones are replaced; ones about to expire renewed */
    {
        ossr_options o4 = o;
        creds_state cs;
        memset(&cs, 0, sizeof cs);
        cs.bad_first = 1;
        o4.key = "api/creds.bin"; o4.file_path = src; o4.progress = NULL; o4.num_threads = 2;
        o4.access_key_id = NULL; o4.access_key_secret = NULL;
        o4.credentials = give_creds; o4.credentials_user = &cs;
        r = ossr_upload(&o4, &st);
        CHECK(r == OSSR_OK && cs.calls == 2, "refused credentials: %d calls, %s", cs.calls,
              ossr_status_format(&st, line, sizeof line));
        memset(&cs, 0, sizeof cs);
        cs.ttl = 200;   /* inside the five-minute margin: renewed before every request */
        o4.key = "api/creds-expiring.bin";
        r = ossr_upload(&o4, &st);
        CHECK(r == OSSR_OK && cs.calls > 3, "expiring credentials: %d calls, %s", cs.calls,
              ossr_status_format(&st, line, sizeof line));
        {   /* a line break in the callback's token or key id is refused as the options' token
               is, before any request: written into the head it would add headers of its
               own (here an ACL that opens the object to anyone) */
            broken_creds bc;
            int k;
            o4.credentials = give_broken_creds;
            o4.credentials_user = &bc;
            o4.key = "api/creds-broken.bin";
            for (k = 0; k < 2; k++) {
                memset(&bc, 0, sizeof bc);
                bc.in_key_id = k;
                r = ossr_upload(&o4, &st);
                CHECK((r == OSSR_E_NO_CREDENTIALS || r == OSSR_E_INVALID_ARG) && st.http_status == 0 && bc.calls >= 1,
                      "credentials with a line break in the %s: %s", k ? "key id" : "token",
                      ossr_status_format(&st, line, sizeof line));
            }
        }
    }

    /* 10. the source changes during the upload: no mixed object is completed */
    {
        ossr_options o5 = o;
        change_state chg;
        char tmp[600];
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s/api-changing.bin", argv[2]);
        make_file(tmp, 2 * 1024 * 1024, 7);
        memset(&chg, 0, sizeof chg);
        chg.path = tmp; chg.at = 512 * 1024;
        o5.key = "api/changing.bin"; o5.file_path = tmp; o5.num_threads = 1;
        o5.progress = change_file_midway; o5.progress_user = &chg;
        r = ossr_upload(&o5, &st);
        CHECK(r == OSSR_E_FILE_CHANGED && strstr(st.detail, "changed"), "changing file: %s",
              ossr_status_format(&st, line, sizeof line));
        CHECK(!checkpoint_has_completing(st.checkpoint_path), "Complete was attempted for a changed file");
        o5.progress = NULL;
        r = ossr_upload(&o5, &st);   /* the next call starts over and succeeds */
        CHECK(r == OSSR_OK && st.resumed == 0, "after the change: %s", ossr_status_format(&st, line, sizeof line));
        f = fopen(tmp, "ab"); fputs("x", f); fclose(f);   /* PutObject path: size differs after */
        o5.key = "api/changing-small.bin"; o5.multipart_threshold = 64 * 1024 * 1024;
        chg.done = 0; o5.progress = change_file_midway;
        r = ossr_upload(&o5, &st);
        CHECK(r == OSSR_E_FILE_CHANGED, "changing file, PutObject: %s", ossr_status_format(&st, line, sizeof line));
    }

    /* 11. resume_by_content: a new mtime with the same bytes still resumes; other bytes don't */
    {
        ossr_options o6 = o;
        progress_log pl3;
        char tmp[600];
        struct timespec ts[2];
        snprintf(tmp, sizeof tmp, "%s/api-content.bin", argv[2]);
        make_file(tmp, 3 * 1024 * 1024, 11);
        memset(&pl3, 0, sizeof pl3);
        pl3.cancel_at = 1024 * 1024;
        o6.key = "api/content.bin"; o6.file_path = tmp; o6.num_threads = 1; o6.resume_by_content = 1;
        o6.progress = on_progress; o6.progress_user = &pl3;
        CHECK(ossr_upload(&o6, &st) == OSSR_E_CANCELLED, "content: first run");
        ts[0].tv_sec = ts[1].tv_sec = 86400 * 365; ts[0].tv_nsec = ts[1].tv_nsec = 0;
        utimensat(AT_FDCWD, tmp, ts, 0);   /* a board that lost its clock rewrote the time */
        pl3.cancel_at = 0;
        r = ossr_upload(&o6, &st);
        CHECK(r == OSSR_OK && st.resumed && st.parts_reused >= 3, "content resume: reused %u, %s", st.parts_reused,
              ossr_status_format(&st, line, sizeof line));
        /* a change between the first and the last MiB, which the fingerprint does not
           see, in a part the server already has: the resume compares every part with
           the file, sends that one again, and the object is the new file */
        {
            char back[640];
            FILE *f;
            make_file(tmp, 5 * 1024 * 1024, 12);
            pl3.cancel_at = 3 * 1024 * 1024;
            pl3.cancelled = 0;
            o6.key = "api/content-mid.bin";
            CHECK(ossr_upload(&o6, &st) == OSSR_E_CANCELLED, "content, middle: first run");
            f = fopen(tmp, "r+b");
            if (f) {
                int ch;
                fseek(f, 1536 * 1024 + 7, SEEK_SET);
                ch = fgetc(f);
                fseek(f, 1536 * 1024 + 7, SEEK_SET);
                fputc(ch ^ 0xFF, f);
                fclose(f);
            }
            pl3.cancel_at = 0;
            r = ossr_upload(&o6, &st);
            CHECK(r == OSSR_OK && st.resumed && st.parts_uploaded >= 1, "content, middle: %s",
                  ossr_status_format(&st, line, sizeof line));
            snprintf(back, sizeof back, "%s.back", tmp);
            o6.file_path = back;
            o6.progress = NULL;
            r = ossr_download(&o6, &st);
            CHECK(r == OSSR_OK && same_files(tmp, back), "content, middle: the object is not the new file (%s)",
                  ossr_status_format(&st, line, sizeof line));
        }
    }

#ifndef OSSR_NO_THREADS
    /* 12. cancel from another thread, and the bandwidth cap that makes it observable */
    {
        ossr_options o7 = o;
        canceller k;
        pthread_t t;
        double t0;
        memset(&k, 0, sizeof k);
        k.at = 1024 * 1024;
        seen_progress = 0;
        o7.key = "api/cancel-thread.bin"; o7.file_path = src; o7.num_threads = 2;
        o7.max_bytes_per_second = 2 * 1024 * 1024;
        o7.progress = track_progress; o7.progress_user = NULL;
        o7.cancel = &k.flag;
        pthread_create(&t, NULL, cancel_later, &k);
        t0 = now_seconds();
        r = ossr_upload(&o7, &st);
        __atomic_store_n(&k.finished, 1, __ATOMIC_RELAXED);
        pthread_join(t, NULL);
        CHECK(r == OSSR_E_CANCELLED, "thread cancel: %s", ossr_status_format(&st, line, sizeof line));
        /* capped at 2 MiB/s with a quarter second of burst, a MiB takes at least 0.25 s */
        CHECK(now_seconds() - t0 >= 0.2, "bandwidth cap not applied: %.2f s", now_seconds() - t0);
        CHECK(seen_progress <= k.at + 2 * o.buffer_size + 512 * 1024, "went on after the cancel: %llu",
              (unsigned long long)seen_progress);
        o7.cancel = NULL;
        o7.max_bytes_per_second = 0;
        r = ossr_upload(&o7, &st);
        CHECK(r == OSSR_OK && st.resumed, "resume after the thread cancel: %s", ossr_status_format(&st, line, sizeof line));
    }
#endif

    /* 7. options checked before any request */
    memset(&o, 0, sizeof o);
    o.endpoint = argv[1]; o.bucket = "bkt-api"; o.key = "k"; o.file_path = src;
    o.access_key_id = "test-ak"; o.access_key_secret = SECRET;
    o.sign_version = 4;
    CHECK(ossr_upload(&o, &st) == OSSR_E_INVALID_ARG && strstr(st.detail, "region"), "V4 without region: %s", st.detail);
    o.sign_version = 0;
    o.endpoint = "ftp://x";
    CHECK(ossr_upload(&o, &st) == OSSR_E_BAD_ENDPOINT, "ftp endpoint");
    o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
#ifdef OSSR_NO_TLS
    CHECK(ossr_upload(&o, &st) == OSSR_E_TLS_UNAVAILABLE, "https without TLS: %d", st.result);
#else
    /* trust problems are found before anything is sent */
    o.ca_file = "/nonexistent/ca.pem";
    CHECK(ossr_upload(&o, &st) == OSSR_E_FILE && strstr(st.detail, "CA file"), "missing CA file: %s", st.detail);
    o.ca_file = src;   /* not PEM */
    CHECK(ossr_upload(&o, &st) == OSSR_E_CERT && strstr(st.detail, "no PEM certificate"), "non-PEM CA file: %s", st.detail);
    o.ca_file = NULL;
#endif
    o.endpoint = argv[1];
    {
        ossr_header h[1];
        h[0].name = "x-oss-meta-evil"; h[0].value = "a\r\nInjected: 1";
        o.headers = h; o.header_count = 1;
        CHECK(ossr_upload(&o, &st) == OSSR_E_INVALID_ARG, "header injection accepted");
        h[0].value = "a\x7f" "b";   /* DEL: a control character too */
        CHECK(ossr_upload(&o, &st) == OSSR_E_INVALID_ARG && strstr(st.detail, "control character"),
              "a DEL in a header value: %s", st.detail);
        o.headers = NULL; o.header_count = 0;
        o.access_key_id = "test-ak\r\nx-oss-meta-k: 1";   /* the id goes into Authorization as it is */
        CHECK(ossr_upload(&o, &st) == OSSR_E_INVALID_ARG && strstr(st.detail, "access key id"),
              "a key id with a line break: %s", st.detail);
        o.access_key_id = "test-ak";
    }
    o.key = "/leading-slash";
    CHECK(ossr_upload(&o, &st) == OSSR_E_BAD_KEY, "leading slash key");
    o.key = "bad\xff" "utf8";
    CHECK(ossr_upload(&o, &st) == OSSR_E_BAD_KEY, "invalid UTF-8 key");

    /* allocator hook: every block through it, all returned, the peak reported, equal to
       ossr_workspace_size(), and the same whatever the part count */
    {
        ossr_options o3 = o;
        heap_count h1, h2, hf;
        uint32_t parts1;
        const unsigned want_workers = 2;   /* two connections, with threads or without */
        memset(&h1, 0, sizeof h1); memset(&h2, 0, sizeof h2); memset(&hf, 0, sizeof hf);
        o3.key = "api/alloc.bin"; o3.file_path = src; o3.progress = NULL; o3.log = NULL;
        o3.alloc = count_alloc; o3.free = count_free; o3.alloc_user = &h1;
        o3.part_size = 1024 * 1024; o3.num_threads = 2; o3.multipart_threshold = 1024 * 1024;
        o3.content_md5 = 0; o3.sequential = 0; o3.headers = NULL; o3.header_count = 0;
        r = ossr_upload(&o3, &st);
        CHECK(r == OSSR_OK, "allocator hook: %s", ossr_status_format(&st, line, sizeof line));
        CHECK(h1.live == 0 && h1.bad_frees == 0, "allocator: %zu bytes not returned, %zu bad frees", h1.live, h1.bad_frees);
        CHECK(h1.peak == st.heap_peak && h1.peak > 0, "peak %zu, status says %llu", h1.peak, (unsigned long long)st.heap_peak);
        CHECK(h1.peak == ossr_workspace_size(&o3, st.size), "peak %zu, ossr_workspace_size says %zu", h1.peak,
              ossr_workspace_size(&o3, st.size));
        CHECK(h1.calls <= 2 + 2 * (size_t)st.workers, "%zu allocations for %u workers", h1.calls, st.workers);
        CHECK(st.workers == want_workers && st.heap_per_worker > 0 && st.heap_peak >= want_workers * st.heap_per_worker,
              "workers %u, %llu each, peak %llu", st.workers, (unsigned long long)st.heap_per_worker,
              (unsigned long long)st.heap_peak);
        parts1 = st.parts_total;
        o3.alloc_user = &h2; o3.part_size = 100 * 1024; o3.key = "api/alloc-many.bin";
        r = ossr_upload(&o3, &st);
        CHECK(r == OSSR_OK && st.parts_total > 3 * parts1, "many parts: %u, %s", st.parts_total,
              ossr_status_format(&st, line, sizeof line));
        CHECK(h2.live == 0 && h2.peak == h1.peak, "peak %zu with %u parts, %zu with %u", h2.peak, st.parts_total,
              h1.peak, parts1);
        CHECK(h2.calls == h1.calls, "%zu allocations with more parts, %zu before", h2.calls, h1.calls);
        CHECK(h2.peak == ossr_workspace_size(&o3, st.size), "peak %zu with many parts, ossr_workspace_size says %zu",
              h2.peak, ossr_workspace_size(&o3, st.size));
        /* and the figure is the same for the largest upload OSS allows */
        CHECK(ossr_workspace_size(&o3, 10000ull * 5 * 1024 * 1024 * 1024) == h2.peak,
              "ossr_workspace_size for 10,000 parts of 5 GiB: %zu, for %u parts %zu",
              ossr_workspace_size(&o3, 10000ull * 5 * 1024 * 1024 * 1024), st.parts_total, h2.peak);
        /* one caller-given block instead of an allocator: exactly ossr_workspace_size() is
           enough, 16 bytes less is not, and the call writes nothing outside it */
        {
            ossr_options o4 = o3;
            size_t need = ossr_workspace_size(&o3, st.size);
            unsigned char *ws = (unsigned char *)malloc(need + 64);
            size_t k, outside = 0;
            memset(ws, 0xA5, need + 64);
            o4.alloc = NULL; o4.free = NULL; o4.alloc_user = NULL;
            o4.workspace = ws + 32; o4.workspace_size = need; o4.key = "api/workspace.bin";
            r = ossr_upload(&o4, &st);
            CHECK(r == OSSR_OK && st.heap_peak == need, "workspace of %zu bytes: %s", need,
                  ossr_status_format(&st, line, sizeof line));
            for (k = 0; k < 32; k++) outside += (ws[k] != 0xA5) + (ws[32 + need + k] != 0xA5);
            CHECK(outside == 0, "%zu bytes written outside the workspace", outside);
            o4.workspace_size = need - 16; o4.key = "api/workspace-short.bin";
            CHECK(ossr_upload(&o4, &st) == OSSR_E_NOMEM, "a workspace 16 bytes short was accepted");
            free(ws);
        }
        /* a download in ranges takes what the upload of its size took: through the
           allocator, exactly ossr_workspace_size() whatever the range count; one block of
           that size is enough and 16 bytes less is not; below the threshold, less */
        {
            ossr_options o6 = o3;
            heap_count hd, hd2;
            char dl[1100];
            size_t need;
            unsigned char *ws;
            memset(&hd, 0, sizeof hd); memset(&hd2, 0, sizeof hd2);
            snprintf(dl, sizeof dl, "%s.dl", dst);
            o6.key = "api/alloc.bin"; o6.file_path = dl; o6.alloc_user = &hd; o6.part_size = 1024 * 1024;
            r = ossr_download(&o6, &st);
            CHECK(r == OSSR_OK && st.multipart && st.parts_total == parts1 && same_files(src, dl),
                  "download in ranges: %s", ossr_status_format(&st, line, sizeof line));
            CHECK(hd.live == 0 && hd.bad_frees == 0 && hd.peak == st.heap_peak, "download: %zu bytes not returned, "
                  "peak %zu, status %llu", hd.live, hd.peak, (unsigned long long)st.heap_peak);
            need = ossr_workspace_size(&o6, st.size);
            CHECK(hd.peak == need, "download peak %zu, ossr_workspace_size says %zu", hd.peak, need);
            o6.alloc_user = &hd2; o6.part_size = 100 * 1024;
            r = ossr_download(&o6, &st);
            CHECK(r == OSSR_OK && st.parts_total > 3 * parts1 && hd2.peak == need, "download of %u ranges: peak %zu, "
                  "%zu with %u", st.parts_total, hd2.peak, need, parts1);
            ws = (unsigned char *)malloc(need);
            o6.alloc = NULL; o6.free = NULL; o6.alloc_user = NULL; o6.workspace = ws; o6.workspace_size = need;
            r = ossr_download(&o6, &st);
            CHECK(r == OSSR_OK && st.heap_peak == need && same_files(src, dl), "download in a workspace of %zu bytes: %s",
                  need, ossr_status_format(&st, line, sizeof line));
            o6.workspace_size = need - 16;
            CHECK(ossr_download(&o6, &st) == OSSR_E_NOMEM, "a download in a workspace 16 bytes short was accepted");
            o6.workspace_size = need; o6.key = "api/workspace.bin"; o6.multipart_threshold = 1ull << 40;
            r = ossr_download(&o6, &st);
            CHECK(r == OSSR_OK && !st.multipart && st.heap_peak < need, "one GET: peak %llu of %zu: %s",
                  (unsigned long long)st.heap_peak, need, ossr_status_format(&st, line, sizeof line));
            free(ws);
            remove(dl);
        }
        o3.alloc_user = &hf; hf.fail_at = 2; o3.key = "api/alloc-fail.bin";
        r = ossr_upload(&o3, &st);
        CHECK(r == OSSR_E_NOMEM && hf.live == 0, "failed allocation: %d, %zu bytes left", r, hf.live);
        o3.free = NULL;
        CHECK(ossr_upload(&o3, &st) == OSSR_E_INVALID_ARG, "alloc without free accepted");
    }

    /* incomplete uploads: listed, aborted by id (one that does not exist is an error) and
       by the file's checkpoint (which is then gone, and a second abort finds nothing) */
    {
        ossr_options o5 = o;
        upload_list ul;
        progress_log pl5;
        char ckpath[512];
        memset(&pl5, 0, sizeof pl5);
        pl5.cancel_at = 1024 * 1024;
        pl5.part_size = o.part_size;
        o5.key = "api/abandoned/one.bin";
        o5.file_path = src;
        o5.multipart_threshold = 1024 * 1024;
        o5.part_size = 256 * 1024;
        o5.progress = on_progress;
        o5.progress_user = &pl5;
        r = ossr_upload(&o5, &st);
        CHECK(r == OSSR_E_CANCELLED, "abandoned upload: %s", ossr_status_format(&st, line, sizeof line));
        snprintf(ckpath, sizeof ckpath, "%s", st.checkpoint_path);
        memset(&ul, 0, sizeof ul);
        r = ossr_list_uploads(&o5, "api/abandoned/", collect_upload, &ul, &st);
        CHECK(r == OSSR_OK && ul.n == 1 && !strcmp(ul.key, "api/abandoned/one.bin") && ul.initiated[0],
              "list: %d uploads, key '%s': %s", ul.n, ul.key, ossr_status_format(&st, line, sizeof line));
        r = ossr_abort_upload(&o5, "0123456789ABCDEF0123456789ABCDEF", &st);
        CHECK(r == OSSR_E_SERVER && !strcmp(st.code, "NoSuchUpload"), "abort of an unknown id: %s",
              ossr_status_format(&st, line, sizeof line));
        r = ossr_abort_upload(&o5, NULL, &st);
        CHECK(r == OSSR_OK && !strcmp(st.upload_id, ul.id), "abort by checkpoint: '%s', %s", st.upload_id,
              ossr_status_format(&st, line, sizeof line));
        CHECK(!file_contains(ckpath, "OSSRCKPT"), "the checkpoint %s is still there", ckpath);
        memset(&ul, 0, sizeof ul);
        CHECK(ossr_list_uploads(&o5, "api/abandoned/", collect_upload, &ul, &st) == OSSR_OK && ul.n == 0,
              "%d uploads left after the abort", ul.n);
        r = ossr_abort_upload(&o5, NULL, &st);
        CHECK(r == OSSR_OK && !st.upload_id[0], "a second abort: '%s', %s", st.upload_id,
              ossr_status_format(&st, line, sizeof line));
    }
    /* a download never renames over a device */
    {
        ossr_options o6 = o;
        struct stat sb;
        o6.key = "api/progress.bin";
        o6.file_path = "/dev/null";
        o6.progress = NULL;
        r = ossr_download(&o6, &st);
        CHECK(r == OSSR_E_WRITE && stat("/dev/null", &sb) == 0 && S_ISCHR(sb.st_mode), "download to /dev/null: %s",
              ossr_status_format(&st, line, sizeof line));
    }

    /* TLS by the transport: an https:// endpoint connects through connect_tls with the
       certificate's name, and the library speaks plain HTTP through it (also in a build
       without TLS of its own); a refused certificate is the transport's word */
    {
        ossr_options o7 = o;
        tls_link_log ll;
        ossr_transport t;
        char https[256];
        const char *port = strrchr(argv[1], ':');
        memset(&ll, 0, sizeof ll);
        memset(&t, 0, sizeof t);
        t.connect = link_connect; t.connect_tls = link_connect_tls;
        t.send = link_send; t.recv = link_recv; t.close = link_close; t.user = &ll;
        snprintf(https, sizeof https, "https://127.0.0.1%s", port ? port : "");
        o7.endpoint = https;
        o7.transport = &t;
        o7.key = "api/tls-by-transport.bin";
        o7.progress = NULL;
        o7.ca_file = "/nonexistent/ca.pem";   /* the transport's business, not the library's */
        r = ossr_upload(&o7, &st);
        CHECK(r == OSSR_OK && ll.tls_connects > 0 && ll.plain_connects == 0, "upload through connect_tls: %d tls, "
              "%d plain connects, %s", ll.tls_connects, ll.plain_connects, ossr_status_format(&st, line, sizeof line));
        CHECK(!strcmp(ll.server_name, "127.0.0.1"), "server name '%s'", ll.server_name);
        {   /* the library keeps no TLS state of its own: the same memory as http:// */
            ossr_options plain = o7;
            plain.endpoint = argv[1];
            CHECK(ossr_workspace_size(&o7, 0) == ossr_workspace_size(&plain, 0), "workspace %zu, %zu for http://",
                  ossr_workspace_size(&o7, 0), ossr_workspace_size(&plain, 0));
        }
        o7.file_path = dst;
        o7.key = "api/tls-by-transport.bin";
        r = ossr_download(&o7, &st);
        CHECK(r == OSSR_OK && same_files(src, dst), "download through connect_tls: %s",
              ossr_status_format(&st, line, sizeof line));
        ll.refuse = OSSR_E_CERT;
        ll.tls_connects = 0;
        o7.file_path = src;
        o7.key = "api/tls-refused.bin";
        r = ossr_upload(&o7, &st);
        CHECK(r == OSSR_E_CERT && ll.tls_connects == 1 && strstr(st.detail, "127.0.0.1"),
              "a refused certificate: %d connects, %s", ll.tls_connects, ossr_status_format(&st, line, sizeof line));
        t.connect = NULL;
        o7.endpoint = argv[1];
        r = ossr_upload(&o7, &st);
        CHECK(r == OSSR_E_INVALID_ARG && strstr(st.detail, "connect_tls"), "http:// with only connect_tls: %s",
              ossr_status_format(&st, line, sizeof line));
    }

    /* a session driven by its caller: cancelled half-way (its checkpoint kept, every
       connection it opened closed), finished, then resumed by ossr_upload */
    {
        ossr_options o8 = o;
        ossr_session *sess = NULL;
        void *mem;
        int closes = 0;
        r = session_new(&o8, "api/session.bin", src, 3, cancel_at_2mib, &sess, &mem);
        CHECK(r == OSSR_OK && sess != NULL, "session init: %d", r);
        cancel_target = sess;
        if (sess) {
            r = drive_session(sess, 0, 0, &closes);
            CHECK(r == OSSR_E_CANCELLED, "a cancelled session: %d", r);
            r = ossr_session_finish(sess, &st);
            CHECK(r == OSSR_E_CANCELLED && st.upload_id[0] && st.workers == 3 && closes > 0,
                  "finish: %s; %d connections closed", ossr_status_format(&st, line, sizeof line), closes);
            CHECK(ossr_session_lanes(sess, NULL) == 0, "lanes after the end");
        }
        free(mem);
        cancel_target = NULL;
        r = ossr_upload(&o8, &st);
        CHECK(r == OSSR_OK && st.resumed && st.parts_reused > 0, "resume after a cancelled session: reused %u, %s",
              st.parts_reused, ossr_status_format(&st, line, sizeof line));
        {   /* a block too small for the session itself: refused, nothing set */
            static char small[64];
            sess = (ossr_session *)(void *)small;
            CHECK(ossr_session_init(&sess, &o8, small, sizeof small) == OSSR_E_NOMEM && sess == NULL,
                  "a 64-byte block was taken");
        }
    }

    /* a download driven by its caller, in ranges on three connections: cancelled
       half-way (no file, its ranges kept), resumed by ossr_download; then a whole one */
    {
        ossr_options od = o;
        ossr_session *sess = NULL;
        size_t need;
        void *mem;
        int closes = 0;
        session_options(&od, "api/session.bin", dst, 3, cancel_at_2mib);
        remove(dst);
        need = ossr_session_size(&od, od.multipart_threshold);
        mem = malloc(need);
        r = ossr_session_init_download(&sess, &od, mem, need);
        CHECK(r == OSSR_OK && sess != NULL, "download session init: %d", r);
        cancel_target = sess;
        if (r == OSSR_OK) {
            r = drive_session(sess, 0, 0, &closes);
            CHECK(r == OSSR_E_CANCELLED, "a cancelled download session: %d", r);
            r = ossr_session_finish(sess, &st);
            CHECK(r == OSSR_E_CANCELLED && st.workers == 3 && st.multipart && access(dst, F_OK) != 0,
                  "finish: %s", ossr_status_format(&st, line, sizeof line));
        }
        cancel_target = NULL;
        od.progress = NULL;
        r = ossr_download(&od, &st);
        CHECK(r == OSSR_OK && st.resumed && st.parts_reused > 0 && same_files(src, dst),
              "download resumed after a cancelled session: reused %u, %s", st.parts_reused,
              ossr_status_format(&st, line, sizeof line));
        remove(dst);
        r = ossr_session_init_download(&sess, &od, mem, need);
        if (r == OSSR_OK) r = drive_session(sess, 0, 0, &closes);
        r = sess ? ossr_session_finish(sess, &st) : r;
        CHECK(r == OSSR_OK && st.crc64_verified && st.parts_total == 13 && !st.resumed && same_files(src, dst),
              "a whole download session: %s", ossr_status_format(&st, line, sizeof line));
        free(mem);
    }

    /* sessions: a caller's clock far from the system's (every deadline in its clock); a
       finish once the upload is over with connections left to close (success, not a
       cancel); a connect that failed is followed by a CLOSE; https:// in a session */
    {
        ossr_options o9 = o;
        ossr_session *sess = NULL;
        ossr_lane *lanes;
        size_t need;
        void *mem;
        int closes = 0;
        r = session_new(&o9, "api/session-clock.bin", src, 2, NULL, &sess, &mem);
        need = ossr_session_size(&o9, 3 * 1024 * 1024 + 5);   /* the block's size, for the sessions below */
        if (r == OSSR_OK) r = drive_session(sess, 1000000000000ll, 1, &closes);
        CHECK(r == OSSR_PENDING && deadlines_past == 0, "a session on a clock 10^12 ms ahead: %d, %d deadlines in "
              "the past", r, deadlines_past);
        r = sess ? ossr_session_finish(sess, &st) : r;
        CHECK(r == OSSR_OK && st.crc64_verified && st.parts_total == 13, "finished with connections open: %s",
              ossr_status_format(&st, line, sizeof line));
        o9.key = "api/session-refused.bin";
        o9.endpoint = "http://127.0.0.1:1";   /* nothing listens */
        r = ossr_session_init(&sess, &o9, mem, need);
        if (r == OSSR_OK && ossr_session_step(sess, 0) == OSSR_PENDING && ossr_session_lanes(sess, &lanes) >= 1 &&
            lanes[0].want == OSSR_LANE_CONNECT) {
            ossr_lane_failed(sess, &lanes[0], OSSR_E_CONNECT, ECONNREFUSED);
            ossr_session_step(sess, 1);
            CHECK(lanes[0].want == OSSR_LANE_CLOSE, "after a failed connect: want %d", lanes[0].want);
        } else CHECK(0, "no CONNECT: %d", r);
        ossr_session_finish(sess, &st);
        /* a caller's clock below zero (any monotonic clock will do): the CONNECT's deadline
           is the session's wake, in that clock, not "nothing to wait for" */
        o9.key = "api/session-negative-clock.bin";
        r = ossr_session_init(&sess, &o9, mem, need);
        if (r == OSSR_OK && ossr_session_step(sess, -1000000000000ll) == OSSR_PENDING &&
            ossr_session_lanes(sess, &lanes) >= 1 && lanes[0].want == OSSR_LANE_CONNECT) {
            int64_t wake = ossr_session_wake(sess);
            CHECK(wake > -1000000000000ll && wake == lanes[0].deadline_ms, "a clock below zero: wake %lld, the "
                  "CONNECT's deadline %lld", (long long)wake, (long long)lanes[0].deadline_ms);
        } else CHECK(0, "no CONNECT on a clock below zero: %d", r);
        ossr_session_finish(sess, &st);
        {   /* https:// in a session: the library's TLS wants compiled-in anchors; without
               it, the caller's connection carries TLS (CONNECT names the certificate) */
            char https[256];
            const char *port = strrchr(argv[1], ':');
            snprintf(https, sizeof https, "https://127.0.0.1%s", port ? port : "");
            o9.endpoint = https;
            o9.ca_file = NULL;
            r = ossr_session_init(&sess, &o9, mem, need);
#ifdef OSSR_NO_TLS
            CHECK(r == OSSR_OK && ossr_session_step(sess, 0) == OSSR_PENDING && ossr_session_lanes(sess, &lanes) >= 1 &&
                  lanes[0].want == OSSR_LANE_CONNECT && lanes[0].tls_name && !strcmp(lanes[0].tls_name, "127.0.0.1"),
                  "https:// session without the library's TLS: %d", r);
#else
            CHECK(r == OSSR_E_CERT, "https:// session with a CA file: %d", r);
#endif
            ossr_session_finish(sess, &st);
#ifndef OSSR_NO_TLS
            CHECK(strstr(st.detail, "trust_anchors") != NULL, "the reason: %s", st.detail);
#endif
        }
        free(mem);
    }

    return CHECK_REPORT("api");
}
