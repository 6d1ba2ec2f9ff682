/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The independent loop: a virtio-blk reader and writer that shares no code
 * with vio. Its device access (indep_virtio.c: virtio-mmio legacy and
 * modern, virtio-pci modern and the legacy interface of a transitional
 * function) and its rings (indep_ring.h: split and packed) are the
 * benchmarks' own, written from the VirtIO 1.2 specification, its
 * descriptors by hand; only the board layer (console, clock, interrupt
 * attach, idle, the PCI bus's enumeration) comes from the project. It is
 * the floor vio's driver is compared with: whatever vio spends beyond it
 * per request is the cost of vio's layers, not of QEMU.
 *
 * It takes the first virtio-blk device (virtio-mmio first, then PCI) and
 * negotiates only VIRTIO_F_EVENT_IDX, (modern) VIRTIO_F_VERSION_1 and
 * VIRTIO_F_RING_PACKED when the device offers it. A request is a chain of
 * three descriptors: in the split ring request s owns descriptors 3s to
 * 3s + 2; in the packed ring the chain carries id s. Interrupts come on
 * the device's line: virtio-mmio's, or a PCI function's INTx (the loop
 * leaves MSI-X off).
 *
 * It speaks the protocol of blk_bench.c over the UART, so run_bench.py
 * drives both the same way:
 *
 *   info
 *       INFO iface=<legacy|modern> mode=indep transport=<mmio|pci>
 *            ring=<split|packed> event_idx=<0|1> indirect=0
 *            capacity=<sectors> queue_size=<n> seg_max=0 max_sectors=0
 *
 *   run <poll|pollclk|pollisr|irq|irqwfi> <read|write> <bytes> <depth> <count>
 *       RES kind=.. op=.. bytes=.. depth=.. n=<requests> ns=<elapsed>
 *           irqs=<interrupts taken> kicks=<notifications sent>
 *           spins=<empty looks at the used index> t=<one clock read>
 *
 *     (pollclk, pollisr and irqwfi are variants of the wait, for
 *     experiments: see the functions that implement them.)
 *
 *     depth requests of bytes are kept in flight until count are done. Each
 *     round waits for a used entry (poll: spins on the ring in memory;
 *     irq: sleeps with wfi until the device's interrupt, as vio's
 *     bare-metal port does), takes every used entry, re-queues each
 *     finished request and notifies once for the batch, if the device asks
 *     for it. Requests walk the disk sequentially from sector 0 and wrap
 *     at the smaller of the capacity and SPAN_BYTES.
 *
 *   quit
 *       leaves QEMU with status 0.
 *
 * bench_mark() is called just before and just after each timed loop; an
 * instruction-counting QEMU plugin (insn_plugin.c) takes its counters
 * there, so instructions per request need no clock.
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

#define ID_BLOCK 2u

/* 5.2.6: request types and status. */
#define BLK_T_IN 0u
#define BLK_T_OUT 1u
#define BLK_S_OK 0u
#define SECTOR 512u

#define QSIZE INDEP_QSIZE          /* 3 descriptors per request, DEPTH_MAX of them */
#define DEPTH_MAX 64u
#define SLOT_BYTES (64u << 10)     /* each request's data at depth > 1 */
#define BYTES_MAX (1u << 20)       /* a request at depth 1 */
#define SPAN_BYTES (64ull << 20)   /* the part of the disk the workloads walk */
#define TIMEOUT_NS (30ull * 1000000000ull)

/* 5.2.6: the request header, then data, then one status byte. */
struct blk_req {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
	uint8_t status;
	uint8_t pad[47]; /* one 64-byte line each */
};

static struct indep_dev dev;
static uintptr_t notify_at;
static bool event_idx, packed;
static uint64_t capacity, span, cursor;
/* split ring: request s owns descriptors 3s .. 3s + 2 */
static struct desc *desc;
static struct avail *avail;
static struct used *used;
static uint16_t avail_idx, kicked_idx, last_used, used_seen;
/* packed ring: request s is a chain of three descriptors with id s */
static struct packed pr;
static struct blk_req *reqs; /* DEPTH_MAX */
static uint8_t *data;        /* DEPTH_MAX * SLOT_BYTES, at least BYTES_MAX */
static volatile uint32_t irqs;
static uint32_t kicks;

