#!/usr/bin/env python3
"""The fault matrix: ossup (built from oss_resumable.h) against the test server
(tests/oss_server.py) with one injected fault at a time, for each row of README.md's
"Failure behaviour" table.

    python3 tests/test_faults.py build/gcc/ossup

Every case ends in one of the two ways the README promises: an object whose MD5 equals
the file's, or one clear line on stderr ("ossup: error: ..." naming the cause), a non-zero
exit and a checkpoint from which a rerun without the fault completes, sending only the
parts the server lacks. The secrets case runs ossup with an STS key pair and token, makes
it fail in several ways and succeed once, and looks for the secret and the token in every
checkpoint file and in everything ossup printed.

The clock cases run ossup under faketime(1) when it is installed (ossup has no clock
option); without it they are skipped with a line saying so (tests/test_api.c covers the
clock learning through the C API).

OSSR_FAULTS_CASES=name,name runs only those cases; OSSR_FAULTS_VERBOSE=1 prints each
error line that a case checked. The last line is
"faults: N passed, M failed"; the exit status is non-zero when anything failed.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (report, AK, KIB, SK, BaseEnv, Cases, Server, check, clean_environ,  # noqa: E402
                          md5_file, ops, parts_sent, put_ok, run_cases)

BUCKET = "bkt-faults"
# The STS pair of the secrets case: distinctive strings to look for.
STS_AK, STS_SECRET, STS_TOKEN = "sts-ak", "sts-secret-XYZ", "sts-token-XYZ"
MP = ["--threshold", "300K", "--part-size", "100K"]     # multipart, 100 KiB parts
SIZE = 1000 * KIB + 4321                                 # 11 parts of MP
NPARTS = 11
GARBLES = ("status_line", "huge_headers", "many_headers", "bad_chunk", "bad_xml",
           "truncated_body", "conflicting_length")
VERBOSE = os.environ.get("OSSR_FAULTS_VERBOSE") == "1"    # print every error line checked
NOTES = []     # observations that are not failures, printed at the end


class Env(BaseEnv):
    bucket = BUCKET

    def run(self, *args, creds=(AK, SK), token=None, timeout=120, background=False, wrap=(), extra_env=None):
        env = clean_environ()
        env.update(OSS_ACCESS_KEY_ID=creds[0], OSS_ACCESS_KEY_SECRET=creds[1], OSS_ENDPOINT=self.server.base)
        if token:
            env["OSS_SESSION_TOKEN"] = token
        env.update(extra_env or {})
        if wrap:       # a program that runs ossup (faketime): the command is built here
            cmd = list(wrap) + [self.ossup] + list(args)
            if args[0] == "put" and "--checkpoint-dir" not in args:
                cmd += ["--checkpoint-dir", self.ckpt]
            p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
            return p.returncode, p.stdout, p.stderr
        return self.exec_ossup(args, env, timeout=timeout, background=background)


CASES = Cases()
case = CASES.case


# ---------------------------------------------------------------------------------------
# helpers

def ckpt_files(env):
    if not os.path.isdir(env.ckpt):
        return []
    return sorted(os.path.join(env.ckpt, f) for f in os.listdir(env.ckpt) if f.endswith(".ossr"))


def clear_ckpt(env):
    for f in ckpt_files(env):
        os.remove(f)


def open_uploads(env, key):
    return {uid: info for uid, info in env.server.uploads().items() if info["key"] == key}


def drop_uploads(env, key):
    for uid in open_uploads(env, key):
        env.server.abort(uid)


def half_upload(env, path, key, fail_part, why):
    """A fresh multipart upload of path (100 KiB parts) whose part fail_part keeps failing,
    run with one attempt: it must fail, leaving a checkpoint and an open upload. Returns
    the ossup arguments (to run it again) and the failed run's stderr."""
    clear_ckpt(env)
    drop_uploads(env, key)
    env.server.reset()
    env.server.fault(op="UploadPart", part=fail_part, action="status", status=500, count=10)
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP
    rc, _, err = env.run(*args, "--attempts", "1", "--quiet")
    check(rc != 0, why)
    return args, err


def tries(log, op, part=None):
    return [e for e in log if e["op"] == op and (part is None or e["part_number"] == part)]


def one_error_line(err, words, what):
    """stderr (of a --quiet run) is exactly one "ossup: error: ..." line naming the cause:
    at least one of words (case-insensitive)."""
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("ossup: error: "),
          f"{what}: expected one 'ossup: error:' line, got {err!r}")
    check(any(w.lower() in lines[0].lower() for w in words), f"{what}: error line names none of {words}: {lines[0]!r}")
    if VERBOSE:
        print(f"     {what}: {lines[0]}")
    return lines[0]


