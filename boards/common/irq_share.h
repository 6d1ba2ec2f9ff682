/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Handlers beyond the first on a shared level-triggered line (PCI INTx:
 * four lines for every function on a host bridge). The interrupt
 * controllers keep each line's first handler themselves and the others
 * here; on an interrupt every handler of the line runs, and each device's
 * handler finds out from its own status whether it was the one. Callers
 * mask interrupts around add, remove and take.
 */
#ifndef VIO_BOARD_IRQ_SHARE_H
#define VIO_BOARD_IRQ_SHARE_H

#include <stdbool.h>

/* Extra handlers for all lines together. */
#define IRQ_SHARE_MAX 16

/* Add handler(arg) to line irq. Returns 0, or -22 when the table is full. */
int irq_share_add(int irq, void (*handler)(void *arg), void *arg);
/* Remove the handler of line irq that was added with arg; false if there is none. */
bool irq_share_remove(int irq, void *arg);
/* Take any one extra handler of line irq out (to become its first); false if none. */
bool irq_share_take(int irq, void (**handler)(void *arg), void **arg);
/* Run every extra handler of line irq. Interrupt context. */
void irq_share_run(int irq);

#endif
