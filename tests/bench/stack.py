#!/usr/bin/env python3
"""stack.py - worst-case stack of oss_resumable.h on a Cortex-M4, for `make size`.

Compiles the library alone (tests/bench/size_lib.c) as size.py does for Cortex-M4
(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os, with -DOSSR_NO_TLS -DOSSR_NO_THREADS
-DOSSR_NO_SOCKETS -DOSSR_NO_STDIO), adding -fcallgraph-info=su: gcc writes a call graph
(.ci, VCG format) whose nodes carry each function's frame size and whose edges are the
calls, indirect ones going to a placeholder node. From it, for each public entry point
(ossr_upload, ossr_download, ossr_list_uploads, ossr_abort_upload, ossr_session_step: those
in the build), the deepest path: the largest sum of frames over a chain of calls, with the
chain; then the deepest of every public function (ossr_*), against the 4 KiB target.

Counted: the library's own frames, as gcc lays them out after inlining, including the
library's own functions that it calls through pointers (comparators, body generators,
XML child handlers, marked * in the path). Such a function is taken to be callable from
the indirect calls of its type (not hook calls) that the function taking its address
reaches, while that function is on the stack (the object's relocations say which one
takes it); when that reaches none (the address is kept for later), from any indirect
call of its type. Not counted:
  * the hooks' own stack (transport, file, store, clock, allocator, log, progress,
    credentials and the list callback: the caller's code); each line says how deep the
    library's stack is where it calls one;
  * libc and libgcc (memcpy, strlen, malloc, the __aeabi_* helpers): no frame sizes in
    the graph. They are small next to the library's frames.
A tail call is counted as if the caller's frame stayed, so the figure is an upper bound.
Frames gcc marks "dynamic" (alloca, VLAs) or "dynamic,bounded" are named, and so is any
recursion (a cycle of calls), which would make the depth unbounded.
What cannot be measured is reported as "skipped: <reason>", never as a failure.

    python3 tests/bench/stack.py [--build DIR] [--src FILE.c] [--top N]
"""
import argparse
import os
import re
import shutil

from size import ARM_FLAGS, LIB_SRC, ROOT, first_error, run   # the same build as the size table

CC = "arm-none-eabi-gcc"
READELF = "arm-none-eabi-readelf"
ENTRIES = ["ossr_upload", "ossr_download", "ossr_list_uploads", "ossr_abort_upload", "ossr_session_step"]
TARGET = 4096          # bytes of library frames on the deepest path of any public function
INDIRECT = "__indirect_call"
CALL_RELOCS = ("R_ARM_THM_CALL", "R_ARM_THM_JUMP24", "R_ARM_CALL", "R_ARM_JUMP24",
               "R_ARM_THM_JUMP19", "R_ARM_PLT32")

Q = r'"((?:[^"\\]|\\.)*)"'
NODE_RE = re.compile(r'^node:\s*\{\s*title:\s*' + Q + r'\s*label:\s*' + Q)
EDGE_RE = re.compile(r'^edge:\s*\{\s*sourcename:\s*' + Q + r'\s*targetname:\s*' + Q +
                     r'(?:\s*label:\s*' + Q + ')?')
SU_RE = re.compile(r'(\d+) bytes \(([a-z,]+)\)')
LOC_RE = re.compile(r'^(.*):(\d+):(\d+)$')


def normal_params(params):
    """"const char *a, size_t n" -> "const char*,size_t": the types alone."""
    out = []
    for p in params.split(","):
        p = p.strip()
        if len(p.replace("*", " ").split()) > 1:
            p = re.sub(r'\w+\s*$', '', p)
        out.append(re.sub(r'\s+', '', p))
    return ",".join(out)


