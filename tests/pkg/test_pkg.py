#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests of vio as an installed package (cmake/install.cmake).

  test_pkg.py install --build-dir B --prefix P
      cmake --install B into an empty P; check the files a consumer needs.
  test_pkg.py example --arch A --source DIR --prefix P --build-dir D --case blk-rng|lwip
      configure and build the standalone project DIR against P (its toolchain
      file, find_package(vio)), boot it in QEMU and check it from the host:
      blk-rng prints the first bytes of a disk image this script wrote and
      bytes from an rng fed with a known stream; lwip gets an address from
      QEMU's DHCP server and echoes what this script sends through a
      127.0.0.1 forward (user-mode net, restrict=on).
  test_pkg.py pkgconfig --arch A --prefix P --build-dir D
      compile and link a tiny program with `pkg-config --cflags --libs
      vio-board` (which requires vio) and the compiler and flags vio.pc
      names, then boot it.
  test_pkg.py drivers-off --nm NM --full LIB DRIVER=LIB...
      each LIB built with DRIVER off defines none of that driver's public
      symbols (vio_<driver>_*) and still all of the other drivers'; LIB
      with every driver defines them all, so the check can fail.
"""
import argparse
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
sys.path.insert(0, os.path.join(HERE, "..", "qemu"))
import qemu  # noqa: E402
from run_test import Console, RngFeeder  # noqa: E402

# What a consumer needs from the prefix, whatever the board.
INSTALLED = [
    "lib/libvio.a", "lib/libvio_board.a", "lib/vio/link.ld",
    "include/vio/device.h", "include/vio/spec/virtio_config.h", "include/vio_config.h",
    "include/vio-board/board.h", "include/vio-board/vio_baremetal.h",
    "lib/cmake/vio/vioConfig.cmake", "lib/cmake/vio/vioConfigVersion.cmake",
    "lib/cmake/vio/vioTargets.cmake", "lib/cmake/vio/vio-toolchain.cmake",
    "lib/pkgconfig/vio.pc", "lib/pkgconfig/vio-board.pc",
]
INSTALLED_LWIP = [
    "lib/libvio_lwip.a", "lib/libvio_lwipcore.a", "include/vio-lwip/vio_netif.h",
    "include/vio-lwip/lwipopts.h", "include/vio-lwip/lwip/tcp.h", "lib/pkgconfig/vio-lwip.pc",
]

# The drivers a build can leave out (vio_<driver>_* are theirs), and the
# modules that go with one (Kconfig: the framebuffer API needs the gpu).
DRIVERS = ("rng", "blk", "net", "console", "input", "gpu")
GOES_WITH = {"gpu": ("fb",)}


def run(cmd, **kw):
    print("$ " + " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    print(r.stdout, end="", flush=True)
    if r.returncode:
        sys.exit(f"FAIL: exit status {r.returncode}")
    return r.stdout


def config_value(prefix, name):
    with open(os.path.join(prefix, "include", "vio_config.h")) as f:
        m = re.search(rf"^#define {name} (\S+)$", f.read(), re.M)
    return m.group(1) if m else None


def cmd_install(args):
    shutil.rmtree(args.prefix, ignore_errors=True)
    run(["cmake", "--install", args.build_dir, "--prefix", args.prefix])
    want = list(INSTALLED)
    if config_value(args.prefix, "CONFIG_VIO_ADAPTER_LWIP") == "1":
        want += INSTALLED_LWIP
    missing = [p for p in want if not os.path.isfile(os.path.join(args.prefix, p))]
    if missing:
        sys.exit("FAIL: not installed: " + ", ".join(missing))
    # Relocatable: nothing installed names the build or source tree.
    for d, _, files in os.walk(os.path.join(args.prefix, "lib")):
        for f in files:
            if f.endswith((".cmake", ".pc")):
                text = open(os.path.join(d, f)).read()
                for tree in (args.build_dir, os.path.dirname(os.path.dirname(HERE))):
                    if os.path.realpath(tree) in text:
                        sys.exit(f"FAIL: {os.path.join(d, f)} names {tree}")
    print(f"ok: {len(want)} files in {args.prefix}")


def boot(args, image, devices, **kw):
    """Start QEMU on image with devices (UART on a pipe); returns (proc, Console)."""
    cmd = qemu.build_command(args.arch, image, "modern" if args.modern else "legacy", devices,
                             interactive=False, **kw)
    print("$ " + " ".join(shlex.quote(a) for a in cmd.argv), flush=True)
    proc = subprocess.Popen(cmd.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return proc, Console(proc)


def finish(proc, con, deadline):
    try:
        rc = proc.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        print("QEMU timed out")
    con.join()
    print("--- console ---\n" + con.log().replace("\r", "") + "--- end ---")
    if con.err.strip():
        print("--- QEMU stderr ---\n" + con.err + "--- end ---")
    return rc


def line_value(log, key):
    m = re.search(rf"^{key} (.*)$", log.replace("\r", ""), re.M)
    return m.group(1).strip() if m else None


def check_blk_rng(args, image, tmp, deadline):
    disk = os.path.join(tmp, "disk.img")
    content = os.urandom(64)
    with open(disk, "wb") as f:
        f.write(content)
        f.truncate(1 << 20)
    feeder = RngFeeder(os.path.join(tmp, "rng.fifo"), seed=0x76696f)
    feeder.start()
    proc, con = boot(args, image, "blk,rng", blk_files=[disk], rng_files=[feeder.path])
    rc = finish(proc, con, deadline)
    feeder.done.set()
    feeder.join(2)
    log = con.log()
    fails = []
    block = line_value(log, "BLOCK")
    if block != content.hex():
        fails.append(f"BLOCK {block}, the image starts with {content.hex()}")
    rnd = line_value(log, "RANDOM")
    if not rnd or not re.fullmatch(r"[0-9a-f]{64}", rnd):
        fails.append(f"RANDOM {rnd}: want 32 bytes in hex")
    elif bytes.fromhex(rnd) not in feeder.fed():
        fails.append(f"RANDOM {rnd} is not in the {len(feeder.fed())} bytes fed to the rng")
    return fails, rc, log


def check_lwip(args, image, tmp, deadline):
    port = free_port()
    proc, con = boot(args, image, "net", net_backends=[qemu.user_netdev([(port, 7)])])
    fails = []
    if con.wait_for("ECHO READY", 0, deadline) is None:
        fails.append("no ECHO READY")
    else:
        data = os.urandom(64 * 1024)
        got = bytearray()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
                sender.start()
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                sender.join(10)
        except OSError as e:
            fails.append(f"echo through 127.0.0.1:{port}: {e}")
        if bytes(got) != data:
            fails.append(f"echo: sent {len(data)} bytes, {len(got)} came back"
                         + (" (different bytes)" if len(got) == len(data) else ""))
        else:
            print(f"ok: {len(data)} bytes echoed through 127.0.0.1:{port}")
    rc = finish(proc, con, deadline)
    log = con.log()
    ip = line_value(log, "IP")
    # QEMU's user-mode DHCP server hands out 10.0.2.15 first.
    if ip != "10.0.2.15":
        fails.append(f"IP {ip}: want QEMU's DHCP lease 10.0.2.15")
    if not fails and line_value(log, "ECHO DONE") != str(64 * 1024):
        fails.append(f"ECHO DONE {line_value(log, 'ECHO DONE')}: want {64 * 1024}")
    return fails, rc, log


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(fails, rc, log, what):
    fails = list(fails)
    if rc != 0:
        fails.append(f"QEMU exit status {rc}, want 0")
    fails += [f"guest: {ln}" for ln in log.replace("\r", "").split("\n") if ln.startswith("FAIL")]
    if fails:
        sys.exit("FAIL: " + "; ".join(fails))
    print(f"ok: {what}")


def cmd_example(args):
    shutil.rmtree(args.build_dir, ignore_errors=True)
    toolchain = os.path.join(args.prefix, "lib", "cmake", "vio", "vio-toolchain.cmake")
    run(["cmake", "-S", args.source, "-B", args.build_dir, "-G", "Ninja",
         f"-DCMAKE_TOOLCHAIN_FILE={toolchain}", f"-DCMAKE_PREFIX_PATH={args.prefix}",
         "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_COMPILE_WARNING_AS_ERROR=ON"])
    run(["cmake", "--build", args.build_dir, "-j", "1"])
    target = {"blk-rng": "blk-rng", "lwip": "lwip-echo"}[args.case]
    image = os.path.join(args.build_dir, target + ".elf")
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="vio-pkg-") as tmp:
        check = check_blk_rng if args.case == "blk-rng" else check_lwip
        fails, rc, log = check(args, image, tmp, deadline)
    report(fails, rc, log, f"{args.case} built against {args.prefix} runs on {args.arch}")


PKGCONFIG_MAIN = """\
/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <vio/error.h>
#include "board.h"
#include "vio_config.h"
int main(void)
{
	printf("PKGCONFIG %s %d\\n", vio_strerror(VIO_ENODEV), CONFIG_VIO_DRIVER_BLK);
	board_exit(0);
}
"""


def cmd_pkgconfig(args):
    shutil.rmtree(args.build_dir, ignore_errors=True)
    os.makedirs(args.build_dir)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(args.prefix, "lib", "pkgconfig"),
               PKG_CONFIG_LIBDIR="")
    pc = ["pkg-config"]
    cc = run(pc + ["--variable=cc", "vio"], env=env).strip()
    flags = shlex.split(run(pc + ["--variable=target_cflags", "vio"], env=env))
    ldflags = shlex.split(run(pc + ["--variable=target_ldflags", "vio"], env=env))
    cflags = shlex.split(run(pc + ["--cflags", "vio-board"], env=env))
    libs = shlex.split(run(pc + ["--libs", "vio-board"], env=env))
    src = os.path.join(args.build_dir, "main.c")
    with open(src, "w") as f:
        f.write(PKGCONFIG_MAIN)
    elf = os.path.join(args.build_dir, "pkgconfig.elf")
    run([cc, *flags, "-Wall", "-Wextra", "-Werror", *cflags, "-o", elf, src, *ldflags, *libs])
    image = elf
    if run(pc + ["--variable=boot_suffix", "vio"], env=env).strip() == ".bin":
        image = os.path.join(args.build_dir, "pkgconfig.bin")
        objcopy = run(pc + ["--variable=objcopy", "vio"], env=env).strip()
        run([objcopy, "-O", "binary", elf, image])
    proc, con = boot(args, image, "none", boot_suffix="")
    rc = finish(proc, con, time.monotonic() + args.timeout)
    fails = []
    got = line_value(con.log(), "PKGCONFIG")
    if not got or not got.endswith(" " + config_value(args.prefix, "CONFIG_VIO_DRIVER_BLK")):
        fails.append(f"PKGCONFIG {got}: want the error text and the build's CONFIG_VIO_DRIVER_BLK")
    report(fails, rc, con.log(), f"a program linked with pkg-config's flags runs on {args.arch}")


def defined_symbols(nm, lib):
    out = subprocess.run([nm, "--defined-only", lib], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    return {ln.split()[-1] for ln in out.splitlines() if len(ln.split()) == 3}


def driver_symbols(syms, drv):
    return sorted(s for s in syms if s.startswith(f"vio_{drv}_"))


def cmd_drivers_off(args):
    fails = []
    full = defined_symbols(args.nm, args.full)
    for drv in DRIVERS + tuple(m for ms in GOES_WITH.values() for m in ms):
        if not driver_symbols(full, drv):
            fails.append(f"{args.full} (every driver) defines no vio_{drv}_* symbol")
    for item in args.off:
        drv, _, lib = item.partition("=")
        syms = defined_symbols(args.nm, lib)
        left = [s for m in (drv, *GOES_WITH.get(drv, ())) for s in driver_symbols(syms, m)]
        if left:
            fails.append(f"{drv} off: {lib} still defines {', '.join(left)}")
        for other in DRIVERS:
            if other != drv and not driver_symbols(syms, other):
                fails.append(f"{drv} off: {lib} lost the {other} driver too")
        if not left:
            gone = ", ".join(f"vio_{m}_*" for m in (drv, *GOES_WITH.get(drv, ())))
            print(f"ok: {drv} off: no {gone} symbol; the other drivers are there")
    if fails:
        sys.exit("FAIL: " + "; ".join(fails))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install")
    p.add_argument("--build-dir", required=True)
    p.add_argument("--prefix", required=True)
    for name in ("example", "pkgconfig"):
        p = sub.add_parser(name)
        p.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
        p.add_argument("--prefix", required=True)
        p.add_argument("--build-dir", required=True)
        p.add_argument("--modern", action="store_true", help="modern virtio-mmio (default legacy)")
        p.add_argument("--timeout", type=float, default=60)
        if name == "example":
            p.add_argument("--source", required=True)
            p.add_argument("--case", required=True, choices=("blk-rng", "lwip"))
    p = sub.add_parser("drivers-off")
    p.add_argument("--nm", required=True)
    p.add_argument("--full", required=True)
    p.add_argument("off", nargs="+", metavar="DRIVER=LIB")
    args = ap.parse_args()
    {"install": cmd_install, "example": cmd_example, "pkgconfig": cmd_pkgconfig,
     "drivers-off": cmd_drivers_off}[args.cmd](args)


if __name__ == "__main__":
    main()
