/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The independent loop: a virtio-blk reader and writer that shares no code
 * with vio. Its virtio-mmio access and its split ring are written here from
 * the VirtIO 1.2 specification, its descriptors by hand; only the board
 * layer (console, clock, interrupt attach, idle) comes from the project. It
 * is the floor vio's driver is compared with: whatever vio spends beyond it
 * per request is the cost of vio's layers, not of QEMU.
 *
 * It speaks the protocol of blk_bench.c over the UART, so run_bench.py
 * drives both the same way:
 *
 *   info
 *       INFO iface=<legacy|modern> mode=indep event_idx=<0|1> indirect=0
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
 *     round waits for the used index to move (poll: spins on it in memory;
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
#define ID_BLOCK 2u

/* 2.1: device status bits. */
#define S_ACKNOWLEDGE 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u
#define S_FAILED 128u

/* 6: reserved feature bits. */
#define F_EVENT_IDX 29u
#define F_VERSION_1 32u

/* 2.7.5, 2.7.6, 2.7.8: split ring flags. */
#define DESC_F_NEXT 1u
#define DESC_F_WRITE 2u
#define AVAIL_F_NO_INTERRUPT 1u
#define USED_F_NO_NOTIFY 1u

/* 5.2.6: request types and status. */
#define BLK_T_IN 0u
#define BLK_T_OUT 1u
#define BLK_S_OK 0u
#define SECTOR 512u

#define QSIZE 256u                 /* 3 descriptors per request, DEPTH_MAX of them */
#define DEPTH_MAX 64u
#define SLOT_BYTES (64u << 10)     /* each request's data at depth > 1 */
#define BYTES_MAX (1u << 20)       /* a request at depth 1 */
#define SPAN_BYTES (64ull << 20)   /* the part of the disk the workloads walk */
#define TIMEOUT_NS (30ull * 1000000000ull)

/*
 * 2.7.5 / 2.7.6 / 2.7.8: the split ring, little-endian on a modern device
 * and in the guest's order on a legacy one (2.7.1 legacy); both boards are
 * little-endian, so plain stores serve both.
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
	uint16_t used_event; /* 2.7.10: with VIRTIO_F_EVENT_IDX */
};

struct used_elem {
	uint32_t id;
	uint32_t len;
};

struct used {
	uint16_t flags;
	uint16_t idx;
	struct used_elem ring[QSIZE];
	uint16_t avail_event; /* 2.7.10: with VIRTIO_F_EVENT_IDX */
};

/* 5.2.6: the request header, then data, then one status byte. */
struct blk_req {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
	uint8_t status;
	uint8_t pad[47]; /* one 64-byte line each */
};

static uintptr_t regs;
static bool legacy, event_idx;
static uint64_t capacity, span, cursor;
static struct desc *desc;
static struct avail *avail;
static struct used *used;
static struct blk_req *reqs; /* DEPTH_MAX */
static uint8_t *data;        /* DEPTH_MAX * SLOT_BYTES, at least BYTES_MAX */
static uint16_t avail_idx, kicked_idx, last_used;
static volatile uint32_t irqs;
static uint32_t kicks;

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

/* The device interrupt: read and acknowledge the cause (4.2.2). */
static void on_irq(void *arg)
{
	uint32_t st = rd32(R_INT_STATUS);

	(void)arg;
	wr32(R_INT_ACK, st);
	irqs++;
}

