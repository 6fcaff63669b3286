/* raw - the transport-limit reference client of the benchmark.

   It sends a file to the bench sink the plainest way there is: pread() into a 256 KiB
   buffer and send() it, no hashing, no CRC, no signing. With TLS the same bytes go through
   BearSSL restricted to ECDHE-RSA/ECDSA-AES128-GCM-SHA256 with br_sslio_write_all(): the
   cost of a raw BearSSL AES-GCM send. What ossup achieves is compared against this.

       raw plain HOST PORT FILE CONNS
       raw tls   HOST PORT FILE CONNS CAFILE
       raw get plain HOST PORT PATH OUT CONNS
       raw get tls   HOST PORT PATH OUT CONNS CAFILE

   With CONNS = 1 the whole file goes in one PUT /bench/raw-object. With CONNS > 1 the
   file is cut into CONNS contiguous ranges, each sent as its own object
   (PUT /bench/raw-object-I) on its own connection and thread. Each reply must be 200.
   HOST is sent in the Host header (so 127.0.0.1 or localhost give path-style addressing)
   and, with TLS, as the server name the certificate is checked against.
   Exit status 0 when every PUT got 200.

   "raw get" reads the object at PATH (/BUCKET/KEY, e.g. /bench/gen/1G) the same plain
   way: recv() (or br_sslio_read()) into a 256 KiB buffer, no hashing, no CRC, no
   checkpoint. With CONNS = 1, one GET of the whole object (200). With CONNS > 1, a HEAD
   first for the size (on connection 0, kept alive), then CONNS contiguous ranges
   (Range: bytes=A-B, 206 with exactly that many bytes), each on its own connection and
   thread. OUT "-" throws the bytes away (the transport's limit); otherwise OUT is
   created (truncated), each full buffer is pwrite()n at its place, and the file is
   fdatasync()ed once at the end, as ossup does before it renames its download into
   place. Exit status 0 when every reply was whole. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include "fd_io.h"

#define RAW_BUF   (256u * 1024u)
#define RAW_CONNS 64

static const char *g_host, *g_port, *g_path;
static int g_tls, g_file, g_out = -1;

/* The server and the connection count from the command line (both modes): the count,
   or -1 after saying it is out of range. */
static int take_target(const char *transport, const char *host, const char *port, const char *conns) {
    int n = atoi(conns);
    g_tls = !strcmp(transport, "tls");
    g_host = host;
    g_port = port;
    if (n < 1 || n > RAW_CONNS) {
        fprintf(stderr, "raw: CONNS must be 1 to %d\n", RAW_CONNS);
        return -1;
    }
    return n;
}
static br_x509_trust_anchor *g_anchors;
static size_t g_anchor_count;

typedef struct chan chan;
typedef struct job {
    uint64_t off, len;
    int index, many, ok;
    chan *open;                  /* get: a connection already open (job 0 after the HEAD) */
    char err[256];
} job;

/* ---- trust anchors from a PEM file ------------------------------------------------- */

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
} bytes;

static void bytes_add(void *ctx, const void *data, size_t len) {
    bytes *b = (bytes *)ctx;
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + len) cap *= 2;
        b->p = (unsigned char *)realloc(b->p, cap);
        if (!b->p) { fputs("raw: out of memory\n", stderr); exit(1); }
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
}

static unsigned char *dup_bytes(const unsigned char *p, size_t n) {
    unsigned char *q = (unsigned char *)malloc(n ? n : 1);
    if (!q) { fputs("raw: out of memory\n", stderr); exit(1); }
    memcpy(q, p, n);
    return q;
}

