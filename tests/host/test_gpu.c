/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu (VirtIO 1.2 section 5.7) and the framebuffer against the
 * simulated GPU (tests/sim/gpu_model.h), on both interfaces. Built twice:
 * interrupt-driven and polled.
 *
 * What the guest draws must be what the model's host copy holds after a
 * flush; every error response must reach the caller as its own code and
 * leave the GPU working; every malformed answer (short, of the wrong type,
 * without its fence) must fail the device with VIO_EPROTO; bad EDID blobs
 * and scanout counts must be refused without harm.
 */
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/fb.h>
#include <vio/gpu.h>
#include <vio/mmio.h>
#include <vio/spec/virtio_config.h>

#include "gpu_model.h"
#include "sim.h"
#include "sim_cache.h"
#include "sim_port.h"
#include "test.h"
#include "vio_config.h"

#define W 64
#define H 48

static struct sim_gpu gpu;
static struct sim_dev *d;
static bool noncoherent; /* the next setup uses the non-coherent test port */

static struct vio_device *setup_n(uint32_t version, uint32_t nscanouts, int want_state)
{
	struct vio_device *dev = NULL;

	CHECK_EQ(vio_init(noncoherent ? (CONFIG_VIO_COMPLETION_POLL ? sim_port_noncoherent_polled()
								     : sim_port_noncoherent())
				      : sim_port(),
			  sim_os()),
		 0);
	CHECK_EQ(vio_driver_register(&vio_gpu_driver, NULL), 0);
	d = sim_dev_new(0, version, VIRTIO_ID_GPU);
	d->features = 1ull << VIRTIO_GPU_F_EDID;
	if (version == 2)
		d->features |= 1ull << VIRTIO_F_VERSION_1;
	sim_gpu_attach(d, &gpu, nscanouts);
	gpu.scanout[0].enabled = true;
	gpu.scanout[0].width = W;
	gpu.scanout[0].height = H;
	sim_gpu_make_edid(gpu.scanout[0].edid, W, H, "VIO Panel");
	gpu.scanout[0].edid_len = 128;
	vio_mmio_add(d->base, d->irq, 0, &dev);
	CHECK(dev != NULL);
	if (dev)
		CHECK_EQ(dev->state, want_state);
	return dev;
}

static struct vio_device *setup(uint32_t version)
{
	return setup_n(version, 2, VIO_DEV_READY);
}

static void teardown(void)
{
	sim_gpu_free(&gpu);
	noncoherent = false;
}

static void probe(uint32_t version)
{
	struct vio_device *dev = setup(version);
	struct vio_gpu_info info;
	struct vio_gpu_scanout s;

	if (!dev)
		return;
	CHECK_EQ(vio_gpu_get_info(dev, &info), 0);
	CHECK_EQ(info.scanouts, 2);
	CHECK(info.edid);
	CHECK_EQ(vio_gpu_get_scanout(dev, 0, &s), 0);
	CHECK(s.enabled);
	CHECK_EQ(s.width, W);
	CHECK_EQ(s.height, H);
	CHECK(s.edid.valid);
	CHECK_STR(s.edid.name, "VIO Panel");
	CHECK_STR(s.edid.vendor, "VIO");
	CHECK_EQ(s.edid.width, W);
	CHECK_EQ(s.edid.height, H);
	CHECK_EQ(vio_gpu_get_scanout(dev, 1, &s), 0);
	CHECK(!s.enabled);
	CHECK_EQ(vio_gpu_get_scanout(dev, 2, &s), VIO_EINVAL);
	/* EDID only for the enabled head. */
	CHECK_EQ(gpu.count[VIRTIO_GPU_CMD_GET_EDID & 0xf], 1);
	teardown();
}

static void test_probe_modern(void)
{
	probe(2);
}

static void test_probe_legacy(void)
{
	probe(1);
}

/* The host copy of resource id equals the framebuffer's pixels. */
static bool host_matches(const struct vio_fb *fb, uint32_t id)
{
	struct sim_gpu_res *r = sim_gpu_find(&gpu, id);

	return r && r->host && r->width == fb->width &&
	       memcmp(r->host, fb->pixels, (size_t)fb->width * fb->height * 4) == 0;
}

