#!/usr/bin/env python3
"""Crash test: ossup is killed (SIGKILL) at random moments of a multipart upload and run
again, until an uncut run completes the upload; after every rerun the server's log says
what was sent.

    python3 tests/test_crash.py build/gcc/ossup [--runs N] [--seconds S] [--kills K] [--seed X]

A round uploads a file of 24 MiB in 256 KiB parts (96 parts) with 4 threads to the test
server (tests/oss_server.py), which stalls every UploadPart a little so that a run lasts
a few seconds. A first, uncut upload measures how long that takes; the kill delays are
drawn from it so that a round sees about K kills (default 5). Checked after every run:

- while a checkpoint exists, no run starts a new upload (no InitiateMultipartUpload);
- no run sends a part the server already held when the run started;
- a killed run leaves at most 4 (the thread count) parts in flight, that is started but
  not stored, and the next run sends again at most 4 of the parts the killed run had
  started (bytes re-sent per crash <= threads x part size);
- the run that completes sends exactly the parts the server lacked, the object's MD5
  equals the file's, no upload of the key stays open and no checkpoint is left.

A kill that lands between Initiate and the checkpoint's creation leaves an upload whose
id no checkpoint holds; that is reported as a note, and such an upload is the only kind
allowed to stay open.

--runs N: rounds (default 2); --seconds S: keep starting rounds until S seconds have
passed (at least N rounds). Prints one line per round; the last line is
"crash: N passed, M failed" (N, M: rounds); the exit status is non-zero when a round
failed. OSSR_CRASH_KEEP=1 keeps the work directory.
"""
import argparse
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import AK, KIB, SK, Server, check, clean_environ, make_file, md5_file, ops, report, stop_process  # noqa: E402
from oss_server import crc64  # noqa: E402

