/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-gpu test firmware. The host (test_gpu.py) boots it with a GPU,
 * reads what it found, then sends one command a line on the UART and
 * checks the screen with QMP screendumps after each answer:
 *
 *     GPU state=<s> iface=<i> scanouts=<n> edid=<0|1>      at start, then per scanout
 *     SCANOUT <i> enabled=<0|1> mode=<w>x<h> edid=<0|1> pref=<w>x<h> name=<name>
 *     READY
 *
 *     bars <s> [<w> <h>]   open a framebuffer on scanout s (its mode, or w x h;
 *                          640x480 on a scanout without a mode)
 *                          and show eight colour bars (test_gpu.py: BARS)
 *     rect <s> <x> <y> <w> <h> <r> <g> <b>
 *                          scribble grey over the whole buffer without
 *                          marking it damaged, fill the rectangle and flush:
 *                          only the rectangle may change on screen
 *     text <s> <x> <y> <scale> <string...>   white text on black, flushed
 *     flip <s> <n>         (double-buffered framebuffer on s) frame n: the
 *                          whole screen in colour FRAME[n % 4] with a black
 *                          band at row n, then a flip
 *     errors <s>           a flush of an unknown resource (VIO_ENOENT), a
 *                          transfer outside the resource (VIO_ERANGE), a
 *                          scanout that is not there (VIO_ENXIO): ERR lines
 *     cursor <s>           a 64x64 cursor image, then 16 moves
 *     events               EVENTS n=<display events> stale=<0|1> and the
 *                          SCANOUT lines as the driver re-read them on its
 *                          own; then REFRESHED (vio_gpu_refresh, EDID too)
 *                          and the SCANOUT lines again
 *     q                    the end: RESULT and QEMU exits
 *
 * Every command answers OK <command> or FAIL (report.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/fb.h>
#include <vio/gpu.h>
#include <vio/spec/virtio_config.h>

#include "app.h"
#include "board.h"
#include "report.h"

#define MS 1000000ull
#define MAX_HEADS 4u

/* The colour bars, left to right (test_gpu.py has the same table). */
static const uint8_t BARS[8][3] = {
	{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
	{ 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
};
static const uint8_t FRAME[4][3] = { { 200, 30, 30 }, { 30, 200, 30 }, { 30, 30, 200 },
				     { 200, 200, 30 } };

static struct vio_device *dev;
static struct vio_fb fbs[MAX_HEADS];

static const char *errname(int err)
{
	switch (err) {
	case 0: return "0";
	case VIO_ENOENT: return "VIO_ENOENT";
	case VIO_ENXIO: return "VIO_ENXIO";
	case VIO_ERANGE: return "VIO_ERANGE";
	case VIO_ENOBUFS: return "VIO_ENOBUFS";
	case VIO_EIO: return "VIO_EIO";
	case VIO_EINVAL: return "VIO_EINVAL";
	case VIO_EPROTO: return "VIO_EPROTO";
	default: return vio_strerror(err);
	}
}

static bool read_line(char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		int c = board_console_getc();

		if (c < 0) {
			uintptr_t irq = board_irq_save();

			vio_service();
			board_idle_until(board_time_ns() + MS);
			board_irq_restore(irq);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (n) {
				line[n] = '\0';
				return true;
			}
			continue;
		}
		if (n + 1 < size)
			line[n++] = (char)c;
	}
}

static void print_scanouts(void)
{
	struct vio_gpu_info info;

	vio_gpu_get_info(dev, &info);
	for (unsigned i = 0; i < info.scanouts; i++) {
		struct vio_gpu_scanout s;

		if (vio_gpu_get_scanout(dev, i, &s))
			continue;
		printf("SCANOUT %u enabled=%d mode=%ux%u edid=%d pref=%ux%u name=%s\n", i, s.enabled,
		       (unsigned)s.width, (unsigned)s.height, s.edid.valid, (unsigned)s.edid.width,
		       (unsigned)s.edid.height, s.edid.name[0] ? s.edid.name : "-");
	}
}

/* The framebuffer of scanout s, (re)opened when asked for another kind. */
static struct vio_fb *head(unsigned s, uint32_t w, uint32_t h, unsigned flags)
{
	struct vio_fb *fb = &fbs[s];
	struct vio_gpu_scanout so;
	int rc;

	if (fb->dev && (flags & VIO_FB_DOUBLE) == (fb->nbuf == 2) && (!w || w == fb->width) &&
	    (!h || h == fb->height))
		return fb;
	if (fb->dev)
		vio_fb_close(fb);
	if (!w && vio_gpu_get_scanout(dev, s, &so) == 0 && !so.enabled) {
		/* A head without a mode (QEMU enables only the first without a UI). */
		w = 640;
		h = 480;
	}
	rc = vio_fb_open(fb, dev, s, w, h, VIO_FB_XRGB8888, flags);
	if (rc) {
		fail("open", "framebuffer on scanout %u: %s", s, errname(rc));
		return NULL;
	}
	return fb;
}

static void cmd_bars(unsigned s, uint32_t w, uint32_t h)
{
	struct vio_fb *fb = head(s, w, h, 0);
	int rc;

	if (!fb)
		return;
	for (unsigned i = 0; i < 8; i++) {
		uint32_t x0 = fb->width * i / 8, x1 = fb->width * (i + 1) / 8;

		vio_fb_fill(fb, (int32_t)x0, 0, x1 - x0, fb->height,
			    vio_fb_rgb(fb, BARS[i][0], BARS[i][1], BARS[i][2]));
	}
	rc = vio_fb_flush(fb);
	if (rc)
		fail("bars", "flush: %s", errname(rc));
	else
		printf("OK bars %ux%u\n", (unsigned)fb->width, (unsigned)fb->height);
}

static void cmd_rect(unsigned s, const unsigned *v)
{
	struct vio_fb *fb = head(s, 0, 0, 0);
	int rc;

	if (!fb)
		return;
	/* Memory the device may not see: not damaged, so never transferred. */
	for (uint32_t y = 0; y < fb->height; y++)
		for (uint32_t x = 0; x < fb->width; x++)
			fb->pixels[(size_t)y * fb->width + x] = vio_fb_rgb(fb, 128, 128, 128);
	vio_fb_fill(fb, (int32_t)v[0], (int32_t)v[1], v[2], v[3],
		    vio_fb_rgb(fb, (uint8_t)v[4], (uint8_t)v[5], (uint8_t)v[6]));
	rc = vio_fb_flush(fb);
	if (rc)
		fail("rect", "flush: %s", errname(rc));
	else
		printf("OK rect\n");
}

static void cmd_text(unsigned s, int32_t x, int32_t y, unsigned scale, const char *str)
{
	struct vio_fb *fb = head(s, 0, 0, 0);
	int rc;

	if (!fb)
		return;
	vio_fb_fill(fb, 0, 0, fb->width, fb->height, 0);
	vio_fb_text(fb, x, y, str, vio_fb_rgb(fb, 255, 255, 255), 0, scale);
	rc = vio_fb_flush(fb);
	if (rc)
		fail("text", "flush: %s", errname(rc));
	else
		printf("OK text\n");
}

static void cmd_flip(unsigned s, unsigned n)
{
	struct vio_fb *fb = head(s, 0, 0, VIO_FB_DOUBLE);
	const uint8_t *c = FRAME[n % 4];
	int rc;

	if (!fb)
		return;
	vio_fb_fill(fb, 0, 0, fb->width, fb->height, vio_fb_rgb(fb, c[0], c[1], c[2]));
	vio_fb_fill(fb, 0, (int32_t)n, fb->width, 8, 0);
	rc = vio_fb_flip(fb);
	if (rc)
		fail("flip", "flip: %s", errname(rc));
	else
		printf("OK flip %u\n", n);
}

static void cmd_errors(unsigned s)
{
	struct vio_gpu_rect r = { 0, 0, 16, 16 }, out;
	struct vio_fb *fb = head(s, 0, 0, 0);
	struct vio_gpu_info info;
	int rc;

	if (!fb)
		return;
	rc = vio_gpu_flush(dev, 0xdead, &r, 0);
	printf("ERR badres rc=%s\n", errname(rc));
	out = (struct vio_gpu_rect){ fb->width - 8, 0, 16, 16 };
	rc = vio_gpu_transfer(dev, fb->res[0], &out, 0, 0);
	printf("ERR outside rc=%s\n", errname(rc));
	rc = vio_gpu_set_scanout(dev, 15, fb->res[0], &r);
	printf("ERR scanout rc=%s\n", errname(rc));
	/* A fenced flush: the answer must carry the fence back. */
	rc = vio_gpu_flush(dev, fb->res[0], &r, VIO_GPU_FENCE);
	printf("ERR fence rc=%s\n", errname(rc));
	vio_gpu_get_info(dev, &info);
	printf("ERR bad_responses=%u state=%d\n", (unsigned)info.bad_responses, (int)vio_dev_state(dev));
	printf("OK errors\n");
}

static void cmd_cursor(unsigned s)
{
	static uint32_t img[64 * 64];
	struct vio_fb *fb = head(s, 0, 0, 0);
	int rc;

	if (!fb)
		return;
	for (unsigned y = 0; y < 64; y++)
		for (unsigned x = 0; x < 64; x++)
			img[y * 64 + x] = (x < 64 - y && (x < 4 || y < 4 || x + y > 56))
						  ? 0xffffffffu : (x < 64 - y ? 0xff000000u : 0);
	rc = vio_fb_cursor_set(fb, img, 0, 0);
	for (unsigned i = 0; !rc && i < 16; i++)
		rc = vio_fb_cursor_move(fb, 10 + i * 8, 10 + i * 4);
	if (rc)
		fail("cursor", "%s", errname(rc));
	else
		printf("OK cursor\n");
}

static void cmd_events(void)
{
	struct vio_gpu_info info;
	int rc;

	vio_service();
	vio_gpu_get_info(dev, &info);
	printf("EVENTS n=%u stale=%d\n", (unsigned)info.display_events, info.stale);
	print_scanouts(); /* as the driver re-read them on the event */
	rc = vio_gpu_refresh(dev);
	if (rc)
		fail("events", "refresh: %s", errname(rc));
	printf("REFRESHED\n");
	print_scanouts();
	printf("OK events\n");
}

int main(void)
{
	struct vio_gpu_info info = { 0 };
	char line[160];

	app_vio_start();
	dev = vio_dev_find(VIRTIO_ID_GPU, 0);
	if (vio_gpu_get_info(dev, &info)) {
		fail("probe", "no live GPU");
		report_finish();
	}
	printf("GPU state=%d iface=%s scanouts=%u edid=%d\n", (int)vio_dev_state(dev),
	       vio_dev_interface(dev), info.scanouts, info.edid);
	print_scanouts();
	printf("READY\n");
	while (read_line(line, sizeof(line))) {
		unsigned v[8] = { 0 };
		char *args = strchr(line, ' ');

		if (args)
			*args++ = '\0';
		else
			args = line + strlen(line);
		if (!strcmp(line, "q"))
			break;
		if (!strcmp(line, "events")) {
			cmd_events();
			continue;
		}
		{
			char *p = args;

			for (unsigned i = 0; i < 8 && *p; i++)
				v[i] = (unsigned)strtoul(p, &p, 0);
		}
		if (v[0] >= MAX_HEADS || v[0] >= info.scanouts) {
			fail(line, "scanout %u", v[0]);
		} else if (!strcmp(line, "bars")) {
			cmd_bars(v[0], v[1], v[2]);
		} else if (!strcmp(line, "rect")) {
			cmd_rect(v[0], v + 1);
		} else if (!strcmp(line, "text")) {
			/* text <s> <x> <y> <scale> <string...> */
			char *p = args;

			for (unsigned i = 0; i < 4 && p; i++) {
				p = strchr(p, ' ');
				if (p)
					p++;
			}
			cmd_text(v[0], (int32_t)v[1], (int32_t)v[2], v[3], p ? p : "");
		} else if (!strcmp(line, "flip")) {
			cmd_flip(v[0], v[1]);
		} else if (!strcmp(line, "errors")) {
			cmd_errors(v[0]);
		} else if (!strcmp(line, "cursor")) {
			cmd_cursor(v[0]);
		} else {
			fail("command", "unknown '%s'", line);
		}
	}
	pass("gpu");
	report_finish();
}
