/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The independent GPU loop: the floor of the virtio-gpu benchmark
 * (run_gpu_bench.py). It shares no code with vio: virtio-mmio set-up, the
 * control queue's split ring and the 2D commands are written here from the
 * VirtIO 1.2 specification (4.2, 2.7, 5.7); only the board layer (console,
 * clock, memory) is the project's. Polled, one command pair in flight.
 *
 * At start it makes a 1280x800 B8G8R8X8 resource backed by one contiguous
 * buffer and puts it on scanout 0. Then, one command a line on the UART:
 *
 *   full <n>      n times: TRANSFER_TO_HOST_2D and RESOURCE_FLUSH of the
 *                 whole screen, queued together, one notification, spin
 *                 until both are used
 *   partial <n>   the same for 64x64 rectangles walking over the screen
 *                 (the positions gpu_bench.c uses)
 *       RES kind=<full|partial> n=<n> ns=<elapsed> bad=<error responses>
 *   quit          leaves QEMU with status 0
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

/* 4.2.2 (and 4.2.4, legacy): the registers used */
enum {
	MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, DEVFEAT = 0x010, DEVFEAT_SEL = 0x014,
	DRVFEAT = 0x020, DRVFEAT_SEL = 0x024, PAGE_SIZE = 0x028, QSEL = 0x030, QNUM_MAX = 0x034,
	QNUM = 0x038, QALIGN = 0x03c, QPFN = 0x040, QREADY = 0x044, QNOTIFY = 0x050,
	STATUS = 0x070, QDESC = 0x080, QDRIVER = 0x090, QDEVICE = 0x0a0,
};

#define GPU_ID 16u
#define WIDTH 1280u
#define HEIGHT 800u
#define TILE 64u
#define RING 8u /* entries of the control ring: two chains of two */
#define NS_LIMIT (10ull * 1000000000ull)

#if defined(__riscv)
#define barrier_w() __asm__ volatile("fence w, w" ::: "memory")
#define barrier_r() __asm__ volatile("fence r, r" ::: "memory")
#define barrier_wo() __asm__ volatile("fence w, o" ::: "memory")
#elif defined(__aarch64__)
#define barrier_w() __asm__ volatile("dmb ishst" ::: "memory")
#define barrier_r() __asm__ volatile("dmb ishld" ::: "memory")
#define barrier_wo() __asm__ volatile("dmb oshst" ::: "memory")
#else
#error "unknown architecture"
#endif

/* 2.7.5, 2.7.6, 2.7.8 */
struct vdesc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct vavail { uint16_t flags, idx, ring[RING], pad; };
struct vused { uint16_t flags, idx; struct { uint32_t id, len; } ring[RING]; uint16_t pad; };

/* 5.7.6.7 / 5.7.6.8: a header and the two requests timed here */
struct hdr { uint32_t type, flags; uint64_t fence; uint32_t ctx; uint32_t pad; };
struct box { uint32_t x, y, w, h; };
struct xfer { struct hdr h; struct box r; uint64_t offset; uint32_t id, pad; };
struct flush { struct hdr h; struct box r; uint32_t id, pad; };

static volatile uint8_t *mmio;
static bool legacy;
static struct vdesc *desc;
static struct vavail *avail;
static volatile struct vused *used;
static uint16_t next_avail, seen_used;
static uint8_t *req, *resp; /* two 64-byte request slots, two 32-byte answers */
static uint32_t *pixels;
static uintptr_t mem, mem_end;

static uint32_t rd(unsigned off) { return *(volatile uint32_t *)(mmio + off); }
static void wr(unsigned off, uint32_t v) { *(volatile uint32_t *)(mmio + off) = v; }

static void *take(size_t size, size_t align)
{
	uintptr_t p = (mem + align - 1) & ~(uintptr_t)(align - 1);

	if (p > mem_end || mem_end - p < size)
		return NULL;
	mem = p + size;
	memset((void *)p, 0, size);
	return (void *)p;
}

