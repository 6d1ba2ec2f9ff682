/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The independent net loop: a virtio-net frame sender and receiver that
 * shares no code with vio, the floor of the net benchmark
 * (run_net_bench.py) as indep_loop.c is the block benchmark's. Its
 * virtio-mmio access and split rings are written here from the VirtIO 1.2
 * specification, its descriptors by hand; only the board layer (console,
 * clock, memory) is the project's. Polled: nothing interrupts it.
 *
 * It takes the net device whose MAC ends in 01, negotiates only
 * VIRTIO_NET_F_MAC, VIRTIO_F_EVENT_IDX and (modern) VIRTIO_F_VERSION_1, so
 * the header is 10 bytes (legacy) or 12 (modern) and every frame is one
 * descriptor: descriptor i of a ring always holds buffer i, header and
 * frame together.
 *
 *   info
 *       INFO iface=<legacy|modern> mode=indep event_idx=<0|1> hdr_len=<n>
 *            tx_queue=<n> rx_queue=<n>
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

/* 4.2.2: virtio-mmio registers (4.2.4: the legacy ones marked). */
#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEATURES 0x010
#define R_DEV_FEATURES_SEL 0x014
#define R_DRV_FEATURES 0x020
#define R_DRV_FEATURES_SEL 0x024
#define R_GUEST_PAGE_SIZE 0x028 /* legacy */
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_ALIGN 0x03c     /* legacy */
#define R_QUEUE_PFN 0x040       /* legacy */
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LO 0x080
#define R_QUEUE_DESC_HI 0x084
#define R_QUEUE_DRIVER_LO 0x090
#define R_QUEUE_DRIVER_HI 0x094
#define R_QUEUE_DEVICE_LO 0x0a0
#define R_QUEUE_DEVICE_HI 0x0a4
#define R_CONFIG 0x100

#define MMIO_MAGIC 0x74726976u /* "virt" */
#define ID_NET 1u

/* 2.1: device status bits. */
#define S_ACKNOWLEDGE 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u

/* 5.1.3, 6: feature bits. */
#define F_NET_MAC 5u
#define F_EVENT_IDX 29u
#define F_VERSION_1 32u

/* 2.7.5, 2.7.6, 2.7.8: split ring flags. */
#define DESC_F_WRITE 2u
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY 1u

#define QSIZE 256u
#define BUF_BYTES 1536u           /* one buffer: header and a 1514-byte frame */
#define FRAME_MAX 1514u
#define ETHERTYPE 0x88b5u
#define TIMEOUT_NS (10ull * 1000000000ull)
#define NS_PER_MS 1000000ull

/*
 * 2.7.5 / 2.7.6 / 2.7.8: the split ring, little-endian on a modern device
 * and in the guest's order on a legacy one; both boards are little-endian.
 */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[QSIZE];
	uint16_t used_event;
};

struct used_elem {
	uint32_t id;
	uint32_t len;
};

struct used {
	uint16_t flags;
	uint16_t idx;
	struct used_elem ring[QSIZE];
	uint16_t avail_event;
};

/* One queue: its ring, its buffers (buffer i belongs to descriptor i). */
struct q {
	unsigned index;
	struct desc *desc;
	struct avail *avail;
	struct used *used;
	uint8_t *bufs;
	uint16_t avail_idx, kicked_idx, last_used;
};

static uintptr_t regs;
static bool legacy, event_idx;
static unsigned hdr_len;
static uint8_t mac[6];
static struct q rxq = { .index = 0 }, txq = { .index = 1 };
static uint32_t kicks;
static uint64_t ph_fill, ph_kick, ph_spin; /* ns per step of a transmit run */

/*
 * Barriers. Ring stores before the index store (2.7.13.3), the index store
 * before the read of the device's suppression fields (2.7.13.4: a full
 * fence), the used index before its entries (2.7.14), and memory before the
 * MMIO notification.
 */
#if defined(__riscv)
#define mb() __asm__ volatile("fence iorw, iorw" ::: "memory")
#define wmb() __asm__ volatile("fence w, w" ::: "memory")
#define rmb() __asm__ volatile("fence r, r" ::: "memory")
#define io_wmb() __asm__ volatile("fence w, o" ::: "memory")
#elif defined(__aarch64__)
#define mb() __asm__ volatile("dmb sy" ::: "memory")
#define wmb() __asm__ volatile("dmb ishst" ::: "memory")
#define rmb() __asm__ volatile("dmb ishld" ::: "memory")
#define io_wmb() __asm__ volatile("dmb oshst" ::: "memory")
#else
#error "unknown architecture"
#endif