static void draw(uint32_t version)
{
	struct vio_device *dev = setup(version);
	struct vio_fb fb;

	if (!dev)
		return;
	CHECK_EQ(vio_fb_open(&fb, dev, 0, 0, 0, VIO_FB_XRGB8888, 0), 0);
	CHECK_EQ(fb.width, W);
	CHECK_EQ(fb.stride, W * 4);
	CHECK_EQ(gpu.scanout[0].res, fb.res[0]);
	CHECK_EQ(gpu.scanout[0].rw, W);
	vio_fb_fill(&fb, 0, 0, W, H, vio_fb_rgb(&fb, 0, 0, 80));
	CHECK_EQ(vio_fb_flush(&fb), 0);
	CHECK(host_matches(&fb, fb.res[0]));
	CHECK_EQ(gpu.last_flush[2], W);
	/* Only the damaged area is sent: the text's cells. */
	CHECK_EQ(vio_fb_text(&fb, 10, 20, "Hi!", vio_fb_rgb(&fb, 255, 255, 255), 0, 2), 36);
	CHECK_EQ(vio_fb_flush(&fb), 0);
	CHECK_EQ(gpu.last_transfer[0], 10);
	CHECK_EQ(gpu.last_transfer[1], 20);
	CHECK_EQ(gpu.last_transfer[2], 36);
	CHECK_EQ(gpu.last_transfer[3], 16);
	CHECK_EQ(gpu.last_flush[2], 36);
	CHECK(host_matches(&fb, fb.res[0]));
	/* A glyph pixel: the 'H' has its left column lit. */
	CHECK_EQ(fb.pixels[20 * W + 10], vio_fb_rgb(&fb, 255, 255, 255));
	CHECK_EQ(fb.pixels[20 * W + 12], 0);
	/* Clipped drawing touches nothing outside. */
	vio_fb_fill(&fb, -10, -10, 15, 15, 0x123456);
	vio_fb_fill(&fb, W - 2, H - 2, 100, 100, 0x654321);
	CHECK_EQ(fb.pixels[0], 0x123456);
	CHECK_EQ(fb.pixels[(H - 1) * W + W - 1], 0x654321);
	CHECK_EQ(vio_fb_flush(&fb), 0);
	CHECK(host_matches(&fb, fb.res[0]));
	/* Nothing drawn, nothing sent. */
	{
		unsigned cmds = gpu.cmds;

		CHECK_EQ(vio_fb_flush(&fb), 0);
		CHECK_EQ(gpu.cmds, cmds);
	}
	vio_fb_close(&fb);
	CHECK_EQ(gpu.scanout[0].res, 0);
	CHECK(sim_gpu_find(&gpu, 1) == NULL);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	teardown();
}

static void test_draw_modern(void)
{
	draw(2);
}

static void test_draw_legacy(void)
{
	draw(1);
}

/* Without DMA coherency: the device must see what the guest drew (cleaned before transfers). */
static void test_draw_noncoherent(void)
{
	noncoherent = true;
	draw(2);
}

static void test_draw_noncoherent_legacy(void)
{
	noncoherent = true;
	draw(1);
}

static void test_flip(void);

static void test_flip_noncoherent(void)
{
	noncoherent = true;
	test_flip();
}

static void test_flip(void)
{
	struct vio_device *dev = setup(2);
	struct vio_fb fb;
	uint32_t *first;

	if (!dev)
		return;
	CHECK_EQ(vio_fb_open(&fb, dev, 0, 0, 0, VIO_FB_XBGR8888, VIO_FB_DOUBLE), 0);
	CHECK_EQ(sim_gpu_find(&gpu, fb.res[0])->format, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM);
	CHECK_EQ(gpu.scanout[0].res, fb.res[0]);
	first = fb.pixels;
	CHECK(first == fb.buf[1]);
	vio_fb_fill(&fb, 0, 0, W, H, vio_fb_rgb(&fb, 1, 2, 3));
	CHECK_EQ(fb.pixels[0], 0x030201);
	CHECK_EQ(vio_fb_flip(&fb), 0);
	/* The drawn buffer is on screen whole; drawing goes to the other one. */
	CHECK_EQ(gpu.scanout[0].res, fb.res[1]);
	CHECK(sim_gpu_find(&gpu, fb.res[1])->host[W * H - 1] == 0x030201);
	CHECK(fb.pixels == fb.buf[0]);
	vio_fb_fill(&fb, 0, 0, W, H, 7);
	CHECK_EQ(vio_fb_flush(&fb), 0); /* a flip too */
	CHECK_EQ(gpu.scanout[0].res, fb.res[0]);
	CHECK(sim_gpu_find(&gpu, fb.res[0])->host[0] == 7);
	CHECK(sim_gpu_find(&gpu, fb.res[1])->host[0] == 0x030201);
	vio_fb_close(&fb);
	teardown();
}

