/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The drivers on a platform without DMA coherency: the non-coherent test
 * port (tests/sim/sim_cache.h) gives the simulated device its own view of
 * memory, so every cache clean or invalidate the library leaves out shows
 * as wrong data, a lost or extra interrupt, or a driver error.
 *
 * Every case runs on legacy and modern devices, with and without the event
 * index and indirect descriptors, with interrupts and polled: rng reads
 * (every byte checked against the device's stream), blk reads and writes
 * (one and many segments, split requests), flush, GET_ID and asynchronous
 * batches of every request type. Data buffers are cache-line aligned, as
 * vio's blk API asks of callers on such platforms, so a failure here is the
 * library's.
 */
#include <stdio.h>
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/rng.h>
#include <vio/spec/virtio_blk.h>
#include <vio/spec/virtio_config.h>

#include "blk_model.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define SEC 1000000000ull
#define DISK_SECTORS 4096u /* 2 MiB */
#define EVENT_IDX (1ull << VIRTIO_RING_F_EVENT_IDX)
#define INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)

/* The configuration the next case runs in. */
static struct {
	uint32_t version;   /* 1 legacy, 2 modern */
	uint64_t ring;      /* ring features the device offers */
	bool polled;        /* the port without interrupts */
} cfg;

static struct sim_dev *d;
static struct sim_rng rng;
static struct sim_blk blk;
static uint8_t disk[DISK_SECTORS * 512];
static _Alignas(SIM_CACHE_LINE) uint8_t buf[2 << 20];
static _Alignas(SIM_CACHE_LINE) uint8_t buf2[2 << 20];

static const struct vio_port *port(void)
{
	return cfg.polled ? sim_port_noncoherent_polled() : sim_port_noncoherent();
}

static struct vio_device *add(void)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev != NULL);
	if (!dev || dev->state != VIO_DEV_READY)
		return NULL;
	CHECK_EQ(vio_dev_uses_irq(dev), !cfg.polled && !CONFIG_VIO_COMPLETION_POLL);
	return dev;
}

/*
 * Polled, the driver asked not to be interrupted; with interrupts, it wants
 * every one (2.7.10), and the device must have seen that.
 */
static void check_irqs(struct vio_device *dev)
{
	if (vio_dev_uses_irq(dev)) {
		CHECK(dev->irq_count > 0);
		CHECK_EQ(d->q[0].irqs_suppressed, 0);
	} else {
		CHECK_EQ(d->q[0].irqs, 0);
		CHECK_EQ(dev->irq_count, 0);
	}
}

/* ------------------------------------------------------------------ */
/* rng */

static struct vio_device *rng_setup(void)
{
	CHECK_EQ(vio_init(port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	d = sim_dev_new(0, cfg.version, VIRTIO_ID_RNG);
	d->features = cfg.ring;
	if (cfg.version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	sim_rng_attach(d, &rng);
	return add();
}

static void rng_read(void)
{
	static const size_t sizes[] = { 1, 7, 255, 256, 257, 1000, 5000, 3, 4096, 1 };
	static uint8_t out[8192];
	struct vio_device *dev = rng_setup();
	uint32_t pos = 0;

	if (!dev)
		return;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bool ok = true;

		memset(out, 0, sizeof(out));
		CHECK_EQ(vio_rng_read(dev, out, sizes[i], SEC), (int)sizes[i]);
		for (size_t k = 0; k < sizes[i]; k++)
			ok = ok && out[k] == sim_rng_byte(pos + (uint32_t)k);
		CHECK(ok);
		pos += (uint32_t)sizes[i];
	}
	CHECK_EQ(dev->state, VIO_DEV_READY);
	check_irqs(dev);
}

/* ------------------------------------------------------------------ */
/* blk */

static uint8_t pattern(uint64_t off, unsigned seed)
{
	return (uint8_t)(((off + seed) * 2654435761u) >> 24);
}

static void fill(uint8_t *p, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = pattern(off + i, seed);
}

static bool same(const uint8_t *p, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != pattern(off + i, seed))
			return false;
	}
	return true;
}

