/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Failure and recovery (vio_dev_recover) against the simulated devices: a
 * device that stops answering (the blocking call's timeout fails it), one
 * that breaks the ring protocol (test_blk.c and test_rng.c recover one
 * that reports DEVICE_NEEDS_RESET); each is recovered and must work again, checked
 * on the simulated disk's bytes and the rng's stream. Repeated cycles must
 * not leak DMA memory. Built against the interrupt-driven and the polled
 * library.
 */
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "blk_model.h"
#include "sim.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define DISK_SECTORS 256u

static struct sim_blk blk;
static struct sim_rng rng;
static const struct vio_rng_params rng_params = { .timeout_ms = 10 };
static struct sim_dev *d;
static uint8_t disk[DISK_SECTORS * 512];
static uint8_t buf[8 * 512];

static struct vio_device *add_dev(uint32_t version, uint32_t id)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_blk_driver, NULL), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, &rng_params), 0);
	d = sim_dev_new(0, version, id);
	if (version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	if (id == VIRTIO_ID_BLOCK) {
		sim_blk_attach(d, &blk, disk, DISK_SECTORS);
		memset(disk, 0x11, sizeof(disk));
	} else {
		sim_rng_attach(d, &rng);
	}
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev != NULL);
	if (dev && dev->state != VIO_DEV_READY)
		return NULL;
	return dev;
}

/* The guest writes byte seed to sectors 8..15 and reads it back; the disk shows it. */
static void blk_works(struct vio_device *dev, unsigned seed)
{
	static uint8_t want[sizeof(buf)];

	memset(want, (int)seed, sizeof(want));
	memcpy(buf, want, sizeof(buf));
	CHECK_EQ(vio_blk_write(dev, 8, buf, 8), 0);
	CHECK(memcmp(disk + 8 * 512, want, sizeof(want)) == 0);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vio_blk_read(dev, 8, buf, 8), 0);
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
}

/* ------------------------------------------------------------------ */
/* blk */

static void blk_timeout_recover(uint32_t version)
{
	struct vio_device *dev = add_dev(version, VIRTIO_ID_BLOCK);
	uint64_t t0;

	if (!dev)
		return;
	blk_works(dev, 2);
	CHECK_EQ(vio_blk_set_timeout(dev, 20 * MS), 0);
	blk.hold = true;
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ETIMEDOUT);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(vio_blk_write(dev, 8, buf, 8), VIO_ESHUTDOWN);

	/* The device answers again: recovered, it serves writes and reads. */
	blk.hold = false;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_EQ(dev->error, 0);
	blk_works(dev, 3);

	/* The timeout the application set survived the recovery (not the 5 s default). */
	blk.hold = true;
	t0 = sim_now();
	CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ETIMEDOUT);
	CHECK(sim_now() - t0 < SEC);
	blk.hold = false;
	CHECK_EQ(vio_dev_recover(dev), 0);
	blk_works(dev, 4);
}

static void test_blk_timeout_modern(void)
{
	blk_timeout_recover(2);
}

static void test_blk_timeout_legacy(void)
{
	blk_timeout_recover(1);
}

static void blk_evil_recover(uint32_t version)
{
	struct vio_device *dev = add_dev(version, VIRTIO_ID_BLOCK);
	int rc;

	if (!dev)
		return;
	d->evil = SIM_EVIL_ID_RANGE; /* a used id beyond the ring */
	rc = vio_blk_read(dev, 0, buf, 8);
	CHECK(rc == VIO_EPROTO || rc == VIO_ESHUTDOWN);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_EPROTO);
	d->evil = SIM_EVIL_NONE;
	CHECK_EQ(vio_dev_recover(dev), 0);
	blk_works(dev, 6);
}

static void test_blk_evil_modern(void)
{
	blk_evil_recover(2);
}

static void test_blk_evil_legacy(void)
{
	blk_evil_recover(1);
}

static unsigned done_calls;
static int done_result;

static void on_done(struct vio_blk_req *req)
{
	done_calls++;
	done_result = req->result;
}

static struct vio_blk_req req[4];
static uint8_t data[4][512];
static struct vio_sg sg[4];

/* Four one-sector requests op on sectors 0..3, in flight at once; done_calls starts at 0. */
static void submit_four(struct vio_device *dev, enum vio_blk_op op)
{
	done_calls = 0;
	for (unsigned i = 0; i < 4; i++) {
		sg[i].buf = data[i];
		sg[i].len = sizeof(data[i]);
		memset(&req[i], 0, sizeof(req[i]));
		req[i].op = op;
		req[i].sector = i;
		req[i].sg = &sg[i];
		req[i].nsg = 1;
		req[i].done = on_done;
		CHECK_EQ(vio_blk_submit(dev, 0, &req[i]), 0);
	}
}

/*
 * Many cycles, with asynchronous requests in flight at each failure: every
 * callback runs once with an error before the recovery returns, and the
 * DMA memory in use comes back to what it was.
 */
static void test_blk_cycles(void)
{
	struct vio_device *dev = add_dev(2, VIRTIO_ID_BLOCK);
	unsigned live;

	if (!dev)
		return;
	live = sim_dma_live();
	CHECK_EQ(vio_blk_set_timeout(dev, 5 * MS), 0);
	for (unsigned cycle = 0; cycle < 20; cycle++) {
		blk.hold = true;
		submit_four(dev, VIO_BLK_OP_READ);
		CHECK_EQ(vio_blk_read(dev, 0, buf, 8), VIO_ETIMEDOUT);
		blk.hold = false;
		CHECK_EQ(vio_dev_recover(dev), 0);
		CHECK_EQ(done_calls, 4);
		CHECK(done_result < 0);
		CHECK_EQ(sim_dma_live(), live);
	}
	blk_works(dev, 7);
}