static int find_and_init(void)
{
	const struct board_info *bi = board_info();
	const struct board_virtio *v = NULL;
	uint32_t f0, f1, qmax;
	size_t used_off;
	uint8_t *ring;

	for (unsigned i = 0; i < bi->nvirtio; i++) {
		regs = bi->virtio[i].base;
		if (rd32(R_MAGIC) == MMIO_MAGIC && rd32(R_DEVICE_ID) == ID_BLOCK) {
			v = &bi->virtio[i];
			break;
		}
	}
	if (!v)
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
	wr32(R_DRV_FEATURES, event_idx ? 1u << F_EVENT_IDX : 0);
	wr32(R_DRV_FEATURES_SEL, 1);
	wr32(R_DRV_FEATURES, legacy ? 0 : 1u << (F_VERSION_1 - 32));
	if (!legacy) {
		wr32(R_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
		if (!(rd32(R_STATUS) & S_FEATURES_OK))
			return -3;
	}

	/*
	 * 2.7.2 (legacy layout, also valid for modern): descriptors, then the
	 * available ring, then the used ring on the next 4 KiB boundary.
	 */
	used_off = (sizeof(struct desc) * QSIZE + sizeof(struct avail) + 4095) & ~(size_t)4095;
	ring = dma_zalloc(used_off + sizeof(struct used), 4096);
	reqs = dma_zalloc(sizeof(struct blk_req) * DEPTH_MAX, 4096);
	data = dma_zalloc((size_t)DEPTH_MAX * SLOT_BYTES, 4096);
	if (!ring || !reqs || !data)
		return -4;
	desc = (struct desc *)ring;
	avail = (struct avail *)(ring + sizeof(struct desc) * QSIZE);
	used = (struct used *)(ring + used_off);

	wr32(R_QUEUE_SEL, 0);
	qmax = rd32(R_QUEUE_NUM_MAX);
	if (qmax < QSIZE)
		return -5;
	wr32(R_QUEUE_NUM, QSIZE);
	if (legacy) {
		/* 4.2.4: the legacy device finds the rings from one page number. */
		wr32(R_GUEST_PAGE_SIZE, 4096);
		wr32(R_QUEUE_ALIGN, 4096);
		wr32(R_QUEUE_PFN, (uint32_t)((uintptr_t)ring >> 12));
	} else {
		wr32(R_QUEUE_DESC_LO, (uint32_t)(uintptr_t)desc);
		wr32(R_QUEUE_DESC_HI, (uint32_t)((uint64_t)(uintptr_t)desc >> 32));
		wr32(R_QUEUE_DRIVER_LO, (uint32_t)(uintptr_t)avail);
		wr32(R_QUEUE_DRIVER_HI, (uint32_t)((uint64_t)(uintptr_t)avail >> 32));
		wr32(R_QUEUE_DEVICE_LO, (uint32_t)(uintptr_t)used);
		wr32(R_QUEUE_DEVICE_HI, (uint32_t)((uint64_t)(uintptr_t)used >> 32));
		wr32(R_QUEUE_READY, 1);
	}
	/* 5.2.4: capacity, a little-endian 64-bit field, read as two halves. */
	capacity = rd32(R_CONFIG) | (uint64_t)rd32(R_CONFIG + 4) << 32;
	if (v->irq < 0 || board_irq_attach(v->irq, on_irq, NULL))
		return -6;
	wr32(R_STATUS, rd32(R_STATUS) | S_DRIVER_OK);
	return 0;
}

/* 2.7.10: ask for an interrupt at the next used entry, or for none. */
static void want_irq(bool on)
{
	if (event_idx) {
		/* flags stay 0 with the event index; park used_event behind us */
		avail->used_event = on ? last_used : (uint16_t)(last_used - 1);
	} else {
		avail->flags = on ? 0 : AVAIL_F_NO_INTERRUPT;
	}
	mb();
}

/* Put slot s's request on the available ring (not yet visible). */
static inline void submit(unsigned s, uint32_t type, uint32_t bytes)
{
	struct blk_req *r = &reqs[s];
	struct desc *d = &desc[3 * s];
	uint16_t head = (uint16_t)(3 * s);

	if (cursor + bytes / SECTOR > span)
		cursor = 0;
	r->type = type;
	r->ioprio = 0;
	r->sector = cursor;
	r->status = 0xff;
	cursor += bytes / SECTOR;

	/* 2.7.5: header (device-readable), data, status (device-writable). */
	d[0].addr = (uintptr_t)r;
	d[0].len = 16;
	d[0].flags = DESC_F_NEXT;
	d[0].next = (uint16_t)(head + 1);
	d[1].addr = (uintptr_t)(data + (size_t)s * SLOT_BYTES);
	d[1].len = bytes;
	d[1].flags = DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0);
	d[1].next = (uint16_t)(head + 2);
	d[2].addr = (uintptr_t)&r->status;
	d[2].len = 1;
	d[2].flags = DESC_F_WRITE;
	d[2].next = 0;
	/* 2.7.13.2: the head into the next available entry */
	avail->ring[avail_idx & (QSIZE - 1)] = head;
	avail_idx++;
}

