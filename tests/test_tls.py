#!/usr/bin/env python3
"""TLS end-to-end tests: the ossup example over https:// against the test server's TLS
listener (tests/oss_server.py --tls-cert/--tls-key), with throw-away certificates made
by tests/make_certs.sh.

    python3 tests/test_tls.py build/gcc/ossup
    python3 tests/test_tls.py build/ossup-mbedtls

The TLS under test is the one `ossup --version` names: BearSSL (the library's own) unless
it says mbedTLS (TLS by the platform, examples/mbedtls_transport.c). Certificate errors
must carry that TLS's words for the same fault, and the cases about BearSSL itself
(session sharing, its small buffer, compiled-in anchors) are skipped for mbedTLS, each
with its reason.
What reached the server is checked through its control API on the plain port (the log's
tls / tls_resumed / tls_sni fields and the /_ossr/tls handshake counters); stored objects
must have the local file's MD5. Rejected certificates must leave the server's log empty:
no request may go out before the certificate is accepted. The last line is
"tls: N passed, M failed" (", K skipped" when cases were skipped); the exit status is non-zero when anything failed.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (report, AK, HERE, KIB, SK, BaseEnv, Cases, Server, check, kill_midway,  # noqa: E402
                          clean_environ, md5_file, ops, parts_sent, put_ok, run_cases)

BUCKET = "bkt-tls"
SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt",
                  "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem")     # Debian, Fedora, SUSE, BSD/macOS


# What each TLS says for a refused certificate: untrusted chain, wrong host name, expired.
# mbedTLS's are its verify-info sentences ("The certificate is not correctly signed by the
# trusted CA", "The certificate Common Name (CN) does not match with the expected CN",
# "The certificate validity has expired").
REFUSAL_WORDS = {
    "bearssl": {"untrusted": "not trusted", "host": "host name", "expired": "expired"},
    "mbedtls": {"untrusted": "not correctly signed by the trusted CA", "host": "Common Name (CN) does not match",
                "expired": "The certificate validity has expired"},
}


def ossup_tls(ossup):
    """Which TLS the ossup program carries https:// with, from its --version line."""
    p = subprocess.run([ossup, "--version"], capture_output=True, text=True, timeout=30)
    return "mbedtls" if "mbedTLS" in p.stdout else "bearssl"


def start_server(workdir, certs, cert="server-chain.pem", key="server.key"):
    """The test server with its TLS listener; cert/key name files in the certificate dir."""
    return Server(workdir, certs=certs, cert=cert, key=key)


class Env(BaseEnv):
    bucket = BUCKET

    def __init__(self, ossup, server, workdir, certs, tls="bearssl"):
        super().__init__(ossup, server, workdir)
        self.certs = certs
        self.tls = tls

    def refusal(self, fault):
        """The words the error line carries for fault: untrusted, host or expired."""
        return REFUSAL_WORDS[self.tls][fault]

    def cert(self, name):
        return os.path.join(self.certs, name)

    def run(self, *args, endpoint=None, ca=True, cert_file=None, server=None, timeout=120, background=False):
        """Runs ossup against the TLS port. ca=True adds --ca-file ca.pem; cert_file sets
        SSL_CERT_FILE (which is otherwise removed from the environment)."""
        server = server or self.server
        env = clean_environ(("SSL_CERT_FILE", "SSL_CERT_DIR"))
        env.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=endpoint or server.https)
        if cert_file:
            env["SSL_CERT_FILE"] = cert_file
        more = ["--ca-file", self.cert("ca.pem")] if ca else []
        return self.exec_ossup(args, env, more, timeout=timeout, background=background)


def error_line(err):
    lines = [ln for ln in err.splitlines() if ln.startswith("ossup: error:")]
    return lines[0] if len(lines) == 1 else None


# ---------------------------------------------------------------------------------------
CASES = Cases()
case = CASES.case
BEARSSL_ONLY = {}      # case name -> why it does not apply to another TLS


def bearssl_only(why):
    """Marks a case as about BearSSL itself: for another TLS it is skipped, saying why."""
    def mark(fn):
        BEARSSL_ONLY[fn.__name__] = why
        return fn
    return mark


