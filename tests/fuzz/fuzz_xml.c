/* fuzz_xml.c - libFuzzer target for the XML tag extractor.

   Input: a reply body as OSS sends it (ListPartsResult, Error,
   InitiateMultipartUploadResult, CompleteMultipartUploadResult, ...).
   Does what the upload engine does with a body, and checks it:
     - ossr_xml_next() over every <Part> child of the document and of its root element
       (and a tag named by the input's first element):
       it returns 1, 0 or OSSR_E_CORRUPT; on 1 the content lies inside the input and
       before the new position, and the position moves forward; on 0 it is at the end;
       the loop ends within size + 1 steps;
     - inside each <Part> (copied to its own exact-size block, so reads past the slice are
       caught): ossr__xml_u64 for PartNumber, Size and HashCrc64ecma, and ossr_xml_text
       for ETag and LastModified;
     - ossr_xml_text for one of Code, Message, RequestId, HostId, EC, ServerTime, UploadId,
       ETag, IsTruncated, Key, Bucket ... (picked by a hash of the input's tail) and
       ossr__xml_u64 for one of NextPartNumberMarker, MaxParts, ... into buffers of 0, 1, 7,
       64 and 1024 bytes: same result for every non-zero size, the output NUL-terminated inside
       the buffer, a small output a prefix of the large one, a 0-byte buffer untouched;
     - ossr__xml_u64 returns 1 only for text that is, blanks trimmed, 1-20 digits of a
       value that fits in 64 bits, and then that value; 0 for absent or blank text;
     - the same calls inside the root element's content, as the engine reads replies.
   The input is copied into a heap block of its exact size so that AddressSanitizer sees
   any read past the end. Builds as a libFuzzer target (-fsanitize=fuzzer) or, linked
   with replay_main.c, as a corpus replayer. See run.sh. */
#include "fuzz.h"

/* ossr_xml_text into several buffer sizes; returns the result and leaves the 1024-byte
   output in big. */
static int check_text(const char *x, size_t len, const char *tag, char big[1024]) {
    static const size_t caps[] = {1, 7, 64};
    char *guard = (char *)malloc(1);
    int r, i;
    size_t bl;
    memset(big, 'Z', 1024);
    r = ossr_xml_text(x, len, tag, big, 1024);
    FUZZ_CHECK(r == 1 || r == 0 || r < 0);
    FUZZ_CHECK(memchr(big, 0, 1024) != NULL);
    if (r != 1) FUZZ_CHECK(big[0] == 0 || r < 0);
    bl = strlen(big);
    for (i = 0; i < 3; i++) {
        char *small = (char *)malloc(caps[i]);
        size_t sl;
        if (!small) abort();
        memset(small, 'Z', caps[i]);
        FUZZ_CHECK(ossr_xml_text(x, len, tag, small, caps[i]) == r);
        FUZZ_CHECK(memchr(small, 0, caps[i]) != NULL);
        sl = strlen(small);
        if (r == 1) {
            FUZZ_CHECK(memcmp(small, big, sl) == 0);
            if (sl < caps[i] - 1) FUZZ_CHECK(sl == bl || big[sl] == 0);
        }
        free(small);
    }
    if (!guard) abort();
    guard[0] = 'G';
    FUZZ_CHECK(ossr_xml_text(x, len, tag, guard, 0) <= 1);
    FUZZ_CHECK(guard[0] == 'G');
    free(guard);
    return r;
}

/* ossr__xml_u64 against the text it reads. */
static void check_u64(const char *x, size_t len, const char *tag) {
    uint64_t v = 12345, want = 0;
    char text[1024];
    int r = ossr__xml_u64(x, len, tag, &v), t = ossr_xml_text(x, len, tag, text, sizeof text);
    FUZZ_CHECK(r == 1 || r == 0 || r < 0);
    FUZZ_CHECK(t != 0 || r == 0);   /* absent text is an absent number; so is blank text */
    if (t == 1) {
        size_t a = 0;
        while (text[a] && strchr(" \t\r\n", text[a])) a++;
        if (!text[a] && strlen(text) < 31) FUZZ_CHECK(r == 0);   /* longer text is refused unread */
        else if (!text[a]) FUZZ_CHECK(r <= 0);
        else FUZZ_CHECK(r != 0);
    }
    if (r == 1) {
        size_t a = 0, b = strlen(text), i;
        FUZZ_CHECK(t == 1);
        while (a < b && strchr(" \t\r\n", text[a])) a++;
        while (b > a && strchr(" \t\r\n", text[b - 1])) b--;
        FUZZ_CHECK(b > a && b - a <= 20);
        for (i = a; i < b; i++) {
            FUZZ_CHECK(text[i] >= '0' && text[i] <= '9');
            FUZZ_CHECK(want <= (UINT64_MAX - (uint64_t)(text[i] - '0')) / 10);
            want = want * 10 + (uint64_t)(text[i] - '0');
        }
        FUZZ_CHECK(v == want);
        {   /* a NUL byte must not end the number early ("1\0" is not 1) */
            size_t pos = 0;
            ossr_slice c;
            FUZZ_CHECK(ossr_xml_next(x, len, tag, &pos, &c) == 1);
            FUZZ_CHECK(memchr(c.ptr, 0, c.len) == NULL);
        }
    } else {
        FUZZ_CHECK(v == 12345);
    }
}

