#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one virtio-input QEMU test case: inject events over QMP, check what the guest saw.

  test_input.py --arch riscv64|aarch64 --virtio legacy|modern --case CASE
                [--boot-suffix .elf|.bin] [--timeout SECONDS] [--samples N] FIRMWARE.elf
                [--transport mmio|pci] [--pci-vectors [ID=]N]... [--machine-opts PROPS]
                [--expect-irq MODE]

FIRMWARE is vio-input-test (tests/qemu/input_test.c), or vio-shell for the
shell case. A keyboard, a mouse and a tablet are attached together, each
with a serial number and a QEMU id; QMP `input-send-event` (no `device`:
QEMU routes each event to the input handler of its kind) plays the user.

Cases:

  events   key presses and releases, relative motion, the wheel, button
           clicks and absolute positions: every device must report exactly
           the events QEMU's virtio-input-hid makes of them (type, code,
           value, one SYN_REPORT per QMP command), in order, and absolute
           values must lie in the range the tablet reported (ABS lines)
  burst    1000 relative motions (REL_X 1..1000), one QMP command each,
           while the guest reads as they come, then 1000 more while it
           reads nothing (`hold`: its 256-event queue overruns). Either way
           the values the guest got must be increasing, every group whole,
           and received + dropped by the driver (its STAT line) + dropped by
           QEMU for want of buffers (trace virtio_input_queue_full) must be
           exactly 1000; a SYN_DROPPED mark must stand where groups went
           missing
  leds     the guest sets caps, then num, caps and scroll, then none: QEMU
           must have taken and given back one status buffer per change
           (x-query-virtio-queue-status of the keyboard's queue 1: used index
           6) and complained of no unknown event type on its stderr
  latency  N key presses (--samples, default 200) while the guest watches:
           host time from sending the QMP command to the guest's EV line on
           the UART, printed as median, p90, p99 and max, with the QMP
           command's own round trip (QEMU queues the event to the device
           before it replies) and the time from the reply to the line (never
           fails on a timing; fails only when an event is lost)
  shell    (FIRMWARE vio-shell) `input list` must show what QEMU 7.2's
           virtio-input-hid.c declares for each device (name, serial, ids,
           event codes, axis ranges), `input leds caps num` changes two LEDs,
           `input watch` prints an injected key until a key on the UART;
           during the watch every key name QMP knows is pressed and released,
           and the Linux codes that arrive must be exactly the keyboard's
           EV_KEY codes in `input list` (QEMU declares them from the same
           table it translates with)
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402
import test_console  # noqa: E402  (its Run: the UART and waiting for lines)

DEVICES = "keyboard,mouse,tablet"
SERIALS = {"keyboard0": "vio-kbd-1", "mouse0": "vio-mouse-2", "tablet0": "vio-tablet-3"}

EV_SYN, EV_KEY, EV_REL, EV_ABS, EV_LED, EV_REP = 0, 1, 2, 3, 0x11, 0x14
SYN = (EV_SYN, 0, 0)
SYN_DROPPED = (EV_SYN, 3, 0)
KEY_A, KEY_B, KEY_ENTER, KEY_CAPSLOCK = 30, 48, 28, 58
REL_X, REL_Y, REL_WHEEL = 0, 1, 8
BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA = 0x110, 0x111, 0x112, 0x113, 0x114
BTN_GEAR_DOWN, BTN_GEAR_UP = 0x150, 0x151

# What QEMU 7.2's hw/input/virtio-input-hid.c declares (wheel-axis on, the default).
BUTTONS = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA, BTN_GEAR_DOWN, BTN_GEAR_UP}
MODEL = {
    "keyboard0": {"kind": "keyboard", "name": "QEMU Virtio Keyboard",
                  "ids": (0x06, 0x0627, 0x0001, 0x0001),
                  "types": {EV_KEY, EV_REP, EV_LED}, "LED": {0, 1, 2}, "REP": set()},
    "mouse0": {"kind": "mouse", "name": "QEMU Virtio Mouse",
               "ids": (0x06, 0x0627, 0x0002, 0x0002),
               "types": {EV_KEY, EV_REL}, "KEY": BUTTONS, "REL": {REL_X, REL_Y, REL_WHEEL}},
    "tablet0": {"kind": "tablet", "name": "QEMU Virtio Tablet",
                "ids": (0x06, 0x0627, 0x0003, 0x0002),
                "types": {EV_KEY, EV_REL, EV_ABS}, "KEY": BUTTONS, "REL": {REL_WHEEL},
                "ABS": {0, 1}, "axes": {0: (0, 0x7fff), 1: (0, 0x7fff)}},
}
# Keys the keyboard must have among its codes (letters, digits, the ones injected here).
KEYBOARD_KEYS = set(range(1, 84)) | {KEY_A, KEY_B, KEY_ENTER, KEY_CAPSLOCK}


