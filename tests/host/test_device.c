/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device core: the device table, the driver registry and matching,
 * probe and its failures, queue sizing, feature names, interrupt routing,
 * configuration changes, DEVICE_NEEDS_RESET and waiting.
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
#include "vio_config.h"

#define F(bit) (1ull << (bit))
#define V1 F(VIRTIO_F_VERSION_1)

/* A driver whose probe sets up the queues the test asks for. */
static struct {
	unsigned nq;           /* queues to set up */
	uint32_t max[SIM_MAX_QUEUES]; /* max_size argument per queue */
	int rc[SIM_MAX_QUEUES];       /* what vio_dev_vq_setup returned */
	uint32_t size[SIM_MAX_QUEUES]; /* the size it got */
	int probe_rc;          /* returned after the queues (0: success) */
	unsigned probes, removes, config_changes;
	unsigned priv_bad;     /* probes that found no state, or state not zeroed */
	struct vio_device *last;
} td;

struct priv {
	uint8_t bytes[40];
};

static int t_probe(struct vio_device *dev)
{
	struct priv *p = dev->priv;
	struct vio_vq *vq;

	td.probes++;
	td.last = dev;
	if (dev->driver->priv_size) {
		bool zero = p != NULL;

		for (unsigned i = 0; p && i < sizeof(p->bytes); i++)
			zero &= p->bytes[i] == 0;
		td.priv_bad += !zero;
	}
	for (unsigned i = 0; i < td.nq; i++) {
		struct vio_vq_opts opts = { .max_size = td.max[i] };

		vq = NULL;
		td.rc[i] = vio_dev_vq_setup(dev, i, &opts, &vq);
		td.size[i] = vq ? vio_vq_size(vq) : 0;
		if (td.rc[i])
			return td.rc[i];
	}
	return td.probe_rc;
}

static void t_remove(struct vio_device *dev)
{
	td.removes++;
}

static void t_config_changed(struct vio_device *dev)
{
	td.config_changes++;
	td.last = dev;
}

static const struct vio_feature_name t_names[] = {
	{ 0, "TEST_A" },
	{ 5, "TEST_F" },
	{ 0, NULL },
};

static const struct vio_driver console_drv = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.features = F(0) | F(5),
	.feature_names = t_names,
	.priv_size = sizeof(struct priv),
	.probe = t_probe,
	.remove = t_remove,
	.config_changed = t_config_changed,
};

static const struct vio_driver net_drv = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.probe = t_probe,
};

static void init(void)
{
	memset(&td, 0, sizeof(td));
	td.nq = 1;
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&console_drv, NULL), 0);
	CHECK_EQ(vio_driver_register(&net_drv, NULL), 0);
}

static struct sim_dev *new_dev(int slot, uint32_t version, uint32_t id)
{
	struct sim_dev *d = sim_dev_new(slot, version, id);

	if (version == 2)
		d->features = V1;
	return d;
}

static struct vio_device *add(struct sim_dev *d, int want)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_mmio_add(d->base, d->irq, d->slot, &dev), want);
	return dev;
}

static void test_init_args(void)
{
	struct vio_port p = *sim_port();
	struct vio_os o = *sim_os();

	CHECK_EQ(vio_init(NULL, NULL), VIO_EINVAL);
	p.dma_alloc = NULL;
	CHECK_EQ(vio_init(&p, NULL), VIO_EINVAL);
	p = *sim_port();
	p.time_ns = NULL;
	CHECK_EQ(vio_init(&p, NULL), VIO_EINVAL);
	o.event_wait = NULL;
	CHECK_EQ(vio_init(sim_port(), &o), VIO_EINVAL);
	CHECK_EQ(vio_init(sim_port(), NULL), 0);
	CHECK(vio_port() == sim_port());
	CHECK(vio_os() == NULL);
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK(vio_os() == sim_os());
	/* Before any add, a base address gives nothing. */
	CHECK_EQ(vio_dev_count(), 0);
	CHECK(vio_dev_at(0) == NULL);
}

