/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-input (VirtIO 1.2 section 5.8) against a hostile input device:
 * any size and bytes in answer to each select/subsel (5.8.4: strings
 * without a terminator, bitmaps and absinfo of any size), events of any
 * type, code, value and length, status-queue completions with any id and
 * length.
 */
#include <stdint.h>

#include <vio/device.h>
#include <vio/input.h>
#include <vio/spec/virtio_config.h>

#include "fuzz.h"
#include "input_model.h"
#include "sim.h"

static struct sim_input in;
static struct sim_dev *d;

static void api(struct vio_device *dev, uint8_t op)
{
	struct vio_input_event ev[16];
	struct vio_input_absinfo abs;
	struct vio_input_info info;
	uint8_t bits[128];
	unsigned max = fz_u8() % 17;

	switch (op % 8) {
	case 0:
		(void)vio_input_read(dev, ev, max, fz_timeout());
		break;
	case 1:
		(void)vio_input_read_nonblock(dev, ev, max);
		break;
	case 2:
		(void)vio_input_set_leds(dev, fz_u32());
		break;
	case 3:
		(void)vio_input_get_info(dev, &info);
		break;
	case 4:
		(void)vio_input_has(dev, fz_u8(), (int16_t)fz_u16());
		break;
	case 5:
		(void)vio_input_bits(dev, fz_u8(), bits, fz_u8() % sizeof(bits));
		break;
	case 6:
		(void)vio_input_abs(dev, fz_u8(), &abs);
		break;
	default: {
		/* Events the real model delivers, with any fields and length. */
		unsigned n = 1 + fz_u8() % 8;

		for (unsigned i = 0; i < n; i++)
			sim_input_push_len(&in, fz_u16(), fz_u16(), fz_u32(), fz_u8() % 16);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vio_input_params params = {
		.event_buffers = 8, .status_buffers = 4, .timeout_ms = 5,
	};
	struct vio_device *dev;

	fz_start(data, size);
	fz_begin(fz_u8());
	vio_driver_register(&vio_input_driver, &params);
	d = fz_dev_new(VIRTIO_ID_INPUT);
	sim_input_attach(d, &in, (enum sim_input_kind)(fz_u8() % 4));
	fz_hostile(d);
	dev = fz_add(d);
	fz_run(d, dev, 256, api);
	fz_end();
	return 0;
}
