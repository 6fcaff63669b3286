/* ossup - upload and download files to Alibaba Cloud OSS with oss_resumable.h.

   This example is the library's command-line face: "ossup put" is a resumable upload
   (run it again after a failure, a crash or Ctrl-C and it resumes), "ossup get" a
   download that resumes the same way, "ossup uploads" lists unfinished uploads and "ossup abort" abandons one.

       ossup put FILE oss://BUCKET/KEY      FILE becomes KEY
       ossup put FILE oss://BUCKET/DIR/     ... DIR/<FILE's name> (oss://BUCKET: <FILE's name>)
       ossup get oss://BUCKET/KEY FILE      KEY becomes FILE (a directory: FILE/<KEY's last part>)
       ossup uploads oss://BUCKET[/PREFIX]  key, upload id, start, and a local checkpoint naming it
       ossup abort FILE oss://BUCKET/KEY    abort the upload FILE's checkpoint would resume, and
                                            drop an interrupted download of KEY to FILE
       ossup abort oss://BUCKET/KEY --upload-id ID

   Options (anywhere after the command, "--name value" or "--name=value"; "ossup --help"
   lists them all): --endpoint URL,
   --region ID, --threads N, --part-size SIZE, --threshold SIZE, --max-speed SIZE,
   --checkpoint-dir DIR, --header 'Name: value', --quiet, --verbose, --upload-id ID (abort),
   ... SIZE takes K, M, G suffixes (powers of 1024). Credentials come from
   OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN; OSS_ENDPOINT and
   OSS_REGION stand in for the flags.

   Exit status: 0 success; 1 failure, with one line on stderr naming the OSS error code
   and request id; 2 usage error; 130 interrupted (Ctrl-C or SIGTERM: the upload stops,
   its checkpoint is kept, and the same command resumes it; a second Ctrl-C ends ossup at
   once). */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#  include <shellapi.h>   /* windows.h came with the library */

/* Windows gives main() its arguments in the ANSI code page, which cannot spell most
   file names; the library takes UTF-8. The converted copy lives as long as the process. */
static char **utf8_argv(int *argc) {
    int n, i;
    wchar_t **wv = CommandLineToArgvW(GetCommandLineW(), &n);
    char **v = wv ? (char **)calloc((size_t)n + 1, sizeof *v) : NULL;
    for (i = 0; v && i < n; i++) {
        int len = WideCharToMultiByte(CP_UTF8, 0, wv[i], -1, NULL, 0, NULL, NULL);
        v[i] = len > 0 ? (char *)malloc((size_t)len) : NULL;
        if (!v[i] || !WideCharToMultiByte(CP_UTF8, 0, wv[i], -1, v[i], len, NULL, NULL)) v = NULL;   /* keep argv */
    }
    if (wv) LocalFree(wv);
    if (v) *argc = n;
    return v;
}
#else
#  include <dirent.h>
#  include <fcntl.h>
#  include <signal.h>
#  include <sys/ioctl.h>
#endif

#define MAX_HEADERS 64
#define MAX_OWNED (MAX_HEADERS + 16)
#define DEFAULT_PART_SIZE (10ull << 20)   /* the library's defaults, named in messages */
#define DEFAULT_THRESHOLD (10ull << 20)
#define MIN_PART_SIZE 102400ull           /* OSS: every part but the last is at least 100 KiB */

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

static int quiet, verbose, show_bar, stats;
static volatile int interrupted;   /* opts.cancel: set by the first Ctrl-C */
static char *owned[MAX_OWNED];     /* strings made here, freed at exit whichever way main returns */
static size_t nowned;
static const char *transport_words; /* why the TLS transport last failed (see >>TLS by the platform) */
static int stdout_errno;            /* why standard output could not be written, 0 if it could */

/* The options, as typed, that an "ossup abort" of the same upload needs to find its
   checkpoint and reach the server: the command an interrupted put suggests repeats them.
   One slot each (the last one typed wins, as in parsing); the three addressing flags
   share the last. */
static const char *const again_names[] = {"--endpoint", "--region", "--sign-version", "--connect-to",
                                          "--checkpoint-dir", "--ca-file", "--insecure", "--path-style",
                                          "--virtual-host", "--cname"};
#define AGAIN_SLOTS 8
static const char *again[AGAIN_SLOTS][2];   /* name, value (NULL for a flag) */

static void release(void) {
    while (nowned) free(owned[--nowned]);
}

/* Keeps a string made on the heap until exit; without memory ossup ends here. */
static char *keep(char *s) {
    if (!s || nowned == MAX_OWNED) {
        fputs("ossup: error: out of memory\n", stderr);
        exit(EXIT_FAILED);
    }
    return owned[nowned++] = s;
}

/* a + b, kept until exit. */
static const char *concat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = keep((char *)malloc(na + nb + 1));
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: ossup put FILE oss://BUCKET/KEY [options]    upload FILE (resumable)\n"
        "       ossup put FILE oss://BUCKET/DIR/ [options]   ... as DIR/<FILE's name>\n"
        "       ossup get oss://BUCKET/KEY FILE [options]    download to FILE (resumable), or into the\n"
        "                                                    directory FILE as <KEY's last part>\n"
        "       ossup uploads oss://BUCKET[/PREFIX]          list incomplete uploads (key, upload id,\n"
        "                                                    start, the local checkpoint naming it)\n"
        "       ossup abort FILE oss://BUCKET/KEY            abandon the upload FILE's checkpoint\n"
        "                                                    would resume, and remove the checkpoint;\n"
        "                                                    drop an interrupted download to FILE\n"
        "       ossup abort oss://BUCKET/KEY --upload-id ID  abandon that upload\n"
        "       ossup --help | --version\n"
        "options:\n"
        "  --endpoint URL         http(s)://host[:port] (or OSS_ENDPOINT)\n"
        "  --region ID            region id such as cn-hangzhou; enables V4 signing (or OSS_REGION)\n"
        "  --sign-version 1|4     signature version (default: 4 with a region, else 1)\n"
        "  --path-style           address the bucket in the path, not the host name\n"
        "  --virtual-host         address the bucket in the host name even for IPs/localhost\n"
        "  --cname                the endpoint is a custom domain bound to the bucket\n"
        "  --connect-to HOST:PORT connect there instead of the endpoint's address\n"
        "  --threads N            parallel parts (uploads) or ranges (downloads) (default 1)\n"
        "  --part-size SIZE       preferred part size (default 10M; K, M, G suffixes); raised,\n"
        "                         with a message, to OSS's 100 KiB and 10,000-part limits\n"
        "  --buffer-size SIZE     per-connection buffer (default for http:// 256K with 1-2\n"
        "                         threads, 128K with 3-4, 64K above; 16K for https://,\n"
        "                         where file bytes go straight into TLS records)\n"
        "  --threshold SIZE       files (objects) this large or larger go in parts (ranges)\n"
        "                         (default 10M)\n"
        "  --max-speed SIZE       upload at most SIZE bytes per second (all threads together)\n"
        "  --checkpoint-dir DIR   where resume records live (default ~/.oss-resumable)\n"
        "  --header 'Name: value' extra header (Content-Type, x-oss-meta-*, x-oss-object-acl, ...)\n"
        "  --sequential           parts in ascending order (the object gets a Content-MD5)\n"
        "  --ca-file PEM          trust anchors for https:// (default: $SSL_CERT_FILE, else the\n"
        "                         system bundle)\n"
        "  --insecure             DANGEROUS: do not check the server's certificate\n"
        "  --small-tls-buffer     half-duplex 16 KiB TLS buffer (constrained devices)\n"
        "  --attempts N           tries per request on retryable failures (default 3)\n"
        "  --timeout SECONDS      connect and I/O timeout (default 60)\n"
        "  --quiet                no progress bar or messages, errors only\n"
        "  --verbose              more messages\n"
        "  --stats                print the library's memory and checkpoint figures (stderr)\n"
        "credentials: OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_SESSION_TOKEN\n"
        "exit status: 0 success, 1 failure (one line on stderr), 2 usage error,\n"
        "  130 interrupted (Ctrl-C: the same command resumes; a second Ctrl-C ends at once)\n"
        "examples:\n"
        "  ossup put db.tar.gz oss://my-bucket/backups/ --region cn-hangzhou --threads 4\n"
        "  ossup get oss://my-bucket/backups/db.tar.gz .\n"
        "  ossup uploads oss://my-bucket/backups/\n");
}

