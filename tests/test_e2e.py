#!/usr/bin/env python3
"""End-to-end tests: the ossup example (built from oss_resumable.h) against the test
server (tests/oss_server.py) on a free loopback port.

    python3 tests/test_e2e.py build/ossup

Each case checks what reached the server (through the server's /_ossr/ control API) and
that the stored object's MD5 equals the local file's. The last line is
"e2e: N passed, M failed"; the exit status is non-zero when anything failed.
"""
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (AK, HERE, KIB, SK, BaseEnv, Cases, Server, check, check_parts_at_once,  # noqa: E402
                          check_resumed, clean_environ, driver_main, kill_midway, kill_when_held, md5_file,
                          ops, parts_sent, put_ok)

TOKEN_AK, TOKEN_SK, TOKEN = "sts-ak", "sts-secret", "sts-token/+="


def start_server(workdir, host="127.0.0.1"):
    """The test server with the STS pair as a second credential, the CNAME, --quiet."""
    return Server(workdir, host=host, credentials=[f"{TOKEN_AK}:{TOKEN_SK}:{TOKEN}"], quiet=True)


class Env(BaseEnv):
    bucket = "bkt-e2e"

    def run(self, *args, creds=(AK, SK), token=None, endpoint=None, timeout=120, background=False):
        env = clean_environ()
        env.update(OSS_ACCESS_KEY_ID=creds[0], OSS_ACCESS_KEY_SECRET=creds[1],
                   OSS_ENDPOINT=endpoint or self.server.base)
        if token:
            env["OSS_SESSION_TOKEN"] = token
        return self.exec_ossup(args, env, timeout=timeout, background=background)


# ---------------------------------------------------------------------------------------
QUICK = os.environ.get("OSSR_E2E_QUICK") == "1"   # a second compiler's build: the core cases
CASES = Cases()
case, quick_case = CASES.case, CASES.quick_case


