#!/usr/bin/env python3
"""oss_server.py - a local, OSS-faithful HTTP/1.1 server for testing uploads.

It speaks the subset of the Alibaba Cloud OSS REST API that a resumable
uploader needs (PutObject, GetObject, HeadObject, DeleteObject, the five
multipart calls and ListMultipartUploads), verifies V1 and V4 header signatures exactly as OSS does,
computes MD5 / CRC-64 while streaming bodies to disk, and offers an unsigned
control API for inspecting requests and injecting faults.  Where it has to
choose, it answers as OSS does (XML layout, error codes, time formats, the
order of listings).  Python 3 standard library only.

Start it on a free loopback port (it prints "PORT <n>" as its first stdout
line and, with --port-file, also writes the number to that file atomically):

    python3 tests/oss_server.py --port 0 --port-file /tmp/x/port &

Options:
    --host ADDR            listen address (default 127.0.0.1)
    --port N               port, 0 = pick a free one (default 0)
    --port-file PATH       write the chosen port here (temp file + rename)
    --data-dir DIR         objects and parts live here (default: a temporary
                           directory removed at exit); state is reloaded from
                           an existing directory
    --credentials AK:SK[:TOKEN]
                           accepted key pair, repeatable.  Default when none is
                           given: test-ak:test-secret (no token).  With TOKEN,
                           requests with that AK must carry
                           x-oss-security-token: TOKEN; without, any token sent
                           for that AK is rejected (403 InvalidSecurityToken).
    --cname HOST=BUCKET    map a custom host name to a bucket, repeatable
    --lifetime SECONDS     exit by itself after this long (default 900)
    --quiet                no request log on stderr
    --tls-cert PEM --tls-key PEM
                           also open a TLS listener (same host, same store,
                           log, faults and credentials); PEM may hold a chain
    --tls-port N           its port, 0 = pick a free one (default 0)
    --tls-port-file PATH   write the TLS port here (temp file + rename)

TLS: with --tls-cert/--tls-key a second listener speaks HTTPS (Python's ssl,
server side, TLS 1.2 and 1.3, OpenSSL's server session cache on, so
session-ID and ticket resumption work).  Its port is the second stdout line,
"TLS_PORT <n>".  Handshakes run in the connection's thread with a 10 s limit;
a failed one is reported on stderr (unless --quiet) and the connection is
closed.  A TLS ClientHello arriving on the plain port gets an immediate
400 reply and a close (as a real HTTP server would answer), so a client
that mistakes it for a TLS port fails at once instead of waiting.

Addressing: path style (/bucket/key) when the Host header (without port) is
an IP literal or "localhost"; a --cname host maps to its bucket; any other
host is virtual-hosted: the bucket is its first DNS label and the key is the
whole path.  So "Host: mybucket.example-domain:8080" or
"Host: mybucket.127.0.0.1:8080" both address bucket "mybucket".

XML details as OSS writes them: times (LastModified, Initiated, ServerTime)
are ISO 8601 to the second with a literal ".000Z"; ETags are quoted upper-case
MD5 hex; CompleteMultipartUpload checks that part numbers ascend (400
InvalidPartOrder) and that each listed ETag is the stored one (400 InvalidPart).

GetObject: one byte range (Range: bytes=A-B, bytes=A-, bytes=-N) is 206 with
Content-Range; ETag and x-oss-hash-crc64ecma stay those of the whole object.  An
unparsable, inverted or multiple range is ignored (200, the whole object).  As OSS
does, a range that does not lie within the object is ignored too (200, the whole
object, no Content-Range: a start or an end at or past the size, a suffix longer
than the object), unless the request sends "x-oss-range-behavior: standard": then
an end past the object is cut to its last byte and a suffix longer than the object
is all of it (206), and a start at or past the size is 416 InvalidRange (with
Content-Range: bytes */SIZE), as are bytes=-0 and any range of an empty object.
If-Match (GetObject and HeadObject): 412 PreconditionFailed unless it holds the
object's ETag as OSS sends it, quoted (alone or in a comma-separated list), or "*".

ListMultipartUploads: GET /?uploads at bucket level (path style /BUCKET/?uploads,
or virtual-hosted), signed like every call (V1: "uploads" is a sub-resource,
prefix and markers are not; V4: every query parameter).  Uploads come sorted by
key, then in initiation order (upload ids grow with time, so that is also id
order).  prefix; delimiter (keys holding it after the prefix roll up into one
CommonPrefixes entry, which counts as one against max-uploads); key-marker
(after that key) with upload-id-marker (after that upload of that key; ignored
without key-marker); max-uploads 1..1000, default 1000; encoding-type=url
(Key, Prefix, Delimiter, KeyMarker, NextKeyMarker URL-encoded, <EncodingType>).
Reply: <ListMultipartUploadsResult> with Bucket, KeyMarker, UploadIdMarker,
NextKeyMarker, NextUploadIdMarker, Delimiter, Prefix, MaxUploads, IsTruncated,
then <Upload><Key/><UploadId/><StorageClass/><Initiated/></Upload> entries and
<CommonPrefixes><Prefix/></CommonPrefixes>.

Control API (same port, JSON, never signed, path prefix /_ossr/):
    GET  /_ossr/log            list of handled OSS requests, arrival order:
                               {op, method, bucket, key, query, part_number,
                                upload_id, status, code, bytes_received,
                                sign_version, host, headers, fault, tls,
                                in_flight}
                               in_flight: how many OSS requests (not /_ossr/
                               calls) the server was handling when this one
                               arrived, itself included (a request counts
                               until its reply is sent or its connection
                               dropped, held by a stall or a barrier too)
                               tls: whether the request came over TLS; TLS
                               requests add tls_resumed (session reused),
                               tls_version, tls_cipher (OpenSSL's name) and
                               tls_sni (null without SNI)
                               (status 0: the connection was dropped with
                               no reply; fault: the action that fired;
                               garble: its kind, for a garble fault)
    POST /_ossr/reset          clear the log, all faults and the TLS counters
                               (data is kept); requests held at a barrier go on
    POST /_ossr/fault          add a fault, body {"op": name|"*", "part": n?,
                               "key": K?, "range_start": n?, "action": ...,
                               "count": 1, "skip": 0, ...}; returns {"id": n}.
                               A rule matches requests of its op ("*": any);
                               with "part" only an UploadPart of that number,
                               with "key" only requests for that key, with
                               "range_start" only a GetObject whose Range
                               starts at that byte (bytes=n-...).  The first
                               "skip" matches pass, the next "count" fire.
                               Actions:
                                 reset        read "after_bytes" (default 0) body
                                              bytes, then abort the TCP
                                              connection (RST, no reply).  With
                                              "phase": "reply" (default
                                              "request"): handle normally, send
                                              the reply's head and "reply_bytes"
                                              (default half, at most all) of its
                                              body, then RST: for GetObject a
                                              reset in the middle of a download.
                                              Log: body_sent
                                 status       drain the body, reply "status"
                                              (default 500; 503 gives
                                              ServiceUnavailable; "code" overrides)
                                 stall        sleep "seconds" (default 5) before
                                              handling ("phase": "before") or
                                              after handling, before the reply
                                              ("phase": "after"); then reply
                                              normally, or close the connection
                                              if "then" is "close"
                                 bad_crc      handle normally, send a wrong
                                              x-oss-hash-crc64ecma
                                 flip_bit     handle normally, then send the reply
                                              with bit "bit" (0-7, default 0) of
                                              body byte "offset" flipped (counted
                                              from the first byte sent, a range's
                                              start; default the middle, length
                                              // 2; past the end: the last byte).
                                              The head is unchanged (Content-Length,
                                              Content-Range, ETag, the whole
                                              object's x-oss-hash-crc64ecma) and
                                              the connection stays open, as after
                                              a corruption in transit.  Over TLS
                                              the bit is flipped before encryption.
                                              Log: flipped: {offset, bit}, null
                                              for a reply without a body
                                 no_crc       handle normally, send no
                                              x-oss-hash-crc64ecma (a server or
                                              proxy that drops it)
                                 no_such_upload  drain the body, reply 404
                                              NoSuchUpload
                                 drop_reply   handle fully (e.g. really complete
                                              the upload), then close without a
                                              reply ("rst": true for an RST)
                                 chunked      handle normally, send the reply
                                              body (errors too) chunked
                                 pad          handle normally, then add "bytes"
                                              (default 65536) of whitespace to the
                                              XML reply: before the closing root
                                              tag ("where": "end", default), or
                                              spread between the records (after
                                              each </Part>, </Upload>:
                                              "where": "parts"); megabytes work
                                 trickle      handle normally, then send the reply
                                              at "rate" bytes a second (default 1),
                                              from the status line ("phase":
                                              "head", default) or after a head sent
                                              at full speed ("phase": "body"), for
                                              at most "seconds" (default 120), then
                                              close; other connections are served
                                              meanwhile.  The log entry gets
                                              trickled: {sent, total, seconds}
                                 poison_etag  handle normally (the part is stored
                                              with its real ETag), but send back an
                                              ETag with its first hex digit changed;
                                              a Complete listing that ETag gets 400
                                              InvalidPart.  Log: etag_sent
                                 slow_complete  CompleteMultipartUpload takes
                                              "seconds" (default 3).  Meanwhile
                                              ListParts of the upload lists the
                                              first half of its parts ("visible":
                                              "half", default) or answers 404
                                              NoSuchUpload ("visible": "none"),
                                              Head/GetObject of the key show the old
                                              state (404 or the previous object),
                                              and another Complete of it waits, then
                                              gets NoSuchUpload.  Then the object
                                              appears (right CRC-64 and ETag) and
                                              the upload is gone, whether or not the
                                              client is still connected; then the
                                              reply.  Log: completing
                                 close_delimited  (GetObject) reply with no
                                              Content-Length, Transfer-Encoding,
                                              ETag, Content-MD5 or CRC-64 header,
                                              send "cut" (default 0.5) of the body,
                                              then close cleanly (FIN); "cut": 1 is
                                              a complete close-delimited reply.
                                              Log: body_sent
                                 xml_hostile  the same XML document, hard to parse
                                              carelessly: a comment before the
                                              root; in each <Part> (<Upload>,
                                              <CommonPrefixes>) first an unknown
                                              <Extra> holding decoys (<Size>999,
                                              <PartNumber>9999, <ETag>"decoy", ...);
                                              every text value wrapped in a comment
                                              and a processing instruction
                                              (<ETag><!-- c -->"AB.."<?pi x?></ETag>);
                                              "empty_crc": true makes
                                              <HashCrc64ecma/> empty; "root": true
                                              adds an <Extra> of decoys of the
                                              root's own fields first in the root
                                              (Initiate, Complete, errors)
                                 barrier      hold the request, before it is
                                              handled (its body unread), until
                                              "n" (default 2) requests matching
                                              this fault wait at once, or until
                                              "seconds" (default 30) have passed
                                              since the first of them came; then
                                              release them all, to be handled
                                              normally (each match uses up one of
                                              "count"; the next ones form a new
                                              group).  /_ossr/reset and
                                              clear-faults release held requests
                                              at once.  Log: barrier: {group: how
                                              many were released together,
                                              released: "full", "timeout" or
                                              "reset"; both null while held}
                                 garble       handle normally (a part is
                                              stored, an upload completed),
                                              then send a broken reply of
                                              "kind" and close the connection:
                                   status_line     "HTTP/1.1 2OO OK"
                                   huge_headers    over 64 KiB of headers
                                   many_headers    200 extra headers
                                   bad_chunk       Transfer-Encoding: chunked
                                                   with a non-hex chunk size
                                   bad_xml         the XML body cut in the
                                                   middle of a tag ("at": TAG
                                                   cuts inside </TAG>), with
                                                   a matching Content-Length
                                   truncated_body  the head as it is (its
                                                   Content-Length, a 206's
                                                   Content-Range), then only
                                                   "bytes" (default half, at
                                                   most all but one) of the
                                                   body, then a clean close
                                                   (FIN); a reply without a
                                                   body gets a made-up XML
                                                   one.  Log: body_sent
                                   conflicting_length  two different
                                                   Content-Length headers
                                   long_body       the head as it is but for
                                                   its Content-Length, which
                                                   counts "bytes" (default
                                                   100) more: after the body
                                                   (a 206: its range), that
                                                   many extra bytes ("x"),
                                                   then a clean close
                                              (a HEAD reply has no body, so
                                              bad_chunk, bad_xml and
                                              truncated_body change only
                                              its headers)
                               Any action takes "no_crc": true as well: its
                               reply goes without x-oss-hash-crc64ecma too (a
                               proxy that drops it, on top of the fault: a
                               flipped bit or a lying length then has no
                               checksum of its own to betray it).
                               chunked, garble, pad, trickle, xml_hostile,
                               flip_bit and reset with "phase": "reply" shape
                               error replies too.  Op names: PutObject,
                               GetObject, HeadObject, DeleteObject,
                               InitiateMultipartUpload, UploadPart, ListParts,
                               CompleteMultipartUpload, AbortMultipartUpload,
                               ListMultipartUploads
    GET  /_ossr/faults         the fault list with remaining counts
    POST /_ossr/clear-faults   remove all faults
    GET  /_ossr/uploads        {upload_id: {bucket, key, parts: [numbers]}}
    GET  /_ossr/object?bucket=B&key=K
                               {size, md5 (lower hex), crc64 (decimal string),
                                content_type, meta, headers, etag, type} or 404
    POST /_ossr/abort?uploadId=X   delete an upload out of band
    GET  /_ossr/idle?timeout=S wait (up to S seconds, default 30) until no OSS
                               request is being handled (a stalled one included);
                               {"idle": bool, "busy": n}
    GET  /_ossr/tls            {"handshakes": n, "resumed": m, "failed": k}:
                               completed handshakes (resumed ones included),
                               how many of them resumed a session, and
                               handshakes that failed
    POST /_ossr/shutdown       stop the server (both listeners)
"""