class Source:
    """The header's text, to tell a hook call from a call to the library's own function:
    a hook is called through a name the public part declares as a function pointer
    (a struct member `(*send)(...)`, or anything of a public `ossr_*_fn` type)."""

    def __init__(self):
        self.files = {}
        self.hooks = {}

    def _load(self, path):
        if path not in self.files:
            try:
                with open(os.path.join(ROOT, path), errors="replace") as f:
                    text = f.read()
            except OSError:
                text = None
            self.files[path] = text.splitlines() if text is not None else None
            self.hooks[path] = self._hook_names(text) if text is not None else set()
        return self.files[path]

    @staticmethod
    def _hook_names(text):
        m = re.search(r'^#\s*ifdef\s+OSS_RESUMABLE_IMPLEMENTATION', text, re.M)
        public = text[:m.start()] if m else text
        names = set(re.findall(r'\(\s*\*\s*(\w+)\s*\)\s*\(', public))
        types = set(re.findall(r'typedef[^;]*?\(\s*\*\s*(ossr_\w+)\s*\)\s*\(', public))
        for t in types:
            names.update(re.findall(r'\b' + t + r'\s+(\w+)\s*[;,)]', text))
        return names

    def signature(self, path, name):
        """The parameter types of a function, or of the function-pointer type of a
        variable or member, named name; None when they cannot be found."""
        lines = self._load(path)
        if lines is None:
            return None
        text = "\n".join(lines)
        m = re.search(r'\b(\w+)\s+\**\s*' + re.escape(name) + r'\s*[;,)=]', text)
        if m:
            t = re.search(r'typedef[^;]*?\(\s*\*\s*' + re.escape(m.group(1)) +
                          r'\s*\)\s*\(([^)]*)\)', text)
            return normal_params(t.group(1)) if t else None
        m = re.search(r'\b' + re.escape(name) + r'\s*\(([^)]*)\)\s*\{', text)
        return normal_params(m.group(1)) if m else None

    def callee(self, loc):
        """(expression, is_hook) for the indirect call at "file:line:col", or None."""
        m = LOC_RE.match(loc or "")
        if not m:
            return None
        lines = self._load(m.group(1))
        line, col = int(m.group(2)), int(m.group(3))
        if not lines or line > len(lines):
            return None
        rest = lines[line - 1][col - 1:]
        e = re.match(r'[~!(\s]*(?:\(\s*\w+\s*\))?\s*([\w.>\-\[\] ]+?)\s*\(', rest)
        if not e:
            return None
        expr = e.group(1).strip()
        last = re.findall(r'\w+', expr)
        return (expr, bool(last) and last[-1] in self.hooks[m.group(1)],
                self.signature(m.group(1), last[-1]) if last else None)


