#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one network QEMU test with the shell firmware and check it from the host.

  test_net.py --arch riscv64|aarch64 --virtio legacy|modern --case CASE
              [--boot-suffix .elf|.bin] [--timeout SECONDS] [--mib N] FIRMWARE.elf

Cases:

  echo   QEMU's user-mode network (restrict=on) with a TCP forward from a free
         port on 127.0.0.1 to the guest's port 7. The shell gets its address
         by `dhcp` (QEMU's server leases 10.0.2.15), starts `echo 7`, and the
         host sends --mib MiB of a known pattern through the forward while it
         reads the echo back; every byte must come back in order. `ifconfig`
         must then count at least that many bytes each way. Then `iperf`
         starts lwIP's iperf 2 server and the host sends it --mib MiB as an
         iperf 2 client does (128 KiB blocks, each led by the 24-byte
         settings header); the server must report the transfer done (lwiperf
         leaves the rest of the header's segment out of its count).

  frames a socket netdev that carries raw Ethernet frames over UDP between
         QEMU and this script (127.0.0.1 only). The guest takes a static
         address (`ifconfig 192.168.77.2/24`) and pings 192.168.77.1; the
         script plays that host: it answers the guest's ARP request and its
         ICMP echo requests, after checking each frame (the guest's MAC,
         the IP header and ICMP checksums), and the guest must print the
         replies.
"""
import argparse
import hashlib
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402

MIB = 1 << 20
GUEST_ECHO_PORT = 7
GUEST_IPERF_PORT = 5001
IPERF_BLOCK = 128 * 1024


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on now (QEMU binds it just after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payload(n):
    """n bytes that differ at every offset of a 32-byte period, so a lost or repeated
    segment shows."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(i.to_bytes(8, "little")).digest()
        i += 1
    return bytes(out[:n])


def echo_through(port, data, deadline):
    """Send data to 127.0.0.1:port while reading the echo; returns (echoed bytes, seconds)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=max(1, deadline - time.monotonic()))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    err = []

    def sender():
        try:
            view = memoryview(data)
            while view:
                n = sock.send(view[:65536])
                view = view[n:]
            sock.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t0 = time.monotonic()
    th = threading.Thread(target=sender, daemon=True)
    th.start()
    got = bytearray()
    try:
        while len(got) < len(data):
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        err.append(e)
    secs = time.monotonic() - t0
    th.join(2)
    sock.close()
    if err:
        raise err[0]
    return bytes(got), secs


def iperf_send(port, total, deadline):
    """Send total bytes to an iperf 2 server as its client does; returns seconds."""
    # flags 0 (no answer test), 1 thread, port, buffer length, window, amount.
    header = struct.pack(">6I", 0, 1, GUEST_IPERF_PORT, IPERF_BLOCK, 0, total)
    block = header + bytes(IPERF_BLOCK - len(header))
    sock = socket.create_connection(("127.0.0.1", port), timeout=max(1, deadline - time.monotonic()))
    t0 = time.monotonic()
    sent = 0
    while sent < total:
        n = min(IPERF_BLOCK, total - sent)
        sock.sendall(block[:n])
        sent += n
    sock.shutdown(socket.SHUT_WR)
    # The server closes when it has counted everything.
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    while sock.recv(4096):
        pass
    secs = time.monotonic() - t0
    sock.close()
    return secs


def case_echo(args, fails):
    port = free_port()
    iperf_port = free_port()
    netdev = qemu.user_netdev([(port, GUEST_ECHO_PORT), (iperf_port, GUEST_IPERF_PORT)])
    cmd = qemu.build_command(args.arch, args.firmware, args.virtio, "net", [],
                             boot_suffix=args.boot_suffix, interactive=False,
                             net_backends=[netdev], qemu=args.qemu)
    if not os.path.exists(cmd.boot_image):
        fails.append(f"{cmd.boot_image} not found")
        return ""
    print("$ " + " ".join(cmd.argv))
    sys.stdout.flush()
    proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    con = run_test.Console(proc)
    deadline = time.monotonic() + args.timeout

    def step(line, *regexes):
        start = len(con.log())
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
        end = con.wait_for(run_test.PROMPT, start, deadline)
        if not fails.check(end is not None, f"no prompt after '{line}'"):
            raise TimeoutError
        out = con.log()[start:end - len(run_test.PROMPT)].replace("\r", "")
        for rx in regexes:
            fails.check(re.search(rx, out, re.M) is not None, f"'{line}': no /{rx}/ in {out!r}")
        return out

    try:
        if not fails.check(con.wait_for(run_test.PROMPT, 0, deadline) is not None, "no prompt"):
            raise TimeoutError
        fails.check("net: lwIP" in con.log(), "the banner has no 'net: lwIP' line")
        step("ifconfig", r"link up", r"ether\s+52:54:00:")
        # restrict=on: QEMU leases no router, only the address.
        step("dhcp", r"^dhcp: lease 10\.0\.2\.15 netmask 255\.255\.255\.0 gateway \S+ from 10\.0\.2\.2")
        step("echo 7", r"listening on TCP port 7")
        step("ping 10.0.2.2 2", r"bytes from 10\.0\.2\.2: seq=1", r"2 sent, 2 received")
        data = payload(args.mib * MIB)
        try:
            got, secs = echo_through(port, data, deadline)
        except OSError as e:
            fails.append(f"echo through 127.0.0.1:{port}: {e}")
            got, secs = b"", 0
        if got == data:
            print(f"ok: {len(data)} bytes echoed intact in {secs:.2f} s "
                  f"({len(data) / MIB / max(secs, 1e-6):.2f} MiB/s)")
        else:
            i = next((k for k in range(min(len(got), len(data))) if got[k] != data[k]),
                     min(len(got), len(data)))
            fails.append(f"echo: {len(got)} of {len(data)} bytes came back, first difference "
                         f"at byte {i}")
        out = step("ifconfig")
        m = re.search(r"rx\s+(\d+) frames, (\d+) bytes", out)
        if fails.check(m is not None, f"ifconfig has no rx counters: {out!r}"):
            fails.check(int(m.group(2)) >= len(data), f"rx bytes {m.group(2)} < {len(data)}")
        m = re.search(r"tx\s+(\d+) frames, (\d+) bytes", out)
        if fails.check(m is not None, f"ifconfig has no tx counters: {out!r}"):
            fails.check(int(m.group(2)) >= len(data), f"tx bytes {m.group(2)} < {len(data)}")
        step("echo", rf"{len(data)} bytes echoed")
        step("iperf", rf"TCP server on port {GUEST_IPERF_PORT}")
        mark = len(con.log())
        try:
            secs = iperf_send(iperf_port, len(data), deadline)
            print(f"ok: iperf: {len(data)} bytes sent in {secs:.2f} s (host side)")
        except OSError as e:
            fails.append(f"iperf through 127.0.0.1:{iperf_port}: {e}")
        end = con.wait_for(" kbit/s", mark, deadline)
        report = con.log()[mark:end or len(con.log())].replace("\r", "")
        m = re.search(r"iperf: [\d.]+:\d+: (\w+), (\d+) bytes in (\d+) ms, (\d+) kbit/s", report)
        if fails.check(m is not None, f"no iperf report: {report!r}"):
            # lwiperf counts only the 24 header bytes of the segment that brings
            # the header (it frees the rest of that pbuf uncounted): one MSS less.
            n = int(m.group(2))
            fails.check(m.group(1) == "done" and len(data) - 1460 <= n <= len(data),
                        f"iperf report: {m.group(0)}, want done with {len(data)} bytes "
                        "(less at most the rest of the first segment)")
            print(f"ok: guest iperf: {m.group(0)}")
        proc.stdin.write(b"poweroff\n")
        proc.stdin.flush()
    except (TimeoutError, BrokenPipeError):
        pass
    try:
        rc = proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        fails.append(f"QEMU still running after {args.timeout:g} s; killed")
    con.join()
    fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
    return con.log() + ("\n---- QEMU stderr\n" + con.err if con.err else "")


def csum(data):
    """The Internet checksum of data (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


HOST_MAC = bytes.fromhex("525400aabbcc")
HOST_IP = bytes([192, 168, 77, 1])
GUEST_IP = bytes([192, 168, 77, 2])


class FramePeer(threading.Thread):
    """The host end of a socket netdev: answers ARP and ICMP echo for HOST_IP."""

    def __init__(self, sock, fails):
        super().__init__(daemon=True)
        self.sock = sock
        self.fails = fails
        self.qemu_addr = None
        self.arp_requests = 0
        self.echo_requests = 0
        self.guest_mac = None
        self.stop = threading.Event()

    def send(self, frame):
        self.sock.sendto(frame.ljust(60, b"\0"), self.qemu_addr)

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                f, addr = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.qemu_addr = addr
            if len(f) < 14:
                continue
            dst, src, etype = f[0:6], f[6:12], struct.unpack(">H", f[12:14])[0]
            if etype == 0x0806 and len(f) >= 42 and f[38:42] == HOST_IP:
                self.arp_requests += 1
                self.guest_mac = src
                self.fails.check(f[28:32] == GUEST_IP, f"ARP from {f[28:32].hex()}")
                reply = (src + HOST_MAC + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2)
                         + HOST_MAC + HOST_IP + src + f[28:32])
                self.send(reply)
            elif etype == 0x0800 and len(f) >= 34 and f[30:34] == HOST_IP:
                ihl = (f[14] & 15) * 4
                ip = f[14:14 + ihl]
                total = struct.unpack(">H", f[16:18])[0]
                self.fails.check(csum(ip) == 0, "IP header checksum of a guest frame")
                icmp = f[14 + ihl:14 + total]
                if f[23] != 1 or not icmp or icmp[0] != 8:
                    continue
                self.echo_requests += 1
                self.fails.check(csum(icmp) == 0, "ICMP checksum of the guest's echo request")
                self.fails.check(dst == HOST_MAC, f"echo request to {dst.hex()}")
                rep = bytearray(b"\0" + icmp[1:])
                rep[2:4] = b"\0\0"
                rep[2:4] = struct.pack(">H", csum(bytes(rep)))
                iph = bytearray(ip[:20])
                iph[12:16], iph[16:20] = HOST_IP, f[26:30]
                iph[8] = 64
                iph[10:12] = b"\0\0"
                iph[10:12] = struct.pack(">H", csum(bytes(iph)))
                self.send(src + HOST_MAC + b"\x08\x00" + bytes(iph) + bytes(rep))


def case_frames(args, fails):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    host_port = sock.getsockname()[1]
    qemu_port = free_port_udp()
    netdev = f"socket,udp=127.0.0.1:{host_port},localaddr=127.0.0.1:{qemu_port}"
    cmd = qemu.build_command(args.arch, args.firmware, args.virtio, "net", [],
                             boot_suffix=args.boot_suffix, interactive=False,
                             net_backends=[qemu.check_netdev(netdev)], qemu=args.qemu)
    print("$ " + " ".join(cmd.argv))
    sys.stdout.flush()
    peer = FramePeer(sock, fails)
    peer.start()
    proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    con = run_test.Console(proc)
    deadline = time.monotonic() + args.timeout

    def step(line, *regexes):
        start = len(con.log())
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
        end = con.wait_for(run_test.PROMPT, start, deadline)
        if not fails.check(end is not None, f"no prompt after '{line}'"):
            raise TimeoutError
        out = con.log()[start:end - len(run_test.PROMPT)].replace("\r", "")
        for rx in regexes:
            fails.check(re.search(rx, out, re.M) is not None, f"'{line}': no /{rx}/ in {out!r}")
        return out

    try:
        if not fails.check(con.wait_for(run_test.PROMPT, 0, deadline) is not None, "no prompt"):
            raise TimeoutError
        step("ifconfig 192.168.77.2/24", r"inet\s+192\.168\.77\.2 netmask 255\.255\.255\.0")
        # QEMU sends the guest's first frame to the host port: then the peer knows QEMU's.
        step("ping 192.168.77.1 3", r"bytes from 192\.168\.77\.1: seq=1",
             r"bytes from 192\.168\.77\.1: seq=3", r"3 sent, 3 received")
        fails.check(peer.arp_requests >= 1, "the guest sent no ARP request")
        fails.check(peer.echo_requests == 3, f"{peer.echo_requests} echo requests, want 3")
        out = step("ifconfig")
        m = re.search(r"ether\s+([0-9a-f:]{17})", out)
        if fails.check(m is not None and peer.guest_mac is not None, "no MAC to compare"):
            fails.check(bytes.fromhex(m.group(1).replace(":", "")) == peer.guest_mac,
                        f"ifconfig says {m.group(1)}, frames came from {peer.guest_mac.hex()}")
        print(f"ok: {peer.arp_requests} ARP and {peer.echo_requests} echo requests answered")
        proc.stdin.write(b"poweroff\n")
        proc.stdin.flush()
    except (TimeoutError, BrokenPipeError):
        pass
    try:
        rc = proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        fails.append(f"QEMU still running after {args.timeout:g} s; killed")
    peer.stop.set()
    peer.join(2)
    sock.close()
    con.join()
    fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
    return con.log() + ("\n---- QEMU stderr\n" + con.err if con.err else "")


def free_port_udp():
    """A UDP port on 127.0.0.1 nobody uses now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CASES = {"echo": case_echo, "frames": case_frames}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
    p.add_argument("--virtio", required=True, choices=("legacy", "modern"))
    p.add_argument("--case", required=True, choices=sorted(CASES))
    p.add_argument("--boot-suffix", default=None)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--mib", type=int, default=10, help="MiB the echo case sends")
    p.add_argument("--qemu", default=None)
    p.add_argument("firmware")
    args = p.parse_args()
    fails = run_test.Failures()
    try:
        log = CASES[args.case](args, fails)
    except qemu.QemuError as e:
        fails.append(str(e))
        log = ""
    print("---- console " + "-" * 60)
    print(log.replace("\r", ""), end="" if log.endswith("\n") else "\n")
    print("-" * 73)
    if fails:
        for msg in fails:
            print(f"FAIL: {msg}")
        return 1
    print(f"PASS (net {args.case}, {args.arch} {args.virtio})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