import argparse
import base64
import datetime as _dt
import email.utils
import hashlib
import hmac
import io
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape as _xml_escape

try:                        # Linux: how many bytes written the peer has not acknowledged
    import fcntl
    import termios
    _TIOCOUTQ = termios.TIOCOUTQ
except (ImportError, AttributeError):
    fcntl = _TIOCOUTQ = None

# ---------------------------------------------------------------------------
# >>crc64  CRC-64/XZ (the "crc64ecma" OSS reports): ECMA-182 polynomial,
#          reflected, init and xorout all ones; printed as unsigned decimal
# ---------------------------------------------------------------------------

_M64 = (1 << 64) - 1
_POLY_REFLECTED = 0xC96C5795D7870F42
_POLY_FULL = 0x142F0E1EBA9EA3693          # normal form including the x^64 term


def _make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY_REFLECTED if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _make_table()
# Reverses the bit order inside each byte (used with bytes.translate).
_REV8 = bytes(int("{:08b}".format(i)[::-1], 2) for i in range(256))


def crc64_bytewise(data, crc=0):
    """Reference table-driven CRC-64 (reflected, one byte per step)."""
    c = crc ^ _M64
    table = _CRC_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ _M64


def _rev64(v):
    """Reverse the 64 bits of v."""
    return int.from_bytes(v.to_bytes(8, "big").translate(_REV8)[::-1], "big")


def _clmul(a, k):
    """Carry-less product a*k over GF(2); a may be huge, k is small."""
    r = 0
    while k:
        low = k & -k
        r ^= a << (low.bit_length() - 1)
        k ^= low
    return r


def _mod_small(v):
    """v mod P for a polynomial of at most ~128 bits (bitwise long division)."""
    n = v.bit_length()
    while n > 64:
        v ^= _POLY_FULL << (n - 65)
        n = v.bit_length()
    return v


_XPOW_CACHE = {}
_XPOW_LOCK = threading.Lock()


