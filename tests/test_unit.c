/* test_unit.c - unit tests of the building blocks of oss_resumable.h.

   Build and run from the project root:
       cc -std=c99 -Wall -Wextra tests/test_unit.c -o build/test_unit -lpthread
       ./build/test_unit tests/
   The argument is the directory holding signatures.json and crc64.json; the vectors are
   read at run time, never copied into this file. Every check is counted, every failure
   is printed with its file:line and values, and the run never stops at the first one.
   The last line is "unit: N passed, M failed"; the exit status is non-zero when M > 0.

   The implementation is included here, so private ossr__* helpers are reachable too. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
/* Windows has no mkstemp, /tmp or pwrite: the two tests that make files of their own
   (the checkpoint loader and the 5 GiB sparse file) use these instead. */
#include <windows.h>
#include <winioctl.h>
#include <io.h>

/* A new, empty file in the temp directory, as mkstemp makes one in /tmp; its name goes
   to path (MAX_PATH bytes). 0 on success. */
static int unit_temp_file(char *path, const char *prefix) {
    char dir[MAX_PATH];
    DWORD n = GetTempPathA(MAX_PATH, dir);
    if (n == 0 || n > MAX_PATH - 14) return -1;
    return GetTempFileNameA(dir, prefix, 0, path) != 0 ? 0 : -1;
}

/* Grows the file at path to size bytes without writing them, marked sparse first where
   the file system has sparse files (NTFS), then writes n bytes of mark at offset at.
   0 on success. */
static int unit_sparse_file(const char *path, uint64_t size, const void *mark, DWORD n, uint64_t at) {
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD got = 0;
    LARGE_INTEGER end;
    OVERLAPPED ov;
    int ok;
    if (h == INVALID_HANDLE_VALUE) return -1;
    DeviceIoControl(h, FSCTL_SET_SPARSE, NULL, 0, NULL, 0, &got, NULL);   /* FAT has none: then real */
    end.QuadPart = (LONGLONG)size;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)(at & 0xFFFFFFFFu);
    ov.OffsetHigh = (DWORD)(at >> 32);
    ok = SetFilePointerEx(h, end, NULL, FILE_BEGIN) && SetEndOfFile(h) &&
         WriteFile(h, mark, n, &got, &ov) && got == n;
    CloseHandle(h);
    return ok ? 0 : -1;
}
#endif

/* ================================================================================== */
/* harness                                                                            */
/* ================================================================================== */
static long g_pass, g_fail;
static char g_ctx[256]; /* the case being run, printed with each failure */

static void set_ctx(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_ctx, sizeof g_ctx, fmt, ap);
    va_end(ap);
}

/* Prints bytes as a C-like quoted string (escapes for controls, quotes and backslashes). */
static void print_bytes(const void *p, size_t n) {
    const unsigned char *s = (const unsigned char *)p;
    size_t i, lim = n > 700 ? 700 : n;
    if (!p) { fputs("(null)", stdout); return; }
    putchar('"');
    for (i = 0; i < lim; i++) {
        unsigned char c = s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c == '"') fputs("\\\"", stdout);
        else if (c == '\\') fputs("\\\\", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
    if (lim < n) printf("...(%lu bytes)", (unsigned long)n);
}

static void fail_head(const char *file, int line) {
    g_fail++;
    printf("FAIL %s:%d", file, line);
    if (g_ctx[0]) printf(" [%s]", g_ctx);
    fputs(": ", stdout);
}

static int check_true(int ok, const char *file, int line, const char *expr) {
    if (ok) { g_pass++; return 1; }
    fail_head(file, line);
    printf("%s\n", expr);
    return 0;
}
static int check_int(long long got, long long want, const char *file, int line,
                     const char *gexpr, const char *wexpr) {
    if (got == want) { g_pass++; return 1; }
    fail_head(file, line);
    printf("%s is %lld, expected %s = %lld\n", gexpr, got, wexpr, want);
    return 0;
}
static int check_uint(unsigned long long got, unsigned long long want, const char *file,
                      int line, const char *gexpr, const char *wexpr) {
    if (got == want) { g_pass++; return 1; }
    fail_head(file, line);
    printf("%s is %llu, expected %s = %llu\n", gexpr, got, wexpr, want);
    return 0;
}
static int check_mem(const void *got, size_t glen, const void *want, size_t wlen,
                     const char *file, int line, const char *gexpr) {
    if (got && want && glen == wlen && (glen == 0 || memcmp(got, want, glen) == 0)) {
        g_pass++;
        return 1;
    }
    fail_head(file, line);
    printf("%s\n       got  ", gexpr);
    print_bytes(got, glen);
    fputs("\n       want ", stdout);
    print_bytes(want, wlen);
    putchar('\n');
    return 0;
}
static int check_str(const char *got, const char *want, const char *file, int line,
                     const char *gexpr) {
    return check_mem(got, got ? strlen(got) : 0, want, want ? strlen(want) : 0, file, line,
                     gexpr);
}

#define CHECK(c) check_true((c) != 0, __FILE__, __LINE__, #c)
#define CHECK_I(g, w) check_int((long long)(g), (long long)(w), __FILE__, __LINE__, #g, #w)
#define CHECK_U(g, w) \
    check_uint((unsigned long long)(g), (unsigned long long)(w), __FILE__, __LINE__, #g, #w)
#define CHECK_MEM(gp, gl, wp, wl) check_mem((gp), (gl), (wp), (wl), __FILE__, __LINE__, #gp)
#define CHECK_STR(g, w) check_str((g), (w), __FILE__, __LINE__, #g)
#define CHECK_SLICE(s, w) check_mem((s).ptr, (s).len, (w), strlen(w), __FILE__, __LINE__, #s)

/* A heap copy of exactly n bytes, so AddressSanitizer sees any read past the end. */
static char *dup_exact(const void *p, size_t n) {
    char *q = (char *)malloc(n ? n : 1);
    if (!q) { fputs("out of memory\n", stderr); exit(2); }
    if (n) memcpy(q, p, n);
    return q;
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}
static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static void to_hex(const unsigned char *d, size_t n, char *out) {
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) { out[2 * i] = hx[d[i] >> 4]; out[2 * i + 1] = hx[d[i] & 15]; }
    out[2 * n] = 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Strict unsigned decimal; 0 on success. */
static int parse_dec_u64(const char *s, uint64_t *out) {
    uint64_t v = 0;
    if (!s || !*s) return -1;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9') return -1;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static char *read_whole_file(const char *dir, const char *name, size_t *len) {
    char path[1024];
    FILE *f;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    snprintf(path, sizeof path, "%s%s%s", dir,
             (dir[0] && dir[strlen(dir) - 1] != '/') ? "/" : "", name);
    f = fopen(path, "rb");
    if (!f) return NULL;
    for (;;) {
        size_t got;
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 65536;
            nb = (char *)realloc(buf, cap);
            if (!nb) { free(buf); fclose(f); return NULL; }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* ================================================================================== */
/* a small, strict JSON reader                                                        */
/* ================================================================================== */
enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };
typedef struct jv {
    int type;
    char *s;          /* J_STR: decoded UTF-8 (NUL-terminated); J_NUM: the number's text */
    size_t n;         /* length of s */
    char *key;        /* member name when the value sits in an object */
    size_t keyn;
    struct jv *kids;  /* J_ARR, J_OBJ: first element or member */
    struct jv *next;  /* next sibling */
} jv;

typedef struct jparser {
    const char *p, *end;
    int depth;
    const char *err;
} jparser;

static void jv_free(jv *v) {
    while (v) {
        jv *nx = v->next;
        jv_free(v->kids);
        free(v->s);
        free(v->key);
        free(v);
        v = nx;
    }
}

static int j_fail(jparser *j, const char *why) {
    if (!j->err) j->err = why;
    return -1;
}
static void j_ws(jparser *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}
/* Length of the well-formed UTF-8 sequence at p (at most avail bytes), 0 if ill-formed. */
static size_t utf8_len(const unsigned char *p, size_t avail) {
    unsigned long cp;
    size_t n, i;
    if (avail == 0) return 0;
    if (p[0] < 0x80) return 1;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) { n = 2; cp = p[0] & 0x1F; }
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) { n = 3; cp = p[0] & 0x0F; }
    else if (p[0] >= 0xF0 && p[0] <= 0xF4) { n = 4; cp = p[0] & 0x07; }
    else return 0;
    if (avail < n) return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}
static size_t put_utf8(unsigned long cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
static int j_hex4(const char *p, const char *end, unsigned long *out) {
    int i;
    unsigned long v = 0;
    if (end - p < 4) return -1;
    for (i = 0; i < 4; i++) {
        int d = hexval((unsigned char)p[i]);
        if (d < 0) return -1;
        v = v * 16 + (unsigned long)d;
    }
    *out = v;
    return 0;
}
/* At the opening quote; decodes into a fresh buffer. */
static int j_string(jparser *j, char **out, size_t *outn) {
    const char *q = j->p + 1, *s = q;
    char *buf;
    size_t o = 0;
    while (s < j->end && *s != '"') {
        if (*s == '\\') s++;
        s++;
    }
    if (s >= j->end) return j_fail(j, "unterminated string");
    buf = (char *)malloc((size_t)(s - q) + 1);
    if (!buf) return j_fail(j, "out of memory");
    while (q < s) {
        unsigned char c = (unsigned char)*q;
        if (c < 0x20) { free(buf); return j_fail(j, "control character in a string"); }
        if (c == '\\') {
            q++;
            switch (*q) {
            case '"': buf[o++] = '"'; q++; break;
            case '\\': buf[o++] = '\\'; q++; break;
            case '/': buf[o++] = '/'; q++; break;
            case 'b': buf[o++] = '\b'; q++; break;
            case 'f': buf[o++] = '\f'; q++; break;
            case 'n': buf[o++] = '\n'; q++; break;
            case 'r': buf[o++] = '\r'; q++; break;
            case 't': buf[o++] = '\t'; q++; break;
            case 'u': {
                unsigned long cp, lo;
                if (j_hex4(q + 1, s, &cp) != 0) { free(buf); return j_fail(j, "bad \\u escape"); }
                q += 5;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    free(buf);
                    return j_fail(j, "lone low surrogate");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (s - q < 6 || q[0] != '\\' || q[1] != 'u' || j_hex4(q + 2, s, &lo) != 0 ||
                        lo < 0xDC00 || lo > 0xDFFF) {
                        free(buf);
                        return j_fail(j, "high surrogate without its low half");
                    }
                    q += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                o += put_utf8(cp, buf + o);
                break;
            }
            default: free(buf); return j_fail(j, "unknown escape");
            }
        } else {
            size_t k = utf8_len((const unsigned char *)q, (size_t)(s - q));
            if (k == 0) { free(buf); return j_fail(j, "ill-formed UTF-8"); }
            memcpy(buf + o, q, k);
            o += k;
            q += k;
        }
    }
    buf[o] = 0;
    *out = buf;
    *outn = o;
    j->p = s + 1;
    return 0;
}
static int j_value(jparser *j, jv **out);
static int j_number(jparser *j, jv *v) {
    const char *st = j->p, *q = j->p;
    if (q < j->end && *q == '-') q++;
    if (q >= j->end) return j_fail(j, "bad number");
    if (*q == '0') q++;
    else if (*q >= '1' && *q <= '9') { while (q < j->end && *q >= '0' && *q <= '9') q++; }
    else return j_fail(j, "bad number");
    if (q < j->end && *q == '.') {
        q++;
        if (q >= j->end || *q < '0' || *q > '9') return j_fail(j, "bad fraction");
        while (q < j->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < j->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < j->end && (*q == '+' || *q == '-')) q++;
        if (q >= j->end || *q < '0' || *q > '9') return j_fail(j, "bad exponent");
        while (q < j->end && *q >= '0' && *q <= '9') q++;
    }
    v->type = J_NUM;
    v->n = (size_t)(q - st);
    v->s = dup_exact(st, v->n + 1);
    v->s[v->n] = 0;
    j->p = q;
    return 0;
}
static int j_literal(jparser *j, const char *word, int type, jv *v) {
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) return j_fail(j, "bad literal");
    j->p += n;
    v->type = type;
    return 0;
}
static int j_container(jparser *j, jv *v, int is_obj) {
    jv **tail = &v->kids;
    char close = is_obj ? '}' : ']';
    v->type = is_obj ? J_OBJ : J_ARR;
    if (++j->depth > 64) return j_fail(j, "nesting too deep");
    j->p++;
    j_ws(j);
    if (j->p < j->end && *j->p == close) { j->p++; j->depth--; return 0; }
    for (;;) {
        jv *kid = NULL;
        char *key = NULL;
        size_t keyn = 0;
        j_ws(j);
        if (is_obj) {
            const jv *o;
            if (j->p >= j->end || *j->p != '"') return j_fail(j, "expected a member name");
            if (j_string(j, &key, &keyn) != 0) return -1;
            for (o = v->kids; o; o = o->next)
                if (o->keyn == keyn && memcmp(o->key, key, keyn) == 0) {
                    free(key);
                    return j_fail(j, "duplicate member name");
                }
            j_ws(j);
            if (j->p >= j->end || *j->p != ':') { free(key); return j_fail(j, "expected ':'"); }
            j->p++;
        }
        if (j_value(j, &kid) != 0) { free(key); return -1; }
        kid->key = key;
        kid->keyn = keyn;
        *tail = kid;
        tail = &kid->next;
        j_ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == close) { j->p++; j->depth--; return 0; }
        return j_fail(j, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}
static int j_value(jparser *j, jv **out) {
    jv *v = (jv *)calloc(1, sizeof *v);
    int r;
    if (!v) return j_fail(j, "out of memory");
    *out = NULL;
    j_ws(j);
    if (j->p >= j->end) { free(v); return j_fail(j, "unexpected end"); }
    switch (*j->p) {
    case '{': r = j_container(j, v, 1); break;
    case '[': r = j_container(j, v, 0); break;
    case '"': v->type = J_STR; r = j_string(j, &v->s, &v->n); break;
    case 't': r = j_literal(j, "true", J_TRUE, v); break;
    case 'f': r = j_literal(j, "false", J_FALSE, v); break;
    case 'n': r = j_literal(j, "null", J_NULL, v); break;
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) r = j_number(j, v);
        else r = j_fail(j, "unexpected character");
    }
    if (r != 0) { jv_free(v); return -1; }
    *out = v;
    return 0;
}
/* Parses a whole document; NULL (and *err set) when it is not strict JSON. */
static jv *json_parse(const char *text, size_t len, const char **err) {
    jparser j;
    jv *root = NULL;
    j.p = text; j.end = text + len; j.depth = 0; j.err = NULL;
    if (j_value(&j, &root) == 0) {
        j_ws(&j);
        if (j.p == j.end) { if (err) *err = NULL; return root; }
        j_fail(&j, "trailing characters");
        jv_free(root);
    }
    if (err) *err = j.err;
    return NULL;
}
static const jv *jget(const jv *o, const char *key) {
    const jv *k;
    size_t n = strlen(key);
    if (!o || o->type != J_OBJ) return NULL;
    for (k = o->kids; k; k = k->next)
        if (k->keyn == n && memcmp(k->key, key, n) == 0) return k;
    return NULL;
}
static const char *jstr(const jv *v) { return v && v->type == J_STR ? v->s : NULL; }
static size_t jcount(const jv *v) {
    size_t n = 0;
    const jv *k;
    if (!v || (v->type != J_ARR && v->type != J_OBJ)) return 0;
    for (k = v->kids; k; k = k->next) n++;
    return n;
}
/* An integer-valued number (no fraction or exponent); 0 on success. */
static int jint(const jv *v, long long *out) {
    const char *p;
    long long x = 0;
    int neg = 0;
    if (!v || v->type != J_NUM) return -1;
    p = v->s;
    if (*p == '-') { neg = 1; p++; }
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        if (x > (0x7FFFFFFFFFFFFFFFll - (*p - '0')) / 10) return -1;
        x = x * 10 + (*p - '0');
    }
    *out = neg ? -x : x;
    return 0;
}

