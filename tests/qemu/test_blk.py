#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one virtio-blk QEMU test case and check the disk images from the host.

  test_blk.py --arch riscv64|aarch64 --virtio legacy|modern --case CASE
              [--boot-suffix .elf|.bin] [--timeout SECONDS] [--keep] FIRMWARE.elf

Each case makes its own raw images in a temporary directory, boots FIRMWARE
with them (scripts/qemu.py), tells the firmware the scenario over the UART
(tests/qemu/blk_test.c: `CASE <name> s=<seed> ...` once it printed READY),
waits for QEMU to exit and only then reads the images back. The disk content
is the pattern of apps/common/pattern.h, computed here too (pattern()), so
the host knows what every byte must be.

Cases (FIRMWARE is vio-blk-test unless noted):

  read      every shape of read (one sector, odd counts, across seg_max pages
            and the driver's largest request, the last sector, the whole disk,
            scatter lists); each CSUM line the guest prints must be the CRC-32
            of those sectors of the image, and the image is unchanged
  smallq    (FIRMWARE vio-blk-test-smallq: rings of 8 entries) the same with
            QEMU's queue-size=8 (seg_max 6), no indirect descriptors and no
            event index: every long request fills the ring
  write     pattern t over known ranges, a write-through stretch, a flush: the
            image must be pattern t exactly where the guest says it wrote
            (WROTE lines) and the host's pattern s everywhere else
  readonly  readonly=on: writes, discards, write-zeroes are refused with
            VIO_EROFS (VIO_ENOTSUP for a feature not offered) and the image's
            hash is unchanged
  dwz       discard=on, write-zeroes=on, small per-request limits: the ranges
            read back as zeroes in the image, the rest is pattern s; a modern
            device must offer both features
  id        four devices: an 18-character serial, a 20-character one (no NUL
            on the wire), a 24-character one (QEMU sends 20) and none
  mq        num-queues=4: requests in flight on every queue at once; the
            guest must use 4 queues, QEMU's trace must show notifications on
            each of them, and the written data must be in the image
  mq-poll   the same with the polled build (FIRMWARE vio-blk-test-poll)
  eio       blkdebug fails a short read, a long read, an asynchronous read,
            a write and a flush once each: the guest must see VIO_EIO for
            each and then succeed; the image holds the retried write
  badinput  a 4 KiB-block device: ranges beyond the capacity, zero counts,
            misaligned sectors, counts and buffer lengths are refused before
            reaching the device; QEMU's trace must show exactly as many
            notifications as the guest made valid requests
  timeout   two drives throttled to one request a second: a read and a write
            held past a 150 ms timeout return VIO_ETIMEDOUT, the devices are
            failed (FAILED in the status, later calls VIO_ESHUTDOWN), and after
            3 s nothing has reached the read's buffer since the call returned,
            nor the write's later buffer content the image: the driver reset
            the device before it gave the buffers back; then both are
            recovered (vio_dev_recover): DRIVER_OK and not FAILED on the bus,
            a read sees the disk, a write 64 sectors on lands in the image
  needsreset  the firmware posts a chain QEMU's virtio-blk refuses (an 8-byte
            header: virtio_error "virtio-blk request outhdr too short", which
            QEMU's stderr must show) with an asynchronous write behind it.
            Modern: the device status shows DEVICE_NEEDS_RESET (0x40), the core
            fails the device while the guest only runs its service loop, and
            the write ends with VIO_EIO. Legacy: QEMU only marks the device
            broken (status without 0x40, nothing completes), a read with a
            300 ms timeout returns VIO_ETIMEDOUT and the write ends with it.
            Then: the chain's cookie untouched and nothing in flight, the
            device failed (FAILED, later calls VIO_ESHUTDOWN), recovered
            (DRIVER_OK, not FAILED), a read sees the disk and a write 64
            sectors on is the only change on the image
  stall     werror=stop,rerror=stop and blkdebug failing one write and one
            read once: each time the host sees the VM paused (query-status
            io-error, query-block io-status failed, a BLOCK_IO_ERROR event with
            action stop for the write at least), the write not
            yet on the image, holds the pause 0.5 s and sends QMP cont; the
            guest's calls succeed (QEMU retries them), the guest writes and
            flushes more, and the image holds every write byte for byte. The
            run prints the pause against what the guest's clock saw of it
  durability  a write stream with flushes to a file-backed disk
            (cache=writeback), QEMU killed with SIGKILL in the middle of it at
            many kill points (after N flushes the guest reported, N varied,
            and at random times): every write a reported flush covers must be
            on the image byte for byte (or overwritten by a later write of the
            stream, itself whole), every other sector the image's pattern or a
            whole write of the stream; the run says how many it checked
  hotplug   (--transport pci) the disk in a pcie-root-port's slot, a
            -blockdev behind it; the guest streams writes, 8 in flight, and
            QMP unplugs the disk mid-stream (device_del, DEVICE_DELETED) and
            plugs it back (device_add): every write ends exactly once, those
            in flight at the unplug with an error, every completed one is on
            the image byte for byte, and the writes after the replug complete
  shell     (FIRMWARE vio-shell) blk info, read, write, verify, zero,
            discard, flush, bench and a bad sector number, over the UART; the
            image must show the writes