def fresh_put(env, path, key, *extra):
    """ossup put with no checkpoint and no earlier upload of key: must succeed."""
    clear_ckpt(env)
    drop_uploads(env, key)
    return put_ok(env, path, key, *extra)


def fail_then_resume(env, path, key, faults, words, extra=(), what=None, resume_extra=(), expect_ckpt=True):
    """Runs a multipart upload (MP) with faults that outlast the retries: one clear error
    line naming one of words, a checkpoint and one open upload. Then a rerun without the
    fault resumes that upload (ListParts, no Initiate) and sends exactly the parts the
    server lacked. Returns (error line, first run's log)."""
    what = what or key
    clear_ckpt(env)
    drop_uploads(env, key)
    env.server.reset()
    for f in faults:
        env.server.fault(**f)
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP + list(extra)
    rc, out, err = env.run(*args, "--quiet")
    check(rc not in (0, 2), f"{what}: the faulty run exited {rc}: {err!r}")
    line = one_error_line(err, words, what)
    env.server.wait_idle()
    first = env.server.log()
    ups = open_uploads(env, key)
    if expect_ckpt:
        check(len(ckpt_files(env)) == 1, f"{what}: expected one checkpoint, found {ckpt_files(env)}")
        check(len(ups) == 1, f"{what}: expected one open upload, got {ups}")
        (uid, info), = ups.items()
        stored = set(info["parts"])
    else:       # no upload id reached the client: what the server holds is an orphan
        uid, stored = None, set()
        check(not ckpt_files(env), f"{what}: a checkpoint without an upload id: {ckpt_files(env)}")
    env.server.reset()
    rc, out, err = env.run(*args, *resume_extra)
    check(rc == 0, f"{what}: the rerun failed: {err.strip()}")
    log = env.server.log()
    sent = parts_sent(log)
    missing = sorted(set(range(1, NPARTS + 1)) - stored)
    check(sent == missing, f"{what}: the rerun sent parts {sent}, the server lacked {missing}")
    if expect_ckpt:
        check(not ops(log, "InitiateMultipartUpload"), f"{what}: the rerun started a new upload")
        check(ops(log, "ListParts"), f"{what}: the rerun did not list the parts")
        done = [e["upload_id"] for e in ops(log, "CompleteMultipartUpload") if e["status"] == 200]
        check(done == [uid], f"{what}: completed {done}, expected the checkpoint's upload {uid}")
        check("resumed" in out, f"{what}: the summary does not say resumed: {out!r}")
    obj = env.server.object(BUCKET, key)
    check(obj and obj["md5"] == md5_file(path), f"{what}: the object differs from the file after the rerun")
    left = {u: i for u, i in open_uploads(env, key).items() if u not in ups or expect_ckpt}
    check(not left, f"{what}: uploads left open: {left}")
    check(not ckpt_files(env), f"{what}: checkpoint left after success: {ckpt_files(env)}")
    if not expect_ckpt and ups:
        NOTES.append(f"{what}: the upload the server created stays open ({len(ups)} orphan: "
                     "its id never reached the client)")
    return line, first


def recovered(env, path, key, faults, extra=(), what=None):
    """A multipart upload with faults that the retries absorb: success, object intact,
    one upload. Returns the server log."""
    what = what or key
    env.server.reset()
    for f in faults:
        env.server.fault(**f)
    fresh_put(env, path, key, *MP, *extra)
    log = env.server.log()
    fired = [r for r in env.server.control("GET", "faults") if r["fired"] == 0]
    check(not fired, f"{what}: a fault never fired: {fired}")
    check(not open_uploads(env, key), f"{what}: uploads left open")
    check(not ckpt_files(env), f"{what}: checkpoint left after success")
    return log


# ---------------------------------------------------------------------------------------
# transport faults

@case
def reset_mid_body(env):
    """TCP reset after part of a part's body: the part is re-read and sent again; when it
    keeps happening, a clear error and a resumable checkpoint."""
    path = env.file("reset", SIZE, seed=1)
    log = recovered(env, path, "reset/ok", [dict(op="UploadPart", part=3, action="reset", after_bytes=30000)],
                    extra=["--threads", "2"])
    check(len(tries(log, "UploadPart", 3)) == 2, f"part 3 tried {len(tries(log, 'UploadPart', 3))} times")
    fail_then_resume(env, path, "reset/fail", [dict(op="UploadPart", part=4, action="reset", after_bytes=30000,
                                                    count=10)],
                     ["reset", "closed", "connection", "broken pipe"], extra=["--attempts", "2"])
    env.server.reset()
    env.server.fault(op="PutObject", action="reset", after_bytes=20000)
    small = env.file("reset-small", 200 * KIB, seed=2)
    fresh_put(env, small, "reset/put", "--threshold", "1M")
    check(len(ops(env.server.log(), "PutObject")) == 2, "PutObject not retried once")


