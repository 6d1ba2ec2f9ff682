/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Time from the time CSR, at the device tree's timebase-frequency (10 MHz on
 * QEMU); the S-mode timer interrupt through SBI set_timer for sleeping.
 */
#include "board.h"
#include "dt_board.h"
#include "riscv.h"

#define NS_PER_S 1000000000ull

static uint64_t hz;    /* ticks per second; 0 until timer_init */
static uint64_t boot;  /* ticks at timer_init: time 0 */

static inline uint64_t rdtime(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

int timer_init(const struct fdt *fdt)
{
	uint32_t f;
	int err = dt_timebase_frequency(fdt, &f);

	if (err)
		return err;
	hz = f;
	boot = rdtime();
	/* Nothing armed until board_idle_until asks. */
	sbi_set_timer(UINT64_MAX);
	csr_clear(sie, SIE_STIE);
	return 0;
}

uint64_t board_time_ns(void)
{
	uint64_t t;

	if (!hz)
		return 0;
	t = rdtime() - boot;
	/* Split so that t * 1e9 cannot overflow. */
	return t / hz * NS_PER_S + t % hz * NS_PER_S / hz;
}

/* The time CSR value at ns after boot, rounded up; saturates. */
static uint64_t ns_to_ticks(uint64_t ns)
{
	uint64_t s = ns / NS_PER_S, rem = ns % NS_PER_S, t;

	/* s * hz plus less than hz more must fit above boot. */
	if (s >= (UINT64_MAX - boot) / hz)
		return UINT64_MAX;
	t = s * hz + (rem * hz + NS_PER_S - 1) / NS_PER_S;
	return boot + t;
}

void board_idle_until(uint64_t deadline_ns)
{
	if (!hz || board_time_ns() >= deadline_ns)
		return;
	/*
	 * Arm the timer, then wait. wfi wakes on any interrupt that is pending
	 * and enabled in sie even while sstatus.SIE masks it, so a completion
	 * that arrives after the caller's last check is not slept through.
	 */
	sbi_set_timer(ns_to_ticks(deadline_ns));
	csr_set(sie, SIE_STIE);
	__asm__ volatile("wfi" ::: "memory");
}

/* Supervisor timer interrupt: the deadline passed; disarm until asked again. */
void timer_interrupt(void)
{
	csr_clear(sie, SIE_STIE);
	sbi_set_timer(UINT64_MAX);
}