"""
import argparse
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402

SECTOR = 512
MIB = 1 << 20

# Feature bits the checks look at (VirtIO 1.2 5.2.3, 6).
F_RO = 5
F_MQ = 12
F_DISCARD = 13
F_WRITE_ZEROES = 14
F_VERSION_1 = 32
F_RING_PACKED = 34

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


# ---------------------------------------------------------------------------
# The disk pattern of apps/common/pattern.h

def pattern(seed, off, n):
    """The n pattern bytes for seed at disk byte offset off."""
    w0 = off // 8
    nw = (off + n + 7) // 8 - w0
    x = (seed + (w0 + 1) * GOLDEN) & MASK
    words = []
    for _ in range(nw):
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        words.append(z ^ (z >> 31))
        x = (x + GOLDEN) & MASK
    raw = struct.pack(f"<{nw}Q", *words)
    start = off - w0 * 8
    return raw[start:start + n]


def make_image(path, size, seed):
    """A raw image of size bytes holding pattern seed (None: zeroes). Returns its bytes."""
    data = pattern(seed, 0, size) if seed is not None else bytes(size)
    with open(path, "wb") as f:
        f.write(data)
    return data


def read_image(path):
    with open(path, "rb") as f:
        return f.read()


def sha(data):
    return hashlib.sha256(data).hexdigest()[:16]


def compare_image(fails, what, got, want):
    """got must equal want byte for byte; on a difference name its first byte and run."""
    if not fails.check(len(got) == len(want), f"{what}: {len(got)} bytes, want {len(want)}"):
        return False
    if got == want:
        print(f"ok: {what}: {len(got)} bytes as expected")
        return True
    step = 4096
    for base in range(0, len(got), step):
        if got[base:base + step] != want[base:base + step]:
            i = next(k for k in range(base, base + step) if got[k] != want[k])
            j = i
            while j < len(got) and got[j] != want[j]:
                j += 1
            fails.append(f"{what}: byte {i} (sector {i // SECTOR} + {i % SECTOR}) is "
                         f"{got[i]:#04x}, want {want[i]:#04x}; {j - i} bytes differ from there")
            return False
    return False


def seed_for(*parts):
    """A fixed 64-bit seed per case, so every run is reproducible."""
    h = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "little")


def case_seeds(c, name):
    """(s, t): the image's and the guest's pattern seeds of case name on this board."""
    return (seed_for(f"{name}-s", c.args.arch, c.args.virtio),
            seed_for(f"{name}-t", c.args.arch, c.args.virtio))


# ---------------------------------------------------------------------------
# What the firmware printed

class Output:
    """The lines of one run of blk_test.c, parsed."""

    def __init__(self, log, rc):
        self.log = log
        self.rc = rc
        self.lines = log.replace("\r", "").split("\n")
        self.devs = {}      # slot -> {key: value}
        self.info = {}      # blk name -> {key: int}
        self.csums = []     # (sector, count, crc)
        self.wrote = []     # (sector, count)
        self.zeroed = []    # (op, sector, count)
        self.errs = {}      # op -> error name
        self.ids = {}       # slot -> (len, id)
        self.mq = {}        # queue -> requests
        self.values = {}    # QUEUES used, VALID requests, CACHE ...
        for ln in self.lines:
            words = ln.split()
            if not words:
                continue
            kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            if words[0] == "DEV" and "slot" in kv:
                self.devs[int(kv["slot"])] = kv
            elif words[0] == "INFO" and "name" in kv:
                self.info[kv["name"]] = {k: int(v) for k, v in kv.items() if v.isdigit()}
            elif words[0] == "CSUM" and len(words) == 4:
                self.csums.append((int(words[1]), int(words[2]), int(words[3], 16)))
            elif words[0] == "WROTE" and len(words) == 3:
                self.wrote.append((int(words[1]), int(words[2])))
            elif words[0] == "ZEROED" and len(words) == 4:
                self.zeroed.append((words[1], int(words[2]), int(words[3])))
            elif words[0] == "ERR" and len(words) == 3:
                self.errs[words[1]] = words[2]
            elif words[0] == "ID":
                m = re.fullmatch(r"ID slot=(\d+) len=(\d+) id=(.*)", ln)
                if m:
                    self.ids[int(m.group(1))] = (int(m.group(2)), m.group(3))
            elif words[0] == "MQ":
                self.mq[int(kv.get("queue", -1))] = int(kv.get("requests", -1))
            elif words[0] in ("QUEUES", "VALID", "CACHE"):
                for k, v in kv.items():
                    self.values[f"{words[0]}.{k}"] = int(v)

    def features(self, slot):
        return int(self.devs.get(slot, {}).get("features", "0"), 16)


# ---------------------------------------------------------------------------
# Booting

class Case:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.fails = run_test.Failures()
        self.cmd = None
        self.logs = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def command(self, devices, blks, extra=(), firmware=None):
        if self.args.also:
            devices += "," + self.args.also
        self.cmd = qemu.build_command(self.args.arch, firmware or self.args.firmware,
                                      self.args.virtio, devices, list(extra),
                                      boot_suffix=self.args.boot_suffix, interactive=False,
                                      transport=self.args.transport,
                                      blks=blks, qemu=self.args.qemu, ring=self.args.ring,
                                      **run_test.irq_command_args(self.args))
        if not os.path.exists(self.cmd.boot_image):
            raise qemu.QemuError(f"{self.cmd.boot_image} not found")
        print("$ " + " ".join(self.cmd.argv))
        print("devices: " + ", ".join(f"{d.id}@{d.slot}" for d in self.cmd.devices))
        sys.stdout.flush()
        return self.cmd

    def start(self, devices, blks, extra=(), firmware=None):
        """Start QEMU; returns (process, console)."""
        cmd = self.command(devices, blks, extra, firmware)
        proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        return proc, run_test.Console(proc)

    def finish(self, proc, con, deadline):
        """Wait for QEMU to exit by itself (killed at the deadline); returns its status."""
        try:
            rc = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            self.fails.append(f"QEMU still running after {self.args.timeout:g} s; killed")
        con.join()
        self.logs.append((con.log(), con.err))
        if self.args.also:
            # The idle devices must come through the case untouched: on a shared
            # interrupt line they see every interrupt of the busy one.
            for ln in con.log().splitlines():
                self.fails.check(not re.search(r"vio: error: (?!blk)\w+\d+:", ln),
                                 f"an idle device: {ln.strip()}")
        return rc

    def boot(self, devices, blks, line, extra=()):
        """Run blk_test.c with the scenario line; returns its parsed Output after QEMU exits."""
        proc, con = self.start(devices, blks, extra)
        deadline = time.monotonic() + self.args.timeout
        try:
            # The UART turns "\n" into "\r\n".
            if self.fails.check(con.wait_for("\nREADY\r", 0, deadline) is not None,
                                "the firmware never printed READY"):
                print(f"> {line}")
                proc.stdin.write((line + "\n").encode())
                proc.stdin.flush()
            rc = self.finish(proc, con, deadline)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out = Output(con.log(), rc)
        self.check_firmware(out)
        return out

    def check_firmware(self, out):
        """What every run must show: each blk ready on the right interface, no FAIL."""
        fails = self.fails
        results = [ln for ln in out.lines if ln.startswith("RESULT:")]
        if fails.check(len(results) == 1, f"{len(results)} RESULT lines, want exactly one"):
            m = re.fullmatch(r"RESULT: (\d+) passed, (\d+) failed", results[0])
            if fails.check(m is not None, f"malformed '{results[0]}'"):
                fails.check(int(m.group(1)) > 0, "no check passed")
                fails.check(int(m.group(2)) == 0, f"the firmware reports {m.group(2)} failed")
        for ln in out.lines:
            if ln.startswith("FAIL "):
                fails.append(f"firmware: {ln}")
        fails.check(out.rc == 0, f"QEMU exit status {out.rc}, want 0")
        for d in self.cmd.devices:
            f = out.devs.get(d.slot)
            if not fails.check(f is not None, f"no DEV line for {d.id} in slot {d.slot}"):
                continue
            fails.check(f.get("state") == "ready" and f.get("iface") == self.args.virtio,
                        f"{d.id} (slot {d.slot}): state={f.get('state')} "
                        f"iface={f.get('iface')}, want ready {self.args.virtio}")
            has_v1 = bool(out.features(d.slot) >> F_VERSION_1 & 1)
            fails.check(has_v1 == (self.args.virtio == "modern"),
                        f"{d.id}: VERSION_1 {'' if has_v1 else 'not '}negotiated on a "
                        f"{self.args.virtio} device")
            has_packed = bool(out.features(d.slot) >> F_RING_PACKED & 1)
            fails.check(has_packed == (self.args.ring == "packed"),
                        f"{d.id}: RING_PACKED {'' if has_packed else 'not '}negotiated on a "
                        f"{self.args.ring}-ring run")

    def blk0(self, out):
        """INFO of the first blk, and its slot."""
        info = out.info.get("blk0", {})
        self.fails.check(bool(info), "no INFO line for blk0")
        return info, info.get("slot", -1)

    def check_csums(self, out, image, at_least):
        """Every CSUM line must be the CRC-32 of those sectors of the image."""
        fails = self.fails
        fails.check(len(out.csums) >= at_least,
                    f"{len(out.csums)} checksummed reads, want at least {at_least}")
        bad = 0
        for sector, count, crc in out.csums:
            chunk = image[sector * SECTOR:(sector + count) * SECTOR]
            if len(chunk) != count * SECTOR:
                fails.append(f"CSUM {sector} {count}: beyond the {len(image)}-byte image")
                bad += 1
            elif zlib.crc32(chunk) != crc:
                fails.append(f"CSUM {sector} {count}: guest {crc:08x}, image "
                             f"{zlib.crc32(chunk):08x}")
                bad += 1
        if not bad:
            print(f"ok: {len(out.csums)} read checksums match the image")

    def expected_image(self, size, s, t, wrote=(), zeroed=()):
        want = bytearray(pattern(s, 0, size))
        for sector, count in wrote:
            want[sector * SECTOR:(sector + count) * SECTOR] = pattern(t, sector * SECTOR,
                                                                      count * SECTOR)
        for sector, count in zeroed:
            want[sector * SECTOR:(sector + count) * SECTOR] = bytes(count * SECTOR)
        return bytes(want)

    def trace_count(self, path, event):
        """How many times QEMU logged trace event."""
        if not os.path.exists(path):
            return 0
        with open(path, errors="replace") as f:
            return sum(1 for ln in f if re.match(rf"(\d+@\S+ )?{event} ", ln))

    def trace_notifies(self, path):
        """The queue index of every virtio_queue_notify QEMU logged."""
        qs = []
        if not self.fails.check(os.path.exists(path), "QEMU wrote no trace"):
            return qs
        with open(path, errors="replace") as f:
            for ln in f:
                m = re.search(r"virtio_queue_notify vdev \S+ n (\d+)", ln)
                if m:
                    qs.append(int(m.group(1)))
        return qs


# ---------------------------------------------------------------------------
# The cases

def case_read(c, smallq=False):
    size = 4 * MIB
    s = seed_for("read", c.args.arch, c.args.virtio)
    img = c.path("read.img")
    image = make_image(img, size, s)
    blk = qemu.Blk(file=img)
    if smallq:
        blk.queue_size = 8
        blk.props = "indirect_desc=off,event_idx=off"
    out = c.boot("blk", [blk], f"CASE read s={s}")
    info, _ = c.blk0(out)
    cap = size // SECTOR
    c.fails.check(info.get("capacity") == cap, f"capacity {info.get('capacity')}, want {cap}")
    if smallq:
        # 8 entries: header, 6 data segments and the status fill the ring.
        c.fails.check(info.get("queue_size") == 8 and info.get("seg_max") == 6,
                      f"queue_size {info.get('queue_size')} seg_max {info.get('seg_max')}, "
                      f"want 8 and 6")
    c.check_csums(out, image, 25)
    c.fails.check(any(sec == cap - 1 and n == 1 for sec, n, _ in out.csums),
                  "no read of the last sector")
    c.fails.check(any(sec == 0 and n == cap for sec, n, _ in out.csums),
                  "no read of the whole disk")
    c.fails.check(sha(read_image(img)) == sha(image), "reads changed the image")


def case_smallq(c):
    case_read(c, smallq=True)


def case_write(c):
    size = 4 * MIB
    s = seed_for("write-s", c.args.arch, c.args.virtio)
    t = seed_for("write-t", c.args.arch, c.args.virtio)
    img = c.path("write.img")
    make_image(img, size, s)
    out = c.boot("blk", [qemu.Blk(file=img)], f"CASE write s={s} t={t}")
    cap = size // SECTOR
    c.fails.check(len(out.wrote) >= 8, f"{len(out.wrote)} WROTE lines, want at least 8")
    c.fails.check((0, 1) in out.wrote and (cap - 1, 1) in out.wrote,
                  "no write of the first and the last sector")
    if out.values.get("CACHE.wce"):
        c.fails.check((4000, 5) in out.wrote, "no write-through write (the device has CONFIG_WCE)")
    compare_image(c.fails, "image after the writes", read_image(img),
                  c.expected_image(size, s, t, wrote=out.wrote))


def case_readonly(c):
    size = 1 * MIB
    s = seed_for("readonly", c.args.arch, c.args.virtio)
    img = c.path("ro.img")
    image = make_image(img, size, s)
    before = sha(image)
    out = c.boot("blk", [qemu.Blk(file=img, readonly=True)],
                 f"CASE readonly s={s} t={seed_for('ro-t')}")
    _, slot = c.blk0(out)
    feats = out.features(slot)
    c.fails.check(feats >> F_RO & 1, "BLK_RO not negotiated on a read-only drive")
    want = {"write": "VIO_EROFS", "writev": "VIO_EROFS", "queue-write": "VIO_EROFS"}
    for op, bit in (("discard", F_DISCARD), ("zero", F_WRITE_ZEROES),
                    ("zero-unmap", F_WRITE_ZEROES)):
        want[op] = "VIO_EROFS" if feats >> bit & 1 else "VIO_ENOTSUP"
    for op, err in want.items():
        c.fails.check(out.errs.get(op) == err, f"{op} returned {out.errs.get(op)}, want {err}")
    after = sha(read_image(img))
    if c.fails.check(after == before, f"image hash {before} before, {after} after"):
        print(f"ok: image unchanged (sha256 {before}...)")


def case_dwz(c):
    size = 4 * MIB
    s = seed_for("dwz", c.args.arch, c.args.virtio)
    img = c.path("dwz.img")
    make_image(img, size, s)
    blk = qemu.Blk(file=img, discard=True, write_zeroes=True,
                   props="max-discard-sectors=256,max-write-zeroes-sectors=128")
    out = c.boot("blk", [blk], f"CASE dwz s={s}")
    info, slot = c.blk0(out)
    feats = out.features(slot)
    has_d, has_z = bool(feats >> F_DISCARD & 1), bool(feats >> F_WRITE_ZEROES & 1)
    print(f"{c.args.virtio} device: DISCARD {'offered' if has_d else 'not offered'}, "
          f"WRITE_ZEROES {'offered' if has_z else 'not offered'}")
    if c.args.virtio == "modern":
        c.fails.check(has_d and has_z, "a modern device with discard=on,write-zeroes=on must "
                      "negotiate DISCARD and WRITE_ZEROES")
    ops = {op for op, _, _ in out.zeroed}
    if has_d:
        c.fails.check(info.get("max_discard") == 256, f"max_discard {info.get('max_discard')}, "
                      "want 256 (max-discard-sectors)")
        c.fails.check("discard" in ops, "no discard done")
    else:
        c.fails.check(out.errs.get("discard") == "VIO_ENOTSUP", "discard without the feature: "
                      f"{out.errs.get('discard')}, want VIO_ENOTSUP")
    if has_z:
        c.fails.check(info.get("max_wz") == 128, f"max_wz {info.get('max_wz')}, "
                      "want 128 (max-write-zeroes-sectors)")
        c.fails.check({"zero", "zero-unmap"} <= ops,
                      "no write-zeroes done (with and without unmap)")
    else:
        c.fails.check(out.errs.get("zero") == "VIO_ENOTSUP", "write-zeroes without the feature: "
                      f"{out.errs.get('zero')}, want VIO_ENOTSUP")
    compare_image(c.fails, "image after discard and write-zeroes", read_image(img),
                  c.expected_image(size, s, None,
                                   zeroed=[(sec, n) for _, sec, n in out.zeroed]))


def case_id(c):
    serials = ["vio-test-serial-01", "ABCDEFGHIJKLMNOPQRST", "0123456789abcdefghijklmn", None]
    blks = [qemu.Blk(serial=sn) for sn in serials]
    out = c.boot(",".join(["blk"] * len(serials)), blks, "CASE id")
    for d in c.cmd.devices:
        sn = serials[d.index]
        want = (sn or "")[:20]  # 5.2.6: 20 bytes on the wire, NUL-padded only when shorter
        got = out.ids.get(d.slot)
        if c.fails.check(got is not None, f"no ID line for {d.id} (slot {d.slot})"):
            if c.fails.check(got == (len(want), want), f"{d.id} serial={sn!r}: the guest read "
                             f"{got[1]!r} (len {got[0]}), want {want!r}"):
                print(f"ok: {d.id} serial={sn!r} reads back as {want!r}")


def case_mq(c, poll=False):
    size = 4 * MIB
    s = seed_for("mq-s", c.args.arch, c.args.virtio)
    t = seed_for("mq-t", c.args.arch, c.args.virtio)
    img = c.path("mq.img")
    make_image(img, size, s)
    trace = c.path("trace.log")
    out = c.boot("blk", [qemu.Blk(file=img, num_queues=4)], f"CASE mq s={s} t={t}",
                 extra=["-trace", "virtio_queue_notify", "-D", trace])
    info, slot = c.blk0(out)
    c.fails.check(out.features(slot) >> F_MQ & 1, "BLK_MQ not negotiated with num-queues=4")
    c.fails.check(out.values.get("QUEUES.used") == 4,
                  f"the guest used {out.values.get('QUEUES.used')} queues, want 4")
    c.fails.check(info.get("irq") == (0 if poll else 1),
                  f"completion by {'interrupt' if info.get('irq') else 'polling'}, "
                  f"want {'polling' if poll else 'interrupt'}")
    for q in range(4):
        c.fails.check(out.mq.get(q, 0) > 0, f"no request completed on queue {q}")
    notified = sorted(set(c.trace_notifies(trace)))
    if c.fails.check(notified == [0, 1, 2, 3], f"QEMU saw notifications on queues {notified}, "
                     "want 0 1 2 3"):
        print("ok: QEMU's trace shows notifications on queues 0 1 2 3")
    c.fails.check(len(out.wrote) == 1, f"{len(out.wrote)} WROTE lines, want 1")
    compare_image(c.fails, "image after writes on 4 queues", read_image(img),
                  c.expected_image(size, s, t, wrote=out.wrote))


def case_mq_poll(c):
    case_mq(c, poll=True)


def case_eio(c):
    size = 4 * MIB
    s = seed_for("eio-s", c.args.arch, c.args.virtio)
    t = seed_for("eio-t", c.args.arch, c.args.virtio)
    img = c.path("eio.img")
    make_image(img, size, s)
    e, e2, e3, w = 1000, 2000, 6000, 3000
    cfg = c.path("blkdebug.cfg")
    rules = [("read_aio", 5, e), ("read_aio", 5, e2), ("read_aio", 5, e3),
             ("write_aio", 28, w), ("flush_to_disk", 5, None)]
    with open(cfg, "w") as f:
        for event, err, sector in rules:
            f.write(f'[inject-error]\nevent = "{event}"\nerrno = "{err}"\nonce = "on"\n')
            if sector is not None:
                f.write(f'sector = "{sector}"\n')
            f.write("\n")
    out = c.boot("blk", [qemu.Blk(file=img, blkdebug=cfg, errors="report")],
                 f"CASE eio s={s} t={t} e={e} e2={e2} e3={e3} w={w} f=1")
    for op in ("read-eio", "long-read-eio", "queue-read-eio", "write-eio", "flush-eio"):
        c.fails.check(out.errs.get(op) == "VIO_EIO",
                      f"{op}: the guest got {out.errs.get(op)}, want VIO_EIO")
    c.fails.check(out.wrote == [(w, 4)], f"WROTE {out.wrote}, want [({w}, 4)]")
    compare_image(c.fails, "image after the failed and retried write", read_image(img),
                  c.expected_image(size, s, t, wrote=out.wrote))


def case_badinput(c):
    size = 1 * MIB
    s = seed_for("badinput", c.args.arch, c.args.virtio)
    img = c.path("bad.img")
    image = make_image(img, size, s)
    trace = c.path("trace.log")
    out = c.boot("blk", [qemu.Blk(file=img, block_size=4096)], f"CASE badinput s={s}",
                 extra=["-trace", "virtio_queue_notify", "-trace", "virtio_blk_req_complete",
                        "-D", trace])
    info, _ = c.blk0(out)
    c.fails.check(info.get("block") == 4096, f"block size {info.get('block')}, want 4096")
    want = {
        "read-beyond": "VIO_ERANGE", "read-across-end": "VIO_ERANGE", "read-wrap": "VIO_ERANGE",
        "write-beyond": "VIO_ERANGE", "queue-beyond": "VIO_ERANGE",
        "queue-too-large": "VIO_ERANGE",
        "read-count0": "VIO_EINVAL", "write-count0": "VIO_EINVAL", "read-null": "VIO_EINVAL",
        "readv-nsg0": "VIO_EINVAL", "read-misaligned-sector": "VIO_EINVAL",
        "read-misaligned-count": "VIO_EINVAL", "readv-misaligned-buffer": "VIO_EINVAL",
        "readv-misaligned-buffer2": "VIO_EINVAL", "readv-empty-segment": "VIO_EINVAL",
        "readv-too-fragmented": "VIO_EINVAL", "queue-too-many-segments": "VIO_ERANGE",
        "queue-misaligned": "VIO_EINVAL", "queue-bad-op": "VIO_EINVAL",
        "queue-bad-queue": "VIO_EINVAL", "queue-busy": "VIO_EBUSY", "not-a-blk": "VIO_ENODEV",
    }
    for op, err in want.items():
        c.fails.check(out.errs.get(op) == err, f"{op}: the guest got {out.errs.get(op)}, "
                      f"want {err}")
    # Each valid request was kicked alone after the previous one completed, so
    # with event index every one of them notifies (QEMU re-arms avail_event
    # before it handles a batch); the device completed exactly those.
    valid = out.values.get("VALID.requests")
    notifies = c.trace_notifies(trace)
    completes = c.trace_count(trace, "virtio_blk_req_complete")
    if c.fails.check(valid is not None and len(notifies) == valid and completes == valid,
                     f"QEMU saw {len(notifies)} notifications and completed {completes} "
                     f"requests; the guest made {valid} valid requests"):
        print(f"ok: {len(notifies)} notifications and {completes} requests for {valid} "
              "valid requests")
    c.fails.check(sha(read_image(img)) == sha(image), "the image changed")


# The timeout case: each drive serves one request a second (QEMU's throttling
# lets a first one through at once, then makes the next wait about a second);
# the guest gives up after TIMEOUT_MS and waits WAIT_MS, three times the
# throttle's period, for anything the device did not stop.
THROTTLE = "throttling.iops-total=1"
TIMEOUT_MS = 150
WAIT_MS = 3000
LATE_FILL = 0xC3   # blk_test.c TIMEOUT_LATE_FILL
HELD_SECTORS = 8   # blk_test.c TIMEOUT_SECTORS
RECOVER_OFFSET = 64  # blk_test.c RECOVER_OFFSET


def check_failed_recovered(fails, out, names):
    """Each device was failed (FAILED in its status: STATE line), then recovered
    (vio_dev_recover: DRIVER_OK and no FAILED on the bus: RECOVERED line)."""
    states = {ln.split()[1]: ln for ln in out.lines if ln.startswith("STATE ")}
    recovered = {ln.split()[1]: ln for ln in out.lines if ln.startswith("RECOVERED ")}
    for name in names:
        m = re.search(r"state=(\S+) status=(0x[0-9a-f]+|0)", states.get(name, ""))
        if fails.check(m is not None, f"no STATE line for {name}"):
            fails.check(m.group(1) == "failed" and int(m.group(2), 16) & 0x80,
                        f"{name}: state={m.group(1)} status={m.group(2)}, want failed with "
                        "FAILED (0x80) in the status")
        m = re.search(r"state=(\S+) status=(0x[0-9a-f]+|0)", recovered.get(name, ""))
        if fails.check(m is not None, f"no RECOVERED line for {name}"):
            st = int(m.group(2), 16)
            fails.check(m.group(1) == "ready" and st & 0x4 and not st & 0x80,
                        f"{name} after recovery: state={m.group(1)} status={m.group(2)}, want "
                        "ready with DRIVER_OK (0x4) and without FAILED (0x80)")


def case_timeout(c):
    size = 1 * MIB
    s = seed_for("timeout-s", c.args.arch, c.args.virtio)
    t = seed_for("timeout-t", c.args.arch, c.args.virtio)
    rsec, wsec = 512, 640
    imgs = [c.path("blk0.img"), c.path("blk1.img")]
    image = make_image(imgs[0], size, s)
    make_image(imgs[1], size, s)
    blks = [qemu.Blk(file=img, drive=THROTTLE) for img in imgs]
    out = c.boot("blk,blk", blks,
                 f"CASE timeout s={s} t={t} r={rsec} w={wsec} ms={TIMEOUT_MS} wait={WAIT_MS}")
    fails = c.fails
    # The guest reads from its blk0 and writes to its blk1, numbered by slot;
    # QEMU's blk0 takes the higher slot.
    img_at = {d.slot: imgs[d.index] for d in c.cmd.devices}
    rimg = img_at.get(out.info.get("blk0", {}).get("slot"))
    wimg = img_at.get(out.info.get("blk1", {}).get("slot"))
    if not fails.check(rimg and wimg and rimg != wimg, "no INFO lines naming both drives"):
        return
    for op in ("timeout-read", "timeout-write"):
        fails.check(out.errs.get(op) == "VIO_ETIMEDOUT",
                    f"{op}: the guest got {out.errs.get(op)}, want VIO_ETIMEDOUT "
                    "(was the request held by the throttle?)")
        fails.check(out.errs.get(op + "-after") == "VIO_ESHUTDOWN",
                    f"{op}: a call after the failure got {out.errs.get(op + '-after')}, "
                    "want VIO_ESHUTDOWN")
    after = next((ln.split() for ln in out.lines if ln.startswith("AFTER read ")), None)
    if fails.check(after is not None, "no AFTER read line"):
        kv = dict(w.split("=", 1) for w in after[2:])
        if fails.check(kv.get("changed_later") == "0",
                       f"{kv.get('changed_later')} bytes of the timed-out read's buffer "
                       "changed after the call returned: the device still had it"):
            where = ("the reset drained it into the buffer before the call returned"
                     if kv.get("at_return_disk") == kv.get("len") else
                     f"{kv.get('at_return_disk')} bytes from the disk, "
                     f"{kv.get('at_return_prefill')} still the prefill at return")
            print(f"ok: nothing reached the read's buffer after the call returned ({where})")
    check_failed_recovered(fails, out, ("blk0", "blk1"))
    rec = (wsec + RECOVER_OFFSET, HELD_SECTORS)
    fails.check(rec in out.wrote, f"no WROTE line for the write after recovery {rec}")
    # Reads change nothing; the held write is either done whole (QEMU's reset
    # drains it, with the data the guest gave) or not at all: never with the
    # bytes the guest put in its buffer after the call returned.
    fails.check(sha(read_image(rimg)) == sha(image), "the image the guest only read changed")
    got = read_image(wimg)
    held = got[wsec * SECTOR:(wsec + HELD_SECTORS) * SECTOR]
    if held == pattern(t, wsec * SECTOR, len(held)):
        print("ok: the held write was done whole (QEMU's reset drained it)")
        wrote = [(wsec, HELD_SECTORS), rec]
    else:
        late = sum(1 for b in held if b == LATE_FILL)
        fails.check(held == pattern(s, wsec * SECTOR, len(held)),
                    f"the held write's sectors hold neither its data nor the old data "
                    f"({late} bytes of the buffer's later content {LATE_FILL:#04x})")
        wrote = [rec]
    compare_image(fails, "image after the held write and the recovered one", got,
                  c.expected_image(size, s, t, wrote=wrote))


# The needsreset case: blk_test.c posts a chain QEMU's virtio-blk refuses
# (virtio_error) with a write behind it; a legacy device is given up on by a
# read that times out after NR_TIMEOUT_MS.
NR_TIMEOUT_MS = 300
NR_WAIT_MS = 3000     # how long a modern device may take to say NEEDS_RESET
NR_SECTORS = 8        # blk_test.c NR_SECTORS
NR_QEMU_ERROR = "virtio-blk request outhdr too short"


def case_needsreset(c):
    size = 1 * MIB
    s, t = case_seeds(c, "needsreset")
    rsec, wsec = 256, 512
    img = c.path("nr.img")
    make_image(img, size, s)
    out = c.boot("blk", [qemu.Blk(file=img)],
                 f"CASE needsreset s={s} t={t} r={rsec} w={wsec} ms={NR_TIMEOUT_MS} "
                 f"wait={NR_WAIT_MS}")
    fails = c.fails
    modern = c.args.virtio == "modern"
    err = c.logs[-1][1] if c.logs else ""
    if fails.check(NR_QEMU_ERROR in err, f"QEMU's stderr does not say '{NR_QEMU_ERROR}'"):
        print(f"ok: QEMU reported '{NR_QEMU_ERROR}' (virtio_error)")
    nr = next((ln for ln in out.lines if ln.startswith("NEEDS-RESET ")), "")
    m = re.search(r"status=(0x[0-9a-f]+|0)", nr)
    if fails.check(m is not None, "no NEEDS-RESET line"):
        st = int(m.group(1), 16)
        if fails.check(bool(st & 0x40) == modern,
                       f"device status {m.group(1)}: DEVICE_NEEDS_RESET (0x40) "
                       f"{'missing on a modern' if modern else 'set on a legacy'} device"):
            print(f"ok: device status {m.group(1)} "
                  f"({'NEEDS_RESET set' if modern else 'no NEEDS_RESET: legacy'})")
    log = out.log.replace("\r", "")
    if modern:
        fails.check("blk0: the device needs a reset" in log,
                    "the core did not log that the device needs a reset")
    want = {"needsreset-pending": "VIO_EIO" if modern else "VIO_ETIMEDOUT",
            "needsreset-after": "VIO_ESHUTDOWN"}
    if not modern:
        want["needsreset-read-timeout"] = "VIO_ETIMEDOUT"
    for op, e in want.items():
        fails.check(out.errs.get(op) == e, f"{op}: the guest got {out.errs.get(op)}, want {e}")
    fails.check("FOREIGN intact=1 in_flight=0" in log,
                "the malformed chain's cookie was touched or requests stayed in flight")
    fails.check("1 chain the driver did not post dropped at the reset" in log,
                "the driver did not report dropping the chain it did not post")
    check_failed_recovered(fails, out, ("blk0",))
    # The write behind the bad chain never reached the disk; the one after recovery did.
    rec = (wsec + RECOVER_OFFSET, NR_SECTORS)
    fails.check(out.wrote == [rec], f"WROTE {out.wrote}, want [{rec}]")
    compare_image(fails, "image after the failure and the write after recovery",
                  read_image(img), c.expected_image(size, s, t, wrote=[rec]))


# The stall case: a drive that stops the VM on an error (werror=stop,
# rerror=stop); blkdebug fails one write and one read once; the host holds
# the VM paused STALL_PAUSE seconds each time, then sends QMP cont.
STALL_PAUSE = 0.5
STALL_SECTORS = 8  # blk_test.c STALL_SECTORS


def case_stall(c):
    size = 1 * MIB
    s, t = case_seeds(c, "stall")
    rsec, wsec = 300, 600
    img = c.path("stall.img")
    image = make_image(img, size, s)
    cfg = c.path("blkdebug.cfg")
    with open(cfg, "w") as f:
        for event, sector in (("write_aio", wsec), ("read_aio", rsec)):
            f.write(f'[inject-error]\nevent = "{event}"\nerrno = "5"\nonce = "on"\n'
                    f'sector = "{sector}"\n\n')
    fails = c.fails
    qmp_path = c.path("qmp.sock")
    proc, con = c.start("blk", [qemu.Blk(file=img, blkdebug=cfg, errors="stop")],
                        extra=["-qmp", f"unix:{qmp_path},server=on,wait=off"])
    deadline = time.monotonic() + c.args.timeout
    qmp = None
    pauses = []
    try:
        if not fails.check(con.wait_for("\nREADY\r", 0, deadline) is not None,
                           "the firmware never printed READY"):
            raise TimeoutError
        qmp = run_test.Qmp(qmp_path, deadline)
        line = f"CASE stall s={s} t={t} w={wsec} r={rsec}"
        print(f"> {line}")
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
        for op, sector in (("write", wsec), ("read", rsec)):
            at = con.wait_for(f"\nSTALL {op} {sector} ", 0, deadline)
            if not fails.check(at is not None, f"no STALL {op} line"):
                raise TimeoutError
            # The request fails in QEMU, which stops the VM instead of reporting it.
            while True:
                st = qmp.command("query-status")
                if st.get("status") == "io-error" or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            if not fails.check(st.get("status") == "io-error" and not st.get("running"),
                               f"{op}: VM status {st}, want paused with io-error"):
                raise TimeoutError
            # The drive's I/O status says why (query-block: reset by cont).
            iost = [b.get("io-status") for b in qmp.command("query-block")]
            fails.check("failed" in iost, f"{op}: the drives' io-status {iost}, want failed")
            t0 = time.monotonic()
            time.sleep(STALL_PAUSE)
            st = qmp.command("query-status")
            fails.check(st.get("status") == "io-error",
                        f"{op}: after {STALL_PAUSE} s the VM is {st.get('status')}, want still "
                        "paused (io-error)")
            log = con.log().replace("\r", "")
            if op == "write":
                held = read_image(img)[wsec * SECTOR:(wsec + STALL_SECTORS) * SECTOR]
                fails.check(held == image[wsec * SECTOR:(wsec + STALL_SECTORS) * SECTOR],
                            "the paused write is on the image already")
                fails.check(f"WROTE {wsec} " not in log, "the guest saw the write done "
                            "while the VM was paused")
            else:
                fails.check(f"CSUM {rsec} " not in log, "the guest saw the read done while "
                            "the VM was paused")
            print(f"ok: {op} at sector {sector}: VM paused (io-error), not done; cont")
            qmp.command("cont")
            pauses.append((op, time.monotonic() - t0))
    except (TimeoutError, BrokenPipeError, ConnectionError, RuntimeError, OSError) as e:
        if str(e):
            fails.append(f"QMP: {e}")
        proc.kill()
    finally:
        events = []
        if qmp:
            try:
                qmp.command("query-status")  # every event sent before it is in qmp.events
            except (ConnectionError, RuntimeError, OSError):
                pass
            events = qmp.events
            qmp.close()
    rc = c.finish(proc, con, deadline)
    out = Output(con.log(), rc)
    c.check_firmware(out)
    # QEMU 7.2 did not always deliver a stall's BLOCK_IO_ERROR and STOP events
    # (the second's when query-status came right after cont, once the first's),
    # while its io-status and query-status said failed and io-error all the
    # same, which each stall checks above: the events that came must be in
    # order, with action stop, and at least one must have come.
    names = " ".join(e.get("event", "?") for e in events)
    errs = [(e["data"].get("operation"), e["data"].get("action")) for e in events
            if e.get("event") == "BLOCK_IO_ERROR"]
    both = [("write", "stop"), ("read", "stop")]
    if fails.check(errs in (both, both[:1], both[1:]),
                   f"BLOCK_IO_ERROR events {errs}, want a write then a read, action stop"):
        print(f"ok: QMP events {names}")
    resumes = sum(1 for e in events if e.get("event") == "RESUME")
    fails.check(resumes == 2, f"{resumes} RESUME events, want 2 (events: {names})")
    elapsed = {ln.split()[1]: ln.split()[2] for ln in out.lines if ln.startswith("ELAPSED ")}
    for op, held in pauses:
        print(f"{op}: the host held the VM paused {held * 1000:.0f} ms; the guest's clock saw "
              f"the call take {elapsed.get(op, '?')}")
    c.check_csums(out, read_image(img), 4)
    want = [(wsec, STALL_SECTORS), (wsec + RECOVER_OFFSET, STALL_SECTORS)]
    fails.check(sorted(out.wrote) == want, f"WROTE {out.wrote}, want {want}")
    compare_image(fails, "image after the stalled write and the ones after it", read_image(img),
                  c.expected_image(size, s, t, wrote=want))


def case_shell(c):
    size = 4 * MIB
    s = seed_for("shell-s", c.args.arch, c.args.virtio) & 0xFFFFFFFF
    t = seed_for("shell-t", c.args.arch, c.args.virtio) & 0xFFFFFFFF
    img = c.path("shell.img")
    image = make_image(img, size, s)
    serial = "vio-shell-disk-01"
    cap = size // SECTOR
    fails = c.fails
    proc, con = c.start("blk", [qemu.Blk(file=img, serial=serial, discard=True)])
    deadline = time.monotonic() + c.args.timeout

    def step(line):
        """Send a command; its output up to the next prompt (None on timeout)."""
        start = len(con.log())
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
        end = con.wait_for(run_test.PROMPT, start, deadline)
        if not fails.check(end is not None, f"no prompt after '{line}'"):
            return None
        out = con.log()[start:end - len(run_test.PROMPT)].replace("\r", "")
        return out

    def expect(line, *regexes):
        out = step(line)
        if out is None:
            return None
        for rx in regexes:
            fails.check(re.search(rx, out, re.M) is not None,
                        f"'{line}': no /{rx}/ in {out!r}")
        return out

    try:
        if not fails.check(con.wait_for(run_test.PROMPT, 0, deadline) is not None, "no prompt"):
            raise TimeoutError
        for cmd_line, rxs in (
            ("help", [r"^\s+blk\b"]),
            ("blk info", [rf"capacity\s+{cap} sectors \(4 MiB\)", rf"serial\s+{serial}$",
                          r"features\s+.*BLK_FLUSH",
                          "VERSION_1" if c.args.virtio == "modern" else r"blk0: slot \d+, legacy",
                          r"discard\s+max \d+"]),
            (f"blk verify 0 {cap} gen:{s}", [rf"^ok: {cap} sectors at 0 match gen:{s}"]),
        ):
            if expect(cmd_line, *rxs) is None:
                raise TimeoutError

        out = expect("blk read 0 1", r"^blk0 sector 0, 1 sector:")
        if out is None:
            raise TimeoutError
        dump = bytes.fromhex("".join(re.findall(r"^[0-9a-f]{4}: ([0-9a-f]+)$", out, re.M)))
        if fails.check(dump == image[:SECTOR], f"blk read 0 1 shows {dump[:16].hex()}..., "
                       f"the image starts {image[:16].hex()}"):
            print("ok: blk read 0 1 shows the image's first sector")

        off = 100 * SECTOR
        # The first byte where gen:t (written at sector 100) and gen:s differ.
        bad = next(i for i in range(off, off + SECTOR) if pattern(s, i, 1) != pattern(t, i, 1))
        for cmd_line, rxs in (
            (f"blk write 100 9 gen:{t}", [rf"^wrote 9 sectors at 100 \(gen:{t}\)"]),
            (f"blk verify 100 9 gen:{t}", [r"^ok: 9 sectors at 100"]),
            # The first byte that differs: sector 100, where gen:t begins.
            (f"blk verify 99 3 gen:{s}", [rf"^mismatch at sector 100 byte {bad - off} \(disk "
                                          rf"offset {bad}\): read 0x{pattern(t, bad, 1).hex()}, "
                                          rf"want 0x{pattern(s, bad, 1).hex()}"]),
            ("blk write 300 2 0x5a", [r"^wrote 2 sectors at 300 \(0x5a\)"]),
            ("blk verify 300 2 0x5a", [r"^ok: 2 sectors at 300 match 0x5a"]),
            ("blk zero 400 8", [r"^zeroed 8 sectors at 400$"]),
            ("blk zero 408 8 unmap", [r"^zeroed 8 sectors at 408 \(unmap allowed\)"]),
            ("blk verify 400 16 0", [r"^ok: 16 sectors at 400 match 0x00"]),
            ("blk discard 500 8", [r"^discarded 8 sectors at 500$"]),
            ("blk flush", [r"^flushed blk0$"]),
            # Errors: each says what and why, and the shell goes on.
            ("blk read 99999999", [r"^blk read: blk0: sector 99999999: out of range "
                                   rf"\(capacity {cap} sectors\)"]),
            (f"blk write {cap - 1} 2 1", [rf"sectors {cap - 1}\.\.{cap}: out of range"]),
            ("blk read 0 0", [r"^blk read: blk0: 0 sectors at 0: invalid argument"]),
            ("blk -d blk9 info", [r"^blk: no device blk9"]),
            ("blk frobnicate", [r"unknown subcommand 'frobnicate'"]),
            (f"blk verify 100 9 gen:{t}", [r"^ok: 9 sectors at 100"]),
            ("blk bench", [r"depth +1: +[1-9]\d* IOPS +\d+\.\d MiB/s",
                           r"depth 32: +[1-9]\d* IOPS +\d+\.\d MiB/s"]),
            ("uptime", [r"^up \d+\.\d+ s"]),
        ):
            if expect(cmd_line, *rxs) is None:
                raise TimeoutError
        proc.stdin.write(b"poweroff\n")
        proc.stdin.flush()
    except (TimeoutError, BrokenPipeError):
        proc.kill()  # the dialogue broke off; what went wrong is in fails already
    rc = c.finish(proc, con, deadline)
    fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
    want = bytearray(c.expected_image(size, s, t, wrote=[(100, 9)], zeroed=[(400, 16), (500, 8)]))
    want[300 * SECTOR:302 * SECTOR] = b"\x5a" * (2 * SECTOR)
    compare_image(fails, "image after the shell's writes", read_image(img), bytes(want))


# The durability case: blk_test.c's stream (case_stream) writes, flushes and
# reports; the host kills QEMU and reads what reached the image file.
STREAM_REGION = 2048


def stream_write(seq):
    """(sector, count) of stream write seq, as case_stream schedules it."""
    return seq * 389 % (STREAM_REGION - 8), 1 + seq * 5 % 8


def stream_sector(t, sector, seq):
    """The 512 bytes stream write seq puts on disk sector sector."""
    return (struct.pack("<QQ", sector, seq) +
            pattern(t + seq, sector * SECTOR + 16, SECTOR - 16))


def check_stream(fails, image, orig, t, durable, issued):
    """Check image after a kill: returns (writes checked, sectors checked).

    durable: the write seqs that must be on the image (those a FLUSH line
    covered, or every completed one); issued: the highest seq the guest may
    have sent (its last DW line + 1: one write may have been in flight). A
    sector the durable writes touched must hold the last of them or a later
    write of the stream, whole; any other sector what it held before (orig)
    or a whole stream write."""
    last = {}
    durable = sorted(durable)
    for seq in durable:
        sector, count = stream_write(seq)
        for x in range(sector, sector + count):
            last[x] = seq
    bad = 0
    for x in range(len(image) // SECTOR):
        got = image[x * SECTOR:(x + 1) * SECTOR]
        want_seq = last.get(x)
        hdr_sector, hdr_seq = struct.unpack("<QQ", got[:16])
        sector, count = stream_write(hdr_seq) if 0 < hdr_seq <= issued else (-1, 0)
        whole = (hdr_sector == x and sector <= x < sector + count and
                 got == stream_sector(t, x, hdr_seq))
        if want_seq is None:
            ok = whole or got == orig[x * SECTOR:(x + 1) * SECTOR]
            why = "neither the image's pattern nor a whole stream write"
        else:
            ok = whole and hdr_seq >= want_seq
            why = (f"holds sector {hdr_sector} seq {hdr_seq} (whole: {whole}), want write "
                   f"{want_seq} or a later one")
        if not ok:
            bad += 1
            if bad <= 5:
                fails.append(f"sector {x}: {why}")
    if bad > 5:
        fails.append(f"... {bad} bad sectors in all")
    return len(durable), len(last)


def stream_lines(log):
    """(DW seqs, FLUSH (i, seq) pairs) from complete lines of the log."""
    dws, flushes = [], []
    for ln in log.replace("\r", "").split("\n")[:-1]:  # the last one may be cut off
        w = ln.split()
        if len(w) == 4 and w[0] == "DW":
            dws.append((int(w[1]), int(w[2]), int(w[3])))
        elif len(w) == 3 and w[0] == "FLUSH":
            flushes.append((int(w[1]), int(w[2])))
    return dws, flushes


def case_durability(c):
    import random
    import signal
    fails = c.fails
    size = 4 * MIB
    rnd = random.Random(seed_for("durability", c.args.arch, c.args.virtio))
    # (what to wait for, writes per flush): after the Nth FLUSH line, or a
    # random time after the stream began (checked whatever the guest got to).
    points = [("flush", 1, 1), ("flush", 7, 1), ("flush", 60, 4), ("flush", 250, 1),
              ("flush", 400, 8),
              ("time", round(rnd.uniform(0.05, 0.6), 3), rnd.choice((1, 2, 5))),
              ("time", round(rnd.uniform(0.05, 0.6), 3), rnd.choice((1, 3, 16)))]
    total_writes = total_sectors = kills = 0
    for i, (kind, when, k) in enumerate(points):
        s = seed_for("durability-s", c.args.arch, c.args.virtio, i)
        t = seed_for("durability-t", c.args.arch, c.args.virtio, i) & 0xFFFFFFFF
        img = c.path(f"stream{i}.img")
        orig = make_image(img, size, s)
        blk = qemu.Blk(file=img, drive="cache=writeback")
        proc, con = c.start("blk", [blk])
        deadline = time.monotonic() + c.args.timeout
        killed = False
        try:
            if not fails.check(con.wait_for("\nREADY\r", 0, deadline) is not None,
                               f"kill point {i}: the firmware never printed READY"):
                continue
            line = f"CASE stream t={t} k={k} n=100000"
            print(f"> {line}   (kill {'after FLUSH ' + str(when) if kind == 'flush' else f'at {when} s'})")
            proc.stdin.write((line + "\n").encode())
            proc.stdin.flush()
            if kind == "flush":
                seen = con.wait_for(f"\nFLUSH {when} ", 0, deadline) is not None
                fails.check(seen, f"kill point {i}: no FLUSH {when} line")
            else:
                time.sleep(when)
            # SIGKILL: QEMU gets no chance to write anything more out.
            killed = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            con.join()
        log = con.log()
        c.logs.append((log[-2000:], con.err))
        fails.check(killed, f"kill point {i}: QEMU had exited before the kill")
        dws, flushes = stream_lines(log)
        # The reports must be in order: DW 1, 2, ... and FLUSH i covering them.
        fails.check([d[0] for d in dws] == list(range(1, len(dws) + 1)),
                    f"kill point {i}: DW lines out of order")
        fails.check(all((sec, n) == stream_write(q) for q, sec, n in dws),
                    f"kill point {i}: a DW line off the schedule")
        fails.check([f[0] for f in flushes] == list(range(1, len(flushes) + 1)),
                    f"kill point {i}: FLUSH lines out of order")
        fails.check("FAIL " not in log, f"kill point {i}: the firmware reported a failure")
        flushed = flushes[-1][1] if flushes else 0
        fails.check(flushed <= len(dws), f"kill point {i}: FLUSH {flushed} beyond the writes")
        writes, sectors = check_stream(fails, read_image(img), orig, t,
                                      range(1, flushed + 1), len(dws) + 1)
        print(f"kill point {i} ({kind} {when}, k={k}): {len(dws)} writes reported, "
              f"{len(flushes)} flushes; {writes} flushed writes checked "
              f"({sectors} sectors they last wrote)")
        total_writes += writes
        total_sectors += sectors
        kills += killed
    fails.check(total_writes > 0, "no flushed write to check")
    print(f"durability: {kills} kill points survived, {total_writes} flushed writes checked "
          f"on the image ({total_sectors} sectors)")


# The hot-plug case: blk_test.c's case_hotplug streams writes to a disk in a
# PCI Express root port's slot; QMP unplugs it (device_del, the slot's
# attention button) and plugs it back (device_add) mid-stream.
HP_PORT = "hprp"
HP_DEV = "hpblk"


def hotplug_args(c, img):
    """The root port, the disk's -blockdev (it outlives device_del) and its device."""
    props = qemu.PCI_IFACE_PROPS[c.args.virtio]
    dev = f"virtio-blk-pci,drive=hpdisk,id={HP_DEV},bus={HP_PORT},romfile={props}"
    return (["-device", f"pcie-root-port,id={HP_PORT},bus=pcie.0,addr=0x10,chassis=1,slot=1",
             "-blockdev", f"driver=file,filename={img},node-name=hpfile,cache.direct=off",
             "-blockdev", "driver=raw,file=hpfile,node-name=hpdisk",
             "-device", dev], dev)


