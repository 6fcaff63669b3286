/* ossup - upload and download files to Alibaba Cloud OSS with oss_resumable.h.

   This example is the library's command-line face: "ossup put" is a resumable upload
   (run it again after a failure or a crash and it resumes), "ossup get" a download.

       ossup put FILE oss://BUCKET/KEY [--endpoint URL] [--region ID] [--sign-version 1|4]
           [--path-style] [--threads N] [--part-size SIZE] [--threshold SIZE]
           [--checkpoint-dir DIR] [--header 'Name: value']... [--quiet] [--stats]
       ossup get oss://BUCKET/KEY FILE [same connection options]

   SIZE takes K, M, G suffixes (powers of 1024). Credentials come from OSS_ACCESS_KEY_ID,
   OSS_ACCESS_KEY_SECRET and OSS_SESSION_TOKEN; OSS_ENDPOINT and OSS_REGION stand in for
   the flags. Exit status 0 on success; otherwise non-zero and one line on stderr naming
   the OSS error code and request id. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#endif

#define MAX_HEADERS 64

static int quiet, verbose, show_bar, stats;
static char *hcopy[MAX_HEADERS], *urlcopy;   /* freed at exit, whichever way main returns */
static size_t nh;

static void release(void) {
    size_t i;
    for (i = 0; i < nh; i++) free(hcopy[i]);
    free(urlcopy);
}

static void usage(FILE *f) {
    fprintf(f,
        "usage: ossup put FILE oss://BUCKET/KEY [options]\n"
        "       ossup get oss://BUCKET/KEY FILE [options]\n"
        "options:\n"
        "  --endpoint URL         http(s)://host[:port] (or OSS_ENDPOINT)\n"
        "  --region ID            region id such as cn-hangzhou; enables V4 signing (or OSS_REGION)\n"
        "  --sign-version 1|4     signature version (default: 4 with a region, else 1)\n"
        "  --path-style           address the bucket in the path, not the host name\n"
        "  --virtual-host         address the bucket in the host name even for IPs/localhost\n"
        "  --cname                the endpoint is a custom domain bound to the bucket\n"
        "  --connect-to HOST:PORT connect there instead of the endpoint's address\n"
        "  --threads N            parallel part uploads (default 1)\n"
        "  --part-size SIZE       preferred part size (default 10M; K, M, G suffixes)\n"
        "  --buffer-size SIZE     per-connection buffer (default for http:// 256K with 1-2\n"
        "                         threads, 128K with 3-4, 64K above; 16K for https://,\n"
        "                         where file bytes go straight into TLS records)\n"
        "  --threshold SIZE       files this large or larger go multipart (default 10M)\n"
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
        "credentials: OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_SESSION_TOKEN\n");
}

