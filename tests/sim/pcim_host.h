/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host bridge of the simulated PCI host (pci_model.h) as the boards'
 * enumeration (boards/common/pci.h) describes one: QEMU virt's layout, its
 * ECAM and windows, and 4 INTx lines from irq_base, rotated by device
 * number as virt's interrupt-map does. For test_pci and fuzz_pci.
 */
#ifndef VIO_SIM_PCIM_HOST_H
#define VIO_SIM_PCIM_HOST_H

#include <string.h>

#include "pci.h"
#include "pci_model.h"

static inline void pcim_host_init(struct pci_host *h, int irq_base)
{
	memset(h, 0, sizeof(*h));
	h->ecam = PCIM_ECAM;
	h->bus_start = 0;
	h->bus_end = PCIM_BUSES - 1;
	h->io = (struct pci_window){ PCIM_IO_CPU, 0, PCIM_IO_SIZE };
	h->mem32 = (struct pci_window){ PCIM_MEM32, PCIM_MEM32, PCIM_MEM32_SIZE };
	h->mem64 = (struct pci_window){ PCIM_MEM64, PCIM_MEM64, PCIM_MEM64_SIZE };
	h->cpu_limit = UINT64_MAX;
	h->map_mask_hi = 0x1800;
	h->map_mask_pin = 7;
	for (unsigned dev = 0; dev < 4; dev++)
		for (unsigned pin = 1; pin <= 4; pin++)
			h->route[h->nroutes++] = (struct pci_intx_route){
				dev << 11, pin, irq_base + (int)((dev + pin - 1) % 4) };
}

#endif
