#!/usr/bin/env python3
"""The README is a front page, and the project stands alone.

Fails when README.md is over 200 lines, when one of its relative links
(docs/, man/, ...) names a file that does not exist, when it does not
link the man pages and docs/install.md, or when any file of the project
refers to a path outside it (the shared folder beside the repository, or
this machine's work folder).  Run as the ctest lint/frontpage.
"""

import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), ".."))
# Written in pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", "/" + "work/"]))
SKIP_DIRS = {".git", ".cache", "__pycache__"}


def main():
    problems = []
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    n = readme.count("\n")
    if n > 200:
        problems.append(f"README.md has {n} lines; a front page has at "
                        "most 200 (move reference text to docs/)")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme):
        if re.match(r"[a-z]+:", target):
            continue
        if not os.path.exists(os.path.join(ROOT, target)):
            problems.append(f"README.md links {target}, which does not "
                            "exist")
    for need in ("man/ehlo.1", "man/ehlo.conf.5", "docs/install.md"):
        if f"]({need})" not in readme:
            problems.append(f"README.md does not link {need}")
    for d, dirs, files in os.walk(ROOT):
        dirs[:] = [x for x in dirs
                   if x not in SKIP_DIRS and not x.startswith("build")]
        for name in files:
            if name in SKIP_DIRS:
                continue
            path = os.path.join(d, name)
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except (UnicodeDecodeError, OSError):
                continue
            for i, line in enumerate(text.splitlines(), 1):
                if OUTSIDE.search(line):
                    problems.append(f"{os.path.relpath(path, ROOT)}:{i}: "
                                    "refers to a path outside the project")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"frontpage: ok (README.md {n} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
