/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memset for the QEMU boards' firmwares, in place of picolibc's, for the
 * reason memcpy.c gives: Debian's picolibc is built for size and stores one
 * byte per loop iteration. Drivers clear their request headers with memset
 * before every command (a virtio-gpu request is 64 bytes: about 260 guest
 * instructions a command with picolibc's); this one stores 8-byte words,
 * four per iteration, once the destination is aligned. Aligned stores only
 * (aarch64 builds with -mstrict-align, riscv64 traps misaligned ones).
 *
 * Ordinary memory only: no register block is cleared with memset.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A word that may alias whatever the caller clears. */
typedef uint64_t __attribute__((__may_alias__)) word;

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char b = (unsigned char)c;

	for (; n && ((uintptr_t)d & 7u); n--)
		*d++ = b;
	if (n >= 8) {
		word v = 0x0101010101010101ull * b;
		word *dw = (word *)(void *)d;

		for (; n >= 32; n -= 32, dw += 4) {
			dw[0] = v;
			dw[1] = v;
			dw[2] = v;
			dw[3] = v;
		}
		for (; n >= 8; n -= 8)
			*dw++ = v;
		d = (unsigned char *)dw;
	}
	for (; n; n--)
		*d++ = b;
	return dst;
}
