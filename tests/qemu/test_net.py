#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one network QEMU test with the shell firmware and check it from the host.

  test_net.py --arch riscv64|aarch64 --virtio legacy|modern --case CASE
              [--boot-suffix .elf|.bin] [--timeout SECONDS] [--mib N]
              [--passes N] [--props PROPS] [--expect KEY=VALUE]...
              [--pairs N] [--frames N] FIRMWARE.elf

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

  raw    FIRMWARE is tests/qemu/net_test.c (vio_net alone, no TCP/IP stack)
         on a UDP socket netdev to this script. After the guest's INFO line
         (checked against --expect: mtu, mrg, csum, guest_csum, ctrl_vq;
         --props adds virtio-net-device properties) the script sends
         --passes rounds over every frame size from 60 to MTU + 14 bytes,
         each frame numbered and filled with a pattern derived from its
         number, and the guest checks every byte and the order; then the
         guest sends the same the other way and the script checks. Each
         side acknowledges, and the sender keeps a window of frames and
         bytes small enough that neither UDP socket can overflow (the
         kernel's per-socket drop counters in /proc/net/udp must stay 0:
         a drop there is the host's, not the guest's). Frames beyond the
         MTU must be refused with VIO_EMSGSIZE and never reach the script.
         The guest's counters (vio_net_get_stats) must equal what the
         script counted, frame for frame and byte for byte. Last, QMP
         set_link takes the link down and up while the guest idles in its
         service loop; its link_changed callback must report both. With
         --expect-refused REGEX the driver must instead refuse the device at
         probe with that message (and the firmware find no net device).

  mq     FIRMWARE is net_test.c built with 4 queue pairs, its net device
         (mq=on) on a vhost-user backend of --pairs pairs (vhost_user.py, a
         Unix socket; guest RAM a shared memfd), which is the device's data
         path. The guest sets 2, 1, 4 and 5 pairs through the control queue
         (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; 5 must be VIO_ERANGE), and after
         each the backend must have been told by QEMU (SET_VRING_ENABLE) to
         run exactly the rings of the pairs in use. Then --frames frames each
         way on every pair at once: the backend spreads the host's frames over
         the receive queues and the guest queues round-robin on every
         transmit queue; each frame is checked for its pair, per-pair order,
         length and bytes, and the counts per pair on both sides.

  csum   net_test.c on a vhost-user backend that offers VIRTIO_NET_F_CSUM
         and GUEST_CSUM. Transmit: --frames UDP and TCP frames over IPv4,
         three in four with NEEDS_CSUM; the backend checks csum_start and
         csum_offset, completes the sum and compares it with a reference
         computed over the frame, and the fourth frame's software sum.
         Receive: --frames frames, right checksum without flags, wrong with
         DATA_VALID, the pseudo-header sum with NEEDS_CSUM, wrong without
         flags; the guest checks the flags the driver reports for each and
         counts them. Among them, frames the driver must drop and count in
         rx_errors: NEEDS_CSUM with the field past the frame's end, and a GSO
         type nobody negotiated.

  lwip   FIRMWARE is the shell (lwIP) on the vhost-user backend, which plays
         192.168.79.1: answers ARP and connects to the shell's `echo 7`
         three times, its segments checksummed right (no flags), wrong
         with DATA_VALID, and partial with NEEDS_CSUM: each must be
         accepted and 300 bytes echoed. A SYN and a data segment with a
         wrong checksum and no flags must be dropped. Every TCP segment
         lwIP sends must ask for checksum offload at the right place and
         be right once completed; ifconfig's adapter counters must agree.

  pair   two shell guests on one stream socket netdev (listen/connect on
         127.0.0.1): FIRMWARE on --arch/--virtio, and --peer-firmware on
         --peer-arch/--peer-virtio. Static addresses (ifconfig), the first
         serves `echo 7`, each pings the other, the peer sends --mib MiB
         with `tcpsend` and must get every byte back intact; the echo
         service must count them, and each side's frame and byte counters
         must equal what the other received. Exit status 77 (skipped) when
         the peer's firmware was not built.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402
import vhost_user  # noqa: E402

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
                             transport=args.transport,
                             net_backends=[netdev], qemu=args.qemu, ring=args.ring)
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
                             transport=args.transport,
                             net_backends=[qemu.check_netdev(netdev)], qemu=args.qemu,
                             ring=args.ring)
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


# ---------------------------------------------------------------------------
# raw: tests/qemu/net_test.c (vio_net alone) against this script, frame by frame.

ETHERTYPE = 0x88B5
RAW_HDR = 22
MIN_FRAME = 60
T_DATA, T_ACK, T_BIG, T_END = 1, 2, 3, 4
PAT_SPAN = 65536


def raw_pattern():
    """The xorshift32 stream net_test.c builds (pat_init), twice PAT_SPAN long."""
    out = bytearray(2 * PAT_SPAN)
    x = 0x12345678
    for i in range(len(out)):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


class RawPeer:
    """The host end of the raw-frame exchange, on one UDP socket QEMU's netdev talks to."""

    def __init__(self, sock, qemu_addr, guest_mac, mtu, fails):
        self.sock = sock
        self.qemu = qemu_addr
        self.guest_mac = guest_mac
        self.max = mtu + 14
        self.fails = fails
        self.pat = raw_pattern()
        self.sent = self.sent_bytes = 0         # every frame this script sent
        self.got = self.got_bytes = 0           # every frame QEMU delivered here
        self.big = 0                            # frames the guest had to refuse
        self.end = False

    def frame_len(self, seq):
        return MIN_FRAME + seq % (self.max - MIN_FRAME + 1)

    def payload(self, seq, direction, n):
        off = (seq * 251 + direction * 30011) & (PAT_SPAN - 1)
        return self.pat[off:off + n]

    def hdr(self, kind, seq, length):
        return (self.guest_mac + HOST_MAC + struct.pack(">HBBIH", ETHERTYPE, kind, 0, seq, length))

    def send(self, f):
        self.sock.sendto(f, self.qemu)
        self.sent += 1
        self.sent_bytes += len(f)

    def ctl(self, kind, seq):
        self.send(self.hdr(kind, seq, MIN_FRAME).ljust(MIN_FRAME, b"\0"))

    def recv(self, timeout):
        """The next frame from the guest (None on timeout), counted and sorted."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            f, addr = self.sock.recvfrom(1 << 17)
        except socket.timeout:
            return None
        self.fails.check(addr == self.qemu, f"a datagram from {addr}, not QEMU's {self.qemu}")
        self.got += 1
        self.got_bytes += len(f)
        if len(f) < RAW_HDR or struct.unpack(">H", f[12:14])[0] != ETHERTYPE:
            self.fails.append(f"guest frame of {len(f)} bytes is not a test frame: {f[:32].hex()}")
            return None
        if f[14] == T_BIG:
            self.big += 1
        if f[14] == T_END:
            self.end = True
        return f

    def h2g(self, n, window, window_bytes, deadline):
        """Send n DATA frames, never more than window frames or window_bytes bytes
        ahead of the guest's ACKs (at least one frame)."""
        seq = acked = 0
        flight = 0  # bytes of frames acked..seq-1
        while acked < n:
            if time.monotonic() > deadline:
                self.fails.append(f"h2g: {acked} of {n} frames acknowledged by the deadline")
                return False
            while seq < n and seq - acked < window and (
                    seq == acked or flight + self.frame_len(seq) <= window_bytes):
                length = self.frame_len(seq)
                self.send(self.hdr(T_DATA, seq, length) + self.payload(seq, 0, length - RAW_HDR))
                flight += length
                seq += 1
            f = self.recv(min(1.0, deadline - time.monotonic()))
            if f is None:
                continue
            if f[14] != T_ACK:
                self.fails.append(f"h2g: guest frame of type {f[14]} before the last ACK")
                continue
            a = struct.unpack(">I", f[16:20])[0]
            if not self.fails.check(acked <= a <= seq, f"h2g: ACK {a} after {acked}, {seq} sent"):
                return False
            flight -= sum(self.frame_len(k) for k in range(acked, a))
            acked = a
        return True

    def g2h(self, n, every, window_bytes, deadline):
        """Take n DATA frames from the guest, checking each; ACK every `every` frames
        and every window_bytes / 2 bytes."""
        want = bad = unacked = 0
        while want < n:
            if time.monotonic() > deadline:
                self.fails.append(f"g2h: {want} of {n} frames by the deadline")
                return False
            f = self.recv(min(1.0, deadline - time.monotonic()))
            if f is None or f[14] != T_DATA:
                if f is not None:
                    self.fails.append(f"g2h: guest frame of type {f[14]} among the data")
                continue
            seq, length = struct.unpack(">IH", f[16:22])
            ok = (f[0:6] == HOST_MAC and f[6:12] == self.guest_mac and seq == want
                  and len(f) == length == self.frame_len(seq)
                  and f[RAW_HDR:] == self.payload(seq, 1, length - RAW_HDR))
            if not ok:
                bad += 1
                if bad <= 8:
                    why = (f"seq {seq}, want {want}" if seq != want else
                           f"{len(f)} bytes (says {length}), want {self.frame_len(seq)}"
                           if len(f) != self.frame_len(seq) or length != len(f) else
                           "addresses" if f[0:12] != HOST_MAC + self.guest_mac else
                           "payload differs at byte " + str(RAW_HDR + next(
                               i for i, (a, b) in enumerate(zip(f[RAW_HDR:], self.payload(
                                   seq, 1, length - RAW_HDR))) if a != b)))
                    self.fails.append(f"g2h frame {want}: {why}")
            want = max(want, seq) + 1
            unacked += len(f)
            if want % every == 0 or unacked >= window_bytes // 2 or want >= n:
                self.ctl(T_ACK, want)
                unacked = 0
        # Complete, if not intact (each bad frame is a failure already).
        return True

    def until_end(self, deadline):
        while not self.end and time.monotonic() < deadline:
            f = self.recv(min(1.0, deadline - time.monotonic()))
            if f is not None and f[14] not in (T_BIG, T_END):
                self.fails.append(f"guest frame of type {f[14]} after the data")
        return self.end