static int fail_usage(const char *msg, const char *arg) {
    fprintf(stderr, "ossup: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "run 'ossup --help' for usage\n");
    return 2;
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
/* oss://BUCKET/KEY -> bucket and key (pointers into a copy). */
static int parse_oss_url(char *url, const char **bucket, const char **key) {
    char *slash;
    if (strncmp(url, "oss://", 6) != 0) return -1;
    url += 6;
    slash = strchr(url, '/');
    if (!slash || slash == url || !slash[1]) return -1;
    *slash = 0;
    *bucket = url;
    *key = slash + 1;
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
typedef struct bar_state { double start, last; uint64_t first; int drawn; } bar_state;
static int on_progress(uint64_t done, uint64_t total, void *user) {
    bar_state *b = (bar_state *)user;
    double t = now_s(), rate;
    char bar[31];
    int i, fill;
    if (!show_bar) return 0;
    if (!b->drawn) { b->start = t; b->first = done; }
    if (b->drawn && done < total && t - b->last < 0.1) return 0;
    b->last = t;
    b->drawn = 1;
    fill = total ? (int)(done * 30 / total) : 30;
    for (i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = 0;
    rate = t > b->start ? (double)(done - b->first) / (t - b->start) : 0;
    fprintf(stderr, "\r[%s] %3d%%  %.1f/%.1f MiB  %.1f MiB/s ", bar,
            total ? (int)(done * 100 / total) : 100, done / 1048576.0, total / 1048576.0, rate / 1048576.0);
    fflush(stderr);
    return 0;
}
static void on_log(int level, const char *msg, void *user) {
    bar_state *b = (bar_state *)user;
    int insecure = strncmp(msg, "insecure", 8) == 0;   /* said on every run, even --quiet */
    if ((quiet && !insecure) || (level < OSSR_LOG_INFO && !verbose)) return;
    if (b->drawn) { fputc('\n', stderr); b->drawn = 0; }
    fprintf(stderr, "ossup: %s%s\n", level >= OSSR_LOG_WARN ? "warning: " : "", msg);
}

int main(int argc, char **argv) {
    ossr_options o;
    ossr_status st;
    ossr_header headers[MAX_HEADERS];
    const char *cmd, *file = NULL, *url = NULL, *env;
    bar_state bar;
    ossr_result r;
    int a;

#ifdef _WIN32
    {
        char **u = utf8_argv(&argc);
        if (u) argv = u;
    }
#endif
    memset(&o, 0, sizeof o);
    memset(&bar, 0, sizeof bar);
    atexit(release);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { usage(stdout); return 0; }
    if (argc >= 2 && !strcmp(argv[1], "--version")) { printf("ossup %s\n", OSSR_VERSION_STRING); return 0; }
    if (argc < 4) return fail_usage("expected a command and two operands", NULL);
    cmd = argv[1];
    if (!strcmp(cmd, "put")) { file = argv[2]; url = argv[3]; }
    else if (!strcmp(cmd, "get")) { url = argv[2]; file = argv[3]; }
    else return fail_usage("unknown command", cmd);
    o.endpoint = getenv("OSS_ENDPOINT");
    o.region = getenv("OSS_REGION");
    if (o.region && !*o.region) o.region = NULL;
    for (a = 4; a < argc; a++) {
        const char *opt = argv[a], *val = a + 1 < argc ? argv[a + 1] : NULL;
        int takes = 1;
        if (!strcmp(opt, "--path-style")) { o.addressing = OSSR_ADDR_PATH; takes = 0; }
        else if (!strcmp(opt, "--virtual-host")) { o.addressing = OSSR_ADDR_VIRTUAL; takes = 0; }
        else if (!strcmp(opt, "--cname")) { o.addressing = OSSR_ADDR_CNAME; takes = 0; }
        else if (!strcmp(opt, "--quiet")) { quiet = 1; takes = 0; }
        else if (!strcmp(opt, "--verbose")) { verbose = 1; takes = 0; }
        else if (!strcmp(opt, "--stats")) { stats = 1; takes = 0; }
        else if (!strcmp(opt, "--sequential")) { o.sequential = 1; takes = 0; }
        else if (!strcmp(opt, "--insecure")) { o.insecure = 1; takes = 0; }
        else if (!strcmp(opt, "--small-tls-buffer")) { o.tls_small_buffer = 1; takes = 0; }
        else if (!val) return fail_usage("option needs a value", opt);
        else if (!strcmp(opt, "--endpoint")) o.endpoint = val;
        else if (!strcmp(opt, "--region")) o.region = val;
        else if (!strcmp(opt, "--connect-to")) o.connect_to = val;
        else if (!strcmp(opt, "--checkpoint-dir")) o.checkpoint_dir = val;
        else if (!strcmp(opt, "--ca-file")) o.ca_file = val;
        else if (!strcmp(opt, "--sign-version")) {
            if (strcmp(val, "1") && strcmp(val, "4")) return fail_usage("--sign-version takes 1 or 4", val);
            o.sign_version = atoi(val);
        } else if (!strcmp(opt, "--threads")) {
            if (parse_int(val, 1, 64, &o.num_threads)) return fail_usage("--threads takes 1 to 64", val);
        } else if (!strcmp(opt, "--attempts")) {
            if (parse_int(val, 1, 100, &o.max_attempts)) return fail_usage("--attempts takes 1 to 100", val);
        } else if (!strcmp(opt, "--timeout")) {
            int s;
            if (parse_int(val, 1, 86400, &s)) return fail_usage("--timeout takes seconds, 1 to 86400", val);
            o.connect_timeout_ms = o.io_timeout_ms = s * 1000;
        } else if (!strcmp(opt, "--part-size")) {
            if (parse_size(val, &o.part_size) || o.part_size == 0) return fail_usage("bad --part-size", val);
        } else if (!strcmp(opt, "--buffer-size")) {
            uint64_t v;
            if (parse_size(val, &v) || v < 16384 || v > (16u << 20))
                return fail_usage("--buffer-size takes 16K to 16M", val);
            o.buffer_size = (size_t)v;
        } else if (!strcmp(opt, "--threshold")) {
            if (parse_size(val, &o.multipart_threshold)) return fail_usage("bad --threshold", val);
            if (o.multipart_threshold == 0) o.multipart_threshold = 1;  /* 0: everything multipart */
        } else if (!strcmp(opt, "--header")) {
            char *c, *v;
            if (nh == MAX_HEADERS) return fail_usage("too many --header options", NULL);
            hcopy[nh] = strdup(val);
            if (!hcopy[nh]) return 1;
            c = strchr(hcopy[nh++], ':');
            if (!c || c == hcopy[nh - 1]) return fail_usage("--header takes 'Name: value'", val);
            *c = 0;
            v = c + 1;
            while (*v == ' ' || *v == '\t') v++;
            headers[nh - 1].name = hcopy[nh - 1];
            headers[nh - 1].value = v;
        } else return fail_usage("unknown option", opt);
        a += takes;
    }
    if (!o.endpoint || !*o.endpoint) return fail_usage("no endpoint: use --endpoint URL or set OSS_ENDPOINT", NULL);
    urlcopy = strdup(url);
    if (!urlcopy) return 1;
    if (parse_oss_url(urlcopy, &o.bucket, &o.key)) return fail_usage("expected oss://BUCKET/KEY", url);
    o.file_path = file;
    o.access_key_id = getenv("OSS_ACCESS_KEY_ID");
    o.access_key_secret = getenv("OSS_ACCESS_KEY_SECRET");
    env = getenv("OSS_SESSION_TOKEN");
    o.security_token = env && *env ? env : NULL;
    o.headers = headers;
    o.header_count = nh;
    show_bar = !quiet && isatty(2);
    o.progress = on_progress;
    o.progress_user = &bar;
    o.log = on_log;
    o.log_user = &bar;

    r = !strcmp(cmd, "put") ? ossr_upload(&o, &st) : ossr_download(&o, &st);
    if (bar.drawn) fputc('\n', stderr);
    if (stats)
        fprintf(stderr, "stats: peak_heap=%llu workers=%u heap_per_worker=%llu ckpt_bytes=%llu ckpt_writes=%u "
                "crc64=%s\n", (unsigned long long)st.heap_peak, st.workers, (unsigned long long)st.heap_per_worker,
                (unsigned long long)st.checkpoint_bytes, st.checkpoint_writes, ossr_crc64_engine());
    if (r != OSSR_OK) {
        char line[1024];
        fprintf(stderr, "ossup: error: %s\n", ossr_status_format(&st, line, sizeof line));
        return r == OSSR_E_CANCELLED ? 130 : 1;
    }
    if (!quiet) {
        if (!strcmp(cmd, "put"))
            printf("uploaded %s to oss://%s/%s: %llu bytes, CRC-64 %llu, %s%s%u of %u parts sent, %u reused\n",
                   file, o.bucket, o.key, (unsigned long long)st.size, (unsigned long long)st.crc64,
                   st.multipart ? "multipart" : "single PUT", st.resumed ? " (resumed), " : ", ",
                   st.multipart ? st.parts_uploaded : 1u, st.multipart ? st.parts_total : 1u, st.parts_reused);
        else
            printf("downloaded oss://%s/%s to %s: %llu bytes, CRC-64 %llu\n", o.bucket, o.key, file,
                   (unsigned long long)st.size, (unsigned long long)st.crc64);
    }
    return 0;
}
