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

/* ---- hooks over the real world: a socket transport, stdio files and a RAM store ---- */
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
typedef struct net_hook { long connects, sends, recvs, closes, fail_after_sends; } net_hook;
static ossr_result hk_connect(const char *host, uint16_t port, int timeout_ms, void **conn, void *user) {
    net_hook *h = (net_hook *)user;
    struct addrinfo hints, *res = NULL, *ai;
    char ps[8];
    int fd = -1;
    (void)timeout_ms;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    if (getaddrinfo(host, ps, &hints, &res) != 0) return OSSR_E_RESOLVE;
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {   /* every address: "localhost" may be ::1 first */
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) { close(fd); fd = -1; }
    }
    freeaddrinfo(res);
    if (fd < 0) return OSSR_E_CONNECT;
    __atomic_add_fetch(&h->connects, 1, __ATOMIC_RELAXED);
    *conn = (void *)(intptr_t)(fd + 1);
    return OSSR_OK;
}
static long hk_send(void *conn, const void *buf, size_t len, int timeout_ms, void *user) {
    net_hook *h = (net_hook *)user;
    long k, n = __atomic_add_fetch(&h->sends, 1, __ATOMIC_RELAXED);
    (void)timeout_ms;
    if (h->fail_after_sends && n > h->fail_after_sends) return -1;   /* as C calls fail, not an ossr_result */
    k = (long)send((int)(intptr_t)conn - 1, buf, len > 5000 ? 5000 : len, MSG_NOSIGNAL);   /* partial sends */
    return k > 0 ? k : OSSR_E_SEND;
}
static long hk_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    net_hook *h = (net_hook *)user;
    long k;
    (void)timeout_ms;
    __atomic_add_fetch(&h->recvs, 1, __ATOMIC_RELAXED);
    k = (long)recv((int)(intptr_t)conn - 1, buf, cap, 0);
    return k >= 0 ? k : OSSR_E_RECV;
}
static void hk_close(void *conn, void *user) {
    net_hook *h = (net_hook *)user;
    __atomic_add_fetch(&h->closes, 1, __ATOMIC_RELAXED);
    close((int)(intptr_t)conn - 1);
}
typedef struct ram_store {
    char name[64];
    unsigned char rec[65536];
    size_t len;
    int saves, syncs, removes, news, lies;   /* lies: loads of the header that claim too much */
} ram_store;
static long rs_load(const char *name, uint64_t off, void *buf, size_t cap, void *user) {
    ram_store *r = (ram_store *)user;
    if (r->lies && off == 0) { r->lies--; return (long)cap + 100; }
    if (!r->len || strcmp(name, r->name) || off >= r->len) return 0;
    if (cap > r->len - off) cap = r->len - (size_t)off;
    memcpy(buf, r->rec + off, cap);
    return (long)cap;
}
static int rs_save(const char *name, uint64_t off, const void *data, size_t len, unsigned flags, void *user) {
    ram_store *r = (ram_store *)user;
    r->saves++;
    if (flags & OSSR_STORE_SYNC) r->syncs++;
    if (flags & OSSR_STORE_NEW) { r->news++; r->len = 0; snprintf(r->name, sizeof r->name, "%s", name); }
    if (strcmp(name, r->name) || off + len > sizeof r->rec) return -1;
    if (len == 0) return 0;   /* a sync alone (data is NULL) */
    if (off > r->len) memset(r->rec + r->len, 0, (size_t)off - r->len);
    memcpy(r->rec + off, data, len);
    if (off + len > r->len) r->len = (size_t)(off + len);
    return 0;
}
static void rs_remove(const char *name, void *user) {
    ram_store *r = (ram_store *)user;
    r->removes++;
    if (!strcmp(name, r->name)) r->len = 0;
}
static int fh_open(const char *path, void **file, void *user) {
    FILE *f = fopen(path, "rb");
    (void)user;
    *file = f;
    return f ? 0 : -1;
}
static int fh_identity(void *file, uint64_t *size, int64_t *sec, uint32_t *nsec, void *user) {
    FILE *f = (FILE *)file;
    (void)user;
    if (fseek(f, 0, SEEK_END) != 0) return -1;
    *size = (uint64_t)ftell(f);
    *sec = 0; *nsec = 0;   /* no stamp: a resume compares every part with the file */
    return 0;
}
/* With two workers on threads, two parts are read at once: pread, not fseek + fread on
   the one FILE (which would read one part's bytes at the other's offset). */