static void wr64(unsigned off, const void *p)
{
	wr(off, (uint32_t)(uintptr_t)p);
	wr(off + 4, (uint32_t)((uint64_t)(uintptr_t)p >> 32));
}

/* Put request slot s (len bytes) and its answer on the ring as one chain. */
static void queue(unsigned s, uint32_t len)
{
	struct vdesc *d = &desc[2 * s];

	d[0] = (struct vdesc){ (uintptr_t)(req + 64 * s), len, 1 /* NEXT */, (uint16_t)(2 * s + 1) };
	d[1] = (struct vdesc){ (uintptr_t)(resp + 32 * s), sizeof(struct hdr), 2 /* WRITE */, 0 };
	avail->ring[next_avail % RING] = (uint16_t)(2 * s);
	next_avail++;
}

/* Publish, notify, spin until every chain came back; the error answers counted. */
static int run(unsigned chains, unsigned *bad)
{
	uint64_t t0 = board_time_ns();

	barrier_w();
	avail->idx = next_avail;
	barrier_wo();
	wr(QNOTIFY, 0);
	while ((uint16_t)(seen_used + chains) != *(volatile uint16_t *)&used->idx)
		if (board_time_ns() - t0 > NS_LIMIT)
			return -1;
	barrier_r();
	seen_used = (uint16_t)(seen_used + chains);
	for (unsigned s = 0; s < chains; s++)
		if (((struct hdr *)(resp + 32 * s))->type != 0x1100)
			(*bad)++;
	return 0;
}

static int command(const void *body, uint32_t len)
{
	unsigned bad = 0;

	memcpy(req, body, len);
	queue(0, len);
	return run(1, &bad) || bad ? -1 : 0;
}

static int setup(void)
{
	const struct board_info *bi = board_info();
	size_t used_at;
	uint8_t *ring;

	for (unsigned i = 0; i < bi->nvirtio && !mmio; i++) {
		volatile uint8_t *m = (volatile uint8_t *)bi->virtio[i].base;

		if (*(volatile uint32_t *)(m + MAGIC) == 0x74726976u &&
		    *(volatile uint32_t *)(m + DEVICE_ID) == GPU_ID)
			mmio = m;
	}
	if (!mmio)
		return -1;
	legacy = rd(VERSION) == 1;
	/* 3.1.1 */
	wr(STATUS, 0);
	while (rd(STATUS))
		;
	wr(STATUS, 1 | 2);
	wr(DRVFEAT_SEL, 0);
	wr(DRVFEAT, 0);
	wr(DRVFEAT_SEL, 1);
	wr(DRVFEAT, legacy ? 0 : 1); /* VERSION_1 */
	if (!legacy) {
		wr(STATUS, 1 | 2 | 8);
		if (!(rd(STATUS) & 8))
			return -2;
	} else {
		wr(PAGE_SIZE, 4096);
	}
	used_at = (sizeof(struct vdesc) * RING + sizeof(struct vavail) + 4095) & ~(size_t)4095;
	ring = take(used_at + sizeof(struct vused), 4096);
	req = take(2 * 64, 64);
	resp = take(2 * 32, 64);
	pixels = take((size_t)WIDTH * HEIGHT * 4, 4096);
	if (!ring || !req || !resp || !pixels)
		return -3;
	desc = (struct vdesc *)ring;
	avail = (struct vavail *)(ring + sizeof(struct vdesc) * RING);
	used = (volatile struct vused *)(ring + used_at);
	avail->flags = 1; /* no interrupts: it spins */
	wr(QSEL, 0);
	if (rd(QNUM_MAX) < RING)
		return -4;
	wr(QNUM, RING);
	if (legacy) {
		wr(QALIGN, 4096);
		wr(QPFN, (uint32_t)((uintptr_t)ring >> 12));
	} else {
		wr64(QDESC, desc);
		wr64(QDRIVER, avail);
		wr64(QDEVICE, (const void *)used);
		wr(QREADY, 1);
	}
	wr(STATUS, rd(STATUS) | 4);
	for (uint32_t i = 0; i < WIDTH * HEIGHT; i++)
		pixels[i] = (i % WIDTH) * 255 / WIDTH;
	{
		struct { struct hdr h; uint32_t id, format, w, h2; } c = {
			{ 0x0101, 0, 0, 0, 0 }, 1, 2 /* B8G8R8X8 */, WIDTH, HEIGHT };
		struct { struct hdr h; uint32_t id, n; uint64_t addr; uint32_t len, pad; } a = {
			{ 0x0106, 0, 0, 0, 0 }, 1, 1, (uintptr_t)pixels, WIDTH * HEIGHT * 4, 0 };
		struct { struct hdr h; struct box r; uint32_t scanout, id; } s = {
			{ 0x0103, 0, 0, 0, 0 }, { 0, 0, WIDTH, HEIGHT }, 0, 1 };

		if (command(&c, sizeof(c)) || command(&a, sizeof(a)) || command(&s, sizeof(s)))
			return -5;
	}
	return 0;
}