@case
def stalled_reply(env):
    """A reply slower than --timeout 1: the connection is dropped and the part sent again;
    a stall on every try ends in a timeout error that names itself, then a resume."""
    path = env.file("stall", SIZE, seed=3)
    t0 = time.time()
    log = recovered(env, path, "stall/ok", [dict(op="UploadPart", part=2, action="stall", seconds=2.5)],
                    extra=["--timeout", "1"])
    check(len(tries(log, "UploadPart", 2)) == 2, f"part 2 tried {len(tries(log, 'UploadPart', 2))} times")
    check(time.time() - t0 < 20, "the stalled part took too long")
    fail_then_resume(env, path, "stall/fail", [dict(op="UploadPart", part=5, action="stall", seconds=2.5, count=10)],
                     ["timed out", "timeout"], extra=["--timeout", "1", "--attempts", "2"])
    # after the body: the server has stored the part when the client gives up
    log = recovered(env, path, "stall/after", [dict(op="UploadPart", part=6, action="stall", seconds=2.5,
                                                    phase="after")], extra=["--timeout", "1"])
    check(len(tries(log, "UploadPart", 6)) == 2, "part 6 (stalled after storing) not sent again")


@case
def server_error_bursts(env):
    """500 and 503 twice in a row: recovered with the default 3 tries; ten in a row with
    --attempts 2: the error names the code and status, and the upload resumes."""
    path = env.file("burst", SIZE, seed=4)
    for status, code in ((500, "InternalError"), (503, "ServiceUnavailable")):
        log = recovered(env, path, f"burst/{status}",
                        [dict(op="UploadPart", part=4, action="status", status=status, count=2)])
        check(len(tries(log, "UploadPart", 4)) == 3, f"{status}: part 4 tried {len(tries(log, 'UploadPart', 4))} times")
        line, first = fail_then_resume(env, path, f"burst/{status}-fail",
                                       [dict(op="UploadPart", part=7, action="status", status=status, count=10)],
                                       [code], extra=["--attempts", "2"])
        check(str(status) in line and "request id" in line, f"{status}: error line {line!r}")
        check(len(tries(first, "UploadPart", 7)) == 2, f"{status}: --attempts 2 made {len(tries(first, 'UploadPart', 7))} tries")
    for op in ("InitiateMultipartUpload", "CompleteMultipartUpload"):
        log = recovered(env, path, f"burst/{op}", [dict(op=op, action="status", status=503, count=2)])
        check(len(ops(log, op)) == 3, f"{op} tried {len(ops(log, op))} times")
        check(len([e for e in ops(log, "InitiateMultipartUpload") if e["status"] == 200]) == 1,
              f"{op}: more than one upload started")
    env.server.reset()
    env.server.fault(op="PutObject", action="status", status=500, count=2)
    small = env.file("burst-small", 200 * KIB, seed=5)
    fresh_put(env, small, "burst/put", "--threshold", "1M")
    check(len(ops(env.server.log(), "PutObject")) == 3, "PutObject not tried three times")


@case
def list_parts_burst_on_resume(env):
    """A resume whose ListParts gets two 503s: retried, then only the missing parts."""
    path = env.file("lpb", SIZE, seed=6)
    key = "burst/listparts"
    args, err = half_upload(env, path, key, 8, "the first run should fail at part 8")
    (uid, info), = open_uploads(env, key).items()
    env.server.reset()
    env.server.fault(op="ListParts", action="status", status=503, count=2)
    rc, out, err = env.run(*args)
    check(rc == 0, f"resume with a ListParts burst failed: {err.strip()}")
    log = env.server.log()
    check(len(ops(log, "ListParts")) == 3, f"ListParts tried {len(ops(log, 'ListParts'))} times")
    check(parts_sent(log) == sorted(set(range(1, NPARTS + 1)) - set(info["parts"])), f"re-sent {parts_sent(log)}")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")


# ---------------------------------------------------------------------------------------
# garbled replies

def garble(kind, **kw):
    return dict(action="garble", kind=kind, **kw)


