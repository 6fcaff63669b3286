/* mini_oss.h - an OSS server that lives in the program's memory, for tests and examples
   that upload and download without a network.

   A compact OSS for the calls of an upload: InitiateMultipartUpload, UploadPart,
   ListParts (paged by max-parts and part-number-marker, at most 4 parts a page so that a
   client's paging runs), CompleteMultipartUpload, AbortMultipartUpload, PutObject and
   HeadObject; and of a download: GetObject of the last object written, whole (200) or
   one range (Range: bytes=A-B, bytes=A- or bytes=-N: 206 with Content-Range), with
   x-oss-range-behavior: standard (a start at or past the end is 416 InvalidRange, an end
   past it is cut; without it, as OSS, a range outside the object is ignored: 200) and
   If-Match (412 PreconditionFailed unless it holds the object's ETag or is *; HeadObject
   too). HeadObject and GetObject give Content-Length, ETag, x-oss-hash-crc64ecma (the
   whole object's) and Last-Modified (the server's clock when the object was written).
   It is reached through the library's transport hooks: it parses HTTP/1.1 from
   whatever pieces send() hands it, answers with OSS's status lines, headers and XML
   (errors too), and keeps parts and the last object written in static RAM; a GET's
   body is read straight from the object's bytes after the reply head (an object written
   while a body is on its way changes the rest of that body, unlike OSS). Each part's
   CRC-64 comes from the library's ossr_crc64(), the object's from ossr_crc64_combine()
   over the parts (checked against a CRC of the assembled bytes).
   It checks framing, addressing (virtual-hosted or path style under MINI_OSS_DOMAIN, port
   80), parameters and the Complete list, and that Authorization names the configured key
   id; it does not verify signatures (the unit tests check the signer against the SDKs'
   test vectors). Malformed requests get 400 and an OSS error document. It serves one
   request at a time per connection, takes part numbers 1 to 64, and is not thread-safe:
   an upload through it runs one worker.

   Include it after oss_resumable.h (whose CRC-64, XML and checkpoint functions it uses),
   <stdio.h> and <string.h>. Everything in it is static; names that start with mini_oss_
   are its interface (static inline, so that a program may call any few of them without
   unused-function warnings), those that start with mos_ its inside. Before the include,
   a program may set:
       MINI_OSS_DOMAIN      the endpoint's host name (default oss-cn-hangzhou.aliyuncs.com);
                            any other name fails to resolve
       MINI_OSS_OBJECT_MAX  the largest object it keeps, in bytes (default 4 MiB)
       MINI_OSS_ARENA       the RAM for parts and bodies on their way in (default
                            MINI_OSS_OBJECT_MAX + 256 KiB)

   The interface:
       mini_oss_reset(&config)      forget every upload, object and count; set the key id
                                    and the clock
       mini_oss_transport()         the hooks for ossr_options.transport
       mini_oss_cut_after(n)        fault: the link drops half-way through a part body once
                                    n more parts are stored, and stays down
       mini_oss_cut_get_after(n)    fault: the link drops half-way through a GET's body once
                                    n more GET bodies are sent in full, and stays down
       mini_oss_link_up()           the link is back (and no cut is pending)
       mini_oss_count()             what it served: requests, connections, parts, pages,
                                    GETs and their bytes ...
       mini_oss_last_object()       the last object written
       mini_oss_check_object(...)   that object is a given key with given bytes
       mini_oss_check_checkpoint(...)  a checkpoint record names an upload held here, its
                                    part slots the ETags given here
       mini_oss_tear_slot(...)      fault: a power cut half-way through a slot write, on a
                                    checkpoint record held in RAM
       mini_oss_idle()              no connection left open, no request refused, no
                                    transport call out of turn
       mini_oss_expect_refusals(n)  n more refusals are the scenario's own (a HEAD of an
                                    object not there yet): mini_oss_idle allows them
   The check functions return NULL, or what is wrong; a refused request or a transport
   call out of turn is also said on stdout, in a line that starts with "mini_oss:". Text
   is built without printf's 64-bit conversions, which newlib-nano lacks. */
#ifndef OSSR_TESTS_MINI_OSS_H
#define OSSR_TESTS_MINI_OSS_H

#ifndef MINI_OSS_DOMAIN
#  define MINI_OSS_DOMAIN "oss-cn-hangzhou.aliyuncs.com"
#endif
#ifndef MINI_OSS_OBJECT_MAX
#  define MINI_OSS_OBJECT_MAX (4u * 1024u * 1024u)
#endif
#ifndef MINI_OSS_ARENA
#  define MINI_OSS_ARENA (MINI_OSS_OBJECT_MAX + 256u * 1024u)
#endif

/* ==== the interface ===================================================================== */
/* What the server needs from its program. */
typedef struct mini_oss_config {
    const char *key_id;                 /* Authorization must name it (V1 or V4) */
    int64_t (*now)(void *user);         /* seconds since 1970 for Date and LastModified;
                                           NULL: always 2025-01-01 00:00:00 UTC */
    void (*elapse)(int ms, void *user); /* the time the link takes: 1 ms a KiB either way, and
                                           a receive's timeout when no reply is due; may be NULL */
    void *user;
} mini_oss_config;

/* What the server has served since the last reset. */
typedef struct mini_oss_counts {
    unsigned long requests, connects, closes;       /* requests parsed; connections opened, closed */
    unsigned long parts_stored, completes, puts;    /* UploadPart, Complete, PutObject served */
    unsigned long lists, list_pages_truncated;      /* ListParts pages, and those with more to come */
    unsigned long uploads_open;                     /* uploads neither completed nor aborted */
    unsigned long heads, gets, ranges;              /* HeadObject, GetObject with the object's bytes,
                                                       and of those the 206 replies (a range) */
    unsigned long get_bytes;                        /* object bytes GET bodies handed out */
    unsigned long errors, misuse;                   /* requests refused; transport calls out of turn */
} mini_oss_counts;

/* The last object written (by PutObject or CompleteMultipartUpload). */
typedef struct mini_oss_object {
    int exists, multipart;
    char bucket[64], key[1024], etag[48];
    size_t size;
    uint64_t crc;
    int64_t mtime;                      /* when it was written, by the server's clock */
    const unsigned char *data;
} mini_oss_object;

/* ==== text into a fixed buffer ========================================================== */
/* A string being built in a caller's buffer; over: something did not fit. */
typedef struct mos_text { char *p; size_t cap, len; int over; } mos_text;

/* Starts t as an empty string in p[0..cap). */
static void mos_text_init(mos_text *t, char *p, size_t cap) {
    t->p = p;
    t->cap = cap;
    t->len = 0;
    t->over = 0;
    p[0] = 0;
}
/* Appends n bytes of s, or marks t over when they do not fit. */
static void mos_put_n(mos_text *t, const char *s, size_t n) {
    if (t->over || t->len + n >= t->cap) { t->over = 1; return; }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}
/* Appends a string. */
static void mos_put(mos_text *t, const char *s) { mos_put_n(t, s, strlen(s)); }
/* Appends v in decimal. */
static void mos_put_u64(mos_text *t, uint64_t v) {
    char d[20];
    size_t i = sizeof d;
    do d[--i] = (char)('0' + v % 10); while ((v /= 10) != 0);
    mos_put_n(t, d + i, sizeof d - i);
}
/* Appends the low digits hex digits of v, upper case. */
static void mos_put_hex(mos_text *t, uint64_t v, int digits) {
    char d[16];
    int i;
    for (i = digits - 1; i >= 0; i--, v >>= 4) d[i] = "0123456789ABCDEF"[v & 15];
    mos_put_n(t, d, (size_t)digits);
}
/* Appends v (0..99) as two digits. */
static void mos_put_2(mos_text *t, int v) {
    char d[2];
    d[0] = (char)('0' + v / 10 % 10);
    d[1] = (char)('0' + v % 10);
    mos_put_n(t, d, 2);
}
/* Appends s as XML character data. */
static void mos_put_xml(mos_text *t, const char *s) {
    for (; *s; s++) {
        if (*s == '&') mos_put(t, "&amp;");
        else if (*s == '<') mos_put(t, "&lt;");
        else if (*s == '>') mos_put(t, "&gt;");
        else mos_put_n(t, s, 1);
    }
}
/* Appends <tag>value</tag>, value as XML character data. */
static void mos_put_tag(mos_text *t, const char *tag, const char *value) {
    mos_put(t, "<"); mos_put(t, tag); mos_put(t, ">");
    mos_put_xml(t, value);
    mos_put(t, "</"); mos_put(t, tag); mos_put(t, ">");
}
/* Appends <tag>v</tag>, v in decimal. */
static void mos_put_tag_u64(mos_text *t, const char *tag, uint64_t v) {
    mos_put(t, "<"); mos_put(t, tag); mos_put(t, ">");
    mos_put_u64(t, v);
    mos_put(t, "</"); mos_put(t, tag); mos_put(t, ">");
}

