/* fuzz_checkpoint.c - libFuzzer target for the checkpoint record decoder.

   Input: a checkpoint file as the library writes it (fixed part, then 88-byte part slots).
   Each input is tried twice: as given, and with every CRC-64 it carries recomputed (the
   fixed part's, then each slot's), so the checks behind the CRCs are reached too.
   Only the leading magic, version and length words (bytes 0..15) and the slot layout are
   assumed here; the rest of the fixed part is the library's business.
   Checks:
     - ossr_checkpoint_decode() returns a length up to min(size, OSSR_CKPT_HEAD_MAX) equal
       to the record's length word, OSSR_E_CORRUPT or OSSR_E_NEED_MORE; on success every
       string lies inside the record,
       the plan covers the file (part_count == ceil(file_size / part_size), parts of at
       most 5 GiB, at most 10,000 of them), ossr_checkpoint_encode() gives back the
       identical bytes (and 0 with one byte less room), and one byte less input needs more;
     - ossr_checkpoint_decode_part() on each 88-byte window after the fixed part (each
       copied to its own 88-byte block): when it accepts, the number is 1..10000 or
       OSSR_CKPT_COMPLETING, the ETag is printable and NUL-terminated within 48 bytes, and
       ossr_checkpoint_encode_part() gives back the identical 88 bytes;
     - the other way: a record and a slot built from the input bytes are encoded; the
       record's length grows by exactly its string bytes; a record the library could
       have written itself (a plan that covers the file, no flags) decodes, and whatever
       decodes gives back the same fields.
   The input is copied into a heap block of its exact size so that AddressSanitizer sees
   any read past the end. Builds as a libFuzzer target (-fsanitize=fuzzer) or, linked
   with replay_main.c, as a corpus replayer. See run.sh. */
#include "fuzz.h"