def key(name, down):
    return {"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": name}}}


def btn(name, down):
    return {"type": "btn", "data": {"down": down, "button": name}}


def rel(axis, value):
    return {"type": "rel", "data": {"axis": axis, "value": value}}


def absolute(axis, value):
    return {"type": "abs", "data": {"axis": axis, "value": value}}


class Run(test_console.Run):
    """test_console's run (uart, wait_line) with QMP, a trace and three input devices."""

    def __init__(self, args, tmp):
        super().__init__(args, tmp)
        self.qmp = None
        self.trace = os.path.join(tmp, "trace.log")
        self.devs = {}   # guest device name -> QEMU id ("input0" -> "keyboard0")
        self.axes = {}   # (guest device, axis) -> (min, max)

    def start(self, ready="\nREADY\r"):
        props = {i: f"id={i},serial={s}" for i, s in SERIALS.items()}
        qmp_path = os.path.join(self.tmp, "qmp.sock")
        extra = ["-qmp", f"unix:{qmp_path},server=on,wait=off",
                 "-trace", "virtio_input_queue_full", "-D", self.trace]
        cmd = qemu.build_command(self.args.arch, self.args.firmware, self.args.virtio, DEVICES,
                                 extra, boot_suffix=self.args.boot_suffix, interactive=False,
                                 transport=self.args.transport,
                                 props=props, ring=self.args.ring,
                                 **run_test.irq_command_args(self.args))
        if not os.path.exists(cmd.boot_image):
            raise qemu.QemuError(f"{cmd.boot_image} not found")
        print("$ " + " ".join(cmd.argv))
        sys.stdout.flush()
        self.slots = {d.id: d.slot for d in cmd.devices}
        self.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = run_test.Console(self.proc)
        self.deadline = time.monotonic() + self.args.timeout
        self.qmp = run_test.Qmp(qmp_path, self.deadline)
        return self.fails.check(self.con.wait_for(ready, 0, self.deadline) is not None,
                                f"the firmware never printed {ready.strip()}")

    def send(self, *events):
        self.qmp.command("input-send-event", events=list(events))

    def log(self):
        return self.con.log().replace("\r", "")

    def parse_devices(self):
        """Map guest names to QEMU ids by kind, and note the axis ranges (INPUT, ABS lines)."""
        kinds = {"keyboard": "keyboard0", "mouse": "mouse0", "tablet": "tablet0"}
        log = self.log()
        for m in re.finditer(r"^INPUT dev=(\S+) kind=(\S+) iface=(\S+) name=(.*)$", log, re.M):
            name, kind, iface, ident = m.groups()
            self.fails.check(iface == self.args.virtio, f"{name}: interface {iface}")
            qid = kinds.get(kind)
            if self.fails.check(qid is not None, f"{name}: kind {kind}"):
                self.devs[name] = qid
                self.fails.check(ident == MODEL[qid]["name"], f"{name}: name {ident!r}")
        for m in re.finditer(r"^ABS dev=(\S+) axis=(\d+) min=(-?\d+) max=(-?\d+)$", log, re.M):
            self.axes[(m.group(1), int(m.group(2)))] = (int(m.group(3)), int(m.group(4)))
        self.fails.check(sorted(self.devs.values()) == sorted(kinds.values()),
                         f"devices {self.devs}, want a keyboard, a mouse and a tablet")
        return {v: k for k, v in self.devs.items()}

    def events(self, start=0, end=None):
        """EV lines of the log[start:end] by guest device: [(type, code, value)]."""
        out = {}
        for m in re.finditer(r"^EV (\S+) (\d+) (\d+) (-?\d+)$", self.log()[start:end], re.M):
            out.setdefault(m.group(1), []).append(tuple(int(x) for x in m.groups()[1:]))
        return out

    def stats(self, start):
        out = {}
        for m in re.finditer(r"^STAT (\S+) (.*)$", self.log()[start:], re.M):
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
        return out

    def finish(self, quit_line="quit"):
        if self.proc.poll() is None and not self.proc.stdin.closed:
            self.uart(quit_line)
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.fails.append(f"QEMU still running after {self.args.timeout:g} s; killed")
        if self.qmp:
            self.qmp.close()
        self.con.join()
        log = self.log()
        if quit_line == "quit":
            results = re.findall(r"^RESULT: (\d+) passed, (\d+) failed$", log, re.M)
            if self.fails.check(len(results) == 1, f"{len(results)} RESULT lines, want one"):
                self.fails.check(results[0][1] == "0",
                                 f"the firmware reports {results[0][1]} failed")
        for ln in log.split("\n"):
            if ln.startswith("FAIL "):
                self.fails.append(f"firmware: {ln}")
        self.fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
        self.fails.check("unknown type" not in self.con.err,
                         "QEMU got a status event of a type it does not know")

    def queue_full(self):
        """How many event groups QEMU dropped for want of buffers (its trace)."""
        try:
            with open(self.trace) as f:
                return sum(1 for ln in f if "virtio_input_queue_full" in ln)
        except FileNotFoundError:
            return 0