/* Every element called tag, in order, with the position and slice invariants. */
static void walk(const char *x, size_t len, const char *tag, int parts) {
    size_t pos = 0, steps = 0;
    for (;;) {
        ossr_slice c;
        size_t before = pos;
        int r;
        c.ptr = NULL; c.len = 0;
        r = ossr_xml_next(x, len, tag, &pos, &c);
        FUZZ_CHECK(r == 1 || r == 0 || r == OSSR_E_CORRUPT);
        FUZZ_CHECK(++steps <= len + 1);
        if (r != 1) {
            if (r == 0) FUZZ_CHECK(pos == len);
            break;
        }
        FUZZ_CHECK(pos > before && pos <= len);
        FUZZ_CHECK(c.ptr >= x + before && c.ptr <= x + pos && c.len <= (size_t)(x + pos - c.ptr));
        FUZZ_CHECK(c.ptr > x && c.ptr[-1] == '>');
        if (c.len) FUZZ_CHECK(c.ptr[c.len] == '<');
        if (parts) {
            /* the content on its own, so a read past the slice is a read past the block */
            char *p = (char *)malloc(c.len ? c.len : 1), big[1024];
            if (!p) abort();
            if (c.len) memcpy(p, c.ptr, c.len);
            check_u64(p, c.len, "PartNumber");
            check_u64(p, c.len, "Size");
            check_u64(p, c.len, "HashCrc64ecma");
            check_text(p, c.len, "ETag", big);
            check_text(p, c.len, "LastModified", big);
            walk(p, c.len, "Part", 0);   /* nested same-name elements */
            free(p);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const tags[] = {
        "Code", "Message", "RequestId", "HostId", "EC", "ServerTime", "UploadId", "ETag",
        "IsTruncated", "Bucket", "Key", "Location", "Error", "ListPartsResult", "Part", NULL};
    static const char *const numbers[] = {
        "NextPartNumberMarker", "PartNumberMarker", "MaxParts", "PartNumber", "Size",
        "HashCrc64ecma", NULL};
    char *x = (char *)malloc(size ? size : 1), big[1024], first[40];
    size_t i, k, nt, nn;
    uint32_t h;
    if (!x) abort();
    if (size) memcpy(x, data, size);

    walk(x, size, "Part", 1);
    /* one text and one number element per input, chosen by the input (each call scans
       the whole body, and every name is reached through mutations anyway) */
    h = (uint32_t)size * 2654435761u;
    for (i = 0; i < size && i < 64; i++) h = (h ^ (unsigned char)x[size - 1 - i]) * 16777619u;
    for (nt = 0; tags[nt]; nt++) {}
    check_text(x, size, tags[h % nt], big);
    for (nn = 0; numbers[nn]; nn++) {}
    check_u64(x, size, numbers[(h >> 16) % nn]);
    {   /* the root element's children, as the engine reads a reply */
        size_t pos = 0;
        ossr_slice root, name;
        int r;
        while ((r = ossr__xml_child(x, size, &pos, &name, &root)) == 1 && root.len == 0) {}
        FUZZ_CHECK(r == 1 || r == 0 || r == OSSR_E_NEED_MORE || r == OSSR_E_CORRUPT);
        if (r == 1) {
            char *p = (char *)malloc(root.len ? root.len : 1);
            if (!p) abort();
            if (root.len) memcpy(p, root.ptr, root.len);
            walk(p, root.len, "Part", 1);
            check_text(p, root.len, tags[h % nt], big);
            check_u64(p, root.len, numbers[(h >> 16) % nn]);
            free(p);
        }
    }

    /* the first element's own name, whatever it is */
    for (i = 0; i < size && x[i] != '<'; i++) {}
    if (i < size && i + 1 < size && x[i + 1] != '?' && x[i + 1] != '!' && x[i + 1] != '/') {
        for (k = 0, i++; i < size && k < sizeof first - 1 && !strchr(" \t\r\n/>", x[i]) && x[i]; i++)
            first[k++] = x[i];
        first[k] = 0;
        if (k) {
            walk(x, size, first, 0);
            check_text(x, size, first, big);
            check_u64(x, size, first);
        }
    }
    free(x);
    return 0;
}
