/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-net benchmark firmware (run_net_bench.py). It brings vio up
 * and takes two net devices, told apart by the last byte of their MAC
 * address: 01 carries raw frames (a UDP socket netdev to a host program),
 * 02 carries lwIP (user-mode net, the host's iperf and a TCP sink through
 * two forwards). It
 * reads one command a line from the UART and answers with one line;
 * nothing is printed while a workload runs.
 *
 *   info
 *       INFO iface=<legacy|modern> mode=<irq|poll> event_idx=<0|1>
 *            indirect=<0|1> mrg_rxbuf=<0|1> hdr_len=<n> tx_queue=<n>
 *            rx_queue=<n> rx_buffers=<n>
 *
 *   tx <bytes> <count>
 *       send count broadcast frames of bytes (EtherType 0x88b5) with
 *       vio_net_queue (zero-copy, from a pool of frames as deep as the
 *       ring), one vio_net_kick per batch: each round queues until the
 *       ring is full or count is reached, kicks, then collects completions
 *       (vio_net_poll; when nothing came back, vio_service_wait).
 *       RES n=<frames> ns=<until the last completion> kicks= irqs=
 *           busy=<VIO_EBUSY answers> q=<ns in vio_net_queue> k=<ns in
 *           vio_net_kick> w=<ns collecting completions and waiting>
 *           (clock reads once per batch)
 *
 *   bare <bytes> <count>
 *       the same with vio's virtqueue functions alone on the transmit
 *       queue, polled: header and frame in one descriptor, vio_vq_enqueue
 *       until the ring is full, one vio_vq_kick, vio_vq_dequeue of what
 *       came back (spinning on vio_vq_has_used). The floor of the driver.
 *       Adds e= k= s= d= (enqueue, kick, spin, dequeue), per batch.
 *
 *   rx <count> <idle_ms> [settle_ms]
 *       prints "RX READY", then counts frames of EtherType 0x88b5 (the rx
 *       callback gives each buffer back at once) until count came or none
 *       came for idle_ms. RES n=<frames> ns=<first to last frame>
 *       drops=<the driver's rx_drops during it> kicks= irqs=
 *       With settle_ms, it first waits that long without looking at the
 *       device, so that frames the host sent meanwhile are in the ring
 *       when it starts: the instruction counts (count_net_insns.py) then
 *       hold the frames' work and no spinning for frames still on the way.
 *
 *   barerx <count> <idle_ms> [settle_ms]
 *       the receive floor with vio's virtqueue functions alone on the
 *       driver's receive queue, polled: spin on vio_vq_has_used, take each
 *       buffer with vio_vq_dequeue, count the frames of EtherType 0x88b5,
 *       give each buffer back to the ring at once with vio_vq_enqueue (the
 *       same buffer and cookie the driver had posted, so the driver finds
 *       its ring as it left it), one vio_vq_kick per batch. The driver's
 *       buffers are recognised by the first rx runs (each frame's first
 *       buffer starts hdr_len before its data); until every one was seen,
 *       ERR. Same answer as rx.
 *
 *   iperf
 *       starts lwIP's iperf 2 TCP server (lwiperf, port 5001) on the lwIP
 *       device (10.0.2.15/24); lwIP then runs whenever the firmware waits
 *       for a command. Each finished session prints
 *       "IPERF bytes=<n> ms=<n> kbits=<n>" when the next command comes.
 *       RES iperf=on
 *
 *   source
 *       starts a TCP source on port 5002 of the lwIP device (tcp_source.c):
 *       every connection gets zeros as fast as lwIP sends them until the
 *       peer closes (the guest → host workload; the host measures).
 *       RES source=on acked=<bytes the peers acknowledged so far>
 *
 *   stats
 *       STATS of the lwIP device: the driver's counters (rx=, rx_drops=,
 *       tx=, tx_busy=), the adapter's (no_pbuf=, tx_retry=, tx_copied=,
 *       tx_drops=), interrupts and notifications (irqs=, kicks=)
 *
 *   quit
 *       leaves QEMU with status 0.
 *
 * bench_mark() runs just before and just after each workload; the
 * instruction-counting plugin (bench/insn_plugin.c) snapshots its counters
 * there.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/io.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>

#include "vio_config.h"
#if CONFIG_VIO_DRIVER_NET
#include <vio/net.h>

