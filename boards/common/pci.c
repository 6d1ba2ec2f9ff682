/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enumeration of a generic ECAM PCI host; see pci.h. Section numbers refer
 * to the PCI Local Bus Specification 3.0 and the PCI-to-PCI Bridge
 * Architecture Specification 1.2.
 *
 * One depth-first pass: each function's BARs are sized and assigned from
 * bump allocators over the host's windows as it is found. A bridge's
 * windows are the range its subtree took, each allocator aligned to the
 * bridge window granularity (4 KiB I/O, 1 MiB memory) on the way in and on
 * the way out, so sibling subtrees never share a window.
 */
#include "pci.h"

#include <string.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/spec/pci.h>


#define IO_GRAIN 0x1000ull   /* bridge I/O windows: 4 KiB (3.2.5.6) */
#define MEM_GRAIN 0x100000ull /* bridge memory windows: 1 MiB (3.2.5.8) */
/* I/O below this is left alone: legacy ISA decoders still claim low ports. */
#define IO_FIRST 0x1000ull

struct alloc {
	uint64_t next, end; /* PCI addresses, end exclusive; end == 0: no window */
	uint64_t cpu_minus_pci; /* CPU address = PCI address + this (mod 2^64) */
};

struct scan {
	const struct pci_host *h;
	struct alloc io, mem, pref;
	bool use_pref; /* 64-bit BARs may go to the 64-bit window below this bridge */
	struct vio_pci_func *funcs;
	unsigned max, n;
	struct pci_scan_stats st;
	unsigned next_bus;
	bool endpoints_only; /* a hot-added slot: bridges below it stay closed */
	uint8_t path[PCI_MAX_DEPTH + 1]; /* device numbers from the root bus down */
};

/* Function 0 of dev on bus: where the hot-plug ports sit (the root bus). */
static uintptr_t cfg_addr_of(const struct pci_host *h, uint8_t bus, uint8_t dev, unsigned off)
{
	return pci_cfg_addr(h, bus, dev, 0, off);
}

