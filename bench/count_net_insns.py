#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Guest instructions and register accesses per frame: vio's net driver against its floors.

  count_net_insns.py [--arch A]... [--iface legacy|modern]... [--build-root DIR]
                     [--plugin SO] [--out DIR] [--stall US] [--top N]

The net benchmark's guests (bench/net_bench.c as vio irq, vio poll and the
bare loop; bench/indep_net_loop.c, the independent loop) under QEMU with
bench/insn_plugin.c, which counts the guest's instructions per function and
its accesses to virtio-mmio registers (loads and stores QEMU sends to a
device model, by register) between the firmwares' bench_mark() calls, on the
command line of run_net_bench.py. The plumbing (symbols, the plugin's MARK
blocks, the difference of two runs) is count_insns.py's.

Every workload runs twice, with a small and a large count of frames; the
difference over the difference of the counts is one frame, set-up and
tear-down cancelled out. Each of the two runs is made --repeat times and
the one with the fewest instructions kept: what a loaded host can add (a
spin when QEMU ran late) only ever adds instructions.

  transmit  `tx BYTES N` (the loops: `bare`, `poll`): the guest keeps its
            ring full; with --stall the plugin sleeps in the vCPU thread after
            each notification, so QEMU has sent the batch and written the used
            ring before the guest looks: a polled wait then takes its
            completions at the first look, and its count holds no spinning.
            The stall (default 5 ms) covers a whole batch of 256 frames and
            QEMU's transmit bottom half re-enabling notifications after it:
            with a shorter one the device is still busy when the next batch
            is published, asks for no notification, nothing stalls, and the
            guest's spin is counted.
  receive   `rx N IDLE SETTLE`: the guest prints RX READY and then waits
            SETTLE ms without looking at the device while this program sends
            the N frames (fewer than the buffers posted); then it takes them,
            between the marks. A frame's count is then its own work
            (dequeue, checks, the callback, the re-post and the refill's
            notifications), and no spin for frames still on the way.
            The interrupt that came during the settling is not in the
            count (one per batch, whatever the batch).

Output: a table per board and interface on stdout and in OUT/net-insns.md,
every function's and register's count in OUT/net-insns.json.
"""
import argparse
import os
import sys
import time
import types

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import count_insns as ci  # noqa: E402  (symbols, parse_marks, per_request)
import run_bench as rb  # noqa: E402
import run_net_bench as nb  # noqa: E402
from run_bench import BenchError, parse_kv, qemu  # noqa: E402

# (column, firmware, the guest command per direction)
GUESTS = [
    ("loop poll", "net-indep-loop", {"tx": "poll", "rx": "rx"}),
    ("bare loop", "vio-net-bench-poll", {"tx": "bare", "rx": "barerx"}),
    ("vio poll", "vio-net-bench-poll", {"tx": "tx", "rx": "rx"}),
    ("vio irq", "vio-net-bench", {"tx": "tx", "rx": "rx"}),
]
SIZES = (64, 1514)
TX_N = (512, 2560)   # whole rings of 256: the same batches at both counts
RX_N = (24, 120)     # fewer than the 256 buffers every guest posts
SETTLE_MS = 300
RX_BURST = 24      # frames sent at once, 10 ms apart, during the settling
# Registers of 4.2.2 worth naming; the rest are summed as "other".
REGS = {("w", 0x050): "notify", ("r", 0x060): "isr read", ("w", 0x064): "isr ack"}


class NetCounter:
    """One net guest under the plugin, on run_net_bench.py's command line."""

    def __init__(self, args, arch, iface, fw_path, work, tag):
        self.marks = os.path.join(work, f"{tag}.marks")
        syms = os.path.join(work, f"{tag}.syms")
        mark = ci.symbols(arch, os.path.splitext(fw_path)[0] + ".elf", syms)
        lo, hi = ci.NOTIFY_WINDOW[arch]
        plug = (f"{args.plugin},syms={syms},mark={mark:x},out={self.marks},io=1,"
                f"notify_lo={lo:x},notify_hi={hi:x}")
        if args.stall:
            plug += f",stall={args.stall}"
        env = rb.Env(arch, iface, "net", work)
        argv = rb.machine_argv(arch, iface) + ["-kernel", fw_path, "-plugin", plug]
        ns = types.SimpleNamespace(refs=os.path.join(ROOT, "build", "bench", "refs"),
                                   tcp_seconds=1)
        self.g = nb.VioNetGuest(tag, argv, work, env, "count", ns)
        self.g.start()
        self.g.resume()

    def text(self):
        with open(self.marks) as f:
            return f.read()

    def block(self, before):
        blocks = ci.parse_marks(self.text()[before:])
        if len(blocks) < 2:
            raise BenchError(f"{self.g.name}: no MARK blocks from the plugin")
        return blocks[-1]  # the second mark closes the workload

    def tx(self, kind, size, n):
        before = len(self.text())
        kv = self.g.tx(f"{kind} {size} {n}")
        return int(kv["n"]), self.block(before)

    def rx(self, kind, size, n):
        before = len(self.text())
        g = self.g
        start = g.con.mark()
        g.send(f"{kind} {n} 300 {SETTLE_MS}")
        g.con.expect(r"^RX READY\n", start, 60)
        # In small bursts: QEMU's socket holds fewer than 100 large frames until its
        # main loop moves them to the ring, and the guest does not look meanwhile.
        for k in range(0, n, RX_BURST):
            g.link.blast(size, min(RX_BURST, n - k))
            time.sleep(0.01)
        m, _ = g.con.expect(r"^((RES|BENCH ERR|ERR) .*)\n", start, 60)
        if not m.group(1).startswith("RES"):
            raise BenchError(f"{g.name}: {m.group(1)}")
        kv = parse_kv(m.group(1))
        if int(kv["n"]) != n:
            raise BenchError(f"{self.g.name}: rx {size}: {kv['n']} of {n} frames")
        return n, self.block(before)

    def close(self):
        self.g.close()