/* The device interrupt: read and acknowledge the cause (4.2.2, 4.1.4.5). */
static void on_irq(void *arg)
{
	(void)arg;
	(void)indep_ack_irq(&dev);
	irqs++;
}

static bool any_device(uintptr_t config)
{
	(void)config;
	return true;
}

static int find_and_init(void)
{
	uint32_t f0, f1;
	uint64_t want;
	uint8_t *ring;
	int rc;

	if (indep_find(ID_BLOCK, any_device, &dev) != 0)
		return -1;
	/* 3.1.1: reset, acknowledge, driver, features. */
	indep_begin(&dev);
	f0 = indep_features(&dev, 0);
	f1 = indep_features(&dev, 1);
	event_idx = f0 & (1u << F_EVENT_IDX);
	if (!dev.legacy && !(f1 & (1u << (F_VERSION_1 - 32))))
		return -2;
	/* 2.8: the packed ring whenever a (modern) device offers it. */
	packed = !dev.legacy && (f1 & (1u << (F_RING_PACKED - 32)));
	want = event_idx ? 1u << F_EVENT_IDX : 0;
	if (!dev.legacy)
		want |= 1ull << F_VERSION_1 | (packed ? 1ull << F_RING_PACKED : 0);
	indep_set_features(&dev, want);
	if (indep_features_ok(&dev) != 0)
		return -3;

	ring = indep_dma_zalloc(packed ? PACKED_BYTES : SPLIT_BYTES, 4096);
	reqs = indep_dma_zalloc(sizeof(struct blk_req) * DEPTH_MAX, 4096);
	data = indep_dma_zalloc((size_t)DEPTH_MAX * SLOT_BYTES, 4096);
	if (!ring || !reqs || !data)
		return -4;
	if (packed) {
		packed_init(&pr, ring);
		rc = indep_queue(&dev, 0, (uintptr_t)pr.desc, (uintptr_t)pr.drv_ev,
				 (uintptr_t)pr.dev_ev, &notify_at);
	} else {
		desc = (struct desc *)ring;
		avail = (struct avail *)(ring + sizeof(struct desc) * QSIZE);
		used = (struct used *)(ring + SPLIT_USED_OFF);
		rc = indep_queue(&dev, 0, (uintptr_t)desc, (uintptr_t)avail, (uintptr_t)used,
				 &notify_at);
	}
	if (rc)
		return -5;
	/* 5.2.4: capacity, a little-endian 64-bit field, read as two halves. */
	capacity = *(volatile uint32_t *)dev.config |
		   (uint64_t)*(volatile uint32_t *)(dev.config + 4) << 32;
	if (dev.irq < 0 || board_irq_attach(dev.irq, on_irq, NULL))
		return -6;
	indep_driver_ok(&dev);
	return 0;
}

/* 2.7.10 / 2.8.10: ask for an interrupt at the next used entry, or for none. */
static void want_irq(bool on)
{
	if (packed && on && event_idx) {
		packed_event_at_next(&pr);
	} else if (packed) {
		pr.drv_ev->flags = on ? EV_ENABLE : EV_DISABLE;
	} else if (event_idx) {
		/* flags stay 0 with the event index; park used_event behind us */
		avail->used_event = on ? last_used : (uint16_t)(last_used - 1);
	} else {
		avail->flags = on ? 0 : AVAIL_F_NO_INTERRUPT;
	}
	mb();
}

/* Has the device used a request the loop has not taken yet? */
static inline bool has_used(void)
{
	return packed ? packed_has_used(&pr) : shared16(&used->idx) != last_used;
}

