/* sink - a fast stand-in for Alibaba Cloud OSS, for benchmarks only.

   It answers just enough of the OSS API for ossup, curl and the official Node SDK ali-oss
   to upload and download at full speed over loopback: PutObject, InitiateMultipartUpload,
   UploadPart, ListParts (max-parts / part-number-marker pages), CompleteMultipartUpload,
   AbortMultipartUpload, HeadObject, DeleteObject, and GetObject of generated objects. The
   bench measures clients against it, so the server side must cost as little as possible:

   - NO SIGNATURE IS CHECKED. Any Authorization header, or none, is accepted. Use
     tests/oss_server.py for anything that needs OSS's real checks.
   - Request bodies (Content-Length or chunked; "Expect: 100-continue" is answered) are
     received into one 256 KiB buffer per connection, run through the library's
     ossr_crc64() and thrown away. Only sizes and CRC-64s are kept: per upload, up to
     10,000 parts, so ListParts and Complete are real (Complete checks the part list and
     answers with the CRC-64 combine of the listed parts, in order); per object, the last
     256 objects for HeadObject. No object data is kept, so GetObject serves only the
     generated objects below.
   - Generated objects, for downloads: the key "gen/SIZE" (SIZE in bytes, or with a K, M
     or G suffix: 1024, 1024^2, 1024^3), in any bucket, is an object of SIZE bytes that
     exists without being stored. Its byte at offset o is a function of o alone: the
     object is a fixed 1 MiB pseudo-random block (xorshift64* from a fixed seed) repeated,
     except that the first 8 bytes of every 4 KiB page hold the page's number (o / 4096)
     in little-endian order, so no two pages are equal and a byte written at the wrong
     place shows. Bytes are made as they are sent (memcpy from the block), never held.
     HeadObject and GetObject answer with Content-Length, ETag (as for stored objects:
     CRC-64 and size in hex, so the same bytes uploaded get the same ETag),
     x-oss-hash-crc64ecma of the whole object, a fixed Last-Modified and Accept-Ranges.
     The whole object's CRC-64 is not computed from its bytes: each page's CRC-64 is the
     combine of its stamp's and the block's rest, and the pages are folded with
     ossr_crc64_combine(), as 64x64 bit matrices (the combine is linear in its first
     argument); 8 GiB take well under a second, and the last 16 sizes are cached.
     GetObject: one byte range (Range: bytes=A-B, bytes=A-, bytes=-N) is 206 with
     Content-Range; an unparsable, inverted or multiple range is ignored (200, the
     whole object), and so, as OSS does, is a range that does not lie within the object,
     unless the request sends "x-oss-range-behavior: standard": then an end past the
     object is cut to its last byte, a suffix longer than the object is all of it, and
     a start at or past the size (or bytes=-0, or any range of an empty object) is 416
     InvalidRange, its Content-Range giving the size (tests/oss_server.py's rules).
     If-Match (GetObject and HeadObject): 412 PreconditionFailed unless it holds the
     quoted ETag (alone or in a comma-separated list) or "*".
   - ETags are not MD5s: "<CRC-64 in hex><size in hex>", 32 upper-case hex digits, so equal
     bytes get equal ETags. Every reply carries x-oss-request-id, Date and Content-Length;
     PutObject and UploadPart replies carry the ETag and x-oss-hash-crc64ecma of what was
     received, so a client's CRC check is real.
   - Addressing: path style (/BUCKET/KEY) when Host is an IP literal or localhost, or is
     missing; otherwise virtual-hosted, the bucket being the first label of Host (what
     ali-oss sends when its endpoint is an IP).
   - HTTP/1.1 with keep-alive, one thread per connection; optional TLS with BearSSL's
     server engine (RSA or EC key; no session cache, so every connection makes a full
     handshake).

   Usage:
       sink PORT [--host ADDR] [--idle-exit SECONDS] [--tls CERT.pem KEY.pem]
                 [--fail-part N]
       sink --check FILE SIZE
       sink --crc-speed

   PORT 0 picks a free port. The first line on stdout is "port N". The sink stops on
   SIGTERM/SIGINT, and by itself after --idle-exit seconds (default 600) with no
   connection open.

   --fail-part N: the first UploadPart of part number N is answered 403 AccessDenied (its
   body is read first). The first UploadPart request after that one prints, on stdout,
   "first_part_after_fail T", T being the CLOCK_REALTIME time in seconds at which that
   request's first bytes arrived.

   "sink --check FILE SIZE" compares FILE byte for byte with the generated object
   gen/SIZE (and the CRC-64 of FILE's bytes with the one HeadObject announces): "ok ..."
   and exit status 0, or the first difference and 1.

   "sink --crc-speed" only measures ossr_crc64() (MB/s over 1 GiB in memory) and exits.

   GET /_sink/stats answers JSON: requests, bytes (request body bytes received), uploads
   (in progress), uploads_started, uploads_completed, objects_put, gets (GetObject replies
   of generated objects), bytes_sent (their body bytes), tls_handshakes and tls_suite, the
   cipher suite of the last TLS connection (both leave out connections whose first
   request is this one). A body received is counted before its reply is sent, and the
   bytes of a body sent before they are handed to the connection, so a client that has
   its reply sees its bytes in the statistics. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../../oss_resumable.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "fd_io.h"

#define SINK_BUF          (256u * 1024u)   /* per-connection receive buffer */
#define SINK_HEAD_MAX     (64u * 1024u)    /* largest request head */
#define SINK_LINE_MAX     4096u            /* longest chunk-size or trailer line */
#define SINK_MAX_PARTS    10000u
#define SINK_COMPLETE_MAX (4u << 20)       /* largest Complete body */
#define SINK_OBJECTS      256
#define SINK_MIN_PART     102400u          /* every part but the last, at Complete */
#define SINK_IO_TIMEOUT   300              /* seconds a connection may stay silent */
#define SINK_OUT          (256u * 1024u)   /* per-connection send buffer (GetObject) */
#define GEN_BLOCK         (1u << 20)       /* the generated objects' repeated block */
#define GEN_PAGE          4096u            /* ... stamped with its number every 4 KiB */
#define GEN_CACHE         16               /* whole-object CRC-64s kept, by size */
#define GEN_MTIME         ((time_t)1767225600)   /* their Last-Modified: 2026-01-01 */
#define GEN_MAX           ((uint64_t)1 << 46)    /* the largest generated object, 64 TiB */

/* ---- state shared by all connections (one lock) ------------------------------------ */

typedef struct part {
    uint64_t size, crc;
    time_t mtime;
    int have;
} part;

typedef struct upload {
    struct upload *next;
    char id[40];
    char bucket[64];
    char key[1024];
    part *parts;                 /* SINK_MAX_PARTS entries, index = number - 1 */
} upload;

typedef struct object {
    char bucket[64];
    char key[1024];
    uint64_t size, crc;
    time_t mtime;
    int multipart, used;
} object;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t g_stop;
static upload *g_uploads;
static object g_objects[SINK_OBJECTS];
static unsigned g_object_next;
static uint64_t g_seq;
static struct {
    uint64_t requests, bytes, started, completed, put, handshakes, gets, sent;
    unsigned live_uploads, last_suite;
} g_st;
static int g_live_conns;
static time_t g_last_activity;

enum { FAIL_OFF, FAIL_ARMED, FAIL_FIRED, FAIL_DONE };
static uint32_t g_fail_part;
static int g_fail_state = FAIL_OFF;

/* TLS: the certificate chain and the decoded private key, read once at start. */
static int g_tls;
static br_x509_certificate *g_chain;
static size_t g_chain_len;
static br_skey_decoder_context g_skey;

/* ---- small helpers ----------------------------------------------------------------- */