#include "lwip/apps/lwiperf.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/sys.h"
#include "tcp_source.h"
#include "vio_netif.h"
#endif

#include "app.h"
#include "board.h"

#define ETHERTYPE 0x88b5u
#define FRAME_MAX 1514u
#define HDR_MAX 12u
#define POOL_MAX 1024u          /* frames of the transmit pool (at most the ring) */
#define NS_PER_MS 1000000ull
#define TIMEOUT_NS (10ull * 1000000000ull)
#define SOURCE_PORT 5002u       /* the TCP source (tcp_source.c), guest → host */

#if CONFIG_VIO_DRIVER_NET

static struct vio_device *fdev;   /* raw frames */
static struct vio_device *tdev;   /* lwIP */
static struct vio_net_info finfo;
static uint8_t *pool;             /* POOL_MAX frames of FRAME_MAX + HDR_MAX bytes */
static unsigned pool_n;
static struct vio_netif vnif;
static bool lwip_on, iperf_on, source_on;

/* lwIP's clock (NO_SYS). */
u32_t sys_now(void)
{
	return (u32_t)(board_time_ns() / NS_PER_MS);
}

void vio_lwip_assert(const char *msg, int line, const char *file)
{
	printf("lwIP assertion \"%s\" failed at line %d in %s\n", msg, line, file);
	board_exit(1);
}

/* The instruction-counting plugin snapshots its counters each time this runs. */
void bench_mark(unsigned tag);
__attribute__((noinline)) void bench_mark(unsigned tag)
{
	__asm__ volatile("" : : "r"(tag) : "memory");
}

static uint64_t now(void)
{
	return board_time_ns();
}

static uint8_t *slot(unsigned i)
{
	return pool + (size_t)i * (FRAME_MAX + HDR_MAX);
}

/* Frame i of the pool at its header's offset (hdr bytes in front of it are free). */
static void fill_frames(unsigned hdr, uint32_t bytes)
{
	for (unsigned i = 0; i < pool_n; i++) {
		uint8_t *f = slot(i) + hdr;

		memset(slot(i), 0, hdr);
		memset(f, 0xff, 6);
		memcpy(f + 6, finfo.mac, 6);
		f[12] = ETHERTYPE >> 8;
		f[13] = ETHERTYPE & 0xff;
		memset(f + 14, (int)(i & 0xff), bytes - 14);
	}
}

static struct {
	uint32_t done, rx, busy;
	uint64_t first, last;
	bool counting;
	uint64_t phase[4];       /* ns per step of a transmit run, all frames */
	const char *names[4];
} st;

static void on_tx_done(struct vio_device *dev, void *cookie, int result, void *arg)
{
	(void)dev;
	(void)cookie;
	(void)arg;
	if (result == 0)
		st.done++;
}

/*
 * The driver's receive buffers, by cookie (the struct vio_net_rxbuf the
 * driver posted): where each starts, learned from the frames it hands
 * over, for the bare receive loop (open addressing on the pointer).
 */
#define RX_KNOWN_SLOTS 1024u
static struct {
	const struct vio_net_rxbuf *b;
	uint8_t *mem;
} rx_known[RX_KNOWN_SLOTS];
static unsigned rx_nknown;
static bool rx_learning = true;

static unsigned known_slot(const struct vio_net_rxbuf *b)
{
	unsigned i = (unsigned)(((uintptr_t)b >> 4) * 2654435761u) & (RX_KNOWN_SLOTS - 1);

	while (rx_known[i].b && rx_known[i].b != b)
		i = (i + 1) & (RX_KNOWN_SLOTS - 1);
	return i;
}

static void learn(const struct vio_net_rxbuf *b)
{
	unsigned i = known_slot(b);

	if (rx_known[i].b)
		return;
	rx_known[i].b = b;
	rx_known[i].mem = b->data - finfo.hdr_len;
	if (++rx_nknown >= CONFIG_VIO_NET_RX_BUFFERS)
		rx_learning = false; /* every buffer seen: nothing more to do per frame */
}

