/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the benchmarks' independent loops reach a device, written from the
 * VirtIO 1.2 specification and sharing no code with vio: virtio-mmio
 * (4.2.2; its legacy version 1, 4.2.4), modern virtio-pci (4.1.4) and the
 * legacy interface of a transitional virtio-pci function (4.1.5), through
 * indep_virtio_pci.c. Only the board layer (its device list, the PCI bus's
 * enumeration) is the project's.
 */
#ifndef INDEP_VIRTIO_H
#define INDEP_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "indep_virtio_pci.h"

/* 2.1: device status bits. */
#define S_ACKNOWLEDGE 1u
#define S_DRIVER 2u
#define S_DRIVER_OK 4u
#define S_FEATURES_OK 8u

/* 6: reserved feature bits. */
#define F_EVENT_IDX 29u
#define F_VERSION_1 32u
#define F_RING_PACKED 34u

/* One device as a loop drives it. */
struct indep_dev {
	bool pci;           /* a virtio-pci function (else virtio-mmio) */
	bool legacy;        /* the legacy interface: mmio version 1, or a PCI I/O BAR */
	uintptr_t regs;     /* virtio-mmio: its registers */
	struct indep_pci p; /* virtio-pci: its structures */
	uintptr_t config;   /* the device-specific configuration */
	int irq;            /* its interrupt as the board numbers it, -1 for none */
};

/*
 * The first device of virtio type id whose configuration match() accepts,
 * on virtio-mmio first, then on PCI: 0 and *d filled, or -1.
 */
int indep_find(unsigned id, bool (*match)(uintptr_t config), struct indep_dev *d);

/* 3.1.1: reset (and wait for it), then ACKNOWLEDGE and DRIVER. */
void indep_begin(const struct indep_dev *d);

/* Feature bits word * 32 .. word * 32 + 31 offered (legacy: word 0 only). */
uint32_t indep_features(const struct indep_dev *d, unsigned word);

/* The driver's feature bits, 64 of them (legacy: the low 32). */
void indep_set_features(const struct indep_dev *d, uint64_t features);

/* 3.1.1: FEATURES_OK (modern; legacy devices have no such step): 0, or -1 if refused. */
int indep_features_ok(const struct indep_dev *d);

/* 3.1.1: DRIVER_OK. */
void indep_driver_ok(const struct indep_dev *d);

/*
 * Queue index of INDEP_QSIZE entries at desc / driver / device (legacy: one
 * block from desc, the used ring 4 KiB aligned, 2.7.2); *notify_at the
 * address its notifications go to. 0, or -1 when the device's queue cannot
 * take that size or its notification address lies outside its area.
 */
int indep_queue(const struct indep_dev *d, unsigned index, uintptr_t desc, uintptr_t driver,
		uintptr_t device, uintptr_t *notify_at);

/*
 * 4.2.3.3 / 4.1.4.4 / 4.1.5: notify queue index at its address: a 32-bit
 * write on virtio-mmio, 16 bits on virtio-pci.
 */
static inline void indep_notify(const struct indep_dev *d, uintptr_t at, unsigned index)
{
	if (d->pci)
		*(volatile uint16_t *)at = (uint16_t)index;
	else
		*(volatile uint32_t *)at = index;
}

/*
 * The interrupt's cause, acknowledged: virtio-mmio's InterruptStatus
 * written back to InterruptACK (4.2.2), virtio-pci's ISR byte, whose read
 * clears it and deasserts INTx (4.1.4.5).
 */
uint32_t indep_ack_irq(const struct indep_dev *d);

/*
 * The interrupt status register read alone, for a loop that wants to see
 * what such a read costs: virtio-mmio's InterruptStatus (no acknowledgement),
 * virtio-pci's ISR byte (which the read clears).
 */
uint32_t indep_isr(const struct indep_dev *d);

#endif
