#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one virtio-gpu QEMU test case and check the screen from the host, pixel by pixel.

  test_gpu.py --arch riscv64|aarch64 --virtio legacy|modern --case CASE
              [--boot-suffix .elf|.bin] [--timeout SECONDS] FIRMWARE.elf
              [--transport mmio|pci] [--pci-vectors [ID=]N]... [--machine-opts PROPS]
              [--expect-irq MODE]

FIRMWARE is vio-gpu-test (tests/qemu/gpu_test.c; vio-gpu-test-poll for
the poll case). After each drawing command the guest acknowledges, the
host takes a QMP screendump of the GPU's head (a PPM) and compares every
pixel with the picture it computes on its own.

Cases:

  bars    colour bars at 1280x800 (QEMU's default mode), 640x480 and
          800x600 (xres/yres), each read from the device's display info and
          EDID (preferred mode, monitor name "QEMU Monitor"); on the first
          boot also a 320x200 framebuffer the guest chose
  rect    over the bars, a rectangle is filled and flushed after the whole
          buffer was overwritten in memory without being marked damaged:
          only the rectangle changes on screen
  text    text in the built-in font (src/fb/font.c) at a known place and scale
  flip    three double-buffered frames flipped in turn; each dump shows the
          whole frame, never a mix
  multi   max_outputs=2: bars on head 0 and text on head 1, dumped apart
  errors  an unknown resource id, a rectangle outside the resource and a
          missing scanout return VIO_ENOENT, VIO_ERANGE, VIO_ENXIO; a fenced
          flush succeeds; then a partial update still reaches the screen
  cursor  a cursor image and 16 moves on the cursor queue: QEMU's queue
          status shows 17 commands taken, and the picture is unchanged
  poll    the bars with the polled build
  shell   (FIRMWARE vio-shell) gpu info names the scanout, its mode and the
          monitor; gpu fill and gpu demo are checked on the screen pixel by
          pixel (--png FILE keeps the demo's picture as a PNG, for the README)
  resize  a VNC viewer on QEMU's Unix socket asks for 800x600 (RFB
          SetDesktopSize): the guest gets VIRTIO_GPU_EVENT_DISPLAY and the
          driver re-reads the mode by itself; vio_gpu_refresh then brings
          the new EDID (preferred 800x600), and the guest draws at that size
"""
import argparse
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

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# gpu_test.c's tables.
BARS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
        (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)]
FRAME = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
GREY = (128, 128, 128)
PROMPT = "vio> "


def read_ppm(path):
    """(width, height, rows of (r, g, b)) of a binary PPM (P6, maxval 255)."""
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
        fields.append(m.group(2))
        pos = m.end()
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not a P6 PPM of maxval 255")
    w, h = int(fields[1]), int(fields[2])
    pix = data[pos + 1:]
    if len(pix) < w * h * 3:
        raise ValueError(f"{path}: {len(pix)} bytes of pixels, want {w * h * 3}")
    return w, h, pix


def font():
    """The built-in font from src/fb/font.c: {char: 7 rows, bit 4 the leftmost pixel}."""
    with open(os.path.join(SRC, "src", "fb", "font.c")) as f:
        text = f.read()
    rows = re.findall(r"\{ (0x[0-9a-f]{2}(?:, 0x[0-9a-f]{2}){6}) \}", text)
    return {chr(0x20 + i): [int(v, 16) for v in r.split(", ")] for i, r in enumerate(rows)}


class Picture:
    """The expected screen: width x height of colours."""

    def __init__(self, w, h, colour=(0, 0, 0)):
        self.w, self.h = w, h
        self.pix = bytearray(bytes(colour) * (w * h))

    def fill(self, x, y, w, h, colour):
        x0, y0, x1, y1 = max(0, x), max(0, y), min(self.w, x + w), min(self.h, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        line = bytes(colour) * (x1 - x0)
        for yy in range(y0, y1):
            o = (yy * self.w + x0) * 3
            self.pix[o:o + len(line)] = line

    def bars(self):
        for i, c in enumerate(BARS):
            x0, x1 = self.w * i // 8, self.w * (i + 1) // 8
            self.fill(x0, 0, x1 - x0, self.h, c)
        return self

    def text(self, x, y, s, scale, colour=(255, 255, 255)):
        glyphs = font()
        cx = x
        for ch in s:
            rows = glyphs.get(ch, glyphs["?"])
            for r, bits in enumerate(rows):
                for col in range(5):
                    if bits & (0x10 >> col):
                        self.fill(cx + col * scale, y + r * scale, scale, scale, colour)
            cx += 6 * scale
        return self


class Run:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.fails = run_test.Failures()
        self.proc = None
        self.con = None
        self.qmp = None
        self.logs = []
        self.dumps = 0
        self.is_shell = False

    def path(self, name):
        return os.path.join(self.tmp, name)

    def boot(self, props="", extra=(), shell=False):
        """Boot with one GPU (id gpu0, more properties in props) and wait until the
        firmware is ready (READY, or the shell's prompt); False when it never was."""
        self.stop()
        self.is_shell = shell
        qmp = self.path("qmp.sock")
        if os.path.exists(qmp):
            os.unlink(qmp)
        p = "id=gpu0" + ("," + props if props else "")
        cmd = qemu.build_command(self.args.arch, self.args.firmware, self.args.virtio, "gpu",
                                 ["-qmp", f"unix:{qmp},server=on,wait=off"] + list(extra),
                                 boot_suffix=self.args.boot_suffix, interactive=False,
                                 props={"gpu0": p}, ring=self.args.ring,
                                 transport=self.args.transport,
                                 **run_test.irq_command_args(self.args))
        if not os.path.exists(cmd.boot_image):
            raise qemu.QemuError(f"{cmd.boot_image} not found")
        print("$ " + " ".join(cmd.argv))
        sys.stdout.flush()
        self.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = run_test.Console(self.proc)
        self.deadline = time.monotonic() + self.args.timeout
        self.pos = 0
        ready = PROMPT if shell else "\nREADY\r"
        if not self.fails.check(self.con.wait_for(ready, 0, self.deadline) is not None,
                                f"the firmware never printed {ready.strip()!r}"):
            return False
        self.qmp = run_test.Qmp(qmp, self.deadline)
        return True

    def start(self, props="", extra=()):
        """Boot the test firmware; its GPU line read. False when it never got ready."""
        if not self.boot(props, extra):
            return False
        m = re.search(r"^GPU state=(\d+) iface=(\S+) scanouts=(\d+) edid=(\d)$", self.log(),
                      re.M)
        if self.fails.check(m is not None, "no GPU line"):
            self.fails.check(m.group(2) == self.args.virtio,
                             f"interface {m.group(2)}, want {self.args.virtio}")
            self.scanouts = int(m.group(3))
            self.edid = m.group(4) == "1"
        return m is not None

    def log(self):
        return self.con.log().replace("\r", "")

    def start_shell(self):
        """Boot the shell (FIRMWARE is vio-shell) and wait for its prompt."""
        return self.boot(shell=True)

    def shell(self, line, timeout=None):
        """Type a command; what it printed before the next prompt."""
        start = len(self.con.log())
        print(f"> {line}")
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        end = self.con.wait_for(PROMPT, start, self.deadline)
        if not self.fails.check(end is not None, f"no prompt after '{line}'"):
            return ""
        return self.con.log()[start:end].replace("\r", "")

    def scanout_lines(self, start=0):
        return self.scanout_lines_in(self.log()[start:])

    @staticmethod
    def scanout_lines_in(text):
        return {int(m.group(1)): m.groupdict() for m in re.finditer(
            r"^SCANOUT (\d+) enabled=(?P<enabled>\d) mode=(?P<w>\d+)x(?P<h>\d+) edid=(?P<edid>\d)"
            r" pref=(?P<pw>\d+)x(?P<ph>\d+) name=(?P<name>.*)$", text, re.M)}

    def cmd(self, line, want=None):
        """Send a command line; the match of want (default ^OK <verb>) or None."""
        want = want or rf"^OK {line.split()[0]}\b.*$"
        print(f"> {line}")
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        rx = re.compile(f"{want}|^FAIL .*$", re.M)
        while True:
            m = rx.search(self.log(), self.pos)
            if m:
                self.pos = m.end()
                if m.group(0).startswith("FAIL "):
                    self.fails.append(f"'{line}': {m.group(0)}")
                    return None
                return m
            if time.monotonic() >= self.deadline or self.con.closed:
                self.fails.append(f"no answer to '{line}'")
                return None
            time.sleep(0.01)

    def dump(self, head=0):
        """The head's screen as (w, h, pixels)."""
        self.dumps += 1
        path = self.path(f"dump{self.dumps}.ppm")
        args = {"filename": path, "device": "gpu0"}
        if head:
            args["head"] = head
        self.qmp.command("screendump", **args)
        return read_ppm(path)

    def check(self, what, want, head=0):
        """The head's screen must be the Picture want, every pixel."""
        w, h, pix = self.dump(head)
        if not self.fails.check((w, h) == (want.w, want.h),
                                f"{what}: screen is {w}x{h}, want {want.w}x{want.h}"):
            return False
        if pix[:w * h * 3] == bytes(want.pix):
            print(f"ok: {what}: {w}x{h}, every pixel as drawn")
            return True
        bad = [i for i in range(w * h) if pix[i * 3:i * 3 + 3] != want.pix[i * 3:i * 3 + 3]]
        i = bad[0]
        self.fails.append(f"{what}: {len(bad)} pixels differ, first at ({i % w}, {i // w}): "
                          f"{tuple(pix[i * 3:i * 3 + 3])}, want {tuple(want.pix[i * 3:i * 3 + 3])}")
        return False

    def stop(self):
        """End the guest (q), wait for QEMU, and keep its log."""
        if not self.proc:
            return
        if self.qmp:
            self.qmp.close()
            self.qmp = None
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"poweroff\n" if self.is_shell else b"q\n")
                self.proc.stdin.flush()
            except OSError:
                pass
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.fails.append(f"QEMU still running after {self.args.timeout:g} s; killed")
        self.con.join()
        log = self.log()
        self.logs.append(log)
        results = re.findall(r"^RESULT: (\d+) passed, (\d+) failed$", log, re.M)
        if not self.is_shell and self.fails.check(len(results) == 1,
                                                  f"{len(results)} RESULT lines, want one"):
            self.fails.check(results[0][1] == "0", f"the firmware reports {results[0][1]} failed")
        for ln in log.split("\n"):
            if ln.startswith("FAIL "):
                self.fails.append(f"firmware: {ln}")
        self.fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
        self.proc = None


def check_mode(r, w, h):
    so = r.scanout_lines().get(0)
    if not r.fails.check(so is not None, "no SCANOUT 0 line"):
        return
    r.fails.check(so["enabled"] == "1" and (int(so["w"]), int(so["h"])) == (w, h),
                  f"scanout 0: enabled={so['enabled']} {so['w']}x{so['h']}, want {w}x{h}")
    if r.fails.check(r.edid and so["edid"] == "1", "no valid EDID for scanout 0"):
        r.fails.check((int(so["pw"]), int(so["ph"])) == (w, h),
                      f"EDID preferred mode {so['pw']}x{so['ph']}, want {w}x{h}")
        r.fails.check(so["name"] == "QEMU Monitor", f"EDID monitor name {so['name']!r}")


def case_bars(r):
    for i, (w, h) in enumerate([(1280, 800), (640, 480), (800, 600)]):
        if not r.start("" if i == 0 else f"xres={w},yres={h}"):
            return
        check_mode(r, w, h)
        if r.cmd("bars 0"):
            r.check(f"bars {w}x{h}", Picture(w, h).bars())
        if i == 0 and r.cmd("bars 0 320 200"):
            r.check("bars 320x200 (the guest's size)", Picture(320, 200).bars())
        r.stop()


def case_poll(r):
    if r.start() and r.cmd("bars 0"):
        r.check("bars, polled", Picture(1280, 800).bars())


def case_rect(r):
    if not r.start("xres=640,yres=480"):
        return
    want = Picture(640, 480).bars()
    if r.cmd("bars 0") and r.check("bars", want):
        want.fill(37, 23, 50, 40, (255, 0, 255))
        if r.cmd("rect 0 37 23 50 40 255 0 255"):
            r.check("only the rectangle changed", want)
        want.fill(600, 470, 40, 10, (0, 128, 255))
        if r.cmd("rect 0 600 470 40 10 0 128 255"):
            r.check("a rectangle at the corner", want)


def case_text(r):
    if not r.start("xres=640,yres=480"):
        return
    s = "Hello, VIO! 0123456789 #gpu"
    if r.cmd(f"text 0 10 20 2 {s}"):
        r.check("text", Picture(640, 480).text(10, 20, s, 2))
    lower = "the quick brown fox jumps over a lazy dog"
    if r.cmd(f"text 0 10 60 2 {lower}"):
        r.check("lower case", Picture(640, 480).text(10, 60, lower, 2))
    if r.cmd("text 0 3 400 1 <{[()]}> ~ ? @ & % $ + - * / = _ ^ | ' \" ` : ; ,"):
        r.check("punctuation", Picture(640, 480).text(
            3, 400, "<{[()]}> ~ ? @ & % $ + - * / = _ ^ | ' \" ` : ; ,", 1))


def case_flip(r):
    if not r.start("xres=640,yres=480"):
        return
    for n in (1, 2, 3, 40):
        want = Picture(640, 480, FRAME[n % 4])
        want.fill(0, n, 640, 8, (0, 0, 0))
        if r.cmd(f"flip 0 {n}"):
            r.check(f"frame {n} after the flip", want)


def case_multi(r):
    if not r.start("max_outputs=2"):
        return
    r.fails.check(r.scanouts == 2, f"{r.scanouts} scanouts, want 2")
    if r.cmd("bars 0"):
        r.check("head 0: bars", Picture(1280, 800).bars(), head=0)
    if r.cmd("text 1 5 5 3 HEAD ONE"):
        r.check("head 1: text", Picture(640, 480).text(5, 5, "HEAD ONE", 3), head=1)
        r.check("head 0 unchanged", Picture(1280, 800).bars(), head=0)


def case_errors(r):
    if not r.start("xres=640,yres=480"):
        return
    want = Picture(640, 480).bars()
    r.cmd("bars 0")
    if r.cmd("errors 0"):
        log = r.log()
        for name, rc in (("badres", "VIO_ENOENT"), ("outside", "VIO_ERANGE"),
                         ("scanout", "VIO_ENXIO"), ("fence", "0")):
            m = re.search(rf"^ERR {name} rc=(\S+)$", log, re.M)
            r.fails.check(m and m.group(1) == rc, f"{name}: {m and m.group(1)}, want {rc}")
        m = re.search(r"^ERR bad_responses=(\d+) state=(\d+)$", log, re.M)
        r.fails.check(m and m.groups() == ("3", "3"),
                      f"after the errors: {m and m.group(0)}, want 3 error responses, READY")
    want.fill(100, 100, 20, 20, (10, 20, 30))
    if r.cmd("rect 0 100 100 20 20 10 20 30"):
        r.check("the display still works", want)


def virtio_path(r):
    for d in r.qmp.command("x-query-virtio"):
        if d.get("name") == "virtio-gpu":
            return d["path"]
    return None


def case_cursor(r):
    if not r.start("xres=640,yres=480"):
        return
    r.cmd("bars 0")
    path = virtio_path(r)
    if r.cmd("cursor 0") and r.fails.check(path is not None, "QMP lists no virtio-gpu"):
        deadline = time.monotonic() + 5
        while True:
            st = r.qmp.command("x-query-virtio-queue-status", path=path, queue=1)
            if st.get("used-idx") == 17 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        r.fails.check(st.get("used-idx") == 17 and st.get("last-avail-idx") == 17,
                      f"cursor queue: {st}, want 17 commands taken")
        print(f"ok: cursor queue took {st.get('used-idx')} commands")
    r.check("the picture under the cursor", Picture(640, 480).bars())


class Rfb:
    """Just enough of an RFB 3.8 client (RFC 6143) on QEMU's VNC Unix socket to ask
    for another desktop size (ExtendedDesktopSize's SetDesktopSize), as a viewer
    whose window was resized does."""

    def __init__(self, path, deadline):
        self.s = run_test.connect_unix(path, deadline)
        self.s.settimeout(max(0.1, deadline - time.monotonic()))
        if not self._recv(12).startswith(b"RFB 003."):
            raise RuntimeError("not an RFB server")
        self.s.sendall(b"RFB 003.008\n")
        types = self._recv(self._recv(1)[0])
        if 1 not in types:
            raise RuntimeError(f"VNC offers security types {list(types)}, not None")
        self.s.sendall(bytes([1]))
        if struct.unpack(">I", self._recv(4))[0] != 0:
            raise RuntimeError("VNC security handshake failed")
        self.s.sendall(bytes([1]))  # ClientInit: shared
        w, h = struct.unpack(">HH", self._recv(4))
        self._recv(16)  # pixel format
        self._recv(struct.unpack(">I", self._recv(4))[0])  # desktop name
        self.size = (w, h)
        # SetEncodings: Raw and the ExtendedDesktopSize pseudo-encoding (-308).
        self.s.sendall(struct.pack(">BBHii", 2, 0, 2, 0, -308))

    def _recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise RuntimeError("VNC closed the connection")
            out += chunk
        return out

    def set_desktop_size(self, w, h):
        # SetDesktopSize (251): width, height, one screen (id, x, y, w, h, flags).
        self.s.sendall(struct.pack(">BBHHBB", 251, 0, w, h, 1, 0) +
                       struct.pack(">IHHHHI", 0, 0, 0, w, h, 0))

    def close(self):
        self.s.close()


def case_resize(r):
    """A viewer asks for another size: the guest gets a display event and re-reads the mode."""
    vnc = r.path("vnc.sock")
    if not r.start("xres=640,yres=480", extra=["-vnc", f"unix:{vnc}"]):
        return
    rfb = Rfb(vnc, r.deadline)
    try:
        print(f"VNC desktop {rfb.size[0]}x{rfb.size[1]}")
        rfb.set_desktop_size(800, 600)
        want = None
        while time.monotonic() < r.deadline:
            start = len(r.log())
            m = r.cmd("events", r"^OK events$")
            if not m:
                break
            seg = r.log()[start:]
            ev = re.search(r"^EVENTS n=(\d+)", seg, re.M)
            cut = max(0, seg.find("REFRESHED"))
            auto = r.scanout_lines_in(seg[:cut]).get(0)
            so = r.scanout_lines_in(seg[cut:]).get(0)
            if ev and int(ev.group(1)) > 0 and auto and (auto["w"], auto["h"]) == ("800", "600"):
                want = so
                break
            time.sleep(0.2)
        if r.fails.check(want is not None, "the driver never re-read the mode as 800x600"):
            print("ok: display event seen, the driver re-read scanout 0 as 800x600 itself")
            r.fails.check((want["w"], want["h"], want["pw"], want["ph"], want["edid"]) ==
                          ("800", "600", "800", "600", "1"),
                          f"after vio_gpu_refresh: {want}")
        # The guest draws at the new size.
        if r.cmd("bars 0"):
            r.check("bars at the new size", Picture(800, 600).bars())
    finally:
        rfb.close()


def write_png(path, w, h, pix):
    """Write RGB pixels as a PNG (8-bit truecolour, no filtering), with zlib only."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\0" + bytes(pix[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def demo_picture(w, h, i, iface):
    """What `gpu demo` draws on head i (apps/shell/cmd_gpu.c demo_picture)."""
    p = Picture(w, h)
    band = h * 5 // 8
    for b, c in enumerate(BARS):
        p.fill(w * b // 8, 0, w * (b + 1) // 8 - w * b // 8, band, c)
    for x in range(w):
        v = x * 255 // (w - 1 if w > 1 else 1)
        p.fill(x, band, 1, h // 8, (v, v, v))
        p.fill(x, band + h // 8, 1, h // 8, (255 - v, 0, v))
    p.fill(0, band + h // 4, w, h - band - h // 4, (16, 24, 48))
    scale = 3 if w >= 1024 else 2
    p.text(16, band + h // 4 + 12, f"vio virtio-gpu  scanout {i}  {w}x{h}  {iface}", scale)
    p.text(16, band + h // 4 + 12 + 8 * scale + 10,
           "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ !?#%&*+-=/<>()[]{}", 2)
    return p


def case_shell(r):
    """The shell's gpu commands (FIRMWARE is vio-shell), checked on the screen."""
    if not r.start_shell():
        return
    out = r.shell("gpu info")
    r.fails.check(re.search(r"gpu0: %s, 1 scanout, EDID yes" % r.args.virtio, out) is not None,
                  f"gpu info: {out!r}")
    r.fails.check(re.search(r'scanout 0: enabled 1280x800, monitor "QEMU Monitor" \(RHT\), '
                            r"preferred 1280x800", out) is not None, f"gpu info: {out!r}")
    out = r.shell("gpu fill 10 20 30")
    if r.fails.check("filled with 10 20 30" in out, f"gpu fill: {out!r}"):
        r.check("gpu fill", Picture(1280, 800, (10, 20, 30)))
    out = r.shell("gpu demo", timeout=30)
    if r.fails.check("demo on gpu0" in out, f"gpu demo: {out!r}"):
        want = demo_picture(1280, 800, 0, r.args.virtio)
        r.check("gpu demo", want)
        if r.args.png:
            w, h, pix = r.dump()
            write_png(r.args.png, w, h, pix)
            print(f"wrote {r.args.png}")
    out = r.shell("gpu fill 1 2")
    r.fails.check("usage: gpu" in out, f"gpu fill 1 2: {out!r}")


CASES = {"bars": case_bars, "rect": case_rect, "text": case_text, "flip": case_flip,
         "multi": case_multi, "errors": case_errors, "cursor": case_cursor, "poll": case_poll,
         "resize": case_resize, "shell": case_shell}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run_test.add_board_options(ap, timeout=60)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--png", default=None, help="shell case: save the demo's screendump here")
    run_test.add_irq_options(ap, "gpu")
    ap.add_argument("firmware")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vio-gpu-")
    r = Run(args, tmp)
    try:
        CASES[args.case](r)
        r.stop()
    except (qemu.QemuError, OSError, RuntimeError, ValueError, TimeoutError) as e:
        r.fails.append(f"host side: {e}")
    finally:
        if r.proc and r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
            if r.con:
                r.logs.append(r.log())
        shutil.rmtree(tmp, ignore_errors=True)
    if args.ring == "packed":
        r.fails.extend(qemu.ring_problems("".join(r.logs), args.ring))
    if args.expect_irq:
        for log in r.logs:
            run_test.check_irq_mode(r.fails, log, "gpu", args.expect_irq)
    return r.fails.report([("console", log) for log in r.logs])


if __name__ == "__main__":
    sys.exit(main())
