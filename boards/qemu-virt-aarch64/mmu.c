/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Identity map: 4 KiB granule, 39-bit virtual addresses, so translation
 * starts at level 1 with one table of 512 entries of 1 GiB blocks (Arm ARM
 * D8.2). RAM is Normal write-back cacheable, inner shareable; the rest is
 * Device-nGnRE and never executable.
 *
 * Two places get finer tables, to turn common bugs into faults:
 *  - the image itself, in 4 KiB pages: code read-only and executable,
 *    read-only data, everything written never executable, and an unmapped
 *    guard page below the stack, so that an overflow faults instead of
 *    running down through the image;
 *  - the lowest 2 MiB of the address space are unmapped, so that a NULL
 *    pointer faults (QEMU virt has only boot flash there).
 *
 * mmu_init runs before the C library may be used: the MMU is off, every
 * access is Device memory, so this file makes only aligned accesses and
 * calls nothing. RAM is known only once the device tree is parsed: the map
 * starts with the GiB holding the image (and the one holding the device
 * tree) as RAM, and board_init adds the rest with mmu_map_ram.
 */
#include <stdint.h>

#include "virt.h"

#define VA_BITS 39
#define ENTRIES 512u
#define L1_SHIFT 30 /* 1 GiB */
#define L2_SHIFT 21 /* 2 MiB */
#define L3_SHIFT 12 /* 4 KiB */
#define L3_TABLES 4 /* the image may span 8 MiB (link.ld checks) */

/* Descriptors (D8.3) */
#define DESC_BLOCK 0x1ull /* level 1 and 2 */
#define DESC_TABLE 0x3ull /* level 1 and 2 */
#define DESC_PAGE 0x3ull  /* level 3 */
#define DESC_ATTR(i) ((uint64_t)(i) << 2)
#define DESC_RO (2ull << 6) /* AP[2:1] = 0b10: EL1 read-only */
#define DESC_SH_INNER (3ull << 8)
#define DESC_AF (1ull << 10)
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)

/* MAIR_EL1 slots */
#define ATTR_DEVICE 0 /* 0x04: Device-nGnRE */
#define ATTR_NORMAL 1 /* 0xff: Normal, inner/outer write-back, read/write-allocate */
#define MAIR_VALUE ((0x04ull << (8 * ATTR_DEVICE)) | (0xffull << (8 * ATTR_NORMAL)))

#define DEVICE (DESC_ATTR(ATTR_DEVICE) | DESC_AF | DESC_PXN | DESC_UXN)
#define NORMAL (DESC_ATTR(ATTR_NORMAL) | DESC_SH_INNER | DESC_AF | DESC_UXN)
#define NORMAL_DATA (NORMAL | DESC_PXN)
#define NORMAL_RODATA (NORMAL | DESC_PXN | DESC_RO)
#define NORMAL_CODE (NORMAL | DESC_RO)

/* TCR_EL1 (D13.2.131): TTBR0 walks only, cacheable inner-shareable walks, 4 KiB */
#define TCR_T0SZ (64 - VA_BITS)
#define TCR_IRGN0_WBWA (1ull << 8)
#define TCR_ORGN0_WBWA (1ull << 10)
#define TCR_SH0_INNER (3ull << 12)
#define TCR_TG0_4K (0ull << 14)
#define TCR_EPD1 (1ull << 23)
#define TCR_IPS_SHIFT 32

/* SCTLR_EL1: RES1 bits of ARMv8.0, then M, C, SA, SA0, I. Alignment checks off. */
#define SCTLR_RES1 0x30d00800ull
#define SCTLR_M (1ull << 0)
#define SCTLR_C (1ull << 2)
#define SCTLR_SA (1ull << 3)
#define SCTLR_SA0 (1ull << 4)
#define SCTLR_I (1ull << 12)

#define ALIGN_DOWN(x, shift) ((x) & ~((1ull << (shift)) - 1))

static uint64_t l1[ENTRIES] __attribute__((aligned(4096)));
static uint64_t l2_low[ENTRIES] __attribute__((aligned(4096)));   /* GiB 0 */
static uint64_t l2_image[ENTRIES] __attribute__((aligned(4096))); /* the image's GiB */
static uint64_t l3_image[L3_TABLES][ENTRIES] __attribute__((aligned(4096)));

/* link.ld: page-aligned boundaries of the image's parts */
extern char __image_start[], __rodata_start[], __data_start[], __stack_guard[], __image_end[];

