/* SPDX-License-Identifier: Apache-2.0 */
/* Display commands: gpu info, gpu demo, gpu fill. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/error.h>
#include <vio/fb.h>
#include <vio/gpu.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"

#include "board.h"
#include "shell.h"

#if CONFIG_VIO_DRIVER_GPU && CONFIG_VIO_FB && CONFIG_VIO_FB_FONT

#define HEADS 4u

/* One framebuffer per head, kept between commands: the picture stays. */
static struct vio_fb fbs[HEADS];

static struct vio_device *gpu(void)
{
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_GPU, 0);

	if (!dev) {
		printf("gpu: no virtio-gpu device\n");
		return NULL;
	}
	if (vio_dev_state(dev) != VIO_DEV_READY) {
		printf("gpu: %s is not ready: %s\n", dev->name, vio_strerror(dev->error));
		return NULL;
	}
	return dev;
}

static int info(struct vio_device *dev)
{
	struct vio_gpu_info in;
	int rc = vio_gpu_get_info(dev, &in);

	if (!rc && in.stale)
		rc = vio_gpu_refresh(dev); /* a display changed since: read it again */
	if (!rc)
		rc = vio_gpu_get_info(dev, &in);
	if (rc) {
		printf("gpu: %s\n", vio_strerror(rc));
		return 1;
	}
	printf("%s: %s, %u scanout%s, EDID %s, %u display event%s\n", dev->name,
	       vio_dev_interface(dev), in.scanouts, in.scanouts == 1 ? "" : "s",
	       in.edid ? "yes" : "no", (unsigned)in.display_events,
	       in.display_events == 1 ? "" : "s");
	for (unsigned i = 0; i < in.scanouts; i++) {
		struct vio_gpu_scanout s;

		if (vio_gpu_get_scanout(dev, i, &s))
			continue;
		printf("  scanout %u: %s", i, s.enabled ? "enabled" : "disabled");
		if (s.enabled)
			printf(" %ux%u", (unsigned)s.width, (unsigned)s.height);
		if (s.edid.valid)
			printf(", monitor \"%s\" (%s), preferred %ux%u", s.edid.name, s.edid.vendor,
			       (unsigned)s.edid.width, (unsigned)s.edid.height);
		putchar('\n');
	}
	return 0;
}

/* The framebuffer of head i at its current mode, opened (again) when needed. */
static struct vio_fb *head(struct vio_device *dev, unsigned i)
{
	struct vio_gpu_scanout s;
	struct vio_fb *fb = &fbs[i];
	int rc;

	if (vio_gpu_get_scanout(dev, i, &s) || !s.enabled)
		return NULL;
	if (fb->dev && fb->width == s.width && fb->height == s.height)
		return fb;
	if (fb->dev)
		vio_fb_close(fb);
	rc = vio_fb_open(fb, dev, i, 0, 0, VIO_FB_XRGB8888, 0);
	if (rc) {
		printf("gpu: scanout %u: %s\n", i, vio_strerror(rc));
		return NULL;
	}
	return fb;
}

