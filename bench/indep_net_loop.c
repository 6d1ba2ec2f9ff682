/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The independent net loop: a virtio-net frame sender and receiver that
 * shares no code with vio, the floor of the net benchmark
 * (run_net_bench.py) as indep_loop.c is the block benchmark's. Its
 * virtio-mmio access, split and packed rings are written here from the
 * VirtIO 1.2 specification, its descriptors by hand, its virtio-pci modern
 * access in indep_virtio_pci.c; only the board layer (console, clock,
 * memory, the PCI bus's enumeration) is the project's. Polled: nothing
 * interrupts it.
 *
 * It takes the net device whose MAC ends in 01, on virtio-mmio (legacy or
 * modern) or as a modern virtio-pci function, negotiates only
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
#include "indep_virtio_pci.h"

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
#define F_RING_PACKED 34u

/* 2.7.5, 2.7.6, 2.7.8: split ring flags. */
#define DESC_F_WRITE 2u
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY 1u

/* 2.8.1, 2.8.10: packed descriptor flags, event suppression flags. */
#define PD_F_AVAIL (1u << 7)
#define PD_F_USED (1u << 15)
#define EV_ENABLE 0u
#define EV_DISABLE 1u
#define EV_DESC 2u

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

/* 2.8.13: a packed descriptor; 2.8.14: an event suppression structure. */
struct pdesc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct evsup {
	uint16_t off_wrap;
	uint16_t flags;
};

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
	/* packed: positions, wrap counters (2.8.1), the batch's first descriptor */
	struct pdesc *pdesc;
	struct evsup *drv_ev, *dev_ev;
	uint16_t next_avail, next_used, head, head_flags;
	bool avail_wrap, used_wrap, head_pending;
	uint32_t made, kicked_made; /* descriptors made available: in all, at the last kick */
};

static uintptr_t regs;
static struct indep_pci pcid;
static bool legacy, event_idx, pci, packed;
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

/* 4.1.4.3: the common configuration of a virtio-pci function. */
static inline uint32_t pc_rd(unsigned off, unsigned width)
{
	uintptr_t a = pcid.common + off;

	return width == 1 ? *(volatile uint8_t *)a :
	       width == 2 ? *(volatile uint16_t *)a : *(volatile uint32_t *)a;
}

static inline void pc_wr(unsigned off, unsigned width, uint32_t v)
{
	uintptr_t a = pcid.common + off;

	if (width == 1)
		*(volatile uint8_t *)a = (uint8_t)v;
	else if (width == 2)
		*(volatile uint16_t *)a = (uint16_t)v;
	else
		*(volatile uint32_t *)a = v;
}

/* The transport's few operations, virtio-mmio (4.2.2) or virtio-pci (4.1.4.3). */
static uint32_t get_status(void)
{
	return pci ? pc_rd(PC_STATUS, 1) : rd32(R_STATUS);
}

static void set_status(uint32_t v)
{
	if (pci)
		pc_wr(PC_STATUS, 1, v);
	else
		wr32(R_STATUS, v);
}

static uint32_t dev_features(unsigned word)
{
	if (pci) {
		pc_wr(PC_DEV_FEATURE_SEL, 4, word);
		return pc_rd(PC_DEV_FEATURE, 4);
	}
	wr32(R_DEV_FEATURES_SEL, word);
	return rd32(R_DEV_FEATURES);
}

static void set_features(unsigned word, uint32_t v)
{
	if (pci) {
		pc_wr(PC_DRV_FEATURE_SEL, 4, word);
		pc_wr(PC_DRV_FEATURE, 4, v);
	} else {
		wr32(R_DRV_FEATURES_SEL, word);
		wr32(R_DRV_FEATURES, v);
	}
}

static void wr64(unsigned off, uint64_t v)
{
	/* 4.1.3.1: a 64-bit field may be written as its two 32-bit halves. */
	pc_wr(off, 4, (uint32_t)v);
	pc_wr(off + 4, 4, (uint32_t)(v >> 32));
}