@quick_case
def sizes_around_threshold(env):
    """0, 1, T-1, T, T+1 bytes: PutObject below the threshold, multipart from it on."""
    t = 300 * KIB
    for size, multipart in ((0, False), (1, False), (t - 1, False), (t, True), (t + 1, True)):
        for sv in ("1", "4"):
            env.server.reset()
            path = env.file(f"s{size}", size, seed=size)
            extra = ["--threshold", str(t), "--part-size", "100K", "--sign-version", sv]
            if sv == "4":
                extra += ["--region", "cn-hangzhou"]
            put_ok(env, path, f"sizes/{size}-v{sv}.bin", *extra)
            log = env.server.log()
            check(all(e["sign_version"] == int(sv) for e in log), f"size {size}: not all requests signed V{sv}")
            if multipart:
                check(len(ops(log, "InitiateMultipartUpload")) == 1, f"size {size}: expected one Initiate")
                n = -(-size // (100 * KIB))
                check(parts_sent(log) == list(range(1, n + 1)), f"size {size}: parts {parts_sent(log)}")
                check(len(ops(log, "CompleteMultipartUpload")) == 1, f"size {size}: expected one Complete")
                check(not ops(log, "PutObject"), f"size {size}: unexpected PutObject")
            else:
                check([e["op"] for e in log] == ["PutObject"], f"size {size}: expected one PutObject, got {[e['op'] for e in log]}")
    check(not os.listdir(env.ckpt) if os.path.isdir(env.ckpt) else True, "checkpoints left behind after success")


@quick_case
def many_parts_threads(env):
    """A 62-part file with 1 and 4 threads, V1 and V4."""
    path = env.file("many", 6 * 1024 * KIB + 12345, seed=7)
    for threads in ("1", "4"):
        for sv in ("1", "4"):
            env.server.reset()
            extra = ["--threshold", "1M", "--part-size", "100K", "--threads", threads, "--sign-version", sv]
            if sv == "4":
                extra += ["--region", "cn-shanghai"]
            out, _, _ = put_ok(env, path, f"many/t{threads}-v{sv}", *extra)
            log = env.server.log()
            check(parts_sent(log) == list(range(1, 63)), f"threads {threads}: parts {parts_sent(log)}")
            check("62 of 62 parts sent" in out, f"summary line: {out!r}")


@quick_case
def hostile_keys(env):
    """Keys with spaces, + # ? % ~ / and non-ASCII, both signature versions, put and get."""
    keys = ["dir/sub dir/file name.bin", "a+b#c?d%e~f&g=h;i:j@k$l!m'n(o)p*q,r.txt",
            "写真/ünïcödé #1+2.jpg", "  leading and trailing  ", "percent%2Fencoded%20already",
            "deep/" * 20 + "end", "x" * 1000]
    small = env.file("hostile-small", 1000, seed=3)
    big = env.file("hostile-big", 350 * KIB, seed=4)
    for i, key in enumerate(keys):
        for sv in ("1", "4"):
            path = big if i % 2 else small
            extra = ["--threshold", "300K", "--part-size", "100K", "--sign-version", sv]
            if sv == "4":
                extra += ["--region", "cn-hangzhou"]
            put_ok(env, path, key, *extra)
            dest = os.path.join(env.workdir, "got")
            rc, _, err = env.run("get", f"oss://bkt-e2e/{key}", dest, *extra)
            check(rc == 0, f"get {key!r}: {err.strip()}")
            check(md5_file(dest) == md5_file(path), f"get {key!r}: content differs")


@case
def addressing_and_sts(env):
    """Path style (auto for IPs), virtual-hosted through --connect-to, CNAME, STS token."""
    path = env.file("addr", 400 * KIB, seed=5)
    common = ["--threshold", "300K", "--part-size", "100K"]
    env.server.reset()
    put_ok(env, path, "addr/path", *common)
    check(all(e["host"].startswith("127.0.0.1") for e in env.server.log()), "path style host")
    env.server.reset()
    put_ok(env, path, "addr/virtual", *common, "--connect-to", f"127.0.0.1:{env.server.port}",
           endpoint=f"http://oss-test.example:{env.server.port}")
    hosts = {e["host"] for e in env.server.log()}
    check(hosts == {f"bkt-e2e.oss-test.example:{env.server.port}"}, f"virtual host: {hosts}")
    env.server.reset()
    put_ok(env, path, "addr/sts", *common, "--region", "cn-hangzhou", creds=(TOKEN_AK, TOKEN_SK), token=TOKEN)
    check(all(e["headers"].get("x-oss-security-token") == TOKEN for e in env.server.log()), "token not sent")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/addr/sts-bad", *common, creds=(TOKEN_AK, TOKEN_SK),
                         token="wrong-token")
    check(rc != 0 and "InvalidSecurityToken" in err, f"wrong token accepted: {rc} {err}")


@quick_case
def kill_and_resume(env):
    """SIGKILL at a random moment of the upload (the server slows every part a little so
    the moment falls inside it); the rerun re-sends exactly the parts the server lacks."""
    rnd = random.Random(os.getpid() ^ int(time.time()))
    path = env.file("resume", 5 * 1024 * KIB + 777, seed=11)   # 52 parts of 100 KiB
    for threads in ("1", "4", "4"):
        key = f"resume/t{threads}-{rnd.randint(0, 1 << 30)}"
        args = ["put", path, f"oss://bkt-e2e/{key}", "--threshold", "1M", "--part-size", "100K",
                "--threads", threads]
        open_uploads = kill_midway(env, args, rnd, threads, lead=0.2)
        check(len(open_uploads) == 1, f"expected one open upload after the kill, got {open_uploads}")
        (uid, info), = open_uploads.items()
        stored = set(info["parts"])
        env.server.reset()            # also clears the stall fault
        rc, out, err = env.run(*args)
        check(rc == 0, f"resume after SIGKILL failed: {err.strip()}")
        resent = set(parts_sent(env.server.log()))
        check_resumed(env.server.log(), 52, stored, uid)
        check("resumed" in out, f"summary does not say resumed: {out!r}")
        check(env.server.object("bkt-e2e", key)["md5"] == md5_file(path), "object differs after resume")
        check(not env.server.uploads(), "an upload was left open")
        print(f"     threads {threads}: killed with {len(stored)} of 52 parts stored, {len(resent)} re-sent")


