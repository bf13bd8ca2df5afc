#!/bin/sh
# Fails when a man page in man/ has a mandoc lint warning or error
# (CI runs it as the ctest lint/man).  Exits 77 without mandoc.
set -u
cd "$(dirname "$0")/.." || exit 2
command -v mandoc >/dev/null 2>&1 || { echo "mandoc is not installed"; exit 77; }
mandoc -T lint -W warning man/*.[1-8] || exit 1
echo "man: ok ($(ls man/*.[1-8] | wc -l) pages)"
