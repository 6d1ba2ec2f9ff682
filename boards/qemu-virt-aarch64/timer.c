/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time from the Arm generic timer (Arm ARM D11): the virtual counter
 * CNTVCT_EL0 at CNTFRQ_EL0 Hz for the clock, the EL1 virtual timer
 * (CNTV_*, a PPI, INTID 27 on QEMU virt) for wake-ups.
 */
#include <stdint.h>

#include "board.h"
#include "virt.h"

#define NSEC_PER_SEC 1000000000ull

#define CNTV_CTL_ENABLE (1u << 0)
#define CNTV_CTL_IMASK (1u << 1)

static uint64_t freq;

static uint64_t counter(void)
{
	uint64_t v;

	/* D11.2.2: without the isb the read may happen early, out of order. */
	isb();
	sysreg_read(cntvct_el0, v);
	return v;
}

/* The timer's interrupt woke a sleeper; silence it until the next deadline. */
static void timer_irq(void *arg)
{
	(void)arg;
	sysreg_write(cntv_ctl_el0, CNTV_CTL_IMASK);
	isb();
}

void timer_init(int intid)
{
	sysreg_read(cntfrq_el0, freq);
	if (!freq)
		freq = 62500000; /* QEMU's value, in case firmware left the register unset */
	sysreg_write(cntv_ctl_el0, CNTV_CTL_IMASK);
	isb();
	if (board_irq_attach(intid, timer_irq, NULL) != 0)
		trap_puts("qemu-virt-aarch64: cannot attach the timer interrupt\n");
}

uint64_t board_time_ns(void)
{
	uint64_t t = counter(), f = freq;

	if (!f)
		sysreg_read(cntfrq_el0, f);
	/* Split so that nothing overflows for any counter value. */
	return t / f * NSEC_PER_SEC + t % f * NSEC_PER_SEC / f;
}

void board_idle_until(uint64_t deadline_ns)
{
	uint64_t cval;

	if (board_time_ns() >= deadline_ns)
		return;
	/* Round up, so the timer never fires before the deadline; "never" saturates. */
	if (deadline_ns / NSEC_PER_SEC >= UINT64_MAX / freq)
		cval = UINT64_MAX;
	else
		cval = deadline_ns / NSEC_PER_SEC * freq +
		       (deadline_ns % NSEC_PER_SEC * freq + NSEC_PER_SEC - 1) / NSEC_PER_SEC;
	sysreg_write(cntv_cval_el0, cval);
	sysreg_write(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
	/* D1.16.2: a pending IRQ ends wfi even while PSTATE.I masks it. */
	__asm__ volatile("dsb sy\n\twfi" ::: "memory");
	/* Disarm: the caller re-arms for its next deadline; a stale timer would wake it early. */
	sysreg_write(cntv_ctl_el0, CNTV_CTL_IMASK);
	isb();
}
