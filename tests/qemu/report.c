/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>

#include "board.h"
#include "report.h"

static unsigned passed, failed;

void pass(const char *name)
{
	printf("PASS %s\n", name);
	passed++;
}

void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failed++;
}

void report_finish(void)
{
	printf("RESULT: %u passed, %u failed\n", passed, failed);
	fflush(stdout);
	board_exit(failed ? 1 : 0);
}