static void test_registry(void)
{
	static struct vio_driver many[CONFIG_VIO_MAX_DRIVERS + 1];
	struct vio_driver bad = console_drv;
	unsigned ok = 0, full = 0;

	init();
	CHECK_EQ(vio_driver_register(&console_drv, NULL), VIO_EBUSY);
	bad.device_id = 77;
	bad.probe = NULL;
	CHECK_EQ(vio_driver_register(&bad, NULL), VIO_EINVAL);
	CHECK_EQ(vio_driver_register(NULL, NULL), VIO_EINVAL);
	for (unsigned i = 0; i <= CONFIG_VIO_MAX_DRIVERS; i++) {
		many[i] = console_drv;
		many[i].device_id = 100 + i;
		int rc = vio_driver_register(&many[i], NULL);

		ok += rc == 0;
		full += rc == VIO_ENOSPC;
	}
	/* Two are registered already by init(). */
	CHECK_EQ(ok, CONFIG_VIO_MAX_DRIVERS - 2);
	CHECK_EQ(full, 3);
}

static void test_probe_several(void)
{
	struct sim_dev *c0 = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *b = new_dev(1, 2, VIRTIO_ID_BLOCK);
	struct sim_dev *c1 = new_dev(2, 1, VIRTIO_ID_CONSOLE);
	struct sim_dev *empty = new_dev(3, 2, 0);
	struct sim_dev *n = new_dev(4, 1, VIRTIO_ID_NET);
	struct vio_device *dc0, *db, *dc1, *dn;

	init();
	c0->features |= F(0) | F(3) | F(5);
	b->features |= F(0) | F(9);
	dc0 = add(c0, 0);
	db = add(b, 0);
	dc1 = add(c1, 0);
	add(empty, VIO_ENODEV);
	dn = add(n, 0);
	CHECK_EQ(vio_dev_count(), 4);
	CHECK_EQ(td.probes, 3);
	if (!dc0 || !db || !dc1 || !dn)
		return;

	/* The table, in the order added; the empty slot is not in it. */
	CHECK(vio_dev_at(0) == dc0);
	CHECK(vio_dev_at(1) == db);
	CHECK(vio_dev_at(2) == dc1);
	CHECK(vio_dev_at(3) == dn);
	CHECK(vio_dev_at(4) == NULL);
	CHECK(vio_dev_find(VIRTIO_ID_CONSOLE, 0) == dc0);
	CHECK(vio_dev_find(VIRTIO_ID_CONSOLE, 1) == dc1);
	CHECK(vio_dev_find(VIRTIO_ID_CONSOLE, 2) == NULL);
	CHECK(vio_dev_find(VIRTIO_ID_BLOCK, 0) == db);
	CHECK(vio_dev_find(VIRTIO_ID_RNG, 0) == NULL);

	CHECK_EQ(dc0->state, VIO_DEV_READY);
	CHECK_EQ(dc1->state, VIO_DEV_READY);
	CHECK_EQ(dn->state, VIO_DEV_READY);
	CHECK(dc0->driver == &console_drv);
	CHECK(dn->driver == &net_drv);
	CHECK_STR(dc0->name, "console0");
	CHECK_STR(dc1->name, "console1");
	CHECK_STR(dn->name, "net0");
	CHECK_EQ(dc0->slot, 0);
	CHECK_EQ(dc1->slot, 2);
	CHECK_EQ(dc0->irq, c0->irq);
	CHECK_STR(vio_dev_interface(dc0), "modern");
	CHECK_STR(vio_dev_interface(dc1), "legacy");
	CHECK_EQ(dc0->negotiated, V1 | F(0) | F(5));
	CHECK_EQ(dc0->offered, c0->features);
	CHECK_EQ(td.priv_bad, 0);
	CHECK(dc0->priv != NULL);
	CHECK(vio_dev_uses_irq(dc0));
	CHECK(sim_irq_attached(c0->irq));

	/* A device without a driver stays reset and idle, and shows what it offers. */
	CHECK_EQ(db->state, VIO_DEV_NO_DRIVER);
	CHECK(db->driver == NULL);
	CHECK_EQ(db->offered, b->features);
	CHECK_EQ(db->negotiated, 0);
	CHECK_EQ(b->status, 0);
	CHECK_EQ(b->nstatus_log, 1);
	CHECK(!sim_irq_attached(b->irq));
	/* device.h: named by type and number, driver or not */
	CHECK_STR(db->name, "blk0");
}

