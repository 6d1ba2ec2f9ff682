/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Calls into the SBI firmware (OpenSBI on QEMU), per the RISC-V SBI
 * specification v1.0: a7 = extension id, a6 = function id, a0..a5 the
 * arguments; a0 = error, a1 = value on return.
 */
#include "riscv.h"

#define SBI_EXT_LEGACY_SET_TIMER 0x00
#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_BASE 0x10
#define SBI_BASE_PROBE_EXTENSION 3
#define SBI_EXT_TIME 0x54494d45     /* "TIME" */
#define SBI_EXT_SRST 0x53525354     /* "SRST" */
#define SBI_SRST_SHUTDOWN 0
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_FAILURE 1

struct sbiret sbi_call(long eid, long fid, long arg0, long arg1, long arg2)
{
	register long a0 __asm__("a0") = arg0;
	register long a1 __asm__("a1") = arg1;
	register long a2 __asm__("a2") = arg2;
	register long a6 __asm__("a6") = fid;
	register long a7 __asm__("a7") = eid;
	struct sbiret r;

	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a6), "r"(a7) : "memory");
	r.error = a0;
	r.value = a1;
	return r;
}

bool sbi_has_extension(long eid)
{
	/* 4.8: probe_extension returns 0 for an absent extension. */
	struct sbiret r = sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, eid, 0, 0);

	return r.error == 0 && r.value != 0;
}

/* What the firmware offers, probed once by sbi_init(). */
static bool has_time, has_putchar, has_srst, has_shutdown;

void sbi_init(void)
{
	has_time = sbi_has_extension(SBI_EXT_TIME);
	has_putchar = sbi_has_extension(SBI_EXT_LEGACY_PUTCHAR);
	has_srst = sbi_has_extension(SBI_EXT_SRST);
	has_shutdown = sbi_has_extension(SBI_EXT_LEGACY_SHUTDOWN);
}

void sbi_set_timer(uint64_t stime_value)
{
	/* 6.1: the TIME extension; the legacy call (5.1) where it is missing. */
	if (has_time)
		sbi_call(SBI_EXT_TIME, 0, (long)stime_value, 0, 0);
	else
		sbi_call(SBI_EXT_LEGACY_SET_TIMER, 0, (long)stime_value, 0, 0);
}

bool sbi_console_putchar(int c)
{
	if (has_putchar)
		sbi_call(SBI_EXT_LEGACY_PUTCHAR, 0, c, 0, 0);
	return has_putchar;
}

void sbi_shutdown(bool failed)
{
	/* 10.1: system reset. QEMU exits 0 either way: the test device comes first. */
	if (has_srst)
		sbi_call(SBI_EXT_SRST, 0, SBI_SRST_SHUTDOWN,
			 failed ? SBI_SRST_REASON_FAILURE : SBI_SRST_REASON_NONE, 0);
	if (has_shutdown)
		sbi_call(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
}
