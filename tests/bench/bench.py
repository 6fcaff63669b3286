#!/usr/bin/env python3
"""bench.py - the benchmark behind `make bench`: throughput, CPU, memory, resume cost and
code size of ossup, written to BENCH.md at the top of the repository.

Every client uploads over loopback to tests/bench/sink (a minimal OSS stand-in in C that
checks no signature and keeps no data, only sizes and CRC-64s):

  * raw: tests/bench/raw, pread + send with no hashing (plain), or BearSSL AES-128-GCM
    (TLS): the transport limit the others are compared with;
  * ossup: build/ossup put, 1 and 4 threads, plain and TLS;
  * curl -T (one PUT), where curl is installed;
  * ali-oss multipartUpload (the official Node SDK), with ossup's part size and 1 and 4
    in parallel, where node and npm are available.

Each is run RUNS times (5; the median is reported) on a 1 GiB file of incompressible data,
interleaved so that drift on a shared machine touches every client alike. For each run:
wall time, the client's CPU time and peak RSS (from wait4's rusage), the sink's CPU time.

Downloads, the same way, of the sink's generated 1 GiB object gen/1073741824 (its bytes a
function of their offset, made as they are sent; see sink.c):

  * raw get: tests/bench/raw reading, one GET or N ranges on N connections, the bytes
    thrown away (the transport's limit), or written with pwrite and fdatasync'ed once
    (the same work as ossup's: the reference of the ratio and the target);
  * ossup get, 1 and 4 connections (ranges of 10 MiB), 1 connection with one GET
    (--threshold above the size), plain and TLS;
  * curl -o, where curl is installed.

Every file downloaded is compared byte for byte with the generator (`sink --check`)
before it is deleted; a run whose file differs fails its row. The files go to /dev/shm
when it is a tmpfs with room (the rows measure the clients, not a disk), else to the
scratch directory; BENCH_GET_DIR names another directory.

Then: ossup's peak RSS on a 100 MB file and on a sparse 8 GiB file against a bare C
program's, and ossup get's on 100 MB and 8 GiB objects (written to the scratch directory,
when its file system has room); the resume cost of a 10,000-part upload (time from
process start to the first new part after 9,999 were done, and the checkpoint's bytes per
finished part, measured by tests/bench/iocount.so); and tests/bench/size.py's numbers.

Environment: BENCH_QUICK=1 for a smoke run (128 MiB file and object, 1 GiB sparse file and
object for the memory rows, 1,000-part resume, one run each); BENCH_RUNS=N to change the
number of runs; BENCH_GET_DIR=DIR for where the download rows write.

    python3 tests/bench/bench.py [--build DIR] [--cc CC] [--out BENCH.md]

The binaries must be built first (`make bench` does it): build/ossup, build/bench/sink,
build/bench/raw, build/bench/bare, build/bench/iocount.so and build/bench/meter (which runs
each measured command and reports its rusage).
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import select
import shutil
import signal
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import size as sizemod  # noqa: E402  (tests/bench/size.py)

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
METER = None          # tests/bench/meter, set in main()
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = int(os.environ.get("BENCH_RUNS", "1" if QUICK else "5"))
BIG = 128 * MiB if QUICK else 1 * GiB
SPARSE = 1 * GiB if QUICK else 8 * GiB
MID = 100 * 1000 * 1000
GET_BIG = SPARSE       # the largest object ossup get's memory is measured on
GET_ROOM = 1 * GiB     # free space kept beyond a download's size
RESUME_PART = 102400
RESUME_PARTS = 1000 if QUICK else 10000
RESUME_REPEATS = 1 if QUICK else 3
PART_SIZE = 10 * MiB
BLOCK = 64 * MiB

SUITES = {0xC02F: "ECDHE-RSA-AES128-GCM-SHA256", 0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
          0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
          0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305", 0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305"}

STATS_RE = re.compile(r"stats: peak_heap=(\d+) workers=(\d+) heap_per_worker=(\d+) "
                      r"ckpt_bytes=(\d+) ckpt_writes=(\d+)")


def say(msg):
    print("bench: " + msg, flush=True)


def fmt_bytes(n):
    if n >= GiB and n % GiB == 0:
        return "%d GiB" % (n // GiB)
    if n >= MiB and n % MiB == 0:
        return "%d MiB" % (n // MiB)
    if n % (1000 * 1000) == 0:
        return "%d MB" % (n // (1000 * 1000))
    return "{:,} bytes".format(n)


# ---- files -------------------------------------------------------------------------

def make_data_file(path, size):
    """Incompressible data, fast: one 64 MiB block from os.urandom, written again and again
    with the copy's number stamped into the first 8 bytes of every 4 KiB, so no two pages of
    the file are equal."""
    block = bytearray(os.urandom(min(BLOCK, size)))
    with open(path, "wb") as f:
        done, copy = 0, 0
        while done < size:
            for off in range(0, len(block), 4096):
                struct.pack_into("<Q", block, off, copy)
            n = min(len(block), size - done)
            f.write(memoryview(block)[:n])
            done += n
            copy += 1


def read_through(path):
    """Reads a file once so that every client finds it in the page cache."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * MiB):
            pass


# ---- processes ---------------------------------------------------------------------

class Run:
    """One measured process: wall time, CPU, peak RSS, exit status, output."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def measure(argv, env, scratch, tag="run"):
    """Runs argv to completion under tests/bench/meter, which takes the wall time and the
    rusage (wait4: user and system CPU, ru_maxrss) of the command's own process. (Spawned
    straight from this Python process, ru_maxrss would include Python's RSS: exec() folds
    the replaced image's high-water mark into it.)"""
    out_path = os.path.join(scratch, tag + ".out")
    err_path = os.path.join(scratch, tag + ".err")
    rep_path = os.path.join(scratch, tag + ".meter")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, out_path, flags, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, err_path, flags, 0o644)]
    if os.path.exists(rep_path):
        os.unlink(rep_path)
    pid = os.posix_spawn(METER, [METER, rep_path] + list(argv), env, file_actions=actions)
    os.waitpid(pid, 0)
    with open(out_path, errors="replace") as f:
        out = f.read()
    with open(err_path, errors="replace") as f:
        err = f.read()
    try:
        with open(rep_path) as f:
            m = dict(kv.split("=", 1) for kv in f.read().split())
    except OSError:
        raise RuntimeError("meter wrote no report for %s: %s" % (argv[0], last_line(err)))
    user, sys_ = float(m["user"]), float(m["sys"])
    return Run(rc=int(m["status"]), wall=float(m["wall"]), cpu=user + sys_, user=user, sys=sys_,
               rss_kib=int(m["maxrss_kib"]), out=out, err=err, start_real=float(m["start"]))


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    tick = float(os.sysconf("SC_CLK_TCK"))
    total = sum(v[:8])
    idle = v[3] + v[4]
    return (total - idle) / tick, total / tick


def wait_quiet(limit=90.0, threshold=0.3):
    """Waits until the machine is idle (under `threshold` cores busy over one second), at
    most `limit` seconds; True when it was. Other work on a shared machine distorts every
    number, so each round of runs starts on a quiet machine when it can."""
    end = time.monotonic() + limit
    while True:
        b0, t0 = machine_cpu()
        time.sleep(1.0)
        b1, t1 = machine_cpu()
        busy = (b1 - b0) / max(t1 - t0, 1e-9) * os.cpu_count()
        if busy < threshold:
            return True
        if time.monotonic() > end:
            say("the machine is still busy (%.1f cores); going on" % busy)
            return False