/* Backing in scattered pieces: the device must see each entry, in order. */
static void test_scattered_backing(void)
{
	const struct vio_port *port = sim_port();
	struct vio_device *dev = setup(1);
	struct vio_gpu_rect r = { 0, 0, 16, 12 };
	struct vio_sg sg[3];
	uint8_t *piece[3];
	uint32_t lens[3] = { 200, 368, 200 }; /* 768 bytes = 16 x 12 pixels */
	uint32_t id;
	struct sim_gpu_res *res;

	if (!dev)
		return;
	id = vio_gpu_new_resource_id(dev);
	CHECK_EQ(vio_gpu_resource_create(dev, id, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 12), 0);
	for (unsigned i = 0, v = 0; i < 3; i++) {
		piece[i] = port->dma_alloc(port->ctx, lens[i], 64);
		for (uint32_t k = 0; k < lens[i]; k++)
			piece[i][k] = (uint8_t)v++;
		sg[i] = (struct vio_sg){ piece[i], lens[i] };
	}
	CHECK_EQ(vio_gpu_attach_backing(dev, id, sg, 3), 0);
	CHECK_EQ(gpu.last_nent, 3);
	CHECK_EQ(vio_gpu_update(dev, id, &r, 0, VIO_GPU_FENCE), 0);
	CHECK(gpu.last_flags & VIRTIO_GPU_FLAG_FENCE);
	res = sim_gpu_find(&gpu, id);
	if (res)
		for (unsigned k = 0; k < 768; k++)
			CHECK_EQ(((uint8_t *)res->host)[k], (uint8_t)k);
	/* A partial rectangle starts at its offset; rows advance by the resource's width. */
	memset(piece[0], 0xee, lens[0]);
	r = (struct vio_gpu_rect){ 2, 1, 3, 2 };
	CHECK_EQ(vio_gpu_transfer(dev, id, &r, 1 * 64 + 2 * 4, 0), 0);
	if (res) {
		CHECK_EQ(res->host[1 * 16 + 2], 0xeeeeeeee);
		CHECK_EQ(res->host[2 * 16 + 4], 0xeeeeeeee);
		CHECK_EQ(res->host[0], 0x03020100); /* outside: unchanged */
	}
	CHECK_EQ(vio_gpu_attach_backing(dev, id, sg, 0), VIO_EINVAL);
	CHECK_EQ(vio_gpu_attach_backing(dev, id, sg, VIO_GPU_MAX_ENTRIES + 1), VIO_EINVAL);
	CHECK_EQ(vio_gpu_detach_backing(dev, id), 0);
	CHECK_EQ(vio_gpu_resource_unref(dev, id), 0);
	for (unsigned i = 0; i < 3; i++)
		port->dma_free(port->ctx, piece[i], lens[i]);
	teardown();
}