static void on_rx(struct vio_device *dev, const struct vio_net_frame *frame, void *arg)
{
	struct vio_net_rxbuf *b = frame->bufs, *next;

	(void)arg;
	if (rx_learning && !b->next)
		learn(b);
	if (st.counting && frame->len >= 14 && b->len >= 14 && b->data[12] == (ETHERTYPE >> 8) &&
	    b->data[13] == (ETHERTYPE & 0xff)) {
		st.last = now();
		if (!st.rx)
			st.first = st.last;
		st.rx++;
	}
	for (; b; b = next) {
		next = b->next;
		vio_net_rx_release(dev, b);
	}
}

static const struct vio_net_ops ops = { .rx = on_rx, .tx_done = on_tx_done };

static int run_tx(uint32_t bytes, uint32_t count, uint64_t *ns)
{
	struct vio_sg sg;
	uint32_t queued = 0;
	unsigned next = 0;
	uint64_t t0, deadline;
	int rc = 0;

	fill_frames(0, bytes);
	memset(&st, 0, sizeof(st));
	sg.len = bytes;
	t0 = now();
	deadline = t0 + TIMEOUT_NS;
	st.names[0] = "q";
	st.names[1] = "k";
	st.names[2] = "w";
	bench_mark(1);
	while (st.done < count) {
		uint32_t before = st.done;
		uint64_t t1 = now(), t2;

		/* Pool slots are reused in order: slot next is free once queued - done < pool_n. */
		while (queued < count && queued - st.done < pool_n) {
			sg.buf = slot(next);
			rc = vio_net_queue(fdev, 0, &sg, 1, NULL, sg.buf);
			if (rc == VIO_EBUSY) {
				st.busy++;
				break;
			}
			if (rc)
				return rc;
			queued++;
			next = next + 1 == pool_n ? 0 : next + 1;
		}
		t2 = now();
		st.phase[0] += t2 - t1;
		vio_net_kick(fdev, 0);
		t1 = now();
		st.phase[1] += t1 - t2;
		vio_net_poll(fdev);
		if (st.done == before) {
			if (t1 > deadline)
				return VIO_ETIMEDOUT;
			if (vio_dev_uses_irq(fdev)) {
				(void)vio_service_wait(NS_PER_MS);
				(void)vio_service();
			}
		}
		st.phase[2] += now() - t1;
	}
	*ns = now() - t0;
	bench_mark(2);
	return 0;
}

static int run_bare(uint32_t bytes, uint32_t count, uint64_t *ns)
{
	struct vio_vq *vq = vio_dev_vq(fdev, 1);
	unsigned hdr = finfo.hdr_len, next = 0;
	uint32_t queued = 0, done = 0;
	bool irq_was_off = !vio_dev_uses_irq(fdev);
	uint64_t t0, deadline;
	int rc = 0;

	if (vio_vq_in_flight(vq))
		return VIO_EBUSY;
	fill_frames(hdr, bytes);
	if (!irq_was_off)
		vio_vq_disable_irq(vq);
	memset(&st, 0, sizeof(st));
	st.names[0] = "e";
	st.names[1] = "k";
	st.names[2] = "s";
	st.names[3] = "d";
	bench_mark(1);
	t0 = now();
	deadline = t0 + TIMEOUT_NS;
	while (done < count && !rc) {
		uint64_t t1 = now(), t2;

		while (queued < count && queued - done < pool_n) {
			struct vio_sg sg = { slot(next), hdr + bytes };

			if (vio_vq_enqueue(vq, &sg, 1, 0, sg.buf))
				break;
			queued++;
			next = next + 1 == pool_n ? 0 : next + 1;
		}
		t2 = now();
		st.phase[0] += t2 - t1;
		vio_vq_kick(vq);
		t1 = now();
		st.phase[1] += t1 - t2;
		while (!vio_vq_has_used(vq))
			if (now() > deadline) {
				rc = VIO_ETIMEDOUT;
				break;
			}
		t2 = now();
		st.phase[2] += t2 - t1;
		for (;;) {
			void *cookie;
			uint32_t len;
			int r = vio_vq_dequeue(vq, &cookie, &len);

			if (r == VIO_EAGAIN)
				break;
			if (r) {
				rc = r;
				break;
			}
			done++;
		}
		st.phase[3] += now() - t2;
	}
	*ns = now() - t0;
	bench_mark(2);
	if (!irq_was_off)
		(void)vio_vq_enable_irq(vq);
	return rc;
}

/*
 * Receive starts: wait settle_ms without looking at the device (frames the
 * host sends meanwhile land in the ring), then the counting plugin's mark.
 */
