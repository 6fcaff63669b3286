"""Shared harness of the end-to-end test drivers (tests/test_e2e.py, tests/test_tls.py,
tests/test_faults.py, tests/test_ossup.py, tests/test_loop.py): the test server
(tests/oss_server.py) on a free loopback port and its /_ossr/ control API, the per-run
environment with its test files, the helpers that read the server's log, the case
registry with the loop that runs the cases, and a driver's main(). Standard library only.
"""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
AK, SK = "test-ak", "test-secret"
KIB = 1024
CNAME = "files.example.test=bkt-cname"


def make_file(path, size, seed=1):
    """Writes size pseudo-random bytes (the same for the same seed) to path; returns path."""
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rnd.randbytes(n))
            left -= n
    return path


def stop_process(proc, timeout=10):
    """Terminates proc; kills it when it has not ended within timeout seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Server:
    """oss_server.py on a free port of host, with its data and server.log in workdir.

    credentials: more "AK:SK[:TOKEN]" pairs besides AK:SK; cname: "HOST=BUCKET" or None;
    quiet: pass --quiet. With certs (a directory) the TLS listener runs too, with the
    cert and key files of that directory; tls_port and https name it."""

    def __init__(self, workdir, host="127.0.0.1", credentials=(), cname=CNAME, quiet=False,
                 certs=None, cert="server-chain.pem", key="server.key"):
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        port_file = os.path.join(workdir, "port")
        tls_port_file = os.path.join(workdir, "tls-port")
        wait_for = [port_file] + ([tls_port_file] if certs else [])
        for f in wait_for:
            if os.path.exists(f):
                os.remove(f)
        args = [sys.executable, os.path.join(HERE, "oss_server.py"), "--host", host, "--port", "0",
                "--port-file", port_file, "--data-dir", os.path.join(workdir, "data")]
        for c in (f"{AK}:{SK}",) + tuple(credentials):
            args += ["--credentials", c]
        if cname:
            args += ["--cname", cname]
        if certs:
            args += ["--tls-cert", os.path.join(certs, cert), "--tls-key", os.path.join(certs, key),
                     "--tls-port", "0", "--tls-port-file", tls_port_file]
        args += ["--lifetime", "900"]
        if quiet:
            args.append("--quiet")
        self._log_file = open(os.path.join(workdir, "server.log"), "a")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self._log_file)
        deadline = time.time() + 20
        while not all(os.path.exists(f) for f in wait_for):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("test server did not start; see server.log")
            time.sleep(0.05)
        self.port = int(open(port_file).read().strip())
        self.base = f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"
        self.tls_port = int(open(tls_port_file).read().strip()) if certs else None

    @property
    def https(self):
        return f"https://localhost:{self.tls_port}"

    def stop(self):
        stop_process(self.proc)
        self._log_file.close()

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(self.base + "/_ossr/" + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                text = r.read()
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise
        return json.loads(text) if text else None

    def log(self):
        return self.control("GET", "log")

    def reset(self):
        self.control("POST", "reset")

    def wait_idle(self, timeout=20):
        """Waits until the server handles no request: a client that gave up on a stalled
        reply leaves the handler running, and it may still store the part."""
        r = self.control("GET", "idle?timeout=%g" % timeout)
        if not r["idle"]:
            raise AssertionError("the server still handles %d request(s) after %gs" % (r["busy"], timeout))

    def fault(self, **kw):
        return self.control("POST", "fault", kw)

    def tls(self):
        return self.control("GET", "tls")

    def object(self, bucket, key):
        q = urllib.parse.urlencode({"bucket": bucket, "key": key}, quote_via=urllib.parse.quote)
        return self.control("GET", "object?" + q)

    def uploads(self):
        return self.control("GET", "uploads")

    def abort(self, upload_id):
        return self.control("POST", "abort?" + urllib.parse.urlencode({"uploadId": upload_id}, quote_via=urllib.parse.quote))


class BaseEnv:
    """What a case gets: the ossup program, the server, a work directory. A driver's
    subclass sets bucket (put_ok's default) and defines run() with exec_ossup()."""
    bucket = None

    def __init__(self, ossup, server, workdir):
        self.ossup, self.server, self.workdir = ossup, server, workdir
        self.ckpt = os.path.join(workdir, "ckpt")

    def file(self, name, size, seed=1):
        """A file of size pseudo-random bytes (the same for the same seed) in the work dir."""
        return make_file(os.path.join(self.workdir, name), size, seed)

    def exec_ossup(self, args, env, more=(), timeout=120, background=False):
        """Runs ossup ARGS [--checkpoint-dir CKPT for put] MORE with environment env:
        (rc, stdout, stderr), or the running Popen with background."""
        cmd = [self.ossup] + list(args)
        if args and args[0] == "put" and "--checkpoint-dir" not in args:
            cmd += ["--checkpoint-dir", self.ckpt]
        cmd += list(more)
        if background:
            return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr


def clean_environ(drop=()):
    """os.environ without the OSS_* variables and the names in drop."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OSS_") and k not in drop}


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ops(log, op):
    return [e for e in log if e["op"] == op]


def parts_sent(log):
    return sorted(e["part_number"] for e in log if e["op"] == "UploadPart" and e["status"] == 200)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def put_ok(env, path, key, *extra, bucket=None, **kw):
    """ossup put must succeed and the stored object must have the file's MD5."""
    bucket = bucket or env.bucket
    server = kw.get("server") or env.server
    rc, out, err = env.run("put", path, f"oss://{bucket}/{key}", *extra, **kw)
    check(rc == 0, f"ossup put {key} exited {rc}: {err.strip()}")
    obj = server.object(bucket, key)
    check(obj is not None, f"object {key} missing on the server")
    check(obj["md5"] == md5_file(path), f"object {key}: MD5 {obj['md5']} differs from the file's")
    return out, err, obj


class Cases(list):
    """The registry of a driver's cases, in order: (function, quick) pairs."""

    def case(self, fn, quick=False):
        self.append((fn, quick))
        return fn

    def quick_case(self, fn):
        return self.case(fn, quick=True)


def run_cases(fns, env):
    """Runs each case function with env, printing "ok   NAME (Ns)" or "FAIL NAME: MSG"
    (with the traceback of anything but a failed check); returns (passed, failed)."""
    passed = failed = 0
    for fn in fns:
        t0 = time.time()
        try:
            fn(env)
            passed += 1
            print(f"ok   {fn.__name__} ({time.time() - t0:.1f}s)", flush=True)
        except Exception as e:
            failed += 1
            print(f"FAIL {fn.__name__}: {e}", flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
    return passed, failed


def report(name, passed, failed, t0=None, notes=(), skipped=0):
    """A suite's closing lines (its notes, its time, the counts: skipped ones only when
    there are any); returns the exit status."""
    for note in notes:
        print("note: " + note)
    if t0 is not None:
        print(f"     ({time.time() - t0:.1f}s)")
    print(f"{name}: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


def selected(cases, variable):
    """The functions of cases (a Cases registry): those named in $variable
    (NAME,NAME,...) when it is set, else all."""
    only = [n for n in os.environ.get(variable, "").split(",") if n]
    return [fn for fn, _ in cases if not only or fn.__name__ in only]


def driver_main(name, fns, start_server, make_env, timed=False, notes=()):
    """The main() of a driver run as `test_NAME.py PATH-TO-OSSUP`: in a fresh work
    directory, starts start_server(workdir) and runs the case functions fns with
    make_env(ossup, server, workdir); then stops the server, removes the directory and
    prints the report (with the time taken when timed). Returns the exit status."""
    if len(sys.argv) != 2:
        print(f"usage: {os.path.basename(sys.argv[0])} PATH-TO-OSSUP", file=sys.stderr)
        return 2
    ossup = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix=f"ossr-{name}-")
    t0 = time.time()
    server = start_server(work)
    passed = failed = 0
    try:
        passed, failed = run_cases(fns, make_env(ossup, server, work))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return report(name, passed, failed, t0 if timed else None, notes)


def check_resumed(log, parts, stored, upload_id):
    """The log of a run that resumed upload_id of parts parts while the server held the
    parts stored: no new upload, a ListParts, each part the server lacked sent once and
    no other, then the Complete of that upload."""
    sent = parts_sent(log)
    missing = set(range(1, parts + 1)) - set(stored)
    check(not ops(log, "InitiateMultipartUpload"), "the resume started a new upload")
    check(ops(log, "ListParts"), "the resume did not ask the server (ListParts)")
    check(not set(sent) & set(stored), f"parts re-sent although the server had them: {sorted(set(sent) & set(stored))}")
    check(set(sent) == missing, f"parts missing: {sorted(missing - set(sent))}")
    check(len(sent) == len(missing), f"a part was sent twice: {sent}")
    check([e["upload_id"] for e in ops(log, "CompleteMultipartUpload")] == [upload_id], "completed another upload")


def held_at_barrier(log):
    """The logged requests a barrier fault holds now."""
    return [e for e in log if e.get("barrier") and e["barrier"]["released"] is None]


def check_parts_at_once(log, n):
    """n UploadParts of different parts met a barrier fault of n (set with count n) and
    were released together when all n were in the server, which then had n or more OSS
    requests in flight: the client sent n parts at once. (The barrier's default 30 s are
    below the client's 60 s I/O timeout: a retry cannot fill it.)"""
    parts = ops(log, "UploadPart")
    held = [e for e in parts if e["fault"] == "barrier"]
    check([e["barrier"] for e in held] == [{"group": n, "released": "full"}] * n,
          f"the barrier did not see {n} parts at once: {[e['barrier'] for e in held]}")
    check(len({e["part_number"] for e in held}) == n, f"the barrier held parts {[e['part_number'] for e in held]}")
    most = max(e["in_flight"] for e in parts)
    check(most >= n, f"at most {most} UploadParts were in the server at once, not {n}")


def kill_when_held(env, args, passed, held):
    """Starts `ARGS` (env.run) in the background while the server lets `passed` UploadParts
    through and holds every later one at a barrier; SIGKILLs it once `held` parts wait
    there (every connection busy with one) and checks that no more than that were sent;
    then lets them go on and waits until the server is idle. Returns the open uploads."""
    env.server.reset()
    env.server.fault(op="UploadPart", action="barrier", n=1 << 20, seconds=600, skip=passed, count=1 << 30)
    p = env.run(*args, background=True)
    deadline = time.time() + 120         # only against a hang: the barrier holds for 600 s
    while len(held_at_barrier(env.server.log())) < held:
        if p.poll() is not None or time.time() > deadline:
            p.kill()
            _, err = p.communicate()
            raise AssertionError(f"{held} parts were never held at once (exit {p.returncode}): {err.strip()}")
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    log = env.server.log()
    numbers = [e["part_number"] for e in ops(log, "UploadPart")]
    check(len(held_at_barrier(log)) == held, f"{len(held_at_barrier(log))} parts in flight, not {held}")
    check(len(numbers) == passed + held and len(set(numbers)) == len(numbers),
          f"UploadParts sent: {numbers}, not {passed} + {held} different parts")
    env.server.control("POST", "clear-faults")
    env.server.wait_idle()
    return env.server.uploads()


def kill_midway(env, args, rnd, threads, lead=0.2, tries=5):
    """Starts `ossup ARGS` in the background while the server slows every part by 0.1 s,
    SIGKILLs it at a random moment inside the upload (about 52 parts / threads x 0.1 s),
    and waits until the parts still in flight have landed. Returns the open uploads."""
    for _ in range(tries):
        env.server.reset()
        env.server.fault(op="UploadPart", action="stall", seconds=0.1, count=100000)
        p = env.run(*args, background=True)
        time.sleep(lead + rnd.random() * (4.5 / int(threads)))
        if p.poll() is None:
            break
        p.communicate()
    else:
        raise AssertionError("the upload always finished before it could be killed")
    p.send_signal(signal.SIGKILL)
    p.communicate()
    env.server.wait_idle()
    return env.server.uploads()
