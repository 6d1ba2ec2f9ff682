/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picolibc's stdin, stdout and stderr on the board console. Output turns
 * "\n" into "\r\n" for terminals; input waits until a byte arrives. Input
 * is passed through as typed (a terminal's Enter arrives as '\r').
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"

static int console_put(char c, FILE *f)
{
	(void)f;
	if (c == '\n')
		board_console_write("\r", 1);
	board_console_write(&c, 1);
	return (unsigned char)c;
}

static int console_get(FILE *f)
{
	(void)f;
	for (;;) {
		int c = board_console_getc();
		uintptr_t irq;

		if (c >= 0)
			return c;
		/*
		 * Nap a millisecond between polls instead of spinning: the UART
		 * does not interrupt, and a spinning guest costs the host a core.
		 */
		irq = board_irq_save();
		board_idle_until(board_time_ns() + 1000000u);
		board_irq_restore(irq);
	}
}

static FILE console = FDEV_SETUP_STREAM(console_put, console_get, NULL, _FDEV_SETUP_RW);

FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;
