/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cache model of the non-coherent test port (tests/sim/sim_cache.h),
 * checked on its own, without the library: a split ring built by hand and
 * served by the simulated entropy device. Each mistake a driver can make on
 * a non-coherent platform must show (as stale data or as a driver error),
 * and the right sequence of cleans and invalidates must pass clean; then
 * the driver tests on this port mean something.
 */
#include <string.h>

#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_ring.h>

#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"

#define QSIZE 4u
#define LINE SIM_CACHE_LINE

/*
 * A ring of QSIZE entries in one DMA block: descriptors in line 0, the
 * avail ring in line 1 and the used ring at used_off (line 2 normally; 80
 * puts it in the avail ring's line, as a used alignment of 4 may).
 */
struct ring {
	const struct vio_port *port;
	uint8_t *mem;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint8_t *buf;         /* QSIZE buffers of one line each */
	struct sim_dev *d;
	struct sim_rng rng;
};

static struct ring r;
static uint8_t outside[4 * LINE] __attribute__((aligned(SIM_CACHE_LINE)));

static void clean(const void *p, size_t len)
{
	r.port->cache_clean(r.port->ctx, p, len);
}

static void invalidate(const void *p, size_t len)
{
	r.port->cache_invalidate(r.port->ctx, p, len);
}

static void ring_setup(const struct vio_port *port, size_t used_off)
{
	memset(&r, 0, sizeof(r));
	r.port = port;
	r.mem = port->dma_alloc(port->ctx, 4 * LINE, LINE);
	r.buf = port->dma_alloc(port->ctx, QSIZE * LINE, LINE);
	CHECK(r.mem && r.buf);
	r.desc = (struct virtq_desc *)r.mem;
	r.avail = (struct virtq_avail *)(r.mem + LINE);
	r.used = (struct virtq_used *)(r.mem + used_off);
	r.d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	sim_rng_attach(r.d, &r.rng);
	sim_queue_attach(r.d, 0, QSIZE, r.desc, r.avail, r.used);
}

/* Offer buffer i (one line, device-writable) at avail slot idx; no cache work. */
static void offer(unsigned i, uint16_t idx)
{
	r.desc[i].addr = (uintptr_t)(r.buf + i * LINE);
	r.desc[i].len = LINE;
	r.desc[i].flags = VIRTQ_DESC_F_WRITE;
	r.desc[i].next = 0;
	r.avail->ring[idx % QSIZE] = (uint16_t)i;
	r.avail->idx = (uint16_t)(idx + 1);
}

static bool is_stream(const uint8_t *p, uint32_t pos, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (p[k] != sim_rng_byte(pos + (uint32_t)k))
			return false;
	}
	return true;
}

/* The right sequence, several times round the ring: no error, right data. */
static void test_correct_use(void)
{
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	for (uint16_t n = 0; n < 3 * QSIZE; n++) {
		unsigned i = n % QSIZE;

		offer(i, n);
		clean(&r.desc[i], sizeof(r.desc[i]));
		clean(r.avail, 4 + 2 * QSIZE);
		CHECK_EQ(sim_step(r.d), 1);
		invalidate(&r.used->idx, 2);
		CHECK_EQ(r.used->idx, n + 1);
		invalidate(&r.used->ring[n % QSIZE], sizeof(r.used->ring[0]));
		CHECK_EQ(r.used->ring[n % QSIZE].id, i);
		CHECK_EQ(r.used->ring[n % QSIZE].len, LINE);
		invalidate(r.buf + i * LINE, LINE);
		CHECK(is_stream(r.buf + i * LINE, n * LINE, LINE));
	}
	CHECK_EQ(sim_cache_stats.dirty_discards, 0);
	CHECK_EQ(sim_cache_stats.dirty_under_device, 0);
	CHECK(sim_cache_stats.lines_written_back > 0);
}

/* Ring fields written without a clean: the device does not see them. */
static void test_ring_without_clean(void)
{
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	offer(0, 0);
	CHECK_EQ(sim_step(r.d), 0);
	CHECK_EQ(r.rng.requests, 0);
	/* The descriptor alone is not enough: the index is in another line. */
	clean(&r.desc[0], sizeof(r.desc[0]));
	CHECK_EQ(sim_step(r.d), 0);
	clean(&r.avail->idx, 2);
	CHECK_EQ(sim_step(r.d), 1);
}

