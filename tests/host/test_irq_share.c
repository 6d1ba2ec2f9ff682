/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The boards' table of extra handlers on shared interrupt lines
 * (boards/common/irq_share.c): every handler of a line runs, removal goes
 * by arg, one can be taken out to become the line's first, and the table
 * says when it is full.
 */
#include <stdint.h>

#include "irq_share.h"
#include "test.h"

static unsigned hits[IRQ_SHARE_MAX + 1];

static void handler(void *arg)
{
	hits[(uintptr_t)arg]++;
}

static void clear(void)
{
	void (*h)(void *);
	void *a;

	for (int irq = 0; irq < 8; irq++)
		while (irq_share_take(irq, &h, &a))
			;
	for (unsigned i = 0; i <= IRQ_SHARE_MAX; i++)
		hits[i] = 0;
}

static void test_run_and_remove(void)
{
	void (*h)(void *);
	void *a;

	clear();
	CHECK_EQ(irq_share_add(3, handler, (void *)1), 0);
	CHECK_EQ(irq_share_add(3, handler, (void *)2), 0);
	CHECK_EQ(irq_share_add(4, handler, (void *)3), 0);
	irq_share_run(3);
	CHECK_EQ(hits[1], 1);
	CHECK_EQ(hits[2], 1);
	CHECK_EQ(hits[3], 0);
	CHECK(irq_share_remove(3, (void *)1));
	CHECK(!irq_share_remove(3, (void *)1));
	CHECK(!irq_share_remove(4, (void *)2)); /* another line's arg */
	irq_share_run(3);
	CHECK_EQ(hits[1], 1);
	CHECK_EQ(hits[2], 2);
	CHECK(irq_share_take(3, &h, &a));
	CHECK(h == handler && a == (void *)2);
	CHECK(!irq_share_take(3, &h, &a));
	irq_share_run(4);
	CHECK_EQ(hits[3], 1);
	clear();
}

static void test_full(void)
{
	clear();
	for (unsigned i = 0; i < IRQ_SHARE_MAX; i++)
		CHECK_EQ(irq_share_add(5, handler, (void *)(uintptr_t)(i % IRQ_SHARE_MAX + 1)), 0);
	CHECK_EQ(irq_share_add(6, handler, (void *)1), -22);
	CHECK(irq_share_remove(5, (void *)1));
	CHECK_EQ(irq_share_add(6, handler, (void *)1), 0);
	clear();
}

int main(void)
{
	RUN(test_run_and_remove);
	RUN(test_full);
	return test_report();
}
