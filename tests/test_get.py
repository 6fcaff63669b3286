#!/usr/bin/env python3
"""Resumable downloads: `ossup get` (built from oss_resumable.h) against the test server
(tests/oss_server.py) on a free loopback port.

    python3 tests/test_get.py build/gcc/ossup

An object at or above the threshold comes in ranges (GetObject with Range, If-Match and
x-oss-range-behavior: standard) over several connections, written to FILE.ossr-tmp and
recorded in a checkpoint; FILE appears, by rename, only when the whole object is there
and its CRC-64 is the server's. The cases cut a range's reply (reset, short body), send
more than a range, flip a bit in transit, SIGKILL ossup at random points and run it
again, replace the object between runs and during a run, damage the temporary file
between runs, refuse a range, interrupt with Ctrl-C and drop a download; below the
threshold they replace the object during the one GET, hold that GET to its HEAD (no
CRC-64 in the reply, a lying length), run two gets to one FILE at once, and shrink an
object that was being fetched in ranges; a link stands where FILE.ossr-tmp goes. Each checks the
file byte for byte against the object, and what reached the server (its /_ossr/ log). OSSR_GET_CASES=name,name runs only those cases. The last line is
"get: N passed, M failed"; the exit status is non-zero when anything failed.
"""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (AK, KIB, SK, BaseEnv, Cases, Server, check, clean_environ, driver_main,  # noqa: E402
                          md5_file, ops, selected)

BUCKET = "bkt-get"
MIB = 1024 * KIB
SIZE = 9 * MIB + 123            # ten ranges of 1 MiB, the last one of 123 bytes
RANGES = 10
OPTS = ("--threads", "4", "--part-size", "1M", "--threshold", "1M")


def start_server(workdir):
    """The test server, --quiet."""
    return Server(workdir, cname=None, quiet=True)


class Env(BaseEnv):
    bucket = BUCKET

    def run(self, *args, background=False):
        env = clean_environ()
        env.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=self.server.base)
        return self.exec_ossup(args, env, more=("--checkpoint-dir", self.ckpt), background=background)

    def put(self, key, size, seed):
        """Stores size bytes (seed's) as key; returns the local copy's path."""
        path = self.file(f"src-{key}-{seed}", size, seed)
        rc, _, err = self.run("put", path, f"oss://{BUCKET}/{key}")
        check(rc == 0, f"ossup put exited {rc}: {err.strip()}")
        return path

    def get(self, key, dest, *extra, background=False):
        return self.run("get", f"oss://{BUCKET}/{key}", dest, *OPTS, *extra, background=background)

    def checkpoints(self):
        return [f for f in os.listdir(self.ckpt) if f.endswith(".ossr")] if os.path.isdir(self.ckpt) else []


def ranges_got(log):
    """The Range header of each GetObject the server answered with 206, in order."""
    return [e["headers"].get("range") for e in ops(log, "GetObject") if e["status"] == 206]


def same_file(dest, src):
    check(os.path.exists(dest), f"{dest} is missing")
    check(md5_file(dest) == md5_file(src), f"{dest} differs from the object")


def downloaded(env, dest, src, out, err):
    """ossup said so, FILE is the object byte for byte, and nothing is left behind."""
    check("downloaded" in out and "matches the server's" in out, f"unexpected output: {out!r} {err!r}")
    same_file(dest, src)
    check(not os.path.exists(dest + ".ossr-tmp"), "the temporary file was left behind")
    check(env.checkpoints() == [], f"checkpoint left behind: {env.checkpoints()}")


def fresh(env, name):
    """A destination path in a directory of its own, and a reset server."""
    d = os.path.join(env.workdir, name)
    os.makedirs(d, exist_ok=True)
    env.server.reset()
    return os.path.join(d, "file")


CASES = Cases()
case = CASES.case


@case
def small_object_one_get(env):
    """Below the threshold: a HEAD and one GET without a Range, and no checkpoint."""
    src = env.put("small", 300 * KIB, 1)
    dest = fresh(env, "small")
    rc, out, err = env.get("small", dest)
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    gets = ops(env.server.log(), "GetObject")
    check(len(gets) == 1 and "range" not in gets[0]["headers"], f"GETs: {[g['headers'].get('range') for g in gets]}")