def rmem_default():
    try:
        with open("/proc/sys/net/core/rmem_default") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 212992  # Linux's usual default


def udp_drops(ports):
    """{port: datagrams the kernel dropped on the 127.0.0.1 UDP socket bound to it}."""
    out = {p: 0 for p in ports}
    try:
        with open("/proc/net/udp") as f:
            for ln in f.readlines()[1:]:
                col = ln.split()
                addr, _, port = col[1].partition(":")
                if addr == "0100007F" and int(port, 16) in out:
                    out[int(port, 16)] = int(col[-1])
    except (OSError, ValueError, IndexError):
        pass
    return out


def raw_refused(args, fails, proc, con, sock, tmp, deadline):
    """The device must be turned away at probe with the driver's message: the
    firmware then finds no live net device and says so (its one FAIL)."""
    try:
        rc = proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        fails.append(f"QEMU still running after {args.timeout:g} s; killed")
    sock.close()
    shutil.rmtree(tmp, ignore_errors=True)
    con.join()
    log = con.log()
    fails.check(re.search(args.expect_refused, log, re.M) is not None,
                f"console lacks /{args.expect_refused}/")
    fails.check(re.search(r"^FAIL net: no live net device", log, re.M) is not None,
                "the firmware found a live net device")
    fails.check("READY" not in log, "the firmware went on with the device")
    fails.check(rc == 1, f"QEMU exit status {rc}, want 1 (the firmware's one FAIL)")
    return log + ("\n---- QEMU stderr\n" + con.err if con.err else "")


# What net_test.c's FILTER sets (5.1.6.5.1, 5.1.6.5.2), as QMP query-rx-filter shows it.
FILTER_MAC = "02:76:69:6f:72:31"
FILTER_MC = sorted(["01:00:5e:00:00:fb", "33:33:00:00:00:fb"])


def rx_filter(qmp):
    # Every NIC's filter (the device has no id; this case has one NIC).
    r = qmp.command("query-rx-filter")
    return r[0] if isinstance(r, list) and len(r) == 1 else {}


def raw_recover(proc, con, qmp, start_mac, fails, deadline):
    """--recover: the guest sets an address, a filter table and modes, then fails
    and recovers its device; QEMU's own view (query-rx-filter) must show what
    the guest set before and after: the reset forgot it (QEMU's reset turns
    promiscuous mode on, empties the tables and restores the configured
    address), so only a driver that sends it again passes. The frames of the
    raw case then flow both ways through the recovered device, addressed to
    start_mac, which only the unicast table lets in."""
    want = {"main-mac": FILTER_MAC, "promiscuous": False, "multicast": "all",
            "unicast-table": [start_mac], "multicast-table": FILTER_MC}

    def check(when):
        got = rx_filter(qmp)
        # QEMU lists a table newest first: the order is not the guest's.
        for key in ("unicast-table", "multicast-table"):
            if isinstance(got.get(key), list):
                got[key] = sorted(got[key])
        for key, val in want.items():
            fails.check(got.get(key) == val,
                        f"{when}: QEMU's rx filter {key} is {got.get(key)!r}, want {val!r}")
        return got

    for line, answer in (("FILTER", r"^FILTER .*$"), ("RECOVER", r"^RECOVER .*$")):
        mark = len(con.log())
        proc.stdin.write(f"{line}\n".encode())
        proc.stdin.flush()
        pos = con.wait_for(line + " ", mark, deadline)
        if not fails.check(pos is not None, f"no answer to {line}"):
            raise TimeoutError
        con.wait_for("\n", pos, deadline)
        reply = re.search(answer, con.log()[pos - len(line) - 1:], re.M).group(0).strip()
        print(f"guest: {reply}")
        if line == "FILTER":
            fails.check(reply == "FILTER mac=OK table=OK allmulti=OK promisc=OK",
                        f"FILTER: {reply}")
            check("after FILTER")
        else:
            fails.check(re.match(r"RECOVER rc=OK state=ready mac=" + FILTER_MAC + " link=1$",
                                 reply) is not None, f"RECOVER: {reply}")
            got = check("after the recovery")
            shown = {k: got.get(k) for k in sorted(want)}
            print(f"QEMU's rx filter after the recovery: {json.dumps(shown)}")


T_PRE = 6
RP_PRE, RP_FRAMES = 8, 4  # net_test.c's RESETPAIR


def virtio_path(qmp, name):
    """The QOM path of the one virtio device called name (QMP x-query-virtio), or None."""
    devs = [d["path"] for d in qmp.command("x-query-virtio") or [] if d.get("name") == name]
    return devs[0] if len(devs) == 1 else None


