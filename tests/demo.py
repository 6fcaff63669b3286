#!/usr/bin/env python3
"""make demo: the main job of oss_resumable.h on a fresh machine, no account needed.

Starts the test server on a free loopback port, makes a 64 MB file, uploads it with
4 threads (progress bar on a terminal), kills the upload half-way with SIGKILL, resumes
it, downloads the object and compares MD5s. The server slows each part a little so that
"half-way" is a moment a person can see.

    python3 tests/demo.py build/ossup
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE, PART = 64 * 1024 * 1024, 1024 * 1024


def main():
    ossup = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/ossup")
    work = tempfile.mkdtemp(prefix="ossr-demo-")
    port_file = os.path.join(work, "port")
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "oss_server.py"), "--port", "0",
                               "--port-file", port_file, "--data-dir", os.path.join(work, "data"),
                               "--lifetime", "600", "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if time.time() > deadline or server.poll() is not None:
                sys.exit("demo: the test server did not start")
            time.sleep(0.05)
        base = "http://127.0.0.1:" + open(port_file).read().strip()

        def control(method, path, body=None):
            data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
            with urllib.request.urlopen(urllib.request.Request(base + "/_ossr/" + path, data=data,
                                                               method=method), timeout=30) as r:
                text = r.read()
            return json.loads(text) if text else None

        print(f"demo: test server listening on {base} (credentials test-ak / test-secret)")
        path = os.path.join(work, "demo-64MB.bin")
        with open(path, "wb") as f:
            for _ in range(SIZE // PART):
                f.write(os.urandom(PART))
        want = hashlib.md5(open(path, "rb").read()).hexdigest()
        print(f"demo: made {path} ({SIZE >> 20} MiB, MD5 {want})")

        env = dict(os.environ, OSS_ACCESS_KEY_ID="test-ak", OSS_ACCESS_KEY_SECRET="test-secret",
                   OSS_ENDPOINT=base)
        args = [ossup, "put", path, "oss://demo-bucket/backups/demo-64MB.bin", "--threads", "4",
                "--part-size", "1M", "--checkpoint-dir", os.path.join(work, "checkpoints")]
        control("POST", "fault", {"op": "UploadPart", "action": "stall", "seconds": 0.15, "count": 1000000})
        print("demo: uploading with 4 threads; it will be killed half-way ...")
        p = subprocess.Popen(args, env=env)
        stored = 0
        while p.poll() is None:
            ups = control("GET", "uploads") or {}
            stored = max((len(u["parts"]) for u in ups.values()), default=0)
            if stored >= 32:
                p.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        p.wait()
        time.sleep(0.5)
        ups = control("GET", "uploads") or {}
        stored = max((len(u["parts"]) for u in ups.values()), default=0)
        print(f"\ndemo: killed the uploader with SIGKILL; the server holds {stored} of 64 parts")
        control("POST", "reset")
        print("demo: running the same command again: it resumes")
        r = subprocess.run(args, env=env)
        if r.returncode != 0:
            sys.exit("demo: the resumed upload failed")
        log = control("GET", "log")
        sent = sorted(e["part_number"] for e in log if e["op"] == "UploadPart" and e["status"] == 200)
        print(f"demo: the resume sent {len(sent)} parts; the other {64 - len(sent)} were found with ListParts "
              f"and checked by CRC-64")
        dest = os.path.join(work, "downloaded.bin")
        r = subprocess.run([ossup, "get", "oss://demo-bucket/backups/demo-64MB.bin", dest], env=env)
        if r.returncode != 0:
            sys.exit("demo: download failed")
        got = hashlib.md5(open(dest, "rb").read()).hexdigest()
        print(f"demo: downloaded MD5 {got}: {'matches' if got == want else 'DIFFERS'}")
        if got != want:
            sys.exit(1)
        print("demo: done")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