static void settle_then_mark(uint32_t settle_ms)
{
	uint64_t start = now();

	while (now() - start < (uint64_t)settle_ms * NS_PER_MS)
		;
	bench_mark(1);
}

static int run_rx(uint32_t count, uint32_t idle_ms, uint32_t settle_ms, uint64_t *ns)
{
	uint64_t idle = (uint64_t)idle_ms * NS_PER_MS, start;

	memset(&st, 0, sizeof(st));
	vio_net_poll(fdev); /* anything that waited is not counted */
	st.counting = true;
	printf("RX READY\n");
	settle_then_mark(settle_ms);
	start = now();
	while (st.rx < count) {
		uint64_t t = now(), since = st.rx ? st.last : start;
		uint64_t limit = st.rx ? idle : 30000 * NS_PER_MS;

		if (t - since > limit)
			break;
		if (vio_dev_uses_irq(fdev)) {
			(void)vio_service_wait(NS_PER_MS);
			(void)vio_service();
		} else {
			vio_net_poll(fdev);
		}
	}
	bench_mark(2);
	st.counting = false;
	*ns = st.rx ? st.last - st.first : 0;
	return 0;
}

/* The receive floor: vio's virtqueue functions alone (barerx above). */
static int run_bare_rx(uint32_t count, uint32_t idle_ms, uint32_t settle_ms, uint64_t *ns)
{
	struct vio_vq *vq = vio_dev_vq(fdev, 0);
	uint64_t idle = (uint64_t)idle_ms * NS_PER_MS, start;
	uint32_t hdr = finfo.hdr_len, len = finfo.hdr_len + finfo.rx_buffer_size;
	bool irq_was_off = !vio_dev_uses_irq(fdev);
	int rc = 0;

	if (rx_nknown < CONFIG_VIO_NET_RX_BUFFERS) {
		printf("NOTE barerx: %u of %u receive buffers seen; run rx first\n",
		       rx_nknown, (unsigned)CONFIG_VIO_NET_RX_BUFFERS);
		return VIO_EAGAIN;
	}
	memset(&st, 0, sizeof(st));
	vio_net_poll(fdev); /* anything that waited is not counted */
	if (!irq_was_off)
		vio_vq_disable_irq(vq);
	printf("RX READY\n");
	settle_then_mark(settle_ms);
	start = now();
	while (st.rx < count && !rc) {
		uint64_t t;

		if (!vio_vq_has_used(vq)) {
			t = now();
			if (t - (st.rx ? st.last : start) > (st.rx ? idle : 30000 * NS_PER_MS))
				break;
			continue;
		}
		t = now();
		for (;;) {
			void *cookie;
			uint32_t used;
			struct vio_sg sg;
			uint8_t *f;
			unsigned i;
			int r = vio_vq_dequeue(vq, &cookie, &used);

			if (r == VIO_EAGAIN)
				break;
			i = r ? 0 : known_slot(cookie);
			if (r || !rx_known[i].b) {
				rc = r ? r : VIO_EPROTO;
				break;
			}
			f = rx_known[i].mem;
			if (used >= hdr + 14 && f[hdr + 12] == (ETHERTYPE >> 8) &&
			    f[hdr + 13] == (ETHERTYPE & 0xff)) {
				if (!st.rx)
					st.first = t;
				st.last = t;
				st.rx++;
			}
			/* 5.1.6.3: the same buffer, whole, device-writable, as the driver posted it. */
			sg.buf = f;
			sg.len = len;
			rc = vio_vq_enqueue(vq, &sg, 0, 1, cookie);
			if (rc)
				break;
		}
		vio_vq_kick(vq);
	}
	bench_mark(2);
	if (!irq_was_off)
		(void)vio_vq_enable_irq(vq);
	*ns = st.rx ? st.last - st.first : 0;
	return rc;
}

static void iperf_report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
			 u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port,
			 u32_t bytes, u32_t ms, u32_t kbits)
{
	(void)arg;
	(void)type;
	(void)local_addr;
	(void)local_port;
	(void)remote_addr;
	(void)remote_port;
	printf("IPERF bytes=%lu ms=%lu kbits=%lu\n", (unsigned long)bytes, (unsigned long)ms,
	       (unsigned long)kbits);
}