/* One trust anchor from one DER certificate. */
static void add_anchor(const unsigned char *der, size_t len) {
    br_x509_decoder_context dc;
    bytes dn;
    const br_x509_pkey *pk;
    br_x509_trust_anchor *ta;
    memset(&dn, 0, sizeof dn);
    br_x509_decoder_init(&dc, bytes_add, &dn);
    br_x509_decoder_push(&dc, der, len);
    pk = br_x509_decoder_get_pkey(&dc);
    if (!pk) {
        fprintf(stderr, "raw: cannot decode a CA certificate (BearSSL error %d)\n",
                br_x509_decoder_last_error(&dc));
        exit(1);
    }
    ta = (br_x509_trust_anchor *)realloc(g_anchors, (g_anchor_count + 1) * sizeof *g_anchors);
    g_anchors = ta;
    if (!g_anchors) { fputs("raw: out of memory\n", stderr); exit(1); }
    ta = &g_anchors[g_anchor_count++];
    ta->dn.data = dn.p;
    ta->dn.len = dn.len;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
    } else {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
    }
}

static void load_anchors(const char *path) {
    FILE *f = fopen(path, "rb");
    bytes text, der;
    unsigned char chunk[4096];
    size_t n, off = 0;
    br_pem_decoder_context pc;
    int in_cert = 0;
    if (!f) { fprintf(stderr, "raw: cannot open %s: %s\n", path, strerror(errno)); exit(1); }
    memset(&text, 0, sizeof text);
    memset(&der, 0, sizeof der);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) bytes_add(&text, chunk, n);
    fclose(f);
    bytes_add(&text, "\n", 1);
    br_pem_decoder_init(&pc);
    while (off < text.len) {
        off += br_pem_decoder_push(&pc, text.p + off, text.len - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            in_cert = strstr(br_pem_decoder_name(&pc), "CERTIFICATE") != NULL;
            der.len = 0;
            br_pem_decoder_setdest(&pc, in_cert ? bytes_add : NULL, in_cert ? &der : NULL);
            break;
        case BR_PEM_END_OBJ:
            if (in_cert) add_anchor(der.p, der.len);
            in_cert = 0;
            break;
        case BR_PEM_ERROR:
            fprintf(stderr, "raw: %s is not valid PEM\n", path);
            exit(1);
        default:
            break;
        }
    }
    free(text.p);
    free(der.p);
    if (!g_anchor_count) { fprintf(stderr, "raw: no certificate in %s\n", path); exit(1); }
}

/* ---- one connection ---------------------------------------------------------------- */

struct chan {
    int fd;
    br_ssl_client_context *cc;
    br_x509_minimal_context *xc;
    br_sslio_context *io;
    unsigned char *iobuf;
};


