/* Trust anchors handed in by the program (opts.trust_anchors), as firmware does with the
   arrays `brssl ta` writes: this test decodes a CA certificate into a
   br_x509_trust_anchor with BearSSL at start-up, then uploads over TLS with no CA file
   and a bogus $SSL_CERT_FILE, so only the handed-in anchor can make the upload work.

       test_anchors HTTPS-ENDPOINT CA.pem OTHER.pem WORKDIR

   OTHER.pem is a certificate that did not sign the server's: with it as the only anchor
   the upload must be refused. Prints "anchors: N passed, M failed" last. */
#define OSS_RESUMABLE_IMPLEMENTATION
#include "../oss_resumable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Storage for one anchor, as a generated header would hold it in const arrays. */
typedef struct anchor_store {
    br_x509_trust_anchor ta;
    unsigned char dn[1024], key[1024], der[8192];
    size_t dn_len, der_len;
} anchor_store;

static void collect(void *ctx, const void *p, size_t n) {
    anchor_store *a = (anchor_store *)ctx;
    if (a->der_len + n <= sizeof a->der) memcpy(a->der + a->der_len, p, n);
    a->der_len += n;
}
static void collect_dn(void *ctx, const void *p, size_t n) {
    anchor_store *a = (anchor_store *)ctx;
    if (a->dn_len + n <= sizeof a->dn) memcpy(a->dn + a->dn_len, p, n);
    a->dn_len += n;
}
/* The first certificate of a PEM file as a CA trust anchor; 0 on success. */
static int load_anchor(const char *path, anchor_store *a) {
    static char pem[65536];
    FILE *f = fopen(path, "rb");
    size_t n, pos = 0;
    br_pem_decoder_context pc;
    br_x509_decoder_context dc;
    const br_x509_pkey *pk;
    int done = 0;
    memset(a, 0, sizeof *a);
    if (!f) return -1;
    n = fread(pem, 1, sizeof pem, f);
    fclose(f);
    br_pem_decoder_init(&pc);
    while (pos < n && !done) {
        pos += br_pem_decoder_push(&pc, pem + pos, n - pos);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ: br_pem_decoder_setdest(&pc, collect, a); break;
        case BR_PEM_END_OBJ: done = 1; break;
        case BR_PEM_ERROR: return -1;
        default: break;
        }
    }
    if (!done || a->der_len > sizeof a->der) return -1;
    br_x509_decoder_init(&dc, collect_dn, a);
    br_x509_decoder_push(&dc, a->der, a->der_len);
    pk = br_x509_decoder_get_pkey(&dc);
    if (!pk || a->dn_len > sizeof a->dn) return -1;
    a->ta.dn.data = a->dn;
    a->ta.dn.len = a->dn_len;
    a->ta.flags = BR_X509_TA_CA;
    a->ta.pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        memcpy(a->key, pk->key.rsa.n, pk->key.rsa.nlen);
        memcpy(a->key + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
        a->ta.pkey.key.rsa.n = a->key;
        a->ta.pkey.key.rsa.nlen = pk->key.rsa.nlen;
        a->ta.pkey.key.rsa.e = a->key + pk->key.rsa.nlen;
        a->ta.pkey.key.rsa.elen = pk->key.rsa.elen;
    } else {
        memcpy(a->key, pk->key.ec.q, pk->key.ec.qlen);
        a->ta.pkey.key.ec.curve = pk->key.ec.curve;
        a->ta.pkey.key.ec.q = a->key;
        a->ta.pkey.key.ec.qlen = pk->key.ec.qlen;
    }
    return 0;
}

int main(int argc, char **argv) {
    static anchor_store good, other;
    ossr_options o;
    ossr_status st;
    char src[512], line[1024];
    FILE *f;
    int i;
    if (argc != 5) { fprintf(stderr, "usage: test_anchors HTTPS-ENDPOINT CA.pem OTHER.pem WORKDIR\n"); return 2; }
    CHECK(load_anchor(argv[2], &good) == 0, "cannot decode %s", argv[2]);
    CHECK(load_anchor(argv[3], &other) == 0, "cannot decode %s", argv[3]);
    snprintf(src, sizeof src, "%s/anchors-src.bin", argv[4]);
    f = fopen(src, "wb");
    for (i = 0; i < 300000; i++) fputc(i * 7 & 255, f);
    fclose(f);
    setenv("SSL_CERT_FILE", "/nonexistent/bundle.pem", 1);

    memset(&o, 0, sizeof o);
    o.endpoint = argv[1];
    o.bucket = "bkt-anchors";
    o.key = "compiled-in.bin";
    o.file_path = src;
    o.access_key_id = "test-ak";
    o.access_key_secret = "test-secret";
    o.multipart_threshold = 200 * 1024;
    o.part_size = 100 * 1024;
    o.num_threads = 2;
    o.checkpoint_dir = argv[4];
    o.trust_anchors = &good.ta;
    o.trust_anchor_count = 1;
    CHECK(ossr_upload(&o, &st) == OSSR_OK, "upload with the compiled-in CA: %s", ossr_status_format(&st, line, sizeof line));

    o.key = "wrong-anchor.bin";
    o.trust_anchors = &other.ta;
    CHECK(ossr_upload(&o, &st) == OSSR_E_CERT && st.tls_error != 0 && strstr(st.detail, "not trusted"),
          "upload with an unrelated anchor: %s", ossr_status_format(&st, line, sizeof line));

    o.trust_anchors = NULL;
    o.trust_anchor_count = 0;
    CHECK(ossr_upload(&o, &st) == OSSR_E_FILE && strstr(st.detail, "/nonexistent/bundle.pem"),
          "SSL_CERT_FILE pointing nowhere: %s", ossr_status_format(&st, line, sizeof line));

    return CHECK_REPORT("anchors");
}