@case
def ranges_four_at_once(env):
    """Ten ranges over four connections, four of them in the server at once; each
    range fetched once, with If-Match and the standard range behaviour."""
    src = env.put("obj", SIZE, 2)
    dest = fresh(env, "four")
    env.server.fault(op="GetObject", action="barrier", n=4, count=4)
    rc, out, err = env.get("obj", dest)
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    log = env.server.log()
    got = ranges_got(log)
    want = [f"bytes={i * MIB}-{min(SIZE, (i + 1) * MIB) - 1}" for i in range(RANGES)]
    check(sorted(got) == sorted(want), f"ranges fetched: {got}")
    gets = ops(log, "GetObject")
    etag = env.server.object(BUCKET, "obj")["etag"]
    check(all(g["headers"].get("if-match") == etag for g in gets), "a range went without If-Match")
    check(all(g["headers"].get("x-oss-range-behavior") == "standard" for g in gets),
          "a range went without x-oss-range-behavior: standard")
    held = [g for g in gets if g["fault"] == "barrier"]
    check([g["barrier"] for g in held] == [{"group": 4, "released": "full"}] * 4,
          f"four ranges were not in the server at once: {[g['barrier'] for g in held]}")


def one_fault(env, name, **fault):
    """A download of obj with fault on the range at 3 MiB, once: the file is whole."""
    src = env.put("obj", SIZE, 2)
    dest = fresh(env, name)
    env.server.fault(op="GetObject", range_start=3 * MIB, count=1, **fault)
    rc, out, err = env.get("obj", dest)
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    return env.server.log()


@case
def reset_mid_body(env):
    """The connection reset half-way through a range's body: that range is fetched
    again, no other."""
    log = one_fault(env, "reset", action="reset", phase="reply", reply_bytes=300 * KIB)
    got = ranges_got(log)
    check(len(got) == RANGES + 1 and got.count(f"bytes={3 * MIB}-{4 * MIB - 1}") == 2, f"ranges fetched: {got}")


@case
def short_body(env):
    """A reply that ends cleanly before its Content-Range's end: a retry, never a
    short file."""
    log = one_fault(env, "short", action="garble", kind="truncated_body", bytes=1000)
    got = ranges_got(log)
    check(len(got) == RANGES + 1 and got.count(f"bytes={3 * MIB}-{4 * MIB - 1}") == 2, f"ranges fetched: {got}")


@case
def long_body(env):
    """A reply longer than its Content-Range (its Content-Length counts more): a retry,
    never bytes past the range."""
    log = one_fault(env, "long", action="garble", kind="long_body", bytes=5000)
    got = ranges_got(log)
    check(len(got) == RANGES + 1 and got.count(f"bytes={3 * MIB}-{4 * MIB - 1}") == 2, f"ranges fetched: {got}")


@case
def bit_flipped_in_transit(env):
    """One bit flipped on the way, headers intact: the folded CRC-64 is not the
    server's, so every range is fetched again, and the file is right."""
    log = one_fault(env, "flip", action="flip_bit", offset=777, bit=3)
    got = ranges_got(log)
    check(len(got) == 2 * RANGES, f"{len(got)} ranges fetched, not every range twice")


def kill_midway(env, key, dest, rnd):
    """Starts the download with every range slowed by 0.2 s and SIGKILLs it at a random
    moment in it; waits until the server is idle. Returns the ranges it got."""
    for _ in range(5):
        env.server.reset()
        env.server.fault(op="GetObject", action="stall", seconds=0.2, count=100000)
        p = env.get(key, dest, background=True)
        time.sleep(0.15 + rnd.random() * 0.45)   # about three rounds of four ranges
        if p.poll() is None:
            break
        p.communicate()
    else:
        raise AssertionError("the download always finished before it could be killed")
    p.kill()
    p.communicate()
    env.server.control("POST", "clear-faults")
    env.server.wait_idle()
    return ranges_got(env.server.log())


