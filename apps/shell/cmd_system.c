/* SPDX-License-Identifier: Apache-2.0 */
/* System commands: help, uptime, mem, poweroff. */
#include <stdio.h>

#include "board.h"
#include "shell.h"
#include "vio_baremetal.h"

static void print_help(const struct shell_cmd *c, void *ctx)
{
	char head[40];

	(void)ctx;
	snprintf(head, sizeof(head), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
	printf("  %-22s %s\n", head, c->help);
}

static int cmd_help(int argc, char **argv)
{
	const struct shell_cmd *c;

	if (argc > 2)
		return shell_usage("help [COMMAND]");
	if (argc == 1) {
		printf("commands ('help COMMAND' for one; Tab completes, Up and Down recall):\n");
		shell_for_each(print_help, NULL);
		return 0;
	}
	c = shell_find(argv[1]);
	if (!c) {
		printf("help: no command '%s'; 'help' lists the commands\n", argv[1]);
		return 1;
	}
	printf("usage: %s%s%s\n  %s\n", c->name, c->usage[0] ? " " : "", c->usage, c->help);
	if (c->args)
		printf("  first argument: %s\n", c->args);
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
	{ "help", "[COMMAND]", "list the commands, or how to use one", cmd_help, NULL },
	{ "uptime", "", "time since boot", cmd_uptime, NULL },
	{ "mem", "", "DMA memory in use", cmd_mem, NULL },
	{ "poweroff", "", "leave QEMU (exit status 0)", cmd_poweroff, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
