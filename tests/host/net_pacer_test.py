#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The net benchmark's paced sender (bench/net_pacer.c), checked from the outside.

  net_pacer_test.py NET_PACER

The benchmark's paced receive rates are only as good as what the sender
puts on the wire: every frame it says it sent must arrive, whole, with the
header the guests look for (broadcast, source 02:00:00:00:00:09, EtherType
0x88b5), at the size asked, on 127.0.0.1. This receives them on a loopback
UDP socket like a guest's QEMU would. Never a timing: the rate asked is
low enough that a loaded host drops nothing, and only counts and bytes are
checked. Bad arguments must be refused (status 2) without sending.
"""
import socket
import subprocess
import sys


def receive_all(sock, n):
    """Every datagram waiting: n of them, then a short look for any extra."""
    got = []
    try:
        while len(got) < n + 1:
            sock.settimeout(5 if len(got) < n else 0.2)
            got.append(sock.recv(4096))
    except socket.timeout:
        pass
    return got


def check(exe, size, n, rate):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    r = subprocess.run([exe, str(port), str(size), str(n), str(rate)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f"net_pacer failed: {r.stderr}"
    fields = dict(x.split("=") for x in r.stdout.split()[1:])
    assert r.stdout.startswith("SENT") and int(fields["n"]) == n, r.stdout
    assert int(fields["errors"]) == 0, r.stdout
    frames = receive_all(sock, n)
    sock.close()
    assert len(frames) == n, f"{size} B: {len(frames)} frames arrived of {n}"
    want = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x09" + b"\x88\xb5" + bytes(size - 14)
    for i, f in enumerate(frames):
        assert f == want, f"{size} B: frame {i} differs ({len(f)} bytes)"


def main():
    exe = sys.argv[1]
    for size, n in ((60, 500), (64, 300), (1514, 300)):
        check(exe, size, n, 20000)
    for bad in (["0", "64", "10", "100"], ["9", "59", "10", "100"], ["9", "1515", "10", "100"],
                ["9", "64", "0", "100"], ["9", "64", "10", "0"], ["9", "64"]):
        r = subprocess.run([exe, *bad], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, f"net_pacer {' '.join(bad)}: status {r.returncode}"
    print("net_pacer: frames and refusals as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
