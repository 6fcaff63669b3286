/* fuzz_endpoint.c - libFuzzer target for endpoint parsing, key encoding and signing.

   Input: an endpoint URL ("https://oss-cn-hangzhou.aliyuncs.com:443/"), or the lines of a
   request to sign. The same bytes feed three checks:
     - ossr_parse_endpoint() on a NUL-terminated copy: on OSSR_OK the host is a non-empty
       slice inside the string, of allowed characters, the port is 1..65535 (80/443 by
       scheme when not given), and nothing follows but one '/';
     - ossr_url_encode() of the raw bytes (NULs included), with keep_slash and the room
       taken from the input: it succeeds exactly when the encoding fits, with the length
       computed here, a NUL after it, only unreserved bytes and %XX, and it decodes back;
     - ossr_sign() of a request built from the input lines (see parse_request: method,
       bucket, key, region, key id, secret, token, then "?name=value" query parameters,
       "+name" additional headers, "@seconds" for the time, and "name:value" headers),
       V1 and V4, into a small and a 16 KiB scratch block: no crash or UB, OSSR_OK only
       with a NUL-terminated authorization of the right form, the string to sign inside
       the scratch, the same result in both blocks when both succeed, and a success in the
       small block implying a success in the large one.
   Every string is copied into a heap block of its exact size (NUL included), so
   AddressSanitizer sees any read past the end. Builds as a libFuzzer target
   (-fsanitize=fuzzer) or, linked with replay_main.c, as a corpus replayer. See run.sh. */
#include "fuzz.h"

#define MAX_LINES 96
#define LARGE_SCRATCH 16384

static char *dup_n(const char *s, size_t n) {
    char *p = (char *)malloc(n + 1);
    if (!p) abort();
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static uint32_t mix(const unsigned char *d, size_t n) {
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ d[i]) * 16777619u;
    return h;
}

static void check_endpoint(const unsigned char *data, size_t size) {
    char *url = dup_n((const char *)data, size);
    size_t ulen = strlen(url), i;
    ossr_endpoint ep;
    ossr_result r = ossr_parse_endpoint(url, &ep);
    FUZZ_CHECK(r == OSSR_OK || r == OSSR_E_BAD_ENDPOINT);
    if (r == OSSR_OK) {
        const char *after;
        FUZZ_CHECK(ep.host.len > 0 && (ep.host_is_ipv6 || ep.host.len <= 253));
        FUZZ_CHECK(ep.host.ptr >= url && ep.host.ptr + ep.host.len <= url + ulen);
        FUZZ_CHECK(ep.port >= 1);
        if (!ep.explicit_port) FUZZ_CHECK(ep.port == (ep.https ? 443 : 80));
        FUZZ_CHECK(ep.https == 0 || ep.https == 1);
        if (ep.host_is_ipv6) FUZZ_CHECK(ep.host_is_ip && ep.host.ptr[-1] == '[' && ep.host.ptr[ep.host.len] == ']');
        for (i = 0; i < ep.host.len; i++) {
            char c = ep.host.ptr[i];
            FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       c == '-' || c == '.' || (ep.host_is_ipv6 && c == ':'));
        }
        after = ep.host.ptr + ep.host.len + (ep.host_is_ipv6 ? 1 : 0);
        if (*after == ':') {
            FUZZ_CHECK(ep.explicit_port);
            after++;
            while (*after >= '0' && *after <= '9') after++;
        } else {
            FUZZ_CHECK(!ep.explicit_port);
        }
        if (*after == '/') after++;
        FUZZ_CHECK(*after == 0);
    }
    free(url);
}