static int fail_usage(const char *msg, const char *arg) {
    fprintf(stderr, "ossup: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "run 'ossup --help' for usage\n");
    return EXIT_USAGE;
}

/* "64M" -> 67108864; 0 on success. */
static int parse_size(const char *s, uint64_t *out) {
    uint64_t v = 0, mul = 1;
    const char *p = s;
    if (*p < '0' || *p > '9') return -1;
    while (*p >= '0' && *p <= '9') {
        if (v > (UINT64_MAX - 9) / 10) return -1;
        v = v * 10 + (uint64_t)(*p++ - '0');
    }
    if (*p == 'K' || *p == 'k') { mul = 1024; p++; }
    else if (*p == 'M' || *p == 'm') { mul = 1024 * 1024; p++; }
    else if (*p == 'G' || *p == 'g') { mul = 1024ull * 1024 * 1024; p++; }
    if (*p == 'i' && mul > 1) p++;
    if ((*p == 'B' || *p == 'b') && (mul > 1 || p[1] == 0)) p++;
    if (*p) return -1;
    if (v > UINT64_MAX / mul) return -1;
    *out = v * mul;
    return 0;
}
static int parse_int(const char *s, int lo, int hi, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* A size the way it is typed: "128K", "20M", or bytes when no unit divides it. */
static const char *size_words(uint64_t v, char *buf, size_t cap) {
    static const char units[] = "GMK";
    int i;
    for (i = 0; i < 3; i++) {
        uint64_t u = 1ull << (10 * (3 - i));
        if (v && v % u == 0) { snprintf(buf, cap, "%llu%c", (unsigned long long)(v / u), units[i]); return buf; }
    }
    snprintf(buf, cap, "%llu", (unsigned long long)v);
    return buf;
}

/* oss://BUCKET[/KEY] -> bucket and key ("" when there is none), pointing into a copy. */
static int parse_oss_url(const char *url, const char **bucket, const char **key) {
    char *copy, *slash;
    if (strncmp(url, "oss://", 6) != 0 || !url[6] || url[6] == '/') return -1;
    copy = keep(strdup(url + 6));
    slash = strchr(copy, '/');
    *bucket = copy;
    *key = "";
    if (slash) { *slash = 0; *key = slash + 1; }
    return 0;
}

/* The last part of a path or key: after the last '/' (and '\' on Windows, where it
   separates too, so that a key cannot climb out of the target directory). */
static const char *last_part(const char *s) {
    const char *p = s, *q;
    for (q = s; *q; q++)
#ifdef _WIN32
        if (*q == '/' || *q == '\\') p = q + 1;
#else
        if (*q == '/') p = q + 1;
#endif
    return p;
}
static int ends_with_separator(const char *s) {
    size_t n = strlen(s);
#ifdef _WIN32
    return n > 0 && (s[n - 1] == '/' || s[n - 1] == '\\');
#else
    return n > 0 && s[n - 1] == '/';
#endif
}

/* >>local files ------------------------------------------------------------------------ */
enum { KIND_UNKNOWN, KIND_MISSING, KIND_FILE, KIND_DIR, KIND_OTHER };

/* What path names: KIND_FILE (and its size), KIND_DIR, KIND_MISSING, KIND_OTHER (with
   words such as "a FIFO"), or KIND_UNKNOWN when it cannot be told (the library then
   meets the same problem and says what it is). */
#ifdef _WIN32
static int file_kind(const char *path, uint64_t *size, const char **what) {
    wchar_t w[4096];
    WIN32_FILE_ATTRIBUTE_DATA d;
    *what = "a directory";
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 4096)) return KIND_UNKNOWN;
    if (!GetFileAttributesExW(w, GetFileExInfoStandard, &d)) {
        DWORD e = GetLastError();
        return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? KIND_MISSING : KIND_UNKNOWN;
    }
    if (d.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) return KIND_DIR;
    *size = ((uint64_t)d.nFileSizeHigh << 32) | d.nFileSizeLow;
    return KIND_FILE;
}
#else
static int file_kind(const char *path, uint64_t *size, const char **what) {
    struct stat s;
    if (stat(path, &s) != 0) return errno == ENOENT ? KIND_MISSING : KIND_UNKNOWN;
    if (S_ISREG(s.st_mode)) { *size = (uint64_t)s.st_size; return KIND_FILE; }
    *what = S_ISDIR(s.st_mode) ? "a directory" : S_ISFIFO(s.st_mode) ? "a FIFO" : S_ISCHR(s.st_mode) ?
            "a character device" : S_ISBLK(s.st_mode) ? "a block device" : S_ISSOCK(s.st_mode) ? "a socket" :
            "not a file";
    return S_ISDIR(s.st_mode) ? KIND_DIR : KIND_OTHER;
}
#endif

/* A FILE that exists but is not a regular file is refused before anything is sent or
   written: reading a FIFO would wait for a writer forever, and a download renamed over
   a device would replace it. Returns 0, or the exit status after saying why. */
static int refuse_non_regular(const char *path, uint64_t *size) {
    const char *what = "";
    int kind = file_kind(path, size, &what);
    if (kind != KIND_DIR && kind != KIND_OTHER) return 0;
    fprintf(stderr, "ossup: error: %s is not a regular file (%s)\n", path, what);
    return EXIT_FAILED;
}

