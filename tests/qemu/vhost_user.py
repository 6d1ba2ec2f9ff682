# SPDX-License-Identifier: Apache-2.0
"""A vhost-user network backend for the QEMU tests: the data path of QEMU's virtio-net.

QEMU's socket and user-mode netdevs carry frames without the virtio-net
header, so a device behind them offers neither checksum offload nor more
than one queue pair. With `-netdev vhost-user` QEMU keeps the device's
configuration space and control queue but hands every receive and transmit
ring to a backend process over a Unix socket: this module. The backend maps
the guest's RAM (QEMU sends the memfd of `-object memory-backend-memfd,
share=on`), reads the driver's transmit rings and fills its receive rings
itself, so a test sees the virtio-net header of every frame and decides
what QEMU's device offers (QEMU ANDs its own offload bits with ours).

What is implemented of the vhost-user protocol (QEMU's
docs/interop/vhost-user.rst): the front-end messages QEMU 7.2's vhost-user
net client sends, with the MQ protocol feature only; split rings with
indirect descriptors and EVENT_IDX (2.7.5, 2.7.7, 2.7.10). Ring addresses in
SET_VRING_ADDR are QEMU's virtual addresses, descriptor addresses guest
physical ones: both are translated through the memory table.

Python 3 standard library only.
"""
import mmap
import os
import select
import socket
import struct
import threading
import time

# Front-end message types (vhost-user.rst, "Front-end message types").
GET_FEATURES = 1
SET_FEATURES = 2
SET_OWNER = 3
RESET_OWNER = 4
SET_MEM_TABLE = 5
SET_LOG_BASE = 6
SET_LOG_FD = 7
SET_VRING_NUM = 8
SET_VRING_ADDR = 9
SET_VRING_BASE = 10
GET_VRING_BASE = 11
SET_VRING_KICK = 12
SET_VRING_CALL = 13
SET_VRING_ERR = 14
GET_PROTOCOL_FEATURES = 15
SET_PROTOCOL_FEATURES = 16
GET_QUEUE_NUM = 17
SET_VRING_ENABLE = 18
SEND_RARP = 19
NET_SET_MTU = 20

NAMES = {v: k for k, v in globals().items() if k.isupper() and isinstance(v, int)}

HDR_VERSION = 0x1
HDR_REPLY = 0x4
HDR_NEED_REPLY = 0x8
VRING_NOFD = 0x100            # in the u64 of SET_VRING_KICK/CALL: no fd follows
VHOST_USER_F_PROTOCOL_FEATURES = 30
PROTOCOL_F_MQ = 0

# Virtio feature bits (VirtIO 1.2 sections 5.1.3 and 6).
F_CSUM = 0
F_GUEST_CSUM = 1
F_MTU = 3
F_MRG_RXBUF = 15
F_MQ = 22
F_ANY_LAYOUT = 27
F_INDIRECT_DESC = 28
F_EVENT_IDX = 29
F_VERSION_1 = 32

HDR_F_NEEDS_CSUM = 1
HDR_F_DATA_VALID = 2

DESC_F_NEXT = 1
DESC_F_WRITE = 2
DESC_F_INDIRECT = 4
AVAIL_F_NO_INTERRUPT = 1

# QEMU's virtio-net ANDs the bits of its vhost-user list (hw/net/vhost_net.c:
# ring features, VERSION_1, the offloads, MRG_RXBUF, MTU, MQ, GUEST_ANNOUNCE,
# ...) with these and keeps the rest its own (MAC, STATUS, the control
# queue's): seen on QEMU 7.2, a backend without MQ gets a device without
# it, and without GUEST_ANNOUNCE the guest is never asked to announce.
DEFAULT_FEATURES = (1 << F_VERSION_1 | 1 << F_ANY_LAYOUT | 1 << F_CSUM | 1 << F_GUEST_CSUM
                    | 1 << F_MRG_RXBUF | 1 << F_INDIRECT_DESC | 1 << F_EVENT_IDX)


class ProtocolError(Exception):
    pass


