/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Wired interrupts under the AIA (RISC-V Advanced Interrupt Architecture
 * 1.0, chapter 4): the supervisor-level APLIC domain, in MSI delivery mode
 * as QEMU's virt builds it with -M virt,aia=aplic-imsic (its msi-parent is
 * the S-level IMSIC). Each source the board attaches is level-triggered
 * and sent as an MSI to an IMSIC identity of its own (imsic.c), whose
 * handler runs the line's handlers. The root (M-level) domain, which
 * OpenSBI owns, delegates the sources to this one.
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "irq_share.h"
#include "riscv.h"

/* AIA 4.5: the domain's registers. */
#define DOMAINCFG 0x0000
#define DOMAINCFG_IE (1u << 8)
#define DOMAINCFG_DM (1u << 2) /* MSI delivery mode */
#define SOURCECFG(k) (0x0004u + 4u * ((k) - 1u))
#define SOURCECFG_SM_LEVEL1 6u /* asserted high */
#define SOURCECFG_SM_INACTIVE 0u
#define SETIENUM 0x1edc
#define CLRIENUM 0x1fdc
#define SETIPNUM_LE 0x2000
#define IN_CLRIP(k) (0x1d00u + 4u * ((k) / 32u)) /* reads the rectified inputs */
#define TARGET(k) (0x3004u + 4u * ((k) - 1u))
#define TARGET_HART_SHIFT 18

/* Sources we keep a handler for; the APLIC allows 1..1023. */
#define MAX_SOURCES 128

#define EINVAL_ (-22)

struct line {
	void (*fn)(void *arg);
	void *arg;
	int id; /* its IMSIC identity */
};

static uintptr_t aplic;
static uint32_t nsources;
static struct line lines[MAX_SOURCES];

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(aplic + off) = v;
}

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(aplic + off);
}

int aplic_init(const struct fdt *fdt, int imsic_node)
{
	uint64_t base, size;
	uint32_t parent, n;
	int node = -1, err;

	/* The domain whose MSIs go to the S-level IMSIC. */
	for (;;) {
		node = fdt_find_compatible(fdt, node, "riscv,aplic");
		if (node < 0)
			return node;
		if (fdt_is_enabled(fdt, node) &&
		    fdt_getprop_u32(fdt, node, "msi-parent", &parent) == 0 &&
		    fdt_find_phandle(fdt, parent) == imsic_node)
			break;
	}
	err = fdt_reg(fdt, node, 0, &base, &size);
	if (err)
		return err;
	err = fdt_getprop_u32(fdt, node, "riscv,num-sources", &n);
	if (err)
		return err;
	if (n == 0 || n > 1023 || size < TARGET(n) + 4)
		return FDT_EBADVALUE;
	aplic = (uintptr_t)base;
	nsources = n < MAX_SOURCES ? n : MAX_SOURCES - 1;
	wr(DOMAINCFG, DOMAINCFG_IE | DOMAINCFG_DM);
	return 0;
}

/*
 * The source's MSI: run its handlers. In MSI delivery mode forwarding the
 * interrupt clears its pending bit, and a level source sets it again only
 * when its input rises (AIA 4.7), so a line that is still high after the
 * handlers (another device on it kept it up) is made pending by hand. Its
 * input is read first: QEMU 7.2 takes setipnum even with the input low.
 */
static void line_irq(void *arg)
{
	uint32_t src = (uint32_t)(uintptr_t)arg;

	if (lines[src].fn) {
		lines[src].fn(lines[src].arg);
		irq_share_run((int)src);
	}
	if (rd(IN_CLRIP(src)) & (1u << (src % 32)))
		wr(SETIPNUM_LE, src);
}

int aplic_irq_attach(int irq, void (*handler)(void *arg), void *arg)
{
	uint32_t src = (uint32_t)irq;
	uintptr_t s;
	int id;

	if (!aplic || irq < 1 || src > nsources || !handler)
		return EINVAL_;
	s = board_irq_save();
	if (lines[src].fn) {
		/* A shared line (PCI INTx): every handler runs on each interrupt. */
		int err = irq_share_add(irq, handler, arg);

		board_irq_restore(s);
		return err;
	}
	board_irq_restore(s);
	id = imsic_alloc(line_irq, (void *)(uintptr_t)src);
	if (id < 0)
		return id;
	s = board_irq_save();
	lines[src].fn = handler;
	lines[src].arg = arg;
	lines[src].id = id;
	wr(SOURCECFG(src), SOURCECFG_SM_LEVEL1);
	/* Not delegated to this domain by the root one: the source reads inactive. */
	if (rd(SOURCECFG(src)) != SOURCECFG_SM_LEVEL1) {
		lines[src].fn = NULL;
		board_irq_restore(s);
		imsic_free(id);
		return EINVAL_;
	}
	wr(TARGET(src), imsic_hart_index() << TARGET_HART_SHIFT | (uint32_t)id);
	wr(SETIENUM, src);
	board_irq_restore(s);
	return 0;
}

void aplic_irq_mask(int irq)
{
	if (!aplic || irq < 1 || (uint32_t)irq > nsources)
		return;
	wr(CLRIENUM, (uint32_t)irq);
}

void aplic_irq_detach(int irq, void *arg)
{
	uint32_t src = (uint32_t)irq;
	uintptr_t s;
	int id = 0;

	if (!aplic || irq < 1 || src > nsources)
		return;
	s = board_irq_save();
	if (lines[src].fn && lines[src].arg != arg) {
		irq_share_remove(irq, arg);
	} else if (!irq_share_take(irq, &lines[src].fn, &lines[src].arg)) {
		/* The last handler of the line: the line goes quiet. */
		wr(CLRIENUM, src);
		wr(SOURCECFG(src), SOURCECFG_SM_INACTIVE);
		id = lines[src].id;
		lines[src].fn = NULL;
		lines[src].arg = NULL;
	}
	board_irq_restore(s);
	if (id)
		imsic_free(id);
}
