#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetch lwIP's sources (Debian's lwip source package, upstream 2.1.3 with
# Debian's patches) into third_party/lwip, for adapters/lwip. No other
# project's code is kept in this repository: the build takes lwIP from here.
#
# The system's apt configuration is left alone: apt reads a source list and
# keeps its package lists in third_party/.lwip-apt, so no deb-src line is
# needed on the machine. The mirror is the one the system's deb822 sources
# name for Debian, else deb.debian.org. Idempotent: once third_party/lwip
# holds this version it only checks a stamp file and returns.
set -eu

VERSION="2.1.3"
SUITE="bookworm"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST="$ROOT/third_party/lwip"
WORK="$ROOT/third_party/.lwip-apt"
STAMP="$DEST/.vio-fetched"

if [ -f "$STAMP" ] && grep -qx "lwip $VERSION" "$STAMP"; then
	exit 0
fi

mirror=""
if [ -r /etc/apt/sources.list.d/debian.sources ]; then
	# The first URIs line that names a Debian archive (not debian-security).
	mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/*[[:space:]]*$/\1/p' \
		/etc/apt/sources.list.d/debian.sources | head -n 1)
fi
[ -n "$mirror" ] || mirror="http://deb.debian.org/debian"

echo "fetch_lwip: lwIP $VERSION from Debian's lwip source package ($mirror $SUITE) into third_party/lwip"
rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/src"
echo "deb-src $mirror $SUITE main" >"$WORK/sources.list"
apt_opts="-q -o Dir::Etc::SourceList=$WORK/sources.list -o Dir::Etc::SourceParts=/nonexistent
 -o Dir::State::Lists=$WORK/lists -o Dir::Cache=$WORK/cache -o APT::Sandbox::User=root"
echo "fetch_lwip: apt-get update of that one source list"
# shellcheck disable=SC2086
apt-get $apt_opts update >"$WORK/update.log" 2>&1 || {
	cat "$WORK/update.log" >&2
	echo "fetch_lwip: apt-get update of the source list failed" >&2
	exit 1
}
echo "fetch_lwip: downloading the source package"
# shellcheck disable=SC2086
(cd "$WORK/src" && apt-get $apt_opts source --download-only lwip) >"$WORK/source.log" 2>&1 || {
	cat "$WORK/source.log" >&2
	echo "fetch_lwip: apt-get source lwip failed" >&2
	exit 1
}

dsc=""
for f in "$WORK"/src/lwip_"$VERSION"*.dsc; do
	[ -f "$f" ] && dsc="$f" && break
done
if [ -z "$dsc" ]; then
	echo "fetch_lwip: $SUITE has no lwip $VERSION source package:" >&2
	ls "$WORK/src" >&2
	exit 1
fi
echo "fetch_lwip: unpacking $(basename "$dsc")"
rm -rf "$DEST" "$WORK/unpacked"
if command -v dpkg-source >/dev/null 2>&1; then
	# Checks the files against the .dsc and applies Debian's patches.
	(cd "$WORK" && dpkg-source --no-check -x "$dsc" unpacked) >"$WORK/unpack.log" 2>&1 || {
		cat "$WORK/unpack.log" >&2
		exit 1
	}
else
	# Without dpkg-dev: the upstream tarball, then Debian's patches in order.
	mkdir -p "$WORK/unpacked"
	tar -xf "$WORK"/src/lwip_*.orig.tar.* -C "$WORK/unpacked" --strip-components=1
	tar -xf "$WORK"/src/lwip_*.debian.tar.* -C "$WORK/unpacked"
	if command -v patch >/dev/null 2>&1 && [ -f "$WORK/unpacked/debian/patches/series" ]; then
		grep -v '^#' "$WORK/unpacked/debian/patches/series" | while read -r p; do
			[ -n "$p" ] || continue
			patch -s -p1 -d "$WORK/unpacked" <"$WORK/unpacked/debian/patches/$p"
		done
	else
		echo "fetch_lwip: no dpkg-source or patch: upstream sources without Debian's patches"
	fi
fi
if [ ! -f "$WORK/unpacked/src/include/lwip/init.h" ]; then
	echo "fetch_lwip: the unpacked package has no src/include/lwip/init.h" >&2
	exit 1
fi
mv "$WORK/unpacked" "$DEST"
rm -rf "$WORK"
echo "lwip $VERSION" >"$STAMP"
echo "fetch_lwip: done"
