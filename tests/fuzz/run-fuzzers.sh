#!/bin/sh
# Runs every libFuzzer target of a -DEHLO_FUZZ=ON build for SECONDS each,
# starting from the seed corpus in tests/fuzz/corpus/<target>/ (copied:
# inputs found during the run stay in WORKDIR, the repository is not
# touched).  A crash leaves its input as WORKDIR/crash-<target>-*; add it
# to tests/fuzz/corpus/<target>/ once fixed, so ctest replays it forever.
#
#   tests/fuzz/run-fuzzers.sh BUILD_DIR [SECONDS] [TARGET...]
#
# Exits 1 when any target found a crash, a leak or a broken promise.
set -u
cd "$(dirname "$0")/../.." || exit 2
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS] [TARGET...]}
secs=${2:-30}
[ $# -ge 2 ] && shift 2 || shift $#
targets=${*:-reply caps command theme sasl dotstuff explain knowledge lesson message spool draft script config eml}
work=${FUZZ_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/ehlo-fuzz.XXXXXX")}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=""
for t in $targets; do
	bin=$build/tests/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is missing (configure with -DEHLO_FUZZ=ON)" >&2
		exit 2
	fi
	mkdir -p "$work/$t"
	cp tests/fuzz/corpus/"$t"/* "$work/$t/" 2>/dev/null
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$work/crash-$t-" "$work/$t" \
		>"$work/$t.log" 2>&1; then
		echo "fuzz: $t: ok ($(grep -c '' "$work/$t.log") log lines," \
			"$(ls "$work/$t" | wc -l) corpus inputs)"
	else
		echo "fuzz: $t: FAILED; log $work/$t.log, input" \
			"$(ls "$work"/crash-"$t"-* 2>/dev/null)" >&2
		tail -40 "$work/$t.log" >&2
		failed="$failed $t"
	fi
done
[ -z "$failed" ] || { echo "fuzz: failed:$failed" >&2; exit 1; }
echo "fuzz: all targets ok ($secs s each; work in $work)"
