/* SPDX-License-Identifier: Apache-2.0 */
#include "indep_virtio_pci.h"

#include <stddef.h>

#include <vio/pci.h> /* the board's table of functions (struct vio_pci_func) only */

#include "board.h"

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_STATUS 0x06
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_STATUS_CAP_LIST 0x10u
#define PCI_CAP_PTR 0x34
#define PCI_CAP_VENDOR 0x09u
#define CFG_BYTES 256u          /* capabilities live in the first 256 bytes */
#define MAX_CAPS 48u            /* (256 - 64) / 4: more means a loop */

#define VIRTIO_VENDOR 0x1af4u
/*
 * 4.1.2.1: modern ids are 0x1040 + the type; a transitional device has its
 * own id (net 0x1000, block 0x1001) and the type as its subsystem id.
 */
#define MODERN_ID_BASE 0x1040u
#define TRANSITIONAL_NET 0x1000u
#define TRANSITIONAL_BLOCK 0x1001u
#define LEGACY_BAR_BYTES 0x20u  /* the registers and the first bytes of configuration */

/* 4.1.4: struct virtio_pci_cap's cfg_type values. */
#define CAP_COMMON 1u
#define CAP_NOTIFY 2u
#define CAP_ISR 3u
#define CAP_DEVICE 4u

static uint8_t cfg8(const struct vio_pci_func *f, unsigned off)
{
	return *(volatile const uint8_t *)(f->cfg + off);
}

static uint16_t cfg16(const struct vio_pci_func *f, unsigned off)
{
	return *(volatile const uint16_t *)(f->cfg + off);
}

static uint32_t cfg32(const struct vio_pci_func *f, unsigned off)
{
	return *(volatile const uint32_t *)(f->cfg + off);
}

/*
 * 4.1.4: the structure a capability points at, if it lies inside a memory
 * BAR and has need bytes at least; *len its length.
 */
static uintptr_t cap_target(const struct vio_pci_func *f, unsigned cap, uint32_t need,
			    uint32_t *len)
{
	unsigned bar = cfg8(f, cap + 4);
	uint32_t off = cfg32(f, cap + 8);

	*len = cfg32(f, cap + 12);
	if (bar >= VIO_PCI_NUM_BARS || f->bar[bar].io || !f->bar[bar].size || *len < need ||
	    off > f->bar[bar].size || f->bar[bar].size - off < *len)
		return 0;
	return f->bar[bar].addr + off;
}

/* Walk the capability list (4.1.4), trusting no pointer: 0 when all three were found. */
static int parse_caps(const struct vio_pci_func *f, struct indep_pci *p)
{
	unsigned at, n = 0;

	p->common = p->notify = p->isr = p->device = 0;
	if (!(cfg16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return -1;
	for (at = cfg8(f, PCI_CAP_PTR) & ~3u; at && n < MAX_CAPS; at = cfg8(f, at + 1) & ~3u, n++) {
		unsigned type, len;
		uint32_t size;

		if (at < 0x40 || at + 16 > CFG_BYTES)
			return -1;
		if (cfg8(f, at) != PCI_CAP_VENDOR)
			continue;
		type = cfg8(f, at + 3);
		len = cfg8(f, at + 2);
		/* The first structure of each type is the one to use (4.1.4.1). */
		if (type == CAP_COMMON && !p->common) {
			p->common = cap_target(f, at, 0x38, &size);
		} else if (type == CAP_NOTIFY && !p->notify && len >= 20 && at + 20 <= CFG_BYTES) {
			p->notify = cap_target(f, at, 2, &p->notify_len);
			p->notify_mul = cfg32(f, at + 16);
		} else if (type == CAP_ISR && !p->isr) {
			p->isr = cap_target(f, at, 1, &size);
		} else if (type == CAP_DEVICE && !p->device) {
			p->device = cap_target(f, at, 6, &size);
		}
	}
	return p->common && p->notify && p->isr && p->device ? 0 : -1;
}

/* The id a transitional function of virtio type id carries (4.1.2.1), 0 for none here. */
static unsigned transitional_id(unsigned id)
{
	return id == 1 ? TRANSITIONAL_NET : id == 2 ? TRANSITIONAL_BLOCK : 0;
}

/*
 * 4.1.5: a transitional function without (usable) modern capabilities is
 * driven through I/O BAR0, which must be assigned and large enough.
 */
static int legacy_bar(const struct vio_pci_func *f, unsigned id, struct indep_pci *p)
{
	const struct vio_pci_bar *b = &f->bar[0];

	if (cfg16(f, PCI_SUBSYSTEM_ID) != id || !b->io || b->size < LEGACY_BAR_BYTES)
		return -1;
	p->legacy = true;
	p->io = b->addr;
	p->isr = b->addr + PL_ISR;
	p->device = b->addr + PL_CONFIG;
	return 0;
}

int indep_pci_find(unsigned id, bool (*match)(uintptr_t device_cfg), struct indep_pci *p)
{
	const struct vio_pci_func *funcs;
	unsigned n;

	if (board_pci_functions(&funcs, &n) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct vio_pci_func *f = &funcs[i];
		uint16_t dev = cfg16(f, PCI_DEVICE_ID);

		if (cfg16(f, PCI_VENDOR_ID) != VIRTIO_VENDOR)
			continue;
		if (dev != MODERN_ID_BASE + id && dev != transitional_id(id))
			continue;
		p->legacy = false;
		p->io = 0;
		p->irq = f->irq;
		if (parse_caps(f, p) != 0 && (dev == MODERN_ID_BASE + id || legacy_bar(f, id, p) != 0))
			continue;
		if (match(p->device))
			return 0;
	}
	return -1;
}
