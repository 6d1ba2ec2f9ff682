/* SPDX-License-Identifier: Apache-2.0 */
/*
 * board_pci_functions and board_pci_hotplug_poll (board.h): the device
 * tree's ECAM host bridge, enumerated once, and the hot-plug ports of its
 * root bus followed from then on. Kept apart from board_init so that
 * programs built on the board layer alone (the benchmarks' independent
 * loops) carry no PCI.
 */
#include <stdbool.h>
#include <string.h>

#include "board.h"
#include "dt_pci.h"
#include "fdt.h"
#include "pci.h"
#include "pci_hotplug.h"

#define SEC 1000000000ull

/* Start-up is single-threaded; the table stays for the program's life. */
static struct pci_host host;
static struct vio_pci_func table[BOARD_MAX_PCI];
static unsigned count;
static struct pci_hp_port ports[PCI_HP_MAX_PORTS];
static unsigned nports;

int board_pci_functions(const struct vio_pci_func **funcs, unsigned *n)
{
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
		if (result == 0)
			nports = pci_hp_find(&host, ports, PCI_HP_MAX_PORTS);
		if (result == FDT_ENOTFOUND)
			result = 0; /* no host bridge: no functions */
	}
	*funcs = table;
	*n = result ? 0 : count;
	return result;
}

/* The slot below port p empties: its functions leave the table. */
static void slot_empty(const struct pci_hp_port *p, const struct board_pci_hotplug *cb,
		       bool present)
{
	unsigned k = 0;

	for (unsigned i = 0; i < count; i++) {
		if (table[i].bus == p->sec) {
			if (cb && cb->removing)
				cb->removing(&table[i], present, cb->arg);
			continue;
		}
		table[k++] = table[i];
	}
	count = k;
}

/* The slot below port p was powered on: enumerate it and hand on what it holds. */
static void slot_fill(struct pci_hp_port *p, const struct board_pci_hotplug *cb)
{
	struct vio_pci_func found[8];
	unsigned n = 0, first = count;

	if (pci_hp_wait_ready(&host, p, SEC) != 0 ||
	    pci_scan_slot(&host, p->dev, found, sizeof(found) / sizeof(found[0]), &n) != 0)
		return;
	p->in_use = true;
	for (unsigned i = 0; i < n && count < BOARD_MAX_PCI; i++)
		table[count++] = found[i];
	for (unsigned i = first; i < count; i++)
		if (cb && cb->added)
			cb->added(&table[i], cb->arg);
}

unsigned board_pci_hotplug_poll(const struct board_pci_hotplug *cb)
{
	unsigned events = 0;

	for (unsigned i = 0; i < nports; i++) {
		struct pci_hp_port *p = &ports[i];
		enum pci_hp_action a = pci_hp_poll(&host, p);

		switch (a) {
		case PCI_HP_REMOVE:
		case PCI_HP_GONE:
			/* Stopped first (while it still answers, on a request); then the power goes. */
			slot_empty(p, cb, a == PCI_HP_REMOVE);
			p->in_use = false;
			pci_hp_power(&host, p, false);
			events++;
			break;
		case PCI_HP_ADD:
			pci_hp_power(&host, p, true);
			slot_fill(p, cb);
			events++;
			break;
		case PCI_HP_NONE:
			break;
		}
	}
	return events;
}