/* Put slot s's request on the ring (not yet visible). */
static inline void submit(unsigned s, uint32_t type, uint32_t bytes)
{
	struct blk_req *r = &reqs[s];
	uintptr_t buf = (uintptr_t)(data + (size_t)s * SLOT_BYTES);
	uint16_t dflags = type == BLK_T_IN ? DESC_F_WRITE : 0;
	struct desc *d;
	uint16_t head;

	if (cursor + bytes / SECTOR > span)
		cursor = 0;
	r->type = type;
	r->ioprio = 0;
	r->sector = cursor;
	r->status = 0xff;
	cursor += bytes / SECTOR;

	/* 2.7.5 / 2.8.13: header (device-readable), data, status (device-writable). */
	if (packed) {
		packed_add(&pr, (uintptr_t)r, 16, (uint16_t)s, DESC_F_NEXT);
		packed_add(&pr, buf, bytes, (uint16_t)s, DESC_F_NEXT | dflags);
		packed_add(&pr, (uintptr_t)&r->status, 1, (uint16_t)s, DESC_F_WRITE);
		return;
	}
	head = (uint16_t)(3 * s);
	d = &desc[head];
	d[0].addr = (uintptr_t)r;
	d[0].len = 16;
	d[0].flags = DESC_F_NEXT;
	d[0].next = (uint16_t)(head + 1);
	d[1].addr = buf;
	d[1].len = bytes;
	d[1].flags = DESC_F_NEXT | dflags;
	d[1].next = (uint16_t)(head + 2);
	d[2].addr = (uintptr_t)&r->status;
	d[2].len = 1;
	d[2].flags = DESC_F_WRITE;
	d[2].next = 0;
	/* 2.7.13.2: the head into the next available entry */
	avail->ring[avail_idx & (QSIZE - 1)] = head;
	avail_idx++;
}

/*
 * 2.7.13.3 / 2.7.13.4 (2.8.21.1 / 2.8.21.3): publish what was put on the
 * ring, then notify if the device wants it.
 */
static inline void kick(void)
{
	uint16_t old = kicked_idx, new = avail_idx;
	bool need;

	if (packed) {
		need = packed_publish(&pr);
	} else {
		if (old == new)
			return;
		wmb();
		*(volatile uint16_t *)&avail->idx = new;
		kicked_idx = new;
		mb();
		if (event_idx)
			need = split_need_event(shared16(&used->avail_event), new, old);
		else
			need = !(shared16(&used->flags) & USED_F_NO_NOTIFY);
	}
	if (need) {
		io_wmb();
		indep_notify(&dev, notify_at, 0);
		kicks++;
	}
}

/*
 * The next finished request's slot (the chain's id), if the device used
 * one: 2.7.14 (the index before the entries it covers) or 2.8.21.2. In the
 * split ring the loop checks that the id is the head of a chain.
 */
static inline bool take(uint32_t *slot)
{
	const struct used_elem *e;
	uint32_t id, len;

	if (packed) {
		if (!packed_take(&pr, 3, &id, &len))
			return false;
		*slot = id;
		return true;
	}
	if (last_used == used_seen) {
		uint16_t u = shared16(&used->idx);

		if (u == last_used)
			return false;
		rmb();
		used_seen = u;
	}
	e = &used->ring[last_used & (QSIZE - 1)];
	id = e->id;
	last_used++;
	*slot = id % 3 ? DEPTH_MAX : id / 3;
	return true;
}

/* Poll: spin on the used index in memory until it moves. */
__attribute__((noinline)) static int wait_poll(uint64_t deadline, uint32_t *spins)
{
	uint32_t n = 0;

	while (!has_used()) {
		if ((++n & 0xfffffu) == 0 && board_time_ns() > deadline)
			return -1;
	}
	*spins += n;
	return 0;
}

/*
 * Variants of the spin, to see what the spinning itself costs under QEMU
 * (kind pollclk: a clock read each time round, as a wait with a timeout
 * does; kind pollisr: the InterruptStatus register each time round, an
 * MMIO read that QEMU serves under its global lock).
 */
