#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`make run GUI=1` under a virtual X server: type into QEMU's window, look at it.

  test_gui.py --arch riscv64|aarch64 --virtio legacy|modern
              [--boot-suffix .elf|.bin] [--timeout SECONDS] [--png FILE] FIRMWARE.elf

FIRMWARE is the shell (vio-shell). The test starts Xvfb on a display number
it picks itself (-displayfd), boots the shell as `make run GUI=1` does (a
QEMU window, scripts/qemu.py --display gui) with a GPU, a keyboard and a
tablet, and then only acts as a user at that window would:

  - types a command name with capitals and symbols, then `gpu demo`, with
    xdotool (X key events -> QEMU's window -> virtio keyboard -> the shell's
    keys.c): the UART must show the shell got exactly those characters, and
    the demo's answer, though nothing was typed on the UART;
  - types `gpu info` for the scanout's mode (QEMU's window hands the guest
    its size, 640x480 at first), grabs the X screen (xwd) and finds the
    demo's picture in the window: every pixel of the scanout as `gpu demo`
    draws it (test_gpu.demo_picture), at one place on the screen, unscaled;
  - types `input watch`, moves the pointer to two places in the picture and
    checks that the tablet reported absolute positions that grow with the
    pointer's, then stops the watch with a key on the UART.

--png FILE keeps the window (menu bar and picture) as a PNG. Nothing is
timed: every wait ends at the first sign of success or at the deadline.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402
import test_gpu  # noqa: E402

PROMPT = "vio> "
SCREEN = (1600, 1200)  # room for a 1280x800 scanout and the window's menu bar


def read_xwd(data):
    """(width, height, RGB bytes) of an XWD screen dump (X11 XWDFileHeader, ZPixmap)."""
    head = struct.unpack(">25I", data[:100])
    (header_size, version, fmt, _depth, w, h, _xoff, byte_order, _unit, _bit_order, _pad,
     bpp, bytes_per_line, _vclass, rmask, gmask, bmask, _bits_rgb, _cmap, ncolors) = head[:20]
    if version != 7 or fmt != 2 or bpp not in (24, 32):
        raise ValueError(f"xwd: version {version} format {fmt} {bpp} bpp is not handled")
    pos = header_size + ncolors * 12
    step = bpp // 8  # a line may have more bytes than its pixels (bytes_per_line)
    order = "little" if byte_order == 0 else "big"

    def shift(mask):
        return (mask & -mask).bit_length() - 1

    shifts = [(m, shift(m)) for m in (rmask, gmask, bmask)]
    out = bytearray(w * h * 3)
    o = 0
    for y in range(h):
        row = data[pos + y * bytes_per_line:pos + y * bytes_per_line + w * step]
        if order == "little" and shifts == [(0xff0000, 16), (0xff00, 8), (0xff, 0)]:
            # The usual truecolour visual: B, G, R (and a pad byte at 32 bpp) in memory.
            out[o:o + w * 3:3] = row[2::step]
            out[o + 1:o + w * 3:3] = row[1::step]
            out[o + 2:o + w * 3:3] = row[0::step]
            o += w * 3
            continue
        for x in range(w):
            px = int.from_bytes(row[x * step:x * step + step], order)
            out[o:o + 3] = bytes((px & m) >> s for m, s in shifts)
            o += 3
    return w, h, out


