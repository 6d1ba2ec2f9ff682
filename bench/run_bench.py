#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""virtio-blk benchmark: vio against U-Boot and Linux on the same QEMU.

  run_bench.py [--quick] [--arch A]... [--iface legacy|modern]... [--backend null|file]...
               [--transport mmio|pci]... [--ring split|packed]...
               [--rounds N] [--warmup N] [--scale F] [--workload NAME]...
               [--build-root DIR] [--baseline DIR] [--refs DIR] [--out DIR]
               [--no-linux] [--no-uboot] [--no-loop]

For every scenario (board, interface, block backend, transport, ring
layout) it boots each guest once, on the same QEMU command line but for
what is booted. The transport is virtio-mmio (default) or virtio-pci
(--transport pci: a virtio-blk-pci function, modern or transitional with
its modern interface off, as the interface says); the ring is split
(default) or packed (--ring packed: the device offers VIRTIO_F_RING_PACKED,
modern only). The independent loop runs in every scenario, beside vio's
bare loop (vio's own ring calls, the `bare` column); U-Boot runs on
virtio-mmio with split rings only.

  vio irq    bench/blk_bench.c built with the user's configuration
             (interrupt-driven by default);
  vio poll   the same built with the `poll` configuration; it also runs the
             bare loop (the virtqueue work alone, polled, with vio's own
             virtqueue functions);
  loop       bench/indep_loop.c, the independent loop: virtio-mmio (legacy
             and modern), virtio-pci (modern, and a transitional function's
             legacy I/O BAR), split and packed rings, all written from the
             spec (indep_virtio.c, indep_virtio_pci.c, indep_ring.h), no vio
             code at all, polled (spinning on the ring) and
             interrupt-driven (wfi until the device's interrupt: virtio-mmio's
             line or the PCI function's INTx, no MSI-X), at every depth;
  baseline   with --baseline DIR: vio irq and vio poll again, built from
             another commit (bench/build_baseline.sh puts them in DIR), so a
             change's before / after ratios come from one interleaved run;
  U-Boot     Debian's u-boot-qemu (its polled virtio driver), block cache
             off (`blkcache configure 0 0`);
  Linux      Debian's arm64 kernel with a busybox initramfs (aarch64 only).

Then every guest but the one measuring is paused (QMP stop), so the guests
never compete for the two host cores, and the workloads run interleaved:
each round runs every workload on every guest in turn, the order of the
guests rotating from round to round; the first rounds are a warm-up. For
each figure the best round counts and the spread (worst against best) is
reported; ratios are taken between bests of the same run.

How each guest is timed:
  vio        in the guest: the firmware's clock around the loop, nothing
             printed while it runs;
  U-Boot     from the host: a hush `while` loop of N `virtio read` (or
             write) commands in one command line, less the same loop with
             `true` in their place (its shell). `virtio read` prints about
             70 characters per command, and every character on the emulated
             UART costs one to two microseconds here, so the same loop with
             an `echo` of that text is timed too: "less its text" takes
             that off as well (closer to the driver alone, but the
             difference of two long loops, hence noisier);
  Linux      in the guest, /proc/timer_list around one O_DIRECT dd of N
             blocks (32 dd processes on disjoint ranges for depth 32), less
             the same dd of 0 blocks. busybox dd cannot do O_DIRECT below a
             page (it falls back to the page cache), so Linux has no 512 B
             figures; its write figures include dd's reading of /dev/zero.

Notifications and interrupts per request are counted from the host with
QEMU's trace events virtio_queue_notify (the driver's notifications) and
virtio_notify (the interrupts the device raises), switched on over QMP
around one extra run of each workload, and in vio's guest (its notify hook,
the device's irq_count).

Workloads: 512 B and 4 KiB reads at depth 1 and 32 (IOPS); 64 KiB and 1 MiB
sequential reads and writes at depth 1 (MiB/s). The tables go to stdout and
to OUT/results.md, every sample to OUT/results.json, the consoles to
OUT/logs/. Nothing fails on a timing: the exit status is 0 unless a guest
could not be run.
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
from dataclasses import dataclass, field

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import qemu  # noqa: E402  (scripts/qemu.py: the boards' QEMU machines)
sys.path.insert(0, HERE)
from progress import Progress, scenario_header  # noqa: E402

MIB = 1 << 20
DISK_BYTES = 256 * MIB       # both backends; the workloads walk the first 64 MiB
UBOOT_BUF = {"aarch64": 0x40200000, "riscv64": 0x84000000}
LINUX_APPEND = "console=ttyAMA0 quiet"


# --------------------------------------------------------------------------
# Workloads


@dataclass(frozen=True)
class Workload:
    name: str
    op: str        # read | write
    bs: int        # bytes per request
    depth: int     # requests in flight
    seq: bool      # reported in MiB/s (else IOPS)

    @property
    def label(self):
        size = f"{self.bs // MIB} MiB" if self.bs >= MIB else (
            f"{self.bs // 1024} KiB" if self.bs >= 1024 else f"{self.bs} B")
        if self.seq:
            return f"{size} seq {self.op}"
        return f"{size} {self.op}, depth {self.depth}"


WORKLOADS = [
    Workload("r512q1", "read", 512, 1, False),
    Workload("r4kq1", "read", 4096, 1, False),
    Workload("r512q32", "read", 512, 32, False),
    Workload("r4kq32", "read", 4096, 32, False),
    Workload("r64k", "read", 64 * 1024, 1, True),
    Workload("r1m", "read", MIB, 1, True),
    Workload("w64k", "write", 64 * 1024, 1, True),
    Workload("w1m", "write", MIB, 1, True),
]

# Requests of the first (calibrating) warm-up measurement, by guest kind;
# later ones are sized to take about --target seconds each.
FIRST_COUNT = {"vio": 2000, "uboot": 200, "linux": 200}
SEQ_FIRST_COUNT = {"vio": 256, "uboot": 48, "linux": 48}
COUNT_MAX = 200000

# Columns of the tables: (key, title).
COLUMNS = [("bare", "bare loop"), ("loop-poll", "indep. loop poll"),
           ("loop-irq", "indep. loop irq"), ("vio-irq", "vio irq"), ("vio-poll", "vio poll"),
           ("base-irq", "baseline irq"), ("base-poll", "baseline poll"),
           ("uboot", "U-Boot"), ("linux", "Linux")]


@dataclass
class Sample:
    n: int                  # requests
    total: float            # ns for all of them, as timed
    base: dict = field(default_factory=dict)  # ns of the baselines to take off (U-Boot, Linux)
    irqs: int = -1          # guest-side interrupts (-1: unknown)
    kicks: int = -1         # guest-side notifications (-1: unknown)
    phases: dict = field(default_factory=dict)  # ns in all, per step (vio prof / bare)
    clock: int = 0          # ns of one clock read (vio)

    def per_req(self, base=None):
        return (self.total - (self.base[base] if base else 0)) / self.n


class BenchError(Exception):
    pass


# --------------------------------------------------------------------------
# QEMU plumbing


class Console:
    """A guest's UART on QEMU's stdio, read by a thread that timestamps each chunk."""

    def __init__(self, proc, log_path):
        self.proc = proc
        self.buf = ""
        self.stamps = []  # (end offset in buf, monotonic time it arrived)
        self.err = ""
        self.cond = threading.Condition()
        self.closed = False
        self.log = open(log_path, "w", encoding="utf-8", errors="replace")
        self.t_out = threading.Thread(target=self._pump, args=(proc.stdout, False), daemon=True)
        self.t_err = threading.Thread(target=self._pump, args=(proc.stderr, True), daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _pump(self, f, is_err):
        while True:
            try:
                chunk = os.read(f.fileno(), 65536)
            except OSError:
                chunk = b""
            now = time.monotonic()
            with self.cond:
                if not chunk:
                    if not is_err:
                        self.closed = True
                    self.cond.notify_all()
                    return
                text = chunk.decode("utf-8", "replace").replace("\r", "")
                if is_err:
                    self.err += text
                else:
                    self.buf += text
                    self.stamps.append((len(self.buf), now))
                    if len(self.stamps) > 4096:
                        del self.stamps[:2048]
                self.log.write(text)
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.buf)

    def expect(self, pattern, start, timeout):
        """(match, arrival time) of the first match of pattern after start."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    t = next((ts for end, ts in self.stamps if end >= m.end()), time.monotonic())
                    return m, t
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    tail = self.buf[-600:]
                    why = "QEMU exited" if self.closed else f"no /{pattern}/ in {timeout:g} s"
                    raise BenchError(f"{why}; console ends with:\n{tail}\n{self.err[-600:]}")
                self.cond.wait(left)

    def close(self):
        self.t_out.join(2)
        self.t_err.join(2)
        self.log.close()


class Qmp:
    """A minimal QMP client on a Unix socket."""

    def __init__(self, path, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise BenchError(f"cannot connect to QMP at {path}")
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.f = self.sock.makefile("rwb")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self):
        line = self.f.readline()
        if not line:
            raise BenchError("QMP connection closed")
        return json.loads(line)

    def execute(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            r = self._read()
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise BenchError(f"QMP {cmd}: {r['error'].get('desc')}")

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass


class Guest:
    """One QEMU with a guest that answers one command line with one result line."""

    kind = "guest"
    ready = r"BENCH READY.*\n"
    boot_timeout = 60

    def __init__(self, name, argv, work, env):
        self.name = name
        self.argv = argv
        self.work = work
        self.env = env
        self.proc = None
        self.con = None
        self.qmp = None
        self.trace = os.path.join(work, f"{name}.trace")

    def start(self):
        qmp_path = os.path.join(self.work, f"{self.name}.qmp")
        for p in (qmp_path, self.trace):
            if os.path.exists(p):
                os.unlink(p)
        argv = self.argv + ["-qmp", f"unix:{qmp_path},server=on,wait=off", "-D", self.trace]
        self.cmdline = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = Console(self.proc, os.path.join(self.env.logs, f"{self.name}.log"))
        self.qmp = Qmp(qmp_path)
        self.boot()
        self.pause()

    def boot(self):
        self.con.expect(self.ready, 0, self.boot_timeout)

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def command(self, line, pattern, timeout=120):
        start = self.con.mark()
        t0 = time.monotonic()
        self.send(line)
        m, t1 = self.con.expect(pattern, start, timeout)
        return m, t1 - t0

    def pause(self):
        self.qmp.execute("stop")

    def resume(self):
        self.qmp.execute("cont")

    def trace_events(self, on):
        for ev in ("virtio_queue_notify", "virtio_notify"):
            self.qmp.execute("trace-event-set-state", name=ev, enable=on)

    def quit_command(self):
        return None

    def close(self):
        if not self.proc:
            return
        try:
            if self.proc.poll() is None:
                self.resume()
                q = self.quit_command()
                if q:
                    self.send(q)
                self.proc.wait(5)
        except (BenchError, OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.qmp:
            self.qmp.close()
        self.con.close()


def parse_kv(text):
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", text)}


class VioGuest(Guest):
    kind = "vio"

    def __init__(self, name, argv, work, env, role):
        super().__init__(name, argv, work, env)
        self.role = role  # vio-irq, vio-poll, base-irq, base-poll, loop

    def boot(self):
        super().boot()
        m, _ = self.command("info", r"^(INFO .*|ERR .*)\n", 10)
        if m.group(1).startswith("ERR"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        self.info = parse_kv(m.group(1))

    def run(self, kind, w, n):
        m, _ = self.command(f"run {kind} {w.op} {w.bs} {w.depth} {n}", r"^((RES|ERR) .*)\n")
        if m.group(2) == "ERR":
            raise BenchError(f"{self.name}: {m.group(1)}")
        kv = parse_kv(m.group(1))
        phases = {k: int(kv[k]) for k in ("q", "k", "w", "r", "e", "s", "d") if k in kv}
        return Sample(int(kv["n"]), int(kv["ns"]), irqs=int(kv["irqs"]), kicks=int(kv["kicks"]),
                      phases=phases, clock=int(kv.get("t", 0)))

    def measure(self, col, w, n):
        if col == "bare":
            return self.run("bare", w, n)
        if col.startswith("loop-"):
            return self.run(col[5:], w, n)  # poll | irq
        return self.run("async" if w.depth > 1 else "sync", w, n)

    def quit_command(self):
        return "quit"


class UBootGuest(Guest):
    kind = "uboot"
    ready = r"^=> "

    def boot(self):
        # Any key stops the autoboot countdown; keep pressing until the prompt shows.
        deadline = time.monotonic() + self.boot_timeout
        while True:
            self.send("")
            try:
                self.con.expect(r"^=> ", 0, 0.5)
                break
            except BenchError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.2)
        # The block cache would serve repeated small reads without the device.
        self.command('virtio scan; blkcache configure 0 0; echo @RE""ADY', r"^@READY\n", 20)
        self.info = {}

    def loop(self, body, n, step):
        """ns for N iterations of body in a hush while loop, one command line, timed by the host."""
        line = (f"setenv i 0; setenv b 0; while itest $i -lt {n:x}; do {body}; "
                f"setexpr i $i + 1; setexpr b $b + {step:x}; done; echo @E\"\"ND")
        if len(line) >= 500:
            raise BenchError("U-Boot command line too long")
        _, dt = self.command(line, r"^@END\n")
        return dt * 1e9

    def io_body(self, w):
        cnt = w.bs // 512
        return f"virtio {w.op} {UBOOT_BUF[self.env.arch]:x} $b {cnt:x}"

    def echo_body(self, w):
        # What `virtio read` / `virtio write` prints for each command ("\n%s read: device
        # %d block # %lu, count %lu ... " and "%ld blocks read: %s\n"), as long give or take
        # a digit: U-Boot prints the block number in decimal, $b is hex.
        cnt = w.bs // 512
        verb = "read" if w.op == "read" else "written"
        text = f"virtio {w.op}: device 0 block # $b, count {cnt} ... {cnt} blocks {verb}: OK"
        return f'echo " {text}"'

    def measure(self, col, w, n):
        step = w.bs // 512
        io = self.loop(self.io_body(w), n, step)
        empty = self.loop("true", n, step)
        echo = self.loop(self.echo_body(w), n, step)
        return Sample(n, io, base={"empty": empty, "echo": echo})

    def quit_command(self):
        return "poweroff"


class LinuxGuest(Guest):
    kind = "linux"
    boot_timeout = 120

    def cmd(self, line):
        m, _ = self.command(line, r"^(RES .*|BENCH ERR .*)\n")
        if m.group(1).startswith("BENCH ERR"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        return parse_kv(m.group(1))

    def measure(self, col, w, n):
        if w.depth == 1:
            full = self.cmd(f"dd {w.op} {w.bs} {n} 0")
            empty = self.cmd(f"dd {w.op} {w.bs} 0 0")
        else:
            per = max(1, n // w.depth)
            n = per * w.depth
            full = self.cmd(f"par {w.op} {w.bs} {per} {w.depth}")
            empty = self.cmd(f"par {w.op} {w.bs} 0 {w.depth}")
        return Sample(n, int(full["ns"]), base={"empty": int(empty["ns"])},
                      irqs=int(full["irqs"]))

    def quit_command(self):
        return "quit"


# --------------------------------------------------------------------------
# Scenarios


@dataclass
class Env:
    arch: str
    iface: str
    backend: str
    logs: str
    transport: str = "mmio"
    ring: str = "split"

    def plain(self):
        """virtio-mmio with split rings: the only layout U-Boot is run on."""
        return self.transport == "mmio" and self.ring == "split"

    def key(self):
        return (self.arch, self.iface, self.backend, self.transport, self.ring)

    def tag(self):
        t = f"{self.arch}-{self.iface}-{self.backend}"
        return t if self.plain() else f"{t}-{self.transport}-{self.ring}"


def machine_argv(arch, iface):
    """The QEMU command line of a board every guest of a benchmark shares, without devices."""
    a = qemu.ARCHES[arch]
    argv = [a.qemu, *a.machine, "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-nic", "none"]
    if iface == "modern":
        # 4.2: QEMU's virtio-mmio speaks version 1 unless told otherwise.
        argv += ["-global", "virtio-mmio.force-legacy=false"]
    return argv


def layouts(transports, rings, iface):
    """The (transport, ring) cells an interface can run: packed rings are modern only (2.8)."""
    return [(t, r) for t in transports for r in rings if r == "split" or iface == "modern"]


def virtio_device(kind, props, iface, transport="mmio", ring="split"):
    """The -device value of a virtio-KIND device (blk, net) with props, in one layout:
    virtio-mmio (its interface is the machine's, above) or a virtio-pci function, modern
    only or transitional with its modern interface off (4.1.5), without an option ROM
    (the firmwares boot without one); the packed ring asked for with packed=on."""
    if transport == "pci":
        dev = f"virtio-{kind}-pci,{props}{qemu.PCI_IFACE_PROPS[iface]},romfile="
    else:
        dev = f"virtio-{kind}-device,{props}"
    if ring == "packed":
        if iface != "modern":
            raise BenchError("packed rings need the modern interface")
        dev += ",packed=on"
    return dev


def base_argv(arch, iface, backend, disk, transport="mmio", ring="split"):
    """The QEMU command line every guest of a scenario shares."""
    argv = machine_argv(arch, iface)
    if backend == "null":
        drive = f"if=none,id=blk0,driver=null-co,size={DISK_BYTES},read-zeroes=on"
    else:
        # One image for all the guests of the run, which never run at once.
        drive = f"if=none,id=blk0,file={disk},format=raw,file.locking=off"
    argv += ["-drive", drive, "-device", virtio_device("blk", "drive=blk0", iface, transport,
                                                       ring)]
    return argv


def make_disk(path):
    if os.path.exists(path) and os.path.getsize(path) == DISK_BYTES:
        return
    chunk = bytes((i * 131 + 7) & 0xff for i in range(MIB))
    with open(path + ".tmp", "wb") as f:
        for _ in range(DISK_BYTES // MIB):
            f.write(chunk)
    os.replace(path + ".tmp", path)


def make_guests(args, env, work, disk):
    base = base_argv(env.arch, env.iface, env.backend, disk, env.transport, env.ring)
    build = os.path.join(args.build_root, env.arch, "bench")
    suffix = qemu.ARCHES[env.arch].boot_suffix
    tag = env.tag()
    guests = []
    vios = [("vio-irq", build, "vio-blk-bench"), ("vio-poll", build, "vio-blk-bench-poll")]
    if not args.no_loop:
        vios.append(("loop", build, "blk-indep-loop"))
    if args.baseline:
        bdir = os.path.join(args.baseline, env.arch, "bench")
        vios += [("base-irq", bdir, "vio-blk-bench"), ("base-poll", bdir, "vio-blk-bench-poll")]
    for role, where, fw in vios:
        image = os.path.join(where, fw + suffix)
        if not os.path.exists(image):
            raise BenchError(f"{image} not found: build the {env.arch} firmware first")
        guests.append(VioGuest(f"{tag}-{role}", base + ["-kernel", image], work, env, role))
    if not args.no_uboot and env.plain():
        if env.arch == "aarch64":
            ub = os.path.join(args.refs, "u-boot", "qemu_arm64", "u-boot.bin")
            extra = ["-bios", ub]
        else:
            # OpenSBI (-bios default) starts the S-mode U-Boot as it starts a kernel.
            ub = os.path.join(args.refs, "u-boot", "qemu-riscv64_smode", "u-boot.bin")
            extra = ["-kernel", ub]
        if not os.path.exists(ub):
            raise BenchError(f"{ub} not found: run bench/fetch_refs.sh")
        guests.append(UBootGuest(f"{tag}-uboot", base + extra, work, env))
    if not args.no_linux and env.arch == "aarch64":
        img = os.path.join(args.refs, "linux", "Image")
        initrd = os.path.join(args.refs, "linux", "initrd.gz")
        if not os.path.exists(img):
            raise BenchError(f"{img} not found: run bench/fetch_refs.sh")
        guests.append(LinuxGuest(f"{tag}-linux", base + ["-kernel", img, "-initrd", initrd,
                                                          "-append", LINUX_APPEND], work, env))
    return guests


def columns_for(guest, w):
    """The table columns guest fills for workload w."""
    if isinstance(guest, VioGuest):
        if guest.role == "loop":
            return ["loop-poll", "loop-irq"]
        if guest.role == "vio-poll" and w.op == "read" and w.depth == 1 and not w.seq:
            return ["bare", "vio-poll"]
        return [guest.role]
    if isinstance(guest, UBootGuest):
        return ["uboot"] if w.depth == 1 else []  # its driver waits for each request
    # busybox dd cannot do O_DIRECT below a page: it falls back to the page cache.
    return ["linux"] if w.bs >= 4096 else []


def value(col, s):
    """ns per request of a sample for a column: net of the guest's baseline."""
    if col == "uboot-text":
        return s.per_req("echo")
    if col in ("uboot", "linux"):
        return s.per_req("empty")
    return s.per_req()


def best(col, samples):
    """The best figure of a column: each part at its best (the smallest time)."""
    if not samples:
        return None
    gross = min(s.total / s.n for s in samples)
    if col in ("uboot", "linux", "uboot-text"):
        key = "echo" if col == "uboot-text" else "empty"
        return gross - min(s.base[key] / s.n for s in samples)
    return gross


def spread(col, samples):
    """Slowest round against the best, in percent of the best time."""
    b = best(col, samples)
    if not b or b <= 0:
        return float("nan")
    return (max(value(col, s) for s in samples) - b) / b * 100


def profile_runs(g):
    """The profile loops of guest g: (kind, workload) pairs (none but for vio's guests)."""
    if not isinstance(g, VioGuest) or g.role not in ("vio-irq", "vio-poll"):
        return []
    runs = [("prof", w) for w in WORKLOADS if w.name in ("r4kq1", "r4kq32")]
    if g.role == "vio-poll":
        runs += [("bare", w) for w in WORKLOADS if w.name == "r4kq1"]
    return runs


def run_scenario(args, env, work, disk, log, scenarios_after=0):
    guests = make_guests(args, env, work, disk)
    res = {"samples": {}, "counts": {}, "profile": {}, "info": {}, "uboot_loop": {}}
    counts = {}  # (guest, column, workload) -> requests per measurement
    # Cells: every round's measurements, one counted run of each, the profile loops.
    per_round = sum(len(columns_for(g, w)) for w in args.workloads for g in guests)
    progress = Progress((args.warmup + args.rounds + 1) * per_round
                        + sum(len(profile_runs(g)) for g in guests) * max(1, args.rounds),
                        scenarios_after=scenarios_after, log=log)

    def measure(g, col, w, scale=1.0):
        key = (g.name, col, w.name)
        n = counts.get(key)
        if n is None:
            n = (SEQ_FIRST_COUNT if w.seq else FIRST_COUNT)[g.kind]
        n = max(w.depth, int(n * scale))
        g.resume()
        try:
            s = g.measure(col, w, n)
        finally:
            g.pause()
        progress.step(f"{w.name} {col}")
        if key not in counts:
            # Size the next ones to the target time: of the loop for U-Boot (whose shell
            # dominates), of the I/O without the empty dd for Linux (whose 32 processes
            # take long to start), of all for vio.
            per = value(col, s) if col == "linux" else s.total / s.n
            if per <= 0:
                per = s.total / s.n / 4
            counts[key] = max(w.depth, min(COUNT_MAX, int(args.target * 1e9 / per)))
        return s

    try:
        for g in guests:
            t = time.monotonic()
            g.start()
            log(f"  {g.name}: ready in {time.monotonic() - t:.1f} s")
            res["info"][g.name] = getattr(g, "info", {})
        total = args.warmup + args.rounds
        for r in range(total):
            t = time.monotonic()
            for w in args.workloads:
                k = r % len(guests)
                for g in guests[k:] + guests[:k]:
                    for col in columns_for(g, w):
                        s = measure(g, col, w)
                        if r >= args.warmup:
                            res["samples"].setdefault(w.name, {}).setdefault(col, []).append(s)
                            if col == "uboot":
                                res["samples"][w.name].setdefault("uboot-text", []).append(s)
            log(f"  round {r + 1}/{total}{' (warm-up)' if r < args.warmup else ''}: "
                f"{time.monotonic() - t:.1f} s")

        # Host-side counts: one more (shorter) run of each, with the trace events on.
        t = time.monotonic()
        for w in args.workloads:
            for g in guests:
                for col in columns_for(g, w):
                    off = os.path.getsize(g.trace) if os.path.exists(g.trace) else 0
                    g.resume()
                    try:
                        g.trace_events(True)
                    finally:
                        g.pause()
                    try:
                        s = measure(g, col, w, 0.5)
                    finally:
                        g.resume()
                        g.trace_events(False)
                        g.pause()
                    with open(g.trace, "rb") as f:
                        f.seek(off)
                        text = f.read().decode("utf-8", "replace")
                    notes = len(re.findall(r"\bvirtio_queue_notify\b", text))
                    irqs = len(re.findall(r"\bvirtio_notify\b(?!_)", text))
                    res["counts"].setdefault(w.name, {})[col] = {
                        "n": s.n, "host_notify": notes, "host_irq": irqs,
                        "guest_kicks": s.kicks, "guest_irqs": s.irqs}
        log(f"  notification counts: {time.monotonic() - t:.1f} s")

        # Where the time of a 4 KiB read goes, in vio's guests, at depth 1 and 32.
        t = time.monotonic()
        for g in guests:
            col = g.role if isinstance(g, VioGuest) else None
            for kind, w in profile_runs(g):
                n = counts.get((g.name, col, w.name), FIRST_COUNT["vio"])
                samples = []
                g.resume()
                try:
                    for _ in range(max(1, args.rounds)):
                        samples.append(g.run(kind, w, n))
                        progress.step(f"{kind} {w.name} {col}")
                finally:
                    g.pause()
                b = min(samples, key=lambda x: x.total / x.n)
                loop = "bare loop" if kind == "bare" else f"{col[4:]}, depth {w.depth}"
                res["profile"][loop] = {
                    "depth": w.depth, "ns": b.total / b.n, "n": b.n, "clock_ns": b.clock,
                    **{k: v / b.n for k, v in b.phases.items()}}
        log(f"  profile: {time.monotonic() - t:.1f} s")
    finally:
        for g in guests:
            g.close()
    return res


# --------------------------------------------------------------------------
# Reporting


def rate(w, ns):
    if ns is None or ns <= 0:
        return None
    return (w.bs / MIB) * 1e9 / ns if w.seq else 1e9 / ns


def fmt_rate(w, ns):
    r = rate(w, ns)
    if r is None:
        return "n/a"
    if w.seq:
        return f"{r:,.0f} MiB/s"
    return f"{r / 1000:.1f}k IOPS" if r >= 1000 else f"{r:.0f} IOPS"


def cell(col, w, samples):
    if not samples:
        return "—"
    text = fmt_rate(w, best(col, samples))
    sp = spread(col, samples)
    if len(samples) > 1 and sp == sp and text != "n/a":
        text += f" ({max(sp, 0):.0f}%)"
    return text


def ratio(s, a, b):
    """How many times column a's best rate is column b's (time of b / time of a)."""
    x, y = best(a, s.get(a)), best(b, s.get(b))
    if x is None or y is None or x <= 0 or y <= 0:
        return None
    return y / x


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def per_req(c, key):
    if not c or c.get(key, -1) < 0 or not c.get("n"):
        return "—"
    return f"{c[key] / c['n']:.3f}"


def scenario_title(env):
    backend = "null-co" if env.backend == "null" else "file image"
    transport = "virtio-pci" if env.transport == "pci" else "virtio-mmio"
    return f"{env.arch}, {env.iface} {transport}, {env.ring} ring, {backend}"


def report(env, res, workloads, rounds):
    out = [f"### {scenario_title(env)}\n"]
    info = next((v for k, v in res["info"].items() if k.endswith("vio-irq") and v), None)
    if info:
        out.append(f"vio: {info.get('iface')} device, event index {info.get('event_idx')}, "
                   f"indirect descriptors {info.get('indirect')}, queue of "
                   f"{info.get('queue_size')}, {info.get('max_sectors')} sectors per request "
                   f"at most.\n")
    samples = res["samples"]
    present = [c for c in COLUMNS if any(c[0] in samples.get(w.name, {}) for w in workloads)]
    keys = [c[0] for c in present]
    head = ["workload"] + [c[1] for c in present]
    if "loop-poll" in keys:
        head.append("vio ÷ indep. loop (time), irq / poll")
    if "base-irq" in keys:
        head.append("vio ÷ baseline (time), irq / poll")
    if "linux" in keys:
        head.append("vio irq ÷ Linux")
    if "uboot" in keys:
        head.append("vio poll ÷ U-Boot (less its text)")
    head.append("depth 32 ÷ depth 1, irq / poll")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for w in workloads:
        s = samples.get(w.name, {})
        row = [w.label] + [cell(c, w, s.get(c)) for c in keys]
        if "loop-poll" in keys:
            row.append(f"{fmt_ratio(ratio(s, 'loop-irq', 'vio-irq'))} / "
                       f"{fmt_ratio(ratio(s, 'loop-poll', 'vio-poll'))}")
        if "base-irq" in keys:
            row.append(f"{fmt_ratio(ratio(s, 'base-irq', 'vio-irq'))} / "
                       f"{fmt_ratio(ratio(s, 'base-poll', 'vio-poll'))}")
        if "linux" in keys:
            row.append(fmt_ratio(ratio(s, "vio-irq", "linux")))
        if "uboot" in keys:
            x = ratio(s, "vio-poll", "uboot")
            y = ratio(s, "vio-poll", "uboot-text")
            row.append("—" if x is None else f"{fmt_ratio(x)} ({fmt_ratio(y)})")
        d1 = next((x for x in workloads if x.op == w.op and x.bs == w.bs and x.depth == 1
                   and not x.seq), None)
        if w.depth > 1 and d1:
            s1 = samples.get(d1.name, {})
            ri = ratio({"a": s.get("vio-irq"), "b": s1.get("vio-irq")}, "a", "b")
            rp = ratio({"a": s.get("vio-poll"), "b": s1.get("vio-poll")}, "a", "b")
            row.append(f"{fmt_ratio(ri)} / {fmt_ratio(rp)}")
        else:
            row.append("")
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append(f"Best of {rounds} interleaved rounds after a warm-up; in brackets the spread "
               f"(the slowest round against the best). A ratio is how many times the first "
               f"figure's rate is the second's, both from this run; a \"(time)\" ratio is "
               f"the other way round, vio's time per request over the reference's. The "
               f"independent loop shares no code with vio. U-Boot: net of its "
               f"shell loop; \"less its text\": net also of the ~70 characters `virtio "
               f"read` prints per command. Linux: net of an empty dd.\n")

    counts = res["counts"]
    cols = [c for c in COLUMNS if any(c[0] in counts.get(w.name, {}) for w in workloads)]
    head = ["workload"] + [f"{c[1]}" for c in cols]
    out.append("Notifications / interrupts per request:\n")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for w in workloads:
        c = counts.get(w.name, {})
        row = [w.label]
        for col, _ in cols:
            x = c.get(col)
            if not x:
                row.append("—")
                continue
            txt = f"{per_req(x, 'host_notify')} / {per_req(x, 'host_irq')}"
            if x.get("guest_kicks", -1) >= 0:
                txt += f" (guest {per_req(x, 'guest_kicks')} / {per_req(x, 'guest_irqs')})"
            row.append(txt)
        out.append("| " + " | ".join(row) + " |")
    out.append("")
    out.append("Counted by QEMU (trace events virtio_queue_notify / virtio_notify) over one "
               "extra run; in brackets what vio's guest counted (notify hook calls / "
               "interrupts taken; in polling mode, interrupt status seen).\n")

    s = samples.get("r4kq1", {})
    if s.get("bare"):
        b = best("bare", s["bare"])
        rel = [f"{title} {best(c, s[c]) / b:.2f}" for c, title in COLUMNS if s.get(c)]
        if s.get("uboot"):
            rel.append(f"U-Boot less its text {best('uboot-text', s['uboot']) / b:.2f}")
        out.append("Time per 4 KiB read at depth 1 against the bare loop (= 1): "
                   + ", ".join(rel) + ".\n")
    prof = res.get("profile", {})
    if prof:
        names = {1: {"q": "vio_blk_queue", "k": "kick", "w": "kick → callback",
                     "r": "callback → return", "e": "vio_vq_enqueue", "s": "spin on used idx",
                     "d": "vio_vq_dequeue"},
                 32: {"q": "vio_blk_queue (first batch)",
                      "w": "vio_blk_wait (kick) → first callback",
                      "r": "first callback → return (drain, re-queue)"}}
        out.append("Where a 4 KiB read goes, µs per request, by the guest's clock around each "
                   "step (every step includes a clock read or two):\n")
        out.append("| loop | total | steps | one clock read |")
        out.append("|---|---|---|---|")
        for key, p in sorted(prof.items(), key=lambda kv: (kv[1]["depth"], kv[0])):
            order = "ekds" if "e" in p else "qkwr"
            nm = names[1 if p["depth"] == 1 else 32]
            steps = ", ".join(f"{nm[k]} {p[k] / 1000:.2f}" for k in order if k in p)
            out.append(f"| {key} | {p['ns'] / 1000:.2f} | {steps} | {p['clock_ns'] / 1000:.2f} |")
        out.append("")
    ub = s.get("uboot")
    if ub:
        gross = min(x.total / x.n for x in ub)
        empty = min(x.base["empty"] / x.n for x in ub)
        echo = min(x.base["echo"] / x.n for x in ub)
        out.append(f"U-Boot, 4 KiB read at depth 1, µs per loop iteration (best): with "
                   f"`true` {empty / 1000:.1f}, with an `echo` of the same text "
                   f"{echo / 1000:.1f}, with `virtio read` {gross / 1000:.1f}.\n")
    return "\n".join(out)


def targets(all_res, envs):
    """The issue's targets, checked against this run's figures."""
    lines = ["### Targets\n", "| target | scenario | figure | |", "|---|---|---|---|"]

    def add(what, env, fig, ok):
        lines.append(f"| {what} | {env.tag().replace('-', ' ')} | {fig} | "
                     f"{'met' if ok else '**missed**'} |")

    for env in envs:
        res = all_res.get(env.key())
        if not res:
            continue
        smp = res["samples"]
        c = res["counts"]
        r1 = smp.get("r4kq1", {})
        if env.backend == "null":
            x = ratio(r1, "vio-irq", "linux")
            if x is not None:
                add("4 KiB, depth 1: irq ≥ 4× Linux", env, fmt_ratio(x), x >= 4)
            x = ratio(r1, "vio-poll", "uboot")
            if x is not None:
                y = ratio(r1, "vio-poll", "uboot-text")
                add("4 KiB, depth 1: poll ≥ 1.5× U-Boot (less its text)", env,
                    f"{fmt_ratio(x)} ({fmt_ratio(y)})", x >= 1.5)
            r32 = smp.get("r4kq32", {})
            for col in ("vio-irq", "vio-poll"):
                x = ratio({"a": r32.get(col), "b": r1.get(col)}, "a", "b")
                cc = c.get("r4kq32", {}).get(col)
                if x is None or not cc:
                    continue
                npr = cc["host_notify"] / cc["n"]
                add(f"4 KiB, depth 32 ≥ 8× depth 1, < 0.1 notifications/request ({col[4:]})",
                    env, f"{fmt_ratio(x)}, {npr:.3f}", x >= 8 and npr < 0.1)
        else:
            x = ratio(smp.get("r1m", {}), "vio-irq", "linux")
            if x is not None:
                add("1 MiB sequential read, file image: ≥ Linux", env, fmt_ratio(x), x >= 1)
    lines.append("")
    return "\n".join(lines)


def sample_json(s):
    return {"n": s.n, "total_ns": s.total, "base_ns": s.base, "irqs": s.irqs, "kicks": s.kicks,
            "phases": s.phases, "clock_ns": s.clock}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of about two minutes: modern interface, null-co, one "
                        "short round")
    p.add_argument("--arch", action="append", choices=sorted(qemu.ARCHES))
    p.add_argument("--iface", action="append", choices=("legacy", "modern"))
    p.add_argument("--backend", action="append", choices=("null", "file"))
    p.add_argument("--transport", action="append", choices=("mmio", "pci"))
    p.add_argument("--ring", action="append", choices=("split", "packed"))
    p.add_argument("--rounds", type=int, default=None, help="measured rounds (default 5)")
    p.add_argument("--warmup", type=int, default=None,
                   help="warm-up rounds, the first of which sizes the loops (default 1)")
    p.add_argument("--target", type=float, default=None,
                   help="seconds one measurement should take (default 0.2)")
    p.add_argument("--workload", action="append", choices=[w.name for w in WORKLOADS])
    p.add_argument("--build-root", default=os.path.join(ROOT, "build"),
                   help="where <arch>/bench/ holds the firmwares (default build/)")
    p.add_argument("--refs", default=os.path.join(ROOT, "build", "bench", "refs"),
                   help="what bench/fetch_refs.sh fetched (default build/bench/refs)")
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    p.add_argument("--no-linux", action="store_true")
    p.add_argument("--no-uboot", action="store_true")
    p.add_argument("--no-loop", action="store_true", help="leave out the independent loop")
    p.add_argument("--baseline", default=None,
                   help="also run the vio firmwares under DIR/<arch>/bench, built from "
                        "another commit by bench/build_baseline.sh")
    args = p.parse_args()

    if args.quick:
        args.iface = args.iface or ["modern"]
        args.backend = args.backend or ["null"]
        args.rounds = 1 if args.rounds is None else args.rounds
        args.target = 0.1 if args.target is None else args.target
    args.arch = args.arch or ["aarch64", "riscv64"]
    args.iface = args.iface or ["legacy", "modern"]
    args.backend = args.backend or ["null", "file"]
    args.transport = args.transport or ["mmio"]
    args.ring = args.ring or ["split"]
    args.rounds = 5 if args.rounds is None else max(1, args.rounds)
    args.warmup = 1 if args.warmup is None else max(1, args.warmup)
    args.target = 0.2 if args.target is None else args.target
    args.workloads = [w for w in WORKLOADS if not args.workload or w.name in args.workload]
    args.build_root = os.path.abspath(args.build_root)
    args.refs = os.path.abspath(args.refs)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)

    out = os.path.abspath(args.out)
    logs = os.path.join(out, "logs")
    work = os.path.join(out, "work")
    os.makedirs(logs, exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    disk = os.path.join(out, "disk.img")
    if "file" in args.backend:
        make_disk(disk)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_all = time.monotonic()
    envs, all_res, md = [], {}, []
    status = 0
    scenarios = [Env(a, i, b, logs, t, r) for a in args.arch for i in args.iface
                 for b in args.backend for t, r in layouts(args.transport, args.ring, i)]
    for k, env in enumerate(scenarios):
        scenario_header(k + 1, len(scenarios), env.tag().replace("-", " "), log)
        t = time.monotonic()
        try:
            res = run_scenario(args, env, work, disk, log, len(scenarios) - k - 1)
        except BenchError as e:
            log(f"  failed: {e}")
            status = 1
            continue
        log(f"  done in {time.monotonic() - t:.0f} s")
        envs.append(env)
        all_res[env.key()] = res
        text = report(env, res, args.workloads, args.rounds)
        md.append(text)
        print(text, flush=True)
    tg = targets(all_res, envs)
    print(tg)
    md.append(tg)
    versions = os.path.join(args.refs, "VERSIONS")
    ver = open(versions).read().strip().replace("\n", "; ") if os.path.exists(versions) else ""
    qv = subprocess.run([qemu.ARCHES["aarch64"].qemu, "--version"], capture_output=True,
                        text=True).stdout.splitlines()
    foot = (f"{qv[0] if qv else 'QEMU'}, TCG; references: {ver or 'none'}; "
            f"{os.cpu_count()} host cores; {args.rounds} rounds after {args.warmup} warm-up; "
            f"about {args.target:g} s a measurement; {time.monotonic() - t_all:.0f} s in all.")
    print(foot)
    md.append(foot + "\n")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({Env(*k[:3], "", *k[3:]).tag(): {
            "samples": {w: {c: [sample_json(x) for x in ss] for c, ss in cols.items()
                            if c != "uboot-text"}
                        for w, cols in r["samples"].items()},
            "counts": r["counts"], "profile": r["profile"], "info": r["info"]}
            for k, r in all_res.items()}, f, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main())
