/* hooks.c - an upload and an over-the-air update that never touch a socket or a file system.

   Firmware has no BSD sockets, no files and often no malloc. oss_resumable.h reaches the
   world only through hooks (>>hooks in the header); this example supplies them from RAM:

       file_io      the "file" is a RAM buffer with a deterministic pattern
       sink         a download goes into a RAM "OTA partition", marked bootable on commit
       store        the checkpoint lives in a RAM "flash" of banks (A/B replacement); its
                    lock is a claim in RAM
       clock        one fake clock for wall time, ticks and sleep (sleep advances it)
       alloc, free  a static pool (with OSSR_NO_MALLOC: one workspace block instead)
       log          lines on stdout

   It includes ../tests/mini_oss.h only for the server it talks to, an OSS stand-in in
   this program reached through its transport hooks; a device passes its own network's
   transport (lwIP, a modem's sockets) and a real endpoint instead.

   The upload: the link drops after some parts, so the first ossr_upload() fails and
   leaves its checkpoint in the RAM flash; the next call resumes from it and completes,
   and the object on the server must equal the source. The update: that object comes
   back in ranges into the OTA partition; the link drops after some ranges, so the first
   ossr_download() fails, not bootable, its checkpoint in the RAM flash; the next call
   checks the kept ranges, fetches the rest and commits, and the partition must equal the
   source. tests/test_hooks.c runs the same hooks through both, with every check (a torn
   slot, a damaged range, the lock, the heap).

   Hosted builds (make hooks builds these two, and the second with -DOSSR_NO_MALLOC):
       cc -std=c99 examples/hooks.c -o hooks -lbearssl -lpthread
       cc -std=c99 -DOSSR_NO_THREADS -DOSSR_NO_TLS -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO \
           examples/hooks.c -o hooks-min
   Bare metal (compiles and links; newlib-nano):
       arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os \
           --specs=nano.specs --specs=nosys.specs -DOSSR_NO_THREADS -DOSSR_NO_TLS \
           -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO examples/hooks.c -o hooks.elf
   Add -DOSSR_NO_MALLOC to give the library one block of ossr_workspace_size() bytes
   instead of an allocator. The library itself needs about 37 KiB of heap here on a
   Cortex-M4, for the upload and the download alike (16 KiB of it the I/O buffer), and at
   -Os about 20 KiB of stack (README, Porting). The demo's RAM: the source, the server's parts and the assembled object, and
   the OTA partition, four times HOOKS_FILE_SIZE (about 13 MB as it is: the emulated
   board of tests/matrix.sh has 16 MiB); a smaller HOOKS_FILE_SIZE must still make more
   than CUT_AFTER + 1 parts. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <stdio.h>
#include <string.h>

#ifndef HOOKS_FILE_SIZE
#  define HOOKS_FILE_SIZE (3u * 1024u * 1024u + 12345u)   /* 24 parts of 128 KiB and a short one */
#endif
#define SMALL_SIZE  40000u            /* a second file, below the threshold (one PutObject) */
#define PART_SIZE   (128u * 1024u)    /* OSS's minimum is 100 KiB */
#define CUT_AFTER   9u                /* the link drops in the middle of the part (or range) after these */
#define POOL_SIZE   (48u * 1024u)     /* the library's heap: checked against ossr_workspace_size() */
#define KEY_ID      "LTAI5tHooksExample"
#define KEY_SECRET  "not-a-real-secret"
#define EPOCH       1735689600        /* the fake clock starts at 2025-01-01 00:00:00 UTC */
#if HOOKS_FILE_SIZE <= (CUT_AFTER + 1u) * PART_SIZE
#  error "HOOKS_FILE_SIZE must make more than CUT_AFTER + 1 parts"
#endif

#define MINI_OSS_OBJECT_MAX HOOKS_FILE_SIZE   /* the server's RAM: objects up to the file's size */
#include "../tests/mini_oss.h"

/* ==== clock: wall time, ticks and sleep from one counter ============================== */
/* Milliseconds since the start. Sleeping advances it, and so does the server's link (a
   1 MB/s link, and a receive that times out). */
