#!/usr/bin/env python3
"""No two source files depend on each other in a circle (DESIGN.md 5).

A file depends on another when it uses a symbol the other defines, as
the linker sees it: `nm` over the object files of a build.  Two rooms
sharing a private header are fine as long as calls go one way.

    tests/check-cycles.py BUILD_DIR LIBRARY...   (e.g. ehlo_protocol)

Prints each cycle with the symbols on its edges and exits 1; exits 77
when nm is missing or the build has no objects for a library.
"""
import glob
import importlib.util
import os
import shutil
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The cycle finder (Tarjan) is check-includes.py's: one for both graphs.
_spec = importlib.util.spec_from_file_location(
    "check_includes", os.path.join(ROOT, "tests", "check-includes.py"))
shape = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shape)


def objects(build, lib):
    """The library's objects whose source still exists (a build tree
    keeps the objects of files that were split or removed)."""
    found = glob.glob(os.path.join(build, "CMakeFiles", lib + ".dir",
                                   "**", "*.o"), recursive=True)
    return sorted(o for o in found
                  if os.path.exists(os.path.join(ROOT, source_of(o))))


def source_of(obj):
    return obj.split(".dir" + os.sep, 1)[1][:-2]


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    if shutil.which("nm") is None:
        print("nm is not installed", file=sys.stderr)
        return 77
    defs, uses = {}, {}
    for lib in argv[2:]:
        objs = objects(argv[1], lib)
        if not objs:
            print("no objects for %s in %s" % (lib, argv[1]), file=sys.stderr)
            return 77
        for o in objs:
            name = source_of(o)
            out = subprocess.run(["nm", o], capture_output=True, text=True,
                                 check=True).stdout
            uses.setdefault(name, set())
            for line in out.splitlines():
                f = line.split()
                if len(f) == 3 and f[1] in "TDRB":
                    defs.setdefault(f[2], name)
                elif len(f) == 2 and f[0] == "U":
                    uses[name].add(f[1])
    graph = {a: {defs[u] for u in us if u in defs and defs[u] != a}
             for a, us in uses.items()}
    cycles = shape.cycles(graph)
    for comp in cycles:
        print("cycle: " + " ".join(comp))
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                syms = sorted(u for u in uses[a] if defs.get(u) == b)
                print("    %s -> %s: %s" % (a, b, " ".join(syms[:8])))
    if cycles:
        return 1
    print("cycles: ok (%d files)" % len(graph))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
