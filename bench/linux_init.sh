#!/bin/busybox sh
# SPDX-License-Identifier: Apache-2.0
# /init of the Linux reference guest (bench/run_bench.py). It loads the
# virtio-mmio, virtio-pci, virtio-blk and virtio-net modules, then reads
# one command a line from the console and answers with one line, as the
# vio bench firmwares do:
#
#   dd  read|write BS COUNT START   one O_DIRECT dd of COUNT blocks of BS bytes
#                                   from block START (COUNT 0: the empty dd)
#   par read BS COUNT N             N dd readers at once, COUNT blocks each,
#                                   on disjoint ranges (queue depth up to N)
#   irqs                            the interrupts virtio-blk took so far
#   nettx BYTES COUNT               netraw tx on the frame interface (the
#                                   NIC whose MAC ends in 01)
#   netrx COUNT IDLE_MS             netraw rx on it ("RX READY" first)
#   nc                              a busybox nc sink on TCP port 5001 of
#                                   the TCP interface (MAC ending in 02,
#                                   10.0.2.15/24), in the background, for
#                                   one connection
#   ncsrc                           a busybox nc source on TCP port 5002 of
#                                   that interface: zeros to one connection
#                                   until the peer closes (guest → host)
#   contx BYTES                     dd BYTES of zeros (64 KiB blocks) to the
#                                   virtio-serial port named "bench"
#   conrx BYTES                     "RX READY", then dd BYTES from that port
#                                   (full 64 KiB blocks) to /dev/null
#   quit                            power off
#
# Each answer is "RES ns=<elapsed> irqs=<interrupts during it>" (netraw's:
# "RES n=<frames> ns=<elapsed>"). Time is
# taken in the guest around the command, from the "now at N nsecs" line of
# /proc/timer_list (read by the shell itself: no process is started for
# it; busybox's date has no %N); nothing is printed while it runs.

/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# A module that comes before one it needs (virtio_pci before the
# virtio_pci_*_dev libraries) loads on the second pass.
retry=
for m in /lib/*.ko; do
	insmod "$m" 2>/dev/null || retry="$retry $m"
done
for m in $retry; do
	insmod "$m" || echo "BENCH ERR insmod $m"
done
# Dmesg noise on the console would cost UART time inside the timed commands.
echo 1 >/proc/sys/kernel/printk
# A block device is only waited for when there is one (device ID 2).
if grep -qx 0x0002 /sys/bus/virtio/devices/*/device 2>/dev/null; then
	i=0
	while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -b /dev/vda ] || echo "BENCH ERR no /dev/vda"
	# No I/O scheduler: requests go straight to the driver, as vio's do.
	echo none >/sys/block/vda/queue/scheduler 2>/dev/null
fi
# The net benchmark's interfaces, told apart by their MAC addresses.
FIF=
TIF=
if grep -qx 0x0001 /sys/bus/virtio/devices/*/device 2>/dev/null; then
	i=0
	while [ -z "$FIF" ] && [ $i -lt 50 ]; do
		for n in /sys/class/net/*; do
			case $(cat "$n/address") in
			*:01) FIF=${n##*/} ;;
			*:02) TIF=${n##*/} ;;
			esac
		done
		[ -n "$FIF" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$FIF" ] && ip link set "$FIF" up
	if [ -n "$TIF" ]; then
		ip addr add 10.0.2.15/24 dev "$TIF"
		ip link set "$TIF" up
		ip route add default via 10.0.2.2
	fi
fi
# The console benchmark's port: the virtio-serial port named "bench".
VPORT=
if grep -qx 0x0003 /sys/bus/virtio/devices/*/device 2>/dev/null; then
	i=0
	while [ -z "$VPORT" ] && [ $i -lt 50 ]; do
		for p in /sys/class/virtio-ports/*; do
			[ "$(cat "$p/name" 2>/dev/null)" = bench ] && VPORT=/dev/${p##*/}
		done
		[ -n "$VPORT" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$VPORT" ] || echo "BENCH ERR no virtio-serial port named bench"
fi
stty -echo 2>/dev/null

# NOW = the monotonic clock in ns. A function, not $(...): that would fork.
now_ns() {
	{
		read -r _
		read -r _
		read -r _ _ NOW _
	} </proc/timer_list
}

irqs() {
	# The virtio-mmio interrupt line(s): "virtio0", ... in /proc/interrupts.
	awk '/virtio/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }' \
		/proc/interrupts
}

run_dd() {
	if [ "$1" = read ]; then
		dd if=/dev/vda of=/dev/null bs="$2" count="$3" skip="$4" iflag=direct 2>/dev/null
	else
		dd if=/dev/zero of=/dev/vda bs="$2" count="$3" seek="$4" oflag=direct \
			conv=notrunc 2>/dev/null
	fi
}

run_par() {
	j=0
	while [ $j -lt "$4" ]; do
		dd if=/dev/vda of=/dev/null bs="$2" count="$3" skip=$((j * $3)) iflag=direct \
			2>/dev/null &
		j=$((j + 1))
	done
	wait
}

# Wait (5 s at most) until TCP port $1 (hex, upper case) is in state 0A, LISTEN.
listening() {
	i=0
	while ! grep -q ":$1 00000000:0000 0A" /proc/net/tcp && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}

now_ns
echo "BENCH READY linux $(uname -r) clock=$NOW"
while read -r cmd a b c d; do
	case "$cmd" in
	dd | par)
		i0=$(irqs)
		now_ns
		t0=$NOW
		if [ "$cmd" = dd ]; then
			run_dd "$a" "$b" "$c" "$d"
		else
			run_par "$a" "$b" "$c" "$d"
		fi
		now_ns
		t1=$NOW
		i1=$(irqs)
		echo "RES ns=$((t1 - t0)) irqs=$((i1 - i0))"
		;;
	irqs)
		echo "RES irqs=$(irqs)"
		;;
	nettx)
		netraw tx "$FIF" "$a" "$b"
		;;
	netrx)
		netraw rx "$FIF" "$a" "$b"
		;;
	nc)
		nc -l -p 5001 >/dev/null 2>&1 </dev/null &
		listening 1389
		echo "RES nc=on"
		;;
	ncsrc)
		nc -l -p 5002 </dev/zero >/dev/null 2>&1 &
		listening 138A
		echo "RES ncsrc=on"
		;;
	contx | conrx)
		i0=$(irqs)
		now_ns
		t0=$NOW
		if [ "$cmd" = contx ]; then
			dd if=/dev/zero of="$VPORT" bs=65536 count=$((a / 65536)) 2>/dev/null
		else
			echo "RX READY"
			dd if="$VPORT" of=/dev/null bs=65536 count=$((a / 65536)) iflag=fullblock \
				2>/dev/null
		fi
		now_ns
		t1=$NOW
		i1=$(irqs)
		echo "RES ns=$((t1 - t0)) irqs=$((i1 - i0))"
		;;
	quit)
		poweroff -f
		;;
	'')
		;;
	*)
		echo "BENCH ERR unknown command $cmd"
		;;
	esac
done
poweroff -f