static uint64_t get_le(const unsigned char *p, int n) {
    uint64_t v = 0;
    while (n--) v = (v << 8) | p[n];
    return v;
}
static void put_le64(unsigned char *p, uint64_t v) {
    int i;
    for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int slice_in(const unsigned char *base, size_t len, ossr_slice s) {
    const char *b = (const char *)base;
    return s.ptr >= b && s.ptr <= b + len && s.len <= (size_t)(b + len - s.ptr);
}

static void check_slot(const unsigned char *window) {
    unsigned char *in = (unsigned char *)malloc(OSSR_CKPT_SLOT), *out = (unsigned char *)malloc(OSSR_CKPT_SLOT);
    ossr_checkpoint_part p;
    size_t k;
    int ok;
    if (!in || !out) abort();
    memcpy(in, window, OSSR_CKPT_SLOT);
    ok = ossr_checkpoint_decode_part(in, &p);
    FUZZ_CHECK(ok == 0 || ok == 1);
    if (ok) {
        FUZZ_CHECK((p.number >= 1 && p.number <= 10000) || p.number == OSSR_CKPT_COMPLETING);
        FUZZ_CHECK(memchr(p.etag, 0, sizeof p.etag) != NULL);
        for (k = 0; p.etag[k]; k++) FUZZ_CHECK((unsigned char)p.etag[k] >= 0x20 && (unsigned char)p.etag[k] <= 0x7e);
        ossr_checkpoint_encode_part(&p, out);
        FUZZ_CHECK(memcmp(in, out, OSSR_CKPT_SLOT) == 0);
    }
    free(out);
    free(in);
}

/* Decodes buf[0..len), checks it, then its slots. */
static void check_record(const unsigned char *buf, size_t len) {
    ossr_checkpoint c;
    long n = ossr_checkpoint_decode(buf, len, &c);
    size_t off = 0;
    FUZZ_CHECK(n > 0 || n == OSSR_E_CORRUPT || n == OSSR_E_NEED_MORE);
    if (n > 0) {
        size_t total = (size_t)n;
        unsigned char *again = (unsigned char *)malloc(total);
        ossr_checkpoint c2;
        if (!again) abort();
        FUZZ_CHECK(total >= 16 + 10 + 8 && total <= len && total <= OSSR_CKPT_HEAD_MAX);
        FUZZ_CHECK(total == get_le(buf + 12, 4));
        FUZZ_CHECK(c.version == 1 || c.version == 2);
        FUZZ_CHECK(slice_in(buf, total - 8, c.endpoint) && slice_in(buf, total - 8, c.bucket) &&
                   slice_in(buf, total - 8, c.key) && slice_in(buf, total - 8, c.path) &&
                   slice_in(buf, total - 8, c.upload_id));
        FUZZ_CHECK(c.bucket.len > 0 && c.key.len > 0 && c.path.len > 0);
        FUZZ_CHECK(c.upload_id.len > 0 && c.upload_id.len < 128);
        FUZZ_CHECK(c.mtime_nsec < 1000000000u);
        FUZZ_CHECK(c.part_size >= 1 && c.part_size <= 5ull * 1024 * 1024 * 1024);
        FUZZ_CHECK(c.part_count >= 1 && c.part_count <= 10000);
        FUZZ_CHECK(c.file_size >= 1 && (c.file_size - 1) / c.part_size + 1 == c.part_count);

        FUZZ_CHECK(ossr_checkpoint_encode(&c, again, total) == total);
        FUZZ_CHECK(memcmp(again, buf, total) == 0);
        FUZZ_CHECK(ossr_checkpoint_encode(&c, again, total - 1) == 0);
        FUZZ_CHECK(ossr_checkpoint_decode(buf, total - 1, &c2) == OSSR_E_NEED_MORE);
        free(again);
        off = total;
    }
    for (; off + OSSR_CKPT_SLOT <= len; off += OSSR_CKPT_SLOT) check_slot(buf + off);
}

/* Recomputes the fixed part's CRC and each slot's, where the layout allows. */
static void fix_crcs(unsigned char *b, size_t len) {
    size_t total, off = 0;
    ossr_checkpoint c;
    if (len >= 16) {
        total = (size_t)get_le(b + 12, 4);
        if (total >= 70 && total <= OSSR_CKPT_HEAD_MAX && total <= len)
            put_le64(b + total - 8, ossr_crc64(0, b, total - 8));
        if (ossr_checkpoint_decode(b, len, &c) > 0) off = total;
    }
    for (; off + OSSR_CKPT_SLOT <= len; off += OSSR_CKPT_SLOT)
        put_le64(b + off + 80, ossr_crc64(0, b + off, 80));
}

/* Encode first: fields and strings taken from the input, then decoded back. */
static void check_encode(const unsigned char *d, size_t size) {
    ossr_checkpoint c, c2, e;
    ossr_checkpoint_part p, p2;
    ossr_slice *str[5];
    unsigned char *out;
    size_t n, n0, i, at = 44;
    long back;
    int plain;
    if (size < 44 + 5) return;
    memset(&c, 0, sizeof c);
    c.file_size = get_le(d, 8);
    c.mtime_sec = (int64_t)get_le(d + 8, 8);
    c.mtime_nsec = (uint32_t)get_le(d + 16, 4);
    c.part_size = get_le(d + 20, 8) % (6ull * 1024 * 1024 * 1024);
    c.part_count = (uint32_t)get_le(d + 28, 4) % 12000;
    c.flags = d[32] < 16 ? 0 : d[32] < 64 ? 1u : d[32];
    if (d[32] & 1) { c.head_crc = get_le(d + 8, 8); c.tail_crc = get_le(d + 16, 8); }
    str[0] = &c.endpoint; str[1] = &c.bucket; str[2] = &c.key; str[3] = &c.path; str[4] = &c.upload_id;
    for (i = 0; i < 5; i++) {   /* lengths from bytes 33..37, bytes from the rest */
        size_t l = d[33 + i] * (size_t)(d[38] & 7 ? 1 : 17);
        if (l > size - at) l = size - at;
        str[i]->ptr = (const char *)d + at;
        str[i]->len = l;
        at += l / 2;
    }
    out = (unsigned char *)malloc(OSSR_CKPT_HEAD_MAX);
    if (!out) abort();
    e = c;   /* the same record without strings: its length is the fixed overhead */
    e.endpoint.len = e.bucket.len = e.key.len = e.path.len = e.upload_id.len = 0;
    n0 = ossr_checkpoint_encode(&e, out, OSSR_CKPT_HEAD_MAX);
    FUZZ_CHECK(n0 > 16 && n0 < OSSR_CKPT_HEAD_MAX);
    n = ossr_checkpoint_encode(&c, out, OSSR_CKPT_HEAD_MAX);
    {
        size_t want = n0 + c.endpoint.len + c.bucket.len + c.key.len + c.path.len + c.upload_id.len;
        FUZZ_CHECK(n ? n == want : want > OSSR_CKPT_HEAD_MAX);
    }
    plain = c.flags == 0 && c.head_crc == 0 && c.tail_crc == 0 && c.mtime_nsec < 1000000000u &&
            c.part_size >= 1 && c.part_size <= 5ull * 1024 * 1024 * 1024 && c.part_count >= 1 && c.part_count <= 10000 && c.file_size >= 1 &&
            (c.file_size - 1) / c.part_size + 1 == c.part_count &&
            c.upload_id.len >= 1 && c.upload_id.len < 128 && c.bucket.len && c.key.len && c.path.len;
    if (n) {
        check_record(out, n);   /* what it writes passes every decode check */
        back = ossr_checkpoint_decode(out, n, &c2);
        FUZZ_CHECK(back == (long)n || back == OSSR_E_CORRUPT);
        if (plain) FUZZ_CHECK(back == (long)n);
        if (back > 0) {
            FUZZ_CHECK(c2.file_size == c.file_size && c2.mtime_sec == c.mtime_sec &&
                       c2.mtime_nsec == c.mtime_nsec && c2.part_size == c.part_size &&
                       c2.part_count == c.part_count && c2.flags == c.flags &&
                       c2.head_crc == c.head_crc && c2.tail_crc == c.tail_crc);
            for (i = 0; i < 5; i++) {
                const ossr_slice *a = str[i];
                const ossr_slice *b = i == 0 ? &c2.endpoint : i == 1 ? &c2.bucket : i == 2 ? &c2.key :
                                      i == 3 ? &c2.path : &c2.upload_id;
                FUZZ_CHECK(a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0);
            }
        }
    }

    memset(&p, 0, sizeof p);
    p.number = (uint32_t)get_le(d, 4);
    if (d[4] & 1) p.number %= 10002;
    p.size = get_le(d + 8, 8);
    p.crc64 = get_le(d + 16, 8);
    for (i = 0; i < sizeof p.etag - 1 && 24 + i < size && d[24 + i]; i++) p.etag[i] = (char)d[24 + i];
    ossr_checkpoint_encode_part(&p, out);
    if (ossr_checkpoint_decode_part(out, &p2)) {
        int printable = 1;   /* only printable ETags are kept; others are stored as "" */
        for (i = 0; p.etag[i]; i++)
            if ((unsigned char)p.etag[i] < 0x20 || (unsigned char)p.etag[i] > 0x7e) printable = 0;
        FUZZ_CHECK(p2.number == p.number && p2.size == p.size && p2.crc64 == p.crc64);
        FUZZ_CHECK(strcmp(p2.etag, printable && strlen(p.etag) <= 47 ? p.etag : "") == 0);
    } else {
        FUZZ_CHECK(p.number == 0 || (p.number > 10000 && p.number != OSSR_CKPT_COMPLETING));
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *b = (unsigned char *)malloc(size ? size : 1);
    if (!b) abort();
    if (size) memcpy(b, data, size);
    else b[0] = 0;
    check_record(b, size);
    fix_crcs(b, size);
    if (size && memcmp(b, data, size) != 0) check_record(b, size);
    check_encode(b, size);
    free(b);
    return 0;
}