static void test_json_reader(void) {
    static const char *const bad[] = {
        "", "[1,]", "{\"a\":1,}", "01", "[01]", "1.", "-", "tru", "nul", "\"abc",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\x41\"", "\"\\u12G4\"",
        "{\"a\" 1}", "{a:1}", "[1 2]", "{\"a\":1,\"a\":2}", "\"tab\there\"", "1 2", "[",
        "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF5\x80\x80\x80\"", "1e", "+1", NULL};
    const char *good = "{\"s\":\"a\\\"b\\\\c\\/d\\n\\u0041\\u4e2d\\ud83d\\ude00\","
                       "\"n\":-12,\"f\":1.5e3,\"a\":[true,false,null,[],{}],\"u\":\"\xE5\x86\x99\"}";
    const char *err = NULL;
    jv *r;
    int i;
    set_ctx("json reader");
    r = json_parse(good, strlen(good), &err);
    if (CHECK(r != NULL)) {
        long long n = 0;
        CHECK_STR(jstr(jget(r, "s")), "a\"b\\c/d\nA\xE4\xB8\xAD\xF0\x9F\x98\x80");
        CHECK(jint(jget(r, "n"), &n) == 0 && n == -12);
        CHECK(jint(jget(r, "f"), &n) != 0);
        CHECK_U(jcount(jget(r, "a")), 5);
        CHECK_STR(jstr(jget(r, "u")), "\xE5\x86\x99");
        CHECK(jget(r, "missing") == NULL);
        jv_free(r);
    } else {
        printf("       reader error: %s\n", err ? err : "?");
    }
    for (i = 0; bad[i]; i++) {
        char *copy = dup_exact(bad[i], strlen(bad[i]));
        set_ctx("json reader rejects %s", bad[i]);
        r = json_parse(copy, strlen(bad[i]), NULL);
        CHECK(r == NULL);
        jv_free(r);
        free(copy);
    }
}

/* ================================================================================== */
/* 1. signature vectors                                                               */
/* ================================================================================== */
static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
/* Days from 1970-01-01 to y-m-d (y >= 1970), counted year by year. */
static long long days_from_civil(int y, int m, int d) {
    static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    long long days = 0;
    int yy;
    for (yy = 1970; yy < y; yy++) days += is_leap(yy) ? 366 : 365;
    days += before[m - 1] + (m > 2 && is_leap(y)) + d - 1;
    return days;
}
static int two_digits(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }
/* "YYYYMMDDTHHMMSSZ" to unix seconds; 0 on success. */
static int iso_basic_to_unix(const char *s, int64_t *out) {
    int i, y, mo, d, h, mi, se;
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') return -1;
    for (i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9')) return -1;
    y = two_digits(s) * 100 + two_digits(s + 2);
    mo = two_digits(s + 4); d = two_digits(s + 6);
    h = two_digits(s + 9); mi = two_digits(s + 11); se = two_digits(s + 13);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
    *out = (int64_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
    return 0;
}

/* The pairs of a JSON object of strings as an ossr_header array (malloc'd; NULL if empty). */
static ossr_header *object_to_headers(const jv *o, size_t *n) {
    ossr_header *h;
    const jv *k;
    size_t i = 0;
    *n = jcount(o);
    if (*n == 0) return NULL;
    h = (ossr_header *)calloc(*n, sizeof *h);
    if (!h) exit(2);
    for (k = o->kids; k; k = k->next, i++) {
        h[i].name = k->key;
        h[i].value = k->type == J_STR ? k->s : "";
        CHECK(k->type == J_STR);
    }
    return h;
}

static void sign_one(const jv *vec, const char *label, int version, int64_t unix_time) {
    const jv *ver = jget(vec, version == 1 ? "v1" : "v4");
    const jv *added = jget(ver, "headers_added_by_signer");
    const jv *addl = jget(vec, "additional_headers_requested");
    const char *exp_sts = jstr(jget(ver, "expected_string_to_sign"));
    const char *exp_auth = jstr(jget(ver, "expected_authorization"));
    const char *exp_creq = jstr(jget(ver, "expected_canonical_request"));
    const char *exp_sig = jstr(jget(ver, "expected_signature"));
    const char *exp_date = jstr(jget(added, version == 1 ? "Date" : "x-oss-date"));
    ossr_sign_input in;
    ossr_signature out;
    ossr_header *hdrs, *qry;
    const char **extra = NULL;
    size_t nh = 0, nq = 0, na = 0, i;
    char *scratch = (char *)malloc(8192);
    ossr_result r;
    const jv *k;

    set_ctx("%s V%d", label, version);
    memset(&in, 0, sizeof in);
    in.method = jstr(jget(vec, "method"));
    in.bucket = jstr(jget(vec, "bucket"));
    in.key = jstr(jget(vec, "key"));
    qry = object_to_headers(jget(vec, "query_params"), &nq);
    hdrs = object_to_headers(jget(vec, "request_headers_given"), &nh);
    in.query = qry; in.query_count = nq;
    in.headers = hdrs; in.header_count = nh;
    na = jcount(addl);
    if (na) {
        extra = (const char **)calloc(na, sizeof *extra);
        if (!extra) exit(2);
        for (i = 0, k = addl->kids; k; k = k->next, i++) extra[i] = jstr(k) ? jstr(k) : "";
    }
    in.additional_headers = extra;
    in.additional_count = na;
    in.unix_time = unix_time;
    in.version = version;
    in.region = jstr(jget(vec, "region"));
    in.product = jstr(jget(vec, "product"));
    in.access_key_id = jstr(jget(vec, "access_key_id"));
    in.access_key_secret = jstr(jget(vec, "access_key_secret"));
    in.security_token = jstr(jget(vec, "security_token"));

    CHECK(in.method && in.access_key_id && in.access_key_secret && exp_sts && exp_auth);
    CHECK(exp_date != NULL);
    if (version == 4) CHECK(exp_creq != NULL);
    /* the vector's own bookkeeping: a token means the signer adds x-oss-security-token */
    CHECK((jget(added, "x-oss-security-token") != NULL) == (in.security_token != NULL));

    r = ossr_sign(&in, scratch, 8192, &out);
    CHECK_I(r, OSSR_OK);
    if (r == OSSR_OK) {
        if (exp_sts) CHECK_MEM(out.string_to_sign.ptr, out.string_to_sign.len, exp_sts, strlen(exp_sts));
        if (version == 4 && exp_creq)
            CHECK_MEM(out.canonical_request.ptr, out.canonical_request.len, exp_creq, strlen(exp_creq));
        if (exp_auth) CHECK_STR(out.authorization, exp_auth);
        if (exp_date) CHECK_STR(out.date, exp_date);
        if (version == 4) {
            CHECK_I(out.add_content_sha256, jget(added, "x-oss-content-sha256") != NULL);
            if (exp_sig) {
                const char *sig = strstr(out.authorization, "Signature=");
                CHECK_STR(sig ? sig + 10 : "", exp_sig);
            }
        }
    }

    /* every scratch size: too small is refused (never overflowed), big enough works */
    if (r == OSSR_OK) {
        size_t cap, need = 0;
        int bad_small = 0, bad_big = 0;
        ossr_result first_bad = OSSR_OK;
        size_t first_bad_cap = 0;
        for (cap = 2; cap < 8192 && !need; cap++) {
            char *s = (char *)malloc(cap ? cap : 1);
            ossr_signature o2;
            ossr_result r2 = ossr_sign(&in, s, cap, &o2);
            if (r2 == OSSR_OK) {
                need = cap;
                CHECK_MEM(o2.string_to_sign.ptr, o2.string_to_sign.len, out.string_to_sign.ptr,
                          out.string_to_sign.len);
                CHECK_STR(o2.authorization, out.authorization);
            } else if (r2 != OSSR_E_TOO_LARGE && !bad_small++) {
                first_bad = r2;
                first_bad_cap = cap;
            }
            free(s);
        }
        CHECK(need > 0);
        /* the header: "Returns OSSR_E_TOO_LARGE when scratch ... is too small" */
        if (!CHECK_I(bad_small, 0))
            printf("       first scratch size with another result: cap %lu -> %d (%s)\n",
                   (unsigned long)first_bad_cap, (int)first_bad, ossr_result_str(first_bad));
        CHECK(need <= out.string_to_sign.len + out.canonical_request.len + 2);
        for (cap = need; need && cap < need + 64; cap++) {
            char *s = (char *)malloc(cap);
            ossr_signature o2;
            if (ossr_sign(&in, s, cap, &o2) != OSSR_OK || strcmp(o2.authorization, out.authorization))
                bad_big++;
            free(s);
        }
        CHECK_I(bad_big, 0);
    }
    free(scratch);
    free(extra);
    free(hdrs);
    free(qry);
}

static void test_signatures(const char *dir) {
    size_t len = 0, i;
    char *text = read_whole_file(dir, "signatures.json", &len);
    const char *err = NULL;
    jv *root;
    const jv *vecs, *sdk, *v, *ft;
    long long fixed_unix = 0;
    int64_t derived;

    set_ctx("signatures.json");
    if (!CHECK(text != NULL)) return;
    root = json_parse(text, len, &err);
    if (!CHECK(root != NULL)) { printf("       JSON error: %s\n", err ? err : "?"); free(text); return; }
    ft = jget(root, "fixed_time");
    CHECK(jint(jget(ft, "unix"), &fixed_unix) == 0);
    /* the date helper against the file's own statement of the fixed time */
    CHECK(iso_basic_to_unix(jstr(jget(ft, "v4_x_oss_date")), &derived) == 0);
    CHECK_I(derived, fixed_unix);
    CHECK(iso_basic_to_unix("19700101T000000Z", &derived) == 0 && derived == 0);
    CHECK(iso_basic_to_unix("20000301T000000Z", &derived) == 0 && derived == 951868800);

    vecs = jget(root, "vectors");
    CHECK(jcount(vecs) > 0);
    for (v = vecs ? vecs->kids : NULL, i = 0; v; v = v->next, i++) {
        char label[160];
        const char *name = jstr(jget(v, "name"));
        snprintf(label, sizeof label, "vectors[%lu] %s", (unsigned long)i, name ? name : "?");
        set_ctx("%s", label);
        CHECK(jget(v, "v1") || jget(v, "v4"));
        if (jget(v, "v1")) sign_one(v, label, 1, (int64_t)fixed_unix);
        if (jget(v, "v4")) sign_one(v, label, 4, (int64_t)fixed_unix);
    }
    sdk = jget(jget(root, "vectors_from_sdk_unit_tests"), "vectors");
    CHECK(jcount(sdk) > 0);
    for (v = sdk ? sdk->kids : NULL, i = 0; v; v = v->next, i++) {
        char label[160];
        const char *xdate = jstr(jget(jget(jget(v, "v4"), "headers_added_by_signer"), "x-oss-date"));
        snprintf(label, sizeof label, "sdk_unit_tests[%lu]", (unsigned long)i);
        set_ctx("%s", label);
        if (!CHECK(iso_basic_to_unix(xdate, &derived) == 0)) continue;
        if (jget(v, "v1")) sign_one(v, label, 1, derived);
        if (jget(v, "v4")) sign_one(v, label, 4, derived);
    }
    jv_free(root);
    free(text);
}

/* V1 as the official SDKs sign it, from their unit tests (go-sdk-v2 signer_test.go
   TestV1AuthHeader; the same values in python-sdk-v2 and php-sdk-v2): a caller's
   x-oss-date is one of the canonicalized OSS headers, and of the query only the
   sub-resources are signed. */
static void test_sign_v1_sdk(void) {
    static const char date[] = "Wed, 28 Dec 2022 10:27:41 GMT";
    ossr_header put_h[5], get_h[1], q[2];
    ossr_sign_input in;
    ossr_signature out;
    char scratch[2048];
    set_ctx("V1 with x-oss-date (SDK unit tests)");
    put_h[0].name = "Content-MD5"; put_h[0].value = "eB5eJF1ptWaXm4bijSPyxw==";
    put_h[1].name = "Content-Type"; put_h[1].value = "text/html";
    put_h[2].name = "x-oss-meta-author"; put_h[2].value = "alice";
    put_h[3].name = "x-oss-meta-magic"; put_h[3].value = "abracadabra";
    put_h[4].name = "x-oss-date"; put_h[4].value = date;
    get_h[0].name = "x-oss-date"; get_h[0].value = date;
    memset(&in, 0, sizeof in);
    in.version = 1; in.unix_time = 1672223261;
    in.access_key_id = "ak"; in.access_key_secret = "sk";
    in.method = "PUT"; in.bucket = "examplebucket"; in.key = "nelson";
    in.headers = put_h; in.header_count = 5;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_OK);
    CHECK_STR(out.date, date);
    CHECK_STR(out.authorization, "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
    q[0].name = "acl"; q[0].value = "";
    in.query = q; in.query_count = 1;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_OK);
    CHECK_STR(out.authorization, "OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=");
    in.method = "GET"; in.key = NULL;
    in.headers = get_h; in.header_count = 1;
    q[0].name = "resourceGroup"; q[0].value = "";
    q[1].name = "non-resousce"; q[1].value = "null";
    in.query_count = 2;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_OK);
    CHECK_STR(out.authorization, "OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs=");
    q[1].name = "acl"; q[1].value = "";
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_OK);
    CHECK_STR(out.authorization, "OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=");
}

static void test_sign_errors(void) {
    ossr_sign_input in;
    ossr_signature out;
    char scratch[2048];
    ossr_header h[2];
    const char *extra[1];
    set_ctx("ossr_sign argument errors");
    memset(&in, 0, sizeof in);
    h[0].name = "Content-Type"; h[0].value = "text/plain";
    h[1].name = "x-oss-meta-a"; h[1].value = "  padded\t";
    in.method = "PUT"; in.bucket = "examplebucket"; in.key = "k";
    in.headers = h; in.header_count = 2;
    in.unix_time = 1700000000; in.version = 4; in.region = "cn-hangzhou";
    in.access_key_id = "id"; in.access_key_secret = "secret";
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_OK);
    /* values are trimmed in the canonical headers */
    CHECK(out.canonical_request.ptr &&
          strstr(out.canonical_request.ptr, "\nx-oss-meta-a:padded\n") != NULL);
    in.version = 1;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_OK);
    CHECK(memchr(out.string_to_sign.ptr, '\t', out.string_to_sign.len) == NULL);
    in.version = 2;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_E_INVALID_ARG);
    in.version = 4; in.region = NULL;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_E_INVALID_ARG);
    in.region = "cn-hangzhou";
    extra[0] = "range"; /* requested but not among the headers */
    in.additional_headers = extra; in.additional_count = 1;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_E_INVALID_ARG);
    in.additional_count = 0;
    {   /* the header: "Returns OSSR_E_TOO_LARGE when scratch ... is too small" (sizes from 2
           up are swept with every vector) */
        char *one = dup_exact("", 1);
        CHECK_I(ossr_sign(&in, one, 1, &out), OSSR_E_TOO_LARGE);
        free(one);
    }
    in.access_key_secret = NULL;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_E_INVALID_ARG);
    in.access_key_secret = "secret"; in.method = NULL;
    CHECK_I(ossr_sign(&in, scratch, sizeof scratch, &out), OSSR_E_INVALID_ARG);
}