static int64_t clock_ms;
/* Seconds since 1970, for signing. */
static int64_t clock_unix(void *user) { (void)user; return EPOCH + clock_ms / 1000; }
/* Monotonic milliseconds, for timeouts and back-off. */
static int64_t clock_ticks(void *user) { (void)user; return clock_ms; }
/* A wait, over at once: the time is added. */
static void clock_sleep(int ms, void *user) { (void)user; if (ms > 0) clock_ms += ms; }

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
/* opts.alloc: size bytes from the top of the pool, 16-byte aligned; NULL when full. */
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
/* opts.free: returns a block, which must be one the pool gave out, of that size. */
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

/* Opens one of the RAM files by its name. */
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
/* Reads len bytes at off; both files are views of the one source buffer. */
static int file_read_at(void *file, void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    if (off > ((ram_file *)file)->size || len > ((ram_file *)file)->size - off) return 1;
    memcpy(buf, source + off, len);
    file_stats.reads++;
    return 0;
}
/* Closes a file: nothing to release. */
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

/* Whether name is a record name as the library makes them: 40 hex digits and .ossr. */
static int store_name_ok(const char *name) {
    size_t i;
    for (i = 0; i < 40; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f') ||
              (name[i] >= 'A' && name[i] <= 'F')))
            return 0;
    return strcmp(name + 40, ".ossr") == 0;
}
/* Says that the library used the store in a way its contract rules out. */
static void store_fault(const char *what, const char *name) {
    printf("hooks: checkpoint store: %s (record %s)\n", what, name);
    flash.faults++;
}
/* The live bank that holds record name, or NULL. */
static flash_bank *flash_find(const char *name) {
    int i;
    for (i = 0; i < FLASH_BANKS; i++)
        if (flash.bank[i].live && strcmp(flash.bank[i].name, name) == 0) return &flash.bank[i];
    return NULL;
}
/* store.load: up to cap bytes of the record from off; 0 past its end or when there is none. */
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
/* store.save: a whole new record (OSSR_STORE_NEW) into a free bank, or bytes written in place. */
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
/* store.remove: the record's bank is free again. */
static void store_remove(const char *name, void *user) {
    flash_bank *b = flash_find(name);
    (void)user;
    if (b) { b->live = 0; flash.removes++; }
}
/* The claim on a record, in RAM: a reset of the board clears it, as a lock must not
   outlive the upload that holds it. */
static char store_claim[48];
/* store.lock: take 1 claims the record (1: another upload holds it), take 0 lets it go. */
static int store_lock(const char *name, int take, void *user) {
    (void)user;
    if (!take) {
        if (strcmp(store_claim, name) != 0) store_fault("a lock released that was not held", name);
        store_claim[0] = 0;
        return 0;
    }
    if (store_claim[0]) return 1;   /* one transfer at a time on this device */
    if (strlen(name) >= sizeof store_claim) return 1;
    memcpy(store_claim, name, strlen(name) + 1);
    return 0;
}
/* The bank of the record in the flash, or NULL when there is none. */
static flash_bank *flash_live(void) {
    int i;
    for (i = 0; i < FLASH_BANKS; i++)
        if (flash.bank[i].live) return &flash.bank[i];
    return NULL;
}

/* ==== download sink: a RAM "OTA partition" ============================================ */
/* The flash slot an update goes into: erased when a download starts afresh, written at
   each range's place, read back when a resume checks the ranges it kept, bootable only
   after OSSR_SINK_COMMIT (the whole image, with the server's CRC-64). A NOR port erases a
   range's sectors before writing it again; a flash written front to back sets in_order. */
#define OTA_NAME "ota:slot-b"         /* opts.file_path: the name the sink is opened with */
static unsigned char partition[HOOKS_FILE_SIZE];
static struct { int open, bootable, how; uint64_t size; unsigned writes, reads, faults; } ota;

