#!/usr/bin/env python3
"""size.py - code size of oss_resumable.h, for `make size` (and the size part of BENCH.md).

Measures, with the `size` command:
  * the library alone (tests/bench/size_lib.c: the implementation in one translation unit)
    compiled -Os with -DOSSR_NO_TLS for x86-64: .text against the 40 KiB target, and the
    same with -DOSSR_NO_THREADS too;
  * the same for Cortex-M4 (arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os, with
    -DOSSR_NO_TLS -DOSSR_NO_THREADS -DOSSR_NO_SOCKETS -DOSSR_NO_STDIO) against the 28 KiB
    target and its static RAM (data + bss) against 1 KiB, where that compiler is
    installed and the header builds there;
  * a static, stripped ossup (-O2 -static), where static linking works.
What cannot be measured is reported as "skipped: <reason>", never as a failure.

    python3 tests/bench/size.py [--build DIR] [--cc CC]
"""
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB_SRC = "tests/bench/size_lib.c"
X86_TARGET = 40 * 1024
ARM_TARGET = 28 * 1024
ARM_RAM_TARGET = 1024          # static RAM of the build without an OS: data + bss
ARM_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-DOSSR_NO_TLS", "-DOSSR_NO_THREADS",
             "-DOSSR_NO_SOCKETS", "-DOSSR_NO_STDIO"]


def run(argv):
    """Runs a command in the repository; returns (exit status, combined output)."""
    p = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def first_error(text):
    """The first line of compiler output that says what went wrong."""
    for line in text.splitlines():
        if "error" in line:
            return line.strip()
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[0] if lines else "no output"


def sections(size_tool, obj):
    """{section: bytes} from `size -A`, and the Berkeley text/data/bss from `size`."""
    rc, out = run([size_tool, "-A", obj])
    if rc != 0:
        raise RuntimeError(out.strip())
    secs = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            secs[parts[0]] = secs.get(parts[0], 0) + int(parts[1])
    rc, out = run([size_tool, obj])
    if rc != 0:
        raise RuntimeError(out.strip())
    fields = out.splitlines()[1].split()
    berkeley = {"text": int(fields[0]), "data": int(fields[1]), "bss": int(fields[2])}
    return secs, berkeley


def text_section(secs):
    return sum(v for k, v in secs.items() if k == ".text" or k.startswith(".text."))


def object_row(label, compiler, flags, obj, size_tool, target, ram_target=None):
    """One library object: compile, then measure. A dict with 'skipped' on failure."""
    row = {"label": label, "command": " ".join([compiler, "-std=c99"] + flags + ["-c", LIB_SRC]),
           "target": target, "ram_target": ram_target}
    os.makedirs(os.path.dirname(os.path.join(ROOT, obj)), exist_ok=True)
    if shutil.which(compiler) is None:
        row["skipped"] = "%s is not installed (Debian: apt-get install gcc-arm-none-eabi " \
                         "libnewlib-arm-none-eabi)" % compiler
        return row
    if shutil.which(size_tool) is None:
        row["skipped"] = "%s is not installed" % size_tool
        return row
    rc, out = run([compiler, "-std=c99"] + flags + ["-c", LIB_SRC, "-o", obj])
    if rc != 0:
        row["skipped"] = "does not compile today: " + first_error(out)
        return row
    secs, berkeley = sections(size_tool, obj)
    row.update(text=text_section(secs), berkeley=berkeley,
               rodata=sum(v for k, v in secs.items() if k.startswith(".rodata")))
    return row


def static_row(cc, build):
    exe = os.path.join(build, "bench", "ossup-static")
    cmd = [cc, "-std=c99", "-O2", "-static", "examples/ossup.c", "-o", exe, "-lbearssl", "-lpthread"]
    shown = cmd[:-3] + ["build/bench/ossup-static", "-lbearssl", "-lpthread"]
    row = {"label": "ossup, static, stripped (x86-64, -O2, with TLS)",
           "command": " ".join(shown) + " && strip build/bench/ossup-static"}
    os.makedirs(os.path.join(ROOT, build, "bench"), exist_ok=True)
    rc, out = run(cmd)
    if rc != 0:
        row["skipped"] = "static linking failed: " + first_error(out)
        return row
    if shutil.which("strip") is None:
        row["skipped"] = "strip is not installed"
        return row
    rc, out = run(["strip", exe])
    if rc != 0:
        row["skipped"] = "strip failed: " + first_error(out)
        return row
    row["bytes"] = os.path.getsize(os.path.join(ROOT, exe))
    rc, out = run([exe, "--version"])
    row["runs"] = rc == 0
    return row


def measure(build="build", cc="cc"):
    """Everything above, as a list of rows."""
    obj_dir = os.path.join(build, "bench")
    rows = [
        object_row("library, x86-64, -Os -DOSSR_NO_TLS", cc, ["-Os", "-DOSSR_NO_TLS"],
                   os.path.join(obj_dir, "size_lib_x86.o"), "size", X86_TARGET),
        object_row("library, x86-64, -Os -DOSSR_NO_TLS -DOSSR_NO_THREADS", cc,
                   ["-Os", "-DOSSR_NO_TLS", "-DOSSR_NO_THREADS"],
                   os.path.join(obj_dir, "size_lib_x86_nothreads.o"), "size", None),
        object_row("library, Cortex-M4, -Os, no TLS/threads/sockets/stdio", "arm-none-eabi-gcc",
                   ARM_FLAGS, os.path.join(obj_dir, "size_lib_cm4.o"), "arm-none-eabi-size", ARM_TARGET,
                   ARM_RAM_TARGET),
        static_row(cc, build),
    ]
    return rows


def kib(n):
    return "%.1f KiB" % (n / 1024.0)


def markdown(rows):
    """The rows as Markdown: a table, then the commands."""
    out = ["| what | .text | text+rodata (`size` text) | data | bss | target | result |",
           "|---|---:|---:|---:|---:|---|---|"]
    def verdict(ok):
        return "pass" if ok else "FAIL"
    for r in rows:
        if "skipped" in r:
            target = ("≤ " + kib(r["target"])) if r.get("target") else ""
            out.append("| %s | | | | | %s | skipped: %s |" % (
                r["label"], target, r["skipped"].replace("|", "\\|")))
        elif "bytes" in r:
            out.append("| %s | | | | | | file: %s bytes (%s)%s |" % (
                r["label"], format(r["bytes"], ","), kib(r["bytes"]), ", runs" if r.get("runs") else ""))
        else:
            b = r["berkeley"]
            target, ram = r.get("target"), r.get("ram_target")
            goals, results = [], []
            if target:
                goals.append(".text ≤ " + kib(target))
                results.append("code " + verdict(r["text"] <= target))
            if ram:
                goals.append("data + bss ≤ %d B" % ram)
                results.append("static RAM %d B %s" % (b["data"] + b["bss"], verdict(b["data"] + b["bss"] <= ram)))
            out.append("| %s | %s (%d) | %s (%d) | %d | %d | %s | %s |" % (
                r["label"], kib(r["text"]), r["text"], kib(b["text"]), b["text"], b["data"], b["bss"],
                ", ".join(goals), ", ".join(results) or "(information)"))
    out.append("")
    out.append("`.text` is the code section alone, as `size -A` reports it; `size`'s own text "
               "column adds read-only data (strings, tables). Commands:")
    out.append("")
    for r in rows:
        out.append("    " + r["command"])
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--cc", default="cc")
    args = ap.parse_args()
    sys.stdout.write(markdown(measure(args.build, args.cc)))


if __name__ == "__main__":
    main()