def cpu_has_aes():
    """x86 AES-NI (the "aes" flag) or POWER8 vector crypto, the AES hardware BearSSL uses."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return False
    flags = set()
    for line in info.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return "aes" in flags or "POWER8" in info or "POWER9" in info or "POWER10" in info


def all_tls(log, what):
    check(log, f"{what}: the server logged no request")
    plain = [e["op"] for e in log if e.get("tls") is not True]
    check(not plain, f"{what}: requests not over TLS: {plain}")


@case
def upload_over_tls(env):
    """(a) 0 bytes, a small PutObject and a 30-part multipart with 4 threads, --ca-file;
    every OSS request came over TLS; the object reads back through get."""
    for size, key in ((0, "a/empty"), (5000, "a/small")):
        env.server.reset()
        path = env.file(f"a{size}", size, seed=size + 1)
        put_ok(env, path, key, "--threshold", "1M")
        log = env.server.log()
        check([e["op"] for e in log] == ["PutObject"], f"{key}: {[e['op'] for e in log]}")
        all_tls(log, key)
        check(log[0]["tls_sni"] == "localhost", f"{key}: SNI {log[0]['tls_sni']!r}")
        suite = log[0]["tls_cipher"] or ""
        if env.tls == "bearssl":
            # the suite the client put first: AES-GCM with AES in hardware, else ChaCha20
            want = "AES128-GCM" if cpu_has_aes() else "CHACHA20"
            check(want in suite, f"{key}: suite {suite}, expected {want}")
        else:   # mbedTLS's own order: any forward-secret AEAD suite
            check("ECDHE" in suite and ("GCM" in suite or "CHACHA20" in suite),
                  f"{key}: suite {suite}, expected ECDHE with AES-GCM or ChaCha20")
            print(f"     {key}: suite {suite}")
    env.server.reset()
    path = env.file("a-multi", 30 * 100 * KIB - 4321, seed=3)
    put_ok(env, path, "a/multi", "--threshold", "1M", "--part-size", "100K", "--threads", "4")
    log = env.server.log()
    all_tls(log, "multipart")
    check(len(ops(log, "InitiateMultipartUpload")) == 1, "expected one Initiate")
    check(parts_sent(log) == list(range(1, 31)), f"parts {parts_sent(log)}")
    check(len(ops(log, "CompleteMultipartUpload")) == 1, "expected one Complete")
    dest = os.path.join(env.workdir, "a-got")
    rc, _, err = env.run("get", f"oss://{BUCKET}/a/multi", dest)
    check(rc == 0, f"get over TLS: {err.strip()}")
    check(md5_file(dest) == md5_file(path), "get over TLS: content differs")
    env.server.reset()
    dest = os.path.join(env.workdir, "a-got-ranges")
    rc, _, err = env.run("get", f"oss://{BUCKET}/a/multi", dest, "--threshold", "1M", "--part-size", "100K",
                         "--threads", "4", "--checkpoint-dir", os.path.join(env.workdir, "ckpt-get"))
    check(rc == 0, f"get in ranges over TLS: {err.strip()}")
    check(md5_file(dest) == md5_file(path), "get in ranges over TLS: content differs")
    log = env.server.log()
    all_tls(log, "get in ranges")
    check(len([e for e in ops(log, "GetObject") if e["status"] == 206]) == 30, "get in ranges: not 30 ranges")


@case
def kill_and_resume_over_tls(env):
    """(b) SIGKILL at a random moment of a TLS upload; the rerun resumes: no new
    Initiate, only the missing parts, the object's MD5 right."""
    rnd = random.Random(os.getpid() ^ int(time.time()))
    path = env.file("resume", 5 * 1024 * KIB + 777, seed=11)   # 52 parts of 100 KiB
    total = set(range(1, 53))
    for threads in ("1", "4"):
        key = f"resume/t{threads}-{rnd.randint(0, 1 << 30)}"
        args = ["put", path, f"oss://{BUCKET}/{key}", "--threshold", "1M", "--part-size", "100K",
                "--threads", threads]
        open_uploads = kill_midway(env, args, rnd, threads, lead=0.3)
        check(len(open_uploads) == 1, f"expected one open upload after the kill, got {open_uploads}")
        (uid, info), = open_uploads.items()
        stored = set(info["parts"])
        all_tls(env.server.log(), "killed run")
        env.server.reset()
        rc, out, err = env.run(*args)
        check(rc == 0, f"resume after SIGKILL failed: {err.strip()}")
        second = env.server.log()
        all_tls(second, "resumed run")
        resent = set(parts_sent(second))
        check(not (resent & stored), f"parts re-sent although the server had them: {sorted(resent & stored)}")
        check(resent | stored == total, f"parts missing: {sorted(total - resent - stored)}")
        check(len(parts_sent(second)) == len(resent), "a part was sent twice")
        check(not ops(second, "InitiateMultipartUpload"), "the resume started a new upload")
        check([e["upload_id"] for e in ops(second, "CompleteMultipartUpload")] == [uid], "completed another upload")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs after resume")
        check(not env.server.uploads(), "an upload was left open")
        print(f"     threads {threads}: killed with {len(stored)} of 52 parts stored, {len(resent)} re-sent")


