#!/usr/bin/env python3
"""Runs one command against a fresh test server (plain and TLS listeners, throw-away
certificates) and exits with the command's status. In the command's arguments:
{http} becomes the plain endpoint, {https} the TLS endpoint, {ca} the test CA file,
{other} a certificate that did not sign the server's, {work} a scratch directory.

    python3 tests/with_server.py -- valgrind --error-exitcode=99 build/gcc/test_api {http} {work}
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ossr_testlib import HERE, Server  # noqa: E402


def main():
    if "--" not in sys.argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cmd = sys.argv[sys.argv.index("--") + 1:]
    work = tempfile.mkdtemp(prefix="ossr-with-server-")
    try:
        certs = os.path.join(work, "certs")
        made = subprocess.run(["bash", os.path.join(HERE, "make_certs.sh"), certs]).returncode == 0
        server = Server(os.path.join(work, "server"), quiet=True, certs=certs if made else None)
        scratch = os.path.join(work, "scratch")
        os.makedirs(scratch)
        subst = {"{http}": server.base, "{https}": getattr(server, "https", ""), "{work}": scratch,
                 "{ca}": os.path.join(certs, "ca.pem"), "{other}": os.path.join(certs, "self.pem")}
        try:
            args = [subst.get(a, a) for a in cmd]
            return subprocess.run(args).returncode
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