def start_watch(r):
    """Boot, learn the devices, start `watch`: (QEMU id -> guest name, log position), or None."""
    if not r.start():
        return None
    by_id = r.parse_devices()
    if r.fails:
        return None
    r.uart("watch")
    _, pos = r.wait_line(r"^GO$")
    return by_id, pos


def case_events(r):
    fails = r.fails
    started = start_watch(r)
    if not started:
        return
    by_id, pos = started
    kbd, mouse, tablet = by_id["keyboard0"], by_id["mouse0"], by_id["tablet0"]
    want = {kbd: [], mouse: [], tablet: []}

    # A click first, to learn which pointer QEMU routes buttons to: the
    # handler of that kind activated last, mouse or tablet.
    r.send(btn("left", True))
    m, _ = r.wait_line(rf"^EV (\S+) {EV_KEY} {BTN_LEFT} 1$", pos)
    if not fails.check(m is not None, "a left click reached no device"):
        return
    pointer = m.group(1)
    fails.check(pointer in (mouse, tablet), f"the click reached {pointer}")
    want[pointer] += [(EV_KEY, BTN_LEFT, 1), SYN]

    script = [
        ([key("a", True)], {kbd: [(EV_KEY, KEY_A, 1), SYN]}),
        ([key("a", False)], {kbd: [(EV_KEY, KEY_A, 0), SYN]}),
        ([key("shift", True), key("b", True)],
         {kbd: [(EV_KEY, 42, 1), (EV_KEY, KEY_B, 1), SYN]}),
        ([key("b", False), key("shift", False)],
         {kbd: [(EV_KEY, KEY_B, 0), (EV_KEY, 42, 0), SYN]}),
        ([key("ret", True)], {kbd: [(EV_KEY, KEY_ENTER, 1), SYN]}),
        ([key("ret", False)], {kbd: [(EV_KEY, KEY_ENTER, 0), SYN]}),
        ([rel("x", 10), rel("y", -5)], {mouse: [(EV_REL, REL_X, 10), (EV_REL, REL_Y, -5), SYN]}),
        ([rel("x", -300)], {mouse: [(EV_REL, REL_X, -300), SYN]}),
        ([btn("left", False)], {pointer: [(EV_KEY, BTN_LEFT, 0), SYN]}),
        ([btn("right", True)], {pointer: [(EV_KEY, BTN_RIGHT, 1), SYN]}),
        ([btn("right", False)], {pointer: [(EV_KEY, BTN_RIGHT, 0), SYN]}),
        ([btn("middle", True), btn("middle", False)],
         {pointer: [(EV_KEY, BTN_MIDDLE, 1), (EV_KEY, BTN_MIDDLE, 0), SYN]}),
        # wheel-axis: a wheel press is a REL_WHEEL step; its release stays a button.
        ([btn("wheel-up", True)], {pointer: [(EV_REL, REL_WHEEL, 1), SYN]}),
        ([btn("wheel-up", False)], {pointer: [(EV_KEY, BTN_GEAR_UP, 0), SYN]}),
        ([btn("wheel-down", True)], {pointer: [(EV_REL, REL_WHEEL, -1), SYN]}),
        ([btn("wheel-down", False)], {pointer: [(EV_KEY, BTN_GEAR_DOWN, 0), SYN]}),
        ([absolute("x", 16384), absolute("y", 8192)],
         {tablet: [(EV_ABS, 0, 16384), (EV_ABS, 1, 8192), SYN]}),
        ([absolute("x", 0), absolute("y", 0x7fff)],
         {tablet: [(EV_ABS, 0, 0), (EV_ABS, 1, 0x7fff), SYN]}),
        ([absolute("x", 1234)], {tablet: [(EV_ABS, 0, 1234), SYN]}),
    ]
    for events, result in script:
        r.send(*events)
        for dev, evs in result.items():
            want[dev] += evs
    total = sum(len(v) for v in want.values())
    while time.monotonic() < r.deadline:
        if sum(len(v) for v in r.events(pos).values()) >= total:
            break
        time.sleep(0.02)
    time.sleep(0.2)  # anything more than expected shows up meanwhile
    r.uart("stop")
    m, end = r.wait_line(r"^DONE watch$", pos)
    fails.check(m is not None, "no DONE watch")
    got = r.events(pos)
    for dev in (kbd, mouse, tablet):
        fails.check(got.get(dev, []) == want[dev],
                    f"{dev} ({r.devs[dev]}) reported {got.get(dev, [])}, want {want[dev]}")
    for (t, c, v) in got.get(tablet, []):
        if t == EV_ABS:
            lo, hi = r.axes.get((tablet, c), (None, None))
            fails.check(lo is not None and lo <= v <= hi,
                        f"{tablet}: axis {c} value {v} outside its range {lo}..{hi}")
    fails.check(r.axes.get((tablet, 0)) == (0, 0x7fff) and r.axes.get((tablet, 1)) == (0, 0x7fff),
                f"tablet axes {r.axes}, want 0..32767 for X and Y")
    st = r.stats(pos)
    for dev in (kbd, mouse, tablet):
        s = st.get(dev, {})
        fails.check(s.get("bad") == 0 and s.get("dropped_events") == 0,
                    f"{dev}: counters {s}")
        fails.check(s.get("events") == len(want[dev]), f"{dev}: {s.get('events')} events "
                    f"counted, {len(want[dev])} sent")


