#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""virtio-net benchmark: vio against its floor and Linux on the same QEMU.

  run_net_bench.py [--quick] [--arch A]... [--iface legacy|modern]...
                   [--transport mmio|pci]... [--ring split|packed]... [--rounds N]
                   [--warmup N] [--target S] [--tcp-seconds S] [--workload NAME]...
                   [--build-root DIR] [--refs DIR] [--out DIR] [--no-linux] [--no-loop]
                   [--paced-steps N] [--paced-tries N] [--paced-seconds S]

A scenario is a board and a virtio interface; its cells are the layouts
asked for, transport (virtio-mmio, the default, or virtio-pci functions,
modern only or transitional, as the interface says) times ring (split, the
default, or packed: modern only), as run_bench.py's. Every guest of every
cell of a scenario boots on the same QEMU command line but for what is
booted, its port numbers and its cell's layout, and the guests of all the
cells run interleaved in one set of rounds: two virtio-net devices, the
first (MAC ...:01) on a UDP socket netdev between 127.0.0.1 ports of this
program and of the guest's QEMU (raw frames), the second (MAC ...:02) on
user-mode net with restrict=on and two forwards, 127.0.0.1:PORT to the
guest's TCP ports 5001 (iperf) and 5002 (the TCP source).

  vio irq    bench/net_bench.c built with the user's configuration;
  vio poll   the same with the `poll` configuration; it also runs the bare
             loop (vio's virtqueue functions alone, polled);
  loop       bench/indep_net_loop.c, the independent loop, no vio code,
             polled, one descriptor per frame (frames only), in every cell:
             virtio-mmio (legacy and modern), virtio-pci (modern, and a
             transitional function's legacy I/O BAR), split and packed
             rings, all written from the spec (indep_virtio.c,
             indep_virtio_pci.c, indep_ring.h);
  Linux      Debian's arm64 kernel with the busybox initramfs of the block
             benchmark, bench/netraw.c (AF_PACKET, sendmmsg / recvmmsg) for
             frames, busybox nc as the TCP sink and source (aarch64 only).

Workloads:
  tx64, tx1514    the guest sends N frames of 64 / 1514 bytes as fast as its
                  ring allows; frames per second, timed in the guest from
                  the first send to the last completion (this program
                  drains the socket meanwhile and counts what arrived);
  rx64, rx1514    this program sends N frames back to back from Python as
                  fast as it can (faster than any guest here takes them);
                  the guest counts the frames it got, timed from its first
                  to its last; frames per second and the share lost (in the
                  socket buffer of QEMU's netdev, when the guest does not
                  take them fast enough);
  rx64-paced, rx1514-paced
                  the highest rate each guest receives without losing a
                  frame: bench/net_pacer.c (built here with the host's
                  compiler) sends the frames at a set rate; a ramp doubles
                  the rate until frames are lost (in --paced-tries trials in
                  a row), then --paced-steps bisection steps narrow it (see
                  paced_search); frames per second of the highest loss-free
                  trial. vio poll also runs its bare receive loop (vio's
                  virtqueue functions alone), in every receive workload;
  tcp             Debian's iperf 2 client on the host, through the forward,
                  for --tcp-seconds, into lwIP's iperf server (lwiperf) or
                  Linux's busybox nc; Mbit/s as the client reports it;
  tcp-tx          guest → host: this program connects through the second
                  forward to the guest's TCP source (bench/tcp_source.c on
                  lwIP; busybox nc -l reading /dev/zero on Linux) and reads
                  for --tcp-seconds; Mbit/s from the first byte on. The
                  guest does not connect out: with restrict=on user-mode
                  net lets a guest reach the host only through a guestfwd,
                  a chardev QEMU opens once at start-up, not a socket
                  per connection.

Method as run_bench.py's: only one guest runs at a time (the others are
paused over QMP), rounds interleave the guests in a rotating order, the
first round is a warm-up that sizes the loops to about --target seconds, a
figure is the best round with the spread of the worst in brackets, ratios
only between bests of the same run. Tables on stdout and in
OUT/net-results.md, samples in OUT/net-results.json, consoles in OUT/logs/.
Nothing fails on a timing.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import run_bench as rb  # noqa: E402  (the QEMU plumbing: Guest, Console, Qmp)
from run_bench import BenchError, parse_kv, qemu  # noqa: E402
from progress import Progress, scenario_header  # noqa: E402

