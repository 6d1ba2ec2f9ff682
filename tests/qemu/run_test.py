#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one QEMU test: boot a vio firmware and check what it shows from the outside.

  run_test.py --arch riscv64|aarch64 --virtio legacy|modern --devices LIST
              [--boot-suffix .elf|.bin] [--config vio_config.h]
              [--expect-state [KIND=]STATE]... [--expect-log REGEX]...
              [--pci-vectors [ID=]N]... [--expect-irq ID=MODE]...
              [--machine-opts PROPS]
              [--shell | --typeahead | --shell-console] [--keys]
              [--timeout SECONDS] FIRMWARE.elf

QEMU is started through scripts/qemu.py's build_command. Every rng device
reads from a FIFO of its own, fed by a thread with a known pseudo-random
stream, so the bytes the guest reports can be checked against what went in.

Test firmware (the default): the console must show one `DEV` line per
attached device with its slot, type and interface, in the state the build
implies (--config: refused when the build leaves the interface out, ready
when it has a driver, else nodriver; --expect-state overrides it for every
device or for one KIND=STATE), the library's message for every refused or
failed device; an `RNG <i> <hex>` line per ready rng whose bytes are a
chunk of that rng's stream; no FAIL line; exactly one `RESULT: N passed,
0 failed`; and QEMU's exit status 0.

--shell: drive the vio shell over the UART (help, list_device, rng 32,
reset_device rng0 and rng 16 after it, an unknown device and command,
poweroff) and check each answer and the exit status 0.

--shell-console: the --shell test over port 0 of a virtio-console (the
first console device, on a Unix socket QEMU waits for this side to connect
to) instead of the UART; FIRMWARE is the shell built with
CONFIG_VIO_APP_STDIO_CONSOLE.

--keys: with --shell or --shell-console, then type what a terminal sends
for the line editor's keys (Tab, arrows, Home/End, Delete, Backspace,
Ctrl-A/E/U/W/C, Up for the history) and check that each command ran with
the line the keys made; `help COMMAND` and the one-line errors for an
unknown command and bad arguments.

--typeahead: type `list_device` before the shell firmware runs (QEMU starts
paused with -S; once the UART holds the first byte, QEMU keeping the rest,
QMP `cont` starts the guest), then check that the shell ran exactly that
command and that poweroff exits with status 0.

--expect-log: a regular expression the console must match (repeatable).

--pci-vectors [ID=]N: with --transport pci, give device ID (or every
device) N MSI-X vectors (QEMU's `vectors`; 0: INTx only). --expect-irq
ID=MODE: the test firmware's `IRQ slot=N mode=M ...` line of device ID
must show MODE (polled, line, msix-shared, msix), and an rng in an
interrupt mode must have taken interrupts (its reads wait for them).
The whole console log is printed, then what failed.
"""
import argparse
import errno
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Keep the source tree free of byte code (it may be read-only).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import qemu  # noqa: E402

PROMPT = "vio> "

# What --typeahead types before the firmware runs. The leading Ctrl-U (erase
# the line) takes the place of the byte the UART holds when the firmware
# starts: on riscv64, OpenSBI enables the UART's FIFO before the board runs,
# which clears that byte, and nothing after OpenSBI can bring it back.
# Erasing an empty line changes nothing, so the shell must read exactly the
# command whether or not the Ctrl-U arrives.
TYPEAHEAD = "list_device"
TYPEAHEAD_BYTES = b"\x15" + TYPEAHEAD.encode() + b"\n"

# How the host sees that the UART holds a received byte: a register read
# through the monitor's `xp` (no side effect on these registers) and a test
# of its value. ns16550: LSR.DR set; PL011: UARTFR.RXFE clear.
UART_RX_READY = {
    "riscv64": ("xp /1bx 0x10000005", lambda v: (v & 0x01) != 0),
    "aarch64": ("xp /1wx 0x09000018", lambda v: (v & 0x10) == 0),
}


class RngFeeder(threading.Thread):
    """Write a reproducible pseudo-random stream into a FIFO QEMU reads from."""

    def __init__(self, path, seed):
        super().__init__(daemon=True)
        self.path = path
        self.rand = random.Random(seed)
        self.data = bytearray()  # every byte that went into the FIFO
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error = None
        os.mkfifo(path)

    def fed(self):
        with self.lock:
            return bytes(self.data)

    def run(self):
        fd = None
        # Open without blocking: ENXIO until QEMU has opened the read end.
        while not self.done.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as e:
                if e.errno != errno.ENXIO:
                    self.error = str(e)
                    return
                time.sleep(0.002)
        if fd is None:
            return
        pending = b""
        try:
            while not self.done.is_set():
                _, w, _ = select.select([], [fd], [], 0.05)
                if not w:
                    continue
                if not pending:
                    pending = self.rand.randbytes(4096)
                try:
                    n = os.write(fd, pending)
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    break
                with self.lock:
                    self.data += pending[:n]
                pending = pending[n:]
        finally:
            os.close(fd)


class Console:
    """QEMU's stdout (the UART), collected by a thread, with waiting for text."""

    def __init__(self, proc, sock=None):
        """The console is QEMU's stdout, or sock (a virtio-console port) with the UART
        collected into self.uart."""
        self.proc = proc
        self.buf = ""
        self.err = ""
        self.uart = ""
        self.cond = threading.Condition()
        self.closed = False
        self.t_out = threading.Thread(target=self._pump, args=(sock or proc.stdout, "buf"),
                                      daemon=True)
        self.t_err = threading.Thread(target=self._pump, args=(proc.stderr, "err"), daemon=True)
        self.t_uart = None
        if sock:
            self.t_uart = threading.Thread(target=self._pump, args=(proc.stdout, "uart"),
                                           daemon=True)
            self.t_uart.start()
        self.t_out.start()
        self.t_err.start()

    def _pump(self, f, into):
        while True:
            try:
                chunk = os.read(f.fileno(), 4096)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    if into == "buf":
                        self.closed = True
                    self.cond.notify_all()
                    return
                setattr(self, into, getattr(self, into) + chunk.decode("utf-8", "replace"))
                self.cond.notify_all()

    def wait_for(self, text, start, deadline):
        """Index just past the first text at or after start, or None on timeout / EOF."""
        with self.cond:
            while True:
                i = self.buf.find(text, start)
                if i >= 0:
                    return i + len(text)
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)

    def log(self):
        with self.cond:
            return self.buf

    def join(self):
        self.t_out.join(2)
        self.t_err.join(2)
        if self.t_uart:
            self.t_uart.join(2)


class Qmp:
    """Just enough of a QMP client to run a few commands on a QEMU started with -qmp."""

    def __init__(self, path, deadline):
        self.events = []
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                # QEMU has not created the socket yet.
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no QMP socket at {path}") from None
                time.sleep(0.01)
        self.sock.settimeout(max(0.1, deadline - time.monotonic()))
        self.f = self.sock.makefile("rw")
        self.events = []  # every event QEMU sent, in order (BLOCK_IO_ERROR, STOP, ...)
        self._reply()  # the greeting
        self.command("qmp_capabilities")

    def _reply(self):
        """The next greeting, return or error; events are kept for wait_event."""
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("QEMU closed the QMP socket")
            msg = json.loads(line)
            if "event" not in msg:
                return msg
            self.events.append(msg)

    def wait_event(self, name, deadline):
        """The first event called name not taken yet (waiting until deadline), or None."""
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                line = self.f.readline()
            except (TimeoutError, socket.timeout):
                return None
            if not line:
                raise ConnectionError("QEMU closed the QMP socket")
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)

    def command(self, execute, /, **arguments):
        # Positional only: QMP arguments may themselves be called "name" (set_link).
        req = {"execute": execute}
        if arguments:
            req["arguments"] = arguments
        self.f.write(json.dumps(req) + "\n")
        self.f.flush()
        r = self._reply()
        if "error" in r:
            raise RuntimeError(f"QMP {execute}: {r['error'].get('desc', r['error'])}")
        return r.get("return")

    def hmp_value(self, line):
        """The last number a monitor command such as `xp` prints."""
        out = self.command("human-monitor-command", **{"command-line": line})
        m = re.search(r"(0x[0-9a-fA-F]+)\s*$", out or "")
        if not m:
            raise RuntimeError(f"'{line}' printed {out!r}")
        return int(m.group(1), 16)

    def close(self):
        self.f.close()
        self.sock.close()


def connect_unix(path, deadline):
    """A client of the Unix socket server QEMU makes at path (retried until it exists)."""
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no socket at {path}") from None
            time.sleep(0.01)


class Failures(list):
    def check(self, ok, msg):
        if not ok:
            self.append(msg)
        return ok

    def report(self, sections, passed="PASS"):
        """Print each (title, text) of sections that has text, then a FAIL line
        per failure or the passed line; the runner's exit status."""
        for title, text in sections:
            if not text:
                continue
            text = text.replace("\r", "")
            print(f"---- {title} " + "-" * max(4, 67 - len(title)))
            print(text, end="" if text.endswith("\n") else "\n")
        for msg in self:
            print(f"FAIL: {msg}")
        if self:
            return 1
        print(passed)
        return 0


def wait_exit(proc, deadline, fails):
    """QEMU's exit status once it stopped by itself, killed (a failure) at deadline."""
    try:
        return proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        fails.append("QEMU still running at the deadline; killed")
        return proc.wait()


# The build option of the driver for each kind of device.
DRIVER_OPTION = {
    "rng": "RNG", "blk": "BLK", "net": "NET", "console": "CONSOLE", "gpu": "GPU",
    "keyboard": "INPUT", "mouse": "INPUT", "tablet": "INPUT",
}


def read_config(path):
    """The #define CONFIG_... values of a generated vio_config.h."""
    if not path:
        return {"CONFIG_VIO_IFACE_AUTO": "1", "CONFIG_VIO_DRIVER_RNG": "1"}
    config = {}
    with open(path) as f:
        for ln in f:
            m = re.match(r"#define (CONFIG_\w+) (.*)$", ln.strip())
            if m:
                config[m.group(1)] = m.group(2)
    return config


def expected_state(dev, args, config):
    """What the firmware must report for dev: an --expect-state, else what the build implies."""
    overall = None
    for item in args.expect_state:
        kind, eq, state = item.rpartition("=")
        if not eq:
            overall = state
        elif kind == dev.kind:
            return state
    if overall:
        return overall
    if config.get("CONFIG_VIO_IFACE_LEGACY") == "1" and args.virtio == "modern":
        return "refused"
    if config.get("CONFIG_VIO_IFACE_MODERN") == "1" and args.virtio == "legacy":
        return "refused"
    if config.get(f"CONFIG_VIO_DRIVER_{DRIVER_OPTION[dev.kind]}") == "1":
        return "ready"
    return "nodriver"


def rng_ok(fails, what, data, feeder):
    """data must be exactly a chunk of what feeder put into QEMU."""
    fed = feeder.fed()
    off = fed.find(data)
    if fails.check(off >= 0, f"{what}: {data.hex()} is not in the {len(fed)} bytes fed to QEMU"):
        note = "its first bytes" if off == 0 else f"offset {off}"
        print(f"ok: {what} matches the fed stream at {note}")


def check_firmware(args, cmd, con, rc, feeders, fails, config):
    lines = con.log().replace("\r", "").split("\n")
    results = [ln for ln in lines if ln.startswith("RESULT:")]
    if fails.check(len(results) == 1, f"{len(results)} RESULT lines, want exactly one"):
        m = re.fullmatch(r"RESULT: (\d+) passed, (\d+) failed", results[0])
        if fails.check(m is not None, f"malformed '{results[0]}'"):
            fails.check(int(m.group(1)) > 0, "no check passed")
            fails.check(int(m.group(2)) == 0, f"the firmware reports {m.group(2)} failed")
    for ln in lines:
        if ln.startswith("FAIL "):
            fails.append(f"firmware: {ln}")
    fails.check(rc == 0, f"QEMU exit status {rc}, want 0")

    devs = {}
    for ln in lines:
        if ln.startswith("DEV "):
            f = dict(kv.split("=", 1) for kv in ln.split()[1:] if "=" in kv)
            if fails.check("slot" in f, f"malformed '{ln}'"):
                fails.check(int(f["slot"]) not in devs, f"slot {f['slot']} listed twice")
                devs[int(f["slot"])] = f
    want = {d.slot: d for d in cmd.devices}
    fails.check(set(devs) == set(want),
                f"device slots {sorted(devs)}, attached {sorted(want)}")
    for slot, d in sorted(want.items()):
        f = devs.get(slot)
        if not f:
            continue
        for key, val in (("type", d.type_name), ("iface", args.virtio),
                         ("state", expected_state(d, args, config))):
            fails.check(f.get(key) == val,
                        f"slot {slot} ({d.id}): {key}={f.get(key)}, want {val}")
        if f.get("state") in ("refused", "failed"):
            # The library says why on the console.
            what = f.get("state")
            fails.check(re.search(rf"\b{f.get('name')}: {what}", con.log()) is not None,
                        f"slot {slot}: no '{f.get('name')}: {what}' message on the console")

    # IRQ slot=N mode=M vectors=V count=C: the interrupt mode each device got.
    irqs = {}
    for ln in lines:
        if ln.startswith("IRQ "):
            f = dict(kv.split("=", 1) for kv in ln.split()[1:] if "=" in kv)
            irqs[int(f.get("slot", "-1"))] = f
    by_id = {d.id: d for d in cmd.devices}
    for item in args.expect_irq:
        dev_id, _, mode = item.partition("=")
        d = by_id.get(dev_id)
        if not fails.check(d is not None, f"--expect-irq {item}: no device {dev_id}"):
            continue
        f = irqs.get(d.slot, {})
        fails.check(f.get("mode") == mode,
                    f"{dev_id} (slot {d.slot}): interrupt mode {f.get('mode')}, want {mode}")
        # Every rng was read with a wait: in an interrupt mode, interrupts came.
        if d.kind == "rng" and mode != "polled":
            fails.check(int(f.get("count", "0")) > 0,
                        f"{dev_id} (slot {d.slot}): no interrupt taken in mode {mode}")

    # RNG <index> <hex>: index is the guest's rngN; the DEV line names its slot.
    by_name = {f.get("name"): slot for slot, f in devs.items()}
    seen = set()
    for ln in lines:
        m = re.fullmatch(r"RNG (\d+) ([0-9a-f]{64})", ln)
        if not m:
            continue
        name = f"rng{m.group(1)}"
        seen.add(name)
        slot = by_name.get(name)
        d = want.get(slot)
        if fails.check(d is not None and d.kind == "rng", f"'{ln}': {name} is no attached rng"):
            rng_ok(fails, f"{name} (slot {slot})", bytes.fromhex(m.group(2)), feeders[d.id])
    for slot, f in devs.items():
        if f.get("type") == "rng" and f.get("state") == "ready":
            fails.check(f.get("name") in seen, f"no RNG line for {f.get('name')}")


def add_board_options(p, timeout):
    """The options every QEMU test runner takes: the board, the interface,
    the transport, the ring layout, the boot image's suffix and how long
    QEMU may run (timeout seconds by default)."""
    p.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
    p.add_argument("--virtio", required=True, choices=("legacy", "modern"))
    p.add_argument("--transport", default="mmio", choices=qemu.TRANSPORTS,
                   help="where the devices sit: virtio-mmio slots or PCI functions")
    p.add_argument("--ring", default="split", choices=qemu.RINGS,
                   help="packed: the devices offer packed virtqueues, which must be used")
    p.add_argument("--boot-suffix", default=None)
    p.add_argument("--timeout", type=float, default=timeout)


def add_irq_options(p, kind):
    """The options a driver's runner takes to pick and check its interrupt mode on PCI."""
    p.add_argument("--pci-vectors", action="append", default=[], metavar="[ID=]N",
                   help="MSI-X vectors of device ID (or of all): scripts/qemu.py")
    p.add_argument("--machine-opts", default=None, metavar="PROPS",
                   help="machine properties, e.g. aia=aplic-imsic: scripts/qemu.py")
    p.add_argument("--expect-irq", default=None, metavar="MODE",
                   help=f"every {kind} device's interrupt mode (polled, line, msix-shared, msix)")


def irq_command_args(args):
    """build_command's keyword arguments for the options of add_irq_options."""
    return {"pci_vectors": qemu.parse_pci_vectors(args.pci_vectors),
            "machine_opts": args.machine_opts}


def check_irq_mode(fails, log, kind, mode):
    """The library's `NAME: interrupts: MODE` line of every KIND device in log shows mode."""
    got = re.findall(rf"\b({kind}\d+): interrupts: ([\w-]+)", log)
    if fails.check(got, f"no '{kind}N: interrupts:' line in the log"):
        for name, m in got:
            fails.check(m == mode, f"{name}: interrupt mode {m}, want {mode}")


def check_list_device(out, args, cmd, fails, config):
    """list_device's output must show every attached device as the build implies."""
    rows = {}
    for ln in out.split("\n"):
        m = re.match(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(legacy|modern)\s+(-?\d+)\s+(.*)$", ln)
        if m:
            rows[int(m.group(1))] = m
    want = {d.slot: d for d in cmd.devices}
    fails.check(set(rows) == set(want), f"list_device shows slots {sorted(rows)}, "
                f"attached {sorted(want)}")
    for slot, d in want.items():
        m = rows.get(slot)
        if not m:
            continue
        state = expected_state(d, args, config)
        if state == "nodriver":
            state = "no driver"
        fails.check(m.group(3) == d.type_name and m.group(4) == args.virtio
                    and m.group(6).strip().split(":")[0] == state,
                    f"list_device slot {slot}: '{m.group(0).strip()}', want {d.type_name} "
                    f"{args.virtio} {state}")
    if args.virtio == "modern":
        fails.check("VERSION_1" in out, "list_device shows no VERSION_1 on a modern device")
    # The transport line under each device: mmio with its address, or pci with its BDF.
    where = re.findall(r"^\s+transport: (mmio|pci) (\S+), (\w+)", out, re.M)
    fails.check(len(where) == len(rows), f"list_device: {len(where)} transport lines for "
                f"{len(rows)} devices")
    for kind, addr, _ in where:
        fails.check(kind == args.transport, f"list_device: transport {kind} {addr}, "
                    f"want {args.transport}")
    if args.transport == "pci":
        want_bdf = {f"00:{d.pci_addr:02x}.0" for d in cmd.devices}
        got_bdf = {addr.rstrip(",") for kind, addr, _ in where}
        fails.check(got_bdf == want_bdf, f"list_device: PCI addresses {sorted(got_bdf)}, "
                    f"want {sorted(want_bdf)}")


def hex_dump(out):
    """The bytes of a shell hex dump ("0000: 0a1b..." lines) as one hex string."""
    return "".join(re.findall(r"^[0-9a-f]{4}: ([0-9a-f]+)$", out, re.M))


def check_shell(args, cmd, con, write, feeders, fails, deadline, config):
    """The shell's commands, typed with write(bytes), their output read from con."""
    def send(line):
        write((line + "\n").encode())

    def step(line):
        """Send a command; return its output up to the next prompt (None on timeout)."""
        start = len(con.log())
        send(line)
        end = con.wait_for(PROMPT, start, deadline)
        if not fails.check(end is not None, f"no prompt after '{line}'"):
            return None
        return con.log()[start:end - len(PROMPT)].replace("\r", "")

    pos = con.wait_for(PROMPT, 0, deadline)
    if not fails.check(pos is not None, "no prompt"):
        return
    banner = con.log()[:pos].replace("\r", "")
    fails.check(f"qemu-virt-{args.arch}" in banner, "the banner does not name the board")
    fails.check(re.search(rf"\b{len(cmd.devices)} virtio devices?\b", banner) is not None,
                f"the banner does not count {len(cmd.devices)} devices")

    out = step("help")
    if out is None:
        return
    help_out = out
    for name in ("help", "list_device", "reset_device", "rng", "poweroff"):
        fails.check(re.search(rf"^\s+{name}\b", out, re.M) is not None, f"help lacks {name}")

    out = step("list_device")
    if out is None:
        return
    check_list_device(out, args, cmd, fails, config)

    out = step("rng 32")
    if out is None:
        return
    hexs = hex_dump(out)
    rngs = sorted((d for d in cmd.devices if d.kind == "rng"), key=lambda d: d.slot)
    if rngs and expected_state(rngs[0], args, config) == "ready":
        if fails.check(len(hexs) == 64, f"rng 32 printed {len(hexs) // 2} bytes: {out!r}"):
            rng_ok(fails, "rng 32", bytes.fromhex(hexs), feeders[rngs[0].id])
        out = step("rng -n 8")
        if out is None:
            return
        fails.check(re.search(r"^0000: [0-9a-f]{2,16}$", out, re.M) is not None
                    or "nothing delivered yet" in out, f"rng -n 8: {out!r}")
        # Reset the rng and set it up again (vio_dev_recover): it reads again.
        out = step("reset_device rng0")
        if out is None:
            return
        fails.check("rng0: reset and ready" in out, f"reset_device rng0: {out!r}")
        out = step("rng 16")
        if out is None:
            return
        hexs = hex_dump(out)
        if fails.check(len(hexs) == 32, f"rng 16 after reset_device printed "
                       f"{len(hexs) // 2} bytes: {out!r}"):
            rng_ok(fails, "rng 16 after reset_device", bytes.fromhex(hexs),
                   feeders[rngs[0].id])
    else:
        fails.check(not hexs and out.startswith("rng 32\nrng: "),
                    f"rng 32 without a ready rng: {out!r}")

    out = step("reset_device nosuch9")
    if out is None:
        return
    fails.check("reset_device: no device nosuch9" in out, f"reset_device nosuch9: {out!r}")

    out = step("frobnicate")
    if out is None:
        return
    fails.check("unknown command 'frobnicate'; 'help' lists the commands" in out,
                f"unknown command: {out!r}")

    if args.keys and not check_keys(con, write, fails, deadline, help_out):
        return
    send("poweroff")


# Keys as a VT100/xterm terminal sends them.
LEFT, RIGHT, HOME, END, DELETE = "\x1b[D", "\x1b[C", "\x1b[H", "\x1bOF", "\x1b[3~"
HOME_VT, UP, DOWN = "\x1b[1~", "\x1b[A", "\x1b[B"
CTRL_A, CTRL_C, CTRL_E, CTRL_U, CTRL_W, BS, TAB = "\x01", "\x03", "\x05", "\x15", "\x17", "\x7f", "\t"


def check_keys(con, write, fails, deadline, help_out):
    """Edit lines with the keys a terminal sends; each command must run with the
    line the keys made. False when the shell stopped answering."""
    def keys(text, until=PROMPT):
        start = len(con.log())
        write(text.encode())
        end = con.wait_for(until, start, deadline)
        if not fails.check(end is not None, f"no '{until.strip()}' after typing {text!r}"):
            return None
        return con.log()[start:end].replace("\r", "")

    # (what is typed, what the command it makes must print, what it must not)
    cases = [
        ("upt" + TAB + "\r", r"^up \d+\.\d{6} s$", None),
        ("help li" + TAB + "\r", r"^usage: list_device$", None),
        ("help utime" + LEFT * 4 + "p\r", r"^usage: uptime$", None),
        ("elp mem" + CTRL_A + "h" + CTRL_E + "\r", r"^usage: mem$", None),
        ("hhelp poweroff" + HOME_VT + DELETE + "\r", r"^usage: poweroff$", None),
        ("help memx" + BS + HOME + RIGHT * 5 + "\x1b[1;5C" + END + "\r", r"^usage: mem$", None),
        ("frobnicate" + CTRL_U + "help help\r", r"^usage: help \[COMMAND\]$", "unknown"),
        ("help frob" + CTRL_W + "uptime\r", r"^usage: uptime$", "frob"),
        # Up x3 reaches "help mem", Down comes back to "help help", the line before the last.
        (UP + UP + UP + DOWN + "\r", r"^usage: help \[COMMAND\]$", "usage: uptime"),
        ("frob" + CTRL_C, r"\^C$", "unknown"),
        ("help frob\r", r"^help: no command 'frob'; 'help' lists the commands$", None),
        ("help a b\r", r"^usage: help \[COMMAND\] \('help help' says more\)$", None),
    ]
    if re.search(r"^\s+blk\b", help_out, re.M):
        cases.append(("help blk\r", r"^usage: blk \[-d blkN\] SUBCMD \.\.\.$", None))
        cases.append(("blk inf" + TAB + "\r", r"^blk0: ", "usage"))
        cases.append(("blk read\r", r"^usage: blk \[-d blkN\] read SECTOR \[COUNT\] "
                      r"\('help blk' says more\)$", None))
    for typed, want, unwanted in cases:
        out = keys(typed)
        if out is None:
            return False
        # What the command printed: after the echo, which ends at the first new line.
        said = out.split("\n", 1)[1] if "\n" in out else ""
        if typed.endswith(CTRL_C):
            said = out
        fails.check(re.search(want, said, re.M) is not None,
                    f"typed {typed!r}: want /{want}/, got {out!r}")
        if unwanted:
            fails.check(unwanted not in said, f"typed {typed!r}: {unwanted!r} in {out!r}")

    # Several candidates: listed under the line, which comes back to finish.
    out = keys("help " + TAB, "\n" + PROMPT + "help ")
    if out is None:
        return False
    listed = "\n".join(out.split("\n")[1:-1])  # wrapped at 78 columns
    for name in ("help", "list_device", "uptime", "poweroff"):
        fails.check(re.search(rf"(^|  ){name}  ", listed, re.M) is not None,
                    f"help Tab: {name} not listed in {out!r}")
    out = keys("upt" + TAB + "\r")
    if out is None:
        return False
    fails.check(re.search(r"^usage: uptime$", out, re.M) is not None,
                f"help upt Tab after the list: {out!r}")
    return True


def check_typeahead(args, cmd, con, proc, fails, deadline, config, qmp_path):
    """Type a command while QEMU is paused before the firmware's first instruction."""
    # QEMU hands the UART what it can hold and keeps the rest in the pipe.
    proc.stdin.write(TYPEAHEAD_BYTES)
    proc.stdin.flush()
    qmp = None
    try:
        qmp = Qmp(qmp_path, deadline)
        reg, ready = UART_RX_READY[args.arch]
        while not ready(qmp.hmp_value(reg)):
            if time.monotonic() >= deadline:
                raise TimeoutError("the UART never received the typed bytes")
            time.sleep(0.01)
        fails.check(con.log() == "", f"output before the guest ran: {con.log()!r}")
        qmp.command("cont")
    except (OSError, ValueError, RuntimeError) as e:
        fails.append(f"QMP: {e}")
        # Paused QEMU would only wait for the timeout.
        proc.kill()
        return
    finally:
        if qmp:
            qmp.close()

    pos = con.wait_for(PROMPT, 0, deadline)
    if not fails.check(pos is not None, "no prompt"):
        return
    end = con.wait_for(PROMPT, pos, deadline)
    if not fails.check(end is not None, f"no prompt after the typed '{TYPEAHEAD}'"):
        return
    out = con.log()[pos:end - len(PROMPT)].replace("\r", "")
    # The shell echoes what it reads: the first line is the command it got.
    got = out.split("\n", 1)[0]
    fails.check(got == TYPEAHEAD, f"the shell read '{got}', typed '{TYPEAHEAD}'")
    fails.check("unknown command" not in out, f"typed command: {out!r}")
    check_list_device(out, args, cmd, fails, config)

    proc.stdin.write(b"poweroff\n")
    proc.stdin.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_board_options(p, timeout=30)
    p.add_argument("--pci-transitional", action="store_true",
                   help="PCI devices with both interfaces (the build picks one)")
    p.add_argument("--devices", default="rng")
    p.add_argument("--config", help="the firmware's vio_config.h (drivers, interfaces)")
    p.add_argument("--expect-state", action="append", default=[], metavar="[KIND=]STATE",
                   help="ready, nodriver, refused or failed (default: what --config implies)")
    p.add_argument("--expect-log", action="append", default=[])
    p.add_argument("--pci-vectors", action="append", default=[], metavar="[ID=]N",
                   help="MSI-X vectors of device ID (or of all): scripts/qemu.py")
    p.add_argument("--machine-opts", default=None, metavar="PROPS",
                   help="machine properties, e.g. aia=aplic-imsic: scripts/qemu.py")
    p.add_argument("--expect-irq", action="append", default=[], metavar="ID=MODE",
                   help="device ID (rng0, blk0, ...) interrupts in MODE: polled, line, "
                        "msix-shared or msix (the firmware's IRQ lines)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--shell", action="store_true")
    mode.add_argument("--typeahead", action="store_true",
                      help=f"type {TYPEAHEAD} before the shell firmware runs")
    mode.add_argument("--shell-console", action="store_true",
                      help="the shell test over the first virtio-console's port 0, a "
                      "socket, instead of the UART (FIRMWARE built with "
                      "CONFIG_VIO_APP_STDIO_CONSOLE)")
    p.add_argument("--keys", action="store_true",
                   help="with --shell or --shell-console: the line editor's keys too")
    p.add_argument("--qemu", default=None, help="QEMU binary (default per arch)")
    p.add_argument("firmware")
    args = p.parse_args()

    for item in args.expect_state:
        if item.rpartition("=")[2] not in ("ready", "nodriver", "refused", "failed"):
            p.error(f"bad --expect-state {item}")
    config = read_config(args.config)
    tmp = tempfile.mkdtemp(prefix="vio-qemu-")
    feeders = {}
    proc = None
    fails = Failures()
    try:
        plan = qemu.plan_devices(args.arch, args.devices)
        rng_files = []
        for d in sorted((d for d in plan if d.kind == "rng"), key=lambda d: d.index):
            feeders[d.id] = RngFeeder(os.path.join(tmp, f"{d.id}.fifo"), f"vio-{d.id}-{d.slot}")
            rng_files.append(feeders[d.id].path)
        extra = []
        qmp_path = os.path.join(tmp, "qmp.sock")
        if args.typeahead:
            # Paused until the typed bytes have reached the UART.
            extra = ["-S", "-qmp", f"unix:{qmp_path},server=on,wait=off"]
        sock_path = os.path.join(tmp, "console.sock")
        cmd = qemu.build_command(args.arch, args.firmware, args.virtio, args.devices, extra,
                                 boot_suffix=args.boot_suffix, interactive=False,
                                 transport=args.transport,
                                 pci_transitional=args.pci_transitional,
                                 pci_vectors=qemu.parse_pci_vectors(args.pci_vectors),
                                 machine_opts=args.machine_opts,
                                 rng_files=rng_files, qemu=args.qemu,
                                 console_sockets=[sock_path] if args.shell_console else [],
                                 console_wait=args.shell_console, ring=args.ring)
        if not os.path.exists(cmd.boot_image):
            print(f"FAIL: {cmd.boot_image} not found")
            return 1
        print("$ " + " ".join(cmd.argv))
        print("devices: " + ", ".join(f"{d.id}@{d.slot}" for d in cmd.devices))
        sys.stdout.flush()

        for f in feeders.values():
            f.start()
        deadline = time.monotonic() + args.timeout
        shell = args.shell or args.typeahead or args.shell_console
        stdin = subprocess.PIPE if shell else subprocess.DEVNULL
        proc = subprocess.Popen(cmd.argv, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        sock = None
        if args.shell_console:
            # QEMU starts the guest once this side has connected (console_wait).
            sock = connect_unix(sock_path, deadline)
        con = Console(proc, sock)
        if args.typeahead:
            check_typeahead(args, cmd, con, proc, fails, deadline, config, qmp_path)
        elif args.shell:
            def write(data):
                proc.stdin.write(data)
                proc.stdin.flush()
            check_shell(args, cmd, con, write, feeders, fails, deadline, config)
        elif args.shell_console:
            check_shell(args, cmd, con, sock.sendall, feeders, fails, deadline, config)
        try:
            rc = proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            fails.append(f"QEMU still running after {args.timeout:g} s; killed")
        con.join()
        if shell:
            fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
        else:
            check_firmware(args, cmd, con, rc, feeders, fails, config)
        log = con.log()
        for rx in args.expect_log:
            fails.check(re.search(rx, log, re.M) is not None, f"console lacks /{rx}/")
        if args.ring == "packed":
            for msg in qemu.ring_problems(log + (con.uart or ""), args.ring):
                fails.append(msg)
        for name, f in feeders.items():
            fails.check(f.error is None, f"{name} feeder: {f.error}")

        print("---- console " + "-" * 60)
        print(log.replace("\r", ""), end="" if log.endswith("\n") else "\n")
        if con.uart:
            print("---- UART " + "-" * 63)
            print(con.uart.replace("\r", ""), end="" if con.uart.endswith("\n") else "\n")
        if con.err:
            print("---- QEMU stderr " + "-" * 56)
            print(con.err, end="" if con.err.endswith("\n") else "\n")
        print("-" * 73)
        if fails:
            for msg in fails:
                print(f"FAIL: {msg}")
            return 1
        print(f"PASS ({'typeahead' if args.typeahead else 'shell' if shell else 'firmware'}"
              f", exit status {rc})")
        return 0
    except qemu.QemuError as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in feeders.values():
            f.done.set()
        for f in feeders.values():
            if f.is_alive():
                f.join(2)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