def check_burst(r, what, start, n, base):
    """The mouse's events since start: REL_X base+1 .. base+n in order, or the gaps accounted."""
    fails = r.fails
    mouse = {v: k for k, v in r.devs.items()}["mouse0"]
    evs = r.events(start).get(mouse, [])
    groups, cur, marks = [], [], 0
    for e in evs:
        if e == SYN_DROPPED:
            marks += 1
            fails.check(not cur, f"{what}: SYN_DROPPED inside a group")
            groups.append("gap")
            continue
        cur.append(e)
        if e == SYN:
            groups.append(cur)
            cur = []
    fails.check(not cur, f"{what}: a group without its SYN_REPORT: {cur}")
    values = []
    for g in groups:
        if g == "gap":
            continue
        if fails.check(len(g) == 2 and g[0][:2] == (EV_REL, REL_X), f"{what}: group {g}"):
            values.append(g[0][2])
    fails.check(values == sorted(values) and len(set(values)) == len(values),
                f"{what}: values out of order")
    fails.check(all(base < v <= base + n for v in values), f"{what}: values beyond the burst")
    st = r.stats(start).get(mouse, {})
    qfull = r.queue_full() - r.qfull_before
    r.qfull_before += qfull
    dropped = st.get("dropped_groups", -1)
    print(f"{what}: {len(values)} of {n} groups received, {dropped} dropped by the driver, "
          f"{qfull} by QEMU (no buffer), {marks} SYN_DROPPED marks")
    fails.check(len(values) + dropped + qfull == n,
                f"{what}: {len(values)} received + {dropped} + {qfull} dropped != {n}")
    fails.check(st.get("dropped_events") == 2 * dropped,
                f"{what}: {st.get('dropped_events')} events dropped for {dropped} groups")
    fails.check((marks > 0) == (dropped > 0), f"{what}: {marks} marks for {dropped} drops")
    # Every gap in the values is behind a mark, or QEMU's own drops explain it.
    missing = 0
    prev = base
    for g in groups:
        if g == "gap" or len(g) != 2:
            prev_gap = True
            continue
        v = g[0][2]
        if v != prev + 1:
            missing += v - prev - 1
        prev = v
    missing += base + n - prev
    fails.check(missing == dropped + qfull, f"{what}: {missing} values missing")
    return len(values), dropped