BUCKET = "bkt-crash"
THREADS = 4
PART = 256 * KIB
SIZE = 24 * 1024 * KIB - 12345          # 96 parts, the last one short
NPARTS = -(-SIZE // PART)
STALL = 0.04                            # seconds per UploadPart on the server




def checkpoint_upload_id(ckpt_dir):
    """The upload id in the only checkpoint of ckpt_dir (the record's layout is in
    oss_resumable.h, >>checkpoint), None without one; an unreadable one fails the test."""
    files = [f for f in os.listdir(ckpt_dir) if f.endswith(".ossr")] if os.path.isdir(ckpt_dir) else []
    if not files:
        return None
    check(len(files) == 1, f"more than one checkpoint: {files}")
    with open(os.path.join(ckpt_dir, files[0]), "rb") as f:
        data = f.read()
    check(data[:8] == b"OSSRCKPT", "checkpoint without its magic")
    fixed = struct.unpack_from("<I", data, 12)[0]
    check(68 < fixed <= len(data), "checkpoint shorter than its fixed part")
    stored_crc = struct.unpack_from("<Q", data, fixed - 8)[0]
    check(crc64(data[:fixed - 8]) == stored_crc, "checkpoint's fixed part fails its CRC-64")
    pos, strings = 68, []
    for _ in range(5):
        n = struct.unpack_from("<H", data, pos)[0]
        strings.append(data[pos + 2:pos + 2 + n].decode())
        pos += 2 + n
    return strings[4]


class Crasher:
    def __init__(self, ossup, workdir, rnd):
        self.ossup, self.workdir, self.rnd = ossup, workdir, rnd
        self.server = None
        self.notes = []

    def start_server(self, sub):
        self.server = Server(os.path.join(self.workdir, sub), cname=None, quiet=True)
        self.ckpt = os.path.join(self.workdir, sub, "ckpt")

    def stop_server(self, sub):
        if self.server:
            self.server.stop()
            self.server = None
        if os.environ.get("OSSR_CRASH_KEEP") != "1":
            shutil.rmtree(os.path.join(self.workdir, sub), ignore_errors=True)

    def uploads(self, key):
        return {u: i for u, i in self.server.uploads().items() if i["key"] == key}

    def start(self, path, key):
        self.server.reset()
        self.server.fault(op="UploadPart", action="stall", seconds=STALL, count=1 << 30)
        env = clean_environ()
        env.update(OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK, OSS_ENDPOINT=self.server.base)
        cmd = [self.ossup, "put", path, f"oss://{BUCKET}/{key}", "--threshold", "1M", "--part-size", "256K",
               "--threads", str(THREADS), "--checkpoint-dir", self.ckpt, "--quiet"]
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def calibrate(self, path):
        """Seconds an uncut upload takes."""
        t0 = time.time()
        p = self.start(path, "crash/calibrate")
        out, err = p.communicate(timeout=300)
        check(p.returncode == 0, f"the calibration upload failed: {err.strip()}")
        return time.time() - t0

    def round(self, path, key, kills_wanted, full_time):
        """Kills and reruns until the upload completes; returns (kills, re-sent per crash)."""
        total = set(range(1, NPARTS + 1))
        orphans = set()
        resent_per_crash = []
        prev_started = prev_inflight = None
        kills = 0
        for run in range(kills_wanted + 20):
            ck = checkpoint_upload_id(self.ckpt)
            ups = self.uploads(key)
            stored_before = set(ups[ck]["parts"]) if ck in ups else set()
            p = self.start(path, key)
            killed = False
            if kills < kills_wanted:
                # kill somewhere in the remaining work: about a K-th of an uncut run each time
                time.sleep(self.rnd.uniform(0.02, 1.2 * full_time / kills_wanted))
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    killed = True
            try:
                out, err = p.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                raise AssertionError(f"run {run + 1} hung")
            if killed:
                self.server.wait_idle()     # parts in flight land on the server
            log = self.server.log()
            what = f"run {run + 1}{' (killed)' if killed else ''}"
            started = {e["part_number"] for e in ops(log, "UploadPart")}
            inits = [e for e in ops(log, "InitiateMultipartUpload") if e["status"] == 200]
            if ck is not None:
                check(not ops(log, "InitiateMultipartUpload"),
                      f"{what}: started a new upload although checkpoint of {ck} was there")
                check(ck in ups or not started, f"{what}: sent parts after its upload {ck} was gone")
            again = started & stored_before
            check(not again, f"{what}: sent parts the server already held: {sorted(again)}")
            if prev_started is not None:
                redo = started & prev_started
                check(len(redo) <= THREADS, f"{what}: re-sent {len(redo)} parts that the killed run had "
                                            f"started ({sorted(redo)}); at most {THREADS} were in flight")
                check(redo <= prev_inflight, f"{what}: re-sent {sorted(redo - prev_inflight)}, stored before")
                resent_per_crash.append(len(redo))
            if killed:
                kills += 1
                ck_after = checkpoint_upload_id(self.ckpt)
                ups_after = self.uploads(key)
                for e in inits:
                    if e["upload_id"] != ck_after and e["upload_id"] in ups_after:
                        orphans.add(e["upload_id"])
                        self.notes.append(f"{key} {what}: killed between Initiate and the checkpoint; "
                                          f"upload {e['upload_id']} stays open")
                if ck_after is not None and ck_after not in ups_after:
                    # killed around Complete, which the server carried out: nothing is in flight
                    obj = self.server.object(BUCKET, key)
                    check(obj is not None and obj["md5"] == md5_file(path),
                          f"{what}: upload {ck_after} is gone but the object is not in place")
                    stored_after = set(total)
                else:
                    stored_after = set(ups_after[ck_after]["parts"]) if ck_after in ups_after else set()
                prev_started = started
                prev_inflight = started - stored_after
                check(len(prev_inflight) <= THREADS,
                      f"{what}: {len(prev_inflight)} parts in flight at the kill: {sorted(prev_inflight)}")
                continue
            check(p.returncode == 0, f"{what}: exit {p.returncode}: {err.strip()}")
            sent = sorted(e["part_number"] for e in ops(log, "UploadPart") if e["status"] == 200)
            check(sent == sorted(total - stored_before) or (ck is not None and ck not in ups and not sent),
                  f"{what}: sent {len(sent)} parts, the server lacked {len(total - stored_before)}")
            obj = self.server.object(BUCKET, key)
            check(obj is not None and obj["md5"] == md5_file(path), f"{what}: the object differs from the file")
            left = set(self.uploads(key)) - orphans
            check(not left, f"uploads left open: {sorted(left)}")
            check(checkpoint_upload_id(self.ckpt) is None, "checkpoint left after success")
            return kills, resent_per_crash
        raise AssertionError("the upload never completed")


def main():
    ap = argparse.ArgumentParser(description="kill ossup at random moments and resume (see the docstring)")
    ap.add_argument("ossup")
    ap.add_argument("--runs", type=int, default=2, help="rounds (default 2)")
    ap.add_argument("--seconds", type=float, default=0, help="keep going until this many seconds have passed")
    ap.add_argument("--kills", type=int, default=5, help="kills per round (default 5)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time and pid)")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else (int(time.time() * 1000) ^ os.getpid()) & 0xFFFFFFFF
    rnd = random.Random(seed)
    ossup = os.path.abspath(a.ossup)
    work = tempfile.mkdtemp(prefix="ossr-crash-")
    path = os.path.join(work, "file.bin")
    crasher = Crasher(ossup, work, rnd)
    passed = failed = 0
    t0 = time.time()
    print(f"crash: seed {seed}, {SIZE} bytes, {NPARTS} parts of {PART // KIB} KiB, {THREADS} threads, "
          f"stall {STALL}s per part", flush=True)
    try:
        full_time = None
        n = 0
        while n < a.runs or (a.seconds and time.time() - t0 < a.seconds):
            n += 1
            sub = f"round{n}"
            t1 = time.time()
            try:
                make_file(path, SIZE, seed + n)
                crasher.start_server(sub)
                if full_time is None:
                    full_time = crasher.calibrate(path)
                    print(f"     an uncut upload takes {full_time:.1f}s", flush=True)
                kills, resent = crasher.round(path, f"crash/round{n}", a.kills, full_time)
                passed += 1
                print(f"ok   round {n}: {kills} kills, parts re-sent per crash max {max(resent, default=0)} "
                      f"{resent}, object intact ({time.time() - t1:.1f}s)", flush=True)
            except Exception as e:
                failed += 1
                print(f"FAIL round {n}: {e}", flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
            finally:
                crasher.stop_server(sub)
    finally:
        if crasher.server:
            stop_process(crasher.server.proc)
        if os.environ.get("OSSR_CRASH_KEEP") == "1":
            print(f"     work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return report("crash", passed, failed, t0, crasher.notes)


if __name__ == "__main__":
    sys.exit(main())
