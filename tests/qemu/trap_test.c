/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A firmware that faults on purpose: the board must report the trap (its
 * cause and the registers) and exit QEMU with the trap status, 3.
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	/*
	 * No memory, code or device answers at address 8 on either board. The
	 * address goes through a volatile so the compiler cannot see it.
	 */
	volatile uintptr_t addr = 8;
	volatile uint32_t *nowhere = (volatile uint32_t *)addr;

	printf("trap test: loading from %p\n", (void *)nowhere);
	printf("read %u (the board failed to trap)\n", (unsigned)*nowhere);
	return 0;
}