@case
def kill_and_resume(env):
    """SIGKILLed at random points with four connections, then run again: the file is the
    object byte for byte, absent until the end, and only ranges in flight at the kill
    are fetched twice."""
    src = env.put("obj", SIZE, 2)
    rnd = random.Random(int(os.environ.get("OSSR_GET_SEED", "0")) or None)
    for n in range(3):
        dest = fresh(env, f"kill{n}")
        first = kill_midway(env, "obj", dest, rnd)
        check(not os.path.exists(dest), "the file appeared before the download was whole")
        check(os.path.exists(dest + ".ossr-tmp") and env.checkpoints(), "no temporary file or checkpoint to resume")
        env.server.reset()
        rc, out, err = env.get("obj", dest)
        check(rc == 0, f"the resumed ossup get exited {rc}: {err.strip()}")
        downloaded(env, dest, src, out, err)
        second = ranges_got(env.server.log())
        twice = set(first) & set(second)
        check(len(second) + len(first) - len(twice) >= RANGES and len(set(first) | set(second)) == RANGES,
              f"ranges: {first} then {second}")
        check(len(twice) <= 4, f"{len(twice)} ranges fetched twice, more than the four in flight: {sorted(twice)}")


@case
def object_replaced_between_runs(env):
    """The object replaced after a cut: the next run starts over (and says why), and
    the file is the new object, never a mix."""
    env.put("swap", SIZE, 3)
    dest = fresh(env, "swap")
    kill_midway(env, "swap", dest, random.Random(5))
    new = env.put("swap", SIZE, 4)
    env.server.reset()
    rc, out, err = env.get("swap", dest, "--verbose")
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, new, out, err)
    check("changed on the server" in err, f"the restart was not said: {err!r}")
    check(len(ranges_got(env.server.log())) == RANGES, "the new object's ranges were not all fetched")


@case
def object_replaced_during_run(env):
    """The object replaced while ranges are on their way: If-Match refuses the rest
    (412), the download starts over, and the file is the new object."""
    env.put("during", SIZE, 6)
    dest = fresh(env, "during")
    env.server.fault(op="GetObject", action="barrier", n=1 << 20, seconds=600, skip=2, count=1 << 30)
    p = env.get("during", dest, "--verbose", background=True)
    deadline = time.time() + 60
    while not [e for e in env.server.log() if e.get("barrier") and e["barrier"]["released"] is None]:
        check(p.poll() is None and time.time() < deadline, "no range was held")
        time.sleep(0.02)
    new = env.put("during", SIZE, 7)
    env.server.control("POST", "clear-faults")
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, f"ossup get exited {p.returncode}: {err.strip()}")
    downloaded(env, dest, new, out, err)
    check(any(e["status"] == 412 for e in ops(env.server.log(), "GetObject")), "no range was refused with 412")
    check("changed on the server" in err, f"the restart was not said: {err!r}")


@case
def small_object_replaced_during_run(env):
    """Below the threshold too the one GET names the object the HEAD saw (If-Match): the
    object replaced between the HEAD and the GET is refused (412), the download starts
    over, and the file is the new object."""
    env.put("small-during", 300 * KIB, 15)
    dest = fresh(env, "small-during")
    env.server.fault(op="GetObject", action="barrier", n=1 << 20, seconds=600, count=1)
    p = env.get("small-during", dest, "--verbose", background=True)
    deadline = time.time() + 60
    while not [e for e in env.server.log() if e.get("barrier") and e["barrier"]["released"] is None]:
        check(p.poll() is None and time.time() < deadline, "the GET was not held")
        time.sleep(0.02)
    new = env.put("small-during", 300 * KIB, 16)
    env.server.control("POST", "clear-faults")
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, f"ossup get exited {p.returncode}: {err.strip()}")
    downloaded(env, dest, new, out, err)
    gets = ops(env.server.log(), "GetObject")
    check(gets and gets[0]["status"] == 412 and len(gets) == 2, f"GetObject statuses {[g['status'] for g in gets]}, "
          "not a 412 and then the new object")
    check("changed on the server" in err, f"the restart was not said: {err!r}")


