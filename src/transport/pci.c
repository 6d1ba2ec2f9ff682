/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-pci: identifying a function and finding its interface (VirtIO
 * 1.2 sections 4.1.2 and 4.1.4). Nothing the function reports is trusted:
 * the capability list is walked with a bound and a range check on every
 * pointer, and a capability is used only when the region it names lies
 * inside a BAR the platform assigned.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <vio/error.h>
#include <vio/io.h>
#include <vio/pci.h>
#include <vio/port.h>
#include <vio/spec/pci.h>
#include <vio/spec/virtio_pci.h>

#include "core/log.h"
#include "transport/pci_priv.h"
#include "vio_config.h"

/* At most this many capabilities fit between 0x40 and 0x100 (4 bytes each). */
#define MAX_CAPS ((PCI_CFG_SPACE_SIZE - PCI_CAP_FIRST) / 4)

static uint8_t cfg8(const struct vio_pci_func *f, unsigned off)
{
	return vio_read8(f->cfg + off);
}

static uint16_t cfg16(const struct vio_pci_func *f, unsigned off)
{
	return vio_read16(f->cfg + off);
}

static uint32_t cfg32(const struct vio_pci_func *f, unsigned off)
{
	return vio_read32(f->cfg + off);
}

/*
 * The capability after pos (0: the first) with the given id, or 0 when
 * there is none. A pointer below the header or a list longer than config
 * space can hold ends the walk: a loop cannot run forever.
 */
static unsigned cap_next(const struct vio_pci_func *f, unsigned pos, uint8_t id, unsigned *steps)
{
	unsigned p;

	if (pos == 0) {
		if (!(cfg16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST))
			return 0;
		p = cfg8(f, PCI_CAPABILITY_LIST);
	} else {
		p = cfg8(f, pos + PCI_CAP_NEXT);
	}
	/* PCI 3.0 6.7: the bottom two bits are reserved; the driver masks them */
	for (p &= ~3u; p; p = cfg8(f, p + PCI_CAP_NEXT) & ~3u) {
		if (p < PCI_CAP_FIRST || p > PCI_CFG_SPACE_SIZE - 4 || ++*steps > MAX_CAPS)
			return 0;
		if (cfg8(f, p + PCI_CAP_ID) == id)
			return p;
	}
	return 0;
}

/*
 * 4.1.4: the region a virtio capability at pos names, if it lies inside
 * an assigned memory BAR and is at least min bytes long.
 */
static bool cap_region(const struct vio_pci_func *f, unsigned pos, uint32_t min,
		       struct pci_region *r)
{
	uint8_t bar = cfg8(f, pos + VIRTIO_PCI_CAP_BAR);
	uint32_t off = cfg32(f, pos + VIRTIO_PCI_CAP_OFFSET);
	uint32_t len = cfg32(f, pos + VIRTIO_PCI_CAP_LENGTH);
	const struct vio_pci_bar *b;

	/* 4.1.4.1: BARs 0x0-0x5; other values are reserved and skipped */
	if (bar >= VIO_PCI_NUM_BARS)
		return false;
	b = &f->bar[bar];
	if (b->size == 0 || b->io || len < min || (uint64_t)off + len > b->size)
		return false;
	r->addr = b->addr + off;
	r->len = len;
	return true;
}

struct found {
	struct pci_region common, notify, isr, device;
	uint32_t mult;
	bool has_common, has_notify, has_isr, has_device;
};

/* 4.1.4.1: the first capability of each type that the driver can use wins. */
static void find_caps(const struct vio_pci_func *f, struct found *c)
{
	unsigned steps = 0, pos = 0;

	memset(c, 0, sizeof(*c));
	while ((pos = cap_next(f, pos, PCI_CAP_ID_VNDR, &steps)) != 0) {
		uint8_t len = cfg8(f, pos + VIRTIO_PCI_CAP_LEN);
		uint8_t type = cfg8(f, pos + VIRTIO_PCI_CAP_CFG_TYPE);

		if (len < VIRTIO_PCI_CAP_SIZE || pos + len > PCI_CFG_SPACE_SIZE)
			continue;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			if (!c->has_common)
				c->has_common = cap_region(f, pos, VIRTIO_PCI_COMMON_SIZE_1_0,
							   &c->common);
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			if (c->has_notify || len < VIRTIO_PCI_NOTIFY_CAP_SIZE)
				break;
			/* 4.1.4.4: room for at least queue 0's 16-bit notification */
			c->has_notify = cap_region(f, pos, 2, &c->notify);
			c->mult = cfg32(f, pos + VIRTIO_PCI_NOTIFY_CAP_MULT);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			if (!c->has_isr)
				c->has_isr = cap_region(f, pos, 1, &c->isr);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			if (!c->has_device)
				c->has_device = cap_region(f, pos, 1, &c->device);
			break;
		default:
			break;
		}
	}
}