static void die(const char *fmt, ...) {
    va_list ap;
    fputs("sink: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static double realtime_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growable string for replies. On allocation failure it stops growing and says so. */
typedef struct sb {
    char *p;
    size_t len, cap;
    int oom;
} sb;

static void sb_add(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *q;
        while (cap < b->len + n + 1) cap *= 2;
        q = (char *)realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void sb_str(sb *b, const char *s) { sb_add(b, s, strlen(s)); }

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sb_printf(sb *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if ((size_t)n < sizeof small) { sb_add(b, small, (size_t)n); return; }
    {
        char *big = (char *)malloc((size_t)n + 1);
        if (!big) { b->oom = 1; return; }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        sb_add(b, big, (size_t)n);
        free(big);
    }
}
/* Text escaped for XML element content. */
static void sb_xml(sb *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_str(b, "&amp;"); break;
        case '<': sb_str(b, "&lt;"); break;
        case '>': sb_str(b, "&gt;"); break;
        case '"': sb_str(b, "&quot;"); break;
        default: sb_add(b, s, 1); break;
        }
    }
}

static void copy_str(char *dst, size_t cap, const char *src, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static int hexval(int ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}
/* Percent-decodes src[0..n) into dst (NUL-terminated, cut at cap). '+' stays '+'. */
static void url_decode(char *dst, size_t cap, const char *src, size_t n) {
    size_t i, o = 0;
    for (i = 0; i < n && o + 1 < cap; i++) {
        if (src[i] == '%' && i + 2 < n && hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0) {
            dst[o++] = (char)(hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
            i += 2;
        } else {
            dst[o++] = src[i];
        }
    }
    dst[o] = 0;
}

static void etag_of(char out[40], uint64_t crc, uint64_t size) {
    snprintf(out, 40, "%016llX%016llX", (unsigned long long)crc, (unsigned long long)size);
}

static void http_date(char *out, size_t cap, time_t t) {
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tmv);
}
static void iso_date(char *out, size_t cap, time_t t) {
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000Z", &tmv);
}

static uint64_t next_seq(void) {
    uint64_t v;
    pthread_mutex_lock(&g_lock);
    v = ++g_seq;
    pthread_mutex_unlock(&g_lock);
    return v;
}

/* Looks up an upload by id; call with g_lock held. */
static upload *find_upload(const char *id) {
    upload *u;
    for (u = g_uploads; u; u = u->next)
        if (strcmp(u->id, id) == 0) return u;
    return NULL;
}

/* ---- generated objects: gen/SIZE -------------------------------------------------- */

/* The byte at offset o of every generated object: the first 8 bytes of each 4 KiB page
   are the page's number (o / GEN_PAGE) in little-endian order, every other byte is
   g_gen[o % GEN_BLOCK]. */
static unsigned char *g_gen;                  /* GEN_BLOCK pseudo-random bytes */
static uint64_t g_gen_rest[GEN_BLOCK / GEN_PAGE];   /* CRC-64 of each block page but its stamp */

/* A 64x64 bit matrix over GF(2) as 8 tables of 256 (one per byte of the argument). */
typedef struct gf2mat {
    uint64_t t[8][256];
} gf2mat;
static gf2mat g_after_rest, g_after_page;     /* x -> ossr_crc64_combine(x, 0, n) for n = */
                                              /* GEN_PAGE - 8 and GEN_PAGE */
static struct {
    uint64_t size, crc;
    int used;
} g_gen_cache[GEN_CACHE];
static unsigned g_gen_cache_next;

static void put_le64(unsigned char *p, uint64_t v) {
    int i;
    for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* The matrix of x -> ossr_crc64_combine(x, 0, len): the combine is x times x^(8 len) mod
   the polynomial, linear in x, so its 64 columns make every value. */
static void mat_build(gf2mat *m, uint64_t len) {
    uint64_t col[64];
    int j, k, v, i;
    for (j = 0; j < 64; j++) col[j] = ossr_crc64_combine((uint64_t)1 << j, 0, len);
    for (k = 0; k < 8; k++)
        for (v = 0; v < 256; v++) {
            uint64_t x = 0;
            for (i = 0; i < 8; i++)
                if (v >> i & 1) x ^= col[8 * k + i];
            m->t[k][v] = x;
        }
}
static uint64_t mat_apply(const gf2mat *m, uint64_t x) {
    uint64_t r = 0;
    int k;
    for (k = 0; k < 8; k++) r ^= m->t[k][(x >> (8 * k)) & 0xFF];
    return r;
}

/* Called once, before any connection. */
static void gen_init(void) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    size_t i;
    g_gen = (unsigned char *)malloc(GEN_BLOCK);
    if (!g_gen) {
        fputs("sink: out of memory\n", stderr);
        exit(1);
    }
    for (i = 0; i < GEN_BLOCK; i += 8) {   /* xorshift64* */
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        put_le64(g_gen + i, x * 0x2545F4914F6CDD1Dull);
    }
    for (i = 0; i < GEN_BLOCK / GEN_PAGE; i++)
        g_gen_rest[i] = ossr_crc64(0, g_gen + i * GEN_PAGE + 8, GEN_PAGE - 8);
    mat_build(&g_after_rest, GEN_PAGE - 8);
    mat_build(&g_after_page, GEN_PAGE);
}

/* The len bytes of every generated object from offset off. */
static void gen_fill(unsigned char *dst, uint64_t off, size_t len) {
    while (len) {
        size_t in = (size_t)(off % GEN_PAGE), n = GEN_PAGE - in;
        if (n > len) n = len;
        memcpy(dst, g_gen + off % GEN_BLOCK, n);   /* a page never straddles the block's end */
        if (in < 8) {
            unsigned char stamp[8];
            size_t k = 8 - in < n ? 8 - in : n;
            put_le64(stamp, off / GEN_PAGE);
            memcpy(dst, stamp + in, k);
        }
        dst += n;
        off += n;
        len -= n;
    }
}

/* The CRC-64 of the whole generated object of size bytes, without its bytes: page p's is
   combine(crc(stamp p), crc(the block page's rest), GEN_PAGE - 8), and the pages fold
   as acc = combine(acc, page, GEN_PAGE); a part page at the end is made and summed. */
static uint64_t gen_crc(uint64_t size) {
    uint64_t acc = 0, p, pages = size / GEN_PAGE;
    size_t tail = (size_t)(size % GEN_PAGE);
    unsigned i;
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < GEN_CACHE; i++)
        if (g_gen_cache[i].used && g_gen_cache[i].size == size) {
            acc = g_gen_cache[i].crc;
            pthread_mutex_unlock(&g_lock);
            return acc;
        }
    pthread_mutex_unlock(&g_lock);
    for (p = 0; p < pages; p++) {
        unsigned char stamp[8];
        uint64_t page;
        put_le64(stamp, p);
        page = mat_apply(&g_after_rest, ossr_crc64(0, stamp, 8)) ^
               g_gen_rest[p % (GEN_BLOCK / GEN_PAGE)];
        acc = mat_apply(&g_after_page, acc) ^ page;
    }
    if (tail) {
        unsigned char last[GEN_PAGE];
        gen_fill(last, pages * GEN_PAGE, tail);
        acc = ossr_crc64_combine(acc, ossr_crc64(0, last, tail), tail);
    }
    pthread_mutex_lock(&g_lock);   /* two requests may have both computed it: same value */
    i = g_gen_cache_next++ % GEN_CACHE;
    g_gen_cache[i].size = size;
    g_gen_cache[i].crc = acc;
    g_gen_cache[i].used = 1;
    pthread_mutex_unlock(&g_lock);
    return acc;
}

/* 1 and *size when key names a generated object ("gen/SIZE", SIZE decimal with an
   optional K, M or G), else 0. */
static int gen_key(const char *key, uint64_t *size) {
    uint64_t v = 0, mult = 1;
    const char *p = key + 4;
    if (strncmp(key, "gen/", 4) != 0 || *p < '0' || *p > '9') return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > GEN_MAX) return 0;
    }
    if (*p == 'K') mult = 1024;
    else if (*p == 'M') mult = 1024 * 1024;
    else if (*p == 'G') mult = 1024 * 1024 * 1024;
    if (mult > 1) p++;
    if (*p || v > GEN_MAX / mult) return 0;
    *size = v * mult;
    return 1;
}

/* ---- connections: plain or TLS ---------------------------------------------------- */

typedef struct tls_state {
    br_ssl_server_context sc;
    br_sslio_context io;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
} tls_state;

typedef struct conn {
    int fd;
    tls_state *tls;
    int suite_seen;
    unsigned char *buf;          /* SINK_BUF bytes; valid data is buf[pos..len) */
    size_t pos, len;
    unsigned char *out;          /* SINK_OUT bytes, for GetObject replies (made on first use) */
} conn;


