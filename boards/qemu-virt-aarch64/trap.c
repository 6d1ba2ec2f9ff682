/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exceptions the vectors hand to C. An IRQ goes to the GIC. Anything else is
 * a bug: print what the CPU recorded (ESR_EL1 decoded, ELR, FAR, SPSR, the
 * registers) and exit QEMU with VIRT_EXIT_TRAP. The report is formatted
 * here, not with printf, because the fault may have happened inside stdio;
 * it goes to the UART and the program's fault sink (board_fault_write).
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "virt.h"

struct trap_frame {
	uint64_t x[31];
	uint64_t sp;
	uint64_t elr;
	uint64_t spsr;
	uint64_t esr;
	uint64_t far;
};

_Static_assert(sizeof(struct trap_frame) == 288, "vectors.S uses this layout");

void trap_puts(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	board_fault_write(s, n);
}

static void put_hex(uint64_t v, int digits)
{
	char buf[19];
	int i = 0;

	buf[i++] = '0';
	buf[i++] = 'x';
	for (int d = digits - 1; d >= 0; d--)
		buf[i++] = "0123456789abcdef"[(v >> (4 * d)) & 0xf];
	board_fault_write(buf, (size_t)i);
}

static void put_dec(unsigned v)
{
	char buf[10];
	int i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	board_fault_write(buf + i, sizeof(buf) - (size_t)i);
}

static void put_reg(const char *name, uint64_t v)
{
	trap_puts(name);
	trap_puts(" ");
	put_hex(v, 16);
}

/* ESR_EL1.EC (Arm ARM D17.2.37) */
static const char *ec_name(unsigned ec)
{
	switch (ec) {
	case 0x00: return "unknown reason (undefined instruction?)";
	case 0x01: return "trapped WFI/WFE";
	case 0x07: return "FP/SIMD access trapped";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC";
	case 0x16: return "HVC";
	case 0x17: return "SMC";
	case 0x18: return "trapped MSR/MRS/system instruction";
	case 0x20: return "instruction abort from a lower EL";
	case 0x21: return "instruction abort";
	case 0x22: return "PC alignment fault";
	case 0x24: return "data abort from a lower EL";
	case 0x25: return "data abort";
	case 0x26: return "SP alignment fault";
	case 0x2c: return "FP exception";
	case 0x2f: return "SError";
	case 0x30: case 0x31: return "breakpoint";
	case 0x32: case 0x33: return "software step";
	case 0x34: case 0x35: return "watchpoint";
	case 0x3c: return "BRK instruction";
	default: return "exception class not decoded";
	}
}

/* ISS DFSC/IFSC of an abort (D17.2.37) */
static const char *fsc_name(unsigned fsc)
{
	switch (fsc & 0x3c) {
	case 0x00: return "address size fault";
	case 0x04: return "translation fault";
	case 0x08: return "access flag fault";
	case 0x0c: return "permission fault";
	default: break;
	}
	switch (fsc) {
	case 0x10: return "synchronous external abort";
	case 0x21: return "alignment fault";
	case 0x22: return "debug event";
	case 0x30: return "TLB conflict";
	default: return "fault status not decoded";
	}
}

/* "hlt #0xf000", the semihosting trap; undefined when QEMU has no -semihosting */
#define HLT_SEMIHOSTING 0xd45e0000u

extern char __stack_guard[];

static const char *const kind_names[16] = {
	"sync (SP0)", "IRQ (SP0)", "FIQ (SP0)", "SError (SP0)",
	"sync", "IRQ", "FIQ", "SError",
	"sync from lower EL (AArch64)", "IRQ from lower EL (AArch64)",
	"FIQ from lower EL (AArch64)", "SError from lower EL (AArch64)",
	"sync from lower EL (AArch32)", "IRQ from lower EL (AArch32)",
	"FIQ from lower EL (AArch32)", "SError from lower EL (AArch32)",
};

void trap_irq(void)
{
	gic_dispatch();
}

void trap_unexpected(struct trap_frame *f, uint64_t kind)
{
	static int nested;
	unsigned ec = (unsigned)(f->esr >> 26) & 0x3f;

	/*
	 * The report or the exit faulted: try the exit once more, then stop
	 * here (an exit without -semihosting traps again; QEMU must be killed).
	 */
	if (nested++) {
		if (nested == 2)
			semihost_exit(VIRT_EXIT_TRAP);
		for (;;)
			__asm__ volatile("wfi");
	}
	trap_puts("\n*** unexpected exception: ");
	trap_puts(kind_names[kind & 15]);
	trap_puts("\n*** ");
	trap_puts(ec_name(ec));
	trap_puts(" (EC ");
	put_hex(ec, 2);
	trap_puts(")");
	if (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25) {
		trap_puts(": ");
		trap_puts(fsc_name((unsigned)f->esr & 0x3f));
		if (((f->esr & 0x3f) & 0x30) == 0) {
			trap_puts(", level ");
			put_dec((unsigned)f->esr & 3);
		}
		if (ec >= 0x24)
			trap_puts((f->esr & (1u << 6)) ? ", on a write" : ", on a read");
		if (f->far - (uintptr_t)__stack_guard < 4096)
			trap_puts("\n*** stack overflow: the guard page below the stack");
		else if (f->far < (1u << 21))
			trap_puts("\n*** a NULL pointer? (the lowest 2 MiB are unmapped)");
	}
	if (ec == 0x00 && f->elr % 4 == 0 && *(const uint32_t *)f->elr == HLT_SEMIHOSTING)
		trap_puts("\n*** a semihosting call, but QEMU runs without -semihosting:"
			  " the firmware cannot exit by itself");
	trap_puts("\n");
	put_reg("ESR_EL1 ", f->esr);
	put_reg("  ELR_EL1 ", f->elr);
	trap_puts("\n");
	put_reg("FAR_EL1 ", f->far);
	put_reg("  SPSR_EL1", f->spsr);
	trap_puts("\n");
	for (int i = 0; i < 31; i++) {
		char name[4] = {'x', (char)('0' + i / 10), (char)('0' + i % 10), 0};

		if (i < 10) {
			name[1] = (char)('0' + i);
			name[2] = ' ';
		}
		put_reg(name, f->x[i]);
		trap_puts((i % 4 == 3) ? "\n" : "  ");
	}
	put_reg("sp ", f->sp);
	trap_puts("\n");
	semihost_exit(VIRT_EXIT_TRAP);
}