@case
def garbled_part_replies(env):
    """Each garbled reply to UploadPart (the part was stored all the same): the part is
    sent again and the upload succeeds; the same garble on every try gives one clear
    error line and a checkpoint that resumes. bad_xml matters not to UploadPart (its reply
    has no XML the client needs): one try."""
    path = env.file("garble", SIZE, seed=7)
    words = {"status_line": ["malformed", "reply"], "huge_headers": ["larger than", "reply head", "malformed"],
             "many_headers": ["malformed", "too many", "reply head"], "bad_chunk": ["chunk"],
             "truncated_body": ["closed", "middle of the reply"], "conflicting_length": ["Content-Length"]}
    for kind in GARBLES:
        log = recovered(env, path, f"garble/{kind}", [dict(op="UploadPart", part=3, **garble(kind))],
                        extra=["--threads", "2"], what=f"UploadPart {kind}")
        n = len(tries(log, "UploadPart", 3))
        check(n == (1 if kind == "bad_xml" else 2), f"UploadPart {kind}: part 3 tried {n} times")
        if kind == "bad_xml":
            continue
        fail_then_resume(env, path, f"garble/{kind}-fail", [dict(op="UploadPart", part=6, count=10, **garble(kind))],
                         words[kind], extra=["--attempts", "2"], what=f"UploadPart {kind} x10")


@case
def garbled_put_object(env):
    """Garbled replies to PutObject (the object was stored): the PUT is sent again."""
    small = env.file("garble-put", 200 * KIB, seed=8)
    for kind in ("status_line", "huge_headers", "conflicting_length", "truncated_body", "bad_chunk"):
        env.server.reset()
        env.server.fault(op="PutObject", **garble(kind))
        fresh_put(env, small, f"garble-put/{kind}", "--threshold", "1M")
        check(len(ops(env.server.log(), "PutObject")) == 2, f"PutObject {kind}: not sent again")


@case
def garbled_initiate(env):
    """Initiate: a garbled but retryable reply (the server did create the upload) is
    retried and the upload succeeds; a cut XML body (middle, inside </UploadId>, inside
    the root's closing tag) is a clear error without a retry, and a rerun completes."""
    path = env.file("ginit", SIZE, seed=9)
    key = "garble-init/retry"
    env.server.reset()
    env.server.fault(op="InitiateMultipartUpload", **garble("status_line"))
    fresh_put(env, path, key, *MP)
    log = env.server.log()
    inits = ops(log, "InitiateMultipartUpload")
    check(len(inits) == 2, f"Initiate tried {len(inits)} times")
    left = open_uploads(env, key)
    if left:
        NOTES.append(f"garbled_initiate: a retried Initiate leaves the first upload open on the server "
                     f"({len(left)} orphan; the client never learnt its id)")
        drop_uploads(env, key)
    for at in (None, "UploadId"):
        _initiate_bad_xml(env, path, at)


def _initiate_bad_xml(env, path, at):
    what = f"Initiate bad_xml cut {'in the middle' if not at else 'inside </' + at + '>'}"
    spec = garble("bad_xml", **({"at": at} if at else {}))
    key = f"garble-init/xml-{at or 'mid'}"
    line, first = fail_then_resume(env, path, key, [dict(op="InitiateMultipartUpload", **spec)],
                                   ["InitiateMultipartUpload", "UploadId", "malformed"], what=what,
                                   expect_ckpt=False)
    check(len(ops(first, "InitiateMultipartUpload")) == 1, f"{what}: Initiate was retried")
    drop_uploads(env, key)


@case
def initiate_xml_cut_after_upload_id(env):
    """An Initiate reply cut inside the root's closing tag, after a complete <UploadId>:
    still truncated XML, which the README says is refused (OSSR_E_BAD_REPLY, no guess)."""
    _initiate_bad_xml(env, env.file("ginit2", SIZE, seed=21), "InitiateMultipartUploadResult")