def raw_reset_pair(proc, con, qmp, peer, fails, deadline):
    """--reset-pair: RP_PRE frames each way on pair 0 first, so both of its
    queues have moved on in QEMU; then the guest queues RP_FRAMES frames it
    never kicks and resets the pair (VIRTIO_F_RING_RESET). Each queued frame
    must be cancelled and none may leave (type BIG: RawPeer counts them),
    QEMU's own indices of queues 0 (receive) and 1 (transmit) must be back at
    0 (a queue QEMU did not reset stays at RP_PRE), and the raw exchange
    that follows runs through the reset queues."""
    for seq in range(RP_PRE):
        peer.send(peer.hdr(T_PRE, seq, MIN_FRAME).ljust(MIN_FRAME, b"\0"))
    mark = len(con.log())
    proc.stdin.write(b"RESETPAIR\n")
    proc.stdin.flush()
    got = 0
    while got < RP_PRE and time.monotonic() < deadline:
        f = peer.recv(min(1.0, deadline - time.monotonic()))
        if f is not None:
            if fails.check(f[14] == T_PRE, f"reset-pair: guest frame of type {f[14]}"):
                got += 1
    fails.check(got == RP_PRE, f"reset-pair: {got} of {RP_PRE} frames from the guest")
    pos = con.wait_for("RESETPAIR ", mark, deadline)
    if not fails.check(pos is not None, "no answer to RESETPAIR"):
        raise TimeoutError
    con.wait_for("\n", pos, deadline)
    reply = re.search(r"^RESETPAIR .*$", con.log()[pos - len("RESETPAIR") - 1:], re.M).group(0)
    print(f"guest: {reply.strip()}")
    want = (f"RESETPAIR rc=OK pre_rx={RP_PRE} pre_tx={RP_PRE} queued={RP_FRAMES} "
            f"cancelled={RP_FRAMES} state=ready")
    fails.check(reply.strip() == want, f"RESETPAIR: {reply.strip()}, want {want}")
    path = virtio_path(qmp, "virtio-net")
    if not fails.check(path is not None, "QMP x-query-virtio lists no one virtio-net"):
        return
    for q, what in ((0, "receive"), (1, "transmit")):
        st = qmp.command("x-query-virtio-queue-status", path=path, queue=q) or {}
        print(f"QEMU's queue {q} ({what}) after the reset: last-avail-idx "
              f"{st.get('last-avail-idx')}, used-idx {st.get('used-idx')}")
        fails.check(st.get("last-avail-idx") == 0 and st.get("used-idx") == 0,
                    f"QEMU's {what} queue was not reset: {st}")


