/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A framebuffer on a virtio-gpu scanout: pixels in guest memory, drawn by
 * the CPU, shown with the GPU driver's 2D commands (<vio/gpu.h>).
 *
 *     struct vio_fb fb;
 *     vio_fb_open(&fb, gpu, 0, 0, 0, VIO_FB_XRGB8888, 0);  // scanout 0, its mode
 *     vio_fb_fill(&fb, 0, 0, fb.width, fb.height, vio_fb_rgb(&fb, 0, 0, 80));
 *     vio_fb_text(&fb, 8, 8, "hello", vio_fb_rgb(&fb, 255, 255, 255), 0, 2);
 *     vio_fb_flush(&fb);                                    // only what changed
 *
 * Single-buffered, vio_fb_flush sends the damaged rectangle (the union of
 * what was drawn since the last flush) and shows it. Double-buffered
 * (VIO_FB_DOUBLE), drawing goes to the hidden buffer and vio_fb_flip shows
 * it whole: the host copies the frame to its resource first and switches
 * the scanout after, so a half-drawn frame is never on screen. After a
 * flip, fb->pixels is the other buffer, holding the frame before.
 *
 * The struct is the caller's; fields above the line are read-only for it.
 * Memory comes from the port's DMA allocator at open. Task context; a
 * framebuffer is used by one thread at a time.
 */
#ifndef VIO_FB_H
#define VIO_FB_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "gpu.h"

/* Pixel layouts of a framebuffer. */
enum vio_fb_format {
	VIO_FB_XRGB8888, /* 32-bit word 0x00RRGGBB (bytes B, G, R, X): VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM */
	VIO_FB_XBGR8888, /* 32-bit word 0x00BBGGRR (bytes R, G, B, X): VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM */
};

#define VIO_FB_DOUBLE 1u /* two buffers and page flipping */

/* A framebuffer on one scanout (vio_fb_open); the fields above private are read-only. */
struct vio_fb {
	struct vio_device *dev;  /* the GPU */
	unsigned scanout;        /* the scanout it shows on */
	uint32_t width, height;  /* pixels */
	uint32_t stride;         /* bytes per row */
	enum vio_fb_format format; /* the pixels' layout */
	uint32_t *pixels;        /* where drawing goes: width x height, stride bytes a row */
	/* ---- private ---- */
	uint32_t *buf[2];
	uint32_t res[2];         /* the GPU resource of each buffer */
	unsigned nbuf, shown;    /* buffers; the one on screen */
	size_t size;             /* bytes of each buffer */
	struct vio_gpu_rect damage; /* what changed since the last flush ... */
	bool damaged;            /* ... if anything did */
	uint32_t *cursor;        /* 64x64 cursor image, DMA memory */
	uint32_t cursor_res;     /* its GPU resource */
};

/*
 * Make a framebuffer of width x height (0, 0: the scanout's mode) on
 * scanout, and show it there. flags: VIO_FB_DOUBLE. Returns 0, VIO_EINVAL
 * (a bad size, a disabled scanout, a format the build leaves out),
 * VIO_ENOMEM, or a GPU error.
 */
int vio_fb_open(struct vio_fb *fb, struct vio_device *dev, unsigned scanout, uint32_t width,
		uint32_t height, enum vio_fb_format format, unsigned flags);
/* Take the scanout off the framebuffer and give everything back. */
void vio_fb_close(struct vio_fb *fb);

/* The pixel value of a colour in the framebuffer's format. */
uint32_t vio_fb_rgb(const struct vio_fb *fb, uint8_t r, uint8_t g, uint8_t b);

/* Drawing (clipped to the framebuffer; marks the damage). */
void vio_fb_fill(struct vio_fb *fb, int32_t x, int32_t y, uint32_t w, uint32_t h, uint32_t pixel);
/* Copy w x h pixels (already in the framebuffer's format) from src, src_stride pixels a row. */
void vio_fb_blit(struct vio_fb *fb, int32_t x, int32_t y, const uint32_t *src,
		 uint32_t src_stride, uint32_t w, uint32_t h);
/*
 * Text in the built-in font (CONFIG_VIO_FB_FONT): each character a 6x8
 * cell times scale, its 5x7 glyph in fg on bg (bg == fg: transparent).
 * Every printable ASCII character has a glyph (others draw as '?'); '\n'
 * starts a new line at x. Returns the width of the longest line, in pixels.
 */
uint32_t vio_fb_text(struct vio_fb *fb, int32_t x, int32_t y, const char *s, uint32_t fg,
		     uint32_t bg, unsigned scale);

/* Single-buffered: send and show the damaged rectangle (nothing when none). */
int vio_fb_flush(struct vio_fb *fb);
/* Double-buffered: show the drawn buffer whole; fb->pixels becomes the other one. */
int vio_fb_flip(struct vio_fb *fb);

/*
 * The cursor (the GPU's cursor queue): a 64x64 image of 0xAARRGGBB words
 * with its hot spot, then moves. vio_fb_cursor_set(fb, NULL, 0, 0) hides it.
 */
int vio_fb_cursor_set(struct vio_fb *fb, const uint32_t *argb64x64, uint32_t hot_x,
		      uint32_t hot_y);
int vio_fb_cursor_move(struct vio_fb *fb, uint32_t x, uint32_t y);

#endif
