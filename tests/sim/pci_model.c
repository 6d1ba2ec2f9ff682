/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated PCI host; see pci_model.h. */
#include "pci_model.h"

#include <string.h>

#include <vio/spec/pci.h>
#include <vio/spec/virtio_pci.h>

#include "sim.h"

static struct pcim_func funcs[PCIM_MAX_FUNCS];
/* A function was pulled (pcim_unplug): unclaimed window accesses read all ones. */
static bool unplugged;
static unsigned stray;

uint16_t pcim_cfg16(const struct pcim_func *f, unsigned off)
{
	return (uint16_t)(f->cfg[off] | f->cfg[off + 1] << 8);
}

uint32_t pcim_cfg32(const struct pcim_func *f, unsigned off)
{
	return (uint32_t)pcim_cfg16(f, off) | (uint32_t)pcim_cfg16(f, off + 2) << 16;
}

void pcim_put8(struct pcim_func *f, unsigned off, uint8_t v)
{
	f->cfg[off] = v;
}

void pcim_put16(struct pcim_func *f, unsigned off, uint16_t v)
{
	f->cfg[off] = (uint8_t)v;
	f->cfg[off + 1] = (uint8_t)(v >> 8);
}

void pcim_put32(struct pcim_func *f, unsigned off, uint32_t v)
{
	pcim_put16(f, off, (uint16_t)v);
	pcim_put16(f, off + 2, (uint16_t)(v >> 16));
}

int pcim_index(const struct pcim_func *f)
{
	return (int)(f - funcs);
}

int pcim_bus(const struct pcim_func *f)
{
	if (f->parent < 0)
		return 0;
	/* Behind a bridge: its secondary bus, if the bridge itself answers. */
	if (pcim_bus(&funcs[f->parent]) < 0)
		return -1;
	return funcs[f->parent].cfg[PCI_SECONDARY_BUS] ? funcs[f->parent].cfg[PCI_SECONDARY_BUS] : -1;
}

static struct pcim_func *func_at(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < PCIM_MAX_FUNCS; i++) {
		struct pcim_func *f = &funcs[i];

		if (f->used && f->dev == dev && f->fn == fn && pcim_bus(f) == (int)bus)
			return f;
	}
	return NULL;
}

static uint32_t bar_type(const struct pcim_bar *b)
{
	if (b->io)
		return PCI_BAR_IO;
	return (b->is64 ? PCI_BAR_MEM_TYPE_64 : 0) | (b->pref ? PCI_BAR_MEM_PREFETCH : 0);
}

/* The BAR register i as read: for the upper half of a 64-bit BAR, no type bits. */
static uint32_t bar_read(const struct pcim_func *f, unsigned i)
{
	if (i > 0 && f->bar[i - 1].is64 && !f->bar[i - 1].io)
		return f->bar_reg[i];
	return f->bar_reg[i] | bar_type(&f->bar[i]);
}

static void bar_write(struct pcim_func *f, unsigned i, uint32_t v)
{
	const struct pcim_bar *b = &f->bar[i];

	if (i > 0 && f->bar[i - 1].is64 && !f->bar[i - 1].io) {
		uint64_t size = f->bar[i - 1].size;

		f->bar_reg[i] = f->bar[i - 1].raw ? v : (size ? v & (uint32_t)(~(size - 1) >> 32) : 0);
		return;
	}
	if (b->raw)
		f->bar_reg[i] = v & b->raw_mask & (b->io ? ~3u : ~0xfu);
	else if (b->size == 0)
		f->bar_reg[i] = 0;
	else
		f->bar_reg[i] = v & (uint32_t)~(b->size - 1) & (b->io ? ~3u : ~0xfu);
}

uint64_t pcim_bar_addr(const struct pcim_func *f, unsigned i)
{
	uint64_t a = f->bar_reg[i];

	if (f->bar[i].is64 && i + 1 < 6)
		a |= (uint64_t)f->bar_reg[i + 1] << 32;
	return a;
}

