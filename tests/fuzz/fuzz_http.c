/* fuzz_http.c - libFuzzer target for the HTTP response-head parser.

   Input: the bytes a server sent, from the status line on (the head, and maybe some body).
   Checks, for every input:
     - ossr_parse_response() returns a length in 1..size, OSSR_E_NEED_MORE,
       OSSR_E_PROTOCOL or OSSR_E_TOO_LARGE, nothing else;
     - on success: header_count <= OSSR_MAX_HEADERS, the status is 100..599, the reason,
       every name and every value lie inside the head, names are non-empty with no ':',
       values have no leading or trailing blank, and the head ends with "\n\n" or "\r\n";
     - parsing only the head gives the same result, and the head minus its last byte
       gives OSSR_E_NEED_MORE; a prefix of an input that needs more also needs more;
     - ossr_response_header() finds every parsed name (in any case) and returns the value
       of the first header of that name; names that are absent are not found.
   The input is copied into a heap block of its exact size so that AddressSanitizer sees
   any read past the end. Builds as a libFuzzer target (-fsanitize=fuzzer) or, linked
   with replay_main.c, as a corpus replayer. See run.sh. */
#include "fuzz.h"

static int inside(const char *base, size_t len, ossr_slice s) {
    return s.ptr >= base && s.ptr <= base + len && s.len <= (size_t)(base + len - s.ptr);
}

static int ieq_slices(ossr_slice a, ossr_slice b) {
    size_t i;
    if (a.len != b.len) return 0;
    for (i = 0; i < a.len; i++) {
        int x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
        if (x >= 'A' && x <= 'Z') x += 32;
        if (y >= 'A' && y <= 'Z') y += 32;
        if (x != y) return 0;
    }
    return 1;
}

/* Looks a parsed name up again through the public call, with the case flipped. */
static void check_lookup(const ossr_response *r, size_t k) {
    char name[256];
    ossr_slice v, want;
    size_t i, n = r->names[k].len;
    if (n >= sizeof name || memchr(r->names[k].ptr, 0, n)) return;
    for (i = 0; i < n; i++) {
        char c = r->names[k].ptr[i];
        name[i] = (char)((c >= 'a' && c <= 'z') ? c - 32 : (c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    name[n] = 0;
    for (i = 0; i < r->header_count; i++)   /* the first header of that name wins */
        if (ieq_slices(r->names[i], r->names[k])) break;
    FUZZ_CHECK(i <= k);
    want = r->values[i];
    v.ptr = NULL; v.len = 0;
    FUZZ_CHECK(ossr_response_header(r, name, &v) == 1);
    FUZZ_CHECK(v.ptr == want.ptr && v.len == want.len);
    FUZZ_CHECK(ossr_response_header(r, name, NULL) == 1);
}

static void check_known_names(const ossr_response *r) {
    static const char *const names[] = {
        "Content-Length", "Transfer-Encoding", "Connection", "ETag", "Content-Type",
        "x-oss-request-id", "x-oss-hash-crc64ecma", "Content-MD5", "Date", "Server",
        "Keep-Alive", "Location", "Retry-After", "", NULL};
    size_t i, k;
    for (i = 0; names[i]; i++) {
        ossr_slice v, z;
        int found;
        z.ptr = names[i]; z.len = strlen(names[i]);
        v.ptr = NULL; v.len = 0;
        found = ossr_response_header(r, names[i], &v);
        FUZZ_CHECK(found == 0 || found == 1);
        for (k = 0; k < r->header_count; k++)
            if (ieq_slices(r->names[k], z)) break;
        FUZZ_CHECK(found == (k < r->header_count));
        if (found) FUZZ_CHECK(v.ptr == r->values[k].ptr && v.len == r->values[k].len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = (char *)malloc(size ? size : 1);
    ossr_response *r = (ossr_response *)malloc(sizeof *r);
    ossr_response *r2 = (ossr_response *)malloc(sizeof *r2);
    long n, n2;
    size_t k;
    if (!buf || !r || !r2) abort();
    if (size) memcpy(buf, data, size);

    n = ossr_parse_response(buf, size, r);
    FUZZ_CHECK(n > 0 || n == OSSR_E_NEED_MORE || n == OSSR_E_PROTOCOL || n == OSSR_E_TOO_LARGE);
    FUZZ_CHECK(r->header_count <= OSSR_MAX_HEADERS);
    if (n > 0) {
        size_t head = (size_t)n;
        FUZZ_CHECK(head <= size);
        FUZZ_CHECK(head >= 14);                         /* "HTTP/1.1 200\n\n" */
        FUZZ_CHECK(buf[head - 1] == '\n');
        FUZZ_CHECK(buf[head - 2] == '\n' || (buf[head - 2] == '\r' && buf[head - 3] == '\n'));
        FUZZ_CHECK(r->minor_version == 0 || r->minor_version == 1);
        FUZZ_CHECK(r->status >= 100 && r->status <= 599);
        FUZZ_CHECK(inside(buf, head, r->reason));
        for (k = 0; k < r->header_count; k++) {
            ossr_slice nm = r->names[k], v = r->values[k];
            FUZZ_CHECK(inside(buf, head, nm));
            FUZZ_CHECK(inside(buf, head, v));
            FUZZ_CHECK(nm.len > 0 && memchr(nm.ptr, ':', nm.len) == NULL);
            FUZZ_CHECK(nm.ptr + nm.len < v.ptr);               /* the colon between */
            FUZZ_CHECK(memchr(v.ptr, '\n', v.len) == NULL && memchr(v.ptr, 0, v.len) == NULL);
            if (v.len) {
                FUZZ_CHECK(v.ptr[0] != ' ' && v.ptr[0] != '\t');
                FUZZ_CHECK(v.ptr[v.len - 1] != ' ' && v.ptr[v.len - 1] != '\t');
            }
            if (k) FUZZ_CHECK(r->names[k - 1].ptr < nm.ptr);
            check_lookup(r, k);
        }
        check_known_names(r);

        /* the head alone parses the same; one byte less needs more */
        n2 = ossr_parse_response(buf, head, r2);
        FUZZ_CHECK(n2 == n && r2->header_count == r->header_count && r2->status == r->status);
        for (k = 0; k < r->header_count; k++)
            FUZZ_CHECK(r2->names[k].ptr == r->names[k].ptr && r2->values[k].len == r->values[k].len);
        FUZZ_CHECK(ossr_parse_response(buf, head - 1, r2) == OSSR_E_NEED_MORE);
    } else {
        FUZZ_CHECK(ossr_response_header(r, "Content-Length", NULL) == 0 || r->header_count > 0);
        if (n == OSSR_E_NEED_MORE && size > 0) {
            /* a prefix of an incomplete head is incomplete too */
            size_t cut = (size * 7 + (unsigned char)buf[0]) % size;
            FUZZ_CHECK(ossr_parse_response(buf, cut, r2) == OSSR_E_NEED_MORE);
        }
    }
    free(r2);
    free(r);
    free(buf);
    return 0;
}