static void test_type_and_feature_names(void)
{
	struct sim_dev *c = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *b = new_dev(1, 2, VIRTIO_ID_BLOCK);
	struct vio_device *dc, *db;

	CHECK_STR(vio_dev_type_name(VIRTIO_ID_BLOCK), "blk");
	CHECK_STR(vio_dev_type_name(VIRTIO_ID_RNG), "rng");
	CHECK_STR(vio_dev_type_name(VIRTIO_ID_NET), "net");
	CHECK_STR(vio_dev_type_name(VIRTIO_ID_GPU), "gpu");
	CHECK_STR(vio_dev_type_name(VIRTIO_ID_INPUT), "input");
	CHECK(vio_dev_type_name(0x7777) != NULL);

	init();
	c->features |= F(0) | F(5);
	dc = add(c, 0);
	db = add(b, 0);
	if (!dc || !db)
		return;
	CHECK_STR(vio_dev_feature_name(dc, 0), "TEST_A");
	CHECK_STR(vio_dev_feature_name(dc, 5), "TEST_F");
	CHECK(vio_dev_feature_name(dc, 3) == NULL);
	CHECK_STR(vio_dev_feature_name(dc, VIRTIO_F_VERSION_1), "VERSION_1");
	CHECK(vio_dev_feature_name(dc, VIRTIO_RING_F_INDIRECT_DESC) != NULL);
	CHECK(vio_dev_feature_name(dc, VIRTIO_RING_F_EVENT_IDX) != NULL);
	CHECK(vio_dev_feature_name(dc, 63) == NULL);
	/* Without a driver only the reserved bits have names. */
	CHECK(vio_dev_feature_name(db, 0) == NULL);
	CHECK_STR(vio_dev_feature_name(db, VIRTIO_F_VERSION_1), "VERSION_1");
	/* The negotiated features are logged by name. */
	CHECK(sim_log_contains("TEST_A"));
}

/* Queue size for QueueNumMax num_max and the driver's max_size. */
static int queue_size(uint32_t num_max, uint32_t max_size, uint32_t *size)
{
	struct sim_dev *d;
	int rc;

	sim_reset_all();
	sim_port_reset();
	init();
	d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	d->q[0].num_max = num_max;
	td.max[0] = max_size;
	vio_mmio_add(d->base, d->irq, 0, NULL);
	rc = td.rc[0];
	*size = td.size[0];
	if (!rc)
		CHECK_EQ(d->q[0].num, *size);
	return rc;
}

static void test_queue_size(void)
{
	uint32_t size = 0;

	CHECK_EQ(queue_size(1024, 0, &size), 0);
	CHECK_EQ(size, CONFIG_VIO_QUEUE_SIZE_MAX);
	CHECK_EQ(queue_size(256, 0, &size), 0);
	CHECK_EQ(size, 256);
	CHECK_EQ(queue_size(100, 0, &size), 0);
	CHECK_EQ(size, 64);
	CHECK_EQ(queue_size(1024, 48, &size), 0);
	CHECK_EQ(size, 32);
	CHECK_EQ(queue_size(20, 16, &size), 0);
	CHECK_EQ(size, 16);
	CHECK_EQ(queue_size(3, 0, &size), 0);
	CHECK_EQ(size, 2);
	CHECK_EQ(queue_size(1, 0, &size), 0);
	CHECK_EQ(size, 1);
	CHECK_EQ(queue_size(32768, 32768, &size), 0);
	CHECK_EQ(size, CONFIG_VIO_QUEUE_SIZE_MAX);
}