/* ==== dates ============================================================================= */
/* Calendar fields of a Unix time (400-year eras of 146,097 days, years starting in March):
   f = year, month, day, hour, minute, second, weekday (0 = Sunday). */
static void mos_civil(int64_t t, int f[7]) {
    int64_t days = t / 86400, s = t % 86400;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    f[2] = (int)(doy - (153 * mp + 2) / 5 + 1);
    f[1] = (int)(mp < 10 ? mp + 3 : mp - 9);
    f[0] = (int)(yoe + era * 400 + (f[1] <= 2));
    f[3] = (int)(s / 3600); f[4] = (int)(s / 60 % 60); f[5] = (int)(s % 60);
    f[6] = (int)((days + 4) % 7);
}
/* Appends the time of day of f as HH:MM:SS. */
static void mos_put_hms(mos_text *t, const int f[7]) {
    mos_put_2(t, f[3]); mos_put(t, ":"); mos_put_2(t, f[4]); mos_put(t, ":"); mos_put_2(t, f[5]);
}
/* Appends u as an HTTP date: Wed, 01 Jan 2025 00:00:00 GMT. */
static void mos_put_http_date(mos_text *t, int64_t u) {
    static const char wd[] = "SunMonTueWedThuFriSat", mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int f[7];
    mos_civil(u, f);
    mos_put_n(t, wd + 3 * f[6], 3); mos_put(t, ", "); mos_put_2(t, f[2]); mos_put(t, " ");
    mos_put_n(t, mo + 3 * (f[1] - 1), 3); mos_put(t, " "); mos_put_u64(t, (uint64_t)f[0]); mos_put(t, " ");
    mos_put_hms(t, f);
    mos_put(t, " GMT");
}
/* Appends u as an ISO 8601 time: 2025-01-01T00:00:00.000Z. */
static void mos_put_iso_date(mos_text *t, int64_t u) {
    int f[7];
    mos_civil(u, f);
    mos_put_u64(t, (uint64_t)f[0]); mos_put(t, "-"); mos_put_2(t, f[1]); mos_put(t, "-"); mos_put_2(t, f[2]);
    mos_put(t, "T");
    mos_put_hms(t, f);
    mos_put(t, ".000Z");
}

/* ==== the server's state ================================================================ */
#define MOS_CONNS     4
#define MOS_UPLOADS   4
#define MOS_PARTS     64                /* part numbers 1..64 (OSS: 10,000) */
#define MOS_BLOBS     (MOS_UPLOADS * 16 + MOS_CONNS)
#define MOS_HEAD_MAX  8192u
#define MOS_XML_MAX   8192u
#define MOS_REPLY_MAX 4096u
#define MOS_PAGE      4                 /* parts per ListParts page at most: fewer than max-parts
                                           asks for is allowed, and the client's paging runs */

enum { MOS_OP_NONE, MOS_OP_INITIATE, MOS_OP_PART, MOS_OP_LIST, MOS_OP_COMPLETE, MOS_OP_ABORT, MOS_OP_PUT,
       MOS_OP_HEAD, MOS_OP_GET };
enum { MOS_BLOB_FREE, MOS_BLOB_RECEIVING, MOS_BLOB_STORED };

/* Bytes in the arena: a part, or a PutObject body. */
typedef struct mos_blob {
    int state;
    size_t off, len, got;
    uint64_t crc;
    int64_t mtime;
    char etag[40];
} mos_blob;
/* A multipart upload. */
typedef struct mos_upload {
    int used;
    char bucket[64], key[1024], id[40];
    int part[MOS_PARTS + 1];            /* blob index + 1 of part n; 0: none */
} mos_upload;
/* A request, as its head gives it. */
typedef struct mos_req {
    char method[8], host[256], bucket[64], key[1024], upload_id[64];
    char part_arg[16], max_arg[16], marker_arg[16];
    char range[64], if_match[64];       /* "" when too long: no range, no ETag matches */
    int has_uploads, has_upload_id, has_part, has_max, has_marker, has_length, auth, close;
    int has_range, has_if_match, standard;   /* standard: x-oss-range-behavior: standard */
    uint64_t length;
    int op;
    int err_status;                     /* an error found in the head, replied after the body */
    const char *err_code, *err_msg;
} mos_req;
/* A connection and the request on it. */
typedef struct mos_conn {
    int open, closing;                  /* closing: the server hung up after its reply */
    int in_body;
    uint64_t body_left;
    int blob;                           /* where the body goes: a blob, the xml buffer, nowhere */
    int to_xml;
    size_t head_len, xml_len, reply_len, reply_pos;
    const unsigned char *src;           /* a GET's body, handed out after the reply head */
    size_t src_len, src_left;
    unsigned recvs;
    mos_req rq;
    char head[MOS_HEAD_MAX], xml[MOS_XML_MAX], reply[MOS_REPLY_MAX];
} mos_conn;

/* The server: parts and bodies in the arena, the last object, and all the rest. */
static unsigned char mos_arena[MINI_OSS_ARENA];
static unsigned char mos_object_data[MINI_OSS_OBJECT_MAX];
static struct {
    mini_oss_config config;
    mini_oss_counts counts;
    mini_oss_object obj;
    mos_conn conn[MOS_CONNS];
    mos_upload up[MOS_UPLOADS];
    mos_blob blob[MOS_BLOBS];
    size_t top;                         /* the arena's first free byte */
    unsigned long uploads_made, sends;
    uint64_t carry;                     /* bytes sent that have not yet taken a millisecond */
    char scratch[MOS_REPLY_MAX - 512];  /* reply bodies are built here */
    char target[2048], path[1100];      /* the request target, raw and decoded */
    int link_down, cut_armed;           /* the link, and a cut to come */
    unsigned long cut_at;               /* the cut comes once this many parts are stored */
    int get_cut_armed;                  /* a cut to come in a GET's body */
    unsigned long gets_done, get_cut_at; /* GET bodies sent in full; the cut comes at this many */
    unsigned long expected_errors;      /* refusals the scenario caused on purpose */
} mos;

/* The server's time: the configured clock, or a fixed day. */
static int64_t mos_now(void) { return mos.config.now ? mos.config.now(mos.config.user) : 1735689600; }

/* Lets ms of the link's time pass on the configured clock. */
static void mos_elapse(int ms) {
    if (mos.config.elapse && ms > 0) mos.config.elapse(ms, mos.config.user);
}

/* ==== the arena: blobs placed one after the other ======================================= */
/* Moves every blob down, in order, so that the free room is one piece at the top. */
static void mos_compact(void) {
    int order[MOS_BLOBS], n = 0, i, j;
    size_t to = 0;
    for (i = 0; i < MOS_BLOBS; i++) {
        if (mos.blob[i].state == MOS_BLOB_FREE) continue;
        for (j = n; j > 0 && mos.blob[order[j - 1]].off > mos.blob[i].off; j--) order[j] = order[j - 1];
        order[j] = i;
        n++;
    }
    for (i = 0; i < n; i++) {
        mos_blob *b = &mos.blob[order[i]];
        memmove(mos_arena + to, mos_arena + b->off, b->len);
        b->off = to;
        to += b->len;
    }
    mos.top = to;
}
/* A new blob of len bytes to receive into, compacting when the top is reached; its
   index, or -1 when there is no room. */