/* The k-th 64x64 tile of the partial run (gpu_bench.c walks the same way). */
static struct box tile(uint32_t k)
{
	uint32_t cols = WIDTH / TILE, rows = HEIGHT / TILE;

	return (struct box){ (k % cols) * TILE, ((k / cols) % rows) * TILE, TILE, TILE };
}

/* The instruction-counting plugin (run_gpu_bench.py --insns) snapshots its counters here. */
void bench_mark(unsigned tag);
__attribute__((noinline)) void bench_mark(unsigned tag)
{
	__asm__ volatile("" : : "r"(tag) : "memory");
}

static void bench(bool full, uint32_t n)
{
	unsigned bad = 0;
	uint64_t t0 = board_time_ns();

	bench_mark(1);
	for (uint32_t k = 0; k < n; k++) {
		struct box r = full ? (struct box){ 0, 0, WIDTH, HEIGHT } : tile(k);
		struct xfer *x = (struct xfer *)req;
		struct flush *f = (struct flush *)(req + 64);

		*x = (struct xfer){ { 0x0105, 0, 0, 0, 0 }, r,
				    (uint64_t)r.y * WIDTH * 4 + (uint64_t)r.x * 4, 1, 0 };
		*f = (struct flush){ { 0x0104, 0, 0, 0, 0 }, r, 1, 0 };
		queue(0, sizeof(*x));
		queue(1, sizeof(*f));
		if (run(2, &bad)) {
			printf("ERR timed out\n");
			return;
		}
	}
	bench_mark(2);
	printf("RES kind=%s n=%lu ns=%llu bad=%u\n", full ? "full" : "partial", (unsigned long)n,
	       (unsigned long long)(board_time_ns() - t0), bad);
}

int main(void)
{
	char line[64];
	size_t size, n = 0;
	int rc;

	board_dma_region(&mem, &size);
	mem_end = mem + size;
	rc = setup();
	if (rc) {
		printf("ERR virtio-gpu set-up failed (%d)\n", rc);
		board_exit(1);
	}
	printf("BENCH READY %s independent gpu loop %s\n", board_info()->name,
	       legacy ? "legacy" : "modern");
	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
			continue;
		}
		if (c != '\r' && c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = (char)c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (!strncmp(line, "full ", 5))
			bench(true, (uint32_t)strtoul(line + 5, NULL, 0));
		else if (!strncmp(line, "partial ", 8))
			bench(false, (uint32_t)strtoul(line + 8, NULL, 0));
		else if (!strcmp(line, "quit"))
			board_exit(0);
		else if (line[0])
			printf("ERR unknown command '%s'\n", line);
	}
}
