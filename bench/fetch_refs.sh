#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fetch the reference guests the block benchmark compares vio with, from
# Debian's archive, into an ignored folder (default build/bench/refs):
#
#   u-boot/qemu_arm64/u-boot.bin, u-boot/qemu-riscv64_smode/u-boot.bin
#       U-Boot's QEMU builds (u-boot-qemu), with its polled virtio driver;
#   linux/Image, linux/initrd.gz
#       Debian's arm64 kernel (linux-image-*-arm64) and an initramfs of
#       busybox-static:arm64, its virtio-mmio, virtio-pci, virtio-blk,
#       virtio-net and virtio-console modules (those the kernel does not have built in), bench/netraw.c (built here with Debian's
#       gcc-aarch64-linux-gnu and libc6-dev-arm64-cross, installed if
#       missing) as /bin/netraw and bench/linux_init.sh as /init;
#   iperf/iperf
#       Debian's iperf (version 2) for the host, the net benchmark's TCP
#       client (extracted, not installed).
#
# Usage: fetch_refs.sh [DIR]. Idempotent: does nothing when DIR is complete.
# Needs apt (it adds the arm64 architecture to dpkg to download the arm64
# packages; nothing is installed).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../build/bench/refs}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ -f "$dir/u-boot/qemu_arm64/u-boot.bin" ] &&
	[ -f "$dir/u-boot/qemu-riscv64_smode/u-boot.bin" ] &&
	[ -f "$dir/linux/Image" ] && [ -f "$dir/linux/initrd.gz" ] &&
	[ -x "$dir/iperf/iperf" ] &&
	[ "$dir/linux/initrd.gz" -nt "$here/linux_init.sh" ] &&
	[ "$dir/linux/initrd.gz" -nt "$here/netraw.c" ] &&
	[ "$dir/linux/initrd.gz" -nt "$here/fetch_refs.sh" ]; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "fetch_refs: adding the arm64 architecture to dpkg (downloads only)"
	$SUDO dpkg --add-architecture arm64
	$SUDO apt-get update -qq
fi

# The kernel the arm64 meta-package points at today: linux-image-6.1.0-N-arm64.
kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
	$SUDO apt-get update -qq
	kpkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n 1)
fi
[ -n "$kpkg" ] || { echo "fetch_refs: no linux-image-*-arm64 package found" >&2; exit 1; }

if ! command -v aarch64-linux-gnu-gcc >/dev/null ||
	! dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1; then
	echo "fetch_refs: installing gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (netraw)"
	$SUDO apt-get install -y -q gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi

debs="$dir/debs"
rm -rf "$debs" "$dir/x"
mkdir -p "$debs" "$dir/x"
echo "fetch_refs: downloading u-boot-qemu, busybox-static:arm64, $kpkg:arm64, iperf"
(cd "$debs" && apt-get download -q -o APT::Sandbox::User=root \
	u-boot-qemu busybox-static:arm64 "$kpkg:arm64" iperf >/dev/null)
for d in "$debs"/*.deb; do
	dpkg-deb -x "$d" "$dir/x"
done

mkdir -p "$dir/u-boot/qemu_arm64" "$dir/u-boot/qemu-riscv64_smode" "$dir/linux" "$dir/iperf"
cp "$dir/x/usr/bin/iperf" "$dir/iperf/"
aarch64-linux-gnu-gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$dir/netraw" \
	"$here/netraw.c"
cp "$dir/x/usr/lib/u-boot/qemu_arm64/u-boot.bin" "$dir/u-boot/qemu_arm64/"
cp "$dir/x/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin" "$dir/u-boot/qemu-riscv64_smode/"
cp "$dir"/x/boot/vmlinuz-*-arm64 "$dir/linux/Image"
kmods=$(echo "$dir"/x/lib/modules/*-arm64/kernel)
python3 "$here/mkinitramfs.py" --busybox "$dir/x/bin/busybox" --init "$here/linux_init.sh" \
	--module "$kmods/drivers/virtio/virtio_mmio.ko" \
	--module "$kmods/drivers/virtio/virtio_pci_legacy_dev.ko" \
	--module "$kmods/drivers/virtio/virtio_pci_modern_dev.ko" \
	--module "$kmods/drivers/virtio/virtio_pci.ko" \
	--module "$kmods/drivers/block/virtio_blk.ko" \
	--module "$kmods/net/core/failover.ko" \
	--module "$kmods/drivers/net/net_failover.ko" \
	--module "$kmods/drivers/net/virtio_net.ko" \
	$(f="$kmods/drivers/char/virtio_console.ko"; [ -f "$f" ] && echo "--module $f") \
	--bin "$dir/netraw" "$dir/linux/initrd.gz"
{
	for d in "$debs"/*.deb; do
		dpkg-deb -f "$d" Package Version | sed 's/^[^:]*: //' | paste -sd ' '
	done
} >"$dir/VERSIONS"
rm -rf "$dir/x" "$debs"
echo "fetch_refs: ready in $dir:"
sed 's/^/  /' "$dir/VERSIONS"