def case_raw(args, fails):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    # Room for a whole window of the largest frames with the kernel's per-datagram
    # overhead, so this socket is never what drops (root may go past rmem_max).
    for opt in (getattr(socket, "SO_RCVBUFFORCE", None), socket.SO_RCVBUF):
        try:
            if opt is not None:
                sock.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
                break
        except OSError:
            continue
    host_port = sock.getsockname()[1]
    qemu_port = free_port_udp()
    tmp = tempfile.mkdtemp(prefix="vio-net-")
    qmp_path = os.path.join(tmp, "qmp.sock")
    netdev = f"socket,udp=127.0.0.1:{host_port},localaddr=127.0.0.1:{qemu_port}"
    cmd = qemu.build_command(args.arch, args.firmware, args.virtio, "net",
                             ["-qmp", f"unix:{qmp_path},server=on,wait=off"],
                             boot_suffix=args.boot_suffix, interactive=False,
                             transport=args.transport,
                             net_backends=[qemu.check_netdev(netdev)],
                             props={"net0": args.props} if args.props else None, qemu=args.qemu,
                             ring=args.ring, machine_opts=args.machine_opts)
    print("$ " + " ".join(cmd.argv))
    sys.stdout.flush()
    proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    con = run_test.Console(proc)
    deadline = time.monotonic() + args.timeout
    qmp = None
    if args.expect_refused:
        return raw_refused(args, fails, proc, con, sock, tmp, deadline)
    try:
        end = con.wait_for("READY", 0, deadline)
        if not fails.check(end is not None, "no READY"):
            raise TimeoutError
        m = re.search(r"^INFO mac=([0-9a-f:]{17}) mtu=(\d+) mrg=(\d) csum=(\d) guest_csum=(\d) "
                      r"ctrl_vq=(\d) hdr_len=(\d+) rx_buffer_size=(\d+) status=(\d) link=(\d)",
                      con.log(), re.M)
        if not fails.check(m is not None, "no INFO line"):
            raise TimeoutError
        mtu = int(m.group(2))
        info = dict(zip(("mrg", "csum", "guest_csum", "ctrl_vq"), map(int, m.group(3, 4, 5, 6))))
        for key, want in args.expect.items():
            if key == "mtu":
                fails.check(mtu == int(want), f"guest MTU {mtu}, want {want}")
            else:
                fails.check(info[key] == int(want), f"guest {key}={info[key]}, want {want}")
        fails.check(m.group(9) == "1" and m.group(10) == "1", "no link status, or link down")
        mac = bytes.fromhex(m.group(1).replace(":", ""))
        if args.recover:
            qmp = run_test.Qmp(qmp_path, deadline)
            raw_recover(proc, con, qmp, m.group(1), fails, deadline)
        peer = RawPeer(sock, ("127.0.0.1", qemu_port), mac, mtu, fails)
        if args.reset_pair:
            qmp = qmp or run_test.Qmp(qmp_path, deadline)
            raw_reset_pair(proc, con, qmp, peer, fails, deadline)
        sizes = mtu + 14 - MIN_FRAME + 1
        # QEMU reads its socket only while the guest has receive buffers, and
        # the kernel drops what overflows that socket's buffer (rmem_default:
        # QEMU sets none). A datagram costs it up to about twice its length,
        # so a quarter of the buffer in flight never overflows it. Twice the
        # largest frame at least: ACKs come every half window.
        window_bytes = max(rmem_default() // 4, 2 * (mtu + 14))
        n = args.passes * sizes
        proc.stdin.write(f"CASE raw n={n} w={args.window} b={window_bytes} a={args.ack}\n"
                         .encode())
        proc.stdin.flush()
        t0 = time.monotonic()
        ok = peer.h2g(n, args.window, window_bytes, deadline)
        t1 = time.monotonic()
        if ok:
            ok = peer.g2h(n, args.ack, window_bytes, deadline)
        t2 = time.monotonic()
        if ok:
            fails.check(peer.until_end(deadline), "no END frame from the guest")
            fails.check(peer.big == 0, f"{peer.big} frames beyond the MTU reached the wire")
        drops = udp_drops((host_port, qemu_port))
        fails.check(not any(drops.values()),
                    f"host-side loss: the kernel dropped datagrams on 127.0.0.1 sockets "
                    f"{drops} (port {host_port}: this script, {qemu_port}: QEMU), not the guest")
        print(f"frames: {n} of {MIN_FRAME}..{mtu + 14} bytes each way "
              f"(h2g {t1 - t0:.2f} s, g2h {t2 - t1:.2f} s); host sent {peer.sent} frames "
              f"({peer.sent_bytes} bytes), received {peer.got} ({peer.got_bytes} bytes)")
        st = con.wait_for("IDLE", 0, deadline)
        m = re.search(r"^STATS rx_frames=(\d+) rx_bytes=(\d+) rx_drops=(\d+) rx_errors=(\d+) "
                      r"tx_frames=(\d+) tx_bytes=(\d+) tx_busy=(\d+) tx_errors=(\d+)",
                      con.log(), re.M)
        if fails.check(st is not None and m is not None, "no STATS line"):
            g = dict(zip(("rx_frames", "rx_bytes", "rx_drops", "rx_errors", "tx_frames",
                          "tx_bytes", "tx_busy", "tx_errors"), map(int, m.groups())))
            want = {"rx_frames": peer.sent, "rx_bytes": peer.sent_bytes, "rx_drops": 0,
                    "rx_errors": 0, "tx_frames": peer.got, "tx_bytes": peer.got_bytes,
                    # the frames a pair reset cancelled count as errors
                    "tx_errors": RP_FRAMES if args.reset_pair else 0}
            for key, val in want.items():
                fails.check(g[key] == val, f"guest {key} {g[key]}, host counted {val}")
            print(f"counters: guest {g}")
        # The link, flipped from outside while the guest only runs its service loop.
        qmp = qmp or run_test.Qmp(qmp_path, deadline)
        for up in (False, True):
            mark = len(con.log())
            qmp.command("set_link", name="net0", up=up)
            word = "up" if up else "down"
            pos = con.wait_for(f"LINK {word} info={word}", mark, min(deadline, time.monotonic() + 5))
            fails.check(pos is not None, f"the guest saw no link {word} within 5 s")
        proc.stdin.write(b"END\n")
        proc.stdin.flush()
    except (TimeoutError, BrokenPipeError, ConnectionError, RuntimeError, OSError) as e:
        if not isinstance(e, TimeoutError):
            fails.append(f"{type(e).__name__}: {e}")
    finally:
        if qmp:
            qmp.close()
    try:
        rc = proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        fails.append(f"QEMU still running after {args.timeout:g} s; killed")
    sock.close()
    shutil.rmtree(tmp, ignore_errors=True)
    con.join()
    log = con.log()
    fails.check(len(re.findall(r"^RESULT: \d+ passed, 0 failed", log, re.M)) == 1,
                "no single 'RESULT: N passed, 0 failed' line")
    for ln in log.split("\n"):
        if ln.startswith("FAIL "):
            fails.append(f"firmware: {ln.strip()}")
    fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
    return log + ("\n---- QEMU stderr\n" + con.err if con.err else "")


# ---------------------------------------------------------------------------
# mq and csum: net_test.c on a vhost-user backend (vhost_user.py) that is the
# device's data path, so this script sees every virtio-net header and QEMU's
# device offers what the backend offers: checksum offload both ways and
# several queue pairs, which the socket and user-mode netdevs cannot.

T_MQ = 5
CS_GUEST_IP = bytes([192, 168, 79, 2])
CS_HOST_IP = bytes([192, 168, 79, 1])
INFO_RE = (r"^INFO mac=([0-9a-f:]{17}) mtu=(\d+) mrg=(\d) csum=(\d) guest_csum=(\d) ctrl_vq=(\d) "
           r"hdr_len=(\d+) rx_buffer_size=(\d+) status=(\d) link=(\d) pairs=(\d+) max_pairs=(\d+)")
STATS_RE = (r"^STATS rx_frames=(\d+) rx_bytes=(\d+) rx_drops=(\d+) rx_errors=(\d+) "
            r"tx_frames=(\d+) tx_bytes=(\d+) tx_busy=(\d+) tx_errors=(\d+)")


class VhostRun:
    """net_test.c booted with its net device on a vhost-user backend of queues pairs."""

    def __init__(self, args, fails, queues, props):
        self.fails = fails
        self.tmp = tempfile.mkdtemp(prefix="vio-vhost-")
        path = os.path.join(self.tmp, "vhost.sock")
        self.backend = vhost_user.Backend(path, queues=queues, log=print)
        netdev = f"vhost-user,path={path}" + (f",queues={queues}" if queues > 1 else "")
        cmd = qemu.build_command(args.arch, args.firmware, args.virtio, "net", [],
                                 boot_suffix=args.boot_suffix, interactive=False,
                                 transport=args.transport,
                                 net_backends=[qemu.check_netdev(netdev)],
                                 props={"net0": props} if props else None, qemu=args.qemu)
        print("$ " + " ".join(cmd.argv))
        sys.stdout.flush()
        self.t0 = time.monotonic()
        self.deadline = self.t0 + args.timeout
        self.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = run_test.Console(self.proc)
        self.info = None

    def ready(self, expect):
        """Wait for READY; parse INFO into self.info and check it against expect."""
        if not self.fails.check(self.con.wait_for("READY", 0, self.deadline) is not None,
                                "no READY"):
            raise TimeoutError
        m = re.search(INFO_RE, self.con.log(), re.M)
        if not self.fails.check(m is not None, "no INFO line"):
            raise TimeoutError
        keys = ("mac", "mtu", "mrg", "csum", "guest_csum", "ctrl_vq", "hdr_len", "rx_buffer_size",
                "status", "link", "pairs", "max_pairs")
        self.info = dict(zip(keys, m.groups()))
        self.info["mac"] = bytes.fromhex(self.info["mac"].replace(":", ""))
        for key, want in expect.items():
            self.fails.check(int(self.info[key]) == want,
                             f"guest {key}={self.info[key]}, want {want}")

    def line(self, text, reply):
        """Send a line; wait for regex reply after it and return its match."""
        mark = len(self.con.log())
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()
        while True:
            m = re.compile(reply, re.M).search(self.con.log(), mark)
            if m:
                return m
            if self.con.wait_for("\n", len(self.con.log()), min(self.deadline,
                                 time.monotonic() + 0.2)) is None and \
                    time.monotonic() >= self.deadline:
                self.fails.append(f"no /{reply}/ after '{text}'")
                raise TimeoutError

    def stats(self):
        m = re.search(STATS_RE, self.con.log(), re.M)
        if not self.fails.check(m is not None, "no STATS line"):
            return {}
        return dict(zip(("rx_frames", "rx_bytes", "rx_drops", "rx_errors", "tx_frames",
                         "tx_bytes", "tx_busy", "tx_errors"), map(int, m.groups())))

    def finish(self):
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.fails.append("QEMU still running at the deadline; killed")
        self.backend.close()
        for e in self.backend.errors:
            self.fails.append(f"vhost-user backend: {e}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.con.join()
        log = self.con.log()
        self.fails.check(len(re.findall(r"^RESULT: \d+ passed, 0 failed", log, re.M)) == 1,
                         "no single 'RESULT: N passed, 0 failed' line")
        for ln in log.split("\n"):
            if ln.startswith("FAIL "):
                self.fails.append(f"firmware: {ln.strip()}")
        self.fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
        print(f"wall time: {time.monotonic() - self.t0:.2f} s; backend: {self.backend.pushes} "
              f"used-ring updates, {self.backend.unkicked} found by polling without a kick")
        return log + ("\n---- QEMU stderr\n" + self.con.err if self.con.err else "")


def mq_len(mtu, q, seq):
    """net_test.c's mq_len: every length from 60 to MTU + 14, shifted per pair."""
    return MIN_FRAME + (seq * 7 + q * 131) % (mtu + 14 - MIN_FRAME + 1)


def mq_payload(pat, q, seq, direction, n):
    off = (((seq + q * 7919) & 0xFFFFFFFF) * 251 + direction * 30011) & (PAT_SPAN - 1)
    return pat[off:off + n]


def case_mq(args, fails):
    """4 queue pairs: which rings QEMU enables for each VQ_PAIRS_SET, then traffic on all."""
    pairs = args.pairs
    pat = raw_pattern()
    lock = threading.Lock()
    next_seq = [0] * pairs
    bad = []
    run = None

    def on_tx(pair, hdr, f):
        # The data thread: one frame the guest sent on transmit queue pair `pair`.
        with lock:
            why = None
            if len(f) < RAW_HDR or struct.unpack(">H", f[12:14])[0] != ETHERTYPE or f[14] != T_MQ:
                why = "not an MQ frame"
            else:
                q, seq, ln = f[15], struct.unpack(">I", f[16:20])[0], struct.unpack(">H", f[20:22])[0]
                if q != pair:
                    why = f"pair {q}'s frame on transmit queue {pair}"
                elif q >= pairs or seq != next_seq[q]:
                    why = f"seq {seq}, want {next_seq[q] if q < pairs else '?'}"
                elif ln != len(f) or ln != mq_len(mtu, q, seq):
                    why = f"{len(f)} bytes (says {ln}), want {mq_len(mtu, q, seq)}"
                elif f[RAW_HDR:] != mq_payload(pat, q, seq, 1, ln - RAW_HDR):
                    why = "payload corrupt"
                elif hdr["flags"] or hdr["gso_type"]:
                    why = f"header {hdr}"
                if q < pairs and q == pair:
                    next_seq[q] = seq + 1
            if why:
                bad.append(f"g2h pair {pair}: {why}")

    try:
        run = VhostRun(args, fails, pairs, ",".join(p for p in ("mq=on", args.props) if p))
        run.backend.on_tx = on_tx
        run.ready({"pairs": pairs, "max_pairs": pairs, "ctrl_vq": 1})
        mtu = int(run.info["mtu"])

        def check_rings(k, when):
            # The guest's VQ_PAIRS_SET took effect: QEMU's control queue told the
            # backend (SET_VRING_ENABLE) to run exactly rx/tx rings 0 .. 2k - 1.
            want = list(range(2 * k))
            t = time.monotonic() + 3
            while run.backend.enabled_rings() != want and time.monotonic() < t:
                time.sleep(0.05)
            got = run.backend.enabled_rings()
            fails.check(got == want, f"{when}: backend rings enabled {got}, want {want}")
            print(f"ok: {when}: rings {got} enabled")

        # The driver enables every pair it set up once the device is live.
        check_rings(pairs, "at start")
        for k in (2, 1, pairs):
            m = run.line(f"PAIRS {k}", rf"^PAIRS {k} rc=(\S+) in_use=(\d+)")
            fails.check(m.group(1) == "OK" and int(m.group(2)) == k, f"PAIRS {k}: {m.group(0)}")
            check_rings(k, f"after PAIRS {k}")
        # More than the driver set up: refused before the device is asked.
        m = run.line(f"PAIRS {pairs + 1}", rf"^PAIRS {pairs + 1} rc=(\S+) in_use=(\d+)")
        fails.check(m.group(1) == "VIO_ERANGE" and int(m.group(2)) == pairs,
                    f"PAIRS {pairs + 1}: {m.group(0)}, want VIO_ERANGE with {pairs} in use")
        check_rings(pairs, f"after PAIRS {pairs + 1}")

        n = args.frames
        mac = run.info["mac"]
        # Host to guest: frame seq of every pair in turn, so all receive queues fill at once.
        sent_bytes = 0
        for seq in range(n):
            for q in range(pairs):
                ln = mq_len(mtu, q, seq)
                f = (mac + HOST_MAC + struct.pack(">HBBIH", ETHERTYPE, T_MQ, q, seq, ln)
                     + mq_payload(pat, q, seq, 0, ln - RAW_HDR))
                run.backend.send(q, f)
                sent_bytes += ln
        t0 = time.monotonic()
        run.line(f"CASE mq n={n}", r"^MQ q0=.*ms=\d+")
        secs = time.monotonic() - t0
        end = run.con.wait_for("RESULT:", 0, run.deadline)
        fails.check(end is not None, "no RESULT line")
        m = re.search(r"^MQ (q0=.*) bad=(\d+) ms=(\d+)", run.con.log(), re.M)
        got = dict(re.findall(r"q(\d+)=(\d+)/\d+", m.group(1))) if m else {}
        for q in range(pairs):
            fails.check(int(got.get(str(q), -1)) == n, f"guest took {got.get(str(q))} frames "
                        f"on pair {q}, want {n}")
            fails.check(run.backend.delivered[q] == n,
                        f"backend delivered {run.backend.delivered[q]} on pair {q}, want {n}")
            fails.check(next_seq[q] == n and run.backend.transmitted[q] == n,
                        f"backend took {run.backend.transmitted[q]} frames on tx pair {q} "
                        f"(in order up to {next_seq[q]}), want {n}")
        fails.check(not bad, f"{len(bad)} bad frames from the guest: {bad[:5]}")
        st = run.stats()
        if st:
            fails.check(st["rx_frames"] == n * pairs and st["rx_bytes"] == sent_bytes,
                        f"guest rx {st['rx_frames']} frames {st['rx_bytes']} bytes, "
                        f"want {n * pairs} / {sent_bytes}")
            fails.check(st["tx_frames"] == n * pairs, f"guest tx {st['tx_frames']}, want "
                        f"{n * pairs}")
        print(f"mq: {pairs} pairs, {n} frames each way on each pair "
              f"({n * pairs} each way) in {secs:.2f} s; backend rx per pair "
              f"{run.backend.delivered}, tx per pair {run.backend.transmitted}")
    except (TimeoutError, BrokenPipeError, OSError) as e:
        if not isinstance(e, TimeoutError):
            fails.append(f"{type(e).__name__}: {e}")
    if run is None:
        return ""
    return run.finish()


def ip_frame(dst_mac, src_mac, src_ip, dst_ip, proto, ident, l4_hdr, payload):
    """An Ethernet + IPv4 frame (IP header checksum filled) around an L4 header and payload."""
    total = 20 + len(l4_hdr) + len(payload)
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident, 0, 64, proto, 0,
                               src_ip, dst_ip))
    ip[10:12] = struct.pack(">H", csum(bytes(ip)))
    return bytearray(dst_mac + src_mac + b"\x08\x00" + ip + l4_hdr + payload)