/* ================================================================================== */
/* 2. CRC-64                                                                          */
/* ================================================================================== */
/* Bit-at-a-time CRC-64/XZ straight from the parameters (reflected poly, all-ones). */
static uint64_t crc64_bitwise(uint64_t crc, const unsigned char *p, size_t n) {
    size_t i;
    int k;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0xC96C5795D7870F42ull : crc >> 1;
    }
    return ~crc;
}

/* Bytes of a `single` vector: input_hex, input_ascii or input_description. NULL if none. */
static unsigned char *crc_single_input(const jv *c, size_t *n) {
    const char *hex = jstr(jget(c, "input_hex"));
    const char *ascii = jstr(jget(c, "input_ascii"));
    const char *desc = jstr(jget(c, "input_description"));
    unsigned char *buf = NULL;
    if (hex) {
        size_t i, hl = strlen(hex);
        if (!CHECK(hl % 2 == 0)) return NULL;
        buf = (unsigned char *)malloc(hl / 2 + 1);
        if (!buf) exit(2);
        for (i = 0; i < hl / 2; i++) {
            int a = hexval((unsigned char)hex[2 * i]), b = hexval((unsigned char)hex[2 * i + 1]);
            if (!CHECK(a >= 0 && b >= 0)) { free(buf); return NULL; }
            buf[i] = (unsigned char)(a * 16 + b);
        }
        *n = hl / 2;
        if (ascii) CHECK_MEM((const char *)buf, *n, ascii, strlen(ascii)); /* file consistency */
        return buf;
    }
    if (ascii) { *n = strlen(ascii); return (unsigned char *)dup_exact(ascii, *n + 1); }
    if (desc) { /* "<count> bytes of 0x<HH>" */
        unsigned long count = 0;
        unsigned int byte = 0;
        char tail;
        if (sscanf(desc, "%lu bytes of 0x%2x%c", &count, &byte, &tail) == 2 && byte < 256) {
            buf = (unsigned char *)malloc(count ? count : 1);
            if (!buf) exit(2);
            memset(buf, (int)byte, count);
            *n = count;
            return buf;
        }
        printf("       cannot generate input from description: %s\n", desc);
    }
    return NULL;
}

/* Bytes of part k of a `combine` case when its description says how to make them. */
static unsigned char *crc_part_input(const char *desc, size_t k, size_t nparts, size_t len) {
    unsigned char *buf;
    const char *s;
    if (!desc) return NULL;
    s = strstr(desc, "seeds ");
    if (s && strstr(desc, "(i*")) { /* byte[i] = (i*M + seed_k) mod 256 */
        unsigned long mul = strtoul(strstr(desc, "(i*") + 3, NULL, 10), seed = 0;
        size_t i;
        char *endp;
        s += 6;
        for (i = 0; i <= k; i++) {
            seed = strtoul(s, &endp, 10);
            if (endp == s) return NULL;
            s = endp;
            while (*s == ',' || *s == ' ') s++;
        }
        buf = (unsigned char *)malloc(len ? len : 1);
        if (!buf) exit(2);
        for (i = 0; i < len; i++) buf[i] = (unsigned char)((i * mul + seed) % 256);
        return buf;
    }
    { /* the first nparts quoted strings are the parts */
        const char *q = desc;
        size_t i;
        for (i = 0; i < nparts; i++) {
            const char *e;
            q = strchr(q, '"');
            if (!q) return NULL;
            e = strchr(q + 1, '"');
            if (!e) return NULL;
            if (i == k) {
                if ((size_t)(e - q - 1) != len) return NULL;
                return (unsigned char *)dup_exact(q + 1, len);
            }
            q = e + 1;
        }
    }
    return NULL;
}

static void test_crc_vectors(const char *dir) {
    size_t len = 0;
    char *text = read_whole_file(dir, "crc64.json", &len);
    const char *err = NULL;
    jv *root;
    const jv *c;
    int made = 0;
    set_ctx("crc64.json");
    if (!CHECK(text != NULL)) return;
    root = json_parse(text, len, &err);
    if (!CHECK(root != NULL)) { printf("       JSON error: %s\n", err ? err : "?"); free(text); return; }
    CHECK(jcount(jget(root, "single")) > 0);
    for (c = jget(root, "single") ? jget(root, "single")->kids : NULL; c; c = c->next) {
        const char *name = jstr(jget(c, "name"));
        const char *dec = jstr(jget(c, "crc64_decimal"));
        const char *hex = jstr(jget(c, "crc64_hex"));
        long long length = -1;
        size_t n = 0;
        unsigned char *in;
        set_ctx("crc64 single %s", name ? name : "?");
        in = crc_single_input(c, &n);
        if (!CHECK(in != NULL)) continue;
        CHECK(jint(jget(c, "length"), &length) == 0);
        CHECK_U(n, length);
        {
            uint64_t got = ossr_crc64(0, in, n), want = 0;
            char gdec[32], ghex[32];
            snprintf(gdec, sizeof gdec, "%llu", (unsigned long long)got);
            snprintf(ghex, sizeof ghex, "%016llx", (unsigned long long)got);
            CHECK(dec && parse_dec_u64(dec, &want) == 0);
            CHECK_STR(gdec, dec);
            if (hex) CHECK_STR(ghex, hex);
            CHECK_U(crc64_bitwise(0, in, n), want);
#ifndef OSSR_CRC64_SMALL
            {   /* every engine this CPU runs */
                int e;
                for (e = 0; e < OSSR__CRC64_ENGINES; e++)
                    if (ossr__crc64_usable(e)) CHECK_U(~ossr__crc64_engines[e].fn(~0ull, in, n), want);
            }
#endif
        }
        free(in);
    }
    CHECK(jcount(jget(root, "combine")) > 0);
    for (c = jget(root, "combine") ? jget(root, "combine")->kids : NULL; c; c = c->next) {
        const char *name = jstr(jget(c, "name"));
        const char *desc = jstr(jget(c, "description"));
        const jv *parts = jget(c, "parts"), *p;
        uint64_t acc = 0, whole = 0, whole_direct = 0;
        long long whole_len = -1, total = 0;
        size_t k = 0, nparts = jcount(parts);
        int generated = 1, any_bytes = 0;
        set_ctx("crc64 combine %s", name ? name : "?");
        CHECK(nparts > 0);
        for (p = parts ? parts->kids : NULL; p; p = p->next, k++) {
            uint64_t pc = 0, run = 0;
            long long plen = -1;
            unsigned char *bytes;
            CHECK(jint(jget(p, "part_length"), &plen) == 0 && plen >= 0);
            CHECK(parse_dec_u64(jstr(jget(p, "part_crc64_decimal")), &pc) == 0);
            CHECK(parse_dec_u64(jstr(jget(p, "running_combined_decimal")), &run) == 0);
            acc = ossr_crc64_combine(acc, pc, (uint64_t)plen);
            CHECK_U(acc, run);
            total += plen;
            bytes = plen >= 0 ? crc_part_input(desc, k, nparts, (size_t)plen) : NULL;
            if (bytes) {
                CHECK_U(ossr_crc64(0, bytes, (size_t)plen), pc);
                whole_direct = ossr_crc64(whole_direct, bytes, (size_t)plen);
                any_bytes = 1;
                free(bytes);
            } else if (plen == 0) {
                CHECK_U(pc, 0);
            } else {
                generated = 0;
            }
        }
        CHECK(parse_dec_u64(jstr(jget(c, "whole_object_crc64_decimal")), &whole) == 0);
        CHECK_U(acc, whole);
        CHECK(jint(jget(c, "whole_length"), &whole_len) == 0);
        CHECK_I(total, whole_len);
        if (generated) CHECK_U(whole_direct, whole);
        if (generated && any_bytes) made++;
    }
    /* the cases whose bytes are described must be generated (not silently skipped) */
    set_ctx("crc64 combine generation");
    CHECK(made >= 2);
    jv_free(root);
    free(text);
}

static void test_crc_random(void) {
    enum { MAXN = 70000 };
    unsigned char *data = (unsigned char *)malloc(MAXN), *shifted = (unsigned char *)malloc(MAXN + 16);
    size_t i, t;
    int bad_inc = 0, bad_comb = 0, bad_multi = 0, bad_ref = 0;
    if (!data || !shifted) exit(2);
    for (i = 0; i < MAXN; i++) data[i] = (unsigned char)rnd();
    set_ctx("crc64 random splits");
    for (t = 0; t < 300; t++) {
        size_t n = t < 40 ? t : rnd_below(MAXN);
        size_t align = rnd_below(16), off = 0;
        uint64_t whole, inc = 0;
        memcpy(shifted + align, data, n);
        whole = ossr_crc64(0, data, n);
        if (t < 60 && whole != crc64_bitwise(0, data, n)) bad_ref++;
        if (ossr_crc64(0, shifted + align, n) != whole) bad_inc++;
        while (off < n) { /* incremental feeding at random split points */
            size_t step = rnd_below(4) == 0 ? rnd_below(n - off + 1) : rnd_below(40);
            if (step > n - off) step = n - off;
            inc = ossr_crc64(inc, shifted + align + off, step);
            off += step;
        }
        if (inc != whole) bad_inc++;
        {   /* combine of one random split */
            size_t k = rnd_below(n + 1);
            uint64_t a = ossr_crc64(0, data, k), b = ossr_crc64(0, data + k, n - k);
            if (ossr_crc64_combine(a, b, n - k) != whole) bad_comb++;
        }
        {   /* fold of several random parts, as the Complete check does */
            uint64_t acc = 0;
            off = 0;
            while (off < n) {
                size_t step = 1 + rnd_below(n - off);
                acc = ossr_crc64_combine(acc, ossr_crc64(0, data + off, step), step);
                off += step;
            }
            if (acc != whole) bad_multi++;
        }
    }
    CHECK_I(bad_ref, 0);
    CHECK_I(bad_inc, 0);
    CHECK_I(bad_comb, 0);
    CHECK_I(bad_multi, 0);
    /* combine with long runs: 1 MiB of zeros = two halves */
    {
        unsigned char *z = (unsigned char *)calloc(1, 1u << 20);
        uint64_t h, w;
        if (!z) exit(2);
        h = ossr_crc64(0, z, 1u << 19);
        w = ossr_crc64(0, z, 1u << 20);
        CHECK_U(ossr_crc64_combine(h, h, 1u << 19), w);
        CHECK_U(ossr_crc64_combine(w, 0, 0), w);
        CHECK_U(ossr_crc64_combine(0, w, 1u << 20), w); /* empty first part */
        free(z);
    }
    free(data);
    free(shifted);
}

/* Every engine the CPU can run against slicing-by-8: random lengths around the block
   and lane sizes, every alignment in 0..63, random starting CRCs; and the x^n mod P
   arithmetic under combine against plain repeated multiplication by x. */
static void test_crc_engines(void) {
    enum { MAXN = 70000 };
    unsigned char *buf = (unsigned char *)malloc(MAXN + 64);
    int e, ran = 0;
    size_t i, t;
    if (!buf) exit(2);
    for (i = 0; i < MAXN + 64; i++) buf[i] = (unsigned char)rnd();
    ossr_crc64(0, "", 0);
    printf("       crc64 engine: %s\n", ossr_crc64_engine());
#ifdef OSSR_CRC64_SMALL
    {   /* the one engine of a small build, against the bit-at-a-time definition */
        int bad = 0;
        set_ctx("crc64 engine %s", ossr_crc64_engine());
        for (t = 0; t < 300; t++) {
            size_t n = t < 100 ? t : rnd_below(5000);
            if (ossr_crc64(t, buf + t % 64, n) != crc64_bitwise(t, buf + t % 64, n)) bad++;
        }
        CHECK_I(bad, 0);
        ran = 1;
        (void)e;
    }
#else
    for (e = 0; e < OSSR__CRC64_ENGINES; e++) {
        int bad = 0;
        set_ctx("crc64 engine %s", ossr__crc64_engines[e].name);
        if (!ossr__crc64_usable(e)) { printf("       crc64 engine %s: this CPU lacks it\n", ossr__crc64_engines[e].name); continue; }
        ran++;
        for (t = 0; t < 4000; t++) {
            size_t n = t < 1100 ? t : (t < 3000 ? rnd_below(5000) : rnd_below(MAXN));
            size_t align = t % 64;
            uint64_t seed = ((uint64_t)rnd() << 32) ^ (uint64_t)rnd();
            if (ossr__crc64_engines[e].fn(seed, buf + align, n) != ossr__crc64_slice8(seed, buf + align, n)) bad++;
        }
        CHECK_I(bad, 0);
    }
#endif
    set_ctx("crc64 engines");
    CHECK(ran >= 1);
#ifndef OSSR_CRC64_SMALL
    CHECK(ossr__crc64_usable(0));
#endif
    set_ctx("crc64 x^n mod P");
    {
        uint64_t v = OSSR__X0;
        int bad = 0;
        for (i = 0; i < 5000; i++) {
            if (ossr__crc64_xpow(i, 0) != v) bad++;
            if (i % 8 == 0 && ossr__crc64_xpow(i / 8, 3) != v) bad++;
            v = (v & 1) ? (v >> 1) ^ OSSR__CRC64_POLY : v >> 1;
        }
        CHECK_I(bad, 0);
        /* x^(2^64) as two halves: the top of the squares table */
        CHECK_U(ossr__crc64_xpow(1ull << 63, 1), ossr__crc64_mulmod(ossr__crc64_xpow(1ull << 63, 0), ossr__crc64_xpow(1ull << 63, 0)));
        CHECK_U(ossr__crc64_xpow(UINT64_MAX, 3), ossr__crc64_mulmod(ossr__crc64_xpow(UINT64_MAX, 2), ossr__crc64_xpow(UINT64_MAX, 2)));
    }
    free(buf);
}

/* ================================================================================== */
/* 3. hash known answers                                                              */
/* ================================================================================== */
static void check_digest(int kind, const void *msg, size_t n, const char *want, const char *what) {
    unsigned char d[32];
    char hx[65];
    size_t len;
    set_ctx("%s", what);
    len = ossr__hash_once(kind, msg, n, d);
    CHECK_U(len, strlen(want) / 2);
    to_hex(d, len, hx);
    CHECK_STR(hx, want);
}
static void check_hmac(int kind, const void *key, size_t kl, const void *msg, size_t ml,
                       const char *want, const char *what) {
    unsigned char d[32];
    char hx[65];
    size_t len;
    set_ctx("%s", what);
    len = ossr__hmac(kind, key, kl, msg, ml, d);
    CHECK_U(len, strlen(want) / 2);
    to_hex(d, len, hx);
    CHECK_STR(hx, want);
}