static struct vio_device *blk_setup_size(uint32_t queue_size)
{
	CHECK_EQ(vio_init(port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_blk_driver, NULL), 0);
	d = sim_dev_new(0, cfg.version, VIRTIO_ID_BLOCK);
	d->q[0].num_max = queue_size;
	sim_blk_attach(d, &blk, disk, DISK_SECTORS);
	d->features = (d->features & ~(EVENT_IDX | INDIRECT)) | cfg.ring;
	fill(disk, sizeof(disk), 0, 1);
	return add();
}

static struct vio_device *blk_setup(void)
{
	return blk_setup_size(256);
}

/* Blocking reads and writes of one buffer, split where the device needs it. */
static void blk_rw(void)
{
	static const uint32_t counts[] = { 1, 8, 129, VIO_BLK_REQ_SECTORS_DEFAULT + 1 };
	struct vio_device *dev = blk_setup();
	uint64_t sector = 3;

	if (!dev)
		return;
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t n = (size_t)counts[i] * 512;

		memset(buf, 0, n);
		CHECK_EQ(vio_blk_read(dev, sector, buf, counts[i]), 0);
		CHECK(same(buf, n, sector * 512, 1));
		fill(buf, n, 0, 100 + i);
		CHECK_EQ(vio_blk_write(dev, sector, buf, counts[i]), 0);
		CHECK(same(disk + sector * 512, n, 0, 100 + i));
		memset(buf2, 0, n);
		CHECK_EQ(vio_blk_read(dev, sector, buf2, counts[i]), 0);
		CHECK(!memcmp(buf, buf2, n));
		sector += counts[i] + 1;
	}
	CHECK_EQ(dev->state, VIO_DEV_READY);
	check_irqs(dev);
}

/* Scatter-gather: pieces of different sizes in one request. */
static void blk_vectors(void)
{
	struct vio_device *dev = blk_setup();
	struct vio_sg sg[3] = {
		{ buf, 512 }, { buf + 4096, 3 * 512 }, { buf2, 4096 },
	};

	if (!dev)
		return;
	fill(buf, 512, 0, 7);
	fill(buf + 4096, 3 * 512, 512, 7);
	fill(buf2, 4096, 2048, 7);
	CHECK_EQ(vio_blk_writev(dev, 0, 64, sg, 3), 0);
	CHECK(same(disk + 64 * 512, 6144, 0, 7));
	memset(buf, 0, 8192);
	memset(buf2, 0, 4096);
	CHECK_EQ(vio_blk_readv(dev, 0, 64, sg, 3), 0);
	CHECK(same(buf, 512, 0, 7));
	CHECK(same(buf + 4096, 3 * 512, 512, 7));
	CHECK(same(buf2, 4096, 2048, 7));
	CHECK_EQ(blk.max_segs, 3);
}

static void blk_flush_id(void)
{
	struct vio_device *dev = blk_setup();
	char id[VIO_BLK_ID_LEN + 1];

	if (!dev)
		return;
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 1);
	blk.serial = "vio-disk-0001";
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), 13);
	CHECK_STR(id, "vio-disk-0001");
	blk.serial = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), 20);
	CHECK_STR(id, "ABCDEFGHIJKLMNOPQRST");
	/* A failing request's status byte must reach the CPU too. */
	blk.status_once = VIRTIO_BLK_S_UNSUPP;
	CHECK_EQ(vio_blk_get_id(dev, id, sizeof(id)), VIO_ENOTSUP);
	blk.status_once = VIRTIO_BLK_S_IOERR;
	CHECK_EQ(vio_blk_flush(dev), VIO_EIO);
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.flushes, 3);
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

static unsigned ndone;

static void on_done(struct vio_blk_req *req)
{
	(void)req;
	ndone++;
}

static void init_req(struct vio_blk_req *r, enum vio_blk_op op, uint64_t sector,
		     struct vio_sg *sg, unsigned nsg)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->sector = sector;
	r->sg = sg;
	r->nsg = nsg;
	r->done = on_done;
}