/* >>local checkpoints ----------------------------------------------------------------- */
/* What "ossup uploads" and "ossup abort --upload-id" need to know of the checkpoint
   records in the checkpoint directory: each record's upload, and the file it uploads. */
typedef struct record {
    char upload_id[128];
    char file[1024];         /* the local file, as the record names it */
    char path[1100];         /* the record itself */
    uint64_t file_size;
    int64_t mtime_sec;
    uint32_t mtime_nsec, flags;
} record;
typedef struct records {
    record *v;
    size_t n, cap;
} records;

/* A file opened for reading, and one removed, by a UTF-8 name. */
static FILE *open_read(const char *path) {
#ifdef _WIN32
    wchar_t w[4096];
    return MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 4096) ? _wfopen(w, L"rb") : NULL;
#else
    return fopen(path, "rb");
#endif
}
static int remove_file(const char *path) {
#ifdef _WIN32
    wchar_t w[4096];
    return MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 4096) ? _wremove(w) : -1;
#else
    return remove(path);
#endif
}

/* The endpoint as checkpoint records name it: scheme://host:port, the host in lower case. */
static void endpoint_id(const char *endpoint, char *buf, size_t cap) {
    ossr_endpoint ep;
    size_t i, n;
    buf[0] = 0;
    if (ossr_parse_endpoint(endpoint, &ep) != OSSR_OK) return;
    n = (size_t)snprintf(buf, cap, "%s", ep.https ? "https://" : "http://");
    for (i = 0; i < ep.host.len && n + 1 < cap; i++) {
        char ch = ep.host.ptr[i];
        buf[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    snprintf(buf + n, cap - n, ":%u", (unsigned)ep.port);
}
static int slice_is(ossr_slice sl, const char *s) {
    return sl.len == strlen(s) && memcmp(sl.ptr, s, sl.len) == 0;
}

/* Reads the record at path (its fixed part, at most 4096 bytes) and keeps it when it is
   for this endpoint and bucket. */
static void read_record(const char *path, const ossr_options *o, const char *eid, records *rs) {
    unsigned char buf[OSSR_CKPT_HEAD_MAX];
    ossr_checkpoint k;
    record *r;
    FILE *f = open_read(path);
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    if (ossr_checkpoint_decode(buf, n, &k) < 0 || (k.flags & OSSR_CKPT_FLAG_DOWNLOAD) ||   /* a download's: no upload */
        !slice_is(k.endpoint, eid) || !slice_is(k.bucket, o->bucket) ||
        k.upload_id.len >= sizeof r->upload_id || k.path.len >= sizeof r->file || strlen(path) >= sizeof r->path)
        return;
    if (rs->n == rs->cap) {
        record *v = (record *)realloc(rs->v, (rs->cap * 2 + 8) * sizeof *v);
        if (!v) return;
        rs->v = v;
        rs->cap = rs->cap * 2 + 8;
    }
    r = &rs->v[rs->n++];
    memcpy(r->upload_id, k.upload_id.ptr, k.upload_id.len);
    r->upload_id[k.upload_id.len] = 0;
    memcpy(r->file, k.path.ptr, k.path.len);
    r->file[k.path.len] = 0;
    strcpy(r->path, path);
    r->file_size = k.file_size;
    r->mtime_sec = k.mtime_sec;
    r->mtime_nsec = k.mtime_nsec;
    r->flags = k.flags;
}

/* Every record (*.ossr) in the checkpoint directory for o's endpoint and bucket. */
static void load_records(const ossr_options *o, records *rs) {
    char dir[1024], eid[320], path[1100];
    ossr_checkpoint_dir(o, dir, sizeof dir);
    endpoint_id(o->endpoint, eid, sizeof eid);
    if (!dir[0] || !eid[0]) return;
#ifdef _WIN32
    {
        wchar_t w[4096];
        WIN32_FIND_DATAW d;
        HANDLE h;
        char name[600];
        snprintf(path, sizeof path, "%s\\*.ossr", dir);
        if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 4096)) return;
        h = FindFirstFileW(w, &d);
        if (h == INVALID_HANDLE_VALUE) return;
        do {
            if (WideCharToMultiByte(CP_UTF8, 0, d.cFileName, -1, name, sizeof name, NULL, NULL) > 0 &&
                (size_t)snprintf(path, sizeof path, "%s\\%s", dir, name) < sizeof path)
                read_record(path, o, eid, rs);
        } while (FindNextFileW(h, &d));
        FindClose(h);
    }
#else
    {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n > 5 && !strcmp(e->d_name + n - 5, ".ossr") &&
                (size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < sizeof path)
                read_record(path, o, eid, rs);
        }
        if (d) closedir(d);
    }
#endif
}

/* The record of upload_id, or NULL. */
static const record *find_record(const records *rs, const char *upload_id) {
    size_t i;
    for (i = 0; i < rs->n; i++)
        if (!strcmp(rs->v[i].upload_id, upload_id)) return &rs->v[i];
    return NULL;
}

/* Whether the file a record names is still the one it recorded (size, and the
   modification time where the record keeps one), so that "ossup put" would resume. */
static int record_resumes(const record *r) {
    uint64_t size = 0;
    const char *what;
    if (file_kind(r->file, &size, &what) != KIND_FILE || size != r->file_size) return 0;
#ifndef _WIN32
    if (!(r->flags & OSSR_CKPT_FLAG_CONTENT)) {
        struct stat s;
        if (stat(r->file, &s) != 0 || (int64_t)s.st_mtime != r->mtime_sec) return 0;
#  if defined(__APPLE__)
        if ((uint32_t)s.st_mtimespec.tv_nsec != r->mtime_nsec) return 0;
#  else
        if ((uint32_t)s.st_mtim.tv_nsec != r->mtime_nsec) return 0;
#  endif
    }
#endif
    return 1;
}

/* >>where things go, as cp does ------------------------------------------------------- */
/* put: a key that ends in '/' (or none at all) gets the file's name appended. */
static const char *put_key(const char *key, const char *file) {
    if (*key && !ends_with_separator(key)) return key;
    return concat(key, last_part(file));
}

/* get: into a directory (an existing one, or FILE ending in '/') as the key's last part.
   NULL after saying why when that cannot be. */
static const char *get_target(const char *file, const char *key) {
    const char *what = "";
    uint64_t size;
    int kind = file_kind(file, &size, &what);
    if (kind == KIND_DIR) return concat(ends_with_separator(file) ? file : concat(file, "/"), last_part(key));
    if (ends_with_separator(file)) {
        fprintf(stderr, "ossup: error: directory %s does not exist\n", file);
        return NULL;
    }
    return file;
}

/* >>Ctrl-C ---------------------------------------------------------------------------- */
/* The first Ctrl-C (or SIGTERM) asks the library to stop, which leaves a checkpoint the
   same command resumes; the handler then steps aside, so a second one ends ossup at once. */
