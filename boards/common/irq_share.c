/* SPDX-License-Identifier: Apache-2.0 */
/* Extra handlers of shared interrupt lines; see irq_share.h. */
#include "irq_share.h"

#include <stddef.h>

static struct {
	int irq; /* 0 with handler NULL: free */
	void (*handler)(void *arg);
	void *arg;
} extra[IRQ_SHARE_MAX];

int irq_share_add(int irq, void (*handler)(void *arg), void *arg)
{
	for (unsigned i = 0; i < IRQ_SHARE_MAX; i++) {
		if (extra[i].handler)
			continue;
		extra[i].irq = irq;
		extra[i].arg = arg;
		extra[i].handler = handler;
		return 0;
	}
	return -22;
}

bool irq_share_remove(int irq, void *arg)
{
	for (unsigned i = 0; i < IRQ_SHARE_MAX; i++) {
		if (extra[i].handler && extra[i].irq == irq && extra[i].arg == arg) {
			extra[i].handler = NULL;
			return true;
		}
	}
	return false;
}

bool irq_share_take(int irq, void (**handler)(void *arg), void **arg)
{
	for (unsigned i = 0; i < IRQ_SHARE_MAX; i++) {
		if (extra[i].handler && extra[i].irq == irq) {
			*handler = extra[i].handler;
			*arg = extra[i].arg;
			extra[i].handler = NULL;
			return true;
		}
	}
	return false;
}

void irq_share_run(int irq)
{
	for (unsigned i = 0; i < IRQ_SHARE_MAX; i++)
		if (extra[i].handler && extra[i].irq == irq)
			extra[i].handler(extra[i].arg);
}
