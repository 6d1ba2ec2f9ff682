#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A long run of one libFuzzer target (docs/fuzzing.md).
#
#   scripts/fuzz.sh TARGET [SECONDS | runs=N] [libFuzzer flags...]
#   scripts/fuzz.sh cov TARGET...   line coverage of src/ by each working corpus
#
# TARGET: rng blk net console input gpu vq transport pci (or all: each in turn).
# Builds the host-fuzz preset, then fuzzes on one core (a single process)
# from the committed seeds (tests/fuzz/corpus/TARGET) into a working corpus
# that persists between runs (build/fuzz-corpus/TARGET). Crashes, leaks and
# timeouts land in build/fuzz-artifacts/ (a timeout is 300 s of wall time
# for one input: long runs go niced on a shared machine, where an input of
# half a second of CPU waited 72 s for a core at a load of 22). At the end
# it prints the executions, executions per second and libFuzzer's coverage counters (cov:
# edges of the instrumented library reached; ft: features).
set -eu

cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS | runs=N] [libFuzzer flags...]}
limit=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#

# Line coverage: the targets again with clang's source-based coverage (a
# build of their own, build/fuzz-cov), each run once over its working
# corpus and committed seeds, llvm-cov's report of the library's files.
if [ "$target" = cov ]; then
	[ "$limit" = 60 ] && set -- rng blk net console input gpu vq transport pci
	[ "$limit" != 60 ] && set -- "$limit" "$@"
	cmake --preset host-fuzz -B build/fuzz-cov \
		-DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" >/dev/null
	profiles=""
	objects=""
	for t in "$@"; do
		cmake --build build/fuzz-cov -j "$(nproc 2>/dev/null || echo 2)" --target "fuzz_$t" >/dev/null
		mkdir -p "build/fuzz-corpus/$t"
		LLVM_PROFILE_FILE="build/fuzz-cov/$t.profraw" ASAN_OPTIONS=detect_leaks=0 \
			"build/fuzz-cov/fuzz_$t" -runs=0 "build/fuzz-corpus/$t" "tests/fuzz/corpus/$t" \
			>"build/fuzz-cov/$t.log" 2>&1
		profiles="$profiles build/fuzz-cov/$t.profraw"
		if [ -z "$objects" ]; then
			objects="build/fuzz-cov/fuzz_$t"
		else
			objects="$objects -object build/fuzz-cov/fuzz_$t"
		fi
	done
	# shellcheck disable=SC2086
	llvm-profdata-14 merge -sparse $profiles -o build/fuzz-cov/all.profdata
	# shellcheck disable=SC2086
	llvm-cov-14 report -instr-profile=build/fuzz-cov/all.profdata $objects "$(pwd)/src"
	exit 0
fi

if [ "$target" = all ]; then
	# Every target gets its turn; a finding in one is reported at the end.
	failed=""
	for t in rng blk net console input gpu vq transport pci; do
		sh scripts/fuzz.sh "$t" "$limit" "$@" || failed="$failed $t"
	done
	[ -z "$failed" ] || { echo "fuzz: findings in:$failed" >&2; exit 1; }
	exit 0
fi

case $limit in
runs=*) budget="-runs=${limit#runs=}" ;;
*) budget="-max_total_time=$limit" ;;
esac

cmake --preset host-fuzz >/dev/null
cmake --build --preset host-fuzz -j "$(nproc 2>/dev/null || echo 2)" --target "fuzz_$target" >/dev/null

corpus=build/fuzz-corpus/$target
artifacts=build/fuzz-artifacts/$target/
log=build/fuzz-logs/$target.log
mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"

echo "fuzz_$target: $budget, corpus $corpus, log $log"
status=0
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"build/host-fuzz/fuzz_$target" "$budget" -max_len=4096 -timeout=300 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$artifacts" "$@" \
	"$corpus" "tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
echo "fuzz_$target: ${execs:-?} executions, ${rate:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} inputs"
if [ "$status" -ne 0 ]; then
	echo "fuzz_$target: FAILED (exit $status), see $log and $artifacts" >&2
	grep -E 'ERROR|SUMMARY|contract|Test unit written' "$log" >&2 || true
fi
exit "$status"