@quick_case
def four_parts_at_once(env):
    """--threads 4 sends four parts at once in every build; one without a thread library
    drives its four connections from one thread. A barrier holds each of the first four
    UploadParts until all four are in the server: it sees 4 in flight, and the object is
    right."""
    path = env.file("lanes", 1200 * KIB + 321, seed=81)       # 13 parts of 100 KiB
    env.server.reset()
    env.server.fault(op="UploadPart", action="barrier", n=4, count=4)
    put_ok(env, path, "lanes/four", "--threshold", "300K", "--part-size", "100K", "--threads", "4")
    log = env.server.log()
    check_parts_at_once(log, 4)
    check(parts_sent(log) == list(range(1, 14)), f"parts {parts_sent(log)}")


@quick_case
def kill_with_four_in_flight(env):
    """SIGKILL while all four connections of --threads 4 wait on a part each (eight parts
    stored, the next four held at a barrier in the server): no fifth part was sent, and
    the rerun resumes the upload, reusing every part the server has by then (the four in
    flight included, where their bytes had all left) and sending each missing one once."""
    path = env.file("held", 2000 * KIB + 99, seed=82)         # 21 parts of 100 KiB
    args = ["put", path, "oss://bkt-e2e/lanes/held", "--threshold", "300K", "--part-size", "100K",
            "--threads", "4"]
    open_uploads = kill_when_held(env, args, passed=8, held=4)
    check(len(open_uploads) == 1, f"expected one open upload after the kill, got {open_uploads}")
    (uid, info), = open_uploads.items()
    stored = info["parts"]
    check(len(stored) >= 8, f"the server holds {len(stored)} parts, not the 8 sent before the kill")
    env.server.reset()
    rc, out, err = env.run(*args)
    check(rc == 0, f"resume after SIGKILL failed: {err.strip()}")
    check_resumed(env.server.log(), 21, stored, uid)
    summary = f"{21 - len(stored)} of 21 parts sent, {len(stored)} reused"
    check("(resumed)" in out and summary in out, f"summary is not '(resumed) ... {summary}': {out!r}")
    check(env.server.object("bkt-e2e", "lanes/held")["md5"] == md5_file(path), "object differs after resume")
    check(not env.server.uploads(), "an upload was left open")


def _ckpt_files(env):
    return [os.path.join(env.ckpt, f) for f in os.listdir(env.ckpt) if f.endswith(".ossr")]


def _half_upload(env, path, key, fail_part, status=500):
    """Runs an upload (100 KiB parts) whose part fail_part keeps failing, so that it
    leaves a checkpoint and an open upload behind. Returns the checkpoint and stderr."""
    env.server.reset()
    env.server.fault(op="UploadPart", part=fail_part, action="status", status=status, count=100)
    for f in _ckpt_files(env):
        os.remove(f)
    rc, _, err = env.run("put", path, f"oss://bkt-e2e/{key}", "--threshold", "300K", "--part-size", "100K",
                         "--attempts", "1")
    check(rc != 0, "the half upload was expected to fail")
    files = _ckpt_files(env)
    check(len(files) == 1, f"expected one checkpoint, found {files}")
    env.server.reset()
    return files[0], err