def l4_sums(f):
    """(checksum field offset in f, pseudo-header sum, the right checksum) of an IPv4 TCP/UDP frame."""
    ihl = (f[14] & 15) * 4
    l4 = 14 + ihl
    udp = f[23] == 17
    field = l4 + (6 if udp else 16)
    seg = bytearray(f[l4:])
    seg[field - l4:field - l4 + 2] = b"\0\0"
    pseudo = vhost_user.inet_sum(bytes(f[26:34]) + struct.pack(">BBH", 0, f[23], len(seg)))
    right = ~vhost_user.inet_sum(bytes(seg), pseudo) & 0xFFFF
    if udp and right == 0:
        right = 0xFFFF  # RFC 768
    return field, pseudo, right


def case_csum(args, fails):
    """VIRTIO_NET_F_CSUM on transmit, GUEST_CSUM on receive, through the backend."""
    pat = raw_pattern()
    lock = threading.Lock()
    tx = {"offloaded": 0, "software": 0, "bad": []}
    run = None

    def on_tx(pair, hdr, f):
        with lock:
            why = None
            if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] not in (6, 17):
                why = "not a TCP/UDP over IPv4 frame"
            else:
                n = struct.unpack(">H", f[18:20])[0]
                udp = f[23] == 17
                ihl = (f[14] & 15) * 4
                l4 = 14 + ihl
                hl = 8 if udp else 20
                plen = len(f) - l4 - hl
                field, pseudo, right = l4_sums(f)
                if udp != (n % 2 == 0) or plen != (n * 37) % 1401:
                    why = f"frame {n}: {'UDP' if udp else 'TCP'} with {plen} bytes"
                elif f[l4 + hl:] != pat[(n * 251 + 30011) & (PAT_SPAN - 1):][:plen]:
                    why = f"frame {n}: payload corrupt"
                elif hdr["flags"] & vhost_user.HDR_F_NEEDS_CSUM:
                    # 5.1.6.2: sum from csum_start to the end, store at start + offset.
                    start, off = hdr["csum_start"], hdr["csum_offset"]
                    have = struct.unpack(">H", f[field:field + 2])[0]
                    if n % 4 == 3:
                        why = f"frame {n}: NEEDS_CSUM on a frame summed in software"
                    elif start != l4 or start + off != field:
                        why = f"frame {n}: csum_start {start} offset {off}, want {l4} {field - l4}"
                    elif have != (pseudo & 0xFFFF or 0xFFFF) and have != pseudo:
                        why = f"frame {n}: field {have:#06x}, want the pseudo-header sum " \
                              f"{pseudo:#06x}"
                    else:
                        done = ~vhost_user.inet_sum(bytes(f[start:])) & 0xFFFF
                        f[field:field + 2] = struct.pack(">H", done)
                        if done != right and {done, right} != {0, 0xFFFF}:
                            why = f"frame {n}: completed {done:#06x}, reference {right:#06x}"
                        tx["offloaded"] += 1
                else:
                    have = struct.unpack(">H", f[field:field + 2])[0]
                    if n % 4 != 3:
                        why = f"frame {n}: no NEEDS_CSUM (flags {hdr['flags']})"
                    elif have != right:
                        why = f"frame {n}: software checksum {have:#06x}, want {right:#06x}"
                    tx["software"] += 1
            if why:
                tx["bad"].append(why)

    try:
        run = VhostRun(args, fails, 1, args.props)
        run.backend.on_tx = on_tx
        run.ready({"csum": 1, "guest_csum": 1})
        mac = run.info["mac"]
        n, m = args.frames, args.frames
        kinds = {"a": 0, "b": 0, "c": 0, "d": 0}
        refused = 0
        for i in range(m):
            kind = "abcd"[i % 4]
            kinds[kind] += 1
            udp = i % 8 < 4
            body = b"VC" + kind.encode() + struct.pack(">I", i) + pat[(i * 97) & 0xFFFF:][:(i * 53) % 1300]
            if udp:
                l4h = struct.pack(">HHHH", 9, 40000 + i % 100, 8 + len(body), 0)
            else:
                l4h = struct.pack(">HHIIBBHHH", 9, 40000 + i % 100, i, 0, 0x50, 0x18, 0x2000, 0, 0)
            f = ip_frame(mac, HOST_MAC, CS_HOST_IP, CS_GUEST_IP, 17 if udp else 6, i, l4h, body)
            field, pseudo, right = l4_sums(f)
            flags, start, off = 0, 0, 0
            if kind == "a":
                value = right
            elif kind in "bd":
                value = right ^ 0x5A5A      # wrong
                flags = vhost_user.HDR_F_DATA_VALID if kind == "b" else 0
            else:
                value = pseudo               # partial: the receiver completes it
                flags, start, off = vhost_user.HDR_F_NEEDS_CSUM, 34, field - 34
            f[field:field + 2] = struct.pack(">H", value)
            run.backend.send(0, f, flags=flags, csum_start=start, csum_offset=off)
            if i % 100 == 50:
                # Marked wrong by the device: NEEDS_CSUM whose field lies past the
                # frame's end, and a GSO type nobody negotiated (5.1.6.4.1). The
                # driver drops both and counts them in rx_errors.
                run.backend.send(0, f, flags=vhost_user.HDR_F_NEEDS_CSUM, csum_start=34,
                                 csum_offset=len(f) - 35)
                run.backend.send(0, f, gso_type=1)
                refused += 2
        t0 = time.monotonic()
        run.line(f"CASE csum n={n} m={m} e={refused}", r"^CSUM sent=.* wrong=\d+")
        secs = time.monotonic() - t0
        fails.check(run.con.wait_for("RESULT:", 0, run.deadline) is not None, "no RESULT line")
        r = re.search(r"^CSUM sent=(\d+) offloaded=(\d+) tx_errors=(\d+) got=(\d+) none_ok=(\d+) "
                      r"none_bad=(\d+) valid=(\d+) partial=(\d+) wrong=(\d+)", run.con.log(), re.M)
        if fails.check(r is not None, "no CSUM line"):
            g = dict(zip(("sent", "offloaded", "tx_errors", "got", "none_ok", "none_bad", "valid",
                          "partial", "wrong"), map(int, r.groups())))
            want = {"sent": n, "offloaded": n - n // 4, "tx_errors": 0, "got": m,
                    "none_ok": kinds["a"], "none_bad": kinds["d"], "valid": kinds["b"],
                    "partial": kinds["c"], "wrong": 0}
            for key, val in want.items():
                fails.check(g[key] == val, f"guest {key}={g[key]}, want {val}")
        fails.check(tx["offloaded"] == n - n // 4 and tx["software"] == n // 4,
                    f"backend saw {tx['offloaded']} offloaded and {tx['software']} software "
                    f"frames, want {n - n // 4} and {n // 4}")
        fails.check(not tx["bad"], f"{len(tx['bad'])} bad frames from the guest: {tx['bad'][:5]}")
        st = run.stats()
        if st:
            fails.check(st["rx_frames"] == m and st["tx_frames"] == n
                        and st["rx_errors"] == refused, f"guest counters {st}, want {m} "
                        f"frames received, {n} sent, {refused} receive errors")
        print(f"csum: guest sent {n} frames ({tx['offloaded']} completed here, "
              f"{tx['software']} summed by the guest), took {m} "
              f"(a/b/c/d {kinds['a']}/{kinds['b']}/{kinds['c']}/{kinds['d']}) and refused {refused} "
              f"in {secs:.2f} s")
    except (TimeoutError, BrokenPipeError, OSError) as e:
        if not isinstance(e, TimeoutError):
            fails.append(f"{type(e).__name__}: {e}")
    if run is None:
        return ""
    return run.finish()