/* 2.7.13.3 / 2.7.13.4: publish the index, then notify if the device wants it. */
static inline void kick(void)
{
	uint16_t old = kicked_idx, new = avail_idx;
	bool need;

	if (old == new)
		return;
	wmb();
	*(volatile uint16_t *)&avail->idx = new;
	kicked_idx = new;
	mb();
	if (event_idx) {
		uint16_t e = shared16(&used->avail_event);

		/* 2.7.10: vring_need_event(event, new, old) */
		need = (uint16_t)(new - e - 1) < (uint16_t)(new - old);
	} else {
		need = !(shared16(&used->flags) & USED_F_NO_NOTIFY);
	}
	if (need) {
		io_wmb();
		wr32(R_QUEUE_NOTIFY, 0);
		kicks++;
	}
}

/* Poll: spin on the used index in memory until it moves. */
__attribute__((noinline)) static int wait_poll(uint64_t deadline, uint32_t *spins)
{
	uint32_t n = 0;

	while (shared16(&used->idx) == last_used) {
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

	while (shared16(&used->idx) == last_used) {
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

	while (shared16(&used->idx) == last_used) {
		(void)rd32(R_INT_STATUS);
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

		if (shared16(&used->idx) != last_used) {
			board_irq_restore(s);
			return 0;
		}
		board_idle_until(deadline);
		board_irq_restore(s);
		if (shared16(&used->idx) != last_used)
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

		if (shared16(&used->idx) != last_used) {
			board_irq_restore(s);
			return 0;
		}
#if defined(__riscv)
		__asm__ volatile("wfi" ::: "memory");
#else
		__asm__ volatile("dsb sy\n\twfi" ::: "memory");
#endif
		board_irq_restore(s);
		if (shared16(&used->idx) != last_used)
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
			uint16_t idx = shared16(&used->idx);

			while (last_used != idx) {
				struct used_elem *e;
				uint32_t id, s;

				rmb(); /* 2.7.14: entries only after the index that covers them */
				e = &used->ring[last_used & (QSIZE - 1)];
				id = e->id;
				s = id / 3;
				last_used++;
				if (id % 3 || s >= r->depth || reqs[s].status != BLK_S_OK) {
					rc = -2;
					break;
				}
				r->done++;
				if (issued < r->count) {
					submit(s, r->type, r->bytes);
					issued++;
				}
			}
			if (rc || !r->irq || !event_idx)
				break;
			/* 2.7.10: move used_event, then look again: an entry may have slipped in. */
			avail->used_event = last_used;
			mb();
			if (shared16(&used->idx) == last_used)
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
	printf("INFO iface=%s mode=indep event_idx=%d indirect=0 capacity=%llu queue_size=%u "
	       "seg_max=0 max_sectors=0\n", legacy ? "legacy" : "modern", event_idx ? 1 : 0,
	       (unsigned long long)capacity, QSIZE);
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
		printf("ERR virtio-blk set-up failed (%d)\n", rc);
		board_exit(1);
	}
	span = SPAN_BYTES / SECTOR < capacity ? SPAN_BYTES / SECTOR : capacity;
	printf("BENCH READY %s independent loop\n", board_info()->name);
	for (;;) {
		read_line(line, sizeof(line));
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
