#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Guest instructions per request, per function: vio against the independent loop.

  count_insns.py [--arch A]... [--iface legacy|modern]... [--build-root DIR]
                 [--baseline DIR] [--plugin SO] [--out DIR] [--n1 N] [--n2 N]
                 [--stall US]

Time on a shared two-core machine is noisy; the number of instructions the
guest executes for a request is not. Each firmware boots under QEMU with
bench/insn_plugin.c (built by bench/build_plugin.sh), which counts executed
instructions per function of the firmware's ELF and snapshots the counts
each time the firmware's bench_mark() runs (just before and after every
workload). Every workload runs twice, with n1 and n2 requests; the
difference divided by n2 - n1 is the cost of one request, with set-up and
tear-down cancelled out. Instructions outside the ELF (OpenSBI's M-mode
code, reached by SBI calls and by traps it emulates) count as "[outside]".

A polled wait spins for as long as QEMU takes to complete the request, so
its count depends on the host's timing. With --stall (default 300 µs) the
plugin sleeps in the vCPU thread after each store to a QueueNotify
register, long enough for QEMU's main loop to complete what was notified:
the guest then finds its completions at the first look, and a polled count
becomes exact ("poll, stalled"). Interrupt-driven waits are counted without
the stall (their instructions do not depend on the time the device takes);
the stall would skip their sleep.

Output: a table per scenario on stdout and in OUT/insns.md, every function's
count in OUT/insns.json.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import qemu  # noqa: E402
import run_bench  # noqa: E402

NM = {"riscv64": "riscv64-unknown-elf-nm", "aarch64": "aarch64-linux-gnu-nm"}
# The virtio-mmio windows of QEMU 7.2's virt boards (DESIGN: QEMU facts).
NOTIFY_WINDOW = {"riscv64": (0x10001000, 0x10009000), "aarch64": (0x0a000000, 0x0a004000)}

# (column, firmware, kind, depth, stalled): what is counted, 4 KiB reads.
# Stalled runs are exact; the others depend on whether the completion
# arrived before the waiter looked (then it does not sleep), and show what
# sleeping adds.
RUNS = [
    ("loop poll", "blk-indep-loop", "poll", 1, True),
    ("loop irq", "blk-indep-loop", "irq", 1, True),
    ("loop irq", "blk-indep-loop", "irq", 1, False),
    ("loop irq (plain wfi)", "blk-indep-loop", "irqwfi", 1, False),
    ("loop poll", "blk-indep-loop", "poll", 32, True),
    ("loop irq", "blk-indep-loop", "irq", 32, True),
    ("vio poll sync", "vio-blk-bench-poll", "sync", 1, True),
    ("vio poll async", "vio-blk-bench-poll", "async", 1, True),
    ("vio bare loop", "vio-blk-bench-poll", "bare", 1, True),
    ("vio irq sync", "vio-blk-bench", "sync", 1, True),
    ("vio irq async", "vio-blk-bench", "async", 1, True),
    ("vio irq sync", "vio-blk-bench", "sync", 1, False),
    ("vio poll async", "vio-blk-bench-poll", "async", 32, True),
    ("vio irq async", "vio-blk-bench", "async", 32, True),
]