/* The lwIP device up on 10.0.2.15/24 (QEMU's user-mode net), once. */
static int lwip_up(void)
{
	ip4_addr_t ip, mask, gw;

	if (lwip_on)
		return 0;
	if (!tdev)
		return VIO_ENODEV;
	if (vio_netif_add(&vnif, tdev, "vio") != 0)
		return VIO_EIO;
	netif_set_default(vio_netif_netif(&vnif));
	IP4_ADDR(&ip, 10, 0, 2, 15);
	IP4_ADDR(&mask, 255, 255, 255, 0);
	IP4_ADDR(&gw, 10, 0, 2, 2);
	netif_set_addr(vio_netif_netif(&vnif), &ip, &mask, &gw);
	/*
	 * User-mode net learns the guest's MAC from its traffic and sends
	 * nothing to a guest it has not heard from: ask for the gateway's.
	 */
	(void)etharp_request(vio_netif_netif(&vnif), &gw);
	lwip_on = true;
	return 0;
}

static int iperf_start(void)
{
	return lwiperf_start_tcp_server_default(iperf_report, NULL) ? 0 : VIO_ENOMEM;
}

static int source_start(void)
{
	return tcp_source_start(SOURCE_PORT);
}

/* A service on the lwIP device, started once: later calls find it running. */
static int start_once(bool *on, int (*start)(void))
{
	int rc = lwip_up();

	if (rc || *on)
		return rc;
	rc = start();
	*on = rc == 0;
	return rc;
}

static void cmd_info(void)
{
	printf("INFO iface=%s mode=%s event_idx=%d indirect=%d mrg_rxbuf=%d hdr_len=%u "
	       "tx_queue=%u rx_queue=%u tcp=%d\n", vio_dev_interface(fdev),
	       vio_dev_uses_irq(fdev) ? "irq" : "poll", vio_dev_has(fdev, VIRTIO_RING_F_EVENT_IDX),
	       vio_dev_has(fdev, VIRTIO_RING_F_INDIRECT_DESC), finfo.mrg_rxbuf, finfo.hdr_len,
	       finfo.tx_queue_size, finfo.rx_queue_size, tdev != NULL);
}

static void cmd_run(char *line)
{
	char *kind = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, " ");
	char *c = strtok(NULL, " ");
	struct vio_net_stats s0, s1;
	uint32_t x, y, irq0, kick0;
	uint64_t ns = 0;
	int rc;

	if (!kind || !a || !b) {
		printf("ERR usage: tx|bare <bytes> <count> | rx|barerx <count> <idle_ms> [settle_ms]\n");
		return;
	}
	x = (uint32_t)strtoul(a, NULL, 0);
	y = (uint32_t)strtoul(b, NULL, 0);
	if (strcmp(kind, "rx") && strcmp(kind, "barerx") && (x < 60 || x > FRAME_MAX || x > finfo.mtu + 14u || !y)) {
		printf("ERR bad arguments\n");
		return;
	}
	(void)vio_net_get_stats(fdev, &s0);
	irq0 = fdev->irq_count;
	kick0 = fdev->notify_count;
	if (strcmp(kind, "tx") == 0)
		rc = run_tx(x, y, &ns);
	else if (strcmp(kind, "bare") == 0)
		rc = run_bare(x, y, &ns);
	else if (strcmp(kind, "rx") == 0)
		rc = run_rx(x, y, c ? (uint32_t)strtoul(c, NULL, 0) : 0, &ns);
	else if (strcmp(kind, "barerx") == 0)
		rc = run_bare_rx(x, y, c ? (uint32_t)strtoul(c, NULL, 0) : 0, &ns);
	else
		rc = VIO_EINVAL;
	(void)vio_net_get_stats(fdev, &s1);
	if (rc) {
		printf("ERR %s: %s\n", kind, vio_strerror(rc));
		return;
	}
	printf("RES kind=%s n=%lu ns=%llu kicks=%u irqs=%u busy=%lu drops=%llu", kind,
	       (unsigned long)(strcmp(kind, "rx") && strcmp(kind, "barerx") ? y : st.rx), (unsigned long long)ns,
	       fdev->notify_count - kick0, fdev->irq_count - irq0, (unsigned long)st.busy,
	       (unsigned long long)(s1.rx_drops - s0.rx_drops));
	for (unsigned i = 0; i < 4; i++)
		if (st.names[i])
			printf(" %s=%llu", st.names[i], (unsigned long long)st.phase[i]);
	printf("\n");
}