class Region:
    def __init__(self, gpa, size, uva, offset, fd):
        self.gpa, self.size, self.uva, self.offset = gpa, size, uva, offset
        # The fd covers offset + size bytes; the region starts at offset.
        self.map = mmap.mmap(fd, size + offset, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        os.close(fd)
        # The ring indices the driver and this backend share are read and
        # written whole (2.7.6, 2.7.8): struct.pack_into writes a "<H"
        # byte by byte, so a driver could read half an update. A 16-bit
        # memoryview item is one access.
        self.u16 = memoryview(self.map).cast("H")


class Ring:
    """One split virtqueue as the backend sees it (2.7)."""

    def __init__(self, index):
        self.index = index
        self.num = 0
        self.desc = self.avail = self.used = None   # (region, offset) of each part
        self.last_avail = 0
        self.kick = None
        self.call = None
        self.used_idx = None      # the used index as this backend last wrote it
        self.rx_seen = 0          # rx: the avail index the last delivery looked up to
        self.started = False      # a kick fd came: the ring runs (until GET_VRING_BASE)
        self.enabled = False      # SET_VRING_ENABLE (rings start disabled with PROTOCOL_FEATURES)


class Backend:
    """A vhost-user net backend on a Unix socket server at path, for queues pairs.

    on_tx(pair, hdr, frame) runs in the data thread for every frame the
    driver transmits: hdr is a dict of the virtio-net header's fields,
    frame the bytes after it (the data thread may change them in place, a
    bytearray). send(pair, frame, **hdr) queues a frame for receive queue
    pair; it is delivered when the driver has posted buffers for it, never
    dropped.
    """

    def __init__(self, path, queues=1, features=DEFAULT_FEATURES, on_tx=None, log=None):
        self.path = path
        self.queues = queues
        # MQ is on QEMU's list: a device with several pairs needs it from us.
        if queues > 1:
            features |= 1 << F_MQ
        self.offered = features | 1 << VHOST_USER_F_PROTOCOL_FEATURES
        self.features = 0
        self.protocol = 0
        self.on_tx = on_tx
        self.log = log or (lambda msg: None)
        self.regions = []
        self.rings = [Ring(i) for i in range(2 * queues)]
        # per receive pair: (flags, gso_type, csum_start, csum_offset, frame) waiting
        self.pending = [[] for _ in range(queues)]
        self.lock = threading.Condition()
        self.errors = []
        self.messages = []          # names of the messages received, in order
        self.enables = []           # (ring, on) as SET_VRING_ENABLE came
        self.delivered = [0] * queues
        self.pushes = 0             # used-ring updates
        self.unkicked = 0           # passes that found work without a kick
        self.transmitted = [0] * queues
        self.stop = threading.Event()
        self.wake_r, self.wake_w = os.pipe()
        if os.path.exists(path):
            os.unlink(path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.conn = None
        self.ctl_thread = threading.Thread(target=self._control, daemon=True)
        self.data_thread = threading.Thread(target=self._data, daemon=True)
        self.ctl_thread.start()
        self.data_thread.start()

    # ---------------------------------------------------------------- state

    @property
    def hdr_len(self):
        """5.1.6: 12 bytes with VERSION_1 or MRG_RXBUF, else the legacy 10."""
        if self.features & (1 << F_VERSION_1 | 1 << F_MRG_RXBUF):
            return 12
        return 10

    def has(self, bit):
        return bool(self.features >> bit & 1)

    def enabled_rings(self):
        with self.lock:
            return sorted(r.index for r in self.rings if r.enabled and r.started)

    def close(self):
        self.stop.set()
        os.write(self.wake_w, b"x")
        for s in (self.conn, self.server):
            if s:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        self.ctl_thread.join(2)
        self.data_thread.join(2)
        for r in self.rings:
            for fd in (r.kick, r.call):
                if fd is not None:
                    os.close(fd)
            r.kick = r.call = None
        os.close(self.wake_r)
        os.close(self.wake_w)
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def error(self, msg):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(msg)
        self.log(f"vhost-user: {msg}")

    # ---------------------------------------------------------- translation

    def _gpa(self, addr, n):
        for r in self.regions:
            if r.gpa <= addr and addr + n <= r.gpa + r.size:
                return r.map, r.offset + addr - r.gpa
        raise ProtocolError(f"guest address {addr:#x}+{n} outside the memory table")

    def _uva(self, addr):
        """(region, offset in its map) of QEMU's virtual address addr."""
        for r in self.regions:
            if r.uva <= addr < r.uva + r.size:
                return r, r.offset + addr - r.uva
        raise ProtocolError(f"QEMU address {addr:#x} outside the memory table")

    # ------------------------------------------------------ control channel

    def _recv_msg(self):
        fds = []
        msg, anc, _, _ = self.conn.recvmsg(12, socket.CMSG_SPACE(8 * 4))
        if not msg:
            return None
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(struct.unpack(f"{len(data) // 4}i", data[:len(data) // 4 * 4]))
        while len(msg) < 12:
            more = self.conn.recv(12 - len(msg))
            if not more:
                return None
            msg += more
        req, flags, size = struct.unpack("<III", msg)
        body = b""
        while len(body) < size:
            more = self.conn.recv(size - len(body))
            if not more:
                return None
            body += more
        return req, flags, body, fds

    def _reply(self, req, payload):
        self.conn.sendall(struct.pack("<III", req, HDR_VERSION | HDR_REPLY, len(payload)) + payload)

    def _control(self):
        try:
            self.conn, _ = self.server.accept()
        except OSError:
            return
        while not self.stop.is_set():
            try:
                m = self._recv_msg()
            except OSError:
                return
            if m is None:
                return
            req, flags, body, fds = m
            try:
                self._handle(req, body, fds)
            except (ProtocolError, struct.error, ValueError, OSError) as e:
                self.error(f"{NAMES.get(req, req)}: {e}")
            if flags & HDR_NEED_REPLY and req not in (GET_FEATURES, GET_PROTOCOL_FEATURES,
                                                     GET_QUEUE_NUM, GET_VRING_BASE):
                # Only with REPLY_ACK, which is not offered: QEMU never asks.
                self.error(f"{NAMES.get(req, req)}: NEED_REPLY without REPLY_ACK")

    def _ring(self, index):
        if index >= len(self.rings):
            raise ProtocolError(f"ring {index} beyond {len(self.rings)}")
        return self.rings[index]

    def _handle(self, req, body, fds):
        self.messages.append(NAMES.get(req, str(req)))
        u64 = lambda: struct.unpack_from("<Q", body)[0]  # noqa: E731
        if req == GET_FEATURES:
            self._reply(req, struct.pack("<Q", self.offered))
        elif req == SET_FEATURES:
            f = u64()
            if f & ~self.offered:
                raise ProtocolError(f"features {f:#x} beyond the offered {self.offered:#x}")
            with self.lock:
                self.features = f
        elif req == GET_PROTOCOL_FEATURES:
            self._reply(req, struct.pack("<Q", 1 << PROTOCOL_F_MQ))
        elif req == SET_PROTOCOL_FEATURES:
            self.protocol = u64()
        elif req == GET_QUEUE_NUM:
            self._reply(req, struct.pack("<Q", self.queues))
        elif req in (SET_OWNER, RESET_OWNER, SET_VRING_ERR, SEND_RARP, NET_SET_MTU):
            for fd in fds:
                os.close(fd)
        elif req == SET_MEM_TABLE:
            n, = struct.unpack_from("<I", body)
            if n != len(fds):
                raise ProtocolError(f"{n} regions, {len(fds)} fds")
            regions = []
            for i in range(n):
                gpa, size, uva, off = struct.unpack_from("<QQQQ", body, 8 + 32 * i)
                regions.append(Region(gpa, size, uva, off, fds[i]))
            with self.lock:
                self.regions = regions
        elif req == SET_VRING_NUM:
            i, num = struct.unpack_from("<II", body)
            self._ring(i).num = num
        elif req == SET_VRING_ADDR:
            i, _flags, desc, used, avail, _log = struct.unpack_from("<IIQQQQ", body)
            r = self._ring(i)
            with self.lock:
                r.desc, r.used, r.avail = self._uva(desc), self._uva(used), self._uva(avail)
                r.used_idx = None
        elif req == SET_VRING_BASE:
            i, base = struct.unpack_from("<II", body)
            self._ring(i).last_avail = base
        elif req == GET_VRING_BASE:
            i, _ = struct.unpack_from("<II", body)
            r = self._ring(i)
            with self.lock:
                r.started = False     # vhost-user.rst: GET_VRING_BASE stops the ring
                if r.kick is not None:
                    os.close(r.kick)
                    r.kick = None
            self._reply(req, struct.pack("<II", i, r.last_avail))
        elif req in (SET_VRING_KICK, SET_VRING_CALL):
            v = u64()
            r = self._ring(v & 0xff)
            fd = None if v & VRING_NOFD else (fds[0] if fds else None)
            with self.lock:
                if req == SET_VRING_KICK:
                    if r.kick is not None:
                        os.close(r.kick)
                    r.kick = fd
                    # vhost-user.rst: a ring starts when its kick fd comes;
                    # without PROTOCOL_FEATURES it is enabled then too.
                    r.started = True
                    if not self.has(VHOST_USER_F_PROTOCOL_FEATURES):
                        r.enabled = True
                else:
                    if r.call is not None:
                        os.close(r.call)
                    r.call = fd
            os.write(self.wake_w, b"k")
        elif req == SET_VRING_ENABLE:
            i, on = struct.unpack_from("<II", body)
            r = self._ring(i)
            with self.lock:
                r.enabled = bool(on)
                self.enables.append((i, bool(on)))
                self.lock.notify_all()
            os.write(self.wake_w, b"e")
        elif req in (SET_LOG_BASE, SET_LOG_FD):
            for fd in fds:
                os.close(fd)
            raise ProtocolError("dirty logging was not offered")
        else:
            for fd in fds:
                os.close(fd)
            raise ProtocolError(f"message {req} is not one this backend takes")

    # ------------------------------------------------------------ data path

    def send(self, pair, frame, flags=0, csum_start=0, csum_offset=0, gso_type=0):
        """Queue frame for the guest on receive queue pair pair, with these header fields."""
        with self.lock:
            self.pending[pair].append((flags, gso_type, csum_start, csum_offset, bytes(frame)))
        os.write(self.wake_w, b"s")

    def backlog(self):
        with self.lock:
            return sum(len(p) for p in self.pending)

    def _data(self):
        while not self.stop.is_set():
            with self.lock:
                fds = [r.kick for r in self.rings if r.kick is not None and r.started]
            try:
                ready, _, _ = select.select(fds + [self.wake_r], [], [], 0.02)
            except (OSError, ValueError):
                ready = []   # a kick fd closed under us: look again
            for fd in ready:
                try:
                    os.read(fd, 4096 if fd == self.wake_r else 8)
                except OSError:
                    pass
            if self.stop.is_set():
                return
            before = self.pushes
            try:
                with self.lock:
                    for r in self.rings:
                        if r.index % 2 and r.started and r.enabled and r.desc:
                            self._tx(r)
                    for q in range(self.queues):
                        r = self.rings[2 * q]
                        if self.pending[q] and r.started and r.enabled and r.desc:
                            self._rx(r, q)
            except ProtocolError as e:
                self.error(str(e))
                time.sleep(0.1)
            if not ready and self.pushes != before:
                # Work no kick announced: found by looking every 20 ms.
                self.unkicked += 1

    def _u16(self, part, off):
        """A 16-bit field of a ring part, in one access (the host is little-endian)."""
        region, base = part
        if (base + off) % 2:
            raise ProtocolError(f"misaligned ring field at {base + off:#x}")
        return region.u16[(base + off) // 2]

    def _set_u16(self, part, off, value):
        region, base = part
        region.u16[(base + off) // 2] = value & 0xffff

    def _chain(self, r, head):
        """The descriptors of the chain at head: [(addr, len, writable)]."""
        out = []
        region, base = r.desc
        table, size, i = region.map, r.num, head
        indirect = False
        for _ in range(r.num + 65536):
            if i >= size:
                raise ProtocolError(f"ring {r.index}: descriptor {i} beyond {size}")
            addr, ln, flags, nxt = struct.unpack_from("<QIHH", table, base + 16 * i)
            if flags & DESC_F_INDIRECT:
                # 2.7.5.3: a table of descriptors in one, never nested nor chained.
                if not self.has(F_INDIRECT_DESC) or indirect or flags & DESC_F_NEXT or out:
                    raise ProtocolError(f"ring {r.index}: indirect descriptor misused")
                if not ln or ln % 16:
                    raise ProtocolError(f"ring {r.index}: indirect table of {ln} bytes")
                table, base = self._gpa(addr, ln)
                size, i, indirect = ln // 16, 0, True
                continue
            out.append((addr, ln, bool(flags & DESC_F_WRITE)))
            if not flags & DESC_F_NEXT:
                return out
            i = nxt
        raise ProtocolError(f"ring {r.index}: descriptor chain loops")

    def _push_used(self, r, entries):
        """Add (id, len) entries to the used ring, then its index; interrupt unless suppressed."""
        region, base = r.used
        idx = self._u16(r.used, 2)
        if r.used_idx is not None and idx != r.used_idx:
            # The device is the used ring's only writer (2.7.8).
            self.error(f"ring {r.index}: used index {idx}, this backend wrote {r.used_idx}")
        for k, (head, ln) in enumerate(entries):
            struct.pack_into("<II", region.map, base + 4 + 8 * ((idx + k) % r.num), head, ln)
        # 2.7.8: the entries before the index (x86 keeps stores in order).
        self.pushes += 1
        r.used_idx = (idx + len(entries)) & 0xffff
        self._set_u16(r.used, 2, r.used_idx)
        if self.has(F_EVENT_IDX):
            # 2.7.10: interrupt when the new entries pass the driver's used_event.
            event = self._u16(r.avail, 4 + 2 * r.num)
            need = (r.used_idx - event - 1) & 0xffff < (r.used_idx - idx) & 0xffff
        else:
            need = not self._u16(r.avail, 0) & AVAIL_F_NO_INTERRUPT
        if need and r.call is not None:
            os.write(r.call, struct.pack("<Q", 1))

    def _want_kick(self, r, seen):
        """EVENT_IDX (2.7.10): ask for a kick when the driver makes available the
        buffer at avail index seen; True when it already did (look again)."""
        if not self.has(F_EVENT_IDX):
            return False
        self._set_u16(r.used, 4 + 8 * r.num, seen)
        return self._u16(r.avail, 2) != seen

    def _tx(self, r):
        while self._tx_batch(r) and self._want_kick(r, r.last_avail):
            pass

    def _tx_batch(self, r):
        """Take every frame made available; True when the ring is then empty."""
        pair = r.index // 2
        done = []
        while self._u16(r.avail, 2) != r.last_avail:
            head = self._u16(r.avail, 4 + 2 * (r.last_avail % r.num))
            r.last_avail = (r.last_avail + 1) & 0xffff
            data = bytearray()
            for addr, ln, w in self._chain(r, head):
                if w:
                    raise ProtocolError(f"ring {r.index}: device-writable descriptor on tx")
                m, off = self._gpa(addr, ln)
                data += m[off:off + ln]
            done.append((head, 0))
            hl = self.hdr_len
            if len(data) < hl:
                self.error(f"tx pair {pair}: {len(data)} bytes, shorter than the header")
                continue
            flags, gso, hdr_len, gso_size, start, offset = struct.unpack_from("<BBHHHH", data)
            hdr = {"flags": flags, "gso_type": gso, "hdr_len": hdr_len, "gso_size": gso_size,
                   "csum_start": start, "csum_offset": offset}
            self.transmitted[pair] += 1
            if self.on_tx:
                self.lock.release()
                try:
                    self.on_tx(pair, hdr, data[hl:])
                finally:
                    self.lock.acquire()
        if done:
            self._push_used(r, done)
        return True

    def _rx(self, r, pair):
        # Out of buffers with frames waiting: ask for a kick when more come.
        while not self._rx_batch(r, pair) and self._want_kick(r, r.rx_seen):
            pass

    def _rx_batch(self, r, pair):
        """Deliver what the posted buffers hold; True when every frame went."""
        hl = self.hdr_len
        mrg = self.has(F_MRG_RXBUF)
        entries = []
        while self.pending[pair]:
            flags, gso_type, start, offset, frame = self.pending[pair][0]
            need = hl + len(frame)
            # Take buffers (mergeable: as many as it needs; else one) before writing.
            avail_idx = r.rx_seen = self._u16(r.avail, 2)
            pos = r.last_avail
            bufs = []
            room = 0
            while room < need and pos != avail_idx and (mrg or not bufs):
                head = self._u16(r.avail, 4 + 2 * (pos % r.num))
                pos = (pos + 1) & 0xffff
                chain = self._chain(r, head)
                if any(not w for _, _, w in chain):
                    raise ProtocolError(f"ring {r.index}: device-readable descriptor on rx")
                bufs.append((head, chain))
                room += sum(ln for _, ln, _ in chain)
            if room < need:
                if not mrg and bufs:
                    raise ProtocolError(f"ring {r.index}: a {room}-byte buffer for a "
                                        f"{need}-byte frame without MRG_RXBUF")
                break   # wait for buffers
            hdr = struct.pack("<BBHHHH", flags, gso_type, 0, 0, start, offset)
            if hl == 12:
                hdr += struct.pack("<H", len(bufs))
            data = memoryview(hdr + frame)
            for head, chain in bufs:
                put = 0
                for addr, ln, _ in chain:
                    k = min(ln, len(data))
                    if k:
                        m, off = self._gpa(addr, k)
                        m[off:off + k] = data[:k]
                        data = data[k:]
                        put += k
                entries.append((head, put))
            r.last_avail = pos
            self.pending[pair].pop(0)
            self.delivered[pair] += 1
        if entries:
            self._push_used(r, entries)
        return not self.pending[pair]


def inet_sum(data, start=0):
    """Ones' complement sum of data (RFC 1071), not inverted."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    s = start + sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s
