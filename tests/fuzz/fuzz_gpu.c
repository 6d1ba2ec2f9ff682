/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu (VirtIO 1.2 section 5.7) against a hostile GPU: any
 * num_scanouts in config space (5.7.4), scanout modes and EDID blobs of any
 * size and bytes (5.7.6.8 GET_DISPLAY_INFO, GET_EDID), responses of any
 * type, length and fence, display events at any time (events_read), and
 * control and cursor completions with any id and length; the driver side
 * creates resources, attaches backing, transfers, flushes, flips, moves
 * the cursor and refreshes the display information.
 */
#include <stdint.h>
#include <string.h>

#include <vio/device.h>
#include <vio/gpu.h>
#include <vio/port.h>
#include <vio/spec/virtio_config.h>

#include "fuzz.h"
#include "gpu_model.h"
#include "sim.h"
#include "sim_port.h"

#define NRES 4
#define BACKING 4096u

static struct sim_gpu gpu;
static struct sim_dev *d;
static const struct vio_port *port;
static uint32_t ids[NRES];
static uint8_t *backing;
static unsigned events;

static void on_event(struct vio_device *dev, void *arg)
{
	(void)dev;
	(void)arg;
	events++;
}

/* A rectangle: mostly inside a small resource, now and then anything. */
static struct vio_gpu_rect rect(void)
{
	struct vio_gpu_rect r;

	if (fz_u8() & 0x80) {
		r.x = fz_u32();
		r.y = fz_u32();
		r.width = fz_u32();
		r.height = fz_u32();
	} else {
		r.x = fz_u8() % 32;
		r.y = fz_u8() % 32;
		r.width = fz_u8() % 33;
		r.height = fz_u8() % 33;
	}
	return r;
}

static void api(struct vio_device *dev, uint8_t op)
{
	struct vio_gpu_info info;
	struct vio_gpu_scanout so;
	struct vio_gpu_rect r;
	unsigned k = fz_u8() % NRES;
	unsigned flags = fz_u8() & 1 ? VIO_GPU_FENCE : 0;

	switch (op % 16) {
	case 0:
		if (!ids[k])
			ids[k] = vio_gpu_new_resource_id(dev);
		/* Small sizes mostly: the model keeps a host copy of each. */
		(void)vio_gpu_resource_create(dev, ids[k], fz_u8() % 200, fz_u8() % 64,
					      fz_u8() % 64);
		break;
	case 1:
		(void)vio_gpu_resource_unref(dev, fz_u8() & 0x80 ? fz_u32() : ids[k]);
		break;
	case 2: {
		/* Backing in up to 8 pieces of the DMA buffer, any lengths. */
		struct vio_sg sg[8];
		unsigned n = fz_u8() % 9;
		uint32_t at = 0;

		for (unsigned i = 0; i < n; i++) {
			uint32_t len = 1 + fz_u16() % 1024;

			if (at + len > BACKING)
				at = 0;
			sg[i].buf = backing + at;
			sg[i].len = len;
			at += len;
		}
		(void)vio_gpu_attach_backing(dev, ids[k], sg, n);
		break;
	}
	case 3:
		(void)vio_gpu_detach_backing(dev, ids[k]);
		break;
	case 4:
		r = rect();
		(void)vio_gpu_set_scanout(dev, fz_u8() % 18, fz_u8() & 0x80 ? 0 : ids[k], &r);
		break;
	case 5:
		r = rect();
		(void)vio_gpu_transfer(dev, ids[k], &r, fz_u16(), flags);
		break;
	case 6:
		r = rect();
		(void)vio_gpu_flush(dev, ids[k], &r, flags);
		break;
	case 7:
		r = rect();
		(void)vio_gpu_update(dev, ids[k], &r, fz_u16() % BACKING, flags);
		break;
	case 8:
		r = rect();
		(void)vio_gpu_flip(dev, fz_u8() % 18, ids[k], &r, flags);
		break;
	case 9:
		(void)vio_gpu_cursor_update(dev, fz_u8() % 18, ids[k], fz_u16(), fz_u16(),
					    fz_u8() % 70, fz_u8() % 70);
		break;
	case 10:
		(void)vio_gpu_cursor_move(dev, fz_u8() % 18, fz_u16(), fz_u16());
		break;
	case 11:
		(void)vio_gpu_refresh(dev);
		break;
	case 12:
		(void)vio_gpu_get_info(dev, &info);
		(void)vio_gpu_get_scanout(dev, fz_u8() % 18, &so);
		break;
	case 13: {
		/* A display event, the modes and EDID changed first (5.7.4). */
		struct sim_gpu_scanout *s = &gpu.scanout[fz_u8() % SIM_GPU_SCANOUTS];

		s->enabled = fz_u8() & 1;
		s->width = fz_u16();
		s->height = fz_u16();
		s->edid_len = fz_u16() % (sizeof(s->edid) + 1);
		fz_bytes(s->edid, fz_u8());
		sim_gpu_display_event(d);
		break;
	}
	case 14:
		/* The next answer(s) malformed: short, of another type, unfenced. */
		gpu.short_resp = fz_u8() & 0x80 ? -1 : fz_u8() % 64;
		gpu.wrong_type = fz_u8() & 0x80 ? 0 : 0x1100u + fz_u8() % 8;
		gpu.drop_fence = fz_u8() & 1;
		gpu.edid_size = fz_u8() & 0x80 ? fz_u32() : 0;
		gpu.sticky = fz_u8() & 1;
		break;
	default: {
		/* An EDID blob straight to the parser, any length. */
		uint8_t blob[512];
		struct vio_gpu_edid e;
		size_t len = fz_u16() % (sizeof(blob) + 1);

		fz_bytes(blob, len);
		(void)vio_gpu_edid_parse(blob, len, &e);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vio_gpu_params params = { .timeout_ms = 5 };
	struct vio_device *dev;
	unsigned n;

	fz_start(data, size);
	port = fz_begin(fz_u8());
	memset(ids, 0, sizeof(ids));
	events = 0;
	vio_driver_register(&vio_gpu_driver, &params);
	d = fz_dev_new(VIRTIO_ID_GPU);
	d->features |= 1ull << VIRTIO_GPU_F_EDID;
	/* num_scanouts is written as is: 0 and more than 16 too (5.7.4). */
	sim_gpu_attach(d, &gpu, fz_u8() % 20);
	/* The scanouts' modes and EDID blobs (any size, valid or not). */
	n = fz_u8() % 4;
	for (unsigned i = 0; i < n; i++) {
		struct sim_gpu_scanout *s = &gpu.scanout[fz_u8() % SIM_GPU_SCANOUTS];
		uint8_t kind = fz_u8();

		s->enabled = kind & 1;
		s->width = fz_u16();
		s->height = fz_u16();
		if (kind & 2) {
			sim_gpu_make_edid(s->edid, s->width, s->height, "fuzz");
			s->edid_len = 128;
			/* A few bytes changed after the checksum was made. */
			for (uint8_t j = 0, m = fz_u8() % 4; j < m; j++)
				s->edid[fz_u8() % 128] = fz_u8();
		} else {
			s->edid_len = fz_u16() % (sizeof(s->edid) + 1);
			fz_bytes(s->edid, fz_u8());
		}
	}
	fz_hostile(d);
	backing = port->dma_alloc(port->ctx, BACKING, 64);
	dev = fz_add(d);
	if (dev)
		vio_gpu_set_event_handler(dev, on_event, NULL);
	fz_run(d, dev, 256, api);
	fz_end();
	sim_gpu_free(&gpu);
	return 0;
}