/* Receives up to cap bytes into dst: > 0 bytes, 0 at end of stream, < 0 on error. */
static long conn_recv(conn *c, unsigned char *dst, size_t cap) {
    if (c->tls) {
        int n = br_sslio_read(&c->tls->io, dst, cap);
        if (n > 0) return n;
        return br_ssl_engine_last_error(&c->tls->sc.eng) == BR_ERR_OK ? 0 : -1;
    }
    for (;;) {
        ssize_t n = recv(c->fd, dst, cap, 0);
        if (n >= 0) return (long)n;
        if (errno != EINTR) return -1;
    }
}
static int conn_send(conn *c, const void *data, size_t len) {
    const char *p = (const char *)data;
    if (c->tls) {
        if (br_sslio_write_all(&c->tls->io, p, len) != 0) return -1;
        return br_sslio_flush(&c->tls->io);
    }
    while (len) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Moves unread bytes to the front of the buffer and reads more after them.
   1 when bytes were added, 0 at end of stream, -1 on error or a full buffer. */
static int conn_fill(conn *c, size_t limit) {
    long n;
    if (c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->len >= limit) return -1;
    n = conn_recv(c, c->buf + c->len, limit - c->len);
    if (n < 0) return -1;
    if (n == 0) return 0;
    c->len += (size_t)n;
    return 1;
}

/* One CRLF- (or LF-) terminated line, without its terminator, NUL-terminated in place.
   NULL on end of stream, error, or a line longer than SINK_LINE_MAX. */
static char *conn_line(conn *c) {
    for (;;) {
        unsigned char *nl = (unsigned char *)memchr(c->buf + c->pos, '\n', c->len - c->pos);
        if (nl) {
            char *line = (char *)c->buf + c->pos;
            size_t n = (size_t)(nl - (c->buf + c->pos));
            c->pos += n + 1;
            if (n && line[n - 1] == '\r') n--;
            line[n] = 0;
            return line;
        }
        if (c->len - c->pos > SINK_LINE_MAX) return NULL;
        if (conn_fill(c, SINK_BUF) != 1) return NULL;
    }
}

/* ---- requests ---------------------------------------------------------------------- */

typedef struct req {
    char method[16];
    char path[2048];             /* decoded */
    char host[256];
    char bucket[64];
    char key[1024];
    char upload_id[80];
    int has_uploads, has_upload_id, has_part_number;
    long part_number;            /* -1 when not a number */
    long max_parts, marker;
    int chunked, has_length, expect_continue, keep_alive;
    uint64_t length;
    double t_first_byte;         /* CLOCK_REALTIME when the request's first bytes arrived */
    uint64_t body_bytes;
    char request_id[32];
    char range[128];             /* the Range header, when has_range */
    char if_match[512];          /* the If-Match header, when has_if_match */
    int has_range, has_if_match, range_standard;
} req;

typedef struct body {
    int chunked, done, need_crlf;
    uint64_t left;               /* bytes left: of the whole body, or of the current chunk */
} body;

/* The next piece of the request body: its length (> 0) with *p pointing into the
   connection buffer, 0 at the end of the body, -1 on error. */
static long body_next(conn *c, body *b, const unsigned char **p) {
    size_t avail;
    if (b->done) return 0;
    if (b->chunked) {
        while (b->left == 0) {
            char *line, *end;
            unsigned long long size;
            if (b->need_crlf) {
                line = conn_line(c);
                if (!line || line[0]) return -1;
                b->need_crlf = 0;
            }
            line = conn_line(c);
            if (!line || hexval((unsigned char)line[0]) < 0) return -1;
            errno = 0;
            size = strtoull(line, &end, 16);
            if (errno || (*end && *end != ';' && *end != ' ' && *end != '\t')) return -1;
            if (size == 0) {
                do {   /* trailer fields up to the empty line */
                    line = conn_line(c);
                    if (!line) return -1;
                } while (line[0]);
                b->done = 1;
                return 0;
            }
            b->left = size;
            b->need_crlf = 1;
        }
    } else if (b->left == 0) {
        b->done = 1;
        return 0;
    }
    if (c->pos == c->len) {      /* nothing buffered: receive straight into the buffer */
        long n;
        c->pos = c->len = 0;
        n = conn_recv(c, c->buf, SINK_BUF);
        if (n <= 0) return -1;
        c->len = (size_t)n;
    }
    avail = c->len - c->pos;
    if ((uint64_t)avail > b->left) avail = (size_t)b->left;
    *p = c->buf + c->pos;
    c->pos += avail;
    b->left -= avail;
    return (long)avail;
}

static void body_init(body *b, const req *r) {
    memset(b, 0, sizeof *b);
    b->chunked = r->chunked;
    b->left = r->chunked ? 0 : r->length;
}

/* Counts a finished body in the statistics, before any reply to it goes out. */
static void count_body(req *r, uint64_t n) {
    r->body_bytes += n;
    pthread_mutex_lock(&g_lock);
    g_st.bytes += n;
    pthread_mutex_unlock(&g_lock);
}

/* Reads the whole body, CRC-64 in *crc (when not NULL) and size in *size. 0 or -1. */
static int body_consume(conn *c, req *r, uint64_t *crc, uint64_t *size) {
    body b;
    const unsigned char *p;
    long n;
    uint64_t cr = 0, total = 0;
    body_init(&b, r);
    while ((n = body_next(c, &b, &p)) > 0) {
        if (crc) cr = ossr_crc64(cr, p, (size_t)n);
        total += (uint64_t)n;
    }
    count_body(r, total);
    if (crc) *crc = cr;
    if (size) *size = total;
    return n < 0 ? -1 : 0;
}

/* Reads the whole body into memory (at most cap bytes). Caller frees. */
static char *body_collect(conn *c, req *r, size_t cap, size_t *out_len, int *too_big) {
    body b;
    const unsigned char *p;
    long n;
    uint64_t total = 0;
    sb s;
    memset(&s, 0, sizeof s);
    *too_big = 0;
    body_init(&b, r);
    sb_add(&s, "", 0);
    while ((n = body_next(c, &b, &p)) > 0) {
        total += (uint64_t)n;
        if (s.len + (size_t)n > cap) *too_big = 1;
        if (!*too_big) sb_add(&s, (const char *)p, (size_t)n);
    }
    count_body(r, total);
    if (n < 0 || s.oom) {
        free(s.p);
        return NULL;
    }
    *out_len = s.len;
    return s.p;
}

static const char *reason_of(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 206: return "Partial Content";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 416: return "Requested Range Not Satisfiable";
    case 501: return "Not Implemented";
    default: return "Error";
    }
}

/* The head of a reply into s: status line, the common fields, extra (further header
   lines, each ending in CRLF, or NULL) and the empty line. */
static void reply_head(sb *s, req *r, int status, const char *extra, const char *content_type,
                       uint64_t content_length) {
    char date[64];
    http_date(date, sizeof date, time(NULL));
    sb_printf(s, "HTTP/1.1 %d %s\r\nServer: AliyunOSS\r\nDate: %s\r\nx-oss-request-id: %s\r\n"
              "Content-Length: %llu\r\n", status, reason_of(status), date, r->request_id,
              (unsigned long long)content_length);
    if (content_type) sb_printf(s, "Content-Type: %s\r\n", content_type);
    if (!r->keep_alive) sb_str(s, "Connection: close\r\n");
    else sb_str(s, "Connection: keep-alive\r\n");
    if (extra) sb_str(s, extra);
    sb_str(s, "\r\n");
}

/* Sends one reply. extra: further header lines, each ending in CRLF (or NULL).
   With head_only, Content-Length is content_length and no body is sent. */
static int reply(conn *c, req *r, int status, const char *extra, const char *content_type,
                 const char *bodytext, size_t body_len, int head_only, uint64_t content_length) {
    sb s;
    int rc;
    memset(&s, 0, sizeof s);
    reply_head(&s, r, status, extra, content_type, head_only ? content_length : body_len);
    if (!head_only && body_len) sb_add(&s, bodytext, body_len);
    rc = s.oom ? -1 : conn_send(c, s.p, s.len);
    free(s.p);
    return rc;
}

