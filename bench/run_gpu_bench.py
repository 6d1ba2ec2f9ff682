#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The virtio-gpu benchmark: full-screen flushes and 64x64 partial updates per second.

  run_gpu_bench.py [--build DIR] [--arch riscv64,aarch64] [--virtio legacy,modern]
                   [--rounds N] [--full N] [--partial N] [--out DIR]

For each board and interface, three guests boot on the same QEMU command
line (one virtio-gpu-device, 1280x800) and take turns, the others paused
over QMP (`stop`) so they neither compete for the cores nor see time pass:

  indep     bench/indep_gpu_loop.c: the bare virtqueue loop, no vio code, polled
  vio irq   bench/gpu_bench.c: vio_gpu_update, interrupt-driven
  vio poll  the same, polled build

With --baseline DIR (bench/build_baseline.sh), another commit's vio guests
("base vio irq", "base vio poll") run beside them in the same rounds.

With --counts N, each guest then runs `partial N` once more with QEMU's
trace events on (virtio_mmio_read, virtio_mmio_write_offset,
virtio_queue_notify, virtio_notify) and the register accesses,
notifications and interrupts per update are printed, reads and writes by
register offset: under TCG every register access leaves the generated code
for QEMU's device model, so it is a cost a timed figure hides in noise.

Each round runs `full N` (TRANSFER_TO_HOST_2D + RESOURCE_FLUSH of the whole
screen) and `partial N` (of 64x64 tiles) on every guest, the order rotating;
the first round is a warm-up. A figure is the best round, with the slowest
round against it in brackets; the ratio is the guest's best against the
independent loop's best from the same run. The table also goes to
OUT/gpu-results.md, every round's rate to OUT/gpu-results.json. A program,
not a test: it never fails on a timing.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "qemu"))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402
sys.path.insert(0, HERE)
from progress import Progress, scenario_header  # noqa: E402

GUESTS = (("indep", "bench/gpu-indep-loop"), ("vio irq", "bench/vio-gpu-bench"),
          ("vio poll", "bench/vio-gpu-bench-poll"))