/* A descriptor the device reads before it was cleaned is the old one. */
static void test_descriptor_without_clean(void)
{
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	offer(0, 0);
	clean(r.avail, 4 + 2 * QSIZE);
	/* Address 0 and length 0, as the device sees the table: a bad chain. */
	CHECK_EQ(sim_step(r.d), 0);
	CHECK_EQ(sim_take_errors(), 1);
	CHECK(r.d->q[0].broken);
}

/* What the device wrote, read without an invalidate: the CPU's stale copy. */
static void test_used_without_invalidate(void)
{
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	offer(0, 0);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.used->idx, 0);
	CHECK(!is_stream(r.buf, 0, LINE));
	invalidate(&r.used->idx, 2);
	CHECK_EQ(r.used->idx, 1);
	invalidate(r.buf, LINE);
	CHECK(is_stream(r.buf, 0, LINE));
}

/* The NO_INTERRUPT flag set without a clean: the device still interrupts. */
static void test_flag_without_clean(void)
{
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	r.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	offer(0, 0);
	clean(&r.desc[0], sizeof(r.desc[0]));
	clean(&r.avail->idx, 2); /* the same line: the flag goes with it */
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.d->q[0].irqs, 0);
	CHECK_EQ(r.d->q[0].irqs_suppressed, 1);

	/* Cleared by the CPU, never cleaned: the device keeps suppressing. */
	r.avail->flags = 0;
	offer(1, 1);
	clean(&r.desc[1], sizeof(r.desc[1]));
	CHECK_EQ(sim_step(r.d), 0);
	CHECK_EQ(r.d->q[0].irqs_suppressed, 1);
	clean(r.avail, 2);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.d->q[0].irqs, 1);
}

/*
 * The event index (2.7.10) moved after the avail ring was cleaned, and
 * never cleaned itself: the device goes by the old value.
 */
static void test_used_event_without_clean(void)
{
	uint16_t *used_event;

	ring_setup(sim_port_noncoherent(), 2 * LINE);
	r.d->driver_features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	used_event = &r.avail->ring[QSIZE];
	*used_event = 0; /* interrupt at the first completion */
	offer(0, 0);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.d->q[0].irqs, 1);

	*used_event = 1; /* and at the second */
	offer(1, 1);
	clean(r.mem, 2 * LINE);
	/* The driver changes its mind (no more interrupts) but keeps it in its cache. */
	*used_event = 0;
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.d->q[0].irqs, 2);

	/* Cleaned, the same request is heard. */
	*used_event = 1;
	offer(2, 2);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.d->q[0].irqs, 2);
	CHECK_EQ(r.d->q[0].irqs_suppressed, 1);
}

/* An invalidate drops what the CPU wrote in the same line and never cleaned. */
static void test_dirty_discard(void)
{
	uint16_t *used_event;

	/* The used ring right after the avail ring, in its line (used_align 4). */
	ring_setup(sim_port_noncoherent(), LINE + 16);
	r.d->driver_features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	used_event = &r.avail->ring[QSIZE];
	offer(0, 0);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	/* The device wrote the used ring; the CPU moves its event index ... */
	*used_event = 1;
	/* ... and refreshes used->idx, which shares the line: the write is lost. */
	invalidate(&r.used->idx, 2);
	CHECK_EQ(r.used->idx, 1);
	CHECK_EQ(*used_event, 0);
	CHECK_EQ(sim_cache_stats.dirty_discards, 1);
	CHECK_EQ(sim_take_errors(), 1);
	CHECK(strstr(sim_last_error(), "never cleaned") != NULL);
}

/* The device writes into a line the CPU holds dirty: an eviction would undo it. */
static void test_device_writes_dirty_line(void)
{
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	offer(0, 0);
	clean(r.mem, 2 * LINE);
	r.buf[LINE - 1] = 7; /* the buffer the device is about to fill */
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(sim_cache_stats.dirty_under_device, 1);
	CHECK_EQ(sim_take_errors(), 1);
	CHECK(strstr(sim_last_error(), "dirty") != NULL);
	/* Cleaned (written back) first, as a driver should: no complaint. */
	offer(1, 1);
	r.buf[2 * LINE - 1] = 7;
	clean(r.mem, 2 * LINE);
	clean(r.buf + LINE, LINE);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(sim_take_errors(), 0);
}