/* An error reply with an OSS error document (none to a HEAD); extra as for reply(). */
static int reply_error_with(conn *c, req *r, int status, const char *code, const char *message,
                            const char *extra) {
    sb s;
    int rc;
    memset(&s, 0, sizeof s);
    if (strcmp(r->method, "HEAD") == 0)
        return reply(c, r, status, extra, NULL, NULL, 0, 1, 0);
    sb_str(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>");
    sb_xml(&s, code);
    sb_str(&s, "</Code>\n  <Message>");
    sb_xml(&s, message);
    sb_printf(&s, "</Message>\n  <RequestId>%s</RequestId>\n  <HostId>", r->request_id);
    sb_xml(&s, r->host[0] ? r->host : "127.0.0.1");
    sb_str(&s, "</HostId>\n</Error>\n");
    if (s.oom) { free(s.p); return -1; }
    rc = reply(c, r, status, extra, "application/xml", s.p, s.len, 0, 0);
    free(s.p);
    return rc;
}
static int reply_error(conn *c, req *r, int status, const char *code, const char *message) {
    return reply_error_with(c, r, status, code, message, NULL);
}

/* Drains the body, then replies with an error; a body that cannot be read closes. */
static int drain_and_error(conn *c, req *r, int status, const char *code, const char *message) {
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    return reply_error(c, r, status, code, message);
}

/* ---- the OSS operations ----------------------------------------------------------- */

static int same_object(const object *o, const req *r) {
    return o->used && !strcmp(o->bucket, r->bucket) && !strcmp(o->key, r->key);
}

/* The ETag and CRC-64 headers of a reply about bytes received. */
static void sum_headers(char *out, size_t cap, uint64_t crc, uint64_t size) {
    char etag[40];
    etag_of(etag, crc, size);
    snprintf(out, cap, "ETag: \"%s\"\r\nx-oss-hash-crc64ecma: %llu\r\n", etag,
             (unsigned long long)crc);
}

static const char MSG_NO_LENGTH[] = "You must provide the Content-Length HTTP header.";
static const char MSG_NO_UPLOAD[] = "The specified upload does not exist. The upload ID may be "
                                    "invalid, or the upload may have been aborted or completed.";
static const char XML_DECL[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

static void remember_object(const req *r, uint64_t size, uint64_t crc, int multipart) {
    unsigned i, slot = SINK_OBJECTS;
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < SINK_OBJECTS; i++)
        if (same_object(&g_objects[i], r)) {
            slot = i;
            break;
        }
    if (slot == SINK_OBJECTS) slot = g_object_next++ % SINK_OBJECTS;
    copy_str(g_objects[slot].bucket, sizeof g_objects[slot].bucket, r->bucket, strlen(r->bucket));
    copy_str(g_objects[slot].key, sizeof g_objects[slot].key, r->key, strlen(r->key));
    g_objects[slot].size = size;
    g_objects[slot].crc = crc;
    g_objects[slot].mtime = time(NULL);
    g_objects[slot].multipart = multipart;
    g_objects[slot].used = 1;
    pthread_mutex_unlock(&g_lock);
}

static int op_put_object(conn *c, req *r) {
    uint64_t crc, size;
    char extra[256];
    if (!r->chunked && !r->has_length)
        return drain_and_error(c, r, 411, "MissingContentLength", MSG_NO_LENGTH);
    if (body_consume(c, r, &crc, &size) != 0) return -1;
    remember_object(r, size, crc, 0);
    pthread_mutex_lock(&g_lock);
    g_st.put++;
    pthread_mutex_unlock(&g_lock);
    sum_headers(extra, sizeof extra, crc, size);
    return reply(c, r, 200, extra, NULL, NULL, 0, 0, 0);
}

static int op_initiate(conn *c, req *r) {
    upload *u;
    sb s;
    int rc;
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    u = (upload *)calloc(1, sizeof *u);
    if (u) u->parts = (part *)calloc(SINK_MAX_PARTS, sizeof *u->parts);
    if (!u || !u->parts) {
        if (u) free(u);
        return reply_error(c, r, 500, "InternalError", "out of memory");
    }
    snprintf(u->id, sizeof u->id, "%08X%08X%016llX", (unsigned)time(NULL), (unsigned)getpid(),
             (unsigned long long)next_seq());
    copy_str(u->bucket, sizeof u->bucket, r->bucket, strlen(r->bucket));
    copy_str(u->key, sizeof u->key, r->key, strlen(r->key));
    pthread_mutex_lock(&g_lock);
    u->next = g_uploads;
    g_uploads = u;
    g_st.started++;
    g_st.live_uploads++;
    pthread_mutex_unlock(&g_lock);
    memset(&s, 0, sizeof s);
    sb_str(&s, XML_DECL);
    sb_str(&s, "<InitiateMultipartUploadResult>\n  <Bucket>");
    sb_xml(&s, r->bucket);
    sb_str(&s, "</Bucket>\n  <Key>");
    sb_xml(&s, r->key);
    sb_printf(&s, "</Key>\n  <UploadId>%s</UploadId>\n</InitiateMultipartUploadResult>\n", u->id);
    rc = s.oom ? -1 : reply(c, r, 200, NULL, "application/xml", s.p, s.len, 0, 0);
    free(s.p);
    return rc;
}

static int op_upload_part(conn *c, req *r) {
    uint64_t crc, size;
    char extra[256];
    int fail = 0, exists;
    uint32_t pn;
    upload *u;
    if (r->part_number < 1 || r->part_number > (long)SINK_MAX_PARTS)
        return drain_and_error(c, r, 400, "InvalidArgument",
                               "Part number must be an integer between 1 and 10000, inclusive.");
    if (!r->chunked && !r->has_length)
        return drain_and_error(c, r, 411, "MissingContentLength", MSG_NO_LENGTH);
    pn = (uint32_t)r->part_number;
    pthread_mutex_lock(&g_lock);
    if (g_fail_state == FAIL_ARMED && pn == g_fail_part) {
        g_fail_state = FAIL_FIRED;
        fail = 1;
    } else if (g_fail_state == FAIL_FIRED) {
        g_fail_state = FAIL_DONE;
        printf("first_part_after_fail %.6f\n", r->t_first_byte);
        fflush(stdout);
    }
    exists = find_upload(r->upload_id) != NULL;
    pthread_mutex_unlock(&g_lock);
    if (!exists) return drain_and_error(c, r, 404, "NoSuchUpload", MSG_NO_UPLOAD);
    if (body_consume(c, r, &crc, &size) != 0) return -1;
    if (fail)
        return reply_error(c, r, 403, "AccessDenied", "Refused by the sink's --fail-part switch.");
    pthread_mutex_lock(&g_lock);
    u = find_upload(r->upload_id);
    if (u) {
        part *pt = &u->parts[pn - 1];
        pt->size = size;
        pt->crc = crc;
        pt->mtime = time(NULL);
        pt->have = 1;
    }
    pthread_mutex_unlock(&g_lock);
    if (!u) return reply_error(c, r, 404, "NoSuchUpload", MSG_NO_UPLOAD);
    sum_headers(extra, sizeof extra, crc, size);
    return reply(c, r, 200, extra, NULL, NULL, 0, 0, 0);
}

static int op_list_parts(conn *c, req *r) {
    upload *u;
    sb s;
    int rc;
    long max = r->max_parts, marker = r->marker, listed = 0, last = 0;
    uint32_t i;
    int truncated = 0;
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    if (max <= 0 || max > 1000) max = 1000;
    if (marker < 0) marker = 0;
    memset(&s, 0, sizeof s);
    pthread_mutex_lock(&g_lock);
    u = find_upload(r->upload_id);
    if (u) {
        sb parts;
        memset(&parts, 0, sizeof parts);
        uint32_t first = (uint32_t)(marker < (long)SINK_MAX_PARTS ? marker : (long)SINK_MAX_PARTS);
        for (i = first; i < SINK_MAX_PARTS; i++) {
            const part *pt = &u->parts[i];
            char etag[40], when[40];
            if (!pt->have) continue;
            if (listed == max) { truncated = 1; break; }
            etag_of(etag, pt->crc, pt->size);
            iso_date(when, sizeof when, pt->mtime);
            sb_printf(&parts, "  <Part>\n    <PartNumber>%u</PartNumber>\n"
                      "    <LastModified>%s</LastModified>\n    <ETag>\"%s\"</ETag>\n"
                      "    <HashCrc64ecma>%llu</HashCrc64ecma>\n    <Size>%llu</Size>\n  </Part>\n",
                      i + 1, when, etag, (unsigned long long)pt->crc, (unsigned long long)pt->size);
            listed++;
            last = (long)i + 1;
        }
        sb_str(&s, XML_DECL);
        sb_str(&s, "<ListPartsResult>\n  <Bucket>");
        sb_xml(&s, u->bucket);
        sb_str(&s, "</Bucket>\n  <Key>");
        sb_xml(&s, u->key);
        sb_printf(&s, "</Key>\n  <UploadId>%s</UploadId>\n  <StorageClass>Standard</StorageClass>\n"
                  "  <PartNumberMarker>%ld</PartNumberMarker>\n"
                  "  <NextPartNumberMarker>%ld</NextPartNumberMarker>\n"
                  "  <MaxParts>%ld</MaxParts>\n  <IsTruncated>%s</IsTruncated>\n",
                  u->id, marker, last, max, truncated ? "true" : "false");
        if (parts.len) sb_add(&s, parts.p, parts.len);
        if (parts.oom) s.oom = 1;
        free(parts.p);
        sb_str(&s, "</ListPartsResult>\n");
    }
    pthread_mutex_unlock(&g_lock);
    if (!u) return reply_error(c, r, 404, "NoSuchUpload", "The specified upload does not exist.");
    rc = s.oom ? -1 : reply(c, r, 200, NULL, "application/xml", s.p, s.len, 0, 0);
    free(s.p);
    return rc;
}

/* The text of the first <tag>...</tag> inside [p, end), into out. 1 found, 0 not. */
static int xml_field(const char *p, const char *end, const char *tag, char *out, size_t cap) {
    char open[64], close_[64];
    const char *a, *b;
    size_t n;
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close_, sizeof close_, "</%s>", tag);
    for (a = p; a + strlen(open) <= end; a++)
        if (!memcmp(a, open, strlen(open))) break;
    if (a + strlen(open) > end) return 0;
    a += strlen(open);
    for (b = a; b + strlen(close_) <= end; b++)
        if (!memcmp(b, close_, strlen(close_))) break;
    if (b + strlen(close_) > end) return 0;
    n = (size_t)(b - a);
    copy_str(out, cap, a, n);
    return 1;
}
/* An ETag as sent in Complete, without quotes (plain or as &quot;) and whitespace. */
static void etag_bare(const char *in, char *out, size_t cap) {
    size_t o = 0;
    while (*in && o + 1 < cap) {
        if (strchr("\" \t\r\n", *in)) { in++; continue; }
        if (!strncmp(in, "&quot;", 6)) { in += 6; continue; }
        if (!strncmp(in, "&#34;", 5)) { in += 5; continue; }
        out[o++] = *in++;
    }
    out[o] = 0;
}

