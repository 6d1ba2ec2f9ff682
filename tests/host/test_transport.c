/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-mmio transport, legacy (version 1) and modern (version 2), against
 * the simulated register file: identification, reset, the status sequence
 * of VirtIO 1.2 section 3.1.1, features, queue set-up, config space with
 * the generation retry, interrupt acknowledge.
 */
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_mmio.h>

#include "sim.h"
#include "sim_port.h"
#include "test.h"

#define ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define DRV VIRTIO_CONFIG_S_DRIVER
#define FOK VIRTIO_CONFIG_S_FEATURES_OK
#define DOK VIRTIO_CONFIG_S_DRIVER_OK
#define FAILED VIRTIO_CONFIG_S_FAILED
#define F(bit) (1ull << (bit))

#define REG(off) ((off) / 4)

/* A driver for the console id that only sets up queue 0. */
static struct vio_vq *probed_vq;
static unsigned probes;

static int q0_probe(struct vio_device *dev)
{
	probes++;
	return vio_dev_vq_setup(dev, 0, NULL, &probed_vq);
}

static const struct vio_driver q0_driver = {
	.name = "q0",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = F(0) | F(1),
	.probe = q0_probe,
};

static void init(void)
{
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&q0_driver, NULL), 0);
	probed_vq = NULL;
	probes = 0;
}

static void test_identify_modern(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct vio_transport t;

	d->vendor_id = 0x1234;
	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	CHECK_EQ(t.version, 2);
	CHECK(!t.legacy);
	CHECK_EQ(t.device_id, VIRTIO_ID_RNG);
	CHECK_EQ(t.vendor_id, 0x1234);
	CHECK_EQ(t.base, d->base);
	CHECK(t.ops == &vio_mmio_ops);
	/* Identification does not touch the status. */
	CHECK_EQ(d->nstatus_log, 0);
}

static void test_identify_legacy(void)
{
	struct sim_dev *d = sim_dev_new(1, 1, VIRTIO_ID_BLOCK);
	struct vio_transport t;

	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	CHECK_EQ(t.version, 1);
	CHECK(t.legacy);
	CHECK_EQ(t.device_id, VIRTIO_ID_BLOCK);
}

static void test_identify_bad(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct sim_dev *e = sim_dev_new(1, 3, VIRTIO_ID_RNG);
	struct sim_dev *z = sim_dev_new(2, 2, 0);
	struct vio_transport t;

	d->magic = 0x12345678;
	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), VIO_ENODEV);
	/* 4.2.3.1.1: an unknown version is not driven */
	CHECK_EQ(vio_mmio_identify(&t, e->base, -1), 0);
	CHECK(t.unsupported);
	CHECK_EQ(t.version, 3);
	/* an empty slot: device id 0 */
	CHECK_EQ(vio_mmio_identify(&t, z->base, -1), 0);
	CHECK_EQ(t.device_id, 0);

	init();
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, NULL), VIO_ENODEV);
	CHECK_EQ(vio_mmio_add(z->base, z->irq, 2, NULL), VIO_ENODEV);
	CHECK_EQ(vio_dev_count(), 0);
	/* A wrong magic value or an empty slot is never written to. */
	CHECK_EQ(d->nstatus_log, 0);
	CHECK_EQ(z->nstatus_log, 0);

	struct vio_device *dev = NULL;
	CHECK_EQ(vio_mmio_add(e->base, e->irq, 1, &dev), VIO_ENOTSUP);
	CHECK_EQ(vio_dev_count(), 1);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_REFUSED);
		CHECK_EQ(dev->error, VIO_ENOTSUP);
	}
	CHECK_EQ(e->nstatus_log, 0);
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
}

/*
 * 4.2.3.1.1: a slot showing DeviceID 0 holds no device; the driver reads
 * MagicValue, Version and DeviceID and must not touch any other register
 * (the simulator reports any other access as a driver error). QEMU's empty
 * slots look like this, in either interface version.
 */
