#!/usr/bin/env python3
"""The shape rules of STYLE.md that a compiler does not check:

- no include cycles between the project's files: a .c file, the .h
  file of the same name and its private header foo_int.h are one node
  (one room), and an #include "dir/file.h" is an edge from the
  includer's room to file's; any cycle of two or more rooms fails;
- no source file longer than MAX_LINES lines: the .c and .h files under
  core/ protocol/ history/ themes/ tui/, and the test and tool sources
  (.c, .h, .py, .sh) under tests/ and bench/, whose data (fuzz corpora,
  test inputs, hostile-server cases) is not source and is not counted.

Usage: check-includes.py [ROOT]   (default: the project's top folder)
Exits 1 naming each cycle and each file too long, else 0.
"""

import os
import re
import sys

FOLDERS = ("core", "protocol", "history", "themes", "tui")
MAX_LINES = 1000
# Held to the size rule only: the tests and the benchmarks.
TOOL_FOLDERS = ("tests", "bench")
TOOL_SUFFIXES = (".c", ".h", ".py", ".sh")
DATA_FOLDERS = ("tests/data", "tests/fuzz/corpus", "tests/hostile/cases")

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def sources(root):
    """The project's .c and .h files, as paths relative to root."""
    out = []
    for top in FOLDERS:
        base = os.path.join(root, top)
        for d, _, files in os.walk(base):
            for f in files:
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def tool_sources(root):
    """The test and tool sources under TOOL_FOLDERS, data left out."""
    out = []
    for top in TOOL_FOLDERS:
        for d, dirs, files in os.walk(os.path.join(root, top)):
            rel = os.path.relpath(d, root)
            dirs[:] = [x for x in dirs
                       if os.path.join(rel, x) not in DATA_FOLDERS]
            out += [os.path.join(rel, f) for f in files
                    if f.endswith(TOOL_SUFFIXES)]
    return sorted(out)


def room(path):
    """foo.c, foo.h and foo's private header foo_int.h are one room."""
    stem = os.path.splitext(path)[0]
    if path.endswith("_int.h"):
        stem = stem[:-len("_int")]
    return stem


def graph(root, files):
    """Edges between rooms: {room: {room it includes: first line}}."""
    known = set(files)
    edges = {room(f): {} for f in files}
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8",
                  errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if m is None:
                    continue
                inc = m.group(1)
                if inc not in known:  # "fuzz.h", a system-style name
                    inc = os.path.normpath(
                        os.path.join(os.path.dirname(f), inc))
                    if inc not in known:
                        continue
                a, b = room(f), room(inc)
                if a != b:
                    edges[a].setdefault(b, f"{f}:{n}")
    return edges


def cycles(edges):
    """The strongly connected components of two or more rooms (Tarjan,
    iterative so a deep graph cannot overflow the stack)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges.get(w, {})))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def explain(comp, edges):
    """One include line per edge inside the component."""
    members = set(comp)
    return [f"    {edges[a][b]} -> {b}"
            for a in comp for b in sorted(edges[a]) if b in members]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    files = sources(root)
    bad = False
    edges = graph(root, files)
    for comp in cycles(edges):
        bad = True
        print(f"include cycle: {' <-> '.join(comp)}")
        print("\n".join(explain(comp, edges)))
    sized = files + tool_sources(root)
    for f in sized:
        with open(os.path.join(root, f), "rb") as fh:
            n = sum(1 for _ in fh)
        if n > MAX_LINES:
            bad = True
            print(f"{f}: {n} lines, more than {MAX_LINES}: split it "
                  "into rooms with one job each")
    if not bad:
        print(f"includes: ok ({len(files)} files, no cycle; none of "
              f"{len(sized)} over {MAX_LINES} lines)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
