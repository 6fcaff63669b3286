#!/usr/bin/env python3
"""The event-loop example (examples/loop.c, built without threads) against the test
server (tests/oss_server.py) on a free loopback port.

    python3 tests/test_loop.py build/loop/loop

loop uploads a file with a session of four connections driven from one thread's poll()
loop, in 1 MiB parts. The cases upload 9 MiB (9 parts): whole, with four parts held in
the server at once; with a part whose connection is reset once; cut by a part that keeps
failing, then run again; SIGKILLed while its four connections wait on a part each, then
run again. Each checks what reached the server (through its /_ossr/ control API), loop's
last line and that the stored object's MD5 equals the file's. OSSR_LOOP_CASES=name,name runs only those cases. The last line is
"loop: N passed, M failed"; the exit status is non-zero when anything failed.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import (AK, KIB, SK, BaseEnv, Cases, Server, check, check_parts_at_once,  # noqa: E402
                          check_resumed, clean_environ, driver_main, kill_when_held, md5_file, ops,
                          parts_sent, selected)

BUCKET = "bkt-loop"
MIB = 1024 * KIB
PARTS = 9                       # loop's parts are 1 MiB


def start_server(workdir):
    """The test server, --quiet."""
    return Server(workdir, cname=None, quiet=True)


class Env(BaseEnv):
    """loop runs with HOME in the work directory, one for each key, so that its
    checkpoints (the library's default place, $HOME/.oss-resumable) stay there apart."""
    bucket = BUCKET

    def home(self, key):
        return os.path.join(self.workdir, "home", key)

    def run(self, key, path, background=False):
        """`loop ENDPOINT BUCKET KEY PATH`: (rc, stdout, stderr), or the Popen with background."""
        env = clean_environ(drop=("HOME",))
        env.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, HOME=self.home(key))
        return self.exec_ossup([self.server.base, BUCKET, key, path], env, background=background)

    def checkpoints(self, key):
        """The checkpoint files of key's runs."""
        d = os.path.join(self.home(key), ".oss-resumable")
        return [f for f in os.listdir(d) if f.endswith(".ossr")] if os.path.isdir(d) else []


def uploaded(env, path, key, out, sent, reused):
    """loop's line says `sent` parts sent now and `reused` reused over 4 connections;
    the object has the file's MD5, nothing is left open, no checkpoint is left."""
    line = (f"loop: uploaded {os.path.getsize(path)} bytes in {PARTS} parts "
            f"({sent} sent now, {reused} reused) over 4 connections")
    check(out.strip() == line, f"expected {line!r}, got {out!r}")
    obj = env.server.object(BUCKET, key)
    check(obj is not None and obj["md5"] == md5_file(path), f"object {key} missing or differs from the file")
    check(not open_uploads(env, key), "an upload was left open")
    check(not env.checkpoints(key), f"checkpoints left after success: {env.checkpoints(key)}")


def open_uploads(env, key):
    """The server's open uploads of key."""
    return {u: i for u, i in env.server.uploads().items() if i["key"] == key}


def rerun_resumes(env, key, path, least):
    """After a cut run that left one checkpoint and key's upload open with at least
    `least` parts, loop run again resumes that upload: it sends each part the server
    lacks once and reuses the others. Returns the parts the server held before."""
    check(len(env.checkpoints(key)) == 1, f"expected one checkpoint, found {env.checkpoints(key)}")
    (uid, info), = open_uploads(env, key).items()
    stored = info["parts"]
    check(len(stored) >= least, f"the server holds parts {stored}, fewer than {least}")
    env.server.reset()
    rc, out, err = env.run(key, path)
    check(rc == 0, f"the rerun exited {rc}: {err.strip()}")
    check_resumed(env.server.log(), PARTS, stored, uid)
    uploaded(env, path, key, out, PARTS - len(stored), len(stored))
    return stored


CASES = Cases()
case = CASES.case


@case
def four_parts_at_once(env):
    """9 MiB in 9 parts, each sent once; a barrier holds each of the first four
    UploadParts until all four are in the server: one thread had four parts in flight."""
    path = env.file("whole", PARTS * MIB, seed=1)
    env.server.reset()
    env.server.fault(op="UploadPart", action="barrier", n=4, count=4)
    rc, out, err = env.run("loop/whole", path)
    check(rc == 0, f"loop exited {rc}: {err.strip()}")
    log = env.server.log()
    check_parts_at_once(log, 4)
    check(parts_sent(log) == list(range(1, PARTS + 1)), f"parts {parts_sent(log)}")
    check(len(ops(log, "InitiateMultipartUpload")) == 1, "expected one Initiate")
    uploaded(env, path, "loop/whole", out, PARTS, 0)


@case
def retries_a_reset_part(env):
    """The connection carrying part 5 is reset once, 64 KiB into its body: the session
    asks loop to close that connection and open another, sends part 5 again on it, and
    the upload succeeds, part 5 tried twice and every other part sent once."""
    path = env.file("reset", PARTS * MIB, seed=4)
    env.server.reset()
    env.server.fault(op="UploadPart", part=5, action="reset", after_bytes=64 * KIB)
    rc, out, err = env.run("loop/reset", path)
    tries = [e["status"] for e in ops(env.server.log(), "UploadPart") if e["part_number"] == 5]
    check(rc == 0, f"loop exited {rc} after one reset of part 5 (its tries reached the server with "
                   f"statuses {tries}): {err.strip()}")
    check(tries == [0, 200], f"part 5: statuses {tries}, not a reset then 200")
    check(parts_sent(env.server.log()) == list(range(1, PARTS + 1)), f"parts {parts_sent(env.server.log())}")
    uploaded(env, path, "loop/reset", out, PARTS, 0)


@case
def resumes_after_failed_part(env):
    """Part 5 is refused with 500 on every try: after 3 tries (the default) loop ends with
    one `loop:` error line and exit 1, leaving a checkpoint and the upload open; run
    again, it resumes that upload: the parts the server holds are reused, only the
    others sent."""
    path = env.file("cut", PARTS * MIB, seed=2)
    key = "loop/cut"
    env.server.reset()
    env.server.fault(op="UploadPart", part=5, action="status", status=500, count=1000)
    rc, out, err = env.run(key, path)
    check(rc == 1, f"loop exited {rc} although part 5 always failed: {out!r} {err!r}")
    check(re.fullmatch(r"loop: [^\n]*InternalError[^\n]*\n?", err) is not None,
          f"expected one 'loop: <error>' line naming InternalError: {err!r}")
    tries = [e for e in ops(env.server.log(), "UploadPart") if e["part_number"] == 5]
    check(len(tries) == 3, f"part 5 tried {len(tries)} times, not 3")
    env.server.wait_idle()
    stored = rerun_resumes(env, key, path, least=1)
    check(5 not in stored, f"the server held part 5 before the rerun: {stored}")


@case
def resumes_after_sigkill(env):
    """SIGKILL while all four connections wait on a part each (four parts stored, the
    next four held at a barrier in the server): no fifth part was sent; run again, loop
    resumes the upload, reusing every part the server has by then and sending each
    missing one once."""
    path = env.file("killed", PARTS * MIB, seed=3)
    key = "loop/killed"
    kill_when_held(env, [key, path], passed=4, held=4)
    rerun_resumes(env, key, path, least=4)


def main():
    return driver_main("loop", selected(CASES, "OSSR_LOOP_CASES"), start_server, Env)


if __name__ == "__main__":
    sys.exit(main())
