#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The code and data size of vio's core and of each driver, at -Os.

Reads the objects of the library built at -Os with a board's defaults
(the vio_size target, cmake/size.cmake) with binutils' size, adds them up
per component and prints a Markdown table, one column group per
architecture.

  scripts/size_table.py                      build vio_size for both boards
                                             (presets riscv64, aarch64), print
  scripts/size_table.py --write README.md README_zh.md
                                             and put the table between the
                                             size-table markers of each file
  scripts/size_table.py --lib riscv64=LIB --size-tool riscv64=TOOL --check README.md
                                             one architecture from a built
                                             library (the size-<arch> test):
                                             fails on a part without code,
                                             or when the README's table
                                             lists other parts

text is code and read-only data. The figures are of the objects before linking: a program that leaves
functions unused gets less (the boards link with --gc-sections).
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHES = ("riscv64", "aarch64")
SIZE_TOOLS = {"riscv64": "riscv64-unknown-elf-size", "aarch64": "aarch64-linux-gnu-size"}
BEGIN = "<!-- size-table begin (scripts/size_table.py --write) -->"
END = "<!-- size-table end -->"

# (row label, object file name prefixes): an object belongs to the first
# row with a prefix of its name (blk_io.c -> blk); what no row names is the
# core's (src/core: device.c, virtqueue*.c, ...), so a new core file needs
# no change here, a new driver a row.
COMPONENTS = [
    ("core", ()),
    ("virtio-mmio", ("mmio",)),
    ("virtio-pci", ("pci",)),
    ("blk", ("blk",)),
    ("net", ("net",)),
    ("console", ("console",)),
    ("gpu", ("gpu",)),
    ("input", ("input",)),
    ("rng", ("rng",)),
    ("framebuffer + font", ("fb", "font")),
]
# The set RT-Thread's figure covers: its core (virtio-mmio, split ring)
# and its five drivers.
RTT_SET = ("core", "virtio-mmio", "blk", "net", "console", "gpu", "input")
SUMS = [
    ("core + virtio-mmio + blk, net, console, gpu, input", RTT_SET),
    ("everything", tuple(name for name, _ in COMPONENTS)),
]


def kind(section):
    """text, data, bss or None (not in the image: debug, unwind tables, notes)."""
    if re.match(r"\.(text|rodata|srodata)(\.|$)", section):
        return 0
    if re.match(r"\.(data|sdata)(\.|$)", section):
        return 1
    if re.match(r"\.(bss|sbss)(\.|$)", section):
        return 2
    return None


def object_sizes(lib, tool):
    """{object stem: [text, data, bss]} of every object in the archive.

    text is code and read-only data; .eh_frame (the unwind tables
    aarch64-linux-gnu-gcc emits by default, which a firmware can discard)
    counts nowhere.
    """
    out = subprocess.run([tool, "-A", lib], check=True, capture_output=True, text=True).stdout
    sizes = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r"^(\S+)\.c\.o(bj)?\s+\(ex ", line)
        if m:
            cur = sizes.setdefault(m.group(1), [0, 0, 0])
            continue
        f = line.split()
        if cur is None or len(f) != 3 or not f[1].isdigit():
            continue
        k = kind(f[0])
        if k is not None:
            cur[k] += int(f[1])
    return sizes


def part_of(stem):
    for name, prefixes in COMPONENTS:
        if any(stem == p or stem.startswith(p + "_") for p in prefixes):
            return name
    return COMPONENTS[0][0]


def components(sizes):
    """{row label: (text, data, bss)}; raises on a part without code."""
    rows = {name: [0, 0, 0] for name, _ in COMPONENTS}
    for stem, size in sizes.items():
        rows[part_of(stem)] = [a + b for a, b in zip(rows[part_of(stem)], size)]
    for name, total in rows.items():
        if total[0] == 0:
            raise SystemExit(f"size_table: {name} has no code in the library")
    for name, parts in SUMS:
        rows[name] = [sum(rows[p][i] for p in parts) for i in range(3)]
    return rows


def table(per_arch):
    arches = [a for a in ARCHES if a in per_arch]
    head = "| component | " + " | ".join(f"{a} text | data | bss" for a in arches) + " |"
    sep = "|---|" + "---:|---:|---:|" * len(arches)
    lines = [head, sep]
    for name in [n for n, _ in COMPONENTS] + [n for n, _ in SUMS]:
        label = f"**{name}**" if name in dict(SUMS) else name
        cells = []
        for a in arches:
            cells += [str(v) for v in per_arch[a][name]]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def readme_rows(path):
    """The first-column labels of the table between the markers of a README."""
    text = open(path, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"size_table: {path} has no size-table markers")
    body = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = []
    for line in body.strip().splitlines()[2:]:
        rows.append(line.split("|")[1].strip().strip("*"))
    return rows


def write(path, tab):
    text = open(path, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"size_table: {path} has no size-table markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + tab + "\n" + END + tail)


def build(arch):
    """Build vio_size in the arch's preset; the path of the archive."""
    for cmd in (["cmake", "--preset", arch], ["cmake", "--build", "--preset", arch, "--target",
                                               "vio_size"]):
        subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(ROOT, "build", arch, "libvio_size.a")


def pairs(items, what):
    d = {}
    for it in items or []:
        if "=" not in it:
            raise SystemExit(f"size_table: {what} wants ARCH=PATH, got {it}")
        k, v = it.split("=", 1)
        d[k] = v
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", action="append", help="ARCH=libvio_size.a (default: build both)")
    ap.add_argument("--size-tool", action="append", help="ARCH=binutils size program")
    ap.add_argument("--write", nargs="+", metavar="FILE", help="put the table into these files")
    ap.add_argument("--check", nargs="+", metavar="FILE",
                    help="fail when these files' tables list other components")
    a = ap.parse_args()

    libs = pairs(a.lib, "--lib")
    tools = pairs(a.size_tool, "--size-tool")
    if not libs:
        libs = {arch: build(arch) for arch in ARCHES}
    per_arch = {}
    for arch, lib in libs.items():
        per_arch[arch] = components(object_sizes(lib, tools.get(arch, SIZE_TOOLS.get(arch, "size"))))
    tab = table(per_arch)
    print(tab)
    for arch in per_arch:
        text = per_arch[arch][SUMS[0][0]][0]
        print(f"\n{arch}: {SUMS[0][0]}: {text} bytes of text ({text / 1024:.1f} KB)")

    want = [n for n, _ in COMPONENTS] + [n for n, _ in SUMS]
    for path in a.check or []:
        got = readme_rows(path)
        if got != want:
            sys.exit(f"size_table: {path}'s table lists {got}, the library has {want}: "
                     "run scripts/size_table.py --write README.md README_zh.md")
    for path in a.write or []:
        write(path, tab)
    return 0


if __name__ == "__main__":
    sys.exit(main())