@case
def stale_checkpoint_aborts(env):
    """A file changed between runs: the old upload is aborted, a new one started."""
    path = env.file("stale", 600 * KIB, seed=12)
    _, err = _half_upload(env, path, "stale", 3)
    check("InternalError" in err or "500" in err, f"error line lacks the cause: {err!r}")
    check("request id" in err, f"error line lacks the request id: {err!r}")
    old = list(env.server.uploads().keys())
    check(len(old) == 1, f"expected one open upload, got {old}")
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"changed")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/stale", "--threshold", "300K", "--part-size", "100K")
    check(rc == 0, f"second run failed: {err.strip()}")
    log = env.server.log()
    aborted = [e["upload_id"] for e in ops(log, "AbortMultipartUpload")]
    check(aborted == old, f"old upload not aborted: {aborted} vs {old}")
    check("stale" in err, f"no message about the stale checkpoint: {err!r}")
    check(not env.server.uploads(), "uploads left open")
    check(env.server.object("bkt-e2e", "stale")["md5"] == md5_file(path), "object differs")


@case
def vanished_upload_restarts(env):
    """The upload was aborted out of band: NoSuchUpload is not a dead end."""
    path = env.file("vanish", 600 * KIB, seed=13)
    _half_upload(env, path, "vanish", 4, status=503)
    for uid in env.server.uploads():
        env.server.abort(uid)
    env.server.reset()
    rc, _, err = env.run("put", path, "oss://bkt-e2e/vanish", "--threshold", "300K", "--part-size", "100K")
    check(rc == 0, f"rerun failed: {err.strip()}")
    check(len(ops(env.server.log(), "InitiateMultipartUpload")) == 1, "no new upload started")
    check(env.server.object("bkt-e2e", "vanish")["md5"] == md5_file(path), "object differs")


@case
def faults_are_retried(env):
    """Reset mid-body, 500/503 bursts, a wrong CRC header: retried, object intact."""
    path = env.file("faults", 900 * KIB, seed=14)
    plans = [dict(op="UploadPart", part=3, action="reset", after_bytes=5000),
             dict(op="UploadPart", part=2, action="status", status=503, count=2),
             dict(op="UploadPart", part=5, action="status", status=500),
             dict(op="UploadPart", part=4, action="bad_crc"),
             dict(op="PutObject", action="reset", after_bytes=1000)]
    for i, plan in enumerate(plans):
        env.server.reset()
        env.server.fault(**plan)
        if plan["op"] == "PutObject":
            put_ok(env, path, f"faults/{i}", "--threshold", "1M")
        else:
            put_ok(env, path, f"faults/{i}", "--threshold", "300K", "--part-size", "100K", "--threads", "2")
        log = env.server.log()
        if plan["op"] == "UploadPart":
            tries = [e for e in log if e["op"] == "UploadPart" and e["part_number"] == plan["part"]]
            check(len(tries) == plan.get("count", 1) + 1, f"{plan}: part tried {len(tries)} times")


@quick_case
def lost_complete_reply(env):
    """The server completes the upload but the reply is lost: a HEAD proves success."""
    path = env.file("lost", 500 * KIB, seed=15)
    env.server.reset()
    env.server.fault(op="CompleteMultipartUpload", action="drop_reply")
    out, err, _ = put_ok(env, path, "lost/complete", "--threshold", "300K", "--part-size", "100K")
    log = env.server.log()
    check(len(ops(log, "InitiateMultipartUpload")) == 1, "the file was uploaded again")
    check(len(ops(log, "HeadObject")) >= 1, "no HEAD after the lost reply")
    check("lost" in err, f"no message about the lost reply: {err!r}")