#ifdef _WIN32
static BOOL WINAPI on_console_ctrl(DWORD type) {
    if (type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT) return FALSE;
    ossr_cancel(&interrupted);
    SetConsoleCtrlHandler(on_console_ctrl, FALSE);
    return TRUE;
}
static void catch_interrupts(void) { SetConsoleCtrlHandler(on_console_ctrl, TRUE); }
#else
static struct sigaction default_action;

static void on_signal(int sig) {
    (void)sig;
    ossr_cancel(&interrupted);
    sigaction(SIGINT, &default_action, NULL);
    sigaction(SIGTERM, &default_action, NULL);
}
/* Without SA_RESTART, so that a blocking call returns (EINTR) and the library looks at
   the flag instead of waiting on. */
static void catch_interrupts(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    default_action = sa;
    default_action.sa_handler = SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
#endif

/* Writes s for a shell to read back: as it is when it is plain, else quoted. */
static void put_shell_word(FILE *f, const char *s) {
    const char *p;
    for (p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,", *p)) break;
    if (*s && !*p) { fputs(s, f); return; }
#ifdef _WIN32
    fprintf(f, "\"%s\"", s);   /* cmd.exe's quoting; file names cannot hold '"' there */
#else
    fputc('\'', f);
    for (p = s; *p; p++) {
        if (*p == '\'') fputs("'\\''", f);
        else fputc(*p, f);
    }
    fputc('\'', f);
#endif
}

/* The line an interrupted upload ends with: how to go on, and how to give up. Only a
   checkpoint on disk has something to resume or abandon: a multipart upload stopped
   before Initiate was answered has none (status.checkpoint_path names where it would
   be). The abort command carries the options that find the checkpoint and the server. */
static int say_interrupted_put(const ossr_status *st, const char *file, const char *bucket, const char *key) {
    uint64_t size;
    const char *what;
    int i;
    if (!st->checkpoint_path[0]) {
        fputs("ossup: interrupted; nothing was stored: run the same command again to upload\n", stderr);
        return EXIT_INTERRUPTED;
    }
    if (file_kind(st->checkpoint_path, &size, &what) != KIND_FILE) {
        fputs("ossup: interrupted before the upload was recorded: run the same command again to upload\n", stderr);
        return EXIT_INTERRUPTED;
    }
    fputs("ossup: interrupted; run the same command again to resume, or abandon the upload with: ossup abort ",
          stderr);
    put_shell_word(stderr, file);
    fputc(' ', stderr);
    put_shell_word(stderr, concat(concat("oss://", bucket), concat("/", key)));
    for (i = 0; i < AGAIN_SLOTS; i++) {
        if (!again[i][0]) continue;
        fprintf(stderr, " %s", again[i][0]);
        if (again[i][1]) {
            fputc(' ', stderr);
            put_shell_word(stderr, again[i][1]);
        }
    }
    fputc('\n', stderr);
    return EXIT_INTERRUPTED;
}

/* >>progress bar ---------------------------------------------------------------------- */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The terminal's width in columns: the terminal's own, else $COLUMNS, else 80. */
static int terminal_columns(void) {
    const char *env = getenv("COLUMNS");
    int n;
#ifdef _WIN32
    CONSOLE_SCREEN_BUFFER_INFO ci;
    if (GetConsoleScreenBufferInfo(GetStdHandle(STD_ERROR_HANDLE), &ci))
        return ci.srWindow.Right - ci.srWindow.Left + 1;
#else
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
#endif
    return env && parse_int(env, 1, 100000, &n) == 0 ? n : 80;
}

/* "4:05", "1:02:03", or "--:--" while the rate is not known. */
static void eta_words(double seconds, char *buf, size_t cap) {
    long s = (long)(seconds + 0.5);
    if (seconds < 0 || seconds > 359999) snprintf(buf, cap, "--:--");
    else if (s >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60);
}

/* One progress line of at most cols - 1 characters (a full line would wrap): the bar
   shrinks first (30 to 10 marks), then the figures get terser, then they go. */
static size_t progress_line(char *out, size_t cap, int cols, uint64_t done, uint64_t total, double rate) {
    char text[3][96], eta[24];
    double unit = total >= (1ull << 30) ? 1073741824.0 : total >= (1u << 20) ? 1048576.0 : 1024.0;
    char u = unit > 1048576.0 ? 'G' : unit > 1024.0 ? 'M' : 'K';
    int pct = total ? (int)(done * 100 / total) : 100, i, room = cols - 1;
    eta_words(rate > 0 ? (double)(total - done) / rate : -1, eta, sizeof eta);
    snprintf(text[0], sizeof text[0], "%3d%%  %.1f/%.1f %ciB  %.1f %ciB/s  ETA %s", pct, done / unit, total / unit, u,
             rate / unit, u, eta);
    snprintf(text[1], sizeof text[1], "%3d%% %.1f/%.1f%c %.1f%c/s ETA %s", pct, done / unit, total / unit, u,
             rate / unit, u, eta);
    snprintf(text[2], sizeof text[2], "%3d%% ETA %s", pct, eta);
    for (i = 0; i < 2; i++) {
        int marks = room - (int)strlen(text[i]) - 3, fill, k;
        if (marks < 10) continue;
        if (marks > 30) marks = 30;
        fill = total ? (int)(done * (uint64_t)marks / total) : marks;
        out[0] = '[';
        for (k = 0; k < marks; k++) out[1 + k] = k < fill ? '#' : '.';
        out[1 + marks] = ']';
        out[2 + marks] = ' ';
        snprintf(out + 3 + marks, cap - 3 - (size_t)marks, "%s", text[i]);
        return strlen(out);
    }
    for (i = 1; i < 3; i++)
        if ((int)strlen(text[i]) <= room) return (size_t)snprintf(out, cap, "%s", text[i]);
    return (size_t)snprintf(out, cap, "%.*s", room > 0 ? room : 0, text[2]);
}

typedef struct bar_state {
    double start, last;
    uint64_t first;
    int drawn;
    size_t width;        /* characters the last line took, so that a shorter one covers it */
} bar_state;

static int on_progress(uint64_t done, uint64_t total, void *user) {
    bar_state *b = (bar_state *)user;
    double t = now_s(), rate;
    char line[160];
    size_t n, pad;
    int cols;
    if (!show_bar) return 0;
    if (!b->drawn) { b->start = t; b->first = done; }
    if (b->drawn && done < total && t - b->last < 0.1) return 0;
    b->last = t;
    b->drawn = 1;
    rate = t - b->start > 0.5 ? (double)(done - b->first) / (t - b->start) : 0;
    cols = terminal_columns();
    n = progress_line(line, sizeof line, cols, done, total, rate);
    pad = b->width > n ? b->width - n : 0;
    if ((int)(n + pad) > cols - 1) pad = cols - 1 > (int)n ? (size_t)(cols - 1) - n : 0;
    fprintf(stderr, "\r%s%*s", line, (int)pad, "");
    fflush(stderr);
    b->width = n;
    return 0;
}
/* Ends the bar's line, so that what follows starts on its own. */
static void end_bar(bar_state *b) {
    if (b->drawn) fputc('\n', stderr);
    b->drawn = 0;
    b->width = 0;
}

static void on_log(int level, const char *msg, void *user) {
    int insecure = strncmp(msg, "insecure", 8) == 0;   /* said on every run, even --quiet */
    if ((quiet && !insecure) || (level < OSSR_LOG_INFO && !verbose)) return;
    end_bar((bar_state *)user);
    fprintf(stderr, "ossup: %s%s\n", level >= OSSR_LOG_WARN ? "warning: " : "", msg);
}

/* >>messages -------------------------------------------------------------------------- */
/* Says when the part size had to change to fit OSS's limits (parts of at least 100 KiB,
   at most 10,000 of them), before the upload starts. typed: --part-size as given. */
static void announce_part_size(const ossr_options *o, const char *typed, uint64_t file_size) {
    uint64_t want = o->part_size ? o->part_size : DEFAULT_PART_SIZE, part, smallest = want;
    uint32_t count;
    char a[32], b[32];
    const char *why;
    if (quiet || ossr_plan_parts(file_size, o->part_size, &part, &count, NULL, 0) != OSSR_OK || part <= want) return;
    while (smallest < MIN_PART_SIZE) smallest *= 2;
    why = part <= smallest ? "OSS parts are at least 100 KiB"
        : want < MIN_PART_SIZE ? "OSS parts are at least 100 KiB and an upload has at most 10,000 parts"
        : "an upload has at most 10,000 parts";
    fprintf(stderr, "ossup: %s%s raised to %s: %s\n", typed ? "--part-size " : "part size ",
            typed ? typed : size_words(want, a, sizeof a), size_words(part, b, sizeof b), why);
}

/* Whether s contains word, ignoring case. */
static int contains_words(const char *s, const char *word) {
    size_t i, n = strlen(word);
    for (; *s; s++) {
        for (i = 0; i < n && s[i] && (s[i] | 0x20) == (word[i] | 0x20); i++) {}
        if (i == n) return 1;
    }
    return 0;
}

/* The line a failure ends with. A full disk is said in words with the path (written:
   the file that could not be written); an argument the library refused is said once
   (its detail is the whole sentence). Returns the exit status. */
static int say_failure(const ossr_status *st, const char *written) {
    char line[1024];
    const char *full = st->os_error == ENOSPC ? "no space left on device" : NULL;
#ifdef EDQUOT
    if (st->os_error == EDQUOT) full = "disk quota exceeded";
#endif
    if (st->result < 0 && st->result > OSSR_E_NOMEM && st->detail[0]) {
        fprintf(stderr, "ossup: error: %s\n", st->detail);
        return EXIT_FAILED;
    }
    ossr_status_format(st, line, sizeof line);
    if ((st->result == OSSR_E_CERT || st->result == OSSR_E_TLS_HANDSHAKE || st->result == OSSR_E_TLS) &&
        transport_words && *transport_words)
        fprintf(stderr, "ossup: error: %s (%s)\n", line, transport_words);
    else if (full && written && !(contains_words(line, full) && strstr(line, written)))
        fprintf(stderr, "ossup: error: %s writing %s: %s\n", full, written, line);
    else
        fprintf(stderr, "ossup: error: %s\n", line);
    return EXIT_FAILED;
}

static void print_stats(const ossr_status *st) {
    fprintf(stderr, "stats: peak_heap=%llu workers=%u heap_per_worker=%llu ckpt_bytes=%llu ckpt_writes=%u "
            "crc64=%s\n", (unsigned long long)st->heap_peak, st->workers, (unsigned long long)st->heap_per_worker,
            (unsigned long long)st->checkpoint_bytes, st->checkpoint_writes, ossr_crc64_engine());
}

/* >>commands -------------------------------------------------------------------------- */
/* The command line, parsed: operands in order, and what only ossup itself needs. */
typedef struct args {
    const char *cmd;
    const char *operand[3];
    int count;
    const char *part_size_typed;   /* --part-size as given, for the message when it changes */
    const char *upload_id;         /* abort --upload-id */
    ossr_header headers[MAX_HEADERS];
    bar_state bar;
} args;

/* Whether the object's CRC-64 was compared with the server's: never claim a check that
   did not happen. */
static const char *crc_words(const ossr_status *st) {
    return st->crc64_verified ? "matches the server's" : "not checked: the server sent none";
}

/* ossup put FILE oss://BUCKET/KEY */
static int cmd_put(ossr_options *o, args *a) {
    const char *file = a->operand[0], *bucket, *key;
    uint64_t size = 0;
    ossr_status st;
    ossr_result r;
    int rc;
    if (parse_oss_url(a->operand[1], &bucket, &key)) return fail_usage("expected oss://BUCKET[/KEY]", a->operand[1]);
    if (!strcmp(file, "-"))
        return fail_usage("put uploads a file, which it can resume, not standard input ('-'): give a file name "
                          "(./- names a file called -)", NULL);
    if ((rc = refuse_non_regular(file, &size)) != 0) return rc;
    o->bucket = bucket;
    o->key = key = put_key(key, file);
    o->file_path = file;
    if (size > 0 && size >= (o->multipart_threshold ? o->multipart_threshold : DEFAULT_THRESHOLD))
        announce_part_size(o, a->part_size_typed, size);
    r = ossr_upload(o, &st);
    end_bar(&a->bar);
    if (stats) print_stats(&st);
    if (r != OSSR_OK && interrupted) return say_interrupted_put(&st, file, bucket, key);
    if (r != OSSR_OK) return say_failure(&st, st.checkpoint_path[0] ? st.checkpoint_path : NULL);
    if (!quiet)
        printf("uploaded %s to oss://%s/%s: %llu bytes, CRC-64 %llu (%s), %s%s%u of %u parts sent, %u reused\n",
               file, bucket, key, (unsigned long long)st.size, (unsigned long long)st.crc64, crc_words(&st),
               st.multipart ? "multipart" : "single PUT", st.resumed ? " (resumed), " : ", ",
               st.multipart ? st.parts_uploaded : 1u, st.multipart ? st.parts_total : 1u, st.parts_reused);
    return 0;
}

/* ossup get oss://BUCKET/KEY FILE */
static int cmd_get(ossr_options *o, args *a) {
    const char *file, *bucket, *key;
    uint64_t size;
    ossr_status st;
    ossr_result r;
    int rc;
    if (parse_oss_url(a->operand[0], &bucket, &key)) return fail_usage("expected oss://BUCKET/KEY", a->operand[0]);
    if (!*key || ends_with_separator(key)) {
        fprintf(stderr, "ossup: error: %s names a folder, not an object: give the key of one object\n", a->operand[0]);
        return EXIT_USAGE;
    }
    if (o->max_bytes_per_second) return fail_usage("--max-speed limits uploads (put) only", NULL);
    if (!strcmp(a->operand[1], "-"))
        return fail_usage("get writes a file, which it can resume, not standard output ('-'): give a file name "
                          "(./- names a file called -)", NULL);
    if ((file = get_target(a->operand[1], key)) == NULL) return EXIT_FAILED;
    if ((rc = refuse_non_regular(file, &size)) != 0) return rc;
    o->bucket = bucket;
    o->key = key;
    o->file_path = file;
    r = ossr_download(o, &st);
    end_bar(&a->bar);
    if (stats) print_stats(&st);
    if (r != OSSR_OK && interrupted) {
        fputs(st.multipart ? "ossup: interrupted; the ranges downloaded are kept: run the same command again to "
              "resume\n" : "ossup: interrupted; nothing was kept: run the same command again to download\n", stderr);
        return EXIT_INTERRUPTED;
    }
    if (r != OSSR_OK) return say_failure(&st, file);
    if (!quiet)
        printf("downloaded oss://%s/%s to %s: %llu bytes, CRC-64 %llu (%s)\n", bucket, key, file,
               (unsigned long long)st.size, (unsigned long long)st.crc64, crc_words(&st));
    return 0;
}

/* Flushes standard output (before a line on stderr that should follow it), keeping why
   it failed for check_stdout. */
static void flush_stdout(void) {
    if (fflush(stdout) != 0 && !stdout_errno) stdout_errno = errno ? errno : EIO;
}

/* Writes a key with its control characters as \xNN, so that one line stays one line. */
static void put_printable(FILE *f, const char *s) {
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) fprintf(f, "\\x%02X", (unsigned)(unsigned char)*s);
        else fputc(*s, f);
    }
}