/* 4.1.2.1: which virtio device the PCI ids name; 0 for none. */
static uint32_t virtio_id(const struct vio_pci_func *f, bool *transitional)
{
	uint16_t dev = cfg16(f, PCI_DEVICE_ID);

	*transitional = false;
	if (cfg16(f, PCI_VENDOR_ID) != PCI_VENDOR_ID_REDHAT_QUMRANET)
		return 0;
	if (dev >= VIRTIO_PCI_DEVICE_ID_MODERN_BASE && dev <= VIRTIO_PCI_DEVICE_ID_MODERN_LAST)
		return dev - VIRTIO_PCI_DEVICE_ID_MODERN_BASE;
	if (dev >= VIRTIO_PCI_DEVICE_ID_TRANS_FIRST && dev <= VIRTIO_PCI_DEVICE_ID_TRANS_LAST) {
		/* a transitional device names its type in the subsystem device id */
		*transitional = true;
		return cfg16(f, PCI_SUBSYSTEM_ID);
	}
	return 0;
}

/*
 * PCI 3.0 6.8.2: the MSI-X capability, used only when its vector table and
 * pending-bit array lie inside assigned memory BARs. Otherwise the device
 * interrupts through INTx, as if it had no MSI-X. MSI-X starts off: the
 * device core turns it on once it has vectors for it.
 */
static void find_msix(const struct vio_pci_func *f, struct pci_state *s)
{
	unsigned steps = 0, pos = cap_next(f, 0, PCI_CAP_ID_MSIX, &steps);
	uint32_t table, pba, n;
	const struct vio_pci_bar *tb, *pb;
	uint16_t ctrl;

	if (!pos)
		return;
	if (pos + PCI_MSIX_CAP_SIZE > PCI_CFG_SPACE_SIZE)
		goto bad;
	ctrl = cfg16(f, pos + PCI_MSIX_FLAGS);
	table = cfg32(f, pos + PCI_MSIX_TABLE);
	pba = cfg32(f, pos + PCI_MSIX_PBA);
	n = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1u;
	/* BIR 6 and 7 are reserved */
	if ((table & PCI_MSIX_BIR_MASK) >= VIO_PCI_NUM_BARS ||
	    (pba & PCI_MSIX_BIR_MASK) >= VIO_PCI_NUM_BARS)
		goto bad;
	tb = &f->bar[table & PCI_MSIX_BIR_MASK];
	pb = &f->bar[pba & PCI_MSIX_BIR_MASK];
	if (tb->size == 0 || tb->io || pb->size == 0 || pb->io)
		goto bad;
	table &= ~PCI_MSIX_BIR_MASK;
	pba &= ~PCI_MSIX_BIR_MASK;
	/* one 16-byte entry per vector, one pending bit per vector in 64-bit words */
	if ((uint64_t)table + (uint64_t)n * PCI_MSIX_ENTRY_SIZE > tb->size ||
	    (uint64_t)pba + (n + 63u) / 64u * 8u > pb->size)
		goto bad;
	s->msix_ctrl = f->cfg + pos + PCI_MSIX_FLAGS;
	s->msix_table = tb->addr + table;
	s->msix_n = (uint16_t)n;
	vio_write16(s->msix_ctrl, (uint16_t)(ctrl & ~PCI_MSIX_FLAGS_ENABLE));
	return;
bad:
	vio_warn("virtio-pci %02x:%02x.%x: MSI-X table or pending bits outside a memory BAR; "
		 "using INTx", f->bus, f->dev, f->fn);
}

static struct pci_state *state_new(uint16_t nqueues)
{
	const struct vio_port *port = vio_port();
	size_t size = sizeof(struct pci_state) + sizeof(uintptr_t) * nqueues;
	struct pci_state *s = port->dma_alloc(port->ctx, size, sizeof(void *));

	if (!s)
		return NULL;
	s->size = size;
	s->nqueues = nqueues;
	return s;
}

static void state_free(struct vio_transport *t)
{
	const struct vio_port *port = vio_port();
	struct pci_state *s = t->priv;

	if (s)
		port->dma_free(port->ctx, s, s->size);
	t->priv = NULL;
}

void vio_pci_release(struct vio_transport *t)
{
	state_free(t);
}

int vio_pci_reset_status(uintptr_t addr, const struct vio_port *port, uint64_t timeout_ns)
{
	uint64_t start = port->time_ns(port->ctx);

	/* 4.1.4.3.2, 4.1.4.8: the reset is done when the status reads 0 again */
	vio_write8(addr, 0);
	while (vio_read8(addr) != 0) {
		if (port->time_ns(port->ctx) - start > timeout_ns)
			return VIO_ETIMEDOUT;
	}
	return 0;
}

/*
 * The device configuration as the device sized it. An access outside it
 * (a driver reading a field the device does not have) reads as 0 and
 * writes nothing, instead of touching whatever follows in the BAR.
 */