/* Whole lines: a clean of one byte writes back its line, and only it. */
static void test_line_granularity(void)
{
	uint8_t got[2];

	ring_setup(sim_port_noncoherent(), 2 * LINE);
	r.buf[0] = 1;
	r.buf[LINE - 1] = 2;
	r.buf[LINE] = 3;
	clean(r.buf + 10, 1);
	sim_cache_dev_read((uintptr_t)r.buf, got, 1);
	CHECK_EQ(got[0], 1);
	sim_cache_dev_read((uintptr_t)r.buf + LINE - 1, got, 2);
	CHECK_EQ(got[0], 2);
	CHECK_EQ(got[1], 0);
	/* An invalidate of one byte refreshes its whole line, and only it. */
	sim_cache_dev_write((uintptr_t)r.buf + 2 * LINE, "ab", 2);
	sim_cache_dev_write((uintptr_t)r.buf + 3 * LINE, "cd", 2);
	invalidate(r.buf + 3 * LINE - 1 + LINE, 1);
	CHECK_EQ(r.buf[3 * LINE], 'c');
	CHECK_EQ(r.buf[3 * LINE + 1], 'd');
	CHECK_EQ(r.buf[2 * LINE], 0);
	/* The dirty byte at buf[LINE] was never cleaned (no invalidate touched it). */
	CHECK_EQ(sim_cache_stats.dirty_discards, 0);
}

/* A clean leaves a line the CPU did not write alone, stale or not. */
static void test_clean_skips_clean_lines(void)
{
	uint8_t got;

	ring_setup(sim_port_noncoherent(), 2 * LINE);
	sim_cache_dev_write((uintptr_t)r.buf, "x", 1);
	clean(r.buf, LINE);
	sim_cache_dev_read((uintptr_t)r.buf, &got, 1);
	CHECK_EQ(got, 'x');
	/* Once the CPU writes any byte of it, the whole stale line goes back. */
	r.buf[5] = 9;
	clean(r.buf + 5, 1);
	sim_cache_dev_read((uintptr_t)r.buf, &got, 1);
	CHECK_EQ(got, 0);
	CHECK_EQ(sim_cache_stats.stale_write_backs, 1);
	CHECK_EQ(sim_take_errors(), 1);
}

/*
 * A ring field written into a line the device wrote since the CPU last
 * read it: the clean puts the CPU's stale used ring back over the device's.
 */
static void test_stale_write_back(void)
{
	uint16_t got;

	ring_setup(sim_port_noncoherent(), LINE + 16);
	offer(0, 0);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	offer(1, 1);
	clean(&r.desc[1], sizeof(r.desc[1]));
	clean(&r.avail->idx, 2);
	CHECK_EQ(sim_cache_stats.stale_write_backs, 1);
	CHECK_EQ(sim_take_errors(), 1);
	CHECK(strstr(sim_last_error(), "the device wrote since") != NULL);
	sim_cache_dev_read((uintptr_t)&r.used->idx, &got, 2);
	CHECK_EQ(got, 0);
	/* Refreshed before it is written, the line goes back with the device's data. */
	sim_reset_all();
	sim_port_reset();
	ring_setup(sim_port_noncoherent(), LINE + 16);
	offer(0, 0);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	invalidate(r.avail, LINE);
	offer(1, 1);
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_take_errors(), 0);
	sim_cache_dev_read((uintptr_t)&r.used->idx, &got, 2);
	CHECK_EQ(got, 1);
}