static void test_error_responses(void)
{
	struct vio_device *dev = setup(2);
	struct vio_gpu_rect r = { 0, 0, 8, 8 }, out = { W - 4, 0, 8, 8 };
	struct vio_gpu_info info;
	struct vio_fb fb;

	if (!dev)
		return;
	CHECK_EQ(vio_fb_open(&fb, dev, 0, 0, 0, VIO_FB_XRGB8888, 0), 0);
	CHECK_EQ(vio_gpu_flush(dev, 999, &r, 0), VIO_ENOENT);
	CHECK_EQ(vio_gpu_transfer(dev, fb.res[0], &out, 0, 0), VIO_ERANGE);
	CHECK_EQ(vio_gpu_flush(dev, fb.res[0], &out, 0), VIO_ERANGE);
	CHECK_EQ(vio_gpu_set_scanout(dev, 7, fb.res[0], &r), VIO_ENXIO);
	CHECK_EQ(vio_gpu_resource_create(dev, 77, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16384, 16384),
		 VIO_ENOBUFS);
	CHECK_EQ(vio_gpu_resource_create(dev, fb.res[0], VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4),
		 VIO_ENOENT);
	CHECK_EQ(vio_gpu_resource_create(dev, 5, 1, 0, 4), VIO_EINVAL); /* caught before */
	/* An error in the middle of a batch: the first one is returned. */
	CHECK_EQ(vio_gpu_update(dev, 999, &r, 0, 0), VIO_ENOENT);
	CHECK_EQ(vio_gpu_get_info(dev, &info), 0);
	CHECK_EQ(info.bad_responses, 8);
	/* The GPU keeps working. */
	vio_fb_fill(&fb, 1, 1, 3, 3, 0xabcdef);
	CHECK_EQ(vio_fb_flush(&fb), 0);
	CHECK(host_matches(&fb, fb.res[0]));
	CHECK_EQ(dev->state, VIO_DEV_READY);
	/* Calls on what is not a GPU. */
	CHECK_EQ(vio_gpu_flush(NULL, 1, &r, 0), VIO_ENODEV);
	CHECK_EQ(vio_gpu_flush(dev, 1, NULL, 0), VIO_EINVAL);
	vio_fb_close(&fb);
	teardown();
}

/* A malformed answer to a flush fails the device with VIO_EPROTO. */
static void malformed(int short_resp, uint32_t wrong_type, bool drop_fence, bool refresh)
{
	struct vio_device *dev = setup(2);
	struct vio_gpu_rect r = { 0, 0, 8, 8 };
	struct vio_fb fb;

	if (!dev)
		return;
	CHECK_EQ(vio_fb_open(&fb, dev, 0, 0, 0, VIO_FB_XRGB8888, 0), 0);
	gpu.short_resp = short_resp;
	gpu.wrong_type = wrong_type;
	gpu.drop_fence = drop_fence;
	if (refresh)
		CHECK_EQ(vio_gpu_refresh(dev), VIO_EPROTO);
	else
		CHECK_EQ(vio_gpu_flush(dev, fb.res[0], &r, drop_fence ? VIO_GPU_FENCE : 0),
			 VIO_EPROTO);
	CHECK_EQ(dev->state, VIO_DEV_FAILED);
	CHECK_EQ(dev->error, VIO_EPROTO);
	CHECK_EQ(vio_gpu_flush(dev, fb.res[0], &r, 0), VIO_ESHUTDOWN);
	CHECK_EQ(vio_gpu_cursor_move(dev, 0, 1, 1), VIO_ESHUTDOWN);
	vio_fb_close(&fb);
	teardown();
}

static void test_short_header(void)
{
	malformed(10, 0, false, false);
}

static void test_empty_answer(void)
{
	malformed(0, 0, false, false);
}

static void test_wrong_type(void)
{
	malformed(-1, VIRTIO_GPU_RESP_OK_DISPLAY_INFO, false, false);
}

static void test_unknown_type(void)
{
	malformed(-1, 0x4242, false, false);
}

static void test_fence_dropped(void)
{
	malformed(-1, 0, true, false);
}

/* A display-info answer shorter than its type (a header's worth and some). */
static void test_short_display_info(void)
{
	malformed(100, 0, false, true);
}

static void test_bad_scanout_counts(void)
{
	struct vio_device *dev;

	dev = setup_n(2, 0, VIO_DEV_FAILED);
	if (dev)
		CHECK_EQ(dev->error, VIO_EPROTO);
	teardown();
	sim_reset_all();
	sim_port_reset();
	dev = setup_n(1, VIRTIO_GPU_MAX_SCANOUTS + 1, VIO_DEV_FAILED);
	if (dev)
		CHECK_EQ(dev->error, VIO_EPROTO);
	teardown();
	sim_reset_all();
	sim_port_reset();
	dev = setup_n(2, VIRTIO_GPU_MAX_SCANOUTS, VIO_DEV_READY);
	teardown();
}

