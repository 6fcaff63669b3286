/* mbedtls_transport.c - https:// for oss_resumable.h over mbedTLS (TLS by the platform).

   A transport whose connect_tls does the TLS (mbedTLS, as on ESP-IDF and Zephyr): it
   checks the server's certificate against the name the library hands it (chain and
   host name; the name also goes out as SNI), and the library speaks plain HTTP through
   send and recv, in an OSSR_NO_TLS build too. Use (https:// endpoints only):

       static ossr_mbedtls tls;   static ossr_transport tp;     // tls.ca_file, tls.insecure
       if (ossr_mbedtls_setup(&tls, &tp) != 0) puts(tls.last_error);
       opts.transport = &tp;  ...  on OSSR_E_CERT, tls.last_error says why;  ossr_mbedtls_free(&tls);

   One setup serves every connection: trust anchors, configuration and random generator
   are shared (several workers need MBEDTLS_THREADING_C, as Debian and ESP-IDF build
   it), each connection has its own mbedtls_ssl_context. Written for mbedTLS 2.28; 3.x
   has the same calls (with TLS 1.3 on, call psa_crypto_init() first). The socket part
   is the section "sockets": replace it on lwIP or a modem. Build: cc ... -DOSSR_NO_TLS
   -lmbedtls -lmbedx509 -lmbedcrypto (Debian: apt-get install libmbedtls-dev). */
#if !defined(_XOPEN_SOURCE) && !defined(__APPLE__)
#  define _XOPEN_SOURCE 700   /* getaddrinfo, poll, MSG_NOSIGNAL */
#endif
#include "../oss_resumable.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>   /* its error codes */
#include <mbedtls/ssl.h>
#include <mbedtls/threading.h>
#include <mbedtls/x509_crt.h>
#ifndef MSG_NOSIGNAL
#  define MSG_NOSIGNAL 0      /* where there is none (macOS: SIGPIPE is the program's to ignore) */
#endif

/* Two settings, the last failure in words, and what every connection shares. Zero it,
   set the settings, then ossr_mbedtls_setup(). */
typedef struct ossr_mbedtls {
    const char *ca_file;        /* PEM trust anchors. NULL: $SSL_CERT_FILE, else the system bundle */
    int insecure;               /* DANGEROUS: accept any certificate (the caller warns) */
    char last_error[256];       /* why the last setup or connection failed; "" for none */
    mbedtls_entropy_context entropy;   /* the rest: made by ossr_mbedtls_setup */
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
#ifdef MBEDTLS_THREADING_C
    mbedtls_threading_mutex_t lock;    /* for last_error */
#endif
} ossr_mbedtls;

int ossr_mbedtls_setup(ossr_mbedtls *m, ossr_transport *t);
void ossr_mbedtls_free(ossr_mbedtls *m);

/* One connection: its socket and its TLS session. */
typedef struct tls_conn {
    int fd;
    int timeout_ms;             /* the wait allowed to the current call */
    int timed_out;              /* the last wait ran out */
    mbedtls_ssl_context ssl;
} tls_conn;

/* Keeps a failure in words for the caller, one writer at a time. */
static void say(ossr_mbedtls *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
#ifdef MBEDTLS_THREADING_C
    mbedtls_mutex_lock(&m->lock);
#endif
    vsnprintf(m->last_error, sizeof m->last_error, fmt, ap);
#ifdef MBEDTLS_THREADING_C
    mbedtls_mutex_unlock(&m->lock);
#endif
    va_end(ap);
}

/* >>sockets ----------------------------------------------------------------------------- */
/* Waits until fd is ready for events (POLLIN, POLLOUT): 1; 0 after timeout_ms; -1 on an
   error or a signal (a Ctrl-C then reaches the library, which looks at its cancel flag). */
static int wait_fd(int fd, short events, int timeout_ms) {
    struct pollfd p;
    int n;
    p.fd = fd; p.events = events; p.revents = 0;
    n = poll(&p, 1, timeout_ms);
    return n > 0 ? 1 : n;
}

/* A non-blocking TCP connection to host:port within timeout_ms (each address in turn):
   OSSR_OK with *out set, OSSR_E_RESOLVE, OSSR_E_CONNECT or OSSR_E_TIMEOUT. */