@case
def garbled_list_parts(env):
    """ListParts on a resume: retryable garbles are retried and the resume sends only the
    missing parts; a cut XML body is a clear error without a retry, the checkpoint stays,
    and the next rerun resumes."""
    path = env.file("glist", SIZE, seed=10)
    for kind in ("status_line", "truncated_body", "conflicting_length", "bad_chunk", "many_headers"):
        key = f"garble-list/{kind}"
        args, _ = half_upload(env, path, key, 5, f"ListParts {kind}: the first run should fail")
        (uid, info), = open_uploads(env, key).items()
        env.server.reset()
        env.server.fault(op="ListParts", **garble(kind))
        rc, out, err = env.run(*args)
        check(rc == 0, f"ListParts {kind}: resume failed: {err.strip()}")
        log = env.server.log()
        check(len(ops(log, "ListParts")) == 2, f"ListParts {kind}: tried {len(ops(log, 'ListParts'))} times")
        check(not ops(log, "InitiateMultipartUpload"), f"ListParts {kind}: a new upload was started")
        check(parts_sent(log) == sorted(set(range(1, NPARTS + 1)) - set(info["parts"])),
              f"ListParts {kind}: re-sent {parts_sent(log)}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), f"ListParts {kind}: object differs")
    # bad_xml: no guess, no retry, the checkpoint is kept; then a clean resume
    key = "garble-list/bad_xml"
    args, _ = half_upload(env, path, key, 7, "ListParts bad_xml: the first run should fail")
    (uid, info), = open_uploads(env, key).items()
    for at in (None, "ListPartsResult"):
        env.server.reset()
        env.server.fault(op="ListParts", **garble("bad_xml", **({"at": at} if at else {})))
        rc, _, err = env.run(*args, "--quiet")
        what = f"ListParts bad_xml cut {'in the middle' if not at else 'inside </' + at + '>'}"
        check(rc not in (0, 2), f"{what}: accepted ({rc})")
        one_error_line(err, ["ListParts", "malformed", "XML"], what)
        log = env.server.log()
        check(len(ops(log, "ListParts")) == 1, f"{what}: ListParts tried {len(ops(log, 'ListParts'))} times")
        check(not ops(log, "UploadPart") and not ops(log, "InitiateMultipartUpload"),
              f"{what}: it went on after a malformed ListParts")
        check(len(ckpt_files(env)) == 1, f"{what}: the checkpoint is gone")
    env.server.reset()
    rc, out, err = env.run(*args)
    check(rc == 0, f"ListParts bad_xml: the clean resume failed: {err.strip()}")
    log = env.server.log()
    check(not ops(log, "InitiateMultipartUpload"), "ListParts bad_xml: the clean resume started over")
    check(parts_sent(log) == sorted(set(range(1, NPARTS + 1)) - set(info["parts"])),
          f"ListParts bad_xml: the clean resume sent {parts_sent(log)}")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "ListParts bad_xml: object differs")


@case
def garbled_complete(env):
    """Complete: the server completed the upload, the reply is garbled. Retryable kinds:
    the retry meets NoSuchUpload and a HEAD proves the object; bad_xml: the reply's
    headers carry the ETag and CRC-64. Always one upload, never a second one."""
    path = env.file("gcomp", SIZE, seed=11)
    for kind in GARBLES:
        log = recovered(env, path, f"garble-complete/{kind}",
                        [dict(op="CompleteMultipartUpload", **garble(kind))], what=f"Complete {kind}")
        check(len(ops(log, "InitiateMultipartUpload")) == 1, f"Complete {kind}: the file was uploaded again")
        check(parts_sent(log) == list(range(1, NPARTS + 1)), f"Complete {kind}: parts {parts_sent(log)}")
        if kind != "bad_xml":
            check(ops(log, "HeadObject"), f"Complete {kind}: no HEAD after the garbled reply")


# ---------------------------------------------------------------------------------------
# integrity and upload state

@case
def wrong_part_crc(env):
    """x-oss-hash-crc64ecma differs from what was sent: the part goes again; always wrong:
    a CRC error and a resume. A wrong whole-object CRC after Complete: the upload id is
    spent, the checkpoint removed, and the next run starts a new upload."""
    path = env.file("crc", SIZE, seed=12)
    log = recovered(env, path, "crc/ok", [dict(op="UploadPart", part=2, action="bad_crc")])
    check(len(tries(log, "UploadPart", 2)) == 2, f"part 2 tried {len(tries(log, 'UploadPart', 2))} times")
    fail_then_resume(env, path, "crc/fail", [dict(op="UploadPart", part=3, action="bad_crc", count=10)],
                     ["CRC"], extra=["--attempts", "2"])
    key = "crc/complete"
    clear_ckpt(env)
    drop_uploads(env, key)
    env.server.reset()
    env.server.fault(op="CompleteMultipartUpload", action="bad_crc")
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP
    rc, _, err = env.run(*args, "--quiet")
    check(rc not in (0, 2), "a wrong whole-object CRC-64 was accepted")
    one_error_line(err, ["CRC"], "Complete bad_crc")
    check(not ckpt_files(env), "the spent upload's checkpoint was kept")
    env.server.reset()
    rc, _, err = env.run(*args)
    check(rc == 0, f"upload after a whole-object CRC error failed: {err.strip()}")
    log = env.server.log()
    check(len(ops(log, "InitiateMultipartUpload")) == 1 and parts_sent(log) == list(range(1, NPARTS + 1)),
          "the upload after a CRC error did not start over")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")


