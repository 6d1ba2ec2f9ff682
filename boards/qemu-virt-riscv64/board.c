/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The qemu-virt-riscv64 board: start-up from the device tree OpenSBI hands
 * over, console, exit, interrupt masking and the DMA region (board.h).
 *
 * Exit statuses: what main returns (0 pass); 1 when the device tree is
 * unusable at start-up; BOARD_EXIT_TRAP (3) after an unexpected trap.
 */
#include <stdio.h>

#include "board.h"
#include "dt_board.h"
#include "riscv.h"

/* Largest device tree we accept (QEMU's is a few KiB). */
#define DTB_MAX_SIZE (2u << 20)

/* sifive,test0 / test1 (QEMU's "finisher"): status in the upper half. */
#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333

unsigned long riscv_boot_hart;

extern char __image_end[];

static struct board_info info;
static uintptr_t finisher;
static uintptr_t dma_start;
static size_t dma_size;
static bool aia; /* the AIA's APLIC and IMSIC instead of the PLIC */

const struct board_info *board_info(void)
{
	return &info;
}

void board_console_write(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* Before the UART is known, the SBI console (if any) stands in. */
		if (ns16550_ready())
			ns16550_putc(buf[i]);
		else
			sbi_console_putchar((unsigned char)buf[i]);
	}
}

int board_console_getc(void)
{
	return ns16550_ready() ? ns16550_getc() : -1;
}

uintptr_t board_irq_save(void)
{
	unsigned long s;

	__asm__ volatile("csrrci %0, sstatus, %1" : "=r"(s) : "i"(SSTATUS_SIE) : "memory");
	return s & SSTATUS_SIE;
}

void board_irq_restore(uintptr_t state)
{
	if (state & SSTATUS_SIE)
		csr_set(sstatus, SSTATUS_SIE);
}

void riscv_exit_now(int code)
{
	uint32_t v;

	csr_clear(sstatus, SSTATUS_SIE);
	if (finisher) {
		/* QEMU exits with the upper 16 bits; keep a failure a failure. */
		if (code == 0)
			v = FINISHER_PASS;
		else if ((code & 0xffff) == 0)
			v = 1u << 16 | FINISHER_FAIL;
		else
			v = (uint32_t)(code & 0xffff) << 16 | FINISHER_FAIL;
		*(volatile uint32_t *)finisher = v;
	}
	/* Without a test device, ask the firmware (QEMU then exits 0 regardless). */
	sbi_shutdown(code != 0);
	for (;;)
		__asm__ volatile("wfi");
}

void board_exit(int code)
{
	riscv_exit_now(code);
}

/* picolibc's exit() and abort() end here. */
void _exit(int code);
void _exit(int code)
{
	riscv_exit_now(code);
}

static void fail(const char *what, int err)
{
	printf("board: %s: %s\n", what, fdt_strerror(err));
	riscv_exit_now(1);
}

/* The test device: sifive,test*, or the register syscon-poweroff points at. */
static int find_finisher(const struct fdt *fdt)
{
	static const char *const test[] = { "sifive,test1", "sifive,test0", NULL };
	static const char *const poweroff[] = { "syscon-poweroff", NULL };
	uint64_t base, size;
	uint32_t regmap, offset = 0;
	int node, err;

	err = dt_find_reg(fdt, test, &base, &size, NULL);
	if (err == FDT_ENOTFOUND) {
		node = dt_find_compatible(fdt, poweroff);
		if (node < 0)
			return node;
		err = fdt_getprop_u32(fdt, node, "regmap", &regmap);
		if (err)
			return err;
		fdt_getprop_u32(fdt, node, "offset", &offset);
		node = fdt_find_phandle(fdt, regmap);
		if (node < 0)
			return node;
		err = fdt_reg(fdt, node, 0, &base, &size);
		base += offset;
		if (!err && offset + 4 > size)
			err = FDT_EBADVALUE;
	}
	if (err)
		return err;
	finisher = (uintptr_t)base;
	return 0;
}

/* The stdout-path node if it is a 16550, else the first 16550. */
static int setup_console(const struct fdt *fdt)
{
	static const char *const compat[] = { "ns16550a", "ns16550", NULL };
	uint64_t base, size;
	int node, err;

	node = dt_stdout_node(fdt);
	if (node >= 0 && (fdt_is_compatible(fdt, node, compat[0]) == 1 ||
			  fdt_is_compatible(fdt, node, compat[1]) == 1))
		err = fdt_reg(fdt, node, 0, &base, &size);
	else
		err = dt_find_reg(fdt, compat, &base, &size, &node);
	if (err)
		return err;
	return ns16550_init(fdt, node, (uintptr_t)base);
}

void board_init(uintptr_t dtb)
{
	struct fdt fdt;
	int err;

	sbi_init();
	info.name = "qemu-virt-riscv64";
	err = fdt_open(&fdt, (const void *)dtb, DTB_MAX_SIZE);
	if (err)
		fail("device tree", err);
	/* The exit path first, so that every later failure reports a status. */
	err = find_finisher(&fdt);
	if (err && err != FDT_ENOTFOUND)
		fail("test device", err);
	err = setup_console(&fdt);
	if (err)
		fail("console (ns16550a)", err);
	err = dt_board_parse(&fdt, dtb, &info);
	if (err)
		fail("memory or virtio-mmio nodes", err);
	err = timer_init(&fdt);
	if (err)
		fail("timebase-frequency", err);
	err = plic_init(&fdt);
	if (err == FDT_ENOTFOUND) {
		/* -M virt,aia=aplic-imsic: an APLIC for the wires, an IMSIC for MSIs */
		int imsic;

		err = imsic_init(&fdt, &imsic);
		if (err == 0)
			err = aplic_init(&fdt, imsic);
		aia = err == 0;
	}
	if (err)
		fail("interrupt controller (PLIC, or AIA's APLIC and IMSIC)", err);
	err = dt_free_ram(&fdt, &info, (uintptr_t)__image_end, &dma_start, &dma_size);
	if (err)
		fail("no free RAM after the image", err);

	csr_set(sstatus, SSTATUS_SIE);
}

int board_irq_attach(int irq, void (*handler)(void *arg), void *arg)
{
	return aia ? aplic_irq_attach(irq, handler, arg) : plic_irq_attach(irq, handler, arg);
}

void board_irq_detach(int irq, void *arg)
{
	if (aia)
		aplic_irq_detach(irq, arg);
	else
		plic_irq_detach(irq, arg);
}

void board_irq_mask(int irq)
{
	if (aia)
		aplic_irq_mask(irq);
	else
		plic_irq_mask(irq);
}

/* The supervisor external interrupt (trap.c). */
void riscv_external_irq(void)
{
	if (aia)
		imsic_dispatch();
	else
		plic_dispatch();
}

uint64_t board_addr_limit(void)
{
	/* S-mode without translation (satp bare): every physical address */
	return UINTPTR_MAX;
}

void board_dma_region(uintptr_t *start, size_t *size)
{
	*start = dma_start;
	*size = dma_size;
}