static int op_complete(conn *c, req *r) {
    size_t len = 0;
    int too_big, rc;
    char *doc = body_collect(c, r, SINK_COMPLETE_MAX, &len, &too_big);
    const char *p;
    uint64_t whole = 0, total = 0;
    long prev = 0, count = 0;
    const char *code = NULL, *msg = NULL;
    upload *u;
    sb s;
    char etag_whole[48], extra[256];
    if (!doc) return -1;
    if (too_big) {
        free(doc);
        return reply_error(c, r, 400, "MalformedXML", "The Complete body is too large.");
    }
    pthread_mutex_lock(&g_lock);
    u = find_upload(r->upload_id);
    if (!u) {
        code = "NoSuchUpload";
        msg = "The specified upload does not exist.";
    }
    /* Pass 1 checks every listed part; pass 2 (only when all are fine) combines. */
    for (p = doc; u && !code;) {
        const char *a = strstr(p, "<Part>"), *b;
        char num[32], etag[128], bare[128], want[40];
        long n;
        const part *pt;
        if (!a) break;
        b = strstr(a, "</Part>");
        if (!b) { code = "MalformedXML"; msg = "A <Part> is not closed."; break; }
        if (!xml_field(a, b, "PartNumber", num, sizeof num) ||
            !xml_field(a, b, "ETag", etag, sizeof etag)) {
            code = "MalformedXML";
            msg = "A <Part> lacks PartNumber or ETag.";
            break;
        }
        n = strtol(num, NULL, 10);
        if (n <= prev || n > (long)SINK_MAX_PARTS) {
            code = "InvalidPartOrder";
            msg = "The list of parts was not in ascending order.";
            break;
        }
        pt = &u->parts[n - 1];
        etag_bare(etag, bare, sizeof bare);
        if (pt->have) etag_of(want, pt->crc, pt->size);
        if (!pt->have || strcasecmp(bare, want) != 0) {
            code = "InvalidPart";
            msg = "One or more of the specified parts could not be found or the specified "
                  "entity tag might not have matched the part's entity tag.";
            break;
        }
        if (count > 0 && u->parts[prev - 1].size < SINK_MIN_PART) {
            code = "EntityTooSmall";
            msg = "Your proposed upload is smaller than the minimum allowed size.";
            break;
        }
        prev = n;
        count++;
        p = b + 7;
    }
    if (u && !code && count == 0) {
        code = "MalformedXML";
        msg = "The Complete body lists no part.";
    }
    if (u && !code) {
        long i;
        for (i = 0, p = doc; i < count; i++) {
            const char *a = strstr(p, "<Part>"), *b = strstr(a, "</Part>");
            char num[32];
            const part *pt;
            xml_field(a, b, "PartNumber", num, sizeof num);
            pt = &u->parts[strtol(num, NULL, 10) - 1];
            whole = ossr_crc64_combine(whole, pt->crc, pt->size);
            total += pt->size;
            p = b + 7;
        }
        { /* unlink and free the upload */
            upload **pp = &g_uploads;
            while (*pp != u) pp = &(*pp)->next;
            *pp = u->next;
        }
        g_st.completed++;
        g_st.live_uploads--;
    }
    pthread_mutex_unlock(&g_lock);
    free(doc);
    if (code) {
        int status = !strcmp(code, "NoSuchUpload") ? 404 : 400;
        return reply_error(c, r, status, code, msg);
    }
    free(u->parts);
    free(u);
    remember_object(r, total, whole, 1);
    snprintf(etag_whole, sizeof etag_whole, "%016llX-%ld", (unsigned long long)whole, count);
    snprintf(extra, sizeof extra, "ETag: \"%s\"\r\nx-oss-hash-crc64ecma: %llu\r\n", etag_whole,
             (unsigned long long)whole);
    memset(&s, 0, sizeof s);
    sb_str(&s, XML_DECL);
    sb_str(&s, "<CompleteMultipartUploadResult>\n  <Location>http://");
    sb_xml(&s, r->host[0] ? r->host : "127.0.0.1");
    sb_str(&s, "/");
    sb_xml(&s, r->key);
    sb_str(&s, "</Location>\n  <Bucket>");
    sb_xml(&s, r->bucket);
    sb_str(&s, "</Bucket>\n  <Key>");
    sb_xml(&s, r->key);
    sb_printf(&s, "</Key>\n  <ETag>\"%s\"</ETag>\n</CompleteMultipartUploadResult>\n", etag_whole);
    rc = s.oom ? -1 : reply(c, r, 200, extra, "application/xml", s.p, s.len, 0, 0);
    free(s.p);
    return rc;
}

static int op_abort(conn *c, req *r) {
    upload *u, **pp;
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    pthread_mutex_lock(&g_lock);
    for (pp = &g_uploads; *pp && strcmp((*pp)->id, r->upload_id) != 0; pp = &(*pp)->next) {}
    u = *pp;
    if (u) {
        *pp = u->next;
        g_st.live_uploads--;
    }
    pthread_mutex_unlock(&g_lock);
    if (!u) return reply_error(c, r, 404, "NoSuchUpload", "The specified upload does not exist.");
    free(u->parts);
    free(u);
    return reply(c, r, 204, NULL, NULL, NULL, 0, 0, 0);
}

static int op_head_object(conn *c, req *r) {
    unsigned i;
    object o;
    int found = 0;
    char extra[512], etag[40], date[64];
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < SINK_OBJECTS; i++)
        if (same_object(&g_objects[i], r)) {
            o = g_objects[i];
            found = 1;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    if (!found) return reply(c, r, 404, "x-oss-ec: 0026-00000001\r\n", NULL, NULL, 0, 1, 0);
    etag_of(etag, o.crc, o.size);
    http_date(date, sizeof date, o.mtime);
    snprintf(extra, sizeof extra, "ETag: \"%s\"\r\nx-oss-hash-crc64ecma: %llu\r\n"
             "Last-Modified: %s\r\nx-oss-object-type: %s\r\nx-oss-storage-class: Standard\r\n", etag,
             (unsigned long long)o.crc, date, o.multipart ? "Multipart" : "Normal");
    return reply(c, r, 200, extra, "application/octet-stream", NULL, 0, 1, o.size);
}

/* The decimal number in [p, e): 1 and *v, or 0 when it is empty, not digits or too big. */
static int parse_u64(const char *p, const char *e, uint64_t *v) {
    uint64_t x = 0;
    if (p == e || e - p > 19) return 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9') return 0;
        x = x * 10 + (uint64_t)(*p - '0');
    }
    *v = x;
    return 1;
}

/* The range a Range header value asks of an object of size bytes, by OSS's rules (as
   tests/oss_server.py's object_range): 1 and [*first, *last]; 0 for the whole object
   (200, no Content-Range); -1 for 416 InvalidRange (standard behaviour only). */
static int object_range(const char *h, uint64_t size, int standard, uint64_t *first,
                        uint64_t *last) {
    const char *spec, *dash, *a, *ae, *b, *be;
    uint64_t s, e = 0;
    int has_e;
    if (strncasecmp(h, "bytes=", 6) != 0) return 0;
    spec = h + 6;
    dash = strchr(spec, '-');
    if (strchr(spec, ',') || !dash || strchr(dash + 1, '-')) return 0;
    for (a = spec; *a == ' ' || *a == '\t'; a++) {}
    for (ae = dash; ae > a && (ae[-1] == ' ' || ae[-1] == '\t'); ae--) {}
    for (b = dash + 1; *b == ' ' || *b == '\t'; b++) {}
    for (be = b + strlen(b); be > b && (be[-1] == ' ' || be[-1] == '\t'); be--) {}
    if (a == ae) {                                   /* bytes=-N: the last N bytes */
        uint64_t n;
        if (!parse_u64(b, be, &n)) return 0;
        if (n > 0 && n <= size) {
            *first = size - n;
            *last = size - 1;
            return 1;
        }
        if (!standard) return 0;
        if (n == 0 || size == 0) return -1;
        *first = 0;
        *last = size - 1;
        return 1;
    }
    if (!parse_u64(a, ae, &s)) return 0;
    has_e = b != be;
    if (has_e && !parse_u64(b, be, &e)) return 0;
    if (has_e && e < s) return 0;                    /* inverted: ignored */
    if (s < size && (!has_e || e < size)) {
        *first = s;
        *last = has_e ? e : size - 1;
        return 1;
    }
    if (!standard) return 0;
    if (s >= size) return -1;
    *first = s;
    *last = size - 1;
    return 1;
}

/* Whether an If-Match value lets the object with this (unquoted) ETag through: "*" or
   the quoted ETag, alone or in a comma-separated list. */