static void test_device_id_0(void)
{
	struct sim_dev *z[2] = { sim_dev_new(0, 2, 0), sim_dev_new(1, 1, 0) };
	struct vio_transport t;

	init();
	for (unsigned i = 0; i < 2; i++) {
		unsigned other = 0, writes = 0;

		CHECK_EQ(vio_mmio_identify(&t, z[i]->base, z[i]->irq), 0);
		CHECK_EQ(t.device_id, 0);
		CHECK_EQ(vio_mmio_add(z[i]->base, z[i]->irq, i, NULL), VIO_ENODEV);
		for (unsigned r = 0; r < SIM_REGS; r++) {
			if (r != REG(VIRTIO_MMIO_MAGIC_VALUE) && r != REG(VIRTIO_MMIO_VERSION) &&
			    r != REG(VIRTIO_MMIO_DEVICE_ID))
				other += z[i]->reads[r];
			writes += z[i]->writes[r];
		}
		CHECK_EQ(other, 0);
		CHECK_EQ(writes, 0);
		CHECK_EQ(z[i]->config_reads + z[i]->config_writes, 0);
		CHECK_EQ(z[i]->bad_id0_accesses, 0);
		CHECK(z[i]->reads[REG(VIRTIO_MMIO_DEVICE_ID)] > 0);
	}
	CHECK_EQ(vio_dev_count(), 0);
}

static void test_reset(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct vio_transport t;
	uint64_t t0;

	init();
	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	d->status = ACK | DRV;

	/* A device that takes a few reads to finish. */
	d->reset_delay = 5;
	CHECK_EQ(t.ops->reset(&t, sim_port(), 1000000), 0);
	CHECK_EQ(d->status, 0);
	CHECK_EQ(d->resets, 1);
	CHECK_EQ(d->reset_left, 0);

	/* One that never does: bounded by the timeout, measured on the port's clock. */
	d->status = ACK;
	d->reset_delay = -1;
	t0 = sim_now();
	CHECK_EQ(t.ops->reset(&t, sim_port(), 5000000), VIO_ETIMEDOUT);
	CHECK(sim_now() - t0 >= 5000000);
	CHECK(sim_now() - t0 < 50000000);
}

static void test_reset_stuck_add(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;

	init();
	d->features = F(VIRTIO_F_VERSION_1);
	d->reset_delay = -1;
	sim_time_tick_ns = 100000; /* the clock runs fast while the driver spins */
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_ETIMEDOUT);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(dev->error, VIO_ETIMEDOUT);
	}
	CHECK_EQ(probes, 0);
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
	/* The driver gave up without writing anything else. */
	CHECK_EQ(d->nstatus_log, 1);
}

static void test_status_sequence_modern(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;
	static const uint8_t want[] = { 0, ACK, ACK | DRV, ACK | DRV | FOK, ACK | DRV | FOK | DOK };

	init();
	d->features = F(VIRTIO_F_VERSION_1) | F(0) | F(5);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev && dev->state == VIO_DEV_READY);
	CHECK_EQ(d->nstatus_log, sizeof(want));
	for (unsigned i = 0; i < sizeof(want) && i < d->nstatus_log; i++)
		CHECK_EQ(d->status_log[i], want[i]);
	/* 3.1.1 step 6: the status is read back after FEATURES_OK. */
	CHECK(d->features_ok_reread);
	CHECK_EQ(d->status, ACK | DRV | FOK | DOK);
	/* VERSION_1 and only what was both offered and wanted. */
	CHECK_EQ(d->driver_features, F(VIRTIO_F_VERSION_1) | F(0));
	if (dev) {
		CHECK_EQ(dev->offered, d->features);
		CHECK_EQ(dev->negotiated, F(VIRTIO_F_VERSION_1) | F(0));
		CHECK(vio_dev_has(dev, VIRTIO_F_VERSION_1));
		CHECK(!vio_dev_has(dev, 5));
		CHECK_STR(vio_dev_interface(dev), "modern");
	}
	CHECK_EQ(probes, 1);
}