typedef struct listing {
    records rs;
    unsigned count;
} listing;

/* One line per upload: key, upload id, when it started, and what the local checkpoint
   that names it would do (tab-separated: a key may hold spaces). */
static int print_upload(const ossr_upload_info *u, void *user) {
    listing *l = (listing *)user;
    const record *r = find_record(&l->rs, u->upload_id);
    put_printable(stdout, u->key);
    printf("\t%s\t%s\t", u->upload_id, u->initiated);
    if (r) printf("%s %s", record_resumes(r) ? "resumable from" : "stale checkpoint of", r->file);
    putchar('\n');
    l->count++;
    return interrupted;   /* Ctrl-C stops the listing */
}

/* ossup uploads oss://BUCKET[/PREFIX] */
static int cmd_uploads(ossr_options *o, args *a) {
    const char *prefix;
    listing l;
    ossr_status st;
    ossr_result r;
    if (parse_oss_url(a->operand[0], &o->bucket, &prefix))
        return fail_usage("expected oss://BUCKET[/PREFIX]", a->operand[0]);
    memset(&l, 0, sizeof l);
    load_records(o, &l.rs);
    r = ossr_list_uploads(o, prefix, print_upload, &l, &st);
    free(l.rs.v);
    flush_stdout();
    if (interrupted) {
        fputs("ossup: interrupted\n", stderr);
        return EXIT_INTERRUPTED;
    }
    if (r != OSSR_OK) return say_failure(&st, NULL);
    if (!l.count && !quiet) fprintf(stderr, "ossup: no incomplete uploads in %s\n", a->operand[0]);
    return 0;
}