static int if_match_ok(const char *value, const char *etag) {
    const char *p = value;
    size_t el = strlen(etag);
    while (*p) {
        const char *e, *te;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        for (e = p; *e && *e != ','; e++) {}
        for (te = e; te > p && (te[-1] == ' ' || te[-1] == '\t'); te--) {}
        if ((te - p == 1 && *p == '*') ||
            ((size_t)(te - p) == el + 2 && p[0] == '"' && te[-1] == '"' && !memcmp(p + 1, etag, el)))
            return 1;
        p = e;
    }
    return 0;
}

/* The body of a GetObject reply: [off, off + len) of the generated object, after the head
   in s, made into the connection's send buffer piece by piece. Each piece is counted in
   the statistics before it is sent. */
static int send_generated(conn *c, sb *s, uint64_t off, uint64_t len) {
    size_t fill = s->len;
    uint64_t sent = 0;
    if (!c->out) c->out = (unsigned char *)malloc(SINK_OUT);
    if (!c->out || s->oom || fill > SINK_OUT / 2) return -1;
    memcpy(c->out, s->p, fill);      /* the head goes out with the first bytes */
    pthread_mutex_lock(&g_lock);
    g_st.gets++;
    pthread_mutex_unlock(&g_lock);
    for (;;) {
        size_t n = SINK_OUT - fill;
        if ((uint64_t)n > len - sent) n = (size_t)(len - sent);
        gen_fill(c->out + fill, off + sent, n);
        pthread_mutex_lock(&g_lock);
        g_st.sent += n;
        pthread_mutex_unlock(&g_lock);
        if (conn_send(c, c->out, fill + n) != 0) return -1;
        sent += n;
        fill = 0;
        if (sent == len) return 0;
    }
}

/* HeadObject and GetObject of gen/SIZE. */
static int op_generated(conn *c, req *r, uint64_t size) {
    uint64_t crc, first = 0, last = 0;
    char extra[512], etag[40], date[64];
    int head = !strcmp(r->method, "HEAD"), ranged = 0, n, rc;
    sb s;
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    crc = gen_crc(size);
    etag_of(etag, crc, size);
    if (r->has_if_match && !if_match_ok(r->if_match, etag))
        return reply_error(c, r, 412, "PreconditionFailed",
                           "At least one of the pre-conditions you specified did not hold.");
    http_date(date, sizeof date, GEN_MTIME);
    n = snprintf(extra, sizeof extra, "ETag: \"%s\"\r\nx-oss-hash-crc64ecma: %llu\r\n"
                 "Last-Modified: %s\r\nx-oss-object-type: Normal\r\nx-oss-storage-class: Standard\r\n"
                 "Accept-Ranges: bytes\r\n", etag, (unsigned long long)crc, date);
    if (head) return reply(c, r, 200, extra, "application/octet-stream", NULL, 0, 1, size);
    if (r->has_range) ranged = object_range(r->range, size, r->range_standard, &first, &last);
    if (ranged < 0) {
        char cr[80];
        snprintf(cr, sizeof cr, "Content-Range: bytes */%llu\r\n", (unsigned long long)size);
        return reply_error_with(c, r, 416, "InvalidRange", "The requested range cannot be satisfied.",
                                cr);
    }
    if (!ranged) {
        first = 0;
        last = size - 1;   /* size 0: the length below is 0 */
    } else {
        snprintf(extra + n, sizeof extra - (size_t)n, "Content-Range: bytes %llu-%llu/%llu\r\n",
                 (unsigned long long)first, (unsigned long long)last, (unsigned long long)size);
    }
    memset(&s, 0, sizeof s);
    reply_head(&s, r, ranged ? 206 : 200, extra, "application/octet-stream",
               size ? last - first + 1 : 0);
    rc = send_generated(c, &s, first, size ? last - first + 1 : 0);
    free(s.p);
    return rc;
}

static int op_stats(conn *c, req *r) {
    char json[768];
    int n;
    if (body_consume(c, r, NULL, NULL) != 0) return -1;
    pthread_mutex_lock(&g_lock);
    n = snprintf(json, sizeof json,
                 "{\"requests\": %llu, \"bytes\": %llu, \"uploads\": %u, "
                 "\"uploads_started\": %llu, \"uploads_completed\": %llu, \"objects_put\": %llu, "
                 "\"gets\": %llu, \"bytes_sent\": %llu, "
                 "\"tls_handshakes\": %llu, \"tls_suite\": \"0x%04X\"}\n",
                 (unsigned long long)g_st.requests, (unsigned long long)g_st.bytes,
                 g_st.live_uploads, (unsigned long long)g_st.started,
                 (unsigned long long)g_st.completed, (unsigned long long)g_st.put,
                 (unsigned long long)g_st.gets, (unsigned long long)g_st.sent,
                 (unsigned long long)g_st.handshakes, g_st.last_suite);
    pthread_mutex_unlock(&g_lock);
    return reply(c, r, 200, NULL, "application/json", json, (size_t)n, 0, 0);
}

static int dispatch(conn *c, req *r) {
    const char *m = r->method;
    uint64_t gen_size;
    if (!strcmp(r->path, "/_sink/stats")) return op_stats(c, r);
    if (!r->bucket[0])
        return drain_and_error(c, r, 400, "InvalidBucketName", "No bucket in the path or Host.");
    if (!r->key[0])
        return drain_and_error(c, r, 501, "NotImplemented", "Bucket operations are not served.");
    if ((!strcmp(m, "GET") || !strcmp(m, "HEAD")) && !r->has_upload_id && gen_key(r->key, &gen_size))
        return op_generated(c, r, gen_size);
    if (!strcmp(m, "PUT")) {
        if (r->has_part_number && r->has_upload_id) return op_upload_part(c, r);
        if (r->has_part_number || r->has_upload_id)
            return drain_and_error(c, r, 400, "InvalidArgument",
                                   "UploadPart needs both partNumber and uploadId.");
        return op_put_object(c, r);
    }
    if (!strcmp(m, "POST")) {
        if (r->has_uploads) return op_initiate(c, r);
        if (r->has_upload_id) return op_complete(c, r);
        return drain_and_error(c, r, 501, "NotImplemented", "This POST is not served by the sink.");
    }
    if (!strcmp(m, "GET")) {
        if (r->has_upload_id) return op_list_parts(c, r);
        return drain_and_error(c, r, 501, "NotImplemented",
                               "The sink keeps no object data; GetObject serves gen/SIZE only.");
    }
    if (!strcmp(m, "HEAD")) return op_head_object(c, r);
    if (!strcmp(m, "DELETE")) {
        if (r->has_upload_id) return op_abort(c, r);
        if (body_consume(c, r, NULL, NULL) != 0) return -1;
        return reply(c, r, 204, NULL, NULL, NULL, 0, 0, 0);
    }
    return drain_and_error(c, r, 405, "MethodNotAllowed",
                           "The specified method is not allowed against this resource.");
}

/* ---- request head parsing --------------------------------------------------------- */

static int is_path_style_host(const char *host) {
    size_t i;
    if (!host[0] || host[0] == '[' || !strcasecmp(host, "localhost")) return 1;
    for (i = 0; host[i]; i++)
        if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.')) return 0;
    return 1;
}

static void parse_query(req *r, const char *q, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t j = i, eq;
        char name[64], value[128];
        while (j < n && q[j] != '&') j++;
        for (eq = i; eq < j && q[eq] != '='; eq++) {}
        url_decode(name, sizeof name, q + i, eq - i);
        if (eq < j) url_decode(value, sizeof value, q + eq + 1, j - eq - 1);
        else value[0] = 0;
        if (!strcmp(name, "uploads")) r->has_uploads = 1;
        else if (!strcmp(name, "uploadId")) {
            r->has_upload_id = 1;
            copy_str(r->upload_id, sizeof r->upload_id, value, strlen(value));
        } else if (!strcmp(name, "partNumber")) {
            char *end;
            r->has_part_number = 1;
            r->part_number = strtol(value, &end, 10);
            if (!value[0] || *end) r->part_number = -1;
        } else if (!strcmp(name, "max-parts")) r->max_parts = strtol(value, NULL, 10);
        else if (!strcmp(name, "part-number-marker")) r->marker = strtol(value, NULL, 10);
        i = j + 1;
    }
}