@case
def damaged_temporary_file(env):
    """A byte of a recorded range changed in FILE.ossr-tmp between runs: the resume
    reads the recorded ranges back, fetches that one again, and the file is right."""
    src = env.put("obj", SIZE, 2)
    dest = fresh(env, "damaged")
    first = kill_midway(env, "obj", dest, random.Random(9))
    check(first, "no range arrived before the kill")
    start = int(first[0].split("=")[1].split("-")[0])
    with open(dest + ".ossr-tmp", "r+b") as f:
        f.seek(start + 10)
        b = f.read(1)
        f.seek(start + 10)
        f.write(bytes([b[0] ^ 0xFF]))
    env.server.reset()
    rc, out, err = env.get("obj", dest, "--verbose")
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    check(first[0] in ranges_got(env.server.log()), f"the damaged range {first[0]} was not fetched again")


@case
def failing_range_is_named(env):
    """A range the server refuses (403): the download stops, its error names the range,
    FILE does not appear and the ranges that came are kept for the next run."""
    env.put("obj", SIZE, 2)
    dest = fresh(env, "refused")
    env.server.fault(op="GetObject", range_start=3 * MIB, action="status", status=403, code="AccessDenied", count=10)
    rc, out, err = env.get("obj", dest)
    check(rc != 0 and "range 4" in err and "AccessDenied" in err, f"exit {rc}: {err!r}")
    check(not os.path.exists(dest) and os.path.exists(dest + ".ossr-tmp") and env.checkpoints(),
          "after a refused range: FILE, or nothing kept to resume")
    env.server.control("POST", "clear-faults")
    rc, out, err = env.run("abort", dest, f"oss://{BUCKET}/obj")
    check(rc == 0 and env.checkpoints() == [], f"ossup abort after a refused range: {rc} {err!r}")