def case_burst(r):
    fails = r.fails
    n = 1000
    if not r.start():
        return
    r.parse_devices()
    if fails:
        return
    r.qfull_before = r.queue_full()
    for what, cmd, stop in (("watch", "watch", "stop"), ("hold", "hold", "release")):
        base = 0 if what == "watch" else n
        start = len(r.log())
        r.uart(cmd)
        _, pos = r.wait_line(r"^GO$", start)
        t0 = time.monotonic()
        for i in range(n):
            r.send(rel("x", base + i + 1))
        dt = time.monotonic() - t0
        print(f"{what}: {n} QMP commands in {dt * 1000:.0f} ms")
        time.sleep(0.3)
        r.uart(stop)
        m, _ = r.wait_line(rf"^DONE {what}$", pos)
        if fails.check(m is not None, f"no DONE {what}"):
            got, dropped = check_burst(r, what, pos, n, base)
            if what == "hold":
                # 256 events of queue hold 128 groups: the rest must have been dropped.
                fails.check(dropped > 0, "hold: the queue never overran")


def case_leds(r):
    fails = r.fails
    if not r.start():
        return
    r.parse_devices()
    steps = (("2", 1), ("7", 2), ("0", 3))
    start = len(r.log())
    for arg, changes in steps:
        r.uart(f"leds {arg}")
        m, start = r.wait_line(r"^LEDS (\S+) rc=(-?\d+) leds=(\d+) sent=(\d+)$", start)
        if fails.check(m is not None, f"no LEDS line for leds {arg}"):
            fails.check(int(m.group(2)) == changes and int(m.group(3)) == int(arg),
                        f"leds {arg}: {m.group(0)}")
    total = sum(c for _, c in steps)
    time.sleep(0.2)
    path = None
    for d in r.qmp.command("x-query-virtio"):
        if d.get("path", "").endswith("/keyboard0"):
            path = d["path"]
    if fails.check(path is not None, "x-query-virtio lists no keyboard0"):
        q = r.qmp.command("x-query-virtio-queue-status", path=path, queue=1)
        print(f"status queue: {q}")
        fails.check(q.get("used-idx") == total and q.get("last-avail-idx") == total,
                    f"status queue used-idx {q.get('used-idx')}, last-avail-idx "
                    f"{q.get('last-avail-idx')}, want {total} each")


def case_latency(r):
    fails = r.fails
    started = start_watch(r)
    if not started:
        return
    by_id, pos = started
    kbd = by_id["keyboard0"]
    samples, rtts, after = [], [], []
    for i in range(r.args.samples):
        down = i % 2 == 0
        text = f"\nEV {kbd} {EV_KEY} {KEY_A} {1 if down else 0}\r"
        start = max(0, len(r.con.log()) - 1)  # text starts with the last line's end
        t0 = time.monotonic()
        r.send(key("a", down))
        rtts.append((time.monotonic() - t0) * 1e6)
        end = r.con.wait_for(text, start, r.deadline)
        t1 = time.monotonic()
        if not fails.check(end is not None, f"sample {i}: no event"):
            break
        samples.append((t1 - t0) * 1e6)
        after.append(max(0.0, (t1 - t0) * 1e6 - rtts[-1]))
    r.uart("stop")
    r.wait_line(r"^DONE watch$", pos)
    if samples:
        s = sorted(samples)
        q = lambda p: s[min(len(s) - 1, int(p * len(s)))]  # noqa: E731
        print(f"LATENCY {r.args.arch} {r.args.virtio}: {len(s)} samples, QMP input-send-event "
              f"to the guest's line on the UART: median {statistics.median(s):.0f} us, "
              f"p90 {q(0.90):.0f} us, p99 {q(0.99):.0f} us, max {s[-1]:.0f} us; the QMP "
              f"command's own round trip: median {statistics.median(rtts):.0f} us; from its reply "
              f"to the line: median {statistics.median(after):.0f} us, "
              f"p99 {sorted(after)[min(len(after) - 1, int(0.99 * len(after)))]:.0f} us")


