/* SPDX-License-Identifier: Apache-2.0 */
/* System commands: help, uptime, mem, poweroff. */
#include <stdio.h>

#include "board.h"
#include "shell.h"
#include "vio_baremetal.h"

static void print_help(const struct shell_cmd *c)
{
	char head[40];

	snprintf(head, sizeof(head), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
	printf("  %-22s %s\n", head, c->help);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("commands:\n");
	shell_for_each(print_help);
	return 0;
}

static int cmd_uptime(int argc, char **argv)
{
	uint64_t ns = board_time_ns();

	(void)argc;
	(void)argv;
	printf("up %llu.%06llu s\n", (unsigned long long)(ns / 1000000000u),
	       (unsigned long long)(ns % 1000000000u / 1000u));
	return 0;
}

static int cmd_mem(int argc, char **argv)
{
	size_t used, total;

	(void)argc;
	(void)argv;
	vio_baremetal_pool_stats(&used, &total);
	printf("DMA pool: %zu of %zu KiB in use\n", (used + 1023) / 1024, total / 1024);
	return 0;
}

static int cmd_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("powering off\n");
	fflush(stdout);
	board_exit(0);
}

const struct shell_cmd shell_system_cmds[] = {
	{ "help", "", "list the commands", cmd_help },
	{ "uptime", "", "time since boot", cmd_uptime },
	{ "mem", "", "DMA memory in use", cmd_mem },
	{ "poweroff", "", "leave QEMU (exit status 0)", cmd_poweroff },
	{ NULL, NULL, NULL, NULL },
};
