#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Draw the benchmarks' saved results as charts: vio beside its references, as ratios.

  charts.py [--results DIR] [--out DIR]

Reads what the benchmark programs saved in DIR (default build/bench):
results.json (run_bench.py, virtio-blk), net-results.json, console-results.json
and gpu-results.json, and writes one PNG per benchmark found into OUT
(default docs/images): bench-blk.png, bench-net.png, bench-console.png,
bench-gpu.png. Each has a panel per scenario (board, interface, backend)
and, per workload, one bar per comparison the run holds: how many times
vio's rate is the reference's (1 = as fast; above, vio is faster), on a log
scale:

  blk      vio poll ÷ bare loop (vio's virtqueue functions alone), ÷ the
           independent loop, ÷ U-Boot (net of its shell loop); vio irq ÷
           Linux (net of an empty dd)
  net      vio poll ÷ bare loop, ÷ independent loop; vio irq ÷ Linux
  console  vio irq and vio poll ÷ Linux
  gpu      vio irq and vio poll ÷ the independent loop

A rate is the benchmark's own figure: the best round (the median for the
console benchmark, as its table). Only ratios from one run are drawn; the
absolute figures of a shared machine mean little.

Draws with matplotlib (Debian's python3-matplotlib; `scripts/setup.sh
charts` installs it). When the interpreter running this has no matplotlib
and the system's /usr/bin/python3 does, the script runs itself again with
that one.
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYSTEM_PYTHON = "/usr/bin/python3"

BLK_WORKLOADS = [("r512q1", "512 B read\ndepth 1"), ("r4kq1", "4 KiB read\ndepth 1"),
                 ("r512q32", "512 B read\ndepth 32"), ("r4kq32", "4 KiB read\ndepth 32"),
                 ("r64k", "64 KiB\nseq read"), ("r1m", "1 MiB\nseq read"),
                 ("w64k", "64 KiB\nseq write"), ("w1m", "1 MiB\nseq write")]

# (file, title, workloads [(key, label)], comparisons [(vio column, reference, label)])
BENCHES = {
    "blk": ("results.json", "virtio-blk: requests per second", BLK_WORKLOADS,
            [("vio-poll", "bare", "vio poll ÷ bare loop"),
             ("vio-poll", "loop-poll", "vio poll ÷ indep. loop"),
             ("vio-poll", "uboot", "vio poll ÷ U-Boot"),
             ("vio-irq", "linux", "vio irq ÷ Linux")]),
    "net": ("net-results.json", "virtio-net: frames per second (tcp: Mbit/s)",
            [("tx64", "tx 64 B"), ("tx1514", "tx 1514 B"), ("rx64", "rx 64 B"),
             ("rx1514", "rx 1514 B"), ("rx64-paced", "rx 64 B, no loss"),
             ("rx1514-paced", "rx 1514 B, no loss"), ("tcp", "TCP (iperf)"),
             ("tcp-tx", "TCP guest → host")],
            [("vio-poll", "bare", "vio poll ÷ bare loop"),
             ("vio-poll", "loop-poll", "vio poll ÷ indep. loop"),
             ("vio-irq", "linux", "vio irq ÷ Linux")]),
    "console": ("console-results.json", "virtio-console: bytes per second",
                [("tx", "guest → host"), ("rx", "host → guest")],
                [("vio-irq", "linux", "vio irq ÷ Linux"),
                 ("vio-poll", "linux", "vio poll ÷ Linux")]),
    "gpu": ("gpu-results.json", "virtio-gpu: updates per second",
            [("full", "full screen 1280x800"), ("partial", "64x64 tile")],
            [("vio irq", "indep", "vio irq ÷ indep. loop"),
             ("vio poll", "indep", "vio poll ÷ indep. loop")]),
}


def blk_rate(col, samples):
    """Requests per second of a blk column: the best round, net of the guest's
    own loop for U-Boot and Linux (run_bench.py's best())."""
    gross = min(s["total_ns"] / s["n"] for s in samples)
    if col in ("uboot", "linux"):
        gross -= min(s["base_ns"]["empty"] / s["n"] for s in samples)
    return 1e9 / gross if gross > 0 else None


def rates(bench, data):
    """{scenario: {workload: {column: rate}}}, higher is faster."""
    out = {}
    for scen, res in data.items():
        table = out.setdefault(scen, {})
        samples = res if bench == "gpu" else res.get("samples", {})
        for w, cols in samples.items():
            for col, ss in cols.items():
                if not ss:
                    continue
                if bench == "blk":
                    r = blk_rate(col, ss)
                elif bench == "net":
                    r = max(s["rate"] for s in ss)
                elif bench == "console":
                    r = statistics.median(s["rate"] for s in ss)
                else:
                    r = max(ss)
                if r:
                    table.setdefault(w, {})[col] = r
    return out


def draw(plt, ticker, path, table, title, workloads, pairs):
    """One PNG: a panel per scenario, grouped bars of vio ÷ reference per workload."""
    scens = [s for s in sorted(table) if any(
        a in table[s].get(w, {}) and b in table[s].get(w, {})
        for w, _ in workloads for a, b, _ in pairs)]
    if not scens:
        return False
    fig, axes = plt.subplots(len(scens), 1, figsize=(10, 3.2 * len(scens)), squeeze=False)
    colours = ["#4c72b0", "#55a868", "#c44e52", "#8172b2"]
    for ax, scen in zip(axes[:, 0], scens):
        rows = [(w, label) for w, label in workloads if w in table[scen]]
        used = [(a, b, lab) for a, b, lab in pairs
                if any(a in table[scen][w] and b in table[scen][w] for w, _ in rows)]
        width = 0.8 / max(1, len(used))
        for k, (a, b, lab) in enumerate(used):
            xs, ys = [], []
            for i, (w, _) in enumerate(rows):
                t = table[scen][w]
                if a in t and b in t:
                    xs.append(i - 0.4 + width * (k + 0.5))
                    ys.append(t[a] / t[b])
            bars = ax.bar(xs, ys, width, label=lab, color=colours[k % len(colours)])
            for bar, y in zip(bars, ys):
                ax.annotate(f"{y:.2f}", (bar.get_x() + bar.get_width() / 2, y),
                            ha="center", va="bottom", fontsize=7)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log")
        # Plain numbers at 1, 2, 5, 10, ... rather than powers of ten.
        ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([label for _, label in rows], fontsize=8)
        ax.set_ylabel("vio ÷ reference (rate)")
        ax.set_title(f"{title}: {scen.replace('-', ', ')}", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main():
    try:
        import matplotlib
    except ImportError:
        if os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable) != \
                os.path.realpath(SYSTEM_PYTHON):
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
        sys.exit("charts.py: no matplotlib (sh scripts/setup.sh charts installs "
                 "python3-matplotlib)")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "images"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    names = list(BENCHES)
    drawn = 0
    for k, bench in enumerate(names):
        fname, title, workloads, pairs = BENCHES[bench]
        src = os.path.join(args.results, fname)
        if not os.path.exists(src):
            print(f"charts: {k + 1}/{len(names)} {bench}: no {src}, skipped", flush=True)
            continue
        with open(src) as f:
            table = rates(bench, json.load(f))
        path = os.path.join(args.out, f"bench-{bench}.png")
        if draw(plt, ticker, path, table, title, workloads, pairs):
            drawn += 1
            print(f"charts: {k + 1}/{len(names)} {bench}: wrote {path}", flush=True)
        else:
            print(f"charts: {k + 1}/{len(names)} {bench}: nothing to compare in {src}",
                  flush=True)
    return 0 if drawn else 1


if __name__ == "__main__":
    sys.exit(main())