def per_frame(r1, r2):
    (n1, b1), (n2, b2) = r1, r2
    total, funcs = ci.per_request(b1, b2, n1, n2)
    io = {k: (b2[2].get(k, 0) - b1[2].get(k, 0)) / (n2 - n1) for k in set(b1[2]) | set(b2[2])}
    return {"total": total, "funcs": funcs,
            "io": {f"{k[0]} 0x{k[1]:03x}": v for k, v in io.items()}}


def lowest(repeat, run, *argv):
    """The run with the fewest instructions of repeat: work a frame needs is in
    every one; what a loaded host can add (a spin when QEMU ran late) only ever
    adds instructions. A run that failed (a frame lost) is repeated."""
    best, err = None, None
    for _ in range(repeat):
        try:
            r = run(*argv)
        except BenchError as e:
            err = e
            continue
        if best is None or r[1][0] < best[1][0]:
            best = r
    if best is None:
        raise err
    return best


def io_summary(io):
    named = {name: io.get(f"{rw} 0x{off:03x}", 0.0) for (rw, off), name in REGS.items()}
    other = sum(v for k, v in io.items()
                if (k.split()[0], int(k.split()[1], 16)) not in REGS)
    return named, other


def report(arch, iface, rows, top):
    out = [f"### {arch}, {iface} virtio-mmio: guest instructions and register accesses "
           "per frame\n",
           "| direction | bytes | guest | instructions / frame | ÷ bare loop | ÷ indep. loop | "
           "notify / ISR read / ISR ack per frame | other register accesses |",
           "|---|---|---|---|---|---|---|---|"]

    def ratio(r, col):
        base = next((x["total"] for x in rows if x["column"] == col and x["dir"] == r["dir"]
                     and x["bytes"] == r["bytes"]), None)
        return f"{r['total'] / base:.2f}×" if base else "—"

    for r in rows:
        named, other = io_summary(r["io"])
        out.append(f"| {r['dir']} | {r['bytes']} | {r['column']} | {r['total']:.0f} | "
                   f"{ratio(r, 'bare loop')} | {ratio(r, 'loop poll')} "
                   f"| {named['notify']:.3f} / {named['isr read']:.3f} / "
                   f"{named['isr ack']:.3f} | {other:.3f} |")
    out.append("\nPer function (instructions per frame, calls per frame in brackets):\n")
    for r in rows:
        out.append(f"- {r['dir']} {r['bytes']} B, {r['column']}: "
                   f"{ci.top_functions(r['funcs'], top)}")
    out.append("")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ci.add_common_args(p)
    p.add_argument("--stall", type=int, default=5000,
                   help="µs after each notification (transmit); 0: never stall")
    p.add_argument("--top", type=int, default=8, help="functions listed per row")
    p.add_argument("--repeat", type=int, default=3,
                   help="measurements per cell, the lowest kept (default 3)")
    args, out, work = ci.parse_common_args(p, "net-insns")
    md, js, status = [], {}, 0
    for arch in args.arch:
        suffix = qemu.ARCHES[arch].boot_suffix
        for iface in args.iface:
            rows = []
            for col, fw, cmds in GUESTS:
                path = os.path.join(os.path.abspath(args.build_root), arch, "bench", fw + suffix)
                if not os.path.exists(path):
                    print(f"{path} not found: skipped", file=sys.stderr)
                    continue
                tag = f"{arch}-{iface}-{col.replace(' ', '-')}"
                t = time.monotonic()
                try:
                    c = NetCounter(args, arch, iface, path, work, tag)
                except BenchError as e:
                    print(f"{tag}: {e}", file=sys.stderr)
                    status = 1
                    continue
                try:
                    if fw != "net-indep-loop":
                        # net_bench.c learns where each of the driver's receive
                        # buffers starts from the first frames (the bare receive
                        # loop re-posts them): done before counting, so that no
                        # count holds it.
                        for _ in range(3):
                            c.rx("rx", 64, RX_N[1])
                    for size in SIZES:
                        for d, counts in (("tx", TX_N), ("rx", RX_N)):
                            if d not in cmds:
                                continue
                            run = c.tx if d == "tx" else c.rx
                            r = per_frame(*(lowest(args.repeat, run, cmds[d], size, n)
                                            for n in counts))
                            rows.append({"column": col, "dir": d, "bytes": size, **r})
                except BenchError as e:
                    print(f"{tag}: {e}", file=sys.stderr)
                    status = 1
                finally:
                    c.close()
                print(f"{tag}: {time.monotonic() - t:.0f} s", file=sys.stderr)
            rows.sort(key=lambda r: (r["dir"], r["bytes"]))
            js[f"{arch}-{iface}"] = rows
            md.append(report(arch, iface, rows, args.top))
            print(md[-1], flush=True)
    ci.write_results(out, "net-insns", md, js)
    return status


if __name__ == "__main__":
    sys.exit(main())