@case
def errors_are_clear(env):
    """Wrong secret, bad bucket, missing credentials, limits: clear one-line errors."""
    path = env.file("err", 2000, seed=16)
    env.server.reset()
    rc, _, err = env.run("put", path, "oss://bkt-e2e/err", creds=(AK, "wrong"))
    check(rc != 0 and "SignatureDoesNotMatch" in err and "request id" in err, f"wrong secret: {err!r}")
    check(len(err.strip().splitlines()) == 1, f"expected one line: {err!r}")
    rc, _, err = env.run("put", path, "oss://Bad_Bucket/err")
    check(rc != 0 and "bucket" in err, f"bad bucket: {err!r}")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/err", creds=("", ""))
    check(rc != 0 and "OSS_ACCESS_KEY_ID" in err, f"no credentials: {err!r}")
    env.server.reset()
    big = env.file("limits", 300 * KIB, seed=17)
    rc, _, err = env.run("put", big, "oss://bkt-e2e/limits", "--threshold", "100K", "--part-size", "6G")
    check(rc != 0 and "5 GiB" in err, f"part size above 5 GiB: {err!r}")
    check(env.server.log() == [], "requests sent although the plan broke OSS limits")
    rc, _, err = env.run("put", os.path.join(env.workdir, "no-such-file"), "oss://bkt-e2e/x")
    check(rc != 0 and "no-such-file" in err, f"missing file: {err!r}")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/x", "--threads", "zero")
    check(rc == 2, f"bad option value exit {rc}")


@case
def headers_reach_the_object(env):
    """User headers go to Put/Initiate; Content-Type guessed from the key."""
    path = env.file("hdr", 400 * KIB, seed=18)
    for thr in ("1M", "300K"):
        key = f"hdr/{thr}.txt"
        put_ok(env, path, key, "--threshold", thr, "--part-size", "100K",
               "--header", "x-oss-meta-color: blue", "--header", "x-oss-storage-class: IA")
        obj = env.server.object("bkt-e2e", key)
        check(obj["content_type"] == "text/plain", f"{thr}: content type {obj['content_type']}")
        check(obj["meta"].get("x-oss-meta-color") == "blue" or obj["meta"].get("color") == "blue",
              f"{thr}: meta {obj['meta']}")
        put_ok(env, path, key + ".custom", "--threshold", thr, "--header", "Content-Type: application/x-custom")
        check(env.server.object("bkt-e2e", key + ".custom")["content_type"] == "application/x-custom", "custom type")