def proc_cpu(pid):
    """User + system seconds of a running process, all its threads included."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sink:
    """A tests/bench/sink process on a free loopback port."""

    def __init__(self, exe, scratch, name, extra=(), tls_ca=None):
        self.err = open(os.path.join(scratch, "sink-%s.err" % name), "w")
        self.proc = subprocess.Popen([exe, "0", "--idle-exit", "600"] + list(extra),
                                     stdout=subprocess.PIPE, stderr=self.err, cwd=ROOT)
        self.buf = b""
        self.tls_ca = tls_ca
        line = self.line(10)
        if not line or not line.startswith("port "):
            raise RuntimeError("the sink did not start (see its stderr)")
        self.port = int(line.split()[1])

    def line(self, timeout):
        """The next stdout line, or None after timeout seconds."""
        fd = self.proc.stdout.fileno()
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def stats(self):
        if self.tls_ca:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            conn = http.client.HTTPSConnection("localhost", self.port, context=ctx, timeout=30)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", "/_sink/stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()


# ---- the clients -------------------------------------------------------------------

class Client:
    """One measured setup. op "put" sends to the sink; op "get" reads from it, into out (a
    file checked against the generator after every run, then deleted) or nowhere (None).
    ref is the raw client the ratio is taken to; ref2, for downloads, the raw client that
    throws the bytes away."""

    def __init__(self, name, kind, transport, threads, argv, env, sink, ref=None, ckpt=None,
                 op="put", out=None, ref2=None, checker=None):
        self.name, self.kind, self.transport, self.threads = name, kind, transport, threads
        self.argv, self.env, self.sink, self.ref, self.ckpt = argv, env, sink, ref, ckpt
        self.op, self.out, self.ref2, self.checker = op, out, ref2, checker
        self.runs = []
        self.failure = None
        self.suite = None
        self.verified = 0


def median_run(runs):
    """The run of median wall time (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r.wall)
    return ordered[(len(ordered) - 1) // 2]


def parse_stats(err):
    m = STATS_RE.search(err)
    if not m:
        return None
    keys = ("peak_heap", "workers", "heap_per_worker", "ckpt_bytes", "ckpt_writes")
    return dict(zip(keys, (int(x) for x in m.groups())))


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1] if lines else "(no output)"


def remove_download(path):
    """A downloaded file and what ossup may have left beside it."""
    for p in (path, path + ".ossr-tmp"):
        try:
            os.unlink(p)
        except OSError:
            pass


def check_download(checker, path, size):
    """None when path holds exactly the generated object of size bytes (`sink --check`:
    every byte, and the CRC-64 HeadObject announces), else what is wrong."""
    p = subprocess.run([checker, "--check", path, str(size)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    return None if p.returncode == 0 else last_line(p.stdout)


def run_client(c, size, scratch):
    if c.ckpt:
        shutil.rmtree(c.ckpt, ignore_errors=True)
    if c.out:
        remove_download(c.out)
    counter = "bytes_sent" if c.op == "get" else "bytes"
    sink_cpu0 = c.sink.cpu()
    bytes0 = c.sink.stats()[counter]
    busy0, _ = machine_cpu()
    r = measure(c.argv, c.env, scratch, "client")
    busy1, _ = machine_cpu()
    r.sink_cpu = c.sink.cpu() - sink_cpu0
    r.other_cpu = max(0.0, (busy1 - busy0) - r.cpu - r.sink_cpu)
    st = c.sink.stats()
    r.sink_bytes = st[counter] - bytes0
    r.stats = parse_stats(r.err)
    if c.transport == "tls":
        c.suite = st.get("tls_suite")
    if c.ckpt:
        shutil.rmtree(c.ckpt, ignore_errors=True)
    wrong = None
    if r.rc == 0 and r.sink_bytes >= size and c.out:
        wrong = check_download(c.checker, c.out, size)
    if c.out:
        remove_download(c.out)
    if r.rc != 0:
        c.failure = "exit status %d: %s" % (r.rc, last_line(r.err))
    elif r.sink_bytes < size:
        c.failure = "the sink %s only %d of %d bytes" % (
            "sent" if c.op == "get" else "received", r.sink_bytes, size)
    elif wrong:
        c.failure = "the file downloaded is not the object: " + wrong
    else:
        if c.out:
            c.verified += 1
        c.runs.append(r)
    return r


def summarize(c, size):
    if not c.runs:
        return None
    m = median_run(c.runs)
    cpu = statistics.median(r.cpu for r in c.runs)
    return {
        "wall": m.wall,
        "mbps": size / 1e6 / m.wall,
        "gibps": size / GiB / m.wall,
        "cpu": cpu,
        "cpu_per_gib": cpu / (size / GiB),
        "user_per_gib": statistics.median(r.user for r in c.runs) / (size / GiB),
        "sys_per_gib": statistics.median(r.sys for r in c.runs) / (size / GiB),
        "best_mbps": size / 1e6 / min(r.wall for r in c.runs),
        "other_util": statistics.median(r.other_cpu / r.wall for r in c.runs),
        "client_util": statistics.median(r.cpu / r.wall for r in c.runs),
        "sink_util": statistics.median(r.sink_cpu / r.wall for r in c.runs),
        "rss_kib": statistics.median(r.rss_kib for r in c.runs),
        "stats": m.stats,
        "walls": sorted(r.wall for r in c.runs),
    }


# ---- helpers for the report ----------------------------------------------------------

def memory_cells(mm):
    """A memory row's cells: peak RSS, over bare, the library's peak heap, heap per worker."""
    st = mm["stats"]
    return " | ".join((
        "%.0f KiB" % mm["rss_kib"] if mm["rc"] == 0 else "failed: " + mm["err"].replace("|", "\\|"),
        "%+.0f KiB" % mm["delta_kib"] if mm["rc"] == 0 else "",
        "%.0f KiB" % (st["peak_heap"] / 1024.0) if st else "n/a",
        "%.1f KiB" % (st["heap_per_worker"] / 1024.0) if st else "n/a"))


def first_line(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=30)
        return p.stdout.strip().splitlines()[0] if p.stdout.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "not available"


def machine_info(cc):
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / (1024.0 * 1024.0))
    bearssl = "?"
    if shutil.which("dpkg-query"):
        bearssl = first_line(["dpkg-query", "-W", "-f", "${Version}", "libbearssl-dev"])
    return {"cpu": model, "cores": os.cpu_count(),
            "kernel": "%s %s" % (platform.system(), platform.release()),
            "memory": mem, "cc": first_line([cc, "--version"]), "bearssl": bearssl,
            "python": platform.python_version()}


def git_state():
    head = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    try:
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, universal_newlines=True).stdout.strip()
    except OSError:
        dirty = ""
    return head + (" with uncommitted changes" if dirty else "")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Shown:
    """Turns argv lists into the commands shown in BENCH.md: no machine paths."""

    def __init__(self):
        self.subs = []
        self.words = {}

    def add(self, real, shown):
        self.subs.append((str(real), shown))

    def word(self, real, shown):
        """A whole argument replaced (a port number given on its own)."""
        self.words[str(real)] = shown

    def __call__(self, argv, env_note=""):
        words = []
        for w in argv:
            w = str(w)
            if w in self.words:
                words.append(self.words[w])
                continue
            for real, shown in sorted(self.subs, key=lambda s: -len(s[0])):
                w = w.replace(real, shown)
            if w.startswith(ROOT + os.sep):
                w = os.path.relpath(w, ROOT)
            elif os.path.isabs(w) and shutil.which(os.path.basename(w)) == w:
                w = os.path.basename(w)
            words.append(w)
        return (env_note + " " if env_note else "") + " ".join(words)