/* Wait for ndone to reach n. */
static void wait_done(struct vio_device *dev, unsigned n)
{
	int rc = 0;

	for (unsigned i = 0; i < 100 && ndone < n && rc >= 0; i++)
		rc = vio_blk_wait(dev, 0, SEC);
	CHECK_EQ(ndone, n);
}

/* Eight reads in one notification, then taken off the ring together. */
static void blk_async_batch(void)
{
	struct vio_device *dev = blk_setup();
	struct vio_blk_req reqs[8];
	struct vio_sg sg[8];

	if (!dev)
		return;
	ndone = 0;
	memset(buf, 0, 8 * 4096);
	for (unsigned round = 0; round < 3; round++) {
		unsigned base = ndone;

		for (unsigned i = 0; i < 8; i++) {
			sg[i].buf = buf + i * 4096;
			sg[i].len = 4096;
			init_req(&reqs[i], VIO_BLK_OP_READ, i * 100 + round, &sg[i], 1);
			CHECK_EQ(vio_blk_queue(dev, 0, &reqs[i]), 0);
		}
		vio_blk_kick(dev, 0);
		wait_done(dev, base + 8);
		for (unsigned i = 0; i < 8; i++) {
			CHECK_EQ(reqs[i].result, 0);
			CHECK(same(buf + i * 4096, 4096, (i * 100 + round) * 512ull, 1));
		}
	}
	CHECK_EQ(vio_blk_in_flight(dev, 0), 0);
	check_irqs(dev);
}

/*
 * A device that completes one request each time it runs: the driver takes
 * each completion off the ring (and says where it wants the next
 * interrupt) while the others are still with the device, with no kick in
 * between to carry its ring writes to the device.
 */
static unsigned budget;
static struct sim_model trickle_model;

static int trickle_handle(struct sim_dev *dev, unsigned q, const struct sim_chain *c)
{
	if (!budget)
		return SIM_HOLD;
	budget--;
	return sim_blk_model.handle(dev, q, c);
}

static void one_per_run(unsigned nrun)
{
	(void)nrun;
	budget = 1;
}

static void blk_async_trickle(void)
{
	struct vio_device *dev = blk_setup();
	struct vio_blk_req reqs[4];
	struct vio_sg sg[4];

	if (!dev)
		return;
	trickle_model = sim_blk_model;
	trickle_model.handle = trickle_handle;
	d->model = &trickle_model;
	budget = 0;
	sim_on_run = one_per_run;
	ndone = 0;
	memset(buf, 0, 4 * 4096);
	for (unsigned i = 0; i < 4; i++) {
		sg[i].buf = buf + i * 4096;
		sg[i].len = 4096;
		init_req(&reqs[i], VIO_BLK_OP_READ, i * 50, &sg[i], 1);
		CHECK_EQ(vio_blk_queue(dev, 0, &reqs[i]), 0);
	}
	vio_blk_kick(dev, 0);
	wait_done(dev, 4);
	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(reqs[i].result, 0);
		CHECK(same(buf + i * 4096, 4096, i * 50 * 512ull, 1));
	}
	CHECK_EQ(blk.reads, 4);
	check_irqs(dev);
}

/*
 * The driver adds requests to the ring while the device completes earlier
 * ones, on a small ring where every avail entry lies near the used ring:
 * the device's used-ring writes must survive the driver's ring writes.
 */
static void blk_async_overlap(void)
{
	struct vio_device *dev = blk_setup_size(8);
	struct vio_blk_req reqs[16];
	struct vio_sg sg[16];
	unsigned next = 0;

	if (!dev)
		return;
	trickle_model = sim_blk_model;
	trickle_model.handle = trickle_handle;
	d->model = &trickle_model;
	sim_step_in_time = false;
	ndone = 0;
	memset(buf, 0, 16 * 4096);
	for (unsigned i = 0; i < 16; i++) {
		sg[i].buf = buf + i * 4096;
		sg[i].len = 4096;
		init_req(&reqs[i], VIO_BLK_OP_READ, i * 30, &sg[i], 1);
	}
	for (; next < 2; next++)
		CHECK_EQ(vio_blk_queue(dev, 0, &reqs[next]), 0);
	vio_blk_kick(dev, 0);
	while (next < 16) {
		budget = 1;
		sim_step(d);
		vio_blk_poll(dev, 0);
		/* Queued, not yet published, while the device works on. */
		CHECK_EQ(vio_blk_queue(dev, 0, &reqs[next++]), 0);
		budget = 1;
		sim_step(d);
		vio_blk_kick(dev, 0);
	}
	budget = 16;
	sim_step(d);
	vio_blk_poll(dev, 0);
	CHECK_EQ(ndone, 16);
	for (unsigned i = 0; i < 16; i++) {
		CHECK_EQ(reqs[i].result, 0);
		CHECK(same(buf + i * 4096, 4096, i * 30 * 512ull, 1));
	}
	CHECK_EQ(dev->state, VIO_DEV_READY);
}