def _xpow(m):
    """x^m mod P, cached (square and multiply)."""
    r = _XPOW_CACHE.get(m)
    if r is None:
        if m < 64:
            r = 1 << m
        else:
            h = _xpow(m // 2)
            r = _mod_small(_clmul(h, h))
            if m & 1:
                r = _mod_small(r << 1)
        with _XPOW_LOCK:
            _XPOW_CACHE[m] = r
    return r


def _polymod(v, nbits):
    """v mod P where v has at most nbits bits.

    Folding: v = hi*x^m + lo  =>  v = hi*(x^m mod P) + lo  (mod P).  Each fold
    halves the length using a few dozen big-integer shifts and XORs, which run
    at C speed, instead of one Python step per byte.
    """
    while nbits > 128:
        m = nbits // 2
        v = _clmul(v >> m, _xpow(m)) ^ (v & ((1 << m) - 1))
        nbits = max(m, nbits - m + 63)
    return _mod_small(v)


def crc64(data, crc=0):
    """CRC-64/XZ of data, continuing from the finished CRC `crc`.

    The reflected table algorithm on bytes B with register R is the mirror of
    the plain polynomial algorithm on the bit-reversed bytes: with S = rev(R),
    the new register is (S*x^(8n) + B(x)*x^64) mod P, and S*x^(8n) is the same
    as XOR-ing S into the first 64 message bits.  So the whole chunk is turned
    into one big integer and reduced by folding (see _polymod).  About 20x
    faster than the byte loop; measured ~1.3 s of CPU for 64 MiB.
    """
    n = len(data)
    if n < 16:
        return crc64_bytewise(data, crc)
    s = _rev64(crc ^ _M64)
    v = int.from_bytes(bytes(data).translate(_REV8), "big")
    v ^= s << (8 * n - 64)
    s = _polymod(v << 64, 8 * n + 64)
    return _rev64(s) ^ _M64


def _gf2_times(mat, vec):
    total = 0
    i = 0
    while vec:
        if vec & 1:
            total ^= mat[i]
        vec >>= 1
        i += 1
    return total


def _gf2_square(mat):
    return [_gf2_times(mat, mat[n]) for n in range(64)]


def crc64_combine(crc1, crc2, len2):
    """CRC of A||B from crc1=CRC(A), crc2=CRC(B), len2=|B|.

    zlib-style GF(2) operator method.  init == xorout == all ones, so no extra
    correction term is needed.
    """
    if len2 <= 0:
        return crc1
    odd = [_POLY_REFLECTED] + [1 << (n - 1) for n in range(1, 64)]
    even = _gf2_square(odd)       # two zero bits
    odd = _gf2_square(even)       # four zero bits
    while True:
        even = _gf2_square(odd)   # first pass: one zero byte
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return (crc1 ^ crc2) & _M64


# ---------------------------------------------------------------------------
# >>signing  V1 (HMAC-SHA1 over the string to sign) and V4 (OSS4-HMAC-SHA256)
# ---------------------------------------------------------------------------

# The sub-resource names the official Python SDK signs (86 names): only these
# query parameters enter the V1 CanonicalizedResource; the others (prefix,
# markers, max-parts, max-uploads, encoding-type, ...) are left out, as OSS
# does.  Matching is case-sensitive.  V4 signs every query parameter.
V1_SUBRESOURCES = frozenset("""
    accessPoint accessPointPolicy acl append asyncFetch
    bucketArchiveDirectRead bucketInfo callback callback-var cname comp
    continuation-token cors delete encryption endTime group httpsConfig
    inventory inventoryId lifecycle link live location logging metaQuery
    objectInfo objectMeta partNumber policy position publicAccessBlock qos
    qosInfo qosRequester redundancyTransition referer regionList replication
    replicationLocation replicationProgress requestPayment requesterQosInfo
    resourceGroup resourcePool resourcePoolBuckets resourcePoolInfo
    response-cache-control response-content-disposition
    response-content-encoding response-content-language
    response-content-type response-expires restore security-token sequential
    startTime stat status style styleName symlink tagging
    transferAcceleration uploadId uploads versionId versioning versions vod
    website worm wormExtend wormId x-oss-ac-forward-allow x-oss-ac-source-ip
    x-oss-ac-subnet-mask x-oss-ac-vpc-id x-oss-access-point-name
    x-oss-async-process x-oss-process x-oss-redundancy-transition-taskid
    x-oss-request-payer x-oss-target-redundancy-type x-oss-traffic-limit
    x-oss-write-get-object-response
""".split())

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def oss_quote(text, keep_slash=False):
    """Percent-encode UTF-8 bytes, keeping only A-Z a-z 0-9 - _ . ~ (and / if asked)."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    out = []
    for b in raw:
        if b in _UNRESERVED or (keep_slash and b == 0x2F):
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def _lower_headers(headers):
    """{lower-case name: trimmed value}; accepts a dict or a list of pairs."""
    items = headers.items() if hasattr(headers, "items") else headers
    out = {}
    for name, value in items:
        lname = name.lower()
        value = str(value).strip()
        out[lname] = out[lname] + "," + value if lname in out else value
    return out


def canonical_resource(bucket, key, query):
    """/bucket/key (raw UTF-8) plus the sub-resources sorted by name, each
    name=value (raw) or a bare name when empty (V1 CanonicalizedResource)."""
    if bucket:
        res = "/" + bucket + "/" + (key or "")
    else:
        res = "/"
    subs = sorted(k for k in query if k in V1_SUBRESOURCES)
    if subs:
        res += "?" + "&".join(k + "=" + query[k] if query[k] else k for k in subs)
    return res


def v1_string_to_sign(method, bucket, key, query, headers):
    """V1 string to sign: VERB, Content-MD5, Content-Type, Date, the x-oss-*
    headers (lower-case, sorted, name:value) and the resource, one per line.
    headers: dict or pairs, any case.

    The date line uses x-oss-date when present (oss2, pyv2 and ali-oss send
    their date there), else Date.
    """
    h = _lower_headers(headers)
    date = h.get("x-oss-date", h.get("date", ""))
    lines = [method.upper(), h.get("content-md5", ""), h.get("content-type", ""), date]
    for name in sorted(n for n in h if n.startswith("x-oss-")):
        lines.append(name + ":" + h[name])
    lines.append(canonical_resource(bucket, key, query))
    return "\n".join(lines)


def v1_signature(secret, string_to_sign):
    mac = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def v4_canonical_uri(bucket, key):
    if bucket:
        path = "/" + bucket + "/" + (key or "")
    else:
        path = "/"
    return oss_quote(path, keep_slash=True)


def v4_canonical_query(query):
    pairs = sorted((oss_quote(k), oss_quote(v)) for k, v in query.items())
    return "&".join(k + "=" + v if v else k for k, v in pairs)


def v4_canonical_request(method, bucket, key, query, headers, additional=()):
    """V4 canonical request: method, URI, sorted query, signed headers, a blank
    line, the additional header names, the payload hash.  additional: header
    names (any case)."""
    h = _lower_headers(headers)
    extra = sorted({a.lower() for a in additional
                    if a and a.lower() not in ("content-type", "content-md5")
                    and not a.lower().startswith("x-oss-")})
    signed = sorted({n for n in h if n.startswith("x-oss-") or n in ("content-type", "content-md5")}
                    | {n for n in extra if n in h})
    lines = [method.upper(), v4_canonical_uri(bucket, key), v4_canonical_query(query)]
    lines.append("".join(n + ":" + h[n] + "\n" for n in signed))
    lines.append(";".join(extra))
    lines.append(h.get("x-oss-content-sha256", "UNSIGNED-PAYLOAD"))
    return "\n".join(lines)


def v4_scope(date8, region, product="oss"):
    return "%s/%s/%s/aliyun_v4_request" % (date8, region, product)


def v4_string_to_sign(canonical_request, x_oss_date, region, product="oss"):
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return "\n".join(["OSS4-HMAC-SHA256", x_oss_date, v4_scope(x_oss_date[:8], region, product), digest])


def v4_signature(secret, date8, region, string_to_sign, product="oss"):
    def mac(key, msg):
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()
    k = mac(("aliyun_v4" + secret).encode("utf-8"), date8)
    k = mac(k, region)
    k = mac(k, product)
    k = mac(k, "aliyun_v4_request")
    return hmac.new(k, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------
# >>util
# ---------------------------------------------------------------------------

MAX_SKEW_MS = 900000
MIN_PART_SIZE = 102400
CHUNK = 1 << 20
OPS = ("PutObject", "GetObject", "HeadObject", "DeleteObject", "InitiateMultipartUpload",
       "UploadPart", "ListParts", "CompleteMultipartUpload", "AbortMultipartUpload",
       "ListMultipartUploads")
# Headers stored with an object and returned by Get/Head.
STORED_PLAIN_HEADERS = ("content-type", "cache-control", "content-disposition",
                        "content-encoding", "content-language", "expires")
STORED_OSS_HEADERS = ("x-oss-object-acl", "x-oss-storage-class", "x-oss-tagging",
                      "x-oss-server-side-encryption")


FAULT_ACTIONS = ("reset", "status", "stall", "bad_crc", "no_crc", "no_such_upload", "drop_reply", "chunked", "pad",
                 "garble", "trickle", "poison_etag", "slow_complete", "close_delimited", "xml_hostile", "barrier",
                 "flip_bit")
# Actions that shape the reply: they apply to error replies too (and so does a reset
# with "phase": "reply", see shapes_reply).
SHAPING_ACTIONS = ("chunked", "garble", "pad", "trickle", "xml_hostile", "flip_bit")
GARBLE_KINDS = ("status_line", "huge_headers", "many_headers", "bad_chunk", "bad_xml",
                "truncated_body", "conflicting_length", "long_body")


def shapes_reply(fault):
    """Whether the fault acts on the reply, so that it applies to an error reply too."""
    return bool(fault) and (fault["action"] in SHAPING_ACTIONS
                            or (fault["action"] == "reset" and fault.get("phase") == "reply"))


def iso_time(ts):
    """2024-12-03T08:15:30.000Z: ISO 8601 as OSS writes it in XML (LastModified,
    Initiated, ServerTime), to the second with a literal ".000" - never real
    milliseconds, which some SDK parsers (oss2's) reject."""
    d = _dt.datetime.fromtimestamp(int(ts), _dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def new_request_id():
    return os.urandom(12).hex().upper()


def is_valid_bucket(name):
    if not (3 <= len(name) <= 63) or name[0] == "-" or name[-1] == "-":
        return False
    return all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in name)


def parse_query(qs):
    """Decode a query string into {name: value}; '+' stays '+', blanks kept."""
    out = {}
    if not qs:
        return out
    for item in qs.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        out[urllib.parse.unquote(name, errors="strict")] = urllib.parse.unquote(value, errors="strict")
    return out


def parse_request_time(text):
    """Seconds since the epoch from an RFC 1123 or ISO-8601 basic date, or None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return _dt.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=_dt.timezone.utc).timestamp()
    except ValueError:
        pass
    try:
        d = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if d is None:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return d.timestamp()


class OSSError(Exception):
    """An OSS error reply: status, Code, Message, extra XML elements/headers."""

    EC = {
        "AccessDenied": "0003-00000001", "InvalidAccessKeyId": "0002-00000901",
        "SignatureDoesNotMatch": "0002-00000040", "RequestTimeTooSkewed": "0002-00000504",
        "InvalidSecurityToken": "0002-00000902", "NoSuchUpload": "0042-00000002",
        "NoSuchKey": "0026-00000001", "InvalidPart": "0042-00000210",
        "InvalidPartOrder": "0042-00000209", "EntityTooSmall": "0042-00000213",
        "FileAlreadyExists": "0042-00000214", "MalformedXML": "0042-00000202",
        "InvalidDigest": "0016-00000105", "InvalidObjectName": "0016-00000005",
        "InvalidArgument": "0017-00000101", "MissingContentLength": "0016-00000004",
        "InvalidRange": "0016-00000303", "InternalError": "0000-00000001",
        "ServiceUnavailable": "0000-00000002", "InvalidBucketName": "0015-00000101",
        "NotImplemented": "0000-00000003", "PartNotSequential": "0042-00000205",
        "MethodNotAllowed": "0000-00000004", "IncompleteBody": "0016-00000006",
        "PreconditionFailed": "0017-00001001",
    }

    def __init__(self, status, code, message, extra=None, headers=None):
        Exception.__init__(self, "%d %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message
        self.extra = list(extra or [])      # [(tag, text)]
        self.headers = dict(headers or {})


class DropConnection(Exception):
    """Close the client connection without a reply (rst=True: TCP reset)."""

    def __init__(self, rst=True):
        Exception.__init__(self, "drop connection")
        self.rst = rst


class Response:
    """A reply being prepared: status, headers, and a bytes body or a file range."""

    def __init__(self, status=200, headers=None, body=b"", file_path=None, start=0, length=0):
        self.status = status
        self.headers = dict(headers or {})
        self.body = body
        self.file_path = file_path
        self.start = start
        self.length = length
        self.code = None
        self.chunked = False      # send the body with Transfer-Encoding: chunked
        self.cut = None           # send only this many bytes of the body (the head unchanged)
        self.flip = None          # (offset, bit): flip that bit of that body byte on the way out


def xml_doc(root, children):
    """<?xml?><root><tag>text</tag>...</root>; children: list of (tag, text|list)."""
    def render(items):
        out = []
        for tag, val in items:
            if isinstance(val, list):
                out.append("<%s>%s</%s>" % (tag, render(val), tag))
            else:
                out.append("<%s>%s</%s>" % (tag, _xml_escape(str(val)), tag))
        return "".join(out)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s>%s</%s>\n'
            % (root, render(children), root)).encode("utf-8")


def range_start(header):
    """The first byte a Range header value asks for ("bytes=N-..."), or None (no
    Range, a suffix range, not bytes)."""
    text = (header or "").strip()
    if not text.lower().startswith("bytes="):
        return None
    first = text[6:].split(",")[0].split("-")[0].strip()
    return int(first) if first.isdigit() else None


def poisoned_etag(etag):
    """A different ETag of the same shape: the first hex digit changed."""
    inner = etag.strip('"')
    if not inner:
        return '"0"'
    first = "1" if inner[0] == "0" else "0"
    return '"%s%s"' % (first, inner[1:])


# Decoys put first inside each repeated record of a listing by xml_hostile.
_HOSTILE_DECOYS = {
    "Part": "<Extra><Size>999</Size><PartNumber>9999</PartNumber><ETag>\"decoy\"</ETag>"
            "<HashCrc64ecma>1</HashCrc64ecma></Extra>",
    "Upload": "<Extra><Key>decoy</Key><UploadId>DECOY</UploadId>"
              "<Initiated>2000-01-01T00:00:00.000Z</Initiated></Extra>",
    "CommonPrefixes": "<Extra><Prefix>decoy/</Prefix></Extra>",
}


def hostile_xml(body, empty_crc=False, root_decoys=False):
    """The same document made hard for a careless parser (xml_hostile): a comment
    before the root; in each Part/Upload/CommonPrefixes record an unknown <Extra>
    holding decoys of the real fields, before them; every text value wrapped in a
    comment and a processing instruction (<ETag><!-- c -->"AB.."<?pi x?></ETag>);
    with empty_crc, <HashCrc64ecma/> empty; with root_decoys, an <Extra> with decoys
    of the root's own fields first in the root.  Unparsable input is returned as is."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return body

    def name(el):
        return el.tag.split("}")[-1]

    def decoy(tag, text):
        text = text or ""
        if text in ("true", "false"):
            return "false" if text == "true" else "true"
        if text.isdigit():
            return "9999"
        return '"decoy"' if tag == "ETag" else "decoy"

    def render(el, depth):
        tag = name(el)
        kids = list(el)
        if not kids:
            text = el.text or ""
            if tag == "HashCrc64ecma" and empty_crc:
                return "<%s/>" % tag
            if not text:
                return "<%s></%s>" % (tag, tag)
            return "<%s><!-- c -->%s<?pi x?></%s>" % (tag, _xml_escape(text), tag)
        inner = []
        if depth == 1 and tag in _HOSTILE_DECOYS:
            inner.append(_HOSTILE_DECOYS[tag])
        if depth == 0 and root_decoys:
            inner.append("<Extra>%s</Extra>" % "".join(
                "<%s>%s</%s>" % (name(k), _xml_escape(decoy(name(k), k.text)), name(k))
                for k in kids if not list(k)))
        inner.extend(render(k, depth + 1) for k in kids)
        return "<%s>%s</%s>" % (tag, "".join(inner), tag)

    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- a hostile but valid document -->\n%s\n'
            % render(root, 0)).encode("utf-8")


def padded_xml(body, nbytes, where="end"):
    """body with nbytes of whitespace added where it changes nothing: before the
    closing root tag ("end"), or spread between the repeated records (after each
    </Part>, </Upload> or </CommonPrefixes>: "parts"; "end" when there is none)."""
    unit = b"\n" + b" " * 63

    def ws(n):
        return (unit * (n // len(unit) + 1))[:n]
    if where == "parts":
        cuts = []
        for closer in (b"</Part>", b"</Upload>", b"</CommonPrefixes>"):
            i = body.find(closer)
            while i >= 0:
                cuts.append(i + len(closer))
                i = body.find(closer, i + 1)
        cuts.sort()
        if cuts:
            share, extra = divmod(nbytes, len(cuts))
            out, prev = [], 0
            for n, c in enumerate(cuts):
                out += [body[prev:c], ws(share + (extra if n == len(cuts) - 1 else 0))]
                prev = c
            out.append(body[prev:])
            return b"".join(out)
    cut = body.rindex(b"</")
    return body[:cut] + b" " * nbytes + body[cut:]


# ---------------------------------------------------------------------------
# >>store  objects and multipart uploads, data on disk, metadata in memory
# ---------------------------------------------------------------------------

class Store:
    """Objects live in DIR/objects/<bucket>/<sha256(key)>{.data,.json};
    uploads in DIR/uploads/<id>/{upload.json, part-N.data, part-N.json}.
    Data files are replaced by rename, so a reader keeps a consistent file."""

    def __init__(self, root):
        self.root = root
        self.lock = threading.RLock()
        self.objects = {}       # (bucket, key) -> meta dict
        self.uploads = {}       # upload_id -> meta dict (with "parts": {n: partmeta})
        self.completing = {}    # upload_id -> {"visible": "half"|"none", "done": Event}
        for sub in ("objects", "uploads", "tmp"):
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        self._load()

    # -- persistence --------------------------------------------------------
    def _load(self):
        objdir = os.path.join(self.root, "objects")
        for bucket in os.listdir(objdir):
            bdir = os.path.join(objdir, bucket)
            for name in os.listdir(bdir):
                if name.endswith(".json"):
                    try:
                        with open(os.path.join(bdir, name), encoding="utf-8") as f:
                            meta = json.load(f)
                        if os.path.exists(meta["path"]):
                            self.objects[(meta["bucket"], meta["key"])] = meta
                    except (OSError, ValueError, KeyError):
                        pass
        updir = os.path.join(self.root, "uploads")
        for uid in os.listdir(updir):
            try:
                with open(os.path.join(updir, uid, "upload.json"), encoding="utf-8") as f:
                    up = json.load(f)
                up["parts"] = {}
                for name in os.listdir(os.path.join(updir, uid)):
                    if name.startswith("part-") and name.endswith(".json"):
                        with open(os.path.join(updir, uid, name), encoding="utf-8") as f:
                            part = json.load(f)
                        up["parts"][part["number"]] = part
                self.uploads[uid] = up
            except (OSError, ValueError, KeyError):
                pass

    @staticmethod
    def _write_json(path, obj):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f)
        os.replace(tmp, path)

    def temp_path(self):
        fd, path = tempfile.mkstemp(dir=os.path.join(self.root, "tmp"))
        os.close(fd)
        return path

    # -- objects ------------------------------------------------------------
    def _object_base(self, bucket, key):
        bdir = os.path.join(self.root, "objects", bucket)
        os.makedirs(bdir, exist_ok=True)
        return os.path.join(bdir, hashlib.sha256(key.encode("utf-8")).hexdigest())

    def get_object(self, bucket, key):
        with self.lock:
            meta = self.objects.get((bucket, key))
            return dict(meta) if meta else None

    def put_object(self, bucket, key, tmp_data, meta):
        """Install tmp_data as the object's bytes; meta gets path/bucket/key."""
        with self.lock:
            base = self._object_base(bucket, key)
            meta = dict(meta, bucket=bucket, key=key, path=base + ".data")
            os.replace(tmp_data, base + ".data")
            self._write_json(base + ".json", meta)
            self.objects[(bucket, key)] = meta
            return meta

    def delete_object(self, bucket, key):
        with self.lock:
            meta = self.objects.pop((bucket, key), None)
            if meta:
                base = self._object_base(bucket, key)
                for suffix in (".data", ".json"):
                    try:
                        os.remove(base + suffix)
                    except OSError:
                        pass

    # -- uploads ------------------------------------------------------------
    def create_upload(self, bucket, key, headers, sequential):
        """A new upload id: 32 upper-case hex digits whose first 16 grow with time, so
        ids of one key sort in initiation order (ListMultipartUploads pages on them)."""
        with self.lock:
            while True:
                self.last_stamp = max(time.time_ns() // 1000, getattr(self, "last_stamp", 0) + 1)
                uid = ("%016X" % self.last_stamp) + os.urandom(8).hex().upper()
                if uid not in self.uploads:
                    break
            udir = os.path.join(self.root, "uploads", uid)
            os.makedirs(udir)
            up = {"id": uid, "bucket": bucket, "key": key, "headers": headers,
                  "sequential": sequential, "created": time.time(), "dir": udir}
            self._write_json(os.path.join(udir, "upload.json"), up)
            self.uploads[uid] = dict(up, parts={})
            return uid

    def get_upload(self, uid, bucket=None, key=None):
        """Snapshot of an upload (parts copied), or None; bucket/key must match if given."""
        with self.lock:
            up = self.uploads.get(uid)
            if up is None or (bucket is not None and (up["bucket"], up["key"]) != (bucket, key)):
                return None
            snap = dict(up)
            snap["parts"] = {n: dict(p) for n, p in up["parts"].items()}
            return snap

    def put_part(self, uid, number, tmp_data, part):
        """Install a part; returns False if the upload disappeared meanwhile."""
        with self.lock:
            up = self.uploads.get(uid)
            if up is None:
                return False
            base = os.path.join(up["dir"], "part-%d" % number)
            part = dict(part, number=number, path=base + ".data")
            os.replace(tmp_data, base + ".data")
            self._write_json(base + ".json", part)
            up["parts"][number] = part
            return True

    def list_uploads(self, bucket):
        """Snapshots (no parts) of the bucket's uploads, by key, then initiation order."""
        with self.lock:
            ups = [dict(u, parts=None) for u in self.uploads.values() if u["bucket"] == bucket]
        ups.sort(key=lambda u: (u["key"].encode("utf-8"), u.get("created", 0), u["id"]))
        return ups

    def remove_upload(self, uid):
        with self.lock:
            up = self.uploads.pop(uid, None)
        if up:
            shutil.rmtree(up["dir"], ignore_errors=True)
        return up is not None


# ---------------------------------------------------------------------------
# >>faults  control-plane state: request log and fault rules
# ---------------------------------------------------------------------------

class ControlState:
    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        self.faults = []
        self.next_id = 1
        self.tls = {"handshakes": 0, "resumed": 0, "failed": 0}
        self.busy = 0                               # OSS requests being handled now
        self.idle = threading.Condition(self.lock)  # notified when busy drops
        self.groups = {}                            # barrier rule id -> its group now forming
        self.barrier = threading.Condition(self.lock)  # notified when a group is released

    def count_tls(self, name):
        with self.lock:
            self.tls[name] += 1

    def add_fault(self, spec):
        action = spec.get("action")
        if action not in FAULT_ACTIONS:
            raise ValueError("unknown action %r" % (action,))
        if action == "garble" and spec.get("kind") not in GARBLE_KINDS:
            raise ValueError("garble needs a kind, one of %s" % ", ".join(GARBLE_KINDS))
        if action == "trickle":
            if spec.get("phase", "head") not in ("head", "body"):
                raise ValueError("trickle phase is head or body")
            if float(spec.get("rate", 1)) <= 0 or float(spec.get("seconds", 120)) <= 0:
                raise ValueError("trickle rate and seconds must be positive")
        if action == "slow_complete" and spec.get("visible", "half") not in ("half", "none"):
            raise ValueError("slow_complete visible is half or none")
        if action == "close_delimited" and not 0 <= float(spec.get("cut", 0.5)) <= 1:
            raise ValueError("close_delimited cut is a fraction from 0 to 1")
        if action == "pad" and spec.get("where", "end") not in ("end", "parts"):
            raise ValueError("pad where is end or parts")
        if action == "barrier" and (int(spec.get("n", 2)) < 1 or float(spec.get("seconds", 30)) <= 0):
            raise ValueError("barrier n must be 1 or more and seconds positive")
        if action == "reset":
            if spec.get("phase", "request") not in ("request", "reply"):
                raise ValueError("reset phase is request or reply")
            if int(spec.get("after_bytes", 0)) < 0 or int(spec.get("reply_bytes", 0)) < 0:
                raise ValueError("reset after_bytes and reply_bytes are 0 or more")
        if action == "flip_bit" and (not 0 <= int(spec.get("bit", 0)) <= 7 or int(spec.get("offset", 0)) < 0):
            raise ValueError("flip_bit bit is 0 to 7 and offset 0 or more")
        if action == "garble" and spec["kind"] == "truncated_body" and int(spec.get("bytes", 0)) < 0:
            raise ValueError("truncated_body bytes is 0 or more")
        if not isinstance(spec.get("no_crc", False), bool):
            raise ValueError("no_crc is true or false")
        op = spec.get("op", "*")
        if op != "*" and op not in OPS:
            raise ValueError("unknown op %r" % (op,))
        if spec.get("key") is not None and not isinstance(spec["key"], str):
            raise ValueError("key is a string")
        rule = dict(spec)
        rule["op"] = op
        rule["count"] = int(spec.get("count", 1))
        rule["skip"] = int(spec.get("skip", 0))
        if spec.get("part") is not None:
            rule["part"] = int(spec["part"])
        if spec.get("range_start") is not None:
            rule["range_start"] = int(spec["range_start"])
            if rule["range_start"] < 0:
                raise ValueError("range_start is 0 or more")
        rule["fired"] = 0
        with self.lock:
            rule["id"] = self.next_id
            self.next_id += 1
            self.faults.append(rule)
        return rule["id"]

    def match(self, op, part_number, key=None, range_start=None):
        """The first live rule matching this request (consumes skip/count), or None.
        A rule's "part" matches an UploadPart of that number, its "key" a request for
        that key, its "range_start" a GetObject whose Range starts at that byte."""
        with self.lock:
            for rule in self.faults:
                if rule["count"] <= 0:
                    continue
                if rule["op"] != "*" and rule["op"] != op:
                    continue
                if rule.get("part") is not None and (op != "UploadPart" or part_number != rule["part"]):
                    continue
                if rule.get("key") is not None and key != rule["key"]:
                    continue
                if rule.get("range_start") is not None and (op != "GetObject" or range_start != rule["range_start"]):
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                rule["count"] -= 1
                rule["fired"] += 1
                return dict(rule)
        return None

    def barrier_wait(self, rule, entry):
        """Holds a request that matched the barrier rule until rule["n"] (default 2)
        requests matching it wait at once, or until rule["seconds"] (default 30) have
        passed since the first of them came, then releases them all. Sets the log
        entry's barrier field (under the lock, as the log is read under it): both null
        while held, then {"group": how many were released together, "released": "full",
        "timeout", or "reset" (the faults were cleared meanwhile)}."""
        n = int(rule.get("n", 2))
        with self.lock:
            entry["barrier"] = {"group": None, "released": None}
            group = self.groups.get(rule["id"])
            if group is None:
                group = {"waiting": 0, "released": None,
                         "deadline": time.monotonic() + float(rule.get("seconds", 30))}
                self.groups[rule["id"]] = group
            group["waiting"] += 1
            if group["waiting"] >= n:
                self._release(rule["id"], "full")
            while group["released"] is None:
                left = group["deadline"] - time.monotonic()
                if left <= 0:
                    self._release(rule["id"], "timeout")
                else:
                    self.barrier.wait(left)
            entry["barrier"] = {"group": group["waiting"], "released": group["released"]}

    def _release(self, rule_id, how):
        """Releases the group forming at a barrier rule (called with the lock held)."""
        group = self.groups.pop(rule_id, None)
        if group is not None:
            group["released"] = how
            self.barrier.notify_all()

    def release_all(self):
        """Releases every request held at a barrier (called with the lock held)."""
        for rule_id in list(self.groups):
            self._release(rule_id, "reset")


# ---------------------------------------------------------------------------
# >>http  request handler
# ---------------------------------------------------------------------------

class OSSHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AliyunOSS"
    sys_version = ""
    timeout = 120            # idle keep-alive connections are closed after this

    # The server object carries: store, control, credentials, cnames, quiet.

    def version_string(self):
        return "AliyunOSS"

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("oss_server: %s %s\n" % (self.address_string(), fmt % args))

    def handle(self):
        if not self.server.tls and self._tls_hello_on_plain_port():
            return
        super().handle()

    def _tls_hello_on_plain_port(self):
        """True (after a 400 reply and a close) when the client starts with a TLS
        handshake record.  The line-based HTTP parser would otherwise wait for
        a newline that a ClientHello may never contain."""
        try:
            first = self.rfile.peek(1)[:1]
        except (OSError, ValueError):
            return False
        if first != b"\x16":
            return False
        if not self.server.quiet:
            sys.stderr.write("oss_server: %s sent a TLS handshake to the plain HTTP port\n"
                             % self.address_string())
        body = b"This port speaks plain HTTP, not TLS.\n"
        try:
            self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        except OSError:
            pass
        self.close_connection = True
        return True

    def send_error(self, code, message=None, explain=None):
        """Replies to requests the HTTP parser rejects (bad request line, bad
        headers): always an HTTP/1.1 status line, OSS error XML, then close."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.1"
        if not hasattr(self, "command"):
            self.command = None
        if not hasattr(self, "headers"):
            self.headers = None
        self.request_id = new_request_id()
        code_name = {400: "InvalidArgument", 404: "NotFound", 501: "NotImplemented",
                     505: "HttpVersionNotSupported", 414: "RequestURITooLong",
                     431: "RequestHeaderFieldsTooLarge"}.get(code, "BadRequest")
        resp = self.error_response(OSSError(code, code_name, message or "Bad request."))
        try:
            self.send_reply(resp)
        except OSError:
            pass

    def do_GET(self):
        self.dispatch()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def do_OPTIONS(self):
        self.dispatch()

    # -- body reading -------------------------------------------------------
    def _body_setup(self):
        """Decide how the body is framed: ('length', n), ('chunked', None) or ('none', 0)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        cl = self.headers.get("Content-Length")
        if "chunked" in te:
            self.body_mode = "chunked"
            self.body_left = None
        elif cl is not None:
            try:
                n = int(cl.strip())
                if n < 0:
                    raise ValueError
            except ValueError:
                self.body_mode = "none"
                self.body_left = 0
                self.close_connection = True
                raise OSSError(400, "InvalidArgument", "Content-Length is invalid.",
                               [("ArgumentName", "Content-Length"), ("ArgumentValue", cl)])
            self.body_mode = "length"
            self.body_left = n
        else:
            self.body_mode = "none"
            self.body_left = 0
        self.chunk_left = 0
        self.chunk_done = False

    def has_body_framing(self):
        return self.body_mode in ("length", "chunked")

    def read_body(self, limit=CHUNK):
        """Next piece of the request body (b"" at the end).  Raises DropConnection
        if the client goes away before sending everything it announced."""
        if self.body_mode == "length":
            if self.body_left <= 0:
                return b""
            data = self.rfile.read(min(limit, self.body_left))
            if not data:
                self.close_connection = True
                raise DropConnection(rst=False)
            self.body_left -= len(data)
            self.bytes_received += len(data)
            return data
        if self.body_mode == "chunked":
            while not self.chunk_done:
                if self.chunk_left == 0:
                    line = self.rfile.readline(65537)
                    if not line:
                        raise DropConnection(rst=False)
                    try:
                        size = int(line.split(b";")[0].strip(), 16)
                    except ValueError:
                        self.close_connection = True
                        raise OSSError(400, "InvalidArgument", "Bad chunked encoding.")
                    if size == 0:
                        while True:        # trailers up to the empty line
                            t = self.rfile.readline(65537)
                            if not t or t in (b"\r\n", b"\n"):
                                break
                        self.chunk_done = True
                        return b""
                    self.chunk_left = size
                data = self.rfile.read(min(limit, self.chunk_left))
                if not data:
                    raise DropConnection(rst=False)
                self.chunk_left -= len(data)
                self.bytes_received += len(data)
                if self.chunk_left == 0:
                    self.rfile.readline(3)     # CRLF after the chunk
                return data
            return b""
        return b""

    def drain_body(self):
        while self.read_body():
            pass

    def read_body_bytes(self, limit):
        parts, total = [], 0
        while True:
            data = self.read_body()
            if not data:
                break
            total += len(data)
            if total > limit:
                self.drain_body()
                raise OSSError(400, "InvalidArgument", "Request body is too large.")
            parts.append(data)
        return b"".join(parts)

    def stream_body_to_file(self):
        """Stream the body into a temp file; returns (path, size, md5, crc64)."""
        path = self.server.store.temp_path()
        md5 = hashlib.md5()
        crc = 0
        size = 0
        try:
            with open(path, "wb") as f:
                while True:
                    data = self.read_body()
                    if not data:
                        break
                    f.write(data)
                    md5.update(data)
                    crc = crc64(data, crc)
                    size += len(data)
        except BaseException:
            try:
                os.remove(path)
            except OSError:
                pass
            raise
        return path, size, md5, crc

    # -- sending ------------------------------------------------------------
    def send_reply(self, resp):
        self.send_response(resp.status)
        headers = resp.headers
        headers.setdefault("x-oss-request-id", self.request_id)
        for name, value in headers.items():
            self.send_header(name, str(value))
        if resp.file_path is not None:
            length = resp.length
        else:
            length = len(resp.body)
        if resp.chunked and self.command != "HEAD":
            headers.pop("Content-Length", None)
            self.send_header("Transfer-Encoding", "chunked")
        elif "Content-Length" not in headers:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        write = self.write_chunk if resp.chunked else self.wfile.write
        pos = 0
        for data in self.body_pieces(resp, length if resp.cut is None else min(length, resp.cut)):
            if resp.flip is not None and pos <= resp.flip[0] < pos + len(data):
                i = resp.flip[0] - pos
                data = data[:i] + bytes([data[i] ^ (1 << resp.flip[1])]) + data[i + 1:]
            write(data)
            pos += len(data)
        if resp.chunked:        # last chunk, one trailer, the blank line
            self.wfile.write(b"0\r\nx-oss-trailer: end\r\n\r\n")

    @staticmethod
    def body_pieces(resp, limit):
        """The first limit bytes of resp's body, in pieces (read from its file range
        when it has one)."""
        if resp.file_path is None:
            if resp.body[:limit]:
                yield resp.body[:limit]
            return
        with open(resp.file_path, "rb") as f:
            f.seek(resp.start)
            while limit > 0:
                data = f.read(min(CHUNK, limit))
                if not data:
                    break
                yield data
                limit -= len(data)

    def body_length(self, resp):
        """How many body bytes resp carries (none for HEAD)."""
        if self.command == "HEAD":
            return 0
        return resp.length if resp.file_path is not None else len(resp.body)

    def note(self, **fields):
        """Sets fields of this request's log entry (under the lock: a /_ossr/log read
        may be copying the entry)."""
        with self.server.control.lock:
            self.log_entry.update(fields)

    def render_reply(self, resp):
        """The bytes send_reply would write for resp (head and body)."""
        real, buf = self.wfile, io.BytesIO()
        self.wfile = buf
        try:
            self.send_reply(resp)
        finally:
            self.wfile = real
        return buf.getvalue()

    def send_trickled(self, resp, fault):
        """trickle: the reply at "rate" bytes a second (from the status line, or with
        "phase": "body" after a head sent at full speed), for at most "seconds"; the
        caller then closes.  Notes in the log entry how many bytes went out."""
        self.close_connection = True
        data = self.render_reply(resp)
        rate = float(fault.get("rate", 1))
        limit = float(fault.get("seconds", 120))
        pos = 0
        if fault.get("phase", "head") == "body":
            pos = data.find(b"\r\n\r\n") + 4
            self.wfile.write(data[:pos])
            self.wfile.flush()
        start, t0 = pos, time.monotonic()
        entry = self.log_entry
        try:
            while pos < len(data):
                now = time.monotonic() - t0
                if now >= limit:
                    break
                due = min(len(data), start + 1 + int(rate * now))     # the first byte at once
                if due > pos:
                    self.wfile.write(data[pos:due])
                    self.wfile.flush()
                    pos = due
                    continue
                time.sleep(min(0.25, max(0.001, (pos - start) / rate - now), limit - now))
        finally:
            with self.server.control.lock:
                entry["trickled"] = {"sent": pos, "total": len(data), "seconds": round(time.monotonic() - t0, 2)}

    def body_bytes(self, resp):
        """The bytes of resp's body (read from its file range when it has one); none
        for HEAD."""
        if self.command == "HEAD":
            return b""
        if resp.file_path is None:
            return resp.body
        with open(resp.file_path, "rb") as f:
            f.seek(resp.start)
            return f.read(resp.length)

    def send_close_delimited(self, resp, fault):
        """close_delimited: the reply without Content-Length, Transfer-Encoding, ETag or
        any checksum header, so only the close ends its body; "cut" (a fraction, default
        0.5) of the body is sent, then the caller closes cleanly."""
        self.close_connection = True
        for name in list(resp.headers):
            if name.lower() in ("content-length", "transfer-encoding", "etag", "x-oss-hash-crc64ecma",
                                "content-md5"):
                del resp.headers[name]
        resp.chunked = False
        head = self.render_reply(Response(resp.status, resp.headers))
        head = head[:head.find(b"\r\n\r\n") + 4]
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"content-length:")]
        head = b"\r\n".join(lines)
        body = self.body_bytes(resp)
        body = body[:int(len(body) * float(fault.get("cut", 0.5)))]
        self.wfile.write(head + body)
        self.wfile.flush()
        self.note(body_sent=len(body))

    def write_chunk(self, data):
        """Sends data as several chunks of uneven sizes, some with a chunk extension."""
        pos, n = 0, 0
        while pos < len(data):
            size = min(len(data) - pos, (7, 1, 300, 4096)[n % 4] if n < 8 else len(data) - pos)
            ext = b";note=x" if n % 3 == 1 else b""
            self.wfile.write(b"%x%s\r\n%s\r\n" % (size, ext, data[pos:pos + size]))
            pos += size
            n += 1

    @staticmethod
    def cut_xml(body, at=None):
        """body cut in the middle of a tag: inside the first </at> when at is given
        (and present), else inside the tag that spans or follows the middle."""
        i = body.find(b"</" + at.encode() + b">") if at else -1
        if i < 0:
            mid = len(body) // 2
            i = body.rfind(b"<", 0, mid + 1)
            if i < 0 or body.startswith(b"<?", i) or body.find(b">", i) < 0:
                i = body.find(b"<", mid)
            if i < 0 or body.startswith(b"<?", i):
                i = max(0, body.rfind(b"<"))
        end = body.find(b">", i)
        end = len(body) if end < 0 else end
        return body[:max(i + 2, (i + end) // 2)] if end - i > 2 else body[:i + 1]

    def send_garbled(self, resp, fault):
        """Writes a reply broken as fault["kind"] says (see the module docstring),
        built from the real reply resp; the caller then closes the connection."""
        kind = fault["kind"]
        head_only = self.command == "HEAD"
        body = self.body_bytes(resp)
        fields = [("Server", self.version_string()), ("Date", self.date_time_string())]
        length = None
        for name, value in resp.headers.items():
            if name.lower() == "content-length":
                length = str(value)
            else:
                fields.append((name, str(value)))
        if not any(n.lower() == "x-oss-request-id" for n, _ in fields):
            fields.append(("x-oss-request-id", self.request_id))
        if length is None or not head_only:
            length = str(len(body))
        status_line = b"HTTP/1.1 %d %s\r\n" % (resp.status, self.responses.get(resp.status, ("",))[0].encode())
        tail = body
        if kind == "status_line":
            status_line = b"HTTP/1.1 2OO OK\r\n"
            fields.append(("Content-Length", length))
        elif kind == "huge_headers":
            fields += [("x-oss-padding-%02d" % i, "p" * 1000) for i in range(70)]
            fields.append(("Content-Length", length))
        elif kind == "many_headers":
            fields += [("x-oss-extra-%03d" % i, str(i)) for i in range(200)]
            fields.append(("Content-Length", length))
        elif kind == "bad_chunk":
            fields.append(("Transfer-Encoding", "chunked"))
            if not head_only:
                tail = b"zz\r\n" + body + b"\r\n0\r\n\r\n"
        elif kind == "bad_xml":
            if not head_only:
                xml = body or xml_doc("Result", [("Note", "a reply without a body, garbled")])
                tail = self.cut_xml(xml, fault.get("at"))
                length = str(len(tail))
            fields.append(("Content-Length", length))
        elif kind == "truncated_body":
            if not head_only:
                payload = body or xml_doc("Result", [("Note", "a reply without a body, truncated")])
                tail = payload[:min(int(fault.get("bytes", len(payload) // 2)), len(payload) - 1)]
                length = str(len(payload))
                self.note(body_sent=len(tail))
            fields.append(("Content-Length", length))
        elif kind == "conflicting_length":
            fields.append(("Content-Length", length))
            fields.append(("Content-Length", str(int(length) + 7)))
        elif kind == "long_body":
            extra = int(fault.get("bytes", 100))
            if not head_only:
                tail = body + b"x" * extra
            fields.append(("Content-Length", str(int(length) + extra)))
        fields.append(("Connection", "close"))
        head = status_line + b"".join(b"%s: %s\r\n" % (n.encode("latin-1"), v.encode("latin-1"))
                                      for n, v in fields) + b"\r\n"
        try:
            self.wfile.write(head + tail)
            self.wfile.flush()
        except OSError:
            pass            # the client gave up early (an oversized head, say)
        self.close_connection = True

    def error_response(self, err):
        host = self.headers.get("Host", "") if self.headers else ""
        children = [("Code", err.code), ("Message", err.message),
                    ("RequestId", self.request_id), ("HostId", host)]
        ec = OSSError.EC.get(err.code, "0000-00000000")
        children.append(("EC", ec))
        children.extend(err.extra)
        children.append(("RecommendDoc", "https://api.aliyun.com/troubleshoot?q=" + ec))
        body = xml_doc("Error", children)
        headers = {"Content-Type": "application/xml", "x-oss-ec": ec}
        headers.update(err.headers)
        resp = Response(err.status, headers, body)
        if self.command == "HEAD":
            resp.headers["x-oss-err"] = base64.b64encode(body).decode("ascii")
            resp.body = b""
            resp.headers["Content-Length"] = "0"
        resp.code = err.code
        return resp

    def wait_acknowledged(self, limit=10.0):
        """Waits, up to limit seconds, until the peer has acknowledged every byte
        written (or has gone: a socket error): an RST drops whatever is still queued,
        so a reply cut by one must be all out first.  Where the kernel cannot tell
        (not Linux), a short pause."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                if _TIOCOUTQ is None:
                    raise OSError("no TIOCOUTQ")
                left = struct.unpack("i", fcntl.ioctl(self.connection.fileno(), _TIOCOUTQ, b"\0" * 4))[0]
                if left <= 0 or self.connection.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    return
            except (OSError, ValueError):
                time.sleep(0.2)
                return
            time.sleep(0.002)

    def abort_connection(self, rst):
        """Close the socket without a reply; rst=True sends a TCP RST.  Over TLS
        a close without RST is a clean one (close_notify first), which also keeps
        the session resumable."""
        self.close_connection = True
        if not rst and self.server.tls:
            try:
                self.wfile.flush()
                self.connection.settimeout(0.5)
                self.connection.unwrap()
            except (OSError, ValueError):
                pass
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
            self.rfile.close()       # drops the last reference: the fd is closed now
        except OSError:
            pass

    # -- dispatch -----------------------------------------------------------
    def dispatch(self):
        self.request_id = new_request_id()
        self.bytes_received = 0
        self.log_entry = None
        if self.headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        raw_path, _, raw_query = self.path.partition("?")
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = "/" + raw_path.split("/", 3)[-1] if raw_path.count("/") >= 3 else "/"
        try:
            self._body_setup()
        except OSSError as err:
            self.send_reply(self.error_response(err))
            return
        if raw_path.startswith("/_ossr/"):
            self.handle_control(raw_path, raw_query)
            return
        ctl = self.server.control
        with ctl.lock:
            ctl.busy += 1
            self.in_flight = ctl.busy       # this one included
        try:
            self.dispatch_oss(raw_path, raw_query)
        finally:
            with ctl.lock:
                ctl.busy -= 1
                ctl.idle.notify_all()

    def dispatch_oss(self, raw_path, raw_query):
        resp = None
        fault = None
        self.current_fault = None
        self.early_reply = False
        try:
            try:
                resp, fault = self.handle_oss(raw_path, raw_query)
            except OSSError as err:
                if self.has_body_framing() and not self.early_reply:
                    self.drain_body()
                resp = self.error_response(err)
                if shapes_reply(self.current_fault):
                    fault = self.current_fault
            if fault and fault["action"] == "bad_crc":
                real = int(resp.headers.get("x-oss-hash-crc64ecma", "0"))
                resp.headers["x-oss-hash-crc64ecma"] = str((real ^ 0x5A5A5A5A5A5A5A5A) & _M64 or 1)
            if fault and (fault["action"] == "no_crc" or fault.get("no_crc")):
                resp.headers.pop("x-oss-hash-crc64ecma", None)
            if fault and fault["action"] == "chunked":
                resp.chunked = True
            action = fault["action"] if fault else None
            if action == "poison_etag" and resp.status == 200 and resp.headers.get("ETag"):
                resp.headers["ETag"] = poisoned_etag(resp.headers["ETag"])
                with self.server.control.lock:   # a /_ossr/log read may be copying the entry
                    self.log_entry["etag_sent"] = resp.headers["ETag"]
            if action == "xml_hostile" and isinstance(resp.body, bytes) and resp.body.lstrip().startswith(b"<"):
                resp.body = hostile_xml(resp.body, bool(fault.get("empty_crc")), bool(fault.get("root")))
            if action == "pad" and isinstance(resp.body, bytes) and b"</" in resp.body:
                resp.body = padded_xml(resp.body, int(fault.get("bytes", 65536)), fault.get("where", "end"))
            if action == "flip_bit":
                n = self.body_length(resp)
                if n:
                    resp.flip = (min(int(fault.get("offset", n // 2)), n - 1), int(fault.get("bit", 0)))
                self.note(flipped={"offset": resp.flip[0], "bit": resp.flip[1]} if resp.flip else None)
            if fault and fault["action"] == "stall" and fault.get("phase") == "after":
                time.sleep(float(fault.get("seconds", 5)))
                if fault.get("then") == "close":
                    raise DropConnection(rst=False)
            if fault and fault["action"] == "drop_reply":
                raise DropConnection(rst=bool(fault.get("rst", False)))
            if fault and fault["action"] == "garble":
                self._finish_log(resp.status, resp.code)
                self.send_garbled(resp, fault)
                raise DropConnection(rst=False)
            if action == "trickle":
                self._finish_log(resp.status, resp.code)
                self.send_trickled(resp, fault)
                raise DropConnection(rst=False)
            if action == "close_delimited":
                self._finish_log(resp.status, resp.code)
                self.send_close_delimited(resp, fault)
                raise DropConnection(rst=False)
            if action == "reset" and fault.get("phase") == "reply":
                self._finish_log(resp.status, resp.code)
                n = self.body_length(resp)
                resp.cut = min(n, int(fault.get("reply_bytes", n // 2)))
                self.note(body_sent=resp.cut)
                self.send_reply(resp)
                self.wfile.flush()
                self.wait_acknowledged()
                raise DropConnection(rst=True)
            self._finish_log(resp.status, resp.code)
            self.send_reply(resp)
            if self.early_reply:
                self.wfile.flush()
                try:
                    self.connection.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                time.sleep(0.5)
        except DropConnection as drop:
            self._finish_log(resp.status if resp else 0, resp.code if resp else None)
            self.abort_connection(drop.rst)
        except (BrokenPipeError, ConnectionResetError, socket.timeout, ssl.SSLError):
            self._finish_log(resp.status if resp else 0, "ClientDisconnected")
            self.close_connection = True
        except Exception:              # never let a request kill the server
            traceback.print_exc()
            self.close_connection = True
            self._finish_log(500, "InternalError")
            try:
                self.send_reply(self.error_response(
                    OSSError(500, "InternalError", "Internal error in the test server.")))
            except OSError:
                pass

    def _finish_log(self, status, code):
        entry = self.log_entry
        if entry is not None:
            with self.server.control.lock:
                entry["status"] = status
                entry["code"] = code
                entry["bytes_received"] = self.bytes_received

    # -- addressing ---------------------------------------------------------
    def resolve_address(self, raw_path):
        """(bucket, key, style) from Host and path: path style for an IP literal or
        localhost, a --cname host maps to its bucket, otherwise virtual-hosted."""
        host_header = self.headers.get("Host", "")
        host = host_header.strip()
        if host.startswith("["):
            hostname = host[1:host.find("]")] if "]" in host else host[1:]
        else:
            hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        hostname = hostname.lower().rstrip(".")
        path_style = False
        if not hostname or hostname == "localhost":
            path_style = True
        else:
            try:
                ipaddress.ip_address(hostname)
                path_style = True
            except ValueError:
                pass

        def decode(raw):
            try:
                return urllib.parse.unquote_to_bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                raise OSSError(400, "InvalidObjectName", "The object name is not valid UTF-8.")

        if not raw_path.startswith("/"):
            raise OSSError(400, "InvalidArgument", "Bad request target.")
        if path_style:
            rest = raw_path[1:]
            bucket_raw, slash, key_raw = rest.partition("/")
            return decode(bucket_raw), decode(key_raw), "path"
        if hostname in self.server.cnames:
            return self.server.cnames[hostname], decode(raw_path[1:]), "cname"
        return hostname.split(".", 1)[0], decode(raw_path[1:]), "virtual"

    # -- authentication -----------------------------------------------------
    def authenticate(self, bucket, key, query):
        """Verify the Authorization header; returns the signature version (1 or 4)."""
        auth = self.headers.get("Authorization")
        pairs = list(self.headers.items())
        h = _lower_headers(pairs)
        if not auth:
            raise OSSError(403, "AccessDenied", "AccessDenied: anonymous access is not allowed here.")
        auth = auth.strip()
        if auth.startswith("OSS4-HMAC-SHA256 "):
            version = 4
            fields = {}
            for item in auth[len("OSS4-HMAC-SHA256 "):].split(","):
                name, eq, value = item.strip().partition("=")
                if not eq:
                    raise OSSError(400, "InvalidArgument", "Authorization header is invalid.")
                fields[name.strip()] = value.strip()
            cred = fields.get("Credential", "").split("/")
            sig = fields.get("Signature", "")
            if len(cred) != 5 or not sig:
                raise OSSError(400, "InvalidArgument", "Authorization header is invalid: "
                               "Credential or Signature missing.")
            ak, date8, region, product, term = cred
            if "AdditionalHeaders" in fields and not fields["AdditionalHeaders"]:
                raise OSSError(400, "InvalidArgument", "AdditionalHeaders must not be empty.")
            additional = [a for a in fields.get("AdditionalHeaders", "").split(";")]
            if any(not a for a in additional) and fields.get("AdditionalHeaders"):
                raise OSSError(400, "InvalidArgument", "AdditionalHeaders has an empty element.")
            additional = [a for a in additional if a]
        elif auth.startswith("OSS "):
            version = 1
            ak, colon, sig = auth[4:].strip().rpartition(":")
            if not colon or not ak or not sig:
                raise OSSError(400, "InvalidArgument", "Authorization header is invalid.")
        else:
            raise OSSError(400, "InvalidArgument", "Authorization header is invalid: unknown scheme.")
        self.log_entry["sign_version"] = version

        creds = self.server.credentials.get(ak)
        if creds is None:
            raise OSSError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
                           [("OSSAccessKeyId", ak)])
        secret, token = creds

        # Request time and clock skew.
        if version == 4:
            date_text = h.get("x-oss-date", "")
            try:
                req_time = _dt.datetime.strptime(date_text, "%Y%m%dT%H%M%SZ").replace(
                    tzinfo=_dt.timezone.utc).timestamp()
            except ValueError:
                raise OSSError(403, "AccessDenied", "x-oss-date is missing or not in ISO 8601 basic format.")
        else:
            date_text = h.get("x-oss-date", h.get("date", ""))
            if not date_text:
                raise OSSError(403, "AccessDenied", "AccessDenied: the Date header is required.")
            req_time = parse_request_time(date_text)
            if req_time is None:
                raise OSSError(403, "AccessDenied", "The Date header is invalid: " + date_text)
        now = time.time()
        if abs(now - req_time) * 1000 > MAX_SKEW_MS:
            raise OSSError(403, "RequestTimeTooSkewed",
                           "The difference between the request time and the current time is too large.",
                           [("RequestTime", iso_time(req_time)), ("ServerTime", iso_time(now)),
                            ("MaxAllowedSkewMilliseconds", str(MAX_SKEW_MS))])

        # STS token.
        sent_token = h.get("x-oss-security-token")
        if token is not None and sent_token != token:
            raise OSSError(403, "InvalidSecurityToken", "The security token you provided is invalid.")
        if token is None and sent_token is not None:
            raise OSSError(403, "InvalidSecurityToken", "The security token you provided is invalid.")

        if version == 1:
            sts = v1_string_to_sign(self.command, bucket, key, query, pairs)
            expected = v1_signature(secret, sts)
            if not hmac.compare_digest(expected.encode(), sig.encode()):
                raise OSSError(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided.",
                               [("StringToSign", sts), ("SignatureProvided", sig),
                                ("StringToSignBytes", " ".join("%02x" % b for b in sts.encode("utf-8"))),
                                ("OSSAccessKeyId", ak)])
            return version

        if h.get("x-oss-content-sha256") != "UNSIGNED-PAYLOAD":
            raise OSSError(403, "AccessDenied", "x-oss-content-sha256 must be UNSIGNED-PAYLOAD.")
        if date8 != date_text[:8]:
            raise OSSError(403, "AccessDenied", "Invalid signing date in Authorization header.")
        if product != "oss" or term != "aliyun_v4_request":
            raise OSSError(403, "AccessDenied", "Invalid credential scope in Authorization header.")
        for name in additional:
            if name.lower() not in h:
                raise OSSError(403, "AccessDenied", "AdditionalHeaders names a header that is not in the request: " + name)
        creq = v4_canonical_request(self.command, bucket, key, query, pairs, additional)
        sts = v4_string_to_sign(creq, date_text, region)
        expected = v4_signature(secret, date8, region, sts)
        if not hmac.compare_digest(expected.encode(), sig.lower().encode()):
            raise OSSError(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match the signature you provided.",
                           [("StringToSign", sts), ("SignatureProvided", sig),
                            ("CanonicalRequest", creq), ("OSSAccessKeyId", ak)])
        return version

    # -- OSS requests -------------------------------------------------------
    def classify(self, key, query):
        m = self.command
        if not key:
            if m == "GET" and "uploads" in query:
                return "ListMultipartUploads"
            return None
        if m == "PUT":
            return "UploadPart" if ("uploadId" in query or "partNumber" in query) else "PutObject"
        if m == "GET":
            return "ListParts" if "uploadId" in query else "GetObject"
        if m == "HEAD":
            return "HeadObject"
        if m == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
        if m == "POST":
            if "uploads" in query:
                return "InitiateMultipartUpload"
            if "uploadId" in query:
                return "CompleteMultipartUpload"
        return None

    def handle_oss(self, raw_path, raw_query):
        """Handle one OSS call; returns (Response, fault rule or None)."""
        host = self.headers.get("Host", "")
        entry = {"op": None, "method": self.command, "bucket": None, "key": None,
                 "query": {}, "part_number": None, "upload_id": None, "status": None,
                 "code": None, "bytes_received": 0, "sign_version": None, "host": host,
                 "headers": _lower_headers(self.headers.items()), "fault": None,
                 "request_id": self.request_id, "time": time.time(), "tls": self.server.tls,
                 "in_flight": self.in_flight}
        if self.server.tls:
            conn = self.connection
            entry.update(tls_resumed=bool(conn.session_reused), tls_version=conn.version(),
                         tls_cipher=(conn.cipher() or (None,))[0], tls_sni=getattr(conn, "oss_sni", None))
        with self.server.control.lock:
            self.server.control.log.append(entry)
        self.log_entry = entry
        try:
            query = parse_query(raw_query)
        except UnicodeDecodeError:
            raise OSSError(400, "InvalidArgument", "The query string is not valid UTF-8.")
        entry["query"] = query
        bucket, key, style = self.resolve_address(raw_path)
        op = self.classify(key, query)
        entry.update(bucket=bucket, key=key, op=op, upload_id=query.get("uploadId"))
        if op == "UploadPart":
            try:
                entry["part_number"] = int(query.get("partNumber", ""))
            except ValueError:
                pass
        self.authenticate(bucket, key, query)
        if not is_valid_bucket(bucket):
            raise OSSError(400, "InvalidBucketName", "The specified bucket is not valid.",
                           [("BucketName", bucket)])
        if op is None:
            raise OSSError(501, "NotImplemented", "This test server implements object and multipart calls only.")
        kb = key.encode("utf-8")
        if len(kb) > 1023 or key.startswith("/") or key.startswith("\\"):
            raise OSSError(400, "InvalidObjectName", "The specified object is not valid.")
        # A request without Content-Length or chunked framing has no body at all:
        # fine for Initiate, but calls that need a body want the length.
        needs_length = op in ("PutObject", "UploadPart") or (
            op == "CompleteMultipartUpload"
            and (self.headers.get("x-oss-complete-all") or "").strip().lower() != "yes")
        if needs_length and not self.has_body_framing():
            raise OSSError(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")

        fault = self.server.control.match(op, entry["part_number"], key,
                                          range_start(self.headers.get("Range")) if op == "GetObject" else None)
        self.current_fault = fault      # the reply's shape applies to error replies too
        if fault:
            entry["fault"] = fault["action"]
            if fault["action"] == "garble":
                entry["garble"] = fault["kind"]
            self.log_message("fault %s fired on %s", fault["action"], op)
            action = fault["action"]
            if action == "reset" and fault.get("phase", "request") == "request":
                want = int(fault.get("after_bytes", 0))
                while want > 0:
                    data = self.read_body(min(CHUNK, want))
                    if not data:
                        break
                    want -= len(data)
                raise DropConnection(rst=True)
            if action == "status":
                status = int(fault.get("status", 500))
                code = fault.get("code") or ("ServiceUnavailable" if status == 503 else "InternalError")
                if fault.get("early"):      # reply before reading the body, then hang up
                    self.early_reply = True
                    self.close_connection = True
                else:
                    self.drain_body()
                raise OSSError(status, code, fault.get("message", "Injected fault."))
            if action == "no_such_upload":
                self.drain_body()
                raise OSSError(404, "NoSuchUpload", "The specified upload does not exist. "
                               "The upload ID may be invalid, or the upload may have been aborted or completed.",
                               [("UploadId", query.get("uploadId", ""))])
            if action == "stall" and fault.get("phase", "before") == "before":
                time.sleep(float(fault.get("seconds", 5)))
                if fault.get("then") == "close":
                    raise DropConnection(rst=False)
            if action == "barrier":
                self.server.control.barrier_wait(fault, entry)
        handler = getattr(self, "op_" + op)
        return handler(bucket, key, query), fault

    # Metadata headers taken from Put/Initiate.
    def collect_object_headers(self):
        stored = {}
        for name, value in self.headers.items():
            lname = name.lower()
            if lname.startswith("x-oss-meta-") or lname in STORED_PLAIN_HEADERS or lname in STORED_OSS_HEADERS:
                stored[lname] = value.strip()
        stored.setdefault("content-type", "application/octet-stream")
        return stored

    def check_content_md5(self, md5):
        given = self.headers.get("Content-MD5")
        if given is None:
            return
        try:
            ok = base64.b64decode(given.strip(), validate=True) == md5.digest()
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise OSSError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.",
                           [("CalculatedMD5", base64.b64encode(md5.digest()).decode())])

    def forbid_overwrite(self):
        return (self.headers.get("x-oss-forbid-overwrite") or "").strip().lower() == "true"

    def object_headers(self, meta):
        headers = {}
        for name, value in meta["headers"].items():
            canon = {"content-type": "Content-Type", "cache-control": "Cache-Control",
                     "content-disposition": "Content-Disposition", "content-encoding": "Content-Encoding",
                     "content-language": "Content-Language", "expires": "Expires"}.get(name, name)
            headers[canon] = value
        if "x-oss-tagging" in meta["headers"]:
            headers["x-oss-tagging-count"] = str(len([t for t in meta["headers"]["x-oss-tagging"].split("&") if t]))
        headers.setdefault("x-oss-storage-class", "Standard")
        headers["ETag"] = meta["etag"]
        headers["Last-Modified"] = http_date(meta["mtime"])
        headers["x-oss-hash-crc64ecma"] = meta["crc64"]
        headers["x-oss-object-type"] = meta["type"]
        headers["Accept-Ranges"] = "bytes"
        if meta["type"] == "Normal":
            headers["Content-MD5"] = base64.b64encode(bytes.fromhex(meta["md5"])).decode()
        return headers

    def receive_body(self):
        """Streams the request body to a file, checks Content-MD5 when given; returns the
        file, size, MD5 object, CRC-64 and the ETag OSS would give it."""
        path, size, md5, crc = self.stream_body_to_file()
        try:
            self.check_content_md5(md5)
        except OSSError:
            os.remove(path)
            raise
        return path, size, md5, crc, '"%s"' % md5.hexdigest().upper()

    def op_PutObject(self, bucket, key, query):
        if self.forbid_overwrite() and self.server.store.get_object(bucket, key):
            raise OSSError(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
        path, size, md5, crc, etag = self.receive_body()
        self.server.store.put_object(bucket, key, path, {
            "size": size, "md5": md5.hexdigest(), "crc64": str(crc), "etag": etag,
            "type": "Normal", "mtime": time.time(), "headers": self.collect_object_headers()})
        return Response(200, {"ETag": etag, "x-oss-hash-crc64ecma": str(crc),
                              "Content-MD5": base64.b64encode(md5.digest()).decode()})

    def get_meta_or_404(self, bucket, key):
        meta = self.server.store.get_object(bucket, key)
        if meta is None:
            raise OSSError(404, "NoSuchKey", "The specified key does not exist.", [("Key", key)])
        return meta

    def check_if_match(self, meta):
        """If-Match: 412 PreconditionFailed unless the header names the object's ETag
        (quoted, as OSS sends it; a comma-separated list may hold it) or is "*"."""
        given = self.headers.get("If-Match")
        if given is None:
            return
        tags = [t.strip() for t in given.split(",")]
        if "*" not in tags and meta["etag"] not in tags:
            raise OSSError(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")

    @staticmethod
    def object_range(header, size, standard):
        """(start, end) of a Range header value for an object of size bytes, or None for
        the whole object (200, no Content-Range).  One range only, "bytes=" only; an
        unparsable or inverted range is ignored.  As OSS: without standard (OSS's legacy
        behavior) a range that does not lie within the object (start or end at or past
        size, a suffix longer than the object or of 0 bytes) is ignored too; with
        standard ("x-oss-range-behavior: standard") an end past the object is cut to
        size - 1, a suffix longer than the object is the whole object, and a start at or
        past size, a suffix of 0 bytes or any range of an empty object is 416 InvalidRange."""
        spec = header[6:] if header.lower().startswith("bytes=") else None
        if spec is None or "," in spec or spec.count("-") != 1:
            return None
        a, b = (x.strip() for x in spec.split("-"))
        unsatisfiable = OSSError(416, "InvalidRange", "The requested range cannot be satisfied.",
                                 headers={"Content-Range": "bytes */%d" % size})
        try:
            if a == "":
                n = int(b)
                if 0 < n <= size:
                    return size - n, size - 1
                if not standard:
                    return None
                if n <= 0 or size == 0:
                    raise unsatisfiable
                return 0, size - 1
            s = int(a)
            e = int(b) if b else None
        except ValueError:
            return None                 # unparsable Range: ignored, as OSS does
        if e is not None and e < s:
            return None                 # an inverted range is ignored: whole object
        if s < size and (e is None or e < size):
            return s, size - 1 if e is None else e
        if not standard:
            return None
        if s >= size:
            raise unsatisfiable
        return s, size - 1

    def op_HeadObject(self, bucket, key, query):
        meta = self.get_meta_or_404(bucket, key)
        self.check_if_match(meta)
        resp = Response(200, self.object_headers(meta))
        resp.headers["Content-Length"] = str(meta["size"])
        return resp

    def op_GetObject(self, bucket, key, query):
        meta = self.get_meta_or_404(bucket, key)
        self.check_if_match(meta)
        size = meta["size"]
        headers = self.object_headers(meta)
        standard = (self.headers.get("x-oss-range-behavior") or "").strip().lower() == "standard"
        rng = self.object_range((self.headers.get("Range") or "").strip(), size, standard)
        if rng is None:
            start, length, status = 0, size, 200
        else:
            start, length, status = rng[0], rng[1] - rng[0] + 1, 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (rng[0], rng[1], size)
        return Response(status, headers, file_path=meta["path"], start=start, length=length)

    def op_DeleteObject(self, bucket, key, query):
        self.server.store.delete_object(bucket, key)
        return Response(204)

    def encoded_key(self, key, query):
        return oss_quote(key) if query.get("encoding-type") == "url" else key

    def op_InitiateMultipartUpload(self, bucket, key, query):
        self.drain_body()
        if self.forbid_overwrite() and self.server.store.get_object(bucket, key):
            raise OSSError(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
        uid = self.server.store.create_upload(bucket, key, self.collect_object_headers(), "sequential" in query)
        self.log_entry["upload_id"] = uid
        children = [("Bucket", bucket), ("Key", self.encoded_key(key, query)), ("UploadId", uid)]
        if query.get("encoding-type") == "url":
            children.append(("EncodingType", "url"))
        return Response(200, {"Content-Type": "application/xml"},
                        xml_doc("InitiateMultipartUploadResult", children))

    def no_such_upload(self, uid):
        return OSSError(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                        "invalid, or the upload may have been aborted or completed.", [("UploadId", uid)])

    def op_UploadPart(self, bucket, key, query):
        uid = query.get("uploadId", "")
        raw = query.get("partNumber", "")
        try:
            number = int(raw)
            if not 1 <= number <= 10000 or not raw.isdigit():
                raise ValueError
        except ValueError:
            raise OSSError(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.",
                           [("ArgumentName", "partNumber"), ("ArgumentValue", raw)])
        up = self.server.store.get_upload(uid, bucket, key)
        if up is None:
            raise self.no_such_upload(uid)
        if up["sequential"] and up["parts"] and number < max(up["parts"]):
            raise OSSError(400, "PartNotSequential", "For sequential multipart upload, you must upload "
                           "or complete parts with sequential part number.")
        path, size, md5, crc, etag = self.receive_body()
        if not self.server.store.put_part(uid, number, path, {
                "size": size, "md5": md5.hexdigest(), "crc64": str(crc), "etag": etag,
                "mtime": time.time()}):
            os.remove(path)
            raise self.no_such_upload(uid)
        return Response(200, {"ETag": etag, "x-oss-hash-crc64ecma": str(crc),
                              "Content-MD5": base64.b64encode(md5.digest()).decode()})

    def op_ListParts(self, bucket, key, query):
        uid = query.get("uploadId", "")
        max_parts = self.int_arg(query, "max-parts", 1000, 1, 1000)
        marker = self.int_arg(query, "part-number-marker", 0, 0, 10000)
        up = self.server.store.get_upload(uid, bucket, key)
        if up is None:
            raise self.no_such_upload(uid)
        with self.server.store.lock:
            busy = self.server.store.completing.get(uid)
        visible = sorted(up["parts"])
        if busy and busy["visible"] == "none":
            raise self.no_such_upload(uid)
        if busy:                                    # "half": the first half of its parts
            visible = visible[:len(visible) // 2]
        numbers = [n for n in visible if n > marker]
        page, truncated = numbers[:max_parts], len(numbers) > max_parts
        children = [("Bucket", bucket), ("Key", self.encoded_key(key, query)), ("UploadId", uid)]
        if query.get("encoding-type") == "url":
            children.append(("EncodingType", "url"))
        children += [("StorageClass", up["headers"].get("x-oss-storage-class", "Standard")),
                     ("PartNumberMarker", str(marker)),
                     ("NextPartNumberMarker", str(page[-1] if page else marker)),
                     ("MaxParts", str(max_parts)),
                     ("IsTruncated", "true" if truncated else "false")]
        for n in page:
            p = up["parts"][n]
            children.append(("Part", [("PartNumber", str(n)), ("LastModified", iso_time(p["mtime"])),
                                      ("ETag", p["etag"]), ("HashCrc64ecma", p["crc64"]),
                                      ("Size", str(p["size"]))]))
        return Response(200, {"Content-Type": "application/xml"}, xml_doc("ListPartsResult", children))

    @staticmethod
    def int_arg(query, name, default, lo, hi):
        """An integer query argument in lo..hi (default when absent or empty), else 400."""
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            v = int(raw)
            if not lo <= v <= hi or not raw.strip().lstrip("-").isdigit():
                raise ValueError
            return v
        except ValueError:
            raise OSSError(400, "InvalidArgument", "Argument %s is invalid." % name,
                           [("ArgumentName", name), ("ArgumentValue", raw)])

    def op_ListMultipartUploads(self, bucket, key, query):
        """GET /?uploads at bucket level, as OSS answers it: uploads sorted by key, then
        by initiation order; prefix; delimiter (keys holding it after the prefix roll up
        into one CommonPrefixes entry each, which counts against max-uploads); key-marker
        alone starts after that key, with upload-id-marker after that upload of that key
        (upload-id-marker without key-marker is ignored); max-uploads 1..1000 (1000);
        encoding-type=url encodes Key, Prefix, Delimiter and the key markers."""
        max_uploads = self.int_arg(query, "max-uploads", 1000, 1, 1000)
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter", "")
        key_marker = query.get("key-marker", "")
        id_marker = query.get("upload-id-marker", "") if key_marker else ""
        url = query.get("encoding-type") == "url"
        enc = (lambda t: oss_quote(t)) if url else (lambda t: t)
        ups = self.server.store.list_uploads(bucket)
        marker_pos = None
        if key_marker and id_marker:
            for u in ups:
                if u["key"] == key_marker and u["id"] == id_marker:
                    marker_pos = (u["key"].encode("utf-8"), u.get("created", 0), u["id"])
        kb_marker = key_marker.encode("utf-8")

        def after_marker(u):
            kb = u["key"].encode("utf-8")
            if not key_marker or kb > kb_marker:
                return True
            if kb < kb_marker or not id_marker:
                return False
            if marker_pos is not None:
                return (kb, u.get("created", 0), u["id"]) > marker_pos
            return u["id"] > id_marker          # an id no longer listed: ids grow with time

        entries = []            # ("upload", u) or ("prefix", common prefix), in order
        seen_prefixes = set()
        for u in ups:
            k = u["key"]
            if not k.startswith(prefix):
                continue
            if delimiter:
                cut = k.find(delimiter, len(prefix))
                if cut >= 0:
                    cp = k[:cut + len(delimiter)]
                    # a common prefix is listed once, and not again on the page after
                    # the one that ended with it (key-marker == that prefix)
                    if cp in seen_prefixes or (key_marker and cp.encode("utf-8") <= kb_marker):
                        continue
                    seen_prefixes.add(cp)
                    entries.append(("prefix", cp))
                    continue
            if after_marker(u):
                entries.append(("upload", u))
        page, truncated = entries[:max_uploads], len(entries) > max_uploads
        next_key = next_id = ""
        if page:
            kind, last = page[-1]
            next_key, next_id = (last["key"], last["id"]) if kind == "upload" else (last, "")
        children = [("Bucket", bucket)]
        if url:
            children.append(("EncodingType", "url"))
        children += [("KeyMarker", enc(key_marker)), ("UploadIdMarker", id_marker),
                     ("NextKeyMarker", enc(next_key)), ("NextUploadIdMarker", next_id),
                     ("Delimiter", enc(delimiter)), ("Prefix", enc(prefix)),
                     ("MaxUploads", str(max_uploads)),
                     ("IsTruncated", "true" if truncated else "false")]
        for kind, item in page:
            if kind == "upload":
                children.append(("Upload", [("Key", enc(item["key"])), ("UploadId", item["id"]),
                                            ("StorageClass", item["headers"].get("x-oss-storage-class", "Standard")),
                                            ("Initiated", iso_time(item.get("created", 0)))]))
        for kind, item in page:
            if kind == "prefix":
                children.append(("CommonPrefixes", [("Prefix", enc(item))]))
        return Response(200, {"Content-Type": "application/xml"},
                        xml_doc("ListMultipartUploadsResult", children))

    def parse_complete_body(self, body):
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise OSSError(400, "MalformedXML", "The XML you provided was not well-formed.")
        if root.tag.split("}")[-1] != "CompleteMultipartUpload":
            raise OSSError(400, "MalformedXML", "The XML you provided was not well-formed.")
        parts = []
        for el in root:
            if el.tag.split("}")[-1] != "Part":
                raise OSSError(400, "MalformedXML", "The XML you provided was not well-formed.")
            num = el.find("PartNumber")
            etag = el.find("ETag")
            if num is None or etag is None or not (num.text or "").strip().isdigit():
                raise OSSError(400, "MalformedXML", "The XML you provided was not well-formed.")
            parts.append((int(num.text.strip()), (etag.text or "").strip()))
        if not parts:
            raise OSSError(400, "MalformedXML", "The XML you provided was not well-formed.")
        return parts

    def op_CompleteMultipartUpload(self, bucket, key, query):
        uid = query.get("uploadId", "")
        body = self.read_body_bytes(8 << 20)
        with self.server.store.lock:
            busy = self.server.store.completing.get(uid)
        if busy:            # another Complete of this upload is still at work: its outcome
            busy["done"].wait(600)      # decides (the upload is then gone: NoSuchUpload)
        up = self.server.store.get_upload(uid, bucket, key)
        if up is None:
            raise self.no_such_upload(uid)
        slow = self.current_fault if (self.current_fault or {}).get("action") == "slow_complete" else None
        if not slow:
            return self._complete(bucket, key, query, uid, body, up, None)
        # slow_complete: from here the upload is being completed for "seconds"; meanwhile
        # ListParts shows the first half of its parts (or answers NoSuchUpload) and the key
        # keeps its old state; then it finishes whether or not the client is still there
        state = {"visible": slow.get("visible", "half"), "done": threading.Event(),
                 "until": time.monotonic() + float(slow.get("seconds", 3))}
        with self.server.store.lock:
            self.server.store.completing[uid] = state
        with self.server.control.lock:   # a /_ossr/log read may be copying the entry
            self.log_entry["completing"] = state["visible"]
        try:
            return self._complete(bucket, key, query, uid, body, up, state)
        finally:
            with self.server.store.lock:
                self.server.store.completing.pop(uid, None)
            state["done"].set()

    def _complete(self, bucket, key, query, uid, body, up, slow):
        given_md5 = self.headers.get("Content-MD5")
        if given_md5 is not None:
            self.check_content_md5(hashlib.md5(body))
        complete_all = (self.headers.get("x-oss-complete-all") or "").strip().lower() == "yes"
        if complete_all:
            if body.strip():
                raise OSSError(400, "InvalidArgument", "Should not specify both complete all header and http body.",
                               [("ArgumentName", "x-oss-complete-all"), ("ArgumentValue", "yes")])
            chosen = [(n, up["parts"][n]["etag"]) for n in sorted(up["parts"])]
            if not chosen:
                raise OSSError(400, "InvalidPart", "No part has been uploaded for this upload.")
        else:
            chosen = self.parse_complete_body(body)
        prev = 0
        for n, _ in chosen:
            if n <= prev:
                raise OSSError(400, "InvalidPartOrder", "The list of parts was not in ascending order. "
                               "Parts list must be specified in order by part number.")
            prev = n
        parts = []
        for n, etag in chosen:
            p = up["parts"].get(n)
            if p is None or etag.strip('"').upper() != p["etag"].strip('"').upper():
                raise OSSError(400, "InvalidPart", "One or more of the specified parts could not be found or "
                               "the specified entity tag might not have matched the part's entity tag.",
                               [("PartNumber", str(n)), ("ETag", etag)])
            parts.append(p)
        for p in parts[:-1]:
            if p["size"] < MIN_PART_SIZE:
                raise OSSError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.",
                               [("PartNumber", str(p["number"])), ("MinSizeAllowed", str(MIN_PART_SIZE)),
                                ("ProposedSize", str(p["size"]))])
        if (self.forbid_overwrite() or up["headers"].get("x-oss-forbid-overwrite", "").lower() == "true") \
                and self.server.store.get_object(bucket, key):
            raise OSSError(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")

        # Build the object: concatenate the parts, whole MD5 for the control API,
        # whole CRC-64 by combining the part CRCs.
        tmp = self.server.store.temp_path()
        whole_md5 = hashlib.md5()
        etag_md5 = hashlib.md5()
        crc = 0
        size = 0
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p["path"], "rb") as f:
                    while True:
                        data = f.read(CHUNK)
                        if not data:
                            break
                        out.write(data)
                        whole_md5.update(data)
                etag_md5.update(bytes.fromhex(p["md5"]))
                crc = crc64_combine(crc, int(p["crc64"]), p["size"])
                size += p["size"]
        etag = '"%s-%d"' % (etag_md5.hexdigest().upper(), len(parts))
        headers = dict(up["headers"])
        acl = self.headers.get("x-oss-object-acl")
        if acl:
            headers["x-oss-object-acl"] = acl.strip()
        if slow:
            time.sleep(max(0.0, slow["until"] - time.monotonic()))
        self._install_completed(bucket, key, uid, tmp, size, whole_md5, crc, etag, headers)
        host = self.headers.get("Host", "")
        children = []
        if query.get("encoding-type") == "url":
            children.append(("EncodingType", "url"))
        children += [("Location", "http://%s/%s" % (host, oss_quote(key, keep_slash=True))),
                     ("Bucket", bucket), ("Key", self.encoded_key(key, query)), ("ETag", etag)]
        return Response(200, {"Content-Type": "application/xml", "ETag": etag,
                              "x-oss-hash-crc64ecma": str(crc)},
                        xml_doc("CompleteMultipartUploadResult", children))

    def _install_completed(self, bucket, key, uid, tmp, size, whole_md5, crc, etag, headers):
        self.server.store.put_object(bucket, key, tmp, {
            "size": size, "md5": whole_md5.hexdigest(), "crc64": str(crc), "etag": etag,
            "type": "Multipart", "mtime": time.time(), "headers": headers})
        self.server.store.remove_upload(uid)

    def op_AbortMultipartUpload(self, bucket, key, query):
        uid = query.get("uploadId", "")
        if self.server.store.get_upload(uid, bucket, key) is None:
            raise self.no_such_upload(uid)
        self.server.store.remove_upload(uid)
        return Response(204)

    # -- control API --------------------------------------------------------
    def handle_control(self, raw_path, raw_query):
        ctl = self.server.control
        store = self.server.store
        try:
            # Control queries are form-decoded ('+' is a space; send a literal '+' as %2B).
            query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True, errors="strict"))
            body = self.read_body_bytes(1 << 20)
            name = raw_path[len("/_ossr/"):].rstrip("/")
            status, result = 200, None
            m = self.command
            if name == "log" and m == "GET":
                with ctl.lock:
                    result = json.loads(json.dumps(ctl.log))
            elif name == "reset" and m == "POST":
                with ctl.lock:
                    ctl.log = []
                    ctl.faults = []
                    ctl.tls = dict.fromkeys(ctl.tls, 0)
                    ctl.release_all()
                result = {"ok": True}
            elif name == "idle" and m == "GET":
                wait = min(float(query.get("timeout", "30")), 300.0)
                with ctl.lock:
                    ctl.idle.wait_for(lambda: ctl.busy == 0, timeout=wait)
                    result = {"idle": ctl.busy == 0, "busy": ctl.busy}
            elif name == "tls" and m == "GET":
                with ctl.lock:
                    result = dict(ctl.tls)
            elif name == "fault" and m == "POST":
                spec = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(spec, dict):
                    raise ValueError("fault spec must be a JSON object")
                result = {"id": ctl.add_fault(spec)}
            elif name == "faults" and m == "GET":
                with ctl.lock:
                    result = [dict(r) for r in ctl.faults]
            elif name == "clear-faults" and m == "POST":
                with ctl.lock:
                    ctl.faults = []
                    ctl.release_all()
                result = {"ok": True}
            elif name == "uploads" and m == "GET":
                with store.lock:
                    result = {uid: {"bucket": u["bucket"], "key": u["key"], "parts": sorted(u["parts"])}
                              for uid, u in store.uploads.items()}
            elif name == "object" and m == "GET":
                meta = store.get_object(query.get("bucket", ""), query.get("key", ""))
                if meta is None:
                    status, result = 404, {"error": "NoSuchKey"}
                else:
                    hdrs = meta["headers"]
                    result = {"size": meta["size"], "md5": meta["md5"], "crc64": meta["crc64"],
                              "etag": meta["etag"], "type": meta["type"],
                              "content_type": hdrs.get("content-type"),
                              "meta": {k[len("x-oss-meta-"):]: v for k, v in hdrs.items()
                                       if k.startswith("x-oss-meta-")},
                              "headers": hdrs}
            elif name == "abort" and m == "POST":
                if store.remove_upload(query.get("uploadId", "")):
                    result = {"ok": True}
                else:
                    status, result = 404, {"error": "NoSuchUpload"}
            elif name == "shutdown" and m == "POST":
                result = {"ok": True}
                self.server.stop_all()
            else:
                status, result = 404, {"error": "unknown control call %s %s" % (m, raw_path)}
        except (ValueError, UnicodeDecodeError) as exc:
            status, result = 400, {"error": str(exc)}
        except OSSError as err:
            status, result = err.status, {"error": err.message}
        except DropConnection:
            self.close_connection = True
            return
        body = json.dumps(result).encode("utf-8")
        self.send_reply(Response(status, {"Content-Type": "application/json"}, body))


# ---------------------------------------------------------------------------
# >>main
# ---------------------------------------------------------------------------

class OSSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    tls = False

    def stop_all(self):
        """Stops serving (main() replaces this to stop every listener)."""
        threading.Thread(target=self.shutdown, daemon=True).start()


class TLSServer(OSSServer):
    """The HTTPS listener.  Accepted sockets are wrapped without a handshake;
    the handshake runs in the connection's own thread, so a slow or broken
    client never holds up the accept loop."""
    tls = True
    handshake_timeout = 10.0

    def __init__(self, address, handler, context):
        super().__init__(address, handler)
        self.context = context

    def get_request(self):
        sock, addr = self.socket.accept()
        try:
            return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr
        except BaseException:
            sock.close()
            raise

    def finish_request(self, request, client_address):
        request.settimeout(self.handshake_timeout)
        try:
            request.do_handshake()
        except (OSError, ValueError) as exc:      # ssl.SSLError, timeouts, resets
            self.control.count_tls("failed")
            request.oss_handshake_failed = True
            if not self.quiet:
                sys.stderr.write("oss_server: TLS handshake with %s:%d failed: %s\n"
                                 % (client_address[0], client_address[1], exc))
            return
        self.control.count_tls("handshakes")
        if request.session_reused:
            self.control.count_tls("resumed")
        super().finish_request(request, client_address)

    def shutdown_request(self, request):
        # A close_notify first (a short wait for the peer's), then the socket closes.
        if not getattr(request, "oss_handshake_failed", False):
            try:
                request.settimeout(1.0)
                request.unwrap()
            except (OSError, ValueError):
                pass
        super().shutdown_request(request)


def tls_context(cert, key):
    """Server-side context: TLS 1.2 and up (the C client speaks 1.0 to 1.2),
    OpenSSL's default server session cache (session IDs and tickets), SNI
    noted on the connection."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # OpenSSL 3 treats a close without close_notify as a fatal error and drops the
    # session from its cache; clients that just close their socket (or die) could
    # then never resume.  Servers commonly accept such a close: so does this one.
    ctx.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    # The client's suite order decides (Python sets server preference by default), so
    # the tests see what the client asks for first.
    ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.load_cert_chain(cert, key)

    def note_sni(conn, server_name, _ctx):
        conn.oss_sni = server_name
        return None
    ctx.sni_callback = note_sni
    return ctx


def write_port_file(path, port):
    tmp = path + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Local OSS-compatible test server (see module docstring).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--data-dir")
    p.add_argument("--credentials", action="append", default=[], metavar="AK:SK[:TOKEN]")
    p.add_argument("--cname", action="append", default=[], metavar="HOST=BUCKET")
    p.add_argument("--lifetime", type=float, default=900.0)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--tls-cert", metavar="PEM")
    p.add_argument("--tls-key", metavar="PEM")
    p.add_argument("--tls-port", type=int, default=0)
    p.add_argument("--tls-port-file")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.tls_port_file and not args.tls_cert:
        p.error("--tls-port-file needs --tls-cert and --tls-key")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    credentials = {}
    for item in args.credentials or ["test-ak:test-secret"]:
        parts = item.split(":", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            sys.exit("oss_server: bad --credentials %r (want AK:SK[:TOKEN])" % item)
        credentials[parts[0]] = (parts[1], parts[2] if len(parts) == 3 and parts[2] else None)
    cnames = {}
    for item in args.cname:
        host, eq, bucket = item.partition("=")
        if not eq or not is_valid_bucket(bucket):
            sys.exit("oss_server: bad --cname %r (want HOST=BUCKET)" % item)
        cnames[host.lower().rstrip(".")] = bucket

    own_dir = None
    data_dir = args.data_dir
    if not data_dir:
        own_dir = data_dir = tempfile.mkdtemp(prefix="oss_server_")
    os.makedirs(data_dir, exist_ok=True)

    if ":" in args.host:        # an IPv6 literal such as ::1
        OSSServer.address_family = socket.AF_INET6
    server = OSSServer((args.host, args.port), OSSHandler)
    server.store = Store(data_dir)
    server.control = ControlState()
    server.credentials = credentials
    server.cnames = cnames
    server.quiet = args.quiet
    port = server.server_address[1]
    servers = [server]

    tls_server = None
    if args.tls_cert:
        try:
            context = tls_context(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            server.server_close()
            if own_dir:
                shutil.rmtree(own_dir, ignore_errors=True)
            sys.exit("oss_server: cannot load the TLS certificate/key: %s" % exc)
        tls_server = TLSServer((args.host, args.tls_port), OSSHandler, context)
        for name in ("store", "control", "credentials", "cnames", "quiet"):
            setattr(tls_server, name, getattr(server, name))
        servers.append(tls_server)

    # The port files are written before the PORT lines, so all are ready together.
    if args.port_file:
        write_port_file(args.port_file, port)
    if tls_server and args.tls_port_file:
        write_port_file(args.tls_port_file, tls_server.server_address[1])
    print("PORT %d" % port, flush=True)
    if tls_server:
        print("TLS_PORT %d" % tls_server.server_address[1], flush=True)

    def stop(*_):
        for srv in servers:
            threading.Thread(target=srv.shutdown, daemon=True).start()

    for srv in servers:
        srv.stop_all = stop

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.lifetime, stop)
    timer.daemon = True
    timer.start()
    if not args.quiet:
        sys.stderr.write("oss_server: listening on %s:%d, data in %s, lifetime %ss\n"
                         % (args.host, port, data_dir, args.lifetime))
        if tls_server:
            sys.stderr.write("oss_server: TLS on %s:%d\n" % (args.host, tls_server.server_address[1]))
    tls_thread = None
    if tls_server:
        tls_thread = threading.Thread(target=tls_server.serve_forever, kwargs={"poll_interval": 0.2},
                                      daemon=True)
        tls_thread.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        timer.cancel()
        if tls_server:
            tls_server.shutdown()        # returns once its loop has ended
            tls_server.server_close()
        server.server_close()
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
