/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boot hart's supervisor-level interrupt file of an IMSIC (RISC-V
 * Advanced Interrupt Architecture 1.0, chapter 3), which QEMU's virt has
 * with -M virt,aia=aplic-imsic. A device (or the APLIC, for wired
 * interrupts) raises interrupt identity N by writing N to the file's
 * seteipnum_le register, the first word of the file's 4 KiB page; the hart
 * takes it as a supervisor external interrupt and claims it through stopei.
 * The file's own registers are reached through siselect / sireg.
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "dt_board.h"
#include "riscv.h"

/*
 * AIA 2.3 and 3.8: the S-mode CSRs siselect (0x150), sireg (0x151) and
 * stopei (0x15c), written by number: older assemblers lack the names.
 */
/* AIA 3.8: the interrupt file's registers behind siselect. */
#define ISEL_EIDELIVERY 0x70
#define ISEL_EITHRESHOLD 0x72
#define ISEL_EIE0 0xc0 /* on RV64 the even ones only: eie0 covers identities 0..63 */
#define FILE_SIZE 0x1000u /* AIA 3.6: one 4 KiB page per interrupt file */
#define TOPEI_ID_SHIFT 16

/* Identities 1..63 (eie0): plenty for a board's devices. */
#define MAX_IDS 64

#define EINVAL_ (-22)
#define ENOSPC_ (-28)

struct handler {
	void (*fn)(void *arg);
	void *arg;
};

static uintptr_t file;
static uint32_t hart_index;
static unsigned nids; /* identities 1..nids-1 are used */
static unsigned ipi_id;
static struct handler handlers[MAX_IDS];

#define CSR_OP(op, num, v) __asm__ volatile(op " " #num ", %0" ::"r"(v) : "memory")
#define CSRW(num, v) CSR_OP("csrw", num, v)
#define CSRS(num, v) CSR_OP("csrs", num, v)
#define CSRC(num, v) CSR_OP("csrc", num, v)
#define SISELECT 0x150
#define SIREG 0x151

static void iwrite(unsigned long sel, unsigned long v)
{
	CSRW(SISELECT, sel);
	CSRW(SIREG, v);
}

static void ie(unsigned id, int on)
{
	unsigned long bit = 1ul << id;

	CSRW(SISELECT, (unsigned long)ISEL_EIE0);
	if (on)
		CSRS(SIREG, bit);
	else
		CSRC(SIREG, bit);
}

int imsic_init(const struct fdt *fdt, int *node_out)
{
	uint64_t base, size;
	uint32_t num_ids, ipi = 0, idx;
	int node = -1, err;

	/* The S-level IMSIC: its interrupts-extended names the harts' S external interrupt. */
	for (;;) {
		node = fdt_find_compatible(fdt, node, "riscv,imsics");
		if (node < 0)
			return node;
		if (fdt_is_enabled(fdt, node) && riscv_hart_context(fdt, node, &idx) == 0)
			break;
	}
	err = fdt_reg(fdt, node, 0, &base, &size);
	if (err)
		return err;
	err = fdt_getprop_u32(fdt, node, "riscv,num-ids", &num_ids);
	if (err)
		return err;
	(void)fdt_getprop_u32(fdt, node, "riscv,ipi-id", &ipi);
	/* One file per hart, in the order of interrupts-extended (no guest files). */
	if (num_ids < 63 || (uint64_t)(idx + 1) * FILE_SIZE > size)
		return FDT_EBADVALUE;
	file = (uintptr_t)(base + (uint64_t)idx * FILE_SIZE);
	hart_index = idx;
	nids = MAX_IDS;
	ipi_id = ipi;
	*node_out = node;

	/* AIA 3.8: every identity off, then deliver all of them (threshold 0). */
	CSRW(SISELECT, (unsigned long)ISEL_EIE0);
	CSRW(SIREG, 0ul);
	iwrite(ISEL_EITHRESHOLD, 0);
	iwrite(ISEL_EIDELIVERY, 1);
	csr_set(sie, SIE_SEIE);
	return 0;
}

uint64_t imsic_msi_addr(void)
{
	return file;
}

uint32_t imsic_hart_index(void)
{
	return hart_index;
}

int imsic_alloc(void (*handler)(void *arg), void *arg)
{
	uintptr_t s;
	unsigned id;

	if (!file || !handler)
		return EINVAL_;
	s = board_irq_save();
	for (id = 1; id < nids && (handlers[id].fn || id == ipi_id); id++)
		;
	if (id == nids) {
		board_irq_restore(s);
		return ENOSPC_;
	}
	handlers[id].fn = handler;
	handlers[id].arg = arg;
	ie(id, 1);
	board_irq_restore(s);
	return (int)id;
}

void imsic_free(int id)
{
	uintptr_t s;

	if (id < 1 || (unsigned)id >= nids)
		return;
	s = board_irq_save();
	ie((unsigned)id, 0);
	handlers[id].fn = NULL;
	handlers[id].arg = NULL;
	board_irq_restore(s);
}

/* Supervisor external interrupt: claim the top identity until none is left (AIA 3.9). */
void imsic_dispatch(void)
{
	for (;;) {
		unsigned long topei;
		unsigned id;

		__asm__ volatile("csrrw %0, 0x15c, zero" : "=r"(topei)::"memory");
		id = (unsigned)(topei >> TOPEI_ID_SHIFT);
		if (id == 0)
			return;
		if (id < nids && handlers[id].fn)
			handlers[id].fn(handlers[id].arg);
		else if (id < MAX_IDS)
			ie(id, 0); /* nobody asked for it: silence it rather than storm */
	}
}

int board_msi_attach(void (*handler)(void *arg), void *arg, uint64_t *addr, uint32_t *data)
{
	int id;

	if (!file)
		return -95; /* the PLIC: no MSIs */
	id = imsic_alloc(handler, arg);
	if (id < 0)
		return id;
	/* AIA 3.6: writing the identity to seteipnum_le (offset 0) raises it */
	*addr = file;
	*data = (uint32_t)id;
	return id;
}

void board_msi_detach(int handle)
{
	imsic_free(handle);
}