static void test_queue_missing(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev;

	init();
	/* 4.2.3.2: QueueNumMax 0 means the queue is not there. */
	d->q[0].num_max = 0;
	dev = add(d, VIO_ENODEV);
	CHECK_EQ(td.rc[0], VIO_ENODEV);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(dev->error, VIO_ENODEV);
	}
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK(!(d->status & VIRTIO_CONFIG_S_DRIVER_OK));
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
	/* Whatever probe had, it is given back. */
	CHECK_EQ(sim_dma_live(), 0);
}

static void test_second_queue(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev;

	init();
	td.nq = 3;
	d->q[0].num_max = 64;
	d->q[1].num_max = 16;
	d->q[2].num_max = 8;
	dev = add(d, 0);
	CHECK_EQ(td.size[0], 64);
	CHECK_EQ(td.size[1], 16);
	CHECK_EQ(td.size[2], 8);
	CHECK(d->q[2].ready);
	if (dev)
		CHECK_EQ(dev->nqueues, 3);
}

/*
 * Queue records are sized per device at run time: a driver with many
 * queues (a multiport console with QEMU's default 31 ports has 64: a
 * receive/transmit pair per port and the control pair) is not capped by a
 * build constant, and each queue gets the size the device allows.
 */
static void test_many_queues(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev;

	init();
	td.nq = SIM_MAX_QUEUES;
	for (unsigned i = 0; i < td.nq; i++)
		d->q[i].num_max = 4u << (i % 4);
	dev = add(d, 0);
	CHECK(dev != NULL);
	if (!dev)
		return;
	CHECK_EQ(dev->nqueues, SIM_MAX_QUEUES);
	for (unsigned i = 0; i < td.nq; i++) {
		CHECK_EQ(td.rc[i], 0);
		CHECK_EQ(td.size[i], 4u << (i % 4));
		CHECK(d->q[i].ready);
		CHECK(vio_dev_vq(dev, i) != NULL);
		if (vio_dev_vq(dev, i))
			CHECK_EQ(vio_vq_index(vio_dev_vq(dev, i)), i);
	}
	CHECK(vio_dev_vq(dev, SIM_MAX_QUEUES) == NULL);
}

static void test_probe_fails(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev;

	init();
	td.nq = 2;
	d->q[1].num_max = 8;
	td.probe_rc = VIO_EIO;
	dev = add(d, VIO_EIO);
	CHECK_EQ(td.probes, 1);
	if (dev) {
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(dev->error, VIO_EIO);
	}
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK(!(d->status & VIRTIO_CONFIG_S_DRIVER_OK));
	/* Rings and driver state are given back, and the device lets go of them. */
	CHECK_EQ(sim_dma_live(), 0);
	CHECK(!d->q[0].ready);
	CHECK(!d->q[1].ready);
}

/*
 * 3.3.1: a probe that fails after setting up a queue resets the device
 * before the rings go back to the allocator. This device (like QEMU's)
 * ignores FAILED, and takes a QueueReady 0 only once a reset has happened,
 * so a driver that frees the rings before the reset frees memory the
 * device still uses (the simulator reports it).
 */
static void test_probe_fails_reset_first(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev;
	int failed, reset;

	init();
	td.probe_rc = VIO_EIO;
	d->keeps_running = true;
	d->queue_ready_lag = -1;
	dev = add(d, VIO_EIO);
	if (dev)
		CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(sim_dma_live(), 0);
	CHECK(!d->q[0].ready);
	/* FAILED first (3.1.1), then the reset, then FAILED again for the host to see. */
	failed = sim_status_logged(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
					      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED);
	CHECK(failed > 0);
	reset = -1;
	for (unsigned i = (unsigned)failed; i < d->nstatus_log && i < SIM_STATUS_LOG; i++)
		if (d->status_log[i] == 0 && reset < 0)
			reset = (int)i;
	CHECK(reset > failed);
	CHECK_EQ(d->resets, 2); /* the one before probing and this one */
}

/* A modern console in slot 0, added (NULL when that failed a check). */
static struct vio_device *console_ready(struct sim_dev **d)
{
	*d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	init();
	return add(*d, 0);
}

