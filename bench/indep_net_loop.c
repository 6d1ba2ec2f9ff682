/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The independent net loop: a virtio-net frame sender and receiver that
 * shares no code with vio, the floor of the net benchmark
 * (run_net_bench.py) as indep_loop.c is the block benchmark's. Its device
 * access (indep_virtio.c, indep_virtio_pci.c) and its rings (indep_ring.h,
 * and the split ring's use here) are the benchmarks' own, written from the
 * VirtIO 1.2 specification, its descriptors by hand; only the board layer
 * (console, clock, memory, the PCI bus's enumeration) is the project's.
 * Polled: nothing interrupts it.
 *
 * It takes the net device whose MAC ends in 01, on virtio-mmio (legacy or
 * modern) or as a virtio-pci function (modern, or a transitional one's
 * legacy interface), negotiates only
 * VIRTIO_NET_F_MAC, VIRTIO_F_EVENT_IDX, (modern) VIRTIO_F_VERSION_1 and
 * VIRTIO_F_RING_PACKED when the device offers it, so the header is 10
 * bytes (legacy) or 12 (modern) and every frame is one descriptor: in a
 * split ring descriptor i always holds buffer i, header and frame
 * together; in a packed ring the descriptor at each position names its
 * buffer by id.
 *
 *   info
 *       INFO iface=<legacy|modern> mode=indep transport=<mmio|pci>
 *            ring=<split|packed> event_idx=<0|1> hdr_len=<n> tx_queue=<n>
 *            rx_queue=<n>
 *
 *   tx <bytes> <count>   (also: poll <bytes> <count>)
 *       keep the transmit ring full with broadcast frames of bytes
 *       (EtherType 0x88b5) until count were sent: each round fills the
 *       free entries, publishes and notifies once (if the device asks),
 *       spins until the used index moves and takes every used entry.
 *       RES kind=tx n=<frames> ns=<elapsed> kicks=<notifications> irqs=0
 *           e=<ns filling the ring> k=<ns publishing, notifying>
 *           s=<ns spinning and taking the used entries> (per batch)
 *
 *   rx <count> <idle_ms> [settle_ms]
 *       every receive buffer posted; prints "RX READY", then spins on the
 *       used index, counts frames of EtherType 0x88b5 and re-posts each
 *       buffer (one notification per batch, if the device asks) until
 *       count came or none for idle_ms. With settle_ms it first waits that
 *       long without looking at the ring (frames the host sent meanwhile
 *       are then in it, for the instruction counts).
 *       RES kind=rx n=<frames> ns=<first to last> kicks=<n> irqs=0 drops=0
 *
 *   quit
 *       leaves QEMU with status 0.
 *
 * bench_mark() runs just before and just after each workload, for the
 * instruction-counting plugin (bench/insn_plugin.c).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "indep_common.h"
#include "indep_ring.h"
#include "indep_virtio.h"

#define ID_NET 1u
#define F_NET_MAC 5u /* 5.1.3 */

#define QSIZE INDEP_QSIZE
#define BUF_BYTES 1536u           /* one buffer: header and a 1514-byte frame */
#define FRAME_MAX 1514u
#define ETHERTYPE 0x88b5u
#define TIMEOUT_NS (10ull * 1000000000ull)
#define NS_PER_MS 1000000ull

/*
 * One queue: its ring, its buffers (split: buffer i belongs to descriptor
 * i; packed: the descriptor's id names its buffer), where to notify it.
 */
struct q {
	unsigned index;
	uint8_t *bufs;
	uintptr_t notify_at;
	/* split */
	struct desc *desc;
	struct avail *avail;
	struct used *used;
	uint16_t avail_idx, kicked_idx, last_used, used_seen;
	/* packed */
	struct packed pr;
};

static struct indep_dev dev;
static bool event_idx, packed;
static unsigned hdr_len;
static uint8_t mac[6];
static struct q rxq = { .index = 0 }, txq = { .index = 1 };
static uint32_t kicks;
static uint64_t ph_fill, ph_kick, ph_spin; /* ns per step of a transmit run */

/* The queue's index written to its notification address. */
static inline void notify(const struct q *q)
{
	io_wmb();
	indep_notify(&dev, q->notify_at, q->index);
	kicks++;
}

static int queue_init(struct q *q)
{
	uint8_t *ring = indep_dma_zalloc(packed ? PACKED_BYTES : SPLIT_BYTES, 4096);

	q->bufs = indep_dma_zalloc((size_t)QSIZE * BUF_BYTES, 64);
	if (!ring || !q->bufs)
		return -1;
	if (packed) {
		packed_init(&q->pr, ring);
		/* Polled: no used-buffer notifications (2.8.10). */
		q->pr.drv_ev->flags = EV_DISABLE;
		return indep_queue(&dev, q->index, (uintptr_t)q->pr.desc, (uintptr_t)q->pr.drv_ev,
				   (uintptr_t)q->pr.dev_ev, &q->notify_at);
	}
	q->desc = (struct desc *)ring;
	q->avail = (struct avail *)(ring + sizeof(struct desc) * QSIZE);
	q->used = (struct used *)(ring + SPLIT_USED_OFF);
	/* Polled: ask for no interrupts (2.7.10; with the event index, park used_event). */
	q->avail->flags = AVAIL_F_NO_INTERRUPT;
	q->avail->used_event = 0x8000;
	for (unsigned i = 0; i < QSIZE; i++)
		q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs + (size_t)i * BUF_BYTES);
	return indep_queue(&dev, q->index, (uintptr_t)q->desc, (uintptr_t)q->avail,
			   (uintptr_t)q->used, &q->notify_at);
}

/* 5.1.4: the MAC is the first six bytes of the configuration space; ours ends in 01. */
static bool frame_device(uintptr_t cfg)
{
	for (unsigned k = 0; k < 6; k++)
		mac[k] = *(volatile uint8_t *)(cfg + k);
	return mac[5] == 1;
}

static int find_and_init(void)
{
	uint32_t f0, f1;
	uint64_t want;

	if (indep_find(ID_NET, frame_device, &dev) != 0)
		return -1;
	/* 3.1.1: reset, acknowledge, driver, features. */
	indep_begin(&dev);
	f0 = indep_features(&dev, 0);
	f1 = indep_features(&dev, 1);
	event_idx = f0 & (1u << F_EVENT_IDX);
	if (!dev.legacy && !(f1 & (1u << (F_VERSION_1 - 32))))
		return -2;
	packed = !dev.legacy && (f1 & (1u << (F_RING_PACKED - 32)));
	want = (f0 & (1u << F_NET_MAC)) | (event_idx ? 1u << F_EVENT_IDX : 0);
	if (!dev.legacy)
		want |= 1ull << F_VERSION_1 | (packed ? 1ull << F_RING_PACKED : 0);
	indep_set_features(&dev, want);
	if (indep_features_ok(&dev) != 0)
		return -3;
	/* 5.1.6: num_buffers is in the header with VERSION_1 (or MRG_RXBUF, not taken). */
	hdr_len = dev.legacy ? 10 : 12;
	if (queue_init(&rxq) || queue_init(&txq))
		return -4;
	indep_driver_ok(&dev);
	return 0;
}

/* Split ring (2.7.13): make buffer id available (not yet published). */
static inline void split_post(struct q *q, uint16_t id, uint32_t len, uint16_t flags)
{
	q->desc[id].len = len;
	q->desc[id].flags = flags;
	q->avail->ring[q->avail_idx & (QSIZE - 1)] = id;
	q->avail_idx++;
}

/* 2.7.13.3 / 2.7.13.4: publish the index, then notify if the device wants it. */
static inline void split_kick(struct q *q)
{
	uint16_t old = q->kicked_idx, new = q->avail_idx;
	bool need;

	if (old == new)
		return;
	wmb();
	*(volatile uint16_t *)&q->avail->idx = new;
	q->kicked_idx = new;
	mb();
	if (event_idx)
		need = split_need_event(shared16(&q->used->avail_event), new, old);
	else
		need = !(shared16(&q->used->flags) & USED_F_NO_NOTIFY);
	if (need)
		notify(q);
}

/* 2.7.14: the next used entry, if the device wrote one. */
static inline bool split_take(struct q *q, uint32_t *id, uint32_t *len)
{
	const struct used_elem *e;

	if (q->last_used == q->used_seen) {
		uint16_t u = shared16(&q->used->idx);

		if (u == q->last_used)
			return false;
		rmb();
		q->used_seen = u;
	}
	e = &q->used->ring[q->last_used & (QSIZE - 1)];
	*id = e->id;
	*len = e->len;
	q->last_used++;
	return true;
}

static inline void post(struct q *q, uint16_t id, uint32_t len, uint16_t flags)
{
	if (packed)
		packed_add(&q->pr, (uint64_t)(uintptr_t)(q->bufs + (size_t)id * BUF_BYTES), len, id,
			   flags);
	else
		split_post(q, id, len, flags);
}

static inline void kick(struct q *q)
{
	if (packed) {
		if (packed_publish(&q->pr))
			notify(q);
	} else {
		split_kick(q);
	}
}

static inline bool take(struct q *q, uint32_t *id, uint32_t *len)
{
	return packed ? packed_take(&q->pr, 1, id, len) : split_take(q, id, len);
}

static int run_tx(uint32_t bytes, uint32_t count, uint64_t *ns)
{
	struct q *q = &txq;
	uint32_t queued = 0, done = 0;
	uint16_t next = 0;
	uint64_t t0, deadline;

	for (unsigned i = 0; i < QSIZE; i++) {
		uint8_t *b = q->bufs + (size_t)i * BUF_BYTES, *f = b + hdr_len;

		memset(b, 0, hdr_len);
		memset(f, 0xff, 6);
		memcpy(f + 6, mac, 6);
		f[12] = ETHERTYPE >> 8;
		f[13] = ETHERTYPE & 0xff;
		memset(f + 14, (int)i, bytes - 14);
	}
	bench_mark(1);
	t0 = board_time_ns();
	deadline = t0 + TIMEOUT_NS;
	ph_fill = ph_kick = ph_spin = 0;
	while (done < count) {
		uint64_t t1 = board_time_ns(), t2;
		uint32_t id, len;

		while (queued < count && queued - done < QSIZE) {
			post(q, next, hdr_len + bytes, 0);
			next = (uint16_t)((next + 1) & (QSIZE - 1));
			queued++;
		}
		t2 = board_time_ns();
		ph_fill += t2 - t1;
		kick(q);
		t1 = board_time_ns();
		ph_kick += t1 - t2;
		while (!take(q, &id, &len))
			if (board_time_ns() > deadline)
				return -1;
		/* Frames complete in order of the ring here: each entry frees one buffer. */
		do
			done++;
		while (take(q, &id, &len));
		ph_spin += board_time_ns() - t1;
	}
	*ns = board_time_ns() - t0;
	bench_mark(2);
	return 0;
}

static int run_rx(uint32_t count, uint32_t idle_ms, uint32_t settle_ms, uint32_t *got,
		  uint64_t *ns)
{
	struct q *q = &rxq;
	uint64_t first = 0, last = 0, start, idle = (uint64_t)idle_ms * NS_PER_MS;
	uint32_t n = 0;

	/* Everything already received is dropped: re-post what came. */
	for (;;) {
		uint32_t id, len;
		bool any = false;

		while (take(q, &id, &len)) {
			if (id >= QSIZE)
				return -2;
			post(q, (uint16_t)id, BUF_BYTES, DESC_F_WRITE);
			any = true;
		}
		if (!any)
			break;
		kick(q);
	}
	printf("RX READY\n");
	start = board_time_ns();
	while (board_time_ns() - start < (uint64_t)settle_ms * NS_PER_MS)
		;
	bench_mark(1);
	start = board_time_ns();
	while (n < count) {
		uint32_t id, len;
		uint64_t t;

		if (!take(q, &id, &len)) {
			t = board_time_ns();
			if (t - (n ? last : start) > (n ? idle : 30000 * NS_PER_MS))
				break;
			continue;
		}
		t = board_time_ns();
		do {
			const uint8_t *f;

			if (id >= QSIZE)
				return -2;
			f = q->bufs + (size_t)id * BUF_BYTES + hdr_len;
			if (len >= hdr_len + 14 && f[12] == (ETHERTYPE >> 8) &&
			    f[13] == (ETHERTYPE & 0xff)) {
				if (!n)
					first = t;
				n++;
				last = t;
			}
			post(q, (uint16_t)id, BUF_BYTES, DESC_F_WRITE);
		} while (take(q, &id, &len));
		kick(q);
	}
	bench_mark(2);
	*got = n;
	*ns = n ? last - first : 0;
	return 0;
}

static void cmd_run(char *line)
{
	char *kind = strtok(line, " "), *a = strtok(NULL, " "), *b = strtok(NULL, " ");
	char *c = strtok(NULL, " ");
	uint32_t x, y, n, k0 = kicks;
	uint64_t ns = 0;
	int rc;

	if (!kind || !a || !b) {
		printf("ERR usage: tx|poll <bytes> <count> | rx <count> <idle_ms> [settle_ms]\n");
		return;
	}
	x = (uint32_t)strtoul(a, NULL, 0);
	y = (uint32_t)strtoul(b, NULL, 0);
	if (strcmp(kind, "rx") == 0) {
		rc = run_rx(x, y, c ? (uint32_t)strtoul(c, NULL, 0) : 0, &n, &ns);
	} else {
		if (x < 60 || x > FRAME_MAX || !y) {
			printf("ERR bad arguments\n");
			return;
		}
		n = y;
		rc = run_tx(x, y, &ns);
	}
	if (rc) {
		printf("ERR %s: %s\n", kind, rc == -1 ? "timed out" : "bad used entry");
		return;
	}
	printf("RES kind=%s n=%lu ns=%llu kicks=%lu irqs=0 busy=0 drops=0", kind,
	       (unsigned long)n, (unsigned long long)ns, (unsigned long)(kicks - k0));
	if (strcmp(kind, "rx"))
		printf(" e=%llu k=%llu s=%llu", (unsigned long long)ph_fill,
		       (unsigned long long)ph_kick, (unsigned long long)ph_spin);
	printf("\n");
}

int main(void)
{
	char line[128];
	int rc;

	rc = find_and_init();
	if (rc) {
		printf("ERR virtio-net set-up failed (%d)\n", rc);
		board_exit(1);
	}
	/* Every receive buffer posted from the start. */
	for (unsigned i = 0; i < QSIZE; i++)
		post(&rxq, (uint16_t)i, BUF_BYTES, DESC_F_WRITE);
	kick(&rxq);
	printf("BENCH READY %s independent net loop\n", board_info()->name);
	for (;;) {
		indep_read_line(line, sizeof(line));
		if (strcmp(line, "info") == 0) {
			printf("INFO iface=%s mode=indep transport=%s ring=%s event_idx=%d "
			       "hdr_len=%u tx_queue=%u rx_queue=%u\n", dev.legacy ? "legacy" : "modern",
			       dev.pci ? "pci" : "mmio", packed ? "packed" : "split", event_idx ? 1 : 0,
			       hdr_len, QSIZE, QSIZE);
		} else if (strncmp(line, "tx ", 3) == 0 || strncmp(line, "poll ", 5) == 0 ||
			   strncmp(line, "rx ", 3) == 0) {
			cmd_run(line);
		} else if (strcmp(line, "quit") == 0) {
			board_exit(0);
		} else {
			printf("ERR unknown command '%s'\n", line);
		}
	}
}
