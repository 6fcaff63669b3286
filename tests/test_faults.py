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

The cases after the secrets case (poisoned_etag to damaged_header_aborts_old_upload) put
ossup in situations where a simple library goes wrong: an ETag that differs from the stored
one, a kill while the server is still completing, a reply trickling in a byte a second, a
4 MB or 1,001-part ListParts, a hostile but valid ListParts document, a download cut short
without any length, a checkpoint path that is a directory (or a checkpoint directory that
is a file), two runs of the same upload at once, and a damaged or foreign checkpoint record.
Each docstring states what a right library does and why. oversized_listparts builds the
LD_PRELOAD shim tests/recvcount.c with cc to count receive calls.

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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (AK, KIB, SK, BaseEnv, Cases, Server, check, clean_environ,  # noqa: E402
                          driver_main, md5_file, ops, parts_sent, put_ok, selected)

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


@case
def head_refused_for_good(env):
    """An identity that may upload but not read (HeadObject always 403, an upload-only
    policy), after a Complete that failed: the record says Complete was sent, and the
    HEAD that would check the object never answers. The upload's parts on the server
    decide: the next run sends Complete again, nothing else, and the object is whole
    (before, every later run failed on the refused HEAD)."""
    path = env.file("headless", SIZE, seed=42)
    key = "headless/obj"
    clear_ckpt(env)
    env.server.reset()
    env.server.fault(op="CompleteMultipartUpload", action="status", status=503, code="ServiceUnavailable", count=100)
    env.server.fault(op="HeadObject", action="status", status=403, code="AccessDenied", count=100000)
    args = ["put", path, f"oss://{BUCKET}/{key}", "--attempts", "1"] + MP
    rc, _, err = env.run(*args, "--quiet")
    check(rc not in (0, 2) and "ServiceUnavailable" in err, f"the failed Complete: exit {rc}: {err!r}")
    check(len(ckpt_files(env)) == 1, "no checkpoint after the failed Complete")
    env.server.reset()   # the Complete fault goes; the HEAD stays refused
    env.server.fault(op="HeadObject", action="status", status=403, code="AccessDenied", count=100000)
    rc, out, err = env.run(*args)
    log = env.server.log()
    check(rc == 0, f"the run after a failed Complete, HEAD refused: exit {rc}: {err.strip()}")
    check(not parts_sent(log) and not ops(log, "InitiateMultipartUpload"), "parts were sent again")
    check(len(ops(log, "CompleteMultipartUpload")) == 1 and ops(log, "HeadObject"), "not a HEAD and one Complete")
    check("cannot be checked" in err, f"the refused HEAD was not said: {err!r}")
    check(not ckpt_files(env), "checkpoint left")
    check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
    drop_uploads(env, key)


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
# cases written ahead of library fixes: each docstring says what a right library does

def timed_run(env, *args, limit=60, **kw):
    """env.run with a time limit: (rc, out, err, seconds); a run still going after limit
    seconds is killed and fails the case."""
    t0 = time.time()
    try:
        rc, out, err = env.run(*args, timeout=limit, **kw)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"ossup {' '.join(args[:1])} was still running after {limit} s (killed)")
    return rc, out, err, time.time() - t0


def wait_for_log(env, pred, what, proc=None, limit=60):
    """Polls the server log until an entry satisfies pred; returns it. Fails when proc
    ends first or after limit seconds."""
    deadline = time.time() + limit
    while time.time() < deadline:
        hit = [e for e in env.server.log() if pred(e)]
        if hit:
            return hit[0]
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"ossup ended (exit {proc.returncode}) before {what}: {err.strip()!r}")
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {limit} s")


