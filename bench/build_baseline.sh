#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build the vio benchmark firmwares of another commit, for a before / after
# comparison in one interleaved run:
#
#   bench/build_baseline.sh COMMIT [DIR]
#   bench/run_bench.py --baseline DIR ...      (make bench BENCH_ARGS=...)
#
# COMMIT's tree is exported with git archive (no worktree, no checkout: the
# working tree is left alone) into DIR/src, configured with its own presets
# and built for both boards; vio-blk-bench and vio-blk-bench-poll, and the
# console benchmark's vio-console-bench and vio-console-bench-poll where the
# commit has them (.elf, .bin, .map), land in DIR/<arch>/bench/, where
# run_bench.py, run_console_bench.py and count_insns.py look for them. DIR defaults to build/bench/baseline (an
# ignored folder). The commit's default configuration is used (a fresh
# build directory has no .config): compare with a current build of the same
# configuration.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 COMMIT [DIR]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
commit=$1
dir=${2:-$root/build/bench/baseline}
sha=$(git -C "$root" rev-parse --verify "$commit^{commit}")
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

rm -rf "$dir/src"
mkdir -p "$dir/src"
git -C "$root" archive "$sha" | tar -x -C "$dir/src"
echo "$sha" >"$dir/COMMIT"
# The export has no third-party sources (they are fetched, not committed):
# the commit builds with this tree's.
[ ! -d "$root/third_party" ] || ln -s "$root/third_party" "$dir/src/third_party"
for arch in riscv64 aarch64; do
	(cd "$dir/src" && cmake --preset "$arch" >/dev/null &&
		cmake --build --preset "$arch" --target vio-blk-bench vio-blk-bench-poll >/dev/null)
	(cd "$dir/src" && cmake --build --preset "$arch" --target vio-console-bench \
		vio-console-bench-poll >/dev/null 2>&1) || echo "build_baseline: no console bench in $arch"
	(cd "$dir/src" && cmake --build --preset "$arch" --target vio-gpu-bench \
		vio-gpu-bench-poll >/dev/null 2>&1) || echo "build_baseline: no GPU bench in $arch"
	(cd "$dir/src" && cmake --build --preset "$arch" --target vio-net-bench \
		vio-net-bench-poll >/dev/null 2>&1) || echo "build_baseline: no net bench in $arch"
	mkdir -p "$dir/$arch/bench"
	for fw in vio-blk-bench vio-blk-bench-poll vio-console-bench vio-console-bench-poll \
		vio-gpu-bench vio-gpu-bench-poll vio-net-bench vio-net-bench-poll; do
		for ext in elf bin map; do
			f="$dir/src/build/$arch/bench/$fw.$ext"
			[ ! -f "$f" ] || cp "$f" "$dir/$arch/bench/"
		done
	done
done
echo "build_baseline: $(git -C "$root" log -1 --format='%h %s' "$sha") -> $dir"
