/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The disk pattern shared by the firmwares and the host-side test runner
 * (tests/qemu/test_blk.py implements the same functions): a deterministic
 * byte for every absolute disk offset, so a guest and the host can each tell
 * what a disk filled with seed s must hold anywhere, without a copy of it.
 *
 * The disk is a run of little-endian 64-bit words. Word w (bytes 8w to
 * 8w + 7) for seed s is output w + 1 of a splitmix64 generator seeded with
 * s, that is mix(s + (w + 1) * 0x9e3779b97f4a7c15) modulo 2^64, where mix is
 * splitmix64's finalizer:
 *
 *     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *     z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *     z =  z ^ (z >> 31)
 *
 * Byte i of the disk is byte i % 8 (least significant first) of word i / 8.
 *
 * Checksums printed for the host are the CRC-32 of IEEE 802.3 (zlib's
 * crc32: reflected polynomial 0xedb88320, initial and final XOR
 * 0xffffffff).
 */
#ifndef VIO_APP_PATTERN_H
#define VIO_APP_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* The seed the shell uses when a command names none. */
#define PATTERN_SEED_DEFAULT 1u

/* Word w of the pattern for seed. */
uint64_t pattern_word(uint64_t seed, uint64_t w);

/* Fill buf with the len pattern bytes found at disk byte offset off. */
void pattern_fill(uint64_t seed, uint64_t off, void *buf, size_t len);

/*
 * Compare buf with the pattern bytes at disk byte offset off. Returns the
 * index of the first byte that differs, or len when all match.
 */
size_t pattern_check(uint64_t seed, uint64_t off, const void *buf, size_t len);

/* The pattern byte at disk byte offset off. */
static inline uint8_t pattern_byte(uint64_t seed, uint64_t off)
{
	return (uint8_t)(pattern_word(seed, off / 8) >> (8 * (off % 8)));
}

/*
 * Continue CRC-32 crc (0 to start) over len bytes; returns the new value,
 * which is zlib.crc32 of everything so far.
 */
uint32_t pattern_crc32(uint32_t crc, const void *buf, size_t len);

#endif
