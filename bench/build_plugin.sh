#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build bench/insn_plugin.c, the instruction-counting QEMU plugin, into an
# ignored folder (default build/bench/plugin/insn_plugin.so).
#
# A TCG plugin must be compiled against qemu-plugin.h of the QEMU that loads
# it, and Debian ships that header only in QEMU's source package. This
# script downloads the source package of the installed QEMU with apt-get
# source (through a private deb-src list of its own, so the machine's apt
# configuration is left alone) and takes the one header out of it. Nothing
# is installed and nothing of QEMU's lands in the repository.
#
# Usage: build_plugin.sh [DIR]. Idempotent: rebuilds only when the plugin's
# source is newer than the plugin.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../build/bench/plugin}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
so="$dir/insn_plugin.so"
hdr="$dir/include/qemu-plugin.h"

if [ ! -f "$hdr" ]; then
	# The installed QEMU's source version (e.g. 1:7.2+dfsg-7+deb12u18).
	ver=$(dpkg-query -W -f='${source:Version}' qemu-system-misc 2>/dev/null ||
		dpkg-query -W -f='${source:Version}' qemu-system-arm)
	[ -n "$ver" ] || { echo "build_plugin: QEMU is not installed" >&2; exit 1; }
	. /etc/os-release
	apt="$dir/apt"
	mkdir -p "$apt/lists/partial" "$apt/src"
	# The same archive the machine's deb lines use, as deb-src.
	{
		echo "deb-src http://deb.debian.org/debian $VERSION_CODENAME main"
		echo "deb-src http://deb.debian.org/debian $VERSION_CODENAME-updates main"
		echo "deb-src http://deb.debian.org/debian-security $VERSION_CODENAME-security main"
	} >"$apt/sources.list"
	opts="-o Dir::Etc::SourceList=$apt/sources.list -o Dir::Etc::SourceParts=/dev/null
	      -o Dir::State::Lists=$apt/lists -o APT::Sandbox::User=root"
	echo "build_plugin: fetching the source of qemu $ver for qemu-plugin.h"
	# shellcheck disable=SC2086
	apt-get -q $opts update >/dev/null
	# shellcheck disable=SC2086
	(cd "$apt/src" && apt-get -q $opts source --download-only "qemu=$ver" >/dev/null)
	orig=$(ls "$apt/src"/qemu_*.orig.tar.* | head -n 1)
	mkdir -p "$dir/include"
	tar -xf "$orig" -C "$dir/include" --wildcards --strip-components=3 '*/include/qemu/qemu-plugin.h'
	rm -rf "$apt/src"
fi

if [ ! -f "$so" ] || [ "$here/insn_plugin.c" -nt "$so" ]; then
	${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -fPIC -shared -fvisibility=hidden \
		-Wall -Wextra -Werror -I"$dir/include" -o "$so" "$here/insn_plugin.c"
	echo "build_plugin: $so"
fi