static int fh_read_at(void *file, void *buf, size_t len, uint64_t off, void *user) {
    (void)user;
    return pread(fileno((FILE *)file), buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}
static void fh_close(void *file, void *user) { (void)user; fclose((FILE *)file); }

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

    /* TLS over a transport hook (plain sockets, sends cut to 5,000 bytes), with the file
       and the checkpoint through hooks too: cut after some sends, then resumed from the
       RAM record, two workers throughout */
    {
        static ram_store rs;
        net_hook nh;
        ossr_transport tp;
        ossr_store sto;
        ossr_file_io fio;
        ossr_options oh = o;
        memset(&nh, 0, sizeof nh);
        memset(&tp, 0, sizeof tp);
        tp.connect = hk_connect; tp.send = hk_send; tp.recv = hk_recv; tp.close = hk_close; tp.user = &nh;
        sto.load = rs_load; sto.save = rs_save; sto.remove = rs_remove; sto.user = &rs; sto.lock = NULL;
        fio.open = fh_open; fio.identity = fh_identity; fio.read_at = fh_read_at; fio.close = fh_close; fio.user = NULL;
        oh.transport = &tp; oh.store = &sto; oh.file_io = &fio;
        oh.key = "hooked.bin";
        oh.max_attempts = 1;
        nh.fail_after_sends = 40;
        CHECK(ossr_upload(&oh, &st) != OSSR_OK && rs.len > 0 && ossr_result_is_retryable(st.result, 0, NULL) &&
              !strstr(st.detail, "replied"), "hooked upload, cut: %s; record %zu bytes", ossr_status_format(&st, line, sizeof line), rs.len);
        CHECK(strcmp(st.checkpoint_path, rs.name) == 0, "checkpoint name %s, store saw %s", st.checkpoint_path, rs.name);
        nh.fail_after_sends = 0;
        oh.max_attempts = 0;
        CHECK(ossr_upload(&oh, &st) == OSSR_OK && st.resumed, "hooked upload, resumed: %s",
              ossr_status_format(&st, line, sizeof line));
        CHECK(nh.connects > 0 && nh.connects == nh.closes && nh.sends > 40 && nh.recvs > 0,
              "transport: %ld connects, %ld closes, %ld sends, %ld receives", nh.connects, nh.closes, nh.sends, nh.recvs);
        CHECK(rs.len == 0 && rs.removes >= 1 && rs.news == 1 && rs.syncs >= 2,
              "store: %zu bytes left, %d removes, %d new records, %d syncs", rs.len, rs.removes, rs.news, rs.syncs);
        /* a store that claims to have read more than it was asked for is not believed:
           the record counts as damaged and the upload starts over */
        rs.lies = 1;
        oh.key = "hooked-lie.bin";
        CHECK(ossr_upload(&oh, &st) == OSSR_OK && !st.resumed && rs.lies == 0, "store claiming too much: %s",
              ossr_status_format(&st, line, sizeof line));
        /* a send that fails inside the handshake (the one after the ClientHello) is said
           as a failed send, as one in a request is (above: not taken for a reply that
           came while sending) */
        memset(&nh, 0, sizeof nh);
        nh.fail_after_sends = 1;
        oh.max_attempts = 1;
        oh.key = "hooked-handshake.bin";
        CHECK(ossr_upload(&oh, &st) == OSSR_E_SEND && strstr(st.detail, "TLS handshake with localhost: connection "
              "failed while sending") && nh.sends == 2, "a send failing in the handshake: %s (%ld sends)", ossr_status_format(&st, line, sizeof line),
              nh.sends);
    }

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
