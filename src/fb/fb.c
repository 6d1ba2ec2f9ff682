/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The framebuffer (include/vio/fb.h): guest memory drawn by the CPU and
 * shown through the GPU driver's 2D protocol (VirtIO 1.2 5.7.6.8:
 * RESOURCE_CREATE_2D, ATTACH_BACKING, SET_SCANOUT, TRANSFER_TO_HOST_2D,
 * RESOURCE_FLUSH). It knows nothing of queues or wire formats.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/fb.h>
#include <vio/gpu.h>

#include "fb/font.h"
#include "vio_config.h"

/* The backing is handed to the device in pieces of at most this (several mem entries). */
#define FB_PIECE (1u << 20)
#define FB_PAGE 4096u
#define CURSOR 64u

static uint32_t virtio_format(enum vio_fb_format f)
{
	switch (f) {
#if CONFIG_VIO_FB_XRGB8888
	case VIO_FB_XRGB8888: return VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
#endif
#if CONFIG_VIO_FB_XBGR8888
	case VIO_FB_XBGR8888: return VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM;
#endif
	default: return 0;
	}
}

uint32_t vio_fb_rgb(const struct vio_fb *fb, uint8_t r, uint8_t g, uint8_t b)
{
	if (fb->format == VIO_FB_XBGR8888)
		return (uint32_t)b << 16 | (uint32_t)g << 8 | r;
	return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

/* Attach buf (size bytes) to resource id in pieces. */
static int attach(struct vio_fb *fb, uint32_t id, void *buf, size_t size)
{
	struct vio_sg sg[VIO_GPU_MAX_ENTRIES];
	size_t piece = FB_PIECE, off = 0;
	unsigned n = 0;

	while ((size + piece - 1) / piece > VIO_GPU_MAX_ENTRIES)
		piece *= 2;
	while (off < size) {
		size_t len = size - off < piece ? size - off : piece;

		sg[n++] = (struct vio_sg){ (uint8_t *)buf + off, (uint32_t)len };
		off += len;
	}
	return vio_gpu_attach_backing(fb->dev, id, sg, n);
}

static const struct vio_gpu_rect *whole(const struct vio_fb *fb, struct vio_gpu_rect *r)
{
	*r = (struct vio_gpu_rect){ 0, 0, fb->width, fb->height };
	return r;
}

static void release(struct vio_fb *fb)
{
	const struct vio_port *port = vio_port();

	for (unsigned i = 0; i < 2; i++) {
		if (fb->res[i]) {
			vio_gpu_detach_backing(fb->dev, fb->res[i]);
			vio_gpu_resource_unref(fb->dev, fb->res[i]);
		}
		if (fb->buf[i])
			port->dma_free(port->ctx, fb->buf[i], fb->size);
		fb->res[i] = 0;
		fb->buf[i] = NULL;
	}
	if (fb->cursor_res) {
		vio_gpu_detach_backing(fb->dev, fb->cursor_res);
		vio_gpu_resource_unref(fb->dev, fb->cursor_res);
	}
	if (fb->cursor)
		port->dma_free(port->ctx, fb->cursor, CURSOR * CURSOR * 4);
	fb->cursor = NULL;
	fb->cursor_res = 0;
}

int vio_fb_open(struct vio_fb *fb, struct vio_device *dev, unsigned scanout, uint32_t width,
		uint32_t height, enum vio_fb_format format, unsigned flags)
{
	const struct vio_port *port = vio_port();
	struct vio_gpu_scanout so;
	struct vio_gpu_rect r;
	uint32_t vf = virtio_format(format);
	int rc;

	if (!fb)
		return VIO_EINVAL;
	memset(fb, 0, sizeof(*fb));
	rc = vio_gpu_get_scanout(dev, scanout, &so);
	if (rc)
		return rc;
	if (!vf || (!width && !so.enabled))
		return VIO_EINVAL;
	if (!width || !height) {
		width = so.width;
		height = so.height;
	}
	if (width > 16384 || height > 16384)
		return VIO_EINVAL;
	fb->dev = dev;
	fb->scanout = scanout;
	fb->width = width;
	fb->height = height;
	fb->stride = width * 4u;
	fb->format = format;
	fb->size = ((size_t)fb->stride * height + FB_PAGE - 1) & ~(size_t)(FB_PAGE - 1);
	fb->nbuf = (flags & VIO_FB_DOUBLE) ? 2 : 1;
	for (unsigned i = 0; i < fb->nbuf; i++) {
		fb->buf[i] = port->dma_alloc(port->ctx, fb->size, FB_PAGE);
		if (!fb->buf[i]) {
			release(fb);
			return VIO_ENOMEM;
		}
		fb->res[i] = vio_gpu_new_resource_id(dev);
		rc = vio_gpu_resource_create(dev, fb->res[i], vf, width, height);
		if (rc) {
			fb->res[i] = 0;
			release(fb);
			return rc;
		}
		rc = attach(fb, fb->res[i], fb->buf[i], fb->size);
		if (rc) {
			release(fb);
			return rc;
		}
	}
	/* Buffer 0 (all black) goes on screen; drawing goes to the other one, if any. */
	rc = vio_gpu_flip(dev, scanout, fb->res[0], whole(fb, &r), 0);
	if (rc) {
		release(fb);
		return rc;
	}
	fb->shown = 0;
	fb->pixels = fb->buf[fb->nbuf - 1];
	return 0;
}

void vio_fb_close(struct vio_fb *fb)
{
	struct vio_gpu_rect r = { 0, 0, 0, 0 };

	if (!fb || !fb->dev)
		return;
	/* 5.7.6.8: resource id 0 turns the scanout off. */
	vio_gpu_set_scanout(fb->dev, fb->scanout, 0, &r);
	release(fb);
	fb->dev = NULL;
	fb->pixels = NULL;
}

/* Clip a rectangle to the framebuffer; false when nothing is left. */
static bool clip(const struct vio_fb *fb, int32_t *x, int32_t *y, uint32_t *w, uint32_t *h,
		 uint32_t *sx, uint32_t *sy)
{
	int64_t x0 = *x, y0 = *y, x1 = x0 + *w, y1 = y0 + *h;

	*sx = x0 < 0 ? (uint32_t)-x0 : 0;
	*sy = y0 < 0 ? (uint32_t)-y0 : 0;
	if (x0 < 0)
		x0 = 0;
	if (y0 < 0)
		y0 = 0;
	if (x1 > fb->width)
		x1 = fb->width;
	if (y1 > fb->height)
		y1 = fb->height;
	if (x1 <= x0 || y1 <= y0)
		return false;
	*x = (int32_t)x0;
	*y = (int32_t)y0;
	*w = (uint32_t)(x1 - x0);
	*h = (uint32_t)(y1 - y0);
	return true;
}

static void damage(struct vio_fb *fb, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct vio_gpu_rect *d = &fb->damage;

	if (!fb->damaged) {
		*d = (struct vio_gpu_rect){ x, y, w, h };
		fb->damaged = true;
		return;
	}
	uint32_t x1 = d->x + d->width > x + w ? d->x + d->width : x + w;
	uint32_t y1 = d->y + d->height > y + h ? d->y + d->height : y + h;

	d->x = d->x < x ? d->x : x;
	d->y = d->y < y ? d->y : y;
	d->width = x1 - d->x;
	d->height = y1 - d->y;
}

static uint32_t *row(const struct vio_fb *fb, uint32_t y)
{
	return (uint32_t *)((uint8_t *)fb->pixels + (size_t)y * fb->stride);
}

void vio_fb_fill(struct vio_fb *fb, int32_t x, int32_t y, uint32_t w, uint32_t h, uint32_t pixel)
{
	uint32_t sx, sy;

	if (!fb || !fb->pixels || !clip(fb, &x, &y, &w, &h, &sx, &sy))
		return;
	for (uint32_t j = 0; j < h; j++) {
		uint32_t *p = row(fb, (uint32_t)y + j) + x;

		for (uint32_t i = 0; i < w; i++)
			p[i] = pixel;
	}
	damage(fb, (uint32_t)x, (uint32_t)y, w, h);
}

void vio_fb_blit(struct vio_fb *fb, int32_t x, int32_t y, const uint32_t *src,
		 uint32_t src_stride, uint32_t w, uint32_t h)
{
	uint32_t sx, sy;

	if (!fb || !fb->pixels || !src || !clip(fb, &x, &y, &w, &h, &sx, &sy))
		return;
	for (uint32_t j = 0; j < h; j++)
		memcpy(row(fb, (uint32_t)y + j) + x, src + (size_t)(sy + j) * src_stride + sx,
		       (size_t)w * 4u);
	damage(fb, (uint32_t)x, (uint32_t)y, w, h);
}

#if CONFIG_VIO_FB_FONT
uint32_t vio_fb_text(struct vio_fb *fb, int32_t x, int32_t y, const char *s, uint32_t fg,
		     uint32_t bg, unsigned scale)
{
	int32_t cx = x, cy = y;
	uint32_t widest = 0;

	if (!fb || !s)
		return 0;
	if (!scale)
		scale = 1;
	for (; *s; s++) {
		unsigned c = (unsigned char)*s;

		if (c == '\n') {
			cx = x;
			cy += (int32_t)(VIO_FB_FONT_CELL_H * scale);
			continue;
		}
		if (c < VIO_FB_FONT_FIRST || c >= VIO_FB_FONT_FIRST + VIO_FB_FONT_GLYPHS)
			c = '?';
		if (bg != fg)
			vio_fb_fill(fb, cx, cy, VIO_FB_FONT_CELL_W * scale, VIO_FB_FONT_CELL_H * scale,
				    bg);
		for (unsigned r = 0; r < VIO_FB_FONT_ROWS; r++) {
			uint8_t bits = vio_fb_font[c - VIO_FB_FONT_FIRST][r];

			for (unsigned col = 0; col < VIO_FB_FONT_W; col++)
				if (bits & (0x10u >> col))
					vio_fb_fill(fb, cx + (int32_t)(col * scale),
						    cy + (int32_t)(r * scale), scale, scale, fg);
		}
		cx += (int32_t)(VIO_FB_FONT_CELL_W * scale);
		if ((uint32_t)(cx - x) > widest)
			widest = (uint32_t)(cx - x);
	}
	return widest;
}
#endif

/*
 * On a platform without DMA coherency the device reads the pixels from
 * memory: write the rows of r back from the CPU's cache first.
 */
static void clean(const struct vio_fb *fb, const uint32_t *buf, const struct vio_gpu_rect *r)
{
	const struct vio_port *port = vio_port();
	size_t first, last;

	if (!port->cache_clean || !r->width || !r->height)
		return;
	first = (size_t)r->y * fb->stride + (size_t)r->x * 4u;
	last = (size_t)(r->y + r->height - 1) * fb->stride + (size_t)(r->x + r->width) * 4u;
	port->cache_clean(port->ctx, (const uint8_t *)buf + first, last - first);
}

int vio_fb_flush(struct vio_fb *fb)
{
	struct vio_gpu_rect d;
	int rc;

	if (!fb || !fb->dev)
		return VIO_EINVAL;
	if (fb->nbuf == 2)
		return vio_fb_flip(fb);
	if (!fb->damaged)
		return 0;
	d = fb->damage;
	clean(fb, fb->pixels, &d);
	/* 5.7.6.8: offset is where the rectangle starts in the backing. */
	rc = vio_gpu_update(fb->dev, fb->res[0], &d, (uint64_t)d.y * fb->stride + (uint64_t)d.x * 4u,
			    0);
	if (!rc)
		fb->damaged = false;
	return rc;
}

int vio_fb_flip(struct vio_fb *fb)
{
	struct vio_gpu_rect r;
	unsigned back;
	int rc;

	if (!fb || !fb->dev || fb->nbuf != 2)
		return VIO_EINVAL;
	back = fb->shown ^ 1u;
	clean(fb, fb->buf[back], whole(fb, &r));
	/* Transfer, switch the scanout, flush: in that order on one queue. */
	rc = vio_gpu_flip(fb->dev, fb->scanout, fb->res[back], whole(fb, &r), 0);
	if (rc)
		return rc;
	fb->shown = back;
	fb->pixels = fb->buf[back ^ 1u];
	fb->damaged = false;
	return 0;
}

int vio_fb_cursor_set(struct vio_fb *fb, const uint32_t *argb, uint32_t hot_x, uint32_t hot_y)
{
	const struct vio_port *port = vio_port();
	struct vio_gpu_rect r = { 0, 0, CURSOR, CURSOR };
	int rc;

	if (!fb || !fb->dev)
		return VIO_EINVAL;
	if (!argb)
		return vio_gpu_cursor_update(fb->dev, fb->scanout, 0, 0, 0, 0, 0);
	if (hot_x >= CURSOR || hot_y >= CURSOR)
		return VIO_EINVAL;
	if (!fb->cursor) {
		fb->cursor = port->dma_alloc(port->ctx, CURSOR * CURSOR * 4, FB_PAGE);
		if (!fb->cursor)
			return VIO_ENOMEM;
		fb->cursor_res = vio_gpu_new_resource_id(fb->dev);
		/* 0xAARRGGBB words are bytes B, G, R, A. */
		rc = vio_gpu_resource_create(fb->dev, fb->cursor_res,
					     VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, CURSOR, CURSOR);
		if (!rc)
			rc = attach(fb, fb->cursor_res, fb->cursor, CURSOR * CURSOR * 4);
		if (rc) {
			port->dma_free(port->ctx, fb->cursor, CURSOR * CURSOR * 4);
			fb->cursor = NULL;
			fb->cursor_res = 0;
			return rc;
		}
	}
	memcpy(fb->cursor, argb, CURSOR * CURSOR * 4);
	if (port->cache_clean)
		port->cache_clean(port->ctx, fb->cursor, CURSOR * CURSOR * 4);
	/* The device reads the cursor from the host's copy of the resource. */
	rc = vio_gpu_transfer(fb->dev, fb->cursor_res, &r, 0, 0);
	if (rc)
		return rc;
	return vio_gpu_cursor_update(fb->dev, fb->scanout, fb->cursor_res, 0, 0, hot_x, hot_y);
}

int vio_fb_cursor_move(struct vio_fb *fb, uint32_t x, uint32_t y)
{
	if (!fb || !fb->dev)
		return VIO_EINVAL;
	return vio_gpu_cursor_move(fb->dev, fb->scanout, x, y);
}
