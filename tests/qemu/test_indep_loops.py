#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The benchmarks' independent loops, run once in one layout, checked from the outside.

  test_indep_loops.py --arch A --loop blk|net [--transport mmio|pci]
                      [--virtio legacy|modern] [--ring split|packed] FIRMWARE

The independent loops (bench/indep_loop.c, bench/indep_net_loop.c) are the
floors of the block and net benchmarks, written from the spec and sharing
no code with vio, so nothing else exercises them. This boots one on the
benchmark's own QEMU command line (bench/run_bench.py, run_net_bench.py)
for the cell asked for and runs each of its workloads a few times:

  blk   writes at depth 4, polled and interrupt-driven, then reads both
        ways and one interrupt-driven read at depth 1, on a file image
        filled with a pattern; after QEMU has exited the image must hold
        zeros (the loop's untouched buffers) where the writes went and the
        pattern everywhere else, and the interrupt-driven runs must have
        taken interrupts;
  net   frames sent by the guest, counted on the host's end of the socket
        netdev, and frames sent by the host, counted by the guest.

Every run must also report the cell's transport, interface and ring in its
INFO line. Nothing here is timed; exit status 0 when all of it held.
"""
import argparse
import os
import sys
import tempfile
import time
import types

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import run_bench as rb  # noqa: E402  (the benchmark's QEMU command lines and guests)
import run_net_bench as rnb  # noqa: E402

MIB = 1 << 20
DISK = 4 * MIB
REQ = 4096
COUNT = 16  # requests per run
WRITTEN = 2 * COUNT * REQ  # two write runs from sector 0 on
FRAMES = 200  # fewer than the loop's 256 receive buffers: none may be lost


def pattern(n):
    return bytes((i * 131 + 7) & 0xFF for i in range(n))


class Fail(Exception):
    pass


def check_info(g, args):
    want = {"iface": args.virtio, "transport": args.transport, "ring": args.ring}
    got = {k: g.info.get(k) for k in want}
    if got != want:
        raise Fail(f"the loop drives {got}, not the cell's {want}")
    print(f"INFO {' '.join(f'{k}={v}' for k, v in sorted(g.info.items()))}")


def blk(args, env, work):
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        f.write(pattern(DISK))
    argv = rb.machine_argv(args.arch, args.virtio) + [
        "-drive", f"if=none,id=blk0,file={disk},format=raw",
        "-device", rb.virtio_device("blk", "drive=blk0", args.virtio, args.transport,
                                    args.ring),
        "-kernel", args.firmware]
    g = rb.VioGuest("loop", argv, work, env, "loop")
    try:
        g.start()
        g.resume()
        check_info(g, args)
        for kind, op, depth, count in (("poll", "write", 4, COUNT), ("irq", "write", 4, COUNT),
                                       ("poll", "read", 4, COUNT), ("irq", "read", 4, COUNT),
                                       ("irq", "read", 1, 4)):
            m, _ = g.command(f"run {kind} {op} {REQ} {depth} {count}", r"^((RES|ERR) .*)\n",
                             60)
            print(m.group(1))
            kv = rb.parse_kv(m.group(1))
            if m.group(2) != "RES" or int(kv["n"]) != count:
                raise Fail(f"{kind} {op}: {m.group(1)}")
            if int(kv["kicks"]) < 1:
                raise Fail(f"{kind} {op}: no notification sent")
            if kind == "irq" and int(kv["irqs"]) < 1:
                raise Fail(f"{kind} {op}: no interrupt taken")
    finally:
        g.close()
    if g.proc.returncode != 0:
        raise Fail(f"QEMU exited with {g.proc.returncode}")
    with open(disk, "rb") as f:
        image = f.read()
    if image[:WRITTEN] != bytes(WRITTEN):
        bad = next(i for i in range(WRITTEN) if image[i])
        raise Fail(f"byte {bad} of the written range is not zero")
    if image[WRITTEN:] != pattern(DISK)[WRITTEN:]:
        raise Fail("the image changed outside the written range")
    print(f"image: {WRITTEN} bytes written, the rest untouched")


def net(args, env, work):
    opts = types.SimpleNamespace(refs="", tcp_seconds=1)
    argv = rb.machine_argv(args.arch, args.virtio) + ["-kernel", args.firmware]
    g = rnb.VioNetGuest("loop", argv, work, env, "loop", opts)
    try:
        g.start()
        g.resume()
        check_info(g, args)
        link = g.link
        link.count = 0
        link.counting = True
        m, _ = g.command(f"tx 64 {FRAMES}", r"^((RES|ERR) .*)\n", 60)
        print(m.group(1))
        if m.group(2) != "RES" or int(rb.parse_kv(m.group(1))["n"]) != FRAMES:
            raise Fail(f"tx: {m.group(1)}")
        deadline = time.monotonic() + 10
        while link.count < FRAMES and time.monotonic() < deadline:
            time.sleep(0.05)
        link.counting = False
        if link.count != FRAMES:
            raise Fail(f"tx: the host got {link.count} of {FRAMES} frames")
        print(f"tx: the host got {link.count} frames")
        kv = g.rx(f"rx {FRAMES} 2000", 64, FRAMES)
        print(f"rx: the guest got {kv['n']} of {FRAMES} frames")
        if int(kv["n"]) != FRAMES:
            raise Fail(f"rx: the guest got {kv['n']} of {FRAMES} frames")
    finally:
        g.close()
        g.link.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(rb.qemu.ARCHES))
    p.add_argument("--loop", required=True, choices=("blk", "net"))
    p.add_argument("--transport", default="mmio", choices=("mmio", "pci"))
    p.add_argument("--virtio", default="legacy", choices=("legacy", "modern"))
    p.add_argument("--ring", default="split", choices=("split", "packed"))
    p.add_argument("--boot-suffix", default="")  # the image QEMU boots, beside the ELF
    p.add_argument("firmware")
    args = p.parse_args()
    if args.boot_suffix:
        args.firmware = os.path.splitext(args.firmware)[0] + args.boot_suffix
    with tempfile.TemporaryDirectory(prefix="vio-loop-") as work:
        env = rb.Env(args.arch, args.virtio, "file", work, args.transport, args.ring)
        try:
            (blk if args.loop == "blk" else net)(args, env, work)
        except (Fail, rb.BenchError, OSError, AttributeError) as e:
            print(f"FAIL: {e}")
            return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