/*
 * A device that holds its interrupt line high with nothing in
 * InterruptStatus must not keep the CPU in its handler for ever: after
 * 1000 such interrupts with no task in between the line is masked, and the
 * next service pass fails the device with a line in the log.
 */
static void test_irq_storm(void)
{
	struct sim_dev *d;
	struct vio_device *dev = console_ready(&d);

	if (!dev)
		return;
	CHECK(vio_dev_uses_irq(dev));

	/* Empty interrupts with a task running in between are no storm. */
	CHECK_EQ(sim_irq_storm(d->irq, 999), 999);
	vio_dev_service(dev);
	CHECK_EQ(sim_irq_storm(d->irq, 999), 999);
	vio_dev_service(dev);
	CHECK(!sim_irq_masked(d->irq));
	CHECK_EQ(dev->state, VIO_DEV_READY);

	CHECK_EQ(sim_irq_storm(d->irq, 100000), 1000);
	CHECK(sim_irq_masked(d->irq));
	CHECK_EQ(dev->irq_count, 0);
	vio_dev_service(dev);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_EIO);
	CHECK(sim_log_contains("1000 interrupts in a row with nothing to report; line 1 masked"));
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(d->resets, 2);
}

/*
 * A device that needs a reset (2.1.2: configuration change interrupt) and
 * then holds its line up with nothing to report, as QEMU's does once it
 * marked itself broken: the line is masked, and the service names the
 * cause, NEEDS_RESET, before the storm it made.
 */
static void test_needs_reset_storm(void)
{
	struct sim_dev *d;
	struct vio_device *dev = console_ready(&d);

	if (!dev)
		return;
	sim_needs_reset(d);
	CHECK_EQ(sim_irq_storm(d->irq, 100000), 1000);
	CHECK(sim_irq_masked(d->irq));
	vio_dev_service(dev);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_EIO);
	CHECK(sim_log_contains("console0: the device needs a reset"));
	CHECK(sim_log_contains("1000 interrupts in a row with nothing to report; line 1 masked"));
	CHECK(d->status & VIRTIO_CONFIG_S_FAILED);
}

/*
 * Interrupts for a device that was reset: the driver failed it (status
 * FAILED, then a reset, 2.1.1 and 2.4) and the device still raises its
 * line, with InterruptStatus bits (a completion it was late with) or with
 * none. The late one is dropped with a log line that says so; a storm of
 * them gets the line masked with the storm's line; the device stays failed
 * and the rest of the library goes on.
 */