@case
def ctrl_c_then_resume(env):
    """SIGINT mid-download: exit 130 with one line saying the ranges are kept and how to
    resume, no FILE; the same command then resumes and fetches only the rest."""
    src = env.put("obj", SIZE, 2)
    dest = fresh(env, "ctrlc")
    env.server.fault(op="GetObject", action="barrier", n=1 << 20, seconds=600, skip=4, count=1 << 30)
    p = env.get("obj", dest, background=True)
    deadline = time.time() + 60
    while not [e for e in env.server.log() if e.get("barrier")]:
        check(p.poll() is None and time.time() < deadline, "the download never reached the fifth range")
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 130, f"exit {p.returncode} after SIGINT: {err!r}")
    lines = [line for line in err.splitlines() if "interrupted" in line]
    check(len(lines) == 1 and "kept" in lines[0] and "resume" in lines[0], f"the interrupted line: {err!r}")
    check(not os.path.exists(dest), "FILE appeared although the download was interrupted")
    env.server.control("POST", "clear-faults")
    env.server.wait_idle()
    first = ranges_got(env.server.log())
    env.server.reset()
    rc, out, err = env.get("obj", dest)
    check(rc == 0, f"the resumed ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    second = ranges_got(env.server.log())
    check(len(first) >= 4 and not set(first[:4]) & set(second) and len(second) <= RANGES - 4,
          f"ranges before the interrupt {first}, after {second}")


@case
def abort_drops_a_download(env):
    """`ossup abort FILE oss://B/K` after a cut download: its checkpoint and
    FILE.ossr-tmp go (and `ossup uploads` never took the record for an upload's); the
    next get starts from nothing. Refused, with nothing removed, while it runs."""
    src = env.put("obj", SIZE, 2)
    dest = fresh(env, "abort")
    kill_midway(env, "obj", dest, random.Random(11))
    check(os.path.exists(dest + ".ossr-tmp") and env.checkpoints(), "nothing to drop after the kill")
    rc, out, err = env.run("uploads", f"oss://{BUCKET}")
    check(rc == 0 and "ossr-tmp" not in out, f"ossup uploads: {rc} {out!r} {err!r}")
    env.server.reset()
    env.server.fault(op="GetObject", action="barrier", n=1 << 20, seconds=600, count=1 << 30)
    p = env.get("obj", dest, background=True)
    deadline = time.time() + 60
    while not [e for e in env.server.log() if e.get("barrier")]:
        check(p.poll() is None and time.time() < deadline, "the download never sent a range")
        time.sleep(0.02)
    with open(dest, "wb") as f:     # an older FILE the download is to replace: no upload's source
        f.write(b"older")
    rc, out, err = env.run("abort", dest, f"oss://{BUCKET}/obj")
    check(rc != 0 and "another download" in err, f"abort during the download: {rc} {out!r} {err!r}")
    os.remove(dest)
    check(os.path.exists(dest + ".ossr-tmp") and env.checkpoints(), "abort removed a running download's files")
    p.kill()
    p.communicate()
    env.server.control("POST", "clear-faults")
    env.server.wait_idle()
    rc, out, err = env.run("abort", dest, f"oss://{BUCKET}/obj")
    check(rc == 0 and "dropped the download" in out, f"ossup abort: {rc} {out!r} {err!r}")
    check(not os.path.exists(dest + ".ossr-tmp") and env.checkpoints() == [], "the download's files are still there")
    env.server.reset()
    rc, out, err = env.get("obj", dest)
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    check(len(ranges_got(env.server.log())) == RANGES, "the get after the abort did not fetch every range")


@case
def two_small_gets_at_once(env):
    """Two `ossup get` of one object below the threshold to one FILE at once, the second
    started while the first is half-way: the one that says it downloaded leaves FILE the
    object byte for byte (the other one is refused, or writes a file of its own), even
    when the other one is then killed."""
    src = env.put("small2", 300 * KIB, 12)
    dest = fresh(env, "small-twice")
    tmp = dest + ".ossr-tmp"
    env.server.fault(op="GetObject", action="trickle", phase="body", rate=100 * KIB, count=1)
    env.server.fault(op="GetObject", action="trickle", phase="body", rate=2 * KIB, count=1)
    first = env.get("small2", dest, background=True)
    deadline = time.time() + 60
    while not (os.path.exists(tmp) and os.path.getsize(tmp) >= 64 * KIB):
        check(first.poll() is None and time.time() < deadline, "the first download never wrote 64 KiB")
        time.sleep(0.01)
    second = env.get("small2", dest, background=True)
    while second.poll() is None and len(ops(env.server.log(), "GetObject")) < 2:
        check(first.poll() is None and time.time() < deadline, "the second download never sent its GET")
        time.sleep(0.01)
    out, err = first.communicate(timeout=60)
    second.kill()
    second.communicate()
    check(first.returncode == 0 and "downloaded" in out, f"the first ossup get exited {first.returncode}: {err!r}")
    same_file(dest, src)


@case
def link_at_temporary_file(env):
    """FILE.ossr-tmp is a symbolic link to another file: the download does not write,
    move or remove the file it points to (the link is replaced, as the sink does with
    one), and neither does `ossup abort FILE`."""
    src = env.put("obj", SIZE, 2)
    dest = fresh(env, "link")
    other = os.path.join(env.workdir, "link-other")
    words = b"a file of its own, not the download's\n"
    with open(other, "wb") as f:
        f.write(words)
    os.symlink(other, dest + ".ossr-tmp")
    rc, out, err = env.get("obj", dest)
    check(os.path.exists(other), f"the file the link pointed to is gone (moved to {dest}?)")
    with open(other, "rb") as f:
        check(f.read() == words, "the file the link pointed to was written")
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)
    os.symlink(other, dest + ".ossr-tmp")
    env.run("abort", dest, f"oss://{BUCKET}/obj")
    check(os.path.exists(other), "ossup abort removed the file the link points to")


@case
def small_get_without_checkpoint_dir(env):
    """A checkpoint directory that cannot be made (a file stands where it goes): one GET
    below the threshold needs no record and downloads all the same; a download in
    ranges, which does, stops before its first range and names the directory."""
    small = env.put("small5", 300 * KIB, 18)
    env.put("obj", SIZE, 2)
    blocker = os.path.join(env.workdir, "not-a-dir")
    with open(blocker, "w") as f:
        f.write("a file\n")
    ck = os.path.join(blocker, "ckpt")
    run_env = clean_environ()
    run_env.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=env.server.base)

    def get(key, dest):
        return env.exec_ossup(("get", f"oss://{BUCKET}/{key}", dest, *OPTS, "--checkpoint-dir", ck), run_env)
    dest = fresh(env, "no-ckpt-small")
    rc, out, err = get("small5", dest)
    check(rc == 0, f"the small get without a checkpoint directory: exit {rc}: {err.strip()}")
    downloaded(env, dest, small, out, err)
    env.server.reset()
    dest = fresh(env, "no-ckpt-big")
    rc, out, err = get("obj", dest)
    check(rc not in (0, 2) and ck in err and not ops(env.server.log(), "GetObject"),
          f"the ranged get without a checkpoint directory: exit {rc}: {err.strip()}")