def kill(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate()


def missing_parts(info):
    return sorted(set(range(1, NPARTS + 1)) - set(info["parts"]))


def each(*steps):
    """Runs every step (a function without arguments) even when an earlier one failed,
    then fails with all their messages, each after its step's name."""
    msgs = []
    for step in steps:
        try:
            step()
        except AssertionError as e:
            msgs.append(f"[{step.__name__}] {e}")
    if msgs:
        raise AssertionError("; ".join(msgs))


@case
def poisoned_etag(env):
    """UploadPart 3 answers with an ETag that differs from the one the server stored (a
    proxy or a bug can do that; the part itself is fine). Complete listing that ETag gets
    400 InvalidPart. A right library then asks ListParts, whose ETag wins, and completes
    again in the same run: success, the object is the file, no part sent twice except
    perhaps part 3, no upload left open, no checkpoint left. Should the run fail, a
    second run must not fail the same way: nothing may be kept that makes every later
    run send the same wrong list."""
    path = env.file("poison", SIZE, seed=31)
    key = "poison/etag"
    clear_ckpt(env)
    drop_uploads(env, key)
    env.server.reset()
    env.server.fault(op="UploadPart", part=3, action="poison_etag")
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP
    rc, out, err, _ = timed_run(env, *args, "--quiet", limit=120)
    env.server.wait_idle()
    if rc != 0:
        first = err.strip()
        env.server.reset()
        rc2, _, err2, _ = timed_run(env, *args, "--quiet", limit=120)
        obj = env.server.object(BUCKET, key)
        if rc2 == 0 and obj and obj["md5"] == md5_file(path):
            second = "a second run succeeded"
        else:
            second = f"a second run failed too (exit {rc2}): {err2.strip()!r}"
        drop_uploads(env, key)
        clear_ckpt(env)
        raise AssertionError(f"the run with a poisoned ETag failed (exit {rc}): {first!r}; {second}")
    log = env.server.log()
    obj = env.server.object(BUCKET, key)
    check(obj and obj["md5"] == md5_file(path), "the object differs from the file")
    for n in range(1, NPARTS + 1):
        sent = len([e for e in tries(log, "UploadPart", n) if e["status"] == 200])
        check(sent == 1 or (n == 3 and sent == 2), f"part {n} sent {sent} times")
    check(ops(log, "ListParts"), "no ListParts to learn the stored ETags")
    check(len([e for e in ops(log, "InitiateMultipartUpload") if e["status"] == 200]) == 1, "a second upload")
    check(not open_uploads(env, key), f"uploads left open: {open_uploads(env, key)}")
    check(not ckpt_files(env), f"checkpoint left: {ckpt_files(env)}")


def _kill_during_complete(env, visible):
    path = env.file(f"kdc-{visible}", SIZE, seed=32)
    key = f"kill-complete/{visible}"
    clear_ckpt(env)
    drop_uploads(env, key)
    env.server.reset()
    env.server.fault(op="CompleteMultipartUpload", action="slow_complete", seconds=4, visible=visible)
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP
    p = env.run(*args, "--quiet", background=True)
    try:
        wait_for_log(env, lambda e: e["op"] == "CompleteMultipartUpload" and e.get("completing"),
                     "a CompleteMultipartUpload on the server", proc=p)
    finally:
        kill(p)
    env.server.reset()          # the Complete goes on in the server; the log starts afresh
    rc, out, err, _ = timed_run(env, *args, limit=120)
    env.server.wait_idle()
    log = env.server.log()
    check(rc == 0, f"the rerun failed (exit {rc}): {err.strip()!r}")
    check(not ops(log, "UploadPart"), f"the rerun sent parts {sorted(e['part_number'] for e in ops(log, 'UploadPart'))}")
    check(not ops(log, "InitiateMultipartUpload"), "the rerun started a new upload")
    obj = env.server.object(BUCKET, key)
    check(obj and obj["md5"] == md5_file(path), "the object differs from the file")
    check(not ckpt_files(env), f"checkpoint left: {ckpt_files(env)}")
    check(not open_uploads(env, key), f"uploads left open: {open_uploads(env, key)}")


@case
def kill_during_complete(env):
    """ossup is killed while the server is still completing the upload (slow_complete,
    4 s; meanwhile ListParts shows only half the parts), and run again at once. The
    checkpoint says Complete was sent, so a right library sends no part and no new
    upload: it waits the Complete out (or sees NoSuchUpload and proves the object by
    HEAD), and ends in success with the file's bytes and no checkpoint left."""
    _kill_during_complete(env, "half")


@case
def kill_during_complete_none(env):
    """As kill_during_complete, but while the Complete is at work ListParts answers
    NoSuchUpload: that is no reason to upload the file again either."""
    _kill_during_complete(env, "none")


@case
def trickle_head(env):
    """A reply that comes at 1 byte a second (the server would keep it up for 120 s):
    with --timeout 3 ossup must give up on it as a timeout and try again, for a
    PutObject, an UploadPart and (trickled after a full-speed head) a ListParts body on
    a resume. Each run must succeed well within 60 s, and the log shows the retry."""
    small = env.file("trickle-put", 200 * KIB, seed=33)
    path = env.file("trickle-mp", SIZE, seed=34)

    def put_object():
        key = "trickle/put"
        env.server.reset()
        env.server.fault(op="PutObject", action="trickle", rate=1)
        rc, out, err, took = timed_run(env, "put", small, f"oss://{BUCKET}/{key}", "--threshold", "1M",
                                       "--timeout", "3", limit=60)
        check(rc == 0, f"PutObject with a trickled reply failed (exit {rc}): {err.strip()!r}")
        n = len(ops(env.server.log(), "PutObject"))
        check(n == 2, f"PutObject sent {n} times")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(small), "object differs")

    def upload_part():
        key = "trickle/part"
        env.server.reset()
        env.server.fault(op="UploadPart", part=2, action="trickle", rate=1)
        clear_ckpt(env)
        drop_uploads(env, key)
        rc, out, err, took = timed_run(env, "put", path, f"oss://{BUCKET}/{key}", *MP, "--timeout", "3", limit=60)
        check(rc == 0, f"an upload with a trickled UploadPart reply failed (exit {rc}): {err.strip()!r}")
        check(len(tries(env.server.log(), "UploadPart", 2)) == 2, "part 2 was not sent again")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")

    def list_parts_body():
        key = "trickle/listparts"
        args, _ = half_upload(env, path, key, 6, "the first run should fail at part 6")
        (uid, info), = open_uploads(env, key).items()
        env.server.reset()
        env.server.fault(op="ListParts", action="trickle", phase="body", rate=1)
        rc, out, err, took = timed_run(env, *args, "--timeout", "3", limit=60)
        check(rc == 0, f"a resume with a trickled ListParts body failed (exit {rc}): {err.strip()!r}")
        log = env.server.log()
        check(len(ops(log, "ListParts")) >= 2, "ListParts was not asked again")
        check(parts_sent(log) == missing_parts(info), f"the resume sent {parts_sent(log)}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")

    each(put_object, upload_part, list_parts_body)