static void test_status_sequence_legacy(void)
{
	struct sim_dev *d = sim_dev_new(0, 1, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;
	static const uint8_t want[] = { 0, ACK, ACK | DRV, ACK | DRV | DOK };

	init();
	d->features = F(0) | F(1) | F(7);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev && dev->state == VIO_DEV_READY);
	/* 3.1.1 / legacy: no FEATURES_OK step. */
	CHECK_EQ(d->nstatus_log, sizeof(want));
	for (unsigned i = 0; i < sizeof(want) && i < d->nstatus_log; i++)
		CHECK_EQ(d->status_log[i], want[i]);
	CHECK_EQ(sim_status_logged(d, ACK | DRV | FOK), -1);
	CHECK_EQ(d->driver_features, F(0) | F(1));
	/* VERSION_1 never offered to a legacy device; the second word never written. */
	CHECK_EQ(d->driver_features >> 32, 0);
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_DRIVER_FEATURES_SEL)], 0);
	if (dev) {
		CHECK_STR(vio_dev_interface(dev), "legacy");
		CHECK(!vio_dev_has(dev, VIRTIO_F_VERSION_1));
	}
}

/*
 * 6.3 (legacy interface): a transitional driver accepts VIRTIO_F_ANY_LAYOUT
 * when a legacy device offers it; what counts is what the device read from
 * DriverFeatures.
 */
static void test_legacy_any_layout(void)
{
	struct sim_dev *d = sim_dev_new(0, 1, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;

	init();
	d->features = F(0) | F(VIRTIO_F_ANY_LAYOUT);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(dev && dev->state == VIO_DEV_READY);
	CHECK_EQ(d->driver_features, F(0) | F(VIRTIO_F_ANY_LAYOUT));
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_DRIVER_FEATURES)], F(0) | F(VIRTIO_F_ANY_LAYOUT));
	if (dev)
		CHECK(vio_dev_has(dev, VIRTIO_F_ANY_LAYOUT));
}

static void test_features_ok_refused(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;

	init();
	d->features = F(VIRTIO_F_VERSION_1) | F(0);
	d->refuse_features_ok = true;
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_ENOTSUP);
	CHECK(dev != NULL);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_REFUSED);
		CHECK_EQ(dev->error, VIO_ENOTSUP);
	}
	/* 3.1.1: the driver sets FAILED and never DRIVER_OK. */
	CHECK(d->status & FAILED);
	CHECK(!(d->status & DOK));
	CHECK_EQ(probes, 0);
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_version1_required(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;

	init();
	d->features = F(0) | F(1); /* a "modern" device without VERSION_1 */
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), VIO_ENOTSUP);
	CHECK(dev && dev->state == VIO_DEV_REFUSED);
	CHECK(!(d->status & DOK));
	CHECK(!(d->status & FOK));
	CHECK(d->status & FAILED);
	CHECK_EQ(probes, 0);
}

static void test_features_64(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct sim_dev *l = sim_dev_new(1, 1, VIRTIO_ID_RNG);
	struct vio_transport t, tl;

	d->features = F(0) | F(31) | F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_RING_RESET) | F(63);
	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	CHECK_EQ(t.ops->get_features(&t), d->features);
	t.ops->set_status(&t, ACK);
	t.ops->set_status(&t, ACK | DRV);
	t.ops->set_features(&t, F(31) | F(VIRTIO_F_VERSION_1) | F(63));
	CHECK_EQ(d->driver_features, F(31) | F(VIRTIO_F_VERSION_1) | F(63));

	/* A legacy device has 32 bits; the second word reads as nothing. */
	l->features = F(0) | F(28) | F(VIRTIO_F_VERSION_1);
	CHECK_EQ(vio_mmio_identify(&tl, l->base, -1), 0);
	CHECK_EQ(tl.ops->get_features(&tl), F(0) | F(28));
	tl.ops->set_status(&tl, ACK);
	tl.ops->set_status(&tl, ACK | DRV);
	tl.ops->set_features(&tl, F(0) | F(28));
	CHECK_EQ(l->driver_features, F(0) | F(28));
}