/* Which bytes of the header a driver may write. */
static bool writable(const struct pcim_func *f, unsigned off)
{
	bool bridge = (f->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE;

	if (off == PCI_COMMAND || off == PCI_COMMAND + 1 || off == PCI_INTERRUPT_LINE)
		return true;
	/* MSI-X Message Control: enable and function mask (the top byte) */
	if (f->vio && f->vio->msix_ctrl && off == (unsigned)(f->vio->msix_ctrl - f->cfg) + 1)
		return true;
	if (bridge && off >= PCI_PRIMARY_BUS && off < PCI_CAPABILITY_LIST)
		return off != PCI_IO_BASE + 2 && off != PCI_IO_BASE + 3; /* secondary status */
	if (bridge && (off == PCI_BRIDGE_CONTROL || off == PCI_BRIDGE_CONTROL + 1))
		return true;
	return false;
}

static uint32_t ecam_read(void *ctx, uintptr_t off, unsigned width)
{
	struct pcim_func *f = func_at((unsigned)(off >> 20), (unsigned)(off >> 15) & 31,
				      (unsigned)(off >> 12) & 7);
	unsigned reg = (unsigned)off & 0xfff;
	uint8_t bytes[8];

	(void)ctx;
	if (!f || reg >= 256 || (reg & (width - 1)))
		return width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
	f->cfg_reads++;
	memcpy(bytes, &f->cfg[reg & ~3u], 4);
	if ((reg & ~3u) >= PCI_BAR0 && (reg & ~3u) < PCI_BAR0 + 24 &&
	    ((f->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) == 0 || (reg & ~3u) < PCI_BAR0 + 8)) {
		uint32_t v = bar_read(f, ((reg & ~3u) - PCI_BAR0) / 4);

		for (unsigned i = 0; i < 4; i++)
			bytes[i] = (uint8_t)(v >> (8 * i));
	}
	uint32_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint32_t)bytes[(reg & 3) + i] << (8 * i);
	return v;
}

/* ------------------------------------------------------------------ */
/* A hot-plug slot (PCI Express 4.0 6.7, as QEMU 7.2 models it) */

#define SLOT_EVENTS (PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC | 0x0016u)

static uint16_t get16(const struct pcim_func *f, unsigned off)
{
	return (uint16_t)(f->cfg[off] | f->cfg[off + 1] << 8);
}

static void set16(struct pcim_func *f, unsigned off, uint16_t v)
{
	f->cfg[off] = (uint8_t)v;
	f->cfg[off + 1] = (uint8_t)(v >> 8);
}

static void slot_detach(struct pcim_func *port)
{
	int idx = pcim_index(port);

	for (unsigned i = 0; i < PCIM_MAX_FUNCS; i++)
		if (funcs[i].used && funcs[i].parent == idx)
			funcs[i].used = false;
	set16(port, port->slot_exp + PCI_EXP_SLTSTA,
	      (uint16_t)((get16(port, port->slot_exp + PCI_EXP_SLTSTA) & ~PCI_EXP_SLTSTA_PDS) |
			 PCI_EXP_SLTSTA_PDC));
	set16(port, port->slot_exp + PCI_EXP_LNKSTA,
	      get16(port, port->slot_exp + PCI_EXP_LNKSTA) & (uint16_t)~PCI_EXP_LNKSTA_DLLLA);
}

static bool powered_off(uint16_t ctl)
{
	return (ctl & PCI_EXP_SLTCTL_PCC) && (ctl & PCI_EXP_SLTCTL_PIC) == PCI_EXP_SLTCTL_PIC_OFF;
}

/* A write to the slot's registers: whether it was one (then it is done). */
static bool slot_write(struct pcim_func *f, unsigned reg, uint32_t v, unsigned width)
{
	unsigned ctl = f->slot_exp + PCI_EXP_SLTCTL, sta = f->slot_exp + PCI_EXP_SLTSTA;
	uint16_t old;

	if (!f->slot_exp || (reg != ctl && reg != sta) || width != 2)
		return false;
	if (reg == sta) {
		set16(f, sta, get16(f, sta) & (uint16_t)~(v & SLOT_EVENTS));
		return true;
	}
	old = get16(f, ctl);
	set16(f, ctl, (uint16_t)v);
	f->slot_ctl_writes++;
	if ((get16(f, sta) & PCI_EXP_SLTSTA_PDS) && powered_off((uint16_t)v) && !powered_off(old))
		slot_detach(f);
	return true;
}

