#!/usr/bin/env python3
"""The command-line tool itself: ossup (examples/ossup.c) against the test server
(tests/oss_server.py) on a free loopback port. tests/test_e2e.py checks what the
library sends through ossup; these cases check what ossup adds on top: where put and get
put things, Ctrl-C, its messages, the progress bar, --max-speed.

    python3 tests/test_ossup.py build/gcc/ossup

The progress bar case needs tmux, and the full-disk and second-Ctrl-C cases a C
compiler (for tests/diskfault.c, an LD_PRELOAD shim); without them they are skipped
with a line saying so.
OSSR_OSSUP_CASES=name,name runs only those cases. The last line is
"ossup: N passed, M failed"; the exit status is non-zero when anything failed.
"""
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (AK, HERE, KIB, SK, BaseEnv, Cases, Server, check, clean_environ,  # noqa: E402
                          driver_main, md5_file, ops, parts_sent, put_ok, selected)

BUCKET = "bkt-ossup"


class Env(BaseEnv):
    bucket = BUCKET

    def run(self, *args, timeout=120, background=False, extra_env=None, endpoint=None):
        env = clean_environ()
        env.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=endpoint or self.server.base)
        env.update(extra_env or {})
        return self.exec_ossup(args, env, timeout=timeout, background=background)

    def url(self, key=""):
        return f"oss://{BUCKET}/{key}"

    def requests(self):
        """The OSS requests the server saw since the last reset."""
        return [e["op"] for e in self.server.log()]


def error_lines(err):
    return [line for line in err.splitlines() if line.strip()]


