#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""virtio-console benchmark: vio against Linux on the same QEMU command line.

  run_console_bench.py [--arch A]... [--iface legacy|modern]... [--rounds N]
                       [--warmup N] [--bytes N] [--build-root DIR] [--refs DIR]
                       [--out DIR] [--no-linux] [--baseline DIR]

Every guest of a scenario (board, virtio-mmio interface) boots on the same
QEMU command line but for what is booted and its socket path: one
virtio-serial-device with one virtserialport named "bench" on a Unix socket
chardev (server=on,wait=off) this program connects to. A named port, not a
virtconsole: QEMU drops a console's output while its chardev is not ready.

  vio irq    bench/console_bench.c built with the user's configuration;
  vio poll   the same with the `poll` configuration;
  Linux      Debian's arm64 kernel with the busybox initramfs of the block
             benchmark (its virtio_console driver), busybox dd on the port's
             /dev/vportNpM, 64 KiB blocks (aarch64 only).

Workloads:
  tx   the guest writes --bytes to the port as fast as it is taken, timed in
       the guest (vio: first write to vio_console_drain; Linux: around dd);
       this program reads the socket meanwhile as fast as it can and counts;
  rx   the guest says "RX READY" and reads --bytes; this program then writes
       them to the socket as fast as it can; timed in the guest from before
       READY to the last byte.

Bytes per second, and notifications (vio's dev->notify_count) and interrupts
per KiB as the guest counts them (Linux's interrupts are those of its
virtio-mmio lines), and as QEMU counts them: one more run of each guest and
direction with the trace events virtio_queue_notify and virtio_notify on,
which also gives Linux's notifications. Method as run_bench.py's: one guest
runs at a time (the others are paused over QMP), rounds interleave the
guests in a rotating order after warm-up rounds; a figure is the median
round with the slowest and fastest in brackets, ratios only between medians
of the same run. Tables on stdout and in
OUT/console-results.md, samples in OUT/console-results.json, consoles in
OUT/logs/. Nothing fails on a timing.
"""
import argparse
import json
import re
import statistics
import os
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

WORKLOADS = ["tx", "rx"]
LABELS = {"tx": "guest → host", "rx": "host → guest"}
COLUMNS = [("base-irq", "before irq"), ("base-poll", "before poll"), ("vio-irq", "vio irq"),
           ("vio-poll", "vio poll"), ("linux", "Linux")]
BLOCK = 65536


class PortLink:
    """This program's end of one guest's virtserialport: a Unix socket."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.count = 0
        self.stop = False
        self.t = None

    def connect(self):
        for _ in range(100):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.path)
                break
            except OSError:
                s.close()
                time.sleep(0.05)
        else:
            raise BenchError(f"cannot connect to {self.path}")
        # Room for 4 MiB unread on the way to QEMU: with the default ~200 KiB
        # (writers wake at a quarter of it), a fast guest emptied the socket
        # whenever the busy host was late scheduling the sender, and a
        # receive measured the host. SO_SNDBUFFORCE (Linux, as root) goes
        # past net.core.wmem_max; otherwise the cap applies.
        for opt in (getattr(socket, "SO_SNDBUFFORCE", 32), socket.SO_SNDBUF):
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
                break
            except OSError:
                continue
        self.sock = s
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                d = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            if not d:
                return
            self.count += len(d)

    def blast(self, n):
        """Write n bytes in the background; returns the thread."""
        data = b"h" * BLOCK

        def run():
            # send(), not sendall(): the socket has the reader's 0.2 s timeout,
            # and sendall() gives up after one such stall without saying how
            # much it sent (the guest then waited for ever for the rest).
            left, off = n, 0
            end = time.monotonic() + 120
            while left > 0 and time.monotonic() < end:
                try:
                    k = self.sock.send(data[off:min(BLOCK, off + left)])
                except socket.timeout:
                    continue
                left -= k
                off = (off + k) % BLOCK
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t

    def close(self):
        self.stop = True
        if self.t:
            self.t.join(1)
        if self.sock:
            self.sock.close()