@case
def no_such_upload_mid_run(env):
    """NoSuchUpload on a later part: the library starts a new upload once and succeeds."""
    path = env.file("nsu", SIZE, seed=13)
    key = "nsu/mid"
    env.server.reset()
    env.server.fault(op="UploadPart", part=6, action="no_such_upload")
    clear_ckpt(env)
    drop_uploads(env, key)
    out, err, _ = put_ok(env, path, key, *MP)
    log = env.server.log()
    inits = [e for e in ops(log, "InitiateMultipartUpload") if e["status"] == 200]
    check(len(inits) == 2, f"expected a second Initiate, got {len(inits)}")
    (c,) = [e for e in ops(log, "CompleteMultipartUpload") if e["status"] == 200]
    check(c["upload_id"] == inits[1]["upload_id"], "Complete did not use the new upload")
    check("vanished" in err or "no longer exists" in err, f"no log line about the vanished upload: {err!r}")
    check(not ckpt_files(env), "checkpoint left")
    drop_uploads(env, key)      # the first upload (only the fault said it was gone)
    # twice: the restart happens once only, then a clear error
    env.server.reset()
    env.server.fault(op="UploadPart", part=6, action="no_such_upload", count=2)
    clear_ckpt(env)
    rc, _, err = env.run("put", path, f"oss://{BUCKET}/nsu/twice", *MP, "--quiet")
    check(rc not in (0, 2), "a second NoSuchUpload did not stop the upload")
    one_error_line(err, ["NoSuchUpload"], "NoSuchUpload twice")
    check(len(ops(env.server.log(), "InitiateMultipartUpload")) == 2, "more than one restart")
    drop_uploads(env, "nsu/twice")
    clear_ckpt(env)


@case
def lost_complete_reply(env):
    """The server completes the upload and the reply is lost (closed, or reset): the retry
    meets NoSuchUpload, a HEAD proves size and CRC-64, success; no second upload."""
    path = env.file("lost", SIZE, seed=14)
    for rst in (False, True):
        key = f"lost/{'rst' if rst else 'close'}"
        env.server.reset()
        env.server.fault(op="CompleteMultipartUpload", action="drop_reply", rst=rst)
        clear_ckpt(env)
        out, err, _ = put_ok(env, path, key, *MP)
        log = env.server.log()
        check(len(ops(log, "InitiateMultipartUpload")) == 1, f"{key}: the file was uploaded again")
        check(parts_sent(log) == list(range(1, NPARTS + 1)), f"{key}: parts sent {parts_sent(log)}")
        check(ops(log, "HeadObject"), f"{key}: no HEAD")
        check("lost" in err, f"{key}: no log line about the lost reply: {err!r}")
        check(not ckpt_files(env), f"{key}: checkpoint left")
    # the reply is lost and the HEAD is refused: an error, the checkpoint kept; then a
    # rerun finds the object by HEAD without uploading anything
    key = "lost/head-refused"
    clear_ckpt(env)
    env.server.reset()
    env.server.fault(op="CompleteMultipartUpload", action="drop_reply")
    env.server.fault(op="HeadObject", action="status", status=403, code="AccessDenied")
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP
    rc, _, err = env.run(*args, "--quiet")
    check(rc not in (0, 2), "success claimed without checking the object")
    one_error_line(err, ["HeadObject", "AccessDenied", "gone"], "HEAD refused")
    check(len(ckpt_files(env)) == 1, "the checkpoint was dropped although the object is unchecked")
    env.server.reset()
    rc, out, err = env.run(*args)
    check(rc == 0, f"rerun after a lost reply and a refused HEAD failed: {err.strip()}")
    log = env.server.log()
    check(not parts_sent(log) and not ops(log, "InitiateMultipartUpload"), "the rerun uploaded again")
    check(ops(log, "HeadObject"), "the rerun did not HEAD the object")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")


# ---------------------------------------------------------------------------------------
# the client's clock