static void test_irq_after_reset(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *d2 = new_dev(1, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev, *dev2;
	unsigned resets;

	init();
	dev = add(d, 0);
	dev2 = add(d2, 0);
	if (!dev || !dev2)
		return;
	vio_dev_fail(dev, VIO_EIO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	resets = d->resets;
	CHECK(resets >= 1);

	/* A late completion's interrupt, from a device that ignored the reset. */
	sim_raise(d, VIRTIO_MMIO_INT_VRING);
	vio_service();
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK(sim_log_contains("console0: interrupt after the device was reset (status 0x"));
	CHECK(!sim_irq_masked(d->irq));

	/* Then nothing but the line: a storm, masked, with its line. */
	CHECK_EQ(sim_irq_storm(d->irq, 100000), 1000);
	CHECK(sim_irq_masked(d->irq));
	vio_service();
	CHECK(sim_log_contains("1000 interrupts in a row with nothing to report; line"));
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	/* No second reset of a device that was reset already. */
	CHECK_EQ(d->resets, resets);

	/* The other device is untouched by all this. */
	CHECK_EQ(dev2->state, VIO_DEV_READY);
	CHECK(!sim_irq_masked(d2->irq));
}

/*
 * A shared line (PCI INTx): every device's handler runs on every interrupt
 * of the line, so the one that has nothing to report sees the other's
 * interrupts. Those are no storm: any device on the line with something
 * to report clears the count of all of them.
 */
static void test_irq_shared_line(void)
{
	struct sim_dev *da = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *db = new_dev(1, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *a, *b;
	int own_irq;

	init();
	a = add(da, 0);
	b = add(db, 0);
	if (!a || !b)
		return;
	/* b shares a's line from now on (the sim port gave them two). */
	own_irq = b->irq;
	b->irq = a->irq;
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 999; i++)
			vio_dev_irq(b);
		da->int_status |= VIO_IRQ_QUEUE;
		vio_dev_irq(a);
	}
	CHECK(!sim_irq_masked(a->irq));
	vio_service();
	CHECK_EQ(b->state, VIO_DEV_READY);
	CHECK_EQ(a->state, VIO_DEV_READY);
	/* With nobody on the line reporting anything, it is a storm again. */
	for (unsigned i = 0; i < 1000; i++)
		vio_dev_irq(b);
	CHECK(sim_irq_masked(a->irq));
	vio_service();
	CHECK_EQ(b->state, VIO_DEV_FAILED);
	b->irq = own_irq;
}

static void test_probe_enomem(void)
{
	init();
	for (int n = 0; n < 3; n++) {
		struct sim_dev *d = new_dev(n, 2, VIRTIO_ID_CONSOLE);
		struct vio_device *dev;

		sim_dma_fail_after = n;
		dev = add(d, VIO_ENOMEM);
		if (dev)
			CHECK_EQ(dev->state, VIO_DEV_FAILED);
		CHECK_EQ(sim_dma_live(), 0);
	}
	sim_dma_fail_after = -1;
}

static void test_irq_attach_fails(void)
{
	struct sim_dev *d = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *dev;

	init();
	sim_irq_attach_result = VIO_EINVAL;
	dev = add(d, 0);
	if (!dev)
		return;
	/* Still usable: polled. */
	CHECK_EQ(dev->state, VIO_DEV_READY);
	CHECK(!vio_dev_uses_irq(dev));
	CHECK(sim_log_count(VIO_LOG_WARN) > 0);
}

static void test_polled(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *b = new_dev(1, 2, VIRTIO_ID_NET);
	struct vio_device *da, *db;

	/* No irq_attach in the port: everything is polled. */
	memset(&td, 0, sizeof(td));
	td.nq = 1;
	CHECK_EQ(vio_init(sim_port_polled(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&console_drv, NULL), 0);
	CHECK_EQ(vio_driver_register(&net_drv, NULL), 0);
	da = add(a, 0);
	if (da)
		CHECK(!vio_dev_uses_irq(da));

	/* An interrupt line of -1: that device is polled. */
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&net_drv, NULL), 0);
	CHECK_EQ(vio_mmio_add(b->base, -1, 1, &db), 0);
	if (db) {
		CHECK(!vio_dev_uses_irq(db));
		CHECK_EQ(db->irq, -1);
	}
}

static void test_table_full(void)
{
	struct sim_dev *b = new_dev(0, 2, VIRTIO_ID_BLOCK);

	init();
	for (unsigned i = 0; i < CONFIG_VIO_MAX_DEVICES; i++)
		CHECK_EQ(vio_mmio_add(b->base, -1, (int)i, NULL), 0);
	CHECK_EQ(vio_dev_count(), CONFIG_VIO_MAX_DEVICES);
	CHECK_EQ(vio_mmio_add(b->base, -1, 99, NULL), VIO_ENOSPC);
	CHECK_EQ(vio_dev_count(), CONFIG_VIO_MAX_DEVICES);
}