static void test_hashes(void) {
    static const char *const md5_in[7] = {
        "", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
    static const char *const md5_out[7] = {
        "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
        "900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
        "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
        "57edf4a22be3c955ac49da2e2107b67a"};
    static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char hmac_t6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    static const char sha1_t7[] =
        "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
    static const char sha256_t7[] =
        "This is a test using a larger than block-size key and a larger than block-size data. "
        "The key needs to be hashed before being used by the HMAC algorithm.";
    unsigned char k0b[20], kaa[131], dd[50], cd[50], k25[25];
    char *million = (char *)malloc(1000000);
    int i;
    if (!million) exit(2);
    memset(million, 'a', 1000000);
    for (i = 0; i < 7; i++) {
        char what[64];
        snprintf(what, sizeof what, "MD5 RFC 1321 #%d", i + 1);
        check_digest(OSSR__MD5, md5_in[i], strlen(md5_in[i]), md5_out[i], what);
    }
    check_digest(OSSR__SHA1, "abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d", "SHA-1 abc");
    check_digest(OSSR__SHA1, "", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "SHA-1 empty");
    check_digest(OSSR__SHA1, m448, strlen(m448), "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
                 "SHA-1 448-bit");
    check_digest(OSSR__SHA1, million, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
                 "SHA-1 million a");
    check_digest(OSSR__SHA256, "abc", 3,
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 abc");
    check_digest(OSSR__SHA256, "", 0,
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 empty");
    check_digest(OSSR__SHA256, m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                 "SHA-256 448-bit");
    check_digest(OSSR__SHA256, million, 1000000,
                 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                 "SHA-256 million a");

    /* incremental updates at every split of a 300-byte message equal the one-shot digest */
    {
        int kinds[3], kk, bad = 0;
        kinds[0] = OSSR__MD5; kinds[1] = OSSR__SHA1; kinds[2] = OSSR__SHA256;
        set_ctx("hash incremental splits");
        for (kk = 0; kk < 3; kk++) {
            size_t n, split;
            for (n = 0; n <= 300; n += 7) {
                unsigned char one[32], two[32];
                ossr__hash_once(kinds[kk], million, n, one);
                for (split = 0; split <= n; split += 13) {
                    ossr__hash c;
                    ossr__hash_init(&c, kinds[kk]);
                    ossr__hash_update(&c, million, split);
                    ossr__hash_update(&c, million + split, n - split);
                    ossr__hash_final(&c, two);
                    if (memcmp(one, two, kinds[kk] == OSSR__MD5 ? 16 : kinds[kk] == OSSR__SHA1 ? 20 : 32))
                        bad++;
                }
            }
        }
        CHECK_I(bad, 0);
    }

    memset(k0b, 0x0b, sizeof k0b);
    memset(kaa, 0xaa, sizeof kaa);
    memset(dd, 0xdd, sizeof dd);
    memset(cd, 0xcd, sizeof cd);
    for (i = 0; i < 25; i++) k25[i] = (unsigned char)(i + 1);
    /* RFC 2202 (HMAC-SHA1) */
    check_hmac(OSSR__SHA1, k0b, 20, "Hi There", 8, "b617318655057264e28bc0b6fb378c8ef146be00",
               "HMAC-SHA1 RFC 2202 #1");
    check_hmac(OSSR__SHA1, "Jefe", 4, "what do ya want for nothing?", 28,
               "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", "HMAC-SHA1 RFC 2202 #2");
    check_hmac(OSSR__SHA1, kaa, 20, dd, 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
               "HMAC-SHA1 RFC 2202 #3");
    check_hmac(OSSR__SHA1, k25, 25, cd, 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da",
               "HMAC-SHA1 RFC 2202 #4");
    check_hmac(OSSR__SHA1, kaa, 80, hmac_t6, strlen(hmac_t6),
               "aa4ae5e15272d00e95705637ce8a3b55ed402112", "HMAC-SHA1 RFC 2202 #6");
    check_hmac(OSSR__SHA1, kaa, 80, sha1_t7, strlen(sha1_t7),
               "e8e99d0f45237d786d6bbaa7965c7808bbff1a91", "HMAC-SHA1 RFC 2202 #7");
    /* RFC 4231 (HMAC-SHA256) */
    check_hmac(OSSR__SHA256, k0b, 20, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
               "HMAC-SHA256 RFC 4231 #1");
    check_hmac(OSSR__SHA256, "Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
               "HMAC-SHA256 RFC 4231 #2");
    check_hmac(OSSR__SHA256, kaa, 20, dd, 50,
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
               "HMAC-SHA256 RFC 4231 #3");
    check_hmac(OSSR__SHA256, k25, 25, cd, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
               "HMAC-SHA256 RFC 4231 #4");
    check_hmac(OSSR__SHA256, kaa, 131, hmac_t6, strlen(hmac_t6),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
               "HMAC-SHA256 RFC 4231 #6");
    check_hmac(OSSR__SHA256, kaa, 131, sha256_t7, strlen(sha256_t7),
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
               "HMAC-SHA256 RFC 4231 #7");
    free(million);
}

/* ================================================================================== */
/* 4. part planning                                                                   */
/* ================================================================================== */
#define KiB 1024ull
#define MiB (1024ull * 1024)
#define GiB (1024ull * 1024 * 1024)
#define TiB (1024ull * 1024 * 1024 * 1024)

static void plan_case(uint64_t size, uint64_t pref, uint64_t want_ps, uint32_t want_n, int line) {
    uint64_t ps = 0;
    uint32_t n = 0;
    char why[128];
    ossr_result r;
    set_ctx("plan_parts(%llu, %llu) [case at line %d]", (unsigned long long)size,
            (unsigned long long)pref, line);
    memset(why, 'x', sizeof why);
    r = ossr_plan_parts(size, pref, &ps, &n, why, sizeof why);
    CHECK_I(r, OSSR_OK);
    CHECK_U(ps, want_ps);
    CHECK_U(n, want_n);
    CHECK(memchr(why, 0, sizeof why) != NULL);
}
static uint32_t ceil_div(uint64_t a, uint64_t b) { return (uint32_t)((a + b - 1) / b); }

static void test_plan(void) {
    uint64_t ps = 0;
    uint32_t n = 0;
    char why[200];
    int i, bad = 0;
    plan_case(10485760, 0, 10485760, 1, __LINE__);
    plan_case(10485761, 0, 10485760, 2, __LINE__);
    plan_case(104857600000ull, 0, 10485760, 10000, __LINE__);
    plan_case(104857600001ull, 0, 20971520, ceil_div(104857600001ull, 20971520), __LINE__);
    plan_case(100 * GiB, 0, 20 * MiB, 5120, __LINE__);
    plan_case(200 * GiB, 0, 40 * MiB, 5120, __LINE__);
    plan_case(1000000000000ull, 0, 160 * MiB, ceil_div(1000000000000ull, 160 * MiB), __LINE__);
    plan_case(48 * TiB, 0, 5 * GiB, ceil_div(48 * TiB, 5 * GiB), __LINE__);
    plan_case(1 * GiB, 7, 114688, ceil_div(GiB, 114688), __LINE__);
    plan_case(500 * KiB, 50 * KiB, 100 * KiB, 5, __LINE__);
    plan_case(5000, 0, 5000, 1, __LINE__);                 /* smaller than preferred */
    plan_case(1 * MiB, 2 * MiB, 1 * MiB, 1, __LINE__);
    plan_case(10485759, 0, 10485759, 1, __LINE__);
    plan_case(10 * GiB, 5 * GiB, 5 * GiB, 2, __LINE__);    /* preferred at the limit */
    plan_case(10000ull * 5 * GiB, 0, 5 * GiB, 10000, __LINE__); /* the largest object */

    set_ctx("plan_parts 0-byte file");
    CHECK_I(ossr_plan_parts(0, 0, &ps, &n, why, sizeof why), OSSR_OK);
    CHECK(n <= 1);
    CHECK((uint64_t)n * ps == 0);

    set_ctx("plan_parts part size above 5 GiB");
    why[0] = 0;
    CHECK_I(ossr_plan_parts(100 * GiB, 5 * GiB + 1, &ps, &n, why, sizeof why), OSSR_E_LIMITS);
    CHECK(why[0] != 0);
    CHECK(memchr(why, 0, sizeof why) != NULL);
    CHECK_I(ossr_plan_parts(100 * GiB, 5 * GiB + 1, &ps, &n, NULL, 0), OSSR_E_LIMITS);

    set_ctx("plan_parts file above 10000 x 5 GiB");
    why[0] = 0;
    CHECK_I(ossr_plan_parts(10000ull * 5 * GiB + 1, 0, &ps, &n, why, sizeof why), OSSR_E_LIMITS);
    CHECK(why[0] != 0);
    why[0] = 0;
    CHECK_I(ossr_plan_parts(60 * TiB, 5 * GiB, &ps, &n, why, sizeof why), OSSR_E_LIMITS);
    CHECK(why[0] != 0);
    {   /* a tiny why buffer is truncated, never overrun */
        char *small = dup_exact("zzzzzzzz", 8);
        CHECK_I(ossr_plan_parts(UINT64_MAX, 0, &ps, &n, small, 8), OSSR_E_LIMITS);
        CHECK(memchr(small, 0, 8) != NULL);
        free(small);
    }

    set_ctx("plan_parts invariants over random sizes");
    for (i = 0; i < 3000; i++) {
        uint64_t size = 1 + (rnd() % (10000ull * 5 * GiB)), pref = i % 3 ? 0 : 1 + rnd() % (64 * MiB);
        if (i % 5 == 0) size = 1 + rnd() % (64 * MiB);
        if (ossr_plan_parts(size, pref, &ps, &n, NULL, 0) != OSSR_OK || n < 1 || n > 10000 ||
            ps > 5 * GiB || (uint64_t)n * ps < size || (uint64_t)(n - 1) * ps >= size ||
            (n > 1 && ps < 100 * KiB))
            bad++;
    }
    CHECK_I(bad, 0);
}

/* ================================================================================== */
/* 5. endpoints and percent-encoding                                                  */
/* ================================================================================== */
typedef struct ep_case {
    const char *url;
    int ok, https;
    const char *host;
    unsigned port;
    int explicit_port, is_ip, is_ipv6;
} ep_case;

static void test_endpoint(void) {
    static const ep_case cases[] = {
        {"https://oss-cn-hangzhou.aliyuncs.com", 1, 1, "oss-cn-hangzhou.aliyuncs.com", 443, 0, 0, 0},
        {"http://oss-cn-hangzhou.aliyuncs.com", 1, 0, "oss-cn-hangzhou.aliyuncs.com", 80, 0, 0, 0},
        {"oss-cn-hangzhou.aliyuncs.com", 1, 1, "oss-cn-hangzhou.aliyuncs.com", 443, 0, 0, 0},
        {"oss-cn-hangzhou.aliyuncs.com/", 1, 1, "oss-cn-hangzhou.aliyuncs.com", 443, 0, 0, 0},
        {"https://oss-cn-hangzhou.aliyuncs.com/", 1, 1, "oss-cn-hangzhou.aliyuncs.com", 443, 0, 0, 0},
        {"http://127.0.0.1:9000", 1, 0, "127.0.0.1", 9000, 1, 1, 0},
        {"http://127.0.0.1:9000/", 1, 0, "127.0.0.1", 9000, 1, 1, 0},
        {"localhost:8080", 1, 1, "localhost", 8080, 1, 0, 0},
        {"https://[::1]:8443/", 1, 1, "::1", 8443, 1, 1, 1},
        {"http://[2001:db8::1]", 1, 0, "2001:db8::1", 80, 0, 1, 1},
        {"[::ffff:192.0.2.1]", 1, 1, "::ffff:192.0.2.1", 443, 0, 1, 1},
        {"HTTPS://Example.COM:65535", 1, 1, "Example.COM", 65535, 1, 0, 0},
        {"http://h:1", 1, 0, "h", 1, 1, 0, 0},
        {"https://example.com:443", 1, 1, "example.com", 443, 1, 0, 0},
        {"https://example.com/path", 0, 0, NULL, 0, 0, 0, 0},
        {"https://example.com/path/", 0, 0, NULL, 0, 0, 0, 0},
        {"https://example.com//", 0, 0, NULL, 0, 0, 0, 0},
        {"https://example.com/?x=1", 0, 0, NULL, 0, 0, 0, 0},
        {"https://example.com?x=1", 0, 0, NULL, 0, 0, 0, 0},
        {"https://example.com#frag", 0, 0, NULL, 0, 0, 0, 0},
        {"https://user@example.com", 0, 0, NULL, 0, 0, 0, 0},
        {"https://user:pw@example.com", 0, 0, NULL, 0, 0, 0, 0},
        {"https://", 0, 0, NULL, 0, 0, 0, 0},
        {"https://:443", 0, 0, NULL, 0, 0, 0, 0},
        {"", 0, 0, NULL, 0, 0, 0, 0},
        {"/", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:0", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:65536", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:99999999999999999999999", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:abc", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:-1", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com:80:81", 0, 0, NULL, 0, 0, 0, 0},
        {"http://exa mple.com", 0, 0, NULL, 0, 0, 0, 0},
        {"http://exa_mple.com", 0, 0, NULL, 0, 0, 0, 0},
        {"http://exa\"mple.com", 0, 0, NULL, 0, 0, 0, 0},
        {"http://example.com\\", 0, 0, NULL, 0, 0, 0, 0},
        {"http://a..b", 0, 0, NULL, 0, 0, 0, 0},
        {"http://.a", 0, 0, NULL, 0, 0, 0, 0},
        {"ftp://example.com", 0, 0, NULL, 0, 0, 0, 0},
        {"https:/example.com", 0, 0, NULL, 0, 0, 0, 0},
        {"https://[::1", 0, 0, NULL, 0, 0, 0, 0},
        {"https://[]", 0, 0, NULL, 0, 0, 0, 0},
        {"https://[::1]x", 0, 0, NULL, 0, 0, 0, 0},
        {"https://[::g]", 0, 0, NULL, 0, 0, 0, 0},
        {"https://[fe80::1%25eth0]", 0, 0, NULL, 0, 0, 0, 0},
        /* digits and dots are an IPv4 literal or nothing: no octet above 255, four of them */
        {"http://1.256.1.2", 0, 0, NULL, 0, 0, 0, 0},
        {"http://256.1.1.1:80", 0, 0, NULL, 0, 0, 0, 0},
        {"http://1.2.3", 0, 0, NULL, 0, 0, 0, 0},
        {"http://1.2.3.4.5", 0, 0, NULL, 0, 0, 0, 0},
        {"http://255.255.255.255", 1, 0, "255.255.255.255", 80, 0, 1, 0},
        {"http://0.0.0.0:1", 1, 0, "0.0.0.0", 1, 1, 1, 0},
        {"http://1.2.3.4a", 1, 0, "1.2.3.4a", 80, 0, 0, 0},
    };
    size_t i;
    ossr_endpoint ep;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ep_case *c = &cases[i];
        size_t ul = strlen(c->url);
        char *u = dup_exact(c->url, ul + 1);
        ossr_result r;
        set_ctx("parse_endpoint(\"%s\")", c->url);
        r = ossr_parse_endpoint(u, &ep);
        if (c->ok) {
            if (CHECK_I(r, OSSR_OK)) {
                CHECK_I(ep.https, c->https);
                CHECK_SLICE(ep.host, c->host);
                CHECK(ep.host.ptr >= u && ep.host.ptr + ep.host.len <= u + ul);
                CHECK_U(ep.port, c->port);
                CHECK_I(ep.explicit_port, c->explicit_port);
                CHECK_I(ep.host_is_ip, c->is_ip);
                CHECK_I(ep.host_is_ipv6, c->is_ipv6);
            }
        } else {
            CHECK_I(r, OSSR_E_BAD_ENDPOINT);
        }
        free(u);
    }
    set_ctx("parse_endpoint(NULL)");
    CHECK_I(ossr_parse_endpoint(NULL, &ep), OSSR_E_BAD_ENDPOINT);
}

static void urlenc_case(const char *in, size_t n, int keep, const char *want, int line) {
    char out[256];
    size_t r, cap, want_len = strlen(want);
    int bad = 0;
    set_ctx("url_encode case at line %d", line);
    r = ossr_url_encode(in, n, keep, out, sizeof out);
    CHECK_U(r, want_len);
    if (r != (size_t)-1) CHECK_MEM(out, strlen(out), want, want_len);
    /* every too-small buffer is refused, never overrun; the exact size works */
    for (cap = 0; cap <= want_len + 1; cap++) {
        char *b = (char *)malloc(cap ? cap : 1);
        size_t rr = ossr_url_encode(in, n, keep, b, cap);
        if (cap <= want_len ? rr != (size_t)-1 : (rr != want_len || strcmp(b, want) != 0)) bad++;
        free(b);
    }
    CHECK_I(bad, 0);
}
static void test_urlenc(void) {
    urlenc_case("a b", 3, 1, "a%20b", __LINE__);
    urlenc_case("a+b", 3, 1, "a%2Bb", __LINE__);
    urlenc_case("dir/sub dir/f.bin", 17, 1, "dir/sub%20dir/f.bin", __LINE__);
    urlenc_case("dir/sub dir/f.bin", 17, 0, "dir%2Fsub%20dir%2Ff.bin", __LINE__);
    urlenc_case("~-_.AZaz09", 10, 0, "~-_.AZaz09", __LINE__);
    urlenc_case("\xE5\x86\x99\xE7\x9C\x9F", 6, 1, "%E5%86%99%E7%9C%9F", __LINE__);
    urlenc_case("\xff\xab", 2, 0, "%FF%AB", __LINE__);
    urlenc_case("!'()*&=;,:@$#?%", 15, 1, "%21%27%28%29%2A%26%3D%3B%2C%3A%40%24%23%3F%25", __LINE__);
    urlenc_case("a\0b", 3, 0, "a%00b", __LINE__);
    urlenc_case("abcdef", 3, 0, "abc", __LINE__); /* only len bytes */
    urlenc_case("", 0, 0, "", __LINE__);
}

/* ================================================================================== */
/* 6. HTTP response heads                                                             */
/* ================================================================================== */
static void test_response(void) {
    static const char head1[] =
        "HTTP/1.1 200 OK\r\n"
        "Server: AliyunOSS\r\n"
        "Date: Tue, 03 Dec 2024 08:15:30 GMT\r\n"
        "Content-Length: 4\r\n"
        "x-oss-request-id: 5C3D9175B6FC201293AD****\r\n"
        "x-oss-hash-crc64ecma:   18210911748811535913 \t \r\n"
        "ETag: \"3349DC700140D7F86A0784842780C6B8\"\r\n"
        "Empty:\r\n"
        "\r\n";
    static const char head2[] = "HTTP/1.0 404 Not Found\nContent-Type: application/xml\nA:b\n\n";
    static const char head3[] = "HTTP/1.1 204\r\n\r\n";
    static const char head4[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\r\n";
    static const char head5[] = "HTTP/1.1 500 \r\nX: y\r\n\r\n";
    static const char *const valid[5] = {head1, head2, head3, head4, head5};
    static const char *const bad[] = {
        "HTTP/2.0 200 OK\r\n\r\n", "HTTP/1.2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
        "HTTX/1.1 200 OK\r\n\r\n", "http/1.1 200 OK\r\n\r\n", " HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 099 OK\r\n\r\n", "HTTP/1.1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "HTTP/1.1 200 OK\r\nName\t: v\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\x01" "c\r\n\r\n", "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: b\x1b\r\n\r\n", "HTTP/1.1 200 OK\r\n: novalue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "HTTP/1.1 200 OK\r\nBad(Name): v\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad\"Name: v\r\n\r\n", NULL};
    ossr_response resp;
    size_t i;
    long r;
    ossr_slice v;

    /* head1 with a body behind it */
    {
        static const char full[] =
            "HTTP/1.1 200 OK\r\nServer: AliyunOSS\r\nDate: Tue, 03 Dec 2024 08:15:30 GMT\r\n"
            "Content-Length: 4\r\nx-oss-request-id: 5C3D9175B6FC201293AD****\r\n"
            "x-oss-hash-crc64ecma:   18210911748811535913 \t \r\n"
            "ETag: \"3349DC700140D7F86A0784842780C6B8\"\r\nEmpty:\r\n\r\nBODY";
        char *b = dup_exact(full, sizeof full - 1);
        set_ctx("response head1");
        r = ossr_parse_response(b, sizeof full - 1, &resp);
        CHECK_I(r, (long)(sizeof head1 - 1));
        CHECK_I(resp.minor_version, 1);
        CHECK_I(resp.status, 200);
        CHECK_SLICE(resp.reason, "OK");
        CHECK_U(resp.header_count, 7);
        if (resp.header_count == 7) {
            CHECK_SLICE(resp.names[0], "Server");
            CHECK_SLICE(resp.values[0], "AliyunOSS");
            CHECK_SLICE(resp.values[1], "Tue, 03 Dec 2024 08:15:30 GMT");
            CHECK_SLICE(resp.names[4], "x-oss-hash-crc64ecma");
            CHECK_SLICE(resp.values[4], "18210911748811535913");
            CHECK_SLICE(resp.names[6], "Empty");
            CHECK_U(resp.values[6].len, 0);
        }
        CHECK(ossr_response_header(&resp, "X-OSS-REQUEST-ID", &v) == 1);
        CHECK_SLICE(v, "5C3D9175B6FC201293AD****");
        CHECK(ossr_response_header(&resp, "etag", &v) == 1);
        CHECK_SLICE(v, "\"3349DC700140D7F86A0784842780C6B8\"");
        CHECK(ossr_response_header(&resp, "content-length", &v) == 1);
        CHECK_SLICE(v, "4");
        CHECK(ossr_response_header(&resp, "content-lengt", &v) == 0);
        CHECK(ossr_response_header(&resp, "x-oss-nothing", &v) == 0);
        CHECK(ossr_response_header(&resp, "Server", NULL) == 1);
        free(b);
    }
    for (i = 0; i < 5; i++) {
        size_t n = strlen(valid[i]), k;
        char *b = dup_exact(valid[i], n);
        int bad_prefix = 0;
        long first = 0;
        size_t first_at = 0;
        set_ctx("valid response head %lu", (unsigned long)i + 1);
        r = ossr_parse_response(b, n, &resp);
        CHECK_I(r, (long)n);
        free(b);
        for (k = 0; k < n; k++) { /* every strict prefix needs more */
            char *pb = dup_exact(valid[i], k);
            long pr = ossr_parse_response(pb, k, &resp);
            if (pr != OSSR_E_NEED_MORE && !bad_prefix++) { first = pr; first_at = k; }
            free(pb);
        }
        if (!CHECK_I(bad_prefix, 0))
            printf("       prefix of %lu bytes -> %ld\n", (unsigned long)first_at, first);
    }
    set_ctx("response head2 (bare LF)");
    r = ossr_parse_response(head2, strlen(head2), &resp);
    CHECK_I(resp.minor_version, 0);
    CHECK_I(resp.status, 404);
    CHECK_SLICE(resp.reason, "Not Found");
    CHECK(ossr_response_header(&resp, "content-type", &v) == 1);
    CHECK_SLICE(v, "application/xml");
    CHECK(ossr_response_header(&resp, "a", &v) == 1);
    CHECK_SLICE(v, "b");
    set_ctx("response head3 (no reason)");
    r = ossr_parse_response(head3, strlen(head3), &resp);
    CHECK_I(resp.status, 204);
    CHECK_U(resp.reason.len, 0);
    CHECK_U(resp.header_count, 0);
    set_ctx("response head5 (empty reason)");
    r = ossr_parse_response(head5, strlen(head5), &resp);
    CHECK_I(resp.status, 500);
    CHECK_U(resp.reason.len, 0);

    for (i = 0; bad[i]; i++) {
        size_t n = strlen(bad[i]);
        char *b = dup_exact(bad[i], n);
        set_ctx("malformed response head #%lu ", (unsigned long)i);
        CHECK_I(ossr_parse_response(b, n, &resp), OSSR_E_PROTOCOL);
        free(b);
    }
    {   /* a NUL byte in a value and in a name */
        static const char nul1[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
        static const char nul2[] = "HTTP/1.1 200 OK\r\nA\0: b\r\n\r\n";
        static const char nul3[] = "HTTP/1.1 200 O\0K\r\n\r\n";
        char *b = dup_exact(nul1, sizeof nul1 - 1);
        set_ctx("response head with NUL");
        CHECK_I(ossr_parse_response(b, sizeof nul1 - 1, &resp), OSSR_E_PROTOCOL);
        free(b);
        b = dup_exact(nul2, sizeof nul2 - 1);
        CHECK_I(ossr_parse_response(b, sizeof nul2 - 1, &resp), OSSR_E_PROTOCOL);
        free(b);
        b = dup_exact(nul3, sizeof nul3 - 1);
        CHECK_I(ossr_parse_response(b, sizeof nul3 - 1, &resp), OSSR_E_PROTOCOL);
        free(b);
    }
    {   /* OSSR_MAX_HEADERS headers fit; one more is too many */
        char big[8192];
        size_t n;
        int h;
        char *b;
        set_ctx("response with many headers");
        n = (size_t)sprintf(big, "HTTP/1.1 200 OK\r\n");
        for (h = 0; h < OSSR_MAX_HEADERS; h++) n += (size_t)sprintf(big + n, "X-H%d: v%d\r\n", h, h);
        n += (size_t)sprintf(big + n, "\r\n");
        b = dup_exact(big, n);
        CHECK_I(ossr_parse_response(b, n, &resp), (long)n);
        CHECK_U(resp.header_count, OSSR_MAX_HEADERS);
        CHECK(ossr_response_header(&resp, "x-h63", &v) == 1);
        CHECK_SLICE(v, "v63");
        free(b);
        n -= 2;
        n += (size_t)sprintf(big + n, "X-One-More: v\r\n\r\n");
        b = dup_exact(big, n);
        CHECK_I(ossr_parse_response(b, n, &resp), OSSR_E_TOO_LARGE);
        free(b);
    }
}

/* ================================================================================== */
/* 7. XML                                                                             */
/* ================================================================================== */
static const char xml_list_parts[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListPartsResult>\n"
    "  <Bucket>examplebucket</Bucket>\n"
    "  <Key>backup/db.tar.gz</Key>\n"
    "  <UploadId>0004B999EF5A239BB9138C6227D6****</UploadId>\n"
    "  <PartNumberMarker>0</PartNumberMarker>\n"
    "  <NextPartNumberMarker>3</NextPartNumberMarker>\n"
    "  <MaxParts>1000</MaxParts>\n"
    "  <IsTruncated>false</IsTruncated>\n"
    "  <Part>\n"
    "    <PartNumber>1</PartNumber>\n"
    "    <LastModified>2024-12-03T08:15:31.000Z</LastModified>\n"
    "    <ETag>\"3349DC700140D7F86A0784842780C6B8\"</ETag>\n"
    "    <HashCrc64ecma>18210911748811535913</HashCrc64ecma>\n"
    "    <Size>102400</Size>\n"
    "  </Part>\n"
    "  <Part>\n"
    "    <PartNumber>2</PartNumber>\n"
    "    <LastModified>2024-12-03T08:15:32.000Z</LastModified>\n"
    "    <ETag>&quot;8EFDA8BE206636A695359836FE0A0E0A&quot;</ETag>\n"
    "    <HashCrc64ecma>13254891242042228220</HashCrc64ecma>\n"
    "    <Size>102400</Size>\n"
    "  </Part>\n"
    "  <Part>\n"
    "    <PartNumber>3</PartNumber>\n"
    "    <LastModified>2024-12-03T08:15:33.000Z</LastModified>\n"
    "    <ETag>\"0A0E0AF8EFDA8BE206636A695359836F\"</ETag>\n"
    "    <HashCrc64ecma>10609554046277285147</HashCrc64ecma>\n"
    "    <Size>51200</Size>\n"
    "  </Part>\n"
    "</ListPartsResult>\n";

static const char xml_error[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Error>\n"
    "  <Code>RequestTimeTooSkewed</Code>\n"
    "  <Message>The difference between the request time and the current time is too large.</Message>\n"
    "  <RequestId>57ABD896CCB80C366955****</RequestId>\n"
    "  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>\n"
    "  <MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>\n"
    "  <RequestTime>2024-12-03T08:45:30.000Z</RequestTime>\n"
    "  <ServerTime>2024-12-03T08:15:30.000Z</ServerTime>\n"
    "  <EC>0002-00000504</EC>\n"
    "  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0002-00000504</RecommendDoc>\n"
    "</Error>\n";

static const char xml_initiate[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<InitiateMultipartUploadResult xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">\n"
    "    <Bucket>oss-example</Bucket>\n"
    "    <Key>multipart.data</Key>\n"
    "    <UploadId>0004B9894A22E5B1888A1E29F8236E2D</UploadId>\n"
    "</InitiateMultipartUploadResult>\n";

static const char xml_misc[] =
    "<?xml version=\"1.0\"?><!-- <Code>in a comment</Code> -->"
    "<R a='1>2' b=\"<x>\"><Self/><Self /><Self>filled</Self>"
    "<C><![CDATA[</C><C>x]]>tail</C>"
    "<N><N>in</N>out</N><E>&quot;&amp;&lt;&gt;&apos;&#65;&#x4E2D;&#x1F600;&#38;</E>"
    "<?pi stuff?><Z>last</Z></R>";

/* The content of a document's root element (which must be there whole). */
static ossr_slice xml_root(const char *doc, size_t n, const char *root) {
    size_t pos = 0;
    ossr_slice c;
    c.ptr = NULL;
    c.len = 0;
    CHECK_I(ossr_xml_next(doc, n, root, &pos, &c), 1);
    return c;
}

static int xml_text_is(const char *xml, size_t len, const char *tag, const char *want) {
    char out[512];
    int r = ossr_xml_text(xml, len, tag, out, sizeof out);
    return CHECK_I(r, 1) && CHECK_STR(out, want);
}

/* Runs the extractor over every prefix of a document (heap copies of exact length). */
static void xml_prefixes(const char *doc, const char *const *tags) {
    size_t n = strlen(doc), k;
    int bad = 0;
    for (k = 0; k <= n; k++) {
        char *b = dup_exact(doc, k);
        int t;
        for (t = 0; tags[t]; t++) {
            size_t pos = 0;
            ossr_slice c;
            char out[64];
            int guard = 0, r;
            while ((r = ossr_xml_next(b, k, tags[t], &pos, &c)) == 1 && guard++ < 100) {
                if (c.ptr < b || c.ptr + c.len > b + k || pos > k) bad++;
            }
            if (r > 1 || guard >= 100) bad++;
            memset(out, 'x', sizeof out);
            r = ossr_xml_text(b, k, tags[t], out, sizeof out);
            if (r > 1 || !memchr(out, 0, sizeof out)) bad++;
        }
        free(b);
    }
    CHECK_I(bad, 0);
}

static void test_xml(void) {
    size_t pos, n;
    ossr_slice c;
    int r, count;
    char out[256];

    /* ListPartsResult: iterate <Part> */
    set_ctx("xml ListPartsResult");
    n = strlen(xml_list_parts);
    {
        char *doc = dup_exact(xml_list_parts, n);
        static const char *const nums[3] = {"1", "2", "3"};
        static const char *const etags[3] = {"\"3349DC700140D7F86A0784842780C6B8\"",
                                             "\"8EFDA8BE206636A695359836FE0A0E0A\"",
                                             "\"0A0E0AF8EFDA8BE206636A695359836F\""};
        static const char *const crcs[3] = {"18210911748811535913", "13254891242042228220",
                                            "10609554046277285147"};
        static const char *const sizes[3] = {"102400", "102400", "51200"};
        const char *first_part = strstr(doc, "<Part>");
        ossr_slice root = xml_root(doc, n, "ListPartsResult");
        pos = 0;
        count = 0;
        CHECK_I(ossr_xml_next(doc, n, "Part", &pos, &c), 0);   /* not a child of the document */
        pos = 0;
        while ((r = ossr_xml_next(root.ptr, root.len, "Part", &pos, &c)) == 1) {
            if (count < 3) {
                set_ctx("xml ListPartsResult part %d", count + 1);
                if (count == 0) CHECK(c.ptr > first_part); /* not <PartNumberMarker> */
                xml_text_is(c.ptr, c.len, "PartNumber", nums[count]);
                xml_text_is(c.ptr, c.len, "ETag", etags[count]);
                xml_text_is(c.ptr, c.len, "HashCrc64ecma", crcs[count]);
                xml_text_is(c.ptr, c.len, "Size", sizes[count]);
                CHECK(ossr_xml_text(c.ptr, c.len, "PartNumberMarker", out, sizeof out) == 0);
            }
            count++;
        }
        set_ctx("xml ListPartsResult");
        CHECK_I(r, 0);
        CHECK_I(count, 3);
        CHECK_U(pos, root.len);
        xml_text_is(root.ptr, root.len, "PartNumberMarker", "0");
        xml_text_is(root.ptr, root.len, "NextPartNumberMarker", "3");
        xml_text_is(root.ptr, root.len, "IsTruncated", "false");
        xml_text_is(root.ptr, root.len, "UploadId", "0004B999EF5A239BB9138C6227D6****");
        CHECK_I(ossr_xml_text(doc, n, "UploadId", out, sizeof out), 0);   /* only inside the root */
        {   /* "Part" never matches a longer name */
            static const char only_marker[] =
                "<R><PartNumberMarker>5</PartNumberMarker><PartX>1</PartX><Par>2</Par></R>";
            char *b = dup_exact(only_marker, sizeof only_marker - 1);
            ossr_slice rr = xml_root(b, sizeof only_marker - 1, "R");
            pos = 0;
            CHECK_I(ossr_xml_next(rr.ptr, rr.len, "Part", &pos, &c), 0);
            free(b);
        }
        {   /* a private helper reads decimal elements */
            uint64_t v = 0;
            CHECK_I(ossr__xml_u64(root.ptr, root.len, "MaxParts", &v), 1);
            CHECK_U(v, 1000);
        }
        free(doc);
    }

    /* Error reply */
    set_ctx("xml Error");
    n = strlen(xml_error);
    {
        char *doc = dup_exact(xml_error, n);
        ossr_slice e = xml_root(doc, n, "Error");
        xml_text_is(e.ptr, e.len, "Code", "RequestTimeTooSkewed");
        xml_text_is(e.ptr, e.len, "Message",
                    "The difference between the request time and the current time is too large.");
        xml_text_is(e.ptr, e.len, "RequestId", "57ABD896CCB80C366955****");
        xml_text_is(e.ptr, e.len, "HostId", "examplebucket.oss-cn-hangzhou.aliyuncs.com");
        xml_text_is(e.ptr, e.len, "EC", "0002-00000504");
        xml_text_is(e.ptr, e.len, "ServerTime", "2024-12-03T08:15:30.000Z");
        strcpy(out, "junk");
        CHECK_I(ossr_xml_text(e.ptr, e.len, "StringToSign", out, sizeof out), 0);
        CHECK_STR(out, "");
        {   /* truncation to the output buffer */
            char small[5];
            r = ossr_xml_text(e.ptr, e.len, "Code", small, sizeof small);
            CHECK(r == 1 || r < 0);
            CHECK(memchr(small, 0, sizeof small) != NULL);
            if (r == 1) CHECK_STR(small, "Requ");
        }
        free(doc);
    }

    /* InitiateMultipartUploadResult with xmlns on the root */
    set_ctx("xml InitiateMultipartUploadResult");
    n = strlen(xml_initiate);
    {
        char *doc = dup_exact(xml_initiate, n);
        ossr_slice root = xml_root(doc, n, "InitiateMultipartUploadResult");
        xml_text_is(root.ptr, root.len, "UploadId", "0004B9894A22E5B1888A1E29F8236E2D");
        xml_text_is(root.ptr, root.len, "Key", "multipart.data");
        pos = 0;
        CHECK_I(ossr_xml_next(doc, n, "InitiateMultipartUploadResult", &pos, &c), 1);
        CHECK(c.len > 0 && c.ptr[0] == '\n');
        free(doc);
    }

    /* entities, CDATA, comments, declarations, self-closing and nested tags */
    set_ctx("xml misc");
    n = strlen(xml_misc);
    {
        char *doc = dup_exact(xml_misc, n);
        ossr_slice rr = xml_root(doc, n, "R");
        xml_text_is(rr.ptr, rr.len, "E", "\"&<>'A\xE4\xB8\xAD\xF0\x9F\x98\x80&");
        xml_text_is(rr.ptr, rr.len, "C", "</C><C>xtail");
        CHECK(ossr_xml_text(rr.ptr, rr.len, "N", out, sizeof out) < 0);   /* an element is not text */
        CHECK_STR(out, "");
        xml_text_is(rr.ptr, rr.len, "Z", "last");
        CHECK_I(ossr_xml_text(doc, n, "Code", out, sizeof out), 0); /* only in a comment */
        CHECK_I(ossr_xml_text(rr.ptr, rr.len, "x", out, sizeof out), 0);    /* only in an attribute */
        pos = 0;
        CHECK_I(ossr_xml_next(rr.ptr, rr.len, "Self", &pos, &c), 1);
        CHECK_U(c.len, 0);
        CHECK_I(ossr_xml_next(rr.ptr, rr.len, "Self", &pos, &c), 1);
        CHECK_U(c.len, 0);
        CHECK_I(ossr_xml_next(rr.ptr, rr.len, "Self", &pos, &c), 1);
        CHECK_SLICE(c, "filled");
        CHECK_I(ossr_xml_next(rr.ptr, rr.len, "Self", &pos, &c), 0);
        pos = 0;
        CHECK_I(ossr_xml_next(doc, n, "R", &pos, &c), 1);
        CHECK(c.len > 0 && c.ptr[c.len - 1] == '>' && c.ptr + c.len + 4 == doc + n);
        free(doc);
    }
    {   /* a comment that starts "<!-->" runs to the next "-->", hiding what is inside */
        static const char tricky[] = "<R><!--><Code>hidden</Code>--><Code>real</Code></R>";
        char *doc = dup_exact(tricky, sizeof tricky - 1);
        ossr_slice rr;
        set_ctx("xml comment opened by <!-->");
        rr = xml_root(doc, sizeof tricky - 1, "R");
        xml_text_is(rr.ptr, rr.len, "Code", "real");
        free(doc);
    }

    /* malformed inputs */
    {
        static const char *const bad_next[] = {
            "<R><Code>abc</R>", "<R><Code", "<R><Code>abc", "<R><!-- never closed <Code>a</Code>",
            "<R><![CDATA[ open <Code>a</Code>", "<R><?pi <Code>a</Code>", "<Code a=\"x>a</Code>",
            "<R></>", "<", "<Code>a<", NULL};
        static const char *const bad_text[] = {
            "<Code>&bogus;</Code>", "<Code>&amp</Code>", "<Code>&#;</Code>", "<Code>&#x;</Code>",
            "<Code>&#xD800;</Code>", "<Code>&#0;</Code>", "<Code>&#x110000;</Code>",
            "<Code>&#12a;</Code>", "<Code>a & b</Code>", "<Code><![CDATA[x</Code>", NULL};
        int i;
        for (i = 0; bad_next[i]; i++) {
            size_t bl = strlen(bad_next[i]);
            char *b = dup_exact(bad_next[i], bl);
            set_ctx("malformed xml %s", bad_next[i]);
            pos = 0;
            r = ossr_xml_next(b, bl, "Code", &pos, &c);
            CHECK(r < 0);
            free(b);
        }
        for (i = 0; bad_text[i]; i++) {
            size_t bl = strlen(bad_text[i]);
            char *b = dup_exact(bad_text[i], bl);
            set_ctx("bad xml text %s", bad_text[i]);
            r = ossr_xml_text(b, bl, "Code", out, sizeof out);
            CHECK(r < 0);
            free(b);
        }
    }

    /* fields are the element's own children: nested unknown elements, comments and
       processing instructions inside text, and an empty element change nothing */
    {
        static const char hostile[] =
            "<Part><Extra><Size>999</Size><PartNumber>9999</PartNumber><ETag>\"decoy\"</ETag></Extra>"
            "<PartNumber>3</PartNumber><ETag><!-- c -->&quot;ABC&quot;<?pi x?></ETag>"
            "<HashCrc64ecma/><Size>5</Size></Part>";
        char *doc = dup_exact(hostile, sizeof hostile - 1);
        ossr_slice part = xml_root(doc, sizeof hostile - 1, "Part");
        uint64_t v = 0;
        set_ctx("xml hostile part");
        CHECK_I(ossr__xml_u64(part.ptr, part.len, "Size", &v), 1);
        CHECK_U(v, 5);
        CHECK_I(ossr__xml_u64(part.ptr, part.len, "PartNumber", &v), 1);
        CHECK_U(v, 3);
        xml_text_is(part.ptr, part.len, "ETag", "\"ABC\"");
        CHECK_I(ossr__xml_u64(part.ptr, part.len, "HashCrc64ecma", &v), 0);
        free(doc);
    }
    {   /* a child cut short asks for more; the same bytes complete give it whole */
        static const char stream[] = "<A>1</A> <!-- x --> <B><C>2</C></B></R>";
        size_t k, full = sizeof stream - 1;
        set_ctx("xml child of a stream");
        for (k = 0; k < full; k++) {
            char *b = dup_exact(stream, k);
            ossr_slice name;
            int got = 0;
            pos = 0;
            while ((r = ossr__xml_child(b, k, &pos, &name, &c)) == 1) got++;
            CHECK(r == 0 || r == OSSR_E_NEED_MORE);
            CHECK(got <= 2 && pos <= k);
            free(b);
        }
        {
            char *b = dup_exact(stream, full);
            ossr_slice name;
            pos = 0;
            CHECK_I(ossr__xml_child(b, full, &pos, &name, &c), 1);
            CHECK_SLICE(name, "A");
            CHECK_I(ossr__xml_child(b, full, &pos, &name, &c), 1);
            CHECK_SLICE(name, "B");
            CHECK_SLICE(c, "<C>2</C>");
            CHECK_I(ossr__xml_child(b, full, &pos, &name, &c), 0);   /* the parent's closing tag */
            CHECK(b[pos] == '<' && b[pos + 1] == '/');
            free(b);
        }
        {   /* a closing tag that does not match its element */
            static const char bad[] = "<A><B>1</A></B>";
            char *b = dup_exact(bad, sizeof bad - 1);
            ossr_slice name;
            pos = 0;
            CHECK_I(ossr__xml_child(b, sizeof bad - 1, &pos, &name, &c), OSSR_E_CORRUPT);
            free(b);
        }
    }

    /* every prefix of each document: never a crash, never a read past the end */
    {
        static const char *const t1[] = {"Part", "PartNumber", "ETag", "ListPartsResult", NULL};
        static const char *const t2[] = {"Code", "Message", "EC", "ServerTime", NULL};
        static const char *const t3[] = {"UploadId", "InitiateMultipartUploadResult", NULL};
        static const char *const t4[] = {"E", "C", "N", "Self", "R", "Z", NULL};
        set_ctx("xml prefixes of ListPartsResult");
        xml_prefixes(xml_list_parts, t1);
        set_ctx("xml prefixes of Error");
        xml_prefixes(xml_error, t2);
        set_ctx("xml prefixes of InitiateMultipartUploadResult");
        xml_prefixes(xml_initiate, t3);
        set_ctx("xml prefixes of misc");
        xml_prefixes(xml_misc, t4);
    }
}

/* ================================================================================== */
/* 8. checkpoint codec                                                                */
/* ================================================================================== */
static ossr_slice mk_slice(const char *s) {
    ossr_slice v;
    v.ptr = s;
    v.len = strlen(s);
    return v;
}
static int slice_eq(ossr_slice a, ossr_slice b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static int ckpt_same(const ossr_checkpoint *a, const ossr_checkpoint *b) {
    return a->file_size == b->file_size && a->mtime_sec == b->mtime_sec &&
           a->mtime_nsec == b->mtime_nsec && a->part_size == b->part_size &&
           a->part_count == b->part_count && a->flags == b->flags &&
           slice_eq(a->endpoint, b->endpoint) && slice_eq(a->bucket, b->bucket) &&
           slice_eq(a->key, b->key) && slice_eq(a->path, b->path) &&
           slice_eq(a->upload_id, b->upload_id);
}

static void test_checkpoint(void) {
    ossr_checkpoint c, d;
    unsigned char buf[OSSR_CKPT_HEAD_MAX + OSSR_CKPT_SLOT];
    size_t n, k, bit;
    long r;
    int bad;

    memset(&c, 0, sizeof c);
    c.version = 1;
    c.file_size = 25 * MiB + 7;
    c.mtime_sec = 1733213730;
    c.mtime_nsec = 123456789;
    c.part_size = MiB;
    c.part_count = 26;
    c.flags = 0;
    c.endpoint = mk_slice("https://oss-cn-hangzhou.aliyuncs.com");
    c.bucket = mk_slice("examplebucket");
    c.key = mk_slice("photos/2024/\xE5\x86\x99\xE7\x9C\x9F #1+2.jpg");
    c.path = mk_slice("/srv/data/photo.jpg");
    c.upload_id = mk_slice("0004B9894A22E5B1888A1E29F8236E2D");

    set_ctx("checkpoint round trip");
    n = ossr_checkpoint_encode(&c, buf, sizeof buf);
    CHECK(n > 52);
    {
        unsigned char *b = (unsigned char *)dup_exact(buf, n);
        r = ossr_checkpoint_decode(b, n, &d);
        CHECK_I(r, (long)n);
        CHECK_U(d.version, 1);
        CHECK_U(d.file_size, c.file_size);
        CHECK_I(d.mtime_sec, c.mtime_sec);
        CHECK_U(d.mtime_nsec, c.mtime_nsec);
        CHECK_U(d.part_size, c.part_size);
        CHECK_U(d.part_count, c.part_count);
        CHECK_U(d.flags, 0);
        CHECK_MEM(d.endpoint.ptr, d.endpoint.len, c.endpoint.ptr, c.endpoint.len);
        CHECK_MEM(d.bucket.ptr, d.bucket.len, c.bucket.ptr, c.bucket.len);
        CHECK_MEM(d.key.ptr, d.key.len, c.key.ptr, c.key.len);
        CHECK_MEM(d.path.ptr, d.path.len, c.path.ptr, c.path.len);
        CHECK_MEM(d.upload_id.ptr, d.upload_id.len, c.upload_id.ptr, c.upload_id.len);
        CHECK(d.key.ptr >= (const char *)b && d.key.ptr + d.key.len <= (const char *)b + n);
        free(b);
    }
    {   /* slots may follow the fixed part */
        memset(buf + n, 0xA5, OSSR_CKPT_SLOT);
        CHECK_I(ossr_checkpoint_decode(buf, n + OSSR_CKPT_SLOT, &d), (long)n);
    }
    {   /* a negative mtime, the largest nanoseconds, an empty endpoint */
        ossr_checkpoint e = c;
        unsigned char b2[1024];
        size_t n2;
        e.mtime_sec = -86400;
        e.mtime_nsec = 999999999u;
        e.endpoint = mk_slice("");
        e.file_size = 1;
        e.part_size = 5 * GiB;
        e.part_count = 1;
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK(n2 > 0);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), (long)n2);
        CHECK(ckpt_same(&e, &d));
    }

    set_ctx("checkpoint truncated prefixes");
    bad = 0;
    for (k = 0; k < n; k++) {
        unsigned char *b = (unsigned char *)dup_exact(buf, k);
        r = ossr_checkpoint_decode(b, k, &d);
        if (r != OSSR_E_NEED_MORE && r != OSSR_E_CORRUPT) bad++;
        free(b);
    }
    CHECK_I(bad, 0);

    set_ctx("checkpoint single-bit flips");
    bad = 0;
    for (bit = 0; bit < n * 8; bit++) {
        unsigned char *b = (unsigned char *)dup_exact(buf, n);
        b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        r = ossr_checkpoint_decode(b, n, &d);
        if (r >= 0 && !ckpt_same(&c, &d)) {
            if (!bad) printf("       bit %lu flipped and accepted\n", (unsigned long)bit);
            bad++;
        }
        free(b);
    }
    CHECK_I(bad, 0);

    set_ctx("checkpoint plan that does not cover the file");
    {
        ossr_checkpoint e = c;
        unsigned char b2[1024];
        size_t n2;
        e.part_count = 27;
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK(n2 > 0);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), OSSR_E_CORRUPT);
        e.part_count = 25;
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), OSSR_E_CORRUPT);
        e.part_count = 0; e.file_size = 0;
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), OSSR_E_CORRUPT);
        e = c;
        e.part_size = 0;
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), OSSR_E_CORRUPT);
        e = c;
        e.file_size = 20000 * 6 * GiB; e.part_size = 6 * GiB; e.part_count = 20000;
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), OSSR_E_CORRUPT);
        e = c;
        e.upload_id = mk_slice("");
        n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
        CHECK_I(ossr_checkpoint_decode(b2, n2, &d), OSSR_E_CORRUPT);
    }

    set_ctx("checkpoint flags: a download's record, and combinations that are none");
    {
        static const struct { uint32_t flags; uint64_t head, tail; int ok; } fl[] = {
            {OSSR_CKPT_FLAG_DOWNLOAD, 0, 0, 1},
            {OSSR_CKPT_FLAG_DOWNLOAD | OSSR_CKPT_FLAG_OBJECT_CRC, 12345, 0, 1},
            {OSSR_CKPT_FLAG_DOWNLOAD | OSSR_CKPT_FLAG_OBJECT_CRC, 0, 0, 1},      /* a CRC-64 may be 0 */
            {OSSR_CKPT_FLAG_CONTENT, 1, 2, 1},
            {OSSR_CKPT_FLAG_DOWNLOAD, 12345, 0, 0},                             /* a CRC-64 without its flag */
            {OSSR_CKPT_FLAG_DOWNLOAD | OSSR_CKPT_FLAG_OBJECT_CRC, 12345, 1, 0}, /* a tail fingerprint */
            {OSSR_CKPT_FLAG_OBJECT_CRC, 12345, 0, 0},                           /* not a download's */
            {OSSR_CKPT_FLAG_CONTENT | OSSR_CKPT_FLAG_DOWNLOAD, 1, 2, 0},
            {8, 0, 0, 0},
        };
        size_t i;
        for (i = 0; i < sizeof fl / sizeof fl[0]; i++) {
            ossr_checkpoint e = c;
            unsigned char b2[1024];
            size_t n2;
            e.version = 1;
            e.flags = fl[i].flags;
            e.head_crc = fl[i].head;
            e.tail_crc = fl[i].tail;
            n2 = ossr_checkpoint_encode(&e, b2, sizeof b2);
            CHECK(n2 > 0);
            CHECK_I(ossr_checkpoint_decode(b2, n2, &d), fl[i].ok ? (long)n2 : OSSR_E_CORRUPT);
            if (fl[i].ok) CHECK(d.flags == fl[i].flags && d.head_crc == fl[i].head && d.tail_crc == fl[i].tail);
        }
    }

    set_ctx("checkpoint encode with a small buffer");
    bad = 0;
    for (k = 0; k < n; k++) {
        unsigned char *b = (unsigned char *)dup_exact(buf, k);
        if (ossr_checkpoint_encode(&c, b, k) != 0) bad++;
        free(b);
    }
    CHECK_I(bad, 0);
    {
        unsigned char *b = (unsigned char *)malloc(n);
        CHECK_U(ossr_checkpoint_encode(&c, b, n), n);
        free(b);
    }
    {   /* a string longer than the format allows */
        ossr_checkpoint e = c;
        char *longs = (char *)malloc(70000);
        memset(longs, 'p', 70000);
        e.path.ptr = longs;
        e.path.len = 70000;
        CHECK_U(ossr_checkpoint_encode(&e, buf, sizeof buf), 0);
        free(longs);
    }

    /* part slots */
    {
        ossr_checkpoint_part p, q;
        unsigned char slot[OSSR_CKPT_SLOT];
        static const char *const etags[4] = {"\"3349DC700140D7F86A0784842780C6B8\"", "",
                                             "\"ABCDEF\"",
                                             "01234567890123456789012345678901234567890123456"};
        static const uint32_t numbers[4] = {1, 10000, OSSR_CKPT_COMPLETING, 517};
        int i;
        for (i = 0; i < 4; i++) {
            set_ctx("checkpoint slot %d", i);
            memset(&p, 0, sizeof p);
            p.number = numbers[i];
            p.size = i == 2 ? 0 : 102400u + (uint64_t)i;
            p.crc64 = 18210911748811535913ull - (uint64_t)i;
            strcpy(p.etag, etags[i]);
            ossr_checkpoint_encode_part(&p, slot);
            CHECK_I(ossr_checkpoint_decode_part(slot, &q), 1);
            CHECK_U(q.number, p.number);
            CHECK_U(q.size, p.size);
            CHECK_U(q.crc64, p.crc64);
            CHECK_STR(q.etag, p.etag);
            bad = 0;
            for (bit = 0; bit < OSSR_CKPT_SLOT * 8; bit++) {
                unsigned char *b = (unsigned char *)dup_exact(slot, OSSR_CKPT_SLOT);
                b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
                if (ossr_checkpoint_decode_part(b, &q) != 0) bad++;
                free(b);
            }
            CHECK_I(bad, 0);
        }
        set_ctx("checkpoint slot zero / invalid numbers");
        memset(slot, 0, sizeof slot);
        CHECK_I(ossr_checkpoint_decode_part(slot, &q), 0);
        memset(&p, 0, sizeof p);
        p.number = 0;
        ossr_checkpoint_encode_part(&p, slot);
        CHECK_I(ossr_checkpoint_decode_part(slot, &q), 0);
        p.number = 10001;
        ossr_checkpoint_encode_part(&p, slot);
        CHECK_I(ossr_checkpoint_decode_part(slot, &q), 0);
    }
}