class PortMixin:
    def setup_port(self, work):
        self.link = PortLink(os.path.join(work, f"{self.name}.port"))
        self.argv = self.argv + [
            "-device", "virtio-serial-device",
            "-chardev", f"socket,id=p0,path={self.link.path},server=on,wait=off",
            "-device", "virtserialport,chardev=p0,name=bench"]

    def start(self):
        if os.path.exists(self.link.path):
            os.unlink(self.link.path)
        # The guest's driver looks for the port at boot; connect as soon as QEMU listens.
        threading.Thread(target=self._connect_later, daemon=True).start()
        super().start()

    def _connect_later(self):
        for _ in range(200):
            if os.path.exists(self.link.path):
                break
            time.sleep(0.05)
        try:
            self.link.connect()
        except BenchError:
            pass

    def result(self, m):
        if not m.group(1).startswith("RES"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        return parse_kv(m.group(1))

    def tx(self, line, n):
        self.link.count = 0
        m, _ = self.command(line, r"^((RES|BENCH ERR|ERR) .*)\n")
        kv = self.result(m)
        # Linux's dd returns once its last bytes are queued: wait for them to arrive.
        end = time.monotonic() + 5
        while self.link.count < n and time.monotonic() < end:
            time.sleep(0.01)
        kv["host_got"] = self.link.count
        return kv

    def rx(self, line, n):
        start = self.con.mark()
        self.send(line)
        self.con.expect(r"^RX READY\n", start, 60)
        t = self.link.blast(n)
        m, _ = self.con.expect(r"^((RES|BENCH ERR|ERR) .*)\n", start, 120)
        t.join(10)
        return self.result(m)

    def sample(self, w, n, kv):
        s = {"n": n, "ns": int(kv["ns"]), "irqs": int(kv.get("irqs", -1)),
             "kicks": int(kv.get("kicks", -1)), "rate": n * 1e9 / max(1, int(kv["ns"]))}
        if "host_got" in kv:
            s["host_got"] = kv["host_got"]
        return s

    def close(self):
        super().close()
        self.link.close()


class VioConGuest(PortMixin, rb.Guest):
    kind = "vio"

    def __init__(self, name, argv, work, env, role):
        super().__init__(name, argv, work, env)
        self.role = role
        self.setup_port(work)

    def boot(self):
        super().boot()
        m, _ = self.command("info", r"^(INFO .*|ERR .*)\n", 10)
        if m.group(1).startswith("ERR"):
            raise BenchError(f"{self.name}: {m.group(1)}")
        self.info = parse_kv(m.group(1))

    def measure(self, w, n):
        kv = self.tx(f"tx {n}", n) if w == "tx" else self.rx(f"rx {n}", n)
        return self.sample(w, n, kv)

    def quit_command(self):
        return "quit"


class LinuxConGuest(PortMixin, rb.LinuxGuest):
    role = "linux"

    def __init__(self, name, argv, work, env):
        super().__init__(name, argv, work, env)
        self.setup_port(work)

    def measure(self, w, n):
        kv = self.tx(f"contx {n}", n) if w == "tx" else self.rx(f"conrx {n}", n)
        return self.sample(w, n, kv)


def base_argv(arch, iface):
    a = qemu.ARCHES[arch]
    argv = [a.qemu, *a.machine, "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-nic", "none"]
    if iface == "modern":
        argv += ["-global", "virtio-mmio.force-legacy=false"]
    return argv


def make_guests(args, env, work):
    base = base_argv(env.arch, env.iface)
    build = os.path.join(args.build_root, env.arch, "bench")
    suffix = qemu.ARCHES[env.arch].boot_suffix
    tag = f"con-{env.arch}-{env.iface}"
    guests = []
    builds = [(build, "vio-irq", "vio-console-bench"), (build, "vio-poll", "vio-console-bench-poll")]
    if args.baseline:
        before = os.path.join(args.baseline, env.arch, "bench")
        builds += [(before, "base-irq", "vio-console-bench"),
                   (before, "base-poll", "vio-console-bench-poll")]
    for build, role, fw in builds:
        image = os.path.join(build, fw + suffix)
        if not os.path.exists(image):
            raise BenchError(f"{image} not found: build the {env.arch} firmware first")
        guests.append(VioConGuest(f"{tag}-{role}", base + ["-kernel", image], work, env, role))
    if not args.no_linux and env.arch == "aarch64":
        img = os.path.join(args.refs, "linux", "Image")
        initrd = os.path.join(args.refs, "linux", "initrd.gz")
        if not os.path.exists(img):
            raise BenchError(f"{img} not found: run bench/fetch_refs.sh")
        guests.append(LinuxConGuest(f"{tag}-linux", base + [
            "-kernel", img, "-initrd", initrd, "-append", rb.LINUX_APPEND], work, env))
    return guests


def run_scenario(args, env, work, log, scenarios_after=0):
    guests = make_guests(args, env, work)
    res = {"samples": {}, "info": {}}
    # Cells: each round's measurements and the one traced run of each.
    progress = Progress((args.warmup + args.rounds + 1) * len(WORKLOADS) * len(guests),
                        scenarios_after=scenarios_after, log=log)
    try:
        for g in guests:
            t = time.monotonic()
            g.start()
            log(f"  {g.name}: ready in {time.monotonic() - t:.1f} s")
            res["info"][g.name] = getattr(g, "info", {})
        total = args.warmup + args.rounds
        for r in range(total):
            t = time.monotonic()
            for w in WORKLOADS:
                k = r % len(guests)
                for g in guests[k:] + guests[:k]:
                    g.resume()
                    try:
                        s = g.measure(w, args.bytes)
                    finally:
                        g.pause()
                    progress.step(f"{w} {g.role}")
                    if r >= args.warmup:
                        res["samples"].setdefault(w, {}).setdefault(g.role, []).append(s)
            log(f"  round {r + 1}/{total}{' (warm-up)' if r < args.warmup else ''}: "
                f"{time.monotonic() - t:.1f} s")
        # QEMU's own counts: one more run of each, with the trace events on.
        t = time.monotonic()
        for w in WORKLOADS:
            for g in guests:
                off = os.path.getsize(g.trace) if os.path.exists(g.trace) else 0
                g.resume()
                try:
                    g.trace_events(True)
                    s = g.measure(w, args.bytes)
                    g.trace_events(False)
                finally:
                    g.pause()
                progress.step(f"{w} {g.role}, traced")
                with open(g.trace, "rb") as f:
                    f.seek(off)
                    text = f.read().decode("utf-8", "replace")
                res.setdefault("host", {}).setdefault(w, {})[g.role] = {
                    "n": s["n"], "notify": len(re.findall(r"\bvirtio_queue_notify\b", text)),
                    "irq": len(re.findall(r"\bvirtio_notify\b(?!_)", text))}
        log(f"  QEMU's counts: {time.monotonic() - t:.1f} s")
    finally:
        for g in guests:
            g.close()
    return res


def median(samples):
    return statistics.median(s["rate"] for s in samples) if samples else None


def cell(samples):
    if not samples:
        return "—"
    text = f"{median(samples) / 1e6:.1f} MB/s"
    if len(samples) > 1:
        rates = [s["rate"] for s in samples]
        text += f" ({min(rates) / 1e6:.0f}–{max(rates) / 1e6:.0f})"
    return text


def per_kib(samples, key):
    if not samples or samples[0].get(key, -1) < 0:
        return "—"
    return f"{sum(s[key] for s in samples) / (sum(s['n'] for s in samples) / 1024):.3f}"


def host_per_kib(res, w, col, key):
    c = res.get("host", {}).get(w, {}).get(col)
    return f"{c[key] / (c['n'] / 1024):.3f}" if c else "—"


def ratio(s, a, b):
    x, y = median(s.get(a)), median(s.get(b))
    if not x or not y:
        return "—"
    return f"{x / y:.2f}×"


def report(env, res):
    out = [f"### {env.arch}, {env.iface} virtio-mmio\n"]
    info = next((v for k, v in res["info"].items() if k.endswith("vio-irq") and v), None)
    if info:
        out.append(f"vio: {info.get('iface')} device, port {info.get('port')}, multiport "
                   f"{info.get('multiport')}, event index {info.get('event_idx')}.\n")
    samples = res["samples"]
    present = [c for c in COLUMNS if any(c[0] in samples.get(w, {}) for w in WORKLOADS)]
    keys = [c[0] for c in present]
    head = ["direction"] + [c[1] for c in present]
    head += ["notifications / KiB, irq / poll", "interrupts / KiB, irq / Linux"]
    if "linux" in keys:
        head.append("vio ÷ Linux, irq / poll")
    if "base-irq" in keys:
        head.append("vio ÷ before, irq / poll")
    hkeys = [c for c in keys if c in res.get("host", {}).get("tx", {})]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for w in WORKLOADS:
        s = samples.get(w, {})
        row = [LABELS[w]] + [cell(s.get(c)) for c in keys]
        row.append(f"{per_kib(s.get('vio-irq'), 'kicks')} / {per_kib(s.get('vio-poll'), 'kicks')}")
        row.append(f"{per_kib(s.get('vio-irq'), 'irqs')} / {per_kib(s.get('linux'), 'irqs')}")
        if "linux" in keys:
            row.append(f"{ratio(s, 'vio-irq', 'linux')} / {ratio(s, 'vio-poll', 'linux')}")
        if "base-irq" in keys:
            row.append(f"{ratio(s, 'vio-irq', 'base-irq')} / {ratio(s, 'vio-poll', 'base-poll')}")
        out.append("| " + " | ".join(row) + " |")
    if hkeys:
        names = dict(COLUMNS)
        out.append("\nCounted by QEMU over one more run each (trace events virtio_queue_notify "
                   "/ virtio_notify), per KiB:\n")
        head = ["direction"] + [f"{names[c]} notif. / irq" for c in hkeys]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for w in WORKLOADS:
            row = [LABELS[w]] + [f"{host_per_kib(res, w, c, 'notify')} / "
                                 f"{host_per_kib(res, w, c, 'irq')}" for c in hkeys]
            out.append("| " + " | ".join(row) + " |")
    short = [f"{col} {w}: host got {x['host_got']} of {x['n']}"
             for w, cs in samples.items() for col, ss in cs.items() for x in ss
             if "host_got" in x and x["host_got"] < x["n"]]
    if short:
        out.append("\n" + "; ".join(short) + ".")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", action="append", choices=sorted(qemu.ARCHES))
    p.add_argument("--iface", action="append", choices=("legacy", "modern"))
    p.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    p.add_argument("--bytes", type=int, default=16 << 20,
                   help="bytes per measurement, a multiple of 64 KiB (default 16 MiB)")
    p.add_argument("--build-root", default=os.path.join(ROOT, "build"))
    p.add_argument("--refs", default=os.path.join(ROOT, "build", "bench", "refs"))
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    p.add_argument("--no-linux", action="store_true")
    p.add_argument("--baseline", metavar="DIR",
                   help="also run DIR/ARCH/bench/vio-console-bench{,-poll} (another commit's "
                        "build, e.g. bench/build_baseline.sh's) as before irq / poll")
    args = p.parse_args()
    args.arch = args.arch or ["aarch64", "riscv64"]
    args.iface = args.iface or ["legacy", "modern"]
    args.rounds = max(1, args.rounds)
    args.warmup = max(0, args.warmup)
    args.bytes = max(BLOCK, args.bytes // BLOCK * BLOCK)
    args.build_root = os.path.abspath(args.build_root)
    args.refs = os.path.abspath(args.refs)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)

    out = os.path.abspath(args.out)
    logs = os.path.join(out, "logs")
    work = os.path.join(out, "work-con")
    os.makedirs(logs, exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    t_all = time.monotonic()
    md, all_res, status = [], {}, 0
    scenarios = [(a, i) for a in args.arch for i in args.iface]
    for k, (arch, iface) in enumerate(scenarios):
        env = rb.Env(arch, iface, "console", logs)
        scenario_header(k + 1, len(scenarios), f"{arch} {iface}", log)
        try:
            res = run_scenario(args, env, work, log, len(scenarios) - k - 1)
        except BenchError as e:
            log(f"  failed: {e}")
            status = 1
            continue
        all_res[f"{arch}-{iface}"] = res
        text = report(env, res)
        md.append(text)
        print(text, flush=True)
    qv = subprocess.run([qemu.ARCHES["aarch64"].qemu, "--version"], capture_output=True,
                        text=True).stdout.splitlines()
    foot = (f"{qv[0] if qv else 'QEMU'}, TCG; {args.bytes} bytes per measurement; "
            f"{os.cpu_count()} host cores; load average before: {os.getloadavg()[0]:.1f}; "
            f"{args.rounds} rounds after {args.warmup} warm-up; "
            f"{time.monotonic() - t_all:.0f} s in all.")
    print(foot)
    md.append(foot + "\n")
    with open(os.path.join(out, "console-results.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, "console-results.json"), "w") as f:
        json.dump({k: {"samples": r["samples"], "info": r["info"], "host": r.get("host", {})} for k, r in all_res.items()},
                  f, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main())
