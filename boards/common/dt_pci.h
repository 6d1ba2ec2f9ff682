/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The generic ECAM host bridge of the device tree ("pci-host-ecam-generic",
 * Linux's binding host-generic-pci and the PCI bus binding, IEEE 1275
 * PCI supplement) turned into a struct pci_host. Start-up code only.
 */
#ifndef VIO_BOARD_DT_PCI_H
#define VIO_BOARD_DT_PCI_H

#include <stdint.h>

#include "fdt.h"
#include "pci.h"

/*
 * Fill h from the first enabled ECAM host bridge: reg (the ECAM), bus-range
 * (default 0-255, cut to what the ECAM covers), ranges (the first I/O,
 * 32-bit and 64-bit memory windows) and interrupt-map with
 * interrupt-map-mask (each entry's parent interrupt decoded as dt_irq()
 * does). cpu_limit is the highest CPU address the board reaches; h keeps
 * it. Returns 0, FDT_ENOTFOUND when the tree has no such bridge, or
 * FDT_E... for a node that cannot be used.
 */
int dt_pci_host(const struct fdt *fdt, uint64_t cpu_limit, struct pci_host *h);

#endif