@case
@bearssl_only("session sharing is the library's BearSSL engine's; the mbedTLS transport does a full "
              "handshake per connection")
def session_resumption(env):
    """(c) A 30-part upload with 4 threads: the session of the first handshake is reused by
    the workers; after the server closes a connection (close_notify, no reply) the
    reconnect resumes too."""
    path = env.file("sess", 30 * 100 * KIB, seed=21)
    env.server.reset()
    put_ok(env, path, "c/sess", "--threshold", "1M", "--part-size", "100K", "--threads", "4")
    t = env.server.tls()
    log = env.server.log()
    full = t["handshakes"] - t["resumed"]
    resumed_entries = sum(1 for e in log if e.get("tls_resumed"))
    print(f"     4 threads: {t['handshakes']} handshakes, {t['resumed']} resumed, {t['failed']} failed; "
          f"{resumed_entries} of {len(log)} requests on resumed sessions")
    check(t["resumed"] >= 1, f"no session was resumed: {t}")
    check(full <= 2, f"{full} full handshakes for one upload (sessions not shared): {t}")
    check(resumed_entries >= 1, "no request came over a resumed session")
    check(t["failed"] == 0, f"failed handshakes: {t}")

    env.server.reset()
    env.server.fault(op="UploadPart", part=4, action="stall", seconds=0, then="close")
    put_ok(env, path, "c/reconnect", "--threshold", "1M", "--part-size", "100K", "--threads", "1")
    t = env.server.tls()
    log = env.server.log()
    tries = [e for e in log if e["op"] == "UploadPart" and e["part_number"] == 4]
    print(f"     reconnect: {t['handshakes']} handshakes, {t['resumed']} resumed; "
          f"part 4 tried {len(tries)} times, resumed: {[e.get('tls_resumed') for e in tries]}")
    check(len(tries) == 2, f"part 4 tried {len(tries)} times")
    check(t["handshakes"] >= 2, f"no reconnect seen: {t}")
    check(t["handshakes"] - t["resumed"] == 1, f"the reconnect did a full handshake: {t}")
    check(tries[1].get("tls_resumed") is True, "the retry of part 4 did not come over a resumed session")


@case
def trust_sources(env):
    """(d) SSL_CERT_FILE alone works; --ca-file wins over SSL_CERT_FILE; a CA file holding
    many anchors works; with neither the system bundle does not trust the test CA."""
    path = env.file("trust", 2000, seed=31)
    env.server.reset()
    put_ok(env, path, "d/env", ca=False, cert_file=env.cert("bundle.pem"))
    env.server.reset()
    put_ok(env, path, "d/ca-wins", cert_file=env.cert("self.pem"))
    system = next((p for p in SYSTEM_BUNDLES if os.path.exists(p)), None)
    if system:
        big = os.path.join(env.workdir, "big-bundle.pem")
        with open(big, "wb") as f:
            f.write(open(system, "rb").read() + b"\n" + open(env.cert("ca.pem"), "rb").read())
        env.server.reset()
        rc, _, err = env.run("put", path, f"oss://{BUCKET}/d/big", ca=False, cert_file=big)
        check(rc == 0, f"a CA file with the system's anchors plus the test CA: {err.strip()}")
    env.server.reset()
    rc, _, err = env.run("put", path, f"oss://{BUCKET}/d/none", ca=False)
    line = error_line(err)
    check(rc != 0 and line and env.refusal("untrusted") in line, f"without a CA file: rc {rc}, {err.strip()!r}")
    check(env.server.log() == [], "a request reached the server although the certificate was not trusted")


def rejection(env, server, word, endpoint=None, what=""):
    server.reset()
    path = env.file("reject", 3000, seed=41)
    t0 = time.time()
    rc, out, err = env.run("put", path, f"oss://{BUCKET}/e/rejected", server=server, endpoint=endpoint)
    took = time.time() - t0
    line = error_line(err)
    check(rc != 0, f"{what}: ossup succeeded")
    check(line is not None, f"{what}: not exactly one 'ossup: error:' line: {err.strip()!r}")
    check(word in line, f"{what}: error line lacks {word!r}: {line!r}")
    check(server.log() == [], f"{what}: the server logged OSS requests: {[e['op'] for e in server.log()]}")
    check(took < 30, f"{what}: took {took:.1f}s")
    return line, server.tls()