class Run:
    def __init__(self, args):
        self.args = args
        self.fails = run_test.Failures()
        self.deadline = time.monotonic() + args.timeout
        self.xvfb = None
        self.proc = None
        self.con = None
        self.env = None

    def start_x(self):
        """Xvfb on a free display it picks (-displayfd writes the number)."""
        rfd, wfd = os.pipe()
        self.xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(wfd), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(wfd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(wfd)
        number = b""
        with os.fdopen(rfd, "rb") as f:
            while not number.endswith(b"\n"):
                c = f.read(1)
                if not c:
                    break
                number += c
        if not number.strip().isdigit():
            raise RuntimeError(f"Xvfb gave no display number: {self.xvfb.stderr.read1(4096)!r}")
        env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
        env.update(DISPLAY=":" + number.strip().decode(), GDK_BACKEND="x11", NO_AT_BRIDGE="1")
        self.env = env
        print(f"Xvfb on {env['DISPLAY']}")

    def x(self, *argv):
        """Run an X client on the test's display; its stdout."""
        return subprocess.run(argv, env=self.env, capture_output=True, check=True,
                              timeout=max(5.0, self.deadline - time.monotonic())).stdout

    def boot(self):
        front = qemu.gui_front_end(self.args.arch, "gui", self.env)
        cmd = qemu.build_command(self.args.arch, self.args.firmware, self.args.virtio,
                                 "gpu,keyboard,tablet", boot_suffix=self.args.boot_suffix,
                                 interactive=False, display=front)
        if not os.path.exists(cmd.boot_image):
            raise qemu.QemuError(f"{cmd.boot_image} not found")
        print("$ " + " ".join(cmd.argv))
        sys.stdout.flush()
        self.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env)
        self.con = run_test.Console(self.proc)
        return self.fails.check(self.con.wait_for(PROMPT, 0, self.deadline) is not None,
                                "the shell never printed its prompt")

    def window(self):
        """(id, x, y, w, h) of QEMU's biggest visible window, waiting for it to appear."""
        while time.monotonic() < self.deadline:
            found = []
            try:
                ids = self.x("xdotool", "search", "--onlyvisible", "--name", "^QEMU").split()
            except subprocess.CalledProcessError:
                ids = []  # none yet
            for wid in ids:
                try:
                    geo = dict(re.findall(r"(\w+)=(\d+)", self.x(
                        "xdotool", "getwindowgeometry", "--shell", wid).decode()))
                except subprocess.CalledProcessError:
                    continue  # gone since the search (GTK's short-lived windows)
                found.append((int(geo["WIDTH"]) * int(geo["HEIGHT"]), wid.decode(),
                              int(geo["X"]), int(geo["Y"]), int(geo["WIDTH"]),
                              int(geo["HEIGHT"])))
            if found:
                return max(found)[1:]
            time.sleep(0.2)
        return None

    def type_keys(self, text):
        """Type text and Return into whatever window the pointer is over."""
        print(f"(xdotool) {text}")
        self.x("xdotool", "type", "--delay", "40", text)
        self.x("xdotool", "key", "Return")

    def screen(self):
        return read_xwd(self.x("xwd", "-root", "-silent"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"poweroff\n")
                self.proc.stdin.flush()
            except OSError:
                pass
            try:
                rc = self.proc.wait(max(1.0, self.deadline - time.monotonic()))
                self.fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
            except subprocess.TimeoutExpired:
                self.fails.append("QEMU still running after poweroff; killed")
        for p in (self.proc, self.xvfb):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        if self.con:
            self.con.join()


def find_picture(w, h, pix, want):
    """Where want (a test_gpu.Picture) sits on the screen, every pixel equal: (x, y) or None.

    The demo's second bar is pure yellow and nothing else on the screen is:
    its first pixel, less a bar's width, is the picture's corner.
    """
    yellow = bytes((255, 255, 0))
    i = pix.find(yellow)
    while i >= 0 and i % 3:
        i = pix.find(yellow, i + 1)
    if i < 0:
        return None, "no yellow pixel on the screen"
    x0, y0 = (i // 3) % w - want.w // 8, (i // 3) // w
    if x0 < 0 or x0 + want.w > w or y0 + want.h > h:
        return None, f"the picture at ({x0}, {y0}) would not fit on the screen"
    bad = 0
    first = None
    for y in range(want.h):
        got = pix[((y0 + y) * w + x0) * 3:((y0 + y) * w + x0 + want.w) * 3]
        exp = want.pix[y * want.w * 3:(y + 1) * want.w * 3]
        if got != exp:
            for x in range(want.w):
                if got[x * 3:x * 3 + 3] != exp[x * 3:x * 3 + 3]:
                    bad += 1
                    if first is None:
                        first = (x, y, tuple(got[x * 3:x * 3 + 3]), tuple(exp[x * 3:x * 3 + 3]))
    if bad:
        x, y, g, e = first
        return None, (f"picture at ({x0}, {y0}): {bad} pixels differ, first at ({x}, {y}): "
                      f"{g}, want {e}")
    return (x0, y0), ""


def run(r):
    fails = r.fails
    r.start_x()
    if not r.boot():
        return
    # QEMU's window sends the guest its size once GTK has shown it, which on
    # a loaded machine takes many seconds; keys typed while the window is
    # still settling have been seen to arrive late. Type once it is done
    # (not a condition: without the event, the checks below still decide).
    r.con.wait_for("display configuration changed", 0, min(r.deadline - 30,
                                                             time.monotonic() + 45))
    win = r.window()
    if not fails.check(win is not None, "no QEMU window appeared"):
        return
    wid, wx, wy, ww, wh = win
    print(f"QEMU window {wid} at ({wx}, {wy}), {ww}x{wh}")
    # No window manager: keys go to the window under the pointer.
    r.x("xdotool", "mousemove", "--window", wid, str(ww // 2), str(wh // 2))

    # Shift and the US layout's symbols: the shell names what it got.
    start = len(r.con.log())
    typed = "No-Such_Cmd!?{1}"
    r.type_keys(typed)
    fails.check(r.con.wait_for(f"unknown command '{typed}'", start, r.deadline) is not None,
                f"typed {typed!r}, the shell got {r.con.log()[start:]!r}")

    # QEMU's window tells the guest its size once it is shown (a display
    # event, 640x480 at first) and the demo draws at the scanout's mode as
    # the guest last heard it. Should the event come in the middle, the
    # window scales an older picture: draw again, up to three times.
    at = None
    for attempt in range(3):
        start = len(r.con.log())
        r.type_keys("gpu demo")
        end = r.con.wait_for("demo on gpu0", start, r.deadline)
        if not fails.check(end is not None, "the typed `gpu demo` never ran: "
                           f"{r.con.log()[start:]!r}"):
            return
        fails.check("gpu demo" in r.con.log()[start:end], "the shell did not echo `gpu demo`")
        r.con.wait_for(PROMPT, end, r.deadline)
        start = len(r.con.log())
        r.type_keys("gpu info")
        end = r.con.wait_for(PROMPT, start + 1, r.deadline)
        m = re.search(r"scanout 0: enabled (\d+)x(\d+)",
                      r.con.log()[start:end or len(r.con.log())])
        if not fails.check(m is not None, f"the typed `gpu info` named no mode: "
                           f"{r.con.log()[start:]!r}"):
            return
        mode = (int(m.group(1)), int(m.group(2)))
        print(f"the scanout is {mode[0]}x{mode[1]}")
        want = test_gpu.demo_picture(mode[0], mode[1], 0, r.args.virtio)
        # The window may still be repainting: look a few times.
        for _ in range(10):
            w, h, pix = r.screen()
            at, why = find_picture(w, h, pix, want)
            if at or time.monotonic() >= r.deadline:
                break
            time.sleep(0.5)
        if at or time.monotonic() >= r.deadline:
            break
        print(f"not yet: {why}")
    if not fails.check(at is not None, f"the demo is not in the window: {why}"):
        if r.args.png:
            test_gpu.write_png(r.args.png, w, h, pix)
            print(f"wrote the whole screen to {r.args.png}")
        return
    print(f"ok: the demo's {mode[0]}x{mode[1]} picture at ({at[0]}, {at[1]}) on the screen, "
          "every pixel as drawn")
    win = r.window()
    inside = win and (win[1] <= at[0] and win[2] <= at[1] and at[0] + mode[0] <= win[1] + win[3]
                      and at[1] + mode[1] <= win[2] + win[4])
    if fails.check(inside, f"the picture at {at} is not inside QEMU's window {win}") \
            and r.args.png:
        # The whole window, menu bar and all, as a user sees it.
        _, x0, y0, ww, wh = win
        crop = b"".join(pix[((y0 + y) * w + x0) * 3:((y0 + y) * w + x0 + ww) * 3]
                        for y in range(wh))
        test_gpu.write_png(r.args.png, ww, wh, crop)
        print(f"wrote {r.args.png}")

    # The pointer: the tablet reports where it is over the picture.
    start = len(r.con.log())
    r.type_keys("input watch")
    if not fails.check(r.con.wait_for("(any key on the UART stops)", start, r.deadline),
                       "the typed `input watch` never started"):
        return
    xs = []
    for fx, fy in ((0.25, 0.25), (0.75, 0.75)):
        mark = len(r.con.log())
        r.x("xdotool", "mousemove", str(at[0] + int(mode[0] * fx)),
            str(at[1] + int(mode[1] * fy)))
        # Key releases may still come in first: wait for the tablet itself.
        # Whole lines only: a line still arriving ("... EV_ABS 0 2") would
        # match at the end of the log with `$`.
        got = []
        while not got and time.monotonic() < r.deadline:
            got = re.findall(r"^input\d+ EV_ABS 0 (\d+)\r?\n", r.con.log()[mark:], re.M)
            time.sleep(0.1)
        if fails.check(got, f"no ABS_X event for the pointer at {fx:g}"):
            xs.append(int(got[-1]))
    if len(xs) == 2:
        fails.check(xs[0] < xs[1], f"ABS_X {xs[0]} then {xs[1]}: want it to grow")
        print(f"ok: the tablet's ABS_X {xs[0]} then {xs[1]}")
    mark = len(r.con.log())
    r.proc.stdin.write(b"\n")
    r.proc.stdin.flush()
    fails.check(r.con.wait_for(PROMPT, mark, r.deadline) is not None,
                "input watch did not stop on a UART key")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
    ap.add_argument("--virtio", required=True, choices=("legacy", "modern"))
    ap.add_argument("--boot-suffix", default=None)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--png", default=None, help="keep the window's picture here")
    ap.add_argument("firmware")
    args = ap.parse_args()
    for tool in ("Xvfb", "xdotool", "xwd"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} not found (scripts/setup.sh installs xvfb, xdotool, x11-apps)")
            return 1
    r = Run(args)
    try:
        run(r)
    except subprocess.CalledProcessError as e:
        r.fails.append(f"host side: {e}: {(e.stderr or b'').decode(errors='replace').strip()}")
    except (qemu.QemuError, OSError, RuntimeError, ValueError,
            subprocess.SubprocessError) as e:
        r.fails.append(f"host side: {e}")
    finally:
        r.stop()
    return r.fails.report([("console", r.con.log()), ("QEMU stderr", r.con.err.strip())]
                          if r.con else [])


if __name__ == "__main__":
    sys.exit(main())