static int mos_blob_new(uint64_t len) {
    int i;
    if (len > MINI_OSS_ARENA) return -1;
    for (i = 0; i < MOS_BLOBS && mos.blob[i].state != MOS_BLOB_FREE; i++) {}
    if (i == MOS_BLOBS) return -1;
    if (MINI_OSS_ARENA - mos.top < len) mos_compact();
    if (MINI_OSS_ARENA - mos.top < len) return -1;
    memset(&mos.blob[i], 0, sizeof mos.blob[i]);
    mos.blob[i].state = MOS_BLOB_RECEIVING;
    mos.blob[i].off = mos.top;
    mos.blob[i].len = (size_t)len;
    mos.top += (size_t)len;
    return i;
}
/* Frees blob i (none when i < 0). */
static void mos_blob_free(int i) {
    if (i < 0 || mos.blob[i].state == MOS_BLOB_FREE) return;
    mos.blob[i].state = MOS_BLOB_FREE;
    if (mos.blob[i].off + mos.blob[i].len == mos.top) mos.top = mos.blob[i].off;
}
/* Ends an upload: its parts are freed. */
static void mos_upload_free(mos_upload *u) {
    int n;
    for (n = 1; n <= MOS_PARTS; n++) mos_blob_free(u->part[n] - 1);
    memset(u, 0, sizeof *u);
    mos.counts.uploads_open--;
}

/* ==== replies =========================================================================== */
/* The reason phrase of an HTTP status. */
static const char *mos_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 416: return "Requested Range Not Satisfiable";
    case 501: return "Not Implemented";
    default: return "Internal Server Error";
    }
}
/* The request id of the current request: 24 hex digits, as OSS gives. */
static void mos_put_request_id(mos_text *t) {
    mos_put_hex(t, 0x67A1B2C3u, 8);
    mos_put_hex(t, mos.counts.requests, 16);
}
/* Status line, the usual OSS headers, extra (whole header lines), and the body (none for
   HEAD, whose Content-Length is length). */