class Graph:
    """The .ci file: functions (frame bytes or None, qualifier), their direct calls and
    their indirect call sites; then the library's functions called through pointers."""

    def __init__(self, text, source):
        self.name = {}      # title -> function name as gcc prints it
        self.sym = {}       # title -> symbol name (the part after the file name)
        self.frame = {}     # title -> bytes, None for functions without a body here
        self.qual = {}      # title -> "static", "dynamic", "dynamic,bounded"
        self.calls = {}     # title -> [title, ...] (direct calls, no repeats)
        self.pcalls = {}    # title -> [(title, taker)]: the library's functions via pointers
        self.takers = set()  # functions whose taking of an address enables such calls
        self.sites = {}     # title -> [(expression, is_hook, parameter types)]: indirect calls
        self.loc = {}       # title -> "file:line:col" of the definition
        for line in text.splitlines():
            m = NODE_RE.match(line)
            if m:
                title, label = m.group(1), m.group(2)
                parts = label.split("\\n")
                self._add(title, parts[0].replace("__builtin_", ""))
                if len(parts) > 1:
                    self.loc[title] = parts[1]
                su = SU_RE.search(label)
                self.frame[title] = int(su.group(1)) if su else None
                self.qual[title] = su.group(2) if su else None
                continue
            m = EDGE_RE.match(line)
            if m:
                src, dst, loc = m.group(1), m.group(2), m.group(3)
                self._add(src, src)
                if dst == INDIRECT:
                    c = source.callee(loc)
                    self.sites[src].append(c if c else ("?", True, None))
                else:
                    self._add(dst, dst)
                    if dst not in self.calls[src]:
                        self.calls[src].append(dst)

    def _add(self, title, name):
        if title not in self.calls:
            self.calls[title], self.pcalls[title], self.sites[title] = [], [], []
            self.frame[title], self.qual[title] = None, None
            self.sym[title] = title.rsplit(":", 1)[-1]
        if name != title or title not in self.name:
            self.name[title] = name

    def fits(self, t, sig):
        """Whether t has an indirect call, not to a hook, whose type fits sig."""
        return any(not hook and (sig is None or s is None or s == sig)
                   for _, hook, s in self.sites[t])

    def add_pointer_calls(self, taken, source):
        """taken: [(taker symbol or None for a table, target symbol)] from relocations.
        The target may be called from an indirect call of its type that the taker
        reaches, while the taker is on the stack; when the taker reaches none (the
        address is stored for later), from any indirect call of its type."""
        by_sym = {self.sym[t]: t for t in self.calls if self.frame[t] is not None}
        for taker, target in taken:
            f = by_sym.get(target)
            if f is None:
                continue
            loc = LOC_RE.match(self.loc.get(f, ""))
            sig = source.signature(loc.group(1), self.name[f]) if loc else None
            g = by_sym.get(taker) if taker else None
            scope = [s for s in (self.reachable(g) if g else []) if self.fits(s, sig)]
            if not scope:
                g, scope = None, [s for s in self.calls if self.fits(s, sig)]
            for s in scope:
                if (f, g) not in self.pcalls[s]:
                    self.pcalls[s].append((f, g))
                    if g is not None:
                        self.takers.add(g)

    def callees(self, t, active):
        return [(d, False) for d in self.calls[t]] + \
               [(f, True) for f, g in self.pcalls[t] if g is None or g in active]

    def enter(self, t, active):
        return active | {t} if t in self.takers and t not in active else active

    def find(self, fname):
        """The title of the function with this name that has a body here, or None."""
        for t in self.calls:
            if self.sym[t] == fname and self.frame.get(t) is not None:
                return t
        return None

    def reachable(self, start):
        """The functions start calls, directly or not (direct calls only)."""
        seen, todo = set(), [start]
        while todo:
            t = todo.pop()
            if t not in seen:
                seen.add(t)
                todo.extend(self.calls[t])
        return seen

    def explore(self, start):
        """(functions reached, cycles found) from start, pointer calls included."""
        seen, cycles = set(), []
        done = set()

        def visit(t, active, path):
            key = (t, active)
            if key in done:
                return
            seen.add(t)
            for d, _ in self.callees(t, active):
                if d in path:
                    cyc = path[path.index(d):]
                    if sorted(cyc) not in [sorted(c) for c in cycles]:
                        cycles.append(cyc)
                    continue
                visit(d, self.enter(d, active), path + [d])
            done.add(key)

        visit(start, self.enter(start, frozenset()), [start])
        return seen, cycles

    def deepest(self, start, ends=None):
        """(bytes, [(title, via pointer)]): the deepest chain of calls from start, or with
        ends (a predicate), the deepest chain that ends in a function for which it holds
        (None if there is none). A call that would close a cycle is not followed."""
        memo = {}

        def walk(t, active, path):
            key = (t, active)
            if key in memo:
                return memo[key]
            own = self.frame[t] or 0
            best = (own, []) if ends is None or ends(t) else None
            for d, ptr in self.callees(t, active):
                if d in path:
                    continue
                path.add(d)
                sub = walk(d, self.enter(d, active), path)
                path.discard(d)
                if sub is not None and (best is None or own + sub[0] > best[0]):
                    best = (own + sub[0], [(d, ptr)] + sub[1])
            memo[key] = best
            return best

        r = walk(start, self.enter(start, frozenset()), {start})
        return None if r is None else (r[0], [(start, False)] + r[1])


def address_taken(obj):
    """[(taker, target)]: each non-call reference to a function in the object, with the
    function that holds it (None when it is in a data section, as a table's entry)."""
    if shutil.which(READELF) is None:
        return None
    rc, out = run([READELF, "-SsrW", obj])
    if rc != 0:
        return None
    sec_index, funcs, relocs, cur = {}, {}, [], None
    for line in out.splitlines():
        m = re.match(r'\s*\[\s*(\d+)\]\s+(\S+)', line)
        if m:
            sec_index[m.group(2)] = int(m.group(1))
            continue
        m = re.match(r'\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+FUNC\s+\w+\s+\w+\s+(\d+)\s+(\S+)', line)
        if m:
            funcs.setdefault(int(m.group(3)), []).append(
                (int(m.group(1), 16) & ~1, int(m.group(2)), m.group(4)))
            continue
        m = re.match(r"Relocation section '\.rela?([^']*)'", line)
        if m:
            cur = m.group(1)
            continue
        if line.startswith("Symbol table"):
            cur = None
        m = re.match(r'\s*([0-9a-f]+)\s+[0-9a-f]+\s+(R_\w+)\s+[0-9a-f]+\s+(\S+)', line)
        if m and cur is not None and m.group(2) not in CALL_RELOCS:
            relocs.append((cur, int(m.group(1), 16), m.group(3)))
    names = set(f[2] for fs in funcs.values() for f in fs)
    taken = []
    for sec, off, target in relocs:
        if target not in names:
            continue
        taker = None
        for start, size, name in funcs.get(sec_index.get(sec), []):
            if start <= off < start + size:
                taker = name
        taken.append((taker, target))
    return taken