def ali_oss_setup():
    """ali-oss in tests/.node/ (installed like tests/ali_oss_check.sh does); its version,
    or None and why not."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node:
        return None, "node is not installed"
    base = os.path.join(ROOT, "tests", ".node")
    pkg = os.path.join(base, "node_modules", "ali-oss", "package.json")
    if not os.path.exists(pkg):
        if not npm:
            return None, "npm is not installed"
        os.makedirs(base, exist_ok=True)
        if not os.path.exists(os.path.join(base, "package.json")):
            with open(os.path.join(base, "package.json"), "w") as f:
                f.write('{"name": "ali-oss-check", "private": true}\n')
        say("installing ali-oss with npm into tests/.node/")
        with open(os.path.join(base, "install.log"), "w") as log:
            try:
                p = subprocess.run([npm, "install", "--prefix", ".node", "--no-audit", "--no-fund",
                                    "--loglevel=error", "ali-oss@6"], cwd=os.path.join(ROOT, "tests"),
                                   stdout=log, stderr=subprocess.STDOUT, timeout=600)
                ok = p.returncode == 0
            except subprocess.TimeoutExpired:
                ok = False
        if not ok or not os.path.exists(pkg):
            return None, "npm install ali-oss failed (see tests/.node/install.log)"
    with open(pkg) as f:
        version = json.load(f)["version"]
    return "ali-oss %s, node %s" % (version, first_line([node, "--version"])), None


# ---- the bench ---------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--out", default="BENCH.md")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build)
    bins = {"ossup": os.path.join(build, "ossup"), "sink": os.path.join(build, "bench", "sink"),
            "raw": os.path.join(build, "bench", "raw"), "bare": os.path.join(build, "bench", "bare"),
            "iocount": os.path.join(build, "bench", "iocount.so"),
            "meter": os.path.join(build, "bench", "meter")}
    for name, path in bins.items():
        if not os.path.exists(path):
            sys.exit("bench: %s is missing; run 'make bench'" % os.path.relpath(path, ROOT))
    global METER
    METER = bins["meter"]

    t_start = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    scratch = tempfile.mkdtemp(prefix="scratch-", dir=os.path.join(build, "bench"))
    sinks = []
    dirs = [scratch]          # deleted at the end, with what bench() adds
    try:
        report = bench(args, bins, scratch, sinks, dirs)
    finally:
        for s in sinks:
            s.stop()
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    report["started"] = started
    report["load_before"] = load_before
    report["load_after"] = loadavg()
    report["elapsed"] = time.monotonic() - t_start
    text = render(report, args)
    out = os.path.join(ROOT, args.out)
    with open(out, "w") as f:
        f.write(text)
    say("wrote %s in %.0f s" % (args.out, report["elapsed"]))
    failed = [t for t in report["targets"] if t[3] == "FAIL"]
    say("%d of %d targets met%s" % (sum(1 for t in report["targets"] if t[3] == "pass"),
                                    len(report["targets"]),
                                    "; failing: " + "; ".join(t[0] for t in failed) if failed else ""))


def fs_type(path):
    """The type of the file system path is on (the longest mount point above it)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mnt = parts[1].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, kind = mnt, parts[2]
    except OSError:
        pass
    return kind


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * KiB
    return 0


def free_bytes(path):
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return 0


def get_dir(scratch, dirs, size):
    """Where the download rows write, and how BENCH.md names it: BENCH_GET_DIR when set;
    else /dev/shm when it is a tmpfs with room for the object (and the memory for it), so
    that the rows measure the clients and not a disk; else the scratch directory."""
    want = os.environ.get("BENCH_GET_DIR")
    if want:
        d = tempfile.mkdtemp(prefix="ossr-bench-get-", dir=want)
        dirs.append(d)
        return d, "`BENCH_GET_DIR` (%s)" % fs_type(d)
    shm = "/dev/shm"
    if (os.path.isdir(shm) and fs_type(shm) == "tmpfs" and free_bytes(shm) >= size + GET_ROOM
            and mem_available() >= size + 2 * GET_ROOM):
        d = tempfile.mkdtemp(prefix="ossr-bench-get-", dir=shm)
        dirs.append(d)
        return d, "/dev/shm (tmpfs: the page cache only, no disk)"
    return scratch, "the scratch directory (%s: /dev/shm had no room)" % fs_type(scratch)


