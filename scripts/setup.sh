#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what vio needs to build, test and run on Debian 12, then fetch
# the third-party sources the build uses (lwIP, scripts/fetch_lwip.sh).
# Idempotent: when every package and source is present it only checks and
# returns, quietly.
#
# Usage: setup.sh [charts]. charts: also what `make charts` draws with
# (Debian's python3-matplotlib); nothing else needs it.
#
# Each step says what it does before it starts, and apt shows its own
# progress (downloads, unpacking), so a first run is never silent for long.
set -eu

PACKAGES="
cmake ninja-build make python3 python3-kconfiglib
gcc clang libclang-rt-14-dev
gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
gcc-aarch64-linux-gnu picolibc-aarch64-linux-gnu
qemu-system-misc qemu-system-arm opensbi
device-tree-compiler pkgconf doxygen
dpkg-dev xz-utils
qemu-system-gui xvfb xdotool x11-apps
"
# qemu-system-gui: QEMU's window (make run GUI=1); xvfb, xdotool and
# x11-apps (xwd): the window test, which types into it and looks at it.

for extra in "$@"; do
	case "$extra" in
	charts) PACKAGES="$PACKAGES python3-matplotlib" ;;
	*) echo "setup: unknown option '$extra' (charts)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "setup: missing Debian packages:$missing"
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		SUDO="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	# Another apt running (unattended upgrades) holds the lock: wait for it
	# rather than fail; apt says that it waits.
	lock="-o DPkg::Lock::Timeout=600"
	echo "setup: step 1/2: apt-get update (the package lists)"
	# shellcheck disable=SC2086
	$SUDO apt-get $lock update
	echo "setup: step 2/2: apt-get install:$missing"
	# shellcheck disable=SC2086
	$SUDO apt-get $lock install -y --no-install-recommends $missing
	echo "setup: packages done"
fi

# As the calling user: the sources belong to whoever builds.
sh "$(dirname "$0")/fetch_lwip.sh"
