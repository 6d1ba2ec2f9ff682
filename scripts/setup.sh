#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what vio needs to build, test and run on Debian 12, then fetch
# the third-party sources the build uses (lwIP, scripts/fetch_lwip.sh).
# Idempotent: when every package and source is present it only checks and
# returns.
set -eu

PACKAGES="
cmake ninja-build make python3 python3-kconfiglib
gcc clang libclang-rt-14-dev
gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
gcc-aarch64-linux-gnu picolibc-aarch64-linux-gnu
qemu-system-misc qemu-system-arm opensbi
device-tree-compiler pkgconf doxygen
dpkg-dev xz-utils
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		SUDO="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
	echo "setup: done"
fi

# As the calling user: the sources belong to whoever builds.
sh "$(dirname "$0")/fetch_lwip.sh"
