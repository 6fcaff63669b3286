#!/usr/bin/env python3
"""Self-test of tests/oss_server.py (standard library only).

    python3 tests/test_oss_server.py

1. The server's V1/V4 signing code and CRC-64 (and combine) against every
   vector in tests/signatures.json and tests/crc64.json.
2. A server started on a free loopback port, driven by a small signing client
   written here (independent of the server's signer) through every call,
   both signature versions, STS tokens, path / virtual-hosted / CNAME
   addressing, ListMultipartUploads (order, paging one upload at a time,
   prefix, delimiter, markers, encoding-type=url, what V1 and V4 sign), the
   XML time format (.000Z), GetObject's ranges with and without
   x-oss-range-behavior: standard, If-Match, the error cases and every
   fault-injection action (trickle keeps other connections served;
   slow_complete's views of the upload and the key while it runs; pad up to
   megabytes; barrier's groups, time-out and release by reset), and the log's
   in_flight.
3. The TLS listener (--tls-cert/--tls-key) with throw-away certificates from
   tests/make_certs.sh: signed calls over HTTPS, the log's tls fields, the
   handshake counters, session-ID resumption, failed handshakes, and a TLS
   ClientHello sent to the plain port (skipped when openssl is missing).

The last output line is "oss_server: N passed, M failed"; the exit status is
non-zero when anything failed.
"""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oss_server  # noqa: E402  (the module under test)
from ossr_testlib import held_at_barrier, stop_process  # noqa: E402

SERVER = os.path.join(HERE, "oss_server.py")
AK, SK = "test-ak", "test-secret"
STS_AK, STS_SK, STS_TOKEN = "sts-ak", "sts-secret", "CAIS+sts/token=value"
BUCKET = "test-bucket"