/* Scanout 0's EDID after the device answers with blob (len) and size. */
static void edid_case(const uint8_t *blob, uint32_t len, uint32_t size, bool want_valid)
{
	struct vio_device *dev;
	struct vio_gpu_scanout s;

	sim_reset_all();
	sim_port_reset();
	dev = setup(2);
	if (!dev)
		return;
	memcpy(gpu.scanout[0].edid, blob, len);
	gpu.scanout[0].edid_len = len;
	gpu.edid_size = size;
	CHECK_EQ(vio_gpu_refresh(dev), 0);
	CHECK_EQ(vio_gpu_get_scanout(dev, 0, &s), 0);
	CHECK_EQ(s.edid.valid, want_valid);
	CHECK(s.enabled); /* a bad EDID costs the name, not the head */
	CHECK_EQ(dev->state, VIO_DEV_READY);
	teardown();
}

static void test_edid_blobs(void)
{
	uint8_t e[256];

	sim_gpu_make_edid(e, 1024, 768, "Panel");
	edid_case(e, 128, 0, true);
	/* The size says more than the response holds. */
	edid_case(e, 128, 2000, false);
	/* A checksum off by one. */
	e[127]++;
	edid_case(e, 128, 0, false);
	e[127]--;
	/* A header byte wrong. */
	e[3] = 0;
	edid_case(e, 128, 0, false);
	e[3] = 0xff;
	/* An extension block announced that is not there. */
	e[126] = 1;
	e[127]--;
	edid_case(e, 128, 0, false);
	/* ... and present, with its own checksum. */
	memset(e + 128, 0, 128);
	e[128] = 0x02;
	e[255] = 0xfe;
	edid_case(e, 256, 0, true);
	/* Too short to be one. */
	edid_case(e, 100, 0, false);
}

static void test_edid_parse(void)
{
	struct vio_gpu_edid out;
	uint8_t e[128];

	sim_gpu_make_edid(e, 2560, 1600, "Wide 30in");
	CHECK_EQ(vio_gpu_edid_parse(e, sizeof(e), &out), 0);
	CHECK(out.valid);
	CHECK_EQ(out.width, 2560);
	CHECK_EQ(out.height, 1600);
	CHECK_STR(out.name, "Wide 30in");
	/* A name that fills all 13 bytes, and one with a byte that is not text. */
	sim_gpu_make_edid(e, 640, 480, "ABCDEFGHIJKLM");
	CHECK_EQ(vio_gpu_edid_parse(e, sizeof(e), &out), 0);
	CHECK_STR(out.name, "ABCDEFGHIJKLM");
	sim_gpu_make_edid(e, 640, 480, "A\x01Z");
	CHECK_EQ(vio_gpu_edid_parse(e, sizeof(e), &out), 0);
	CHECK_STR(out.name, "A?Z");
	CHECK_EQ(vio_gpu_edid_parse(e, 127, &out), VIO_EINVAL);
	CHECK(!out.valid);
	CHECK_EQ(vio_gpu_edid_parse(NULL, 128, &out), VIO_EINVAL);
}

static unsigned events_seen;

static void on_event(struct vio_device *dev, void *arg)
{
	(void)dev;
	CHECK(arg == &events_seen);
	events_seen++;
}