static uintptr_t cfg(const struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, unsigned off)
{
	return pci_cfg_addr(s->h, bus, dev, fn, off);
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* An allocator over window w, usable only where the board can reach it. */
static void alloc_init(struct alloc *a, const struct pci_window *w, uint64_t first,
		       uint64_t cpu_limit)
{
	uint64_t size = w->size;

	memset(a, 0, sizeof(*a));
	if (size == 0 || w->pci + size - 1 < w->pci || w->cpu + size - 1 < w->cpu)
		return;
	if (w->cpu > cpu_limit || w->cpu > UINTPTR_MAX)
		return;
	if (w->cpu + size - 1 > cpu_limit)
		size = cpu_limit - w->cpu + 1;
	a->next = w->pci;
	a->end = w->pci + size;
	a->cpu_minus_pci = w->cpu - w->pci;
	if (a->next < first && a->end > first)
		a->next = first;
}

/* Take size bytes aligned to size; returns false when the window has no room. */
static bool alloc_take(struct alloc *a, uint64_t size, uint64_t *pci)
{
	uint64_t start;

	if (a->end == 0 || size == 0)
		return false;
	start = round_up(a->next, size);
	if (start < a->next || start >= a->end || a->end - start < size)
		return false;
	*pci = start;
	a->next = start + size;
	return true;
}

/* Make the window that started at start at least min bytes, as far as the window goes. */
static void alloc_reserve(struct alloc *a, uint64_t start, uint64_t min)
{
	if (a->end == 0 || a->next - start >= min)
		return;
	a->next = a->end - start < min ? a->end : start + min;
}

static void alloc_align(struct alloc *a, uint64_t grain)
{
	uint64_t n;

	if (a->end == 0)
		return;
	n = round_up(a->next, grain);
	a->next = n < a->next || n > a->end ? a->end : n;
}

/*
 * Size the BAR at index i (6.2.5.1): write all ones, read the mask back,
 * restore. Returns the number of registers it spans (1 or 2; 2 for a
 * 64-bit BAR), with *size 0 for an unimplemented BAR and *bad set for one
 * whose mask is not a size (not contiguous, or a 64-bit BAR in the last slot).
 */
static unsigned bar_size(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, unsigned i,
			 uint64_t *size, bool *io, bool *is64, bool *pref, bool *bad)
{
	uintptr_t r = cfg(s, bus, dev, fn, PCI_BAR0 + 4 * i);
	uint32_t orig = vio_read32(r), lo, hi = 0xffffffffu;
	uint64_t mask;

	*size = 0;
	*bad = false;
	*io = orig & PCI_BAR_IO;
	*is64 = !*io && (orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64;
	*pref = !*io && (orig & PCI_BAR_MEM_PREFETCH);
	vio_write32(r, 0xffffffffu);
	lo = vio_read32(r);
	vio_write32(r, orig);
	if (*is64) {
		if (i + 1 >= VIO_PCI_NUM_BARS) {
			*bad = true;
			return 1;
		}
		uint32_t orig_hi = vio_read32(r + 4);

		vio_write32(r + 4, 0xffffffffu);
		hi = vio_read32(r + 4);
		vio_write32(r + 4, orig_hi);
	}
	if (*io) {
		lo &= PCI_BAR_IO_MASK;
		/* 6.2.5.1: a 16-bit I/O decoder returns zeroes in the upper half */
		if (lo && !(lo & 0xffff0000u))
			lo |= 0xffff0000u;
	} else {
		lo &= PCI_BAR_MEM_MASK;
	}
	mask = (uint64_t)hi << 32 | lo;
	if (lo == 0 && (!*is64 || hi == 0))
		return *is64 ? 2 : 1; /* no such BAR: every address bit reads back 0 */
	*size = ~mask + 1;
	/* The mask must be ones from the top down: the size is then a power of two. */
	if (*size == 0 || (*size & (*size - 1)) != 0 || (*io && *size > 0x10000)) {
		*bad = true;
		*size = 0;
	}
	return *is64 ? 2 : 1;
}

/*
 * Size and assign the first nbars BARs of a function. Returns the command
 * bits its assigned BARs need; a BAR that cannot be assigned clears the
 * decoding of its kind (its register holds no address of ours).
 */
static uint16_t assign_bars(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn,
			    unsigned nbars, struct vio_pci_func *f)
{
	bool io_bad = false, mem_bad = false;
	uint16_t cmd = 0;

	for (unsigned i = 0; i < nbars;) {
		uint64_t size, pci = 0;
		bool io, is64, pref, bad, ok;
		unsigned span = bar_size(s, bus, dev, fn, i, &size, &io, &is64, &pref, &bad);
		struct alloc *a;
		uintptr_t r = cfg(s, bus, dev, fn, PCI_BAR0 + 4 * i);

		if (bad) {
			s->st.bad_bars++;
			io_bad |= io;
			mem_bad |= !io;
		}
		if (size == 0) {
			i += span;
			continue;
		}
		if (io)
			a = &s->io;
		else if (is64 && pref && s->use_pref && s->pref.end)
			a = &s->pref;
		else
			a = &s->mem;
		ok = alloc_take(a, size, &pci);
		/* Only a 64-bit BAR can hold an address above 4 GiB (the I/O window is small). */
		if (ok && !is64 && (pci + size - 1) > UINT32_MAX)
			ok = false;
		if (!ok) {
			s->st.bad_bars++;
			io_bad |= io;
			mem_bad |= !io;
			i += span;
			continue;
		}
		vio_write32(r, (uint32_t)pci | (vio_read32(r) & (io ? 0x3u : 0xfu)));
		if (is64)
			vio_write32(r + 4, (uint32_t)(pci >> 32));
		s->st.bars++;
		cmd |= io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		if (f) {
			f->bar[i].addr = (uintptr_t)(pci + a->cpu_minus_pci);
			f->bar[i].size = size;
			f->bar[i].io = io;
		}
		i += span;
	}
	if (io_bad)
		cmd &= (uint16_t)~PCI_COMMAND_IO;
	if (mem_bad)
		cmd &= (uint16_t)~PCI_COMMAND_MEMORY;
	return cmd;
}

/* The interrupt-map's line for INTx pin of the function at the end of path. */
static int intx_route(const struct scan *s, unsigned depth, uint8_t fn, uint8_t pin)
{
	const struct pci_host *h = s->h;
	uint32_t hi;

	if (pin < 1 || pin > 4)
		return -1;
	/* PCI-to-PCI Bridge 1.2 9.1: each bridge rotates its children's pins by device number */
	for (unsigned k = depth; k > 0; k--)
		pin = (uint8_t)((pin - 1 + s->path[k]) % 4 + 1);
	if (depth > 0)
		fn = 0; /* the bridge on the root bus is what the map names */
	hi = (uint32_t)h->bus_start << 16 | (uint32_t)s->path[0] << 11 | (uint32_t)fn << 8;
	for (unsigned i = 0; i < h->nroutes && i < PCI_MAX_INTX_ROUTES; i++) {
		if ((hi & h->map_mask_hi) == h->route[i].devfn_hi &&
		    (pin & h->map_mask_pin) == h->route[i].pin)
			return h->route[i].irq;
	}
	return -1;
}

static void scan_bus(struct scan *s, uint8_t bus, unsigned depth);

/* Round every allocator up to a bridge window boundary; where each now stands. */
static void align_windows(struct scan *s, uint64_t *io, uint64_t *mem, uint64_t *pref)
{
	alloc_align(&s->io, IO_GRAIN);
	alloc_align(&s->mem, MEM_GRAIN);
	alloc_align(&s->pref, MEM_GRAIN);
	*io = s->io.next;
	*mem = s->mem.next;
	*pref = s->pref.next;
}

static void close_windows(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn)
{
	/* base above limit: the bridge forwards nothing */
	vio_write8(cfg(s, bus, dev, fn, PCI_IO_BASE), 0xf0);
	vio_write8(cfg(s, bus, dev, fn, PCI_IO_LIMIT), 0);
	vio_write16(cfg(s, bus, dev, fn, PCI_IO_BASE_UPPER16), 0);
	vio_write16(cfg(s, bus, dev, fn, PCI_IO_LIMIT_UPPER16), 0);
	vio_write16(cfg(s, bus, dev, fn, PCI_MEMORY_BASE), 0xfff0);
	vio_write16(cfg(s, bus, dev, fn, PCI_MEMORY_LIMIT), 0);
	vio_write16(cfg(s, bus, dev, fn, PCI_PREF_MEMORY_BASE), 0xfff0);
	vio_write16(cfg(s, bus, dev, fn, PCI_PREF_MEMORY_LIMIT), 0);
	vio_write32(cfg(s, bus, dev, fn, PCI_PREF_BASE_UPPER32), 0);
	vio_write32(cfg(s, bus, dev, fn, PCI_PREF_LIMIT_UPPER32), 0);
}

static void scan_bridge(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, unsigned depth)
{
	uint64_t io0, mem0, pref0, io1, mem1, pref1;
	bool pref64, saved_use_pref = s->use_pref;
	uint16_t cmd;
	uint8_t sec;

	s->st.bridges++;
	vio_write16(cfg(s, bus, dev, fn, PCI_COMMAND), 0);
	close_windows(s, bus, dev, fn);
	cmd = assign_bars(s, bus, dev, fn, 2, NULL);
	if (depth >= PCI_MAX_DEPTH || s->next_bus > s->h->bus_end) {
		/* No bus number left, or nested too deep: the bridge stays closed. */
		vio_write8(cfg(s, bus, dev, fn, PCI_SECONDARY_BUS), 0);
		vio_write8(cfg(s, bus, dev, fn, PCI_SUBORDINATE_BUS), 0);
		vio_write16(cfg(s, bus, dev, fn, PCI_COMMAND), cmd);
		return;
	}
	sec = (uint8_t)s->next_bus++;
	/* 3.2.5.3-5: route sec..bus_end through it while its subtree is scanned */
	vio_write8(cfg(s, bus, dev, fn, PCI_PRIMARY_BUS), bus);
	vio_write8(cfg(s, bus, dev, fn, PCI_SECONDARY_BUS), sec);
	vio_write8(cfg(s, bus, dev, fn, PCI_SUBORDINATE_BUS), s->h->bus_end);

	/* 3.2.5.10: only a bridge with 64-bit prefetchable decoding takes BARs above 4 GiB */
	pref64 = (vio_read16(cfg(s, bus, dev, fn, PCI_PREF_MEMORY_BASE)) & 0xf) == PCI_BRIDGE_PREF_64;
	s->use_pref = s->use_pref && pref64;
	align_windows(s, &io0, &mem0, &pref0);

	s->path[depth + 1] = 0;
	scan_bus(s, sec, depth + 1);

	if (pci_port_hotplug(s->h, bus, dev, fn, NULL)) {
		/* Room for what may be plugged in later, whatever sits there now (pci.h). */
		alloc_reserve(&s->io, io0, PCI_HOTPLUG_IO);
		alloc_reserve(&s->mem, mem0, PCI_HOTPLUG_MEM);
		if (s->use_pref)
			alloc_reserve(&s->pref, pref0, PCI_HOTPLUG_MEM);
	}
	align_windows(s, &io1, &mem1, &pref1);
	s->use_pref = saved_use_pref;
	vio_write8(cfg(s, bus, dev, fn, PCI_SUBORDINATE_BUS), (uint8_t)(s->next_bus - 1));

	if (io1 > io0) {
		vio_write8(cfg(s, bus, dev, fn, PCI_IO_BASE), (uint8_t)((io0 >> 8) & 0xf0));
		vio_write8(cfg(s, bus, dev, fn, PCI_IO_LIMIT), (uint8_t)(((io1 - 1) >> 8) & 0xf0));
		vio_write16(cfg(s, bus, dev, fn, PCI_IO_BASE_UPPER16), (uint16_t)(io0 >> 16));
		vio_write16(cfg(s, bus, dev, fn, PCI_IO_LIMIT_UPPER16), (uint16_t)((io1 - 1) >> 16));
		cmd |= PCI_COMMAND_IO;
	}
	if (mem1 > mem0) {
		vio_write16(cfg(s, bus, dev, fn, PCI_MEMORY_BASE), (uint16_t)((mem0 >> 16) & 0xfff0));
		vio_write16(cfg(s, bus, dev, fn, PCI_MEMORY_LIMIT),
			    (uint16_t)(((mem1 - 1) >> 16) & 0xfff0));
		cmd |= PCI_COMMAND_MEMORY;
	}
	if (pref1 > pref0) {
		vio_write32(cfg(s, bus, dev, fn, PCI_PREF_BASE_UPPER32), (uint32_t)(pref0 >> 32));
		vio_write32(cfg(s, bus, dev, fn, PCI_PREF_LIMIT_UPPER32), (uint32_t)((pref1 - 1) >> 32));
		vio_write16(cfg(s, bus, dev, fn, PCI_PREF_MEMORY_BASE),
			    (uint16_t)((pref0 >> 16) & 0xfff0));
		vio_write16(cfg(s, bus, dev, fn, PCI_PREF_MEMORY_LIMIT),
			    (uint16_t)(((pref1 - 1) >> 16) & 0xfff0));
		cmd |= PCI_COMMAND_MEMORY;
	}
	/* A bridge forwards its children's DMA only with bus mastering on. */
	vio_write16(cfg(s, bus, dev, fn, PCI_COMMAND), cmd | PCI_COMMAND_MASTER);
}

static void scan_endpoint(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, unsigned depth)
{
	struct vio_pci_func *f = NULL;
	uint16_t cmd;
	uint8_t pin;

	vio_write16(cfg(s, bus, dev, fn, PCI_COMMAND), 0);
	if (s->n >= s->max) {
		/* No room to hand it on: it stays with decoding and DMA off. */
		s->st.dropped++;
		return;
	}
	f = &s->funcs[s->n++];
	memset(f, 0, sizeof(*f));
	f->cfg = cfg(s, bus, dev, fn, 0);
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	cmd = assign_bars(s, bus, dev, fn, VIO_PCI_NUM_BARS, f);
	pin = vio_read8(cfg(s, bus, dev, fn, PCI_INTERRUPT_PIN));
	f->irq = intx_route(s, depth, fn, pin);
	if (f->irq >= 0)
		vio_write8(cfg(s, bus, dev, fn, PCI_INTERRUPT_LINE), (uint8_t)f->irq);
	vio_write16(cfg(s, bus, dev, fn, PCI_COMMAND), cmd | PCI_COMMAND_MASTER);
}

static void scan_bus(struct scan *s, uint8_t bus, unsigned depth)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint8_t nfn = 1;

		s->path[depth] = dev;
		for (uint8_t fn = 0; fn < nfn; fn++) {
			uint16_t vendor = vio_read16(cfg(s, bus, dev, fn, PCI_VENDOR_ID));
			uint8_t ht;

			if (vendor == 0xffff || vendor == 0)
				continue;
			ht = vio_read8(cfg(s, bus, dev, fn, PCI_HEADER_TYPE));
			/* 6.2.1: function 0 says whether functions 1-7 exist */
			if (fn == 0 && (ht & PCI_HEADER_MULTI_FUNCTION))
				nfn = 8;
			s->st.functions++;
			if ((ht & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE && s->endpoints_only)
				vio_write16(cfg(s, bus, dev, fn, PCI_COMMAND), 0);
			else if ((ht & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE)
				scan_bridge(s, bus, dev, fn, depth);
			else if ((ht & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_NORMAL)
				scan_endpoint(s, bus, dev, fn, depth);
			/* other header types (CardBus) are left alone */
		}
	}
}

int pci_scan(const struct pci_host *h, struct vio_pci_func *funcs, unsigned max, unsigned *n,
	     struct pci_scan_stats *stats)
{
	struct scan s;

	if (!h || !h->ecam || h->bus_end < h->bus_start || (!funcs && max) || !n)
		return VIO_EINVAL;
	memset(&s, 0, sizeof(s));
	s.h = h;
	s.funcs = funcs;
	s.max = max;
	s.next_bus = h->bus_start + 1u;
	alloc_init(&s.io, &h->io, IO_FIRST, h->cpu_limit);
	alloc_init(&s.mem, &h->mem32, 0, h->cpu_limit);
	alloc_init(&s.pref, &h->mem64, 0, h->cpu_limit);
	s.use_pref = s.pref.end != 0;
	scan_bus(&s, h->bus_start, 0);
	s.st.last_bus = (uint8_t)(s.next_bus - 1);
	*n = s.n;
	if (stats)
		*stats = s.st;
	return 0;
}

/* PCI 3.0 6.7: the capability id in the list of (bus, dev, fn), bounded as the transport's walk. */
unsigned pci_find_cap(const struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t id)
{
	unsigned p, steps = 0;

	if (!(vio_read16(pci_cfg_addr(h, bus, dev, fn, PCI_STATUS)) & PCI_STATUS_CAP_LIST))
		return 0;
	p = vio_read8(pci_cfg_addr(h, bus, dev, fn, PCI_CAPABILITY_LIST)) & ~3u;
	while (p) {
		if (p < PCI_CAP_FIRST || p > PCI_CFG_SPACE_SIZE - 4 ||
		    ++steps > (PCI_CFG_SPACE_SIZE - PCI_CAP_FIRST) / 4)
			return 0;
		if (vio_read8(pci_cfg_addr(h, bus, dev, fn, p + PCI_CAP_ID)) == id)
			return p;
		p = vio_read8(pci_cfg_addr(h, bus, dev, fn, p + PCI_CAP_NEXT)) & ~3u;
	}
	return 0;
}

bool pci_port_hotplug(const struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
		      unsigned *exp)
{
	unsigned pos = pci_find_cap(h, bus, dev, fn, PCI_CAP_ID_EXP);
	uint16_t flags, type;

	/* The capability's slot registers end at 0x1c (PCI Express 4.0 7.5.3). */
	if (!pos || pos + PCI_EXP_SLTSTA + 2 > PCI_CFG_SPACE_SIZE)
		return false;
	flags = vio_read16(pci_cfg_addr(h, bus, dev, fn, pos + PCI_EXP_FLAGS));
	type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
	if (!(flags & PCI_EXP_FLAGS_SLOT) ||
	    (type != PCI_EXP_TYPE_ROOT_PORT && type != PCI_EXP_TYPE_DOWNSTREAM))
		return false;
	if (!(vio_read32(pci_cfg_addr(h, bus, dev, fn, pos + PCI_EXP_SLTCAP)) & PCI_EXP_SLTCAP_HPC))
		return false;
	if (exp)
		*exp = pos;
	return true;
}

/* A bridge window read back as an allocator; cpu_minus_pci from the host window w. */
static void window_alloc(struct alloc *a, uint64_t base, uint64_t limit,
			 const struct pci_window *w)
{
	memset(a, 0, sizeof(*a));
	if (limit < base || w->size == 0 || base < w->pci || limit - w->pci >= w->size)
		return;
	a->next = base;
	a->end = limit + 1;
	a->cpu_minus_pci = w->cpu - w->pci;
}

int pci_scan_slot(const struct pci_host *h, uint8_t dev, struct vio_pci_func *funcs, unsigned max,
		  unsigned *n)
{
	uint8_t bus = h ? h->bus_start : 0, sec;
	uint64_t iob, iol, mb, ml, pb, pl;
	struct scan s;

	if (!h || !h->ecam || dev > 31 || (!funcs && max) || !n ||
	    !pci_port_hotplug(h, bus, dev, 0, NULL))
		return VIO_EINVAL;
	sec = vio_read8(cfg_addr_of(h, bus, dev, PCI_SECONDARY_BUS));
	if (sec <= h->bus_start || sec > h->bus_end)
		return VIO_EINVAL;
	memset(&s, 0, sizeof(s));
	s.h = h;
	s.funcs = funcs;
	s.max = max;
	s.endpoints_only = true;
	/* 3.2.5.6-3.2.5.10: the windows the enumeration gave the port */
	iob = (uint64_t)(vio_read8(cfg_addr_of(h, bus, dev, PCI_IO_BASE)) & 0xf0) << 8 |
	      (uint64_t)vio_read16(cfg_addr_of(h, bus, dev, PCI_IO_BASE_UPPER16)) << 16;
	iol = ((uint64_t)(vio_read8(cfg_addr_of(h, bus, dev, PCI_IO_LIMIT)) & 0xf0) << 8 |
	       (uint64_t)vio_read16(cfg_addr_of(h, bus, dev, PCI_IO_LIMIT_UPPER16)) << 16) | 0xfff;
	mb = (uint64_t)(vio_read16(cfg_addr_of(h, bus, dev, PCI_MEMORY_BASE)) & 0xfff0) << 16;
	ml = (uint64_t)(vio_read16(cfg_addr_of(h, bus, dev, PCI_MEMORY_LIMIT)) & 0xfff0) << 16 |
	     0xfffff;
	pb = (uint64_t)(vio_read16(cfg_addr_of(h, bus, dev, PCI_PREF_MEMORY_BASE)) & 0xfff0) << 16 |
	     (uint64_t)vio_read32(cfg_addr_of(h, bus, dev, PCI_PREF_BASE_UPPER32)) << 32;
	pl = ((uint64_t)(vio_read16(cfg_addr_of(h, bus, dev, PCI_PREF_MEMORY_LIMIT)) & 0xfff0) << 16 |
	      (uint64_t)vio_read32(cfg_addr_of(h, bus, dev, PCI_PREF_LIMIT_UPPER32)) << 32) |
	     0xfffff;
	window_alloc(&s.io, iob, iol, &h->io);
	window_alloc(&s.mem, mb, ml, &h->mem32);
	window_alloc(&s.pref, pb, pl, &h->mem64);
	s.use_pref = s.pref.end != 0;
	s.path[0] = dev;
	s.path[1] = 0;
	scan_bus(&s, sec, 1);
	*n = s.n;
	return 0;
}
