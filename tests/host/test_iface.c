/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds that drive one interface only (CONFIG_VIO_IFACE_LEGACY or
 * CONFIG_VIO_IFACE_MODERN): a device of the other kind is refused with
 * VIO_ENOTSUP and a clear message, and left alone; a device of the right
 * kind works. Built once per configuration.
 */
#include <vio/device.h>
#include <vio/error.h>
#include <vio/mmio.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "sim.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#if CONFIG_VIO_IFACE_LEGACY == CONFIG_VIO_IFACE_MODERN
#error "test_iface needs a legacy-only or a modern-only configuration"
#endif

#define SEC 1000000000ull

static struct sim_rng rng_legacy, rng_modern;

static void test_refuse_other(void)
{
	struct sim_dev *l = sim_dev_new(0, 1, VIRTIO_ID_RNG);
	struct sim_dev *m = sim_dev_new(1, 2, VIRTIO_ID_RNG);
	struct sim_dev *good = CONFIG_VIO_IFACE_LEGACY ? l : m;
	struct sim_dev *bad = CONFIG_VIO_IFACE_LEGACY ? m : l;
	struct vio_device *dgood = NULL, *dbad = NULL;
	struct vio_transport t;
	uint8_t buf[64];

	sim_rng_attach(l, &rng_legacy);
	sim_rng_attach(m, &rng_modern);
	m->features = 1ull << VIRTIO_F_VERSION_1;
	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_driver_register(&vio_rng_driver, NULL), 0);

	/* Identification reads the version; the device core refuses the interface. */
	CHECK_EQ(vio_mmio_identify(&t, bad->base, -1), 0);
	CHECK(!t.unsupported);
	CHECK_EQ(vio_mmio_identify(&t, good->base, -1), 0);

	CHECK_EQ(vio_mmio_add(bad->base, bad->irq, bad->slot, &dbad), VIO_ENOTSUP);
	CHECK_EQ(vio_mmio_add(good->base, good->irq, good->slot, &dgood), 0);
	CHECK_EQ(vio_dev_count(), 2);
	CHECK(dbad != NULL);
	if (dbad) {
		CHECK_EQ(dbad->state, VIO_DEV_REFUSED);
		CHECK_EQ(dbad->error, VIO_ENOTSUP);
		CHECK(dbad->driver == NULL || dbad->state != VIO_DEV_READY);
		CHECK_EQ(vio_rng_read(dbad, buf, sizeof(buf), SEC) < 0, 1);
	}
	/* The refused device is never touched: no reset, no status. */
	CHECK_EQ(bad->nstatus_log, 0);
	CHECK(!sim_irq_attached(bad->irq));
	/* The message names what the build drives. */
	CHECK(sim_log_contains(CONFIG_VIO_IFACE_LEGACY ? "legacy only" : "modern only"));

	CHECK(dgood != NULL);
	if (dgood) {
		CHECK_EQ(dgood->state, VIO_DEV_READY);
		CHECK_EQ(vio_rng_read(dgood, buf, sizeof(buf), SEC), (int)sizeof(buf));
		for (unsigned i = 0; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], sim_rng_byte(i));
	}
}

static void test_empty_slot(void)
{
	/* A placeholder of either kind is an empty slot, not a refusal. */
	struct sim_dev *z = sim_dev_new(0, CONFIG_VIO_IFACE_LEGACY ? 2 : 1, 0);

	CHECK_EQ(vio_init(sim_port(), sim_os()), 0);
	CHECK_EQ(vio_mmio_add(z->base, z->irq, 0, NULL), VIO_ENODEV);
	CHECK_EQ(vio_dev_count(), 0);
}

int main(void)
{
	RUN(test_refuse_other);
	RUN(test_empty_slot);
	return test_report();
}