static ossr_result tcp_connect(const char *host, uint16_t port, int timeout_ms, int *out) {
    struct addrinfo hints, *list, *a;
    char service[8];
    ossr_result r = OSSR_E_CONNECT;
    int one = 1;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    if (getaddrinfo(host, service, &hints, &list) != 0) return OSSR_E_RESOLVE;
    for (a = list; a && r != OSSR_OK; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol), err = 0, ready = -1;
        socklen_t len = sizeof err;
        if (fd < 0) continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) ready = 1;
        else if (errno == EINPROGRESS) ready = wait_fd(fd, POLLOUT, timeout_ms);
        if (ready > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* a request head goes at once */
            *out = fd;
            r = OSSR_OK;
        } else {
            r = ready == 0 ? OSSR_E_TIMEOUT : r;
            close(fd);
        }
    }
    freeaddrinfo(list);
    return r;
}

/* mbedTLS's way out: waits for room (the call's timeout), then sends what fits. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
    tls_conn *c = (tls_conn *)ctx;
    ssize_t k;
    int ready = wait_fd(c->fd, POLLOUT, c->timeout_ms);
    c->timed_out = ready == 0;
    if (ready <= 0) return ready == 0 ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_SEND_FAILED;
    k = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (k >= 0) return (int)k;
    return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
}

/* mbedTLS's way in: waits for bytes (the call's timeout), then takes what came; 0 at the
   end of the stream. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
    tls_conn *c = (tls_conn *)ctx;
    ssize_t k;
    int ready = wait_fd(c->fd, POLLIN, c->timeout_ms);
    c->timed_out = ready == 0;
    if (ready <= 0) return ready == 0 ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_RECV_FAILED;
    k = recv(c->fd, buf, len, 0);
    if (k >= 0) return (int)k;
    return errno == EAGAIN || errno == EWOULDBLOCK ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* >>the transport ----------------------------------------------------------------------- */
/* close: close_notify if it goes out at once (best effort), then frees the connection. */
static void tls_close(void *conn, void *user) {
    tls_conn *c = (tls_conn *)conn;
    (void)user;
    c->timeout_ms = 0;
    mbedtls_ssl_close_notify(&c->ssl);
    mbedtls_ssl_free(&c->ssl);
    close(c->fd);
    free(c);
}

/* Why a handshake failed, kept in last_error: a timeout, a refused certificate in
   mbedTLS's words (one sentence per problem), or mbedTLS's error text. */
static ossr_result handshake_failed(ossr_mbedtls *m, tls_conn *c, int ret, const char *name) {
    char words[512], *p;
    int n;
    if (c->timed_out) {
        say(m, "mbedTLS: the TLS handshake with %s timed out", name);
        return OSSR_E_TIMEOUT;
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        n = mbedtls_x509_crt_verify_info(words, sizeof words, "", mbedtls_ssl_get_verify_result(&c->ssl));
        while (n > 0 && words[n - 1] == '\n') words[--n] = 0;
        for (p = strchr(words, '\n'); p; p = strchr(p, '\n')) *p = ';';
        say(m, "mbedTLS refused the certificate of %s: %s", name, n > 0 ? words : "not verified");
        return OSSR_E_CERT;
    }
    mbedtls_strerror(ret, words, sizeof words);
    say(m, "mbedTLS: the TLS handshake with %s failed: %s (-0x%04X)%s", name, words, (unsigned)-ret,
        ret == MBEDTLS_ERR_SSL_INVALID_RECORD ? "; the server did not answer with TLS (plain HTTP on an https port?)"
        : "");
    return OSSR_E_TLS_HANDSHAKE;
}

/* connect_tls: TCP to host:port, then a handshake that checks the certificate against
   server_name (sent as SNI too), each wait within timeout_ms. */
static ossr_result tls_connect(const char *host, uint16_t port, const char *server_name, int timeout_ms,
                               void **conn, void *user) {
    ossr_mbedtls *m = (ossr_mbedtls *)user;
    tls_conn *c = (tls_conn *)calloc(1, sizeof *c);
    ossr_result r = c ? tcp_connect(host, port, timeout_ms, &c->fd) : OSSR_E_CONNECT;
    int ret;
    if (r != OSSR_OK) {
        say(m, "cannot connect to %s port %u: %s", host, (unsigned)port, c ? ossr_result_str(r) : "out of memory");
        free(c);
        return r;
    }
    c->timeout_ms = timeout_ms;
    mbedtls_ssl_init(&c->ssl);
    if ((ret = mbedtls_ssl_setup(&c->ssl, &m->conf)) == 0 &&
        (ret = mbedtls_ssl_set_hostname(&c->ssl, server_name)) == 0) {
        mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
        do ret = mbedtls_ssl_handshake(&c->ssl);
        while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    }
    if (ret != 0) {
        r = handshake_failed(m, c, ret, server_name);
        tls_close(c, user);
        return r;
    }
    *conn = c;
    return OSSR_OK;
}

