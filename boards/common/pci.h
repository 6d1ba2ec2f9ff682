/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boards' PCI host: a generic ECAM host bridge (PCI Express 4.0
 * section 7.2.2) as its device-tree node describes it (dt_pci.c), and the
 * enumeration that walks its buses, numbers the bridges, sizes and assigns
 * every BAR from the bridge's windows, enables decoding and bus mastering
 * and finds each function's INTx line (pci.c).
 *
 * Nothing a function reports is taken on trust: a BAR whose size is not a
 * power of two or does not fit a window is left unassigned (and that kind
 * of decoding off), a bridge beyond the bus range or the nesting limit is
 * left closed, and a function table that fills up stops the walk.
 * Start-up code only; no interrupts, no locks.
 */
#ifndef VIO_BOARD_PCI_H
#define VIO_BOARD_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vio/pci.h>

/* One address window of the host bridge: PCI addresses [pci, pci + size) at CPU cpu. */
struct pci_window {
	uint64_t cpu;
	uint64_t pci;
	uint64_t size; /* 0: the bridge has no such window */
};

/* One interrupt-map entry: a root-bus device's INTx pin to a board interrupt. */
struct pci_intx_route {
	uint32_t devfn_hi; /* the child unit address's phys.hi, already masked */
	uint32_t pin;      /* 1..4, already masked */
	int irq;           /* board interrupt number */
};

#define PCI_MAX_INTX_ROUTES 64

struct pci_host {
	uintptr_t ecam;       /* CPU address of bus bus_start's configuration space */
	uint8_t bus_start, bus_end;
	struct pci_window io;    /* I/O space */
	struct pci_window mem32; /* 32-bit memory, not prefetchable */
	struct pci_window mem64; /* 64-bit memory (prefetchable or not) */
	/* The highest CPU address the board can reach (its memory map): windows above are unused. */
	uint64_t cpu_limit;
	/* interrupt-map-mask and interrupt-map (Devicetree Specification 2.4.3) */
	uint32_t map_mask_hi, map_mask_pin;
	unsigned nroutes;
	struct pci_intx_route route[PCI_MAX_INTX_ROUTES];
};

/* Functions the boards hand on (board_pci_functions). */
#define BOARD_MAX_PCI 32

/* Bridges nest at most this deep below the root bus. */
#define PCI_MAX_DEPTH 8

/* What the enumeration found (besides the functions). */
struct pci_scan_stats {
	unsigned functions;   /* functions found, bridges included */
	unsigned bridges;
	unsigned bars;        /* BARs assigned */
	unsigned bad_bars;    /* BARs left unassigned: bad size or no room */
	unsigned dropped;     /* functions beyond the table */
	uint8_t last_bus;     /* highest bus number given out */
};

/*
 * Walk every bus below h's root bus and set everything up. Each endpoint
 * function (not the bridges) goes into funcs (at most max, in bus order),
 * *n says how many. Returns 0, or -22 (VIO_EINVAL) for a host description
 * that cannot be used (no ECAM, an empty bus range).
 */
int pci_scan(const struct pci_host *h, struct vio_pci_func *funcs, unsigned max, unsigned *n,
	     struct pci_scan_stats *stats);

/*
 * PCI Express native hot-plug (PCI Express 4.0 section 6.7). A root or
 * downstream port whose slot is implemented and hot-plug capable gets
 * windows of at least these sizes from pci_scan, whether its slot is
 * empty or not, so that a device plugged in later finds room: 4 KiB of
 * I/O, 2 MiB of 32-bit memory and, where the port's parent decodes the
 * 64-bit window, 2 MiB of it (QEMU's virtio-pci functions take 16 KiB
 * of 64-bit prefetchable memory, 4 KiB of 32-bit memory and 64 or 128
 * bytes of I/O).
 */
#define PCI_HOTPLUG_IO 0x1000ull
#define PCI_HOTPLUG_MEM 0x200000ull

/* The offset of capability id in (bus, dev, fn)'s list, or 0. */
unsigned pci_find_cap(const struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t id);

/* Whether (bus, dev, fn) is a port with a hot-plug capable slot; *exp: its PCIe capability. */
bool pci_port_hotplug(const struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
		      unsigned *exp);

/*
 * Enumerate what sits below the hot-plug port at device dev of the root
 * bus, after its slot was powered on: endpoint functions only (a bridge
 * found there stays closed), BARs assigned from the windows pci_scan gave
 * the port, INTx routed through it. The functions go into funcs (at most
 * max), *n says how many. Returns 0, or -22 when dev is no hot-plug port
 * with a secondary bus.
 */
int pci_scan_slot(const struct pci_host *h, uint8_t dev, struct vio_pci_func *funcs, unsigned max,
		  unsigned *n);

/* Config-space accessors of the ECAM (bus, device, function): address of register off. */
static inline uintptr_t pci_cfg_addr(const struct pci_host *h, uint8_t bus, uint8_t dev,
				     uint8_t fn, unsigned off)
{
	return h->ecam + ((uintptr_t)(bus - h->bus_start) << 20 | (uintptr_t)dev << 15 |
			  (uintptr_t)fn << 12 | off);
}

#endif
