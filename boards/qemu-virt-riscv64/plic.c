/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform-level interrupt controller (RISC-V PLIC specification 1.0.0),
 * driven for the S-mode context of the boot hart. Interrupt numbers are PLIC
 * source numbers (the virtio-mmio slots' "interrupts" in the device tree).
 */
#include <stddef.h>

#include "board.h"
#include "irq_share.h"
#include "dt_board.h"
#include "riscv.h"

/* The PLIC specification's memory map. */
#define PRIORITY(src) (0x000000u + 4u * (src))
#define ENABLE(ctx, src) (0x002000u + 0x80u * (ctx) + 4u * ((src) / 32u))
#define THRESHOLD(ctx) (0x200000u + 0x1000u * (ctx))
#define CLAIM(ctx) (0x200004u + 0x1000u * (ctx))

/* Sources we keep a handler for; the PLIC allows 1..1023. */
#define MAX_SOURCES 128

#define EINVAL_ (-22) /* VIO_EINVAL, as board.h promises */

struct handler {
	void (*fn)(void *arg);
	void *arg;
};

static uintptr_t plic;
static uint32_t ctx;
static uint32_t nsources; /* valid sources are 1..nsources */
static struct handler handlers[MAX_SOURCES];

static uint32_t rd(uint32_t off)
{
	return *(volatile uint32_t *)(plic + off);
}

static void wr(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(plic + off) = v;
}

/*
 * The context of the boot hart's S-mode external interrupt: the position in
 * the PLIC's interrupts-extended of the entry <&hart-intc 9> (9: supervisor
 * external) whose interrupt controller belongs to the boot hart's cpu node.
 * OpenSBI overwrites the M-mode entries' cause with 0xffffffff, so entries
 * are read raw rather than decoded. QEMU virt numbers the contexts M0, S0,
 * M1, S1, ... (2 * hart + 1 for S-mode), the fallback for a tree without
 * the property.
 */
int riscv_hart_context(const struct fdt *fdt, int node, uint32_t *out)
{
	const uint8_t *v;
	uint32_t len, pos, i;
	int err;

	err = fdt_getprop(fdt, node, "interrupts-extended", (const void **)&v, &len);
	if (err == FDT_ENOTFOUND) {
		*out = 2 * (uint32_t)riscv_boot_hart + 1;
		return 0;
	}
	if (err)
		return err;
	for (pos = 0, i = 0; len - pos >= 8; i++) {
		uint32_t cells, cause;
		uint64_t hart, size;
		int intc, cpu;

		intc = fdt_find_phandle(fdt, fdt_be32(v + pos));
		if (intc < 0)
			return intc == FDT_ENOTFOUND ? FDT_EBADVALUE : intc;
		err = fdt_getprop_u32(fdt, intc, "#interrupt-cells", &cells);
		if (err)
			return err;
		/* A hart's local interrupt controller takes one cell, the cause. */
		if (cells != 1)
			return FDT_EBADVALUE;
		cause = fdt_be32(v + pos + 4);
		pos += 8;
		if (cause != IRQ_S_EXTERNAL)
			continue;
		cpu = fdt_parent(fdt, intc);
		if (cpu < 0)
			return cpu;
		if (fdt_reg(fdt, cpu, 0, &hart, &size) == 0 && hart == riscv_boot_hart) {
			*out = i;
			return 0;
		}
	}
	return FDT_ENOTFOUND;
}

int plic_init(const struct fdt *fdt)
{
	static const char *const compat[] = { "riscv,plic0", "sifive,plic-1.0.0", NULL };
	uint64_t base, size;
	uint32_t ndev;
	int node, err;

	err = dt_find_reg(fdt, compat, &base, &size, &node);
	if (err)
		return err;
	err = fdt_getprop_u32(fdt, node, "riscv,ndev", &ndev);
	if (err)
		return err;
	if (ndev == 0 || ndev > 1023)
		return FDT_EBADVALUE;
	err = riscv_hart_context(fdt, node, &ctx);
	if (err)
		return err;
	if (ctx > 15871 || THRESHOLD(ctx) + 8 > size)
		return FDT_EBADVALUE;
	plic = (uintptr_t)base;
	nsources = ndev < MAX_SOURCES ? ndev : MAX_SOURCES - 1;

	/* Everything off for this context; then let any priority > 0 through. */
	for (uint32_t src = 0; src <= ndev; src += 32)
		wr(ENABLE(ctx, src), 0);
	for (uint32_t src = 1; src <= nsources; src++)
		wr(PRIORITY(src), 0);
	wr(THRESHOLD(ctx), 0);
	csr_set(sie, SIE_SEIE);
	return 0;
}

static void enable(uint32_t src, bool on)
{
	uint32_t bit = 1u << (src % 32);
	uint32_t v = rd(ENABLE(ctx, src));

	wr(ENABLE(ctx, src), on ? v | bit : v & ~bit);
}

int plic_irq_attach(int irq, void (*handler)(void *arg), void *arg)
{
	uintptr_t s;
	int err = 0;

	if (!plic || irq < 1 || (uint32_t)irq > nsources || !handler)
		return EINVAL_;
	s = board_irq_save();
	if (handlers[irq].fn) {
		/* A shared line (PCI INTx): every handler runs on each interrupt. */
		err = irq_share_add(irq, handler, arg);
		board_irq_restore(s);
		return err;
	}
	handlers[irq].fn = handler;
	handlers[irq].arg = arg;
	wr(PRIORITY(irq), 1);
	enable((uint32_t)irq, true);
	board_irq_restore(s);
	return 0;
}

void plic_irq_mask(int irq)
{
	if (!plic || irq < 1 || (uint32_t)irq > nsources)
		return;
	enable((uint32_t)irq, false);
}

void plic_irq_detach(int irq, void *arg)
{
	uintptr_t s;

	if (!plic || irq < 1 || (uint32_t)irq > nsources)
		return;
	s = board_irq_save();
	if (handlers[irq].fn && handlers[irq].arg != arg) {
		irq_share_remove(irq, arg);
	} else if (!irq_share_take(irq, &handlers[irq].fn, &handlers[irq].arg)) {
		/* The last handler of the line: the line goes quiet. */
		enable((uint32_t)irq, false);
		wr(PRIORITY(irq), 0);
		handlers[irq].fn = NULL;
		handlers[irq].arg = NULL;
	}
	board_irq_restore(s);
}

/* Supervisor external interrupt: claim, handle, complete until none is left. */
void plic_dispatch(void)
{
	for (;;) {
		uint32_t src = rd(CLAIM(ctx));

		if (src == 0)
			break;
		if (src <= nsources && handlers[src].fn) {
			handlers[src].fn(handlers[src].arg);
			irq_share_run((int)src);
		} else {
			/* Nobody asked for it: silence it rather than storm. */
			enable(src, false);
		}
		/* Interrupt completion: write the source back to the claim register. */
		wr(CLAIM(ctx), src);
	}
}
