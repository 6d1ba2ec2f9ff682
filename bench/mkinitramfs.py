#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the Linux reference guest's initramfs: a gzip'd newc cpio archive.

  mkinitramfs.py --busybox BUSYBOX --init INIT [--module KO]... [--bin PROGRAM]... OUT.cpio.gz

The archive holds /bin/busybox, /init (the script given), the kernel modules
given (in /lib, to be loaded in order by /init), the programs given (in
/bin), the directories /init
mounts on, and /dev/console, which the kernel opens for init before any
device file system is mounted. Written without cpio(1) or root rights.
"""
import argparse
import gzip
import os
import stat
import sys


class Newc:
    """A newc ("070701") cpio writer."""

    def __init__(self, f):
        self.f = f
        self.ino = 1

    def _pad(self, n):
        if n % 4:
            self.f.write(b"\0" * (4 - n % 4))

    def entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        # ino, mode, uid, gid, nlink, mtime, size, dev major, dev minor,
        # rdev major, rdev minor, name size, check
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.f.write(hdr + name_b)
        self._pad(len(hdr) + len(name_b))
        self.f.write(data)
        self._pad(len(data))

    def dir(self, name):
        self.entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self.entry(name, stat.S_IFREG | mode, data)

    def chardev(self, name, major, minor):
        self.entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def trailer(self):
        self.entry("TRAILER!!!", 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--busybox", required=True)
    p.add_argument("--init", required=True)
    p.add_argument("--module", action="append", default=[])
    p.add_argument("--bin", action="append", default=[])
    p.add_argument("out")
    args = p.parse_args()

    tmp = args.out + ".tmp"
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        w = Newc(gz)
        for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "lib",
                  "tmp"):
            w.dir(d)
        w.chardev("dev/console", 5, 1)
        w.chardev("dev/null", 1, 3)
        with open(args.busybox, "rb") as f:
            w.file("bin/busybox", f.read(), 0o755)
        with open(args.init, "rb") as f:
            w.file("init", f.read(), 0o755)
        for ko in args.module:
            with open(ko, "rb") as f:
                w.file("lib/" + os.path.basename(ko), f.read())
        for b in args.bin:
            with open(b, "rb") as f:
                w.file("bin/" + os.path.basename(b), f.read(), 0o755)
        w.trailer()
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
