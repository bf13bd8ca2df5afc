#!/bin/sh
# Fails when a C file in the project's folders is not formatted as
# .clang-format says (CI runs the same check).
set -u
cd "$(dirname "$0")/.." || exit 2
files=$(find core protocol history themes tui tests -name '*.[ch]' | sort)
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files && echo "format: ok ($(echo "$files" | wc -l) files)"