/* Parses the head in c->buf[c->pos .. head_end) into r. 0, or -1 for a malformed head. */
static int parse_head(conn *c, size_t head_end, req *r) {
    char *p = (char *)c->buf + c->pos, *end = (char *)c->buf + head_end, *line_end, *sp1, *sp2;
    char *target, *qm;
    size_t tlen;
    int http10;
    line_end = (char *)memchr(p, '\n', (size_t)(end - p));
    if (!line_end) return -1;
    sp1 = (char *)memchr(p, ' ', (size_t)(line_end - p));
    if (!sp1) return -1;
    sp2 = (char *)memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
    if (!sp2 || (size_t)(sp1 - p) >= sizeof r->method) return -1;
    copy_str(r->method, sizeof r->method, p, (size_t)(sp1 - p));
    target = sp1 + 1;
    tlen = (size_t)(sp2 - target);
    if (strncmp(sp2 + 1, "HTTP/1.", 7) != 0) return -1;
    http10 = sp2[8] == '0';
    r->keep_alive = !http10;
    qm = (char *)memchr(target, '?', tlen);
    url_decode(r->path, sizeof r->path, target, qm ? (size_t)(qm - target) : tlen);
    if (qm) parse_query(r, qm + 1, (size_t)(sp2 - qm - 1));
    for (p = line_end + 1; p < end;) {
        char *nl = (char *)memchr(p, '\n', (size_t)(end - p)), *colon, *v, *ve;
        size_t nlen;
        if (!nl) break;
        ve = nl;
        if (ve > p && ve[-1] == '\r') ve--;
        if (ve == p) break;      /* the empty line */
        colon = (char *)memchr(p, ':', (size_t)(ve - p));
        if (!colon) return -1;
        nlen = (size_t)(colon - p);
        for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++) {}
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        if (nlen == 14 && !strncasecmp(p, "Content-Length", 14)) {
            char num[32], *e;
            uint64_t val;
            copy_str(num, sizeof num, v, (size_t)(ve - v));
            errno = 0;
            val = strtoull(num, &e, 10);
            if (errno || *e || !num[0] || (r->has_length && val != r->length)) return -1;
            r->length = val;
            r->has_length = 1;
        } else if (nlen == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
            if ((size_t)(ve - v) >= 7 && !strncasecmp(ve - 7, "chunked", 7)) r->chunked = 1;
        } else if (nlen == 6 && !strncasecmp(p, "Expect", 6)) {
            if ((size_t)(ve - v) == 12 && !strncasecmp(v, "100-continue", 12))
                r->expect_continue = 1;
        } else if (nlen == 10 && !strncasecmp(p, "Connection", 10)) {
            if ((size_t)(ve - v) == 5 && !strncasecmp(v, "close", 5)) r->keep_alive = 0;
            else if ((size_t)(ve - v) == 10 && !strncasecmp(v, "keep-alive", 10)) r->keep_alive = 1;
        } else if (nlen == 4 && !strncasecmp(p, "Host", 4)) {
            copy_str(r->host, sizeof r->host, v, (size_t)(ve - v));
        } else if (nlen == 5 && !strncasecmp(p, "Range", 5)) {
            copy_str(r->range, sizeof r->range, v, (size_t)(ve - v));
            r->has_range = 1;
        } else if (nlen == 20 && !strncasecmp(p, "x-oss-range-behavior", 20)) {
            r->range_standard = (size_t)(ve - v) == 8 && !strncasecmp(v, "standard", 8);
        } else if (nlen == 8 && !strncasecmp(p, "If-Match", 8)) {
            copy_str(r->if_match, sizeof r->if_match, v, (size_t)(ve - v));
            r->has_if_match = 1;
        }
        p = nl + 1;
    }
    /* Bucket and key. */
    if (r->path[0] == '/') {
        char hostname[256], *colon;
        copy_str(hostname, sizeof hostname, r->host, strlen(r->host));
        if (hostname[0] == '[') {
            char *rb = strchr(hostname, ']');
            if (rb) rb[1] = 0;
        } else if ((colon = strchr(hostname, ':')) != NULL) {
            *colon = 0;
        }
        if (is_path_style_host(hostname)) {
            const char *b = r->path + 1, *slash = strchr(b, '/');
            size_t bl = slash ? (size_t)(slash - b) : strlen(b);
            copy_str(r->bucket, sizeof r->bucket, b, bl);
            if (slash) copy_str(r->key, sizeof r->key, slash + 1, strlen(slash + 1));
        } else {
            char *dot = strchr(hostname, '.');
            size_t bl = dot ? (size_t)(dot - hostname) : strlen(hostname);
            copy_str(r->bucket, sizeof r->bucket, hostname, bl);
            copy_str(r->key, sizeof r->key, r->path + 1, strlen(r->path + 1));
        }
    }
    return 0;
}

/* ---- one connection ---------------------------------------------------------------- */

static void note_suite(conn *c) {
    br_ssl_session_parameters sp;
    if (!c->tls || c->suite_seen) return;
    br_ssl_engine_get_session_parameters(&c->tls->sc.eng, &sp);
    c->suite_seen = 1;
    pthread_mutex_lock(&g_lock);
    g_st.handshakes++;
    g_st.last_suite = sp.cipher_suite;
    pthread_mutex_unlock(&g_lock);
}

static void serve(conn *c) {
    for (;;) {
        req r;
        size_t head_end = 0;
        int rc;
        memset(&r, 0, sizeof r);
        r.part_number = -1;
        /* Compact what is left of the previous request, then find this one's head. */
        if (c->pos > 0) {
            memmove(c->buf, c->buf + c->pos, c->len - c->pos);
            c->len -= c->pos;
            c->pos = 0;
        }
        if (c->len > 0) r.t_first_byte = realtime_now();
        for (;;) {
            unsigned char *hit = NULL;
            size_t i;
            for (i = 3; i < c->len && !hit; i++)
                if (!memcmp(c->buf + i - 3, "\r\n\r\n", 4)) hit = c->buf + i + 1;
            if (hit) { head_end = (size_t)(hit - c->buf); break; }
            if (c->len >= SINK_HEAD_MAX) return;
            if (conn_fill(c, SINK_HEAD_MAX) != 1) return;
            if (r.t_first_byte == 0) r.t_first_byte = realtime_now();
        }
        snprintf(r.request_id, sizeof r.request_id, "%08X%016llX", (unsigned)getpid(),
                 (unsigned long long)next_seq());
        if (parse_head(c, head_end, &r) != 0) {
            r.keep_alive = 0;
            reply_error(c, &r, 400, "InvalidRequest", "The request head could not be parsed.");
            return;
        }
        c->pos = head_end;
        if (strcmp(r.path, "/_sink/stats") != 0) note_suite(c);   /* the clients' suites only */
        if (r.expect_continue && (r.chunked || r.length > 0)) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (conn_send(c, cont, sizeof cont - 1) != 0) return;
        }
        pthread_mutex_lock(&g_lock);
        g_st.requests++;
        pthread_mutex_unlock(&g_lock);
        rc = dispatch(c, &r);
        if (rc != 0 || !r.keep_alive) return;
    }
}

static void *conn_thread(void *arg) {
    conn *c = (conn *)arg;
    c->buf = (unsigned char *)malloc(SINK_BUF);
    if (c->buf && g_tls) {
        c->tls = (tls_state *)malloc(sizeof *c->tls);
        if (c->tls) {
            const br_skey_decoder_context *k = &g_skey;
            br_ssl_server_context *sc = &c->tls->sc;
            if (br_skey_decoder_key_type(k) == BR_KEYTYPE_RSA)
                br_ssl_server_init_full_rsa(sc, g_chain, g_chain_len, br_skey_decoder_get_rsa(k));
            else   /* an EC key is taken to be certified by an EC CA */
                br_ssl_server_init_full_ec(sc, g_chain, g_chain_len, BR_KEYTYPE_EC,
                                           br_skey_decoder_get_ec(k));
            br_ssl_engine_set_buffer(&c->tls->sc.eng, c->tls->iobuf, sizeof c->tls->iobuf, 1);
            if (!br_ssl_server_reset(&c->tls->sc)) {
                free(c->tls);
                c->tls = NULL;
                free(c->buf);
                c->buf = NULL;
            } else {
                br_sslio_init(&c->tls->io, &c->tls->sc.eng, low_read, &c->fd, low_write, &c->fd);
            }
        } else {
            free(c->buf);
            c->buf = NULL;
        }
    }
    if (c->buf) serve(c);
    if (c->tls) {
        br_sslio_close(&c->tls->io);
        free(c->tls);
    }
    close(c->fd);
    free(c->buf);
    free(c->out);
    free(c);
    pthread_mutex_lock(&g_lock);
    g_live_conns--;
    g_last_activity = time(NULL);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

/* ---- TLS material ------------------------------------------------------------------ */

typedef struct pem_obj {
    char name[64];
    sb der;
} pem_obj;

static void pem_append(void *ctx, const void *data, size_t len) {
    sb_add((sb *)ctx, (const char *)data, len);
}

/* Decodes every object of a PEM file; returns how many, in *objs (caller frees). */
static size_t read_pem(const char *path, pem_obj **objs) {
    FILE *f = fopen(path, "rb");
    sb text;
    char chunk[4096];
    size_t n, count = 0, off = 0;
    br_pem_decoder_context pc;
    pem_obj *cur = NULL;
    int inobj = 0;
    if (!f) die("cannot open %s: %s", path, strerror(errno));
    memset(&text, 0, sizeof text);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) sb_add(&text, chunk, n);
    fclose(f);
    sb_add(&text, "\n", 1);
    if (text.oom) die("out of memory reading %s", path);
    *objs = NULL;
    br_pem_decoder_init(&pc);
    while (off < text.len) {
        off += br_pem_decoder_push(&pc, text.p + off, text.len - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ: {
            pem_obj *grown = (pem_obj *)realloc(*objs, (count + 1) * sizeof **objs);
            if (!grown) die("out of memory reading %s", path);
            *objs = grown;
            cur = &grown[count];
            memset(cur, 0, sizeof *cur);
            const char *name = br_pem_decoder_name(&pc);
            copy_str(cur->name, sizeof cur->name, name, strlen(name));
            br_pem_decoder_setdest(&pc, pem_append, &cur->der);
            inobj = 1;
            break;
        }
        case BR_PEM_END_OBJ:
            if (inobj) {
                if (cur->der.oom) die("out of memory reading %s", path);
                count++;
            }
            inobj = 0;
            break;
        case BR_PEM_ERROR:
            die("%s is not valid PEM", path);
            break;
        default:
            break;
        }
    }
    free(text.p);
    return count;
}