/* Removes the records of the checkpoint directory that resume upload_id (it is gone). */
static int remove_records(const ossr_options *o, const char *upload_id) {
    records rs;
    size_t i;
    int removed = 0;
    memset(&rs, 0, sizeof rs);
    load_records(o, &rs);
    for (i = 0; i < rs.n; i++)
        if (!strcmp(rs.v[i].upload_id, upload_id) && remove_file(rs.v[i].path) == 0) removed++;
    free(rs.v);
    return removed;
}

/* Whether upload_id is an incomplete upload of o's key: 1, 0, or -1 when the listing
   failed. (An abort of an upload that is gone succeeds, so it cannot tell.) */
static int find_id(const ossr_upload_info *u, void *user) {
    const char **want = (const char **)user;   /* key, upload id; the key is cleared when found */
    if (!strcmp(u->key, want[0]) && !strcmp(u->upload_id, want[1])) { want[0] = NULL; return 1; }
    return interrupted;
}
static int upload_exists(const ossr_options *o, const char *upload_id) {
    const char *want[2];
    ossr_options quiet_copy = *o;   /* a failed look is no error: the abort then says */
    ossr_status st;
    quiet_copy.log = NULL;
    want[0] = o->key;
    want[1] = upload_id;
    if (ossr_list_uploads(&quiet_copy, o->key, find_id, (void *)want, &st) != OSSR_OK) return -1;
    return want[0] == NULL;
}

/* ossup abort FILE oss://BUCKET/KEY: the upload FILE's checkpoint would resume;
   ossup abort oss://BUCKET/KEY --upload-id ID: that one (and a checkpoint naming it). */
/* "ossup abort FILE oss://BUCKET/KEY" for an interrupted "ossup get" of KEY to FILE:
   drops its checkpoint and FILE.ossr-tmp. -1 when there is no such download. */
static int abort_download(ossr_options *o, const char *file, const char *key) {
    uint64_t size;
    const char *what = "", *dest = file_kind(file, &size, &what) == KIND_DIR && *key && !ends_with_separator(key)
                                   ? concat(ends_with_separator(file) ? file : concat(file, "/"), last_part(key)) : file;
    ossr_status st;
    if (file_kind(concat(dest, ".ossr-tmp"), &size, &what) != KIND_FILE) return -1;
    o->key = key;
    o->file_path = dest;
    if (ossr_abort_download(o, &st) != OSSR_OK) return say_failure(&st, NULL);
    if (!quiet) printf("dropped the download of oss://%s/%s to %s: its checkpoint and %s.ossr-tmp are removed\n",
                       o->bucket, key, dest, dest);
    return 0;
}

