/* SPDX-License-Identifier: Apache-2.0 */
/* Smallest firmware: proves a board boots, prints and finds its devices. */
#include <stdio.h>

#include "board.h"

int main(void)
{
	const struct board_info *b = board_info();

	printf("hello from %s: RAM %#lx + %llu MiB, %u virtio-mmio slots\n", b->name,
	       (unsigned long)b->ram_base, (unsigned long long)(b->ram_size >> 20), b->nvirtio);
	for (unsigned i = 0; i < b->nvirtio; i++)
		printf("  slot %d at %#lx irq %d\n", b->virtio[i].slot, (unsigned long)b->virtio[i].base,
		       b->virtio[i].irq);
	board_exit(0);
}