static void test_irq_routing(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *b = new_dev(1, 1, VIRTIO_ID_NET);
	struct vio_device *da, *db;
	struct vio_sg sg;
	uint8_t buf[8];
	void *cookie;
	uint32_t len;

	init();
	da = add(a, 0);
	db = add(b, 0);
	if (!da || !db)
		return;
	CHECK_EQ(da->irq_count, 0);
	CHECK_EQ(db->irq_count, 0);

	/* A configuration change on b reaches b only. */
	sim_config_change(b, 0, "x", 1);
	CHECK_EQ(db->irq_count, 1);
	CHECK_EQ(da->irq_count, 0);
	CHECK(db->pending & VIO_IRQ_CONFIG);
	CHECK_EQ(b->int_status, 0); /* acknowledged by the handler */

	/* A used buffer on a reaches a only. */
	sg.buf = buf;
	sg.len = sizeof(buf);
	CHECK_EQ(vio_vq_enqueue(vio_dev_vq(da, 0), &sg, 0, 1, buf), 0);
	vio_vq_kick(vio_dev_vq(da, 0));
	CHECK_EQ(sim_step(a), 1);
	CHECK_EQ(da->irq_count, 1);
	CHECK_EQ(db->irq_count, 1);
	CHECK(da->pending & VIO_IRQ_QUEUE);
	CHECK(!(da->pending & VIO_IRQ_CONFIG));
	CHECK_EQ(vio_vq_dequeue(vio_dev_vq(da, 0), &cookie, &len), 0);

	/* A spurious interrupt (status 0) is not counted. */
	vio_dev_irq(da);
	CHECK_EQ(da->irq_count, 1);
}

static void test_config_changed(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct sim_dev *n = new_dev(1, 2, VIRTIO_ID_NET);
	struct sim_dev *b = new_dev(2, 2, VIRTIO_ID_BLOCK);
	struct vio_device *da, *dn, *db;
	uint64_t v = 0;

	init();
	sim_config_set(a, 0, 4, 1);
	da = add(a, 0);
	dn = add(n, 0);
	db = add(b, 0);
	if (!da || !dn || !db)
		return;
	uint32_t nv = 0x12345678;
	sim_config_change(a, 0, &nv, 4);
	/* The interrupt only notes it; the driver hears of it from vio_dev_service. */
	CHECK_EQ(td.config_changes, 0);
	vio_dev_service(da);
	CHECK_EQ(td.config_changes, 1);
	CHECK(td.last == da);
	CHECK_EQ(vio_dev_config_read(da, 0, 4, &v), 0);
	CHECK_EQ(v, 0x12345678);
	vio_dev_service(da);
	CHECK_EQ(td.config_changes, 1);
	/* A driver without config_changed, and a device without a driver: nothing. */
	sim_config_change(n, 0, NULL, 0);
	vio_dev_service(dn);
	vio_dev_service(db);
	CHECK_EQ(td.config_changes, 1);
	CHECK_EQ(dn->state, VIO_DEV_READY);
}

static bool never(void *arg)
{
	(*(unsigned *)arg)++;
	return false;
}

static bool at_once(void *arg)
{
	(*(unsigned *)arg)++;
	return true;
}

static void test_needs_reset(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *da;
	uint8_t buf[8];
	struct vio_sg sg = { buf, sizeof(buf) };
	unsigned calls = 0;

	init();
	da = add(a, 0);
	if (!da)
		return;
	/* 2.1.2: DEVICE_NEEDS_RESET with a configuration change interrupt. */
	sim_needs_reset(a);
	vio_dev_service(da);
	CHECK_EQ(da->state, VIO_DEV_FAILED);
	CHECK(da->error < 0);
	CHECK(a->status & VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(td.config_changes, 0);
	CHECK(sim_log_count(VIO_LOG_ERR) > 0);
	/* Its queues refuse work; waiting on it ends at once. */
	CHECK_EQ(vio_vq_enqueue(vio_dev_vq(da, 0), &sg, 0, 1, buf), VIO_ESHUTDOWN);
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), never, &calls, 1000000000ull), VIO_ESHUTDOWN);
	/* Failing again changes nothing. */
	vio_dev_fail(da, VIO_EPROTO);
	CHECK_EQ(da->state, VIO_DEV_FAILED);
}

static void test_needs_reset_in_wait(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *da;
	unsigned calls = 0;
	uint64_t t0;

	init();
	da = add(a, 0);
	if (!da)
		return;
	/* The device asks for a reset while a driver waits on it. */
	a->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	sim_raise(a, VIRTIO_MMIO_INT_CONFIG);
	t0 = sim_now();
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), never, &calls, 1000000000ull), VIO_ESHUTDOWN);
	CHECK(sim_now() - t0 < 1000000000ull);
	CHECK_EQ(da->state, VIO_DEV_FAILED);
}