@case
def checkpoint_damage(env):
    """A torn last slot, a damaged fixed part and a slot whose CRC disagrees with the server:
    each ends in a correct object; a damaged record is never trusted."""
    sys.path.insert(0, HERE)
    from oss_server import crc64
    path = env.file("damage", 900 * KIB, seed=21)    # 9 parts
    args = ["put", path, "oss://bkt-e2e/damage", "--threshold", "300K", "--part-size", "100K"]

    # torn write: cut the record in the middle of its last slot
    ck, _ = _half_upload(env, path, "damage", 6)
    size = os.path.getsize(ck)
    os.truncate(ck, size - 40)
    rc, out, err = env.run(*args)
    check(rc == 0, f"torn slot: {err.strip()}")
    log = env.server.log()
    check(not ops(log, "InitiateMultipartUpload"), "torn slot: the upload was started over")
    check(parts_sent(log) == [6, 7, 8, 9], f"torn slot: re-sent {parts_sent(log)}")
    check(env.server.object("bkt-e2e", "damage")["md5"] == md5_file(path), "torn slot: object differs")

    # a flipped byte in the fixed part: the record is not trusted, the upload starts over,
    # and the upload it named is aborted (through the record's second copy of its id)
    ck, _ = _half_upload(env, path, "damage", 4)
    old_ids = {u for u, v in env.server.uploads().items() if v["key"] == "damage"}
    with open(ck, "r+b") as f:
        f.seek(20)
        b = f.read(1)
        f.seek(20)
        f.write(bytes([b[0] ^ 0x40]))
    rc, out, err = env.run(*args)
    check(rc == 0, f"damaged record: {err.strip()}")
    check("damaged" in err, f"no word about the damaged checkpoint: {err!r}")
    log = env.server.log()
    check(len(ops(log, "InitiateMultipartUpload")) == 1, "damaged record: no new upload")
    check(parts_sent(log) == list(range(1, 10)), f"damaged record: sent {parts_sent(log)}")
    check(env.server.object("bkt-e2e", "damage")["md5"] == md5_file(path), "damaged record: object differs")
    aborted = {e["upload_id"] for e in ops(log, "AbortMultipartUpload")}
    check(old_ids and old_ids <= aborted, f"damaged record: its upload {old_ids} was not aborted ({aborted})")
    check(not set(env.server.uploads()) & old_ids, "damaged record: the old upload is still open")

    # a slot that claims another CRC than the server's: the file is read again to decide;
    # here the local bytes agree with the server, so the part is kept
    ck, _ = _half_upload(env, path, "damage", 5)
    data = bytearray(open(ck, "rb").read())
    head_len = int.from_bytes(data[12:16], "little")
    if int.from_bytes(data[8:12], "little") == 2:  # version 2: the upload id block follows
        head_len += 152
    slot = head_len + 88 * 1                       # the second slot: part 2
    check(int.from_bytes(data[slot + 4:slot + 8], "little") == 2, "slot order")
    data[slot + 16:slot + 24] = (int.from_bytes(data[slot + 16:slot + 24], "little") ^ 1).to_bytes(8, "little")
    data[slot + 80:slot + 88] = crc64(bytes(data[slot:slot + 80])).to_bytes(8, "little")
    open(ck, "wb").write(data)
    rc, out, err = env.run(*args)
    check(rc == 0, f"forged slot: {err.strip()}")
    log = env.server.log()
    check(not ops(log, "InitiateMultipartUpload"), "forged slot: the upload was started over")
    check(parts_sent(log) == [5, 6, 7, 8, 9], f"forged slot: re-sent {parts_sent(log)}")
    check(env.server.object("bkt-e2e", "damage")["md5"] == md5_file(path), "forged slot: object differs")

    # the server holds a part whose bytes disagree with the file (its slot was lost and the
    # file was rewritten in place with the same size and time): that part is re-sent
    ck, _ = _half_upload(env, path, "damage", 5)
    data = bytearray(open(ck, "rb").read())
    data[slot:slot + 88] = bytes(88)               # part 2's slot never made it to disk
    open(ck, "wb").write(data)
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.seek(100 * KIB + 10)
        f.write(b"rewritten")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    rc, out, err = env.run(*args)
    check(rc == 0, f"disagreeing part: {err.strip()}")
    log = env.server.log()
    check(parts_sent(log) == [2, 5, 6, 7, 8, 9], f"disagreeing part: re-sent {parts_sent(log)}")
    check("does not match" in err, f"no word about the disagreeing part: {err!r}")
    check(env.server.object("bkt-e2e", "damage")["md5"] == md5_file(path), "disagreeing part: object differs")


@quick_case
def api_level(env):
    """tests/test_api.c: progress, cancel and resume, status fields, no secrets written."""
    api = os.environ.get("OSSR_TEST_API")
    check(api and os.path.exists(api), "OSSR_TEST_API must name the built test_api program")
    p = subprocess.run([api, env.server.base, env.workdir], capture_output=True, text=True, timeout=300)
    for line in p.stdout.splitlines():
        if line.startswith("FAIL") or line.startswith("api:"):
            print("     " + line)
    check(p.returncode == 0, "test_api failed")


@case
def resume_pages_through_list_parts(env):
    """A resume of a 1,200-part upload pages through ListParts 1,000 parts a page, though a
    64 KiB buffer holds only about 240 of them: the reply is read as it streams. Each page
    starts where the last ended, the pages together cover every stored part, and only the
    rest is sent; a page padded far past the buffer is read once, not asked for again."""
    n = 1200
    path = env.file("paged", n * 100 * KIB, seed=31)
    args = ["put", path, "oss://bkt-e2e/paged", "--threshold", "1M", "--part-size", "100K", "--buffer-size", "64K"]
    for padded in (False, True):
        env.server.reset()
        env.server.fault(op="UploadPart", part=n - 9, action="status", status=500, count=100)
        rc, _, _ = env.run(*args, "--attempts", "1")
        check(rc != 0, f"the first run should have failed at part {n - 9}")
        env.server.reset()
        if padded:
            env.server.fault(op="ListParts", action="pad", bytes=400000, count=1)
        rc, out, err = env.run(*args)
        check(rc == 0, f"resume failed (padded {padded}): {err.strip()}")
        log = env.server.log()
        pages = [(int(e["query"]["part-number-marker"]), int(e["query"]["max-parts"])) for e in ops(log, "ListParts")]
        check(pages == [(0, 1000), (1000, 1000)], f"expected two pages of 1000 parts, got {pages}")
        check(parts_sent(log) == list(range(n - 9, n + 1)), f"re-sent {parts_sent(log)}")
        check(env.server.object("bkt-e2e", "paged")["md5"] == md5_file(path), "object differs")