void pcim_slot_init(struct pcim_func *port, bool present)
{
	uint8_t e = 0x40;

	pcim_add_cap(port, e, PCI_CAP_ID_EXP, 0x3c);
	port->slot_exp = e;
	pcim_put16(port, e + PCI_EXP_FLAGS, PCI_EXP_TYPE_ROOT_PORT << 4 | PCI_EXP_FLAGS_SLOT | 2);
	pcim_put32(port, e + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_DLLLARC);
	pcim_put32(port, e + PCI_EXP_SLTCAP,
		   PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP | PCI_EXP_SLTCAP_HPC);
	pcim_put16(port, e + PCI_EXP_SLTCTL,
		   present ? PCI_EXP_SLTCTL_PIC_ON : PCI_EXP_SLTCTL_PIC_OFF | PCI_EXP_SLTCTL_PCC);
	pcim_put16(port, e + PCI_EXP_SLTSTA, present ? PCI_EXP_SLTSTA_PDS : 0);
	pcim_put16(port, e + PCI_EXP_LNKSTA, present ? PCI_EXP_LNKSTA_DLLLA : 0);
}

void pcim_slot_button(struct pcim_func *port)
{
	unsigned sta = port->slot_exp + PCI_EXP_SLTSTA;

	set16(port, sta, get16(port, sta) | PCI_EXP_SLTSTA_ABP);
}

void pcim_slot_inserted(struct pcim_func *port)
{
	unsigned sta = port->slot_exp + PCI_EXP_SLTSTA;

	set16(port, sta, get16(port, sta) | PCI_EXP_SLTSTA_PDS | PCI_EXP_SLTSTA_PDC |
			 PCI_EXP_SLTSTA_ABP);
	set16(port, port->slot_exp + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA);
}

void pcim_slot_yank(struct pcim_func *port)
{
	slot_detach(port);
}

static void ecam_write(void *ctx, uintptr_t off, uint32_t v, unsigned width)
{
	struct pcim_func *f = func_at((unsigned)(off >> 20), (unsigned)(off >> 15) & 31,
				      (unsigned)(off >> 12) & 7);
	unsigned reg = (unsigned)off & 0xfff;
	bool bridge;

	(void)ctx;
	if (!f || reg >= 256 || (reg & (width - 1)))
		return;
	if (slot_write(f, reg, v, width))
		return;
	bridge = (f->cfg[PCI_HEADER_TYPE] & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE;
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + (bridge ? 8u : 24u)) {
		if (width == 4)
			bar_write(f, (reg - PCI_BAR0) / 4, v);
		return;
	}
	for (unsigned i = 0; i < width; i++) {
		unsigned o = reg + i;
		uint8_t b = (uint8_t)(v >> (8 * i));

		if (!writable(f, o))
			continue;
		/* The window registers' low nibble says what the bridge decodes: read-only. */
		if (bridge && (o == PCI_IO_BASE || o == PCI_IO_LIMIT || o == PCI_PREF_MEMORY_BASE ||
			       o == PCI_PREF_MEMORY_LIMIT))
			b = (uint8_t)((b & 0xf0) | (f->cfg[o] & 0x0f));
		f->cfg[o] = b;
	}
}

/* ------------------------------------------------------------------ */
/* The virtio registers behind the BARs */

/* 4.1.5.1.2: a vector the device cannot take reads back as NO_VECTOR. */
static uint16_t take_vector(const struct pcim_virtio *v, uint32_t val)
{
	return val < v->msix_accept ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
}

static bool msix_on(const struct pcim_virtio *v)
{
	return v->msix_ctrl && (v->msix_ctrl[1] & (PCI_MSIX_FLAGS_ENABLE >> 8));
}