ETHERTYPE = 0x88B5
MAC_FRAMES = "52:54:00:12:34:01"
MAC_TCP = "52:54:00:12:34:02"
WORKLOADS = ["tx64", "tx1514", "rx64", "rx1514", "rx64-paced", "rx1514-paced", "tcp", "tcp-tx"]
LABELS = {"tx64": "transmit, 64 B frames", "tx1514": "transmit, 1514 B frames",
          "rx64": "receive, 64 B frames", "rx1514": "receive, 1514 B frames",
          "rx64-paced": "receive, 64 B, paced, no loss",
          "rx1514-paced": "receive, 1514 B, paced, no loss",
          "tcp": "TCP, host → guest (iperf 2)", "tcp-tx": "TCP, guest → host (host sink)"}
TCP_PORTS = {"tcp": 5001, "tcp-tx": 5002}  # the guest's ports behind the two forwards
FIRST_COUNT = 20000
COUNT_MAX = 400000
RX_IDLE_MS = 300
# Steps of a transmit run the guests time (ns, all frames): vio q (vio_net_queue), k
# (vio_net_kick), w (collecting completions, waiting); the loops e (filling the ring),
# k (publishing, notifying), s (spinning until the used index moves, taking it), d
# (vio_vq_dequeue, the bare loop).
PHASES = ("q", "k", "w", "e", "s", "d")
COLUMNS = [("bare", "bare loop (poll)"), ("loop-poll", "indep. loop poll"),
           ("vio-irq", "vio irq"), ("vio-poll", "vio poll"), ("linux", "Linux")]


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FrameLink:
    """This program's end of one guest's socket netdev: a UDP socket on 127.0.0.1."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]  # QEMU sends here
        self.guest_port = free_port(socket.SOCK_DGRAM)  # QEMU listens here
        self.count = 0
        self.counting = False
        self.stop = False
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                d = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if self.counting and len(d) >= 14 and d[12] == ETHERTYPE >> 8 and \
                    d[13] == ETHERTYPE & 0xff:
                self.count += 1

    def blast(self, size, n):
        frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x09" + \
            bytes([ETHERTYPE >> 8, ETHERTYPE & 0xff]) + bytes(size - 14)
        send, dst = self.sock.sendto, ("127.0.0.1", self.guest_port)
        t0 = time.monotonic()
        for _ in range(n):
            send(frame, dst)
        return time.monotonic() - t0

    def netdev(self):
        return f"socket,udp=127.0.0.1:{self.port},localaddr=127.0.0.1:{self.guest_port}"

    def close(self):
        self.stop = True
        self.t.join(1)
        self.sock.close()


def rx_rate(kv):
    """Frames per second a guest received: its count over its first-to-last time, but
    never over less than the time the frames took to send (when QEMU's socket buffer
    overflowed, the few frames that got through arrive in one burst)."""
    return int(kv["n"]) / max(int(kv["ns"]) / 1e9, kv["sent_s"], 1e-9)


def frame_size(w):
    return int(re.sub(r"\D", "", w.split("-")[0]))


def is_tcp(w):
    return w.startswith("tcp")


def tcp_sink(port, seconds):
    """Guest → host TCP: connect to 127.0.0.1:port (a forward to the guest's source) and
    read for `seconds` from the first byte; (bytes, bits per second), or None when the
    connection ended before half of that (nobody sent behind the forward)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        buf = bytearray(1 << 20)
        try:
            if not s.recv_into(buf):
                return None
        except socket.timeout:
            return None
        got, t0 = 0, time.monotonic()
        while True:
            n = s.recv_into(buf)
            if not n:
                break
            got += n
            if time.monotonic() - t0 >= seconds:
                break
        dt = time.monotonic() - t0
    if dt < seconds / 2:
        return None
    return got, got * 8 / dt


class NetMixin:
    """What every net guest has: its frame link, its forward, its iperf client."""

    def setup_net(self, args):
        self.link = FrameLink()
        self.fwds = {w: free_port(socket.SOCK_STREAM) for w in TCP_PORTS}
        self.fwd = self.fwds["tcp"]
        self.args = args
        frames = qemu.check_netdev(self.link.netdev())
        tcp = qemu.check_netdev(qemu.user_netdev([(self.fwds[w], p)
                                                  for w, p in TCP_PORTS.items()]))
        e = self.env
        self.argv = self.argv + [
            "-netdev", frames.replace(",", ",id=f0,", 1),
            "-device", rb.virtio_device("net", f"netdev=f0,mac={MAC_FRAMES}", e.iface,
                                        e.transport, e.ring),
            "-netdev", tcp.replace(",", ",id=t0,", 1),
            "-device", rb.virtio_device("net", f"netdev=t0,mac={MAC_TCP}", e.iface,
                                        e.transport, e.ring)]

    def sink(self, seconds):
        r = tcp_sink(self.fwds["tcp-tx"], seconds)
        return r and {"n": r[0], "rate": r[1] / 1e6}

    def iperf(self, seconds):
        exe = os.path.join(self.args.refs, "iperf", "iperf")
        r = subprocess.run([exe, "-c", "127.0.0.1", "-p", str(self.fwd), "-t", str(seconds),
                            "-y", "C"], capture_output=True, text=True, timeout=seconds + 30)
        lines = [x for x in r.stdout.splitlines() if x.count(",") >= 8]
        if not lines:
            raise BenchError(f"{self.name}: iperf: {r.stdout[-300:]} {r.stderr[-300:]}")
        f = lines[-1].split(",")
        a, _, b = f[-3].partition("-")
        if float(b) - float(a) < seconds / 2:
            # The connection ended early (nobody accepted it behind the forward).
            return None
        return int(f[-2]), float(f[-1])  # bytes, bits per second

    def rx(self, line, size, n):
        start = self.con.mark()
        self.send(line)
        self.con.expect(r"^RX READY\n", start, 60)
        sent_s = self.link.blast(size, n)
        m, _ = self.con.expect(r"^((RES|BENCH ERR|ERR) .*)\n", start, 60)
        if not m.group(1).startswith("RES"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        kv = parse_kv(m.group(1))
        kv["sent_s"] = sent_s
        return kv

    def tx(self, line):
        self.link.count = 0
        self.link.counting = True
        m, _ = self.command(line, r"^((RES|BENCH ERR|ERR) .*)\n")
        time.sleep(0.05)
        self.link.counting = False
        if not m.group(1).startswith("RES"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        kv = parse_kv(m.group(1))
        kv["host_got"] = self.link.count
        return kv

    def close(self):
        super().close()
        self.link.close()


# --- Paced receive: the highest rate a guest takes without loss ----------------------

PACED_MIN_FRAMES = 2000
PACED_START = 10000      # frames per second of the first trial of the first round
PACED_MAX = 2000000      # the ramp stops here
PACED_IDLE_MS = 150      # the guest gives up this long after its last frame
PACER_SRC = os.path.join(HERE, "net_pacer.c")


def build_pacer(out):
    """bench/net_pacer.c with the host's compiler, into OUT (rebuilt when older)."""
    exe = os.path.join(out, "net_pacer")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(PACER_SRC):
        subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-O2", "-Wall", "-Wextra",
                        "-Werror", "-o", exe, PACER_SRC], check=True)
    return exe


def paced_trial(guest, kind, size, rate, seconds):
    """One trial: the guest waits for n frames, the pacer sends them at rate.
    Returns (frames the guest got, frames sent, the rate the pacer kept)."""
    n = max(PACED_MIN_FRAMES, int(rate * seconds))
    start = guest.con.mark()
    guest.send(f"{kind} {n} {PACED_IDLE_MS}")
    guest.con.expect(r"^RX READY\n", start, 60)
    r = subprocess.run([guest.args.pacer, str(guest.link.guest_port), str(size), str(n),
                        f"{rate:.0f}"], capture_output=True, text=True, timeout=600)
    m, _ = guest.con.expect(r"^((RES|BENCH ERR|ERR) .*)\n", start, 60)
    if r.returncode or not r.stdout.startswith("SENT"):
        raise BenchError(f"{guest.name}: net_pacer: {r.stdout} {r.stderr}")
    if not m.group(1).startswith("RES"):
        raise BenchError(f"{guest.name}: {m.group(1)}")
    sent = parse_kv(r.stdout)
    kept = int(sent["n"]) * 1e9 / max(1, int(sent["ns"]))
    return int(parse_kv(m.group(1))["n"]), n, kept


def paced_search(guest, kind, size, args, start):
    """The highest rate without loss: double from start until a rate loses a
    frame (or halve until one loses none), then args.paced_steps bisection
    steps (geometric) between the highest loss-free rate and the lowest lossy
    one. A rate counts as lossy only when args.paced_tries trials in a row
    lose a frame: on a loaded host a guest's vCPU or QEMU's main loop can be
    kept off the CPU for long enough that the socket's buffer overflows at
    any rate, and one such trial says nothing about the guest. A trial's
    rate is at most the rate the pacer kept (frames over first-to-last
    send); when a trial without loss kept less than 70 % of what was asked,
    the search ends there and the sample is marked host-bound: the sender,
    not the guest, was the limit."""
    trials, ok, bad, limited = [], 0.0, None, False

    def trial(rate):
        nonlocal ok, bad, limited
        for _ in range(max(1, args.paced_tries)):
            got, n, kept = paced_trial(guest, kind, size, rate, args.paced_seconds)
            trials.append({"rate": rate, "kept": kept, "got": got, "sent": n})
            if got == n and kept < 0.7 * rate:
                limited = True  # the guest took all the sender managed
            if got == n:
                ok = max(ok, min(rate, kept))
                return True
        bad = rate if bad is None else min(bad, rate)
        return False

    rate = start
    if trial(rate):
        while not limited and rate < PACED_MAX and trial(rate * 2):
            rate *= 2
        if bad is None:
            bad = rate * 2
    else:
        while rate > 500 and not trial(rate / 2):
            rate /= 2
    for _ in range(args.paced_steps):
        if limited or not ok or bad is None or bad / ok < 1.05:
            break
        trial((ok * bad) ** 0.5)
    return {"rate": ok, "lossy": bad, "pacer_limited": limited, "trials": trials,
            "n": trials[-1]["got"], "sent": trials[-1]["sent"]}


class VioNetGuest(NetMixin, rb.Guest):
    kind = "vio"

    def __init__(self, name, argv, work, env, role, args):
        super().__init__(name, argv, work, env)
        self.role = role
        self.setup_net(args)
        self.started = set()  # the guest's TCP services running: iperf, source

    def boot(self):
        super().boot()
        m, _ = self.command("info", r"^(INFO .*|ERR .*)\n", 10)
        if m.group(1).startswith("ERR"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        self.info = parse_kv(m.group(1))
        want = {"transport": self.env.transport, "ring": self.env.ring}
        got = {k: self.info[k] for k in want if k in self.info}
        if got and got != want:
            raise BenchError(f"{self.name}: drives {got}, not the cell's {want}")

    def start_once(self, service):
        if service in self.started:
            return
        m, _ = self.command(service, r"^((RES|ERR) .*)\n")
        if m.group(2) == "ERR":
            raise BenchError(f"{self.name}: {m.group(1)}")
        self.started.add(service)

    def measure(self, col, w, n):
        if w == "tcp-tx":
            self.start_once("source")
            return self.sink(self.args.tcp_seconds)
        if w == "tcp":
            self.start_once("iperf")
            r = self.iperf(self.args.tcp_seconds)
            return r and {"n": r[0], "rate": r[1] / 1e6}
        size = frame_size(w)
        if w.endswith("-paced"):
            return self.paced(col, w, size)
        if w.startswith("rx"):
            kv = self.rx(f"{'barerx' if col == 'bare' else 'rx'} {n} {RX_IDLE_MS}", size, n)
            return {"n": int(kv["n"]), "ns": int(kv["ns"]), "sent": n, "irqs": int(kv["irqs"]),
                    "kicks": int(kv["kicks"]), "drops": int(kv["drops"]),
                    "sent_s": kv["sent_s"], "rate": rx_rate(kv)}
        kind = "bare" if col == "bare" else "tx"
        if col == "loop-poll":
            kind = "poll"
        kv = self.tx(f"{kind} {size} {n}")
        return {"n": int(kv["n"]), "ns": int(kv["ns"]), "irqs": int(kv.get("irqs", -1)),
                "kicks": int(kv.get("kicks", -1)), "host_got": kv["host_got"],
                "rate": int(kv["n"]) * 1e9 / max(1, int(kv["ns"])),
                "phases": {k: int(kv[k]) for k in PHASES if k in kv}}

    def paced(self, col, w, size):
        # Each search starts from this guest's last result: fewer ramp steps.
        last = getattr(self, "paced_last", {})
        s = paced_search(self, "barerx" if col == "bare" else "rx", size, self.args,
                         last.get((col, w), PACED_START))
        if s["rate"]:
            last[(col, w)] = s["rate"]
            self.paced_last = last
        return s

    def quit_command(self):
        return "quit"


class LinuxNetGuest(NetMixin, rb.LinuxGuest):
    def __init__(self, name, argv, work, env, args):
        super().__init__(name, argv, work, env)
        self.setup_net(args)

    def measure(self, col, w, n):
        if w == "tcp-tx":
            m, _ = self.command("ncsrc", r"^((RES|BENCH ERR) .*)\n")
            if not m.group(1).startswith("RES"):
                raise BenchError(f"{self.name}: {m.group(1)}")
            return self.sink(self.args.tcp_seconds)
        if w == "tcp":
            m, _ = self.command("nc", r"^((RES|BENCH ERR) .*)\n")
            if not m.group(1).startswith("RES"):
                raise BenchError(f"{self.name}: {m.group(1)}")
            r = self.iperf(self.args.tcp_seconds)
            return r and {"n": r[0], "rate": r[1] / 1e6}
        size = frame_size(w)
        if w.endswith("-paced"):
            return paced_search(self, "netrx", size, self.args, PACED_START)
        if w.startswith("rx"):
            kv = self.rx(f"netrx {n} {RX_IDLE_MS}", size, n)
            return {"n": int(kv["n"]), "ns": int(kv["ns"]), "sent": n,
                    "sent_s": kv["sent_s"], "rate": rx_rate(kv)}
        kv = self.tx(f"nettx {size} {n}")
        return {"n": int(kv["n"]), "ns": int(kv["ns"]), "host_got": kv["host_got"],
                "rate": int(kv["n"]) * 1e9 / max(1, int(kv["ns"]))}


def make_guests(args, env, work):
    """The guests of one cell (env: board, interface, transport, ring); the devices are
    NetMixin's, in the cell's layout."""
    base = rb.machine_argv(env.arch, env.iface)
    build = os.path.join(args.build_root, env.arch, "bench")
    suffix = qemu.ARCHES[env.arch].boot_suffix
    tag = env.tag()
    guests = []
    roles = [("vio-irq", "vio-net-bench"), ("vio-poll", "vio-net-bench-poll")]
    if not args.no_loop:
        roles.append(("loop", "net-indep-loop"))
    for role, fw in roles:
        image = os.path.join(build, fw + suffix)
        if not os.path.exists(image):
            if role == "loop":
                continue
            raise BenchError(f"{image} not found: build the {env.arch} firmware first")
        guests.append(VioNetGuest(f"{tag}-{role}", base + ["-kernel", image], work, env, role,
                                  args))
    if not args.no_linux and env.arch == "aarch64":
        img = os.path.join(args.refs, "linux", "Image")
        initrd = os.path.join(args.refs, "linux", "initrd.gz")
        if not os.path.exists(img):
            raise BenchError(f"{img} not found: run bench/fetch_refs.sh")
        guests.append(LinuxNetGuest(f"{tag}-linux", base + [
            "-kernel", img, "-initrd", initrd, "-append", rb.LINUX_APPEND], work, env, args))
    return guests


def columns_for(g, w):
    if isinstance(g, LinuxNetGuest):
        return ["linux"]
    if g.role == "loop":
        return [] if is_tcp(w) else ["loop-poll"]
    if g.role == "vio-poll" and w.startswith("tx"):
        return ["bare", "vio-poll"]
    if g.role == "vio-poll" and w.startswith("rx"):
        # The bare receive loop re-posts the driver's buffers, which the
        # driver's own receive (first) shows it.
        return ["vio-poll", "bare"]
    return [g.role]


def run_scenario(args, envs, work, log, scenarios_after=0):
    """Every cell of a scenario (envs) in one set of interleaved rounds; the results by
    cell (env.tag()): {"samples": {workload: {column: [sample]}}, "info": {guest: INFO}}."""
    guests = [g for env in envs for g in make_guests(args, env, work)]
    cells = {env.tag(): {"samples": {}, "info": {}} for env in envs}
    counts = {}
    progress = Progress((args.warmup + args.rounds)
                        * sum(len(columns_for(g, w)) for w in args.workloads for g in guests),
                        scenarios_after=scenarios_after, log=log)
    try:
        for g in guests:
            t = time.monotonic()
            g.start()
            log(f"  {g.name}: ready in {time.monotonic() - t:.1f} s")
            cells[g.env.tag()]["info"][g.name] = getattr(g, "info", {})
        total = args.warmup + args.rounds
        for r in range(total):
            t = time.monotonic()
            for w in args.workloads:
                k = r % len(guests)
                for g in guests[k:] + guests[:k]:
                    for col in columns_for(g, w):
                        key = (g.name, col, w)
                        n = counts.get(key, FIRST_COUNT)
                        g.resume()
                        try:
                            s = g.measure(col, w, n)
                        finally:
                            g.pause()
                        progress.step(f"{w} {col}")
                        if s is None:
                            log(f"  {g.name}: {w}: the connection ended early; no sample")
                            continue
                        if key not in counts and not is_tcp(w):
                            counts[key] = max(1000, min(COUNT_MAX, int(
                                args.target * s["rate"])))
                        if r >= args.warmup:
                            cells[g.env.tag()]["samples"].setdefault(w, {}).setdefault(
                                col, []).append(s)
            log(f"  round {r + 1}/{total}{' (warm-up)' if r < args.warmup else ''}: "
                f"{time.monotonic() - t:.1f} s")
    finally:
        for g in guests:
            g.close()
    return cells


def best(samples):
    return max(s["rate"] for s in samples) if samples else None


def cell(w, samples):
    if not samples:
        return "—"
    b = best(samples)
    worst = min(s["rate"] for s in samples)
    text = f"{b:,.1f} Mbit/s" if is_tcp(w) else (
        f"{b / 1000:.1f}k fps")
    if w.endswith("-paced"):
        text += paced_note(samples, b)
    elif w.startswith("rx"):
        lost = min(1 - s["n"] / s["sent"] for s in samples if s["rate"] == b)
        text += f", {lost * 100:.0f}% lost"
    if len(samples) > 1 and b > 0:
        text += f" ({(b - worst) / b * 100:.0f}%)"
    return text


def paced_note(samples, b):
    """What bounds a paced figure: the pacer (the host), when it could not go faster."""
    return " (host-bound)" if any(s["pacer_limited"] for s in samples if s["rate"] == b) else ""


def ratio(s, a, b):
    x, y = best(s.get(a)), best(s.get(b))
    if not x or not y:
        return "—"
    return f"{x / y:.2f}×"


def cell_title(env):
    transport = "virtio-pci" if env.transport == "pci" else "virtio-mmio"
    return f"{env.arch}, {env.iface} {transport}, {env.ring} ring"


def report(env, res, workloads):
    out = [f"### {cell_title(env)}\n"]
    info = next((v for k, v in res["info"].items() if k.endswith("vio-irq") and v), None)
    if info:
        out.append(f"vio: {info.get('iface')} device, event index {info.get('event_idx')}, "
                   f"indirect descriptors {info.get('indirect')}, mergeable receive buffers "
                   f"{info.get('mrg_rxbuf')}, rings of {info.get('tx_queue')} / "
                   f"{info.get('rx_queue')}.\n")
    samples = res["samples"]
    present = [c for c in COLUMNS if any(c[0] in samples.get(w, {}) for w in workloads)]
    keys = [c[0] for c in present]
    head = ["workload"] + [c[1] for c in present]
    if "linux" in keys:
        head.append("vio ÷ Linux, irq / poll")
    if "bare" in keys:
        head.append("bare ÷ vio (time), irq / poll")
    if "loop-poll" in keys:
        head.append("vio poll ÷ indep. loop (time)")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for w in workloads:
        s = samples.get(w, {})
        row = [LABELS[w]] + [cell(w, s.get(c)) for c in keys]
        if "linux" in keys:
            row.append(f"{ratio(s, 'vio-irq', 'linux')} / {ratio(s, 'vio-poll', 'linux')}")
        if "bare" in keys:
            row.append(f"{ratio(s, 'bare', 'vio-irq')} / {ratio(s, 'bare', 'vio-poll')}"
                       if "bare" in s else "—")
        if "loop-poll" in keys:
            row.append(ratio(s, "loop-poll", "vio-poll") if "loop-poll" in s else "—")
        out.append("| " + " | ".join(row) + " |")
    # Where a transmitted frame's time goes: the best round's steps, per frame.
    prof = []
    for w in workloads:
        if not w.startswith("tx"):
            continue
        for col, title in present:
            ss = samples.get(w, {}).get(col)
            if not ss or not ss[0].get("phases"):
                continue
            b = max(ss, key=lambda x: x["rate"])
            steps = ", ".join(f"{k} {v / b['n'] / 1000:.2f}" for k, v in b["phases"].items())
            prof.append(f"| {LABELS[w]} | {title} | {b['ns'] / b['n'] / 1000:.2f} | {steps} |")
    if prof:
        out.append("\nµs per transmitted frame, best round (q vio_net_queue, k kick, w "
                   "completions and waiting; loops: e filling the ring, s spinning and "
                   "taking the used entries, d vio_vq_dequeue):\n")
        out.append("| workload | guest | µs per frame | steps (µs per frame) |")
        out.append("|---|---|---|---|")
        out += prof
    # Notifications and interrupts per frame, from vio's own counters.
    notes = []
    for w in workloads:
        for col in ("vio-irq", "vio-poll", "bare"):
            ss = res["samples"].get(w, {}).get(col)
            if ss and ss[0].get("kicks", -1) >= 0:
                n = sum(x["n"] for x in ss)
                notes.append(f"{LABELS[w]}, {col}: {sum(x['kicks'] for x in ss) / n:.4f} "
                             f"kicks and {sum(x['irqs'] for x in ss) / n:.4f} interrupts "
                             f"per frame")
    if notes:
        out.append("\n" + "; ".join(notes) + ".")
    return "\n".join(out) + "\n"


def layout_table(envs, cells, workloads):
    """The cells of one scenario side by side, each beside its own floors: the bare loop
    (vio's virtqueue functions alone, transmit only) and the independent loop, with vio's
    time per frame over each floor's."""
    out = [f"### {envs[0].arch}, {envs[0].iface}: every layout, one interleaved run\n",
           "| layout | workload | bare loop | indep. loop | vio irq | vio poll | "
           "vio ÷ bare (time), irq / poll | vio poll ÷ indep. loop (time) |",
           "|---|---|---|---|---|---|---|---|"]
    for env in envs:
        res = cells.get(env.tag())
        if not res:
            continue
        name = f"{env.transport} {env.ring}"
        for w in workloads:
            s = res["samples"].get(w, {})
            if not s:
                continue
            bare = cell(w, s.get("bare")) if "bare" in s else "—"
            indep = cell(w, s["loop-poll"]) if "loop-poll" in s else "—"
            row = [name, LABELS[w], bare, indep, cell(w, s.get("vio-irq")),
                   cell(w, s.get("vio-poll")),
                   f"{ratio(s, 'bare', 'vio-irq')} / {ratio(s, 'bare', 'vio-poll')}"
                   if "bare" in s else "—",
                   ratio(s, "loop-poll", "vio-poll") if "loop-poll" in s else "—"]
            out.append("| " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: modern interface, one short round")
    p.add_argument("--arch", action="append", choices=sorted(qemu.ARCHES))
    p.add_argument("--iface", action="append", choices=("legacy", "modern"))
    p.add_argument("--transport", action="append", choices=qemu.TRANSPORTS)
    p.add_argument("--ring", action="append", choices=qemu.RINGS)
    p.add_argument("--rounds", type=int, default=None, help="measured rounds (default 5)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up rounds (default 1)")
    p.add_argument("--target", type=float, default=None,
                   help="seconds one frame measurement should take (default 0.2)")
    p.add_argument("--tcp-seconds", type=int, default=None,
                   help="seconds of one iperf run (default 3)")
    p.add_argument("--workload", action="append", choices=WORKLOADS)
    p.add_argument("--build-root", default=os.path.join(ROOT, "build"))
    p.add_argument("--refs", default=os.path.join(ROOT, "build", "bench", "refs"))
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    p.add_argument("--no-linux", action="store_true")
    p.add_argument("--no-loop", action="store_true", help="leave out the independent loop")
    p.add_argument("--paced-steps", type=int, default=4,
                   help="bisection steps of a paced search after its ramp (default 4)")
    p.add_argument("--paced-tries", type=int, default=2,
                   help="lossy trials in a row before a rate counts as lossy (default 2)")
    p.add_argument("--paced-seconds", type=float, default=0.15,
                   help="seconds of frames per paced trial (at least 2000 frames)")
    args = p.parse_args()
    if args.quick:
        args.iface = args.iface or ["modern"]
        args.rounds = 1 if args.rounds is None else args.rounds
        args.target = 0.1 if args.target is None else args.target
        args.tcp_seconds = 2 if args.tcp_seconds is None else args.tcp_seconds
    args.arch = args.arch or ["aarch64", "riscv64"]
    args.iface = args.iface or ["legacy", "modern"]
    args.transport = args.transport or ["mmio"]
    args.ring = args.ring or ["split"]
    args.rounds = 5 if args.rounds is None else max(1, args.rounds)
    args.warmup = 1 if args.warmup is None else max(1, args.warmup)
    args.target = 0.2 if args.target is None else args.target
    args.tcp_seconds = 3 if args.tcp_seconds is None else max(1, args.tcp_seconds)
    args.workloads = [w for w in WORKLOADS if not args.workload or w in args.workload]
    args.build_root = os.path.abspath(args.build_root)
    args.refs = os.path.abspath(args.refs)
    if "tcp" in args.workloads and not os.path.exists(os.path.join(args.refs, "iperf", "iperf")):
        print("run_net_bench: no iperf in the refs: run bench/fetch_refs.sh", file=sys.stderr)
        return 1

    out = os.path.abspath(args.out)
    if any(w.endswith("-paced") for w in args.workloads):
        os.makedirs(out, exist_ok=True)
        args.pacer = build_pacer(out)
    logs = os.path.join(out, "logs")
    work = os.path.join(out, "work-net")
    os.makedirs(logs, exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_all = time.monotonic()
    load0 = os.getloadavg()[0]
    md, all_res, status = [], {}, 0
    scenarios = [(a, i) for a in args.arch for i in args.iface]
    for k, (arch, iface) in enumerate(scenarios):
        envs = [rb.Env(arch, iface, "net", logs, t, r)
                for t, r in rb.layouts(args.transport, args.ring, iface)]
        if not envs:
            log(f"  {arch} {iface}: no layout (packed rings need the modern interface)")
            continue
        scenario_header(k + 1, len(scenarios), f"{arch} {iface}", log)
        try:
            cells = run_scenario(args, envs, work, log, len(scenarios) - k - 1)
        except BenchError as e:
            log(f"  failed: {e}")
            status = 1
            continue
        all_res.update(cells)
        for env in envs:
            text = report(env, cells[env.tag()], args.workloads)
            md.append(text)
            print(text, flush=True)
        if len(envs) > 1:
            text = layout_table(envs, cells, args.workloads)
            md.append(text)
            print(text, flush=True)
    qv = subprocess.run([qemu.ARCHES["aarch64"].qemu, "--version"], capture_output=True,
                        text=True).stdout.splitlines()
    versions = os.path.join(args.refs, "VERSIONS")
    ver = open(versions).read().strip().replace("\n", "; ") if os.path.exists(versions) else ""
    foot = (f"{qv[0] if qv else 'QEMU'}, TCG; references: {ver or 'none'}; "
            f"{os.cpu_count()} host cores; load average (1 min) {load0:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end; {args.rounds} rounds after "
            f"{args.warmup} warm-up; {time.monotonic() - t_all:.0f} s in all.")
    print(foot)
    md.append(foot + "\n")
    with open(os.path.join(out, "net-results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "net-results.json"), "w") as f:
        json.dump({k: {"samples": r["samples"], "info": r["info"]} for k, r in all_res.items()},
                  f, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main())