__attribute__((noinline)) static int wait_poll_clock(uint64_t deadline, uint32_t *spins)
{
	uint32_t n = 0;

	while (!has_used()) {
		n++;
		if (board_time_ns() > deadline)
			return -1;
	}
	*spins += n;
	return 0;
}

__attribute__((noinline)) static int wait_poll_isr(uint64_t deadline, uint32_t *spins)
{
	uint32_t n = 0;

	while (!has_used()) {
		(void)indep_isr(&dev);
		if ((++n & 0xfffffu) == 0 && board_time_ns() > deadline)
			return -1;
	}
	*spins += n;
	return 0;
}

/*
 * Irq: sleep until the interrupt. wfi wakes on a pending interrupt even
 * while masked, so masking around the check and the sleep loses nothing;
 * the handler runs when the mask is lifted.
 */
__attribute__((noinline)) static int wait_irq(uint64_t deadline, uint32_t *spins)
{
	for (;;) {
		uintptr_t s = board_irq_save();

		if (has_used()) {
			board_irq_restore(s);
			return 0;
		}
		board_idle_until(deadline);
		board_irq_restore(s);
		if (has_used())
			return 0;
		++*spins;
		if (board_time_ns() > deadline)
			return -1;
	}
}

enum wait_kind { W_POLL, W_POLL_CLOCK, W_POLL_ISR, W_IRQ, W_IRQ_WFI };

/*
 * Kind irqwfi: the same without board_idle_until, whose timer arming (an
 * SBI call on riscv64, a timer register write on aarch64) QEMU turns into
 * work of its own; nothing bounds the sleep but the device's interrupt.
 */
__attribute__((noinline)) static int wait_irq_wfi(uint64_t deadline, uint32_t *spins)
{
	(void)deadline;
	for (;;) {
		uintptr_t s = board_irq_save();

		if (has_used()) {
			board_irq_restore(s);
			return 0;
		}
#if defined(__riscv)
		__asm__ volatile("wfi" ::: "memory");
#else
		__asm__ volatile("dsb sy\n\twfi" ::: "memory");
#endif
		board_irq_restore(s);
		if (has_used())
			return 0;
		++*spins;
	}
}

struct run {
	enum wait_kind wait;
	bool irq;
	uint32_t type, bytes, depth, count;
	uint32_t done, spins;
	uint64_t ns;
};

/* Not inlined, so that its instructions are its own in a profile. */
__attribute__((noinline)) static int run(struct run *r)
{
	uint32_t issued = 0;
	uint64_t t0, deadline;
	int rc = 0;

	want_irq(r->irq);
	bench_mark(1);
	t0 = board_time_ns();
	deadline = t0 + TIMEOUT_NS;
	for (uint32_t s = 0; s < r->depth && issued < r->count; s++, issued++)
		submit(s, r->type, r->bytes);
	kick();
	while (r->done < r->count) {
		switch (r->wait) {
		case W_IRQ:
			rc = wait_irq(deadline, &r->spins);
			break;
		case W_IRQ_WFI:
			rc = wait_irq_wfi(deadline, &r->spins);
			break;
		case W_POLL_CLOCK:
			rc = wait_poll_clock(deadline, &r->spins);
			break;
		case W_POLL_ISR:
			rc = wait_poll_isr(deadline, &r->spins);
			break;
		default:
			rc = wait_poll(deadline, &r->spins);
			break;
		}
		if (rc)
			break;
		for (;;) {
			uint32_t slot;

			while (take(&slot)) {
				if (slot >= r->depth || reqs[slot].status != BLK_S_OK) {
					rc = -2;
					break;
				}
				r->done++;
				if (issued < r->count) {
					submit(slot, r->type, r->bytes);
					issued++;
				}
			}
			if (rc || !r->irq || !event_idx)
				break;
			/*
			 * 2.7.10 / 2.8.10: move the event to the next used entry, then
			 * look again: an entry may have slipped in.
			 */
			if (packed)
				packed_event_at_next(&pr);
			else
				avail->used_event = last_used;
			mb();
			if (!has_used())
				break;
		}
		if (rc)
			break;
		kick();
	}
	r->ns = board_time_ns() - t0;
	bench_mark(2);
	/* Every request issued has completed unless rc says otherwise. */
	return rc;
}