/* sink.open: the partition, for an image of size bytes; fresh: erased first. */
static int ota_open(const char *name, uint64_t size, int fresh, void **sink, void *user) {
    (void)user;
    if (strcmp(name, OTA_NAME) != 0 || size > sizeof partition || ota.open) return 1;
    if (fresh) memset(partition, 0xFF, sizeof partition);    /* erased flash */
    ota.bootable = 0;                                         /* no whole image until a commit */
    ota.size = size;
    ota.open = 1;
    *sink = partition;
    return 0;
}
/* sink.write_at and sink.read_at: len bytes at off, which must lie in the open image. */
static int ota_write_at(void *sink, const void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    if (!ota.open || off > ota.size || len > ota.size - off) { ota.faults++; return 1; }
    memcpy((unsigned char *)sink + off, buf, len);
    ota.writes++;
    return 0;
}
static int ota_read_at(void *sink, void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    if (!ota.open || off > ota.size || len > ota.size - off) { ota.faults++; return 1; }
    memcpy(buf, (unsigned char *)sink + off, len);
    ota.reads++;
    return 0;
}
/* sink.close: OSSR_SINK_COMMIT makes the image bootable (a device sets its boot flag);
   KEEP leaves it for a resume, DROP for the next fresh start. */
static int ota_close(void *sink, int how, void *user) {
    (void)sink; (void)user;
    ota.open = 0;
    ota.how = how;
    ota.bootable = how == OSSR_SINK_COMMIT;
    return 0;
}

/* ==== the transfers ==================================================================== */
static const ossr_file_io file_io = { file_open, file_identity, file_read_at, file_close, NULL };
static const ossr_sink ota_sink = { ota_open, ota_write_at, ota_read_at, ota_close, NULL, 0 };
static const ossr_store store = { store_load, store_save, store_remove, NULL, store_lock };
static ossr_transport transport;      /* the server's: mini_oss_transport() */

/* opts.log: the library's lines on stdout. */
static void log_line(int level, const char *message, void *user) {
    static const char *const names[] = { "debug", "info", "warn", "error" };
    (void)user;
    printf("  log %s: %s\n", names[level >= 0 && level <= 3 ? level : 3], message);
}
/* Says what failed, and the call's status when there is one; returns 1, the exit status. */
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
/* The options of an upload of the RAM file path as key (or of a download of key into the
   OTA partition, with file_path OTA_NAME), through the hooks above, with the library's
   memory from the pool. Returns 0, or 1 when the pool is smaller than what
   ossr_workspace_size() asks for. */
static int hook_options(ossr_options *o, const char *path, const char *key) {
    size_t need;
    memset(o, 0, sizeof *o);
    transport = mini_oss_transport();
    o->endpoint = "http://oss-cn-hangzhou.aliyuncs.com";
    o->region = "cn-hangzhou";
    o->bucket = "device-uploads";
    o->key = key;
    o->file_path = path;
    o->access_key_id = KEY_ID;
    o->access_key_secret = KEY_SECRET;
    o->num_threads = 1;
    o->part_size = PART_SIZE;
    o->multipart_threshold = PART_SIZE;
    o->buffer_size = 16 * 1024;           /* the minimum: a request head, a send window, a reply */
    o->max_attempts = 2;
    o->retry_base_ms = 20;
    o->retry_cap_ms = 200;
    o->connect_timeout_ms = 5000;
    o->io_timeout_ms = 5000;
    o->transport = &transport;
    o->file_io = &file_io;
    o->sink = &ota_sink;
    o->store = &store;
    o->clock = clock_unix;
    o->ticks = clock_ticks;
    o->sleep = clock_sleep;
    o->log = log_line;
    need = ossr_workspace_size(o, HOOKS_FILE_SIZE);
    if (need == 0 || need > POOL_SIZE) {
        printf("hooks: ossr_workspace_size() says %lu bytes; the pool has %lu\n", (unsigned long)need,
               (unsigned long)POOL_SIZE);
        return failed("the library needs more memory than the pool holds", NULL);
    }
#ifdef OSSR_NO_MALLOC
    o->workspace = pool_mem.b;
    o->workspace_size = need;
#else
    o->alloc = pool_alloc;
    o->free = pool_free;
#endif
    return 0;
}