def recv_counter(env):
    """tests/recvcount.c built into the work directory (once): the LD_PRELOAD path."""
    so = os.path.join(env.workdir, "recvcount.so")
    if not os.path.exists(so):
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recvcount.c")
        r = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-shared", "-fPIC", src, "-o", so, "-ldl"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"cannot build recvcount.so: {r.stderr.strip()}")
    return so


@case
def oversized_listparts(env):
    """A resume whose every ListParts reply is padded to 4 MB with whitespace between
    the parts (the document means the same): the resume must complete, sending only the
    missing parts, and read the reply in big pieces, not a byte per recv (fewer than
    2,000 receive calls in the whole run, counted by tests/recvcount.c). Then a resume
    of an upload with 1,001 parts on the server, run with --buffer-size 16K: ListParts
    pages stay 1,000 parts (max-parts=1000 on every request, so two pages a listing),
    whatever the buffer size: a small buffer must not turn into more requests."""
    def padded_4mb():
        so = recv_counter(env)
        path = env.file("big-lp", SIZE, seed=35)
        key = "oversized/listparts"
        args, _ = half_upload(env, path, key, 8, "the first run should fail at part 8")
        (uid, info), = open_uploads(env, key).items()
        env.server.reset()
        env.server.fault(op="ListParts", action="pad", bytes=4 << 20, where="parts", count=1000)
        counts = os.path.join(env.workdir, "recvcount.out")
        if os.path.exists(counts):
            os.remove(counts)
        rc, out, err, _ = timed_run(env, *args, limit=120, extra_env={"LD_PRELOAD": so, "RECVCOUNT_OUT": counts})
        check(rc == 0, f"the resume with a 4 MB ListParts reply failed (exit {rc}): {err.strip()!r}")
        log = env.server.log()
        check(parts_sent(log) == missing_parts(info), f"the resume sent {parts_sent(log)}, lacking {missing_parts(info)}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
        with open(counts) as f:
            fields = dict(kv.split("=") for kv in f.read().split()[1:3])
        calls, got = int(fields["calls"]), int(fields["bytes"])
        check(got >= 4 << 20, f"only {got} bytes received: the padded reply was not read")
        check(calls < 2000, f"{calls} receive calls for {got} bytes")

    def pages_of_1000():
        # 1,001 parts on the server, a 16 KiB buffer
        many = 1001
        path = env.file("many-parts", (many + 1) * 100 * KIB, seed=36)
        key = "oversized/many"
        try:
            clear_ckpt(env)
            drop_uploads(env, key)
            env.server.reset()
            env.server.fault(op="UploadPart", part=many + 1, action="status", status=500, count=10)
            args = ["put", path, f"oss://{BUCKET}/{key}"] + MP + ["--buffer-size", "16K"]
            rc, _, err, _ = timed_run(env, *args, "--attempts", "1", "--quiet", limit=600)
            check(rc not in (0, 2), f"the first run should fail at part {many + 1}: exit {rc} {err.strip()!r}")
            (uid, info), = open_uploads(env, key).items()
            check(len(info["parts"]) == many, f"{len(info['parts'])} parts on the server, wanted {many}")
            env.server.reset()
            rc, out, err, _ = timed_run(env, *args, limit=300)
            check(rc == 0, f"the resume of {many} parts failed (exit {rc}): {err.strip()!r}")
            log = env.server.log()
            pages = [e["query"] for e in ops(log, "ListParts")]
            sizes = [q.get("max-parts", "1000 (default)") for q in pages]
            check(all(s in ("1000", "1000 (default)") for s in sizes), f"ListParts asked for max-parts {sizes}")
            check(2 <= len(pages) <= 4, f"{len(pages)} ListParts requests for {many} parts (pages of 1000 make 2)")
            check(parts_sent(log) == [many + 1], f"the resume sent {parts_sent(log)[:10]}...")
            check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
        finally:
            drop_uploads(env, key)
            clear_ckpt(env)
            os.remove(path)

    each(padded_4mb, pages_of_1000)


@case
def xml_hostile_listparts(env):
    """ListParts answers a valid but unfriendly document: each <Part> holds an unknown
    element with decoy <Size>, <PartNumber> and <ETag> before the real ones, and every
    value is wrapped in a comment and a processing instruction (then also with empty
    <HashCrc64ecma/>). The meaning is unchanged, so the resume must reuse every part
    the server has, send only the missing ones, and complete with the file's bytes."""
    path = env.file("hostile", SIZE, seed=37)

    def resume(extra):
        key = "hostile/listparts" + ("-nocrc" if extra else "")
        args, _ = half_upload(env, path, key, 6, "the first run should fail at part 6")
        (uid, info), = open_uploads(env, key).items()
        env.server.reset()
        env.server.fault(op="ListParts", action="xml_hostile", count=1000, **extra)
        rc, out, err, _ = timed_run(env, *args, limit=120)
        check(rc == 0, f"the resume failed (exit {rc}): {err.strip()!r}")
        log = env.server.log()
        check(not ops(log, "InitiateMultipartUpload"), "the resume started a new upload")
        check(parts_sent(log) == missing_parts(info),
              f"the resume sent {parts_sent(log)}, the server lacked {missing_parts(info)}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
        check(not ckpt_files(env), "checkpoint left")

    def decoys_and_comments():
        resume({})

    def empty_crc_too():
        resume({"empty_crc": True})

    each(decoys_and_comments, empty_crc_too)


@case
def truncated_download(env):
    """GetObject answers 200 without Content-Length, chunking, ETag or CRC-64, sends half
    the body and closes cleanly: nothing in the reply shows it is short, so ossup get
    must find out another way (the object's size and CRC-64 from a HEAD, say), exit
    non-zero with one "ossup: error:" line, and leave neither the target file nor its
    .ossr-tmp. The same reply with the whole body is a correct HTTP reply: the download
    must succeed with the right bytes."""
    src = env.file("dl-src", 300 * KIB, seed=38)
    key = "download/close-delimited"
    env.server.reset()
    put_ok(env, src, key, "--threshold", "1M")
    target = os.path.join(env.workdir, "dl-target.bin")

    def clean():
        for f in (target, target + ".ossr-tmp"):
            if os.path.exists(f):
                os.remove(f)

    def cut_in_half():
        clean()
        env.server.reset()
        env.server.fault(op="GetObject", action="close_delimited", cut=0.5, count=1000)
        rc, out, err, _ = timed_run(env, "get", f"oss://{BUCKET}/{key}", target, "--quiet", limit=60)
        got = os.path.getsize(target) if os.path.exists(target) else None
        check(rc not in (0, 2), f"a download cut in half was accepted (exit {rc}; the target holds {got} "
                               f"bytes of {300 * KIB})")
        lines = err.strip().splitlines()
        check(len(lines) == 1 and lines[0].startswith("ossup: error: "), f"expected one 'ossup: error:' line: {err!r}")
        check(not os.path.exists(target), "the target file was left behind")
        check(not os.path.exists(target + ".ossr-tmp"), "the .ossr-tmp file was left behind")

    def whole_body():
        clean()
        env.server.reset()
        env.server.fault(op="GetObject", action="close_delimited", cut=1, count=1000)
        rc, out, err, _ = timed_run(env, "get", f"oss://{BUCKET}/{key}", target, limit=60)
        check(rc == 0, f"a complete close-delimited reply was refused (exit {rc}): {err.strip()!r}")
        check(md5_file(target) == md5_file(src), "the downloaded bytes differ")
        check(not os.path.exists(target + ".ossr-tmp"), "the .ossr-tmp file was left behind")

    try:
        each(cut_in_half, whole_body)
    finally:
        clean()


@case
def listing_cut_and_retried(env):
    """A ListMultipartUploads reply cut off half-way is asked for again; the uploads the
    cut reply already showed are not shown twice (each upload is one line of ossup
    uploads)."""
    path = env.file("listing", SIZE, seed=41)
    keys = [f"listing/{i:02d}" for i in range(12)]
    for key in keys:
        half_upload(env, path, key, 3, f"the upload of {key} should fail")
    try:
        ids = {uid for key in keys for uid in open_uploads(env, key)}
        env.server.reset()
        env.server.fault(op="ListMultipartUploads", action="garble", kind="truncated_body", count=1)
        rc, out, err = env.run("uploads", f"oss://{BUCKET}/listing/")
        check(rc == 0, f"the listing failed: {err.strip()}")
        shown = [line.split("\t")[1] for line in out.splitlines() if "\t" in line]
        check(len(ops(env.server.log(), "ListMultipartUploads")) == 2, "the cut reply was not asked for again")
        check(sorted(shown) == sorted(ids), f"{len(shown)} lines for {len(ids)} uploads: {sorted(shown)}")
    finally:
        for key in keys:
            drop_uploads(env, key)
        clear_ckpt(env)


@case
def crc_never_claimed(env):
    """The summary line says the object's CRC-64 matches the server's only when the server
    gave one to compare: an upload (one PUT, and multipart) and a download whose replies
    (HEAD and GET) lack x-oss-hash-crc64ecma say "not checked", the same calls with it say
    "matches"."""
    small = env.file("crc-small", 100 * KIB, seed=39)
    big = env.file("crc-big", SIZE, seed=40)
    target = os.path.join(env.workdir, "crc-target.bin")
    for path, key, op, extra in ((small, "crc/put", "PutObject", []),
                                 (big, "crc/multipart", "CompleteMultipartUpload", MP)):
        for fault in (False, True):
            env.server.reset()
            if fault:
                env.server.fault(op=op, action="no_crc", count=10)
            rc, out, err = env.run("put", path, f"oss://{BUCKET}/{key}", *extra)
            check(rc == 0, f"{key}: {err.strip()}")
            want = "not checked" if fault else "matches the server's"
            check(want in out, f"{key} {'without' if fault else 'with'} a server CRC-64: {out.strip()!r}")
    for fault in (False, True):   # the HEAD's CRC-64 holds the GET to it: both must lack one
        env.server.reset()
        if fault:
            env.server.fault(op="GetObject", action="no_crc", count=10)
            env.server.fault(op="HeadObject", action="no_crc", count=10)
        rc, out, err = env.run("get", f"oss://{BUCKET}/crc/put", target)
        check(rc == 0 and md5_file(target) == md5_file(small), f"download: {err.strip()}")
        want = "not checked" if fault else "matches the server's"
        check(want in out, f"download {'without' if fault else 'with'} a server CRC-64: {out.strip()!r}")


@case
def checkpoint_dir_entry_is_dir(env):
    """A directory stands where the checkpoint file goes: ossup must stop before any
    request reaches the server, with an error naming that path."""
    path = env.file("ckdir", SIZE, seed=39)
    key = "ckpt/entry-is-dir"
    args, _ = half_upload(env, path, key, 4, "the first run should fail at part 4")
    ck, = ckpt_files(env)
    os.remove(ck)
    os.mkdir(ck)
    drop_uploads(env, key)
    try:
        env.server.reset()
        rc, out, err, _ = timed_run(env, *args, "--quiet", limit=60)
        log = env.server.log()
        check(rc not in (0, 2), f"ossup went on with a directory as its checkpoint (exit {rc})")
        check(err.startswith("ossup: error: ") and os.path.basename(ck) in err,
              f"the error does not name {os.path.basename(ck)}: {err.strip()!r}")
        check(not log, f"requests reached the server: {[e['op'] for e in log]}")
    finally:
        shutil.rmtree(ck, ignore_errors=True)
        drop_uploads(env, key)


@case
def checkpoint_dir_is_file(env):
    """--checkpoint-dir names a regular file: the error must say it is not a directory
    (not "Permission denied"), before any request reaches the server."""
    path = env.file("ckfile", SIZE, seed=40)
    not_dir = os.path.join(env.workdir, "plain-file")
    with open(not_dir, "w") as f:
        f.write("not a directory\n")
    env.server.reset()
    rc, out, err, _ = timed_run(env, "put", path, f"oss://{BUCKET}/ckpt/dir-is-file", *MP,
                                "--checkpoint-dir", not_dir, "--quiet", limit=60)
    log = env.server.log()
    check(rc not in (0, 2), f"ossup went on without a checkpoint directory (exit {rc})")
    check("not a directory" in err.lower() and "permission denied" not in err.lower(),
          f"the error does not say it is not a directory: {err.strip()!r}")
    check(not log, f"requests reached the server: {[e['op'] for e in log]}")
    drop_uploads(env, "ckpt/dir-is-file")


@case
def concurrent_same_upload(env):
    """Two ossup put of the same file to the same key at once share one checkpoint: the
    second must stop at once (well before the first ends), exit non-zero with a message
    saying another upload is running and its pid, and send nothing to the server (it
    signs with another key pair here, so its requests would show); the first completes.
    A lock left by a SIGKILLed run must not stop the next one."""
    path = env.file("twice", SIZE, seed=41)
    key = "concurrent/same"
    args = ["put", path, f"oss://{BUCKET}/{key}"] + MP

    def start_first(stall):
        """From a clean slate, a run in the background whose UploadParts each stall `stall`
        seconds, once it has sent its first UploadPart."""
        clear_ckpt(env)
        drop_uploads(env, key)
        env.server.reset()
        env.server.fault(op="UploadPart", action="stall", seconds=stall, count=1000)
        p = env.run(*args, "--quiet", background=True)
        try:
            wait_for_log(env, lambda e: e["op"] == "UploadPart", "the first run's first UploadPart", proc=p)
        except BaseException:
            kill(p)
            raise
        return p

    def second_run_stops():
        p1 = start_first(2)
        try:
            rc2, _, err2, took = timed_run(env, *args, "--quiet", creds=(STS_AK, STS_SECRET), token=STS_TOKEN,
                                           limit=90)
            first_running = p1.poll() is None
            second = [e for e in env.server.log() if STS_AK in e["headers"].get("authorization", "")]
            check(rc2 not in (0, 2), f"the second run exited {rc2}: {err2.strip()!r}")
            check("another upload" in err2 and "is running" in err2 and str(p1.pid) in err2,
                  f"the second run does not name the running upload (pid {p1.pid}): {err2.strip()!r}")
            check(first_running and took < 15,
                  f"the second run took {took:.1f} s (the first still running: {first_running})")
            check(not second, f"the second run sent {[e['op'] for e in second]}")
            out1, err1 = p1.communicate(timeout=180)
            check(p1.returncode == 0, f"the first run failed: {err1.strip()!r}")
            check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
        finally:
            kill(p1)

    def stale_lock():
        kill(start_first(0.5))                  # SIGKILLed: its lock file stays behind
        env.server.wait_idle()
        env.server.reset()
        rc, out, err, _ = timed_run(env, *args, limit=120)
        check(rc == 0, f"the run after a killed one failed (exit {rc}): {err.strip()!r}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs after the killed run")
        check(not open_uploads(env, key), f"uploads left open: {open_uploads(env, key)}")

    each(second_run_stops, stale_lock)


def _record_strings(data):
    """[(offset, length)] of the five strings of a checkpoint record's fixed part
    (endpoint, bucket, key, path, upload id), from offset 68: a 2-byte little-endian
    length, then the bytes."""
    out, off = [], 68
    for _ in range(5):
        n = data[off] | data[off + 1] << 8
        out.append((off + 2, n))
        off += 2 + n
    return out


@case
def damaged_header_aborts_old_upload(env):
    """Bytes flipped inside the key string of the checkpoint's fixed part (its CRC then
    fails): the record cannot be trusted, but the upload it started is still open and
    billed. A right library recovers its upload id, aborts that upload (the server only
    accepts an Abort for the key the upload belongs to) and uploads afresh: success, an
    AbortMultipartUpload of the old id in the log, no upload left open. And a record
    copied from ANOTHER key's upload into this upload's checkpoint name must never make
    the client abort that other upload."""
    path = env.file("damaged", SIZE, seed=42)

    def flipped_key():
        key = "damaged/header"
        args, _ = half_upload(env, path, key, 5, "the first run should fail at part 5")
        (old, info), = open_uploads(env, key).items()
        ck, = ckpt_files(env)
        with open(ck, "rb") as f:
            data = bytearray(f.read())
        (kstart, klen) = _record_strings(data)[2]
        check(bytes(data[kstart:kstart + klen]) == key.encode(), "the record's key string is not where expected")
        for i in range(kstart + 1, kstart + 4):
            data[i] ^= 0x55
        with open(ck, "wb") as f:
            f.write(data)
        env.server.reset()
        rc, out, err, _ = timed_run(env, *args, limit=120)
        env.server.wait_idle()
        log = env.server.log()
        left = open_uploads(env, key)
        try:
            check(rc == 0, f"the run with a damaged record failed (exit {rc}): {err.strip()!r}")
            check(env.server.object(BUCKET, key)["md5"] == md5_file(path), "object differs")
            aborted = [e["upload_id"] for e in ops(log, "AbortMultipartUpload") if e["status"] == 204]
            check(old in aborted, f"the old upload {old} was not aborted (aborted: {aborted}; "
                                  f"left open: {list(left)})")
            check(not left, f"uploads left open: {left}")
            check(not ckpt_files(env), "checkpoint left")
        finally:
            drop_uploads(env, key)
            clear_ckpt(env)

    def other_keys_record():
        key_a, key_b = "damaged/mine", "damaged/other"
        args_a, _ = half_upload(env, path, key_a, 5, "the first run of A should fail")
        ck_a, = ckpt_files(env)
        half_upload(env, path, key_b, 5, "the first run of B should fail")     # clears A's record
        (uid_b, _), = open_uploads(env, key_b).items()
        ck_b, = ckpt_files(env)
        shutil.copyfile(ck_b, ck_a)
        env.server.reset()
        rc, out, err, _ = timed_run(env, *args_a, limit=120)
        env.server.wait_idle()
        log = env.server.log()
        try:
            aborts = [(e["key"], e["status"]) for e in ops(log, "AbortMultipartUpload") if e["upload_id"] == uid_b]
            check(not aborts, f"the client tried to abort the other key's upload: {aborts}")
            check(uid_b in open_uploads(env, key_b), "the other key's upload is gone")
            check(rc == 0, f"the run with another key's record failed (exit {rc}): {err.strip()!r}")
            check(env.server.object(BUCKET, key_a)["md5"] == md5_file(path), "object differs")
        finally:
            drop_uploads(env, key_a)
            drop_uploads(env, key_b)
            clear_ckpt(env)

    each(flipped_key, other_keys_record)


# ---------------------------------------------------------------------------------------

def main():
    def start_server(work):
        return Server(work, credentials=[f"{STS_AK}:{STS_SECRET}:{STS_TOKEN}"], quiet=True)
    return driver_main("faults", selected(CASES, "OSSR_FAULTS_CASES"), start_server, Env, timed=True, notes=NOTES)


if __name__ == "__main__":
    sys.exit(main())