static void cmd_info(void)
{
	printf("INFO iface=%s mode=indep transport=%s ring=%s event_idx=%d indirect=0 "
	       "capacity=%llu queue_size=%u seg_max=0 max_sectors=0\n",
	       dev.legacy ? "legacy" : "modern", dev.pci ? "pci" : "mmio",
	       packed ? "packed" : "split", event_idx ? 1 : 0, (unsigned long long)capacity, QSIZE);
}

static void cmd_run(char *args)
{
	char *kind = strtok(args, " "), *op = strtok(NULL, " ");
	char *sb = strtok(NULL, " "), *sd = strtok(NULL, " "), *sc = strtok(NULL, " ");
	struct run r = { 0 };
	uint32_t irq0, kick0;
	uint64_t t0, tclock;
	int rc;

	if (!kind || !op || !sb || !sd || !sc) {
		printf("ERR usage: run <poll|pollclk|pollisr|irq|irqwfi> <read|write> <bytes> <depth> <count>\n");
		return;
	}
	if (strcmp(kind, "irq") == 0)
		r.wait = W_IRQ;
	else if (strcmp(kind, "irqwfi") == 0)
		r.wait = W_IRQ_WFI;
	else if (strcmp(kind, "poll") == 0)
		r.wait = W_POLL;
	else if (strcmp(kind, "pollclk") == 0)
		r.wait = W_POLL_CLOCK;
	else if (strcmp(kind, "pollisr") == 0)
		r.wait = W_POLL_ISR;
	else
		kind = NULL;
	r.irq = r.wait == W_IRQ || r.wait == W_IRQ_WFI;
	r.type = strcmp(op, "write") == 0 ? BLK_T_OUT : BLK_T_IN;
	r.bytes = (uint32_t)strtoul(sb, NULL, 0);
	r.depth = (uint32_t)strtoul(sd, NULL, 0);
	r.count = (uint32_t)strtoul(sc, NULL, 0);
	if (!kind || (strcmp(op, "read") && strcmp(op, "write")) ||
	    !r.bytes || r.bytes % SECTOR || !r.depth || r.depth > DEPTH_MAX || !r.count ||
	    (r.depth > 1 ? r.bytes > SLOT_BYTES : r.bytes > BYTES_MAX) ||
	    r.bytes / SECTOR > span) {
		printf("ERR bad arguments\n");
		return;
	}
	irq0 = irqs;
	kick0 = kicks;
	rc = run(&r);
	if (rc) {
		printf("ERR %s %s: %s\n", kind, op, rc == -1 ? "timed out" : "bad completion");
		return;
	}
	t0 = board_time_ns();
	tclock = board_time_ns() - t0;
	printf("RES kind=%s op=%s bytes=%u depth=%u n=%u ns=%llu irqs=%u kicks=%u spins=%u t=%llu\n",
	       kind, op, r.bytes, r.depth, r.done, (unsigned long long)r.ns, irqs - irq0,
	       kicks - kick0, r.spins, (unsigned long long)tclock);
}

int main(void)
{
	char line[128];
	int rc;

	rc = find_and_init();
	if (rc) {
		printf("ERR virtio-blk set-up failed (%d)\n", rc);
		board_exit(1);
	}
	span = SPAN_BYTES / SECTOR < capacity ? SPAN_BYTES / SECTOR : capacity;
	printf("BENCH READY %s independent loop\n", board_info()->name);
	for (;;) {
		indep_read_line(line, sizeof(line));
		if (strcmp(line, "info") == 0) {
			cmd_info();
		} else if (strncmp(line, "run ", 4) == 0) {
			cmd_run(line + 4);
		} else if (strcmp(line, "quit") == 0) {
			board_exit(0);
		} else {
			printf("ERR unknown command '%s'\n", line);
		}
	}
}
