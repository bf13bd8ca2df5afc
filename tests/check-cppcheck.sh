#!/bin/sh
# cppcheck (warnings and portability) over core protocol history themes
# tui; any finding not listed in tests/cppcheck.supp fails.
set -u
cd "$(dirname "$0")/.." || exit 2
command -v cppcheck >/dev/null || { echo "cppcheck is not installed" >&2; exit 77; }
# cppcheck's list has no comments: drop ours.
supp=$(mktemp)
trap 'rm -f "$supp"' EXIT
grep -v '^#' tests/cppcheck.supp | grep . >"$supp"
cppcheck --quiet --enable=warning,portability --inline-suppr \
	--error-exitcode=1 --std=c11 -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=600 \
	-I . --suppress=missingIncludeSystem \
	--suppressions-list="$supp" \
	core protocol history themes tui && echo "cppcheck: ok"
