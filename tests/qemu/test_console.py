#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Run one virtio-console QEMU test case and check from the host what went through the ports.

  test_console.py --arch riscv64|aarch64 --virtio legacy|modern --case CASE
                  [--boot-suffix .elf|.bin] [--timeout SECONDS] FIRMWARE.elf
                  [--transport mmio|pci] [--pci-vectors [ID=]N]... [--machine-opts PROPS]
                  [--expect-irq MODE]

FIRMWARE is vio-console-test (tests/qemu/console_test.c). Every port is a
Unix socket server (QEMU's chardev) in a temporary directory, which this
runner connects to as the host side.

Cases:

  bulk    a virtio-serial device with QEMU's default 31 ports (MULTIPORT), a
          virtconsole and a virtserialport vio.bulk, found by name: a line
          typed on the host comes back intact; 1 MiB from the host, written
          as fast as QEMU takes it while the guest pauses after each read,
          arrives whole (the guest's CRC-32 must be the host's); 1 MiB from
          the guest, read by the host in small slow pieces, is the guest's
          pattern byte for byte
  single  the same on port 0 with max_ports=1 (no MULTIPORT, the virtconsole
          alone), but the host acknowledges each 4 KiB the guest writes before
          it writes more: QEMU drops what a virtconsole's chardev does not take
          at once, whatever the driver does
  ports   a virtconsole and three named virtserialports (vio.alpha, vio.beta,
          vio.gamma): all found with the right ids and open states; a write
          to the closed vio.beta fails with VIO_ENOTCONN; the host opens it
          (the write arrives), closes and reopens it (the guest sees closed,
          then open); a port plugged with QMP device_add appears with its
          name and goes away on device_del, and comes back under the same
          number, open, taking a write; no control message refused
  shell   (FIRMWARE vio-shell) console list shows the named port open and
          port 0 as a console; console write reaches the host; console echo
          sends back what the host types and console cat prints it, each
          until a key on the UART; an unknown port is refused
  fault   the guest faults on purpose: the board's report (cause, address,
          registers; trap_test.py's expectations) arrives on port 0 through
          emergency write, and QEMU exits with the trap status
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402
from test_blk import pattern  # noqa: E402  (apps/common/pattern.h)
import trap_test  # noqa: E402  (what each board's fault report says)

MIB = 1 << 20
NAMES = ("vio.alpha", "vio.beta", "vio.gamma")


def connect(path, deadline):
    """A connection to QEMU's chardev socket server at path, reads timing out at deadline."""
    s = run_test.connect_unix(path, deadline)
    s.settimeout(max(0.1, deadline - time.monotonic()))
    return s


def recv_exact(s, n, piece=65536, pause=0.0):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(min(piece, n - len(out)))
        if not chunk:
            break
        out += chunk
        if pause:
            time.sleep(pause)
    return bytes(out)


class Run:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.fails = run_test.Failures()
        self.proc = None
        self.con = None

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start(self, props=None, extra=(), devices="console"):
        cmd = qemu.build_command(self.args.arch, self.args.firmware, self.args.virtio, devices,
                                 list(extra), boot_suffix=self.args.boot_suffix,
                                 interactive=False,
                                 transport=self.args.transport,
                                 console_sockets=[self.path("port0.sock")],
                                 props=props, ring=self.args.ring,
                                 **run_test.irq_command_args(self.args))
        if not os.path.exists(cmd.boot_image):
            raise qemu.QemuError(f"{cmd.boot_image} not found")
        print("$ " + " ".join(cmd.argv))
        sys.stdout.flush()
        self.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.con = run_test.Console(self.proc)
        self.deadline = time.monotonic() + self.args.timeout
        return self.fails.check(self.con.wait_for("\nREADY\r", 0, self.deadline) is not None,
                                "the firmware never printed READY")

    def uart(self, line):
        print(f"> {line}")
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def wait_line(self, rx, start=0):
        """The first match of rx on a line at or after start, as (match, end), or (None, start)."""
        while True:
            log = self.con.log().replace("\r", "")
            # Whole lines only: "$" also matches at the end of a line still
            # arriving, and "crc=0" of "crc=0b86e3a4" was taken for the CRC.
            log = log[:log.rfind("\n") + 1]
            m = re.compile(rx, re.M).search(log, start)
            if m:
                return m, m.end()
            if time.monotonic() >= self.deadline or self.con.closed:
                return None, start
            time.sleep(0.02)

    def finish(self):
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            self.fails.append(f"QEMU still running after {self.args.timeout:g} s; killed")
        self.con.join()
        log = self.con.log().replace("\r", "")
        results = re.findall(r"^RESULT: (\d+) passed, (\d+) failed$", log, re.M)
        if self.fails.check(len(results) == 1, f"{len(results)} RESULT lines, want one"):
            self.fails.check(results[0][1] == "0", f"the firmware reports {results[0][1]} failed")
        for ln in log.split("\n"):
            if ln.startswith("FAIL "):
                self.fails.append(f"firmware: {ln}")
        self.fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
        m = re.search(r"^CON state=\S+ iface=(\S+) multiport=(\d)", log, re.M)
        if self.fails.check(m is not None, "no CON line"):
            self.fails.check(m.group(1) == self.args.virtio,
                             f"interface {m.group(1)}, want {self.args.virtio}")
        return log


def case_bulk(r, single=False):
    fails = r.fails
    if single:
        props, extra, port, sock = {"console0": "max_ports=1"}, [], "#0", "port0.sock"
    else:
        props, port, sock = None, "vio.bulk", "vio.bulk.sock"
        extra = ["-chardev", f"socket,id=bulk,path={r.path(sock)},server=on,wait=off",
                 "-device", "virtserialport,bus=console0.0,chardev=bulk,name=vio.bulk"]
    if not r.start(props, extra):
        return
    log = r.con.log()
    m = re.search(r"multiport=(\d)", log)
    fails.check(m and m.group(1) == ("0" if single else "1"),
                f"multiport={m and m.group(1)}, want {0 if single else 1}")
    seed = 7
    r.uart(f"CASE bulk port={port} n={MIB} seed={seed} slow=1 ack={1 if single else 0}")
    s = connect(r.path(sock), r.deadline)
    try:
        text = b"the quick brown fox jumps over the lazy dog 0123456789\n"
        s.sendall(text)
        echo = recv_exact(s, len(text))
        fails.check(echo == text, f"echo {echo!r}, want {text!r}")
        data = random.Random(f"{r.args.arch}-{r.args.virtio}").randbytes(MIB)
        t0 = time.monotonic()
        got = []
        if single:
            # QEMU drops what a virtconsole cannot write to its chardev at once
            # (virtio-console.c flush_buf: only virtserialports are throttled), so
            # the host acknowledges every 4 KiB (ack=1) and the guest waits for it;
            # the slow host is the multiport case's.
            def acked():
                out = bytearray()
                while len(out) < MIB:
                    piece = recv_exact(s, min(4096, MIB - len(out)))
                    out += piece
                    if len(piece) < min(4096, MIB - len(out) + len(piece)):
                        break
                    s.sendall(b"A")
                got.append(bytes(out))
            reader = threading.Thread(target=acked)
        else:
            # The host reads slowly: the guest's transmit ring fills and it waits.
            reader = threading.Thread(
                target=lambda: got.append(recv_exact(s, MIB, piece=2048, pause=0.001)))
        reader.start()
        s.sendall(data)
        mrx, _ = r.wait_line(r"^RX n=(\d+) crc=([0-9a-f]+)$")
        if fails.check(mrx is not None, "no RX line"):
            fails.check(int(mrx.group(1)) == MIB, f"guest read {mrx.group(1)} bytes, want {MIB}")
            fails.check(int(mrx.group(2), 16) == zlib.crc32(data),
                        f"guest CRC {mrx.group(2)}, host sent {zlib.crc32(data):08x}")
        reader.join(max(0.1, r.deadline - time.monotonic()))
        got = got[0] if got else b""
        print(f"1 MiB each way in {time.monotonic() - t0:.1f} s")
    finally:
        s.close()
    want = pattern(seed, 0, MIB)
    mtx, _ = r.wait_line(r"^TX n=(\d+) crc=([0-9a-f]+)$")
    if fails.check(mtx is not None, "no TX line"):
        fails.check(int(mtx.group(2), 16) == zlib.crc32(want), "guest TX CRC is not the pattern's")
    if fails.check(len(got) == MIB, f"host got {len(got)} bytes, want {MIB}"):
        if got != want:
            i = next(k for k in range(MIB) if got[k] != want[k])
            fails.append(f"guest to host: byte {i} is {got[i]:#04x}, want {want[i]:#04x}")
        else:
            print("ok: 1 MiB from the guest is the pattern")
    r.finish()


def case_single(r):
    case_bulk(r, single=True)


class Ports:
    """The guest's latest PORT line per id, read from the log."""

    def __init__(self, r):
        self.r = r

    def state(self):
        st = {}
        for m in re.finditer(r"^PORT id=(\d+) present=(\d) open=(\d) console=(\d) name=(\S+)$",
                             self.r.con.log().replace("\r", ""), re.M):
            st[int(m.group(1))] = {"present": m.group(2) == "1", "open": m.group(3) == "1",
                                   "console": m.group(4) == "1", "name": m.group(5)}
        return st

    def wait(self, what, pred):
        while True:
            st = self.state()
            if pred(st):
                print(f"ok: {what}")
                return st
            if time.monotonic() >= self.r.deadline or self.r.con.closed:
                self.r.fails.append(f"guest never saw: {what}; last states {st}")
                return st
            time.sleep(0.02)


def qmp_add(qmp, dev_id, chardev):
    """Plug a virtserialport vio.hot on chardev (QMP device_add)."""
    # run_test.Qmp.command takes the command's own `name`: a raw request here.
    qmp.f.write(json.dumps({"execute": "device_add", "arguments": {
        "driver": "virtserialport", "bus": "console0.0", "chardev": chardev,
        "name": "vio.hot", "id": dev_id}}) + "\n")
    qmp.f.flush()
    reply = qmp._reply()
    if "error" in reply:
        raise RuntimeError(f"QMP device_add: {reply['error']}")


def by_name(st, name):
    return next((i for i, p in st.items() if p["name"] == name and p["present"]), None)


def case_ports(r):
    fails = r.fails
    extra = ["-qmp", f"unix:{r.path('qmp.sock')},server=on,wait=off"]
    for i, name in enumerate(NAMES + ("vio.hot", "vio.hot2")):
        extra += ["-chardev", f"socket,id=c{i},path={r.path(name + '.sock')},server=on,wait=off"]
    for i, name in enumerate(NAMES):
        extra += ["-device", f"virtserialport,bus=console0.0,chardev=c{i},name={name}"]
    if not r.start(extra=extra):
        return
    socks = {}
    qmp = None
    p = Ports(r)
    try:
        socks["vio.alpha"] = connect(r.path("vio.alpha.sock"), r.deadline)
        socks["vio.gamma"] = connect(r.path("vio.gamma.sock"), r.deadline)
        r.uart("CASE ports")
        st = p.wait("the console and three named ports, alpha and gamma open",
                    lambda st: all(by_name(st, n) is not None for n in NAMES)
                    and st[by_name(st, "vio.alpha")]["open"]
                    and st[by_name(st, "vio.gamma")]["open"] and 0 in st and st[0]["console"])
        for want, name in enumerate(NAMES, start=1):
            fails.check(by_name(st, name) == want, f"{name} has id {by_name(st, name)}, want {want}")
        fails.check(st.get(2, {}).get("open") is False, "vio.beta open before the host opened it")

        pos = 0
        r.uart("w vio.beta")
        m, pos = r.wait_line(r"^WRITE vio\.beta rc=(\S+)$", pos)
        fails.check(m and m.group(1) == "VIO_ENOTCONN",
                    f"write to closed vio.beta: {m and m.group(1)}, want VIO_ENOTCONN")
        socks["vio.beta"] = connect(r.path("vio.beta.sock"), r.deadline)
        p.wait("vio.beta opened", lambda st: st.get(2, {}).get("open"))
        r.uart("w vio.beta")
        m, pos = r.wait_line(r"^WRITE vio\.beta rc=(\S+)$", pos)
        want = b"hello vio.beta\n"
        fails.check(m and m.group(1) == str(len(want)), f"write to vio.beta: {m and m.group(1)}")
        got = recv_exact(socks["vio.beta"], len(want))
        fails.check(got == want, f"vio.beta's host got {got!r}, want {want!r}")
        socks.pop("vio.beta").close()
        p.wait("vio.beta closed by the host", lambda st: st.get(2, {}).get("open") is False)
        socks["vio.beta"] = connect(r.path("vio.beta.sock"), r.deadline)
        p.wait("vio.beta open again", lambda st: st.get(2, {}).get("open"))

        qmp = run_test.Qmp(r.path("qmp.sock"), r.deadline)
        qmp_add(qmp, "hot", "c3")
        st = p.wait("vio.hot plugged", lambda st: by_name(st, "vio.hot") is not None)
        hot = by_name(st, "vio.hot")
        qmp.command("device_del", id="hot")
        p.wait("vio.hot unplugged",
               lambda st: hot is not None and not st.get(hot, {}).get("present", True))
        # Plugged again under the same number: its queues and buffers serve again.
        # A chardev of its own: the first one stays taken until QEMU has
        # finalized the unplugged device, whenever that is.
        socks["vio.hot"] = connect(r.path("vio.hot2.sock"), r.deadline)
        qmp_add(qmp, "hot2", "c4")
        st = p.wait("vio.hot plugged again and open",
                    lambda st: by_name(st, "vio.hot") is not None
                    and st[by_name(st, "vio.hot")]["open"])
        fails.check(by_name(st, "vio.hot") == hot, f"vio.hot came back as port "
                    f"{by_name(st, 'vio.hot')}, was {hot}")
        r.uart("w vio.hot")
        m, pos = r.wait_line(r"^WRITE vio\.hot rc=(\S+)$", pos)
        want = b"hello vio.hot\n"
        fails.check(m and m.group(1) == str(len(want)), f"write to vio.hot: {m and m.group(1)}")
        got = recv_exact(socks["vio.hot"], len(want))
        fails.check(got == want, f"vio.hot's host got {got!r}, want {want!r}")
        fails.check(by_name(p.state(), "vio.alpha") == 1, "vio.alpha lost meanwhile")
        r.uart("q")
    except (OSError, RuntimeError, TimeoutError) as e:
        fails.append(f"host side: {e}")
        r.uart("q")  # the firmware ends the case, so QEMU need not time out
    finally:
        for s in socks.values():
            s.close()
        if qmp:
            qmp.close()
    log = r.finish()
    m = re.search(r"^CON bad_ctrl=(\d+)$", log, re.M)
    fails.check(m and m.group(1) == "0", f"control messages refused: {m and m.group(1)}")


def case_fault(r):
    """The guest faults: the board's report must arrive on port 0 by emergency write."""
    fails = r.fails
    # A file behind port 0, not a socket: emergency write hands QEMU one byte
    # at a time, and a socket's buffer fills with a few hundred one-byte
    # writes whenever the reader lags; QEMU drops a virtconsole's bytes then.
    out = r.path("port0.out")
    extra = ["-device", "virtio-serial-device,id=console0",
             "-chardev", f"file,id=port0,path={out}",
             "-device", "virtconsole,chardev=port0,bus=console0.0"]
    if not r.start(extra=extra, devices="none"):
        return
    r.uart("CASE fault")
    try:
        rc = r.proc.wait(max(0.1, r.deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        r.proc.kill()
        rc = r.proc.wait()
    r.con.join()
    text = ""
    if fails.check(os.path.exists(out), "QEMU made no port 0 file"):
        with open(out, errors="replace") as f:
            text = f.read()
    print("---- port 0 " + "-" * 61)
    print(text)
    fails.check(rc == trap_test.TRAP_STATUS, f"QEMU exit status {rc}, want {trap_test.TRAP_STATUS}")
    fails.check(re.search(r"^CON .* emerg=1", r.con.log(), re.M) is not None,
                "the device did not negotiate EMERG_WRITE")
    for rx in trap_test.EXPECT[r.args.arch]:
        fails.check(re.search(rx, text) is not None, f"port 0 lacks the report's /{rx}/")


def case_shell(r):
    """The shell's console commands (FIRMWARE is vio-shell) on a named port."""
    fails = r.fails
    prompt = "vio> "
    extra = ["-chardev", f"socket,id=alpha,path={r.path('vio.alpha.sock')},server=on,wait=off",
             "-device", "virtserialport,bus=console0.0,chardev=alpha,name=vio.alpha"]
    cmd = qemu.build_command(r.args.arch, r.args.firmware, r.args.virtio, "console", extra,
                             boot_suffix=r.args.boot_suffix, interactive=False,
                             transport=r.args.transport,
                             console_sockets=[r.path("port0.sock")],
                             **run_test.irq_command_args(r.args))
    print("$ " + " ".join(cmd.argv))
    r.proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    r.con = run_test.Console(r.proc)
    r.deadline = time.monotonic() + r.args.timeout
    s = connect(r.path("vio.alpha.sock"), r.deadline)

    def until(text, start):
        end = r.con.wait_for(text, start, r.deadline)
        fails.check(end is not None, f"no '{text.strip()}' after {r.con.log()[start:]!r}")
        return end

    def step(line, wait=prompt):
        start = len(r.con.log())
        r.uart(line)
        end = until(wait, start)
        return r.con.log()[start:end or len(r.con.log())].replace("\r", "")

    def stop():
        """One key on the UART, no newline: it ends cat or echo."""
        start = len(r.con.log())
        r.proc.stdin.write(b"q")
        r.proc.stdin.flush()
        until(prompt, start)

    try:
        if until(prompt, 0) is None:
            return
        # The port opens on the host side once the driver has it; list until it shows.
        out = ""
        while time.monotonic() < r.deadline:
            out = step("console list")
            if re.search(r"port 1\s+vio\.alpha\s+open", out):
                break
            time.sleep(0.1)
        fails.check(re.search(r"port 1\s+vio\.alpha\s+open\s+serial", out) is not None,
                    f"console list: {out!r}")
        fails.check(re.search(r"port 0\s+-\s+\S+\s+console", out) is not None,
                    f"console list shows no console port 0: {out!r}")
        step("console write vio.alpha hello there")
        got = recv_exact(s, 12)
        fails.check(got == b"hello there\n", f"console write: the host got {got!r}")
        step("console echo vio.alpha", "(any key on the UART stops)")
        s.sendall(b"ping\n")
        got = recv_exact(s, 5)
        fails.check(got == b"ping\n", f"console echo: the host got {got!r} back")
        start = len(r.con.log())
        until("ping", start - 200)
        stop()
        step("console cat vio.alpha", "(any key on the UART stops)")
        start = len(r.con.log())
        s.sendall(b"catdata\n")
        until("catdata", start)
        stop()
        out = step("console cat vio.nothing")
        fails.check("no port 'vio.nothing'" in out, f"cat of a missing port: {out!r}")
        r.uart("poweroff")
        try:
            rc = r.proc.wait(max(0.1, r.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            r.proc.kill()
            rc = r.proc.wait()
        fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
    except OSError as e:
        fails.append(f"host side: {e}")
    finally:
        s.close()
        r.con.join()


CASES = {"shell": case_shell, "bulk": case_bulk, "single": case_single, "ports": case_ports, "fault": case_fault}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run_test.add_board_options(ap, timeout=60)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--qemu", default=None)
    run_test.add_irq_options(ap, "console")
    ap.add_argument("firmware")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vio-con-")
    r = Run(args, tmp)
    try:
        CASES[args.case](r)
    except qemu.QemuError as e:
        r.fails.append(str(e))
    finally:
        if r.proc and r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    if not r.con:
        return r.fails.report([])
    log = r.con.log()
    if args.ring == "packed":
        r.fails.extend(qemu.ring_problems(log, args.ring))
    if args.expect_irq:
        run_test.check_irq_mode(r.fails, log, "console", args.expect_irq)
    return r.fails.report([("console", log), ("QEMU stderr", r.con.err)])


if __name__ == "__main__":
    sys.exit(main())
