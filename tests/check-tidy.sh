#!/bin/sh
# clang-tidy with the checks of STYLE.md (.clang-tidy says which and why
# some are off) over every C file of core protocol history themes tui.
# Needs a configured build folder for compile_commands.json.  Any finding
# fails (WarningsAsErrors); a false positive gets a NOLINT comment that
# says why.
#   tests/check-tidy.sh BUILD_DIR
set -u
cd "$(dirname "$0")/.." || exit 2
build=${1:?usage: check-tidy.sh BUILD_DIR}
tidy=$(command -v clang-tidy || command -v clang-tidy-14) ||
	{ echo "clang-tidy is not installed" >&2; exit 77; }
[ -f "$build/compile_commands.json" ] ||
	{ echo "$build/compile_commands.json is missing: configure first" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Two at a time; each file is independent.
find core protocol history themes tui -name '*.c' | sort |
	xargs -P "${TIDY_JOBS:-2}" -n 4 "$tidy" -p "$build" --quiet >"$out" 2>&1
rc=$?
if grep -qE '(warning|error):' "$out"; then
	grep -E '(warning|error):' "$out" | sort -u
	echo "clang-tidy: findings above (details: rerun on one file)" >&2
	exit 1
fi
[ $rc -eq 0 ] || { cat "$out"; exit 1; }
echo "clang-tidy: ok"
