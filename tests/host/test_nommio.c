/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The library built without the virtio-mmio transport
 * (CONFIG_VIO_TRANSPORT_MMIO=n): the device core and the drivers must reach
 * a device only through struct vio_transport_ops. This program links every
 * object of that library (whole archive), so a direct call into the mmio
 * transport anywhere in it fails the link, and it drives rng and blk
 * through a transport of its own.
 *
 * The fake transport is a bus with no registers: its operations change the
 * simulated device's state (tests/sim) directly, and the simulator only
 * plays the device side of the rings (sim_queue_attach) and the device
 * models. A register access the library made behind the transport's back
 * would show in the simulated device's register counters, which stay zero.
 */
#include <string.h>

#include <vio/blk.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>
#include <vio/transport.h>

#include "blk_model.h"
#include "sim.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#if CONFIG_VIO_TRANSPORT_MMIO
#error "test_nommio is built with the virtio-mmio transport disabled"
#endif

#define SEC 1000000000ull
#define DISK_SECTORS 256

/* ------------------------------------------------------------------ */
/* The fake transport: t->priv is the simulated device. */

static struct sim_dev *dev_of(struct vio_transport *t)
{
	return t->priv;
}

static int fake_reset(struct vio_transport *t, const struct vio_port *port, uint64_t timeout_ns)
{
	struct sim_dev *d = dev_of(t);

	(void)port;
	(void)timeout_ns;
	/* 2.4: after a reset the device uses no queue and has forgotten the features. */
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++)
		d->q[i].ready = false;
	d->status = 0;
	d->driver_features = 0;
	d->int_status = 0;
	d->resets++;
	if (d->model->reset)
		d->model->reset(d);
	return 0;
}

static uint8_t fake_get_status(struct vio_transport *t)
{
	return dev_of(t)->status;
}

static void fake_set_status(struct vio_transport *t, uint8_t status)
{
	struct sim_dev *d = dev_of(t);

	if (d->nstatus_log < SIM_STATUS_LOG)
		d->status_log[d->nstatus_log] = status;
	d->nstatus_log++;
	d->status = status;
}

static uint64_t fake_get_features(struct vio_transport *t)
{
	return dev_of(t)->features;
}

static void fake_set_features(struct vio_transport *t, uint64_t features)
{
	dev_of(t)->driver_features = features;
}

static uint32_t fake_config_generation(struct vio_transport *t)
{
	return dev_of(t)->config_gen;
}

/* Raw bytes, as a bus hands them over: the core converts from little-endian. */
static uint32_t fake_config_read(struct vio_transport *t, unsigned off, unsigned width)
{
	struct sim_dev *d = dev_of(t);
	uint32_t v = 0;

	if (off + width <= d->config_size)
		memcpy(&v, d->config + off, width);
	else
		sim_error("fake: config read at %u width %u", off, width);
	return v;
}

static void fake_config_write(struct vio_transport *t, unsigned off, unsigned width, uint32_t v)
{
	struct sim_dev *d = dev_of(t);

	if (off + width > d->config_size) {
		sim_error("fake: config write at %u width %u", off, width);
		return;
	}
	memcpy(d->config + off, &v, width);
	if (d->model->config_write)
		d->model->config_write(d, off, width);
}

static uint32_t fake_queue_max(struct vio_transport *t, unsigned index)
{
	return index < SIM_MAX_QUEUES ? dev_of(t)->q[index].num_max : 0;
}

static uint32_t fake_ring_align(struct vio_transport *t)
{
	(void)t;
	return 4; /* 2.7: a modern split ring's strictest part, the used ring */
}

static int fake_queue_enable(struct vio_transport *t, unsigned index, uint32_t size,
			     const struct vio_queue_addrs *a)
{
	/* The test port's DMA addresses are the CPU's. */
	sim_queue_attach(dev_of(t), index, size, (void *)(uintptr_t)a->desc,
			 (void *)(uintptr_t)a->avail, (void *)(uintptr_t)a->used);
	return 0;
}

static int fake_queue_disable(struct vio_transport *t, unsigned index)
{
	dev_of(t)->q[index].ready = false;
	return 0;
}

static void fake_notify(struct vio_transport *t, unsigned index)
{
	dev_of(t)->q[index].notifies++;
}

static uint32_t fake_ack_irq(struct vio_transport *t)
{
	struct sim_dev *d = dev_of(t);
	uint32_t bits = d->int_status & (VIO_IRQ_QUEUE | VIO_IRQ_CONFIG);

	d->int_status &= ~bits;
	return bits;
}

