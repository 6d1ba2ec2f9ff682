/* SPDX-License-Identifier: Apache-2.0 */
/* The line reader and the command dispatcher. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <vio/device.h>

#include "vio_config.h"

#include "board.h"
#include "shell.h"

#define SHELL_LINE_MAX 128
#define PROMPT "vio> "

static const struct shell_cmd *const groups[] = {
	shell_system_cmds,
	shell_dev_cmds,
#if CONFIG_VIO_DRIVER_RNG
	shell_rng_cmds,
#endif
#if CONFIG_VIO_DRIVER_BLK
	shell_blk_cmds,
#endif
#if SHELL_NET
	shell_net_cmds,
#endif
#if CONFIG_VIO_DRIVER_CONSOLE
	shell_console_cmds,
#endif
#if CONFIG_VIO_DRIVER_INPUT
	shell_input_cmds,
#endif
#if CONFIG_VIO_DRIVER_GPU && CONFIG_VIO_FB && CONFIG_VIO_FB_FONT
	shell_gpu_cmds,
#endif
};

void shell_for_each(void (*fn)(const struct shell_cmd *cmd))
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct shell_cmd *c = groups[g]; c->name; c++)
			fn(c);
}

static const struct shell_cmd *find(const char *name)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct shell_cmd *c = groups[g]; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}

void shell_hexdump(const uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len; off += 32) {
		printf("%04x: ", (unsigned)off);
		for (size_t i = off; i < len && i < off + 32; i++)
			printf("%02x", buf[i]);
		putchar('\n');
	}
}

static void echo(const char *s)
{
	fputs(s, stdout);
	fflush(stdout);
}

/*
 * Read one line with echo. Backspace/DEL erases, Ctrl-U erases the line,
 * Ctrl-C abandons it (returns -1); escape sequences (arrow keys) are
 * swallowed. CR, LF and CR LF all end a line, so both a terminal and a pipe
 * work. Returns the length.
 */
static int read_line(char *buf, size_t size)
{
	static bool after_cr;
	enum { TEXT, ESC, CSI } st = TEXT;
	size_t n = 0;

	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
			continue;
		}

		if (st == ESC) {
			st = (c == '[' || c == 'O') ? CSI : TEXT;
			continue;
		}
		if (st == CSI) {
			if (c >= 0x40 && c <= 0x7e)
				st = TEXT;
			continue;
		}
		if (c == '\n' && after_cr) {
			after_cr = false;
			continue;
		}
		after_cr = c == '\r';
		switch (c) {
		case '\r':
		case '\n':
			echo("\n");
			buf[n] = '\0';
			return (int)n;
		case '\b':
		case 0x7f:
			if (n) {
				n--;
				echo("\b \b");
			}
			break;
		case 0x15: /* Ctrl-U */
			while (n) {
				n--;
				echo("\b \b");
			}
			break;
		case 0x03: /* Ctrl-C */
			echo("^C\n");
			return -1;
		case 0x1b:
			st = ESC;
			break;
		default:
			if (c < 0x20 || c > 0x7e)
				break;
			if (n + 1 >= size) {
				echo("\a");
				break;
			}
			buf[n++] = (char)c;
			putchar(c);
			fflush(stdout);
			break;
		}
	}
}

/* Split line in place at blanks. Returns argc, or -1 when there are too many words. */
static int split(char *line, char **argv)
{
	int argc = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return argc;
		if (argc == SHELL_MAX_ARGS)
			return -1;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

void shell_print_features(const struct vio_device *dev, const char *head)
{
	const size_t width = 78, indent = strlen(head);
	size_t col = indent;

	fputs(head, stdout);
	for (unsigned bit = 0; bit < 64; bit++) {
		const char *name;
		char num[8];

		if (!vio_dev_has(dev, bit))
			continue;
		name = vio_dev_feature_name(dev, bit);
		if (!name) {
			snprintf(num, sizeof(num), "bit%u", bit);
			name = num;
		}
		if (col > indent && col + 1 + strlen(name) > width) {
			printf("\n%*s", (int)indent, "");
			col = indent;
		}
		printf(" %s", name);
		col += 1 + strlen(name);
	}
	putchar('\n');
}

void shell_run(void)
{
	static char line[SHELL_LINE_MAX];
	char *argv[SHELL_MAX_ARGS];

	for (;;) {
		const struct shell_cmd *cmd;
		int argc;

		echo(PROMPT);
		if (read_line(line, sizeof(line)) <= 0)
			continue;
		argc = split(line, argv);
		if (argc < 0) {
			printf("too many arguments (at most %d words)\n", SHELL_MAX_ARGS);
			continue;
		}
		if (argc == 0)
			continue;
		cmd = find(argv[0]);
		if (!cmd) {
			printf("unknown command '%s'; 'help' lists the commands\n", argv[0]);
			continue;
		}
		cmd->run(argc, argv);
		fflush(stdout);
	}
}