static void check_url_encode(const unsigned char *data, size_t size) {
    uint32_t h = mix(data, size);
    int keep_slash = (int)(h & 1);
    size_t need = 0, cap, n, i, j;
    char *out;
    char *in = dup_n((const char *)data, size);
    for (i = 0; i < size; i++) {
        unsigned char c = data[i];
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
        need += plain ? 1 : 3;
    }
    switch ((h >> 1) & 7) {   /* the room: none, tiny, exact, one short, plenty, ... */
    case 0: cap = 0; break;
    case 1: cap = 1; break;
    case 2: cap = need; break;
    case 3: cap = need + 1; break;
    case 4: cap = need + 2; break;
    case 5: cap = (h >> 4) % (need + 2); break;
    default: cap = 3 * size + 1; break;
    }
    out = (char *)malloc(cap ? cap : 1);
    if (!out) abort();
    n = ossr_url_encode(in, size, keep_slash, out, cap);
    if (need + 1 <= cap) {
        FUZZ_CHECK(n == need);
        FUZZ_CHECK(out[n] == 0);
        for (i = 0, j = 0; i < n; j++) {   /* decode back */
            unsigned char c;
            FUZZ_CHECK(j < size);
            if (out[i] == '%') {
                unsigned hi, lo;
                FUZZ_CHECK(i + 2 < n + 1 && out[i + 1] && out[i + 2]);
                hi = (unsigned)(strchr("0123456789ABCDEF", out[i + 1]) - "0123456789ABCDEF");
                lo = (unsigned)(strchr("0123456789ABCDEF", out[i + 2]) - "0123456789ABCDEF");
                FUZZ_CHECK(hi < 16 && lo < 16);
                c = (unsigned char)(hi * 16 + lo);
                i += 3;
            } else {
                c = (unsigned char)out[i];
                FUZZ_CHECK(c != 0);
                i++;
            }
            FUZZ_CHECK(c == data[j]);
        }
        FUZZ_CHECK(j == size);
    } else {
        FUZZ_CHECK(n == (size_t)-1);
        if (cap) FUZZ_CHECK(memchr(out, 0, cap) != NULL);
    }
    free(out);
    free(in);
}

/* A request to sign, every string in its own exact-size block. */
typedef struct request {
    char *line[MAX_LINES], *dflt[8];
    size_t nlines, ndflt;
    ossr_header query[MAX_LINES], headers[MAX_LINES];
    const char *additional[MAX_LINES];
    ossr_sign_input in;
} request;

static const char *field(request *q, size_t i, const char *dflt) {
    if (i < q->nlines) return q->line[i];
    if (!dflt) return NULL;
    q->dflt[q->ndflt] = dup_n(dflt, strlen(dflt));
    return q->dflt[q->ndflt++];
}

/* Lines: method, bucket, key, region, access key id, secret, token; then any of
   "?name[=value]" (query; no '=' means no value), "+name" (additional header name),
   "@[-]digits" (signing time, wrapping), "name[:value]" (header; no ':' means no value). */
static void parse_request(request *q, const unsigned char *data, size_t size) {
    size_t i, start = 0;
    memset(q, 0, sizeof *q);
    for (i = 0; i <= size && q->nlines < MAX_LINES; i++) {
        if (i == size || data[i] == '\n') {
            q->line[q->nlines++] = dup_n((const char *)data + start, i - start);
            start = i + 1;
        }
    }
    q->in.method = field(q, 0, "PUT");
    q->in.bucket = field(q, 1, "examplebucket");
    q->in.key = field(q, 2, "exampleobject");
    q->in.region = field(q, 3, "cn-hangzhou");
    q->in.access_key_id = field(q, 4, "ak");
    q->in.access_key_secret = field(q, 5, "sk");
    q->in.security_token = field(q, 6, NULL);
    q->in.unix_time = 1700000000;
    q->in.query = q->query;
    q->in.headers = q->headers;
    q->in.additional_headers = q->additional;
    for (i = 7; i < q->nlines; i++) {
        char *s = q->line[i], *sep;
        if (s[0] == '?') {
            sep = strchr(s + 1, '=');
            if (sep) *sep = 0;
            q->query[q->in.query_count].name = s + 1;
            q->query[q->in.query_count].value = sep ? sep + 1 : NULL;
            q->in.query_count++;
        } else if (s[0] == '+') {
            q->additional[q->in.additional_count++] = s + 1;
        } else if (s[0] == '@') {
            uint64_t t = 0;
            const char *p = s + 1 + (s[1] == '-');
            for (; *p >= '0' && *p <= '9'; p++) t = t * 10 + (uint64_t)(*p - '0');
            q->in.unix_time = s[1] == '-' ? -(int64_t)(t & 0x7FFFFFFFFFFFFFFFull) : (int64_t)(t & 0x7FFFFFFFFFFFFFFFull);
        } else {
            sep = strchr(s, ':');
            if (sep) *sep = 0;
            q->headers[q->in.header_count].name = s;
            q->headers[q->in.header_count].value = sep ? sep + 1 : NULL;
            q->in.header_count++;
        }
    }
}

