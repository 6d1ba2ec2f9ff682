/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng (VirtIO 1.2 section 5.4) against a hostile entropy device:
 * reads of any size, blocking and not, while the device completes with any
 * length, id or index, holds requests, resets and interrupts at will.
 */
#include <stdint.h>

#include <vio/device.h>
#include <vio/rng.h>
#include <vio/spec/virtio_config.h>

#include "fuzz.h"
#include "sim.h"

static struct sim_rng rng;
static uint8_t buf[8192 + 64];

static void api(struct vio_device *dev, uint8_t op)
{
	size_t len = fz_u16() % (sizeof(buf) - 64);

	if (op & 1)
		(void)vio_rng_read(dev, buf, len, fz_timeout());
	else
		(void)vio_rng_read_nonblock(dev, buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_dev *d;
	struct vio_device *dev;

	fz_start(data, size);
	fz_begin(fz_u8());
	vio_driver_register(&vio_rng_driver, NULL);
	d = fz_dev_new(VIRTIO_ID_RNG);
	sim_rng_attach(d, &rng);
	fz_hostile(d);
	dev = fz_add(d);
	fz_run(d, dev, 256, api);
	fz_end();
	return 0;
}