static int chan_send(chan *l, const void *data, size_t len) {
    const char *p = (const char *)data;
    if (l->io) return br_sslio_write_all(l->io, p, len);
    while (len) {
        ssize_t n = send(l->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
static long chan_recv(chan *l, void *data, size_t len) {
    if (l->io) {
        int n = br_sslio_read(l->io, data, len);
        return n > 0 ? n : (br_ssl_engine_last_error(&l->cc->eng) == BR_ERR_OK ? 0 : -1);
    }
    for (;;) {
        ssize_t n = recv(l->fd, data, len, 0);
        if (n >= 0) return (long)n;
        if (errno != EINTR) return -1;
    }
}

static int chan_open(chan *l, job *j) {
    struct addrinfo hints, *ai, *a;
    int rc, one = 1;
    memset(l, 0, sizeof *l);
    l->fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(g_host, g_port, &hints, &ai);
    if (rc != 0) {
        snprintf(j->err, sizeof j->err, "cannot resolve %s: %s", g_host, gai_strerror(rc));
        return -1;
    }
    for (a = ai; a; a = a->ai_next) {
        l->fd = socket(a->ai_family, SOCK_STREAM, 0);
        if (l->fd < 0) continue;
        if (connect(l->fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(l->fd);
        l->fd = -1;
    }
    freeaddrinfo(ai);
    if (l->fd < 0) {
        snprintf(j->err, sizeof j->err, "cannot connect to %s:%s: %s", g_host, g_port,
                 strerror(errno));
        return -1;
    }
    setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (g_tls) {
        static const uint16_t suites[] = {
            BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        };
        l->cc = (br_ssl_client_context *)malloc(sizeof *l->cc);
        l->xc = (br_x509_minimal_context *)malloc(sizeof *l->xc);
        l->io = (br_sslio_context *)malloc(sizeof *l->io);
        l->iobuf = (unsigned char *)malloc(BR_SSL_BUFSIZE_BIDI);
        if (!l->cc || !l->xc || !l->io || !l->iobuf) {
            snprintf(j->err, sizeof j->err, "out of memory");
            return -1;
        }
        br_ssl_client_init_full(l->cc, l->xc, g_anchors, g_anchor_count);
        br_ssl_engine_set_suites(&l->cc->eng, suites, sizeof suites / sizeof suites[0]);
        br_ssl_engine_set_buffer(&l->cc->eng, l->iobuf, BR_SSL_BUFSIZE_BIDI, 1);
        if (!br_ssl_client_reset(l->cc, g_host, 0)) {
            snprintf(j->err, sizeof j->err, "TLS reset failed (BearSSL error %d)",
                     br_ssl_engine_last_error(&l->cc->eng));
            return -1;
        }
        br_sslio_init(l->io, &l->cc->eng, low_read, &l->fd, low_write, &l->fd);
    }
    return 0;
}

static void chan_close(chan *l) {
    if (l->io) br_sslio_close(l->io);
    if (l->fd >= 0) close(l->fd);
    free(l->cc);
    free(l->xc);
    free(l->io);
    free(l->iobuf);
}

/* Sends one PUT of [off, off+len) of the file and checks for a 200 reply. */
static void *put_range(void *arg) {
    job *j = (job *)arg;
    chan l;
    char head[512], path[64];
    unsigned char *buf = (unsigned char *)malloc(RAW_BUF);
    uint64_t done = 0;
    size_t have = 0;
    int n;
    if (!buf) { snprintf(j->err, sizeof j->err, "out of memory"); return NULL; }
    if (chan_open(&l, j) != 0) { free(buf); chan_close(&l); return NULL; }
    if (j->many) snprintf(path, sizeof path, "/bench/raw-object-%d", j->index);
    else snprintf(path, sizeof path, "/bench/raw-object");
    n = snprintf(head, sizeof head,
                 "PUT %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: %llu\r\n"
                 "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                 path, g_host, g_port, (unsigned long long)j->len);
    if (chan_send(&l, head, (size_t)n) != 0) {
        snprintf(j->err, sizeof j->err, "sending the request head failed");
        goto out;
    }
    while (done < j->len) {
        size_t want = j->len - done > RAW_BUF ? RAW_BUF : (size_t)(j->len - done);
        ssize_t got = pread(g_file, buf, want, (off_t)(j->off + done));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            snprintf(j->err, sizeof j->err, "reading the file failed: %s",
                     got < 0 ? strerror(errno) : "short file");
            goto out;
        }
        if (chan_send(&l, buf, (size_t)got) != 0) {
            snprintf(j->err, sizeof j->err, "sending failed after %llu bytes",
                     (unsigned long long)done);
            goto out;
        }
        done += (uint64_t)got;
    }
    if (l.io && br_sslio_flush(l.io) != 0) {
        snprintf(j->err, sizeof j->err, "TLS flush failed");
        goto out;
    }
    /* The reply head: only its status matters. */
    while (have < RAW_BUF - 1) {
        long k = chan_recv(&l, buf + have, RAW_BUF - 1 - have);
        if (k <= 0) break;
        have += (size_t)k;
        buf[have] = 0;
        if (strstr((char *)buf, "\r\n\r\n")) break;
    }
    buf[have] = 0;
    if (have >= 12 && !strncmp((char *)buf, "HTTP/1.", 7) && !strncmp((char *)buf + 8, " 200", 4)) {
        j->ok = 1;
    } else {
        char *eol = strstr((char *)buf, "\r\n");
        if (eol) *eol = 0;
        snprintf(j->err, sizeof j->err, "reply: %.200s", have ? (char *)buf : "(none)");
    }
out:
    chan_close(&l);
    free(buf);
    return NULL;
}

/* ---- reading: raw get --------------------------------------------------------------- */

/* Reads a reply head into buf (NUL-terminated, with whatever body bytes came with it):
   *head_len is the head's length with its empty line, *have all bytes read. 0, or -1
   with j->err set. */
static int read_head(chan *l, job *j, unsigned char *buf, size_t cap, size_t *head_len,
                     size_t *have) {
    *have = 0;
    for (;;) {
        char *end;
        long k;
        buf[*have] = 0;
        end = strstr((char *)buf, "\r\n\r\n");   /* the head comes first: no NUL before it */
        if (end) {
            *head_len = (size_t)(end + 4 - (char *)buf);
            return 0;
        }
        if (*have == cap - 1) {
            snprintf(j->err, sizeof j->err, "the reply head is too long");
            return -1;
        }
        k = chan_recv(l, buf + *have, cap - 1 - *have);
        if (k <= 0) {
            snprintf(j->err, sizeof j->err, "the connection ended before a reply head");
            return -1;
        }
        *have += (size_t)k;
    }
}

/* The status of a reply head, or 0. */
static int head_status(const unsigned char *head) {
    if (strncmp((const char *)head, "HTTP/1.", 7) != 0 || head[8] != ' ') return 0;
    return atoi((const char *)head + 9);
}

/* The value of header field name in a reply head, as a number: 1 and *v, or 0. */
static int head_u64(const unsigned char *head, size_t head_len, const char *name, uint64_t *v) {
    const char *p = (const char *)head, *end = p + head_len;
    size_t n = strlen(name);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        if ((size_t)(nl - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
            char *e;
            unsigned long long x;
            errno = 0;
            x = strtoull(p + n + 1, &e, 10);
            if (errno || e == p + n + 1) return 0;
            *v = x;
            return 1;
        }
        p = nl + 1;
    }
    return 0;
}

/* The status line of a reply head, for a message. */
static void status_line(char *out, size_t cap, const unsigned char *head) {
    const char *eol = strstr((const char *)head, "\r\n");
    size_t n = eol ? (size_t)(eol - (const char *)head) : strlen((const char *)head);
    snprintf(out, cap, "%.*s", (int)(n > 200 ? 200 : n), (const char *)head);
}

static int pwrite_all(int fd, const unsigned char *p, size_t len, uint64_t off) {
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* One GET: of the whole object (200), or with many of [off, off+len) (206). The body is
   read into the buffer; each full buffer is written at its place (or thrown away). */
static void *get_range(void *arg) {
    job *j = (job *)arg;
    chan own, *l = j->open ? j->open : &own;
    unsigned char *buf = (unsigned char *)malloc(RAW_BUF);
    char head[512], line[256];
    size_t head_len, have, fill;
    uint64_t len = 0, got = 0;
    int n, status;
    if (!buf) {
        snprintf(j->err, sizeof j->err, "out of memory");
        if (j->open) chan_close(j->open);
        return NULL;
    }
    if (!j->open && chan_open(l, j) != 0) goto out;
    if (j->many)
        n = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nRange: bytes=%llu-%llu\r\n"
                     "Connection: close\r\n\r\n", g_path, g_host, g_port, (unsigned long long)j->off,
                     (unsigned long long)(j->off + j->len - 1));
    else
        n = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n",
                     g_path, g_host, g_port);
    if (chan_send(l, head, (size_t)n) != 0 || (l->io && br_sslio_flush(l->io) != 0)) {
        snprintf(j->err, sizeof j->err, "sending the request failed");
        goto out;
    }
    if (read_head(l, j, buf, RAW_BUF, &head_len, &have) != 0) goto out;
    status = head_status(buf);
    if (status != (j->many ? 206 : 200) || !head_u64(buf, head_len, "Content-Length", &len)) {
        status_line(line, sizeof line, buf);
        snprintf(j->err, sizeof j->err, "reply: %.200s", line);
        goto out;
    }
    if (j->many && len != j->len) {
        snprintf(j->err, sizeof j->err, "the reply to range %llu-%llu has %llu bytes",
                 (unsigned long long)j->off, (unsigned long long)(j->off + j->len - 1),
                 (unsigned long long)len);
        goto out;
    }
    fill = have - head_len;
    if (fill > len) {
        snprintf(j->err, sizeof j->err, "the reply has more bytes than its Content-Length");
        goto out;
    }
    memmove(buf, buf + head_len, fill);
    for (;;) {
        size_t want;
        long k;
        if (fill == RAW_BUF || got + fill == len) {
            if (fill && g_out >= 0 && pwrite_all(g_out, buf, fill, j->off + got) != 0) {
                snprintf(j->err, sizeof j->err, "writing the file failed: %s", strerror(errno));
                goto out;
            }
            got += fill;
            fill = 0;
            if (got == len) break;
        }
        want = RAW_BUF - fill;
        if ((uint64_t)want > len - got - fill) want = (size_t)(len - got - fill);
        k = chan_recv(l, buf + fill, want);
        if (k <= 0) {
            snprintf(j->err, sizeof j->err, "the connection ended after %llu of %llu bytes",
                     (unsigned long long)(got + fill), (unsigned long long)len);
            goto out;
        }
        fill += (size_t)k;
    }
    j->len = len;
    j->ok = 1;
out:
    chan_close(l);
    free(buf);
    return NULL;
}

/* raw get plain|tls HOST PORT PATH OUT CONNS [CAFILE] */
static int main_get(int argc, char **argv) {
    static chan first;
    job jobs[RAW_CONNS];
    pthread_t th[RAW_CONNS];
    int conns, i, ok = 1, started[RAW_CONNS];
    uint64_t size = 0, each;
    if (argc < 8 || (strcmp(argv[2], "plain") && strcmp(argv[2], "tls")) ||
        (!strcmp(argv[2], "tls") && argc < 9)) {
        fprintf(stderr, "usage: raw get plain HOST PORT PATH OUT CONNS\n"
                        "       raw get tls HOST PORT PATH OUT CONNS CAFILE\n");
        return 2;
    }
    g_path = argv[5];
    if ((conns = take_target(argv[2], argv[3], argv[4], argv[7])) < 0) return 2;
    if (g_tls) load_anchors(argv[8]);
    if (strcmp(argv[6], "-") != 0) {
        g_out = open(argv[6], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (g_out < 0) {
            fprintf(stderr, "raw: cannot create %s: %s\n", argv[6], strerror(errno));
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    memset(jobs, 0, sizeof jobs);
    if (conns == 1) {
        get_range(&jobs[0]);
    } else {
        /* The size, from a HEAD on the connection that then fetches the first range. */
        char head[512], line[256];
        unsigned char buf[4096];
        size_t head_len, have;
        int n;
        buf[0] = 0;
        if (chan_open(&first, &jobs[0]) != 0) {
            chan_close(&first);
            fprintf(stderr, "raw: %s\n", jobs[0].err);
            return 1;
        }
        n = snprintf(head, sizeof head, "HEAD %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", g_path, g_host, g_port);
        if (chan_send(&first, head, (size_t)n) != 0 || (first.io && br_sslio_flush(first.io) != 0) ||
            read_head(&first, &jobs[0], buf, sizeof buf, &head_len, &have) != 0 || head_status(buf) != 200 ||
            !head_u64(buf, head_len, "Content-Length", &size)) {
            if (!jobs[0].err[0]) {
                status_line(line, sizeof line, buf);
                snprintf(jobs[0].err, sizeof jobs[0].err, "HEAD reply: %.200s", line);
            }
            chan_close(&first);
            fprintf(stderr, "raw: %s\n", jobs[0].err);
            return 1;
        }
        each = (size + (uint64_t)conns - 1) / (uint64_t)conns;
        for (i = 0; i < conns; i++) {
            jobs[i].index = i;
            jobs[i].many = 1;
            jobs[i].off = each * (uint64_t)i < size ? each * (uint64_t)i : size;
            jobs[i].len = jobs[i].off + each <= size ? each : size - jobs[i].off;
        }
        jobs[0].open = &first;
        for (i = 0; i < conns; i++) {
            started[i] = 0;
            if (jobs[i].len == 0) {         /* an object smaller than CONNS bytes */
                if (jobs[i].open) chan_close(jobs[i].open);
                jobs[i].ok = 1;
            } else if (pthread_create(&th[i], NULL, get_range, &jobs[i]) != 0) {
                fprintf(stderr, "raw: cannot start a thread\n");
                return 1;
            } else {
                started[i] = 1;
            }
        }
        for (i = 0; i < conns; i++)
            if (started[i]) pthread_join(th[i], NULL);
    }
    for (i = 0; i < conns; i++)
        if (!jobs[i].ok) {
            fprintf(stderr, "raw: connection %d: %s\n", i, jobs[i].err[0] ? jobs[i].err : "failed");
            ok = 0;
        }
    if (g_out >= 0) {
        if (ok && fdatasync(g_out) != 0) {
            fprintf(stderr, "raw: fdatasync %s: %s\n", argv[6], strerror(errno));
            ok = 0;
        }
        close(g_out);
    }
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    struct stat sb;
    int conns, i, ok = 1;
    job jobs[RAW_CONNS];
    pthread_t th[RAW_CONNS];
    uint64_t size, each;
    if (argc >= 2 && !strcmp(argv[1], "get")) return main_get(argc, argv);
    if (argc < 6 || (strcmp(argv[1], "plain") && strcmp(argv[1], "tls")) ||
        (!strcmp(argv[1], "tls") && argc < 7)) {
        fprintf(stderr, "usage: raw plain HOST PORT FILE CONNS\n"
                        "       raw tls HOST PORT FILE CONNS CAFILE\n"
                        "       raw get plain HOST PORT PATH OUT CONNS\n"
                        "       raw get tls HOST PORT PATH OUT CONNS CAFILE\n");
        return 2;
    }
    if ((conns = take_target(argv[1], argv[2], argv[3], argv[5])) < 0) return 2;
    g_file = open(argv[4], O_RDONLY);
    if (g_file < 0 || fstat(g_file, &sb) != 0) {
        fprintf(stderr, "raw: cannot open %s: %s\n", argv[4], strerror(errno));
        return 1;
    }
    if (g_tls) load_anchors(argv[6]);
    signal(SIGPIPE, SIG_IGN);
    size = (uint64_t)sb.st_size;
    each = (size + (uint64_t)conns - 1) / (uint64_t)conns;
    for (i = 0; i < conns; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].index = i;
        jobs[i].many = conns > 1;
        jobs[i].off = each * (uint64_t)i < size ? each * (uint64_t)i : size;
        jobs[i].len = jobs[i].off + each <= size ? each : size - jobs[i].off;
    }
    if (conns == 1) {
        put_range(&jobs[0]);
    } else {
        for (i = 0; i < conns; i++)
            if (pthread_create(&th[i], NULL, put_range, &jobs[i]) != 0) {
                fprintf(stderr, "raw: cannot start a thread\n");
                return 1;
            }
        for (i = 0; i < conns; i++) pthread_join(th[i], NULL);
    }
    for (i = 0; i < conns; i++)
        if (!jobs[i].ok) {
            fprintf(stderr, "raw: connection %d: %s\n", i, jobs[i].err[0] ? jobs[i].err : "failed");
            ok = 0;
        }
    close(g_file);
    return ok ? 0 : 1;
}