/* One batch of every request type. */
static void blk_async_ops(void)
{
	struct vio_device *dev = blk_setup();
	struct vio_blk_req r[6];
	struct vio_sg wsg[2] = { { buf, 1024 }, { buf2, 512 } };
	struct vio_sg rsg = { buf + 8192, 1536 };
	char id[VIO_BLK_ID_LEN + 1];

	if (!dev)
		return;
	ndone = 0;
	blk.serial = "async-id";
	fill(buf, 1024, 0, 5);
	fill(buf2, 512, 1024, 5);
	memset(buf + 8192, 0, 1536);
	init_req(&r[0], VIO_BLK_OP_WRITE, 40, wsg, 2);
	init_req(&r[1], VIO_BLK_OP_FLUSH, 0, NULL, 0);
	init_req(&r[2], VIO_BLK_OP_DISCARD, 80, NULL, 0);
	r[2].count = 16;
	init_req(&r[3], VIO_BLK_OP_WRITE_ZEROES, 96, NULL, 0);
	r[3].count = 8;
	r[3].unmap = true;
	init_req(&r[4], VIO_BLK_OP_GET_ID, 0, NULL, 0);
	r[4].id = id;
	init_req(&r[5], VIO_BLK_OP_READ, 200, &rsg, 1);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(vio_blk_queue(dev, 0, &r[i]), 0);
	vio_blk_kick(dev, 0);
	wait_done(dev, 6);
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(r[i].result, 0);
	CHECK(same(disk + 40 * 512, 1536, 0, 5));
	CHECK_EQ(disk[80 * 512], 0xd5);
	CHECK_EQ(disk[96 * 512 + 100], 0);
	CHECK_STR(id, "async-id");
	CHECK(same(buf + 8192, 1536, 200 * 512, 1));
	CHECK_EQ(blk.flushes, 1);
	CHECK_EQ(blk.discards, 1);
	CHECK_EQ(blk.write_zeroes, 1);
}

/* ------------------------------------------------------------------ */

static void run_all(uint32_t version, uint64_t ring, bool polled)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "rng_read", rng_read },
		{ "blk_rw", blk_rw },
		{ "blk_vectors", blk_vectors },
		{ "blk_flush_id", blk_flush_id },
		{ "blk_async_batch", blk_async_batch },
		{ "blk_async_ops", blk_async_ops },
		{ "blk_async_trickle", blk_async_trickle },
		{ "blk_async_overlap", blk_async_overlap },
	};
	char name[128];

	cfg.version = version;
	cfg.ring = ring;
	cfg.polled = polled;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "%s %s%s%s %s", cases[i].name,
			 version == 1 ? "legacy" : "modern", ring & EVENT_IDX ? " event_idx" : "",
			 ring & INDIRECT ? " indirect" : "", polled ? "polled" : "irq");
		test_run(name, cases[i].fn);
	}
}

int main(void)
{
	static const uint64_t rings[] = { 0, EVENT_IDX, INDIRECT, EVENT_IDX | INDIRECT };

	for (uint32_t version = 1; version <= 2; version++) {
		for (unsigned r = 0; r < sizeof(rings) / sizeof(rings[0]); r++) {
			run_all(version, rings[r], false);
			run_all(version, rings[r], true);
		}
	}
	return test_report();
}