static void test_queue_setup_modern(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;
	struct vio_queue_addrs addrs;

	init();
	d->features = F(VIRTIO_F_VERSION_1);
	d->q[0].num_max = 64;
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(probed_vq != NULL);
	if (!probed_vq)
		return;
	CHECK(d->q[0].ready);
	CHECK_EQ(d->q[0].num, 64);
	vio_vq_addrs(probed_vq, &addrs);
	CHECK_EQ(d->q[0].desc, addrs.desc);
	CHECK_EQ(d->q[0].driver, addrs.avail);
	CHECK_EQ(d->q[0].device, addrs.used);
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_QUEUE_READY)], 1);
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_QUEUE_READY)], 1);
	CHECK(d->writes[REG(VIRTIO_MMIO_QUEUE_DESC_HIGH)] >= 1);
	CHECK(d->writes[REG(VIRTIO_MMIO_QUEUE_DRIVER_HIGH)] >= 1);
	CHECK(d->writes[REG(VIRTIO_MMIO_QUEUE_DEVICE_HIGH)] >= 1);
	/* 4.2.2: the legacy registers are left alone (the sim counts them as errors too). */
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_QUEUE_PFN)], 0);
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_GUEST_PAGE_SIZE)], 0);
}

static void test_queue_setup_legacy(void)
{
	struct sim_dev *d = sim_dev_new(0, 1, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;
	struct vio_queue_addrs addrs;

	init();
	d->q[0].num_max = 128;
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK(probed_vq != NULL);
	if (!probed_vq)
		return;
	/* 4.2.4: GuestPageSize, QueueNum, QueueAlign and QueuePFN */
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_GUEST_PAGE_SIZE)], 1);
	CHECK_EQ(d->guest_page_size, 4096);
	CHECK_EQ(d->q[0].num, 128);
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_QUEUE_ALIGN)], 1);
	CHECK_EQ(d->q[0].align, 4096);
	CHECK(d->q[0].pfn != 0);
	CHECK(d->q[0].ready);
	/* The device's idea of the layout matches the driver's (2.7.2, legacy). */
	vio_vq_addrs(probed_vq, &addrs);
	CHECK_EQ(d->q[0].desc, addrs.desc);
	CHECK_EQ(d->q[0].driver, addrs.avail);
	CHECK_EQ(d->q[0].device, addrs.used);
	CHECK_EQ(d->q[0].device % 4096, 0);
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_QUEUE_READY)], 0);
	CHECK_EQ(d->reads[REG(VIRTIO_MMIO_CONFIG_GENERATION)], 0);
}

static void test_queue_max(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct vio_transport t;

	d->q[0].num_max = 32;
	d->q[2].num_max = 1024;
	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	CHECK_EQ(t.ops->queue_max(&t, 0), 32);
	CHECK_EQ(t.ops->queue_max(&t, 1), 0);
	CHECK_EQ(t.ops->queue_max(&t, 2), 1024);
	CHECK_EQ(t.ops->queue_max(&t, 100), 0);
	CHECK_EQ(t.ops->ring_align(&t), 4);

	struct sim_dev *l = sim_dev_new(1, 1, VIRTIO_ID_RNG);
	struct vio_transport tl;

	CHECK_EQ(vio_mmio_identify(&tl, l->base, -1), 0);
	CHECK_EQ(tl.ops->ring_align(&tl), 4096);
}