/* Memory outside the DMA pool (a caller's buffer) is unknown to the device until cleaned. */
static void test_outside_pool(void)
{
	uint8_t got[LINE];

	ring_setup(sim_port_noncoherent(), 2 * LINE);
	memset(outside, 0x11, sizeof(outside));
	sim_cache_dev_read((uintptr_t)outside, got, LINE);
	CHECK_EQ(got[0], SIM_CACHE_POISON);
	CHECK_EQ(got[LINE - 1], SIM_CACHE_POISON);
	clean(outside, 2 * LINE);
	sim_cache_dev_read((uintptr_t)outside + LINE, got, LINE);
	CHECK_EQ(got[0], 0x11);

	/* A chain over it: the device fills it, the CPU sees it after an invalidate. */
	r.desc[0].addr = (uintptr_t)outside;
	r.desc[0].len = 2 * LINE;
	r.desc[0].flags = VIRTQ_DESC_F_WRITE;
	r.avail->ring[0] = 0;
	r.avail->idx = 1;
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(outside[0], 0x11);
	invalidate(outside, 2 * LINE);
	CHECK(is_stream(outside, 0, 2 * LINE));
	CHECK_EQ(sim_take_errors(), 0);

	/* Never cleaned, then handed to the device for writing: its lines are dirty. */
	r.desc[1].addr = (uintptr_t)outside + 2 * LINE;
	r.desc[1].len = LINE;
	r.desc[1].flags = VIRTQ_DESC_F_WRITE;
	r.avail->ring[1] = 1;
	r.avail->idx = 2;
	clean(r.mem, 2 * LINE);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(sim_take_errors(), 1);
	CHECK_EQ(sim_cache_stats.dirty_under_device, 1);

	/*
	 * An invalidate of part of a line whose other part the CPU wrote: an
	 * error, and the model leaves the test's bytes alone.
	 */
	clean(outside + 3 * LINE, LINE);
	outside[3 * LINE + 60] = 0x22;
	invalidate(outside + 3 * LINE, 8);
	CHECK_EQ(sim_take_errors(), 1);
	CHECK(strstr(sim_last_error(), "next to the range") != NULL);
	CHECK_EQ(outside[3 * LINE + 60], 0x22);
}

/* Memory allocated before the model came on starts coherent. */
static void test_adopt(void)
{
	const struct vio_port *coherent = sim_port();
	uint8_t *p = coherent->dma_alloc(coherent->ctx, LINE, LINE);
	uint8_t got;

	CHECK(p != NULL);
	if (!p)
		return;
	p[3] = 0x5a;
	CHECK(!sim_cache_on());
	ring_setup(sim_port_noncoherent(), 2 * LINE);
	CHECK(sim_cache_on());
	sim_cache_dev_read((uintptr_t)p + 3, &got, 1);
	CHECK_EQ(got, 0x5a);
	CHECK(!sim_cache_dirty(p, LINE));
}

/* The coherent port is unchanged: no hooks, and the device sees every write. */
static void test_coherent_port(void)
{
	const struct vio_port *port = sim_port();

	CHECK(port->cache_clean == NULL && port->cache_invalidate == NULL);
	CHECK(sim_port_noncoherent()->cache_clean != NULL);
	sim_port_reset();
	CHECK(!sim_cache_on());
	memset(&r, 0, sizeof(r));
	r.port = port;
	r.mem = port->dma_alloc(port->ctx, 4 * LINE, LINE);
	r.buf = port->dma_alloc(port->ctx, QSIZE * LINE, LINE);
	r.desc = (struct virtq_desc *)r.mem;
	r.avail = (struct virtq_avail *)(r.mem + LINE);
	r.used = (struct virtq_used *)(r.mem + 2 * LINE);
	r.d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	sim_rng_attach(r.d, &r.rng);
	sim_queue_attach(r.d, 0, QSIZE, r.desc, r.avail, r.used);
	offer(0, 0);
	CHECK_EQ(sim_step(r.d), 1);
	CHECK_EQ(r.used->idx, 1);
	CHECK(is_stream(r.buf, 0, LINE));
}

int main(void)
{
	RUN(test_correct_use);
	RUN(test_ring_without_clean);
	RUN(test_descriptor_without_clean);
	RUN(test_used_without_invalidate);
	RUN(test_flag_without_clean);
	RUN(test_used_event_without_clean);
	RUN(test_dirty_discard);
	RUN(test_device_writes_dirty_line);
	RUN(test_line_granularity);
	RUN(test_clean_skips_clean_lines);
	RUN(test_stale_write_back);
	RUN(test_outside_pool);
	RUN(test_adopt);
	RUN(test_coherent_port);
	return test_report();
}