/* ================================================================================== */
/* 9. results, retry classes, status lines                                            */
/* ================================================================================== */
typedef struct result_item {
    ossr_result r;
    const char *name, *text;
} result_item;
#define RESULT_ITEM(name, value, text) {name, #name, text},
static const result_item all_results[] = {OSSR_RESULT_LIST(RESULT_ITEM)};
#undef RESULT_ITEM

static void test_results(void) {
    size_t i, j, nres = sizeof all_results / sizeof all_results[0];
    static const int unknown[] = {2, 3, -8, -19, -27, -39, -50, -59, -63, -79, -84, -100, -999};
    for (i = 0; i < nres; i++) {
        const char *s = ossr_result_str(all_results[i].r);
        set_ctx("ossr_result_str(%s)", all_results[i].name);
        CHECK(s != NULL && s[0] != 0);
        CHECK(s && strcmp(s, "unknown result") != 0);
        CHECK_STR(s, all_results[i].text);
        for (j = 0; j < i; j++) CHECK(all_results[j].r != all_results[i].r);
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        set_ctx("ossr_result_str(%d)", unknown[i]);
        CHECK_STR(ossr_result_str((ossr_result)unknown[i]), "unknown result");
    }

    set_ctx("ossr_result_is_retryable");
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 500, "InternalError"), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 502, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 503, "ServiceUnavailable"), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 599, ""), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 429, "TooManyRequests"), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 408, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 403, "RequestTimeTooSkewed"), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 400, "RequestTimeout"), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_RESOLVE, 0, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_CONNECT, 0, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SEND, 0, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_RECV, 0, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_TIMEOUT, 0, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_CRC, 200, NULL), 1);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 403, "AccessDenied"), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 403, "SignatureDoesNotMatch"), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 404, "NoSuchUpload"), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 400, "InvalidPart"), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 400, "EntityTooSmall"), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 409, "FileAlreadyExists"), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_SERVER, 0, NULL), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_OK, 200, NULL), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_INVALID_ARG, 0, NULL), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_CANCELLED, 0, NULL), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_FILE, 0, NULL), 0);
    CHECK_I(ossr_result_is_retryable(OSSR_E_NOMEM, 0, NULL), 0);

    set_ctx("ossr_status_format");
    {
        ossr_status st;
        char line[1024];
        const char *ret;
        size_t full, cap;
        int bad = 0;
        memset(&st, 0, sizeof st);
        st.result = OSSR_E_SERVER;
        st.http_status = 404;
        strcpy(st.code, "NoSuchUpload");
        strcpy(st.message, "The specified upload does not exist.");
        strcpy(st.request_id, "57ABD896CCB80C366955****");
        strcpy(st.upload_id, "0004B9894A22E5B1888A1E29F8236E2D");
        strcpy(st.detail, "uploading part 3");
        st.part_number = 3;
        ret = ossr_status_format(&st, line, sizeof line);
        CHECK(ret == line);
        CHECK(strstr(line, "NoSuchUpload") != NULL);
        CHECK(strstr(line, "57ABD896CCB80C366955****") != NULL);
        CHECK(strstr(line, "404") != NULL);
        CHECK(strstr(line, "0004B9894A22E5B1888A1E29F8236E2D") != NULL);
        full = strlen(line);
        for (cap = 1; cap <= full + 8; cap++) {
            char *b = (char *)malloc(cap);
            memset(b, 'Z', cap);
            ret = ossr_status_format(&st, b, cap);
            if (ret != b || !memchr(b, 0, cap)) bad++;
            else if (cap > full && strcmp(b, line) != 0) bad++;
            free(b);
        }
        CHECK_I(bad, 0);
        {
            char one = 'Q';
            CHECK(ossr_status_format(&st, &one, 0) == &one);
            CHECK(one == 'Q');
        }
        memset(&st, 0, sizeof st);
        ossr_status_format(&st, line, sizeof line);
        CHECK_STR(line, ossr_result_str(OSSR_OK));
        st.result = OSSR_E_CRC; /* a non-server result starts with the result in words */
        strcpy(st.request_id, "REQ-1");
        ossr_status_format(&st, line, sizeof line);
        CHECK(strncmp(line, ossr_result_str(OSSR_E_CRC), strlen(ossr_result_str(OSSR_E_CRC))) == 0);
        CHECK(strstr(line, "REQ-1") != NULL);
        /* fields filled to their capacity */
        memset(&st, 0, sizeof st);
        st.result = OSSR_E_SERVER;
        st.http_status = 500;
        memset(st.code, 'C', sizeof st.code - 1);
        memset(st.message, 'M', sizeof st.message - 1);
        memset(st.request_id, 'R', sizeof st.request_id - 1);
        memset(st.upload_id, 'U', sizeof st.upload_id - 1);
        memset(st.detail, 'D', sizeof st.detail - 1);
        st.part_number = 10000;
        bad = 0;
        for (cap = 1; cap < 1200; cap += 7) {
            char *b = (char *)malloc(cap);
            ossr_status_format(&st, b, cap);
            if (!memchr(b, 0, cap)) bad++;
            free(b);
        }
        CHECK_I(bad, 0);
    }
}

