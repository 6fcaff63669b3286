/* hooks.c - an upload that never touches a socket or a file system.

   Firmware has no BSD sockets, no files and often no malloc. oss_resumable.h reaches the
   world only through hooks (>>hooks in the header); this example supplies every one of
   them from RAM:

       transport    an OSS server in this file: HTTP/1.1 parsed from whatever pieces the
                    library sends, replies handed back through recv, parts kept in RAM
       file_io      the "file" is a RAM buffer with a deterministic pattern
       store        the checkpoint lives in a RAM "flash" of banks (A/B replacement)
       clock        one fake clock for wall time, ticks and sleep (sleep advances it)
       alloc, free  a static pool (with OSSR_NO_MALLOC: one workspace block instead)
       log          lines on stdout

   The scenario: the link drops after some parts, so the first ossr_upload() fails and
   leaves a checkpoint in the RAM flash, and a power cut then tears one of its part slots;
   the second call resumes from it and completes; the object the server assembled must
   equal the source, byte for byte and by CRC-64, the checkpoint must be gone and every
   pool block returned. Then a small file goes up in one PutObject. Any failure ends the
   program with a message and exit status 1.

   Hosted builds (make hooks builds these two, and the second with -DOSSR_NO_MALLOC):
       cc -std=c99 examples/hooks.c -o hooks -lbearssl -lpthread
       cc -std=c99 -DOSSR_NO_THREADS -DOSSR_NO_TLS -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO \
           examples/hooks.c -o hooks-min
   Bare metal (compiles and links; newlib-nano):
       arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os \
           --specs=nano.specs --specs=nosys.specs -DOSSR_NO_THREADS -DOSSR_NO_TLS \
           -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO examples/hooks.c -o hooks.elf
   Add -DOSSR_NO_MALLOC to give the library one block of ossr_workspace_size() bytes
   instead of an allocator. The library itself needs about 22 KiB of heap here (16 KiB of
   it the I/O buffer) and, on a Cortex-M4 at -Os, about 20 KiB of stack (README,
   Porting). The scenario's RAM is the demo's: the source, the server's parts and the
   assembled object, three times HOOKS_FILE_SIZE (about 10 MB as it is); a smaller
   HOOKS_FILE_SIZE must still make more than CUT_AFTER + 1 parts. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <stdio.h>
#include <string.h>

#ifndef HOOKS_FILE_SIZE
#  define HOOKS_FILE_SIZE (3u * 1024u * 1024u + 12345u)   /* 24 parts of 128 KiB and a short one */
#endif
#define SMALL_SIZE  40000u            /* the second file: below the threshold, one PutObject */
#define PART_SIZE   (128u * 1024u)    /* OSS's minimum is 100 KiB */
#define CUT_AFTER   9u                /* the link drops in the middle of the part after these */
#define TORN_PART   4u                /* and a power cut tears this part's checkpoint slot */
#define POOL_SIZE   (48u * 1024u)     /* the library's heap: checked against ossr_workspace_size() */
#define DOMAIN      "oss-cn-hangzhou.aliyuncs.com"
#define KEY_ID      "LTAI5tHooksExample"
#define KEY_SECRET  "not-a-real-secret"
#define EPOCH       1735689600        /* the fake clock starts at 2025-01-01 00:00:00 UTC */
#if HOOKS_FILE_SIZE <= (CUT_AFTER + 1u) * PART_SIZE
#  error "HOOKS_FILE_SIZE must make more than CUT_AFTER + 1 parts"
#endif

/* ==== text without printf's 64-bit conversions (newlib-nano has no %llu) =============== */
typedef struct text { char *p; size_t cap, len; int over; } text;
static void text_init(text *t, char *p, size_t cap) { t->p = p; t->cap = cap; t->len = 0; t->over = 0; p[0] = 0; }
static void put_n(text *t, const char *s, size_t n) {
    if (t->over || t->len + n >= t->cap) { t->over = 1; return; }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}
static void put(text *t, const char *s) { put_n(t, s, strlen(s)); }
static void put_u64(text *t, uint64_t v) {
    char d[20];
    size_t i = sizeof d;
    do d[--i] = (char)('0' + v % 10); while ((v /= 10) != 0);
    put_n(t, d + i, sizeof d - i);
}
static void put_hex(text *t, uint64_t v, int digits) {
    char d[16];
    int i;
    for (i = digits - 1; i >= 0; i--, v >>= 4) d[i] = "0123456789ABCDEF"[v & 15];
    put_n(t, d, (size_t)digits);
}
static void put_2(text *t, int v) {
    char d[2];
    d[0] = (char)('0' + v / 10 % 10);
    d[1] = (char)('0' + v % 10);
    put_n(t, d, 2);
}
static void put_xml(text *t, const char *s) {        /* XML character data */
    for (; *s; s++) {
        if (*s == '&') put(t, "&amp;");
        else if (*s == '<') put(t, "&lt;");
        else if (*s == '>') put(t, "&gt;");
        else put_n(t, s, 1);
    }
}
static void put_tag(text *t, const char *tag, const char *value) {
    put(t, "<"); put(t, tag); put(t, ">"); put_xml(t, value); put(t, "</"); put(t, tag); put(t, ">");
}
static void put_tag_u64(text *t, const char *tag, uint64_t v) {
    put(t, "<"); put(t, tag); put(t, ">"); put_u64(t, v); put(t, "</"); put(t, tag); put(t, ">");
}
static const char *hex64(uint64_t v, char out[17]) {
    text t;
    text_init(&t, out, 17);
    put_hex(&t, v, 16);
    return out;
}

/* ==== clock: wall time, ticks and sleep from one counter ============================== */
/* Sleeping advances it; so does traffic (a 1 MB/s link) and a recv that times out. */
static struct { int64_t ms; uint64_t carry; } fake_clock;
static int64_t clock_unix(void *user) { (void)user; return EPOCH + fake_clock.ms / 1000; }
static int64_t clock_ticks(void *user) { (void)user; return fake_clock.ms; }
static void clock_sleep(int ms, void *user) { (void)user; if (ms > 0) fake_clock.ms += ms; }
static void clock_traffic(size_t bytes) {
    fake_clock.carry += bytes;
    fake_clock.ms += (int64_t)(fake_clock.carry / 1024);
    fake_clock.carry %= 1024;
}
/* Calendar fields of a Unix time (400-year eras of 146,097 days, years starting in March):
   f = year, month, day, hour, minute, second, weekday (0 = Sunday). */