class Guest:
    def __init__(self, name, firmware, arch, virtio, tmp, extra=()):
        self.name = name
        qmp = os.path.join(tmp, f"{name.replace(' ', '-')}.qmp")
        self.trace = os.path.join(tmp, f"{name.replace(' ', '-')}.trace")
        cmd = qemu.build_command(arch, firmware, virtio, "gpu",
                                 ["-qmp", f"unix:{qmp},server=on,wait=off", "-D", self.trace,
                                  *extra],
                                 interactive=False)
        self.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = run_test.Console(self.proc)
        deadline = time.monotonic() + 60
        if self.con.wait_for("BENCH READY", 0, deadline) is None:
            raise RuntimeError(f"{name}: never ready:\n{self.con.log()}")
        self.qmp = run_test.Qmp(qmp, deadline)
        self.pos = len(self.con.log())

    def run(self, line):
        """Send a command; (n, ns) from its RES line."""
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        end = self.con.wait_for("\n", self.con.wait_for("RES ", self.pos, time.monotonic() + 120)
                                or self.pos, time.monotonic() + 120)
        log = self.con.log()
        m = re.search(r"RES kind=\S+ n=(\d+) ns=(\d+) bad=(\d+)", log[self.pos:end or len(log)])
        self.pos = end or len(log)
        if not m or m.group(3) != "0":
            raise RuntimeError(f"{self.name}: '{line}' gave {log[-300:]!r}")
        return int(m.group(1)), int(m.group(2))

    def counts(self, n):
        """Register accesses, notifications and interrupts of `partial n`."""
        events = ("virtio_mmio_read", "virtio_mmio_write_offset", "virtio_queue_notify",
                  "virtio_notify")
        off = os.path.getsize(self.trace) if os.path.exists(self.trace) else 0
        for ev in events:
            self.qmp.command("trace-event-set-state", name=ev, enable=True)
        try:
            self.run(f"partial {n}")
        finally:
            for ev in events:
                self.qmp.command("trace-event-set-state", name=ev, enable=False)
        with open(self.trace, "rb") as f:
            f.seek(off)
            text = f.read().decode("utf-8", "replace")
        c = {"read": {}, "write": {}, "notify": 0, "irq": 0}
        for m in re.finditer(r"\b(virtio_mmio_read|virtio_mmio_write_offset|virtio_queue_notify|"
                             r"virtio_notify)\b(.*)", text):
            ev, rest = m.group(1), m.group(2)
            if ev in ("virtio_queue_notify", "virtio_notify"):
                c["notify" if ev == "virtio_queue_notify" else "irq"] += 1
                continue
            o = re.search(r"offset (0x[0-9a-f]+)", rest)
            kind = c["read" if ev == "virtio_mmio_read" else "write"]
            kind[o.group(1) if o else "?"] = kind.get(o.group(1) if o else "?", 0) + 1
        return c

    def close(self):
        try:
            self.qmp.command("cont")
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.flush()
            self.proc.wait(10)
        except (OSError, RuntimeError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def scenario(args, arch, virtio, out, results, scenarios_after=0):
    build = os.path.join(args.build, arch)
    suffix = qemu.ARCHES[arch].boot_suffix
    tmp = tempfile.mkdtemp(prefix="vio-gpu-bench-")
    guests = []
    try:
        plan = [(name, os.path.join(build, fw + ".elf")) for name, fw in GUESTS]
        if args.baseline:
            plan += [("base " + name, os.path.join(args.baseline, arch, fw + ".elf"))
                     for name, fw in GUESTS if name != "indep"]
        for name, elf in plan:
            g = Guest(name, elf, arch, virtio, tmp)
            g.qmp.command("stop")
            guests.append(g)
        best = {(g.name, w): [] for g in guests for w in ("full", "partial")}
        progress = Progress((args.rounds + 1) * len(guests) * 2,
                            scenarios_after=scenarios_after)
        for rnd in range(args.rounds + 1):
            order = guests[rnd % len(guests):] + guests[:rnd % len(guests)]
            for g in order:
                g.qmp.command("cont")
                for w, n in (("full", args.full), ("partial", args.partial)):
                    cnt, ns = g.run(f"{w} {n}")
                    progress.step(f"{w} {g.name}")
                    if rnd:  # round 0 warms up
                        best[(g.name, w)].append(cnt * 1e9 / ns)
                g.qmp.command("stop")
        for w, label in (("full", "full-screen 1280x800 updates/s"),
                         ("partial", "64x64 partial updates/s")):
            floor = max(best[("indep", w)])
            for g in guests:
                v = best[(g.name, w)]
                line = (f"| {arch} | {virtio} | {label} | {g.name} | {max(v):,.0f} "
                        f"({min(v):,.0f}) | {floor / max(v):.2f}x |")
                print(line)
                out.append(line)
                # Updates per second of every measured round, for bench/charts.py.
                results.setdefault(f"{arch}-{virtio}", {}).setdefault(w, {})[g.name] = v
            sys.stdout.flush()
        if args.counts:
            for g in guests:
                g.qmp.command("cont")
                c = g.counts(args.counts)
                g.qmp.command("stop")
                per = lambda d: " ".join(f"{k}:{v / args.counts:.2f}" for k, v in sorted(d.items()))
                line = (f"| {arch} | {virtio} | 64x64 partial, per update | {g.name} | "
                        f"reads {sum(c['read'].values()) / args.counts:.2f} ({per(c['read'])}) "
                        f"writes {sum(c['write'].values()) / args.counts:.2f} ({per(c['write'])}) "
                        f"notify {c['notify'] / args.counts:.2f} irq {c['irq'] / args.counts:.2f} |")
                print(line)
                out.append(line)
                sys.stdout.flush()
    finally:
        for g in guests:
            g.close()


def insns(args, arch, virtio, out):
    """Guest instructions per 64x64 update, with the busiest functions."""
    import count_insns  # noqa: E402  (bench/, beside this script)
    build = os.path.join(args.build, arch)
    tmp = tempfile.mkdtemp(prefix="vio-gpu-insns-")
    lo, hi = count_insns.NOTIFY_WINDOW[arch]
    n1, n2 = 200, 1200
    for name, fw in GUESTS:
        elf = os.path.join(build, fw + ".elf")
        tag = name.replace(" ", "-")
        syms, marks = os.path.join(tmp, tag + ".syms"), os.path.join(tmp, tag + ".marks")
        mark = count_insns.symbols(arch, elf, syms)
        plug = f"{args.insns},syms={syms},mark={mark:x},out={marks}"
        # Polled waits spin as long as QEMU takes: the stall makes them exact
        # (count_insns.py); an interrupt-driven wait needs none.
        if name != "vio irq":
            plug += f",stall=300,notify_lo={lo:x},notify_hi={hi:x}"
        g = Guest(name, elf, arch, virtio, tmp, ["-plugin", plug])
        try:
            blocks = []
            for n in (n1, n2):
                g.run(f"partial {n}")
                with open(marks) as f:
                    blocks.append(count_insns.parse_marks(f.read())[-1])
        finally:
            g.close()
        total, funcs = count_insns.per_request(blocks[0], blocks[1], n1, n2)
        top = sorted(funcs.items(), key=lambda kv: -kv[1][0])[:args.top]
        line = (f"| {arch} | {virtio} | instructions per 64x64 update | {name} | {total:.0f} | "
                + ", ".join(f"{k} {v[0]:.0f}" for k, v in top if v[0] >= 0.5) + " |")
        print(line)
        out.append(line)
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--arch", default="riscv64,aarch64")
    ap.add_argument("--virtio", default="legacy,modern")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--full", type=int, default=200)
    ap.add_argument("--partial", type=int, default=4000)
    ap.add_argument("--counts", type=int, default=0, metavar="N",
                    help="also count register accesses over N partial updates per guest")
    ap.add_argument("--insns", metavar="SO", default=None,
                    help="only count guest instructions per update with this build of "
                         "bench/insn_plugin.c (bench/build_plugin.sh)")
    ap.add_argument("--baseline", metavar="DIR", default=None,
                    help="also run DIR/<arch>/bench's vio guests (bench/build_baseline.sh)")
    ap.add_argument("--top", type=int, default=8, help="functions listed with --insns")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "build", "bench"),
                    help="where gpu-results.md and gpu-results.json go (default build/bench)")
    args = ap.parse_args()
    out = ["| board | interface | workload | guest | best (slowest) | time vs floor |",
           "|---|---|---|---|---|---|"]
    print("\n".join(out))
    results = {}
    scenarios = [(a, v) for a in args.arch.split(",") for v in args.virtio.split(",")]
    for k, (arch, virtio) in enumerate(scenarios):
        if args.insns:
            insns(args, arch, virtio, out)
            continue
        scenario_header(k + 1, len(scenarios), f"{arch} {virtio}")
        scenario(args, arch, virtio, out, results, len(scenarios) - k - 1)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu-results.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    if results:  # an --insns run measures no rates: keep the charts' data
        with open(os.path.join(args.out, "gpu-results.json"), "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
