/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci transport (VirtIO 1.2 section 4.1): the modern interface
 * through its vendor capabilities (4.1.4) and the legacy interface of
 * transitional devices through the I/O BAR (4.1.4.8, 4.1.5), chosen per
 * device.
 *
 * vio does not own the PCI bus: the platform enumerates it, assigns the
 * BARs, enables decoding and bus mastering and routes the interrupt (on
 * the QEMU boards, boards/common/pci.c), then describes each function it
 * wants vio to drive with a struct vio_pci_func. Everything the function
 * itself reports (its capability list, where the capabilities point) is
 * checked here before use.
 */
#ifndef VIO_PCI_H
#define VIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "transport.h"

#define VIO_PCI_NUM_BARS 6 /* base address registers of a type 0 header */

/* One base address register as the platform assigned it. */
struct vio_pci_bar {
	uintptr_t addr; /* CPU address the BAR decodes at (I/O BARs: through the I/O window) */
	uint64_t size;  /* bytes; 0: no such BAR, or left unassigned */
	bool io;        /* an I/O-space BAR */
};

/* One PCI function, as the platform set it up. */
struct vio_pci_func {
	uintptr_t cfg;       /* CPU address of its configuration space (ECAM, 4 KiB) */
	uint8_t bus, dev, fn; /* its address */
	struct vio_pci_bar bar[VIO_PCI_NUM_BARS]; /* its BARs as assigned */
	int irq;             /* its INTx line as the board numbers it, -1 for none */
};

/* The address as vio shows it: bus << 8 | device << 3 | function. */
static inline uint32_t vio_pci_bdf(const struct vio_pci_func *f)
{
	return (uint32_t)f->bus << 8 | (uint32_t)(f->dev & 31) << 3 | (f->fn & 7);
}

/* The transport's operations on a modern and on a legacy (transitional) function. */
extern const struct vio_transport_ops vio_pci_modern_ops;
extern const struct vio_transport_ops vio_pci_legacy_ops;

/*
 * Identify the function f and fill t for vio_dev_add. Returns 0 (with
 * t->device_id 0 when f is not a virtio device, and t->unsupported when it
 * is one this transport cannot drive: no usable modern capabilities and no
 * legacy I/O BAR), VIO_ENOMEM when the port has no memory for the
 * transport's state, or VIO_EINVAL. The interface: modern when the device
 * has the modern capabilities, unless this build drives legacy devices only
 * and the device is transitional; legacy through BAR0 otherwise. Task
 * context.
 */
int vio_pci_identify(struct vio_transport *t, const struct vio_pci_func *f);

/*
 * Identify f and add it (vio_dev_add) with the board's slot number.
 * Returns what vio_dev_add returns; VIO_ENODEV when f is no virtio device.
 * Task context, start-up.
 */
int vio_pci_add(const struct vio_pci_func *f, int slot, struct vio_device **out);

#endif