static void demo_picture(struct vio_fb *fb, unsigned i, const char *iface)
{
	static const uint8_t bars[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
		{ 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
	};
	uint32_t w = fb->width, h = fb->height, band = h * 5 / 8;
	uint32_t white = vio_fb_rgb(fb, 255, 255, 255);
	char line[80];

	for (unsigned b = 0; b < 8; b++)
		vio_fb_fill(fb, (int32_t)(w * b / 8), 0, w * (b + 1) / 8 - w * b / 8, band,
			    vio_fb_rgb(fb, bars[b][0], bars[b][1], bars[b][2]));
	/* A grey ramp, then a red-to-blue one. */
	for (uint32_t x = 0; x < w; x++) {
		uint8_t v = (uint8_t)(x * 255u / (w > 1 ? w - 1 : 1));

		vio_fb_fill(fb, (int32_t)x, (int32_t)band, 1, h / 8, vio_fb_rgb(fb, v, v, v));
		vio_fb_fill(fb, (int32_t)x, (int32_t)(band + h / 8), 1, h / 8,
			    vio_fb_rgb(fb, (uint8_t)(255 - v), 0, v));
	}
	vio_fb_fill(fb, 0, (int32_t)(band + h / 4), w, h - band - h / 4, vio_fb_rgb(fb, 16, 24, 48));
	snprintf(line, sizeof(line), "vio virtio-gpu  scanout %u  %ux%u  %s", i, (unsigned)w,
		 (unsigned)h, iface);
	vio_fb_text(fb, 16, (int32_t)(band + h / 4 + 12), line, white, white, w >= 1024 ? 3 : 2);
	vio_fb_text(fb, 16, (int32_t)(band + h / 4 + 12 + 8 * (w >= 1024 ? 3 : 2) + 10),
		    "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ !?#%&*+-=/<>()[]{}", white, white, 2);
}

static void cursor_image(uint32_t *img)
{
	/* An arrow: white outline, black inside, transparent elsewhere. */
	for (unsigned y = 0; y < 64; y++)
		for (unsigned x = 0; x < 64; x++) {
			uint32_t c = 0;

			if (y < 40 && x <= y / 2 + 1)
				c = (x == 0 || x >= y / 2 || y == 39) ? 0xffffffffu : 0xff000000u;
			img[y * 64 + x] = c;
		}
}

static int demo(struct vio_device *dev)
{
	static uint32_t img[64 * 64];
	struct vio_gpu_info in;
	struct vio_fb *first = NULL;
	int rc = 0;

	if (vio_gpu_get_info(dev, &in) || (in.stale && vio_gpu_refresh(dev)))
		return 1;
	for (unsigned i = 0; i < in.scanouts && i < HEADS; i++) {
		struct vio_fb *fb = head(dev, i);

		if (!fb)
			continue;
		demo_picture(fb, i, vio_dev_interface(dev));
		rc = vio_fb_flush(fb);
		if (rc) {
			printf("gpu: scanout %u: %s\n", i, vio_strerror(rc));
			return 1;
		}
		if (!first)
			first = fb;
	}
	if (!first) {
		printf("gpu: no enabled scanout\n");
		return 1;
	}
	cursor_image(img);
	rc = vio_fb_cursor_set(first, img, 0, 0);
	/* The cursor glides along a diagonal for about two seconds, on its own queue. */
	for (unsigned k = 0; !rc && k <= 100; k++) {
		uint64_t until = board_time_ns() + 20000000u;

		rc = vio_fb_cursor_move(first, first->width / 4 + k * first->width / 200,
					first->height / 8 + k * first->height / 400);
		while (board_time_ns() < until)
			vio_service();
	}
	if (rc) {
		printf("gpu: cursor: %s\n", vio_strerror(rc));
		return 1;
	}
	printf("demo on %s: bars, ramps, text, cursor\n", dev->name);
	return 0;
}

static int fill(struct vio_device *dev, char **argv)
{
	unsigned long c[3];
	struct vio_gpu_info in;

	for (int i = 0; i < 3; i++) {
		char *end;

		c[i] = strtoul(argv[2 + i], &end, 0);
		if (*end || c[i] > 255) {
			return shell_usage("gpu fill R G B (0..255 each)");
		}
	}
	if (vio_gpu_get_info(dev, &in) || (in.stale && vio_gpu_refresh(dev)))
		return 1;
	for (unsigned i = 0; i < in.scanouts && i < HEADS; i++) {
		struct vio_fb *fb = head(dev, i);
		int rc;

		if (!fb)
			continue;
		vio_fb_fill(fb, 0, 0, fb->width, fb->height,
			    vio_fb_rgb(fb, (uint8_t)c[0], (uint8_t)c[1], (uint8_t)c[2]));
		rc = vio_fb_flush(fb);
		if (rc) {
			printf("gpu: scanout %u: %s\n", i, vio_strerror(rc));
			return 1;
		}
	}
	printf("filled with %lu %lu %lu\n", c[0], c[1], c[2]);
	return 0;
}

static int cmd_gpu(int argc, char **argv)
{
	struct vio_device *dev;

	if (argc < 2 || (strcmp(argv[1], "info") && strcmp(argv[1], "demo") &&
			 (strcmp(argv[1], "fill") || argc != 5))) {
		return shell_usage("gpu info | gpu demo | gpu fill R G B");
	}
	dev = gpu();
	if (!dev)
		return 1;
	if (!strcmp(argv[1], "info"))
		return info(dev);
	if (!strcmp(argv[1], "demo"))
		return demo(dev);
	return fill(dev, argv);
}

const struct shell_cmd shell_gpu_cmds[] = {
	{ "gpu", "info | demo | fill R G B",
	  "displays: scanouts, modes and monitors; a test picture; a solid colour", cmd_gpu,
	  "info demo fill" },
	{ NULL, NULL, NULL, NULL, NULL },
};

#endif