# ---------------------------------------------------------------------------
# pair: two guests, one of each board, on one loopback socket netdev.

PAIR_NET = "192.168.78"
SKIP = 77  # ctest's SKIP_RETURN_CODE for this runner


class Guest:
    """One shell guest under test: its QEMU, its console, a command at a time."""

    def __init__(self, name, argv, fails, deadline):
        self.name = name
        self.fails = fails
        self.deadline = deadline
        print(f"$ [{name}] " + " ".join(argv))
        sys.stdout.flush()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = run_test.Console(self.proc)

    def prompt(self):
        ok = self.con.wait_for(run_test.PROMPT, 0, self.deadline) is not None
        if not self.fails.check(ok, f"{self.name}: no prompt"):
            raise TimeoutError

    def step(self, line, *regexes):
        start = len(self.con.log())
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        end = self.con.wait_for(run_test.PROMPT, start, self.deadline)
        if not self.fails.check(end is not None, f"{self.name}: no prompt after '{line}'"):
            raise TimeoutError
        out = self.con.log()[start:end - len(run_test.PROMPT)].replace("\r", "")
        for rx in regexes:
            self.fails.check(re.search(rx, out, re.M) is not None,
                             f"{self.name}: '{line}': no /{rx}/ in {out!r}")
        return out

    def finish(self):
        """Power off (if still up); returns the log."""
        try:
            self.proc.stdin.write(b"poweroff\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.fails.append(f"{self.name}: QEMU still running at the deadline; killed")
        self.con.join()
        self.fails.check(rc == 0, f"{self.name}: QEMU exit status {rc}, want 0")
        log = self.con.log()
        return log + ("\n---- QEMU stderr\n" + self.con.err if self.con.err else "")


def counters(fails, who, out):
    """The rx and tx lines of ifconfig: {rx_frames, rx_bytes, rx_drops, rx_errors, tx_...}."""
    got = {}
    for d, names in (("rx", ("frames", "bytes", "drops", "errors")),
                     ("tx", ("frames", "bytes", "busy", "errors"))):
        m = re.search(rf"^\s+{d}\s+(\d+) frames, (\d+) bytes, (\d+) \w+, (\d+) errors", out, re.M)
        if fails.check(m is not None, f"{who}: ifconfig has no {d} counters: {out!r}"):
            got.update({f"{d}_{k}": int(v) for k, v in zip(names, m.groups())})
    return got


def case_pair(args, fails):
    """The --arch/--virtio guest serves `echo 7`; the peer (--peer-*) runs tcpsend to it."""
    if not args.peer_firmware or not os.path.exists(
            qemu.boot_image(args.peer_firmware, qemu.ARCHES[args.peer_arch].boot_suffix)):
        print(f"SKIP: no {args.peer_arch} firmware at {args.peer_firmware} "
              f"(build that board's preset too)")
        return None
    port = free_port()
    # The stream form: QEMU stops reading while its guest has no receive
    # buffers, so nothing is dropped between the two (TCP would recover, slowly).
    first = qemu.build_command(args.arch, args.firmware, args.virtio, "net", [],
                               boot_suffix=args.boot_suffix, interactive=False,
                               transport=args.transport,
                               net_backends=[qemu.check_netdev(f"socket,listen=127.0.0.1:{port}")],
                               props={"net0": "mac=52:54:00:00:78:01"}, qemu=args.qemu)
    second = qemu.build_command(args.peer_arch, args.peer_firmware, args.peer_virtio, "net", [],
                                interactive=False,
                                net_backends=[qemu.check_netdev(
                                    f"socket,connect=127.0.0.1:{port}")],
                                props={"net0": "mac=52:54:00:00:78:02"})
    deadline = time.monotonic() + args.timeout
    a = Guest(f"{args.arch} {args.virtio}", first.argv, fails, deadline)
    b = None
    data = args.mib * MIB
    try:
        # QEMU listens before it runs the guest: once the prompt is there, connect works.
        a.prompt()
        b = Guest(f"{args.peer_arch} {args.peer_virtio}", second.argv, fails, deadline)
        b.prompt()
        a.step(f"ifconfig {PAIR_NET}.1/24", rf"inet\s+{PAIR_NET}\.1 ")
        b.step(f"ifconfig {PAIR_NET}.2/24", rf"inet\s+{PAIR_NET}\.2 ")
        a.step("echo 7", r"listening on TCP port 7")
        b.step(f"ping {PAIR_NET}.1 3", rf"bytes from {PAIR_NET}\.1: seq=3", r"3 sent, 3 received")
        a.step(f"ping {PAIR_NET}.2 2", rf"bytes from {PAIR_NET}\.2: seq=2", r"2 sent, 2 received")
        t0 = time.monotonic()
        out = b.step(f"tcpsend {PAIR_NET}.1 7 {data}", rf"^tcpsend: {data} bytes echoed intact")
        m = re.search(r"intact in (\d+) ms \((\d+) KiB/s\)", out)
        print(f"tcp: {data} bytes through {a.name}'s echo and back in {time.monotonic() - t0:.2f} s"
              + (f" (guest: {m.group(1)} ms, {m.group(2)} KiB/s)" if m else ""))
        a.step("echo", rf"1 connections, {data} bytes echoed")
        # On a point-to-point link every frame one sends the other receives,
        # once the last delayed ACKs of the close are out: read until both
        # sides agree (each read is a moment; they may differ by a frame in
        # flight).
        agree = False
        for _ in range(6):
            ca = counters(fails, a.name, a.step("ifconfig"))
            cb = counters(fails, b.name, b.step("ifconfig"))
            if not ca or not cb:
                break
            agree = (ca["tx_frames"] == cb["rx_frames"] and cb["tx_frames"] == ca["rx_frames"]
                     and ca["tx_bytes"] == cb["rx_bytes"] and cb["tx_bytes"] == ca["rx_bytes"])
            if agree:
                break
            time.sleep(0.5)
        print(f"counters: {a.name} {ca}\ncounters: {b.name} {cb}")
        fails.check(agree, f"frames sent and received never agreed: {ca} / {cb}")
        for who, c in ((a.name, ca), (b.name, cb)):
            for d in ("rx", "tx"):
                fails.check(c.get(f"{d}_bytes", 0) >= data, f"{who}: {d} bytes < {data}")
                fails.check(c.get(f"{d}_errors", 1) == 0, f"{who}: {d} errors counted")
            fails.check(c.get("rx_drops", 1) == 0, f"{who}: rx drops counted")
    except (TimeoutError, BrokenPipeError):
        pass
    log = ""
    for g in (b, a):
        if g:
            log = f"---- console {g.name} " + "-" * 40 + "\n" + g.finish() + "\n" + log
    return log


class LwipPeer:
    """lwip: the far end of the shell's lwIP on the vhost-user backend.

    Answers ARP for CS_HOST_IP; of every TCP segment the guest sends, checks
    the virtio-net header (NEEDS_CSUM at the right place: the adapter
    offloads) and the checksum once completed here, then hands it to the
    connection of its port. Sends segments with the checksum treatment of
    a kind: "none" (right, no flags), "bad" (wrong, no flags), "valid"
    (wrong, DATA_VALID), "partial" (the pseudo-header sum, NEEDS_CSUM).
    """

    def __init__(self, backend, guest_mac, fails):
        self.backend = backend
        self.guest_mac = guest_mac
        self.fails = fails
        self.cond = threading.Condition()
        self.segs = {}            # our port -> [(flags, seq, ack, payload)]
        self.offloaded = self.plain = 0
        self.bad = []
        backend.on_tx = self.on_tx

    def on_tx(self, pair, hdr, f):
        if f[12:14] == b"\x08\x06" and len(f) >= 42 and f[38:42] == CS_HOST_IP and f[21] == 1:
            reply = (f[6:12] + HOST_MAC + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2)
                     + HOST_MAC + CS_HOST_IP + f[6:12] + f[28:32])
            self.backend.send(0, reply.ljust(60, b"\0"))
            return
        if f[12:14] != b"\x08\x00" or len(f) < 54 or f[23] != 6:
            return
        field, _, right = l4_sums(f)
        with self.cond:
            if hdr["flags"] & vhost_user.HDR_F_NEEDS_CSUM:
                if hdr["csum_start"] != 34 or hdr["csum_start"] + hdr["csum_offset"] != field:
                    self.bad.append(f"csum_start {hdr['csum_start']} offset {hdr['csum_offset']}")
                done = ~vhost_user.inet_sum(bytes(f[hdr["csum_start"]:])) & 0xFFFF
                f[field:field + 2] = struct.pack(">H", done)
                self.offloaded += 1
            else:
                self.plain += 1
            have = struct.unpack(">H", f[field:field + 2])[0]
            if have != right and {have, right} != {0, 0xFFFF}:
                self.bad.append(f"TCP checksum {have:#06x}, want {right:#06x} (flags {hdr['flags']})")
            sport, dport, seq, ack, off, flags = struct.unpack(">HHIIBB", f[34:48])
            total = struct.unpack(">H", f[16:18])[0]
            self.segs.setdefault(dport, []).append((flags, seq, ack, bytes(f[34 + (off >> 4) * 4:
                                                                            14 + total])))
            self.cond.notify_all()

    def send(self, kind, sport, seq, ack, flags, payload=b""):
        tcp = struct.pack(">HHIIBBHHH", sport, GUEST_ECHO_PORT, seq, ack, 0x50, flags, 8192, 0, 0)
        f = ip_frame(self.guest_mac, HOST_MAC, CS_HOST_IP, CS_GUEST_IP, 6, sport & 0xFFFF, tcp,
                     payload)
        field, pseudo, right = l4_sums(f)
        hflags, start, off = 0, 0, 0
        value = right
        if kind in ("bad", "valid"):
            value = right ^ 0x5A5A
            hflags = vhost_user.HDR_F_DATA_VALID if kind == "valid" else 0
        elif kind == "partial":
            value, hflags, start, off = pseudo, vhost_user.HDR_F_NEEDS_CSUM, 34, field - 34
        f[field:field + 2] = struct.pack(">H", value)
        self.backend.send(0, f, flags=hflags, csum_start=start, csum_offset=off)

    def wait(self, port, pred, secs):
        """The first segment to port that pred takes, within secs, or None."""
        end = time.monotonic() + secs
        with self.cond:
            while True:
                for seg in self.segs.get(port, []):
                    if pred(seg):
                        return seg
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def echo(self, kind, port, data, fails):
        """Connect to port 7 from port, segments checksummed as kind says; send data and
        read the echo. Returns the bytes echoed (None: no SYN-ACK)."""
        isn = port * 1000
        self.send(kind, port, isn, 0, 0x02)                         # SYN
        sa = self.wait(port, lambda s: s[0] & 0x12 == 0x12, 5)
        if sa is None:
            return None
        rcv = sa[1] + 1
        self.send(kind, port, isn + 1, rcv, 0x10)                   # ACK
        if kind == "none":
            # The same bytes' place taken first by a segment with a wrong
            # checksum and no flags: lwIP must drop it (X's never come back).
            self.send("bad", port, isn + 1, rcv, 0x18, b"X" * len(data))
        self.send(kind, port, isn + 1, rcv, 0x18, data)             # PSH, ACK
        got = {}
        end = time.monotonic() + 5
        while sum(len(p) for p in got.values()) < len(data) and time.monotonic() < end:
            self.wait(port, lambda s: s[3] and s[1] not in got and rcv <= s[1] < rcv + len(data),
                      0.2)
            with self.cond:
                for flags, seq, _, pl in self.segs.get(port, []):
                    if pl and rcv <= seq < rcv + len(data):
                        got[seq] = pl
        out = bytearray(len(data))
        for seq, pl in got.items():
            out[seq - rcv:seq - rcv + len(pl)] = pl[:len(data) - (seq - rcv)]
        n = sum(len(p) for p in got.values())
        self.send("none", port, isn + 1 + len(data), rcv + n, 0x10)   # ACK what came
        self.send("none", port, isn + 1 + len(data), 0, 0x04)         # RST
        return bytes(out[:n])