def bench(args, bins, scratch, sinks, dirs):
    rep = {"quick": QUICK, "runs": RUNS}
    shown = Shown()
    info = machine_info(args.cc)
    rep["machine"] = info
    rep["git"] = git_state()
    rep["ossup_version"] = first_line([bins["ossup"], "--version"])
    speeds = []
    for _ in range(3):
        m = re.search(r"crc64 (\d+) MB/s \(engine ([^,]+),", first_line([bins["sink"], "--crc-speed"]))
        if m:
            speeds.append(int(m.group(1)))
            rep["crc_engine"] = m.group(2)
    rep["crc_speed"] = statistics.median(speeds) if speeds else None
    helptext = subprocess.run([bins["ossup"], "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True).stdout
    has_stats = "--stats" in helptext
    rep["has_stats"] = has_stats
    say("%s: --stats %s" % (rep["ossup_version"],
                            "supported" if has_stats else "not supported yet (n/a)"))

    # Files.
    big = os.path.join(scratch, "data.bin")
    mid = os.path.join(scratch, "mid.bin")
    sparse = os.path.join(scratch, "sparse.bin")
    rfile = os.path.join(scratch, "resume.bin")
    say("making a %s data file, a %s file, a %s sparse file and a %d x %d-byte resume file" % (
        fmt_bytes(BIG), fmt_bytes(MID), fmt_bytes(SPARSE), RESUME_PARTS, RESUME_PART))
    make_data_file(big, BIG)
    make_data_file(mid, MID)
    make_data_file(rfile, RESUME_PARTS * RESUME_PART)
    with open(sparse, "wb") as f:
        f.truncate(SPARSE)
    for path, name in ((big, "$FILE"), (mid, "$FILE_100MB"), (sparse, "$FILE_SPARSE"),
                       (rfile, "$FILE_RESUME")):
        shown.add(path, name)
    rep["sizes"] = {"big": BIG, "mid": MID, "sparse": SPARSE}

    # Certificates and sinks.
    certs = os.path.join(scratch, "certs")
    p = subprocess.run(["bash", os.path.join(ROOT, "tests", "make_certs.sh"), certs],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        raise RuntimeError("tests/make_certs.sh failed: " + p.stdout.strip())
    ca = os.path.join(certs, "ca.pem")
    shown.add(certs + os.sep, "$CERTS/")
    shown.add(ca, "$CA")
    plain = Sink(bins["sink"], scratch, "plain")
    sinks.append(plain)
    tls = Sink(bins["sink"], scratch, "tls", ["--tls", os.path.join(certs, "server.pem"),
                                                os.path.join(certs, "server.key")], tls_ca=ca)
    sinks.append(tls)
    shown.add(":%d" % plain.port, ":$PORT")
    shown.add(":%d" % tls.port, ":$TLS_PORT")
    shown.word(plain.port, "$PORT")
    shown.word(tls.port, "$TLS_PORT")
    rep["sink_commands"] = [shown([bins["sink"], "0", "--idle-exit", "600"]),
                            shown([bins["sink"], "0", "--idle-exit", "600", "--tls",
                                   os.path.join(certs, "server.pem"), os.path.join(certs, "server.key")])]

    env = {k: v for k, v in os.environ.items()
           if k not in ("OSS_ENDPOINT", "OSS_REGION", "OSS_SESSION_TOKEN", "LD_PRELOAD")}
    env["OSS_ACCESS_KEY_ID"] = "bench-ak"
    env["OSS_ACCESS_KEY_SECRET"] = "bench-secret"
    env_note = "OSS_ACCESS_KEY_ID=bench-ak OSS_ACCESS_KEY_SECRET=bench-secret"
    stats_flag = ["--stats"] if has_stats else []
    ckpt = os.path.join(scratch, "ckpt")
    shown.add(ckpt, "$CKPT_DIR")

    def ossup_argv(path, key, threads, transport, part="10M", extra=()):
        if transport == "tls":
            ep = ["--endpoint", "https://localhost:%d" % tls.port, "--ca-file", ca]
        else:
            ep = ["--endpoint", "http://127.0.0.1:%d" % plain.port]
        return ([bins["ossup"], "put", path, "oss://bench/" + key] + ep +
                ["--threads", str(threads), "--part-size", part, "--quiet", "--checkpoint-dir", ckpt] +
                list(extra) + stats_flag)

    def ossup_get_argv(size, out, threads, transport, extra=()):
        if transport == "tls":
            ep = ["--endpoint", "https://localhost:%d" % tls.port, "--ca-file", ca]
        else:
            ep = ["--endpoint", "http://127.0.0.1:%d" % plain.port]
        return ([bins["ossup"], "get", "oss://bench/gen/%d" % size, out] + ep +
                ["--threads", str(threads), "--part-size", "10M", "--quiet", "--checkpoint-dir", ckpt] +
                list(extra) + stats_flag)

    def raw_get_argv(size, out, conns, transport):
        if transport == "tls":
            return [bins["raw"], "get", "tls", "localhost", str(tls.port), "/bench/gen/%d" % size, out,
                    str(conns), ca]
        return [bins["raw"], "get", "plain", "127.0.0.1", str(plain.port), "/bench/gen/%d" % size, out,
                str(conns)]

    clients = []

    def add(name, kind, transport, threads, argv, e=None, ref=None, ck=None):
        sink = tls if transport == "tls" else plain
        c = Client(name, kind, transport, threads, argv, e or env, sink, ref, ck)
        clients.append(c)
        return c

    raw1 = add("raw", "raw", "plain", 1, [bins["raw"], "plain", "127.0.0.1", str(plain.port), big, "1"])
    raw4 = add("raw", "raw", "plain", 4, [bins["raw"], "plain", "127.0.0.1", str(plain.port), big, "4"])
    add("ossup", "ossup", "plain", 1, ossup_argv(big, "ossup-1", 1, "plain"), ref=raw1, ck=ckpt)
    add("ossup", "ossup", "plain", 4, ossup_argv(big, "ossup-4", 4, "plain"), ref=raw4, ck=ckpt)
    rawt1 = add("raw", "raw", "tls", 1, [bins["raw"], "tls", "localhost", str(tls.port), big, "1", ca])
    rawt4 = add("raw", "raw", "tls", 4, [bins["raw"], "tls", "localhost", str(tls.port), big, "4", ca])
    add("ossup", "ossup", "tls", 1, ossup_argv(big, "ossup-tls-1", 1, "tls"), ref=rawt1, ck=ckpt)
    add("ossup", "ossup", "tls", 4, ossup_argv(big, "ossup-tls-4", 4, "tls"), ref=rawt4, ck=ckpt)
    skipped = []
    curl = shutil.which("curl")
    if curl:
        add("curl -T", "curl", "plain", 1, [curl, "-sS", "-f", "-o", os.devnull, "-T", big,
                                           "http://127.0.0.1:%d/bench/curl-object" % plain.port], ref=raw1)
        rep["curl"] = " ".join(first_line([curl, "--version"]).split()[:2])
    else:
        skipped.append("curl: skipped: curl is not installed")
    ali_version, why = ali_oss_setup()
    rep["ali_oss"] = ali_version
    if ali_version:
        node = shutil.which("node")
        for n, ref in ((1, raw1), (4, raw4)):
            add("ali-oss", "ali-oss", "plain", n,
                [node, os.path.join(HERE, "ali_oss_bench.js"), str(plain.port), big, "ali-oss-%d" % n,
                 str(PART_SIZE), str(n)], ref=ref)
    else:
        skipped.append("ali-oss: skipped: " + why)
    for s in skipped:
        say(s)
    rep["skipped"] = skipped

    # The download setups: the sink's generated object of BIG bytes, into a file in
    # get_dir (checked against the generator after every run), or nowhere.
    gdir, rep["get_dir"] = get_dir(scratch, dirs, BIG)
    gout = os.path.join(gdir, "get.bin")
    shown.add(gout, "$OUT")
    gclients = []

    def addg(name, kind, transport, threads, argv, out, ref=None, ref2=None, ck=None):
        sink = tls if transport == "tls" else plain
        c = Client(name, kind, transport, threads, argv, env, sink, ref, ck, op="get", out=out, ref2=ref2,
                   checker=bins["sink"])
        gclients.append(c)
        return c

    gnull1 = addg("raw get, discard", "raw-get-null", "plain", 1, raw_get_argv(BIG, "-", 1, "plain"), None)
    gnull4 = addg("raw get, discard", "raw-get-null", "plain", 4, raw_get_argv(BIG, "-", 4, "plain"), None)
    gfile1 = addg("raw get, file", "raw-get", "plain", 1, raw_get_argv(BIG, gout, 1, "plain"), gout,
                  ref2=gnull1)
    gfile4 = addg("raw get, file", "raw-get", "plain", 4, raw_get_argv(BIG, gout, 4, "plain"), gout,
                  ref2=gnull4)
    addg("ossup get", "ossup-get", "plain", 1, ossup_get_argv(BIG, gout, 1, "plain"), gout, gfile1, gnull1, ckpt)
    addg("ossup get", "ossup-get", "plain", 4, ossup_get_argv(BIG, gout, 4, "plain"), gout, gfile4, gnull4, ckpt)
    addg("ossup get, one GET", "ossup-get-one", "plain", 1,
         ossup_get_argv(BIG, gout, 1, "plain", ["--threshold", str(BIG + 1)]), gout, gfile1, gnull1, ckpt)
    if curl:
        addg("curl -o", "curl-get", "plain", 1, [curl, "-sS", "-f", "-o", gout,
                                                  "http://127.0.0.1:%d/bench/gen/%d" % (plain.port, BIG)],
             gout, gfile1, gnull1)
    gtls1 = addg("raw get, file", "raw-get", "tls", 1, raw_get_argv(BIG, gout, 1, "tls"), gout)
    gtls4 = addg("raw get, file", "raw-get", "tls", 4, raw_get_argv(BIG, gout, 4, "tls"), gout)
    addg("ossup get", "ossup-get", "tls", 1, ossup_get_argv(BIG, gout, 1, "tls"), gout, gtls1, None, ckpt)
    addg("ossup get", "ossup-get", "tls", 4, ossup_get_argv(BIG, gout, 4, "tls"), gout, gtls4, None, ckpt)

    def rounds(cl, what):
        """RUNS rounds of every setup in cl, each round after the machine is quiet."""
        say("%s: %d client setups x %d run(s) on %s" % (what, len(cl), RUNS, fmt_bytes(BIG)))
        busy = 0
        for i in range(RUNS):
            if not wait_quiet():
                busy += 1
            for c in cl:
                if c.failure:
                    continue
                r = run_client(c, BIG, scratch)
                if c.failure:
                    say("[%d/%d] %s %s %d: FAILED: %s" % (i + 1, RUNS, c.name, c.transport, c.threads,
                                                          c.failure))
                else:
                    say("[%d/%d] %-8s %-5s x%d: %6.2f s %7.1f MB/s, CPU %5.2f s (%3.0f%%), sink %3.0f%%, "
                        "other %3.0f%%, RSS %5.1f MiB" % (
                            i + 1, RUNS, c.name, c.transport, c.threads, r.wall, BIG / 1e6 / r.wall, r.cpu,
                            100 * r.cpu / r.wall, 100 * r.sink_cpu / r.wall, 100 * r.other_cpu / r.wall,
                            r.rss_kib / 1024.0))
        for c in cl:
            c.summary = summarize(c, BIG)
            c.command = shown(c.argv, env_note if c.kind.startswith("ossup") else "")
        return busy

    # Throughput.
    read_through(big)
    rep["busy_rounds"] = rounds(clients, "throughput")
    rep["clients"] = clients
    rep["get_busy_rounds"] = rounds(gclients, "download throughput")
    rep["get_clients"] = gclients

    # Memory.
    wait_quiet()
    say("memory: a bare C program, then ossup on %s and %s" % (fmt_bytes(MID), fmt_bytes(SPARSE)))
    bare = [measure([bins["bare"]], env, scratch, "bare").rss_kib for _ in range(5)]
    rep["bare_kib"] = statistics.median(bare)
    read_through(mid)
    mem = []
    for path, label, fsize in ((mid, fmt_bytes(MID), MID), (sparse, fmt_bytes(SPARSE) + " sparse", SPARSE)):
        for transport in ("plain", "tls"):
            for threads in (1, 4):
                argv = ossup_argv(path, "mem-%d" % threads, threads, transport)
                shutil.rmtree(ckpt, ignore_errors=True)
                r = measure(argv, env, scratch, "mem")
                shutil.rmtree(ckpt, ignore_errors=True)
                row = {"file": label, "transport": transport, "threads": threads, "rc": r.rc,
                       "rss_kib": r.rss_kib, "delta_kib": r.rss_kib - rep["bare_kib"],
                       "stats": parse_stats(r.err),
                       "wall": r.wall, "err": last_line(r.err), "size": fsize,
                       "command": shown(argv, env_note)}
                mem.append(row)
                say("  %s %s x%d: RSS %.0f KiB (%+.0f KiB over bare)%s" % (
                    label, transport, threads, r.rss_kib, row["delta_kib"],
                    "" if r.rc == 0 else " FAILED: " + row["err"]))
    rep["memory"] = mem
    rep["get_mem_fs"] = fs_type(scratch)
    rep["get_memory"], rep["get_memory_skipped"] = get_memory(bins, scratch, env, env_note, shown, ckpt,
                                                              rep["bare_kib"], ossup_get_argv)

    # Resume cost.
    rep["resume"] = resume_cost(bins, scratch, sinks, env, env_note, rfile, shown, stats_flag)

    # Code size.
    say("code size")
    rep["size_rows"] = sizemod.measure(args.build, args.cc)
    rep["targets"] = targets(rep)
    return rep


def get_memory(bins, scratch, env, env_note, shown, ckpt, bare_kib, ossup_get_argv):
    """ossup get's peak RSS on a MID-byte and a GET_BIG-byte generated object, 1 and 4
    connections, written to the scratch directory (each file checked, then deleted); the
    GET_BIG rows are skipped when its file system lacks the room. Returns (rows, skipped)."""
    out = os.path.join(scratch, "get-mem.bin")
    shown.add(out, "$OUT")
    rows, skipped = [], []
    say("memory: ossup get of %s and %s objects" % (fmt_bytes(MID), fmt_bytes(GET_BIG)))
    for size in (MID, GET_BIG):
        free = free_bytes(scratch)
        if free < size + GET_ROOM:
            skipped.append("ossup get of %s: skipped: the scratch directory's file system has %.1f GiB free, "
                           "the download needs %.1f GiB (with %s to spare)" % (
                               fmt_bytes(size), free / GiB, (size + GET_ROOM) / GiB, fmt_bytes(GET_ROOM)))
            say(skipped[-1])
            continue
        for threads in (1, 4):
            argv = ossup_get_argv(size, out, threads, "plain")
            shutil.rmtree(ckpt, ignore_errors=True)
            remove_download(out)
            r = measure(argv, env, scratch, "getmem")
            shutil.rmtree(ckpt, ignore_errors=True)
            wrong = check_download(bins["sink"], out, size) if r.rc == 0 else None
            remove_download(out)
            row = {"file": fmt_bytes(size), "size": size, "transport": "plain", "threads": threads,
                   "rc": r.rc if not wrong else 1, "rss_kib": r.rss_kib, "delta_kib": r.rss_kib - bare_kib,
                   "stats": parse_stats(r.err), "wall": r.wall,
                   "err": ("the file downloaded is not the object: " + wrong) if wrong else last_line(r.err),
                   "command": shown(argv, env_note)}
            rows.append(row)
            say("  get %s x%d: RSS %.0f KiB (%+.0f KiB over bare), %.1f s%s" % (
                row["file"], threads, r.rss_kib, row["delta_kib"], r.wall,
                "" if row["rc"] == 0 else " FAILED: " + row["err"]))
    return rows, skipped


def resume_cost(bins, scratch, sinks, env, env_note, rfile, shown, stats_flag):
    """Resume of a RESUME_PARTS-part upload with all parts but the last done: the time from
    the second process's start to the sink seeing its first UploadPart; and the checkpoint's
    write cost per finished part, from runs stopped after 1, 99 and RESUME_PARTS - 1 parts."""
    ckpt = os.path.join(scratch, "ckpt-resume")
    shown.add(ckpt, "$CKPT_DIR")
    io_out = os.path.join(scratch, "iocount.txt")
    res = {"parts": RESUME_PARTS, "part_size": RESUME_PART, "latencies": [], "samples": [], "errors": []}

    def io_env():
        e = dict(env)
        e["LD_PRELOAD"] = bins["iocount"]
        e["IOCOUNT_OUT"] = io_out
        if os.path.exists(io_out):
            os.unlink(io_out)
        return e

    def io_read():
        with open(io_out) as f:
            m = re.search(r"writes=(\d+) bytes=(\d+) fsyncs=(\d+)", f.read())
        return {"writes": int(m.group(1)), "bytes": int(m.group(2)), "fsyncs": int(m.group(3))}

    def argv_for(port):
        return [bins["ossup"], "put", rfile, "oss://bench/resume", "--endpoint", "http://127.0.0.1:%d" % port,
                "--threads", "1", "--part-size", "100K", "--quiet", "--checkpoint-dir", ckpt] + stats_flag

    # The checkpoint's cost per part: uploads stopped after 1 and 99 parts.
    for fail in (2, 100):
        sink = Sink(bins["sink"], scratch, "resume-%d" % fail, ["--fail-part", str(fail)])
        sinks.append(sink)
        shutil.rmtree(ckpt, ignore_errors=True)
        r = measure(argv_for(sink.port), io_env(), scratch, "resume")
        if r.rc == 0:
            res["errors"].append("the run stopped at part %d exited 0" % fail)
        else:
            res["samples"].append(dict(parts=fail - 1, ckpt_file=ckpt_size(ckpt),
                                       stats=parse_stats(r.err), **io_read()))
        sink.stop()
        sinks.remove(sink)

    say("resume: %d x %d parts of %d bytes" % (RESUME_REPEATS, RESUME_PARTS, RESUME_PART))
    for i in range(RESUME_REPEATS):
        wait_quiet(30)
        sink = Sink(bins["sink"], scratch, "resume", ["--fail-part", str(RESUME_PARTS)])
        sinks.append(sink)
        shown.add(":%d" % sink.port, ":$PORT")
        shutil.rmtree(ckpt, ignore_errors=True)
        argv = argv_for(sink.port)
        first = measure(argv, io_env(), scratch, "resume")
        if first.rc == 0:
            res["errors"].append("run 1 exited 0 although part %d was refused" % RESUME_PARTS)
            break
        if i == 0:
            res["samples"].append(dict(parts=RESUME_PARTS - 1, ckpt_file=ckpt_size(ckpt),
                                       stats=parse_stats(first.err), **io_read()))
            res["run1_wall"] = first.wall
            res["run1_err"] = last_line(first.err)
            res["command"] = shown(argv, env_note)
            res["sink_command"] = shown([bins["sink"], "0", "--fail-part", str(RESUME_PARTS)])
        second = measure(argv, io_env(), scratch, "resume")
        line = sink.line(10)
        if second.rc != 0 or not line or not line.startswith("first_part_after_fail "):
            res["errors"].append("run 2: exit status %d, sink said %r: %s" % (
                second.rc, line, last_line(second.err)))
            break
        lat = float(line.split()[1]) - second.start_real
        res["latencies"].append(lat)
        res.setdefault("run2_walls", []).append(second.wall)
        if i == 0:
            res["run2_io"] = io_read()
            res["run2_stats"] = parse_stats(second.err)
            res["run2_rss_kib"] = second.rss_kib
        say("  resume %d: first new part %.1f ms after the start; run 1 %.2f s, run 2 %.2f s" % (
            i + 1, lat * 1000, first.wall, second.wall))
        sink.stop()
        sinks.remove(sink)
    shutil.rmtree(ckpt, ignore_errors=True)
    s = res["samples"]
    if len(s) == 3:
        a, b, c = s
        res["slope_small"] = (b["bytes"] - a["bytes"]) / (b["parts"] - a["parts"])
        res["slope_large"] = (c["bytes"] - b["bytes"]) / (c["parts"] - b["parts"])
        res["writes_per_part"] = (c["writes"] - a["writes"]) / (c["parts"] - a["parts"])
        res["fsyncs_per_part"] = (c["fsyncs"] - a["fsyncs"]) / (c["parts"] - a["parts"])
        res["fixed"] = a["bytes"] - res["slope_small"] * a["parts"]
    return res


def ckpt_size(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


# ---- targets -----------------------------------------------------------------------

def find(rep, kind, transport, threads, key="clients"):
    for c in rep.get(key, []):
        if c.kind == kind and c.transport == transport and c.threads == threads:
            return c
    return None


GET_FLAT_KIB = 256     # ossup get's peak RSS on GET_BIG bytes may exceed MID's by this much


def targets(rep):
    """(target, measured, how, verdict) rows; verdict is pass, FAIL or n/a."""
    rows = []

    def tput(kind, transport, threads, key="clients"):
        c = find(rep, kind, transport, threads, key)
        return c.summary if c and c.summary else None

    def ratio_row(label, a, b, limit, what):
        if not a or not b:
            rows.append((label, "n/a", what, "n/a"))
            return
        x = a["mbps"] / b["mbps"]
        rows.append((label, "%.2f x (%.0f / %.0f MB/s)" % (x, a["mbps"], b["mbps"]), what,
                     "pass" if x >= limit else "FAIL"))

    ratio_row("ossup 1 thread >= 0.85 x raw 1 connection (plain)", tput("ossup", "plain", 1),
              tput("raw", "plain", 1), 0.85, "throughput ratio")
    ratio_row("ossup 4 threads >= 0.9 x raw 4 connections (plain)", tput("ossup", "plain", 4),
              tput("raw", "plain", 4), 0.9, "throughput ratio")
    ratio_row("ossup TLS 1 thread >= 0.85 x raw BearSSL AES-GCM 1 connection", tput("ossup", "tls", 1),
              tput("raw", "tls", 1), 0.85, "throughput ratio")
    ratio_row("ossup 1 thread >= 3 x ali-oss parallel 1", tput("ossup", "plain", 1),
              tput("ali-oss", "plain", 1), 3.0, "throughput ratio")
    ratio_row("ossup 4 threads >= 3 x ali-oss parallel 4", tput("ossup", "plain", 4),
              tput("ali-oss", "plain", 4), 3.0, "throughput ratio")
    for transport, threads, label in (("plain", 1, "1 thread plain"), ("plain", 4, "4 threads plain"),
                                      ("tls", 1, "1 thread TLS"), ("tls", 4, "4 threads TLS")):
        a, b = tput("ossup", transport, threads), tput("raw", transport, threads)
        name = "ossup CPU per GiB <= 1.25 x raw's (%s)" % label
        if not a or not b:
            rows.append((name, "n/a", "", "n/a"))
            continue
        x = a["cpu_per_gib"] / b["cpu_per_gib"]
        rows.append((name, "%.2f x (%.2f / %.2f CPU s per GiB)" % (x, a["cpu_per_gib"], b["cpu_per_gib"]),
                     "client user+sys", "pass" if x <= 1.25 else "FAIL"))
    for m in rep["memory"]:
        name = "ossup peak RSS <= bare C + 2 MiB (%s, %s, %d thread%s)" % (
            m["file"], m["transport"], m["threads"], "" if m["threads"] == 1 else "s")
        if m["rc"] != 0:
            rows.append((name, "upload failed: " + m["err"], "", "FAIL"))
            continue
        rows.append((name, "%+.0f KiB (%.0f - %.0f KiB)" % (m["delta_kib"], m["rss_kib"], rep["bare_kib"]),
                     "ru_maxrss", "pass" if m["delta_kib"] <= 2048 else "FAIL"))
    ratio_row("ossup get 1 connection >= 0.9 x raw get to a file, 1 connection (plain)",
              tput("ossup-get", "plain", 1, "get_clients"), tput("raw-get", "plain", 1, "get_clients"), 0.9,
              "throughput ratio")
    ratio_row("ossup get 4 connections >= 0.9 x raw get to a file, 4 connections (plain)",
              tput("ossup-get", "plain", 4, "get_clients"), tput("raw-get", "plain", 4, "get_clients"), 0.9,
              "throughput ratio")
    gm = rep.get("get_memory", [])
    for m in gm:
        name = "ossup get peak RSS <= bare C + 2 MiB (%s, %d connection%s)" % (
            m["file"], m["threads"], "" if m["threads"] == 1 else "s")
        if m["rc"] != 0:
            rows.append((name, "download failed: " + m["err"], "", "FAIL"))
            continue
        rows.append((name, "%+.0f KiB (%.0f - %.0f KiB)" % (m["delta_kib"], m["rss_kib"], rep["bare_kib"]),
                     "ru_maxrss", "pass" if m["delta_kib"] <= 2048 else "FAIL"))
    for threads in (1, 4):
        name = "ossup get peak RSS flat from %s to %s (%d connection%s): at most +%d KiB" % (
            fmt_bytes(MID), fmt_bytes(GET_BIG), threads, "" if threads == 1 else "s", GET_FLAT_KIB)
        small = [m for m in gm if m["size"] == MID and m["threads"] == threads and m["rc"] == 0]
        large = [m for m in gm if m["size"] == GET_BIG and m["threads"] == threads and m["rc"] == 0]
        if not small or not large:
            why = "; ".join(rep.get("get_memory_skipped", [])) or "a download failed"
            rows.append((name, "not measured: " + why, "", "n/a"))
            continue
        d = large[0]["rss_kib"] - small[0]["rss_kib"]
        rows.append((name, "%+.0f KiB (%.0f KiB on %s, %.0f KiB on %s)" % (
            d, large[0]["rss_kib"], large[0]["file"], small[0]["rss_kib"], small[0]["file"]),
            "ru_maxrss", "pass" if d <= GET_FLAT_KIB else "FAIL"))
    heap = [m for m in rep["memory"] if m["transport"] == "tls" and m["stats"]]
    if heap:
        worst = max(m["stats"]["heap_per_worker"] for m in heap)
        rows.append(("library heap per worker <= 64 KiB with TLS", "%.1f KiB (largest of %d TLS runs)" % (
            worst / 1024.0, len(heap)), "ossup --stats", "pass" if worst <= 64 * KiB else "FAIL"))
    else:
        rows.append(("library heap per worker <= 64 KiB with TLS", "n/a", "needs ossup --stats", "n/a"))
    r = rep["resume"]
    name = "resume of a %s-part upload to its first new byte <= 1 s" % format(r["parts"], ",")
    if r["latencies"]:
        worst = max(r["latencies"])
        rows.append((name, "%.0f ms (worst of %d)" % (worst * 1000, len(r["latencies"])),
                     "process start to the sink seeing the first new UploadPart",
                     "pass" if worst <= 1.0 else "FAIL"))
    else:
        rows.append((name, "not measured: " + "; ".join(r["errors"]), "", "FAIL"))
    if "slope_large" in r:
        const = abs(r["slope_large"] - r["slope_small"]) <= max(1.0, 0.02 * r["slope_small"])
        rows.append(("checkpoint cost per finished part is O(1)",
                     "%.1f bytes and %.2f writes per part (1 to 99 parts: %.1f bytes/part; "
                     "99 to %s: %.1f)" % (r["slope_large"], r["writes_per_part"], r["slope_small"],
                                          format(r["parts"] - 1, ","), r["slope_large"]),
                     "bytes written to the checkpoint, by tests/bench/iocount.so",
                     "pass" if const and r["slope_large"] <= 256 else "FAIL"))
    else:
        rows.append(("checkpoint cost per finished part is O(1)", "n/a", "", "n/a"))
    for s in rep["size_rows"]:
        if s.get("target"):
            name = "%s .text <= %d KiB" % (s["label"], s["target"] // 1024)
            if "skipped" in s:
                rows.append((name, "skipped: " + s["skipped"], "`make size`", "n/a"))
            else:
                rows.append((name, "%.1f KiB (%d bytes)" % (s["text"] / 1024.0, s["text"]), "`make size`",
                             "pass" if s["text"] <= s["target"] else "FAIL"))
    return rows


# ---- BENCH.md ----------------------------------------------------------------------

def render_get(rep, add):
    """The download throughput section."""
    cl = rep.get("get_clients", [])
    if not cl:
        return
    size = rep["sizes"]["big"]
    add("## Download throughput")
    add("")
    add("`ossup get` of the sink's generated object `gen/%d` (%s), median of %d run%s per row (runs "
        "interleaved across rows). The files go to %s and are deleted after each run; every one was "
        "compared with the generator byte for byte (`build/bench/sink --check`), and a run whose file "
        "differs fails its row. ossup: part size 10 MiB and the default threshold (10 MiB), so 1 and 4 "
        "connections fetch ranges (with If-Match and `x-oss-range-behavior: standard`) into "
        "`FILE.ossr-tmp`, record each in the checkpoint, fold the CRC-64s, fdatasync and rename; \"one "
        "GET\" raises the threshold above the size. The raw client (`tests/bench/raw get`) sends one GET "
        "(1 connection) or a HEAD and one range per connection, reads into a 256 KiB buffer and either "
        "throws the bytes away (the transport's limit) or pwrites each full buffer at its place and "
        "fdatasyncs once at the end: the same work on the file as ossup, so that is the ratio's "
        "reference. curl writes its file without a sync." % (
            size, fmt_bytes(size), rep["runs"], "" if rep["runs"] == 1 else "s", rep.get("get_dir", "?")))
    add("")
    add("| client | transport | connections | time (s) | MB/s | GiB/s | best MB/s | ratio to raw, file "
        "| ratio to raw, discard | CPU s/GiB (user + sys) | client CPU | sink CPU | other CPU | peak RSS "
        "| lib peak heap | files checked |")
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in cl:
        s = c.summary
        if not s:
            add("| %s | %s | %d | failed: %s | | | | | | | | | | | | |" % (
                c.name, c.transport, c.threads, (c.failure or "").replace("|", "\\|")))
            continue

        def ratio(ref, own_kind):
            if ref and ref.summary:
                return "%.2f" % (s["mbps"] / ref.summary["mbps"])
            return "1.00" if c.kind == own_kind else "n/a"
        heap = ""
        if c.kind.startswith("ossup"):
            heap = "%.0f KiB" % (s["stats"]["peak_heap"] / 1024.0) if s["stats"] else "n/a"
        add("| %s | %s | %d | %.2f | %.0f | %.2f | %.0f | %s | %s | %.2f (%.2f + %.2f) | %.0f%% | %.0f%% | %.0f%% "
            "| %.1f MiB | %s | %s |" % (
                c.name, c.transport, c.threads, s["wall"], s["mbps"], s["gibps"], s["best_mbps"],
                ratio(c.ref, "raw-get"), ratio(c.ref2, "raw-get-null"),
                s["cpu_per_gib"], s["user_per_gib"], s["sys_per_gib"], 100 * s["client_util"],
                100 * s["sink_util"], 100 * s["other_util"], s["rss_kib"] / 1024.0, heap,
                "%d of %d" % (c.verified, len(c.runs)) if c.out else "(none written)"))
    add("")
    if rep.get("get_busy_rounds"):
        add("%d of %d rounds started on a busy machine." % (rep["get_busy_rounds"], rep["runs"]))
        add("")
    suites = sorted({"%s: %s" % (c.name + (" x%d" % c.threads), SUITES.get(int(c.suite, 16), c.suite))
                     for c in cl if c.transport == "tls" and c.suite})
    if suites:
        add("TLS cipher suite negotiated with the sink: " + "; ".join(suites) + ".")
        add("")


def render(rep, args):
    m = rep["machine"]
    L = []
    add = L.append
    add("# Benchmarks")
    add("")
    add(("Written by `make bench` (`tests/bench/bench.py`); do not edit by hand. %s" % (
        "**This is a BENCH_QUICK smoke run: small files, one run each; the numbers are not the "
        "real ones.**" if rep["quick"] else "")).rstrip())
    add("")
    add("What is measured: `ossup` (the command-line tool of `oss_resumable.h`) uploading a file "
        "over loopback to `tests/bench/sink`, a minimal OSS stand-in in C (no signature check, data "
        "thrown away after its CRC-64, part sizes and CRCs kept so ListParts and Complete are real). "
        "The same sink serves a raw reference client (`tests/bench/raw`: `pread` + `send` with no "
        "hashing; over TLS, BearSSL limited to ECDHE-AES128-GCM-SHA256), curl and the official Node SDK "
        "ali-oss. Downloads: `ossup get` of an object the sink generates as it sends it (`gen/SIZE`: "
        "bytes that are a function of their offset, with the object's CRC-64 in HeadObject), against the "
        "raw client reading (the bytes thrown away, or written to a file) and curl; every file downloaded "
        "is compared with the generator byte for byte. The client and the sink share the machine's %d "
        "cores, so the sink's CPU use (shown) is part of every number." % m["cores"])
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add("| CPU | %s |" % m["cpu"])
    add("| cores | %d |" % m["cores"])
    add("| memory | %s |" % m["memory"])
    add("| kernel | %s |" % m["kernel"])
    add("| compiler | %s |" % m["cc"])
    add("| BearSSL | %s (Debian libbearssl-dev) |" % m["bearssl"])
    add("| curl | %s |" % rep.get("curl", "not installed"))
    add("| ali-oss | %s |" % (rep["ali_oss"] or "not available"))
    add("| Python | %s |" % m["python"])
    if rep.get("crc_speed"):
        add("| `ossr_crc64()` | %s MB/s on one core, engine %s (`build/bench/sink --crc-speed`, "
            "median of 3) |" % (format(int(rep["crc_speed"]), ","), rep.get("crc_engine", "?")))
    add("| ossup | %s, commit %s |" % (rep["ossup_version"], rep["git"]))
    add("| date | %s |" % rep["started"].strftime("%Y-%m-%d %H:%M UTC"))
    add("| load average | %s before, %s after |" % (rep["load_before"], rep["load_after"]))
    add("| run time | %.0f s |" % rep["elapsed"])
    add("")

    size = rep["sizes"]["big"]
    add("## Throughput")
    add("")
    add("%s of incompressible data, read from the page cache; median of %d run%s per row (runs "
        "interleaved across rows). MB/s is 10^6 bytes per second. Ratio: to the raw client with the "
        "same transport and connection count. CPU: the client process's user + system time. "
        "Peak RSS: the client's `ru_maxrss`. Part size 10 MiB for ossup and ali-oss." % (
            fmt_bytes(size), rep["runs"], "" if rep["runs"] == 1 else "s"))
    add("")
    add("| client | transport | threads | time (s) | MB/s | GiB/s | best MB/s | ratio to raw "
        "| CPU s/GiB (user + sys) | client CPU | sink CPU | other CPU | peak RSS | lib peak heap |")
    add("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in rep["clients"]:
        s = c.summary
        if not s:
            add("| %s | %s | %d | failed: %s | | | | | | | | | | |" % (c.name, c.transport, c.threads,
                                                                 (c.failure or "").replace("|", "\\|")))
            continue
        if c.ref and c.ref.summary:
            ratio = "%.2f" % (s["mbps"] / c.ref.summary["mbps"])
        else:
            ratio = "1.00" if c.kind == "raw" else "n/a"
        heap = ""
        if c.kind == "ossup":
            heap = "%.0f KiB" % (s["stats"]["peak_heap"] / 1024.0) if s["stats"] else "n/a"
        add("| %s | %s | %d | %.2f | %.0f | %.2f | %.0f | %s | %.2f (%.2f + %.2f) | %.0f%% | %.0f%% | %.0f%% "
            "| %.1f MiB | %s |" % (
                c.name, c.transport, c.threads, s["wall"], s["mbps"], s["gibps"], s["best_mbps"], ratio,
                s["cpu_per_gib"], s["user_per_gib"], s["sys_per_gib"], 100 * s["client_util"],
                100 * s["sink_util"], 100 * s["other_util"], s["rss_kib"] / 1024.0, heap))
    add("")
    add("Client, sink and other CPU are CPU time over wall time (100%% = one core busy for the whole "
        "run); \"other\" is the rest of the machine's busy time during the run (other processes, and "
        "interrupt work not charged to a process). Before each round of runs the bench waited for the "
        "machine to be idle (at most 90 s)%s." % (
            "; %d of %d rounds started on a busy machine anyway" % (rep["busy_rounds"], rep["runs"])
            if rep.get("busy_rounds") else ""))
    suites = sorted({"%s: %s" % (c.name + (" x%d" % c.threads), SUITES.get(int(c.suite, 16), c.suite))
                     for c in rep["clients"] if c.transport == "tls" and c.suite})
    if suites:
        add("TLS cipher suite negotiated with the sink: " + "; ".join(suites) + ".")
    for s in rep["skipped"]:
        add("")
        add("- " + s)
    add("")

    render_get(rep, add)

    add("## Targets")
    add("")
    add("| target | measured | how | result |")
    add("|---|---|---|---|")
    for t in rep["targets"]:
        add("| %s | %s | %s | %s |" % tuple(x.replace("|", "\\|") for x in t))
    add("")
    n_pass = sum(1 for t in rep["targets"] if t[3] == "pass")
    n_fail = sum(1 for t in rep["targets"] if t[3] == "FAIL")
    add("%d passed, %d failed, %d not measured." % (n_pass, n_fail, len(rep["targets"]) - n_pass - n_fail))
    add("")

    add("## Memory")
    add("")
    add("Peak RSS (`ru_maxrss`) of one ossup upload against that of `tests/bench/bare` "
        "(`int main(void){return 0;}` linked like ossup, with -lbearssl -lpthread): %.0f KiB "
        "(median of 5). \"lib heap\" is the library's own peak heap from `ossup --stats`." % rep["bare_kib"])
    add("")
    add("| file | transport | threads | peak RSS | over bare | lib peak heap | heap per worker |")
    add("|---|---|---:|---:|---:|---:|---:|")
    for mm in rep["memory"]:
        add("| %s | %s | %d | %s |" % (mm["file"], mm["transport"], mm["threads"], memory_cells(mm)))
    add("")

    r = rep["resume"]
    gm = rep.get("get_memory", [])
    if gm or rep.get("get_memory_skipped"):
        add("Downloads: peak RSS of one `ossup get` of a generated object (plain, part size 10 MiB, so "
            "ranges; the file written to the scratch directory under `build/bench/`, %s, and checked against "
            "the generator): it must not grow with the object." % rep.get("get_mem_fs", "?"))
        add("")
        add("| object | transport | connections | peak RSS | over bare | lib peak heap | heap per worker | time |")
        add("|---|---|---:|---:|---:|---:|---:|---:|")
        for mm in gm:
            add("| %s | %s | %d | %s | %.1f s |" % (mm["file"], mm["transport"], mm["threads"], memory_cells(mm),
                                                 mm["wall"]))
        add("")
        for sk in rep.get("get_memory_skipped", []):
            add("- " + sk)
            add("")

    add("## Resume cost")
    add("")
    add("A file of exactly %s x %s bytes, `--part-size 100K`, 1 thread. Run 1 goes to a sink started "
        "with `--fail-part %d`, which refuses that part with 403 AccessDenied: ossup stops with an "
        "error, leaving a checkpoint with %s finished parts (and the sink holding their sizes and "
        "CRC-64s). Run 2 is the same command: it reads the checkpoint, lists the parts (ListParts, "
        "every page; ossup sizes a page to its buffer, up to 1,000 parts) and sends the last part. Measured: the time "
        "from run 2's process start to the arrival of its first UploadPart request at the sink "
        "(the sink's CLOCK_REALTIME timestamp of that request's first bytes, against the one "
        "`tests/bench/meter` takes just before it starts ossup)." % (
            format(r["parts"], ","), format(r["part_size"], ","), r["parts"], format(r["parts"] - 1, ",")))
    add("")
    if r["latencies"]:
        add("| | |")
        add("|---|---|")
        add("| start to first new part | %s ms (median %.1f ms) |" % (
            ", ".join("%.1f" % (x * 1000) for x in r["latencies"]), 1000 * statistics.median(r["latencies"])))
        add("| run 1 (%s parts sent, then refused) | %.2f s |" % (
            format(r["parts"] - 1, ","), r.get("run1_wall", 0)))
        add("| run 2 (resume to completion) | %s s |" % (
            ", ".join("%.2f" % x for x in r.get("run2_walls", []))))
        if r.get("run2_io"):
            io = r["run2_io"]
            add("| run 2 checkpoint writes | %d writes, %d bytes, %d fsyncs |" % (
                io["writes"], io["bytes"], io["fsyncs"]))
        if r.get("run2_rss_kib"):
            add("| run 2 peak RSS | %d KiB |" % r["run2_rss_kib"])
        add("")
    for e in r["errors"]:
        add("- problem: " + e)
    if r["samples"]:
        add("Checkpoint cost, from uploads stopped after 1, 99 and %s finished parts. Writes and bytes "
            "are what ossup wrote to regular files (the checkpoint; the data file is only read), counted "
            "by `tests/bench/iocount.so` (LD_PRELOAD):" % format(r["parts"] - 1, ","))
        add("")
        add("| finished parts | checkpoint file | writes | bytes written | fsyncs "
            "| --stats ckpt_bytes / ckpt_writes |")
        add("|---:|---:|---:|---:|---:|---|")
        for s in r["samples"]:
            st = s["stats"]
            add("| %s | %s | %s | %s | %s | %s |" % (
                format(s["parts"], ","), format(s["ckpt_file"], ","), format(s["writes"], ","),
                format(s["bytes"], ","), format(s["fsyncs"], ","),
                "%s / %s" % (format(st["ckpt_bytes"], ","), format(st["ckpt_writes"], ",")) if st else "n/a"))
        add("")
        if "slope_large" in r:
            add("Per finished part: %.1f bytes (%.1f between 1 and 99 parts), %.2f writes and %.2f fsyncs; "
                "fixed part %.0f bytes." % (r["slope_large"], r["slope_small"], r["writes_per_part"],
                                             r["fsyncs_per_part"], r["fixed"]))
            add("")

    add("## Code size (`make size`)")
    add("")
    add(sizemod.markdown(rep["size_rows"]).rstrip())
    add("")

    add("## Reproduce")
    add("")
    add("    make bench                   # everything above, about %s; writes BENCH.md" % (
        "20 minutes at most" if not rep["quick"] else "20 minutes at most (quick: about a minute)"))
    add("    BENCH_QUICK=1 make bench     # smoke run: small files, one run each")
    add("    BENCH_RUNS=9 make bench      # more runs per row")
    add("    BENCH_GET_DIR=DIR make bench # the download rows write to DIR (default /dev/shm)")
    add("    make size                    # code size only")
    add("")
    add("`make bench` installs what is missing through apt-get (compiler, BearSSL, openssl, curl, "
        "node and npm) and ali-oss with npm into `tests/.node/`; without node or npm the ali-oss rows "
        "are skipped, without curl the curl row. It builds with the Makefile's flags (-O2): "
        "`build/ossup`, `build/bench/sink`, `build/bench/raw`, `build/bench/bare`, "
        "`build/bench/iocount.so`, `build/bench/meter` (which runs every measured command). Scratch "
        "files go to a directory under `build/bench/` that is deleted at the end (the download rows' "
        "files to a directory under /dev/shm, deleted too, when it has room). The commands, with "
        "$FILE the data file, $PORT/$TLS_PORT the sinks' ports, $CERTS the throw-away certificates "
        "from `tests/make_certs.sh` ($CA their CA), $CKPT_DIR a checkpoint directory emptied before "
        "every run, $OUT the file a download writes (deleted after every run):")
    add("")
    for cmd in rep["sink_commands"]:
        add("    " + cmd)
    seen = set()
    for c in rep["clients"]:
        if c.command not in seen:
            seen.add(c.command)
            add("    " + c.command)
    for mm in rep["memory"][:1]:
        add("    " + mm["command"] + "     # memory rows: also $FILE_SPARSE, --threads 4, https")
    for c in rep.get("get_clients", []):
        if getattr(c, "command", None) and c.command not in seen:
            seen.add(c.command)
            add("    " + c.command)
    add("    build/bench/sink --check $OUT %d     # after every download: the file against the generator"
        % rep["sizes"]["big"])
    for mm in rep.get("get_memory", [])[:1]:
        add("    " + mm["command"] + "     # memory rows: also %s bytes, --threads 4" % format(GET_BIG, ","))
    add("    build/bench/bare")
    if r.get("command"):
        add("    " + r["sink_command"])
        add("    " + r["command"] + "     # twice")
    add("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