/* The upload of the RAM firmware image, cut once and resumed, then its download into the
   OTA partition, cut once and resumed; exit status 0 when the object on the server and
   the partition are the source. */
int main(void) {
    const mini_oss_config server = { KEY_ID, clock_unix, clock_sleep, NULL };
    ossr_options o;
    ossr_status st;
    char line[768];
    const char *why;

    fill_source();
    mini_oss_reset(&server);
    if (hook_options(&o, "ram:firmware.img", "fleet/0042/firmware.img") != 0) return 1;
    printf("hooks: %lu bytes from RAM to oss://%s/%s; the link drops after %u parts\n",
           (unsigned long)HOOKS_FILE_SIZE, o.bucket, o.key, CUT_AFTER);

    /* The link drops: the call fails, and its checkpoint stays in the RAM flash. */
    mini_oss_cut_after(CUT_AFTER);
    if (ossr_upload(&o, &st) == OSSR_OK) return failed("the upload went through although the link was cut", &st);
    printf("hooks: upload 1 failed: %s\n", ossr_status_format(&st, line, sizeof line));

    /* The link is back (or the device restarted): the same call resumes and completes. */
    mini_oss_link_up();
    if (ossr_upload(&o, &st) != OSSR_OK) return failed("the resumed upload failed", &st);
    printf("hooks: upload 2: resumed %d, %lu of %lu parts reused, ETag %s\n", st.resumed,
           (unsigned long)st.parts_reused, (unsigned long)st.parts_total, st.etag);
    if (!st.resumed || st.parts_reused == 0) return failed("the second call did not resume the checkpoint", &st);
    if ((why = mini_oss_check_object(o.key, source, HOOKS_FILE_SIZE)) != NULL) return failed(why, &st);
    if (flash_live()) return failed("the checkpoint is still in the RAM flash after success", &st);
    if (pool.n != 0) return failed("pool blocks were not returned", &st);
    printf("hooks: uploaded %lu bytes, resumed after a cut, object matches\n", (unsigned long)HOOKS_FILE_SIZE);

    /* The update: the object into the OTA partition in ranges of PART_SIZE. The link drops
       after CUT_AFTER ranges: the call fails, and the image is not bootable. */
    o.file_path = OTA_NAME;
    printf("hooks: oss://%s/%s into the OTA partition; the link drops after %u ranges\n", o.bucket, o.key, CUT_AFTER);
    mini_oss_cut_get_after(CUT_AFTER);
    if (ossr_download(&o, &st) == OSSR_OK) return failed("the download went through although the link was cut", &st);
    printf("hooks: download 1 failed: %s\n", ossr_status_format(&st, line, sizeof line));
    if (ota.bootable || !flash_live()) return failed("the cut download is bootable, or left no checkpoint", &st);

    /* The link is back: the same call checks the kept ranges, fetches the rest, commits. */
    mini_oss_link_up();
    if (ossr_download(&o, &st) != OSSR_OK) return failed("the resumed download failed", &st);
    printf("hooks: download 2: resumed %d, %lu of %lu ranges reused, CRC-64 checked %d\n", st.resumed,
           (unsigned long)st.parts_reused, (unsigned long)st.parts_total, st.crc64_verified);
    if (!st.resumed || st.parts_reused == 0) return failed("the second call did not resume the checkpoint", &st);
    if (!ota.bootable || memcmp(partition, source, HOOKS_FILE_SIZE) != 0)
        return failed("the OTA partition does not hold a bootable copy of the source", &st);
    if (flash_live()) return failed("the checkpoint is still in the RAM flash after success", &st);
    if (pool.n != 0) return failed("pool blocks were not returned", &st);
    printf("hooks: downloaded %lu bytes into the OTA partition, resumed after a cut, image matches, bootable\n",
           (unsigned long)HOOKS_FILE_SIZE);
    return 0;
}
