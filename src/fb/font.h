/* SPDX-License-Identifier: Apache-2.0 */
/* The framebuffer's built-in font (src/fb/font.c, made by scripts/gen_font.py). */
#ifndef VIO_FB_FONT_H
#define VIO_FB_FONT_H

#include <stdint.h>

#define VIO_FB_FONT_FIRST 0x20
#define VIO_FB_FONT_GLYPHS 95
#define VIO_FB_FONT_ROWS 7
#define VIO_FB_FONT_W 5
#define VIO_FB_FONT_CELL_W 6 /* advance: a column of space between glyphs */
#define VIO_FB_FONT_CELL_H 8 /* a row of space between lines */

extern const uint8_t vio_fb_font[VIO_FB_FONT_GLYPHS][VIO_FB_FONT_ROWS];

#endif
