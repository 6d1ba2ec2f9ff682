/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-mmio transport (VirtIO 1.2 section 4.2) and the core's
 * device set-up (3.1) against a hostile register file: any MagicValue,
 * Version, DeviceID, VendorID and offered features, any QueueNumMax per
 * queue, a status that reads back late or without FEATURES_OK, a
 * ConfigGeneration that keeps moving, config bytes that change between
 * reads; with a driver registered for every device type, so whichever
 * DeviceID comes up, its probe runs against the rest of the register file.
 */
#include <stdint.h>

#include <vio/device.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_mmio.h>
#include <vio/transport.h>

#include "fuzz.h"
#include "sim.h"

static void api(struct vio_device *dev, uint8_t op)
{
	uint64_t v;
	unsigned off = fz_u8();
	unsigned width = 1u << (fz_u8() % 4);

	switch (op % 6) {
	case 0:
		(void)vio_dev_config_read(dev, off, width, &v);
		break;
	case 1:
		(void)vio_dev_config_write(dev, off, width, fz_u64());
		break;
	case 2:
		vio_dev_poll(dev);
		break;
	case 3:
		(void)vio_dev_feature_name(dev, fz_u8());
		(void)vio_dev_interface(dev);
		(void)vio_dev_type_name(dev->t.device_id);
		break;
	case 4:
		(void)vio_service_wait(fz_timeout());
		break;
	default:
		vio_dev_service(dev);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t ids[] = { VIRTIO_ID_NET, VIRTIO_ID_BLOCK, VIRTIO_ID_CONSOLE,
					VIRTIO_ID_RNG, VIRTIO_ID_INPUT, 0, VIRTIO_ID_GPU };
	struct vio_transport t;
	struct vio_device *dev = NULL;
	struct sim_dev *d;
	uint8_t flags;

	fz_start(data, size);
	fz_begin(fz_u8());
	fz_register_all();
	flags = fz_u8();
	d = sim_dev_new(0, 2, ids[fz_u8() % 7]);
	/* The register file's identity, mostly plausible. */
	if (flags & 1)
		d->magic = fz_u32();
	d->version = flags & 2 ? fz_u8() % 4 : 1 + (flags >> 7);
	if (flags & 4)
		d->device_id = fz_u8();
	d->vendor_id = fz_u32();
	d->features = fz_u64();
	d->refuse_features_ok = (flags & 8) != 0;
	d->reset_delay = flags & 16 ? fz_u8() % 4 : 0;
	d->config_gen_changes = flags & 32 ? fz_u8() % 4 : 0;
	d->config_changes = flags & 64 ? fz_u8() % 4 : 0;
	d->config_size = fz_u8();
	if (d->config_size > SIM_CONFIG_MAX)
		d->config_size = SIM_CONFIG_MAX;
	fz_bytes(d->config, d->config_size);
	for (unsigned q = 0; q < 8; q++) {
		uint16_t n = fz_u16();

		/* 4.2.2 QueueNumMax: 0 means no such queue; any value otherwise. */
		d->q[q].num_max = n & 0x8000 ? n & 0x7fff : n & 0x3ff;
	}
	sim_offer_packed = false;
	fz_hostile(d);
	(void)vio_mmio_identify(&t, d->base, d->irq);
	(void)vio_mmio_add(d->base, d->irq, 0, &dev);
	if (dev)
		fz_run(d, dev, 128, api);
	fz_end();
	return 0;
}