def symbols(arch, elf, path):
    """Write the ELF's functions as "START SIZE NAME" lines; return bench_mark's address."""
    out = subprocess.run([NM[arch], "-S", "--defined-only", "-n", elf], capture_output=True,
                         text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "tTwW":
            rows.append([int(f[0], 16), int(f[1], 16), f[3]])
        elif len(f) == 3 and f[1] in "tTwW":
            rows.append([int(f[0], 16), 0, f[2]])
    # Assembly symbols have no size: they run to the next symbol.
    for i, r in enumerate(rows):
        if r[1] == 0 and i + 1 < len(rows):
            r[1] = min(rows[i + 1][0] - r[0], 0x1000)
    with open(path, "w") as f:
        for s, n, name in rows:
            if n:
                f.write(f"{s:x} {n:x} {name}\n")
    mark = next((s for s, _, name in rows if name == "bench_mark"), None)
    if mark is None:
        raise run_bench.BenchError(f"{elf}: no bench_mark symbol")
    return mark


def parse_marks(text):
    """[(total, {function: (insns, entries)}, {(r|w, offset): accesses})] per MARK
    block, in order (the register accesses only with the plugin's io=1)."""
    blocks = []
    for blk in re.split(r"^MARK ", text, flags=re.M)[1:]:
        lines = blk.splitlines()
        total = int(re.search(r"total=(\d+)", lines[0]).group(1))
        funcs, io = {}, {}
        for ln in lines[1:]:
            if ln.startswith("IO "):
                _, rw, off, n = ln.split()
                io[(rw, int(off, 16))] = int(n)
                continue
            n, e, name = ln.split(" ", 2)
            funcs[name] = (int(n), int(e))
        blocks.append((total, funcs, io))
    return blocks


class Counter:
    """One QEMU with the plugin, driven over its UART like run_bench's guests."""

    def __init__(self, args, env, fw_path, stalled, work, tag):
        self.marks = os.path.join(work, f"{tag}.marks")
        syms = os.path.join(work, f"{tag}.syms")
        elf = os.path.splitext(fw_path)[0] + ".elf"
        mark = symbols(env.arch, elf, syms)
        lo, hi = NOTIFY_WINDOW[env.arch]
        plug = f"{args.plugin},syms={syms},mark={mark:x},out={self.marks}"
        if stalled:
            plug += f",stall={args.stall},notify_lo={lo:x},notify_hi={hi:x}"
        argv = run_bench.base_argv(env.arch, env.iface, "null", None)
        argv += ["-kernel", fw_path, "-plugin", plug]
        env.logs = work
        self.g = run_bench.VioGuest(tag, argv, work, env, "count")
        self.g.start()
        self.g.resume()

    def run(self, kind, w, n):
        before = len(self.text())
        s = self.g.run(kind, w, n)
        # The plugin writes the mark's block before the firmware prints its result.
        blocks = parse_marks(self.text()[before:])
        if len(blocks) < 2:
            raise run_bench.BenchError("no MARK blocks from the plugin")
        return s, blocks[-1]  # the second mark closes the workload

    def text(self):
        with open(self.marks) as f:
            return f.read()

    def close(self):
        self.g.close()


def top_functions(funcs, top):
    """The top busiest of per_request's functions: "name insns (calls), ..."."""
    fs = sorted(funcs.items(), key=lambda kv: -kv[1][0])
    fs = [(k, v) for k, v in fs if abs(v[0]) >= 0.5][:top]
    return ", ".join(f"{k} {v[0]:.0f} ({v[1]:.2f})" for k, v in fs)


def add_common_args(p):
    """The options every counting script takes: what to count, where things are."""
    p.add_argument("--arch", action="append", choices=sorted(qemu.ARCHES))
    p.add_argument("--iface", action="append", choices=("legacy", "modern"))
    p.add_argument("--build-root", default=os.path.join(ROOT, "build"))
    p.add_argument("--plugin", default=os.path.join(ROOT, "build", "bench", "plugin",
                                                    "insn_plugin.so"))
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))


def parse_common_args(p, work_name):
    """Parse, fill in the defaults of add_common_args' options, check the plugin;
    returns (args, OUT, OUT/work_name), the last made."""
    args = p.parse_args()
    args.arch = args.arch or ["aarch64", "riscv64"]
    args.iface = args.iface or ["legacy", "modern"]
    if not os.path.exists(args.plugin):
        sys.exit(f"{args.plugin} not found: run bench/build_plugin.sh")
    out = os.path.abspath(args.out)
    work = os.path.join(out, work_name)
    os.makedirs(work, exist_ok=True)
    return args, out, work