static void free_request(request *q) {
    size_t i;
    for (i = 0; i < q->nlines; i++) free(q->line[i]);
    for (i = 0; i < q->ndflt; i++) free(q->dflt[i]);
}

static int within(const char *base, size_t cap, ossr_slice s) {
    return s.len == 0 || (s.ptr >= base && s.ptr < base + cap && s.len < (size_t)(base + cap - s.ptr));
}

static void check_sign(const unsigned char *data, size_t size) {
    request *q = (request *)malloc(sizeof *q);
    size_t small_cap = 1 + mix(data, size) % 640;
    char *small = (char *)malloc(small_cap), *large = (char *)malloc(LARGE_SCRATCH);
    ossr_signature *s1 = (ossr_signature *)malloc(sizeof *s1), *s2 = (ossr_signature *)malloc(sizeof *s2);
    int version;
    if (!q || !small || !large || !s1 || !s2) abort();
    parse_request(q, data, size);
    for (version = 1; version <= 4; version += 3) {
        ossr_result r1, r2;
        q->in.version = version;
        r1 = ossr_sign(&q->in, small, small_cap, s1);
        r2 = ossr_sign(&q->in, large, LARGE_SCRATCH, s2);
        FUZZ_CHECK(r1 == OSSR_OK || r1 == OSSR_E_TOO_LARGE || r1 == OSSR_E_INVALID_ARG);
        FUZZ_CHECK(r2 == OSSR_OK || r2 == OSSR_E_TOO_LARGE || r2 == OSSR_E_INVALID_ARG);
        if (r1 == OSSR_OK) {
            FUZZ_CHECK(memchr(s1->authorization, 0, sizeof s1->authorization) != NULL);
            FUZZ_CHECK(within(small, small_cap, s1->string_to_sign));
            FUZZ_CHECK(within(small, small_cap, s1->canonical_request));
            FUZZ_CHECK(r2 == OSSR_OK);
        }
        if (r2 == OSSR_OK) {
            const char *pfx = version == 1 ? "OSS " : "OSS4-HMAC-SHA256 Credential=";
            FUZZ_CHECK(memchr(s2->authorization, 0, sizeof s2->authorization) != NULL);
            FUZZ_CHECK(strncmp(s2->authorization, pfx, strlen(pfx)) == 0);
            FUZZ_CHECK(within(large, LARGE_SCRATCH, s2->string_to_sign));
            FUZZ_CHECK(within(large, LARGE_SCRATCH, s2->canonical_request));
            FUZZ_CHECK(memchr(s2->date, 0, sizeof s2->date) != NULL);
            if (version == 4) {
                FUZZ_CHECK(s2->canonical_request.len > 0 && s2->canonical_request.ptr == large);
                FUZZ_CHECK(s2->string_to_sign.ptr[-1] == 0);
            } else {
                FUZZ_CHECK(s2->canonical_request.len == 0 && s2->string_to_sign.ptr == large);
            }
        }
        if (r1 == OSSR_OK && r2 == OSSR_OK) {
            FUZZ_CHECK(strcmp(s1->authorization, s2->authorization) == 0);
            FUZZ_CHECK(strcmp(s1->date, s2->date) == 0);
            FUZZ_CHECK(s1->string_to_sign.len == s2->string_to_sign.len &&
                       memcmp(s1->string_to_sign.ptr, s2->string_to_sign.ptr, s1->string_to_sign.len) == 0);
        }
    }
    free_request(q);
    free(s2); free(s1); free(large); free(small); free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *b = (unsigned char *)malloc(size ? size : 1);
    if (!b) abort();
    if (size) memcpy(b, data, size);
    check_endpoint(b, size);
    check_url_encode(b, size);
    check_sign(b, size);
    free(b);
    return 0;
}