static uint64_t image_page(uint64_t a)
{
	if (a < (uintptr_t)__image_start || a >= (uintptr_t)__image_end)
		return a | DESC_PAGE | NORMAL_DATA; /* RAM around the image (DMA pool) */
	if (a < (uintptr_t)__rodata_start)
		return a | DESC_PAGE | NORMAL_CODE;
	if (a < (uintptr_t)__data_start)
		return a | DESC_PAGE | NORMAL_RODATA;
	if (a == (uintptr_t)__stack_guard)
		return 0;
	return a | DESC_PAGE | NORMAL_DATA;
}

static void map_image(void)
{
	uint64_t start = (uintptr_t)__image_start, end = (uintptr_t)__image_end;
	uint64_t gib = ALIGN_DOWN(start, L1_SHIFT);
	uint64_t first = ALIGN_DOWN(start, L2_SHIFT);

	for (uint64_t i = 0; i < ENTRIES; i++)
		l2_image[i] = (gib + (i << L2_SHIFT)) | DESC_BLOCK | NORMAL_DATA;
	for (uint64_t t = 0; t < L3_TABLES && first + (t << L2_SHIFT) < end; t++) {
		uint64_t base = first + (t << L2_SHIFT);

		for (uint64_t i = 0; i < ENTRIES; i++)
			l3_image[t][i] = image_page(base + (i << L3_SHIFT));
		l2_image[(base - gib) >> L2_SHIFT] = (uintptr_t)l3_image[t] | DESC_TABLE;
	}
	l1[gib >> L1_SHIFT] = (uintptr_t)l2_image | DESC_TABLE;
}

void mmu_init(uintptr_t dtb)
{
	uint64_t mmfr0, sctlr;

	for (uint64_t i = 0; i < ENTRIES; i++) {
		l1[i] = (i << L1_SHIFT) | DESC_BLOCK | DEVICE;
		l2_low[i] = i ? (i << L2_SHIFT) | DESC_BLOCK | DEVICE : 0;
	}
	l1[0] = (uintptr_t)l2_low | DESC_TABLE;
	map_image();
	if (dtb)
		mmu_map_ram(dtb, 1);

	/* The tables were written with the caches off: drop any stale lines. */
	for (uintptr_t p = (uintptr_t)l1; p < (uintptr_t)(l3_image + L3_TABLES); p += 64)
		__asm__ volatile("dc ivac, %0" : : "r"(p) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");

	/* The physical address size is what the CPU supports (ID_AA64MMFR0_EL1.PARange). */
	sysreg_read(id_aa64mmfr0_el1, mmfr0);
	mmfr0 &= 0xf;
	if (mmfr0 > 5) /* 52-bit output addresses need more than this 4 KiB-granule map */
		mmfr0 = 5;
	sysreg_write(mair_el1, MAIR_VALUE);
	sysreg_write(tcr_el1, TCR_T0SZ | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
				      TCR_TG0_4K | TCR_EPD1 | (mmfr0 << TCR_IPS_SHIFT));
	sysreg_write(ttbr0_el1, (uintptr_t)l1);
	isb();
	__asm__ volatile("tlbi vmalle1\n\tdsb nsh\n\tic iallu\n\tdsb nsh" ::: "memory");
	isb();

	sysreg_read(sctlr_el1, sctlr);
	sctlr |= SCTLR_RES1 | SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_SA0 | SCTLR_I;
	sysreg_write(sctlr_el1, sctlr);
	isb();
}

/*
 * Map [base, base + size) as RAM, a whole GiB at a time; a GiB that already
 * has a table (the image's) keeps it. An entry that changes type goes
 * through break-before-make (D8.14.1): invalid, TLB flushed, then the new
 * block. Called with the MMU off too (mmu_init), where the TLB maintenance
 * is harmless.
 */
void mmu_map_ram(uint64_t base, uint64_t size)
{
	uint64_t end = base + size;

	if (end > (1ull << VA_BITS) || end < base)
		end = 1ull << VA_BITS;
	for (uint64_t a = ALIGN_DOWN(base, L1_SHIFT); a < end; a += 1ull << L1_SHIFT) {
		uint64_t *e = &l1[a >> L1_SHIFT];
		uint64_t want = a | DESC_BLOCK | NORMAL_DATA;

		if ((*e & 3) == DESC_TABLE || *e == want)
			continue;
		*e = 0;
		__asm__ volatile("dsb ishst\n\ttlbi vmalle1\n\tdsb ish\n\tisb" ::: "memory");
		*e = want;
		__asm__ volatile("dsb ishst\n\tisb" ::: "memory");
	}
}