/* Register accesses the simulated device has seen so far. */
static unsigned reg_accesses(void)
{
	unsigned n = d->config_reads + d->config_writes + d->gen_reads;

	for (unsigned i = 0; i < SIM_REGS; i++)
		n += d->reads[i] + d->writes[i];
	return n;
}

/*
 * A hot-unplug (vio_dev_remove) with requests in flight: each callback
 * runs once with an error, new calls fail, and the core never touches a
 * register again, not on a service pass, an interrupt, a configuration
 * read or a recovery attempt. Plugged in again (vio_dev_replug), the
 * same handle reads and writes the disk.
 */
static void blk_unplug(bool present)
{
	struct vio_device *dev = add_dev(2, VIRTIO_ID_BLOCK);
	struct vio_transport t;
	unsigned live, accesses;
	uint64_t v;

	if (!dev)
		return;
	live = sim_dma_live();
	blk.hold = true;
	submit_four(dev, VIO_BLK_OP_WRITE);
	accesses = reg_accesses();
	vio_dev_remove(dev, present);
	if (present)
		CHECK(d->resets > 0); /* stopped before it loses power */
	accesses = reg_accesses();
	(void)vio_service();
	CHECK_EQ(done_calls, 4);
	CHECK(done_result < 0);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(vio_blk_write(dev, 8, buf, 8), VIO_ESHUTDOWN);
	CHECK_EQ(vio_dev_config_read(dev, 0, 8, &v), VIO_ENODEV);
	CHECK_EQ(vio_dev_recover(dev), VIO_ENODEV);
	vio_dev_irq(dev);
	(void)vio_service();
	CHECK_EQ(reg_accesses(), accesses);

	/* Another device type in its place is refused; the same type comes back. */
	blk.hold = false;
	CHECK_EQ(vio_mmio_identify(&t, d->base, d->irq), 0);
	t.device_id = VIRTIO_ID_RNG;
	CHECK_EQ(vio_dev_replug(dev, &t), VIO_EINVAL);
	if (t.ops->release)
		t.ops->release(&t);
	CHECK_EQ(vio_mmio_identify(&t, d->base, d->irq), 0);
	CHECK_EQ(vio_dev_replug(dev, &t), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	blk_works(dev, 10);
	CHECK_EQ(sim_dma_live(), live);
}

static void test_blk_unplug_request(void)
{
	blk_unplug(true);
}

static void test_blk_surprise_removal(void)
{
	blk_unplug(false);
}

/* ------------------------------------------------------------------ */
/* rng */

static void test_rng_timeout_recover(void)
{
	static uint8_t out[600]; /* more than the bytes one request brings */
	struct vio_device *dev = add_dev(2, VIRTIO_ID_RNG);
	unsigned live;

	if (!dev)
		return;
	live = sim_dma_live();
	for (unsigned cycle = 0; cycle < 10; cycle++) {
		rng.hold = true;
		CHECK_EQ(vio_rng_read(dev, out, sizeof(out), 10 * MS), VIO_ETIMEDOUT);
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(vio_rng_read(dev, out, 16, 10 * MS), VIO_ESHUTDOWN);
		rng.hold = false;
		CHECK_EQ(vio_dev_recover(dev), 0);
		CHECK_EQ(vio_rng_read(dev, out, sizeof(out), SEC), (int)sizeof(out));
		CHECK_EQ(sim_dma_live(), live);
	}
}

/* ------------------------------------------------------------------ */
/* What recover refuses */

static void test_refused(void)
{
	struct vio_device *dev = add_dev(2, VIRTIO_ID_BLOCK);

	CHECK_EQ(vio_dev_recover(NULL), VIO_EINVAL);
	if (!dev)
		return;
	/* Not failed: nothing to recover; the device goes on. */
	CHECK_EQ(vio_dev_recover(dev), VIO_EINVAL);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	blk_works(dev, 8);
}

/* A device that failed while it was added is probed afresh. */
static void test_failed_at_add(void)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_blk_driver, NULL), 0);
	d = sim_dev_new(0, 2, VIRTIO_ID_BLOCK);
	d->features |= 1ull << VIRTIO_F_VERSION_1;
	sim_blk_attach(d, &blk, disk, DISK_SECTORS);
	d->q[0].num_max = 0; /* no request queue: probe fails */
	CHECK(vio_mmio_add(d->base, d->irq, 0, &dev) < 0);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	/* Still broken: it fails again, and says so. */
	CHECK(vio_dev_recover(dev) < 0);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	d->q[0].num_max = 64;
	CHECK_EQ(vio_dev_recover(dev), 0);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	blk_works(dev, 9);
}

int main(void)
{
	RUN(test_blk_timeout_modern);
	RUN(test_blk_timeout_legacy);
	RUN(test_blk_evil_modern);
	RUN(test_blk_evil_legacy);
	RUN(test_blk_cycles);
	RUN(test_blk_unplug_request);
	RUN(test_blk_surprise_removal);
	RUN(test_rng_timeout_recover);
	RUN(test_refused);
	RUN(test_failed_at_add);
	return test_report();
}
