/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GICv2 ("arm,cortex-a15-gic", "arm,gic-400"): distributor and CPU
 * interface from the device tree, every interrupt to CPU 0. Register
 * offsets and fields from the GIC Architecture Specification v2 (IHI 0048B),
 * 4.1.2 (distributor) and 4.1.3 (CPU interface).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "irq_share.h"
#include "virt.h"

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_ICENABLER 0x180
#define GICD_ICPENDR 0x280
#define GICD_ICACTIVER 0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR 0xc00

#define GICC_CTLR 0x000
#define GICC_PMR 0x004
#define GICC_BPR 0x008
#define GICC_IAR 0x00c
#define GICC_EOIR 0x010

#define GIC_MAX_LINES 1020 /* 1020..1023 are special INTIDs (3.2.5) */
#define GIC_FIRST_PPI 16
#define GIC_FIRST_SPI 32
#define GIC_PRIO_DEFAULT 0xa0
#define GIC_PMR_ALL 0xf0 /* every priority above the lowest passes */

struct gic_line {
	void (*handler)(void *arg);
	void *arg;
};

static uintptr_t gicd, gicc;
static unsigned nlines;
static struct gic_line lines[GIC_MAX_LINES];

/*
 * Bring the GIC to a known state: every line disabled, not pending, not
 * active, default priority, to CPU 0; then both parts on. Without the
 * Security Extensions (QEMU virt unless secure=on) GICD_CTLR bit 0 enables
 * group 0, where every interrupt is after reset, signalled as IRQ.
 */
int gic_init(uintptr_t dist, uintptr_t cpu)
{
	gicd = dist;
	gicc = cpu;
	nlines = 32 * ((mmio_read32(gicd + GICD_TYPER) & 0x1f) + 1);
	if (nlines > GIC_MAX_LINES)
		nlines = GIC_MAX_LINES;

	mmio_write32(gicd + GICD_CTLR, 0);
	for (unsigned i = 0; i < nlines; i += 32) {
		mmio_write32(gicd + GICD_ICENABLER + i / 8, 0xffffffff);
		mmio_write32(gicd + GICD_ICPENDR + i / 8, 0xffffffff);
		mmio_write32(gicd + GICD_ICACTIVER + i / 8, 0xffffffff);
	}
	for (unsigned i = 0; i < nlines; i++) {
		mmio_write8(gicd + GICD_IPRIORITYR + i, GIC_PRIO_DEFAULT);
		if (i >= GIC_FIRST_SPI)
			mmio_write8(gicd + GICD_ITARGETSR + i, 1);
	}
	mmio_write32(gicd + GICD_CTLR, 1);

	mmio_write32(gicc + GICC_PMR, GIC_PMR_ALL);
	mmio_write32(gicc + GICC_BPR, 0);
	mmio_write32(gicc + GICC_CTLR, 1);
	return 0;
}

static int attach(int irq, void (*handler)(void *arg), void *arg, bool edge)
{
	uintptr_t flags;
	unsigned n = (unsigned)irq;

	/* SGIs are for CPUs talking to each other, not devices. */
	if (!gicd || !handler || irq < GIC_FIRST_PPI || n >= nlines)
		return -22;
	flags = board_irq_save();
	if (lines[n].handler) {
		/* A shared line (PCI INTx): every handler runs on each interrupt. */
		int err = n >= GIC_FIRST_SPI && !edge ? irq_share_add(irq, handler, arg) : -22;

		board_irq_restore(flags);
		return err;
	}
	lines[n].handler = handler;
	lines[n].arg = arg;
	if (n >= GIC_FIRST_SPI) {
		/* 4.3.13: two bits per line, bit 1 set = edge-triggered, clear = level-sensitive. */
		uintptr_t cfg = gicd + GICD_ICFGR + (n / 16) * 4;
		uint32_t bit = 2u << ((n % 16) * 2);

		mmio_write32(cfg, edge ? mmio_read32(cfg) | bit : mmio_read32(cfg) & ~bit);
		mmio_write8(gicd + GICD_ITARGETSR + n, 1);
	}
	mmio_write8(gicd + GICD_IPRIORITYR + n, GIC_PRIO_DEFAULT);
	mmio_write32(gicd + GICD_ISENABLER + (n / 32) * 4, 1u << (n % 32));
	board_irq_restore(flags);
	return 0;
}

int board_irq_attach(int irq, void (*handler)(void *arg), void *arg)
{
	return attach(irq, handler, arg, false);
}

int gic_attach_edge(int irq, void (*handler)(void *arg), void *arg)
{
	return attach(irq, handler, arg, true);
}

void board_irq_mask(int irq)
{
	unsigned n = (unsigned)irq;

	if (!gicd || irq < GIC_FIRST_PPI || n >= nlines)
		return;
	/*
	 * A level-sensitive line that stays high is pending again as soon as
	 * it is ended, and gic_dispatch would take it for ever: the
	 * distributor forwards it no more.
	 */
	mmio_write32(gicd + GICD_ICENABLER + (n / 32) * 4, 1u << (n % 32));
}

void board_irq_detach(int irq, void *arg)
{
	uintptr_t flags;
	unsigned n = (unsigned)irq;

	if (!gicd || irq < GIC_FIRST_PPI || n >= nlines)
		return;
	flags = board_irq_save();
	if (lines[n].handler && lines[n].arg != arg) {
		irq_share_remove(irq, arg);
	} else if (!irq_share_take(irq, &lines[n].handler, &lines[n].arg)) {
		/* The last handler of the line: the line goes quiet. */
		mmio_write32(gicd + GICD_ICENABLER + (n / 32) * 4, 1u << (n % 32));
		lines[n].handler = NULL;
		lines[n].arg = NULL;
	}
	board_irq_restore(flags);
}

/*
 * Called from the IRQ vector: acknowledge, run the handler, end the
 * interrupt, until the CPU interface has nothing left (3.2.5: the IAR read
 * returns a spurious INTID then). A line without a handler is disabled so
 * that it cannot storm.
 */
void gic_dispatch(void)
{
	for (;;) {
		uint32_t iar = mmio_read32(gicc + GICC_IAR);
		unsigned id = iar & 0x3ff;

		if (id >= GIC_MAX_LINES)
			return;
		if (id < nlines && lines[id].handler) {
			lines[id].handler(lines[id].arg);
			irq_share_run((int)id);
		} else if (id < nlines)
			mmio_write32(gicd + GICD_ICENABLER + (id / 32) * 4, 1u << (id % 32));
		mmio_write32(gicc + GICC_EOIR, iar);
	}
}