def hotplug_lines(log):
    """(HW (seq, sector, count) list, HF (seq, sector, count, error) list, marker line numbers)."""
    hw, hf, marks = [], [], {}
    for i, ln in enumerate(log.replace("\r", "").split("\n")):
        w = ln.split()
        if len(w) == 4 and w[0] == "HW":
            hw.append((int(w[1]), int(w[2]), int(w[3])))
        elif len(w) == 5 and w[0] == "HF":
            hf.append((int(w[1]), int(w[2]), int(w[3]), w[4]))
        elif len(w) == 1 and w[0] in ("STREAMING", "UNPLUGGED", "REPLUGGED"):
            marks.setdefault(w[0], i)
        elif w and w[0] == "HOTPLUG":
            marks["HOTPLUG"] = ln.strip()
    return hw, hf, marks


def case_hotplug(c):
    fails = c.fails
    if not fails.check(c.args.transport == "pci", "the hotplug case needs --transport pci"):
        return
    size = 4 * MIB
    s = seed_for("hotplug-s", c.args.arch, c.args.virtio)
    t = seed_for("hotplug-t", c.args.arch, c.args.virtio) & 0xFFFFFFFF
    img = c.path("hotplug.img")
    orig = make_image(img, size, s)
    qmp_path = c.path("qmp.sock")
    extra, dev = hotplug_args(c, img)
    extra += ["-qmp", f"unix:{qmp_path},server=on,wait=off"]
    proc, con = c.start("none", [], extra)
    deadline = time.monotonic() + c.args.timeout
    more = 64
    qmp = None
    try:
        if not fails.check(con.wait_for("\nREADY\r", 0, deadline) is not None,
                           "the firmware never printed READY"):
            raise qemu.QemuError("no READY")
        qmp = run_test.Qmp(qmp_path, deadline)
        line = f"CASE hotplug t={t} w=32 n={more}"
        print(f"> {line}")
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
        if fails.check(con.wait_for("\nSTREAMING\r", 0, deadline) is not None,
                       "the guest never streamed"):
            print(f"QMP device_del {HP_DEV}")
            qmp.command("device_del", id=HP_DEV)
            # The virtio backend goes first; the device itself is the one to wait for.
            ev = qmp.wait_event("DEVICE_DELETED", deadline)
            while ev is not None and ev.get("data", {}).get("device") != HP_DEV:
                ev = qmp.wait_event("DEVICE_DELETED", deadline)
            if fails.check(ev is not None, "no DEVICE_DELETED: the guest never let the disk go"):
                print(f"QMP event {ev['event']} {ev.get('data', {})}")
                driver, _, rest = dev.partition(",")
                props = dict(kv.split("=", 1) for kv in rest.split(","))
                print(f"QMP device_add {dev}")
                qmp.command("device_add", driver=driver, **props)
    except (ConnectionError, RuntimeError, TimeoutError, OSError) as e:
        fails.append(f"QMP: {e}")
    try:
        rc = c.finish(proc, con, deadline)
    finally:
        if qmp:
            qmp.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = con.log()
    out = Output(log, rc)
    c.check_firmware(out)
    hw, hf, marks = hotplug_lines(log)
    order = [marks.get(k) for k in ("STREAMING", "UNPLUGGED", "REPLUGGED")]
    fails.check(None not in order and order == sorted(order),
                f"want STREAMING, UNPLUGGED, REPLUGGED in that order: {marks}")
    seqs = sorted([w[0] for w in hw] + [f[0] for f in hf])
    fails.check(seqs == list(range(1, len(seqs) + 1)),
                "every write must end exactly once (an HW or an HF line), none lost")
    fails.check(all((sec, n) == stream_write(q) for q, sec, n in hw) and
                all((sec, n) == stream_write(q) for q, sec, n, _ in hf),
                "an HW or HF line off the schedule")
    fails.check(len(hf) > 0, "no write was in flight at the unplug (none ended with an error)")
    fails.check(all(e in ("VIO_ENODEV", "VIO_ESHUTDOWN") for *_, e in hf),
                f"in-flight writes must end with VIO_ENODEV or VIO_ESHUTDOWN: "
                f"{sorted(set(e for *_, e in hf))}")
    m = re.fullmatch(r"HOTPLUG failed=(\d+) done=(\d+) after=(\d+)", marks.get("HOTPLUG", ""))
    if fails.check(m is not None, "no HOTPLUG summary line"):
        fails.check((int(m.group(1)), int(m.group(2))) == (len(hf), len(hw)),
                    f"summary {m.group(0)} disagrees with {len(hf)} HF and {len(hw)} HW lines")
        fails.check(int(m.group(3)) == more, f"{m.group(3)} writes after the replug, want {more}")
    # Every completed write is on the image (or a later one over it); the
    # failed ones may or may not have reached it, but only whole.
    writes, sectors = check_stream(fails, read_image(img), orig, t, [w[0] for w in hw],
                                   len(seqs))
    print(f"hotplug: {len(hw)} writes completed ({more} after the replug), {len(hf)} in "
          f"flight at the unplug ended with an error; {writes} completed writes checked on "
          f"the image ({sectors} sectors)")


