/* SPDX-License-Identifier: Apache-2.0 */
/* The prompt loop and the command dispatcher; line.c edits the line. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <vio/device.h>

#include "vio_config.h"

#include "board.h"
#include "line.h"
#include "shell.h"

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

void shell_for_each(void (*fn)(const struct shell_cmd *cmd, void *ctx), void *ctx)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		for (const struct shell_cmd *c = groups[g]; c->name; c++)
			fn(c, ctx);
}

const struct shell_cmd *shell_find(const char *name)
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

int shell_usage(const char *usage)
{
	int name = (int)strcspn(usage, " ");

	printf("usage: %s ('help %.*s' says more)\n", usage, name, usage);
	return 1;
}

/* The editor's echo: stdout turns its "\n" into the terminal's CR LF. */
static void term_write(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	fwrite(buf, 1, len, stdout);
}

/*
 * Read one line into the editor's buffer. Returns its length, or -1 when
 * Ctrl-C abandoned it. stdin waits for a byte (running the idle hook, the
 * network, meanwhile) and flushes stdout first, so the echo is seen.
 */
static int read_line(struct line *ed)
{
	line_start(ed, PROMPT);
	for (;;) {
		int c = getchar();

		if (c == EOF) {
			clearerr(stdin);
			continue;
		}
		switch (line_feed(ed, (unsigned char)c)) {
		case LINE_DONE:
			return (int)ed->len;
		case LINE_CANCEL:
			return -1;
		case LINE_MORE:
			break;
		}
	}
}

/* Split line in place at blanks. Returns argc, or -1 when there are too many words. */
int shell_split(char *line, char **argv)
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
	static char line[CONFIG_VIO_SHELL_LINE_MAX];
	static char history[LINE_HISTORY_BYTES(CONFIG_VIO_SHELL_HISTORY,
					       CONFIG_VIO_SHELL_LINE_MAX)];
	static struct line ed;
	const struct line_config cfg = {
		.write = term_write,
		.complete = shell_complete,
		.buf = line,
		.size = sizeof(line),
		.history = history,
		.depth = CONFIG_VIO_SHELL_HISTORY,
	};
	char *argv[SHELL_MAX_ARGS];

	line_init(&ed, &cfg);
	for (;;) {
		const struct shell_cmd *cmd;
		int argc;

		if (read_line(&ed) <= 0)
			continue;
		argc = shell_split(line, argv);
		if (argc < 0) {
			printf("too many arguments (at most %d words)\n", SHELL_MAX_ARGS);
			continue;
		}
		if (argc == 0)
			continue;
		cmd = shell_find(argv[0]);
		if (!cmd) {
			printf("unknown command '%s'; 'help' lists the commands\n", argv[0]);
			continue;
		}
		cmd->run(argc, argv);
		fflush(stdout);
	}
}