/*
 * One line from the console, without echo; lwIP runs meanwhile once
 * started (stdio's getchar would wait for the UART without it).
 */
static void read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = board_console_getc();

		if (c < 0) {
			if (lwip_on) {
				uint64_t wait = vio_lwip_next_timeout_ns();

				vio_lwip_poll();
				(void)vio_service_wait(wait < NS_PER_MS ? wait : NS_PER_MS);
			} else {
				/* As stdio's wait: a nap, the UART does not interrupt. */
				uintptr_t irq = board_irq_save();

				board_idle_until(board_time_ns() + NS_PER_MS);
				board_irq_restore(irq);
			}
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (n == 0)
				continue;
			break;
		}
		if (n + 1 < size)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
}

static int setup(void)
{
	const struct vio_port *port = vio_port();
	struct vio_net_info inf;
	struct vio_device *d;

	for (unsigned i = 0; (d = vio_dev_find(VIRTIO_ID_NET, i)) != NULL; i++) {
		if (d->state != VIO_DEV_READY || vio_net_get_info(d, &inf))
			continue;
		if (inf.mac[5] == 2) {
			tdev = d;
		} else if (!fdev) {
			fdev = d;
			finfo = inf;
		}
	}
	if (!fdev) {
		printf("ERR no virtio-net device for frames\n");
		return VIO_ENODEV;
	}
	pool_n = finfo.tx_queue_size < POOL_MAX ? finfo.tx_queue_size : POOL_MAX;
	pool = port->dma_alloc(port->ctx, (size_t)POOL_MAX * (FRAME_MAX + HDR_MAX), 64);
	if (!pool) {
		printf("ERR out of DMA memory\n");
		return VIO_ENOMEM;
	}
	lwip_init();
	return vio_net_set_ops(fdev, &ops, NULL);
}

int main(void)
{
	char line[128];

	app_vio_start();
	if (setup())
		board_exit(1);
	printf("BENCH READY %s\n", board_info()->name);
	for (;;) {
		read_line(line, sizeof(line));
		if (strcmp(line, "info") == 0) {
			cmd_info();
		} else if (strcmp(line, "iperf") == 0) {
			int rc = start_once(&iperf_on, iperf_start);

			if (rc)
				printf("ERR iperf: %s\n", vio_strerror(rc));
			else
				printf("RES iperf=on\n");
		} else if (strcmp(line, "source") == 0) {
			int rc = start_once(&source_on, source_start);

			if (rc)
				printf("ERR source: %s\n", vio_strerror(rc));
			else
				printf("RES source=on acked=%llu\n",
				       (unsigned long long)tcp_source_acked());
		} else if (strncmp(line, "tx ", 3) == 0 || strncmp(line, "rx ", 3) == 0 ||
			   strncmp(line, "bare ", 5) == 0 || strncmp(line, "barerx ", 7) == 0) {
			cmd_run(line);
		} else if (strcmp(line, "stats") == 0) {
			struct vio_net_stats ns = { 0 };

			if (tdev)
				(void)vio_net_get_stats(tdev, &ns);
			printf("STATS rx=%llu rx_drops=%llu tx=%llu tx_busy=%llu no_pbuf=%lu tx_retry=%lu "
			       "tx_copied=%lu tx_drops=%lu irqs=%u kicks=%u\n",
			       (unsigned long long)ns.rx_frames, (unsigned long long)ns.rx_drops,
			       (unsigned long long)ns.tx_frames, (unsigned long long)ns.tx_busy,
			       (unsigned long)vnif.stats.rx_no_pbuf, (unsigned long)vnif.stats.tx_busy_retry,
			       (unsigned long)vnif.stats.tx_copied, (unsigned long)vnif.stats.tx_drops,
			       tdev ? tdev->irq_count : 0, tdev ? tdev->notify_count : 0);
		} else if (strcmp(line, "quit") == 0) {
			board_exit(0);
		} else {
			printf("ERR unknown command '%s'\n", line);
		}
	}
}

#else /* !CONFIG_VIO_DRIVER_NET */

int main(void)
{
	printf("ERR this build has no virtio-net driver (CONFIG_VIO_DRIVER_NET)\n");
	board_exit(1);
}

#endif
