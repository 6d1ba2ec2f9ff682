/* SPDX-License-Identifier: Apache-2.0 */
/*
 * board_pci_functions (board.h): the device tree's ECAM host bridge,
 * enumerated once. Kept apart from board_init so that programs built on
 * the board layer alone (the benchmarks' independent loops) carry no PCI.
 */
#include <stdbool.h>

#include "board.h"
#include "dt_pci.h"
#include "fdt.h"
#include "pci.h"

int board_pci_functions(const struct vio_pci_func **funcs, unsigned *n)
{
	/* Start-up is single-threaded; the table stays for the program's life. */
	static struct pci_host host;
	static struct vio_pci_func table[BOARD_MAX_PCI];
	static unsigned count;
	static int result;
	static bool done;
	const struct board_info *b = board_info();
	struct fdt fdt;

	if (!done) {
		done = true;
		/* The tree is still whole: dt_free_ram kept it out of the DMA pool. */
		result = fdt_open(&fdt, (const void *)b->dtb, fdt_peek_size((const void *)b->dtb));
		if (result == 0)
			result = dt_pci_host(&fdt, board_addr_limit(), &host);
		if (result == 0 && pci_scan(&host, table, BOARD_MAX_PCI, &count, NULL) != 0)
			result = FDT_EBADVALUE;
		if (result == FDT_ENOTFOUND)
			result = 0; /* no host bridge: no functions */
	}
	*funcs = table;
	*n = result ? 0 : count;
	return result;
}