@case
def timeouts_are_retried(env):
    """A reply that stalls beyond the I/O timeout: the part is sent again."""
    path = env.file("stall", 400 * KIB, seed=32)
    env.server.reset()
    env.server.fault(op="UploadPart", part=2, action="stall", seconds=4)
    t0 = time.time()
    put_ok(env, path, "stall", "--threshold", "300K", "--part-size", "100K", "--timeout", "1")
    check(time.time() - t0 < 30, "took too long")
    tries = [e for e in env.server.log() if e["op"] == "UploadPart" and e["part_number"] == 2]
    check(len(tries) >= 2, f"part 2 tried {len(tries)} times")


@case
def headers_are_routed(env):
    """Parts get x-oss-traffic-limit and x-oss-request-payer only; Complete gets
    x-oss-forbid-overwrite and x-oss-object-acl; a forbidden overwrite is a clear 409."""
    path = env.file("route", 400 * KIB, seed=33)
    hdrs = ["--header", "x-oss-traffic-limit: 819200", "--header", "x-oss-forbid-overwrite: true",
            "--header", "x-oss-object-acl: private", "--header", "x-oss-meta-owner: ops",
            "--header", "x-oss-request-payer: requester"]
    env.server.reset()
    put_ok(env, path, "route/obj.bin", "--threshold", "300K", "--part-size", "100K", *hdrs)
    log = env.server.log()
    for e in ops(log, "UploadPart"):
        h = e["headers"]
        check(h.get("x-oss-traffic-limit") == "819200" and h.get("x-oss-request-payer") == "requester",
              f"part headers {h}")
        check("x-oss-meta-owner" not in h and "x-oss-forbid-overwrite" not in h, f"part headers {h}")
    (c,) = ops(log, "CompleteMultipartUpload")
    check(c["headers"].get("x-oss-forbid-overwrite") == "true" and c["headers"].get("x-oss-object-acl") == "private",
          f"complete headers {c['headers']}")
    check("x-oss-meta-owner" not in c["headers"], "meta header on Complete")
    (i,) = ops(log, "InitiateMultipartUpload")
    check(i["headers"].get("x-oss-meta-owner") == "ops", f"initiate headers {i['headers']}")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/route/obj.bin", "--threshold", "300K", "--part-size", "100K", *hdrs)
    check(rc != 0 and "FileAlreadyExists" in err and "409" in err, f"overwrite: {err!r}")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/route/obj.bin", "--threshold", "1M", *hdrs)
    check(rc != 0 and "FileAlreadyExists" in err, f"overwrite with PutObject: {err!r}")


@case
def cname_addressing(env):
    """A custom domain bound to the bucket: Host is the domain, the signature names the bucket."""
    path = env.file("cname", 350 * KIB, seed=34)
    for sv in ("1", "4"):
        env.server.reset()
        extra = ["--sign-version", sv] + (["--region", "cn-hangzhou"] if sv == "4" else [])
        put_ok(env, path, f"cname/v{sv}", "--threshold", "300K", "--part-size", "100K", "--cname",
               "--connect-to", f"127.0.0.1:{env.server.port}", *extra, bucket="bkt-cname",
               endpoint=f"http://files.example.test:{env.server.port}")
        hosts = {e["host"] for e in env.server.log()}
        check(hosts == {f"files.example.test:{env.server.port}"}, f"hosts {hosts}")