@case
def client_clock(env):
    """The client's clock an hour behind, an hour ahead, and at 1970 (under faketime):
    the library learns the server's time and succeeds, saying so."""
    faketime = shutil.which("faketime")
    if os.environ.get("OSSR_FAULTS_NO_FAKETIME") == "1":   # e.g. sanitizer builds, which faketime hangs
        print("     skipped: OSSR_FAULTS_NO_FAKETIME=1 (tests/test_api.c covers the clock through the C API)")
        return
    if not faketime:
        print("     skipped: faketime is not installed (tests/test_api.c covers the clock through the C API)")
        return
    path = env.file("clock", SIZE, seed=15)
    small = env.file("clock-small", 2000, seed=16)
    for label, spec in (("-1h", "-1h"), ("+1h", "+1h"), ("1970", "@1970-01-02 00:00:00")):
        for sv in ("1", "4"):
            sign = ["--sign-version", sv] + (["--region", "cn-hangzhou"] if sv == "4" else [])
            for p, extra in ((small, ["--threshold", "1M"]), (path, MP)):
                key = f"clock/{label}-v{sv}-{os.path.basename(p)}"
                clear_ckpt(env)
                env.server.reset()
                rc, out, err = env.run("put", p, f"oss://{BUCKET}/{key}", *extra, *sign,
                                       wrap=(faketime, "-f", spec), extra_env={"DONT_FAKE_MONOTONIC": "1"})
                check(rc == 0, f"clock {label} V{sv}: {err.strip()}")
                obj = env.server.object(BUCKET, key)
                check(obj and obj["md5"] == md5_file(p), f"clock {label} V{sv}: object differs")
                check("clock" in err.lower(), f"clock {label} V{sv}: no log line about the clock: {err!r}")
                skewed = [e for e in env.server.log() if e["code"] == "RequestTimeTooSkewed"]
                check(len(skewed) <= 1, f"clock {label} V{sv}: {len(skewed)} requests refused as skewed")


# ---------------------------------------------------------------------------------------
# the local file changes

def _touch_change(path, offset=1000):
    """Rewrites a few bytes in place: same size, new content and mtime."""
    time.sleep(0.01)
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(8)
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in old))


@case
def file_changed_between_runs(env):
    """The file changed after a failed run: the stale checkpoint's upload is aborted, a new
    upload starts (log line "stale"), and the object is the new content."""
    path = env.file("stale", SIZE, seed=17)
    key = "changed/between"
    args, err = half_upload(env, path, key, 4, "the first run should fail")
    old = list(open_uploads(env, key))
    check(len(old) == 1 and len(ckpt_files(env)) == 1, "no checkpoint or upload after the failure")
    _touch_change(path)
    env.server.reset()
    rc, _, err = env.run(*args)
    check(rc == 0, f"run after the change failed: {err.strip()}")
    log = env.server.log()
    check([e["upload_id"] for e in ops(log, "AbortMultipartUpload")] == old, "the old upload was not aborted")
    check(len(ops(log, "InitiateMultipartUpload")) == 1, "no new upload")
    check(parts_sent(log) == list(range(1, NPARTS + 1)), f"parts {parts_sent(log)}")
    check("stale" in err, f"no 'stale' log line: {err!r}")
    check(not open_uploads(env, key), "uploads left open")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs from the new content")


@case
def file_changed_during_run(env):
    """The file changes while a part is stalled on the server: no Complete is sent, the
    error says the file changed, and the next run starts over and succeeds."""
    path = env.file("during", SIZE, seed=18)
    key = "changed/during"
    clear_ckpt(env)
    drop_uploads(env, key)
    env.server.reset()
    env.server.fault(op="UploadPart", part=3, action="stall", seconds=1.5)
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP
    p = env.run(*args, "--quiet", background=True)
    deadline = time.time() + 20
    while time.time() < deadline and not [e for e in env.server.log() if e["fault"] == "stall"]:
        time.sleep(0.05)
    _touch_change(path, offset=5 * 100 * KIB + 10)
    out, err = p.communicate(timeout=60)
    check(p.returncode not in (0, 2), f"a changed file was completed (exit {p.returncode})")
    one_error_line(err, ["changed"], "changed during the run")
    log = env.server.log()
    check(not ops(log, "CompleteMultipartUpload"), "CompleteMultipartUpload was sent for a changed file")
    check(env.server.object(BUCKET, key) is None, "an object was created from a changed file")
    env.server.reset()
    rc, _, err = env.run(*args)
    check(rc == 0, f"the run after the change failed: {err.strip()}")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs from the file")
    check(not open_uploads(env, key), f"uploads left open: {open_uploads(env, key)}")
    # PutObject: the stall holds the body; the change is caught after the PUT
    small = env.file("during-small", 2 * 1024 * KIB, seed=19)
    env.server.reset()
    env.server.fault(op="PutObject", action="stall", seconds=1.0)
    p = env.run("put", small, f"oss://{BUCKET}/changed/put", "--threshold", "10M", "--quiet", background=True)
    deadline = time.time() + 20
    while time.time() < deadline and not [e for e in env.server.log() if e["fault"] == "stall"]:
        time.sleep(0.05)
    _touch_change(small, offset=10)
    out, err = p.communicate(timeout=60)
    check(p.returncode not in (0, 2), f"PutObject of a changed file reported success (exit {p.returncode})")
    one_error_line(err, ["changed"], "PutObject of a changed file")


