/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcpy for the QEMU boards' firmwares, in place of picolibc's. Debian's
 * picolibc for riscv64 and aarch64 is built for size: its memcpy moves one
 * byte per loop iteration, four to six guest instructions a byte, which
 * under TCG capped every driver that copies (a virtio-console port moved
 * about 100 MB/s, most of it spent here). This one moves 8-byte words,
 * four per iteration, whenever source and destination share their
 * alignment modulo 8 (DMA buffers, frames, most structs), and bytes
 * otherwise. It only makes aligned accesses: aarch64 builds with
 * -mstrict-align, and riscv64 traps misaligned ones to OpenSBI.
 *
 * Ordinary memory only: no register block is copied with memcpy (drivers
 * reach registers through their accessors).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A word that may alias whatever the caller copies. */
typedef uint64_t __attribute__((__may_alias__)) word;

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((uintptr_t)d ^ (uintptr_t)s) & 7u) == 0) {
		word *dw;
		const word *sw;

		for (; n && ((uintptr_t)d & 7u); n--)
			*d++ = *s++;
		dw = (word *)(void *)d;
		sw = (const word *)(const void *)s;
		for (; n >= 32; n -= 32, dw += 4, sw += 4) {
			word a = sw[0], b = sw[1], c = sw[2], e = sw[3];

			dw[0] = a;
			dw[1] = b;
			dw[2] = c;
			dw[3] = e;
		}
		for (; n >= 8; n -= 8)
			*dw++ = *sw++;
		d = (unsigned char *)dw;
		s = (const unsigned char *)sw;
	}
	for (; n; n--)
		*d++ = *s++;
	return dst;
}