def compile_graph(build, src):
    """Compiles src with -fcallgraph-info=su; returns (Graph, None) or (None, reason)."""
    if shutil.which(CC) is None:
        return None, "%s is not installed (Debian: apt-get install gcc-arm-none-eabi " \
                     "libnewlib-arm-none-eabi)" % CC
    out_dir = os.path.join(ROOT, build, "bench")
    os.makedirs(out_dir, exist_ok=True)
    obj = os.path.join(out_dir, "stack_lib_cm4.o")
    ci = os.path.join(out_dir, "stack_lib_cm4.ci")
    if os.path.exists(ci):
        os.remove(ci)
    rc, out = run([CC, "-std=c99"] + ARM_FLAGS + ["-fcallgraph-info=su", "-c", src, "-o", obj])
    if rc != 0:
        return None, "does not compile today: " + first_error(out)
    if not os.path.exists(ci):
        return None, "%s wrote no call graph (-fcallgraph-info needs gcc 10 or later)" % CC
    with open(ci) as f:
        source = Source()
        g = Graph(f.read(), source)
    taken = address_taken(obj)
    g.pointers_known = taken is not None
    if taken:
        g.add_pointer_calls(taken, source)
    return g, None


def path_text(g, path):
    return " > ".join(("*" if ptr else "") + g.name[t] for t, ptr in path
                      if g.frame[t] is not None)


def report(g, top):
    """The lines that make size prints."""
    lines = []
    public = [(e, g.find(e)) for e in ENTRIES]
    public = [(e, t) for e, t in public if t is not None]
    if not public:
        return ["stack: skipped: none of %s is in the build" % ", ".join(ENTRIES)]
    for e, t in public:
        depth, path = g.deepest(t)
        reach, cyc = g.explore(t)
        notes = []
        dyn = sorted(g.name[r] + " (" + g.qual[r] + ")" for r in reach
                     if g.qual.get(r) and g.qual[r] != "static")
        notes.append("frames not static: " + ", ".join(dyn) if dyn else "all frames static")
        notes.append("RECURSION, depth unbounded: " +
                     "; ".join(" > ".join(g.name[c] for c in comp) for comp in cyc)
                     if cyc else "no recursion")
        hook = g.deepest(t, ends=lambda r: any(h for _, h, _ in g.sites[r]))
        if hook is not None:
            last = hook[1][-1][0]
            expr = [x for x, h, _ in g.sites[last] if h][0]
            notes.append("indirect calls: hooks add their own stack, the deepest called "
                         "at %s bytes (%s calls %s)" % (format(hook[0], ","), g.name[last], expr))
        else:
            notes.append("no hook calls")
        lines.append("stack: %s %s bytes: %s (%s)" % (
            e, format(depth, ","), path_text(g, path), "; ".join(notes)))
    every = sorted(set(n for n in g.name.values() if re.match(r"^ossr_[a-z0-9_]+$", n) and "__" not in n))
    worst = max(((g.deepest(g.find(n))[0], n) for n in every if g.find(n) is not None), default=None)
    if worst:
        lines.append("stack: deepest of all %d public functions: %s, %s bytes (target <= %s: %s)" % (
            len(every), worst[1], format(worst[0], ","), format(TARGET, ","),
            "pass" if worst[0] <= TARGET else "FAIL"))
    if top:
        frames = sorted(((b, g.name[t]) for t, b in g.frame.items() if b is not None),
                        key=lambda x: (-x[0], x[1]))[:top]
        lines.append("stack: largest frames: " + ", ".join(
            "%s %s" % (n, format(b, ",")) for b, n in frames))
    lines.append("stack: Cortex-M4, %s -Os, no TLS/threads/sockets/stdio, -fcallgraph-info=su; "
                 "library frames only (* through a pointer%s), not libc/libgcc or the hooks" % (
                     CC, "" if g.pointers_known else
                     ": not resolved, %s is missing" % READELF))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--src", default=LIB_SRC,
                    help="the translation unit to compile (default %(default)s)")
    ap.add_argument("--top", type=int, default=5, help="list the N largest frames (0: none)")
    args = ap.parse_args()
    g, why = compile_graph(args.build, args.src)
    if g is None:
        print("stack: skipped: " + why)
        return
    print("\n".join(report(g, args.top)))


if __name__ == "__main__":
    main()