static int cmd_abort(ossr_options *o, args *a) {
    const char *file = a->count == 2 ? a->operand[0] : NULL, *url = a->operand[a->count - 1], *key;
    uint64_t size;
    ossr_status st;
    ossr_result r;
    int rc, removed;
    const char *what = "";
    if (!file == !a->upload_id)
        return fail_usage("abort takes FILE oss://BUCKET/KEY, or oss://BUCKET/KEY --upload-id ID", NULL);
    if (parse_oss_url(url, &o->bucket, &key)) return fail_usage("expected oss://BUCKET/KEY", url);
    if (file && (rc = abort_download(o, file, key)) > 0) return rc;   /* a download's abort failed: said */
    if (file && rc == 0 && file_kind(file, &size, &what) != KIND_FILE) return 0;   /* no upload of FILE to abort */
    if (file && (rc = refuse_non_regular(file, &size)) != 0) return rc;
    if (file) key = put_key(key, file);   /* the key "ossup put" would have used */
    else if (!*key || ends_with_separator(key)) return fail_usage("--upload-id needs the object's whole key", url);
    o->key = key;
    o->file_path = file;
    if (a->upload_id && upload_exists(o, a->upload_id) == 0) {
        fprintf(stderr, "ossup: error: oss://%s/%s has no incomplete upload %s (completed or aborted already?)\n",
                o->bucket, key, a->upload_id);
        return EXIT_FAILED;
    }
    r = ossr_abort_upload(o, a->upload_id, &st);
    if (r != OSSR_OK && interrupted) {
        fputs("ossup: interrupted\n", stderr);
        return EXIT_INTERRUPTED;
    }
    if (r != OSSR_OK) return say_failure(&st, NULL);
    removed = file ? st.upload_id[0] != 0 : remove_records(o, st.upload_id);
    if (quiet) return 0;
    if (!st.upload_id[0])
        printf("no upload to abort: %s has no checkpoint for oss://%s/%s\n", file, o->bucket, key);
    else
        printf("aborted upload %s of oss://%s/%s%s\n", st.upload_id, o->bucket, key,
               removed ? "; checkpoint removed" : "");
    return 0;
}

typedef struct command {
    const char *name;
    int min, max;                  /* operands */
    int (*run)(ossr_options *o, args *a);
    const char *form;              /* what it takes, for a usage error */
} command;

static const command commands[] = {
    {"put", 2, 2, cmd_put, "put takes FILE oss://BUCKET/KEY"},
    {"get", 2, 2, cmd_get, "get takes oss://BUCKET/KEY FILE"},
    {"uploads", 1, 1, cmd_uploads, "uploads takes oss://BUCKET[/PREFIX]"},
    {"abort", 1, 2, cmd_abort, "abort takes FILE oss://BUCKET/KEY, or oss://BUCKET/KEY --upload-id ID"},
};

/* >>TLS by the platform ---------------------------------------------------------------- */
/* Built with -DOSSUP_MBEDTLS and -DOSSR_NO_TLS (make build/ossup-mbedtls), ossup carries
   https:// over examples/mbedtls_transport.c instead of the library's BearSSL, with the
   same flags and sources of trust (--ca-file, SSL_CERT_FILE, the system bundle,
   --insecure); a refused certificate is named in mbedTLS's words. The rest of ossup
   only calls use_platform_tls() and prints TLS_VERSION_WORDS and transport_words, which
   a BearSSL build leaves empty. */
#ifdef OSSUP_MBEDTLS
#include "mbedtls_transport.c"
#include <mbedtls/version.h>
#define TLS_VERSION_WORDS " (TLS: mbedTLS " MBEDTLS_VERSION_STRING ")"
static ossr_mbedtls platform_tls;
static ossr_transport platform_transport;

static void free_platform_tls(void) { ossr_mbedtls_free(&platform_tls); }

/* For an https:// endpoint, sets o->transport to mbedTLS. 0, or the exit status after
   saying why it cannot be. */
static int use_platform_tls(ossr_options *o, bar_state *bar) {
    ossr_endpoint ep;
    if (ossr_parse_endpoint(o->endpoint, &ep) != OSSR_OK || !ep.https) return 0;   /* the library's sockets */
    if (o->tls_small_buffer)
        return fail_usage("--small-tls-buffer sizes BearSSL's buffer; this ossup uses mbedTLS", NULL);
    platform_tls.ca_file = o->ca_file;
    platform_tls.insecure = o->insecure;
    atexit(free_platform_tls);
    if (ossr_mbedtls_setup(&platform_tls, &platform_transport) != 0) {
        fprintf(stderr, "ossup: error: %s\n", platform_tls.last_error);
        return EXIT_FAILED;
    }
    if (o->insecure)   /* the library's warning, which it does not give for a transport's TLS */
        on_log(OSSR_LOG_WARN, "insecure: the server's certificate is NOT checked; anyone on the network path can "
               "read and change this transfer", bar);
    o->transport = &platform_transport;
    transport_words = platform_tls.last_error;
    return 0;
}
#else
#define TLS_VERSION_WORDS ""
/* The library's own TLS (BearSSL) carries https://: nothing to do. */
static int use_platform_tls(ossr_options *o, bar_state *bar) {
    (void)o;
    (void)bar;
    return 0;
}
#endif

/* >>options --------------------------------------------------------------------------- */
/* The options that take no value; 1 when opt was one of them. */
static int parse_flag(const char *opt, ossr_options *o) {
    if (!strcmp(opt, "--path-style")) o->addressing = OSSR_ADDR_PATH;
    else if (!strcmp(opt, "--virtual-host")) o->addressing = OSSR_ADDR_VIRTUAL;
    else if (!strcmp(opt, "--cname")) o->addressing = OSSR_ADDR_CNAME;
    else if (!strcmp(opt, "--quiet")) quiet = 1;
    else if (!strcmp(opt, "--verbose")) verbose = 1;
    else if (!strcmp(opt, "--stats")) stats = 1;
    else if (!strcmp(opt, "--sequential")) o->sequential = 1;
    else if (!strcmp(opt, "--insecure")) o->insecure = 1;
    else if (!strcmp(opt, "--small-tls-buffer")) o->tls_small_buffer = 1;
    else return 0;
    return 1;
}

/* An option with a value: 0, or the exit status after a usage message. */
static int parse_valued(const char *opt, const char *val, ossr_options *o, args *a) {
    if (!strcmp(opt, "--endpoint")) o->endpoint = val;
    else if (!strcmp(opt, "--region")) o->region = val;
    else if (!strcmp(opt, "--connect-to")) o->connect_to = val;
    else if (!strcmp(opt, "--checkpoint-dir")) o->checkpoint_dir = val;
    else if (!strcmp(opt, "--ca-file")) o->ca_file = val;
    else if (!strcmp(opt, "--upload-id")) a->upload_id = val;
    else if (!strcmp(opt, "--sign-version")) {
        if (strcmp(val, "1") && strcmp(val, "4")) return fail_usage("--sign-version takes 1 or 4", val);
        o->sign_version = atoi(val);
    } else if (!strcmp(opt, "--threads")) {
        if (parse_int(val, 1, 64, &o->num_threads)) return fail_usage("--threads takes 1 to 64", val);
    } else if (!strcmp(opt, "--attempts")) {
        if (parse_int(val, 1, 100, &o->max_attempts)) return fail_usage("--attempts takes 1 to 100", val);
    } else if (!strcmp(opt, "--timeout")) {
        int s;
        if (parse_int(val, 1, 86400, &s)) return fail_usage("--timeout takes seconds, 1 to 86400", val);
        o->connect_timeout_ms = o->io_timeout_ms = s * 1000;
    } else if (!strcmp(opt, "--part-size")) {
        if (parse_size(val, &o->part_size) || o->part_size == 0) return fail_usage("bad --part-size", val);
        a->part_size_typed = val;
    } else if (!strcmp(opt, "--buffer-size")) {
        uint64_t v;
        if (parse_size(val, &v) || v < 16384 || v > (16u << 20))
            return fail_usage("--buffer-size takes 16K to 16M", val);
        o->buffer_size = (size_t)v;
    } else if (!strcmp(opt, "--threshold")) {
        if (parse_size(val, &o->multipart_threshold)) return fail_usage("bad --threshold", val);
        if (o->multipart_threshold == 0) o->multipart_threshold = 1;  /* 0: everything multipart */
    } else if (!strcmp(opt, "--max-speed")) {
        if (parse_size(val, &o->max_bytes_per_second) || o->max_bytes_per_second == 0)
            return fail_usage("--max-speed takes bytes per second (K, M, G suffixes), above 0", val);
    } else if (!strcmp(opt, "--header")) {
        char *copy, *c, *v;
        if (o->header_count == MAX_HEADERS) return fail_usage("too many --header options", NULL);
        copy = keep(strdup(val));
        c = strchr(copy, ':');
        if (!c || c == copy) return fail_usage("--header takes 'Name: value'", val);
        *c = 0;
        v = c + 1;
        while (*v == ' ' || *v == '\t') v++;
        a->headers[o->header_count].name = copy;
        a->headers[o->header_count++].value = v;
    } else return fail_usage("unknown option", opt);
    return 0;
}