/* The queue's three areas to the device (modern; legacy mmio: its page number). */
static int queue_setup(struct q *q, uintptr_t ring, uintptr_t drv, uintptr_t dev)
{
	if (pci) {
		uint32_t off;

		pc_wr(PC_QUEUE_SEL, 2, q->index);
		if (pc_rd(PC_QUEUE_SIZE, 2) < QSIZE)
			return -2;
		pc_wr(PC_QUEUE_SIZE, 2, QSIZE);
		wr64(PC_QUEUE_DESC, ring);
		wr64(PC_QUEUE_DRIVER, drv);
		wr64(PC_QUEUE_DEVICE, dev);
		/* 4.1.4.4: the queue's notification address, inside the capability's range. */
		off = pc_rd(PC_QUEUE_NOTIFY_OFF, 2) * pcid.notify_mul;
		if (off > pcid.notify_len || pcid.notify_len - off < 2)
			return -3;
		q->notify_at = pcid.notify + off;
		pc_wr(PC_QUEUE_ENABLE, 2, 1);
		return 0;
	}
	wr32(R_QUEUE_SEL, q->index);
	if (rd32(R_QUEUE_NUM_MAX) < QSIZE)
		return -2;
	wr32(R_QUEUE_NUM, QSIZE);
	q->notify_at = regs + R_QUEUE_NOTIFY;
	if (legacy) {
		wr32(R_QUEUE_ALIGN, 4096);
		wr32(R_QUEUE_PFN, (uint32_t)(ring >> 12));
		return 0;
	}
	wr32(R_QUEUE_DESC_LO, (uint32_t)ring);
	wr32(R_QUEUE_DESC_HI, (uint32_t)((uint64_t)ring >> 32));
	wr32(R_QUEUE_DRIVER_LO, (uint32_t)drv);
	wr32(R_QUEUE_DRIVER_HI, (uint32_t)((uint64_t)drv >> 32));
	wr32(R_QUEUE_DEVICE_LO, (uint32_t)dev);
	wr32(R_QUEUE_DEVICE_HI, (uint32_t)((uint64_t)dev >> 32));
	wr32(R_QUEUE_READY, 1);
	return 0;
}