@case
def ipv6_endpoint(env):
    """An IPv6 literal endpoint ([::1]): path style, Host with brackets."""
    if not socket.has_ipv6:
        print("     skipped: no IPv6 on this machine")
        return
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        print("     skipped: ::1 is not available here")
        return
    work6 = tempfile.mkdtemp(prefix="ossr-e2e6-", dir=env.workdir)
    s6 = start_server(work6, host="::1")
    try:
        env6 = Env(env.ossup, s6, work6)
        path = env6.file("v6", 350 * KIB, seed=41)
        out, err, _ = put_ok(env6, path, "v6/obj", "--threshold", "300K", "--part-size", "100K",
                             endpoint=f"http://[::1]:{s6.port}")
        hosts = {e["host"] for e in s6.log()}
        check(hosts == {f"[::1]:{s6.port}"}, f"hosts {hosts}")
    finally:
        s6.stop()


@case
def chunked_replies(env):
    """Replies with Transfer-Encoding: chunked (ListParts, Complete, errors, GetObject)."""
    path = env.file("chunk", 900 * KIB, seed=51)
    ck, _ = _half_upload(env, path, "chunk", 5)
    for op in ("ListParts", "CompleteMultipartUpload", "InitiateMultipartUpload"):
        env.server.fault(op=op, action="chunked", count=10)
    rc, _, err = env.run("put", path, "oss://bkt-e2e/chunk", "--threshold", "300K", "--part-size", "100K")
    check(rc == 0, f"chunked ListParts/Complete: {err.strip()}")
    check(parts_sent(env.server.log()) == [5, 6, 7, 8, 9], f"re-sent {parts_sent(env.server.log())}")
    env.server.reset()
    env.server.fault(op="GetObject", action="chunked")
    dest = os.path.join(env.workdir, "chunk-got")
    rc, _, err = env.run("get", "oss://bkt-e2e/chunk", dest)
    check(rc == 0 and md5_file(dest) == md5_file(path), f"chunked GetObject: {err.strip()}")
    env.server.reset()
    env.server.fault(op="PutObject", action="chunked")
    rc, _, err = env.run("put", path, "oss://bkt-e2e/chunk", "--header", "x-oss-forbid-overwrite: true")
    check(rc != 0 and "FileAlreadyExists" in err, f"chunked error reply: {err!r}")
    check([e["fault"] for e in env.server.log()] == ["chunked"], "the error reply was not chunked")


@case
def sequential_upload(env):
    """--sequential: Initiate carries ?sequential, parts go in order even with --threads 4."""
    path = env.file("seq", 1200 * KIB, seed=61)
    env.server.reset()
    put_ok(env, path, "seq/obj", "--threshold", "300K", "--part-size", "100K", "--threads", "4", "--sequential")
    log = env.server.log()
    (i,) = ops(log, "InitiateMultipartUpload")
    check("sequential" in i["query"], f"initiate query {i['query']}")
    order = [e["part_number"] for e in ops(log, "UploadPart")]
    check(order == sorted(order) and len(order) == 12, f"part order {order}")


@case
def early_error_reply(env):
    """The server refuses a large PutObject before reading its body and hangs up: the
    error line names the server's code (not a broken pipe), and nothing is retried."""
    path = env.file("early", 20 * 1024 * KIB, seed=71)
    env.server.reset()
    env.server.fault(op="PutObject", action="status", status=403, code="AccessDenied", early=True, count=10)
    rc, _, err = env.run("put", path, "oss://bkt-e2e/early", "--threshold", "100M")
    check(rc != 0 and "AccessDenied" in err and "403" in err, f"early reply lost: {err!r}")
    check(len(ops(env.server.log(), "PutObject")) == 1, "a refused request was retried")


def main():
    return driver_main("e2e", [fn for fn, quick in CASES if quick or not QUICK], start_server, Env)


if __name__ == "__main__":
    sys.exit(main())
