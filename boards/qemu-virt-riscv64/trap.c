/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trap dispatch: the supervisor timer and external interrupts go to their
 * handlers; anything else is a bug, reported with the registers, and the
 * firmware exits with BOARD_EXIT_TRAP.
 */
#include <stdarg.h>
#include <stdio.h>

#include "board.h"
#include "riscv.h"

/* Privileged spec, table "Supervisor cause register (scause) values". */
static const char *cause_name(unsigned long scause)
{
	static const char *const exceptions[] = {
		[0] = "instruction address misaligned",
		[1] = "instruction access fault",
		[2] = "illegal instruction",
		[3] = "breakpoint",
		[4] = "load address misaligned",
		[5] = "load access fault",
		[6] = "store/AMO address misaligned",
		[7] = "store/AMO access fault",
		[8] = "environment call from U-mode",
		[9] = "environment call from S-mode",
		[12] = "instruction page fault",
		[13] = "load page fault",
		[15] = "store/AMO page fault",
	};
	static const char *const interrupts[] = {
		[1] = "supervisor software interrupt",
		[5] = "supervisor timer interrupt",
		[9] = "supervisor external interrupt",
	};
	unsigned long code = scause & ~SCAUSE_INTERRUPT;
	const char *name = NULL;

	if (scause & SCAUSE_INTERRUPT) {
		if (code < sizeof(interrupts) / sizeof(interrupts[0]))
			name = interrupts[code];
	} else if (code < sizeof(exceptions) / sizeof(exceptions[0])) {
		name = exceptions[code];
	}
	if (!name)
		name = scause & SCAUSE_INTERRUPT ? "unknown interrupt" : "unknown exception";
	return name;
}

static const char *const reg_names[32] = {
	"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
	"a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
	"s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

/* One piece of the report, to the UART and the program's fault sink (board_fault_write). */
static void report(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (n > 0)
		board_fault_write(buf, (size_t)n);
}

static void fatal(const struct trap_frame *f)
{
	static volatile int depth;

	/* A fault while reporting one: leave without printing again. */
	if (depth++)
		riscv_exit_now(BOARD_EXIT_TRAP);
	report("\nunexpected trap: %s (scause %#lx)\n", cause_name(f->scause), f->scause);
	report("sepc %016lx stval %016lx sstatus %016lx\n", f->sepc, f->stval, f->sstatus);
	for (int i = 1; i < 32; i++)
		report("%4s %016lx%s", reg_names[i], f->x[i], i % 4 == 3 ? "\n" : "  ");
	board_exit(BOARD_EXIT_TRAP);
}

void riscv_trap(struct trap_frame *f)
{
	if (f->scause & SCAUSE_INTERRUPT) {
		switch (f->scause & ~SCAUSE_INTERRUPT) {
		case IRQ_S_TIMER:
			timer_interrupt();
			return;
		case IRQ_S_EXTERNAL:
			riscv_external_irq();
			return;
		default:
			break;
		}
	}
	fatal(f);
}