@case
def rejections(env):
    """(e) Self-signed, wrong name, expired, and https:// to the plain port: a clear error,
    nothing logged by the server (no request went out), no retries of a bad certificate."""
    for cert, key, word in (("self.pem", "self.key", env.refusal("untrusted")),
                            ("other.pem", "other.key", env.refusal("host")),
                            ("expired.pem", "expired.key", env.refusal("expired"))):
        s = start_server(os.path.join(env.workdir, "srv-" + cert[:-4]), env.certs, cert, key)
        try:
            line, t = rejection(env, s, word, what=cert)
            print(f"     {cert}: {line}  [handshakes {t}]")
            check(t["handshakes"] == 0, f"{cert}: a handshake completed: {t}")
            check(t["failed"] == 1, f"{cert}: {t['failed']} handshake attempts (a bad certificate was retried)")
        finally:
            s.stop()
    line, _ = rejection(env, env.server, "TLS", endpoint=f"https://localhost:{env.server.port}",
                        what="plain port")
    print(f"     plain port: {line}")


@case
def insecure_mode(env):
    """(f) --insecure against the self-signed server works and says so on stderr, with and
    without --quiet."""
    s = start_server(os.path.join(env.workdir, "srv-insecure"), env.certs, "self.pem", "self.key")
    try:
        path = env.file("insecure", 350 * KIB, seed=51)
        for extra in ((), ("--quiet",)):
            s.reset()
            key = "f/insecure" + "".join(extra)
            _, err, _ = put_ok(env, path, key, "--insecure", "--threshold", "300K", "--part-size", "100K",
                               *extra, ca=False, server=s)
            check("insecure" in err, f"{extra}: no insecure warning on stderr: {err!r}")
            all_tls(s.log(), "insecure")
    finally:
        s.stop()


@case
def virtual_hosted_over_tls(env):
    """(g) https://oss-test.example with --connect-to: SNI and the name check use
    BUCKET.oss-test.example (the wildcard); a CNAME host (files.example.test) too."""
    port = env.server.tls_port
    path = env.file("vhost", 400 * KIB, seed=61)
    env.server.reset()
    put_ok(env, path, "g/virtual", "--threshold", "300K", "--part-size", "100K",
           "--connect-to", f"127.0.0.1:{port}", endpoint=f"https://oss-test.example:{port}")
    log = env.server.log()
    all_tls(log, "virtual-hosted")
    hosts = {e["host"] for e in log}
    check(hosts == {f"{BUCKET}.oss-test.example:{port}"}, f"hosts {hosts}")
    snis = {e["tls_sni"] for e in log}
    check(snis == {f"{BUCKET}.oss-test.example"}, f"SNI {snis}")
    env.server.reset()
    put_ok(env, path, "g/cname", "--threshold", "300K", "--part-size", "100K", "--cname",
           "--connect-to", f"127.0.0.1:{port}", bucket="bkt-cname",
           endpoint=f"https://files.example.test:{port}")
    log = env.server.log()
    all_tls(log, "cname")
    check({e["host"] for e in log} == {f"files.example.test:{port}"}, f"cname hosts {[e['host'] for e in log]}")
    check({e["tls_sni"] for e in log} == {"files.example.test"}, f"cname SNI {[e['tls_sni'] for e in log]}")


@case
def ec_certificates(env):
    """EC P-256 certificates (ECDSA), the server sending its certificate without the chain."""
    ec = os.path.join(env.workdir, "certs-ec")
    p = subprocess.run(["bash", os.path.join(HERE, "make_certs.sh"), ec], capture_output=True, text=True,
                       env=dict(os.environ, MAKE_CERTS_KEY="ec"))
    check(p.returncode == 0, f"make_certs.sh (ec): {p.stderr.strip()}")
    s = start_server(os.path.join(env.workdir, "srv-ec"), ec, "server.pem", "server.key")
    try:
        path = env.file("ec", 350 * KIB, seed=71)
        rc, _, err = env.run("put", path, f"oss://{BUCKET}/h/ec", "--threshold", "300K", "--part-size", "100K",
                             "--ca-file", os.path.join(ec, "ca.pem"), ca=False, server=s)
        check(rc == 0, f"EC server: {err.strip()}")
        check(s.object(BUCKET, "h/ec")["md5"] == md5_file(path), "EC: object differs")
        all_tls(s.log(), "EC")
        # the RSA test CA does not vouch for the EC server
        s.reset()
        rc, _, err = env.run("put", path, f"oss://{BUCKET}/h/ec2", server=s)
        check(rc != 0 and env.refusal("untrusted") in (error_line(err) or ""),
              f"EC server with the RSA CA: {err.strip()!r}")
        check(s.log() == [], "EC server with the wrong CA: a request went out")
    finally:
        s.stop()