static void load_tls(const char *cert_path, const char *key_path) {
    pem_obj *objs;
    size_t n = read_pem(cert_path, &objs), i, keys = 0;
    g_chain = (br_x509_certificate *)calloc(n ? n : 1, sizeof *g_chain);
    if (!g_chain) die("out of memory");
    for (i = 0; i < n; i++) {
        if (strcmp(objs[i].name, "CERTIFICATE") && strcmp(objs[i].name, "X509 CERTIFICATE")) {
            free(objs[i].der.p);
            continue;
        }
        g_chain[g_chain_len].data = (unsigned char *)objs[i].der.p;   /* kept for the process */
        g_chain[g_chain_len].data_len = objs[i].der.len;
        g_chain_len++;
    }
    free(objs);
    if (!g_chain_len) die("no certificate in %s", cert_path);
    n = read_pem(key_path, &objs);
    for (i = 0; i < n; i++) {
        if (!keys && strstr(objs[i].name, "PRIVATE KEY")) {
            br_skey_decoder_init(&g_skey);
            br_skey_decoder_push(&g_skey, objs[i].der.p, objs[i].der.len);
            if (br_skey_decoder_last_error(&g_skey) != 0)
                die("cannot decode the private key in %s (BearSSL error %d)", key_path,
                    br_skey_decoder_last_error(&g_skey));
            keys = 1;
        }
        free(objs[i].der.p);      /* the decoder keeps its own copy of the key */
    }
    free(objs);
    if (!keys) die("no private key in %s", key_path);
    g_tls = 1;
}

/* ---- main ------------------------------------------------------------------------- */

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* --crc-speed: ossr_crc64() over 1 GiB of a 256 KiB buffer, in MB/s (10^6 bytes/s), and
   the engine the library picked for this CPU. */
static int crc_speed(void) {
    unsigned char *buf = (unsigned char *)malloc(SINK_BUF);
    uint64_t crc = 0, x = 0x9E3779B97F4A7C15ull;
    struct timespec t0, t1;
    double secs;
    size_t i;
    if (!buf) die("out of memory");
    for (i = 0; i < SINK_BUF; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    crc = ossr_crc64(crc, buf, SINK_BUF);                 /* warm up: tables, caches */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < 4096; i++) crc = ossr_crc64(crc, buf, SINK_BUF);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("crc64 %.0f MB/s (engine %s, crc %016llX)\n", 4096.0 * SINK_BUF / 1e6 / secs,
           ossr_crc64_engine(), (unsigned long long)crc);
    free(buf);
    return 0;
}

/* --check FILE SIZE: FILE against the generated object gen/SIZE, byte for byte; and the
   CRC-64 of its bytes against gen_crc() (which HeadObject announces). */
static int check_file(const char *path, const char *size_text) {
    enum { CHUNK = 1u << 20 };
    unsigned char *got = (unsigned char *)malloc(CHUNK), *want = (unsigned char *)malloc(CHUNK);
    uint64_t size, off = 0, crc = 0, announced;
    char *end;
    int fd;
    if (!got || !want) die("out of memory");
    errno = 0;
    size = strtoull(size_text, &end, 10);
    if (errno || *end || !size_text[0]) die("--check: SIZE must be a number of bytes");
    fd = open(path, O_RDONLY);
    if (fd < 0) die("--check: cannot open %s: %s", path, strerror(errno));
    gen_init();
    for (;;) {
        ssize_t n = read(fd, got, CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("--check: reading %s: %s", path, strerror(errno));
        if (n == 0) break;
        if ((uint64_t)n > size - off || off >= size) {
            printf("mismatch: %s is longer than the object's %llu bytes\n", path,
                   (unsigned long long)size);
            return 1;
        }
        gen_fill(want, off, (size_t)n);
        if (memcmp(got, want, (size_t)n) != 0) {
            size_t i = 0;
            while (got[i] == want[i]) i++;
            printf("mismatch: byte %llu of %s is 0x%02X, the object's 0x%02X\n",
                   (unsigned long long)(off + i), path, got[i], want[i]);
            return 1;
        }
        crc = ossr_crc64(crc, got, (size_t)n);
        off += (uint64_t)n;
    }
    close(fd);
    if (off != size) {
        printf("mismatch: %s has %llu bytes, the object %llu\n", path, (unsigned long long)off,
               (unsigned long long)size);
        return 1;
    }
    announced = gen_crc(size);
    if (crc != announced) {
        printf("mismatch: the bytes of %s have CRC-64 %llu, HeadObject announces %llu\n", path,
               (unsigned long long)crc, (unsigned long long)announced);
        return 1;
    }
    printf("ok %llu bytes, CRC-64 %llu\n", (unsigned long long)size, (unsigned long long)crc);
    free(got);
    free(want);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: sink PORT [--host ADDR] [--idle-exit SECONDS]\n"
                    "                 [--tls CERT.pem KEY.pem] [--fail-part N]\n"
                    "       sink --check FILE SIZE\n"
                    "       sink --crc-speed\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port;
    long idle = 600;
    int i, lfd, one = 1, gai;
    struct addrinfo hints, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct sigaction sa;
    char portbuf[16];

    if (argc == 2 && !strcmp(argv[1], "--crc-speed")) return crc_speed();
    if (argc == 4 && !strcmp(argv[1], "--check")) return check_file(argv[2], argv[3]);
    if (argc < 2 || argv[1][0] == '-') usage();
    port = argv[1];
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--idle-exit") && i + 1 < argc)
            idle = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--fail-part") && i + 1 < argc) {
            long n = strtol(argv[++i], NULL, 10);
            if (n < 1 || n > (long)SINK_MAX_PARTS) usage();
            g_fail_part = (uint32_t)n;
            g_fail_state = FAIL_ARMED;
        } else if (!strcmp(argv[i], "--tls") && i + 2 < argc) {
            load_tls(argv[i + 1], argv[i + 2]);
            i += 2;
        } else usage();
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    gen_init();

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) die("cannot resolve %s: %s", host, gai_strerror(gai));
    lfd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (lfd < 0) die("socket: %s", strerror(errno));
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) != 0)
        die("cannot bind %s:%s: %s", host, port, strerror(errno));
    freeaddrinfo(ai);
    if (listen(lfd, 128) != 0) die("listen: %s", strerror(errno));
    if (getsockname(lfd, (struct sockaddr *)&ss, &sl) != 0 ||
        getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, portbuf, sizeof portbuf,
                    NI_NUMERICSERV) != 0)
        die("getsockname: %s", strerror(errno));
    printf("port %s\n", portbuf);
    fflush(stdout);
    g_last_activity = time(NULL);

    while (!g_stop) {
        struct pollfd pfd;
        int pr;
        pfd.fd = lfd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        pr = poll(&pfd, 1, 1000);
        if (pr < 0 && errno != EINTR) die("poll: %s", strerror(errno));
        if (pr > 0) {
            int fd = accept(lfd, NULL, NULL);
            conn *c;
            pthread_t th;
            pthread_attr_t at;
            struct timeval tv;
            if (fd < 0) continue;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            tv.tv_sec = SINK_IO_TIMEOUT;
            tv.tv_usec = 0;
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            c = (conn *)calloc(1, sizeof *c);
            if (!c) { close(fd); continue; }
            c->fd = fd;
            pthread_mutex_lock(&g_lock);
            g_live_conns++;
            g_last_activity = time(NULL);
            pthread_mutex_unlock(&g_lock);
            pthread_attr_init(&at);
            pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&th, &at, conn_thread, c) != 0) {
                close(fd);
                free(c);
                pthread_mutex_lock(&g_lock);
                g_live_conns--;
                pthread_mutex_unlock(&g_lock);
            }
            pthread_attr_destroy(&at);
        } else {
            int quiet;
            pthread_mutex_lock(&g_lock);
            quiet = g_live_conns == 0 && idle > 0 && time(NULL) - g_last_activity >= idle;
            pthread_mutex_unlock(&g_lock);
            if (quiet) {
                fprintf(stderr, "sink: no connection for %ld s, exiting\n", idle);
                break;
            }
        }
    }
    close(lfd);
    return 0;
}