def load_json(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return json.load(f)


def all_signature_vectors():
    data = load_json("signatures.json")
    return data["vectors"] + data["vectors_from_sdk_unit_tests"]["vectors"]


# ---------------------------------------------------------------------------
# A small independent signing client
# ---------------------------------------------------------------------------

_SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def enc(text, slash=False):
    return "".join(chr(b) if b in _SAFE or (slash and b == 47) else "%%%02X" % b
                   for b in text.encode("utf-8"))


CLIENT_SUBRESOURCES = {"uploads", "uploadId", "partNumber", "sequential", "acl", "tagging",
                       "security-token", "versionId", "append", "position", "symlink"}


def client_v1_sts(method, bucket, key, query, headers):
    low = {k.lower(): str(v).strip() for k, v in headers.items()}
    out = [method, low.get("content-md5", ""), low.get("content-type", ""),
           low.get("x-oss-date", low.get("date", ""))]
    out += ["%s:%s" % (k, low[k]) for k in sorted(low) if k.startswith("x-oss-")]
    res = "/%s/%s" % (bucket, key) if bucket else "/"
    subs = sorted(k for k in query if k in CLIENT_SUBRESOURCES)
    if subs:
        res += "?" + "&".join("%s=%s" % (k, query[k]) if query[k] else k for k in subs)
    out.append(res)
    return "\n".join(out)


def client_v4(method, bucket, key, query, headers, secret, region, additional=()):
    low = {k.lower(): str(v).strip() for k, v in headers.items()}
    add = sorted({a.lower() for a in additional})
    names = sorted({k for k in low if k.startswith("x-oss-") or k in ("content-type", "content-md5")}
                   | set(add))
    q = "&".join(k + ("=" + v if v else "") for k, v in sorted((enc(k), enc(v)) for k, v in query.items()))
    creq = "\n".join([method, enc("/%s/%s" % (bucket, key), slash=True), q,
                      "".join("%s:%s\n" % (n, low[n]) for n in names), ";".join(add),
                      low["x-oss-content-sha256"]])
    date = low["x-oss-date"]
    scope = "%s/%s/oss/aliyun_v4_request" % (date[:8], region)
    sts = "OSS4-HMAC-SHA256\n%s\n%s\n%s" % (date, scope, hashlib.sha256(creq.encode()).hexdigest())
    k = ("aliyun_v4" + secret).encode()
    for part in (date[:8], region, "oss", "aliyun_v4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return creq, sts, hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def xml(self):
        return ET.fromstring(self.body)

    def code(self):
        if not self.body:
            return None
        el = self.xml().find("Code")
        return el.text if el is not None else None

    def text(self, tag):
        el = self.xml().find(tag)
        return el.text if el is not None else None


class Client:
    """Signs and sends OSS requests with http.client."""

    def __init__(self, port, ak=AK, sk=SK, token=None, version=4, region="cn-hangzhou",
                 style="path", bucket=BUCKET, skew=0.0, v4_sep=","):
        self.port = port
        self.ak, self.sk, self.token = ak, sk, token
        self.version, self.region, self.style = version, region, style
        self.bucket, self.skew, self.v4_sep = bucket, skew, v4_sep
        self.conn = None

    def connection(self, fresh=False):
        if fresh or self.conn is None:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def target(self, key, query, bucket):
        qs = "&".join(enc(k) + "=" + enc(v) for k, v in query.items())
        if self.style == "path":
            host = "127.0.0.1:%d" % self.port
            path = "/%s/%s" % (bucket, enc(key, slash=True))
        elif self.style == "virtual":
            host = "%s.example-domain:%d" % (bucket, self.port)
            path = "/" + enc(key, slash=True)
        else:                                   # ("cname", host name)
            host = "%s:%d" % (self.style[1], self.port)
            path = "/" + enc(key, slash=True)
        return host, path + ("?" + qs if qs else "")

    def sign(self, method, key, query, headers, bucket, additional=()):
        now = time.time() + self.skew
        if self.token:
            headers["x-oss-security-token"] = self.token
        if self.version == 1:
            headers["Date"] = oss_server.http_date(now)
            sts = client_v1_sts(method, bucket, key, query, headers)
            sig = base64.b64encode(hmac.new(self.sk.encode(), sts.encode(), hashlib.sha1).digest()).decode()
            headers["Authorization"] = "OSS %s:%s" % (self.ak, sig)
        else:
            headers["x-oss-date"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            headers["x-oss-content-sha256"] = "UNSIGNED-PAYLOAD"
            _, _, sig = client_v4(method, bucket, key, query, headers, self.sk, self.region, additional)
            parts = ["Credential=%s/%s/%s/oss/aliyun_v4_request" % (self.ak, headers["x-oss-date"][:8], self.region)]
            if additional:
                parts.append("AdditionalHeaders=" + ";".join(sorted(a.lower() for a in additional)))
            parts.append("Signature=" + sig)
            headers["Authorization"] = "OSS4-HMAC-SHA256 " + self.v4_sep.join(parts)

    def request(self, method, key, query=None, headers=None, body=b"", bucket=None,
                content_length=True, tamper=None, additional=(), fresh=False, send_query=None):
        """send_query: put this query on the wire instead of the signed one."""
        query = dict(query or {})
        headers = dict(headers or {})
        bucket = bucket or self.bucket
        host, url = self.target(key, query if send_query is None else send_query, bucket)
        if additional:
            headers["Host"] = host
        self.sign(method, key, query, headers, bucket, additional)
        if tamper:
            tamper(headers)
        headers["Host"] = host
        conn = self.connection(fresh)
        conn.putrequest(method, url, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if content_length and (body or method in ("PUT", "POST")):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.close()
        return Reply(resp.status, hdrs, data)

    # Convenience wrappers -------------------------------------------------
    def put(self, key, body, headers=None, **kw):
        return self.request("PUT", key, headers=headers, body=body, **kw)

    def get(self, key, headers=None, **kw):
        return self.request("GET", key, headers=headers, **kw)

    def initiate(self, key, headers=None, query=None, **kw):
        q = {"uploads": ""}
        q.update(query or {})
        r = self.request("POST", key, q, headers=headers, **kw)
        assert r.status == 200, (r.status, r.body)
        return r.text("UploadId")

    def upload_part(self, key, uid, n, body, **kw):
        return self.request("PUT", key, {"partNumber": str(n), "uploadId": uid}, body=body, **kw)

    def list_uploads(self, **query):
        """ListMultipartUploads (GET /?uploads at bucket level); query names use '_' for '-'."""
        q = {"uploads": ""}
        q.update({k.replace("_", "-"): str(v) for k, v in query.items()})
        return self.request("GET", "", q)

    def list_parts(self, key, uid, **extra):
        q = {"uploadId": uid}
        q.update({k.replace("_", "-"): str(v) for k, v in extra.items()})
        return self.request("GET", key, q)

    def complete(self, key, uid, parts, headers=None, body=None, **kw):
        if body is None:
            body = ("<CompleteMultipartUpload>" + "".join(
                "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (n, e) for n, e in parts)
                + "</CompleteMultipartUpload>").encode()
        return self.request("POST", key, {"uploadId": uid}, headers=headers, body=body, **kw)


def crc(data):
    return oss_server.crc64(data)


def pattern(n, seed):
    return bytes((i * 131 + seed) & 0xFF for i in range(n))


# ---------------------------------------------------------------------------
# Server process management
# ---------------------------------------------------------------------------

def start_server(extra_args=(), lifetime=600):
    tmp = tempfile.mkdtemp(prefix="oss_server_test_")
    port_file = os.path.join(tmp, "port")
    args = [sys.executable, SERVER, "--port", "0", "--port-file", port_file,
            "--data-dir", os.path.join(tmp, "data"), "--lifetime", str(lifetime), "--quiet"]
    args += list(extra_args)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline().decode().strip()
    if not first.startswith("PORT "):
        proc.kill()
        raise RuntimeError("server did not start: %r %r" % (first, proc.stderr.read()))
    port = int(first.split()[1])
    try:
        with open(port_file) as f:
            assert int(f.read().strip()) == port, "port file disagrees with the PORT line"
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc, port, tmp


def control(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = json.dumps(body).encode() if body is not None else None
    conn.request(method, "/_ossr/" + path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = json.loads(resp.read().decode() or "null")
    conn.close()
    return resp.status, out


# ---------------------------------------------------------------------------
# 1. Vectors
# ---------------------------------------------------------------------------

class SignatureVectors(unittest.TestCase):
    def test_v1_vectors(self):
        count = 0
        for v in all_signature_vectors():
            if "v1" not in v:
                continue
            with self.subTest(v["name"]):
                headers = dict(v["request_headers_given"], **v["v1"]["headers_added_by_signer"])
                sts = oss_server.v1_string_to_sign(v["method"], v["bucket"], v["key"], v["query_params"], headers)
                self.assertEqual(sts, v["v1"]["expected_string_to_sign"])
                auth = "OSS %s:%s" % (v["access_key_id"], oss_server.v1_signature(v["access_key_secret"], sts))
                self.assertEqual(auth, v["v1"]["expected_authorization"])
                count += 1
        self.assertGreaterEqual(count, 7)

    def test_v4_vectors(self):
        count = 0
        for v in all_signature_vectors():
            with self.subTest(v.get("name", "sdk-unit-test")):
                headers = dict(v["request_headers_given"], **v["v4"]["headers_added_by_signer"])
                creq = oss_server.v4_canonical_request(v["method"], v["bucket"], v["key"], v["query_params"],
                                                       headers, v.get("additional_headers_requested", []))
                self.assertEqual(creq, v["v4"]["expected_canonical_request"])
                date = headers["x-oss-date"]
                sts = oss_server.v4_string_to_sign(creq, date, v["region"], v["product"])
                self.assertEqual(sts, v["v4"]["expected_string_to_sign"])
                sig = oss_server.v4_signature(v["access_key_secret"], date[:8], v["region"], sts, v["product"])
                self.assertEqual(sig, v["v4"]["expected_signature"])
                self.assertTrue(v["v4"]["expected_authorization"].endswith("Signature=" + sig))
                count += 1
        self.assertEqual(count, len(all_signature_vectors()))

    def test_client_signer_matches_vectors(self):
        # The test client's own signer must be right too, or the live tests prove nothing.
        for v in all_signature_vectors():
            with self.subTest(v.get("name", "sdk-unit-test")):
                headers = dict(v["request_headers_given"], **v["v4"]["headers_added_by_signer"])
                creq, sts, sig = client_v4(v["method"], v["bucket"], v["key"], v["query_params"], headers,
                                           v["access_key_secret"], v["region"],
                                           v.get("additional_headers_requested", []))
                self.assertEqual(sig, v["v4"]["expected_signature"])
                if "v1" in v:
                    h1 = dict(v["request_headers_given"], **v["v1"]["headers_added_by_signer"])
                    self.assertEqual(client_v1_sts(v["method"], v["bucket"], v["key"], v["query_params"], h1),
                                     v["v1"]["expected_string_to_sign"])


class Crc64Vectors(unittest.TestCase):
    def inputs(self):
        for t in load_json("crc64.json")["single"]:
            if "input_hex" in t:
                data = bytes.fromhex(t["input_hex"])
            elif t["name"] == "zeros_1MiB":
                data = bytes(t["length"])
            elif t["name"] == "ff_x_1000":
                data = b"\xff" * t["length"]
            else:
                self.fail("unknown crc64 vector %s" % t["name"])
            self.assertEqual(len(data), t["length"])
            yield t, data

    def test_single(self):
        for t, data in self.inputs():
            with self.subTest(t["name"]):
                self.assertEqual(oss_server.crc64(data), int(t["crc64_decimal"]))
                self.assertEqual("%016x" % oss_server.crc64(data), t["crc64_hex"])
                if len(data) <= 4096:
                    self.assertEqual(oss_server.crc64_bytewise(data), int(t["crc64_decimal"]))

    def test_incremental(self):
        for t, data in self.inputs():
            with self.subTest(t["name"]):
                c = 0
                for i in range(0, len(data), 7777):
                    c = oss_server.crc64(data[i:i + 7777], c)
                self.assertEqual(c, int(t["crc64_decimal"]))

    def test_combine(self):
        for t in load_json("crc64.json")["combine"]:
            with self.subTest(t["name"]):
                acc = 0
                for p in t["parts"]:
                    acc = oss_server.crc64_combine(acc, int(p["part_crc64_decimal"]), p["part_length"])
                    self.assertEqual(acc, int(p["running_combined_decimal"]))
                self.assertEqual(acc, int(t["whole_object_crc64_decimal"]))

    def test_generated_parts(self):
        # Regenerate the bytes of the three-part vector and check the part CRCs.
        t = [c for c in load_json("crc64.json")["combine"] if c["name"] == "three_parts_generated"][0]
        for p, seed in zip(t["parts"], (7, 99, 200)):
            self.assertEqual(crc(pattern(p["part_length"], seed)), int(p["part_crc64_decimal"]))

    def test_fast_matches_bytewise(self):
        rnd = random.Random(1)
        for n in (0, 1, 15, 16, 17, 63, 64, 65, 1000, 4097):
            data = bytes(rnd.getrandbits(8) for _ in range(n))
            start = rnd.getrandbits(64)
            self.assertEqual(oss_server.crc64(data, start), oss_server.crc64_bytewise(data, start))


# ---------------------------------------------------------------------------
# 2. The live server
# ---------------------------------------------------------------------------

class LiveServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port, cls.tmp = start_server([
            "--credentials", "%s:%s" % (AK, SK),
            "--credentials", "%s:%s:%s" % (STS_AK, STS_SK, STS_TOKEN),
            "--cname", "files.example.test=cname-bucket"])

    @classmethod
    def tearDownClass(cls):
        stop_process(cls.proc)
        cls.proc.stdout.close()
        cls.proc.stderr.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.ctl("POST", "reset")
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def client(self, **kw):
        c = Client(self.port, **kw)
        self.clients.append(c)
        return c

    def ctl(self, method, path, body=None):
        return control(self.port, method, path, body)

    def log(self):
        return self.ctl("GET", "log")[1]

    def assertError(self, reply, status, code):
        self.assertEqual(reply.status, status, reply.body)
        self.assertEqual(reply.code(), code, reply.body)
        self.assertEqual(reply.headers.get("content-type"), "application/xml")
        x = reply.xml()
        self.assertEqual(x.find("RequestId").text, reply.headers["x-oss-request-id"])
        for tag in ("Message", "HostId", "EC"):
            self.assertIsNotNone(x.find(tag), tag)

    def assertCommonHeaders(self, reply):
        rid = reply.headers.get("x-oss-request-id", "")
        self.assertRegex(rid, r"^[0-9A-F]{24}$")
        self.assertEqual(reply.headers.get("server"), "AliyunOSS")
        self.assertIn("GMT", reply.headers.get("date", ""))

    # -- simple object calls -----------------------------------------------
    def roundtrip(self, client, key):
        body = os.urandom(5000)
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = client.put(key, body, {"Content-Type": "text/plain", "Content-MD5": md5, "x-oss-meta-Owner": "Bob"})
        self.assertEqual(r.status, 200, r.body)
        self.assertCommonHeaders(r)
        self.assertEqual(r.headers["etag"], '"%s"' % hashlib.md5(body).hexdigest().upper())
        self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(body)))
        g = client.get(key)
        self.assertEqual(g.status, 200)
        self.assertEqual(g.body, body)
        self.assertEqual(g.headers["content-type"], "text/plain")
        self.assertEqual(g.headers["x-oss-meta-owner"], "Bob")
        self.assertEqual(g.headers["x-oss-object-type"], "Normal")
        self.assertEqual(g.headers["x-oss-hash-crc64ecma"], str(crc(body)))
        h = client.request("HEAD", key)
        self.assertEqual(h.status, 200)
        self.assertEqual(h.body, b"")
        self.assertEqual(h.headers["content-length"], "5000")
        self.assertEqual(h.headers["etag"], r.headers["etag"])
        self.assertIn("last-modified", h.headers)
        d = client.request("DELETE", key)
        self.assertEqual(d.status, 204)
        self.assertError(client.get(key), 404, "NoSuchKey")
        self.assertEqual(client.request("DELETE", key).status, 204)   # missing key: still 204
        return body

    def test_object_v1_path_style(self):
        self.roundtrip(self.client(version=1), "dir/sub dir/v1 file+x.txt")
        ops = [e["op"] for e in self.log()]
        self.assertEqual(ops, ["PutObject", "GetObject", "HeadObject", "DeleteObject", "GetObject", "DeleteObject"])
        self.assertTrue(all(e["sign_version"] == 1 for e in self.log()))

    def test_object_v4_virtual_hosted(self):
        c = self.client(version=4, style="virtual")
        self.roundtrip(c, "photos/2024/写真 #1+2.jpg")
        entries = self.log()
        self.assertTrue(all(e["sign_version"] == 4 and e["bucket"] == BUCKET for e in entries))
        self.assertEqual(entries[0]["host"], "%s.example-domain:%d" % (BUCKET, self.port))
        self.assertEqual(entries[0]["key"], "photos/2024/写真 #1+2.jpg")

    def test_object_v1_virtual_and_v4_path(self):
        self.roundtrip(self.client(version=1, style="virtual"), "a/b/c~d_e-f.g!h'(i)*j&k=l;m,n:o@p$q.txt")
        self.roundtrip(self.client(version=4, style="path"), "a/b/c~d_e-f.g!h'(i)*j&k=l;m,n:o@p$q.txt")

    def test_cname(self):
        c = self.client(style=("cname", "files.example.test"), bucket="cname-bucket")
        self.assertEqual(c.put("k.txt", b"hello").status, 200)
        st, obj = self.ctl("GET", "object?bucket=cname-bucket&key=k.txt")
        self.assertEqual((st, obj["size"]), (200, 5))

    def test_virtual_host_on_loopback_names(self):
        # SDKs given a local endpoint may put the bucket in front of it.
        for name in ("test-bucket.localhost", "test-bucket.127.0.0.1"):
            with self.subTest(name):
                c = self.client(style=("cname", name))
                self.assertEqual(c.put("lb.txt", name.encode()).status, 200)
                self.assertEqual(c.get("lb.txt").body, name.encode())
                self.assertEqual(self.log()[-1]["bucket"], BUCKET)

    def test_encoded_slash_accepted(self):
        c = self.client()
        self.assertEqual(c.put("x/y z.bin", b"abc").status, 200)
        # Same key with '/' sent as %2F (oss2 style): still the same object, signature still valid.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {}
        c.sign("GET", "x/y z.bin", {}, headers, BUCKET)
        headers["Host"] = "127.0.0.1:%d" % self.port
        conn.request("GET", "/%s/%s" % (BUCKET, enc("x/y z.bin")), headers=headers)
        r = conn.getresponse()
        self.assertEqual((r.status, r.read()), (200, b"abc"))
        conn.close()

    def test_ranges(self):
        """Range as OSS answers it: a range within the object is 206 either way; one
        that does not lie within it is ignored (200, the whole object) unless
        x-oss-range-behavior is standard, when an end past the object is cut and a
        start past it is 416."""
        c = self.client()
        body = bytes(range(256)) * 4
        c.put("range.bin", body)
        whole, bad = (200, body, None), (416, None, None)
        cases = [("bytes=0-9", (206, body[0:10], "bytes 0-9/1024"), None),
                 ("bytes=1000-", (206, body[1000:], "bytes 1000-1023/1024"), None),
                 ("bytes=-24", (206, body[-24:], "bytes 1000-1023/1024"), None),
                 ("bytes=0-1023", (206, body, "bytes 0-1023/1024"), None),
                 ("bytes=-1024", (206, body, "bytes 0-1023/1024"), None),
                 ("bytes=1023-1023", (206, body[1023:], "bytes 1023-1023/1024"), None),
                 ("bytes=1000-5000", whole, (206, body[1000:], "bytes 1000-1023/1024")),
                 ("bytes=0-1024", whole, (206, body, "bytes 0-1023/1024")),
                 ("bytes=-5000", whole, (206, body, "bytes 0-1023/1024")),
                 ("bytes=1024-", whole, bad),
                 ("bytes=1024-2000", whole, bad),
                 ("bytes=5000-", whole, bad),
                 ("bytes=-0", whole, bad),
                 ("bytes=abc", whole, whole),
                 ("bytes=10-5", whole, whole),
                 ("bytes=0-9,20-29", whole, whole),
                 ("byte=0-9", whole, whole)]
        for rng, legacy, standard in cases:
            for behavior, (status, expect, crange) in ((None, legacy), ("standard", standard or legacy)):
                with self.subTest(rng=rng, behavior=behavior):
                    headers = {"Range": rng}
                    if behavior:
                        headers["x-oss-range-behavior"] = behavior
                    r = c.get("range.bin", headers)
                    if status == 416:
                        self.assertError(r, 416, "InvalidRange")
                        self.assertEqual(r.headers.get("content-range"), "bytes */1024")
                        continue
                    self.assertEqual(r.status, status)
                    self.assertEqual(r.body, expect)
                    self.assertEqual(r.headers.get("content-range"), crange)
                    self.assertEqual(r.headers["content-length"], str(len(expect)))
                    self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(body)))   # whole-object CRC
                    self.assertEqual(r.headers["etag"], '"%s"' % hashlib.md5(body).hexdigest().upper())
        # The header's value is not case-sensitive; any other value is the legacy behavior.
        r = c.get("range.bin", {"Range": "bytes=1024-", "x-oss-range-behavior": "Standard"})
        self.assertError(r, 416, "InvalidRange")
        r = c.get("range.bin", {"Range": "bytes=1024-", "x-oss-range-behavior": "legacy"})
        self.assertEqual((r.status, r.body), (200, body))
        # An empty object: every range is ignored, or 416 with standard.
        c.put("empty.bin", b"")
        for rng in ("bytes=0-", "bytes=0-0", "bytes=-1"):
            with self.subTest(empty=rng):
                r = c.get("empty.bin", {"Range": rng})
                self.assertEqual((r.status, r.body, r.headers.get("content-range")), (200, b"", None))
                r = c.get("empty.bin", {"Range": rng, "x-oss-range-behavior": "standard"})
                self.assertError(r, 416, "InvalidRange")
                self.assertEqual(r.headers.get("content-range"), "bytes */0")
        self.assertEqual([e["status"] for e in self.log()][-2:], [200, 416])

    def test_if_match(self):
        """If-Match on GetObject and HeadObject: the quoted ETag (alone, in a list, or
        "*") passes; any other value is 412 PreconditionFailed, ahead of the range."""
        c = self.client()
        body = pattern(3000, 11)
        etag = c.put("im.bin", body).headers["etag"]
        bare = etag.strip('"')
        for value in (etag, " %s " % etag, '"0123", %s' % etag, "*"):
            with self.subTest(match=value):
                r = c.get("im.bin", {"If-Match": value, "Range": "bytes=100-199"})
                self.assertEqual((r.status, r.body), (206, body[100:200]))
                self.assertEqual(c.request("HEAD", "im.bin", headers={"If-Match": value}).status, 200)
        for value in ('"%s"' % ("0" * 32), bare, etag.lower(), '"%s' % bare, ""):
            with self.subTest(mismatch=value):
                r = c.get("im.bin", {"If-Match": value, "Range": "bytes=5000-",
                                     "x-oss-range-behavior": "standard"})
                self.assertError(r, 412, "PreconditionFailed")
                self.assertEqual(r.xml().find("EC").text, "0017-00001001")
                self.assertIsNotNone(c.conn)                            # keep-alive goes on
                h = c.request("HEAD", "im.bin", headers={"If-Match": value})
                self.assertEqual((h.status, h.body), (412, b""))
                self.assertIn(b"PreconditionFailed", base64.b64decode(h.headers["x-oss-err"]))
        self.assertError(c.get("im-missing.bin", {"If-Match": etag}), 404, "NoSuchKey")
        # The object replaced: the old ETag no longer holds.
        c.put("im.bin", body + b"!")
        self.assertError(c.get("im.bin", {"If-Match": etag}), 412, "PreconditionFailed")

    def test_metadata_stored(self):
        c = self.client()
        hdrs = {"Content-Type": "image/png", "x-oss-meta-a": "1", "x-oss-meta-B": "two",
                "x-oss-object-acl": "private", "x-oss-storage-class": "IA", "x-oss-tagging": "k=v&x=y",
                "Cache-Control": "no-cache"}
        self.assertEqual(c.put("meta.png", b"png", hdrs).status, 200)
        h = c.request("HEAD", "meta.png")
        self.assertEqual(h.headers["content-type"], "image/png")
        self.assertEqual(h.headers["x-oss-meta-b"], "two")
        self.assertEqual(h.headers["x-oss-storage-class"], "IA")
        self.assertEqual(h.headers["x-oss-object-acl"], "private")
        self.assertEqual(h.headers["x-oss-tagging"], "k=v&x=y")
        self.assertEqual(h.headers["cache-control"], "no-cache")
        st, obj = self.ctl("GET", "object?" + urllib.parse.urlencode({"bucket": BUCKET, "key": "meta.png"}))
        self.assertEqual(st, 200)
        self.assertEqual(obj["md5"], hashlib.md5(b"png").hexdigest())
        self.assertEqual(obj["crc64"], str(crc(b"png")))
        self.assertEqual(obj["content_type"], "image/png")
        self.assertEqual(obj["meta"], {"a": "1", "b": "two"})
        self.assertEqual(obj["headers"]["x-oss-tagging"], "k=v&x=y")
        self.assertEqual(self.ctl("GET", "object?bucket=%s&key=nope" % BUCKET)[0], 404)
        # Default content type
        c.put("plain", b"x")
        self.assertEqual(c.request("HEAD", "plain").headers["content-type"], "application/octet-stream")

    def test_forbid_overwrite_put(self):
        c = self.client()
        c.put("fo.txt", b"1")
        r = c.put("fo.txt", b"2", {"x-oss-forbid-overwrite": "true"})
        self.assertError(r, 409, "FileAlreadyExists")
        self.assertEqual(c.get("fo.txt").body, b"1")

    def test_large_streaming_put(self):
        c = self.client()
        body = os.urandom(5 * (1 << 20) + 12345)
        t0 = time.time()
        r = c.put("big.bin", body)
        self.assertEqual(r.status, 200)
        self.assertEqual(int(r.headers["x-oss-hash-crc64ecma"]), crc(body))
        self.assertLess(time.time() - t0, 30)
        self.assertEqual(hashlib.md5(c.get("big.bin").body).digest(), hashlib.md5(body).digest())

    def test_chunked_put(self):
        c = self.client()
        headers = {"Transfer-Encoding": "chunked"}
        body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        r = c.request("PUT", "chunked.txt", headers=headers, body=body, content_length=False)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(c.get("chunked.txt").body, b"hello world")

    # -- multipart ---------------------------------------------------------
    def multipart(self, client, key, sizes=(102400, 102400, 50000)):
        st0 = self.ctl("GET", "uploads")[1]
        uid = client.initiate(key, {"Content-Type": "application/x-test", "x-oss-meta-m": "v"})
        self.assertRegex(uid, r"^[0-9A-F]{32}$")
        self.assertNotIn(uid, st0)
        parts, blobs = [], []
        for i, n in enumerate(sizes, 1):
            data = pattern(n, i * 7)
            r = client.upload_part(key, uid, i, data)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.headers["etag"], '"%s"' % hashlib.md5(data).hexdigest().upper())
            self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(data)))
            parts.append((i, r.headers["etag"]))
            blobs.append(data)
        self.assertEqual(self.ctl("GET", "uploads")[1][uid], {"bucket": client.bucket, "key": key,
                                                             "parts": list(range(1, len(sizes) + 1))})
        # ListParts: one page
        lp = client.list_parts(key, uid)
        self.assertEqual(lp.status, 200)
        x = lp.xml()
        self.assertEqual(x.tag, "ListPartsResult")
        self.assertEqual(x.find("UploadId").text, uid)
        self.assertEqual(x.find("Key").text, key)
        self.assertEqual(x.find("IsTruncated").text, "false")
        self.assertEqual(x.find("MaxParts").text, "1000")
        self.assertEqual(x.find("PartNumberMarker").text, "0")
        self.assertEqual(x.find("NextPartNumberMarker").text, str(len(sizes)))
        listed = x.findall("Part")
        self.assertEqual([int(p.find("PartNumber").text) for p in listed], list(range(1, len(sizes) + 1)))
        for p, data, (_, etag) in zip(listed, blobs, parts):
            self.assertEqual(p.find("ETag").text, etag)
            self.assertEqual(int(p.find("Size").text), len(data))
            self.assertEqual(p.find("HashCrc64ecma").text, str(crc(data)))
            self.assertRegex(p.find("LastModified").text, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        # ListParts: pagination with max-parts=1
        seen, marker = [], 0
        while True:
            page = client.list_parts(key, uid, max_parts=1, part_number_marker=marker).xml()
            nums = [int(p.find("PartNumber").text) for p in page.findall("Part")]
            self.assertEqual(len(nums), 1)
            seen += nums
            self.assertEqual(page.find("PartNumberMarker").text, str(marker))
            self.assertEqual(page.find("MaxParts").text, "1")
            marker = int(page.find("NextPartNumberMarker").text)
            self.assertEqual(marker, nums[-1])
            if page.find("IsTruncated").text == "false":
                break
            self.assertEqual(page.find("IsTruncated").text, "true")
        self.assertEqual(seen, list(range(1, len(sizes) + 1)))
        page = client.list_parts(key, uid, max_parts=2, part_number_marker=1).xml()
        self.assertEqual([int(p.find("PartNumber").text) for p in page.findall("Part")], [2, 3][:len(sizes) - 1])
        # Complete
        r = client.complete(key, uid, parts)
        self.assertEqual(r.status, 200, r.body)
        whole = b"".join(blobs)
        self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(whole)))
        x = r.xml()
        self.assertEqual(x.tag, "CompleteMultipartUploadResult")
        self.assertEqual((x.find("Bucket").text, x.find("Key").text), (client.bucket, key))
        self.assertIsNotNone(x.find("Location"))
        etag_md5 = hashlib.md5(b"".join(hashlib.md5(b).digest() for b in blobs)).hexdigest().upper()
        self.assertEqual(x.find("ETag").text, '"%s-%d"' % (etag_md5, len(blobs)))
        g = client.get(key)
        self.assertEqual(g.body, whole)
        self.assertEqual(g.headers["x-oss-object-type"], "Multipart")
        self.assertEqual(g.headers["content-type"], "application/x-test")
        self.assertEqual(g.headers["x-oss-meta-m"], "v")
        self.assertEqual(g.headers["etag"], x.find("ETag").text)
        self.assertNotIn(uid, self.ctl("GET", "uploads")[1])
        self.assertError(client.list_parts(key, uid), 404, "NoSuchUpload")
        st, obj = self.ctl("GET", "object?" + urllib.parse.urlencode({"bucket": client.bucket, "key": key}))
        self.assertEqual(obj["md5"], hashlib.md5(whole).hexdigest())
        return uid

    def test_multipart_v4_path(self):
        uid = self.multipart(self.client(version=4), "mp/v4 path.bin")
        log = self.log()
        self.assertEqual([e["op"] for e in log[:5]], ["InitiateMultipartUpload", "UploadPart", "UploadPart",
                                                       "UploadPart", "ListParts"])
        up = [e for e in log if e["op"] == "UploadPart"]
        self.assertEqual([e["part_number"] for e in up], [1, 2, 3])
        self.assertEqual([e["bytes_received"] for e in up], [102400, 102400, 50000])
        self.assertTrue(all(e["upload_id"] == uid and e["status"] == 200 for e in up))
        self.assertEqual(up[0]["query"], {"partNumber": "1", "uploadId": uid})
        self.assertEqual(up[0]["headers"]["x-oss-content-sha256"], "UNSIGNED-PAYLOAD")
        self.assertEqual(log[0]["upload_id"], uid)
        self.assertEqual(log[-1]["code"], "NoSuchUpload")

    def test_multipart_v1_virtual(self):
        self.multipart(self.client(version=1, style="virtual"), "mp/v1 virtual.bin")

    def test_multipart_single_small_part_and_sequential(self):
        c = self.client()
        uid = c.initiate("seq.bin", query={"sequential": ""})
        e = c.upload_part("seq.bin", uid, 1, b"tiny").headers["etag"]
        r = c.complete("seq.bin", uid, [(1, e)])
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(c.get("seq.bin").body, b"tiny")

    def test_complete_errors(self):
        c = self.client()
        key = "errs.bin"
        uid = c.initiate(key)
        big, small = pattern(102400, 1), pattern(1000, 2)
        e1 = c.upload_part(key, uid, 1, small).headers["etag"]
        e2 = c.upload_part(key, uid, 2, big).headers["etag"]
        self.assertError(c.complete(key, uid, [(2, e2), (1, e1)]), 400, "InvalidPartOrder")
        self.assertError(c.complete(key, uid, [(1, e1), (1, e1)]), 400, "InvalidPartOrder")
        self.assertError(c.complete(key, uid, [(1, e1), (3, e2)]), 400, "InvalidPart")
        self.assertError(c.complete(key, uid, [(1, e2), (2, e2)]), 400, "InvalidPart")
        self.assertError(c.complete(key, uid, [(1, e1), (2, e2)]), 400, "EntityTooSmall")
        self.assertError(c.complete(key, uid, None, body=b"<CompleteMultipartUpload><Part>"), 400, "MalformedXML")
        self.assertError(c.complete(key, uid, None, body=b"<Other/>"), 400, "MalformedXML")
        self.assertError(c.complete(key, uid, None, body=b"<CompleteMultipartUpload><Part><PartNumber>x"
                                    b"</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>"), 400, "MalformedXML")
        body = b"<CompleteMultipartUpload></CompleteMultipartUpload>"
        self.assertError(c.complete(key, uid, None, body=body, headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}),
                         400, "InvalidDigest")
        # still open after all these failures
        self.assertIn(uid, self.ctl("GET", "uploads")[1])
        # x-oss-complete-all with a body is refused; with an empty body it takes every part.
        self.assertError(c.complete(key, uid, [(2, e2)], headers={"x-oss-complete-all": "yes"}), 400, "InvalidArgument")
        e1 = c.upload_part(key, uid, 1, big).headers["etag"]
        c.put(key, b"existing")
        r = c.request("POST", key, {"uploadId": uid}, headers={"x-oss-complete-all": "yes",
                                                               "x-oss-forbid-overwrite": "true"})
        self.assertError(r, 409, "FileAlreadyExists")
        r = c.request("POST", key, {"uploadId": uid}, headers={"x-oss-complete-all": "yes"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(c.get(key).body, big + big)
        self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(big + big)))

    def test_upload_errors(self):
        c = self.client()
        uid = c.initiate("ue.bin")
        for bad in ("0", "10001", "-1", "x", ""):
            with self.subTest(bad):
                self.assertError(c.upload_part("ue.bin", uid, bad, b"abc"), 400, "InvalidArgument")
        self.assertEqual(c.upload_part("ue.bin", uid, 10000, b"abc").status, 200)
        self.assertError(c.upload_part("ue.bin", "DEADBEEF", 1, b"abc"), 404, "NoSuchUpload")
        self.assertError(c.upload_part("other.bin", uid, 1, b"abc"), 404, "NoSuchUpload")  # wrong key
        self.assertError(c.list_parts("ue.bin", "DEADBEEF"), 404, "NoSuchUpload")
        self.assertError(c.complete("ue.bin", "DEADBEEF", [(1, '"00"')]), 404, "NoSuchUpload")
        self.assertError(c.list_parts("ue.bin", uid, max_parts=0), 400, "InvalidArgument")
        # Abort, then everything is NoSuchUpload
        self.assertEqual(c.request("DELETE", "ue.bin", {"uploadId": uid}).status, 204)
        self.assertError(c.request("DELETE", "ue.bin", {"uploadId": uid}), 404, "NoSuchUpload")
        self.assertError(c.upload_part("ue.bin", uid, 1, b"abc"), 404, "NoSuchUpload")
        self.assertNotIn(uid, self.ctl("GET", "uploads")[1])
        ops = [e["op"] for e in self.log()]
        self.assertIn("AbortMultipartUpload", ops)

    def test_part_overwrite(self):
        c = self.client()
        uid = c.initiate("ow.bin")
        c.upload_part("ow.bin", uid, 1, b"first")
        e = c.upload_part("ow.bin", uid, 1, b"second").headers["etag"]
        p = c.list_parts("ow.bin", uid).xml().find("Part")
        self.assertEqual((p.find("ETag").text, p.find("Size").text), (e, "6"))

    def test_control_abort(self):
        c = self.client()
        uid = c.initiate("cab.bin")
        self.assertEqual(self.ctl("POST", "abort?uploadId=" + uid)[0], 200)
        self.assertEqual(self.ctl("POST", "abort?uploadId=" + uid)[0], 404)
        self.assertError(c.list_parts("cab.bin", uid), 404, "NoSuchUpload")

    # -- authentication ------------------------------------------------------
    def test_sts_token(self):
        for version in (1, 4):
            with self.subTest(version=version):
                good = self.client(ak=STS_AK, sk=STS_SK, token=STS_TOKEN, version=version)
                self.assertEqual(good.put("sts.txt", b"sts").status, 200)
                self.assertEqual(good.get("sts.txt").body, b"sts")
                self.assertEqual(self.log()[-1]["headers"]["x-oss-security-token"], STS_TOKEN)
                self.assertError(self.client(ak=STS_AK, sk=STS_SK, version=version).get("sts.txt"),
                                 403, "InvalidSecurityToken")
                self.assertError(self.client(ak=STS_AK, sk=STS_SK, token="wrong", version=version).get("sts.txt"),
                                 403, "InvalidSecurityToken")
                self.assertError(self.client(token="unexpected", version=version).get("sts.txt"),
                                 403, "InvalidSecurityToken")

    def test_bad_signature(self):
        for version in (1, 4):
            with self.subTest(version=version):
                r = self.client(sk="wrong-secret", version=version).put("sig.txt", b"x")
                self.assertError(r, 403, "SignatureDoesNotMatch")
                sts = r.text("StringToSign")
                self.assertTrue(sts.startswith("PUT\n") if version == 1 else sts.startswith("OSS4-HMAC-SHA256\n"))
                if version == 4:
                    self.assertIn("/%s/sig.txt" % BUCKET, r.text("CanonicalRequest"))
                else:
                    self.assertTrue(sts.endswith("/%s/sig.txt" % BUCKET))
                    self.assertIsNotNone(r.text("StringToSignBytes"))
                # A header changed after signing is caught as well.
                c = self.client(version=version)
                r = c.put("sig.txt", b"x", {"x-oss-meta-a": "1"},
                          tamper=lambda h: h.__setitem__("x-oss-meta-a", "2"))
                self.assertError(r, 403, "SignatureDoesNotMatch")
        self.assertError(self.client(ak="nobody").get("sig.txt"), 403, "InvalidAccessKeyId")
        self.assertTrue(all(e["status"] == 403 for e in self.log()))

    def test_anonymous_and_malformed_auth(self):
        c = self.client()
        r = c.request("GET", "anon.txt", tamper=lambda h: h.pop("Authorization"))
        self.assertError(r, 403, "AccessDenied")
        r = c.request("GET", "anon.txt", tamper=lambda h: h.__setitem__("Authorization", "Bearer xyz"))
        self.assertEqual(r.status, 400)
        r = c.request("GET", "anon.txt", tamper=lambda h: h.__setitem__("x-oss-content-sha256", "abc"))
        self.assertEqual(r.status, 403)

    def test_v4_separators_and_additional_headers(self):
        c = self.client(v4_sep=", ")
        self.assertEqual(c.put("sep.txt", b"s").status, 200)
        r = c.request("GET", "sep.txt", headers={"Range": "bytes=0-0"}, additional=("host", "range"))
        self.assertEqual((r.status, r.body), (206, b"s"))
        # Additional headers are really signed: change Range after signing.
        r = c.request("GET", "sep.txt", headers={"Range": "bytes=0-0"}, additional=("range",),
                      tamper=lambda h: h.__setitem__("Range", "bytes=0-1"))
        self.assertError(r, 403, "SignatureDoesNotMatch")

    def test_other_region_accepted(self):
        c = self.client(region="ap-southeast-1")
        self.assertEqual(c.put("reg.txt", b"r").status, 200)

    def test_clock_skew(self):
        for version in (1, 4):
            for skew in (-1000, 1000):
                with self.subTest(version=version, skew=skew):
                    r = self.client(version=version, skew=skew).get("skew.txt")
                    self.assertError(r, 403, "RequestTimeTooSkewed")
                    self.assertEqual(r.text("MaxAllowedSkewMilliseconds"), "900000")
                    pat = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
                    self.assertRegex(r.text("ServerTime"), pat)
                    self.assertRegex(r.text("RequestTime"), pat)
                    server = datetime.datetime.strptime(r.text("ServerTime"), "%Y-%m-%dT%H:%M:%S.%fZ")
                    self.assertLess(abs(server.replace(tzinfo=datetime.timezone.utc).timestamp() - time.time()), 60)
        # 14 minutes off is still fine.
        self.assertEqual(self.client(skew=840).put("skew.txt", b"ok").status, 200)

    def test_v4_scope_date_mismatch(self):
        c = self.client()
        def tamper(h):
            h["Authorization"] = h["Authorization"].replace("/" + h["x-oss-date"][:8] + "/", "/20000101/")
        self.assertEqual(c.get("x", tamper=tamper).status, 403)

    # -- request validation ----------------------------------------------------
    def test_invalid_digest(self):
        c = self.client()
        bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        self.assertError(c.put("d.txt", b"data", {"Content-MD5": bad}), 400, "InvalidDigest")
        self.assertError(c.put("d.txt", b"data", {"Content-MD5": "not base64!"}), 400, "InvalidDigest")
        uid = c.initiate("d.txt")
        self.assertError(c.upload_part("d.txt", uid, 1, b"data", headers={"Content-MD5": bad}), 400, "InvalidDigest")
        self.assertEqual(c.list_parts("d.txt", uid).xml().findall("Part"), [])
        self.assertError(c.get("d.txt"), 404, "NoSuchKey")

    def test_missing_content_length(self):
        c = self.client()
        self.assertError(c.request("PUT", "ml.txt", content_length=False), 411, "MissingContentLength")
        uid = c.initiate("ml.txt")
        r = c.request("PUT", "ml.txt", {"partNumber": "1", "uploadId": uid}, content_length=False)
        self.assertError(r, 411, "MissingContentLength")
        # Initiate without a body needs no Content-Length.
        r = c.request("POST", "ml.txt", {"uploads": ""}, content_length=False)
        self.assertEqual(r.status, 200)

    def test_invalid_object_name(self):
        c = self.client()
        self.assertError(c.put("/lead", b"x"), 400, "InvalidObjectName")
        self.assertError(c.put("\\lead", b"x"), 400, "InvalidObjectName")
        self.assertError(c.put("k" * 1024, b"x"), 400, "InvalidObjectName")
        self.assertEqual(c.put("k" * 1023, b"x").status, 200)
        self.assertError(c.put("x", b"x", bucket="Bad_Bucket"), 400, "InvalidBucketName")

    def test_head_error_has_x_oss_err(self):
        r = self.client().request("HEAD", "no-such-key")
        self.assertEqual((r.status, r.body), (404, b""))
        err = ET.fromstring(base64.b64decode(r.headers["x-oss-err"]))
        self.assertEqual(err.find("Code").text, "NoSuchKey")

    def test_keepalive_and_connection_close(self):
        c = self.client()
        c.put("ka.txt", b"k")
        conn = c.connection()
        for _ in range(5):
            self.assertEqual(c.get("ka.txt").body, b"k")
        self.assertIs(c.conn, conn)                 # one connection served all of them
        r = c.get("ka.txt", {"Connection": "close"})
        self.assertEqual(r.headers.get("connection"), "close")
        self.assertIsNone(c.conn)
        # Errors keep the connection usable too (the body is drained).
        c.put("ka2.txt", b"z" * 100000, {"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
        conn = c.connection()
        self.assertEqual(c.get("ka.txt").body, b"k")
        self.assertIs(c.conn, conn)

    def test_malformed_requests_do_not_crash(self):
        for raw in (b"GARBAGE\r\n\r\n", b"GET /x HTTP/9.9\r\n\r\n", b"\x00\xff\r\n\r\n",
                    b"PUT /test-bucket/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: zz\r\n\r\n",
                    b"GET /test-bucket/%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                    b"GET /test-bucket/k?a=%ff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):
            with self.subTest(raw=raw):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                s.sendall(raw)
                data = s.recv(4096)
                s.close()
                self.assertTrue(data.startswith(b"HTTP/1."), data)
                self.assertIn(data.split()[1], (b"400", b"403", b"505"))
        self.assertEqual(self.client().put("alive.txt", b"1").status, 200)

    def test_bucket_level_not_implemented(self):
        r = self.client().request("GET", "")
        self.assertEqual(r.status, 501)

    # -- faults ----------------------------------------------------------------
    def fault(self, **spec):
        st, out = self.ctl("POST", "fault", spec)
        self.assertEqual(st, 200, out)
        return out["id"]

    def test_fault_reset(self):
        c = self.client()
        uid = c.initiate("fr.bin")
        self.fault(op="UploadPart", part=2, action="reset", after_bytes=1000)
        self.assertEqual(c.upload_part("fr.bin", uid, 1, b"a" * 5000).status, 200)   # part 1 not affected
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            c.upload_part("fr.bin", uid, 2, b"b" * 300000)
        c.close()
        self.assertEqual(c.upload_part("fr.bin", uid, 2, b"b" * 3000).status, 200)   # count was 1
        self.assertEqual(self.ctl("GET", "uploads")[1][uid]["parts"], [1, 2])
        entry = [e for e in self.log() if e["fault"] == "reset"][0]
        self.assertEqual((entry["part_number"], entry["status"]), (2, 0))
        self.assertGreaterEqual(entry["bytes_received"], 1000)

    def test_fault_status_skip_count(self):
        c = self.client()
        c.put("fs.txt", b"x")
        self.fault(op="GetObject", action="status", status=503, skip=1, count=2)
        self.assertEqual(c.get("fs.txt").status, 200)                      # skipped
        self.assertError(c.get("fs.txt"), 503, "ServiceUnavailable")
        self.assertError(c.get("fs.txt"), 503, "ServiceUnavailable")
        self.assertEqual(c.get("fs.txt").status, 200)                      # exhausted
        self.fault(op="*", action="status", status=500)
        r = c.put("fs2.txt", b"y" * 200000)                                 # body drained, keep-alive ok
        self.assertError(r, 500, "InternalError")
        self.assertIsNotNone(c.conn)
        self.assertError(c.get("fs2.txt"), 404, "NoSuchKey")               # the failed put stored nothing
        faults = self.ctl("GET", "faults")[1]
        self.assertEqual([f["fired"] for f in faults], [2, 1])

    def test_fault_match_key_and_range_start(self):
        """A rule's "key" narrows it to one key (any op with "*"), "range_start" to the
        GetObject whose Range starts at that byte; skip and count work as ever."""
        c = self.client()
        body = pattern(1000, 3)
        c.put("mk-a.bin", body)
        c.put("mk-b.bin", body)
        self.fault(op="GetObject", key="mk-b.bin", action="status", status=503)
        self.assertEqual(c.get("mk-a.bin").status, 200)
        self.assertError(c.get("mk-b.bin"), 503, "ServiceUnavailable")
        self.assertEqual(c.get("mk-b.bin").status, 200)                    # count was 1
        self.fault(op="GetObject", range_start=500, action="status", status=503, skip=1, count=2)
        self.assertEqual(c.get("mk-b.bin", {"Range": "bytes=0-499"}).status, 206)
        self.assertEqual(c.get("mk-b.bin", {"Range": "bytes=500-999"}).status, 206)   # skipped
        self.assertEqual(c.get("mk-b.bin").status, 200)                    # no Range
        self.assertEqual(c.get("mk-b.bin", {"Range": "bytes=-500"}).status, 206)       # a suffix: no start
        self.assertError(c.get("mk-a.bin", {"Range": "bytes=500-999"}), 503, "ServiceUnavailable")
        self.assertError(c.get("mk-b.bin", {"Range": "bytes=500-"}), 503, "ServiceUnavailable")
        self.assertEqual(c.get("mk-b.bin", {"Range": "bytes=500-"}).status, 206)       # exhausted
        self.fault(op="*", key="mk-a.bin", action="status")
        self.fault(op="UploadPart", range_start=0, action="status")        # never matches
        uid = c.initiate("mk-c.bin")
        self.assertEqual(c.upload_part("mk-c.bin", uid, 1, b"x" * 10).status, 200)
        self.assertEqual(c.request("HEAD", "mk-a.bin").status, 500)
        self.assertEqual(c.request("HEAD", "mk-b.bin").status, 200)
        self.assertEqual([(f.get("key"), f.get("range_start"), f["fired"]) for f in self.ctl("GET", "faults")[1]],
                         [("mk-b.bin", None, 1), (None, 500, 2), ("mk-a.bin", None, 1), (None, 0, 0)])
        for bad in ({"key": 5}, {"range_start": -1}, {"range_start": "x"}):
            with self.subTest(bad=bad):
                self.assertEqual(self.ctl("POST", "fault", dict(bad, op="GetObject", action="status"))[0], 400)

    def test_fault_stall(self):
        c = self.client()
        c.put("st.txt", b"x")
        self.fault(op="HeadObject", action="stall", seconds=1.0)
        t0 = time.time()
        self.assertEqual(c.request("HEAD", "st.txt").status, 200)
        self.assertGreaterEqual(time.time() - t0, 0.9)
        self.fault(op="PutObject", action="stall", seconds=0.5, phase="after", then="close")
        t0 = time.time()
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            c.put("st2.txt", b"after")
        c.close()
        self.assertGreaterEqual(time.time() - t0, 0.4)
        self.assertEqual(c.get("st2.txt").body, b"after")                 # processed before the stall

    def test_fault_bad_crc(self):
        c = self.client()
        uid = c.initiate("bc.bin")
        self.fault(op="UploadPart", action="bad_crc")
        data = b"crc" * 1000
        r = c.upload_part("bc.bin", uid, 1, data)
        self.assertEqual(r.status, 200)
        self.assertNotEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(data)))
        p = c.list_parts("bc.bin", uid).xml().find("Part")
        self.assertEqual(p.find("HashCrc64ecma").text, str(crc(data)))     # stored data is right

    def test_fault_no_such_upload(self):
        c = self.client()
        uid = c.initiate("ns.bin")
        self.fault(op="ListParts", action="no_such_upload")
        self.assertError(c.list_parts("ns.bin", uid), 404, "NoSuchUpload")
        self.assertEqual(c.list_parts("ns.bin", uid).status, 200)          # the upload still exists

    def test_fault_drop_reply(self):
        c = self.client()
        key = "dr.bin"
        uid = c.initiate(key)
        data = pattern(1000, 5)
        e = c.upload_part(key, uid, 1, data).headers["etag"]
        self.fault(op="CompleteMultipartUpload", action="drop_reply")
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            c.complete(key, uid, [(1, e)])
        c.close()
        st, obj = self.ctl("GET", "object?bucket=%s&key=%s" % (BUCKET, key))
        self.assertEqual((st, obj["size"], obj["crc64"]), (200, 1000, str(crc(data))))
        self.assertError(c.complete(key, uid, [(1, e)]), 404, "NoSuchUpload")
        self.assertEqual(c.get(key).body, data)
        entry = [x for x in self.log() if x["fault"] == "drop_reply"][0]
        self.assertEqual(entry["status"], 200)

    # -- garble: broken replies, read from a raw socket -------------------------
    def send_signed(self, c, method, key, query=None, body=b"", headers=None, rcvbuf=None):
        """A fresh socket on which one request, signed by client c, has been sent
        (with headers besides the signature's; with a receive buffer of rcvbuf bytes,
        set before connecting); the caller reads the reply and closes the socket."""
        query = dict(query or {})
        headers = dict(headers or {})
        host, url = c.target(key, query, c.bucket)
        c.sign(method, key, query, headers, c.bucket)
        lines = ["%s %s HTTP/1.1" % (method, url), "Host: " + host, "Content-Length: %d" % len(body)]
        lines += ["%s: %s" % kv for kv in headers.items()]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(30)
        s.connect(("127.0.0.1", self.port))
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return s

    @staticmethod
    def read_to_close(s, data=b""):
        """data followed by all that s receives until the server closes."""
        while True:
            got = s.recv(65536)
            if not got:
                return data
            data += got

    @staticmethod
    def read_to_end(s):
        """All that s receives until the server closes, and how it closed: "eof"
        (FIN) or "reset" (RST)."""
        data = b""
        while True:
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                return data, "reset"
            if not got:
                return data, "eof"
            data += got

    def raw(self, c, method, key, query=None, body=b"", headers=None):
        """Sends one signed request on a fresh socket and reads until the server
        closes: (head bytes, body bytes after the blank line)."""
        s = self.send_signed(c, method, key, query, body, headers)
        try:
            data = self.read_to_close(s)
        finally:
            s.close()
        head, sep, rest = data.partition(b"\r\n\r\n")
        self.assertEqual(sep, b"\r\n\r\n", data[:200])
        return head, rest

    @staticmethod
    def head_fields(head):
        return [tuple(x.strip() for x in line.split(b":", 1)) for line in head.split(b"\r\n")[1:]]

    def garble(self, **spec):
        self.fault(action="garble", **spec)

    def test_fault_garble_status_line_processes_first(self):
        c = self.client()
        uid = c.initiate("gs.bin")
        self.garble(op="UploadPart", kind="status_line")
        head, _ = self.raw(c, "PUT", "gs.bin", {"partNumber": "1", "uploadId": uid}, b"s" * 150000)
        self.assertTrue(head.startswith(b"HTTP/1.1 2OO OK\r\n"), head[:40])
        self.assertIn((b"Connection", b"close"), self.head_fields(head))
        self.assertEqual(self.ctl("GET", "uploads")[1][uid]["parts"], [1])     # stored all the same
        e = [x for x in self.log() if x["fault"] == "garble"][0]
        self.assertEqual((e["garble"], e["status"], e["part_number"]), ("status_line", 200, 1))

    def test_fault_garble_huge_and_many_headers(self):
        c = self.client()
        self.garble(op="PutObject", kind="huge_headers")
        head, body = self.raw(c, "PUT", "gh.txt", body=b"huge")
        self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:40])
        self.assertGreater(len(head), 64 * 1024)
        self.assertEqual(body, b"")
        self.garble(op="GetObject", kind="many_headers")
        head, body = self.raw(c, "GET", "gh.txt")
        self.assertGreaterEqual(len(self.head_fields(head)), 200)
        self.assertEqual(body, b"huge")
        self.assertEqual(c.get("gh.txt").body, b"huge")                       # the PUT was stored

    def test_fault_garble_bad_chunk(self):
        c = self.client()
        c.put("gc.txt", b"chunky")
        self.garble(op="GetObject", kind="bad_chunk")
        head, body = self.raw(c, "GET", "gc.txt")
        names = [n.lower() for n, _ in self.head_fields(head)]
        self.assertIn(b"transfer-encoding", names)
        self.assertNotIn(b"content-length", names)
        size = body.split(b"\r\n", 1)[0]
        with self.assertRaises(ValueError):
            int(size, 16)

    def test_fault_garble_bad_xml(self):
        c = self.client()
        for at in (None, "UploadId", "InitiateMultipartUploadResult"):
            self.ctl("POST", "reset")
            self.garble(op="InitiateMultipartUpload", kind="bad_xml", **({"at": at} if at else {}))
            head, body = self.raw(c, "POST", "gx.bin", {"uploads": ""})
            self.assertTrue(head.startswith(b"HTTP/1.1 200 "), head[:40])
            self.assertIn((b"Content-Length", str(len(body)).encode()), self.head_fields(head))
            with self.assertRaises(ET.ParseError):
                ET.fromstring(body)
            self.assertGreater(body.rfind(b"<"), body.rfind(b">"), body)          # ends inside a tag
            if at:
                self.assertIn(b"</" + at[:2].encode(), body[-len(at) - 3:])
            uid = self.log()[0]["upload_id"]
            self.assertIn(uid, self.ctl("GET", "uploads")[1])                    # created all the same
        uid = c.initiate("gx.bin")
        c.upload_part("gx.bin", uid, 1, b"p" * 1000)
        self.garble(op="ListParts", kind="bad_xml")
        head, body = self.raw(c, "GET", "gx.bin", {"uploadId": uid})
        self.assertTrue(body.startswith(b"<?xml") and b"ListPartsResult" in body, body)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(body)

    def test_fault_garble_truncated_and_conflicting_length(self):
        c = self.client()
        c.put("gt.txt", b"t" * 5000)
        self.garble(op="GetObject", kind="truncated_body")
        head, body = self.raw(c, "GET", "gt.txt")
        lengths = [int(v) for n, v in self.head_fields(head) if n.lower() == b"content-length"]
        self.assertEqual(len(lengths), 1)
        self.assertGreater(lengths[0], len(body))
        self.assertEqual(body, b"t" * len(body))
        self.garble(op="UploadPart", kind="truncated_body")
        uid = c.initiate("gt.bin")
        head, body = self.raw(c, "PUT", "gt.bin", {"partNumber": "2", "uploadId": uid}, b"x" * 100)
        lengths = [int(v) for n, v in self.head_fields(head) if n.lower() == b"content-length"]
        self.assertGreater(lengths[0], len(body))                            # even for an empty reply body
        self.assertEqual(self.ctl("GET", "uploads")[1][uid]["parts"], [2])
        self.garble(op="GetObject", kind="conflicting_length")
        head, body = self.raw(c, "GET", "gt.txt")
        lengths = [int(v) for n, v in self.head_fields(head) if n.lower() == b"content-length"]
        self.assertEqual(len(lengths), 2)
        self.assertNotEqual(lengths[0], lengths[1])
        self.assertIn(len(body), lengths)

    def test_fault_garble_error_reply_and_validation(self):
        c = self.client()
        self.garble(op="ListParts", kind="status_line")
        head, body = self.raw(c, "GET", "gv.bin", {"uploadId": "NOPE"})
        self.assertTrue(head.startswith(b"HTTP/1.1 2OO OK"))
        self.assertIn(b"NoSuchUpload", body)                                 # the real reply, garbled
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "garble"})[0], 400)
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "garble",
                                                    "kind": "nonsense"})[0], 400)

    # -- faults of a ranged download ----------------------------------------------
    def get_raw(self, c, key, rng=None, end="eof"):
        """A GET of key (with Range rng) on a fresh socket, read until the server
        closes, which it must do as end says ("eof" or "reset"): (status line, header
        fields as {lower-case name: value}, body bytes)."""
        s = self.send_signed(c, "GET", key, headers={"Range": rng} if rng else None)
        try:
            data, how = self.read_to_end(s)
        finally:
            s.close()
        self.assertEqual(how, end, data[:200])
        head, sep, body = data.partition(b"\r\n\r\n")
        self.assertEqual(sep, b"\r\n\r\n", data[:200])
        fields = {n.decode().lower(): v.decode() for n, v in self.head_fields(head)}
        return head.split(b"\r\n", 1)[0].decode(), fields, body

    def test_fault_reset_mid_reply(self):
        """reset with "phase": "reply": the whole head, then reply_bytes of the body
        (default half), then an RST; the head promises the whole range."""
        c = self.client()
        obj = pattern(300000, 9)
        c.put("rr.bin", obj)
        self.fault(op="GetObject", action="reset", phase="reply", reply_bytes=12345, range_start=1000)
        status, fields, body = self.get_raw(c, "rr.bin", "bytes=1000-100999", end="reset")
        self.assertEqual(status, "HTTP/1.1 206 Partial Content")
        self.assertEqual((fields["content-length"], fields["content-range"]), ("100000", "bytes 1000-100999/300000"))
        self.assertEqual(fields["x-oss-hash-crc64ecma"], str(crc(obj)))
        self.assertNotIn("connection", fields)                      # nothing announced
        self.assertEqual(body, obj[1000:1000 + 12345])
        e = self.log()[-1]
        self.assertEqual((e["fault"], e["status"], e["body_sent"]), ("reset", 206, 12345))
        # The default: half of the body; a whole-object GET.
        self.fault(op="GetObject", action="reset", phase="reply")
        status, fields, body = self.get_raw(c, "rr.bin", end="reset")
        self.assertEqual((status, fields["content-length"]), ("HTTP/1.1 200 OK", "300000"))
        self.assertEqual(body, obj[:150000])
        # More than the body: all of it, then the RST all the same; 0: the head alone.
        for n, rng, expect in ((10 ** 9, "bytes=0-99", obj[:100]), (0, "bytes=0-99", b"")):
            self.fault(op="GetObject", action="reset", phase="reply", reply_bytes=n)
            status, fields, body = self.get_raw(c, "rr.bin", rng, end="reset")
            self.assertEqual((status, fields["content-length"], body), ("HTTP/1.1 206 Partial Content", "100", expect))
        self.assertEqual(c.get("rr.bin", {"Range": "bytes=0-99"}).body, obj[:100])       # count was 1
        # Any call is handled first (the part is stored: its head, with no body, then
        # the RST); an error reply is cut too.
        uid = c.initiate("rr-part.bin")
        self.fault(op="UploadPart", action="reset", phase="reply")
        s = self.send_signed(c, "PUT", "rr-part.bin", {"partNumber": "1", "uploadId": uid}, b"p" * 5000)
        try:
            data, how = self.read_to_end(s)
        finally:
            s.close()
        self.assertEqual(how, "reset")
        self.assertTrue(data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\n"), data)
        self.assertEqual(self.ctl("GET", "uploads")[1][uid]["parts"], [1])
        self.fault(op="GetObject", action="reset", phase="reply", reply_bytes=20)
        status, fields, body = self.get_raw(c, "rr-missing.bin", end="reset")
        self.assertEqual((status, len(body)), ("HTTP/1.1 404 Not Found", 20))
        self.assertTrue(int(fields["content-length"]) > 20 and body.startswith(b"<?xml"))
        # A client gone before it read the reply does not hold the request up.
        self.fault(op="GetObject", action="reset", phase="reply", reply_bytes=290000)
        s = self.send_signed(c, "GET", "rr.bin", rcvbuf=4096)
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200 OK"))
        s.close()                               # with unread data: an RST to the server
        t0 = time.monotonic()
        self.assertEqual(self.ctl("GET", "idle?timeout=20")[1], {"idle": True, "busy": 0})
        self.assertLess(time.monotonic() - t0, 5)
        for bad in ({"phase": "later"}, {"phase": "reply", "reply_bytes": -1}, {"after_bytes": -1}):
            with self.subTest(bad=bad):
                self.assertEqual(self.ctl("POST", "fault", dict(bad, op="GetObject", action="reset"))[0], 400)

    def test_fault_flip_bit(self):
        """flip_bit: exactly one bit of the body differs, at the chosen offset (counted
        from the range's start) or the middle; the head is the true one and the
        connection goes on."""
        c = self.client()
        obj = pattern(200000, 21)
        c.put("fb.bin", obj)
        etag = '"%s"' % hashlib.md5(obj).hexdigest().upper()

        def flipped_bits(got, want):
            return [(i, bin(a ^ b).count("1"), a ^ b) for i, (a, b) in enumerate(zip(got, want)) if a != b]

        self.fault(op="GetObject", action="flip_bit", range_start=5000, offset=777, bit=3)
        r = c.get("fb.bin", {"Range": "bytes=5000-69999"})
        self.assertEqual((r.status, r.headers["content-length"], r.headers["content-range"]),
                         (206, "65000", "bytes 5000-69999/200000"))
        self.assertEqual((r.headers["x-oss-hash-crc64ecma"], r.headers["etag"]), (str(crc(obj)), etag))
        self.assertEqual(len(r.body), 65000)
        self.assertEqual(flipped_bits(r.body, obj[5000:70000]), [(777, 1, 1 << 3)])
        self.assertEqual(self.log()[-1]["flipped"], {"offset": 777, "bit": 3})
        self.assertIsNotNone(c.conn)                                            # kept alive
        conn = c.conn
        self.assertEqual(c.get("fb.bin", {"Range": "bytes=5000-69999"}).body, obj[5000:70000])   # count was 1
        self.assertIs(c.conn, conn)
        # The default: bit 0 of the middle byte; a whole-object GET.
        self.fault(op="GetObject", action="flip_bit")
        r = c.get("fb.bin")
        self.assertEqual((r.status, r.headers["content-length"]), (200, "200000"))
        self.assertEqual(flipped_bits(r.body, obj), [(100000, 1, 1)])
        # An offset past the end: the last byte.
        self.fault(op="GetObject", action="flip_bit", offset=10 ** 9, bit=7)
        r = c.get("fb.bin", {"Range": "bytes=-100"})
        self.assertEqual(flipped_bits(r.body, obj[-100:]), [(99, 1, 0x80)])
        # No body (HEAD): nothing to flip, the reply as it is.
        self.fault(op="HeadObject", action="flip_bit")
        h = c.request("HEAD", "fb.bin")
        self.assertEqual((h.status, h.headers["content-length"], h.body), (200, "200000", b""))
        self.assertIsNone(self.log()[-1]["flipped"])
        for bad in ({"bit": 8}, {"bit": -1}, {"offset": -1}):
            with self.subTest(bad=bad):
                self.assertEqual(self.ctl("POST", "fault", dict(bad, op="GetObject", action="flip_bit"))[0], 400)

    def test_fault_no_crc_with_another_action(self):
        """"no_crc": true on any action: the fault's reply without x-oss-hash-crc64ecma
        (a flipped bit, a lying length), the next reply with it again; anything but a
        boolean is refused."""
        c = self.client()
        obj = pattern(50000, 23)
        c.put("nc.bin", obj)
        self.fault(op="GetObject", action="flip_bit", offset=10, bit=0, no_crc=True)
        r = c.get("nc.bin")
        self.assertEqual((r.status, r.headers["content-length"]), (200, "50000"))
        self.assertNotIn("x-oss-hash-crc64ecma", r.headers)
        self.assertEqual([i for i, (a, b) in enumerate(zip(r.body, obj)) if a != b], [10])
        self.fault(op="GetObject", action="garble", kind="long_body", bytes=30, no_crc=True)
        r = c.get("nc.bin")
        self.assertEqual((r.status, r.headers["content-length"]), (200, "50030"))
        self.assertNotIn("x-oss-hash-crc64ecma", r.headers)
        self.assertEqual(r.body, obj + b"x" * 30)
        r = c.get("nc.bin")
        self.assertEqual((r.body, r.headers["x-oss-hash-crc64ecma"]), (obj, str(crc(obj))))
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "flip_bit", "no_crc": 1})[0], 400)

    def test_fault_garble_truncated_ranged_get(self):
        """truncated_body on a ranged GET: the head promises the range (206,
        Content-Length, Content-Range), fewer bytes come, then a clean close (FIN); and
        long_body, more bytes than the range."""
        c = self.client()
        obj = pattern(100000, 33)
        c.put("tb.bin", obj)
        self.garble(op="GetObject", kind="truncated_body", bytes=1234, range_start=20000)
        status, fields, body = self.get_raw(c, "tb.bin", "bytes=20000-49999", end="eof")
        self.assertEqual(status, "HTTP/1.1 206 Partial Content")
        self.assertEqual((fields["content-length"], fields["content-range"]), ("30000", "bytes 20000-49999/100000"))
        self.assertEqual((fields["x-oss-hash-crc64ecma"], fields["connection"]), (str(crc(obj)), "close"))
        self.assertEqual(body, obj[20000:21234])
        e = self.log()[-1]
        self.assertEqual((e["garble"], e["status"], e["body_sent"]), ("truncated_body", 206, 1234))
        # The default: half; a whole-object GET; bytes past the body: all but one.
        for spec, rng, length, expect in (({}, "bytes=0-9999", "10000", obj[:5000]),
                                          ({}, None, "100000", obj[:50000]),
                                          ({"bytes": 10 ** 9}, "bytes=-100", "100", obj[-100:-1]),
                                          ({"bytes": 0}, "bytes=0-99", "100", b"")):
            with self.subTest(spec=spec, rng=rng):
                self.garble(op="GetObject", kind="truncated_body", **spec)
                status, fields, body = self.get_raw(c, "tb.bin", rng, end="eof")
                self.assertEqual((fields["content-length"], body), (length, expect))
                self.assertEqual("content-range" in fields, rng is not None)
        self.assertEqual(c.get("tb.bin", {"Range": "bytes=0-9999"}).body, obj[:10000])   # count was 1
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "garble",
                                                    "kind": "truncated_body", "bytes": -1})[0], 400)
        # long_body: the Content-Range as asked, a Content-Length that counts "bytes"
        # more, the range's bytes and then that many more, then a FIN.
        self.garble(op="GetObject", kind="long_body", bytes=77, range_start=20000)
        status, fields, body = self.get_raw(c, "tb.bin", "bytes=20000-49999", end="eof")
        self.assertEqual((status, fields["content-length"], fields["content-range"]),
                         ("HTTP/1.1 206 Partial Content", "30077", "bytes 20000-49999/100000"))
        self.assertEqual((body, self.log()[-1]["garble"]), (obj[20000:50000] + b"x" * 77, "long_body"))
        self.assertEqual(c.get("tb.bin", {"Range": "bytes=0-9"}).body, obj[:10])   # count was 1

    def test_fault_validation_and_reset(self):
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "explode"})[0], 400)
        self.assertEqual(self.ctl("POST", "fault", {"op": "Nope", "action": "reset"})[0], 400)
        self.fault(op="*", action="status")
        self.ctl("POST", "clear-faults")
        self.assertEqual(self.ctl("GET", "faults")[1], [])
        self.assertEqual(self.client().put("ok.txt", b"1").status, 200)
        self.assertEqual(len(self.log()), 1)
        self.ctl("POST", "reset")
        self.assertEqual(self.log(), [])
        self.assertEqual(self.ctl("GET", "nothing-here")[0], 404)

    def test_log_fields(self):
        c = self.client(version=1)
        c.put("lf.txt", b"12345", {"x-oss-meta-q": "w"})
        e = self.log()[0]
        for field in ("op", "method", "bucket", "key", "query", "part_number", "upload_id", "status",
                      "code", "bytes_received", "sign_version", "host", "headers"):
            self.assertIn(field, e)
        self.assertEqual((e["op"], e["method"], e["bucket"], e["key"], e["status"], e["code"],
                          e["bytes_received"], e["sign_version"], e["part_number"], e["upload_id"]),
                         ("PutObject", "PUT", BUCKET, "lf.txt", 200, None, 5, 1, None, None))
        self.assertEqual(e["headers"]["x-oss-meta-q"], "w")
        self.assertEqual(e["host"], "127.0.0.1:%d" % self.port)


    # -- time formats ------------------------------------------------------------
    def test_iso_times_have_literal_zero_milliseconds(self):
        # OSS writes XML times to the second with ".000Z"; real milliseconds break
        # oss2's parser.  Upload at a moment with a non-zero millisecond part.
        c = self.client()
        uid = c.initiate("lm.bin")
        while int(time.time() * 1000) % 1000 < 100:
            time.sleep(0.05)
        c.upload_part("lm.bin", uid, 1, b"x" * 100)
        text = c.list_parts("lm.bin", uid).xml().find("Part/LastModified").text
        self.assertRegex(text, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=datetime.timezone.utc)
        self.assertLess(abs(when.timestamp() - time.time()), 120)
        up = c.list_uploads(prefix="lm.bin").xml().find("Upload/Initiated").text
        self.assertRegex(up, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        r = self.client(skew=-3600.4).put("skew.txt", b"s")
        self.assertError(r, 403, "RequestTimeTooSkewed")
        for tag in ("RequestTime", "ServerTime"):
            self.assertRegex(r.text(tag), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        self.assertEqual(oss_server.iso_time(1733213730.987), "2024-12-03T08:15:30.000Z")

    # -- ListMultipartUploads ---------------------------------------------------------
    def make_uploads(self, c, base):
        """Open uploads under base: a twice, b once, c/d, c/e, and one outside base.
        Returns the expected listing order [(key, id)] of those under base."""
        made = []
        for k in ("b", "a", "c/e", "a", "c/d"):
            made.append((base + k, c.initiate(base + k)))
        c.initiate("zz-outside/" + base + "x")
        return sorted(made, key=lambda kv: (kv[0], made.index(kv)))

    @staticmethod
    def listing(x):
        return [(u.find("Key").text, u.find("UploadId").text) for u in x.findall("Upload")]

    def test_list_uploads_order_and_fields(self):
        for version, style in ((4, "path"), (1, "virtual"), (1, "path"), (4, "virtual")):
            with self.subTest(version=version, style=style):
                c = self.client(version=version, style=style)
                base = "lmu-%d-%s/" % (version, style)
                want = self.make_uploads(c, base)
                r = c.list_uploads(prefix=base)
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.headers["content-type"], "application/xml")
                x = r.xml()
                self.assertEqual(x.tag, "ListMultipartUploadsResult")
                self.assertEqual([ch.tag for ch in x][:10],
                                 ["Bucket", "KeyMarker", "UploadIdMarker", "NextKeyMarker",
                                  "NextUploadIdMarker", "Delimiter", "Prefix", "MaxUploads",
                                  "IsTruncated", "Upload"])
                self.assertEqual((x.find("Bucket").text, x.find("Prefix").text, x.find("MaxUploads").text,
                                  x.find("IsTruncated").text), (BUCKET, base, "1000", "false"))
                self.assertEqual(self.listing(x), want)
                # two uploads of one key: in initiation order
                self.assertEqual([k for k, _ in want][:2], [base + "a", base + "a"])
                u = x.find("Upload")
                self.assertEqual([ch.tag for ch in u], ["Key", "UploadId", "StorageClass", "Initiated"])
                self.assertEqual(u.find("StorageClass").text, "Standard")
                e = self.log()[-1]
                self.assertEqual((e["op"], e["status"], e["sign_version"], e["key"]),
                                 ("ListMultipartUploads", 200, version, ""))
                for k, uid in want:
                    c.request("DELETE", k, {"uploadId": uid})

    def test_list_uploads_paging_one_at_a_time(self):
        c = self.client()
        want = self.make_uploads(c, "page/")
        seen, q = [], {"prefix": "page/", "max_uploads": 1}
        for _ in range(20):
            x = c.list_uploads(**q).xml()
            self.assertEqual(x.find("MaxUploads").text, "1")
            got = self.listing(x)
            self.assertEqual(len(got), 1)
            seen += got
            self.assertEqual((x.find("NextKeyMarker").text, x.find("NextUploadIdMarker").text), got[0])
            self.assertEqual(x.find("KeyMarker").text or "", q.get("key_marker", ""))
            self.assertEqual(x.find("UploadIdMarker").text or "", q.get("upload_id_marker", ""))
            if x.find("IsTruncated").text == "false":
                break
            self.assertEqual(x.find("IsTruncated").text, "true")
            q.update(key_marker=got[0][0], upload_id_marker=got[0][1])
        self.assertEqual(seen, want)
        # key-marker alone: after every upload of that key; upload-id-marker alone: ignored
        x = c.list_uploads(prefix="page/", key_marker="page/a").xml()
        self.assertEqual(self.listing(x), [kv for kv in want if kv[0] > "page/a"])
        x = c.list_uploads(prefix="page/", upload_id_marker=want[0][1]).xml()
        self.assertEqual(self.listing(x), want)
        # the second upload of page/a comes after the first one's id
        x = c.list_uploads(prefix="page/", key_marker="page/a", upload_id_marker=want[0][1]).xml()
        self.assertEqual(self.listing(x), want[1:])
        # no prefix: everything, sorted by key
        keys = [k for k, _ in self.listing(c.list_uploads().xml())]
        self.assertEqual(keys, sorted(keys, key=lambda k: k.encode()))
        self.assertIn("zz-outside/page/x", keys)

    def test_list_uploads_delimiter(self):
        c = self.client()
        want = self.make_uploads(c, "dl/")
        x = c.list_uploads(prefix="dl/", delimiter="/").xml()
        self.assertEqual(x.find("Delimiter").text, "/")
        self.assertEqual(self.listing(x), [kv for kv in want if "/c/" not in kv[0]])
        self.assertEqual([p.find("Prefix").text for p in x.findall("CommonPrefixes")], ["dl/c/"])
        # paging one entry at a time: the common prefix counts as one entry, listed once
        entries, q = [], {"prefix": "dl/", "delimiter": "/", "max_uploads": 1}
        for _ in range(10):
            x = c.list_uploads(**q).xml()
            page = self.listing(x) + [p.find("Prefix").text for p in x.findall("CommonPrefixes")]
            self.assertEqual(len(page), 1, ET.tostring(x))
            entries += page
            if x.find("IsTruncated").text == "false":
                break
            q.update(key_marker=x.find("NextKeyMarker").text,
                     upload_id_marker=x.find("NextUploadIdMarker").text or "")
        self.assertEqual(entries, [kv for kv in want if "/c/" not in kv[0]] + ["dl/c/"])
        x = c.list_uploads(delimiter="/").xml()          # no prefix: top-level roll-up
        self.assertIn("dl/", [p.find("Prefix").text for p in x.findall("CommonPrefixes")])
        self.assertNotIn("dl/a", [k for k, _ in self.listing(x)])

    def test_list_uploads_encoding_type_url_and_errors(self):
        c = self.client(version=1)
        key = "enc dir/f\u00fc+1.bin"
        uid = c.initiate(key)
        x = c.list_uploads(prefix="enc dir/", encoding_type="url", key_marker="enc a").xml()
        self.assertEqual(x.find("EncodingType").text, "url")
        self.assertEqual(x.find("Prefix").text, "enc%20dir%2F")
        self.assertEqual(x.find("KeyMarker").text, "enc%20a")
        self.assertEqual(self.listing(x), [("enc%20dir%2Ff%C3%BC%2B1.bin", uid)])
        self.assertEqual(x.find("NextKeyMarker").text, "enc%20dir%2Ff%C3%BC%2B1.bin")
        x = c.list_uploads(prefix="enc dir/").xml()
        self.assertIsNone(x.find("EncodingType"))
        self.assertEqual(self.listing(x), [(key, uid)])
        for bad in ("0", "1001", "x"):
            self.assertError(c.list_uploads(max_uploads=bad), 400, "InvalidArgument")
        self.assertEqual(c.list_uploads(max_uploads=1000).status, 200)

    def test_list_uploads_signing(self):
        # V1 signs "uploads" but not prefix or the markers; V4 signs every parameter.
        for version in (1, 4):
            c = self.client(version=version)
            r = c.request("GET", "", {"uploads": ""}, send_query={"uploads": "", "prefix": "p/",
                                                                  "max-uploads": "5", "key-marker": "k"})
            if version == 1:
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(r.xml().find("Prefix").text, "p/")
            else:
                self.assertError(r, 403, "SignatureDoesNotMatch")
            r = c.request("GET", "", {"uploads": "", "prefix": "p/"}, send_query={"prefix": "p/"})
            self.assertError(r, 403, "SignatureDoesNotMatch")          # "uploads" is signed in both
            bad = self.client(version=version, sk="wrong")
            self.assertError(bad.list_uploads(), 403, "SignatureDoesNotMatch")

    def test_list_uploads_faults(self):
        c = self.client()
        c.initiate("lf/a")
        self.fault(op="ListMultipartUploads", action="status", status=503)
        self.assertError(c.list_uploads(prefix="lf/"), 503, "ServiceUnavailable")
        self.assertEqual(c.list_uploads(prefix="lf/").status, 200)
        self.fault(op="ListMultipartUploads", action="xml_hostile")
        r = c.list_uploads(prefix="lf/")
        self.assertIn(b"<Upload><Extra><Key>decoy</Key>", r.body)
        self.assertEqual([u.find("Key").text for u in r.xml().findall("Upload")], ["lf/a"])
        self.assertEqual([e["fault"] for e in self.log()], [None, "status", None, "xml_hostile"])

    # -- the newer faults -----------------------------------------------------------
    def test_fault_trickle_head(self):
        c = self.client()
        c.put("tr.txt", b"trickle")
        self.fault(op="GetObject", action="trickle", rate=20, seconds=2)
        s = self.send_signed(c, "GET", "tr.txt")
        t0 = time.time()
        first = s.recv(100)
        self.assertLess(time.time() - t0, 5)
        self.assertLessEqual(len(first), 3)                     # one byte, not the whole head
        # meanwhile the server answers other connections at once
        t1 = time.time()
        self.assertEqual(self.client().get("tr.txt").body, b"trickle")
        self.assertLess(time.time() - t1, 5)
        data = self.read_to_close(s, first)
        took = time.time() - t0
        s.close()
        self.assertGreaterEqual(took, 1.5)
        self.assertLess(took, 30)
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)
        self.assertLessEqual(len(data), 20 * 2 + 10)             # cut off after "seconds"
        e = [x for x in self.log() if x["fault"] == "trickle"][0]
        self.assertEqual(e["trickled"]["sent"], len(data))
        self.assertGreater(e["trickled"]["total"], len(data))

    def test_fault_trickle_whole_reply_and_body_phase(self):
        c = self.client()
        body = pattern(600, 3)
        c.put("tb.bin", body)
        self.fault(op="GetObject", action="trickle", rate=4000)
        head, rest = self.raw(c, "GET", "tb.bin")                 # complete, then closed
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertIn((b"Connection", b"close"), self.head_fields(head))
        self.assertEqual(rest, body)
        self.fault(op="GetObject", action="trickle", phase="body", rate=300, seconds=60)
        s = self.send_signed(c, "GET", "tb.bin")
        t0 = time.time()
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head_time = time.time() - t0
        data = self.read_to_close(s, data)
        took = time.time() - t0
        s.close()
        self.assertLess(head_time, 1.5)                           # the head at full speed
        self.assertGreaterEqual(took, 1.5)                        # 600 bytes at 300 B/s
        self.assertLess(took, 40)
        self.assertEqual(data.partition(b"\r\n\r\n")[2], body)
        # a trickled error reply
        self.fault(op="ListParts", action="trickle", rate=100000)
        head, rest = self.raw(c, "GET", "tb.bin", {"uploadId": "NOPE"})
        self.assertTrue(head.startswith(b"HTTP/1.1 404"))
        self.assertIn(b"NoSuchUpload", rest)
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "trickle", "phase": "x"})[0], 400)

    def test_fault_poison_etag(self):
        c = self.client()
        key = "pe.bin"
        uid = c.initiate(key)
        big, last = pattern(102400, 1), pattern(500, 2)
        self.fault(op="UploadPart", part=2, action="poison_etag")
        e1 = c.upload_part(key, uid, 1, big).headers["etag"]
        r = c.upload_part(key, uid, 2, last)
        real = '"%s"' % hashlib.md5(last).hexdigest().upper()
        sent = r.headers["etag"]
        self.assertEqual(r.status, 200)
        self.assertRegex(sent, r'^"[0-9A-F]{32}"$')
        self.assertNotEqual(sent, real)
        self.assertEqual(sum(a != b for a, b in zip(sent, real)), 1)
        self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(last)))   # the part itself is fine
        listed = [p.find("ETag").text for p in c.list_parts(key, uid).xml().findall("Part")]
        self.assertEqual(listed, [e1, real])
        self.assertEqual([e.get("etag_sent") for e in self.log() if e["op"] == "UploadPart"], [None, sent])
        self.assertError(c.complete(key, uid, [(1, e1), (2, sent)]), 400, "InvalidPart")
        self.assertError(c.complete(key, uid, [(2, real), (1, e1)]), 400, "InvalidPartOrder")
        self.assertEqual(c.complete(key, uid, [(1, e1), (2, real)]).status, 200)
        self.assertEqual(c.get(key).body, big + last)

    def complete_in_thread(self, c, key, uid, parts):
        import threading
        out = {}

        def run():
            out["reply"] = c.complete(key, uid, parts)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        deadline = time.time() + 20
        while time.time() < deadline and not [e for e in self.log() if e.get("completing")]:
            time.sleep(0.02)
        return t, out

    def test_fault_slow_complete_half(self):
        c, other = self.client(), self.client()
        key = "sc.bin"
        c.put(key, b"previous version")
        uid = c.initiate(key)
        blobs = [pattern(102400, i) for i in range(1, 5)]
        parts = [(i, c.upload_part(key, uid, i, b).headers["etag"]) for i, b in enumerate(blobs, 1)]
        self.fault(op="CompleteMultipartUpload", action="slow_complete", seconds=2)
        t0 = time.time()
        t, out = self.complete_in_thread(c, key, uid, parts)
        lp = other.list_parts(key, uid)
        self.assertEqual(lp.status, 200)
        self.assertEqual([p.find("PartNumber").text for p in lp.xml().findall("Part")], ["1", "2"])
        self.assertEqual(other.get(key).body, b"previous version")
        self.assertEqual(other.request("HEAD", key).headers["content-length"], "16")
        self.assertIn(uid, self.ctl("GET", "uploads")[1])
        # a second Complete waits for the first, then finds the upload gone
        self.assertError(other.complete(key, uid, parts), 404, "NoSuchUpload")
        t.join(60)
        self.assertGreaterEqual(time.time() - t0, 1.5)
        r = out["reply"]
        self.assertEqual(r.status, 200, r.body)
        whole = b"".join(blobs)
        self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(whole)))
        g = other.get(key)
        self.assertEqual((g.body, g.headers["x-oss-hash-crc64ecma"]), (whole, str(crc(whole))))
        self.assertEqual(g.headers["etag"], r.xml().find("ETag").text)
        self.assertNotIn(uid, self.ctl("GET", "uploads")[1])
        self.assertError(other.list_parts(key, uid), 404, "NoSuchUpload")
        self.assertEqual([e.get("completing") for e in self.log() if e["op"] == "CompleteMultipartUpload"],
                         ["half", None])

    def test_fault_slow_complete_none_and_client_gone(self):
        c = self.client()
        key = "scn.bin"
        uid = c.initiate(key)
        data = pattern(5000, 9)
        e = c.upload_part(key, uid, 1, data).headers["etag"]
        self.fault(op="CompleteMultipartUpload", action="slow_complete", seconds=2, visible="none")
        body = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
                "</CompleteMultipartUpload>" % e).encode()
        s = self.send_signed(c, "POST", key, {"uploadId": uid}, body)
        deadline = time.time() + 20
        while time.time() < deadline and not [x for x in self.log() if x.get("completing")]:
            time.sleep(0.02)
        s.close()                                              # the client goes away
        other = self.client()
        self.assertError(other.list_parts(key, uid), 404, "NoSuchUpload")
        self.assertError(other.get(key), 404, "NoSuchKey")
        self.assertEqual(other.request("HEAD", key).status, 404)
        st, res = self.ctl("GET", "idle?timeout=30")
        self.assertTrue(res["idle"], res)
        self.assertEqual(other.get(key).body, data)            # completed all the same
        self.assertNotIn(uid, self.ctl("GET", "uploads")[1])
        self.assertEqual(self.ctl("POST", "fault", {"op": "CompleteMultipartUpload", "action": "slow_complete",
                                                    "visible": "some"})[0], 400)

    def test_fault_close_delimited(self):
        c = self.client()
        body = pattern(10000, 4)
        c.put("cd.bin", body)
        for cut, want in ((None, body[:5000]), (1, body), (0.25, body[:2500])):
            with self.subTest(cut=cut):
                self.fault(op="GetObject", action="close_delimited", **({} if cut is None else {"cut": cut}))
                head, rest = self.raw(c, "GET", "cd.bin")
                names = [n.lower() for n, _ in self.head_fields(head)]
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
                for absent in (b"content-length", b"transfer-encoding", b"etag", b"x-oss-hash-crc64ecma",
                               b"content-md5"):
                    self.assertNotIn(absent, names)
                self.assertIn((b"Connection", b"close"), self.head_fields(head))
                self.assertEqual(rest, want)
        self.assertEqual(c.get("cd.bin").body, body)
        self.assertEqual(self.ctl("POST", "fault", {"op": "GetObject", "action": "close_delimited",
                                                    "cut": 2})[0], 400)

    @staticmethod
    def parts_of(x):
        return [{t: (p.find(t).text or "") for t in ("PartNumber", "ETag", "Size", "HashCrc64ecma", "LastModified")}
                for p in x.findall("Part")]

    def test_fault_xml_hostile(self):
        c = self.client()
        key = "xh.bin"
        uid = c.initiate(key)
        for i in (1, 2, 3):
            c.upload_part(key, uid, i, pattern(1000 * i, i))
        plain = c.list_parts(key, uid)
        self.fault(op="ListParts", action="xml_hostile")
        hostile = c.list_parts(key, uid)
        self.assertEqual(hostile.status, 200)
        self.assertIn(b"<Part><Extra><Size>999</Size><PartNumber>9999</PartNumber><ETag>\"decoy\"</ETag>",
                      hostile.body)
        self.assertIn(b"<ETag><!-- c -->\"", hostile.body)
        self.assertIn(b"<?pi x?></ETag>", hostile.body)
        # the same meaning for a parser that skips unknown elements, comments and PIs
        hx = hostile.xml()
        for p in hx.findall("Part"):
            p.remove(p.find("Extra"))
        self.assertEqual(self.parts_of(hx), self.parts_of(plain.xml()))
        for tag in ("IsTruncated", "NextPartNumberMarker", "UploadId", "MaxParts"):
            self.assertEqual(hx.find(tag).text, plain.xml().find(tag).text)
        self.fault(op="ListParts", action="xml_hostile", empty_crc=True)
        body = c.list_parts(key, uid).body
        self.assertEqual(body.count(b"<HashCrc64ecma/>"), 3)
        # root decoys on Initiate: the real UploadId is still the root's own child
        self.fault(op="InitiateMultipartUpload", action="xml_hostile", root=True)
        r = c.request("POST", "xh2.bin", {"uploads": ""})
        x = r.xml()
        self.assertEqual(x.find("Extra/UploadId").text, "decoy")
        self.assertIn(x.find("UploadId").text, self.ctl("GET", "uploads")[1])
        self.assertLess(r.body.index(b"<Extra>"), r.body.index(b"<UploadId><!--"))
        # error replies too
        self.fault(op="ListParts", action="xml_hostile")
        r = c.list_parts(key, "NOPE")
        self.assertEqual((r.status, r.code()), (404, "NoSuchUpload"))
        self.assertIn(b"<Code><!-- c -->NoSuchUpload<?pi x?></Code>", r.body)

    def test_fault_pad_megabytes(self):
        c = self.client()
        key = "pad.bin"
        uid = c.initiate(key)
        for i in (1, 2, 3, 4):
            c.upload_part(key, uid, i, pattern(100, i))
        plain = c.list_parts(key, uid)
        self.fault(op="ListParts", action="pad", bytes=4 << 20)           # one place: before </ListPartsResult>
        r = c.list_parts(key, uid)
        self.assertEqual(len(r.body), len(plain.body) + (4 << 20))
        self.assertIn(b" " * 100000 + b"</ListPartsResult>", r.body)
        self.assertEqual(self.parts_of(r.xml()), self.parts_of(plain.xml()))
        self.fault(op="ListParts", action="pad", bytes=3 << 20, where="parts")
        r = c.list_parts(key, uid)
        self.assertEqual(len(r.body), len(plain.body) + (3 << 20))
        self.assertEqual(self.parts_of(r.xml()), self.parts_of(plain.xml()))
        gaps = [len(g) - len(g.lstrip()) for g in r.body.split(b"</Part>")[1:]]
        self.assertEqual(len(gaps), 4)
        self.assertTrue(all(g >= (3 << 20) // 4 - 1 for g in gaps), gaps)
        self.assertEqual(self.ctl("POST", "fault", {"op": "ListParts", "action": "pad", "where": "x"})[0], 400)

    # -- concurrency: in_flight and barrier ---------------------------------------
    def in_background(self, fn, *args):
        """Runs fn(*args) on a thread; returns the thread and a dict that gets its result."""
        import threading
        out = {}

        def run():
            out["result"] = fn(*args)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, out

    def wait_held(self, n):
        """Waits until n logged requests are held at a barrier; returns the log."""
        deadline = time.time() + 30
        while True:
            log = self.log()
            held = held_at_barrier(log)
            if len(held) >= n or time.time() > deadline:
                self.assertEqual(len(held), n, log)
                return log
            time.sleep(0.02)

    def assertIdle(self):
        st, res = self.ctl("GET", "idle?timeout=30")
        self.assertTrue(res["idle"], res)

    def test_log_in_flight(self):
        """in_flight is 1 for requests one after another; with two requests held at a
        barrier, one that arrives counts them and itself (3)."""
        self.assertIdle()
        c = self.client()
        c.put("if.txt", b"x")
        c.get("if.txt")
        self.assertEqual([e["in_flight"] for e in self.log()], [1, 1])
        self.ctl("POST", "reset")
        self.fault(op="HeadObject", action="barrier", n=3, count=3, seconds=600)
        first = self.in_background(self.client().request, "HEAD", "if.txt")
        self.wait_held(1)
        second = self.in_background(self.client().request, "HEAD", "if.txt")
        self.wait_held(2)
        self.assertEqual(c.put("if2.txt", b"y").status, 200)          # not held: another op
        third = self.client().request("HEAD", "if.txt")
        for t, out in (first, second):
            t.join(60)
            self.assertEqual(out["result"].status, 200)
        self.assertEqual(third.status, 200)
        log = self.log()
        self.assertEqual([(e["op"], e["in_flight"]) for e in log][:3],
                         [("HeadObject", 1), ("HeadObject", 2), ("PutObject", 3)])
        self.assertIn(log[3]["in_flight"], (3, 4))      # the put may not have left yet
        self.assertEqual([e["barrier"] for e in log if e["op"] == "HeadObject"],
                         [{"group": 3, "released": "full"}] * 3)

    def test_fault_barrier_groups_and_bodies(self):
        """A barrier of n=2 with count 4: four UploadParts sent at once are released in
        two groups of two, their bodies read after the wait and stored intact; a fifth
        request no longer matches and passes at once."""
        c = self.client()
        key = "bar.bin"
        uid = c.initiate(key)
        self.fault(op="UploadPart", action="barrier", n=2, count=4, seconds=600)
        blobs = {i: pattern(150000, i) for i in (1, 2, 3, 4)}
        runs = [self.in_background(self.client().upload_part, key, uid, i, blobs[i]) for i in blobs]
        for t, out in runs:
            t.join(60)
            self.assertEqual(out["result"].status, 200)
        self.assertEqual(c.upload_part(key, uid, 5, b"last").status, 200)
        log = [e for e in self.log() if e["op"] == "UploadPart"]
        self.assertEqual([e["barrier"] for e in log[:4]], [{"group": 2, "released": "full"}] * 4)
        self.assertEqual((log[4]["fault"], log[4].get("barrier")), (None, None))
        self.assertEqual([e["bytes_received"] for e in sorted(log[:4], key=lambda e: e["part_number"])],
                         [150000] * 4)
        self.assertGreaterEqual(max(e["in_flight"] for e in log[:4]), 2)
        parts = c.list_parts(key, uid).xml().findall("Part")
        self.assertEqual([(p.find("PartNumber").text, p.find("HashCrc64ecma").text) for p in parts],
                         [(str(i), str(crc(blobs[i]))) for i in blobs] + [("5", str(crc(b"last")))])
        self.assertEqual(self.ctl("GET", "faults")[1][0]["fired"], 4)

    def test_fault_barrier_timeout_clear_and_validation(self):
        """A barrier that never fills releases its group after "seconds" ("timeout");
        clear-faults and reset release held requests at once ("reset"), which are then
        handled normally; n below 1 or seconds not positive are refused."""
        c = self.client()
        c.put("bt.txt", b"barrier")
        self.fault(op="GetObject", action="barrier", n=5, seconds=0.3)
        r = c.get("bt.txt")
        self.assertEqual((r.status, r.body), (200, b"barrier"))
        self.assertEqual(self.log()[-1]["barrier"], {"group": 1, "released": "timeout"})
        for how in ("clear-faults", "reset"):
            self.ctl("POST", "reset")
            self.fault(op="GetObject", action="barrier", n=2, seconds=600)
            t, out = self.in_background(self.client().get, "bt.txt")
            self.wait_held(1)
            self.ctl("POST", how)
            t.join(60)
            self.assertEqual((out["result"].status, out["result"].body), (200, b"barrier"))
            if how == "clear-faults":
                self.assertEqual(self.log()[-1]["barrier"], {"group": 1, "released": "reset"})
        self.assertIdle()
        for bad in ({"n": 0}, {"seconds": 0}, {"seconds": -1}):
            spec = dict({"op": "GetObject", "action": "barrier"}, **bad)
            self.assertEqual(self.ctl("POST", "fault", spec)[0], 400, bad)


class TLSClient(Client):
    """The signing client over HTTPS to the TLS port; the name checked is localhost."""

    def __init__(self, port, context, **kw):
        super().__init__(port, **kw)
        self.context = context
        self.session = None         # set to resume that session on the next connection

    def connection(self, fresh=False):
        if fresh or self.conn is None:
            if self.conn is not None:
                self.conn.close()
            conn = http.client.HTTPSConnection("localhost", self.port, context=self.context, timeout=30)
            raw = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            conn.sock = self.context.wrap_socket(raw, server_hostname="localhost", session=self.session)
            self.conn = conn
        return self.conn

    def tls_socket(self):
        return self.conn.sock


def stop_server(proc, tmp):
    """Kills a server started by start_server if it still runs, and removes its files."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(15)
    proc.stdout.close()
    proc.stderr.close()
    shutil.rmtree(tmp, ignore_errors=True)


class TLSListener(unittest.TestCase):
    """The second listener of --tls-cert/--tls-key, with certificates from make_certs.sh."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            print("\nTLSListener skipped: the openssl command is not installed", flush=True)
            raise unittest.SkipTest("openssl is not installed")
        cls.certs = tempfile.mkdtemp(prefix="oss_server_certs_")
        subprocess.run(["bash", os.path.join(HERE, "make_certs.sh"), cls.certs], check=True)
        cls.tls_port_file = os.path.join(cls.certs, "tls-port")
        cls.proc, cls.port, cls.tmp = start_server([
            "--tls-cert", os.path.join(cls.certs, "server-chain.pem"),
            "--tls-key", os.path.join(cls.certs, "server.key"),
            "--tls-port", "0", "--tls-port-file", cls.tls_port_file])
        line = cls.proc.stdout.readline().decode().strip()
        assert line.startswith("TLS_PORT "), line
        cls.tls_port = int(line.split()[1])

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc, cls.tmp)
        shutil.rmtree(cls.certs, ignore_errors=True)

    def setUp(self):
        self.assertEqual(control(self.port, "POST", "reset")[0], 200)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def context(self, tls12=False, tickets=True):
        ctx = ssl.create_default_context(cafile=os.path.join(self.certs, "ca.pem"))
        if tls12:       # what a TLS 1.2-only client such as BearSSL gets
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if not tickets:  # session IDs only, as BearSSL resumes
            ctx.options |= ssl.OP_NO_TICKET
        return ctx

    def client(self, **kw):
        c = TLSClient(self.tls_port, kw.pop("context", None) or self.context(), **kw)
        self.clients.append(c)
        return c

    def log(self):
        return control(self.port, "GET", "log")[1]

    def counters(self):
        return control(self.port, "GET", "tls")[1]

    def test_port_line_and_file(self):
        with open(self.tls_port_file) as f:
            self.assertEqual(int(f.read().strip()), self.tls_port)
        self.assertNotEqual(self.tls_port, self.port)

    def test_signed_put_over_tls(self):
        for version in (1, 4):
            control(self.port, "POST", "reset")
            c = self.client(version=version)
            body = pattern(70000, version)
            r = c.put("tls/v%d.bin" % version, body)
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.headers["x-oss-hash-crc64ecma"], str(crc(body)))
            self.assertEqual(c.get("tls/v%d.bin" % version).body, body)     # same connection
            log = self.log()
            self.assertEqual([e["op"] for e in log], ["PutObject", "GetObject"])
            for e in log:
                self.assertIs(e["tls"], True)
                self.assertIs(e["tls_resumed"], False)
                self.assertEqual(e["tls_sni"], "localhost")
                self.assertEqual(e["sign_version"], version)
                self.assertTrue(e["tls_version"].startswith("TLSv1."))
            self.assertEqual(log[0]["bytes_received"], 70000)
            self.assertEqual(self.counters(), {"handshakes": 1, "resumed": 0, "failed": 0})
        # the same store and log through the plain port
        plain = Client(self.port)
        self.assertEqual(plain.get("tls/v4.bin").body, pattern(70000, 4))
        plain.close()
        e = self.log()[-1]
        self.assertIs(e["tls"], False)
        self.assertNotIn("tls_resumed", e)

    def test_multipart_and_faults_over_tls(self):
        c = self.client(context=self.context(tls12=True))
        uid = c.initiate("tls/multi.bin")
        control(self.port, "POST", "fault", {"op": "UploadPart", "part": 2, "action": "status", "status": 503})
        parts = [pattern(102400, 1), pattern(5000, 2)]
        self.assertEqual(c.upload_part("tls/multi.bin", uid, 2, parts[1]).code(), "ServiceUnavailable")
        etags = []
        for n, data in enumerate(parts, 1):
            r = c.upload_part("tls/multi.bin", uid, n, data)
            self.assertEqual(r.status, 200, r.body)
            etags.append((n, r.headers["etag"]))
        self.assertEqual(c.complete("tls/multi.bin", uid, etags).status, 200)
        _, obj = control(self.port, "GET", "object?bucket=%s&key=tls/multi.bin" % BUCKET)
        self.assertEqual(obj["md5"], hashlib.md5(b"".join(parts)).hexdigest())
        log = self.log()
        self.assertTrue(all(e["tls"] and e["tls_version"] == "TLSv1.2" for e in log))
        self.assertEqual([e["fault"] for e in log if e["fault"]], ["status"])

    def test_ranged_get_faults_over_tls(self):
        """A ranged GET reset in the middle (every byte written arrives before the
        RST), cut short (then a clean close: close_notify, EOF) and with a bit flipped,
        over TLS.  Python's ssl tells an RST only as an EOF without close_notify
        (SSLEOFError, or ConnectionResetError): "abrupt"."""
        c = self.client()
        obj = pattern(400000, 17)
        self.assertEqual(c.put("tls/range.bin", obj).status, 200)

        def raw_get(rng):
            headers = {"Range": rng}
            host, url = c.target("tls/range.bin", {}, c.bucket)
            c.sign("GET", "tls/range.bin", {}, headers, c.bucket)
            raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=30)
            with self.context().wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False) as s:
                s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n" % (url, host)
                           + "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n").encode())
                data = b""
                while True:
                    try:
                        got = s.recv(65536)
                    except (ConnectionResetError, ssl.SSLEOFError):
                        return data.partition(b"\r\n\r\n"), "abrupt"
                    if not got:
                        return data.partition(b"\r\n\r\n"), "close_notify"
                    data += got

        control(self.port, "POST", "fault", {"op": "GetObject", "action": "reset", "phase": "reply",
                                             "reply_bytes": 150001})
        (head, _, body), how = raw_get("bytes=1000-300999")
        self.assertEqual((how, len(body)), ("abrupt", 150001))
        self.assertTrue(head.startswith(b"HTTP/1.1 206 ") and b"Content-Length: 300000" in head, head)
        self.assertEqual(body, obj[1000:151001])
        control(self.port, "POST", "fault", {"op": "GetObject", "action": "garble", "kind": "truncated_body"})
        (head, _, body), how = raw_get("bytes=1000-300999")
        self.assertEqual((how, body), ("close_notify", obj[1000:151000]))
        self.assertIn(b"Content-Range: bytes 1000-300999/400000", head)
        control(self.port, "POST", "fault", {"op": "GetObject", "action": "flip_bit", "offset": 5, "bit": 6})
        r = c.get("tls/range.bin", {"Range": "bytes=1000-1999"})
        self.assertEqual(r.status, 206)
        self.assertEqual([i for i in range(1000) if r.body[i] != obj[1000 + i]], [5])
        self.assertEqual(r.body[5] ^ obj[1005], 1 << 6)
        self.assertEqual([e["fault"] for e in self.log() if e["fault"]], ["reset", "garble", "flip_bit"])

    def test_session_id_resumption_tls12(self):
        ctx = self.context(tls12=True, tickets=False)
        c = self.client(context=ctx)
        self.assertEqual(c.put("tls/r1", b"one").status, 200)
        sock = c.tls_socket()
        self.assertFalse(sock.session_reused)
        session = sock.session
        self.assertTrue(session.id, "the server gave no session ID")
        c.close()
        c.session = session
        self.assertEqual(c.put("tls/r2", b"two").status, 200)
        self.assertTrue(c.tls_socket().session_reused, "the session was not resumed")
        self.assertEqual([e["tls_resumed"] for e in self.log()], [False, True])
        self.assertEqual(self.counters(), {"handshakes": 2, "resumed": 1, "failed": 0})
        # a server-side close without a reply (close_notify, no RST) keeps the session
        control(self.port, "POST", "fault", {"op": "PutObject", "action": "stall", "seconds": 0,
                                            "then": "close"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
            c.put("tls/r3", b"three")
        c.close()
        self.assertEqual(c.put("tls/r3", b"three").status, 200)
        self.assertTrue(c.tls_socket().session_reused, "no resumption after the server's close")
        self.assertEqual(self.counters(), {"handshakes": 3, "resumed": 2, "failed": 0})

    def test_failed_handshakes_are_counted(self):
        # plain HTTP to the TLS port
        s = socket.create_connection(("127.0.0.1", self.tls_port), timeout=15)
        s.sendall(b"GET /_ossr/log HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(15)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()
        # a client that does not trust the certificate
        untrusting = ssl.create_default_context(cafile=os.path.join(self.certs, "self.pem"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=15) as raw:
                untrusting.wrap_socket(raw, server_hostname="localhost")
        # a connection that says nothing does not hold up others
        idle = socket.create_connection(("127.0.0.1", self.tls_port), timeout=15)
        try:
            c = self.client()
            self.assertEqual(c.put("tls/after-idle", b"x").status, 200)
        finally:
            idle.close()
        deadline = time.time() + 10
        while self.counters()["failed"] < 3 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.counters(), {"handshakes": 1, "resumed": 0, "failed": 3})
        self.assertEqual([e["op"] for e in self.log()], ["PutObject"])

    def test_tls_hello_on_plain_port_is_refused_at_once(self):
        ctx = self.context()
        t0 = time.time()
        with socket.create_connection(("127.0.0.1", self.port), timeout=20) as raw:
            with self.assertRaises(ssl.SSLError):
                ctx.wrap_socket(raw, server_hostname="localhost")
        self.assertLess(time.time() - t0, 5)
        self.assertEqual(self.log(), [])
        # the plain port still works
        self.assertEqual(Client(self.port).put("plain-after-hello", b"p").status, 200)

    def test_reset_clears_counters(self):
        self.assertEqual(self.client().put("tls/c", b"c").status, 200)
        self.assertEqual(self.counters()["handshakes"], 1)
        control(self.port, "POST", "reset")
        self.assertEqual(self.counters(), {"handshakes": 0, "resumed": 0, "failed": 0})

    def test_lifetime_and_shutdown_stop_both_listeners(self):
        tls_args = ["--tls-cert", os.path.join(self.certs, "server.pem"),
                    "--tls-key", os.path.join(self.certs, "server.key")]
        proc, port, tmp = start_server(tls_args, lifetime=1.5)
        try:
            self.assertTrue(proc.stdout.readline().startswith(b"TLS_PORT "))
            self.assertEqual(proc.wait(15), 0)
        finally:
            stop_server(proc, tmp)
        proc, port, tmp = start_server(tls_args)
        try:
            tls_port = int(proc.stdout.readline().split()[1])
            conn = http.client.HTTPSConnection("localhost", tls_port, context=self.context(), timeout=15)
            conn.request("POST", "/_ossr/shutdown", body=b"")
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
            self.assertEqual(proc.wait(15), 0)
        finally:
            stop_server(proc, tmp)

    def test_bad_tls_options(self):
        args = [sys.executable, SERVER, "--port", "0", "--lifetime", "5", "--quiet"]
        p = subprocess.run(args + ["--tls-cert", os.path.join(self.certs, "server.pem")],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--tls-key", p.stderr)
        p = subprocess.run(args + ["--tls-cert", os.path.join(self.certs, "server.pem"),
                                   "--tls-key", os.path.join(self.certs, "other.key")],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("TLS certificate", p.stderr)


class Lifecycle(unittest.TestCase):
    def test_lifetime_expires(self):
        proc, port, tmp = start_server(lifetime=1.5)
        try:
            self.assertEqual(proc.wait(15), 0)
        finally:
            stop_server(proc, tmp)

    def test_sigterm_and_default_credentials(self):
        proc, port, tmp = start_server()
        try:
            c = Client(port)        # test-ak:test-secret is the default pair
            self.assertEqual(c.put("d.txt", b"d").status, 200)
            c.close()
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(15), 0)
        finally:
            stop_server(proc, tmp)

    def test_data_dir_persists(self):
        proc, port, tmp = start_server()
        data_dir = os.path.join(tmp, "data")
        try:
            c = Client(port)
            c.put("keep.txt", b"kept")
            uid = c.initiate("open.bin")
            c.upload_part("open.bin", uid, 1, b"p1")
            c.close()
            proc.terminate()
            proc.wait(15)
            proc.stdout.close()
            proc.stderr.close()
            proc, port, tmp2 = start_server(["--data-dir", data_dir])
            shutil.rmtree(tmp2, ignore_errors=True)       # only its port file lives there
            c = Client(port)
            self.assertEqual(c.get("keep.txt").body, b"kept")
            self.assertEqual(c.list_parts("open.bin", uid).status, 200)
            c.close()
        finally:
            proc.terminate()
            proc.wait(15)
            proc.stdout.close()
            proc.stderr.close()
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    sys.stdout.flush()
    print("oss_server: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