def write_results(out, name, md, js):
    """The tables into OUT/name.md, every count into OUT/name.json."""
    with open(os.path.join(out, f"{name}.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(out, f"{name}.json"), "w") as f:
        json.dump(js, f, indent=1)


def per_request(b1, b2, n1, n2):
    """Per-function (insns, entries) per request from two runs' blocks."""
    f1, f2 = b1[1], b2[1]
    out = {}
    for name in set(f1) | set(f2):
        i1, e1 = f1.get(name, (0, 0))
        i2, e2 = f2.get(name, (0, 0))
        out[name] = ((i2 - i1) / (n2 - n1), (e2 - e1) / (n2 - n1))
    return (b2[0] - b1[0]) / (n2 - n1), out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(p)
    p.add_argument("--baseline", default=None,
                   help="also count the vio firmwares under DIR/<arch>/bench "
                        "(bench/build_baseline.sh)")
    p.add_argument("--n1", type=int, default=200)
    p.add_argument("--n2", type=int, default=1200)
    p.add_argument("--stall", type=int, default=300, help="µs; 0: never stall")
    p.add_argument("--top", type=int, default=12, help="functions listed per run")
    args, out, work = parse_common_args(p, "insns")
    w = next(x for x in run_bench.WORKLOADS if x.name == "r4kq1")

    builds = [("", os.path.abspath(args.build_root))]
    if args.baseline:
        builds.append(("baseline ", os.path.abspath(args.baseline)))
    md, js = [], {}
    for arch in args.arch:
        suffix = qemu.ARCHES[arch].boot_suffix
        for iface in args.iface:
            env = run_bench.Env(arch, iface, "null", work)
            rows = []
            # One QEMU per (build, firmware, stalled): boot costs more than the runs.
            plan = {}
            for col, fw, kind, depth, stalled in RUNS:
                stalled = stalled and args.stall > 0
                for prefix, root in builds:
                    if prefix and fw == "blk-indep-loop":
                        continue
                    plan.setdefault((prefix, root, fw, stalled), []).append(
                        (prefix + col, kind, depth))
            for (prefix, root, fw, stalled), runs in plan.items():
                path = os.path.join(root, arch, "bench", fw + suffix)
                if not os.path.exists(path):
                    print(f"{path} not found: skipped", file=sys.stderr)
                    continue
                tag = f"{arch}-{iface}-{prefix.strip() or 'cur'}-{fw}-{'st' if stalled else 'rt'}"
                t = time.monotonic()
                c = Counter(args, env, path, stalled, work, tag)
                try:
                    for col, kind, depth in runs:
                        wd = run_bench.Workload("c", "read", 4096, depth, False)
                        n1, n2 = max(args.n1, 2 * depth), max(args.n2, 20 * depth)
                        s1, b1 = c.run(kind, wd, n1)
                        s2, b2 = c.run(kind, wd, n2)
                        total, funcs = per_request(b1, b2, s1.n, s2.n)
                        rows.append({"column": col + ("" if stalled else ", not stalled"),
                                     "kind": kind, "depth": depth, "total": total,
                                     "kicks": (s2.kicks - s1.kicks) / (s2.n - s1.n),
                                     "irqs": (s2.irqs - s1.irqs) / (s2.n - s1.n),
                                     "funcs": funcs})
                finally:
                    c.close()
                print(f"{tag}: {time.monotonic() - t:.0f} s", file=sys.stderr)
            js[f"{arch}-{iface}"] = rows
            md.append(report(arch, iface, rows, args.top))
            print(md[-1], flush=True)
    write_results(out, "insns", md, js)
    return 0


def report(arch, iface, rows, top):
    loop = {r["depth"]: r["total"] for r in rows if r["column"] == "loop poll"}
    out = [f"### {arch}, {iface} virtio-mmio: guest instructions per 4 KiB read\n",
           "| what | depth | instructions / request | of which [outside] | "
           "÷ loop poll | notifications / interrupts per request |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        outside = r["funcs"].get("[outside]", (0, 0))[0]
        base = loop.get(r["depth"])
        ratio = f"{r['total'] / base:.2f}×" if base else "—"
        out.append(f"| {r['column']} | {r['depth']} | {r['total']:.0f} | {outside:.0f} | "
                   f"{ratio} | {r['kicks']:.3f} / {r['irqs']:.3f} |")
    out.append("")
    out.append("Per function (instructions per request, calls per request in brackets):\n")
    for r in rows:
        out.append(f"- {r['column']}, depth {r['depth']}: {top_functions(r['funcs'], top)}")
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