static inline uint32_t rd32(unsigned off)
{
	return *(volatile uint32_t *)(regs + off);
}

static inline void wr32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(regs + off) = v;
}

static inline uint16_t shared16(const uint16_t *p)
{
	return *(const volatile uint16_t *)p;
}

/* The instruction-counting plugin snapshots its counters each time this runs. */
void bench_mark(unsigned tag);
__attribute__((noinline)) void bench_mark(unsigned tag)
{
	__asm__ volatile("" : : "r"(tag) : "memory");
}

/* A bump allocator over the board's free memory: set up once, never freed. */
static uintptr_t heap, heap_end;

static void *dma_zalloc(size_t size, size_t align)
{
	uintptr_t p = (heap + align - 1) & ~(uintptr_t)(align - 1);

	if (p > heap_end || heap_end - p < size)
		return NULL;
	heap = p + size;
	memset((void *)p, 0, size);
	return (void *)p;
}

static int queue_init(struct q *q)
{
	size_t used_off = (sizeof(struct desc) * QSIZE + sizeof(struct avail) + 4095) & ~(size_t)4095;
	uint8_t *ring = dma_zalloc(used_off + sizeof(struct used), 4096);

	q->bufs = dma_zalloc((size_t)QSIZE * BUF_BYTES, 64);
	if (!ring || !q->bufs)
		return -1;
	q->desc = (struct desc *)ring;
	q->avail = (struct avail *)(ring + sizeof(struct desc) * QSIZE);
	q->used = (struct used *)(ring + used_off);
	/* Polled: ask for no interrupts (2.7.10; with the event index, park used_event). */
	q->avail->flags = AVAIL_F_NO_INTERRUPT;
	q->avail->used_event = 0x8000;
	wr32(R_QUEUE_SEL, q->index);
	if (rd32(R_QUEUE_NUM_MAX) < QSIZE)
		return -2;
	wr32(R_QUEUE_NUM, QSIZE);
	if (legacy) {
		wr32(R_QUEUE_ALIGN, 4096);
		wr32(R_QUEUE_PFN, (uint32_t)((uintptr_t)ring >> 12));
	} else {
		wr32(R_QUEUE_DESC_LO, (uint32_t)(uintptr_t)q->desc);
		wr32(R_QUEUE_DESC_HI, (uint32_t)((uint64_t)(uintptr_t)q->desc >> 32));
		wr32(R_QUEUE_DRIVER_LO, (uint32_t)(uintptr_t)q->avail);
		wr32(R_QUEUE_DRIVER_HI, (uint32_t)((uint64_t)(uintptr_t)q->avail >> 32));
		wr32(R_QUEUE_DEVICE_LO, (uint32_t)(uintptr_t)q->used);
		wr32(R_QUEUE_DEVICE_HI, (uint32_t)((uint64_t)(uintptr_t)q->used >> 32));
		wr32(R_QUEUE_READY, 1);
	}
	for (unsigned i = 0; i < QSIZE; i++)
		q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs + (size_t)i * BUF_BYTES);
	return 0;
}