static void add_with_config(struct sim_dev *d, struct vio_device **dev)
{
	init();
	if (!sim_is_legacy(d))
		d->features = F(VIRTIO_F_VERSION_1);
	sim_config_set(d, 0, 1, 0x5a);
	sim_config_set(d, 2, 2, 0xbeef);
	sim_config_set(d, 4, 4, 0xdeadbeef);
	sim_config_set(d, 8, 8, 0x1122334455667788ull);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, dev), 0);
}

static void test_config_modern(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;
	uint64_t v = 0;

	add_with_config(d, &dev);
	if (!dev)
		return;
	CHECK_EQ(vio_dev_config_read(dev, 0, 1, &v), 0);
	CHECK_EQ(v, 0x5a);
	CHECK_EQ(vio_dev_config_read(dev, 2, 2, &v), 0);
	CHECK_EQ(v, 0xbeef);
	CHECK_EQ(vio_dev_config_read(dev, 4, 4, &v), 0);
	CHECK_EQ(v, 0xdeadbeef);
	CHECK_EQ(vio_dev_config_read(dev, 8, 8, &v), 0);
	CHECK_EQ(v, 0x1122334455667788ull);
	CHECK(d->gen_reads >= 2);

	/* 2.5.1: a generation that changes a few times is retried. */
	d->config_gen_changes = 3;
	v = 0;
	CHECK_EQ(vio_dev_config_read(dev, 8, 8, &v), 0);
	CHECK_EQ(v, 0x1122334455667788ull);
	CHECK_EQ(d->config_gen_changes, 0);

	/* One that never settles is an error, not a hang. */
	d->config_gen_changes = -1;
	CHECK_EQ(vio_dev_config_read(dev, 4, 4, &v), VIO_EPROTO);
	d->config_gen_changes = 0;

	CHECK_EQ(vio_dev_config_write(dev, 4, 4, 0x01020304), 0);
	CHECK_EQ(vio_dev_config_read(dev, 4, 4, &v), 0);
	CHECK_EQ(v, 0x01020304);
	CHECK_EQ(d->config[4], 0x04);
	CHECK_EQ(vio_dev_config_read(dev, 4, 3, &v), VIO_EINVAL);
}

static void test_config_legacy(void)
{
	struct sim_dev *d = sim_dev_new(0, 1, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;
	uint64_t v = 0;

	add_with_config(d, &dev);
	if (!dev)
		return;
	CHECK_EQ(vio_dev_config_read(dev, 2, 2, &v), 0);
	CHECK_EQ(v, 0xbeef);
	CHECK_EQ(vio_dev_config_read(dev, 8, 8, &v), 0);
	CHECK_EQ(v, 0x1122334455667788ull);

	/* No generation on legacy: a 64-bit field is read until two reads agree. */
	d->config_changes = 3;
	CHECK_EQ(vio_dev_config_read(dev, 8, 8, &v), 0);
	CHECK_EQ(v, 0x1122334455667788ull);
	d->config_changes = -1;
	CHECK_EQ(vio_dev_config_read(dev, 8, 8, &v), VIO_EPROTO);
	d->config_changes = 0;
	/* The legacy device has no ConfigGeneration register to read. */
	CHECK_EQ(d->gen_reads, 0);
}

static void test_irq_ack(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct vio_transport t;

	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	CHECK_EQ(t.ops->ack_irq(&t), 0);
	d->int_status = VIRTIO_MMIO_INT_VRING;
	CHECK_EQ(t.ops->ack_irq(&t), VIO_IRQ_QUEUE);
	CHECK_EQ(d->int_status, 0);
	d->int_status = VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
	CHECK_EQ(t.ops->ack_irq(&t), VIO_IRQ_QUEUE | VIO_IRQ_CONFIG);
	CHECK_EQ(d->int_status, 0);
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_INTERRUPT_ACK)], 3);
}

/*
 * 4.2.2.2: InterruptACK takes only the bits InterruptStatus defines (0 and
 * 1), whatever else a device shows there; the simulator reports any other
 * bit written as a driver error.
 */