uint32_t vio_pci_region_read(const struct pci_region *r, unsigned off, unsigned width)
{
	if (!pci_in_region(r->len, off, width))
		return 0;
	switch (width) {
	case 1: return vio_read8(r->addr + off);
	case 2: return vio_read16(r->addr + off);
	default: return vio_read32(r->addr + off);
	}
}

void vio_pci_region_write(const struct pci_region *r, unsigned off, unsigned width, uint32_t v)
{
	if (!pci_in_region(r->len, off, width))
		return;
	switch (width) {
	case 1: vio_write8(r->addr + off, (uint8_t)v); break;
	case 2: vio_write16(r->addr + off, (uint16_t)v); break;
	default: vio_write32(r->addr + off, v); break;
	}
}

static int setup_modern(struct vio_transport *t, const struct vio_pci_func *f,
			const struct found *c)
{
	uint16_t nq = vio_read16(c->common.addr + VIRTIO_PCI_COMMON_NUMQ);
	struct pci_state *s;

	/* More queues than we keep a notification address for: the rest read as absent. */
	if (nq > PCI_MAX_QUEUES)
		nq = PCI_MAX_QUEUES;
	s = state_new(nq);
	if (!s)
		return VIO_ENOMEM;
	s->common = c->common;
	s->notify = c->notify;
	s->isr = c->isr;
	if (c->has_device)
		s->device = c->device;
	s->notify_mult = c->mult;
	find_msix(f, s);
	t->priv = s;
	t->ops = &vio_pci_modern_ops;
	t->base = c->common.addr;
	t->version = 2;
	t->legacy = false;
	/* 4.1.4.3: queue_reset ends the common configuration of VirtIO 1.2 */
	t->queue_reset = c->common.len >= VIRTIO_PCI_COMMON_Q_RESET + 2;
	return 0;
}

static int setup_legacy(struct vio_transport *t, const struct vio_pci_func *f,
			const struct vio_pci_bar *b)
{
	struct pci_state *s = state_new(0);

	if (!s)
		return VIO_ENOMEM;
	s->io = b->addr;
	s->isr.addr = b->addr + VIRTIO_PCI_LEGACY_ISR;
	s->isr.len = 1;
	/* 4.1.5.1: no MSI-X is enabled, so the device configuration starts at 20 */
	s->device.addr = b->addr + VIRTIO_PCI_LEGACY_CONFIG;
	s->device.len = (uint32_t)(b->size > UINT32_MAX ? UINT32_MAX : b->size) -
			VIRTIO_PCI_LEGACY_CONFIG;
	/* 4.1.4.8: the two vector registers need a BAR that reaches offset 24 */
	if (b->size >= VIRTIO_PCI_LEGACY_CONFIG_MSIX)
		find_msix(f, s);
	t->priv = s;
	t->ops = &vio_pci_legacy_ops;
	t->base = b->addr;
	t->version = 1;
	t->legacy = true;
	t->fixed_queue_size = true;
	return 0;
}

int vio_pci_identify(struct vio_transport *t, const struct vio_pci_func *f)
{
	const struct vio_pci_bar *bar0;
	struct found c;
	bool transitional, modern_ok, legacy_ok;

	if (!t || !f || !vio_port())
		return VIO_EINVAL;
	memset(t, 0, sizeof(*t));
	t->ops = &vio_pci_modern_ops;
	t->base = f->cfg;
	t->bus_addr = vio_pci_bdf(f);
	t->irq = f->irq;
	t->device_id = virtio_id(f, &transitional);
	if (t->device_id == 0)
		return 0;
	t->vendor_id = cfg16(f, PCI_SUBSYSTEM_VENDOR_ID);

	find_caps(f, &c);
	modern_ok = c.has_common && c.has_notify && c.has_isr;
	/* 4.1.5: a transitional device's legacy registers are I/O BAR0, at least 20 bytes */
	bar0 = &f->bar[0];
	legacy_ok = transitional && bar0->io && bar0->size >= VIRTIO_PCI_LEGACY_CONFIG;
	if (modern_ok && !(CONFIG_VIO_IFACE_LEGACY && legacy_ok))
		return setup_modern(t, f, &c);
	if (legacy_ok)
		return setup_legacy(t, f, bar0);
	/* Neither interface is usable: the device enters the table refused. */
	t->unsupported = true;
	t->version = 0;
	return 0;
}

int vio_pci_add(const struct vio_pci_func *f, int slot, struct vio_device **out)
{
	struct vio_transport t;
	int err;

	if (!vio_port())
		return VIO_EINVAL;
	err = vio_pci_identify(&t, f);
	if (err) {
		vio_err("virtio-pci %02x:%02x.%x: %s", f->bus, f->dev, f->fn, vio_strerror(err));
		return err;
	}
	if (t.device_id == 0)
		return VIO_ENODEV;
	if (t.unsupported)
		vio_err("virtio-pci %02x:%02x.%x: no usable modern capabilities and no legacy I/O BAR",
			f->bus, f->dev, f->fn);
	return vio_dev_add(&t, slot, out);
}