@case
def missing_directory_is_said(env):
    """A target whose directory is not there: refused before any request, with the
    path the user gave and what to do, not the name of the temporary file."""
    env.put("small6", 1000, 19)
    env.server.reset()
    dest = os.path.join(env.workdir, "no-such-dir", "out")
    rc, out, err = env.get("small6", dest)
    check(rc == 1 and dest in err and "directory is not there" in err and ".ossr-tmp" not in err,
          f"exit {rc}: {err.strip()!r}")
    check(not ops(env.server.log(), "HeadObject"), "a request went out")


@case
def directory_at_temporary_file(env):
    """A directory where FILE.ossr-tmp goes: refused before any request, with words that
    say what to remove; once it is gone the same command downloads."""
    src = env.put("small4", 300 * KIB, 17)
    dest = fresh(env, "tmpdir")
    os.mkdir(dest + ".ossr-tmp")
    rc, out, err = env.get("small4", dest)
    check(rc not in (0, 2) and "is a directory: remove it" in err, f"exit {rc}: {err.strip()!r}")
    check(not ops(env.server.log(), "HeadObject"), "a request went out")
    os.rmdir(dest + ".ossr-tmp")
    rc, out, err = env.get("small4", dest)
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    downloaded(env, dest, src, out, err)


@case
def single_get_held_to_its_head(env):
    """Below the threshold the one GET is held to what HeadObject said of the object: a
    reply without x-oss-hash-crc64ecma is still checked against the HEAD's CRC-64 (a bit
    flipped on the way) and its length against the HEAD's size (a Content-Length that
    counts 100 bytes more); such a reply is retried or fails, and never becomes FILE."""
    src = env.put("small3", 300 * KIB, 13)
    for name, fault in (("flip", dict(action="flip_bit", offset=1234, bit=5)),
                        ("long", dict(action="garble", kind="long_body", bytes=100))):
        dest = fresh(env, "held-" + name)
        env.server.fault(op="GetObject", no_crc=True, count=1, **fault)
        rc, out, err = env.get("small3", dest)
        heads = ops(env.server.log(), "HeadObject")
        check(heads and heads[0]["status"] == 200, f"{name}: no HeadObject before the GET")
        if rc == 0:
            same_file(dest, src)
            check("matches the server's" in out, f"{name}: the CRC-64 the HEAD gave was not checked: {out!r}")
        else:
            check(not os.path.exists(dest), f"{name}: ossup get failed ({err.strip()}) and left FILE")
        check(not os.path.exists(dest + ".ossr-tmp"), f"{name}: the temporary file was left behind")


@case
def object_shrinks_below_threshold_between_runs(env):
    """A download in ranges cut (a refused range), then the object replaced by one below
    the threshold: the next run is one GET, FILE is the new object, and the cut
    download's checkpoint goes with its temporary file (nothing is left that no command
    would ever drop)."""
    env.put("shrink", SIZE, 2)
    dest = fresh(env, "shrink")
    env.server.fault(op="GetObject", range_start=3 * MIB, action="status", status=403, code="AccessDenied", count=1)
    rc, out, err = env.get("shrink", dest)
    check(rc != 0 and env.checkpoints() and os.path.exists(dest + ".ossr-tmp"), f"nothing kept to resume: {rc} {err!r}")
    new = env.put("shrink", 300 * KIB, 14)
    env.server.reset()
    rc, out, err = env.get("shrink", dest)
    check(rc == 0, f"ossup get exited {rc}: {err.strip()}")
    check(len(ops(env.server.log(), "GetObject")) == 1, "the object below the threshold did not come in one GET")
    downloaded(env, dest, new, out, err)


def main():
    return driver_main("get", selected(CASES, "OSSR_GET_CASES"), start_server, Env)


if __name__ == "__main__":
    sys.exit(main())