/* Keeps an option that "ossup abort" of the same upload needs (see again_names). */
static void note_again(const char *name, const char *value) {
    int i, n = (int)(sizeof again_names / sizeof again_names[0]);
    for (i = 0; i < n; i++)
        if (!strcmp(name, again_names[i])) {
            int slot = i < AGAIN_SLOTS - 1 ? i : AGAIN_SLOTS - 1;
            again[slot][0] = again_names[i];
            again[slot][1] = value;
        }
}

/* Operands and options, in any order ("--" ends the options); an option's value comes
   as the next argument or after '=' (--threads=4). 0, -1 after --help, or the exit
   status of a usage error. */
static int parse_args(int argc, char **argv, ossr_options *o, args *a) {
    int i, options = 1, rc;
    for (i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        if (!options || strncmp(arg, "--", 2) != 0) {
            if (a->count == 3) return fail_usage("too many operands", arg);
            a->operand[a->count++] = arg;
        } else if (!strcmp(arg, "--")) options = 0;
        else if (!strcmp(arg, "--help")) { usage(stdout); return -1; }
        else if (eq) {   /* --name=value */
            size_t n = (size_t)(eq - arg);
            char *name = keep((char *)malloc(n + 1));
            memcpy(name, arg, n);
            name[n] = 0;
            if (!strcmp(name, "--help") || parse_flag(name, o)) return fail_usage(concat(name, " takes no value"), arg);
            if ((rc = parse_valued(name, eq + 1, o, a)) != 0) return rc;
            note_again(name, eq + 1);
        } else if (parse_flag(arg, o)) note_again(arg, NULL);
        else if (i + 1 == argc) return fail_usage("option needs a value", arg);
        else if ((rc = parse_valued(arg, argv[i + 1], o, a)) != 0) return rc;
        else note_again(arg, argv[++i]);
    }
    if (quiet && verbose) return fail_usage("--quiet and --verbose cannot be used together", NULL);
    return 0;
}

/* Endpoint, credentials and callbacks, from the flags and the environment. */
static int connect_options(ossr_options *o, args *a) {
    const char *env = getenv("OSS_REGION");
    if (!o->endpoint) o->endpoint = getenv("OSS_ENDPOINT");
    if (!o->region && env && *env) o->region = env;
    if (!o->endpoint || !*o->endpoint) return fail_usage("no endpoint: use --endpoint URL or set OSS_ENDPOINT", NULL);
    o->access_key_id = getenv("OSS_ACCESS_KEY_ID");
    o->access_key_secret = getenv("OSS_ACCESS_KEY_SECRET");
    env = getenv("OSS_SESSION_TOKEN");
    o->security_token = env && *env ? env : NULL;
    o->headers = a->headers;
    show_bar = !quiet && isatty(2);
    o->progress = on_progress;
    o->progress_user = &a->bar;
    o->log = on_log;
    o->log_user = &a->bar;
    o->cancel = &interrupted;
    return use_platform_tls(o, &a->bar);
}

/* Descriptors 0, 1 and 2 that are closed (ossup ... 2>&-) are opened on /dev/null before
   anything else is: otherwise the library's first socket or file takes the number, and
   a message meant for stderr goes into an OSS request, a checkpoint or the file being
   downloaded. They are opened the other way round (stdin for writing, stdout and stderr
   for reading), so that writing a closed stdout still fails, and is said, as before. */
static void hold_std_descriptors(void) {
#ifndef _WIN32
    int fd;
    for (fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
            if (got >= 0 && got != fd) close(got);   /* not the lowest free one: leave it */
        }
#endif
}

/* Standard output that could not be written (a full disk, a closed descriptor) fails
   the run, as it does for cp or ls: a listing or a summary that was lost is no success.
   Returns the exit status. */
static int check_stdout(int rc) {
    flush_stdout();
    if (!stdout_errno && !ferror(stdout)) return rc;
    fprintf(stderr, "ossup: error: cannot write standard output%s%s\n", stdout_errno ? ": " : "",
            stdout_errno ? strerror(stdout_errno) : "");
    return rc ? rc : EXIT_FAILED;
}

static int run(int argc, char **argv) {
    static args a;    /* static: the headers array is large for a stack */
    ossr_options o;
    const command *cmd = NULL;
    size_t i;
    int rc;

#ifdef _WIN32
    {
        char **u = utf8_argv(&argc);
        if (u) argv = u;
    }
#endif
    memset(&o, 0, sizeof o);
    atexit(release);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { usage(stdout); return 0; }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("ossup %s%s\n", OSSR_VERSION_STRING, TLS_VERSION_WORDS);
        return 0;
    }
    if (argc < 2) return fail_usage("expected a command: put, get, uploads or abort", NULL);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "ossup: unknown command '%s' (commands: put, get, uploads, abort)\n", argv[1]);
        fprintf(stderr, "run 'ossup --help' for usage\n");
        return EXIT_USAGE;
    }
    a.cmd = cmd->name;
    if ((rc = parse_args(argc - 2, argv + 2, &o, &a)) != 0) return rc < 0 ? 0 : rc;
    if (a.count < cmd->min || a.count > cmd->max) return fail_usage(cmd->form, NULL);
    if ((rc = connect_options(&o, &a)) != 0) return rc;
    catch_interrupts();
    return cmd->run(&o, &a);
}

int main(int argc, char **argv) {
    hold_std_descriptors();
    return check_stdout(run(argc, argv));
}