CASES = {
    "hotplug": case_hotplug,
    "read": case_read, "smallq": case_smallq, "write": case_write,
    "readonly": case_readonly, "dwz": case_dwz, "id": case_id, "mq": case_mq,
    "mq-poll": case_mq_poll, "eio": case_eio, "badinput": case_badinput,
    "shell": case_shell, "timeout": case_timeout, "durability": case_durability,
    "needsreset": case_needsreset, "stall": case_stall,
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run_test.add_board_options(p, timeout=30)
    p.add_argument("--case", required=True, choices=sorted(CASES))
    p.add_argument("--also", default="",
                   help="more devices (a --devices list) that sit idle through the case, "
                        "e.g. sharing the blk device's PCI interrupt line")
    p.add_argument("--qemu", default=None, help="QEMU binary (default per arch)")
    p.add_argument("--keep", action="store_true", help="keep the images and traces")
    run_test.add_irq_options(p, "blk")
    p.add_argument("firmware")
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix=f"vio-blk-{args.case}-")
    c = Case(args, tmp)
    try:
        CASES[args.case](c)
        if args.expect_irq:
            for log, _ in c.logs:
                run_test.check_irq_mode(c.fails, log, "blk", args.expect_irq)
    except qemu.QemuError as e:
        c.fails.append(str(e))
    finally:
        for log, err in c.logs:
            print("---- console " + "-" * 60)
            print(log.replace("\r", ""), end="" if log.endswith("\n") else "\n")
            if err:
                print("---- QEMU stderr " + "-" * 56)
                print(err, end="" if err.endswith("\n") else "\n")
        print("-" * 73)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if c.fails:
        for msg in c.fails:
            print(f"FAIL: {msg}")
        return 1
    print(f"PASS (blk {args.case}, {args.arch} {args.virtio})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