static void civil(int64_t t, int f[7]) {
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
static void put_http_date(text *t, int64_t u) {       /* Wed, 01 Jan 2025 00:00:00 GMT */
    static const char wd[] = "SunMonTueWedThuFriSat", mo[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int f[7];
    civil(u, f);
    put_n(t, wd + 3 * f[6], 3); put(t, ", "); put_2(t, f[2]); put(t, " ");
    put_n(t, mo + 3 * (f[1] - 1), 3); put(t, " "); put_u64(t, (uint64_t)f[0]); put(t, " ");
    put_2(t, f[3]); put(t, ":"); put_2(t, f[4]); put(t, ":"); put_2(t, f[5]); put(t, " GMT");
}
static void put_iso_date(text *t, int64_t u) {        /* 2025-01-01T00:00:00.000Z */
    int f[7];
    civil(u, f);
    put_u64(t, (uint64_t)f[0]); put(t, "-"); put_2(t, f[1]); put(t, "-"); put_2(t, f[2]);
    put(t, "T"); put_2(t, f[3]); put(t, ":"); put_2(t, f[4]); put(t, ":"); put_2(t, f[5]); put(t, ".000Z");
}

/* ==== allocator: a static pool ======================================================== */
/* A bump pointer over a static block; a freed block at the top moves it back, and it
   starts over when nothing is held. free() receives the size, which is checked against
   the size the block was taken with. */
#define POOL_BLOCKS 16
static union { long double ld; uint64_t u; void *p; unsigned char b[POOL_SIZE]; } pool_mem;
static struct {
    size_t top, held, peak;          /* held and peak: bytes asked for, as the library counts */
    unsigned char *blk[POOL_BLOCKS];
    size_t size[POOL_BLOCKS];
    unsigned n, allocs, frees, errors;
} pool;
#ifndef OSSR_NO_MALLOC
static void *pool_alloc(size_t size, void *user) {
    size_t need = (size + 15) & ~(size_t)15;
    (void)user;
    if (pool.n == POOL_BLOCKS || need < size || need > POOL_SIZE - pool.top) return NULL;
    pool.blk[pool.n] = pool_mem.b + pool.top;
    pool.size[pool.n++] = size;
    pool.top += need;
    pool.held += size;
    if (pool.held > pool.peak) pool.peak = pool.held;
    pool.allocs++;
    return pool.blk[pool.n - 1];
}
static void pool_free(void *ptr, size_t size, void *user) {
    unsigned i;
    (void)user;
    for (i = 0; i < pool.n && pool.blk[i] != (unsigned char *)ptr; i++) {}
    if (i == pool.n || pool.size[i] != size) {
        printf("hooks: free(%p, %lu) does not match a block the pool gave out\n", ptr, (unsigned long)size);
        pool.errors++;
        return;
    }
    if ((size_t)(pool.blk[i] - pool_mem.b) + ((size + 15) & ~(size_t)15) == pool.top)
        pool.top = (size_t)(pool.blk[i] - pool_mem.b);
    pool.held -= size;
    pool.frees++;
    pool.blk[i] = pool.blk[pool.n - 1];
    pool.size[i] = pool.size[pool.n - 1];
    if (--pool.n == 0) pool.top = 0;
}
#endif

/* ==== file source: RAM ================================================================= */
static unsigned char source[HOOKS_FILE_SIZE];
/* generation: bumped whenever the device rewrites the buffer */
typedef struct ram_file { const char *path; size_t size; uint32_t generation; } ram_file;
static ram_file ram_files[2] = { { "ram:firmware.img", HOOKS_FILE_SIZE, 1 }, { "ram:config.bin", SMALL_SIZE, 1 } };
static struct { unsigned opens, closes, reads; } file_stats;

static int file_open(const char *path, void **file, void *user) {
    size_t i;
    (void)user;
    for (i = 0; i < sizeof ram_files / sizeof ram_files[0]; i++)
        if (strcmp(path, ram_files[i].path) == 0) {
            *file = &ram_files[i];
            file_stats.opens++;
            return 0;
        }
    return 1;
}
/* RAM has no modification time, but the generation is an exact change stamp: the
   library only compares it (a resumed upload of a rewritten buffer starts over). A source
   with no stamp at all returns 0 and 0 and sets opts.resume_by_content, which compares
   the first and last MiB only. */
static int file_identity(void *file, uint64_t *size, int64_t *mtime_sec, uint32_t *mtime_nsec, void *user) {
    (void)user;
    *size = ((ram_file *)file)->size;
    *mtime_sec = ((ram_file *)file)->generation;
    *mtime_nsec = 0;
    return 0;
}
static int file_read_at(void *file, void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    if (off > ((ram_file *)file)->size || len > ((ram_file *)file)->size - off) return 1;
    memcpy(buf, source + off, len);
    file_stats.reads++;
    return 0;
}
static void file_close(void *file, void *user) { (void)file; (void)user; file_stats.closes++; }

/* ==== checkpoint store: a RAM "flash" ================================================== */
/* Banks of flash. A record lives in one bank; OSSR_STORE_NEW writes the new bytes into a
   free bank and then commits it with one small write (state and sequence number) that
   also retires the old bank, so a power cut leaves the old record or the new one, never a
   mix. Part slots are written in place, part N at header + (N-1) x 88, and a slot is
   written again when its part is sent again: RAM takes that as it comes (a NOR flash port
   would copy the bank to rewrite a slot). A gap reads as zeros. "unsynced" counts the
   writes since the last OSSR_STORE_SYNC (a real port would flush its write buffer there). */
#define FLASH_BANKS 3
#define FLASH_BANK_SIZE (OSSR_CKPT_HEAD_MAX + 96u * OSSR_CKPT_SLOT)
typedef struct flash_bank {
    int live;
    uint32_t seq;
    char name[48];
    size_t len;
    unsigned unsynced;
    unsigned char data[FLASH_BANK_SIZE];
} flash_bank;
static struct {
    flash_bank bank[FLASH_BANKS];
    uint32_t seq;
    unsigned writes, rewrites, syncs, removes, faults;
    uint64_t bytes;
} flash;

static int store_name_ok(const char *name) {
    size_t i;
    for (i = 0; i < 40; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f') ||
              (name[i] >= 'A' && name[i] <= 'F')))
            return 0;
    return strcmp(name + 40, ".ossr") == 0;
}
static void store_fault(const char *what, const char *name) {
    printf("hooks: checkpoint store: %s (record %s)\n", what, name);
    flash.faults++;
}
static flash_bank *flash_find(const char *name) {
    int i;
    for (i = 0; i < FLASH_BANKS; i++)
        if (flash.bank[i].live && strcmp(flash.bank[i].name, name) == 0) return &flash.bank[i];
    return NULL;
}
static long store_load(const char *name, uint64_t off, void *buf, size_t cap, void *user) {
    flash_bank *b = flash_find(name);
    size_t n;
    (void)user;
    if (!store_name_ok(name)) store_fault("load of a name that is not 40 hex digits and .ossr", name);
    if (!b || off >= b->len) return 0;
    n = b->len - (size_t)off < cap ? b->len - (size_t)off : cap;
    memcpy(buf, b->data + off, n);
    return (long)n;
}
static int store_save(const char *name, uint64_t off, const void *data, size_t len, unsigned flags, void *user) {
    flash_bank *b = flash_find(name);
    (void)user;
    if (!store_name_ok(name) || strlen(name) >= sizeof b->name) {
        store_fault("save to a name that is not 40 hex digits and .ossr", name);
        return 1;
    }
    if (flags & OSSR_STORE_NEW) {
        flash_bank *fresh = NULL;
        int i;
        if (off != 0) { store_fault("OSSR_STORE_NEW at an offset other than 0", name); return 1; }
        for (i = 0; i < FLASH_BANKS && !fresh; i++)
            if (!flash.bank[i].live) fresh = &flash.bank[i];
        if (!fresh || len > FLASH_BANK_SIZE) return 1;           /* flash full: the upload says so */
        if (len) memcpy(fresh->data, data, len);
        memcpy(fresh->name, name, strlen(name) + 1);
        fresh->len = len;
        fresh->unsynced = (flags & OSSR_STORE_SYNC) ? 0 : 1;
        fresh->seq = ++flash.seq;
        fresh->live = 1;                                          /* the commit */
        if (b) b->live = 0;
    } else if (len > 0) {
        if (!b) { store_fault("a slot written to a record that does not exist", name); return 1; }
        if (off > FLASH_BANK_SIZE || len > FLASH_BANK_SIZE - off) return 1;   /* full: the part fails */
        if (off > b->len) memset(b->data + b->len, 0, (size_t)off - b->len);
        if (off < b->len) flash.rewrites++;
        memcpy(b->data + off, data, len);
        if (off + len > b->len) b->len = (size_t)off + len;
        b->unsynced = (flags & OSSR_STORE_SYNC) ? 0 : b->unsynced + 1;
    } else if (b && (flags & OSSR_STORE_SYNC)) {
        b->unsynced = 0;
    }
    if (len > 0) { flash.writes++; flash.bytes += len; }
    if (flags & OSSR_STORE_SYNC) flash.syncs++;
    return 0;
}
static void store_remove(const char *name, void *user) {
    flash_bank *b = flash_find(name);
    (void)user;
    if (b) { b->live = 0; flash.removes++; }
}
/* The claim on a record, in RAM: a reset of the board clears it, as a lock must not
   outlive the upload that holds it. */
static char store_claim[48];
static int store_lock(const char *name, int take, void *user) {
    (void)user;
    if (!take) {
        if (strcmp(store_claim, name) != 0) store_fault("a lock released that was not held", name);
        store_claim[0] = 0;
        return 0;
    }
    if (store_claim[0]) return 1;   /* one upload at a time on this device */
    if (strlen(name) >= sizeof store_claim) return 1;
    memcpy(store_claim, name, strlen(name) + 1);
    return 0;
}
static int flash_records(void) {
    int i, n = 0;
    for (i = 0; i < FLASH_BANKS; i++) n += flash.bank[i].live;
    return n;
}

/* ==== the OSS server =================================================================== */
/* A compact OSS for the calls of an upload: InitiateMultipartUpload, UploadPart,
   ListParts (paged by max-parts and part-number-marker), CompleteMultipartUpload,
   AbortMultipartUpload, PutObject and HeadObject. It parses HTTP/1.1 from whatever pieces
   send() hands it, answers with OSS's status lines, headers and XML (errors too), and
   keeps parts and the finished object in static RAM. Each part's CRC-64 comes from the
   library's ossr_crc64(), the object's from ossr_crc64_combine() over the parts (checked
   against a CRC of the assembled bytes).
   It checks framing, addressing (virtual-hosted or path style under DOMAIN), parameters
   and the Complete list, and that Authorization names the demo key id; it does not verify
   signatures (tests/ check the signer against the SDKs' test vectors). Malformed
   requests get 400 and an OSS error document. It serves one request at a time per
   connection and is not thread-safe: the upload runs one worker. */
#define SRV_CONNS     4
#define SRV_UPLOADS   4
#define SRV_PARTS     64                /* part numbers 1..64 (OSS: 10,000) */
#define SRV_BLOBS     (SRV_UPLOADS * 16 + SRV_CONNS)
#define SRV_ARENA     (HOOKS_FILE_SIZE + 2u * PART_SIZE)
#define SRV_HEAD_MAX  8192u
#define SRV_XML_MAX   8192u
#define SRV_REPLY_MAX 4096u
#define SRV_PAGE      4                 /* parts per ListParts page at most: fewer than max-parts
                                           asks for is allowed, and the client's paging runs */

enum { OP_NONE, OP_INITIATE, OP_PART, OP_LIST, OP_COMPLETE, OP_ABORT, OP_PUT, OP_HEAD };
enum { BLOB_FREE, BLOB_RECEIVING, BLOB_STORED };

typedef struct srv_blob {             /* bytes in the arena: a part, or a PutObject body */
    int state;
    size_t off, len, got;
    uint64_t crc;
    int64_t mtime;
    char etag[40];
} srv_blob;
typedef struct srv_upload {
    int used;
    char bucket[64], key[1024], id[40];
    int part[SRV_PARTS + 1];          /* blob index + 1 of part n; 0: none */
} srv_upload;
typedef struct srv_req {
    char method[8], host[256], bucket[64], key[1024], upload_id[64];
    char part_arg[16], max_arg[16], marker_arg[16];
    int has_uploads, has_upload_id, has_part, has_max, has_marker, has_length, auth, close;
    uint64_t length;
    int op;
    int err_status;                   /* an error found in the head, replied after the body */
    const char *err_code, *err_msg;
} srv_req;
typedef struct srv_conn {
    int open, closing;                /* closing: the server hung up after its reply */
    int in_body;
    uint64_t body_left;
    int blob;                         /* where the body goes: a blob, the xml buffer, nowhere */
    int to_xml;
    size_t head_len, xml_len, reply_len, reply_pos;
    unsigned recvs;
    srv_req rq;
    char head[SRV_HEAD_MAX], xml[SRV_XML_MAX], reply[SRV_REPLY_MAX];
} srv_conn;

static struct {
    srv_conn conn[SRV_CONNS];
    srv_upload up[SRV_UPLOADS];
    srv_blob blob[SRV_BLOBS];
    size_t top;
    unsigned char arena[SRV_ARENA];
    struct { int exists, multipart; char bucket[64], key[1024], etag[48]; size_t size; uint64_t crc;
             unsigned char data[HOOKS_FILE_SIZE]; } obj;
    unsigned long requests, uploads_made, parts_stored, sends, connects, closes, completes, puts;
    unsigned long lists, list_pages_truncated, errors, misuse;
    char scratch[SRV_REPLY_MAX - 512];         /* reply bodies are built here */
    char target[2048], path[1100];             /* the request target, raw and decoded */
    int net_down, cut_armed;          /* the scenario's link */
} srv;

static int64_t srv_now(void) { return clock_unix(NULL); }

/* -- the arena: blobs placed one after the other, compacted when the top is reached -- */
static void srv_compact(void) {
    int order[SRV_BLOBS], n = 0, i, j;
    size_t to = 0;
    for (i = 0; i < SRV_BLOBS; i++) {
        if (srv.blob[i].state == BLOB_FREE) continue;
        for (j = n; j > 0 && srv.blob[order[j - 1]].off > srv.blob[i].off; j--) order[j] = order[j - 1];
        order[j] = i;
        n++;
    }
    for (i = 0; i < n; i++) {
        srv_blob *b = &srv.blob[order[i]];
        memmove(srv.arena + to, srv.arena + b->off, b->len);
        b->off = to;
        to += b->len;
    }
    srv.top = to;
}
static int srv_blob_new(uint64_t len) {
    int i;
    if (len > SRV_ARENA) return -1;
    for (i = 0; i < SRV_BLOBS && srv.blob[i].state != BLOB_FREE; i++) {}
    if (i == SRV_BLOBS) return -1;
    if (SRV_ARENA - srv.top < len) srv_compact();
    if (SRV_ARENA - srv.top < len) return -1;
    memset(&srv.blob[i], 0, sizeof srv.blob[i]);
    srv.blob[i].state = BLOB_RECEIVING;
    srv.blob[i].off = srv.top;
    srv.blob[i].len = (size_t)len;
    srv.top += (size_t)len;
    return i;
}
static void srv_blob_free(int i) {
    if (i < 0 || srv.blob[i].state == BLOB_FREE) return;
    srv.blob[i].state = BLOB_FREE;
    if (srv.blob[i].off + srv.blob[i].len == srv.top) srv.top = srv.blob[i].off;
}
static void srv_upload_free(srv_upload *u) {
    int n;
    for (n = 1; n <= SRV_PARTS; n++) srv_blob_free(u->part[n] - 1);
    memset(u, 0, sizeof *u);
}

/* -- replies -- */
static const char *srv_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 501: return "Not Implemented";
    default: return "Internal Server Error";
    }
}
/* Status line, the usual OSS headers, extra (whole header lines), and the body (none for
   HEAD, whose Content-Length is length). */
