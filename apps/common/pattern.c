/* SPDX-License-Identifier: Apache-2.0 */
/* The shared disk pattern and CRC-32 (see pattern.h for the definition). */
#include <stddef.h>
#include <stdint.h>

#include "pattern.h"

#define GOLDEN 0x9e3779b97f4a7c15ull

/* splitmix64's output function. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t pattern_word(uint64_t seed, uint64_t w)
{
	return mix(seed + (w + 1) * GOLDEN);
}

/*
 * Both walk the buffer a word at a time; the bytes are stored one by one so
 * that neither the buffer's alignment nor the CPU's byte order matters.
 */
void pattern_fill(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t w = off / 8, state = seed + (w + 1) * GOLDEN;
	unsigned k = (unsigned)(off % 8);

	while (len) {
		uint64_t v = mix(state) >> (8 * k);

		for (; k < 8 && len; k++, len--, v >>= 8)
			*p++ = (uint8_t)v;
		k = 0;
		state += GOLDEN;
	}
}

size_t pattern_check(uint64_t seed, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t state = seed + (off / 8 + 1) * GOLDEN;
	unsigned k = (unsigned)(off % 8);
	size_t i = 0;

	while (i < len) {
		uint64_t v = mix(state) >> (8 * k);

		for (; k < 8 && i < len; k++, i++, v >>= 8)
			if (p[i] != (uint8_t)v)
				return i;
		k = 0;
		state += GOLDEN;
	}
	return len;
}

/* CRC-32, four bits at a time: a 16-entry table is enough and stays constant. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t pattern_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}
