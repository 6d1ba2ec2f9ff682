/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the virtio-pci transport's files share: the per-device state found
 * by vio_pci_identify (pci.c) and used by the modern (pci_modern.c) and
 * legacy (pci_legacy.c) register sets.
 */
#ifndef VIO_TRANSPORT_PCI_PRIV_H
#define VIO_TRANSPORT_PCI_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Queues the state keeps a notification address for; more are refused. */
#define PCI_MAX_QUEUES 256u

/* A checked region of a BAR: [addr, addr + len). */
struct pci_region {
	uintptr_t addr;
	uint32_t len;
};

struct pci_state {
	size_t size;              /* bytes allocated (for dma_free) */
	struct pci_region common; /* modern: common configuration */
	struct pci_region notify; /* modern: notification area */
	struct pci_region isr;    /* ISR status byte (legacy: inside the I/O BAR) */
	struct pci_region device; /* device configuration (len 0: none) */
	uintptr_t io;             /* legacy: the I/O BAR's registers */
	uint32_t notify_mult;     /* modern: notify_off_multiplier */
	uint64_t features;        /* what set_features wrote (RING_RESET decides queue_disable) */
	uintptr_t msix_ctrl;      /* MSI-X Message Control in config space (0: no usable MSI-X) */
	uintptr_t msix_table;     /* the vector table, checked to lie inside its BAR */
	uint16_t msix_n;          /* its entries */
	bool msix_on;             /* MSI-X enabled: no ISR, no INTx, legacy config at 24 */
	uint16_t nqueues;         /* queues with a slot in qnotify */
	uintptr_t qnotify[];      /* modern: each enabled queue's notification address */
};

/* Whether [off, off + width) lies inside a region of len bytes. */
static inline int pci_in_region(uint32_t len, unsigned off, unsigned width)
{
	return off <= len && width <= len - off;
}

struct vio_port;
struct vio_transport;

/* Helpers both register sets use (pci.c). */
/* 2.1.2: write 0 to the status byte at addr, wait (bounded) until it reads 0. */
int vio_pci_reset_status(uintptr_t addr, const struct vio_port *port, uint64_t timeout_ns);
/* One access of width 1, 2 or 4 inside region r; outside it reads 0 and writes nothing. */
uint32_t vio_pci_region_read(const struct pci_region *r, unsigned off, unsigned width);
void vio_pci_region_write(const struct pci_region *r, unsigned off, unsigned width, uint32_t v);
/* MSI-X (PCI 3.0 6.8.2), the same for both register sets: the transport's msix_* ops. */
unsigned vio_pci_msix_count(struct vio_transport *t);
int vio_pci_msix_set(struct vio_transport *t, unsigned entry, uint64_t addr, uint32_t data);
void vio_pci_msix_enable(struct vio_transport *t, bool on);
/* The transport's release op: free the state. */
void vio_pci_release(struct vio_transport *t);

#endif
