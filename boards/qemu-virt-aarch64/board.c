/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qemu-virt-aarch64 board: everything it knows comes from the device
 * tree QEMU hands over in x0 (the UART, the GIC, the timer's interrupt, RAM
 * and the virtio-mmio slots); no device address is assumed.
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "dt_board.h"
#include "fdt.h"
#include "virt.h"

#define DAIF_I (1u << 7)
/* The generic timer binding's interrupts: secure phys, phys, virtual, hyp. */
#define TIMER_VIRT_INDEX 2
#define TIMER_VIRT_INTID 27 /* PPI 11, in case the tree has no timer node */

static struct board_info info;
static struct fdt fdt;
static uintptr_t dma_start;
static size_t dma_size;

extern char __image_end[];

static const char *const uart_compats[] = {"arm,pl011", NULL};
static const char *const gic_compats[] = {"arm,cortex-a15-gic", "arm,gic-400",
					   "arm,cortex-a9-gic", "arm,cortex-a7-gic", NULL};
static const char *const gicv3_compats[] = {"arm,gic-v3", NULL};
static const char *const timer_compats[] = {"arm,armv8-timer", NULL};
static const char *const v2m_compats[] = {"arm,gic-v2m-frame", NULL};

/* Before the console is up, the text goes to the semihosting console. */
__attribute__((noreturn)) static void fail(const char *what, int err)
{
	trap_puts("qemu-virt-aarch64: ");
	trap_puts(what);
	if (err) {
		trap_puts(": ");
		trap_puts(fdt_strerror(err));
	}
	trap_puts("\n");
	board_exit(1);
}

static void find_uart(void)
{
	int node = dt_stdout_node(&fdt);
	uint64_t base, size;
	int err;

	/* The UART /chosen names, if it is one this board drives; else the first. */
	if (node >= 0 && fdt_is_compatible(&fdt, node, "arm,pl011") == 1)
		err = fdt_reg(&fdt, node, 0, &base, &size);
	else
		err = dt_find_reg(&fdt, uart_compats, &base, &size, NULL);
	if (err)
		fail("no PL011 UART in the device tree", err);
	pl011_init((uintptr_t)base);
}

static void find_gic(void)
{
	uint64_t dist, cpu, size;
	int node, err;

	err = dt_find_reg(&fdt, gic_compats, &dist, &size, &node);
	if (err == FDT_ENOTFOUND && dt_find_compatible(&fdt, gicv3_compats) >= 0)
		fail("GICv3 is not supported; start QEMU with -M virt,gic-version=2", 0);
	if (err)
		fail("no GICv2 in the device tree", err);
	/* The binding's reg: distributor, then CPU interface (then virtualization parts). */
	err = fdt_reg(&fdt, node, 1, &cpu, &size);
	if (err)
		fail("the GIC node has no CPU interface", err);
	gic_init((uintptr_t)dist, (uintptr_t)cpu);
	/* MSIs, when the GIC has an MSI frame (QEMU's virt does); without one PCI uses INTx. */
	if (dt_find_reg(&fdt, v2m_compats, &dist, &size, NULL) == 0)
		(void)gicv2m_init((uintptr_t)dist);
}

static int timer_intid(void)
{
	int node = dt_find_compatible(&fdt, timer_compats);
	int irq;

	if (node < 0 || dt_irq(&fdt, node, TIMER_VIRT_INDEX, &irq, NULL) != 0)
		return TIMER_VIRT_INTID;
	return irq;
}

void board_init(uintptr_t dtb)
{
	uint64_t gib_end = ((uint64_t)(dtb >> 30) + 1) << 30;
	int err;

	/* An ELF booted by -kernel gets x0 = 0: only the raw image gets a device tree. */
	if (!dtb || !fdt_peek_size((const void *)dtb))
		fail("no device tree in x0 (boot the .bin image, not the .elf)", 0);
	/* Read no further than the GiB that start-up mapped for it. */
	err = fdt_open(&fdt, (const void *)dtb, (size_t)(gib_end - dtb));
	if (err)
		fail("bad device tree", err);
	err = dt_board_parse(&fdt, dtb, &info);
	if (err)
		fail("cannot read RAM and devices from the device tree", err);
	info.name = "qemu-virt-aarch64";
	mmu_map_ram(info.ram_base, info.ram_size);

	find_uart();
	find_gic();
	timer_init(timer_intid());

	err = dt_free_ram(&fdt, &info, (uintptr_t)__image_end, &dma_start, &dma_size);
	if (err)
		fail("no free RAM for DMA", err);

	/* IRQs and SErrors on; FIQs are not used, debug exceptions stay masked. */
	__asm__ volatile("msr daifclr, #6" ::: "memory");
}

const struct board_info *board_info(void)
{
	return &info;
}

uint64_t board_addr_limit(void)
{
	return MMU_VA_LIMIT;
}

void board_dma_region(uintptr_t *start, size_t *size)
{
	*start = dma_start;
	*size = dma_size;
}

uintptr_t board_irq_save(void)
{
	uint64_t daif;

	sysreg_read(daif, daif);
	__asm__ volatile("msr daifset, #2" ::: "memory");
	return (uintptr_t)daif;
}

void board_irq_restore(uintptr_t state)
{
	/* Only the I bit is ours to restore; the others stay as they are. */
	if (!(state & DAIF_I))
		__asm__ volatile("msr daifclr, #2" ::: "memory");
	else
		__asm__ volatile("" ::: "memory");
}

void board_exit(int code)
{
	pl011_flush();
	semihost_exit(code);
}

/* picolibc's exit() and abort() end here. */
void _exit(int code);
void _exit(int code)
{
	board_exit(code);
}