def wait_for_parts(env, key, at_least, proc, timeout=60):
    """Waits until an open upload of key on the server holds at_least parts."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if any(u["key"] == key and len(u["parts"]) >= at_least for u in env.server.uploads().values()):
            return
        time.sleep(0.05)
    check(proc.poll() is None, "the upload ended before it could be interrupted")
    raise AssertionError(f"no upload reached {at_least} parts within {timeout}s")


def half_upload(env, path, url, ckpt):
    """An upload whose part 3 keeps failing: it leaves an open upload and, in ckpt, its
    checkpoint. Returns the upload id."""
    before = set(env.server.uploads())
    env.server.reset()
    env.server.fault(op="UploadPart", part=3, action="status", status=500, count=100)
    rc, _, err = env.run("put", path, url, "--threshold", "300K", "--part-size", "100K", "--attempts", "1",
                         "--checkpoint-dir", ckpt)
    check(rc == 1, f"the half upload was expected to fail: {rc} {err!r}")
    env.server.reset()
    (uid,) = set(env.server.uploads()) - before
    return uid


def listing(env, url, *extra, **kw):
    """ossup uploads URL: {key: (upload id, initiated, mark)} and stderr."""
    rc, out, err = env.run("uploads", url, *extra, **kw)
    check(rc == 0, f"uploads {url}: {rc} {err!r}")
    rows = {}
    for line in out.splitlines():
        fields = line.split("\t")
        check(len(fields) == 4, f"not four tab-separated fields: {line!r}")
        rows[fields[0]] = tuple(fields[1:])
    return rows, err


def build_shim(env):
    """tests/diskfault.c as a shared object in the work directory (built once), or None
    and why not."""
    if not hasattr(env, "shim"):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        env.shim = (None, "needs Linux and a C compiler")
        if sys.platform.startswith("linux") and cc:
            so = os.path.join(env.workdir, "diskfault.so")
            p = subprocess.run([cc, "-O2", "-shared", "-fPIC", os.path.join(HERE, "diskfault.c"), "-o", so, "-ldl"],
                               capture_output=True, text=True)
            env.shim = (so, None) if p.returncode == 0 else (None, "the shim did not build: " + p.stderr.strip())
    return env.shim


def shim_or_skip(env):
    """The shim (build_shim), or None after saying why the case is skipped."""
    so, why = build_shim(env)
    if not so:
        print(f"     skipped: {why}")
    return so


def shim_env(so, fault, prefix):
    """The environment that runs ossup with fault for files under prefix."""
    asan = os.environ.get("ASAN_OPTIONS", "")            # an ASan build lets the shim come first
    return {"LD_PRELOAD": so, "DISKFAULT": fault, "DISKFAULT_PREFIX": prefix,
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}


def run_in(env, cwd, *args, stdout=subprocess.PIPE, extra_env=None, drop=()):
    """ossup ARGS run in directory cwd (no --checkpoint-dir added), stdout to a file or
    a pipe: (rc, stdout or None, stderr)."""
    e = clean_environ()
    e.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=env.server.base)
    e.update(extra_env or {})
    for name in drop:
        e.pop(name, None)
    p = subprocess.run([env.ossup] + list(args), cwd=cwd, env=e, stdout=stdout, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def abort_open_uploads(env, key):
    """Aborts, on the server, every open upload of key (what a case left behind)."""
    env.server.wait_idle()
    for uid, u in env.server.uploads().items():
        if u["key"] == key:
            env.server.abort(uid)


# ---------------------------------------------------------------------------------------
CASES = Cases()
case = CASES.case


@case
def put_destinations_like_cp(env):
    """put FILE oss://B/dir/ stores dir/<file name>; oss://B and oss://B/ store <file name>."""
    path = env.file("report.csv", 3000, seed=1)
    for url, key in ((env.url("dir/sub/"), "dir/sub/report.csv"), (f"oss://{BUCKET}", "report.csv"),
                     (env.url(), "report.csv"), (env.url("exact-name"), "exact-name")):
        env.server.reset()
        rc, out, err = env.run("put", path, url)
        check(rc == 0, f"put to {url}: {err.strip()}")
        check([e["key"] for e in env.server.log()] == [key], f"put to {url} stored {env.server.log()}")
        check(f"oss://{BUCKET}/{key}" in out, f"put to {url}: summary {out!r}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), f"{key} differs")
    # a multipart upload to a folder: the checkpoint and the object use the full key
    big = env.file("big.bin", 350 * KIB, seed=2)
    rc, _, err = env.run("put", big, env.url("multi/"), "--threshold", "300K", "--part-size", "100K")
    check(rc == 0, f"multipart into a folder: {err.strip()}")
    check(env.server.object(BUCKET, "multi/big.bin")["md5"] == md5_file(big), "multipart into a folder differs")


@case
def get_destinations_like_cp(env):
    """get into an existing directory or DIR/ writes DIR/<last key segment>; a key ending
    in '/' and a missing DIR/ are refused before any request."""
    path = env.file("src", 2000, seed=3)
    put_ok(env, path, "photos/2024/cat.jpg")
    d = os.path.join(env.workdir, "into")
    os.makedirs(d, exist_ok=True)
    for dest in (d, d + "/"):
        target = os.path.join(d, "cat.jpg")
        if os.path.exists(target):
            os.remove(target)
        rc, out, err = env.run("get", env.url("photos/2024/cat.jpg"), dest)
        check(rc == 0, f"get into {dest}: {err.strip()}")
        check(md5_file(target) == md5_file(path), f"get into {dest}: {target} differs")
        check(target in out, f"the summary does not name {target}: {out!r}")
    env.server.reset()
    rc, _, err = env.run("get", env.url("photos/2024/"), os.path.join(env.workdir, "x"))
    check(rc == 2 and "names a folder, not an object" in err, f"key ending in '/': {rc} {err!r}")
    rc, _, err = env.run("get", f"oss://{BUCKET}", d)
    check(rc == 2 and "not an object" in err, f"no key: {rc} {err!r}")
    missing = os.path.join(env.workdir, "no-such-dir") + "/"
    rc, _, err = env.run("get", env.url("photos/2024/cat.jpg"), missing)
    check(rc == 1 and "does not exist" in err and missing in err, f"missing DIR/: {rc} {err!r}")
    check(not os.path.exists(missing), "the missing directory was created")
    check(env.requests() == [], f"requests sent for refused gets: {env.requests()}")


@case
def interrupt_and_resume(env):
    """SIGINT (and SIGTERM) mid-upload: exit 130 with one line on how to resume and how
    to abandon; the same command then resumes and reuses the parts already sent."""
    path = env.file("ctrl-c file", 3000 * KIB, seed=4)      # 30 parts of 100 KiB
    key = "interrupt/obj"
    args = ["put", path, env.url(key), "--threshold", "1M", "--part-size", "100K"]
    for sig in (signal.SIGINT, signal.SIGTERM):
        env.server.reset()
        env.server.fault(op="UploadPart", action="stall", seconds=0.3, count=100000)
        p = env.run(*args, background=True)
        wait_for_parts(env, key, 3, p)
        t0 = time.time()
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
        took = time.time() - t0
        check(p.returncode == 130, f"{sig.name}: exit {p.returncode}, {err!r}")
        check(took < 30, f"{sig.name}: took {took:.1f}s to stop")
        lines = [line for line in error_lines(err) if "interrupted" in line]
        check(len(lines) == 1, f"{sig.name}: expected one 'interrupted' line: {err!r}")
        check("run the same command again to resume" in lines[0], f"no word on resuming: {lines[0]!r}")
        check(f"ossup abort '{path}' oss://{BUCKET}/{key}" in lines[0], f"no abort command: {lines[0]!r}")
        check("error" not in err, f"an interruption is not an error: {err!r}")
        env.server.wait_idle()
        stored = {n for u in env.server.uploads().values() if u["key"] == key for n in u["parts"]}
        env.server.reset()
        rc, out, err = env.run(*args)
        check(rc == 0 and "resumed" in out, f"{sig.name}: rerun: {rc} {out!r} {err!r}")
        log = env.server.log()
        check(not ops(log, "InitiateMultipartUpload"), f"{sig.name}: the rerun started a new upload")
        check(not set(parts_sent(log)) & stored, f"{sig.name}: parts sent again: {sorted(set(parts_sent(log)) & stored)}")
        check(env.server.object(BUCKET, key)["md5"] == md5_file(path), f"{sig.name}: object differs")
        print(f"     {sig.name}: stopped in {took:.1f}s with {len(stored)} of 30 parts stored")


@case
def second_interrupt_ends_at_once(env):
    """While the first Ctrl-C waits for what cannot stop (a checkpoint sync the shim
    stretches to 15 s), a second one ends ossup at once, by the signal."""
    so = shim_or_skip(env)
    if not so:
        return
    ck = os.path.join(env.workdir, "ck-slow")
    path = env.file("twice", 400 * KIB, seed=5)
    env.server.reset()
    p = env.run("put", path, env.url("twice"), "--threshold", "300K", "--part-size", "100K", "--checkpoint-dir", ck,
                background=True, extra_env=shim_env(so, "slow-sync", ck))
    deadline = time.time() + 30                      # the checkpoint is written right after Initiate
    while not ops(env.server.log(), "InitiateMultipartUpload") and time.time() < deadline and p.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    time.sleep(1.0)
    still_running = p.poll() is None
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    took = time.time() - t0
    for uid, u in env.server.uploads().items():
        if u["key"] == "twice":
            env.server.abort(uid)
    check(still_running, f"the first SIGINT ended ossup during the sync: exit {p.returncode} {err!r}")
    check(p.returncode == -signal.SIGINT, f"the second SIGINT: exit {p.returncode} {err!r}")
    check(took < 5, f"the second SIGINT took {took:.1f}s to end ossup")


@case
def refuses_what_is_not_a_file(env):
    """A FIFO, a directory or a device as FILE is refused at once, without a request; a
    download never replaces one."""
    fifo = os.path.join(env.workdir, "pipe")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    env.server.reset()
    for path, words in ((fifo, "(a FIFO)"), (env.workdir, "(a directory)"), ("/dev/null", "(a character device)")):
        rc, _, err = env.run("put", path, env.url("nf"), timeout=30)
        check(rc == 1 and f"{path} is not a regular file {words}" in err, f"put {path}: {rc} {err!r}")
        check(len(error_lines(err)) == 1, f"put {path}: {err!r}")
    put_ok(env, env.file("nf-src", 100, seed=6), "nf")
    env.server.reset()
    rc, _, err = env.run("get", env.url("nf"), fifo, timeout=30)
    check(rc == 1 and f"{fifo} is not a regular file (a FIFO)" in err, f"get into a FIFO: {rc} {err!r}")
    check(stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced")
    check(env.requests() == [], f"requests sent: {env.requests()}")


@case
def checkpoint_dir_is_a_file(env):
    """A checkpoint directory that is a regular file is said so, before any request."""
    ck = os.path.join(env.workdir, "ckpt-file")
    open(ck, "w").close()
    path = env.file("ckf", 350 * KIB, seed=7)
    env.server.reset()
    rc, _, err = env.run("put", path, env.url("ckf"), "--threshold", "300K", "--checkpoint-dir", ck)
    check(rc == 1 and f"checkpoint directory {ck} is" in err and "not a directory" in err and
          "Permission denied" not in err and len(error_lines(err)) == 1, f"{rc} {err!r}")
    check(env.requests() == [], f"requests sent: {env.requests()}")
    rc, _, err = env.run("put", path, env.url("ckf"), "--checkpoint-dir", ck)   # below the threshold: no checkpoint
    check(rc == 0, f"a single PUT needs no checkpoint directory: {err!r}")


@case
def full_disk_is_said(env):
    """A full disk (the shim fails writes under a directory with ENOSPC) says 'no space
    left on device' and the path, for get and for the checkpoint."""
    so = shim_or_skip(env)
    if not so:
        return
    full = os.path.join(env.workdir, "full")
    os.makedirs(full, exist_ok=True)
    shim = shim_env(so, "enospc", full)
    path = env.file("disk", 350 * KIB, seed=8)
    put_ok(env, path, "disk")
    target = os.path.join(full, "disk.out")
    rc, _, err = env.run("get", env.url("disk"), target, extra_env=shim)
    check(rc == 1 and "no space left on device" in err.lower() and target in err, f"get: {rc} {err!r}")
    check(len(error_lines(err)) == 1, f"get: {err!r}")
    check(os.listdir(full) == [], f"left behind: {os.listdir(full)}")
    ck = os.path.join(full, "ckpt")
    rc, _, err = env.run("put", path, env.url("disk2"), "--threshold", "300K", "--part-size", "100K",
                         "--checkpoint-dir", ck, extra_env=shim)
    check(rc == 1 and "no space left on device" in err.lower() and ck in err, f"checkpoint: {rc} {err!r}")


@case
def unreadable_checkpoint_is_kept(env):
    """A checkpoint that cannot be read (the shim fails reads under its directory with
    EIO, a bad sector) is no damaged one: the resume stops before any request, says
    the path and what to do, keeps the record, and once it reads again resumes it; no
    second upload is begun (the first one's parts would be left behind)."""
    so = shim_or_skip(env)
    if not so:
        return
    ck = os.path.join(env.workdir, "eio-ckpt")
    path = env.file("eio", 350 * KIB, seed=10)
    args = ("put", path, env.url("eio"), "--threshold", "300K", "--part-size", "100K", "--checkpoint-dir", ck)
    env.server.reset()
    env.server.fault(op="UploadPart", part=3, action="status", status=403, code="AccessDenied", count=10)
    rc, _, err = env.run(*args)
    check(rc == 1 and len(os.listdir(ck)) >= 1, f"the cut upload: {rc} {err!r}")
    records = sorted(os.listdir(ck))
    env.server.reset()
    rc, _, err = env.run(*args, extra_env=shim_env(so, "eio-read", ck))
    check(rc == 1 and "cannot read the checkpoint" in err and ck in err and "input/output error" in err.lower(),
          f"the resume with the record unreadable: {rc} {err!r}")
    check(len(error_lines(err)) == 1, f"one error line: {err!r}")
    check(not ops(env.server.log(), "InitiateMultipartUpload"), "a second upload was begun")
    check(sorted(os.listdir(ck)) == records, f"the record changed: {records} then {sorted(os.listdir(ck))}")
    rc, out, err = env.run(*args)
    log = env.server.log()
    check(rc == 0 and len(ops(log, "InitiateMultipartUpload")) == 0, f"the resume once it reads: {rc} {err!r}")
    check(len(ops(log, "UploadPart")) == 2, f"parts sent on resume: {len(ops(log, 'UploadPart'))}, not 2")


@case
def part_size_change_is_announced(env):
    """A part size raised to fit OSS's limits is said before the upload, with the reason."""
    path = env.file("plan", 350 * KIB, seed=9)
    rc, _, err = env.run("put", path, env.url("plan"), "--threshold", "300K", "--part-size", "1K")
    check(rc == 0, err)
    check("--part-size 1K raised to 128K: OSS parts are at least 100 KiB" in err, f"min size: {err!r}")
    for extra in (["--part-size", "100K"], ["--part-size", "1K", "--threshold", "1M"]):   # no change / no multipart
        rc, _, err = env.run("put", path, env.url("plan"), "--threshold", "300K", *extra)
        check(rc == 0 and "raised" not in err, f"{extra}: {err!r}")
    # 10,000 parts of 100 KiB and a byte: the part doubles. Initiate is refused, so that
    # the sparse gigabyte is never sent.
    sparse = os.path.join(env.workdir, "sparse")
    with open(sparse, "wb") as f:
        f.truncate(10000 * 100 * KIB + 1)
    env.server.reset()
    env.server.fault(op="InitiateMultipartUpload", action="status", status=403, code="AccessDenied", count=5)
    rc, _, err = env.run("put", sparse, env.url("sparse"), "--threshold", "1M", "--part-size", "100K")
    check(rc == 1 and "--part-size 100K raised to 200K: an upload has at most 10,000 parts" in err, f"{rc} {err!r}")
    os.remove(sparse)


@case
def usage_and_exit_codes(env):
    """--help (exit codes, three examples last), --version, --quiet --verbose, unknown
    command: exit 2 with a sentence."""
    rc, out, _ = env.run("--help")
    check(rc == 0, "--help")
    lines = out.rstrip("\n").splitlines()
    check(all(line.startswith("  ossup ") for line in lines[-3:]) and lines[-4] == "examples:",
          f"--help does not end with three examples: {lines[-4:]}")
    for word in ("0 success", "1 failure", "2 usage error", "130 interrupted", "--max-speed", "--version",
                 "ossup uploads oss://BUCKET", "ossup abort FILE oss://BUCKET/KEY", "--upload-id ID"):
        check(word in out, f"--help lacks {word!r}")
    rc, out, _ = env.run("--version")
    check(rc == 0 and out.startswith("ossup ") and out.strip().split()[-1][0].isdigit(), f"--version: {out!r}")
    path = env.file("u", 10, seed=10)
    rc, _, err = env.run("put", path, env.url("u"), "--quiet", "--verbose")
    check(rc == 2 and "--quiet and --verbose" in err, f"--quiet --verbose: {rc} {err!r}")
    rc, _, err = env.run("upload", path, env.url("u"))
    check(rc == 2 and "unknown command 'upload'" in err, f"unknown command: {rc} {err!r}")
    rc, _, err = env.run("frobnicate")
    check(rc == 2 and "unknown command 'frobnicate'" in err, f"unknown command alone: {rc} {err!r}")
    rc, _, err = env.run("put", path)
    check(rc == 2 and "put takes FILE oss://BUCKET/KEY" in err, f"missing operand: {rc} {err!r}")
    rc, _, err = env.run("put", path, env.url("u"), "--max-speed", "fast")
    check(rc == 2, f"bad --max-speed: {rc} {err!r}")


@case
def errors_are_said_once(env):
    """A bucket error is one line: a bad bucket name, NoSuchBucket and AccessDenied on
    PutObject, Initiate and GetObject."""
    path = env.file("once", 350 * KIB, seed=11)
    rc, _, err = env.run("put", path, "oss://Bad_Bucket/x")
    check(rc == 1 and len(error_lines(err)) == 1 and err.count("3-63") == 1, f"bad bucket name: {err!r}")
    put_ok(env, path, "once")
    for op, status, code in (("PutObject", 404, "NoSuchBucket"), ("InitiateMultipartUpload", 403, "AccessDenied"),
                             ("GetObject", 404, "NoSuchBucket"), ("GetObject", 403, "AccessDenied")):
        env.server.reset()
        env.server.fault(op=op, action="status", status=status, code=code, count=10)
        if op == "GetObject":
            rc, _, err = env.run("get", env.url("once"), os.path.join(env.workdir, "once.out"))
        else:
            rc, _, err = env.run("put", path, env.url("once"), "--threshold", "1M" if op == "PutObject" else "300K")
        check(rc == 1, f"{op} {code}: exit {rc}")
        said = [line for line in error_lines(err) if code in line]
        check(len(said) == 1 and len(error_lines(err)) == 1, f"{op} {code}: {err!r}")


@case
def max_speed_caps_the_upload(env):
    """--max-speed 256K: a 1 MiB upload takes about four seconds, not a fraction of one."""
    path = env.file("slow", 1024 * KIB, seed=12)
    t0 = time.time()
    put_ok(env, path, "slow", "--max-speed", "256K")
    took = time.time() - t0
    check(took >= 2.5, f"1 MiB at 256 KiB/s took {took:.2f}s")
    print(f"     1 MiB at 256 KiB/s: {took:.1f}s")
    rc, _, err = env.run("get", env.url("slow"), os.path.join(env.workdir, "slow.out"), "--max-speed", "1M")
    check(rc == 2 and "uploads" in err, f"--max-speed on get: {rc} {err!r}")


@case
def uploads_are_listed(env):
    """ossup uploads oss://B[/PREFIX]: key, upload id, start time and, where a local
    checkpoint names the upload, whether it resumes it (same endpoint and bucket only)."""
    ck = os.path.join(env.workdir, "ck-list")
    a = env.file("a.bin", 600 * KIB, seed=20)
    b = env.file("b file.bin", 600 * KIB, seed=21)
    ua = half_upload(env, a, env.url("list/"), ck)
    ub = half_upload(env, b, env.url("list/"), ck)
    uc = half_upload(env, a, env.url("other/c"), os.path.join(env.workdir, "ck-elsewhere"))
    os.utime(b, (time.time() + 100, time.time() + 100))          # b changed since: its checkpoint is stale
    try:
        _check_listing(env, ck, a, b, ua, ub, uc)
    finally:
        for uid in (ua, ub, uc):
            env.server.abort(uid)


def _check_listing(env, ck, a, b, ua, ub, uc):
    rows, _ = listing(env, env.url("list/"), "--checkpoint-dir", ck)
    check(set(rows) == {"list/a.bin", "list/b file.bin"}, f"prefix list/: {rows}")
    check(rows["list/a.bin"][0] == ua and rows["list/a.bin"][2] == f"resumable from {a}", f"a: {rows['list/a.bin']}")
    check(rows["list/b file.bin"][0] == ub and rows["list/b file.bin"][2] == f"stale checkpoint of {b}",
          f"b: {rows['list/b file.bin']}")
    check(rows["list/a.bin"][1].endswith("Z") and rows["list/a.bin"][1][:2] == "20", f"time: {rows['list/a.bin']}")
    rows, _ = listing(env, f"oss://{BUCKET}", "--checkpoint-dir", ck)
    check(set(rows) >= {"list/a.bin", "list/b file.bin", "other/c"} and rows["other/c"] == (uc, rows["other/c"][1], ""),
          f"whole bucket: {rows}")
    # the same bucket through another endpoint: its checkpoints are not this one's
    rows, _ = listing(env, env.url("list/"), "--checkpoint-dir", ck, endpoint=f"http://localhost:{env.server.port}")
    check(rows["list/a.bin"][2] == "", f"another endpoint: {rows}")
    rows, err = listing(env, env.url("nothing-here/"))
    check(rows == {} and "no incomplete uploads" in err, f"empty: {rows} {err!r}")
    check(ops(env.server.log(), "ListMultipartUploads"), "no ListMultipartUploads sent")


@case
def abort_by_file(env):
    """ossup abort FILE oss://B/K aborts the upload FILE's checkpoint would resume and
    removes the checkpoint; without one it says there is nothing to abort."""
    ck = os.path.join(env.workdir, "ck-abort")
    path = env.file("abort me.bin", 600 * KIB, seed=22)
    uid = half_upload(env, path, env.url("ab/"), ck)
    check(any(f.endswith(".ossr") for f in os.listdir(ck)), "no checkpoint to start with")
    rc, out, err = env.run("abort", path, env.url("ab/"), "--checkpoint-dir", ck)
    check(rc == 0 and out.strip() == f"aborted upload {uid} of oss://{BUCKET}/ab/abort me.bin; checkpoint removed",
          f"abort: {rc} {out!r} {err!r}")
    check(uid not in env.server.uploads(), "the upload is still open")
    check([e["upload_id"] for e in ops(env.server.log(), "AbortMultipartUpload")] == [uid], "AbortMultipartUpload")
    check(not any(f.endswith(".ossr") for f in os.listdir(ck)), f"checkpoint left: {os.listdir(ck)}")
    rc, out, err = env.run("abort", path, env.url("ab/abort me.bin"), "--checkpoint-dir", ck)
    check(rc == 0 and out.strip() == f"no upload to abort: {path} has no checkpoint for oss://{BUCKET}/ab/abort me.bin",
          f"again: {rc} {out!r} {err!r}")
    # the command an interrupted upload suggests does what it says
    env.server.reset()
    env.server.fault(op="UploadPart", action="stall", seconds=0.3, count=100000)
    p = env.run("put", path, env.url("ab/ctrl-c"), "--threshold", "300K", "--part-size", "100K",
                "--checkpoint-dir", ck, background=True)
    wait_for_parts(env, "ab/ctrl-c", 1, p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    check(p.returncode == 130, f"interrupt: {p.returncode} {err!r}")
    env.server.wait_idle()
    suggested = err.split("abandon the upload with: ossup ")[1].split("\n")[0]
    check(suggested == f"abort '{path}' oss://{BUCKET}/ab/ctrl-c --checkpoint-dir {ck}", f"suggested: {suggested!r}")
    env.server.reset()
    rc, out, err = env.run(*shlex.split(suggested))
    check(rc == 0 and out.startswith("aborted upload "), f"{rc} {out!r} {err!r}")
    check(not [u for u in env.server.uploads().values() if u["key"] == "ab/ctrl-c"], "the upload is still open")


@case
def abort_by_upload_id(env):
    """ossup abort oss://B/K --upload-id ID aborts that upload (and removes a checkpoint
    that names it); an id the server does not have is an error, not a success."""
    ck = os.path.join(env.workdir, "ck-id")
    path = env.file("by-id", 600 * KIB, seed=23)
    uid = half_upload(env, path, env.url("byid/obj"), ck)
    rc, out, err = env.run("abort", env.url("byid/obj"), "--upload-id", uid, "--checkpoint-dir", ck)
    check(rc == 0 and out.strip() == f"aborted upload {uid} of oss://{BUCKET}/byid/obj; checkpoint removed",
          f"abort: {rc} {out!r} {err!r}")
    check(uid not in env.server.uploads() and not os.listdir(ck), f"left: {env.server.uploads()} {os.listdir(ck)}")
    rc, out, err = env.run("abort", env.url("byid/obj"), "--upload-id", uid, "--checkpoint-dir", ck)
    check(rc == 1 and f"has no incomplete upload {uid}" in err and len(error_lines(err)) == 1, f"twice: {rc} {err!r}")
    for args in (["abort", env.url("byid/obj")], ["abort", path, env.url("byid/obj"), "--upload-id", uid],
                 ["abort", env.url("byid/"), "--upload-id", uid]):
        rc, _, err = env.run(*args)
        check(rc == 2, f"{args}: {rc} {err!r}")


@case
def upload_errors_are_said_once(env):
    """uploads and abort: NoSuchBucket and AccessDenied on ListMultipartUploads and
    AbortMultipartUpload are one line each."""
    path = env.file("once-mp", 600 * KIB, seed=24)
    ck = os.path.join(env.workdir, "ck-once")
    uid = half_upload(env, path, env.url("once-mp"), ck)
    for op, status, code, args in (
            ("ListMultipartUploads", 404, "NoSuchBucket", ["uploads", env.url()]),
            ("ListMultipartUploads", 403, "AccessDenied", ["uploads", env.url()]),
            ("AbortMultipartUpload", 403, "AccessDenied", ["abort", path, env.url("once-mp"), "--checkpoint-dir", ck]),
            ("AbortMultipartUpload", 404, "NoSuchBucket", ["abort", env.url("once-mp"), "--upload-id", uid])):
        env.server.reset()
        env.server.fault(op=op, action="status", status=status, code=code, count=10)
        rc, _, err = env.run(*args)
        check(rc == 1, f"{op} {code}: exit {rc} {err!r}")
        said = [line for line in error_lines(err) if code in line]
        check(len(said) == 1 and len(error_lines(err)) == 1, f"{op} {code}: {err!r}")
    env.server.abort(uid)


def stalled_put(env, name, seed, op, seconds, count, *extra, extra_env=None):
    """A multipart put of a 600 KiB file, its op stalled by the server (seconds, count
    times), started in the background with a checkpoint directory of its own:
    (checkpoint directory, file, key, process)."""
    ck = os.path.join(env.workdir, "ck-" + name)
    path = env.file(name + ".bin", 600 * KIB, seed=seed)
    key = name + "/obj"
    env.server.reset()
    env.server.fault(op=op, action="stall", seconds=seconds, count=count)
    p = env.run("put", path, env.url(key), "--threshold", "300K", "--part-size", "100K", "--checkpoint-dir", ck,
                *extra, background=True, extra_env=extra_env)
    return ck, path, key, p


@case
def abort_suggestion_carries_the_options(env):
    """An interrupted put that was given --checkpoint-dir and --endpoint suggests an abort
    command with them: run exactly as printed (no OSS_ENDPOINT), it aborts the upload and
    removes the checkpoint, where without them it found no checkpoint and left the
    upload's parts on the server."""
    ck, path, key, p = stalled_put(env, "suggest", 30, "UploadPart", 0.3, 100000, "--endpoint", env.server.base,
                                   extra_env={"OSS_ENDPOINT": ""})
    try:
        wait_for_parts(env, key, 1, p)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        check(p.returncode == 130, f"interrupt: {p.returncode} {err!r}")
        env.server.wait_idle()
        env.server.reset()
        suggested = shlex.split(err.split("abandon the upload with: ")[1].splitlines()[0])
        check(suggested[:4] == ["ossup", "abort", path, env.url(key)], f"suggested: {suggested}")
        rc, out, err = run_in(env, env.workdir, *suggested[1:], drop=("OSS_ENDPOINT",))
        check(rc == 0 and out.startswith("aborted upload ") and "checkpoint removed" in out,
              f"{' '.join(suggested)}: {rc} {out!r} {err!r}")
        check(not [u for u in env.server.uploads().values() if u["key"] == key], "the upload is still open")
        check(not [f for f in os.listdir(ck) if f.endswith(".ossr")], f"checkpoint left: {os.listdir(ck)}")
    finally:
        abort_open_uploads(env, key)


@case
def interrupt_before_the_upload_began(env):
    """Ctrl-C while InitiateMultipartUpload has no answer yet: no checkpoint exists, so
    ossup neither says the same command resumes nor suggests an abort that finds nothing
    (it said both); it says to run the command again, and exits 130."""
    ck, path, key, p = stalled_put(env, "early", 31, "InitiateMultipartUpload", 2, 1)
    try:
        deadline = time.time() + 30
        while not ops(env.server.log(), "InitiateMultipartUpload") and time.time() < deadline and p.poll() is None:
            time.sleep(0.05)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        check(p.returncode == 130, f"exit {p.returncode} {err!r}")
        records = [f for f in os.listdir(ck) if f.endswith(".ossr")] if os.path.isdir(ck) else []
        check(records == [], f"a checkpoint was written: {records}")
        lines = [line for line in error_lines(err) if "interrupted" in line]
        check(len(lines) == 1 and "run the same command again" in lines[0], f"{err!r}")
        check("resume" not in lines[0] and "ossup abort" not in lines[0],
              f"resume or abort offered with no checkpoint: {lines[0]!r}")
    finally:
        abort_open_uploads(env, key)


@case
def stdout_write_error_is_a_failure(env):
    """Standard output that cannot be written (/dev/full) is an error with exit 1, for
    the listing of uploads and for --help, not a silent success with nothing printed."""
    if not os.path.exists("/dev/full"):
        print("     skipped: no /dev/full")
        return
    ck = os.path.join(env.workdir, "ck-full")
    path = env.file("full-out.bin", 600 * KIB, seed=32)
    uid = half_upload(env, path, env.url("fullout/"), ck)
    try:
        for args in (["uploads", env.url("fullout/"), "--checkpoint-dir", ck], ["--help"]):
            with open("/dev/full", "w") as full:
                rc, _, err = run_in(env, env.workdir, *args, stdout=full)
            check(rc == 1 and len(error_lines(err)) == 1 and "standard output" in err and
                  "No space left on device" in err, f"{args[0]} > /dev/full: {rc} {err!r}")
    finally:
        env.server.abort(uid)


@case
def options_take_name_equals_value(env):
    """--name=value is --name value (--threshold=300K, --part-size=100K, and as the last
    argument too); a flag given a value is a usage error that says so. It used to say
    'option needs a value' of --threads=2, which has one."""
    path = env.file("equals.bin", 350 * KIB, seed=33)
    env.server.reset()
    rc, out, err = env.run("put", path, env.url("equals"), "--threshold=300K", "--part-size=100K",
                           f"--checkpoint-dir={env.ckpt}", "--threads=2")
    check(rc == 0 and "multipart" in out, f"--name=value: {rc} {out!r} {err!r}")
    check(parts_sent(env.server.log()) == [1, 2, 3, 4], f"parts: {parts_sent(env.server.log())}")
    check(env.server.object(BUCKET, "equals")["md5"] == md5_file(path), "the object differs")
    env.server.reset()
    for args, words in ((["--quiet=yes"], "--quiet takes no value"), (["--threads=0"], "--threads takes 1 to 64"),
                        (["--frob=1"], "unknown option: --frob")):
        rc, _, err = env.run("put", path, env.url("equals"), *args)
        check(rc == 2 and words in err, f"{args}: {rc} {err!r}")
    check(env.requests() == [], f"requests sent: {env.requests()}")


@case
def dash_is_refused(env):
    """'-' as FILE (standard input or output, which ossup cannot resume) is a usage error
    that says so, before any request: get used to write a file named '-' and report
    success, put said it could not read '-'."""
    put_ok(env, env.file("dash-src", 100, seed=34), "dash")
    d = os.path.join(env.workdir, "dash-cwd")
    os.makedirs(d, exist_ok=True)
    env.server.reset()
    for args in (["get", env.url("dash"), "-"], ["put", "-", env.url("dash")]):
        rc, out, err = run_in(env, d, *args)
        check(rc == 2 and "'-'" in err and ("standard output" if args[0] == "get" else "standard input") in err,
              f"{' '.join(args)}: {rc} {out!r} {err!r}")
    check(os.listdir(d) == [], f"left in the working directory: {os.listdir(d)}")
    check(env.requests() == [], f"requests sent: {env.requests()}")
    rc, _, err = run_in(env, d, "get", env.url("dash"), "./-")   # a file named '-' is still possible
    check(rc == 0 and os.path.exists(os.path.join(d, "-")), f"./-: {rc} {err!r}")


@case
def duplicate_header_is_refused(env):
    """The same header twice (any case) is refused before any request, naming it; it went
    out and came back as HTTP 403 SignatureDoesNotMatch, which points at the credentials."""
    path = env.file("dup-hdr", 100, seed=35)
    env.server.reset()
    for pair in (("x-oss-meta-a: 1", "X-Oss-Meta-A: 2"), ("Content-Type: a/b", "content-type: c/d")):
        rc, _, err = env.run("put", path, env.url("dup-hdr"), "--header", pair[0], "--header", pair[1])
        name = pair[0].split(":")[0].lower()
        check(rc in (1, 2) and len(error_lines(err)) == 1 and name in err.lower() and
              "SignatureDoesNotMatch" not in err, f"{pair}: {rc} {err!r}")
    check(env.requests() == [], f"requests sent: {env.requests()}")


@case
def ssl_cert_file_is_named(env):
    """SSL_CERT_FILE naming a file that is not there: the error says that SSL_CERT_FILE
    gave the path (the user typed none), before any request."""
    missing = os.path.join(env.workdir, "no-such-bundle.pem")
    rc, _, err = env.run("put", env.file("cert-src", 100, seed=36), env.url("cert"),
                         endpoint=f"https://127.0.0.1:{env.server.port}", extra_env={"SSL_CERT_FILE": missing})
    if "no TLS" in err:   # said once, with what to do
        check(rc == 1 and len(error_lines(err)) == 1 and "use an http:// endpoint" in err and
              err.count("TLS") == 2, f"https:// without TLS: {rc} {err!r}")
        print("     skipped: this ossup is built without TLS")
        return
    check(rc == 1 and len(error_lines(err)) == 1 and missing in err and "SSL_CERT_FILE" in err, f"{rc} {err!r}")


@case
def closed_stderr_stays_out_of_the_transfer(env):
    """With stderr closed (2>&-) the library's socket or file used to take descriptor 2,
    and ossup's own messages ('started upload', 'downloading ... ranges') went into the
    OSS connection: the get failed with exit 1. put and get in parts now succeed and the
    bytes are the file's; a closed stdout is still a write error said as such."""
    path = env.file("closed-fd.bin", 350 * KIB, seed=37)
    ck = os.path.join(env.workdir, "ck-closed")

    def closed(redirect, *args):
        e = clean_environ()
        e.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=env.server.base)
        p = subprocess.run(["sh", "-c", f'exec "$0" "$@" {redirect}', env.ossup] + list(args), env=e,
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    env.server.reset()
    rc, _, _ = closed("2>&-", "put", path, env.url("closed-fd"), "--threshold", "300K", "--part-size", "100K",
                      "--checkpoint-dir", ck)
    check(rc == 0, f"put with stderr closed: exit {rc}")
    check(env.server.object(BUCKET, "closed-fd")["md5"] == md5_file(path), "the object differs")
    out = os.path.join(env.workdir, "closed-fd.out")
    rc, _, _ = closed("2>&-", "get", env.url("closed-fd"), out, "--threshold", "300K", "--part-size", "100K",
                      "--checkpoint-dir", ck)
    check(rc == 0 and os.path.exists(out) and md5_file(out) == md5_file(path), f"get with stderr closed: exit {rc}")
    os.remove(out)
    rc, _, err = closed(">&-", "get", env.url("closed-fd"), out, "--threshold", "300K", "--part-size", "100K",
                        "--checkpoint-dir", ck)
    check(os.path.exists(out) and md5_file(out) == md5_file(path), f"get with stdout closed: {rc} {err!r}")
    said = [line for line in error_lines(err) if "error" in line]
    check(rc == 1 and len(said) == 1 and "cannot write standard output" in said[0], f"get with stdout closed: {rc} {err!r}")


def _tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null"] + list(args), capture_output=True, text=True,
                          timeout=30)


@case
def progress_bar_fits_the_terminal(env):
    """In a 50- and a 30-column terminal (tmux) the bar, with its ETA, stays on one line
    that fits; the summary follows on its own line. The same for a download in ranges
    (get) in 50 columns."""
    if not shutil.which("tmux"):
        print("     skipped: tmux is not installed")
        return
    path = env.file("bar", 3000 * KIB, seed=13)
    for width, verb in ((50, "put"), (30, "put"), (50, "get")):
        env.server.reset()
        env.server.fault(op="UploadPart" if verb == "put" else "GetObject", action="stall", seconds=0.15,
                         count=100000)
        sock = f"ossup-test-{os.getpid()}-{width}"
        where = [path, env.url("bar50" if verb == "get" else f"bar{width}")]
        cmd = " ".join(["env", f"OSS_ENDPOINT={env.server.base}", f"OSS_ACCESS_KEY_ID={AK}",
                        f"OSS_ACCESS_KEY_SECRET={SK}", env.ossup, verb] +
                       (where if verb == "put" else [where[1], path + ".got"]) +
                       ["--threshold", "1M", "--part-size", "100K", "--checkpoint-dir", env.ckpt,
                        ";", "echo", "EXIT=$?;", "sleep", "60"])
        try:
            r = _tmux(sock, "new-session", "-d", "-x", str(width), "-y", "12", cmd)
            check(r.returncode == 0, f"tmux: {r.stderr}")
            seen, screen, deadline = 0, "", time.time() + 90
            while time.time() < deadline:
                screen = _tmux(sock, "capture-pane", "-p").stdout
                rows = screen.splitlines()
                bars = [row for row in rows if "%" in row]
                check(len(bars) <= 1, f"{width} columns: the bar took several rows:\n{screen}")
                if bars:
                    check("ETA" in bars[0] and len(bars[0]) < width, f"{width} columns: {bars[0]!r}")
                    seen += 1
                if "EXIT=" in screen:
                    break
                time.sleep(0.2)
            check("EXIT=0" in screen, f"{width} columns: the {verb} did not finish:\n{screen}")
            check(seen >= 2, f"{width} columns: the bar was seen {seen} times")
            rows = screen.splitlines()
            done = [i for i, row in enumerate(rows) if row.startswith("uploaded " if verb == "put" else "downloaded ")]
            check(done and "%" in rows[done[0] - 1], f"{width} columns: the summary does not follow the bar:\n{screen}")
            if width == 50:
                check(rows[done[0] - 1].startswith("["), f"no bar at 50 columns: {rows[done[0] - 1]!r}")
        finally:
            _tmux(sock, "kill-server")


def main():
    return driver_main("ossup", selected(CASES, "OSSR_OSSUP_CASES"), lambda work: Server(work, quiet=True), Env)


if __name__ == "__main__":
    sys.exit(main())
