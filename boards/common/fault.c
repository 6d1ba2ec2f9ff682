/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the boards' fault handlers send their report: the UART, and a
 * second sink a program may set, so the report also gets out where nobody
 * watches the UART (a virtio-console's emergency write).
 */
#include <stddef.h>

#include "board.h"

static void (*volatile fault_sink)(const char *buf, size_t len);

void board_set_fault_sink(void (*sink)(const char *buf, size_t len))
{
	fault_sink = sink;
}

void board_fault_write(const char *buf, size_t len)
{
	void (*sink)(const char *, size_t) = fault_sink;

	board_console_write(buf, len);
	if (sink)
		sink(buf, len);
}
