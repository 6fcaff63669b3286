/* oss_resumable.h - resumable multipart upload of a local file to Alibaba Cloud OSS.
   Single-header C99 library; no dependencies beyond the C library and BSD sockets
   and BearSSL for https:// (link -lbearssl; or build with OSSR_NO_TLS for http:// only).

   WHAT IT DOES
       ossr_upload() sends one local file to oss://BUCKET/KEY. Files below the threshold
       go in one PutObject; larger ones go as a multipart upload whose progress is kept in
       a small binary checkpoint on disk, so an upload cut by a dropped network, a crash
       or a power loss resumes where it stopped when the same call is made again. Every
       byte is checked with OSS's CRC-64: each part against the server's reply, and the
       whole object (resumed parts included) against the Complete reply.
       It behaves like Python's oss2.resumable_upload() with the same defaults, minus the
       reference's weak spots: stale uploads are aborted instead of left billing, a part
       whose CRC disagrees is re-sent, a lost Complete reply is recovered with a HEAD.

   HOW TO USE
       In exactly one .c file, with this header as the first include:
           #define OSS_RESUMABLE_IMPLEMENTATION
           #include "oss_resumable.h"
       Elsewhere include it plainly. Link with -lbearssl (not with OSSR_NO_TLS) and
       -lpthread (not with OSSR_NO_THREADS); Debian: apt-get install libbearssl-dev.

   QUICK START
       ossr_options o;
       ossr_status st;
       memset(&o, 0, sizeof o);                      every zero field means "default"
       o.endpoint = "https://oss-cn-hangzhou.aliyuncs.com";
       o.region = "cn-hangzhou";                     V4 signing whenever a region is set
       o.bucket = "my-bucket";
       o.key = "backups/2024/db.tar.gz";
       o.file_path = "/var/backups/db.tar.gz";
       o.access_key_id = getenv("OSS_ACCESS_KEY_ID");
       o.access_key_secret = getenv("OSS_ACCESS_KEY_SECRET");
       o.num_threads = 4;
       if (ossr_upload(&o, &st) != OSSR_OK) {
           char line[1024];
           fprintf(stderr, "upload failed: %s\n", ossr_status_format(&st, line, sizeof line));
       }
       Call it again after a failure or a crash and it resumes.

   CONFIGURATION MACROS (define before the implementation include)
       OSS_RESUMABLE_STATIC   all public functions static (private to one .c file)
       OSSR_NO_THREADS        no thread shim; one thread drives all of an upload's connections
       OSSR_NO_TLS            https:// endpoints fail with OSSR_E_TLS_UNAVAILABLE
       OSSR_NO_SOCKETS        no sockets: opts.transport carries the bytes
       OSSR_NO_STDIO          no file system: opts.file_io and opts.store; no download
       OSSR_NO_MALLOC         no allocator: opts.workspace of ossr_workspace_size() bytes
       OSSR_MALLOC/OSSR_FREE  allocator (define both or neither; opts.alloc overrides)
       OSSR_NO_SIMD           CRC-64 by tables only (no PCLMULQDQ/VPCLMULQDQ/PMULL)
       OSSR_CRC64_SMALL       CRC-64 by a 128-byte table in flash, no RAM (the default
                              without an OS layer; slower than the 16 KiB tables)
       OSSR_ASSERT            assertion used for API misuse only
       OSSR_PATH_MAX          longest local path in bytes (4096; 512 without an OS layer)

   MEMORY (all through opts.alloc/opts.free when set; status.heap_peak reports it)
       The session (about 15 KiB on x86-64, half of it two paths), the lanes' state
       (about 7.7 KiB a lane: a lane is a connection), one block per multipart upload
       (6 KiB for any part count: the part bitmap, ListParts' and Complete's state; the
       parts' CRC-64s are folded as they finish and their ETags live in the checkpoint),
       and one block per lane: its io buffer (buffer_size: for http:// 256 KiB with 1-2
       lanes, 128 KiB with 3-4, 64 KiB with more; 16 KiB for https://; at least 16 KiB),
       which serves in turn as signing scratch and request head, plain-TCP send window
       and reply buffer. Over https:// file bytes are read straight into BearSSL's record
       buffer, which the lane's block also holds: TLS state 41,322 bytes (24,853 with
       tls_small_buffer). Anchors read from a CA file take one block per upload about the
       size of the PEM text. Nothing is allocated per part, request or byte;
       ossr_workspace_size() gives the total. The stack holds no state: under 3 KiB of
       frames on a Cortex-M4, plus the hooks' own.

   THREADS
       Distinct ossr_upload() calls are independent (the only process-wide data is the
       CRC-64 tables, fold constants and engine choice, made once and constant after).
       With threads, each connection of a multipart upload sends its parts on a thread of
       its own; without (OSSR_NO_THREADS) one thread drives them all (see >>session).
       The progress, log and credentials callbacks are called from those threads, one
       call at a time each, and never while the library holds its own lock.
       Two uploads of the same file to the same key share one checkpoint record: the
       second one to start fails at once with OSSR_E_BUSY (a lock the OS drops when the
       process dies; a store hook's lock callback otherwise).

   LICENSE: MIT, see the end of the file.
*/
#ifndef OSS_RESUMABLE_H
#define OSS_RESUMABLE_H

#if defined(OSS_RESUMABLE_IMPLEMENTATION) && !defined(_WIN32)
/* The implementation needs POSIX.1-2008 (getaddrinfo, pread, st_mtim, realpath); these
   must be set before the first system header, which is why this header goes first. */
#  if !defined(_XOPEN_SOURCE) && !defined(__APPLE__)
#    define _XOPEN_SOURCE 700
#  endif
#  if !defined(_DEFAULT_SOURCE)
#    define _DEFAULT_SOURCE 1
#  endif
#  if !defined(_FILE_OFFSET_BITS)
#    define _FILE_OFFSET_BITS 64   /* 32-bit Linux: files over 2 GiB, offsets past 4 GiB */
#  endif
#endif

#include <stddef.h>
#include <stdint.h>

#define OSSR_VERSION_MAJOR 0
#define OSSR_VERSION_MINOR 2
#define OSSR_VERSION_PATCH 0
#define OSSR_VERSION_STRING "0.2.0"

#ifdef OSS_RESUMABLE_STATIC
#  define OSSR_API static
#else
#  define OSSR_API extern
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* >>results ------------------------------------------------------------------------- */
/* One list makes the enum and ossr_result_str(). Values are frozen once released:
   0 is success, errors are negative and grouped (-1.. caller, -20.. local system,
   -40.. network, -60.. server, -80.. upload state); 1 says a session goes on. */
#define OSSR_RESULT_LIST(X) \
    X(OSSR_OK,                   0, "success") \
    X(OSSR_PENDING,              1, "in progress: do what the lanes want and step the session again") \
    X(OSSR_E_INVALID_ARG,       -1, "invalid argument") \
    X(OSSR_E_BAD_ENDPOINT,      -2, "endpoint is not a valid http(s)://host[:port] URL") \
    X(OSSR_E_BAD_BUCKET,        -3, "bucket name is not valid (3-63 of a-z 0-9 -)") \
    X(OSSR_E_BAD_KEY,           -4, "object key is not valid (1-1023 bytes, not starting with / or \\)") \
    X(OSSR_E_NO_CREDENTIALS,    -5, "access key id and secret are required") \
    X(OSSR_E_LIMITS,            -6, "file or part size outside OSS limits") \
    X(OSSR_E_TOO_LARGE,         -7, "a value does not fit its buffer") \
    X(OSSR_E_NOMEM,            -20, "out of memory") \
    X(OSSR_E_FILE,             -21, "local file could not be read") \
    X(OSSR_E_FILE_CHANGED,     -22, "local file changed during the upload") \
    X(OSSR_E_CHECKPOINT,       -23, "checkpoint could not be written or read") \
    X(OSSR_E_THREAD,           -24, "could not start a worker thread") \
    X(OSSR_E_WRITE,            -25, "local file could not be written") \
    X(OSSR_E_NO_ENTROPY,       -26, "no entropy source for TLS (set ossr_options.entropy)") \
    X(OSSR_E_RESOLVE,          -40, "host name could not be resolved") \
    X(OSSR_E_CONNECT,          -41, "could not connect to the server") \
    X(OSSR_E_SEND,             -42, "connection failed while sending") \
    X(OSSR_E_RECV,             -43, "connection failed while receiving") \
    X(OSSR_E_TIMEOUT,          -44, "network timeout") \
    X(OSSR_E_TLS_UNAVAILABLE,  -45, "https:// endpoint but this build has no TLS") \
    X(OSSR_E_PROTOCOL,         -46, "malformed HTTP reply from the server") \
    X(OSSR_E_TLS,              -47, "TLS connection failed") \
    X(OSSR_E_CERT,             -48, "the server's certificate was rejected") \
    X(OSSR_E_TLS_HANDSHAKE,    -49, "TLS handshake failed") \
    X(OSSR_E_SERVER,           -60, "the server returned an error") \
    X(OSSR_E_BAD_REPLY,        -61, "the server's reply lacks a required field or is malformed") \
    X(OSSR_E_CRC,              -62, "CRC-64 mismatch between sent and stored data") \
    X(OSSR_E_CANCELLED,        -80, "cancelled by the progress callback") \
    X(OSSR_E_NEED_MORE,        -81, "incomplete input: more bytes are needed") \
    X(OSSR_E_CORRUPT,          -82, "damaged or foreign data") \
    X(OSSR_E_BUSY,             -83, "another transfer of the same file and object is running")

#define OSSR__ENUM_ITEM(name, value, text) name = value,
typedef enum ossr_result { OSSR_RESULT_LIST(OSSR__ENUM_ITEM) OSSR__RESULT_END = -1000 } ossr_result;
#undef OSSR__ENUM_ITEM

/* Returns a static English sentence for a result; never NULL. */
OSSR_API const char *ossr_result_str(ossr_result r);

/* The one place that decides whether a failed request is worth sending again:
   network failures, timeouts, HTTP 5xx, 408, 429, a CRC mismatch and the OSS codes
   RequestTimeTooSkewed, RequestTimeout and InternalError are; everything else is not.
   http_status 0 and code NULL mean "no reply". */
OSSR_API int ossr_result_is_retryable(ossr_result r, int http_status, const char *code);

/* >>types --------------------------------------------------------------------------- */
/* A borrowed name/value pair of NUL-terminated strings. */
typedef struct ossr_header {
    const char *name;
    const char *value;
} ossr_header;

/* A borrowed slice of bytes, not NUL-terminated. */
typedef struct ossr_slice {
    const char *ptr;
    size_t len;
} ossr_slice;

/* Progress: consumed_bytes of total_bytes have gone out (or were already on the server
   when resuming). Called as bytes are sent, from worker threads, one call at a time.
   Return nonzero to cancel: the upload stops promptly with OSSR_E_CANCELLED and leaves a
   checkpoint the next call resumes from. */
typedef int (*ossr_progress_fn)(uint64_t consumed_bytes, uint64_t total_bytes, void *user);

enum { OSSR_LOG_DEBUG = 0, OSSR_LOG_INFO = 1, OSSR_LOG_WARN = 2, OSSR_LOG_ERROR = 3 };
/* Log: one line of text (no newline), never containing the secret or the token. */
typedef void (*ossr_log_fn)(int level, const char *message, void *user);

/* Clock: seconds since 1970-01-01 UTC (signing dates, certificate validity). */
typedef int64_t (*ossr_clock_fn)(void *user);
/* Entropy for TLS on systems without a seeder BearSSL knows: fill buf with len
   unpredictable bytes; return 0 on success. */
typedef int (*ossr_entropy_fn)(void *buf, size_t len, void *user);

/* Monotonic milliseconds (timeouts, back-off, the bandwidth cap) and a sleep. */
typedef int64_t (*ossr_ticks_fn)(void *user);
typedef void (*ossr_sleep_fn)(int ms, void *user);

/* >>hooks: how the library reaches the world ---------------------------------------- */
/* Each hook set is optional where the platform layer exists (NULL: the system's); with
   OSSR_NO_SOCKETS the transport is required, with OSSR_NO_STDIO the file source (or
   for a download the sink) and the checkpoint store are. Every call gets the set's user pointer last. Zero-initialise a
   hook set before filling it in: members added in later versions are optional, and NULL
   keeps their default. */

/* Transport: a reliable byte stream to the server (TCP, lwIP, a modem's AT socket).
   For an https:// endpoint the library's TLS (BearSSL) runs on top of it, unless the
   transport carries TLS itself (connect_tls). */
typedef struct ossr_transport {
    /* Open a connection to host (a name or an IP literal) and port; store a handle in
       *conn. Return OSSR_OK, or OSSR_E_RESOLVE, OSSR_E_CONNECT, OSSR_E_TIMEOUT. */
    ossr_result (*connect)(const char *host, uint16_t port, int timeout_ms, void **conn, void *user);
    /* Send 1..len bytes (partial sends are fine); return the count sent, or a negative
       ossr_result (OSSR_E_SEND, OSSR_E_TIMEOUT). len is at most 16 MiB. */
    long (*send)(void *conn, const void *buf, size_t len, int timeout_ms, void *user);
    /* Receive 1..cap bytes; return the count, 0 when the peer closed the stream, or a
       negative ossr_result (OSSR_E_RECV, OSSR_E_TIMEOUT). */
    long (*recv)(void *conn, void *buf, size_t cap, int timeout_ms, void *user);
    void (*close)(void *conn, void *user);
    void *user;
    /* Optional: TLS by the platform (mbedTLS on ESP-IDF or Zephyr, a modem's SSL socket;
       see examples/mbedtls_transport.c). When set, an https:// endpoint connects with
       it instead of connect: the same contract, and server_name is the name the
       server's certificate must carry and the one to send as SNI. The transport checks
       the certificate; the library speaks plain HTTP/1.1 through send and recv and
       needs no TLS of its own (https:// works in an OSSR_NO_TLS build, and
       ca_file, trust_anchors and insecure are the transport's business). It may also
       return OSSR_E_CERT (certificate refused), OSSR_E_TLS_HANDSHAKE or OSSR_E_TLS.
       connect may be NULL when only https:// is used. */
    ossr_result (*connect_tls)(const char *host, uint16_t port, const char *server_name, int timeout_ms,
                               void **conn, void *user);
} ossr_transport;

/* File source: the bytes to upload (a file, a flash partition, a camera buffer). */
typedef struct ossr_file_io {
    /* Open path (opts.file_path, passed through unchanged) for reading; store a handle
       in *file. Return 0, or nonzero when it cannot be read. */
    int (*open)(const char *path, void **file, void *user);
    /* Its size and a change stamp (a modification time, or anything that changes when
       the content does). 0 and 0 when there is none: then a resume reads every part the
       server already has again and compares it with the file. Return 0, or nonzero. */
    int (*identity)(void *file, uint64_t *size, int64_t *mtime_sec, uint32_t *mtime_nsec, void *user);
    /* Read exactly len bytes at offset off. Return 0, or nonzero (a short read is an
       error: the file changed). With num_threads > 1 (and threads), calls come from
       several connections' threads at once, each for its own part. */
    int (*read_at)(void *file, void *buf, size_t len, uint64_t off, void *user);
    void (*close)(void *file, void *user);
    void *user;
} ossr_file_io;

/* Download sink: where a download's bytes go (by default "<file_path>.ossr-tmp",
   renamed over file_path when the object is whole; a flash partition for an
   over-the-air update, a RAM buffer). */
#define OSSR_SINK_KEEP   0  /* close: the download stopped; what was written stays for a resume */
#define OSSR_SINK_COMMIT 1  /* close: the object is whole and its CRC-64 checked: make it durable
                               and the target (rename it, mark the update bootable) */
#define OSSR_SINK_DROP   2  /* close: what was written is worthless */
typedef struct ossr_sink {
    /* Open target name (opts.file_path, passed through unchanged) for an object of size
       bytes; store a handle in *sink. fresh nonzero: a new download (what it holds may
       go); 0: a resume, and what an earlier call wrote must stay. Return 0, or nonzero. */
    int (*open)(const char *name, uint64_t size, int fresh, void **sink, void *user);
    /* Write len bytes at offset off. Return 0, or nonzero. Without in_order, calls come
       from several connections' threads at once, each at its own range. */
    int (*write_at)(void *sink, const void *buf, size_t len, uint64_t off, void *user);
    /* Read exactly len bytes at offset off back (a resume checks each recorded range
       against its CRC-64). Return 0, or nonzero. */
    int (*read_at)(void *sink, void *buf, size_t len, uint64_t off, void *user);
    /* how: OSSR_SINK_*. Return 0, or nonzero (a failed COMMIT fails the download). */
    int (*close)(void *sink, int how, void *user);
    void *user;
    int in_order;       /* nonzero: from each open, writes only at ascending offsets (one
                           connection, ranges in order); a range fetched again after some of
                           it was written (a retry, a resume) comes after a new open (fresh 0) */
} ossr_sink;

/* Checkpoint store: where the resume record lives (a file by default; a flash sector,
   NVS, EEPROM). A record is a header written once, then one 88-byte slot per part at
   header + (N-1) x 88, written when part N is on the server (again only if it has to be
   sent again), and after the last one the mark of a sent Complete. The slots hold the
   ETags Complete lists, so the library keeps none in memory; a torn or missing slot
   only costs a check against the server on resume. */
#define OSSR_STORE_NEW  1u  /* replace the whole record with these bytes, all or nothing */
#define OSSR_STORE_SYNC 2u  /* durable before returning (with len 0 and data NULL: sync what
                               was written) */
typedef struct ossr_store {
    /* Copy up to cap bytes of record name, from offset off, into buf; return the count
       (short at the record's end, 0 past it or when there is no record), or -1 when it
       cannot be read now (a read error): the call then ends with OSSR_E_CHECKPOINT and
       the record stays for the next one. Bytes that are not a record count as damage:
       the record is dropped and the transfer starts over. name is 40 hex digits and
       ".ossr", the same for the same upload. */
    long (*load)(const char *name, uint64_t off, void *buf, size_t cap, void *user);
    /* Write len bytes at offset off of record name; flags OSSR_STORE_*. Return 0, or
       nonzero. One call at a time. A gap left past the end may read as anything that is
       not an intact slot (zeros, erased flash). A slot is written again only when its
       part had to be sent again, so NOR flash needs a sector copy only then. */
    int (*save)(const char *name, uint64_t off, const void *data, size_t len, unsigned flags, void *user);
    /* Forget record name (a missing record is not an error). */
    void (*remove)(const char *name, void *user);
    void *user;
    /* Optional. take 1: claim record name for this upload without waiting; return 0, or
       nonzero when another upload holds it (the call then fails with OSSR_E_BUSY before
       any request; a download, after the object's HEAD). take 0: let it go. A claim must not outlive its holder: where
       uploads can die (a process killed, a board reset), tie it to something that dies
       with them (a lock the OS drops, a RAM flag). NULL: the caller makes sure no two
       uploads of the same file to the same object run at once. */
    int (*lock)(const char *name, int take, void *user);
} ossr_store;

/* Credentials that expire (STS): the callback fills *out and returns 0, or nonzero when
   it cannot. It is called before the first request, again before expires_at (with five
   minutes to spare), and when the server says the credentials are no longer valid;
   one call at a time, from any worker thread. */
typedef struct ossr_credentials {
    char access_key_id[128];
    char access_key_secret[128];
    char security_token[2048];     /* "" for none */
    int64_t expires_at;            /* seconds since 1970 UTC; 0: does not expire */
} ossr_credentials;
typedef int (*ossr_credentials_fn)(ossr_credentials *out, void *user);

/* Addressing style (virtual-hosted is what OSS expects; path style serves IP literals). */
enum {
    OSSR_ADDR_AUTO = 0,    /* virtual-hosted, path style for IP literals and localhost */
    OSSR_ADDR_VIRTUAL = 1, /* Host: BUCKET.endpoint-host */
    OSSR_ADDR_PATH = 2,    /* Host: endpoint-host, target /BUCKET/KEY */
    OSSR_ADDR_CNAME = 3    /* the endpoint is a custom domain bound to the bucket */
};

/* Everything an upload needs. Zero-initialise it; every zero field means its default.
   Strings are borrowed for the duration of the call. */
typedef struct ossr_options {
    const char *endpoint;          /* "https://oss-cn-hangzhou.aliyuncs.com", "http://127.0.0.1:9000";
                                      no scheme means https */
    const char *region;            /* "cn-hangzhou": enables V4 signing. NULL: V1 */
    int sign_version;              /* 0: 4 when region is set, else 1. Or 1, 4 */
    int addressing;                /* OSSR_ADDR_*; default OSSR_ADDR_AUTO */
    const char *connect_to;        /* "host[:port]" to connect to instead of the address the
                                      URL names (Host header unchanged). NULL: the URL's */
    const char *bucket;
    const char *key;               /* UTF-8 object key */
    const char *file_path;         /* local file (source of an upload, target of a download) */
    const char *access_key_id;
    const char *access_key_secret; /* never written anywhere by the library */
    const char *security_token;    /* STS token or NULL */
    const ossr_header *headers;    /* user headers: Content-Type, x-oss-meta-*, x-oss-object-acl,
                                      x-oss-storage-class, x-oss-forbid-overwrite, ... */
    size_t header_count;
    uint64_t multipart_threshold;  /* bytes; files this size or larger go multipart. 0: 10 MiB */
    uint64_t part_size;            /* preferred part size, doubled until the file fits in
                                      10,000 parts (oss2's rule). 0: 10 MiB */
    int num_threads;               /* parallel part uploads, 0: 1 */
    int sequential;                /* nonzero: Initiate with ?sequential (parts in order) */
    int content_md5;               /* nonzero: send Content-MD5 with every part (costs a pass
                                      of MD5 over each byte; CRC-64 is always checked) */
    const char *checkpoint_dir;    /* NULL: $HOME/.oss-resumable (or ./.oss-resumable) */
    ossr_progress_fn progress;
    void *progress_user;
    ossr_log_fn log;
    void *log_user;
    /* Allocator (both or neither; NULL: OSSR_MALLOC/OSSR_FREE). free gets the size that
       was asked for, for pool allocators. Every block the library takes goes through
       here: a few per call, none per part or per byte. */
    void *(*alloc)(size_t size, void *user);
    void (*free)(void *ptr, size_t size, void *user);
    void *alloc_user;
    int connect_timeout_ms;        /* 0: 60000 */
    int io_timeout_ms;             /* silence allowed per send/recv, and the time a reply's head may
                                      take from the request's end; 0: 60000 */
    uint32_t low_speed_limit;      /* a reply body slower than this many bytes a second over ... */
    int low_speed_time_ms;         /* ... this long is a timeout (retried). 0: 256 bytes a second,
                                      over io_timeout_ms (far below any working link) */
    int max_attempts;              /* tries per request for retryable failures, 0: 3 */
    size_t buffer_size;            /* per-worker I/O buffer (min 16 KiB, max 16 MiB); 0: for
                                      http:// 256/128/64 KiB for 1-2/3-4/more workers (it is
                                      the send chunk), 16 KiB for https:// */
    /* https:// (BearSSL; absent with OSSR_NO_TLS). The certificate is always checked
       against the host name contacted, unless insecure is set. */
    const char *ca_file;           /* PEM file of trust anchors. NULL: $SSL_CERT_FILE, else the
                                      system bundle (/etc/ssl/certs/ca-certificates.crt, ...) */
    const void *trust_anchors;     /* anchors compiled into the program: a const
                                      br_x509_trust_anchor array (see README); wins over ca_file */
    size_t trust_anchor_count;
    int insecure;                  /* DANGEROUS: nonzero accepts any certificate (logs a warning) */
    int tls_small_buffer;          /* nonzero: BearSSL's half-duplex 16.3 KiB record buffer instead
                                      of the 32.7 KiB full-duplex one (constrained devices) */
    ossr_clock_fn clock;           /* NULL: the system clock */
    ossr_ticks_fn ticks;           /* monotonic ms; NULL: the system's */
    ossr_sleep_fn sleep;           /* NULL: the system's */
    void *clock_user;              /* for clock, ticks and sleep */
    ossr_entropy_fn entropy;       /* NULL: BearSSL's system seeder (required then) */
    void *entropy_user;
    /* robustness */
    ossr_credentials_fn credentials; /* refreshable credentials; replaces the three strings above */
    void *credentials_user;
    const volatile int *cancel;    /* nonzero *cancel (see ossr_cancel) stops the call within one
                                      buffer write, leaving a resumable checkpoint */
    int retry_base_ms;             /* back-off: a random wait below min(base * 2^try, cap); 0: 200 */
    int retry_cap_ms;              /* 0: 20000 */
    uint64_t max_bytes_per_second; /* client-side bandwidth cap over all workers; 0: none */
    /* hooks (see >>hooks); NULL: the platform's */
    const ossr_transport *transport;
    const ossr_file_io *file_io;
    const ossr_store *store;       /* replaces checkpoint_dir */
    const ossr_sink *sink;         /* where a download goes, instead of file_path */
    /* OSSR_NO_MALLOC builds: one block of ossr_workspace_size() bytes (suitably aligned),
       which the call carves up and returns untouched; elsewhere it replaces alloc/free */
    void *workspace;
    size_t workspace_size;
    int resume_by_content;         /* nonzero: the checkpoint recognises the file by its size and
                                      the CRC-64 of its first and last MiB, not by its mtime (for
                                      devices without a trustworthy clock), and a resume reads
                                      every part the server has again to compare it */
} ossr_options;

/* What happened. Filled by ossr_upload()/ossr_download() on success and failure. */
typedef struct ossr_status {
    ossr_result result;
    int http_status;           /* status of the failing reply, 0 if none */
    int os_error;              /* errno (or equivalent) of a failing system call, 0 if none */
    int tls_error;             /* BearSSL error code of a failing TLS connection, 0 if none */
    uint32_t part_number;      /* failing part (a download's range), 0 if not a part */
    char code[64];             /* OSS <Code>, e.g. "NoSuchUpload" */
    char message[256];         /* OSS <Message> */
    char request_id[64];       /* x-oss-request-id / <RequestId> */
    char host_id[128];         /* <HostId> */
    char ec[32];               /* <EC> diagnostic code */
    char server_time[40];      /* <ServerTime> on RequestTimeTooSkewed */
    char upload_id[128];       /* multipart upload id involved, "" if none */
    char detail[256];          /* what the library was doing, in words */
    /* on success */
    int multipart;             /* 1 when the multipart path was used (a download: ranges) */
    int download;              /* 1 for a download's status */
    int resumed;               /* 1 when an earlier checkpoint was resumed */
    uint32_t parts_total;
    uint32_t parts_uploaded;   /* parts sent by this call */
    uint32_t parts_reused;     /* parts found on the server and kept */
    uint64_t bytes_sent;       /* body bytes this call put on the wire (retries included) */
    uint64_t heap_peak;        /* most heap bytes the library held at once (any result) */
    uint64_t heap_per_worker;  /* of which each worker (connection) holds this much */
    uint32_t workers;
    uint64_t checkpoint_bytes; /* bytes written to the checkpoint by this call */
    uint32_t checkpoint_writes;
    uint64_t size;             /* object size */
    uint64_t crc64;            /* object CRC-64 (of the bytes sent or received) */
    int crc64_verified;        /* 1 when the server's CRC-64 of the whole object was compared with
                                  crc64 and matched; 0 when the server gave none to compare */
    char etag[80];             /* object ETag, quotes included */
    char checkpoint_path[512]; /* the checkpoint file used ("" for PutObject) */
} ossr_status;

/* Upload opts->file_path to opts->bucket/opts->key. Blocks until done, failed or
   cancelled. status may be NULL. Resumes from a checkpoint left by an earlier call with
   the same endpoint, bucket, key, file and part size; removes it on success. */
OSSR_API ossr_result ossr_upload(const ossr_options *opts, ossr_status *status);

/* Download opts->bucket/opts->key into opts->file_path, written to "<path>.ossr-tmp" and
   renamed over the path only when the whole object is there and its CRC-64 is the
   server's. status may be NULL. An object of multipart_threshold bytes or more comes in
   ranges of part_size over num_threads connections, each range recorded in a checkpoint
   as it lands: a later call for the same object and path resumes (an object changed on
   the server since starts over). */
OSSR_API ossr_result ossr_download(const ossr_options *opts, ossr_status *status);
/* Drops what an interrupted download of opts->bucket/opts->key into opts->file_path left
   to resume: its checkpoint and "<path>.ossr-tmp". OSSR_OK also when there was none
   (status.checkpoint_path is "" then); OSSR_E_BUSY while that download runs. */
OSSR_API ossr_result ossr_abort_download(const ossr_options *opts, ossr_status *status);

/* Incomplete multipart uploads (ListMultipartUploads): each is billed for its parts
   until it is completed or aborted. */
typedef struct ossr_upload_info {
    const char *key;               /* UTF-8 */
    const char *upload_id;
    const char *initiated;         /* as the server wrote it: "2024-12-03T08:15:30.000Z" */
} ossr_upload_info;
/* Called once per upload, in the server's order (by key, then by start); return nonzero
   to stop the listing. */
typedef int (*ossr_upload_fn)(const ossr_upload_info *u, void *user);
/* Lists the incomplete uploads of opts->bucket whose keys start with prefix (NULL or "":
   all), every page; opts->key and file_path are not used. */
OSSR_API ossr_result ossr_list_uploads(const ossr_options *opts, const char *prefix,
                                       ossr_upload_fn fn, void *user, ossr_status *status);
/* Aborts a multipart upload of opts->bucket/opts->key, freeing its parts: upload_id, or
   with NULL the upload that opts->file_path's checkpoint would resume, whose record is
   then removed. status.upload_id names the upload aborted ("" when the file had no
   checkpoint for this object: OSSR_OK, nothing to do). Fails with OSSR_E_BUSY while an
   upload of that file to that object runs. */
OSSR_API ossr_result ossr_abort_upload(const ossr_options *opts, const char *upload_id, ossr_status *status);
/* The directory where these options keep checkpoint records (opts.checkpoint_dir, else
   $HOME/.oss-resumable), into buf (NUL-terminated; "" with a store hook, or when it does
   not fit). Returns buf. */
OSSR_API const char *ossr_checkpoint_dir(const ossr_options *opts, char *buf, size_t cap);

/* Heap bytes ossr_upload() takes at most for these options and a file of file_size
   bytes: exactly status.heap_peak, and the size of opts.workspace. It is the session,
   plus lanes x per_lane, plus a block for a multipart upload (README, "Memory"),
   whatever the file's size and part count. ossr_download() of an object of file_size
   bytes takes the same when it comes in ranges (at or above multipart_threshold), and
   less below: any size at or above the threshold covers every download. */
OSSR_API size_t ossr_workspace_size(const ossr_options *opts, uint64_t file_size);

/* Asks a running ossr_upload()/ossr_download() whose opts.cancel points at flag to stop.
   Safe from any thread or a signal handler. */
OSSR_API void ossr_cancel(volatile int *flag);

/* One line describing status. For a server error: what failed, the HTTP status, the OSS
   code and message; otherwise the result in words and what the library was doing. Then
   the request id, part number and upload id where known. Writes into buf (always
   NUL-terminated when cap > 0, "..." when cut) and returns buf. */
OSSR_API const char *ossr_status_format(const ossr_status *status, char *buf, size_t cap);

/* >>session: an upload the caller drives ------------------------------------------------ */
/* ossr_upload() runs on a session and drives it itself. A program with its own event
   loop, or none (a superloop on a microcontroller), drives one instead: the session does
   no blocking I/O and keeps all its state in the memory it is given. Its lanes are
   connections (as many as opts.num_threads for a multipart upload, else one) that it
   asks the caller to open, write, read and close; file reads and checkpoint writes stay
   synchronous hooks, at most about one buffer of them a step.
       ossr_session_init(&s, &opts, mem, ossr_session_size(&opts, file_size));
       while (ossr_session_step(s, now_ms()) == OSSR_PENDING) {
           n = ossr_session_lanes(s, &lanes);
           ... carry out lanes[0..n)'s wants, report each with ossr_lane_*, wait for
               sockets at most until ossr_session_wake(s) ...
       }
       ossr_session_finish(s, &status);
   See examples/loop.c: one thread, poll(), four connections. */
typedef struct ossr_session ossr_session;
enum {
    OSSR_LANE_IDLE = 0,    /* nothing to do now */
    OSSR_LANE_CONNECT,     /* connect to host:port, then ossr_lane_opened (or ossr_lane_failed);
                              with tls_name set the connection must carry TLS for that name
                              (https:// in a build without the library's TLS) */
    OSSR_LANE_WRITE,       /* send out[0..out_len) (part of it is fine): ossr_lane_wrote */
    OSSR_LANE_READ,        /* receive into in[0..in_cap): ossr_lane_read (0: the peer closed) */
    OSSR_LANE_CLOSE        /* close the connection: ossr_lane_closed; also after a CONNECT that
                              failed or timed out (close whatever it started, if anything) */
};
typedef struct ossr_lane {
    int want;                  /* OSSR_LANE_* */
    const char *host;          /* CONNECT: a host name or IP literal, and a port */
    uint16_t port;
    const char *tls_name;      /* CONNECT: NULL for a plain connection */
    const void *out;           /* WRITE */
    size_t out_len;
    void *in;                  /* READ */
    size_t in_cap;
    int64_t deadline_ms;       /* the want times out then (the next step says so) */
    void *conn;                /* the caller's handle of the lane's connection (ossr_lane_opened) */
} ossr_lane;
/* Bytes of memory a session takes for these options and a file of file_size bytes. */
OSSR_API size_t ossr_session_size(const ossr_options *opts, uint64_t file_size);
/* Sets up an upload of opts->file_path in mem (opts and its strings must outlive the
   session). On a failure *session may still be set: ossr_session_finish gives the
   status. Over https:// with the library's TLS the trust anchors must be compiled in
   (opts.trust_anchors) or insecure set: a CA file does not fit a block sized ahead. */
OSSR_API ossr_result ossr_session_init(ossr_session **session, const ossr_options *opts, void *mem, size_t size);
/* The same for a download of opts->bucket/opts->key to opts->file_path (or opts->sink):
   a block of ossr_session_size(opts, S) bytes for any S at or above the threshold fits
   any object. */
OSSR_API ossr_result ossr_session_init_download(ossr_session **session, const ossr_options *opts, void *mem,
                                                size_t size);
/* Does what can be done without waiting: OSSR_PENDING while the upload goes on, else
   its result (call ossr_session_finish). now_ms: any monotonic clock in milliseconds. */
OSSR_API ossr_result ossr_session_step(ossr_session *s, int64_t now_ms);
/* The latest time the next step is due (a deadline, a back-off), on the clock of the
   steps' now_ms, or exactly -1: none. */
OSSR_API int64_t ossr_session_wake(const ossr_session *s);
/* The lanes and what each wants; valid until the next step. */
OSSR_API int ossr_session_lanes(ossr_session *s, ossr_lane **lanes);
/* The caller's reports, one for each want it carried out. */
OSSR_API void ossr_lane_opened(ossr_session *s, ossr_lane *lane, void *conn);
OSSR_API void ossr_lane_wrote(ossr_session *s, ossr_lane *lane, size_t n);
OSSR_API void ossr_lane_read(ossr_session *s, ossr_lane *lane, size_t n);
OSSR_API void ossr_lane_closed(ossr_session *s, ossr_lane *lane);
/* The want failed: r is OSSR_E_RESOLVE, _CONNECT, _SEND, _RECV, _TIMEOUT (or for a TLS
   connect _CERT, _TLS_HANDSHAKE), os_error the system's error or 0. */
OSSR_API void ossr_lane_failed(ossr_session *s, ossr_lane *lane, ossr_result r, int os_error);
/* Stops the upload at the next step, leaving a checkpoint the next run resumes from. */
OSSR_API void ossr_session_cancel(ossr_session *s);
/* The session's result and status (finishing it early is a cancel); mem may then be
   reused. Close the lanes' connections that are still open. */
OSSR_API ossr_result ossr_session_finish(ossr_session *s, ossr_status *status);

/* >>blocks: building blocks, pure functions, no allocation -------------------------- */

/* CRC-64 as OSS computes it (CRC-64/XZ). Start with crc = 0; feed the previous result to
   continue. */
OSSR_API uint64_t ossr_crc64(uint64_t crc, const void *data, size_t len);
/* CRC of A||B from crc(A), crc(B) and len(B). */
OSSR_API uint64_t ossr_crc64_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b);
/* The CRC-64 engine this CPU runs: "slicing-by-8", "pclmulqdq", "vpclmulqdq-avx512" or
   "pmull" (chosen once, at the first CRC). */
OSSR_API const char *ossr_crc64_engine(void);

/* Part planning, oss2's rule: preferred (0: 10 MiB) is doubled until the file fits in
   10,000 parts and the part is at least 100 KiB; a file smaller than preferred is one part.
   Returns OSSR_E_LIMITS (with a sentence in why, if given) when the file cannot be sent
   within OSS's limits (parts of at most 5 GiB, at most 10,000 parts). */
OSSR_API ossr_result ossr_plan_parts(uint64_t file_size, uint64_t preferred,
                                     uint64_t *part_size, uint32_t *part_count,
                                     char *why, size_t why_cap);

/* Endpoint parsing: "[http[s]://]host[:port][/]". host is a slice into url (IPv6 literals
   without brackets). */
typedef struct ossr_endpoint {
    int https;
    ossr_slice host;
    uint16_t port;            /* explicit or default (80/443) */
    int explicit_port;
    int host_is_ip;           /* IPv4/IPv6 literal */
    int host_is_ipv6;
} ossr_endpoint;
OSSR_API ossr_result ossr_parse_endpoint(const char *url, ossr_endpoint *out);

/* Percent-encoding of an object key: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX
   (upper-case); keep_slash keeps '/'. Writes a NUL-terminated string; returns its length,
   or (size_t)-1 when cap is too small. */
OSSR_API size_t ossr_url_encode(const char *s, size_t len, int keep_slash, char *out, size_t cap);

/* Signing. The request as it will be sent (headers excluding the ones the signer adds:
   V1 adds Date; V4 adds x-oss-date and x-oss-content-sha256 unless given; both add
   x-oss-security-token when a token is set). */
typedef struct ossr_sign_input {
    const char *method;
    const char *bucket;                 /* NULL or "" for service-level requests */
    const char *key;                    /* raw UTF-8; NULL or "" for bucket-level */
    const ossr_header *query;           /* raw (not encoded) query parameters */
    size_t query_count;
    const ossr_header *headers;
    size_t header_count;
    const char *const *additional_headers; /* V4 only: extra header names to sign */
    size_t additional_count;
    int64_t unix_time;
    int version;                        /* 1 or 4 */
    const char *region;                 /* V4 */
    const char *product;                /* V4; NULL: "oss" */
    const char *access_key_id;
    const char *access_key_secret;
    const char *security_token;         /* NULL or "" for none */
} ossr_sign_input;

typedef struct ossr_signature {
    char date[40];              /* V1: the Date header value; V4: the x-oss-date value */
    char authorization[640];    /* the Authorization header value */
    int add_content_sha256;     /* V4: send "x-oss-content-sha256: UNSIGNED-PAYLOAD" */
    ossr_slice string_to_sign;  /* into the scratch buffer */
    ossr_slice canonical_request; /* V4 only, into the scratch buffer */
} ossr_signature;

/* Sign a request. scratch (8 KiB is plenty for normal requests) holds the canonical
   strings the result points to. Returns OSSR_E_TOO_LARGE when scratch or a field is too
   small, OSSR_E_INVALID_ARG for a missing field or an additional header that is absent. */
OSSR_API ossr_result ossr_sign(const ossr_sign_input *in, char *scratch, size_t scratch_cap,
                               ossr_signature *out);

/* HTTP/1.x response head parser (status line and headers up to the empty line).
   Returns the head's length in bytes (> 0), OSSR_E_NEED_MORE when the empty line has not
   arrived yet, OSSR_E_PROTOCOL when malformed, OSSR_E_TOO_LARGE for more than
   OSSR_MAX_HEADERS headers. Slices point into buf. */
#define OSSR_MAX_HEADERS 64
typedef struct ossr_response {
    int minor_version;
    int status;
    ossr_slice reason;
    size_t header_count;
    ossr_slice names[OSSR_MAX_HEADERS];
    ossr_slice values[OSSR_MAX_HEADERS];  /* leading and trailing blanks trimmed */
} ossr_response;
OSSR_API long ossr_parse_response(const char *buf, size_t len, ossr_response *out);
/* Case-insensitive lookup of a header in a parsed response; 1 if found. */
OSSR_API int ossr_response_header(const ossr_response *r, const char *name, ossr_slice *value);

/* XML. xml[0..len) is the content of an element (or a whole document); these look only
   at its children, never inside them, so an unknown element cannot shadow a field.
   ossr_xml_next finds the next child <tag ...>content</tag> at or after *pos, stores its
   raw content (which may hold elements of its own) in *content and moves *pos past it.
   Returns 1 when found, 0 when not (*pos = len), OSSR_E_CORRUPT on a malformed or
   unterminated element. Matches tag names exactly, skips attributes, comments,
   processing instructions and CDATA, and never trusts lengths: it only scans within
   xml[0..len). */
OSSR_API int ossr_xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
                           ossr_slice *content);
/* The first child <tag> of xml, its text decoded (&lt; &gt; &amp; &quot; &apos; &#N;
   &#xN; CDATA; comments and processing instructions dropped) into out (NUL-terminated,
   truncated to cap). Returns 1 when found, 0 when not, negative when malformed or when
   the child holds elements rather than text. */
OSSR_API int ossr_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap);

/* Checkpoint record (see >>checkpoint for the byte layout). */
typedef struct ossr_checkpoint {
    uint32_t version;
    uint64_t file_size;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
    uint64_t part_size;
    uint32_t part_count;
    uint32_t flags;             /* OSSR_CKPT_FLAG_* */
    uint64_t head_crc, tail_crc; /* content fingerprint (OSSR_CKPT_FLAG_CONTENT); a download's
                                    head_crc: the object's CRC-64 (OSSR_CKPT_FLAG_OBJECT_CRC); else 0 */
    ossr_slice endpoint, bucket, key, path, upload_id; /* into the decoded buffer */
    uint64_t slots_offset;      /* decoded: where part 1's slot starts (version 2 keeps a second
                                   copy of the upload id between the fixed part and the slots) */
} ossr_checkpoint;
#define OSSR_CKPT_FLAG_CONTENT 1u  /* the file is identified by size and content, not mtime */
#define OSSR_CKPT_FLAG_DOWNLOAD 2u /* a download's record: file_size and mtime_sec are the object's
                                      (Last-Modified), upload_id holds its ETag, path the
                                      temporary file's; the slots are ranges, without ETags */
#define OSSR_CKPT_FLAG_OBJECT_CRC 4u /* a download's: the server gave the object's CRC-64 */
typedef struct ossr_checkpoint_part {
    uint32_t number;            /* 1..10000; OSSR_CKPT_COMPLETING marks a sent Complete */
    uint64_t size;
    uint64_t crc64;
    char etag[48];              /* NUL-terminated; "" when it did not fit */
} ossr_checkpoint_part;
#define OSSR_CKPT_HEAD_MAX 4096u
#define OSSR_CKPT_SLOT 88u
#define OSSR_CKPT_COMPLETING 0xFFFFFFFFu
/* Encode the fixed part; returns its length or 0 when cap is too small / a string too long. */
OSSR_API size_t ossr_checkpoint_encode(const ossr_checkpoint *c, unsigned char *out, size_t cap);
/* Decode the fixed part; returns its length, or OSSR_E_CORRUPT / OSSR_E_NEED_MORE. */
OSSR_API long ossr_checkpoint_decode(const unsigned char *buf, size_t len, ossr_checkpoint *c);
OSSR_API void ossr_checkpoint_encode_part(const ossr_checkpoint_part *p,
                                          unsigned char out[OSSR_CKPT_SLOT]);
/* 1 when the slot is intact, 0 when damaged or empty. */
OSSR_API int ossr_checkpoint_decode_part(const unsigned char in[OSSR_CKPT_SLOT],
                                         ossr_checkpoint_part *p);

#ifdef __cplusplus
}
#endif
#endif /* OSS_RESUMABLE_H */

/* ================================================================================== */
/*                                  IMPLEMENTATION                                     */
/* ================================================================================== */
#ifdef OSS_RESUMABLE_IMPLEMENTATION
#ifndef OSS_RESUMABLE_IMPLEMENTATION_ONCE
#define OSS_RESUMABLE_IMPLEMENTATION_ONCE

/* >>config ------------------------------------------------------------------------- */
#if defined(OSSR_MALLOC) != defined(OSSR_FREE)
#  error "define OSSR_MALLOC and OSSR_FREE together, or neither"
#endif
#if !defined(OSSR_MALLOC) && !defined(OSSR_NO_MALLOC)
#  include <stdlib.h>
#  define OSSR_MALLOC(n) malloc(n)
#  define OSSR_FREE(p) free(p)
#endif

#include <string.h>

/* Every allocation goes through one of these, counted for status.heap_peak. Blocks are
   whole multiples of 16 bytes; from a block of memory (opts.workspace, or a session's)
   they are carved in order (the last one taken is given back first; all of it at the
   end of the call). */
#define OSSR__ROUND16(n) (((n) + 15) & ~(size_t)15)
typedef struct ossr__heap { const ossr_options *o; char *base; size_t size, now, peak, top; } ossr__heap;
/* A heap over mem[0..size) (16-byte aligned), else over opts.workspace, else the allocator. */
static void ossr__heap_init(ossr__heap *h, const ossr_options *o, void *mem, size_t size) {
    memset(h, 0, sizeof *h);
    h->o = o;
    h->base = (char *)(mem ? mem : o->workspace);
    h->size = mem ? size : o->workspace_size;
}
static void *ossr__heap_get(ossr__heap *h, size_t n) {
    void *p = NULL;
    n = OSSR__ROUND16(n);
    if (h->base) {
        if (n <= h->size - h->top) { p = h->base + h->top; h->top += n; }
    }
#ifndef OSSR_NO_MALLOC
    else p = h->o && h->o->alloc ? h->o->alloc(n, h->o->alloc_user) : OSSR_MALLOC(n);
#endif
    if (p) { h->now += n; if (h->now > h->peak) h->peak = h->now; }
    return p;
}
static void ossr__heap_put(ossr__heap *h, void *p, size_t n) {
    if (!p) return;
    n = OSSR__ROUND16(n);
    h->now -= n;
    if (h->base) {
        if ((char *)p + n == h->base + h->top) h->top -= n;
        if (h->now == 0) h->top = 0;
    }
#ifndef OSSR_NO_MALLOC
    else if (h->o && h->o->free) h->o->free(p, n, h->o->alloc_user);
    else OSSR_FREE(p);
#endif
}
#ifndef OSSR_ASSERT
#  include <assert.h>
#  define OSSR_ASSERT(c) assert(c)
#endif
/* OSSR__NOINLINE marks the small helpers that gcc's -Os would copy into each of their
   many callers (measured in `make size`), and the functions whose frame must not join a
   caller's stack. */
#if defined(__GNUC__) || defined(__clang__)
#  define OSSR__PRIVATE static __attribute__((unused))
#  define OSSR__NOINLINE __attribute__((noinline))
#else
#  define OSSR__PRIVATE static
#  define OSSR__NOINLINE
#endif
#ifdef OSS_RESUMABLE_STATIC
#  define OSSR__DEF OSSR__PRIVATE
#else
#  define OSSR__DEF
#endif

#define OSSR__MIN_PART   102400ull                  /* 100 KiB */
#define OSSR__MAX_PART   (5ull * 1024 * 1024 * 1024) /* 5 GiB */
#define OSSR__MAX_PARTS  10000u
#define OSSR__DEFAULT_PART (10ull * 1024 * 1024)
#define OSSR__DEFAULT_THRESHOLD (10ull * 1024 * 1024)   /* oss2's multipart_threshold */
#define OSSR__HEAD_CAP   16384u   /* request head + signing scratch */
#define OSSR__RESP_HEAD_MAX 8192u
#define OSSR__PLAIN_IO  131072u   /* default buffer_size, plain http://, 3-4 workers; twice that for 1-2,
                                     half for more: bigger sends measured up to 1.6x faster on one
                                     connection, and this keeps the buffers under 512 KiB in all */
#define OSSR__TLS_IO     16384u   /* default buffer_size, https:// */

#if !defined(OSSR_NO_TLS)
#  define OSSR__HAVE_TLS 1
#  include <bearssl.h>
#endif

#include <string.h>
#include <stdarg.h>
#include <errno.h>
#include <time.h>

/* >>platform ------------------------------------------------------------------------ */
/* Everything that touches the OS lives here: time, sockets, files, threads, for POSIX
   and Win32. OSSR_NO_SOCKETS drops the sockets (the transport hook carries the bytes),
   OSSR_NO_STDIO the file system (the file source and checkpoint store hooks stand in);
   with both there is no OS layer at all and time comes from the clock hooks. */
#if defined(OSSR_NO_SOCKETS) && defined(OSSR_NO_STDIO) && !defined(OSSR_NO_THREADS)
#  error "OSSR_NO_SOCKETS with OSSR_NO_STDIO leaves no operating system layer, so no threads: define OSSR_NO_THREADS too"
#endif
#if defined(OSSR_NO_MALLOC) && defined(OSSR_MALLOC)
#  error "OSSR_NO_MALLOC takes every byte from opts.workspace: do not define OSSR_MALLOC with it"
#endif
#ifdef OSSR_NO_SOCKETS
#  define OSSR__HAVE_NET 0
#else
#  define OSSR__HAVE_NET 1
#endif
#ifdef OSSR_NO_STDIO
#  define OSSR__HAVE_FS 0
#else
#  define OSSR__HAVE_FS 1
#endif
#if !OSSR__HAVE_NET && !OSSR__HAVE_FS
#  define OSSR__OS 0            /* bare metal: nothing below but the hook calls */
#elif defined(_WIN32)
#  define OSSR__OS 2
#else
#  define OSSR__OS 1
#endif
#ifndef OSSR_PATH_MAX
#  define OSSR_PATH_MAX (OSSR__OS ? 4096 : 512)   /* longest local path, in bytes of UTF-8 */
#endif

#if OSSR__OS == 1
#  include <unistd.h>
#  include <fcntl.h>
#  include <sys/types.h>
#  include <sys/stat.h>
#  include <sys/time.h>
#  include <limits.h>
#  include <stdlib.h>
#  if OSSR__HAVE_FS
#    include <stdio.h>          /* rename */
#    include <sys/uio.h>
#    include <sys/file.h>       /* flock */
#    include <pwd.h>
#  endif
#  if OSSR__HAVE_NET
#    include <sys/socket.h>
#    include <netinet/in.h>
#    include <netinet/tcp.h>
#    include <arpa/inet.h>
#    include <netdb.h>
#    include <poll.h>
#  endif
#  if !defined(OSSR_NO_THREADS)
#    include <pthread.h>
#  endif
#  ifndef MSG_NOSIGNAL
#    define MSG_NOSIGNAL 0
#  endif
#  ifndef O_CLOEXEC
#    define O_CLOEXEC 0
#  endif
#  ifndef O_NOFOLLOW
#    define O_NOFOLLOW 0
#  endif
#elif OSSR__OS == 2
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  if OSSR__HAVE_NET
#    include <winsock2.h>
#    include <ws2tcpip.h>
#  endif
#  include <windows.h>
#  include <stdlib.h>
#endif

/* From >>strings, for the few words the platform layer writes and reads. */
OSSR__PRIVATE void ossr__say(char *out, size_t cap, const char *fmt, ...);
OSSR__PRIVATE int ossr__parse_u64(const char *s, size_t n, uint64_t *out);
/* Whether the caller asked the call to stop (opts.cancel); safe from any thread. */
OSSR__PRIVATE int ossr__cancel_requested(const ossr_options *o) {
    if (!o->cancel) return 0;
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n((const volatile int *)o->cancel, __ATOMIC_ACQUIRE) != 0;
#else
    return *o->cancel != 0;
#endif
}

/* Time: monotonic milliseconds, seconds since 1970, a sleep; each from its hook when
   set. Without an OS layer the hooks are required (ossr__setup checks). */
OSSR__PRIVATE int64_t ossr__now_ms(const ossr_options *o) {
    if (o->ticks) return o->ticks(o->clock_user);
#if OSSR__OS == 1
    {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
#elif OSSR__OS == 2
    return (int64_t)GetTickCount64();
#else
    return 0;
#endif
}
/* Seconds since 1970 from the caller's clock hook, else the system's. */
OSSR__PRIVATE int64_t ossr__unix_time(const ossr_options *o) {
    if (o->clock) return o->clock(o->clock_user);
#if OSSR__OS
    return (int64_t)time(NULL);
#else
    return 0;
#endif
}
OSSR__PRIVATE void ossr__sleep_ms(const ossr_options *o, int ms) {
    if (o->sleep) { o->sleep(ms, o->clock_user); return; }
#if OSSR__OS == 1
    {
        struct timespec ts;
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (long)(ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    }
#elif OSSR__OS == 2
    Sleep((DWORD)ms);
#endif
}

#if OSSR__OS == 2
/* Win32 errors as errno values, so one strerror() serves every message. */
OSSR__PRIVATE int ossr__win_errno(void) {
    switch (GetLastError()) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME: return errno = ENOENT;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION: return errno = EACCES;
    case ERROR_FILE_EXISTS: case ERROR_ALREADY_EXISTS: return errno = EEXIST;
    case ERROR_DISK_FULL: case ERROR_HANDLE_DISK_FULL: return errno = ENOSPC;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return errno = ENOMEM;
    case ERROR_FILENAME_EXCED_RANGE: return errno = ENAMETOOLONG;
    case ERROR_HANDLE_EOF: return errno = ENODATA;
    default: return errno = EIO;
    }
}
/* UTF-8 to UTF-16 for the wide API (paths of any script). 0 on success. */
OSSR__PRIVATE int ossr__wide(const char *s, wchar_t *out, int cap) {
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, cap) == 0) {
        errno = GetLastError() == ERROR_INSUFFICIENT_BUFFER ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    return 0;
}
#endif

/* Files: identity (size + mtime with nanoseconds) and positional reads and writes on a
   handle (a descriptor, or a Win32 HANDLE); -1 and errno set on failure. */
typedef struct ossr__file_id {
    uint64_t size;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
} ossr__file_id;
#if OSSR__HAVE_FS
typedef intptr_t ossr__fh;
#define OSSR__BAD_FH ((ossr__fh)-1)
enum { OSSR__PATH_NONE = 0, OSSR__PATH_FILE = 1, OSSR__PATH_DIR = 2, OSSR__PATH_LINK = 3, OSSR__PATH_OTHER = 4 };

#if OSSR__OS == 1
/* mode 0: an existing file for reading; else a new file (never an existing one or a
   link) for writing and reading, with these permission bits (under the umask). */
OSSR__PRIVATE ossr__fh ossr__file_open(const char *path, int mode) {
    int fd;
    do {
        fd = mode ? open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode)
                  : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO without a writer must not hang */
    } while (fd < 0 && errno == EINTR);
    return (ossr__fh)fd;
}
/* An existing file for writing and reading at offsets (the checkpoint, a download's
   temporary file); links are not followed. */
OSSR__PRIVATE ossr__fh ossr__file_open_rw(const char *path) {
    return (ossr__fh)open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
}
OSSR__PRIVATE int ossr__file_identity(ossr__fh fh, ossr__file_id *id) {
    struct stat st;
    if (fstat((int)fh, &st) != 0) return -1;
    if (!S_ISREG(st.st_mode)) { errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL; return -1; }
    id->size = (uint64_t)st.st_size;
    id->mtime_sec = (int64_t)st.st_mtime;
#if defined(__APPLE__)
    id->mtime_nsec = (uint32_t)st.st_mtimespec.tv_nsec;
#else
    id->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
#endif
    return 0;
}
/* Reads up to len bytes at off: the count, 0 at the end, -1 on error. */
OSSR__PRIVATE long ossr__file_pread(ossr__fh fh, void *buf, size_t len, uint64_t off) {
    for (;;) {
        ssize_t n = pread((int)fh, buf, len, (off_t)off);
        if (n >= 0 || errno != EINTR) return (long)n;
    }
}
OSSR__PRIVATE long ossr__file_pwrite(ossr__fh fh, const void *buf, size_t len, uint64_t off) {
    for (;;) {
        ssize_t n = pwrite((int)fh, buf, len, (off_t)off);
        if (n >= 0 || errno != EINTR) return (long)n;
    }
}
OSSR__PRIVATE void ossr__file_close(ossr__fh fh) { if (fh != OSSR__BAD_FH) close((int)fh); }
OSSR__PRIVATE int ossr__file_sync(ossr__fh fh) {
#if defined(__APPLE__)
    return fsync((int)fh);
#else
    return fdatasync((int)fh);
#endif
}
OSSR__PRIVATE int ossr__file_truncate(ossr__fh fh, uint64_t size) { return ftruncate((int)fh, (off_t)size); }
OSSR__PRIVATE int ossr__file_remove(const char *path) { return unlink(path); }
OSSR__PRIVATE int ossr__file_rename(const char *from, const char *to) { return rename(from, to); }
/* Absolute, normalised path of a file (out may be path): of one that does not exist
   yet, or of the name itself (own_name: where a link is not followed), its directory's
   and its name. 0 on success. */
OSSR__PRIVATE int ossr__abs_path(const char *path, int own_name, char *out, size_t cap) {
    char tmp[PATH_MAX];
    const char *name = "";
    if (own_name || !realpath(path, tmp)) {
        const char *slash = strrchr(path, '/');
        size_t dl = slash ? (size_t)(slash - path) : 0;
        name = slash ? slash + 1 : path;
        if (!own_name && errno != ENOENT) return -1;
        if (!*name || dl >= cap) { errno = *name ? ENAMETOOLONG : EISDIR; return -1; }
        if (slash) { memmove(out, path, dl); out[dl] = 0; }
        if (!realpath(!slash ? "." : dl ? out : "/", tmp)) return -1;
    }
    if (strlen(tmp) + 1 + strlen(name) >= cap) { errno = ENAMETOOLONG; return -1; }
    if (*name) {
        size_t k = strlen(tmp);
        memmove(out + k + (tmp[k - 1] != '/'), name, strlen(name) + 1);
        if (tmp[k - 1] != '/') out[k] = '/';
        memcpy(out, tmp, k);
    } else strcpy(out, tmp);
    return 0;
}
OSSR__PRIVATE int ossr__mkdir(const char *dir) { return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0; }
/* Whether the directory can take new files. */
OSSR__PRIVATE int ossr__dir_writable(const char *dir) { return access(dir, W_OK | X_OK) == 0; }
/* The user's home: $HOME, else the password database; NULL when neither knows. */
OSSR__PRIVATE const char *ossr__home_dir(char *buf, size_t cap) {
    const char *h = getenv("HOME");
    struct passwd pw, *res = NULL;
    if (h && *h) return h;
    if (getpwuid_r(getuid(), &pw, buf, cap, &res) == 0 && res && res->pw_dir && *res->pw_dir)
        return res->pw_dir;
    return NULL;
}
/* Makes the directory entry of a file just renamed to path durable: its directory synced. */
OSSR__PRIVATE void ossr__sync_parent(const char *path) {
    char dir[OSSR_PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    int fd;
    if (n >= sizeof dir) return;
    memcpy(dir, path, n);
    dir[n] = 0;
    fd = open(!slash ? "." : n ? dir : "/", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) { fsync(fd); close(fd); }
}
/* What is at path, links not followed: OSSR__PATH_NONE, _FILE, _DIR, _LINK, _OTHER (a
   FIFO, a socket, a device), or -1 with errno. */
OSSR__PRIVATE int ossr__path_kind(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? OSSR__PATH_NONE : -1;
    return S_ISREG(st.st_mode) ? OSSR__PATH_FILE : S_ISDIR(st.st_mode) ? OSSR__PATH_DIR
           : S_ISLNK(st.st_mode) ? OSSR__PATH_LINK : OSSR__PATH_OTHER;
}
/* Takes the lock file at path without waiting, and writes our pid into it. The system
   drops the lock when the process dies, however it dies. BAD_FH with errno EAGAIN when
   another process holds it (*holder: its pid, 0 when unknown). */
OSSR__PRIVATE ossr__fh ossr__lock_file(const char *path, long *holder) {
    int tries;
    *holder = 0;
    for (tries = 0; tries < 5; tries++) {
        struct stat a, b;
        char t[24];
        long n;
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return OSSR__BAD_FH;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            uint64_t pid = 0;
            n = (long)pread(fd, t, sizeof t - 1, 0);
            if (n > 1 && t[n - 1] == '\n' && ossr__parse_u64(t, (size_t)n - 1, &pid) == 0) *holder = (long)pid;
            close(fd);
            errno = e == EWOULDBLOCK ? EAGAIN : e;
            return OSSR__BAD_FH;
        }
        /* the holder before us may have removed the file between our open and our lock */
        if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            ossr__say(t, sizeof t, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) == 0 && pwrite(fd, t, strlen(t), 0) < 0) {}   /* the pid is only for messages */
            return (ossr__fh)fd;
        }
        close(fd);
    }
    errno = EAGAIN;
    return OSSR__BAD_FH;
}
/* Removes the lock file and lets it go. */
OSSR__PRIVATE void ossr__unlock_file(const char *path, ossr__fh fh) {
    if (fh == OSSR__BAD_FH) return;
    unlink(path);
    close((int)fh);
}
#else /* Win32: UTF-8 paths through the wide API */
OSSR__PRIVATE ossr__fh ossr__file_open2(const char *path, DWORD access, DWORD disp) {
    wchar_t w[OSSR_PATH_MAX];
    HANDLE h;
    if (ossr__wide(path, w, OSSR_PATH_MAX) != 0) return OSSR__BAD_FH;
    h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, disp,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) { ossr__win_errno(); return OSSR__BAD_FH; }
    return (ossr__fh)h;
}
OSSR__PRIVATE ossr__fh ossr__file_open(const char *path, int mode) {
    return mode ? ossr__file_open2(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW)
                : ossr__file_open2(path, GENERIC_READ, OPEN_EXISTING);
}
OSSR__PRIVATE ossr__fh ossr__file_open_rw(const char *path) {
    return ossr__file_open2(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
}
OSSR__PRIVATE int ossr__file_identity(ossr__fh fh, ossr__file_id *id) {
    BY_HANDLE_FILE_INFORMATION fi;
    uint64_t t;
    if (!GetFileInformationByHandle((HANDLE)fh, &fi)) { ossr__win_errno(); return -1; }
    if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) { errno = EISDIR; return -1; }
    id->size = ((uint64_t)fi.nFileSizeHigh << 32) | fi.nFileSizeLow;
    t = ((uint64_t)fi.ftLastWriteTime.dwHighDateTime << 32) | fi.ftLastWriteTime.dwLowDateTime;
    id->mtime_sec = (int64_t)(t / 10000000u) - 11644473600LL;   /* 100 ns ticks since 1601 */
    id->mtime_nsec = (uint32_t)(t % 10000000u) * 100u;
    return 0;
}
OSSR__PRIVATE long ossr__file_pread(ossr__fh fh, void *buf, size_t len, uint64_t off) {
    OVERLAPPED ov;
    DWORD got = 0;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    if (!ReadFile((HANDLE)fh, buf, (DWORD)(len > 0x40000000u ? 0x40000000u : len), &got, &ov))
        return GetLastError() == ERROR_HANDLE_EOF ? 0 : (ossr__win_errno(), -1);
    return (long)got;
}
OSSR__PRIVATE long ossr__file_pwrite(ossr__fh fh, const void *buf, size_t len, uint64_t off) {
    OVERLAPPED ov;
    DWORD put = 0;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)off;
    ov.OffsetHigh = (DWORD)(off >> 32);
    if (!WriteFile((HANDLE)fh, buf, (DWORD)(len > 0x40000000u ? 0x40000000u : len), &put, &ov)) { ossr__win_errno(); return -1; }
    return (long)put;
}
OSSR__PRIVATE void ossr__file_close(ossr__fh fh) { if (fh != OSSR__BAD_FH) CloseHandle((HANDLE)fh); }
OSSR__PRIVATE int ossr__file_sync(ossr__fh fh) { return FlushFileBuffers((HANDLE)fh) ? 0 : (ossr__win_errno(), -1); }
OSSR__PRIVATE int ossr__file_truncate(ossr__fh fh, uint64_t size) {
    LARGE_INTEGER li;
    li.QuadPart = (LONGLONG)size;
    if (!SetFilePointerEx((HANDLE)fh, li, NULL, FILE_BEGIN) || !SetEndOfFile((HANDLE)fh)) { ossr__win_errno(); return -1; }
    return 0;
}
OSSR__PRIVATE int ossr__file_remove(const char *path) {
    wchar_t w[OSSR_PATH_MAX];
    if (ossr__wide(path, w, OSSR_PATH_MAX) != 0) return -1;
    return DeleteFileW(w) ? 0 : (ossr__win_errno(), -1);
}
OSSR__PRIVATE int ossr__file_rename(const char *from, const char *to) {
    wchar_t a[OSSR_PATH_MAX], b[OSSR_PATH_MAX];
    if (ossr__wide(from, a, OSSR_PATH_MAX) != 0 || ossr__wide(to, b, OSSR_PATH_MAX) != 0) return -1;
    return MoveFileExW(a, b, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) ? 0 : (ossr__win_errno(), -1);
}
OSSR__PRIVATE int ossr__abs_path(const char *path, int own_name, char *out, size_t cap) {
    wchar_t w[OSSR_PATH_MAX], full[OSSR_PATH_MAX];
    DWORD n;
    (void)own_name;   /* the full name resolves no link */
    if (ossr__wide(path, w, OSSR_PATH_MAX) != 0) return -1;
    n = GetFullPathNameW(w, OSSR_PATH_MAX, full, NULL);
    if (n == 0 || n >= OSSR_PATH_MAX) { errno = n ? ENAMETOOLONG : EINVAL; return -1; }
    if (WideCharToMultiByte(CP_UTF8, 0, full, -1, out, (int)cap, NULL, NULL) == 0) { errno = ENAMETOOLONG; return -1; }
    return 0;
}
OSSR__PRIVATE int ossr__mkdir(const char *dir) {
    wchar_t w[OSSR_PATH_MAX];
    if (ossr__wide(dir, w, OSSR_PATH_MAX) != 0) return -1;
    if (CreateDirectoryW(w, NULL) || GetLastError() == ERROR_ALREADY_EXISTS) return 0;
    if (dir[0] && dir[1] == ':' && !dir[2]) return 0;   /* a drive: "C:" */
    ossr__win_errno();
    return -1;
}
OSSR__PRIVATE int ossr__dir_writable(const char *dir) {
    wchar_t w[OSSR_PATH_MAX];
    DWORD a;
    if (ossr__wide(dir, w, OSSR_PATH_MAX) != 0) return 0;
    a = GetFileAttributesW(w);
    if (a == INVALID_FILE_ATTRIBUTES) { ossr__win_errno(); return 0; }
    return (a & FILE_ATTRIBUTE_DIRECTORY) != 0;
}
/* %USERPROFILE%, else %LOCALAPPDATA% (as UTF-8). */
OSSR__PRIVATE const char *ossr__home_dir(char *buf, size_t cap) {
    static const wchar_t *names[] = {L"USERPROFILE", L"LOCALAPPDATA"};
    wchar_t w[OSSR_PATH_MAX];
    int k;
    for (k = 0; k < 2; k++) {
        DWORD n = GetEnvironmentVariableW(names[k], w, OSSR_PATH_MAX);
        if (n > 0 && n < OSSR_PATH_MAX && WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)cap, NULL, NULL) > 1)
            return buf;
    }
    return NULL;
}
OSSR__PRIVATE void ossr__sync_parent(const char *path) { (void)path; }   /* MoveFileEx WRITE_THROUGH did it */
OSSR__PRIVATE int ossr__path_kind(const char *path) {
    wchar_t w[OSSR_PATH_MAX];
    DWORD a;
    if (ossr__wide(path, w, OSSR_PATH_MAX) != 0) return -1;
    a = GetFileAttributesW(w);
    if (a == INVALID_FILE_ATTRIBUTES) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return OSSR__PATH_NONE;
        ossr__win_errno();
        return -1;
    }
    return (a & FILE_ATTRIBUTE_REPARSE_POINT) ? OSSR__PATH_LINK : (a & FILE_ATTRIBUTE_DIRECTORY) ? OSSR__PATH_DIR
           : OSSR__PATH_FILE;
}
/* The lock is one byte far past the pid text, so that a second process can read it. */
OSSR__PRIVATE ossr__fh ossr__lock_file(const char *path, long *holder) {
    wchar_t w[OSSR_PATH_MAX];
    OVERLAPPED ov;
    HANDLE h;
    char t[24];
    DWORD n = 0;
    *holder = 0;
    if (ossr__wide(path, w, OSSR_PATH_MAX) != 0) return OSSR__BAD_FH;
    h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) { ossr__win_errno(); return OSSR__BAD_FH; }
    memset(&ov, 0, sizeof ov);
    ov.Offset = 0x40000000u;
    if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) {
        uint64_t pid = 0;
        if (ReadFile(h, t, sizeof t - 1, &n, NULL) && n > 1 && t[n - 1] == '\n' &&
            ossr__parse_u64(t, (size_t)n - 1, &pid) == 0)
            *holder = (long)pid;
        CloseHandle(h);
        errno = EAGAIN;
        return OSSR__BAD_FH;
    }
    ossr__say(t, sizeof t, "%lu\n", (unsigned long)GetCurrentProcessId());
    if (SetEndOfFile(h)) WriteFile(h, t, (DWORD)strlen(t), &n, NULL);
    return (ossr__fh)h;
}
/* The file stays: removing it could succeed under a process that has just locked it
   (the handles share delete), and a third would then lock a new file beside it. */
OSSR__PRIVATE void ossr__unlock_file(const char *path, ossr__fh fh) {
    (void)path;
    if (fh != OSSR__BAD_FH) CloseHandle((HANDLE)fh);
}
#endif

/* Reads exactly len bytes at off, or fails (a short file is an error: it changed). */
OSSR__PRIVATE int ossr__file_read_at(ossr__fh fh, void *buf, size_t len, uint64_t off) {
    unsigned char *p = (unsigned char *)buf;
    while (len > 0) {
        long n = ossr__file_pread(fh, p, len, off);
        if (n < 0) return -1;
        if (n == 0) { errno = ENODATA; return -1; }
        p += n; len -= (size_t)n; off += (uint64_t)n;
    }
    return 0;
}
OSSR__PRIVATE int ossr__file_write_all(ossr__fh fh, const void *buf, size_t len, uint64_t off) {
    const unsigned char *p = (const unsigned char *)buf;
    while (len > 0) {
        long n = ossr__file_pwrite(fh, p, len, off);
        if (n <= 0) { if (n == 0) errno = ENOSPC; return -1; }
        p += n; len -= (size_t)n; off += (uint64_t)n;
    }
    return 0;
}
/* Reads an bytes into a and the next bn into b with one call where the system has
   preadv: over TLS a is the record buffer and b the read-ahead in io, which halves
   the reads per byte (a syscall costs about as much as copying 16 KiB). */
OSSR__PRIVATE int ossr__file_read2_at(ossr__fh fh, char *a, size_t an, char *b, size_t bn, uint64_t off) {
#if OSSR__OS == 1 && (defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__))
    while (an + bn > 0) {
        struct iovec v[2];
        ssize_t n;
        size_t k;
        v[0].iov_base = a; v[0].iov_len = an;
        v[1].iov_base = b; v[1].iov_len = bn;
        n = an ? preadv((int)fh, v, 2, (off_t)off) : preadv((int)fh, v + 1, 1, (off_t)off);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        if (n == 0) { errno = ENODATA; return -1; }
        off += (uint64_t)n;
        k = (size_t)n < an ? (size_t)n : an;
        a += k; an -= k; n -= (ssize_t)k;
        b += n; bn -= (size_t)n;
    }
    return 0;
#else
    return ossr__file_read_at(fh, a, an, off) != 0 ? -1 : ossr__file_read_at(fh, b, bn, off + an);
#endif
}
/* mkdir -p with mode 0700 for the checkpoint directory. */
OSSR__PRIVATE int ossr__mkdirs(const char *dir) {
    char tmp[OSSR_PATH_MAX];
    size_t i, n = strlen(dir);
    if (n == 0 || n >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    memcpy(tmp, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0 || (OSSR__OS == 2 && tmp[i] == '\\')) {
            char c = tmp[i];
            tmp[i] = 0;
            if (ossr__mkdir(tmp) != 0) return -1;
            tmp[i] = c;
        }
    }
    return 0;
}

/* The system's files as the default file source: a handle is the file's plus one (so
   that none is NULL); a failure leaves the system's error in errno. */
#define OSSR__FH(file) ((ossr__fh)((uintptr_t)(file) - 1))
static int ossr__sys_open(const char *path, void **file, void *user) {
    ossr__fh fh = ossr__file_open(path, 0);
    (void)user;
    if (fh == OSSR__BAD_FH) return -1;
    *file = (void *)((uintptr_t)fh + 1);
    return 0;
}
static int ossr__sys_identity(void *file, uint64_t *size, int64_t *mtime_sec, uint32_t *mtime_nsec, void *user) {
    ossr__file_id id;
    (void)user;
    if (ossr__file_identity(OSSR__FH(file), &id) != 0) return -1;
    *size = id.size;
    *mtime_sec = id.mtime_sec;
    *mtime_nsec = id.mtime_nsec;
    return 0;
}
static int ossr__sys_read_at(void *file, void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    return ossr__file_read_at(OSSR__FH(file), buf, len, off);
}
static void ossr__sys_fclose(void *file, void *user) {
    (void)user;
    ossr__file_close(OSSR__FH(file));
}
static const ossr_file_io ossr__sys_files = { ossr__sys_open, ossr__sys_identity, ossr__sys_read_at, ossr__sys_fclose,
                                              NULL };
/* The system's files as the default download sink: a temporary file (tmp, absolute),
   renamed over target when whole. Its user is the call's own ossr__tmpfile. */
typedef struct ossr__tmpfile {
    const char *tmp, *target;
    const uint64_t *len;         /* the object's bytes: the file's length when whole */
} ossr__tmpfile;
static int ossr__sys_sink_open(const char *name, uint64_t size, int fresh, void **sink, void *user) {
    const ossr__tmpfile *t = (const ossr__tmpfile *)user;
    ossr__fh fh = OSSR__BAD_FH;
    (void)name; (void)size;
    if (ossr__path_kind(t->tmp) == OSSR__PATH_FILE) fh = ossr__file_open_rw(t->tmp);
    if (fh == OSSR__BAD_FH) {   /* none yet, or not a file (a link planted there is not followed) */
        ossr__file_remove(t->tmp);
        fh = ossr__file_open(t->tmp, 0644);
    }
    if (fh == OSSR__BAD_FH) return -1;
    if (fresh && ossr__file_truncate(fh, 0) != 0) { ossr__file_close(fh); return -1; }
    *sink = (void *)((uintptr_t)fh + 1);
    return 0;
}
static int ossr__sys_sink_write(void *sink, const void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    return ossr__file_write_all(OSSR__FH(sink), buf, len, off);
}
static int ossr__sys_sink_close(void *sink, int how, void *user) {
    const ossr__tmpfile *t = (const ossr__tmpfile *)user;
    ossr__fh fh = OSSR__FH(sink);
    int r = how == OSSR_SINK_COMMIT && (ossr__file_truncate(fh, *t->len) != 0 || ossr__file_sync(fh) != 0);
    ossr__file_close(fh);
    if (how == OSSR_SINK_COMMIT && !r) r = ossr__file_rename(t->tmp, t->target) != 0;
    if (how == OSSR_SINK_COMMIT && !r) ossr__sync_parent(t->tmp);   /* the target's directory too */
    if (how == OSSR_SINK_DROP) ossr__file_remove(t->tmp);
    return r ? -1 : 0;
}
static const ossr_sink ossr__sys_sink = { ossr__sys_sink_open, ossr__sys_sink_write, ossr__sys_read_at,
                                          ossr__sys_sink_close, NULL, 0 };
#endif /* OSSR__HAVE_FS */
/* The file source a call uses: the options' hook, else the system's files. 0 when there
   is none (OSSR_NO_STDIO without a hook). */
OSSR__PRIVATE int ossr__file_source(const ossr_options *o, ossr_file_io *f) {
#if OSSR__HAVE_FS
    *f = o->file_io ? *o->file_io : ossr__sys_files;
#else
    if (o->file_io) *f = *o->file_io;
#endif
    return o->file_io || OSSR__HAVE_FS;
}
/* The download sink a call uses: the options' hook, else a temporary file beside the
   target (t, the call's own, is its user). 0 when there is none (OSSR_NO_STDIO without
   a hook). */
OSSR__PRIVATE int ossr__download_sink(const ossr_options *o, void *t, ossr_sink *k) {
#if OSSR__HAVE_FS
    *k = ossr__sys_sink;
    k->user = t;
#else
    (void)t;
#endif
    if (o->sink) *k = *o->sink;
    return o->sink || OSSR__HAVE_FS;
}
/* The absolute path of a system file, into out: what names its checkpoint. */
OSSR__PRIVATE int ossr__sys_path(const char *path, char *out, size_t cap) {
#if OSSR__HAVE_FS
    return ossr__abs_path(path, 0, out, cap);
#else
    (void)path; (void)out; (void)cap;
    errno = EINVAL;
    return -1;
#endif
}
/* an bytes at off into a, then the next bn into b, from a system file: one system call
   where the system has preadv. */
OSSR__PRIVATE int ossr__sys_read2(void *file, char *a, size_t an, char *b, size_t bn, uint64_t off) {
#if OSSR__HAVE_FS
    return ossr__file_read2_at(OSSR__FH(file), a, an, b, bn, off);
#else
    (void)file; (void)a; (void)an; (void)b; (void)bn; (void)off;
    return -1;
#endif
}

#if OSSR__HAVE_NET
#ifndef SOCK_CLOEXEC
#  define SOCK_CLOEXEC 0     /* then FD_CLOEXEC is set with fcntl after socket() (POSIX) */
#endif
/* Sockets: connect with a timeout, send, receive; errors as ossr_result with the OS
   error in *os_err. */
#if OSSR__OS == 1
typedef int ossr__socket;
#  define OSSR__BAD_SOCKET (-1)
#  define ossr__sock_errno() errno
#  define ossr__closesocket(s) close(s)
#  define OSSR__EINPROGRESS(e) ((e) == EINPROGRESS)
#  define OSSR__EAGAIN(e) ((e) == EAGAIN || (e) == EWOULDBLOCK)
#else
typedef SOCKET ossr__socket;
#  define OSSR__BAD_SOCKET INVALID_SOCKET
#  define ossr__sock_errno() WSAGetLastError()
#  define ossr__closesocket(s) closesocket(s)
#  define OSSR__EINPROGRESS(e) ((e) == WSAEWOULDBLOCK || (e) == WSAEINPROGRESS)
#  define OSSR__EAGAIN(e) ((e) == WSAEWOULDBLOCK)
#endif
/* Closes a connected socket. On Win32 each connected socket holds one WSAStartup
   reference, released here. */
OSSR__PRIVATE void ossr__sock_close(ossr__socket *s) {
    if (*s == OSSR__BAD_SOCKET) return;
    ossr__closesocket(*s);
    *s = OSSR__BAD_SOCKET;
#if OSSR__OS == 2
    WSACleanup();
#endif
}
/* Switches blocking off: a socket stays non-blocking for its whole life, every wait
   is a poll (ossr__sock_poll) that notices a cancel. 0, or the system's error. */
OSSR__PRIVATE int ossr__sock_nonblock(ossr__socket s) {
#if OSSR__OS == 1
    int fl = fcntl(s, F_GETFL, 0);
    return fl < 0 || fcntl(s, F_SETFL, fl | O_NONBLOCK) != 0 ? errno : 0;
#else
    u_long on = 1;
    return ioctlsocket(s, FIONBIO, &on) != 0 ? WSAGetLastError() : 0;
#endif
}
/* Waits at most tmo ms until one of n (at most 64) sockets can be written (out[i]
   nonzero) or read, or has failed (the next call on it says how); ready[i] says which.
   The count ready, 0 when none (or a signal came first), -1 when the wait failed. */
OSSR__PRIVATE int ossr__sock_poll(const ossr__socket *s, const int *out, int n, int tmo, int *ready) {
    int i, rc;
#if OSSR__OS == 1
    struct pollfd pfd[64];
    for (i = 0; i < n; i++) {
        pfd[i].fd = s[i];
        pfd[i].events = (short)(out[i] ? POLLOUT : POLLIN);
        pfd[i].revents = 0;
    }
    rc = poll(pfd, (nfds_t)n, tmo);
    if (rc < 0 && errno == EINTR) rc = 0;
    for (i = 0; i < n; i++) ready[i] = rc > 0 && pfd[i].revents != 0;
#else
    fd_set rd, wr, ex;   /* a failed connect shows in the exception set only */
    struct timeval tv;
    FD_ZERO(&rd); FD_ZERO(&wr); FD_ZERO(&ex);
    for (i = 0; i < n; i++) { FD_SET(s[i], out[i] ? &wr : &rd); FD_SET(s[i], &ex); }
    tv.tv_sec = tmo / 1000;
    tv.tv_usec = (tmo % 1000) * 1000;
    rc = select(0, &rd, &wr, &ex, &tv);
    for (i = 0; i < n; i++)
        ready[i] = rc > 0 && (FD_ISSET(s[i], out[i] ? &wr : &rd) || FD_ISSET(s[i], &ex));
#endif
    return rc;
}
/* Waits until the socket can be read (out 0) or written (out 1), in slices of at most
   100 ms that notice a cancel: 1 ready (or failed: the next call says how), 0 when the
   clock reaches end (ms) or the wait itself fails, -1 when cancelled. */
OSSR__PRIVATE int ossr__sock_wait(ossr__socket s, int out, int64_t end, const ossr_options *o) {
    for (;;) {
        int64_t left = end - ossr__now_ms(o);
        int ready, rc;
        if (ossr__cancel_requested(o)) return -1;
        if (left <= 0) return 0;
        rc = ossr__sock_poll(&s, &out, 1, left < 100 ? (int)left : 100, &ready);
        if (rc != 0) return rc > 0;
    }
}
/* Waits until a non-blocking connect finishes: 0 connected, else the error (timeouts:
   -1, a cancel: -2). */
OSSR__PRIVATE int ossr__sock_wait_connect(ossr__socket s, int timeout_ms, const ossr_options *o) {
    int soerr = 0, rc = ossr__sock_wait(s, 1, ossr__now_ms(o) + timeout_ms, o);
    socklen_t sl = sizeof soerr;
    if (rc <= 0) return rc == 0 ? -1 : -2;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&soerr, &sl) != 0) return ossr__sock_errno();
    return soerr;
}
/* Connects to host:port (any address family), waiting at most timeout_ms per address. */
OSSR__PRIVATE ossr_result ossr__sock_connect(const char *host, uint16_t port_num, int timeout_ms,
                                             const ossr_options *o, ossr__socket *out, int *os_err) {
    struct addrinfo hints, *res = NULL, *ai;
    ossr_result r = OSSR_E_CONNECT;
    char digits[8], *port = digits + sizeof digits - 1;
    int rc;
#if OSSR__OS == 2
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) { *os_err = WSAGetLastError(); return OSSR_E_CONNECT; }
#endif
    *port = 0;
    do { *--port = (char)('0' + port_num % 10); port_num /= 10; } while (port_num);   /* getaddrinfo's service */
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0 && rc != EAI_AGAIN && rc != EAI_MEMORY) {  /* AI_ADDRCONFIG hides loopback-only hosts */
        hints.ai_flags = 0;
        rc = getaddrinfo(host, port, &hints, &res);
    }
    if (rc != 0 || !res) {
        *os_err = rc;
#if OSSR__OS == 2
        WSACleanup();
#endif
        return OSSR_E_RESOLVE;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        ossr__socket fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1, e;
        if (fd == OSSR__BAD_SOCKET) { *os_err = ossr__sock_errno(); continue; }
#if OSSR__OS == 1
        if (SOCK_CLOEXEC == 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
        e = ossr__sock_nonblock(fd);   /* else no wait could end it */
        rc = e ? -1 : connect(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen);
        if (!e) e = rc != 0 ? ossr__sock_errno() : 0;
        if (rc != 0 && OSSR__EINPROGRESS(e)) e = ossr__sock_wait_connect(fd, timeout_ms, o);
        if (e) {
            ossr__closesocket(fd);
            *os_err = e < 0 ? ETIMEDOUT : e;
            r = e == -2 ? OSSR_E_CANCELLED : e < 0 ? OSSR_E_TIMEOUT : OSSR_E_CONNECT;
            if (e == -2) break;
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
#ifdef SO_NOSIGPIPE
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
        *out = fd;
        *os_err = 0;
        freeaddrinfo(res);
        return OSSR_OK;
    }
    freeaddrinfo(res);
#if OSSR__OS == 2
    WSACleanup();
#endif
    return r;
}
/* One send or receive: the count (> 0; 0 for a receive at the end of the stream), or a
   negative result. It waits (ossr__sock_wait: timeout_ms in all, ending early on a
   cancel) only as long as the call would block. */
OSSR__PRIVATE long ossr__sock_io(ossr__socket fd, int out, char *p, size_t n, int timeout_ms, const ossr_options *o,
                                 int *os_err) {
    int64_t end = 0;   /* set when a call first would block */
    int w, e;
    long k;
    if (n > 0x40000000u) n = 0x40000000u;
    for (;;) {
#if OSSR__OS == 1
        k = (long)(out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0));
#else
        k = out ? send(fd, p, (int)n, 0) : recv(fd, p, (int)n, 0);
#endif
        if (k > 0 || (k == 0 && !out)) return k;
        e = k < 0 ? ossr__sock_errno() : 0;
        if (k < 0 && OSSR__OS == 1 && e == EINTR) continue;
        if (k == 0 || !OSSR__EAGAIN(e)) {
            *os_err = e;
            return out ? OSSR_E_SEND : OSSR_E_RECV;
        }
        if (!end) end = ossr__now_ms(o) + timeout_ms;
        if ((w = ossr__sock_wait(fd, out, end, o)) <= 0) {
            *os_err = w < 0 ? 0 : ETIMEDOUT;
            return w < 0 ? OSSR_E_CANCELLED : OSSR_E_TIMEOUT;
        }
    }
}
/* Words for a resolver error. */
OSSR__PRIVATE const char *ossr__gai_str(int e) {
#if OSSR__OS == 1
    return gai_strerror(e);
#else
    (void)e;
    return "no such host";
#endif
}

/* The system's sockets as the default transport hook: a connection is its socket plus
   one (so that none is NULL); a failure leaves the system's error in errno; user is the
   call's options (for their cancel flag). */
#define OSSR__SOCK(conn) ((ossr__socket)((uintptr_t)(conn) - 1))
static ossr_result ossr__sys_connect(const char *host, uint16_t port, int timeout_ms, void **conn, void *user) {
    ossr__socket fd = OSSR__BAD_SOCKET;
    int e = 0;
    ossr_result r = ossr__sock_connect(host, port, timeout_ms, (const ossr_options *)user, &fd, &e);
    if (r == OSSR_OK) *conn = (void *)((uintptr_t)fd + 1);
    errno = e;
    return r;
}
static long ossr__sys_send(void *conn, const void *buf, size_t len, int timeout_ms, void *user) {
    int e = 0;
    long k = ossr__sock_io(OSSR__SOCK(conn), 1, (char *)(uintptr_t)buf, len, timeout_ms, (const ossr_options *)user, &e);
    errno = e;
    return k;
}
static long ossr__sys_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    int e = 0;
    long k = ossr__sock_io(OSSR__SOCK(conn), 0, (char *)buf, cap, timeout_ms, (const ossr_options *)user, &e);
    errno = e;
    return k;
}
static void ossr__sys_close(void *conn, void *user) {
    ossr__socket s = OSSR__SOCK(conn);
    (void)user;
    ossr__sock_close(&s);
}
static const ossr_transport ossr__sys_sockets = { ossr__sys_connect, ossr__sys_send, ossr__sys_recv, ossr__sys_close,
                                                   NULL, NULL };
#endif /* OSSR__HAVE_NET */
/* The transport a call uses: the options' hook, else the system's sockets (user: the
   options). 0 when there is none (OSSR_NO_SOCKETS without a hook). */
OSSR__PRIVATE int ossr__transport(const ossr_options *o, ossr_transport *t) {
#if OSSR__HAVE_NET
    *t = o->transport ? *o->transport : ossr__sys_sockets;
    if (!o->transport) t->user = (void *)(uintptr_t)o;
#else
    if (o->transport) *t = *o->transport;
#endif
    return o->transport || OSSR__HAVE_NET;
}
/* Waits at most tmo ms until one of n system connections (from ossr__transport) can be
   written (out[i] nonzero) or read; ready[i] says which can. The count ready, 0 when
   none, or -1 (also without sockets). */
OSSR__PRIVATE int ossr__sys_poll(void *const *conns, const int *out, int n, int tmo, int *ready) {
#if OSSR__HAVE_NET
    ossr__socket fds[64];
    int i;
    if (n < 1) return 0;
    if (n > 64) n = 64;
    for (i = 0; i < n; i++) fds[i] = OSSR__SOCK(conns[i]);
    return ossr__sock_poll(fds, out, n, tmo, ready);
#else
    (void)conns; (void)out; (void)n; (void)tmo; (void)ready;
    return -1;
#endif
}

/* Threads: a mutex and run-N-workers-and-join over pthreads or Win32; with
   OSSR_NO_THREADS one worker runs inline and the mutex is a no-op. */
#if defined(OSSR_NO_THREADS)
#  define OSSR__THREADS 0
#elif defined(_WIN32)
#  define OSSR__THREADS 2
#else
#  define OSSR__THREADS 1
#endif
#if OSSR__THREADS == 1
typedef pthread_mutex_t ossr__mutex;
#  define ossr__mutex_init(m)    pthread_mutex_init((m), NULL)
#  define ossr__mutex_destroy(m) pthread_mutex_destroy(m)
#  define ossr__lock(m)          pthread_mutex_lock(m)
#  define ossr__unlock(m)        pthread_mutex_unlock(m)
#elif OSSR__THREADS == 2
typedef CRITICAL_SECTION ossr__mutex;
#  define ossr__mutex_init(m)    InitializeCriticalSection(m)
#  define ossr__mutex_destroy(m) DeleteCriticalSection(m)
#  define ossr__lock(m)          EnterCriticalSection(m)
#  define ossr__unlock(m)        LeaveCriticalSection(m)
#else
typedef int ossr__mutex;
#  define ossr__mutex_init(m)    ((void)(m))
#  define ossr__mutex_destroy(m) ((void)(m))
#  define ossr__lock(m)          ((void)(m))
#  define ossr__unlock(m)        ((void)(m))
#endif
typedef void (*ossr__thread_fn)(void *arg);
typedef struct ossr__thread_arg { ossr__thread_fn fn; void *arg; } ossr__thread_arg;
#if OSSR__THREADS == 1
typedef pthread_t ossr__thread;
static void *ossr__thread_main(void *p) {
    ossr__thread_arg *a = (ossr__thread_arg *)p;
    a->fn(a->arg);
    return NULL;
}
OSSR__PRIVATE int ossr__thread_start(ossr__thread *t, ossr__thread_arg *a) {
    return pthread_create(t, NULL, ossr__thread_main, a) == 0;
}
OSSR__PRIVATE void ossr__thread_join(ossr__thread t) { pthread_join(t, NULL); }
#elif OSSR__THREADS == 2
typedef HANDLE ossr__thread;
static DWORD WINAPI ossr__thread_main(LPVOID p) {
    ossr__thread_arg *a = (ossr__thread_arg *)p;
    a->fn(a->arg);
    return 0;
}
OSSR__PRIVATE int ossr__thread_start(ossr__thread *t, ossr__thread_arg *a) {
    *t = CreateThread(NULL, 0, ossr__thread_main, a, 0, NULL);
    return *t != NULL;
}
OSSR__PRIVATE void ossr__thread_join(ossr__thread t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
#endif
/* Runs fn(args[i]) for i < n, in parallel where threads exist; args points at n objects
   of size stride. Returns the number of workers that could not be started (they run
   inline on the calling thread instead, so no work is lost). */
OSSR__PRIVATE int ossr__run_workers(ossr__thread_fn fn, void *args, size_t stride, int n) {
    int i, failed = 0;
#if OSSR__THREADS
    ossr__thread tid[64];
    ossr__thread_arg ta[64];
    int started[64];
    if (n > 64) n = 64;
    for (i = 1; i < n; i++) {
        ta[i].fn = fn;
        ta[i].arg = (char *)args + (size_t)i * stride;
        started[i] = ossr__thread_start(&tid[i], &ta[i]);
        if (!started[i]) failed++;
    }
    fn(args);
    for (i = 1; i < n; i++) {
        if (started[i]) ossr__thread_join(tid[i]);
        else fn((char *)args + (size_t)i * stride);
    }
#else
    for (i = 0; i < n; i++) fn((char *)args + (size_t)i * stride);
#endif
    return failed;
}

/* >>strings ------------------------------------------------------------------------- */
/* A bounded string builder: appends never overflow; the first append that does not fit
   sets overflow, and the caller checks it once at the end. */
typedef struct ossr__sb {
    char *p;
    size_t len, cap;
    int overflow;
} ossr__sb;

/* 0-15 for a hex digit, else -1. */
OSSR__PRIVATE int ossr__hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}
OSSR__PRIVATE OSSR__NOINLINE void ossr__sb_init(ossr__sb *b, char *p, size_t cap) {
    b->p = p; b->len = 0; b->cap = cap; b->overflow = 0;
    if (cap) p[0] = 0;
}
OSSR__PRIVATE void ossr__sb_put(ossr__sb *b, const char *s, size_t n) {
    if (b->overflow || n >= b->cap - b->len) { b->overflow = 1; return; }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
OSSR__PRIVATE void ossr__sb_puts(ossr__sb *b, const char *s) { ossr__sb_put(b, s, strlen(s)); }
OSSR__PRIVATE void ossr__sb_putc(ossr__sb *b, char c) { ossr__sb_put(b, &c, 1); }
/* "name: value\r\n" */
OSSR__PRIVATE void ossr__sb_hdr(ossr__sb *b, const char *name, const char *value) {
    ossr__sb_puts(b, name); ossr__sb_put(b, ": ", 2); ossr__sb_puts(b, value); ossr__sb_put(b, "\r\n", 2);
}
OSSR__PRIVATE void ossr__sb_u64(ossr__sb *b, uint64_t v) {
    char t[24];
    int i = 24;
    do { t[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    ossr__sb_put(b, t + i, (size_t)(24 - i));
}
/* printf for the library's own messages, without stdio (OSSR_NO_STDIO builds have
   none): %s %c %d %u %x %X and %%, the lengths l and ll, and for numbers a width (padded
   with zeros: %02d) and a precision (.N digits at least; %.0u of 0 is nothing). Writes
   what fits into out (NUL-terminated when cap > 0) and returns the whole length. */
OSSR__PRIVATE size_t ossr__vfmt(char *out, size_t cap, const char *f, va_list ap) {
    size_t n = 0, len, i;
    for (; *f; f++) {
        char num[24];
        const char *s = f;
        int width = 0, prec = -1, lng = 0, neg = 0;
        len = 1;
        if (*f == '%') {
            while (*++f >= '0' && *f <= '9') width = width * 10 + (*f - '0');
            if (*f == '.') for (prec = 0; *++f >= '0' && *f <= '9';) prec = prec * 10 + (*f - '0');
            for (; *f == 'l'; f++) lng++;
            if (!*f) break;
            s = f;            /* %% and anything unknown: the character itself */
            if (*f == 's') {
                s = va_arg(ap, const char *);
                if (!s) s = "(null)";
                len = strlen(s);
            } else if (*f == 'c') {
                num[0] = (char)va_arg(ap, int);
                s = num;
            } else if (*f == 'd' || *f == 'u' || *f == 'x' || *f == 'X') {
                const char *dig = *f == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
                unsigned base = *f == 'x' || *f == 'X' ? 16u : 10u;
                unsigned long long v;
                if (*f == 'd') {
                    long long sv = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
                    neg = sv < 0;
                    v = neg ? 0ull - (unsigned long long)sv : (unsigned long long)sv;
                } else {
                    v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
                }
                i = sizeof num;
                for (; v || (i == sizeof num && prec != 0); v /= base) num[--i] = dig[v % base];
                if (prec < width - neg) prec = width - neg;
                while (prec > 0 && sizeof num - i < (size_t)prec && i > 1) num[--i] = '0';
                if (neg) num[--i] = '-';
                s = num + i;
                len = sizeof num - i;
            }
        }
        for (i = 0; i < len; i++, n++) if (n + 1 < cap) out[n] = s[i];
    }
    if (cap) out[n < cap ? n : cap - 1] = 0;
    return n;
}
/* Why an I/O call failed: the system's words for its error, or the result's when there
   is no errno (a transport hook reports only a result). */
OSSR__PRIVATE const char *ossr__io_words(int os_err, ossr_result r) {
    return os_err ? strerror(os_err) : ossr_result_str(r);
}
/* snprintf without stdio: what fits goes into out. */
OSSR__PRIVATE void ossr__say(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    if (!out || cap == 0) return;
    va_start(ap, fmt);
    ossr__vfmt(out, cap, fmt, ap);
    va_end(ap);
}
OSSR__PRIVATE void ossr__sb_printf(ossr__sb *b, const char *fmt, ...) {
    va_list ap;
    size_t n;
    if (b->overflow) return;
    va_start(ap, fmt);
    n = ossr__vfmt(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= b->cap - b->len) { b->overflow = 1; b->p[b->len] = 0; return; }
    b->len += n;
}
static const char ossr__hex_upper[] = "0123456789ABCDEF";
static const char ossr__hex_lower[] = "0123456789abcdef";
OSSR__PRIVATE void ossr__sb_hex(ossr__sb *b, const unsigned char *d, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        ossr__sb_putc(b, ossr__hex_lower[d[i] >> 4]);
        ossr__sb_putc(b, ossr__hex_lower[d[i] & 15]);
    }
}
OSSR__PRIVATE int ossr__unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}
OSSR__PRIVATE void ossr__sb_urlenc(ossr__sb *b, const char *s, size_t n, int keep_slash) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (ossr__unreserved(c) || (keep_slash && c == '/')) ossr__sb_putc(b, (char)c);
        else {
            char e[3];
            e[0] = '%'; e[1] = ossr__hex_upper[c >> 4]; e[2] = ossr__hex_upper[c & 15];
            ossr__sb_put(b, e, 3);
        }
    }
}
OSSR__DEF size_t ossr_url_encode(const char *s, size_t len, int keep_slash, char *out, size_t cap) {
    ossr__sb b;
    if (cap == 0) return (size_t)-1;
    ossr__sb_init(&b, out, cap);
    ossr__sb_urlenc(&b, s, len, keep_slash);
    return b.overflow ? (size_t)-1 : b.len;
}
OSSR__PRIVATE int ossr__lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
/* Case-insensitive equality of a slice and a C string. */
OSSR__PRIVATE int ossr__slice_ieq(ossr_slice s, const char *z) {
    size_t i, n = strlen(z);
    if (s.len != n) return 0;
    for (i = 0; i < n; i++)
        if (ossr__lower((unsigned char)s.ptr[i]) != ossr__lower((unsigned char)z[i])) return 0;
    return 1;
}
OSSR__PRIVATE int ossr__ieq(const char *a, const char *b) {
    ossr_slice s;
    s.ptr = a; s.len = strlen(a);
    return ossr__slice_ieq(s, b);
}
OSSR__PRIVATE int ossr__istarts(const char *s, const char *prefix) {
    size_t i;
    for (i = 0; prefix[i]; i++)
        if (ossr__lower((unsigned char)s[i]) != ossr__lower((unsigned char)prefix[i])) return 0;
    return 1;
}
/* Whether s is one of the words of list, each NUL-terminated, the list ended by an empty one. */
OSSR__PRIVATE int ossr__one_of(const char *s, const char *list) {
    for (; *list; list += strlen(list) + 1)
        if (!strcmp(s, list)) return 1;
    return 0;
}
/* Copies a slice into a C string buffer, truncating; always NUL-terminates (cap > 0). */
OSSR__PRIVATE void ossr__copy(char *dst, size_t cap, const char *src, size_t n) {
    if (cap == 0) return;
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}
/* Strict unsigned decimal: digits only, no sign, no overflow. 0 on success. */
OSSR__PRIVATE int ossr__parse_u64(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    size_t i;
    if (n == 0 || n > 20) return -1;
    for (i = 0; i < n; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9') return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Calendar conversion (UTC, proleptic Gregorian) without gmtime's static state. */
OSSR__PRIVATE void ossr__civil(int64_t t, int *y, int *mo, int *d, int *h, int *mi, int *s, int *wd) {
    int64_t days = t / 86400, rem = t % 86400, era, yoe, doy, mp;
    if (rem < 0) { rem += 86400; days--; }
    *h = (int)(rem / 3600); *mi = (int)(rem / 60 % 60); *s = (int)(rem % 60);
    *wd = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    {
        int64_t doe = days - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    }
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mo = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*mo <= 2));
}
/* Days since 1970-01-01 of a proleptic Gregorian date (the inverse of ossr__civil). */
OSSR__PRIVATE int64_t ossr__days_from_civil(int64_t y, int m, int d) {
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
/* Reads the dates servers send: "Tue, 03 Dec 2024 08:15:30 GMT" (RFC 1123, the Date
   header) and "2024-12-03T08:15:30.000Z" (ISO 8601, <ServerTime>). 0 on success. */
/* 1-12 for an English month abbreviation ("Jan".."Dec") at p, else 0. */
OSSR__PRIVATE int ossr__month(const char *p) {
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int k;
    for (k = 0; k < 12; k++)
        if (memcmp(mon + 3 * k, p, 3) == 0) return k + 1;
    return 0;
}
/* Reads up to max decimal digits at *p (at least one) into *v; moves *p past them. */
OSSR__PRIVATE int ossr__num(const char **p, const char *end, int max, int *v) {
    int k = 0;
    *v = 0;
    while (k < max && *p < end && **p >= '0' && **p <= '9') { *v = *v * 10 + (*(*p)++ - '0'); k++; }
    return k > 0;
}
/* Expects the character c at *p and steps over it. */
OSSR__PRIVATE int ossr__skip(const char **p, const char *end, char c) {
    if (*p >= end || **p != c) return 0;
    (*p)++;
    return 1;
}
OSSR__PRIVATE int ossr__parse_date(const char *s, size_t n, int64_t *out) {
    static const char fields[] = "YmdHMS";   /* the letters of a pattern: year, month ... second */
    const char *p = s, *end = s + n, *f, *k;
    int v[6] = {0, 0, 0, 0, 0, 0};           /* y mo d h mi sec */
    if (n >= 19 && s[4] == '-' && s[10] == 'T') f = "Y-m-dTH:M:S";
    else {
        while (p < end && *p != ',') p++;
        if (!ossr__skip(&p, end, ',')) return -1;
        while (p < end && *p == ' ') p++;
        f = "d b Y H:M:S";                   /* b: an English month abbreviation */
    }
    for (; *f; f++) {
        if (*f == 'b') {
            if (end - p < 4) return -1;
            v[1] = ossr__month(p);
            p += 3;
        } else if ((k = strchr(fields, *f)) != NULL) {
            if (!ossr__num(&p, end, *f == 'Y' ? 4 : 2, &v[k - fields])) return -1;
        } else if (!ossr__skip(&p, end, *f)) return -1;
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60 || v[0] < 1970 ||
        v[0] > 9999) return -1;
    *out = ossr__days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    return 0;
}
/* "Tue, 03 Dec 2024 08:15:30 GMT" */
OSSR__PRIVATE void ossr__http_date(int64_t t, char out[40]) {
    static const char *wdn[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, mo, d, h, mi, s, wd;
    ossr__civil(t, &y, &mo, &d, &h, &mi, &s, &wd);
    ossr__say(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", wdn[wd], d, mon[mo - 1], y, h, mi, s);
}
/* "20241203T081530Z" */
OSSR__PRIVATE void ossr__iso_date(int64_t t, char out[40]) {
    int y, mo, d, h, mi, s, wd;
    ossr__civil(t, &y, &mo, &d, &h, &mi, &s, &wd);
    ossr__say(out, 40, "%04d%02d%02dT%02d%02d%02dZ", y, mo, d, h, mi, s);
}

/* >>hash: MD5, SHA-1, SHA-256, HMAC, base64 ------------------------------------------ */
/* Compact portable implementations written from RFC 1321, FIPS 180-4 and RFC 2104.
   Contexts are plain values (safe to copy). */
#define OSSR__ROL32(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define OSSR__ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

OSSR__PRIVATE uint32_t ossr__be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
OSSR__PRIVATE uint32_t ossr__le32(const unsigned char *p) {
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}
OSSR__PRIVATE uint64_t ossr__le64(const unsigned char *p) {
    return (uint64_t)ossr__le32(p) | ((uint64_t)ossr__le32(p + 4) << 32);
}
OSSR__PRIVATE OSSR__NOINLINE void ossr__put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
OSSR__PRIVATE void ossr__put_le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
OSSR__PRIVATE void ossr__put_le64(unsigned char *p, uint64_t v) {
    ossr__put_le32(p, (uint32_t)v);
    ossr__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* The three hashes share block buffering; kind selects the compression function. */
enum { OSSR__MD5 = 0, OSSR__SHA1 = 1, OSSR__SHA256 = 2 };
typedef struct ossr__hash {
    int kind;
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t fill;
} ossr__hash;

static const uint32_t ossr__sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t ossr__md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const unsigned char ossr__md5_r[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20,
    5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

OSSR__PRIVATE void ossr__md5_block(uint32_t *h, const unsigned char *p) {
    uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3];
    int i;
    for (i = 0; i < 16; i++) w[i] = ossr__le32(p + 4 * i);
    for (i = 0; i < 64; i++) {
        uint32_t f, t;
        int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
        else { f = c ^ (b | ~d); g = (7 * i) & 15; }
        t = d; d = c; c = b;
        f = a + f + ossr__md5_k[i] + w[g];
        b = b + OSSR__ROL32(f, ossr__md5_r[i]);
        a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
}
OSSR__PRIVATE void ossr__sha1_block(uint32_t *h, const unsigned char *p) {
    uint32_t w[16], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];   /* the schedule, 16 words at a time */
    int i;
    for (i = 0; i < 16; i++) w[i] = ossr__be32(p + 4 * i);
    for (i = 0; i < 80; i++) {
        uint32_t f, k, t;
        if (i >= 16)
            w[i & 15] = OSSR__ROL32(w[(i - 3) & 15] ^ w[(i - 8) & 15] ^ w[(i - 14) & 15] ^ w[i & 15], 1);
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc; }
        else { f = b ^ c ^ d; k = 0xca62c1d6; }
        t = OSSR__ROL32(a, 5) + f + e + k + w[i & 15];
        e = d; d = c; c = OSSR__ROL32(b, 30); b = a; a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}
OSSR__PRIVATE void ossr__sha256_block(uint32_t *h, const unsigned char *p) {
    uint32_t w[16], s[8];   /* the schedule, 16 words at a time */
    int i;
    for (i = 0; i < 16; i++) w[i] = ossr__be32(p + 4 * i);
    for (i = 0; i < 8; i++) s[i] = h[i];
    for (i = 0; i < 64; i++) {
        if (i >= 16) {
            uint32_t x = w[(i - 15) & 15], y = w[(i - 2) & 15];
            w[i & 15] += (OSSR__ROR32(x, 7) ^ OSSR__ROR32(x, 18) ^ (x >> 3)) + w[(i - 7) & 15] +
                         (OSSR__ROR32(y, 17) ^ OSSR__ROR32(y, 19) ^ (y >> 10));
        }
        uint32_t S1 = OSSR__ROR32(s[4], 6) ^ OSSR__ROR32(s[4], 11) ^ OSSR__ROR32(s[4], 25);
        uint32_t ch = (s[4] & s[5]) ^ (~s[4] & s[6]);
        uint32_t t1 = s[7] + S1 + ch + ossr__sha256_k[i] + w[i & 15];
        uint32_t S0 = OSSR__ROR32(s[0], 2) ^ OSSR__ROR32(s[0], 13) ^ OSSR__ROR32(s[0], 22);
        uint32_t mj = (s[0] & s[1]) ^ (s[0] & s[2]) ^ (s[1] & s[2]);
        s[7] = s[6]; s[6] = s[5]; s[5] = s[4]; s[4] = s[3] + t1;
        s[3] = s[2]; s[2] = s[1]; s[1] = s[0]; s[0] = t1 + S0 + mj;
    }
    for (i = 0; i < 8; i++) h[i] += s[i];
}
OSSR__PRIVATE void ossr__hash_init(ossr__hash *c, int kind) {
    static const uint32_t iv_md5[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    static const uint32_t iv_sha1[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    static const uint32_t iv_sha256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memset(c, 0, sizeof *c);
    c->kind = kind;
    if (kind == OSSR__MD5) memcpy(c->h, iv_md5, sizeof iv_md5);
    else if (kind == OSSR__SHA1) memcpy(c->h, iv_sha1, sizeof iv_sha1);
    else memcpy(c->h, iv_sha256, sizeof iv_sha256);
}
OSSR__PRIVATE void ossr__hash_block(ossr__hash *c, const unsigned char *p) {
    if (c->kind == OSSR__MD5) ossr__md5_block(c->h, p);
    else if (c->kind == OSSR__SHA1) ossr__sha1_block(c->h, p);
    else ossr__sha256_block(c->h, p);
}
OSSR__PRIVATE void ossr__hash_update(ossr__hash *c, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    c->total += len;
    if (c->fill) {
        size_t n = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, n);
        c->fill += n; p += n; len -= n;
        if (c->fill < 64) return;
        ossr__hash_block(c, c->block);
        c->fill = 0;
    }
    while (len >= 64) { ossr__hash_block(c, p); p += 64; len -= 64; }
    memcpy(c->block, p, len);
    c->fill = len;
}
/* Writes the digest (16, 20 or 32 bytes) and returns its length. */
OSSR__PRIVATE size_t ossr__hash_final(ossr__hash *c, unsigned char *out) {
    uint64_t bits = c->total * 8;
    unsigned char pad[72];
    size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill, i, n;
    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    if (c->kind == OSSR__MD5) ossr__put_le64(pad + padlen, bits);
    else { ossr__put_be32(pad + padlen, (uint32_t)(bits >> 32)); ossr__put_be32(pad + padlen + 4, (uint32_t)bits); }
    {
        uint64_t keep = c->total;
        ossr__hash_update(c, pad, padlen + 8);
        c->total = keep;
    }
    n = c->kind == OSSR__MD5 ? 4 : c->kind == OSSR__SHA1 ? 5 : 8;
    for (i = 0; i < n; i++) {
        if (c->kind == OSSR__MD5) ossr__put_le32(out + 4 * i, c->h[i]);
        else ossr__put_be32(out + 4 * i, c->h[i]);
    }
    return n * 4;
}
OSSR__PRIVATE OSSR__NOINLINE size_t ossr__hash_once(int kind, const void *data, size_t len, unsigned char *out) {
    ossr__hash c;
    ossr__hash_init(&c, kind);
    ossr__hash_update(&c, data, len);
    return ossr__hash_final(&c, out);
}
/* HMAC with SHA-1 or SHA-256 (RFC 2104). Returns the MAC length. */
OSSR__PRIVATE size_t ossr__hmac(int kind, const void *key, size_t klen, const void *msg,
                                size_t mlen, unsigned char *out) {
    unsigned char k[64], pad[64], inner[32];
    ossr__hash c;
    size_t i, n;
    memset(k, 0, sizeof k);
    if (klen > 64) ossr__hash_once(kind, key, klen, k);
    else memcpy(k, key, klen);
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
    ossr__hash_init(&c, kind);
    ossr__hash_update(&c, pad, 64);
    ossr__hash_update(&c, msg, mlen);
    n = ossr__hash_final(&c, inner);
    for (i = 0; i < 64; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
    ossr__hash_init(&c, kind);
    ossr__hash_update(&c, pad, 64);
    ossr__hash_update(&c, inner, n);
    n = ossr__hash_final(&c, out);
    memset(k, 0, sizeof k);
    memset(pad, 0, sizeof pad);
    return n;
}
OSSR__PRIVATE void ossr__sb_base64(ossr__sb *b, const unsigned char *d, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)d[i] << 16) | ((uint32_t)d[i + 1] << 8) | d[i + 2];
        char q[4];
        q[0] = tab[v >> 18]; q[1] = tab[(v >> 12) & 63]; q[2] = tab[(v >> 6) & 63]; q[3] = tab[v & 63];
        ossr__sb_put(b, q, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)d[i] << 16;
        char q[4];
        q[0] = tab[v >> 18]; q[1] = tab[(v >> 12) & 63]; q[2] = '='; q[3] = '=';
        ossr__sb_put(b, q, 4);
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)d[i] << 16) | ((uint32_t)d[i + 1] << 8);
        char q[4];
        q[0] = tab[v >> 18]; q[1] = tab[(v >> 12) & 63]; q[2] = tab[(v >> 6) & 63]; q[3] = '=';
        ossr__sb_put(b, q, 4);
    }
}

/* >>crc64 --------------------------------------------------------------------------- */
/* CRC-64/XZ (reflected polynomial 0xC96C5795D7870F42, init and xorout all ones), the
   checksum OSS reports in x-oss-hash-crc64ecma.

   Polynomials mod P are kept reflected: bit i of a uint64_t is the coefficient of
   x^(63-i), so 1ull << 63 is 1 and multiplying by x is a right shift. The engines work
   on the register (the CRC before the final inversion):
   - slicing-by-8 over tables (16 KiB, built in RAM at the first CRC) where there is an
     operating system; without one (or with OSSR_CRC64_SMALL) a 16-entry table in flash
     that takes a byte in two steps, so a microcontroller spends no RAM on it;
   - carry-less multiply folding (x86-64 PCLMULQDQ, 4 lanes of 16 bytes; VPCLMULQDQ on
     AVX-512, 16 lanes; AArch64 PMULL when compiled with the crypto extension).
     A 128-bit block X = H.x^64 + L moved D bits forward is H.(x^(D+64) mod P) +
     L.(x^D mod P); a carry-less product of two reflected words comes out multiplied by
     x, so the constants are x^(D+63) and x^(D-1) mod P. The last 16 bytes of the fold
     and the tail go through the tables: no Barrett step to get wrong.
   Tables, constants and the engine choice are made exactly once per process
   (pthread_once / InitOnce) and constant from then on. */
#define OSSR__CRC64_POLY 0xC96C5795D7870F42ull
#define OSSR__X0 0x8000000000000000ull          /* the polynomial 1 */
#if !OSSR__OS && !defined(OSSR_CRC64_SMALL)
#  define OSSR_CRC64_SMALL 1
#endif
typedef uint64_t (*ossr__crc64_fn)(uint64_t reg, const unsigned char *p, size_t len);

/* a.b mod P */
OSSR__PRIVATE uint64_t ossr__crc64_mulmod(uint64_t a, uint64_t b) {
    uint64_t m = OSSR__X0, prod = 0;
    for (;;) {
        if (a & m) {
            prod ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ OSSR__CRC64_POLY : b >> 1;
    }
    return prod;
}
/* x^(n.2^shift) mod P (shift <= 3), squaring as it goes: O(log n) products. */
OSSR__PRIVATE uint64_t ossr__crc64_xpow(uint64_t n, int shift) {
    uint64_t p = OSSR__X0, sq = OSSR__X0 >> 1;   /* x */
    for (; shift; shift--) sq = ossr__crc64_mulmod(sq, sq);
    for (; n; n >>= 1) {
        if (n & 1) p = ossr__crc64_mulmod(sq, p);
        if (n > 1) sq = ossr__crc64_mulmod(sq, sq);
    }
    return p;
}

#ifdef OSSR_CRC64_SMALL
/* The register after four zero bits of input, for each low nibble: 128 bytes of flash. */
static const uint64_t ossr__crc64_tab4[16] = {
    0x0000000000000000ull, 0x7D9BA13851336649ull, 0xFB374270A266CC92ull, 0x86ACE348F355AADBull,
    0x64B62BCAEBC387A1ull, 0x192D8AF2BAF0E1E8ull, 0x9F8169BA49A54B33ull, 0xE21AC88218962D7Aull,
    0xC96C5795D7870F42ull, 0xB4F7F6AD86B4690Bull, 0x325B15E575E1C3D0ull, 0x4FC0B4DD24D2A599ull,
    0xADDA7C5F3C4488E3ull, 0xD041DD676D77EEAAull, 0x56ED3E2F9E224471ull, 0x2B769F17CF112238ull };
OSSR__PRIVATE uint64_t ossr__crc64_reg(uint64_t crc, const unsigned char *p, size_t len) {
    while (len--) {
        crc ^= *p++;
        crc = ossr__crc64_tab4[crc & 15] ^ (crc >> 4);
        crc = ossr__crc64_tab4[crc & 15] ^ (crc >> 4);
    }
    return crc;
}
OSSR__DEF uint64_t ossr_crc64(uint64_t crc, const void *data, size_t len) {
    return ~ossr__crc64_reg(~crc, (const unsigned char *)data, len);
}
OSSR__DEF const char *ossr_crc64_engine(void) { return "table-4bit"; }
#else
static uint64_t ossr__crc64_tab[8][256];
static uint64_t ossr__crc64_k[5][2];            /* fold constants for 16, 32, 48, 64, 256 bytes */
static ossr__crc64_fn ossr__crc64_best;
static const char *ossr__crc64_best_name;

OSSR__PRIVATE uint64_t ossr__crc64_slice8(uint64_t crc, const unsigned char *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) { crc = ossr__crc64_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8); len--; }
    while (len >= 8) {
        crc ^= ossr__le64(p);
        crc = ossr__crc64_tab[7][crc & 0xff] ^ ossr__crc64_tab[6][(crc >> 8) & 0xff] ^
              ossr__crc64_tab[5][(crc >> 16) & 0xff] ^ ossr__crc64_tab[4][(crc >> 24) & 0xff] ^
              ossr__crc64_tab[3][(crc >> 32) & 0xff] ^ ossr__crc64_tab[2][(crc >> 40) & 0xff] ^
              ossr__crc64_tab[1][(crc >> 48) & 0xff] ^ ossr__crc64_tab[0][crc >> 56];
        p += 8; len -= 8;
    }
    while (len--) crc = ossr__crc64_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if !defined(OSSR_NO_SIMD) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OSSR__CRC64_X86 1
#include <immintrin.h>
#include <cpuid.h>
#define OSSR__CLMUL __attribute__((target("pclmul,sse2")))
#define OSSR__VCLMUL __attribute__((target("avx512f,vpclmulqdq,pclmul")))
OSSR__CLMUL static inline __m128i ossr__fold16(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}
OSSR__CLMUL static inline __m128i ossr__kvec(int i) {   /* {x^(D+63), x^(D-1)} as low, high */
    return _mm_loadu_si128((const __m128i *)(const void *)ossr__crc64_k[i]);
}
/* Folds the rest in 16-byte steps onto x, then hands the last block and the tail to the
   tables (the register of X is the table CRC of X's 16 bytes from 0). */
OSSR__CLMUL static uint64_t ossr__crc64_clmul_end(__m128i x, const unsigned char *p, size_t len) {
    unsigned char last[16];
    __m128i k16 = ossr__kvec(0);
    for (; len >= 16; p += 16, len -= 16)
        x = _mm_xor_si128(ossr__fold16(x, k16), _mm_loadu_si128((const __m128i *)(const void *)p));
    _mm_storeu_si128((__m128i *)(void *)last, x);
    return ossr__crc64_slice8(ossr__crc64_slice8(0, last, 16), p, len);
}
OSSR__CLMUL static uint64_t ossr__crc64_clmul(uint64_t crc, const unsigned char *p, size_t len) {
    __m128i x0, x1, x2, x3, k;
    if (len < 128) return ossr__crc64_slice8(crc, p, len);
    x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_cvtsi64_si128((long long)crc));
    x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    k = ossr__kvec(3);
    for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
        x0 = _mm_xor_si128(ossr__fold16(x0, k), _mm_loadu_si128((const __m128i *)(const void *)p));
        x1 = _mm_xor_si128(ossr__fold16(x1, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
        x2 = _mm_xor_si128(ossr__fold16(x2, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
        x3 = _mm_xor_si128(ossr__fold16(x3, k), _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
    }
    x3 = _mm_xor_si128(_mm_xor_si128(x3, ossr__fold16(x2, ossr__kvec(0))),
                       _mm_xor_si128(ossr__fold16(x1, ossr__kvec(1)), ossr__fold16(x0, ossr__kvec(2))));
    return ossr__crc64_clmul_end(x3, p, len);
}
OSSR__VCLMUL static inline __m512i ossr__fold64(__m512i x, __m512i k) {
    return _mm512_xor_si512(_mm512_clmulepi64_epi128(x, k, 0x00), _mm512_clmulepi64_epi128(x, k, 0x11));
}
OSSR__VCLMUL static uint64_t ossr__crc64_vclmul(uint64_t crc, const unsigned char *p, size_t len) {
    __m512i z0, z1, z2, z3, k;
    __m128i x;
    if (len < 1024) return ossr__crc64_clmul(crc, p, len);
    z0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)p), _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, (long long)crc));
    z1 = _mm512_loadu_si512((const void *)(p + 64));
    z2 = _mm512_loadu_si512((const void *)(p + 128));
    z3 = _mm512_loadu_si512((const void *)(p + 192));
    k = _mm512_broadcast_i32x4(ossr__kvec(4));
    for (p += 256, len -= 256; len >= 256; p += 256, len -= 256) {
        z0 = _mm512_xor_si512(ossr__fold64(z0, k), _mm512_loadu_si512((const void *)p));
        z1 = _mm512_xor_si512(ossr__fold64(z1, k), _mm512_loadu_si512((const void *)(p + 64)));
        z2 = _mm512_xor_si512(ossr__fold64(z2, k), _mm512_loadu_si512((const void *)(p + 128)));
        z3 = _mm512_xor_si512(ossr__fold64(z3, k), _mm512_loadu_si512((const void *)(p + 192)));
    }
    k = _mm512_broadcast_i32x4(ossr__kvec(3));
    z1 = _mm512_xor_si512(z1, ossr__fold64(z0, k));
    z2 = _mm512_xor_si512(z2, ossr__fold64(z1, k));
    z3 = _mm512_xor_si512(z3, ossr__fold64(z2, k));
    for (; len >= 64; p += 64, len -= 64)
        z3 = _mm512_xor_si512(ossr__fold64(z3, k), _mm512_loadu_si512((const void *)p));
    x = _mm_xor_si128(_mm_xor_si128(_mm512_extracti32x4_epi32(z3, 3),
                                    ossr__fold16(_mm512_extracti32x4_epi32(z3, 2), ossr__kvec(0))),
                      _mm_xor_si128(ossr__fold16(_mm512_extracti32x4_epi32(z3, 1), ossr__kvec(1)),
                                    ossr__fold16(_mm512_extracti32x4_epi32(z3, 0), ossr__kvec(2))));
    /* clean upper halves before any legacy-SSE code (BearSSL's AES-NI and GHASH): left
       dirty, every SSE instruction after this pays a state-transition penalty */
    _mm256_zeroupper();
    return ossr__crc64_clmul_end(x, p, len);
}
/* 1: PCLMULQDQ, 2: also AVX-512 VPCLMULQDQ with the OS saving zmm state. */
OSSR__PRIVATE int ossr__crc64_x86_level(void) {
    unsigned a, b, c, d, lo, hi;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 1))) return 0;
    if (!(c & (1u << 27)) || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 1;
    if (!(b & (1u << 16)) || !(c & (1u << 10))) return 1;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    return (lo & 0xE6) == 0xE6 ? 2 : 1;
}
#endif

#if !defined(OSSR_NO_SIMD) && defined(__aarch64__) && (defined(__ARM_FEATURE_CRYPTO) || defined(__ARM_FEATURE_AES))
#define OSSR__CRC64_PMULL 1
#include <arm_neon.h>
static inline uint64x2_t ossr__pmull_fold(uint64x2_t x, uint64_t kh, uint64_t kl) {
    poly128_t a = vmull_p64((poly64_t)vgetq_lane_u64(x, 0), (poly64_t)kh);
    poly128_t b = vmull_p64((poly64_t)vgetq_lane_u64(x, 1), (poly64_t)kl);
    return veorq_u64(vreinterpretq_u64_p128(a), vreinterpretq_u64_p128(b));
}
OSSR__PRIVATE uint64_t ossr__crc64_pmull(uint64_t crc, const unsigned char *p, size_t len) {
    uint64x2_t x0, x1, x2, x3;
    unsigned char last[16];
    const uint64_t (*k)[2] = ossr__crc64_k;
    if (len < 128) return ossr__crc64_slice8(crc, p, len);
    x0 = veorq_u64(vld1q_u64((const uint64_t *)(const void *)p), vcombine_u64(vcreate_u64(crc), vcreate_u64(0)));
    x1 = vld1q_u64((const uint64_t *)(const void *)(p + 16));
    x2 = vld1q_u64((const uint64_t *)(const void *)(p + 32));
    x3 = vld1q_u64((const uint64_t *)(const void *)(p + 48));
    for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
        x0 = veorq_u64(ossr__pmull_fold(x0, k[3][0], k[3][1]), vld1q_u64((const uint64_t *)(const void *)p));
        x1 = veorq_u64(ossr__pmull_fold(x1, k[3][0], k[3][1]), vld1q_u64((const uint64_t *)(const void *)(p + 16)));
        x2 = veorq_u64(ossr__pmull_fold(x2, k[3][0], k[3][1]), vld1q_u64((const uint64_t *)(const void *)(p + 32)));
        x3 = veorq_u64(ossr__pmull_fold(x3, k[3][0], k[3][1]), vld1q_u64((const uint64_t *)(const void *)(p + 48)));
    }
    x3 = veorq_u64(veorq_u64(x3, ossr__pmull_fold(x2, k[0][0], k[0][1])),
                   veorq_u64(ossr__pmull_fold(x1, k[1][0], k[1][1]), ossr__pmull_fold(x0, k[2][0], k[2][1])));
    for (; len >= 16; p += 16, len -= 16)
        x3 = veorq_u64(ossr__pmull_fold(x3, k[0][0], k[0][1]), vld1q_u64((const uint64_t *)(const void *)p));
    vst1q_u64((uint64_t *)(void *)last, x3);
    return ossr__crc64_slice8(ossr__crc64_slice8(0, last, 16), p, len);
}
#endif

/* The engines this build has, best last; usable(i) says whether this CPU runs one. */
static const struct { const char *name; ossr__crc64_fn fn; } ossr__crc64_engines[] = {
    { "slicing-by-8", ossr__crc64_slice8 },
#ifdef OSSR__CRC64_X86
    { "pclmulqdq", ossr__crc64_clmul },
    { "vpclmulqdq-avx512", ossr__crc64_vclmul },
#endif
#ifdef OSSR__CRC64_PMULL
    { "pmull", ossr__crc64_pmull },
#endif
};
#define OSSR__CRC64_ENGINES (int)(sizeof ossr__crc64_engines / sizeof ossr__crc64_engines[0])
OSSR__PRIVATE int ossr__crc64_usable(int i) {
#ifdef OSSR__CRC64_X86
    if (i > 0) return ossr__crc64_x86_level() >= i;
#endif
    return i >= 0 && i < OSSR__CRC64_ENGINES;   /* PMULL: compiled for it means the CPU has it */
}

static void ossr__crc64_build(void) {
    static const unsigned fold_bytes[5] = { 16, 32, 48, 64, 256 };
    int i, k;
    for (i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ OSSR__CRC64_POLY : c >> 1;
        ossr__crc64_tab[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++)
            ossr__crc64_tab[k][i] = (ossr__crc64_tab[k - 1][i] >> 8) ^
                                    ossr__crc64_tab[0][ossr__crc64_tab[k - 1][i] & 0xff];
    for (i = 0; i < 5; i++) {
        ossr__crc64_k[i][0] = ossr__crc64_xpow(fold_bytes[i] * 8u + 63, 0);
        ossr__crc64_k[i][1] = ossr__crc64_xpow(fold_bytes[i] * 8u - 1, 0);
    }
    for (i = OSSR__CRC64_ENGINES - 1; !ossr__crc64_usable(i); i--) {}
    ossr__crc64_best = ossr__crc64_engines[i].fn;
    ossr__crc64_best_name = ossr__crc64_engines[i].name;
}
#if OSSR__THREADS == 1
static pthread_once_t ossr__crc64_once = PTHREAD_ONCE_INIT;
OSSR__PRIVATE void ossr__crc64_init(void) { pthread_once(&ossr__crc64_once, ossr__crc64_build); }
#elif OSSR__THREADS == 2
static INIT_ONCE ossr__crc64_once = INIT_ONCE_STATIC_INIT;
static BOOL CALLBACK ossr__crc64_once_fn(PINIT_ONCE once, PVOID param, PVOID *ctx) {
    (void)once; (void)param; (void)ctx;
    ossr__crc64_build();
    return TRUE;
}
OSSR__PRIVATE void ossr__crc64_init(void) { InitOnceExecuteOnce(&ossr__crc64_once, ossr__crc64_once_fn, NULL, NULL); }
#else
static int ossr__crc64_ready;   /* no threads: no race */
OSSR__PRIVATE void ossr__crc64_init(void) {
    if (!ossr__crc64_ready) { ossr__crc64_build(); ossr__crc64_ready = 1; }
}
#endif
OSSR__DEF uint64_t ossr_crc64(uint64_t crc, const void *data, size_t len) {
    ossr__crc64_init();
    return ~ossr__crc64_best(~crc, (const unsigned char *)data, len);
}
OSSR__DEF const char *ossr_crc64_engine(void) {
    ossr__crc64_init();
    return ossr__crc64_best_name;
}
#endif /* OSSR_CRC64_SMALL */
/* CRC(A || B) = CRC(A).x^(8 len(B)) mod P xor CRC(B): the inversions cancel because
   both ends use all ones. O(log len_b) products. */
OSSR__DEF uint64_t ossr_crc64_combine(uint64_t crc1, uint64_t crc2, uint64_t len2) {
    if (len2 == 0) return crc1;
    return ossr__crc64_mulmod(ossr__crc64_xpow(len2, 3), crc1) ^ crc2;
}

/* >>plan: part sizes and OSS limits ------------------------------------------------ */
/* A sentence into an optional caller buffer. */
OSSR__DEF ossr_result ossr_plan_parts(uint64_t file_size, uint64_t preferred,
                                      uint64_t *part_size, uint32_t *part_count,
                                      char *why, size_t why_cap) {
    uint64_t ps = preferred ? preferred : OSSR__DEFAULT_PART, n;
    if (preferred > OSSR__MAX_PART) {
        ossr__say(why, why_cap, "part size %llu is above OSS's 5 GiB part limit; "
                          "choose a part size of at most 5G", (unsigned long long)preferred);
        return OSSR_E_LIMITS;
    }
    if (file_size > OSSR__MAX_PART * OSSR__MAX_PARTS) {
        ossr__say(why, why_cap, "file of %llu bytes is larger than OSS allows for one "
                          "object (10,000 parts of 5 GiB)", (unsigned long long)file_size);
        return OSSR_E_LIMITS;
    }
    if (file_size == 0) { *part_size = 0; *part_count = 0; return OSSR_OK; }
    if (file_size < ps) ps = file_size;   /* one part holding the whole file */
    else
        while (ps * OSSR__MAX_PARTS < file_size || ps < OSSR__MIN_PART) ps *= 2;
    if (ps > OSSR__MAX_PART) {
        /* doubling overshot 5 GiB: the smallest part that fits 10,000 parts still does */
        ps = (file_size + OSSR__MAX_PARTS - 1) / OSSR__MAX_PARTS;
        if (ps > OSSR__MAX_PART) {
            ossr__say(why, why_cap, "file too large for 10,000 parts of 5 GiB");
            return OSSR_E_LIMITS;
        }
    }
    n = (file_size + ps - 1) / ps;
    *part_size = ps;
    *part_count = (uint32_t)n;
    if (why && why_cap) why[0] = 0;
    return OSSR_OK;
}

/* >>endpoint: URL, host and key rules ---------------------------------------------- */
/* Dotted-quad IPv4: four decimal numbers of 0-255 (1 when it is one). */
OSSR__PRIVATE int ossr__is_ipv4(const char *s, size_t n) {
    size_t i;
    int dots = 0, digits = 0, v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] == '.') { if (!digits) return 0; dots++; digits = 0; v = 0; }
        else if (s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (s[i] - '0');
            if (++digits > 3 || v > 255) return 0;
        }
        else return 0;
    }
    return dots == 3 && digits > 0;
}
/* Only digits and dots: a name no DNS label spells, so it must be an IPv4 literal. */
OSSR__PRIVATE int ossr__looks_numeric(const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] != '.' && (s[i] < '0' || s[i] > '9')) return 0;
    return 1;
}
OSSR__DEF ossr_result ossr_parse_endpoint(const char *url, ossr_endpoint *out) {
    const char *p = url, *h, *e;
    size_t i;
    memset(out, 0, sizeof *out);
    if (!url || !*url) return OSSR_E_BAD_ENDPOINT;
    out->https = 1;
    if (ossr__istarts(p, "https://")) p += 8;
    else if (ossr__istarts(p, "http://")) { p += 7; out->https = 0; }
    else if (strstr(p, "://")) return OSSR_E_BAD_ENDPOINT;
    if (*p == '[') {
        h = ++p;
        while (*p && *p != ']') {
            char c = *p;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return OSSR_E_BAD_ENDPOINT;
            p++;
        }
        if (*p != ']' || p == h) return OSSR_E_BAD_ENDPOINT;
        out->host.ptr = h; out->host.len = (size_t)(p - h);
        out->host_is_ip = out->host_is_ipv6 = 1;
        p++;
    } else {
        h = p;
        while (*p && *p != ':' && *p != '/') {
            char c = *p;
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '.'))
                return OSSR_E_BAD_ENDPOINT;
            p++;
        }
        if (p == h || p - h > 253) return OSSR_E_BAD_ENDPOINT;
        out->host.ptr = h; out->host.len = (size_t)(p - h);
        out->host_is_ip = ossr__is_ipv4(h, out->host.len);
        if (!out->host_is_ip && ossr__looks_numeric(h, out->host.len))
            return OSSR_E_BAD_ENDPOINT;   /* 1.256.1.2, 1.2.3: neither an address nor a name */
    }
    out->port = out->https ? 443 : 80;
    if (*p == ':') {
        uint64_t v;
        e = ++p;
        while (*p >= '0' && *p <= '9') p++;
        if (ossr__parse_u64(e, (size_t)(p - e), &v) != 0 || v == 0 || v > 65535)
            return OSSR_E_BAD_ENDPOINT;
        out->port = (uint16_t)v;
        out->explicit_port = 1;
    }
    if (*p == '/') p++;
    if (*p) return OSSR_E_BAD_ENDPOINT;   /* no path, query, user info */
    for (i = 0; i < out->host.len; i++)   /* no empty labels */
        if (out->host.ptr[i] == '.' && (i == 0 || out->host.ptr[i - 1] == '.') && !out->host_is_ipv6)
            return OSSR_E_BAD_ENDPOINT;
    return OSSR_OK;
}
OSSR__PRIVATE int ossr__valid_bucket(const char *b) {
    size_t i, n = b ? strlen(b) : 0;
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-') return 0;
    for (i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-')) return 0;
    return 1;
}
OSSR__PRIVATE int ossr__valid_key(const char *k) {
    size_t n = k ? strlen(k) : 0;
    return n >= 1 && n <= 1023 && k[0] != '/' && k[0] != '\\';
}

/* >>xml: the children of an element, for OSS's small, flat replies ----------------- */
/* Skips a markup construct at xml[i] == '<' that is not an element (comment, CDATA,
   declaration, processing instruction). Returns the index after it, or 0 if xml[i] starts
   an element or closing tag, or (size_t)-1 when it runs past len. */
OSSR__PRIVATE size_t ossr__xml_skip_special(const char *x, size_t len, size_t i) {
    const char *end;
    size_t endlen, j;
    if (i + 1 >= len) return (size_t)-1;
    if (x[i + 1] == '?') { end = "?>"; endlen = 2; j = i + 2; }
    else if (len - i >= 4 && memcmp(x + i, "<!--", 4) == 0) { end = "-->"; endlen = 3; j = i + 4; }
    else if (len - i >= 9 && memcmp(x + i, "<![CDATA[", 9) == 0) { end = "]]>"; endlen = 3; j = i + 9; }
    else if (x[i + 1] == '!') {
        /* "<!" cut before it shows whether a comment or CDATA follows: wait for more */
        if ((len - i < 4 && memcmp(x + i, "<!--", len - i) == 0) ||
            (len - i < 9 && memcmp(x + i, "<![CDATA[", len - i) == 0))
            return (size_t)-1;
        end = ">"; endlen = 1; j = i + 2;
    }
    else return 0;
    for (; j + endlen <= len; j++)
        if (memcmp(x + j, end, endlen) == 0) return j + endlen;
    return (size_t)-1;
}
/* Reads the tag at x[i] == '<': its name, whether it closes (</x>) or closes itself
   (<x/>), and the index after its '>'. Quoted attribute values may hold '>'. 0, or
   OSSR_E_NEED_MORE when len ends inside the tag, OSSR_E_CORRUPT when it is malformed. */
OSSR__PRIVATE int ossr__xml_tag(const char *x, size_t len, size_t i, int *closing,
                                ossr_slice *name, int *selfclose, size_t *after) {
    size_t j = i + 1;
    char q = 0;
    *closing = 0;
    if (j < len && x[j] == '/') { *closing = 1; j++; }
    name->ptr = x + j;
    while (j < len && x[j] != '>' && x[j] != '/' && x[j] != ' ' && x[j] != '\t' &&
           x[j] != '\r' && x[j] != '\n' && x[j] != '<')
        j++;
    name->len = (size_t)(x + j - name->ptr);
    if (j >= len) return OSSR_E_NEED_MORE;
    if (name->len == 0) return OSSR_E_CORRUPT;
    for (; j < len; j++) {
        if (q) { if (x[j] == q) q = 0; continue; }
        if (x[j] == '"' || x[j] == '\'') q = x[j];
        else if (x[j] == '<') return OSSR_E_CORRUPT;
        else if (x[j] == '>') {
            *selfclose = !*closing && x[j - 1] == '/';
            *after = j + 1;
            return 0;
        }
    }
    return OSSR_E_NEED_MORE;
}
/* Moves *i to the next '<' that starts an element or a closing tag, past text, comments,
   processing instructions and CDATA. 1 when there is one, 0 at len, OSSR_E_NEED_MORE
   when len ends inside a comment or the like. */
OSSR__PRIVATE int ossr__xml_next_tag(const char *x, size_t len, size_t *i) {
    for (;;) {
        size_t s;
        while (*i < len && x[*i] != '<') (*i)++;
        if (*i >= len) return 0;
        s = ossr__xml_skip_special(x, len, *i);
        if (s == (size_t)-1) return OSSR_E_NEED_MORE;
        if (!s) return 1;
        *i = s;
    }
}
/* The next child element of the content x[0..len) from *pos: its name and raw content
   (which may hold elements of its own, skipped whole however deep); *pos moves past it.
   Returns 1 when found; 0 at the end of the content, with *pos at len, or at the closing
   tag that ends it (x[*pos] == '<'); OSSR_E_NEED_MORE when the content ends inside the
   child (a reply still streaming in); OSSR_E_CORRUPT when malformed. */
OSSR__PRIVATE int ossr__xml_child(const char *x, size_t len, size_t *pos, ossr_slice *name, ossr_slice *content) {
    size_t i = *pos, after, j;
    int closing, selfclose, depth = 1, r = ossr__xml_next_tag(x, len, &i);
    if (r == 0) { *pos = len; return 0; }
    if (r < 0) return r;
    r = ossr__xml_tag(x, len, i, &closing, name, &selfclose, &after);
    if (r != 0) return r;
    if (closing) { *pos = i; return 0; }
    content->ptr = x + after;
    content->len = 0;
    if (selfclose) { *pos = after; return 1; }
    for (j = after;;) {   /* to the closing tag at the same depth, which must carry the name */
        ossr_slice n2;
        int c2, sc2;
        size_t a2;
        r = ossr__xml_next_tag(x, len, &j);
        if (r == 0) return OSSR_E_NEED_MORE;
        if (r < 0 || (r = ossr__xml_tag(x, len, j, &c2, &n2, &sc2, &a2)) != 0) return r;
        if (c2 && --depth == 0) {
            if (n2.len != name->len || memcmp(n2.ptr, name->ptr, n2.len) != 0) return OSSR_E_CORRUPT;
            content->len = j - after;
            *pos = a2;
            return 1;
        }
        if (!c2 && !sc2) depth++;
        j = a2;
    }
}
OSSR__DEF int ossr_xml_next(const char *x, size_t len, const char *tag, size_t *pos,
                            ossr_slice *content) {
    size_t tl = strlen(tag);
    for (;;) {
        ossr_slice name;
        int r = ossr__xml_child(x, len, pos, &name, content);
        if (r == OSSR_E_NEED_MORE) return OSSR_E_CORRUPT;   /* the whole document is here */
        if (r == 0) *pos = len;
        if (r <= 0) return r;
        if (name.len == tl && memcmp(name.ptr, tag, tl) == 0) return 1;
    }
}
/* Decodes XML text (entities, CDATA sections; comments and processing instructions are
   dropped) into out; 0, or OSSR_E_CORRUPT for an element or anything malformed. */
OSSR__PRIVATE int ossr__xml_decode(const char *s, size_t n, char *out, size_t cap) {
    static const char ents[5][7] = { "lt;<", "gt;>", "amp;&", "quot;\"", "apos;'" };
    size_t i = 0, o = 0, k;
    if (cap == 0) return OSSR_E_TOO_LARGE;
    out[0] = 0;                       /* terminated even when the text turns out malformed */
    for (i = 0; i < n; i++)           /* XML 1.0 has no NUL and no control characters but tab, LF, CR */
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return OSSR_E_CORRUPT;
    i = 0;
    while (i < n) {
        unsigned long cp;
        if (n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            size_t j = i + 9;
            while (j + 3 <= n && memcmp(s + j, "]]>", 3) != 0) j++;
            if (j + 3 > n) return OSSR_E_CORRUPT;
            for (i += 9; i < j; i++) if (o + 1 < cap) out[o++] = s[i];
            i = j + 3;
            continue;
        }
        if (s[i] == '<') {   /* a comment or processing instruction is no part of the value */
            size_t e = ossr__xml_skip_special(s, n, i);
            int comment = n - i >= 4 && memcmp(s + i, "<!--", 4) == 0;
            if (e == 0 || e == (size_t)-1 || (s[i + 1] != '?' && !comment)) return OSSR_E_CORRUPT;
            i = e;
            continue;
        }
        if (s[i] != '&') { if (o + 1 < cap) out[o++] = s[i]; i++; continue; }
        {
            size_t j = i + 1;
            while (j < n && j - i < 12 && s[j] != ';') j++;
            if (j >= n || s[j] != ';') return OSSR_E_CORRUPT;
            cp = 0;
            for (k = 0; k < 5; k++)   /* the five named entities: "name;" and the character */
                if (j - i == strlen(ents[k]) - 1 && memcmp(s + i + 1, ents[k], j - i) == 0) cp = (unsigned char)ents[k][j - i];
            if (cp == 0 && s[i + 1] == '#') {
                int hexa = s[i + 2] == 'x' || s[i + 2] == 'X';
                k = i + 2 + (size_t)hexa;
                if (k == j) return OSSR_E_CORRUPT;
                for (; k < j; k++) {
                    int d = ossr__hexval(s[k]);
                    if (d < 0 || (!hexa && d > 9)) return OSSR_E_CORRUPT;
                    cp = cp * (hexa ? 16 : 10) + (unsigned long)d;
                    if (cp > 0x10FFFF) return OSSR_E_CORRUPT;
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return OSSR_E_CORRUPT;
            } else if (cp == 0) return OSSR_E_CORRUPT;
            {   /* UTF-8: m bytes, the lead byte's marker bits, then 6 bits each */
                size_t m = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
                static const unsigned char lead[5] = { 0, 0, 0xC0, 0xE0, 0xF0 };
                for (k = 0; k < m; k++) {
                    unsigned sh = (unsigned)(6 * (m - 1 - k));
                    unsigned char u = (unsigned char)(k ? 0x80 | ((cp >> sh) & 63) : lead[m] | (cp >> sh));
                    if (o + 1 < cap) out[o++] = (char)u;
                }
            }
            i = j + 1;
        }
    }
    out[o] = 0;
    return 0;
}
OSSR__DEF int ossr_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t cap) {
    size_t pos = 0;
    ossr_slice c;
    int r = ossr_xml_next(xml, len, tag, &pos, &c);
    if (r <= 0) { if (cap) out[0] = 0; return r; }
    r = ossr__xml_decode(c.ptr, c.len, out, cap);
    if (r != 0 && cap) out[0] = 0;   /* malformed text yields "", never a half-decoded string */
    return r == 0 ? 1 : r;
}
/* The decoded text of an element's content as an unsigned decimal number, blanks
   around it allowed: 1; 0 when it is empty; negative when it is not a number. */
OSSR__PRIVATE int ossr__xml_number(const char *content, size_t len, uint64_t *v) {
    char t[32];
    size_t a = 0, b;
    if (ossr__xml_decode(content, len, t, sizeof t) != 0) return OSSR_E_CORRUPT;
    b = strlen(t);
    if (b >= sizeof t - 1) return OSSR_E_CORRUPT;   /* too long to be a number: maybe cut */
    while (a < b && (t[a] == ' ' || t[a] == '\n' || t[a] == '\r' || t[a] == '\t')) a++;
    while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\n' || t[b - 1] == '\r' || t[b - 1] == '\t')) b--;
    if (a == b) return 0;
    return ossr__parse_u64(t + a, b - a, v) == 0 ? 1 : OSSR_E_CORRUPT;
}
/* An unsigned decimal child element (PartNumber, Size, HashCrc64ecma). 1; 0 when it is
   absent or empty (<HashCrc64ecma/>); negative when it is not a number. */
OSSR__PRIVATE int ossr__xml_u64(const char *xml, size_t len, const char *tag, uint64_t *v) {
    size_t pos = 0;
    ossr_slice c;
    int r = ossr_xml_next(xml, len, tag, &pos, &c);
    return r <= 0 ? r : ossr__xml_number(c.ptr, c.len, v);
}
/* Whether an element's text is "true" (IsTruncated). */
OSSR__PRIVATE int ossr__xml_true(const ossr_slice *content) {
    char t[8];
    return ossr__xml_decode(content->ptr, content->len, t, sizeof t) == 0 && strcmp(t, "true") == 0;
}
/* Whether a slice is exactly the string name (case-sensitive: an XML name, a record's field). */
OSSR__PRIVATE int ossr__slice_is(const ossr_slice *s, const char *name) {
    return s->len == strlen(name) && memcmp(s->ptr, name, s->len) == 0;
}

/* The content of a reply's root element, which must be there whole: 1 when it is, 0 when
   it is missing, negative when the document is malformed or cut short. */
OSSR__PRIVATE int ossr__xml_root(const char *xml, size_t len, const char *root, ossr_slice *content) {
    size_t pos = 0;
    return ossr_xml_next(xml, len, root, &pos, content);
}

/* >>http-parse: response head ------------------------------------------------------- */
OSSR__PRIVATE int ossr__is_tchar(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}
/* Whether s may go into a request head as a header's value: no control character but
   tab (a line break would end its header there and start another). */
OSSR__PRIVATE int ossr__head_safe(const char *s) {
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f) return 0;
    return 1;
}
OSSR__DEF long ossr_parse_response(const char *buf, size_t len, ossr_response *r) {
    size_t i = 0, eol;
    memset(r, 0, sizeof *r);
    /* find each line end; NEED_MORE until the blank line arrives */
#define OSSR__LINE_END(from) do { \
        eol = (from); \
        while (eol < len && buf[eol] != '\n') { \
            if (buf[eol] == 0) return OSSR_E_PROTOCOL; \
            eol++; \
        } \
        if (eol >= len) return OSSR_E_NEED_MORE; \
    } while (0)
    OSSR__LINE_END(0);
    {   /* status line: HTTP/1.x SP 3DIGIT [SP reason] */
        size_t e = eol > 0 && buf[eol - 1] == '\r' ? eol - 1 : eol;
        if (e < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
            buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
            buf[11] < '0' || buf[11] > '9' || (e > 12 && buf[12] != ' '))
            return OSSR_E_PROTOCOL;
        r->minor_version = buf[7] - '0';
        r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
        r->reason.ptr = buf + (e > 12 ? 13 : 12);
        r->reason.len = e > 12 ? e - 13 : 0;
    }
    i = eol + 1;
    for (;;) {
        size_t e, n, v, colon;
        OSSR__LINE_END(i);
        e = eol > i && buf[eol - 1] == '\r' ? eol - 1 : eol;
        if (e == i) return (long)(eol + 1);   /* blank line: end of head */
        if (buf[i] == ' ' || buf[i] == '\t') return OSSR_E_PROTOCOL; /* obsolete folding */
        for (n = i; n < e && buf[n] != ':'; n++)
            if (!ossr__is_tchar((unsigned char)buf[n])) return OSSR_E_PROTOCOL;
        if (n == i || n == e) return OSSR_E_PROTOCOL;
        colon = n;
        if (r->header_count == OSSR_MAX_HEADERS) return OSSR_E_TOO_LARGE;
        v = n + 1;
        while (v < e && (buf[v] == ' ' || buf[v] == '\t')) v++;
        while (e > v && (buf[e - 1] == ' ' || buf[e - 1] == '\t')) e--;
        for (n = v; n < e; n++)
            if ((unsigned char)buf[n] < 0x20 && buf[n] != '\t') return OSSR_E_PROTOCOL;
        r->names[r->header_count].ptr = buf + i;
        r->names[r->header_count].len = colon - i;
        r->values[r->header_count].ptr = buf + v;
        r->values[r->header_count].len = e - v;
        r->header_count++;
        i = eol + 1;
    }
#undef OSSR__LINE_END
}
OSSR__DEF int ossr_response_header(const ossr_response *r, const char *name, ossr_slice *value) {
    size_t i;
    for (i = 0; i < r->header_count; i++)
        if (ossr__slice_ieq(r->names[i], name)) { if (value) *value = r->values[i]; return 1; }
    return 0;
}

/* >>sign: V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256) ---------------------------------- */
/* Query names that V1 signs: OSS's sub-resources (any other query parameter is left out
   of the V1 string to sign). */
static const char *const ossr__subresources[] = {
    "acl", "append", "asyncFetch", "bucketInfo", "callback", "callback-var", "cname",
    "comp", "continuation-token", "cors", "delete", "encryption", "endTime", "group",
    "inventory", "inventoryId", "lifecycle", "link", "live", "location", "logging",
    "metaQuery", "objectInfo", "objectMeta", "partNumber", "policy", "position", "qos",
    "referer", "regionList", "replication", "replicationLocation", "replicationProgress",
    "requestPayment", "resourceGroup", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "security-token", "sequential",
    "startTime", "stat", "status", "style", "styleName", "symlink", "tagging",
    "transferAcceleration", "uploadId", "uploads", "versionId", "versioning", "versions",
    "vod", "website", "worm", "wormExtend", "wormId", "x-oss-process", "x-oss-async-process",
    "x-oss-request-payer", "x-oss-traffic-limit", "x-oss-write-get-object-response", NULL};

OSSR__PRIVATE int ossr__is_subresource(const char *name) {
    int i;
    for (i = 0; ossr__subresources[i]; i++)
        if (strcmp(ossr__subresources[i], name) == 0) return 1;
    return 0;
}
/* Case-insensitive order of header names (the order of their lower-case forms). */
OSSR__PRIVATE int ossr__icmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int x = ossr__lower((unsigned char)*a), y = ossr__lower((unsigned char)*b);
        if (x != y || !x) return x - y;
    }
}
/* Order of two strings by their strict percent-encoded forms, without encoding them. */
OSSR__PRIVATE int ossr__enc_cmp(const char *a, const char *b) {
    char ea[4], eb[4];
    size_t ia = 0, na = 0, ib = 0, nb = 0;
    for (;;) {
        if (ia == na) {
            unsigned char c = (unsigned char)*a;
            if (!c) na = 0;
            else if (ossr__unreserved(c)) { ea[0] = (char)c; na = 1; a++; }
            else { ea[0] = '%'; ea[1] = ossr__hex_upper[c >> 4]; ea[2] = ossr__hex_upper[c & 15]; na = 3; a++; }
            ia = 0;
        }
        if (ib == nb) {
            unsigned char c = (unsigned char)*b;
            if (!c) nb = 0;
            else if (ossr__unreserved(c)) { eb[0] = (char)c; nb = 1; b++; }
            else { eb[0] = '%'; eb[1] = ossr__hex_upper[c >> 4]; eb[2] = ossr__hex_upper[c & 15]; nb = 3; b++; }
            ib = 0;
        }
        if (!na || !nb) return (int)na - (int)nb;
        if (ea[ia] != eb[ib]) return (unsigned char)ea[ia] - (unsigned char)eb[ib];
        ia++; ib++;
    }
}
typedef int (*ossr__cmp_fn)(const char *a, const char *b);
/* Insertion sort of small header arrays by name. */
OSSR__PRIVATE void ossr__sort_headers(ossr_header *h, size_t n, ossr__cmp_fn cmp) {
    size_t i, j;
    for (i = 1; i < n; i++) {
        ossr_header t = h[i];
        for (j = i; j > 0 && cmp(h[j - 1].name, t.name) > 0; j--) h[j] = h[j - 1];
        h[j] = t;
    }
}
OSSR__PRIVATE const char *ossr__find_header(const ossr_header *h, size_t n, const char *name) {
    size_t i;
    for (i = 0; i < n; i++)
        if (h[i].name && ossr__ieq(h[i].name, name)) return h[i].value ? h[i].value : "";
    return NULL;
}
OSSR__PRIVATE void ossr__sb_lower(ossr__sb *b, const char *s) {
    for (; *s; s++) ossr__sb_putc(b, (char)ossr__lower((unsigned char)*s));
}
OSSR__PRIVATE void ossr__sb_trimmed(ossr__sb *b, const char *v) {
    size_t n = strlen(v);
    while (*v == ' ' || *v == '\t') { v++; n--; }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    ossr__sb_put(b, v, n);
}

#define OSSR__SIGN_MAX 64
/* s and a newline */
OSSR__PRIVATE void ossr__sb_line(ossr__sb *b, const char *s) { ossr__sb_puts(b, s); ossr__sb_putc(b, '\n'); }
/* "name:value\n" for each signed header, the name lower-cased, the value trimmed */
OSSR__PRIVATE void ossr__sb_canon(ossr__sb *b, const ossr_header *h, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        ossr__sb_lower(b, h[i].name); ossr__sb_putc(b, ':');
        ossr__sb_trimmed(b, h[i].value); ossr__sb_putc(b, '\n');
    }
}
OSSR__DEF ossr_result ossr_sign(const ossr_sign_input *in, char *scratch, size_t cap,
                                ossr_signature *out) {
    ossr_header canon[OSSR__SIGN_MAX];   /* the other arrays live in blocks of their own: one at a time */
    size_t nc = 0, nq = 0, i, j;
    const char *token = in->security_token && *in->security_token ? in->security_token : NULL;
    ossr__sb b;
    unsigned char mac[32];
    int v4 = in->version == 4;

    memset(out, 0, sizeof *out);
    if (!in->method || !in->access_key_id || !in->access_key_secret ||
        (in->version != 1 && in->version != 4) || (v4 && (!in->region || !*in->region)))
        return OSSR_E_INVALID_ARG;
    if (!scratch || cap < 2) return OSSR_E_TOO_LARGE;
    if (in->header_count + 3 > OSSR__SIGN_MAX || in->query_count > OSSR__SIGN_MAX)
        return OSSR_E_TOO_LARGE;
    if (v4) ossr__iso_date(in->unix_time, out->date);
    else ossr__http_date(in->unix_time, out->date);

    /* the headers that are signed: x-oss-*, plus what the signer adds; V4 also
       content-type, content-md5 and the requested additional headers */
    for (i = 0; i < in->header_count; i++) {
        const char *n = in->headers[i].name;
        int take = ossr__istarts(n, "x-oss-");
        if (!take && v4) {
            take = ossr__ieq(n, "content-type") || ossr__ieq(n, "content-md5");
            for (j = 0; !take && j < in->additional_count; j++)
                take = ossr__ieq(n, in->additional_headers[j]);
        }
        if (v4 && ossr__ieq(n, "x-oss-date")) continue;           /* the signer's own */
        if (token && ossr__ieq(n, "x-oss-security-token")) continue;
        if (take) { canon[nc].name = n; canon[nc].value = in->headers[i].value ? in->headers[i].value : ""; nc++; }
    }
    if (token) { canon[nc].name = "x-oss-security-token"; canon[nc].value = token; nc++; }
    if (v4) {
        canon[nc].name = "x-oss-date"; canon[nc].value = out->date; nc++;
        if (!ossr__find_header(in->headers, in->header_count, "x-oss-content-sha256")) {
            canon[nc].name = "x-oss-content-sha256"; canon[nc].value = "UNSIGNED-PAYLOAD"; nc++;
            out->add_content_sha256 = 1;
        }
    }
    ossr__sort_headers(canon, nc, ossr__icmp);

    ossr__sb_init(&b, scratch, cap);
    if (!v4) {
        const char *md5 = ossr__find_header(in->headers, in->header_count, "content-md5");
        const char *ct = ossr__find_header(in->headers, in->header_count, "content-type");
        ossr__sb_line(&b, in->method);
        ossr__sb_line(&b, md5 ? md5 : "");
        ossr__sb_line(&b, ct ? ct : "");
        ossr__sb_line(&b, out->date);
        ossr__sb_canon(&b, canon, nc);
        ossr__sb_putc(&b, '/');
        if (in->bucket && *in->bucket) {
            ossr__sb_puts(&b, in->bucket); ossr__sb_putc(&b, '/');
            if (in->key) ossr__sb_puts(&b, in->key);
        }
        {
            ossr_header q[OSSR__SIGN_MAX];
            for (i = 0; i < in->query_count; i++)
                if (ossr__is_subresource(in->query[i].name)) q[nq++] = in->query[i];
            ossr__sort_headers(q, nq, strcmp);
            for (i = 0; i < nq; i++) {
                ossr__sb_putc(&b, i ? '&' : '?');
                ossr__sb_puts(&b, q[i].name);
                if (q[i].value && *q[i].value) { ossr__sb_putc(&b, '='); ossr__sb_puts(&b, q[i].value); }
            }
        }
        if (b.overflow) return OSSR_E_TOO_LARGE;
        out->string_to_sign.ptr = b.p; out->string_to_sign.len = b.len;
        ossr__hmac(OSSR__SHA1, in->access_key_secret, strlen(in->access_key_secret), b.p, b.len, mac);
        ossr__sb_init(&b, out->authorization, sizeof out->authorization);
        ossr__sb_puts(&b, "OSS "); ossr__sb_puts(&b, in->access_key_id); ossr__sb_putc(&b, ':');
        ossr__sb_base64(&b, mac, 20);
        memset(mac, 0, sizeof mac);
        return b.overflow ? OSSR_E_TOO_LARGE : OSSR_OK;
    } else {
        char addl[256], scope[160];
        ossr__sb ab, sb2;
        const char *product = in->product && *in->product ? in->product : "oss";
        unsigned char digest[32];
        size_t creq_len, na = 0;

        /* AdditionalHeaders: lower-case, sorted, unique, only names not signed anyway,
           and only headers that are present */
        if (in->additional_count > OSSR__SIGN_MAX) return OSSR_E_TOO_LARGE;
        {
            ossr_header add[OSSR__SIGN_MAX];
            for (i = 0; i < in->additional_count; i++) {
                const char *n = in->additional_headers[i];
                if (ossr__istarts(n, "x-oss-") || ossr__ieq(n, "content-type") || ossr__ieq(n, "content-md5"))
                    continue;
                if (!ossr__find_header(in->headers, in->header_count, n)) return OSSR_E_INVALID_ARG;
                for (j = 0; j < na && !ossr__ieq(add[j].name, n); j++) {}
                if (j == na) { add[na].name = n; add[na].value = NULL; na++; }
            }
            ossr__sort_headers(add, na, ossr__icmp);
            ossr__sb_init(&ab, addl, sizeof addl);
            for (i = 0; i < na; i++) { if (i) ossr__sb_putc(&ab, ';'); ossr__sb_lower(&ab, add[i].name); }
            if (ab.overflow) return OSSR_E_TOO_LARGE;
        }

        ossr__sb_line(&b, in->method);
        ossr__sb_putc(&b, '/');
        if (in->bucket && *in->bucket) {
            ossr__sb_puts(&b, in->bucket); ossr__sb_putc(&b, '/');
            if (in->key) ossr__sb_urlenc(&b, in->key, strlen(in->key), 1);
        }
        ossr__sb_putc(&b, '\n');
        {
            ossr_header q[OSSR__SIGN_MAX];
            for (i = 0; i < in->query_count; i++) q[nq++] = in->query[i];
            ossr__sort_headers(q, nq, ossr__enc_cmp);
            for (i = 0; i < nq; i++) {
                if (i) ossr__sb_putc(&b, '&');
                ossr__sb_urlenc(&b, q[i].name, strlen(q[i].name), 0);
                if (q[i].value && *q[i].value) {
                    ossr__sb_putc(&b, '=');
                    ossr__sb_urlenc(&b, q[i].value, strlen(q[i].value), 0);
                }
            }
        }
        ossr__sb_putc(&b, '\n');
        ossr__sb_canon(&b, canon, nc);
        ossr__sb_putc(&b, '\n');
        ossr__sb_line(&b, addl);
        {
            const char *payload = ossr__find_header(in->headers, in->header_count, "x-oss-content-sha256");
            ossr__sb_puts(&b, payload ? payload : "UNSIGNED-PAYLOAD");
        }
        if (b.overflow) return OSSR_E_TOO_LARGE;
        out->canonical_request.ptr = b.p; out->canonical_request.len = b.len;
        creq_len = b.len;

        ossr__sb_init(&sb2, scope, sizeof scope);
        ossr__sb_put(&sb2, out->date, 8); ossr__sb_putc(&sb2, '/');
        ossr__sb_puts(&sb2, in->region); ossr__sb_putc(&sb2, '/');
        ossr__sb_puts(&sb2, product); ossr__sb_puts(&sb2, "/aliyun_v4_request");
        if (sb2.overflow) return OSSR_E_TOO_LARGE;

        /* the string to sign follows the canonical request in scratch */
        ossr__hash_once(OSSR__SHA256, scratch, creq_len, digest);
        ossr__sb_putc(&b, 0);  /* keep the canonical request NUL-terminated */
        if (b.overflow) return OSSR_E_TOO_LARGE;
        ossr__sb_init(&sb2, scratch + b.len, cap - b.len);
        ossr__sb_line(&sb2, "OSS4-HMAC-SHA256"); ossr__sb_line(&sb2, out->date); ossr__sb_line(&sb2, scope);
        ossr__sb_hex(&sb2, digest, 32);
        if (sb2.overflow) return OSSR_E_TOO_LARGE;
        out->string_to_sign.ptr = sb2.p; out->string_to_sign.len = sb2.len;

        {
            char key[300];
            size_t sklen = strlen(in->access_key_secret);
            if (sklen + 9 > sizeof key) return OSSR_E_TOO_LARGE;
            memcpy(key, "aliyun_v4", 9);
            memcpy(key + 9, in->access_key_secret, sklen);
            ossr__hmac(OSSR__SHA256, key, sklen + 9, out->date, 8, mac);
            memset(key, 0, sizeof key);
        }
        ossr__hmac(OSSR__SHA256, mac, 32, in->region, strlen(in->region), mac);
        ossr__hmac(OSSR__SHA256, mac, 32, product, strlen(product), mac);
        ossr__hmac(OSSR__SHA256, mac, 32, "aliyun_v4_request", 17, mac);
        ossr__hmac(OSSR__SHA256, mac, 32, sb2.p, sb2.len, mac);

        ossr__sb_init(&sb2, out->authorization, sizeof out->authorization);
        ossr__sb_puts(&sb2, "OSS4-HMAC-SHA256 Credential=");
        ossr__sb_puts(&sb2, in->access_key_id); ossr__sb_putc(&sb2, '/'); ossr__sb_puts(&sb2, scope);
        if (na) { ossr__sb_puts(&sb2, ",AdditionalHeaders="); ossr__sb_puts(&sb2, addl); }
        ossr__sb_puts(&sb2, ",Signature=");
        ossr__sb_hex(&sb2, mac, 32);
        memset(mac, 0, sizeof mac);
        return sb2.overflow ? OSSR_E_TOO_LARGE : OSSR_OK;
    }
}

/* >>tls: BearSSL trust anchors, certificate policy, error words ---------------------- */
#ifdef OSSR__HAVE_TLS
/* Trust anchors decoded from PEM at run time with BearSSL's PEM and X.509 decoders.
   One allocation holds the anchor array and, after it, an arena with every anchor's
   DN and key bytes; it lives as long as the upload. */
typedef struct ossr__anchors {
    br_x509_trust_anchor *ta;
    size_t n;
    void *block;                    /* owned allocation, NULL for caller anchors */
    size_t block_size;
    unsigned char *arena;
    size_t arena_len, arena_cap;
    int overflow;
} ossr__anchors;

OSSR__PRIVATE unsigned char *ossr__arena_put(ossr__anchors *a, const void *p, size_t n) {
    unsigned char *d;
    if (a->overflow || n > a->arena_cap - a->arena_len) { a->overflow = 1; return NULL; }
    d = a->arena + a->arena_len;
    if (n) memcpy(d, p, n);
    a->arena_len += n;
    return d;
}
OSSR__PRIVATE void ossr__pem_collect(void *ctx, const void *p, size_t n) {   /* DER of one object */
    ossr__sb *der = (ossr__sb *)ctx;
    ossr__sb_put(der, (const char *)p, n);
}
static void ossr__dn_collect(void *ctx, const void *p, size_t n) {
    ossr__arena_put((ossr__anchors *)ctx, p, n);
}
/* Adds the certificate in der[0..n) as an anchor; 0 on success. */
OSSR__PRIVATE int ossr__anchor_add(ossr__anchors *a, const unsigned char *der, size_t n) {
    br_x509_decoder_context dc;
    const br_x509_pkey *pk;
    br_x509_trust_anchor *ta = &a->ta[a->n];
    size_t mark = a->arena_len;
    ta->dn.data = a->arena + a->arena_len;
    br_x509_decoder_init(&dc, ossr__dn_collect, a);
    br_x509_decoder_push(&dc, der, n);
    pk = br_x509_decoder_get_pkey(&dc);
    if (!pk || a->overflow) { a->arena_len = mark; a->overflow = 0; return -1; }
    ta->dn.len = a->arena_len - mark;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = ossr__arena_put(a, pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = ossr__arena_put(a, pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = ossr__arena_put(a, pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
    } else {
        a->arena_len = mark;
        return -1;
    }
    if (a->overflow) { a->arena_len = mark; a->overflow = 0; return -1; }
    a->n++;
    return 0;
}
OSSR__PRIVATE void ossr__anchors_free(ossr__anchors *a, ossr__heap *h) {
    ossr__heap_put(h, a->block, a->block_size);
    memset(a, 0, sizeof *a);
}
#if OSSR__HAVE_FS && !defined(OSSR_NO_MALLOC)
/* Loads every CERTIFICATE of a PEM file as a trust anchor. Returns OSSR_OK, OSSR_E_FILE
   (unreadable), OSSR_E_CERT (no usable certificate / malformed PEM) or OSSR_E_NOMEM;
   why gets a sentence. */
OSSR__PRIVATE ossr_result ossr__anchors_load(ossr__anchors *a, ossr__heap *h, const char *path, char *why, size_t why_cap) {
    ossr__file_id id;
    br_pem_decoder_context pc;
    ossr__sb der;
    unsigned char *pem = NULL, *derbuf;
    size_t count = 0, i, pos = 0, bad = 0;
    ossr__fh fd = ossr__file_open(path, 0);
    int inside = 0;
    memset(a, 0, sizeof *a);
    if (fd == OSSR__BAD_FH || ossr__file_identity(fd, &id) != 0 || id.size > (16u << 20)) {
        ossr__say(why, why_cap, "cannot read the CA file %s: %s", path, fd == OSSR__BAD_FH ? strerror(errno) : "not a regular file of at most 16 MiB");
        ossr__file_close(fd);
        return OSSR_E_FILE;
    }
    pem = (unsigned char *)ossr__heap_get(h, (size_t)id.size + 1);
    if (!pem) { ossr__file_close(fd); return OSSR_E_NOMEM; }
    if (ossr__file_read_at(fd, pem, (size_t)id.size, 0) != 0) {
        ossr__say(why, why_cap, "cannot read the CA file %s: %s", path, strerror(errno));
        ossr__file_close(fd);
        ossr__heap_put(h, pem, (size_t)id.size + 1);
        return OSSR_E_FILE;
    }
    ossr__file_close(fd);
    pem[id.size] = 0;
    for (i = 0; i + 27 <= (size_t)id.size; i++)
        if (pem[i] == '-' && memcmp(pem + i, "-----BEGIN CERTIFICATE-----", 27) == 0) count++;
    if (count == 0) {
        ossr__say(why, why_cap, "the CA file %s holds no PEM certificate", path);
        ossr__heap_put(h, pem, (size_t)id.size + 1);
        return OSSR_E_CERT;
    }
    /* one block [anchors][arena: DNs and keys][DER of the object being decoded]; DER and
       what is kept of it are never larger than the PEM text */
    a->block_size = count * sizeof(br_x509_trust_anchor) + 2 * (size_t)id.size + 8;
    a->block = ossr__heap_get(h, a->block_size);
    if (!a->block) { ossr__heap_put(h, pem, (size_t)id.size + 1); return OSSR_E_NOMEM; }
    a->ta = (br_x509_trust_anchor *)a->block;
    a->arena = (unsigned char *)a->block + count * sizeof(br_x509_trust_anchor);
    a->arena_cap = (size_t)id.size;
    derbuf = a->arena + a->arena_cap;
    ossr__sb_init(&der, (char *)derbuf, (size_t)id.size + 8);
    br_pem_decoder_init(&pc);
    while (pos < (size_t)id.size) {
        size_t k = br_pem_decoder_push(&pc, pem + pos, (size_t)id.size - pos);
        pos += k;
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            inside = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0 ||
                     strcmp(br_pem_decoder_name(&pc), "X509 CERTIFICATE") == 0;
            ossr__sb_init(&der, (char *)derbuf, (size_t)id.size + 8);
            br_pem_decoder_setdest(&pc, inside ? ossr__pem_collect : NULL, &der);
            break;
        case BR_PEM_END_OBJ:
            if (inside && (der.overflow || a->n == count || ossr__anchor_add(a, derbuf, der.len) != 0)) bad++;
            inside = 0;
            break;
        case BR_PEM_ERROR:
            ossr__say(why, why_cap, "the CA file %s is not valid PEM", path);
            ossr__heap_put(h, pem, (size_t)id.size + 1);
            ossr__heap_put(h, a->block, a->block_size);
            memset(a, 0, sizeof *a);
            return OSSR_E_CERT;
        default:
            break;
        }
    }
    ossr__heap_put(h, pem, (size_t)id.size + 1);
    if (a->n == 0) {
        ossr__say(why, why_cap, "no usable certificate in the CA file %s", path);
        ossr__heap_put(h, a->block, a->block_size);
        memset(a, 0, sizeof *a);
        return OSSR_E_CERT;
    }
    (void)bad;   /* certificates BearSSL cannot use (other key types) are skipped */
    return OSSR_OK;
}
/* The system bundle: the first of the usual places that exists. */
OSSR__PRIVATE const char *ossr__system_ca_file(void) {
    static const char *const paths[] = {
        "/etc/ssl/certs/ca-certificates.crt",   /* Debian, Ubuntu, Alpine, Arch */
        "/etc/pki/tls/certs/ca-bundle.crt",     /* Fedora, RHEL, CentOS */
        "/etc/ssl/ca-bundle.pem",               /* openSUSE */
        "/etc/pki/tls/cacert.pem",              /* OpenELEC */
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/cert.pem",                    /* macOS, OpenBSD, Alpine */
        "/usr/local/share/certs/ca-root-nss.crt", /* FreeBSD */
        "/usr/local/etc/ssl/cert.pem", NULL};
    int i;
    for (i = 0; paths[i] && OSSR__OS == 1; i++) {
        ossr__fh fh = ossr__file_open(paths[i], 0);
        ossr__file_close(fh);
        if (fh != OSSR__BAD_FH) return paths[i];
    }
    return NULL;
}
#endif

/* Certificate policy for insecure mode: take the server's key from its first
   certificate and check nothing. Used only when the caller asks for it. */
typedef struct ossr__x509_any {
    const br_x509_class *vtable;
    br_x509_decoder_context dc;
    int first;
} ossr__x509_any;
static void ossr__any_start_chain(const br_x509_class **ctx, const char *server_name) {
    (void)server_name;
    ((ossr__x509_any *)(void *)ctx)->first = 1;
}
static void ossr__any_start_cert(const br_x509_class **ctx, uint32_t length) {
    ossr__x509_any *x = (ossr__x509_any *)(void *)ctx;
    (void)length;
    if (x->first) br_x509_decoder_init(&x->dc, NULL, NULL);
}
static void ossr__any_append(const br_x509_class **ctx, const unsigned char *buf, size_t len) {
    ossr__x509_any *x = (ossr__x509_any *)(void *)ctx;
    if (x->first) br_x509_decoder_push(&x->dc, buf, len);
}
static void ossr__any_end_cert(const br_x509_class **ctx) { ((ossr__x509_any *)(void *)ctx)->first = 0; }
static unsigned ossr__any_end_chain(const br_x509_class **ctx) {
    ossr__x509_any *x = (ossr__x509_any *)(void *)ctx;
    return br_x509_decoder_get_pkey(&x->dc) ? 0 : BR_ERR_X509_UNSUPPORTED;
}
static const br_x509_pkey *ossr__any_get_pkey(const br_x509_class *const *ctx, unsigned *usages) {
    ossr__x509_any *x = (ossr__x509_any *)(void *)(uintptr_t)ctx;
    if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
    return br_x509_decoder_get_pkey(&x->dc);
}
static const br_x509_class ossr__x509_any_vtable = {
    sizeof(ossr__x509_any), ossr__any_start_chain, ossr__any_start_cert, ossr__any_append,
    ossr__any_end_cert, ossr__any_end_chain, ossr__any_get_pkey};

/* BearSSL error codes in words (bearssl_ssl.h, bearssl_x509.h). */
OSSR__PRIVATE const char *ossr__tls_words(int err) {
    switch (err) {
    case BR_ERR_X509_NOT_TRUSTED: return "the server's certificate chain is not trusted (no trust anchor matches it)";
    case BR_ERR_X509_EXPIRED: return "the server's certificate is expired or not yet valid (check the clock)";
    case BR_ERR_X509_BAD_SERVER_NAME: return "the server's certificate does not match the host name";
    case BR_ERR_X509_UNSUPPORTED: return "the server's certificate uses an unsupported feature";
    case BR_ERR_X509_CRITICAL_EXTENSION: return "the server's certificate has an unknown critical extension";
    case BR_ERR_X509_NOT_CA: return "a certificate in the server's chain is not a CA";
    case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "the server's certificate does not allow this key usage";
    case BR_ERR_X509_WEAK_PUBLIC_KEY: return "the server's certificate key is too weak";
    case BR_ERR_X509_BAD_SIGNATURE: return "a signature in the server's certificate chain is invalid";
    case BR_ERR_X509_EMPTY_CHAIN: return "the server sent no certificate";
    case BR_ERR_X509_TIME_UNKNOWN: return "the clock is unknown, so certificate dates cannot be checked";
    case BR_ERR_BAD_VERSION: case BR_ERR_UNSUPPORTED_VERSION: case BR_ERR_BAD_LENGTH:
    case BR_ERR_TOO_LARGE:
        return "the server did not answer with TLS (plain HTTP on an https port?), or with a TLS version BearSSL lacks";
    case BR_ERR_BAD_MAC: return "a TLS record failed its integrity check";
    case BR_ERR_NO_RANDOM: return "no entropy source for TLS";
    case BR_ERR_BAD_HANDSHAKE: case BR_ERR_BAD_CIPHER_SUITE: case BR_ERR_BAD_PARAM:
        return "the TLS handshake failed (no cipher suite or parameter in common?)";
    default:
        if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_RECV_FATAL_ALERT + 256)
            return "the server ended the TLS handshake with an alert";
        if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256)
            return "TLS failed (alert sent to the server)";
        if (err >= 32 && err < 64) return "the server's certificate could not be verified";
        return "TLS failed";
    }
}
/* Days since 0000-01-01 and seconds in the day, as BearSSL's X.509 engine counts time. */
OSSR__PRIVATE void ossr__x509_time(int64_t unix_time, uint32_t *days, uint32_t *secs) {
    int64_t d = unix_time / 86400, s = unix_time % 86400;
    if (s < 0) { s += 86400; d--; }
    *days = (uint32_t)(d + 719528);
    *secs = (uint32_t)s;
}
#endif /* OSSR__HAVE_TLS */

/* >>http: requests over a kept-alive connection ------------------------------------- */
#define OSSR__DONE_BYTES ((OSSR__MAX_PARTS + 7) / 8)   /* the done bitmap, sized for any upload */
enum { OSSR__TLS_NONE = 0, OSSR__TLS_LIB = 1, OSSR__TLS_HOOK = 2 };   /* who encrypts an https:// connection */
/* Every default the options leave to the library, resolved in one place (ossr__resolve):
   a call's setup and the size functions share it. */
typedef struct ossr__conf {
    int tls;                     /* OSSR__TLS_*: who encrypts https:// (NONE: nobody can) */
    int lanes;                   /* connections of a multipart upload */
    uint64_t threshold;          /* files this size or larger go in parts */
    size_t buffer_size;          /* each lane's io buffer */
    size_t tls_size;             /* each lane's TLS state (0 without the library's TLS) */
    int connect_timeout_ms, io_timeout_ms, max_attempts, retry_base_ms, retry_cap_ms;
    uint32_t low_speed_limit;    /* bytes a second a reply body must average ... */
    int64_t low_speed_ms;        /* ... over each window this long */
} ossr__conf;

typedef struct ossr__ctx {
    const ossr_options *o;
    ossr__heap heap;             /* every allocation of this call */
    ossr_endpoint ep;
    char endpoint_norm[300];     /* scheme://host[:port] as recorded in the checkpoint */
    char host_header[400];
    char conn_host[300];
    uint16_t conn_port;
    int path_style;
    int sign_version;
    ossr__conf f;                /* the options with their defaults */
    ossr_transport tp;           /* the options' transport hook, or the system's sockets */
    ossr_file_io fio;            /* the options' file source, or the system's files */
    void *file;                  /* the source file: fio's handle */
    int file_open;
    int verify_all;              /* no change stamp to trust: every listed part is compared with the file */
    ossr__file_id fid;           /* size and modification time when the upload started */
    char abs_path[OSSR_PATH_MAX];
    /* shared upload state, under lock */
    ossr__mutex lock;
    ossr__mutex log_lock;        /* log callbacks one at a time (taken inside lock, never around it) */
    ossr__mutex creds_lock;      /* credentials callbacks one at a time (never inside lock) */
    ossr__mutex progress_lock;   /* progress callbacks one at a time (never inside lock) */
    char log_line[768];          /* under log_lock */
    int ext;                     /* a session driven by its caller: its clock is ext_now */
    int64_t ext_now;             /* the now_ms of the caller's last step, less the session's clock_base */
    unsigned char *scratch;      /* lane 0's io while it is idle: a checkpoint header is encoded and read there */
    /* a download */
    ossr_sink sink;              /* where it goes: the options' hook, or a temporary file */
#if OSSR__HAVE_FS
    ossr__tmpfile dlt;           /* that file (its absolute path in abs_path) */
#endif
    void *dl_h;                  /* the sink's handle, while dl_open */
    int dl_open;
    uint64_t dl_mark;            /* an in_order sink: the end of the furthest write since its open */
    uint64_t dl_crc;             /* the object's CRC-64, when dl_has_crc */
    int dl_has_crc;
    int download;                /* the call downloads: its record's name and words say so */
    int dl;                      /* a download in ranges, with a checkpoint */
    int64_t dl_mtime;            /* the object's Last-Modified */
    char dl_etag[80];            /* the object's ETag: every range must come from it (If-Match) */
    uint64_t progress_done;
    uint64_t progress_total;
    int stop;                    /* a hard error or a cancel: start no new part (under lock) */
    int cancelled;               /* under lock */
    ossr_status *st;             /* the caller's status (never NULL inside) */
    ossr_result first_error;
    /* multipart */
    uint64_t part_size;
    uint32_t part_count;
    uint32_t next_part;          /* index of the next pending part to consider */
    uint32_t max_listed;         /* highest part number ListParts showed */
    int64_t clock_offset;        /* server time minus ours, learned from replies (under lock) */
    ossr_credentials creds;      /* from the credentials callback (under lock) */
    unsigned creds_gen;          /* bumped by each refresh */
    int creds_stale;             /* the server refused them: refresh before the next request */
    double bw_tokens;            /* bandwidth cap: bytes that may go out now (under lock) */
    int64_t bw_last_ms;
    uint64_t head_crc, tail_crc; /* content fingerprint for resume_by_content */
    unsigned char *done;         /* bit per part: on the server and recorded in the checkpoint */
    uint64_t crc_acc;            /* XOR of the done parts' CRC-64s, each shifted to its place */
    char upload_id[128];
#ifdef OSSR__HAVE_TLS
    /* TLS: anchors shared read-only by the workers; the session under lock */
    ossr__anchors anchors;
    const br_x509_trust_anchor *ta;
    size_t ta_count;
    br_ssl_session_parameters session;
    int have_session;
#endif
    char tls_name[300];          /* SNI and the name the certificate must carry */
    /* checkpoint */
    char ckpt_name[48];          /* 40 hex digits of SHA-256(endpoint, bucket, key, path) + ".ossr" */
    char ckpt_path[OSSR_PATH_MAX]; /* the default store: its directory, then the file */
    int ckpt_ok;                 /* a record exists that slots can be written to */
#if OSSR__HAVE_FS
    ossr__fh ckpt_fd;            /* the default store's open record */
#endif
    uint64_t ckpt_head;          /* the record's header length; part N's slot follows at (N-1) x 88 */
    int ckpt_dirty;              /* part slots written since the last sync */
    int64_t ckpt_sync_ms;
    uint32_t ckpt_flags;
#if OSSR__HAVE_FS
    ossr__fh lock_fd;            /* the default store's lock on the record, held for the whole call */
#endif
    int locked;                  /* the record is ours until the call ends */
    /* the multipart flow (ossr__mp_step) */
    int mp;                      /* OSSR__MP_*: its state */
    int mp_then;                 /* the state that takes lane 0's request when it ends */
    ossr_result mp_result;       /* how the upload ended */
    ossr_result mp_r;            /* the result of the request (or step) before */
    ossr_result mp_fail;         /* why, while an orphan upload is aborted */
    int mp_m;                    /* the object's check: 1 in place, 0 not, -1 unknown */
    int head_refused;            /* HeadObject answered 403: this identity cannot check the object */
    int nw;                      /* lanes that send parts */
    int completing, restarts, waited, reconciled;
    uint64_t completing_crc;     /* the whole CRC-64 a sent Complete carried */
    uint64_t whole;              /* the whole CRC-64 of this Complete */
    int64_t await_ms, await_step, await_at; /* waiting for an earlier Complete */
    int64_t wake_ms;             /* nothing to do before then (0: not waiting on time) */
    char old_id[128];            /* the upload a damaged or stale record names */
    char reason[160];            /* why the record does not match */
    char marker[24];             /* ListParts: the page starts after this part */
    struct ossr__listing *list;  /* ListParts' state, on the heap */
    struct ossr__complete_gen *gen; /* Complete's body, on the heap */
} ossr__ctx;

#ifdef OSSR__HAVE_TLS
/* One worker's TLS connection state: BearSSL's client engine, its X.509 engines and the
   record buffer, all inside the worker's one allocation. */
typedef struct ossr__tls {
    br_ssl_client_context sc;
    br_x509_minimal_context xc;
    ossr__x509_any any;
    unsigned char *buf;
    size_t buf_len;
    int active;                  /* a handshake completed on the current socket */
    int eof;                     /* the socket reached end of stream */
    ossr_result io_result;       /* why the socket failed under the engine */
    int os_err;
} ossr__tls;
#endif

typedef struct ossr__worker ossr__worker;   /* below: a connection and its request */
/* What went wrong in a lane's last request: the fields of ossr_status a failure fills,
   copied there once, by ossr__set_error. */
typedef struct ossr__err {
    ossr_result result;
    int http_status, os_error, tls_error;
    uint32_t part_number;
    char code[64], message[256], request_id[64], host_id[128], ec[32], server_time[40], detail[256];
} ossr__err;
enum { OSSR__BODY_NONE = 0, OSSR__BODY_FILE, OSSR__BODY_GEN };
enum { OSSR__SINK_MEM = 0, OSSR__SINK_FILE };
/* A body generator fills buf with the next bytes and returns how many; restart rewinds. */
typedef size_t (*ossr__gen_fn)(void *user, char *buf, size_t cap, int restart);
/* A reply read as it streams: each child element of the root is handed over as soon as
   it is whole (name NULL: a new attempt starts, forget what the last one handed over).
   Returns 0 to go on, 1 to take no more (the rest is read and dropped), or a negative
   result (with w->err filled). */
typedef int (*ossr__child_fn)(ossr__worker *w, void *user, const ossr_slice *name, const ossr_slice *content);

typedef struct ossr__req {
    const char *method;
    const char *what;             /* for messages: "UploadPart", "CompleteMultipartUpload" */
    ossr_header query[4];
    size_t nquery;
    int bucket_level;             /* the bucket itself (/?uploads), not the object */
    ossr_header hdr[48 + 1];      /* and room for a Content-MD5 (ossr__xchg_begin) */
    size_t nhdr;
    int body_kind;
    uint64_t body_len;
    uint64_t file_off;
    ossr__gen_fn gen;
    void *gen_user;
    int progress;                 /* count body bytes as upload progress */
    int fresh_conn;               /* send on a connection that has carried nothing yet */
    int check_crc;                /* compare the body's CRC-64 with the reply's */
    int sink;
    const char *root;             /* a 2xx reply is this XML element, handed to on_child child by child */
    ossr__child_fn on_child;
    void *child_user;
    int xml_state;                /* 0 before the root, 1 inside it, 2 after it, 3 taking no more */
    uint64_t out_crc;             /* SINK_FILE: CRC-64 of the bytes given to the download's sink */
    uint64_t out_len;
    uint64_t out_off;             /* where the body goes in the sink */
    uint64_t range_len;           /* into the file sink: exactly range_len bytes at out_off */
    int ranged;                   /* ... asked for with Range (else the whole object) */
    uint32_t part_number;
    /* results */
    uint64_t body_crc;            /* CRC-64 of the request body sent */
    unsigned char md5[16];
    int want_md5;
} ossr__req;

/* A lane is one connection and the I/O it waits for: the steps below never block; they
   leave in w->op what must happen on the connection next (connect, write w->op_p[0..op_n),
   read into w->op_p[0..op_n)), and a driver carries it out and reports with
   ossr__lane_done. Over https:// BearSSL's engine sits between the exchange and the
   connection, and its record buffers are what the lane writes and reads. */
enum { OSSR__OP_NONE = 0, OSSR__OP_CONNECT, OSSR__OP_WRITE, OSSR__OP_READ };
/* What a step came to, besides a negative ossr_result. */
enum { OSSR__READY = 0, OSSR__WAIT = 1, OSSR__EOF = 2, OSSR__REPLIED = 3 /* before the request was out */ };
struct ossr__worker {
    ossr__ctx *ctx;
    char *block;                 /* the worker's one allocation */
    size_t block_size;
    int linked;                  /* a connection is open */
    int fd_used;                 /* the connection has carried a request */
    void *conn;                  /* the transport's handle of the connection */
    char *head;                  /* == io (OSSR__HEAD_CAP used): signing scratch, then the request head */
    char *io;                    /* buffer_size: head out, plain-TCP body out, reply in */
    size_t io_pos, io_len;       /* unconsumed response bytes in io */
    char *body;                  /* == io: a reply body kept in memory (XML) */
    size_t body_len;
    int body_truncated;
    /* the last reply */
    int status;
    int has_crc;
    uint64_t crc;
    uint64_t content_length;
    int has_length;
    char etag[80];
    int64_t mtime;               /* Last-Modified (unix seconds; 0: not given) */
    ossr__err err;               /* detail of this worker's last failure */
    uint64_t bytes_sent;
    uint32_t parts_uploaded;
    ossr_credentials creds;      /* what the current request is signed with */
    unsigned creds_gen;
    int64_t rx_deadline;         /* the reply head is due by then (ms; 0: not waiting for one) */
    int64_t win_start;           /* the reply body's current low-speed window (0: none) */
    uint64_t win_bytes;
    const char *slow;            /* why the pace check failed */
#ifdef OSSR__HAVE_TLS
    ossr__tls *tls;              /* NULL for http:// */
#endif
    /* the lane: the I/O its connection waits for (OSSR__OP_*), done by a driver */
    int op;
    char *op_p;                  /* write op_p[0..op_n), or read into it */
    size_t op_n;
    ossr_result io_fail;         /* the driver's report of a failed op, and the system's error */
    int io_fail_e;
    const char *out;             /* request bytes not yet handed to the connection */
    size_t out_len;
    int eof;                     /* the peer closed its side */
    /* the exchange in progress (ossr__xchg_step) */
    int xs;                      /* OSSR__X_* */
    ossr_result x_result;        /* how it ended */
    uint64_t sent;               /* body bytes out */
    size_t win_n;                /* body bytes in the last window, counted once it is out */
    size_t ahead_pos, ahead_len; /* file bytes read ahead into io (TLS) */
    int sent_anything, got_anything, keep_alive, to_mem;
    ossr_result send_fail;       /* the send failed; the reply may still say why */
    char send_detail[256];
    ossr_response resp;          /* the reply head */
    ossr_signature sig;          /* the request's signature, while its head is made */
    /* the request it carries (ossr__rq_step) */
    ossr__req *q;
    int rq_state;                /* OSSR__RQ_* */
    ossr_result rq_result;
    int rq_attempt, rq_refreshed, rq_was_used;
    unsigned rq_seed;
    int64_t rq_wake;             /* the back-off ends then */
    char *pace_win;              /* a body window the bandwidth cap holds back ... */
    size_t pace_n;               /* ... of pace_n bytes ... */
    int64_t pace_at;             /* ... until then */
    ossr__req req;               /* the request it sends for the flow */
    char num[48];                /* its part number, or its Range header ("bytes=first-last") */
    int busy;                    /* a part is on its way (part_idx) */
    uint32_t part_idx;
    int closing;                 /* ext: the caller is to close the connection */
    int64_t op_deadline;         /* the op gives up then (0: not set yet) */
    int bmode;                   /* OSSR__B_*: how the reply body ends */
    uint64_t bleft;              /* its bytes (or the chunk's) still to come */
};


/* A line for the log callback, formatted into the context's own buffer (no stack),
   one line at a time. */
OSSR__PRIVATE void ossr__log(ossr__ctx *c, int level, const char *fmt, ...) {
    va_list ap;
    if (!c->o->log) return;
    ossr__lock(&c->log_lock);
    va_start(ap, fmt);
    ossr__vfmt(c->log_line, sizeof c->log_line, fmt, ap);
    va_end(ap);
    c->o->log(level, c->log_line, c->o->log_user);
    ossr__unlock(&c->log_lock);
}
/* The engine's clock, in ms: a session driven by its caller runs on the caller's clock
   less its value at the first step (ext_now; ossr__caller_time turns deadlines and wake
   times back into the caller's clock); otherwise the monotonic clock (ossr__now_ms). */
OSSR__PRIVATE int64_t ossr__clock(const ossr__ctx *c) {
    return c->ext ? c->ext_now : ossr__now_ms(c->o);
}
/* Counts n bytes of progress (negative: taken back) and tells the progress callback,
   one call at a time (progress_lock) but never under the engine's lock; a nonzero
   answer cancels the upload. */
OSSR__PRIVATE void ossr__progress(ossr__ctx *c, int64_t n) {
    uint64_t done;
    if (!c->o->progress) {   /* nobody to tell: the count alone, once a window */
        ossr__lock(&c->lock);
        c->progress_done += (uint64_t)n;
        ossr__unlock(&c->lock);
        return;
    }
    ossr__lock(&c->progress_lock);
    ossr__lock(&c->lock);
    c->progress_done += (uint64_t)n;
    done = c->progress_done;
    ossr__unlock(&c->lock);
    if (n > 0 && c->o->progress(done, c->progress_total, c->o->progress_user)) {
        ossr__lock(&c->lock);
        c->stop = c->cancelled = 1;
        ossr__unlock(&c->lock);
    }
    ossr__unlock(&c->progress_lock);
}
/* Whether the upload is stopping (a hard error or a cancel), and why. */
OSSR__PRIVATE int ossr__stopped(ossr__ctx *c, int *cancelled) {
    int stop;
    ossr__lock(&c->lock);
    if (!c->stop && ossr__cancel_requested(c->o)) c->stop = c->cancelled = 1;
    stop = c->stop;
    if (cancelled) *cancelled = c->cancelled;
    ossr__unlock(&c->lock);
    return stop;
}
/* Sleeps ms in slices of at most 100 ms, ending early when the upload stops. */
OSSR__PRIVATE void ossr__nap(ossr__ctx *c, int64_t ms) {
    for (; ms > 0 && !ossr__stopped(c, NULL); ms -= 100) ossr__sleep_ms(c->o, ms > 100 ? 100 : (int)ms);
}
OSSR__PRIVATE void ossr__req_init(ossr__req *q, const char *method, const char *what) {
    memset(q, 0, sizeof *q);
    q->method = method;
    q->what = what;
}
OSSR__PRIVATE void ossr__req_query(ossr__req *q, const char *name, const char *value) {
    OSSR_ASSERT(q->nquery < 4);
    q->query[q->nquery].name = name;
    q->query[q->nquery].value = value;
    q->nquery++;
}
OSSR__PRIVATE OSSR__NOINLINE void ossr__req_header(ossr__req *q, const char *name, const char *value) {
    if (q->nhdr < sizeof q->hdr / sizeof q->hdr[0] - 1) {
        q->hdr[q->nhdr].name = name;
        q->hdr[q->nhdr].value = value;
        q->nhdr++;
    }
}
/* Copies the user headers that OSS wants on this call. */
OSSR__PRIVATE void ossr__req_user_headers(ossr__req *q, const ossr_options *o, const char *const *only) {
    size_t i;
    for (i = 0; i < o->header_count; i++) {
        const char *n = o->headers[i].name;
        int j, take = only == NULL;
        for (j = 0; only && only[j] && !take; j++) take = ossr__ieq(n, only[j]);
        if (take) ossr__req_header(q, n, o->headers[i].value);
    }
}

/* Marks a failure of the call itself (no request involved) in its status; returns r. */
OSSR__PRIVATE ossr_result ossr__setup_fail(ossr__ctx *c, ossr_result r, const char *fmt, ...) {
    va_list ap;
    c->st->result = r;
    va_start(ap, fmt);
    ossr__vfmt(c->st->detail, sizeof c->st->detail, fmt, ap);
    va_end(ap);
    return r;
}
/* Marks a worker failure with detail; returns r. */
OSSR__PRIVATE ossr_result ossr__fail(ossr__worker *w, ossr_result r, int os_error, const char *fmt, ...) {
    va_list ap;
    w->err.result = r;
    if (os_error) w->err.os_error = os_error;
    va_start(ap, fmt);
    ossr__vfmt(w->err.detail, sizeof w->err.detail, fmt, ap);
    va_end(ap);
    return r;
}
/* Our time for signing: the clock, corrected by what the server's replies taught us. */
OSSR__PRIVATE int64_t ossr__signing_time(ossr__ctx *c) {
    int64_t off;
    ossr__lock(&c->lock);
    off = c->clock_offset;
    ossr__unlock(&c->lock);
    return ossr__unix_time(c->o) + off;
}
/* Learns the server's clock from a Date header or a <ServerTime>. A difference below a
   minute is noise (OSS allows 15); force takes any (the server said we were skewed). */
OSSR__PRIVATE void ossr__learn_time(ossr__ctx *c, const char *s, size_t n, int force) {
    int64_t server, diff;
    if (ossr__parse_date(s, n, &server) != 0) return;
    diff = server - ossr__unix_time(c->o);
    ossr__lock(&c->lock);
    if (diff != c->clock_offset && (force || diff - c->clock_offset > 60 || c->clock_offset - diff > 60))
        c->clock_offset = diff;
    else force = -1;   /* nothing learned */
    ossr__unlock(&c->lock);
    if (force >= 0)   /* said outside the lock: the log callback never holds up the others */
        ossr__log(c, OSSR_LOG_WARN, "the local clock is %lld s %s the server's; signing with the server's time",
                  (long long)(diff < 0 ? -diff : diff), diff < 0 ? "ahead of" : "behind");
}
/* The moment this file was compiled: a floor for certificate checks on boards whose clock
   starts at 1970 (a certificate valid at build time is checked as of then). */
OSSR__PRIVATE int64_t ossr__build_time(void) {
    const char *d = __DATE__;   /* "Nov 25 2026", "Nov  5 2026" */
    const char *p = d + 4 + (d[4] == ' '), *end = d + 11;
    int m = ossr__month(d), day = 1, year = 1970;
    ossr__num(&p, end, 2, &day);
    p = d + 7;
    ossr__num(&p, end, 4, &year);
    return ossr__days_from_civil(year, m ? m : 1, day) * 86400;
}
/* Whether the shared credentials must be fetched (again) before the next request. */
OSSR__PRIVATE int ossr__creds_due(ossr__ctx *c) {
    return c->creds_gen == 0 || c->creds_stale ||
           (c->creds.expires_at && ossr__unix_time(c->o) + c->clock_offset >= c->creds.expires_at - 300);
}
/* Credentials for the next request, in w->creds: the options' strings, or the callback's,
   fetched before they expire or after the server refused them. The callback runs one
   call at a time (creds_lock) but outside the engine's lock, into the worker's own copy,
   so that a slow fetch stalls only the workers that need it. */
OSSR__PRIVATE ossr_result ossr__get_creds(ossr__worker *w) {
    ossr__ctx *c = w->ctx;
    const ossr_options *o = c->o;
    int due, rc, given;
    if (!o->credentials) return OSSR_OK;
    ossr__lock(&c->creds_lock);
    ossr__lock(&c->lock);
    due = ossr__creds_due(c);
    if (!due) { w->creds = c->creds; w->creds_gen = c->creds_gen; }
    ossr__unlock(&c->lock);
    if (due) {
        memset(&w->creds, 0, sizeof w->creds);
        rc = o->credentials(&w->creds, o->credentials_user);
        w->creds.access_key_id[sizeof w->creds.access_key_id - 1] = 0;
        w->creds.access_key_secret[sizeof w->creds.access_key_secret - 1] = 0;
        w->creds.security_token[sizeof w->creds.security_token - 1] = 0;
        given = rc == 0 && w->creds.access_key_id[0] && w->creds.access_key_secret[0];
        if (!given || !ossr__head_safe(w->creds.access_key_id) || !ossr__head_safe(w->creds.security_token)) {
            ossr__unlock(&c->creds_lock);
            memset(&w->creds, 0, sizeof w->creds);
            return ossr__fail(w, OSSR_E_NO_CREDENTIALS, 0, given ? "the credentials callback gave a key id or token "
                              "with a control character" : "the credentials callback gave no credentials");
        }
        ossr__lock(&c->lock);
        c->creds = w->creds;
        w->creds_gen = ++c->creds_gen;
        c->creds_stale = 0;
        ossr__unlock(&c->lock);
    }
    ossr__unlock(&c->creds_lock);
    if (due) ossr__log(c, OSSR_LOG_INFO, "credentials refreshed (key id %s)", w->creds.access_key_id);
    return OSSR_OK;
}
/* Client-side bandwidth cap: a token bucket shared by all lanes, refilled at
   max_bytes_per_second and holding at most a quarter second's worth. Takes n bytes'
   worth and says when they may go (ms; 0: now): the lane waits till then, without
   blocking anyone. */
OSSR__PRIVATE OSSR__NOINLINE int64_t ossr__throttle(ossr__ctx *c, size_t n) {
    double rate = (double)c->o->max_bytes_per_second, cap = rate / 4;
    int64_t now, wait_ms;
    if (rate <= 0) return 0;
    ossr__lock(&c->lock);
    now = ossr__clock(c);
    if (c->bw_last_ms == 0) { c->bw_last_ms = now; c->bw_tokens = cap; }
    c->bw_tokens += (double)(now - c->bw_last_ms) * rate / 1000.0;
    if (c->bw_tokens > cap) c->bw_tokens = cap;
    c->bw_last_ms = now;
    c->bw_tokens -= (double)n;
    wait_ms = c->bw_tokens < 0 ? (int64_t)(-c->bw_tokens * 1000.0 / rate) : 0;
    ossr__unlock(&c->lock);
    return wait_ms > 0 ? now + wait_ms : 0;
}

/* The system's error after a transport call failed: errno for the system's sockets,
   none for a hook. */
OSSR__PRIVATE int ossr__link_errno(const ossr__ctx *c) { return c->o->transport ? 0 : errno; }
/* The connection under TLS, through the call's transport (ossr__transport). */
OSSR__PRIVATE ossr_result ossr__link_open(ossr__worker *w, int *e) {
    ossr__ctx *c = w->ctx;
    const ossr_transport *t = &c->tp;
    ossr_result r;
    if (c->f.tls == OSSR__TLS_HOOK)
        r = t->connect_tls(c->conn_host, c->conn_port, c->tls_name, c->f.connect_timeout_ms, &w->conn, t->user);
    else r = t->connect(c->conn_host, c->conn_port, c->f.connect_timeout_ms, &w->conn, t->user);
    *e = r == OSSR_OK ? 0 : ossr__link_errno(c);
    if (r == OSSR_OK) w->linked = 1;
    else if (r != OSSR_E_RESOLVE && r != OSSR_E_TIMEOUT && r != OSSR_E_CANCELLED &&
             !(c->f.tls == OSSR__TLS_HOOK && (r == OSSR_E_CERT || r == OSSR_E_TLS_HANDSHAKE || r == OSSR_E_TLS)))
        r = OSSR_E_CONNECT;   /* and a hook's stray value */
    return r;
}
/* One send: bytes sent (> 0) or a negative result. Anything but a count, a timeout or a
   cancel is a failed send (a hook's -1 too). */
OSSR__PRIVATE long ossr__link_write(ossr__worker *w, const char *p, size_t n, int *e) {
    const ossr_transport *t = &w->ctx->tp;
    long k = t->send(w->conn, p, n, w->ctx->f.io_timeout_ms, t->user);
    if (k > 0 && (size_t)k <= n) return k;
    *e = ossr__link_errno(w->ctx);
    return k == OSSR_E_TIMEOUT || k == OSSR_E_CANCELLED ? k : (long)OSSR_E_SEND;
}
/* The reply's pace, checked at every receive: its head must be whole within the I/O
   timeout of the request's end, and its body must average low_speed_limit bytes a
   second over each low_speed_time (curl's rule). A server that trickles a byte at a time
   never lets a per-receive timeout fire; this makes it a timeout all the same. */
OSSR__PRIVATE int ossr__pace_ok(ossr__worker *w, size_t n) {
    ossr__ctx *c = w->ctx;
    int64_t now;
    if (!w->rx_deadline && !w->win_start) return 1;
    now = ossr__clock(c);
    if (w->rx_deadline && now > w->rx_deadline) {
        w->slow = "the reply head did not arrive within the I/O timeout (the server sends it too slowly)";
        return 0;
    }
    if (!w->win_start) return 1;
    w->win_bytes += n;
    if (now - w->win_start < c->f.low_speed_ms) return 1;
    if (w->win_bytes * 1000 < (uint64_t)c->f.low_speed_limit * (uint64_t)(now - w->win_start)) {
        w->slow = "the reply body came slower than the low-speed limit";
        return 0;
    }
    w->win_start = now;
    w->win_bytes = 0;
    return 1;
}
/* Bytes received (> 0), 0 at the end of the stream, or a negative result. */
OSSR__PRIVATE long ossr__link_recv(ossr__worker *w, char *p, size_t cap, int *e) {
    const ossr_transport *t = &w->ctx->tp;
    int tmo = w->ctx->f.io_timeout_ms;
    long k;
    if (w->rx_deadline) {   /* a head due sooner than the I/O timeout waits only until then */
        int64_t left = w->rx_deadline - ossr__clock(w->ctx);
        if (left < tmo) tmo = left < 1 ? 1 : (int)left;
    }
    if (ossr__cancel_requested(w->ctx->o)) return OSSR_E_CANCELLED;   /* a hook blocks without looking */
    k = t->recv(w->conn, p, cap, tmo, t->user);
    if (k < 0 || (size_t)k > cap) {
        *e = ossr__link_errno(w->ctx);
        if (k != OSSR_E_TIMEOUT && k != OSSR_E_CANCELLED) k = OSSR_E_RECV;
    }
    if (k > 0 && !ossr__pace_ok(w, (size_t)k)) return OSSR_E_TIMEOUT;
    return k;
}
OSSR__PRIVATE void ossr__close_conn(ossr__worker *w) {
    if (w->ctx->ext) { if (w->linked) w->closing = 1; }   /* the session's caller closes it */
    else if (w->linked) w->ctx->tp.close(w->conn, w->ctx->tp.user);
    w->linked = 0;
    w->conn = NULL;
    w->fd_used = 0;
    w->io_pos = w->io_len = 0;
    w->op = OSSR__OP_NONE;
    w->op_deadline = 0;
    w->out_len = 0;
    w->eof = 0;
#ifdef OSSR__HAVE_TLS
    if (w->tls) w->tls->active = 0;
#endif
}

#ifdef OSSR__HAVE_TLS
/* Why a TLS connection stopped, as a result and a sentence in w->err: k is what stopped
   it (a lane step's or ossr__tls_pump's: OSSR__EOF, OSSR_E_TLS for the engine itself,
   else the connection's failure with the system's error e), then the engine says why. */
OSSR__PRIVATE ossr_result ossr__tls_error(ossr__worker *w, int k, int e, const char *when) {
    ossr__tls *t = w->tls;
    int err;
    ossr_result r;
    if (k == OSSR__EOF) t->eof = 1;
    else if (k < 0 && k != OSSR_E_TLS) { t->io_result = (ossr_result)k; t->os_err = e; }
    err = br_ssl_engine_last_error(&t->sc.eng);
    w->err.tls_error = err;
    if (err == BR_ERR_IO || err == BR_ERR_OK) {   /* the socket failed underneath */
        r = t->io_result != OSSR_OK ? t->io_result : OSSR_E_RECV;
        return ossr__fail(w, r, t->os_err, "%s: %s", when,
                          r == OSSR_E_TIMEOUT ? "timed out" : t->eof ? "the server closed the connection"
                          : ossr__io_words(t->os_err, r));
    }
    if (err == BR_ERR_X509_BAD_SERVER_NAME)
        return ossr__fail(w, OSSR_E_CERT, 0, "%s: %s %s (BearSSL error %d)", when, ossr__tls_words(err),
                          w->ctx->tls_name, err);
    r = (err >= 32 && err < 64) ? OSSR_E_CERT : err == BR_ERR_NO_RANDOM ? OSSR_E_NO_ENTROPY
        : t->active ? OSSR_E_TLS : OSSR_E_TLS_HANDSHAKE;
    return ossr__fail(w, r, 0, "%s: %s (BearSSL error %d)", when, ossr__tls_words(err), err);
}
/* Cipher suites, forward-secret AEAD first, in the order the server should pick (a
   server that honours the client's order picks the first it has). BearSSL's own order
   puts ChaCha20 first; where BearSSL runs AES in hardware (x86 AES-NI, POWER8) its
   AES-GCM sends about five times faster, so AES-GCM goes first there. BearSSL has no
   ARMv8 AES path, so on ARM (as everywhere without AES hardware) ChaCha20 stays first. */
OSSR__PRIVATE int ossr__tls_aes_hw(void) {
    return br_aes_x86ni_ctr_get_vtable() != NULL || br_aes_pwr8_ctr_get_vtable() != NULL;
}
OSSR__PRIVATE void ossr__tls_suites(br_ssl_engine_context *eng) {
    static const uint16_t aes_gcm[] = {
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 };
    static const uint16_t chacha[] = {
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 };
    static const uint16_t rest[] = {     /* CBC, then no forward secrecy: old servers only */
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        BR_TLS_RSA_WITH_AES_128_GCM_SHA256, BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_RSA_WITH_AES_128_CBC_SHA256, BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
        BR_TLS_RSA_WITH_AES_128_CBC_SHA, BR_TLS_RSA_WITH_AES_256_CBC_SHA };
    uint16_t list[sizeof aes_gcm / 2 + sizeof chacha / 2 + sizeof rest / 2];
    size_t n = 0;
    int aes = ossr__tls_aes_hw();
    memcpy(list + n, aes ? aes_gcm : chacha, aes ? sizeof aes_gcm : sizeof chacha);
    n += aes ? sizeof aes_gcm / 2 : sizeof chacha / 2;
    memcpy(list + n, aes ? chacha : aes_gcm, aes ? sizeof chacha : sizeof aes_gcm);
    n += aes ? sizeof chacha / 2 : sizeof aes_gcm / 2;
    memcpy(list + n, rest, sizeof rest);
    n += sizeof rest / 2;
    br_ssl_engine_set_suites(eng, list, n);
}
/* Starts a handshake on a connected socket, resuming the upload's last session when
   there is one; the lane's steps drive it (ossr__tls_pump). */
OSSR__PRIVATE ossr_result ossr__tls_start(ossr__worker *w) {
    ossr__ctx *c = w->ctx;
    ossr__tls *t = w->tls;
    const ossr_options *o = c->o;
    uint32_t days, secs;
    int resume;
    t->active = 0;
    br_ssl_client_init_full(&t->sc, &t->xc, c->ta, c->ta_count);
    {   /* a board whose clock starts at 1970 checks certificates as of the build date */
        int64_t now = ossr__signing_time(c), floor = ossr__build_time();
        ossr__x509_time(now > floor ? now : floor, &days, &secs);
    }
    br_x509_minimal_set_time(&t->xc, days, secs);
    if (o->insecure) {
        t->any.vtable = &ossr__x509_any_vtable;
        br_ssl_engine_set_x509(&t->sc.eng, &t->any.vtable);
    }
    ossr__tls_suites(&t->sc.eng);
    br_ssl_engine_set_buffer(&t->sc.eng, t->buf, t->buf_len, !o->tls_small_buffer);
    if (o->entropy) {
        unsigned char seed[32];
        if (o->entropy(seed, sizeof seed, o->entropy_user) != 0)
            return ossr__fail(w, OSSR_E_NO_ENTROPY, 0, "the entropy callback failed");
        br_ssl_engine_inject_entropy(&t->sc.eng, seed, sizeof seed);
        memset(seed, 0, sizeof seed);
    }
    ossr__lock(&c->lock);
    resume = c->have_session;
    if (resume) br_ssl_engine_set_session_parameters(&t->sc.eng, &c->session);
    ossr__unlock(&c->lock);
    t->eof = 0;
    t->io_result = OSSR_OK;
    t->os_err = 0;
    if (!br_ssl_client_reset(&t->sc, c->tls_name, resume)) return ossr__tls_error(w, OSSR_E_TLS, 0, "starting TLS");
    return OSSR_OK;
}
/* The handshake is over: keep its session for the next connection. */
OSSR__PRIVATE void ossr__tls_ready(ossr__worker *w) {
    ossr__ctx *c = w->ctx;
    ossr__lock(&c->lock);
    br_ssl_engine_get_session_parameters(&w->tls->sc.eng, &c->session);
    c->have_session = 1;
    ossr__unlock(&c->lock);
    w->tls->active = 1;
}
/* Runs the TLS engine until it takes application bytes (target BR_SSL_SENDAPP) or holds
   some (BR_SSL_RECVAPP): OSSR__READY; OSSR__WAIT with w->op set (records to write, or
   room for records to read: records the engine made always go out first); OSSR__EOF
   when the connection closed first; OSSR__REPLIED when the server's reply arrives while
   the request is still going out; OSSR_E_TLS when the engine failed (ossr__tls_error
   says why). */
OSSR__PRIVATE int ossr__tls_pump(ossr__worker *w, unsigned target) {
    br_ssl_engine_context *eng = &w->tls->sc.eng;
    for (;;) {
        unsigned st = br_ssl_engine_current_state(eng);
        size_t n;
        if (st & BR_SSL_CLOSED) return br_ssl_engine_last_error(eng) == BR_ERR_OK ? (int)OSSR__EOF : (int)OSSR_E_TLS;
        if (st & BR_SSL_SENDREC) {
            w->op_p = (char *)br_ssl_engine_sendrec_buf(eng, &n);
            w->op_n = n;
            w->op = OSSR__OP_WRITE;
            return OSSR__WAIT;
        }
        if (st & target) return OSSR__READY;
        if (st & BR_SSL_RECVAPP) return OSSR__REPLIED;
        if (st & BR_SSL_RECVREC) {
            if (w->eof) return OSSR__EOF;
            w->op_p = (char *)br_ssl_engine_recvrec_buf(eng, &n);
            w->op_n = n;
            w->op = OSSR__OP_READ;
            return OSSR__WAIT;
        }
        br_ssl_engine_flush(eng, 0);   /* a partial record waits for nothing more */
    }
}
#endif /* OSSR__HAVE_TLS */

OSSR__PRIVATE int ossr__is_tls(const ossr__worker *w) {
#ifdef OSSR__HAVE_TLS
    return w->tls != NULL;
#else
    (void)w;
    return 0;
#endif
}
/* The driver's report on the lane's I/O: for a write or a read, the count (a read of 0:
   the peer closed its side); for a connect, 0; or a negative result with the system's
   error e, which the exchange turns into its failure. */
OSSR__PRIVATE void ossr__lane_done(ossr__worker *w, long k, int e) {
    int op = w->op;
    w->op = OSSR__OP_NONE;
    w->op_deadline = 0;
    if (k < 0) {
        w->io_fail = (ossr_result)k;
        w->io_fail_e = e;
        if (op == OSSR__OP_CONNECT && w->ctx->ext) w->closing = 1;   /* whatever the caller started */
        return;
    }
    if (op == OSSR__OP_CONNECT) { w->linked = 1; w->fd_used = 0; w->eof = 0; }
    else if (op == OSSR__OP_WRITE) {
#ifdef OSSR__HAVE_TLS
        if (w->tls) { br_ssl_engine_sendrec_ack(&w->tls->sc.eng, (size_t)k); return; }
#endif
        w->out += k;
        w->out_len -= (size_t)k;
    } else if (k == 0) {
        w->eof = 1;
    } else {
#ifdef OSSR__HAVE_TLS
        if (w->tls) { br_ssl_engine_recvrec_ack(&w->tls->sc.eng, (size_t)k); return; }
#endif
        w->io_len += (size_t)k;
    }
}
/* Hands w->out[0..out_len) to the connection: over TLS copied into the engine's records,
   over plain TCP written as it is. OSSR__READY when all of it is taken, OSSR__WAIT, or
   what ossr__tls_pump answers. */
OSSR__PRIVATE int ossr__lane_out(ossr__worker *w) {
#ifdef OSSR__HAVE_TLS
    if (w->tls) {
        while (w->out_len) {
            size_t cap;
            unsigned char *p;
            int k = ossr__tls_pump(w, BR_SSL_SENDAPP);
            if (k != OSSR__READY) return k;
            p = br_ssl_engine_sendapp_buf(&w->tls->sc.eng, &cap);
            if (cap > w->out_len) cap = w->out_len;
            memcpy(p, w->out, cap);
            br_ssl_engine_sendapp_ack(&w->tls->sc.eng, cap);
            w->out += cap;
            w->out_len -= cap;
        }
        return OSSR__READY;
    }
#endif
    if (!w->out_len) return OSSR__READY;
    w->op = OSSR__OP_WRITE;
    w->op_p = (char *)(uintptr_t)w->out;
    w->op_n = w->out_len;
    return OSSR__WAIT;
}
/* The end of a request: over TLS the last record goes out now. */
OSSR__PRIVATE int ossr__lane_flush(ossr__worker *w) {
#ifdef OSSR__HAVE_TLS
    if (w->tls) {
        br_ssl_engine_context *eng = &w->tls->sc.eng;
        unsigned st;
        size_t n;
        br_ssl_engine_flush(eng, 0);
        st = br_ssl_engine_current_state(eng);
        if (st & BR_SSL_CLOSED) return OSSR_E_TLS;
        if (!(st & BR_SSL_SENDREC)) return OSSR__READY;
        w->op_p = (char *)br_ssl_engine_sendrec_buf(eng, &n);
        w->op_n = n;
        w->op = OSSR__OP_WRITE;
        return OSSR__WAIT;
    }
#else
    (void)w;
#endif
    return OSSR__READY;
}
/* More reply bytes into io, after a reply body kept at its front (which only moves down):
   OSSR__READY when some arrived, OSSR__WAIT, OSSR__EOF, OSSR_E_TOO_LARGE when io is full
   of an unfinished element, or what ossr__tls_pump answers. */
OSSR__PRIVATE int ossr__lane_fill(ossr__worker *w) {
    size_t keep = w->body_len, cap = w->ctx->f.buffer_size;
    if (w->io_pos == w->io_len) w->io_pos = w->io_len = keep;
    if (w->io_len == cap) {
        if (w->io_pos == keep) return OSSR_E_TOO_LARGE;
        memmove(w->io + keep, w->io + w->io_pos, w->io_len - w->io_pos);
        w->io_len -= w->io_pos - keep;
        w->io_pos = keep;
    }
#ifdef OSSR__HAVE_TLS
    if (w->tls) {
        size_t n;
        unsigned char *p;
        int k = ossr__tls_pump(w, BR_SSL_RECVAPP);
        if (k != OSSR__READY) return k;
        p = br_ssl_engine_recvapp_buf(&w->tls->sc.eng, &n);
        if (n > cap - w->io_len) n = cap - w->io_len;
        memcpy(w->io + w->io_len, p, n);
        br_ssl_engine_recvapp_ack(&w->tls->sc.eng, n);
        w->io_len += n;
        return OSSR__READY;
    }
#endif
    if (w->eof) return OSSR__EOF;
    w->op = OSSR__OP_READ;
    w->op_p = w->io + w->io_len;
    w->op_n = cap - w->io_len;
    return OSSR__WAIT;
}
/* Hands the whole child elements of q->root at the front of the body to q->on_child and
   drops them (with the text around them), keeping what is not whole yet. */
OSSR__PRIVATE ossr_result ossr__stream_children(ossr__worker *w, ossr__req *q) {
    size_t pos = 0;
    ossr_slice name, content;
    int k, closing, selfclose;
    while (q->xml_state < 2) {
        size_t p = pos, after;
        if (q->xml_state == 0) {   /* the prolog, then the root's start tag */
            k = ossr__xml_next_tag(w->body, w->body_len, &p);
            if (k == 0) { pos = w->body_len; break; }
            if (k > 0) k = ossr__xml_tag(w->body, w->body_len, p, &closing, &name, &selfclose, &after);
            if (k == OSSR_E_NEED_MORE) break;
            if (k < 0 || closing || !ossr__slice_is(&name, q->root))
                return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "the %s reply is not a <%s> document", q->what, q->root);
            q->xml_state = selfclose ? 2 : 1;
            pos = after;
            continue;
        }
        k = ossr__xml_child(w->body, w->body_len, &p, &name, &content);
        if (k == OSSR_E_NEED_MORE) break;
        if (k < 0) return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "the %s reply is malformed XML", q->what);
        if (k == 0) {              /* text so far, or the root's closing tag */
            if (p < w->body_len) q->xml_state = 2;
            pos = w->body_len;
            break;
        }
        k = q->on_child(w, q->child_user, &name, &content);
        if (k < 0) return (ossr_result)k;
        if (k > 0) q->xml_state = 3;
        pos = p;
    }
    if (q->xml_state >= 2) pos = w->body_len;   /* nothing after the root matters */
    memmove(w->body, w->body + pos, w->body_len - pos);
    w->body_len -= pos;
    return OSSR_OK;
}
OSSR__PRIVATE ossr_result ossr__dl_open(ossr__ctx *c, ossr__worker *w, int fresh);   /* >>upload, the download */
/* A failed call of the download's sink (doing: "writing the download to", "cannot open"
   ...; then the target's path): the system's error for the temporary file, a hook's
   refusal otherwise. */
OSSR__PRIVATE ossr_result ossr__sink_fail(ossr__worker *w, const char *doing, const char *path) {
    int hook = w->ctx->o->sink != NULL, e = hook ? 0 : errno;
    return ossr__fail(w, OSSR_E_WRITE, e, "%s %s failed: %s", doing, path, hook ? "the sink refused it" : strerror(e));
}
/* Hands response body bytes to the request's sink. A body kept in memory is moved down
   to the front of io (body == io): p never lies below body + body_len. A streamed reply
   keeps only the element being received; a plain one drops the bytes past the room
   (body_truncated, and the rest of the reply is not read). */
OSSR__PRIVATE ossr_result ossr__deliver(ossr__worker *w, ossr__req *q, const char *p, size_t n, int to_mem) {
    if (to_mem) {
        int stream = q->on_child && w->status >= 200 && w->status < 300;
        while (n > 0) {
            size_t room = w->ctx->f.buffer_size - 1 - w->body_len, k = n < room ? n : room;
            ossr_result r;
            if (!stream && k < n) w->body_truncated = 1;
            if (k == 0) {
                if (!stream) return OSSR_OK;
                return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "an element of the %s reply is larger than %u bytes",
                                  q->what, (unsigned)(w->ctx->f.buffer_size - 1));
            }
            memmove(w->body + w->body_len, p, k);
            w->body_len += k;
            p += k;
            n -= k;
            if (!stream) return OSSR_OK;
            if ((r = ossr__stream_children(w, q)) != OSSR_OK) return r;
        }
        return OSSR_OK;
    }
    if (q->out_len + n > q->range_len)   /* more than was asked for: never past its end */
        return ossr__fail(w, OSSR_E_RECV, 0, "the reply to %s carried more than the %llu bytes asked for", q->what,
                          (unsigned long long)q->range_len);
    if (w->ctx->sink.write_at(w->ctx->dl_h, p, n, q->out_off + q->out_len, w->ctx->sink.user) != 0)
        return ossr__sink_fail(w, "writing the download to", w->ctx->abs_path);
    if (w->ctx->sink.in_order) w->ctx->dl_mark = q->out_off + q->out_len + n;   /* one lane, ascending */
    q->out_crc = ossr_crc64(q->out_crc, p, n);
    q->out_len += n;
    if (q->progress) ossr__progress(w->ctx, (int64_t)n);
    return OSSR_OK;
}
/* Fills err.code/message/... from an OSS error body. */
OSSR__PRIVATE void ossr__parse_error_body(ossr__worker *w) {
    ossr_slice root;
    const char *x;
    size_t n;
    if (ossr__xml_root(w->body, w->body_len, "Error", &root) != 1) return;
    x = root.ptr;
    n = root.len;
    ossr_xml_text(x, n, "Code", w->err.code, sizeof w->err.code);
    ossr_xml_text(x, n, "Message", w->err.message, sizeof w->err.message);
    if (!w->err.request_id[0]) ossr_xml_text(x, n, "RequestId", w->err.request_id, sizeof w->err.request_id);
    ossr_xml_text(x, n, "HostId", w->err.host_id, sizeof w->err.host_id);
    ossr_xml_text(x, n, "EC", w->err.ec, sizeof w->err.ec);
    ossr_xml_text(x, n, "ServerTime", w->err.server_time, sizeof w->err.server_time);
}

/* The source file, through the call's file source (ossr__file_source). On failure errno
   says why (for the system's files; EIO for a hook). */
OSSR__PRIVATE int ossr__src_open(ossr__ctx *c) {
    const ossr_file_io *f = &c->fio;
    int hook = c->o->file_io != NULL;
    if (f->open(c->o->file_path, &c->file, f->user) != 0) { if (hook) errno = EIO; return -1; }
    c->file_open = 1;
    if (f->identity(c->file, &c->fid.size, &c->fid.mtime_sec, &c->fid.mtime_nsec, f->user) != 0) {
        if (hook) errno = EIO;
        return -1;
    }
    if (!hook) return ossr__sys_path(c->o->file_path, c->abs_path, sizeof c->abs_path);
    if (strlen(c->o->file_path) >= sizeof c->abs_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(c->abs_path, c->o->file_path);   /* the hook's names are taken as they are */
    return 0;
}
/* Whether the file still has the size and modification time it had at the start. */
OSSR__PRIVATE int ossr__file_unchanged(ossr__ctx *c) {
    ossr__file_id now;
    memset(&now, 0, sizeof now);
    if (c->fio.identity(c->file, &now.size, &now.mtime_sec, &now.mtime_nsec, c->fio.user) != 0) return 0;
    return now.size == c->fid.size && now.mtime_sec == c->fid.mtime_sec && now.mtime_nsec == c->fid.mtime_nsec;
}
/* Exactly len bytes at off; -1 with errno (EIO from a hook) when they cannot be read. */
OSSR__PRIVATE int ossr__src_read(ossr__ctx *c, void *buf, size_t len, uint64_t off) {
    if (c->fio.read_at(c->file, buf, len, off, c->fio.user) == 0) return 0;
    if (c->o->file_io) errno = EIO;
    return -1;
}
/* an bytes into a, then bn into b (one system call where it can be). */
OSSR__PRIVATE int ossr__src_read2(ossr__ctx *c, char *a, size_t an, char *b, size_t bn, uint64_t off) {
    if (!c->o->file_io) return ossr__sys_read2(c->file, a, an, b, bn, off);
    return ossr__src_read(c, a, an, off) != 0 ? -1 : ossr__src_read(c, b, bn, off + an);
}
OSSR__PRIVATE void ossr__src_close(ossr__ctx *c) {
    if (!c->file_open) return;
    c->file_open = 0;
    c->fio.close(c->file, c->fio.user);
}

/* CRC-64 and/or MD5 (either may be NULL) of len file bytes at off, read through io. */
OSSR__PRIVATE ossr_result ossr__file_sums(ossr__ctx *c, ossr__worker *w, uint64_t off, uint64_t len,
                                          uint64_t *crc, unsigned char *md5) {
    ossr__hash h;
    uint64_t done = 0;
    if (crc) *crc = 0;
    ossr__hash_init(&h, OSSR__MD5);
    while (done < len) {
        size_t n = (size_t)(len - done < c->f.buffer_size ? len - done : c->f.buffer_size);
        if (ossr__src_read(c, w->io, n, off + done) != 0)
            return ossr__fail(w, OSSR_E_FILE, errno, "reading %s failed", c->o->file_path);
        if (crc) *crc = ossr_crc64(*crc, w->io, n);
        if (md5) ossr__hash_update(&h, w->io, n);
        done += n;
    }
    if (md5) ossr__hash_final(&h, md5);
    return OSSR_OK;
}

/* The request exchange, one state after another (ossr__xchg_step). */
enum { OSSR__X_CONNECT = 1, OSSR__X_HANDSHAKE, OSSR__X_HEAD_OUT, OSSR__X_BODY_OUT, OSSR__X_FLUSH, OSSR__X_HEAD_IN,
       OSSR__X_BODY_IN, OSSR__X_DONE };
/* How the reply body ends: not at all (HEAD, 204), after Content-Length bytes, with the
   connection, or chunk by chunk (ossr__chunk_step's states after OSSR__B_CHUNKED). */
enum { OSSR__B_NONE = 0, OSSR__B_LENGTH, OSSR__B_EOF, OSSR__B_CHUNKED, OSSR__B_CHUNK_DATA, OSSR__B_CHUNK_END,
       OSSR__B_TRAILER };

/* Builds and signs the request head into w->head and readies the exchange; nothing is
   sent yet. */
OSSR__PRIVATE ossr_result ossr__xchg_begin(ossr__worker *w, ossr__req *q) {
    ossr__ctx *c = w->ctx;
    const ossr_options *o = c->o;
    ossr_sign_input si;
    ossr_signature *sig = &w->sig;
    ossr_header *hdrs = q->hdr;   /* its last entry stays free for a Content-MD5 */
    ossr__sb b;
    size_t nh = q->nhdr, i;
    char md5b64[32];
    ossr_result r;

    w->sent_anything = w->got_anything = 0;
    w->sent = 0;
    w->win_n = w->ahead_pos = w->ahead_len = w->pace_n = 0;
    w->keep_alive = 0;
    w->send_fail = OSSR_OK;
    w->io_fail = OSSR_OK;
    w->status = 0; w->has_crc = 0; w->has_length = 0; w->etag[0] = 0; w->mtime = 0;
    w->body_len = 0; w->body_truncated = 0; w->body[0] = 0;
    memset(&w->err, 0, sizeof w->err);
    w->err.part_number = q->part_number;
    q->body_crc = 0;
    q->out_crc = 0;
    q->out_len = 0;
    q->xml_state = 0;
    if (q->on_child && (r = (ossr_result)q->on_child(w, q->child_user, NULL, NULL)) != OSSR_OK) return r;

    /* Content-MD5 of the body needs a pass over it before sending */
    if (q->want_md5 && q->body_kind == OSSR__BODY_FILE) {
        if ((r = ossr__file_sums(c, w, q->file_off, q->body_len, NULL, q->md5)) != OSSR_OK) return r;
        ossr__sb_init(&b, md5b64, sizeof md5b64);
        ossr__sb_base64(&b, q->md5, 16);
        hdrs[nh].name = "Content-MD5"; hdrs[nh].value = md5b64; nh++;
    }

    /* sign */
    memset(&si, 0, sizeof si);
    si.method = q->method;
    si.bucket = o->bucket;
    si.key = q->bucket_level ? NULL : o->key;
    si.query = q->query;
    si.query_count = q->nquery;
    si.headers = hdrs;
    si.header_count = nh;
    r = ossr__get_creds(w);
    if (r != OSSR_OK) return r;
    si.unix_time = ossr__signing_time(c);
    si.version = c->sign_version;
    si.region = o->region;
    si.access_key_id = o->credentials ? w->creds.access_key_id : o->access_key_id;
    si.access_key_secret = o->credentials ? w->creds.access_key_secret : o->access_key_secret;
    si.security_token = o->credentials ? w->creds.security_token : o->security_token;
    r = ossr_sign(&si, w->head, OSSR__HEAD_CAP, sig);
    if (r != OSSR_OK) return ossr__fail(w, r, 0, "signing the %s request failed", q->what);

    /* the request head */
    ossr__sb_init(&b, w->head, OSSR__HEAD_CAP);
    ossr__sb_puts(&b, q->method);
    ossr__sb_puts(&b, " /");
    if (c->path_style) { ossr__sb_puts(&b, o->bucket); ossr__sb_putc(&b, '/'); }
    if (!q->bucket_level) ossr__sb_urlenc(&b, o->key, strlen(o->key), 1);
    for (i = 0; i < q->nquery; i++) {
        ossr__sb_putc(&b, i ? '&' : '?');
        ossr__sb_urlenc(&b, q->query[i].name, strlen(q->query[i].name), 0);
        if (q->query[i].value && *q->query[i].value) {
            ossr__sb_putc(&b, '=');
            ossr__sb_urlenc(&b, q->query[i].value, strlen(q->query[i].value), 0);
        }
    }
    ossr__sb_puts(&b, " HTTP/1.1\r\n");
    ossr__sb_hdr(&b, "Host", c->host_header);
    ossr__sb_hdr(&b, "User-Agent", "oss-resumable/" OSSR_VERSION_STRING);
    if (q->body_kind != OSSR__BODY_NONE || !strcmp(q->method, "PUT") || !strcmp(q->method, "POST")) {
        ossr__sb_puts(&b, "Content-Length: ");
        ossr__sb_u64(&b, q->body_len);
        ossr__sb_puts(&b, "\r\n");
    }
    ossr__sb_hdr(&b, c->sign_version == 1 ? "Date" : "x-oss-date", sig->date);
    if (c->sign_version != 1 && sig->add_content_sha256) ossr__sb_hdr(&b, "x-oss-content-sha256", "UNSIGNED-PAYLOAD");
    if (si.security_token && *si.security_token) ossr__sb_hdr(&b, "x-oss-security-token", si.security_token);
    for (i = 0; i < nh; i++) ossr__sb_hdr(&b, hdrs[i].name, hdrs[i].value);
    ossr__sb_hdr(&b, "Authorization", sig->authorization);
    ossr__sb_puts(&b, "\r\n");
    memset(sig, 0, sizeof *sig);
    if (b.overflow) return ossr__fail(w, OSSR_E_TOO_LARGE, 0, "the %s request head is larger than %u bytes", q->what, OSSR__HEAD_CAP);
    w->out = b.p;
    w->out_len = b.len;
    w->xs = w->linked ? OSSR__X_HEAD_OUT : OSSR__X_CONNECT;
    return OSSR_OK;
}

/* Ends the exchange with r (OSSR__READY). A failure takes back the progress it counted,
   and drops the connection unless the server answered plainly on it. */
OSSR__PRIVATE int ossr__xchg_end(ossr__worker *w, ossr__req *q, ossr_result r) {
    ossr__ctx *c = w->ctx;
    w->xs = OSSR__X_DONE;
    w->x_result = r;
    w->rx_deadline = w->win_start = 0;
    if (r == OSSR_OK) return OSSR__READY;
    if (q->progress && w->sent + q->out_len) ossr__progress(c, -(int64_t)(w->sent + q->out_len));
    if ((w->err.result != OSSR_E_SERVER && w->err.result != OSSR_E_CRC) || !w->keep_alive) ossr__close_conn(w);
    return OSSR__READY;
}
/* No usable reply came: when the request itself did not all go out, that is the failure
   to report. */
OSSR__PRIVATE int ossr__xchg_no_reply(ossr__worker *w, ossr__req *q, ossr_result r) {
    if (w->send_fail != OSSR_OK) {
        r = w->send_fail;
        w->err.result = r;
        memcpy(w->err.detail, w->send_detail, sizeof w->send_detail);
        w->err.http_status = 0;
        ossr__close_conn(w);
    }
    return ossr__xchg_end(w, q, r);
}
/* The reply is due now: its head within the I/O timeout. */
OSSR__PRIVATE OSSR__NOINLINE void ossr__xchg_await_reply(ossr__worker *w) {
    w->io_pos = w->io_len = 0;
    w->rx_deadline = ossr__clock(w->ctx) + w->ctx->f.io_timeout_ms;
    w->slow = NULL;
    w->xs = OSSR__X_HEAD_IN;
}
/* A send failed (w->err says how). A server that refuses a request early (403, 400...)
   replies and closes before reading the body, and that reply explains the failure better
   than EPIPE does: a failed send goes on to read it. */
OSSR__PRIVATE int ossr__xchg_send_failed(ossr__worker *w, ossr__req *q, ossr_result r) {
    if (r != OSSR_E_SEND) return ossr__xchg_end(w, q, r);
    w->send_fail = r;
    memcpy(w->send_detail, w->err.detail, sizeof w->send_detail);
    ossr__xchg_await_reply(w);
    return OSSR__READY;
}
/* A failure while sending: k from a lane step (or the driver's result r with error e). */
OSSR__PRIVATE int ossr__xchg_send_error(ossr__worker *w, ossr__req *q, int k, int e) {
    ossr_result r = k == OSSR__EOF ? OSSR_E_SEND : (ossr_result)k;
#ifdef OSSR__HAVE_TLS
    if (w->tls) {
        if (k == OSSR__REPLIED)
            return ossr__xchg_send_failed(w, q, ossr__fail(w, OSSR_E_SEND, 0, "sending over TLS failed: the server "
                                                            "replied before the request was out"));
        r = ossr__tls_error(w, k, e, "sending over TLS failed");
        return ossr__xchg_send_failed(w, q, r == OSSR_E_RECV ? OSSR_E_SEND : r);
    }
#endif
    if (w->xs == OSSR__X_HEAD_OUT)
        ossr__fail(w, r, e, "sending the %s request failed: %s", q->what, ossr__io_words(e, r));
    else
        ossr__fail(w, r, e, "sending the %s body failed after %llu bytes: %s", q->what, (unsigned long long)w->sent,
                   ossr__io_words(e, r));
    return ossr__xchg_send_failed(w, q, r);
}
/* A failure while receiving: k from a lane step (or the driver's result with error e). */
OSSR__PRIVATE int ossr__xchg_recv_error(ossr__worker *w, ossr__req *q, int k, int e) {
    ossr_result r = (ossr_result)k;
    if (k == OSSR__EOF) {
        if (w->xs == OSSR__X_HEAD_IN)
            return ossr__xchg_no_reply(w, q, ossr__fail(w, OSSR_E_RECV, 0, "the server closed the connection "
                                                         "without a reply to %s", q->what));
        if (w->bmode >= OSSR__B_CHUNKED)
            return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_RECV, 0, "connection closed inside a chunked body"));
        return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_RECV, 0, "connection closed in the middle of the reply body"));
    }
#ifdef OSSR__HAVE_TLS
    if (w->tls && r != OSSR_E_TOO_LARGE) {
        r = ossr__tls_error(w, k, e, "receiving over TLS failed");
        e = w->err.os_error;
    }
#endif
    if (e) w->err.os_error = e;
    if (w->xs == OSSR__X_HEAD_IN)
        return ossr__xchg_no_reply(w, q, ossr__fail(w, r, 0, "no reply to %s: %s", q->what, r == OSSR_E_TIMEOUT ?
                                                     (w->slow ? w->slow : "timed out") : ossr__io_words(e, r)));
    return ossr__xchg_end(w, q, ossr__fail(w, r, 0, "receiving the reply body failed: %s",
                                           r == OSSR_E_TIMEOUT && w->slow ? w->slow : ossr_result_str(r)));
}
/* The connection failed to open: r, with the system's error e. */
OSSR__PRIVATE int ossr__xchg_connect_error(ossr__worker *w, ossr__req *q, ossr_result r, int e) {
    ossr__ctx *c = w->ctx;
    w->err.os_error = e;
    if (c->f.tls == OSSR__TLS_HOOK)
        ossr__fail(w, r, 0, "the transport's TLS connection to %s port %u (certificate name %s) failed: %s",
                   c->conn_host, (unsigned)c->conn_port, c->tls_name, ossr_result_str(r));
    else if (c->o->transport)
        ossr__fail(w, r, 0, "the transport could not connect to %s port %u: %s", c->conn_host, (unsigned)c->conn_port,
                   ossr_result_str(r));
#if OSSR__HAVE_NET
    else if (r == OSSR_E_RESOLVE && !c->ext)
        ossr__fail(w, r, 0, "cannot resolve %s: %s", c->conn_host, ossr__gai_str(e));
#endif
    else
        ossr__fail(w, r, e, "cannot connect to %s port %u: %s", c->conn_host, (unsigned)c->conn_port,
                   ossr__io_words(e, r));
    return ossr__xchg_end(w, q, r);
}
#ifdef OSSR__HAVE_TLS
/* The handshake failed: k from ossr__tls_pump (or the driver's result with error e). */
OSSR__PRIVATE int ossr__xchg_handshake_error(ossr__worker *w, ossr__req *q, int k, int e) {
    char when[340];
    ossr_result r;
    ossr__say(when, sizeof when, "TLS handshake with %s", w->ctx->tls_name);
    r = ossr__tls_error(w, k, e, when);
    ossr__close_conn(w);
    return ossr__xchg_end(w, q, r);
}
#endif
/* The I/O the exchange waited for failed: the failure in the words of the state it was
   in. */
OSSR__PRIVATE int ossr__xchg_io_error(ossr__worker *w, ossr__req *q) {
    ossr_result r = w->io_fail;
    int e = w->io_fail_e;
    w->io_fail = OSSR_OK;
    switch (w->xs) {
    case OSSR__X_CONNECT:
        return ossr__xchg_connect_error(w, q, r, e);
#ifdef OSSR__HAVE_TLS
    case OSSR__X_HANDSHAKE:
        return ossr__xchg_handshake_error(w, q, r, e);
#endif
    case OSSR__X_HEAD_OUT: case OSSR__X_BODY_OUT: case OSSR__X_FLUSH:
        return ossr__xchg_send_error(w, q, r, e);
    default:
        return ossr__xchg_recv_error(w, q, r, e);
    }
}

/* Fills the window with the next body bytes: read from the file (over TLS, with the
   bytes after them read ahead into io in the same call), or generated. */
OSSR__PRIVATE ossr_result ossr__body_fill(ossr__worker *w, ossr__req *q, char *win, size_t n) {
    ossr__ctx *c = w->ctx;
    if (q->body_kind == OSSR__BODY_FILE && w->ahead_len) {   /* read with the last record */
        memcpy(win, w->io + w->ahead_pos, n);
        w->ahead_pos += n;
        w->ahead_len -= n;
    } else if (q->body_kind == OSSR__BODY_FILE) {
        /* over TLS io is free while the body goes out: read the next bytes into it */
        uint64_t rest = q->body_len - w->sent - n;
        size_t more = !ossr__is_tls(w) ? 0 : (size_t)(rest < c->f.buffer_size ? rest : c->f.buffer_size);
        w->ahead_pos = 0;
        w->ahead_len = more;
        if (ossr__src_read2(c, win, n, w->io, more, q->file_off + w->sent) != 0)
            return ossr__fail(w, OSSR_E_FILE_CHANGED, errno, "reading %s at offset %llu failed (the file shrank or "
                              "is unreadable)", c->o->file_path, (unsigned long long)(q->file_off + w->sent));
    } else if (q->gen(q->gen_user, win, n, 0) != n) {
        return ossr__fail(w, OSSR_E_CHECKPOINT, 0, "the %s body could not be read again from the checkpoint %s",
                          q->what, c->ckpt_path);   /* the only body made as it goes: Complete's */
    }
    q->body_crc = ossr_crc64(q->body_crc, win, n);
    return OSSR_OK;
}
/* Hands the n body bytes in the window to the connection: over TLS the record takes
   them, over plain TCP they are written next. */
OSSR__PRIVATE void ossr__body_commit(ossr__worker *w, char *win, size_t n) {
#ifdef OSSR__HAVE_TLS
    if (w->tls) br_ssl_engine_sendapp_ack(&w->tls->sc.eng, n);
    else
#endif
    { w->out = win; w->out_len = n; }
    w->win_n = n;
}
/* The body going out, a window at a time: over TLS the window is the engine's record
   buffer itself, so file bytes are read straight into the record that encrypts them;
   over plain TCP it is io, written whole before the next is read. OSSR__READY when all
   of the body is out. */
OSSR__PRIVATE int ossr__body_out(ossr__worker *w, ossr__req *q) {
    ossr__ctx *c = w->ctx;
    for (;;) {
        size_t n, cap = c->f.buffer_size;
        char *win = w->io;
        int k, cancelled;
        ossr_result r;
        if (w->out_len && (k = ossr__lane_out(w)) != OSSR__READY)
            return k == OSSR__WAIT ? k : ossr__xchg_send_error(w, q, k, 0);
        if (w->win_n) {   /* the last window is out (over TLS: in the engine) */
            w->sent += w->win_n;
            w->bytes_sent += w->win_n;
            if (q->progress) ossr__progress(c, (int64_t)w->win_n);
            w->win_n = 0;
        }
        if (w->sent == q->body_len) return OSSR__READY;
        if (ossr__stopped(c, &cancelled))
            return ossr__xchg_end(w, q, ossr__fail(w, cancelled ? OSSR_E_CANCELLED : OSSR_E_SEND, 0, "stopped: %s",
                                                   cancelled ? "cancelled" : "another part failed"));
        if (w->pace_n) {   /* a window the bandwidth cap holds back */
            if (ossr__clock(c) < w->pace_at) return OSSR__WAIT;
            ossr__body_commit(w, w->pace_win, w->pace_n);
            w->pace_n = 0;
            continue;
        }
#ifdef OSSR__HAVE_TLS
        if (w->tls) {
            if ((k = ossr__tls_pump(w, BR_SSL_SENDAPP)) != OSSR__READY)
                return k == OSSR__WAIT ? k : ossr__xchg_send_error(w, q, k, 0);
            win = (char *)br_ssl_engine_sendapp_buf(&w->tls->sc.eng, &cap);
        }
#endif
        n = (size_t)(q->body_len - w->sent < cap ? q->body_len - w->sent : cap);
        if (w->ahead_len && n > w->ahead_len) n = w->ahead_len;
        if ((r = ossr__body_fill(w, q, win, n)) != OSSR_OK) return ossr__xchg_end(w, q, r);
        if ((w->pace_at = ossr__throttle(c, n)) != 0) {
            w->pace_win = win;
            w->pace_n = n;
            continue;
        }
        ossr__body_commit(w, win, n);
    }
}

/* Takes the reply head's fields (status, connection, request id, date, ETag, CRC-64,
   length) and chooses how its body ends. */
/* Reads "bytes FIRST-LAST/TOTAL" (r[0..2]); 0, or -1 when it is not that. */
OSSR__PRIVATE int ossr__content_range(ossr_slice v, uint64_t r[3]) {
    const char *p = v.ptr, *end = v.ptr + v.len, *a, *b;
    if (v.len < 6 || memcmp(p, "bytes ", 6) != 0) return -1;
    p += 6;
    a = (const char *)memchr(p, '-', (size_t)(end - p));
    b = a ? (const char *)memchr(a, '/', (size_t)(end - a)) : NULL;
    if (!b || ossr__parse_u64(p, (size_t)(a - p), &r[0]) != 0 || ossr__parse_u64(a + 1, (size_t)(b - a - 1), &r[1]) != 0 ||
        ossr__parse_u64(b + 1, (size_t)(end - b - 1), &r[2]) != 0 || r[1] < r[0])
        return -1;
    return 0;
}
/* The reply head of a GET into the file sink: of the object planned (its ETag: another
   object's is OSSR_E_FILE_CHANGED, and the download starts over), and exactly the
   bytes asked for: a range's (a whole object, another range or another length is
   refused, and retried), or the whole object's HEAD size. */
OSSR__PRIVATE ossr_result ossr__range_head(ossr__worker *w, ossr__req *q) {
    ossr__ctx *c = w->ctx;
    ossr_slice v;
    uint64_t r[3];
    ossr_result reopened;
    if (c->sink.in_order && q->out_off < c->dl_mark && (reopened = ossr__dl_open(c, w, 0)) != OSSR_OK)
        return reopened;   /* written front to back: below its end only after a new open */
    if (w->etag[0] && c->dl_etag[0] && strcmp(w->etag, c->dl_etag) != 0)
        return ossr__fail(w, OSSR_E_FILE_CHANGED, 0, "the object changed on the server (ETag %s, then %s)", w->etag,
                          c->dl_etag);
    if (!q->ranged) {
        if (w->status != 200 || (w->has_length && w->content_length != q->range_len))
            return ossr__fail(w, OSSR_E_PROTOCOL, 0, "%s: the reply is not the object's %llu bytes (HTTP %d)", q->what,
                              (unsigned long long)q->range_len, w->status);
        return OSSR_OK;
    }
    if (w->status != 206 || !ossr_response_header(&w->resp, "Content-Range", &v) || ossr__content_range(v, r) != 0 ||
        r[0] != q->out_off || r[1] != q->out_off + q->range_len - 1 || r[2] != c->fid.size ||
        (w->has_length && w->content_length != q->range_len))
        return ossr__fail(w, OSSR_E_PROTOCOL, 0, "%s: the reply is not bytes %llu-%llu of the object's %llu "
                          "(HTTP %d)", q->what, (unsigned long long)q->out_off,
                          (unsigned long long)(q->out_off + q->range_len - 1), (unsigned long long)c->fid.size,
                          w->status);
    return OSSR_OK;
}
OSSR__PRIVATE ossr_result ossr__reply_head(ossr__worker *w, ossr__req *q, size_t headlen) {
    ossr__ctx *c = w->ctx;
    const ossr_response *resp = &w->resp;
    ossr_slice v;
    w->status = resp->status;
    w->err.http_status = resp->status;
    w->keep_alive = resp->minor_version >= 1 && w->send_fail == OSSR_OK;
    if (ossr_response_header(resp, "Connection", &v)) {
        if (ossr__slice_ieq(v, "close")) w->keep_alive = 0;
        else if (ossr__slice_ieq(v, "keep-alive") && w->send_fail == OSSR_OK) w->keep_alive = 1;
    }
    if (ossr_response_header(resp, "x-oss-request-id", &v))
        ossr__copy(w->err.request_id, sizeof w->err.request_id, v.ptr, v.len);
    if (ossr_response_header(resp, "Date", &v)) ossr__learn_time(c, v.ptr, v.len, 0);
    if (ossr_response_header(resp, "ETag", &v)) ossr__copy(w->etag, sizeof w->etag, v.ptr, v.len);
    if (ossr_response_header(resp, "x-oss-hash-crc64ecma", &v)) {
        if (ossr__parse_u64(v.ptr, v.len, &w->crc) != 0)
            return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "bad x-oss-hash-crc64ecma in the reply to %s", q->what);
        w->has_crc = 1;
    }
    if (ossr_response_header(resp, "Last-Modified", &v) && ossr__parse_date(v.ptr, v.len, &w->mtime) != 0) w->mtime = 0;
    if (ossr_response_header(resp, "Content-Length", &v)) {
        size_t k;
        for (k = 0; k < resp->header_count; k++)   /* two different lengths: refuse */
            if (ossr__slice_ieq(resp->names[k], "Content-Length") &&
                (resp->values[k].len != v.len || memcmp(resp->values[k].ptr, v.ptr, v.len) != 0))
                return ossr__fail(w, OSSR_E_PROTOCOL, 0, "conflicting Content-Length in the reply");
        if (ossr__parse_u64(v.ptr, v.len, &w->content_length) != 0)
            return ossr__fail(w, OSSR_E_PROTOCOL, 0, "bad Content-Length in the reply to %s", q->what);
        w->has_length = 1;
    }
    if (q->sink == OSSR__SINK_FILE && resp->status >= 200 && resp->status < 300) {   /* before a byte lands */
        ossr_result r = ossr__range_head(w, q);
        if (r != OSSR_OK) return r;
    }
    w->io_pos += headlen;
    w->rx_deadline = 0;                       /* the body: at least low_speed_limit a second */
    w->win_start = ossr__clock(c);
    w->win_bytes = 0;
    w->to_mem = q->sink == OSSR__SINK_MEM || resp->status < 200 || resp->status >= 300;
    w->bmode = OSSR__B_NONE;
    if (strcmp(q->method, "HEAD") != 0 && resp->status != 204 && resp->status != 304) {
        if (ossr_response_header(resp, "Transfer-Encoding", &v)) {
            if (!ossr__slice_ieq(v, "chunked"))
                return ossr__fail(w, OSSR_E_PROTOCOL, 0, "unsupported Transfer-Encoding in the reply");
            w->bmode = OSSR__B_CHUNKED;
        } else if (w->has_length) {
            w->bmode = OSSR__B_LENGTH;
            w->bleft = w->content_length;
        } else {
            w->keep_alive = 0;
            w->bmode = OSSR__B_EOF;
        }
    }
    return OSSR_OK;
}
/* The reply head: OSSR__READY when it is whole and taken (1xx heads skipped). */
OSSR__PRIVATE int ossr__head_in(ossr__worker *w, ossr__req *q) {
    for (;;) {
        long headlen = ossr_parse_response(w->io + w->io_pos, w->io_len - w->io_pos, &w->resp);
        ossr_result r;
        if (headlen == OSSR_E_NEED_MORE) {
            int k;
            if (w->io_len - w->io_pos >= OSSR__RESP_HEAD_MAX)
                return ossr__xchg_no_reply(w, q, ossr__fail(w, OSSR_E_PROTOCOL, 0, "reply head to %s is larger than "
                                                             "%u bytes", q->what, OSSR__RESP_HEAD_MAX));
            k = ossr__lane_fill(w);
            if (k == OSSR__READY) { w->got_anything = 1; continue; }
            return k == OSSR__WAIT ? k : ossr__xchg_recv_error(w, q, k, 0);
        }
        if (headlen < 0)
            return ossr__xchg_no_reply(w, q, ossr__fail(w, OSSR_E_PROTOCOL, 0, "malformed reply head to %s", q->what));
        if (w->resp.status >= 100 && w->resp.status < 200) { w->io_pos += (size_t)headlen; continue; }
        if ((r = ossr__reply_head(w, q, (size_t)headlen)) != OSSR_OK) return ossr__xchg_end(w, q, r);
        return OSSR__READY;
    }
}
/* One CRLF-terminated line of a chunked body (bounded) from io: 1, or 0 when it has not
   all arrived, or a negative result. */
OSSR__PRIVATE int ossr__take_line(ossr__worker *w, char *line, size_t cap) {
    char *nl = (char *)memchr(w->io + w->io_pos, '\n', w->io_len - w->io_pos);
    size_t n;
    if (!nl) return w->io_len - w->io_pos >= cap ? ossr__fail(w, OSSR_E_PROTOCOL, 0, "chunk header line too long") : 0;
    n = (size_t)(nl - (w->io + w->io_pos));
    if (n > 0 && nl[-1] == '\r') n--;
    if (n >= cap) return ossr__fail(w, OSSR_E_PROTOCOL, 0, "chunk header line too long");
    memcpy(line, w->io + w->io_pos, n);
    line[n] = 0;
    w->io_pos = (size_t)(nl - w->io) + 1;
    return 1;
}
/* The framing lines of a chunked body (size, the CRLF after the data, trailers), in
   w->bmode: OSSR_OK when it moved on, 0 ... NEED_MORE when the line has not arrived. */
OSSR__PRIVATE ossr_result ossr__chunk_line(ossr__worker *w) {
    char line[128];
    uint64_t size = 0;
    size_t i;
    int k = ossr__take_line(w, line, sizeof line);
    if (k <= 0) return k < 0 ? (ossr_result)k : OSSR_E_NEED_MORE;
    if (w->bmode == OSSR__B_CHUNK_END) {
        if (line[0]) return ossr__fail(w, OSSR_E_PROTOCOL, 0, "chunk not followed by CRLF");
        w->bmode = OSSR__B_CHUNKED;
        return OSSR_OK;
    }
    if (w->bmode == OSSR__B_TRAILER) {   /* trailers up to the blank line */
        if (!line[0]) w->bmode = OSSR__B_NONE;
        return OSSR_OK;
    }
    for (i = 0; line[i] && line[i] != ';' && line[i] != ' ' && line[i] != '\t'; i++) {
        int d = ossr__hexval(line[i]);
        if (d < 0 || i >= 15) return ossr__fail(w, OSSR_E_PROTOCOL, 0, "bad chunk size in reply");
        size = size * 16 + (uint64_t)d;
    }
    if (i == 0) return ossr__fail(w, OSSR_E_PROTOCOL, 0, "bad chunk size in reply");
    w->bmode = size ? OSSR__B_CHUNK_DATA : OSSR__B_TRAILER;
    w->bleft = size;
    return OSSR_OK;
}
/* The reply body into its sink (memory or the download file): OSSR__READY when it has
   all come (or, kept in memory, would not fit: then the rest is not read). */
OSSR__PRIVATE int ossr__body_in(ossr__worker *w, ossr__req *q) {
    for (;;) {
        size_t have = w->io_len - w->io_pos;
        ossr_result r;
        int k;
        if (w->bmode == OSSR__B_NONE || w->body_truncated) return OSSR__READY;
        if (w->bmode == OSSR__B_LENGTH || w->bmode == OSSR__B_EOF || w->bmode == OSSR__B_CHUNK_DATA) {
            if (w->bmode != OSSR__B_EOF && w->bleft == 0) {
                w->bmode = w->bmode == OSSR__B_CHUNK_DATA ? OSSR__B_CHUNK_END : OSSR__B_NONE;
                continue;
            }
            if (have) {
                size_t take = w->bmode == OSSR__B_EOF || (uint64_t)have < w->bleft ? have : (size_t)w->bleft;
                if ((r = ossr__deliver(w, q, w->io + w->io_pos, take, w->to_mem)) != OSSR_OK)
                    return ossr__xchg_end(w, q, r);
                w->io_pos += take;
                if (w->bmode != OSSR__B_EOF) w->bleft -= take;
                continue;
            }
        } else {
            r = ossr__chunk_line(w);
            if (r == OSSR_OK) continue;
            if (r != OSSR_E_NEED_MORE) return ossr__xchg_end(w, q, r);
        }
        k = ossr__lane_fill(w);
        if (k == OSSR__READY) continue;
        if (k == OSSR__EOF && w->bmode == OSSR__B_EOF) { w->bmode = OSSR__B_NONE; continue; }
        return k == OSSR__WAIT ? k : ossr__xchg_recv_error(w, q, k, 0);
    }
}
/* The verdict on a whole reply: the connection kept or dropped, an error reply read, the
   CRC-64 the server stored compared with the one sent, a range's every byte arrived (a
   short one is a failed receive, retried). */
OSSR__PRIVATE int ossr__xchg_verdict(ossr__worker *w, ossr__req *q) {
    ossr__ctx *c = w->ctx;
    w->win_start = 0;
    if (!w->keep_alive || w->io_pos != w->io_len || w->body_truncated) ossr__close_conn(w);
    else w->fd_used = 1;
    w->body[w->body_len] = 0;   /* room keeps one byte for it; what follows is never read */
    if (w->status < 200 || w->status >= 300) {
        ossr__parse_error_body(w);
        if (!strcmp(w->err.code, "RequestTimeTooSkewed") && w->err.server_time[0])
            ossr__learn_time(c, w->err.server_time, strlen(w->err.server_time), 1);
        if (!w->err.code[0] && w->status == 404 && !strcmp(q->method, "HEAD"))
            ossr__copy(w->err.code, sizeof w->err.code, "NoSuchKey", 9);
        if (w->status == 412 && q->sink == OSSR__SINK_FILE)   /* If-Match refused: another object now */
            return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_FILE_CHANGED, 0, "%s: the object changed on the server "
                                                   "(HTTP 412: no longer ETag %s)", q->what, c->dl_etag));
        return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_SERVER, 0, "%s failed", q->what));
    }
    if (w->send_fail != OSSR_OK)   /* a 2xx to a body that did not all go out is no success */
        return ossr__xchg_no_reply(w, q, w->send_fail);
    if (q->on_child && q->xml_state < 2)
        return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_BAD_REPLY, 0, "the %s reply ends before its </%s>", q->what,
                                               q->root));
    if (q->check_crc && w->has_crc && w->crc != q->body_crc)
        return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_CRC, 0, "%s: the server stored CRC-64 %llu but %llu was "
                                               "sent", q->what, (unsigned long long)w->crc,
                                               (unsigned long long)q->body_crc));
    if (q->sink == OSSR__SINK_FILE && q->out_len != q->range_len)
        return ossr__xchg_end(w, q, ossr__fail(w, OSSR_E_RECV, 0, "%s: the reply carried %llu of the %llu bytes "
                                               "asked for", q->what, (unsigned long long)q->out_len,
                                               (unsigned long long)q->range_len));
    return ossr__xchg_end(w, q, OSSR_OK);
}
/* Advances the exchange as far as it goes without waiting: OSSR__WAIT with w->op set
   (the I/O it needs) or a pace to keep, or OSSR__READY when it has ended (w->x_result).
   Each state's step answers OSSR__WAIT, or goes on from w->xs, which a failure moves
   (to OSSR__X_DONE, or to the reply after a failed send). */
OSSR__PRIVATE int ossr__xchg_step(ossr__worker *w, ossr__req *q) {
    for (;;) {
        int k;
        if (w->io_fail != OSSR_OK) { ossr__xchg_io_error(w, q); continue; }
        switch (w->xs) {
        case OSSR__X_CONNECT:
            if (!w->linked) { w->op = OSSR__OP_CONNECT; return OSSR__WAIT; }
            w->xs = OSSR__X_HEAD_OUT;
#ifdef OSSR__HAVE_TLS
            if (w->tls) {
                ossr_result r = ossr__tls_start(w);
                if (r != OSSR_OK) { ossr__close_conn(w); return ossr__xchg_end(w, q, r); }
                w->xs = OSSR__X_HANDSHAKE;
            }
#endif
            break;
#ifdef OSSR__HAVE_TLS
        case OSSR__X_HANDSHAKE:
            k = ossr__tls_pump(w, BR_SSL_SENDAPP);
            if (k == OSSR__WAIT) return k;
            if (k != OSSR__READY) { ossr__xchg_handshake_error(w, q, k, 0); break; }
            ossr__tls_ready(w);
            w->xs = OSSR__X_HEAD_OUT;
            break;
#endif
        case OSSR__X_HEAD_OUT:
            w->sent_anything = 1;
            k = ossr__lane_out(w);
            if (k == OSSR__WAIT) return k;
            if (k != OSSR__READY) { ossr__xchg_send_error(w, q, k, 0); break; }
            if (q->body_kind == OSSR__BODY_GEN) q->gen(q->gen_user, NULL, 0, 1);
            w->xs = OSSR__X_BODY_OUT;
            break;
        case OSSR__X_BODY_OUT:
            if ((k = ossr__body_out(w, q)) == OSSR__WAIT) return k;
            if (w->xs == OSSR__X_BODY_OUT) w->xs = OSSR__X_FLUSH;   /* all of it is out */
            break;
        case OSSR__X_FLUSH:
            k = ossr__lane_flush(w);
            if (k == OSSR__WAIT) return k;
            if (k != OSSR__READY) { ossr__xchg_send_error(w, q, k, 0); break; }
            ossr__xchg_await_reply(w);
            break;
        case OSSR__X_HEAD_IN:
            if ((k = ossr__head_in(w, q)) == OSSR__WAIT) return k;
            if (w->xs == OSSR__X_HEAD_IN) w->xs = OSSR__X_BODY_IN;   /* the head is taken */
            break;
        case OSSR__X_BODY_IN:
            if ((k = ossr__body_in(w, q)) == OSSR__WAIT) return k;
            if (w->xs == OSSR__X_BODY_IN) ossr__xchg_verdict(w, q);   /* the body is in */
            break;
        default:
            return OSSR__READY;
        }
    }
}

/* Carries out the lane's I/O with the blocking calls (their timeouts, pace checks and
   looks at a cancel) and reports how it went. */
OSSR__PRIVATE void ossr__lane_io(ossr__worker *w) {
    int e = 0;
    long k;
    if (w->op == OSSR__OP_CONNECT) k = ossr__link_open(w, &e);
    else if (w->op == OSSR__OP_WRITE) k = ossr__link_write(w, w->op_p, w->op_n, &e);
    else k = ossr__link_recv(w, w->op_p, w->op_n, &e);
    ossr__lane_done(w, k, e);
}
/* The request a lane carries, attempt after attempt: what ossr_result_is_retryable()
   allows is sent again after a back-off (capped exponential, full jitter). A kept-alive
   connection the server had already closed is reopened at once without counting an
   attempt, but only when that cannot repeat a non-idempotent request (POST) the server
   may have carried out; credentials the server refused are refreshed once. */
enum { OSSR__RQ_IDLE = 0, OSSR__RQ_RUN, OSSR__RQ_BACKOFF, OSSR__RQ_DONE };
/* One attempt begins: its head is built and signed. */
OSSR__PRIVATE void ossr__rq_try(ossr__worker *w) {
    ossr_result r;
    w->rq_was_used = w->linked && w->fd_used;
    w->rq_state = OSSR__RQ_RUN;
    r = ossr__xchg_begin(w, w->q);
    if (r != OSSR_OK) { w->xs = OSSR__X_DONE; w->x_result = r; }
}
/* The lane takes request q. */
OSSR__PRIVATE void ossr__rq_start(ossr__worker *w, ossr__req *q) {
    w->q = q;
    w->rq_attempt = 0;
    w->rq_refreshed = 0;
    w->rq_seed = (unsigned)(uintptr_t)w ^ (unsigned)ossr__now_ms(w->ctx->o);
    if (q->fresh_conn && w->fd_used) ossr__close_conn(w);
    ossr__rq_try(w);
}
/* An attempt ended with r: the request is done, goes again at once, or after a back-off. */
OSSR__PRIVATE void ossr__rq_after(ossr__worker *w, ossr_result r, int64_t now) {
    ossr__ctx *c = w->ctx;
    ossr__req *q = w->q;
    int cancelled, cap, ms;
    w->rq_result = r;
    w->rq_state = OSSR__RQ_DONE;
    if (r == OSSR_OK) return;
    if (ossr__stopped(c, &cancelled)) { w->rq_result = cancelled ? OSSR_E_CANCELLED : r; return; }
    if (w->rq_was_used && !w->got_anything && (r == OSSR_E_SEND || r == OSSR_E_RECV) &&
        (strcmp(q->method, "POST") != 0 || !w->sent_anything)) {
        ossr__close_conn(w);      /* stale keep-alive connection */
        ossr__rq_try(w);
        return;
    }
    if (c->o->credentials && !w->rq_refreshed && r == OSSR_E_SERVER &&
        ossr__one_of(w->err.code, "SecurityTokenExpired\0InvalidSecurityToken\0InvalidAccessKeyId\0ExpiredToken\0")) {
        ossr__lock(&c->lock);     /* one refresh for all workers that saw the same credentials */
        if (c->creds_gen == w->creds_gen) c->creds_stale = 1;
        ossr__unlock(&c->lock);
        ossr__log(c, OSSR_LOG_WARN, "%s: the server refused the credentials (%s); refreshing them",
                  q->what, w->err.code);
        w->rq_refreshed = 1;
        ossr__rq_try(w);
        return;
    }
    if (++w->rq_attempt >= c->f.max_attempts || !ossr_result_is_retryable(r, w->err.http_status, w->err.code))
        return;
    cap = c->f.retry_cap_ms;
    if (w->rq_attempt < 20 && ((int64_t)c->f.retry_base_ms << w->rq_attempt) < cap) cap = c->f.retry_base_ms << w->rq_attempt;
    w->rq_seed = w->rq_seed * 1103515245u + 12345u;
    ms = (int)((w->rq_seed >> 8) % (unsigned)cap);
    ossr__log(c, OSSR_LOG_WARN, "%s%s%.0u: %s%.0d%s%s; retrying in %d ms (attempt %d of %d)", q->what,
              !q->part_number ? "" : q->ranged ? " range " : " part ", q->part_number, r == OSSR_E_SERVER ? "HTTP " : "",
              r == OSSR_E_SERVER ? w->err.http_status : 0, r == OSSR_E_SERVER ? " " : "",
              r == OSSR_E_SERVER ? w->err.code : w->err.detail, ms, w->rq_attempt + 1, c->f.max_attempts);
    w->rq_wake = now + ms;
    w->rq_state = OSSR__RQ_BACKOFF;
}
/* Advances the lane's request: OSSR__WAIT (for the I/O in w->op, or with none, for the
   back-off to end at w->rq_wake), or OSSR__READY when it is done (w->rq_result). */
OSSR__PRIVATE int ossr__rq_step(ossr__worker *w, int64_t now) {
    for (;;) {
        if (w->rq_state == OSSR__RQ_BACKOFF) {
            int cancelled;
            if (ossr__stopped(w->ctx, &cancelled)) {
                w->rq_state = OSSR__RQ_DONE;
                if (cancelled) w->rq_result = OSSR_E_CANCELLED;
                return OSSR__READY;
            }
            if (now < w->rq_wake) return OSSR__WAIT;
            ossr__rq_try(w);
        }
        if (w->rq_state != OSSR__RQ_RUN) return OSSR__READY;
        if (ossr__xchg_step(w, w->q) == OSSR__WAIT) return OSSR__WAIT;
        ossr__rq_after(w, w->x_result, now);
    }
}
/* When a lane that waits for no I/O is due again: the end of its back-off, or of the
   bandwidth cap's hold on its next window; -1 when it is not waiting on time. */
OSSR__PRIVATE OSSR__NOINLINE int64_t ossr__lane_wake(const ossr__worker *w) {
    return w->rq_state == OSSR__RQ_BACKOFF ? w->rq_wake : w->pace_n ? w->pace_at : -1;
}
/* Runs the lane's request to its end, its I/O carried out as it blocks (the blocking
   driver). */
OSSR__PRIVATE void ossr__lane_run(ossr__worker *w) {
    for (;;) {
        int64_t now = ossr__now_ms(w->ctx->o);
        if (ossr__rq_step(w, now) == OSSR__READY) return;
        if (w->op != OSSR__OP_NONE) ossr__lane_io(w);
        else ossr__nap(w->ctx, ossr__lane_wake(w) - now);
    }
}
/* Sends a request and reads its reply, retried as above, on the worker's connection. */
OSSR__PRIVATE ossr_result ossr__http(ossr__worker *w, ossr__req *q) {
    ossr__rq_start(w, q);
    ossr__lane_run(w);
    return w->rq_result;
}

/* >>checkpoint: a flat little-endian record ----------------------------------------- */
/* Fixed part, written once through a temp file, fsync and rename:
       0  8  magic "OSSRCKPT"
       8  4  version (1, or 2: the upload id block follows the fixed part)
      12  4  length of the fixed part, this CRC included
      16  8  file size          24  8  mtime seconds (signed)
      32  4  mtime nanoseconds   36  4  part count
      40  8  part size          48  4  flags (1: identified by content, not mtime; 2: a download's record, see
             below; 4: with 2, the object's CRC-64 is at 52)
      52  8  CRC-64 of the file's first window   60  8  CRC-64 of its last window
             (both 0 unless flag 1; see ossr__fingerprint)
      68     five strings, each a 2-byte length and its bytes: endpoint, bucket, key,
             absolute file path, upload id
       .  8  CRC-64 of every byte before it
   Version 2: the upload id again, in a block of its own (OSSR__IDBLOCK bytes), so that
   a record whose fixed part is damaged still names the upload to abort:
       0  8  magic "OSSRUPID"   8  2  upload id length   10 128  upload id (zero padded)
     138  6  reserved (0)      144  8  CRC-64 of bytes 0..143 followed by the record's name
             (which derives from endpoint, bucket, key and path: a block copied from
             another record never checks, so no foreign upload is ever aborted)
   Then slots of OSSR_CKPT_SLOT (88) bytes, part N's at (N-1) x 88 past the fixed part,
   written when the part is on the server, and the Complete mark after the last part's
   (records that appended slots in finishing order still load: each slot names its part,
   and one found out of place only costs that part a check against the file):
       0  4  magic "PART"       4  4  part number (0xFFFFFFFF: Complete was sent)
       8  8  part size          16  8  part CRC-64
      24  4  ETag length        28 48  ETag bytes (zero padded)
      76  4  reserved (0)       80  8  CRC-64 of bytes 0..79
   A slot torn by a crash, or a hole never written, fails its CRC and is ignored; the
   fixed part is never rewritten.
   A download's record (flag 2, version 1: no upload to abort) names the object it is
   fetching: its size at 16, Last-Modified at 24 (0 when not given), its ETag as the fifth
   string, its CRC-64 at 52 (flag 4); the path is the temporary file's. Its slots are the
   ranges written to that file, each with the CRC-64 of its bytes (no ETag).
   The record holds no secret: the key id, secret and token are never written. */
static const unsigned char ossr__ckpt_magic[8] = {'O', 'S', 'S', 'R', 'C', 'K', 'P', 'T'};
#define OSSR__IDBLOCK 152u       /* the upload id block of version 2 */
#define OSSR__SLOT_MAGIC 0x54524150u /* "PART" */

OSSR__DEF size_t ossr_checkpoint_encode(const ossr_checkpoint *c, unsigned char *out, size_t cap) {
    const ossr_slice *str[5];
    size_t n = 68, i;
    str[0] = &c->endpoint; str[1] = &c->bucket; str[2] = &c->key; str[3] = &c->path; str[4] = &c->upload_id;
    for (i = 0; i < 5; i++) {
        if (str[i]->len > 0xFFFF) return 0;
        n += 2 + str[i]->len;
    }
    n += 8;
    if (n > cap || n > OSSR_CKPT_HEAD_MAX) return 0;
    memcpy(out, ossr__ckpt_magic, 8);
    ossr__put_le32(out + 8, c->version == 2 ? 2u : 1u);
    ossr__put_le32(out + 12, (uint32_t)n);
    ossr__put_le64(out + 16, c->file_size);
    ossr__put_le64(out + 24, (uint64_t)c->mtime_sec);
    ossr__put_le32(out + 32, c->mtime_nsec);
    ossr__put_le32(out + 36, c->part_count);
    ossr__put_le64(out + 40, c->part_size);
    ossr__put_le32(out + 48, c->flags);
    ossr__put_le64(out + 52, c->head_crc);
    ossr__put_le64(out + 60, c->tail_crc);
    n = 68;
    for (i = 0; i < 5; i++) {
        out[n] = (unsigned char)str[i]->len;
        out[n + 1] = (unsigned char)(str[i]->len >> 8);
        if (str[i]->len) memcpy(out + n + 2, str[i]->ptr, str[i]->len);
        n += 2 + str[i]->len;
    }
    ossr__put_le64(out + n, ossr_crc64(0, out, n));
    return n + 8;
}
OSSR__DEF long ossr_checkpoint_decode(const unsigned char *buf, size_t len, ossr_checkpoint *c) {
    ossr_slice *str[5];
    size_t n, total, i;
    memset(c, 0, sizeof *c);
    if (len < 16) return OSSR_E_NEED_MORE;
    if (memcmp(buf, ossr__ckpt_magic, 8) != 0) return OSSR_E_CORRUPT;
    c->version = ossr__le32(buf + 8);
    total = ossr__le32(buf + 12);
    if ((c->version != 1 && c->version != 2) || total < 68 + 10 + 8 || total > OSSR_CKPT_HEAD_MAX)
        return OSSR_E_CORRUPT;
    if (len < total) return OSSR_E_NEED_MORE;
    if (ossr__le64(buf + total - 8) != ossr_crc64(0, buf, total - 8)) return OSSR_E_CORRUPT;
    c->file_size = ossr__le64(buf + 16);
    c->mtime_sec = (int64_t)ossr__le64(buf + 24);
    c->mtime_nsec = ossr__le32(buf + 32);
    c->part_count = ossr__le32(buf + 36);
    c->part_size = ossr__le64(buf + 40);
    c->flags = ossr__le32(buf + 48);
    c->head_crc = ossr__le64(buf + 52);
    c->tail_crc = ossr__le64(buf + 60);
    str[0] = &c->endpoint; str[1] = &c->bucket; str[2] = &c->key; str[3] = &c->path; str[4] = &c->upload_id;
    n = 68;
    for (i = 0; i < 5; i++) {
        size_t l;
        if (n + 2 > total - 8) return OSSR_E_CORRUPT;
        l = (size_t)buf[n] | ((size_t)buf[n + 1] << 8);
        if (l > total - 8 - n - 2) return OSSR_E_CORRUPT;
        str[i]->ptr = (const char *)buf + n + 2;
        str[i]->len = l;
        n += 2 + l;
    }
    if (n != total - 8) return OSSR_E_CORRUPT;
    c->slots_offset = total + (c->version == 2 ? OSSR__IDBLOCK : 0u);
    /* the plan must be one OSS accepts and must cover the file exactly */
    if (c->mtime_nsec >= 1000000000u || c->part_count == 0 || c->part_count > OSSR__MAX_PARTS ||
        c->part_size == 0 || c->part_size > OSSR__MAX_PART || c->file_size == 0 ||
        (c->file_size + c->part_size - 1) / c->part_size != c->part_count ||
        c->upload_id.len == 0 || c->upload_id.len >= 128 || c->bucket.len == 0 || c->key.len == 0 ||
        c->path.len == 0 || (c->flags & ~7u) != 0 ||
        ((c->flags & OSSR_CKPT_FLAG_CONTENT) && (c->flags & OSSR_CKPT_FLAG_DOWNLOAD)) ||
        ((c->flags & OSSR_CKPT_FLAG_OBJECT_CRC) && !(c->flags & OSSR_CKPT_FLAG_DOWNLOAD)) ||
        (!(c->flags & (OSSR_CKPT_FLAG_CONTENT | OSSR_CKPT_FLAG_OBJECT_CRC)) && c->head_crc) ||
        (!(c->flags & OSSR_CKPT_FLAG_CONTENT) && c->tail_crc))
        return OSSR_E_CORRUPT;
    return (long)total;
}
OSSR__DEF void ossr_checkpoint_encode_part(const ossr_checkpoint_part *p, unsigned char out[OSSR_CKPT_SLOT]) {
    size_t el = strlen(p->etag), i;
    if (el > 47) el = 0;
    for (i = 0; i < el; i++)   /* only printable ETags are kept; others are learned again from ListParts */
        if ((unsigned char)p->etag[i] < 0x20 || (unsigned char)p->etag[i] > 0x7e) el = 0;
    memset(out, 0, OSSR_CKPT_SLOT);
    ossr__put_le32(out, OSSR__SLOT_MAGIC);
    ossr__put_le32(out + 4, p->number);
    ossr__put_le64(out + 8, p->size);
    ossr__put_le64(out + 16, p->crc64);
    ossr__put_le32(out + 24, (uint32_t)el);
    memcpy(out + 28, p->etag, el);
    ossr__put_le64(out + 80, ossr_crc64(0, out, 80));
}
OSSR__DEF int ossr_checkpoint_decode_part(const unsigned char in[OSSR_CKPT_SLOT], ossr_checkpoint_part *p) {
    uint32_t el;
    size_t i;
    memset(p, 0, sizeof *p);
    if (ossr__le32(in) != OSSR__SLOT_MAGIC || ossr__le64(in + 80) != ossr_crc64(0, in, 80)) return 0;
    el = ossr__le32(in + 24);
    if (el > 47 || ossr__le32(in + 76) != 0) return 0;
    for (i = 28; i < 28 + el; i++) if (in[i] < 0x20 || in[i] > 0x7e) return 0;   /* ETags are printable */
    for (i = 28 + el; i < 76; i++) if (in[i]) return 0;
    p->number = ossr__le32(in + 4);
    if (p->number == 0 || (p->number > OSSR__MAX_PARTS && p->number != OSSR_CKPT_COMPLETING)) return 0;
    p->size = ossr__le64(in + 8);
    p->crc64 = ossr__le64(in + 16);
    memcpy(p->etag, in + 28, el);
    p->etag[el] = 0;
    return 1;
}

/* ---- checkpoint store ---- */
/* The default store keeps each record in a file of the checkpoint directory, replaced
   through a temporary file and a rename (so a crash leaves the old record or the new,
   never half of one) and kept open for the slots. */
#if OSSR__HAVE_FS
OSSR__PRIVATE long ossr__fs_load(ossr__ctx *c, uint64_t off, void *buf, size_t cap) {
    long n;
    ossr__fh fh;
#if OSSR__OS == 1
    fh = (ossr__fh)open(c->ckpt_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
#else
    fh = ossr__file_open(c->ckpt_path, 0);
#endif
    if (fh == OSSR__BAD_FH) return errno == ENOENT ? 0 : errno == ELOOP ? -2 : -1;   /* ELOOP: a link planted there */
    n = ossr__file_pread(fh, buf, cap, off);
    ossr__file_close(fh);
    return n < 0 ? -1 : n == 0 && off == 0 ? -2 : n;   /* an empty file is no record */
}
OSSR__PRIVATE int ossr__fs_save(ossr__ctx *c, uint64_t off, const void *data, size_t len, unsigned flags) {
    if (flags & OSSR_STORE_NEW) {
        char tmp[OSSR_PATH_MAX + 8];
        ossr__fh fd;
        ossr__file_close(c->ckpt_fd);
        c->ckpt_fd = OSSR__BAD_FH;
        ossr__say(tmp, sizeof tmp, "%s.tmp", c->ckpt_path);
        ossr__file_remove(tmp);   /* a leftover of a crash; never follow a link planted under this name */
        fd = ossr__file_open(tmp, 0600);   /* the record: the user's alone */
        if (fd == OSSR__BAD_FH || ossr__file_write_all(fd, data, len, off) != 0 || ossr__file_sync(fd) != 0) {
            int e = errno;
            if (fd != OSSR__BAD_FH) { ossr__file_close(fd); ossr__file_remove(tmp); }
            errno = e;
            return -1;
        }
        ossr__file_close(fd);
        if (ossr__file_rename(tmp, c->ckpt_path) != 0) {
            int e = errno;
            ossr__file_remove(tmp);
            errno = e;
            return -1;
        }
        ossr__sync_parent(c->ckpt_path);
        return 0;
    }
    if (c->ckpt_fd == OSSR__BAD_FH && (c->ckpt_fd = ossr__file_open_rw(c->ckpt_path)) == OSSR__BAD_FH) return -1;
    if (len && ossr__file_write_all(c->ckpt_fd, data, len, off) != 0) return -1;
    return (flags & OSSR_STORE_SYNC) && ossr__file_sync(c->ckpt_fd) != 0 ? -1 : 0;
}
#endif
/* The store in use: the hook, else the checkpoint directory's files. The bytes read, 0
   when there is no record, -1 when it cannot be read now (errno says why for the
   directory's files), -2 when what is there is no record (damage): a hook that claims
   more than fits, a link or an empty file in the directory. */
OSSR__PRIVATE long ossr__store_load(ossr__ctx *c, uint64_t off, void *buf, size_t cap) {
    const ossr_store *s = c->o->store;
    if (s) {
        long n = s->load(c->ckpt_name, off, buf, cap, s->user);
        return n > (long)cap ? -2 : n < 0 ? -1 : n;
    }
#if OSSR__HAVE_FS
    return ossr__fs_load(c, off, buf, cap);
#else
    return -1;
#endif
}
OSSR__PRIVATE int ossr__store_save(ossr__ctx *c, uint64_t off, const void *data, size_t len, unsigned flags) {
    const ossr_store *s = c->o->store;
    if (s) return s->save(c->ckpt_name, off, data, len, flags, s->user) == 0 ? 0 : (errno = EIO, -1);
#if OSSR__HAVE_FS
    return ossr__fs_save(c, off, data, len, flags);
#else
    return -1;
#endif
}
OSSR__PRIVATE void ossr__ckpt_remove(ossr__ctx *c) {
    const ossr_store *s = c->o->store;
    c->ckpt_ok = 0;
    if (s) { s->remove(c->ckpt_name, s->user); return; }
#if OSSR__HAVE_FS
    ossr__file_close(c->ckpt_fd);
    c->ckpt_fd = OSSR__BAD_FH;
    ossr__file_remove(c->ckpt_path);
#endif
}
/* The default store's directory: checkpoint_dir, else $HOME/.oss-resumable (else
   ./.oss-resumable); nothing with a store hook. */
OSSR__PRIVATE void ossr__ckpt_dir(const ossr_options *o, ossr__sb *b) {
#if OSSR__HAVE_FS
    const char *home;
    char pwbuf[1024];
    if (o->store) return;
    if (o->checkpoint_dir && *o->checkpoint_dir) ossr__sb_puts(b, o->checkpoint_dir);
    else if ((home = ossr__home_dir(pwbuf, sizeof pwbuf)) != NULL) { ossr__sb_puts(b, home); ossr__sb_puts(b, "/.oss-resumable"); }
    else ossr__sb_puts(b, ".oss-resumable");   /* no home at all: the working directory */
#else
    (void)o; (void)b;
#endif
}
#if OSSR__HAVE_FS
/* Words for what stands where a file or directory of ours should be. */
OSSR__PRIVATE const char *ossr__kind_words(int kind) {
    return kind == OSSR__PATH_FILE ? "a file" : kind == OSSR__PATH_DIR ? "a directory" : kind == OSSR__PATH_LINK
           ? "a symbolic link" : "a FIFO, socket or device";
}
#endif
/* Names the record after SHA-256(endpoint, bucket, key, path), and for a download a
   word more (its path is the temporary file's, but a file of that name could be
   uploaded to the same key); the default store also
   makes its directory, and refuses (before any request) a directory that is something
   else, or a record path taken by anything but a file or a link (a directory or a FIFO
   there would fail every run after Initiate, or hang it). */
OSSR__PRIVATE ossr_result ossr__ckpt_path(ossr__ctx *c) {
    unsigned char d[32];
    ossr__hash h;
    ossr__sb b;
    ossr__hash_init(&h, OSSR__SHA256);
    ossr__hash_update(&h, c->endpoint_norm, strlen(c->endpoint_norm) + 1);
    ossr__hash_update(&h, c->o->bucket, strlen(c->o->bucket) + 1);
    ossr__hash_update(&h, c->o->key, strlen(c->o->key) + 1);
    ossr__hash_update(&h, c->abs_path, strlen(c->abs_path) + 1);
    if (c->download) ossr__hash_update(&h, "download", 8);
    ossr__hash_final(&h, d);
    ossr__sb_init(&b, c->ckpt_name, sizeof c->ckpt_name);
    ossr__sb_hex(&b, d, 20);
    ossr__sb_puts(&b, ".ossr");
    ossr__sb_init(&b, c->ckpt_path, sizeof c->ckpt_path);
#if OSSR__HAVE_FS
    if (!c->o->store) {
        int kind;
        ossr__ckpt_dir(c->o, &b);
        if (b.overflow || ossr__mkdirs(c->ckpt_path) != 0) {
            c->st->os_error = b.overflow ? ENAMETOOLONG : errno;
            return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "cannot use the checkpoint directory %s: %s", c->ckpt_path,
                                    strerror(c->st->os_error));
        }
        kind = ossr__path_kind(c->ckpt_path);
        if (kind != OSSR__PATH_DIR && kind != OSSR__PATH_LINK && kind >= 0)
            return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "the checkpoint directory %s is %s, not a directory: "
                                    "remove it, or choose another directory", c->ckpt_path, ossr__kind_words(kind));
        if (!ossr__dir_writable(c->ckpt_path)) {
            c->st->os_error = errno;
            return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "cannot use the checkpoint directory %s: %s", c->ckpt_path,
                                    strerror(errno));
        }
        ossr__sb_putc(&b, '/');
    }
#endif
    ossr__sb_puts(&b, c->ckpt_name);
    if (b.overflow) return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "checkpoint path too long");
    ossr__copy(c->st->checkpoint_path, sizeof c->st->checkpoint_path, c->ckpt_path, b.len);
#if OSSR__HAVE_FS
    if (!c->o->store) {
        int kind = ossr__path_kind(c->ckpt_path);
        if (kind == OSSR__PATH_DIR || kind == OSSR__PATH_OTHER)
            return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "the checkpoint path %s is %s, not a checkpoint file: "
                                    "remove it and run again", c->ckpt_path, ossr__kind_words(kind));
    }
#endif
    return OSSR_OK;
}
/* Claims the record for this call (OSSR_E_BUSY when another transfer holds it: before
   any request, a download's after the object's HEAD); ossr__ckpt_unlock lets it go. */
OSSR__PRIVATE ossr_result ossr__ckpt_lock(ossr__ctx *c) {
    const ossr_store *s = c->o->store;
    long holder = 0;
    if (s) {
        if (s->lock && s->lock(c->ckpt_name, 1, s->user) != 0) goto busy;
        c->locked = s->lock != NULL;
        return OSSR_OK;
    }
#if OSSR__HAVE_FS
    {
        char path[OSSR_PATH_MAX + 8];
        ossr__say(path, sizeof path, "%s.lock", c->ckpt_path);
        c->lock_fd = ossr__lock_file(path, &holder);
        if (c->lock_fd != OSSR__BAD_FH) { c->locked = 1; return OSSR_OK; }
        if (errno != EAGAIN) {
            c->st->os_error = errno;
            return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "cannot lock the checkpoint %s: %s", path, strerror(errno));
        }
    }
#endif
busy:
    c->st->result = OSSR_E_BUSY;
    ossr__say(c->st->detail, sizeof c->st->detail, holder ? "another %s of %s %s oss://%s/%s is running (pid %ld)"
              : "another %s of %s %s oss://%s/%s is running", c->download ? "download" : "upload", c->o->file_path,
              c->download ? "from" : "to", c->o->bucket, c->o->key, holder);
    return OSSR_E_BUSY;
}
/* The record's name, and the claim on it (once: a download that starts over keeps it). */
OSSR__PRIVATE ossr_result ossr__ckpt_claim(ossr__ctx *c) {
    ossr_result r;
    if (c->locked) return OSSR_OK;
    r = ossr__ckpt_path(c);
    return r == OSSR_OK ? ossr__ckpt_lock(c) : r;
}
/* Lets the record go (the default store removes its lock file). */
OSSR__PRIVATE void ossr__ckpt_unlock(ossr__ctx *c) {
    const ossr_store *s = c->o->store;
    if (!c->locked) return;
    c->locked = 0;
    if (s) { s->lock(c->ckpt_name, 0, s->user); return; }
#if OSSR__HAVE_FS
    {
        char path[OSSR_PATH_MAX + 8];
        ossr__say(path, sizeof path, "%s.lock", c->ckpt_path);
        ossr__unlock_file(path, c->lock_fd);
        c->lock_fd = OSSR__BAD_FH;
    }
#endif
}
OSSR__PRIVATE OSSR__NOINLINE uint64_t ossr__part_len(const ossr__ctx *c, uint32_t idx) {
    uint64_t off = (uint64_t)idx * c->part_size;
    return c->fid.size - off < c->part_size ? c->fid.size - off : c->part_size;
}
/* Where part number's slot lives: after the header, in part order, the mark of a sent
   Complete (OSSR_CKPT_COMPLETING) after the last part's. Each slot says which part it is
   for, so a hole, a torn slot or one of an older layout reads as "no slot". */
OSSR__PRIVATE uint64_t ossr__slot_off(const ossr__ctx *c, uint32_t number) {
    return c->ckpt_head + (uint64_t)(number == OSSR_CKPT_COMPLETING ? c->part_count : number - 1) * OSSR_CKPT_SLOT;
}
/* Part slots read a batch at a time, for passes in part order (resume, Complete). */
typedef struct ossr__slots {
    uint32_t first, n;
    unsigned char b[16 * OSSR_CKPT_SLOT];
} ossr__slots;
/* 1 with *p filled when the record holds an intact slot for part idx of its planned size. */
OSSR__PRIVATE int ossr__slot_get(ossr__ctx *c, ossr__slots *s, uint32_t idx, ossr_checkpoint_part *p) {
    if (idx < s->first || idx >= s->first + s->n) {
        long got = ossr__store_load(c, ossr__slot_off(c, idx + 1), s->b, sizeof s->b);
        s->first = idx;
        s->n = got > 0 ? (uint32_t)((size_t)got / OSSR_CKPT_SLOT) : 0;
        if (s->n == 0) return 0;
    }
    return ossr_checkpoint_decode_part(s->b + (size_t)(idx - s->first) * OSSR_CKPT_SLOT, p) &&
           p->number == idx + 1 && p->size == ossr__part_len(c, idx);
}
/* Whether part idx is done; marking one folds its CRC-64 into the object's: CRC-64/XZ of
   A||B is CRC(A) shifted over len(B), XOR CRC(B), so each part shifted over the bytes after
   it, XORed together in any order, is the object's CRC. Under the lock once workers run. */
OSSR__PRIVATE int ossr__is_done(const ossr__ctx *c, uint32_t idx) { return (c->done[idx >> 3] >> (idx & 7)) & 1; }
OSSR__PRIVATE void ossr__mark_done(ossr__ctx *c, uint32_t idx, uint64_t crc) {
    uint64_t after = c->fid.size - (uint64_t)idx * c->part_size - ossr__part_len(c, idx);
    if (ossr__is_done(c, idx)) return;
    c->done[idx >> 3] = (unsigned char)(c->done[idx >> 3] | (1u << (idx & 7)));
    c->crc_acc ^= ossr_crc64_combine(crc, 0, after);
}
/* The upload id block of a version 2 record (see >>checkpoint). */
static const unsigned char ossr__idblock_magic[8] = {'O', 'S', 'S', 'R', 'U', 'P', 'I', 'D'};
/* Its check: CRC-64 of the block's first 144 bytes, then of the record's name. */
OSSR__PRIVATE uint64_t ossr__idblock_crc(const ossr__ctx *c, const unsigned char *b) {
    return ossr_crc64(ossr_crc64(0, b, 144), c->ckpt_name, strlen(c->ckpt_name));
}
/* The block for this record's upload id. */
OSSR__PRIVATE void ossr__idblock_encode(const ossr__ctx *c, unsigned char out[OSSR__IDBLOCK]) {
    size_t n = strlen(c->upload_id);
    memset(out, 0, OSSR__IDBLOCK);
    memcpy(out, ossr__idblock_magic, 8);
    out[8] = (unsigned char)n;
    memcpy(out + 10, c->upload_id, n);
    ossr__put_le64(out + 144, ossr__idblock_crc(c, out));
}
/* The upload id of an intact id block anywhere in buf[0..n) (a damaged fixed part no
   longer says where it starts), into id; 1 when found. */
OSSR__PRIVATE int ossr__idblock_find(const ossr__ctx *c, const unsigned char *buf, size_t n, char *id) {
    size_t i, k, len;
    for (i = 0; i + OSSR__IDBLOCK <= n; i++) {
        const unsigned char *b = buf + i;
        if (b[0] != 'O' || memcmp(b, ossr__idblock_magic, 8) != 0) continue;
        len = (size_t)b[8] | ((size_t)b[9] << 8);
        if (len == 0 || len >= 128 || ossr__le64(b + 144) != ossr__idblock_crc(c, b)) continue;
        for (k = 0; k < len && b[10 + k] > 0x20 && b[10 + k] < 0x7f; k++) {}
        if (k < len) continue;
        memcpy(id, b + 10, len);
        id[len] = 0;
        return 1;
    }
    return 0;
}
enum { OSSR__CKPT_NONE = 0, OSSR__CKPT_MATCH = 1, OSSR__CKPT_STALE = 2, OSSR__CKPT_DAMAGED = 3,
       OSSR__CKPT_UNREADABLE = 4 };
/* The failure of a record the store cannot read now (ossr__ckpt_load's UNREADABLE, its
   system error in status.os_error): it stays, and the words say what to do. */
OSSR__PRIVATE ossr_result ossr__ckpt_unread(ossr__ctx *c) {
    int e = c->st->os_error;
    return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "cannot read the checkpoint %s%s%s; it is kept for the next call "
                            "(repair it, or remove it to start over)", c->ckpt_path, e ? ": " : "", e ? strerror(e) : "");
}
/* Loads the record for this upload. MATCH fills upload_id and says whether a Complete
   was sent; STALE gives the old upload id and a reason; DAMAGED gives it too when its id
   block survived. Part slots are read when needed. */
OSSR__PRIVATE int ossr__ckpt_load(ossr__ctx *c, char *old_id, char *reason, size_t rcap, int *completing,
                                  uint64_t *completing_crc) {
    unsigned char *buf = c->scratch;   /* OSSR_CKPT_HEAD_MAX + OSSR__IDBLOCK bytes */
    ossr_checkpoint k;
    long hl, n;
    *completing = 0;
    old_id[0] = 0;
    n = ossr__store_load(c, 0, buf, OSSR_CKPT_HEAD_MAX + OSSR__IDBLOCK);
    if (n == 0) return OSSR__CKPT_NONE;
    if (n == -1) {   /* a read error is no damage: the record stays as it is */
        c->st->os_error = c->o->store ? 0 : errno;
        return OSSR__CKPT_UNREADABLE;
    }
    hl = n > 0 ? ossr_checkpoint_decode(buf, (size_t)n, &k) : (long)OSSR_E_CORRUPT;
    if (hl < 0) {
        if (n > 0) ossr__idblock_find(c, buf, (size_t)n, old_id);
        ossr__say(reason, rcap, "it is damaged or not a checkpoint");
        return OSSR__CKPT_DAMAGED;
    }
    ossr__copy(old_id, 128, k.upload_id.ptr, k.upload_id.len);
    if (!ossr__slice_is(&k.endpoint, c->endpoint_norm) || !ossr__slice_is(&k.bucket, c->o->bucket) ||
        !ossr__slice_is(&k.key, c->o->key) || !ossr__slice_is(&k.path, c->abs_path) ||
        !(k.flags & OSSR_CKPT_FLAG_DOWNLOAD) != !c->download) {
        /* not written under this name: copied or planted, so its upload is not ours to
           abort (unless our own id block survived in it) */
        old_id[0] = 0;
        ossr__idblock_find(c, buf, (size_t)n, old_id);
        ossr__say(reason, rcap, "it was written for another endpoint, bucket, key or file");
        return OSSR__CKPT_DAMAGED;
    } else if (c->dl) {
        if (!ossr__slice_is(&k.upload_id, c->dl_etag) || k.file_size != c->fid.size ||
            k.mtime_sec != c->dl_mtime || !(k.flags & OSSR_CKPT_FLAG_OBJECT_CRC) != !c->dl_has_crc ||
            (c->dl_has_crc && k.head_crc != c->dl_crc))
            ossr__say(reason, rcap, "the object changed on the server since (ETag %s then, %s now)", old_id,
                      c->dl_etag);
        else if (k.part_size != c->part_size || k.part_count != c->part_count)
            ossr__say(reason, rcap, "the part size changed (%llu then, %llu now)",
                      (unsigned long long)k.part_size, (unsigned long long)c->part_size);
        else reason[0] = 0;
    } else if (k.file_size != c->fid.size)
        ossr__say(reason, rcap, "the file's size changed since");
    else if ((k.flags & OSSR_CKPT_FLAG_CONTENT) != (c->o->resume_by_content ? OSSR_CKPT_FLAG_CONTENT : 0u))
        ossr__say(reason, rcap, "it was made with the other resume check (modification time / content)");
    else if (c->o->resume_by_content ? (k.head_crc != c->head_crc || k.tail_crc != c->tail_crc)
                                     : (k.mtime_sec != c->fid.mtime_sec || k.mtime_nsec != c->fid.mtime_nsec))
        ossr__say(reason, rcap, "the file changed since (%s)", c->o->resume_by_content ? "its first or last MiB"
                 : "modification time");
    else if (k.part_size != c->part_size || k.part_count != c->part_count)
        ossr__say(reason, rcap, "the part size changed (%llu then, %llu now)",
                 (unsigned long long)k.part_size, (unsigned long long)c->part_size);
    else reason[0] = 0;
    if (reason[0]) return OSSR__CKPT_STALE;
    c->ckpt_head = k.slots_offset;
    c->ckpt_ok = 1;
    if (c->dl) return OSSR__CKPT_MATCH;
    memcpy(c->upload_id, old_id, 128);
    {
        unsigned char sb[OSSR_CKPT_SLOT];
        ossr_checkpoint_part p;
        if (ossr__store_load(c, ossr__slot_off(c, OSSR_CKPT_COMPLETING), sb, sizeof sb) == (long)sizeof sb &&
            ossr_checkpoint_decode_part(sb, &p) && p.number == OSSR_CKPT_COMPLETING && p.size == c->fid.size) {
            *completing = 1;
            *completing_crc = p.crc64;
        }
    }
    return OSSR__CKPT_MATCH;
}
OSSR__PRIVATE OSSR__NOINLINE ossr_result ossr__ckpt_create(ossr__ctx *c) {
    unsigned char *buf = c->scratch;   /* OSSR_CKPT_HEAD_MAX + OSSR__IDBLOCK bytes */
    ossr_checkpoint k;
    size_t n;
    memset(&k, 0, sizeof k);
    k.version = c->dl ? 1 : 2;
    k.file_size = c->fid.size;
    k.mtime_sec = c->dl ? c->dl_mtime : c->fid.mtime_sec;
    k.mtime_nsec = c->dl ? 0 : c->fid.mtime_nsec;
    k.part_size = c->part_size;
    k.part_count = c->part_count;
    if (c->dl) {
        k.flags = OSSR_CKPT_FLAG_DOWNLOAD | (c->dl_has_crc ? OSSR_CKPT_FLAG_OBJECT_CRC : 0u);
        k.head_crc = c->dl_has_crc ? c->dl_crc : 0;
    } else if (c->o->resume_by_content) {
        k.flags = OSSR_CKPT_FLAG_CONTENT;
        k.head_crc = c->head_crc;
        k.tail_crc = c->tail_crc;
    }
    k.endpoint.ptr = c->endpoint_norm; k.endpoint.len = strlen(c->endpoint_norm);
    k.bucket.ptr = c->o->bucket; k.bucket.len = strlen(c->o->bucket);
    k.key.ptr = c->o->key; k.key.len = strlen(c->o->key);
    k.path.ptr = c->abs_path; k.path.len = strlen(c->abs_path);
    k.upload_id.ptr = c->dl ? c->dl_etag : c->upload_id; k.upload_id.len = strlen(k.upload_id.ptr);
    n = ossr_checkpoint_encode(&k, buf, OSSR_CKPT_HEAD_MAX);
    if (!n) return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "checkpoint record too large (path or key too long)");
    if (!c->dl) {
        ossr__idblock_encode(c, buf + n);
        n += OSSR__IDBLOCK;
    }
    c->st->checkpoint_bytes += n;
    c->st->checkpoint_writes++;
    if (ossr__store_save(c, 0, buf, n, OSSR_STORE_NEW | OSSR_STORE_SYNC) != 0) {
        c->st->os_error = errno;
        return ossr__setup_fail(c, OSSR_E_CHECKPOINT, "cannot write the checkpoint %s: %s", c->ckpt_path,
                                strerror(errno));
    }
    c->ckpt_ok = 1;
    c->ckpt_head = n;
    return OSSR_OK;
}
/* One fixed-size write per finished part, in the part's own slot; called under the lock.
   The slot is where Complete finds the part's ETag, so a failed write fails the part
   (the part stays on the server, and the next call finds it with ListParts). durable:
   synced before returning (the COMPLETING mark). Part slots are synced later, at most
   once a second and outside the lock (ossr__ckpt_sync_due): a slot lost to a power cut
   only means that part is read again on resume to check it, while a sync per part under
   the lock stalled every worker behind the disk. 0, or -1 with errno. */
OSSR__PRIVATE int ossr__ckpt_write_slot(ossr__ctx *c, uint32_t number, uint64_t size, uint64_t crc, const char *etag,
                                    int durable) {
    ossr_checkpoint_part p;
    unsigned char slot[OSSR_CKPT_SLOT];
    if (!c->ckpt_ok) { errno = EIO; return -1; }
    memset(&p, 0, sizeof p);
    p.number = number;
    p.size = size;
    p.crc64 = crc;
    if (etag && strlen(etag) < sizeof p.etag) memcpy(p.etag, etag, strlen(etag) + 1);
    ossr_checkpoint_encode_part(&p, slot);
    if (ossr__store_save(c, ossr__slot_off(c, number), slot, sizeof slot, durable ? OSSR_STORE_SYNC : 0u) != 0)
        return -1;
    c->ckpt_dirty = !durable;
    c->st->checkpoint_bytes += sizeof slot;
    c->st->checkpoint_writes++;
    return 0;
}
/* Under the lock: 1 when the part slots written since the last sync should be synced
   now (ossr__ckpt_sync, after unlocking). */
OSSR__PRIVATE int ossr__ckpt_sync_due(ossr__ctx *c) {
    int64_t now = ossr__clock(c);
    if (!c->ckpt_ok || !c->ckpt_dirty || now - c->ckpt_sync_ms < 1000) return 0;
    c->ckpt_sync_ms = now;
    c->ckpt_dirty = 0;
    return 1;
}
/* Makes the slots durable. The default store syncs outside the lock; a hook store gets
   its calls one at a time, so it syncs under it. */
OSSR__PRIVATE void ossr__ckpt_sync(ossr__ctx *c) {
    if (c->o->store) ossr__lock(&c->lock);
    ossr__store_save(c, 0, NULL, 0, OSSR_STORE_SYNC);
    if (c->o->store) ossr__unlock(&c->lock);
}

/* >>upload: setup, PutObject, multipart, resume -------------------------------------- */
OSSR__PRIVATE int ossr__valid_utf8(const unsigned char *s) {
    while (*s) {
        unsigned c = *s, n, i;
        uint32_t cp;
        if (c < 0x80) { s++; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
        else return 0;
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}
/* Content-Type from the key's extension, as oss2 guesses it; NULL when unknown. */
OSSR__PRIVATE const char *ossr__guess_type(const char *key) {
    static const char *const map[] = {
        "txt", "text/plain", "log", "text/plain", "csv", "text/csv", "html", "text/html",
        "htm", "text/html", "css", "text/css", "js", "application/javascript",
        "json", "application/json", "xml", "application/xml", "md", "text/markdown",
        "jpg", "image/jpeg", "jpeg", "image/jpeg", "png", "image/png", "gif", "image/gif",
        "webp", "image/webp", "svg", "image/svg+xml", "ico", "image/x-icon", "bmp", "image/bmp",
        "tif", "image/tiff", "tiff", "image/tiff", "pdf", "application/pdf",
        "zip", "application/zip", "gz", "application/gzip", "tgz", "application/gzip",
        "bz2", "application/x-bzip2", "xz", "application/x-xz", "7z", "application/x-7z-compressed",
        "tar", "application/x-tar", "bin", "application/octet-stream", "exe", "application/octet-stream",
        "iso", "application/octet-stream", "img", "application/octet-stream",
        "mp3", "audio/mpeg", "wav", "audio/x-wav", "ogg", "audio/ogg", "flac", "audio/flac",
        "mp4", "video/mp4", "mov", "video/quicktime", "avi", "video/x-msvideo", "mkv", "video/x-matroska",
        "webm", "video/webm", "wasm", "application/wasm", "doc", "application/msword",
        "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls", "application/vnd.ms-excel",
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", NULL};
    const char *dot = strrchr(key, '.'), *slash = strrchr(key, '/');
    int i;
    if (!dot || (slash && slash > dot) || !dot[1]) return NULL;
    for (i = 0; map[i]; i += 2)
        if (ossr__ieq(dot + 1, map[i])) return map[i + 1];
    return NULL;
}

/* Undoes a successful ossr__setup. */
OSSR__PRIVATE void ossr__teardown(ossr__ctx *c) {
    ossr__mutex_destroy(&c->lock);
    ossr__mutex_destroy(&c->log_lock);
    ossr__mutex_destroy(&c->creds_lock);
    ossr__mutex_destroy(&c->progress_lock);
#ifdef OSSR__HAVE_TLS
    ossr__anchors_free(&c->anchors, &c->heap);
    memset(&c->session, 0, sizeof c->session);
#endif
    if (c->st) c->st->heap_peak = c->heap.peak;
}
#ifdef OSSR__HAVE_TLS
/* TLS for an https:// endpoint: the name to verify, entropy, and the trust anchors
   (compiled in, a CA file, $SSL_CERT_FILE or the system bundle), all settled before
   any byte is sent. */
OSSR__PRIVATE ossr_result ossr__tls_setup(ossr__ctx *c) {
    const ossr_options *o = c->o;
    const char *path, *env;
    ossr_result r;
    if (!o->entropy && !br_prng_seeder_system(NULL))
        return ossr__setup_fail(c, OSSR_E_NO_ENTROPY, "BearSSL has no entropy source on this system; "
                                "set ossr_options.entropy");
    if (o->insecure) {
        ossr__log(c, OSSR_LOG_WARN, "insecure: the server's certificate is NOT checked; anyone on the "
                  "network path can read and change this transfer");
        return OSSR_OK;
    }
    if (o->trust_anchors && o->trust_anchor_count) {
        c->ta = (const br_x509_trust_anchor *)o->trust_anchors;
        c->ta_count = o->trust_anchor_count;
        return OSSR_OK;
    }
    if (c->ext)   /* a CA file's size is unknown to ossr_session_size: no room for it in the block */
        return ossr__setup_fail(c, OSSR_E_CERT, "a session's memory has no room for a CA file: compile the trust "
                                "anchors in (opts.trust_anchors), or let the connections carry TLS");
#if OSSR__HAVE_FS && !defined(OSSR_NO_MALLOC)
    env = getenv("SSL_CERT_FILE");
    path = o->ca_file && *o->ca_file ? o->ca_file : env && *env ? env : ossr__system_ca_file();
    if (!path)
        return ossr__setup_fail(c, OSSR_E_CERT, "no trust anchors: no system CA bundle was found; give a CA "
                                "file (ca_file, --ca-file) or set SSL_CERT_FILE");
    r = ossr__anchors_load(&c->anchors, &c->heap, path, c->st->detail, sizeof c->st->detail);
    if (r != OSSR_OK) {
        size_t n = strlen(c->st->detail);
        c->st->result = r;
        if (r == OSSR_E_NOMEM) ossr__say(c->st->detail, sizeof c->st->detail, "no memory for the CA file %s", path);
        else if (path == env)   /* the user typed no path: say where it came from */
            ossr__say(c->st->detail + n, sizeof c->st->detail - n, " (the path is SSL_CERT_FILE's: point it at a PEM "
                      "bundle, unset it, or give a CA file with ca_file, --ca-file)");
        return r;
    }
    c->ta = c->anchors.ta;
    c->ta_count = c->anchors.n;
    return OSSR_OK;
#else
    (void)path; (void)env; (void)r;
    return ossr__setup_fail(c, OSSR_E_CERT, "no trust anchors: this build reads no CA file (OSSR_NO_STDIO or "
                            "OSSR_NO_MALLOC); compile them in (opts.trust_anchors)");
#endif
}
#endif
/* Bytes of TLS state per worker: the engine contexts and BearSSL's record buffer. */
OSSR__PRIVATE size_t ossr__tls_size(const ossr_options *o) {
#ifdef OSSR__HAVE_TLS
    return ((sizeof(ossr__tls) + 15) & ~(size_t)15) +
           (o->tls_small_buffer ? BR_SSL_BUFSIZE_MONO : BR_SSL_BUFSIZE_BIDI);
#else
    (void)o;
    return 0;
#endif
}
/* Resolves every default the options leave to the library (see ossr__conf); ext: for a
   session its caller drives, whose connections carry TLS themselves where the library
   has none. */
OSSR__PRIVATE void ossr__resolve(const ossr_options *o, int https, int ext, ossr__conf *f) {
    size_t n;
    memset(f, 0, sizeof *f);
    if (https && o->transport && o->transport->connect_tls) f->tls = OSSR__TLS_HOOK;
#ifdef OSSR__HAVE_TLS
    else if (https) f->tls = OSSR__TLS_LIB;
#endif
    else if (https && ext) f->tls = OSSR__TLS_HOOK;
    f->lanes = o->sequential ? 1   /* OSS refuses a part below one it already has */
             : o->num_threads < 1 ? 1 : o->num_threads > 64 ? 64 : o->num_threads;
    f->threshold = o->multipart_threshold ? o->multipart_threshold : OSSR__DEFAULT_THRESHOLD;
    /* over the library's TLS, file bytes go straight into the record buffer: io only holds
       request heads and replies (OSSR__TLS_IO); over plain TCP it is also the send chunk */
    n = o->buffer_size ? o->buffer_size : f->tls == OSSR__TLS_LIB ? OSSR__TLS_IO
      : f->lanes <= 2 ? OSSR__PLAIN_IO * 2 : f->lanes <= 4 ? OSSR__PLAIN_IO : OSSR__PLAIN_IO / 2;
    f->buffer_size = n < OSSR__HEAD_CAP ? OSSR__HEAD_CAP : n > (16u << 20) ? 16u << 20 : n;
    f->tls_size = f->tls == OSSR__TLS_LIB ? ossr__tls_size(o) : 0;
    f->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 60000;
    f->io_timeout_ms = o->io_timeout_ms > 0 ? o->io_timeout_ms : 60000;
    f->low_speed_limit = o->low_speed_limit ? o->low_speed_limit : 256;
    f->low_speed_ms = o->low_speed_time_ms > 0 ? o->low_speed_time_ms : f->io_timeout_ms;
    f->max_attempts = o->max_attempts > 0 ? o->max_attempts : 3;
    f->retry_base_ms = o->retry_base_ms > 0 ? o->retry_base_ms : 200;
    f->retry_cap_ms = o->retry_cap_ms > 0 ? o->retry_cap_ms : 20000;
    if (f->retry_cap_ms < f->retry_base_ms) f->retry_cap_ms = f->retry_base_ms;
}
/* Whether a file of this size goes up in parts (at or above the threshold). */
OSSR__PRIVATE int ossr__is_multipart(const ossr__conf *f, uint64_t file_size) {
    return file_size > 0 && file_size >= f->threshold;
}
/* What a call needs of the options beyond the connection: the object key, the local file. */
#define OSSR__NEED_KEY  1u
#define OSSR__NEED_FILE 2u
#define OSSR__NEED_EXT  4u   /* a session driven by its caller (its connections may carry TLS themselves) */
OSSR__PRIVATE ossr_result ossr__setup(ossr__ctx *c, const ossr__heap *heap, const ossr_options *o, ossr_status *st,
                                      unsigned need) {
    ossr__sb b;
    size_t i;
    int addressing;
    ossr_result r;
    ossr__heap keep;
    if (heap) keep = *heap;   /* heap may be c's own */
    else ossr__heap_init(&keep, o, NULL, 0);
    memset(c, 0, sizeof *c);
    c->o = o;
    c->st = st;
    c->ext = (need & OSSR__NEED_EXT) != 0;
#if OSSR__HAVE_FS
    c->ckpt_fd = OSSR__BAD_FH;
    c->lock_fd = OSSR__BAD_FH;
#endif
    c->heap = keep;   /* its allocator settings were checked where it was made (ossr__call_open) */
    if (o->transport && ((!o->transport->connect && !o->transport->connect_tls) || !o->transport->send ||
                         !o->transport->recv || !o->transport->close))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the transport hook needs connect (or connect_tls), send, "
                                "recv and close");
    if (o->file_io && (!o->file_io->open || !o->file_io->identity || !o->file_io->read_at || !o->file_io->close))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the file hook needs open, identity, read_at and close");
    if (o->store && (!o->store->load || !o->store->save || !o->store->remove))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the checkpoint store hook needs load, save and remove");
    if (!ossr__transport(o, &c->tp))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "this build has no sockets (OSSR_NO_SOCKETS): set opts.transport");
    if (!ossr__file_source(o, &c->fio) || (!OSSR__HAVE_FS && !o->store))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "this build has no file system (OSSR_NO_STDIO): set "
                                "opts.file_io and opts.store");
    if (!OSSR__OS && (!o->clock || !o->ticks || !o->sleep))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "this build has no operating system layer: set opts.clock, "
                                "opts.ticks and opts.sleep");
    r = ossr_parse_endpoint(o->endpoint, &c->ep);
    if (r != OSSR_OK)
        return ossr__setup_fail(c, r, "endpoint '%s' is not http(s)://host[:port]", o->endpoint ? o->endpoint : "");
    ossr__resolve(o, c->ep.https, c->ext, &c->f);
    if (c->ep.https && !c->f.tls)
        return ossr__setup_fail(c, OSSR_E_TLS_UNAVAILABLE, "use an http:// endpoint, or a transport hook that "
                                "carries TLS (connect_tls)");
    if (!c->ep.https && o->transport && !o->transport->connect)
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the transport hook has connect_tls but no connect, and the "
                                "endpoint is http://");
    if (!ossr__valid_bucket(o->bucket))
        return ossr__setup_fail(c, OSSR_E_BAD_BUCKET, "bucket '%s' is not a valid name (3-63 of a-z 0-9 -, "
                                "no leading or trailing -)", o->bucket ? o->bucket : "");
    if ((need & OSSR__NEED_KEY) && (!ossr__valid_key(o->key) || !ossr__valid_utf8((const unsigned char *)o->key)))
        return ossr__setup_fail(c, OSSR_E_BAD_KEY, "object key must be 1-1023 bytes of UTF-8 and not start "
                                "with / or \\");
    if (!o->credentials && (!o->access_key_id || !*o->access_key_id || !o->access_key_secret || !*o->access_key_secret))
        return ossr__setup_fail(c, OSSR_E_NO_CREDENTIALS, "set the access key id and secret "
                                "(OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET)");
    if ((need & OSSR__NEED_FILE) && (!o->file_path || !*o->file_path))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "no local file given");
    c->sign_version = o->sign_version ? o->sign_version : (o->region && *o->region ? 4 : 1);
    if (c->sign_version != 1 && c->sign_version != 4)
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "sign version must be 1 or 4");
    if (c->sign_version == 4 && (!o->region || !*o->region))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "V4 signing needs a region (e.g. cn-hangzhou)");
    if (o->region)
        for (i = 0; o->region[i]; i++)
            if (!((o->region[i] >= 'a' && o->region[i] <= 'z') || (o->region[i] >= '0' && o->region[i] <= '9') ||
                  o->region[i] == '-'))
                return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "region '%s' is not a region id such as "
                                        "cn-hangzhou", o->region);
    if (o->header_count > 40)
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "at most 40 user headers (%u given)", (unsigned)o->header_count);
    for (i = 0; i < o->header_count; i++) {
        static const char *const reserved[] = { "Host", "Content-Length", "Authorization", "Date", "x-oss-date",
                                                "Transfer-Encoding", "Connection", "x-oss-security-token" };
        const char *n = o->headers[i].name, *v = o->headers[i].value;
        size_t k;
        if (!n || !*n || !v) return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "header %u has no name or value", (unsigned)i);
        for (k = 0; n[k]; k++)
            if (!ossr__is_tchar((unsigned char)n[k]))
                return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "header name '%s' is not a valid HTTP token", n);
        if (!ossr__head_safe(v))
            return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "header '%s' has a control character in its value", n);
        for (k = 0; k < sizeof reserved / sizeof reserved[0]; k++)
            if (ossr__ieq(n, reserved[k]))
                return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "header '%s' is set by the library", n);
        for (k = 0; k < i; k++)   /* signed once, it would be sent twice: SignatureDoesNotMatch */
            if (ossr__ieq(n, o->headers[k].name))
                return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "header '%s' is given twice", n);
    }
    if (o->access_key_id && !ossr__head_safe(o->access_key_id))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the access key id has a control character");
    if (o->security_token && !ossr__head_safe(o->security_token))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the security token has a control character");

    /* addressing: where to connect, and what Host says */
    addressing = o->addressing;
    if (addressing == OSSR_ADDR_AUTO)
        addressing = (c->ep.host_is_ip || (c->ep.host.len == 9 && ossr__slice_ieq(c->ep.host, "localhost")))
                     ? OSSR_ADDR_PATH : OSSR_ADDR_VIRTUAL;
    if (addressing < OSSR_ADDR_AUTO || addressing > OSSR_ADDR_CNAME)
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "unknown addressing style %d", addressing);
    if (addressing == OSSR_ADDR_VIRTUAL && c->ep.host_is_ipv6)
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "virtual-hosted addressing needs a host name, not an IP literal");
    c->path_style = addressing == OSSR_ADDR_PATH;
    ossr__sb_init(&b, c->host_header, sizeof c->host_header);
    if (addressing == OSSR_ADDR_VIRTUAL) { ossr__sb_puts(&b, o->bucket); ossr__sb_putc(&b, '.'); }
    if (c->ep.host_is_ipv6) ossr__sb_putc(&b, '[');
    ossr__sb_put(&b, c->ep.host.ptr, c->ep.host.len);
    if (c->ep.host_is_ipv6) ossr__sb_putc(&b, ']');
    if (c->ep.explicit_port) ossr__sb_printf(&b, ":%u", (unsigned)c->ep.port);
    ossr__sb_init(&b, c->endpoint_norm, sizeof c->endpoint_norm);
    ossr__sb_puts(&b, c->ep.https ? "https://" : "http://");
    for (i = 0; i < c->ep.host.len; i++) ossr__sb_putc(&b, (char)ossr__lower((unsigned char)c->ep.host.ptr[i]));
    ossr__sb_printf(&b, ":%u", (unsigned)c->ep.port);
    c->conn_port = c->ep.port;
    if (o->connect_to && *o->connect_to) {
        ossr_endpoint ct;
        char tmp[300];
        ossr__say(tmp, sizeof tmp, "http://%s", o->connect_to);
        if (ossr_parse_endpoint(tmp, &ct) != OSSR_OK || ct.host.len >= sizeof c->conn_host)
            return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "connect-to '%s' is not host[:port]", o->connect_to);
        ossr__copy(c->conn_host, sizeof c->conn_host, ct.host.ptr, ct.host.len);
        if (ct.explicit_port) c->conn_port = ct.port;
    } else {
        ossr__sb_init(&b, c->conn_host, sizeof c->conn_host);
        if (addressing == OSSR_ADDR_VIRTUAL) { ossr__sb_puts(&b, o->bucket); ossr__sb_putc(&b, '.'); }
        ossr__sb_put(&b, c->ep.host.ptr, c->ep.host.len);
    }
    ossr__sb_init(&b, c->tls_name, sizeof c->tls_name);   /* the certificate's name: the URL's host */
    if (addressing == OSSR_ADDR_VIRTUAL) { ossr__sb_puts(&b, o->bucket); ossr__sb_putc(&b, '.'); }
    ossr__sb_put(&b, c->ep.host.ptr, c->ep.host.len);

    ossr__mutex_init(&c->lock);
    ossr__mutex_init(&c->log_lock);
    ossr__mutex_init(&c->creds_lock);
    ossr__mutex_init(&c->progress_lock);
#ifdef OSSR__HAVE_TLS
    if (c->f.tls == OSSR__TLS_LIB && (r = ossr__tls_setup(c)) != OSSR_OK) {
        ossr__teardown(c);
        return r;
    }
#endif
    return OSSR_OK;
}

/* One allocation per worker: [TLS state][io]. io serves each request in turn as the
   signing scratch and request head, the plain-TCP body window, then the reply (a reply
   body kept in memory is moved to its front). */
OSSR__PRIVATE ossr_result ossr__worker_init(ossr__worker *w, ossr__ctx *c) {
    size_t tls = c->f.tls_size;
    memset(w, 0, sizeof *w);
    w->ctx = c;
    w->block_size = tls + c->f.buffer_size;
    if (c->st) { c->st->heap_per_worker = sizeof *w + w->block_size; c->st->workers++; }
    w->block = (char *)ossr__heap_get(&c->heap, w->block_size);
    if (!w->block) return OSSR_E_NOMEM;
    w->head = w->body = w->io = w->block + tls;
#ifdef OSSR__HAVE_TLS
    if (tls) {
        w->tls = (ossr__tls *)(void *)w->block;
        memset(w->tls, 0, sizeof *w->tls);
        w->tls->buf = (unsigned char *)w->block + ((sizeof(ossr__tls) + 15) & ~(size_t)15);
        w->tls->buf_len = tls - ((sizeof(ossr__tls) + 15) & ~(size_t)15);
    }
#endif
    return OSSR_OK;
}
OSSR__PRIVATE size_t ossr__flow_heap(void);
OSSR__PRIVATE size_t ossr__session_heap(size_t lanes);
OSSR__DEF size_t ossr_workspace_size(const ossr_options *o, uint64_t file_size) {
    ossr_endpoint ep;
    ossr__conf f;
    uint64_t part_size;
    uint32_t parts = 0;
    size_t nw = 1;
    if (!o || ossr_parse_endpoint(o->endpoint, &ep) != OSSR_OK) return 0;
    ossr__resolve(o, ep.https, 0, &f);
    if (ossr__is_multipart(&f, file_size)) {
        if (ossr_plan_parts(file_size, o->part_size, &part_size, &parts, NULL, 0) != OSSR_OK) return 0;
        nw = (size_t)f.lanes;
    }
    return ossr__session_heap(nw) + nw * OSSR__ROUND16(f.tls_size + f.buffer_size) + (parts ? ossr__flow_heap() : 0);
}
OSSR__PRIVATE void ossr__worker_free(ossr__worker *w) {
    ossr__close_conn(w);
    if (w->block) {
        memset(w->block, 0, (size_t)(w->io - w->block) + w->ctx->f.buffer_size);  /* TLS keys, signing scratch */
        ossr__heap_put(&w->ctx->heap, w->block, w->block_size);
    }
    w->block = w->head = NULL;
}

/* Records the first hard error of an upload in the caller's status. */
OSSR__PRIVATE void ossr__set_error(ossr__ctx *c, const ossr__worker *w, ossr_result r) {
    ossr_status *st = c->st;
    if (c->first_error != OSSR_OK) return;
    c->first_error = r;
    st->result = r;
    st->http_status = w->err.http_status;
    st->os_error = w->err.os_error;
    st->tls_error = w->err.tls_error;
    st->part_number = w->err.part_number;
    memcpy(st->code, w->err.code, sizeof st->code);
    memcpy(st->message, w->err.message, sizeof st->message);
    memcpy(st->request_id, w->err.request_id, sizeof st->request_id);
    memcpy(st->host_id, w->err.host_id, sizeof st->host_id);
    memcpy(st->ec, w->err.ec, sizeof st->ec);
    memcpy(st->server_time, w->err.server_time, sizeof st->server_time);
    if (r == OSSR_E_CANCELLED) ossr__say(st->detail, sizeof st->detail, "cancelled; the checkpoint is kept and the next call resumes");
    else memcpy(st->detail, w->err.detail, sizeof st->detail);
}
OSSR__PRIVATE int ossr__is_code(const ossr__worker *w, ossr_result r, const char *code) {
    return r == OSSR_E_SERVER && strcmp(w->err.code, code) == 0;
}

static const char *const ossr__hdr_part[] = {"x-oss-traffic-limit", "x-oss-request-payer", NULL};
static const char *const ossr__hdr_complete[] = {"x-oss-forbid-overwrite", "x-oss-object-acl",
    "x-oss-callback", "x-oss-callback-var", "x-oss-request-payer", NULL};
static const char *const ossr__hdr_payer[] = {"x-oss-request-payer", NULL};

/* Initiate and PutObject carry every user header, plus a guessed Content-Type. */
OSSR__PRIVATE void ossr__object_headers(ossr__ctx *c, ossr__req *q) {
    const char *ct;
    ossr__req_user_headers(q, c->o, NULL);
    if (!ossr__find_header(c->o->headers, c->o->header_count, "Content-Type") &&
        (ct = ossr__guess_type(c->o->key)) != NULL)
        ossr__req_header(q, "Content-Type", ct);
}

/* PutObject: the whole file in one request. */
OSSR__PRIVATE void ossr__req_put(ossr__ctx *c, ossr__worker *w) {
    ossr__req *q = &w->req;
    ossr__req_init(q, "PUT", "PutObject");
    ossr__object_headers(c, q);
    q->body_kind = c->fid.size ? OSSR__BODY_FILE : OSSR__BODY_NONE;
    q->body_len = c->fid.size;
    q->progress = 1;
    q->check_crc = 1;
    q->want_md5 = c->o->content_md5;
    c->progress_total = c->fid.size;
}
/* PutObject's result: the file must not have changed while it went out. */
OSSR__PRIVATE ossr_result ossr__put_result(ossr__ctx *c, ossr__worker *w, ossr_result r) {
    if (r != OSSR_OK) { ossr__set_error(c, w, r); return r; }
    if (!ossr__file_unchanged(c)) {
        c->st->result = OSSR_E_FILE_CHANGED;
        ossr__say(c->st->detail, sizeof c->st->detail, "%s changed while it was being uploaded; the object "
                 "may hold a mix of old and new bytes: upload it again", c->o->file_path);
        return OSSR_E_FILE_CHANGED;
    }
    c->st->crc64 = w->req.body_crc;
    c->st->crc64_verified = w->has_crc;   /* compared by the exchange (check_crc) */
    ossr__copy(c->st->etag, sizeof c->st->etag, w->etag, strlen(w->etag));
    return OSSR_OK;
}

/* ---- multipart calls: each builds its request in the lane's w->req, and a second
   function reads its result ---- */
OSSR__PRIVATE void ossr__req_initiate(ossr__ctx *c, ossr__worker *w) {
    ossr__req *q = &w->req;
    ossr__req_init(q, "POST", "InitiateMultipartUpload");
    q->fresh_conn = 1;     /* never lose its reply to a stale connection: a second Initiate leaves an orphan */
    ossr__req_query(q, "uploads", "");
    if (c->o->sequential) ossr__req_query(q, "sequential", "");
    ossr__object_headers(c, q);
}
/* The upload id of an Initiate reply, into c->upload_id. */
OSSR__PRIVATE ossr_result ossr__initiate_result(ossr__ctx *c, ossr__worker *w, ossr_result r) {
    ossr_slice root;
    int x;
    size_t i;
    if (r != OSSR_OK) return r;
    /* only a complete document counts: a reply cut short is refused, never half-read */
    x = w->body_truncated ? -1 : ossr__xml_root(w->body, w->body_len, "InitiateMultipartUploadResult", &root);
    if (x == 1) x = ossr_xml_text(root.ptr, root.len, "UploadId", c->upload_id, sizeof c->upload_id);
    for (i = 0; x > 0 && c->upload_id[i]; i++)
        if ((unsigned char)c->upload_id[i] <= 0x20 || (unsigned char)c->upload_id[i] >= 0x7f) x = -1;
    if (x <= 0 || !c->upload_id[0] || strlen(c->upload_id) >= 127) {
        c->upload_id[0] = 0;
        return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "InitiateMultipartUpload reply has no usable UploadId");
    }
    return OSSR_OK;
}
/* AbortMultipartUpload of upload_id (one of the context's: it outlives the request). */
OSSR__PRIVATE void ossr__req_abort(ossr__ctx *c, ossr__worker *w, const char *upload_id) {
    ossr__req *q = &w->req;
    ossr__req_init(q, "DELETE", "AbortMultipartUpload");
    ossr__req_query(q, "uploadId", upload_id);
    ossr__req_user_headers(q, c->o, ossr__hdr_payer);
}
OSSR__PRIVATE OSSR__NOINLINE ossr_result ossr__abort_call(ossr__ctx *c, ossr__worker *w, const char *upload_id) {
    ossr__req_abort(c, w, upload_id);
    return ossr__http(w, &w->req);
}
/* Frees an upload of ours; one already gone counts as aborted. */
OSSR__PRIVATE ossr_result ossr__abort_result(ossr__worker *w, ossr_result r) {
    return ossr__is_code(w, r, "NoSuchUpload") ? OSSR_OK : r;
}
OSSR__PRIVATE ossr_result ossr__abort(ossr__ctx *c, ossr__worker *w, const char *upload_id) {
    return ossr__abort_result(w, ossr__abort_call(c, w, upload_id));
}
/* HeadObject: the object's length, CRC-64 and ETag land in w (has_length, has_crc, etag). */
OSSR__PRIVATE void ossr__req_head(ossr__ctx *c, ossr__worker *w) {
    ossr__req_init(&w->req, "HEAD", "HeadObject");
    ossr__req_user_headers(&w->req, c->o, ossr__hdr_payer);
}
/* The HEAD of the object, for a Complete that may have happened: 1 when the object has
   exactly the file's size and the expected CRC-64, 0 when it is absent or different, -1
   when the HEAD itself failed (w->err says why): then nobody knows, and nothing may be
   thrown away. */
OSSR__PRIVATE int ossr__check_result(ossr__ctx *c, ossr__worker *w, ossr_result r, uint64_t crc) {
    if (r != OSSR_OK) return r == OSSR_E_SERVER && w->err.http_status == 404 ? 0 : -1;
    if (w->has_length && w->content_length == c->fid.size && w->has_crc && w->crc == crc) {
        ossr__copy(c->st->etag, sizeof c->st->etag, w->etag, strlen(w->etag));
        return 1;
    }
    return 0;
}
/* The same check when a resume finds that Complete was sent before: a HEAD refused with
   403 (an identity that may upload but not read) would refuse every later run too, so
   the upload's parts on the server decide instead (0), as when the object is absent. */
OSSR__PRIVATE int ossr__resume_check(ossr__ctx *c, ossr__worker *w) {
    int m = ossr__check_result(c, w, c->mp_r, c->completing_crc);
    if (m >= 0 || c->mp_r != OSSR_E_SERVER || w->err.http_status != 403) return m;
    if (!c->head_refused)
        ossr__log(c, OSSR_LOG_WARN, "HeadObject answered HTTP 403, so the object cannot be checked: upload %s's "
                  "parts on the server decide", c->upload_id);
    c->head_refused = 1;
    return 0;
}
/* ETag of a part equals the MD5 of its bytes on OSS ("HEX", quotes optional). */
OSSR__PRIVATE int ossr__etag_is_md5(const char *etag, const unsigned char md5[16]) {
    size_t n = strlen(etag), i;
    if (n == 34 && etag[0] == '"' && etag[33] == '"') { etag++; n = 32; }
    if (n != 32) return 0;
    for (i = 0; i < 16; i++)
        if (ossr__lower((unsigned char)etag[2 * i]) != ossr__hex_lower[md5[i] >> 4] ||
            ossr__lower((unsigned char)etag[2 * i + 1]) != ossr__hex_lower[md5[i] & 15])
            return 0;
    return 1;
}
/* A listed part its slot does not vouch for: compared with the file once its page is
   parsed, since reading the file reuses io. */
typedef struct ossr__check {
    uint32_t idx;
    int by_crc;
    uint64_t crc;            /* the server's, when by_crc */
    char etag[48];
} ossr__check;
#define OSSR__CHECKS 16
/* ListParts, read as it streams, page by page (1,000 parts a page, whatever io holds). */
typedef struct ossr__listing {
    ossr__ctx *c;
    ossr__slots slots;
    ossr__check chk[OSSR__CHECKS];
    size_t nchk;
    uint64_t last_num;           /* the last <Part> taken */
    uint64_t next_marker;
    int truncated, has_next;
} ossr__listing;
/* One child of ListPartsResult. The server's list is the truth: a listed part is kept
   only when its size matches the plan and its CRC-64 (or, lacking one, its ETag)
   matches the local bytes, known from its checkpoint slot (whose ETag the server's
   replaces when they differ: a slot may hold an ETag the server never stored) or, for
   up to OSSR__CHECKS parts a page, compared with the file once the page is read. */
OSSR__PRIVATE int ossr__list_child(ossr__worker *w, void *user, const ossr_slice *name, const ossr_slice *x) {
    ossr__listing *l = (ossr__listing *)user;
    ossr__ctx *c = l->c;
    uint64_t num, size, scrc = 0;
    char etag[80];
    int has_crc, rs, re;
    uint32_t idx;
    ossr_checkpoint_part sl;
    if (!name) {   /* a new attempt */
        l->nchk = 0;
        l->last_num = l->next_marker = 0;
        l->truncated = l->has_next = 0;
        return 0;
    }
    if (ossr__slice_is(name, "IsTruncated")) {
        l->truncated = ossr__xml_true(x);
        return 0;
    }
    if (ossr__slice_is(name, "NextPartNumberMarker")) {
        l->has_next = ossr__xml_number(x->ptr, x->len, &l->next_marker) == 1;
        return 0;
    }
    if (!ossr__slice_is(name, "Part")) return 0;
    if (l->nchk == OSSR__CHECKS) return 1;   /* the checks are full: list again after them */
    rs = ossr__xml_u64(x->ptr, x->len, "PartNumber", &num);
    re = ossr__xml_u64(x->ptr, x->len, "Size", &size);
    has_crc = ossr__xml_u64(x->ptr, x->len, "HashCrc64ecma", &scrc);
    if (rs != 1 || re != 1 || has_crc < 0 || ossr_xml_text(x->ptr, x->len, "ETag", etag, sizeof etag) != 1)
        return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "ListParts reply has a malformed <Part>");
    l->last_num = num;
    if (num > c->max_listed && num <= OSSR__MAX_PARTS) c->max_listed = (uint32_t)num;
    if (num == 0 || num > c->part_count) return 0;
    idx = (uint32_t)num - 1;
    if (ossr__is_done(c, idx)) return 0;
    if (size != ossr__part_len(c, idx) || !etag[0] || strlen(etag) >= sizeof l->chk[0].etag) {
        ossr__log(c, OSSR_LOG_INFO, "part %u on the server has %llu bytes, %llu planned: sending it again",
                  idx + 1, (unsigned long long)size, (unsigned long long)ossr__part_len(c, idx));
        return 0;
    }
    if (!c->verify_all && ossr__slot_get(c, &l->slots, idx, &sl) &&
        (has_crc == 1 ? sl.crc64 == scrc : sl.etag[0] && strcmp(sl.etag, etag) == 0)) {
        if (strcmp(sl.etag, etag) != 0) {
            ossr__log(c, OSSR_LOG_WARN, "part %u: the server lists ETag %s, the checkpoint held %s; "
                      "keeping the server's", idx + 1, etag, sl.etag[0] ? sl.etag : "none");
            l->slots.n = 0;   /* the batch read no longer says what the record holds */
            if (ossr__ckpt_write_slot(c, idx + 1, sl.size, sl.crc64, etag, 0) != 0)
                return ossr__fail(w, OSSR_E_CHECKPOINT, errno, "cannot record part %u in the checkpoint %s: %s",
                                  idx + 1, c->ckpt_path, strerror(errno));
        }
        ossr__mark_done(c, idx, sl.crc64);
        c->st->parts_reused++;
        return 0;
    }
    l->chk[l->nchk].idx = idx;
    l->chk[l->nchk].by_crc = has_crc == 1;
    l->chk[l->nchk].crc = scrc;
    memcpy(l->chk[l->nchk].etag, etag, strlen(etag) + 1);
    l->nchk++;
    return 0;
}
/* One page of ListParts, after c->marker. */
OSSR__PRIVATE void ossr__req_list(ossr__ctx *c, ossr__worker *w) {
    ossr__req *q = &w->req;
    ossr__req_init(q, "GET", "ListParts");
    ossr__req_query(q, "uploadId", c->upload_id);
    ossr__req_query(q, "max-parts", "1000");
    ossr__req_query(q, "part-number-marker", c->marker);
    ossr__req_user_headers(q, c->o, ossr__hdr_payer);
    q->root = "ListPartsResult";
    q->on_child = ossr__list_child;
    q->child_user = c->list;
}
/* A page read: the parts no slot vouched for are compared with the file (io is free
   again) and recorded; *more says whether another page follows (c->marker then says
   where). */
OSSR__PRIVATE ossr_result ossr__list_result(ossr__ctx *c, ossr__worker *w, ossr_result r, int *more) {
    ossr__listing *l = c->list;
    size_t k;
    uint64_t next_v, marker_v = 0;
    *more = 0;
    if (r != OSSR_OK) return r;
    *more = l->truncated;
    next_v = l->next_marker;
    if (*more && (!l->has_next || ossr__parse_u64(c->marker, strlen(c->marker), &marker_v) != 0 || next_v <= marker_v ||
                  next_v > OSSR__MAX_PARTS))
        return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "ListParts reply is truncated but its NextPartNumberMarker does not advance");
    if (l->nchk == OSSR__CHECKS) {   /* the checks are full: list again after the last one taken */
        *more = 1;
        next_v = l->last_num;
    }
    for (k = 0; k < l->nchk; k++) {
        ossr__check *h = &l->chk[k];
        uint64_t lcrc;
        unsigned char md5[16];
        r = ossr__file_sums(c, w, (uint64_t)h->idx * c->part_size, ossr__part_len(c, h->idx), &lcrc,
                            h->by_crc ? NULL : md5);
        if (r != OSSR_OK) return r;
        if (!(h->by_crc ? lcrc == h->crc : ossr__etag_is_md5(h->etag, md5))) {
            ossr__log(c, OSSR_LOG_WARN, "part %u on the server does not match the file: sending it again", h->idx + 1);
            continue;
        }
        if (ossr__ckpt_write_slot(c, h->idx + 1, ossr__part_len(c, h->idx), lcrc, h->etag, 0) != 0)
            return ossr__fail(w, OSSR_E_CHECKPOINT, errno, "cannot record part %u in the checkpoint %s: %s",
                              h->idx + 1, c->ckpt_path, strerror(errno));
        ossr__mark_done(c, h->idx, lcrc);
        c->st->parts_reused++;
    }
    l->slots.n = 0;
    if (*more) ossr__say(c->marker, sizeof c->marker, "%llu", (unsigned long long)next_v);
    return OSSR_OK;
}
/* UploadPart of part idx: its CRC-64 comes back in req.body_crc, its ETag in w->etag. */
OSSR__PRIVATE void ossr__req_part(ossr__ctx *c, ossr__worker *w, uint32_t idx) {
    ossr__req *q = &w->req;
    ossr__say(w->num, sizeof w->num, "%u", idx + 1);
    ossr__req_init(q, "PUT", "UploadPart");
    ossr__req_query(q, "partNumber", w->num);
    ossr__req_query(q, "uploadId", c->upload_id);
    ossr__req_user_headers(q, c->o, ossr__hdr_part);
    q->body_kind = OSSR__BODY_FILE;
    q->file_off = (uint64_t)idx * c->part_size;
    q->body_len = ossr__part_len(c, idx);
    q->progress = 1;
    q->check_crc = 1;
    q->want_md5 = c->o->content_md5;
    q->part_number = idx + 1;
}
/* GetObject into the temporary file, only from the object the HEAD named (If-Match its
   ETag): of range idx at its place (ranged), with OSS's standard range behaviour (a
   range past the end is an error, never the whole object); else of the whole object. */
OSSR__PRIVATE void ossr__req_get(ossr__ctx *c, ossr__worker *w, uint32_t idx, int ranged) {
    ossr__req *q = &w->req;
    uint64_t off = ranged ? (uint64_t)idx * c->part_size : 0, len = ranged ? ossr__part_len(c, idx) : c->fid.size;
    ossr__req_init(q, "GET", "GetObject");
    if (ranged) {
        ossr__say(w->num, sizeof w->num, "bytes=%llu-%llu", (unsigned long long)off, (unsigned long long)(off + len - 1));
        ossr__req_header(q, "Range", w->num);
        ossr__req_header(q, "x-oss-range-behavior", "standard");
    }
    if (c->dl_etag[0]) ossr__req_header(q, "If-Match", c->dl_etag);
    ossr__req_user_headers(q, c->o, ossr__hdr_payer);
    q->sink = OSSR__SINK_FILE;
    q->out_off = off;
    q->range_len = len;
    q->ranged = ranged;
    q->progress = 1;
    q->part_number = ranged ? idx + 1 : 0;
}
/* Under the lock: takes the lane's finished part (its slot written, the part marked
   done, or the upload stopped on its failure), then gives it the next pending part in
   ascending order. 1 when the lane has a part to send (ossr__part_start, outside the
   lock); *sync when the slots are due a sync (ossr__ckpt_sync, outside the lock). */
OSSR__PRIVATE int ossr__part_lane(ossr__ctx *c, ossr__worker *w, int *sync) {
    if (w->busy) {
        uint32_t idx = w->part_idx;
        ossr_result r = w->rq_result;
        uint64_t crc = c->dl ? w->req.out_crc : w->req.body_crc;   /* a range's bytes, or a part's */
        w->busy = 0;
        if (r == OSSR_OK && !c->dl && (!w->etag[0] || strlen(w->etag) > 47))
            r = ossr__fail(w, OSSR_E_BAD_REPLY, 0, "UploadPart reply for part %u has no usable ETag (1-47 bytes)", idx + 1);
        if (r == OSSR_OK && ossr__ckpt_write_slot(c, idx + 1, ossr__part_len(c, idx), crc, c->dl ? NULL : w->etag, 0) != 0)
            r = ossr__fail(w, OSSR_E_CHECKPOINT, errno, "cannot record part %u in the checkpoint %s: %s", idx + 1,
                           c->ckpt_path, strerror(errno));
        if (r == OSSR_OK) {
            ossr__mark_done(c, idx, crc);
            w->parts_uploaded++;
            if (ossr__ckpt_sync_due(c)) *sync = 1;
        } else {
            if (c->cancelled) r = OSSR_E_CANCELLED;
            ossr__set_error(c, w, r);
            c->stop = 1;
        }
    }
    if (!c->stop && ossr__cancel_requested(c->o)) c->stop = c->cancelled = 1;
    while (c->next_part < c->part_count && ossr__is_done(c, c->next_part)) c->next_part++;
    if (c->stop || c->next_part >= c->part_count) return 0;
    w->part_idx = c->next_part++;   /* parts below next_part are taken: no other lane sends it */
    w->busy = 1;
    return 1;
}
/* Whether the lane's request is on its way. */
OSSR__PRIVATE int ossr__rq_active(const ossr__worker *w) {
    return w->rq_state == OSSR__RQ_RUN || w->rq_state == OSSR__RQ_BACKOFF;
}
/* The lane starts sending the part it was given. */
OSSR__PRIVATE void ossr__part_start(ossr__ctx *c, ossr__worker *w) {
    if (c->dl) ossr__req_get(c, w, w->part_idx, 1);
    else ossr__req_part(c, w, w->part_idx);
    ossr__rq_start(w, &w->req);
}
/* The Complete body, produced piece by piece into the send buffer (never held whole):
   <CompleteMultipartUpload><Part><PartNumber>N</PartNumber><ETag>"..."</ETag></Part>...</CompleteMultipartUpload> */
typedef struct ossr__complete_gen {
    ossr__ctx *c;
    int64_t idx;             /* -1: the opening tag; part_count: the closing tag */
    char elem[200];
    size_t elen, epos;
    ossr__slots slots;       /* the ETags come from the parts' checkpoint slots */
    ossr__err saved;         /* a NoSuchUpload's detail, while HEAD looks for the object */
} ossr__complete_gen;
/* One piece of the body; 0 when a part's slot cannot be read. */
OSSR__PRIVATE size_t ossr__complete_elem(ossr__ctx *c, ossr__slots *sl, int64_t idx, char *out, size_t cap) {
    ossr__sb b;
    ossr_checkpoint_part p;
    ossr__sb_init(&b, out, cap);
    if (idx < 0) ossr__sb_puts(&b, "<CompleteMultipartUpload>");
    else if (idx >= (int64_t)c->part_count) ossr__sb_puts(&b, "</CompleteMultipartUpload>");
    else if (!ossr__slot_get(c, sl, (uint32_t)idx, &p) || !p.etag[0]) return 0;
    else {
        const char *e = p.etag;
        int quoted = e[0] == '"';
        ossr__sb_puts(&b, "<Part><PartNumber>");
        ossr__sb_u64(&b, (uint64_t)idx + 1);
        ossr__sb_puts(&b, "</PartNumber><ETag>");
        if (!quoted) ossr__sb_putc(&b, '"');
        for (; *e; e++) {
            if (*e == '&') ossr__sb_puts(&b, "&amp;");
            else if (*e == '<') ossr__sb_puts(&b, "&lt;");
            else if (*e == '>') ossr__sb_puts(&b, "&gt;");
            else ossr__sb_putc(&b, *e);
        }
        if (!quoted) ossr__sb_putc(&b, '"');
        ossr__sb_puts(&b, "</ETag></Part>");
    }
    return b.len;
}
OSSR__PRIVATE size_t ossr__complete_gen_fn(void *user, char *buf, size_t cap, int restart) {
    ossr__complete_gen *g = (ossr__complete_gen *)user;
    size_t filled = 0;
    if (restart) { g->idx = -2; g->elen = g->epos = 0; return 0; }
    while (filled < cap) {
        size_t n;
        if (g->epos == g->elen) {
            if (g->idx >= (int64_t)g->c->part_count) break;
            g->idx++;
            g->elen = ossr__complete_elem(g->c, &g->slots, g->idx, g->elem, sizeof g->elem);
            g->epos = 0;
        }
        n = g->elen - g->epos < cap - filled ? g->elen - g->epos : cap - filled;
        memcpy(buf + filled, g->elem + g->epos, n);
        g->epos += n;
        filled += n;
    }
    return filled;
}
/* CompleteMultipartUpload, its body generated from the parts' slots; every slot is read
   once first, for the length and to be sure none was lost. */
OSSR__PRIVATE ossr_result ossr__req_complete(ossr__ctx *c, ossr__worker *w) {
    ossr__req *q = &w->req;
    ossr__complete_gen *g = c->gen;
    int64_t i;
    ossr__req_init(q, "POST", "CompleteMultipartUpload");
    ossr__req_query(q, "uploadId", c->upload_id);
    ossr__req_user_headers(q, c->o, ossr__hdr_complete);
    q->body_kind = OSSR__BODY_GEN;
    memset(g, 0, sizeof *g);
    for (i = -1; i <= (int64_t)c->part_count; i++) {   /* the length, and every slot readable */
        size_t n = ossr__complete_elem(c, &g->slots, i, g->elem, sizeof g->elem);
        if (n == 0)
            return ossr__fail(w, OSSR_E_CHECKPOINT, 0, "the checkpoint %s lost part %u's ETag; the next call "
                              "finds the part with ListParts", c->ckpt_path, (unsigned)i + 1);
        q->body_len += n;
    }
    memset(g, 0, sizeof *g);
    g->c = c;
    q->gen = ossr__complete_gen_fn;
    q->gen_user = g;
    return OSSR_OK;
}
/* A Complete that went through: its CRC-64 must be the file's, and its ETag is the
   object's. */
OSSR__PRIVATE ossr_result ossr__complete_result(ossr__ctx *c, ossr__worker *w) {
    if (w->has_crc && w->crc != c->whole)
        return ossr__fail(w, OSSR_E_CRC, 0, "the completed object's CRC-64 is %llu, the file's is %llu",
                          (unsigned long long)w->crc, (unsigned long long)c->whole);
    c->st->crc64_verified = w->has_crc;
    if (w->etag[0]) ossr__copy(c->st->etag, sizeof c->st->etag, w->etag, strlen(w->etag));
    else {
        ossr_slice root;
        if (ossr__xml_root(w->body, w->body_len, "CompleteMultipartUploadResult", &root) == 1)
            ossr_xml_text(root.ptr, root.len, "ETag", c->st->etag, sizeof c->st->etag);
    }
    return OSSR_OK;
}
OSSR__PRIVATE OSSR__NOINLINE void ossr__clear_error(ossr_status *st) {
    st->result = OSSR_OK;
    st->http_status = st->os_error = st->tls_error = 0;
    st->part_number = 0;
    st->code[0] = st->message[0] = st->request_id[0] = st->host_id[0] = 0;
    st->ec[0] = st->server_time[0] = st->detail[0] = 0;
}
/* The content fingerprint for resume_by_content: CRC-64 of the first and of the last
   MiB (the whole file when smaller), so that a board without a clock still tells its
   file from a new one without reading it all. */
#define OSSR__FINGERPRINT_WINDOW (1024u * 1024u)
OSSR__PRIVATE ossr_result ossr__fingerprint(ossr__ctx *c, ossr__worker *w) {
    uint64_t win = c->fid.size < OSSR__FINGERPRINT_WINDOW ? c->fid.size : OSSR__FINGERPRINT_WINDOW;
    ossr_result r = ossr__file_sums(c, w, 0, win, &c->head_crc, NULL);
    return r != OSSR_OK ? r : ossr__file_sums(c, w, c->fid.size - win, win, &c->tail_crc, NULL);
}
/* Parts not yet on the server; *done_bytes (if given) gets the bytes of those that are. */
OSSR__PRIVATE uint32_t ossr__pending(const ossr__ctx *c, uint64_t *done_bytes) {
    uint32_t k, n = 0;
    uint64_t done = 0;
    for (k = 0; k < c->part_count; k++) {
        if (ossr__is_done(c, k)) done += ossr__part_len(c, k);
        else n++;
    }
    if (done_bytes) *done_bytes = done;
    return n;
}
/* ---- the multipart flow: find or start the upload, send what is missing, complete ----
   One state after another (ossr__mp_step); a state that needs a request builds it in
   lane 0 and names the state that takes its result. Parts go out on every lane. */
enum {
    OSSR__MP_PREPARE = 0,      /* plan, bitmap, checkpoint path and lock, fingerprint */
    OSSR__MP_RESTART,          /* read the record: resume, start over, or abort what it names */
    OSSR__MP_OLD_ABORTED,      /* a damaged or stale record's upload was aborted */
    OSSR__MP_CHECKED,          /* a sent Complete: the object's HEAD */
    OSSR__MP_LIST,             /* ListParts, page by page */
    OSSR__MP_LISTED,
    OSSR__MP_LISTED_ALL,
    OSSR__MP_AWAIT,            /* a Complete may still be running: wait, HEAD again */
    OSSR__MP_AWAIT_CHECKED,
    OSSR__MP_RESOLVE,          /* what the record, the HEAD and the listing add up to */
    OSSR__MP_SEQ_ABORTED,      /* a sequential upload with a gap was aborted */
    OSSR__MP_FRESH,            /* a new upload */
    OSSR__MP_INITIATED,
    OSSR__MP_ORPHAN_ABORTED,   /* its record could not be written: the new upload was aborted */
    OSSR__MP_START_PARTS,
    OSSR__MP_PARTS,            /* every lane sends parts */
    OSSR__MP_PARTS_DONE,
    OSSR__MP_COMPLETED,
    OSSR__MP_COMPLETE_CHECKED, /* Complete said NoSuchUpload: the object's HEAD */
    OSSR__MP_COMPLETE_VERDICT,
    OSSR__MP_PUT,              /* a file below the threshold: one PutObject */
    OSSR__MP_PUT_DONE,
    OSSR__MP_GET,              /* a download: the object's HEAD */
    OSSR__MP_DL_HEADED,        /* one GET, or ranges */
    OSSR__MP_DL_RESTART,       /* ranges: the record says which are in the temporary file */
    OSSR__MP_GET_ONE,          /* below the threshold: one GetObject into the temporary file */
    OSSR__MP_GOT,
    OSSR__MP_CALL,             /* lane 0's request is on its way */
    OSSR__MP_DONE
};
/* Lane 0 sends the request built in its w->req; state then takes the result (c->mp_r). */
OSSR__PRIVATE OSSR__NOINLINE int ossr__mp_call(ossr__ctx *c, ossr__worker *w, int then) {
    ossr__rq_start(w, &w->req);
    c->mp = OSSR__MP_CALL;
    c->mp_then = then;
    return OSSR__WAIT;
}
/* The upload ends with r. */
OSSR__PRIVATE OSSR__NOINLINE int ossr__mp_end(ossr__ctx *c, ossr_result r) {
    c->mp = OSSR__MP_DONE;
    c->mp_result = r;
    return OSSR__READY;
}
/* The upload is cancelled, with the checkpoint kept. */
OSSR__PRIVATE int ossr__mp_cancelled(ossr__ctx *c) {
    c->st->result = c->first_error = OSSR_E_CANCELLED;
    ossr__say(c->st->detail, sizeof c->st->detail, "cancelled; the checkpoint is kept and the next call resumes");
    return ossr__mp_end(c, OSSR_E_CANCELLED);
}
/* Fails with w's error. */
OSSR__PRIVATE int ossr__mp_fail(ossr__ctx *c, ossr__worker *w, ossr_result r) {
    ossr__set_error(c, w, r);
    return ossr__mp_end(c, r);
}
/* The plan (parts, or a download's ranges), the part bitmap, the checkpoint's path and
   lock: what a multipart upload and a download in ranges share. The bitmap, path and
   lock stay for a download that starts over. */
OSSR__PRIVATE ossr_result ossr__mp_plan(ossr__ctx *c) {
    ossr_status *st = c->st;
    ossr_result r = ossr_plan_parts(c->fid.size, c->o->part_size, &c->part_size, &c->part_count, st->detail,
                                    sizeof st->detail);
    if (r != OSSR_OK) { st->result = r; return r; }
    st->multipart = 1;
    st->parts_total = c->part_count;
    if (c->done) return OSSR_OK;
    c->done = (unsigned char *)ossr__heap_get(&c->heap, ossr__flow_heap());   /* one block: bitmap, listing, Complete */
    if (!c->done) return ossr__setup_fail(c, OSSR_E_NOMEM, "no memory for the part bitmap");
    c->list = (ossr__listing *)(void *)(c->done + OSSR__ROUND16(OSSR__DONE_BYTES));
    c->gen = (ossr__complete_gen *)(void *)((char *)c->list + OSSR__ROUND16(sizeof(ossr__listing)));
    return ossr__ckpt_claim(c);
}
/* The first states: the plan, bitmap, checkpoint path and lock, and for
   resume_by_content the file's fingerprint. */
OSSR__PRIVATE int ossr__mp_prepare(ossr__ctx *c, ossr__worker *w) {
    ossr_result r = ossr__mp_plan(c);
    if (r != OSSR_OK) return ossr__mp_end(c, r);
    /* Without a modification time that changes with the content, a part on the server
       is only as good as a fresh comparison with the file: a fingerprint of the first
       and last MiB misses a change in between. */
    c->verify_all = c->o->resume_by_content || (c->fid.mtime_sec == 0 && c->fid.mtime_nsec == 0);
    if (c->o->resume_by_content && (r = ossr__fingerprint(c, w)) != OSSR_OK) return ossr__mp_fail(c, w, r);
    c->mp = OSSR__MP_RESTART;
    return OSSR__READY;
}
/* What an attempt of the flow starts from (an upload's or a download's, again after a
   start over): no part done or taken, no error, and the checkpoint read anew. Returns
   what the record says (OSSR__CKPT_*). */
OSSR__PRIVATE int ossr__flow_reset(ossr__ctx *c, ossr__worker *ws, int nw_max) {
    int i;
    for (i = 0; i < nw_max; i++) ws[i].parts_uploaded = 0;   /* parts_uploaded: the attempt that ends the call */
    memset(c->done, 0, OSSR__DONE_BYTES);
    c->crc_acc = 0;
    c->next_part = 0;
    c->max_listed = 0;
    c->stop = 0;
    c->first_error = OSSR_OK;
    c->upload_id[0] = 0;
    c->st->parts_reused = 0;
    c->mp_m = 0;
    return ossr__ckpt_load(c, c->old_id, c->reason, sizeof c->reason, &c->completing, &c->completing_crc);
}
/* From the start (again): what the checkpoint record says decides. */
OSSR__PRIVATE int ossr__mp_restart(ossr__ctx *c, ossr__worker *ws, int nw_max) {
    ossr__worker *w = &ws[0];
    ossr_status *st = c->st;
    int ck = ossr__flow_reset(c, ws, nw_max);
    c->mp = OSSR__MP_FRESH;
    if (ck == OSSR__CKPT_UNREADABLE) return ossr__mp_end(c, ossr__ckpt_unread(c));   /* no request: the record stays */
    if (ck == OSSR__CKPT_DAMAGED && c->old_id[0]) {   /* its id block survived: free the old upload */
        ossr__log(c, OSSR_LOG_WARN, "checkpoint %s: %s; aborting its upload %s and starting over", c->ckpt_path,
                  c->reason, c->old_id);
        ossr__req_abort(c, w, c->old_id);
        return ossr__mp_call(c, w, OSSR__MP_OLD_ABORTED);
    } else if (ck == OSSR__CKPT_DAMAGED) {
        ossr__log(c, OSSR_LOG_WARN, "checkpoint %s: %s, and names no upload; starting over", c->ckpt_path, c->reason);
        ossr__ckpt_remove(c);
    } else if (ck == OSSR__CKPT_STALE) {
        ossr__log(c, OSSR_LOG_WARN, "checkpoint %s is stale: %s; aborting its upload %s and starting over",
                  c->ckpt_path, c->reason, c->old_id);
        ossr__req_abort(c, w, c->old_id);
        return ossr__mp_call(c, w, OSSR__MP_OLD_ABORTED);
    } else if (ck == OSSR__CKPT_MATCH) {
        ossr__log(c, OSSR_LOG_INFO, "resuming upload %s from %s", c->upload_id, c->ckpt_path);
        st->resumed = 1;
        ossr__copy(st->upload_id, sizeof st->upload_id, c->upload_id, strlen(c->upload_id));
        /* Complete was sent before: the object may be in place already, or on its way
           (a server half-way through a Complete lists fewer parts, or none) */
        if (c->completing) {
            ossr__req_head(c, w);
            return ossr__mp_call(c, w, OSSR__MP_CHECKED);
        }
        c->mp = OSSR__MP_LIST;
    }
    return OSSR__READY;
}
/* After the record's parts are known: the object found in place or unknown, the upload
   gone, or parts to send. */
OSSR__PRIVATE int ossr__mp_resolve(ossr__ctx *c, ossr__worker *w) {
    ossr_status *st = c->st;
    ossr_result r = c->mp_r;
    uint32_t k;
    if (c->mp_m == 1) {
        ossr__log(c, OSSR_LOG_INFO, "upload %s was already completed; the object is in place with "
                  "the right size and CRC-64", c->upload_id);
        ossr__ckpt_remove(c);
        st->crc64 = c->completing_crc;
        st->crc64_verified = 1;
        return ossr__mp_end(c, OSSR_OK);
    }
    if (c->mp_m < 0) {   /* Complete was sent, the object unchecked: keep all */
        ossr__say(w->err.detail, sizeof w->err.detail, "upload %s may have been completed and "
                 "HeadObject could not check the object", c->upload_id);
        return ossr__mp_fail(c, w, w->err.result);
    }
    if (ossr__is_code(w, r, "NoSuchUpload")) {
        ossr__log(c, OSSR_LOG_WARN, "upload %s no longer exists on the server; starting over", c->upload_id);
        ossr__ckpt_remove(c);
        c->mp = OSSR__MP_FRESH;
        return OSSR__READY;
    }
    if (r != OSSR_OK) return ossr__mp_fail(c, w, r);
    if (c->o->sequential) {   /* a sequential upload cannot fill a gap below a stored part */
        for (k = 0; k < c->part_count && ossr__is_done(c, k); k++) {}
        if (k < c->part_count && k + 1 < c->max_listed) {
            ossr__log(c, OSSR_LOG_WARN, "sequential upload %s lacks part %u below part %u; aborting it and "
                      "starting over", c->upload_id, k + 1, c->max_listed);
            ossr__req_abort(c, w, c->upload_id);
            return ossr__mp_call(c, w, OSSR__MP_SEQ_ABORTED);
        }
    }
    c->mp = OSSR__MP_START_PARTS;
    return OSSR__READY;
}
/* Every lane that is free takes a pending part, and every finished part is taken in;
   OSSR__READY when no lane has a part on its way any more. */
OSSR__PRIVATE int ossr__mp_parts(ossr__ctx *c, ossr__worker *ws) {
    int i, busy = 0, sync = 0;
    ossr__lock(&c->lock);
    for (i = 0; i < c->nw; i++) {
        if (ws[i].busy && ossr__rq_active(&ws[i])) busy++;
        else if (ossr__part_lane(c, &ws[i], &sync)) busy++;
    }
    ossr__unlock(&c->lock);
    if (sync) ossr__ckpt_sync(c);
    for (i = 0; i < c->nw; i++)
        if (ws[i].busy && !ossr__rq_active(&ws[i])) ossr__part_start(c, &ws[i]);
    if (busy) return OSSR__WAIT;
    c->mp = OSSR__MP_PARTS_DONE;
    return OSSR__READY;
}
OSSR__PRIVATE int ossr__dl_parts_done(ossr__ctx *c, ossr__worker *w);
/* The parts are out (or the upload stopped): send Complete, unless something failed. */
OSSR__PRIVATE int ossr__mp_parts_done(ossr__ctx *c, ossr__worker *ws, int nw_max) {
    ossr__worker *w = &ws[0];
    ossr_status *st = c->st;
    ossr_result r;
    int i;
    st->parts_uploaded = 0;
    for (i = 0; i < nw_max; i++) st->parts_uploaded += ws[i].parts_uploaded;
    if (c->dl) return ossr__dl_parts_done(c, w);
    if (c->first_error != OSSR_OK) {
        if (c->first_error == OSSR_E_SERVER && !strcmp(st->code, "NoSuchUpload") && c->restarts++ == 0) {
            ossr__log(c, OSSR_LOG_WARN, "upload %s vanished from the server; starting over", c->upload_id);
            ossr__ckpt_remove(c);
            ossr__clear_error(st);
            c->mp = OSSR__MP_RESTART;
            return OSSR__READY;
        }
        return ossr__mp_end(c, c->first_error);
    }
    if (c->cancelled) return ossr__mp_cancelled(c);   /* a cancel on a part's last byte leaves no error, but parts unsent */
    if (!ossr__file_unchanged(c)) {
        st->result = OSSR_E_FILE_CHANGED;
        ossr__say(st->detail, sizeof st->detail, "%s changed while it was being uploaded; not completing "
                 "a mixed object (the next call starts over)", c->o->file_path);
        return ossr__mp_end(c, OSSR_E_FILE_CHANGED);
    }
    c->whole = c->crc_acc;
    if (ossr__ckpt_write_slot(c, OSSR_CKPT_COMPLETING, c->fid.size, c->whole, NULL, 1) != 0)
        ossr__log(c, OSSR_LOG_WARN, "cannot mark the checkpoint %s before completing: %s", c->ckpt_path,
                  strerror(errno));   /* only a lost reply to Complete would need the mark */
    if ((r = ossr__req_complete(c, w)) != OSSR_OK) {
        c->mp_r = r;
        c->mp = OSSR__MP_COMPLETE_VERDICT;
        return OSSR__READY;
    }
    return ossr__mp_call(c, w, OSSR__MP_COMPLETED);
}
/* What Complete came to. */
OSSR__PRIVATE int ossr__mp_complete_verdict(ossr__ctx *c, ossr__worker *w) {
    ossr_result r = c->mp_r;
    if (r == OSSR_OK) {
        ossr__ckpt_remove(c);
        c->st->crc64 = c->whole;
        return ossr__mp_end(c, OSSR_OK);
    }
    if ((ossr__is_code(w, r, "InvalidPart") || ossr__is_code(w, r, "InvalidPartOrder")) && !c->reconciled) {
        /* a part's recorded ETag is not the one the server stored (a proxy, a flipped
           bit in a header): the server's list is the truth; list, re-send what
           disagrees, complete again */
        c->reconciled = c->waited = 1;   /* no object to wait for: the server refused it */
        ossr__log(c, OSSR_LOG_WARN, "CompleteMultipartUpload refused the part list (%s); checking every "
                  "part with ListParts", w->err.code);
        c->mp = OSSR__MP_RESTART;
        return OSSR__READY;
    }
    if (ossr__is_code(w, r, "NoSuchUpload") && c->restarts++ == 0) {
        ossr__log(c, OSSR_LOG_WARN, "upload %s vanished before it was completed; starting over", c->upload_id);
        ossr__ckpt_remove(c);
        c->mp = OSSR__MP_RESTART;
        return OSSR__READY;
    }
    ossr__set_error(c, w, r);
    if (r == OSSR_E_CRC) ossr__ckpt_remove(c);   /* the upload id is spent */
    return ossr__mp_end(c, r);
}
/* ---- a download in ranges: oss2's resumable_download, and its checkpoint ----
   The object's HEAD names what is fetched (ETag, size, Last-Modified, CRC-64). Below the
   threshold one GET; else ranges of the planned size on every lane, each written to the
   temporary file at its place and recorded with its CRC-64 in its slot. The object is
   whole when the ranges' CRC-64s, folded, are the server's; then it is renamed over
   the target. */
/* Opens the sink for the object (fresh: what it holds may go); again after a start over,
   and for an in_order sink before it is written again below its mark (ossr__deliver). */
OSSR__PRIVATE ossr_result ossr__dl_open(ossr__ctx *c, ossr__worker *w, int fresh) {
    if (c->dl_open) c->sink.close(c->dl_h, OSSR_SINK_KEEP, c->sink.user);
    c->dl_open = 0;
    c->dl_mark = 0;
    if (c->sink.open(c->o->file_path, c->fid.size, fresh, &c->dl_h, c->sink.user) != 0)
        return ossr__sink_fail(w, "opening", c->abs_path);
    c->dl_open = 1;
    return OSSR_OK;
}
/* The object's HEAD names what is fetched: one GET below the threshold (or without an
   ETag to hold ranges to), else ranges. One GET claims the record too, since the
   temporary file is the same: a second download to the same file is OSSR_E_BUSY. */
OSSR__PRIVATE int ossr__dl_headed(ossr__ctx *c, ossr__worker *w) {
    ossr_result r = c->mp_r;
    if (r != OSSR_OK) return ossr__mp_fail(c, w, r);
    if (!w->has_length)
        return ossr__mp_fail(c, w, ossr__fail(w, OSSR_E_BAD_REPLY, 0, "HeadObject did not say how long the object "
                                               "is"));
    c->fid.size = w->content_length;
    c->dl_has_crc = w->has_crc;
    c->dl_crc = w->crc;
    c->dl_mtime = w->mtime;
    ossr__copy(c->dl_etag, sizeof c->dl_etag, w->etag, strlen(w->etag));
    c->dl = ossr__is_multipart(&c->f, c->fid.size) && w->etag[0];   /* no ETag: nothing to hold the ranges to */
    if (!c->dl) {
        unsigned char b;
        if ((r = ossr__ckpt_claim(c)) == OSSR_E_BUSY) return ossr__mp_end(c, r);
        if (r != OSSR_OK) {   /* no usable checkpoint directory: one GET needs none */
            ossr__log(c, OSSR_LOG_INFO, "downloading without a claim on the record: %s", c->st->detail);
            ossr__clear_error(c->st);
        } else if (ossr__store_load(c, 0, &b, 1) != 0) {
            ossr__ckpt_remove(c);   /* what a download in ranges of an earlier version left */
        }
        c->mp = OSSR__MP_GET_ONE;
        return OSSR__READY;
    }
    if ((r = ossr__mp_plan(c)) != OSSR_OK) return ossr__mp_end(c, r);
    c->mp = OSSR__MP_DL_RESTART;
    return OSSR__READY;
}
/* The ranges the record holds, read back from the temporary file: each one whose bytes
   still have its CRC-64 is done (a power cut can keep a slot and lose its bytes). */
OSSR__PRIVATE void ossr__dl_reuse(ossr__ctx *c, ossr__worker *w) {
    ossr__slots *sl = &c->list->slots;
    uint32_t idx;
    sl->first = sl->n = 0;
    for (idx = 0; idx < c->part_count; idx++) {
        ossr_checkpoint_part p;
        uint64_t crc = 0, off = (uint64_t)idx * c->part_size, left = ossr__part_len(c, idx);
        if (!ossr__slot_get(c, sl, idx, &p)) continue;
        while (left) {
            size_t n = left < c->f.buffer_size ? (size_t)left : c->f.buffer_size;
            if (c->sink.read_at(c->dl_h, w->io, n, off, c->sink.user) != 0) break;
            crc = ossr_crc64(crc, w->io, n);
            off += n;
            left -= n;
        }
        if (left || crc != p.crc64) {
            ossr__log(c, OSSR_LOG_WARN, "range %u in %s does not hold what its record says: fetching it again",
                      idx + 1, c->abs_path);
            continue;
        }
        ossr__mark_done(c, idx, crc);
        c->st->parts_reused++;
    }
}
/* From the start (again): the record resumes, or the temporary file and the record
   start over. */
OSSR__PRIVATE int ossr__dl_restart(ossr__ctx *c, ossr__worker *ws, int nw_max) {
    ossr__worker *w = &ws[0];
    ossr_result r;
    int ck = ossr__flow_reset(c, ws, nw_max);
    if (ck == OSSR__CKPT_UNREADABLE) return ossr__mp_end(c, ossr__ckpt_unread(c));
    if (ck != OSSR__CKPT_MATCH) ossr__ckpt_remove(c);
    if ((r = ossr__dl_open(c, w, ck != OSSR__CKPT_MATCH)) != OSSR_OK) return ossr__mp_fail(c, w, r);
    if (ck == OSSR__CKPT_MATCH) {
        ossr__dl_reuse(c, w);
        c->st->resumed = 1;
        ossr__log(c, OSSR_LOG_INFO, "resuming the download of oss://%s/%s from %s: %u of %u ranges in place",
                  c->o->bucket, c->o->key, c->ckpt_path, c->st->parts_reused, c->part_count);
    } else {
        if (ck != OSSR__CKPT_NONE)
            ossr__log(c, OSSR_LOG_WARN, "checkpoint %s: %s; starting the download over", c->ckpt_path, c->reason);
        if ((r = ossr__ckpt_create(c)) != OSSR_OK) return ossr__mp_end(c, r);
        ossr__log(c, OSSR_LOG_INFO, "downloading oss://%s/%s: %u ranges of %llu bytes", c->o->bucket, c->o->key,
                  c->part_count, (unsigned long long)c->part_size);
    }
    c->mp = OSSR__MP_START_PARTS;
    return OSSR__READY;
}
/* The download did not come whole: the object changed on the server (changed: that
   failure), or the bytes' CRC-64, sum, is not the object's. It starts over from the
   HEAD, twice at most; the record goes either way: two versions are never stitched
   together. */
OSSR__PRIVATE int ossr__dl_again(ossr__ctx *c, ossr__worker *w, ossr_result changed, uint64_t sum) {
    ossr__ckpt_remove(c);
    if (c->restarts >= 2)
        return changed != OSSR_OK ? ossr__mp_fail(c, w, changed)   /* the error is w's, or already recorded */
               : ossr__mp_fail(c, w, ossr__fail(w, OSSR_E_CRC, 0, "the downloaded bytes have CRC-64 %llu, the object "
                                                 "%llu, after fetching them three times; nothing was kept",
                                                 (unsigned long long)sum, (unsigned long long)c->dl_crc));
    c->restarts++;
    c->stop = 0;   /* the ranges' lanes have stopped: the HEAD and what follows may run, and retry */
    c->first_error = OSSR_OK;
    if (changed != OSSR_OK)
        ossr__log(c, OSSR_LOG_WARN, "oss://%s/%s changed on the server during the download; starting over",
                  c->o->bucket, c->o->key);
    else
        ossr__log(c, OSSR_LOG_WARN, "the downloaded bytes have CRC-64 %llu, the object %llu; fetching them again",
                  (unsigned long long)sum, (unsigned long long)c->dl_crc);
    ossr__clear_error(c->st);
    c->st->resumed = 0;
    c->mp = OSSR__MP_GET;
    return OSSR__READY;
}
/* The download is whole: its bytes and their CRC-64, sum, in the status. */
OSSR__PRIVATE int ossr__dl_whole(ossr__ctx *c, uint64_t sum) {
    ossr_status *st = c->st;
    st->crc64_verified = c->dl_has_crc;
    st->size = c->fid.size;
    st->crc64 = sum;
    ossr__copy(st->etag, sizeof st->etag, c->dl_etag, strlen(c->dl_etag));
    return ossr__mp_end(c, OSSR_OK);
}
/* The ranges are in, or the download stopped. The object changed on the server, or the
   folded CRC-64 is not the server's (a bit flipped on the way): the download starts
   over, twice at most, never stitching two versions together. */
OSSR__PRIVATE int ossr__dl_parts_done(ossr__ctx *c, ossr__worker *w) {
    int changed = c->first_error == OSSR_E_FILE_CHANGED;   /* another ETag, or If-Match refused */
    if (c->first_error != OSSR_OK && !(changed && !c->cancelled)) return ossr__mp_end(c, c->first_error);
    if (c->first_error == OSSR_OK && c->cancelled) return ossr__mp_cancelled(c);
    if (changed || (c->dl_has_crc && c->crc_acc != c->dl_crc))
        return ossr__dl_again(c, w, changed ? c->first_error : OSSR_OK, c->crc_acc);
    return ossr__dl_whole(c, c->crc_acc);
}
/* What the one GET below the threshold came to; a changed object or a CRC-64 that is
   not the object's starts over, as in ranges. */
OSSR__PRIVATE int ossr__dl_got(ossr__ctx *c, ossr__worker *w) {
    ossr_result r = c->mp_r;
    int changed = r == OSSR_E_FILE_CHANGED;
    uint64_t sum = w->req.out_crc;
    if (r != OSSR_OK && !changed) return ossr__mp_fail(c, w, r);
    if (!changed && !c->dl_has_crc && w->has_crc) { c->dl_has_crc = 1; c->dl_crc = w->crc; }   /* the HEAD gave none */
    if (changed || (c->dl_has_crc && sum != c->dl_crc)) return ossr__dl_again(c, w, r, sum);
    return ossr__dl_whole(c, sum);
}
#define OSSR__COMPLETE_WAIT_MS 15000
/* Advances the multipart flow as far as it goes without waiting: OSSR__WAIT (for the
   lanes' requests, or with none until c->wake_ms), or OSSR__READY when it has ended
   (c->mp_result). */
OSSR__PRIVATE OSSR__NOINLINE int ossr__mp_step(ossr__ctx *c, ossr__worker *ws, int nw_max, int64_t now) {
    ossr__worker *w = &ws[0];
    for (;;) {
        int k = OSSR__READY, more;
        ossr_result r;
        c->wake_ms = 0;
        switch (c->mp) {
        case OSSR__MP_CALL:
            if (w->rq_state != OSSR__RQ_DONE) return OSSR__WAIT;
            c->mp_r = w->rq_result;
            c->mp = c->mp_then;
            break;
        case OSSR__MP_PREPARE: k = ossr__mp_prepare(c, w); break;
        case OSSR__MP_RESTART: k = ossr__mp_restart(c, ws, nw_max); break;
        case OSSR__MP_OLD_ABORTED:
            if (ossr__abort_result(w, c->mp_r) != OSSR_OK)
                ossr__log(c, OSSR_LOG_WARN, "could not abort the old upload %s (%s); it stays billed until a "
                          "lifecycle rule removes it", c->old_id, w->err.detail);
            ossr__ckpt_remove(c);
            c->mp = OSSR__MP_FRESH;
            break;
        case OSSR__MP_CHECKED:
            c->mp_m = ossr__resume_check(c, w);
            c->mp = c->mp_m == 0 ? OSSR__MP_LIST : OSSR__MP_RESOLVE;
            break;
        case OSSR__MP_LIST:
            ossr__say(c->marker, sizeof c->marker, "0");
            memset(c->list, 0, sizeof *c->list);
            c->list->c = c;
            ossr__req_list(c, w);
            k = ossr__mp_call(c, w, OSSR__MP_LISTED);
            break;
        case OSSR__MP_LISTED:
            r = ossr__list_result(c, w, c->mp_r, &more);
            if (r == OSSR_OK && more) { ossr__req_list(c, w); k = ossr__mp_call(c, w, OSSR__MP_LISTED); break; }
            c->mp_r = r;
            c->mp = OSSR__MP_LISTED_ALL;
            break;
        case OSSR__MP_LISTED_ALL:
            c->mp = OSSR__MP_RESOLVE;
            if (c->completing && !c->waited && !c->head_refused &&   /* a wait HEADs the object */
                (ossr__is_code(w, c->mp_r, "NoSuchUpload") || (c->mp_r == OSSR_OK && ossr__pending(c, NULL)))) {
                c->waited = 1;
                ossr__log(c, OSSR_LOG_INFO, "upload %s: a Complete was sent before, and the server lists it as "
                          "unfinished; giving it up to %d s to finish", c->upload_id, OSSR__COMPLETE_WAIT_MS / 1000);
                c->await_ms = 0;
                c->await_step = 500;
                c->await_at = now + c->await_step;
                c->mp = OSSR__MP_AWAIT;
            }
            break;
        case OSSR__MP_AWAIT:   /* HEAD at 0.5, 1.5, 3.5, 7.5, 11.5 and 15.5 s */
            if (ossr__stopped(c, NULL)) return ossr__mp_cancelled(c);
            if (c->await_ms >= OSSR__COMPLETE_WAIT_MS) { c->mp = OSSR__MP_RESTART; break; }   /* that Complete failed or never ran: list again */
            if (now < c->await_at) { c->wake_ms = c->await_at; return OSSR__WAIT; }
            c->await_ms += c->await_step;
            ossr__req_head(c, w);
            k = ossr__mp_call(c, w, OSSR__MP_AWAIT_CHECKED);
            break;
        case OSSR__MP_AWAIT_CHECKED:
            c->mp_m = ossr__resume_check(c, w);
            if (c->mp_m != 0) { c->mp = OSSR__MP_RESOLVE; break; }
            c->await_step = c->await_step * 2 > 4000 ? 4000 : c->await_step * 2;
            c->await_at = now + c->await_step;
            c->mp = OSSR__MP_AWAIT;
            break;
        case OSSR__MP_RESOLVE: k = ossr__mp_resolve(c, w); break;
        case OSSR__MP_SEQ_ABORTED:
            if (ossr__abort_result(w, c->mp_r) != OSSR_OK)
                ossr__log(c, OSSR_LOG_WARN, "could not abort upload %s", c->upload_id);
            ossr__ckpt_remove(c);
            c->mp = OSSR__MP_FRESH;
            break;
        case OSSR__MP_FRESH:
            memset(c->done, 0, OSSR__DONE_BYTES);
            c->crc_acc = 0;
            c->st->parts_reused = 0;
            ossr__req_initiate(c, w);
            k = ossr__mp_call(c, w, OSSR__MP_INITIATED);
            break;
        case OSSR__MP_INITIATED:
            r = ossr__initiate_result(c, w, c->mp_r);
            if (r != OSSR_OK) return ossr__mp_fail(c, w, r);
            if ((c->mp_fail = ossr__ckpt_create(c)) != OSSR_OK) {
                ossr__req_abort(c, w, c->upload_id);
                k = ossr__mp_call(c, w, OSSR__MP_ORPHAN_ABORTED);
                break;
            }
            ossr__log(c, OSSR_LOG_INFO, "started upload %s: %u parts of %llu bytes", c->upload_id,
                      c->part_count, (unsigned long long)c->part_size);
            c->mp = OSSR__MP_START_PARTS;
            break;
        case OSSR__MP_ORPHAN_ABORTED:
            if (ossr__abort_result(w, c->mp_r) != OSSR_OK)
                ossr__log(c, OSSR_LOG_WARN, "could not abort upload %s", c->upload_id);
            return ossr__mp_end(c, c->mp_fail);
        case OSSR__MP_START_PARTS: {
            uint64_t done;
            uint32_t pending = ossr__pending(c, &done);
            ossr__copy(c->st->upload_id, sizeof c->st->upload_id, c->upload_id, strlen(c->upload_id));
            c->progress_done = done;
            c->progress_total = c->fid.size;
            if (c->o->progress && done && c->o->progress(done, c->fid.size, c->o->progress_user))
                c->stop = c->cancelled = 1;
            c->nw = (uint32_t)nw_max < pending ? nw_max : (pending > 0 ? (int)pending : 1);
            c->mp = pending && !c->stop ? OSSR__MP_PARTS : OSSR__MP_PARTS_DONE;
            break;
        }
        case OSSR__MP_PARTS: k = ossr__mp_parts(c, ws); break;
        case OSSR__MP_PARTS_DONE: k = ossr__mp_parts_done(c, ws, nw_max); break;
        case OSSR__MP_COMPLETED:
            if (ossr__is_code(w, c->mp_r, "NoSuchUpload")) {
                c->gen->saved = w->err;
                ossr__req_head(c, w);
                k = ossr__mp_call(c, w, OSSR__MP_COMPLETE_CHECKED);
                break;
            }
            if (c->mp_r == OSSR_OK) c->mp_r = ossr__complete_result(c, w);
            c->mp = OSSR__MP_COMPLETE_VERDICT;
            break;
        case OSSR__MP_COMPLETE_CHECKED:
            c->mp_m = ossr__check_result(c, w, c->mp_r, c->whole);
            if (c->mp_m == 1) {
                ossr__log(c, OSSR_LOG_WARN, "the reply to CompleteMultipartUpload was lost; the object is in "
                          "place with the right size and CRC-64");
                c->st->crc64_verified = 1;
                c->mp_r = OSSR_OK;
            } else if (c->mp_m < 0) {   /* keep the checkpoint: the next call asks again */
                ossr__say(w->err.detail, sizeof w->err.detail, "upload %s is gone (completed?) and HeadObject "
                         "could not check the object", c->upload_id);
                c->mp_r = w->err.result;
            } else {
                w->err = c->gen->saved;
                c->mp_r = OSSR_E_SERVER;
            }
            c->mp = OSSR__MP_COMPLETE_VERDICT;
            break;
        case OSSR__MP_COMPLETE_VERDICT: k = ossr__mp_complete_verdict(c, w); break;
        case OSSR__MP_PUT:
            ossr__req_put(c, w);
            k = ossr__mp_call(c, w, OSSR__MP_PUT_DONE);
            break;
        case OSSR__MP_PUT_DONE: return ossr__mp_end(c, ossr__put_result(c, w, c->mp_r));
        case OSSR__MP_GET:
            ossr__req_head(c, w);
            k = ossr__mp_call(c, w, OSSR__MP_DL_HEADED);
            break;
        case OSSR__MP_DL_HEADED: k = ossr__dl_headed(c, w); break;
        case OSSR__MP_DL_RESTART: k = ossr__dl_restart(c, ws, nw_max); break;
        case OSSR__MP_GET_ONE:
            if ((r = ossr__dl_open(c, w, 1)) != OSSR_OK) return ossr__mp_fail(c, w, r);
            ossr__req_get(c, w, 0, 0);
            c->progress_done = 0;   /* after ranges, or a GET, that started over */
            c->progress_total = c->fid.size;
            c->st->multipart = 0;
            c->st->parts_total = 0;
            k = ossr__mp_call(c, w, OSSR__MP_GOT);
            break;
        case OSSR__MP_GOT: k = ossr__dl_got(c, w); break;
        default:
            return OSSR__READY;
        }
        if (k == OSSR__WAIT) return k;
    }
}
/* What the multipart flow takes from the heap: the part bitmap, ListParts' and
   Complete's state. */
OSSR__PRIVATE size_t ossr__flow_heap(void) {
    return OSSR__ROUND16(OSSR__DONE_BYTES) + OSSR__ROUND16(sizeof(ossr__listing)) +
           OSSR__ROUND16(sizeof(ossr__complete_gen));
}
#ifndef OSSR_NO_THREADS
/* A thread's lane while the parts go out: it sends parts until none is left. */
OSSR__PRIVATE void ossr__part_worker(void *arg) {
    ossr__worker *w = (ossr__worker *)arg;
    ossr__ctx *c = w->ctx;
    if (w->busy) ossr__lane_run(w);   /* the part it was given before the threads began */
    for (;;) {
        int got, sync = 0;
        ossr__lock(&c->lock);
        got = ossr__part_lane(c, w, &sync);
        ossr__unlock(&c->lock);
        if (sync) ossr__ckpt_sync(c);
        if (!got) break;
        ossr__part_start(c, w);
        ossr__lane_run(w);
    }
}
#endif
/* Lets go of what a call on a file and its checkpoint holds: the record, its lock, the
   file; then what ossr__setup made. */
OSSR__PRIVATE void ossr__finish(ossr__ctx *c) {
#if OSSR__HAVE_FS
    ossr__file_close(c->ckpt_fd);
    c->ckpt_fd = OSSR__BAD_FH;
#endif
    ossr__ckpt_unlock(c);
    ossr__src_close(c);
    ossr__teardown(c);
}
/* >>session: an upload as steps, the lanes' I/O done by whoever drives it ------------- */
/* ListMultipartUploads, read as it streams: where the next page starts, and the caller's
   function for each upload. */
typedef struct ossr__uploads {
    ossr_upload_fn fn;
    void *user;
    int stopped, truncated;
    uint32_t handed, skip;       /* uploads of this page given to fn; on a retry, skipped again */
    char next_key[1024], next_id[128];   /* where the page after this one starts */
    char key_marker[1024], id_marker[128]; /* where this page starts */
    char key[1024], id[128], when[40];   /* the upload handed over */
} ossr__uploads;
struct ossr_session {
    ossr__ctx c;
    ossr_status st;              /* filled as it goes; the caller's copy at the end */
    ossr__worker *ws;            /* the lanes' state, one connection each */
    ossr_lane *lanes;            /* what each lane wants of its driver (ossr_session_lanes) */
    int nw;                      /* lanes */
    int job;                     /* OSSR__JOB_* */
    int ready;                   /* setup succeeded: the context holds what must be let go */
    int flowed;                  /* the upload is over (its connections may still be open) */
    int ended;
    int clocked;                 /* clock_base is set: the caller's clock at the first step, less 1 */
    int64_t clock_base;          /* the session runs on the caller's clock less it: from 1 up, as 0 means "none" */
};

/* The session's own memory: itself, its lanes' state and their public view. */
OSSR__PRIVATE size_t ossr__session_heap(size_t lanes) {
    return OSSR__ROUND16(sizeof(ossr_session)) + OSSR__ROUND16(sizeof(ossr__worker) * lanes) +
           OSSR__ROUND16(sizeof(ossr_lane) * lanes);
}
/* What a session is for: an upload (its flow from OSSR__MP_PREPARE or _PUT), a download
   (from OSSR__MP_GET), or a call that sends its own requests on lane 0 (a listing, an
   abort). */
enum { OSSR__JOB_UPLOAD = 0, OSSR__JOB_DOWNLOAD, OSSR__JOB_CALL };
/* Sets up the session's context and its lanes; for an upload, opens the file first. */
OSSR__PRIVATE ossr_result ossr__session_setup(ossr_session *s, const ossr_options *o, int job, unsigned need) {
    ossr__ctx *c = &s->c;
    ossr_result r;
    int multipart = 0, i;
    r = ossr__setup(c, &c->heap, o, &s->st, need);
    if (r != OSSR_OK) return r;
    s->ready = 1;
    s->nw = job != OSSR__JOB_DOWNLOAD || (o->sink && o->sink->in_order) ? 1 : c->f.lanes;   /* a download learns its size later */
    s->st.download = job == OSSR__JOB_DOWNLOAD;
    s->job = job;
    c->mp = job == OSSR__JOB_DOWNLOAD ? OSSR__MP_GET : OSSR__MP_DONE;
    if (job == OSSR__JOB_UPLOAD) {
        if (ossr__src_open(c) != 0) {
            s->st.os_error = errno;
            return ossr__setup_fail(c, OSSR_E_FILE, errno == EISDIR ? "%s is a directory: give a file" : errno == EINVAL
                                    ? "%s is not a regular file (a FIFO, socket or device): give a regular file" :
                                    "cannot read %s: %s", o->file_path, strerror(errno));
        }
        s->st.size = c->fid.size;
        multipart = ossr__is_multipart(&c->f, c->fid.size);
        if (!multipart && c->fid.size > OSSR__MAX_PART)
            return ossr__setup_fail(c, OSSR_E_LIMITS, "%s has %llu bytes, above the 5 GiB PutObject limit; lower "
                                    "the multipart threshold", o->file_path, (unsigned long long)c->fid.size);
        s->nw = multipart ? c->f.lanes : 1;
        c->mp = multipart ? OSSR__MP_PREPARE : OSSR__MP_PUT;
    }
    s->ws = (ossr__worker *)ossr__heap_get(&c->heap, ossr__session_heap(s->nw) - OSSR__ROUND16(sizeof *s));
    if (!s->ws) return ossr__setup_fail(c, OSSR_E_NOMEM, "no memory for workers");
    s->lanes = (ossr_lane *)(void *)((char *)s->ws + OSSR__ROUND16(sizeof(ossr__worker) * (size_t)s->nw));
    memset(s->ws, 0, sizeof(ossr__worker) * (size_t)s->nw);
    memset(s->lanes, 0, sizeof(ossr_lane) * (size_t)s->nw);
    for (i = 0; i < s->nw; i++)
        if (ossr__worker_init(&s->ws[i], c) != OSSR_OK) return ossr__setup_fail(c, OSSR_E_NOMEM, "no memory for worker buffers");
    c->scratch = (unsigned char *)s->ws[0].io;
    return OSSR_OK;
}
/* A download's sink at the session's end: a whole download is committed (the
   temporary file synced and renamed over the target), then its checkpoint goes;
   otherwise what a checkpoint can resume is kept and the rest dropped. */
OSSR__PRIVATE ossr_result ossr__download_end(ossr_session *s, ossr_result r) {
    ossr__ctx *c = &s->c;
    ossr__worker *w = &s->ws[0];
    int how = r == OSSR_OK ? OSSR_SINK_COMMIT : c->dl && c->ckpt_ok ? OSSR_SINK_KEEP : OSSR_SINK_DROP;
    c->dl_open = 0;
    if (c->sink.close(c->dl_h, how, c->sink.user) != 0 && r == OSSR_OK) {   /* the checkpoint stays: a rerun commits */
        r = ossr__sink_fail(w, "finishing the download to", c->o->file_path);
        ossr__set_error(c, w, r);
    }
    if (r == OSSR_OK && c->dl) ossr__ckpt_remove(c);   /* after the commit: a crash between costs a fetch, never a file */
    return r;
}
/* Lets go of everything the session holds but its own memory, and says how it went. */
OSSR__PRIVATE ossr_result ossr__session_end(ossr_session *s, ossr_result r, ossr_status *status) {
    ossr__ctx *c = &s->c;
    int i;
    if (c->dl_open) r = ossr__download_end(s, r);   /* a download's sink: committed, kept or dropped */
    if (s->ws) {
        for (i = 0; i < s->nw; i++) {
            s->st.bytes_sent += s->ws[i].bytes_sent;
            if (s->ws[i].block) ossr__worker_free(&s->ws[i]);
        }
    }
    if (c->done) ossr__heap_put(&c->heap, c->done, ossr__flow_heap());
    if (s->ws) ossr__heap_put(&c->heap, s->ws, ossr__session_heap(s->nw) - OSSR__ROUND16(sizeof *s));
    s->ws = NULL;
    s->lanes = NULL;
    c->gen = NULL;
    c->list = NULL;
    c->done = NULL;
    if (s->ready) {
        if (c->ckpt_ok && c->ckpt_dirty) ossr__ckpt_sync(c);   /* the last part slots, before returning */
        ossr__finish(c);
        s->ready = 0;
    }
    if (r == OSSR_OK && s->job != OSSR__JOB_CALL) ossr__clear_error(&s->st);   /* a call's detail may say why nothing was done */
    s->st.result = r;
    s->st.heap_peak = c->heap.peak;
    if (status) *status = s->st;
    return r;
}
/* Where every lane's wait ends: the back-off of a request, the deadline of its I/O, the
   wait for an earlier Complete; -1 when nothing waits on time. */
OSSR__PRIVATE int64_t ossr__session_next(const ossr_session *s) {
    int64_t t = s->c.wake_ms ? s->c.wake_ms : -1;
    int i;
    for (i = 0; i < s->nw; i++) {
        const ossr__worker *w = &s->ws[i];
        int64_t u = w->op != OSSR__OP_NONE ? w->op_deadline : ossr__lane_wake(w);
        if (u > 0 && (t < 0 || u < t)) t = u;
    }
    return t;
}
/* The I/O a lane waits for gives up at its deadline: the connect timeout, else the I/O
   timeout, and for a reply head the time it is due by. */
OSSR__PRIVATE void ossr__lane_deadline(ossr__worker *w, int64_t now) {
    ossr__ctx *c = w->ctx;
    if (w->op == OSSR__OP_NONE || w->op_deadline) return;
    w->op_deadline = now + (w->op == OSSR__OP_CONNECT ? c->f.connect_timeout_ms : c->f.io_timeout_ms);
    if (w->op == OSSR__OP_READ && w->rx_deadline && w->rx_deadline < w->op_deadline) w->op_deadline = w->rx_deadline;
}
/* Advances the lanes' requests and the flow as far as they go without waiting:
   OSSR__READY when the upload has ended (s->c.mp_result). A cancel ends the I/O the
   lanes wait for; so does a deadline that passed. */
OSSR__PRIVATE int ossr__session_run(ossr_session *s, int64_t now) {
    ossr__ctx *c = &s->c;
    int i, pass;
    int cancel = ossr__cancel_requested(c->o) || c->cancelled;
    for (i = 0; i < s->nw; i++) {
        ossr__worker *w = &s->ws[i];
        if (w->op == OSSR__OP_NONE) continue;
        if (cancel) ossr__lane_done(w, OSSR_E_CANCELLED, 0);
        else if (w->op_deadline && now >= w->op_deadline) {
            if (w->op == OSSR__OP_READ) ossr__pace_ok(w, 0);   /* says whether the reply head was late */
            ossr__lane_done(w, OSSR_E_TIMEOUT, ETIMEDOUT);
        }
    }
    for (pass = 0; pass < 8; pass++) {
        int moved = 0, mp = c->mp;
        for (i = 0; i < s->nw; i++) {
            ossr__worker *w = &s->ws[i];
            if (!ossr__rq_active(w) || w->op != OSSR__OP_NONE) continue;
            if (ossr__lane_wake(w) > now && !cancel) continue;   /* a back-off, the bandwidth cap */
            if (ossr__rq_step(w, now) == OSSR__READY) moved = 1;
            ossr__lane_deadline(w, now);
        }
        if (ossr__mp_step(c, s->ws, s->nw, now) == OSSR__READY) return OSSR__READY;
        for (i = 0; i < s->nw; i++)   /* requests the flow just started */
            if (s->ws[i].op == OSSR__OP_NONE && s->ws[i].rq_state == OSSR__RQ_RUN &&
                !s->ws[i].pace_n)
                moved = 1;
        if (!moved && mp == c->mp) break;
    }
    return OSSR__WAIT;
}
/* The lanes' I/O over the system's sockets, every lane from this one thread: a connect
   is made as it blocks (with its timeout); sends and receives wait together in one
   ossr__sys_poll of at most 100 ms, so that a cancel is seen. */
OSSR__PRIVATE void ossr__poll_io(ossr_session *s, int64_t now) {
    void *conns[64];
    int idx[64], out[64], ready[64], n = 0, i, k, tmo = 100;
    int64_t next = ossr__session_next(s);
    for (i = 0; i < s->nw; i++) {
        ossr__worker *w = &s->ws[i];
        if (w->op == OSSR__OP_CONNECT) { ossr__lane_io(w); return; }
        if (w->op == OSSR__OP_NONE || n == 64) continue;
        conns[n] = w->conn;
        out[n] = w->op == OSSR__OP_WRITE;
        idx[n++] = i;
    }
    if (next >= 0) tmo = next <= now ? 0 : next - now < 100 ? (int)(next - now) : 100;
    if (n == 0) { if (tmo > 0) ossr__sleep_ms(s->c.o, tmo); return; }
    if (ossr__sys_poll(conns, out, n, tmo, ready) <= 0) return;
    for (k = 0; k < n; k++)
        if (ready[k]) ossr__lane_io(&s->ws[idx[k]]);
}
/* The lanes' I/O as it blocks, one op a lane in turn: for the transport hook, whose
   calls block (without threads its connections take turns), and for a single
   connection, which has nothing to wait for together. */
OSSR__PRIVATE void ossr__block_io(ossr_session *s, int64_t now) {
    int i, any = 0;
    for (i = 0; i < s->nw; i++)
        if (s->ws[i].op != OSSR__OP_NONE) { ossr__lane_io(&s->ws[i]); any = 1; }
    if (!any) {
        int64_t next = ossr__session_next(s);
        if (next > now) ossr__nap(&s->c, next - now);
    }
}
/* Drives the session to its end, blocking: the parts on a thread each where there are
   threads, else every lane from this thread. */
OSSR__PRIVATE ossr_result ossr__session_drive(ossr_session *s) {
    ossr__ctx *c = &s->c;
    for (;;) {
        int64_t now = ossr__now_ms(c->o);
        if (ossr__session_run(s, now) == OSSR__READY) return c->mp_result;
#ifndef OSSR_NO_THREADS
        if (c->mp == OSSR__MP_PARTS && c->nw > 1) {   /* the parts: a thread a lane, until none is left */
            int failed = ossr__run_workers(ossr__part_worker, s->ws, sizeof *s->ws, c->nw);
            if (failed) ossr__log(c, OSSR_LOG_WARN, "%d worker threads could not start", failed);
            continue;
        }
#endif
        if (c->o->transport || s->nw == 1) ossr__block_io(s, now);
        else ossr__poll_io(s, now);
    }
}
/* A call refused before anything was taken: OSSR_E_INVALID_ARG, why in the status. */
OSSR__PRIVATE ossr_result ossr__early_fail(ossr_status *st, const char *why) {
    if (st) {
        st->result = OSSR_E_INVALID_ARG;
        ossr__say(st->detail, sizeof st->detail, "%s", why);
    }
    return OSSR_E_INVALID_ARG;
}
/* A session in memory from heap h (the caller's block, or the allocator); its setup's
   result in *r. NULL when there is no memory for it. */
OSSR__PRIVATE ossr_session *ossr__session_new(ossr__heap *h, const ossr_options *o, int ext, int job, unsigned need,
                                             ossr_result *r) {
    ossr_session *s = (ossr_session *)ossr__heap_get(h, sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->c.heap = *h;
    *r = ossr__session_setup(s, o, job, need | (ext ? OSSR__NEED_EXT : 0u));
    return s;
}
/* Ends the session with r and gives its own memory back: the status says how it went. */
OSSR__PRIVATE ossr_result ossr__session_free(ossr_session *s, ossr_result r, ossr_status *status) {
    ossr__heap h;
    r = ossr__session_end(s, r, status);
    h = s->c.heap;
    ossr__heap_put(&h, s, sizeof *s);
    if (status) status->heap_peak = h.peak;
    return r;
}

/* Where the download goes, and what names its checkpoint (abs_path): with a sink hook,
   file_path as given; else "<path>.ossr-tmp" beside the target, by its absolute path
   (a target that is a directory or a device is refused before any request). */
OSSR__PRIVATE ossr_result ossr__download_begin(ossr_session *s) {
    ossr__ctx *c = &s->c;
    const ossr_sink *k = c->o->sink;
    const char *path = c->o->file_path;
#if OSSR__HAVE_FS
    void *t = &c->dlt;
#else
    void *t = NULL;
#endif
    c->download = 1;
    if (strlen(path) + sizeof ".ossr-tmp" > sizeof c->abs_path)
        return ossr__setup_fail(c, OSSR_E_WRITE, "%s: the path is too long", path);
    if (k && (!k->open || !k->write_at || !k->read_at || !k->close))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "the download sink hook needs open, write_at, read_at and close");
    if (!ossr__download_sink(c->o, t, &c->sink))
        return ossr__setup_fail(c, OSSR_E_INVALID_ARG, "downloads write a local file, and this build has no file "
                                "system (OSSR_NO_STDIO): set opts.sink");
    if (k) {
        strcpy(c->abs_path, path);
        return OSSR_OK;
    }
#if OSSR__HAVE_FS
    {
        int kind = ossr__path_kind(path);
        if (kind == OSSR__PATH_DIR || kind == OSSR__PATH_OTHER)
            return ossr__setup_fail(c, OSSR_E_WRITE, "%s is %s: give the path of a file to write", path,
                                    ossr__kind_words(kind));
        ossr__say(c->abs_path, sizeof c->abs_path, "%s.ossr-tmp", path);
        if (ossr__abs_path(c->abs_path, 1, c->abs_path, sizeof c->abs_path) != 0) {   /* a link there is not followed */
            s->st.os_error = errno;
            if (errno == ENOENT || errno == ENOTDIR)
                return ossr__setup_fail(c, OSSR_E_WRITE, "cannot write %s: its directory is not there (%s): make it, "
                                        "or give another path", path, strerror(errno));
            return ossr__setup_fail(c, OSSR_E_WRITE, "cannot use %s.ossr-tmp: %s", path, strerror(errno));
        }
        kind = ossr__path_kind(c->abs_path);
        if (kind == OSSR__PATH_DIR || kind == OSSR__PATH_OTHER)
            return ossr__setup_fail(c, OSSR_E_WRITE, "%s, where the download's temporary file goes, is %s: remove it "
                                    "and run again", c->abs_path, ossr__kind_words(kind));
        c->dlt.tmp = c->abs_path;
        c->dlt.target = path;
        c->dlt.len = &c->fid.size;
    }
#endif
    return OSSR_OK;
}
/* ---- the session API ---- */
OSSR__DEF size_t ossr_session_size(const ossr_options *opts, uint64_t file_size) {
    return ossr_workspace_size(opts, file_size) + 16;   /* and room to align the block */
}
/* A session of job in the caller's block (an upload, or a download with its sink). */
OSSR__PRIVATE ossr_result ossr__session_init(ossr_session **session, const ossr_options *opts, void *mem, size_t size,
                                             int job) {
    ossr__heap h;
    ossr_session *s;
    ossr_result r = OSSR_OK;
    size_t pad;
    if (!session) return OSSR_E_INVALID_ARG;
    *session = NULL;
    if (!opts || !mem) return OSSR_E_INVALID_ARG;
    pad = (size_t)(-(uintptr_t)mem & 15);
    if (size < pad + OSSR__ROUND16(sizeof *s)) return OSSR_E_NOMEM;
    ossr__heap_init(&h, opts, (char *)mem + pad, size - pad);
    s = ossr__session_new(&h, opts, 1, job, OSSR__NEED_KEY | OSSR__NEED_FILE, &r);
    if (!s) return OSSR_E_NOMEM;
    *session = s;
    if (r == OSSR_OK && job == OSSR__JOB_DOWNLOAD) r = ossr__download_begin(s);
    if (r != OSSR_OK) {   /* the status says why; ossr_session_finish hands it over */
        s->ended = 1;
        ossr__session_end(s, r, NULL);
    }
    return r;
}
OSSR__DEF ossr_result ossr_session_init(ossr_session **session, const ossr_options *opts, void *mem, size_t size) {
    return ossr__session_init(session, opts, mem, size, OSSR__JOB_UPLOAD);
}
OSSR__DEF ossr_result ossr_session_init_download(ossr_session **session, const ossr_options *opts, void *mem,
                                                size_t size) {
    return ossr__session_init(session, opts, mem, size, OSSR__JOB_DOWNLOAD);
}
/* A time of the session's clock on the caller's (ossr_session_step's now_ms). */
OSSR__PRIVATE int64_t ossr__caller_time(const ossr_session *s, int64_t t) {
    return (int64_t)((uint64_t)t + (uint64_t)s->clock_base);
}
/* The public view of the lanes: what each wants of the caller. */
OSSR__PRIVATE void ossr__session_publish(ossr_session *s) {
    int i;
    for (i = 0; s->lanes && i < s->nw; i++) {
        ossr__worker *w = &s->ws[i];
        ossr_lane *l = &s->lanes[i];
        l->want = w->closing ? OSSR_LANE_CLOSE : w->op == OSSR__OP_CONNECT ? OSSR_LANE_CONNECT
                  : w->op == OSSR__OP_WRITE ? OSSR_LANE_WRITE : w->op == OSSR__OP_READ ? OSSR_LANE_READ : OSSR_LANE_IDLE;
        l->host = s->c.conn_host;
        l->port = s->c.conn_port;
        l->tls_name = s->c.f.tls == OSSR__TLS_HOOK ? s->c.tls_name : NULL;
        l->out = w->op == OSSR__OP_WRITE ? w->op_p : NULL;
        l->out_len = w->op == OSSR__OP_WRITE ? w->op_n : 0;
        l->in = w->op == OSSR__OP_READ ? w->op_p : NULL;
        l->in_cap = w->op == OSSR__OP_READ ? w->op_n : 0;
        l->deadline_ms = w->op != OSSR__OP_NONE ? ossr__caller_time(s, w->op_deadline) : 0;
    }
}
/* Whether a lane waits for the caller to close its connection. */
OSSR__PRIVATE int ossr__session_closing(const ossr_session *s) {
    int i;
    for (i = 0; i < s->nw; i++)
        if (s->ws[i].closing) return 1;
    return 0;
}
OSSR__DEF ossr_result ossr_session_step(ossr_session *s, int64_t now_ms) {
    int i;
    if (!s) return OSSR_E_INVALID_ARG;
    if (s->ended) return s->st.result;
    if (!s->clocked) { s->clocked = 1; s->clock_base = (int64_t)((uint64_t)now_ms - 1u); }
    now_ms = (int64_t)((uint64_t)now_ms - (uint64_t)s->clock_base);
    if (now_ms < 1) now_ms = 1;   /* a clock that went back before the first step */
    s->c.ext_now = now_ms;
    if (!ossr__session_closing(s) && !s->flowed && ossr__session_run(s, now_ms) == OSSR__READY) {
        s->flowed = 1;   /* the upload is over: the connections are closed, then the session ends */
        for (i = 0; i < s->nw; i++) ossr__close_conn(&s->ws[i]);
    }
    if (ossr__session_closing(s) || !s->flowed) {   /* a connection to close goes before anything else */
        ossr__session_publish(s);
        return OSSR_PENDING;
    }
    s->ended = 1;
    return ossr__session_end(s, s->c.mp_result, NULL);
}
OSSR__DEF int64_t ossr_session_wake(const ossr_session *s) {
    int64_t t = s && !s->ended && s->ws ? ossr__session_next(s) : -1;
    if (t < 0) return -1;
    t = ossr__caller_time(s, t);
    return t == -1 ? -2 : t;   /* -1 says "none": a step a millisecond early does no harm */
}
OSSR__DEF int ossr_session_lanes(ossr_session *s, ossr_lane **lanes) {
    if (!s || !s->lanes) { if (lanes) *lanes = NULL; return 0; }
    if (lanes) *lanes = s->lanes;
    return s->nw;
}
/* The lane's worker, or NULL when l is not one of s's lanes. */
OSSR__PRIVATE ossr__worker *ossr__session_lane(ossr_session *s, const ossr_lane *l) {
    if (!s || !s->lanes || !l || l < s->lanes || l >= s->lanes + s->nw) return NULL;
    return &s->ws[l - s->lanes];
}
OSSR__DEF void ossr_lane_opened(ossr_session *s, ossr_lane *l, void *conn) {
    ossr__worker *w = ossr__session_lane(s, l);
    if (!w || w->op != OSSR__OP_CONNECT) return;
    l->conn = conn;
    w->conn = conn;
    ossr__lane_done(w, 0, 0);
}
OSSR__DEF void ossr_lane_wrote(ossr_session *s, ossr_lane *l, size_t n) {
    ossr__worker *w = ossr__session_lane(s, l);
    if (!w || w->op != OSSR__OP_WRITE || n == 0 || n > w->op_n) return;
    ossr__lane_done(w, (long)n, 0);
}
OSSR__DEF void ossr_lane_read(ossr_session *s, ossr_lane *l, size_t n) {
    ossr__worker *w = ossr__session_lane(s, l);
    if (!w || w->op != OSSR__OP_READ || n > w->op_n) return;
    if (n > 0 && !ossr__pace_ok(w, n)) { ossr__lane_done(w, OSSR_E_TIMEOUT, 0); return; }
    ossr__lane_done(w, (long)n, 0);
}
OSSR__DEF void ossr_lane_failed(ossr_session *s, ossr_lane *l, ossr_result r, int os_error) {
    ossr__worker *w = ossr__session_lane(s, l);
    if (!w || w->op == OSSR__OP_NONE) return;
    if (r >= 0) r = w->op == OSSR__OP_CONNECT ? OSSR_E_CONNECT : w->op == OSSR__OP_WRITE ? OSSR_E_SEND : OSSR_E_RECV;
    ossr__lane_done(w, r, os_error);
}
OSSR__DEF void ossr_lane_closed(ossr_session *s, ossr_lane *l) {
    ossr__worker *w = ossr__session_lane(s, l);
    if (!w || !w->closing) return;
    w->closing = 0;
    w->conn = NULL;
    l->conn = NULL;
    l->want = OSSR_LANE_IDLE;
}
OSSR__DEF void ossr_session_cancel(ossr_session *s) {
    if (!s || s->ended) return;
    ossr__lock(&s->c.lock);
    s->c.stop = s->c.cancelled = 1;
    ossr__unlock(&s->c.lock);
}
OSSR__DEF ossr_result ossr_session_finish(ossr_session *s, ossr_status *status) {
    ossr_result r;
    if (!s) return OSSR_E_INVALID_ARG;
    if (!s->ended && s->flowed) {   /* over, only its connections left to close */
        s->ended = 1;
        ossr__session_end(s, s->c.mp_result, NULL);
    } else if (!s->ended) {   /* given up before its end: what is on the server stays, as after a cancel */
        s->ended = 1;
        ossr__session_end(s, OSSR_E_CANCELLED, NULL);
        ossr__say(s->st.detail, sizeof s->st.detail, "the session was finished before its end; the checkpoint is "
                  "kept and the next call resumes");
    }
    r = s->st.result;
    if (status) *status = s->st;
    return r;
}

/* A session for one call of the blocking API, in the options' heap, its setup's result
   in *r; NULL (with *r and the status saying why) when it could not be made. */
OSSR__PRIVATE ossr_session *ossr__call_open(const ossr_options *o, ossr_status *status, int job, unsigned need,
                                            ossr_result *r) {
    ossr__heap h;
    ossr_session *s;
    if (status) memset(status, 0, sizeof *status);
    *r = OSSR_E_INVALID_ARG;
    if (!o) { if (status) status->result = *r; return NULL; }
    if (!o->alloc != !o->free) { ossr__early_fail(status, "alloc and free are set together, or neither"); return NULL; }
#ifdef OSSR_NO_MALLOC
    if (!o->workspace) {
        ossr__early_fail(status, "this build has no allocator (OSSR_NO_MALLOC): give opts.workspace of "
                         "ossr_workspace_size() bytes");
        return NULL;
    }
#endif
    ossr__heap_init(&h, o, NULL, 0);
    s = ossr__session_new(&h, o, 0, job, need, r);
    if (!s) {
        *r = OSSR_E_NOMEM;
        if (status) {
            status->result = OSSR_E_NOMEM;
            ossr__say(status->detail, sizeof status->detail, "no memory for the call's state");
        }
    }
    return s;
}
/* A call of the blocking API: its session, what it does (run, once the setup went
   well), the memory given back and the status filled. */
OSSR__PRIVATE ossr_result ossr__call(const ossr_options *o, ossr_status *status, int job, unsigned need,
                                     ossr_result (*run)(ossr_session *s)) {
    ossr_result r;
    ossr_session *s = ossr__call_open(o, status, job, need, &r);
    if (!s) return r;
    if (r == OSSR_OK) r = run(s);
    return ossr__session_free(s, r, status);
}
OSSR__DEF ossr_result ossr_upload(const ossr_options *o, ossr_status *status) {
    return ossr__call(o, status, OSSR__JOB_UPLOAD, OSSR__NEED_KEY | OSSR__NEED_FILE, ossr__session_drive);
}
/* A download: its sink chosen, then driven (the session's end commits the sink). */
OSSR__PRIVATE ossr_result ossr__download_run(ossr_session *s) {
    ossr_result r = ossr__download_begin(s);
    return r == OSSR_OK ? ossr__session_drive(s) : r;
}
OSSR__DEF ossr_result ossr_download(const ossr_options *o, ossr_status *status) {
    return ossr__call(o, status, OSSR__JOB_DOWNLOAD, OSSR__NEED_KEY | OSSR__NEED_FILE, ossr__download_run);
}
/* The download's checkpoint (named as ossr_download names it) goes, and the default
   sink's temporary file, unless that download runs. */
OSSR__PRIVATE ossr_result ossr__download_drop(ossr_session *s) {
    ossr__ctx *c = &s->c;
    ossr_result r = ossr__download_begin(s);
    if (r != OSSR_OK) return r;
#if OSSR__HAVE_FS
    if (!c->o->sink && ossr__path_kind(c->abs_path) != OSSR__PATH_FILE) {
        ossr__say(s->st.detail, sizeof s->st.detail, "no download of oss://%s/%s to %s to drop", c->o->bucket,
                  c->o->key, c->o->file_path);
        return OSSR_OK;
    }
#endif
    if ((r = ossr__ckpt_claim(c)) != OSSR_OK) return r;
    ossr__ckpt_remove(c);
#if OSSR__HAVE_FS
    if (!c->o->sink && ossr__file_remove(c->abs_path) != 0) {
        s->st.os_error = errno;
        return ossr__setup_fail(c, OSSR_E_WRITE, "cannot remove %s: %s", c->abs_path, strerror(errno));
    }
#endif
    return OSSR_OK;
}
OSSR__DEF ossr_result ossr_abort_download(const ossr_options *o, ossr_status *status) {
    return ossr__call(o, status, OSSR__JOB_CALL, OSSR__NEED_KEY | OSSR__NEED_FILE, ossr__download_drop);
}

/* >>uploads: listing and abandoning incomplete uploads ------------------------------- */
/* One child of ListMultipartUploadsResult. */
OSSR__PRIVATE int ossr__uploads_child(ossr__worker *w, void *user, const ossr_slice *name, const ossr_slice *x) {
    ossr__uploads *u = (ossr__uploads *)user;
    ossr_upload_info info;
    if (!name) {   /* the page again: what fn already had is not handed over twice */
        u->skip = u->handed > u->skip ? u->handed : u->skip;
        u->handed = 0;
        u->truncated = 0;
        u->next_key[0] = u->next_id[0] = 0;
        return 0;
    }
    if (ossr__slice_is(name, "IsTruncated"))
        u->truncated = ossr__xml_true(x);
    else if (ossr__slice_is(name, "NextKeyMarker")) {
        if (ossr__xml_decode(x->ptr, x->len, u->next_key, sizeof u->next_key) != 0) u->next_key[0] = 0;
    } else if (ossr__slice_is(name, "NextUploadIdMarker")) {
        if (ossr__xml_decode(x->ptr, x->len, u->next_id, sizeof u->next_id) != 0) u->next_id[0] = 0;
    } else if (ossr__slice_is(name, "Upload") && !u->stopped && u->handed++ >= u->skip) {
        if (ossr_xml_text(x->ptr, x->len, "Key", u->key, sizeof u->key) != 1 || !u->key[0] ||
            ossr_xml_text(x->ptr, x->len, "UploadId", u->id, sizeof u->id) != 1 || !u->id[0])
            return ossr__fail(w, OSSR_E_BAD_REPLY, 0, "ListMultipartUploads reply has a malformed <Upload>");
        if (ossr_xml_text(x->ptr, x->len, "Initiated", u->when, sizeof u->when) != 1) u->when[0] = 0;
        info.key = u->key;
        info.upload_id = u->id;
        info.initiated = u->when;
        if (u->fn(&info, u->user)) { u->stopped = 1; return 1; }
    }
    return 0;
}
OSSR__DEF ossr_result ossr_list_uploads(const ossr_options *o, const char *prefix, ossr_upload_fn fn, void *user,
                                        ossr_status *status) {
    ossr_result r;
    ossr_session *s = fn ? ossr__call_open(o, status, OSSR__JOB_CALL, 0, &r) : NULL;
    ossr__worker *w;
    ossr__uploads *u;
    if (!fn) {
        if (status) { memset(status, 0, sizeof *status); status->result = OSSR_E_INVALID_ARG; }
        return OSSR_E_INVALID_ARG;
    }
    if (!s) return r;
    w = &s->ws[0];
    u = r == OSSR_OK ? (ossr__uploads *)ossr__heap_get(&s->c.heap, sizeof *u) : NULL;   /* a listing's own block */
    if (r == OSSR_OK && !u) r = ossr__setup_fail(&s->c, OSSR_E_NOMEM, "no memory for the listing");
    if (u) {
        memset(u, 0, sizeof *u);
        u->fn = fn;
        u->user = user;
    }
    while (r == OSSR_OK) {
        ossr__req *q = &w->req;
        ossr__req_init(q, "GET", "ListMultipartUploads");
        u->handed = u->skip = 0;
        q->bucket_level = 1;
        ossr__req_query(q, "uploads", "");
        if (prefix && *prefix) ossr__req_query(q, "prefix", prefix);
        if (u->key_marker[0]) {
            ossr__req_query(q, "key-marker", u->key_marker);
            ossr__req_query(q, "upload-id-marker", u->id_marker);
        }
        ossr__req_user_headers(q, o, ossr__hdr_payer);
        q->root = "ListMultipartUploadsResult";
        q->on_child = ossr__uploads_child;
        q->child_user = u;
        r = ossr__http(w, q);
        if (r != OSSR_OK) { ossr__set_error(&s->c, w, r); break; }
        if (u->stopped || !u->truncated) break;
        if (!u->next_key[0] || (strcmp(u->next_key, u->key_marker) < 0) ||
            (strcmp(u->next_key, u->key_marker) == 0 && strcmp(u->next_id, u->id_marker) == 0)) {
            r = ossr__fail(w, OSSR_E_BAD_REPLY, 0, "ListMultipartUploads reply is truncated but its next "
                           "markers do not advance");
            ossr__set_error(&s->c, w, r);
            break;
        }
        memcpy(u->key_marker, u->next_key, sizeof u->key_marker);
        memcpy(u->id_marker, u->next_id, sizeof u->id_marker);
    }
    ossr__heap_put(&s->c.heap, u, sizeof *u);
    return ossr__session_free(s, r, status);
}
/* The upload this file's checkpoint record would resume, into id ("" when none): in a
   record that still matches or has gone stale alike. */
OSSR__PRIVATE ossr_result ossr__recorded_upload(ossr__ctx *c, char id[128]) {
    int completing = 0;
    uint64_t ccrc = 0;
    ossr_result r;
    if (ossr__src_open(c) != 0) {
        c->st->os_error = errno;
        return ossr__setup_fail(c, OSSR_E_FILE, "cannot read %s: %s", c->o->file_path, strerror(errno));
    }
    if ((r = ossr__ckpt_claim(c)) != OSSR_OK) return r;
    if (ossr__ckpt_load(c, id, c->reason, sizeof c->reason, &completing, &ccrc) == OSSR__CKPT_UNREADABLE)
        return ossr__ckpt_unread(c);
    return OSSR_OK;
}
OSSR__DEF ossr_result ossr_abort_upload(const ossr_options *o, const char *upload_id, ossr_status *status) {
    ossr_result r;
    ossr_session *s = ossr__call_open(o, status, OSSR__JOB_CALL, OSSR__NEED_KEY | (upload_id ? 0u : OSSR__NEED_FILE), &r);
    ossr__ctx *c;
    ossr__worker *w;
    char *id;
    size_t i;
    if (!s) return r;
    c = &s->c;
    w = &s->ws[0];
    id = c->old_id;
    id[0] = 0;
    if (r == OSSR_OK && upload_id) {
        for (i = 0; upload_id[i] && i < sizeof c->old_id - 1; i++)
            if ((unsigned char)upload_id[i] <= 0x20 || (unsigned char)upload_id[i] >= 0x7f) break;
        if (!upload_id[0] || upload_id[i])
            r = ossr__setup_fail(c, OSSR_E_INVALID_ARG, "'%s' is not an upload id", upload_id);
        else memcpy(id, upload_id, i + 1);
    } else if (r == OSSR_OK) {
        r = ossr__recorded_upload(c, id);
        if (r == OSSR_OK && !id[0])
            ossr__say(s->st.detail, sizeof s->st.detail, "%s has no checkpoint for oss://%s/%s: no upload "
                      "to abort", o->file_path, o->bucket, o->key);
    }
    if (r == OSSR_OK && id[0]) {   /* a named upload that does not exist is an error; a recorded one is gone */
        r = upload_id ? ossr__abort_call(c, w, id) : ossr__abort(c, w, id);
        if (r != OSSR_OK) ossr__set_error(c, w, r);
        else {
            ossr__copy(s->st.upload_id, sizeof s->st.upload_id, id, strlen(id));
            if (!upload_id) ossr__ckpt_remove(c);
        }
    }
    return ossr__session_free(s, r, status);
}
OSSR__DEF const char *ossr_checkpoint_dir(const ossr_options *o, char *buf, size_t cap) {
    ossr__sb b;
    if (!buf || cap == 0) return buf;
    ossr__sb_init(&b, buf, cap);
    if (o) ossr__ckpt_dir(o, &b);
    if (b.overflow) buf[0] = 0;
    return buf;
}

/* >>public: results and messages ------------------------------------------------------ */
OSSR__DEF void ossr_cancel(volatile int *flag) {
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
#else
    *flag = 1;
#endif
}
OSSR__DEF const char *ossr_result_str(ossr_result r) {
#define OSSR__VAL_ITEM(name, value, text) value,
#define OSSR__STR_ITEM(name, value, text) text,
    static const signed char vals[] = { OSSR_RESULT_LIST(OSSR__VAL_ITEM) };
    static const char *const strs[] = { OSSR_RESULT_LIST(OSSR__STR_ITEM) "unknown result" };
#undef OSSR__VAL_ITEM
#undef OSSR__STR_ITEM
    size_t i;
    for (i = 0; i < sizeof vals && vals[i] != r; i++) {}
    return strs[i];
}
OSSR__DEF int ossr_result_is_retryable(ossr_result r, int http_status, const char *code) {
    switch (r) {
    case OSSR_E_RESOLVE: case OSSR_E_CONNECT: case OSSR_E_SEND: case OSSR_E_RECV:
    case OSSR_E_TIMEOUT: case OSSR_E_PROTOCOL: case OSSR_E_CRC: case OSSR_E_TLS:
        return 1;
    case OSSR_E_SERVER:
        if (http_status >= 500 || http_status == 408 || http_status == 429) return 1;
        return code && ossr__one_of(code, "RequestTimeTooSkewed\0RequestTimeout\0InternalError\0ServiceUnavailable\0");
    default:
        return 0;
    }
}
OSSR__DEF const char *ossr_status_format(const ossr_status *s, char *buf, size_t cap) {
    ossr__sb b;
    const char *sep = " (";
    if (!buf || cap == 0) return buf;
    ossr__sb_init(&b, buf, cap);
    if (s->result == OSSR_E_SERVER) {
        /* "UploadPart failed: HTTP 403 AccessDenied: <message>" */
        ossr__sb_puts(&b, s->detail[0] ? s->detail : ossr_result_str(s->result));
        ossr__sb_printf(&b, ": HTTP %d", s->http_status);
        if (s->code[0]) ossr__sb_printf(&b, " %s", s->code);
        if (s->message[0]) ossr__sb_printf(&b, ": %s", s->message);
    } else {
        ossr__sb_puts(&b, ossr_result_str(s->result));
        if (s->detail[0]) { ossr__sb_puts(&b, ": "); ossr__sb_puts(&b, s->detail); }
        if (s->http_status) { ossr__sb_printf(&b, "%sHTTP %d", sep, s->http_status); sep = ", "; }
        if (s->code[0]) { ossr__sb_printf(&b, "%s%s", sep, s->code); sep = ", "; }
    }
    if (s->request_id[0]) { ossr__sb_printf(&b, "%srequest id %s", sep, s->request_id); sep = ", "; }
    if (s->part_number) { ossr__sb_printf(&b, "%s%s %u", sep, s->download ? "range" : "part", s->part_number); sep = ", "; }
    if (s->upload_id[0]) { ossr__sb_printf(&b, "%supload id %s", sep, s->upload_id); sep = ", "; }
    if (sep[0] == ',') ossr__sb_putc(&b, ')');
    if (b.overflow && cap > 4) memcpy(buf + cap - 4, "...", 4);
    return buf;
}

#endif /* OSS_RESUMABLE_IMPLEMENTATION_ONCE */
#endif /* OSS_RESUMABLE_IMPLEMENTATION */

/* REVISION HISTORY
   0.2.0  no dead ends: the server's part list wins over a checkpoint's ETags; a Complete
          still running is waited for; a damaged record still names its upload (record
          version 2); one upload of a file to an object at a time (OSSR_E_BUSY,
          ossr_store.lock: set it, or NULL, in a store built field by field); replies
          streamed, paced (low_speed_limit) and cancellable while waited for;
          ossr_list_uploads, ossr_abort_upload, ossr_checkpoint_dir; XML fields are an
          element's own children; V1 signs a caller's x-oss-date; status.crc64_verified.
   0.1.0  first release: PutObject and resumable multipart upload over http://, V1 and V4
          signing, CRC-64 checks end to end, binary checkpoint, download.

   LICENSE (MIT)
   Copyright (c) 2026 the oss_resumable.h authors

   Permission is hereby granted, free of charge, to any person obtaining a copy of this
   software and associated documentation files (the "Software"), to deal in the Software
   without restriction, including without limitation the rights to use, copy, modify,
   merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
   permit persons to whom the Software is furnished to do so, subject to the following
   conditions:

   The above copyright notice and this permission notice shall be included in all copies
   or substantial portions of the Software.

   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
   PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT
   HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF
   CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR
   THE USE OR OTHER DEALINGS IN THE SOFTWARE.
*/