static void srv_respond(srv_conn *c, int status, const char *extra, const char *body, size_t body_len,
                        uint64_t length) {
    text t;
    text_init(&t, c->reply, sizeof c->reply);
    put(&t, "HTTP/1.1 "); put_u64(&t, (uint64_t)status); put(&t, " "); put(&t, srv_reason(status));
    put(&t, "\r\nServer: AliyunOSS\r\nDate: "); put_http_date(&t, srv_now());
    put(&t, "\r\nContent-Length: "); put_u64(&t, length);
    put(&t, "\r\nConnection: "); put(&t, c->closing ? "close" : "keep-alive");
    put(&t, "\r\nx-oss-request-id: "); put_hex(&t, 0x67A1B2C3u, 8); put_hex(&t, srv.requests, 16);
    put(&t, "\r\n"); put(&t, extra); put(&t, "\r\n");
    if (strcmp(c->rq.method, "HEAD") != 0) put_n(&t, body, body_len);
    if (t.over) {   /* cannot happen with these sizes; say so rather than send half */
        text_init(&t, c->reply, sizeof c->reply);
        put(&t, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        c->closing = 1;
    }
    c->reply_len = t.len;
    c->reply_pos = 0;
}
static void srv_error(srv_conn *c, int status, const char *code, const char *message) {
    char hdr[64];
    text t, h;
    text_init(&t, srv.scratch, sizeof srv.scratch);
    put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    put_tag(&t, "Code", code);
    put_tag(&t, "Message", message);
    put(&t, "<RequestId>"); put_hex(&t, 0x67A1B2C3u, 8); put_hex(&t, srv.requests, 16); put(&t, "</RequestId>");
    put_tag(&t, "HostId", c->rq.host);
    put(&t, "</Error>\n");
    text_init(&h, hdr, sizeof hdr);
    put(&h, "Content-Type: application/xml\r\n");
    srv.errors++;
    printf("hooks: server: %s %s refused: %d %s\n", c->rq.method, c->rq.key, status, code);
    srv_respond(c, status, hdr, t.p, t.len, strcmp(c->rq.method, "HEAD") ? t.len : 0);
}
/* A request too broken to frame: reply now and hang up (later sends fail, as on TCP). */
static void srv_reject(srv_conn *c, const char *message) {
    c->closing = 1;
    c->in_body = 0;
    srv_blob_free(c->blob);
    c->blob = -1;
    srv_error(c, 400, "InvalidArgument", message);
}
static void srv_xml_reply(srv_conn *c, const char *extra, const text *body) {
    char hdr[256];
    text h;
    text_init(&h, hdr, sizeof hdr);
    put(&h, "Content-Type: application/xml\r\n");
    put(&h, extra);
    if (body->over || h.over) {
        srv_error(c, 500, "InternalError", "The reply does not fit the server's buffer.");
        return;
    }
    srv_respond(c, 200, hdr, body->p, body->len, body->len);
}

/* -- parsing the request head -- */
static int srv_token_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}
static int srv_hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}
/* Percent-decodes s[0..n) into out (NUL-terminated); 0, or -1 when malformed or too long. */
static int srv_decode(const char *s, size_t n, char *out, size_t cap) {
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        int ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi, lo;
            if (i + 2 >= n) return -1;
            hi = srv_hexval(s[i + 1]);
            lo = srv_hexval(s[i + 2]);
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
static int srv_digits(const char *s, size_t n, uint64_t max, uint64_t *v) {
    size_t i;
    *v = 0;
    if (n == 0 || n > 15) return -1;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return *v <= max ? 0 : -1;
}
static int srv_ieq(const char *s, size_t n, const char *lit) {
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
/* Authorization must name our key id: "OSS KEY:signature" (V1) or
   "OSS4-HMAC-SHA256 Credential=KEY/date/region/oss/aliyun_v4_request,..." (V4). */
static int srv_auth_ok(const char *v, size_t n) {
    size_t k = strlen(KEY_ID);
    if (n > 4 + k && memcmp(v, "OSS ", 4) == 0) return memcmp(v + 4, KEY_ID, k) == 0 && v[4 + k] == ':';
    if (n > 28 + k && memcmp(v, "OSS4-HMAC-SHA256 Credential=", 28) == 0)
        return memcmp(v + 28, KEY_ID, k) == 0 && v[28 + k] == '/';
    return 0;
}
static int srv_bucket_ok(const char *b) {
    size_t n = strlen(b), i;
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-') return 0;
    for (i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-')) return 0;
    return 1;
}
static void srv_later(srv_req *q, int status, const char *code, const char *message) {
    if (q->err_status) return;              /* the first problem found is the one reported */
    q->err_status = status;
    q->err_code = code;
    q->err_msg = message;
}
static int srv_query(srv_req *q, const char *s, size_t n) {
    while (n > 0) {
        const char *amp = (const char *)memchr(s, '&', n), *eq;
        size_t len = amp ? (size_t)(amp - s) : n, nlen;
        char name[32], *arg = NULL;
        size_t cap = 0;
        eq = (const char *)memchr(s, '=', len);
        nlen = eq ? (size_t)(eq - s) : len;
        if (srv_decode(s, nlen, name, sizeof name) != 0) name[0] = 0;   /* unknown: ignored */
        if (!strcmp(name, "uploads")) q->has_uploads = 1;
        else if (!strcmp(name, "uploadId")) { q->has_upload_id = 1; arg = q->upload_id; cap = sizeof q->upload_id; }
        else if (!strcmp(name, "partNumber")) { q->has_part = 1; arg = q->part_arg; cap = sizeof q->part_arg; }
        else if (!strcmp(name, "max-parts")) { q->has_max = 1; arg = q->max_arg; cap = sizeof q->max_arg; }
        else if (!strcmp(name, "part-number-marker")) {
            q->has_marker = 1; arg = q->marker_arg; cap = sizeof q->marker_arg;
        }
        if (arg && eq && srv_decode(eq + 1, len - nlen - 1, arg, cap) != 0) return -1;
        if (!amp) break;
        n -= len + 1;
        s = amp + 1;
    }
    return 0;
}
static srv_upload *srv_find_upload(const srv_req *q) {
    int i;
    for (i = 0; i < SRV_UPLOADS; i++)
        if (srv.up[i].used && !strcmp(srv.up[i].id, q->upload_id) && !strcmp(srv.up[i].bucket, q->bucket) &&
            !strcmp(srv.up[i].key, q->key))
            return &srv.up[i];
    return NULL;
}

/* The head is complete (it ends with an empty line): parse it, decide where the body goes.
   Returns 0, or -1 when the request was rejected and the connection is closing. */
static int srv_head(srv_conn *c) {
    srv_req *q = &c->rq;
    const char *p = c->head, *end = c->head + c->head_len - 2, *eol, *sp1, *sp2, *qm;
    int saw_host = 0, saw_length = 0, chunked = 0;
    char *target = srv.target, *path = srv.path;
    size_t n;
    memset(q, 0, sizeof *q);
    c->blob = -1;
    c->to_xml = 0;
    c->xml_len = 0;
    srv.requests++;
    /* request line: METHOD SP /target SP HTTP/1.1 */
    eol = p;
    while (eol + 1 < end + 2 && !(eol[0] == '\r' && eol[1] == '\n')) eol++;
    sp1 = (const char *)memchr(p, ' ', (size_t)(eol - p));
    sp2 = sp1 ? (const char *)memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == p || (size_t)(sp1 - p) >= sizeof q->method || sp1[1] != '/' ||
        (size_t)(sp2 - sp1 - 1) >= sizeof srv.target || (size_t)(eol - sp2 - 1) != 8 ||
        memcmp(sp2 + 1, "HTTP/1.1", 8) != 0) {
        srv_reject(c, "The request line is not METHOD /target HTTP/1.1.");
        return -1;
    }
    for (n = 0; p + n < sp1; n++)
        if (p[n] < 'A' || p[n] > 'Z') { srv_reject(c, "The request method is malformed."); return -1; }
    memcpy(q->method, p, (size_t)(sp1 - p));
    memcpy(target, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    target[sp2 - sp1 - 1] = 0;
    /* header fields */
    for (p = eol + 2; p < end; p = eol + 2) {
        const char *colon, *v, *ve;
        eol = p;
        while (!(eol[0] == '\r' && eol[1] == '\n')) eol++;
        colon = (const char *)memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p) { srv_reject(c, "A header line has no field name."); return -1; }
        for (v = p; v < colon; v++)
            if (!srv_token_char(*v)) { srv_reject(c, "A header field name is malformed."); return -1; }
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {}
        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
        for (n = 0; v + n < ve; n++)
            if ((unsigned char)v[n] < 0x20 && v[n] != '\t') {
                srv_reject(c, "A header value holds a control character.");
                return -1;
            }
        n = (size_t)(ve - v);
        if (srv_ieq(p, (size_t)(colon - p), "Host")) {
            if (saw_host++ || n == 0 || n >= sizeof q->host) {
                srv_reject(c, "The Host header is missing, repeated or too long.");
                return -1;
            }
            memcpy(q->host, v, n);
            q->host[n] = 0;
        } else if (srv_ieq(p, (size_t)(colon - p), "Content-Length")) {
            uint64_t len;
            if (srv_digits(v, n, (uint64_t)1 << 40, &len) != 0 || (saw_length++ && len != q->length)) {
                srv_reject(c, "The Content-Length header is malformed or repeated with another value.");
                return -1;
            }
            q->length = len;
            q->has_length = 1;
        } else if (srv_ieq(p, (size_t)(colon - p), "Transfer-Encoding")) {
            chunked = 1;
        } else if (srv_ieq(p, (size_t)(colon - p), "Authorization")) {
            q->auth = srv_auth_ok(v, n);
        } else if (srv_ieq(p, (size_t)(colon - p), "Connection")) {
            q->close = srv_ieq(v, n, "close");
        }
    }
    if (!saw_host) { srv_reject(c, "An HTTP/1.1 request needs a Host header."); return -1; }
    if (chunked) { srv_reject(c, "This server takes request bodies with a Content-Length only."); return -1; }
    /* addressing: BUCKET.DOMAIN/KEY, or DOMAIN/BUCKET/KEY */
    {
        char host[256];
        const char *colon = strchr(q->host, ':'), *k;
        size_t hl = colon ? (size_t)(colon - q->host) : strlen(q->host), dl = strlen(DOMAIN);
        memcpy(host, q->host, hl);
        host[hl] = 0;
        qm = strchr(target, '?');
        n = qm ? (size_t)(qm - target) : strlen(target);
        if (srv_decode(target, n, path, sizeof srv.path) != 0 ||
            (qm && srv_query(q, qm + 1, strlen(qm + 1)) != 0)) {
            srv_later(q, 400, "InvalidArgument",
                      "The request target is not valid percent-encoding, or a parameter is too long.");
            path[0] = '/';
            path[1] = 0;
        }
        k = path + 1;
        if (hl == dl && !strcmp(host, DOMAIN)) {                   /* path style */
            const char *slash = strchr(k, '/');
            size_t bl = slash ? (size_t)(slash - k) : strlen(k);
            if (bl >= sizeof q->bucket) bl = sizeof q->bucket - 1;
            memcpy(q->bucket, k, bl);
            k = slash ? slash + 1 : k + bl;
        } else if (hl > dl + 1 && !strcmp(host + hl - dl, DOMAIN) && host[hl - dl - 1] == '.' &&
                   hl - dl - 1 < sizeof q->bucket) {               /* virtual-hosted */
            memcpy(q->bucket, host, hl - dl - 1);
        } else {
            srv_later(q, 400, "InvalidArgument", "The Host header names no bucket of this endpoint.");
        }
        if (strlen(k) >= sizeof q->key) srv_later(q, 400, "InvalidObjectName", "The object key is too long.");
        else memcpy(q->key, k, strlen(k) + 1);
    }
    /* the operation, and what can be refused before the body arrives */
    if (!q->auth) srv_later(q, 403, "AccessDenied", "The Authorization header is missing or names another key id.");
    if (!srv_bucket_ok(q->bucket)) srv_later(q, 400, "InvalidBucketName", "The specified bucket is not valid.");
    if (!q->key[0] || q->key[0] == '/' || q->key[0] == '\\')
        srv_later(q, 400, "InvalidObjectName", "The specified object is not valid.");
    if (!strcmp(q->method, "PUT")) q->op = q->has_part || q->has_upload_id ? OP_PART : OP_PUT;
    else if (!strcmp(q->method, "GET") && q->has_upload_id) q->op = OP_LIST;
    else if (!strcmp(q->method, "HEAD")) q->op = OP_HEAD;
    else if (!strcmp(q->method, "DELETE") && q->has_upload_id) q->op = OP_ABORT;
    else if (!strcmp(q->method, "POST") && q->has_uploads) q->op = OP_INITIATE;
    else if (!strcmp(q->method, "POST") && q->has_upload_id) q->op = OP_COMPLETE;
    else if (strcmp(q->method, "GET") && strcmp(q->method, "DELETE") && strcmp(q->method, "POST"))
        srv_later(q, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    else
        srv_later(q, 501, "NotImplemented", "This server implements the calls of an upload only.");
    if ((q->op == OP_PART || q->op == OP_PUT || q->op == OP_COMPLETE) && !q->has_length)
        srv_later(q, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.");
    if (q->op == OP_PART) {
        uint64_t num;
        if (!q->has_upload_id || !q->has_part ||
            srv_digits(q->part_arg, strlen(q->part_arg), 10000, &num) != 0 || num == 0)
            srv_later(q, 400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.");
        else if (num > SRV_PARTS)
            srv_later(q, 400, "InvalidArgument", "This server keeps part numbers 1 to 64 only.");
        else if (!srv_find_upload(q))
            srv_later(q, 404, "NoSuchUpload", "The specified upload does not exist.");
    }
    if (!q->err_status && (q->op == OP_PART || q->op == OP_PUT) &&
        (c->blob = srv_blob_new(q->length)) < 0)
        srv_later(q, 400, "EntityTooLarge", "The body does not fit this server's RAM.");
    c->to_xml = !q->err_status && q->op == OP_COMPLETE;
    c->in_body = 1;
    c->body_left = q->length;
    return 0;
}

/* -- the calls -- */
static void srv_initiate(srv_conn *c) {
    srv_req *q = &c->rq;
    srv_upload *u = NULL;
    text t;
    int i;
    for (i = 0; i < SRV_UPLOADS && !u; i++)
        if (!srv.up[i].used) u = &srv.up[i];
    if (!u) { srv_error(c, 400, "InvalidArgument", "This server keeps four uploads at most."); return; }
    memset(u, 0, sizeof *u);
    u->used = 1;
    memcpy(u->bucket, q->bucket, sizeof u->bucket);
    memcpy(u->key, q->key, sizeof u->key);
    text_init(&t, u->id, sizeof u->id);
    srv.uploads_made++;
    put_hex(&t, ossr_crc64(0, q->key, strlen(q->key)), 16);
    put_hex(&t, srv.uploads_made * 0x9E3779B97F4A7C15ull, 16);
    text_init(&t, srv.scratch, sizeof srv.scratch);
    put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult>");
    put_tag(&t, "Bucket", q->bucket);
    put_tag(&t, "Key", q->key);
    put_tag(&t, "UploadId", u->id);
    put(&t, "</InitiateMultipartUploadResult>\n");
    srv_xml_reply(c, "", &t);
}
/* The two headers of a stored body. */
static void put_etag_crc(text *h, const char *etag, uint64_t crc) {
    put(h, "ETag: ");
    put(h, etag);
    put(h, "\r\nx-oss-hash-crc64ecma: ");
    put_u64(h, crc);
    put(h, "\r\n");
}
/* ETag of stored bytes: quoted hex of their CRC-64 and length (OSS gives the MD5). */
static void srv_etag(char *out, size_t cap, uint64_t crc, uint64_t len, const char *suffix) {
    text t;
    text_init(&t, out, cap);
    put(&t, "\"");
    put_hex(&t, crc, 16);
    put_hex(&t, (len + 1) * 0x9E3779B97F4A7C15ull ^ crc, 16);
    put(&t, suffix);
    put(&t, "\"");
}
static void srv_part(srv_conn *c) {
    srv_req *q = &c->rq;
    srv_upload *u = srv_find_upload(q);
    srv_blob *b = &srv.blob[c->blob];
    char hdr[160];
    text h;
    uint64_t num;
    srv_digits(q->part_arg, strlen(q->part_arg), SRV_PARTS, &num);   /* checked with the head */
    if (!u) {                                  /* aborted while the body came in */
        srv_blob_free(c->blob);
        c->blob = -1;
        srv_error(c, 404, "NoSuchUpload", "The specified upload does not exist.");
        return;
    }
    srv_blob_free(u->part[num] - 1);           /* a part sent again replaces the old one */
    b->state = BLOB_STORED;
    b->mtime = srv_now();
    srv_etag(b->etag, sizeof b->etag, b->crc, b->len, "");
    u->part[num] = c->blob + 1;
    c->blob = -1;
    srv.parts_stored++;
    text_init(&h, hdr, sizeof hdr);
    put_etag_crc(&h, b->etag, b->crc);
    srv_respond(c, 200, hdr, "", 0, 0);
}
static void srv_list(srv_conn *c) {
    srv_req *q = &c->rq;
    srv_upload *u = srv_find_upload(q);
    uint64_t max = 1000, marker = 0;
    text t;
    int n, shown = 0, last = 0, more = 0;
    if ((q->has_max && srv_digits(q->max_arg, strlen(q->max_arg), 1000, &max) != 0) || max == 0) {
        srv_error(c, 400, "InvalidArgument", "Argument max-parts is invalid.");
        return;
    }
    if (q->has_marker && srv_digits(q->marker_arg, strlen(q->marker_arg), 10000, &marker) != 0) {
        srv_error(c, 400, "InvalidArgument", "Argument part-number-marker is invalid.");
        return;
    }
    if (!u) { srv_error(c, 404, "NoSuchUpload", "The specified upload does not exist."); return; }
    text_init(&t, srv.scratch, sizeof srv.scratch);
    put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult>");
    put_tag(&t, "Bucket", q->bucket);
    put_tag(&t, "Key", q->key);
    put_tag(&t, "UploadId", u->id);
    put_tag(&t, "StorageClass", "Standard");
    put_tag_u64(&t, "PartNumberMarker", marker);
    for (n = (int)marker + 1; n <= SRV_PARTS; n++) {
        srv_blob *b;
        if (!u->part[n]) continue;
        if ((uint64_t)shown == max || shown == SRV_PAGE) { more = 1; break; }
        b = &srv.blob[u->part[n] - 1];
        put(&t, "<Part>");
        put_tag_u64(&t, "PartNumber", (uint64_t)n);
        put(&t, "<LastModified>"); put_iso_date(&t, b->mtime); put(&t, "</LastModified>");
        put_tag(&t, "ETag", b->etag);
        put_tag_u64(&t, "HashCrc64ecma", b->crc);
        put_tag_u64(&t, "Size", b->len);
        put(&t, "</Part>");
        shown++;
        last = n;
    }
    put_tag_u64(&t, "NextPartNumberMarker", shown ? (uint64_t)last : marker);
    put_tag_u64(&t, "MaxParts", max);
    put_tag(&t, "IsTruncated", more ? "true" : "false");
    put(&t, "</ListPartsResult>\n");
    srv.lists++;
    srv.list_pages_truncated += (unsigned long)more;
    srv_xml_reply(c, "", &t);
}
/* <CompleteMultipartUpload><Part><PartNumber>N</PartNumber><ETag>"..."</ETag></Part>...:
   ascending part numbers, each stored with that ETag, all but the last at least 100 KiB. */
static void srv_complete(srv_conn *c) {
    srv_req *q = &c->rq;
    srv_upload *u = srv_find_upload(q);
    int nums[SRV_PARTS], count = 0, i, x;
    size_t pos = 0, total = 0;
    ossr_slice root, part;
    uint64_t crc = 0;
    char hdr[200];
    text t, h;
    if (!u) { srv_error(c, 404, "NoSuchUpload", "The specified upload does not exist."); return; }
    if (c->xml_len == sizeof c->xml ||
        ossr_xml_next(c->xml, c->xml_len, "CompleteMultipartUpload", &pos, &root) != 1) {
        srv_error(c, 400, "MalformedXML", "The XML you provided was not well-formed.");
        return;
    }
    pos = 0;
    while ((x = ossr_xml_next(root.ptr, root.len, "Part", &pos, &part)) == 1) {
        char num[16], etag[64];
        uint64_t v;
        srv_blob *b;
        if (ossr_xml_text(part.ptr, part.len, "PartNumber", num, sizeof num) != 1 ||
            ossr_xml_text(part.ptr, part.len, "ETag", etag, sizeof etag) != 1 ||
            srv_digits(num, strlen(num), 10000, &v) != 0 || count == SRV_PARTS) {
            srv_error(c, 400, "MalformedXML", "The XML you provided was not well-formed.");
            return;
        }
        if (v == 0 || (count && (int)v <= nums[count - 1])) {
            srv_error(c, 400, "InvalidPartOrder", "The list of parts was not in ascending order.");
            return;
        }
        if (v > SRV_PARTS || !u->part[v] || strcmp(srv.blob[u->part[v] - 1].etag, etag) != 0) {
            srv_error(c, 400, "InvalidPart", "One or more of the specified parts could not be found or the "
                      "specified entity tag might not have matched the part's entity tag.");
            return;
        }
        b = &srv.blob[u->part[v] - 1];
        if (count && srv.blob[u->part[nums[count - 1]] - 1].len < 102400) {
            srv_error(c, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.");
            return;
        }
        nums[count++] = (int)v;
        total += b->len;
    }
    if (x < 0 || count == 0) {
        srv_error(c, 400, "MalformedXML", "The XML you provided was not well-formed.");
        return;
    }
    if (total > sizeof srv.obj.data) {
        srv_error(c, 400, "EntityTooLarge", "The object does not fit this server's RAM.");
        return;
    }
    total = 0;
    for (i = 0; i < count; i++) {
        srv_blob *b = &srv.blob[u->part[nums[i]] - 1];
        memcpy(srv.obj.data + total, srv.arena + b->off, b->len);
        crc = ossr_crc64_combine(crc, b->crc, b->len);
        total += b->len;
    }
    if (crc != ossr_crc64(0, srv.obj.data, total)) {
        srv_error(c, 500, "InternalError", "ossr_crc64_combine disagrees with the CRC-64 of the object.");
        return;
    }
    memcpy(srv.obj.bucket, q->bucket, sizeof srv.obj.bucket);
    memcpy(srv.obj.key, q->key, sizeof srv.obj.key);
    srv.obj.size = total;
    srv.obj.crc = crc;
    srv.obj.exists = 1;
    srv.obj.multipart = 1;
    text_init(&h, hdr, sizeof hdr);                    /* a multipart ETag ends in -COUNT */
    put(&h, "-");
    put_u64(&h, (uint64_t)count);
    srv_etag(srv.obj.etag, sizeof srv.obj.etag, crc, total, hdr);
    srv_upload_free(u);
    srv.completes++;
    text_init(&t, srv.scratch, sizeof srv.scratch);
    put(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>http://");
    put_xml(&t, q->bucket); put(&t, "."); put(&t, DOMAIN); put(&t, "/"); put_xml(&t, q->key);
    put(&t, "</Location>");
    put_tag(&t, "Bucket", q->bucket);
    put_tag(&t, "Key", q->key);
    put_tag(&t, "ETag", srv.obj.etag);
    put(&t, "</CompleteMultipartUploadResult>\n");
    text_init(&h, hdr, sizeof hdr);
    put_etag_crc(&h, srv.obj.etag, crc);
    srv_xml_reply(c, hdr, &t);
}
static void srv_abort(srv_conn *c) {
    srv_upload *u = srv_find_upload(&c->rq);
    if (!u) { srv_error(c, 404, "NoSuchUpload", "The specified upload does not exist."); return; }
    srv_upload_free(u);
    srv_respond(c, 204, "", "", 0, 0);
}
static void srv_put(srv_conn *c) {
    srv_blob *b = &srv.blob[c->blob];
    char hdr[160];
    text h;
    if (b->len > sizeof srv.obj.data) {
        srv_blob_free(c->blob);
        c->blob = -1;
        srv_error(c, 400, "EntityTooLarge", "The object does not fit this server's RAM.");
        return;
    }
    memcpy(srv.obj.data, srv.arena + b->off, b->len);
    memcpy(srv.obj.bucket, c->rq.bucket, sizeof srv.obj.bucket);
    memcpy(srv.obj.key, c->rq.key, sizeof srv.obj.key);
    srv.obj.size = b->len;
    srv.obj.crc = b->crc;
    srv.obj.exists = 1;
    srv.obj.multipart = 0;
    srv_etag(srv.obj.etag, sizeof srv.obj.etag, b->crc, b->len, "");
    srv_blob_free(c->blob);
    c->blob = -1;
    srv.puts++;
    text_init(&h, hdr, sizeof hdr);
    put_etag_crc(&h, srv.obj.etag, srv.obj.crc);
    srv_respond(c, 200, hdr, "", 0, 0);
}
static void srv_head_object(srv_conn *c) {
    char hdr[256];
    text h;
    if (!srv.obj.exists || strcmp(srv.obj.bucket, c->rq.bucket) || strcmp(srv.obj.key, c->rq.key)) {
        srv_error(c, 404, "NoSuchKey", "The specified key does not exist.");
        return;
    }
    text_init(&h, hdr, sizeof hdr);
    put(&h, "Content-Type: application/octet-stream\r\nETag: "); put(&h, srv.obj.etag);
    put(&h, "\r\nx-oss-hash-crc64ecma: "); put_u64(&h, srv.obj.crc);
    put(&h, "\r\nx-oss-object-type: "); put(&h, srv.obj.multipart ? "Multipart" : "Normal");
    put(&h, "\r\nx-oss-storage-class: Standard\r\n");
    srv_respond(c, 200, hdr, "", 0, srv.obj.size);
}
/* The body is in: answer, and make the connection ready for the next request. */
static void srv_finish(srv_conn *c) {
    srv_req *q = &c->rq;
    c->in_body = 0;
    c->head_len = 0;
    if (q->close) c->closing = 1;
    if (q->err_status) {
        srv_blob_free(c->blob);
        c->blob = -1;
        srv_error(c, q->err_status, q->err_code, q->err_msg);
        return;
    }
    switch (q->op) {
    case OP_INITIATE: srv_initiate(c); break;
    case OP_PART: srv_part(c); break;
    case OP_LIST: srv_list(c); break;
    case OP_COMPLETE: srv_complete(c); break;
    case OP_ABORT: srv_abort(c); break;
    case OP_PUT: srv_put(c); break;
    default: srv_head_object(c); break;
    }
}
/* Takes request bytes in any split; returns how many it took (fewer when a reply is
   waiting to be read: no pipelining). */
static size_t srv_feed(srv_conn *c, const unsigned char *p, size_t n) {
    size_t used = 0;
    while (used < n && !c->closing && c->reply_pos == c->reply_len) {
        if (!c->in_body) {
            if (c->head_len == sizeof c->head) {
                memset(&c->rq, 0, sizeof c->rq);
                srv_reject(c, "The request head is too large.");
                break;
            }
            c->head[c->head_len++] = (char)p[used++];
            if (c->head_len >= 4 && memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4) == 0 &&
                srv_head(c) == 0 && c->body_left == 0)
                srv_finish(c);
        } else {
            size_t take = (uint64_t)(n - used) < c->body_left ? n - used : (size_t)c->body_left;
            if (c->blob >= 0) {
                srv_blob *b = &srv.blob[c->blob];
                memcpy(srv.arena + b->off + b->got, p + used, take);
                b->crc = ossr_crc64(b->crc, p + used, take);
                b->got += take;
            } else if (c->to_xml) {
                size_t room = sizeof c->xml - c->xml_len, k = take < room ? take : room;
                memcpy(c->xml + c->xml_len, p + used, k);
                c->xml_len += k;            /* a full buffer means too long: MalformedXML */
            }
            used += take;
            c->body_left -= take;
            if (c->body_left == 0) srv_finish(c);
        }
    }
    return used;
}

/* ==== transport hooks over the server ================================================= */
static ossr_result net_connect(const char *host, uint16_t port, int timeout_ms, void **conn, void *user) {
    size_t n = strlen(host), d = strlen(DOMAIN);
    int i;
    (void)timeout_ms; (void)user;
    if (n < d || strcmp(host + n - d, DOMAIN) != 0 || (n > d && host[n - d - 1] != '.'))
        return OSSR_E_RESOLVE;                          /* the only name this "DNS" knows */
    if (srv.net_down || port != 80) return OSSR_E_CONNECT;
    for (i = 0; i < SRV_CONNS; i++)
        if (!srv.conn[i].open) {
            srv_conn *c = &srv.conn[i];
            c->open = 1;
            c->closing = c->in_body = c->to_xml = 0;
            c->head_len = c->xml_len = c->reply_len = c->reply_pos = 0;
            c->body_left = 0;
            c->blob = -1;
            srv.connects++;
            *conn = c;
            return OSSR_OK;
        }
    return OSSR_E_CONNECT;                              /* every connection is taken */
}
static srv_conn *net_conn(void *conn) {
    srv_conn *c = (srv_conn *)conn;
    if (c < srv.conn || c >= srv.conn + SRV_CONNS || !c->open) {
        printf("hooks: transport called with a connection that is not open\n");
        srv.misuse++;
        return NULL;
    }
    return c;
}
/* Takes a varying share of what it is offered, as a socket with a full buffer would. */
static long net_send(void *conn, const void *buf, size_t len, int timeout_ms, void *user) {
    srv_conn *c = net_conn(conn);
    size_t cap = 1000 + (size_t)(srv.sends++ % 9) * 1777, used;
    (void)timeout_ms; (void)user;
    if (!c || srv.net_down || c->closing) return OSSR_E_SEND;
    if (len == 0) return 0;
    used = srv_feed(c, (const unsigned char *)buf, len < cap ? len : cap);
    clock_traffic(used);
    /* the scenario's cut: the link drops half-way through the part after CUT_AFTER */
    if (srv.cut_armed && c->blob >= 0 && c->rq.op == OP_PART && srv.parts_stored >= CUT_AFTER &&
        srv.blob[c->blob].got >= srv.blob[c->blob].len / 2)
        srv.net_down = 1;
    if (used == 0) {
        printf("hooks: a request was sent before the previous reply was read\n");
        srv.misuse++;
        return OSSR_E_SEND;
    }
    return (long)used;
}
/* Hands the reply out in pieces of 1 to 4096 bytes. */
static long net_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    static const size_t piece[] = { 1, 17, 300, 4096, 64 };
    srv_conn *c = net_conn(conn);
    size_t n;
    (void)user;
    if (!c || srv.net_down) return OSSR_E_RECV;
    if (c->reply_pos == c->reply_len) {
        if (c->closing) return 0;
        fake_clock.ms += timeout_ms;                    /* nothing is coming: a real link waits */
        return OSSR_E_TIMEOUT;
    }
    n = c->reply_len - c->reply_pos;
    if (n > cap) n = cap;
    if (n > piece[c->recvs % 5]) n = piece[c->recvs % 5];
    c->recvs++;
    memcpy(buf, c->reply + c->reply_pos, n);
    c->reply_pos += n;
    return (long)n;
}
static void net_close(void *conn, void *user) {
    srv_conn *c = net_conn(conn);
    (void)user;
    if (!c) return;
    srv_blob_free(c->blob);                             /* a body cut short is dropped */
    c->blob = -1;
    c->open = 0;
    srv.closes++;
}

/* ==== the scenario ===================================================================== */
static void log_line(int level, const char *message, void *user) {
    static const char *const names[] = { "debug", "info", "warn", "error" };
    (void)user;
    printf("  log %s: %s\n", names[level >= 0 && level <= 3 ? level : 3], message);
}
static int failed(const char *what, const ossr_status *st) {
    char line[768];
    printf("hooks: FAILED: %s\n", what);
    if (st) printf("hooks: status: %s\n", ossr_status_format(st, line, sizeof line));
    return 1;
}
/* Fills the source with a pattern that repeats nowhere (xorshift32). */
static void fill_source(void) {
    uint32_t x = 2463534242u;
    size_t i;
    for (i = 0; i < sizeof source; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        source[i] = (unsigned char)(x >> 24);
    }
}
/* The record left in the RAM flash, decoded with the library's codec: it names the upload
   the server holds, and each part slot sits at its part's place with the ETag the server
   gave that part. */
static int inspect_checkpoint(void) {
    const flash_bank *b = NULL;
    const srv_upload *u = NULL;
    ossr_checkpoint ck;
    long head;
    size_t off;
    unsigned slots = 0, i;
    char id[128];
    for (i = 0; i < FLASH_BANKS; i++)
        if (flash.bank[i].live) b = &flash.bank[i];
    if (!b) return failed("the cut upload left no checkpoint in the RAM flash", NULL);
    head = ossr_checkpoint_decode(b->data, b->len, &ck);
    if (head <= 0) return failed("the checkpoint in the RAM flash does not decode", NULL);
    if (ck.upload_id.len >= sizeof id) return failed("the checkpoint's upload id is too long", NULL);
    memcpy(id, ck.upload_id.ptr, ck.upload_id.len);
    id[ck.upload_id.len] = 0;
    for (i = 0; i < SRV_UPLOADS; i++)
        if (srv.up[i].used && !strcmp(srv.up[i].id, id)) u = &srv.up[i];
    if (!u) return failed("the checkpoint names an upload the server does not have", NULL);
    for (i = 0, off = (size_t)ck.slots_offset; off + OSSR_CKPT_SLOT <= b->len; i++, off += OSSR_CKPT_SLOT) {
        ossr_checkpoint_part p;
        if (!ossr_checkpoint_decode_part(b->data + off, &p) || p.number == OSSR_CKPT_COMPLETING) continue;
        if (p.number != i + 1) return failed("a part slot is not at its part's place", NULL);
        if (p.number > SRV_PARTS || !u->part[p.number] || strcmp(srv.blob[u->part[p.number] - 1].etag, p.etag) != 0)
            return failed("a part slot holds an ETag the server did not give that part", NULL);
        slots++;
    }
    printf("hooks: checkpoint %s: %lu bytes (%u writes unsynced), upload %s, %u part slots, %lu parts of %lu "
           "bytes, generation %ld\n", b->name, (unsigned long)b->len, b->unsynced, id, slots,
           (unsigned long)ck.part_count, (unsigned long)ck.part_size, (long)ck.mtime_sec);
    if (slots == 0) return failed("the checkpoint holds no part slot", NULL);
    return 0;
}
/* A power cut in the middle of a slot write: the slot of part number keeps its first 40
   bytes, the rest reads as erased flash. */
static int tear_slot(uint32_t number) {
    ossr_checkpoint ck;
    long head;
    size_t off;
    int i;
    for (i = 0; i < FLASH_BANKS; i++) {
        flash_bank *b = &flash.bank[i];
        if (!b->live || (head = ossr_checkpoint_decode(b->data, b->len, &ck)) <= 0) continue;
        off = (size_t)ck.slots_offset + (number - 1) * OSSR_CKPT_SLOT;
        if (off + OSSR_CKPT_SLOT > b->len) break;
        memset(b->data + off + 40, 0xFF, OSSR_CKPT_SLOT - 40);
        printf("hooks: a power cut tears the slot of part %lu in the RAM flash\n", (unsigned long)number);
        return 0;
    }
    return failed("there is no slot to tear", NULL);
}
static int object_matches(const char *key, size_t size) {
    char a[17], b[17];
    uint64_t want = ossr_crc64(0, source, size);
    if (!srv.obj.exists || strcmp(srv.obj.key, key) != 0) return failed("the server has no such object", NULL);
    if (srv.obj.size != size || memcmp(srv.obj.data, source, size) != 0)
        return failed("the object on the server differs from the source", NULL);
    if (srv.obj.crc != want) return failed("the object's CRC-64 differs from the source's", NULL);
    printf("hooks: object %s: %lu bytes, CRC-64 %s (source %s), ETag %s\n", key, (unsigned long)size,
           hex64(srv.obj.crc, a), hex64(want, b), srv.obj.etag);
    return 0;
}
/* What every finished call must leave: no connection, file or pool block held, no hook
   misused, no request refused. */
static int nothing_held(const char *when) {
    const char *why = NULL;
    if (srv.connects != srv.closes) why = "a connection was left open";
    else if (file_stats.opens != file_stats.closes) why = "the file was left open";
    else if (pool.n != 0 || pool.held != 0 || pool.errors) why = "pool blocks were not returned, or freed wrongly";
    else if (flash.faults || srv.misuse) why = "a hook was misused (see above)";
    else if (srv.errors) why = "the server refused a request (see above)";
    if (!why) return 0;
    printf("hooks: FAILED: %s: %s (connections %lu/%lu, file %u/%u, pool %u blocks, %lu bytes)\n", when, why,
           srv.connects, srv.closes, file_stats.opens, file_stats.closes, pool.n, (unsigned long)pool.held);
    return 1;
}

int main(void) {
    static const ossr_transport transport = { net_connect, net_send, net_recv, net_close, NULL, NULL };
    static const ossr_file_io file_io = { file_open, file_identity, file_read_at, file_close, NULL };
    static const ossr_store store = { store_load, store_save, store_remove, NULL, store_lock };
    ossr_options o;
    ossr_status st;
    ossr_result r;
    size_t need;
    uint64_t part_size;
    uint32_t parts;

    fill_source();
    memset(&o, 0, sizeof o);
    o.endpoint = "http://" DOMAIN;
    o.region = "cn-hangzhou";
    o.bucket = "device-uploads";
    o.key = "fleet/0042/firmware.img";
    o.file_path = "ram:firmware.img";
    o.access_key_id = KEY_ID;
    o.access_key_secret = KEY_SECRET;
    o.num_threads = 1;
    o.part_size = PART_SIZE;
    o.multipart_threshold = PART_SIZE;
    o.buffer_size = 16 * 1024;            /* the minimum: a request head, a send window, a reply */
    o.max_attempts = 2;
    o.retry_base_ms = 20;
    o.retry_cap_ms = 200;
    o.connect_timeout_ms = 5000;
    o.io_timeout_ms = 5000;
    o.transport = &transport;
    o.file_io = &file_io;
    o.store = &store;
    o.clock = clock_unix;
    o.ticks = clock_ticks;
    o.sleep = clock_sleep;
    o.log = log_line;
    need = ossr_workspace_size(&o, HOOKS_FILE_SIZE);
    if (need == 0 || need > POOL_SIZE) {
        printf("hooks: ossr_workspace_size() says %lu bytes; the pool has %lu\n", (unsigned long)need,
               (unsigned long)POOL_SIZE);
        return failed("the library needs more memory than the pool holds", NULL);
    }
#ifdef OSSR_NO_MALLOC
    o.workspace = pool_mem.b;
    o.workspace_size = need;
#else
    o.alloc = pool_alloc;
    o.free = pool_free;
#endif
    if (ossr_plan_parts(HOOKS_FILE_SIZE, PART_SIZE, &part_size, &parts, NULL, 0) != OSSR_OK ||
        part_size != PART_SIZE)
        return failed("the demo file does not plan into parts of PART_SIZE", NULL);
    printf("hooks: %lu bytes from RAM to oss://%s/%s in %lu parts of %lu bytes; library heap at most %lu bytes\n",
           (unsigned long)HOOKS_FILE_SIZE, o.bucket, o.key, (unsigned long)parts, (unsigned long)PART_SIZE,
           (unsigned long)need);

    /* 1. The link drops half-way through the part after CUT_AFTER: the call fails. */
    printf("hooks: upload 1: the link drops after %u parts\n", CUT_AFTER);
    srv.cut_armed = 1;
    r = ossr_upload(&o, &st);
    srv.cut_armed = 0;
    if (r == OSSR_OK) return failed("the upload succeeded although the link was cut", &st);
    if (r != OSSR_E_CONNECT && r != OSSR_E_SEND && r != OSSR_E_RECV)
        return failed("the cut upload failed with an unexpected result", &st);
    {
        char line[768];
        printf("hooks: upload 1 failed as planned: %s\n", ossr_status_format(&st, line, sizeof line));
    }
    if (srv.parts_stored < CUT_AFTER) return failed("the server stored fewer parts than planned", &st);
    if (inspect_checkpoint() != 0 || nothing_held("after upload 1") || tear_slot(TORN_PART) != 0) return 1;
#ifndef OSSR_NO_MALLOC
    if (st.heap_peak != pool.peak) return failed("status.heap_peak differs from what went through opts.alloc", &st);
#endif
    if (st.heap_peak > need) return failed("status.heap_peak is above ossr_workspace_size()", &st);

    /* While another upload holds the record's claim, a second one stops before any request. */
    {
        unsigned long before = srv.requests;
        memcpy(store_claim, "held", 5);
        r = ossr_upload(&o, &st);
        store_claim[0] = 0;
        if (r != OSSR_E_BUSY || srv.requests != before) return failed("a second upload of a held record went on", &st);
    }
    if (store_claim[0]) return failed("upload 1 kept its claim on the record", &st);

    /* 2. The link is back: the same call resumes from the RAM checkpoint and completes. The
          part whose slot was torn is checked against the file and its slot written again. */
    printf("hooks: upload 2: the link is back\n");
    srv.net_down = 0;
    pool.peak = 0;
    r = ossr_upload(&o, &st);
    if (r != OSSR_OK) return failed("the resumed upload failed", &st);
    printf("hooks: upload 2: resumed %d, parts %lu: %lu reused, %lu sent; %lu body bytes; heap peak %lu; "
           "checkpoint %lu writes (%u in place), %lu bytes; ListParts pages %lu (%lu truncated)\n", st.resumed,
           (unsigned long)st.parts_total, (unsigned long)st.parts_reused, (unsigned long)st.parts_uploaded,
           (unsigned long)st.bytes_sent, (unsigned long)st.heap_peak, (unsigned long)st.checkpoint_writes,
           flash.rewrites, (unsigned long)st.checkpoint_bytes, srv.lists, srv.list_pages_truncated);
    if (!st.multipart || st.resumed != 1) return failed("the second call did not resume the checkpoint", &st);
    if (st.parts_reused != CUT_AFTER || st.parts_reused + st.parts_uploaded != st.parts_total ||
        st.parts_total != parts)
        return failed("the resumed upload did not keep exactly the parts the server had", &st);
    if (srv.list_pages_truncated == 0) return failed("ListParts never needed a second page", &st);

    /* 3. The object is the source; nothing is left behind. */
    if (object_matches(o.key, HOOKS_FILE_SIZE) != 0) return 1;
    if (st.size != HOOKS_FILE_SIZE || st.crc64 != srv.obj.crc || strcmp(st.etag, srv.obj.etag) != 0)
        return failed("the status does not describe the object on the server", &st);
    if (flash_records() != 0) return failed("the checkpoint is still in the RAM flash after success", &st);
    if (nothing_held("after upload 2")) return 1;
#ifndef OSSR_NO_MALLOC
    if (st.heap_peak != pool.peak) return failed("status.heap_peak differs from what went through opts.alloc", &st);
#endif
    {
        int i, left = 0;
        for (i = 0; i < SRV_UPLOADS; i++) left += srv.up[i].used;
        if (left) return failed("an upload is left open on the server", &st);
    }

    /* 4. A file below the threshold goes in one PutObject. */
    o.file_path = "ram:config.bin";
    o.key = "fleet/0042/config.bin";
    r = ossr_upload(&o, &st);
    if (r != OSSR_OK) return failed("the PutObject upload failed", &st);
    if (st.multipart || srv.puts != 1) return failed("the small file did not go in one PutObject", &st);
    if (object_matches(o.key, SMALL_SIZE) != 0 || nothing_held("after upload 3")) return 1;
    if (flash_records() != 0) return failed("PutObject left a checkpoint", &st);

    printf("hooks: %lu requests over %lu connections; pool %u blocks taken and returned; flash %u writes, "
           "%u syncs, %u removes; file %u reads; fake clock %ld ms\n", srv.requests, srv.connects, pool.allocs,
           flash.writes, flash.syncs, flash.removes, file_stats.reads, (long)fake_clock.ms);
    printf("hooks: uploaded %lu bytes in %lu parts, resumed after a cut, object matches\n",
           (unsigned long)HOOKS_FILE_SIZE, (unsigned long)parts);
    return 0;
}
