/* SPDX-License-Identifier: Apache-2.0 */
/*
 * picolibc's stdin, stdout and stderr on the board console, or on the hooks
 * a program set (board_stdio_set). Output turns "\n" into "\r\n" for
 * terminals; input waits until a byte arrives, from the console or from a
 * second source a program added (a keyboard). Input is passed through as
 * typed (a terminal's Enter arrives as '\r').
 */
#include <stdint.h>
#include <stdio.h>

#include "board.h"

static const struct board_stdio *volatile hooks;
static void (*volatile idle_hook)(void);
static int (*volatile extra_input)(void);

void board_stdio_set(const struct board_stdio *io)
{
	hooks = io;
}

void board_stdio_idle(void (*idle)(void))
{
	idle_hook = idle;
}

void board_stdio_extra_input(int (*get_byte)(void))
{
	extra_input = get_byte;
}

static void out(const char *buf, size_t len)
{
	const struct board_stdio *io = hooks;

	if (io)
		io->write(buf, len);
	else
		board_console_write(buf, len);
}

static int console_put(char c, FILE *f)
{
	(void)f;
	if (c == '\n')
		out("\r", 1);
	out(&c, 1);
	return (unsigned char)c;
}

static int console_flush(FILE *f)
{
	const struct board_stdio *io = hooks;

	(void)f;
	if (io && io->flush)
		io->flush();
	return 0;
}

static int console_get(FILE *f)
{
	(void)f;
	console_flush(f); /* what was asked before the answer is awaited */
	for (;;) {
		const struct board_stdio *io = hooks;
		void (*idle)(void) = idle_hook;
		int (*extra)(void) = extra_input;
		int c = io ? io->get_byte() : board_console_getc();
		uintptr_t irq;

		if (c < 0 && extra)
			c = extra();
		if (c >= 0)
			return c;
		if (idle)
			idle();
		/*
		 * Nap a millisecond between polls instead of spinning: the UART
		 * does not interrupt, and a spinning guest costs the host a core.
		 */
		irq = board_irq_save();
		board_idle_until(board_time_ns() + 1000000u);
		board_irq_restore(irq);
	}
}

static FILE console = FDEV_SETUP_STREAM(console_put, console_get, console_flush, _FDEV_SETUP_RW);

FILE *const stdin = &console;
FILE *const stdout = &console;
FILE *const stderr = &console;