static uint32_t common_read(struct pcim_virtio *v, unsigned off)
{
	unsigned q = v->qsel;
	bool qok = q < PCIM_MAX_QUEUES && q < v->numq;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return v->dfsel;
	case VIRTIO_PCI_COMMON_DF:
		return v->dfsel == 0 ? (uint32_t)v->features :
		       v->dfsel == 1 ? (uint32_t)(v->features >> 32) : 0;
	case VIRTIO_PCI_COMMON_GFSELECT: return v->gfsel;
	case VIRTIO_PCI_COMMON_MSIX: return v->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ: return v->numq;
	case VIRTIO_PCI_COMMON_STATUS: return v->status;
	case VIRTIO_PCI_COMMON_CFGGENERATION: return v->generation;
	case VIRTIO_PCI_COMMON_Q_SELECT: return v->qsel;
	case VIRTIO_PCI_COMMON_Q_SIZE: return qok ? v->qsize[q] : 0;
	case VIRTIO_PCI_COMMON_Q_MSIX: return qok ? v->qvector[q] : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE: return qok ? v->qenable[q] : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF: return qok ? v->qnoff[q] : 0;
	case VIRTIO_PCI_COMMON_Q_RESET: return qok ? v->qreset[q] : 0;
	default: return 0;
	}
}

static void device_reset(struct pcim_virtio *v)
{
	v->status = 0;
	v->isr = 0;
	for (unsigned q = 0; q < PCIM_MAX_QUEUES; q++) {
		v->qenable[q] = 0;
		v->qsize[q] = v->qmax[q];
		v->qpfn[q] = 0;
		v->qvector[q] = VIRTIO_MSI_NO_VECTOR;
	}
}

static void set64(uint64_t *p, unsigned half, uint32_t v)
{
	*p = half ? (*p & 0xffffffffu) | (uint64_t)v << 32 : (*p & ~0xffffffffull) | v;
}

static void common_write(struct pcim_virtio *v, unsigned off, uint32_t val)
{
	unsigned q = v->qsel;
	bool qok = q < PCIM_MAX_QUEUES && q < v->numq;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: v->dfsel = val; break;
	case VIRTIO_PCI_COMMON_GFSELECT: v->gfsel = val; break;
	case VIRTIO_PCI_COMMON_GF:
		if (v->gfsel < 2)
			set64(&v->driver_features, v->gfsel, val);
		break;
	case VIRTIO_PCI_COMMON_MSIX: v->config_vector = take_vector(v, val); break;
	case VIRTIO_PCI_COMMON_STATUS:
		if (val == 0)
			device_reset(v);
		else
			v->status = (uint8_t)val;
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT: v->qsel = (uint16_t)val; break;
	default:
		if (!qok) {
			v->bad_accesses++;
			break;
		}
		if (off == VIRTIO_PCI_COMMON_Q_SIZE)
			v->qsize[q] = (uint16_t)val;
		else if (off == VIRTIO_PCI_COMMON_Q_MSIX)
			v->qvector[q] = take_vector(v, val);
		else if (off == VIRTIO_PCI_COMMON_Q_ENABLE)
			v->qenable[q] = (uint16_t)val;
		else if (off == VIRTIO_PCI_COMMON_Q_RESET && val == 1)
			v->qenable[q] = 0; /* done at once: reads 0 again */
		else if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_Q_AVAILLO)
			set64(&v->qdesc[q], (off - VIRTIO_PCI_COMMON_Q_DESCLO) / 4, val);
		else if (off >= VIRTIO_PCI_COMMON_Q_AVAILLO && off < VIRTIO_PCI_COMMON_Q_USEDLO)
			set64(&v->qavail[q], (off - VIRTIO_PCI_COMMON_Q_AVAILLO) / 4, val);
		else if (off >= VIRTIO_PCI_COMMON_Q_USEDLO && off < VIRTIO_PCI_COMMON_Q_NDATA)
			set64(&v->qused[q], (off - VIRTIO_PCI_COMMON_Q_USEDLO) / 4, val);
		else
			v->bad_accesses++;
	}
}

