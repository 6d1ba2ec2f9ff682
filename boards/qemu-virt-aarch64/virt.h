/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the qemu-virt-aarch64 board: what its parts (start-up, MMU,
 * traps, GIC, timer, UART) say to each other. Programs use boards/common/board.h.
 */
#ifndef VIRT_H
#define VIRT_H

#include <stddef.h>
#include <stdint.h>

/* System registers: a plain mrs/msr, no ordering implied beyond the asm's. */
#define sysreg_read(reg, var) __asm__ volatile("mrs %0, " #reg : "=r"(var))
#define sysreg_write(reg, val) __asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(val)))
#define isb() __asm__ volatile("isb" ::: "memory")

/*
 * Board-internal register access: the registers are mapped Device-nGnRE, so
 * accesses to one peripheral stay in program order; these are single
 * ldr/str instructions, as a trapping hypervisor expects.
 */
static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}

/* Exit status of a firmware that took an exception it did not expect. */
#define VIRT_EXIT_TRAP 3

/* mmu.c: the highest address the identity map covers (39-bit VA) */
#define MMU_VA_LIMIT ((1ull << 39) - 1)
/* mmu.c */
void mmu_init(uintptr_t dtb);
void mmu_map_ram(uint64_t base, uint64_t size);

/* gicv2.c */
int gic_init(uintptr_t dist, uintptr_t cpu);
void gic_dispatch(void);
/* Like board_irq_attach, edge-triggered and never shared (an MSI's SPI). */
int gic_attach_edge(int irq, void (*handler)(void *arg), void *arg);

/* gicv2m.c: the GICv2m MSI frame at frame, its SPIs read from MSI_TYPER. */
int gicv2m_init(uintptr_t frame);

/* timer.c */
void timer_init(int intid);

/* pl011.c */
void pl011_init(uintptr_t base);
void pl011_flush(void);

/* semihost.c: the debugger's console and exit, usable before the UART is known */
void semihost_write0(const char *s);
__attribute__((noreturn)) void semihost_exit(int code);

/* trap.c */
void trap_puts(const char *s);
void trap_irq(void);
struct trap_frame;
void trap_unexpected(struct trap_frame *f, uint64_t kind);

#endif
