#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Boot a vio firmware on QEMU's `virt` machine with a chosen set of virtio-mmio devices.

Command line:

  qemu.py run [--arch riscv64|aarch64] [--virtio legacy|modern] [--devices LIST]
              [--extra "QEMU ARGS"] [--boot-suffix .elf|.bin] [--rng-file PATH]...
              [--blk-file PATH]... [--blk SPEC]... [--console-socket PATH]...
              [--dry-run] FIRMWARE.elf

      Run QEMU with the firmware's UART on this terminal (-nographic: Ctrl-A X
      quits, Ctrl-A H lists the other keys). --dry-run prints the command line
      and the slot of every device instead of running it.

  --display   none (default): no window. gtk or sdl: a QEMU window shows
              the GPU's scanouts and routes the keyboard and the pointer to
              the virtio keyboard, mouse and tablet (the shell reads that
              keyboard as well as the UART, which stays on this terminal).
              gui: the first of gtk and sdl that QEMU has (Debian's
              qemu-system-gui). auto: gui when $DISPLAY or $WAYLAND_DISPLAY
              is set and QEMU has a front end, none otherwise.

  --arch      riscv64 (default): -M virt -m 256M -bios default (OpenSBI), 8 slots.
              aarch64: -M virt -cpu cortex-a57 -m 256M -semihosting, 32 slots;
              semihosting is how the firmware exits QEMU with a status.
  --virtio    legacy (default): QEMU's virtio-mmio version 1.
              modern: version 2 (-global virtio-mmio.force-legacy=false).
              With --transport pci: modern is a modern-only device
              (disable-legacy=on), legacy a transitional device with its
              modern interface off (disable-modern=on), so that only the
              legacy I/O BAR is there.
  --transport mmio (default): the virtio-mmio slots. pci: every device is
              a virtio-*-pci function on the host bridge's root bus
              (bus=pcie.0), at the PCI device number of its slot: NAME@N
              pins it to device N (1..31; 0 is the host bridge), unpinned
              ones take the lowest free numbers in list order. vio puts a
              PCI function in table slot 256 + (bus << 8 | device << 3 |
              function), which is the slot the plan shows.
  --pci-transitional  with --transport pci: transitional devices with both
              interfaces on (QEMU's default on the root bus) instead of the
              --virtio one alone; vio drives them modern, or legacy in a
              legacy-only build.
  --pci-vectors [ID=]N  with --transport pci: MSI-X vectors of device ID
              (rng0, blk1, ...; without ID: of every device), QEMU's
              `vectors` property. 0 takes MSI-X away (INTx only); fewer
              than the device's queues plus one make vio share vectors.
              May repeat.
  --machine-opts PROPS  machine properties after its type, e.g.
              aia=aplic-imsic (riscv64: the AIA's APLIC and IMSIC instead
              of the PLIC, so that PCI devices get MSIs).
  --ring      split (default) or packed: every device offers packed
              virtqueues (-global virtio-device.packed=on; modern only).
  --devices   a comma list of rng, blk, net, console, gpu, keyboard, mouse,
              tablet; `all` (the default) is one of each and `none` is none.
              A name may repeat, and NAME@N pins that device to slot N
              (bus=virtio-mmio-bus.N, slot N being the N-th virtio-mmio node
              in ascending address order). Unpinned devices take the highest
              free slots in list order, as QEMU gives the first -device the
              highest slot.
  --extra     more QEMU arguments, split like a shell would.
  --boot-suffix  what QEMU boots: the firmware itself (.elf, the riscv64
              default) or its sibling raw image (.bin, the aarch64 default).
  --rng-file  feed the N-th rng (in list order) from PATH (a FIFO or a file)
              through an rng-random backend; repeat for the next rng.
  --blk-file  back the N-th blk with a raw image at PATH instead of a null
              device; repeat for the next blk.
  --blk       the N-th blk in full, as comma-separated KEY=VALUE (repeat for
              the next blk; it wins over --blk-file):
                file=PATH         raw image (default: a 64 MiB null device)
                readonly=on       the drive is read-only (the device offers RO)
                serial=TEXT       what VIRTIO_BLK_T_GET_ID returns (no commas)
                num-queues=N      request queues (VIRTIO_BLK_F_MQ when N > 1)
                queue-size=N      QEMU's queue size; on virtio-mmio it only sets
                                  seg_max (N - 2): QueueNumMax stays 1024
                discard=on|off    offer VIRTIO_BLK_F_DISCARD; on also lets the
                                  drive unmap (discard=unmap), so discarded
                                  ranges of a file read back as zeroes
                write-zeroes=on|off  offer VIRTIO_BLK_F_WRITE_ZEROES
                block-size=N      logical and physical block size in bytes
                blkdebug=CFG      put QEMU's blkdebug driver between the format
                                  and the file, with config file CFG (needs
                                  file=), to inject I/O errors
                errors=POLICY     rerror and werror of the device: report (the
                                  default with blkdebug) hands errors to the
                                  guest, stop pauses the VM, ignore, enospc
                props=A:B         more -device properties, ':' for ','
                drive=A:B         more -drive options, ':' for ',' (e.g.
                                  throttling.iops-total=1 for a slow drive)
  --console-socket  put the N-th console's port on a Unix socket server at PATH.
  --net-fwd   HOSTPORT:GUESTPORT (repeatable): a TCP forward from 127.0.0.1:HOSTPORT
              on the host to GUESTPORT of the first net device's guest, on
              QEMU's user-mode network (still restrict=on: the guest reaches
              nothing but QEMU's DHCP server and the forwards).
  --netdev    the N-th net device's backend, a -netdev value without the id
              (repeat for the next net): user,... or socket with loopback
              addresses only, e.g. socket,udp=127.0.0.1:A,localaddr=127.0.0.1:B
              (raw Ethernet frames to a host program), socket,listen=127.0.0.1:P
              or socket,connect=127.0.0.1:P (two guests, or a host program),
              or vhost-user,path=SOCK[,queues=N]: QEMU connects to a vhost-user
              backend listening on the Unix socket SOCK (a test program that
              is the device's data path, tests/qemu/vhost_user.py) with N
              queue pairs; the guest's RAM is then a shared memfd the backend
              maps (-object memory-backend-memfd,share=on).
  --console-wait  QEMU waits for a client on every console socket before the
              guest starts (e.g. `socat -,raw,echo=0 UNIX-CONNECT:PATH`).

The backends touch nothing outside QEMU unless asked: blk is a 64 MiB null
device reading zeroes, net is user-mode networking with restrict=on and no
forwards, console is a virtconsole on a null chardev, rng reads QEMU's built-in
source, gpu runs without a display. QEMU's default NIC is always off (-nic
none): the only network devices are the listed net ones.

As a module: build_command() returns the argument list and the device plan
(each device's kind, index and slot), for test runners.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field

KINDS = ("rng", "blk", "net", "console", "gpu", "keyboard", "mouse", "tablet")

# The device type name vio reports for each kind (vio_dev_type_name).
TYPE_NAMES = {
    "rng": "rng", "blk": "blk", "net": "net", "console": "console", "gpu": "gpu",
    "keyboard": "input", "mouse": "input", "tablet": "input",
}


@dataclass(frozen=True)
class Arch:
    qemu: str
    machine: tuple
    slots: int
    boot_suffix: str


# One vCPU, but room for two (-smp 1,maxcpus=2): TCG translates the
# guest's memory barriers into host fences only when the machine may have
# more than one vCPU (CF_PARALLEL). With one, a guest's full barrier between
# publishing a ring index and reading the device's event index (VirtIO 1.2
# 2.7.13.4) is no barrier against QEMU's I/O thread, which runs the virtio
# devices on another host core: the store and the load can pass each other
# in the host CPU and a notification is lost for good. Seen as TCP stalls
# through user-mode networking on an idle host; the guest's code is right,
# and real hardware or KVM honours its barriers.
ARCHES = {
    "riscv64": Arch("qemu-system-riscv64",
                    ("-M", "virt", "-smp", "1,maxcpus=2", "-m", "256M", "-bios", "default"), 8,
                    ".elf"),
    "aarch64": Arch("qemu-system-aarch64",
                    ("-M", "virt", "-cpu", "cortex-a57", "-smp", "1,maxcpus=2", "-m", "256M",
                     "-semihosting"),
                    32, ".bin"),
}


@dataclass
class Device:
    kind: str       # one of KINDS
    index: int      # n-th device of this kind in the list, from 0
    slot: int       # the slot vio lists it in (virtio-mmio slot, or 256 + PCI devfn)
    pinned: bool    # NAME@N on the list
    id: str = ""    # QEMU id of the device ("rng0", "blk1", ...)
    pci_addr: int = None  # PCI device number on the root bus (transport pci)

    @property
    def type_name(self):
        return TYPE_NAMES[self.kind]


@dataclass
class Command:
    argv: list
    devices: list = field(default_factory=list)  # Device, in list order
    boot_image: str = ""


class QemuError(Exception):
    pass


@dataclass
class Blk:
    """How to back and configure one virtio-blk device (every field optional)."""
    file: str = None           # raw image; None: a 64 MiB null device reading zeroes
    readonly: bool = False     # read-only drive: QEMU offers VIRTIO_BLK_F_RO
    serial: str = None         # the device ID (GET_ID); QEMU sends at most 20 bytes
    num_queues: int = None     # request queues (QEMU's default on virtio-mmio: 1)
    queue_size: int = None     # QEMU's queue-size: seg_max = N - 2 (virtio-mmio offers 1024)
    discard: bool = None       # offer DISCARD (True: the drive unmaps too); None: QEMU's default
    write_zeroes: bool = None  # offer WRITE_ZEROES; None: QEMU's default
    block_size: int = None     # logical (and physical) block size, bytes
    blkdebug: str = None       # blkdebug config file between the raw format and the file
    errors: str = None         # rerror/werror policy; None: report with blkdebug, else QEMU's
    props: str = ""            # more -device properties, comma-separated
    drive: str = ""            # more -drive options, comma-separated (throttling.*)


BLK_KEYS = ("file", "readonly", "serial", "num-queues", "queue-size", "discard",
            "write-zeroes", "block-size", "blkdebug", "errors", "props", "drive")


def _on_off(key, val):
    if val in ("on", "yes", "true", "1", ""):
        return True
    if val in ("off", "no", "false", "0"):
        return False
    raise QemuError(f"blk {key}={val}: want on or off")


def parse_blk(spec):
    """Parse a --blk value ("file=IMG,readonly=on,serial=S,...") into a Blk."""
    b = Blk()
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        key, _, val = item.strip().partition("=")
        if key not in BLK_KEYS:
            raise QemuError(f"unknown blk option '{key}' (one of: {', '.join(BLK_KEYS)})")
        try:
            if key in ("num-queues", "queue-size", "block-size"):
                setattr(b, key.replace("-", "_"), int(val, 0))
            elif key in ("readonly", "discard", "write-zeroes"):
                setattr(b, key.replace("-", "_"), _on_off(key, val))
            elif key in ("props", "drive"):
                setattr(b, key, val.replace(":", ","))
            else:
                setattr(b, key, val)
        except ValueError:
            raise QemuError(f"blk {key}={val}: not a number") from None
    return b


def _qarg(text):
    """A value inside a QEMU option list: a comma is written twice."""
    return str(text).replace(",", ",,")


def _blk_args(d, blk, bus, extra):
    """-drive and -device for blk device d backed as blk (a Blk) says."""
    drive = [f"if=none,id={d.id}"]
    if blk.file and blk.blkdebug:
        # raw -> blkdebug -> file: the raw format's read_aio/write_aio events reach
        # blkdebug, which can then fail the request that follows.
        drive.append(f"driver=raw,file.driver=blkdebug,file.config={_qarg(blk.blkdebug)}"
                     f",file.image.driver=file,file.image.filename={_qarg(blk.file)}")
    elif blk.blkdebug:
        raise QemuError(f"{d.id}: blkdebug needs an image file")
    elif blk.file:
        drive.append(f"file={_qarg(blk.file)},format=raw")
    else:
        drive.append("driver=null-co,size=64M,read-zeroes=on")
    if blk.readonly:
        drive.append("readonly=on")
    if blk.discard:
        drive.append("discard=unmap")
    if blk.drive:
        drive.append(blk.drive)
    dev = [f"virtio-blk-device,drive={d.id}"]
    if blk.serial is not None:
        dev.append(f"serial={_qarg(blk.serial)}")
    if blk.num_queues is not None:
        dev.append(f"num-queues={blk.num_queues}")
    if blk.queue_size is not None:
        dev.append(f"queue-size={blk.queue_size}")
    if blk.discard is not None:
        dev.append(f"discard={'on' if blk.discard else 'off'}")
    if blk.write_zeroes is not None:
        dev.append(f"write-zeroes={'on' if blk.write_zeroes else 'off'}")
    if blk.block_size is not None:
        dev.append(f"logical_block_size={blk.block_size},physical_block_size={blk.block_size}")
    errors = blk.errors or ("report" if blk.blkdebug else None)
    if errors:
        dev.append(f"rerror={errors},werror={errors}")
    if blk.props:
        dev.append(blk.props)
    return ["-drive", ",".join(drive), "-device", ",".join(dev) + bus + extra]


def user_netdev(fwds=()):
    """A user-mode -netdev value (no id): restrict=on, TCP forwards bound to 127.0.0.1.

    fwds: (host port, guest port) pairs.
    """
    v = "user,restrict=on"
    for host, guest in fwds:
        v += f",hostfwd=tcp:127.0.0.1:{int(host)}-:{int(guest)}"
    return v


def parse_fwd(text):
    """HOSTPORT:GUESTPORT into a pair of ints."""
    host, sep, guest = text.partition(":")
    try:
        pair = (int(host), int(guest))
    except ValueError:
        raise QemuError(f"--net-fwd {text}: want HOSTPORT:GUESTPORT") from None
    if not sep or not all(0 < p < 65536 for p in pair):
        raise QemuError(f"--net-fwd {text}: want HOSTPORT:GUESTPORT")
    return pair


_LOOPBACK_KEYS = ("udp", "localaddr", "listen", "connect", "mcast")


def check_netdev(value):
    """Refuse a backend that would reach beyond loopback (tests and runs stay on the host)."""
    kind, _, rest = value.partition(",")
    opts = dict(o.partition("=")[::2] for o in rest.split(",") if o)
    if kind == "user":
        if opts.get("restrict") not in ("on", "yes", "y", "true"):
            raise QemuError(f"netdev {value}: user-mode net needs restrict=on")
        for key, val in opts.items():
            if key in ("hostfwd", "guestfwd") and not re.match(r"^(tcp|udp):127\.0\.0\.1:", val):
                raise QemuError(f"netdev {value}: {key} must bind 127.0.0.1")
        return value
    if kind == "vhost-user":
        # A Unix socket: nothing leaves the host.
        if not opts.get("path") or set(opts) - {"path", "queues"}:
            raise QemuError(f"netdev {value}: vhost-user takes path=SOCK and queues=N only")
        if "queues" in opts and not opts["queues"].isdigit():
            raise QemuError(f"netdev {value}: queues=N")
        return value
    if kind != "socket":
        raise QemuError(f"netdev {value}: only user, socket and vhost-user backends")
    for key in _LOOPBACK_KEYS:
        if key in opts and key != "mcast" and not opts[key].startswith("127.0.0.1:"):
            raise QemuError(f"netdev {value}: {key} must be 127.0.0.1:PORT")
    if "mcast" in opts or "fd" in opts:
        raise QemuError(f"netdev {value}: mcast and fd sockets are not used here")
    return value


def parse_devices(spec):
    """Parse a --devices list into [(kind, slot or None)]."""
    spec = (spec or "all").strip()
    if spec == "all":
        return [(k, None) for k in KINDS]
    if spec in ("none", ""):
        return []
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, at, slot = item.partition("@")
        if name not in KINDS:
            raise QemuError(f"unknown device '{name}' (one of: {', '.join(KINDS)}, all, none)")
        if at:
            try:
                n = int(slot, 0)
            except ValueError:
                raise QemuError(f"bad slot in '{item}'") from None
            out.append((name, n))
        else:
            out.append((name, None))
    return out


TRANSPORTS = ("mmio", "pci")
# PCI device numbers on the root bus: 0 is the host bridge itself.
PCI_ADDRS = range(1, 32)
# vio's table slot of a PCI function on bus 0 (boards/common/board.h BOARD_PCI_SLOT).
PCI_SLOT_BASE = 256


def pci_slot(addr, fn=0):
    """The table slot vio gives root-bus function addr.fn."""
    return PCI_SLOT_BASE + (addr << 3 | fn)


def _place(req, positions, free_order, what):
    """Pinned requests first, then free positions in free_order.

    Returns [(kind, index, position, pinned)] in list order.
    """
    if len(req) > len(positions):
        raise QemuError(f"{len(req)} devices: there are {len(positions)} {what}s")
    taken = set()
    for kind, pos in req:
        if pos is None:
            continue
        if pos not in positions:
            raise QemuError(f"{what} {pos} out of range {min(positions)}..{max(positions)}")
        if pos in taken:
            raise QemuError(f"{what} {pos} requested twice")
        taken.add(pos)
    free = [p for p in free_order if p not in taken]
    counts = {}
    out = []
    for kind, pos in req:
        idx = counts.get(kind, 0)
        counts[kind] = idx + 1
        pinned = pos is not None
        out.append((kind, idx, pos if pinned else free.pop(0), pinned))
    return out


def plan_devices(arch, spec, transport="mmio"):
    """Give every device of the list its slot, as QEMU will.

    virtio-mmio: pinned devices are placed first and the others take the
    highest slots left, in list order; build_command emits them in that
    order so QEMU agrees. PCI: pinned device numbers first, then the lowest
    free ones (each device gets an explicit addr=).
    """
    req = parse_devices(spec)
    if transport == "pci":
        placed = _place(req, PCI_ADDRS, list(PCI_ADDRS), "PCI device number")
        return [Device(k, i, pci_slot(p), pinned, f"{k}{i}", p) for k, i, p, pinned in placed]
    slots = range(ARCHES[arch].slots)
    placed = _place(req, slots, list(reversed(slots)), f"{arch} virtio-mmio slot")
    return [Device(k, i, p, pinned, f"{k}{i}") for k, i, p, pinned in placed]


def boot_image(firmware, suffix):
    """The file QEMU boots: FIRMWARE itself or its sibling with another suffix."""
    root, ext = os.path.splitext(firmware)
    if ext == suffix or not suffix:
        return firmware
    return root + suffix


# What each virtio interface asks of a virtio-pci device (4.1.2, 4.1.5).
PCI_IFACE_PROPS = {
    "modern": ",disable-legacy=on,disable-modern=off",
    "legacy": ",disable-legacy=off,disable-modern=on",
}


def _pci_name(name):
    """virtio-X-device (virtio-mmio) to virtio-X-pci."""
    return name[:-len("-device")] + "-pci"


def parse_pci_vectors(items):
    """--pci-vectors [ID=]N items into {ID or "*": N}."""
    out = {}
    for item in items or ():
        key, eq, val = item.rpartition("=")
        try:
            n = int(val, 0)
        except ValueError:
            raise QemuError(f"bad --pci-vectors '{item}' (want [ID=]N)") from None
        if n < 0 or n > 2048:
            raise QemuError(f"--pci-vectors {item}: MSI-X has 0..2048 vectors")
        out[key if eq else "*"] = n
    return out


def _device_args(d, rng_files, blks, console_sockets, net_backends, props, console_wait=False,
                 transport="mmio", virtio="legacy", pci_transitional=False, pci_vectors=None):
    args = _mmio_device_args(d, rng_files, blks, console_sockets, net_backends, props,
                             console_wait, transport, virtio)
    if transport != "pci":
        return args
    # The same devices as virtio-*-pci functions at the planned device number.
    out = list(args)
    vectors = (pci_vectors or {}).get(d.id, (pci_vectors or {}).get("*"))
    for i in range(len(out) - 1):
        if out[i] == "-device" and out[i + 1].startswith("virtio-"):
            name, _, rest = out[i + 1].partition(",")
            if name.endswith("-device"):
                out[i + 1] = (_pci_name(name) + (("," + rest) if rest else "")
                              + f",bus=pcie.0,addr={d.pci_addr}"
                              + ("" if pci_transitional else PCI_IFACE_PROPS[virtio])
                              + ("" if vectors is None else f",vectors={vectors}")
                              # no option ROM: the firmware boots without one
                              + ",romfile=")
    return out


def _mmio_device_args(d, rng_files, blks, console_sockets, net_backends, props, console_wait,
                      transport, virtio):
    bus = f",bus=virtio-mmio-bus.{d.slot}" if d.pinned and transport == "mmio" else ""
    extra = props.get(d.id, "")
    if extra and not extra.startswith(","):
        extra = "," + extra
    if d.kind == "rng":
        path = rng_files[d.index] if d.index < len(rng_files) else None
        if path:
            return ["-object", f"rng-random,id={d.id}src,filename={path}",
                    "-device", f"virtio-rng-device,rng={d.id}src{bus}{extra}"]
        return ["-device", f"virtio-rng-device{bus}{extra}"]
    if d.kind == "blk":
        blk = blks[d.index] if d.index < len(blks) else None
        return _blk_args(d, blk or Blk(), bus, extra)
    if d.kind == "net":
        backend = net_backends[d.index] if d.index < len(net_backends) else None
        backend = backend or "user,restrict=on"
        if backend.startswith("vhost-user,"):
            # The backend is the server: QEMU waits for the connection at start-up.
            opts = dict(o.partition("=")[::2] for o in backend.split(",")[1:] if o)
            netdev = f"vhost-user,id={d.id},chardev={d.id}chr"
            if "queues" in opts:
                netdev += f",queues={opts['queues']}"
            return ["-chardev", f"socket,id={d.id}chr,path={_qarg(opts['path'])}",
                    "-netdev", netdev,
                    "-device", f"virtio-net-device,netdev={d.id}{bus}{extra}"]
        return ["-netdev", f"{backend},id={d.id}",
                "-device", f"virtio-net-device,netdev={d.id}{bus}{extra}"]
    if d.kind == "console":
        path = console_sockets[d.index] if d.index < len(console_sockets) else None
        if path:
            wait = "on" if console_wait else "off"
            chardev = f"socket,id={d.id}chr,path={path},server=on,wait={wait}"
        else:
            chardev = f"null,id={d.id}chr"
        return ["-device", f"virtio-serial-device,id={d.id}{bus}{extra}",
                "-chardev", chardev,
                "-device", f"virtconsole,chardev={d.id}chr,bus={d.id}.0"]
    if d.kind == "gpu":
        return ["-device", f"virtio-gpu-device{bus}{extra}"]
    # keyboard, mouse, tablet
    return ["-device", f"virtio-{d.kind}-device{bus}{extra}"]


RINGS = ("split", "packed")

# QEMU's window front ends, in the order a GUI run tries them. Debian ships
# them in qemu-system-gui; without it `-display help` lists neither.
GUI_FRONT_ENDS = ("gtk", "sdl")


def gui_front_ends(qemu_binary):
    """The window front ends qemu_binary has, in GUI_FRONT_ENDS order."""
    try:
        out = subprocess.run([qemu_binary, "-display", "help"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    have = set(out.split())
    return [f for f in GUI_FRONT_ENDS if f in have]


def gui_front_end(arch, want, env=None):
    """The -display front end a run gets: None for headless.

    want: "none" (headless), "gui" (the first front end QEMU has; an error
    when it has none), "auto" (gui when a display server is there, i.e.
    $DISPLAY or $WAYLAND_DISPLAY is set, and QEMU has a front end; headless
    otherwise), or a front end by name.
    """
    env = os.environ if env is None else env
    if want in (None, "", "none"):
        return None
    if want == "auto" and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return None
    have = gui_front_ends(ARCHES[arch].qemu)
    if want in GUI_FRONT_ENDS:
        if want not in have:
            raise QemuError(f"{ARCHES[arch].qemu} has no '{want}' display "
                            "(Debian's qemu-system-gui package has it)")
        return want
    if want not in ("gui", "auto"):
        raise QemuError(f"unknown display '{want}' (none, gui, auto, {', '.join(GUI_FRONT_ENDS)})")
    if not have:
        if want == "auto":
            return None
        raise QemuError(f"{ARCHES[arch].qemu} has no window front end "
                        "(Debian's qemu-system-gui package has gtk and sdl)")
    return have[0]

# The library's probe line: "NAME: modern virtio-mmio at ADDR irq N, features ..."
_PROBE_LINE = re.compile(r"\b(\w+): (legacy|modern) virtio-(?:mmio|pci) at \S+ irq -?\d+, "
                         r"features ([^\r\n]*)")


def ring_problems(log, ring):
    """What in a guest's log says its devices did not get the ring layout asked for.

    Every device the library started prints its negotiated features; with
    ring "packed" each modern one must show RING_PACKED, with "split" none
    may. An empty log of probe lines is a problem too: nothing was checked.
    """
    found = _PROBE_LINE.findall(log)
    if not found:
        return ["no device probe line in the guest's log"]
    problems = []
    for name, iface, features in found:
        packed = "RING_PACKED" in features.split()
        if ring == "packed" and iface == "modern" and not packed:
            problems.append(f"{name}: packed ring asked for, not negotiated")
        if ring == "split" and packed:
            problems.append(f"{name}: RING_PACKED negotiated on a split-ring run")
    return problems


def build_command(arch, firmware, virtio="legacy", devices="all", extra=(), *,
                  boot_suffix=None, interactive=True, rng_files=(), blk_files=(),
                  blks=(), console_sockets=(), net_backends=(), props=None, qemu=None,
                  console_wait=False, ring="split", transport="mmio", pci_transitional=False,
                  pci_vectors=None, machine_opts=None, display=None):
    """Build QEMU's argument list for firmware and the device plan.

    arch: "riscv64" or "aarch64"; virtio: "legacy" or "modern"; devices: the
    --devices list; extra: more arguments (a list, or a string split like a
    shell). boot_suffix: ".elf"/".bin" (default per arch). interactive: the
    UART on stdio through -nographic (with QEMU's Ctrl-A keys) when true;
    -display none -serial stdio -monitor none (plain pipe, for tests) when
    false. rng_files / blk_files / console_sockets / net_backends: per-index
    backends of the n-th device of that kind (None or missing: the default
    backend); blks: per-index Blk for the n-th blk (wins over blk_files); a
    net backend is a -netdev value without the id
    ("socket,udp=127.0.0.1:A,localaddr=127.0.0.1:B", or
    "vhost-user,path=SOCK,queues=N": a chardev to the backend's Unix socket,
    and guest RAM becomes a shared memfd the backend maps). props: {device id:
    "prop=value,..."} appended to that -device. console_wait: QEMU waits for a
    client on each console socket before it starts the guest. ring: "split"
    (QEMU's default) or "packed": every virtio device offers
    VIRTIO_F_RING_PACKED (modern only). transport: "mmio" (the virtio-mmio
    slots) or "pci" (virtio-*-pci functions on the root bus, see
    --transport); pci_transitional: see --pci-transitional; pci_vectors:
    {device id or "*": MSI-X vectors} (see --pci-vectors); machine_opts:
    properties of the machine ("aia=aplic-imsic"). display: None or
    "none" (headless, as interactive says), or a window front end ("gtk",
    "sdl", see gui_front_end). Returns a Command.
    """
    if arch not in ARCHES:
        raise QemuError(f"unknown arch '{arch}' (riscv64 or aarch64)")
    if virtio not in ("legacy", "modern"):
        raise QemuError(f"unknown virtio interface '{virtio}' (legacy or modern)")
    if transport not in TRANSPORTS:
        raise QemuError(f"unknown transport '{transport}' (mmio or pci)")
    if pci_vectors and transport != "pci":
        raise QemuError("MSI-X vectors are a virtio-pci property (--transport pci)")
    a = ARCHES[arch]
    plan = plan_devices(arch, devices, transport)
    image = boot_image(firmware, boot_suffix if boot_suffix is not None else a.boot_suffix)

    argv = [qemu or a.qemu, *a.machine]
    if machine_opts:
        # Machine properties after the type: -M virt,aia=aplic-imsic.
        i = argv.index("-M") + 1
        argv[i] += "," + machine_opts
    if display not in (None, "none") + GUI_FRONT_ENDS:
        raise QemuError(f"unknown display '{display}' (none, {', '.join(GUI_FRONT_ENDS)})")
    if display in GUI_FRONT_ENDS:
        # A window shows the GPU's scanouts and sends keys and the pointer to
        # the input devices; the UART stays on stdio (with QEMU's Ctrl-A keys
        # when interactive, as -nographic has them).
        argv += ["-display", display]
        argv += ["-serial", "mon:stdio"] if interactive else ["-serial", "stdio", "-monitor", "none"]
    elif interactive:
        argv.append("-nographic")
    else:
        argv += ["-display", "none", "-serial", "stdio", "-monitor", "none"]
    if ring not in RINGS:
        raise QemuError(f"unknown ring layout '{ring}' (split or packed)")
    if ring == "packed" and virtio != "modern":
        raise QemuError("packed rings need the modern interface (VIRTIO_F_RING_PACKED is a 1.1 feature)")
    if virtio == "modern" and transport == "mmio":
        # 4.2: QEMU's virtio-mmio speaks version 1 unless told otherwise.
        argv += ["-global", "virtio-mmio.force-legacy=false"]
    if ring == "packed":
        # 2.8: the property sits on every virtio device's common base type.
        argv += ["-global", "virtio-device.packed=on"]
    # No default NIC ever: a net device is only what the plan lists.
    argv += ["-nic", "none"]
    argv += ["-kernel", image]
    props = props or {}
    blks = list(blks)
    for i, path in enumerate(blk_files):
        if path and (i >= len(blks) or blks[i] is None):
            blks += [None] * (i + 1 - len(blks))
            blks[i] = Blk(file=path)
    # Pinned devices first, so the unpinned ones find exactly the slots the plan gave them.
    for d in [d for d in plan if d.pinned] + [d for d in plan if not d.pinned]:
        argv += _device_args(d, list(rng_files), blks, list(console_sockets),
                             list(net_backends), props, console_wait, transport, virtio,
                             pci_transitional, pci_vectors)
    if any(b and b.startswith("vhost-user,") for b in net_backends):
        # vhost-user.rst: the backend maps guest RAM from the fds QEMU sends,
        # so RAM must be a shareable memfd of the machine's size.
        size = a.machine[a.machine.index("-m") + 1]
        argv += ["-object", f"memory-backend-memfd,id=ram,size={size},share=on",
                 "-machine", "memory-backend=ram"]
    if isinstance(extra, str):
        extra = shlex.split(extra)
    argv += list(extra or ())
    return Command(argv, plan, image)


def main(argv=None):
    p = argparse.ArgumentParser(prog="qemu.py", description="Boot a vio firmware on QEMU.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a firmware with the UART on this terminal")
    r.add_argument("--arch", default="riscv64", choices=sorted(ARCHES))
    r.add_argument("--virtio", default="legacy", choices=("legacy", "modern"))
    r.add_argument("--devices", default="all")
    r.add_argument("--extra", default="")
    r.add_argument("--boot-suffix", default=None)
    r.add_argument("--rng-file", action="append", default=[])
    r.add_argument("--blk-file", action="append", default=[])
    r.add_argument("--blk", action="append", default=[], metavar="SPEC")
    r.add_argument("--console-socket", action="append", default=[])
    r.add_argument("--net-fwd", action="append", default=[], metavar="HOSTPORT:GUESTPORT")
    r.add_argument("--netdev", action="append", default=[], metavar="BACKEND")
    r.add_argument("--console-wait", action="store_true")
    r.add_argument("--ring", default="split", choices=RINGS)
    r.add_argument("--transport", default="mmio", choices=TRANSPORTS)
    r.add_argument("--pci-transitional", action="store_true")
    r.add_argument("--pci-vectors", action="append", default=[], metavar="[ID=]N")
    r.add_argument("--machine-opts", default=None, metavar="PROPS")
    r.add_argument("--display", default="none",
                   choices=("none", "gui", "auto") + GUI_FRONT_ENDS)
    r.add_argument("--dry-run", action="store_true")
    r.add_argument("firmware")
    args = p.parse_args(argv)

    try:
        blks = [parse_blk(spec) for spec in args.blk]
        net_backends = [check_netdev(v) for v in args.netdev]
        if args.net_fwd:
            fwd = user_netdev([parse_fwd(f) for f in args.net_fwd])
            if net_backends:
                raise QemuError("--net-fwd and a first --netdev: say the forwards in it")
            net_backends = [fwd]
        display = gui_front_end(args.arch, args.display)
        cmd = build_command(args.arch, args.firmware, args.virtio, args.devices, args.extra,
                            boot_suffix=args.boot_suffix, rng_files=args.rng_file,
                            blk_files=args.blk_file, blks=blks,
                            console_sockets=args.console_socket, net_backends=net_backends,
                            console_wait=args.console_wait, ring=args.ring,
                            transport=args.transport,
                            pci_transitional=args.pci_transitional,
                            pci_vectors=parse_pci_vectors(args.pci_vectors),
                            machine_opts=args.machine_opts, display=display)
    except QemuError as e:
        sys.exit(f"qemu.py: {e}")
    if args.dry_run:
        for d in cmd.devices:
            print(f"# slot {d.slot}: {d.id}{' (pinned)' if d.pinned else ''}")
        print(shlex.join(cmd.argv))
        return 0
    if not os.path.exists(cmd.boot_image):
        sys.exit(f"qemu.py: {cmd.boot_image} not found (build it first)")
    print(f"qemu.py: {args.arch}, {args.virtio} virtio-{args.transport}, "
          + ", ".join(f"{d.id}@{d.slot}" for d in cmd.devices)
          + (f"; a {display} window shows the GPU and takes keys and the pointer"
             if display else "")
          + "; Ctrl-A X quits", file=sys.stderr)
    sys.stderr.flush()
    try:
        os.execvp(cmd.argv[0], cmd.argv)
    except OSError as e:
        sys.exit(f"qemu.py: cannot run {cmd.argv[0]}: {e}")


if __name__ == "__main__":
    sys.exit(main())