static uint32_t modern_read(struct pcim_virtio *v, uint64_t off, unsigned width)
{
	uint32_t r = 0;

	if (off < PCIM_ISR_OFF)
		return common_read(v, (unsigned)off);
	if (off < PCIM_DEVICE_OFF) {
		r = v->isr; /* 4.1.4.5: read to clear */
		v->isr = 0;
		return r;
	}
	if (off < PCIM_NOTIFY_OFF && off - PCIM_DEVICE_OFF + width <= sizeof(v->devcfg)) {
		for (unsigned i = 0; i < width; i++)
			r |= (uint32_t)v->devcfg[off - PCIM_DEVICE_OFF + i] << (8 * i);
		return r;
	}
	v->bad_accesses++;
	return 0;
}

static void modern_write(struct pcim_virtio *v, uint64_t off, uint32_t val, unsigned width)
{
	if (off < PCIM_ISR_OFF) {
		common_write(v, (unsigned)off, val);
	} else if (off >= PCIM_NOTIFY_OFF && off + width <= PCIM_NOTIFY_OFF + PCIM_NOTIFY_LEN) {
		v->notifies++;
		v->last_notify_off = (uint32_t)(off - PCIM_NOTIFY_OFF);
		v->last_notify = (uint16_t)val;
	} else if (off >= PCIM_DEVICE_OFF && off < PCIM_NOTIFY_OFF &&
		   off - PCIM_DEVICE_OFF + width <= sizeof(v->devcfg)) {
		for (unsigned i = 0; i < width; i++)
			v->devcfg[off - PCIM_DEVICE_OFF + i] = (uint8_t)(val >> (8 * i));
	} else {
		v->bad_accesses++;
	}
}

static uint32_t legacy_read(struct pcim_virtio *v, uint64_t off, unsigned width)
{
	unsigned q = v->qsel;
	bool qok = q < PCIM_MAX_QUEUES && q < v->numq;
	uint32_t r;
	unsigned cfg;

	switch (off) {
	case VIRTIO_PCI_LEGACY_HOST_FEATURES: return (uint32_t)v->features;
	case VIRTIO_PCI_LEGACY_GUEST_FEATURES: return (uint32_t)v->driver_features;
	case VIRTIO_PCI_LEGACY_QUEUE_PFN: return qok ? v->qpfn[q] : 0;
	case VIRTIO_PCI_LEGACY_QUEUE_NUM: return qok ? v->qmax[q] : 0;
	case VIRTIO_PCI_LEGACY_QUEUE_SEL: return v->qsel;
	case VIRTIO_PCI_LEGACY_STATUS: return v->status;
	case VIRTIO_PCI_LEGACY_ISR:
		r = v->isr;
		v->isr = 0;
		return r;
	default:
		/* 4.1.4.8: with MSI-X on, two vector registers, then the configuration at 24 */
		if (msix_on(v) && off == VIRTIO_MSI_LEGACY_CONFIG_VECTOR)
			return v->config_vector;
		if (msix_on(v) && off == VIRTIO_MSI_LEGACY_QUEUE_VECTOR)
			return qok ? v->qvector[q] : VIRTIO_MSI_NO_VECTOR;
		cfg = msix_on(v) ? VIRTIO_PCI_LEGACY_CONFIG_MSIX : VIRTIO_PCI_LEGACY_CONFIG;
		if (off >= cfg && off - cfg + width <= 12) {
			r = 0;
			for (unsigned i = 0; i < width; i++)
				r |= (uint32_t)v->devcfg[off - cfg + i] << (8 * i);
			return r;
		}
		v->bad_accesses++;
		return 0;
	}
}