/* 4.2.3.3 / 4.1.4.4: the queue's index written to its notification address. */
static inline void notify(const struct q *q)
{
	io_wmb();
	if (pci)
		*(volatile uint16_t *)q->notify_at = (uint16_t)q->index;
	else
		*(volatile uint32_t *)q->notify_at = q->index;
	kicks++;
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
	/* Packed: the descriptors, then each event suppression structure in its own line. */
	size_t pdrv_off = sizeof(struct pdesc) * QSIZE, pdev_off = pdrv_off + 64;
	uint8_t *ring = dma_zalloc(packed ? pdev_off + 64 : used_off + sizeof(struct used), 4096);

	q->bufs = dma_zalloc((size_t)QSIZE * BUF_BYTES, 64);
	if (!ring || !q->bufs)
		return -1;
	if (packed) {
		q->pdesc = (struct pdesc *)ring;
		q->drv_ev = (struct evsup *)(ring + pdrv_off);
		q->dev_ev = (struct evsup *)(ring + pdev_off);
		/* Polled: no used-buffer notifications (2.8.10). Both wrap counters start at 1. */
		q->drv_ev->flags = EV_DISABLE;
		q->avail_wrap = q->used_wrap = true;
		return queue_setup(q, (uintptr_t)ring, (uintptr_t)q->drv_ev, (uintptr_t)q->dev_ev);
	}
	q->desc = (struct desc *)ring;
	q->avail = (struct avail *)(ring + sizeof(struct desc) * QSIZE);
	q->used = (struct used *)(ring + used_off);
	/* Polled: ask for no interrupts (2.7.10; with the event index, park used_event). */
	q->avail->flags = AVAIL_F_NO_INTERRUPT;
	q->avail->used_event = 0x8000;
	for (unsigned i = 0; i < QSIZE; i++)
		q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs + (size_t)i * BUF_BYTES);
	return queue_setup(q, (uintptr_t)q->desc, (uintptr_t)q->avail, (uintptr_t)q->used);
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
	const struct board_info *bi = board_info();
	uint32_t f0, f1;
	bool found = false;

	for (unsigned i = 0; i < bi->nvirtio && !found; i++) {
		regs = bi->virtio[i].base;
		if (rd32(R_MAGIC) != MMIO_MAGIC || rd32(R_DEVICE_ID) != ID_NET)
			continue;
		found = frame_device(regs + R_CONFIG);
	}
	if (found)
		legacy = rd32(R_VERSION) == 1;
	else if (indep_pci_find(ID_NET, frame_device, &pcid) == 0)
		pci = true;
	else
		return -1;

	/* 3.1.1: reset, acknowledge, driver, features. */
	set_status(0);
	while (get_status() != 0)
		;
	set_status(S_ACKNOWLEDGE);
	set_status(S_ACKNOWLEDGE | S_DRIVER);
	f0 = dev_features(0);
	f1 = dev_features(1);
	event_idx = f0 & (1u << F_EVENT_IDX);
	if (!legacy && !(f1 & (1u << (F_VERSION_1 - 32))))
		return -2;
	packed = !legacy && (f1 & (1u << (F_RING_PACKED - 32)));
	set_features(0, (f0 & (1u << F_NET_MAC)) | (event_idx ? 1u << F_EVENT_IDX : 0));
	set_features(1, legacy ? 0 : 1u << (F_VERSION_1 - 32) |
				     (packed ? 1u << (F_RING_PACKED - 32) : 0));
	if (!legacy) {
		set_status(S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
		if (!(get_status() & S_FEATURES_OK))
			return -3;
	} else {
		wr32(R_GUEST_PAGE_SIZE, 4096);
	}
	/* 5.1.6: num_buffers is in the header with VERSION_1 (or MRG_RXBUF, not taken). */
	hdr_len = legacy ? 10 : 12;
	if (queue_init(&rxq) || queue_init(&txq))
		return -4;
	set_status(get_status() | S_DRIVER_OK);
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
	if (event_idx) {
		uint16_t e = shared16(&q->used->avail_event);

		need = (uint16_t)(new - e - 1) < (uint16_t)(new - old);
	} else {
		need = !(shared16(&q->used->flags) & USED_F_NO_NOTIFY);
	}
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

/*
 * Packed ring (2.8.21): buffer id into the next position. Every descriptor
 * but the batch's first is made available at once; the first one's flags
 * wait for the kick, so the device sees the whole batch or none of it.
 */
static inline void packed_post(struct q *q, uint16_t id, uint32_t len, uint16_t flags)
{
	struct pdesc *d = &q->pdesc[q->next_avail];
	uint16_t f = (uint16_t)(flags | (q->avail_wrap ? PD_F_AVAIL : PD_F_USED));

	d->addr = (uint64_t)(uintptr_t)(q->bufs + (size_t)id * BUF_BYTES);
	d->len = len;
	d->id = id;
	if (!q->head_pending) {
		q->head = q->next_avail;
		q->head_flags = f;
		q->head_pending = true;
	} else {
		d->flags = f;
	}
	if (++q->next_avail == QSIZE) {
		q->next_avail = 0;
		q->avail_wrap = !q->avail_wrap;
	}
	q->made++;
}

/*
 * 2.8.10: with descriptor events the device asks for a notification when
 * the descriptor at (offset, wrap counter) becomes available. Descriptor
 * number c (counted from the start) sits at c mod QSIZE with wrap counter
 * 1 in even rounds of the ring: is the one asked for among this batch's?
 */
static inline bool asked_in_batch(const struct q *q, uint16_t off_wrap)
{
	uint32_t off = off_wrap & 0x7fffu, wrap = off_wrap >> 15;
	uint32_t old = q->kicked_made, c;

	if (off >= QSIZE)
		return false;
	c = old + ((off + QSIZE - old % QSIZE) % QSIZE);
	return c - old < q->made - old && wrap == (1u ^ ((c / QSIZE) & 1u));
}

static inline void packed_kick(struct q *q)
{
	uint16_t f;
	bool need;

	if (!q->head_pending)
		return;
	wmb();
	*(volatile uint16_t *)&q->pdesc[q->head].flags = q->head_flags;
	q->head_pending = false;
	mb();
	f = shared16(&q->dev_ev->flags);
	need = f == EV_ENABLE || (f == EV_DESC && asked_in_batch(q, shared16(&q->dev_ev->off_wrap)));
	q->kicked_made = q->made;
	if (need)
		notify(q);
}

/* 2.8.21.2: the next used descriptor, if both its flags match the used wrap counter. */
static inline bool packed_take(struct q *q, uint32_t *id, uint32_t *len)
{
	const struct pdesc *d = &q->pdesc[q->next_used];
	uint16_t f = shared16(&d->flags);

	if (!(f & PD_F_AVAIL) != !q->used_wrap || !(f & PD_F_USED) != !q->used_wrap)
		return false;
	rmb();
	*id = d->id;
	*len = d->len;
	if (++q->next_used == QSIZE) {
		q->next_used = 0;
		q->used_wrap = !q->used_wrap;
	}
	return true;
}

static inline void post(struct q *q, uint16_t id, uint32_t len, uint16_t flags)
{
	if (packed)
		packed_post(q, id, len, flags);
	else
		split_post(q, id, len, flags);
}

static inline void kick(struct q *q)
{
	if (packed)
		packed_kick(q);
	else
		split_kick(q);
}

static inline bool take(struct q *q, uint32_t *id, uint32_t *len)
{
	return packed ? packed_take(q, id, len) : split_take(q, id, len);
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
			printf("INFO iface=%s mode=indep transport=%s ring=%s event_idx=%d "
			       "hdr_len=%u tx_queue=%u rx_queue=%u\n", legacy ? "legacy" : "modern",
			       pci ? "pci" : "mmio", packed ? "packed" : "split", event_idx ? 1 : 0,
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