def parse_codes(text):
    out = set()
    if text == "none":
        return out
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out |= set(range(int(lo), int(hi or lo) + 1))
    return out


def qcodes(r):
    """QEMU's key names (QMP's QKeyCode enum, found by its members in the schema)."""
    for entry in r.qmp.command("query-qmp-schema"):
        values = entry.get("values") or [m.get("name") for m in entry.get("members", [])
                                         if isinstance(m, dict)]
        if entry.get("meta-type") == "enum" and {"shift_r", "kp_0", "ret"} <= set(values):
            return [v for v in values if v != "unmapped"]
    return []


def check_every_key(r, keyboard, start):
    """Press and release every key QEMU knows: the Linux codes that reach the guest
    are QEMU's qcode-to-Linux table, the very table its keyboard declares its EV_KEY
    bits from (hw/input/virtio-input-hid.c), so they must be what `input list` showed."""
    fails = r.fails
    name, declared = keyboard
    names = qcodes(r)
    if not fails.check(len(names) > 100, f"QKeyCode has {len(names)} keys in the schema"):
        return
    for n in names:
        # One key per command: a group of three events, never more than the ring holds.
        r.send(key(n, True), key(n, False))
        time.sleep(0.002)
    # A last "a", the third since start: once it is printed, so is the sweep.
    r.send(key("a", True), key("a", False))
    press_a = re.compile(rf"^{name} EV_KEY {KEY_A} 1$", re.M)

    def since_start():  # start is an offset into the raw console log, "\r" and all
        return r.con.log()[start:].replace("\r", "")

    while len(press_a.findall(since_start())) < 3 and time.monotonic() < r.deadline:
        time.sleep(0.02)
    fails.check(len(press_a.findall(since_start())) >= 3, "the sweep's last key never arrived")
    seen = {int(c) for c in re.findall(rf"^{name} EV_KEY (\d+) 1$", since_start(), re.M)}
    fails.check(r.queue_full() == 0, f"QEMU dropped {r.queue_full()} groups: sweep incomplete")
    fails.check(seen == declared, f"{name}: keys QEMU sends but not declared "
                f"{sorted(seen - declared)}, declared but never sent {sorted(declared - seen)}")
    print(f"keyboard: {len(names)} QEMU key names, {len(seen)} Linux codes, all declared")