def case_lwip(args, fails):
    """The shell's lwIP on the backend: which received checksums it takes, what it sends."""
    tmp = tempfile.mkdtemp(prefix="vio-vhost-")
    path = os.path.join(tmp, "vhost.sock")
    backend = vhost_user.Backend(path, queues=1, log=print)
    cmd = qemu.build_command(args.arch, args.firmware, args.virtio, "net", [],
                             boot_suffix=args.boot_suffix, interactive=False,
                             transport=args.transport,
                             net_backends=[qemu.check_netdev(f"vhost-user,path={path}")],
                             qemu=args.qemu)
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    g = Guest(f"{args.arch} {args.virtio}", cmd.argv, fails, deadline)
    try:
        g.prompt()
        out = g.step("ifconfig", r"tx csum on, rx csum on")
        mac = re.search(r"ether\s+([0-9a-f:]{17})", out)
        if not fails.check(mac is not None, "no MAC in ifconfig"):
            raise TimeoutError
        peer = LwipPeer(backend, bytes.fromhex(mac.group(1).replace(":", "")), fails)
        g.step("ifconfig 192.168.79.2/24", r"inet\s+192\.168\.79\.2 ")
        g.step("echo 7", r"listening on TCP port 7")
        data = raw_pattern()[:300]
        # A SYN with a wrong checksum and no flags: dropped, never answered.
        peer.send("bad", 50000, 50000 * 1000, 0, 0x02)
        for i, kind in enumerate(("none", "valid", "partial")):
            got = peer.echo(kind, 50001 + i, data, fails)
            if fails.check(got is not None, f"{kind}: no SYN-ACK"):
                fails.check(got == data, f"{kind}: {len(got)} bytes echoed "
                            f"{'(the dropped X segment came back) ' if b'X' in got else ''}"
                            f"want the {len(data)} sent")
        fails.check(not peer.segs.get(50000), f"the bad SYN was answered: {peer.segs.get(50000)}")
        fails.check(not peer.bad, f"guest segments: {peer.bad[:5]}")
        fails.check(peer.offloaded > 0 and peer.plain == 0,
                    f"{peer.offloaded} guest TCP segments offloaded, {peer.plain} summed by lwIP "
                    "(want every one offloaded)")
        out = g.step("ifconfig")
        m = re.search(r"csum valid (\d+) partial (\d+); tx offloaded (\d+)", out)
        if fails.check(m is not None, f"no adapter counters: {out!r}"):
            # valid: its SYN, ACK and data; partial the same; the RSTs go plain.
            fails.check(m.group(1) == "3" and m.group(2) == "3",
                        f"adapter: csum valid {m.group(1)} partial {m.group(2)}, want 3 and 3")
            fails.check(int(m.group(3)) == peer.offloaded,
                        f"adapter: tx offloaded {m.group(3)}, backend saw {peer.offloaded}")
        print(f"lwip: 3 connections echoed {len(data)} bytes each; a bad SYN and a bad data "
              f"segment dropped; {peer.offloaded} guest segments offloaded; "
              f"{time.monotonic() - t0:.2f} s")
    except (TimeoutError, BrokenPipeError):
        pass
    log = g.finish()
    backend.close()
    for e in backend.errors:
        fails.append(f"vhost-user backend: {e}")
    shutil.rmtree(tmp, ignore_errors=True)
    return log


