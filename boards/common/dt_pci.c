/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the ECAM host bridge's node; see dt_pci.h. A PCI child address
 * is three cells: phys.hi (space code in bits 25:24, prefetchable bit 30,
 * bus/device/function in bits 23:8), then the 64-bit PCI address.
 */
#include "dt_pci.h"

#include <string.h>

#include "dt_board.h"

#define PCI_ADDR_CELLS 3
#define SPACE(hi) (((hi) >> 24) & 3)
#define SPACE_IO 1
#define SPACE_MEM32 2
#define SPACE_MEM64 3
#define ECAM_BUS_SIZE (1ull << 20)

static const char *const compats[] = { "pci-host-ecam-generic", NULL };

/* #address-cells / #size-cells of a node, with the spec's defaults (2.3.5). */
static uint32_t cells_of(const struct fdt *fdt, int node, const char *name, uint32_t dflt)
{
	uint32_t v;

	return fdt_getprop_u32(fdt, node, name, &v) == 0 ? v : dflt;
}

static uint64_t read_cells(const uint8_t *p, uint32_t n)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < n; i++)
		v = v << 32 | fdt_be32(p + 4 * i);
	return v;
}

static int parse_ranges(const struct fdt *fdt, int node, struct pci_host *h)
{
	uint32_t pac = cells_of(fdt, fdt_parent(fdt, node), "#address-cells", 2);
	uint32_t sc = cells_of(fdt, node, "#size-cells", 2);
	const uint8_t *v;
	uint32_t len, entry;
	int err;

	if (pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return FDT_EBADVALUE;
	entry = (PCI_ADDR_CELLS + pac + sc) * 4;
	err = fdt_getprop(fdt, node, "ranges", (const void **)&v, &len);
	if (err)
		return err;
	if (len % entry)
		return FDT_EBADVALUE;
	for (uint32_t pos = 0; pos < len; pos += entry) {
		uint32_t hi = fdt_be32(v + pos);
		struct pci_window w;
		struct pci_window *slot = NULL;

		w.pci = read_cells(v + pos + 4, 2);
		w.cpu = read_cells(v + pos + 12, pac);
		w.size = read_cells(v + pos + 12 + 4 * pac, sc);
		if (w.size == 0)
			continue;
		switch (SPACE(hi)) {
		case SPACE_IO: slot = &h->io; break;
		case SPACE_MEM32: slot = &h->mem32; break;
		case SPACE_MEM64: slot = &h->mem64; break;
		default: break;
		}
		/* The first window of each kind is the one used. */
		if (slot && slot->size == 0)
			*slot = w;
	}
	return 0;
}

/* Devicetree Specification 2.4.3: interrupt-map and interrupt-map-mask. */
static int parse_intx(const struct fdt *fdt, int node, struct pci_host *h)
{
	const uint8_t *v, *mask;
	uint32_t len, mlen, pos = 0;
	int err;

	h->nroutes = 0;
	err = fdt_getprop(fdt, node, "interrupt-map", (const void **)&v, &len);
	if (err == FDT_ENOTFOUND)
		return 0; /* no INTx: every function polls */
	if (err)
		return err;
	err = fdt_getprop(fdt, node, "interrupt-map-mask", (const void **)&mask, &mlen);
	if (err == 0 && mlen == (PCI_ADDR_CELLS + 1) * 4) {
		h->map_mask_hi = fdt_be32(mask);
		h->map_mask_pin = fdt_be32(mask + 12);
	} else if (err == FDT_ENOTFOUND) {
		h->map_mask_hi = 0xffffffffu;
		h->map_mask_pin = 0xffffffffu;
	} else {
		return err ? err : FDT_EBADVALUE;
	}
	while (pos < len) {
		uint32_t pac, pic, need;
		int parent;

		/* child unit address (3), child pin (1), parent phandle (1) */
		if (len - pos < (PCI_ADDR_CELLS + 2) * 4)
			return FDT_EBADVALUE;
		parent = fdt_find_phandle(fdt, fdt_be32(v + pos + 16));
		if (parent < 0)
			return parent == FDT_ENOTFOUND ? FDT_EBADVALUE : parent;
		pac = cells_of(fdt, parent, "#address-cells", 0);
		if (fdt_getprop_u32(fdt, parent, "#interrupt-cells", &pic) || pic < 1 || pic > 3 ||
		    pac > 2)
			return FDT_EBADVALUE;
		need = (PCI_ADDR_CELLS + 2 + pac + pic) * 4;
		if (len - pos < need)
			return FDT_EBADVALUE;
		if (h->nroutes < PCI_MAX_INTX_ROUTES) {
			struct pci_intx_route *r = &h->route[h->nroutes];

			err = dt_decode_irq(v + pos + (PCI_ADDR_CELLS + 2 + pac) * 4, pic, &r->irq);
			if (err)
				return err;
			r->devfn_hi = fdt_be32(v + pos) & h->map_mask_hi;
			r->pin = fdt_be32(v + pos + 12) & h->map_mask_pin;
			h->nroutes++;
		}
		pos += need;
	}
	return 0;
}

int dt_pci_host(const struct fdt *fdt, uint64_t cpu_limit, struct pci_host *h)
{
	const uint8_t *br;
	uint64_t base, size, nbus;
	uint32_t len;
	int node, err;

	if (!fdt || !h)
		return FDT_EBADARG;
	memset(h, 0, sizeof(*h));
	err = dt_find_reg(fdt, compats, &base, &size, &node);
	if (err)
		return err;
	if (cells_of(fdt, node, "#address-cells", 0) != PCI_ADDR_CELLS)
		return FDT_EBADVALUE;
	if (base == 0 || base > UINTPTR_MAX || size < ECAM_BUS_SIZE || base > cpu_limit)
		return FDT_EBADVALUE;
	h->ecam = (uintptr_t)base;
	h->bus_start = 0;
	h->bus_end = 255;
	if (fdt_getprop(fdt, node, "bus-range", (const void **)&br, &len) == 0) {
		uint32_t b0, b1;

		if (len != 8)
			return FDT_EBADVALUE;
		b0 = fdt_be32(br);
		b1 = fdt_be32(br + 4);
		if (b0 > b1 || b1 > 255)
			return FDT_EBADVALUE;
		h->bus_start = (uint8_t)b0;
		h->bus_end = (uint8_t)b1;
	}
	/* The ECAM covers 1 MiB per bus from bus_start; buses beyond it do not exist. */
	nbus = size / ECAM_BUS_SIZE;
	if (nbus < (uint64_t)(h->bus_end - h->bus_start) + 1)
		h->bus_end = (uint8_t)(h->bus_start + nbus - 1);
	h->cpu_limit = cpu_limit;
	err = parse_ranges(fdt, node, h);
	if (err)
		return err;
	return parse_intx(fdt, node, h);
}
