#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""PCI Express hot-plug of a virtio-rng or virtio-net seen from the vio shell.

  test_hotplug.py --arch riscv64|aarch64 --virtio legacy|modern --transport pci
                  [--device rng|net] [--boot-suffix .elf|.bin] [--timeout SECONDS]
                  SHELL.elf

The shell firmware boots with the device in the slot of a pcie-root-port.
The test uses it (rng: `rng 32` prints random bytes; net, on QEMU's
user-mode network with restrict=on: `dhcp`, then `ping 10.0.2.2 2`),
unplugs it over QMP (device_del; the shell's idle loop sees the slot's
attention button, stops the device and powers the slot off, and QEMU
reports DEVICE_DELETED), checks that `list_device` shows it removed and
that it is refused (rng: not ready; net: `ifconfig` says link down), plugs
it back (device_add), waits until `list_device` shows it ready at the
same address again and uses it once more (net: the link is up again and
the ping is answered, so the receive ring was re-posted). Not
blk-specific: the same layer brings back any driver that can resume
(tests/qemu/test_blk.py's hotplug case streams a disk through it).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_test  # noqa: E402  (also puts scripts/ on the path)
import qemu  # noqa: E402

PORT = "hprp"
DEV = "hpdev"
HEX = re.compile(r"^[0-9a-f]{4}: ([0-9a-f]+)$", re.M)


def rng_bytes(out):
    """The bytes of a shell hexdump, or None."""
    found = [bytes.fromhex(m.group(1)) for m in HEX.finditer(out or "")]
    return b"".join(found) if found else None


def dev_line(out, name):
    """list_device's line for name (and the lines under it), or ''."""
    m = re.search(rf"^\s*\d+ {name} .*(?:\n     .*)*", out or "", re.M)
    return m.group(0) if m else ""


class Rng:
    name = "rng0"
    device = "virtio-rng-pci"
    backend = []

    def use(self, step, fails, when):
        fails.check(rng_bytes(step("rng 32")) is not None, f"no random bytes {when}")

    def refused(self, step, fails):
        out = step("rng 16")
        fails.check(out is not None and "not ready" in out and rng_bytes(out) is None,
                    f"rng read from a removed device: {out!r}")


class Net:
    name = "net0"
    device = "virtio-net-pci,netdev=hpnet"
    backend = ["-netdev", qemu.user_netdev() + ",id=hpnet"]

    def use(self, step, fails, when):
        if when == "before the unplug":
            out = step("dhcp") or ""
            fails.check(re.search(r"^dhcp: lease 10\.0\.2\.15", out, re.M) is not None,
                        f"no DHCP lease: {out!r}")
        else:
            out = ""
            deadline = time.monotonic() + 5
            while "link up" not in out and time.monotonic() < deadline:
                out = step("ifconfig") or ""
            fails.check("link up" in out, f"the link never came back up: {out!r}")
        out = step("ping 10.0.2.2 2") or ""
        fails.check("2 sent, 2 received" in out, f"ping {when}: {out!r}")

    def refused(self, step, fails):
        out = step("ifconfig") or ""
        fails.check("link down" in out, f"the link is not down after the unplug: {out!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run_test.add_board_options(p, timeout=40)
    p.add_argument("--device", default="rng", choices=("rng", "net"))
    p.add_argument("firmware")
    args = p.parse_args()
    fails = run_test.Failures()
    if args.transport != "pci":
        print("FAIL: hot-plug needs --transport pci")
        return 1
    tmp = tempfile.mkdtemp(prefix="vio-hotplug-")
    qmp_path = os.path.join(tmp, "qmp.sock")
    kind = Rng() if args.device == "rng" else Net()
    dev = (f"{kind.device},id={DEV},bus={PORT},romfile="
           + qemu.PCI_IFACE_PROPS[args.virtio])
    extra = ["-device", f"pcie-root-port,id={PORT},bus=pcie.0,addr=0x10,chassis=1,slot=1",
             *kind.backend, "-device", dev, "-qmp", f"unix:{qmp_path},server=on,wait=off"]
    cmd = qemu.build_command(args.arch, args.firmware, args.virtio, "none", extra,
                             boot_suffix=args.boot_suffix, interactive=False,
                             transport=args.transport, ring=args.ring)
    print("$ " + " ".join(cmd.argv))
    sys.stdout.flush()
    proc = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    con = run_test.Console(proc)
    deadline = time.monotonic() + args.timeout
    qmp = None

    def step(line):
        """Send a shell command; its output up to the next prompt (None on timeout)."""
        start = len(con.log())
        print(f"> {line}")
        proc.stdin.write((line + "\n").encode())
        proc.stdin.flush()
        end = con.wait_for(run_test.PROMPT, start, deadline)
        if not fails.check(end is not None, f"no prompt after '{line}'"):
            return None
        return con.log()[start:end - len(run_test.PROMPT)].replace("\r", "")

    try:
        if not fails.check(con.wait_for(run_test.PROMPT, 0, deadline) is not None, "no prompt"):
            raise TimeoutError("no prompt")
        qmp = run_test.Qmp(qmp_path, deadline)
        before = dev_line(step("list_device"), kind.name)
        fails.check(" ready" in before, f"{kind.name} not ready at boot: {before!r}")
        addr = re.search(r"transport: pci (\S+),", before)
        fails.check(addr is not None, f"{kind.name} is not on PCI: {before!r}")
        kind.use(step, fails, "before the unplug")

        print(f"QMP device_del {DEV}")
        qmp.command("device_del", id=DEV)
        ev = qmp.wait_event("DEVICE_DELETED", deadline)
        while ev is not None and ev.get("data", {}).get("device") != DEV:
            ev = qmp.wait_event("DEVICE_DELETED", deadline)
        fails.check(ev is not None, "no DEVICE_DELETED: the guest never let the device go")
        gone = dev_line(step("list_device"), kind.name)
        fails.check("removed (unplugged)" in gone, f"{kind.name} after the unplug: {gone!r}")
        kind.refused(step, fails)

        driver, _, rest = dev.partition(",")
        print(f"QMP device_add {dev}")
        qmp.command("device_add", driver=driver,
                    **dict(kv.split("=", 1) for kv in rest.split(",")))
        back = ""
        while time.monotonic() < deadline:
            back = dev_line(step("list_device"), kind.name)
            if " ready" in back:
                break
            time.sleep(0.2)
        fails.check(" ready" in back, f"{kind.name} never came back: {back!r}")
        if addr:
            fails.check(f"transport: pci {addr.group(1)}," in back,
                        f"{kind.name} came back elsewhere: {back!r}")
        kind.use(step, fails, "after the replug")
        proc.stdin.write(b"poweroff\n")
        proc.stdin.flush()
    except (ConnectionError, RuntimeError, TimeoutError, OSError) as e:
        fails.append(f"{type(e).__name__}: {e}")
    finally:
        if qmp:
            qmp.close()
        rc = run_test.wait_exit(proc, deadline, fails)
        con.join()
        shutil.rmtree(tmp, ignore_errors=True)
    fails.check(rc == 0, f"QEMU exit status {rc}, want 0")
    for ln in con.log().splitlines():
        fails.check(not re.search(rf"vio: error: (?!{kind.name}: failed: no such device)", ln),
                    f"unexpected error: {ln.strip()}")
    return fails.report([("console", con.log()), ("QEMU stderr", con.err)],
                        f"PASS (hotplug {args.device}, {args.arch} {args.virtio})")


if __name__ == "__main__":
    sys.exit(main())
