/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the qemu-virt-riscv64 board's files share: CSR access, the SBI
 * calls, and each part's entry points. Private to this folder.
 */
#ifndef VIO_BOARD_RISCV_H
#define VIO_BOARD_RISCV_H

#include <stdbool.h>
#include <stdint.h>

#include "fdt.h"

/* Privileged spec: sstatus, sie/sip bits and scause. */
#define SSTATUS_SIE (1ul << 1)
#define SIE_STIE (1ul << 5)
#define SIE_SEIE (1ul << 9)
#define SCAUSE_INTERRUPT (1ul << 63)
#define IRQ_S_TIMER 5
#define IRQ_S_EXTERNAL 9

#define csr_read(csr)                                                       \
	__extension__({                                                     \
		unsigned long v_;                                           \
		__asm__ volatile("csrr %0, " #csr : "=r"(v_)::"memory");    \
		v_;                                                         \
	})
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"rK"(v) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"rK"(v) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" ::"rK"(v) : "memory")

/* The hart that runs the firmware (start.S stores it). */
extern unsigned long riscv_boot_hart;

/* sbi.c: calls into OpenSBI (SBI specification v1.0). */
struct sbiret {
	long error;
	long value;
};

struct sbiret sbi_call(long eid, long fid, long arg0, long arg1, long arg2);
bool sbi_has_extension(long eid);
/* Probe the extensions below; first thing at start-up. */
void sbi_init(void);
void sbi_set_timer(uint64_t stime_value);
/* Legacy console output, for messages before the UART is known. */
bool sbi_console_putchar(int c);
/* System reset (shutdown), with a failure reason when failed. */
void sbi_shutdown(bool failed);

/* uart_ns16550.c */
int ns16550_init(const struct fdt *fdt, int node, uintptr_t base);
bool ns16550_ready(void);
void ns16550_putc(char c);
int ns16550_getc(void);

/* board.c: the supervisor external interrupt, to the PLIC's or the IMSIC's dispatch. */
void riscv_external_irq(void);

/* plic.c */
int plic_init(const struct fdt *fdt);
void plic_dispatch(void);
int plic_irq_attach(int irq, void (*handler)(void *arg), void *arg);
void plic_irq_detach(int irq, void *arg);
void plic_irq_mask(int irq);
/*
 * The position, in node's interrupts-extended, of the boot hart's S-mode
 * external interrupt <&hart-intc 9> (a PLIC context, an IMSIC file).
 */
int riscv_hart_context(const struct fdt *fdt, int node, uint32_t *out);

/* imsic.c: the boot hart's S-mode IMSIC interrupt file (AIA). */
int imsic_init(const struct fdt *fdt, int *node);
void imsic_dispatch(void);
/* An interrupt identity routed to handler(arg), enabled; its MSI address. Returns it or < 0. */
int imsic_alloc(void (*handler)(void *arg), void *arg);
void imsic_free(int id);
uint64_t imsic_msi_addr(void);
uint32_t imsic_hart_index(void);

/* aplic.c: the S-mode APLIC domain in MSI delivery mode (AIA), for wired interrupts. */
int aplic_init(const struct fdt *fdt, int imsic_node);
int aplic_irq_attach(int irq, void (*handler)(void *arg), void *arg);
void aplic_irq_detach(int irq, void *arg);
void aplic_irq_mask(int irq);

/* timer.c */
int timer_init(const struct fdt *fdt);
void timer_interrupt(void);

/* trap.c: the trap frame start.S builds. */
struct trap_frame {
	unsigned long x[32]; /* x[0] unused */
	unsigned long sepc;
	unsigned long sstatus;
	unsigned long scause;
	unsigned long stval;
	uint64_t f[32];
	unsigned long fcsr;
	unsigned long pad;
};

void riscv_trap(struct trap_frame *frame);

/* board.c: exit without printing, for the trap handler's last resort. */
void riscv_exit_now(int code) __attribute__((noreturn));

/* Exit status for a fault: an unexpected trap (board_init uses 1). */
#define BOARD_EXIT_TRAP 3

#endif
