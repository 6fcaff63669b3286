#!/usr/bin/env python3
"""The set-up promises of the README, checked without changing the machine:

- `make` and `make demo` check (and install) only what they use: a C compiler,
  BearSSL, and for the demo python3; never the test tools (clang, g++, valgrind,
  faketime); `make` only looks for mbedTLS (build/ossup-mbedtls), never installs it;
- the ali-oss check says before it installs from npm, and skips with one line (and
  success) when npm's registry cannot be reached or node is missing.

    python3 tests/test_setup.py

The last line is "setup: N passed, M failed".
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from ossr_testlib import check, report  # noqa: E402


def deps_lines(target):
    """The tests/deps.sh names make would check for target (make -n: nothing runs)."""
    out = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    return [line.split("tests/deps.sh", 1)[1].split() for line in out.splitlines() if "tests/deps.sh" in line]


def make_checks_what_it_uses():
    lines = deps_lines("build/ossup")
    check(lines and set(lines[0]) == {"cc", "bearssl"}, f"make checks {lines}, not a compiler and BearSSL")
    mbedtls = [line for line in deps_lines("all") if "mbedtls" in " ".join(line[:2])]
    check(mbedtls and all(line[0] == "--check" for line in mbedtls), f"make would install mbedTLS: {mbedtls}")
    lines = deps_lines("demo")
    check(lines and set(lines[0]) == {"cc", "python3", "bearssl"}, f"make demo checks {lines}")
    for extra in ("clang", "g++", "valgrind", "faketime"):
        check(all(extra not in line for line in lines), f"make demo checks {extra}: {lines}")
    lines = deps_lines("test")
    check(lines and {"clang", "valgrind", "faketime"} <= set(lines[0]), f"make test checks {lines}")


def ali_oss_check_skips(tmp):
    """A copy of the check without tests/.node, so that it must install."""
    for name in ("ali_oss_check.sh", "ali_oss_check.js", "oss_server.py"):
        shutil.copy(os.path.join(HERE, name), tmp)
    env = dict(os.environ, npm_config_registry="http://127.0.0.1:9/", npm_config_cache=os.path.join(tmp, "cache"))
    if shutil.which("npm") and shutil.which("node"):
        p = subprocess.run(["bash", os.path.join(tmp, "ali_oss_check.sh")], env=env, capture_output=True, text=True,
                           timeout=600)
        lines = p.stdout.strip().splitlines()
        check(p.returncode == 0, f"an unreachable registry failed the check: {p.stdout}{p.stderr}")
        check(any("installing ali-oss from the npm registry" in line for line in lines[:1]),
              f"no word before installing: {lines}")
        check(lines and lines[-1].startswith("ali_oss_check: skipped:") and "cannot be reached" in lines[-1],
              f"no skip line for an unreachable registry: {lines}")
    bindir = os.path.join(tmp, "bin")       # a PATH with python3 and bash but no node
    os.mkdir(bindir)
    for tool in ("python3", "bash", "mktemp", "timeout"):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), os.path.join(bindir, tool))
    p = subprocess.run([shutil.which("bash"), os.path.join(tmp, "ali_oss_check.sh")], env=dict(env, PATH=bindir),
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stdout.strip().startswith("ali_oss_check: skipped: node is not installed"),
          f"without node: {p.returncode} {p.stdout}{p.stderr}")


def main():
    passed = failed = 0
    for name, fn in (("make_checks_what_it_uses", make_checks_what_it_uses), ("ali_oss_check_skips", None)):
        try:
            if fn:
                fn()
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    ali_oss_check_skips(tmp)
            print(f"ok   {name}")
            passed += 1
        except AssertionError as e:
            print(f"FAIL {name}: {e}")
            failed += 1
    sys.exit(report("setup", passed, failed))


if __name__ == "__main__":
    main()