static void legacy_write(struct pcim_virtio *v, uint64_t off, uint32_t val)
{
	unsigned q = v->qsel;

	switch (off) {
	case VIRTIO_PCI_LEGACY_GUEST_FEATURES: v->driver_features = val; break;
	case VIRTIO_PCI_LEGACY_QUEUE_PFN:
		if (q < PCIM_MAX_QUEUES && q < v->numq)
			v->qpfn[q] = val;
		break;
	case VIRTIO_PCI_LEGACY_QUEUE_SEL: v->qsel = (uint16_t)val; break;
	case VIRTIO_PCI_LEGACY_QUEUE_NOTIFY:
		v->notifies++;
		v->last_notify = (uint16_t)val;
		break;
	case VIRTIO_PCI_LEGACY_STATUS:
		if (val == 0)
			device_reset(v);
		else
			v->status = (uint8_t)val;
		break;
	default:
		if (msix_on(v) && off == VIRTIO_MSI_LEGACY_CONFIG_VECTOR) {
			v->config_vector = take_vector(v, val);
		} else if (msix_on(v) && off == VIRTIO_MSI_LEGACY_QUEUE_VECTOR) {
			if (q < PCIM_MAX_QUEUES && q < v->numq)
				v->qvector[q] = take_vector(v, val);
		} else {
			v->bad_accesses++;
		}
		break;
	}
}

