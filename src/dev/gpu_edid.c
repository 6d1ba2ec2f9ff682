/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EDID (VESA E-EDID 1.3/1.4) as far as the GPU driver needs it: the
 * preferred mode and the monitor's name. The blob comes from the device
 * (GET_EDID, VirtIO 1.2 5.7.6.8) and is checked before any field is read:
 * the fixed header, the checksum of every 128-byte block and the extension
 * count against the bytes there are.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vio/error.h>
#include <vio/gpu.h>

#define EDID_BLOCK 128u
#define EDID_EXT_COUNT 126u  /* extension blocks that follow the base block */
#define EDID_VENDOR 8u       /* manufacturer id, big-endian, three 5-bit letters */
#define EDID_DESC 54u        /* four 18-byte descriptors from here */
#define EDID_DESC_LEN 18u
#define EDID_TAG_NAME 0xfcu  /* display descriptor: monitor name */

static const uint8_t edid_header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };

/* A display descriptor's text (13 bytes, ended by a line feed, padded with spaces). */
static void desc_text(const uint8_t *d, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 5; i < EDID_DESC_LEN && n + 1 < size; i++) {
		uint8_t c = d[i];

		if (c == 0x0a)
			break;
		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

int vio_gpu_edid_parse(const uint8_t *blob, size_t len, struct vio_gpu_edid *out)
{
	size_t blocks;
	uint16_t v;

	if (!out)
		return VIO_EINVAL;
	memset(out, 0, sizeof(*out));
	if (!blob || len < EDID_BLOCK || memcmp(blob, edid_header, sizeof(edid_header)))
		return VIO_EINVAL;
	blocks = 1u + blob[EDID_EXT_COUNT];
	if (blocks * EDID_BLOCK > len)
		return VIO_EINVAL;
	for (size_t b = 0; b < blocks; b++) {
		uint8_t sum = 0;

		for (size_t i = 0; i < EDID_BLOCK; i++)
			sum = (uint8_t)(sum + blob[b * EDID_BLOCK + i]);
		if (sum)
			return VIO_EINVAL;
	}
	v = (uint16_t)(blob[EDID_VENDOR] << 8 | blob[EDID_VENDOR + 1]);
	for (int i = 0; i < 3; i++) {
		unsigned l = (v >> (10 - 5 * i)) & 0x1fu;

		out->vendor[i] = (l >= 1 && l <= 26) ? (char)('@' + l) : '?';
	}
	for (unsigned k = 0; k < 4; k++) {
		const uint8_t *d = blob + EDID_DESC + k * EDID_DESC_LEN;

		if (d[0] || d[1]) {
			/* A detailed timing; the first one is the preferred mode. */
			if (!out->width) {
				out->width = d[2] | (uint32_t)(d[4] & 0xf0) << 4;
				out->height = d[5] | (uint32_t)(d[7] & 0xf0) << 4;
			}
		} else if (d[3] == EDID_TAG_NAME && !out->name[0]) {
			desc_text(d, out->name, sizeof(out->name));
		}
	}
	out->valid = true;
	return 0;
}
