#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Boot the trap-test firmware and check the board's report from the outside:
the fault's cause, the faulting address, the register dump and exit status 3."""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import qemu  # noqa: E402

# What each board prints for a load from address 8.
EXPECT = {
    "riscv64": [r"unexpected trap: load access fault \(scause 0x5\)", r"stval 0{15}8",
                r"sepc [0-9a-f]{16}", r"\bra [0-9a-f]{16}"],
    "aarch64": [r"unexpected exception: sync", r"data abort .*translation fault.*on a read",
                r"FAR_EL1 +0x0{15}8", r"ELR_EL1", r"x30 "],
}
TRAP_STATUS = 3


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--arch", required=True, choices=sorted(EXPECT))
    p.add_argument("--boot-suffix")
    p.add_argument("firmware")
    a = p.parse_args()
    argv = qemu.build_command(a.arch, a.firmware, devices="none", boot_suffix=a.boot_suffix,
                               interactive=False).argv
    try:
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        out, status = r.stdout.decode(errors="replace"), r.returncode
    except subprocess.TimeoutExpired as e:
        out, status = (e.stdout or b"").decode(errors="replace"), None
    print(out)
    failures = [f"console lacks /{rx}/" for rx in EXPECT[a.arch] if not re.search(rx, out)]
    if "the board failed to trap" in out:
        failures.append("the load from address 8 did not trap")
    if status != TRAP_STATUS:
        failures.append(f"QEMU exit status {status}, expected {TRAP_STATUS}")
    for f in failures:
        print("FAIL:", f)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