# ---------------------------------------------------------------------------------------
# secrets

@case
def secrets_never_written(env):
    """An STS key pair and token: wrong token, wrong secret, a 403 on a part, a killed run,
    then a success. Neither the secret nor the token may appear in a checkpoint file or in
    anything ossup printed."""
    path = env.file("secret", SIZE, seed=20)
    key = "secrets/obj"
    wrong_token = "sts-token-WRONG-XYZ"
    wrong_secret = "sts-secret-WRONG-XYZ"
    needles = [STS_SECRET, STS_TOKEN, wrong_token, wrong_secret]
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP + ["--verbose"]
    clear_ckpt(env)
    drop_uploads(env, key)
    seen = []            # (what, text) of everything printed
    scanned = set()

    def scan(what):
        for f in ckpt_files(env):
            with open(f, "rb") as fh:
                data = fh.read()
            scanned.add(os.path.basename(f))
            for n in needles:
                check(n.encode() not in data, f"{what}: checkpoint {os.path.basename(f)} holds {n!r}")
        for label, text in seen:
            for n in needles:
                check(n not in text, f"{label} holds {n!r}")

    def run(what, creds=(STS_AK, STS_SECRET), token=STS_TOKEN, **kw):
        rc, out, err = env.run(*args, creds=creds, token=token, **kw)
        seen.extend([(what + " stdout", out), (what + " stderr", err)])
        return rc, out, err

    for sv in ("1", "4"):
        extra_sign = ["--sign-version", sv] + (["--region", "cn-hangzhou"] if sv == "4" else [])
        env.server.reset()
        rc, out, err = env.run(*args, *extra_sign, creds=(STS_AK, STS_SECRET), token=wrong_token)
        seen.extend([(f"wrong token V{sv} stdout", out), (f"wrong token V{sv} stderr", err)])
        check(rc != 0 and "InvalidSecurityToken" in err, f"wrong token V{sv}: {err!r}")
        rc, out, err = env.run(*args, *extra_sign, creds=(STS_AK, wrong_secret), token=STS_TOKEN)
        seen.extend([(f"wrong secret V{sv} stdout", out), (f"wrong secret V{sv} stderr", err)])
        check(rc != 0 and "SignatureDoesNotMatch" in err, f"wrong secret V{sv}: {err!r}")
    scan("wrong credentials")
    env.server.reset()
    env.server.fault(op="UploadPart", part=5, action="status", status=403, code="AccessDenied", count=10)
    rc, _, err = run("403 on part 5")
    check(rc != 0 and "AccessDenied" in err, f"403: {err!r}")
    check(len(ckpt_files(env)) == 1, "no checkpoint after the 403")
    scan("after the 403")
    env.server.reset()
    env.server.fault(op="UploadPart", action="stall", seconds=0.3, count=1000)
    p = env.run(*args, creds=(STS_AK, STS_SECRET), token=STS_TOKEN, background=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGKILL)
    out, err = p.communicate()
    seen.extend([("killed run stdout", out), ("killed run stderr", err)])
    time.sleep(0.5)
    check(len(ckpt_files(env)) == 1, "no checkpoint after the kill")
    scan("after the kill")
    env.server.reset()
    rc, out, err = run("success")
    check(rc == 0, f"the final run failed: {err.strip()}")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
    check(all(e["headers"].get("x-oss-security-token") == STS_TOKEN for e in env.server.log()),
          "the token was not sent on every request")
    scan("after the success")
    check(scanned, "no checkpoint file was ever looked at")


# ---------------------------------------------------------------------------------------

def main():
    if len(sys.argv) != 2:
        print("usage: test_faults.py PATH-TO-OSSUP", file=sys.stderr)
        return 2
    ossup = os.path.abspath(sys.argv[1])
    only = [n for n in os.environ.get("OSSR_FAULTS_CASES", "").split(",") if n]
    fns = [fn for fn, _ in CASES if not only or fn.__name__ in only]
    work = tempfile.mkdtemp(prefix="ossr-faults-")
    t0 = time.time()
    server = Server(work, credentials=[f"{STS_AK}:{STS_SECRET}:{STS_TOKEN}"], quiet=True)
    passed = failed = 0
    try:
        passed, failed = run_cases(fns, Env(ossup, server, work))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return report("faults", passed, failed, t0, NOTES)


if __name__ == "__main__":
    sys.exit(main())