def case_shell(r):
    fails = r.fails
    prompt = "vio> "
    if not r.start(ready=prompt):
        return

    def step(line, wait=prompt):
        start = len(r.con.log())
        r.uart(line)
        end = r.con.wait_for(wait, start + len(line), r.deadline)
        fails.check(end is not None, f"'{line}': no {wait.strip()!r}")
        return r.log()[len(r.log()) - (len(r.con.log()) - start):]

    out = step("input list")
    keyboard = None
    blocks = re.split(r"^(?=input\d+: )", out, flags=re.M)
    seen = set()
    for b in blocks:
        m = re.match(r"^(input\d+): (\S+) \"(.*)\" serial \"(.*)\" (\S+)$", b, re.M)
        if not m:
            continue
        name, kind, ident, serial, iface = m.groups()
        qid = {v: k for k, v in SERIALS.items()}.get(serial)
        if not fails.check(qid is not None, f"{name}: serial {serial!r} is none of ours"):
            continue
        seen.add(qid)
        model = MODEL[qid]
        fails.check(kind == model["kind"], f"{name}: kind {kind}, want {model['kind']}")
        fails.check(ident == model["name"], f"{name}: name {ident!r}")
        fails.check(iface == r.args.virtio, f"{name}: interface {iface}")
        m = re.search(r"ids bus (\S+) vendor (\S+) product (\S+) version (\S+)", b)
        fails.check(m is not None and tuple(int(x, 16) for x in m.groups()) == model["ids"],
                    f"{name}: ids {m.groups() if m else None}, want {model['ids']}")
        types = {}
        for tm in re.finditer(r"^  (EV_\w+|type \d+) (\S+)$", b, re.M):
            types[tm.group(1)] = parse_codes(tm.group(2))
        want_types = {{EV_KEY: "EV_KEY", EV_REL: "EV_REL", EV_ABS: "EV_ABS", EV_LED: "EV_LED",
                       EV_REP: "EV_REP"}[t] for t in model["types"]}
        fails.check(set(types) == want_types, f"{name}: types {sorted(types)}, "
                    f"want {sorted(want_types)}")
        for t in ("REL", "ABS", "LED", "REP"):
            if t in model:
                fails.check(types.get("EV_" + t) == model[t],
                            f"{name}: EV_{t} {types.get('EV_' + t)}, want {model[t]}")
        if "KEY" in model:
            fails.check(types.get("EV_KEY") == model["KEY"],
                        f"{name}: EV_KEY {types.get('EV_KEY')}, want {model['KEY']}")
        elif kind == "keyboard":
            keys = types.get("EV_KEY", set())
            fails.check(KEYBOARD_KEYS <= keys, f"{name}: keys missing: {KEYBOARD_KEYS - keys}")
            fails.check(not keys & BUTTONS, f"{name}: a keyboard with mouse buttons")
            keyboard = (name, keys)
        axes = {int(a): (int(lo), int(hi)) for a, lo, hi in
                re.findall(r"^  axis (\d+) min (-?\d+) max (-?\d+)", b, re.M)}
        fails.check(axes == model.get("axes", {}), f"{name}: axes {axes}")
    fails.check(seen == set(SERIALS), f"input list showed {sorted(seen)}")

    out = step("input leds caps num")
    fails.check(re.search(r"^input\d+: leds 0x3, 2 changed$", out, re.M) is not None,
                f"input leds: {out!r}")
    out = step("input leds bogus")
    fails.check("unknown LED 'bogus'" in out, f"input leds bogus: {out!r}")

    start = len(r.con.log())
    r.uart("input watch")
    if fails.check(r.con.wait_for("(any key on the UART stops)", start, r.deadline), "no watch"):
        r.send(key("a", True))
        r.send(key("a", False))
        end = r.con.wait_for(f"EV_KEY {KEY_A} 0", start, r.deadline)
        fails.check(end is not None, "input watch printed no key release")
        if keyboard:
            check_every_key(r, keyboard, start)
        r.uart("")
        fails.check(r.con.wait_for(prompt, end or start, r.deadline) is not None,
                    "input watch did not stop on a key")
        out = r.log()[len(r.log()) - (len(r.con.log()) - start):]
        fails.check(re.search(rf"^input\d+ EV_KEY {KEY_A} 1$", out, re.M) is not None,
                    f"input watch: {out!r}")
    r.uart("poweroff")
    r.proc.stdin.close()


CASES = {"events": case_events, "burst": case_burst, "leds": case_leds,
         "latency": case_latency, "shell": case_shell}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run_test.add_board_options(ap, timeout=60)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--samples", type=int, default=200)
    run_test.add_irq_options(ap, "input")
    ap.add_argument("firmware")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vio-input-")
    r = Run(args, tmp)
    try:
        CASES[args.case](r)
        if r.proc:
            r.finish("poweroff" if args.case == "shell" else "quit")
    except (qemu.QemuError, OSError, RuntimeError, TimeoutError, ConnectionError) as e:
        r.fails.append(f"{type(e).__name__}: {e}")
    finally:
        if r.proc and r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if r.con:
        # The console (its middle cut when a burst made it long), QEMU's complaints.
        log = r.log()
        if args.ring == "packed":
            r.fails.extend(qemu.ring_problems(log, args.ring))
        if args.expect_irq:
            run_test.check_irq_mode(r.fails, log, "input", args.expect_irq)
        if len(log) > 20000:
            log = log[:4000] + "\n[...]\n" + log[-8000:]
        for title, text in (("console", log), ("QEMU stderr", r.con.err)):
            if text:
                print(f"---- {title} ".ljust(73, "-"))
                print(text.rstrip("\n"))
    for msg in r.fails:
        print(f"FAIL: {msg}")
    print("FAIL" if r.fails else "PASS")
    return 1 if r.fails else 0


if __name__ == "__main__":
    sys.exit(main())