static void test_irq_ack_defined_bits(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_RNG);
	struct vio_transport t;
	unsigned writes;

	CHECK_EQ(vio_mmio_identify(&t, d->base, -1), 0);
	d->int_status = 0x7;
	CHECK_EQ(t.ops->ack_irq(&t), VIO_IRQ_QUEUE | VIO_IRQ_CONFIG);
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_INTERRUPT_ACK)], 3);
	CHECK_EQ(d->int_status, 0x4);
	/* Nothing defined to acknowledge: no write at all. */
	writes = d->writes[REG(VIRTIO_MMIO_INTERRUPT_ACK)];
	d->int_status = 0xfffffffc;
	CHECK_EQ(t.ops->ack_irq(&t), 0);
	CHECK_EQ(d->writes[REG(VIRTIO_MMIO_INTERRUPT_ACK)], writes);
}

/*
 * 4.2.2.2: to stop a queue the driver writes QueueReady 0 and reads it back
 * until the device shows 0; until then the device may still use the ring.
 * The wait is bounded (100 ms).
 */
static void test_queue_disable_readback(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *e = sim_dev_new(1, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL, *dev2 = NULL;
	unsigned reads;
	uint64_t t0;

	init();
	d->features = e->features = F(VIRTIO_F_VERSION_1);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	CHECK_EQ(vio_mmio_add(e->base, e->irq, 1, &dev2), 0);
	if (!dev || !dev2)
		return;

	/* A device that needs three more reads to show the queue stopped. */
	d->queue_ready_lag = 3;
	reads = d->reads[REG(VIRTIO_MMIO_QUEUE_READY)];
	CHECK_EQ(dev->t.ops->queue_disable(&dev->t, 0), 0);
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_QUEUE_READY)], 0);
	CHECK_EQ(d->reads[REG(VIRTIO_MMIO_QUEUE_READY)] - reads, 4);
	CHECK(!d->q[0].ready);

	/* One that never shows it: an error after the bound, not a hang. */
	e->queue_ready_lag = -1;
	reads = e->reads[REG(VIRTIO_MMIO_QUEUE_READY)];
	t0 = sim_now();
	CHECK_EQ(dev2->t.ops->queue_disable(&dev2->t, 0), VIO_ETIMEDOUT);
	CHECK(sim_now() - t0 >= 100000000);
	CHECK(sim_now() - t0 < 200000000);
	CHECK(e->reads[REG(VIRTIO_MMIO_QUEUE_READY)] - reads > 1);
	CHECK(e->q[0].ready);
}

static void test_notify(void)
{
	struct sim_dev *d = sim_dev_new(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev = NULL;

	init();
	d->features = F(VIRTIO_F_VERSION_1);
	CHECK_EQ(vio_mmio_add(d->base, d->irq, 0, &dev), 0);
	if (!dev)
		return;
	dev->t.ops->notify(&dev->t, 0);
	CHECK_EQ(d->q[0].notifies, 1);
	CHECK_EQ(d->last_write[REG(VIRTIO_MMIO_QUEUE_NOTIFY)], 0);
}

int main(void)
{
	RUN(test_identify_modern);
	RUN(test_identify_legacy);
	RUN(test_identify_bad);
	RUN(test_device_id_0);
	RUN(test_reset);
	RUN(test_reset_stuck_add);
	RUN(test_status_sequence_modern);
	RUN(test_status_sequence_legacy);
	RUN(test_legacy_any_layout);
	RUN(test_features_ok_refused);
	RUN(test_version1_required);
	RUN(test_features_64);
	RUN(test_queue_setup_modern);
	RUN(test_queue_setup_legacy);
	RUN(test_queue_max);
	RUN(test_config_modern);
	RUN(test_config_legacy);
	RUN(test_irq_ack);
	RUN(test_irq_ack_defined_bits);
	RUN(test_queue_disable_readback);
	RUN(test_notify);
	return test_report();
}