/* ================================================================================== */
/* The numeric element reader used for PartNumber, Size and HashCrc64ecma: trimmed,
   strict, and never a prefix of a value too long for its buffer. */
static void test_xml_numbers(void) {
    static const char *ok = "<Size>  10485760 </Size><N>\n42\t</N><Max>18446744073709551615</Max>";
    static const char *padded = "<Size>                      10485760123</Size>";
    static const char *bad[] = {"<Size>12a</Size>", "<Size>-1</Size>", "<Size><N>1</N></Size>",
                                "<Size>18446744073709551616</Size>", "<Size>1 2</Size>"};
    static const char *empty[] = {"<Size></Size>", "<Size/>", "<Size> \n</Size>", "<Size><!-- none --></Size>",
                                  "<Other><Size>5</Size></Other>"};
    uint64_t v = 0;
    size_t i;
    CHECK_I(ossr__xml_u64(ok, strlen(ok), "Size", &v), 1);
    CHECK_U(v, 10485760u);
    CHECK_I(ossr__xml_u64(ok, strlen(ok), "N", &v), 1);
    CHECK_U(v, 42u);
    CHECK_I(ossr__xml_u64(ok, strlen(ok), "Max", &v), 1);
    CHECK(v == UINT64_MAX);
    CHECK_I(ossr__xml_u64(ok, strlen(ok), "Absent", &v), 0);
    CHECK(ossr__xml_u64(padded, strlen(padded), "Size", &v) < 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(ossr__xml_u64(bad[i], strlen(bad[i]), "Size", &v) < 0);
    for (i = 0; i < sizeof empty / sizeof empty[0]; i++)   /* empty or not a child: absent */
        CHECK_I(ossr__xml_u64(empty[i], strlen(empty[i]), "Size", &v), 0);
}

/* The system CA bundle (where this machine has one) decodes into many trust anchors:
   the path a plain `ossup put` to an https:// endpoint takes. */
static void test_system_bundle(void) {
#ifndef OSSR_NO_TLS
    ossr__anchors a;
    ossr__heap heap;
    char why[256];
    const char *path = ossr__system_ca_file();
    memset(&heap, 0, sizeof heap);
    if (!path) { printf("unit: no system CA bundle here; bundle check skipped\n"); return; }
    CHECK_I(ossr__anchors_load(&a, &heap, path, why, sizeof why), OSSR_OK);
    CHECK(a.n >= 20);
    CHECK(a.n > 0 && a.ta[0].dn.len > 0);
    CHECK(heap.peak > 0 && heap.now > 0);
    ossr__anchors_free(&a, &heap);
    CHECK_U(heap.now, 0);
    CHECK_I(ossr__anchors_load(&a, &heap, "/nonexistent/ca.pem", why, sizeof why), OSSR_E_FILE);
    CHECK_U(heap.now, 0);
    CHECK(strstr(why, "/nonexistent/ca.pem") != NULL);
#endif
}

/* The checkpoint loader over a real record file: cut at every byte and every byte
   flipped. A damaged fixed part is never trusted; a damaged slot costs only its part. */
static void ckpt_write_file(const char *path, const unsigned char *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}
/* Loads the record; counts the parts whose slot reads back intact. */
static char ckpt_old_id[128];   /* the upload id the last ckpt_load_file found */
static unsigned char ckpt_scratch[OSSR_CKPT_HEAD_MAX + OSSR__IDBLOCK];   /* what lane 0's io is to the library */
static int ckpt_load_file(ossr__ctx *c, int *slots, int *completing) {
    char *old_id = ckpt_old_id, reason[160];
    uint64_t ccrc = 0;
    uint32_t k;
    int state;
    ossr__slots cache;
    ossr_checkpoint_part p;
    state = ossr__ckpt_load(c, old_id, reason, sizeof reason, completing, &ccrc);
    if (c->ckpt_fd != OSSR__BAD_FH) { ossr__file_close(c->ckpt_fd); c->ckpt_fd = OSSR__BAD_FH; }
    *slots = 0;
    memset(&cache, 0, sizeof cache);
    for (k = 0; state == OSSR__CKPT_MATCH && k < c->part_count; k++) *slots += ossr__slot_get(c, &cache, k, &p);
    return state;
}
/* The checkpoint format is the same bytes on every host: tests/checkpoint_le.bin was
   written by a little-endian machine from the record below. Any host must decode it to
   these fields and encode these fields to the same bytes (so a record written on a
   little-endian board loads on a big-endian one, and back). OSSR_WRITE_PORTABLE=FILE
   writes the record this host encodes; OSSR_READ_PORTABLE=FILE decodes FILE instead of
   tests/checkpoint_le.bin (tests/matrix.sh: a record written on big-endian, read here). */
static void portable_record(ossr_checkpoint *k, ossr_checkpoint_part *p) {
    static const char *const key = "dir/\xE6\x97\xA5\xE6\x9C\xAC/big file.bin";   /* UTF-8 */
    memset(k, 0, sizeof *k);
    k->version = 1;
    k->file_size = 5368709121ull;            /* above 4 GiB */
    k->mtime_sec = -86401;                   /* signed: before 1970 */
    k->mtime_nsec = 999999999u;
    k->part_size = 10485760ull;
    k->part_count = 513;
    k->flags = OSSR_CKPT_FLAG_CONTENT;
    k->head_crc = 0x0123456789ABCDEFull;
    k->tail_crc = 0xFEDCBA9876543210ull;
    k->endpoint.ptr = "https://oss-cn-hangzhou.aliyuncs.com:443"; k->endpoint.len = strlen(k->endpoint.ptr);
    k->bucket.ptr = "bkt-portable"; k->bucket.len = strlen(k->bucket.ptr);
    k->key.ptr = key; k->key.len = strlen(key);
    k->path.ptr = "/data/big file.bin"; k->path.len = strlen(k->path.ptr);
    k->upload_id.ptr = "0004B9894A22E5B1888A1E29F8236E2D"; k->upload_id.len = strlen(k->upload_id.ptr);
    memset(p, 0, sizeof *p);
    p->number = 513;
    p->size = 5368709121ull - 512ull * 10485760ull;
    p->crc64 = 0x8000000000000001ull;
    strcpy(p->etag, "\"5B3C1D2E4F60718293A4B5C6D7E8F901\"");
}
static void test_checkpoint_portable(const char *dir) {
    ossr_checkpoint want, got;
    ossr_checkpoint_part pw, pg;
    unsigned char enc[OSSR_CKPT_HEAD_MAX + OSSR_CKPT_SLOT];
    size_t len = 0, n;
    long hl;
    const char *other = getenv("OSSR_READ_PORTABLE");   /* a record written on another host */
    unsigned char *file = other ? (unsigned char *)read_whole_file("", other, &len)
                                : (unsigned char *)read_whole_file(dir, "checkpoint_le.bin", &len);
    set_ctx("checkpoint portable%s%s", other ? ": " : "", other ? other : "");
    portable_record(&want, &pw);
    n = ossr_checkpoint_encode(&want, enc, OSSR_CKPT_HEAD_MAX);
    CHECK(n > 0);
    ossr_checkpoint_encode_part(&pw, enc + n);
    if (getenv("OSSR_WRITE_PORTABLE")) {   /* how the file was made */
        FILE *f = fopen(getenv("OSSR_WRITE_PORTABLE"), "wb");
        if (f) { fwrite(enc, 1, n + OSSR_CKPT_SLOT, f); fclose(f); }
    }
    if (!CHECK(file != NULL)) return;
    CHECK_U(len, n + OSSR_CKPT_SLOT);
    CHECK(len == n + OSSR_CKPT_SLOT && memcmp(file, enc, len) == 0);   /* same bytes here */
    hl = ossr_checkpoint_decode(file, len, &got);
    CHECK_I(hl, (long)n);
    if (hl == (long)n) {
        CHECK_U(got.version, want.version);
        CHECK_U(got.file_size, want.file_size);
        CHECK(got.mtime_sec == want.mtime_sec);
        CHECK_U(got.mtime_nsec, want.mtime_nsec);
        CHECK_U(got.part_size, want.part_size);
        CHECK_U(got.part_count, want.part_count);
        CHECK_U(got.flags, want.flags);
        CHECK_U(got.head_crc, want.head_crc);
        CHECK_U(got.tail_crc, want.tail_crc);
        CHECK(got.key.len == want.key.len && memcmp(got.key.ptr, want.key.ptr, want.key.len) == 0);
        CHECK(got.endpoint.len == want.endpoint.len && memcmp(got.endpoint.ptr, want.endpoint.ptr, want.endpoint.len) == 0);
        CHECK(got.upload_id.len == want.upload_id.len &&
              memcmp(got.upload_id.ptr, want.upload_id.ptr, want.upload_id.len) == 0);
        CHECK(ossr_checkpoint_decode_part(file + hl, &pg) == 1);
        CHECK_U(pg.number, pw.number);
        CHECK_U(pg.size, pw.size);
        CHECK_U(pg.crc64, pw.crc64);
        CHECK_STR(pg.etag, pw.etag);
    }
    free(file);
}

/* A sparse file over 4 GiB: its size, its plan and a read at a part's offset past 4 GiB
   come out right, on 32-bit hosts too (64-bit file offsets). */
static void test_large_file(void) {
#ifdef _WIN32
    char path[MAX_PATH];
#else
    char path[] = "/tmp/ossr-unit-largeXXXXXX";
#endif
    const uint64_t size = 5ull * 1024 * 1024 * 1024 + 4321, mark_at = 4ull * 1024 * 1024 * 1024 + 12345;
    const char mark[] = "past-4GiB";
    char got[sizeof mark];
    ossr__file_id id;
    uint64_t part_size = 0;
    uint32_t count = 0, k;
    ossr__fh rfd;
#ifdef _WIN32
    int made = unit_temp_file(path, "osl");
    memset(&id, 0, sizeof id);
    set_ctx("large sparse file");
    if (!CHECK(made == 0)) return;
    if (unit_sparse_file(path, size, mark, (DWORD)sizeof mark, mark_at) != 0) {
        printf("       large sparse file: this file system refuses a 5 GiB sparse file; skipped\n");
        unlink(path);
        return;
    }
#else
    int fd = mkstemp(path);
    memset(&id, 0, sizeof id);
    set_ctx("large sparse file");
    if (!CHECK(fd >= 0)) return;
    if (ftruncate(fd, (off_t)size) != 0 || pwrite(fd, mark, sizeof mark, (off_t)mark_at) != (ssize_t)sizeof mark) {
        printf("       large sparse file: this file system refuses a 5 GiB sparse file; skipped\n");
        close(fd); unlink(path);
        return;
    }
    close(fd);
#endif
    rfd = ossr__file_open(path, 0);
    CHECK(rfd != OSSR__BAD_FH);
    CHECK_I(ossr__file_identity(rfd, &id), 0);
    CHECK_U(id.size, size);
    CHECK_I(ossr_plan_parts(size, 0, &part_size, &count, NULL, 0), OSSR_OK);
    CHECK_U(part_size, 10ull * 1024 * 1024);
    CHECK_U(count, (uint32_t)((size + part_size - 1) / part_size));
    k = (uint32_t)(mark_at / part_size);           /* the part holding the mark */
    memset(got, 0, sizeof got);
    CHECK_I(ossr__file_read_at(rfd, got, sizeof got, (uint64_t)k * part_size + mark_at % part_size), 0);
    CHECK_STR(got, mark);
    CHECK_I(ossr__file_read_at(rfd, got, 1, size), -1);   /* past the end */
    ossr__file_close(rfd);
    unlink(path);
}

static void test_checkpoint_loader(void) {
    static unsigned char orig[4096];
    ossr_options o;
    ossr_status st;
    ossr__ctx c;
    ossr__slots cache;
    ossr_checkpoint_part two;
#ifdef _WIN32
    char path[MAX_PATH];
#else
    char path[] = "/tmp/ossr-unit-ckpt-XXXXXX";
#endif
    size_t n, cut, pos, head, fixed;
    int fd, state, slots, completing, bad_cut = 0, bad_flip = 0;
    FILE *f;
#ifdef _WIN32
    fd = unit_temp_file(path, "ock") == 0 ? 0 : -1;   /* made empty and closed */
    CHECK(fd >= 0);
    if (fd < 0) return;
#else
    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
#endif
    memset(&o, 0, sizeof o);
    memset(&st, 0, sizeof st);
    memset(&c, 0, sizeof c);
    o.bucket = "bkt-unit";
    o.key = "dir/object.bin";
    o.file_path = "/data/object.bin";
    c.o = &o;
    c.st = &st;
    c.scratch = ckpt_scratch;
    c.ckpt_fd = -1;
    strcpy(c.endpoint_norm, "http://127.0.0.1:9000");
    strcpy(c.abs_path, "/data/object.bin");
    c.fid.size = 3 * 102400 + 5;
    c.fid.mtime_sec = 1733213730;
    c.fid.mtime_nsec = 123456789;
    c.part_size = 102400;
    c.part_count = 4;
    strcpy(c.ckpt_path, path);
    strcpy(c.upload_id, "0004B9894A22E5B1888A1E29F8236E2D");
    CHECK_I(ossr__ckpt_create(&c), OSSR_OK);
    ossr__ckpt_write_slot(&c, 1, 102400, 0x1111111111111111ull, "\"ETAG-ONE\"", 0);
    CHECK_I(c.ckpt_dirty, 1);                  /* a part slot waits for the next sync */
    CHECK_I(ossr__ckpt_sync_due(&c), 1);       /* the first is due at once... */
    CHECK_I(c.ckpt_dirty, 0);
    ossr__ckpt_write_slot(&c, 2, 102400, 0x2222222222222222ull, "\"ETAG-TWO\"", 0);
    CHECK_I(ossr__ckpt_sync_due(&c), 0);       /* ...then at most once a second */
    ossr__ckpt_write_slot(&c, 4, 5, 0x4444444444444444ull, "", 0);
    ossr__ckpt_write_slot(&c, OSSR_CKPT_COMPLETING, c.fid.size, 0x9999999999999999ull, NULL, 1);
    CHECK_I(c.ckpt_dirty, 0);                  /* synced with the COMPLETING mark */
    CHECK_U(st.checkpoint_writes, 5);
    CHECK_U(st.checkpoint_bytes, c.ckpt_head + 4 * OSSR_CKPT_SLOT);
    if (c.ckpt_fd != OSSR__BAD_FH) { ossr__file_close(c.ckpt_fd); c.ckpt_fd = OSSR__BAD_FH; }
    f = fopen(path, "rb");
    n = f ? fread(orig, 1, sizeof orig, f) : 0;
    if (f) fclose(f);
    /* each part in its own slot (part 3's is a hole), the COMPLETING mark after the last */
    head = (size_t)c.ckpt_head;
    CHECK_U(n, head + 5 * OSSR_CKPT_SLOT);
    state = ckpt_load_file(&c, &slots, &completing);
    CHECK_I(state, OSSR__CKPT_MATCH);
    CHECK_I(slots, 3);
    CHECK_I(completing, 1);
    memset(&cache, 0, sizeof cache);
    CHECK(ossr__slot_get(&c, &cache, 1, &two) && two.crc64 == 0x2222222222222222ull && !strcmp(two.etag, "\"ETAG-TWO\""));
    CHECK(!ossr__slot_get(&c, &cache, 2, &two));
    /* cut at every byte: the fixed part whole or nothing (the upload id block after it
       only matters when the fixed part is damaged); then every whole slot counts */
    fixed = head - 152;
    for (cut = 0; cut < n; cut++) {
        size_t whole = cut < head ? 0 : (cut - head) / OSSR_CKPT_SLOT;   /* slots 0, 1, 3 are parts */
        int want_slots = (whole >= 1) + (whole >= 2) + (whole >= 4);
        ckpt_write_file(path, orig, cut);
        state = ckpt_load_file(&c, &slots, &completing);
        if (cut < fixed ? state != OSSR__CKPT_DAMAGED || ckpt_old_id[0]
                        : (state != OSSR__CKPT_MATCH || slots != want_slots || completing))
            bad_cut++;
    }
    CHECK_I(bad_cut, 0);
    /* flip every byte: a damaged fixed part still names its upload through the id block */
    for (pos = 0; pos < n; pos++) {
        unsigned char m[4096];
        memcpy(m, orig, n);
        m[pos] ^= 0xA5;
        ckpt_write_file(path, m, n);
        state = ckpt_load_file(&c, &slots, &completing);
        if (pos < fixed) {
            if (state != OSSR__CKPT_DAMAGED || strcmp(ckpt_old_id, c.upload_id) != 0) bad_flip++;
        } else if (pos < head) {
            if (state != OSSR__CKPT_MATCH || slots != 3) bad_flip++;
        } else {
            size_t slot = (pos - head) / OSSR_CKPT_SLOT;   /* 0,1,3: parts; 2: the hole; 4: the COMPLETING mark */
            if (state != OSSR__CKPT_MATCH || slots != (slot == 2 || slot == 4 ? 3 : 2) || completing != (slot != 4))
                bad_flip++;
        }
    }
    CHECK_I(bad_flip, 0);
    {   /* both copies damaged: no upload is named, so none is aborted */
        unsigned char m[4096];
        memcpy(m, orig, n);
        m[20] ^= 0xA5;
        m[fixed + 20] ^= 0xA5;
        ckpt_write_file(path, m, n);
        CHECK_I(ckpt_load_file(&c, &slots, &completing), OSSR__CKPT_DAMAGED);
        CHECK_STR(ckpt_old_id, "");
    }
    {   /* a record made for another object (another name) never names its upload here */
        char name[sizeof c.ckpt_name];
        unsigned char m[4096];
        memcpy(name, c.ckpt_name, sizeof name);
        memcpy(m, orig, n);
        m[20] ^= 0xA5;
        ckpt_write_file(path, m, n);
        strcpy(c.ckpt_name, "0000000000000000000000000000000000000000.ossr");
        CHECK_I(ckpt_load_file(&c, &slots, &completing), OSSR__CKPT_DAMAGED);
        CHECK_STR(ckpt_old_id, "");
        memcpy(c.ckpt_name, name, sizeof name);
    }
    remove(path);
}

/* The object's CRC-64 folded from its parts as they finish, in any order. */
static void test_crc_fold(void) {
    static unsigned char data[7 * 1000 + 333], done[OSSR__DONE_BYTES];
    static const uint32_t order[] = {5, 0, 7, 2, 6, 1, 3, 4};
    ossr__ctx c;
    uint32_t k;
    unsigned seed = 7;
    memset(&c, 0, sizeof c);
    for (k = 0; k < sizeof data; k++) { seed = seed * 1103515245u + 12345u; data[k] = (unsigned char)(seed >> 16); }
    c.fid.size = sizeof data;
    c.part_size = 1000;
    c.part_count = 8;
    c.done = done;
    set_ctx("crc fold");
    for (k = 0; k < 8; k++) {
        uint32_t i = order[k];
        ossr__mark_done(&c, i, ossr_crc64(0, data + (size_t)i * 1000, (size_t)ossr__part_len(&c, i)));
        ossr__mark_done(&c, i, 12345);   /* a part counts once */
        CHECK(ossr__is_done(&c, i));
    }
    CHECK(c.crc_acc == ossr_crc64(0, data, sizeof data));
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests";
    test_json_reader();
    test_hashes();
    test_crc_vectors(dir);
    test_crc_random();
    test_crc_engines();
    test_signatures(dir);
    test_sign_v1_sdk();
    test_sign_errors();
    test_plan();
    test_endpoint();
    test_urlenc();
    test_response();
    test_xml();
    test_xml_numbers();
    test_system_bundle();
    test_checkpoint();
    test_checkpoint_loader();
    test_crc_fold();
    test_checkpoint_portable(dir);
    test_large_file();
    test_results();
    printf("unit: %ld passed, %ld failed\n", g_pass, g_fail);
    return g_fail > 0 ? 1 : 0;
}