static void mos_respond(mos_conn *c, int status, const char *extra, const char *body, size_t body_len,
                        uint64_t length) {
    mos_text t;
    mos_text_init(&t, c->reply, sizeof c->reply);
    mos_put(&t, "HTTP/1.1 "); mos_put_u64(&t, (uint64_t)status); mos_put(&t, " "); mos_put(&t, mos_reason(status));
    mos_put(&t, "\r\nServer: AliyunOSS\r\nDate: "); mos_put_http_date(&t, mos_now());
    mos_put(&t, "\r\nContent-Length: "); mos_put_u64(&t, length);
    mos_put(&t, "\r\nConnection: "); mos_put(&t, c->closing ? "close" : "keep-alive");
    mos_put(&t, "\r\nx-oss-request-id: "); mos_put_request_id(&t);
    mos_put(&t, "\r\n"); mos_put(&t, extra); mos_put(&t, "\r\n");
    if (strcmp(c->rq.method, "HEAD") != 0) mos_put_n(&t, body, body_len);
    if (t.over) {   /* cannot happen with these sizes; say so rather than send half */
        mos_text_init(&t, c->reply, sizeof c->reply);
        mos_put(&t, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        c->closing = 1;
    }
    c->reply_len = t.len;
    c->reply_pos = 0;
}
/* An OSS error reply: status, and an XML document with code and message; extra header
   lines (of 60 bytes at most) too. */
static void mos_error_with(mos_conn *c, int status, const char *code, const char *message, const char *extra) {
    char hdr[96];
    mos_text t, h;
    mos_text_init(&t, mos.scratch, sizeof mos.scratch);
    mos_put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    mos_put_tag(&t, "Code", code);
    mos_put_tag(&t, "Message", message);
    mos_put(&t, "<RequestId>"); mos_put_request_id(&t); mos_put(&t, "</RequestId>");
    mos_put_tag(&t, "HostId", c->rq.host);
    mos_put(&t, "</Error>\n");
    mos_text_init(&h, hdr, sizeof hdr);
    mos_put(&h, "Content-Type: application/xml\r\n");
    mos_put(&h, extra);
    mos.counts.errors++;
    printf("mini_oss: %s %s refused: %d %s\n", c->rq.method, c->rq.key, status, code);
    mos_respond(c, status, hdr, t.p, t.len, strcmp(c->rq.method, "HEAD") ? t.len : 0);
}
/* An OSS error reply: status, and an XML document with code and message. */
static void mos_error(mos_conn *c, int status, const char *code, const char *message) {
    mos_error_with(c, status, code, message, "");
}
/* A request too broken to frame: reply now and hang up (later sends fail, as on TCP). */
static void mos_reject(mos_conn *c, const char *message) {
    c->closing = 1;
    c->in_body = 0;
    mos_blob_free(c->blob);
    c->blob = -1;
    mos_error(c, 400, "InvalidArgument", message);
}
/* A 200 reply with an XML body and extra header lines. */
static void mos_xml_reply(mos_conn *c, const char *extra, const mos_text *body) {
    char hdr[256];
    mos_text h;
    mos_text_init(&h, hdr, sizeof hdr);
    mos_put(&h, "Content-Type: application/xml\r\n");
    mos_put(&h, extra);
    if (body->over || h.over) {
        mos_error(c, 500, "InternalError", "The reply does not fit the server's buffer.");
        return;
    }
    mos_respond(c, 200, hdr, body->p, body->len, body->len);
}

/* ==== parsing the request head ========================================================== */
/* Whether ch may stand in a header field name (an HTTP token). */
static int mos_token_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}
/* The value of a hex digit, or -1. */
static int mos_hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}
/* Percent-decodes s[0..n) into out (NUL-terminated); 0, or -1 when malformed or too long. */
static int mos_decode(const char *s, size_t n, char *out, size_t cap) {
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi, lo;
            if (i + 2 >= n) return -1;
            hi = mos_hexval(s[i + 1]);
            lo = mos_hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            ch = hi * 16 + lo;
            i += 2;
        }
        if (ch == 0 || o + 1 >= cap) return -1;
        out[o++] = (char)ch;
    }
    out[o] = 0;
    return 0;
}
/* Reads s[0..n) as a decimal number of at most max into *v; 0, or -1 when it is not one. */
static int mos_digits(const char *s, size_t n, uint64_t max, uint64_t *v) {
    size_t i;
    *v = 0;
    if (n == 0 || n > 15) return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return *v <= max ? 0 : -1;
}
/* Whether s[0..n) is lit, ignoring ASCII case. */
static int mos_ieq(const char *s, size_t n, const char *lit) {
    size_t i;
    if (strlen(lit) != n) return 0;
    for (i = 0; i < n; i++) {
        char a = s[i], b = lit[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
        if (a != b) return 0;
    }
    return 1;
}
/* Whether Authorization v[0..n) names the configured key id: "OSS KEY:signature" (V1) or
   "OSS4-HMAC-SHA256 Credential=KEY/date/region/oss/aliyun_v4_request,..." (V4). */
static int mos_auth_ok(const char *v, size_t n) {
    const char *id = mos.config.key_id ? mos.config.key_id : "";
    size_t k = strlen(id);
    if (n > 4 + k && memcmp(v, "OSS ", 4) == 0) return memcmp(v + 4, id, k) == 0 && v[4 + k] == ':';
    if (n > 28 + k && memcmp(v, "OSS4-HMAC-SHA256 Credential=", 28) == 0)
        return memcmp(v + 28, id, k) == 0 && v[28 + k] == '/';
    return 0;
}
/* Whether b is a valid bucket name: 3-63 of a-z, 0-9 and -, not at either end. */
static int mos_bucket_ok(const char *b) {
    size_t n = strlen(b), i;
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-') return 0;
    for (i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-')) return 0;
    return 1;
}
/* Notes an error to reply once the body is in; the first one found is kept. */
static void mos_later(mos_req *q, int status, const char *code, const char *message) {
    if (q->err_status) return;
    q->err_status = status;
    q->err_code = code;
    q->err_msg = message;
}
/* Reads the query string s[0..n): the parameters of an upload's calls (others are
   ignored). 0, or -1 when a value is malformed or too long. */
static int mos_query(mos_req *q, const char *s, size_t n) {
    while (n > 0) {
        const char *amp = (const char *)memchr(s, '&', n), *eq;
        size_t len = amp ? (size_t)(amp - s) : n, nlen;
        char name[32], *arg = NULL;
        size_t cap = 0;
        eq = (const char *)memchr(s, '=', len);
        nlen = eq ? (size_t)(eq - s) : len;
        if (mos_decode(s, nlen, name, sizeof name) != 0) name[0] = 0;   /* unknown: ignored */
        if (!strcmp(name, "uploads")) q->has_uploads = 1;
        else if (!strcmp(name, "uploadId")) { q->has_upload_id = 1; arg = q->upload_id; cap = sizeof q->upload_id; }
        else if (!strcmp(name, "partNumber")) { q->has_part = 1; arg = q->part_arg; cap = sizeof q->part_arg; }
        else if (!strcmp(name, "max-parts")) { q->has_max = 1; arg = q->max_arg; cap = sizeof q->max_arg; }
        else if (!strcmp(name, "part-number-marker")) {
            q->has_marker = 1; arg = q->marker_arg; cap = sizeof q->marker_arg;
        }
        if (arg && eq && mos_decode(eq + 1, len - nlen - 1, arg, cap) != 0) return -1;
        if (!amp) break;
        n -= len + 1;
        s = amp + 1;
    }
    return 0;
}
/* The upload the request names by id, bucket and key, or NULL. */
static mos_upload *mos_find_upload(const mos_req *q) {
    int i;
    for (i = 0; i < MOS_UPLOADS; i++)
        if (mos.up[i].used && !strcmp(mos.up[i].id, q->upload_id) && !strcmp(mos.up[i].bucket, q->bucket) &&
            !strcmp(mos.up[i].key, q->key))
            return &mos.up[i];
    return NULL;
}

/* The head is complete (it ends with an empty line): parse it, decide where the body goes.
   Returns 0, or -1 when the request was rejected and the connection is closing. */
static int mos_parse_head(mos_conn *c) {
    mos_req *q = &c->rq;
    const char *p = c->head, *end = c->head + c->head_len - 2, *eol, *sp1, *sp2, *qm;
    int saw_host = 0, saw_length = 0, chunked = 0;
    char *target = mos.target, *path = mos.path;
    size_t n;
    memset(q, 0, sizeof *q);
    c->blob = -1;
    c->to_xml = 0;
    c->xml_len = 0;
    mos.counts.requests++;
    /* request line: METHOD SP /target SP HTTP/1.1 */
    eol = p;
    while (eol + 1 < end + 2 && !(eol[0] == '\r' && eol[1] == '\n')) eol++;
    sp1 = (const char *)memchr(p, ' ', (size_t)(eol - p));
    sp2 = sp1 ? (const char *)memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == p || (size_t)(sp1 - p) >= sizeof q->method || sp1[1] != '/' ||
        (size_t)(sp2 - sp1 - 1) >= sizeof mos.target || (size_t)(eol - sp2 - 1) != 8 ||
        memcmp(sp2 + 1, "HTTP/1.1", 8) != 0) {
        mos_reject(c, "The request line is not METHOD /target HTTP/1.1.");
        return -1;
    }
    for (n = 0; p + n < sp1; n++)
        if (p[n] < 'A' || p[n] > 'Z') { mos_reject(c, "The request method is malformed."); return -1; }
    memcpy(q->method, p, (size_t)(sp1 - p));
    memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    target[sp2 - sp1 - 1] = 0;
    /* header fields */
    for (p = eol + 2; p < end; p = eol + 2) {
        const char *colon, *v, *ve;
        eol = p;
        while (!(eol[0] == '\r' && eol[1] == '\n')) eol++;
        colon = (const char *)memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p) { mos_reject(c, "A header line has no field name."); return -1; }
        for (v = p; v < colon; v++)
            if (!mos_token_char(*v)) { mos_reject(c, "A header field name is malformed."); return -1; }
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {}
        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
        for (n = 0; v + n < ve; n++)
            if ((unsigned char)v[n] < 0x20 && v[n] != '\t') {
                mos_reject(c, "A header value holds a control character.");
                return -1;
            }
        n = (size_t)(ve - v);
        if (mos_ieq(p, (size_t)(colon - p), "Host")) {
            if (saw_host++ || n == 0 || n >= sizeof q->host) {
                mos_reject(c, "The Host header is missing, repeated or too long.");
                return -1;
            }
            memcpy(q->host, v, n);
            q->host[n] = 0;
        } else if (mos_ieq(p, (size_t)(colon - p), "Content-Length")) {
            uint64_t len;
            if (mos_digits(v, n, (uint64_t)1 << 40, &len) != 0 || (saw_length++ && len != q->length)) {
                mos_reject(c, "The Content-Length header is malformed or repeated with another value.");
                return -1;
            }
            q->length = len;
            q->has_length = 1;
        } else if (mos_ieq(p, (size_t)(colon - p), "Transfer-Encoding")) {
            chunked = 1;
        } else if (mos_ieq(p, (size_t)(colon - p), "Authorization")) {
            q->auth = mos_auth_ok(v, n);
        } else if (mos_ieq(p, (size_t)(colon - p), "Connection")) {
            q->close = mos_ieq(v, n, "close");
        } else if (mos_ieq(p, (size_t)(colon - p), "Range") || mos_ieq(p, (size_t)(colon - p), "If-Match")) {
            char *to = p[0] == 'R' || p[0] == 'r' ? q->range : q->if_match;
            if (to == q->range) q->has_range = 1;
            else q->has_if_match = 1;
            memcpy(to, v, n < sizeof q->range ? n : 0);
            to[n < sizeof q->range ? n : 0] = 0;
        } else if (mos_ieq(p, (size_t)(colon - p), "x-oss-range-behavior")) {
            q->standard = mos_ieq(v, n, "standard");
        }
    }
    if (!saw_host) { mos_reject(c, "An HTTP/1.1 request needs a Host header."); return -1; }
    if (chunked) { mos_reject(c, "This server takes request bodies with a Content-Length only."); return -1; }
    /* addressing: BUCKET.MINI_OSS_DOMAIN/KEY, or MINI_OSS_DOMAIN/BUCKET/KEY */
    {
        char host[256];
        const char *colon = strchr(q->host, ':'), *k;
        size_t hl = colon ? (size_t)(colon - q->host) : strlen(q->host), dl = strlen(MINI_OSS_DOMAIN);
        memcpy(host, q->host, hl);
        host[hl] = 0;
        qm = strchr(target, '?');
        n = qm ? (size_t)(qm - target) : strlen(target);
        if (mos_decode(target, n, path, sizeof mos.path) != 0 ||
            (qm && mos_query(q, qm + 1, strlen(qm + 1)) != 0)) {
            mos_later(q, 400, "InvalidArgument",
                      "The request target is not valid percent-encoding, or a parameter is too long.");
            path[0] = '/';
            path[1] = 0;
        }
        k = path + 1;
        if (hl == dl && !strcmp(host, MINI_OSS_DOMAIN)) {                   /* path style */
            const char *slash = strchr(k, '/');
            size_t bl = slash ? (size_t)(slash - k) : strlen(k);
            if (bl >= sizeof q->bucket) bl = sizeof q->bucket - 1;
            memcpy(q->bucket, k, bl);
            k = slash ? slash + 1 : k + bl;
        } else if (hl > dl + 1 && !strcmp(host + hl - dl, MINI_OSS_DOMAIN) && host[hl - dl - 1] == '.' &&
                   hl - dl - 1 < sizeof q->bucket) {               /* virtual-hosted */
            memcpy(q->bucket, host, hl - dl - 1);
        } else {
            mos_later(q, 400, "InvalidArgument", "The Host header names no bucket of this endpoint.");
        }
        if (strlen(k) >= sizeof q->key) mos_later(q, 400, "InvalidObjectName", "The object key is too long.");
        else memcpy(q->key, k, strlen(k) + 1);
    }
    /* the operation, and what can be refused before the body arrives */
    if (!q->auth) mos_later(q, 403, "AccessDenied", "The Authorization header is missing or names another key id.");
    if (!mos_bucket_ok(q->bucket)) mos_later(q, 400, "InvalidBucketName", "The specified bucket is not valid.");
    if (!q->key[0] || q->key[0] == '/' || q->key[0] == '\\')
        mos_later(q, 400, "InvalidObjectName", "The specified object is not valid.");
    if (!strcmp(q->method, "PUT")) q->op = q->has_part || q->has_upload_id ? MOS_OP_PART : MOS_OP_PUT;
    else if (!strcmp(q->method, "GET") && q->has_upload_id) q->op = MOS_OP_LIST;
    else if (!strcmp(q->method, "HEAD")) q->op = MOS_OP_HEAD;
    else if (!strcmp(q->method, "GET") && !q->has_uploads) q->op = MOS_OP_GET;
    else if (!strcmp(q->method, "DELETE") && q->has_upload_id) q->op = MOS_OP_ABORT;
    else if (!strcmp(q->method, "POST") && q->has_uploads) q->op = MOS_OP_INITIATE;
    else if (!strcmp(q->method, "POST") && q->has_upload_id) q->op = MOS_OP_COMPLETE;
    else if (strcmp(q->method, "GET") && strcmp(q->method, "DELETE") && strcmp(q->method, "POST"))
        mos_later(q, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    else
        mos_later(q, 501, "NotImplemented", "This server implements the calls of an upload and a download only.");
    if ((q->op == MOS_OP_PART || q->op == MOS_OP_PUT || q->op == MOS_OP_COMPLETE) && !q->has_length)
        mos_later(q, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
    if (q->op == MOS_OP_PART) {
        uint64_t num;
        if (!q->has_upload_id || !q->has_part ||
            mos_digits(q->part_arg, strlen(q->part_arg), 10000, &num) != 0 || num == 0)
            mos_later(q, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.");
        else if (num > MOS_PARTS)
            mos_later(q, 400, "InvalidArgument", "This server keeps part numbers 1 to 64 only.");
        else if (!mos_find_upload(q))
            mos_later(q, 404, "NoSuchUpload", "The specified upload does not exist.");
    }
    if (!q->err_status && (q->op == MOS_OP_PART || q->op == MOS_OP_PUT) &&
        (c->blob = mos_blob_new(q->length)) < 0)
        mos_later(q, 400, "EntityTooLarge", "The body does not fit this server's RAM.");
    c->to_xml = !q->err_status && q->op == MOS_OP_COMPLETE;
    c->in_body = 1;
    c->body_left = q->length;
    return 0;
}

/* ==== the calls ========================================================================= */
/* InitiateMultipartUpload: a new upload id. */
static void mos_initiate(mos_conn *c) {
    mos_req *q = &c->rq;
    mos_upload *u = NULL;
    mos_text t;
    int i;
    for (i = 0; i < MOS_UPLOADS && !u; i++)
        if (!mos.up[i].used) u = &mos.up[i];
    if (!u) { mos_error(c, 400, "InvalidArgument", "This server keeps four uploads at most."); return; }
    memset(u, 0, sizeof *u);
    u->used = 1;
    memcpy(u->bucket, q->bucket, sizeof u->bucket);
    memcpy(u->key, q->key, sizeof u->key);
    mos_text_init(&t, u->id, sizeof u->id);
    mos.uploads_made++;
    mos.counts.uploads_open++;
    mos_put_hex(&t, ossr_crc64(0, q->key, strlen(q->key)), 16);
    mos_put_hex(&t, mos.uploads_made * 0x9E3779B97F4A7C15ull, 16);
    mos_text_init(&t, mos.scratch, sizeof mos.scratch);
    mos_put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>");
    mos_put_tag(&t, "Bucket", q->bucket);
    mos_put_tag(&t, "Key", q->key);
    mos_put_tag(&t, "UploadId", u->id);
    mos_put(&t, "</InitiateMultipartUploadResult>\n");
    mos_xml_reply(c, "", &t);
}
/* The two headers of a stored body. */
static void mos_put_etag_crc(mos_text *h, const char *etag, uint64_t crc) {
    mos_put(h, "ETag: ");
    mos_put(h, etag);
    mos_put(h, "\r\nx-oss-hash-crc64ecma: ");
    mos_put_u64(h, crc);
    mos_put(h, "\r\n");
}
/* ETag of stored bytes: quoted hex of their CRC-64 and length (OSS gives the MD5). */
static void mos_etag(char *out, size_t cap, uint64_t crc, uint64_t len, const char *suffix) {
    mos_text t;
    mos_text_init(&t, out, cap);
    mos_put(&t, "\"");
    mos_put_hex(&t, crc, 16);
    mos_put_hex(&t, (len + 1) * 0x9E3779B97F4A7C15ull ^ crc, 16);
    mos_put(&t, suffix);
    mos_put(&t, "\"");
}
/* UploadPart: the body is in; it becomes the part (replacing one sent before). */
static void mos_upload_part(mos_conn *c) {
    mos_req *q = &c->rq;
    mos_upload *u = mos_find_upload(q);
    mos_blob *b = &mos.blob[c->blob];
    char hdr[160];
    mos_text h;
    uint64_t num;
    mos_digits(q->part_arg, strlen(q->part_arg), MOS_PARTS, &num);   /* checked with the head */
    if (!u) {                                  /* aborted while the body came in */
        mos_blob_free(c->blob);
        c->blob = -1;
        mos_error(c, 404, "NoSuchUpload", "The specified upload does not exist.");
        return;
    }
    mos_blob_free(u->part[num] - 1);           /* a part sent again replaces the old one */
    b->state = MOS_BLOB_STORED;
    b->mtime = mos_now();
    mos_etag(b->etag, sizeof b->etag, b->crc, b->len, "");
    u->part[num] = c->blob + 1;
    c->blob = -1;
    mos.counts.parts_stored++;
    mos_text_init(&h, hdr, sizeof hdr);
    mos_put_etag_crc(&h, b->etag, b->crc);
    mos_respond(c, 200, hdr, "", 0, 0);
}
/* ListParts: one page of the parts of an upload, from part-number-marker on. */
static void mos_list_parts(mos_conn *c) {
    mos_req *q = &c->rq;
    mos_upload *u = mos_find_upload(q);
    uint64_t max = 1000, marker = 0;
    mos_text t;
    int n, shown = 0, last = 0, more = 0;
    if ((q->has_max && mos_digits(q->max_arg, strlen(q->max_arg), 1000, &max) != 0) || max == 0) {
        mos_error(c, 400, "InvalidArgument", "Argument max-parts is invalid.");
        return;
    }
    if (q->has_marker && mos_digits(q->marker_arg, strlen(q->marker_arg), 10000, &marker) != 0) {
        mos_error(c, 400, "InvalidArgument", "Argument part-number-marker is invalid.");
        return;
    }
    if (!u) { mos_error(c, 404, "NoSuchUpload", "The specified upload does not exist."); return; }
    mos_text_init(&t, mos.scratch, sizeof mos.scratch);
    mos_put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>");
    mos_put_tag(&t, "Bucket", q->bucket);
    mos_put_tag(&t, "Key", q->key);
    mos_put_tag(&t, "UploadId", u->id);
    mos_put_tag(&t, "StorageClass", "Standard");
    mos_put_tag_u64(&t, "PartNumberMarker", marker);
    for (n = (int)marker + 1; n <= MOS_PARTS; n++) {
        mos_blob *b;
        if (!u->part[n]) continue;
        if ((uint64_t)shown == max || shown == MOS_PAGE) { more = 1; break; }
        b = &mos.blob[u->part[n] - 1];
        mos_put(&t, "<Part>");
        mos_put_tag_u64(&t, "PartNumber", (uint64_t)n);
        mos_put(&t, "<LastModified>"); mos_put_iso_date(&t, b->mtime); mos_put(&t, "</LastModified>");
        mos_put_tag(&t, "ETag", b->etag);
        mos_put_tag_u64(&t, "HashCrc64ecma", b->crc);
        mos_put_tag_u64(&t, "Size", b->len);
        mos_put(&t, "</Part>");
        shown++;
        last = n;
    }
    mos_put_tag_u64(&t, "NextPartNumberMarker", shown ? (uint64_t)last : marker);
    mos_put_tag_u64(&t, "MaxParts", max);
    mos_put_tag(&t, "IsTruncated", more ? "true" : "false");
    mos_put(&t, "</ListPartsResult>\n");
    mos.counts.lists++;
    mos.counts.list_pages_truncated += (unsigned long)more;
    mos_xml_reply(c, "", &t);
}
/* <CompleteMultipartUpload><Part><PartNumber>N</PartNumber><ETag>"..."</ETag></Part>...:
   ascending part numbers, each stored with that ETag, all but the last at least 100 KiB. */
static void mos_complete(mos_conn *c) {
    mos_req *q = &c->rq;
    mos_upload *u = mos_find_upload(q);
    int nums[MOS_PARTS], count = 0, i, x;
    size_t pos = 0, total = 0;
    ossr_slice root, part;
    uint64_t crc = 0;
    char hdr[200];
    mos_text t, h;
    if (!u) { mos_error(c, 404, "NoSuchUpload", "The specified upload does not exist."); return; }
    if (c->xml_len == sizeof c->xml ||
        ossr_xml_next(c->xml, c->xml_len, "CompleteMultipartUpload", &pos, &root) != 1) {
        mos_error(c, 400, "MalformedXML", "The XML you provided was not well-formed.");
        return;
    }
    pos = 0;
    while ((x = ossr_xml_next(root.ptr, root.len, "Part", &pos, &part)) == 1) {
        char num[16], etag[64];
        uint64_t v;
        mos_blob *b;
        if (ossr_xml_text(part.ptr, part.len, "PartNumber", num, sizeof num) != 1 ||
            ossr_xml_text(part.ptr, part.len, "ETag", etag, sizeof etag) != 1 ||
            mos_digits(num, strlen(num), 10000, &v) != 0 || count == MOS_PARTS) {
            mos_error(c, 400, "MalformedXML", "The XML you provided was not well-formed.");
            return;
        }
        if (v == 0 || (count && (int)v <= nums[count - 1])) {
            mos_error(c, 400, "InvalidPartOrder", "The list of parts was not in ascending order.");
            return;
        }
        if (v > MOS_PARTS || !u->part[v] || strcmp(mos.blob[u->part[v] - 1].etag, etag) != 0) {
            mos_error(c, 400, "InvalidPart", "One or more of the specified parts could not be found or the "
                      "specified entity tag might not have matched the part's entity tag.");
            return;
        }
        b = &mos.blob[u->part[v] - 1];
        if (count && mos.blob[u->part[nums[count - 1]] - 1].len < 102400) {
            mos_error(c, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.");
            return;
        }
        nums[count++] = (int)v;
        total += b->len;
    }
    if (x < 0 || count == 0) {
        mos_error(c, 400, "MalformedXML", "The XML you provided was not well-formed.");
        return;
    }
    if (total > MINI_OSS_OBJECT_MAX) {
        mos_error(c, 400, "EntityTooLarge", "The object does not fit this server's RAM.");
        return;
    }
    total = 0;
    for (i = 0; i < count; i++) {
        mos_blob *b = &mos.blob[u->part[nums[i]] - 1];
        memcpy(mos_object_data + total, mos_arena + b->off, b->len);
        crc = ossr_crc64_combine(crc, b->crc, b->len);
        total += b->len;
    }
    if (crc != ossr_crc64(0, mos_object_data, total)) {
        mos_error(c, 500, "InternalError", "ossr_crc64_combine disagrees with the CRC-64 of the object.");
        return;
    }
    memcpy(mos.obj.bucket, q->bucket, sizeof mos.obj.bucket);
    memcpy(mos.obj.key, q->key, sizeof mos.obj.key);
    mos.obj.size = total;
    mos.obj.crc = crc;
    mos.obj.mtime = mos_now();
    mos.obj.exists = 1;
    mos.obj.multipart = 1;
    mos_text_init(&h, hdr, sizeof hdr);                    /* a multipart ETag ends in -COUNT */
    mos_put(&h, "-");
    mos_put_u64(&h, (uint64_t)count);
    mos_etag(mos.obj.etag, sizeof mos.obj.etag, crc, total, hdr);
    mos_upload_free(u);
    mos.counts.completes++;
    mos_text_init(&t, mos.scratch, sizeof mos.scratch);
    mos_put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>http://");
    mos_put_xml(&t, q->bucket); mos_put(&t, "." MINI_OSS_DOMAIN "/"); mos_put_xml(&t, q->key);
    mos_put(&t, "</Location>");
    mos_put_tag(&t, "Bucket", q->bucket);
    mos_put_tag(&t, "Key", q->key);
    mos_put_tag(&t, "ETag", mos.obj.etag);
    mos_put(&t, "</CompleteMultipartUploadResult>\n");
    mos_text_init(&h, hdr, sizeof hdr);
    mos_put_etag_crc(&h, mos.obj.etag, crc);
    mos_xml_reply(c, hdr, &t);
}
/* AbortMultipartUpload. */
static void mos_abort(mos_conn *c) {
    mos_upload *u = mos_find_upload(&c->rq);
    if (!u) { mos_error(c, 404, "NoSuchUpload", "The specified upload does not exist."); return; }
    mos_upload_free(u);
    mos_respond(c, 204, "", "", 0, 0);
}
/* PutObject: the body is in; it becomes the object. */
static void mos_put_object(mos_conn *c) {
    mos_blob *b = &mos.blob[c->blob];
    char hdr[160];
    mos_text h;
    if (b->len > MINI_OSS_OBJECT_MAX) {
        mos_blob_free(c->blob);
        c->blob = -1;
        mos_error(c, 400, "EntityTooLarge", "The object does not fit this server's RAM.");
        return;
    }
    memcpy(mos_object_data, mos_arena + b->off, b->len);
    memcpy(mos.obj.bucket, c->rq.bucket, sizeof mos.obj.bucket);
    memcpy(mos.obj.key, c->rq.key, sizeof mos.obj.key);
    mos.obj.size = b->len;
    mos.obj.crc = b->crc;
    mos.obj.mtime = mos_now();
    mos.obj.exists = 1;
    mos.obj.multipart = 0;
    mos_etag(mos.obj.etag, sizeof mos.obj.etag, b->crc, b->len, "");
    mos_blob_free(c->blob);
    c->blob = -1;
    mos.counts.puts++;
    mos_text_init(&h, hdr, sizeof hdr);
    mos_put_etag_crc(&h, mos.obj.etag, mos.obj.crc);
    mos_respond(c, 200, hdr, "", 0, 0);
}
/* Whether the request names the object held here and If-Match, when given, holds its
   ETag (or *); else an error reply is made: 404 NoSuchKey, 412 PreconditionFailed. Then
   the headers of the object go into h: type, ETag, CRC-64, Last-Modified. */
static int mos_object_named(mos_conn *c, mos_text *h) {
    if (!mos.obj.exists || strcmp(mos.obj.bucket, c->rq.bucket) || strcmp(mos.obj.key, c->rq.key)) {
        mos_error(c, 404, "NoSuchKey", "The specified key does not exist.");
        return 0;
    }
    if (c->rq.has_if_match && strcmp(c->rq.if_match, mos.obj.etag) != 0 && strcmp(c->rq.if_match, "*") != 0) {
        mos_error(c, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.");
        return 0;
    }
    mos_put(h, "Content-Type: application/octet-stream\r\nETag: "); mos_put(h, mos.obj.etag);
    mos_put(h, "\r\nx-oss-hash-crc64ecma: "); mos_put_u64(h, mos.obj.crc);
    mos_put(h, "\r\nLast-Modified: "); mos_put_http_date(h, mos.obj.mtime);
    mos_put(h, "\r\nx-oss-object-type: "); mos_put(h, mos.obj.multipart ? "Multipart" : "Normal");
    mos_put(h, "\r\nx-oss-storage-class: Standard\r\n");
    return 1;
}
/* HeadObject: the object's length, ETag, CRC-64, Last-Modified and type. */
static void mos_head_object(mos_conn *c) {
    char hdr[320];
    mos_text h;
    mos_text_init(&h, hdr, sizeof hdr);
    if (!mos_object_named(c, &h)) return;
    mos.counts.heads++;
    mos_respond(c, 200, hdr, "", 0, mos.obj.size);
}
/* The part of an object of size bytes that a GetObject's Range asks for, in *start and
   *len: 206 for one range (bytes=A-B, bytes=A-, bytes=-N), 200 for the whole object (no
   Range, or one OSS ignores: unparsable, inverted, several, or outside the object
   without the standard behaviour), 416 for one that cannot be served (standard: a start
   at or past the end, bytes=-0, any range of an empty object); with the standard
   behaviour an end past the object is cut to its last byte. */
static int mos_range(const mos_req *q, uint64_t size, uint64_t *start, uint64_t *len) {
    const char *s = q->range + 6, *dash = strchr(s, '-');
    uint64_t a = 0, e = 0, max = (uint64_t)1 << 50;
    int has_a, has_e;
    *start = 0;
    *len = size;
    if (!q->has_range || strncmp(q->range, "bytes=", 6) != 0 || !dash || strchr(dash + 1, '-')) return 200;
    has_a = dash > s;
    has_e = dash[1] != 0;
    if ((has_a && mos_digits(s, (size_t)(dash - s), max, &a) != 0) ||
        (has_e && mos_digits(dash + 1, strlen(dash + 1), max, &e) != 0) || (!has_a && !has_e) ||
        (has_a && has_e && e < a))
        return 200;
    if (!has_a) {                                       /* the last e bytes */
        if (e > 0 && e <= size) { *start = size - e; *len = e; return 206; }
        return !q->standard ? 200 : e == 0 || size == 0 ? 416 : 206;
    }
    if (a < size && (!has_e || e < size)) { *start = a; *len = (has_e ? e + 1 : size) - a; return 206; }
    if (!q->standard) return 200;
    if (a >= size) return 416;
    *start = a;
    *len = size - a;
    return 206;
}
/* GetObject: the object's bytes, whole (200) or a range (206), handed out from its copy
   after the reply head. */
static void mos_get_object(mos_conn *c) {
    char hdr[400];
    mos_text h;
    uint64_t start, len;
    int status;
    mos_text_init(&h, hdr, sizeof hdr);
    if (!mos_object_named(c, &h)) return;
    status = mos_range(&c->rq, mos.obj.size, &start, &len);
    if (status == 416) {
        mos_text_init(&h, hdr, sizeof hdr);
        mos_put(&h, "Content-Range: bytes */"); mos_put_u64(&h, mos.obj.size); mos_put(&h, "\r\n");
        mos_error_with(c, 416, "InvalidRange", "The requested range cannot be satisfied.", hdr);
        return;
    }
    if (status == 206) {
        mos_put(&h, "Content-Range: bytes "); mos_put_u64(&h, start); mos_put(&h, "-");
        mos_put_u64(&h, start + len - 1); mos_put(&h, "/"); mos_put_u64(&h, mos.obj.size); mos_put(&h, "\r\n");
        mos.counts.ranges++;
    }
    mos.counts.gets++;
    mos_respond(c, status, hdr, "", 0, len);
    c->src = mos_object_data + start;
    c->src_len = c->src_left = (size_t)len;
    if (len == 0) mos.gets_done++;
}
/* The body is in: answer, and make the connection ready for the next request. */
static void mos_finish(mos_conn *c) {
    mos_req *q = &c->rq;
    c->in_body = 0;
    c->head_len = 0;
    if (q->close) c->closing = 1;
    if (q->err_status) {
        mos_blob_free(c->blob);
        c->blob = -1;
        mos_error(c, q->err_status, q->err_code, q->err_msg);
        return;
    }
    switch (q->op) {
    case MOS_OP_INITIATE: mos_initiate(c); break;
    case MOS_OP_PART: mos_upload_part(c); break;
    case MOS_OP_LIST: mos_list_parts(c); break;
    case MOS_OP_COMPLETE: mos_complete(c); break;
    case MOS_OP_ABORT: mos_abort(c); break;
    case MOS_OP_PUT: mos_put_object(c); break;
    case MOS_OP_GET: mos_get_object(c); break;
    default: mos_head_object(c); break;
    }
}
/* Takes request bytes in any split; returns how many it took (fewer when a reply is
   waiting to be read: no pipelining). */
static size_t mos_feed(mos_conn *c, const unsigned char *p, size_t n) {
    size_t used = 0;
    while (used < n && !c->closing && c->reply_pos == c->reply_len && c->src_left == 0) {
        if (!c->in_body) {
            if (c->head_len == sizeof c->head) {
                memset(&c->rq, 0, sizeof c->rq);
                mos_reject(c, "The request head is too large.");
                break;
            }
            c->head[c->head_len++] = (char)p[used++];
            if (c->head_len >= 4 && memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4) == 0 &&
                mos_parse_head(c) == 0 && c->body_left == 0)
                mos_finish(c);
        } else {
            size_t take = (uint64_t)(n - used) < c->body_left ? n - used : (size_t)c->body_left;
            if (c->blob >= 0) {
                mos_blob *b = &mos.blob[c->blob];
                memcpy(mos_arena + b->off + b->got, p + used, take);
                b->crc = ossr_crc64(b->crc, p + used, take);
                b->got += take;
            } else if (c->to_xml) {
                size_t room = sizeof c->xml - c->xml_len, k = take < room ? take : room;
                memcpy(c->xml + c->xml_len, p + used, k);
                c->xml_len += k;            /* a full buffer means too long: MalformedXML */
            }
            used += take;
            c->body_left -= take;
            if (c->body_left == 0) mos_finish(c);
        }
    }
    return used;
}

/* ==== the transport ===================================================================== */
/* Opens a connection to MINI_OSS_DOMAIN or a bucket under it, port 80. */
static ossr_result mos_connect(const char *host, uint16_t port, int timeout_ms, void **conn, void *user) {
    size_t n = strlen(host), d = strlen(MINI_OSS_DOMAIN);
    int i;
    (void)timeout_ms; (void)user;
    if (n < d || strcmp(host + n - d, MINI_OSS_DOMAIN) != 0 || (n > d && host[n - d - 1] != '.'))
        return OSSR_E_RESOLVE;                          /* the only name this "DNS" knows */
    if (mos.link_down || port != 80) return OSSR_E_CONNECT;
    for (i = 0; i < MOS_CONNS; i++)
        if (!mos.conn[i].open) {
            mos_conn *c = &mos.conn[i];
            c->open = 1;
            c->closing = c->in_body = c->to_xml = 0;
            c->head_len = c->xml_len = c->reply_len = c->reply_pos = 0;
            c->src_len = c->src_left = 0;
            c->body_left = 0;
            c->blob = -1;
            mos.counts.connects++;
            *conn = c;
            return OSSR_OK;
        }
    return OSSR_E_CONNECT;                              /* every connection is taken */
}
/* The connection behind a handle, or NULL (and a misuse counted) when it is not open. */
static mos_conn *mos_conn_of(void *conn) {
    mos_conn *c = (mos_conn *)conn;
    if (c < mos.conn || c >= mos.conn + MOS_CONNS || !c->open) {
        printf("mini_oss: transport called with a connection that is not open\n");
        mos.counts.misuse++;
        return NULL;
    }
    return c;
}
/* Takes a varying share of what it is offered, as a socket with a full buffer would. */
static long mos_send(void *conn, const void *buf, size_t len, int timeout_ms, void *user) {
    mos_conn *c = mos_conn_of(conn);
    size_t cap = 1000 + (size_t)(mos.sends++ % 9) * 1777, used;
    (void)timeout_ms; (void)user;
    if (!c || mos.link_down || c->closing) return OSSR_E_SEND;
    if (len == 0) return 0;
    used = mos_feed(c, (const unsigned char *)buf, len < cap ? len : cap);
    mos.carry += used;                                  /* a 1 MB/s link */
    mos_elapse((int)(mos.carry / 1024));
    mos.carry %= 1024;
    /* a cut: the link drops half-way through the body of a part */
    if (mos.cut_armed && c->blob >= 0 && c->rq.op == MOS_OP_PART && mos.counts.parts_stored >= mos.cut_at &&
        mos.blob[c->blob].got >= mos.blob[c->blob].len / 2) {
        mos.link_down = 1;
        mos.cut_armed = 0;
    }
    if (used == 0) {
        printf("mini_oss: a request was sent before the previous reply was read\n");
        mos.counts.misuse++;
        return OSSR_E_SEND;
    }
    return (long)used;
}
/* Hands the reply out in pieces of 1 to 4096 bytes: its head, then a GET's body. */
static long mos_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    static const size_t piece[] = { 1, 17, 300, 4096, 64 };
    mos_conn *c = mos_conn_of(conn);
    int head;
    size_t n;
    (void)user;
    if (!c || mos.link_down) return OSSR_E_RECV;
    head = c->reply_pos < c->reply_len;
    if (!head && c->src_left == 0) {
        if (c->closing) return 0;
        mos_elapse(timeout_ms);                         /* nothing is coming: a real link waits */
        return OSSR_E_TIMEOUT;
    }
    /* a cut: the link drops half-way through the body of a GET */
    if (!head && mos.get_cut_armed && mos.gets_done >= mos.get_cut_at && c->src_left <= c->src_len / 2) {
        mos.link_down = 1;
        mos.get_cut_armed = 0;
        return OSSR_E_RECV;
    }
    n = head ? c->reply_len - c->reply_pos : c->src_left;
    if (n > cap) n = cap;
    if (n > piece[c->recvs % 5]) n = piece[c->recvs % 5];
    c->recvs++;
    if (head) {
        memcpy(buf, c->reply + c->reply_pos, n);
        c->reply_pos += n;
    } else {
        memcpy(buf, c->src, n);
        c->src += n;
        c->src_left -= n;
        mos.counts.get_bytes += (unsigned long)n;
        if (c->src_left == 0) mos.gets_done++;
    }
    mos.carry += n;                                     /* the same 1 MB/s link */
    mos_elapse((int)(mos.carry / 1024));
    mos.carry %= 1024;
    return (long)n;
}
/* Closes a connection; a body cut short is dropped. */
static void mos_close(void *conn, void *user) {
    mos_conn *c = mos_conn_of(conn);
    (void)user;
    if (!c) return;
    mos_blob_free(c->blob);
    c->blob = -1;
    c->src_len = c->src_left = 0;
    c->open = 0;
    mos.counts.closes++;
}

/* ==== the interface's functions ========================================================= */
/* Forgets every upload, part, object, connection and count, brings the link up, and
   takes the key id and clock of config (copied; NULL: none). */
static inline void mini_oss_reset(const mini_oss_config *config) {
    memset(&mos, 0, sizeof mos);
    if (config) mos.config = *config;
}

/* The transport hooks that reach the server, for ossr_options.transport. */
static inline ossr_transport mini_oss_transport(void) {
    ossr_transport t;
    memset(&t, 0, sizeof t);   /* members a later version adds stay NULL */
    t.connect = mos_connect;
    t.send = mos_send;
    t.recv = mos_recv;
    t.close = mos_close;
    t.user = NULL;
    return t;
}

/* Arms a cut: once parts more parts are stored, the link drops half-way through the body
   of the next part sent, and every connect, send and receive fails until
   mini_oss_link_up(). */
static inline void mini_oss_cut_after(unsigned long parts) {
    mos.cut_armed = 1;
    mos.cut_at = mos.counts.parts_stored + parts;
}

/* Arms a cut of a download: once gets more GET bodies are sent in full, the link drops
   half-way through the body of the next GET, and every connect, send and receive fails
   until mini_oss_link_up(). */
static inline void mini_oss_cut_get_after(unsigned long gets) {
    mos.get_cut_armed = 1;
    mos.get_cut_at = mos.gets_done + gets;
}

/* The link is back, and no cut is pending. */
static inline void mini_oss_link_up(void) {
    mos.link_down = 0;
    mos.cut_armed = mos.get_cut_armed = 0;
}

/* What the server has served since the last reset. */
static inline const mini_oss_counts *mini_oss_count(void) { return &mos.counts; }

/* The last object written; exists is 0 when there is none. */
static inline const mini_oss_object *mini_oss_last_object(void) {
    mos.obj.data = mos_object_data;
    return &mos.obj;
}

/* Checks that the last object written is key and holds the size bytes at data, by bytes
   and by CRC-64. Returns NULL, or what is wrong. */
static inline const char *mini_oss_check_object(const char *key, const void *data, size_t size) {
    if (!mos.obj.exists || strcmp(mos.obj.key, key) != 0) return "the server has no such object";
    if (mos.obj.size != size || memcmp(mos_object_data, data, size) != 0)
        return "the object on the server differs from the source";
    if (mos.obj.crc != ossr_crc64(0, data, size)) return "the object's CRC-64 differs from the source's";
    return NULL;
}

/* Checks a checkpoint record of len bytes, decoded with the library's codec: it names an
   upload the server holds, and each part slot sits at its part's place with the ETag the
   server gave that part (a torn slot, which does not decode, is passed over). Stores the
   number of good slots in *slots. Returns NULL, or what is wrong. */
static inline const char *mini_oss_check_checkpoint(const unsigned char *record, size_t len, unsigned *slots) {
    const mos_upload *u = NULL;
    ossr_checkpoint ck;
    size_t off;
    unsigned i;
    *slots = 0;
    if (ossr_checkpoint_decode(record, len, &ck) <= 0) return "the checkpoint does not decode";
    for (i = 0; i < MOS_UPLOADS; i++)
        if (mos.up[i].used && strlen(mos.up[i].id) == ck.upload_id.len &&
            memcmp(mos.up[i].id, ck.upload_id.ptr, ck.upload_id.len) == 0)
            u = &mos.up[i];
    if (!u) return "the checkpoint names an upload the server does not have";
    for (i = 0, off = (size_t)ck.slots_offset; off + OSSR_CKPT_SLOT <= len; i++, off += OSSR_CKPT_SLOT) {
        ossr_checkpoint_part p;
        if (!ossr_checkpoint_decode_part(record + off, &p) || p.number == OSSR_CKPT_COMPLETING) continue;
        if (p.number != i + 1) return "a part slot is not at its part's place";
        if (p.number > MOS_PARTS || !u->part[p.number] ||
            strcmp(mos.blob[u->part[p.number] - 1].etag, p.etag) != 0)
            return "a part slot holds an ETag the server did not give that part";
        ++*slots;
    }
    return NULL;
}

/* A power cut in the middle of a slot write, on a checkpoint record of len bytes held in
   RAM: the slot of part number keeps its first 40 bytes, the rest reads as erased flash.
   Returns 0, or -1 when the record does not decode or has no such slot. */
static inline int mini_oss_tear_slot(unsigned char *record, size_t len, uint32_t number) {
    ossr_checkpoint ck;
    size_t off;
    if (number == 0 || ossr_checkpoint_decode(record, len, &ck) <= 0) return -1;
    off = (size_t)ck.slots_offset + (number - 1) * OSSR_CKPT_SLOT;
    if (off + OSSR_CKPT_SLOT > len) return -1;
    memset(record + off + 40, 0xFF, OSSR_CKPT_SLOT - 40);
    return 0;
}

/* What every finished call must leave on the server's side: no connection open, no
   request refused, no transport call out of turn. Returns NULL, or what is wrong. */
static inline const char *mini_oss_idle(void) {
    if (mos.counts.connects != mos.counts.closes) return "a connection was left open";
    if (mos.counts.misuse) return "the transport was misused (see above)";
    if (mos.counts.errors > mos.expected_errors) return "the server refused a request (see above)";
    return NULL;
}
/* Allows n more refused requests in mini_oss_idle: ones the scenario caused on purpose. */
static inline void mini_oss_expect_refusals(unsigned long n) { mos.expected_errors += n; }

#endif