static void test_display_event(void)
{
	struct vio_device *dev = setup(1);
	struct vio_gpu_info info;
	struct vio_gpu_scanout s;

	if (!dev)
		return;
	events_seen = 0;
	vio_gpu_set_event_handler(dev, on_event, &events_seen);
	gpu.scanout[1].enabled = true;
	gpu.scanout[1].width = 32;
	gpu.scanout[1].height = 16;
	sim_gpu_display_event(d);
	for (int i = 0; i < 5; i++) {
		vio_service();
		sim_step_all(); /* the device answers the driver's GET_DISPLAY_INFO */
	}
	vio_service();
	CHECK_EQ(events_seen, 1);
	CHECK_EQ(gpu.events_cleared, VIRTIO_GPU_EVENT_DISPLAY);
	CHECK_EQ(vio_gpu_get_info(dev, &info), 0);
	CHECK_EQ(info.display_events, 1);
	CHECK(info.stale);
	/* The driver read the modes again by itself before telling. */
	CHECK_EQ(vio_gpu_get_scanout(dev, 1, &s), 0);
	CHECK(s.enabled);
	CHECK_EQ(s.width, 32);
	CHECK(!s.edid.valid);
	CHECK_EQ(gpu.count[VIRTIO_GPU_CMD_GET_DISPLAY_INFO & 0xf], 2);
	/* A second event while nothing else is out; then a mode the device may not give. */
	gpu.scanout[1].width = 40000;
	sim_gpu_display_event(d);
	for (int i = 0; i < 5; i++) {
		vio_service();
		sim_step_all(); /* the device answers the driver's GET_DISPLAY_INFO */
	}
	vio_service();
	CHECK_EQ(events_seen, 2);
	CHECK_EQ(vio_gpu_get_scanout(dev, 1, &s), 0);
	CHECK(!s.enabled);
	gpu.scanout[1].width = 32;
	CHECK_EQ(vio_gpu_refresh(dev), 0);
	CHECK_EQ(vio_gpu_get_info(dev, &info), 0);
	CHECK(!info.stale);
	CHECK_EQ(vio_gpu_get_scanout(dev, 1, &s), 0);
	CHECK(s.enabled);
	CHECK_EQ(s.width, 32);
	CHECK_EQ(s.height, 16);
	CHECK_EQ(dev->state, VIO_DEV_READY);
	teardown();
}

static void test_cursor(void)
{
	static uint32_t img[64 * 64];
	struct vio_device *dev = setup(2);
	struct vio_fb fb;

	if (!dev)
		return;
	CHECK_EQ(vio_fb_open(&fb, dev, 0, 0, 0, VIO_FB_XRGB8888, 0), 0);
	for (unsigned i = 0; i < 64 * 64; i++)
		img[i] = 0xff000000u | i;
	CHECK_EQ(vio_fb_cursor_set(&fb, img, 3, 4), 0);
	/* More moves than the cursor queue has slots: they are recycled. */
	for (unsigned i = 0; i < 40; i++)
		CHECK_EQ(vio_fb_cursor_move(&fb, i, 2 * i), 0);
	for (int i = 0; i < 3; i++)
		vio_service();
	sim_step_all();
	vio_service();
	CHECK_EQ(gpu.cursor_updates, 1);
	CHECK_EQ(gpu.cursor_moves, 40);
	CHECK_EQ(gpu.cursor_x, 39);
	CHECK_EQ(gpu.cursor_y, 78);
	CHECK_EQ(gpu.cursor_res, fb.cursor_res);
	CHECK(sim_gpu_find(&gpu, fb.cursor_res)->host[5] == (0xff000000u | 5));
	CHECK_EQ(vio_fb_cursor_set(&fb, img, 64, 0), VIO_EINVAL);
	CHECK_EQ(vio_gpu_cursor_move(dev, 2, 0, 0), VIO_EINVAL);
	vio_fb_close(&fb);
	teardown();
}

int main(void)
{
	RUN(test_probe_modern);
	RUN(test_probe_legacy);
	RUN(test_draw_modern);
	RUN(test_draw_legacy);
	RUN(test_flip);
	RUN(test_draw_noncoherent);
	RUN(test_draw_noncoherent_legacy);
	RUN(test_flip_noncoherent);
	RUN(test_scattered_backing);
	RUN(test_error_responses);
	RUN(test_short_header);
	RUN(test_empty_answer);
	RUN(test_wrong_type);
	RUN(test_unknown_type);
	RUN(test_fence_dropped);
	RUN(test_short_display_info);
	RUN(test_bad_scanout_counts);
	RUN(test_edid_blobs);
	RUN(test_edid_parse);
	RUN(test_display_event);
	RUN(test_cursor);
	return test_report();
}