@case
@bearssl_only("--small-tls-buffer sizes BearSSL's record buffer; ossup with mbedTLS refuses it")
def small_tls_buffer(env):
    """--small-tls-buffer (half-duplex 16 KiB buffer): a multipart upload with 4 threads."""
    p = subprocess.run([env.ossup, "--help"], capture_output=True, text=True)
    if "--small-tls-buffer" not in p.stdout + p.stderr:
        print("     skipped: this ossup has no --small-tls-buffer")
        return
    path = env.file("small-buf", 1200 * KIB + 5, seed=81)
    env.server.reset()
    put_ok(env, path, "i/small-buffer", "--small-tls-buffer", "--threshold", "300K", "--part-size", "100K",
           "--threads", "4")
    all_tls(env.server.log(), "small buffer")
    dest = os.path.join(env.workdir, "small-got")
    rc, _, err = env.run("get", f"oss://{BUCKET}/i/small-buffer", dest, "--small-tls-buffer")
    check(rc == 0 and md5_file(dest) == md5_file(path), f"get with the small buffer: {err.strip()}")


@case
@bearssl_only("compiled-in anchors are BearSSL's br_x509_trust_anchor (tests/test_anchors.c)")
def compiled_in_anchors(env):
    """Trust anchors handed in by the program (tests/test_anchors.c): the CA decoded into a
    br_x509_trust_anchor is the only trust, and an unrelated anchor is refused."""
    prog = os.environ.get("OSSR_TEST_ANCHORS")
    check(prog and os.path.exists(prog), "OSSR_TEST_ANCHORS must name the built test_anchors program")
    env.server.reset()
    work = tempfile.mkdtemp(prefix="anchors-", dir=env.workdir)
    p = subprocess.run([prog, env.server.https, env.cert("ca.pem"), env.cert("self.pem"), work],
                       capture_output=True, text=True, timeout=120)
    for line in p.stdout.splitlines():
        if line.startswith("FAIL") or line.startswith("anchors:"):
            print("     " + line)
    check(p.returncode == 0, "test_anchors failed")
    all_tls(env.server.log(), "compiled-in anchors")


def main():
    if len(sys.argv) != 2:
        print("usage: test_tls.py PATH-TO-OSSUP", file=sys.stderr)
        return 2
    ossup = os.path.abspath(sys.argv[1])
    if shutil.which("openssl") is None:
        print("tls: skipped: the openssl command is needed to make test certificates")
        print("tls: 0 passed, 0 failed")
        return 0
    work = tempfile.mkdtemp(prefix="ossr-tls-")
    certs = os.path.join(work, "certs")
    p = subprocess.run(["bash", os.path.join(HERE, "make_certs.sh"), certs], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr.strip())
        print("tls: 0 passed, 1 failed")
        shutil.rmtree(work, ignore_errors=True)
        return 1
    tls = ossup_tls(ossup)
    print(f"tls: {os.path.basename(ossup)} carries https:// with {'mbedTLS' if tls == 'mbedtls' else 'BearSSL'}")
    server = start_server(os.path.join(work, "main"), certs)
    only = set(os.environ.get("OSSR_TLS_CASES", "").split(",")) - {""}
    chosen = [fn for fn, _ in CASES if not only or fn.__name__ in only]
    skipped = [fn for fn in chosen if tls != "bearssl" and fn.__name__ in BEARSSL_ONLY]
    for fn in skipped:
        print(f"skip {fn.__name__}: {BEARSSL_ONLY[fn.__name__]}")
    passed = failed = 0
    try:
        env = Env(ossup, server, work, certs, tls)
        passed, failed = run_cases([fn for fn in chosen if fn not in skipped], env)
    finally:
        server.stop()
        if os.environ.get("OSSR_TLS_KEEP") == "1":
            print(f"tls: work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report("tls", passed, failed, skipped=len(skipped))


if __name__ == "__main__":
    sys.exit(main())