static const struct vio_transport_ops fake_ops = {
	.name = "fake",
	.reset = fake_reset,
	.get_status = fake_get_status,
	.set_status = fake_set_status,
	.get_features = fake_get_features,
	.set_features = fake_set_features,
	.config_generation = fake_config_generation,
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.queue_max = fake_queue_max,
	.ring_align = fake_ring_align,
	.queue_enable = fake_queue_enable,
	.queue_disable = fake_queue_disable,
	.notify = fake_notify,
	.ack_irq = fake_ack_irq,
};

/* Add simulated device d through the fake transport, interrupts on irq (-1: none). */
static struct vio_device *fake_add(struct sim_dev *d, int irq)
{
	struct vio_transport t = {
		.ops = &fake_ops,
		.priv = d,
		.base = d->base,
		.irq = irq,
		.version = 2,
		.legacy = false,
		.device_id = d->device_id,
		.vendor_id = d->vendor_id,
	};
	struct vio_device *dev = NULL;

	d->features |= 1ull << VIRTIO_F_VERSION_1;
	d->irq = irq;
	CHECK_EQ(vio_dev_add(&t, d->slot, &dev), 0);
	CHECK(dev != NULL);
	if (!dev)
		return NULL;
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK_STR(vio_dev_interface(dev), "modern");
	return dev;
}

/* No register of the simulated device was touched: all went through the transport. */
static void no_registers(const struct sim_dev *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < SIM_REGS; i++)
		n += d->reads[i] + d->writes[i];
	CHECK_EQ(n + d->config_reads + d->config_writes, 0);
}

/* ------------------------------------------------------------------ */

static void rng_over_fake_transport(void)
{
	static struct sim_rng rng;
	struct sim_dev *d;
	struct vio_device *dev;
	uint8_t buf[300];

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);
	d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	sim_rng_attach(d, &rng);
	dev = fake_add(d, 1);
	if (!dev)
		return;
	CHECK_STR(dev->name, "rng0");
	CHECK(vio_dev_uses_irq(dev) == !CONFIG_VIO_COMPLETION_POLL);
	/* Two reads: the stream continues, so the ring was used and recycled. */
	for (unsigned k = 0; k < 2; k++) {
		memset(buf, 0, sizeof(buf));
		CHECK_EQ(vio_rng_read(dev, buf, sizeof(buf), SEC), (int)sizeof(buf));
		for (unsigned i = 0; i < sizeof(buf); i++) {
			if (buf[i] != sim_rng_byte(k * sizeof(buf) + i)) {
				CHECK_EQ(buf[i], sim_rng_byte(k * sizeof(buf) + i));
				break;
			}
		}
	}
	CHECK(d->q[0].notifies > 0);
	CHECK(sim_irqs_delivered() > 0);
	no_registers(d);
}

static void blk_over_fake_transport(void)
{
	static uint8_t disk[DISK_SECTORS * VIO_BLK_SECTOR_SIZE];
	static uint8_t buf[8 * VIO_BLK_SECTOR_SIZE];
	static struct sim_blk blk;
	struct vio_blk_info in;
	struct sim_dev *d;
	struct vio_device *dev;

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_blk_driver, NULL), 0);
	d = sim_dev_new(3, 2, VIRTIO_ID_BLOCK);
	sim_blk_attach(d, &blk, disk, DISK_SECTORS);
	for (size_t i = 0; i < sizeof(disk); i++)
		disk[i] = (uint8_t)(i * 7 + i / 512);
	dev = fake_add(d, -1); /* no interrupt line: polled */
	if (!dev)
		return;
	CHECK_EQ(vio_dev_uses_irq(dev), 0);
	CHECK_EQ(vio_blk_get_info(dev, &in), 0);
	CHECK_EQ(in.capacity, DISK_SECTORS);

	/* A read returns the disk; a write changes exactly its sectors. */
	CHECK_EQ(vio_blk_read(dev, 10, buf, 8), 0);
	CHECK(!memcmp(buf, disk + 10 * VIO_BLK_SECTOR_SIZE, sizeof(buf)));
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(vio_blk_write(dev, 100, buf, 8), 0);
	CHECK(!memcmp(disk + 100 * VIO_BLK_SECTOR_SIZE, buf, sizeof(buf)));
	CHECK_EQ(disk[100 * VIO_BLK_SECTOR_SIZE - 1], (uint8_t)((100 * 512 - 1) * 7 + 99));
	CHECK_EQ(vio_blk_flush(dev), 0);
	CHECK_EQ(blk.reads, 1);
	CHECK_EQ(blk.writes, 1);

	/* A failure resets the device through the transport. */
	vio_dev_fail(dev, VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(d->resets, 2); /* the probe's and the failure's */
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(vio_blk_read(dev, 0, buf, 1), VIO_ESHUTDOWN);
	no_registers(d);
}

int main(void)
{
	RUN(rng_over_fake_transport);
	RUN(blk_over_fake_transport);
	return test_report();
}