CASES = {"echo": case_echo, "frames": case_frames, "raw": case_raw, "pair": case_pair,
         "mq": case_mq, "csum": case_csum, "lwip": case_lwip}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run_test.add_board_options(p, timeout=60)
    p.add_argument("--case", required=True, choices=sorted(CASES))
    p.add_argument("--mib", type=int, default=10, help="MiB the echo case sends")
    p.add_argument("--passes", type=int, default=16,
                   help="raw: rounds over every frame size, each way")
    p.add_argument("--window", type=int, default=64, help="raw: frames in flight at most")
    p.add_argument("--ack", type=int, default=16, help="raw: frames per ACK")
    p.add_argument("--recover", action="store_true",
                   help="raw: the guest sets filters, fails and recovers its device first")
    p.add_argument("--reset-pair", action="store_true",
                   help="raw: the guest resets queue pair 0 alone first (VIRTIO_F_RING_RESET)")
    p.add_argument("--props", default="",
                   help="raw, mq, csum: more virtio-net-device properties")
    p.add_argument("--expect", action="append", default=[], metavar="KEY=VALUE",
                   help="raw: what the guest must have negotiated (mtu, mrg, csum, guest_csum, "
                        "ctrl_vq)")
    p.add_argument("--expect-refused", default=None, metavar="REGEX",
                   help="raw: the driver must refuse the device with this message")
    p.add_argument("--peer-arch", choices=sorted(qemu.ARCHES), default="aarch64",
                   help="pair: the other guest's board")
    p.add_argument("--peer-virtio", choices=("legacy", "modern"), default="modern")
    p.add_argument("--peer-firmware", default=None, help="pair: the other board's shell")
    p.add_argument("--pairs", type=int, default=4, help="mq: queue pairs")
    p.add_argument("--frames", type=int, default=1000,
                   help="mq: frames each way on each pair; csum: frames each way")
    p.add_argument("--qemu", default=None)
    p.add_argument("--machine-opts", default=None, metavar="PROPS",
                   help="raw: machine properties, e.g. aia=aplic-imsic: scripts/qemu.py")
    p.add_argument("--expect-irq", default=None, metavar="MODE",
                   help="the net device's interrupt mode (polled, line, msix-shared, msix); "
                        "--props vectors=N sets a PCI device's MSI-X vectors")
    p.add_argument("firmware")
    args = p.parse_args()
    args.expect = dict(e.split("=", 1) for e in args.expect)
    fails = run_test.Failures()
    try:
        log = CASES[args.case](args, fails)
    except qemu.QemuError as e:
        fails.append(str(e))
        log = ""
    if log is None:
        return SKIP
    if args.ring == "packed":
        fails.extend(qemu.ring_problems(log, args.ring))
    if args.expect_irq:
        run_test.check_irq_mode(fails, log, "net", args.expect_irq)
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
