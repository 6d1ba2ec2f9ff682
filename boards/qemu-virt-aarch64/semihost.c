/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arm semihosting (Semihosting for AArch64, "hlt #0xf000" with the
 * operation in w0 and a parameter block in x1). QEMU implements it only
 * with -semihosting; without it the hlt traps as a debug exception. The
 * firmware uses it for its exit status and for messages written before the
 * UART is known.
 */
#include <stdint.h>

#include "virt.h"

#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static uint64_t semihost_call(uint64_t op, const void *arg)
{
	register uint64_t x0 __asm__("x0") = op;
	register const void *x1 __asm__("x1") = arg;

	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	return x0;
}

void semihost_write0(const char *s)
{
	semihost_call(SYS_WRITE0, s);
}

void semihost_exit(int code)
{
	/* The extended form: the block's second word is the exit status. */
	uint64_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint64_t)(int64_t)code};

	for (;;)
		semihost_call(SYS_EXIT, block);
}