/* send: up to one record's worth of buf; the count, or OSSR_E_TIMEOUT / OSSR_E_SEND. */
static long tls_send(void *conn, const void *buf, size_t len, int timeout_ms, void *user) {
    tls_conn *c = (tls_conn *)conn;
    int ret;
    (void)user;
    c->timeout_ms = timeout_ms;
    do ret = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf, len);
    while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    return ret > 0 ? ret : c->timed_out ? OSSR_E_TIMEOUT : OSSR_E_SEND;
}

/* recv: the count, 0 when the server closed the connection, or OSSR_E_TIMEOUT / OSSR_E_RECV. */
static long tls_recv(void *conn, void *buf, size_t cap, int timeout_ms, void *user) {
    tls_conn *c = (tls_conn *)conn;
    int ret;
    (void)user;
    c->timeout_ms = timeout_ms;
    do ret = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf, cap);
    while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret >= 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF)
        return ret > 0 ? ret : 0;
    return c->timed_out ? OSSR_E_TIMEOUT : OSSR_E_RECV;
}

/* The CA file: the caller's, else $SSL_CERT_FILE, else the first system bundle there is
   (Debian and the like, Fedora and RHEL, openSUSE, older RHEL, macOS and BSD, FreeBSD),
   the library's list. */
static const char *trust_file(const char *ca_file) {
    static const char *const bundles[] = {
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
        "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem",
        "/usr/local/share/certs/ca-root-nss.crt", "/usr/local/etc/ssl/cert.pem"};
    const char *env = getenv("SSL_CERT_FILE");
    size_t i;
    if (ca_file && *ca_file) return ca_file;
    if (env && *env) return env;
    for (i = 0; i < sizeof bundles / sizeof bundles[0]; i++)
        if (access(bundles[i], R_OK) == 0) return bundles[i];
    return NULL;
}

/* Seeds the generator, loads the trust anchors (none when insecure) and fills *t: 0, or
   -1 with last_error saying why. Once, before the first upload. */
int ossr_mbedtls_setup(ossr_mbedtls *m, ossr_transport *t) {
    static const unsigned char personal[] = "oss_resumable";
    const char *path = m->insecure ? NULL : trust_file(m->ca_file);
    char words[200];
    int ret;
    m->last_error[0] = 0;
#ifdef MBEDTLS_THREADING_C
    mbedtls_mutex_init(&m->lock);
#endif
    mbedtls_entropy_init(&m->entropy);
    mbedtls_ctr_drbg_init(&m->drbg);
    mbedtls_x509_crt_init(&m->ca);
    mbedtls_ssl_config_init(&m->conf);
    memset(t, 0, sizeof *t);   /* connect stays NULL: https:// only */
    t->connect_tls = tls_connect; t->send = tls_send; t->recv = tls_recv; t->close = tls_close; t->user = m;
    if ((ret = mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func, &m->entropy, personal, sizeof personal)) != 0 ||
        (ret = mbedtls_ssl_config_defaults(&m->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
        mbedtls_strerror(ret, words, sizeof words);
        say(m, "mbedTLS could not be set up: %s", words);
        return -1;
    }
    mbedtls_ssl_conf_rng(&m->conf, mbedtls_ctr_drbg_random, &m->drbg);
    mbedtls_ssl_conf_authmode(&m->conf, m->insecure ? MBEDTLS_SSL_VERIFY_NONE : MBEDTLS_SSL_VERIFY_REQUIRED);
    if (m->insecure) return 0;
    if (!path) {
        say(m, "no trust anchors: no system CA bundle was found; give a CA file (--ca-file) or set SSL_CERT_FILE");
        return -1;
    }
    if ((ret = mbedtls_x509_crt_parse_file(&m->ca, path)) < 0) {   /* > 0: some of a bundle were skipped */
        mbedtls_strerror(ret, words, sizeof words);
        int from_env = !(m->ca_file && *m->ca_file) && path == getenv("SSL_CERT_FILE");
        say(m, "cannot load the CA file %s: %s%s", path, words, from_env ? " (the path is SSL_CERT_FILE's: point it "
            "at a PEM bundle, unset it, or give --ca-file)" : "");
        return -1;
    }
    mbedtls_ssl_conf_ca_chain(&m->conf, &m->ca, NULL);
    return 0;
}

/* Frees what setup made (after the last connection is closed). */
void ossr_mbedtls_free(ossr_mbedtls *m) {
    mbedtls_ssl_config_free(&m->conf);
    mbedtls_x509_crt_free(&m->ca);
    mbedtls_ctr_drbg_free(&m->drbg);
    mbedtls_entropy_free(&m->entropy);
#ifdef MBEDTLS_THREADING_C
    mbedtls_mutex_free(&m->lock);
#endif
}