/* The function and BAR that decode PCI address a of this kind, with decoding on. */
static struct pcim_func *bar_owner(uint64_t a, bool io, unsigned *bar, uint64_t *off)
{
	for (unsigned i = 0; i < PCIM_MAX_FUNCS; i++) {
		struct pcim_func *f = &funcs[i];
		uint16_t cmd = pcim_cfg16(f, PCI_COMMAND);

		if (!f->used || !f->vio || pcim_bus(f) < 0 ||
		    !(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
			continue;
		for (unsigned b = 0; b < 6; b++) {
			uint64_t base = pcim_bar_addr(f, b);

			if (f->bar[b].size && f->bar[b].io == io && base && a >= base &&
			    a - base < f->bar[b].size) {
				*bar = b;
				*off = a - base;
				return f;
			}
		}
	}
	return NULL;
}

/*
 * The virtio model behind window address ctx + off (ctx: the window's PCI
 * address, 0 for I/O space), or NULL (reported) when no BAR decodes it.
 */
static struct pcim_virtio *window_target(void *ctx, uintptr_t off, const char *what,
					 unsigned width, uint64_t *boff, uint32_t **msix)
{
	uint64_t pci = (uint64_t)(uintptr_t)ctx + off;
	unsigned bar;
	struct pcim_func *f = bar_owner(pci, ctx == NULL, &bar, boff);

	*msix = NULL;
	if (!f && unplugged) {
		stray++;
		return NULL;
	}
	if (!f) {
		sim_error("pci: %s%u of %#llx: no BAR there", what, width * 8,
			  (unsigned long long)pci);
		return NULL;
	}
	if (bar == PCIM_MSIX_BAR && f->vio->msix_ctrl) {
		/* the MSI-X table: 32-bit accesses to its entries only */
		if (width != 4 || (*boff & 3) || *boff >= sizeof(f->msix_table)) {
			f->vio->bad_accesses++;
			*msix = &f->msix_table[0][0]; /* a harmless target; counted */
			*boff = (uint64_t)-1;
		} else {
			*msix = &f->msix_table[*boff / 16][(*boff % 16) / 4];
		}
	}
	return f->vio;
}

static uint32_t window_read(void *ctx, uintptr_t off, unsigned width)
{
	uint64_t boff;
	uint32_t *msix;
	struct pcim_virtio *v = window_target(ctx, off, "read", width, &boff, &msix);

	if (!v)
		return 0xffffffffu;
	if (msix)
		return boff == (uint64_t)-1 ? 0 : *msix;
	return v->legacy ? legacy_read(v, boff, width) : modern_read(v, boff, width);
}

static void window_write(void *ctx, uintptr_t off, uint32_t val, unsigned width)
{
	uint64_t boff;
	uint32_t *msix;
	struct pcim_virtio *v = window_target(ctx, off, "write", width, &boff, &msix);

	if (!v)
		return;
	if (msix) {
		if (boff != (uint64_t)-1)
			*msix = val;
		return;
	}
	if (v->legacy)
		legacy_write(v, boff, val);
	else
		modern_write(v, boff, val, width);
}

void pcim_reset(void)
{
	/* ctx is the PCI address of the region's start (0 for I/O space). */
	const struct sim_region r[] = {
		{ PCIM_ECAM, PCIM_BUSES << 20, ecam_read, ecam_write, NULL },
		{ PCIM_IO_CPU, PCIM_IO_SIZE, window_read, window_write, (void *)0 },
		{ PCIM_MEM32, PCIM_MEM32_SIZE, window_read, window_write, (void *)(uintptr_t)PCIM_MEM32 },
		{ (uintptr_t)PCIM_MEM64, (uintptr_t)PCIM_MEM64_SIZE, window_read, window_write,
		  (void *)(uintptr_t)PCIM_MEM64 },
	};

	memset(funcs, 0, sizeof(funcs));
	unplugged = false;
	stray = 0;
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		sim_region_add(&r[i]);
}

void pcim_unplug(struct pcim_func *f)
{
	f->used = false;
	unplugged = true;
}

unsigned pcim_stray_accesses(void)
{
	return stray;
}

struct pcim_func *pcim_add(int parent, uint8_t dev, uint8_t fn, uint16_t vendor,
			   uint16_t device, uint8_t header_type)
{
	for (unsigned i = 0; i < PCIM_MAX_FUNCS; i++) {
		struct pcim_func *f = &funcs[i];

		if (f->used)
			continue;
		memset(f, 0, sizeof(*f));
		f->used = true;
		f->parent = parent;
		f->dev = dev;
		f->fn = fn;
		pcim_put16(f, PCI_VENDOR_ID, vendor);
		pcim_put16(f, PCI_DEVICE_ID, device);
		pcim_put8(f, PCI_HEADER_TYPE, header_type);
		if ((header_type & PCI_HEADER_TYPE_MASK) == PCI_HEADER_TYPE_BRIDGE) {
			pcim_put16(f, PCI_CLASS_REVISION + 2, PCI_CLASS_BRIDGE_PCI);
			pcim_put8(f, PCI_IO_BASE, PCI_BRIDGE_IO_32);
			pcim_put8(f, PCI_IO_LIMIT, PCI_BRIDGE_IO_32);
			pcim_put16(f, PCI_PREF_MEMORY_BASE, PCI_BRIDGE_PREF_64);
			pcim_put16(f, PCI_PREF_MEMORY_LIMIT, PCI_BRIDGE_PREF_64);
		}
		return f;
	}
	return NULL;
}

void pcim_set_bar(struct pcim_func *f, unsigned i, uint64_t size, bool io, bool is64, bool pref)
{
	f->bar[i] = (struct pcim_bar){ .size = size, .io = io, .is64 = is64, .pref = pref };
}

void pcim_add_cap(struct pcim_func *f, uint8_t pos, uint8_t id, uint8_t len)
{
	unsigned p = f->cfg[PCI_CAPABILITY_LIST], last = 0, guard = 0;

	while (p && guard++ < 64) {
		last = p;
		p = f->cfg[p + 1];
	}
	if (last)
		f->cfg[last + 1] = pos;
	else
		f->cfg[PCI_CAPABILITY_LIST] = pos;
	pcim_put16(f, PCI_STATUS, pcim_cfg16(f, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	f->cfg[pos] = id;
	f->cfg[pos + 1] = 0;
	f->cfg[pos + 2] = len;
}

/* A virtio capability (4.1.4) of type at pos, naming [off, off + len) of BAR4. */
static void virtio_cap(struct pcim_func *f, uint8_t pos, uint8_t type, uint32_t off, uint32_t len,
		       uint8_t caplen)
{
	pcim_add_cap(f, pos, PCI_CAP_ID_VNDR, caplen);
	f->cfg[pos + VIRTIO_PCI_CAP_CFG_TYPE] = type;
	f->cfg[pos + VIRTIO_PCI_CAP_BAR] = PCIM_VIO_BAR;
	pcim_put32(f, pos + VIRTIO_PCI_CAP_OFFSET, off);
	pcim_put32(f, pos + VIRTIO_PCI_CAP_LENGTH, len);
}

static void virtio_queues(struct pcim_virtio *v, uint16_t numq)
{
	v->numq = numq;
	for (unsigned q = 0; q < PCIM_MAX_QUEUES; q++) {
		v->qmax[q] = 64;
		v->qsize[q] = 64;
		v->qnoff[q] = (uint16_t)q;
		v->qvector[q] = VIRTIO_MSI_NO_VECTOR;
	}
	v->config_vector = VIRTIO_MSI_NO_VECTOR;
}

struct pcim_func *pcim_add_virtio(uint8_t dev, uint32_t virtio_id, uint16_t numq)
{
	struct pcim_func *f = pcim_add(-1, dev, 0, PCI_VENDOR_ID_REDHAT_QUMRANET,
				       (uint16_t)(VIRTIO_PCI_DEVICE_ID_MODERN_BASE + virtio_id), 0);

	pcim_put16(f, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID_REDHAT_QUMRANET);
	pcim_put16(f, PCI_SUBSYSTEM_ID, (uint16_t)virtio_id);
	pcim_put8(f, PCI_INTERRUPT_PIN, 1);
	pcim_set_bar(f, PCIM_VIO_BAR, PCIM_VIO_BAR_SIZE, false, true, true);
	virtio_cap(f, 0x40, VIRTIO_PCI_CAP_COMMON_CFG, PCIM_COMMON_OFF, 0x40, 16);
	virtio_cap(f, 0x50, VIRTIO_PCI_CAP_ISR_CFG, PCIM_ISR_OFF, 4, 16);
	virtio_cap(f, 0x60, VIRTIO_PCI_CAP_DEVICE_CFG, PCIM_DEVICE_OFF, 64, 16);
	virtio_cap(f, 0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, PCIM_NOTIFY_OFF, PCIM_NOTIFY_LEN, 20);
	f->vio = &f->vio_state;
	f->vio->notify_mult = 4;
	pcim_put32(f, 0x70 + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
	f->vio->features = 1ull << 32; /* VERSION_1 */
	virtio_queues(f->vio, numq);
	return f;
}

struct pcim_func *pcim_add_virtio_legacy(uint8_t dev, uint32_t virtio_id, uint16_t numq)
{
	struct pcim_func *f = pcim_add(-1, dev, 0, PCI_VENDOR_ID_REDHAT_QUMRANET,
				       (uint16_t)(VIRTIO_PCI_DEVICE_ID_TRANS_FIRST + virtio_id - 1), 0);

	pcim_put16(f, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID_REDHAT_QUMRANET);
	pcim_put16(f, PCI_SUBSYSTEM_ID, (uint16_t)virtio_id);
	pcim_put8(f, PCI_INTERRUPT_PIN, 1);
	pcim_set_bar(f, 0, 32, true, false, false);
	f->vio = &f->vio_state;
	f->vio->legacy = true;
	virtio_queues(f->vio, numq);
	return f;
}

void pcim_add_msix(struct pcim_func *f, uint8_t pos, unsigned n, uint32_t table_off,
		   unsigned bir_table, uint32_t pba_off, unsigned bir_pba)
{
	pcim_add_cap(f, pos, PCI_CAP_ID_MSIX, 0);
	pcim_put16(f, pos + PCI_MSIX_FLAGS, (uint16_t)((n - 1) & PCI_MSIX_FLAGS_QSIZE));
	pcim_put32(f, pos + PCI_MSIX_TABLE, table_off | bir_table);
	pcim_put32(f, pos + PCI_MSIX_PBA, pba_off | bir_pba);
	pcim_set_bar(f, PCIM_MSIX_BAR, PCIM_MSIX_BAR_SIZE, false, false, false);
	for (unsigned i = 0; i < PCIM_MSIX_MAX; i++)
		f->msix_table[i][3] = PCI_MSIX_ENTRY_CTRL_MASK; /* masked after reset */
	f->vio->msix_ctrl = &f->cfg[pos + PCI_MSIX_FLAGS];
	f->vio->msix_accept = (uint16_t)n;
}

bool pcim_msix_enabled(const struct pcim_func *f)
{
	return f->vio && msix_on(f->vio);
}