/* The console driver on a port without interrupts: a, polled. */
static struct vio_device *add_polled(struct sim_dev *a)
{
	memset(&td, 0, sizeof(td));
	td.nq = 1;
	CHECK_EQ(vio_init(sim_port_polled(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&console_drv, NULL), 0);
	return add(a, 0);
}

/*
 * Polled, a wait that finds nothing used skips most service passes; the
 * device's status is still read now and then, so DEVICE_NEEDS_RESET ends
 * the wait long before its timeout.
 */
static void test_needs_reset_in_polled_wait(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *da;
	unsigned calls = 0;
	uint64_t t0;

	da = add_polled(a);
	if (!da)
		return;
	CHECK(!vio_dev_uses_irq(da));
	a->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	a->int_status |= VIRTIO_MMIO_INT_CONFIG;
	t0 = sim_now();
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), never, &calls, 10000000000ull), VIO_ESHUTDOWN);
	CHECK(sim_now() - t0 < 100000000ull); /* within 0.1 s of the 10 s */
	CHECK_EQ(da->state, VIO_DEV_FAILED);
	CHECK(calls > 0);
}

/*
 * Polled, a pass that finds nothing used and nothing noted skips the service
 * and the caller's check: over a wait that times out, done is asked about
 * once per clock read (every 16 passes), not on every pass.
 */
static void test_polled_wait_skips(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *da;
	unsigned calls = 0;

	da = add_polled(a);
	if (!da)
		return;
	/* 1 ms at 1 us per clock read: about 1000 reads, 16 passes each. */
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), never, &calls, 1000000ull), VIO_ETIMEDOUT);
	CHECK(calls >= 1000 && calls <= 1100);
	CHECK_EQ(da->state, VIO_DEV_READY);
}

static void test_wait(void)
{
	struct sim_dev *a = new_dev(0, 2, VIRTIO_ID_CONSOLE);
	struct vio_device *da;
	unsigned calls = 0;
	uint64_t t0;

	init();
	da = add(a, 0);
	if (!da)
		return;
	/* done is asked first, before any wait */
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), at_once, &calls, 1000), 0);
	CHECK_EQ(calls, 1);
	CHECK_EQ(sim_waits, 0);
	/* a condition that never comes true: a timeout, bounded by the clock */
	calls = 0;
	t0 = sim_now();
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), never, &calls, 20000000), VIO_ETIMEDOUT);
	CHECK(sim_now() - t0 >= 20000000);
	CHECK(sim_now() - t0 < 40000000);
	CHECK(calls >= 2);
	/* vio_dev_fail marks it failed for good */
	vio_dev_fail(da, VIO_EPROTO);
	CHECK_EQ(da->state, VIO_DEV_FAILED);
	CHECK_EQ(da->error, VIO_EPROTO);
	CHECK(a->status & VIRTIO_CONFIG_S_FAILED);
	CHECK_EQ(vio_dev_wait(da, vio_dev_vq(da, 0), never, &calls, 20000000), VIO_ESHUTDOWN);
}

int main(void)
{
	RUN(test_init_args);
	RUN(test_registry);
	RUN(test_probe_several);
	RUN(test_type_and_feature_names);
	RUN(test_queue_size);
	RUN(test_queue_missing);
	RUN(test_second_queue);
	RUN(test_many_queues);
	RUN(test_probe_fails);
	RUN(test_probe_fails_reset_first);
	RUN(test_probe_enomem);
	RUN(test_irq_attach_fails);
	RUN(test_polled);
	RUN(test_table_full);
	RUN(test_irq_routing);
	RUN(test_irq_storm);
	RUN(test_needs_reset_storm);
	RUN(test_irq_after_reset);
	RUN(test_irq_shared_line);
	RUN(test_config_changed);
	RUN(test_needs_reset);
	RUN(test_needs_reset_in_wait);
	RUN(test_needs_reset_in_polled_wait);
	RUN(test_polled_wait_skips);
	RUN(test_wait);
	return test_report();
}