static int find_and_init(void)
{
	const struct board_info *bi = board_info();
	uint32_t f0, f1;
	bool found = false;

	for (unsigned i = 0; i < bi->nvirtio && !found; i++) {
		regs = bi->virtio[i].base;
		if (rd32(R_MAGIC) != MMIO_MAGIC || rd32(R_DEVICE_ID) != ID_NET)
			continue;
		/* 5.1.4: the MAC is the first six bytes of the configuration space. */
		for (unsigned k = 0; k < 6; k++)
			mac[k] = *(volatile uint8_t *)(regs + R_CONFIG + k);
		found = mac[5] == 1;
	}
	if (!found)
		return -1;
	legacy = rd32(R_VERSION) == 1;

	/* 3.1.1: reset, acknowledge, driver, features. */
	wr32(R_STATUS, 0);
	while (rd32(R_STATUS) != 0)
		;
	wr32(R_STATUS, S_ACKNOWLEDGE);
	wr32(R_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	wr32(R_DEV_FEATURES_SEL, 0);
	f0 = rd32(R_DEV_FEATURES);
	wr32(R_DEV_FEATURES_SEL, 1);
	f1 = rd32(R_DEV_FEATURES);
	event_idx = f0 & (1u << F_EVENT_IDX);
	if (!legacy && !(f1 & (1u << (F_VERSION_1 - 32))))
		return -2;
	wr32(R_DRV_FEATURES_SEL, 0);
	wr32(R_DRV_FEATURES, (f0 & (1u << F_NET_MAC)) | (event_idx ? 1u << F_EVENT_IDX : 0));
	wr32(R_DRV_FEATURES_SEL, 1);
	wr32(R_DRV_FEATURES, legacy ? 0 : 1u << (F_VERSION_1 - 32));
	if (!legacy) {
		wr32(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
		if (!(rd32(R_STATUS) & S_FEATURES_OK))
			return -3;
	} else {
		wr32(R_GUEST_PAGE_SIZE, 4096);
	}
	/* 5.1.6: num_buffers is in the header with VERSION_1 (or MRG_RXBUF, not taken). */
	hdr_len = legacy ? 10 : 12;
	if (queue_init(&rxq) || queue_init(&txq))
		return -4;
	wr32(R_STATUS, rd32(R_STATUS) | S_DRIVER_OK);
	return 0;
}

/* Make buffer id available (not yet published). */
static inline void post(struct q *q, uint16_t id, uint32_t len, uint16_t flags)
{
	q->desc[id].len = len;
	q->desc[id].flags = flags;
	q->avail->ring[q->avail_idx & (QSIZE - 1)] = id;
	q->avail_idx++;
}

/* 2.7.13.3 / 2.7.13.4: publish the index, then notify if the device wants it. */
static inline void kick(struct q *q)
{
	uint16_t old = q->kicked_idx, new = q->avail_idx;
	bool need;

	if (old == new)
		return;
	wmb();
	*(volatile uint16_t *)&q->avail->idx = new;
	q->kicked_idx = new;
	mb();
	if (event_idx) {
		uint16_t e = shared16(&q->used->avail_event);

		need = (uint16_t)(new - e - 1) < (uint16_t)(new - old);
	} else {
		need = !(shared16(&q->used->flags) & USED_F_NO_NOTIFY);
	}
	if (need) {
		io_wmb();
		wr32(R_QUEUE_NOTIFY, q->index);
		kicks++;
	}
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
		uint16_t u;

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
		while ((u = shared16(&q->used->idx)) == q->last_used)
			if (board_time_ns() > deadline)
				return -1;
		rmb();
		/* Frames complete in order of the ring here: each entry frees one buffer. */
		done += (uint16_t)(u - q->last_used);
		q->last_used = u;
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
		uint16_t u = shared16(&q->used->idx);

		if (u == q->last_used)
			break;
		rmb();
		for (; q->last_used != u; q->last_used++)
			post(q, (uint16_t)q->used->ring[q->last_used & (QSIZE - 1)].id, BUF_BYTES,
			     DESC_F_WRITE);
		kick(q);
	}
	printf("RX READY\n");
	start = board_time_ns();
	while (board_time_ns() - start < (uint64_t)settle_ms * NS_PER_MS)
		;
	bench_mark(1);
	start = board_time_ns();
	while (n < count) {
		uint16_t u = shared16(&q->used->idx);
		uint64_t t;

		if (u == q->last_used) {
			t = board_time_ns();
			if (t - (n ? last : start) > (n ? idle : 30000 * NS_PER_MS))
				break;
			continue;
		}
		rmb();
		t = board_time_ns();
		for (; q->last_used != u; q->last_used++) {
			const struct used_elem *e = &q->used->ring[q->last_used & (QSIZE - 1)];
			uint32_t id = e->id;
			const uint8_t *f;

			if (id >= QSIZE)
				return -2;
			f = q->bufs + (size_t)id * BUF_BYTES + hdr_len;
			if (e->len >= hdr_len + 14 && f[12] == (ETHERTYPE >> 8) &&
			    f[13] == (ETHERTYPE & 0xff)) {
				if (!n)
					first = t;
				n++;
				last = t;
			}
			post(q, (uint16_t)id, BUF_BYTES, DESC_F_WRITE);
		}
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

/* Read one line from the console, without echo. */
static void read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
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

int main(void)
{
	char line[128];
	size_t size;
	int rc;

	board_dma_region(&heap, &size);
	heap_end = heap + size;
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
		read_line(line, sizeof(line));
		if (strcmp(line, "info") == 0) {
			printf("INFO iface=%s mode=indep event_idx=%d hdr_len=%u tx_queue=%u "
			       "rx_queue=%u\n", legacy ? "legacy" : "modern", event_idx ? 1 : 0,
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
